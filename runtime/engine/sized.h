/* runtime/engine/sized.h — reading and filling the public structs that start with the caller's struct_size. */
#ifndef VKMM_SIZED_H
#define VKMM_SIZED_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "error.h"
#include "vkmm.h"

/* The smallest struct_size each struct accepts is its size in 0.2, the first layout that had struct_size: when a
 * field is appended to T, VKMM_BASE_SIZE's use for T becomes offsetof(T, first_new_field). Until then it is sizeof. */
#define VKMM_BASE_SIZE(T)                                                                                          \
    _Generic((T){0}, vkmm_model_params: offsetof(vkmm_model_params, image_tokens),                               \
             vkmm_model_info: offsetof(vkmm_model_info, n_expert), default: sizeof(T))

/* How many bytes of the caller's struct at p the library may read or write: its struct_size, 0 meaning the 0.2
 * layout (for good: a program built then and run against a later library still means that), capped at full (a
 * newer caller's extra fields are not ours to know). */
static inline vkmm_status vkmm_sized_bytes(const void *p, size_t base, size_t full, const char *what, size_t *n,
                                           vkmm_error *err)
{
    uint32_t size;
    memcpy(&size, p, sizeof size);
    if (size == 0)
        size = (uint32_t)base;
    else if (size > full)
        size = (uint32_t)full;
    if (size < base)
        return vkmm_fail(err, VKMM_ERR_INVALID_ARG, "%s: struct_size %u is smaller than any version's (%zu)", what,
                         size, base);
    *n = size;
    return VKMM_OK;
}

/* A full copy of the caller's struct: the fields it has, the rest 0 (which is every field's default). */
static inline vkmm_status vkmm_sized_in(void *dst, size_t full, size_t base, const void *src, const char *what,
                                        vkmm_error *err)
{
    size_t n;
    vkmm_status st = vkmm_sized_bytes(src, base, full, what, &n, err);
    if (st)
        return st;
    memcpy(dst, src, n);
    memset((char *)dst + n, 0, full - n);
    uint32_t size = (uint32_t)full;
    memcpy(dst, &size, sizeof size);
    return VKMM_OK;
}

/* Hands the library's struct src back into the caller's dst, as much of it as the caller's layout holds; dst keeps
 * its struct_size. n comes from vkmm_sized_bytes on dst. */
static inline void vkmm_sized_out(void *dst, const void *src, size_t n)
{
    uint32_t size;
    memcpy(&size, dst, sizeof size);
    memcpy(dst, src, n);
    memcpy(dst, &size, sizeof size);
}

/* The bytes a *_get(..., size) call writes: size (0: the 0.2 layout), at most the library's own. */
static inline size_t vkmm_sized_get_bytes(uint32_t size, size_t base, size_t full)
{
    return size == 0 ? base : size < full ? size : full;
}

#define VKMM_GET_BYTES(T, size) vkmm_sized_get_bytes((size), VKMM_BASE_SIZE(T), sizeof(T))
#define VKMM_SIZED_IN(T, dst, src, what, err) vkmm_sized_in((dst), sizeof(T), VKMM_BASE_SIZE(T), (src), (what), (err))
#define VKMM_SIZED_BYTES(T, p, what, n, err) vkmm_sized_bytes((p), VKMM_BASE_SIZE(T), sizeof(T), (what), (n), (err))

#endif
