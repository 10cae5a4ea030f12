/* loader/pretokenize.c — hand-written equivalents of the Tekken, Llama 3 and GPT-2 split regexes. The text
 * is decoded once into per-character class bits and run lengths (computed right to left), so each
 * alternative is decided in constant time and a whole split stays linear in the input. */
#include "pretokenize.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "unicode.h"

enum {
    C_L = 1 << 0,    /* \p{L} */
    C_N = 1 << 1,    /* \p{N} */
    C_S = 1 << 2,    /* \s (White_Space) */
    C_UP = 1 << 3,   /* Tekken "upper": Lu Lt Lm Lo M */
    C_LOW = 1 << 4,  /* Tekken "lower": Ll Lm Lo M */
    C_CRLF = 1 << 5, /* \r or \n */
    C_SYM = 1 << 6,  /* [^\s\p{L}\p{N}] */
};

typedef struct chars {
    size_t n;
    uint32_t *cp;       /* code point (VKMM_UTF8_INVALID for a bad byte) */
    size_t *off;        /* byte offset of each character, off[n] = len */
    unsigned char *cls;
    /* run lengths starting at each character */
    uint32_t *up, *low, *let, *num, *sym, *ws;
} chars;

static void chars_free(chars *c)
{
    free(c->cp);
    free(c->off);
    free(c->cls);
    free(c->up);
    free(c->low);
    free(c->let);
    free(c->num);
    free(c->sym);
    free(c->ws);
}

static vkmm_status chars_build(chars *c, const char *text, size_t len, vkmm_error *err)
{
    memset(c, 0, sizeof *c);
    size_t cap = len + 1;
    c->cp = malloc(cap * sizeof *c->cp);
    c->off = malloc(cap * sizeof *c->off);
    c->cls = malloc(cap);
    c->up = malloc(cap * sizeof *c->up);
    c->low = malloc(cap * sizeof *c->low);
    c->let = malloc(cap * sizeof *c->let);
    c->num = malloc(cap * sizeof *c->num);
    c->sym = malloc(cap * sizeof *c->sym);
    c->ws = malloc(cap * sizeof *c->ws);
    if (!c->cp || !c->off || !c->cls || !c->up || !c->low || !c->let || !c->num || !c->sym || !c->ws) {
        chars_free(c);
        return vkmm_fail(err, VKMM_ERR_HOST_MEMORY, "pre-tokenizer: out of memory for %zu bytes of text", len);
    }
    const unsigned char *s = (const unsigned char *)text;
    size_t i = 0, n = 0;
    while (i < len) {
        size_t l;
        uint32_t cp = vkmm_utf8_decode(s + i, len - i, &l);
        unsigned char k = 0;
        if (cp != VKMM_UTF8_INVALID) {
            vkmm_ucat cat = vkmm_unicode_category(cp);
            if (vkmm_ucat_is_letter(cat))
                k |= C_L;
            if (vkmm_ucat_is_number(cat))
                k |= C_N;
            if (vkmm_unicode_is_space(cp))
                k |= C_S;
            if (cat == VKMM_UCAT_Lu || cat == VKMM_UCAT_Lt || cat == VKMM_UCAT_Lm || cat == VKMM_UCAT_Lo ||
                vkmm_ucat_is_mark(cat))
                k |= C_UP;
            if (cat == VKMM_UCAT_Ll || cat == VKMM_UCAT_Lm || cat == VKMM_UCAT_Lo || vkmm_ucat_is_mark(cat))
                k |= C_LOW;
            if (cp == '\r' || cp == '\n')
                k |= C_CRLF;
        }
        if (!(k & (C_L | C_N | C_S)))
            k |= C_SYM;
        c->cp[n] = cp;
        c->off[n] = i;
        c->cls[n] = k;
        n++;
        i += l;
    }
    c->off[n] = len;
    c->n = n;
    uint32_t up = 0, low = 0, let = 0, num = 0, sym = 0, ws = 0;
    for (size_t j = n; j-- > 0;) {
        unsigned char k = c->cls[j];
        c->up[j] = up = k & C_UP ? up + 1 : 0;
        c->low[j] = low = k & C_LOW ? low + 1 : 0;
        c->let[j] = let = k & C_L ? let + 1 : 0;
        c->num[j] = num = k & C_N ? num + 1 : 0;
        c->sym[j] = sym = k & C_SYM ? sym + 1 : 0;
        c->ws[j] = ws = k & C_S ? ws + 1 : 0;
    }
    /* sentinels at n: every run is 0 there */
    c->cls[n] = 0;
    c->up[n] = c->low[n] = c->let[n] = c->num[n] = c->sym[n] = c->ws[n] = 0;
    c->cp[n] = 0;
    return VKMM_OK;
}

