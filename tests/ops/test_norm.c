/* tests/ops/test_norm.c — RMSNorm, LayerNorm, per-head (strided) norms and the fused residual + norm against the
 * float64 reference: random inputs, NaN-poisoned outputs, ragged sizes, unaligned ranges, three settings.
 * Bounds: NMSE <= 1e-13 for every f32 path, 1e-9 for LayerNorm of rows with a large common offset (the f32
 * mean of such a row carries an absolute error that the deviations then feel). */
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "ref/ref_norm.h"
#include "norm.h"

typedef struct ctx {
    vkmm_gpu *gpu;
    vkmm_ops *ops;
    test_rng rng;
    const char *setting;
} ctx;

static float *rand_vec(ctx *c, size_t n, float lo, float hi)
{
    float *v = malloc(n * sizeof *v);
    test_fill_uniform(&c->rng, v, n, lo, hi);
    return v;
}

static vkmm_cmd *begin(ctx *c)
{
    vkmm_error err;
    vkmm_cmd *cmd = NULL;
    CHECK_OK(vkmm_cmd_create(c->gpu, 0, &cmd, &err), &err, NULL);
    return cmd;
}

static void submit(vkmm_cmd *cmd)
{
    vkmm_error err;
    CHECK_OK(vkmm_cmd_submit(cmd, &err), &err, );
    vkmm_cmd_destroy(cmd);
}

/* A weight of n floats on the device, or an absent one. */
static vkmm_range opt_upload(ctx *c, const float *v, size_t n, vkmm_buffer **b)
{
    vkmm_range r = {0};
    *b = v ? test_upload(c->gpu, v, n * 4, 4, &r) : NULL;
    return r;
}

static void check_norm(ctx *c, vkmm_norm_kind kind, uint32_t rows, uint32_t cols, bool has_w, bool has_b,
                       bool in_place, float offset, double bound)
{
    vkmm_error err;
    size_t n = (size_t)rows * cols;
    float *x = rand_vec(c, n, offset - 2, offset + 2), *ref = malloc(n * 4), *out = malloc(n * 4);
    float *w = has_w ? rand_vec(c, cols, 0.5f, 1.5f) : NULL, *b = has_b ? rand_vec(c, cols, -1, 1) : NULL;
    uint32_t pad = (rows + cols) % 5;
    vkmm_range X, O, W, B;
    vkmm_buffer *bx = test_upload(c->gpu, x, n * 4, pad * 4, &X), *bo = NULL, *bw, *bb;
    if (in_place)
        O = X;
    else
        bo = test_upload(c->gpu, NULL, n * 4, (pad + 1) * 4, &O);
    W = opt_upload(c, w, cols, &bw);
    B = opt_upload(c, b, cols, &bb);
    vkmm_cmd *cmd = begin(c);
    if (kind == VKMM_NORM_RMS)
        CHECK_OK(vkmm_op_rms_norm(c->ops, cmd, X, W, O, rows, cols, 1e-6f, &err), &err, );
    else
        CHECK_OK(vkmm_op_layer_norm(c->ops, cmd, X, W, B, O, rows, cols, 1e-5f, &err), &err, );
    submit(cmd);
    test_download(c->gpu, O, out);
    if (kind == VKMM_NORM_RMS)
        ref_rms_norm(x, w, ref, rows, cols, 1e-6f);
    else
        ref_layer_norm(x, w, b, ref, rows, cols, 1e-5f);
    double e = test_nmse(out, ref, n);
    CHECK(e <= bound, "[%s] %s %ux%u w=%d b=%d in_place=%d offset=%g: nmse %g", c->setting,
          kind == VKMM_NORM_RMS ? "rms" : "layer", rows, cols, has_w, has_b, in_place, offset, e);
    vkmm_buffer_destroy(bx);
    vkmm_buffer_destroy(bo);
    vkmm_buffer_destroy(bw);
    vkmm_buffer_destroy(bb);
    free(x), free(ref), free(out), free(w), free(b);
}

/* Per-head norms inside a fused [q heads | k heads | v heads] token row: heads [q0, q0 + heads) of width d
 * are normalised in place or into a packed output; everything else in the token row must stay as it was. */
