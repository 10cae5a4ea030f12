/* runtime/engine/batch.c — the model's GPU turns and its batched decode: requests queue, the first thread to find
 * no step running leads one (after waiting briefly for the tokens of every session in its token loop), runs all
 * queued tokens as one forward pass over the shared KV pool, and hands each session its row of results. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "batch.h"
#include "kv_pool.h"
#include "session.h"
#include "nodes.h"
#include "attention.h"

typedef struct request {
    vkmm_session *s;
    int32_t token;
    bool full;
    uint32_t k;
    bool done;
    vkmm_status st;
    vkmm_error err;
    struct request *next;
} request;

typedef struct recording {
    vkmm_cmd *cmd;
    vkmm_buffer *arena;
    uint32_t k, max_ctx;
    bool profile, ok;
} recording;

struct vkmm_batcher {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    request *head, *tail;
    uint32_t queued;
    bool running;
    uint32_t decoding;
    uint32_t max_batch;
    recording rec[VKMM_MAX_BATCH + 1];
    vkmm_buffer *ids, *pos, *seqs, *logits, *scratch, *results;
    uint32_t max_ctx;      /* decode splits are sized for caches this long */
    double last_step_ms;
    uint64_t steps, tokens;
    uint32_t recordings;
};

/* ---- GPU turns ---- */

void vkmm_step_begin(vkmm_model *m)
{
    pthread_mutex_lock(&m->lock);
    uint64_t mine = m->next_turn++;
    while (m->serving != mine)
        pthread_cond_wait(&m->turn, &m->lock);
    pthread_mutex_unlock(&m->lock);
}

void vkmm_step_end(vkmm_model *m)
{
    pthread_mutex_lock(&m->lock);
    m->serving++;
    pthread_cond_broadcast(&m->turn);
    pthread_mutex_unlock(&m->lock);
}

/* ---- setup ---- */

static uint32_t results_stride(void)
{
    return (uint32_t)sizeof(vkmm_logit) * VKMM_TOPK_MAX;
}

vkmm_status vkmm_batcher_create(vkmm_model *m, uint32_t max_batch, vkmm_batcher **out, vkmm_error *err)
{
    *out = NULL;
    vkmm_batcher *b = calloc(1, sizeof *b);
    if (!b)
        return vkmm_fail(err, VKMM_ERR_HOST_MEMORY, "out of host memory");
    pthread_mutex_init(&b->mu, NULL);
    pthread_cond_init(&b->cv, NULL);
    b->max_batch = max_batch ? max_batch : 16;
    if (b->max_batch > VKMM_MAX_BATCH)
        b->max_batch = VKMM_MAX_BATCH;
    const vkmm_text_hparams *hp = &m->text->hp;
    uint32_t B = b->max_batch, V = hp->n_vocab;
    /* the logits of a whole batch in one binding: fewer rows per step on devices with small bindings */
    uint64_t limit = vkmm_gpu_info(m->gpu)->max_storage_buffer_range;
    while (B > 1 && 4ull * V * B > limit)
        B--;
    b->max_batch = B;
    vkmm_status st = vkmm_buffer_create(m->gpu, 4ull * B, VKMM_MEM_HOST, "batch-ids", &b->ids, err);
    if (!st)
        st = vkmm_buffer_create(m->gpu, 4ull * B * hp->n_pos_axes, VKMM_MEM_HOST, "batch-positions", &b->pos, err);
    if (!st)
        st = vkmm_buffer_create(m->gpu, 2ull * B * sizeof(vkmm_kv_seq), VKMM_MEM_HOST, "batch-sequences", &b->seqs, err);
    if (!st)
        st = vkmm_buffer_create(m->gpu, 4ull * V * B, VKMM_MEM_DEVICE, "batch-logits", &b->logits, err);
    if (!st)
        st = vkmm_buffer_create(m->gpu, vkmm_op_logits_scratch_bytes(m->ops, m->vocab.n_tokens, B, VKMM_TOPK_MAX),
                                VKMM_MEM_DEVICE, "batch-scratch", &b->scratch, err);
    if (!st)
        st = vkmm_buffer_create(m->gpu, (uint64_t)B * results_stride() + 16ull * B, VKMM_MEM_HOST, "batch-results",
                                &b->results, err);
    if (st) {
        vkmm_batcher_destroy(b);
        return st;
    }
    *out = b;
    return VKMM_OK;
}

