/* loader/vocab.c — storage of a GGUF-shaped vocabulary: one string pool that owns every text, the tables,
 * and a validation pass that tokenizers rely on. */
#include "vocab.h"

#include <stdlib.h>
#include <string.h>

typedef struct pool_block {
    struct pool_block *next;
    size_t used, cap;
    char data[];
} pool_block;

struct vkmm_vocab_pool {
    pool_block *blocks;
};

static char *pool_copy(vkmm_vocab *v, const char *s, size_t len)
{
    if (!v->pool) {
        v->pool = calloc(1, sizeof *v->pool);
        if (!v->pool)
            return NULL;
    }
    pool_block *b = v->pool->blocks;
    if (!b || b->cap - b->used < len + 1) {
        size_t cap = len + 1 > ((size_t)1 << 20) ? len + 1 : ((size_t)1 << 20);
        b = malloc(sizeof *b + cap);
        if (!b)
            return NULL;
        b->used = 0;
        b->cap = cap;
        b->next = v->pool->blocks;
        v->pool->blocks = b;
    }
    char *p = b->data + b->used;
    if (len)
        memcpy(p, s, len);
    p[len] = 0;
    b->used += len + 1;
    return p;
}

void vkmm_vocab_init(vkmm_vocab *v)
{
    memset(v, 0, sizeof *v);
    v->bos_id = v->eos_id = v->unk_id = v->pad_id = -1;
    v->add_bos = v->add_eos = v->add_space_prefix = VKMM_FLAG_UNSET;
}

void vkmm_vocab_free(vkmm_vocab *v)
{
    if (!v)
        return;
    free(v->tokens);
    free(v->scores);
    free(v->types);
    free(v->merges);
    if (v->pool) {
        for (pool_block *b = v->pool->blocks, *n; b; b = n) {
            n = b->next;
            free(b);
        }
        free(v->pool);
    }
    vkmm_vocab_init(v);
}

vkmm_status vkmm_vocab_reserve(vkmm_vocab *v, uint32_t n_tokens, bool with_scores, bool with_types,
                               uint32_t n_merges, vkmm_error *err)
{
    if (v->tokens || v->merges)
        return vkmm_fail(err, VKMM_ERR_INVALID_ARG, "vocabulary tables already allocated");
    static char empty[1];
    v->tokens = calloc(n_tokens ? n_tokens : 1, sizeof *v->tokens);
    v->scores = with_scores ? calloc(n_tokens ? n_tokens : 1, sizeof *v->scores) : NULL;
    v->types = with_types ? malloc((n_tokens ? n_tokens : 1) * sizeof *v->types) : NULL;
    v->merges = n_merges ? calloc(n_merges, sizeof *v->merges) : NULL;
    if (!v->tokens || (with_scores && !v->scores) || (with_types && !v->types) || (n_merges && !v->merges)) {
        free(v->tokens);
        free(v->scores);
        free(v->types);
        free(v->merges);
        v->tokens = NULL;
        v->scores = NULL;
        v->types = NULL;
        v->merges = NULL;
        return vkmm_fail(err, VKMM_ERR_HOST_MEMORY, "out of memory for a vocabulary of %u tokens", n_tokens);
    }
    for (uint32_t i = 0; i < n_tokens; i++) {
        v->tokens[i].s = empty;
        if (v->types)
            v->types[i] = VKMM_TOKEN_NORMAL;
    }
    for (uint32_t i = 0; i < n_merges; i++)
        v->merges[i].s = empty;
    v->n_tokens = n_tokens;
    v->n_merges = n_merges;
    return VKMM_OK;
}

vkmm_status vkmm_vocab_set_token(vkmm_vocab *v, uint32_t id, const char *text, size_t len, float score,
                                 int32_t type, vkmm_error *err)
{
    if (id >= v->n_tokens)
        return vkmm_fail(err, VKMM_ERR_INVALID_ARG, "token id %u outside the vocabulary of %u", id, v->n_tokens);
    if (len > UINT32_MAX - 1)
        return vkmm_fail(err, VKMM_ERR_INVALID_ARG, "token %u: text of %zu bytes is too long", id, len);
    char *s = pool_copy(v, text, len);
    if (!s)
        return vkmm_fail(err, VKMM_ERR_HOST_MEMORY, "out of memory for token %u", id);
    v->tokens[id].s = s;
    v->tokens[id].len = (uint32_t)len;
    if (v->scores)
        v->scores[id] = score;
    if (v->types)
        v->types[id] = type;
    return VKMM_OK;
}

