/* tests/ops/test_elementwise.c — add, sub, mul (with row broadcast), scale, clamp and f32<->f16 against the C
 * reference: random inputs, NaN-poisoned outputs, ragged sizes, unaligned sub-ranges, two workgroup settings. Clamp
 * is exact, in place too, and keeps NaN inputs NaN. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "ref/ref_elementwise.h"
#include "elementwise.h"

typedef struct ctx {
    vkmm_gpu *gpu;
    vkmm_ops *ops;
    test_rng rng;
} ctx;

typedef enum bin_op { BIN_ADD, BIN_SUB, BIN_MUL } bin_op;

static void check_binary(ctx *c, bin_op op, uint32_t n, uint32_t period, uint32_t pad)
{
    vkmm_error err;
    float *a = malloc(n * 4), *b = malloc(period * 4), *ref = malloc(n * 4), *out = malloc(n * 4);
    test_fill_uniform(&c->rng, a, n, -3, 3);
    test_fill_uniform(&c->rng, b, period, -3, 3);
    vkmm_range A, B, O;
    vkmm_buffer *ba = test_upload(c->gpu, a, n * 4, pad * 4, &A), *bb = test_upload(c->gpu, b, period * 4, 0, &B),
                *bo = test_upload(c->gpu, NULL, n * 4, (pad + 1) * 4, &O);
    vkmm_cmd *cmd;
    CHECK_OK(vkmm_cmd_create(c->gpu, 0, &cmd, &err), &err, );
    static vkmm_status (*const fn[])(vkmm_ops *, vkmm_cmd *, vkmm_range, vkmm_range, vkmm_range, uint32_t,
                                     uint32_t, vkmm_error *) = {vkmm_op_add, vkmm_op_sub, vkmm_op_mul};
    static void (*const ref_fn[])(const float *, const float *, float *, size_t, size_t) = {ref_add, ref_sub,
                                                                                            ref_mul};
    static const char *const names[] = {"add", "sub", "mul"};
    CHECK_OK(fn[op](c->ops, cmd, A, B, O, n, period, &err), &err, );
    CHECK_OK(vkmm_cmd_submit(cmd, &err), &err, );
    test_download(c->gpu, O, out);
    ref_fn[op](a, b, ref, n, period);
    double nmse = test_nmse(out, ref, n);
    CHECK(nmse < 1e-12, "%s n=%u period=%u pad=%u: nmse %g", names[op], n, period, pad, nmse);
    vkmm_cmd_destroy(cmd);
    vkmm_buffer_destroy(ba);
    vkmm_buffer_destroy(bb);
    vkmm_buffer_destroy(bo);
    free(a);
    free(b);
    free(ref);
    free(out);
}

static void check_scale_convert(ctx *c, uint32_t n, uint32_t pad)
{
    vkmm_error err;
    float *a = malloc(n * 4), *ref = malloc(n * 4), *out = malloc(n * 4);
    uint16_t *h_ref = malloc(n * 2), *h_out = malloc(n * 2);
    test_fill_uniform(&c->rng, a, n, -70000, 70000); /* past f16's range: infinities must match */
    vkmm_range A, O, H, F;
    vkmm_buffer *ba = test_upload(c->gpu, a, n * 4, pad * 4, &A), *bo = test_upload(c->gpu, NULL, n * 4, 0, &O),
                *bh = test_upload(c->gpu, NULL, n * 2, pad * 2 + 2, &H), *bf = test_upload(c->gpu, NULL, n * 4, pad * 4 + 4, &F);
    vkmm_cmd *cmd;
    CHECK_OK(vkmm_cmd_create(c->gpu, 0, &cmd, &err), &err, );
    CHECK_OK(vkmm_op_scale(c->ops, cmd, A, O, n, -0.375f, &err), &err, );
    CHECK_OK(vkmm_op_convert(c->ops, cmd, A, VKMM_F32, H, VKMM_F16, n, &err), &err, );
    CHECK_OK(vkmm_op_convert(c->ops, cmd, H, VKMM_F16, F, VKMM_F32, n, &err), &err, );
    CHECK_OK(vkmm_cmd_submit(cmd, &err), &err, );

    test_download(c->gpu, O, out);
    ref_scale(a, ref, n, -0.375f);
    CHECK(test_max_abs_diff(out, ref, n) == 0, "scale n=%u pad=%u differs", n, pad);

    test_download(c->gpu, H, h_out);
    ref_f32_to_f16(a, h_ref, n);
    uint32_t bad = 0;
    for (uint32_t i = 0; i < n; i++) {
        /* devices may round f32->f16 to nearest or toward zero (both allowed by Vulkan): one ulp */
        int d = (int)h_out[i] - (int)h_ref[i];
        if (d < -1 || d > 1)
            bad++;
    }
    CHECK(bad == 0, "f32->f16 n=%u: %u of %u differ by more than one ulp", n, bad, n);

    test_download(c->gpu, F, out);
    ref_f16_to_f32(h_out, ref, n);
    CHECK(memcmp(out, ref, n * 4) == 0, "f16->f32 n=%u is not exact", n);

    vkmm_cmd_destroy(cmd);
    vkmm_buffer_destroy(ba);
    vkmm_buffer_destroy(bo);
    vkmm_buffer_destroy(bh);
    vkmm_buffer_destroy(bf);
    free(a);
    free(ref);
    free(out);
    free(h_ref);
    free(h_out);
}

