/* tools/serve/sched.c — the queue of jobs and the workers that run them, one session each. Each job starts from
 * an empty session (requests are stateless), adds its messages, prefills, then generates token by token,
 * publishing each token to its connection; a cancel reaches the engine through vkmm_session_cancel. */
#include <stdlib.h>
#include <string.h>

#include "sched.h"

typedef struct worker {
    struct serve_sched *sched;
    pthread_t thread;
    bool started;
    vkmm_session *session;
    serve_job *job;              /* running now (under the sched lock) */
    _Atomic uint64_t ctx_used;   /* positions its sequence holds */
} worker;

struct serve_sched {
    pthread_mutex_t mu;
    pthread_cond_t cv;           /* a job queued, or closing */
    pthread_cond_t idle_cv;      /* a job finished */
    serve_job *head, *tail;
    uint32_t queued, cap, active;
    bool closing;
    worker *workers;
    uint32_t n_workers, n_ctx;
    vkmm_model *model;
    serve_metrics *mx;
    _Atomic bool device_lost;
};

int serve_status_for(vkmm_status st)
{
    switch (st) {
    case VKMM_OK: return 200;
    case VKMM_ERR_INVALID_ARG:
    case VKMM_ERR_IO:
    case VKMM_ERR_FORMAT:
    case VKMM_ERR_UNSUPPORTED:
    case VKMM_ERR_NOT_FOUND: return 400;
    case VKMM_ERR_OUT_OF_MEMORY:
    case VKMM_ERR_HOST_MEMORY:
    case VKMM_ERR_DEVICE_LOST: return 503;
    case VKMM_ERR_NO_DEVICE:
    case VKMM_ERR_VULKAN:
    case VKMM_ERR_INTERNAL: return 500;
    }
    return 500;
}

/* ---- jobs ---- */

serve_job *serve_job_new(serve_request *req)
{
    serve_job *j = calloc(1, sizeof *j);
    if (!j)
        return NULL;
    pthread_mutex_init(&j->mu, NULL);
    pthread_cond_init(&j->cv, NULL);
    j->refs = 1;
    j->req = *req;
    memset(req, 0, sizeof *req);
    /* the stop pointers pointed into req's array; they must point into the job's copy now */
    j->req.sampling.stop = (const char *const *)j->req.stop;
    return j;
}

void serve_job_retain(serve_job *j)
{
    pthread_mutex_lock(&j->mu);
    j->refs++;
    pthread_mutex_unlock(&j->mu);
}

void serve_job_release(serve_job *j)
{
    if (!j)
        return;
    pthread_mutex_lock(&j->mu);
    int left = --j->refs;
    pthread_mutex_unlock(&j->mu);
    if (left)
        return;
    for (uint32_t i = 0; i < j->n_toks; i++)
        free(j->toks[i].piece);
    free(j->toks);
    serve_request_free(&j->req);
    pthread_cond_destroy(&j->cv);
    pthread_mutex_destroy(&j->mu);
    free(j);
}

void serve_job_cancel(serve_job *j, serve_cancel why)
{
    pthread_mutex_lock(&j->mu);
    if (j->state != SERVE_JOB_DONE && !j->cancel) {
        j->cancel = why;
        if (j->session)
            vkmm_session_cancel(j->session);
        pthread_cond_broadcast(&j->cv);
    }
    pthread_mutex_unlock(&j->mu);
}

/* Ends a job that will produce nothing (more): status and message for its connection. */
static void job_fail(serve_job *j, int status, const char *code, const vkmm_error *err)
{
    pthread_mutex_lock(&j->mu);
    j->fail_status = status;
    j->fail_code = code;
    j->err = *err;
    j->started = true;
    j->state = SERVE_JOB_DONE;
    j->session = NULL;
    pthread_cond_broadcast(&j->cv);
    pthread_mutex_unlock(&j->mu);
}

/* ---- running one job ---- */