/* \s*[\r\n]+ | \s+(?!\S) | \s+ — the three whitespace alternatives every pattern ends with (the first only
 * where with_newline_run). Returns the end, or 0 if p is not whitespace. */
static size_t match_space(const chars *c, size_t p, bool with_newline_run)
{
    size_t w = c->ws[p];
    if (!w)
        return 0;
    if (with_newline_run) {
        /* greedy \s* gives back characters until [\r\n]+ can match: the match ends after the run's last
         * CR or LF */
        for (size_t j = p + w; j-- > p;)
            if (c->cls[j] & C_CRLF)
                return j + 1;
    }
    if (p + w == c->n)
        return p + w;          /* (?!\S) holds at the end of the text */
    if (w >= 2)
        return p + w - 1;      /* leave the last space to prefix the next word */
    return p + w;              /* \s+ */
}

/* ' ?[^\s\p{L}\p{N}]+' followed by a run of trailing characters from `trail` (a set of code points). */
static size_t match_symbols(const chars *c, size_t p, const char *trail)
{
    size_t q;
    if (c->cp[p] == ' ' && p + 1 < c->n && (c->cls[p + 1] & C_SYM))
        q = p + 1;
    else if (c->cls[p] & C_SYM)
        q = p;
    else
        return 0;
    size_t r = q + c->sym[q];
    if (trail)
        while (r < c->n && c->cp[r] < 128 && c->cp[r] && strchr(trail, (int)c->cp[r]))
            r++;
    return r;
}

/* Tekken "[U]*[L]+" at q (U = Lu Lt Lm Lo M, L = Ll Lm Lo M) with the regex's backtracking; 0 if none. */
static size_t tekken_upper_lower(const chars *c, size_t q)
{
    if (q >= c->n)
        return 0;
    size_t k0 = c->up[q];
    if (c->low[q + k0])
        return q + k0 + c->low[q + k0];
    for (size_t k = k0; k-- > 0;)
        if (c->cls[q + k] & C_LOW)
            return q + k + c->low[q + k];
    return 0;
}

static bool tekken_prefix_ok(const chars *c, size_t p)
{
    return !(c->cls[p] & (C_CRLF | C_L | C_N)) && p + 1 < c->n;
}

static size_t match_tekken(const chars *c, size_t p)
{
    size_t e;
    /* (a) [^\r\n\p{L}\p{N}]?[U]*[L]+ : the optional prefix is tried taken first, then not */
    if (tekken_prefix_ok(c, p) && (e = tekken_upper_lower(c, p + 1)))
        return e;
    if ((e = tekken_upper_lower(c, p)))
        return e;
    /* (b) [^\r\n\p{L}\p{N}]?[U]+[L]* */
    if (tekken_prefix_ok(c, p) && c->up[p + 1])
        return p + 1 + c->up[p + 1] + c->low[p + 1 + c->up[p + 1]];
    if (c->up[p])
        return p + c->up[p] + c->low[p + c->up[p]];
    /* (c) \p{N} — one digit at a time */
    if (c->cls[p] & C_N)
        return p + 1;
    /* (d) ' ?[^\s\p{L}\p{N}]+[\r\n/]*' */
    if ((e = match_symbols(c, p, "\r\n/")))
        return e;
    /* (e) (f) (g) */
    if ((e = match_space(c, p, true)))
        return e;
    return p + 1;
}

static uint32_t ascii_lower(uint32_t cp)
{
    return cp >= 'A' && cp <= 'Z' ? cp + 32 : cp;
}

/* 's|'t|'re|'ve|'m|'ll|'d, optionally case-insensitive (Unicode simple folding maps U+017F LONG S to s). */
static size_t match_contraction(const chars *c, size_t p, bool nocase)
{
    if (c->cp[p] != '\'' || p + 1 >= c->n)
        return 0;
    uint32_t a = c->cp[p + 1], b = p + 2 < c->n ? c->cp[p + 2] : 0;
    if (nocase) {
        a = a == 0x17F ? 's' : ascii_lower(a);
        b = b == 0x17F ? 's' : ascii_lower(b);
    }
    if (a == 's' || a == 't' || a == 'm' || a == 'd')
        return p + 2;
    if ((a == 'r' && b == 'e') || (a == 'v' && b == 'e') || (a == 'l' && b == 'l'))
        return p + 3;
    return 0;
}

