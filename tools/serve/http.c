/* tools/serve/http.c — libmicrohttpd glue: the listening daemon (a thread per connection, so a request may block
 * while its answer is generated), the access handler that collects a request's body within --max-body and
 * sends it down its route, CORS preflights, the API key, and one log line and metrics sample per request. */
#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "http.h"

/* Seconds a connection may sit idle (keep-alive, or a client that stops sending): generation requests raise it
 * to their --timeout while they run. */
#define IDLE_TIMEOUT 60

/* A body over --max-body is still read (and dropped) up to this many bytes, so the client gets to read the 413
 * instead of a reset connection; past it the connection is closed at once. */
#define DRAIN_CAP ((uint64_t)256 << 20)

/* ---- peers ---- */

bool serve_peer_gone(serve_conn *cc)
{
    const union MHD_ConnectionInfo *ci = MHD_get_connection_info(cc->c, MHD_CONNECTION_INFO_CONNECTION_FD);
    if (!ci)
        return true;
    struct pollfd p = {.fd = ci->connect_fd, .events = POLLIN};
    if (poll(&p, 1, 0) <= 0)
        return false;
    if (p.revents & (POLLERR | POLLHUP | POLLNVAL))
        return true;
    char c;
    ssize_t n = recv(ci->connect_fd, &c, 1, MSG_PEEK | MSG_DONTWAIT);
    /* 0: the peer closed; data: a pipelined next request, so the peer is still there */
    return n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR);
}

/* ---- one request ---- */

static bool is_api_route(serve_route r)
{
    return r == SERVE_ROUTE_CHAT || r == SERVE_ROUTE_MESSAGES || r == SERVE_ROUTE_MODELS || r == SERVE_ROUTE_MODEL;
}

