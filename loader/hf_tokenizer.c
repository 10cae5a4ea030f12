/* loader/hf_tokenizer.c — Hugging Face tokenizer.json (+ tokenizer_config.json) to a GGUF-shaped vocabulary:
 * token texts, types and scores as llama.cpp's converter would write them, ids as Hugging Face assigns them. */
#include "hf_tokenizer.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tokenizer_internal.h"

#define TEKKEN_PATTERN                                                                                          \
    "[^\\r\\n\\p{L}\\p{N}]?[\\p{Lu}\\p{Lt}\\p{Lm}\\p{Lo}\\p{M}]*[\\p{Ll}\\p{Lm}\\p{Lo}\\p{M}]+|[^\\r\\n\\p{L}\\p{N}]?" \
    "[\\p{Lu}\\p{Lt}\\p{Lm}\\p{Lo}\\p{M}]+[\\p{Ll}\\p{Lm}\\p{Lo}\\p{M}]*|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n/]*|"    \
    "\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+"
#define LLAMA3_PATTERN                                                                                          \
    "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|"       \
    "\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+"
#define GPT2_PATTERN "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+"

static const char *str_or_content(const vkmm_json *v)
{
    if (!v)
        return NULL;
    if (v->type == VKMM_JSON_STRING)
        return v->u.str.s;
    return vkmm_json_string(vkmm_json_get(v, "content"), NULL);
}

static bool str_is(const vkmm_json *v, const char *s)
{
    size_t n;
    const char *t = vkmm_json_string(v, &n);
    return t && n == strlen(s) && !memcmp(t, s, n);
}

/* Finds a component of the given "type" in a normalizer / pre-tokenizer / decoder, looking into Sequences. */
static const vkmm_json *find_component(const vkmm_json *c, const char *type, int depth)
{
    if (!c || depth > 8)
        return NULL;
    if (c->type == VKMM_JSON_OBJECT) {
        if (str_is(vkmm_json_get(c, "type"), type))
            return c;
        static const char *lists[] = {"normalizers", "pretokenizers", "decoders", "processors"};
        for (size_t i = 0; i < 4; i++) {
            const vkmm_json *r = find_component(vkmm_json_get(c, lists[i]), type, depth + 1);
            if (r)
                return r;
        }
    } else if (c->type == VKMM_JSON_ARRAY) {
        for (size_t i = 0; i < c->u.arr.n; i++) {
            const vkmm_json *r = find_component(&c->u.arr.items[i], type, depth + 1);
            if (r)
                return r;
        }
    }
    return NULL;
}

typedef struct slot {
    const char *text;
    size_t len;
    int32_t type;
} slot;

