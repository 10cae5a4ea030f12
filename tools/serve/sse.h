/* tools/serve/sse.h — server-sent events: whole events (optional `event:` line, one compact JSON `data:` line,
 * blank line) appended to a buffer that the stream response hands to the socket. */
#ifndef VKMM_TOOLS_SERVE_SSE_H
#define VKMM_TOOLS_SERVE_SSE_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

typedef struct serve_sse {
    char *s;
    size_t len, cap;
    bool failed;                 /* out of memory: the stream ends with an error */
} serve_sse;

/* Appends "event: NAME\n" (when name is not NULL) and "data: JSON\n\n"; takes data's reference. */
void serve_sse_event(serve_sse *b, const char *name, json_t *data);
/* Appends "data: TEXT\n\n" (OpenAI's closing [DONE]). */
void serve_sse_raw(serve_sse *b, const char *text);
void serve_sse_free(serve_sse *b);

/* Compact JSON as the APIs send it: no spaces, UTF-8 as is, floats with the 9 digits that make a float exact.
 * malloc'ed, or NULL when out of memory. */
char *serve_json_dump(const json_t *v);

#endif
