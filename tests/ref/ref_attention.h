/* tests/ref/ref_attention.h — plain-C references of the attention family, in float64: attention with the exact
 * mask rule of runtime/ops/attention.h over dequantized cache values, and the KV store's expected cache bytes. */
#ifndef VKMM_TEST_REF_ATTENTION_H
#define VKMM_TEST_REF_ATTENTION_H

#include <stdint.h>

#include "attention.h"

/* Decodes a whole cache (F16 or Q8_0 bytes, layout kv) to f32 [n_kv_head][capacity][head_dim]. */
void ref_kv_decode(const vkmm_kv_layout *kv, const void *cache, float *out);
/* Whether cache slot s holds a position when the cache holds [0, kv_len); *pos gets that position.
 * A ring slot s holds s + R·floor((kv_len−1−s)/R) when that is >= 0 and > kv_len−1−R. */
int ref_kv_slot_position(const vkmm_kv_layout *kv, uint32_t kv_len, uint32_t s, int64_t *pos);
/* o f32 [n_q][n_head][head_dim] from q (same layout), decoded caches k and v, spans as (start, end) pairs. */
void ref_attention(const vkmm_attention_params *p, const float *q, const float *k, const float *v,
                   const uint32_t *spans, float *o);
/* Encodes one head_dim row of f32 as the cache stores it (f16 round-to-nearest-even, or vkmm_quantize). */
void ref_kv_encode_row(const vkmm_kv_layout *kv, const float *x, uint8_t *dst);
/* Stores n rows src [n][n_kv_head][head_dim] at positions pos0.. into cache bytes as the CPU would
 * (f16 round-to-nearest-even, or vkmm_quantize's Q8_0 blocks). */
void ref_kv_store(const vkmm_kv_layout *kv, const float *src, uint32_t pos0, uint32_t n, uint8_t *cache);

#endif
