/* runtime/engine/sampler.c — the sampling chain of vkmm_sampling, in the order llama.cpp's default chain uses:
 * penalty, top-k, top-p, min-p (on the temperature-free distribution), temperature, draw. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "sampler.h"
#include "sized.h"

VKMM_API void vkmm_sampling_defaults(vkmm_sampling *s, uint32_t size)
{
    if (!s)
        return;
    vkmm_sampling d = {.struct_size = sizeof d, .temperature = 0.8f, .top_k = 40, .top_p = 0.95f, .min_p = 0.05f,
                       .repeat_penalty = 1.0f, .repeat_last_n = 64, .seed = 0};
    size_t n = VKMM_GET_BYTES(vkmm_sampling, size);
    memcpy(s, &d, n);
    s->struct_size = (uint32_t)n; /* n >= 4: a caller's sizeof */
}

static uint64_t next_u64(uint64_t *x)
{
    uint64_t z = (*x += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

vkmm_status vkmm_sampler_init(vkmm_sampler *s, const vkmm_sampling *p, vkmm_error *err)
{
    memset(s, 0, sizeof *s);
    s->p = *p;
    if (s->p.repeat_last_n <= 0)
        s->p.repeat_last_n = 64;
    if (s->p.repeat_last_n > (1 << 20))
        return vkmm_fail(err, VKMM_ERR_INVALID_ARG, "sampling: repeat_last_n %d is over the cap of %d",
                         s->p.repeat_last_n, 1 << 20);
    if (!(p->temperature >= 0) || p->top_k < 0 || !(p->top_p > 0 && p->top_p <= 1) || !(p->min_p >= 0 && p->min_p < 1) ||
        !(p->repeat_penalty > 0))
        return vkmm_fail(err, VKMM_ERR_INVALID_ARG,
                         "sampling: temperature %g, top-k %d, top-p %g, min-p %g, repeat penalty %g out of range "
                         "(temperature >= 0, top-k >= 0, 0 < top-p <= 1, 0 <= min-p < 1, penalty > 0)",
                         p->temperature, p->top_k, p->top_p, p->min_p, p->repeat_penalty);
    s->rng = p->seed;
    s->history = calloc((size_t)s->p.repeat_last_n, sizeof *s->history);
    if (!s->history)
        return vkmm_fail(err, VKMM_ERR_HOST_MEMORY, "out of host memory");
    return VKMM_OK;
}

void vkmm_sampler_free(vkmm_sampler *s)
{
    free(s->history);
    memset(s, 0, sizeof *s);
}

void vkmm_sampler_accept(vkmm_sampler *s, int32_t id)
{
    s->history[s->at] = id;
    s->at = (s->at + 1) % (uint32_t)s->p.repeat_last_n;
    if (s->n_history < (uint32_t)s->p.repeat_last_n)
        s->n_history++;
}

bool vkmm_sampler_needs_all(const vkmm_sampler *s)
{
    if (s->p.temperature == 0)
        return s->p.repeat_penalty != 1.0f; /* a penalty can lift any token past the top few */
    return s->p.top_k == 0 || s->p.top_k > 256 || s->p.repeat_penalty != 1.0f;
}

uint32_t vkmm_sampler_top_needed(const vkmm_sampler *s)
{
    return s->p.temperature == 0 ? 1 : (uint32_t)s->p.top_k;
}

static int by_logit_desc(const void *a, const void *b)
{
    const vkmm_candidate *x = a, *y = b;
    if (x->logit != y->logit)
        return x->logit < y->logit ? 1 : -1;
    return (x->id > y->id) - (x->id < y->id); /* ties: the lower id first, for determinism */
}

int32_t vkmm_sampler_pick(vkmm_sampler *s, vkmm_candidate *c, uint32_t n)
{
    if (n == 0)
        return -1;
    if (s->p.repeat_penalty != 1.0f)
        for (uint32_t i = 0; i < n; i++)
            for (uint32_t h = 0; h < s->n_history; h++)
                if (s->history[h] == c[i].id) {
                    /* the llama.cpp/CTRL rule: shrink positive logits, grow negative ones */
                    c[i].logit = c[i].logit > 0 ? c[i].logit / s->p.repeat_penalty : c[i].logit * s->p.repeat_penalty;
                    break;
                }
    qsort(c, n, sizeof *c, by_logit_desc);
    if (s->p.temperature == 0)
        return c[0].id;
    if (s->p.top_k > 0 && (uint32_t)s->p.top_k < n)
        n = (uint32_t)s->p.top_k;
    /* probabilities at temperature 1 for top-p and min-p */
    double *pr = malloc(sizeof *pr * n);
    if (!pr)
        return c[0].id;
    double sum = 0;
    for (uint32_t i = 0; i < n; i++)
        sum += pr[i] = exp((double)c[i].logit - c[0].logit);
    if (s->p.top_p < 1.0f) {
        double acc = 0;
        for (uint32_t i = 0; i < n; i++) {
            acc += pr[i] / sum;
            if (acc >= s->p.top_p) {
                n = i + 1;
                break;
            }
        }
    }
    if (s->p.min_p > 0) {
        uint32_t keep = 1;
        while (keep < n && pr[keep] >= s->p.min_p * pr[0])
            keep++;
        n = keep;
    }
    sum = 0;
    for (uint32_t i = 0; i < n; i++)
        sum += pr[i] = exp(((double)c[i].logit - c[0].logit) / s->p.temperature);
    double u = (next_u64(&s->rng) >> 11) * (1.0 / 9007199254740992.0) * sum;
    int32_t pick = c[n - 1].id;
    for (uint32_t i = 0; i < n; i++) {
        u -= pr[i];
        if (u < 0) {
            pick = c[i].id;
            break;
        }
    }
    free(pr);
    return pick;
}
