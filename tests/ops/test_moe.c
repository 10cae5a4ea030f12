/* tests/ops/test_moe.c — the mixture-of-experts ops against float64 references: routing (top-k of 8 and of 128
 * experts as Gemma 4's 26B-A4B, renormalised softmax weights, per-expert scales; ties to the lower expert), the
 * grouping of routed pairs by expert, the expert matrices in both forms (one mat-vec row per pair; tiles over the
 * pairs grouped by expert) for every weight type, experts split over several pieces, x rows shared by a token's k
 * pairs or one per pair, and the weighted sum. Bounds: weights and sums NMSE <= 1e-10 (f32 sums of a few terms);
 * chosen experts exactly the reference's. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "dtype_table.h"
#include "ref/ref_matmul.h"
#include "matmul.h"
#include "moe.h"

typedef struct ctx {
    vkmm_gpu *gpu;
    vkmm_ops *ops;
    test_rng rng;
} ctx;

static vkmm_cmd *begin(ctx *c)
{
    vkmm_error err;
    vkmm_cmd *cmd = NULL;
    CHECK_OK(vkmm_cmd_create(c->gpu, 0, &cmd, &err), &err, NULL);
    return cmd;
}

static void end(vkmm_cmd *cmd)
{
    vkmm_error err;
    CHECK_OK(vkmm_cmd_submit(cmd, &err), &err, );
    vkmm_cmd_destroy(cmd);
}

/* Routing: ids in descending logit order (ties to the lower expert), weights softmax over the k, times scale. */
static void check_route(ctx *c, uint32_t n, uint32_t E, uint32_t k, bool scaled, bool ties)
{
    vkmm_error err;
    uint32_t stride = E + 3;
    float *lg = malloc(sizeof *lg * n * stride), *sc = malloc(sizeof *sc * E), *w = malloc(sizeof *w * n * k);
    int32_t *ids = malloc(sizeof *ids * n * k);
    test_fill_uniform(&c->rng, lg, (size_t)n * stride, -4, 4);
    test_fill_uniform(&c->rng, sc, E, 0.5f, 1.5f);
    if (ties) /* whole rows of few distinct values */
        for (size_t i = 0; i < (size_t)n * stride; i++)
            lg[i] = (float)(test_rand_u32(&c->rng) % 4);
    vkmm_range L, S, I, W;
    vkmm_buffer *bl = test_upload(c->gpu, lg, 4ull * n * stride, 4, &L), *bs = test_upload(c->gpu, sc, 4ull * E, 8, &S);
    vkmm_buffer *bi = test_upload(c->gpu, NULL, 4ull * n * k, 4, &I), *bw = test_upload(c->gpu, NULL, 4ull * n * k, 0, &W);
    vkmm_cmd *cmd = begin(c);
    CHECK_OK(vkmm_op_moe_route(c->ops, cmd, L, stride, n, E, k, scaled ? S : (vkmm_range){0}, I, W, &err), &err, );
    end(cmd);
    test_download(c->gpu, I, ids);
    test_download(c->gpu, W, w);
    size_t bad_ids = 0;
    double num = 0, den = 0;
    bool *taken = malloc(E);
    for (uint32_t t = 0; t < n; t++) {
        const float *r = lg + (size_t)t * stride;
        memset(taken, 0, E);
        int32_t want[VKMM_MOE_MAX_K];
        double sum = 0;
        for (uint32_t j = 0; j < k; j++) {
            int32_t best = -1;
            for (uint32_t e = 0; e < E; e++)
                if (!taken[e] && (best < 0 || r[e] > r[best]))
                    best = (int32_t)e;
            taken[best] = true;
            want[j] = best;
            sum += exp((double)r[best] - r[want[0]]);
        }
        for (uint32_t j = 0; j < k; j++) {
            bad_ids += ids[t * k + j] != want[j];
            double ww = exp((double)r[want[j]] - r[want[0]]) / sum * (scaled ? sc[want[j]] : 1.0);
            num += (w[t * k + j] - ww) * (w[t * k + j] - ww);
            den += ww * ww;
        }
    }
    CHECK(bad_ids == 0 && num / den <= 1e-10, "moe_route %u rows, top %u of %u%s%s: %zu ids differ, weights nmse %g",
          n, k, E, scaled ? ", scaled" : "", ties ? ", ties" : "", bad_ids, num / den);
    vkmm_buffer_destroy(bl), vkmm_buffer_destroy(bs), vkmm_buffer_destroy(bi), vkmm_buffer_destroy(bw);
    free(lg), free(sc), free(w), free(ids), free(taken);
}

