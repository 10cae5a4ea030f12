/* tests/ops/test_attention_local.c — local relative-position attention and the sinusoid table against float64
 * references: Gemma 4 audio's window (12 back, none ahead, 13 position rows at offset 12, soft-cap 50, per-dim
 * scale) on sequences shorter and longer than the window, windows that look ahead, position terms that run out of
 * table rows, no soft-cap, no table, heads of 32 to 256 dims (72 included), many heads; NaN-poisoned outputs,
 * unaligned ranges, two workgroup sizes; refused windows and overlaps.
 * Bounds: attention NMSE <= 1e-11 (f32 dots of up to 256 terms and a softmax over at most 24 keys; measured
 * ~1e-14); sinusoid |error| <= 1e-5 for angles up to 12 rad (the f32 exp and product PyTorch also forms;
 * measured ~1e-6). */
#include <math.h>
#include <stdlib.h>

#include "harness.h"
#include "ref/ref_attention_local.h"
#include "attention_local.h"

typedef struct ctx {
    vkmm_gpu *gpu;
    vkmm_ops *ops;
    test_rng rng;
    const char *setting;
} ctx;

static void check(ctx *c, vkmm_attention_local_params p, bool with_rel, bool with_scale)
{
    vkmm_error err;
    size_t n = (size_t)p.n * p.n_head * p.head_dim, nr = (size_t)p.n_rel * p.n_head * p.head_dim;
    float *q = malloc(n * 4), *k = malloc(n * 4), *v = malloc(n * 4), *rel = malloc((nr + 1) * 4),
          *sc = malloc(p.head_dim * 4), *ref = malloc(n * 4), *got = malloc(n * 4);
    /* logits of a few units, as trained models give, so that the soft-cap and the softmax both matter */
    test_fill_uniform(&c->rng, q, n, -2, 2);
    test_fill_uniform(&c->rng, k, n, -2, 2);
    test_fill_uniform(&c->rng, v, n, -1, 1);
    test_fill_uniform(&c->rng, rel, nr + 1, -1, 1);
    test_fill_uniform(&c->rng, sc, p.head_dim, 0.3f, 1.3f);
    ref_attention_local(&p, q, k, v, with_rel ? rel : NULL, with_scale ? sc : NULL, ref);
    vkmm_attention_local_io io = {0};
    vkmm_buffer *bq = test_upload(c->gpu, q, n * 4, 4, &io.q), *bk = test_upload(c->gpu, k, n * 4, 8, &io.k),
                *bv = test_upload(c->gpu, v, n * 4, 0, &io.v), *bo = test_upload(c->gpu, NULL, n * 4, 12, &io.o);
    vkmm_buffer *br = with_rel ? test_upload(c->gpu, rel, nr * 4, 4, &io.rel) : NULL;
    vkmm_buffer *bs = with_scale ? test_upload(c->gpu, sc, p.head_dim * 4, 16, &io.dim_scale) : NULL;
    vkmm_cmd *cmd;
    CHECK_OK(vkmm_cmd_create(c->gpu, 0, &cmd, &err), &err, );
    CHECK_OK(vkmm_op_attention_local(c->ops, cmd, &p, &io, &err), &err, );
    CHECK_OK(vkmm_cmd_submit(cmd, &err), &err, );
    vkmm_cmd_destroy(cmd);
    test_download(c->gpu, io.o, got);
    double e = test_nmse(got, ref, n);
    CHECK(e <= 1e-11, "[%s] attention_local n=%u %ux%u window %u/%u rel %u@%u%s%s cap %g: nmse %g", c->setting, p.n,
          p.n_head, p.head_dim, p.left, p.right, p.n_rel, p.rel_offset, with_rel ? "" : " (no table)",
          with_scale ? " dim-scaled" : "", (double)p.softcap, e);
    printf("[%s] attention_local n=%u %ux%u window %u/%u: nmse %.3g\n", c->setting, p.n, p.n_head, p.head_dim, p.left,
           p.right, e);
    vkmm_buffer_destroy(bq), vkmm_buffer_destroy(bk), vkmm_buffer_destroy(bv), vkmm_buffer_destroy(bo);
    vkmm_buffer_destroy(br), vkmm_buffer_destroy(bs);
    free(q), free(k), free(v), free(rel), free(sc), free(ref), free(got);
}

static void check_sinusoid(ctx *c, uint32_t rows, uint32_t half, int32_t pos0, int32_t step)
{
    vkmm_error err;
    double inc = log(10000.0) / (half > 1 ? half - 1 : 1);
    size_t n = (size_t)rows * 2 * half;
    float *ref = malloc(n * 4), *got = malloc(n * 4);
    ref_sinusoid(ref, rows, half, pos0, step, inc);
    vkmm_range O;
    vkmm_buffer *bo = test_upload(c->gpu, NULL, n * 4, 4, &O);
    vkmm_cmd *cmd;
    CHECK_OK(vkmm_cmd_create(c->gpu, 0, &cmd, &err), &err, );
    CHECK_OK(vkmm_op_sinusoid(c->ops, cmd, O, rows, half, pos0, step, (float)inc, &err), &err, );
    CHECK_OK(vkmm_cmd_submit(cmd, &err), &err, );
    vkmm_cmd_destroy(cmd);
    test_download(c->gpu, O, got);
    double e = test_max_abs_diff(got, ref, n);
    CHECK(e <= 1e-5, "[%s] sinusoid %u rows of 2 x %u from %d step %d: max |error| %g", c->setting, rows, half, pos0,
          step, e);
    printf("[%s] sinusoid %u x %u: max |error| %.3g\n", c->setting, rows, 2 * half, e);
    vkmm_buffer_destroy(bo);
    free(ref), free(got);
}

