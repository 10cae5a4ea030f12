/* tests/ops/test_layout.c — strided copies (rows into a larger layout, broadcasts, transposes, a random 4-D
 * permutation) in every f32/f16 type pair, Pixtral's patch merge (even and odd grids) and average pooling
 * (Gemma's 64 × 64 × 1152 → 16 × 16, ragged grids and windows) against the references; outputs poisoned with
 * NaN, unaligned ranges, two workgroup sizes.
 * Bounds: f32 → f32 copies and the merge exact; a conversion to f16 within one f16 ulp of round-to-nearest
 * (devices may round either way), f16 → f32 exact; pooling NMSE <= 1e-13. Elements a copy does not address
 * must still be NaN. */
#include <stdlib.h>
#include <string.h>

#include "f16.h"
#include "harness.h"
#include "ref/ref_layout.h"
#include "layout.h"

typedef struct ctx {
    vkmm_gpu *gpu;
    vkmm_ops *ops;
    test_rng rng;
    const char *setting;
} ctx;

static size_t span(const vkmm_copy_shape *s, const uint32_t *stride)
{
    size_t last = 0;
    for (uint32_t d = 0; d < s->n_dims; d++)
        last += (size_t)(s->ne[d] - 1) * stride[d];
    return last + 1;
}

/* Copies through vkmm_op_copy (or the wrapper `how` names) and compares with ref_copy_nd, element for element,
 * the untouched elements included (NaN on both sides). */
static void check_copy(ctx *c, const char *name, const vkmm_copy_shape *s, vkmm_dtype it, vkmm_dtype ot, int how)
{
    vkmm_error err;
    size_t ni = span(s, s->in_stride), no = span(s, s->out_stride);
    float *in = malloc(ni * 4), *ref = malloc(no * 4), *got = malloc(no * 4);
    test_fill_uniform(&c->rng, in, ni, -1000, 1000);
    if (it == VKMM_F16)
        for (size_t i = 0; i < ni; i++)
            in[i] = vkmm_test_f16_round(in[i]);
    memset(ref, 0xff, no * 4);
    ref_copy_nd(in, ref, s->n_dims, s->ne, s->in_stride, s->out_stride);
    uint32_t isz = it == VKMM_F32 ? 4 : 2, osz = ot == VKMM_F32 ? 4 : 2;
    void *inb = malloc(ni * isz), *outb = malloc(no * osz);
    for (size_t i = 0; i < ni; i++)
        if (it == VKMM_F32)
            ((float *)inb)[i] = in[i];
        else
            ((uint16_t *)inb)[i] = vkmm_f32_to_f16(in[i]);
    vkmm_range I, O;
    vkmm_buffer *bi = test_upload(c->gpu, inb, ni * isz, 3 * isz, &I);
    vkmm_buffer *bo = test_upload(c->gpu, NULL, no * osz, osz, &O);
    vkmm_cmd *cmd;
    CHECK_OK(vkmm_cmd_create(c->gpu, 0, &cmd, &err), &err, );
    vkmm_status st;
    if (how == 1) /* rows */
        st = vkmm_op_copy_rows(c->ops, cmd, I, it, s->in_stride[1], O, ot, s->out_stride[1], s->ne[1], s->ne[0], &err);
    else if (how == 2) /* transpose of in[ne[1]][ne[0]]... given as the output walk */
        st = vkmm_op_transpose(c->ops, cmd, I, it, O, ot, s->ne[0], s->ne[1], &err);
    else
        st = vkmm_op_copy(c->ops, cmd, s, I, it, O, ot, &err);
    CHECK_OK(st, &err, );
    CHECK_OK(vkmm_cmd_submit(cmd, &err), &err, );
    vkmm_cmd_destroy(cmd);
    test_download(c->gpu, O, outb);
    size_t bad = 0, first = 0;
    for (size_t i = 0; i < no; i++) {
        bool ok;
        if (ot == VKMM_F32) {
            got[i] = ((float *)outb)[i];
            ok = memcmp(&got[i], &ref[i], 4) == 0 || (isnan(got[i]) && isnan(ref[i]));
        } else {
            uint16_t h = ((uint16_t *)outb)[i];
            int d = isnan(ref[i]) ? (h == 0xffff ? 0 : 99) : (int)h - (int)vkmm_f32_to_f16(ref[i]);
            ok = d >= -1 && d <= 1;
        }
        if (!ok && !bad++)
            first = i;
    }
    CHECK(bad == 0, "[%s] copy %s %s->%s: %zu of %zu output elements wrong, first at %zu", c->setting, name,
          it == VKMM_F32 ? "f32" : "f16", ot == VKMM_F32 ? "f32" : "f16", bad, no, first);
    vkmm_buffer_destroy(bi), vkmm_buffer_destroy(bo);
    free(in), free(ref), free(got), free(inb), free(outb);
}

