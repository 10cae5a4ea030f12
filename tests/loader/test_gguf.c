/* tests/loader/test_gguf.c — the GGUF writer and reader against each other: random metadata of every type and
 * tensors round-trip exactly (memory and file), every truncation fails, errors name the right byte, lookups,
 * lenient getters, and the writer's refusals and atomic writes. */
#include <dirent.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "harness.h"
#include "dtype_table.h"
#include "gguf.h"

/* ---- a random file, remembered so the reader's view can be compared ---- */

#define N_SCALARS 40
#define N_STR_ARRAY 300

typedef struct expected {
    vkmm_gguf_type type[N_SCALARS];
    uint8_t bytes[N_SCALARS][8];
    char strs[N_STR_ARRAY][40];
    size_t str_lens[N_STR_ARRAY];
    int32_t i32s[100];
    double f64s[7];
    bool bools[9];
    uint8_t q4k[3 * 144 * 2];
    float f32s[6 * 5];
} expected;

static const vkmm_gguf_type scalar_types[] = {VKMM_GGUF_U8,  VKMM_GGUF_I8,  VKMM_GGUF_U16, VKMM_GGUF_I16,
                                              VKMM_GGUF_U32, VKMM_GGUF_I32, VKMM_GGUF_F32, VKMM_GGUF_BOOL,
                                              VKMM_GGUF_U64, VKMM_GGUF_I64, VKMM_GGUF_F64};

/* Rows of the filled tensor are a function of their index, so the read-back can check order. */
static vkmm_status fill_rows(void *user, uint64_t row0, uint64_t n_rows, uint64_t row_bytes, void *dst,
                             vkmm_error *err)
{
    uint64_t *calls = user;
    (*calls)++;
    for (uint64_t r = 0; r < n_rows; r++)
        for (uint64_t b = 0; b < row_bytes; b++)
            ((uint8_t *)dst)[r * row_bytes + b] = (uint8_t)((row0 + r) * 131 + b * 7);
    return VKMM_OK;
}

static vkmm_gguf_writer *random_writer(test_rng *rng, expected *e, uint64_t *fill_calls)
{
    vkmm_gguf_writer *w = vkmm_gguf_writer_new();
    vkmm_gguf_writer_add_str(w, "general.architecture", "test");
    vkmm_gguf_writer_set_alignment(w, 64);
    for (int i = 0; i < N_SCALARS; i++) {
        char key[32];
        snprintf(key, sizeof key, "test.scalar.%d", i);
        e->type[i] = scalar_types[i % (sizeof scalar_types / sizeof scalar_types[0])];
        for (int b = 0; b < 8; b++)
            e->bytes[i][b] = (uint8_t)test_rand_u32(rng);
        if (e->type[i] == VKMM_GGUF_BOOL) {
            bool v = test_rand_u32(rng) & 1;
            memset(e->bytes[i], 0, 8);
            memcpy(e->bytes[i], &v, sizeof v);
        }
        if (e->type[i] == VKMM_GGUF_F32) {
            float f = test_rand_uniform(rng, -1e6f, 1e6f);
            memcpy(e->bytes[i], &f, 4);
        }
        if (e->type[i] == VKMM_GGUF_F64) {
            double d = test_rand_uniform(rng, -1, 1) * 1e200;
            memcpy(e->bytes[i], &d, 8);
        }
        CHECK(vkmm_gguf_writer_add_scalar(w, key, e->type[i], e->bytes[i]) == VKMM_OK, "add %s", key);
    }
    for (int i = 0; i < N_STR_ARRAY; i++) {
        e->str_lens[i] = test_rand_u32(rng) % 40; /* empty strings and NUL bytes included */
        for (size_t b = 0; b < e->str_lens[i]; b++)
            e->strs[i][b] = (char)(test_rand_u32(rng) % 256);
    }
    const char *ptrs[N_STR_ARRAY];
    for (int i = 0; i < N_STR_ARRAY; i++)
        ptrs[i] = e->strs[i];
    vkmm_gguf_writer_add_str_array(w, "test.strings", ptrs, e->str_lens, N_STR_ARRAY);
    vkmm_gguf_writer_add_strn(w, "test.string", e->strs[7], e->str_lens[7]);
    for (int i = 0; i < 100; i++)
        e->i32s[i] = (int32_t)test_rand_u32(rng);
    vkmm_gguf_writer_add_array(w, "test.i32s", VKMM_GGUF_I32, e->i32s, 100);
    for (int i = 0; i < 7; i++)
        e->f64s[i] = test_rand_uniform(rng, -3, 3);
    vkmm_gguf_writer_add_array(w, "test.f64s", VKMM_GGUF_F64, e->f64s, 7);
    for (int i = 0; i < 9; i++)
        e->bools[i] = test_rand_u32(rng) & 1;
    vkmm_gguf_writer_add_array(w, "test.bools", VKMM_GGUF_BOOL, e->bools, 9);
    vkmm_gguf_writer_add_array(w, "test.empty", VKMM_GGUF_U16, NULL, 0);
    /* [[5, 6], ["hi"]] as i8 and string sub-arrays */
    static const uint8_t nested[] = {9, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 5, 6,
                                     8, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 'h', 'i'};
    vkmm_gguf_writer_add_raw(w, "test.nested", VKMM_GGUF_ARRAY, nested, sizeof nested);

    for (size_t i = 0; i < sizeof e->q4k; i++)
        e->q4k[i] = (uint8_t)test_rand_u32(rng);
    for (size_t i = 0; i < 30; i++)
        e->f32s[i] = test_rand_uniform(rng, -1, 1);
    CHECK(!vkmm_gguf_writer_add_tensor(w, "blk.0.q4k", VKMM_Q4_K, 2, (const uint64_t[]){768, 2}, e->q4k), "q4k");
    CHECK(!vkmm_gguf_writer_add_tensor(w, "odd", VKMM_F32, 3, (const uint64_t[]){5, 3, 2}, e->f32s), "odd");
    CHECK(!vkmm_gguf_writer_add_tensor_fill(w, "filled", VKMM_F32, 2, (const uint64_t[]){1024, 1100}, fill_rows,
                                            fill_calls), "filled");
    CHECK(!vkmm_gguf_writer_add_tensor(w, "zero", VKMM_Q8_0, 4, (const uint64_t[]){0, 1, 1, 1}, NULL), "zero");
    CHECK(!vkmm_gguf_writer_add_tensor(w, "last", VKMM_F16, 1, (const uint64_t[]){3}, e->f32s), "last");
    return w;
}

