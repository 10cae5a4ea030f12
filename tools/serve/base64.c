/* tools/serve/base64.c — base64 to bytes for images sent inline (RFC 4648, the standard and the URL-safe
 * alphabet). Line breaks and spaces are skipped, since some clients wrap the text; anything else that is not
 * base64 is refused with its offset. */
#include <stdio.h>
#include <stdlib.h>

#include "base64.h"

static int value(unsigned char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '+' || c == '-')
        return 62;
    if (c == '/' || c == '_')
        return 63;
    return -1;
}

int serve_base64_decode(const char *s, size_t n, uint8_t **out, size_t *out_len, char *why, size_t why_size)
{
    uint8_t *buf = malloc(n / 4 * 3 + 3);
    if (!buf) {
        snprintf(why, why_size, "out of memory for %zu bytes of base64", n);
        return -1;
    }
    uint32_t acc = 0;
    size_t len = 0, digits = 0, pad = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == ' ' || c == '\n' || c == '\r' || c == '\t')
            continue;
        if (c == '=') {
            pad++;
            continue;
        }
        int v = value(c);
        if (v < 0 || pad) {
            if (c >= 0x20 && c < 0x7f)
                snprintf(why, why_size, "not base64: '%c' at offset %zu", c, i);
            else
                snprintf(why, why_size, "not base64: byte 0x%02x at offset %zu", c, i);
            if (pad && v >= 0)
                snprintf(why, why_size, "not base64: data after '=' padding at offset %zu", i);
            free(buf);
            return -1;
        }
        acc = acc << 6 | (uint32_t)v;
        if (++digits % 4 == 0) {
            buf[len++] = (uint8_t)(acc >> 16);
            buf[len++] = (uint8_t)(acc >> 8);
            buf[len++] = (uint8_t)acc;
            acc = 0;
        }
    }
    size_t rest = digits % 4;
    if (rest == 1 || pad > 2 || (pad && (rest + pad) % 4)) {
        snprintf(why, why_size, "not base64: %zu digits and %zu '=' do not make whole bytes", digits, pad);
        free(buf);
        return -1;
    }
    if (rest == 2)
        buf[len++] = (uint8_t)(acc >> 4);
    else if (rest == 3) {
        buf[len++] = (uint8_t)(acc >> 10);
        buf[len++] = (uint8_t)(acc >> 2);
    }
    *out = buf;
    *out_len = len;
    return 0;
}
