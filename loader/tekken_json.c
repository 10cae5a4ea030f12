/* loader/tekken_json.c — Mistral's tekken.json to the GGUF vocabulary llama.cpp writes for it: the special
 * tokens first (all CONTROL), then every byte-level token at id num_special + rank, written in the GPT-2 byte
 * alphabet, and merges derived from the ranks the way the Hugging Face converter derives them (every split
 * of a token into two tokens, ordered by the token's rank, then the parts' ranks). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hf_tokenizer.h"
#include "tokenizer_internal.h"
#include "unicode.h"

/* The v7 layout (Mistral Small 3.1) for files that do not list their special tokens. */
static const char *const v7_specials[] = {
    "<unk>",   "<s>",         "</s>",      "[INST]",   "[/INST]",  "[AVAILABLE_TOOLS]", "[/AVAILABLE_TOOLS]",
    "[TOOL_RESULTS]", "[/TOOL_RESULTS]", "[TOOL_CALLS]", "[IMG]", "<pad>", "[IMG_BREAK]", "[IMG_END]",
    "[PREFIX]", "[MIDDLE]", "[SUFFIX]", "[SYSTEM_PROMPT]", "[/SYSTEM_PROMPT]", "[TOOL_CONTENT]",
};

static int b64val(unsigned char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '+')
        return 62;
    if (c == '/')
        return 63;
    return -1;
}

/* Standard base64 with padding; returns the decoded length or -1. out needs len*3/4 bytes. */
static long b64decode(const char *s, size_t len, unsigned char *out)
{
    if (len == 0 || len % 4)
        return -1;
    size_t o = 0;
    for (size_t i = 0; i < len; i += 4) {
        int v[4];
        int pad = 0;
        for (int k = 0; k < 4; k++) {
            if (s[i + k] == '=' && i + 4 == len && k >= 2) {
                v[k] = 0;
                pad++;
            } else {
                if (pad)
                    return -1;
                v[k] = b64val((unsigned char)s[i + k]);
                if (v[k] < 0)
                    return -1;
            }
        }
        uint32_t w = (uint32_t)v[0] << 18 | (uint32_t)v[1] << 12 | (uint32_t)v[2] << 6 | (uint32_t)v[3];
        out[o++] = (unsigned char)(w >> 16);
        if (pad < 2)
            out[o++] = (unsigned char)(w >> 8);
        if (pad < 1)
            out[o++] = (unsigned char)w;
    }
    return (long)o;
}

typedef struct tk_builder {
    vkmm_vocab *v;
    const char *name;
    vkmm_error *err;
    uint32_t n_special, n_normal;
    unsigned char *bytes;
    char *mapped;
    size_t cap;
} tk_builder;

static vkmm_status set_rank(tk_builder *b, int64_t rank, const char *b64, size_t b64len)
{
    if (rank < 0)
        return vkmm_fail(b->err, VKMM_ERR_FORMAT, "%s: negative rank %lld", b->name, (long long)rank);
    if (rank >= b->n_normal)
        return VKMM_OK; /* beyond default_vocab_size: not part of the model */
    if (b64len / 4 * 3 > b->cap) {
        size_t cap = b64len / 4 * 3 * 2;
        unsigned char *nb = realloc(b->bytes, cap);
        char *nm = realloc(b->mapped, cap * 2);
        if (nb)
            b->bytes = nb;
        if (nm)
            b->mapped = nm;
        if (!nb || !nm)
            return vkmm_fail(b->err, VKMM_ERR_HOST_MEMORY, "%s: out of memory", b->name);
        b->cap = cap;
    }
    long n = b64decode(b64, b64len, b->bytes);
    if (n <= 0)
        return vkmm_fail(b->err, VKMM_ERR_FORMAT, "%s: rank %lld: token_bytes is not valid base64", b->name,
                         (long long)rank);
    uint32_t id = b->n_special + (uint32_t)rank;
    if (b->v->tokens[id].len)
        return vkmm_fail(b->err, VKMM_ERR_FORMAT, "%s: rank %lld appears twice", b->name, (long long)rank);
    size_t m = 0;
    for (long i = 0; i < n; i++)
        m += vkmm_utf8_encode(vkmm_byte_to_unicode(b->bytes[i]), b->mapped + m);
    return vkmm_vocab_set_token(b->v, id, b->mapped, m, 0.0f, VKMM_TOKEN_NORMAL, b->err);
}

