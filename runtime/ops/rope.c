/* runtime/ops/rope.c — host side of shaders/rope: checks, the frequency constants (computed in double and
 * passed as double-floats: the kernel precomputes nothing else on the host), variant and dispatch. */
#include <math.h>

#include "rope.h"

enum { F_NEOX = 1, F_POS_BUF = 2, F_2D = 4, F_FACTORS = 8, F_XB = 16 };
#define MAX_HEAD_DIM 512
/* lavapipe silently ends every loop of an invocation after 65535 iterations in all (see softmax.c) */
#define LOOP_BUDGET 60000u

typedef struct rope_push {
    float f1[2], sa[2], sb[2];
    uint32_t n_tokens, n_heads, head_dim;
    uint32_t tok_stride, head_stride;
    uint32_t x_off, pos_off;
    int32_t pos0;
    uint32_t flags;
    uint32_t grid_w, split;
    uint32_t n_heads_a, wa_off, wb_off;
    float eps;
    uint32_t ff_off;
    uint32_t xb_off, tokb_stride; /* F_XB: heads from n_heads_a on are rows of a second tensor (k beside q) */
} rope_push;

/* v as hi + lo floats, ~48 significant bits */
static void dfloat(double v, float out[2])
{
    out[0] = (float)v;
    out[1] = (float)(v - (double)out[0]);
}

/* With xb (size > 0, QK-norm only): rp's heads are x's, and n_heads_b more per token are xb's (rows of n_heads_b
 * heads), normalised with w[1]: q and k in one dispatch. */