/* The expert matrices: n tokens, k pairs each, x per token (shared) or per pair; both forms; pieces of experts. */
static void check_matmul_id(ctx *c, uint32_t type, uint32_t E, uint32_t rows_e, uint32_t K, uint32_t n, uint32_t k,
                            bool per_pair_x, uint32_t parts)
{
    vkmm_error err;
    uint32_t rows = E * rows_e, n_pairs = n * k, x_div = per_pair_x ? 1 : k, n_x = per_pair_x ? n_pairs : n;
    uint32_t x_stride = (K + 3) / 4 * 4 + 4, y_stride = rows_e + 1;
    uint64_t rb = vkmm_dtype_row_bytes(type, K);
    float *f = malloc(sizeof *f * K);
    uint8_t *wq = malloc(rb * rows);
    for (uint32_t r = 0; r < rows; r++) {
        test_fill_uniform(&c->rng, f, K, -1, 1);
        vkmm_quantize(type, f, wq + r * rb, K);
    }
    float *x = malloc(sizeof *x * x_stride * n_x), *ref = malloc(sizeof *ref * y_stride * n_pairs);
    float *out = malloc(sizeof *out * y_stride * n_pairs), *col = malloc(sizeof *col * rows_e);
    test_fill_uniform(&c->rng, x, (size_t)x_stride * n_x, -1, 1);
    int32_t *ids = malloc(sizeof *ids * n_pairs);
    for (uint32_t t = 0; t < n; t++) /* distinct experts per token, some experts never taken */
        for (uint32_t j = 0; j < k; j++)
            ids[t * k + j] = (int32_t)((t * 7 + j * 3 + (t % 3)) % (E - 1));
    for (uint32_t a = 0; a < n_pairs; a++) {
        ref_matmul(type, wq + (uint64_t)ids[a] * rows_e * rb, rows_e, K, x + (size_t)(a / x_div) * x_stride, x_stride, 1,
                   col, rows_e);
        memcpy(ref + (size_t)a * y_stride, col, sizeof *col * rows_e);
    }
    vkmm_range Wr, X, I, G, Y;
    vkmm_buffer *bw = test_upload(c->gpu, wq, rb * rows, 2, &Wr), *bx = test_upload(c->gpu, x, 4ull * x_stride * n_x, 16, &X);
    vkmm_buffer *bi = test_upload(c->gpu, ids, 4ull * n_pairs, 4, &I);
    vkmm_buffer *bg = test_upload(c->gpu, NULL, vkmm_moe_group_bytes(E, n_pairs), 8, &G);
    vkmm_buffer *by = test_upload(c->gpu, NULL, 4ull * y_stride * n_pairs, 4, &Y);
    vkmm_weight wt;
    CHECK_OK(vkmm_weight_view_grouped(c->ops, Wr, type, K, rows, rows_e, &wt, &err), &err, );
    if (parts > 1) { /* pieces of whole experts, as a tensor over the binding limit is cut */
        vkmm_range whole = wt.piece[0].range;
        uint32_t per = (E + parts - 1) / parts, e = 0, m = 0;
        for (; e < E; e += per, m++) {
            uint32_t ne = E - e < per ? E - e : per;
            wt.piece[m].range = vkmm_range_sub(whole, (uint64_t)e * rows_e * rb, (uint64_t)ne * rows_e * rb);
            wt.piece[m].row0 = e * rows_e;
            wt.piece[m].rows = ne * rows_e;
        }
        wt.n_pieces = m;
    }
    for (int form = 0; form < 2; form++) {
        vkmm_cmd *cmd = begin(c);
        if (form == 1)
            CHECK_OK(vkmm_op_moe_group(c->ops, cmd, I, n_pairs, E, G, &err), &err, );
        CHECK_OK(vkmm_op_matmul_id(c->ops, cmd, &wt, E, X, x_stride, x_div, I, form ? G : (vkmm_range){0}, n_pairs, Y,
                                   y_stride, &err), &err, );
        end(cmd);
        test_download(c->gpu, Y, out);
        double num = 0, den = 0;
        for (uint32_t a = 0; a < n_pairs; a++)
            for (uint32_t m = 0; m < rows_e; m++) {
                double d = (double)out[(size_t)a * y_stride + m] - ref[(size_t)a * y_stride + m];
                num += out[(size_t)a * y_stride + m] == out[(size_t)a * y_stride + m] ? d * d : INFINITY;
                den += (double)ref[(size_t)a * y_stride + m] * ref[(size_t)a * y_stride + m];
            }
        CHECK(num / den < 1e-10, "matmul_id %s (%s) %u experts of %u x %u, %u tokens x %u, x %s, %u pieces: nmse %g",
              vkmm_dtype_get(type)->name, form ? "grouped tiles" : "per-pair mat-vec", E, rows_e, K, n, k,
              per_pair_x ? "per pair" : "per token", wt.n_pieces, num / den);
        if (form == 1) { /* the grouping itself: offsets rise to n_pairs, each pair once, under its expert */
            uint32_t *gr = malloc(vkmm_moe_group_bytes(E, n_pairs));
            test_download(c->gpu, G, gr);
            bool ok = gr[0] == 0 && gr[E] == n_pairs;
            uint32_t *seen = calloc(n_pairs, sizeof *seen);
            for (uint32_t e = 0; e < E && ok; e++)
                for (uint32_t i = gr[e]; i < gr[e + 1] && ok; i++) {
                    uint32_t a = gr[E + 1 + i];
                    ok = a < n_pairs && ids[a] == (int32_t)e && !seen[a]++;
                }
            CHECK(ok, "moe_group: %u pairs over %u experts not grouped", n_pairs, E);
            free(seen);
            free(gr);
        }
    }
    vkmm_buffer_destroy(bw), vkmm_buffer_destroy(bx), vkmm_buffer_destroy(bi), vkmm_buffer_destroy(bg);
    vkmm_buffer_destroy(by);
    free(f), free(wq), free(x), free(ref), free(out), free(col), free(ids);
}

