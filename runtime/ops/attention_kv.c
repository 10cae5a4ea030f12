/* runtime/ops/attention_kv.c — the KV cache layout (row and cache sizes) and the op that stores new K or V rows
 * into it, converting to f16 or quantizing to Q8_0 on the GPU. */
#include "attention.h"
#include "attention_internal.h"

uint64_t vkmm_kv_row_bytes(const vkmm_kv_layout *kv)
{
    if (kv->head_dim == 0)
        return 0;
    if (kv->type == VKMM_F16)
        return (uint64_t)kv->head_dim * 2;
    if (kv->type == VKMM_Q8_0 && kv->head_dim % 32 == 0)
        return (uint64_t)kv->head_dim / 32 * 34;
    return 0;
}

uint64_t vkmm_kv_cache_bytes(const vkmm_kv_layout *kv)
{
    return vkmm_kv_row_bytes(kv) * kv->capacity * kv->n_kv_head;
}

vkmm_status vkmm_attn_check_layout(const vkmm_kv_layout *kv, const char *what, vkmm_error *err)
{
    if (kv->type != VKMM_F16 && kv->type != VKMM_Q8_0)
        return vkmm_fail(err, VKMM_ERR_UNSUPPORTED, "%s: KV cache type %d (F16 or Q8_0 only)", what, (int)kv->type);
    if (kv->n_kv_head == 0 || kv->capacity == 0)
        return vkmm_fail(err, VKMM_ERR_INVALID_ARG, "%s: KV cache with %u heads and %u slots", what, kv->n_kv_head,
                         kv->capacity);
    if (kv->head_dim == 0 || kv->head_dim % 8 || (kv->type == VKMM_Q8_0 && kv->head_dim % 32))
        return vkmm_fail(err, VKMM_ERR_UNSUPPORTED, "%s: head_dim %u for a %s cache (a multiple of %d)", what,
                         kv->head_dim, kv->type == VKMM_F16 ? "F16" : "Q8_0", kv->type == VKMM_F16 ? 8 : 32);
    if (kv->ring > kv->capacity && !kv->page_size)
        return vkmm_fail(err, VKMM_ERR_INVALID_ARG, "%s: ring of %u slots in a cache of %u", what, kv->ring,
                         kv->capacity);
    if (kv->page_size && kv->capacity % kv->page_size)
        return vkmm_fail(err, VKMM_ERR_INVALID_ARG, "%s: a paged cache of %u slots is not whole pages of %u", what,
                         kv->capacity, kv->page_size);
    return VKMM_OK;
}

uint64_t vkmm_attn_bind_limit(const vkmm_ops *ops)
{
    /* bind_limit (tuning) lowers the device's limit; tests use it to exercise the split dispatches */
    uint64_t limit = ops->dev->max_storage_buffer_range;
    int64_t t = vkmm_ops_tune(ops, VKMM_TUNE_ATTENTION_BIND_LIMIT);
    if (t > 0 && (uint64_t)t < limit)
        limit = (uint64_t)t;
    uint64_t align = ops->dev->min_storage_offset_alignment ? ops->dev->min_storage_offset_alignment : 1;
    /* a binding grows by up to align-1 bytes when its start is rounded down */
    return limit > align ? limit - (align - 1) : 1;
}

vkmm_status vkmm_op_kv_store(vkmm_ops *ops, vkmm_cmd *cmd, const vkmm_kv_layout *kv, vkmm_range src,
                             vkmm_range cache, uint32_t pos0, uint32_t n, vkmm_error *err)
{
    vkmm_kv_store_io io = {.src = src, .cache = cache, .pos0 = pos0, .n = n};
    return vkmm_op_kv_store_io(ops, cmd, kv, &io, err);
}

