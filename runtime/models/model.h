/* runtime/models/model.h — what an architecture gives the engine: hyperparameters read from the GGUF, weights
 * bound by the names llama.cpp's converters write, and graph construction for a forward pass. Architectures
 * do not talk to the GPU: weights reach them through a vkmm_weight_source the engine implements. */
#ifndef VKMM_MODELS_MODEL_H
#define VKMM_MODELS_MODEL_H

#include "gguf.h"
#include "nodes.h"
#include "matmul.h"

/* ---- weights ---- */

typedef struct vkmm_weight_source vkmm_weight_source;
struct vkmm_weight_source {
    void *user;
    const vkmm_gguf *gguf;
    /* A matrix of `rows` rows of k elements (GGUF ne = {k, rows}); with transpose, the file holds ne = {rows, k}
     * and the engine transposes it while uploading. *out stays valid for the model's life. Missing and
     * !required: *out = NULL and VKMM_OK. */
    vkmm_status (*matrix)(vkmm_weight_source *src, const char *name, uint32_t k, uint32_t rows, bool transpose,
                          bool required, const vkmm_weight **out, vkmm_error *err);
    /* An expert tensor: n_expert experts of `rows` rows of k (GGUF ne = {k, rows, n_expert}) as one weight of
     * n_expert·rows rows, each piece of it whole experts (vkmm_g_matmul_id). Missing and !required: *out = NULL. */
    vkmm_status (*experts)(vkmm_weight_source *src, const char *name, uint32_t k, uint32_t rows, uint32_t n_expert,
                           bool required, const vkmm_weight **out, vkmm_error *err);
    /* A tensor of n elements read as f32 (F16/BF16 files are converted while uploading). Missing and
     * !required: out->size = 0. */
    vkmm_status (*vector)(vkmm_weight_source *src, const char *name, uint64_t n, bool required, vkmm_range *out,
                          vkmm_error *err);
};

/* Formats "blk.%u.<what>" style names. */
const char *vkmm_model_tensor_name(char *buf, size_t n, const char *fmt, uint32_t layer);

/* ---- text models ---- */

typedef enum vkmm_rope_kind { VKMM_MODEL_ROPE_NORM, VKMM_MODEL_ROPE_NEOX } vkmm_rope_kind;

#define VKMM_MAX_LAYERS 256

#define VKMM_MAX_POS_AXES 4

typedef struct vkmm_text_hparams {
    uint32_t n_layer, n_embd, n_head, n_kv, head_dim, n_ff, n_vocab, n_ctx_train;
    /* per layer, where layers differ (Gemma 4: sliding and full layers, wider FFNs on shared layers); 0: the
     * scalar above. Read them through vkmm_layer_*(). */
    uint32_t n_kv_l[VKMM_MAX_LAYERS], head_dim_l[VKMM_MAX_LAYERS], n_ff_l[VKMM_MAX_LAYERS];
    /* KV sharing: 0, the layer keeps its own cache; s > 0, it stores nothing and attends over layer s - 1's */
    uint32_t kv_shared_from[VKMM_MAX_LAYERS];
    uint32_t n_pos_axes;                /* position ids per token: 1, or up to 4 for multi-axis RoPE */
    float eps;
    float embed_scale;                  /* token embeddings are multiplied by this (Gemma: sqrt(n_embd)) */
    float attn_scale;
    float final_softcap;                /* 0: none */
    uint32_t n_expert, n_expert_used;   /* a mixture of experts: experts per layer, used per token (0: dense) */
    vkmm_rope_kind rope;
    uint32_t window[VKMM_MAX_LAYERS];   /* per layer: 0 global, else the sliding window */
    float rope_base[VKMM_MAX_LAYERS], rope_scale[VKMM_MAX_LAYERS];
} vkmm_text_hparams;

