/* tests/ops/test_softmax.c — row softmax, top-k / argmax and log-sum-exp against the references: random rows, rows
 * full of ties (few distinct values, all equal, the maximum at either end), ±inf and NaN entries, vocabularies of
 * 1 to 262208 (odd sizes, sizes around the chunk), several rows, three settings (workgroup, subgroup or shared
 * memory, chunk: one chunk per row or many).
 * Bounds: softmax NMSE <= 1e-13; top-k ids and values exactly equal to the reference (values are copies);
 * log-sum-exp |error| <= 2e-6 · max(1, |lse|) (f32 sums of exponentials). */
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "ref/ref_softmax.h"
#include "softmax.h"

typedef struct ctx {
    vkmm_gpu *gpu;
    vkmm_ops *ops;
    test_rng rng;
    const char *setting;
} ctx;

static void check_softmax(ctx *c, uint32_t rows, uint32_t cols, float scale, bool in_place)
{
    vkmm_error err;
    size_t n = (size_t)rows * cols;
    float *x = malloc(n * 4), *ref = malloc(n * 4), *out = malloc(n * 4);
    test_fill_uniform(&c->rng, x, n, -10, 10);
    ref_softmax(x, ref, rows, cols, scale);
    vkmm_range X, O;
    vkmm_buffer *bx = test_upload(c->gpu, x, n * 4, (cols % 4) * 4, &X), *bo = NULL;
    if (in_place)
        O = X;
    else
        bo = test_upload(c->gpu, NULL, n * 4, 4, &O);
    vkmm_cmd *cmd;
    CHECK_OK(vkmm_cmd_create(c->gpu, 0, &cmd, &err), &err, );
    CHECK_OK(vkmm_op_softmax(c->ops, cmd, X, O, rows, cols, scale, &err), &err, );
    CHECK_OK(vkmm_cmd_submit(cmd, &err), &err, );
    vkmm_cmd_destroy(cmd);
    test_download(c->gpu, O, out);
    double e = test_nmse(out, ref, n);
    CHECK(e <= 1e-13, "[%s] softmax %ux%u scale %g in_place=%d: nmse %g", c->setting, rows, cols, scale, in_place, e);
    vkmm_buffer_destroy(bx), vkmm_buffer_destroy(bo);
    free(x), free(ref), free(out);
}

enum { RANDOM, FEW_VALUES, ALL_EQUAL, MAX_LAST, SPECIALS };
static const char *const kinds[] = {"random", "few values", "all equal", "max last", "inf/nan"};

static void fill_logits(ctx *c, float *x, size_t n, int kind)
{
    test_fill_uniform(&c->rng, x, n, -30, 30);
    for (size_t i = 0; i < n; i++) {
        if (kind == FEW_VALUES) /* 9 distinct values: ties everywhere, across every chunk boundary */
            x[i] = (float)(test_rand_u32(&c->rng) % 9) * 0.5f;
        else if (kind == ALL_EQUAL)
            x[i] = -1.25f;
        else if (kind == MAX_LAST)
            x[i] = (float)i * 1e-3f - 7.0f;
    }
    if (kind == SPECIALS && n > 8) {
        x[n / 3] = NAN, x[n / 2] = -INFINITY, x[n - 1] = NAN, x[1] = INFINITY, x[n / 4] = INFINITY;
    }
}

