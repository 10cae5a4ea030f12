/* loader/gguf_read.c — opening a GGUF file (mmap, or bytes the caller owns) and validating all of it before
 * anyone reads it: header, every metadata value (nested arrays too), tensor infos, alignment, data bounds.
 * Every count, length and offset is checked against the bytes that remain before it is used, so memory
 * use stays proportional to the file and nothing is read past its end. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dtype_table.h"
#include "gguf_internal.h"

/* Smallest encodings, used to refuse counts the remaining bytes cannot hold before allocating for them. */
#define MIN_KV_BYTES 14          /* u64 key length, 1 key byte, u32 type, 1 value byte */
#define MIN_TENSOR_INFO_BYTES 33 /* u64 name length, 1 name byte, u32 n_dims, 1 x i64 ne, u32 type, u64 offset */
#define MIN_SUBARRAY_BYTES 12    /* u32 element type, u64 count */
#define MAX_SUBARRAYS 65536      /* nested arrays in a whole file; real files have none */

typedef struct cursor {
    vkmm_gguf *g;
    uint64_t pos;
    uint64_t subarrays;
    vkmm_error *err;
    char ctx[160]; /* "metadata pair 3 of 40 ('general.name')": where in the file we are, for messages */
} cursor;

static vkmm_status __attribute__((format(printf, 4, 5)))
report(cursor *c, vkmm_status code, uint64_t at, const char *fmt, ...)
{
    char what[640];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    return vkmm_fail(c->err, code, "%s: %s%s%s (at byte %" PRIu64 ")", c->g->path, what, c->ctx[0] ? " in " : "",
                     c->ctx, at);
}

/* A corrupt file, and a valid one this reader does not handle (version, big-endian, extreme nesting). */
#define bad(c, at, ...) report(c, VKMM_ERR_FORMAT, at, __VA_ARGS__)
#define unsupported(c, at, ...) report(c, VKMM_ERR_UNSUPPORTED, at, __VA_ARGS__)

static uint64_t remaining(const cursor *c)
{
    return c->g->size - c->pos;
}

static vkmm_status need(cursor *c, uint64_t n, const char *what)
{
    if (n <= remaining(c))
        return VKMM_OK;
    return bad(c, c->pos, "truncated: %s needs %" PRIu64 " bytes but the file ends %" PRIu64 " bytes later", what,
               n, remaining(c));
}

static vkmm_status read_uint(cursor *c, const char *what, size_t bytes, uint64_t *out)
{
    vkmm_status s = need(c, bytes, what);
    if (s)
        return s;
    *out = vkmm_gguf_le(c->g->base + c->pos, bytes);
    c->pos += bytes;
    return VKMM_OK;
}

static vkmm_status read_u64(cursor *c, const char *what, uint64_t *out)
{
    return read_uint(c, what, 8, out);
}

static vkmm_status read_u32(cursor *c, const char *what, uint32_t *out)
{
    uint64_t v = 0;
    vkmm_status s = read_uint(c, what, 4, &v);
    *out = (uint32_t)v;
    return s;
}

/* A string's length field and bytes; *at is where the length field starts. */
static vkmm_status read_string(cursor *c, const char *what, const uint8_t **ptr, uint64_t *len, uint64_t *at)
{
    *at = c->pos;
    vkmm_status s = read_u64(c, what, len);
    if (s)
        return s;
    if (*len > remaining(c))
        return bad(c, *at, "%s is %" PRIu64 " bytes long but only %" PRIu64 " bytes remain in the file", what,
                   *len, remaining(c));
    *ptr = c->g->base + c->pos;
    c->pos += *len;
    return VKMM_OK;
}

/* Names go into messages: keep them to one printable line. */
static void printable(char *out, size_t size, const uint8_t *p, uint64_t len)
{
    size_t room = size - 1; /* size is at least 8 at every call */
    bool cut = len > room;
    size_t take = cut ? room - 3 : (size_t)len, n;
    for (n = 0; n < take; n++)
        out[n] = (p[n] < 0x20 || p[n] == 0x7f) ? '?' : (char)p[n];
    if (cut) {
        memcpy(out + n, "...", 3);
        n += 3;
    }
    out[n] = 0;
}

