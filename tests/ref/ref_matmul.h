/* tests/ref/ref_matmul.h — references for the matrix family, accumulating in float64. */
#ifndef VKMM_TEST_REF_MATMUL_H
#define VKMM_TEST_REF_MATMUL_H

#include <stdint.h>

/* y[n][m] = Σ_k W[m][k]·x[n][k], W given as raw rows of `type` (dequantized with vkmm_dequantize). */
void ref_matmul(uint32_t type, const void *w, uint32_t rows, uint32_t k, const float *x, uint32_t x_stride,
                uint32_t n_cols, float *y, uint32_t y_stride);
/* out[t][o] = bias[o] + Σ W[o][c][ky][kx]·img[c][py·P+ky][px·P+kx]; W f32 [out][c·P·P]; bias may be NULL. */
void ref_patch_embed(const float *w, const float *bias, uint32_t n_out, const float *img, uint32_t channels,
                     uint32_t height, uint32_t width, uint32_t patch, float *out);

#endif
