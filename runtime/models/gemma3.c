/* runtime/models/gemma3.c — Gemma 3's text decoder as its GGUF states it (../shared/reference/gemma3.md §1-3):
 * scaled embeddings, pre- and post-norms (weights already hold the +1), QK-norm, NEOX RoPE with a local and a
 * global base, 5 local : 1 global layers with a sliding window, GeGLU, tied output head. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nodes.h"
#include "model.h"

typedef struct gemma3_layer {
    vkmm_decoder_layer d;
    vkmm_range q_norm, k_norm, post_attn_norm, post_ffw_norm;
} gemma3_layer;

typedef struct gemma3 {
    vkmm_text_model base;
    gemma3_layer *layers;
    vkmm_text_head head;
} gemma3;

static vkmm_tid forward(const vkmm_text_model *mm, vkmm_graph *g, const vkmm_forward *fw)
{
    const gemma3 *m = (const gemma3 *)mm;
    const vkmm_text_hparams *hp = &mm->hp;
    vkmm_tid x = fw->x;
    vkmm_graph_set_prefix(g, "blk.0");
    vkmm_tid h = vkmm_g_rms_norm(g, x, m->layers[0].d.attn_norm, hp->eps, 0, "attn_norm");
    for (uint32_t il = 0; il < hp->n_layer; il++) {
        const gemma3_layer *L = &m->layers[il];
        vkmm_graph_set_prefix(g, "blk.%u", il);
        vkmm_tid q = vkmm_g_matmul(g, L->d.attn.wq, h, 0, "attn_q");
        vkmm_tid k = vkmm_g_matmul(g, L->d.attn.wk, h, 0, "attn_k");
        vkmm_tid v = vkmm_g_matmul(g, L->d.attn.wv, h, 0, "attn_v");
        vkmm_g_rope_params rp = {
            .neox = true, .head_dim = hp->head_dim, .base = hp->rope_base[il], .freq_scale = hp->rope_scale[il],
            .positions = fw->positions, .pos0 = fw->pos0,
        };
        rp.n_heads = hp->n_head;
        vkmm_g_qk_norm_rope(g, q, k, &rp, hp->n_kv, L->q_norm, L->k_norm, hp->eps, "qk_norm_rope");
        vkmm_tid a = vkmm_text_attention(g, hp, fw, il, q, k, v);
        vkmm_tid o = vkmm_g_matmul(g, L->d.attn.wo, a, 0, "attn_output");
        /* x += RMSNorm(o)·post_attention_norm; h = RMSNorm(x)·ffn_norm */
        h = vkmm_g_add_rms_norm(g, x, o, L->post_attn_norm, L->d.ffn_norm, hp->eps, "post_attn_ffn_norm");
        vkmm_tid f = vkmm_text_ffn(g, &L->d.ffn, VKMM_ACT_GELU_TANH, h, "geglu");
        vkmm_range next = il + 1 < hp->n_layer ? m->layers[il + 1].d.attn_norm : m->head.output_norm;
        h = vkmm_g_add_rms_norm(g, x, f, L->post_ffw_norm, next, hp->eps, "post_ffw_next_norm");
    }
    return vkmm_text_logits(g, mm, &m->head, fw, h);
}

static void gemma3_free(vkmm_text_model *mm)
{
    gemma3 *m = (gemma3 *)mm;
    free(m->layers);
    free(m);
}

