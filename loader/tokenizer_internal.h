/* loader/tokenizer_internal.h — what the tokenizer files share: the tokenizer struct, its hash maps and the
 * entry points of each algorithm. Not part of the loader's API. */
#ifndef VKMM_LOADER_TOKENIZER_INTERNAL_H
#define VKMM_LOADER_TOKENIZER_INTERNAL_H

#include "pretokenize.h"
#include "tokenizer.h"

/* Open-addressing map from token text to id (the texts live in the vocab). */
typedef struct vkmm_text_map {
    int32_t *slots; /* -1 = empty */
    uint32_t mask;
    const vkmm_vocab_str *texts;
} vkmm_text_map;

/* Open-addressing map from a pair of ids to (merge rank, merged id). */
typedef struct vkmm_pair_map {
    uint64_t *keys;  /* (left << 32 | right) + 1; 0 = empty */
    uint32_t *rank;
    int32_t *result;
    uint32_t mask;
} vkmm_pair_map;

/* Trie over the texts of the tokens the special-token split recognises. */
typedef struct vkmm_trie_node {
    int32_t first_child, next_sibling;
    int32_t token;        /* -1 if no token ends here */
    unsigned char byte;
    bool always;          /* USER_DEFINED: split even without PARSE_SPECIAL */
} vkmm_trie_node;

struct vkmm_tokenizer {
    const vkmm_vocab *vocab;
    vkmm_tokenizer_kind kind;
    vkmm_pretok_kind pretok;
    vkmm_text_map text_map;  /* texts that plain text may turn into (not CONTROL / UNKNOWN / BYTE) */
    vkmm_text_map all_map;   /* every token */
    vkmm_pair_map merges;    /* BPE only */
    int32_t byte_token[256]; /* SPM, BPE_CHARS: <0xNN>; BPE: the token of each byte's alphabet character; -1 if
                              * none */
    vkmm_trie_node *trie;    /* node 0 is the root */
    uint32_t n_trie, cap_trie;
    int32_t root_child[256];
    int32_t bos, eos, unk;
    bool add_bos, add_eos, add_space_prefix, ignore_merges;
    int32_t *eog;            /* end-of-generation ids */
    uint32_t n_eog;
    /* BPE: each byte's alphabet character as UTF-8, and the byte of each alphabet code point (< 0x144) */
    char alpha[256][2];
    unsigned char alpha_len[256];
    int16_t from_alpha[0x144];
};

vkmm_status vkmm_text_map_build(vkmm_text_map *m, const vkmm_vocab *v, bool (*keep)(int32_t type),
                                vkmm_error *err);
int32_t vkmm_text_map_get(const vkmm_text_map *m, const char *s, size_t len);
void vkmm_text_map_free(vkmm_text_map *m);
vkmm_status vkmm_pair_map_init(vkmm_pair_map *m, uint32_t n, vkmm_error *err);
/* Keeps the first (lowest) rank for a pair given twice. */
void vkmm_pair_map_put(vkmm_pair_map *m, int32_t left, int32_t right, uint32_t rank, int32_t result);
bool vkmm_pair_map_get(const vkmm_pair_map *m, int32_t left, int32_t right, uint32_t *rank, int32_t *result);
void vkmm_pair_map_free(vkmm_pair_map *m);

/* A binary heap of fixed-size items; `before(a, b)` says a comes out first. */
typedef struct vkmm_heap {
    void *v;
    size_t n, cap, item;
    bool (*before)(const void *a, const void *b);
} vkmm_heap;
void vkmm_heap_init(vkmm_heap *h, size_t item, bool (*before)(const void *a, const void *b));
bool vkmm_heap_push(vkmm_heap *h, const void *x);
void vkmm_heap_pop(vkmm_heap *h, void *top); /* h must not be empty */
void vkmm_heap_free(vkmm_heap *h);

/* text with every space written as U+2581 (and one more in front with prefix), malloc'ed (NULL when empty). */
vkmm_status vkmm_escape_spaces(const char *text, size_t len, bool prefix, char **out, size_t *out_len,
                               vkmm_error *err);
/* Encode one fragment of raw text (no special tokens in it) and append its ids. */
vkmm_status vkmm_spm_encode(const vkmm_tokenizer *tok, const char *text, size_t len, bool space_prefix,
                            vkmm_tokens *out, vkmm_error *err);
vkmm_status vkmm_bpe_encode(const vkmm_tokenizer *tok, const char *text, size_t len, vkmm_tokens *out,
                            vkmm_error *err);
/* Gemma 4: spaces become U+2581, runs of newlines split from the rest, characters merge by rank, a symbol
 * left out of the vocabulary becomes its <0xNN> bytes. */
vkmm_status vkmm_bpe_chars_encode(const vkmm_tokenizer *tok, const char *text, size_t len, vkmm_tokens *out,
                                  vkmm_error *err);
/* BPE set-up: the merge ranks, and for byte-level BPE the byte alphabet tokens. */
vkmm_status vkmm_bpe_prepare(vkmm_tokenizer *tok, vkmm_error *err);

/* The GPT-2 byte-to-unicode alphabet: code point standing for byte b, and back (-1 if not in it). */
uint32_t vkmm_byte_to_unicode(unsigned char b);
int vkmm_unicode_to_byte(uint32_t cp);

#endif
