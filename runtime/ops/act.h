/* runtime/ops/act.h — activations (GELU tanh and erf, SiLU, erf, tanh, ReLU, sigmoid) elementwise, and gated units
 * out = act(gate) · up (GeGLU, SwiGLU, GLU) from two buffers, from [gate | up] rows or from either half of one row. */
#ifndef VKMM_OPS_ACT_H
#define VKMM_OPS_ACT_H

#include "ops.h"

typedef enum vkmm_act {
    VKMM_ACT_GELU_TANH,  /* 0.5 x (1 + tanh(√(2/π)(x + 0.044715 x³))) */
    VKMM_ACT_GELU_ERF,   /* 0.5 x (1 + erf(x/√2)) */
    VKMM_ACT_SILU,       /* x / (1 + e^−x) */
    VKMM_ACT_ERF,        /* erf(x) itself (elementwise only), relative error <= 1e-6 */
    VKMM_ACT_TANH,       /* tanh(x) (elementwise only: soft-capping), absolute error ~1e-7 */
    VKMM_ACT_RELU,       /* max(x, 0) */
    VKMM_ACT_SIGMOID,    /* 1 / (1 + e^−x): with the gate in the second half, torch's glu (Gemma 4's audio) */
    VKMM_ACT_COUNT
} vkmm_act;

/* out[i] = act(x[i]) for i < n; out may be x (in place). */
vkmm_status vkmm_op_act(vkmm_ops *ops, vkmm_cmd *cmd, vkmm_act act, vkmm_range x, vkmm_range out, uint32_t n,
                        vkmm_error *err);

/* out[r][c] = act(gate[r][c]) · up[r][c] over packed rows × cols; out may be gate or up (in place). */
vkmm_status vkmm_op_glu(vkmm_ops *ops, vkmm_cmd *cmd, vkmm_act act, vkmm_range gate, vkmm_range up, vkmm_range out,
                        uint32_t rows, uint32_t cols, vkmm_error *err);

/* The same from rows [gate (cols) | up (cols)] of width 2·cols, as one fused gate+up matmul writes them;
 * out (rows × cols, packed) must not overlap gate_up. */
vkmm_status vkmm_op_glu_fused(vkmm_ops *ops, vkmm_cmd *cmd, vkmm_act act, vkmm_range gate_up, vkmm_range out,
                              uint32_t rows, uint32_t cols, vkmm_error *err);
/* The same with the gate in either half: rows [x0 | x1] of 2·cols, out = act(x_gate) · x_other, gate_half 0 or 1
 * (torch.nn.functional.glu is gate_half 1 with the sigmoid: x0 · σ(x1)). */
vkmm_status vkmm_op_glu_halves(vkmm_ops *ops, vkmm_cmd *cmd, vkmm_act act, vkmm_range x, uint32_t gate_half,
                               vkmm_range out, uint32_t rows, uint32_t cols, vkmm_error *err);

#endif
