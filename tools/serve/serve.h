/* tools/serve/serve.h — `vkmm serve`: the server's configuration and shared state, and the entry points its
 * files give each other. The server reaches the model through vkmm.h only. */
#ifndef VKMM_TOOLS_SERVE_H
#define VKMM_TOOLS_SERVE_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "vkmm.h"

typedef struct serve_sched serve_sched;
typedef struct serve_metrics serve_metrics;

typedef struct serve_config {
    const char *model;           /* a name, a GGUF or a manifest (NULL: the bundled demo) */
    const char *mmproj;
    const char *device;
    const char *host;
    int port;                    /* 0: any free port (printed) */
    uint32_t parallel;           /* sessions, so sequences generated at once */
    uint32_t n_ctx;              /* per session; 0: the manifest's, else 4096 */
    uint32_t queue;              /* requests waiting for a session before 429 */
    uint64_t max_body;           /* request body bytes */
    uint32_t max_images;         /* per request */
    uint32_t image_tokens;       /* a budgeted tower's tokens per image (Gemma 4); 0: its default */
    uint64_t max_image_pixels;   /* width x height of one image */
    double timeout_s;            /* per request, from arrival to the last token */
    double shutdown_s;           /* on SIGTERM: how long in-flight work may go on */
    const char *api_key;         /* NULL: no key needed */
    bool allow_local_files;      /* image paths and file:// URLs in requests */
    bool quiet;                  /* no line per request on stderr */
} serve_config;

/* What the server is doing, for /health and for every other route. */
typedef enum serve_state {
    SERVE_LOADING = 0,           /* the model is being loaded: 503 */
    SERVE_READY,
    SERVE_DRAINING,              /* SIGTERM: in-flight work finishes, new work is refused with 503 */
    SERVE_BROKEN,                /* the device was lost: 503 until restarted */
} serve_state;

typedef struct serve_server {
    serve_config cfg;
    _Atomic int state;           /* serve_state */
    vkmm_model *model;
    char model_id[128];          /* what /v1/models calls it: the manifest's name or the GGUF's file stem */
    time_t created;              /* the model file's time, for /v1/models */
    uint32_t n_ctx;              /* of each session */
    uint32_t default_max_tokens; /* when a request gives none (OpenAI) */
    uint32_t max_token_bytes;    /* the longest token's text: text longer than n_ctx of them cannot fit */
    vkmm_sampling defaults;      /* sampling when a request leaves a field out (the manifest's, as `vkmm run`) */
    char *system;                /* the manifest's system prompt when a request has none, or NULL */
    serve_sched *sched;
    serve_metrics *metrics;
    struct MHD_Daemon *httpd;
    _Atomic uint64_t next_id;
} serve_server;

/* http.c: starts listening (and answering 503 until the model is ready); prints the address. */
int serve_http_start(serve_server *srv);
/* Stops accepting connections; requests on open connections are still answered (with 503 once draining). */
void serve_http_quiesce(serve_server *srv);
/* Closes every connection and joins their threads. */
void serve_http_stop(serve_server *srv);

/* The state right now, with a lost device folded in. */
serve_state serve_current_state(serve_server *srv);
/* Seconds on a monotonic clock. */
double serve_now(void);

#endif
