/* tools/serve/complete.c — the generation endpoints, whichever API: parse, queue (429 when full), wait for the
 * prompt to be in so that errors in it still get their 4xx, then answer whole or as a stream of events. While a
 * connection waits it watches its socket and the request's deadline: a client that hangs up cancels its job,
 * which frees the session at its next step. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http.h"

typedef enum wait_for { WAIT_STARTED, WAIT_TOKENS, WAIT_DONE } wait_for;

static bool ready(const serve_job *j, wait_for what, uint32_t have)
{
    if (j->state == SERVE_JOB_DONE)
        return true;
    if (what == WAIT_STARTED)
        return j->started || (j->cancel == SERVE_CANCEL_DEADLINE && j->state == SERVE_JOB_QUEUED);
    if (what == WAIT_TOKENS)
        return j->n_toks > have;
    return false;
}

/* Waits for the job to get that far, checking the client and the deadline every 100 ms. False when the client
 * has gone (the job is cancelled then). */
static bool wait_job(serve_conn *cc, serve_job *j, wait_for what, uint32_t have, double deadline)
{
    pthread_mutex_lock(&j->mu);
    while (!ready(j, what, have)) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_nsec += 100 * 1000 * 1000;
        if (ts.tv_nsec >= 1000000000) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000;
        }
        pthread_cond_timedwait(&j->cv, &j->mu, &ts);
        if (ready(j, what, have))
            break;
        pthread_mutex_unlock(&j->mu);
        if (serve_peer_gone(cc)) {
            serve_job_cancel(j, SERVE_CANCEL_CLIENT);
            return false;
        }
        if (serve_now() > deadline)
            serve_job_cancel(j, SERVE_CANCEL_DEADLINE);
        pthread_mutex_lock(&j->mu);
    }
    pthread_mutex_unlock(&j->mu);
    return true;
}

/* ---- streams ---- */

typedef struct stream {
    serve_conn *cc;              /* valid until the response is done: the connection outlives its response */
    serve_job *job;
    const serve_api *api;
    serve_render r;
    serve_sse out;
    size_t pos;
    uint32_t taken;
    bool ended;
    double deadline;
} stream;

/* The events for what the job did since the last look; the closing events once it is done. */
static void stream_more(stream *s)
{
    serve_job *j = s->job;
    pthread_mutex_lock(&j->mu);
    uint32_t n = j->n_toks - s->taken;
    serve_token *t = n ? malloc(n * sizeof *t) : NULL;
    if (t)
        memcpy(t, j->toks + s->taken, n * sizeof *t); /* pieces stay put; the array may move */
    bool done = j->state == SERVE_JOB_DONE;
    pthread_mutex_unlock(&j->mu);
    if (n && !t) {
        s->out.failed = true;
        return;
    }
    s->api->stream_tokens(&s->r, &s->out, t, n);
    s->taken += n;
    free(t);
    if (!done)
        return;
    if (j->fail_status)
        s->api->stream_error(&s->r, &s->out, j->fail_status, j->err.msg);
    else if (j->cancel == SERVE_CANCEL_SHUTDOWN)
        s->api->stream_error(&s->r, &s->out, 503, "the server shut down before the answer was complete");
    else
        s->api->stream_end(&s->r, &s->out, j);
    s->ended = true;
}

static ssize_t stream_read(void *cls, uint64_t at, char *buf, size_t max)
{
    (void)at;
    stream *s = cls;
    for (;;) {
        if (s->pos < s->out.len) {
            size_t n = s->out.len - s->pos < max ? s->out.len - s->pos : max;
            memcpy(buf, s->out.s + s->pos, n);
            s->pos += n;
            if (s->pos == s->out.len)
                s->pos = s->out.len = 0;
            return (ssize_t)n;
        }
        if (s->out.failed)
            return MHD_CONTENT_READER_END_WITH_ERROR;
        if (s->ended)
            return MHD_CONTENT_READER_END_OF_STREAM;
        if (!wait_job(s->cc, s->job, WAIT_TOKENS, s->taken, s->deadline))
            return MHD_CONTENT_READER_END_WITH_ERROR;
        stream_more(s);
    }
}

static void stream_free(void *cls)
{
    stream *s = cls;
    serve_job_cancel(s->job, SERVE_CANCEL_CLIENT); /* a no-op when it ended */
    serve_job_release(s->job);
    serve_sse_free(&s->out);
    free(s);
}