static void check_errors(ctx *c)
{
    vkmm_error err;
    vkmm_attention_local_io io = {0};
    vkmm_buffer *bx = test_upload(c->gpu, NULL, 1 << 16, 0, &io.q);
    io.k = io.v = io.q;
    vkmm_buffer *bo = test_upload(c->gpu, NULL, 1 << 16, 0, &io.o);
    vkmm_cmd *cmd;
    CHECK_OK(vkmm_cmd_create(c->gpu, 0, &cmd, &err), &err, );
    vkmm_attention_local_params p = {.n = 4, .n_head = 2, .head_dim = 64, .left = 12, .q_scale = 1, .k_scale = 1};
    p.left = 0;
    CHECK(vkmm_op_attention_local(c->ops, cmd, &p, &io, &err) != VKMM_OK, "a window without the query accepted");
    p.left = 100, p.right = 40;
    CHECK(vkmm_op_attention_local(c->ops, cmd, &p, &io, &err) != VKMM_OK, "a window of 139 keys accepted");
    p.left = 12, p.right = 0, p.head_dim = 512, p.n_head = 1;
    CHECK(vkmm_op_attention_local(c->ops, cmd, &p, &io, &err) != VKMM_OK, "heads of 512 accepted");
    p.head_dim = 64, p.n_head = 2, p.n = 200;
    CHECK(vkmm_op_attention_local(c->ops, cmd, &p, &io, &err) != VKMM_OK, "200 x 2 x 64 floats in 64 KiB accepted");
    p.n = 4;
    vkmm_attention_local_io bad = io;
    bad.o = io.q;
    CHECK(vkmm_op_attention_local(c->ops, cmd, &p, &bad, &err) != VKMM_OK, "an output over the queries accepted");
    CHECK(vkmm_op_sinusoid(c->ops, cmd, io.o, 200, 64, 12, -1, 0.1f, &err) != VKMM_OK, "a table past its range accepted");
    CHECK(vkmm_cmd_dispatch_count(cmd) == 0, "%u dispatches recorded for refused calls", vkmm_cmd_dispatch_count(cmd));
    vkmm_cmd_destroy(cmd);
    vkmm_buffer_destroy(bx), vkmm_buffer_destroy(bo);
}

int main(void)
{
    vkmm_error err;
    ctx c = {.gpu = test_gpu_open(NULL), .rng = test_rng_seed(17)};
    CHECK_OK(vkmm_ops_create(c.gpu, NULL, &c.ops, &err), &err, 1);
    static const struct { uint32_t wg; const char *name; } settings[] = {{32, "wg32"}, {128, "wg128"}};
    for (size_t si = 0; si < 2; si++) {
        c.setting = settings[si].name;
        vkmm_ops_set_tune(c.ops, VKMM_TUNE_ATTENTION_LOCAL_WORKGROUP, settings[si].wg);
        /* Gemma 4 audio: 12 back, 13 rows at offset 12 (distance 12 is outside the window), soft-cap 50 */
        static const uint32_t lengths[] = {1, 5, 12, 13, 50, 101};
        for (size_t i = 0; i < sizeof lengths / sizeof *lengths; i++) {
            vkmm_attention_local_params p = {.n = lengths[i], .n_head = 4, .head_dim = 32, .left = 12, .right = 0,
                                             .rel_offset = 12, .n_rel = 13, .q_scale = 0.1767767f / 0.6931472f,
                                             .k_scale = 1.8946f, .softcap = 50};
            check(&c, p, true, true);
        }
        vkmm_attention_local_params real = {.n = 40, .n_head = 8, .head_dim = 128, .left = 12, .rel_offset = 12,
                                            .n_rel = 13, .q_scale = 0.1275f, .k_scale = 1.8946f, .softcap = 50};
        check(&c, real, true, true);
        /* windows that look ahead, tables too short, no cap, no table, odd and wide heads */
        check(&c, (vkmm_attention_local_params){37, 3, 72, 5, 4, 6, 8, 0.3f, 1.0f, 0}, true, false);
        check(&c, (vkmm_attention_local_params){29, 2, 256, 1, 0, 0, 1, 0.05f, 1.0f, 20}, true, true);
        check(&c, (vkmm_attention_local_params){64, 16, 64, 24, 2, 30, 4, 0.2f, 1.0f, 0}, false, false);
        check(&c, (vkmm_attention_local_params){7, 1, 32, 128, 0, 3, 9, 0.5f, 0.5f, 5}, true, true);
        check_sinusoid(&c, 13, 512, 12, -1);
        check_sinusoid(&c, 13, 16, 12, -1);
        check_sinusoid(&c, 7, 3, -3, 2);
    }
    check_errors(&c);
    vkmm_ops_destroy(c.ops);
    test_gpu_close(c.gpu);
    return test_finish("attention_local");
}
