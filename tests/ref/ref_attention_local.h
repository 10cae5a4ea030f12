/* tests/ref/ref_attention_local.h — plain-C references of the local attention family in float64: the windowed
 * relative-position attention of runtime/ops/attention_local.h written query by query from its formula, and the
 * sinusoid table. */
#ifndef VKMM_TEST_REF_ATTENTION_LOCAL_H
#define VKMM_TEST_REF_ATTENTION_LOCAL_H

#include "attention_local.h"

/* rel and dim_scale may be NULL (no position term, no per-dimension scale). */
void ref_attention_local(const vkmm_attention_local_params *p, const float *q, const float *k, const float *v,
                         const float *rel, const float *dim_scale, float *o);
void ref_sinusoid(float *out, uint32_t rows, uint32_t half, int32_t pos0, int32_t step, double log_inc);

#endif
