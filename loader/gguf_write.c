/* loader/gguf_write.c — building GGUF files: metadata of every value type, tensors from memory or from a
 * row-filling callback, alignment honoured, written atomically (temporary file, fsync, rename) or to memory.
 * It checks what the reader checks, so what it writes always reads back. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dtype_table.h"
#include "gguf.h"

#define FILL_CHUNK_BYTES (4u << 20) /* rows handed to a fill callback at once */
#define SINK_BUFFER_BYTES (1u << 16)

typedef struct wkv {
    char *key;
    size_t key_len;
    uint32_t type;
    uint8_t *bytes; /* the encoded value */
    size_t size;
} wkv;

typedef struct wtensor {
    char name[VKMM_GGUF_MAX_NAME];
    uint32_t type, n_dims;
    uint64_t ne[VKMM_GGUF_MAX_DIMS];
    uint64_t row_bytes, n_rows, n_bytes, offset;
    const void *data;
    vkmm_gguf_fill_fn fill;
    void *user;
} wtensor;

struct vkmm_gguf_writer {
    wkv *kv;
    size_t n_kv, cap_kv;
    wtensor *t;
    size_t n_t, cap_t;
    uint32_t version, alignment;
    vkmm_error first; /* the first add_* failure, reported again by write_* */
};

static vkmm_status __attribute__((format(printf, 3, 4))) wfail(vkmm_gguf_writer *w, vkmm_status code,
                                                               const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    if (w->first.code == VKMM_OK)
        vkmm_vfail(&w->first, code, fmt, ap);
    va_end(ap);
    return code;
}

vkmm_gguf_writer *vkmm_gguf_writer_new(void)
{
    vkmm_gguf_writer *w = calloc(1, sizeof *w);
    if (w) {
        w->version = 3;
        w->alignment = VKMM_GGUF_DEFAULT_ALIGNMENT;
    }
    return w;
}

void vkmm_gguf_writer_free(vkmm_gguf_writer *w)
{
    if (!w)
        return;
    for (size_t i = 0; i < w->n_kv; i++) {
        free(w->kv[i].key);
        free(w->kv[i].bytes);
    }
    free(w->kv);
    free(w->t);
    free(w);
}

vkmm_status vkmm_gguf_writer_set_version(vkmm_gguf_writer *w, uint32_t version)
{
    if (version != 2 && version != 3)
        return wfail(w, VKMM_ERR_INVALID_ARG, "gguf writer: version %" PRIu32 " (only 2 and 3 are written)", version);
    w->version = version;
    return VKMM_OK;
}

/* ---- encoding ---- */

static void put_le(uint8_t *p, uint64_t v, size_t bytes)
{
    for (size_t i = 0; i < bytes; i++, v >>= 8)
        p[i] = (uint8_t)v;
}

/* One scalar from its C type into its little-endian encoding. */
static void encode_scalar(uint8_t *out, vkmm_gguf_type type, const void *value)
{
    uint64_t v = 0;
    switch (type) {
    case VKMM_GGUF_U8: v = *(const uint8_t *)value; break;
    case VKMM_GGUF_I8: v = (uint8_t) * (const int8_t *)value; break;
    case VKMM_GGUF_U16: v = *(const uint16_t *)value; break;
    case VKMM_GGUF_I16: v = (uint16_t) * (const int16_t *)value; break;
    case VKMM_GGUF_U32: v = *(const uint32_t *)value; break;
    case VKMM_GGUF_I32: v = (uint32_t) * (const int32_t *)value; break;
    case VKMM_GGUF_U64: v = *(const uint64_t *)value; break;
    case VKMM_GGUF_I64: v = (uint64_t) * (const int64_t *)value; break;
    case VKMM_GGUF_BOOL: v = *(const bool *)value ? 1 : 0; break;
    case VKMM_GGUF_F32: {
        uint32_t bits;
        memcpy(&bits, value, 4);
        v = bits;
        break;
    }
    case VKMM_GGUF_F64: memcpy(&v, value, 8); break;
    default: break;
    }
    put_le(out, v, vkmm_gguf_type_size(type));
}

static size_t c_size(vkmm_gguf_type type)
{
    return type == VKMM_GGUF_BOOL ? sizeof(bool) : vkmm_gguf_type_size(type);
}

