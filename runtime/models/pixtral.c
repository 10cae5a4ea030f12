/* runtime/models/pixtral.c — the Pixtral vision encoder and Mistral 3's projector from an mmproj GGUF
 * (../shared/reference/mistral3.md §4): patch embedding at the image's own resolution, RMSNorm, 2-D RoPE over
 * patch rows and columns, bidirectional attention, SiLU-gated MLP (GELU when the file says so), then RMSNorm,
 * the 2x2 patch merger, a GELU MLP, and an [IMG_BREAK] row after every merged row but the last. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nodes.h"
#include "model.h"

typedef struct pixtral_layer {
    vkmm_range ln1, ln2;
    const vkmm_weight *wq, *wk, *wv, *wo, *gate, *up, *down;
} pixtral_layer;

typedef struct pixtral {
    vkmm_vision_model base;
    pixtral_layer *layers;
    const vkmm_weight *patch, *merger, *mm1, *mm2;
    vkmm_range pre_ln, mm_norm, mm1_b, mm2_b, img_break;
    bool gelu_mlp;
} pixtral;

static uint32_t n_rows(const vkmm_vision_model *vm, uint32_t h, uint32_t w)
{
    uint32_t s = vm->hp.merge, hr = h / vm->hp.patch / s, wc = w / vm->hp.patch / s;
    return hr * wc + (hr ? hr - 1 : 0);
}

static vkmm_tid encode(const vkmm_vision_model *vm, vkmm_graph *g, vkmm_tid image, uint32_t h, uint32_t w)
{
    const pixtral *m = (const pixtral *)vm;
    const vkmm_vision_hparams *hp = &vm->hp;
    uint32_t P = hp->patch, E = hp->n_embd, hp_ = h / P, wp = w / P, T = hp_ * wp, hd = E / hp->n_head, s = hp->merge;
    uint32_t HR = hp_ / s, WC = wp / s, HT = hp->n_text_embd;
    if (!HR || !WC) {
        vkmm_graph_fail(g, VKMM_ERR_INVALID_ARG, "Pixtral: a %ux%u image is smaller than one merged patch", w, h);
        return 0;
    }
    vkmm_graph_set_prefix(g, "v");
    vkmm_tid x0 = vkmm_g_patch_embed(g, m->patch, 0, image, 3, h, w, P, "patch_embd");
    vkmm_tid x = vkmm_g_rms_norm(g, x0, m->pre_ln, hp->eps, 0, "pre_ln");
    vkmm_tid hn = vkmm_g_rms_norm(g, x, m->layers[0].ln1, hp->eps, 0, "ln1");
    for (uint32_t il = 0; il < hp->n_layer; il++) {
        const pixtral_layer *L = &m->layers[il];
        vkmm_graph_set_prefix(g, "v.blk.%u", il);
        vkmm_tid q = vkmm_g_matmul(g, L->wq, hn, 0, "attn_q");
        vkmm_tid k = vkmm_g_matmul(g, L->wk, hn, 0, "attn_k");
        vkmm_tid v = vkmm_g_matmul(g, L->wv, hn, 0, "attn_v");
        vkmm_g_rope_params rp = {.neox = false, .head_dim = hd, .n_heads = hp->n_head, .base = 10000.0,
                                 .freq_scale = 1.0, .grid_w = wp};
        vkmm_g_rope(g, q, &rp, "rope_2d_q");
        vkmm_g_rope(g, k, &rp, "rope_2d_k");
        vkmm_tid kc = vkmm_graph_tensor(g, VKMM_F16, hd, T, hp->n_head, "k_cache");
        vkmm_tid vc = vkmm_graph_tensor(g, VKMM_F16, hd, T, hp->n_head, "v_cache");
        vkmm_g_attn_params ap = {.capacity = T, .kv_type = VKMM_F16, .n_head = hp->n_head, .n_kv_head = hp->n_head,
                                 .head_dim = hd, .causal = false, .scale = 1.0f / sqrtf((float)hd)};
        vkmm_tid a = vkmm_g_attention(g, q, k, v, kc, vc, &ap, "attn");
        vkmm_tid o = vkmm_g_matmul(g, L->wo, a, 0, "attn_out");
        hn = vkmm_g_add_rms_norm(g, x, o, (vkmm_range){0}, L->ln2, hp->eps, "ln2");
        vkmm_tid gt = vkmm_g_matmul(g, L->gate, hn, 0, "ffn_gate");
        vkmm_tid up = vkmm_g_matmul(g, L->up, hn, 0, "ffn_up");
        vkmm_g_glu(g, m->gelu_mlp ? VKMM_ACT_GELU_ERF : VKMM_ACT_SILU, gt, up, gt, "glu");
        vkmm_tid d = vkmm_g_matmul(g, L->down, gt, 0, "ffn_down");
        bool last = il + 1 == hp->n_layer;
        hn = vkmm_g_add_rms_norm(g, x, d, (vkmm_range){0}, last ? m->mm_norm : m->layers[il + 1].ln1, hp->eps,
                                 last ? "mm_input_norm" : "ln1");
    }
    vkmm_graph_set_prefix(g, "mm");
    vkmm_tid merged = vkmm_g_patch_merge(g, hn, hp_, wp, s, "patch_merge");
    vkmm_tid m2 = vkmm_g_matmul(g, m->merger, merged, 0, "patch_merger");
    vkmm_tid z1 = vkmm_g_linear(g, m->mm1, m->mm1_b, m2, "mm1");
    vkmm_g_act(g, VKMM_ACT_GELU_ERF, z1, z1, "gelu");
    vkmm_tid z2 = vkmm_g_linear(g, m->mm2, m->mm2_b, z1, "mm2");
    /* rows of merged tokens with an [IMG_BREAK] row between merged rows */
    uint32_t rows = HR * WC + HR - 1;
    vkmm_tid out = vkmm_graph_tensor(g, VKMM_F32, HT, rows, 1, "image_rows");
    uint32_t ne[3] = {HT, WC, HR}, in_st[3] = {1, HT, WC * HT}, out_st[3] = {1, HT, (WC + 1) * HT};
    vkmm_g_copy_strided(g, z2, out, 0, ne, in_st, out_st, "rows");
    if (HR > 1) {
        vkmm_tid brk = vkmm_graph_external(g, m->img_break, VKMM_F32, HT, 1, 1, "img_break");
        vkmm_g_copy_rows(g, brk, 0, out, WC, (WC + 1) * HT, HR - 1, HT, "img_break_rows");
    }
    vkmm_graph_set_prefix(g, "%s", "");
    return out;
}

