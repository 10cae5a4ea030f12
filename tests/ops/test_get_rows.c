/* tests/ops/test_get_rows.c — embedding lookup for every GGUF type vkmm reads against loader/dequantize.c: random
 * tables made with vkmm_quantize, random and repeated ids plus ids outside the table (zero rows), strided and
 * unaligned outputs, tables split into row-aligned pieces at small units (1 row, 5 rows, the rest) as well as
 * by vkmm_range_split, and both decoding forms of dequant.glsl (four at a time, element by element).
 * Bounds: NMSE <= 1e-13 per type (the decoding is the same f32 arithmetic, bit-exact on lavapipe; a device that
 * fuses a multiply-add may move the last bit); zero rows and the gaps between output rows exact. */
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "dtype_table.h"
#include "ref/ref_get_rows.h"
#include "get_rows.h"

typedef struct ctx {
    vkmm_gpu *gpu;
    vkmm_ops *ops;
    test_rng rng;
    const char *setting;
} ctx;

static void check(ctx *c, vkmm_dtype type, uint32_t n_rows, uint32_t n_cols, uint32_t n_ids, bool split)
{
    vkmm_error err;
    const vkmm_dtype_info *ti = vkmm_dtype_get(type);
    size_t row_bytes = vkmm_dtype_row_bytes(type, n_cols), tb = row_bytes * n_rows;
    float *src = malloc((size_t)n_rows * n_cols * 4);
    test_fill_uniform(&c->rng, src, (size_t)n_rows * n_cols, -2, 2);
    uint8_t *table = malloc(tb);
    CHECK(vkmm_quantize(type, src, table, (size_t)n_rows * n_cols), "quantize %s", ti->name);
    int32_t *ids = malloc(n_ids * 4);
    for (uint32_t i = 0; i < n_ids; i++)
        ids[i] = (int32_t)(test_rand_u32(&c->rng) % n_rows);
    if (n_ids > 4) { /* outside the table, and repeats */
        ids[1] = -1, ids[3] = (int32_t)n_rows, ids[n_ids - 1] = INT32_MAX;
        ids[2] = ids[0];
    }
    ids[0] = (int32_t)n_rows - 1;
    uint32_t stride = n_cols + (n_ids % 3), pad = n_cols % 2;
    size_t on = (size_t)(n_ids - 1) * stride + n_cols;
    float *ref = malloc(on * 4), *out = malloc(on * 4);
    memset(ref, 0xff, on * 4); /* the gaps stay NaN poison */
    const float scale = 50.596443f;
    ref_get_rows(type, table, n_rows, n_cols, ids, n_ids, ref, stride, scale);

    vkmm_range T, I, O;
    vkmm_buffer *bt = test_upload(c->gpu, table, tb, 2 + 2 * pad, &T), *bi = test_upload(c->gpu, ids, n_ids * 4, 4, &I),
                *bo = test_upload(c->gpu, NULL, on * 4, 4 * pad, &O);
    vkmm_cmd *cmd;
    CHECK_OK(vkmm_cmd_create(c->gpu, 0, &cmd, &err), &err, );
    if (split) {
        /* pieces of 1 row, 5 rows and the rest, as a table too large for one binding would come */
        vkmm_range pieces[3];
        uint32_t rows[3] = {1, n_rows > 6 ? 5 : 0, 0}, np = 0;
        rows[2] = n_rows - rows[0] - rows[1];
        uint64_t off = 0;
        for (int i = 0; i < 3; i++)
            if (rows[i]) {
                pieces[np++] = vkmm_range_sub(T, off, rows[i] * row_bytes);
                off += rows[i] * row_bytes;
            }
        CHECK_OK(vkmm_op_get_rows(c->ops, cmd, type, pieces, np, n_rows, n_cols, I, n_ids, O, stride, scale, &err),
                 &err, );
    } else {
        CHECK_OK(vkmm_op_get_rows_table(c->ops, cmd, type, T, n_rows, n_cols, I, n_ids, O, stride, scale, &err), &err,
                 );
    }
    CHECK_OK(vkmm_cmd_submit(cmd, &err), &err, );
    vkmm_cmd_destroy(cmd);
    test_download(c->gpu, O, out);

    size_t gaps = 0;
    for (uint32_t i = 0; i + 1 < n_ids; i++)
        for (uint32_t k = n_cols; k < stride; k++)
            gaps += !isnan(out[(size_t)i * stride + k]);
    float *packed = malloc((size_t)n_ids * n_cols * 4), *packed_ref = malloc((size_t)n_ids * n_cols * 4);
    for (uint32_t i = 0; i < n_ids; i++) {
        memcpy(packed + (size_t)i * n_cols, out + (size_t)i * stride, n_cols * 4);
        memcpy(packed_ref + (size_t)i * n_cols, ref + (size_t)i * stride, n_cols * 4);
    }
    double e = test_nmse(packed, packed_ref, (size_t)n_ids * n_cols);
    size_t zeros_bad = 0;
    for (uint32_t i = 0; i < n_ids; i++)
        if (ids[i] < 0 || (uint32_t)ids[i] >= n_rows)
            for (uint32_t k = 0; k < n_cols; k++)
                zeros_bad += packed[(size_t)i * n_cols + k] != 0.0f;
    CHECK(e <= 1e-13 && gaps == 0 && zeros_bad == 0,
          "[%s] %s %u rows x %u, %u ids, split=%d: nmse %g, %zu gap elements written, %zu zero-row elements wrong",
          c->setting, ti->name, n_rows, n_cols, n_ids, split, e, gaps, zeros_bad);
    vkmm_buffer_destroy(bt), vkmm_buffer_destroy(bi), vkmm_buffer_destroy(bo);
    free(src), free(table), free(ids), free(ref), free(out), free(packed), free(packed_ref);
}