/* How the rows of one media item attend to each other in the text model. */
typedef enum vkmm_media_attention {
    VKMM_MEDIA_CAUSAL = 0,              /* as text does (Mistral 3's images; Gemma 4 E2B/E4B) */
    VKMM_MEDIA_BIDIRECTIONAL,           /* every row sees all rows of its item on every layer (Gemma 3's images) */
    VKMM_MEDIA_BIDIRECTIONAL_SLIDING,   /* ... on sliding-window layers only, and there not past the window behind
                                         * a row; full layers stay causal (Gemma 4 26B/31B: HF's
                                         * use_bidirectional_attention = "vision") */
} vkmm_media_attention;
/* A non-causal item is never split across prefill chunks. */
static inline uint32_t vkmm_layer_n_kv(const vkmm_text_hparams *hp, uint32_t il)
{
    return hp->n_kv_l[il] ? hp->n_kv_l[il] : hp->n_kv;
}
static inline uint32_t vkmm_layer_head_dim(const vkmm_text_hparams *hp, uint32_t il)
{
    return hp->head_dim_l[il] ? hp->head_dim_l[il] : hp->head_dim;
}
static inline uint32_t vkmm_layer_n_ff(const vkmm_text_hparams *hp, uint32_t il)
{
    return hp->n_ff_l[il] ? hp->n_ff_l[il] : hp->n_ff;
}
/* The layer whose KV cache layer il reads (itself unless it shares another's). */
static inline uint32_t vkmm_layer_kv_owner(const vkmm_text_hparams *hp, uint32_t il)
{
    return hp->kv_shared_from[il] ? hp->kv_shared_from[il] - 1 : il;
}

/* One forward pass over n tokens at positions pos0 .. pos0+n-1, the cache holding everything before. */
typedef struct vkmm_forward {
    uint32_t n_tokens;
    uint32_t pos0;
    vkmm_tid x;                         /* input embeddings [n][n_embd] f32 (built by the caller) */
    vkmm_tid ids;                       /* int32 [n]: the token ids x came from; media rows hold the model's
                                         * media_token (per-layer embeddings look them up) */
    vkmm_range positions;               /* int32 [hp.n_pos_axes][n], axis-major, from the model's positions(); in a
                                         * buffer so a replayed graph can move on. Axis 0 is what RoPE reads. */
    vkmm_range step;                    /* i32 {pos0, kv_len}: a replayed decode reads them here (size 0: static) */
    uint32_t max_kv_len;                /* with step: the context length the replays may reach */
    vkmm_dtype kv_type;
    const vkmm_layer_kv *kv;            /* [n_layer] */
    vkmm_range spans;                   /* u32 (start, end) pairs: media spans whose rows see each other */
    uint32_t n_spans;
    bool spans_sliding_only;            /* the spans hold on sliding-window layers only, within the window
                                         * (VKMM_MEDIA_BIDIRECTIONAL_SLIDING): see vkmm_text_layer_spans */
    uint32_t logits_from;               /* compute logits for rows [logits_from, n) only */
    vkmm_tid logits;                    /* external f32 [n - logits_from][n_vocab] to write */
    vkmm_range seqs[2];                 /* a batch: token i is the next token of sequence i, described per KV page
                                         * class (vkmm_kv_seq per row; layer_kv.cls picks); size 0: one sequence */
} vkmm_forward;

typedef struct vkmm_text_model vkmm_text_model;
struct vkmm_text_model {
    const char *arch;
    vkmm_text_hparams hp;
    const vkmm_weight *tok_embd;        /* the embedding table (also the output head when tied) */
    int32_t media_token;                /* the id media rows carry in vkmm_forward.ids (Gemma 4: the pad token,
                                         * whose per-layer embedding image rows take); 0 by default */
    /* x = embedding(ids) * embed_scale; ids is int32 [n] */
    vkmm_tid (*embed)(const vkmm_text_model *m, vkmm_graph *g, vkmm_tid ids, uint32_t n);
    /* Builds the layers and the head; returns fw->logits. */
    vkmm_tid (*forward)(const vkmm_text_model *m, vkmm_graph *g, const vkmm_forward *fw);
    /* The position ids of n sequence slots from slot0 into pos[hp.n_pos_axes][n] (see vkmm_positions_by_slot). */
    void (*positions)(const vkmm_text_model *m, uint32_t slot0, uint32_t n, int32_t *pos);
    void (*free)(vkmm_text_model *m);
    void *impl;
};

/* The usual embedding: rows of tok_embd scaled by hp.embed_scale. */
vkmm_tid vkmm_model_embed(const vkmm_text_model *m, vkmm_graph *g, vkmm_tid ids, uint32_t n);
/* The usual positions (positions.c): every axis holds the slot, slot0 + i. Multi-axis RoPE (Qwen2-VL style:
 * time, height, width) gives media rows their grid coordinates on the axes instead, with text continuing after
 * the largest; such an architecture sets hp.n_pos_axes and its own positions(). */