static bool is_scalar(uint32_t type)
{
    return vkmm_gguf_type_size(type) != 0;
}

/* ---- metadata ---- */

/* The value of an encoded non-negative integer of any width. */
static bool encoded_uint(uint32_t type, const uint8_t *b, size_t size, uint64_t *out)
{
    bool is_signed = type == VKMM_GGUF_I8 || type == VKMM_GGUF_I16 || type == VKMM_GGUF_I32 || type == VKMM_GGUF_I64;
    bool is_unsigned = type == VKMM_GGUF_U8 || type == VKMM_GGUF_U16 || type == VKMM_GGUF_U32 || type == VKMM_GGUF_U64;
    if ((!is_signed && !is_unsigned) || size != vkmm_gguf_type_size(type) || (is_signed && b[size - 1] & 0x80))
        return false;
    uint64_t v = 0;
    for (size_t i = size; i-- > 0;)
        v = v << 8 | b[i];
    *out = v;
    return true;
}

/* Takes ownership of bytes (freed on failure too). */
static vkmm_status add_kv(vkmm_gguf_writer *w, const char *key, uint32_t type, uint8_t *bytes, size_t size)
{
    size_t len = key ? strlen(key) : 0;
    vkmm_status s = VKMM_OK;
    if (!bytes)
        s = wfail(w, VKMM_ERR_HOST_MEMORY, "gguf writer: out of memory for key '%s'", key ? key : "");
    else if (len == 0)
        s = wfail(w, VKMM_ERR_INVALID_ARG, "gguf writer: empty key");
    else if (len > VKMM_GGUF_MAX_KEY)
        s = wfail(w, VKMM_ERR_INVALID_ARG, "gguf writer: key of %zu bytes (at most %d)", len, VKMM_GGUF_MAX_KEY);
    for (size_t i = 0; !s && i < w->n_kv; i++)
        if (!strcmp(w->kv[i].key, key))
            s = wfail(w, VKMM_ERR_INVALID_ARG, "gguf writer: duplicate key '%s'", key);
    uint64_t a;
    if (!s && !strcmp(key, "general.alignment")) {
        /* the reader's rule: a u32 holding a power of two up to 2^30 */
        if (type != VKMM_GGUF_U32 || !encoded_uint(type, bytes, size, &a) || a == 0 || (a & (a - 1)) ||
            a > (1u << 30))
            s = wfail(w, VKMM_ERR_INVALID_ARG, "gguf writer: general.alignment must be a u32 power of two up to "
                      "2^30");
        else
            w->alignment = (uint32_t)a;
    }
    if (!s && w->n_kv == w->cap_kv) {
        size_t cap = w->cap_kv ? w->cap_kv * 2 : 32;
        wkv *kv = realloc(w->kv, cap * sizeof *kv);
        if (!kv)
            s = wfail(w, VKMM_ERR_HOST_MEMORY, "gguf writer: out of memory");
        else {
            w->kv = kv;
            w->cap_kv = cap;
        }
    }
    char *k = s ? NULL : strdup(key);
    if (!s && !k)
        s = wfail(w, VKMM_ERR_HOST_MEMORY, "gguf writer: out of memory");
    if (s) {
        free(bytes);
        return s;
    }
    w->kv[w->n_kv++] = (wkv){k, len, type, bytes, size};
    return VKMM_OK;
}

vkmm_status vkmm_gguf_writer_add_raw(vkmm_gguf_writer *w, const char *key, uint32_t type, const void *encoded,
                                     size_t size)
{
    uint8_t *b = malloc(size ? size : 1);
    if (b && size)
        memcpy(b, encoded, size);
    return add_kv(w, key, type, b, size);
}

vkmm_status vkmm_gguf_writer_add_scalar(vkmm_gguf_writer *w, const char *key, vkmm_gguf_type type,
                                        const void *value)
{
    if (!is_scalar(type))
        return wfail(w, VKMM_ERR_INVALID_ARG, "gguf writer: key '%s': %s is not a scalar type", key,
                     vkmm_gguf_type_name(type));
    uint8_t *b = malloc(8);
    if (b)
        encode_scalar(b, type, value);
    return add_kv(w, key, type, b, vkmm_gguf_type_size(type));
}

vkmm_status vkmm_gguf_writer_add_u32(vkmm_gguf_writer *w, const char *key, uint32_t v)
{
    return vkmm_gguf_writer_add_scalar(w, key, VKMM_GGUF_U32, &v);
}