static void check_combine(ctx *c, uint32_t n, uint32_t width, uint32_t k)
{
    vkmm_error err;
    float *y = malloc(sizeof *y * n * k * width), *w = malloc(sizeof *w * n * k), *out = malloc(sizeof *out * n * width);
    float *ref = malloc(sizeof *ref * n * width);
    test_fill_uniform(&c->rng, y, (size_t)n * k * width, -2, 2);
    test_fill_uniform(&c->rng, w, (size_t)n * k, 0, 1);
    for (uint32_t t = 0; t < n; t++)
        for (uint32_t h = 0; h < width; h++) {
            double s = 0;
            for (uint32_t j = 0; j < k; j++)
                s += (double)w[t * k + j] * y[((size_t)t * k + j) * width + h];
            ref[(size_t)t * width + h] = (float)s;
        }
    vkmm_range Y, W, O;
    vkmm_buffer *by = test_upload(c->gpu, y, 4ull * n * k * width, 4, &Y), *bw = test_upload(c->gpu, w, 4ull * n * k, 0, &W);
    vkmm_buffer *bo = test_upload(c->gpu, NULL, 4ull * n * width, 12, &O);
    vkmm_cmd *cmd = begin(c);
    CHECK_OK(vkmm_op_moe_combine(c->ops, cmd, Y, W, n, width, k, O, &err), &err, );
    end(cmd);
    test_download(c->gpu, O, out);
    double e = test_nmse(out, ref, (size_t)n * width);
    CHECK(e <= 1e-10, "moe_combine %u x %u of %u: nmse %g", n, width, k, e);
    vkmm_buffer_destroy(by), vkmm_buffer_destroy(bw), vkmm_buffer_destroy(bo);
    free(y), free(w), free(out), free(ref);
}

