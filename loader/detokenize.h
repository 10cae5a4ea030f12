/* loader/detokenize.h — token ids back to text, safely streamable: bytes from byte-fallback or byte-level
 * tokens are held until they complete a UTF-8 character, so no half character is ever emitted; bytes that
 * can never become valid are replaced by U+FFFD. Control tokens render only on request. */
#ifndef VKMM_LOADER_DETOKENIZE_H
#define VKMM_LOADER_DETOKENIZE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "tokenizer.h"

/* A growable byte string, always NUL-terminated once non-empty. */
typedef struct vkmm_text {
    char *s;
    size_t len, cap;
} vkmm_text;

vkmm_status vkmm_text_append(vkmm_text *t, const char *s, size_t n);
void vkmm_text_free(vkmm_text *t);

enum {
    VKMM_DETOK_RENDER_SPECIAL = 1u << 0, /* write CONTROL / UNKNOWN tokens as their text */
    VKMM_DETOK_STRIP_SPACE = 1u << 1,    /* drop the space SentencePiece's add_space_prefix put first */
};

typedef struct vkmm_detok {
    const vkmm_tokenizer *tok;
    unsigned flags;
    bool started;                 /* some text was emitted (for STRIP_SPACE) */
    unsigned char pending[4];
    size_t n_pending;
} vkmm_detok;

void vkmm_detok_init(vkmm_detok *d, const vkmm_tokenizer *tok, unsigned flags);
/* Appends to out the complete characters that token id finishes. An id outside the vocabulary is an error. */
vkmm_status vkmm_detok_push(vkmm_detok *d, int32_t id, vkmm_text *out, vkmm_error *err);
/* End of stream: an unfinished character becomes U+FFFD. */
vkmm_status vkmm_detok_flush(vkmm_detok *d, vkmm_text *out, vkmm_error *err);

/* Whole-sequence convenience: init, push every id, flush. */
vkmm_status vkmm_detokenize(const vkmm_tokenizer *tok, const int32_t *ids, size_t n, unsigned flags,
                            vkmm_text *out, vkmm_error *err);

/* The raw bytes token id stands for (a byte token gives one byte, which may be half a character); control
 * tokens give their text only with render_special. Appends to out. */
vkmm_status vkmm_token_bytes(const vkmm_tokenizer *tok, int32_t id, bool render_special, vkmm_text *out,
                             vkmm_error *err);

#endif