/* "! offset tok tok ..." lines of base64 tokens, rank = offset + position (js-tiktoken's compact form). */
static vkmm_status read_compact(tk_builder *b, const char *s, size_t len)
{
    size_t i = 0;
    while (i < len) {
        size_t eol = i;
        while (eol < len && s[eol] != '\n')
            eol++;
        size_t p = i;
        if (eol > p && s[p] == '!') {
            p++;
            while (p < eol && s[p] == ' ')
                p++;
            int64_t off = 0;
            size_t digits = 0;
            while (p < eol && s[p] >= '0' && s[p] <= '9' && digits < 12) {
                off = off * 10 + (s[p++] - '0');
                digits++;
            }
            if (!digits)
                return vkmm_fail(b->err, VKMM_ERR_FORMAT, "%s: bpe_ranks line without an offset", b->name);
            for (int64_t rank = off;; rank++) {
                while (p < eol && s[p] == ' ')
                    p++;
                if (p >= eol)
                    break;
                size_t q = p;
                while (q < eol && s[q] != ' ')
                    q++;
                vkmm_status st = set_rank(b, rank, s + p, q - p);
                if (st)
                    return st;
                p = q;
            }
        } else if (eol > p) {
            return vkmm_fail(b->err, VKMM_ERR_FORMAT, "%s: bpe_ranks line does not start with '!'", b->name);
        }
        i = eol + 1;
    }
    return VKMM_OK;
}

static bool keep_normal(int32_t type)
{
    return type == VKMM_TOKEN_NORMAL;
}

typedef struct split {
    int32_t left, right;
    uint32_t cut;
} split;

static int split_cmp(const void *a, const void *b)
{
    const split *x = a, *y = b;
    if (x->left != y->left)
        return x->left < y->left ? -1 : 1;
    return x->right < y->right ? -1 : x->right > y->right;
}

/* Two passes over the tokens (count, then write) so the merge table is allocated once. */
static vkmm_status derive_merges(vkmm_vocab *v, uint32_t n_special, const char *name, vkmm_error *err)
{
    vkmm_text_map map;
    vkmm_status s = vkmm_text_map_build(&map, v, keep_normal, err);
    if (s)
        return s;
    split *sp = NULL;
    size_t sp_cap = 0;
    char *buf = NULL;
    size_t buf_cap = 0;
    uint32_t total = 0;
    for (int pass = 0; pass < 2 && !s; pass++) {
        uint32_t r = 0;
        if (pass == 1) {
            v->merges = calloc(total ? total : 1, sizeof *v->merges);
            if (!v->merges) {
                s = vkmm_fail(err, VKMM_ERR_HOST_MEMORY, "%s: out of memory for %u merges", name, total);
                break;
            }
            v->n_merges = total;
        }
        for (uint32_t id = n_special; id < v->n_tokens && !s; id++) {
            const vkmm_vocab_str *t = &v->tokens[id];
            size_t ns = 0;
            for (uint32_t cut = 0; cut < t->len;) {
                size_t l;
                vkmm_utf8_decode((const unsigned char *)t->s + cut, t->len - cut, &l);
                cut += (uint32_t)l;
                if (cut >= t->len)
                    break;
                int32_t a = vkmm_text_map_get(&map, t->s, cut), b = vkmm_text_map_get(&map, t->s + cut, t->len - cut);
                if (a < 0 || b < 0)
                    continue;
                if (ns == sp_cap) {
                    sp_cap = sp_cap ? 2 * sp_cap : 32;
                    split *n2 = realloc(sp, sp_cap * sizeof *sp);
                    if (!n2) {
                        s = vkmm_fail(err, VKMM_ERR_HOST_MEMORY, "%s: out of memory", name);
                        break;
                    }
                    sp = n2;
                }
                sp[ns++] = (split){a, b, cut};
            }
            if (pass == 0) {
                total += (uint32_t)ns;
                continue;
            }
            if (ns > 1)
                qsort(sp, ns, sizeof *sp, split_cmp);
            if (t->len + 1 > buf_cap) {
                buf_cap = 2 * (t->len + 1);
                char *nb = realloc(buf, buf_cap);
                if (!nb) {
                    s = vkmm_fail(err, VKMM_ERR_HOST_MEMORY, "%s: out of memory", name);
                    break;
                }
                buf = nb;
            }
            for (size_t k = 0; k < ns && !s; k++) {
                memcpy(buf, t->s, sp[k].cut);
                buf[sp[k].cut] = ' ';
                memcpy(buf + sp[k].cut + 1, t->s + sp[k].cut, t->len - sp[k].cut);
                s = vkmm_vocab_set_merge(v, r++, buf, t->len + 1, err);
            }
        }
    }
    free(sp);
    free(buf);
    vkmm_text_map_free(&map);
    return s;
}

