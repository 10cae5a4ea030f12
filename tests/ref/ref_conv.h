/* tests/ref/ref_conv.h — plain-C references of the convolution family, in float64, written from PyTorch's
 * definitions (cross-correlation, zero padding; a causal depthwise Conv1d as left padding by k − 1). */
#ifndef VKMM_TEST_REF_CONV_H
#define VKMM_TEST_REF_CONV_H

#include "conv.h"

/* in [in_h][in_w][in_ch], w [out_ch][in_ch][k_h][k_w], b [out_ch] or NULL -> out [out_h][out_w][out_ch]; with norm
 * (not NULL) each position's channels through LayerNorm (weight norm, no bias, eps) and ReLU */
void ref_conv2d(const vkmm_conv2d_shape *s, const float *in, const float *w, const float *b, const float *norm,
                double eps, float *out);
/* in [n_t][ch], w [ch][k] -> out [n_t][ch] */
void ref_conv1d_causal_dw(const float *in, const float *w, float *out, uint32_t n_t, uint32_t ch, uint32_t k);

#endif