/* What the first look at the headers refuses: 0, or a status with msg filled. */
static int screen(serve_conn *cc, const char *method, char *msg, size_t size)
{
    serve_server *srv = cc->srv;
    bool get = !strcmp(method, "GET") || !strcmp(method, "HEAD"), post = !strcmp(method, "POST");
    if (cc->route == SERVE_ROUTE_NONE) {
        snprintf(msg, size, "no route %.200s %.200s (the API is at /v1/chat/completions, /v1/messages, /v1/models; "
                 "the chat page at /)", method, cc->path);
        return 404;
    }
    bool want_post = cc->route == SERVE_ROUTE_CHAT || cc->route == SERVE_ROUTE_MESSAGES;
    if (want_post ? !post : !get) {
        snprintf(msg, size, "%.20s is not allowed on %.200s (%s)", method, cc->path, serve_route_methods(cc->route));
        return 405;
    }
    if (is_api_route(cc->route) &&
        !serve_auth_ok(srv->cfg.api_key, MHD_lookup_connection_value(cc->c, MHD_HEADER_KIND, "Authorization"),
                       MHD_lookup_connection_value(cc->c, MHD_HEADER_KIND, "x-api-key"))) {
        snprintf(msg, size, "a valid API key is needed: send it as 'Authorization: Bearer KEY' or 'x-api-key: KEY'");
        return 401;
    }
    const char *cl = MHD_lookup_connection_value(cc->c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
    unsigned long long declared = cl ? strtoull(cl, NULL, 10) : 0;
    if (declared > srv->cfg.max_body) {
        snprintf(msg, size, "the request body is %llu bytes, over this server's limit of %llu (--max-body)", declared,
                 (unsigned long long)srv->cfg.max_body);
        return 413;
    }
    return 0;
}

static enum MHD_Result preflight(serve_conn *cc)
{
    struct MHD_Response *r = MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
    if (!r)
        return MHD_NO;
    const char *want = MHD_lookup_connection_value(cc->c, MHD_HEADER_KIND, "Access-Control-Request-Headers");
    /* '*' does not cover Authorization, so the headers asked for are named back */
    MHD_add_response_header(r, "Access-Control-Allow-Headers",
                            want ? want : "authorization, content-type, x-api-key, anthropic-version");
    MHD_add_response_header(r, "Access-Control-Allow-Methods", "GET, POST, OPTIONS");
    MHD_add_response_header(r, "Access-Control-Max-Age", "86400");
    return serve_reply(cc, MHD_HTTP_NO_CONTENT, r);
}

/* The whole request is in: refusals found earlier, then the server's state, then the route. */
static enum MHD_Result dispatch(serve_conn *cc, int early, const char *early_msg)
{
    if (early)
        return serve_reply_error(cc, early, early_msg, NULL, NULL);
    if (cc->overflow) {
        char msg[160];
        snprintf(msg, sizeof msg, "the request body is over this server's limit of %llu bytes (--max-body)",
                 (unsigned long long)cc->srv->cfg.max_body);
        return serve_reply_error(cc, 413, msg, NULL, NULL);
    }
    serve_state st = serve_current_state(cc->srv);
    switch (cc->route) {
    case SERVE_ROUTE_PAGE: return serve_route_page(cc);
    case SERVE_ROUTE_HEALTH: return serve_route_health(cc);
    case SERVE_ROUTE_METRICS: return serve_route_metrics(cc);
    default: break;
    }
    if (st == SERVE_LOADING)
        return serve_reply_error(cc, 503, "the model is loading; retry in a moment", NULL, NULL);
    if (st == SERVE_BROKEN)
        return serve_reply_error(cc, 503, "the GPU was lost; this server must be restarted", NULL, NULL);
    switch (cc->route) {
    case SERVE_ROUTE_MODELS: return serve_route_models(cc, NULL);
    case SERVE_ROUTE_MODEL: {
        const char *id;
        char path[256];
        serve_route_find(cc->path, path, sizeof path, &id);
        return serve_route_models(cc, id ? id : "");
    }
    case SERVE_ROUTE_CHAT:
    case SERVE_ROUTE_MESSAGES:
        if (st == SERVE_DRAINING)
            return serve_reply_error(cc, 503, "the server is shutting down; retry the request (on another replica)",
                                     NULL, NULL);
        return serve_route_generate(cc, cc->route == SERVE_ROUTE_CHAT ? &serve_api_openai : &serve_api_anthropic);
    default: return serve_reply_error(cc, 404, "no such route", NULL, NULL);
    }
}

typedef struct conn_state {
    serve_conn cc;
    int early;                   /* a refusal decided from the headers, answered once the body is read */
    char early_msg[512];
    uint64_t dropped;
} conn_state;

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url, const char *method,
                                  const char *version, const char *upload_data, size_t *upload_data_size,
                                  void **con_cls)
{
    (void)version;
    serve_server *srv = cls;
    conn_state *cs = *con_cls;
    if (!cs) {
        if (!(cs = calloc(1, sizeof *cs)))
            return MHD_NO;
        *con_cls = cs;
        serve_conn *cc = &cs->cc;
        cc->srv = srv;
        cc->c = c;
        cc->t0 = serve_now();
        snprintf(cc->method, sizeof cc->method, "%s", method);
        const char *id;
        cc->route = serve_route_find(url, cc->path, sizeof cc->path, &id);
        snprintf(cc->request_id, sizeof cc->request_id, "req_%016llx",
                 (unsigned long long)atomic_fetch_add(&srv->next_id, 1) ^ ((unsigned long long)srv->created << 24));
        bool anthropic = cc->route == SERVE_ROUTE_MESSAGES ||
                         MHD_lookup_connection_value(c, MHD_HEADER_KIND, "anthropic-version") != NULL;
        cc->api = anthropic ? &serve_api_anthropic : &serve_api_openai;
        if (!strcmp(method, "OPTIONS"))
            return preflight(cc);
        cs->early = screen(cc, method, cs->early_msg, sizeof cs->early_msg);
        const char *cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
        if (cs->early && cl && strtoull(cl, NULL, 10) > DRAIN_CAP)
            return serve_reply_error(cc, cs->early, cs->early_msg, NULL, NULL);
        return MHD_YES;
    }
    serve_conn *cc = &cs->cc;
    if (cc->queued) {
        *upload_data_size = 0;
        return MHD_YES;
    }
    if (*upload_data_size) {
        size_t n = *upload_data_size;
        *upload_data_size = 0;
        if (cs->early || cc->overflow || cc->len + n > srv->cfg.max_body) {
            cc->overflow = !cs->early;
            cs->dropped += n;
            if (cs->dropped + cc->len > DRAIN_CAP)
                return dispatch(cc, cs->early, cs->early_msg);
            return MHD_YES;
        }
        if (cc->len + n + 1 > cc->cap) {
            size_t cap = cc->cap ? cc->cap : 16384;
            while (cap < cc->len + n + 1)
                cap *= 2;
            char *b = realloc(cc->body, cap);
            if (!b)
                return serve_reply_error(cc, 413, "out of memory for the request body", NULL, NULL);
            cc->body = b;
            cc->cap = cap;
        }
        memcpy(cc->body + cc->len, upload_data, n);
        cc->len += n;
        cc->body[cc->len] = 0;
        return MHD_YES;
    }
    return dispatch(cc, cs->early, cs->early_msg);
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls, enum MHD_RequestTerminationCode toe)
{
    serve_server *srv = cls;
    conn_state *cs = *con_cls;
    if (!cs)
        return;
    serve_conn *cc = &cs->cc;
    double secs = serve_now() - cc->t0;
    int status = cc->queued ? cc->status : 499; /* nginx's word for "the client went away first" */
    serve_metrics_request(srv->metrics, serve_route_endpoint(cc->route), status, secs);
    if (!srv->cfg.quiet && cc->route != SERVE_ROUTE_HEALTH && cc->route != SERVE_ROUTE_METRICS) {
        char host[64] = "?";
        const union MHD_ConnectionInfo *ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
        if (ci && ci->client_addr)
            getnameinfo(ci->client_addr, ci->client_addr->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6)
                                                                                 : sizeof(struct sockaddr_in),
                        host, sizeof host, NULL, 0, NI_NUMERICHOST);
        const char *how = toe == MHD_REQUEST_TERMINATED_COMPLETED_OK ? "" : " (connection closed early)";
        if (cc->job) {
            pthread_mutex_lock(&cc->job->mu);
            uint32_t prompt = cc->job->n_prompt, gen = cc->job->n_gen;
            pthread_mutex_unlock(&cc->job->mu);
            fprintf(stderr, "vkmm serve: %s %s %s %d %.3f s, prompt %u, generated %u%s\n", host, cc->method, cc->path,
                    status, secs, prompt, gen, how);
        } else
            fprintf(stderr, "vkmm serve: %s %s %s %d %.3f s%s\n", host, cc->method, cc->path, status, secs, how);
    }
    if (cc->job) {
        serve_job_cancel(cc->job, SERVE_CANCEL_CLIENT); /* a no-op once it is done */
        serve_job_release(cc->job);
        MHD_set_connection_option(c, MHD_CONNECTION_OPTION_TIMEOUT, (unsigned)IDLE_TIMEOUT);
    }
    free(cc->body);
    free(cs);
    *con_cls = NULL;
}