static void check_merge(ctx *c, uint32_t gh, uint32_t gw, uint32_t ch, uint32_t s)
{
    vkmm_error err;
    size_t n = (size_t)gh * gw * ch, nm = (size_t)(gh / s) * (gw / s) * ch * s * s;
    float *x = malloc(n * 4), *ref = malloc(nm * 4), *got = malloc(nm * 4);
    test_fill_uniform(&c->rng, x, n, -5, 5);
    ref_patch_merge(x, ref, gh, gw, ch, s);
    vkmm_range X, M;
    vkmm_buffer *bx = test_upload(c->gpu, x, n * 4, 4, &X), *bm = test_upload(c->gpu, NULL, nm * 4, 0, &M);
    vkmm_cmd *cmd;
    CHECK_OK(vkmm_cmd_create(c->gpu, 0, &cmd, &err), &err, );
    CHECK_OK(vkmm_op_patch_merge(c->ops, cmd, X, M, gh, gw, ch, s, &err), &err, );
    CHECK_OK(vkmm_cmd_submit(cmd, &err), &err, );
    vkmm_cmd_destroy(cmd);
    test_download(c->gpu, M, got);
    CHECK(memcmp(got, ref, nm * 4) == 0, "[%s] patch_merge %ux%u grid of %u channels, s=%u differs", c->setting, gh, gw,
          ch, s);
    vkmm_buffer_destroy(bx), vkmm_buffer_destroy(bm);
    free(x), free(ref), free(got);
}

static void check_pool(ctx *c, uint32_t gh, uint32_t gw, uint32_t ch, uint32_t kh, uint32_t kw)
{
    vkmm_error err;
    size_t n = (size_t)gh * gw * ch, no = n / ((size_t)kh * kw);
    float *x = malloc(n * 4), *ref = malloc(no * 4), *got = malloc(no * 4);
    test_fill_uniform(&c->rng, x, n, -3, 3);
    ref_avg_pool(x, ref, gh, gw, ch, kh, kw);
    vkmm_range X, O;
    vkmm_buffer *bx = test_upload(c->gpu, x, n * 4, 8, &X), *bo = test_upload(c->gpu, NULL, no * 4, 4, &O);
    vkmm_cmd *cmd;
    CHECK_OK(vkmm_cmd_create(c->gpu, 0, &cmd, &err), &err, );
    CHECK_OK(vkmm_op_avg_pool(c->ops, cmd, X, O, gh, gw, ch, kh, kw, &err), &err, );
    CHECK_OK(vkmm_cmd_submit(cmd, &err), &err, );
    vkmm_cmd_destroy(cmd);
    test_download(c->gpu, O, got);
    double e = test_nmse(got, ref, no);
    CHECK(e <= 1e-13, "[%s] avg_pool %ux%ux%u by %ux%u: nmse %g", c->setting, gh, gw, ch, kh, kw, e);
    vkmm_buffer_destroy(bx), vkmm_buffer_destroy(bo);
    free(x), free(ref), free(got);
}

