/* tests/ref/ref_gemma4.h — a plain-C forward pass of Gemma 4's text decoder (dense, per-layer inputs, KV sharing,
 * mixture of experts) straight from the Hugging Face reference (modeling_gemma4: Gemma4TextModel, DecoderLayer,
 * Attention, Router, Experts), in double precision with float weights, recomputing the whole sequence each call. */
#ifndef VKMM_TEST_REF_GEMMA4_H
#define VKMM_TEST_REF_GEMMA4_H

#include <stdbool.h>
#include <stdint.h>

#include "ref_model.h"

typedef struct ref_gemma4_layer {
    bool sliding;
    int32_t kv_from;                     /* -1: its own K/V; else the layer whose K/V it attends over */
    uint32_t n_kv, head_dim, n_ff;
    float out_scale;                     /* layer_scalar */
    const float *attn_norm, *wq, *q_norm, *wk, *k_norm, *wv; /* wv NULL: v is the raw k projection */
    const float *wo, *post_attn_norm, *ffn_norm, *w_gate, *w_up, *w_down, *post_ffw_norm;
    const float *ple_gate, *ple_proj, *ple_post_norm;        /* [n_ple][n_embd], [n_embd][n_ple], [n_embd] */
    /* mixture of experts (router NULL: dense) */
    const float *router, *router_scale, *expert_scale;       /* [n_expert][n_embd], [n_embd], [n_expert] */
    const float *gate_up_exps, *down_exps;                   /* [E][2F][n_embd] (gate rows first), [E][n_embd][F] */
    const float *pre_norm_2, *post_norm_1, *post_norm_2;
} ref_gemma4_layer;

typedef struct ref_gemma4 {
    uint32_t n_layer, n_embd, n_head, n_vocab, window, n_ple, n_expert, n_used, n_ff_exp;
    float eps, rope_base, rope_base_swa, softcap;
    int32_t media_token;                 /* the token whose per-layer embedding media rows take (the pad) */
    const float *tok_embd, *output_norm; /* tied head */
    const float *rope_freqs;             /* full layers' per-pair frequency divisors, or NULL */
    const float *ple_tok, *ple_model_proj, *ple_proj_norm;   /* [n_vocab][L·P], [L·P][n_embd], [P] */
    ref_gemma4_layer *layers;
} ref_gemma4;

/* logits [n][n_vocab] for every position (causal; sliding layers within the window; spans see each other).
 * kv_f16 rounds K and V to f16 as a GPU cache stores them. experts (NULL or [n][n_layer][n_used]) receives each
 * MoE layer's chosen experts per position, in ascending order; router_in (NULL or [n][n_layer][n_embd]) the
 * residual the router read. */
void ref_gemma4_forward(const ref_gemma4 *m, const ref_item *items, uint32_t n, const ref_span *spans,
                        uint32_t n_spans, bool kv_f16, float *logits, int32_t *experts, float *router_in);

#endif