static vkmm_status add_messages(vkmm_session *s, const serve_request *q, vkmm_error *err)
{
    for (uint32_t i = 0; i < q->n_msgs; i++) {
        const serve_msg *m = &q->msgs[i];
        vkmm_message msg = {.role = m->role, .text = m->text ? m->text : "", .image_inputs = m->images,
                            .n_image_inputs = m->n_images};
        vkmm_status st = vkmm_session_add_message(s, &msg, err);
        if (st)
            return st;
    }
    return VKMM_OK;
}

static bool push_token(serve_job *j, const vkmm_token_event *ev, double now)
{
    if (j->n_toks == j->cap_toks) {
        uint32_t cap = j->cap_toks ? j->cap_toks * 2 : 64;
        serve_token *v = realloc(j->toks, cap * sizeof *v);
        if (!v)
            return false;
        j->toks = v;
        j->cap_toks = cap;
    }
    char *piece = strdup(ev->piece);
    if (!piece)
        return false;
    serve_token *t = &j->toks[j->n_toks++];
    memset(t, 0, sizeof *t);
    t->id = ev->id;
    t->logprob = ev->logprob;
    t->n_top = ev->n_top;
    memcpy(t->top, ev->top, sizeof t->top);
    t->piece = piece;
    t->eog = ev->finish == VKMM_FINISH_EOG;
    if (j->n_toks == 1)
        j->t_first = now;
    return true;
}

static void run_job(worker *w, serve_job *j)
{
    serve_sched *sc = w->sched;
    vkmm_session *s = w->session;
    pthread_mutex_lock(&j->mu);
    bool skip = j->cancel != SERVE_CANCEL_NONE;
    if (!skip) {
        j->state = SERVE_JOB_RUNNING;
        j->session = s;
        j->t_start = serve_now();
    }
    pthread_mutex_unlock(&j->mu);
    if (skip) {
        vkmm_error e = {.code = VKMM_OK};
        snprintf(e.msg, sizeof e.msg, "cancelled before it started");
        serve_metrics_cancelled(sc->mx, j->cancel);
        job_fail(j, 499, NULL, &e);
        return;
    }
    vkmm_error err = {0};
    vkmm_session_reset(s);
    vkmm_status st = add_messages(s, &j->req, &err);
    if (!st)
        st = vkmm_session_begin(s, &j->req.sampling, j->req.max_tokens, &err);
    if (st) {
        const char *code = NULL;
        if (st == VKMM_ERR_INVALID_ARG && strstr(err.msg, "the context is full")) {
            code = "context_length_exceeded";
            vkmm_error e2 = err;
            snprintf(err.msg, sizeof err.msg, "the prompt does not fit this server's context of %u tokens "
                     "(--ctx-size): %.900s", sc->n_ctx, e2.msg);
        }
        if (st == VKMM_ERR_DEVICE_LOST)
            atomic_store(&sc->device_lost, true);
        vkmm_error ignored;
        vkmm_session_end(s, &ignored);
        atomic_store(&w->ctx_used, 0);
        job_fail(j, serve_status_for(st), code, &err);
        return;
    }
    vkmm_stats stats = vkmm_session_stats(s);
    pthread_mutex_lock(&j->mu);
    j->started = true;
    j->n_prompt = stats.last_prompt;
    if (j->cancel) /* a cancel between the start and begin, which clears the engine's flag, still counts */
        vkmm_session_cancel(s);
    pthread_cond_broadcast(&j->cv);
    pthread_mutex_unlock(&j->mu);
    atomic_store(&w->ctx_used, stats.last_prompt);

    vkmm_finish finish = VKMM_FINISH_NONE;
    while (!st && !finish) {
        vkmm_token_event ev = {0};
        st = vkmm_session_next(s, &ev, &err);
        if (st)
            break;
        double now = serve_now();
        pthread_mutex_lock(&j->mu);
        if (ev.id >= 0 || ev.piece[0]) {
            if (!push_token(j, &ev, now)) {
                st = err.code = VKMM_ERR_HOST_MEMORY;
                snprintf(err.msg, sizeof err.msg, "out of host memory for the answer");
            } else if (ev.id >= 0)
                j->n_gen++;
        }
        finish = ev.finish;
        pthread_cond_broadcast(&j->cv);
        pthread_mutex_unlock(&j->mu);
        atomic_store(&w->ctx_used, stats.last_prompt + j->n_gen);
    }
    vkmm_error end_err;
    vkmm_session_end(s, &end_err);
    vkmm_session_reset(s); /* its KV pages go back to the pool for the next request */
    atomic_store(&w->ctx_used, 0);
    if (st == VKMM_ERR_DEVICE_LOST)
        atomic_store(&sc->device_lost, true);

    /* the metrics first: whoever sees the job done may read /metrics next */
    double t_end = serve_now();
    pthread_mutex_lock(&j->mu);
    double ttft = j->n_toks ? j->t_first - j->t_submit : -1;
    double tpot = j->n_gen > 1 ? (t_end - j->t_first) / (j->n_gen - 1) : -1;
    uint32_t n_prompt = j->n_prompt, n_gen = j->n_gen;
    serve_cancel why = j->cancel;
    pthread_mutex_unlock(&j->mu);
    serve_metrics_generation(sc->mx, n_prompt, n_gen, ttft, tpot);
    if (why)
        serve_metrics_cancelled(sc->mx, why);

    pthread_mutex_lock(&j->mu);
    j->finish = finish ? finish : VKMM_FINISH_CANCELLED;
    j->t_end = t_end;
    if (st) {
        j->fail_status = serve_status_for(st);
        j->err = err;
    }
    j->state = SERVE_JOB_DONE;
    j->session = NULL;
    pthread_cond_broadcast(&j->cv);
    pthread_mutex_unlock(&j->mu);
}

