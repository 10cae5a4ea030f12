/* runtime/engine/forward.c — one prefill pass over a chunk of pending positions: token ids and positions go to
 * host-visible buffers, image rows are copied into the embedding rows they replace, the sequence's pages of the
 * KV pool are taken, the architecture builds the graph, and the logits of the last row are reduced on the GPU to
 * what sampling needs (top candidates and log-sum-exp), so only a few hundred bytes come back unless all logits
 * are wanted. Decode steps are batch.c's. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "batch.h"
#include "nodes.h"
#include "session.h"

static vkmm_status ensure(vkmm_session *s, vkmm_buffer **b, uint64_t bytes, vkmm_mem_kind kind, const char *name,
                          vkmm_error *err)
{
    if (*b && vkmm_buffer_size(*b) >= bytes)
        return VKMM_OK;
    vkmm_buffer_destroy(*b);
    *b = NULL;
    return vkmm_buffer_create(s->m->gpu, bytes, kind, name, b, err);
}

vkmm_status vkmm_items_push(vkmm_items *it, vkmm_item x, vkmm_error *err)
{
    if (it->n == it->cap) {
        uint32_t cap = it->cap ? it->cap * 2 : 256;
        vkmm_item *v = realloc(it->v, cap * sizeof *v);
        if (!v)
            return vkmm_fail(err, VKMM_ERR_HOST_MEMORY, "out of host memory");
        it->v = v;
        it->cap = cap;
    }
    it->v[it->n++] = x;
    return VKMM_OK;
}

/* Spans of rows that see each other among chunk items [0, n): maximal runs of rows of one image whose attention
 * rule is not causal. *sliding_only: the spans hold on sliding-window layers only (every image of a model has
 * the same rule). */
static uint32_t chunk_spans(const vkmm_session *s, const vkmm_item *it, uint32_t n, uint32_t pos0, uint32_t *out,
                            uint32_t max, bool *sliding_only)
{
    uint32_t k = 0;
    *sliding_only = false;
    for (uint32_t i = 0; i < n;) {
        int32_t img = it[i].image;
        if (img < 0 || !vkmm_image_bidirectional(&s->images[img])) {
            i++;
            continue;
        }
        uint32_t j = i;
        while (j < n && it[j].image == img)
            j++;
        *sliding_only = s->images[img].attention == VKMM_MEDIA_BIDIRECTIONAL_SLIDING;
        if (k < max) {
            out[2 * k] = pos0 + i;
            out[2 * k + 1] = pos0 + j;
        }
        k++;
        i = j;
    }
    return k;
}

typedef struct io_ranges {
    vkmm_range ids, positions, logits, step;
} io_ranges;

static vkmm_status build(vkmm_session *s, vkmm_graph *g, const vkmm_item *it, uint32_t n, uint32_t n_spans,
                         bool sliding_only, uint32_t rows, const io_ranges *io, const vkmm_layer_kv *kv,
                         vkmm_error *err)
{
    vkmm_model *m = s->m;
    const vkmm_text_hparams *hp = &m->text->hp;
    uint32_t H = hp->n_embd, pos0 = s->done.n;
    vkmm_tid ids = vkmm_graph_external(g, vkmm_range_sub(io->ids, 0, 4ull * n), VKMM_I32, n, 1, 1, "ids");
    vkmm_tid x = m->text->embed(m->text, g, ids, n);
    for (uint32_t i = 0; it && i < n;) {
        if (it[i].image < 0) {
            i++;
            continue;
        }
        uint32_t j = i;
        while (j < n && it[j].image == it[i].image && it[j].row == it[i].row + (j - i))
            j++;
        const vkmm_image_entry *e = &s->images[it[i].image];
        vkmm_tid img = vkmm_graph_external(g, vkmm_range_sub(vkmm_range_whole(e->rows), 4ull * H * it[i].row, 4ull * H * (j - i)),
                                           VKMM_F32, H, j - i, 1, "image");
        vkmm_g_copy_rows(g, img, H, x, i, H, j - i, H, "image_rows");
        i = j;
    }
    uint32_t V = hp->n_vocab;
    vkmm_tid logits = vkmm_graph_external(g, vkmm_range_sub(io->logits, 0, 4ull * V * rows), VKMM_F32, V, rows, 1,
                                          "logits");
    vkmm_forward fw = {
        .n_tokens = n,
        .pos0 = pos0,
        .x = x,
        .ids = ids,
        .positions = vkmm_range_sub(io->positions, 0, 4ull * n * hp->n_pos_axes),
        .step = io->step,
        .max_kv_len = s->n_ctx,
        .kv_type = m->kv->type,
        .kv = kv,
        .spans = n_spans ? vkmm_range_sub(vkmm_range_whole(s->spans), 0, 8ull * n_spans) : (vkmm_range){0},
        .n_spans = n_spans,
        .spans_sliding_only = sliding_only,
        .logits_from = n - rows,
        .logits = logits,
    };
    m->text->forward(m->text, g, &fw);
    return vkmm_graph_plan(g, err);
}

