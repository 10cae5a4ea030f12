/* runtime/ops/norm.h — RMSNorm and LayerNorm over rows (also per-head rows), plain or fused with the residual
 * add that precedes them in every transformer layer. */
#ifndef VKMM_OPS_NORM_H
#define VKMM_OPS_NORM_H

#include "ops.h"

typedef enum vkmm_norm_kind {
    VKMM_NORM_RMS,    /* y = x / sqrt(mean(x²) + eps) · w */
    VKMM_NORM_LAYER,  /* y = (x − mean) / sqrt(var + eps) · w + b, biased variance */
} vkmm_norm_kind;

/* Which rows are normalised: row (t, h), t < n_rows, h < n_sub, starts at element t·stride + h·sub of its
 * range. Per-head norms (Gemma's QK-norm) are n_rows = tokens, n_sub = heads, n_cols = head_dim.
 * Zero strides mean packed: sub = n_cols, stride = n_sub · sub. */
typedef struct vkmm_norm_shape {
    uint32_t n_cols, n_rows, n_sub;     /* n_sub 0 counts as 1 */
    uint32_t x_stride, x_sub;
    uint32_t o_stride, o_sub;
    float eps;
} vkmm_norm_shape;

/* An absent weight or bias is a range of size 0 ((vkmm_range){0}); b is only read by VKMM_NORM_LAYER.
 * out may be x itself (in place). */
vkmm_status vkmm_op_norm(vkmm_ops *ops, vkmm_cmd *cmd, vkmm_norm_kind kind, const vkmm_norm_shape *shape,
                         vkmm_range x, vkmm_range w, vkmm_range b, vkmm_range out, vkmm_error *err);

/* Packed rows: n_rows × n_cols. */
vkmm_status vkmm_op_rms_norm(vkmm_ops *ops, vkmm_cmd *cmd, vkmm_range x, vkmm_range w, vkmm_range out,
                             uint32_t n_rows, uint32_t n_cols, float eps, vkmm_error *err);
vkmm_status vkmm_op_layer_norm(vkmm_ops *ops, vkmm_cmd *cmd, vkmm_range x, vkmm_range w, vkmm_range b,
                               vkmm_range out, uint32_t n_rows, uint32_t n_cols, float eps, vkmm_error *err);

/* The residual step and the next norm in one dispatch, over packed n_rows × n_cols:
 *   x += a_w.size ? RMSNorm(a, eps) · a_w : a;     (x is updated in place)
 *   out = norm(x) · w (+ b)
 * Gemma: a_w = the post-attention / post-FFN norm, w = the next pre-norm (or output_norm). Others pass no a_w.
 * out must not overlap x or a. */
vkmm_status vkmm_op_add_norm(vkmm_ops *ops, vkmm_cmd *cmd, vkmm_norm_kind kind, vkmm_range x, vkmm_range a,
                             vkmm_range a_w, vkmm_range w, vkmm_range b, vkmm_range out, uint32_t n_rows,
                             uint32_t n_cols, float eps, vkmm_error *err);

#endif