static void check_scalars(const vkmm_gguf *g, const expected *e)
{
    for (int i = 0; i < N_SCALARS; i++) {
        char key[32];
        snprintf(key, sizeof key, "test.scalar.%d", i);
        const vkmm_gguf_kv *kv = vkmm_gguf_find(g, key);
        if (!kv) {
            CHECK(kv, "%s missing", key);
            continue;
        }
        CHECK(kv->value.type == e->type[i], "%s type %d want %d", key, kv->value.type, e->type[i]);
        size_t n = vkmm_gguf_type_size(e->type[i]);
        CHECK(kv->value.size == n, "%s size", key);
        uint8_t le[8] = {0};
        /* the file is little-endian; so is every machine vkmm runs on, so C bytes == file bytes */
        memcpy(le, e->bytes[i], n);
        CHECK(!memcmp(kv->value.raw, le, n), "%s bytes", key);
        uint64_t u;
        int64_t s;
        double d;
        bool b;
        switch (e->type[i]) {
        case VKMM_GGUF_U64:
            CHECK(vkmm_gguf_value_u64(&kv->value, &u) && !memcmp(&u, le, 8), "%s u64", key);
            break;
        case VKMM_GGUF_I64:
            CHECK(vkmm_gguf_value_i64(&kv->value, &s) && !memcmp(&s, le, 8), "%s i64", key);
            break;
        case VKMM_GGUF_I16: {
            int16_t want;
            memcpy(&want, le, 2);
            CHECK(vkmm_gguf_value_i64(&kv->value, &s) && s == want, "%s i16 %" PRId64 " want %d", key, s, want);
            CHECK(vkmm_gguf_value_u64(&kv->value, &u) == (want >= 0), "%s i16 as u64", key);
            break;
        }
        case VKMM_GGUF_F64: {
            double want;
            memcpy(&want, le, 8);
            CHECK(vkmm_gguf_value_f64(&kv->value, &d) && d == want, "%s f64", key);
            break;
        }
        case VKMM_GGUF_F32: {
            float want, got;
            memcpy(&want, le, 4);
            CHECK(vkmm_gguf_get_f32(g, key, &got) && got == want, "%s f32", key);
            break;
        }
        case VKMM_GGUF_BOOL:
            CHECK(vkmm_gguf_get_bool(g, key, &b) && b == (le[0] != 0), "%s bool", key);
            break;
        default: break;
        }
    }
}

