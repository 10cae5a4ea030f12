/* tools/serve/route.c — which handler a path goes to. Clients get base URLs subtly wrong (a trailing slash, the
 * /v1 twice or not at all), so paths are normalised first: repeated slashes collapse, a trailing slash goes,
 * and /v1 prefixes are optional for the API routes. */
#include <string.h>

#include "http.h"

static void normalise(const char *url, char *out, size_t size)
{
    size_t n = 0;
    for (const char *p = url; *p && *p != '?' && n + 1 < size; p++) {
        if (*p == '/' && n && out[n - 1] == '/')
            continue;
        out[n++] = *p;
    }
    if (n == 0 || out[0] != '/') {
        memmove(out + 1, out, n < size - 1 ? n : size - 2);
        out[0] = '/';
        n = n < size - 1 ? n + 1 : size - 1;
    }
    while (n > 1 && out[n - 1] == '/')
        n--;
    out[n] = 0;
}

serve_route serve_route_find(const char *url, char *path, size_t size, const char **model_id)
{
    normalise(url ? url : "/", path, size);
    *model_id = NULL;
    if (!strcmp(path, "/") || !strcmp(path, "/index.html"))
        return SERVE_ROUTE_PAGE;
    if (!strcmp(path, "/metrics"))
        return SERVE_ROUTE_METRICS;
    const char *p = path;
    while (!strncmp(p, "/v1/", 4) || !strcmp(p, "/v1"))
        p += 3;
    if (!*p)
        return SERVE_ROUTE_NONE;
    if (!strcmp(p, "/health"))
        return SERVE_ROUTE_HEALTH;
    if (!strcmp(p, "/chat/completions"))
        return SERVE_ROUTE_CHAT;
    if (!strcmp(p, "/messages"))
        return SERVE_ROUTE_MESSAGES;
    if (!strcmp(p, "/models"))
        return SERVE_ROUTE_MODELS;
    if (!strncmp(p, "/models/", 8)) {
        *model_id = p + 8;
        return SERVE_ROUTE_MODEL;
    }
    return SERVE_ROUTE_NONE;
}

const char *serve_route_methods(serve_route r)
{
    switch (r) {
    case SERVE_ROUTE_CHAT:
    case SERVE_ROUTE_MESSAGES: return "POST, OPTIONS";
    case SERVE_ROUTE_NONE: return "";
    default: return "GET, HEAD, OPTIONS";
    }
}

serve_endpoint serve_route_endpoint(serve_route r)
{
    switch (r) {
    case SERVE_ROUTE_CHAT: return SERVE_EP_CHAT;
    case SERVE_ROUTE_MESSAGES: return SERVE_EP_MESSAGES;
    case SERVE_ROUTE_MODELS:
    case SERVE_ROUTE_MODEL: return SERVE_EP_MODELS;
    case SERVE_ROUTE_HEALTH: return SERVE_EP_HEALTH;
    case SERVE_ROUTE_METRICS: return SERVE_EP_METRICS;
    case SERVE_ROUTE_PAGE: return SERVE_EP_PAGE;
    default: return SERVE_EP_OTHER;
    }
}
