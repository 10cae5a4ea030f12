/* runtime/engine/generate.c — generation one token at a time: sample from what the last forward pass left,
 * stream whole UTF-8 characters, hold back text that may be the start of a stop string, and end at an
 * end-of-generation token, a stop string, max_tokens, a full context or the caller's word. vkmm_session_generate
 * is this loop with a callback. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "batch.h"
#include "session.h"
#include "sized.h"

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

VKMM_API const char *vkmm_finish_name(vkmm_finish f)
{
    switch (f) {
    case VKMM_FINISH_NONE: return "";
    case VKMM_FINISH_EOG: return "stop";
    case VKMM_FINISH_STOP: return "stop";
    case VKMM_FINISH_LENGTH: return "length";
    case VKMM_FINISH_CANCELLED: return "cancelled";
    }
    return "";
}

static void generation_free(vkmm_generation *g)
{
    vkmm_sampler_free(&g->smp);
    vkmm_text_free(&g->reply);
    vkmm_text_free(&g->piece);
    free(g->cand);
    for (uint32_t i = 0; i < g->n_stop; i++)
        free(g->stop[i]);
    memset(g, 0, sizeof *g);
}

static vkmm_status copy_stops(vkmm_generation *g, const vkmm_sampling *p, vkmm_error *err)
{
    if (p->n_stop > VKMM_MAX_STOP)
        return vkmm_fail(err, VKMM_ERR_INVALID_ARG, "%u stop strings, at most %d", p->n_stop, VKMM_MAX_STOP);
    if (p->n_stop && !p->stop)
        return vkmm_fail(err, VKMM_ERR_INVALID_ARG, "n_stop is %u but stop is NULL", p->n_stop);
    for (uint32_t i = 0; i < p->n_stop; i++) {
        size_t n = p->stop[i] ? strlen(p->stop[i]) : 0;
        if (n == 0 || n > 255)
            return vkmm_fail(err, VKMM_ERR_INVALID_ARG, "stop string %u is %s (1 to 255 bytes)", i + 1,
                             p->stop[i] ? (n ? "too long" : "empty") : "NULL");
        if (!(g->stop[g->n_stop] = strdup(p->stop[i])))
            return vkmm_fail(err, VKMM_ERR_HOST_MEMORY, "out of host memory");
        g->n_stop++;
    }
    return VKMM_OK;
}

VKMM_API vkmm_status vkmm_session_begin(vkmm_session *s, const vkmm_sampling *sp, uint32_t max_tokens,
                                        vkmm_error *err)
{
    if (!s)
        return vkmm_fail(err, VKMM_ERR_INVALID_ARG, "no session");
    vkmm_generation_close(s);
    atomic_store(&s->cancel, false);
    vkmm_sampling sampling;
    vkmm_status st = VKMM_OK;
    if (sp)
        st = VKMM_SIZED_IN(vkmm_sampling, &sampling, sp, "sampling", err);
    else
        vkmm_sampling_defaults(&sampling, sizeof sampling);
    if (st)
        return st;
    const vkmm_sampling *p = &sampling;
    vkmm_generation *g = &s->gen;
    st = vkmm_sampler_init(&g->smp, p, err);
    if (!st)
        st = copy_stops(g, p, err);
    g->smp.p.stop = NULL; /* the copies above are what counts */
    g->smp.p.n_stop = 0;
    if (!st && !s->raw && s->n_msgs)
        st = vkmm_session_sync_chat(s, err);
    if (!st && s->pending.n == 0)
        st = vkmm_fail(err, VKMM_ERR_INVALID_ARG, "nothing to generate from: add a message or text first");
    for (uint32_t i = 0; i < s->done.n && !st; i++)
        if (s->done.v[i].image < 0)
            vkmm_sampler_accept(&g->smp, s->done.v[i].token);
    for (uint32_t i = 0; i < s->pending.n && !st; i++)
        if (s->pending.v[i].image < 0)
            vkmm_sampler_accept(&g->smp, s->pending.v[i].token);
    g->full = vkmm_sampler_needs_all(&g->smp) || s->p.all_logits;
    g->top = vkmm_sampler_top_needed(&g->smp);
    g->cand = st ? NULL : malloc(sizeof *g->cand * (g->full ? s->m->vocab.n_tokens : VKMM_TOPK_MAX));
    if (!st && !g->cand)
        st = vkmm_fail(err, VKMM_ERR_HOST_MEMORY, "out of host memory");
    if (st) {
        generation_free(g);
        return st;
    }
    s->stats.last_cached = s->done.n;
    s->stats.last_prompt = s->done.n + s->pending.n;
    s->stats.last_gen = 0;
    s->stats.last_finish = VKMM_FINISH_NONE;
    /* the KV pages this generation may grow to, reserved before it starts so no step runs out of memory */
    uint64_t want = (uint64_t)s->done.n + s->pending.n + max_tokens;
    st = vkmm_kv_reserve(s, want < s->n_ctx ? (uint32_t)want : s->n_ctx, err);
    if (st) {
        generation_free(g);
        return st;
    }
    if (vkmm_kv_take_evicted(s)) {
        /* another request took this session's KV pages while it was idle: evaluate its items again (the
         * reservation above counted them) */
        vkmm_items all = {0};
        for (uint32_t i = 0; i < s->done.n && !st; i++)
            st = vkmm_items_push(&all, s->done.v[i], err);
        for (uint32_t i = 0; i < s->pending.n && !st; i++)
            st = vkmm_items_push(&all, s->pending.v[i], err);
        if (!st) {
            free(s->pending.v);
            s->pending = all;
            s->done.n = 0;
            s->stats.last_cached = 0;
        } else {
            free(all.v);
            vkmm_kv_unreserve(s);
            generation_free(g);
            return st;
        }
    }
    double t0 = now_ms();
    uint32_t n_prompt = s->pending.n;
    bool cancelled = false;
    st = vkmm_session_prefill(s, g->top, g->full, &cancelled, err);
    s->stats.n_prompt += st ? 0 : n_prompt - s->pending.n;
    s->stats.prompt_ms += now_ms() - t0;
    if (st) {
        vkmm_kv_unreserve(s);
        generation_free(g);
        return st;
    }
    vkmm_detok_init(&g->dt, s->m->tok, 0);
    g->open = true;
    g->max_tokens = max_tokens;
    g->last_id = -1;
    if (cancelled)
        g->finish = VKMM_FINISH_CANCELLED;
    else if (max_tokens == 0)
        g->finish = VKMM_FINISH_LENGTH;
    s->stats.last_finish = g->finish;
    if (!g->finish)
        vkmm_batch_enter(s); /* its tokens now ride in the model's batched decode steps */
    return VKMM_OK;
}