void vkmm_positions_by_slot(const vkmm_text_model *m, uint32_t slot0, uint32_t n, int32_t *pos);

/* Architecture loaders: read hyperparameters and bind weights. arch is the general.architecture the file
 * declares (one of the names its row in arch_table.c answers to): the prefix of its keys. */
typedef vkmm_status (*vkmm_text_load_fn)(vkmm_weight_source *src, const char *arch, vkmm_text_model **out,
                                         vkmm_error *err);
vkmm_status vkmm_gemma3_load(vkmm_weight_source *src, const char *arch, vkmm_text_model **out, vkmm_error *err);
vkmm_status vkmm_mistral3_load(vkmm_weight_source *src, const char *arch, vkmm_text_model **out, vkmm_error *err);
vkmm_status vkmm_gemma4_load(vkmm_weight_source *src, const char *arch, vkmm_text_model **out, vkmm_error *err);

/* ---- what decoder architectures share (text_common.c) ---- */

/* The hyperparameters every decoder states under "<arch>.": block_count, embedding_length, feed_forward_length
 * and attention.head_count (required), attention.head_count_kv, attention.key_length (value_length must agree),
 * context_length, attention.layer_norm_rms_epsilon; n_vocab from token_embd.weight. feed_forward_length and
 * head_count_kv may be per-layer arrays (then n_ff_l / n_kv_l hold them and the scalars are layer 0's). Fields
 * absent from the file keep the caller's defaults (eps, n_ctx_train). Shapes the kernels cannot run are refused,
 * naming the file. */
vkmm_status vkmm_text_read_common(const vkmm_gguf *g, const char *arch, vkmm_text_hparams *hp, vkmm_error *err);
/* key as one count for every layer or an array of n_layer counts, into out[n_layer]; *found false when absent.
 * Anything else is an error naming the file and the key. */
vkmm_status vkmm_text_read_layer_u32(const vkmm_gguf *g, const char *key, uint32_t n_layer, uint32_t *out,
                                     bool *found, vkmm_error *err);
/* hp->window[] from "<arch>.attention.sliding_window_pattern": a per-layer boolean array (true = sliding), or a
 * period p (layer il is global iff il % p == p - 1); absent, the caller's default period (0: required). A sliding
 * layer gets `window`, a global one 0. */
vkmm_status vkmm_text_read_swa_pattern(const vkmm_gguf *g, const char *arch, uint32_t window, uint32_t period,
                                       vkmm_text_hparams *hp, vkmm_error *err);
/* "<arch>.<key>" in buf. */
const char *vkmm_text_key(char *buf, size_t size, const char *arch, const char *key);

typedef struct vkmm_attn_weights {
    const vkmm_weight *wq, *wk, *wv, *wo;
} vkmm_attn_weights;
typedef struct vkmm_ffn_weights {
    const vkmm_weight *gate, *up, *down;
} vkmm_ffn_weights;
/* The output side every decoder has: token_embd (also the head when output.weight is absent) and output_norm. */
typedef struct vkmm_text_head {
    const vkmm_weight *output;          /* NULL: tied to the model's tok_embd */
    vkmm_range output_norm;
} vkmm_text_head;

/* What every decoder layer binds: its input norms and the attention and feed-forward weights. */
typedef struct vkmm_decoder_layer {
    vkmm_range attn_norm, ffn_norm;
    vkmm_attn_weights attn;
    vkmm_ffn_weights ffn;
} vkmm_decoder_layer;

/* blk.<il>.attn_norm, ffn_norm and the weights of vkmm_bind_attention and vkmm_bind_ffn. */
vkmm_status vkmm_bind_decoder_layer(vkmm_weight_source *src, const vkmm_text_hparams *hp, uint32_t il,
                                    vkmm_decoder_layer *L, vkmm_error *err);
/* blk.<il>.attn_{q,k,v,output}.weight for hp's heads. */
vkmm_status vkmm_bind_attention(vkmm_weight_source *src, const vkmm_text_hparams *hp, uint32_t il,
                                vkmm_attn_weights *w, vkmm_error *err);