vkmm_status vkmm_gguf_writer_add_i32(vkmm_gguf_writer *w, const char *key, int32_t v)
{
    return vkmm_gguf_writer_add_scalar(w, key, VKMM_GGUF_I32, &v);
}

vkmm_status vkmm_gguf_writer_add_u64(vkmm_gguf_writer *w, const char *key, uint64_t v)
{
    return vkmm_gguf_writer_add_scalar(w, key, VKMM_GGUF_U64, &v);
}

vkmm_status vkmm_gguf_writer_add_f32(vkmm_gguf_writer *w, const char *key, float v)
{
    return vkmm_gguf_writer_add_scalar(w, key, VKMM_GGUF_F32, &v);
}

vkmm_status vkmm_gguf_writer_add_bool(vkmm_gguf_writer *w, const char *key, bool v)
{
    return vkmm_gguf_writer_add_scalar(w, key, VKMM_GGUF_BOOL, &v);
}

vkmm_status vkmm_gguf_writer_set_alignment(vkmm_gguf_writer *w, uint32_t alignment)
{
    return vkmm_gguf_writer_add_u32(w, "general.alignment", alignment);
}

vkmm_status vkmm_gguf_writer_add_strn(vkmm_gguf_writer *w, const char *key, const char *s, size_t len)
{
    if (len > SIZE_MAX - 8)
        return wfail(w, VKMM_ERR_INVALID_ARG, "gguf writer: key '%s': string too long", key);
    uint8_t *b = malloc(8 + len);
    if (b) {
        put_le(b, len, 8);
        if (len)
            memcpy(b + 8, s, len);
    }
    return add_kv(w, key, VKMM_GGUF_STRING, b, 8 + len);
}

vkmm_status vkmm_gguf_writer_add_str(vkmm_gguf_writer *w, const char *key, const char *s)
{
    return vkmm_gguf_writer_add_strn(w, key, s, strlen(s));
}

vkmm_status vkmm_gguf_writer_add_array(vkmm_gguf_writer *w, const char *key, vkmm_gguf_type elem,
                                       const void *elems, uint64_t count)
{
    if (!is_scalar(elem))
        return wfail(w, VKMM_ERR_INVALID_ARG, "gguf writer: key '%s': add_array takes scalar elements, not %s", key,
                     vkmm_gguf_type_name(elem));
    size_t es = vkmm_gguf_type_size(elem), cs = c_size(elem);
    if (count > (SIZE_MAX - 12) / es)
        return wfail(w, VKMM_ERR_INVALID_ARG, "gguf writer: key '%s': array too long", key);
    size_t size = 12 + (size_t)count * es;
    uint8_t *b = malloc(size);
    if (b) {
        put_le(b, elem, 4);
        put_le(b + 4, count, 8);
        for (uint64_t i = 0; i < count; i++)
            encode_scalar(b + 12 + i * es, elem, (const uint8_t *)elems + i * cs);
    }
    return add_kv(w, key, VKMM_GGUF_ARRAY, b, size);
}

vkmm_status vkmm_gguf_writer_add_str_array(vkmm_gguf_writer *w, const char *key, const char *const *strs,
                                           const size_t *lens, uint64_t count)
{
    size_t size = 12;
    for (uint64_t i = 0; i < count; i++) {
        size_t len = lens ? lens[i] : strlen(strs[i]);
        if (__builtin_add_overflow(size, len, &size) || __builtin_add_overflow(size, (size_t)8, &size))
            return wfail(w, VKMM_ERR_INVALID_ARG, "gguf writer: key '%s': array too long", key);
    }
    uint8_t *b = malloc(size), *p = b;
    if (b) {
        put_le(p, VKMM_GGUF_STRING, 4);
        put_le(p + 4, count, 8);
        p += 12;
        for (uint64_t i = 0; i < count; i++) {
            size_t len = lens ? lens[i] : strlen(strs[i]);
            put_le(p, len, 8);
            if (len)
                memcpy(p + 8, strs[i], len);
            p += 8 + len;
        }
    }
    return add_kv(w, key, VKMM_GGUF_ARRAY, b, size);
}

/* ---- tensors ---- */