static void check_arrays(const vkmm_gguf *g, const expected *e)
{
    const vkmm_gguf_value *a = vkmm_gguf_get_array(g, "test.strings", VKMM_GGUF_STRING);
    CHECK(a && a->count == N_STR_ARRAY, "string array");
    for (uint64_t i = 0; a && i < a->count; i++) {
        vkmm_gguf_value el;
        const char *p;
        uint64_t len;
        CHECK(vkmm_gguf_array_elem(a, i, &el) && vkmm_gguf_value_str(&el, &p, &len), "string %" PRIu64, i);
        CHECK(len == e->str_lens[i] && !memcmp(p, e->strs[i], len), "string %" PRIu64 " differs", i);
    }
    const char *p;
    uint64_t len;
    CHECK(vkmm_gguf_get_str(g, "test.string", &p, &len) && len == e->str_lens[7] && !memcmp(p, e->strs[7], len),
          "string value");
    char *dup = vkmm_gguf_get_strdup(g, "test.string");
    CHECK(dup && !memcmp(dup, e->strs[7], e->str_lens[7]) && dup[e->str_lens[7]] == 0, "strdup");
    free(dup);

    a = vkmm_gguf_get_array(g, "test.i32s", VKMM_GGUF_I32);
    CHECK(a && a->count == 100, "i32 array");
    for (uint64_t i = 0; a && i < 100; i++) {
        vkmm_gguf_value el;
        int64_t v;
        CHECK(vkmm_gguf_array_elem(a, i, &el) && vkmm_gguf_value_i64(&el, &v) && v == e->i32s[i], "i32[%" PRIu64 "]",
              i);
    }
    CHECK(a && !vkmm_gguf_array_elem(a, 100, &(vkmm_gguf_value){0}), "element past the end");
    CHECK(!vkmm_gguf_get_array(g, "test.i32s", VKMM_GGUF_F32), "array elem type filter");
    a = vkmm_gguf_get_array(g, "test.f64s", VKMM_GGUF_F64);
    for (uint64_t i = 0; a && i < 7; i++) {
        vkmm_gguf_value el;
        double v;
        CHECK(vkmm_gguf_array_elem(a, i, &el) && vkmm_gguf_value_f64(&el, &v) && v == e->f64s[i], "f64[%" PRIu64 "]",
              i);
    }
    a = vkmm_gguf_get_array(g, "test.bools", VKMM_GGUF_BOOL);
    for (uint64_t i = 0; a && i < 9; i++) {
        vkmm_gguf_value el;
        bool v;
        CHECK(vkmm_gguf_array_elem(a, i, &el) && vkmm_gguf_value_bool(&el, &v) && v == e->bools[i], "bool[%" PRIu64 "]",
              i);
    }
    a = vkmm_gguf_get_array(g, "test.empty", VKMM_GGUF_U16);
    CHECK(a && a->count == 0, "empty array");

    a = vkmm_gguf_get_array(g, "test.nested", VKMM_GGUF_ARRAY);
    vkmm_gguf_value sub, el;
    int64_t v;
    CHECK(a && a->count == 2, "nested array");
    CHECK(a && vkmm_gguf_array_elem(a, 0, &sub) && sub.elem_type == VKMM_GGUF_I8 && sub.count == 2 &&
              vkmm_gguf_array_elem(&sub, 1, &el) && vkmm_gguf_value_i64(&el, &v) && v == 6,
          "nested [0][1] == 6");
    CHECK(a && vkmm_gguf_array_elem(a, 1, &sub) && sub.elem_type == VKMM_GGUF_STRING && vkmm_gguf_array_elem(&sub, 0, &el) &&
              vkmm_gguf_value_str(&el, &p, &len) && len == 2 && !memcmp(p, "hi", 2),
          "nested [1][0] == \"hi\"");
}

