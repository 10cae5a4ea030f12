/* tests/ref/ref_matmul.c — the matrix family's references: dequantize with the loader's CPU code, sum in double. */
#include <stdlib.h>

#include "dtype_table.h"
#include "ref_matmul.h"

void ref_matmul(uint32_t type, const void *w, uint32_t rows, uint32_t k, const float *x, uint32_t x_stride,
                uint32_t n_cols, float *y, uint32_t y_stride)
{
    float *row = malloc(sizeof *row * k);
    uint64_t rb = vkmm_dtype_row_bytes(type, k);
    for (uint32_t m = 0; m < rows; m++) {
        vkmm_dequantize(type, (const uint8_t *)w + m * rb, row, k);
        for (uint32_t n = 0; n < n_cols; n++) {
            double s = 0;
            for (uint32_t i = 0; i < k; i++)
                s += (double)row[i] * x[(uint64_t)n * x_stride + i];
            y[(uint64_t)n * y_stride + m] = (float)s;
        }
    }
    free(row);
}

void ref_patch_embed(const float *w, const float *bias, uint32_t n_out, const float *img, uint32_t channels,
                     uint32_t height, uint32_t width, uint32_t patch, float *out)
{
    uint32_t gw = width / patch, gh = height / patch, kk = channels * patch * patch;
    for (uint32_t py = 0; py < gh; py++)
        for (uint32_t px = 0; px < gw; px++)
            for (uint32_t o = 0; o < n_out; o++) {
                double s = bias ? bias[o] : 0.0;
                for (uint32_t c = 0; c < channels; c++)
                    for (uint32_t ky = 0; ky < patch; ky++)
                        for (uint32_t kx = 0; kx < patch; kx++)
                            s += (double)w[(uint64_t)o * kk + (c * patch + ky) * patch + kx] *
                                 img[((uint64_t)c * height + py * patch + ky) * width + px * patch + kx];
                out[((uint64_t)py * gw + px) * n_out + o] = (float)s;
            }
}