static void check_heads(ctx *c, uint32_t tokens, uint32_t heads, uint32_t d, uint32_t other, bool in_place)
{
    vkmm_error err;
    uint32_t q0 = 1, stride = (q0 + heads + other) * d; /* one leading head that is not ours */
    size_t n = (size_t)tokens * stride, np = (size_t)tokens * heads * d;
    float *x = rand_vec(c, n, -3, 3), *w = rand_vec(c, d, 0.5f, 1.5f), *out = malloc(n * 4);
    float *packed = malloc(np * 4), *ref = malloc(np * 4), *got = malloc(np * 4);
    for (uint32_t t = 0; t < tokens; t++)
        memcpy(packed + (size_t)t * heads * d, x + (size_t)t * stride + q0 * d, (size_t)heads * d * 4);
    ref_rms_norm(packed, w, ref, (size_t)tokens * heads, d, 1e-6f);

    vkmm_range X, O, W;
    vkmm_buffer *bx = test_upload(c->gpu, x, n * 4, 12, &X), *bo = NULL, *bw = test_upload(c->gpu, w, d * 4, 0, &W);
    vkmm_range Xq = vkmm_range_sub(X, (uint64_t)q0 * d * 4, X.size - (uint64_t)q0 * d * 4);
    vkmm_norm_shape s = {.n_cols = d, .n_rows = tokens, .n_sub = heads, .x_stride = stride, .eps = 1e-6f};
    if (in_place) {
        O = Xq;
        s.o_stride = stride;
    } else {
        bo = test_upload(c->gpu, NULL, np * 4, 8, &O);
    }
    vkmm_cmd *cmd = begin(c);
    CHECK_OK(vkmm_op_norm(c->ops, cmd, VKMM_NORM_RMS, &s, Xq, W, (vkmm_range){0}, O, &err), &err, );
    submit(cmd);
    if (in_place) {
        test_download(c->gpu, X, out);
        for (uint32_t t = 0; t < tokens; t++)
            memcpy(got + (size_t)t * heads * d, out + (size_t)t * stride + q0 * d, (size_t)heads * d * 4);
        /* the other heads are untouched */
        size_t changed = 0;
        for (uint32_t t = 0; t < tokens; t++)
            for (uint32_t i = 0; i < stride; i++) {
                bool ours = i >= q0 * d && i < (q0 + heads) * d;
                size_t k = (size_t)t * stride + i;
                if (!ours && memcmp(&out[k], &x[k], 4) != 0)
                    changed++;
            }
        CHECK(changed == 0, "[%s] heads: %zu elements outside the normalised heads changed", c->setting, changed);
    } else {
        test_download(c->gpu, O, got);
    }
    double e = test_nmse(got, ref, np);
    CHECK(e <= 1e-13, "[%s] heads %ux%ux%u in_place=%d: nmse %g", c->setting, tokens, heads, d, in_place, e);
    vkmm_buffer_destroy(bx);
    vkmm_buffer_destroy(bo);
    vkmm_buffer_destroy(bw);
    free(x), free(w), free(out), free(packed), free(ref), free(got);
}

/* x += (a_w ? RMSNorm(a)·a_w : a); out = norm(x)·w (+ b) */
static void check_add(ctx *c, vkmm_norm_kind kind, uint32_t rows, uint32_t cols, bool norm_a)
{
    vkmm_error err;
    size_t n = (size_t)rows * cols;
    float *x = rand_vec(c, n, -4, 4), *a = rand_vec(c, n, -20, 20), *w = rand_vec(c, cols, 0.5f, 1.5f);
    float *aw = norm_a ? rand_vec(c, cols, 0.5f, 1.5f) : NULL, *b = rand_vec(c, cols, -1, 1);
    float *xr = malloc(n * 4), *ref = malloc(n * 4), *got = malloc(n * 4);
    if (norm_a)
        ref_rms_norm(a, aw, xr, rows, cols, 1e-6f);
    else
        memcpy(xr, a, n * 4);
    for (size_t i = 0; i < n; i++)
        xr[i] += x[i];
    if (kind == VKMM_NORM_RMS)
        ref_rms_norm(xr, w, ref, rows, cols, 1e-6f);
    else
        ref_layer_norm(xr, w, b, ref, rows, cols, 1e-6f);

    vkmm_range X, A, O, W, AW, B;
    uint32_t pad = cols % 3;
    vkmm_buffer *bx = test_upload(c->gpu, x, n * 4, pad * 4, &X), *ba = test_upload(c->gpu, a, n * 4, 4, &A),
                *bo = test_upload(c->gpu, NULL, n * 4, 8, &O), *bw = test_upload(c->gpu, w, cols * 4, 0, &W),
                *bb = test_upload(c->gpu, b, cols * 4, 4, &B), *baw;
    AW = opt_upload(c, aw, cols, &baw);
    vkmm_cmd *cmd = begin(c);
    CHECK_OK(vkmm_op_add_norm(c->ops, cmd, kind, X, A, AW, W, B, O, rows, cols, 1e-6f, &err), &err, );
    submit(cmd);
    test_download(c->gpu, X, got);
    double ex = test_nmse(got, xr, n);
    test_download(c->gpu, O, got);
    double eo = test_nmse(got, ref, n);
    CHECK(ex <= 1e-13 && eo <= 1e-13, "[%s] add_%s %ux%u norm_a=%d: nmse residual %g, out %g", c->setting,
          kind == VKMM_NORM_RMS ? "rms" : "layer", rows, cols, norm_a, ex, eo);
    vkmm_buffer_destroy(bx), vkmm_buffer_destroy(ba), vkmm_buffer_destroy(bo);
    vkmm_buffer_destroy(bw), vkmm_buffer_destroy(bb), vkmm_buffer_destroy(baw);
    free(x), free(a), free(w), free(aw), free(b), free(xr), free(ref), free(got);
}

