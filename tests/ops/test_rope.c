/* tests/ops/test_rope.c — RoPE (NORM, NEOX, the 2-D rules of Pixtral and Gemma 4) and the fused per-head RMSNorm +
 * RoPE against the float64 reference: random inputs and positions (up to 2^20, bases up to 1e9), strided token
 * rows whose other elements must stay untouched, unaligned ranges, several workgroup settings.
 * Bounds: the largest |error| of any rotated element is <= 5e-7 (inputs in [-1, 1]: a few f32 roundings of
 * the product plus an angle error ~1e-7 rad at any position; measured 2.5e-7 on lavapipe, positions up to
 * 2^23), NMSE <= 1e-13; the fused path (normalised values up to ~|x|/rms, ~3) <= 2e-6 (measured 7e-7).
 * Frequency factors (rope_freqs) divide each pair's frequency: Gemma 4's 1 and 1e30, and arbitrary ones. */
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "ref/ref_norm.h"
#include "ref/ref_rope.h"
#include "rope.h"

typedef struct ctx {
    vkmm_gpu *gpu;
    vkmm_ops *ops;
    test_rng rng;
    const char *setting;
    double worst;     /* largest max-abs error seen, for the precision figure printed at the end */
} ctx;

typedef struct rope_case {
    vkmm_rope_params p;
    uint32_t lead, tail;      /* heads before and after ours in each token row (left untouched) */
    int32_t max_pos;          /* random positions in [0, max_pos); 0: pos0 + t without a buffer */
    bool qk_norm;
    uint32_t n_heads_a;
    bool factors;             /* per-pair frequency divisors: Gemma 4's proportional rule, and arbitrary ones */
    bool split;               /* qk_norm: the heads from n_heads_a on come from a tensor of their own (q and k
                                 apart, vkmm_op_qk_norm_rope); in x they must stay untouched */
} rope_case;

