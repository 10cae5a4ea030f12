/* loader/vocab_gguf.c — GGUF <-> vkmm_vocab: tokens, scores, token types, merges, special ids, flags, template. */
#include <stdlib.h>
#include <string.h>

#include "vocab_gguf.h"

static vkmm_status get_flag(const vkmm_gguf *g, const char *key, vkmm_vocab_flag *out, vkmm_error *err)
{
    bool b;
    if (!vkmm_gguf_find(g, key))
        return VKMM_OK;
    if (!vkmm_gguf_get_bool(g, key, &b))
        return vkmm_fail(err, VKMM_ERR_FORMAT, "%s: %s is not a boolean", vkmm_gguf_path(g), key);
    *out = b ? VKMM_FLAG_TRUE : VKMM_FLAG_FALSE;
    return VKMM_OK;
}

static vkmm_status get_id(const vkmm_gguf *g, const char *key, int64_t *out, vkmm_error *err)
{
    int64_t v;
    if (!vkmm_gguf_find(g, key))
        return VKMM_OK;
    if (!vkmm_gguf_get_i64(g, key, &v))
        return vkmm_fail(err, VKMM_ERR_FORMAT, "%s: %s is not an integer", vkmm_gguf_path(g), key);
    *out = v;
    return VKMM_OK;
}

static vkmm_status copy_string(vkmm_vocab *v, const vkmm_gguf *g, const char *key, char **field, vkmm_error *err)
{
    if (!vkmm_gguf_find(g, key))
        return VKMM_OK;
    char *s = vkmm_gguf_get_strdup(g, key);
    if (!s)
        return vkmm_fail(err, VKMM_ERR_FORMAT, "%s: %s is not a string", vkmm_gguf_path(g), key);
    vkmm_status st = vkmm_vocab_set_string(v, field, s, err);
    free(s);
    return st;
}

vkmm_status vkmm_vocab_from_gguf(vkmm_vocab *v, const vkmm_gguf *g, vkmm_error *err)
{
    const char *path = vkmm_gguf_path(g);
    vkmm_vocab_init(v);
    const vkmm_gguf_value *tokens = vkmm_gguf_get_array(g, "tokenizer.ggml.tokens", VKMM_GGUF_STRING);
    if (!tokens)
        return vkmm_fail(err, VKMM_ERR_FORMAT, "%s: no tokenizer (tokenizer.ggml.tokens missing or not strings)",
                         path);
    if (tokens->count == 0 || tokens->count > (1u << 24))
        return vkmm_fail(err, VKMM_ERR_FORMAT, "%s: tokenizer.ggml.tokens has %llu entries", path,
                         (unsigned long long)tokens->count);
    uint32_t n = (uint32_t)tokens->count;
    const vkmm_gguf_value *scores = vkmm_gguf_get_array(g, "tokenizer.ggml.scores", VKMM_GGUF_TYPE_COUNT);
    const vkmm_gguf_value *types = vkmm_gguf_get_array(g, "tokenizer.ggml.token_type", VKMM_GGUF_TYPE_COUNT);
    const vkmm_gguf_value *merges = vkmm_gguf_get_array(g, "tokenizer.ggml.merges", VKMM_GGUF_STRING);
    if (scores && scores->count != n)
        return vkmm_fail(err, VKMM_ERR_FORMAT, "%s: tokenizer.ggml.scores has %llu entries for %u tokens", path,
                         (unsigned long long)scores->count, n);
    if (types && types->count != n)
        return vkmm_fail(err, VKMM_ERR_FORMAT, "%s: tokenizer.ggml.token_type has %llu entries for %u tokens", path,
                         (unsigned long long)types->count, n);
    if (merges && merges->count > (1u << 24))
        return vkmm_fail(err, VKMM_ERR_FORMAT, "%s: too many merges", path);
    vkmm_status s = vkmm_vocab_reserve(v, n, scores != NULL, types != NULL, merges ? (uint32_t)merges->count : 0, err);
    for (uint32_t i = 0; i < n && !s; i++) {
        vkmm_gguf_value e;
        const char *str;
        uint64_t len;
        double score = 0;
        int64_t type = VKMM_TOKEN_NORMAL;
        if (!vkmm_gguf_array_elem(tokens, i, &e) || !vkmm_gguf_value_str(&e, &str, &len) || len > (1u << 20))
            return vkmm_fail(err, VKMM_ERR_FORMAT, "%s: token %u is not a usable string", path, i);
        if (scores && (!vkmm_gguf_array_elem(scores, i, &e) || !vkmm_gguf_value_f64(&e, &score)))
            return vkmm_fail(err, VKMM_ERR_FORMAT, "%s: score %u is not a number", path, i);
        if (types && (!vkmm_gguf_array_elem(types, i, &e) || !vkmm_gguf_value_i64(&e, &type)))
            return vkmm_fail(err, VKMM_ERR_FORMAT, "%s: token type %u is not an integer", path, i);
        s = vkmm_vocab_set_token(v, i, str, (size_t)len, (float)score, (int32_t)type, err);
    }
    for (uint32_t i = 0; merges && i < merges->count && !s; i++) {
        vkmm_gguf_value e;
        const char *str;
        uint64_t len;
        if (!vkmm_gguf_array_elem(merges, i, &e) || !vkmm_gguf_value_str(&e, &str, &len) || len > (1u << 20))
            return vkmm_fail(err, VKMM_ERR_FORMAT, "%s: merge %u is not a usable string", path, i);
        s = vkmm_vocab_set_merge(v, i, str, (size_t)len, err);
    }
    if (!s) s = copy_string(v, g, "tokenizer.ggml.model", &v->model, err);
    if (!s) s = copy_string(v, g, "tokenizer.ggml.pre", &v->pre, err);
    if (!s) s = copy_string(v, g, "tokenizer.chat_template", &v->chat_template, err);
    if (!s) s = get_id(g, "tokenizer.ggml.bos_token_id", &v->bos_id, err);
    if (!s) s = get_id(g, "tokenizer.ggml.eos_token_id", &v->eos_id, err);
    if (!s) s = get_id(g, "tokenizer.ggml.unknown_token_id", &v->unk_id, err);
    if (!s) s = get_id(g, "tokenizer.ggml.padding_token_id", &v->pad_id, err);
    if (!s) s = get_flag(g, "tokenizer.ggml.add_bos_token", &v->add_bos, err);
    if (!s) s = get_flag(g, "tokenizer.ggml.add_eos_token", &v->add_eos, err);
    if (!s) s = get_flag(g, "tokenizer.ggml.add_space_prefix", &v->add_space_prefix, err);
    if (!s && !v->model)
        s = vkmm_fail(err, VKMM_ERR_FORMAT, "%s: tokenizer.ggml.model missing", path);
    if (!s)
        s = vkmm_vocab_validate(v, path, err);
    if (s)
        vkmm_vocab_free(v);
    return s;
}

