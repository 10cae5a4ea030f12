/* tests/ops/test_matmul.c — mat-vec and tiled mat-mat for every weight type, weights split into pieces, ragged
 * shapes, strided columns, two tuning settings each; patch embedding with and without bias. */
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "dtype_table.h"
#include "ref/ref_act.h"
#include "ref/ref_matmul.h"
#include "matmul.h"

typedef struct ctx {
    vkmm_gpu *gpu;
    vkmm_ops *ops;
    test_rng rng;
    uint32_t calls; /* cycles the weights' start offset through 16-, 8-, 4- and 2-byte alignments */
    bool odd_stride; /* x columns k + 1 floats apart: not vec4-readable, so even a few columns take the tiles */
    float lo;        /* inputs are uniform in [lo, 1] */
} ctx;

/* Random weights of a type: quantize random floats (so every block is well formed). */
static uint8_t *make_weights(ctx *c, uint32_t type, uint32_t rows, uint32_t k)
{
    uint64_t rb = vkmm_dtype_row_bytes(type, k);
    float *f = malloc(sizeof *f * k);
    uint8_t *w = malloc(rb * rows);
    for (uint32_t r = 0; r < rows; r++) {
        test_fill_uniform(&c->rng, f, k, c->lo, 1);
        vkmm_quantize(type, f, w + r * rb, k);
    }
    free(f);
    return w;
}

/* Splits a weight view into `parts` pieces at row boundaries (as a tensor over the binding limit would be). */
static void force_pieces(vkmm_weight *w, uint32_t parts)
{
    vkmm_range whole = w->piece[0].range;
    uint32_t per = (w->rows + parts - 1) / parts, row = 0, n = 0;
    while (row < w->rows) {
        uint32_t r = w->rows - row < per ? w->rows - row : per;
        w->piece[n].range = vkmm_range_sub(whole, row * w->row_bytes, r * w->row_bytes);
        w->piece[n].row0 = row;
        w->piece[n].rows = r;
        row += r;
        n++;
    }
    w->n_pieces = n;
}

static void check(ctx *c, uint32_t type, uint32_t rows, uint32_t k, uint32_t n_cols, uint32_t parts)
{
    vkmm_error err;
    uint32_t x_stride = c->odd_stride ? k + 1 : (k + 3) / 4 * 4 + 4 * (n_cols % 2), y_stride = rows + 3;
    uint8_t *w = make_weights(c, type, rows, k);
    uint64_t rb = vkmm_dtype_row_bytes(type, k);
    float *x = malloc(sizeof *x * x_stride * n_cols), *ref = malloc(sizeof *ref * y_stride * n_cols),
          *out = malloc(sizeof *out * y_stride * n_cols);
    test_fill_uniform(&c->rng, x, (size_t)x_stride * n_cols, c->lo, 1);
    vkmm_range W, X, Y;
    /* W starts at offsets of every alignment: the mat-vec loads 16, 4 or 2 bytes at a time accordingly */
    static const uint32_t pads[] = {0, 2, 4, 8, 22};
    uint32_t pad = pads[c->calls++ % 5];
    vkmm_buffer *bw = test_upload(c->gpu, w, rb * rows, pad, &W);
    vkmm_buffer *bx = test_upload(c->gpu, x, sizeof *x * x_stride * n_cols, 16, &X);
    vkmm_buffer *by = test_upload(c->gpu, NULL, sizeof *out * y_stride * n_cols, 4 * (k % 5), &Y);
    vkmm_weight wt;
    CHECK_OK(vkmm_weight_view(c->ops, W, type, k, rows, &wt, &err), &err, );
    if (parts > 1)
        force_pieces(&wt, parts);
    vkmm_cmd *cmd;
    CHECK_OK(vkmm_cmd_create(c->gpu, 0, &cmd, &err), &err, );
    CHECK_OK(vkmm_op_matmul(c->ops, cmd, &wt, X, x_stride, Y, y_stride, n_cols, &err), &err, );
    CHECK_OK(vkmm_cmd_submit(cmd, &err), &err, );
    test_download(c->gpu, Y, out);
    ref_matmul(type, w, rows, k, x, x_stride, n_cols, ref, y_stride);
    /* compare only the written part (the gaps between strided rows stay NaN poison) */
    double num = 0, den = 0;
    bool nan = false;
    for (uint32_t n = 0; n < n_cols; n++)
        for (uint32_t m = 0; m < rows; m++) {
            float a = out[n * y_stride + m], b = ref[n * y_stride + m];
            if (a != a)
                nan = true;
            num += ((double)a - b) * ((double)a - b);
            den += (double)b * b;
        }
    double nmse = nan ? INFINITY : num / den;
    CHECK(nmse < 1e-10, "%s rows=%u k=%u cols=%u pieces=%u: nmse %g", vkmm_dtype_get(type)->name, rows, k, n_cols,
          parts, nmse);
    vkmm_cmd_destroy(cmd);
    vkmm_buffer_destroy(bw);
    vkmm_buffer_destroy(bx);
    vkmm_buffer_destroy(by);
    free(w);
    free(x);
    free(ref);
    free(out);
}

