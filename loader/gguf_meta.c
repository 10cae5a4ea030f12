/* loader/gguf_meta.c — reading an open GGUF file: name indexes for keys and tensors, value conversions
 * (lenient on integer widths, range-checked), typed lookups, and the accessors of the opaque handle. */
#include <float.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "gguf_internal.h"

static const struct {
    const char *name;
    size_t size;
} type_table[VKMM_GGUF_TYPE_COUNT] = {
    [VKMM_GGUF_U8] = {"u8", 1},   [VKMM_GGUF_I8] = {"i8", 1},       [VKMM_GGUF_U16] = {"u16", 2},
    [VKMM_GGUF_I16] = {"i16", 2}, [VKMM_GGUF_U32] = {"u32", 4},     [VKMM_GGUF_I32] = {"i32", 4},
    [VKMM_GGUF_F32] = {"f32", 4}, [VKMM_GGUF_BOOL] = {"bool", 1},   [VKMM_GGUF_STRING] = {"string", 0},
    [VKMM_GGUF_ARRAY] = {"array", 0}, [VKMM_GGUF_U64] = {"u64", 8}, [VKMM_GGUF_I64] = {"i64", 8},
    [VKMM_GGUF_F64] = {"f64", 8},
};

const char *vkmm_gguf_type_name(uint32_t type)
{
    return type < VKMM_GGUF_TYPE_COUNT ? type_table[type].name : "?";
}

size_t vkmm_gguf_type_size(uint32_t type)
{
    return type < VKMM_GGUF_TYPE_COUNT ? type_table[type].size : 0;
}

/* ---- name indexes ---- */

static uint64_t hash_name(const char *s, size_t len)
{
    uint64_t h = 0xcbf29ce484222325ull; /* FNV-1a */
    for (size_t i = 0; i < len; i++)
        h = (h ^ (unsigned char)s[i]) * 0x100000001b3ull;
    return h;
}

bool vkmm_gguf_index_init(vkmm_gguf *g, vkmm_gguf_index *ix, uint64_t n)
{
    uint64_t cap = 8;
    while (cap < 2 * n)
        cap *= 2;
    ix->slots = vkmm_gguf_alloc(g, cap, sizeof *ix->slots);
    ix->mask = cap - 1;
    return ix->slots != NULL;
}

typedef const char *(*name_of_fn)(const vkmm_gguf *g, uint64_t i, size_t *len);

static const char *kv_name(const vkmm_gguf *g, uint64_t i, size_t *len)
{
    *len = (size_t)g->kv[i].key_len;
    return g->kv[i].key;
}

static const char *tensor_name(const vkmm_gguf *g, uint64_t i, size_t *len)
{
    *len = strlen(g->tensors[i].name);
    return g->tensors[i].name;
}

/* The slot holding name, or the empty slot where it would go. */
static uint64_t *probe(const vkmm_gguf *g, const vkmm_gguf_index *ix, name_of_fn name_of, const char *name,
                       size_t len)
{
    uint64_t at = hash_name(name, len) & ix->mask;
    for (;;) {
        uint64_t *slot = &ix->slots[at];
        if (!*slot)
            return slot;
        size_t n;
        const char *s = name_of(g, *slot - 1, &n);
        if (n == len && !memcmp(s, name, len))
            return slot;
        at = (at + 1) & ix->mask;
    }
}

static uint64_t index_add(vkmm_gguf *g, vkmm_gguf_index *ix, name_of_fn name_of, uint64_t i)
{
    size_t len;
    const char *name = name_of(g, i, &len);
    uint64_t *slot = probe(g, ix, name_of, name, len);
    if (*slot)
        return *slot - 1;
    *slot = i + 1;
    return UINT64_MAX;
}

uint64_t vkmm_gguf_kv_index_add(vkmm_gguf *g, uint64_t i)
{
    return index_add(g, &g->kv_index, kv_name, i);
}

uint64_t vkmm_gguf_tensor_index_add(vkmm_gguf *g, uint64_t i)
{
    return index_add(g, &g->tensor_index, tensor_name, i);
}