static void run_case(ctx *c, rope_case rc)
{
    vkmm_error err;
    vkmm_rope_params *p = &rc.p;
    uint32_t d = p->head_dim, T = p->n_tokens, H = p->n_heads;
    uint32_t stride = (rc.lead + H + rc.tail) * d;
    p->tok_stride = stride;
    size_t n = (size_t)T * stride, np = (size_t)T * H * d;
    float *x = malloc(n * 4), *got = malloc(n * 4), *ref = malloc(np * 4);
    test_fill_uniform(&c->rng, x, n, -1, 1);
    int32_t *pos = malloc(T * 4);
    for (uint32_t t = 0; t < T; t++)
        pos[t] = rc.max_pos ? (int32_t)(test_rand_u32(&c->rng) % (uint32_t)rc.max_pos) : p->pos0 + (int32_t)t;
    for (uint32_t t = 0; t < T; t++)
        memcpy(ref + (size_t)t * H * d, x + (size_t)t * stride + rc.lead * d, (size_t)H * d * 4);
    float *wa = malloc(d * 4), *wb = malloc(d * 4);
    test_fill_uniform(&c->rng, wa, d, 0.5f, 1.5f);
    test_fill_uniform(&c->rng, wb, d, 0.5f, 1.5f);
    if (rc.qk_norm)
        for (uint32_t t = 0; t < T; t++)
            for (uint32_t h = 0; h < H; h++) {
                float *v = ref + ((size_t)t * H + h) * d;
                ref_rms_norm(v, h < rc.n_heads_a ? wa : wb, v, 1, d, 1e-6f);
            }
    float *ff = malloc(d / 2 * 4);
    for (uint32_t i = 0; i < d / 2; i++) /* the first quarter turns as usual, then 1e30 and factors in [0.5, 8] */
        ff[i] = i < d / 8 ? 1.0f : i % 2 ? 1e30f : 0.5f + 7.5f * (float)(test_rand_u32(&c->rng) % 1000) / 1000.0f;
    ref_rope(ref, T, H, d, p->layout == VKMM_ROPE_NEOX, p->base, p->freq_scale ? p->freq_scale : 1, pos, p->grid_w,
             rc.factors ? ff : NULL);

    vkmm_range X, P = {0}, WA, WB, FF;
    uint32_t pad = (T + d) % 4;
    vkmm_buffer *bx = test_upload(c->gpu, x, n * 4, pad * 4, &X), *bp = NULL;
    vkmm_buffer *bwa = test_upload(c->gpu, wa, d * 4, 4, &WA), *bwb = test_upload(c->gpu, wb, d * 4, 0, &WB);
    if (rc.max_pos)
        bp = test_upload(c->gpu, pos, T * 4, 8, &P);
    vkmm_buffer *bff = test_upload(c->gpu, ff, d / 2 * 4, 12, &FF);
    if (rc.factors)
        p->freq_factors = FF;
    vkmm_range Xh = vkmm_range_sub(X, (uint64_t)rc.lead * d * 4, X.size - (uint64_t)rc.lead * d * 4);
    uint32_t na = rc.split ? rc.n_heads_a : H, nk = H - na; /* heads rotated in x; the rest from k */
    float *kx = malloc(((size_t)T * nk * d + 1) * 4);
    for (uint32_t t = 0; t < T; t++)
        memcpy(kx + (size_t)t * nk * d, x + (size_t)t * stride + (rc.lead + na) * d, (size_t)nk * d * 4);
    vkmm_range K = {0};
    vkmm_buffer *bk = rc.split ? test_upload(c->gpu, kx, (size_t)T * nk * d * 4, 8, &K) : NULL;
    vkmm_cmd *cmd;
    CHECK_OK(vkmm_cmd_create(c->gpu, 0, &cmd, &err), &err, );
    if (rc.split) {
        vkmm_rope_params pq = *p;
        pq.n_heads = na;
        CHECK_OK(vkmm_op_qk_norm_rope(c->ops, cmd, &pq, Xh, K, nk, P, WA, WB, 1e-6f, &err), &err, );
    } else if (rc.qk_norm) {
        CHECK_OK(vkmm_op_rms_norm_rope(c->ops, cmd, p, Xh, P, WA, rc.n_heads_a, WB, 1e-6f, &err), &err, );
    } else {
        CHECK_OK(vkmm_op_rope(c->ops, cmd, p, Xh, P, &err), &err, );
    }
    CHECK_OK(vkmm_cmd_submit(cmd, &err), &err, );
    vkmm_cmd_destroy(cmd);
    test_download(c->gpu, X, got);
    float *gotk = malloc(((size_t)T * nk * d + 1) * 4);
    if (rc.split)
        test_download(c->gpu, K, gotk);

    float *mine = malloc(np * 4);
    size_t changed = 0;
    for (uint32_t t = 0; t < T; t++) {
        memcpy(mine + (size_t)t * H * d, got + (size_t)t * stride + rc.lead * d, (size_t)na * d * 4);
        memcpy(mine + ((size_t)t * H + na) * d, gotk + (size_t)t * nk * d, (size_t)nk * d * 4);
        for (uint32_t i = 0; i < stride; i++) {
            size_t k = (size_t)t * stride + i;
            if ((i < rc.lead * d || i >= (rc.lead + na) * d) && memcmp(&got[k], &x[k], 4) != 0)
                changed++;
        }
    }
    vkmm_buffer_destroy(bk);
    free(kx), free(gotk);
    double e = test_nmse(mine, ref, np), m = test_max_abs_diff(mine, ref, np);
    if (m > c->worst && !rc.qk_norm)
        c->worst = m;
    double mbound = rc.qk_norm ? 2e-6 : 5e-7;
    CHECK(e <= 1e-13 && m <= mbound && changed == 0,
          "[%s] %s %s d=%u T=%u H=%u base=%g scale=%g grid_w=%u max_pos=%d%s: nmse %g, max |err| %g, %zu outside "
          "elements changed", c->setting, rc.split ? "qk_norm_rope" : rc.qk_norm ? "rms_norm_rope" : "rope",
          p->layout == VKMM_ROPE_NEOX ? "neox" : "norm", d, T, H, p->base, p->freq_scale, p->grid_w, rc.max_pos,
          rc.factors ? " factors" : "", e, m, changed);
    vkmm_buffer_destroy(bx), vkmm_buffer_destroy(bp), vkmm_buffer_destroy(bwa), vkmm_buffer_destroy(bwb);
    vkmm_buffer_destroy(bff);
    free(x), free(got), free(ref), free(pos), free(wa), free(wb), free(mine), free(ff);
}