static void pixtral_free(vkmm_vision_model *vm)
{
    pixtral *m = (pixtral *)vm;
    free(m->layers);
    free(m);
}

vkmm_status vkmm_pixtral_load(vkmm_weight_source *src, vkmm_vision_model **out, vkmm_error *err)
{
    const vkmm_gguf *g = src->gguf;
    *out = NULL;
    vkmm_vision_hparams hp = {.eps = 1e-5f,
                              .mean = {0.48145466f, 0.4578275f, 0.40821073f},
                              .std = {0.26862954f, 0.26130258f, 0.27577711f}};
    vkmm_status s = vkmm_vision_read_common(g, &hp, err);
    if (s)
        return s;
    hp.merge = 1;
    vkmm_gguf_get_u32(g, "clip.vision.spatial_merge_size", &hp.merge);
    uint32_t hd = hp.n_embd / hp.n_head;
    if (!hp.merge || hd % 4)
        return vkmm_fail(err, VKMM_ERR_FORMAT, "%s: unusable Pixtral shape (merge %u, head dim %u)", vkmm_gguf_path(g),
                         hp.merge, hd);
    pixtral *m = calloc(1, sizeof *m);
    if (!m || !(m->layers = calloc(hp.n_layer, sizeof *m->layers))) {
        free(m);
        return vkmm_fail(err, VKMM_ERR_HOST_MEMORY, "out of host memory");
    }
    bool use_gelu = false;
    vkmm_gguf_get_bool(g, "clip.use_gelu", &use_gelu);
    m->gelu_mlp = use_gelu; /* clip.use_silu (the default for Pixtral) otherwise */
    m->base = (vkmm_vision_model){.projector = "pixtral", .hp = hp, .n_rows = n_rows, .encode = encode,
                                  .free = pixtral_free, .impl = m};
    uint32_t E = hp.n_embd, P = hp.patch, HT = hp.n_text_embd, s2 = hp.merge * hp.merge;
    s = src->matrix(src, "v.patch_embd.weight", 3 * P * P, E, false, true, &m->patch, err);
    if (!s) s = src->vector(src, "v.pre_ln.weight", E, true, &m->pre_ln, err);
    if (!s) s = src->vector(src, "mm.input_norm.weight", E, true, &m->mm_norm, err);
    if (!s) s = src->matrix(src, "mm.patch_merger.weight", E * s2, E, false, true, &m->merger, err);
    if (!s) s = src->matrix(src, "mm.1.weight", E, HT, false, true, &m->mm1, err);
    if (!s) s = src->vector(src, "mm.1.bias", HT, false, &m->mm1_b, err);
    if (!s) s = src->matrix(src, "mm.2.weight", HT, HT, false, true, &m->mm2, err);
    if (!s) s = src->vector(src, "mm.2.bias", HT, false, &m->mm2_b, err);
    if (!s) s = src->vector(src, "v.token_embd.img_break", HT, true, &m->img_break, err);
    char name[80];
    for (uint32_t il = 0; il < hp.n_layer && !s; il++) {
        pixtral_layer *L = &m->layers[il];
#define N(x) vkmm_model_tensor_name(name, sizeof name, "v.blk.%u." x, il)
        if (!s) s = src->vector(src, N("ln1.weight"), E, true, &L->ln1, err);
        if (!s) s = src->vector(src, N("ln2.weight"), E, true, &L->ln2, err);
        if (!s) s = src->matrix(src, N("attn_q.weight"), E, E, false, true, &L->wq, err);
        if (!s) s = src->matrix(src, N("attn_k.weight"), E, E, false, true, &L->wk, err);
        if (!s) s = src->matrix(src, N("attn_v.weight"), E, E, false, true, &L->wv, err);
        if (!s) s = src->matrix(src, N("attn_out.weight"), E, E, false, true, &L->wo, err);
        if (!s) s = src->matrix(src, N("ffn_gate.weight"), E, hp.n_ff, false, true, &L->gate, err);
        if (!s) s = src->matrix(src, N("ffn_up.weight"), E, hp.n_ff, false, true, &L->up, err);
        if (!s) s = src->matrix(src, N("ffn_down.weight"), hp.n_ff, E, false, true, &L->down, err);
#undef N
    }
    if (s) {
        pixtral_free(&m->base);
        return s;
    }
    *out = &m->base;
    return VKMM_OK;
}
