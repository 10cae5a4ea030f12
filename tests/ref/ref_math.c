/* tests/ref/ref_math.c — see ref_math.h. */
#include <math.h>

#include "f16.h"
#include "ref_math.h"

void ref_rmsnorm_d(const double *x, const float *w, uint32_t n, float eps, double *y)
{
    double ss = 0;
    for (uint32_t i = 0; i < n; i++)
        ss += x[i] * x[i];
    double r = 1.0 / sqrt(ss / n + eps);
    for (uint32_t i = 0; i < n; i++)
        y[i] = x[i] * r * (w ? w[i] : 1.0f);
}

void ref_layernorm_d(const double *x, const float *w, const float *b, uint32_t n, float eps, double *y)
{
    double mean = 0, var = 0;
    for (uint32_t i = 0; i < n; i++)
        mean += x[i];
    mean /= n;
    for (uint32_t i = 0; i < n; i++)
        var += (x[i] - mean) * (x[i] - mean);
    var /= n;
    double r = 1.0 / sqrt(var + eps);
    for (uint32_t i = 0; i < n; i++)
        y[i] = (x[i] - mean) * r * w[i] + b[i];
}

void ref_linear_d(const float *w, const float *b, const double *x, uint32_t k, uint32_t rows, double *y)
{
    for (uint32_t o = 0; o < rows; o++) {
        double s = b ? b[o] : 0.0;
        const float *r = w + (uint64_t)o * k;
        for (uint32_t i = 0; i < k; i++)
            s += r[i] * x[i];
        y[o] = s;
    }
}

double ref_f16_round(double v)
{
    return vkmm_f16_to_f32(vkmm_f32_to_f16((float)v));
}

bool ref_same_span(const ref_span *spans, uint32_t n, uint32_t p, uint32_t q)
{
    for (uint32_t i = 0; i < n; i++)
        if (p >= spans[i].start && p < spans[i].end && q >= spans[i].start && q < spans[i].end)
            return true;
    return false;
}
