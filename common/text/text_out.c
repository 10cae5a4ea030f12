/* common/text_out.c — turning bytes from untrusted files into safe output: valid UTF-8 without NULs (and, for a
 * terminal, without control characters), cut to a length; JSON strings; floats in their shortest exact decimal
 * form; byte counts. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "text_out.h"

/* Length of the valid UTF-8 sequence at p (n bytes available), or 0 if it is not one. */
static size_t utf8_seq(const unsigned char *p, size_t n)
{
    unsigned c = p[0], lo = 0x80, hi = 0xbf;
    size_t k;
    if (c < 0x80)
        return 1;
    if (c >= 0xc2 && c <= 0xdf)
        k = 2;
    else if (c >= 0xe0 && c <= 0xef) {
        k = 3;
        lo = c == 0xe0 ? 0xa0 : lo; /* no overlong forms */
        hi = c == 0xed ? 0x9f : hi; /* no surrogates */
    } else if (c >= 0xf0 && c <= 0xf4) {
        k = 4;
        lo = c == 0xf0 ? 0x90 : lo;
        hi = c == 0xf4 ? 0x8f : hi; /* nothing past U+10FFFF */
    } else
        return 0;
    if (n < k || p[1] < lo || p[1] > hi)
        return 0;
    for (size_t i = 2; i < k; i++)
        if ((p[i] & 0xc0) != 0x80)
            return 0;
    return k;
}

char *vkmm_clean_text(const char *s, uint64_t len, size_t max, bool escape)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t take = len < max ? (size_t)len : max;
    char *out = malloc(take * 4 + 4), *o = out; /* "\xNN" is the longest replacement of one byte */
    if (!out)
        return NULL;
    size_t i = 0;
    while (i < take) {
        size_t k = utf8_seq(p + i, (size_t)(len - i));
        if (k == 0 || p[i] == 0) {
            memcpy(o, "\xef\xbf\xbd", 3); /* U+FFFD */
            o += 3;
            i++;
        } else if (escape && (p[i] < 0x20 || p[i] == 0x7f)) {
            static const char hex[] = "0123456789abcdef";
            *o++ = '\\';
            if (p[i] == '\n')
                *o++ = 'n';
            else if (p[i] == '\t')
                *o++ = 't';
            else if (p[i] == '\r')
                *o++ = 'r';
            else {
                *o++ = 'x';
                *o++ = hex[p[i] >> 4];
                *o++ = hex[p[i] & 15];
            }
            i++;
        } else {
            memcpy(o, p + i, k);
            o += k;
            i += k;
        }
    }
    if (i < len) {
        memcpy(o, "...", 3);
        o += 3;
    }
    *o = 0;
    return out;
}

void vkmm_format_float(char *buf, size_t size, double v, bool f32)
{
    if (isnan(v)) {
        snprintf(buf, size, "nan");
        return;
    }
    if (isinf(v)) {
        snprintf(buf, size, v < 0 ? "-inf" : "inf");
        return;
    }
    /* the fewest digits that read back as the same value */
    for (int prec = f32 ? 6 : 15; prec <= 17; prec++) {
        snprintf(buf, size, "%.*g", prec, v);
        double back = strtod(buf, NULL);
        if (f32 ? (float)back == (float)v : back == v)
            return;
    }
}

void vkmm_format_bytes(char *buf, size_t size, uint64_t bytes)
{
    static const char *units[] = {"bytes", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
    double v = (double)bytes;
    int u = 0;
    while (v >= 1024 && u < 6) {
        v /= 1024;
        u++;
    }
    if (u == 0)
        snprintf(buf, size, "%llu bytes", (unsigned long long)bytes);
    else
        snprintf(buf, size, "%.2f %s", v, units[u]);
}

void vkmm_json_write_string(FILE *f, const char *s)
{
    fputc('"', f);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        switch (*p) {
        case '"': fputs("\\\"", f); break;
        case '\\': fputs("\\\\", f); break;
        case '\n': fputs("\\n", f); break;
        case '\r': fputs("\\r", f); break;
        case '\t': fputs("\\t", f); break;
        default:
            if (*p < 0x20)
                fprintf(f, "\\u%04x", *p);
            else
                fputc(*p, f);
        }
    }
    fputc('"', f);
}
