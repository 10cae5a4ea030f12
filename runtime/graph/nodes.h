/* runtime/graph/nodes.h — graph builders, one per op: each appends a node and returns its output tensor
 * (pass out = 0 for a new intermediate, or an existing tensor to write into it, e.g. in place).
 * After a building error they return 0 and the graph reports the error at planning. */
#ifndef VKMM_GRAPH_NODES_H
#define VKMM_GRAPH_NODES_H

#include "graph.h"
#include "act.h"
#include "attention.h"
#include "attention_local.h"
#include "conv.h"
#include "matmul.h"

/* ---- elementwise (nodes_elementwise.c) ---- */
/* out = a + b; b may hold fewer elements than a, and then repeats (row broadcast). */
vkmm_tid vkmm_g_add(vkmm_graph *g, vkmm_tid a, vkmm_tid b, vkmm_tid out, const char *name);
vkmm_tid vkmm_g_sub(vkmm_graph *g, vkmm_tid a, vkmm_tid b, vkmm_tid out, const char *name);
vkmm_tid vkmm_g_mul(vkmm_graph *g, vkmm_tid a, vkmm_tid b, vkmm_tid out, const char *name);
vkmm_tid vkmm_g_scale(vkmm_graph *g, vkmm_tid a, float s, vkmm_tid out, const char *name);
vkmm_tid vkmm_g_convert(vkmm_graph *g, vkmm_tid a, vkmm_dtype to, vkmm_tid out, const char *name);
/* out = min(max(a, lo), hi) elementwise (out may be a). */
vkmm_tid vkmm_g_clamp(vkmm_graph *g, vkmm_tid a, float lo, float hi, vkmm_tid out, const char *name);

/* ---- matrices (nodes_matmul.c) ---- */
/* x [n][w->k] f32 -> [n][w->rows] f32; w must outlive the graph. */
vkmm_tid vkmm_g_matmul(vkmm_graph *g, const vkmm_weight *w, vkmm_tid x, vkmm_tid out, const char *name);
/* y = W·x + b, with b an f32 range of w->rows (size 0: no bias). */
/* act(gate·x) · (up·x) (the feed-forward's gated unit): one dispatch where the device has it, else two matmuls
 * and the gated unit. */
vkmm_tid vkmm_g_matmul_glu(vkmm_graph *g, vkmm_act act, const vkmm_weight *gate, const vkmm_weight *up, vkmm_tid x,
                           const char *name);
vkmm_tid vkmm_g_linear(vkmm_graph *g, const vkmm_weight *w, vkmm_range b, vkmm_tid x, const char *name);
/* image [channels][h][w] f32 -> [tokens][w->rows]; bias may be 0. */
vkmm_tid vkmm_g_patch_embed(vkmm_graph *g, const vkmm_weight *w, vkmm_tid bias, vkmm_tid image, uint32_t channels,
                            uint32_t height, uint32_t width, uint32_t patch, const char *name);

/* ---- norms (nodes_norm.c): rows are ne[0] wide; weights are f32 ranges (size 0: none) ---- */
vkmm_tid vkmm_g_rms_norm(vkmm_graph *g, vkmm_tid x, vkmm_range w, float eps, vkmm_tid out, const char *name);
vkmm_tid vkmm_g_layer_norm(vkmm_graph *g, vkmm_tid x, vkmm_range w, vkmm_range b, float eps, vkmm_tid out,
                           const char *name);
/* x += a_w.size ? RMSNorm(a)·a_w : a (in place); returns RMSNorm(x)·w as a new tensor. */
vkmm_tid vkmm_g_add_rms_norm(vkmm_graph *g, vkmm_tid x, vkmm_tid a, vkmm_range a_w, vkmm_range w, float eps,
                             const char *name);
/* x += a (in place); returns LayerNorm(x)·w + b as a new tensor. */
vkmm_tid vkmm_g_add_layer_norm(vkmm_graph *g, vkmm_tid x, vkmm_tid a, vkmm_range w, vkmm_range b, float eps,
                               const char *name);

/* ---- rotary embedding (nodes_rope.c), in place on [n][n_heads][head_dim] ---- */
typedef struct vkmm_g_rope_params {
    bool neox;
    uint32_t head_dim, n_heads;
    double base, freq_scale;
    vkmm_range positions;     /* int32 per token; size 0: pos0 + i */
    uint32_t pos0;
    uint32_t grid_w;          /* 2-D (Pixtral): patches per row */
    vkmm_range freq_factors;  /* f32 [head_dim/2] dividing each pair's frequency (GGUF rope_freqs); size 0: none */
} vkmm_g_rope_params;
vkmm_tid vkmm_g_rope(vkmm_graph *g, vkmm_tid x, const vkmm_g_rope_params *p, const char *name);
/* Per-head RMSNorm (weight w over head_dim) then RoPE, in place. */
vkmm_tid vkmm_g_rms_norm_rope(vkmm_graph *g, vkmm_tid x, const vkmm_g_rope_params *p, vkmm_range w, float eps,
                              const char *name);