const vkmm_gguf_kv *vkmm_gguf_find(const vkmm_gguf *g, const char *key)
{
    if (!g->kv_index.slots)
        return NULL;
    uint64_t *slot = probe(g, &g->kv_index, kv_name, key, strlen(key));
    return *slot ? &g->kv[*slot - 1] : NULL;
}

const vkmm_gguf_tensor *vkmm_gguf_tensor_by_name(const vkmm_gguf *g, const char *name)
{
    if (!g->tensor_index.slots)
        return NULL;
    uint64_t *slot = probe(g, &g->tensor_index, tensor_name, name, strlen(name));
    return *slot ? &g->tensors[*slot - 1] : NULL;
}

/* ---- accessors ---- */

const char *vkmm_gguf_path(const vkmm_gguf *g) { return g->path; }
uint32_t vkmm_gguf_version(const vkmm_gguf *g) { return g->version; }
uint32_t vkmm_gguf_alignment(const vkmm_gguf *g) { return g->alignment; }
uint64_t vkmm_gguf_data_offset(const vkmm_gguf *g) { return g->data_offset; }
uint64_t vkmm_gguf_file_size(const vkmm_gguf *g) { return g->size; }
uint64_t vkmm_gguf_kv_count(const vkmm_gguf *g) { return g->n_kv; }
uint64_t vkmm_gguf_tensor_count(const vkmm_gguf *g) { return g->n_tensors; }

const vkmm_gguf_kv *vkmm_gguf_kv_at(const vkmm_gguf *g, uint64_t i)
{
    return i < g->n_kv ? &g->kv[i] : NULL;
}

const vkmm_gguf_tensor *vkmm_gguf_tensor_at(const vkmm_gguf *g, uint64_t i)
{
    return i < g->n_tensors ? &g->tensors[i] : NULL;
}

/* ---- value conversions ---- */

uint64_t vkmm_gguf_le(const uint8_t *p, size_t bytes)
{
    uint64_t v = 0;
    for (size_t i = bytes; i-- > 0;)
        v = v << 8 | p[i];
    return v;
}

/* Integer values as a sign and a magnitude-free pair: *neg set for negative signed values (then *s holds it),
 * otherwise *u holds the value. False for non-integer types. */
static bool int_value(const vkmm_gguf_value *v, bool *neg, uint64_t *u, int64_t *s)
{
    *neg = false;
    *s = 0;
    switch (v->type) {
    case VKMM_GGUF_U8: *u = vkmm_gguf_le(v->raw, 1); return true;
    case VKMM_GGUF_U16: *u = vkmm_gguf_le(v->raw, 2); return true;
    case VKMM_GGUF_U32: *u = vkmm_gguf_le(v->raw, 4); return true;
    case VKMM_GGUF_U64: *u = vkmm_gguf_le(v->raw, 8); return true;
    case VKMM_GGUF_I8: *s = (int8_t)vkmm_gguf_le(v->raw, 1); break;
    case VKMM_GGUF_I16: *s = (int16_t)vkmm_gguf_le(v->raw, 2); break;
    case VKMM_GGUF_I32: *s = (int32_t)vkmm_gguf_le(v->raw, 4); break;
    case VKMM_GGUF_I64: *s = (int64_t)vkmm_gguf_le(v->raw, 8); break;
    default: return false;
    }
    *neg = *s < 0;
    *u = (uint64_t)*s;
    return true;
}

bool vkmm_gguf_value_u64(const vkmm_gguf_value *v, uint64_t *out)
{
    bool neg;
    uint64_t u;
    int64_t s;
    if (!int_value(v, &neg, &u, &s) || neg)
        return false;
    *out = u;
    return true;
}

bool vkmm_gguf_value_i64(const vkmm_gguf_value *v, int64_t *out)
{
    bool neg;
    uint64_t u;
    int64_t s;
    if (!int_value(v, &neg, &u, &s) || (!neg && u > (uint64_t)INT64_MAX))
        return false;
    *out = neg ? s : (int64_t)u;
    return true;
}