int main(void)
{
    vkmm_error err;
    ctx c = {.gpu = test_gpu_open(NULL), .rng = test_rng_seed(13)};
    CHECK_OK(vkmm_ops_create(c.gpu, NULL, &c.ops, &err), &err, 1);
    static const vkmm_dtype types[] = {VKMM_F32, VKMM_F16, VKMM_BF16, VKMM_Q4_0, VKMM_Q4_1, VKMM_Q5_0, VKMM_Q5_1,
                                       VKMM_Q8_0, VKMM_Q2_K, VKMM_Q3_K, VKMM_Q4_K, VKMM_Q5_K, VKMM_Q6_K, VKMM_IQ4_NL,
                                       VKMM_IQ4_XS};
    static const struct { uint32_t wg, per_element; const char *name; } settings[] = {
        {64, 0, "wg64-quads"}, {256, 1, "wg256-per-element"}};
    for (size_t si = 0; si < 2; si++) {
        c.setting = settings[si].name;
        vkmm_ops_set_tune(c.ops, VKMM_TUNE_GET_ROWS_WORKGROUP, settings[si].wg);
        vkmm_ops_set_tune(c.ops, VKMM_TUNE_GET_ROWS_PER_ELEMENT, settings[si].per_element);
        for (size_t t = 0; t < sizeof types / sizeof *types; t++) {
            uint32_t blk = vkmm_dtype_get(types[t])->block;
            uint32_t narrow = blk == 1 ? 7 : blk, wide = blk == 1 ? 4128 + 1 : (blk == 32 ? 129 * 32 : 10 * 256);
            check(&c, types[t], 1, narrow, 1, false);
            check(&c, types[t], 37, narrow * 3, 7, true);
            check(&c, types[t], 300, wide, 33, si == 0);
            check(&c, types[t], 9, blk == 1 ? 33 : blk, 512, true);
        }
    }
    /* errors */
    vkmm_range X;
    vkmm_buffer *bx = test_upload(c.gpu, NULL, 4096, 0, &X);
    vkmm_cmd *cmd;
    CHECK_OK(vkmm_cmd_create(c.gpu, 0, &cmd, &err), &err, 1);
    CHECK(vkmm_op_get_rows_table(c.ops, cmd, VKMM_Q4_K, X, 2, 100, X, 1, X, 0, 1, &err) != VKMM_OK,
          "Q4_K rows of 100 accepted");
    CHECK(vkmm_op_get_rows_table(c.ops, cmd, VKMM_IQ2_XS, X, 1, 256, X, 1, X, 0, 1, &err) == VKMM_ERR_UNSUPPORTED,
          "IQ2_XS tables accepted");
    vkmm_range bad[2] = {vkmm_range_sub(X, 0, 34), vkmm_range_sub(X, 34, 50)};
    CHECK(vkmm_op_get_rows(c.ops, cmd, VKMM_Q8_0, bad, 2, 2, 32, X, 1, X, 0, 1, &err) != VKMM_OK,
          "a piece that is not whole rows accepted");
    CHECK(vkmm_cmd_dispatch_count(cmd) == 0, "a rejected op recorded a dispatch");
    bad[1] = vkmm_range_sub(X, 34, 34);
    CHECK_OK(vkmm_op_get_rows(c.ops, cmd, VKMM_Q8_0, bad, 2, 2, 32, vkmm_range_sub(X, 1024, 4), 1,
                              vkmm_range_sub(X, 2048, 128), 0, 1, &err), &err, 1); /* lists must be submitted */
    CHECK_OK(vkmm_cmd_submit(cmd, &err), &err, 1);
    vkmm_cmd_destroy(cmd);
    vkmm_buffer_destroy(bx);
    vkmm_ops_destroy(c.ops);
    test_gpu_close(c.gpu);
    return test_finish("get_rows");
}
