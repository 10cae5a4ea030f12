/* tools/bench_ops.c — `vkmm-dev bench-ops`: times each kernel family on real model shapes and prints time, GB/s and
 * GFLOP/s next to the device's own copy bandwidth measured by a copy shader in the same run.
 * A developer tool: it drives runtime/ops directly rather than the public API. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "dev.h"
#include "dtype_table.h"
#include "attention.h"
#include "matmul.h"
#include "softmax.h"

typedef struct bench {
    vkmm_gpu *gpu;
    vkmm_ops *ops;
    int reps;
    bool json, first_row;
    const char *filter;
    double copy_gbs, fma_gfs;
    uint64_t seed;
    bool cpu_device;  /* a CPU device (lavapipe): the process's CPU time is the work done, whatever else runs */
    double cpu_ms;    /* CPU time per call of the last time_op */
} bench;

typedef vkmm_status (*record_fn)(bench *b, vkmm_cmd *cmd, void *ctx, vkmm_error *err);

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static double cpu_now_ms(void)
{
    struct rusage u;
    getrusage(RUSAGE_SELF, &u);
    return (u.ru_utime.tv_sec + u.ru_stime.tv_sec) * 1e3 + (u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e3;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* Records `reps` copies of one operation (rec records one) and returns the median GPU time per copy in
 * ms, from timestamps when the device has them, else from the wall clock of the whole submit. */
static vkmm_status time_op(bench *b, record_fn rec, void *ctx, double *ms, vkmm_error *err)
{
    vkmm_cmd *cmd;
    vkmm_status s = vkmm_cmd_create(b->gpu, VKMM_CMD_PROFILE, &cmd, err);
    if (s)
        return s;
    /* one warm-up submit compiles pipelines and faults memory in */
    if (!(s = rec(b, cmd, ctx, err)))
        s = vkmm_cmd_submit(cmd, err);
    uint32_t per = vkmm_cmd_dispatch_count(cmd);
    if (!s)
        vkmm_cmd_reset(cmd);
    for (int r = 0; r < b->reps && !s; r++)
        s = rec(b, cmd, ctx, err);
    double t0 = now_ms(), c0 = cpu_now_ms();
    if (!s)
        s = vkmm_cmd_submit(cmd, err);
    double wall = now_ms() - t0;
    b->cpu_ms = (cpu_now_ms() - c0) / b->reps;
    if (!s) {
        const vkmm_profile_entry *prof;
        uint32_t n = vkmm_cmd_profile(cmd, &prof);
        if (n == per * (uint32_t)b->reps && per) {
            double *t = calloc((size_t)b->reps, sizeof *t);
            for (int r = 0; r < b->reps; r++)
                for (uint32_t i = 0; i < per; i++)
                    t[r] += prof[r * per + i].ns / 1e6;
            qsort(t, (size_t)b->reps, sizeof *t, cmp_double);
            *ms = t[b->reps / 2];
            free(t);
        } else {
            *ms = wall / b->reps;
        }
    }
    vkmm_cmd_destroy(cmd);
    return s;
}

static void fill_random(bench *b, uint8_t *p, uint64_t n, bool f16_safe)
{
    uint64_t s = b->seed += 0x9E3779B97F4A7C15ull;
    for (uint64_t i = 0; i < n; i++) {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        p[i] = (uint8_t)s;
        /* keep every 16-bit word a finite half below 1: no inf/NaN scales in random blocks */
        if (f16_safe && (i & 1))
            p[i] &= 0x3b;
    }
}

static vkmm_status make_buffer(bench *b, uint64_t bytes, bool random, const char *name, vkmm_buffer **out,
                               vkmm_error *err)
{
    vkmm_status s = vkmm_buffer_create(b->gpu, bytes, VKMM_MEM_DEVICE, name, out, err);
    if (s || !random)
        return s;
    uint8_t *tmp = malloc(bytes);
    if (!tmp)
        return vkmm_fail(err, VKMM_ERR_HOST_MEMORY, "out of host memory");
    fill_random(b, tmp, bytes, true);
    s = vkmm_buffer_upload(b->gpu, *out, 0, tmp, bytes, err);
    free(tmp);
    return s;
}

static void print_row(bench *b, const char *name, const char *type, const char *shape, double ms, double bytes,
                      double flops)
{
    double gbs = bytes / (ms * 1e6), gfs = flops / (ms * 1e6);
    double ratio = b->copy_gbs > 0 ? gbs / b->copy_gbs : 0, fratio = b->fma_gfs > 0 ? gfs / b->fma_gfs : 0;
    if (b->json) {
        printf("%s\n    {\"op\": \"%s\", \"type\": \"%s\", \"shape\": \"%s\", \"ms\": %.4f, \"gb_per_s\": %.2f, "
               "\"gflop_per_s\": %.2f, \"bandwidth_vs_copy\": %.3f, \"flops_vs_fma\": %.3f",
               b->first_row ? "" : ",", name, type, shape, ms, gbs, gfs, ratio, fratio);
        if (b->cpu_device)
            printf(", \"cpu_ms\": %.4f", b->cpu_ms);
        printf("}");
        b->first_row = false;
    } else {
        printf("%-28s %-7s %-22s %10.3f %9.1f %10.1f %7.0f%% %7.0f%%", name, type, shape, ms, gbs, gfs, ratio * 100,
               fratio * 100);
        if (b->cpu_device)
            printf(" %9.3f", b->cpu_ms);
        printf("\n");
    }
    fflush(stdout);
}

/* ---- copy ---- */

typedef struct copy_ctx { vkmm_range src, dst; uint64_t bytes; } copy_ctx;

static vkmm_status rec_copy(bench *b, vkmm_cmd *cmd, void *p, vkmm_error *err)
{
    copy_ctx *c = p;
    return vkmm_op_copy_bytes(b->ops, cmd, c->src, c->dst, c->bytes, err);
}

static vkmm_status bench_copy(bench *b, vkmm_error *err)
{
    uint64_t bytes = 256ull << 20;
    if (bytes > b->ops->dev->max_storage_buffer_range)
        bytes = b->ops->dev->max_storage_buffer_range / 16 * 16;
    vkmm_buffer *src, *dst;
    vkmm_status s = make_buffer(b, bytes, true, "copy-src", &src, err);
    if (s)
        return s;
    if ((s = make_buffer(b, bytes, false, "copy-dst", &dst, err))) {
        vkmm_buffer_destroy(src);
        return s;
    }
    copy_ctx c = {vkmm_range_whole(src), vkmm_range_whole(dst), bytes};
    double ms;
    s = time_op(b, rec_copy, &c, &ms, err);
    if (!s) {
        b->copy_gbs = 2.0 * bytes / (ms * 1e6);
        char shape[32];
        snprintf(shape, sizeof shape, "%.0f MiB", bytes / 1048576.0);
        print_row(b, "copy (read+write)", "u32x4", shape, ms, 2.0 * bytes, 0);
    }
    vkmm_buffer_destroy(src);
    vkmm_buffer_destroy(dst);
    return s;
}

/* ---- fp32 multiply-add rate ---- */

typedef struct fma_ctx { vkmm_range out; uint32_t groups, iters; uint64_t flops; } fma_ctx;

static vkmm_status rec_fma(bench *b, vkmm_cmd *cmd, void *p, vkmm_error *err)
{
    fma_ctx *c = p;
    return vkmm_op_fma_rate(b->ops, cmd, c->out, c->groups, c->iters, &c->flops, err);
}

static vkmm_status bench_fma(bench *b, vkmm_error *err)
{
    /* enough workgroups for every core many times over, enough work per invocation to dwarf the launch */
    fma_ctx c = {.groups = 256, .iters = 4096};
    vkmm_buffer *out;
    vkmm_status s = make_buffer(b, 4ull * c.groups * 1024, false, "fma-out", &out, err);
    if (s)
        return s;
    c.out = vkmm_range_whole(out);
    double ms;
    s = time_op(b, rec_fma, &c, &ms, err);
    if (!s) {
        b->fma_gfs = (double)c.flops / (ms * 1e6);
        char shape[32];
        snprintf(shape, sizeof shape, "%u x 16 chains", c.iters);
        print_row(b, "fma (fp32 multiply-add)", "F32", shape, ms, 0, (double)c.flops);
    }
    vkmm_buffer_destroy(out);
    return s;
}

/* ---- matmul ---- */

typedef struct mm_ctx {
    vkmm_weight w;
    vkmm_range x, y;
    uint32_t n;
} mm_ctx;

static vkmm_status rec_mm(bench *b, vkmm_cmd *cmd, void *p, vkmm_error *err)
{
    mm_ctx *c = p;
    return vkmm_op_matmul(b->ops, cmd, &c->w, c->x, c->w.k, c->y, c->w.rows, c->n, err);
}

static vkmm_status bench_matmul(bench *b, const char *name, vkmm_dtype type, uint32_t k, uint32_t rows, uint32_t n,
                                vkmm_error *err)
{
    const char *tname = vkmm_dtype_get(type)->name;
    char label[96];
    snprintf(label, sizeof label, "%s %s", name, n <= 8 ? "matvec" : "matmul");
    char full[160];
    snprintf(full, sizeof full, "%s %s n=%u", label, tname, n);
    if (b->filter && !strstr(full, b->filter))
        return VKMM_OK;
    uint64_t wbytes = vkmm_dtype_row_bytes(type, k) * rows;
    vkmm_buffer *bw = NULL, *bx = NULL, *by = NULL;
    vkmm_status s = make_buffer(b, wbytes, true, "w", &bw, err);
    if (!s)
        s = make_buffer(b, 4ull * k * n, true, "x", &bx, err);
    if (!s)
        s = make_buffer(b, 4ull * rows * n, false, "y", &by, err);
    mm_ctx c = {.x = bx ? vkmm_range_whole(bx) : (vkmm_range){0}, .y = by ? vkmm_range_whole(by) : (vkmm_range){0}, .n = n};
    if (!s)
        s = vkmm_weight_view(b->ops, vkmm_range_whole(bw), type, k, rows, &c.w, err);
    double ms = 0;
    if (!s)
        s = time_op(b, rec_mm, &c, &ms, err);
    if (!s) {
        double bytes, flops;
        vkmm_op_matmul_cost(&c.w, n, &bytes, &flops);
        char shape[48];
        snprintf(shape, sizeof shape, "%ux%u n=%u", k, rows, n);
        print_row(b, label, tname, shape, ms, bytes, flops);
    }
    vkmm_buffer_destroy(bw);
    vkmm_buffer_destroy(bx);
    vkmm_buffer_destroy(by);
    return s;
}

/* ---- the feed-forward's gated unit in one pass ---- */

typedef struct glu_ctx {
    vkmm_weight g, u;
    vkmm_range x, y;
    uint32_t n;
    bool done;
} glu_ctx;

static vkmm_status rec_glu(bench *b, vkmm_cmd *cmd, void *p, vkmm_error *err)
{
    glu_ctx *c = p;
    return vkmm_op_matmul_glu(b->ops, cmd, VKMM_ACT_GELU_TANH, &c->g, &c->u, c->x, c->g.k, c->y, c->g.rows, c->n,
                              &c->done, err);
}

static vkmm_status bench_glu(bench *b, const char *name, vkmm_dtype type, uint32_t k, uint32_t rows, uint32_t n,
                             vkmm_error *err)
{
    const char *tname = vkmm_dtype_get(type)->name;
    char full[160];
    snprintf(full, sizeof full, "%s matvec_glu %s n=%u", name, tname, n);
    if (b->filter && !strstr(full, b->filter))
        return VKMM_OK;
    uint64_t wbytes = vkmm_dtype_row_bytes(type, k) * rows;
    vkmm_buffer *bg = NULL, *bu = NULL, *bx = NULL, *by = NULL;
    vkmm_status s = make_buffer(b, wbytes, true, "gate", &bg, err);
    if (!s)
        s = make_buffer(b, wbytes, true, "up", &bu, err);
    if (!s)
        s = make_buffer(b, 4ull * k * n, true, "x", &bx, err);
    if (!s)
        s = make_buffer(b, 4ull * rows * n, false, "y", &by, err);
    glu_ctx c = {.n = n};
    if (!s) {
        c.x = vkmm_range_whole(bx);
        c.y = vkmm_range_whole(by);
        s = vkmm_weight_view(b->ops, vkmm_range_whole(bg), type, k, rows, &c.g, err);
    }
    if (!s)
        s = vkmm_weight_view(b->ops, vkmm_range_whole(bu), type, k, rows, &c.u, err);
    double ms = 0;
    if (!s)
        s = time_op(b, rec_glu, &c, &ms, err);
    if (!s && c.done) { /* devices without the fused kernel print nothing here */
        double bytes, flops;
        vkmm_op_matmul_cost(&c.g, n, &bytes, &flops);
        char shape[48];
        snprintf(shape, sizeof shape, "2x %ux%u n=%u", k, rows, n);
        print_row(b, name, tname, shape, ms, 2 * bytes, 2 * flops);
    }
    vkmm_buffer_destroy(bg);
    vkmm_buffer_destroy(bu);
    vkmm_buffer_destroy(bx);
    vkmm_buffer_destroy(by);
    return s;
}

/* ---- patch embedding ---- */

typedef struct pe_ctx {
    vkmm_weight w;
    vkmm_range bias, img, out, scratch;
    uint32_t size, patch;
} pe_ctx;

static vkmm_status rec_pe(bench *b, vkmm_cmd *cmd, void *p, vkmm_error *err)
{
    pe_ctx *c = p;
    return vkmm_op_patch_embed(b->ops, cmd, &c->w, c->bias, c->img, 3, c->size, c->size, c->patch, c->out,
                               c->scratch, err);
}

static vkmm_status bench_patch(bench *b, uint32_t size, uint32_t patch, uint32_t width, vkmm_error *err)
{
    if (b->filter && !strstr("patch_embed", b->filter))
        return VKMM_OK;
    uint32_t k = 3 * patch * patch, tokens = (size / patch) * (size / patch);
    vkmm_buffer *bw = NULL, *bb = NULL, *bi = NULL, *bo = NULL, *bs = NULL;
    vkmm_status s = make_buffer(b, 4ull * k * width, true, "w", &bw, err);
    if (!s) s = make_buffer(b, 4ull * width, true, "bias", &bb, err);
    if (!s) s = make_buffer(b, 4ull * 3 * size * size, true, "img", &bi, err);
    if (!s) s = make_buffer(b, 4ull * tokens * width, false, "out", &bo, err);
    pe_ctx c = {.size = size, .patch = patch};
    if (!s) {
        c.bias = vkmm_range_whole(bb);
        c.img = vkmm_range_whole(bi);
        c.out = vkmm_range_whole(bo);
        s = vkmm_weight_view(b->ops, vkmm_range_whole(bw), VKMM_F32, k, width, &c.w, err);
    }
    /* the scratch the model's graph gives it (the patches as columns, where the device wants that) */
    uint64_t cols = s ? 0 : vkmm_op_patch_embed_scratch_bytes(b->ops, &c.w, size, size, patch);
    if (cols && !(s = make_buffer(b, cols, false, "columns", &bs, err)))
        c.scratch = vkmm_range_whole(bs);
    double ms = 0;
    if (!s)
        s = time_op(b, rec_pe, &c, &ms, err);
    if (!s) {
        char shape[48];
        snprintf(shape, sizeof shape, "%ux%u p%u -> %u", size, size, patch, width);
        print_row(b, "siglip patch_embed", "F32", shape, ms, 4.0 * (3.0 * size * size + (double)k * width + (double)tokens * width),
                  2.0 * tokens * k * width);
    }
    vkmm_buffer_destroy(bw);
    vkmm_buffer_destroy(bb);
    vkmm_buffer_destroy(bi);
    vkmm_buffer_destroy(bo);
    vkmm_buffer_destroy(bs);
    return s;
}

/* ---- the logits helpers of every decoded token: top-k and log-sum-exp over the vocabulary ---- */

typedef struct logits_ctx {
    vkmm_range logits, scratch, out;
    uint32_t n, k;
    bool lse;
} logits_ctx;

static vkmm_status rec_logits(bench *b, vkmm_cmd *cmd, void *p, vkmm_error *err)
{
    logits_ctx *c = p;
    if (c->lse)
        return vkmm_op_logsumexp(b->ops, cmd, c->logits, c->scratch, c->out, c->n, 1, 1.0f, err);
    return vkmm_op_topk(b->ops, cmd, c->logits, c->scratch, c->out, c->n, 1, c->k, err);
}

static vkmm_status bench_logits(bench *b, uint32_t n, uint32_t k, vkmm_error *err)
{
    const char *names[2] = {"logits topk", "logits lse"};
    vkmm_buffer *bl = NULL, *bs = NULL, *bo = NULL;
    uint64_t scratch = vkmm_op_logits_scratch_bytes(b->ops, n, 1, k);
    vkmm_status s = make_buffer(b, 4ull * n, true, "logits", &bl, err);
    if (!s)
        s = make_buffer(b, scratch < 64 ? 64 : scratch, false, "scratch", &bs, err);
    if (!s)
        s = make_buffer(b, 8ull * VKMM_TOPK_MAX, false, "out", &bo, err);
    for (int i = 0; i < 2 && !s; i++) {
        char full[96];
        snprintf(full, sizeof full, "%s F32 n=1", names[i]);
        if (b->filter && !strstr(full, b->filter))
            continue;
        logits_ctx c = {vkmm_range_whole(bl), vkmm_range_whole(bs), vkmm_range_whole(bo), n, k, i == 1};
        double ms;
        s = time_op(b, rec_logits, &c, &ms, err);
        if (!s) {
            char shape[48];
            snprintf(shape, sizeof shape, "%u%s", n, i ? "" : " k=40");
            print_row(b, names[i], "F32", shape, ms, 4.0 * n, 0);
        }
    }
    vkmm_buffer_destroy(bl);
    vkmm_buffer_destroy(bs);
    vkmm_buffer_destroy(bo);
    return s;
}

/* ---- attention ---- */

typedef struct attn_ctx {
    vkmm_attention_params p;
    vkmm_attention_io io;
} attn_ctx;

static vkmm_status rec_attn(bench *b, vkmm_cmd *cmd, void *p, vkmm_error *err)
{
    attn_ctx *c = p;
    return vkmm_op_attention(b->ops, cmd, &c->p, &c->io, err);
}

static vkmm_status bench_attention(bench *b, const char *name, uint32_t hd, uint32_t n_head, uint32_t n_kv,
                                   uint32_t kv_len, uint32_t n_q, bool causal, vkmm_error *err)
{
    if (b->filter && !strstr(name, b->filter) && !strstr("attention", b->filter))
        return VKMM_OK;
    attn_ctx c = {.p = {.kv = {VKMM_F16, n_kv, hd, kv_len, 0}, .n_q = n_q, .n_head = n_head,
                        .q_pos0 = kv_len - n_q, .kv_len = kv_len, .causal = causal, .scale = 0.0625f}};
    uint64_t kv_bytes = vkmm_kv_cache_bytes(&c.p.kv), q_bytes = 4ull * n_q * n_head * hd;
    uint64_t scratch = vkmm_op_attention_scratch_bytes(b->ops, &c.p);
    vkmm_buffer *bk = NULL, *bv = NULL, *bq = NULL, *bo = NULL, *bs = NULL;
    vkmm_status s = make_buffer(b, kv_bytes, true, "k", &bk, err);
    if (!s) s = make_buffer(b, kv_bytes, true, "v", &bv, err);
    if (!s) s = make_buffer(b, q_bytes, true, "q", &bq, err);
    if (!s) s = make_buffer(b, q_bytes, false, "o", &bo, err);
    if (!s) s = make_buffer(b, scratch ? scratch : 16, false, "scratch", &bs, err);
    if (!s) {
        c.io = (vkmm_attention_io){.q = vkmm_range_whole(bq), .k = vkmm_range_whole(bk), .v = vkmm_range_whole(bv),
                                   .spans = vkmm_range_whole(bq), .scratch = vkmm_range_whole(bs),
                                   .o = vkmm_range_whole(bo)};
        double ms;
        s = time_op(b, rec_attn, &c, &ms, err);
        if (!s) {
            uint64_t bytes, flops;
            vkmm_op_attention_cost(&c.p, &bytes, &flops);
            char shape[48];
            snprintf(shape, sizeof shape, "d%u h%u/%u kv%u q%u", hd, n_head, n_kv, kv_len, n_q);
            print_row(b, name, "F16 KV", shape, ms, (double)bytes, (double)flops);
        }
    }
    vkmm_buffer_destroy(bk);
    vkmm_buffer_destroy(bv);
    vkmm_buffer_destroy(bq);
    vkmm_buffer_destroy(bo);
    vkmm_buffer_destroy(bs);
    return s;
}

static int usage(void)
{
    printf("usage: vkmm-dev bench-ops [--json] [-r REPS] [--filter TEXT] [--device N] [--quick]\n"
           "  --filter: only rows whose \"op type n=N\" contains TEXT\n"
           "  times each kernel on Gemma 3 / Mistral shapes, next to a copy shader's bandwidth\n");
    return 0;
}

int vkmm_dev_bench_ops(int argc, char **argv)
{
    bench b = {.reps = 5, .first_row = true, .seed = 1};
    vkmm_gpu_options go = {.validation = -1};
    bool quick = false;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--json"))
            b.json = true;
        else if (!strcmp(argv[i], "--quick"))
            quick = true;
        else if (!strcmp(argv[i], "-r") && i + 1 < argc)
            b.reps = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--filter") && i + 1 < argc)
            b.filter = argv[++i];
        else if (!strcmp(argv[i], "--device") && i + 1 < argc)
            go.device = argv[++i];
        else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help"))
            return usage();
        else {
            fprintf(stderr, "vkmm-dev bench-ops: unknown option '%s'\n", argv[i]);
            return 2;
        }
    }
    if (b.reps < 1)
        b.reps = 1;
    vkmm_error err;
    if (vkmm_gpu_create(&go, &b.gpu, &err) || vkmm_ops_create(b.gpu, NULL, &b.ops, &err)) {
        fprintf(stderr, "vkmm-dev bench-ops: %s\n", err.msg);
        vkmm_gpu_destroy(b.gpu);
        return 1;
    }
    const vkmm_device_info *d = vkmm_gpu_info(b.gpu);
    b.cpu_device = d->kind == VKMM_DEVICE_CPU;
    if (b.json) {
        printf("{\"device\": ");
        vkmm_json_write_string(stdout, d->name);
        printf(", \"driver\": ");
        vkmm_json_write_string(stdout, d->driver_info);
        printf(", \"reps\": %d, \"results\": [", b.reps);
    } else {
        printf("device: %s (%s), median of %d\n", d->name, d->driver_info, b.reps);
        printf("%-28s %-7s %-22s %10s %9s %10s %8s %8s%s\n", "op", "type", "shape", "ms", "GB/s", "GFLOP/s", "vs copy",
               "vs fma", b.cpu_device ? "    cpu ms" : "");
    }
    vkmm_status s = bench_copy(&b, &err);
    if (!s)
        s = bench_fma(&b, &err);
    /* decode mat-vec on real projections: the 4096x14336 yardstick, Gemma 3 4B and 27B */
    static const struct { const char *name; uint32_t k, rows; } mv[] = {
        {"ffn 4096x14336", 4096, 14336},
        {"gemma3-4b ffn_up", 2560, 10240},
        {"gemma3-4b ffn_down", 10240, 2560},
        {"gemma3-4b attn_q", 2560, 2048},
        {"gemma3-27b ffn_up", 5376, 21504},
        {"gemma3-27b attn_q", 5376, 4096},
    };
    static const vkmm_dtype mv_types[] = {VKMM_Q4_K, VKMM_Q8_0, VKMM_Q4_0, VKMM_Q6_K, VKMM_F16};
    for (size_t i = 0; i < sizeof mv / sizeof *mv && !s; i++)
        for (size_t t = 0; t < sizeof mv_types / sizeof *mv_types && !s; t++) {
            if (quick && (i > 0 || t > 1))
                continue;
            s = bench_matmul(&b, mv[i].name, mv_types[t], mv[i].k, mv[i].rows, 1, &err);
        }
    /* output heads over Gemma 3's 262144-token vocabulary: 256-, 1024- and 2560-wide models */
    static const uint32_t head_k[] = {256, 1024, 2560};
    for (size_t i = 0; i < 3 && !s && !quick; i++)
        for (size_t t = 0; t < sizeof mv_types / sizeof *mv_types && !s; t++) {
            char name[48];
            snprintf(name, sizeof name, "lm_head %ux262144", head_k[i]);
            s = bench_matmul(&b, name, mv_types[t], head_k[i], 262144, 1, &err);
        }
    /* gate and up with the gated unit in one pass, beside the two mat-vecs above */
    if (!s)
        s = bench_glu(&b, "ffn 4096x14336 gate+up", VKMM_Q4_0, 4096, 14336, 1, &err);
    /* batched decode: one column per sequence; W is read once for all of them */
    static const uint32_t batch[] = {2, 4, 8};
    for (size_t i = 0; i < 3 && !s && !quick; i++) {
        s = bench_matmul(&b, "ffn 4096x14336", VKMM_Q4_0, 4096, 14336, batch[i], &err);
        if (!s)
            s = bench_matmul(&b, "lm_head 1024x262144", VKMM_Q4_0, 1024, 262144, batch[i], &err);
    }
    /* short prompts: where chunked mat-vec and tiles cross over (tuning key matvec.chunked_cols) */
    static const uint32_t short_cols[] = {10, 16, 32, 64, 128};
    for (size_t i = 0; i < sizeof short_cols / sizeof *short_cols && !s && !quick; i++) {
        s = bench_matmul(&b, "gemma3-4b attn_q", VKMM_Q4_K, 2560, 2048, short_cols[i], &err);
        if (!s)
            s = bench_matmul(&b, "gemma3-4b attn_q", VKMM_Q8_0, 2560, 2048, short_cols[i], &err);
    }
    /* the 1024-wide synthetic Gemma 3's projections over a 64-token prompt */
    static const struct { const char *name; uint32_t k, rows; } pf[] = {
        {"g1024 attn_q", 1024, 1024}, {"g1024 attn_k", 1024, 256}, {"g1024 ffn_up", 1024, 4096},
        {"g1024 ffn_down", 4096, 1024}};
    for (size_t i = 0; i < sizeof pf / sizeof *pf && !s && !quick; i++)
        s = bench_matmul(&b, pf[i].name, VKMM_Q4_0, pf[i].k, pf[i].rows, 64, &err);
    /* prefill */
    uint32_t n_pf = quick ? 64 : 512;
    if (!s)
        s = bench_matmul(&b, "gemma3-4b ffn_up", VKMM_Q4_K, 2560, 10240, n_pf, &err);
    if (!s && !quick)
        s = bench_matmul(&b, "gemma3-4b ffn_up", VKMM_Q8_0, 2560, 10240, n_pf, &err);
    /* the vision tower's F16 MLP over a 224-pixel picture's 256 patches */
    if (!s && !quick)
        s = bench_matmul(&b, "siglip ffn_up", VKMM_F16, 1152, 4304, 256, &err);
    if (!s && !quick)
        s = bench_matmul(&b, "siglip ffn_down", VKMM_F16, 4304, 1152, 256, &err);
    if (!s && !quick) /* the vision tower's widest product: 4096 patches through an F16 MLP */
        s = bench_matmul(&b, "siglip ffn_up", VKMM_F16, 1152, 4304, 4096, &err);
    if (!s)
        s = bench_patch(&b, quick ? 224 : 896, 14, 1152, &err);
    if (!s)
        s = bench_logits(&b, 262144, 40, &err);
    /* attention: Gemma 3 4B (head_dim 256) decode and a prefill chunk at 4k context, SigLIP's 4096 patches */
    if (!s)
        s = bench_attention(&b, "gemma3-4b attn decode", 256, 8, 4, quick ? 1024 : 4096, 1, true, &err);
    if (!s && !quick)
        s = bench_attention(&b, "gemma3-4b attn prefill", 256, 8, 4, 4096, 512, true, &err);
    if (!s && !quick)
        s = bench_attention(&b, "siglip attn", 72, 16, 16, 4096, 4096, false, &err);
    if (b.json)
        printf("\n], \"copy_gb_per_s\": %.2f, \"fma_gflop_per_s\": %.2f}\n", b.copy_gbs, b.fma_gfs);
    if (s)
        fprintf(stderr, "vkmm-dev bench-ops: %s\n", err.msg);
    vkmm_ops_destroy(b.ops);
    vkmm_gpu_destroy(b.gpu);
    return s ? 1 : 0;
}
