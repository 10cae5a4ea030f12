/* runtime/models/gemma4v.c — Gemma 4's vision tower and projector from an mmproj GGUF (../shared/reference/gemma4.md
 * §4, following Hugging Face's Gemma4VisionModel and Gemma4MultimodalEmbedder): 16-pixel patches through a
 * bias-free linear, learned column and row position tables, RMS-normed encoder layers with QK-norm, weightless
 * V-norm, 2-D RoPE (theta 100) and attention scale 1, a tanh-GELU GeGLU, post-norms on both branches and an
 * optional per-layer output scale; then 3x3 average pooling, scaling by sqrt(width), the 26B/31B files'
 * standardisation, a weightless RMSNorm and the input projection. E2B/E4B files clamp the input and output of each
 * encoder linear. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dtype_table.h"
#include "gemma4v.h"
#include "nodes.h"

#define ROPE_THETA 100.0 /* HF Gemma4VisionConfig's rope_theta; the converter writes no key for it */

/* An encoder linear with the clamps HF's Gemma4ClippableLinear applies around it (infinite: none). */
typedef struct clipped_linear {
    const vkmm_weight *w;
    float in_lo, in_hi, out_lo, out_hi;
} clipped_linear;

typedef struct g4v_layer {
    vkmm_range ln1, q_norm, k_norm, attn_post, ln2, ffn_post, out_scale;
    clipped_linear q, k, v, o, gate, up, down;
} g4v_layer;

typedef struct g4v {
    vkmm_vision_model base;
    g4v_layer *layers;
    const vkmm_weight *patch, *proj;
    vkmm_range pos, std_bias, std_scale;
    uint32_t n_pos;                     /* rows of each position table (10240 in Google's files) */
    uint32_t pool;
} g4v;

static uint32_t n_rows(const vkmm_vision_model *vm, uint32_t h, uint32_t w)
{
    const g4v *m = (const g4v *)vm;
    uint32_t side = vm->hp.patch * m->pool;
    return (h / side) * (w / side);
}

/* y = clamp(W · clamp(x)); out: where y goes (0: a new tensor). */
static vkmm_tid linear(vkmm_graph *g, const clipped_linear *c, vkmm_tid x, vkmm_tid out, const char *name)
{
    char n[48];
    if (c->in_lo > -INFINITY || c->in_hi < INFINITY) {
        snprintf(n, sizeof n, "%s_in_clamp", name);
        x = vkmm_g_clamp(g, x, c->in_lo, c->in_hi, 0, n);
    }
    vkmm_tid y = vkmm_g_matmul(g, c->w, x, out, name);
    if (c->out_lo > -INFINITY || c->out_hi < INFINITY) {
        snprintf(n, sizeof n, "%s_out_clamp", name);
        vkmm_g_clamp(g, y, c->out_lo, c->out_hi, y, n);
    }
    return y;
}

/* x += table_x[column] + table_y[row] for every patch of the gh x gw grid (HF adds the sum of one-hot lookups). */
static void add_positions(vkmm_graph *g, const g4v *m, vkmm_tid x, uint32_t gh, uint32_t gw)
{
    uint32_t E = m->base.hp.n_embd;
    vkmm_tid tx = vkmm_graph_external(g, m->pos, VKMM_F32, E, m->n_pos, 2, "position_embd");
    vkmm_tid ty = vkmm_graph_view(g, tx, (uint64_t)m->n_pos * E * 4, VKMM_F32, E, m->n_pos, 1, "position_embd_y");
    vkmm_tid pe = vkmm_graph_tensor(g, VKMM_F32, E, gw * gh, 1, "positions");
    uint32_t ne[3] = {E, gw, gh}, by_col[3] = {1, E, 0}, by_row[3] = {1, 0, E}, out[3] = {1, E, gw * E};
    vkmm_g_copy_strided(g, tx, pe, 0, ne, by_col, out, "position_x");
    vkmm_g_add(g, x, pe, x, "add_position_x");
    vkmm_g_copy_strided(g, ty, pe, 0, ne, by_row, out, "position_y");
    vkmm_g_add(g, x, pe, x, "add_position_y");
}

