/* tests/ref/ref_layout.c — layout references: an odometer over the copy's index space, the merge and the pooling
 * from their definitions. */
#include "ref_layout.h"

void ref_copy_nd(const float *in, float *out, uint32_t n_dims, const uint32_t *ne, const uint32_t *si,
                 const uint32_t *so)
{
    uint32_t idx[8] = {0};
    for (;;) {
        size_t a = 0, o = 0;
        for (uint32_t d = 0; d < n_dims; d++) {
            a += (size_t)idx[d] * si[d];
            o += (size_t)idx[d] * so[d];
        }
        out[o] = in[a];
        uint32_t d = 0;
        while (d < n_dims && ++idx[d] == ne[d])
            idx[d++] = 0;
        if (d == n_dims)
            return;
    }
}

void ref_patch_merge(const float *x, float *m, size_t gh, size_t gw, size_t ch, size_t s)
{
    size_t mh = gh / s, mw = gw / s, width = ch * s * s;
    for (size_t R = 0; R < mh; R++)
        for (size_t C = 0; C < mw; C++)
            for (size_t c = 0; c < ch; c++)
                for (size_t i = 0; i < s; i++)
                    for (size_t j = 0; j < s; j++)
                        m[(R * mw + C) * width + c * s * s + s * i + j] = x[((s * R + i) * gw + s * C + j) * ch + c];
}

void ref_avg_pool(const float *x, float *out, size_t gh, size_t gw, size_t ch, size_t kh, size_t kw)
{
    size_t oh = gh / kh, ow = gw / kw;
    for (size_t R = 0; R < oh; R++)
        for (size_t C = 0; C < ow; C++)
            for (size_t c = 0; c < ch; c++) {
                double s = 0;
                for (size_t y = 0; y < kh; y++)
                    for (size_t xx = 0; xx < kw; xx++)
                        s += x[((R * kh + y) * gw + C * kw + xx) * ch + c];
                out[(R * ow + C) * ch + c] = (float)(s / (double)(kh * kw));
            }
}