static void check_tensors(const vkmm_gguf *g, const expected *e)
{
    CHECK(vkmm_gguf_tensor_count(g) == 5, "tensor count %" PRIu64, vkmm_gguf_tensor_count(g));
    CHECK(vkmm_gguf_alignment(g) == 64, "alignment %" PRIu32, vkmm_gguf_alignment(g));
    const vkmm_gguf_tensor *t = vkmm_gguf_tensor_by_name(g, "blk.0.q4k");
    CHECK(t && t->type == VKMM_Q4_K && t->n_dims == 2 && t->ne[0] == 768 && t->ne[1] == 2 && t->ne[2] == 1 &&
              t->n_bytes == sizeof e->q4k && !memcmp(t->data, e->q4k, sizeof e->q4k),
          "q4k tensor");
    t = vkmm_gguf_tensor_by_name(g, "odd");
    CHECK(t && t->n_elements == 30 && t->n_bytes == 120 && !memcmp(t->data, e->f32s, 120), "odd tensor");
    t = vkmm_gguf_tensor_by_name(g, "filled");
    CHECK(t && t->n_bytes == 1024 * 4 * 1100, "filled tensor");
    bool rows_ok = t != NULL;
    for (uint64_t r = 0; t && r < 1100; r += 37)
        for (uint64_t b = 0; b < 4096; b += 511)
            rows_ok &= ((const uint8_t *)t->data)[r * 4096 + b] == (uint8_t)(r * 131 + b * 7);
    CHECK(rows_ok, "filled rows in order");
    t = vkmm_gguf_tensor_by_name(g, "zero");
    CHECK(t && t->n_bytes == 0 && t->n_dims == 4, "zero-size tensor");
    for (uint64_t i = 0; i < vkmm_gguf_tensor_count(g); i++) {
        t = vkmm_gguf_tensor_at(g, i);
        CHECK(t->file_offset % 64 == 0 && t->offset % 64 == 0, "%s aligned", t->name);
        CHECK(t->file_offset == vkmm_gguf_data_offset(g) + t->offset, "%s offset", t->name);
        CHECK(vkmm_gguf_tensor_by_name(g, t->name) == t, "%s lookup", t->name);
    }
    CHECK(!vkmm_gguf_tensor_at(g, 5) && !vkmm_gguf_tensor_by_name(g, "nope"), "absent tensors");
}

static void test_round_trip(void)
{
    test_rng rng = test_rng_seed(0x67756766ull);
    expected *e = calloc(1, sizeof *e);
    uint64_t fill_calls = 0;
    vkmm_gguf_writer *w = random_writer(&rng, e, &fill_calls);
    void *mem = NULL;
    size_t size = 0;
    vkmm_error err = {0};
    CHECK_OK(vkmm_gguf_writer_write_memory(w, &mem, &size, &err), &err, );
    CHECK(fill_calls == 2, "a 4.3 MiB tensor is filled in 2 chunks of whole rows, not %" PRIu64, fill_calls);

    vkmm_gguf *g = NULL;
    vkmm_status s = vkmm_gguf_open_memory(mem, size, "round-trip", &g, &err);
    CHECK(s == VKMM_OK, "open: %s", err.msg);
    if (g) {
        CHECK(vkmm_gguf_version(g) == 3 && vkmm_gguf_kv_count(g) == 2 + N_SCALARS + 7, "header");
        CHECK(vkmm_gguf_file_size(g) == size, "size");
        check_scalars(g, e);
        check_arrays(g, e);
        check_tensors(g, e);
        /* the file ends with the last tensor's padding */
        const vkmm_gguf_tensor *last = vkmm_gguf_tensor_at(g, 4);
        CHECK(size == last->file_offset + 64, "file size %zu", size);

        /* every prefix that cuts into the last tensor's data, or anything before it, is refused */
        uint64_t need = last->file_offset + last->n_bytes, meta = vkmm_gguf_data_offset(g) + 256;
        int wrong = 0;
        for (size_t cut = 0; cut < size; cut += (cut < meta || cut + 256 > need) ? 1 : 4099) {
            /* an exact-size copy where it is cheap, so a sanitizer build sees any read past the end */
            uint8_t *copy = cut < meta ? malloc(cut ? cut : 1) : NULL;
            if (copy)
                memcpy(copy, mem, cut);
            vkmm_gguf *h = NULL;
            vkmm_error e2 = {0};
            vkmm_status st = vkmm_gguf_open_memory(copy ? copy : mem, cut, "cut.gguf", &h, &e2);
            bool ok = cut >= need ? st == VKMM_OK
                                  : st == VKMM_ERR_FORMAT && !strncmp(e2.msg, "cut.gguf: ", 10) &&
                                        strstr(e2.msg, "(at byte ") && !h;
            if (!ok && wrong++ < 5)
                CHECK(ok, "prefix of %zu bytes: status %d: %s", cut, st, e2.msg);
            vkmm_gguf_close(h);
            free(copy);
        }
        CHECK(wrong == 0, "%d prefixes misjudged", wrong);
    }
    vkmm_gguf_close(g);

    /* the same bytes through a real file and mmap */
    char dir[] = "/tmp/vkmm-test-gguf-XXXXXX";
    CHECK(mkdtemp(dir) != NULL, "mkdtemp");
    char path[128];
    snprintf(path, sizeof path, "%s/rt.gguf", dir);
    CHECK_OK(vkmm_gguf_writer_write(w, path, &err), &err, );
    FILE *f = fopen(path, "rb");
    uint8_t *back = malloc(size + 1);
    size_t n = f ? fread(back, 1, size + 1, f) : 0;
    if (f)
        fclose(f);
    CHECK(n == size && !memcmp(back, mem, size), "file and memory writes differ (%zu vs %zu bytes)", n, size);
    s = vkmm_gguf_open(path, &g, &err);
    CHECK(s == VKMM_OK && !strcmp(vkmm_gguf_path(g), path), "open file: %s", err.msg);
    if (!s) {
        check_scalars(g, e);
        check_arrays(g, e);
        check_tensors(g, e);
        vkmm_gguf_close(g);
    }
    unlink(path);
    rmdir(dir);
    free(back);
    free(mem);
    free(e);
    vkmm_gguf_writer_free(w);
}