/* top-k, argmax and log-sum-exp of rows × n logits in one command list */
static void check_logits(ctx *c, uint32_t n, uint32_t rows, uint32_t k, int kind)
{
    vkmm_error err;
    size_t total = (size_t)rows * n;
    float *x = malloc(total * 4);
    for (uint32_t r = 0; r < rows; r++)
        fill_logits(c, x + (size_t)r * n, n, (kind + (int)r) % 5 == SPECIALS && kind != SPECIALS ? RANDOM : kind);
    vkmm_range X, S[3], O, A, L;
    vkmm_buffer *bx = test_upload(c->gpu, x, total * 4, (n % 3) * 4, &X),
                *bo = test_upload(c->gpu, NULL, (size_t)rows * k * 8, 16, &O),
                *ba = test_upload(c->gpu, NULL, (size_t)rows * 8, 8, &A),
                *bl = test_upload(c->gpu, NULL, (size_t)rows * 4, 4, &L), *bs[3];
    for (int i = 0; i < 3; i++) /* one scratch per op, the top-k one at an unaligned (8-byte) offset */
        bs[i] = test_upload(c->gpu, NULL, vkmm_op_logits_scratch_bytes(c->ops, n, rows, i ? 1 : k), i ? 0 : 8, &S[i]);
    vkmm_cmd *cmd;
    CHECK_OK(vkmm_cmd_create(c->gpu, 0, &cmd, &err), &err, );
    CHECK_OK(vkmm_op_topk(c->ops, cmd, X, S[0], O, n, rows, k, &err), &err, );
    CHECK_OK(vkmm_op_argmax(c->ops, cmd, X, S[1], A, n, rows, &err), &err, );
    CHECK_OK(vkmm_op_logsumexp(c->ops, cmd, X, S[2], L, n, rows, 0.7f, &err), &err, );
    CHECK_OK(vkmm_cmd_submit(cmd, &err), &err, );
    vkmm_cmd_destroy(cmd);

    vkmm_logit *got = malloc((size_t)rows * k * 8), *am = malloc((size_t)rows * 8);
    float *lse = malloc((size_t)rows * 4);
    test_download(c->gpu, O, got);
    test_download(c->gpu, A, am);
    test_download(c->gpu, L, lse);
    uint32_t *ids = malloc(k * 4);
    float *vals = malloc(k * 4);
    for (uint32_t r = 0; r < rows; r++) {
        const float *xr = x + (size_t)r * n;
        ref_topk(xr, n, k, ids, vals);
        uint32_t bad = 0, first = 0;
        for (uint32_t i = 0; i < k; i++) {
            vkmm_logit g = got[(size_t)r * k + i];
            if (g.id != ids[i] || memcmp(&g.value, &vals[i], 4) != 0) {
                if (!bad)
                    first = i;
                bad++;
            }
        }
        CHECK(bad == 0, "[%s] topk n=%u row %u/%u k=%u (%s): %u entries differ, first #%u: (%u, %g) expected (%u, %g)",
              c->setting, n, r, rows, k, kinds[kind], bad, first, got[(size_t)r * k + first].id,
              (double)got[(size_t)r * k + first].value, ids[first], (double)vals[first]);
        ref_topk(xr, n, 1, ids, vals);
        CHECK(am[r].id == ids[0] && memcmp(&am[r].value, &vals[0], 4) == 0,
              "[%s] argmax n=%u row %u (%s): (%u, %g) expected (%u, %g)", c->setting, n, r, kinds[kind], am[r].id,
              (double)am[r].value, ids[0], (double)vals[0]);
        double want = ref_logsumexp(xr, n, 0.7f), tol = 2e-6 * fmax(1.0, fabs(want));
        CHECK(want == lse[r] || fabs(lse[r] - want) <= tol, "[%s] logsumexp n=%u row %u (%s): %.9g expected %.9g",
              c->setting, n, r, kinds[kind], (double)lse[r], want);
    }
    for (int i = 0; i < 3; i++)
        vkmm_buffer_destroy(bs[i]);
    vkmm_buffer_destroy(bx), vkmm_buffer_destroy(bo), vkmm_buffer_destroy(ba), vkmm_buffer_destroy(bl);
    free(x), free(got), free(am), free(lse), free(ids), free(vals);
}

/* The strided forms (one call for the rows of several sequences): rows n + 5 floats apart with +inf between
 * them (read by mistake it would win), results k + 3 entries / 4 floats apart; equal to the packed forms. */