static void *worker_main(void *arg)
{
    worker *w = arg;
    serve_sched *s = w->sched;
    for (;;) {
        pthread_mutex_lock(&s->mu);
        while (!s->head && !s->closing)
            pthread_cond_wait(&s->cv, &s->mu);
        serve_job *j = s->head;
        if (!j) {
            pthread_mutex_unlock(&s->mu);
            return NULL;
        }
        s->head = j->next;
        if (!s->head)
            s->tail = NULL;
        s->queued--;
        s->active++;
        w->job = j;
        pthread_mutex_unlock(&s->mu);

        run_job(w, j);

        pthread_mutex_lock(&s->mu);
        w->job = NULL;
        s->active--;
        pthread_cond_broadcast(&s->idle_cv);
        pthread_mutex_unlock(&s->mu);
        serve_job_release(j);
    }
}

/* ---- the scheduler ---- */

vkmm_status serve_sched_create(vkmm_model *m, uint32_t n, uint32_t n_ctx, uint32_t queue_cap, serve_metrics *mx,
                               serve_sched **out, vkmm_error *err)
{
    serve_sched *s = calloc(1, sizeof *s);
    worker *ws = calloc(n, sizeof *ws);
    if (!s || !ws) {
        free(s);
        free(ws);
        snprintf(err->msg, sizeof err->msg, "out of host memory");
        return err->code = VKMM_ERR_HOST_MEMORY;
    }
    pthread_mutex_init(&s->mu, NULL);
    pthread_cond_init(&s->cv, NULL);
    pthread_cond_init(&s->idle_cv, NULL);
    s->workers = ws;
    s->n_workers = n;
    s->n_ctx = n_ctx;
    s->model = m;
    s->cap = queue_cap;
    s->mx = mx;
    *out = s;
    vkmm_session_params sp = {.n_ctx = n_ctx};
    for (uint32_t i = 0; i < n; i++) {
        ws[i].sched = s;
        vkmm_status st = vkmm_session_create(m, &sp, &ws[i].session, err);
        if (st)
            return st; /* the caller frees what was made */
        if (pthread_create(&ws[i].thread, NULL, worker_main, &ws[i])) {
            snprintf(err->msg, sizeof err->msg, "cannot start a worker thread");
            return err->code = VKMM_ERR_HOST_MEMORY;
        }
        ws[i].started = true;
    }
    return VKMM_OK;
}

