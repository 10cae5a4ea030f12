/* runtime/models/mistral3.c — Mistral 3's text decoder (architecture "mistral3" or the older "llama") as its GGUF
 * states it (../shared/reference/mistral3.md §2): RMSNorm, NORM (adjacent-pair) RoPE with a large base,
 * grouped-query attention, SwiGLU, a separate output head (tied if absent). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/graph/nodes.h"
#include "runtime/models/model.h"

typedef struct mistral3_layer {
    vkmm_range attn_norm, ffn_norm;
    const vkmm_weight *wq, *wk, *wv, *wo, *gate, *up, *down;
} mistral3_layer;

typedef struct mistral3 {
    vkmm_text_model base;
    mistral3_layer *layers;
    vkmm_range output_norm;
    const vkmm_weight *output;
} mistral3;

static vkmm_tid forward(const vkmm_text_model *mm, vkmm_graph *g, const vkmm_forward *fw)
{
    const mistral3 *m = (const mistral3 *)mm;
    const vkmm_text_hparams *hp = &mm->hp;
    uint32_t n = fw->n_tokens, H = hp->n_embd, hd = hp->head_dim;
    vkmm_tid x = fw->x;
    vkmm_graph_set_prefix(g, "blk.0");
    vkmm_tid h = vkmm_g_rms_norm(g, x, m->layers[0].attn_norm, hp->eps, 0, "attn_norm");
    for (uint32_t il = 0; il < hp->n_layer; il++) {
        const mistral3_layer *L = &m->layers[il];
        vkmm_graph_set_prefix(g, "blk.%u", il);
        vkmm_tid q = vkmm_g_matmul(g, L->wq, h, 0, "attn_q");
        vkmm_tid k = vkmm_g_matmul(g, L->wk, h, 0, "attn_k");
        vkmm_tid v = vkmm_g_matmul(g, L->wv, h, 0, "attn_v");
        vkmm_g_rope_params rp = {.neox = false, .head_dim = hd, .base = hp->rope_base[il], .freq_scale = 1.0,
                                 .positions = fw->positions, .pos0 = fw->pos0};
        rp.n_heads = hp->n_head;
        vkmm_g_rope(g, q, &rp, "rope_q");
        rp.n_heads = hp->n_kv;
        vkmm_g_rope(g, k, &rp, "rope_k");
        vkmm_g_attn_params ap = {
            .capacity = fw->kv[il].capacity, .ring = fw->kv[il].ring, .kv_type = fw->kv_type, .n_head = hp->n_head,
            .n_kv_head = hp->n_kv, .head_dim = hd, .pos0 = fw->pos0, .causal = true, .window = hp->window[il],
            .max_kv_len = fw->max_kv_len, .scale = hp->attn_scale, .step = fw->step,
        };
        vkmm_tid kc = vkmm_g_kv_cache(g, fw->kv[il].k, fw->kv_type, hd, hp->n_kv, fw->kv[il].capacity, "k_cache");
        vkmm_tid vc = vkmm_g_kv_cache(g, fw->kv[il].v, fw->kv_type, hd, hp->n_kv, fw->kv[il].capacity, "v_cache");
        vkmm_tid a = vkmm_g_attention(g, q, k, v, kc, vc, &ap, "attn");
        vkmm_tid o = vkmm_g_matmul(g, L->wo, a, 0, "attn_output");
        h = vkmm_g_add_rms_norm(g, x, o, (vkmm_range){0}, L->ffn_norm, hp->eps, "residual_ffn_norm");
        vkmm_tid gt = vkmm_g_matmul(g, L->gate, h, 0, "ffn_gate");
        vkmm_tid up = vkmm_g_matmul(g, L->up, h, 0, "ffn_up");
        vkmm_g_glu(g, VKMM_ACT_SILU, gt, up, gt, "swiglu");
        vkmm_tid f = vkmm_g_matmul(g, L->down, gt, 0, "ffn_down");
        vkmm_range next = il + 1 < hp->n_layer ? m->layers[il + 1].attn_norm : m->output_norm;
        h = vkmm_g_add_rms_norm(g, x, f, (vkmm_range){0}, next, hp->eps, "residual_next_norm");
    }
    vkmm_graph_set_prefix(g, "%s", "");
    vkmm_tid last = h;
    if (fw->logits_from)
        last = vkmm_graph_view(g, h, (uint64_t)fw->logits_from * H * 4, VKMM_F32, H, n - fw->logits_from, 1,
                               "head_rows");
    return vkmm_g_matmul(g, m->output ? m->output : mm->tok_embd, last, fw->logits, "output");
}

static void mistral3_free(vkmm_text_model *mm)
{
    mistral3 *m = (mistral3 *)mm;
    free(m->layers);
    free(m);
}

vkmm_status vkmm_mistral3_load(vkmm_weight_source *src, vkmm_text_model **out, vkmm_error *err)
{
    const vkmm_gguf *g = src->gguf;
    const char *path = vkmm_gguf_path(g);
    *out = NULL;
    char *arch = vkmm_gguf_get_strdup(g, "general.architecture");
    if (!arch || (strcmp(arch, "mistral3") && strcmp(arch, "llama"))) {
        free(arch);
        return vkmm_fail(err, VKMM_ERR_FORMAT, "%s: not a mistral3/llama file", path);
    }
    char key[96];
#define K(x) (snprintf(key, sizeof key, "%s." x, arch), key)
    vkmm_text_hparams hp = {0};
    vkmm_status s = VKMM_OK;
    if (!s) s = vkmm_gguf_need_u32(g, K("block_count"), &hp.n_layer, err);
    if (!s) s = vkmm_gguf_need_u32(g, K("embedding_length"), &hp.n_embd, err);
    if (!s) s = vkmm_gguf_need_u32(g, K("feed_forward_length"), &hp.n_ff, err);
    if (!s) s = vkmm_gguf_need_u32(g, K("attention.head_count"), &hp.n_head, err);
    if (s) {
        free(arch);
        return s;
    }
    hp.n_kv = hp.n_head;
    vkmm_gguf_get_u32(g, K("attention.head_count_kv"), &hp.n_kv);
    hp.head_dim = hp.n_head ? hp.n_embd / hp.n_head : 0;
    vkmm_gguf_get_u32(g, K("attention.key_length"), &hp.head_dim);
    uint32_t vlen = hp.head_dim, rot = hp.head_dim;
    vkmm_gguf_get_u32(g, K("attention.value_length"), &vlen);
    vkmm_gguf_get_u32(g, K("rope.dimension_count"), &rot);
    hp.n_ctx_train = 131072;
    vkmm_gguf_get_u32(g, K("context_length"), &hp.n_ctx_train);
    hp.eps = 1e-5f;
    vkmm_gguf_get_f32(g, K("attention.layer_norm_rms_epsilon"), &hp.eps);
    float base = 10000.0f;
    vkmm_gguf_get_f32(g, K("rope.freq_base"), &base);
    /* Llama-4 style attention temperature and YaRN (Ministral 3) are refused until implemented */
    bool unsupported = vkmm_gguf_find(g, K("attention.temperature_scale")) || vkmm_gguf_find(g, K("rope.scaling.type"));
    uint32_t window = 0;
    vkmm_gguf_get_u32(g, K("attention.sliding_window"), &window);
