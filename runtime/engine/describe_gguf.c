/* runtime/engine/describe_gguf.c — vkmm_describe_gguf, what `vkmm info -m FILE.gguf [--json]` prints: what a model
 * or mmproj file holds (architecture, its hyperparameters, tensors by type, tokenizer, chat template), big arrays
 * summarised, never dumped. The file is fully validated by the GGUF reader first. */
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "dtype_table.h"
#include "gguf.h"
#include "report.h"
#include "text_out.h"
#include "vkmm.h"

/* ---- one GGUF file, summarised ---- */

typedef struct gguf_report {
    const vkmm_gguf *g;
    const char *arch;
    uint64_t arch_len;
    const vkmm_gguf_kv **general, **hyper, **other; /* sorted by key */
    size_t n_general, n_hyper, n_other;
    uint64_t type_count[VKMM_DTYPE_COUNT], type_bytes[VKMM_DTYPE_COUNT], tensor_bytes;
} gguf_report;

/* general.* keys shown on their own lines rather than in the list */
static bool is_headline_key(const char *key)
{
    return !strcmp(key, "general.architecture") || !strcmp(key, "general.name") || !strcmp(key, "general.type") ||
           !strcmp(key, "general.file_type");
}

static int cmp_kv(const void *a, const void *b)
{
    return strcmp((*(const vkmm_gguf_kv *const *)a)->key, (*(const vkmm_gguf_kv *const *)b)->key);
}

static bool build_report(gguf_report *r)
{
    uint64_t n = vkmm_gguf_kv_count(r->g);
    r->general = calloc(n + 1, sizeof *r->general);
    r->hyper = calloc(n + 1, sizeof *r->hyper);
    r->other = calloc(n + 1, sizeof *r->other);
    if (!r->general || !r->hyper || !r->other)
        return false;
    for (uint64_t i = 0; i < n; i++) {
        const vkmm_gguf_kv *kv = vkmm_gguf_kv_at(r->g, i);
        if (!strncmp(kv->key, "general.", 8)) {
            if (!is_headline_key(kv->key))
                r->general[r->n_general++] = kv;
        } else if (kv->key_len > r->arch_len && !memcmp(kv->key, r->arch, r->arch_len) && kv->key[r->arch_len] == '.')
            r->hyper[r->n_hyper++] = kv;
        else if (strncmp(kv->key, "tokenizer.", 10))
            r->other[r->n_other++] = kv;
    }
    qsort(r->general, r->n_general, sizeof *r->general, cmp_kv);
    qsort(r->hyper, r->n_hyper, sizeof *r->hyper, cmp_kv);
    qsort(r->other, r->n_other, sizeof *r->other, cmp_kv);
    for (uint64_t i = 0; i < vkmm_gguf_tensor_count(r->g); i++) {
        const vkmm_gguf_tensor *t = vkmm_gguf_tensor_at(r->g, i);
        r->type_count[t->type]++; /* the reader accepts only known type ids */
        r->type_bytes[t->type] += t->n_bytes;
        r->tensor_bytes += t->n_bytes; /* tensors lie inside the file, so this cannot wrap */
    }
    return true;
}

static void free_report(gguf_report *r)
{
    free(r->general);
    free(r->hyper);
    free(r->other);
}

/* general.file_type ("ftype") names, as llama.cpp numbers them (reference/gguf.md §3). */
static const char *file_type_name(uint32_t ft)
{
    switch (ft) {
    case 0: return "ALL_F32";
    case 1: return "MOSTLY_F16";
    case 2: return "MOSTLY_Q4_0";
    case 3: return "MOSTLY_Q4_1";
    case 7: return "MOSTLY_Q8_0";
    case 8: return "MOSTLY_Q5_0";
    case 9: return "MOSTLY_Q5_1";
    case 10: return "MOSTLY_Q2_K";
    case 11: return "MOSTLY_Q3_K_S";
    case 12: return "MOSTLY_Q3_K_M";
    case 13: return "MOSTLY_Q3_K_L";
    case 14: return "MOSTLY_Q4_K_S";
    case 15: return "MOSTLY_Q4_K_M";
    case 16: return "MOSTLY_Q5_K_S";
    case 17: return "MOSTLY_Q5_K_M";
    case 18: return "MOSTLY_Q6_K";
    case 25: return "MOSTLY_IQ4_NL";
    case 30: return "MOSTLY_IQ4_XS";
    case 32: return "MOSTLY_BF16";
    default: return "unknown";
    }
}

