/* tests/engine/e2e_common.h — what the end-to-end tests share: collecting generated ids, comparing logit rows
 * with the reference, and a synthetic test picture. */
#ifndef VKMM_TEST_E2E_COMMON_H
#define VKMM_TEST_E2E_COMMON_H

#include <stdint.h>

#include "vkmm.h"

typedef struct gen {
    int32_t ids[64];
    uint32_t n;
} gen;

/* A vkmm_token_fn that appends ids to a gen. */
bool collect(const vkmm_token_event *ev, void *user);
/* Worst per-row NMSE of GPU logit rows against reference rows (n_tokens columns of rows V wide); greedy picks
 * g->ids must match the reference's best token wherever its top-1 margin is clear (rows from first_gen_row-1). */
double compare(const float *gpu, const float *ref, uint32_t rows, uint32_t V, uint32_t n_tokens, const gen *g,
               uint32_t first_gen_row, const char *what);
/* A w x h RGB picture: gradients, a disc, a xor pattern (malloc'ed). */
uint8_t *picture(uint32_t w, uint32_t h);

#endif