/* blk.<il>.ffn_{gate,up,down}.weight. */
vkmm_status vkmm_bind_ffn(vkmm_weight_source *src, const vkmm_text_hparams *hp, uint32_t il, vkmm_ffn_weights *w,
                          vkmm_error *err);
/* token_embd.weight into m->tok_embd, output.weight (optional) and output_norm.weight. */
vkmm_status vkmm_bind_head(vkmm_weight_source *src, vkmm_text_model *m, vkmm_text_head *head, vkmm_error *err);

/* Layer il's attention block: q, k, v are its projections as the architecture prepared them (rotated, normed);
 * k and v go into the layer's cache, q attends causally (window hp->window[il], scale hp->attn_scale) with
 * fw's media spans seeing each other. A layer that shares another's cache (hp->kv_shared_from) passes k = v = 0
 * and attends over the rows its owner stored earlier in the same pass. Returns the attention output, before
 * attn_output. */
vkmm_tid vkmm_text_attention(vkmm_graph *g, const vkmm_text_hparams *hp, const vkmm_forward *fw, uint32_t il,
                             vkmm_tid q, vkmm_tid k, vkmm_tid v);
/* The media spans of fw as layer il (sliding window `window`, 0: full) sees them, into ap: every layer's, or with
 * fw->spans_sliding_only the sliding layers' alone, bounded by their window. Decoders with their own attention
 * call this too. */
void vkmm_text_layer_spans(const vkmm_forward *fw, uint32_t window, vkmm_g_attn_params *ap);
/* The gated feed-forward block: down(act(gate·h) · (up·h)). */
vkmm_tid vkmm_text_ffn(vkmm_graph *g, const vkmm_ffn_weights *w, vkmm_act act, vkmm_tid h, const char *name);
/* The logits of rows [fw->logits_from, n) of the final normed h, through the head, into fw->logits; soft-capped
 * (cap · tanh(logit / cap)) when hp.final_softcap > 0. */
vkmm_tid vkmm_text_logits(vkmm_graph *g, const vkmm_text_model *m, const vkmm_text_head *head,
                          const vkmm_forward *fw, vkmm_tid h);

/* ---- vision models ---- */

typedef struct vkmm_vision_hparams {
    uint32_t image_size, patch, n_embd, n_head, n_ff, n_layer, n_text_embd;
    float eps;
    float mean[3], std[3];
    uint32_t merge;                     /* Pixtral spatial merge (1: none); Gemma pooling factor */
} vkmm_vision_hparams;

typedef struct vkmm_vision_model vkmm_vision_model;
struct vkmm_vision_model {
    const char *projector;              /* "gemma3", "pixtral", "gemma4v" */
    vkmm_vision_hparams hp;
    /* The rule of this file's rows in the text model when the file decides it (Gemma 4: one projector type for
     * model families with different rules); else (has_attention false) its tower's in the architecture table. */
    bool has_attention;
    vkmm_media_attention attention;
    /* Embedding rows an image of h x w (preprocessed) pixels becomes (at most n_rows(image_size, image_size)). */
    uint32_t (*n_rows)(const vkmm_vision_model *m, uint32_t h, uint32_t w);
    /* image: f32 [3][h][w] normalised -> [n_rows][n_text_embd] */
    vkmm_tid (*encode)(const vkmm_vision_model *m, vkmm_graph *g, vkmm_tid image, uint32_t h, uint32_t w);
    void (*free)(vkmm_vision_model *m);
    void *impl;
};

/* The clip.vision.* keys every vision tower has (image/patch size, widths, heads, layers, eps, mean/std), in
 * vision_common.c. */
vkmm_status vkmm_vision_read_common(const vkmm_gguf *g, vkmm_vision_hparams *hp, vkmm_error *err);

typedef vkmm_status (*vkmm_vision_load_fn)(vkmm_weight_source *src, vkmm_vision_model **out, vkmm_error *err);
vkmm_status vkmm_siglip_load(vkmm_weight_source *src, vkmm_vision_model **out, vkmm_error *err);
vkmm_status vkmm_pixtral_load(vkmm_weight_source *src, vkmm_vision_model **out, vkmm_error *err);
vkmm_status vkmm_gemma4v_load(vkmm_weight_source *src, vkmm_vision_model **out, vkmm_error *err);

#endif