static vkmm_status add_tensor(vkmm_gguf_writer *w, const char *name, uint32_t type, uint32_t n_dims,
                              const uint64_t *ne, const void *data, vkmm_gguf_fill_fn fill, void *user)
{
    size_t len = strlen(name);
    if (len == 0 || len >= VKMM_GGUF_MAX_NAME)
        return wfail(w, VKMM_ERR_INVALID_ARG, "gguf writer: tensor name '%s' must be 1 to %d bytes", name,
                     VKMM_GGUF_MAX_NAME - 1);
    for (size_t i = 0; i < w->n_t; i++)
        if (!strcmp(w->t[i].name, name))
            return wfail(w, VKMM_ERR_INVALID_ARG, "gguf writer: duplicate tensor name '%s'", name);
    const vkmm_dtype_info *info = vkmm_dtype_get(type);
    if (!info)
        return wfail(w, VKMM_ERR_INVALID_ARG, "gguf writer: tensor '%s': unknown type %" PRIu32, name, type);
    if (n_dims == 0 || n_dims > VKMM_GGUF_MAX_DIMS)
        return wfail(w, VKMM_ERR_INVALID_ARG, "gguf writer: tensor '%s': %" PRIu32 " dimensions", name, n_dims);
    if (fill && data)
        return wfail(w, VKMM_ERR_INVALID_ARG, "gguf writer: tensor '%s': both data and a fill callback", name);
    wtensor t = {.type = type, .n_dims = n_dims, .data = data, .fill = fill, .user = user};
    memcpy(t.name, name, len + 1);
    uint64_t n = 1;
    bool over = false;
    for (uint32_t d = 0; d < VKMM_GGUF_MAX_DIMS; d++) {
        t.ne[d] = d < n_dims ? ne[d] : 1;
        over |= t.ne[d] >> 63 || __builtin_mul_overflow(n, t.ne[d], &n) || n > (uint64_t)INT64_MAX;
    }
    if (t.ne[0] % info->block)
        return wfail(w, VKMM_ERR_INVALID_ARG, "gguf writer: tensor '%s': ne[0] = %" PRIu64 " is not a multiple of "
                     "the %s block size %" PRIu32, name, t.ne[0], info->name, info->block);
    t.row_bytes = t.ne[0] / info->block * info->block_bytes;
    t.n_rows = t.ne[1] * t.ne[2] * t.ne[3]; /* cannot overflow: the element count did not */
    over |= __builtin_mul_overflow(t.row_bytes, t.n_rows, &t.n_bytes) || t.n_bytes > (uint64_t)INT64_MAX;
    if (over)
        return wfail(w, VKMM_ERR_INVALID_ARG, "gguf writer: tensor '%s': the size of its shape overflows", name);
    if (!fill && !data && t.n_bytes)
        return wfail(w, VKMM_ERR_INVALID_ARG, "gguf writer: tensor '%s': no data", name);
    if (w->n_t == w->cap_t) {
        size_t cap = w->cap_t ? w->cap_t * 2 : 64;
        wtensor *nt = realloc(w->t, cap * sizeof *nt);
        if (!nt)
            return wfail(w, VKMM_ERR_HOST_MEMORY, "gguf writer: out of memory");
        w->t = nt;
        w->cap_t = cap;
    }
    w->t[w->n_t++] = t;
    return VKMM_OK;
}

vkmm_status vkmm_gguf_writer_add_tensor(vkmm_gguf_writer *w, const char *name, uint32_t type, uint32_t n_dims,
                                        const uint64_t *ne, const void *data)
{
    return add_tensor(w, name, type, n_dims, ne, data, NULL, NULL);
}

vkmm_status vkmm_gguf_writer_add_tensor_fill(vkmm_gguf_writer *w, const char *name, uint32_t type,
                                             uint32_t n_dims, const uint64_t *ne, vkmm_gguf_fill_fn fill,
                                             void *user)
{
    return add_tensor(w, name, type, n_dims, ne, NULL, fill, user);
}

/* ---- output ---- */

/* Buffered output to a file descriptor, or a growing memory buffer when fd < 0. */
typedef struct sink {
    int fd;
    uint8_t *buf;
    size_t len, cap;
    uint64_t pos; /* bytes emitted so far */
    const char *name;
    vkmm_error *err;
    vkmm_status status;
} sink;

