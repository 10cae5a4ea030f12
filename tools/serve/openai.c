/* tools/serve/openai.c — OpenAI Chat Completions: the request (messages with string or part content, text and
 * image_url parts, sampling, stop, logprobs, stream options) and the answer, stream chunks and error objects in
 * the shapes the official clients parse (see ../shared/reference/http-api.md). */
#include <float.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"

/* ---- request ---- */

#define API "OpenAI Chat Completions API"

/* Every field of the API's request (and the common extensions of local servers): those vkmm applies, and those it
 * accepts and leaves alone (metadata, storage, tools switched off, penalties it has no equivalent for). Anything
 * else is a 400, as it is at OpenAI. */
static const char *const body_fields[] = {
    "model", "messages", "max_tokens", "max_completion_tokens", "temperature", "top_p", "seed", "stop", "n",
    "logprobs", "top_logprobs", "stream", "stream_options", "response_format", "tools", "tool_choice", "functions",
    "function_call", "parallel_tool_calls", "frequency_penalty", "presence_penalty", "logit_bias", "user", "store",
    "metadata", "service_tier", "modalities", "audio", "prediction", "reasoning_effort", "verbosity",
    "prompt_cache_key", "safety_identifier", "web_search_options",
    "top_k", "min_p", "repeat_penalty", "repetition_penalty", "ignore_eos", "cache_prompt", NULL};
static const char *const message_fields[] = {"role", "content", "name", "tool_calls", "tool_call_id", "function_call",
                                             "refusal", "audio", NULL};

static int parse_part(const serve_server *srv, serve_request *q, serve_msg *m, json_t *part, const char *param,
                      serve_reject *why)
{
    char p2[160];
    if (json_is_string(part)) /* not in the schema, but unambiguous */
        return serve_msg_append_text(m, json_string_value(part), json_string_length(part), param, why);
    const char *t = serve_part_type(part, param, "\"text\" or \"image_url\"", why);
    if (!t)
        return why->status;
    if (!strcmp(t, "text"))
        return serve_msg_add_text_part(m, part, param, why);
    if (!strcmp(t, "image_url")) {
        json_t *iu = json_object_get(part, "image_url");
        json_t *url = json_is_object(iu) ? json_object_get(iu, "url") : iu;
        snprintf(p2, sizeof p2, "%s.image_url.url", param);
        if (!json_is_string(url))
            return serve_refuse(why, 400, p2, "%s must be a string (data:image/png;base64,...), not %s", p2,
                                url ? serve_json_kind(url) : "missing");
        return serve_msg_add_image_url(srv, q, m, json_string_value(url), json_string_length(url), p2, why);
    }
    return serve_refuse(why, 400, param, "%s: content parts of type '%.40s' are not supported (text, image_url)",
                        param, t);
}

