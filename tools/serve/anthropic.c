/* tools/serve/anthropic.c — Anthropic Messages: the request (system, text and base64 image blocks, max_tokens,
 * stop_sequences, sampling) and the answer, the named stream events in their order (message_start,
 * content_block_start, ping, content_block_delta..., content_block_stop, message_delta, message_stop) and
 * Anthropic's error shape. */
#include <float.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"

/* ---- request ---- */

#define API "Anthropic Messages API"

/* Every field of the API's request: those vkmm applies and those it accepts and leaves alone; anything else is a
 * 400, as it is at Anthropic. */
static const char *const body_fields[] = {
    "model", "messages", "max_tokens", "system", "stop_sequences", "stream", "temperature", "top_p", "top_k",
    "metadata", "service_tier", "tools", "tool_choice", "thinking", "container", "context_management", "mcp_servers",
    "inference_geo", "output_config", "output_format", NULL};
static const char *const message_fields[] = {"role", "content", NULL};

static int parse_block(const serve_server *srv, serve_request *q, serve_msg *m, json_t *block, const char *param,
                       serve_reject *why)
{
    char p2[160];
    const char *t = serve_part_type(block, param, "\"text\" or \"image\"", why);
    if (!t)
        return why->status;
    if (!strcmp(t, "text"))
        return serve_msg_add_text_part(m, block, param, why);
    if (!strcmp(t, "image")) {
        json_t *src = json_object_get(block, "source");
        snprintf(p2, sizeof p2, "%s.source", param);
        json_t *stype = json_is_object(src) ? json_object_get(src, "type") : NULL;
        if (!json_is_string(stype))
            return serve_refuse(why, 400, p2, "%s must be an object with a type (base64)", p2);
        const char *st = json_string_value(stype);
        if (!strcmp(st, "url"))
            return serve_refuse(why, 400, p2, "%s: this server fetches nothing from the network; send the image as "
                                "base64 ({\"type\": \"base64\", \"media_type\": \"image/png\", \"data\": ...})", p2);
        if (strcmp(st, "base64"))
            return serve_refuse(why, 400, p2, "%s.type '%.40s' is not supported (base64)", p2, st);
        json_t *data = json_object_get(src, "data");
        snprintf(p2, sizeof p2, "%s.source.data", param);
        if (!json_is_string(data))
            return serve_refuse(why, 400, p2, "%s must be a base64 string, not %s", p2,
                                data ? serve_json_kind(data) : "missing");
        return serve_msg_add_base64_image(srv, q, m, json_string_value(data), json_string_length(data), p2, why);
    }
    return serve_refuse(why, 400, param, "%s: content blocks of type '%.40s' are not supported (text, image)", param, t);
}

/* content: a string or an array of blocks (system: text blocks only) */
static int parse_content(const serve_server *srv, serve_request *q, serve_msg *m, json_t *content, const char *param,
                         serve_reject *why)
{
    if (json_is_string(content))
        return serve_msg_append_text(m, json_string_value(content), json_string_length(content), param, why);
    if (!json_is_array(content))
        return serve_refuse(why, 400, param, "%s must be a string or an array of content blocks, not %s", param,
                            content ? serve_json_kind(content) : "missing");
    size_t i;
    json_t *block;
    json_array_foreach(content, i, block) {
        char p2[128];
        snprintf(p2, sizeof p2, "%s[%zu]", param, i);
        int st = parse_block(srv, q, m, block, p2, why);
        if (st)
            return st;
    }
    return 0;
}