/* Bidirectional attention over the T patches with QK-norm, 2-D RoPE and V-norm; returns attn_out's output. */
static vkmm_tid attention(vkmm_graph *g, const g4v_layer *L, const vkmm_vision_hparams *hp, vkmm_tid hn, uint32_t T,
                          uint32_t gw)
{
    uint32_t H = hp->n_head, hd = hp->n_embd / H;
    vkmm_tid q = linear(g, &L->q, hn, 0, "attn_q");
    vkmm_tid k = linear(g, &L->k, hn, 0, "attn_k");
    vkmm_tid v = linear(g, &L->v, hn, 0, "attn_v");
    /* first half of each head turns by the patch's column, second half by its row (NEOX within each half) */
    vkmm_g_rope_params rp = {.neox = true, .head_dim = hd, .n_heads = H, .base = ROPE_THETA, .freq_scale = 1.0,
                             .grid_w = gw};
    vkmm_g_qk_norm_rope(g, q, k, &rp, H, L->q_norm, L->k_norm, hp->eps, "attn_qk_norm_rope");
    vkmm_tid vh = vkmm_graph_view(g, v, 0, VKMM_F32, hd, T * H, 1, "v_heads");
    vkmm_g_rms_norm(g, vh, (vkmm_range){0}, hp->eps, vh, "attn_v_norm");
    /* K/V go through cache-layout tensors (f16) so the one fused attention kernel serves here too */
    vkmm_tid kc = vkmm_graph_tensor(g, VKMM_F16, hd, T, H, "k_cache");
    vkmm_tid vc = vkmm_graph_tensor(g, VKMM_F16, hd, T, H, "v_cache");
    vkmm_g_attn_params ap = {.capacity = T, .kv_type = VKMM_F16, .n_head = H, .n_kv_head = H, .head_dim = hd,
                             .causal = false, .scale = 1.0f};
    vkmm_tid a = vkmm_g_attention(g, q, k, v, kc, vc, &ap, "attn");
    return linear(g, &L->o, a, 0, "attn_out");
}

/* The GeGLU MLP on hn [T][E], in passes of as many rows as keep each [rows][n_ff] intermediate within one binding
 * of the device (lavapipe's 128 MiB is 7.8k rows of 4304: a 26B/31B image at 1120 tokens has 10080). */
static vkmm_tid mlp(vkmm_graph *g, const g4v_layer *L, const vkmm_vision_hparams *hp, vkmm_tid hn, uint32_t T)
{
    uint32_t E = hp->n_embd, F = hp->n_ff;
    uint64_t limit = g->ops ? g->ops->dev->max_storage_buffer_range : UINT64_MAX, fit = limit / (4ull * F);
    uint32_t per = fit >= T ? T : fit ? (uint32_t)fit : 1;
    vkmm_tid d = per == T ? 0 : vkmm_graph_tensor(g, VKMM_F32, E, T, 1, "ffn_out");
    for (uint32_t r0 = 0; r0 < T; r0 += per) {
        uint32_t n = T - r0 < per ? T - r0 : per;
        vkmm_tid x = per == T ? hn : vkmm_graph_view(g, hn, 4ull * E * r0, VKMM_F32, E, n, 1, "ffn_rows");
        vkmm_tid out = per == T ? 0 : vkmm_graph_view(g, d, 4ull * E * r0, VKMM_F32, E, n, 1, "ffn_out_rows");
        vkmm_tid gt = linear(g, &L->gate, x, 0, "ffn_gate");
        vkmm_tid up = linear(g, &L->up, x, 0, "ffn_up");
        vkmm_g_glu(g, VKMM_ACT_GELU_TANH, gt, up, gt, "geglu"); /* HF hidden_activation gelu_pytorch_tanh */
        vkmm_tid dn = linear(g, &L->down, gt, out, "ffn_down");
        if (per == T)
            d = dn;
    }
    return d;
}

/* h += post_norm(branch), then h *= out_scale when the layer has one; returns next_w's RMSNorm of h (0: none). */
static vkmm_tid residual(vkmm_graph *g, const vkmm_vision_hparams *hp, vkmm_tid h, vkmm_tid branch, vkmm_range post_w,
                         vkmm_range out_scale, vkmm_range next_w, const char *next_name)
{
    if (!out_scale.size && next_w.size)
        return vkmm_g_add_rms_norm(g, h, branch, post_w, next_w, hp->eps, next_name);
    vkmm_tid b = vkmm_g_rms_norm(g, branch, post_w, hp->eps, branch, "post_norm");
    vkmm_g_add(g, h, b, h, "residual");
    if (out_scale.size) {
        vkmm_tid s = vkmm_graph_external(g, out_scale, VKMM_F32, 1, 1, 1, "out_scale");
        vkmm_g_mul(g, h, s, h, "out_scale");
    }
    return next_w.size ? vkmm_g_rms_norm(g, h, next_w, hp->eps, 0, next_name) : 0;
}

