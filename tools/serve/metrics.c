/* tools/serve/metrics.c — counters and histograms behind /metrics, rendered in Prometheus text format (HELP and
 * TYPE before each family, cumulative buckets ending in +Inf, counters named *_total, every line ending in \n).
 * There is no paged KV pool yet, so the cache is reported as what it truly is: context positions held by the
 * sequences running now, out of --parallel sessions x --ctx-size. */
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "metrics.h"
#include "serve.h"

#define N_STATUS 600

static const double ttft_bounds[] = {0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120};
static const double tpot_bounds[] = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5};
static const double duration_bounds[] = {0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600};
#define MAX_BUCKETS 16

typedef struct histogram {
    const double *bounds;
    uint32_t n;
    uint64_t counts[MAX_BUCKETS]; /* per bucket, not cumulative; [n] is above every bound */
    uint64_t count;
    double sum;
} histogram;

struct serve_metrics {
    pthread_mutex_t mu;
    uint64_t requests[SERVE_EP_COUNT][N_STATUS];
    uint64_t prompt_tokens, generated_tokens, generations;
    uint64_t cancelled[4];
    histogram ttft, tpot, duration;
};

const char *serve_endpoint_name(serve_endpoint e)
{
    static const char *const names[] = {"/v1/chat/completions", "/v1/messages", "/v1/models", "/health", "/metrics",
                                        "/", "other"};
    return e < SERVE_EP_COUNT ? names[e] : "other";
}

static void hist_init(histogram *h, const double *bounds, uint32_t n)
{
    h->bounds = bounds;
    h->n = n;
}

static void hist_add(histogram *h, double v)
{
    uint32_t i = 0;
    while (i < h->n && v > h->bounds[i])
        i++;
    h->counts[i]++;
    h->count++;
    h->sum += v;
}

serve_metrics *serve_metrics_new(void)
{
    serve_metrics *m = calloc(1, sizeof *m);
    if (!m)
        return NULL;
    pthread_mutex_init(&m->mu, NULL);
    hist_init(&m->ttft, ttft_bounds, sizeof ttft_bounds / sizeof *ttft_bounds);
    hist_init(&m->tpot, tpot_bounds, sizeof tpot_bounds / sizeof *tpot_bounds);
    hist_init(&m->duration, duration_bounds, sizeof duration_bounds / sizeof *duration_bounds);
    return m;
}

void serve_metrics_free(serve_metrics *m)
{
    if (!m)
        return;
    pthread_mutex_destroy(&m->mu);
    free(m);
}

void serve_metrics_request(serve_metrics *m, serve_endpoint e, int status, double seconds)
{
    if (e >= SERVE_EP_COUNT)
        e = SERVE_EP_OTHER;
    if (status < 100 || status >= N_STATUS)
        status = 500;
    pthread_mutex_lock(&m->mu);
    m->requests[e][status]++;
    if (e == SERVE_EP_CHAT || e == SERVE_EP_MESSAGES)
        hist_add(&m->duration, seconds);
    pthread_mutex_unlock(&m->mu);
}

void serve_metrics_generation(serve_metrics *m, uint32_t prompt, uint32_t gen, double ttft, double tpot)
{
    pthread_mutex_lock(&m->mu);
    m->generations++;
    m->prompt_tokens += prompt;
    m->generated_tokens += gen;
    if (ttft >= 0)
        hist_add(&m->ttft, ttft);
    if (tpot >= 0)
        hist_add(&m->tpot, tpot);
    pthread_mutex_unlock(&m->mu);
}

void serve_metrics_cancelled(serve_metrics *m, int why)
{
    pthread_mutex_lock(&m->mu);
    if (why > 0 && why < 4)
        m->cancelled[why]++;
    pthread_mutex_unlock(&m->mu);
}

/* ---- rendering ---- */

typedef struct out {
    char *s;
    size_t len, cap;
    bool failed;
} out;

static void put(out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(out *o, const char *fmt, ...)
{
    if (o->failed)
        return;
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(o->s ? o->s + o->len : NULL, o->s ? o->cap - o->len : 0, fmt, ap);
        va_end(ap);
        if (n < 0) {
            o->failed = true;
            return;
        }
        if (o->s && o->len + (size_t)n < o->cap) {
            o->len += (size_t)n;
            return;
        }
        size_t cap = o->cap ? o->cap * 2 : 8192;
        while (cap < o->len + (size_t)n + 1)
            cap *= 2;
        char *s = realloc(o->s, cap);
        if (!s) {
            o->failed = true;
            return;
        }
        o->s = s;
        o->cap = cap;
    }
}

