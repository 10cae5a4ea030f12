/* tools/serve/http.h — the HTTP side of the server (libmicrohttpd, a thread per connection): one request's state,
 * the routes, and the helpers that answer with JSON in the API's own error shape. */
#ifndef VKMM_TOOLS_SERVE_HTTP_H
#define VKMM_TOOLS_SERVE_HTTP_H

#include <microhttpd.h>

#include "api.h"

typedef enum serve_route {
    SERVE_ROUTE_NONE = 0,
    SERVE_ROUTE_PAGE,
    SERVE_ROUTE_HEALTH,
    SERVE_ROUTE_METRICS,
    SERVE_ROUTE_MODELS,
    SERVE_ROUTE_MODEL,           /* /v1/models/{id} */
    SERVE_ROUTE_CHAT,
    SERVE_ROUTE_MESSAGES,
} serve_route;

/* Normalises url into path and finds its route (*model_id points into path for SERVE_ROUTE_MODEL). */
serve_route serve_route_find(const char *url, char *path, size_t size, const char **model_id);
const char *serve_route_methods(serve_route r);
serve_endpoint serve_route_endpoint(serve_route r);

/* One request on a connection, from its headers to the end of its response. */
typedef struct serve_conn {
    serve_server *srv;
    struct MHD_Connection *c;
    serve_route route;
    const serve_api *api;        /* whose error shape to answer in (NULL: OpenAI's) */
    char *body;
    size_t len, cap;
    bool overflow;               /* the body passed --max-body: the rest is read and dropped, then 413 */
    bool queued;                 /* a response is queued */
    int status;
    double t0;
    char method[16];
    char path[256];
    char request_id[32];
    serve_job *job;              /* a generation's job (a reference), for the log line and to cancel on hang-up */
} serve_conn;

/* Responses. Each queues the response on cc's connection and records its status. */
enum MHD_Result serve_reply(serve_conn *cc, int status, struct MHD_Response *r);
/* body is taken (decref'ed). */
enum MHD_Result serve_reply_json(serve_conn *cc, int status, json_t *body);
enum MHD_Result serve_reply_error(serve_conn *cc, int status, const char *msg, const char *param, const char *code);
/* 429 and 503 say when to come back (Retry-After, and retry-after-ms that the SDKs read first). */
void serve_retry_after(struct MHD_Response *r, unsigned seconds);
/* CORS, the request id, no caching: on every response. */
void serve_common_headers(serve_conn *cc, struct MHD_Response *r);

/* The routes (routes.c, complete.c). */
enum MHD_Result serve_route_page(serve_conn *cc);
enum MHD_Result serve_route_health(serve_conn *cc);
enum MHD_Result serve_route_metrics(serve_conn *cc);
enum MHD_Result serve_route_models(serve_conn *cc, const char *model_id);
enum MHD_Result serve_route_generate(serve_conn *cc, const serve_api *api);

/* True when the peer closed its end of cc's connection (checked without reading the socket's data). */
bool serve_peer_gone(serve_conn *cc);

/* auth.c: whether the request carries the API key (Authorization: Bearer KEY or x-api-key: KEY). */
bool serve_auth_ok(const char *key, const char *authorization, const char *x_api_key);

#endif
