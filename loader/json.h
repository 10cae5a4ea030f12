/* loader/json.h — a strict JSON reader (RFC 8259) into a read-only tree kept in one arena: depth, size and
 * string limits, every escape including \u surrogate pairs, errors that name the source, line and column. */
#ifndef VKMM_LOADER_JSON_H
#define VKMM_LOADER_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"

typedef enum vkmm_json_type {
    VKMM_JSON_NULL = 0,
    VKMM_JSON_BOOL,
    VKMM_JSON_NUMBER,
    VKMM_JSON_STRING,
    VKMM_JSON_ARRAY,
    VKMM_JSON_OBJECT,
} vkmm_json_type;

typedef struct vkmm_json vkmm_json;
typedef struct vkmm_json_member vkmm_json_member;

struct vkmm_json {
    vkmm_json_type type;
    uint32_t line, col;        /* where the value starts (1-based), for converters' messages */
    union {
        bool b;
        struct {
            double v;
            int64_t i;         /* exact value when is_int */
            bool is_int;       /* written without fraction or exponent and fits in int64 */
        } num;
        struct {
            const char *s;     /* decoded UTF-8, NUL-terminated; may contain NUL bytes (\u0000) */
            size_t len;
        } str;
        struct {
            const vkmm_json *items;
            size_t n;
        } arr;
        struct {
            const vkmm_json_member *members; /* in file order; duplicates kept */
            size_t n;
        } obj;
    } u;
};

struct vkmm_json_member {
    const char *key;
    size_t key_len;
    vkmm_json value;
};

typedef struct vkmm_json_limits {
    size_t max_input;    /* bytes of text (default 1 GiB) */
    uint32_t max_depth;  /* nesting of arrays and objects (default 512) */
    size_t max_string;   /* bytes of one decoded string (default 256 MiB) */
    size_t max_values;   /* values in the whole document (default 64 Mi) */
} vkmm_json_limits;

typedef struct vkmm_json_doc vkmm_json_doc;

/* Parses text[0..len) (need not be NUL-terminated). name is what errors call the source. lim may be NULL
 * (defaults). A UTF-8 byte order mark at the start is skipped; invalid UTF-8 is an error. */
vkmm_status vkmm_json_parse(const char *text, size_t len, const char *name, const vkmm_json_limits *lim,
                            vkmm_json_doc **out, vkmm_error *err);
/* Reads the whole file and parses it. */
vkmm_status vkmm_json_parse_file(const char *path, const vkmm_json_limits *lim, vkmm_json_doc **out,
                                 vkmm_error *err);
const vkmm_json *vkmm_json_root(const vkmm_json_doc *doc);
void vkmm_json_free(vkmm_json_doc *doc);

/* The value of key in an object (the last one if repeated); NULL if absent or obj is not an object. */
const vkmm_json *vkmm_json_get(const vkmm_json *obj, const char *key);
/* Typed views: NULL / false when the value is absent or of another type. */
const char *vkmm_json_string(const vkmm_json *v, size_t *len);
bool vkmm_json_bool(const vkmm_json *v, bool *out);
bool vkmm_json_int(const vkmm_json *v, int64_t *out);
const char *vkmm_json_type_name(vkmm_json_type t);

/* Reads a whole file into memory (NUL-terminated); refuses files larger than max_bytes. */
vkmm_status vkmm_read_file(const char *path, size_t max_bytes, char **data, size_t *len, vkmm_error *err);

#endif
