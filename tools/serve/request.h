/* tools/serve/request.h — a generation request as the server runs it, whichever API it came in by: the
 * conversation (images already decoded from base64 and checked by their headers), sampling, limits, what to
 * report; and the helpers both API parsers use to fill it from JSON, refusing bad input with a clear message. */
#ifndef VKMM_TOOLS_SERVE_REQUEST_H
#define VKMM_TOOLS_SERVE_REQUEST_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "serve.h"

typedef struct serve_msg {
    const char *role;            /* "system", "user", "assistant" (static) */
    char *text;                  /* text parts joined; <__media__> markers place images, else they come first */
    vkmm_image_input *images;    /* encoded bytes (owned: data points into a malloc'ed buffer) */
    uint32_t n_images;
} serve_msg;

typedef struct serve_request {
    serve_msg *msgs;
    uint32_t n_msgs, cap_msgs;
    uint32_t n_images;           /* in all messages */
    vkmm_sampling sampling;
    char *stop[VKMM_MAX_STOP];
    uint32_t n_stop;
    uint32_t max_tokens;
    bool stream;
    bool include_usage;          /* OpenAI stream_options.include_usage */
    bool logprobs;               /* OpenAI: per-token log-probabilities */
    uint32_t top_logprobs;       /* 0..VKMM_TOP_LOGPROBS */
    char model[128];             /* the name the client asked for, echoed back */
} serve_request;

/* Why a request is refused: the HTTP status, a message for people, the field it is about (JSON path), and
 * OpenAI's error code where there is one. */
typedef struct serve_reject {
    int status;
    char msg[768];
    char param[160];
    const char *code;
} serve_reject;

/* Fills r and returns its status (so parsers can `return serve_refuse(...)`). */
int serve_refuse(serve_reject *r, int status, const char *param, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

void serve_request_init(serve_request *q, const serve_server *srv);
void serve_request_free(serve_request *q);

/* Appends an empty message of role; NULL when out of memory. */
serve_msg *serve_request_add_msg(serve_request *q, const char *role);
/* The string "type" of a content part or block, or NULL with why filled (types lists them, for the message). */
const char *serve_part_type(json_t *part, const char *param, const char *types, serve_reject *why);
/* Appends part.text (which must be a string) to the message. */
int serve_msg_add_text_part(serve_msg *m, json_t *part, const char *param, serve_reject *why);
/* Appends text to a message's text (a newline between parts). 0, or 413/400 after filling why. */
int serve_msg_append_text(serve_msg *m, const char *text, size_t len, const char *param, serve_reject *why);
/* Adds an image to a (user) message from base64 text (data: URI payloads and Anthropic's bare data alike) or,
 * where allowed, a local path; checks count, format and pixels against the limits. 0 or an HTTP status. */
int serve_msg_add_base64_image(const serve_server *srv, serve_request *q, serve_msg *m, const char *b64, size_t len,
                               const char *param, serve_reject *why);
int serve_msg_add_file_image(const serve_server *srv, serve_request *q, serve_msg *m, const char *path,
                             const char *param, serve_reject *why);
/* An OpenAI image_url url: data: URI, file:// or a path (with --allow-local-files); http(s) is refused. */
int serve_msg_add_image_url(const serve_server *srv, serve_request *q, serve_msg *m, const char *url, size_t len,
                            const char *param, serve_reject *why);

/* Typed reads of optional fields: absent or null leave *out alone and return 0; a wrong type or a value out of
 * [lo, hi] is a 400 naming the field. */
int serve_get_number(json_t *obj, const char *key, double lo, double hi, double *out, serve_reject *why);
int serve_get_int(json_t *obj, const char *key, int64_t lo, int64_t hi, int64_t *out, serve_reject *why);
int serve_get_bool(json_t *obj, const char *key, bool *out, serve_reject *why);
/* A string field (must be valid UTF-8 without NUL: jansson guarantees the first). */
int serve_get_string(json_t *obj, const char *key, const char **out, serve_reject *why);
/* Stop strings: a string or an array of strings (at most VKMM_MAX_STOP). */
int serve_get_stops(json_t *obj, const char *key, serve_request *q, serve_reject *why);
/* The model name a client asked for (any string; echoed back). */
int serve_get_model(json_t *obj, serve_request *q, const serve_server *srv, serve_reject *why);
/* max_tokens-like field: an integer from 1 to VKMM_SERVE_MAX_TOKENS; larger than the context is allowed (the
 * answer then ends with finish "length" when the context is full). */
int serve_get_max_tokens(json_t *obj, const char *key, serve_request *q, serve_reject *why);
#define VKMM_SERVE_MAX_TOKENS (1u << 20)

/* After parsing: the manifest's system prompt when the request has none, the conversation must end with a
 * user turn, and its text must fit the context. 0 or an HTTP status. */
int serve_request_finish(const serve_server *srv, serve_request *q, serve_reject *why);

/* Refuses a field of obj that is not in known (NULL-terminated), as the real APIs do; api names the API for the
 * message, where the object ("messages[2]", or NULL for the body). */
int serve_check_fields(json_t *obj, const char *const *known, const char *api, const char *where, serve_reject *why);

/* What every request starts with: a JSON object, only the API's fields, the model's name. */
int serve_parse_head(const serve_server *srv, json_t *body, const char *const *fields, const char *api,
                     serve_request *q, serve_reject *why);

/* JSON type names for messages ("a string", "an array", ...). */
const char *serve_json_kind(const json_t *v);

#endif