static bool write_all(sink *s, const uint8_t *p, size_t n)
{
    while (n) {
        ssize_t k = write(s->fd, p, n);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0) {
            s->status = vkmm_fail(s->err, VKMM_ERR_IO, "%s: write failed at byte %" PRIu64 ": %s", s->name, s->pos,
                                  k < 0 ? strerror(errno) : "no progress");
            return false;
        }
        p += k;
        n -= (size_t)k;
    }
    return true;
}

static bool flush(sink *s)
{
    if (s->fd < 0 || !s->len)
        return true;
    bool ok = write_all(s, s->buf, s->len);
    s->len = 0;
    return ok;
}

static bool put(sink *s, const void *data, size_t n)
{
    if (s->status)
        return false;
    const uint8_t *p = data;
    if (s->fd < 0) {
        if (n > s->cap - s->len) {
            size_t cap = s->cap ? s->cap : 4096;
            while (cap - s->len < n)
                if (__builtin_mul_overflow(cap, (size_t)2, &cap))
                    cap = SIZE_MAX;
            uint8_t *b = cap - s->len < n ? NULL : realloc(s->buf, cap);
            if (!b) {
                s->status = vkmm_fail(s->err, VKMM_ERR_HOST_MEMORY, "%s: out of memory at byte %" PRIu64, s->name,
                                      s->pos);
                return false;
            }
            s->buf = b;
            s->cap = cap;
        }
        memcpy(s->buf + s->len, p, n);
        s->len += n;
    } else if (n > s->cap - s->len) {
        if (!flush(s))
            return false;
        if (n >= s->cap) {
            if (!write_all(s, p, n))
                return false;
        } else {
            memcpy(s->buf, p, n);
            s->len = n;
        }
    } else {
        memcpy(s->buf + s->len, p, n);
        s->len += n;
    }
    s->pos += n;
    return true;
}

static bool put_u32(sink *s, uint32_t v)
{
    uint8_t b[4];
    put_le(b, v, 4);
    return put(s, b, 4);
}

static bool put_u64(sink *s, uint64_t v)
{
    uint8_t b[8];
    put_le(b, v, 8);
    return put(s, b, 8);
}

static bool pad(sink *s, uint32_t alignment)
{
    static const uint8_t zeros[256];
    uint64_t n = (alignment - s->pos % alignment) % alignment;
    while (n && s->status == VKMM_OK) {
        size_t k = n < sizeof zeros ? (size_t)n : sizeof zeros;
        put(s, zeros, k);
        n -= k;
    }
    return s->status == VKMM_OK;
}

static bool put_tensor_data(sink *s, const wtensor *t)
{
    if (!t->fill)
        return put(s, t->data, (size_t)t->n_bytes);
    if (!t->n_bytes)
        return true;
    uint64_t rows = t->row_bytes >= FILL_CHUNK_BYTES ? 1 : FILL_CHUNK_BYTES / t->row_bytes;
    if (rows > t->n_rows)
        rows = t->n_rows;
    uint8_t *chunk = malloc((size_t)(rows * t->row_bytes));
    if (!chunk) {
        s->status = vkmm_fail(s->err, VKMM_ERR_HOST_MEMORY, "%s: out of memory for tensor '%s'", s->name, t->name);
        return false;
    }
    for (uint64_t r = 0; r < t->n_rows && s->status == VKMM_OK; r += rows) {
        uint64_t n = t->n_rows - r < rows ? t->n_rows - r : rows;
        vkmm_error e = {0};
        vkmm_status st = t->fill(t->user, r, n, t->row_bytes, chunk, &e);
        if (st) {
            s->status = vkmm_fail(s->err, st, "%s: tensor '%s', rows %" PRIu64 "-%" PRIu64 ": %s", s->name, t->name,
                                  r, r + n - 1, e.msg[0] ? e.msg : vkmm_status_name(st));
        } else {
            put(s, chunk, (size_t)(n * t->row_bytes));
        }
    }
    free(chunk);
    return s->status == VKMM_OK;
}