static vkmm_status parse_array(cursor *c, int depth, vkmm_gguf_value *v);

/* The value of a type already checked to be a valid id. */
static vkmm_status parse_value(cursor *c, vkmm_gguf_type type, int depth, vkmm_gguf_value *v)
{
    memset(v, 0, sizeof *v);
    v->type = type;
    v->offset = c->pos;
    v->raw = c->g->base + c->pos;
    vkmm_status s = VKMM_OK;
    size_t fixed = vkmm_gguf_type_size(type);
    if (fixed) {
        if ((s = need(c, fixed, "the value")))
            return s;
        if (type == VKMM_GGUF_BOOL && v->raw[0] > 1)
            return bad(c, c->pos, "bool value is %u; only 0 and 1 are valid", v->raw[0]);
        c->pos += fixed;
    } else if (type == VKMM_GGUF_STRING) {
        const uint8_t *p;
        uint64_t len, at;
        s = read_string(c, "the string value", &p, &len, &at);
    } else {
        s = parse_array(c, depth, v);
    }
    v->size = c->pos - v->offset;
    return s;
}

static vkmm_status parse_array(cursor *c, int depth, vkmm_gguf_value *v)
{
    vkmm_gguf *g = c->g;
    uint64_t at = c->pos;
    if (depth >= VKMM_GGUF_MAX_NESTING)
        return bad(c, at, "arrays are nested more than %d deep", VKMM_GGUF_MAX_NESTING);
    uint32_t et;
    vkmm_status s = read_u32(c, "the array element type", &et);
    if (s)
        return s;
    if (et >= VKMM_GGUF_TYPE_COUNT)
        return bad(c, at, "unknown array element type %" PRIu32, et);
    uint64_t count_at = c->pos, count;
    if ((s = read_u64(c, "the array element count", &count)))
        return s;
    v->elem_type = (vkmm_gguf_type)et;
    v->count = count;
    if (count >> 63)
        return bad(c, count_at, "array element count %" PRIu64 " is not a valid count (2^63 or more)", count);
    size_t fixed = vkmm_gguf_type_size(et);
    uint64_t min = fixed ? fixed : et == VKMM_GGUF_STRING ? 8 : MIN_SUBARRAY_BYTES;
    if (count > remaining(c) / min)
        return bad(c, count_at,
                   "array of %" PRIu64 " %s elements cannot fit in the %" PRIu64 " bytes left in the file (each "
                   "takes at least %" PRIu64 ")",
                   count, vkmm_gguf_type_name(et), remaining(c), min);
    if (fixed) {
        const uint8_t *p = g->base + c->pos;
        if (et == VKMM_GGUF_BOOL)
            for (uint64_t i = 0; i < count; i++)
                if (p[i] > 1)
                    return bad(c, c->pos + i, "bool element %" PRIu64 " is %u; only 0 and 1 are valid", i, p[i]);
        c->pos += count * fixed;
        return VKMM_OK;
    }
    if (et == VKMM_GGUF_ARRAY) {
        if (count > MAX_SUBARRAYS - c->subarrays)
            return unsupported(c, count_at, "more than %d nested arrays in one file", MAX_SUBARRAYS);
        c->subarrays += count;
    }
    uint64_t *off = vkmm_gguf_alloc(g, count, sizeof *off);
    vkmm_gguf_value *elems = et == VKMM_GGUF_ARRAY ? vkmm_gguf_alloc(g, count, sizeof *elems) : NULL;
    if (count && (!off || (et == VKMM_GGUF_ARRAY && !elems)))
        return vkmm_fail(c->err, VKMM_ERR_HOST_MEMORY, "%s: out of memory for an array of %" PRIu64 " elements",
                         g->path, count);
    for (uint64_t i = 0; i < count; i++) {
        off[i] = c->pos - v->offset;
        if (et == VKMM_GGUF_STRING) {
            const uint8_t *p;
            uint64_t len, sat;
            s = read_string(c, "the string element", &p, &len, &sat);
        } else {
            s = parse_value(c, VKMM_GGUF_ARRAY, depth + 1, &elems[i]);
        }
        if (s)
            return s;
    }
    v->elem_off = off;
    v->elems = elems;
    return VKMM_OK;
}