/* The fused gated unit act(G·x) · (U·x) against two reference products; where the device has no fused kernel
 * (or this setting turns it off) the op must say so and record nothing. */
static void check_glu(ctx *c, uint32_t type, vkmm_act act, uint32_t rows, uint32_t k, uint32_t n_cols, bool expect)
{
    vkmm_error err;
    uint32_t x_stride = (k + 3) / 4 * 4 + 4, y_stride = rows + 1;
    uint8_t *wg = make_weights(c, type, rows, k), *wu = make_weights(c, type, rows, k);
    uint64_t rb = vkmm_dtype_row_bytes(type, k);
    float *x = malloc(sizeof *x * x_stride * n_cols), *g = malloc(sizeof *g * y_stride * n_cols),
          *u = malloc(sizeof *u * y_stride * n_cols), *out = malloc(sizeof *out * y_stride * n_cols);
    test_fill_uniform(&c->rng, x, (size_t)x_stride * n_cols, -1, 1);
    vkmm_range W, U, X, Y;
    uint32_t pad = 16 * (c->calls++ % 2); /* gate and up start at the same alignment, as the kernel needs */
    vkmm_buffer *bw = test_upload(c->gpu, wg, rb * rows, pad, &W), *bu = test_upload(c->gpu, wu, rb * rows, pad, &U);
    vkmm_buffer *bx = test_upload(c->gpu, x, sizeof *x * x_stride * n_cols, 16, &X);
    vkmm_buffer *by = test_upload(c->gpu, NULL, sizeof *out * y_stride * n_cols, 4, &Y);
    vkmm_weight tg, tu;
    CHECK_OK(vkmm_weight_view(c->ops, W, type, k, rows, &tg, &err), &err, );
    CHECK_OK(vkmm_weight_view(c->ops, U, type, k, rows, &tu, &err), &err, );
    vkmm_cmd *cmd;
    CHECK_OK(vkmm_cmd_create(c->gpu, 0, &cmd, &err), &err, );
    bool done = false;
    CHECK_OK(vkmm_op_matmul_glu(c->ops, cmd, act, &tg, &tu, X, x_stride, Y, y_stride, n_cols, &done, &err), &err, );
    CHECK(done == expect, "%s glu rows=%u k=%u: fused %d, expected %d", vkmm_dtype_get(type)->name, rows, k, done,
          expect);
    if (done) {
        CHECK_OK(vkmm_cmd_submit(cmd, &err), &err, );
        test_download(c->gpu, Y, out);
        ref_matmul(type, wg, rows, k, x, x_stride, n_cols, g, y_stride);
        ref_matmul(type, wu, rows, k, x, x_stride, n_cols, u, y_stride);
        double num = 0, den = 0;
        for (uint32_t n = 0; n < n_cols; n++)
            for (uint32_t m = 0; m < rows; m++) {
                double a = g[n * y_stride + m];
                a = (act == VKMM_ACT_SILU ? ref_silu(a) : act == VKMM_ACT_GELU_ERF ? ref_gelu_erf(a) : ref_gelu_tanh(a)) *
                    u[n * y_stride + m];
                double e = out[n * y_stride + m] - a;
                num += e * e;
                den += a * a;
            }
        CHECK(num / den < 1e-10, "%s glu act %d rows=%u k=%u cols=%u: nmse %g", vkmm_dtype_get(type)->name, act, rows,
              k, n_cols, num / den);
    }
    vkmm_cmd_destroy(cmd);
    vkmm_buffer_destroy(bw);
    vkmm_buffer_destroy(bu);
    vkmm_buffer_destroy(bx);
    vkmm_buffer_destroy(by);
    free(wg);
    free(wu);
    free(x);
    free(g);
    free(u);
    free(out);
}

