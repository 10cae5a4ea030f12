/* tools/serve/api.h — what each HTTP API (OpenAI Chat Completions, Anthropic Messages) supplies to the common
 * generation endpoint: reading its request, and writing its answers, stream events and errors in its own shape. */
#ifndef VKMM_TOOLS_SERVE_API_H
#define VKMM_TOOLS_SERVE_API_H

#include <jansson.h>

#include "sched.h"
#include "sse.h"

/* Per-response state an API keeps while it writes one answer. */
typedef struct serve_render {
    const serve_server *srv;
    const serve_request *req;
    char id[64];                 /* the same in every chunk of a stream */
    long long created;           /* Unix seconds */
    uint32_t sent;               /* tokens already written */
} serve_render;

typedef struct serve_api {
    const char *name;
    serve_endpoint endpoint;
    /* JSON body to request; 0, or an HTTP status with why filled. */
    int (*parse)(const serve_server *srv, json_t *body, serve_request *q, serve_reject *why);
    /* The error object for a status and message (param and code may be NULL or ""). */
    json_t *(*error)(int status, const char *msg, const char *param, const char *code);
    /* The whole answer of a finished job. */
    json_t *(*result)(serve_render *r, const serve_job *j);
    /* Stream events: after the prompt is in, for new tokens, at the end, and for a failure after the start. */
    void (*stream_begin)(serve_render *r, serve_sse *out, const serve_job *j);
    void (*stream_tokens)(serve_render *r, serve_sse *out, const serve_token *t, uint32_t n);
    void (*stream_end)(serve_render *r, serve_sse *out, const serve_job *j);
    void (*stream_error)(serve_render *r, serve_sse *out, int status, const char *msg);
} serve_api;

extern const serve_api serve_api_openai;
extern const serve_api serve_api_anthropic;

/* ---- shared by the APIs (json_out.c) ---- */

/* A JSON string of s made valid UTF-8 (bad bytes become U+FFFD): engine messages and token bytes can hold any. */
json_t *serve_json_text(const char *s, size_t len);
/* The pieces of tokens t[0, n) joined (malloc'ed; *len, when asked, gets its length), and of a whole job. */
char *serve_tokens_text(const serve_token *t, uint32_t n, size_t *len);
char *serve_job_text(const serve_job *j);
/* Which stop string ended the answer (the first one in the text the model generated), or NULL. */
const char *serve_matched_stop(const serve_server *srv, const serve_job *j);
/* "finish" as the APIs see it: a request cut by --timeout ends as if by its length. */
vkmm_finish serve_job_finish(const serve_job *j);

#endif