static bool grow(void **arr, uint64_t *cap, uint64_t n, size_t elem)
{
    if (n < *cap)
        return true;
    uint64_t ncap = *cap ? *cap * 2 : 16;
    if (ncap > SIZE_MAX / elem)
        return false;
    void *p = realloc(*arr, (size_t)(ncap * elem));
    if (!p)
        return false;
    memset((char *)p + *cap * elem, 0, (size_t)((ncap - *cap) * elem));
    *arr = p;
    *cap = ncap;
    return true;
}

static vkmm_status no_memory(cursor *c)
{
    return vkmm_fail(c->err, VKMM_ERR_HOST_MEMORY, "%s: out of memory while reading the metadata", c->g->path);
}

static vkmm_status parse_header(cursor *c)
{
    vkmm_gguf *g = c->g;
    if (g->size == 0)
        return bad(c, 0, "the file is empty");
    vkmm_status s = need(c, 4, "the magic 'GGUF'");
    if (s)
        return s;
    if (memcmp(g->base, "GGUF", 4)) {
        char m[8];
        printable(m, sizeof m, g->base, 4);
        return bad(c, 0, "not a GGUF file: the magic is '%s' (bytes %02x %02x %02x %02x), not 'GGUF'", m,
                   g->base[0], g->base[1], g->base[2], g->base[3]);
    }
    c->pos = 4;
    if ((s = read_u32(c, "the version", &g->version)))
        return s;
    if (g->version == 0)
        return bad(c, 4, "version 0 is not a GGUF version");
    if ((g->version & 0xffff) == 0)
        return unsupported(c, 4, "version field 0x%08" PRIx32 " looks big-endian; only little-endian files are "
                           "supported", g->version);
    if (g->version == 1)
        return unsupported(c, 4, "GGUF version 1 is no longer supported (only versions 2 and 3)");
    if (g->version > 3)
        return unsupported(c, 4, "GGUF version %" PRIu32 " is newer than this reader (versions 2 and 3)",
                           g->version);
    uint64_t nt_at = c->pos;
    if ((s = read_u64(c, "the tensor count", &g->n_tensors)))
        return s;
    uint64_t nkv_at = c->pos;
    if ((s = read_u64(c, "the metadata count", &g->n_kv)))
        return s;
    if (g->n_tensors >> 63)
        return bad(c, nt_at, "tensor count %" PRIu64 " is not a valid count (2^63 or more)", g->n_tensors);
    if (g->n_kv >> 63)
        return bad(c, nkv_at, "metadata count %" PRIu64 " is not a valid count (2^63 or more)", g->n_kv);
    uint64_t left = remaining(c);
    if (g->n_kv > left / MIN_KV_BYTES)
        return bad(c, nkv_at, "%" PRIu64 " metadata pairs cannot fit in the %" PRIu64 " bytes left in the file",
                   g->n_kv, left);
    if (g->n_tensors > (left - g->n_kv * MIN_KV_BYTES) / MIN_TENSOR_INFO_BYTES)
        return bad(c, nt_at, "%" PRIu64 " tensor infos and %" PRIu64 " metadata pairs cannot fit in the %" PRIu64
                   " bytes left in the file", g->n_tensors, g->n_kv, left);
    return VKMM_OK;
}

