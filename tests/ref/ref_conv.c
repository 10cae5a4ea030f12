/* tests/ref/ref_conv.c — references for the convolution family: sums in double, one rounding at the end. */
#include <math.h>
#include <stdlib.h>

#include "ref_conv.h"

void ref_conv2d(const vkmm_conv2d_shape *s, const float *in, const float *w, const float *b, const float *norm,
                double eps, float *out)
{
    uint32_t oh = vkmm_conv_out_size(s->in_h, s->k_h, s->stride_h, s->pad_h);
    uint32_t ow = vkmm_conv_out_size(s->in_w, s->k_w, s->stride_w, s->pad_w);
    double *v = malloc(sizeof *v * s->out_ch);
    for (uint32_t y = 0; y < oh; y++)
        for (uint32_t x = 0; x < ow; x++) {
            for (uint32_t o = 0; o < s->out_ch; o++) {
                double acc = b ? b[o] : 0.0;
                for (uint32_t c = 0; c < s->in_ch; c++)
                    for (uint32_t i = 0; i < s->k_h; i++)
                        for (uint32_t j = 0; j < s->k_w; j++) {
                            long yy = (long)y * s->stride_h - s->pad_h + i, xx = (long)x * s->stride_w - s->pad_w + j;
                            if (yy < 0 || xx < 0 || yy >= s->in_h || xx >= s->in_w)
                                continue;
                            acc += (double)w[(((size_t)o * s->in_ch + c) * s->k_h + i) * s->k_w + j] *
                                   in[((size_t)yy * s->in_w + xx) * s->in_ch + c];
                        }
                v[o] = acc;
            }
            double mean = 0, var = 0;
            for (uint32_t o = 0; o < s->out_ch; o++)
                mean += v[o] / s->out_ch;
            for (uint32_t o = 0; o < s->out_ch; o++)
                var += (v[o] - mean) * (v[o] - mean) / s->out_ch;
            for (uint32_t o = 0; o < s->out_ch; o++) {
                double r = norm ? (v[o] - mean) / sqrt(var + eps) * norm[o] : v[o];
                out[((size_t)y * ow + x) * s->out_ch + o] = (float)(norm && r < 0 ? 0 : r);
            }
        }
    free(v);
}

void ref_conv1d_causal_dw(const float *in, const float *w, float *out, uint32_t n_t, uint32_t ch, uint32_t k)
{
    for (uint32_t t = 0; t < n_t; t++)
        for (uint32_t c = 0; c < ch; c++) {
            double acc = 0;
            /* the input padded with k − 1 zeros in front, then correlated with the kernel */
            for (uint32_t j = 0; j < k; j++) {
                long src = (long)t + j - (long)(k - 1);
                if (src >= 0)
                    acc += (double)w[(size_t)c * k + j] * in[(size_t)src * ch + c];
            }
            out[(size_t)t * ch + c] = (float)acc;
        }
}