vkmm_status vkmm_op_kv_store_dyn(vkmm_ops *ops, vkmm_cmd *cmd, const vkmm_kv_layout *kv, vkmm_range src,
                                 vkmm_range cache, uint32_t pos0, uint32_t n, vkmm_range step, vkmm_error *err)
{
    vkmm_kv_store_io io = {.src = src, .cache = cache, .pos0 = pos0, .n = n, .step = step};
    return vkmm_op_kv_store_io(ops, cmd, kv, &io, err);
}

static vkmm_status store(vkmm_ops *ops, vkmm_cmd *cmd, const vkmm_kv_layout *kv, const vkmm_kv_store_io *io,
                         vkmm_error *err);

vkmm_status vkmm_op_kv_store_io(vkmm_ops *ops, vkmm_cmd *cmd, const vkmm_kv_layout *kv, const vkmm_kv_store_io *io,
                                vkmm_error *err)
{
    if (!io->cache2.size)
        return store(ops, cmd, kv, io, err);
    /* K and V together where each cache is one binding; else one after the other */
    uint64_t head_bytes = vkmm_kv_row_bytes(kv) * kv->capacity, limit = vkmm_attn_bind_limit(ops);
    if (head_bytes * kv->n_kv_head <= limit)
        return store(ops, cmd, kv, io, err);
    vkmm_kv_store_io k = *io, v = *io;
    k.src2 = k.cache2 = v.src2 = v.cache2 = (vkmm_range){0};
    v.src = io->src2;
    v.cache = io->cache2;
    vkmm_status s = store(ops, cmd, kv, &k, err);
    return s ? s : store(ops, cmd, kv, &v, err);
}