static vkmm_status parse_kv(cursor *c)
{
    vkmm_gguf *g = c->g;
    uint64_t cap = 0;
    for (uint64_t i = 0; i < g->n_kv; i++) {
        snprintf(c->ctx, sizeof c->ctx, "metadata pair %" PRIu64 " of %" PRIu64, i + 1, g->n_kv);
        if (!grow((void **)&g->kv, &cap, i, sizeof *g->kv))
            return no_memory(c);
        vkmm_gguf_kv *kv = &g->kv[i];
        kv->offset = c->pos;
        const uint8_t *key;
        uint64_t len, key_at;
        vkmm_status s = read_string(c, "the key", &key, &len, &key_at);
        if (s)
            return s;
        if (len == 0)
            return bad(c, key_at, "empty key");
        if (len > VKMM_GGUF_MAX_KEY)
            return bad(c, key_at, "key is %" PRIu64 " bytes long; at most %d are allowed", len, VKMM_GGUF_MAX_KEY);
        if (memchr(key, 0, (size_t)len))
            return bad(c, key_at, "key contains a NUL byte");
        char *copy = vkmm_gguf_alloc(g, len + 1, 1);
        if (!copy)
            return no_memory(c);
        memcpy(copy, key, (size_t)len);
        kv->key = copy;
        kv->key_len = len;
        char shown[72];
        printable(shown, sizeof shown, key, len);
        snprintf(c->ctx, sizeof c->ctx, "metadata pair %" PRIu64 " of %" PRIu64 " ('%s')", i + 1, g->n_kv, shown);
        uint64_t type_at = c->pos;
        uint32_t type;
        if ((s = read_u32(c, "the value type", &type)))
            return s;
        if (type >= VKMM_GGUF_TYPE_COUNT)
            return bad(c, type_at, "unknown value type %" PRIu32, type);
        if ((s = parse_value(c, (vkmm_gguf_type)type, 0, &kv->value)))
            return s;
    }
    c->ctx[0] = 0;
    if (!vkmm_gguf_index_init(g, &g->kv_index, g->n_kv))
        return no_memory(c);
    for (uint64_t i = 0; i < g->n_kv; i++) {
        uint64_t dup = vkmm_gguf_kv_index_add(g, i);
        if (dup != UINT64_MAX) {
            char shown[72];
            printable(shown, sizeof shown, (const uint8_t *)g->kv[i].key, g->kv[i].key_len);
            return bad(c, g->kv[i].offset, "duplicate key '%s' (first defined at byte %" PRIu64 ")", shown,
                       g->kv[dup].offset);
        }
    }
    return VKMM_OK;
}

static vkmm_status parse_alignment(cursor *c)
{
    vkmm_gguf *g = c->g;
    g->alignment = VKMM_GGUF_DEFAULT_ALIGNMENT;
    const vkmm_gguf_kv *kv = vkmm_gguf_find(g, "general.alignment");
    if (!kv)
        return VKMM_OK;
    /* the format fixes its type: a reader that took any integer would accept files no other reader opens */
    uint64_t a;
    if (kv->value.type != VKMM_GGUF_U32 || !vkmm_gguf_value_u64(&kv->value, &a))
        return bad(c, kv->value.offset, "general.alignment must be a u32 value (as the GGUF format specifies), not "
                   "a %s%s", vkmm_gguf_type_name(kv->value.type), kv->value.type == VKMM_GGUF_ARRAY ? "" : " value");
    if (a == 0 || (a & (a - 1)) || a > (1u << 30))
        return bad(c, kv->value.offset, "general.alignment must be a nonzero power of two (up to 2^30), not %" PRIu64,
                   a);
    g->alignment = (uint32_t)a;
    return VKMM_OK;
}

/* Names of the type ids that once existed and were removed, for a clearer message. */
static const char *removed_type_name(uint32_t type)
{
    switch (type) {
    case 4: return "Q4_2";
    case 5: return "Q4_3";
    case 31: return "Q4_0_4_4";
    case 32: return "Q4_0_4_8";
    case 33: return "Q4_0_8_8";
    case 36: return "IQ4_NL_4_4";
    case 37: return "IQ4_NL_4_8";
    case 38: return "IQ4_NL_8_8";
    default: return NULL;
    }
}

/* "tensor info 3 of 900 ('name')" with the name made printable: names come from the file. */
static void tensor_ctx(cursor *c, uint64_t i, const vkmm_gguf_tensor *t)
{
    char shown[VKMM_GGUF_MAX_NAME];
    printable(shown, sizeof shown, (const uint8_t *)t->name, strlen(t->name));
    snprintf(c->ctx, sizeof c->ctx, "tensor info %" PRIu64 " of %" PRIu64 " ('%s')", i + 1, c->g->n_tensors, shown);
}