/* ---- specific errors at specific bytes ---- */

static vkmm_status open_bytes(const void *p, size_t n, vkmm_error *err)
{
    vkmm_gguf *g = NULL;
    vkmm_status s = vkmm_gguf_open_memory(p, n, "x.gguf", &g, err);
    vkmm_gguf_close(g);
    return s;
}

static void *written(vkmm_gguf_writer *w, size_t *size)
{
    void *mem = NULL;
    vkmm_error err = {0};
    if (vkmm_gguf_writer_write_memory(w, &mem, size, &err))
        CHECK(0, "write: %s", err.msg);
    vkmm_gguf_writer_free(w);
    return mem;
}

static void expect_error(const void *p, size_t n, vkmm_status code, const char *phrase, uint64_t at)
{
    vkmm_error err = {0};
    vkmm_status s = open_bytes(p, n, &err);
    char tail[64];
    snprintf(tail, sizeof tail, "(at byte %" PRIu64 ")", at);
    size_t ml = strlen(err.msg), tl = strlen(tail);
    CHECK(s == code && strstr(err.msg, phrase) && !strncmp(err.msg, "x.gguf: ", 8) && ml >= tl &&
              !strcmp(err.msg + ml - tl, tail),
          "want status %d, '%s' %s; got %d: %s", code, phrase, tail, s, err.msg);
}

static void put32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> 8 * i);
}

