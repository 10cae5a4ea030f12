/* runtime/ops/conv.h — convolutions over channels-last data: a 2-D convolution with stride and zero padding
 * (Gemma 4's audio subsampling, with the LayerNorm over channels and ReLU that follow it) and a causal depthwise
 * 1-D convolution over time (its light convolution module).
 * Weights are f32 ranges in PyTorch's layout, which is also how GGUF files hold them. */
#ifndef VKMM_OPS_CONV_H
#define VKMM_OPS_CONV_H

#include "ops.h"

typedef struct vkmm_conv2d_shape {
    uint32_t in_h, in_w, in_ch;    /* input [in_h][in_w][in_ch] */
    uint32_t out_ch;
    uint32_t k_h, k_w;             /* kernel */
    uint32_t stride_h, stride_w;   /* >= 1 */
    uint32_t pad_h, pad_w;         /* zeros on both sides */
} vkmm_conv2d_shape;

/* Output side: (in + 2·pad − k) / stride + 1 (0 when the kernel does not fit). */
uint32_t vkmm_conv_out_size(uint32_t in, uint32_t k, uint32_t stride, uint32_t pad);

/* out[y][x][o] = b[o] + Σ_{c,i,j} W[o][c][i][j] · in[y·sh − ph + i][x·sw − pw + j][c] (zero outside the input),
 * for y < out_h, x < out_w (vkmm_conv_out_size), then, when norm has out_ch floats, a LayerNorm over each
 * position's out_ch channels (weight norm, no bias, eps) and ReLU. The kernel wt is f32 with the output channel
 * innermost, wt[c][i][j][o] (vkmm_conv2d_weight_layout turns PyTorch's / GGUF's [o][c][i][j] into it); b has
 * out_ch floats, or size 0 for none. out must not overlap in. With the norm, two dispatches. */
vkmm_status vkmm_op_conv2d(vkmm_ops *ops, vkmm_cmd *cmd, const vkmm_conv2d_shape *s, vkmm_range in, vkmm_range wt,
                           vkmm_range b, vkmm_range norm, float eps, vkmm_range out, vkmm_error *err);
/* The copy that makes wt from W [out_ch][in_ch][k_h][k_w] (GGUF ne = {k_w, k_h, in_ch, out_ch}): index
 * (o, r) for r < in_ch·k_h·k_w goes from element o·R + r to r·out_ch + o (a vkmm_op_copy shape). */
void vkmm_conv2d_weight_layout(const vkmm_conv2d_shape *s, uint32_t ne[2], uint32_t in_stride[2],
                               uint32_t out_stride[2]);

/* out[t][c] = Σ_{j<k} W[c][j] · in[t − (k−1) + j][c] over t < n_t, c < ch, zero before t = 0: a causal depthwise
 * convolution (PyTorch's Conv1d with groups = ch after k−1 zeros on the left). W is f32 [ch][k] (GGUF ne = {k, ch}).
 * out must not overlap in. */
vkmm_status vkmm_op_conv1d_causal_dw(vkmm_ops *ops, vkmm_cmd *cmd, vkmm_range in, vkmm_range w, vkmm_range out,
                                     uint32_t n_t, uint32_t ch, uint32_t k, vkmm_error *err);

#endif
