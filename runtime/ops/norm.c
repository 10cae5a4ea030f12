/* runtime/ops/norm.c — host side of shaders/norm: shape checks, variant choice (norm kind, fused add, subgroup
 * or shared-memory reductions), strides and push constants. */
#include <stdio.h>

#include "norm.h"

enum { HAS_W = 1, HAS_B = 2, NORM_A = 4 };

/* lavapipe silently ends every loop of an invocation after 65535 iterations in all (see softmax.c): rows
 * that would take an invocation past this budget are refused rather than half-normalised. */
#define LOOP_BUDGET 60000u

typedef struct norm_push {
    uint32_t n_cols, n_rows, n_sub;
    uint32_t x_off, x_stride, x_sub;
    uint32_t o_off, o_stride, o_sub;
    uint32_t a_off, a_stride;
    uint32_t w_off, b_off, wa_off;
    uint32_t flags;
    float eps;
} norm_push;

/* Floats spanned by n_rows × n_sub rows of n_cols with these strides. */
static uint64_t span(const vkmm_norm_shape *s, uint32_t n_sub, uint32_t stride, uint32_t sub)
{
    return (uint64_t)(s->n_rows - 1) * stride + (uint64_t)(n_sub - 1) * sub + s->n_cols;
}

static bool overlap(vkmm_range a, vkmm_range b)
{
    return a.buf == b.buf && a.offset < b.offset + b.size && b.offset < a.offset + a.size;
}

/* The shared recorder: a.size == 0 means the plain (non-fused) variant. */
static vkmm_status record(vkmm_ops *ops, vkmm_cmd *cmd, vkmm_norm_kind kind, const vkmm_norm_shape *s,
                          vkmm_range x, vkmm_range a, vkmm_range a_w, vkmm_range w, vkmm_range b, vkmm_range out,
                          vkmm_error *err)
{
    bool add = a.size != 0, ln = kind == VKMM_NORM_LAYER;
    const char *what = add ? (ln ? "add_layer_norm" : "add_rms_norm") : (ln ? "layer_norm" : "rms_norm");
    if (kind != VKMM_NORM_RMS && kind != VKMM_NORM_LAYER)
        return vkmm_fail(err, VKMM_ERR_INTERNAL, "norm: unknown kind %d", (int)kind);
    if (s->n_rows == 0)
        return VKMM_OK;
    uint32_t n_sub = s->n_sub ? s->n_sub : 1;
    if (s->n_cols == 0)
        return vkmm_fail(err, VKMM_ERR_INTERNAL, "%s: rows of 0 elements", what);
    if ((uint64_t)s->n_rows * n_sub > UINT32_MAX)
        return vkmm_fail(err, VKMM_ERR_INTERNAL, "%s: %u x %u rows is too many", what, s->n_rows, n_sub);
    if (!(s->eps >= 0.0f))
        return vkmm_fail(err, VKMM_ERR_INTERNAL, "%s: eps %g must be >= 0", what, (double)s->eps);
    norm_push pc = {
        .n_cols = s->n_cols, .n_rows = s->n_rows, .n_sub = n_sub,
        .x_sub = s->x_sub ? s->x_sub : s->n_cols, .o_sub = s->o_sub ? s->o_sub : s->n_cols,
        .a_stride = s->n_cols, .eps = s->eps,
    };
    pc.x_stride = s->x_stride ? s->x_stride : n_sub * pc.x_sub;
    pc.o_stride = s->o_stride ? s->o_stride : n_sub * pc.o_sub;
    if (x.size / 4 < span(s, n_sub, pc.x_stride, pc.x_sub) || out.size / 4 < span(s, n_sub, pc.o_stride, pc.o_sub))
        return vkmm_fail(err, VKMM_ERR_INTERNAL, "%s: %u x %u rows of %u floats do not fit the input (%llu bytes) "
                         "or output (%llu bytes) range", what, s->n_rows, n_sub, s->n_cols,
                         (unsigned long long)x.size, (unsigned long long)out.size);
    if ((w.size && w.size / 4 < s->n_cols) || (ln && b.size && b.size / 4 < s->n_cols) ||
        (a_w.size && a_w.size / 4 < s->n_cols))
        return vkmm_fail(err, VKMM_ERR_INTERNAL, "%s: a weight or bias is shorter than %u floats", what, s->n_cols);
    if (add && (a.size / 4 < (uint64_t)s->n_rows * s->n_cols || overlap(out, x) || overlap(out, a)))
        return vkmm_fail(err, VKMM_ERR_INTERNAL, "%s: the addend is shorter than %u x %u floats or out overlaps "
                         "x or a", what, s->n_rows, s->n_cols);
    pc.flags = (w.size ? HAS_W : 0) | (ln && b.size ? HAS_B : 0) | (a_w.size ? NORM_A : 0);

    /* absent weights bind a range the dispatch reads anyway; the shader never touches them */
    vkmm_range dummy = add ? a : x;
    vkmm_binding bind[6];
    uint32_t nb = 0;
    bind[nb++] = vkmm_ops_bind(ops, x, add, 4, &pc.x_off);
    bind[nb++] = vkmm_ops_bind(ops, w.size ? w : dummy, false, 4, &pc.w_off);
    bind[nb++] = vkmm_ops_bind(ops, out, true, 4, &pc.o_off);
    if (ln)
        bind[nb++] = vkmm_ops_bind(ops, b.size ? b : dummy, false, 4, &pc.b_off);
    if (add) {
        bind[nb++] = vkmm_ops_bind(ops, a, false, 4, &pc.a_off);
        bind[nb++] = vkmm_ops_bind(ops, a_w.size ? a_w : dummy, false, 4, &pc.wa_off);
    }

    /* short rows (per-head norms) waste most of a wide workgroup: halve it down to the row length */
    uint32_t wg = vkmm_ops_workgroup(ops, VKMM_TUNE_NORM_WORKGROUP);
    while (wg > 32 && wg / 2 >= s->n_cols)
        wg /= 2;
    bool sg = vkmm_ops_tune(ops, VKMM_TUNE_NORM_SUBGROUP) &&
              (ops->dev->subgroup_ops & (VKMM_SUBGROUP_BASIC | VKMM_SUBGROUP_ARITHMETIC)) ==
                  (VKMM_SUBGROUP_BASIC | VKMM_SUBGROUP_ARITHMETIC);
    uint32_t groups = vkmm_ops_groups_for(ops, (uint64_t)s->n_rows * n_sub, 1);
    uint64_t per_row = 5 * ((s->n_cols + wg - 1) / wg) + 3 * 11; /* at most 5 passes and 3 reductions */
    if (((uint64_t)s->n_rows * n_sub + groups - 1) / groups * per_row > LOOP_BUDGET)
        return vkmm_fail(err, VKMM_ERR_UNSUPPORTED, "%s: %u x %u rows of %u are too many for workgroups of %u", what,
                         s->n_rows, n_sub, s->n_cols, wg);
    char shader[48];
    snprintf(shader, sizeof shader, "%s_f32%s", what, sg ? "" : "_nosg");
    vkmm_pipeline_desc pd = {.shader = shader, .spec = {wg}, .n_spec = 1};
    uint32_t grid[3] = {groups, 1, 1};
    return vkmm_ops_record(ops, cmd, &pd, bind, nb, &pc, sizeof pc, grid, what, err);
}