static void test_errors(void)
{
    /* layout: 24-byte header; pair "k.aaaa" u32 at 24 (8 + 6 + 4 + 4 = 22 bytes); "k.aaab" at 46 */
    vkmm_gguf_writer *w = vkmm_gguf_writer_new();
    vkmm_gguf_writer_add_u32(w, "k.aaaa", 1);
    vkmm_gguf_writer_add_u32(w, "k.aaab", 2);
    size_t n;
    uint8_t *p = written(w, &n);
    CHECK(n == 68, "two u32 pairs make 68 bytes, not %zu", n);
    CHECK(open_bytes(p, n, NULL) == VKMM_OK, "valid");
    p[46 + 8 + 5] = 'a';
    expect_error(p, n, VKMM_ERR_FORMAT, "duplicate key 'k.aaaa' (first defined at byte 24)", 46);
    p[46 + 8 + 5] = 'b';
    put32(p + 4, 1);
    expect_error(p, n, VKMM_ERR_UNSUPPORTED, "version 1", 4);
    put32(p + 4, 2);
    CHECK(open_bytes(p, n, NULL) == VKMM_OK, "version 2 reads");
    put32(p + 46 + 14, 7); /* the second pair becomes a bool holding 2 */
    p[46 + 18] = 2;
    expect_error(p, n - 3, VKMM_ERR_FORMAT, "bool value is 2", 46 + 18);
    free(p);

    /* tensors: "a" F32 [8] at info 24, "b" Q8_0 [32, 2] at info 24 + 8 + 1 + 4 + 8 + 4 + 8 = 57 */
    float a[8] = {0};
    uint8_t b[68] = {0};
    w = vkmm_gguf_writer_new();
    vkmm_gguf_writer_add_tensor(w, "a", VKMM_F32, 1, (const uint64_t[]){8}, a);
    vkmm_gguf_writer_add_tensor(w, "b", VKMM_Q8_0, 2, (const uint64_t[]){32, 2}, b);
    p = written(w, &n);
    uint64_t b_type = 57 + 8 + 1 + 4 + 16, b_off = b_type + 4;
    CHECK(n == 128 + 32 + 96 && p[b_off] == 32, "layout: %zu bytes, offset byte %u", n, p[b_off]);
    CHECK(open_bytes(p, n, NULL) == VKMM_OK, "valid tensors");
    p[b_off] = 16;
    expect_error(p, n, VKMM_ERR_FORMAT, "offset 16 is not a multiple of the alignment 32", b_off);
    p[b_off] = 32;
    put32(p + b_type, 5);
    expect_error(p, n, VKMM_ERR_FORMAT, "type 5 (Q4_3) was removed", b_type);
    put32(p + b_type, 99);
    expect_error(p, n, VKMM_ERR_FORMAT, "unknown tensor type 99", b_type);
    put32(p + b_type, VKMM_Q8_0);
    expect_error(p, n - 29, VKMM_ERR_FORMAT, "runs past the end of the file", b_off);
    p[57 + 8] = 'a';
    expect_error(p, n, VKMM_ERR_FORMAT, "duplicate tensor name (first at byte 24) in tensor info 2 of 2 ('a')", 57);
    free(p);

    expect_error("", 0, VKMM_ERR_FORMAT, "the file is empty", 0);
    expect_error("GGUF\3\0\0\0\0\0\0\0\0\0\0\x80\0\0\0\0\0\0\0\0", 24, VKMM_ERR_FORMAT, "tensor count 9223372036854775808", 8);
}

/* ---- lookups and lenient getters ---- */

