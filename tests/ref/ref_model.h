/* tests/ref/ref_model.h — a plain-C forward pass of whole models (Gemma 3 text, SigLIP + Gemma 3 projector),
 * straight from ../shared/reference/gemma3.md, in double precision with float weights. It recomputes the whole
 * sequence every call (no cache): slow, simple, and independent of the GPU path it checks. */
#ifndef VKMM_TEST_REF_MODEL_H
#define VKMM_TEST_REF_MODEL_H

#include <stdbool.h>
#include <stdint.h>

typedef struct ref_gemma3_layer {
    const float *attn_norm, *wq, *wk, *wv, *q_norm, *k_norm, *wo, *post_attn_norm;
    const float *ffn_norm, *w_gate, *w_up, *w_down, *post_ffw_norm;
} ref_gemma3_layer;

typedef struct ref_gemma3 {
    uint32_t n_layer, n_embd, n_head, n_kv, head_dim, n_ff, n_vocab;
    float eps;
    float rope_base, rope_scale;          /* global layers: base and frequency scale (1/factor) */
    float rope_base_local;                /* local (sliding-window) layers, scale 1 */
    uint32_t window;                      /* 0: no sliding window, every layer global */
    uint32_t swa_period;                  /* layer il is global iff il % period == period - 1 */
    float attn_scale;
    float softcap;                        /* final logit soft-cap, 0 = none */
    const float *tok_embd;                /* [n_vocab][n_embd] */
    const float *output_norm;
    const float *output;                  /* [n_vocab][n_embd], or NULL: tied to tok_embd */
    ref_gemma3_layer *layers;
} ref_gemma3;

/* One input position: a token id, or (when emb != NULL) an embedding row inserted unscaled. */
typedef struct ref_item {
    int32_t token;
    const float *emb;
} ref_item;

typedef struct ref_span {
    uint32_t start, end; /* positions [start, end) see each other (one image) */
} ref_span;

/* logits [n][n_vocab] for every position. kv_f16 rounds K and V to f16 as a GPU cache stores them. */
void ref_gemma3_forward(const ref_gemma3 *m, const ref_item *items, uint32_t n, const ref_span *spans,
                        uint32_t n_spans, bool kv_f16, float *logits);

typedef struct ref_siglip_layer {
    const float *ln1_w, *ln1_b, *wq, *bq, *wk, *bk, *wv, *bv, *wo, *bo;
    const float *ln2_w, *ln2_b, *w_up, *b_up, *w_down, *b_down;
} ref_siglip_layer;

typedef struct ref_siglip {
    uint32_t image_size, patch, n_embd, n_head, n_ff, n_layer, pool, n_text_embd;
    float eps;
    const float *patch_w, *patch_b;       /* [n_embd][3][patch][patch], [n_embd] */
    const float *pos_embd;                /* [(image/patch)^2][n_embd] */
    const float *post_ln_w, *post_ln_b;
    const float *soft_emb_norm;           /* [n_embd] (+1 already baked in) */
    const float *input_proj;              /* GGUF ne [n_text_embd, n_embd]: element (i, j) at i*n_text_embd + j */
    ref_siglip_layer *layers;
} ref_siglip;

/* image [3][size][size] (already normalised) -> out [(grid/pool)^2][n_text_embd]. */
void ref_siglip_encode(const ref_siglip *m, const float *image, float *out);
uint32_t ref_siglip_tokens(const ref_siglip *m);

/* ---- Mistral 3 (mistral3.md §2.4, §4.3-4.5) ---- */

typedef struct ref_mistral_layer {
    const float *attn_norm, *wq, *wk, *wv, *wo, *ffn_norm, *w_gate, *w_up, *w_down;
} ref_mistral_layer;

typedef struct ref_mistral {
    uint32_t n_layer, n_embd, n_head, n_kv, head_dim, n_ff, n_vocab;
    float eps, rope_base;
    const float *tok_embd, *output_norm, *output; /* output NULL: tied to tok_embd */
    ref_mistral_layer *layers;
} ref_mistral;

/* Causal, NORM (adjacent-pair) RoPE from position 0; images are rows of items with emb set. */
void ref_mistral_forward(const ref_mistral *m, const ref_item *items, uint32_t n, bool kv_f16, float *logits);

typedef struct ref_pixtral_layer {
    const float *ln1, *wq, *wk, *wv, *wo, *ln2, *w_gate, *w_up, *w_down;
} ref_pixtral_layer;

typedef struct ref_pixtral {
    uint32_t patch, n_embd, n_head, n_ff, n_layer, merge, n_text_embd;
    float eps, rope_theta;
    bool gelu_mlp;                          /* clip.use_gelu instead of SiLU in the encoder MLP */
    const float *patch_w;                   /* [n_embd][3][patch][patch], no bias */
    const float *pre_ln, *mm_norm, *merger; /* merger: [n_embd][n_embd*merge*merge] */
    const float *mm1_w, *mm1_b, *mm2_w, *mm2_b; /* [n_text][n_embd], [n_text][n_text]; biases may be NULL */
    const float *img_break;                 /* [n_text_embd] */
    ref_pixtral_layer *layers;
} ref_pixtral;

/* image [3][h][w] (sides multiples of patch) -> out rows: merged tokens row by row with [IMG_BREAK] rows
 * between merged rows; returns the row count. out holds at least that many x n_text_embd floats. */
uint32_t ref_pixtral_encode(const ref_pixtral *m, const float *image, uint32_t h, uint32_t w, float *out);

#endif