static vkmm_status parse_tensor_info(cursor *c, uint64_t i, vkmm_gguf_tensor *t)
{
    vkmm_gguf *g = c->g;
    snprintf(c->ctx, sizeof c->ctx, "tensor info %" PRIu64 " of %" PRIu64, i + 1, g->n_tensors);
    t->info_offset = c->pos;
    const uint8_t *name;
    uint64_t len, name_at;
    vkmm_status s = read_string(c, "the tensor name", &name, &len, &name_at);
    if (s)
        return s;
    if (len == 0)
        return bad(c, name_at, "empty tensor name");
    if (len >= VKMM_GGUF_MAX_NAME)
        return bad(c, name_at, "tensor name is %" PRIu64 " bytes long; at most %d are allowed", len,
                   VKMM_GGUF_MAX_NAME - 1);
    if (memchr(name, 0, (size_t)len))
        return bad(c, name_at, "tensor name contains a NUL byte");
    memcpy(t->name, name, (size_t)len);
    tensor_ctx(c, i, t);

    uint64_t nd_at = c->pos;
    if ((s = read_u32(c, "the dimension count", &t->n_dims)))
        return s;
    if (t->n_dims == 0 || t->n_dims > VKMM_GGUF_MAX_DIMS)
        return bad(c, nd_at, "tensor has %" PRIu32 " dimensions; 1 to %d are allowed", t->n_dims, VKMM_GGUF_MAX_DIMS);
    uint64_t ne_at = c->pos;
    for (uint32_t d = 0; d < VKMM_GGUF_MAX_DIMS; d++) {
        t->ne[d] = 1;
        if (d >= t->n_dims)
            continue;
        uint64_t at = c->pos;
        if ((s = read_u64(c, "the tensor shape", &t->ne[d])))
            return s;
        if (t->ne[d] >> 63)
            return bad(c, at, "ne[%" PRIu32 "] = %" PRId64 " is negative", d, (int64_t)t->ne[d]);
    }
    uint64_t type_at = c->pos;
    if ((s = read_u32(c, "the tensor type", &t->type)))
        return s;
    const vkmm_dtype_info *info = vkmm_dtype_get(t->type);
    if (!info || !info->block || !info->block_bytes) {
        const char *removed = removed_type_name(t->type);
        if (removed)
            return bad(c, type_at, "tensor type %" PRIu32 " (%s) was removed from the format", t->type, removed);
        return bad(c, type_at, "unknown tensor type %" PRIu32, t->type);
    }
    if (t->ne[0] % info->block)
        return bad(c, ne_at, "ne[0] = %" PRIu64 " is not a multiple of the %s block size %" PRIu32, t->ne[0],
                   info->name, info->block);
    /* element count and byte size must fit in int64, as the format's users compute them that way */
    uint64_t n = 1;
    for (uint32_t d = 0; d < VKMM_GGUF_MAX_DIMS; d++)
        if (__builtin_mul_overflow(n, t->ne[d], &n) || n > (uint64_t)INT64_MAX)
            return bad(c, ne_at, "the element count of shape [%" PRIu64 ", %" PRIu64 ", %" PRIu64 ", %" PRIu64
                       "] overflows", t->ne[0], t->ne[1], t->ne[2], t->ne[3]);
    t->n_elements = n;
    uint64_t bytes = t->ne[0] / info->block;
    bool over = __builtin_mul_overflow(bytes, (uint64_t)info->block_bytes, &bytes);
    for (uint32_t d = 1; d < VKMM_GGUF_MAX_DIMS && !over; d++)
        over = __builtin_mul_overflow(bytes, t->ne[d], &bytes);
    if (over || bytes > (uint64_t)INT64_MAX)
        return bad(c, ne_at, "the byte size of a %s tensor of %" PRIu64 " elements overflows", info->name, n);
    t->n_bytes = bytes;
    uint64_t off_at = c->pos;
    if ((s = read_u64(c, "the tensor data offset", &t->offset)))
        return s;
    if (t->offset % g->alignment)
        return bad(c, off_at, "tensor data offset %" PRIu64 " is not a multiple of the alignment %" PRIu32,
                   t->offset, g->alignment);
    return VKMM_OK;
}

/* Where the offset field of a parsed tensor info is: it follows the name, n_dims, ne[] and type fields. */
static uint64_t offset_field_at(const vkmm_gguf_tensor *t)
{
    return t->info_offset + 8 + strlen(t->name) + 4 + 8ull * t->n_dims + 4;
}

typedef struct span {
    uint64_t off, end, index;
} span;

static int cmp_span(const void *a, const void *b)
{
    const span *x = a, *y = b;
    if (x->off != y->off)
        return x->off < y->off ? -1 : 1;
    return x->index < y->index ? -1 : x->index > y->index;
}