vkmm_status vkmm_vocab_from_tekken_json(vkmm_vocab *out, const vkmm_json *root, const char *name, vkmm_error *err)
{
    if (!name)
        name = "tekken.json";
    vkmm_vocab_init(out);
    if (!root || root->type != VKMM_JSON_OBJECT)
        return vkmm_fail(err, VKMM_ERR_FORMAT, "%s: not a JSON object", name);
    const vkmm_json *config = vkmm_json_get(root, "config");
    int64_t vocab_size = 131072, n_special = 1000;
    if (config && vkmm_json_get(config, "default_vocab_size") &&
        !vkmm_json_int(vkmm_json_get(config, "default_vocab_size"), &vocab_size))
        return vkmm_fail(err, VKMM_ERR_FORMAT, "%s: config.default_vocab_size is not an integer", name);
    if (config && vkmm_json_get(config, "default_num_special_tokens") &&
        !vkmm_json_int(vkmm_json_get(config, "default_num_special_tokens"), &n_special))
        return vkmm_fail(err, VKMM_ERR_FORMAT, "%s: config.default_num_special_tokens is not an integer", name);
    if (n_special < 3 || vocab_size <= n_special || vocab_size > (1 << 24))
        return vkmm_fail(err, VKMM_ERR_FORMAT, "%s: %lld special tokens in a vocabulary of %lld make no sense",
                         name, (long long)n_special, (long long)vocab_size);
    const char *pattern = vkmm_json_string(vkmm_json_get(config, "pattern"), NULL);
    if (pattern && strcmp(pattern, "[^\\r\\n\\p{L}\\p{N}]?[\\p{Lu}\\p{Lt}\\p{Lm}\\p{Lo}\\p{M}]*[\\p{Ll}\\p{Lm}\\p{Lo}\\p{M}]+|"
                                   "[^\\r\\n\\p{L}\\p{N}]?[\\p{Lu}\\p{Lt}\\p{Lm}\\p{Lo}\\p{M}]+[\\p{Ll}\\p{Lm}\\p{Lo}\\p{M}]*|"
                                   "\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n/]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+"))
        return vkmm_fail(err, VKMM_ERR_UNSUPPORTED, "%s: config.pattern is not the Tekken pattern vkmm implements",
                         name);
    vkmm_status s = vkmm_vocab_reserve(out, (uint32_t)vocab_size, false, true, 0, err);
    if (s)
        return s;
    tk_builder b = {.v = out, .name = name, .err = err, .n_special = (uint32_t)n_special,
                    .n_normal = (uint32_t)(vocab_size - n_special)};
    /* special tokens: the file's list, else the v7 layout; fillers "<SPECIAL_n>" */
    const vkmm_json *specials = vkmm_json_get(root, "special_tokens");
    for (uint32_t id = 0; id < b.n_special && !s; id++) {
        char filler[32];
        snprintf(filler, sizeof filler, "<SPECIAL_%u>", id);
        const char *text = !specials && id < sizeof v7_specials / sizeof v7_specials[0] ? v7_specials[id] : filler;
        s = vkmm_vocab_set_token(out, id, text, strlen(text), 0.0f, VKMM_TOKEN_CONTROL, err);
    }
    if (!s && specials) {
        if (specials->type != VKMM_JSON_ARRAY)
            s = vkmm_fail(err, VKMM_ERR_FORMAT, "%s: special_tokens is not an array", name);
        for (size_t i = 0; !s && i < specials->u.arr.n; i++) {
            const vkmm_json *e = &specials->u.arr.items[i];
            int64_t rank;
            size_t len;
            const char *text = vkmm_json_string(vkmm_json_get(e, "token_str"), &len);
            if (!vkmm_json_int(vkmm_json_get(e, "rank"), &rank) || rank < 0 || rank >= n_special || !text || !len)
                s = vkmm_fail(err, VKMM_ERR_FORMAT, "%s:%u:%u: special token without a valid rank and token_str", name,
                              e->line, e->col);
            else
                s = vkmm_vocab_set_token(out, (uint32_t)rank, text, len, 0.0f, VKMM_TOKEN_CONTROL, err);
        }
    }
    const vkmm_json *vocab = vkmm_json_get(root, "vocab");
    const char *compact = vkmm_json_string(vkmm_json_get(root, "bpe_ranks"), NULL);
    if (!s && vocab && vocab->type == VKMM_JSON_ARRAY) {
        for (size_t i = 0; !s && i < vocab->u.arr.n; i++) {
            const vkmm_json *e = &vocab->u.arr.items[i];
            int64_t rank;
            size_t len;
            const char *b64 = vkmm_json_string(vkmm_json_get(e, "token_bytes"), &len);
            if (!vkmm_json_int(vkmm_json_get(e, "rank"), &rank) || !b64)
                s = vkmm_fail(err, VKMM_ERR_FORMAT, "%s:%u:%u: vocab entry without rank and token_bytes", name, e->line,
                              e->col);
            else
                s = set_rank(&b, rank, b64, len);
        }
    } else if (!s && compact) {
        s = read_compact(&b, compact, strlen(compact));
    } else if (!s) {
        s = vkmm_fail(err, VKMM_ERR_FORMAT, "%s: neither a \"vocab\" array nor \"bpe_ranks\"", name);
    }
    for (uint32_t r = 0; !s && r < b.n_normal; r++)
        if (!out->tokens[b.n_special + r].len)
            s = vkmm_fail(err, VKMM_ERR_FORMAT, "%s: rank %u is missing (the vocabulary needs %u ranks)", name, r,
                          b.n_normal);
    free(b.bytes);
    free(b.mapped);
    if (!s)
        s = derive_merges(out, b.n_special, name, err);
    if (!s)
        s = vkmm_vocab_set_string(out, &out->model, "gpt2", err);
    if (!s)
        s = vkmm_vocab_set_string(out, &out->pre, "tekken", err);
    if (s) {
        vkmm_vocab_free(out);
        return s;
    }
    out->unk_id = 0;
    out->bos_id = 1;
    out->eos_id = 2;
    for (uint32_t id = 0; id < b.n_special; id++)
        if (out->tokens[id].len == 5 && !memcmp(out->tokens[id].s, "<pad>", 5))
            out->pad_id = id;
    out->add_bos = VKMM_FLAG_TRUE;
    out->add_eos = VKMM_FLAG_FALSE;
    return vkmm_vocab_validate(out, name, err);
}

vkmm_status vkmm_vocab_from_tekken_file(vkmm_vocab *out, const char *path, vkmm_error *err)
{
    vkmm_json_doc *doc = NULL;
    vkmm_status s = vkmm_json_parse_file(path, NULL, &doc, err);
    if (s)
        return s;
    s = vkmm_vocab_from_tekken_json(out, vkmm_json_root(doc), path, err);
    vkmm_json_free(doc);
    return s;
}
