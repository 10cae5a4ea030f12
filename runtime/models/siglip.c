/* runtime/models/siglip.c — the SigLIP vision tower and Gemma 3's projector from an mmproj GGUF
 * (../shared/reference/gemma3.md §5): patch embedding + learned positions, pre-norm encoder layers with
 * bidirectional attention and a tanh-GELU MLP, post LayerNorm, average pooling, soft-embedding RMSNorm, and the
 * input projection (stored as x·P, used transposed). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nodes.h"
#include "model.h"

typedef struct siglip_layer {
    vkmm_range ln1_w, ln1_b, ln2_w, ln2_b, bq, bk, bv, bo, b_up, b_down;
    const vkmm_weight *wq, *wk, *wv, *wo, *up, *down;
} siglip_layer;

typedef struct siglip {
    vkmm_vision_model base;
    siglip_layer *layers;
    const vkmm_weight *patch;
    vkmm_range patch_b, pos, post_w, post_b, soft_norm;
    const vkmm_weight *proj;
    uint32_t pool;
} siglip;

static uint32_t n_rows(const vkmm_vision_model *vm, uint32_t h, uint32_t w)
{
    const siglip *m = (const siglip *)vm;
    uint32_t gh = h / vm->hp.patch, gw = w / vm->hp.patch;
    return (gh / m->pool) * (gw / m->pool);
}

static vkmm_tid encode(const vkmm_vision_model *vm, vkmm_graph *g, vkmm_tid image, uint32_t h, uint32_t w)
{
    const siglip *m = (const siglip *)vm;
    const vkmm_vision_hparams *hp = &vm->hp;
    uint32_t P = hp->patch, E = hp->n_embd, gh = h / P, gw = w / P, T = gh * gw, hd = E / hp->n_head;
    if (T * (uint64_t)E * 4 != m->pos.size) {
        vkmm_graph_fail(g, VKMM_ERR_INVALID_ARG, "SigLIP: a %ux%u image gives %u patches, the position table has %llu",
                        w, h, T, (unsigned long long)(m->pos.size / 4 / E));
        return 0;
    }
    vkmm_graph_set_prefix(g, "v");
    vkmm_tid pb = m->patch_b.size ? vkmm_graph_external(g, m->patch_b, VKMM_F32, E, 1, 1, "patch_bias") : 0;
    vkmm_tid x = vkmm_g_patch_embed(g, m->patch, pb, image, 3, h, w, P, "patch_embd");
    vkmm_tid pos = vkmm_graph_external(g, m->pos, VKMM_F32, E, T, 1, "position_embd");
    vkmm_g_add(g, x, pos, x, "add_position");
    vkmm_tid hn = vkmm_g_layer_norm(g, x, m->layers[0].ln1_w, m->layers[0].ln1_b, hp->eps, 0, "ln1");
    for (uint32_t il = 0; il < hp->n_layer; il++) {
        const siglip_layer *L = &m->layers[il];
        vkmm_graph_set_prefix(g, "v.blk.%u", il);
        vkmm_tid q = vkmm_g_linear(g, L->wq, L->bq, hn, "attn_q");
        vkmm_tid k = vkmm_g_linear(g, L->wk, L->bk, hn, "attn_k");
        vkmm_tid v = vkmm_g_linear(g, L->wv, L->bv, hn, "attn_v");
        /* K/V go through cache-layout tensors (f16) so the one fused attention kernel serves here too */
        vkmm_tid kc = vkmm_graph_tensor(g, VKMM_F16, hd, T, hp->n_head, "k_cache");
        vkmm_tid vc = vkmm_graph_tensor(g, VKMM_F16, hd, T, hp->n_head, "v_cache");
        vkmm_g_attn_params ap = {
            .capacity = T, .kv_type = VKMM_F16, .n_head = hp->n_head, .n_kv_head = hp->n_head, .head_dim = hd,
            .pos0 = 0, .causal = false, .scale = 1.0f / sqrtf((float)hd),
        };
        vkmm_tid a = vkmm_g_attention(g, q, k, v, kc, vc, &ap, "attn");
        vkmm_tid o = vkmm_g_linear(g, L->wo, L->bo, a, "attn_out");
        hn = vkmm_g_add_layer_norm(g, x, o, L->ln2_w, L->ln2_b, hp->eps, "ln2");
        vkmm_tid u = vkmm_g_linear(g, L->up, L->b_up, hn, "ffn_up");
        vkmm_g_act(g, VKMM_ACT_GELU_TANH, u, u, "gelu");
        vkmm_tid d = vkmm_g_linear(g, L->down, L->b_down, u, "ffn_down");
        bool last = il + 1 == hp->n_layer;
        hn = vkmm_g_add_layer_norm(g, x, d, last ? m->post_w : m->layers[il + 1].ln1_w,
                                   last ? m->post_b : m->layers[il + 1].ln1_b, hp->eps, last ? "post_ln" : "ln1");
    }
    vkmm_graph_set_prefix(g, "mm");
    vkmm_tid pooled = vkmm_g_avg_pool(g, hn, gh, gw, m->pool, "pool");
    vkmm_tid nrm = vkmm_g_rms_norm(g, pooled, m->soft_norm, hp->eps, 0, "soft_emb_norm");
    vkmm_tid out = vkmm_g_matmul(g, m->proj, nrm, 0, "input_projection");
    vkmm_graph_set_prefix(g, "%s", "");
    return out;
}