/* out = min(max(a, lo), hi), exactly, for inputs in [-range, range]; a NaN input stays NaN; then the same in place.
 * Bounds may be infinite (Gemma 4's unclipped sides). */
static void check_clamp(ctx *c, uint32_t n, uint32_t pad, float lo, float hi, float range)
{
    vkmm_error err;
    float *a = malloc(n * 4), *ref = malloc(n * 4), *out = malloc(n * 4);
    test_fill_uniform(&c->rng, a, n, -range, range);
    a[n / 2] = NAN;
    ref_clamp(a, ref, n, lo, hi); /* comparisons with NaN are false: it passes through */
    vkmm_range A, O;
    vkmm_buffer *ba = test_upload(c->gpu, a, n * 4, pad * 4, &A), *bo = test_upload(c->gpu, NULL, n * 4, 4, &O);
    vkmm_cmd *cmd;
    CHECK_OK(vkmm_cmd_create(c->gpu, 0, &cmd, &err), &err, );
    CHECK_OK(vkmm_op_clamp(c->ops, cmd, A, O, n, lo, hi, &err), &err, );
    CHECK_OK(vkmm_cmd_submit(cmd, &err), &err, );
    for (int in_place = 0; in_place < 2; in_place++) {
        test_download(c->gpu, in_place ? A : O, out);
        uint32_t bad = 0;
        for (uint32_t i = 0; i < n; i++)
            bad += !(isnan(ref[i]) ? isnan(out[i]) : out[i] == ref[i]);
        CHECK(bad == 0, "clamp%s n=%u pad=%u: %u of %u differ", in_place ? " in place" : "", n, pad, bad, n);
        if (!in_place) {
            vkmm_cmd_reset(cmd);
            CHECK_OK(vkmm_op_clamp(c->ops, cmd, A, A, n, lo, hi, &err), &err, );
            CHECK_OK(vkmm_cmd_submit(cmd, &err), &err, );
        }
    }
    CHECK(vkmm_op_clamp(c->ops, cmd, A, O, n, 1.0f, -1.0f, &err) == VKMM_ERR_INVALID_ARG,
          "clamp to an empty interval accepted");
    CHECK(vkmm_op_clamp(c->ops, cmd, A, O, n + 1, lo, hi, &err) != VKMM_OK, "clamp past the range accepted");
    vkmm_cmd_destroy(cmd);
    vkmm_buffer_destroy(ba);
    vkmm_buffer_destroy(bo);
    free(a);
    free(ref);
    free(out);
}

int main(void)
{
    vkmm_error err;
    ctx c = {.gpu = test_gpu_open(NULL), .rng = test_rng_seed(42)};
    CHECK_OK(vkmm_ops_create(c.gpu, NULL, &c.ops, &err), &err, 1);
    static const uint32_t sizes[] = {1, 7, 33, 4096 + 32, 100003};
    static const uint32_t workgroups[] = {32, 256};
    for (size_t w = 0; w < 2; w++) {
        vkmm_ops_set_tune(c.ops, VKMM_TUNE_ELEMENTWISE_WORKGROUP, workgroups[w]);
        for (size_t i = 0; i < sizeof sizes / sizeof *sizes; i++) {
            uint32_t n = sizes[i];
            check_binary(&c, BIN_ADD, n, n, 0);
            check_binary(&c, BIN_SUB, n, n, 2);
            check_binary(&c, BIN_MUL, n, n, 3);
            if (n % 33 == 0 || n == 4096 + 32) {
                uint32_t period = n == 33 ? 11 : 64;
                check_binary(&c, BIN_ADD, n, period, 1);
                check_binary(&c, BIN_SUB, n, period, 0);
                check_binary(&c, BIN_MUL, n, period, 0);
            }
            check_scale_convert(&c, n, (uint32_t)i);
            check_clamp(&c, n, (uint32_t)i, -2.5f, 3.25f, 10.0f);
            check_clamp(&c, n, (uint32_t)i + 2, -1234.5f, INFINITY, 70000.0f);
        }
    }
    vkmm_ops_destroy(c.ops);
    test_gpu_close(c.gpu);
    return test_finish("elementwise");
}
