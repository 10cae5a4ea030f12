/* loader/manifest.c — parses model manifests with libyaml's event API, so nothing is built that the schema does
 * not allow: aliases are refused outright (no alias bomb can expand), nesting stops at `sampling`, each key may
 * appear once, and every value is type- and range-checked. Errors name the file and the line. */
#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stdio.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <yaml.h>

#include "image.h"
#include "manifest.h"

typedef enum { F_PATH, F_NAME, F_REPO, F_TEXT, F_UINT, F_INT, F_FLOAT, F_U64, F_SAMPLING } ftype;

typedef struct field {
    const char *key;
    ftype type;
    uint32_t bit;
    size_t off;
    double lo, hi; /* inclusive range for numbers; lo_open makes lo exclusive */
    int lo_open;
} field;

#define M(x) offsetof(vkmm_manifest, x)
static const field top_fields[] = {
    {"model", F_PATH, 0, M(model), 0, 0, 0},
    {"mmproj", F_PATH, VKMM_MANIFEST_MMPROJ, M(mmproj), 0, 0, 0},
    {"chat_template", F_NAME, VKMM_MANIFEST_CHAT_TEMPLATE, M(chat_template), 0, 0, 0},
    {"context", F_UINT, VKMM_MANIFEST_CONTEXT, M(context), 1, VKMM_MANIFEST_MAX_CONTEXT, 0},
    {"system", F_TEXT, VKMM_MANIFEST_SYSTEM, M(system), 0, 0, 0},
    {"huggingface", F_REPO, VKMM_MANIFEST_HUGGINGFACE, M(huggingface), 0, 0, 0},
    {"description", F_TEXT, VKMM_MANIFEST_DESCRIPTION, M(description), 0, 0, 0},
    {"sampling", F_SAMPLING, 0, 0, 0, 0, 0},
    {"max_tokens", F_UINT, VKMM_MANIFEST_MAX_TOKENS, M(max_tokens), 1, VKMM_MANIFEST_MAX_CONTEXT, 0},
    {"image_max_tokens", F_UINT, VKMM_MANIFEST_IMAGE_MAX_TOKENS, M(image_max_tokens), 1, 1 << 20, 0},
};
static const field sampling_fields[] = {
    {"temperature", F_FLOAT, VKMM_MANIFEST_TEMPERATURE, M(temperature), 0, 100, 0},
    {"top_k", F_INT, VKMM_MANIFEST_TOP_K, M(top_k), 0, 1 << 24, 0},
    {"top_p", F_FLOAT, VKMM_MANIFEST_TOP_P, M(top_p), 0, 1, 0},
    {"min_p", F_FLOAT, VKMM_MANIFEST_MIN_P, M(min_p), 0, 1, 0},
    {"repeat_penalty", F_FLOAT, VKMM_MANIFEST_REPEAT_PENALTY, M(repeat_penalty), 0, 100, 1},
    {"seed", F_U64, VKMM_MANIFEST_SEED, M(seed), 0, 0, 0},
};
#undef M
#define NFIELDS(a) (sizeof(a) / sizeof((a)[0]))

typedef struct ctx {
    yaml_parser_t parser;
    yaml_event_t ev;
    int have_ev;
    const char *name;
    vkmm_error *err;
} ctx;

static size_t line_of(const ctx *c)
{
    return c->ev.start_mark.line + 1;
}

__attribute__((format(printf, 3, 4))) static vkmm_status fail_line(ctx *c, size_t line, const char *fmt, ...)
{
    char msg[768];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return vkmm_fail(c->err, VKMM_ERR_FORMAT, "%s:%zu: %s", c->name, line, msg);
}

#define fail(c, ...) fail_line((c), line_of(c), __VA_ARGS__)

/* The next event; syntax errors and aliases become errors here, so no caller ever sees an alias. */
static vkmm_status next(ctx *c)
{
    if (c->have_ev)
        yaml_event_delete(&c->ev);
    c->have_ev = 0;
    if (!yaml_parser_parse(&c->parser, &c->ev)) {
        const char *what = c->parser.problem ? c->parser.problem : "syntax error";
        const char *where = c->parser.context ? c->parser.context : NULL;
        return vkmm_fail(c->err, VKMM_ERR_FORMAT, "%s:%zu: YAML error: %s%s%s", c->name,
                         c->parser.problem_mark.line + 1, what, where ? " " : "", where ? where : "");
    }
    c->have_ev = 1;
    if (c->ev.type == YAML_ALIAS_EVENT)
        return fail(c, "YAML aliases (*%s) are not allowed in a manifest", (const char *)c->ev.data.alias.anchor);
    return VKMM_OK;
}

