/* tools/serve/auth.c — the API key check. The comparison takes the same time wherever the first differing byte
 * is, so response times tell an attacker nothing about how much of a guess was right. */
#include <string.h>
#include <strings.h>

#include "http.h"

/* Constant-time equality of given against key: every byte of given is looked at, whatever matches. */
static bool same(const char *key, const char *given)
{
    size_t klen = strlen(key), glen = strlen(given);
    volatile unsigned char diff = (unsigned char)(klen != glen);
    for (size_t i = 0; i < glen; i++)
        diff |= (unsigned char)(given[i] ^ key[klen ? i % klen : 0]);
    return klen && diff == 0;
}

bool serve_auth_ok(const char *key, const char *authorization, const char *x_api_key)
{
    if (!key)
        return true;
    bool ok = false;
    if (authorization) {
        const char *p = authorization;
        while (*p == ' ')
            p++;
        if (!strncasecmp(p, "Bearer ", 7)) {
            p += 7;
            while (*p == ' ')
                p++;
            ok |= same(key, p);
        }
    }
    if (x_api_key)
        ok |= same(key, x_api_key);
    return ok;
}