static vkmm_status serialize(vkmm_gguf_writer *w, sink *s)
{
    if (w->first.code) {
        if (s->err)
            *s->err = w->first;
        return w->first.code;
    }
    /* tensor offsets: each tensor's data padded to the alignment, in order */
    uint64_t off = 0, a = w->alignment;
    for (size_t i = 0; i < w->n_t; i++) {
        w->t[i].offset = off;
        uint64_t padded = (w->t[i].n_bytes + a - 1) / a * a;
        if (__builtin_add_overflow(off, padded, &off))
            return vkmm_fail(s->err, VKMM_ERR_INVALID_ARG, "%s: tensor data larger than 2^64 bytes", s->name);
    }
    put(s, "GGUF", 4);
    put_u32(s, w->version);
    put_u64(s, w->n_t);
    put_u64(s, w->n_kv);
    for (size_t i = 0; i < w->n_kv; i++) {
        put_u64(s, w->kv[i].key_len);
        put(s, w->kv[i].key, w->kv[i].key_len);
        put_u32(s, w->kv[i].type);
        put(s, w->kv[i].bytes, w->kv[i].size);
    }
    for (size_t i = 0; i < w->n_t; i++) {
        const wtensor *t = &w->t[i];
        put_u64(s, strlen(t->name));
        put(s, t->name, strlen(t->name));
        put_u32(s, t->n_dims);
        for (uint32_t d = 0; d < t->n_dims; d++)
            put_u64(s, t->ne[d]);
        put_u32(s, t->type);
        put_u64(s, t->offset);
    }
    if (w->n_t)
        pad(s, w->alignment);
    for (size_t i = 0; i < w->n_t && s->status == VKMM_OK; i++)
        if (put_tensor_data(s, &w->t[i]))
            pad(s, w->alignment);
    if (s->status == VKMM_OK)
        flush(s);
    return s->status;
}

vkmm_status vkmm_gguf_writer_write_memory(vkmm_gguf_writer *w, void **data, size_t *size, vkmm_error *err)
{
    sink s = {.fd = -1, .name = "<memory>", .err = err};
    vkmm_status st = serialize(w, &s);
    if (st) {
        free(s.buf);
        return st;
    }
    *data = s.buf;
    *size = s.len;
    return VKMM_OK;
}

/* Makes the rename durable: the folder's entry is what changed. Best effort. */
static void sync_folder(const char *path)
{
    const char *slash = strrchr(path, '/');
    char *dir = slash ? strndup(path, slash == path ? 1 : (size_t)(slash - path)) : strdup(".");
    if (!dir)
        return;
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
        fsync(fd);
        close(fd);
    }
    free(dir);
}

vkmm_status vkmm_gguf_writer_write(vkmm_gguf_writer *w, const char *path, vkmm_error *err)
{
    if (w->first.code) {
        if (err)
            *err = w->first;
        return w->first.code;
    }
    size_t n = strlen(path) + 48;
    char *tmp = malloc(n);
    uint8_t *buf = malloc(SINK_BUFFER_BYTES);
    if (!tmp || !buf) {
        free(tmp);
        free(buf);
        return vkmm_fail(err, VKMM_ERR_HOST_MEMORY, "%s: out of memory", path);
    }
    /* O_EXCL on a fresh name: never clobber someone else's temporary; the mode honours the umask */
    int fd = -1;
    for (int attempt = 0; fd < 0 && attempt < 100; attempt++) {
        snprintf(tmp, n, "%s.tmp-%ld-%d", path, (long)getpid(), attempt);
        fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
        if (fd < 0 && errno != EEXIST)
            break;
    }
    if (fd < 0) {
        vkmm_status st = vkmm_fail(err, VKMM_ERR_IO, "%s: cannot create a temporary file next to it: %s", path,
                                   strerror(errno));
        free(tmp);
        free(buf);
        return st;
    }
    sink s = {.fd = fd, .buf = buf, .cap = SINK_BUFFER_BYTES, .name = path, .err = err};
    vkmm_status st = serialize(w, &s);
    if (!st && fsync(fd))
        st = vkmm_fail(err, VKMM_ERR_IO, "%s: fsync failed: %s", path, strerror(errno));
    if (close(fd) && !st)
        st = vkmm_fail(err, VKMM_ERR_IO, "%s: close failed: %s", path, strerror(errno));
    if (!st && rename(tmp, path))
        st = vkmm_fail(err, VKMM_ERR_IO, "%s: cannot rename the temporary file into place: %s", path,
                       strerror(errno));
    if (st)
        unlink(tmp);
    else
        sync_folder(path);
    free(tmp);
    free(buf);
    return st;
}