static const char *event_kind(yaml_event_type_t t)
{
    return t == YAML_MAPPING_START_EVENT ? "mapping" : t == YAML_SEQUENCE_START_EVENT ? "list" : "value";
}

static int is_null(const yaml_event_t *e)
{
    const char *v = (const char *)e->data.scalar.value;
    return e->data.scalar.style == YAML_PLAIN_SCALAR_STYLE &&
           (!*v || !strcmp(v, "~") || !strcmp(v, "null") || !strcmp(v, "Null") || !strcmp(v, "NULL"));
}

static int tag_is(const yaml_event_t *e, const char *suffix)
{
    const char *t = (const char *)e->data.scalar.tag;
    return t && !strncmp(t, "tag:yaml.org,2002:", 18) && !strcmp(t + 18, suffix);
}

static vkmm_status number(ctx *c, const field *f, const char *v, vkmm_manifest *m)
{
    const yaml_event_t *e = &c->ev;
    int integer = f->type != F_FLOAT;
    if (e->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
        return fail(c, "`%s` must be a number, not the string \"%s\"", f->key, v);
    if (e->data.scalar.tag && !tag_is(e, "int") && !tag_is(e, "float"))
        return fail(c, "`%s` must be a number, not a value tagged %s", f->key, (const char *)e->data.scalar.tag);
    for (const char *p = v; *p; p++)
        if (!((*p >= '0' && *p <= '9') || *p == '-' || *p == '+' || (!integer && strchr(".eE", *p))))
            return fail(c, integer ? "`%s` must be an integer, got \"%s\"" : "`%s` must be a number, got \"%s\"",
                        f->key, v);
    char *end;
    errno = 0;
    char *dst = (char *)m + f->off;
    if (f->type == F_U64) {
        if (strchr(v, '-'))
            return fail(c, "`%s` must be a non-negative integer, got %s", f->key, v);
        unsigned long long u = strtoull(v, &end, 10);
        if (errno || *end || end == v)
            return fail(c, "`%s` must be an integer below 2^64, got \"%s\"", f->key, v);
        uint64_t u64 = u;
        memcpy(dst, &u64, sizeof u64);
        return VKMM_OK;
    }
    double d = integer ? (double)strtoll(v, &end, 10) : strtod(v, &end);
    if (errno == ERANGE || *end || end == v || !isfinite(d))
        return fail(c, integer ? "`%s` must be an integer, got \"%s\"" : "`%s` must be a finite number, got \"%s\"",
                    f->key, v);
    if (d < f->lo || d > f->hi || (f->lo_open && d <= f->lo))
        return f->lo_open ? fail(c, "`%s` must be above %.10g and at most %.10g, got %s", f->key, f->lo, f->hi, v)
                          : fail(c, "`%s` must be between %.10g and %.10g, got %s", f->key, f->lo, f->hi, v);
    if (f->type == F_UINT) {
        uint32_t u = (uint32_t)d;
        memcpy(dst, &u, sizeof u);
    } else if (f->type == F_INT) {
        int32_t i = (int32_t)d;
        memcpy(dst, &i, sizeof i);
    } else {
        float x = (float)d;
        memcpy(dst, &x, sizeof x);
    }
    return VKMM_OK;
}

static vkmm_status string(ctx *c, const field *f, const char *v, size_t len, vkmm_manifest *m)
{
    const yaml_event_t *e = &c->ev;
    if (e->data.scalar.tag && !tag_is(e, "str"))
        return fail(c, "`%s` must be a string, not a value tagged %s", f->key, (const char *)e->data.scalar.tag);
    if (strlen(v) != len)
        return fail(c, "`%s` contains a NUL character", f->key);
    if (!len)
        return fail(c, "`%s` is empty", f->key);
    if (f->type == F_PATH && len > 4096)
        return fail(c, "`%s` is longer than 4096 bytes", f->key);
    if (f->type == F_REPO) {
        const char *slash = strchr(v, '/');
        bool ok = len <= 200 && slash && slash != v && slash[1] && !strchr(slash + 1, '/') && v[0] != '.' &&
                  slash[1] != '.';
        for (const char *p = v; ok && *p; p++)
            ok = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || strchr("_.-/", *p);
        if (!ok)
            return fail(c, "`%s` must be a Hugging Face repository \"org/name\" (letters, digits, _ . -), got \"%.200s\"",
                        f->key, v);
    }
    if (f->type == F_NAME) {
        if (len > 64)
            return fail(c, "`%s` is longer than 64 characters", f->key);
        for (const char *p = v; *p; p++)
            if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
                  strchr("_.-", *p)))
                return fail(c, "`%s` must be a template name (letters, digits, _ . -), got \"%s\"", f->key, v);
    }
    char **dst = (char **)((char *)m + f->off);
    free(*dst);
    *dst = strdup(v);
    if (!*dst)
        return vkmm_fail(c->err, VKMM_ERR_HOST_MEMORY, "%s: out of host memory", c->name);
    if (f->off == offsetof(vkmm_manifest, model))
        m->model_line = (uint32_t)line_of(c);
    if (f->off == offsetof(vkmm_manifest, mmproj))
        m->mmproj_line = (uint32_t)line_of(c);
    return VKMM_OK;
}