static bool contains(const char *hay, uint64_t len, const char *needle)
{
    size_t n = strlen(needle);
    for (uint64_t i = 0; i + n <= len; i++)
        if (hay[i] == needle[0] && !memcmp(hay + i, needle, n))
            return true;
    return false;
}

/* Recognised by markers only the family's template contains; the chat-template code owns the real parsing. */
static const char *chat_template_name(const char *t, uint64_t len)
{
    if (contains(t, len, "<start_of_turn>"))
        return "gemma3";
    if (contains(t, len, "[SYSTEM_PROMPT]") && contains(t, len, "[INST]"))
        return "mistral-v7-tekken";
    return NULL;
}

/* The text of token id in tokenizer.ggml.tokens, if there is one. */
static bool token_text(const vkmm_gguf *g, uint64_t id, const char **p, uint64_t *len)
{
    const vkmm_gguf_value *tokens = vkmm_gguf_get_array(g, "tokenizer.ggml.tokens", VKMM_GGUF_STRING);
    vkmm_gguf_value e;
    return tokens && vkmm_gguf_array_elem(tokens, id, &e) && vkmm_gguf_value_str(&e, p, len);
}

static const char *const special_ids[] = {"bos", "eos", "unknown", "padding"};

/* ---- values as text ---- */

#define TEXT_STRING_MAX 100
#define TEXT_ELEM_STRING_MAX 24
#define SMALL_ARRAY 8   /* arrays up to this size are shown whole; larger ones by count and first elements */
#define JSON_STRING_MAX 1024
#define JSON_SMALL_ARRAY 16

/* Numbers and bools as text (JSON spelling: nan and inf become null); false for strings and arrays. */
static bool scalar_text(const vkmm_gguf_value *v, char *buf, size_t size, bool json)
{
    int64_t i;
    uint64_t u;
    double d;
    bool b;
    if (vkmm_gguf_value_i64(v, &i))
        snprintf(buf, size, "%" PRId64, i);
    else if (vkmm_gguf_value_u64(v, &u))
        snprintf(buf, size, "%" PRIu64, u);
    else if (vkmm_gguf_value_f64(v, &d)) {
        vkmm_format_float(buf, size, d, v->type == VKMM_GGUF_F32);
        if (json && !isfinite(d))
            snprintf(buf, size, "null");
    } else if (vkmm_gguf_value_bool(v, &b))
        snprintf(buf, size, "%s", b ? "true" : "false");
    else
        return false;
    return true;
}

static void text_string(FILE *f, const char *p, uint64_t len, size_t max)
{
    char *s = vkmm_clean_text(p, len, max, true);
    fprintf(f, "\"%s\"", s ? s : "");
    if (len > max)
        fprintf(f, " (%" PRIu64 " bytes)", len);
    free(s);
}

static void text_value(FILE *f, const vkmm_gguf_value *v, int depth)
{
    const char *p;
    uint64_t len;
    char buf[40];
    if (scalar_text(v, buf, sizeof buf, false))
        fputs(buf, f);
    else if (vkmm_gguf_value_str(v, &p, &len))
        text_string(f, p, len, depth ? TEXT_ELEM_STRING_MAX : TEXT_STRING_MAX);
    else {
        bool whole = v->count <= SMALL_ARRAY && depth < 2;
        uint64_t shown = whole ? v->count : v->count < 3 ? v->count : 3;
        if (!whole)
            fprintf(f, "%" PRIu64 " x %s: ", v->count, vkmm_gguf_type_name(v->elem_type));
        fputc('[', f);
        for (uint64_t k = 0; k < shown && depth < 2; k++) {
            vkmm_gguf_value e;
            vkmm_gguf_array_elem(v, k, &e);
            fputs(k ? ", " : "", f);
            text_value(f, &e, depth + 1);
        }
        fputs(whole ? "]" : depth < 2 ? ", ...]" : "...]", f);
    }
}

