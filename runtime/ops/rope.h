/* runtime/ops/rope.h — rotary position embedding in place on [tokens][heads][head_dim]: NORM (adjacent pairs)
 * and NEOX (halves) layouts, per-call base and linear frequency scale, the 2-D variants of Pixtral and of
 * Gemma 4's vision tower, and Gemma's per-head RMSNorm fused in front. */
#ifndef VKMM_OPS_ROPE_H
#define VKMM_OPS_ROPE_H

#include "ops.h"

typedef enum vkmm_rope_layout {
    VKMM_ROPE_NORM,   /* pairs (2i, 2i+1): Mistral, Llama, Pixtral (GGUF) */
    VKMM_ROPE_NEOX,   /* pairs (i, i + d/2): Gemma */
} vkmm_rope_layout;

/* Pair i of a head at position p turns by θ_i = p · freq_scale · base^(−2i/d) (the whole head rotates), divided
 * by freq_factors[i] when given.
 * 2-D (grid_w > 0): the position p of a patch gives row r = p / grid_w and column c = p % grid_w.
 *   NORM (Pixtral): pairs i < d/4 turn by r · base^(−4i/d), the others by c · base^(−(4(i − d/4) + 2)/d).
 *   NEOX (Gemma 4's vision tower): each half of the head is a NEOX rotation over d/2 dims, the first by column,
 *   the second by row: pairs (j, j + d/4) by c · base^(−4j/d), (d/2 + j, d/2 + j + d/4) by r · base^(−4j/d).
 * (all times freq_scale). Angles are exact to ~1e-7 rad for |p| < 2^24. */
typedef struct vkmm_rope_params {
    vkmm_rope_layout layout;
    uint32_t head_dim;        /* even, at most 512 (2-D: a multiple of 4) */
    uint32_t n_tokens, n_heads;
    uint32_t tok_stride;      /* elements between tokens; 0: n_heads · head_stride */
    uint32_t head_stride;     /* elements between heads; 0: head_dim */
    double base, freq_scale;  /* freq_scale 0 counts as 1 */
    int32_t pos0;             /* positions are pos0 + t when no position buffer is given */
    uint32_t grid_w;          /* 2-D RoPE: patches per grid row; 0 for 1-D */
    vkmm_range freq_factors;  /* f32 [head_dim/2]: pair i turns by θ_i / factors[i] (GGUF rope_freqs, positive);
                                 size 0: none */
} vkmm_rope_params;

/* x is rotated in place; pos holds one int32 position per token, or is empty ((vkmm_range){0}). */
vkmm_status vkmm_op_rope(vkmm_ops *ops, vkmm_cmd *cmd, const vkmm_rope_params *rp, vkmm_range x, vkmm_range pos,
                         vkmm_error *err);

/* Per-head RMSNorm over head_dim (weight w_a for heads < n_heads_a, w_b for the rest), then RoPE, in place:
 * Gemma's q/k norm + RoPE, for q and k together when they share a token row [q heads | k heads]. */
vkmm_status vkmm_op_rms_norm_rope(vkmm_ops *ops, vkmm_cmd *cmd, const vkmm_rope_params *rp, vkmm_range x,
                                  vkmm_range pos, vkmm_range w_a, uint32_t n_heads_a, vkmm_range w_b, float eps,
                                  vkmm_error *err);
/* The same for q and k in separate tensors, one dispatch: rp describes q (n_heads its heads, tok_stride its rows),
 * k is rows of n_k_heads heads of the same head_dim and tokens; each is normalised with its own weight. */
vkmm_status vkmm_op_qk_norm_rope(vkmm_ops *ops, vkmm_cmd *cmd, const vkmm_rope_params *rp, vkmm_range q,
                                 vkmm_range k, uint32_t n_k_heads, vkmm_range pos, vkmm_range w_q, vkmm_range w_k,
                                 float eps, vkmm_error *err);

#endif
