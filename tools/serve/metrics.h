/* tools/serve/metrics.h — what /metrics reports, in Prometheus text format: requests by endpoint and status,
 * tokens, cancellations, latency histograms, and gauges read from the scheduler when scraped. */
#ifndef VKMM_TOOLS_SERVE_METRICS_H
#define VKMM_TOOLS_SERVE_METRICS_H

#include <stdbool.h>
#include <stdint.h>

typedef struct serve_metrics serve_metrics;

/* Endpoints requests are counted under; anything else is "other" (so a scan of random paths adds no series). */
typedef enum serve_endpoint {
    SERVE_EP_CHAT = 0,           /* /v1/chat/completions */
    SERVE_EP_MESSAGES,           /* /v1/messages */
    SERVE_EP_MODELS,             /* /v1/models */
    SERVE_EP_HEALTH,
    SERVE_EP_METRICS,
    SERVE_EP_PAGE,               /* the chat page */
    SERVE_EP_OTHER,
    SERVE_EP_COUNT
} serve_endpoint;
const char *serve_endpoint_name(serve_endpoint e);

typedef struct serve_gauges {
    uint32_t queue;              /* requests waiting for a session */
    uint32_t active;             /* sequences being generated */
    uint32_t sessions;
    uint64_t ctx_used;           /* context positions (KV cache rows) held by running sequences */
    uint64_t ctx_capacity;       /* sessions x context */
    uint32_t kv_pages, kv_pages_used; /* the model's KV pool (pages of VKMM_KV_PAGE_TOKENS positions) */
    uint64_t decode_steps, decode_tokens; /* batched decode steps and the tokens they took */
    int state;                   /* serve_state */
} serve_gauges;

serve_metrics *serve_metrics_new(void);
void serve_metrics_free(serve_metrics *m);
void serve_metrics_request(serve_metrics *m, serve_endpoint e, int status, double seconds);
/* One finished generation: prompt positions, tokens generated, seconds to the first token (< 0: none came) and
 * mean seconds per later token (< 0: fewer than two tokens). */
void serve_metrics_generation(serve_metrics *m, uint32_t prompt, uint32_t gen, double ttft, double tpot);
void serve_metrics_cancelled(serve_metrics *m, int why); /* serve_cancel */
/* The whole exposition (malloc'ed). */
char *serve_metrics_render(serve_metrics *m, const serve_gauges *g);

#endif