static void check_errors(ctx *c)
{
    vkmm_error err;
    vkmm_range X;
    vkmm_buffer *bx = test_upload(c->gpu, NULL, 256 * 4, 0, &X);
    vkmm_cmd *cmd;
    CHECK_OK(vkmm_cmd_create(c->gpu, 0, &cmd, &err), &err, );
    vkmm_rope_params p = {.layout = VKMM_ROPE_NEOX, .head_dim = 7, .n_tokens = 1, .n_heads = 1, .base = 1e4};
    CHECK(vkmm_op_rope(c->ops, cmd, &p, X, (vkmm_range){0}, &err) != VKMM_OK, "odd head_dim accepted");
    p.head_dim = 64, p.n_heads = 5;
    CHECK(vkmm_op_rope(c->ops, cmd, &p, X, (vkmm_range){0}, &err) != VKMM_OK, "5 heads of 64 in 256 floats accepted");
    p.n_heads = 2, p.base = 0;
    CHECK(vkmm_op_rope(c->ops, cmd, &p, X, (vkmm_range){0}, &err) != VKMM_OK, "base 0 accepted");
    p.base = 1e4, p.head_dim = 6, p.grid_w = 3;
    CHECK(vkmm_op_rope(c->ops, cmd, &p, X, (vkmm_range){0}, &err) != VKMM_OK, "2-D RoPE with head_dim 6 accepted");
    p.head_dim = 64, p.grid_w = 0;
    CHECK(vkmm_op_rms_norm_rope(c->ops, cmd, &p, X, (vkmm_range){0}, X, 1, vkmm_range_sub(X, 0, 16), 1e-6f, &err) !=
              VKMM_OK, "a 4-float norm weight accepted");
    p.freq_factors = vkmm_range_sub(X, 0, 16); /* 4 factors for 32 pairs */
    CHECK(vkmm_op_rope(c->ops, cmd, &p, X, (vkmm_range){0}, &err) != VKMM_OK, "4 frequency factors for 32 pairs "
          "accepted");
    p.freq_factors = (vkmm_range){0};
    CHECK(vkmm_cmd_dispatch_count(cmd) == 0, "a rejected op recorded a dispatch");
    CHECK_OK(vkmm_op_rope(c->ops, cmd, &p, X, (vkmm_range){0}, &err), &err, ); /* lists must be submitted */
    CHECK_OK(vkmm_cmd_submit(cmd, &err), &err, );
    vkmm_cmd_destroy(cmd);
    vkmm_buffer_destroy(bx);
}