static vkmm_tid encode(const vkmm_vision_model *vm, vkmm_graph *g, vkmm_tid image, uint32_t h, uint32_t w)
{
    const g4v *m = (const g4v *)vm;
    const vkmm_vision_hparams *hp = &vm->hp;
    uint32_t P = hp->patch, E = hp->n_embd, side = P * m->pool, gh = h / P, gw = w / P, T = gh * gw;
    if (!h || !w || h % side || w % side || gh > m->n_pos || gw > m->n_pos) {
        vkmm_graph_fail(g, VKMM_ERR_INVALID_ARG, "Gemma 4 vision: a %ux%u image is not whole %u-pixel tokens within "
                        "the %u-patch position tables", w, h, side, m->n_pos);
        return 0;
    }
    vkmm_graph_set_prefix(g, "v");
    vkmm_tid x = vkmm_g_patch_embed(g, m->patch, 0, image, 3, h, w, P, "patch_embd");
    add_positions(g, m, x, gh, gw);
    vkmm_tid hn = vkmm_g_rms_norm(g, x, m->layers[0].ln1, hp->eps, 0, "ln1");
    for (uint32_t il = 0; il < hp->n_layer; il++) {
        const g4v_layer *L = &m->layers[il];
        vkmm_graph_set_prefix(g, "v.blk.%u", il);
        vkmm_tid o = attention(g, L, hp, hn, T, gw);
        hn = residual(g, hp, x, o, L->attn_post, (vkmm_range){0}, L->ln2, "ln2");
        vkmm_tid d = mlp(g, L, hp, hn, T);
        bool last = il + 1 == hp->n_layer;
        hn = residual(g, hp, x, d, L->ffn_post, L->out_scale, last ? (vkmm_range){0} : m->layers[il + 1].ln1, "ln1");
    }
    vkmm_graph_set_prefix(g, "mm");
    vkmm_tid pooled = vkmm_g_avg_pool(g, x, gh, gw, m->pool, "pool");
    vkmm_g_scale(g, pooled, sqrtf((float)E), pooled, "scale");
    if (m->std_bias.size) {
        vkmm_tid b = vkmm_graph_external(g, m->std_bias, VKMM_F32, E, 1, 1, "std_bias");
        vkmm_tid s = vkmm_graph_external(g, m->std_scale, VKMM_F32, E, 1, 1, "std_scale");
        vkmm_g_sub(g, pooled, b, pooled, "std_bias");
        vkmm_g_mul(g, pooled, s, pooled, "std_scale");
    }
    vkmm_tid nrm = vkmm_g_rms_norm(g, pooled, (vkmm_range){0}, hp->eps, 0, "pre_projection_norm");
    vkmm_tid out = vkmm_g_matmul(g, m->proj, nrm, 0, "input_projection");
    vkmm_graph_set_prefix(g, "%s", "");
    return out;
}

static void g4v_free(vkmm_vision_model *vm)
{
    g4v *m = (g4v *)vm;
    free(m->layers);
    free(m);
}

/* One clamp bound "<weight>.<what>": a single number, read on the host; absent: infinite. */
static vkmm_status clamp_bound(const vkmm_gguf *g, const char *weight, const char *what, float absent, float *out,
                               vkmm_error *err)
{
    char name[96];
    snprintf(name, sizeof name, "%s.%s", weight, what);
    const vkmm_gguf_tensor *t = vkmm_gguf_tensor_by_name(g, name);
    *out = absent;
    if (!t)
        return VKMM_OK;
    const vkmm_dtype_info *ti = vkmm_dtype_get(t->type);
    if (t->n_elements != 1 || !ti || ti->block != 1 || !vkmm_dequantize(t->type, t->data, out, 1) || isnan(*out))
        return vkmm_fail(err, VKMM_ERR_FORMAT, "%s: %s must be one number (it has %llu elements of type %s)",
                         vkmm_gguf_path(g), name, (unsigned long long)t->n_elements, vkmm_gguf_type_name(t->type));
    return VKMM_OK;
}