static vkmm_status store(vkmm_ops *ops, vkmm_cmd *cmd, const vkmm_kv_layout *kv, const vkmm_kv_store_io *io,
                         vkmm_error *err)
{
    vkmm_status s = vkmm_attn_check_layout(kv, "kv_store", err);
    uint32_t n = io->n, pos0 = io->pos0;
    if (s || n == 0)
        return s;
    if (!kv->page_size && !io->seqs.size && (kv->ring ? n > kv->ring : (uint64_t)pos0 + n > kv->capacity))
        return vkmm_fail(err, VKMM_ERR_INVALID_ARG, "kv_store: rows %u..%u do not fit a %s of %u slots", pos0,
                         pos0 + n - 1, kv->ring ? "ring" : "linear cache", kv->ring ? kv->ring : kv->capacity);
    if (kv->ring && n > kv->ring)
        return vkmm_fail(err, VKMM_ERR_INVALID_ARG, "kv_store: %u rows into a ring of %u", n, kv->ring);
    if ((kv->page_size && !io->pages.size) || (io->seqs.size && io->seqs.size < (uint64_t)n * sizeof(vkmm_kv_seq)))
        return vkmm_fail(err, VKMM_ERR_INVALID_ARG, "kv_store: a paged cache without page tables, or %u rows with "
                         "%llu bytes of sequences", n, (unsigned long long)io->seqs.size);
    uint64_t row_bytes = vkmm_kv_row_bytes(kv);
    uint64_t head_bytes = row_bytes * kv->capacity;
    uint64_t src_row = (uint64_t)kv->n_kv_head * kv->head_dim * 4;
    if (io->src.size < src_row * n || io->cache.size < head_bytes * kv->n_kv_head)
        return vkmm_fail(err, VKMM_ERR_INVALID_ARG, "kv_store: source (%llu bytes) or cache (%llu bytes) too small",
                         (unsigned long long)io->src.size, (unsigned long long)io->cache.size);

    bool f16 = kv->type == VKMM_F16;
    uint32_t unit = f16 ? 4 : 2;
    /* the source is bound whole (n rows); the cache is cut into groups of heads that fit a binding */
    uint64_t limit = vkmm_attn_bind_limit(ops);
    if (src_row * n > limit)
        return vkmm_fail(err, VKMM_ERR_UNSUPPORTED, "kv_store: %u rows (%llu bytes) exceed one binding; store fewer",
                         n, (unsigned long long)(src_row * n));
    uint64_t heads_per = limit / head_bytes;
    uint32_t pair = io->cache2.size != 0; /* (the caller checked that both fit one binding each) */
    if (pair && (io->src2.size < src_row * n || io->cache2.size < head_bytes * kv->n_kv_head))
        return vkmm_fail(err, VKMM_ERR_INVALID_ARG, "kv_store: V source (%llu bytes) or cache (%llu bytes) too small",
                         (unsigned long long)io->src2.size, (unsigned long long)io->cache2.size);
    if (heads_per == 0)
        return vkmm_fail(err, VKMM_ERR_UNSUPPORTED, "kv_store: one head's cache (%llu bytes) exceeds a binding",
                         (unsigned long long)head_bytes);
    uint32_t wg = vkmm_ops_workgroup(ops, VKMM_TUNE_KV_STORE_WORKGROUP);
    vkmm_pipeline_desc pd = {.shader = f16 ? "kv_store_f16" : "kv_store_q8_0", .spec = {wg}, .n_spec = 1};
    vkmm_range src_rows = vkmm_range_sub(io->src, 0, src_row * n);
    /* unused bindings get the source: bound, never read */
    vkmm_range dyn = io->seqs.size ? vkmm_range_sub(io->seqs, 0, (uint64_t)n * sizeof(vkmm_kv_seq))
                     : io->step.size ? vkmm_range_sub(io->step, 0, 4) : src_rows;
    vkmm_range pages = kv->page_size ? io->pages : src_rows;
    for (uint32_t h0 = 0; h0 < kv->n_kv_head; h0 += (uint32_t)heads_per) {
        uint32_t nh = kv->n_kv_head - h0 < heads_per ? kv->n_kv_head - h0 : (uint32_t)heads_per;
        struct {
            uint32_t n, n_kv_head, h0, nh, head_dim, capacity, ring, pos0, src_off, dst_off, use_dyn, dyn_off;
            uint32_t page_size, pt_off, pg_off, pair, src2_off, dst2_off;
        } pc = {n, kv->n_kv_head, h0, nh, kv->head_dim, kv->capacity, kv->ring, pos0, 0, 0,
                io->seqs.size ? 2 : io->step.size ? 1 : 0, 0, kv->page_size, io->pt_off, 0, pair, 0, 0};
        vkmm_range cache = vkmm_range_sub(io->cache, h0 * head_bytes, nh * head_bytes);
        /* without V, bindings 4 and 5 repeat 0 and 1 (bound, never touched) */
        vkmm_binding b[6] = {
            vkmm_ops_bind(ops, src_rows, false, 4, &pc.src_off),
            vkmm_ops_bind(ops, cache, true, unit, &pc.dst_off),
            vkmm_ops_bind(ops, dyn, false, 4, &pc.dyn_off),
            vkmm_ops_bind(ops, pages, false, 4, &pc.pg_off),
            vkmm_ops_bind(ops, pair ? vkmm_range_sub(io->src2, 0, src_row * n) : src_rows, false, 4, &pc.src2_off),
            vkmm_ops_bind(ops, pair ? vkmm_range_sub(io->cache2, 0, nh * head_bytes) : cache, true, unit, &pc.dst2_off),
        };
        if (b[0].skip % 4 || b[1].skip % unit || b[2].skip % 4 || b[3].skip % 4 || b[4].skip % 4 || b[5].skip % unit)
            return vkmm_fail(err, VKMM_ERR_INVALID_ARG, "kv_store: source or cache range misaligned for %s",
                             f16 ? "F16" : "Q8_0");
        uint32_t per = f16 ? kv->head_dim / 2 : kv->head_dim / 32;
        uint32_t groups[3] = {vkmm_ops_groups_for(ops, (uint64_t)n * nh * per * (pair + 1), wg), 1, 1};
        s = vkmm_ops_record(ops, cmd, &pd, b, 6, &pc, sizeof pc, groups, "kv_store", err);
        if (s)
            return s;
    }
    return VKMM_OK;
}