bool vkmm_gguf_value_f64(const vkmm_gguf_value *v, double *out)
{
    if (v->type == VKMM_GGUF_F32) {
        uint32_t bits = (uint32_t)vkmm_gguf_le(v->raw, 4);
        float f;
        memcpy(&f, &bits, 4);
        *out = f;
        return true;
    }
    if (v->type == VKMM_GGUF_F64) {
        uint64_t bits = vkmm_gguf_le(v->raw, 8);
        memcpy(out, &bits, 8);
        return true;
    }
    return false;
}

bool vkmm_gguf_value_bool(const vkmm_gguf_value *v, bool *out)
{
    if (v->type != VKMM_GGUF_BOOL)
        return false;
    *out = v->raw[0] != 0;
    return true;
}

bool vkmm_gguf_value_str(const vkmm_gguf_value *v, const char **ptr, uint64_t *len)
{
    if (v->type != VKMM_GGUF_STRING)
        return false;
    *len = vkmm_gguf_le(v->raw, 8);
    *ptr = (const char *)v->raw + 8;
    return true;
}

bool vkmm_gguf_array_elem(const vkmm_gguf_value *arr, uint64_t i, vkmm_gguf_value *out)
{
    if (arr->type != VKMM_GGUF_ARRAY || i >= arr->count)
        return false;
    if (arr->elem_type == VKMM_GGUF_ARRAY) {
        *out = arr->elems[i];
        return true;
    }
    memset(out, 0, sizeof *out);
    out->type = arr->elem_type;
    size_t fixed = vkmm_gguf_type_size(arr->elem_type);
    uint64_t at = fixed ? 12 + i * fixed : arr->elem_off[i]; /* past the u32 type and u64 count */
    out->raw = arr->raw + at;
    out->offset = arr->offset + at;
    out->size = fixed ? fixed : 8 + vkmm_gguf_le(out->raw, 8);
    return true;
}

/* ---- typed lookups ---- */

bool vkmm_gguf_get_u64(const vkmm_gguf *g, const char *key, uint64_t *out)
{
    const vkmm_gguf_kv *kv = vkmm_gguf_find(g, key);
    return kv && vkmm_gguf_value_u64(&kv->value, out);
}

bool vkmm_gguf_get_u32(const vkmm_gguf *g, const char *key, uint32_t *out)
{
    uint64_t v;
    if (!vkmm_gguf_get_u64(g, key, &v) || v > UINT32_MAX)
        return false;
    *out = (uint32_t)v;
    return true;
}

bool vkmm_gguf_get_i64(const vkmm_gguf *g, const char *key, int64_t *out)
{
    const vkmm_gguf_kv *kv = vkmm_gguf_find(g, key);
    return kv && vkmm_gguf_value_i64(&kv->value, out);
}

/* F64 values beyond float's range do not convert (the C conversion would be undefined). */
static bool to_f32(const vkmm_gguf_value *v, float *out)
{
    double d;
    if (!vkmm_gguf_value_f64(v, &d) || (isfinite(d) && fabs(d) > FLT_MAX))
        return false;
    *out = (float)d;
    return true;
}

bool vkmm_gguf_get_f32(const vkmm_gguf *g, const char *key, float *out)
{
    const vkmm_gguf_kv *kv = vkmm_gguf_find(g, key);
    return kv && to_f32(&kv->value, out);
}

bool vkmm_gguf_get_bool(const vkmm_gguf *g, const char *key, bool *out)
{
    const vkmm_gguf_kv *kv = vkmm_gguf_find(g, key);
    return kv && vkmm_gguf_value_bool(&kv->value, out);
}

bool vkmm_gguf_get_str(const vkmm_gguf *g, const char *key, const char **ptr, uint64_t *len)
{
    const vkmm_gguf_kv *kv = vkmm_gguf_find(g, key);
    return kv && vkmm_gguf_value_str(&kv->value, ptr, len);
}

char *vkmm_gguf_get_strdup(const vkmm_gguf *g, const char *key)
{
    const char *p;
    uint64_t len;
    if (!vkmm_gguf_get_str(g, key, &p, &len) || len >= SIZE_MAX)
        return NULL;
    char *s = malloc((size_t)len + 1);
    if (s) {
        memcpy(s, p, (size_t)len);
        s[len] = 0;
    }
    return s;
}