static vkmm_status collect_tokens(const vkmm_json *model, const vkmm_json *added, const char *name, slot **out,
                                  uint32_t *n_out, vkmm_error *err)
{
    const vkmm_json *vocab = vkmm_json_get(model, "vocab");
    if (!vocab || vocab->type != VKMM_JSON_OBJECT)
        return vkmm_fail(err, VKMM_ERR_FORMAT, "%s: model.vocab is missing or not an object", name);
    int64_t max_id = -1;
    for (size_t i = 0; i < vocab->u.obj.n; i++) {
        int64_t id;
        const vkmm_json *v = &vocab->u.obj.members[i].value;
        if (!vkmm_json_int(v, &id) || id < 0 || id >= INT32_MAX)
            return vkmm_fail(err, VKMM_ERR_FORMAT, "%s:%u:%u: model.vocab entry '%.40s' has an invalid id", name,
                             v->line, v->col, vocab->u.obj.members[i].key);
        if (id > max_id)
            max_id = id;
    }
    size_t n_added = added && added->type == VKMM_JSON_ARRAY ? added->u.arr.n : 0;
    for (size_t i = 0; i < n_added; i++) {
        const vkmm_json *a = &added->u.arr.items[i];
        int64_t id;
        if (!vkmm_json_int(vkmm_json_get(a, "id"), &id) || id < 0 || id >= INT32_MAX ||
            !vkmm_json_string(vkmm_json_get(a, "content"), NULL))
            return vkmm_fail(err, VKMM_ERR_FORMAT, "%s:%u:%u: added token without a valid id and content", name,
                             a->line, a->col);
        if (id > max_id)
            max_id = id;
    }
    if (max_id < 0)
        return vkmm_fail(err, VKMM_ERR_FORMAT, "%s: the vocabulary is empty", name);
    uint32_t n = (uint32_t)max_id + 1;
    slot *s = calloc(n, sizeof *s);
    if (!s)
        return vkmm_fail(err, VKMM_ERR_HOST_MEMORY, "%s: out of memory for %u tokens", name, n);
    for (size_t i = 0; i < vocab->u.obj.n; i++) {
        const vkmm_json_member *m = &vocab->u.obj.members[i];
        int64_t id;
        vkmm_json_int(&m->value, &id);
        s[id] = (slot){.text = m->key, .len = m->key_len, .type = VKMM_TOKEN_NORMAL};
    }
    for (size_t i = 0; i < n_added; i++) {
        const vkmm_json *a = &added->u.arr.items[i];
        int64_t id;
        vkmm_json_int(vkmm_json_get(a, "id"), &id);
        bool special = false;
        vkmm_json_bool(vkmm_json_get(a, "special"), &special);
        const vkmm_json *c = vkmm_json_get(a, "content");
        s[id] = (slot){.text = c->u.str.s, .len = c->u.str.len,
                       .type = special ? VKMM_TOKEN_CONTROL : VKMM_TOKEN_USER_DEFINED};
    }
    *out = s;
    *n_out = n;
    return VKMM_OK;
}

static bool is_byte_piece(const char *s, size_t n)
{
    static const char hex[] = "0123456789ABCDEF";
    return n == 6 && !memcmp(s, "<0x", 3) && s[5] == '>' && memchr(hex, s[3], 16) && memchr(hex, s[4], 16) &&
           s[3] && s[4];
}

/* Reads merge r as (a, b): "a b" strings or ["a", "b"] pairs. */
static bool merge_parts(const vkmm_json *m, const char **a, size_t *la, const char **b, size_t *lb)
{
    if (m->type == VKMM_JSON_ARRAY && m->u.arr.n == 2 && m->u.arr.items[0].type == VKMM_JSON_STRING &&
        m->u.arr.items[1].type == VKMM_JSON_STRING) {
        *a = m->u.arr.items[0].u.str.s;
        *la = m->u.arr.items[0].u.str.len;
        *b = m->u.arr.items[1].u.str.s;
        *lb = m->u.arr.items[1].u.str.len;
        return true;
    }
    if (m->type == VKMM_JSON_STRING && m->u.str.len > 1) {
        const char *sp = memchr(m->u.str.s + 1, ' ', m->u.str.len - 1);
        if (!sp)
            return false;
        *a = m->u.str.s;
        *la = (size_t)(sp - m->u.str.s);
        *b = sp + 1;
        *lb = m->u.str.len - *la - 1;
        return true;
    }
    return false;
}

static int32_t id_of(const vkmm_text_map *map, const char *text)
{
    return text ? vkmm_text_map_get(map, text, strlen(text)) : -1;
}

