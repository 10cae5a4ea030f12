/* loader/gguf.h — GGUF v2/v3 files: a memory-mapped, fully validated reader (metadata of every value type,
 * nested arrays included, and tensor infos with name lookup) and a writer that produces files atomically.
 * Layout facts: ../shared/reference/gguf.md. */
#ifndef VKMM_LOADER_GGUF_H
#define VKMM_LOADER_GGUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"

/* Metadata value types, numbered as the file numbers them. */
typedef enum vkmm_gguf_type {
    VKMM_GGUF_U8 = 0,
    VKMM_GGUF_I8 = 1,
    VKMM_GGUF_U16 = 2,
    VKMM_GGUF_I16 = 3,
    VKMM_GGUF_U32 = 4,
    VKMM_GGUF_I32 = 5,
    VKMM_GGUF_F32 = 6,
    VKMM_GGUF_BOOL = 7,
    VKMM_GGUF_STRING = 8,
    VKMM_GGUF_ARRAY = 9,
    VKMM_GGUF_U64 = 10,
    VKMM_GGUF_I64 = 11,
    VKMM_GGUF_F64 = 12,
    VKMM_GGUF_TYPE_COUNT = 13,
} vkmm_gguf_type;

#define VKMM_GGUF_DEFAULT_ALIGNMENT 32u
#define VKMM_GGUF_MAX_DIMS 4
#define VKMM_GGUF_MAX_NAME 64          /* tensor names are at most 63 bytes */
#define VKMM_GGUF_MAX_KEY 65535        /* keys are at most 65535 bytes */
#define VKMM_GGUF_MAX_NESTING 8        /* arrays of arrays deeper than this are refused */

/* "u32", "string", "array", ...; "?" for an id outside the enum. */
const char *vkmm_gguf_type_name(uint32_t type);
/* Bytes of one encoded scalar of this type; 0 for STRING, ARRAY and unknown ids. */
size_t vkmm_gguf_type_size(uint32_t type);

/* One metadata value, scalar or array, pointing into the file's bytes. Read it with the accessors below. */
typedef struct vkmm_gguf_value {
    vkmm_gguf_type type;
    uint64_t offset;                       /* file offset of the value's first byte (for messages) */
    uint64_t size;                         /* encoded bytes */
    const uint8_t *raw;                    /* the encoded bytes, inside the mapping */
    /* arrays only: */
    vkmm_gguf_type elem_type;
    uint64_t count;
    const uint64_t *elem_off;              /* STRING/ARRAY elements: element i starts at raw + elem_off[i] */
    const struct vkmm_gguf_value *elems;   /* ARRAY elements: the parsed sub-arrays */
} vkmm_gguf_value;

typedef struct vkmm_gguf_kv {
    const char *key;       /* NUL-terminated copy (keys never contain NUL: the reader refuses that) */
    uint64_t key_len;
    uint64_t offset;       /* file offset where this pair starts */
    vkmm_gguf_value value;
} vkmm_gguf_kv;

typedef struct vkmm_gguf_tensor {
    char name[VKMM_GGUF_MAX_NAME]; /* NUL-terminated */
    uint32_t type;                 /* ggml type id, known to vkmm_dtype_get() (support is a separate question) */
    uint32_t n_dims;               /* 1..4 */
    uint64_t ne[VKMM_GGUF_MAX_DIMS]; /* ne[0] innermost; dims past n_dims are 1 */
    uint64_t n_elements;
    uint64_t n_bytes;
    uint64_t offset;               /* relative to the data section, a multiple of the alignment */
    uint64_t file_offset;          /* absolute */
    uint64_t info_offset;          /* where the tensor's info record starts (for messages) */
    const void *data;              /* inside the mapping; aligned to the file's alignment only, so read
                                      multi-byte values with memcpy */
} vkmm_gguf_tensor;

typedef struct vkmm_gguf vkmm_gguf;

/* Maps path read-only and validates the whole header, every metadata value and every tensor info. Errors
 * read "<path>: <what is wrong> (at byte N)". The file must not shrink while it is open (mmap). */
vkmm_status vkmm_gguf_open(const char *path, vkmm_gguf **out, vkmm_error *err);
/* The same parser over bytes the caller owns and keeps alive until vkmm_gguf_close; name is for messages. */
vkmm_status vkmm_gguf_open_memory(const void *data, size_t size, const char *name, vkmm_gguf **out,
                                  vkmm_error *err);
