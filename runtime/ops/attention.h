/* runtime/ops/attention.h — fused attention over a KV cache (grouped-query, causal / sliding window /
 * bidirectional spans, soft-capping, split-KV decode) and the op that stores new K/V rows into the cache. */
#ifndef VKMM_OPS_ATTENTION_H
#define VKMM_OPS_ATTENTION_H

#include <stdbool.h>

#include "ops.h"

#define VKMM_ATTENTION_MAX_SPANS 64
#define VKMM_ATTENTION_MAX_SPLIT 128

/* One layer's K (or V) cache: [n_kv_head][capacity][head_dim] of F16 or Q8_0 (blocks of 32 along head_dim).
 * Linear (ring = 0): slot = position. Ring (ring = R <= capacity): slot = position % R, and only the last R
 * positions are held (sliding-window layers keep window + chunk slots). Paged (page_size = P > 0): the cache is
 * a pool of capacity / P pages shared by sequences, and a sequence's slot r (its position, or ring index) lives
 * in slot pages[pt_off + r / P]·P + r % P, pages being its page table (u32 page numbers). */
typedef struct vkmm_kv_layout {
    vkmm_dtype type;
    uint32_t n_kv_head, head_dim;
    uint32_t capacity;
    uint32_t ring;
    uint32_t page_size;
} vkmm_kv_layout;

/* One query row per sequence (a batched decode): row i's position, its cache length (positions [0, kv_len) held,
 * the new one included) and the offset of its page table, as the GPU reads them. */
typedef struct vkmm_kv_seq {
    int32_t pos, kv_len, pt_off, unused;
} vkmm_kv_seq;

/* Bytes of one slot of one head, and of the whole cache; 0 if the layout is not one vkmm stores. */
uint64_t vkmm_kv_row_bytes(const vkmm_kv_layout *kv);
uint64_t vkmm_kv_cache_bytes(const vkmm_kv_layout *kv);

/* out[i][j] = softmax_k(mask(s_ijk)) · V for query row i (position q_pos0 + i), head j, where
 * s = scale · q·k, soft-capped (cap·tanh(s/cap)) when softcap > 0, and key p_k is allowed when
 *   same_span(p_q, p_k) OR ((!causal OR p_k <= p_q) AND (window == 0 OR p_q - p_k < window)),
 * or, with spans_in_window, when
 *   (same_span(p_q, p_k) OR !causal OR p_k <= p_q) AND (window == 0 OR p_q - p_k < window)
 * (Gemma 4's sliding layers: an image's rows see each other, but not past the window behind them).
 * Query head j reads KV head j / (n_head / n_kv_head). Rows with no allowed key are zeros. */
typedef struct vkmm_attention_params {
    vkmm_kv_layout kv;       /* K and V share the layout */
    uint32_t n_q;            /* query positions */
    uint32_t n_head;         /* query heads, a multiple of kv.n_kv_head */
    uint32_t q_pos0;         /* position of query row 0 */
    uint32_t kv_len;         /* the cache holds positions [0, kv_len) (the last `ring` of them for a ring) */
    bool causal;
    uint32_t window;         /* 0: none */
    uint32_t n_spans;        /* bidirectional spans [start, end) as u32 pairs in io.spans, at most 64 */
    bool spans_in_window;    /* the window bounds span keys too (see above) */
    float scale;
    float softcap;           /* 0: none */
    uint32_t n_split;        /* KV splits; 0: chosen from kv_len and the device (tuning table) */
    uint32_t pt_off;         /* paged cache: the page table's offset in io.pages (one sequence) */
    bool batch;              /* each query row is a sequence of its own, described by io.seqs */
} vkmm_attention_params;

typedef struct vkmm_attention_io {
    vkmm_range q;            /* f32 [n_q][n_head][head_dim] */
    vkmm_range k, v;         /* caches (16-byte aligned for F16, 4-byte for Q8_0) */
    vkmm_range spans;        /* u32 (start, end) pairs; unused (may be empty) when n_spans = 0 */
    vkmm_range scratch;      /* vkmm_op_attention_scratch_bytes bytes, 16-byte aligned; unused when that is 0 */
    vkmm_range o;            /* f32 [n_q][n_head][head_dim]; may be q itself (a workgroup reads its q rows before it
                                writes them), never overlaps scratch, K or V */
    vkmm_range step;         /* replay: i32 {q_pos0, kv_len} read at run time (size 0: the params' values).
                                Then params.q_pos0 must be 0 and params.kv_len the largest length the
                                replays will reach (it sizes the splits). */
    vkmm_range pages;        /* paged cache: u32 page tables (size 0 when kv.page_size is 0) */
    vkmm_range seqs;         /* params.batch: vkmm_kv_seq [n_q], one per query row, read at run time. Then step
                                is unused, params.q_pos0 must be 0 and params.kv_len the largest length any
                                row may reach; there are no spans. */
} vkmm_attention_io;

vkmm_status vkmm_op_attention(vkmm_ops *ops, vkmm_cmd *cmd, const vkmm_attention_params *p,
                              const vkmm_attention_io *io, vkmm_error *err);
/* How many KV splits vkmm_op_attention will use for these parameters on this device. */
uint32_t vkmm_op_attention_splits(const vkmm_ops *ops, const vkmm_attention_params *p);
/* Scratch bytes a call needs (0 when it does not split). */
uint64_t vkmm_op_attention_scratch_bytes(const vkmm_ops *ops, const vkmm_attention_params *p);
/* Minimal traffic (Q, O, and the K/V rows each KV group reads) and flops (2 per multiply-add of q·k and p·v,
 * over the allowed keys; spans are not counted) of one call, for GB/s and GFLOP/s in benchmarks. */
void vkmm_op_attention_cost(const vkmm_attention_params *p, uint64_t *bytes, uint64_t *flops);

/* Writes n rows src f32 [n][n_kv_head][head_dim] into the cache at positions pos0 .. pos0+n-1
 * (converted to f16 with round-to-nearest-even, or quantized to Q8_0 blocks). With a ring, n <= ring. */
vkmm_status vkmm_op_kv_store(vkmm_ops *ops, vkmm_cmd *cmd, const vkmm_kv_layout *kv, vkmm_range src,
                             vkmm_range cache, uint32_t pos0, uint32_t n, vkmm_error *err);
/* The same with the position read at run time from step (u32 at its start) plus pos0: a replayed decode. */
vkmm_status vkmm_op_kv_store_dyn(vkmm_ops *ops, vkmm_cmd *cmd, const vkmm_kv_layout *kv, vkmm_range src,
                                 vkmm_range cache, uint32_t pos0, uint32_t n, vkmm_range step, vkmm_error *err);

/* Everything a store can take: positions from the call, a replay's step or per-row sequences; a page table. */
typedef struct vkmm_kv_store_io {
    vkmm_range src, cache;
    uint32_t pos0, n;
    vkmm_range step;         /* i32 at its start added to pos0 (a replayed decode), or size 0 */
    vkmm_range pages;        /* paged cache: u32 page tables */
    uint32_t pt_off;         /* paged cache, one sequence: its page table's offset */
    vkmm_range seqs;         /* vkmm_kv_seq [n]: row i is one sequence's token at seqs[i].pos (size 0: one sequence) */
    vkmm_range src2, cache2; /* size > 0: V rows into V's cache as well, the same way (one dispatch where both fit
                                one binding each; two otherwise) */
} vkmm_kv_store_io;
vkmm_status vkmm_op_kv_store_io(vkmm_ops *ops, vkmm_cmd *cmd, const vkmm_kv_layout *kv, const vkmm_kv_store_io *io,
                                vkmm_error *err);

#endif