/* SentencePiece-style scores from merge ranks; see hf_tokenizer.h. */
static vkmm_status derive_scores(vkmm_vocab *v, const vkmm_json *merges, const vkmm_text_map *map,
                                 const char *name, vkmm_error *err)
{
    uint32_t n_merges = merges && merges->type == VKMM_JSON_ARRAY ? (uint32_t)merges->u.arr.n : 0;
    uint32_t *first = malloc((size_t)v->n_tokens * sizeof *first);
    char *joined = NULL;
    size_t cap = 0;
    if (!first)
        return vkmm_fail(err, VKMM_ERR_HOST_MEMORY, "%s: out of memory", name);
    for (uint32_t i = 0; i < v->n_tokens; i++)
        first[i] = UINT32_MAX;
    for (uint32_t r = 0; r < n_merges; r++) {
        const char *a, *b;
        size_t la, lb;
        if (!merge_parts(&merges->u.arr.items[r], &a, &la, &b, &lb)) {
            free(first);
            free(joined);
            return vkmm_fail(err, VKMM_ERR_FORMAT, "%s:%u:%u: merge %u is not \"a b\" or [a, b]", name,
                             merges->u.arr.items[r].line, merges->u.arr.items[r].col, r);
        }
        if (la + lb > cap) {
            cap = 2 * (la + lb);
            char *nj = realloc(joined, cap);
            if (!nj) {
                free(first);
                free(joined);
                return vkmm_fail(err, VKMM_ERR_HOST_MEMORY, "%s: out of memory", name);
            }
            joined = nj;
        }
        memcpy(joined, a, la);
        memcpy(joined + la, b, lb);
        int32_t id = vkmm_text_map_get(map, joined, la + lb);
        if (id >= 0 && first[id] == UINT32_MAX)
            first[id] = r;
    }
    for (uint32_t i = 0; i < v->n_tokens; i++) {
        if (first[i] != UINT32_MAX)
            v->scores[i] = -(float)first[i];
        else if (v->types[i] == VKMM_TOKEN_NORMAL)
            v->scores[i] = -(float)(n_merges + i); /* no merge makes it: below every merged piece */
        else
            v->scores[i] = 0.0f;
    }
    free(first);
    free(joined);
    return VKMM_OK;
}

static vkmm_status copy_merges(vkmm_vocab *v, const vkmm_json *merges, const char *name, vkmm_error *err)
{
    if (!merges || merges->type != VKMM_JSON_ARRAY)
        return VKMM_OK;
    char *buf = NULL;
    size_t cap = 0;
    for (uint32_t r = 0; r < v->n_merges; r++) {
        const char *a, *b;
        size_t la, lb;
        if (!merge_parts(&merges->u.arr.items[r], &a, &la, &b, &lb)) {
            free(buf);
            return vkmm_fail(err, VKMM_ERR_FORMAT, "%s: merge %u is not \"a b\" or [a, b]", name, r);
        }
        if (la + lb + 1 > cap) {
            cap = 2 * (la + lb + 1);
            char *nb = realloc(buf, cap);
            if (!nb) {
                free(buf);
                return vkmm_fail(err, VKMM_ERR_HOST_MEMORY, "%s: out of memory", name);
            }
            buf = nb;
        }
        memcpy(buf, a, la);
        buf[la] = ' ';
        memcpy(buf + la + 1, b, lb);
        vkmm_status s = vkmm_vocab_set_merge(v, r, buf, la + lb + 1, err);
        if (s) {
            free(buf);
            return s;
        }
    }
    free(buf);
    return VKMM_OK;
}

static const char *pre_from_pattern(const vkmm_json *pre_tok)
{
    const vkmm_json *split = find_component(pre_tok, "Split", 0);
    const char *pattern = split ? vkmm_json_string(vkmm_json_get(vkmm_json_get(split, "pattern"), "Regex"), NULL)
                                : NULL;
    if (!pattern) {
        const vkmm_json *bl = find_component(pre_tok, "ByteLevel", 0);
        bool use_regex = true;
        vkmm_json_bool(vkmm_json_get(bl, "use_regex"), &use_regex);
        return bl && use_regex ? "gpt-2" : NULL;
    }
    if (!strcmp(pattern, TEKKEN_PATTERN))
        return "tekken";
    if (!strcmp(pattern, LLAMA3_PATTERN))
        return "llama-bpe";
    if (!strcmp(pattern, GPT2_PATTERN))
        return "gpt-2";
    return NULL;
}

