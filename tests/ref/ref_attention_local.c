/* tests/ref/ref_attention_local.c — references for the local attention family: every sum in double. */
#include <math.h>
#include <stdlib.h>

#include "ref_attention_local.h"

void ref_attention_local(const vkmm_attention_local_params *p, const float *q, const float *k, const float *v,
                         const float *rel, const float *dim_scale, float *o)
{
    uint32_t H = p->n_head, D = p->head_dim;
    double *s = malloc(sizeof *s * p->n), *qs = malloc(sizeof *qs * D);
    for (uint32_t i = 0; i < p->n; i++)
        for (uint32_t h = 0; h < H; h++) {
            const float *qi = q + ((size_t)i * H + h) * D;
            for (uint32_t d = 0; d < D; d++)
                qs[d] = (double)qi[d] * p->q_scale * (dim_scale ? dim_scale[d] : 1.0);
            double m = -INFINITY;
            for (uint32_t j = 0; j < p->n; j++) {
                long dist = (long)i - (long)j; /* how far back key j is */
                s[j] = NAN;
                if (!(dist >= 0 && dist < (long)p->left) && !(dist < 0 && -dist < (long)p->right))
                    continue;
                const float *kj = k + ((size_t)j * H + h) * D;
                double dot = 0, pos = 0;
                for (uint32_t d = 0; d < D; d++)
                    dot += qs[d] * (double)kj[d] * p->k_scale;
                long r = (long)p->rel_offset - dist;
                if (rel && r >= 0 && r < (long)p->n_rel)
                    for (uint32_t d = 0; d < D; d++)
                        pos += qs[d] * rel[((size_t)r * H + h) * D + d];
                double x = dot + pos;
                if (p->softcap > 0)
                    x = p->softcap * tanh(x / p->softcap);
                s[j] = x;
                if (x > m)
                    m = x;
            }
            double sum = 0;
            for (uint32_t j = 0; j < p->n; j++)
                if (!isnan(s[j]))
                    sum += exp(s[j] - m);
            for (uint32_t d = 0; d < D; d++) {
                double acc = 0;
                for (uint32_t j = 0; j < p->n; j++)
                    if (!isnan(s[j]))
                        acc += exp(s[j] - m) / sum * v[((size_t)j * H + h) * D + d];
                o[((size_t)i * H + h) * D + d] = (float)acc;
            }
        }
    free(s);
    free(qs);
}

void ref_sinusoid(float *out, uint32_t rows, uint32_t half, int32_t pos0, int32_t step, double log_inc)
{
    for (uint32_t r = 0; r < rows; r++)
        for (uint32_t i = 0; i < half; i++) {
            double a = (double)(pos0 + (int32_t)r * step) * exp(-(double)i * log_inc);
            out[(size_t)r * 2 * half + i] = (float)sin(a);
            out[(size_t)r * 2 * half + half + i] = (float)cos(a);
        }
}
