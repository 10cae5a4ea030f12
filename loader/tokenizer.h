/* loader/tokenizer.h — text to token ids and back, built from a vkmm_vocab: SentencePiece-style BPE by piece
 * score with byte fallback (tokenizer.ggml.model = "llama"), byte-level BPE with merges and a named
 * pre-tokenizer (model = "gpt2"; pre = "tekken", "llama-bpe"/"llama3", "gpt-2"/"default"), and Gemma 4's BPE
 * over UTF-8 characters with merges, U+2581 spaces and byte fallback (model = "gemma4"). */
#ifndef VKMM_LOADER_TOKENIZER_H
#define VKMM_LOADER_TOKENIZER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "vocab.h"

typedef struct vkmm_tokenizer vkmm_tokenizer;

/* A growable list of token ids. */
typedef struct vkmm_tokens {
    int32_t *ids;
    size_t n, cap;
} vkmm_tokens;

enum {
    /* BOS / EOS as the vocabulary says (tokenizer.ggml.add_bos_token / add_eos_token, else the model's
     * default). Like Hugging Face's add_special_tokens: a "<bos>" in the text itself is still added. */
    VKMM_TOKENIZE_ADD_SPECIAL = 1u << 0,
    /* Recognise CONTROL and UNKNOWN token texts ("<start_of_turn>", "[INST]", ...) in the text. USER_DEFINED
     * tokens are always recognised; without this flag control texts are tokenized as plain text. */
    VKMM_TOKENIZE_PARSE_SPECIAL = 1u << 1,
};

typedef enum vkmm_tokenizer_kind {
    VKMM_TOKENIZER_SPM = 1, /* SentencePiece-style BPE by score, byte fallback */
    VKMM_TOKENIZER_BPE,     /* byte-level BPE with merges */
    VKMM_TOKENIZER_BPE_CHARS, /* BPE merges over UTF-8 characters, U+2581 spaces, byte fallback (Gemma 4) */
} vkmm_tokenizer_kind;

/* Builds the lookup structures (text -> id hash, merge ranks, special-token trie). The tokenizer keeps
 * pointers into vocab, which must outlive it. Unsupported models or pre-tokenizers are errors. */
vkmm_status vkmm_tokenizer_create(const vkmm_vocab *vocab, vkmm_tokenizer **out, vkmm_error *err);
void vkmm_tokenizer_free(vkmm_tokenizer *tok);

/* Appends the ids of text[0..len) to out (which may already hold ids). Any bytes are accepted. */
vkmm_status vkmm_tokenize(const vkmm_tokenizer *tok, const char *text, size_t len, unsigned flags,
                          vkmm_tokens *out, vkmm_error *err);

vkmm_tokenizer_kind vkmm_tokenizer_kind_of(const vkmm_tokenizer *tok);
const vkmm_vocab *vkmm_tokenizer_vocab(const vkmm_tokenizer *tok);
/* Id of the token whose text is exactly s (any type; the lowest id if repeated), or -1. */
int32_t vkmm_tokenizer_find(const vkmm_tokenizer *tok, const char *s, size_t len);
/* The effective BOS / EOS ids (-1 if none) and whether ADD_SPECIAL adds them. */
int32_t vkmm_tokenizer_bos(const vkmm_tokenizer *tok);
int32_t vkmm_tokenizer_eos(const vkmm_tokenizer *tok);
bool vkmm_tokenizer_adds_bos(const vkmm_tokenizer *tok);
/* Whether id ends generation: EOS, or an end-of-turn control token ("<end_of_turn>", "<|eot_id|>", ...). */
bool vkmm_tokenizer_is_eog(const vkmm_tokenizer *tok, int32_t id);

vkmm_status vkmm_tokens_push(vkmm_tokens *t, int32_t id);
void vkmm_tokens_free(vkmm_tokens *t);

#endif