static size_t match_llama3(const chars *c, size_t p)
{
    size_t e;
    /* (?i:'s|'t|'re|'ve|'m|'ll|'d) */
    if ((e = match_contraction(c, p, true)))
        return e;
    /* [^\r\n\p{L}\p{N}]?\p{L}+ */
    if (!(c->cls[p] & (C_CRLF | C_L | C_N)) && p + 1 < c->n && c->let[p + 1])
        return p + 1 + c->let[p + 1];
    if (c->let[p])
        return p + c->let[p];
    /* \p{N}{1,3} */
    if (c->num[p])
        return p + (c->num[p] < 3 ? c->num[p] : 3);
    /* ' ?[^\s\p{L}\p{N}]+[\r\n]*' */
    if ((e = match_symbols(c, p, "\r\n")))
        return e;
    if ((e = match_space(c, p, true)))
        return e;
    return p + 1;
}

static size_t match_gpt2(const chars *c, size_t p)
{
    size_t e;
    if ((e = match_contraction(c, p, false)))
        return e;
    /* ' ?\p{L}+' and ' ?\p{N}+' */
    bool sp = c->cp[p] == ' ' && p + 1 < c->n;
    if (sp && c->let[p + 1])
        return p + 1 + c->let[p + 1];
    if (c->let[p])
        return p + c->let[p];
    if (sp && c->num[p + 1])
        return p + 1 + c->num[p + 1];
    if (c->num[p])
        return p + c->num[p];
    if ((e = match_symbols(c, p, NULL)))
        return e;
    if ((e = match_space(c, p, false)))
        return e;
    return p + 1;
}

static vkmm_status push_piece(vkmm_pieces *out, size_t start, size_t len, vkmm_error *err)
{
    if (out->n == out->cap) {
        size_t cap = out->cap ? out->cap * 2 : 64;
        vkmm_piece *v = realloc(out->v, cap * sizeof *v);
        if (!v)
            return vkmm_fail(err, VKMM_ERR_HOST_MEMORY, "pre-tokenizer: out of memory");
        out->v = v;
        out->cap = cap;
    }
    out->v[out->n].start = start;
    out->v[out->n].len = len;
    out->n++;
    return VKMM_OK;
}

vkmm_status vkmm_pretokenize(vkmm_pretok_kind kind, const char *text, size_t len, vkmm_pieces *out,
                             vkmm_error *err)
{
    out->n = 0;
    if (len == 0)
        return VKMM_OK;
    if (kind == VKMM_PRETOK_NONE)
        return push_piece(out, 0, len, err);
    chars c;
    vkmm_status s = chars_build(&c, text, len, err);
    if (s)
        return s;
    size_t p = 0;
    while (p < c.n) {
        size_t e = kind == VKMM_PRETOK_TEKKEN ? match_tekken(&c, p)
                   : kind == VKMM_PRETOK_LLAMA3 ? match_llama3(&c, p)
                                                : match_gpt2(&c, p);
        if ((s = push_piece(out, c.off[p], c.off[e] - c.off[p], err)))
            break;
        p = e;
    }
    chars_free(&c);
    return s;
}

void vkmm_pieces_free(vkmm_pieces *p)
{
    free(p->v);
    memset(p, 0, sizeof *p);
}

bool vkmm_pretok_from_name(const char *pre, vkmm_pretok_kind *out)
{
    static const struct {
        const char *name;
        vkmm_pretok_kind kind;
    } names[] = {
        {"tekken", VKMM_PRETOK_TEKKEN},   {"llama-bpe", VKMM_PRETOK_LLAMA3}, {"llama3", VKMM_PRETOK_LLAMA3},
        {"llama-v3", VKMM_PRETOK_LLAMA3}, {"pixtral", VKMM_PRETOK_LLAMA3},   {"gpt-2", VKMM_PRETOK_GPT2},
        {"gpt2", VKMM_PRETOK_GPT2},
    };
    for (size_t i = 0; pre && i < sizeof names / sizeof names[0]; i++)
        if (!strcmp(pre, names[i].name)) {
            *out = names[i].kind;
            return true;
        }
    return false;
}

const char *vkmm_pretok_name(vkmm_pretok_kind kind)
{
    switch (kind) {
    case VKMM_PRETOK_NONE: return "none";
    case VKMM_PRETOK_TEKKEN: return "tekken";
    case VKMM_PRETOK_LLAMA3: return "llama3";
    case VKMM_PRETOK_GPT2: return "gpt2";
    }
    return "?";
}