static void siglip_free(vkmm_vision_model *vm)
{
    siglip *m = (siglip *)vm;
    free(m->layers);
    free(m);
}

vkmm_status vkmm_siglip_load(vkmm_weight_source *src, vkmm_vision_model **out, vkmm_error *err)
{
    const vkmm_gguf *g = src->gguf;
    *out = NULL;
    vkmm_vision_hparams hp = {.eps = 1e-6f, .mean = {0.5f, 0.5f, 0.5f}, .std = {0.5f, 0.5f, 0.5f}};
    vkmm_status s = vkmm_vision_read_common(g, &hp, err);
    if (s)
        return s;
    hp.merge = 4;
    vkmm_gguf_get_u32(g, "clip.vision.projector.scale_factor", &hp.merge);
    uint32_t grid = hp.image_size / hp.patch;
    if (!hp.merge || grid % hp.merge)
        return vkmm_fail(err, VKMM_ERR_FORMAT, "%s: a %ux%u patch grid cannot be pooled by %u", vkmm_gguf_path(g), grid,
                         grid, hp.merge);
    siglip *m = calloc(1, sizeof *m);
    if (!m || !(m->layers = calloc(hp.n_layer, sizeof *m->layers))) {
        free(m);
        return vkmm_fail(err, VKMM_ERR_HOST_MEMORY, "out of host memory");
    }
    m->base = (vkmm_vision_model){.projector = "gemma3", .hp = hp, .n_rows = n_rows, .encode = encode,
                                  .free = siglip_free, .impl = m};
    m->pool = hp.merge;
    uint32_t E = hp.n_embd, P = hp.patch;
    s = src->matrix(src, "v.patch_embd.weight", 3 * P * P, E, false, true, &m->patch, err);
    if (!s) s = src->vector(src, "v.patch_embd.bias", E, false, &m->patch_b, err);
    if (!s) s = src->vector(src, "v.position_embd.weight", (uint64_t)grid * grid * E, true, &m->pos, err);
    if (!s) s = src->vector(src, "v.post_ln.weight", E, true, &m->post_w, err);
    if (!s) s = src->vector(src, "v.post_ln.bias", E, true, &m->post_b, err);
    if (!s) s = src->vector(src, "mm.soft_emb_norm.weight", E, true, &m->soft_norm, err);
    if (!s) s = src->matrix(src, "mm.input_projection.weight", E, hp.n_text_embd, true, true, &m->proj, err);
    /* old files swapped ffn_up and ffn_down; they are recognised by ffn_down being E wide (gemma3.md §5.2) */
    const vkmm_gguf_tensor *fd = vkmm_gguf_tensor_by_name(g, "v.blk.0.ffn_down.weight");
    bool swapped = fd && fd->ne[0] == E && hp.n_ff != E;
    char name[80];
    for (uint32_t il = 0; il < hp.n_layer && !s; il++) {
        siglip_layer *L = &m->layers[il];
#define N(x) vkmm_model_tensor_name(name, sizeof name, "v.blk.%u." x, il)
        if (!s) s = src->vector(src, N("ln1.weight"), E, true, &L->ln1_w, err);
        if (!s) s = src->vector(src, N("ln1.bias"), E, true, &L->ln1_b, err);
        if (!s) s = src->vector(src, N("ln2.weight"), E, true, &L->ln2_w, err);
        if (!s) s = src->vector(src, N("ln2.bias"), E, true, &L->ln2_b, err);
        if (!s) s = src->matrix(src, N("attn_q.weight"), E, E, false, true, &L->wq, err);
        if (!s) s = src->matrix(src, N("attn_k.weight"), E, E, false, true, &L->wk, err);
        if (!s) s = src->matrix(src, N("attn_v.weight"), E, E, false, true, &L->wv, err);
        if (!s) s = src->matrix(src, N("attn_out.weight"), E, E, false, true, &L->wo, err);
        if (!s) s = src->vector(src, N("attn_q.bias"), E, false, &L->bq, err);
        if (!s) s = src->vector(src, N("attn_k.bias"), E, false, &L->bk, err);
        if (!s) s = src->vector(src, N("attn_v.bias"), E, false, &L->bv, err);
        if (!s) s = src->vector(src, N("attn_out.bias"), E, false, &L->bo, err);
        const char *up = swapped ? "v.blk.%u.ffn_down.weight" : "v.blk.%u.ffn_up.weight";
        const char *down = swapped ? "v.blk.%u.ffn_up.weight" : "v.blk.%u.ffn_down.weight";
        const char *upb = swapped ? "v.blk.%u.ffn_down.bias" : "v.blk.%u.ffn_up.bias";
        const char *downb = swapped ? "v.blk.%u.ffn_up.bias" : "v.blk.%u.ffn_down.bias";
        if (!s) s = src->matrix(src, vkmm_model_tensor_name(name, sizeof name, up, il), E, hp.n_ff, false, true, &L->up, err);
        if (!s) s = src->vector(src, vkmm_model_tensor_name(name, sizeof name, upb, il), hp.n_ff, false, &L->b_up, err);
        if (!s) s = src->matrix(src, vkmm_model_tensor_name(name, sizeof name, down, il), hp.n_ff, E, false, true, &L->down, err);
        if (!s) s = src->vector(src, vkmm_model_tensor_name(name, sizeof name, downb, il), E, false, &L->b_down, err);
#undef N
    }
    if (s) {
        siglip_free(&m->base);
        return s;
    }
    *out = &m->base;
    return VKMM_OK;
}