vkmm_status vkmm_gemma3_load(vkmm_weight_source *src, const char *arch, vkmm_text_model **out, vkmm_error *err)
{
    const vkmm_gguf *g = src->gguf;
    const char *path = vkmm_gguf_path(g);
    *out = NULL;
    vkmm_text_hparams hp = {.eps = 1e-6f, .n_ctx_train = 131072};
    vkmm_status s = vkmm_text_read_common(g, arch, &hp, err);
    if (s)
        return s;
    char key[96];
#define K(x) vkmm_text_key(key, sizeof key, arch, x)
    float softcap = 0;
    vkmm_gguf_get_f32(g, K("final_logit_softcapping"), &softcap);
    if (softcap > 0)
        return vkmm_fail(err, VKMM_ERR_UNSUPPORTED, "%s: final logit soft-capping is not supported (Gemma 3 has none)",
                         path);
    uint32_t window = 0;
    vkmm_gguf_get_u32(g, K("attention.sliding_window"), &window);
    if ((s = vkmm_text_read_swa_pattern(g, arch, window, 6, &hp, err))) /* period 6 (gemma3.md §3) when absent */
        return s;
    float base = 10000.0f, base_swa = 10000.0f, factor = 1.0f;
    vkmm_gguf_get_f32(g, K("rope.freq_base"), &base);
    vkmm_gguf_get_f32(g, K("rope.freq_base_swa"), &base_swa);
    const char *stype;
    uint64_t slen;
    if (vkmm_gguf_get_str(g, K("rope.scaling.type"), &stype, &slen) && !(slen == 4 && !memcmp(stype, "none", 4))) {
        if (!(slen == 6 && !memcmp(stype, "linear", 6)))
            return vkmm_fail(err, VKMM_ERR_UNSUPPORTED, "%s: RoPE scaling '%.*s' is not supported (linear only)", path,
                             (int)slen, stype);
        vkmm_gguf_get_f32(g, K("rope.scaling.factor"), &factor);
        if (!(factor > 0))
            factor = 1.0f;
    }
    for (uint32_t il = 0; il < hp.n_layer; il++) {
        bool local = hp.window[il] > 0;
        hp.rope_base[il] = local ? base_swa : base;
        hp.rope_scale[il] = local ? 1.0f : 1.0f / factor; /* linear scaling applies to global layers only */
    }
    /* the GGUF carries no query_pre_attn_scalar; llama.cpp's rule (gemma3.md §3 step 5), unless a file has one */
    float qpas = 0;
    if (vkmm_gguf_get_f32(g, K("attention.query_pre_attn_scalar"), &qpas) && qpas > 0)
        hp.attn_scale = 1.0f / sqrtf(qpas);
    else if (hp.n_layer == 62)
        hp.attn_scale = 1.0f / sqrtf((float)hp.n_embd / hp.n_head);
    else
        hp.attn_scale = 1.0f / sqrtf((float)hp.head_dim);
#undef K
    hp.embed_scale = sqrtf((float)hp.n_embd);
    hp.rope = VKMM_MODEL_ROPE_NEOX;

    gemma3 *m = calloc(1, sizeof *m);
    if (!m || !(m->layers = calloc(hp.n_layer, sizeof *m->layers))) {
        free(m);
        return vkmm_fail(err, VKMM_ERR_HOST_MEMORY, "out of host memory");
    }
    m->base = (vkmm_text_model){.arch = "gemma3", .hp = hp, .embed = vkmm_model_embed, .forward = forward,
                                .positions = vkmm_positions_by_slot, .free = gemma3_free, .impl = m};
    uint32_t H = hp.n_embd;
    s = vkmm_bind_head(src, &m->base, &m->head, err);
    char name[80];
    for (uint32_t il = 0; il < hp.n_layer && !s; il++) {
        gemma3_layer *L = &m->layers[il];
#define N(x) vkmm_model_tensor_name(name, sizeof name, "blk.%u." x, il)
        if (!s) s = vkmm_bind_decoder_layer(src, &hp, il, &L->d, err);
        if (!s) s = src->vector(src, N("attn_q_norm.weight"), hp.head_dim, true, &L->q_norm, err);
        if (!s) s = src->vector(src, N("attn_k_norm.weight"), hp.head_dim, true, &L->k_norm, err);
        if (!s) s = src->vector(src, N("post_attention_norm.weight"), H, true, &L->post_attn_norm, err);
        if (!s) s = src->vector(src, N("post_ffw_norm.weight"), H, true, &L->post_ffw_norm, err);
#undef N
    }
    if (s) {
        gemma3_free(&m->base);
        return s;
    }
    *out = &m->base;
    return VKMM_OK;
}