#undef K
    free(arch);
    if (unsupported)
        return vkmm_fail(err, VKMM_ERR_UNSUPPORTED,
                         "%s: attention temperature / RoPE scaling keys are present; vkmm supports Mistral Small 3.1 "
                         "style files only", path);
    if (!hp.n_layer || hp.n_layer > VKMM_MAX_LAYERS || !hp.n_embd || !hp.n_head || !hp.n_kv || hp.n_head % hp.n_kv ||
        !hp.head_dim || hp.head_dim % 2 || vlen != hp.head_dim || rot != hp.head_dim || !hp.n_ff)
        return vkmm_fail(err, VKMM_ERR_FORMAT,
                         "%s: unusable mistral3 shape: %u layers, embedding %u, %u heads, %u KV heads, head dim %u "
                         "(value %u, rotary %u), FFN %u", path, hp.n_layer, hp.n_embd, hp.n_head, hp.n_kv, hp.head_dim,
                         vlen, rot, hp.n_ff);
    for (uint32_t il = 0; il < hp.n_layer; il++) {
        hp.window[il] = window;
        hp.rope_base[il] = base;
        hp.rope_scale[il] = 1.0f;
    }
    hp.attn_scale = 1.0f / sqrtf((float)hp.head_dim);
    hp.embed_scale = 1.0f;
    hp.rope = VKMM_MODEL_ROPE_NORM;
    const vkmm_gguf_tensor *te = vkmm_gguf_tensor_by_name(g, "token_embd.weight");
    if (!te || te->ne[0] != hp.n_embd)
        return vkmm_fail(err, VKMM_ERR_FORMAT, "%s: token_embd.weight missing or not %u wide", path, hp.n_embd);
    hp.n_vocab = (uint32_t)te->ne[1];

    mistral3 *m = calloc(1, sizeof *m);
    if (!m || !(m->layers = calloc(hp.n_layer, sizeof *m->layers))) {
        free(m);
        return vkmm_fail(err, VKMM_ERR_HOST_MEMORY, "out of host memory");
    }
    m->base = (vkmm_text_model){.arch = "mistral3", .hp = hp, .embed = vkmm_model_embed, .forward = forward,
                                .free = mistral3_free, .impl = m};
    uint32_t H = hp.n_embd, qw = hp.n_head * hp.head_dim, kw = hp.n_kv * hp.head_dim;
    s = src->matrix(src, "token_embd.weight", H, hp.n_vocab, false, true, &m->base.tok_embd, err);
    if (!s) s = src->matrix(src, "output.weight", H, hp.n_vocab, false, false, &m->output, err);
    if (!s) s = src->vector(src, "output_norm.weight", H, true, &m->output_norm, err);
    char name[80];
    for (uint32_t il = 0; il < hp.n_layer && !s; il++) {
        mistral3_layer *L = &m->layers[il];
#define N(x) vkmm_model_tensor_name(name, sizeof name, "blk.%u." x, il)
        if (!s) s = src->vector(src, N("attn_norm.weight"), H, true, &L->attn_norm, err);
        if (!s) s = src->matrix(src, N("attn_q.weight"), H, qw, false, true, &L->wq, err);
        if (!s) s = src->matrix(src, N("attn_k.weight"), H, kw, false, true, &L->wk, err);
        if (!s) s = src->matrix(src, N("attn_v.weight"), H, kw, false, true, &L->wv, err);
        if (!s) s = src->matrix(src, N("attn_output.weight"), qw, H, false, true, &L->wo, err);
        if (!s) s = src->vector(src, N("ffn_norm.weight"), H, true, &L->ffn_norm, err);
        if (!s) s = src->matrix(src, N("ffn_gate.weight"), H, hp.n_ff, false, true, &L->gate, err);
        if (!s) s = src->matrix(src, N("ffn_up.weight"), H, hp.n_ff, false, true, &L->up, err);
        if (!s) s = src->matrix(src, N("ffn_down.weight"), hp.n_ff, H, false, true, &L->down, err);
#undef N
    }
    if (s) {
        mistral3_free(&m->base);
        return s;
    }
    *out = &m->base;
    return VKMM_OK;
}
