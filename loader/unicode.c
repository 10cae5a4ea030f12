/* loader/unicode.c — UTF-8 decoding and category lookup over the generated run table (binary search, with a
 * direct table for ASCII, which is most of any text). */
#include "unicode.h"

uint32_t vkmm_utf8_decode(const unsigned char *s, size_t n, size_t *len)
{
    unsigned char c = s[0];
    *len = 1;
    if (c < 0x80)
        return c;
    size_t need;
    uint32_t cp, min;
    if (c >= 0xC2 && c <= 0xDF) {
        need = 2;
        cp = c & 0x1F;
        min = 0x80;
    } else if (c >= 0xE0 && c <= 0xEF) {
        need = 3;
        cp = c & 0x0F;
        min = 0x800;
    } else if (c >= 0xF0 && c <= 0xF4) {
        need = 4;
        cp = c & 0x07;
        min = 0x10000;
    } else {
        return VKMM_UTF8_INVALID;
    }
    if (n < need)
        return VKMM_UTF8_INVALID;
    for (size_t i = 1; i < need; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return VKMM_UTF8_INVALID;
        cp = cp << 6 | (s[i] & 0x3Fu);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
        return VKMM_UTF8_INVALID;
    *len = need;
    return cp;
}

size_t vkmm_utf8_encode(uint32_t cp, char *o)
{
    if (cp < 0x80) {
        o[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        o[0] = (char)(0xC0 | cp >> 6);
        o[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        o[0] = (char)(0xE0 | cp >> 12);
        o[1] = (char)(0x80 | (cp >> 6 & 0x3F));
        o[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    o[0] = (char)(0xF0 | cp >> 18);
    o[1] = (char)(0x80 | (cp >> 12 & 0x3F));
    o[2] = (char)(0x80 | (cp >> 6 & 0x3F));
    o[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

/* Length a lead byte announces (0 for a byte that cannot start a sequence). */
static size_t lead_len(unsigned char c)
{
    if (c < 0x80)
        return 1;
    if (c >= 0xC2 && c <= 0xDF)
        return 2;
    if (c >= 0xE0 && c <= 0xEF)
        return 3;
    if (c >= 0xF0 && c <= 0xF4)
        return 4;
    return 0;
}

/* Whether b may follow lead as the second byte of a valid sequence (the lead-specific ranges keep out
 * overlong forms, surrogates and code points past U+10FFFF). */
static bool second_ok(unsigned char lead, unsigned char b)
{
    if (lead == 0xE0)
        return b >= 0xA0 && b <= 0xBF;
    if (lead == 0xED)
        return b >= 0x80 && b <= 0x9F;
    if (lead == 0xF0)
        return b >= 0x90 && b <= 0xBF;
    if (lead == 0xF4)
        return b >= 0x80 && b <= 0x8F;
    return (b & 0xC0) == 0x80;
}

size_t vkmm_utf8_valid_prefix(const unsigned char *s, size_t n, size_t *pending)
{
    size_t i = 0;
    *pending = 0;
    while (i < n) {
        size_t l;
        if (vkmm_utf8_decode(s + i, n - i, &l) != VKMM_UTF8_INVALID) {
            i += l;
            continue;
        }
        /* invalid here; pending if it is a valid start of a sequence cut short by the end of s */
        size_t want = lead_len(s[i]), have = n - i;
        if (want > 1 && have < want) {
            bool ok = have < 2 || second_ok(s[i], s[i + 1]);
            for (size_t k = 2; ok && k < have; k++)
                ok = (s[i + k] & 0xC0) == 0x80;
            if (ok)
                *pending = have;
        }
        return i;
    }
    return i;
}

size_t vkmm_utf8_invalid_len(const unsigned char *s, size_t n)
{
    size_t want = lead_len(s[0]);
    if (want <= 1 || n < 2 || !second_ok(s[0], s[1]))
        return 1;
    size_t k = 2;
    while (k < want && k < n && (s[k] & 0xC0) == 0x80)
        k++;
    return k < want ? k : 1; /* a complete sequence here would have been valid */
}

/* Categories of ASCII, the common case. */
static const unsigned char ascii_cat[128] = {
    VKMM_UCAT_Cc, VKMM_UCAT_Cc, VKMM_UCAT_Cc, VKMM_UCAT_Cc, VKMM_UCAT_Cc, VKMM_UCAT_Cc, VKMM_UCAT_Cc, VKMM_UCAT_Cc,
    VKMM_UCAT_Cc, VKMM_UCAT_Cc, VKMM_UCAT_Cc, VKMM_UCAT_Cc, VKMM_UCAT_Cc, VKMM_UCAT_Cc, VKMM_UCAT_Cc, VKMM_UCAT_Cc,
    VKMM_UCAT_Cc, VKMM_UCAT_Cc, VKMM_UCAT_Cc, VKMM_UCAT_Cc, VKMM_UCAT_Cc, VKMM_UCAT_Cc, VKMM_UCAT_Cc, VKMM_UCAT_Cc,
    VKMM_UCAT_Cc, VKMM_UCAT_Cc, VKMM_UCAT_Cc, VKMM_UCAT_Cc, VKMM_UCAT_Cc, VKMM_UCAT_Cc, VKMM_UCAT_Cc, VKMM_UCAT_Cc,
    /* space ! " # $ % & ' ( ) * + , - . / */
    VKMM_UCAT_Zs, VKMM_UCAT_Po, VKMM_UCAT_Po, VKMM_UCAT_Po, VKMM_UCAT_Sc, VKMM_UCAT_Po, VKMM_UCAT_Po, VKMM_UCAT_Po,
    VKMM_UCAT_Ps, VKMM_UCAT_Pe, VKMM_UCAT_Po, VKMM_UCAT_Sm, VKMM_UCAT_Po, VKMM_UCAT_Pd, VKMM_UCAT_Po, VKMM_UCAT_Po,
    /* 0-9 : ; < = > ? */
    VKMM_UCAT_Nd, VKMM_UCAT_Nd, VKMM_UCAT_Nd, VKMM_UCAT_Nd, VKMM_UCAT_Nd, VKMM_UCAT_Nd, VKMM_UCAT_Nd, VKMM_UCAT_Nd,
    VKMM_UCAT_Nd, VKMM_UCAT_Nd, VKMM_UCAT_Po, VKMM_UCAT_Po, VKMM_UCAT_Sm, VKMM_UCAT_Sm, VKMM_UCAT_Sm, VKMM_UCAT_Po,
    /* @ A-Z [ \ ] ^ _ */
    VKMM_UCAT_Po, VKMM_UCAT_Lu, VKMM_UCAT_Lu, VKMM_UCAT_Lu, VKMM_UCAT_Lu, VKMM_UCAT_Lu, VKMM_UCAT_Lu, VKMM_UCAT_Lu,
    VKMM_UCAT_Lu, VKMM_UCAT_Lu, VKMM_UCAT_Lu, VKMM_UCAT_Lu, VKMM_UCAT_Lu, VKMM_UCAT_Lu, VKMM_UCAT_Lu, VKMM_UCAT_Lu,
    VKMM_UCAT_Lu, VKMM_UCAT_Lu, VKMM_UCAT_Lu, VKMM_UCAT_Lu, VKMM_UCAT_Lu, VKMM_UCAT_Lu, VKMM_UCAT_Lu, VKMM_UCAT_Lu,
    VKMM_UCAT_Lu, VKMM_UCAT_Lu, VKMM_UCAT_Lu, VKMM_UCAT_Ps, VKMM_UCAT_Po, VKMM_UCAT_Pe, VKMM_UCAT_Sk, VKMM_UCAT_Pc,
    /* ` a-z { | } ~ DEL */
    VKMM_UCAT_Sk, VKMM_UCAT_Ll, VKMM_UCAT_Ll, VKMM_UCAT_Ll, VKMM_UCAT_Ll, VKMM_UCAT_Ll, VKMM_UCAT_Ll, VKMM_UCAT_Ll,
    VKMM_UCAT_Ll, VKMM_UCAT_Ll, VKMM_UCAT_Ll, VKMM_UCAT_Ll, VKMM_UCAT_Ll, VKMM_UCAT_Ll, VKMM_UCAT_Ll, VKMM_UCAT_Ll,
    VKMM_UCAT_Ll, VKMM_UCAT_Ll, VKMM_UCAT_Ll, VKMM_UCAT_Ll, VKMM_UCAT_Ll, VKMM_UCAT_Ll, VKMM_UCAT_Ll, VKMM_UCAT_Ll,
    VKMM_UCAT_Ll, VKMM_UCAT_Ll, VKMM_UCAT_Ll, VKMM_UCAT_Ps, VKMM_UCAT_Sm, VKMM_UCAT_Pe, VKMM_UCAT_Sm, VKMM_UCAT_Cc,
};

vkmm_ucat vkmm_unicode_category(uint32_t cp)
{
    if (cp < 128)
        return (vkmm_ucat)ascii_cat[cp];
    if (cp > 0x10FFFF)
        return VKMM_UCAT_Cn;
    uint32_t lo = 0, hi = vkmm_unicode_n_runs; /* find the last run starting at or before cp */
    while (hi - lo > 1) {
        uint32_t mid = lo + (hi - lo) / 2;
        if ((vkmm_unicode_runs[mid] >> 5) <= cp)
            lo = mid;
        else
            hi = mid;
    }
    return (vkmm_ucat)(vkmm_unicode_runs[lo] & 31);
}

bool vkmm_unicode_is_space(uint32_t cp)
{
    return (cp >= 0x09 && cp <= 0x0D) || cp == 0x20 || cp == 0x85 || cp == 0xA0 || cp == 0x1680 ||
           (cp >= 0x2000 && cp <= 0x200A) || cp == 0x2028 || cp == 0x2029 || cp == 0x202F || cp == 0x205F ||
           cp == 0x3000;
}