/* blk.<il>.<what>.weight as a clipped linear of k inputs and `rows` outputs. */
static vkmm_status bind_linear(vkmm_weight_source *src, uint32_t il, const char *what, uint32_t k, uint32_t rows,
                               clipped_linear *c, vkmm_error *err)
{
    char base[64], name[80];
    snprintf(base, sizeof base, "v.blk.%u.%s", il, what);
    snprintf(name, sizeof name, "%s.weight", base);
    vkmm_status s = src->matrix(src, name, k, rows, false, true, &c->w, err);
    if (!s) s = clamp_bound(src->gguf, base, "input_min", -INFINITY, &c->in_lo, err);
    if (!s) s = clamp_bound(src->gguf, base, "input_max", INFINITY, &c->in_hi, err);
    if (!s) s = clamp_bound(src->gguf, base, "output_min", -INFINITY, &c->out_lo, err);
    if (!s) s = clamp_bound(src->gguf, base, "output_max", INFINITY, &c->out_hi, err);
    if (!s && (c->in_lo > c->in_hi || c->out_lo > c->out_hi))
        s = vkmm_fail(err, VKMM_ERR_FORMAT, "%s: %s clamps an empty range ([%g, %g] in, [%g, %g] out)",
                      vkmm_gguf_path(src->gguf), base, (double)c->in_lo, (double)c->in_hi, (double)c->out_lo,
                      (double)c->out_hi);
    return s;
}

static vkmm_status bind_layer(vkmm_weight_source *src, const vkmm_vision_hparams *hp, uint32_t il, g4v_layer *L,
                              vkmm_error *err)
{
    uint32_t E = hp->n_embd, F = hp->n_ff, hd = E / hp->n_head;
    char name[80];
#define N(x) vkmm_model_tensor_name(name, sizeof name, "v.blk.%u." x, il)
    vkmm_status s = src->vector(src, N("ln1.weight"), E, true, &L->ln1, err);
    if (!s) s = bind_linear(src, il, "attn_q", E, E, &L->q, err);
    if (!s) s = bind_linear(src, il, "attn_k", E, E, &L->k, err);
    if (!s) s = bind_linear(src, il, "attn_v", E, E, &L->v, err);
    if (!s) s = bind_linear(src, il, "attn_out", E, E, &L->o, err);
    if (!s) s = src->vector(src, N("attn_q_norm.weight"), hd, true, &L->q_norm, err);
    if (!s) s = src->vector(src, N("attn_k_norm.weight"), hd, true, &L->k_norm, err);
    if (!s) s = src->vector(src, N("attn_post_norm.weight"), E, true, &L->attn_post, err);
    if (!s) s = src->vector(src, N("ln2.weight"), E, true, &L->ln2, err);
    if (!s) s = bind_linear(src, il, "ffn_gate", E, F, &L->gate, err);
    if (!s) s = bind_linear(src, il, "ffn_up", E, F, &L->up, err);
    if (!s) s = bind_linear(src, il, "ffn_down", F, E, &L->down, err);
    if (!s) s = src->vector(src, N("ffn_post_norm.weight"), E, true, &L->ffn_post, err);
    if (!s) s = src->vector(src, N("out_scale.weight"), 1, false, &L->out_scale, err);
#undef N
    return s;
}

/* v.position_embd.weight: two tables (columns, rows) of n_pos rows of E, F32 in Google's files. */
static vkmm_status bind_positions(vkmm_weight_source *src, g4v *m, vkmm_error *err)
{
    const char *name = "v.position_embd.weight";
    const vkmm_gguf_tensor *t = vkmm_gguf_tensor_by_name(src->gguf, name);
    uint32_t E = m->base.hp.n_embd;
    if (!t)
        return vkmm_fail(err, VKMM_ERR_FORMAT, "%s: tensor %s is missing", vkmm_gguf_path(src->gguf), name);
    if (t->n_dims != 3 || t->ne[0] != E || t->ne[2] != 2 || t->ne[1] == 0 || t->ne[1] > (1u << 20))
        return vkmm_fail(err, VKMM_ERR_FORMAT, "%s: %s is %llu x %llu x %llu, expected %u x positions x 2",
                         vkmm_gguf_path(src->gguf), name, (unsigned long long)t->ne[0], (unsigned long long)t->ne[1],
                         (unsigned long long)t->ne[2], E);
    m->n_pos = (uint32_t)t->ne[1];
    return src->vector(src, name, (uint64_t)E * m->n_pos * 2, true, &m->pos, err);
}