int main(void)
{
    vkmm_error err;
    ctx c = {.gpu = test_gpu_open(NULL), .rng = test_rng_seed(11)};
    CHECK_OK(vkmm_ops_create(c.gpu, NULL, &c.ops, &err), &err, 1);
    static const struct { uint32_t wg, sg; const char *name; } settings[] = {
        {128, 1, "wg128-subgroup"}, {32, 0, "wg32-shared"}, {256, 0, "wg256-shared"}};
    const vkmm_rope_layout NEOX = VKMM_ROPE_NEOX, NORM = VKMM_ROPE_NORM;
    for (size_t si = 0; si < 3; si++) {
        c.setting = settings[si].name;
        vkmm_ops_set_tune(c.ops, VKMM_TUNE_ROPE_WORKGROUP, settings[si].wg);
        vkmm_ops_set_tune(c.ops, VKMM_TUNE_ROPE_SUBGROUP, settings[si].sg);
        rope_case cases[] = {
            /* Gemma 3 global and local layers, positions up to 128 Ki */
            {{.layout = NEOX, .head_dim = 256, .n_tokens = 7, .n_heads = 8, .base = 1e6, .freq_scale = 0.125},
             1, 5, 131072, false, 0, false, false},
            {{.layout = NEOX, .head_dim = 256, .n_tokens = 33, .n_heads = 4, .base = 1e4},
             0, 0, 1 << 20, false, 0, false, false},
            /* Mistral: fused [q | k | v] rows, positions pos0 + t */
            {{.layout = NORM, .head_dim = 128, .n_tokens = 2, .n_heads = 40, .base = 1e9, .pos0 = 100000},
             0, 8, 0, false, 0, false, false},
            {{.layout = NORM, .head_dim = 128, .n_tokens = 512, .n_heads = 1, .base = 1e9},
             0, 0, 0, false, 0, false, false},
            /* Pixtral 2-D, a 7 x 5 grid, then a random subset of a 110-wide grid */
            {{.layout = NORM, .head_dim = 64, .n_tokens = 35, .n_heads = 16, .base = 1e4, .grid_w = 5},
             0, 0, 0, false, 0, false, false},
            {{.layout = NORM, .head_dim = 64, .n_tokens = 33, .n_heads = 3, .base = 1e4, .grid_w = 110}, 2, 1, 12100,
             false, 0, false, false},
            /* Gemma 4's vision tower: 2-D NEOX halves (theta 100) with the fused q/k norm, heads of 64 and 72, a
             * 6 x 4 grid and a random subset of a 210-wide one */
            {{.layout = NEOX, .head_dim = 72, .n_tokens = 24, .n_heads = 4, .base = 100, .grid_w = 6}, 0, 2, 0,
             false, 0, false, false},
            {{.layout = NEOX, .head_dim = 64, .n_tokens = 33, .n_heads = 3, .base = 100, .grid_w = 210}, 1, 0, 44100,
             true, 3, false, false},
            {{.layout = NEOX, .head_dim = 72, .n_tokens = 9, .n_heads = 16, .base = 100, .grid_w = 3}, 0, 0, 0, true,
             16, false, false},
            /* odd shapes */
            {{.layout = NEOX, .head_dim = 2, .n_tokens = 1, .n_heads = 1, .base = 1e4, .pos0 = 3},
             0, 0, 0, false, 0, false, false},
            {{.layout = NORM, .head_dim = 72, .n_tokens = 7, .n_heads = 3, .base = 5e5, .freq_scale = 4}, 1, 0, 70000,
             false, 0, false, false},
            {{.layout = NEOX, .head_dim = 512, .n_tokens = 2, .n_heads = 2, .base = 1e6},
             0, 0, 1 << 23, false, 0, false, false},
            /* Gemma q/k norm + RoPE over [q (8) | k (4) | v (4)] rows */
            {{.layout = NEOX, .head_dim = 256, .n_tokens = 33, .n_heads = 12, .base = 1e6, .freq_scale = 0.125},
             0, 4, 131072, true, 8, false, false},
            {{.layout = NEOX, .head_dim = 128, .n_tokens = 7, .n_heads = 3, .base = 1e4, .pos0 = 5},
             1, 1, 0, true, 3, false, false},
            {{.layout = NORM, .head_dim = 72, .n_tokens = 1, .n_heads = 2, .base = 1e4},
             0, 0, 4096, true, 0, false, false},
            /* Gemma 4's full layers: heads of 512 with rope_freqs factors, plain and fused with the q/k norm */
            {{.layout = NEOX, .head_dim = 512, .n_tokens = 5, .n_heads = 3, .base = 1e6}, 0, 1, 1 << 18, false, 0,
             true, false},
            {{.layout = NEOX, .head_dim = 512, .n_tokens = 9, .n_heads = 6, .base = 1e6},
             0, 2, 262144, true, 4, true, false},
            /* the same with q and k in tensors of their own (one dispatch): Gemma 3, Gemma 4 full layers, the
             * Gemma 4 vision tower's 2-D halves */
            {{.layout = NEOX, .head_dim = 256, .n_tokens = 33, .n_heads = 12, .base = 1e6, .freq_scale = 0.125},
             0, 4, 131072, true, 8, false, true},
            {{.layout = NEOX, .head_dim = 512, .n_tokens = 9, .n_heads = 6, .base = 1e6}, 1, 2, 262144, true, 4, true,
             true},
            {{.layout = NEOX, .head_dim = 72, .n_tokens = 9, .n_heads = 32, .base = 100, .grid_w = 3}, 0, 0, 0, true,
             16, false, true},
            {{.layout = NEOX, .head_dim = 64, .n_tokens = 1, .n_heads = 3, .base = 1e4}, 0, 0, 4096, true, 2, false,
             true},
        };
        for (size_t i = 0; i < sizeof cases / sizeof *cases; i++)
            run_case(&c, cases[i]);
    }
    check_errors(&c);
    printf("rope: largest |error| against float64 over all cases: %.3g\n", c.worst);
    vkmm_ops_destroy(c.ops);
    test_gpu_close(c.gpu);
    return test_finish("rope");
}
