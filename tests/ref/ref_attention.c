/* tests/ref/ref_attention.c — float64 attention over every cache slot with the mask rule spelled out per key
 * (no tiles, no intervals), and the CPU version of the KV store. */
#include <math.h>
#include <stdlib.h>

#include "f16.h"
#include "dtype_table.h"
#include "ref_attention.h"

void ref_kv_decode(const vkmm_kv_layout *kv, const void *cache, float *out)
{
    uint64_t rows = (uint64_t)kv->n_kv_head * kv->capacity, row_bytes = vkmm_kv_row_bytes(kv);
    const uint8_t *b = cache;
    for (uint64_t r = 0; r < rows; r++) {
        const uint8_t *src = b + r * row_bytes;
        float *dst = out + r * kv->head_dim;
        if (kv->type == VKMM_F16)
            for (uint32_t d = 0; d < kv->head_dim; d++)
                dst[d] = vkmm_f16_to_f32((uint16_t)(src[2 * d] | src[2 * d + 1] << 8));
        else
            vkmm_dequantize(kv->type, src, dst, kv->head_dim);
    }
}

static int64_t floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

int ref_kv_slot_position(const vkmm_kv_layout *kv, uint32_t kv_len, uint32_t s, int64_t *pos)
{
    if (!kv->ring) {
        *pos = s;
        return s < kv_len;
    }
    int64_t r = kv->ring, last = (int64_t)kv_len - 1;
    if (s >= kv->ring)
        return 0;
    *pos = s + r * floor_div(last - s, r);
    return *pos >= 0 && *pos > last - r;
}

static int same_span(const uint32_t *spans, uint32_t n, int64_t a, int64_t b)
{
    for (uint32_t i = 0; i < n; i++)
        if (spans[2 * i] <= a && a < spans[2 * i + 1] && spans[2 * i] <= b && b < spans[2 * i + 1])
            return 1;
    return 0;
}

void ref_attention(const vkmm_attention_params *p, const float *q, const float *k, const float *v,
                   const uint32_t *spans, float *o)
{
    uint32_t d_h = p->kv.head_dim, group = p->n_head / p->kv.n_kv_head, cap = p->kv.capacity;
    double *w = malloc(sizeof(double) * cap);
    double *acc = malloc(sizeof(double) * d_h);
    for (uint32_t i = 0; i < p->n_q; i++) {
        int64_t pq = (int64_t)p->q_pos0 + i;
        for (uint32_t j = 0; j < p->n_head; j++) {
            const float *qr = q + ((uint64_t)i * p->n_head + j) * d_h;
            uint32_t kvh = j / group;
            double m = -INFINITY;
            for (uint32_t s = 0; s < cap; s++) {
                int64_t pk;
                w[s] = -INFINITY;
                if (!ref_kv_slot_position(&p->kv, p->kv_len, s, &pk))
                    continue;
                int span = same_span(spans, p->n_spans, pq, pk);
                int in_window = p->window == 0 || pq - pk < p->window;
                int allowed = (!p->causal || pk <= pq || span) && (in_window || (span && !p->spans_in_window));
                if (!allowed)
                    continue;
                const float *kr = k + ((uint64_t)kvh * cap + s) * d_h;
                double dot = 0;
                for (uint32_t d = 0; d < d_h; d++)
                    dot += (double)qr[d] * kr[d];
                double sc = p->scale * dot;
                if (p->softcap > 0)
                    sc = p->softcap * tanh(sc / p->softcap);
                w[s] = sc;
                if (sc > m)
                    m = sc;
            }
            double sum = 0;
            for (uint32_t d = 0; d < d_h; d++)
                acc[d] = 0;
            if (m != -INFINITY)
                for (uint32_t s = 0; s < cap; s++) {
                    if (w[s] == -INFINITY)
                        continue;
                    double e = exp(w[s] - m);
                    sum += e;
                    const float *vr = v + ((uint64_t)kvh * cap + s) * d_h;
                    for (uint32_t d = 0; d < d_h; d++)
                        acc[d] += e * vr[d];
                }
            float *orow = o + ((uint64_t)i * p->n_head + j) * d_h;
            for (uint32_t d = 0; d < d_h; d++)
                orow[d] = sum > 0 ? (float)(acc[d] / sum) : 0.0f;
        }
    }
    free(w);
    free(acc);
}

void ref_kv_encode_row(const vkmm_kv_layout *kv, const float *x, uint8_t *dst)
{
    if (kv->type == VKMM_F16)
        for (uint32_t d = 0; d < kv->head_dim; d++) {
            uint16_t b = vkmm_f32_to_f16(x[d]);
            dst[2 * d] = (uint8_t)b;
            dst[2 * d + 1] = (uint8_t)(b >> 8);
        }
    else
        vkmm_quantize(kv->type, x, dst, kv->head_dim);
}

void ref_kv_store(const vkmm_kv_layout *kv, const float *src, uint32_t pos0, uint32_t n, uint8_t *cache)
{
    uint64_t row_bytes = vkmm_kv_row_bytes(kv);
    for (uint32_t i = 0; i < n; i++) {
        uint32_t pos = pos0 + i, slot = kv->ring ? pos % kv->ring : pos;
        for (uint32_t h = 0; h < kv->n_kv_head; h++) {
            const float *x = src + ((uint64_t)i * kv->n_kv_head + h) * kv->head_dim;
            ref_kv_encode_row(kv, x, cache + ((uint64_t)h * kv->capacity + slot) * row_bytes);
        }
    }
}
