/* tests/ref/ref_gemma4v.h — a plain-C forward pass of Gemma 4's vision tower and projector (gemma4v), written from
 * Hugging Face's Gemma4VisionModel and Gemma4MultimodalEmbedder (../shared/reference/gemma4.md §4) in double
 * precision with float weights, and its loader from an mmproj GGUF. */
#ifndef VKMM_TEST_REF_GEMMA4V_H
#define VKMM_TEST_REF_GEMMA4V_H

#include <stdbool.h>
#include <stdint.h>

#include "gguf.h"
#include "ref_load.h"

/* The encoder's linears, in the order of ref_gemma4v_layer.clamp. */
enum { REF_G4V_Q, REF_G4V_K, REF_G4V_V, REF_G4V_O, REF_G4V_GATE, REF_G4V_UP, REF_G4V_DOWN, REF_G4V_LINEARS };

typedef struct ref_gemma4v_layer {
    const float *ln1, *q_norm, *k_norm, *attn_post, *ln2, *ffn_post;
    const float *w[REF_G4V_LINEARS];     /* [rows][k] as GGUF stores them */
    float clamp[REF_G4V_LINEARS][4];     /* input min, max, output min, max (±infinity when the file has none) */
    const float *out_scale;              /* one number, or NULL */
} ref_gemma4v_layer;

typedef struct ref_gemma4v {
    uint32_t patch, n_embd, n_head, n_ff, n_layer, pool, n_pos, n_text_embd;
    float eps;
    double rope_theta;
    const float *patch_w;                /* [n_embd][3][patch][patch] (the converter's conv layout) */
    const float *pos;                    /* [2][n_pos][n_embd]: columns, then rows */
    const float *std_bias, *std_scale;   /* [n_embd] each, or NULL */
    const float *proj;                   /* [n_text_embd][n_embd] */
    ref_gemma4v_layer *layers;
} ref_gemma4v;

/* NULL-free on success; on failure prints why and returns false. Free m->layers and the arena. */
bool ref_load_gemma4v(const vkmm_gguf *g, ref_gemma4v *m, ref_arena *a);

/* pixels [3][h][w] in [0, 1] (the processor's output; the tower does 2x - 1), sides multiples of patch · pool
 * -> out [(h / (patch·pool)) · (w / (patch·pool))][n_text_embd]; returns the row count. kv_f16 rounds K and V to
 * f16 as the GPU's attention stores them. */
uint32_t ref_gemma4v_encode(const ref_gemma4v *m, const float *pixels, uint32_t h, uint32_t w, bool kv_f16,
                            float *out);

#endif
