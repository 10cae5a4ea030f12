/* runtime/models/gemma4.h — what the Gemma 4 text decoder's files share (gemma4.c: weights and the forward graph;
 * gemma4_hparams.c: the gemma4.* keys; gemma4_moe.c: the mixture-of-experts block). Not used outside models/. */
#ifndef VKMM_MODELS_GEMMA4_H
#define VKMM_MODELS_GEMMA4_H

#include "model.h"

/* What Gemma 4 states beyond vkmm_text_hparams (../shared/reference/gemma4.md §2-3). */
typedef struct gemma4_hparams {
    uint32_t n_ple;                     /* embedding_length_per_layer_input: per-layer input width (0: none) */
    uint32_t n_expert, n_expert_used;   /* expert_count, expert_used_count (0: dense) */
    uint32_t n_ff_exp;                  /* expert_feed_forward_length */
    uint32_t head_dim_full, head_dim_swa;
    uint32_t n_shared;                  /* attention.shared_kv_layers */
} gemma4_hparams;

/* Reads the gemma4.* keys into hp (the common ones, sliding/full layer kinds with their head sizes, KV heads and
 * RoPE, KV sharing, soft-capping) and g4; errors name the file and the key. */
vkmm_status gemma4_read_hparams(const vkmm_gguf *g, const char *arch, vkmm_text_hparams *hp, gemma4_hparams *g4,
                                vkmm_error *err);

/* One layer's mixture of experts (26B-A4B): the router, the selected experts' gated FFNs, their weighted sum. */
typedef struct gemma4_moe {
    const vkmm_weight *router;          /* ffn_gate_inp: [n_expert][n_embd] */
    vkmm_range router_scale;            /* ffn_gate_inp.scale: [n_embd] */
    vkmm_range expert_scale;            /* ffn_down_exps.scale: [n_expert] (size 0: ones) */
    const vkmm_weight *gate_up;         /* ffn_gate_up_exps: [n_expert][2 n_ff_exp][n_embd], gate rows first */
    const vkmm_weight *gate, *up;       /* or ffn_gate_exps / ffn_up_exps: [n_expert][n_ff_exp][n_embd] */
    const vkmm_weight *down;            /* ffn_down_exps: [n_expert][n_embd][n_ff_exp] */
    vkmm_range pre_norm_2, post_norm_1, post_norm_2;
} gemma4_moe;

/* blk.<il>'s router, experts and their norms. */
vkmm_status gemma4_bind_moe(vkmm_weight_source *src, const vkmm_text_hparams *hp, const gemma4_hparams *g4,
                            uint32_t il, gemma4_moe *moe, vkmm_error *err);
/* The experts' part of layer il on the residual x [n][n_embd]: the routed experts' weighted sum after
 * post_ffw_norm_2, to add to the dense FFN's (after post_ffw_norm_1). */
vkmm_tid gemma4_moe_forward(vkmm_graph *g, const vkmm_text_hparams *hp, const gemma4_hparams *g4,
                            const gemma4_moe *moe, vkmm_tid x);

#endif
