/* tests/fuzz/fuzz_gguf.c — libFuzzer target for the GGUF reader: any input either fails with a message naming
 * the file, or opens, and then every accessor works on every key, array element and tensor, no two tensors
 * share a byte, general.alignment (when present) is a u32, and the file survives a round trip through the
 * writer with every value and tensor byte unchanged. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dtype_table.h"
#include "gguf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_VISITS 200000 /* array elements looked at per input, to keep each run fast */

static void require(int cond, const char *what)
{
    if (!cond) {
        fprintf(stderr, "fuzz_gguf: broken invariant: %s\n", what);
        abort();
    }
}

static uint64_t visit(const vkmm_gguf_value *v, uint64_t *budget)
{
    uint64_t u, len, h = v->type;
    int64_t i;
    double d;
    bool b;
    const char *p;
    if (vkmm_gguf_value_u64(v, &u))
        h += u;
    if (vkmm_gguf_value_i64(v, &i))
        h += (uint64_t)i;
    if (vkmm_gguf_value_f64(v, &d))
        h += d == d; /* NaN is fine */
    if (vkmm_gguf_value_bool(v, &b))
        h += b;
    if (vkmm_gguf_value_str(v, &p, &len)) {
        require(len + 8 == v->size, "string size");
        if (len)
            h += (uint8_t)p[0] + (uint8_t)p[len - 1]; /* ASan sees any pointer past the input */
    }
    if (v->type == VKMM_GGUF_ARRAY)
        for (uint64_t k = 0; k < v->count && *budget; k++, (*budget)--) {
            vkmm_gguf_value e;
            require(vkmm_gguf_array_elem(v, k, &e), "array element");
            require(e.offset >= v->offset && e.offset + e.size <= v->offset + v->size, "element inside its array");
            h += visit(&e, budget);
        }
    return h;
}

