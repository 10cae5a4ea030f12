/* tools/serve/routes.c — the routes that answer at once: the chat page, /health (what load balancers and
 * Kubernetes probes ask), /metrics, and /v1/models in OpenAI's shape or, for Anthropic's clients, in theirs. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http.h"
#include "page.h"
#include "sched.h"

enum MHD_Result serve_route_page(serve_conn *cc)
{
    struct MHD_Response *r =
        MHD_create_response_from_buffer(serve_page_html_len, (void *)serve_page_html, MHD_RESPMEM_PERSISTENT);
    if (!r)
        return MHD_NO;
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "text/html; charset=utf-8");
    /* everything the page needs is inline; it talks only to this server */
    MHD_add_response_header(r, "Content-Security-Policy",
                            "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; "
                            "img-src data: blob:; connect-src 'self'; base-uri 'none'; form-action 'none'");
    MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
    return serve_reply(cc, 200, r);
}

enum MHD_Result serve_route_health(serve_conn *cc)
{
    serve_state st = serve_current_state(cc->srv);
    static const char *const words[] = {"loading", "ok", "draining", "error"};
    json_t *body = json_pack("{s:s}", "status", words[st]);
    if (st == SERVE_LOADING)
        json_object_set_new(body, "message", json_string("the model is loading"));
    else if (st == SERVE_DRAINING)
        json_object_set_new(body, "message", json_string("shutting down: finishing the requests in flight"));
    else if (st == SERVE_BROKEN)
        json_object_set_new(body, "message", json_string("the GPU was lost; this server must be restarted"));
    return serve_reply_json(cc, st == SERVE_READY ? 200 : 503, body);
}

enum MHD_Result serve_route_metrics(serve_conn *cc)
{
    serve_gauges g = {0};
    g.state = serve_current_state(cc->srv);
    if (g.state != SERVE_LOADING) /* the scheduler exists from the end of loading on */
        serve_sched_gauges(cc->srv->sched, &g);
    char *text = serve_metrics_render(cc->srv->metrics, &g);
    if (!text)
        return MHD_NO;
    struct MHD_Response *r = MHD_create_response_from_buffer_with_free_callback(strlen(text), text, free);
    if (!r) {
        free(text);
        return MHD_NO;
    }
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8");
    return serve_reply(cc, 200, r);
}

static json_t *model_openai(const serve_server *srv)
{
    return json_pack("{s:s, s:s, s:I, s:s}", "id", srv->model_id, "object", "model", "created",
                     (json_int_t)srv->created, "owned_by", "vkmm");
}

static json_t *model_anthropic(const serve_server *srv)
{
    char when[32];
    struct tm tm;
    gmtime_r(&srv->created, &tm);
    strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return json_pack("{s:s, s:s, s:s, s:s}", "type", "model", "id", srv->model_id, "display_name", srv->model_id,
                     "created_at", when);
}

enum MHD_Result serve_route_models(serve_conn *cc, const char *model_id)
{
    const serve_server *srv = cc->srv;
    bool anthropic = cc->api == &serve_api_anthropic;
    if (model_id) {
        if (strcmp(model_id, srv->model_id)) {
            char msg[400];
            snprintf(msg, sizeof msg, "no model '%.200s' here; this server has '%s'", model_id, srv->model_id);
            return serve_reply_error(cc, 404, msg, "model", "model_not_found");
        }
        return serve_reply_json(cc, 200, anthropic ? model_anthropic(srv) : model_openai(srv));
    }
    if (anthropic)
        return serve_reply_json(cc, 200, json_pack("{s:[o], s:b, s:s, s:s}", "data", model_anthropic(srv), "has_more",
                                                   0, "first_id", srv->model_id, "last_id", srv->model_id));
    return serve_reply_json(cc, 200, json_pack("{s:s, s:[o]}", "object", "list", "data", model_openai(srv)));
}
