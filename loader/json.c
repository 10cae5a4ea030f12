/* loader/json.c — the strict JSON reader of json.h. Recursive descent with an explicit depth limit; finished
 * arrays and objects are copied from a scratch stack into one arena, so the tree costs a few allocations. */
#include "json.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "unicode.h"

/* ---- arena: large blocks, freed together ---- */

typedef struct arena_block {
    struct arena_block *next;
    size_t used, cap;
    _Alignas(16) unsigned char data[];
} arena_block;

struct vkmm_json_doc {
    arena_block *blocks;
    vkmm_json root;
};

static void *arena_alloc(vkmm_json_doc *d, size_t n)
{
    n = (n + 15) & ~(size_t)15;
    arena_block *b = d->blocks;
    if (!b || b->cap - b->used < n) {
        size_t cap = n > (size_t)1 << 20 ? n : (size_t)1 << 20;
        b = malloc(sizeof *b + cap);
        if (!b)
            return NULL;
        b->used = 0;
        b->cap = cap;
        b->next = d->blocks;
        d->blocks = b;
    }
    void *p = b->data + b->used;
    b->used += n;
    return p;
}

/* ---- parser state ---- */

typedef struct parser {
    const unsigned char *p, *end, *start;
    const char *name;
    vkmm_json_limits lim;
    vkmm_json_doc *doc;
    vkmm_error *err;
    size_t n_values;
    /* scratch stacks for unfinished arrays / objects */
    vkmm_json *vals;
    size_t n_vals, cap_vals;
    vkmm_json_member *mems;
    size_t n_mems, cap_mems;
    /* scratch for decoding one string */
    char *sbuf;
    size_t sbuf_cap;
    /* running line/column cursor */
    const unsigned char *pc_at;
    uint32_t pc_line, pc_col;
} parser;

/* Line and column of `at`. Values ask for their position in increasing order, so a running cursor keeps this
 * linear; only an error that points back (an unterminated array's opening bracket) rescans from the start. */
static void position(parser *ps, const unsigned char *at, uint32_t *line, uint32_t *col)
{
    if (!ps->pc_at || at < ps->pc_at) {
        ps->pc_at = ps->start;
        ps->pc_line = 1;
        ps->pc_col = 1;
    }
    uint32_t l = ps->pc_line, c = ps->pc_col;
    const unsigned char *q = ps->pc_at;
    for (; q < at && q < ps->end; q++) {
        if (*q == '\n') {
            l++;
            c = 1;
        } else if ((*q & 0xC0) != 0x80) { /* columns count characters, not continuation bytes */
            c++;
        }
    }
    ps->pc_at = q;
    ps->pc_line = l;
    ps->pc_col = c;
    *line = l;
    *col = c;
}

