/* tests/ref/ref_rope.h — plain-C reference of RoPE (angles and rotation in float64). */
#ifndef VKMM_TEST_REF_ROPE_H
#define VKMM_TEST_REF_ROPE_H

#include <stddef.h>
#include <stdint.h>

/* Rotates x[t][h][d] (packed) in place. neox: pairs (i, i + d/2), else (2i, 2i+1). grid_w > 0: Pixtral's
 * 2-D RoPE with row pos / grid_w and column pos % grid_w (mistral3.md §4.4). factors (NULL: none) divide pair i's
 * angle (GGUF rope_freqs, gemma4.md §2). */
void ref_rope(float *x, size_t tokens, size_t heads, size_t d, int neox, double base, double scale,
              const int32_t *pos, uint32_t grid_w, const float *factors);

#endif