static int parse(const serve_server *srv, json_t *body, serve_request *q, serve_reject *why)
{
    int st = serve_parse_head(srv, body, body_fields, API, q, why);
    if (st)
        return st;
    json_t *mt = json_object_get(body, "max_tokens");
    if (!mt || json_is_null(mt))
        return serve_refuse(why, 400, "max_tokens", "max_tokens: Field required");
    if ((st = serve_get_max_tokens(body, "max_tokens", q, why)))
        return st;
    json_t *system = json_object_get(body, "system");
    if (system && !json_is_null(system)) {
        serve_msg *m = serve_request_add_msg(q, "system");
        if (!m)
            return serve_refuse(why, 413, "system", "out of memory");
        if (json_is_array(system)) {
            size_t i;
            json_t *b;
            json_array_foreach(system, i, b) {
                json_t *t = json_object_get(b, "type");
                if (!json_is_string(t) || strcmp(json_string_value(t), "text"))
                    return serve_refuse(why, 400, "system", "system[%zu] must be a text block", i);
            }
        }
        if ((st = parse_content(srv, q, m, system, "system", why)))
            return st;
    }
    json_t *msgs = json_object_get(body, "messages");
    if (!json_is_array(msgs))
        return serve_refuse(why, 400, "messages", "messages must be an array of messages, not %s",
                            msgs ? serve_json_kind(msgs) : "missing");
    size_t i;
    json_t *msg;
    json_array_foreach(msgs, i, msg) {
        char param[64];
        snprintf(param, sizeof param, "messages[%zu]", i);
        if (!json_is_object(msg))
            return serve_refuse(why, 400, param, "%s must be an object, not %s", param, serve_json_kind(msg));
        if ((st = serve_check_fields(msg, message_fields, API, param, why)))
            return st;
        json_t *role = json_object_get(msg, "role");
        const char *r = json_is_string(role) ? json_string_value(role) : "";
        if (strcmp(r, "user") && strcmp(r, "assistant"))
            return serve_refuse(why, 400, param, "%s.role must be \"user\" or \"assistant\"", param);
        serve_msg *m = serve_request_add_msg(q, !strcmp(r, "user") ? "user" : "assistant");
        if (!m)
            return serve_refuse(why, 413, param, "out of memory");
        char p2[96];
        snprintf(p2, sizeof p2, "%s.content", param);
        if ((st = parse_content(srv, q, m, json_object_get(msg, "content"), p2, why)))
            return st;
    }
    vkmm_sampling *sp = &q->sampling;
    double d = sp->temperature;
    if ((st = serve_get_number(body, "temperature", 0, 1, &d, why)))
        return st;
    sp->temperature = (float)d;
    d = sp->top_p;
    if ((st = serve_get_number(body, "top_p", 0, 1, &d, why)))
        return st;
    sp->top_p = d > 0 ? (float)d : FLT_MIN;
    int64_t n = sp->top_k;
    if ((st = serve_get_int(body, "top_k", 0, 1 << 20, &n, why)))
        return st;
    sp->top_k = (int32_t)n;
    if ((st = serve_get_stops(body, "stop_sequences", q, why)))
        return st;
    if ((st = serve_get_bool(body, "stream", &q->stream, why)))
        return st;
    if (json_array_size(json_object_get(body, "tools")))
        return serve_refuse(why, 400, "tools", "tools are not supported by this server");
    json_t *of = json_object_get(body, "output_format");
    if (of && !json_is_null(of))
        return serve_refuse(why, 400, "output_format", "structured outputs (output_format) are not supported by this "
                            "server");
    json_t *thinking = json_object_get(body, "thinking");
    json_t *tt = json_is_object(thinking) ? json_object_get(thinking, "type") : NULL;
    if (json_is_string(tt) && !strcmp(json_string_value(tt), "enabled"))
        return serve_refuse(why, 400, "thinking", "extended thinking is not supported by this server");
    return serve_request_finish(srv, q, why);
}

/* ---- answers ---- */

static const char *stop_reason(const serve_job *j)
{
    vkmm_finish f = serve_job_finish(j);
    return f == VKMM_FINISH_LENGTH ? "max_tokens" : f == VKMM_FINISH_STOP ? "stop_sequence" : "end_turn";
}

static json_t *stop_sequence(const serve_render *r, const serve_job *j)
{
    const char *s = serve_matched_stop(r->srv, j);
    return s ? json_string(s) : json_null();
}