static void text_keys(FILE *f, const char *title, const vkmm_gguf_kv **kv, size_t n)
{
    if (!n)
        return;
    fprintf(f, "\n%s (%zu)\n", title, n);
    for (size_t i = 0; i < n; i++) {
        char *key = vkmm_clean_text(kv[i]->key, kv[i]->key_len, 80, true);
        fprintf(f, "  %-44s ", key ? key : "");
        free(key);
        text_value(f, &kv[i]->value, 0);
        fputc('\n', f);
    }
}

static void text_str_key(FILE *f, const vkmm_gguf *g, const char *label, const char *key)
{
    const char *p;
    uint64_t len;
    if (!vkmm_gguf_get_str(g, key, &p, &len))
        return;
    char *s = vkmm_clean_text(p, len, TEXT_STRING_MAX, true);
    fprintf(f, "%-16s%s\n", label, s ? s : "");
    free(s);
}

static void print_text(FILE *f, const gguf_report *r)
{
    const vkmm_gguf *g = r->g;
    char sz[32];
    vkmm_format_bytes(sz, sizeof sz, vkmm_gguf_file_size(g));
    fprintf(f, "%-16s%s\n", "file", vkmm_gguf_path(g));
    fprintf(f, "%-16sGGUF v%" PRIu32 ", %" PRIu64 " bytes (%s), %" PRIu64 " keys, alignment %" PRIu32
               ", tensor data at byte %" PRIu64 "\n",
            "format", vkmm_gguf_version(g), vkmm_gguf_file_size(g), sz, vkmm_gguf_kv_count(g), vkmm_gguf_alignment(g),
            vkmm_gguf_data_offset(g));
    text_str_key(f, g, "architecture", "general.architecture");
    text_str_key(f, g, "name", "general.name");
    text_str_key(f, g, "type", "general.type");
    uint32_t ft;
    if (vkmm_gguf_get_u32(g, "general.file_type", &ft))
        fprintf(f, "%-16s%s (%" PRIu32 ")\n", "file type", file_type_name(ft), ft);

    char *arch = vkmm_clean_text(r->arch, r->arch_len, 64, true);
    char title[96];
    snprintf(title, sizeof title, "hyperparameters: %s.*", arch ? arch : "");
    free(arch);
    text_keys(f, title, r->hyper, r->n_hyper);
    text_keys(f, "general", r->general, r->n_general);
    text_keys(f, "other keys", r->other, r->n_other);

    vkmm_format_bytes(sz, sizeof sz, r->tensor_bytes);
    fprintf(f, "\n%-16s%" PRIu64 ", %" PRIu64 " bytes (%s)\n", "tensors", vkmm_gguf_tensor_count(g), r->tensor_bytes,
            sz);
    for (uint32_t t = 0; t < VKMM_DTYPE_COUNT; t++) {
        if (!r->type_count[t])
            continue;
        const vkmm_dtype_info *info = vkmm_dtype_get(t);
        vkmm_format_bytes(sz, sizeof sz, r->type_bytes[t]);
        fprintf(f, "  %-10s %8" PRIu64 " tensors %14s%s\n", info->name, r->type_count[t], sz,
                info->supported ? "" : "  (not supported by vkmm)");
    }

    const vkmm_gguf_value *tokens = vkmm_gguf_get_array(g, "tokenizer.ggml.tokens", VKMM_GGUF_TYPE_COUNT);
    const vkmm_gguf_value *merges = vkmm_gguf_get_array(g, "tokenizer.ggml.merges", VKMM_GGUF_TYPE_COUNT);
    if (vkmm_gguf_find(g, "tokenizer.ggml.model") || tokens) {
        fputc('\n', f);
        text_str_key(f, g, "tokenizer", "tokenizer.ggml.model");
        text_str_key(f, g, "  pre", "tokenizer.ggml.pre");
        if (tokens)
            fprintf(f, "%-16s%" PRIu64 "\n", "  tokens", tokens->count);
        if (merges)
            fprintf(f, "%-16s%" PRIu64 "\n", "  merges", merges->count);
        for (size_t k = 0; k < sizeof special_ids / sizeof special_ids[0]; k++) {
            char key[64], label[24];
            snprintf(key, sizeof key, "tokenizer.ggml.%s_token_id", special_ids[k]);
            snprintf(label, sizeof label, "  %s", special_ids[k]);
            const vkmm_gguf_kv *kv = vkmm_gguf_find(g, key);
            if (!kv)
                continue;
            fprintf(f, "%-16s", label);
            text_value(f, &kv->value, 0);
            uint64_t id, len;
            const char *p;
            if (vkmm_gguf_value_u64(&kv->value, &id) && token_text(g, id, &p, &len)) {
                fputc(' ', f);
                text_string(f, p, len, TEXT_ELEM_STRING_MAX);
            }
            fputc('\n', f);
        }
    }
    const char *tpl;
    uint64_t tlen;
    if (vkmm_gguf_get_str(g, "tokenizer.chat_template", &tpl, &tlen)) {
        const char *name = chat_template_name(tpl, tlen);
        fprintf(f, "%-16s%s (%" PRIu64 " bytes)\n", "chat template", name ? name : "unknown", tlen);
    }
}