static vkmm_status fail_at(parser *ps, const unsigned char *at, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static vkmm_status fail_at(parser *ps, const unsigned char *at, const char *fmt, ...)
{
    char what[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    uint32_t line, col;
    position(ps, at, &line, &col);
    return vkmm_fail(ps->err, VKMM_ERR_FORMAT, "%s:%u:%u: %s", ps->name, line, col, what);
}

static void skip_ws(parser *ps)
{
    while (ps->p < ps->end && (*ps->p == ' ' || *ps->p == '\t' || *ps->p == '\n' || *ps->p == '\r'))
        ps->p++;
}

static const char *describe(parser *ps, char *buf, size_t n)
{
    if (ps->p >= ps->end)
        return "end of input";
    unsigned char c = *ps->p;
    if (c >= 0x20 && c < 0x7F)
        snprintf(buf, n, "'%c'", c);
    else
        snprintf(buf, n, "byte 0x%02X", c);
    return buf;
}

static vkmm_status parse_value(parser *ps, vkmm_json *out, uint32_t depth);

static int hex4(const unsigned char *p, const unsigned char *end, uint32_t *out)
{
    if (end - p < 4)
        return 0;
    uint32_t v = 0;
    for (int i = 0; i < 4; i++) {
        unsigned char c = p[i];
        v <<= 4;
        if (c >= '0' && c <= '9')
            v |= (uint32_t)(c - '0');
        else if (c >= 'a' && c <= 'f')
            v |= (uint32_t)(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F')
            v |= (uint32_t)(c - 'A' + 10);
        else
            return 0;
    }
    *out = v;
    return 1;
}

/* Parses a string at ps->p (which is '"') into the arena. */
static vkmm_status parse_string(parser *ps, const char **s_out, size_t *len_out)
{
    const unsigned char *open = ps->p++;
    /* The decoded text is never longer than the raw text, so a first pass finds the closing quote and sizes
     * the scratch buffer. */
    const unsigned char *q = ps->p;
    while (q < ps->end && *q != '"') {
        if (*q == '\\' && q + 1 < ps->end)
            q++;
        q++;
    }
    if (q >= ps->end)
        return fail_at(ps, open, "unterminated string");
    size_t raw = (size_t)(q - ps->p);
    if (raw + 1 > ps->sbuf_cap) {
        size_t cap = raw + 1 > 2 * ps->sbuf_cap ? raw + 1 : 2 * ps->sbuf_cap;
        char *nb = realloc(ps->sbuf, cap);
        if (!nb)
            return vkmm_fail(ps->err, VKMM_ERR_HOST_MEMORY, "%s: out of memory for a string of %zu bytes", ps->name,
                             raw);
        ps->sbuf = nb;
        ps->sbuf_cap = cap;
    }
    char *o = ps->sbuf;
    size_t n = 0;
    while (*ps->p != '"') {
        unsigned char c = *ps->p;
        if (c == '\\') {
            const unsigned char *esc = ps->p;
            ps->p++;
            switch (*ps->p) {
            case '"': o[n++] = '"'; ps->p++; break;
            case '\\': o[n++] = '\\'; ps->p++; break;
            case '/': o[n++] = '/'; ps->p++; break;
            case 'b': o[n++] = '\b'; ps->p++; break;
            case 'f': o[n++] = '\f'; ps->p++; break;
            case 'n': o[n++] = '\n'; ps->p++; break;
            case 'r': o[n++] = '\r'; ps->p++; break;
            case 't': o[n++] = '\t'; ps->p++; break;
            case 'u': {
                uint32_t cp;
                if (!hex4(ps->p + 1, ps->end, &cp))
                    return fail_at(ps, esc, "bad \\u escape: four hex digits expected");
                ps->p += 5;
                if (cp >= 0xDC00 && cp <= 0xDFFF)
                    return fail_at(ps, esc, "unpaired low surrogate \\u%04X", cp);
                if (cp >= 0xD800 && cp <= 0xDBFF) {
                    uint32_t lo;
                    if (ps->end - ps->p < 6 || ps->p[0] != '\\' || ps->p[1] != 'u' || !hex4(ps->p + 2, ps->end, &lo) ||
                        lo < 0xDC00 || lo > 0xDFFF)
                        return fail_at(ps, esc, "high surrogate \\u%04X not followed by a low surrogate", cp);
                    ps->p += 6;
                    cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                }
                n += vkmm_utf8_encode(cp, o + n);
                break;
            }
            default:
                return fail_at(ps, esc, "invalid escape '\\%c'", *ps->p >= 0x20 && *ps->p < 0x7F ? *ps->p : '?');
            }
        } else if (c < 0x20) {
            return fail_at(ps, ps->p, "control character 0x%02X in a string (must be escaped)", c);
        } else if (c < 0x80) {
            o[n++] = (char)c;
            ps->p++;
        } else {
            size_t l;
            if (vkmm_utf8_decode(ps->p, (size_t)(ps->end - ps->p), &l) == VKMM_UTF8_INVALID)
                return fail_at(ps, ps->p, "invalid UTF-8 in a string");
            memcpy(o + n, ps->p, l);
            n += l;
            ps->p += l;
        }
    }
    ps->p++; /* closing quote */
    if (n > ps->lim.max_string)
        return fail_at(ps, open, "string of %zu bytes exceeds the limit of %zu", n, ps->lim.max_string);
    char *s = arena_alloc(ps->doc, n + 1);
    if (!s)
        return vkmm_fail(ps->err, VKMM_ERR_HOST_MEMORY, "%s: out of memory", ps->name);
    memcpy(s, o, n);
    s[n] = 0;
    *s_out = s;
    *len_out = n;
    return VKMM_OK;
}

static vkmm_status parse_number(parser *ps, vkmm_json *out)
{
    const unsigned char *s = ps->p, *q = ps->p;
    bool integral = true;
    if (q < ps->end && *q == '-')
        q++;
    if (q >= ps->end || *q < '0' || *q > '9')
        return fail_at(ps, s, "invalid number: digit expected");
    if (*q == '0') {
        q++;
        if (q < ps->end && *q >= '0' && *q <= '9')
            return fail_at(ps, s, "invalid number: leading zero");
    } else {
        while (q < ps->end && *q >= '0' && *q <= '9')
            q++;
    }
    if (q < ps->end && *q == '.') {
        integral = false;
        q++;
        if (q >= ps->end || *q < '0' || *q > '9')
            return fail_at(ps, q, "invalid number: digit expected after '.'");
        while (q < ps->end && *q >= '0' && *q <= '9')
            q++;
    }
    if (q < ps->end && (*q == 'e' || *q == 'E')) {
        integral = false;
        q++;
        if (q < ps->end && (*q == '+' || *q == '-'))
            q++;
        if (q >= ps->end || *q < '0' || *q > '9')
            return fail_at(ps, q, "invalid number: digit expected in the exponent");
        while (q < ps->end && *q >= '0' && *q <= '9')
            q++;
    }
    size_t n = (size_t)(q - s);
    char buf[64];
    if (n >= sizeof buf)
        return fail_at(ps, s, "number with %zu characters is too long", n);
    memcpy(buf, s, n);
    buf[n] = 0;
    out->type = VKMM_JSON_NUMBER;
    errno = 0;
    out->u.num.v = strtod(buf, NULL);
    out->u.num.is_int = false;
    out->u.num.i = 0;
    if (integral) {
        errno = 0;
        long long i = strtoll(buf, NULL, 10);
        if (errno == 0) {
            out->u.num.is_int = true;
            out->u.num.i = i;
        }
    }
    if (!isfinite(out->u.num.v))
        return fail_at(ps, s, "number out of range");
    ps->p = q;
    return VKMM_OK;
}

static vkmm_status literal(parser *ps, const char *word)
{
    size_t n = strlen(word);
    if ((size_t)(ps->end - ps->p) < n || memcmp(ps->p, word, n) != 0) {
        char b[32];
        return fail_at(ps, ps->p, "unexpected %s", describe(ps, b, sizeof b));
    }
    ps->p += n;
    return VKMM_OK;
}

static vkmm_status push_val(parser *ps, const vkmm_json *v)
{
    if (ps->n_vals == ps->cap_vals) {
        size_t cap = ps->cap_vals ? ps->cap_vals * 2 : 256;
        vkmm_json *nv = realloc(ps->vals, cap * sizeof *nv);
        if (!nv)
            return vkmm_fail(ps->err, VKMM_ERR_HOST_MEMORY, "%s: out of memory", ps->name);
        ps->vals = nv;
        ps->cap_vals = cap;
    }
    ps->vals[ps->n_vals++] = *v;
    return VKMM_OK;
}

static vkmm_status push_mem(parser *ps, const vkmm_json_member *m)
{
    if (ps->n_mems == ps->cap_mems) {
        size_t cap = ps->cap_mems ? ps->cap_mems * 2 : 64;
        vkmm_json_member *nm = realloc(ps->mems, cap * sizeof *nm);
        if (!nm)
            return vkmm_fail(ps->err, VKMM_ERR_HOST_MEMORY, "%s: out of memory", ps->name);
        ps->mems = nm;
        ps->cap_mems = cap;
    }
    ps->mems[ps->n_mems++] = *m;
    return VKMM_OK;
}

static vkmm_status parse_array(parser *ps, vkmm_json *out, uint32_t depth)
{
    const unsigned char *open = ps->p++;
    size_t base = ps->n_vals;
    vkmm_status s;
    skip_ws(ps);
    if (ps->p < ps->end && *ps->p == ']') {
        ps->p++;
    } else {
        for (;;) {
            vkmm_json v;
            if ((s = parse_value(ps, &v, depth + 1)) || (s = push_val(ps, &v)))
                return s;
            skip_ws(ps);
            if (ps->p < ps->end && *ps->p == ',') {
                ps->p++;
                continue;
            }
            if (ps->p < ps->end && *ps->p == ']') {
                ps->p++;
                break;
            }
            char b[32];
            if (ps->p >= ps->end)
                return fail_at(ps, open, "unterminated array");
            return fail_at(ps, ps->p, "expected ',' or ']' in an array, found %s", describe(ps, b, sizeof b));
        }
    }
    size_t n = ps->n_vals - base;
    vkmm_json *items = NULL;
    if (n) {
        items = arena_alloc(ps->doc, n * sizeof *items);
        if (!items)
            return vkmm_fail(ps->err, VKMM_ERR_HOST_MEMORY, "%s: out of memory", ps->name);
        memcpy(items, ps->vals + base, n * sizeof *items);
    }
    ps->n_vals = base;
    out->type = VKMM_JSON_ARRAY;
    out->u.arr.items = items;
    out->u.arr.n = n;
    return VKMM_OK;
}

static vkmm_status parse_object(parser *ps, vkmm_json *out, uint32_t depth)
{
    const unsigned char *open = ps->p++;
    size_t base = ps->n_mems;
    vkmm_status s;
    skip_ws(ps);
    if (ps->p < ps->end && *ps->p == '}') {
        ps->p++;
    } else {
        for (;;) {
            char b[32];
            skip_ws(ps);
            if (ps->p >= ps->end)
                return fail_at(ps, open, "unterminated object");
            if (*ps->p != '"')
                return fail_at(ps, ps->p, "expected a string key in an object, found %s", describe(ps, b, sizeof b));
            vkmm_json_member m;
            if ((s = parse_string(ps, &m.key, &m.key_len)))
                return s;
            skip_ws(ps);
            if (ps->p >= ps->end || *ps->p != ':')
                return fail_at(ps, ps->p, "expected ':' after an object key, found %s", describe(ps, b, sizeof b));
            ps->p++;
            if ((s = parse_value(ps, &m.value, depth + 1)) || (s = push_mem(ps, &m)))
                return s;
            skip_ws(ps);
            if (ps->p < ps->end && *ps->p == ',') {
                ps->p++;
                continue;
            }
            if (ps->p < ps->end && *ps->p == '}') {
                ps->p++;
                break;
            }
            if (ps->p >= ps->end)
                return fail_at(ps, open, "unterminated object");
            return fail_at(ps, ps->p, "expected ',' or '}' in an object, found %s", describe(ps, b, sizeof b));
        }
    }
    size_t n = ps->n_mems - base;
    vkmm_json_member *mem = NULL;
    if (n) {
        mem = arena_alloc(ps->doc, n * sizeof *mem);
        if (!mem)
            return vkmm_fail(ps->err, VKMM_ERR_HOST_MEMORY, "%s: out of memory", ps->name);
        memcpy(mem, ps->mems + base, n * sizeof *mem);
    }
    ps->n_mems = base;
    out->type = VKMM_JSON_OBJECT;
    out->u.obj.members = mem;
    out->u.obj.n = n;
    return VKMM_OK;
}

static vkmm_status parse_value(parser *ps, vkmm_json *out, uint32_t depth)
{
    skip_ws(ps);
    memset(out, 0, sizeof *out);
    if (ps->p >= ps->end)
        return fail_at(ps, ps->p, "unexpected end of input, a value was expected");
    if (++ps->n_values > ps->lim.max_values)
        return fail_at(ps, ps->p, "more than %zu values", ps->lim.max_values);
    position(ps, ps->p, &out->line, &out->col);
    switch (*ps->p) {
    case '{':
    case '[':
        if (depth >= ps->lim.max_depth)
            return fail_at(ps, ps->p, "nesting deeper than %u levels", ps->lim.max_depth);
        return *ps->p == '{' ? parse_object(ps, out, depth) : parse_array(ps, out, depth);
    case '"':
        out->type = VKMM_JSON_STRING;
        return parse_string(ps, &out->u.str.s, &out->u.str.len);
    case 't':
        out->type = VKMM_JSON_BOOL;
        out->u.b = true;
        return literal(ps, "true");
    case 'f':
        out->type = VKMM_JSON_BOOL;
        return literal(ps, "false");
    case 'n':
        out->type = VKMM_JSON_NULL;
        return literal(ps, "null");
    default:
        if (*ps->p == '-' || (*ps->p >= '0' && *ps->p <= '9'))
            return parse_number(ps, out);
        char b[32];
        return fail_at(ps, ps->p, "unexpected %s, a value was expected", describe(ps, b, sizeof b));
    }
}

vkmm_status vkmm_json_parse(const char *text, size_t len, const char *name, const vkmm_json_limits *lim,
                            vkmm_json_doc **out, vkmm_error *err)
{
    *out = NULL;
    parser ps = {0};
    ps.lim.max_input = (size_t)1 << 30;
    ps.lim.max_depth = 512;
    ps.lim.max_string = (size_t)256 << 20;
    ps.lim.max_values = (size_t)64 << 20;
    if (lim) {
        if (lim->max_input)
            ps.lim.max_input = lim->max_input;
        if (lim->max_depth)
            ps.lim.max_depth = lim->max_depth;
        if (lim->max_string)
            ps.lim.max_string = lim->max_string;
        if (lim->max_values)
            ps.lim.max_values = lim->max_values;
    }
    ps.name = name ? name : "<json>";
    ps.err = err;
    if (!text && len)
        return vkmm_fail(err, VKMM_ERR_INVALID_ARG, "%s: no text", ps.name);
    if (len > ps.lim.max_input)
        return vkmm_fail(err, VKMM_ERR_FORMAT, "%s: %zu bytes exceed the limit of %zu", ps.name, len, ps.lim.max_input);
    ps.start = ps.p = (const unsigned char *)(text ? text : "");
    ps.end = ps.p + len;
    if (len >= 3 && ps.p[0] == 0xEF && ps.p[1] == 0xBB && ps.p[2] == 0xBF)
        ps.p += 3;
    ps.doc = calloc(1, sizeof *ps.doc);
    if (!ps.doc)
        return vkmm_fail(err, VKMM_ERR_HOST_MEMORY, "%s: out of memory", ps.name);
    vkmm_status s = parse_value(&ps, &ps.doc->root, 0);
    if (!s) {
        skip_ws(&ps);
        if (ps.p < ps.end) {
            char b[32];
            s = fail_at(&ps, ps.p, "unexpected %s after the end of the document", describe(&ps, b, sizeof b));
        }
    }
    free(ps.vals);
    free(ps.mems);
    free(ps.sbuf);
    if (s) {
        vkmm_json_free(ps.doc);
        return s;
    }
    *out = ps.doc;
    return VKMM_OK;
}

vkmm_status vkmm_read_file(const char *path, size_t max_bytes, char **data, size_t *len, vkmm_error *err)
{
    *data = NULL;
    *len = 0;
    FILE *f = fopen(path, "rb");
    if (!f)
        return vkmm_fail(err, VKMM_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    size_t cap = 1 << 16, n = 0;
    char *buf = malloc(cap + 1);
    if (!buf) {
        fclose(f);
        return vkmm_fail(err, VKMM_ERR_HOST_MEMORY, "%s: out of memory", path);
    }
    for (;;) {
        if (n == cap) {
            if (cap > max_bytes) {
                free(buf);
                fclose(f);
                return vkmm_fail(err, VKMM_ERR_FORMAT, "%s: larger than the limit of %zu bytes", path, max_bytes);
            }
            cap *= 2;
            char *nb = realloc(buf, cap + 1);
            if (!nb) {
                free(buf);
                fclose(f);
                return vkmm_fail(err, VKMM_ERR_HOST_MEMORY, "%s: out of memory", path);
            }
            buf = nb;
        }
        size_t got = fread(buf + n, 1, cap - n, f);
        n += got;
        if (got == 0) {
            if (ferror(f)) {
                free(buf);
                fclose(f);
                return vkmm_fail(err, VKMM_ERR_IO, "%s: read error", path);
            }
            break;
        }
    }
    fclose(f);
    if (n > max_bytes) {
        free(buf);
        return vkmm_fail(err, VKMM_ERR_FORMAT, "%s: %zu bytes exceed the limit of %zu", path, n, max_bytes);
    }
    buf[n] = 0;
    *data = buf;
    *len = n;
    return VKMM_OK;
}

vkmm_status vkmm_json_parse_file(const char *path, const vkmm_json_limits *lim, vkmm_json_doc **out,
                                 vkmm_error *err)
{
    size_t max = lim && lim->max_input ? lim->max_input : (size_t)1 << 30;
    char *data;
    size_t len;
    vkmm_status s = vkmm_read_file(path, max, &data, &len, err);
    if (s)
        return s;
    s = vkmm_json_parse(data, len, path, lim, out, err);
    free(data);
    return s;
}

const vkmm_json *vkmm_json_root(const vkmm_json_doc *doc)
{
    return doc ? &doc->root : NULL;
}

void vkmm_json_free(vkmm_json_doc *doc)
{
    if (!doc)
        return;
    for (arena_block *b = doc->blocks, *next; b; b = next) {
        next = b->next;
        free(b);
    }
    free(doc);
}

const vkmm_json *vkmm_json_get(const vkmm_json *obj, const char *key)
{
    if (!obj || obj->type != VKMM_JSON_OBJECT)
        return NULL;
    size_t kl = strlen(key);
    for (size_t i = obj->u.obj.n; i-- > 0;) {
        const vkmm_json_member *m = &obj->u.obj.members[i];
        if (m->key_len == kl && !memcmp(m->key, key, kl))
            return &m->value;
    }
    return NULL;
}

const char *vkmm_json_string(const vkmm_json *v, size_t *len)
{
    if (!v || v->type != VKMM_JSON_STRING)
        return NULL;
    if (len)
        *len = v->u.str.len;
    return v->u.str.s;
}

bool vkmm_json_bool(const vkmm_json *v, bool *out)
{
    if (!v || v->type != VKMM_JSON_BOOL)
        return false;
    *out = v->u.b;
    return true;
}

bool vkmm_json_int(const vkmm_json *v, int64_t *out)
{
    if (!v || v->type != VKMM_JSON_NUMBER || !v->u.num.is_int)
        return false;
    *out = v->u.num.i;
    return true;
}

const char *vkmm_json_type_name(vkmm_json_type t)
{
    switch (t) {
    case VKMM_JSON_NULL: return "null";
    case VKMM_JSON_BOOL: return "boolean";
    case VKMM_JSON_NUMBER: return "number";
    case VKMM_JSON_STRING: return "string";
    case VKMM_JSON_ARRAY: return "array";
    case VKMM_JSON_OBJECT: return "object";
    }
    return "?";
}