vkmm_status vkmm_vocab_from_hf_json(vkmm_vocab *out, const vkmm_json *root, const vkmm_json *config,
                                    const char *name, vkmm_error *err)
{
    if (!name)
        name = "tokenizer.json";
    if (!root || root->type != VKMM_JSON_OBJECT)
        return vkmm_fail(err, VKMM_ERR_FORMAT, "%s: not a JSON object", name);
    const vkmm_json *model = vkmm_json_get(root, "model");
    if (!model || model->type != VKMM_JSON_OBJECT)
        return vkmm_fail(err, VKMM_ERR_FORMAT, "%s: no \"model\" object", name);
    const vkmm_json *mtype = vkmm_json_get(model, "type");
    if (mtype && !str_is(mtype, "BPE"))
        return vkmm_fail(err, VKMM_ERR_UNSUPPORTED, "%s: model type '%s' is not supported (vkmm reads BPE)", name,
                         vkmm_json_string(mtype, NULL) ? vkmm_json_string(mtype, NULL) : "?");
    const vkmm_json *pre_tok = vkmm_json_get(root, "pre_tokenizer"), *norm = vkmm_json_get(root, "normalizer");
    const vkmm_json *decoder = vkmm_json_get(root, "decoder"), *merges = vkmm_json_get(model, "merges");
    bool byte_level = find_component(pre_tok, "ByteLevel", 0) || find_component(decoder, "ByteLevel", 0);
    bool byte_fallback = false;
    vkmm_json_bool(vkmm_json_get(model, "byte_fallback"), &byte_fallback);
    if (merges && merges->type != VKMM_JSON_ARRAY)
        return vkmm_fail(err, VKMM_ERR_FORMAT, "%s: model.merges is not an array", name);
    if (merges && merges->u.arr.n > UINT32_MAX / 2)
        return vkmm_fail(err, VKMM_ERR_FORMAT, "%s: too many merges", name);

    slot *slots = NULL;
    uint32_t n = 0;
    vkmm_status s = collect_tokens(model, vkmm_json_get(root, "added_tokens"), name, &slots, &n, err);
    if (s)
        return s;
    vkmm_vocab_init(out);
    vkmm_text_map map = {0};
    const char *unk_text = vkmm_json_string(vkmm_json_get(model, "unk_token"), NULL);
    uint32_t n_merges = byte_level && merges ? (uint32_t)merges->u.arr.n : 0;
    if ((s = vkmm_vocab_reserve(out, n, !byte_level, true, n_merges, err)))
        goto fail;
    for (uint32_t id = 0; id < n; id++) {
        char pad[32];
        const char *text = slots[id].text;
        size_t len = slots[id].len;
        int32_t type = slots[id].type;
        if (!text) { /* an id nothing names: a padding slot, as llama.cpp fills them */
            len = (size_t)snprintf(pad, sizeof pad, "[PAD%u]", id);
            text = pad;
            type = VKMM_TOKEN_UNUSED;
        } else if (unk_text && type != VKMM_TOKEN_USER_DEFINED && !strcmp(text, unk_text)) {
            type = VKMM_TOKEN_UNKNOWN;
        } else if (!byte_level && byte_fallback && type == VKMM_TOKEN_NORMAL && is_byte_piece(text, len)) {
            type = VKMM_TOKEN_BYTE;
        }
        if ((s = vkmm_vocab_set_token(out, id, text, len, 0.0f, type, err)))
            goto fail;
    }
    if ((s = vkmm_text_map_build(&map, out, NULL, err)))
        goto fail;
    if (byte_level) {
        const char *pre = pre_from_pattern(pre_tok);
        if (!pre) {
            s = vkmm_fail(err, VKMM_ERR_UNSUPPORTED,
                          "%s: byte-level pre-tokenizer pattern not recognised (vkmm knows Tekken, Llama 3, GPT-2)",
                          name);
            goto fail;
        }
        if ((s = vkmm_vocab_set_string(out, &out->model, "gpt2", err)) ||
            (s = vkmm_vocab_set_string(out, &out->pre, pre, err)) || (s = copy_merges(out, merges, name, err)))
            goto fail;
    } else {
        if ((s = vkmm_vocab_set_string(out, &out->model, "llama", err)) ||
            (s = vkmm_vocab_set_string(out, &out->pre, "default", err)) ||
            (s = derive_scores(out, merges, &map, name, err)))
            goto fail;
        const vkmm_json *prepend = find_component(norm, "Prepend", 0);
        const vkmm_json *meta = find_component(pre_tok, "Metaspace", 0);
        bool prefix = prepend != NULL;
        if (meta) {
            bool aps = false;
            vkmm_json_bool(vkmm_json_get(meta, "add_prefix_space"), &aps);
            const char *scheme = vkmm_json_string(vkmm_json_get(meta, "prepend_scheme"), NULL);
            prefix |= aps || (scheme && strcmp(scheme, "never"));
        }
        out->add_space_prefix = prefix ? VKMM_FLAG_TRUE : VKMM_FLAG_FALSE;
    }
    /* what the fast tokenizer adds around a single sequence */
    const vkmm_json *tp = find_component(vkmm_json_get(root, "post_processor"), "TemplateProcessing", 0);
    const vkmm_json *single = vkmm_json_get(tp, "single");
    if (single && single->type == VKMM_JSON_ARRAY) {
        out->add_bos = VKMM_FLAG_FALSE;
        out->add_eos = VKMM_FLAG_FALSE;
        for (size_t i = 0; i < single->u.arr.n; i++) {
            const char *sp = vkmm_json_string(vkmm_json_get(vkmm_json_get(&single->u.arr.items[i], "SpecialToken"), "id"), NULL);
            if (!sp)
                continue;
            int32_t id = id_of(&map, sp);
            if (i == 0) {
                out->add_bos = VKMM_FLAG_TRUE;
                out->bos_id = id;
            } else {
                out->add_eos = VKMM_FLAG_TRUE;
                out->eos_id = id;
            }
        }
    }
    if (config) {
        int32_t id;
        bool b;
        if ((id = id_of(&map, str_or_content(vkmm_json_get(config, "bos_token")))) >= 0)
            out->bos_id = id;
        if ((id = id_of(&map, str_or_content(vkmm_json_get(config, "eos_token")))) >= 0)
            out->eos_id = id;
        if ((id = id_of(&map, str_or_content(vkmm_json_get(config, "pad_token")))) >= 0)
            out->pad_id = id;
        if ((id = id_of(&map, str_or_content(vkmm_json_get(config, "unk_token")))) >= 0)
            out->unk_id = id;
        if (out->add_bos == VKMM_FLAG_UNSET && vkmm_json_bool(vkmm_json_get(config, "add_bos_token"), &b))
            out->add_bos = b ? VKMM_FLAG_TRUE : VKMM_FLAG_FALSE;
        if (out->add_eos == VKMM_FLAG_UNSET && vkmm_json_bool(vkmm_json_get(config, "add_eos_token"), &b))
            out->add_eos = b ? VKMM_FLAG_TRUE : VKMM_FLAG_FALSE;
        const vkmm_json *ct = vkmm_json_get(config, "chat_template");
        const char *tmpl = vkmm_json_string(ct, NULL);
        for (size_t i = 0; !tmpl && ct && ct->type == VKMM_JSON_ARRAY && i < ct->u.arr.n; i++)
            if (str_is(vkmm_json_get(&ct->u.arr.items[i], "name"), "default"))
                tmpl = vkmm_json_string(vkmm_json_get(&ct->u.arr.items[i], "template"), NULL);
        if (tmpl && (s = vkmm_vocab_set_string(out, &out->chat_template, tmpl, err)))
            goto fail;
    }
    if (out->unk_id < 0 && unk_text)
        out->unk_id = id_of(&map, unk_text);
    static const char *eos_names[] = {"<eos>", "</s>", "<|endoftext|>"};
    for (size_t i = 0; out->eos_id < 0 && i < 3; i++)
        out->eos_id = id_of(&map, eos_names[i]);
    if (out->pad_id < 0)
        out->pad_id = id_of(&map, "<pad>");
    if ((s = vkmm_vocab_validate(out, name, err)))
        goto fail;
    vkmm_text_map_free(&map);
    free(slots);
    return VKMM_OK;
fail:
    vkmm_text_map_free(&map);
    free(slots);
    vkmm_vocab_free(out);
    return s;
}