static void test_lookups(void)
{
    vkmm_gguf_writer *w = vkmm_gguf_writer_new();
    uint8_t u8 = 200;
    int8_t i8 = -5;
    double big = 1e300, small = 0.25;
    vkmm_gguf_writer_add_scalar(w, "u8", VKMM_GGUF_U8, &u8);
    vkmm_gguf_writer_add_scalar(w, "i8", VKMM_GGUF_I8, &i8);
    vkmm_gguf_writer_add_u64(w, "u64.big", (uint64_t)1 << 40);
    vkmm_gguf_writer_add_u64(w, "u64.max", UINT64_MAX);
    vkmm_gguf_writer_add_scalar(w, "f64.big", VKMM_GGUF_F64, &big);
    vkmm_gguf_writer_add_scalar(w, "f64.small", VKMM_GGUF_F64, &small);
    vkmm_gguf_writer_add_str(w, "s", "text");
    uint8_t zero[4] = {0};
    for (int i = 0; i < 1000; i++) {
        char name[32];
        snprintf(name, sizeof name, "blk.%d.attn_q.weight", i);
        vkmm_gguf_writer_add_tensor(w, name, VKMM_I8, 1, (const uint64_t[]){1 + i % 4}, zero);
    }
    size_t n;
    void *p = written(w, &n);
    vkmm_gguf *g = NULL;
    vkmm_error err = {0};
    CHECK_OK(vkmm_gguf_open_memory(p, n, "lookups.gguf", &g, &err), &err, );
    uint32_t u32;
    uint64_t u64;
    int64_t i64;
    float f;
    bool b;
    CHECK(vkmm_gguf_get_u32(g, "u8", &u32) && u32 == 200, "u8 as u32");
    CHECK(!vkmm_gguf_get_u32(g, "i8", &u32) && vkmm_gguf_get_i64(g, "i8", &i64) && i64 == -5, "i8");
    CHECK(!vkmm_gguf_get_u32(g, "u64.big", &u32) && vkmm_gguf_get_u64(g, "u64.big", &u64) && u64 == 1ull << 40,
          "u64 beyond u32");
    CHECK(!vkmm_gguf_get_i64(g, "u64.max", &i64), "u64 max is not an i64");
    CHECK(!vkmm_gguf_get_f32(g, "f64.big", &f) && vkmm_gguf_get_f32(g, "f64.small", &f) && f == 0.25f, "f64 as f32");
    CHECK(!vkmm_gguf_get_f32(g, "u8", &f) && !vkmm_gguf_get_bool(g, "u8", &b) && !vkmm_gguf_get_u32(g, "s", &u32),
          "type mismatches");
    CHECK(!vkmm_gguf_get_u32(g, "absent", &u32) && !vkmm_gguf_find(g, "") && !vkmm_gguf_get_strdup(g, "u8"), "absent");

    CHECK(vkmm_gguf_need_u32(g, "u64.big", &u32, &err) == VKMM_ERR_FORMAT &&
              strstr(err.msg, "lookups.gguf: key 'u64.big' = 1099511627776 does not fit an unsigned 32-bit integer "
                              "(at byte "),
          "need_u32 range: %s", err.msg);
    CHECK(vkmm_gguf_need_str(g, "u8", &(const char *){0}, &u64, &err) == VKMM_ERR_FORMAT &&
              strstr(err.msg, "key 'u8' holds a u8 value, not a string"),
          "need_str type: %s", err.msg);
    CHECK(vkmm_gguf_need_f32(g, "gone", &f, &err) == VKMM_ERR_FORMAT &&
              !strcmp(err.msg, "lookups.gguf: required key 'gone' is missing"),
          "need missing: %s", err.msg);
    CHECK(vkmm_gguf_need_u32(g, "u8", &u32, &err) == VKMM_OK && u32 == 200, "need_u32");

    CHECK(vkmm_gguf_tensor_count(g) == 1000, "1000 tensors");
    int found = 0;
    for (int i = 999; i >= 0; i--) {
        char name[32];
        snprintf(name, sizeof name, "blk.%d.attn_q.weight", i);
        const vkmm_gguf_tensor *t = vkmm_gguf_tensor_by_name(g, name);
        found += t && t == vkmm_gguf_tensor_at(g, (uint64_t)i) && t->ne[0] == (uint64_t)(1 + i % 4);
    }
    CHECK(found == 1000, "found %d of 1000 tensors by name", found);
    CHECK(!vkmm_gguf_tensor_by_name(g, "blk.1000.attn_q.weight") && !vkmm_gguf_tensor_by_name(g, "blk.1.attn_q"),
          "absent tensor names");
    vkmm_gguf_close(g);
    free(p);
}

/* ---- the writer's refusals and atomic writes ---- */

static vkmm_status fill_fails(void *user, uint64_t row0, uint64_t n_rows, uint64_t row_bytes, void *dst,
                              vkmm_error *err)
{
    return row0 ? vkmm_fail(err, VKMM_ERR_IO, "generator broke") : VKMM_OK;
}

static int count_entries(const char *dir)
{
    DIR *d = opendir(dir);
    int n = 0;
    for (struct dirent *e; d && (e = readdir(d));)
        n += e->d_name[0] != '.';
    if (d)
        closedir(d);
    return n;
}

