/* runtime/ops/attention.c — host side of shaders/attention/attention.comp and merge.comp: checks, the tile plan
 * (rows, keys, threads from head_dim, the tuning table and the device's shared memory), the decode split count,
 * and dispatches cut to the device's binding limit. */
#include <math.h>
#include <stdio.h>

#include "attention.h"
#include "attention_internal.h"

typedef struct attn_plan {
    uint32_t wg, rows, keys, tpr, oreg, loads; /* specialization constants 0..5 */
    uint32_t gw, bp;  /* heads of one KV group and positions per workgroup (rows = gw·bp) */
    uint32_t n_split;
} attn_plan;

/* Calls with at most this many query rows are decode-shaped: few rows per workgroup streaming many keys,
 * with their own tile and workgroup size, split over the KV length. */
#define DECODE_ROWS 4

/* What attention.comp declares as shared memory for these constants. */
static uint64_t shared_bytes(uint32_t rows, uint32_t keys, uint32_t d)
{
    uint64_t d4 = d / 4;
    return 16 * rows * d4 + 16 * keys * (d4 + 1) + 4 * (uint64_t)rows * (keys + 1) + 32 * (uint64_t)rows;
}

static uint32_t largest_divisor_upto(uint32_t n, uint32_t cap)
{
    for (uint32_t d = cap < n ? cap : n; d > 1; d--)
        if (n % d == 0)
            return d;
    return 1;
}

static int64_t clamp64(int64_t v, int64_t lo, int64_t hi)
{
    return v < lo ? lo : v > hi ? hi : v;
}

/* First position the cache holds. */
static uint32_t kv_first(const vkmm_attention_params *p)
{
    return p->kv.ring && p->kv_len > p->kv.ring ? p->kv_len - p->kv.ring : 0;
}

static void plan_tiles(const vkmm_ops *ops, const vkmm_attention_params *p, attn_plan *pl)
{
    uint32_t d = p->kv.head_dim, group = p->n_head / p->kv.n_kv_head;
    bool batch = p->batch, decode = batch || p->n_q <= DECODE_ROWS; /* a batch is a decode per sequence */
    pl->wg = vkmm_ops_workgroup(ops, VKMM_TUNE_ATTENTION_WORKGROUP);
    if (decode) {
        int64_t cap = ops->dev->max_workgroup_invocations < ops->dev->max_workgroup_size[0]
                          ? ops->dev->max_workgroup_invocations : ops->dev->max_workgroup_size[0];
        pl->wg = (uint32_t)clamp64(vkmm_ops_tune(ops, VKMM_TUNE_ATTENTION_DECODE_WORKGROUP), 1, cap);
    }
    uint32_t rows = (uint32_t)clamp64(vkmm_ops_tune(ops, VKMM_TUNE_ATTENTION_ROWS), 1, pl->wg);
    uint32_t keys = (uint32_t)clamp64(vkmm_ops_tune(ops, decode ? VKMM_TUNE_ATTENTION_DECODE_KEYS : VKMM_TUNE_ATTENTION_KEYS),
                                      1, 1024);
    pl->gw = largest_divisor_upto(group, rows);
    /* prefill fills the workgroup even when n_q is short, so one pipeline serves every prompt length */
    uint32_t per_wg = rows / pl->gw;
    pl->bp = batch ? 1 : decode && p->n_q < per_wg ? p->n_q : per_wg; /* a batch: one sequence per workgroup */
    /* shared_limit (tuning) lowers the device's figure: tests run a 16 KiB plan on any device this way */
    uint64_t shm = ops->dev->shared_memory;
    int64_t limit = vkmm_ops_tune(ops, VKMM_TUNE_ATTENTION_SHARED_LIMIT);
    if (limit > 0 && (uint64_t)limit < shm)
        shm = (uint64_t)limit;
    while (shared_bytes(pl->gw * pl->bp, keys, d) > shm) {
        if (keys > 8)
            keys = (keys + 1) / 2;
        else if (pl->bp > 1)
            pl->bp /= 2;
        else if (pl->gw > 1)
            pl->gw = largest_divisor_upto(group, pl->gw - 1);
        else if (keys > 1)
            keys /= 2;
        else
            break; /* 1 row, 1 key: about 2 KiB even at head_dim 256 */
    }
    pl->rows = pl->gw * pl->bp;
    pl->keys = keys;
    pl->tpr = pl->wg / pl->rows < d / 4 ? pl->wg / pl->rows : d / 4;
    pl->oreg = (d / 4 + pl->tpr - 1) / pl->tpr;
    /* tile items (an F16 uvec4 of 8 values, a Q8_0 block pair of 64) each thread fetches */
    uint32_t items = pl->keys * (p->kv.type == VKMM_F16 ? d / 8 : d / 64);
    pl->loads = (items + pl->wg - 1) / pl->wg;
}