vkmm_status vkmm_vocab_from_hf_file(vkmm_vocab *out, const char *tokenizer_path, const char *config_path,
                                    vkmm_error *err)
{
    vkmm_json_doc *tok = NULL;
    vkmm_status s = vkmm_json_parse_file(tokenizer_path, NULL, &tok, err);
    if (s)
        return s;
    s = vkmm_vocab_from_hf_parsed(out, vkmm_json_root(tok), tokenizer_path, config_path, err);
    vkmm_json_free(tok);
    return s;
}

vkmm_status vkmm_vocab_from_hf_parsed(vkmm_vocab *out, const vkmm_json *tok, const char *tokenizer_path,
                                      const char *config_path, vkmm_error *err)
{
    vkmm_json_doc *cfg = NULL;
    vkmm_status s;
    char beside[4096];
    if (!config_path) {
        const char *slash = strrchr(tokenizer_path, '/');
        size_t dir = slash ? (size_t)(slash - tokenizer_path + 1) : 0;
        if (dir + sizeof "tokenizer_config.json" <= sizeof beside) {
            memcpy(beside, tokenizer_path, dir);
            memcpy(beside + dir, "tokenizer_config.json", sizeof "tokenizer_config.json");
            FILE *f = fopen(beside, "rb");
            if (f) {
                fclose(f);
                config_path = beside;
            }
        }
    }
    if (config_path && (s = vkmm_json_parse_file(config_path, NULL, &cfg, err)))
        return s;
    s = vkmm_vocab_from_hf_json(out, tok, cfg ? vkmm_json_root(cfg) : NULL, tokenizer_path, err);
    vkmm_json_free(cfg);
    return s;
}