/* The same for q (p->n_heads heads, weight w_q) and k (n_k_heads heads, weight w_k) in one node and dispatch. */
void vkmm_g_qk_norm_rope(vkmm_graph *g, vkmm_tid q, vkmm_tid k, const vkmm_g_rope_params *p, uint32_t n_k_heads,
                         vkmm_range w_q, vkmm_range w_k, float eps, const char *name);

/* ---- activations (nodes_act.c) ---- */
vkmm_tid vkmm_g_act(vkmm_graph *g, vkmm_act act, vkmm_tid x, vkmm_tid out, const char *name);
/* out = act(gate) · up, same shapes; out may be gate or up. */
vkmm_tid vkmm_g_glu(vkmm_graph *g, vkmm_act act, vkmm_tid gate, vkmm_tid up, vkmm_tid out, const char *name);
/* The same from rows [gate | up] (a fused gate+up projection): a new tensor of rows half as wide. */
vkmm_tid vkmm_g_glu_fused(vkmm_graph *g, vkmm_act act, vkmm_tid gate_up, const char *name);

/* ---- mixture of experts (nodes_moe.c): n tokens routed to k experts each are n·k pairs, a = t·k + j ---- */
/* The router's choice over logits [n][n_expert]: *ids (int32 [n][k]) and *weights (f32 [n][k], renormalised over
 * the k, times scale[expert] when given). */
void vkmm_g_moe_route(vkmm_graph *g, vkmm_tid logits, uint32_t k, vkmm_range scale, vkmm_tid *ids, vkmm_tid *weights,
                      const char *name);
/* The pairs of ids (int32 [n][k]) grouped by expert, for vkmm_g_matmul_id's tiled form; 0 (the mat-vec form)
 * when n is below the tuning table's moe.grouped_tokens. */
vkmm_tid vkmm_g_moe_group(vkmm_graph *g, vkmm_tid ids, uint32_t n_expert, const char *name);
/* [n_pairs][w->rows / n_expert]: pair a = W_{ids[a]} · x row a / x_div, reading only the routed experts' rows;
 * groups (vkmm_g_moe_group) for the tiled form, 0 for one mat-vec row per pair. */
vkmm_tid vkmm_g_matmul_id(vkmm_graph *g, const vkmm_weight *w, uint32_t n_expert, vkmm_tid x, uint32_t x_div,
                          vkmm_tid ids, vkmm_tid groups, const char *name);
/* out[t] = Σ_j weights[t][j] · y[t·k + j]. */
vkmm_tid vkmm_g_moe_combine(vkmm_graph *g, vkmm_tid y, vkmm_tid weights, uint32_t k, const char *name);
/* x [rows][2·cols] -> [rows][cols] = act(x_gate) · x_other, the gate in half gate_half (0 or 1) of each row. */
vkmm_tid vkmm_g_glu_halves(vkmm_graph *g, vkmm_act act, vkmm_tid x, uint32_t gate_half, const char *name);

/* ---- attention (nodes_attention.c) ---- */
/* Where one layer's K/V cache lives: [n_kv_head][capacity][head_dim] each; ring 0: slot = position. A paged cache
 * (page_size > 0) is a pool shared by sequences: a sequence's slots come through its page table. */
typedef struct vkmm_layer_kv {
    vkmm_range k, v;
    uint32_t capacity, ring;
    uint32_t page_size;       /* 0: not paged */
    vkmm_range pages;         /* u32 page tables */
    uint32_t pt_off;          /* this sequence's table (a step of one sequence) */
    uint32_t cls;             /* the pool's page class: which of a batch's descriptors the layer reads */
} vkmm_layer_kv;

typedef struct vkmm_g_attn_params {
    uint32_t capacity, ring;  /* the caches' layout (ring 0: slot = position) */
    vkmm_dtype kv_type;
    uint32_t n_head, n_kv_head, head_dim;
    uint32_t pos0;            /* position of the first query row (also where new K/V rows go) */
    bool causal;
    uint32_t window;
    float scale, softcap;
    vkmm_range spans;
    uint32_t n_spans;
    bool spans_in_window;     /* the window bounds span keys too (Gemma 4's sliding layers; see attention.h) */
    vkmm_range step;          /* i32 {pos0, kv_len} read by a replayed graph; size 0: the static values */
    uint32_t max_kv_len;      /* with step or seqs: the longest cache the replays reach (sizes the decode splits) */
    uint32_t page_size;       /* paged cache: tokens per page (0: not paged) */
    vkmm_range pages;         /* ... its u32 page tables */
    uint32_t pt_off;          /* ... this sequence's table */
    vkmm_range seqs;          /* a batch, one row per sequence: vkmm_kv_seq per row (size 0: one sequence) */
} vkmm_g_attn_params;
/* Stores k and v ([n][n_kv_head][head_dim] f32) into the caches k_cache / v_cache at pos0.., then attends q
 * ([n][n_head][head_dim]) over positions [0, pos0 + n): returns [n][n_head · head_dim]. With k = v = 0 nothing
 * is stored: the caches already hold those rows (KV sharing: an earlier node of the graph stored them). */