/* No byte of tensor data may belong to two tensors: no writer makes such a file, and the weights bound from
 * it would alias each other. Tensors of zero bytes own nothing. Sorted by offset, disjoint tensors each start
 * at or after the end of the one before, so the first overlap is always with the previous tensor. */
static vkmm_status check_overlap(cursor *c)
{
    vkmm_gguf *g = c->g;
    if (g->n_tensors < 2)
        return VKMM_OK;
    span *v = malloc(g->n_tensors * sizeof *v); /* n_tensors was bounded by the file's size */
    if (!v)
        return no_memory(c);
    uint64_t n = 0;
    for (uint64_t i = 0; i < g->n_tensors; i++)
        if (g->tensors[i].n_bytes)
            v[n++] = (span){g->tensors[i].offset, g->tensors[i].offset + g->tensors[i].n_bytes, i};
    qsort(v, n, sizeof *v, cmp_span);
    vkmm_status s = VKMM_OK;
    for (uint64_t k = 1; k < n && !s; k++) {
        if (v[k].off >= v[k - 1].end)
            continue;
        const vkmm_gguf_tensor *t = &g->tensors[v[k].index], *o = &g->tensors[v[k - 1].index];
        char other[VKMM_GGUF_MAX_NAME];
        printable(other, sizeof other, (const uint8_t *)o->name, strlen(o->name));
        tensor_ctx(c, v[k].index, t);
        s = bad(c, offset_field_at(t), "tensor data (%" PRIu64 " bytes at data offset %" PRIu64 ") overlaps the "
                "data of tensor '%s' (%" PRIu64 " bytes at data offset %" PRIu64 ")", t->n_bytes, t->offset, other,
                o->n_bytes, o->offset);
    }
    free(v);
    return s;
}

static vkmm_status parse_tensors(cursor *c)
{
    vkmm_gguf *g = c->g;
    uint64_t cap = 0;
    for (uint64_t i = 0; i < g->n_tensors; i++) {
        if (!grow((void **)&g->tensors, &cap, i, sizeof *g->tensors))
            return no_memory(c);
        vkmm_status s = parse_tensor_info(c, i, &g->tensors[i]);
        if (s)
            return s;
    }
    c->ctx[0] = 0;
    if (!vkmm_gguf_index_init(g, &g->tensor_index, g->n_tensors))
        return no_memory(c);
    for (uint64_t i = 0; i < g->n_tensors; i++) {
        uint64_t dup = vkmm_gguf_tensor_index_add(g, i);
        if (dup != UINT64_MAX) {
            tensor_ctx(c, i, &g->tensors[i]);
            return bad(c, g->tensors[i].info_offset, "duplicate tensor name (first at byte %" PRIu64 ")",
                       g->tensors[dup].info_offset);
        }
    }
    /* the data section starts at the next multiple of the alignment; pos <= size < 2^63 so this cannot wrap */
    uint64_t a = g->alignment;
    g->data_offset = g->n_tensors ? (c->pos + a - 1) / a * a : c->pos;
    if (g->data_offset > g->size)
        return bad(c, c->pos, "truncated: the file ends at byte %" PRIu64 " before the tensor data, which starts "
                   "at byte %" PRIu64 " (alignment %" PRIu32 ")", g->size, g->data_offset, g->alignment);
    uint64_t avail = g->size - g->data_offset;
    for (uint64_t i = 0; i < g->n_tensors; i++) {
        vkmm_gguf_tensor *t = &g->tensors[i];
        if (t->offset > avail || t->n_bytes > avail - t->offset) {
            tensor_ctx(c, i, t);
            return bad(c, offset_field_at(t), "tensor data (%" PRIu64 " bytes at data offset %" PRIu64 ", file "
                       "offset %" PRIu64 " + %" PRIu64 ") runs past the end of the file (%" PRIu64 " bytes)",
                       t->n_bytes, t->offset, g->data_offset, t->offset, g->size);
        }
        t->file_offset = g->data_offset + t->offset;
        t->data = g->base + t->file_offset;
    }
    return check_overlap(c);
}