/* ---- values as JSON ---- */

static void json_text(FILE *f, const char *p, uint64_t len, size_t max)
{
    char *s = vkmm_clean_text(p, len, max, false);
    vkmm_json_write_string(f, s ? s : "");
    free(s);
}

static void json_value(FILE *f, const vkmm_gguf_value *v, int depth)
{
    const char *p;
    uint64_t len;
    char buf[40];
    if (scalar_text(v, buf, sizeof buf, true))
        fputs(buf, f);
    else if (vkmm_gguf_value_str(v, &p, &len))
        json_text(f, p, len, JSON_STRING_MAX);
    else {
        fprintf(f, "{\"array_of\": \"%s\", \"count\": %" PRIu64, vkmm_gguf_type_name(v->elem_type), v->count);
        if (v->count <= JSON_SMALL_ARRAY && depth < 3) {
            fputs(", \"values\": [", f);
            for (uint64_t k = 0; k < v->count; k++) {
                vkmm_gguf_value e;
                vkmm_gguf_array_elem(v, k, &e);
                fputs(k ? ", " : "", f);
                json_value(f, &e, depth + 1);
            }
            fputc(']', f);
        }
        fputc('}', f);
    }
}

static void json_keys(FILE *f, const char *name, const vkmm_gguf_kv **kv, size_t n)
{
    fprintf(f, ",\n  \"%s\": {", name);
    for (size_t i = 0; i < n; i++) {
        fputs(i ? ",\n    " : "\n    ", f);
        json_text(f, kv[i]->key, kv[i]->key_len, VKMM_GGUF_MAX_KEY);
        fputs(": ", f);
        json_value(f, &kv[i]->value, 0);
    }
    fputs(n ? "\n  }" : "}", f);
}

static void json_str_key(FILE *f, const vkmm_gguf *g, const char *name, const char *key)
{
    const char *p;
    uint64_t len;
    fprintf(f, ",\n  \"%s\": ", name);
    if (vkmm_gguf_get_str(g, key, &p, &len))
        json_text(f, p, len, JSON_STRING_MAX);
    else
        fputs("null", f);
}