static float logit_of(const vkmm_session *s, int32_t id, bool full)
{
    if (full)
        return s->last_logits[(size_t)(s->last_rows - 1) * s->m->text->hp.n_vocab + (size_t)id];
    for (uint32_t i = 0; i < s->n_top; i++)
        if ((int32_t)s->top[i].id == id)
            return s->top[i].value;
    return -INFINITY;
}

/* Where the first stop string starts in reply[from..], or SIZE_MAX; *hold gets where the text that could
 * still become one starts (reply.len when none can). */
static size_t find_stop(const vkmm_generation *g, size_t from, size_t *hold)
{
    const char *r = g->reply.s ? g->reply.s : "";
    size_t len = g->reply.len;
    *hold = len;
    for (size_t p = from; p < len; p++)
        for (uint32_t k = 0; k < g->n_stop; k++) {
            size_t n = strlen(g->stop[k]), left = len - p;
            if (left >= n && !memcmp(r + p, g->stop[k], n))
                return p;
            if (left < n && !memcmp(r + p, g->stop[k], left) && p < *hold)
                *hold = p;
        }
    return SIZE_MAX;
}

/* Hands out reply[released .. upto) as this event's text. */
static vkmm_status release(vkmm_generation *g, size_t upto, vkmm_error *err)
{
    vkmm_status st = VKMM_OK;
    if (upto > g->released)
        st = vkmm_text_append(&g->piece, g->reply.s + g->released, upto - g->released);
    if (!st)
        g->released = upto;
    return st ? vkmm_fail(err, VKMM_ERR_HOST_MEMORY, "out of host memory") : VKMM_OK;
}