static void round_trip(const vkmm_gguf *g)
{
    vkmm_gguf_writer *w = vkmm_gguf_writer_new();
    require(w != NULL, "writer");
    vkmm_gguf_writer_set_version(w, vkmm_gguf_version(g));
    for (uint64_t k = 0; k < vkmm_gguf_kv_count(g); k++) {
        const vkmm_gguf_kv *kv = vkmm_gguf_kv_at(g, k);
        require(vkmm_gguf_writer_add_raw(w, kv->key, kv->value.type, kv->value.raw, (size_t)kv->value.size) == VKMM_OK,
                "the writer takes every value the reader accepts");
    }
    for (uint64_t k = 0; k < vkmm_gguf_tensor_count(g); k++) {
        const vkmm_gguf_tensor *t = vkmm_gguf_tensor_at(g, k);
        require(vkmm_gguf_writer_add_tensor(w, t->name, t->type, t->n_dims, t->ne, t->data) == VKMM_OK,
                "the writer takes every tensor the reader accepts");
    }
    void *out = NULL;
    size_t n = 0;
    vkmm_error err = {0};
    require(vkmm_gguf_writer_write_memory(w, &out, &n, &err) == VKMM_OK, "write");
    vkmm_gguf_writer_free(w);
    vkmm_gguf *h = NULL;
    if (vkmm_gguf_open_memory(out, n, "rewritten", &h, &err)) {
        fprintf(stderr, "fuzz_gguf: rewritten file does not read back: %s\n", err.msg);
        abort();
    }
    require(vkmm_gguf_kv_count(h) == vkmm_gguf_kv_count(g), "kv count");
    require(vkmm_gguf_alignment(h) == vkmm_gguf_alignment(g), "alignment");
    for (uint64_t k = 0; k < vkmm_gguf_kv_count(g); k++) {
        const vkmm_gguf_kv *a = vkmm_gguf_kv_at(g, k), *b = vkmm_gguf_kv_at(h, k);
        require(a->key_len == b->key_len && !memcmp(a->key, b->key, a->key_len), "key");
        require(a->value.type == b->value.type && a->value.size == b->value.size &&
                    !memcmp(a->value.raw, b->value.raw, (size_t)a->value.size),
                "value bytes");
    }
    require(vkmm_gguf_tensor_count(h) == vkmm_gguf_tensor_count(g), "tensor count");
    for (uint64_t k = 0; k < vkmm_gguf_tensor_count(g); k++) {
        const vkmm_gguf_tensor *a = vkmm_gguf_tensor_at(g, k), *b = vkmm_gguf_tensor_at(h, k);
        require(!strcmp(a->name, b->name) && a->type == b->type && a->n_dims == b->n_dims &&
                    !memcmp(a->ne, b->ne, sizeof a->ne) && a->n_bytes == b->n_bytes &&
                    !memcmp(a->data, b->data, (size_t)a->n_bytes),
                "tensor");
    }
    vkmm_gguf_close(h);
    free(out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    vkmm_gguf *g = NULL;
    vkmm_error err = {0};
    if (vkmm_gguf_open_memory(data, size, "fuzz.gguf", &g, &err)) {
        require(g == NULL, "no handle on failure");
        require(!strncmp(err.msg, "fuzz.gguf: ", 11) && strchr(err.msg, '\n') == NULL,
                "one-line error naming the file");
        return 0;
    }
    uint64_t budget = MAX_VISITS, h = 0;
    for (uint64_t k = 0; k < vkmm_gguf_kv_count(g); k++) {
        const vkmm_gguf_kv *kv = vkmm_gguf_kv_at(g, k);
        require(vkmm_gguf_find(g, kv->key) == kv, "keys are unique and found");
        require(kv->value.offset + kv->value.size <= size, "value inside the file");
        h += visit(&kv->value, &budget);
        uint32_t u32;
        float f;
        bool b;
        const char *p;
        uint64_t len;
        h += vkmm_gguf_get_u32(g, kv->key, &u32) + vkmm_gguf_get_f32(g, kv->key, &f) +
             vkmm_gguf_get_bool(g, kv->key, &b) + vkmm_gguf_get_str(g, kv->key, &p, &len);
        free(vkmm_gguf_get_strdup(g, kv->key));
    }
    uint32_t a = vkmm_gguf_alignment(g);
    require(a && !(a & (a - 1)), "alignment is a power of two");
    const vkmm_gguf_kv *align_kv = vkmm_gguf_find(g, "general.alignment");
    require(!align_kv || align_kv->value.type == VKMM_GGUF_U32, "general.alignment is a u32");
    for (uint64_t k = 0; k < vkmm_gguf_tensor_count(g); k++) {
        const vkmm_gguf_tensor *t = vkmm_gguf_tensor_at(g, k);
        require(vkmm_gguf_tensor_by_name(g, t->name) == t, "tensor names are unique and found");
        require(t->file_offset % a == 0 && t->file_offset + t->n_bytes <= size, "tensor data inside the file");
        require(t->n_bytes == vkmm_dtype_row_bytes(t->type, t->ne[0]) * t->ne[1] * t->ne[2] * t->ne[3], "size");
        if (t->n_bytes)
            h += ((const uint8_t *)t->data)[0] + ((const uint8_t *)t->data)[t->n_bytes - 1];
    }
    /* quadratic, but the files that open are small: the fuzzer's inputs are */
    for (uint64_t i = 0; i < vkmm_gguf_tensor_count(g) && i < 512; i++)
        for (uint64_t j = i + 1; j < vkmm_gguf_tensor_count(g) && j < 512; j++) {
            const vkmm_gguf_tensor *x = vkmm_gguf_tensor_at(g, i), *y = vkmm_gguf_tensor_at(g, j);
            require(!x->n_bytes || !y->n_bytes || x->file_offset + x->n_bytes <= y->file_offset ||
                        y->file_offset + y->n_bytes <= x->file_offset,
                    "no two tensors share a byte");
        }
    round_trip(g);
    vkmm_gguf_close(g);
    return (int)(h & 0); /* h only keeps the reads from being optimised away */
}
