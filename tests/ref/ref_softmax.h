/* tests/ref/ref_softmax.h — plain-C references of the softmax family: row softmax, top-k, log-sum-exp. */
#ifndef VKMM_TEST_REF_SOFTMAX_H
#define VKMM_TEST_REF_SOFTMAX_H

#include <stddef.h>
#include <stdint.h>

void ref_softmax(const float *x, float *out, size_t rows, size_t cols, float scale);
/* The k largest of x[0..n) by value descending, equal values by lower id; NaN ranks as −inf. */
void ref_topk(const float *x, size_t n, size_t k, uint32_t *ids, float *vals);
/* log Σ exp(scale · x) in float64, NaN skipped; ±inf when the largest term is ±inf. */
double ref_logsumexp(const float *x, size_t n, float scale);

#endif