static enum MHD_Result reply_stream(serve_conn *cc, const serve_api *api, serve_job *j, const serve_render *r,
                                    double deadline)
{
    stream *s = calloc(1, sizeof *s);
    if (!s)
        return MHD_NO;
    s->cc = cc;
    s->job = j;
    serve_job_retain(j);
    s->api = api;
    s->r = *r;
    s->deadline = deadline;
    api->stream_begin(&s->r, &s->out, j);
    stream_more(s); /* tokens that are already there go out with the first write */
    struct MHD_Response *resp = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 16384, stream_read, s, stream_free);
    if (!resp) {
        stream_free(s);
        return MHD_NO;
    }
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "text/event-stream");
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-cache");
    MHD_add_response_header(resp, "X-Accel-Buffering", "no"); /* nginx: pass each event on at once */
    return serve_reply(cc, 200, resp);
}

/* ---- the endpoint ---- */

enum MHD_Result serve_route_generate(serve_conn *cc, const serve_api *api)
{
    serve_server *srv = cc->srv;
    if (cc->len == 0)
        return serve_reply_error(cc, 400, "the request body is empty; a JSON object is expected", NULL, NULL);
    json_error_t je;
    json_t *body = json_loadb(cc->body, cc->len, 0, &je);
    if (!body) {
        char msg[400];
        snprintf(msg, sizeof msg, "the request body is not valid JSON: %s (line %d, column %d)", je.text, je.line,
                 je.column);
        return serve_reply_error(cc, 400, msg, NULL, NULL);
    }
    serve_request q;
    serve_request_init(&q, srv);
    serve_reject why = {0};
    int st = api->parse(srv, body, &q, &why);
    json_decref(body);
    if (st) {
        serve_request_free(&q);
        return serve_reply_error(cc, why.status, why.msg, why.param, why.code);
    }
    bool streamed = q.stream;
    serve_job *j = serve_job_new(&q);
    if (!j) {
        serve_request_free(&q);
        return serve_reply_error(cc, 503, "out of memory", NULL, NULL);
    }
    serve_submit sub = serve_sched_submit(srv->sched, j);
    if (sub != SERVE_SUBMIT_OK) {
        serve_job_release(j);
        if (sub == SERVE_SUBMIT_FULL)
            return serve_reply_error(cc, 429, "every session is busy and the queue is full; retry shortly", NULL,
                                     "rate_limit_exceeded");
        return serve_reply_error(cc, 503, "the server is shutting down; retry the request (on another replica)",
                                 NULL, NULL);
    }
    cc->job = j; /* the connection's reference from here on */
    double deadline = j->t_submit + srv->cfg.timeout_s;
    /* the idle limit is for idle connections: a stream may be silent while the answer is held back or while the
     * model emits tokens without text, so until the answer is done only --timeout applies */
    MHD_set_connection_option(cc->c, MHD_CONNECTION_OPTION_TIMEOUT, (unsigned)(srv->cfg.timeout_s + 30));
    if (!wait_job(cc, j, WAIT_STARTED, 0, deadline))
        return MHD_NO;
    pthread_mutex_lock(&j->mu);
    bool waited_out = !j->started && j->cancel == SERVE_CANCEL_DEADLINE;
    bool failed = j->fail_status != 0 && j->n_toks == 0;
    pthread_mutex_unlock(&j->mu);
    if (waited_out) {
        char msg[200];
        snprintf(msg, sizeof msg, "the request waited %g s for a free session (--timeout); the server is busy, "
                 "retry later", srv->cfg.timeout_s);
        return serve_reply_error(cc, 503, msg, NULL, NULL);
    }
    if (failed)
        return serve_reply_error(cc, j->fail_status, j->err.msg, "messages", j->fail_code);
    serve_render r = {.srv = srv, .req = &j->req, .created = (long long)time(NULL)};
    snprintf(r.id, sizeof r.id, "%s%s", api == &serve_api_anthropic ? "msg_" : "chatcmpl-", cc->request_id + 4);
    if (streamed)
        return reply_stream(cc, api, j, &r, deadline);
    if (!wait_job(cc, j, WAIT_DONE, 0, deadline))
        return MHD_NO;
    if (j->fail_status)
        return serve_reply_error(cc, j->fail_status, j->err.msg, NULL, j->fail_code);
    if (j->cancel == SERVE_CANCEL_SHUTDOWN)
        return serve_reply_error(cc, 503, "the server shut down before the answer was complete; retry the request",
                                 NULL, NULL);
    return serve_reply_json(cc, 200, api->result(&r, j));
}