vkmm_tid vkmm_g_attention(vkmm_graph *g, vkmm_tid q, vkmm_tid k, vkmm_tid v, vkmm_tid k_cache, vkmm_tid v_cache,
                          const vkmm_g_attn_params *p, const char *name);
/* A cache tensor for kv_layout-shaped storage of n_kv_head x capacity rows of head_dim. */
vkmm_tid vkmm_g_kv_cache(vkmm_graph *g, vkmm_range r, vkmm_dtype type, uint32_t head_dim, uint32_t n_kv_head,
                         uint32_t capacity, const char *name);

/* ---- convolutions (nodes_conv.c) ---- */
/* x holds the channels-last grid s describes -> [out_h][out_w][out_ch] (ne = {out_ch, out_w, out_h}); w is the
 * kernel as PyTorch and GGUF hold it, [out_ch][in_ch][k_h][k_w] f32; b (size 0: none) and norm (size 0: none; else
 * LayerNorm over channels and ReLU) as vkmm_op_conv2d takes them. */
vkmm_tid vkmm_g_conv2d(vkmm_graph *g, vkmm_tid x, const vkmm_conv2d_shape *s, vkmm_range w, vkmm_range b,
                       vkmm_range norm, float eps, const char *name);
/* x [n_t][ch] -> the causal depthwise convolution with w [ch][k]. */
vkmm_tid vkmm_g_conv1d_causal_dw(vkmm_graph *g, vkmm_tid x, vkmm_range w, uint32_t k, const char *name);

/* ---- local attention (nodes_attention_local.c) ---- */
/* q, k, v [p->n][n_head · head_dim]; rel [n_rel][n_head · head_dim] or 0; dim_scale [head_dim] or size 0
 * -> [p->n][n_head · head_dim] (vkmm_op_attention_local). */
vkmm_tid vkmm_g_attention_local(vkmm_graph *g, vkmm_tid q, vkmm_tid k, vkmm_tid v, vkmm_tid rel, vkmm_range dim_scale,
                                const vkmm_attention_local_params *p, const char *name);
/* [rows][2·half] sinusoid table (vkmm_op_sinusoid). */
vkmm_tid vkmm_g_sinusoid(vkmm_graph *g, uint32_t rows, uint32_t half, int32_t pos0, int32_t step, float log_inc,
                         const char *name);

/* ---- lookups, layout and logits (nodes_layout.c) ---- */
/* [n][table->k] = rows ids[i] of the table · scale; ids is an int32 tensor of n entries. */
vkmm_tid vkmm_g_get_rows(vkmm_graph *g, const vkmm_weight *table, vkmm_tid ids, uint32_t n, float scale,
                         const char *name);
/* Copies `rows` rows of `cols` floats: in rows in_stride apart (0: repeat one row) to out rows out_stride
 * apart, starting at row out_row0 of out (element offsets in rows of cols). */
void vkmm_g_copy_rows(vkmm_graph *g, vkmm_tid in, uint32_t in_stride, vkmm_tid out, uint32_t out_row0,
                      uint32_t out_stride, uint32_t rows, uint32_t cols, const char *name);
/* General strided copy of f32 elements: index (i0, i1, i2) < ne goes from in element Σ i·in_stride to out element
 * out_off + Σ i·out_stride. */
void vkmm_g_copy_strided(vkmm_graph *g, vkmm_tid in, vkmm_tid out, uint64_t out_off, const uint32_t ne[3],
                         const uint32_t in_stride[3], const uint32_t out_stride[3], const char *name);
/* Averages k x k windows of a grid_h x grid_w grid of ch-wide tokens. */
vkmm_tid vkmm_g_avg_pool(vkmm_graph *g, vkmm_tid x, uint32_t grid_h, uint32_t grid_w, uint32_t k, const char *name);
/* Pixtral's s x s patch merge: [(gh/s)(gw/s)][ch · s²]. */
vkmm_tid vkmm_g_patch_merge(vkmm_graph *g, vkmm_tid x, uint32_t grid_h, uint32_t grid_w, uint32_t s, const char *name);

/* ---- helpers for builders ---- */
uint64_t vkmm_g_elements(const vkmm_graph *g, vkmm_tid t);
/* out if given (checking it can hold `bytes`), else a new intermediate of that shape. */
vkmm_tid vkmm_g_output(vkmm_graph *g, vkmm_tid out, vkmm_dtype type, uint32_t ne0, uint32_t ne1, uint32_t ne2,
                       const char *name);

#endif