static uint32_t choose_splits(const vkmm_ops *ops, const vkmm_attention_params *p, const attn_plan *pl)
{
    if (p->n_split)
        return p->n_split < VKMM_ATTENTION_MAX_SPLIT ? p->n_split : VKMM_ATTENTION_MAX_SPLIT;
    /* only decode splits on its own: prefill has rows enough to fill the device, and its scratch would grow
     * with n_q */
    if (p->n_q > DECODE_ROWS && !p->batch)
        return 1;
    uint64_t group = p->n_head / p->kv.n_kv_head;
    uint64_t base = (p->n_q + pl->bp - 1) / pl->bp * p->kv.n_kv_head * (group / pl->gw);
    uint64_t target = (uint64_t)clamp64(vkmm_ops_tune(ops, VKMM_TUNE_ATTENTION_SPLIT_GROUPS), 1, 1 << 20);
    if (base >= target || p->kv_len == 0)
        return 1;
    uint64_t keys = p->kv_len - kv_first(p);
    if (p->window && !p->n_spans && keys > (uint64_t)p->window + p->n_q - 1)
        keys = (uint64_t)p->window + p->n_q - 1;
    uint64_t min_keys = (uint64_t)clamp64(vkmm_ops_tune(ops, VKMM_TUNE_ATTENTION_SPLIT_MIN_KEYS), 1, 1 << 30);
    uint64_t ns = (target + base - 1) / base;
    uint64_t by_keys = (keys + min_keys - 1) / min_keys;
    if (ns > by_keys)
        ns = by_keys;
    if (ns > VKMM_ATTENTION_MAX_SPLIT)
        ns = VKMM_ATTENTION_MAX_SPLIT;
    return ns ? (uint32_t)ns : 1;
}

static vkmm_status check_params(const vkmm_attention_params *p, vkmm_error *err)
{
    vkmm_status s = vkmm_attn_check_layout(&p->kv, "attention", err);
    if (s)
        return s;
    uint32_t d = p->kv.head_dim;
    if (d != 64 && d != 72 && d != 128 && d != 256 && d != 512)
        return vkmm_fail(err, VKMM_ERR_UNSUPPORTED, "attention: head_dim %u (64, 72, 128, 256 or 512)", d);
    if (p->n_head == 0 || p->n_head > 16384 || p->n_head % p->kv.n_kv_head)
        return vkmm_fail(err, VKMM_ERR_INVALID_ARG, "attention: %u query heads for %u KV heads (need a multiple)",
                         p->n_head, p->kv.n_kv_head);
    if (!p->kv.ring && !p->kv.page_size && p->kv_len > p->kv.capacity)
        return vkmm_fail(err, VKMM_ERR_INVALID_ARG, "attention: kv_len %u in a linear cache of %u slots", p->kv_len,
                         p->kv.capacity);
    if ((uint64_t)p->q_pos0 + p->n_q > INT32_MAX || p->kv_len > INT32_MAX || p->window > INT32_MAX)
        return vkmm_fail(err, VKMM_ERR_INVALID_ARG, "attention: positions past 2^31");
    if (p->n_spans > VKMM_ATTENTION_MAX_SPANS)
        return vkmm_fail(err, VKMM_ERR_INVALID_ARG, "attention: %u spans (at most %d)", p->n_spans,
                         VKMM_ATTENTION_MAX_SPANS);
    if (!isfinite(p->scale) || !isfinite(p->softcap) || p->softcap < 0)
        return vkmm_fail(err, VKMM_ERR_INVALID_ARG, "attention: scale %g, softcap %g", (double)p->scale,
                         (double)p->softcap);
    return VKMM_OK;
}

uint32_t vkmm_op_attention_splits(const vkmm_ops *ops, const vkmm_attention_params *p)
{
    if (check_params(p, NULL) || p->n_q == 0)
        return 1;
    attn_plan pl;
    plan_tiles(ops, p, &pl);
    return choose_splits(ops, p, &pl);
}