static void check_errors(ctx *c)
{
    vkmm_error err;
    vkmm_range X;
    vkmm_buffer *bx = test_upload(c->gpu, NULL, 4096, 0, &X);
    vkmm_cmd *cmd = begin(c);
    CHECK(vkmm_op_moe_route(c->ops, cmd, X, 8, 4, 8, 9, (vkmm_range){0}, X, X, &err) != VKMM_OK, "top 9 of 8 accepted");
    CHECK(vkmm_op_moe_route(c->ops, cmd, X, 2048, 2, 2048, 4, (vkmm_range){0}, X, X, &err) != VKMM_OK,
          "2048 experts accepted");
    vkmm_weight wt;
    CHECK_OK(vkmm_weight_view(c->ops, X, VKMM_F32, 16, 64, &wt, &err), &err, );
    CHECK(vkmm_op_matmul_id(c->ops, cmd, &wt, 5, X, 16, 1, X, (vkmm_range){0}, 4, X, 16, &err) != VKMM_OK,
          "64 rows as 5 experts accepted");
    CHECK(vkmm_weight_view_grouped(c->ops, X, VKMM_F32, 16, 64, 5, &wt, &err) != VKMM_OK, "groups of 5 in 64 rows");
    CHECK(vkmm_cmd_dispatch_count(cmd) == 0, "a rejected op recorded a dispatch");
    CHECK_OK(vkmm_op_moe_combine(c->ops, cmd, X, X, 1, 4, 2, vkmm_range_sub(X, 2048, 64), &err), &err, );
    end(cmd);
    vkmm_buffer_destroy(bx);
}

int main(void)
{
    vkmm_error err;
    ctx c = {.gpu = test_gpu_open(NULL), .rng = test_rng_seed(23)};
    CHECK_OK(vkmm_ops_create(c.gpu, NULL, &c.ops, &err), &err, 1);
    check_route(&c, 1, 128, 8, true, false);   /* 26B-A4B decode */
    check_route(&c, 37, 128, 8, true, false);  /* a prefill chunk */
    check_route(&c, 9, 8, 2, false, false);
    check_route(&c, 5, 16, 4, true, true);
    static const uint32_t types[] = {VKMM_F32, VKMM_F16, VKMM_BF16, VKMM_Q8_0, VKMM_Q4_0, VKMM_Q4_1, VKMM_Q5_0,
                                     VKMM_Q5_1, VKMM_Q2_K, VKMM_Q3_K, VKMM_Q4_K, VKMM_Q5_K, VKMM_Q6_K, VKMM_IQ4_NL,
                                     VKMM_IQ4_XS};
    for (size_t i = 0; i < sizeof types / sizeof *types; i++) {
        uint32_t K = vkmm_dtype_get(types[i])->block > 32 ? 256 : 96;
        check_matmul_id(&c, types[i], 8, 40, K, 3, 2, false, 1);  /* gate/up: x per token */
        check_matmul_id(&c, types[i], 8, 24, K, 11, 3, true, 3);  /* down: x per pair, experts in 3 pieces */
    }
    check_matmul_id(&c, VKMM_Q4_K, 128, 64, 256, 20, 8, false, 2); /* 128 experts, top 8, 160 pairs */
    check_combine(&c, 1, 2816, 8);
    check_combine(&c, 13, 100, 3);
    check_errors(&c);
    vkmm_ops_destroy(c.ops);
    test_gpu_close(c.gpu);
    return test_finish("moe");
}