static void print_json(FILE *f, const gguf_report *r)
{
    const vkmm_gguf *g = r->g;
    fputs("{\n  \"file\": ", f);
    json_text(f, vkmm_gguf_path(g), strlen(vkmm_gguf_path(g)), 4096); /* paths need not be UTF-8 */
    fprintf(f, ",\n  \"size\": %" PRIu64 ",\n  \"version\": %" PRIu32 ",\n  \"alignment\": %" PRIu32
               ",\n  \"data_offset\": %" PRIu64 ",\n  \"kv_count\": %" PRIu64,
            vkmm_gguf_file_size(g), vkmm_gguf_version(g), vkmm_gguf_alignment(g), vkmm_gguf_data_offset(g),
            vkmm_gguf_kv_count(g));
    json_str_key(f, g, "architecture", "general.architecture");
    json_str_key(f, g, "name", "general.name");
    json_str_key(f, g, "type", "general.type");
    uint32_t ft;
    if (vkmm_gguf_get_u32(g, "general.file_type", &ft))
        fprintf(f, ",\n  \"file_type\": {\"id\": %" PRIu32 ", \"name\": \"%s\"}", ft, file_type_name(ft));
    else
        fputs(",\n  \"file_type\": null", f);
    json_keys(f, "hyperparameters", r->hyper, r->n_hyper);
    json_keys(f, "general", r->general, r->n_general);
    json_keys(f, "other", r->other, r->n_other);

    fprintf(f, ",\n  \"tensors\": {\"count\": %" PRIu64 ", \"bytes\": %" PRIu64 ", \"by_type\": [",
            vkmm_gguf_tensor_count(g), r->tensor_bytes);
    bool first = true;
    for (uint32_t t = 0; t < VKMM_DTYPE_COUNT; t++) {
        if (!r->type_count[t])
            continue;
        const vkmm_dtype_info *info = vkmm_dtype_get(t);
        fprintf(f, "%s\n    {\"type\": \"%s\", \"id\": %" PRIu32 ", \"count\": %" PRIu64 ", \"bytes\": %" PRIu64
                   ", \"supported\": %s}",
                first ? "" : ",", info->name, t, r->type_count[t], r->type_bytes[t], info->supported ? "true" : "false");
        first = false;
    }
    fputs(first ? "]}" : "\n  ]}", f);

    const vkmm_gguf_value *tokens = vkmm_gguf_get_array(g, "tokenizer.ggml.tokens", VKMM_GGUF_TYPE_COUNT);
    const vkmm_gguf_value *merges = vkmm_gguf_get_array(g, "tokenizer.ggml.merges", VKMM_GGUF_TYPE_COUNT);
    if (vkmm_gguf_find(g, "tokenizer.ggml.model") || tokens) {
        fputs(",\n  \"tokenizer\": {\"model\": ", f);
        const char *p;
        uint64_t len;
        if (vkmm_gguf_get_str(g, "tokenizer.ggml.model", &p, &len))
            json_text(f, p, len, JSON_STRING_MAX);
        else
            fputs("null", f);
        fputs(", \"pre\": ", f);
        if (vkmm_gguf_get_str(g, "tokenizer.ggml.pre", &p, &len))
            json_text(f, p, len, JSON_STRING_MAX);
        else
            fputs("null", f);
        fprintf(f, ", \"tokens\": %" PRIu64 ", \"merges\": %" PRIu64, tokens ? tokens->count : 0,
                merges ? merges->count : 0);
        for (size_t k = 0; k < sizeof special_ids / sizeof special_ids[0]; k++) {
            char key[64];
            snprintf(key, sizeof key, "tokenizer.ggml.%s_token_id", special_ids[k]);
            const vkmm_gguf_kv *kv = vkmm_gguf_find(g, key);
            if (!kv)
                continue;
            fprintf(f, ", \"%s_token_id\": ", special_ids[k]);
            json_value(f, &kv->value, 0);
            uint64_t id;
            if (vkmm_gguf_value_u64(&kv->value, &id) && token_text(g, id, &p, &len)) {
                fprintf(f, ", \"%s_token\": ", special_ids[k]);
                json_text(f, p, len, JSON_STRING_MAX);
            }
        }
        fputc('}', f);
    } else {
        fputs(",\n  \"tokenizer\": null", f);
    }
    const char *tpl;
    uint64_t tlen;
    if (vkmm_gguf_get_str(g, "tokenizer.chat_template", &tpl, &tlen)) {
        const char *name = chat_template_name(tpl, tlen);
        fprintf(f, ",\n  \"chat_template\": {\"name\": \"%s\", \"bytes\": %" PRIu64 "}", name ? name : "unknown",
                tlen);
    } else {
        fputs(",\n  \"chat_template\": null", f);
    }
    fputs("\n}\n", f);
}

VKMM_API vkmm_status vkmm_describe_gguf(const char *path, bool json, FILE *out, vkmm_error *err)
{
    if (!path || !out)
        return vkmm_fail(err, VKMM_ERR_INVALID_ARG, "vkmm_describe_gguf needs a path and a FILE");
    vkmm_gguf *g = NULL;
    vkmm_status s = vkmm_gguf_open(path, &g, err);
    if (s)
        return s;
    gguf_report r = {.g = g};
    vkmm_report rep;
    s = vkmm_gguf_need_str(g, "general.architecture", &r.arch, &r.arch_len, err);
    if (!s && !build_report(&r))
        s = vkmm_fail(err, VKMM_ERR_HOST_MEMORY, "%s: out of memory", path);
    if (!s)
        s = vkmm_report_open(&rep, err);
    if (!s) {
        if (json)
            print_json(rep.f, &r);
        else
            print_text(rep.f, &r);
        s = vkmm_report_close(&rep, s, out, path, err);
    }
    free_report(&r);
    vkmm_gguf_close(g);
    return s;
}