static void family(out *o, const char *name, const char *type, const char *help)
{
    put(o, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void hist_put(out *o, const char *name, const char *help, const histogram *h)
{
    family(o, name, "histogram", help);
    uint64_t cum = 0;
    for (uint32_t i = 0; i < h->n; i++) {
        cum += h->counts[i];
        put(o, "%s_bucket{le=\"%g\"} %llu\n", name, h->bounds[i], (unsigned long long)cum);
    }
    put(o, "%s_bucket{le=\"+Inf\"} %llu\n", name, (unsigned long long)h->count);
    put(o, "%s_sum %.6f\n%s_count %llu\n", name, h->sum, name, (unsigned long long)h->count);
}

char *serve_metrics_render(serve_metrics *m, const serve_gauges *g)
{
    out o = {0};
    pthread_mutex_lock(&m->mu);
    family(&o, "vkmm_requests_total", "counter", "HTTP requests answered, by endpoint and status code.");
    for (int e = 0; e < SERVE_EP_COUNT; e++)
        for (int st = 100; st < N_STATUS; st++)
            if (m->requests[e][st])
                put(&o, "vkmm_requests_total{endpoint=\"%s\",status=\"%d\"} %llu\n", serve_endpoint_name(e), st,
                    (unsigned long long)m->requests[e][st]);
    family(&o, "vkmm_generations_total", "counter", "Generations run to their end (or cancelled).");
    put(&o, "vkmm_generations_total %llu\n", (unsigned long long)m->generations);
    family(&o, "vkmm_prompt_tokens_total", "counter", "Prompt positions prefilled (text tokens and image rows).");
    put(&o, "vkmm_prompt_tokens_total %llu\n", (unsigned long long)m->prompt_tokens);
    family(&o, "vkmm_generated_tokens_total", "counter", "Tokens generated.");
    put(&o, "vkmm_generated_tokens_total %llu\n", (unsigned long long)m->generated_tokens);
    family(&o, "vkmm_cancelled_total", "counter",
           "Generations stopped early: the client went away, the request ran past --timeout, or shutdown.");
    static const char *const reasons[] = {"", "client_gone", "deadline", "shutdown"};
    for (int r = 1; r < 4; r++)
        put(&o, "vkmm_cancelled_total{reason=\"%s\"} %llu\n", reasons[r], (unsigned long long)m->cancelled[r]);
    hist_put(&o, "vkmm_time_to_first_token_seconds", "From arrival (queue wait included) to the first token.",
             &m->ttft);
    hist_put(&o, "vkmm_time_per_output_token_seconds", "Mean time per token after the first, per generation.",
             &m->tpot);
    hist_put(&o, "vkmm_request_duration_seconds", "Whole generation requests, from arrival to the last byte queued.",
             &m->duration);
    pthread_mutex_unlock(&m->mu);

    family(&o, "vkmm_queue_length", "gauge", "Requests waiting for a free session.");
    put(&o, "vkmm_queue_length %u\n", g->queue);
    family(&o, "vkmm_active_sequences", "gauge", "Sequences being generated now.");
    put(&o, "vkmm_active_sequences %u\n", g->active);
    family(&o, "vkmm_sessions", "gauge", "Sessions (--parallel): sequences that can run at once.");
    put(&o, "vkmm_sessions %u\n", g->sessions);
    family(&o, "vkmm_kv_positions_in_use", "gauge", "KV cache positions (context rows) held by running sequences.");
    put(&o, "vkmm_kv_positions_in_use %llu\n", (unsigned long long)g->ctx_used);
    family(&o, "vkmm_kv_positions_capacity", "gauge", "KV cache positions the sessions may reach: sessions x context.");
    put(&o, "vkmm_kv_positions_capacity %llu\n", (unsigned long long)g->ctx_capacity);
    family(&o, "vkmm_kv_pages_in_use", "gauge", "Pages of the model's KV pool held by sequences (16 positions each).");
    put(&o, "vkmm_kv_pages_in_use %u\n", g->kv_pages_used);
    family(&o, "vkmm_kv_pages", "gauge", "Pages in the model's KV pool.");
    put(&o, "vkmm_kv_pages %u\n", g->kv_pages);
    family(&o, "vkmm_decode_steps_total", "counter", "Batched decode steps run (all sequences' next tokens at once).");
    put(&o, "vkmm_decode_steps_total %llu\n", (unsigned long long)g->decode_steps);
    family(&o, "vkmm_decode_tokens_total", "counter", "Tokens the batched decode steps took (per step: the batch size).");
    put(&o, "vkmm_decode_tokens_total %llu\n", (unsigned long long)g->decode_tokens);
    family(&o, "vkmm_state", "gauge", "1 for the state the server is in: loading, ready, draining or broken.");
    static const char *const states[] = {"loading", "ready", "draining", "broken"};
    for (int s = 0; s < 4; s++)
        put(&o, "vkmm_state{state=\"%s\"} %d\n", states[s], g->state == s);
    if (o.failed) {
        free(o.s);
        return NULL;
    }
    return o.s;
}
