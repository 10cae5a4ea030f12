/* tests/ref/ref_elementwise.h — plain-C references of the elementwise family. */
#ifndef VKMM_TEST_REF_ELEMENTWISE_H
#define VKMM_TEST_REF_ELEMENTWISE_H

#include <stddef.h>
#include <stdint.h>

/* elementwise */
void ref_add(const float *a, const float *b, float *out, size_t n, size_t b_period);
void ref_sub(const float *a, const float *b, float *out, size_t n, size_t b_period);
void ref_mul(const float *a, const float *b, float *out, size_t n, size_t b_period);
void ref_scale(const float *a, float *out, size_t n, float s);
void ref_clamp(const float *a, float *out, size_t n, float lo, float hi);
void ref_f32_to_f16(const float *a, uint16_t *out, size_t n);
void ref_f16_to_f32(const uint16_t *a, float *out, size_t n);

#endif