const vkmm_gguf_value *vkmm_gguf_get_array(const vkmm_gguf *g, const char *key, uint32_t elem)
{
    const vkmm_gguf_kv *kv = vkmm_gguf_find(g, key);
    if (!kv || kv->value.type != VKMM_GGUF_ARRAY)
        return NULL;
    if (elem != VKMM_GGUF_TYPE_COUNT && kv->value.elem_type != elem)
        return NULL;
    return &kv->value;
}

/* ---- required keys ---- */

static vkmm_status missing(const vkmm_gguf *g, const char *key, vkmm_error *err)
{
    return vkmm_fail(err, VKMM_ERR_FORMAT, "%s: required key '%s' is missing", g->path, key);
}

/* want_int: the caller wanted an integer, so an integer value failed on its range, which the message shows. */
static vkmm_status mismatch(const vkmm_gguf *g, const vkmm_gguf_kv *kv, const char *want, bool want_int,
                            vkmm_error *err)
{
    const vkmm_gguf_value *v = &kv->value;
    bool neg;
    uint64_t u;
    int64_t s;
    if (want_int && int_value(v, &neg, &u, &s)) {
        if (neg)
            return vkmm_fail(err, VKMM_ERR_FORMAT, "%s: key '%s' = %" PRId64 " does not fit %s (at byte %" PRIu64 ")",
                             g->path, kv->key, s, want, v->offset);
        return vkmm_fail(err, VKMM_ERR_FORMAT, "%s: key '%s' = %" PRIu64 " does not fit %s (at byte %" PRIu64 ")",
                         g->path, kv->key, u, want, v->offset);
    }
    return vkmm_fail(err, VKMM_ERR_FORMAT, "%s: key '%s' holds a %s value, not %s (at byte %" PRIu64 ")", g->path,
                     kv->key, vkmm_gguf_type_name(v->type), want, v->offset);
}

vkmm_status vkmm_gguf_need_u32(const vkmm_gguf *g, const char *key, uint32_t *out, vkmm_error *err)
{
    const vkmm_gguf_kv *kv = vkmm_gguf_find(g, key);
    if (!kv)
        return missing(g, key, err);
    uint64_t v;
    if (!vkmm_gguf_value_u64(&kv->value, &v) || v > UINT32_MAX)
        return mismatch(g, kv, "an unsigned 32-bit integer", true, err);
    *out = (uint32_t)v;
    return VKMM_OK;
}

vkmm_status vkmm_gguf_need_u64(const vkmm_gguf *g, const char *key, uint64_t *out, vkmm_error *err)
{
    const vkmm_gguf_kv *kv = vkmm_gguf_find(g, key);
    if (!kv)
        return missing(g, key, err);
    if (!vkmm_gguf_value_u64(&kv->value, out))
        return mismatch(g, kv, "an unsigned integer", true, err);
    return VKMM_OK;
}

vkmm_status vkmm_gguf_need_f32(const vkmm_gguf *g, const char *key, float *out, vkmm_error *err)
{
    const vkmm_gguf_kv *kv = vkmm_gguf_find(g, key);
    if (!kv)
        return missing(g, key, err);
    if (!to_f32(&kv->value, out))
        return mismatch(g, kv, "a float (f32 or f64 within f32's range)", false, err);
    return VKMM_OK;
}

vkmm_status vkmm_gguf_need_bool(const vkmm_gguf *g, const char *key, bool *out, vkmm_error *err)
{
    const vkmm_gguf_kv *kv = vkmm_gguf_find(g, key);
    if (!kv)
        return missing(g, key, err);
    if (!vkmm_gguf_value_bool(&kv->value, out))
        return mismatch(g, kv, "a bool", false, err);
    return VKMM_OK;
}

vkmm_status vkmm_gguf_need_str(const vkmm_gguf *g, const char *key, const char **ptr, uint64_t *len,
                               vkmm_error *err)
{
    const vkmm_gguf_kv *kv = vkmm_gguf_find(g, key);
    if (!kv)
        return missing(g, key, err);
    if (!vkmm_gguf_value_str(&kv->value, ptr, len))
        return mismatch(g, kv, "a string", false, err);
    return VKMM_OK;
}
