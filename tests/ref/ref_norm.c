/* tests/ref/ref_norm.c — references for the norm family: sums in double, one rounding to float at the end. */
#include <math.h>

#include "ref_norm.h"

static void norm_rows(const float *x, const float *w, const float *b, float *out, size_t rows, size_t cols,
                      float eps, int centre)
{
    for (size_t r = 0; r < rows; r++) {
        const float *xr = x + r * cols;
        double mean = 0;
        if (centre) {
            for (size_t i = 0; i < cols; i++)
                mean += xr[i];
            mean /= (double)cols;
        }
        double sq = 0;
        for (size_t i = 0; i < cols; i++)
            sq += (xr[i] - mean) * (xr[i] - mean);
        double s = 1.0 / sqrt(sq / (double)cols + eps);
        for (size_t i = 0; i < cols; i++) {
            double v = (xr[i] - mean) * s;
            if (w)
                v *= w[i];
            if (b)
                v += b[i];
            out[r * cols + i] = (float)v;
        }
    }
}

void ref_rms_norm(const float *x, const float *w, float *out, size_t rows, size_t cols, float eps)
{
    norm_rows(x, w, NULL, out, rows, cols, eps, 0);
}

void ref_layer_norm(const float *x, const float *w, const float *b, float *out, size_t rows, size_t cols, float eps)
{
    norm_rows(x, w, b, out, rows, cols, eps, 1);
}
