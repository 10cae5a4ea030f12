/* tests/ref/ref_math.h — the double-precision building blocks the whole-model references share: RMSNorm and
 * LayerNorm of a vector, a matrix-vector product, f16 rounding of what a GPU cache stores, the span rule of media
 * rows. */
#ifndef VKMM_TEST_REF_MATH_H
#define VKMM_TEST_REF_MATH_H

#include <stdbool.h>
#include <stdint.h>

#include "ref_model.h"

/* y = x / sqrt(mean(x²) + eps) · w (w NULL: no weight); y may be x. */
void ref_rmsnorm_d(const double *x, const float *w, uint32_t n, float eps, double *y);
/* y = (x - mean) / sqrt(var + eps) · w + b; y may be x. */
void ref_layernorm_d(const double *x, const float *w, const float *b, uint32_t n, float eps, double *y);
/* y[o] = Σ W[o][i] x[i] (+ b[o]); W is [rows][k] row-major, b may be NULL. */
void ref_linear_d(const float *w, const float *b, const double *x, uint32_t k, uint32_t rows, double *y);
/* Whether positions p and q lie in one of the spans (an image's rows, which see each other). */
bool ref_same_span(const ref_span *spans, uint32_t n, uint32_t p, uint32_t q);
/* v rounded to the nearest f16, as an F16 KV cache holds it. */
double ref_f16_round(double v);

#endif
