/* tests/ops/test_conv.c — the convolution family against float64 references: 2-D convolutions with Gemma 4 audio's
 * shapes (3×3, stride 2, padding 1, 1 → 16 and 16 → 8 channels, and the real 1 → 128 and 128 → 32 on a short
 * stretch), each with and without the LayerNorm over channels and ReLU that follow, and odd ones (non-square kernels and
 * strides, no padding, 700 input channels, more output channels than a workgroup, a bias),
 * the kernel turned output-channel-innermost by vkmm_op_copy with vkmm_conv2d_weight_layout's shape; the causal
 * depthwise 1-D convolution with kernels of 1, 3 and 5 over ragged lengths; NaN-poisoned outputs, unaligned
 * ranges, two workgroup sizes; refused shapes.
 * Bounds: NMSE <= 1e-11 (f32 sums of up to 6300 products of random sign against double: measured up to 2e-12 there,
 * ~1e-14 on Gemma 4's shapes). */
#include <stdlib.h>

#include "harness.h"
#include "ref/ref_conv.h"
#include "conv.h"
#include "layout.h"

typedef struct ctx {
    vkmm_gpu *gpu;
    vkmm_ops *ops;
    test_rng rng;
    const char *setting;
} ctx;

static void check_conv2d(ctx *c, vkmm_conv2d_shape s, bool bias, bool norm)
{
    vkmm_error err;
    uint32_t oh = vkmm_conv_out_size(s.in_h, s.k_h, s.stride_h, s.pad_h);
    uint32_t ow = vkmm_conv_out_size(s.in_w, s.k_w, s.stride_w, s.pad_w);
    size_t ni = (size_t)s.in_h * s.in_w * s.in_ch, nw = (size_t)s.out_ch * s.in_ch * s.k_h * s.k_w;
    size_t no = (size_t)oh * ow * s.out_ch;
    float *in = malloc(ni * 4), *w = malloc(nw * 4), *b = malloc(s.out_ch * 4), *nrm = malloc(s.out_ch * 4),
          *ref = malloc(no * 4), *got = malloc(no * 4);
    test_fill_uniform(&c->rng, in, ni, -2, 2);
    test_fill_uniform(&c->rng, w, nw, -0.5f, 0.5f);
    test_fill_uniform(&c->rng, b, s.out_ch, -1, 1);
    test_fill_uniform(&c->rng, nrm, s.out_ch, 0.5f, 1.5f);
    ref_conv2d(&s, in, w, bias ? b : NULL, norm ? nrm : NULL, 1e-6, ref);
    vkmm_range I, W, WT, B = {0}, N = {0}, O;
    vkmm_buffer *bi = test_upload(c->gpu, in, ni * 4, 4, &I), *bw = test_upload(c->gpu, w, nw * 4, 12, &W);
    vkmm_buffer *bt = test_upload(c->gpu, NULL, nw * 4, 4, &WT);
    vkmm_buffer *bb = bias ? test_upload(c->gpu, b, s.out_ch * 4, 8, &B) : NULL;
    vkmm_buffer *bn = norm ? test_upload(c->gpu, nrm, s.out_ch * 4, 0, &N) : NULL;
    vkmm_buffer *bo = test_upload(c->gpu, NULL, no * 4, 20, &O);
    vkmm_cmd *cmd;
    CHECK_OK(vkmm_cmd_create(c->gpu, 0, &cmd, &err), &err, );
    vkmm_copy_shape lay = {.n_dims = 2};
    vkmm_conv2d_weight_layout(&s, lay.ne, lay.in_stride, lay.out_stride);
    CHECK_OK(vkmm_op_copy(c->ops, cmd, &lay, W, VKMM_F32, WT, VKMM_F32, &err), &err, );
    CHECK_OK(vkmm_op_conv2d(c->ops, cmd, &s, I, WT, B, N, 1e-6f, O, &err), &err, );
    CHECK_OK(vkmm_cmd_submit(cmd, &err), &err, );
    vkmm_cmd_destroy(cmd);
    test_download(c->gpu, O, got);
    double e = test_nmse(got, ref, no);
    CHECK(e <= 1e-11, "[%s] conv2d %ux%ux%u -> %ux%ux%u, kernel %ux%u stride %ux%u pad %ux%u%s%s: nmse %g",
          c->setting, s.in_h, s.in_w, s.in_ch, oh, ow, s.out_ch, s.k_h, s.k_w, s.stride_h, s.stride_w, s.pad_h, s.pad_w,
          bias ? " bias" : "", norm ? " norm+relu" : "", e);
    printf("[%s] conv2d %ux%ux%u -> %ux%ux%u%s: nmse %.3g\n", c->setting, s.in_h, s.in_w, s.in_ch, oh, ow, s.out_ch,
           norm ? " norm+relu" : "", e);
    vkmm_buffer_destroy(bi), vkmm_buffer_destroy(bw), vkmm_buffer_destroy(bt), vkmm_buffer_destroy(bb);
    vkmm_buffer_destroy(bn), vkmm_buffer_destroy(bo);
    free(in), free(w), free(b), free(nrm), free(ref), free(got);
}

