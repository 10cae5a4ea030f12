/* loader/vocab.h — a tokenizer vocabulary exactly as a GGUF stores it (the tokenizer.ggml.* keys and
 * tokenizer.chat_template). The GGUF adapter, the tokenizer.json / tekken.json converters and `vkmm-dev synth`
 * all meet here; tokenizers are built from this struct, never from a file. */
#ifndef VKMM_LOADER_VOCAB_H
#define VKMM_LOADER_VOCAB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"

/* tokenizer.ggml.token_type values (gguf-py TokenType). */
typedef enum vkmm_token_type {
    VKMM_TOKEN_UNDEFINED = 0,
    VKMM_TOKEN_NORMAL = 1,
    VKMM_TOKEN_UNKNOWN = 2,
    VKMM_TOKEN_CONTROL = 3,
    VKMM_TOKEN_USER_DEFINED = 4,
    VKMM_TOKEN_UNUSED = 5,
    VKMM_TOKEN_BYTE = 6,
} vkmm_token_type;

/* A string with its length: token texts may in principle hold any byte. s is NUL-terminated too. */
typedef struct vkmm_vocab_str {
    char *s;
    uint32_t len;
} vkmm_vocab_str;

/* Tri-state flag: the GGUF may omit a key, and the tokenizer then applies the model's default. */
typedef enum vkmm_vocab_flag { VKMM_FLAG_UNSET = -1, VKMM_FLAG_FALSE = 0, VKMM_FLAG_TRUE = 1 } vkmm_vocab_flag;

typedef struct vkmm_vocab {
    char *model;              /* tokenizer.ggml.model: "llama" (SentencePiece BPE), "gpt2" (byte-level BPE), ... */
    char *pre;                /* tokenizer.ggml.pre: "default", "tekken", "llama-bpe", "gpt-2", ...; may be NULL */
    uint32_t n_tokens;
    vkmm_vocab_str *tokens;   /* tokenizer.ggml.tokens[n_tokens] */
    float *scores;            /* tokenizer.ggml.scores[n_tokens]; NULL when absent */
    int32_t *types;           /* tokenizer.ggml.token_type[n_tokens]; NULL when absent (all NORMAL) */
    uint32_t n_merges;
    vkmm_vocab_str *merges;   /* tokenizer.ggml.merges[n_merges]: "A B", index = rank; NULL when absent */
    int64_t bos_id, eos_id, unk_id, pad_id; /* -1 when absent */
    vkmm_vocab_flag add_bos, add_eos, add_space_prefix;
    char *chat_template;      /* tokenizer.chat_template; NULL when absent */

    struct vkmm_vocab_pool *pool; /* owns every string above */
} vkmm_vocab;

/* An empty vocabulary: no tokens, ids -1, flags unset. */
void vkmm_vocab_init(vkmm_vocab *v);
void vkmm_vocab_free(vkmm_vocab *v);

/* Allocates the token table (texts empty, scores 0, types NORMAL when with_types) and the merge table. */
vkmm_status vkmm_vocab_reserve(vkmm_vocab *v, uint32_t n_tokens, bool with_scores, bool with_types,
                               uint32_t n_merges, vkmm_error *err);
/* Copies text into token id's slot (and its score/type where those arrays exist). */
vkmm_status vkmm_vocab_set_token(vkmm_vocab *v, uint32_t id, const char *text, size_t len, float score,
                                 int32_t type, vkmm_error *err);
vkmm_status vkmm_vocab_set_merge(vkmm_vocab *v, uint32_t rank, const char *text, size_t len, vkmm_error *err);
/* Copies a NUL-terminated string into one of model / pre / chat_template (text may be NULL to clear). */
vkmm_status vkmm_vocab_set_string(vkmm_vocab *v, char **field, const char *text, vkmm_error *err);

/* Checks what a tokenizer relies on: ids in range, known token types, a model name. name labels errors. */
vkmm_status vkmm_vocab_validate(const vkmm_vocab *v, const char *name, vkmm_error *err);

/* Token type of id (NORMAL when the vocab has no types, UNDEFINED when id is out of range). */
int32_t vkmm_vocab_type(const vkmm_vocab *v, int64_t id);

#endif