vkmm_status vkmm_vocab_set_merge(vkmm_vocab *v, uint32_t rank, const char *text, size_t len, vkmm_error *err)
{
    if (rank >= v->n_merges)
        return vkmm_fail(err, VKMM_ERR_INVALID_ARG, "merge %u outside the table of %u", rank, v->n_merges);
    if (len > UINT32_MAX - 1)
        return vkmm_fail(err, VKMM_ERR_INVALID_ARG, "merge %u is too long", rank);
    char *s = pool_copy(v, text, len);
    if (!s)
        return vkmm_fail(err, VKMM_ERR_HOST_MEMORY, "out of memory for merge %u", rank);
    v->merges[rank].s = s;
    v->merges[rank].len = (uint32_t)len;
    return VKMM_OK;
}

vkmm_status vkmm_vocab_set_string(vkmm_vocab *v, char **field, const char *text, vkmm_error *err)
{
    if (!text) {
        *field = NULL;
        return VKMM_OK;
    }
    char *s = pool_copy(v, text, strlen(text));
    if (!s)
        return vkmm_fail(err, VKMM_ERR_HOST_MEMORY, "out of memory");
    *field = s;
    return VKMM_OK;
}

int32_t vkmm_vocab_type(const vkmm_vocab *v, int64_t id)
{
    if (id < 0 || id >= (int64_t)v->n_tokens)
        return VKMM_TOKEN_UNDEFINED;
    return v->types ? v->types[id] : VKMM_TOKEN_NORMAL;
}

vkmm_status vkmm_vocab_validate(const vkmm_vocab *v, const char *name, vkmm_error *err)
{
    if (!name)
        name = "vocabulary";
    if (!v->model || !v->model[0])
        return vkmm_fail(err, VKMM_ERR_FORMAT, "%s: no tokenizer model (tokenizer.ggml.model)", name);
    if (v->n_tokens == 0 || !v->tokens)
        return vkmm_fail(err, VKMM_ERR_FORMAT, "%s: no tokens (tokenizer.ggml.tokens)", name);
    if (v->n_tokens > INT32_MAX)
        return vkmm_fail(err, VKMM_ERR_FORMAT, "%s: %u tokens is more than token ids can address", name, v->n_tokens);
    const struct {
        const char *key;
        int64_t id;
    } ids[] = {{"bos_token_id", v->bos_id}, {"eos_token_id", v->eos_id}, {"unknown_token_id", v->unk_id},
               {"padding_token_id", v->pad_id}};
    for (size_t i = 0; i < sizeof ids / sizeof ids[0]; i++)
        if (ids[i].id < -1 || ids[i].id >= (int64_t)v->n_tokens)
            return vkmm_fail(err, VKMM_ERR_FORMAT, "%s: tokenizer.ggml.%s = %lld is outside the vocabulary of %u", name,
                             ids[i].key, (long long)ids[i].id, v->n_tokens);
    if (v->types)
        for (uint32_t i = 0; i < v->n_tokens; i++)
            if (v->types[i] < VKMM_TOKEN_UNDEFINED || v->types[i] > VKMM_TOKEN_BYTE)
                return vkmm_fail(err, VKMM_ERR_FORMAT, "%s: token %u has unknown type %d", name, i, v->types[i]);
    if (v->scores)
        for (uint32_t i = 0; i < v->n_tokens; i++)
            if (v->scores[i] != v->scores[i])
                return vkmm_fail(err, VKMM_ERR_FORMAT, "%s: token %u has a NaN score", name, i);
    for (uint32_t i = 0; i < v->n_tokens; i++)
        if (!v->tokens[i].s)
            return vkmm_fail(err, VKMM_ERR_FORMAT, "%s: token %u has no text", name, i);
    return VKMM_OK;
}