static void check_conv1d(ctx *c, uint32_t n_t, uint32_t ch, uint32_t k)
{
    vkmm_error err;
    size_t n = (size_t)n_t * ch;
    float *in = malloc(n * 4), *w = malloc((size_t)ch * k * 4), *ref = malloc(n * 4), *got = malloc(n * 4);
    test_fill_uniform(&c->rng, in, n, -3, 3);
    test_fill_uniform(&c->rng, w, (size_t)ch * k, -1, 1);
    ref_conv1d_causal_dw(in, w, ref, n_t, ch, k);
    vkmm_range I, W, O;
    vkmm_buffer *bi = test_upload(c->gpu, in, n * 4, 8, &I), *bw = test_upload(c->gpu, w, (size_t)ch * k * 4, 4, &W);
    vkmm_buffer *bo = test_upload(c->gpu, NULL, n * 4, 12, &O);
    vkmm_cmd *cmd;
    CHECK_OK(vkmm_cmd_create(c->gpu, 0, &cmd, &err), &err, );
    CHECK_OK(vkmm_op_conv1d_causal_dw(c->ops, cmd, I, W, O, n_t, ch, k, &err), &err, );
    CHECK_OK(vkmm_cmd_submit(cmd, &err), &err, );
    vkmm_cmd_destroy(cmd);
    test_download(c->gpu, O, got);
    double e = test_nmse(got, ref, n);
    CHECK(e <= 1e-11, "[%s] conv1d_causal_dw %u steps x %u channels, kernel %u: nmse %g", c->setting, n_t, ch, k, e);
    vkmm_buffer_destroy(bi), vkmm_buffer_destroy(bw), vkmm_buffer_destroy(bo);
    free(in), free(w), free(ref), free(got);
}

