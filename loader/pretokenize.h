/* loader/pretokenize.h — the regex splits byte-level BPE tokenizers apply before merging, written by hand
 * (vkmm has no regex engine): Mistral's Tekken pattern, Llama 3's and GPT-2's. Each follows its regex's
 * leftmost-first alternation and greedy backtracking exactly; \s is Unicode White_Space, \p{..} the general
 * categories of loader/unicode_table.c. */
#ifndef VKMM_LOADER_PRETOKENIZE_H
#define VKMM_LOADER_PRETOKENIZE_H

#include <stdbool.h>
#include <stddef.h>

#include "error.h"

typedef enum vkmm_pretok_kind {
    VKMM_PRETOK_NONE = 0, /* the whole fragment is one piece */
    VKMM_PRETOK_TEKKEN,
    VKMM_PRETOK_LLAMA3,
    VKMM_PRETOK_GPT2,
} vkmm_pretok_kind;

/* Maps tokenizer.ggml.pre to a split; false if the name is unknown. */
bool vkmm_pretok_from_name(const char *pre, vkmm_pretok_kind *out);
const char *vkmm_pretok_name(vkmm_pretok_kind kind);

typedef struct vkmm_piece {
    size_t start, len; /* bytes of the input */
} vkmm_piece;

typedef struct vkmm_pieces {
    vkmm_piece *v;
    size_t n, cap;
} vkmm_pieces;

/* Splits text[0..len) into pieces covering it in order (out is reset first). Invalid UTF-8 bytes count as
 * single characters that are neither letters, digits nor spaces. */
vkmm_status vkmm_pretokenize(vkmm_pretok_kind kind, const char *text, size_t len, vkmm_pieces *out,
                             vkmm_error *err);
void vkmm_pieces_free(vkmm_pieces *p);

#endif