static void check_errors(ctx *c)
{
    vkmm_error err;
    vkmm_range X;
    vkmm_buffer *bx = test_upload(c->gpu, NULL, 64 * 4, 0, &X);
    vkmm_cmd *cmd = begin(c);
    CHECK(vkmm_op_rms_norm(c->ops, cmd, X, (vkmm_range){0}, X, 5, 13, 1e-6f, &err) != VKMM_OK,
          "5x13 rows in 64 floats accepted");
    CHECK(vkmm_op_layer_norm(c->ops, cmd, X, vkmm_range_sub(X, 0, 8), (vkmm_range){0}, X, 4, 16, 1e-6f, &err) !=
              VKMM_OK, "a 2-float weight for 16 columns accepted");
    CHECK(vkmm_op_add_norm(c->ops, cmd, VKMM_NORM_RMS, X, X, (vkmm_range){0}, (vkmm_range){0}, (vkmm_range){0}, X,
                           4, 16, 1e-6f, &err) != VKMM_OK, "add_norm writing over its residual accepted");
    CHECK(vkmm_cmd_dispatch_count(cmd) == 0, "a rejected op recorded a dispatch");
    /* a list that was never submitted cannot be destroyed yet (its fence never signals): use it */
    CHECK_OK(vkmm_op_rms_norm(c->ops, cmd, X, (vkmm_range){0}, X, 4, 16, 1e-6f, &err), &err, );
    submit(cmd);
    vkmm_buffer_destroy(bx);
}

int main(void)
{
    vkmm_error err;
    ctx c = {.gpu = test_gpu_open(NULL), .rng = test_rng_seed(7)};
    CHECK_OK(vkmm_ops_create(c.gpu, NULL, &c.ops, &err), &err, 1);
    static const struct { uint32_t wg, sg; const char *name; } settings[] = {
        {64, 1, "wg64-subgroup"}, {256, 0, "wg256-shared"}, {32, 0, "wg32-shared"}};
    static const uint32_t shapes[][2] = {{7, 1}, {32, 7}, {2, 33}, {512, 64}, {7, 1152}, {1, 4128}, {32, 4128}};
    for (size_t si = 0; si < 3; si++) {
        c.setting = settings[si].name;
        vkmm_ops_set_tune(c.ops, VKMM_TUNE_NORM_WORKGROUP, settings[si].wg);
        vkmm_ops_set_tune(c.ops, VKMM_TUNE_NORM_SUBGROUP, settings[si].sg);
        for (size_t i = 0; i < sizeof shapes / sizeof *shapes; i++) {
            uint32_t rows = shapes[i][0], cols = shapes[i][1];
            check_norm(&c, VKMM_NORM_RMS, rows, cols, true, false, false, 0, 1e-13);
            check_norm(&c, VKMM_NORM_RMS, rows, cols, false, false, true, 0, 1e-13);
            check_norm(&c, VKMM_NORM_LAYER, rows, cols, true, true, false, 0.5f, 1e-13);
            check_norm(&c, VKMM_NORM_LAYER, rows, cols, i % 2, false, true, 0, 1e-13);
            check_norm(&c, VKMM_NORM_LAYER, rows, cols, true, true, false, 300, 1e-9);
            check_add(&c, VKMM_NORM_RMS, rows, cols, true);
            check_add(&c, VKMM_NORM_RMS, rows, cols, false);
            check_add(&c, VKMM_NORM_LAYER, rows, cols, false);
        }
        check_heads(&c, 7, 5, 72, 3, true);
        check_heads(&c, 33, 8, 256, 2, false);
        check_heads(&c, 2, 1, 7, 0, true);
    }
    check_errors(&c);
    vkmm_ops_destroy(c.ops);
    test_gpu_close(c.gpu);
    return test_finish("norm");
}
