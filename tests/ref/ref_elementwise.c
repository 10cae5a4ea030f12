/* tests/ref/ref_elementwise.c — references for the elementwise family. */
#include "f16.h"
#include "ref_elementwise.h"

void ref_add(const float *a, const float *b, float *out, size_t n, size_t b_period)
{
    for (size_t i = 0; i < n; i++)
        out[i] = a[i] + b[i % b_period];
}

void ref_sub(const float *a, const float *b, float *out, size_t n, size_t b_period)
{
    for (size_t i = 0; i < n; i++)
        out[i] = a[i] - b[i % b_period];
}

void ref_mul(const float *a, const float *b, float *out, size_t n, size_t b_period)
{
    for (size_t i = 0; i < n; i++)
        out[i] = a[i] * b[i % b_period];
}

void ref_scale(const float *a, float *out, size_t n, float s)
{
    for (size_t i = 0; i < n; i++)
        out[i] = a[i] * s;
}

void ref_clamp(const float *a, float *out, size_t n, float lo, float hi)
{
    for (size_t i = 0; i < n; i++)
        out[i] = a[i] < lo ? lo : a[i] > hi ? hi : a[i];
}

void ref_f32_to_f16(const float *a, uint16_t *out, size_t n)
{
    for (size_t i = 0; i < n; i++)
        out[i] = vkmm_f32_to_f16(a[i]);
}

void ref_f16_to_f32(const uint16_t *a, float *out, size_t n)
{
    for (size_t i = 0; i < n; i++)
        out[i] = vkmm_f16_to_f32(a[i]);
}