static void test_writer_refusals(void)
{
    vkmm_gguf_writer *w = vkmm_gguf_writer_new();
    uint8_t data[64] = {0};
    CHECK(vkmm_gguf_writer_add_u32(w, "a", 1) == VKMM_OK, "a");
    CHECK(vkmm_gguf_writer_add_u32(w, "a", 2) == VKMM_ERR_INVALID_ARG, "duplicate key");
    CHECK(vkmm_gguf_writer_add_u32(w, "", 2) == VKMM_ERR_INVALID_ARG, "empty key");
    CHECK(vkmm_gguf_writer_set_alignment(w, 48) == VKMM_ERR_INVALID_ARG, "alignment 48");
    CHECK(vkmm_gguf_writer_add_str(w, "general.alignment", "32") == VKMM_ERR_INVALID_ARG, "string alignment");
    CHECK(vkmm_gguf_writer_add_u64(w, "general.alignment", 32) == VKMM_ERR_INVALID_ARG, "u64 alignment");
    CHECK(vkmm_gguf_writer_set_version(w, 1) == VKMM_ERR_INVALID_ARG, "version 1");
    CHECK(vkmm_gguf_writer_add_scalar(w, "s", VKMM_GGUF_STRING, "x") == VKMM_ERR_INVALID_ARG, "string as scalar");
    CHECK(vkmm_gguf_writer_add_tensor(w, "0123456789012345678901234567890123456789012345678901234567890123",
                                      VKMM_F32, 1, (const uint64_t[]){1}, data) == VKMM_ERR_INVALID_ARG,
          "64-byte name");
    CHECK(vkmm_gguf_writer_add_tensor(w, "t", VKMM_F32, 1, (const uint64_t[]){4}, data) == VKMM_OK, "t");
    CHECK(vkmm_gguf_writer_add_tensor(w, "t", VKMM_F32, 1, (const uint64_t[]){4}, data) == VKMM_ERR_INVALID_ARG,
          "duplicate tensor");
    CHECK(vkmm_gguf_writer_add_tensor(w, "q", VKMM_Q4_0, 1, (const uint64_t[]){33}, data) == VKMM_ERR_INVALID_ARG,
          "ne0 33 for Q4_0");
    CHECK(vkmm_gguf_writer_add_tensor(w, "r", 4, 1, (const uint64_t[]){4}, data) == VKMM_ERR_INVALID_ARG,
          "removed type");
    CHECK(vkmm_gguf_writer_add_tensor(w, "u", VKMM_F32, 5, (const uint64_t[]){1, 1, 1, 1, 1}, data) ==
              VKMM_ERR_INVALID_ARG,
          "5 dims");
    CHECK(vkmm_gguf_writer_add_tensor(w, "v", VKMM_F32, 2, (const uint64_t[]){1ull << 40, 1ull << 40}, data) ==
              VKMM_ERR_INVALID_ARG,
          "overflowing shape");
    CHECK(vkmm_gguf_writer_add_tensor(w, "x", VKMM_F32, 1, (const uint64_t[]){4}, NULL) == VKMM_ERR_INVALID_ARG,
          "no data");
    void *mem = NULL;
    size_t n;
    vkmm_error err = {0};
    CHECK(vkmm_gguf_writer_write_memory(w, &mem, &n, &err) == VKMM_ERR_INVALID_ARG &&
              strstr(err.msg, "duplicate key 'a'") && !mem,
          "the first refusal is reported by the write: %s", err.msg);
    vkmm_gguf_writer_free(w);

    char dir[] = "/tmp/vkmm-test-gguf-XXXXXX";
    CHECK(mkdtemp(dir) != NULL, "mkdtemp");
    char path[128], missing[160];
    snprintf(path, sizeof path, "%s/model.gguf", dir);
    snprintf(missing, sizeof missing, "%s/no/such/dir/x.gguf", dir);
    FILE *f = fopen(path, "wb");
    fputs("previous contents", f);
    fclose(f);

    w = vkmm_gguf_writer_new();
    vkmm_gguf_writer_add_str(w, "general.architecture", "test");
    vkmm_gguf_writer_add_tensor_fill(w, "t", VKMM_F32, 2, (const uint64_t[]){1 << 20, 3}, fill_fails, NULL);
    vkmm_status s = vkmm_gguf_writer_write(w, path, &err);
    CHECK(s == VKMM_ERR_IO && strstr(err.msg, "model.gguf: tensor 't', rows 1-1: generator broke"),
          "fill failure: %d %s", s, err.msg);
    f = fopen(path, "rb");
    char back[32] = {0};
    CHECK(f && fread(back, 1, sizeof back - 1, f) == 17 && !strcmp(back, "previous contents"),
          "a failed write leaves the old file as it was");
    if (f)
        fclose(f);
    CHECK(count_entries(dir) == 1, "no temporary file is left behind (%d entries)", count_entries(dir));
    CHECK(vkmm_gguf_writer_write(w, missing, &err) == VKMM_ERR_IO && strstr(err.msg, missing), "missing folder: %s",
          err.msg);
    vkmm_gguf_writer_free(w);
    unlink(path);
    rmdir(dir);
}

int main(void)
{
    test_round_trip();
    test_errors();
    test_lookups();
    test_writer_refusals();
    return test_finish("loader-gguf");
}