uint64_t vkmm_op_attention_scratch_bytes(const vkmm_ops *ops, const vkmm_attention_params *p)
{
    if (vkmm_attn_mm_applies(ops, p))
        return vkmm_attn_mm_scratch_bytes(p);
    uint32_t ns = vkmm_op_attention_splits(ops, p);
    return ns > 1 ? (uint64_t)p->n_q * p->n_head * ns * (p->kv.head_dim + 4) * 4 : 0;
}

void vkmm_op_attention_cost(const vkmm_attention_params *p, uint64_t *bytes, uint64_t *flops)
{
    /* per row, the causal/window interval of allowed keys within what the cache holds */
    int64_t first = kv_first(p), hull_lo = INT64_MAX, hull_hi = INT64_MIN;
    uint64_t allowed = 0;
    for (uint32_t i = 0; i < p->n_q; i++) {
        int64_t pq = (int64_t)p->q_pos0 + i;
        int64_t lo = p->window ? pq - p->window + 1 : first, hi = p->causal ? pq + 1 : p->kv_len;
        lo = lo > first ? lo : first;
        hi = hi < p->kv_len ? hi : p->kv_len;
        if (lo < hi) {
            allowed += (uint64_t)(hi - lo);
            hull_lo = lo < hull_lo ? lo : hull_lo;
            hull_hi = hi > hull_hi ? hi : hull_hi;
        }
    }
    uint64_t keys = hull_lo < hull_hi ? (uint64_t)(hull_hi - hull_lo) : 0;
    uint64_t qo = 2ull * p->n_q * p->n_head * p->kv.head_dim * 4;
    *bytes = qo + 2 * keys * p->kv.n_kv_head * vkmm_kv_row_bytes(&p->kv);
    *flops = 4ull * allowed * p->n_head * p->kv.head_dim;
}

/* A binding for r that fails unless its start is a multiple of `unit` bytes past the device's alignment. */
static vkmm_status bind(const vkmm_ops *ops, vkmm_range r, bool write, uint32_t unit, const char *name,
                        vkmm_binding *b, uint32_t *off, vkmm_error *err)
{
    *b = vkmm_ops_bind(ops, r, write, unit, off);
    if (b->skip % unit)
        return vkmm_fail(err, VKMM_ERR_INVALID_ARG, "attention: %s range at offset %llu is not %u-byte aligned", name,
                         (unsigned long long)r.offset, unit);
    return VKMM_OK;
}

typedef struct attn_push {
    uint32_t n_q, n_head, group, gw, kvh0;
    int32_t q_pos0, kv_lo, kv_len;
    uint32_t ring, capacity, mask; /* bit 0: causal; bit 1: spans_in_window */
    int32_t window;
    uint32_t n_spans;
    float scale, softcap;
    uint32_t n_split;
    uint32_t q_off, k_off, v_off, s_off, o_off, p_off;
    uint32_t use_dyn, dyn_off;
    uint32_t page_size, pt_off, pg_off;
} attn_push;