static void patch_embed(ctx *c, uint32_t type, bool with_bias)
{
    vkmm_error err;
    const uint32_t P = 14, C = 3, H = 14 * 3, Wd = 14 * 5, NO = 37, K = C * P * P, T = (H / P) * (Wd / P);
    float *wf = malloc(sizeof *wf * NO * K), *img = malloc(sizeof *img * C * H * Wd), *bias = malloc(sizeof *bias * NO);
    float *ref = malloc(sizeof *ref * T * NO), *out = malloc(sizeof *out * T * NO);
    test_fill_uniform(&c->rng, wf, NO * K, -0.1f, 0.1f);
    test_fill_uniform(&c->rng, img, C * H * Wd, -1, 1);
    test_fill_uniform(&c->rng, bias, NO, -1, 1);
    uint64_t rb = vkmm_dtype_row_bytes(type, K);
    uint8_t *wq = malloc(rb * NO);
    vkmm_quantize(type, wf, wq, (size_t)NO * K);
    vkmm_dequantize(type, wq, wf, (size_t)NO * K); /* the reference sees exactly the stored weights */
    vkmm_range Wr, I, B, O;
    vkmm_buffer *bw = test_upload(c->gpu, wq, rb * NO, 0, &Wr), *bi = test_upload(c->gpu, img, 4ull * C * H * Wd, 4, &I),
                *bb = test_upload(c->gpu, bias, 4ull * NO, 8, &B), *bo = test_upload(c->gpu, NULL, 4ull * T * NO, 0, &O);
    vkmm_weight wt;
    CHECK_OK(vkmm_weight_view(c->ops, Wr, type, K, NO, &wt, &err), &err, );
    vkmm_cmd *cmd;
    CHECK_OK(vkmm_cmd_create(c->gpu, 0, &cmd, &err), &err, );
    vkmm_range nob = {0}, S;
    ref_patch_embed(wf, with_bias ? bias : NULL, NO, img, C, H, Wd, P, ref);
    /* the tiles, then (where the device has it) im2col into scratch and the mat-vec kernel */
    uint64_t cols = vkmm_op_patch_embed_scratch_bytes(c->ops, &wt, H, Wd, P);
    vkmm_buffer *bs = test_upload(c->gpu, NULL, cols ? cols : 16, 16, &S);
    for (int pass = 0; pass < (cols ? 2 : 1); pass++) {
        vkmm_range sc = pass ? S : nob;
        if (pass) {
            vkmm_cmd_destroy(cmd);
            CHECK_OK(vkmm_cmd_create(c->gpu, 0, &cmd, &err), &err, );
        }
        CHECK_OK(vkmm_op_patch_embed(c->ops, cmd, &wt, with_bias ? B : nob, I, C, H, Wd, P, O, sc, &err), &err, );
        CHECK_OK(vkmm_cmd_submit(cmd, &err), &err, );
        test_download(c->gpu, O, out);
        double e = test_nmse(out, ref, (size_t)T * NO);
        CHECK(e < 1e-10, "patch embed %s bias=%d %s: nmse %g", vkmm_dtype_get(type)->name, with_bias,
              pass ? "im2col + mat-vec" : "tiles", e);
    }
    vkmm_buffer_destroy(bs);
    /* a bad geometry is refused, not run */
    vkmm_status s = vkmm_op_patch_embed(c->ops, cmd, &wt, nob, I, C, H + 1, Wd, P, O, nob, &err);
    CHECK(s == VKMM_ERR_INVALID_ARG, "image height not a multiple of the patch accepted");
    vkmm_cmd_destroy(cmd);
    vkmm_buffer_destroy(bw);
    vkmm_buffer_destroy(bi);
    vkmm_buffer_destroy(bb);
    vkmm_buffer_destroy(bo);
    free(wf);
    free(img);
    free(bias);
    free(ref);
    free(out);
    free(wq);
}

