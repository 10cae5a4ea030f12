/* runtime/engine/tokens.c — text to token ids and back, with a loaded model's tokenizer or with a tokenizer opened on
 * its own from a file (vkmm_text_tokenizer: no GPU, no weights; what `vkmm tokenize` uses). */
#include <stdlib.h>
#include <string.h>

#include "detokenize.h"
#include "engine.h"
#include "vocab_file.h"

struct vkmm_text_tokenizer {
    vkmm_vocab vocab;
    vkmm_tokenizer *tok;
};

static vkmm_status encode(const vkmm_tokenizer *tok, const char *text, size_t len, bool add_special,
                          bool parse_special, int32_t *ids, uint32_t max, uint32_t *n, vkmm_error *err)
{
    vkmm_tokens t = {0};
    unsigned flags = (add_special ? VKMM_TOKENIZE_ADD_SPECIAL : 0) | (parse_special ? VKMM_TOKENIZE_PARSE_SPECIAL : 0);
    vkmm_status s = vkmm_tokenize(tok, text, len, flags, &t, err);
    if (!s) {
        for (size_t i = 0; i < t.n && i < max; i++)
            ids[i] = t.ids[i];
        *n = (uint32_t)t.n;
    }
    vkmm_tokens_free(&t);
    return s;
}

/* Copies text into buf (at most size bytes, NUL-terminated when there is room and nul is asked for). */
static void copy_out(const vkmm_text *t, char *buf, size_t size, bool nul)
{
    size_t n = t->len;
    if (nul && size)
        n = n < size - 1 ? n : size - 1;
    else if (n > size)
        n = size;
    if (n)
        memcpy(buf, t->s, n);
    if (nul && size)
        buf[n] = 0;
}

static vkmm_status token_bytes(const vkmm_tokenizer *tok, int32_t id, char *buf, size_t size, size_t *len,
                               vkmm_error *err)
{
    uint32_t n_tokens = vkmm_tokenizer_vocab(tok)->n_tokens;
    if (id < 0 || (uint32_t)id >= n_tokens)
        return vkmm_fail(err, VKMM_ERR_INVALID_ARG, "token id %d is outside the vocabulary (%u)", id, n_tokens);
    vkmm_text t = {0};
    vkmm_status s = vkmm_token_bytes(tok, id, true, &t, err);
    if (!s) {
        copy_out(&t, buf, size, false);
        *len = t.len;
    }
    vkmm_text_free(&t);
    return s;
}

VKMM_API vkmm_status vkmm_model_tokenize(const vkmm_model *m, const char *text, bool add_special, bool parse_special,
                                         int32_t *ids, uint32_t max, uint32_t *n, vkmm_error *err)
{
    if (!m || !text || !n || (max && !ids))
        return vkmm_fail(err, VKMM_ERR_INVALID_ARG, "vkmm_model_tokenize needs a model, a text, ids and n");
    return encode(m->tok, text, strlen(text), add_special, parse_special, ids, max, n, err);
}

VKMM_API vkmm_status vkmm_model_token_bytes(const vkmm_model *m, int32_t id, char *buf, size_t size, size_t *len,
                                            vkmm_error *err)
{
    if (!m || !len || (size && !buf))
        return vkmm_fail(err, VKMM_ERR_INVALID_ARG, "vkmm_model_token_bytes needs a model, a buffer and len");
    return token_bytes(m->tok, id, buf, size, len, err);
}

VKMM_API vkmm_status vkmm_model_detokenize(const vkmm_model *m, const int32_t *ids, uint32_t n, char *buf,
                                          size_t size, size_t *len, vkmm_error *err)
{
    if (!m || !len || (n && !ids) || (size && !buf))
        return vkmm_fail(err, VKMM_ERR_INVALID_ARG, "vkmm_model_detokenize needs a model, the ids, a buffer and len");
    for (uint32_t i = 0; i < n; i++)
        if (ids[i] < 0 || (uint32_t)ids[i] >= m->vocab.n_tokens)
            return vkmm_fail(err, VKMM_ERR_INVALID_ARG, "token id %d is outside the vocabulary (%u)", ids[i],
                             m->vocab.n_tokens);
    vkmm_text t = {0};
    vkmm_status s = vkmm_detokenize(m->tok, ids, n, 0, &t, err);
    if (!s) {
        copy_out(&t, buf, size, true);
        *len = t.len;
    }
    vkmm_text_free(&t);
    return s;
}

VKMM_API vkmm_status vkmm_text_tokenizer_open(const char *path, const char *config, vkmm_text_tokenizer **out,
                                              vkmm_error *err)
{
    if (!out)
        return vkmm_fail(err, VKMM_ERR_INVALID_ARG, "vkmm_text_tokenizer_open needs somewhere to put the tokenizer");
    *out = NULL;
    if (!path)
        return vkmm_fail(err, VKMM_ERR_INVALID_ARG, "no tokenizer file given");
    vkmm_text_tokenizer *t = calloc(1, sizeof *t);
    if (!t)
        return vkmm_fail(err, VKMM_ERR_HOST_MEMORY, "out of host memory");
    vkmm_vocab_init(&t->vocab);
    vkmm_status s = vkmm_vocab_from_file(&t->vocab, path, config, err);
    if (!s)
        s = vkmm_tokenizer_create(&t->vocab, &t->tok, err);
    if (s) {
        vkmm_text_tokenizer_free(t);
        return s;
    }
    *out = t;
    return VKMM_OK;
}

VKMM_API void vkmm_text_tokenizer_free(vkmm_text_tokenizer *t)
{
    if (!t)
        return;
    vkmm_tokenizer_free(t->tok);
    vkmm_vocab_free(&t->vocab);
    free(t);
}

VKMM_API vkmm_status vkmm_text_tokenizer_encode(const vkmm_text_tokenizer *t, const char *text, size_t len,
                                                bool add_special, bool parse_special, int32_t *ids, uint32_t max,
                                                uint32_t *n, vkmm_error *err)
{
    if (!t || (len && !text) || !n || (max && !ids))
        return vkmm_fail(err, VKMM_ERR_INVALID_ARG, "vkmm_text_tokenizer_encode needs a tokenizer, a text, ids and n");
    return encode(t->tok, text ? text : "", len, add_special, parse_special, ids, max, n, err);
}

VKMM_API vkmm_status vkmm_text_tokenizer_token_bytes(const vkmm_text_tokenizer *t, int32_t id, char *buf, size_t size,
                                                     size_t *len, vkmm_error *err)
{
    if (!t || !len || (size && !buf))
        return vkmm_fail(err, VKMM_ERR_INVALID_ARG, "vkmm_text_tokenizer_token_bytes needs a tokenizer, a buffer and "
                         "len");
    return token_bytes(t->tok, id, buf, size, len, err);
}