void vkmm_gguf_close(vkmm_gguf *g);

const char *vkmm_gguf_path(const vkmm_gguf *g);
uint32_t vkmm_gguf_version(const vkmm_gguf *g);
uint32_t vkmm_gguf_alignment(const vkmm_gguf *g);
uint64_t vkmm_gguf_data_offset(const vkmm_gguf *g); /* where the tensor data section starts */
uint64_t vkmm_gguf_file_size(const vkmm_gguf *g);

/* ---- metadata ---- */

uint64_t vkmm_gguf_kv_count(const vkmm_gguf *g);
const vkmm_gguf_kv *vkmm_gguf_kv_at(const vkmm_gguf *g, uint64_t i); /* file order; NULL past the end */
const vkmm_gguf_kv *vkmm_gguf_find(const vkmm_gguf *g, const char *key); /* hashed; NULL if absent */

/* Value conversions, lenient as the format's users need: any integer type converts to any integer output
 * when the value fits; F32 and F64 convert to floats. False when the type or range does not fit. */
bool vkmm_gguf_value_u64(const vkmm_gguf_value *v, uint64_t *out);
bool vkmm_gguf_value_i64(const vkmm_gguf_value *v, int64_t *out);
bool vkmm_gguf_value_f64(const vkmm_gguf_value *v, double *out);
bool vkmm_gguf_value_bool(const vkmm_gguf_value *v, bool *out);
/* A string's bytes (not NUL-terminated, may be invalid UTF-8). */
bool vkmm_gguf_value_str(const vkmm_gguf_value *v, const char **ptr, uint64_t *len);
/* Element i of an array as a value of its own (a scalar, a string or a nested array). */
bool vkmm_gguf_array_elem(const vkmm_gguf_value *arr, uint64_t i, vkmm_gguf_value *out);

/* Typed lookups by key: false when the key is absent or its value does not convert (see above). */
bool vkmm_gguf_get_u32(const vkmm_gguf *g, const char *key, uint32_t *out);
bool vkmm_gguf_get_u64(const vkmm_gguf *g, const char *key, uint64_t *out);
bool vkmm_gguf_get_i64(const vkmm_gguf *g, const char *key, int64_t *out);
bool vkmm_gguf_get_f32(const vkmm_gguf *g, const char *key, float *out);
bool vkmm_gguf_get_bool(const vkmm_gguf *g, const char *key, bool *out);
bool vkmm_gguf_get_str(const vkmm_gguf *g, const char *key, const char **ptr, uint64_t *len);
/* A malloc'ed NUL-terminated copy of a string value (free() it); NULL if absent, not a string or no memory. */
char *vkmm_gguf_get_strdup(const vkmm_gguf *g, const char *key);
/* An array value whose elements have type elem (VKMM_GGUF_TYPE_COUNT: any); NULL otherwise. */
const vkmm_gguf_value *vkmm_gguf_get_array(const vkmm_gguf *g, const char *key, uint32_t elem);

/* The same lookups for keys a caller requires: the error names the file, the key, and, when the key is
 * present, its offset and why its value does not fit. */
vkmm_status vkmm_gguf_need_u32(const vkmm_gguf *g, const char *key, uint32_t *out, vkmm_error *err);
vkmm_status vkmm_gguf_need_u64(const vkmm_gguf *g, const char *key, uint64_t *out, vkmm_error *err);
vkmm_status vkmm_gguf_need_f32(const vkmm_gguf *g, const char *key, float *out, vkmm_error *err);
vkmm_status vkmm_gguf_need_bool(const vkmm_gguf *g, const char *key, bool *out, vkmm_error *err);
vkmm_status vkmm_gguf_need_str(const vkmm_gguf *g, const char *key, const char **ptr, uint64_t *len,
                               vkmm_error *err);

/* ---- tensors ---- */

uint64_t vkmm_gguf_tensor_count(const vkmm_gguf *g);
const vkmm_gguf_tensor *vkmm_gguf_tensor_at(const vkmm_gguf *g, uint64_t i); /* file order; NULL past end */
const vkmm_gguf_tensor *vkmm_gguf_tensor_by_name(const vkmm_gguf *g, const char *name); /* hashed */

/* ---- writer ---- */