static void check_strided(ctx *c, uint32_t n, uint32_t rows, uint32_t k)
{
    vkmm_error err;
    uint32_t xs = n + 5, os = k + 3;
    float *x = malloc((size_t)rows * xs * 4), *packed = malloc((size_t)rows * n * 4);
    for (size_t i = 0; i < (size_t)rows * xs; i++)
        x[i] = INFINITY;
    for (uint32_t r = 0; r < rows; r++) {
        fill_logits(c, packed + (size_t)r * n, n, RANDOM);
        memcpy(x + (size_t)r * xs, packed + (size_t)r * n, 4ull * n);
    }
    vkmm_range X, P, S, O, Q, L, M;
    vkmm_buffer *bx = test_upload(c->gpu, x, (size_t)rows * xs * 4 - 20, 4, &X),
                *bp = test_upload(c->gpu, packed, (size_t)rows * n * 4, 0, &P),
                *bs = test_upload(c->gpu, NULL, vkmm_op_logits_scratch_bytes(c->ops, n, rows, k), 0, &S),
                *bo = test_upload(c->gpu, NULL, ((size_t)(rows - 1) * os + k) * 8, 8, &O),
                *bq = test_upload(c->gpu, NULL, (size_t)rows * k * 8, 0, &Q),
                *bl = test_upload(c->gpu, NULL, ((size_t)(rows - 1) * 4 + 1) * 4, 4, &L),
                *bm = test_upload(c->gpu, NULL, (size_t)rows * 4, 0, &M);
    vkmm_cmd *cmd;
    CHECK_OK(vkmm_cmd_create(c->gpu, 0, &cmd, &err), &err, );
    CHECK_OK(vkmm_op_topk_strided(c->ops, cmd, X, xs, S, O, os, n, rows, k, &err), &err, );
    CHECK_OK(vkmm_op_topk(c->ops, cmd, P, S, Q, n, rows, k, &err), &err, );
    CHECK_OK(vkmm_op_logsumexp_strided(c->ops, cmd, X, xs, S, L, 4, n, rows, 1.0f, &err), &err, );
    CHECK_OK(vkmm_op_logsumexp(c->ops, cmd, P, S, M, n, rows, 1.0f, &err), &err, );
    CHECK_OK(vkmm_cmd_submit(cmd, &err), &err, );
    vkmm_cmd_destroy(cmd);
    vkmm_logit *o = malloc(((size_t)(rows - 1) * os + k) * 8), *q = malloc((size_t)rows * k * 8);
    float *l = malloc(((size_t)(rows - 1) * 4 + 1) * 4), *m = malloc((size_t)rows * 4);
    test_download(c->gpu, O, o);
    test_download(c->gpu, Q, q);
    test_download(c->gpu, L, l);
    test_download(c->gpu, M, m);
    for (uint32_t r = 0; r < rows; r++) {
        CHECK(!memcmp(o + (size_t)r * os, q + (size_t)r * k, 8ull * k), "[%s] strided topk n=%u row %u differs",
              c->setting, n, r);
        CHECK(l[r * 4] == m[r], "[%s] strided logsumexp n=%u row %u: %g, packed %g", c->setting, n, r,
              (double)l[r * 4], (double)m[r]);
    }
    vkmm_buffer_destroy(bx), vkmm_buffer_destroy(bp), vkmm_buffer_destroy(bs), vkmm_buffer_destroy(bo);
    vkmm_buffer_destroy(bq), vkmm_buffer_destroy(bl), vkmm_buffer_destroy(bm);
    free(x), free(packed), free(o), free(q), free(l), free(m);
}

