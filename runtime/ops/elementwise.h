/* runtime/ops/elementwise.h — add, sub and mul with row broadcast, scale, clamp, f32 <-> f16 conversion. */
#ifndef VKMM_OPS_ELEMENTWISE_H
#define VKMM_OPS_ELEMENTWISE_H

#include "ops.h"

/* out[i] = a[i] + b[i % b_period] for i < n; b_period = n for plain elementwise, < n broadcasts rows. */
vkmm_status vkmm_op_add(vkmm_ops *ops, vkmm_cmd *cmd, vkmm_range a, vkmm_range b, vkmm_range out, uint32_t n,
                        uint32_t b_period, vkmm_error *err);
vkmm_status vkmm_op_sub(vkmm_ops *ops, vkmm_cmd *cmd, vkmm_range a, vkmm_range b, vkmm_range out, uint32_t n,
                        uint32_t b_period, vkmm_error *err);
vkmm_status vkmm_op_mul(vkmm_ops *ops, vkmm_cmd *cmd, vkmm_range a, vkmm_range b, vkmm_range out, uint32_t n,
                        uint32_t b_period, vkmm_error *err);
/* out[i] = a[i] * s; a and out may be the same range. */
vkmm_status vkmm_op_scale(vkmm_ops *ops, vkmm_cmd *cmd, vkmm_range a, vkmm_range out, uint32_t n, float s,
                          vkmm_error *err);
/* out[i] = min(max(a[i], lo), hi), NaN staying NaN; in place allowed. lo <= hi. */
vkmm_status vkmm_op_clamp(vkmm_ops *ops, vkmm_cmd *cmd, vkmm_range a, vkmm_range out, uint32_t n, float lo, float hi,
                          vkmm_error *err);
/* Converts n elements between F32 and F16 (either direction). */
vkmm_status vkmm_op_convert(vkmm_ops *ops, vkmm_cmd *cmd, vkmm_range a, vkmm_dtype a_type, vkmm_range out,
                            vkmm_dtype out_type, uint32_t n, vkmm_error *err);

#endif