static vkmm_status mapping(ctx *c, const field *fields, size_t nf, const char *what, vkmm_manifest *m);

/* The current event is the value of f. */
static vkmm_status value(ctx *c, const field *f, vkmm_manifest *m)
{
    yaml_event_type_t t = c->ev.type;
    if (f->type == F_SAMPLING) {
        if (t != YAML_MAPPING_START_EVENT)
            return fail(c, "`%s` must be a mapping (temperature: 0.7, ...), not a %s", f->key, event_kind(t));
        return mapping(c, sampling_fields, NFIELDS(sampling_fields), "sampling", m);
    }
    const char *kind = f->type <= F_TEXT ? "string" : "number";
    if (t != YAML_SCALAR_EVENT)
        return fail(c, "`%s` must be a %s, not a %s", f->key, kind, event_kind(t));
    if (is_null(&c->ev)) {
        if (!f->bit)
            return fail(c, "`%s` needs a value", f->key);
        m->set &= ~f->bit; /* an explicit null leaves an optional key unset */
        return VKMM_OK;
    }
    const char *v = (const char *)c->ev.data.scalar.value;
    vkmm_status s = f->type <= F_TEXT ? string(c, f, v, c->ev.data.scalar.length, m) : number(c, f, v, m);
    if (!s)
        m->set |= f->bit;
    return s;
}

/* The current event is MAPPING_START; reads keys and values up to its end. */
static vkmm_status mapping(ctx *c, const field *fields, size_t nf, const char *what, vkmm_manifest *m)
{
    uint32_t seen = 0;
    for (;;) {
        vkmm_status s = next(c);
        if (s)
            return s;
        if (c->ev.type == YAML_MAPPING_END_EVENT)
            return VKMM_OK;
        if (c->ev.type != YAML_SCALAR_EVENT)
            return fail(c, "keys in %s must be plain names, not a %s", what, event_kind(c->ev.type));
        const char *key = (const char *)c->ev.data.scalar.value;
        size_t i = 0;
        while (i < nf && strcmp(fields[i].key, key))
            i++;
        if (i == nf) {
            char known[256] = "";
            for (size_t j = 0; j < nf; j++)
                snprintf(known + strlen(known), sizeof known - strlen(known), "%s%s", j ? ", " : "", fields[j].key);
            return fail(c, "unknown key `%.100s` (expected one of: %s)", key, known);
        }
        if (seen & (1u << i))
            return fail(c, "duplicate key `%s`", key);
        seen |= 1u << i;
        if ((s = next(c)) || (s = value(c, &fields[i], m)))
            return s;
    }
}

static vkmm_status check_file(ctx *c, char **path, uint32_t line, const char *base_dir, const char *what)
{
    if (!*path)
        return VKMM_OK;
    if ((*path)[0] != '/') {
        size_t n = strlen(base_dir) + strlen(*path) + 2;
        char *full = malloc(n);
        if (!full)
            return vkmm_fail(c->err, VKMM_ERR_HOST_MEMORY, "%s: out of host memory", c->name);
        snprintf(full, n, "%s/%s", base_dir, *path);
        free(*path);
        *path = full;
    }
    struct stat st;
    if (stat(*path, &st) != 0)
        return vkmm_fail(c->err, VKMM_ERR_IO, "%s:%u: %s file %s: %s", c->name, line, what, *path, strerror(errno));
    if (!S_ISREG(st.st_mode))
        return vkmm_fail(c->err, VKMM_ERR_IO, "%s:%u: %s file %s is not a regular file", c->name, line, what, *path);
    return VKMM_OK;
}