/* The text of a generation that ends now: unfinished characters flushed, held text released unless a stop
 * string is in it. */
static vkmm_status finish_text(vkmm_generation *g, vkmm_finish why, vkmm_error *err)
{
    vkmm_text tail = {0};
    vkmm_status st = vkmm_detok_flush(&g->dt, &tail, err);
    if (!st && tail.len)
        st = vkmm_text_append(&g->reply, tail.s, tail.len);
    vkmm_text_free(&tail);
    size_t hold, at = st ? SIZE_MAX : find_stop(g, g->released, &hold);
    if (at != SIZE_MAX) {
        why = VKMM_FINISH_STOP;
        g->reply.len = at;
    }
    if (!st)
        st = release(g, g->reply.len, err);
    g->finish = why;
    return st;
}

/* The next token into the library's own event (the public call copies it into the caller's layout). */
static vkmm_status next_event(vkmm_session *s, vkmm_token_event *ev, vkmm_error *err)
{
    memset(ev, 0, sizeof *ev);
    ev->struct_size = sizeof *ev;
    ev->id = -1;
    ev->piece = "";
    vkmm_generation *g = &s->gen;
    if (!g->open)
        return vkmm_fail(err, VKMM_ERR_INVALID_ARG, "no generation is open (vkmm_session_begin first)");
    g->piece.len = 0;
    if (g->finish) {
        ev->finish = g->finish;
        return VKMM_OK;
    }
    double t1 = now_ms();
    vkmm_status st = VKMM_OK;
    if (atomic_load(&s->cancel)) {
        g->finish = VKMM_FINISH_CANCELLED;
    } else if (g->last_id >= 0) {
        /* the previous token goes into the cache now, not after it was picked: a caller that stops there
         * never pays for it */
        if (s->done.n + 1 > s->n_ctx)
            st = finish_text(g, VKMM_FINISH_LENGTH, err);
        else if (!(st = vkmm_session_decode(s, g->last_id, g->full, g->top, err)))
            g->last_id = -1;
    }
    if (!st && !g->finish) {
        uint32_t n = 0, NT = s->m->vocab.n_tokens;
        if (g->full) {
            const float *row = s->last_logits + (size_t)(s->last_rows - 1) * s->m->text->hp.n_vocab;
            for (uint32_t t = 0; t < NT; t++)
                g->cand[n++] = (vkmm_candidate){(int32_t)t, row[t]};
        } else {
            for (uint32_t t = 0; t < s->n_top; t++)
                g->cand[n++] = (vkmm_candidate){(int32_t)s->top[t].id, s->top[t].value};
        }
        int32_t id = vkmm_sampler_pick(&g->smp, g->cand, n);
        vkmm_sampler_accept(&g->smp, id);
        ev->id = id;
        ev->logprob = logit_of(s, id, g->full) - s->lse;
        for (uint32_t t = 0; t < s->n_top && t < VKMM_TOP_LOGPROBS; t++) {
            ev->top[t].id = (int32_t)s->top[t].id;
            ev->top[t].logprob = s->top[t].value - s->lse;
            ev->n_top++;
        }
        g->n++;
        s->stats.n_gen++;
        s->stats.last_gen++;
        bool eog = !g->smp.p.ignore_eog && vkmm_tokenizer_is_eog(s->m->tok, id);
        if (!eog)
            st = vkmm_detok_push(&g->dt, id, &g->reply, err);
        if (!st && eog)
            st = finish_text(g, VKMM_FINISH_EOG, err);
        else if (!st && g->n >= g->max_tokens)
            st = finish_text(g, VKMM_FINISH_LENGTH, err);
        else if (!st) {
            size_t hold, at = find_stop(g, g->released, &hold);
            if (at != SIZE_MAX) {
                g->reply.len = at; /* the answer ends before the stop string */
                st = release(g, at, err);
                g->finish = VKMM_FINISH_STOP;
            } else {
                st = release(g, hold, err);
            }
        }
        if (!eog)
            g->last_id = id; /* not in the cache yet */
    }
    if (!st)
        st = vkmm_text_append(&g->piece, "", 0) ? vkmm_fail(err, VKMM_ERR_HOST_MEMORY, "out of host memory") : VKMM_OK;
    ev->piece = g->piece.s ? g->piece.s : "";
    ev->finish = g->finish;
    s->stats.last_finish = g->finish;
    if (g->finish || st)
        vkmm_batch_leave(s); /* no more tokens from this session: the batch need not wait for it */
    s->stats.gen_ms += now_ms() - t1;
    return st;
}