serve_submit serve_sched_submit(serve_sched *s, serve_job *j)
{
    pthread_mutex_lock(&s->mu);
    serve_submit r = s->closing ? SERVE_SUBMIT_CLOSED : s->queued >= s->cap ? SERVE_SUBMIT_FULL : SERVE_SUBMIT_OK;
    if (r == SERVE_SUBMIT_OK) {
        serve_job_retain(j);
        j->t_submit = serve_now();
        j->next = NULL;
        if (s->tail)
            s->tail->next = j;
        else
            s->head = j;
        s->tail = j;
        s->queued++;
        pthread_cond_signal(&s->cv);
    }
    pthread_mutex_unlock(&s->mu);
    return r;
}

void serve_sched_close(serve_sched *s)
{
    pthread_mutex_lock(&s->mu);
    s->closing = true;
    serve_job *j = s->head;
    s->head = s->tail = NULL;
    s->queued = 0;
    pthread_cond_broadcast(&s->cv);
    pthread_mutex_unlock(&s->mu);
    while (j) {
        serve_job *next = j->next;
        vkmm_error e = {.code = VKMM_OK};
        snprintf(e.msg, sizeof e.msg, "the server is shutting down; retry the request (on another replica)");
        job_fail(j, 503, NULL, &e);
        serve_job_release(j);
        j = next;
    }
}

bool serve_sched_wait_idle(serve_sched *s, double deadline)
{
    pthread_mutex_lock(&s->mu);
    while (s->active || s->queued) {
        double left = deadline - serve_now();
        if (left <= 0)
            break;
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        double at = ts.tv_sec + ts.tv_nsec / 1e9 + (left < 0.2 ? left : 0.2);
        ts.tv_sec = (time_t)at;
        ts.tv_nsec = (long)((at - (double)ts.tv_sec) * 1e9);
        pthread_cond_timedwait(&s->idle_cv, &s->mu, &ts);
    }
    bool idle = !s->active && !s->queued;
    pthread_mutex_unlock(&s->mu);
    return idle;
}

void serve_sched_cancel_all(serve_sched *s, serve_cancel why)
{
    pthread_mutex_lock(&s->mu);
    for (uint32_t i = 0; i < s->n_workers; i++)
        if (s->workers[i].job)
            serve_job_cancel(s->workers[i].job, why);
    pthread_mutex_unlock(&s->mu);
}

void serve_sched_free(serve_sched *s)
{
    if (!s)
        return;
    serve_sched_close(s); /* jobs still queued fail, so their connections end; the workers then leave */
    for (uint32_t i = 0; i < s->n_workers; i++) {
        if (s->workers[i].started)
            pthread_join(s->workers[i].thread, NULL);
        vkmm_session_free(s->workers[i].session);
    }
    pthread_cond_destroy(&s->idle_cv);
    pthread_cond_destroy(&s->cv);
    pthread_mutex_destroy(&s->mu);
    free(s->workers);
    free(s);
}

void serve_sched_gauges(serve_sched *s, serve_gauges *g)
{
    if (!s)
        return;
    pthread_mutex_lock(&s->mu);
    g->queue = s->queued;
    g->active = s->active;
    pthread_mutex_unlock(&s->mu);
    g->sessions = s->n_workers;
    g->ctx_used = 0;
    for (uint32_t i = 0; i < s->n_workers; i++)
        g->ctx_used += atomic_load(&s->workers[i].ctx_used);
    g->ctx_capacity = (uint64_t)s->n_workers * s->n_ctx;
    vkmm_model_stats ms = vkmm_model_get_stats(s->model);
    g->kv_pages = ms.kv_pages + ms.ring_pages;
    g->kv_pages_used = ms.kv_pages_used + ms.ring_pages_used;
    g->decode_steps = ms.decode_steps;
    g->decode_tokens = ms.decode_tokens;
}

bool serve_sched_device_lost(serve_sched *s)
{
    return s && atomic_load(&s->device_lost);
}