typedef struct vkmm_gguf_writer vkmm_gguf_writer;

/* Fills n_rows rows (each row_bytes, ne[0] elements) of a tensor starting at row row0 into dst. The writer
 * calls it in order with chunks of whole rows, so a tensor never has to exist in memory at once. */
typedef vkmm_status (*vkmm_gguf_fill_fn)(void *user, uint64_t row0, uint64_t n_rows, uint64_t row_bytes,
                                         void *dst, vkmm_error *err);

/* A writer for version 3 files with alignment 32 until told otherwise. NULL when out of memory.
 * Every add_* returns its status and the writer also keeps the first failure, which write_* reports, so a
 * builder may check only the final write. Keys and tensors are written in the order added. */
vkmm_gguf_writer *vkmm_gguf_writer_new(void);
void vkmm_gguf_writer_free(vkmm_gguf_writer *w);
vkmm_status vkmm_gguf_writer_set_version(vkmm_gguf_writer *w, uint32_t version); /* 2 or 3 */
/* Adds the key general.alignment (u32; a power of two up to 2^30). Adding that key directly, with any
 * integer type, does the same. */
vkmm_status vkmm_gguf_writer_set_alignment(vkmm_gguf_writer *w, uint32_t alignment);

/* value points to the C type of a scalar: uint8_t ... double, and bool for BOOL. */
vkmm_status vkmm_gguf_writer_add_scalar(vkmm_gguf_writer *w, const char *key, vkmm_gguf_type type,
                                        const void *value);
vkmm_status vkmm_gguf_writer_add_u32(vkmm_gguf_writer *w, const char *key, uint32_t v);
vkmm_status vkmm_gguf_writer_add_i32(vkmm_gguf_writer *w, const char *key, int32_t v);
vkmm_status vkmm_gguf_writer_add_u64(vkmm_gguf_writer *w, const char *key, uint64_t v);
vkmm_status vkmm_gguf_writer_add_f32(vkmm_gguf_writer *w, const char *key, float v);
vkmm_status vkmm_gguf_writer_add_bool(vkmm_gguf_writer *w, const char *key, bool v);
vkmm_status vkmm_gguf_writer_add_str(vkmm_gguf_writer *w, const char *key, const char *s);
vkmm_status vkmm_gguf_writer_add_strn(vkmm_gguf_writer *w, const char *key, const char *s, size_t len);
/* An array of scalars given as a C array of the element's C type (bool for BOOL). */
vkmm_status vkmm_gguf_writer_add_array(vkmm_gguf_writer *w, const char *key, vkmm_gguf_type elem,
                                       const void *elems, uint64_t count);
/* An array of strings; lens may be NULL (then every string is NUL-terminated). */
vkmm_status vkmm_gguf_writer_add_str_array(vkmm_gguf_writer *w, const char *key, const char *const *strs,
                                           const size_t *lens, uint64_t count);
/* A value given already encoded (e.g. a nested array, or a value copied from a vkmm_gguf_value's raw bytes).
 * The writer does not check the encoding: tests use this to make malformed files on purpose. */
vkmm_status vkmm_gguf_writer_add_raw(vkmm_gguf_writer *w, const char *key, uint32_t type, const void *encoded,
                                     size_t size);

/* A tensor whose n_bytes of data stay owned by the caller until the write. ne has n_dims entries. */
vkmm_status vkmm_gguf_writer_add_tensor(vkmm_gguf_writer *w, const char *name, uint32_t type, uint32_t n_dims,
                                        const uint64_t *ne, const void *data);
/* A tensor whose data the writer asks fill for, row chunk by row chunk, while writing. */
vkmm_status vkmm_gguf_writer_add_tensor_fill(vkmm_gguf_writer *w, const char *name, uint32_t type,
                                             uint32_t n_dims, const uint64_t *ne, vkmm_gguf_fill_fn fill,
                                             void *user);

/* Writes path atomically: a temporary file in the same folder, fsync, rename. On any failure the temporary
 * file is removed and path is left as it was. */
vkmm_status vkmm_gguf_writer_write(vkmm_gguf_writer *w, const char *path, vkmm_error *err);
/* The same bytes into a malloc'ed buffer (free() it). */
vkmm_status vkmm_gguf_writer_write_memory(vkmm_gguf_writer *w, void **data, size_t *size, vkmm_error *err);

#endif