vkmm_status vkmm_op_norm(vkmm_ops *ops, vkmm_cmd *cmd, vkmm_norm_kind kind, const vkmm_norm_shape *shape,
                         vkmm_range x, vkmm_range w, vkmm_range b, vkmm_range out, vkmm_error *err)
{
    vkmm_range none = {0};
    return record(ops, cmd, kind, shape, x, none, none, w, b, out, err);
}

vkmm_status vkmm_op_rms_norm(vkmm_ops *ops, vkmm_cmd *cmd, vkmm_range x, vkmm_range w, vkmm_range out,
                             uint32_t n_rows, uint32_t n_cols, float eps, vkmm_error *err)
{
    vkmm_norm_shape s = {.n_cols = n_cols, .n_rows = n_rows, .eps = eps};
    return vkmm_op_norm(ops, cmd, VKMM_NORM_RMS, &s, x, w, (vkmm_range){0}, out, err);
}

vkmm_status vkmm_op_layer_norm(vkmm_ops *ops, vkmm_cmd *cmd, vkmm_range x, vkmm_range w, vkmm_range b,
                               vkmm_range out, uint32_t n_rows, uint32_t n_cols, float eps, vkmm_error *err)
{
    vkmm_norm_shape s = {.n_cols = n_cols, .n_rows = n_rows, .eps = eps};
    return vkmm_op_norm(ops, cmd, VKMM_NORM_LAYER, &s, x, w, b, out, err);
}

vkmm_status vkmm_op_add_norm(vkmm_ops *ops, vkmm_cmd *cmd, vkmm_norm_kind kind, vkmm_range x, vkmm_range a,
                             vkmm_range a_w, vkmm_range w, vkmm_range b, vkmm_range out, uint32_t n_rows,
                             uint32_t n_cols, float eps, vkmm_error *err)
{
    if (a.size == 0)
        return vkmm_fail(err, VKMM_ERR_INTERNAL, "add_norm: no addend");
    vkmm_norm_shape s = {.n_cols = n_cols, .n_rows = n_rows, .eps = eps};
    return record(ops, cmd, kind, &s, x, a, a_w, w, b, out, err);
}
