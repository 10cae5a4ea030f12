/* runtime/models/mistral3.c — Mistral 3's text decoder (architecture "mistral3" or the older "llama") as its GGUF
 * states it (../shared/reference/mistral3.md §2): RMSNorm, NORM (adjacent-pair) RoPE with a large base,
 * grouped-query attention, SwiGLU, a separate output head (tied if absent). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "nodes.h"
#include "model.h"

typedef struct mistral3 {
    vkmm_text_model base;
    vkmm_decoder_layer *layers;
    vkmm_text_head head;
} mistral3;

static vkmm_tid forward(const vkmm_text_model *mm, vkmm_graph *g, const vkmm_forward *fw)
{
    const mistral3 *m = (const mistral3 *)mm;
    const vkmm_text_hparams *hp = &mm->hp;
    vkmm_tid x = fw->x;
    vkmm_graph_set_prefix(g, "blk.0");
    vkmm_tid h = vkmm_g_rms_norm(g, x, m->layers[0].attn_norm, hp->eps, 0, "attn_norm");
    for (uint32_t il = 0; il < hp->n_layer; il++) {
        const vkmm_decoder_layer *L = &m->layers[il];
        vkmm_graph_set_prefix(g, "blk.%u", il);
        vkmm_tid q = vkmm_g_matmul(g, L->attn.wq, h, 0, "attn_q");
        vkmm_tid k = vkmm_g_matmul(g, L->attn.wk, h, 0, "attn_k");
        vkmm_tid v = vkmm_g_matmul(g, L->attn.wv, h, 0, "attn_v");
        vkmm_g_rope_params rp = {.neox = false, .head_dim = hp->head_dim, .base = hp->rope_base[il],
                                 .freq_scale = 1.0, .positions = fw->positions, .pos0 = fw->pos0};
        rp.n_heads = hp->n_head;
        vkmm_g_rope(g, q, &rp, "rope_q");
        rp.n_heads = hp->n_kv;
        vkmm_g_rope(g, k, &rp, "rope_k");
        vkmm_tid a = vkmm_text_attention(g, hp, fw, il, q, k, v);
        vkmm_tid o = vkmm_g_matmul(g, L->attn.wo, a, 0, "attn_output");
        h = vkmm_g_add_rms_norm(g, x, o, (vkmm_range){0}, L->ffn_norm, hp->eps, "residual_ffn_norm");
        vkmm_tid f = vkmm_text_ffn(g, &L->ffn, VKMM_ACT_SILU, h, "swiglu");
        vkmm_range next = il + 1 < hp->n_layer ? m->layers[il + 1].attn_norm : m->head.output_norm;
        h = vkmm_g_add_rms_norm(g, x, f, (vkmm_range){0}, next, hp->eps, "residual_next_norm");
    }
    return vkmm_text_logits(g, mm, &m->head, fw, h);
}

static void mistral3_free(vkmm_text_model *mm)
{
    mistral3 *m = (mistral3 *)mm;
    free(m->layers);
    free(m);
}

vkmm_status vkmm_mistral3_load(vkmm_weight_source *src, const char *arch, vkmm_text_model **out, vkmm_error *err)
{
    const vkmm_gguf *g = src->gguf;
    const char *path = vkmm_gguf_path(g);
    *out = NULL;
    vkmm_text_hparams hp = {.eps = 1e-5f, .n_ctx_train = 131072};
    vkmm_status s = vkmm_text_read_common(g, arch, &hp, err);
    if (s)
        return s;
    char key[96];
#define K(x) vkmm_text_key(key, sizeof key, arch, x)
    uint32_t rot = hp.head_dim;
    vkmm_gguf_get_u32(g, K("rope.dimension_count"), &rot);
    float base = 10000.0f;
    vkmm_gguf_get_f32(g, K("rope.freq_base"), &base);
    /* Llama-4 style attention temperature and YaRN (Ministral 3) are refused until implemented */
    bool unsupported = vkmm_gguf_find(g, K("attention.temperature_scale")) || vkmm_gguf_find(g, K("rope.scaling.type"));
    uint32_t window = 0;
    vkmm_gguf_get_u32(g, K("attention.sliding_window"), &window);
#undef K
    if (unsupported)
        return vkmm_fail(err, VKMM_ERR_UNSUPPORTED,
                         "%s: attention temperature / RoPE scaling keys are present; vkmm supports Mistral Small 3.1 "
                         "style files only", path);
    if (rot != hp.head_dim)
        return vkmm_fail(err, VKMM_ERR_FORMAT, "%s: unusable %s shape: RoPE over %u of a head's %u dimensions", path,
                         arch, rot, hp.head_dim);
    for (uint32_t il = 0; il < hp.n_layer; il++) {
        hp.window[il] = window;
        hp.rope_base[il] = base;
        hp.rope_scale[il] = 1.0f;
    }
    hp.attn_scale = 1.0f / sqrtf((float)hp.head_dim);
    hp.embed_scale = 1.0f;
    hp.rope = VKMM_MODEL_ROPE_NORM;

    mistral3 *m = calloc(1, sizeof *m);
    if (!m || !(m->layers = calloc(hp.n_layer, sizeof *m->layers))) {
        free(m);
        return vkmm_fail(err, VKMM_ERR_HOST_MEMORY, "out of host memory");
    }
    m->base = (vkmm_text_model){.arch = "mistral3", .hp = hp, .embed = vkmm_model_embed, .forward = forward,
                                .positions = vkmm_positions_by_slot, .free = mistral3_free, .impl = m};
    s = vkmm_bind_head(src, &m->base, &m->head, err);
    for (uint32_t il = 0; il < hp.n_layer && !s; il++)
        s = vkmm_bind_decoder_layer(src, &hp, il, &m->layers[il], err);
    if (s) {
        mistral3_free(&m->base);
        return s;
    }
    *out = &m->base;
    return VKMM_OK;
}
