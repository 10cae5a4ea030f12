/* loader/detokenize.c — token bytes (U+2581 back to space, <0xNN> to its byte, the byte-level alphabet back
 * to bytes) and the streaming decoder that only ever emits whole UTF-8 characters. */
#include "detokenize.h"

#include <stdlib.h>
#include <string.h>

#include "tokenizer_internal.h"
#include "unicode.h"

vkmm_status vkmm_text_append(vkmm_text *t, const char *s, size_t n)
{
    if (t->len + n + 1 > t->cap) {
        size_t cap = t->cap ? t->cap : 64;
        while (cap < t->len + n + 1)
            cap *= 2;
        char *ns = realloc(t->s, cap);
        if (!ns)
            return VKMM_ERR_HOST_MEMORY;
        t->s = ns;
        t->cap = cap;
    }
    if (n)
        memcpy(t->s + t->len, s, n);
    t->len += n;
    t->s[t->len] = 0;
    return VKMM_OK;
}

void vkmm_text_free(vkmm_text *t)
{
    free(t->s);
    memset(t, 0, sizeof *t);
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

vkmm_status vkmm_token_bytes(const vkmm_tokenizer *tok, int32_t id, bool render_special, vkmm_text *out,
                             vkmm_error *err)
{
    const vkmm_vocab *v = tok->vocab;
    if (id < 0 || (uint32_t)id >= v->n_tokens)
        return vkmm_fail(err, VKMM_ERR_INVALID_ARG, "detokenize: token id %d outside the vocabulary of %u", id,
                         v->n_tokens);
    const vkmm_vocab_str *t = &v->tokens[id];
    int32_t type = vkmm_vocab_type(v, id);
    vkmm_status s = VKMM_OK;
    if (type == VKMM_TOKEN_CONTROL || type == VKMM_TOKEN_UNKNOWN) {
        if (render_special)
            s = vkmm_text_append(out, t->s, t->len);
    } else if (type == VKMM_TOKEN_BYTE && t->len == 6 && !memcmp(t->s, "<0x", 3) && t->s[5] == '>' &&
               hexval(t->s[3]) >= 0 && hexval(t->s[4]) >= 0) {
        char b = (char)(hexval(t->s[3]) << 4 | hexval(t->s[4]));
        s = vkmm_text_append(out, &b, 1);
    } else if (tok->kind == VKMM_TOKENIZER_SPM || tok->kind == VKMM_TOKENIZER_BPE_CHARS) {
        /* U+2581 stands for a space */
        size_t i = 0, from = 0;
        while (!s && i < t->len) {
            if (i + 3 <= t->len && !memcmp(t->s + i, "\xE2\x96\x81", 3)) {
                if (!(s = vkmm_text_append(out, t->s + from, i - from)))
                    s = vkmm_text_append(out, " ", 1);
                i += 3;
                from = i;
            } else {
                i++;
            }
        }
        if (!s)
            s = vkmm_text_append(out, t->s + from, t->len - from);
    } else if (type == VKMM_TOKEN_USER_DEFINED) {
        s = vkmm_text_append(out, t->s, t->len); /* added tokens are stored as plain text */
    } else {
        /* byte-level: each alphabet character is one byte; anything else passes through as UTF-8 */
        const unsigned char *p = (const unsigned char *)t->s;
        for (size_t i = 0; !s && i < t->len;) {
            size_t l;
            uint32_t cp = vkmm_utf8_decode(p + i, t->len - i, &l);
            if (cp != VKMM_UTF8_INVALID && cp < 0x144 && tok->from_alpha[cp] >= 0) {
                char b = (char)tok->from_alpha[cp];
                s = vkmm_text_append(out, &b, 1);
            } else {
                s = vkmm_text_append(out, t->s + i, l);
            }
            i += l;
        }
    }
    if (s)
        return vkmm_fail(err, VKMM_ERR_HOST_MEMORY, "detokenize: out of memory");
    return VKMM_OK;
}

void vkmm_detok_init(vkmm_detok *d, const vkmm_tokenizer *tok, unsigned flags)
{
    memset(d, 0, sizeof *d);
    d->tok = tok;
    d->flags = flags;
}

static vkmm_status emit(vkmm_detok *d, const char *s, size_t n, vkmm_text *out)
{
    if (!n)
        return VKMM_OK;
    if (!d->started) {
        d->started = true;
        if ((d->flags & VKMM_DETOK_STRIP_SPACE) && s[0] == ' ') {
            s++;
            n--;
        }
    }
    return vkmm_text_append(out, s, n);
}

/* Emits the whole characters of buf[0..n), replacing ill-formed parts, and keeps an unfinished tail. */
static vkmm_status drain(vkmm_detok *d, const unsigned char *buf, size_t n, vkmm_text *out)
{
    static const char fffd[3] = {'\xEF', '\xBF', '\xBD'};
    size_t i = 0;
    d->n_pending = 0;
    while (i < n) {
        size_t pend;
        size_t ok = vkmm_utf8_valid_prefix(buf + i, n - i, &pend);
        if (ok && emit(d, (const char *)buf + i, ok, out))
            return VKMM_ERR_HOST_MEMORY;
        i += ok;
        if (i == n)
            break;
        if (pend && i + pend == n) {
            memcpy(d->pending, buf + i, pend);
            d->n_pending = pend;
            break;
        }
        if (emit(d, fffd, 3, out))
            return VKMM_ERR_HOST_MEMORY;
        i += vkmm_utf8_invalid_len(buf + i, n - i);
    }
    return VKMM_OK;
}

vkmm_status vkmm_detok_push(vkmm_detok *d, int32_t id, vkmm_text *out, vkmm_error *err)
{
    vkmm_text piece = {0};
    vkmm_status s = vkmm_text_append(&piece, (const char *)d->pending, d->n_pending);
    if (!s)
        s = vkmm_token_bytes(d->tok, id, d->flags & VKMM_DETOK_RENDER_SPECIAL, &piece, err);
    else
        s = vkmm_fail(err, VKMM_ERR_HOST_MEMORY, "detokenize: out of memory");
    if (!s && drain(d, (const unsigned char *)piece.s, piece.len, out))
        s = vkmm_fail(err, VKMM_ERR_HOST_MEMORY, "detokenize: out of memory");
    vkmm_text_free(&piece);
    return s;
}

vkmm_status vkmm_detok_flush(vkmm_detok *d, vkmm_text *out, vkmm_error *err)
{
    if (d->n_pending) {
        d->n_pending = 0;
        if (emit(d, "\xEF\xBF\xBD", 3, out))
            return vkmm_fail(err, VKMM_ERR_HOST_MEMORY, "detokenize: out of memory");
    }
    return VKMM_OK;
}

vkmm_status vkmm_detokenize(const vkmm_tokenizer *tok, const int32_t *ids, size_t n, unsigned flags,
                            vkmm_text *out, vkmm_error *err)
{
    vkmm_detok d;
    vkmm_detok_init(&d, tok, flags);
    for (size_t i = 0; i < n; i++) {
        vkmm_status s = vkmm_detok_push(&d, ids[i], out, err);
        if (s)
            return s;
    }
    return vkmm_detok_flush(&d, out, err);
}
