/* runtime/ops/attention_local.h — local self-attention with relative positions: every query sees the keys a fixed
 * number of steps back (and optionally ahead), its logits get a Transformer-XL style position term from a
 * per-distance key table, then a tanh soft-cap (Gemma 4's audio conformer); and the sinusoid table that position
 * term is projected from. */
#ifndef VKMM_OPS_ATTENTION_LOCAL_H
#define VKMM_OPS_ATTENTION_LOCAL_H

#include "ops.h"

#define VKMM_ATTENTION_LOCAL_MAX_DIM 256
#define VKMM_ATTENTION_LOCAL_MAX_KEYS 128

typedef struct vkmm_attention_local_params {
    uint32_t n;              /* positions: queries and keys are the same sequence */
    uint32_t n_head, head_dim;
    uint32_t left;           /* query i sees keys i − left + 1 .. i (>= 1: itself and left − 1 before) */
    uint32_t right;          /* ... and i + 1 .. i + right − 1 ahead (Hugging Face's sliding mask; 0 or 1: none) */
    uint32_t rel_offset;     /* key j takes row r = rel_offset − (i − j) of the position table */
    uint32_t n_rel;          /* rows of the table; a key whose r falls outside [0, n_rel) has no position term */
    float q_scale, k_scale;
    float softcap;           /* 0: none */
} vkmm_attention_local_params;

typedef struct vkmm_attention_local_io {
    vkmm_range q, k, v;      /* f32 [n][n_head][head_dim] */
    vkmm_range rel;          /* f32 [n_rel][n_head][head_dim]; size 0: no position term */
    vkmm_range dim_scale;    /* f32 [head_dim], multiplies q per dimension; size 0: none */
    vkmm_range o;            /* f32 [n][n_head][head_dim]; must not overlap the inputs */
} vkmm_attention_local_io;

/* For query i and head h, with q' = q · q_scale · dim_scale and the keys j the window allows,
 *   s_j = softcap · tanh((k_scale · q'·k_j + q'·rel[r_j]) / softcap),   o = Σ_j softmax(s)_j · v_j. */
vkmm_status vkmm_op_attention_local(vkmm_ops *ops, vkmm_cmd *cmd, const vkmm_attention_local_params *p,
                                    const vkmm_attention_local_io *io, vkmm_error *err);

/* out[r][c] (rows × 2·half, f32) = sin(p_r · f_c) for c < half, cos(p_r · f_{c−half}) for c >= half, with
 * p_r = pos0 + r · step and f_i = exp(−i · log_inc): Gemma 4 audio's sinusoids (positions counting down to 0). */
vkmm_status vkmm_op_sinusoid(vkmm_ops *ops, vkmm_cmd *cmd, vkmm_range out, uint32_t rows, uint32_t half, int32_t pos0,
                             int32_t step, float log_inc, vkmm_error *err);

#endif