static json_t *result(serve_render *r, const serve_job *j)
{
    char *text = serve_job_text(j);
    json_t *block = json_pack("{s:s, s:o}", "type", "text", "text",
                              serve_json_text(text ? text : "", text ? strlen(text) : 0));
    free(text);
    return json_pack("{s:s, s:s, s:s, s:s, s:[o], s:s, s:o, s:{s:I, s:I}}", "id", r->id, "type", "message", "role",
                     "assistant", "model", r->req->model, "content", block, "stop_reason", stop_reason(j),
                     "stop_sequence", stop_sequence(r, j), "usage", "input_tokens", (json_int_t)j->n_prompt,
                     "output_tokens", (json_int_t)j->n_gen);
}

static void stream_begin(serve_render *r, serve_sse *out, const serve_job *j)
{
    json_t *message = json_pack("{s:s, s:s, s:s, s:s, s:[], s:n, s:n, s:{s:I, s:I}}", "id", r->id, "type", "message",
                                "role", "assistant", "model", r->req->model, "content", "stop_reason", "stop_sequence",
                                "usage", "input_tokens", (json_int_t)j->n_prompt, "output_tokens", (json_int_t)0);
    serve_sse_event(out, "message_start", json_pack("{s:s, s:o}", "type", "message_start", "message", message));
    serve_sse_event(out, "content_block_start", json_pack("{s:s, s:i, s:{s:s, s:s}}", "type", "content_block_start",
                                                          "index", 0, "content_block", "type", "text", "text", ""));
    serve_sse_event(out, "ping", json_pack("{s:s}", "type", "ping"));
}

static void stream_tokens(serve_render *r, serve_sse *out, const serve_token *t, uint32_t n)
{
    (void)r;
    size_t len;
    char *text = serve_tokens_text(t, n, &len);
    if (!text) {
        out->failed = true;
        return;
    }
    if (len) {
        json_t *delta = json_pack("{s:s, s:o}", "type", "text_delta", "text", serve_json_text(text, len));
        serve_sse_event(out, "content_block_delta",
                        json_pack("{s:s, s:i, s:o}", "type", "content_block_delta", "index", 0, "delta", delta));
    }
    free(text);
}

static void stream_end(serve_render *r, serve_sse *out, const serve_job *j)
{
    serve_sse_event(out, "content_block_stop", json_pack("{s:s, s:i}", "type", "content_block_stop", "index", 0));
    serve_sse_event(out, "message_delta",
                    json_pack("{s:s, s:{s:s, s:o}, s:{s:I}}", "type", "message_delta", "delta", "stop_reason",
                              stop_reason(j), "stop_sequence", stop_sequence(r, j), "usage", "output_tokens",
                              (json_int_t)j->n_gen));
    serve_sse_event(out, "message_stop", json_pack("{s:s}", "type", "message_stop"));
}

static const char *error_type(int status)
{
    switch (status) {
    case 401: return "authentication_error";
    case 403: return "permission_error";
    case 404: return "not_found_error";
    case 413: return "request_too_large";
    case 429: return "rate_limit_error";
    case 503:
    case 529: return "overloaded_error";
    default: return status >= 500 ? "api_error" : "invalid_request_error";
    }
}

static json_t *error(int status, const char *msg, const char *param, const char *code)
{
    (void)param;
    (void)code;
    return json_pack("{s:s, s:{s:s, s:o}, s:n}", "type", "error", "error", "type", error_type(status), "message",
                     serve_json_text(msg, strlen(msg)), "request_id");
}

static void stream_error(serve_render *r, serve_sse *out, int status, const char *msg)
{
    (void)r;
    serve_sse_event(out, "error", error(status, msg, NULL, NULL));
}

const serve_api serve_api_anthropic = {
    .name = "anthropic",
    .endpoint = SERVE_EP_MESSAGES,
    .parse = parse,
    .error = error,
    .result = result,
    .stream_begin = stream_begin,
    .stream_tokens = stream_tokens,
    .stream_end = stream_end,
    .stream_error = stream_error,
};