static void on_log(void *cls, const char *fmt, va_list ap)
{
    (void)cls;
    char line[512];
    vsnprintf(line, sizeof line, fmt, ap);
    size_t n = strlen(line);
    while (n && line[n - 1] == '\n')
        line[--n] = 0;
    fprintf(stderr, "vkmm serve: http: %s\n", line);
}

/* ---- the daemon ---- */

int serve_http_start(serve_server *srv)
{
    char port[16];
    snprintf(port, sizeof port, "%d", srv->cfg.port);
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM, .ai_flags = AI_PASSIVE | AI_NUMERICSERV};
    struct addrinfo *ai = NULL;
    int gai = getaddrinfo(srv->cfg.host, port, &hints, &ai);
    if (gai) {
        fprintf(stderr, "vkmm serve: cannot use --host %s: %s\n", srv->cfg.host, gai_strerror(gai));
        return 1;
    }
    unsigned flags = MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_AUTO | MHD_USE_ITC |
                     MHD_USE_ERROR_LOG | (ai->ai_family == AF_INET6 ? MHD_USE_IPv6 : 0);
    srv->httpd = MHD_start_daemon(flags, 0, NULL, NULL, on_request, srv,
                                  MHD_OPTION_EXTERNAL_LOGGER, on_log, srv, /* first, so that it gets every message */
                                  MHD_OPTION_SOCK_ADDR, ai->ai_addr,
                                  MHD_OPTION_LISTENING_ADDRESS_REUSE, (unsigned)1,
                                  MHD_OPTION_CONNECTION_LIMIT, (unsigned)1024,
                                  MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)IDLE_TIMEOUT,
                                  MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)(128 * 1024),
                                  MHD_OPTION_NOTIFY_COMPLETED, on_completed, srv,
                                  MHD_OPTION_END);
    freeaddrinfo(ai);
    if (!srv->httpd) {
        fprintf(stderr, "vkmm serve: cannot listen on %s:%d (in use, or not an address of this machine)\n",
                srv->cfg.host, srv->cfg.port);
        return 1;
    }
    const union MHD_DaemonInfo *di = MHD_get_daemon_info(srv->httpd, MHD_DAEMON_INFO_BIND_PORT);
    int bound = di ? di->port : srv->cfg.port;
    bool v6 = strchr(srv->cfg.host, ':') != NULL;
    fprintf(stderr, "vkmm serve: listening on http://%s%s%s:%d\n", v6 ? "[" : "", srv->cfg.host, v6 ? "]" : "", bound);
    fflush(stderr);
    return 0;
}

void serve_http_quiesce(serve_server *srv)
{
    if (!srv->httpd)
        return;
    MHD_socket fd = MHD_quiesce_daemon(srv->httpd);
    if (fd != MHD_INVALID_SOCKET)
        close(fd);
}

void serve_http_stop(serve_server *srv)
{
    if (srv->httpd)
        MHD_stop_daemon(srv->httpd);
    srv->httpd = NULL;
}
