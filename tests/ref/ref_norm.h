/* tests/ref/ref_norm.h — plain-C references of the norm family (float64 accumulation). */
#ifndef VKMM_TEST_REF_NORM_H
#define VKMM_TEST_REF_NORM_H

#include <stddef.h>

/* Packed rows × cols; w (and b) may be NULL. out may equal x. */
void ref_rms_norm(const float *x, const float *w, float *out, size_t rows, size_t cols, float eps);
void ref_layer_norm(const float *x, const float *w, const float *b, float *out, size_t rows, size_t cols, float eps);

#endif