VKMM_API vkmm_status vkmm_session_next(vkmm_session *s, vkmm_token_event *ev, vkmm_error *err)
{
    if (!s || !ev)
        return vkmm_fail(err, VKMM_ERR_INVALID_ARG, "vkmm_session_next needs a session and an event");
    size_t n;
    vkmm_status st = VKMM_SIZED_BYTES(vkmm_token_event, ev, "vkmm_session_next's event", &n, err);
    if (st)
        return st;
    vkmm_token_event mine;
    st = next_event(s, &mine, err);
    vkmm_sized_out(ev, &mine, n);
    return st;
}

VKMM_API vkmm_status vkmm_session_end(vkmm_session *s, vkmm_error *err)
{
    if (!s)
        return vkmm_fail(err, VKMM_ERR_INVALID_ARG, "no session");
    vkmm_generation *g = &s->gen;
    if (!g->open)
        return VKMM_OK;
    if (!g->finish)
        g->finish = VKMM_FINISH_CANCELLED;
    s->stats.last_finish = g->finish;
    s->stats.n_ctx_used = s->done.n;
    vkmm_batch_leave(s);
    vkmm_kv_unreserve(s);
    vkmm_status st = VKMM_OK;
    if (!s->raw && s->n_msgs) {
        vkmm_text_append(&g->reply, "", 0);
        vkmm_message reply = {.role = "assistant", .text = g->reply.s ? g->reply.s : ""};
        st = vkmm_session_add_message(s, &reply, err);
    } else if (s->raw && g->last_id >= 0) {
        st = vkmm_items_push(&s->pending, (vkmm_item){g->last_id, -1, 0}, err); /* a later generate goes on */
    }
    generation_free(g);
    return st;
}

void vkmm_generation_close(vkmm_session *s)
{
    vkmm_error ignored;
    vkmm_session_end(s, &ignored);
}

VKMM_API void vkmm_session_cancel(vkmm_session *s)
{
    if (s)
        atomic_store(&s->cancel, true);
}

VKMM_API vkmm_status vkmm_session_generate(vkmm_session *s, const vkmm_sampling *sp, uint32_t max_tokens,
                                           vkmm_token_fn fn, void *user, vkmm_error *err)
{
    vkmm_status st = vkmm_session_begin(s, sp, max_tokens, err);
    if (st)
        return st;
    for (;;) {
        vkmm_token_event ev;
        if ((st = next_event(s, &ev, err)))
            break;
        if (ev.id < 0 && !ev.piece[0] && ev.finish)
            break; /* nothing to hand out: it ended before a token */
        bool go_on = fn ? fn(&ev, user) : true;
        if (ev.finish || !go_on)
            break;
    }
    vkmm_error end_err;
    vkmm_status st2 = vkmm_session_end(s, &end_err);
    if (!st && st2 && err)
        *err = end_err;
    return st ? st : st2;
}