/* After a forward: the top candidates and log-sum-exp of the last row; the rows themselves when wanted. */
static vkmm_status read_results(vkmm_session *s, vkmm_buffer *logits, uint32_t rows, uint32_t k, bool full,
                                vkmm_error *err)
{
    uint32_t V = s->m->text->hp.n_vocab;
    const uint8_t *r = vkmm_buffer_map(s->results);
    memcpy(s->top, r, sizeof(vkmm_logit) * k);
    s->n_top = k;
    memcpy(&s->lse, r + sizeof(vkmm_logit) * VKMM_TOPK_MAX, 4);
    if (!full)
        return VKMM_OK;
    uint32_t keep = s->p.all_logits ? s->last_rows + rows : rows;
    float *lg = realloc(s->p.all_logits ? s->last_logits : NULL, sizeof *lg * (size_t)V * keep);
    if (!lg)
        return vkmm_fail(err, VKMM_ERR_HOST_MEMORY, "out of host memory");
    if (!s->p.all_logits)
        free(s->last_logits);
    s->last_logits = lg;
    s->last_rows = keep;
    return vkmm_buffer_download(s->m->gpu, logits, 0, lg + (size_t)V * (keep - rows), 4ull * V * rows, err);
}

/* The logits helpers on the last row: top-k candidates and log-sum-exp into the results buffer. */
static vkmm_status record_logit_ops(vkmm_session *s, vkmm_cmd *cmd, vkmm_buffer *logits, vkmm_buffer *scratch,
                                    uint32_t rows, uint32_t k, vkmm_error *err)
{
    vkmm_model *m = s->m;
    uint32_t V = m->text->hp.n_vocab, NT = m->vocab.n_tokens;
    vkmm_range last = vkmm_range_sub(vkmm_range_whole(logits), 4ull * V * (rows - 1), 4ull * NT);
    vkmm_range res = vkmm_range_whole(s->results);
    vkmm_ops_set_label(m->ops, "%s", "logits");
    vkmm_status st = vkmm_op_topk(m->ops, cmd, last, vkmm_range_whole(scratch),
                                  vkmm_range_sub(res, 0, sizeof(vkmm_logit) * VKMM_TOPK_MAX), NT, 1, k, err);
    if (!st)
        st = vkmm_op_logsumexp(m->ops, cmd, last, vkmm_range_whole(scratch),
                               vkmm_range_sub(res, sizeof(vkmm_logit) * VKMM_TOPK_MAX, 16), NT, 1, 1.0f, err);
    vkmm_ops_set_label(m->ops, "%s", "");
    return st;
}

static uint32_t top_count(uint32_t top_k)
{
    return top_k < VKMM_TOP_LOGPROBS ? VKMM_TOP_LOGPROBS : top_k > VKMM_TOPK_MAX ? VKMM_TOPK_MAX : top_k;
}