static void check_errors(ctx *c)
{
    vkmm_error err;
    vkmm_range X, Y;
    vkmm_buffer *bx = test_upload(c->gpu, NULL, 1024, 0, &X), *by = test_upload(c->gpu, NULL, 1024, 0, &Y);
    vkmm_cmd *cmd;
    CHECK_OK(vkmm_cmd_create(c->gpu, 0, &cmd, &err), &err, );
    CHECK(vkmm_op_avg_pool(c->ops, cmd, X, Y, 6, 6, 1, 4, 4, &err) != VKMM_OK, "a 4x4 window on a 6x6 grid accepted");
    CHECK(vkmm_op_copy_rows(c->ops, cmd, X, VKMM_F32, 0, Y, VKMM_F32, 0, 300, 1, &err) != VKMM_OK,
          "300 rows into 256 floats accepted");
    CHECK(vkmm_op_copy_rows(c->ops, cmd, X, VKMM_Q8_0, 0, Y, VKMM_F32, 0, 1, 32, &err) == VKMM_ERR_UNSUPPORTED,
          "a Q8_0 copy accepted");
    vkmm_range lo = vkmm_range_sub(X, 0, 512), hi = vkmm_range_sub(X, 512, 512);
    CHECK(vkmm_op_transpose(c->ops, cmd, lo, VKMM_F32, hi, VKMM_F32, 8, 8, &err) == VKMM_OK,
          "disjoint halves of one buffer refused");
    CHECK(vkmm_op_transpose(c->ops, cmd, X, VKMM_F32, X, VKMM_F32, 8, 8, &err) != VKMM_OK,
          "an in-place transpose accepted");
    CHECK(vkmm_op_patch_merge(c->ops, cmd, X, Y, 1, 8, 4, 2, &err) != VKMM_OK, "a merge of a 1-row grid accepted");
    CHECK(vkmm_cmd_dispatch_count(cmd) == 1, "%u dispatches recorded, expected 1", vkmm_cmd_dispatch_count(cmd));
    CHECK_OK(vkmm_cmd_submit(cmd, &err), &err, );
    vkmm_cmd_destroy(cmd);
    vkmm_buffer_destroy(bx), vkmm_buffer_destroy(by);
}

int main(void)
{
    vkmm_error err;
    ctx c = {.gpu = test_gpu_open(NULL), .rng = test_rng_seed(17)};
    CHECK_OK(vkmm_ops_create(c.gpu, NULL, &c.ops, &err), &err, 1);
    static const struct { uint32_t wg; const char *name; } settings[] = {{64, "wg64"}, {256, "wg256"}};
    const vkmm_dtype types[2] = {VKMM_F32, VKMM_F16};
    for (size_t si = 0; si < 2; si++) {
        c.setting = settings[si].name;
        vkmm_ops_set_tune(c.ops, VKMM_TUNE_LAYOUT_WORKGROUP, settings[si].wg);
        for (int a = 0; a < 2; a++)
            for (int b = 0; b < 2; b++) {
                vkmm_dtype it = types[a], ot = types[b];
                /* 7 image rows of 33 into a sequence with 5-row gaps... as rows 40 apart */
                vkmm_copy_shape rows = {.n_dims = 2, .ne = {33, 7}, .in_stride = {1, 33}, .out_stride = {1, 40}};
                check_copy(&c, "rows", &rows, it, ot, 1);
                /* one [IMG_BREAK] row repeated after every row of a 3 x 4 image: input stride 0 */
                vkmm_copy_shape brk = {.n_dims = 2, .ne = {65, 3}, .in_stride = {1, 0}, .out_stride = {1, 5 * 65}};
                check_copy(&c, "broadcast", &brk, it, ot, 1);
                vkmm_copy_shape tr = {.n_dims = 2, .ne = {129, 300}, .in_stride = {300, 1}, .out_stride = {1, 129}};
                check_copy(&c, "transpose 129x300", &tr, it, ot, 2);
                vkmm_copy_shape t1 = {.n_dims = 2, .ne = {1, 1}, .in_stride = {1, 1}, .out_stride = {1, 1}};
                check_copy(&c, "transpose 1x1", &t1, it, ot, 2);
                vkmm_copy_shape p4 = {.n_dims = 4, .ne = {5, 3, 7, 2}, .in_stride = {42, 1, 3, 210},
                                      .out_stride = {1, 5, 15, 105}};
                check_copy(&c, "4-d permutation", &p4, it, ot, 0);
            }
        check_merge(&c, 4, 6, 1024, 2);
        check_merge(&c, 7, 5, 33, 2);
        check_merge(&c, 9, 9, 3, 3);
        check_merge(&c, 1, 1, 7, 1);
        check_pool(&c, 64, 64, 1152, 4, 4);
        check_pool(&c, 6, 9, 7, 2, 3);
        check_pool(&c, 1, 1, 33, 1, 1);
        check_pool(&c, 5, 5, 2, 5, 5);
    }
    check_errors(&c);
    vkmm_ops_destroy(c.ops);
    test_gpu_close(c.gpu);
    return test_finish("layout");
}