static vkmm_status bind_projector(vkmm_weight_source *src, g4v *m, vkmm_error *err)
{
    const vkmm_vision_hparams *hp = &m->base.hp;
    uint32_t E = hp->n_embd;
    vkmm_status s = src->vector(src, "v.std_bias", E, false, &m->std_bias, err);
    if (!s) s = src->vector(src, "v.std_scale", E, false, &m->std_scale, err);
    if (!s && !m->std_bias.size != !m->std_scale.size)
        s = vkmm_fail(err, VKMM_ERR_FORMAT, "%s: v.std_bias and v.std_scale come together (one is missing)",
                      vkmm_gguf_path(src->gguf));
    if (!s) s = src->matrix(src, "mm.input_projection.weight", E, hp->n_text_embd, false, true, &m->proj, err);
    return s;
}

vkmm_status vkmm_gemma4v_load(vkmm_weight_source *src, vkmm_vision_model **out, vkmm_error *err)
{
    const vkmm_gguf *g = src->gguf;
    *out = NULL;
    vkmm_vision_hparams hp = {.eps = 1e-6f, .mean = {0.5f, 0.5f, 0.5f}, .std = {0.5f, 0.5f, 0.5f}};
    vkmm_status s = vkmm_vision_read_common(g, &hp, err); /* image_size is a dummy (224) in these files */
    if (s)
        return s;
    hp.merge = 3; /* HF pooling_kernel_size */
    vkmm_gguf_get_u32(g, "clip.vision.projector.scale_factor", &hp.merge);
    uint32_t hd = hp.n_embd / hp.n_head;
    if (hp.merge == 0 || hp.merge > 8 || hp.patch > 64 || (hd != 64 && hd != 72 && hd != 128 && hd != 256))
        return vkmm_fail(err, VKMM_ERR_UNSUPPORTED, "%s: a Gemma 4 vision tower with %u-pixel patches pooled %u x %u "
                         "and heads of %u cannot run (heads of 64, 72, 128 or 256)", vkmm_gguf_path(g), hp.patch,
                         hp.merge, hp.merge, hd);
    g4v *m = calloc(1, sizeof *m);
    if (!m || !(m->layers = calloc(hp.n_layer, sizeof *m->layers))) {
        free(m);
        return vkmm_fail(err, VKMM_ERR_HOST_MEMORY, "out of host memory");
    }
    m->base = (vkmm_vision_model){.projector = "gemma4v", .hp = hp, .n_rows = n_rows, .encode = encode,
                                  .free = g4v_free, .impl = m};
    m->pool = hp.merge;
    s = src->matrix(src, "v.patch_embd.weight", 3 * hp.patch * hp.patch, hp.n_embd, false, true, &m->patch, err);
    if (!s) s = bind_positions(src, m, err);
    for (uint32_t il = 0; il < hp.n_layer && !s; il++)
        s = bind_layer(src, &hp, il, &m->layers[il], err);
    if (!s) s = bind_projector(src, m, err);
    if (s) {
        g4v_free(&m->base);
        return s;
    }
    /* The image rows' rule in the text model is HF's text config use_bidirectional_attention, which no GGUF key
     * carries. Google's files pair it with the vision config: the standardised towers (26B/31B, v.std_bias) come
     * with "vision" (bidirectional on sliding layers), the clipped ones (E2B/E4B) with causal image rows. */
    m->base.has_attention = true;
    m->base.attention = m->std_bias.size ? VKMM_MEDIA_BIDIRECTIONAL_SLIDING : VKMM_MEDIA_CAUSAL;
    *out = &m->base;
    return VKMM_OK;
}

/* ---- the tower as the architecture table sees it ---- */

const uint32_t vkmm_gemma4v_budgets[] = {70, 140, 280, 560, 1120, 0}; /* HF _SUPPORTED_SOFT_TOKENS */

/* HF Gemma4ImageProcessor: aspect kept within the token budget, sides multiples of patch x pooling, bicubic */
vkmm_image_prep vkmm_gemma4v_prep(const vkmm_vision_hparams *hp, uint32_t image_tokens)
{
    vkmm_image_prep p = vkmm_image_prep_gemma4(image_tokens);
    p.patch = hp->patch * hp->merge;
    return p;
}

const vkmm_media_tower vkmm_gemma4v_tower = VKMM_GEMMA4V_TOWER;