void vkmm_batcher_destroy(vkmm_batcher *b)
{
    if (!b)
        return;
    for (uint32_t n = 0; n <= VKMM_MAX_BATCH; n++) {
        vkmm_cmd_destroy(b->rec[n].cmd);
        vkmm_buffer_destroy(b->rec[n].arena);
    }
    vkmm_buffer_destroy(b->ids);
    vkmm_buffer_destroy(b->pos);
    vkmm_buffer_destroy(b->seqs);
    vkmm_buffer_destroy(b->logits);
    vkmm_buffer_destroy(b->scratch);
    vkmm_buffer_destroy(b->results);
    pthread_mutex_destroy(&b->mu);
    pthread_cond_destroy(&b->cv);
    free(b);
}

/* ---- one batched decode step ---- */

static uint32_t top_count(uint32_t top_k)
{
    return top_k < VKMM_TOP_LOGPROBS ? VKMM_TOP_LOGPROBS : top_k > VKMM_TOPK_MAX ? VKMM_TOPK_MAX : top_k;
}

/* Builds and records the decode graph of n rows (top-k k per row), reading ids, positions and per-sequence
 * descriptors from the batch buffers at run time. */
static vkmm_status record(vkmm_batcher *b, vkmm_model *m, uint32_t n, uint32_t k, bool profile, vkmm_error *err)
{
    recording *r = &b->rec[n];
    const vkmm_text_hparams *hp = &m->text->hp;
    vkmm_kv_pool *pool = m->kv;
    uint32_t V = hp->n_vocab, NT = m->vocab.n_tokens, B = b->max_batch;
    if (r->cmd && r->profile != profile) {
        vkmm_cmd_destroy(r->cmd);
        r->cmd = NULL;
    }
    vkmm_status st = r->cmd ? VKMM_OK : vkmm_cmd_create(m->gpu, profile ? VKMM_CMD_PROFILE : 0, &r->cmd, err);
    if (st)
        return st;
    r->ok = false;
    r->profile = profile;
    vkmm_cmd_reset(r->cmd);
    vkmm_layer_kv *kv = calloc(hp->n_layer, sizeof *kv);
    if (!kv)
        return vkmm_fail(err, VKMM_ERR_HOST_MEMORY, "out of host memory");
    for (uint32_t l = 0; l < hp->n_layer; l++)
        kv[l] = vkmm_kv_layer(pool, l, -1);
    vkmm_graph g;
    vkmm_graph_init(&g, m->ops);
    vkmm_range seqs = vkmm_range_whole(b->seqs);
    vkmm_tid ids = vkmm_graph_external(&g, vkmm_range_sub(vkmm_range_whole(b->ids), 0, 4ull * n), VKMM_I32, n, 1, 1,
                                       "ids");
    vkmm_tid logits = vkmm_graph_external(&g, vkmm_range_sub(vkmm_range_whole(b->logits), 0, 4ull * V * n), VKMM_F32,
                                          V, n, 1, "logits");
    vkmm_forward fw = {
        .n_tokens = n,
        .x = m->text->embed(m->text, &g, ids, n),
        .ids = ids,
        .positions = vkmm_range_sub(vkmm_range_whole(b->pos), 0, 4ull * n * hp->n_pos_axes),
        .max_kv_len = b->max_ctx,
        .kv_type = pool->type,
        .kv = kv,
        .logits = logits,
        .seqs = {vkmm_range_sub(seqs, 0, n * sizeof(vkmm_kv_seq)),
                 vkmm_range_sub(seqs, B * sizeof(vkmm_kv_seq), n * sizeof(vkmm_kv_seq))},
    };
    m->text->forward(m->text, &g, &fw);
    st = vkmm_graph_plan(&g, err);
    if (!st && (!r->arena || vkmm_buffer_size(r->arena) < g.arena_bytes)) {
        vkmm_buffer_destroy(r->arena);
        r->arena = NULL;
        st = vkmm_buffer_create(m->gpu, g.arena_bytes ? g.arena_bytes : 16, VKMM_MEM_DEVICE, "batch-activations",
                                &r->arena, err);
    }
    if (!st)
        st = vkmm_graph_record(&g, m->ops, r->cmd, vkmm_range_whole(r->arena), err);
    vkmm_graph_free(&g);
    free(kv);
    /* each row's top candidates and log-sum-exp: [n][k] entries, then n floats, 16 bytes apart; every row in one
     * call (4 dispatches a step however many sequences run) */
    vkmm_range res = vkmm_range_whole(b->results), lg = vkmm_range_sub(vkmm_range_whole(b->logits), 0,
                                                                         4ull * V * (n - 1) + 4ull * NT);
    vkmm_ops_set_label(m->ops, "%s", "logits");
    if (!st)
        st = vkmm_op_topk_strided(m->ops, r->cmd, lg, V, vkmm_range_whole(b->scratch),
                                  vkmm_range_sub(res, 0, (uint64_t)n * results_stride()),
                                  results_stride() / sizeof(vkmm_logit), NT, n, k, err);
    if (!st)
        st = vkmm_op_logsumexp_strided(m->ops, r->cmd, lg, V, vkmm_range_whole(b->scratch),
                                       vkmm_range_sub(res, (uint64_t)B * results_stride(), 16ull * n), 4, NT, n, 1.0f,
                                       err);
    vkmm_ops_set_label(m->ops, "%s", "");
    if (!st)
        st = vkmm_cmd_end(r->cmd, err);
    if (st)
        return st;
    vkmm_debug("decode step of %u sequence(s) recorded: %u dispatches, %u barriers", n,
               vkmm_cmd_dispatch_count(r->cmd), vkmm_cmd_barrier_count(r->cmd));
    r->k = k;
    r->max_ctx = b->max_ctx;
    r->ok = true;
    b->recordings++;
    return VKMM_OK;
}

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* Runs requests v[0..n): their tokens through the model together. Each request's status is set. */
static void run_step(vkmm_batcher *b, vkmm_model *m, request **v, uint32_t n)
{
    const vkmm_text_hparams *hp = &m->text->hp;
    vkmm_kv_pool *pool = m->kv;
    uint32_t A = hp->n_pos_axes, B = b->max_batch, V = hp->n_vocab;
    /* who can go: a full context or a failed page is that request's error, not the batch's */
    request *go[VKMM_MAX_BATCH];
    uint32_t ng = 0, k = 1, max_ctx = b->max_ctx;
    bool profile = false;
    for (uint32_t i = 0; i < n; i++) {
        vkmm_session *s = v[i]->s;
        uint32_t pos = s->done.n;
        if (pos + 1 > s->n_ctx)
            v[i]->st = vkmm_fail(&v[i]->err, VKMM_ERR_INVALID_ARG, "the context is full: %u positions (raise -c)",
                                 s->n_ctx);
        else
            v[i]->st = vkmm_kv_grow(s, pos, pos + 1, &v[i]->err);
        if (v[i]->st)
            continue;
        go[ng++] = v[i];
        uint32_t ki = top_count(v[i]->k);
        k = ki > k ? ki : k;
        max_ctx = s->n_ctx > max_ctx ? s->n_ctx : max_ctx;
        profile |= s->p.profile;
    }
    if (!ng)
        return;
    int32_t *ids = vkmm_buffer_map(b->ids), *pos = vkmm_buffer_map(b->pos);
    vkmm_kv_seq *seqs = vkmm_buffer_map(b->seqs);
    for (uint32_t i = 0; i < ng; i++) {
        vkmm_session *s = go[i]->s;
        int32_t p[VKMM_MAX_POS_AXES], at = (int32_t)s->done.n;
        m->text->positions(m->text, (uint32_t)at, 1, p);
        ids[i] = go[i]->token;
        for (uint32_t a = 0; a < A; a++)
            pos[a * ng + i] = p[a];
        for (uint32_t c = 0; c < pool->n_class; c++)
            seqs[c * B + i] = (vkmm_kv_seq){at, at + 1, (int32_t)vkmm_kv_table_offset(pool, c, s->kv.slot), 0};
    }
    b->max_ctx = max_ctx;
    recording *r = &b->rec[ng];
    vkmm_error err;
    vkmm_status st = VKMM_OK;
    if (!r->ok || r->k != k || r->max_ctx != b->max_ctx || (profile && !r->profile)) {
        st = record(b, m, ng, k, profile, &err);
        for (uint32_t i = 0; i < ng && !st; i++)
            go[i]->s->stats.decode_recordings++;
    }
    double t0 = now_ms();
    if (!st) {
        vkmm_gpu_capture_begin(m->gpu);
        st = vkmm_cmd_submit(r->cmd, &err);
        vkmm_gpu_capture_end(m->gpu);
    }
    b->last_step_ms = now_ms() - t0;
    const uint8_t *res = vkmm_buffer_map(b->results);
    for (uint32_t i = 0; i < ng; i++) {
        request *q = go[i];
        vkmm_session *s = q->s;
        if (st) {
            q->st = st;
            q->err = err;
            continue;
        }
        if (s->p.profile)
            vkmm_session_profile_add(s, r->cmd);
        uint32_t ki = top_count(q->k);
        memcpy(s->top, res + (size_t)i * results_stride(), sizeof(vkmm_logit) * ki);
        s->n_top = ki;
        memcpy(&s->lse, res + (size_t)B * results_stride() + 16 * i, 4);
        if (q->full || s->p.all_logits) {
            uint32_t keep = s->p.all_logits ? s->last_rows + 1 : 1;
            float *lg = realloc(s->p.all_logits ? s->last_logits : NULL, sizeof *lg * (size_t)V * keep);
            if (!lg) {
                q->st = vkmm_fail(&q->err, VKMM_ERR_HOST_MEMORY, "out of host memory");
                continue;
            }
            if (!s->p.all_logits)
                free(s->last_logits);
            s->last_logits = lg;
            s->last_rows = keep;
            q->st = vkmm_buffer_download(m->gpu, b->logits, 4ull * V * i, lg + (size_t)V * (keep - 1), 4ull * V,
                                         &q->err);
        }
        if (!q->st)
            q->st = vkmm_items_push(&s->done, (vkmm_item){q->token, -1, 0}, &q->err);
    }
    b->steps++;
    b->tokens += ng;
}