vkmm_status vkmm_op_attention(vkmm_ops *ops, vkmm_cmd *cmd, const vkmm_attention_params *p,
                              const vkmm_attention_io *io, vkmm_error *err)
{
    vkmm_status s = check_params(p, err);
    if (s || p->n_q == 0)
        return s;
    bool batch = p->batch;
    if (batch && (io->seqs.size < (uint64_t)p->n_q * sizeof(vkmm_kv_seq) || p->n_spans || p->q_pos0))
        return vkmm_fail(err, VKMM_ERR_INVALID_ARG, "attention: a batch of %u sequences needs %llu bytes of "
                         "descriptors (has %llu), no spans and q_pos0 0", p->n_q,
                         (unsigned long long)(p->n_q * sizeof(vkmm_kv_seq)), (unsigned long long)io->seqs.size);
    if (p->kv.page_size && io->pages.size < 4)
        return vkmm_fail(err, VKMM_ERR_INVALID_ARG, "attention: a paged cache needs its page tables");
    if (!io->step.size && vkmm_attn_mm_applies(ops, p))
        return vkmm_attn_mm(ops, cmd, p, io, err);
    attn_plan pl;
    plan_tiles(ops, p, &pl);
    pl.n_split = choose_splits(ops, p, &pl);

    uint32_t d = p->kv.head_dim, group = p->n_head / p->kv.n_kv_head, hblocks = group / pl.gw;
    bool f16 = p->kv.type == VKMM_F16;
    uint64_t q_row = (uint64_t)p->n_head * d * 4;
    uint64_t s_row = pl.n_split > 1 ? (uint64_t)p->n_head * pl.n_split * (d + 4) * 4 : 0;
    uint64_t head_bytes = vkmm_kv_row_bytes(&p->kv) * p->kv.capacity;
    if (io->q.size < q_row * p->n_q || io->o.size < q_row * p->n_q)
        return vkmm_fail(err, VKMM_ERR_INVALID_ARG, "attention: q (%llu bytes) or o (%llu bytes) below %llu",
                         (unsigned long long)io->q.size, (unsigned long long)io->o.size,
                         (unsigned long long)(q_row * p->n_q));
    if (io->k.size < head_bytes * p->kv.n_kv_head || io->v.size < head_bytes * p->kv.n_kv_head)
        return vkmm_fail(err, VKMM_ERR_INVALID_ARG, "attention: K or V cache range below %llu bytes",
                         (unsigned long long)(head_bytes * p->kv.n_kv_head));
    if (io->spans.size < (uint64_t)p->n_spans * 8)
        return vkmm_fail(err, VKMM_ERR_INVALID_ARG, "attention: %u spans need %u bytes, the range has %llu",
                         p->n_spans, p->n_spans * 8, (unsigned long long)io->spans.size);
    if (io->scratch.size < s_row * p->n_q)
        return vkmm_fail(err, VKMM_ERR_INVALID_ARG, "attention: %u splits need %llu scratch bytes, the range has %llu",
                         pl.n_split, (unsigned long long)(s_row * p->n_q), (unsigned long long)io->scratch.size);
    /* Alignment is checked on the whole ranges before anything is recorded; the pieces cut below start at
     * multiples of 16 bytes (rows of Q, O, scratch; F16 heads) or 4 bytes (Q8_0 heads) past them. */
    vkmm_binding probe;
    uint32_t unused, kv_unit = f16 ? 16 : 4;
    if ((s = bind(ops, io->q, false, 4, "q", &probe, &unused, err)) ||
        (s = bind(ops, io->o, true, 4, "o", &probe, &unused, err)) ||
        (s = bind(ops, io->k, false, kv_unit, "K", &probe, &unused, err)) ||
        (s = bind(ops, io->v, false, kv_unit, "V", &probe, &unused, err)) ||
        (p->n_spans && (s = bind(ops, io->spans, false, 4, "spans", &probe, &unused, err))) ||
        (pl.n_split > 1 && (s = bind(ops, io->scratch, true, 16, "scratch", &probe, &unused, err))))
        return s;

    /* Cut into dispatches whose bindings fit the device: query rows (Q, O, scratch) x KV heads (K, V). */
    uint64_t limit = vkmm_attn_bind_limit(ops);
    uint64_t unit = s_row > q_row ? s_row : q_row;
    uint64_t rows_per = limit / unit;
    uint64_t grid_rows = pl.n_split > 1 ? 65535 : 65535ull * pl.bp; /* merge grid y, attention grid x */
    if (rows_per > grid_rows)
        rows_per = grid_rows;
    if (rows_per >= pl.bp)
        rows_per -= rows_per % pl.bp; /* whole workgroups per dispatch */
    uint64_t heads_per = limit / head_bytes;
    if (heads_per > 65535 / hblocks)
        heads_per = 65535 / hblocks;
    if (rows_per == 0 || heads_per == 0)
        return vkmm_fail(err, VKMM_ERR_UNSUPPORTED,
                         "attention: one query row (%llu bytes) or one KV head's cache (%llu bytes) exceeds a binding "
                         "(%llu bytes)", (unsigned long long)unit, (unsigned long long)head_bytes,
                         (unsigned long long)limit);

    char shader[32];
    snprintf(shader, sizeof shader, "attention_%s_d%u", f16 ? "f16" : "q8_0", d);
    vkmm_pipeline_desc pd = {.shader = shader, .spec = {pl.wg, pl.rows, pl.keys, pl.tpr, pl.oreg, pl.loads},
                              .n_spec = 6};
    /* merge: a workgroup per (row, head, chunk of `cols` vec4 columns); its threads also split the splits */
    uint32_t merge_wg = vkmm_ops_workgroup(ops, VKMM_TUNE_ATTENTION_MERGE_WORKGROUP);
    uint32_t cols = (uint32_t)clamp64(vkmm_ops_tune(ops, VKMM_TUNE_ATTENTION_MERGE_COLS), 1, merge_wg);
    if (cols > d / 4)
        cols = d / 4;
    uint32_t chunks = (d / 4 + cols - 1) / cols;
    vkmm_pipeline_desc md = {.shader = "attention_merge", .spec = {merge_wg, cols}, .n_spec = 2};
    for (uint32_t r0 = 0; r0 < p->n_q; r0 += (uint32_t)rows_per) {
        uint32_t nr = p->n_q - r0 < rows_per ? p->n_q - r0 : (uint32_t)rows_per;
        vkmm_range q = vkmm_range_sub(io->q, r0 * q_row, nr * q_row), o = vkmm_range_sub(io->o, r0 * q_row, nr * q_row);
        vkmm_range part = pl.n_split > 1 ? vkmm_range_sub(io->scratch, r0 * s_row, nr * s_row) : o;
        for (uint32_t h0 = 0; h0 < p->kv.n_kv_head; h0 += (uint32_t)heads_per) {
            uint32_t nh = p->kv.n_kv_head - h0 < heads_per ? p->kv.n_kv_head - h0 : (uint32_t)heads_per;
            attn_push pc = {
                .n_q = nr, .n_head = p->n_head, .group = group, .gw = pl.gw, .kvh0 = h0,
                .q_pos0 = (int32_t)(p->q_pos0 + r0), .kv_lo = (int32_t)kv_first(p), .kv_len = (int32_t)p->kv_len,
                .ring = p->kv.ring, .capacity = p->kv.capacity,
                .mask = (p->causal ? 1u : 0u) | (p->spans_in_window ? 2u : 0u),
                .window = (int32_t)p->window,
                .n_spans = p->n_spans, .scale = p->scale, .softcap = p->softcap, .n_split = pl.n_split,
                .use_dyn = batch ? 2 : io->step.size ? 1 : 0, .page_size = p->kv.page_size, .pt_off = p->pt_off,
            };
            vkmm_range k = vkmm_range_sub(io->k, h0 * head_bytes, nh * head_bytes);
            vkmm_range v = vkmm_range_sub(io->v, h0 * head_bytes, nh * head_bytes);
            vkmm_range sp = p->n_spans ? vkmm_range_sub(io->spans, 0, p->n_spans * 8ull) : q; /* never read */
            vkmm_binding b[8];
            /* a batch reads its rows' descriptors (from row r0 on), a replay its step; else they bind q, unread */
            vkmm_range dyn = batch ? vkmm_range_sub(io->seqs, r0 * sizeof(vkmm_kv_seq), nr * sizeof(vkmm_kv_seq))
                             : io->step.size ? vkmm_range_sub(io->step, 0, 8) : q;
            if ((s = bind(ops, q, false, 4, "q", &b[0], &pc.q_off, err)) ||
                (s = bind(ops, k, false, kv_unit, "K", &b[1], &pc.k_off, err)) ||
                (s = bind(ops, v, false, kv_unit, "V", &b[2], &pc.v_off, err)) ||
                (s = bind(ops, sp, false, 4, "spans", &b[3], &pc.s_off, err)) ||
                (s = bind(ops, o, true, 4, "o", &b[4], &pc.o_off, err)) ||
                (s = bind(ops, part, true, 4, "scratch", &b[5], &pc.p_off, err)) ||
                (s = bind(ops, dyn, false, 4, "step", &b[6], &pc.dyn_off, err)) ||
                (s = bind(ops, p->kv.page_size ? io->pages : q, false, 4, "pages", &b[7], &pc.pg_off, err)))
                return s;
            uint32_t groups[3] = {(nr + pl.bp - 1) / pl.bp, nh * hblocks, pl.n_split};
            if ((s = vkmm_ops_record(ops, cmd, &pd, b, 8, &pc, sizeof pc, groups, "attention", err)))
                return s;
        }
        if (pl.n_split > 1) {
            struct {
                uint32_t n_head, n_split, head_dim, p_off, o_off;
            } mc = {p->n_head, pl.n_split, d, 0, 0};
            vkmm_binding b[2];
            if ((s = bind(ops, part, false, 16, "scratch", &b[0], &mc.p_off, err)) ||
                (s = bind(ops, o, true, 4, "o", &b[1], &mc.o_off, err)))
                return s;
            uint32_t groups[3] = {p->n_head * chunks, nr, 1};
            if ((s = vkmm_ops_record(ops, cmd, &md, b, 2, &mc, sizeof mc, groups, "attention_merge", err)))
                return s;
        }
    }
    return VKMM_OK;
}