static int parse_message(const serve_server *srv, serve_request *q, json_t *msg, size_t index, serve_reject *why)
{
    char param[64];
    snprintf(param, sizeof param, "messages[%zu]", index);
    if (!json_is_object(msg))
        return serve_refuse(why, 400, param, "%s must be an object, not %s", param, serve_json_kind(msg));
    json_t *role = json_object_get(msg, "role");
    if (!json_is_string(role))
        return serve_refuse(why, 400, param, "%s.role must be a string (system, user or assistant)", param);
    int st = serve_check_fields(msg, message_fields, API, param, why);
    if (st)
        return st;
    const char *r = json_string_value(role);
    const char *as = !strcmp(r, "system") || !strcmp(r, "developer") ? "system"
                     : !strcmp(r, "user")                             ? "user"
                     : !strcmp(r, "assistant")                        ? "assistant"
                                                                      : NULL;
    if (!as)
        return serve_refuse(why, 400, param, "%s.role '%.40s' is not supported (system, developer, user, assistant)",
                            param, r);
    serve_msg *m = serve_request_add_msg(q, as);
    if (!m)
        return serve_refuse(why, 413, param, "out of memory");
    json_t *content = json_object_get(msg, "content");
    char p2[96];
    snprintf(p2, sizeof p2, "%s.content", param);
    if (json_is_string(content))
        return serve_msg_append_text(m, json_string_value(content), json_string_length(content), p2, why);
    if ((!content || json_is_null(content)) && !strcmp(as, "assistant"))
        return serve_msg_append_text(m, "", 0, p2, why); /* an assistant turn that only called tools */
    if (!json_is_array(content))
        return serve_refuse(why, 400, p2, "%s must be a string or an array of parts, not %s", p2,
                            content ? serve_json_kind(content) : "missing");
    size_t i;
    json_t *part;
    json_array_foreach(content, i, part) {
        char p3[128];
        snprintf(p3, sizeof p3, "%s[%zu]", p2, i);
        st = parse_part(srv, q, m, part, p3, why);
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
    json_t *msgs = json_object_get(body, "messages");
    if (!json_is_array(msgs))
        return serve_refuse(why, 400, "messages", "messages must be an array of messages, not %s",
                            msgs ? serve_json_kind(msgs) : "missing");
    size_t i;
    json_t *msg;
    json_array_foreach(msgs, i, msg) {
        if ((st = parse_message(srv, q, msg, i, why)))
            return st;
    }
    double d;
    int64_t n;
    bool b;
    vkmm_sampling *sp = &q->sampling;
    if ((st = serve_get_max_tokens(body, "max_tokens", q, why)) ||
        (st = serve_get_max_tokens(body, "max_completion_tokens", q, why)))
        return st;
    d = sp->temperature;
    if ((st = serve_get_number(body, "temperature", 0, 2, &d, why)))
        return st;
    sp->temperature = (float)d;
    d = sp->top_p;
    if ((st = serve_get_number(body, "top_p", 0, 1, &d, why)))
        return st;
    sp->top_p = d > 0 ? (float)d : FLT_MIN; /* 0 means "only the most likely token"; the engine wants > 0 */
    n = sp->top_k;
    if ((st = serve_get_int(body, "top_k", 0, 1 << 20, &n, why)))
        return st;
    sp->top_k = (int32_t)n;
    d = sp->min_p;
    if ((st = serve_get_number(body, "min_p", 0, 0.999999, &d, why)))
        return st;
    sp->min_p = (float)d;
    d = sp->repeat_penalty;
    if ((st = serve_get_number(body, "repeat_penalty", 0.01, 100, &d, why)) ||
        (st = serve_get_number(body, "repetition_penalty", 0.01, 100, &d, why)))
        return st;
    sp->repeat_penalty = (float)d;
    n = 0;
    bool seeded = json_object_get(body, "seed") && !json_is_null(json_object_get(body, "seed"));
    if ((st = serve_get_int(body, "seed", INT64_MIN, INT64_MAX, &n, why)))
        return st;
    if (seeded)
        sp->seed = (uint64_t)n;
    /* accepted for compatibility, not applied: vkmm has one repeat penalty, not OpenAI's two */
    if ((st = serve_get_number(body, "frequency_penalty", -2, 2, &d, why)) ||
        (st = serve_get_number(body, "presence_penalty", -2, 2, &d, why)))
        return st;
    if ((st = serve_get_stops(body, "stop", q, why)) || (st = serve_get_bool(body, "ignore_eos", &sp->ignore_eog, why)))
        return st;
    n = 1;
    if ((st = serve_get_int(body, "n", INT64_MIN, INT64_MAX, &n, why)))
        return st;
    if (n != 1)
        return serve_refuse(why, 400, "n", "n is %lld; this server makes one choice per request (n = 1)", (long long)n);
    if ((st = serve_get_bool(body, "logprobs", &q->logprobs, why)))
        return st;
    n = 0;
    if ((st = serve_get_int(body, "top_logprobs", 0, 20, &n, why)))
        return st;
    if (n > VKMM_TOP_LOGPROBS)
        return serve_refuse(why, 400, "top_logprobs", "top_logprobs is %lld; this server gives at most %d",
                            (long long)n, VKMM_TOP_LOGPROBS);
    if (n && !q->logprobs)
        return serve_refuse(why, 400, "top_logprobs", "top_logprobs needs logprobs: true");
    q->top_logprobs = (uint32_t)n;
    if ((st = serve_get_bool(body, "stream", &q->stream, why)))
        return st;
    json_t *so = json_object_get(body, "stream_options");
    if (so && !json_is_null(so)) {
        if (!json_is_object(so))
            return serve_refuse(why, 400, "stream_options", "stream_options must be an object, not %s",
                                serve_json_kind(so));
        b = false;
        if ((st = serve_get_bool(so, "include_usage", &b, why)))
            return serve_refuse(why, 400, "stream_options.include_usage", "stream_options.include_usage must be "
                                "true or false");
        q->include_usage = b;
    }
    json_t *rf = json_object_get(body, "response_format");
    if (rf && !json_is_null(rf)) {
        json_t *t = json_is_object(rf) ? json_object_get(rf, "type") : NULL;
        if (!json_is_string(t))
            return serve_refuse(why, 400, "response_format", "response_format must be an object with a type");
        if (strcmp(json_string_value(t), "text"))
            return serve_refuse(why, 400, "response_format", "response_format '%.40s' is not supported (only text)",
                                json_string_value(t));
    }
    if (json_object_size(json_object_get(body, "logit_bias")))
        return serve_refuse(why, 400, "logit_bias", "logit_bias is not supported by this server");
    json_t *modalities = json_object_get(body, "modalities");
    json_t *mod;
    json_array_foreach(modalities, i, mod) {
        if (!json_is_string(mod) || strcmp(json_string_value(mod), "text"))
            return serve_refuse(why, 400, "modalities", "this server answers with text only (modalities: [\"text\"])");
    }
    json_t *tools = json_object_get(body, "tools");
    if (json_array_size(tools) || json_array_size(json_object_get(body, "functions")))
        return serve_refuse(why, 400, "tools", "tools (function calling) are not supported by this server");
    return serve_request_finish(srv, q, why);
}

/* ---- answers ---- */

static const char *finish_reason(const serve_job *j)
{
    return serve_job_finish(j) == VKMM_FINISH_LENGTH ? "length" : "stop";
}

static json_t *token_json(const serve_server *srv, int32_t id, float logprob)
{
    char buf[256];
    size_t len = 0;
    vkmm_error err;
    if (vkmm_model_token_bytes(srv->model, id, buf, sizeof buf, &len, &err))
        len = 0;
    if (len > sizeof buf)
        len = sizeof buf;
    json_t *bytes = json_array();
    for (size_t i = 0; i < len; i++)
        json_array_append_new(bytes, json_integer((unsigned char)buf[i]));
    return json_pack("{s:o, s:f, s:o}", "token", serve_json_text(buf, len), "logprob", (double)logprob, "bytes",
                     bytes);
}

/* logprobs.content entries for tokens [0, n), the end-of-turn token left out (it is not part of the text) */
static json_t *logprobs_json(const serve_render *r, const serve_token *t, uint32_t n)
{
    json_t *content = json_array();
    for (uint32_t i = 0; i < n; i++) {
        if (t[i].id < 0 || t[i].eog)
            continue;
        json_t *e = token_json(r->srv, t[i].id, t[i].logprob);
        json_t *top = json_array();
        for (uint32_t k = 0; k < t[i].n_top && k < r->req->top_logprobs; k++)
            json_array_append_new(top, token_json(r->srv, t[i].top[k].id, t[i].top[k].logprob));
        json_object_set_new(e, "top_logprobs", top);
        json_array_append_new(content, e);
    }
    return json_pack("{s:o, s:n}", "content", content, "refusal");
}

static json_t *usage_json(const serve_job *j)
{
    return json_pack("{s:I, s:I, s:I}", "prompt_tokens", (json_int_t)j->n_prompt, "completion_tokens",
                     (json_int_t)j->n_gen, "total_tokens", (json_int_t)(j->n_prompt + j->n_gen));
}

static json_t *result(serve_render *r, const serve_job *j)
{
    char *text = serve_job_text(j);
    json_t *message = json_pack("{s:s, s:o, s:n}", "role", "assistant", "content",
                                serve_json_text(text ? text : "", text ? strlen(text) : 0), "refusal");
    free(text);
    json_t *choice = json_pack("{s:i, s:o, s:o, s:s}", "index", 0, "message", message, "logprobs",
                               r->req->logprobs ? logprobs_json(r, j->toks, j->n_toks) : json_null(),
                               "finish_reason", finish_reason(j));
    return json_pack("{s:s, s:s, s:I, s:s, s:n, s:[o], s:o}", "id", r->id, "object", "chat.completion", "created",
                     (json_int_t)r->created, "model", r->req->model, "system_fingerprint", "choices", choice, "usage",
                     usage_json(j));
}

/* A chunk with the same id, created and model as every other; usage: null only when the client asked for a
 * usage chunk (some readers index choices[0] of anything with a usage field). */
static json_t *chunk(const serve_render *r, json_t *choices)
{
    json_t *c = json_pack("{s:s, s:s, s:I, s:s, s:n, s:o}", "id", r->id, "object", "chat.completion.chunk", "created",
                          (json_int_t)r->created, "model", r->req->model, "system_fingerprint", "choices", choices);
    if (r->req->include_usage)
        json_object_set_new(c, "usage", json_null());
    return c;
}

static json_t *choice(json_t *delta, json_t *logprobs, const char *finish)
{
    return json_pack("{s:i, s:o, s:o, s:o}", "index", 0, "delta", delta, "logprobs", logprobs ? logprobs : json_null(),
                     "finish_reason", finish ? json_string(finish) : json_null());
}

static void stream_begin(serve_render *r, serve_sse *out, const serve_job *j)
{
    (void)j;
    json_t *delta = json_pack("{s:s, s:s}", "role", "assistant", "content", "");
    serve_sse_event(out, NULL, chunk(r, json_pack("[o]", choice(delta, NULL, NULL))));
}

static void stream_tokens(serve_render *r, serve_sse *out, const serve_token *t, uint32_t n)
{
    bool scored = false;
    for (uint32_t i = 0; i < n; i++)
        scored |= t[i].id >= 0 && !t[i].eog;
    size_t len;
    char *text = serve_tokens_text(t, n, &len);
    if (!text) {
        out->failed = true;
        return;
    }
    if (len || (r->req->logprobs && scored)) {
        json_t *delta = json_pack("{s:o}", "content", serve_json_text(text, len));
        json_t *lp = r->req->logprobs ? logprobs_json(r, t, n) : NULL;
        serve_sse_event(out, NULL, chunk(r, json_pack("[o]", choice(delta, lp, NULL))));
    }
    free(text);
}

static void stream_end(serve_render *r, serve_sse *out, const serve_job *j)
{
    serve_sse_event(out, NULL, chunk(r, json_pack("[o]", choice(json_object(), NULL, finish_reason(j)))));
    if (r->req->include_usage) {
        json_t *c = chunk(r, json_array());
        json_object_set_new(c, "usage", usage_json(j));
        serve_sse_event(out, NULL, c);
    }
    serve_sse_raw(out, "[DONE]");
}

static const char *error_type(int status)
{
    switch (status) {
    case 401: return "authentication_error";
    case 403: return "permission_error";
    case 404: return "not_found_error";
    case 429: return "rate_limit_error";
    case 503: return "service_unavailable";
    default: return status >= 500 ? "server_error" : "invalid_request_error";
    }
}

static json_t *error(int status, const char *msg, const char *param, const char *code)
{
    json_t *e = json_pack("{s:o, s:s}", "message", serve_json_text(msg, strlen(msg)), "type", error_type(status));
    json_object_set_new(e, "param", param && *param ? json_string(param) : json_null());
    json_object_set_new(e, "code", code && *code ? json_string(code) : json_null());
    return json_pack("{s:o}", "error", e);
}

static void stream_error(serve_render *r, serve_sse *out, int status, const char *msg)
{
    (void)r;
    serve_sse_event(out, NULL, error(status, msg, NULL, NULL));
}

const serve_api serve_api_openai = {
    .name = "openai",
    .endpoint = SERVE_EP_CHAT,
    .parse = parse,
    .error = error,
    .result = result,
    .stream_begin = stream_begin,
    .stream_tokens = stream_tokens,
    .stream_end = stream_end,
    .stream_error = stream_error,
};
