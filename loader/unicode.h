/* loader/unicode.h — what the tokenizers need of Unicode: lenient UTF-8 decoding (a bad byte stands alone),
 * general categories from a generated table, and the White_Space property that regex \s means. */
#ifndef VKMM_LOADER_UNICODE_H
#define VKMM_LOADER_UNICODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* General categories, in the order scripts/gen_unicode_table.py writes them. */
typedef enum vkmm_ucat {
    VKMM_UCAT_Cn = 0,
    VKMM_UCAT_Lu, VKMM_UCAT_Ll, VKMM_UCAT_Lt, VKMM_UCAT_Lm, VKMM_UCAT_Lo,
    VKMM_UCAT_Mn, VKMM_UCAT_Mc, VKMM_UCAT_Me,
    VKMM_UCAT_Nd, VKMM_UCAT_Nl, VKMM_UCAT_No,
    VKMM_UCAT_Pc, VKMM_UCAT_Pd, VKMM_UCAT_Ps, VKMM_UCAT_Pe, VKMM_UCAT_Pi, VKMM_UCAT_Pf, VKMM_UCAT_Po,
    VKMM_UCAT_Sm, VKMM_UCAT_Sc, VKMM_UCAT_Sk, VKMM_UCAT_So,
    VKMM_UCAT_Zs, VKMM_UCAT_Zl, VKMM_UCAT_Zp,
    VKMM_UCAT_Cc, VKMM_UCAT_Cf, VKMM_UCAT_Cs, VKMM_UCAT_Co,
    VKMM_UCAT_COUNT
} vkmm_ucat;

/* Returned by vkmm_utf8_decode for a byte that does not start a valid sequence. */
#define VKMM_UTF8_INVALID 0xFFFFFFFFu

/* Decodes one character at s[0..n) (n >= 1). Returns the code point and sets *len to its byte length; an
 * invalid, overlong, surrogate or truncated sequence yields VKMM_UTF8_INVALID with *len = 1. */
uint32_t vkmm_utf8_decode(const unsigned char *s, size_t n, size_t *len);
/* Writes cp as UTF-8 into out (4 bytes room); returns the length. */
size_t vkmm_utf8_encode(uint32_t cp, char *out);
/* Byte length of the longest prefix of s[0..n) that ends on a character boundary of valid UTF-8, and the
 * length of a trailing incomplete-but-so-far-valid sequence (0..3) in *pending. */
size_t vkmm_utf8_valid_prefix(const unsigned char *s, size_t n, size_t *pending);

/* At an invalid position of s[0..n): the bytes one U+FFFD replaces, the "maximal subpart" of an ill-formed
 * sequence (as Rust's from_utf8_lossy and the WHATWG decoder count them); at least 1. */
size_t vkmm_utf8_invalid_len(const unsigned char *s, size_t n);

vkmm_ucat vkmm_unicode_category(uint32_t cp);
/* Unicode White_Space (what \s matches in the Rust, Oniguruma and Python regex engines). */
bool vkmm_unicode_is_space(uint32_t cp);

static inline bool vkmm_ucat_is_letter(vkmm_ucat c) { return c >= VKMM_UCAT_Lu && c <= VKMM_UCAT_Lo; }
static inline bool vkmm_ucat_is_mark(vkmm_ucat c) { return c >= VKMM_UCAT_Mn && c <= VKMM_UCAT_Me; }
static inline bool vkmm_ucat_is_number(vkmm_ucat c) { return c >= VKMM_UCAT_Nd && c <= VKMM_UCAT_No; }

extern const char vkmm_unicode_version[];
extern const uint32_t vkmm_unicode_n_runs;
extern const uint32_t vkmm_unicode_runs[];

#endif