static vkmm_status parse(vkmm_gguf *g, vkmm_error *err)
{
    cursor c = {.g = g, .err = err};
    vkmm_status s = parse_header(&c);
    if (!s)
        s = parse_kv(&c);
    if (!s)
        s = parse_alignment(&c);
    if (!s)
        s = parse_tensors(&c);
    return s;
}

static vkmm_gguf *new_file(const char *name)
{
    vkmm_gguf *g = calloc(1, sizeof *g);
    if (g && !(g->path = strdup(name))) {
        free(g);
        g = NULL;
    }
    return g;
}

static vkmm_status finish_open(vkmm_gguf *g, vkmm_gguf **out, vkmm_error *err)
{
    vkmm_status s = parse(g, err);
    if (s) {
        vkmm_gguf_close(g);
        return s;
    }
    *out = g;
    return VKMM_OK;
}

vkmm_status vkmm_gguf_open_memory(const void *data, size_t size, const char *name, vkmm_gguf **out,
                                  vkmm_error *err)
{
    *out = NULL;
    if (!name)
        name = "<memory>";
    if (!data && size)
        return vkmm_fail(err, VKMM_ERR_INVALID_ARG, "%s: no data", name);
    vkmm_gguf *g = new_file(name);
    if (!g)
        return vkmm_fail(err, VKMM_ERR_HOST_MEMORY, "%s: out of memory", name);
    g->base = data;
    g->size = size;
    return finish_open(g, out, err);
}

vkmm_status vkmm_gguf_open(const char *path, vkmm_gguf **out, vkmm_error *err)
{
    *out = NULL;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return vkmm_fail(err, VKMM_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    struct stat st;
    if (fstat(fd, &st)) {
        int e = errno;
        close(fd);
        return vkmm_fail(err, VKMM_ERR_IO, "%s: cannot stat: %s", path, strerror(e));
    }
    if (!S_ISREG(st.st_mode)) {
        close(fd);
        return vkmm_fail(err, VKMM_ERR_IO, "%s: not a regular file", path);
    }
    if ((uint64_t)st.st_size > SIZE_MAX || (uint64_t)st.st_size >> 62) {
        close(fd);
        return vkmm_fail(err, VKMM_ERR_UNSUPPORTED, "%s: file of %jd bytes is too large to map", path,
                         (intmax_t)st.st_size);
    }
    vkmm_gguf *g = new_file(path);
    if (!g) {
        close(fd);
        return vkmm_fail(err, VKMM_ERR_HOST_MEMORY, "%s: out of memory", path);
    }
    g->size = (uint64_t)st.st_size;
    if (g->size) {
        void *p = mmap(NULL, (size_t)g->size, PROT_READ, MAP_PRIVATE, fd, 0);
        if (p == MAP_FAILED) {
            int e = errno;
            close(fd);
            vkmm_gguf_close(g);
            return vkmm_fail(err, VKMM_ERR_IO, "%s: cannot map %" PRIu64 " bytes: %s", path, (uint64_t)st.st_size,
                             strerror(e));
        }
        g->base = p;
        g->mapped = true;
    }
    close(fd); /* the mapping keeps the file open */
    return finish_open(g, out, err);
}

void vkmm_gguf_close(vkmm_gguf *g)
{
    if (!g)
        return;
    if (g->mapped)
        munmap((void *)g->base, (size_t)g->size);
    free(g->kv);
    free(g->tensors);
    vkmm_gguf_free_arena(g);
    free(g->path);
    free(g);
}

/* ---- arena ---- */

struct vkmm_gguf_chunk {
    vkmm_gguf_chunk *next;
    max_align_t data[];
};

void *vkmm_gguf_alloc(vkmm_gguf *g, uint64_t count, uint64_t elem_size)
{
    uint64_t n;
    if (__builtin_mul_overflow(count, elem_size, &n) || n > SIZE_MAX - sizeof(vkmm_gguf_chunk))
        return NULL;
    vkmm_gguf_chunk *ch = calloc(1, sizeof *ch + (size_t)n);
    if (!ch)
        return NULL;
    ch->next = g->chunks;
    g->chunks = ch;
    return ch->data;
}

void vkmm_gguf_free_arena(vkmm_gguf *g)
{
    while (g->chunks) {
        vkmm_gguf_chunk *next = g->chunks->next;
        free(g->chunks);
        g->chunks = next;
    }
}
