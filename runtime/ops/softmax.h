/* runtime/ops/softmax.h — row softmax, and the logits helpers sampling needs without reading all logits back:
 * top-k (k <= 64) and argmax as (id, value) pairs, and log-sum-exp (so log p = logit − lse). */
#ifndef VKMM_OPS_SOFTMAX_H
#define VKMM_OPS_SOFTMAX_H

#include "ops.h"

#define VKMM_TOPK_MAX 64

/* One entry of a top-k / argmax result as the device writes it. */
typedef struct vkmm_logit {
    uint32_t id;
    float value;
} vkmm_logit;

/* out[r][:] = softmax(scale · x[r][:]) over packed rows × cols; out may be x. */
vkmm_status vkmm_op_softmax(vkmm_ops *ops, vkmm_cmd *cmd, vkmm_range x, vkmm_range out, uint32_t rows, uint32_t cols,
                            float scale, vkmm_error *err);

/* Bytes of scratch the logits helpers below need for rows × n logits and k entries (k = 1 for argmax and
 * log-sum-exp), with this ops context's tuning. */
uint64_t vkmm_op_logits_scratch_bytes(const vkmm_ops *ops, uint32_t n, uint32_t rows, uint32_t k);

/* The k largest of each row of packed rows × n logits, sorted by value descending, equal values by lower id:
 * out holds rows × k vkmm_logit. NaN logits rank as −inf. */
vkmm_status vkmm_op_topk(vkmm_ops *ops, vkmm_cmd *cmd, vkmm_range logits, vkmm_range scratch, vkmm_range out,
                         uint32_t n, uint32_t rows, uint32_t k, vkmm_error *err);
/* topk with k = 1: the lowest id of the largest value. */
vkmm_status vkmm_op_argmax(vkmm_ops *ops, vkmm_cmd *cmd, vkmm_range logits, vkmm_range scratch, vkmm_range out,
                           uint32_t n, uint32_t rows, vkmm_error *err);
/* out[r] = log Σ_i exp(scale · logits[r][i]) (max-shifted; NaN skipped; −inf for a row of −inf, +inf for a row
 * holding +inf); scale > 0. */
vkmm_status vkmm_op_logsumexp(vkmm_ops *ops, vkmm_cmd *cmd, vkmm_range logits, vkmm_range scratch, vkmm_range out,
                              uint32_t n, uint32_t rows, float scale, vkmm_error *err);

/* The same for rows x_stride floats apart, results out_stride entries (vkmm_logit for top-k, floats for
 * log-sum-exp) apart: the rows of several sequences in one call. */
vkmm_status vkmm_op_topk_strided(vkmm_ops *ops, vkmm_cmd *cmd, vkmm_range logits, uint32_t x_stride,
                                 vkmm_range scratch, vkmm_range out, uint32_t out_stride, uint32_t n, uint32_t rows,
                                 uint32_t k, vkmm_error *err);
vkmm_status vkmm_op_logsumexp_strided(vkmm_ops *ops, vkmm_cmd *cmd, vkmm_range logits, uint32_t x_stride,
                                      vkmm_range scratch, vkmm_range out, uint32_t out_stride, uint32_t n,
                                      uint32_t rows, float scale, vkmm_error *err);

#endif