static vkmm_status document(ctx *c, vkmm_manifest *m)
{
    vkmm_status s;
    if ((s = next(c)) || c->ev.type != YAML_STREAM_START_EVENT || (s = next(c)))
        return s ? s : fail(c, "not a YAML stream");
    if (c->ev.type == YAML_STREAM_END_EVENT)
        return vkmm_fail(c->err, VKMM_ERR_FORMAT, "%s: empty manifest (it needs at least `model: FILE.gguf`)",
                         c->name);
    if ((s = next(c)))
        return s;
    if (c->ev.type != YAML_MAPPING_START_EVENT)
        return fail(c, "a manifest is a mapping of keys (model, mmproj, ...), not a %s",
                    c->ev.type == YAML_SCALAR_EVENT ? "single value" : event_kind(c->ev.type));
    size_t start = line_of(c);
    if ((s = mapping(c, top_fields, NFIELDS(top_fields), "the manifest", m)))
        return s;
    if (!m->model)
        return fail_line(c, start, "`model` is missing (the model GGUF file, relative to the manifest's folder)");
    if ((s = next(c)) || (s = next(c)))
        return s;
    if (c->ev.type != YAML_STREAM_END_EVENT)
        return fail(c, "a manifest holds one YAML document; another starts here");
    return VKMM_OK;
}

vkmm_status vkmm_manifest_parse(const char *text, size_t len, const char *name, const char *base_dir,
                                vkmm_manifest *out, vkmm_error *err)
{
    memset(out, 0, sizeof *out);
    if (!name)
        name = "<manifest>";
    if (len > VKMM_MANIFEST_MAX_BYTES)
        return vkmm_fail(err, VKMM_ERR_FORMAT, "%s: manifest is %zu bytes, over the cap of %u", name, len,
                         VKMM_MANIFEST_MAX_BYTES);
    out->path = strdup(name);
    if (!out->path)
        return vkmm_fail(err, VKMM_ERR_HOST_MEMORY, "%s: out of host memory", name);
    ctx c = {.name = name, .err = err};
    if (!yaml_parser_initialize(&c.parser)) {
        vkmm_manifest_free(out);
        return vkmm_fail(err, VKMM_ERR_HOST_MEMORY, "%s: out of host memory", name);
    }
    yaml_parser_set_input_string(&c.parser, (const unsigned char *)text, len);
    vkmm_status s = document(&c, out);
    if (!s && out->huggingface) {
        /* file names to look for, not paths: a name with a folder in it cannot be looked for in a repository's
         * snapshot or a models folder safely */
        const char *names[2] = {out->model, out->mmproj};
        uint32_t lines[2] = {out->model_line, out->mmproj_line};
        for (int i = 0; i < 2 && !s; i++)
            if (names[i] && (strchr(names[i], '/') || names[i][0] == '.'))
                s = fail_line(&c, lines[i], "with `huggingface`, `%s` must be a file name in that repository, not a "
                              "path (got \"%.200s\")", i ? "mmproj" : "model", names[i]);
    }
    if (!s && base_dir && !out->huggingface) {
        s = check_file(&c, &out->model, out->model_line, base_dir, "model");
        if (!s)
            s = check_file(&c, &out->mmproj, out->mmproj_line, base_dir, "mmproj");
    }
    if (c.have_ev)
        yaml_event_delete(&c.ev);
    yaml_parser_delete(&c.parser);
    if (s)
        vkmm_manifest_free(out);
    return s;
}

vkmm_status vkmm_manifest_load(const char *path, vkmm_manifest *out, vkmm_error *err)
{
    memset(out, 0, sizeof *out);
    uint8_t *buf = NULL;
    size_t len = 0;
    vkmm_status s = vkmm_read_file_capped(path, VKMM_MANIFEST_MAX_BYTES, "manifest", &buf, &len, err);
    if (s)
        return s;
    const char *slash = strrchr(path, '/');
    char *dir = slash ? strndup(path, slash == path ? 1 : (size_t)(slash - path)) : strdup(".");
    if (!dir) {
        free(buf);
        return vkmm_fail(err, VKMM_ERR_HOST_MEMORY, "%s: out of host memory", path);
    }
    s = vkmm_manifest_parse((const char *)buf, len, path, dir, out, err);
    free(dir);
    free(buf);
    return s;
}

void vkmm_manifest_free(vkmm_manifest *m)
{
    if (!m)
        return;
    free(m->path);
    free(m->model);
    free(m->mmproj);
    free(m->chat_template);
    free(m->system);
    free(m->huggingface);
    free(m->description);
    memset(m, 0, sizeof *m);
}