static void check_errors(ctx *c)
{
    vkmm_error err;
    vkmm_range X, Y;
    vkmm_buffer *bx = test_upload(c->gpu, NULL, 4096, 0, &X), *by = test_upload(c->gpu, NULL, 4096, 0, &Y);
    vkmm_cmd *cmd;
    CHECK_OK(vkmm_cmd_create(c->gpu, 0, &cmd, &err), &err, );
    vkmm_conv2d_shape s = {.in_h = 4, .in_w = 4, .in_ch = 2, .out_ch = 2, .k_h = 5, .k_w = 5, .stride_h = 1,
                           .stride_w = 1};
    vkmm_range none = {0};
    CHECK(vkmm_op_conv2d(c->ops, cmd, &s, X, X, none, none, 0, Y, &err) != VKMM_OK,
          "a 5x5 kernel over a 4x4 grid without padding accepted");
    s.k_h = s.k_w = 3, s.stride_h = 0;
    CHECK(vkmm_op_conv2d(c->ops, cmd, &s, X, X, none, none, 0, Y, &err) != VKMM_OK, "stride 0 accepted");
    s.stride_h = 1;
    CHECK(vkmm_op_conv2d(c->ops, cmd, &s, X, X, none, none, 0, X, &err) != VKMM_OK, "an in-place conv2d accepted");
    s.in_h = 40, s.in_w = 40;
    CHECK(vkmm_op_conv2d(c->ops, cmd, &s, X, X, none, none, 0, Y, &err) != VKMM_OK,
          "a 40x40x2 input in 4 KiB accepted");
    s.in_h = s.in_w = 4, s.in_ch = 1, s.out_ch = 300, s.pad_h = s.pad_w = 1;
    CHECK(vkmm_op_conv2d(c->ops, cmd, &s, X, X, none, vkmm_range_sub(X, 0, 1000), 1e-6f, Y, &err) != VKMM_OK,
          "a norm weight of 250 floats for 300 channels accepted");
    CHECK(vkmm_op_conv1d_causal_dw(c->ops, cmd, X, X, X, 4, 4, 3, &err) != VKMM_OK, "an in-place conv1d accepted");
    CHECK(vkmm_op_conv1d_causal_dw(c->ops, cmd, X, X, Y, 4, 4, 0, &err) != VKMM_OK, "a kernel of 0 accepted");
    CHECK(vkmm_op_conv1d_causal_dw(c->ops, cmd, X, X, Y, 300, 4, 3, &err) != VKMM_OK, "300 x 4 floats in 4 KiB accepted");
    CHECK(vkmm_cmd_dispatch_count(cmd) == 0, "%u dispatches recorded for refused calls", vkmm_cmd_dispatch_count(cmd));
    vkmm_cmd_destroy(cmd);
    vkmm_buffer_destroy(bx), vkmm_buffer_destroy(by);
}

int main(void)
{
    vkmm_error err;
    ctx c = {.gpu = test_gpu_open(NULL), .rng = test_rng_seed(11)};
    CHECK_OK(vkmm_ops_create(c.gpu, NULL, &c.ops, &err), &err, 1);
    static const struct { uint32_t wg; const char *name; } settings[] = {{32, "wg32"}, {128, "wg128"}};
    for (size_t si = 0; si < 2; si++) {
        c.setting = settings[si].name;
        vkmm_ops_set_tune(c.ops, VKMM_TUNE_CONV_WORKGROUP, settings[si].wg);
        /* Gemma 4's subsampling: [T][128 mel][1] -> 16 channels -> 8 (tiny), and the real 128 -> 32 */
        for (int norm = 0; norm < 2; norm++) { /* with it: two dispatches, the second in place */
            check_conv2d(&c, (vkmm_conv2d_shape){37, 128, 1, 16, 3, 3, 2, 2, 1, 1}, false, norm);
            check_conv2d(&c, (vkmm_conv2d_shape){19, 64, 16, 8, 3, 3, 2, 2, 1, 1}, false, norm);
            check_conv2d(&c, (vkmm_conv2d_shape){5, 128, 1, 128, 3, 3, 2, 2, 1, 1}, false, norm);
            check_conv2d(&c, (vkmm_conv2d_shape){6, 64, 128, 32, 3, 3, 2, 2, 1, 1}, false, norm);
            check_conv2d(&c, (vkmm_conv2d_shape){1, 1, 1, 1, 3, 3, 2, 2, 1, 1}, false, norm);
            /* odd shapes: 700 channels are two shared tiles of 3x3, 70 and 129 outputs more than a workgroup */
            check_conv2d(&c, (vkmm_conv2d_shape){5, 7, 700, 70, 3, 3, 2, 1, 1, 0}, true, norm);
            check_conv2d(&c, (vkmm_conv2d_shape){9, 11, 3, 5, 2, 5, 3, 2, 0, 2}, true, norm);
            check_conv2d(&c, (vkmm_conv2d_shape){8, 8, 4, 129, 1, 1, 1, 1, 0, 0}, true, norm);
        }
        static const uint32_t c1[][3] = {{1, 1, 5}, {7, 33, 5}, {150, 1024, 5}, {300, 64, 3}, {5, 17, 1}, {3, 8, 9}};
        for (size_t i = 0; i < sizeof c1 / sizeof *c1; i++)
            check_conv1d(&c, c1[i][0], c1[i][1], c1[i][2]);
    }
    check_errors(&c);
    vkmm_ops_destroy(c.ops);
    test_gpu_close(c.gpu);
    return test_finish("conv");
}