vkmm_status vkmm_vocab_to_gguf(const vkmm_vocab *v, vkmm_gguf_writer *w)
{
    const char **strs = malloc(sizeof *strs * (v->n_tokens + v->n_merges + 1));
    size_t *lens = malloc(sizeof *lens * (v->n_tokens + v->n_merges + 1));
    if (!strs || !lens) {
        free(strs);
        free(lens);
        return VKMM_ERR_HOST_MEMORY;
    }
    vkmm_status s = vkmm_gguf_writer_add_str(w, "tokenizer.ggml.model", v->model ? v->model : "llama");
    if (!s && v->pre)
        s = vkmm_gguf_writer_add_str(w, "tokenizer.ggml.pre", v->pre);
    for (uint32_t i = 0; i < v->n_tokens; i++) {
        strs[i] = v->tokens[i].s;
        lens[i] = v->tokens[i].len;
    }
    if (!s)
        s = vkmm_gguf_writer_add_str_array(w, "tokenizer.ggml.tokens", strs, lens, v->n_tokens);
    if (!s && v->scores)
        s = vkmm_gguf_writer_add_array(w, "tokenizer.ggml.scores", VKMM_GGUF_F32, v->scores, v->n_tokens);
    if (!s && v->types)
        s = vkmm_gguf_writer_add_array(w, "tokenizer.ggml.token_type", VKMM_GGUF_I32, v->types, v->n_tokens);
    if (!s && v->n_merges) {
        for (uint32_t i = 0; i < v->n_merges; i++) {
            strs[i] = v->merges[i].s;
            lens[i] = v->merges[i].len;
        }
        s = vkmm_gguf_writer_add_str_array(w, "tokenizer.ggml.merges", strs, lens, v->n_merges);
    }
    free(strs);
    free(lens);
    static const char *const id_keys[4] = {"tokenizer.ggml.bos_token_id", "tokenizer.ggml.eos_token_id",
                                           "tokenizer.ggml.unknown_token_id", "tokenizer.ggml.padding_token_id"};
    const int64_t ids[4] = {v->bos_id, v->eos_id, v->unk_id, v->pad_id};
    for (int i = 0; i < 4 && !s; i++)
        if (ids[i] >= 0)
            s = vkmm_gguf_writer_add_u32(w, id_keys[i], (uint32_t)ids[i]);
    static const char *const flag_keys[3] = {"tokenizer.ggml.add_bos_token", "tokenizer.ggml.add_eos_token",
                                             "tokenizer.ggml.add_space_prefix"};
    const vkmm_vocab_flag flags[3] = {v->add_bos, v->add_eos, v->add_space_prefix};
    for (int i = 0; i < 3 && !s; i++)
        if (flags[i] != VKMM_FLAG_UNSET)
            s = vkmm_gguf_writer_add_bool(w, flag_keys[i], flags[i] == VKMM_FLAG_TRUE);
    if (!s && v->chat_template)
        s = vkmm_gguf_writer_add_str(w, "tokenizer.chat_template", v->chat_template);
    return s;
}