static vkmm_status record(vkmm_ops *ops, vkmm_cmd *cmd, const vkmm_rope_params *rp, vkmm_range x, vkmm_range pos,
                          const vkmm_range *w, uint32_t n_heads_a, float eps, vkmm_range xb, uint32_t n_heads_b,
                          vkmm_error *err)
{
    const char *what = w ? "rms_norm_rope" : "rope";
    uint32_t d = rp->head_dim;
    if (rp->n_tokens == 0 || rp->n_heads == 0)
        return VKMM_OK;
    if (d == 0 || d % 2 || d > MAX_HEAD_DIM || (rp->grid_w && d % 4))
        return vkmm_fail(err, VKMM_ERR_INTERNAL, "%s: head_dim %u must be even (2-D: a multiple of 4) and at most %d",
                         what, d, MAX_HEAD_DIM);
    if (rp->layout != VKMM_ROPE_NORM && rp->layout != VKMM_ROPE_NEOX)
        return vkmm_fail(err, VKMM_ERR_INTERNAL, "%s: unknown layout %d", what, (int)rp->layout);
    double scale = rp->freq_scale ? rp->freq_scale : 1.0;
    if (!(rp->base > 0) || !(scale > 0) || !isfinite(rp->base) || !isfinite(scale))
        return vkmm_fail(err, VKMM_ERR_INTERNAL, "%s: base %g and frequency scale %g must be positive", what,
                         rp->base, scale);
    rope_push pc = {
        .n_tokens = rp->n_tokens, .n_heads = rp->n_heads, .head_dim = d,
        .head_stride = rp->head_stride ? rp->head_stride : d,
        .pos0 = rp->pos0, .grid_w = rp->grid_w, .split = d / 2, .n_heads_a = n_heads_a, .eps = eps,
        .flags = (rp->layout == VKMM_ROPE_NEOX ? F_NEOX : 0) | (pos.size ? F_POS_BUF : 0) | (rp->grid_w ? F_2D : 0) |
                 (rp->freq_factors.size ? F_FACTORS : 0),
    };
    if (rp->freq_factors.size && (rp->freq_factors.size / 4 < d / 2 || rp->grid_w))
        return vkmm_fail(err, VKMM_ERR_INTERNAL, "%s: %llu bytes of frequency factors for %u pairs (1-D only)", what,
                         (unsigned long long)rp->freq_factors.size, d / 2);
    pc.tok_stride = rp->tok_stride ? rp->tok_stride : rp->n_heads * pc.head_stride;
    if (xb.size) {
        uint64_t span_b = (uint64_t)rp->n_tokens * n_heads_b * pc.head_stride;
        if (!w || !n_heads_b || xb.size / 4 < span_b)
            return vkmm_fail(err, VKMM_ERR_INTERNAL, "%s: %u tokens x %u second heads x %u do not fit (%llu bytes)",
                             what, rp->n_tokens, n_heads_b, d, (unsigned long long)xb.size);
        pc.flags |= F_XB;
        pc.tokb_stride = n_heads_b * pc.head_stride;
        pc.n_heads = rp->n_heads + n_heads_b;
    }
    uint64_t span = (uint64_t)(rp->n_tokens - 1) * pc.tok_stride + (uint64_t)(rp->n_heads - 1) * pc.head_stride + d;
    if (x.size / 4 < span || (pos.size && pos.size / 4 < rp->n_tokens))
        return vkmm_fail(err, VKMM_ERR_INTERNAL, "%s: %u tokens x %u heads x %u do not fit x (%llu bytes), or fewer "
                         "than %u positions", what, rp->n_tokens, rp->n_heads, d, (unsigned long long)x.size,
                         rp->n_tokens);
    if (!pos.size && (int64_t)rp->pos0 + rp->n_tokens - 1 > INT32_MAX)
        return vkmm_fail(err, VKMM_ERR_INTERNAL, "%s: positions from %d overflow", what, rp->pos0);
    if (rp->grid_w && rp->layout == VKMM_ROPE_NEOX) {
        /* Gemma 4: each half of the head a NEOX rotation over d/2 dims, base^(-2i/(d/2)) for both axes */
        pc.split = d / 4;
        dfloat(pow(rp->base, -4.0 / d), pc.f1);
        dfloat(scale, pc.sa);
        dfloat(scale, pc.sb);
    } else if (rp->grid_w) {
        /* Pixtral: rows use base^(-4i/d), columns the same times base^(-2/d) */
        pc.split = d / 4;
        dfloat(pow(rp->base, -4.0 / d), pc.f1);
        dfloat(scale, pc.sa);
        dfloat(scale * pow(rp->base, -2.0 / d), pc.sb);
    } else {
        dfloat(pow(rp->base, -2.0 / d), pc.f1);
        dfloat(scale, pc.sa);
        dfloat(scale, pc.sb);
    }
    if (w) {
        if (n_heads_a > pc.n_heads || (n_heads_a && w[0].size / 4 < d) ||
            (n_heads_a < pc.n_heads && w[1].size / 4 < d))
            return vkmm_fail(err, VKMM_ERR_INTERNAL, "%s: %u of %u heads use the first weight; a weight of %u floats "
                             "is missing or short", what, n_heads_a, rp->n_heads, d);
        if (!(eps >= 0.0f))
            return vkmm_fail(err, VKMM_ERR_INTERNAL, "%s: eps %g must be >= 0", what, (double)eps);
    }

    vkmm_binding bind[6];
    bind[0] = vkmm_ops_bind(ops, x, true, 4, &pc.x_off);
    bind[1] = vkmm_ops_bind(ops, pos.size ? pos : x, false, 4, &pc.pos_off); /* x: never read as positions */
    uint32_t nb = 2;
    if (w) {
        vkmm_range wa = n_heads_a ? w[0] : w[1], wb = n_heads_a < pc.n_heads ? w[1] : w[0];
        bind[nb++] = vkmm_ops_bind(ops, wa, false, 4, &pc.wa_off);
        bind[nb++] = vkmm_ops_bind(ops, wb, false, 4, &pc.wb_off);
    }
    /* x stands in when there are no factors: never read */
    bind[nb++] = vkmm_ops_bind(ops, rp->freq_factors.size ? rp->freq_factors : x, false, 4, &pc.ff_off);
    if (w) /* the second tensor; x stands in when there is none (never touched then) */
        bind[nb++] = vkmm_ops_bind(ops, xb.size ? xb : x, true, 4, &pc.xb_off);
    uint32_t wg = vkmm_ops_workgroup(ops, VKMM_TUNE_ROPE_WORKGROUP);
    bool sg = vkmm_ops_tune(ops, VKMM_TUNE_ROPE_SUBGROUP) &&
              (ops->dev->subgroup_ops & (VKMM_SUBGROUP_BASIC | VKMM_SUBGROUP_ARITHMETIC)) ==
                  (VKMM_SUBGROUP_BASIC | VKMM_SUBGROUP_ARITHMETIC);
    uint32_t groups = vkmm_ops_groups_for(ops, rp->n_tokens, 1), per_wg = (d / 2 + wg - 1) / wg;
    uint64_t per_token = per_wg + (uint64_t)pc.n_heads * (w ? 3 * per_wg + 11 : per_wg) + 1;
    if (per_wg * 10 + (uint64_t)(rp->n_tokens + groups - 1) / groups * per_token > LOOP_BUDGET)
        return vkmm_fail(err, VKMM_ERR_UNSUPPORTED, "%s: %u tokens x %u heads are too many for workgroups of %u", what,
                         rp->n_tokens, pc.n_heads, wg);
    const char *shader = !w ? "rope_f32" : sg ? "rms_norm_rope_f32" : "rms_norm_rope_f32_nosg";
    vkmm_pipeline_desc pd = {.shader = shader, .spec = {wg}, .n_spec = 1};
    uint32_t grid[3] = {groups, 1, 1};
    return vkmm_ops_record(ops, cmd, &pd, bind, nb, &pc, sizeof pc, grid, what, err);
}

vkmm_status vkmm_op_rope(vkmm_ops *ops, vkmm_cmd *cmd, const vkmm_rope_params *rp, vkmm_range x, vkmm_range pos,
                         vkmm_error *err)
{
    return record(ops, cmd, rp, x, pos, NULL, 0, 0.0f, (vkmm_range){0}, 0, err);
}

vkmm_status vkmm_op_rms_norm_rope(vkmm_ops *ops, vkmm_cmd *cmd, const vkmm_rope_params *rp, vkmm_range x,
                                  vkmm_range pos, vkmm_range w_a, uint32_t n_heads_a, vkmm_range w_b, float eps,
                                  vkmm_error *err)
{
    vkmm_range w[2] = {w_a, w_b};
    return record(ops, cmd, rp, x, pos, w, n_heads_a, eps, (vkmm_range){0}, 0, err);
}

vkmm_status vkmm_op_qk_norm_rope(vkmm_ops *ops, vkmm_cmd *cmd, const vkmm_rope_params *rp, vkmm_range q,
                                 vkmm_range k, uint32_t n_k_heads, vkmm_range pos, vkmm_range w_q, vkmm_range w_k,
                                 float eps, vkmm_error *err)
{
    vkmm_range w[2] = {w_q, w_k};
    return record(ops, cmd, rp, q, pos, w, rp->n_heads, eps, k, n_k_heads, err);
}
