/* runtime/engine/sampler.h — picks the next token from candidate logits: repetition penalty, top-k,
 * temperature, top-p, min-p, then a seeded draw (temperature 0: the largest logit). Pure C. */
#ifndef VKMM_ENGINE_SAMPLER_H
#define VKMM_ENGINE_SAMPLER_H

#include "vkmm.h"

typedef struct vkmm_candidate {
    int32_t id;
    float logit;
} vkmm_candidate;

typedef struct vkmm_sampler {
    vkmm_sampling p;
    uint64_t rng;
    int32_t *history;     /* ring of the last repeat_last_n tokens */
    uint32_t n_history, at;
} vkmm_sampler;

vkmm_status vkmm_sampler_init(vkmm_sampler *s, const vkmm_sampling *p, vkmm_error *err);
void vkmm_sampler_free(vkmm_sampler *s);
/* Remembers a token of the context (prompt or generated) for the repetition penalty. */
void vkmm_sampler_accept(vkmm_sampler *s, int32_t id);
/* Does this sampler need every logit (rather than the top few the GPU can hand over)? */
bool vkmm_sampler_needs_all(const vkmm_sampler *s);
/* How many top candidates suffice when it does not. */
uint32_t vkmm_sampler_top_needed(const vkmm_sampler *s);
/* Picks from c[0..n) (any order; c is reordered and rewritten). */
int32_t vkmm_sampler_pick(vkmm_sampler *s, vkmm_candidate *c, uint32_t n);

#endif