vkmm_status vkmm_vocab_gemma4_from_hf_file(vkmm_vocab *out, const char *tokenizer_path, uint32_t n_tokens,
                                           vkmm_error *err)
{
    vkmm_json_doc *doc = NULL;
    vkmm_status s = vkmm_json_parse_file(tokenizer_path, NULL, &doc, err);
    if (s)
        return s;
    vkmm_vocab sp;
    vkmm_vocab_init(out);
    s = vkmm_vocab_from_hf_parsed(&sp, vkmm_json_root(doc), tokenizer_path, NULL, err);
    if (s) {
        vkmm_json_free(doc);
        return s;
    }
    const vkmm_json *merges = vkmm_json_get(vkmm_json_get(vkmm_json_root(doc), "model"), "merges");
    uint32_t n_merges = merges && merges->type == VKMM_JSON_ARRAY ? (uint32_t)merges->u.arr.n : 0;
    if (strcmp(sp.model, "llama") || !n_merges)
        s = vkmm_fail(err, VKMM_ERR_UNSUPPORTED, "%s: not a SentencePiece-style BPE tokenizer with merges",
                      tokenizer_path);
    uint32_t n = n_tokens ? n_tokens : sp.n_tokens;
    if (!s)
        s = vkmm_vocab_reserve(out, n, false, true, n_merges, err);
    for (uint32_t i = 0; i < n && !s; i++) {
        char pad[32];
        int len = snprintf(pad, sizeof pad, "[PAD%u]", i); /* as llama.cpp fills ids nothing names */
        s = i < sp.n_tokens ? vkmm_vocab_set_token(out, i, sp.tokens[i].s, sp.tokens[i].len, 0.0f,
                                                   vkmm_vocab_type(&sp, i), err)
                            : vkmm_vocab_set_token(out, i, pad, (size_t)len, 0.0f, VKMM_TOKEN_UNUSED, err);
    }
    if (!s) s = copy_merges(out, merges, tokenizer_path, err);
    if (!s) s = vkmm_vocab_set_string(out, &out->model, "gemma4", err);
    if (!s) s = vkmm_vocab_set_string(out, &out->pre, "gemma4", err);
    if (!s && sp.chat_template) s = vkmm_vocab_set_string(out, &out->chat_template, sp.chat_template, err);
    out->bos_id = sp.bos_id < n ? sp.bos_id : -1;
    out->eos_id = sp.eos_id < n ? sp.eos_id : -1;
    out->unk_id = sp.unk_id < n ? sp.unk_id : -1;
    out->pad_id = sp.pad_id < n ? sp.pad_id : -1;
    out->add_bos = sp.add_bos;
    out->add_eos = sp.add_eos;
    vkmm_vocab_free(&sp);
    vkmm_json_free(doc);
    if (!s)
        s = vkmm_vocab_validate(out, tokenizer_path, err);
    if (s)
        vkmm_vocab_free(out);
    return s;
}