static void check_errors(ctx *c)
{
    vkmm_error err;
    vkmm_range X, S;
    vkmm_buffer *bx = test_upload(c->gpu, NULL, 300000 * 4, 0, &X), *bs = test_upload(c->gpu, NULL, 64, 4, &S);
    vkmm_ops_set_tune(c->ops, VKMM_TUNE_SOFTMAX_CHUNK, 64); /* 64 chunks of 64: 512 bytes of scratch for k = 1 */
    vkmm_cmd *cmd;
    CHECK_OK(vkmm_cmd_create(c->gpu, 0, &cmd, &err), &err, );
    CHECK(vkmm_op_topk(c->ops, cmd, X, X, X, 4096, 1, 65, &err) != VKMM_OK, "k = 65 accepted");
    CHECK(vkmm_op_topk(c->ops, cmd, X, X, X, 10, 1, 11, &err) != VKMM_OK, "k > n accepted");
    CHECK(vkmm_op_argmax(c->ops, cmd, X, S, X, 4096, 1, &err) != VKMM_OK, "a misaligned scratch accepted");
    CHECK(vkmm_op_logsumexp(c->ops, cmd, X, vkmm_range_sub(S, 4, 8), X, 4096, 1, 1.0f, &err) != VKMM_OK,
          "an 8-byte scratch accepted");
    vkmm_ops_set_tune(c->ops, VKMM_TUNE_SOFTMAX_WORKGROUP, 8);
    CHECK(vkmm_op_softmax(c->ops, cmd, X, X, 1, 300000, 1.0f, &err) == VKMM_ERR_UNSUPPORTED, /* 37500 per lane */
          "a row over lavapipe's loop budget accepted");
    CHECK(vkmm_cmd_dispatch_count(cmd) == 0, "a rejected op recorded a dispatch");
    CHECK_OK(vkmm_op_softmax(c->ops, cmd, X, X, 1, 4096, 1.0f, &err), &err, ); /* lists must be submitted */
    CHECK_OK(vkmm_cmd_submit(cmd, &err), &err, );
    vkmm_cmd_destroy(cmd);
    vkmm_buffer_destroy(bx), vkmm_buffer_destroy(bs);
}

int main(void)
{
    vkmm_error err;
    ctx c = {.gpu = test_gpu_open(NULL), .rng = test_rng_seed(3)};
    CHECK_OK(vkmm_ops_create(c.gpu, NULL, &c.ops, &err), &err, 1);
    static const struct { uint32_t wg, sg, chunk; const char *name; } settings[] = {
        {64, 1, 4096, "wg64-subgroup-chunk4096"}, {256, 0, 1000, "wg256-shared-chunk1000"},
        {32, 1, 1 << 20, "wg32-subgroup-one-chunk"}};
    for (size_t si = 0; si < 3; si++) {
        c.setting = settings[si].name;
        vkmm_ops_set_tune(c.ops, VKMM_TUNE_SOFTMAX_WORKGROUP, settings[si].wg);
        vkmm_ops_set_tune(c.ops, VKMM_TUNE_SOFTMAX_SUBGROUP, settings[si].sg);
        vkmm_ops_set_tune(c.ops, VKMM_TUNE_SOFTMAX_CHUNK, settings[si].chunk);
        vkmm_ops_set_tune(c.ops, VKMM_TUNE_SOFTMAX_TEXEL, si != 0); /* first passes as texels in all but the first */
        check_softmax(&c, 1, 1, 1.0f, false);
        check_softmax(&c, 7, 33, 0.125f, true);
        check_softmax(&c, 32, 1152, 1.0f, false);
        check_softmax(&c, 2, 4128, 2.0f, false);
        check_softmax(&c, 512, 7, 1.0f, true);
        check_logits(&c, 1, 1, 1, RANDOM);
        check_logits(&c, 7, 2, 7, FEW_VALUES);
        check_logits(&c, 4097, 3, 64, FEW_VALUES);
        check_logits(&c, 4097, 1, 33, ALL_EQUAL);
        check_logits(&c, 100003, 2, 64, RANDOM);
        check_logits(&c, 131072, 1, 5, MAX_LAST);
        check_logits(&c, 262208, 1, 40, FEW_VALUES);
        check_logits(&c, 262208, 2, 64, RANDOM);
        check_logits(&c, 2000, 3, 17, SPECIALS);
        check_strided(&c, 549, 3, 10);
        check_strided(&c, 20001, 4, 40);
    }
    check_errors(&c);
    vkmm_ops_destroy(c.ops);
    test_gpu_close(c.gpu);
    return test_finish("softmax");
}