int main(void)
{
    vkmm_error err;
    ctx c = {.gpu = test_gpu_open(NULL), .rng = test_rng_seed(11), .lo = -1};
    CHECK_OK(vkmm_ops_create(c.gpu, NULL, &c.ops, &err), &err, 1);
    static const uint32_t types[] = {VKMM_F32, VKMM_F16, VKMM_BF16, VKMM_Q8_0, VKMM_Q4_0, VKMM_Q4_1, VKMM_Q5_0,
                                     VKMM_Q5_1, VKMM_IQ4_NL, VKMM_Q2_K, VKMM_Q3_K, VKMM_Q4_K, VKMM_Q5_K, VKMM_Q6_K,
                                     VKMM_IQ4_XS};
    /* setting 0: small groups, one row per team, shared-memory reduction; setting 1: bigger groups and teams
     * (several subgroups per team on lavapipe), four rows per team, subgroup reduction; setting 2 (mat-vec
     * shapes only): the generic decoder for every type, two rows per team of one subgroup. 9 to 40 columns go
     * through the tiled kernel in setting 0 and through the mat-vec in chunks of up to 8 in setting 1.
     * Settings 1 and 2 also take the lanes layout (matvec_lanes.comp) for the types it has, where the device can
     * run it (8-lane subgroups): two rows per lane in setting 1, one in setting 2. */
    for (int setting = 0; setting < 3; setting++) {
        vkmm_ops_set_tune(c.ops, VKMM_TUNE_MATVEC_WORKGROUP, setting == 1 ? 128 : 32);
        vkmm_ops_set_tune(c.ops, VKMM_TUNE_MATVEC_THREADS_PER_ROW, setting == 0 ? 4 : setting == 1 ? 64 : 8);
        vkmm_ops_set_tune(c.ops, VKMM_TUNE_MATVEC_ROWS_PER_THREAD, setting == 0 ? 1 : setting == 1 ? 4 : 2);
        vkmm_ops_set_tune(c.ops, VKMM_TUNE_MATVEC_MIN_THREADS, 0);
        vkmm_ops_set_tune(c.ops, VKMM_TUNE_MATVEC_SUBGROUP, setting != 0);
        vkmm_ops_set_tune(c.ops, VKMM_TUNE_MATVEC_GENERIC, setting == 2);
        vkmm_ops_set_tune(c.ops, VKMM_TUNE_MATVEC_CHUNKED_COLS, setting == 1 ? 40 : 0);
        vkmm_ops_set_tune(c.ops, VKMM_TUNE_MATVEC_LANES, setting != 0);
        vkmm_ops_set_tune(c.ops, VKMM_TUNE_MATVEC_LANE_ROWS, setting == 1 ? 2 : 1);
        /* tiles: 32x16 of 2x2 per thread, K by 32 / 64x32 of 4x2 per thread, K by 12 (not a divisor of the
         * blocks: steps end mid-block and the last one is ragged) */
        vkmm_ops_set_tune(c.ops, VKMM_TUNE_MATMUL_BM, setting ? 64 : 32);
        vkmm_ops_set_tune(c.ops, VKMM_TUNE_MATMUL_BN, setting ? 32 : 16);
        vkmm_ops_set_tune(c.ops, VKMM_TUNE_MATMUL_TM, setting ? 4 : 2);
        vkmm_ops_set_tune(c.ops, VKMM_TUNE_MATMUL_TN, 2);
        vkmm_ops_set_tune(c.ops, VKMM_TUNE_MATMUL_BK, setting ? 12 : 32);
        /* setting 2 takes the short-prompt tile set (32x64 of 4x4, K by 32) for everything up to 512 columns */
        vkmm_ops_set_tune(c.ops, VKMM_TUNE_MATMUL_SMALL_COLS, setting == 2 ? 512 : 0);
        vkmm_ops_set_tune(c.ops, VKMM_TUNE_MATMUL_SMALL_BM, 32);
        vkmm_ops_set_tune(c.ops, VKMM_TUNE_MATMUL_SMALL_BN, 64);
        vkmm_ops_set_tune(c.ops, VKMM_TUNE_MATMUL_SMALL_TM, 4);
        vkmm_ops_set_tune(c.ops, VKMM_TUNE_MATMUL_SMALL_TN, 4);
        vkmm_ops_set_tune(c.ops, VKMM_TUNE_MATMUL_SMALL_BK, 32);
        for (size_t t = 0; t < sizeof types / sizeof *types; t++) {
            uint32_t type = types[t];
            uint32_t blk = vkmm_dtype_get(type)->block;
            /* k_big has an even number of blocks (rows of 2-byte aligned types start word aligned), k_odd not */
            uint32_t k_small = blk == 256 ? 256 : 32, k_big = blk == 256 ? 4096 + 512 : 4096 + 64;
            uint32_t k_odd = 3 * k_small;
            /* a single output: positive inputs, since one sum that cancels to near zero would make its relative
             * error (the NMSE of one value) meaningless for any float kernel */
            c.lo = 0.05f;
            check(&c, type, 1, k_small, 1, 1);
            c.lo = -1;
            check(&c, type, 7, k_big, 2, 1);
            check(&c, type, 33, k_odd, 7, 3);
            check(&c, type, 70, k_big, 8, 2);
            check(&c, type, 13, k_big + k_small, 1, 1);
            /* rows of whole 16-byte texels for every type (the lanes layout's aligned steps, at offsets that
             * cycle through the alignments), over several workgroups with a short last one */
            check(&c, type, 301, 512, 1 + setting * 2, 1);
            if (setting == 2)
                continue;
            /* just past the mat-vec limit: tiled in setting 0, the mat-vec over column chunks in setting 1 */
            check(&c, type, 33, k_small * 2, 9, 1);
            check(&c, type, 100, k_big, 33, 3);
            if (setting)
                check(&c, type, 130, k_small * 5, 130, 1);
            if (setting < 2 && type == VKMM_Q8_0) /* a long K: many tile steps (lavapipe caps loop iterations) */
                check(&c, type, 5, 32768 + 32, 41, 1);
        }
        /* the fused gated unit: where the lanes layout runs (settings 1 and 2 on 8-lane devices), for its types */
        {
            const vkmm_device_info *d = vkmm_gpu_info(c.gpu);
            bool lanes = setting != 0 && d->subgroup_size == 8 && (d->subgroup_ops & VKMM_SUBGROUP_SHUFFLE);
            static const uint32_t glu_types[] = {VKMM_F16, VKMM_Q8_0, VKMM_Q4_0, VKMM_Q4_K, VKMM_Q6_K, VKMM_Q5_0};
            for (size_t t = 0; t < sizeof glu_types / sizeof *glu_types; t++) {
                bool has = lanes && glu_types[t] != VKMM_Q5_0;
                uint32_t blk = vkmm_dtype_get(glu_types[t])->block, k = blk == 256 ? 512 : 96;
                check_glu(&c, glu_types[t], (vkmm_act)(t % 3), 77, k, 1, has);
                check_glu(&c, glu_types[t], (vkmm_act)((t + 1) % 3), 130, 2 * k, 2 + setting, has); /* within max_cols */
            }
        }
        /* plain types with row lengths that are not multiples of 32 */
        check(&c, VKMM_F32, 9, 7, 1, 1);
        check(&c, VKMM_F16, 5, 33, 3, 1);
        check(&c, VKMM_F16, 40, 4304, 4, 1);
        check(&c, VKMM_BF16, 3, 70, 2, 1);
        if (setting == 2)
            continue;
        check(&c, VKMM_F32, 17, 588, 20, 2);
        c.odd_stride = true;
        check(&c, VKMM_Q4_K, 9, 512, 3, 1);
        check(&c, VKMM_F16, 6, 36, 1, 1);
        check(&c, VKMM_F32, 9, 10, 2, 1); /* tiles over rows that end in a partial quad */
        check(&c, VKMM_BF16, 4, 70, 12, 1);
        c.odd_stride = false;
        patch_embed(&c, VKMM_F32, true);
        patch_embed(&c, VKMM_F16, false);
    }
    vkmm_ops_destroy(c.ops);
    test_gpu_close(c.gpu);
    return test_finish("matmul");
}
