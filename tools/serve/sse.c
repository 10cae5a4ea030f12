/* tools/serve/sse.c — building server-sent events and the compact JSON in them. Events are written whole into
 * a buffer, so a reader never sees half an event in one write. */
#include <stdlib.h>
#include <string.h>

#include "sse.h"

char *serve_json_dump(const json_t *v)
{
    return json_dumps(v, JSON_COMPACT | JSON_REAL_PRECISION(9) | JSON_ENCODE_ANY);
}

static void append(serve_sse *b, const char *s, size_t n)
{
    if (b->failed)
        return;
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 1024;
        while (cap < b->len + n + 1)
            cap *= 2;
        char *p = realloc(b->s, cap);
        if (!p) {
            b->failed = true;
            return;
        }
        b->s = p;
        b->cap = cap;
    }
    memcpy(b->s + b->len, s, n);
    b->len += n;
    b->s[b->len] = 0;
}

void serve_sse_event(serve_sse *b, const char *name, json_t *data)
{
    char *text = data ? serve_json_dump(data) : NULL;
    json_decref(data);
    if (!text) {
        b->failed = true;
        return;
    }
    if (name) {
        append(b, "event: ", 7);
        append(b, name, strlen(name));
        append(b, "\n", 1);
    }
    append(b, "data: ", 6);
    append(b, text, strlen(text));
    append(b, "\n\n", 2);
    free(text);
}

void serve_sse_raw(serve_sse *b, const char *text)
{
    append(b, "data: ", 6);
    append(b, text, strlen(text));
    append(b, "\n\n", 2);
}

void serve_sse_free(serve_sse *b)
{
    free(b->s);
    memset(b, 0, sizeof *b);
}