vkmm_status vkmm_batch_decode(vkmm_session *s, int32_t token, bool want_full_row, uint32_t top_k, vkmm_error *err)
{
    vkmm_model *m = s->m;
    vkmm_batcher *b = m->batch;
    request me = {.s = s, .token = token, .full = want_full_row, .k = top_k};
    pthread_mutex_lock(&b->mu);
    if (b->tail)
        b->tail->next = &me;
    else
        b->head = &me;
    b->tail = &me;
    b->queued++;
    pthread_cond_broadcast(&b->cv);
    while (!me.done) {
        if (b->running) {
            pthread_cond_wait(&b->cv, &b->mu);
            continue;
        }
        /* lead a step: first give the other generating sessions a moment to queue their tokens */
        b->running = true;
        double wait = b->last_step_ms / 4;
        wait = wait < 0.2 ? 0.2 : wait > 5 ? 5 : wait;
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        long ns = until.tv_nsec + (long)(wait * 1e6);
        until.tv_sec += ns / 1000000000L;
        until.tv_nsec = ns % 1000000000L;
        while (b->queued < b->decoding && b->queued < b->max_batch)
            if (pthread_cond_timedwait(&b->cv, &b->mu, &until) == ETIMEDOUT)
                break;
        request *v[VKMM_MAX_BATCH];
        uint32_t n = 0;
        while (b->head && n < b->max_batch) {
            v[n++] = b->head;
            b->head = b->head->next;
        }
        if (!b->head)
            b->tail = NULL;
        b->queued -= n;
        pthread_mutex_unlock(&b->mu);
        vkmm_step_begin(m);
        run_step(b, m, v, n);
        vkmm_step_end(m);
        pthread_mutex_lock(&b->mu);
        for (uint32_t i = 0; i < n; i++)
            v[i]->done = true;
        b->running = false;
        pthread_cond_broadcast(&b->cv);
    }
    pthread_mutex_unlock(&b->mu);
    if (me.st && err)
        *err = me.err;
    return me.st;
}

void vkmm_batch_enter(vkmm_session *s)
{
    vkmm_batcher *b = s->m->batch;
    if (s->decoding)
        return;
    pthread_mutex_lock(&b->mu);
    s->decoding = true;
    b->decoding++;
    pthread_mutex_unlock(&b->mu);
}

void vkmm_batch_leave(vkmm_session *s)
{
    vkmm_batcher *b = s->m->batch;
    if (!s->decoding)
        return;
    pthread_mutex_lock(&b->mu);
    s->decoding = false;
    b->decoding--;
    pthread_cond_broadcast(&b->cv); /* a leader waiting for this session's token need not */
    pthread_mutex_unlock(&b->mu);
}

vkmm_batch_stats vkmm_batch_get_stats(vkmm_model *m)
{
    vkmm_batch_stats st = {0};
    vkmm_batcher *b = m->batch;
    if (!b)
        return st;
    pthread_mutex_lock(&b->mu);
    st = (vkmm_batch_stats){b->steps, b->tokens, b->recordings, b->decoding, b->queued};
    pthread_mutex_unlock(&b->mu);
    return st;
}