static vkmm_status forward(vkmm_session *s, uint32_t start, uint32_t n, bool all_logits, bool want_full_row,
                           uint32_t top_k, vkmm_error *err)
{
    vkmm_model *m = s->m;
    const vkmm_item *it = s->pending.v + start;
    uint32_t pos0 = s->done.n, V = m->text->hp.n_vocab, k = top_count(top_k);
    if (pos0 + n > s->n_ctx)
        return vkmm_fail(err, VKMM_ERR_INVALID_ARG, "the context is full: %u positions used + %u new > %u (raise -c)",
                         pos0, n, s->n_ctx);
    vkmm_status st = ensure(s, &s->ids, 4ull * n, VKMM_MEM_HOST, "ids", err);
    if (!st)
        st = ensure(s, &s->positions, 4ull * n * m->text->hp.n_pos_axes, VKMM_MEM_HOST, "positions", err);
    if (st)
        return st;
    int32_t *ids = vkmm_buffer_map(s->ids);
    for (uint32_t i = 0; i < n; i++)
        ids[i] = it[i].image < 0 ? it[i].token : m->text->media_token;
    m->text->positions(m->text, pos0, n, vkmm_buffer_map(s->positions));
    bool sliding_only;
    uint32_t n_spans = chunk_spans(s, it, n, pos0, vkmm_buffer_map(s->spans), VKMM_ATTENTION_MAX_SPANS,
                                   &sliding_only);
    if (n_spans > VKMM_ATTENTION_MAX_SPANS)
        return vkmm_fail(err, VKMM_ERR_UNSUPPORTED, "more than %d images in one prefill chunk", VKMM_ATTENTION_MAX_SPANS);
    uint32_t rows = all_logits ? n : 1;
    st = ensure(s, &s->logits, 4ull * V * rows, VKMM_MEM_DEVICE, "logits", err);
    if (!st)
        st = ensure(s, &s->scratch, vkmm_op_logits_scratch_bytes(m->ops, m->vocab.n_tokens, 1, k), VKMM_MEM_DEVICE,
                    "logits-scratch", err);
    if (st)
        return st;
    /* the pages these positions go to, then the pool's layers as this sequence sees them */
    if ((st = vkmm_kv_grow(s, pos0, pos0 + n, err)))
        return st;
    vkmm_layer_kv *kv = calloc(m->text->hp.n_layer, sizeof *kv);
    if (!kv)
        return vkmm_fail(err, VKMM_ERR_HOST_MEMORY, "out of host memory");
    for (uint32_t l = 0; l < m->text->hp.n_layer; l++)
        kv[l] = vkmm_kv_layer(m->kv, l, s->kv.slot);
    vkmm_graph g;
    vkmm_graph_init(&g, m->ops);
    io_ranges io = {vkmm_range_whole(s->ids), vkmm_range_whole(s->positions), vkmm_range_whole(s->logits), {0}};
    st = build(s, &g, it, n, n_spans, sliding_only, rows, &io, kv, err);
    free(kv);
    if (!st)
        st = ensure(s, &s->arena, g.arena_bytes, VKMM_MEM_DEVICE, "activations", err);
    if (!st)
        vkmm_cmd_reset(s->cmd);
    vkmm_gpu_capture_begin(m->gpu);
    if (!st)
        st = vkmm_graph_record(&g, m->ops, s->cmd, vkmm_range_whole(s->arena), err);
    vkmm_graph_free(&g);
    if (!st)
        st = record_logit_ops(s, s->cmd, s->logits, s->scratch, rows, k, err);
    if (!st)
        st = vkmm_cmd_submit(s->cmd, err);
    vkmm_gpu_capture_end(m->gpu);
    if (st)
        return st;
    vkmm_session_profile_add(s, s->cmd);
    if ((st = read_results(s, s->logits, rows, k, all_logits || want_full_row, err)))
        return st;
    for (uint32_t i = 0; i < n; i++)
        if ((st = vkmm_items_push(&s->done, it[i], err)))
            return st;
    return VKMM_OK;
}

vkmm_status vkmm_session_decode(vkmm_session *s, int32_t token, bool want_full_row, uint32_t top_k, vkmm_error *err)
{
    return vkmm_batch_decode(s, token, want_full_row, top_k, err);
}

/* A chunk is one GPU turn: the model's other sessions' steps come between a long prompt's chunks. */
vkmm_status vkmm_session_forward(vkmm_session *s, uint32_t start, uint32_t n, bool all_logits, bool want_full_row,
                                 uint32_t top_k, vkmm_error *err)
{
    vkmm_step_begin(s->m);
    vkmm_status st = forward(s, start, n, all_logits, want_full_row, top_k, err);
    vkmm_step_end(s->m);
    return st;
}

/* The largest chunk from `start` of at most n_batch positions that does not cut a bidirectional image in two
 * (an image longer than the batch gets a chunk of its own). */
static uint32_t chunk_len(const vkmm_session *s, uint32_t start)
{
    uint32_t left = s->pending.n - start, n = left < s->n_batch ? left : s->n_batch;
    if (n == left)
        return n;
    const vkmm_item *it = s->pending.v + start;
    int32_t img = it[n].image;
    if (img < 0 || !vkmm_image_bidirectional(&s->images[img]) || it[n - 1].image != img)
        return n;
    uint32_t b = n; /* the chunk would end inside the image: end before it instead */
    while (b > 0 && it[b - 1].image == img)
        b--;
    if (b > 0)
        return b;
    while (n < left && it[n].image == img) /* the image starts the chunk: take all of it */
        n++;
    return n;
}

vkmm_status vkmm_session_prefill(vkmm_session *s, uint32_t top_k, bool want_full_row, bool *cancelled,
                                 vkmm_error *err)
{
    vkmm_status st = VKMM_OK;
    uint32_t start = 0;
    *cancelled = false;
    while (start < s->pending.n && !st) {
        if (atomic_load(&s->cancel)) {
            *cancelled = true; /* what was not evaluated stays pending */
            memmove(s->pending.v, s->pending.v + start, (s->pending.n - start) * sizeof *s->pending.v);
            s->pending.n -= start;
            return VKMM_OK;
        }
        uint32_t n = chunk_len(s, start);
        bool last = start + n == s->pending.n;
        st = vkmm_session_forward(s, start, n, s->p.all_logits, want_full_row && last, top_k, err);
        start += n;
    }
    s->pending.n = 0;
    return st;
}
