/* runtime/ops/moe.h — the mixture-of-experts pieces around the expert matrices (which are matmul.h's
 * vkmm_op_matmul_id): the router's choice, the routed pairs grouped by expert, the weighted sum of the experts'
 * outputs. A routing of n tokens to k experts each is n·k (token, slot) pairs, pair a = t·k + j. */
#ifndef VKMM_OPS_MOE_H
#define VKMM_OPS_MOE_H

#include "ops.h"

#define VKMM_MOE_MAX_K 32
#define VKMM_MOE_MAX_EXPERTS 1024

/* For each of n_rows rows of n_expert logits (rows l_stride floats apart): the k largest (ties to the lower
 * expert) into ids (int32 [n_rows][k], largest first) and their softmax renormalised over the k, times
 * scale[expert] when scale is given (size 0: none), into weights (f32 [n_rows][k]). */
vkmm_status vkmm_op_moe_route(vkmm_ops *ops, vkmm_cmd *cmd, vkmm_range logits, uint32_t l_stride, uint32_t n_rows,
                              uint32_t n_expert, uint32_t k, vkmm_range scale, vkmm_range ids, vkmm_range weights,
                              vkmm_error *err);

/* Bytes of the grouping of n_pairs pairs over n_expert experts: (n_expert + 1 + n_pairs) u32. */
uint64_t vkmm_moe_group_bytes(uint32_t n_expert, uint32_t n_pairs);
/* groups = [n_expert + 1] offsets, then the pair indices of expert 0, of expert 1, ... (ids: int32 [n_pairs]). */
vkmm_status vkmm_op_moe_group(vkmm_ops *ops, vkmm_cmd *cmd, vkmm_range ids, uint32_t n_pairs, uint32_t n_expert,
                              vkmm_range groups, vkmm_error *err);

/* out[t][h] = Σ_j weights[t][j] · y[t·k + j][h] for t < n_rows, h < width (rows of y and out packed). */
vkmm_status vkmm_op_moe_combine(vkmm_ops *ops, vkmm_cmd *cmd, vkmm_range y, vkmm_range weights, uint32_t n_rows,
                                uint32_t width, uint32_t k, vkmm_range out, vkmm_error *err);

#endif
