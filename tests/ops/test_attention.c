/* tests/ops/test_attention.c — fused attention and the KV store against the float64 reference: every head dim,
 * GQA 1/2/4/8, causal with offsets, sliding window, ring caches, spans, bidirectional, soft-cap, F16 and Q8_0
 * caches, split decode (and split vs unsplit), cut dispatches, two specialization settings (VKMM_TEST_SETTINGS=tuned:
 * the device's alone, as the second-driver run does: the small setting checks the host's tile planning, the same on
 * every driver, and doubles the pipelines to compile). Unused cache slots hold NaN, outputs start as NaN. Bound:
 * NMSE <= 1e-10 against the reference over the same cache values. */
#include <stdlib.h>
#include <string.h>

#include "f16.h"
#include "harness.h"
#include "dtype_table.h"
#include "ref/ref_attention.h"
#include "attention.h"

#define NMSE_BOUND 1e-10

typedef struct acase {
    const char *name;
    uint32_t d, n_kv, group, n_q, kv_len;
    int32_t pos0;         /* -1: kv_len - n_q (the queries are the newest positions) */
    bool bidir;           /* causal off */
    uint32_t window, ring;
    uint32_t n_spans, spans[4];
    bool spans_in_window; /* the window bounds span keys too */
    float softcap;
    bool q8;
    uint32_t split;       /* forced split count; 0: the op chooses */
    bool vs_unsplit;      /* also run with one split and compare the two */
    bool inplace;         /* o is the q range */
    uint32_t bind_limit;  /* cut dispatches by this many bytes per binding */
    bool mm;              /* as two mat-muls and a softmax per head (attention.matmul_rows forced on) */
} acase;

/* A specialization setting: the device's tuning, or small odd tiles in a 16 KiB shared-memory budget (and a
 * merge whose columns do not divide the head). */
typedef struct setting {
    const char *name;
    int64_t workgroup, rows, keys, decode_workgroup, decode_keys, shared_limit, merge_workgroup, merge_cols;
} setting;

typedef struct ctx {
    vkmm_gpu *gpu;
    vkmm_ops *ops;
    test_rng rng;
    setting settings[2];
    size_t n_settings;
} ctx;

static void apply_setting(vkmm_ops *ops, const setting *s)
{
    vkmm_ops_set_tune(ops, VKMM_TUNE_ATTENTION_WORKGROUP, s->workgroup);
    vkmm_ops_set_tune(ops, VKMM_TUNE_ATTENTION_ROWS, s->rows);
    vkmm_ops_set_tune(ops, VKMM_TUNE_ATTENTION_KEYS, s->keys);
    vkmm_ops_set_tune(ops, VKMM_TUNE_ATTENTION_DECODE_WORKGROUP, s->decode_workgroup);
    vkmm_ops_set_tune(ops, VKMM_TUNE_ATTENTION_DECODE_KEYS, s->decode_keys);
    vkmm_ops_set_tune(ops, VKMM_TUNE_ATTENTION_SHARED_LIMIT, s->shared_limit);
    vkmm_ops_set_tune(ops, VKMM_TUNE_ATTENTION_MERGE_WORKGROUP, s->merge_workgroup);
    vkmm_ops_set_tune(ops, VKMM_TUNE_ATTENTION_MERGE_COLS, s->merge_cols);
}

/* Random cache contents for every slot that holds a position; NaN bytes in every other slot, so a kernel that
 * reads one shows it. */
static uint8_t *make_cache(ctx *c, const vkmm_kv_layout *kv, uint32_t kv_len)
{
    uint64_t row_bytes = vkmm_kv_row_bytes(kv), bytes = vkmm_kv_cache_bytes(kv);
    uint8_t *cache = malloc(bytes);
    float *x = malloc(kv->head_dim * sizeof(float));
    memset(cache, 0xff, bytes);
    for (uint32_t h = 0; h < kv->n_kv_head; h++)
        for (uint32_t s = 0; s < kv->capacity; s++) {
            int64_t pos;
            if (!ref_kv_slot_position(kv, kv_len, s, &pos))
                continue;
            test_fill_uniform(&c->rng, x, kv->head_dim, -1, 1);
            ref_kv_encode_row(kv, x, cache + ((uint64_t)h * kv->capacity + s) * row_bytes);
        }
    free(x);
    return cache;
}

/* Runs the op on uploaded copies of the inputs (q, K, V and spans at odd offsets) and downloads o. */
static bool run_gpu(ctx *c, const vkmm_attention_params *p, const float *q, const uint8_t *k, const uint8_t *v,
                    const uint32_t *spans, bool inplace, float *out)
{
    vkmm_error err;
    uint64_t qo_bytes = (uint64_t)p->n_q * p->n_head * p->kv.head_dim * 4, cache = vkmm_kv_cache_bytes(&p->kv);
    uint64_t scratch = vkmm_op_attention_scratch_bytes(c->ops, p);
    size_t kv_pad = p->kv.type == VKMM_F16 ? 32 : 36; /* Q8_0 caches need only 4-byte alignment */
    vkmm_attention_io io = {0};
    vkmm_buffer *bq = test_upload(c->gpu, q, qo_bytes, 12, &io.q);
    vkmm_buffer *bk = test_upload(c->gpu, k, cache, kv_pad, &io.k);
    vkmm_buffer *bv = test_upload(c->gpu, v, cache, 2 * kv_pad, &io.v);
    vkmm_buffer *bs = p->n_spans ? test_upload(c->gpu, spans, p->n_spans * 8, 4, &io.spans) : NULL;
    vkmm_buffer *bp = scratch ? test_upload(c->gpu, NULL, scratch, 32, &io.scratch) : NULL;
    vkmm_buffer *bo = inplace ? NULL : test_upload(c->gpu, NULL, qo_bytes, 20, &io.o);
    if (inplace)
        io.o = io.q;
    vkmm_cmd *cmd = NULL;
    bool ok = false;
    if (vkmm_cmd_create(c->gpu, 0, &cmd, &err) == VKMM_OK) {
        vkmm_status s = vkmm_op_attention(c->ops, cmd, p, &io, &err);
        if (!s)
            s = vkmm_cmd_submit(cmd, &err);
        CHECK(s == VKMM_OK, "attention: %s", err.msg);
        if (!s) {
            test_download(c->gpu, io.o, out);
            ok = true;
        }
    }
    vkmm_cmd_destroy(cmd);
    vkmm_buffer_destroy(bq);
    vkmm_buffer_destroy(bk);
    vkmm_buffer_destroy(bv);
    vkmm_buffer_destroy(bs);
    vkmm_buffer_destroy(bp);
    vkmm_buffer_destroy(bo);
    return ok;
}

static void check_case(ctx *c, const acase *t)
{
    vkmm_attention_params p = {
        .kv = {t->q8 ? VKMM_Q8_0 : VKMM_F16, t->n_kv, t->d, 0, t->ring},
        .n_q = t->n_q,
        .n_head = t->n_kv * t->group,
        .q_pos0 = t->pos0 < 0 ? t->kv_len - t->n_q : (uint32_t)t->pos0,
        .kv_len = t->kv_len,
        .causal = !t->bidir,
        .window = t->window,
        .n_spans = t->n_spans,
        .spans_in_window = t->spans_in_window,
        .scale = 3.0f / sqrtf((float)t->d), /* larger than 1/sqrt(d): peaked weights expose mask errors */
        .softcap = t->softcap,
        .n_split = t->split,
    };
    /* linear caches get spare (NaN) slots past kv_len */
    p.kv.capacity = t->ring ? t->ring + 3 : t->kv_len + 5;
    size_t n_out = (size_t)t->n_q * p.n_head * t->d, n_cache = (size_t)t->n_kv * p.kv.capacity * t->d;
    float *q = malloc(n_out * 4), *ref = malloc(n_out * 4), *out = malloc(n_out * 4), *out1 = malloc(n_out * 4);
    float *kf = malloc(n_cache * 4), *vf = malloc(n_cache * 4);
    test_fill_uniform(&c->rng, q, n_out, -1, 1);
    uint8_t *k = make_cache(c, &p.kv, t->kv_len), *v = make_cache(c, &p.kv, t->kv_len);
    ref_kv_decode(&p.kv, k, kf);
    ref_kv_decode(&p.kv, v, vf);
    ref_attention(&p, q, kf, vf, t->spans, ref);
    double ref_norm = 0;
    for (size_t i = 0; i < n_out; i++)
        ref_norm += (double)ref[i] * ref[i];

    if (t->bind_limit)
        vkmm_ops_set_tune(c->ops, VKMM_TUNE_ATTENTION_BIND_LIMIT, t->bind_limit);
    int64_t mm_rows = vkmm_ops_tune(c->ops, VKMM_TUNE_ATTENTION_MATMUL_ROWS);
    vkmm_ops_set_tune(c->ops, VKMM_TUNE_ATTENTION_MATMUL_ROWS, t->mm ? 8 : 0);
    CHECK(vkmm_op_attention_scratch_bytes(c->ops, &p) > 0 || !t->mm, "%s: the mat-mul path does not apply", t->name);
    for (size_t si = 0; si < c->n_settings; si++) {
        const setting *set = &c->settings[si];
        apply_setting(c->ops, set);
        if (!run_gpu(c, &p, q, k, v, t->spans, t->inplace, out))
            continue;
        double nmse = test_nmse(out, ref, n_out);
        CHECK(nmse <= NMSE_BOUND, "%s [%s, %u splits]: nmse %g", t->name, set->name,
              vkmm_op_attention_splits(c->ops, &p), nmse);
        if (ref_norm == 0) /* every row empty: exact zeros */
            CHECK(test_max_abs_diff(out, ref, n_out) == 0, "%s [%s]: rows without keys are not zero", t->name,
                  set->name);
        if (t->vs_unsplit) {
            vkmm_attention_params p1 = p;
            p1.n_split = 1;
            if (run_gpu(c, &p1, q, k, v, t->spans, t->inplace, out1)) {
                double nm1 = test_nmse(out1, ref, n_out), d = test_nmse(out, out1, n_out);
                CHECK(nm1 <= NMSE_BOUND, "%s [%s, unsplit]: nmse %g", t->name, set->name, nm1);
                CHECK(d <= 1e-11, "%s [%s]: split and unsplit differ, nmse %g", t->name, set->name, d);
            }
        }
    }
    vkmm_ops_set_tune(c->ops, VKMM_TUNE_ATTENTION_BIND_LIMIT, 0);
    vkmm_ops_set_tune(c->ops, VKMM_TUNE_ATTENTION_MATMUL_ROWS, mm_rows);
    apply_setting(c->ops, &c->settings[0]);
    free(q);
    free(ref);
    free(out);
    free(out1);
    free(kf);
    free(vf);
    free(k);
    free(v);
}

/* Source values that probe f16 rounding: ties, subnormals, overflow to inf, and ordinary values. */
static void fill_store_src(ctx *c, float *x, size_t n, bool q8)
{
    test_fill_uniform(&c->rng, x, n, -3, 3);
    if (q8) {
        for (size_t i = 0; i < 32 && i < n; i++)
            x[i] = 0; /* one all-zero block: scale 0, codes 0 */
        for (size_t i = 64; i < 96 && i < n; i++)
            x[i] *= 1e-3f;
        return;
    }
    for (size_t i = 0; i < n; i++) {
        if (i % 7 == 3)
            x[i] *= 2e-5f; /* subnormal halves */
        else if (i % 11 == 5)
            x[i] = (x[i] < 0 ? -1 : 1) * (60000.0f + 4000.0f * fabsf(x[i])); /* some round to inf */
        else if (i % 13 == 6) { /* exactly halfway between two halves */
            float h = vkmm_f16_to_f32(vkmm_f32_to_f16(x[i]));
            uint32_t u;
            memcpy(&u, &h, 4);
            u |= 0x1000;
            memcpy(&x[i], &u, 4);
        }
    }
}

static void check_kv_store(ctx *c, vkmm_dtype type, uint32_t d, uint32_t n_kv, uint32_t cap, uint32_t ring,
                           uint32_t pos0, uint32_t n, uint32_t bind_limit)
{
    vkmm_error err;
    vkmm_kv_layout kv = {type, n_kv, d, cap, ring, 0};
    uint64_t bytes = vkmm_kv_cache_bytes(&kv), row_bytes = vkmm_kv_row_bytes(&kv);
    size_t n_src = (size_t)n * n_kv * d;
    float *src = malloc(n_src * 4);
    uint8_t *want = malloc(bytes), *got = malloc(bytes);
    fill_store_src(c, src, n_src, type == VKMM_Q8_0);
    memset(want, 0xff, bytes); /* what test_upload's poison leaves in unwritten slots */
    ref_kv_store(&kv, src, pos0, n, want);
    vkmm_range S, C;
    vkmm_buffer *bs = test_upload(c->gpu, src, n_src * 4, 4, &S);
    vkmm_buffer *bc = test_upload(c->gpu, NULL, bytes, type == VKMM_F16 ? 16 : 6, &C);
    vkmm_cmd *cmd;
    CHECK_OK(vkmm_cmd_create(c->gpu, 0, &cmd, &err), &err, );
    /* a second cache takes the same rows as V in the same call (one dispatch, or two past the binding limit) */
    vkmm_range C2;
    vkmm_buffer *bc2 = test_upload(c->gpu, NULL, bytes, type == VKMM_F16 ? 8 : 2, &C2);
    uint8_t *got2 = malloc(bytes);
    vkmm_ops_set_tune(c->ops, VKMM_TUNE_ATTENTION_BIND_LIMIT, bind_limit);
    vkmm_kv_store_io io = {.src = S, .cache = C, .pos0 = pos0, .n = n, .src2 = S, .cache2 = C2};
    vkmm_status st = vkmm_op_kv_store_io(c->ops, cmd, &kv, &io, &err);
    vkmm_ops_set_tune(c->ops, VKMM_TUNE_ATTENTION_BIND_LIMIT, 0);
    CHECK_OK(st, &err, );
    CHECK_OK(vkmm_cmd_submit(cmd, &err), &err, );
    test_download(c->gpu, C2, got2);
    test_download(c->gpu, C, got);
    uint64_t pair_diff = 0;
    uint64_t bad = 0, codes_off = 0;
    for (uint64_t i = 0; i < bytes; i++) {
        if (got[i] == want[i])
            continue;
        uint64_t in_row = i % row_bytes;
        if (type == VKMM_Q8_0 && in_row % 34 >= 2) {
            int dq = (int)(int8_t)got[i] - (int)(int8_t)want[i];
            if (dq == 1 || dq == -1) { /* the GPU's 1/d may round a code the other way */
                codes_off++;
                continue;
            }
        } else if (type == VKMM_Q8_0 && in_row % 34 == 0 && i + 1 < bytes) {
            int gd = got[i] | got[i + 1] << 8, wd = want[i] | want[i + 1] << 8;
            if (gd - wd == 1 || gd - wd == -1) { /* amax/127 on the GPU may be one f32 ulp off */
                i++;
                continue;
            }
        }
        if (bad++ < 3)
            fprintf(stderr, "  byte %llu: got %02x want %02x\n", (unsigned long long)i, got[i], want[i]);
    }
    CHECK(bad == 0, "kv_store %s d=%u kv=%u cap=%u ring=%u pos0=%u n=%u: %llu bytes differ", type == VKMM_F16 ? "f16" : "q8_0",
          d, n_kv, cap, ring, pos0, n, (unsigned long long)bad);
    CHECK(codes_off * 100 <= (uint64_t)n_src, "kv_store q8_0: %llu of %zu codes off by one",
          (unsigned long long)codes_off, n_src);
    for (uint64_t i = 0; i < bytes; i++) /* the same source: the V cache is the K cache, byte for byte */
        pair_diff += got2[i] != got[i];
    CHECK(pair_diff == 0, "kv_store pair %s d=%u kv=%u ring=%u pos0=%u n=%u: V cache differs from K in %llu bytes",
          type == VKMM_F16 ? "f16" : "q8_0", d, n_kv, ring, pos0, n, (unsigned long long)pair_diff);
    vkmm_cmd_destroy(cmd);
    vkmm_buffer_destroy(bs);
    vkmm_buffer_destroy(bc);
    vkmm_buffer_destroy(bc2);
    free(got2);
    free(src);
    free(want);
    free(got);
}

/* kv_store writes a ring cache in two chunks, then attention reads it: the reference decodes the stored bytes. */
static void check_store_then_attend(ctx *c, vkmm_dtype type)
{
    vkmm_error err;
    vkmm_attention_params p = {
        .kv = {type, 2, 128, 48, 40}, .n_q = 16, .n_head = 4, .q_pos0 = 84, .kv_len = 100,
        .causal = true, .window = 24, .scale = 0.25f,
    };
    uint64_t bytes = vkmm_kv_cache_bytes(&p.kv);
    size_t row = (size_t)p.kv.n_kv_head * p.kv.head_dim, n_out = (size_t)p.n_q * p.n_head * p.kv.head_dim;
    float *kv_src = malloc(100 * row * 4 * 2), *q = malloc(n_out * 4), *ref = malloc(n_out * 4),
          *out = malloc(n_out * 4), *kf = malloc(bytes / 2 * 8), *vf = malloc(bytes / 2 * 8);
    uint8_t *kb = malloc(bytes), *vb = malloc(bytes);
    test_fill_uniform(&c->rng, kv_src, 100 * row * 2, -1, 1);
    test_fill_uniform(&c->rng, q, n_out, -1, 1);
    vkmm_attention_io io = {0};
    vkmm_range src;
    vkmm_buffer *bsrc = test_upload(c->gpu, kv_src, 100 * row * 4 * 2, 0, &src);
    vkmm_buffer *bk = test_upload(c->gpu, NULL, bytes, 0, &io.k), *bv = test_upload(c->gpu, NULL, bytes, 0, &io.v);
    vkmm_buffer *bq = test_upload(c->gpu, q, n_out * 4, 0, &io.q), *bo = test_upload(c->gpu, NULL, n_out * 4, 0, &io.o);
    uint64_t scratch = vkmm_op_attention_scratch_bytes(c->ops, &p);
    vkmm_buffer *bp = scratch ? test_upload(c->gpu, NULL, scratch, 0, &io.scratch) : NULL;
    vkmm_cmd *cmd;
    CHECK_OK(vkmm_cmd_create(c->gpu, 0, &cmd, &err), &err, );
    /* positions 60..83, then the chunk 84..99 the queries belong to (the ring keeps 60..99) */
    vkmm_range vsrc = vkmm_range_sub(src, 100 * row * 4, 100 * row * 4);
    for (int chunk = 0; chunk < 2; chunk++) {
        uint32_t pos0 = chunk ? 84 : 60, n = chunk ? 16 : 24;
        if (chunk == 0) {
            CHECK_OK(vkmm_op_kv_store(c->ops, cmd, &p.kv, vkmm_range_sub(src, pos0 * row * 4, n * row * 4), io.k, pos0,
                                      n, &err), &err, );
            CHECK_OK(vkmm_op_kv_store(c->ops, cmd, &p.kv, vkmm_range_sub(vsrc, pos0 * row * 4, n * row * 4), io.v, pos0,
                                      n, &err), &err, );
        } else { /* K and V in one dispatch, as the graph stores them */
            vkmm_kv_store_io kvio = {.src = vkmm_range_sub(src, pos0 * row * 4, n * row * 4), .cache = io.k,
                                     .pos0 = pos0, .n = n, .src2 = vkmm_range_sub(vsrc, pos0 * row * 4, n * row * 4),
                                     .cache2 = io.v};
            CHECK_OK(vkmm_op_kv_store_io(c->ops, cmd, &p.kv, &kvio, &err), &err, );
        }
    }
    CHECK_OK(vkmm_op_attention(c->ops, cmd, &p, &io, &err), &err, );
    CHECK_OK(vkmm_cmd_submit(cmd, &err), &err, );
    test_download(c->gpu, io.o, out);
    test_download(c->gpu, io.k, kb);
    test_download(c->gpu, io.v, vb);
    ref_kv_decode(&p.kv, kb, kf);
    ref_kv_decode(&p.kv, vb, vf);
    ref_attention(&p, q, kf, vf, NULL, ref);
    double nmse = test_nmse(out, ref, n_out);
    CHECK(nmse <= NMSE_BOUND, "store then attend (%s): nmse %g", type == VKMM_F16 ? "f16" : "q8_0", nmse);
    vkmm_cmd_destroy(cmd);
    vkmm_buffer_destroy(bsrc);
    vkmm_buffer_destroy(bk);
    vkmm_buffer_destroy(bv);
    vkmm_buffer_destroy(bq);
    vkmm_buffer_destroy(bo);
    vkmm_buffer_destroy(bp);
    free(kv_src);
    free(q);
    free(ref);
    free(out);
    free(kf);
    free(vf);
    free(kb);
    free(vb);
}

/* A pool of pages shared by three sequences (random page order, one with a sliding-window ring): each stores its
 * prompt through its page table, one sequence attends over its prompt (a paged prefill), then a batched decode
 * stores one new token per sequence and attends with one query row each. Every result against the reference
 * over the sequence's own (gathered) cache; pages no sequence owns hold NaN. */
static void check_paged_batch(ctx *c, vkmm_dtype type, uint32_t d, uint32_t n_kv, uint32_t group, bool ring)
{
    enum { P = 16, NP = 40, NS = 3, TABLE = 8 };
    const uint32_t len[NS] = {37, 70, 5}, window = ring ? 24 : 0, R = ring ? 48 : 0;
    vkmm_error err;
    vkmm_kv_layout pool = {type, n_kv, d, NP * P, R, P};
    uint32_t n_head = n_kv * group;
    size_t row = (size_t)n_kv * d, qrow = (size_t)n_head * d;
    uint32_t table[NS * TABLE] = {0}, order[NP];
    for (uint32_t i = 0; i < NP; i++)
        order[i] = i;
    for (uint32_t i = NP - 1; i > 0; i--) { /* a shuffled pool: neighbouring positions live far apart */
        uint32_t j = test_rand_u32(&c->rng) % (i + 1), t = order[i];
        order[i] = order[j], order[j] = t;
    }
    uint32_t used = 0;
    for (uint32_t s = 0; s < NS; s++) {
        uint32_t need = ring ? R / P : (len[s] + 1 + P - 1) / P;
        for (uint32_t k = 0; k < need; k++)
            table[s * TABLE + k] = order[used++];
    }
    uint64_t bytes = vkmm_kv_cache_bytes(&pool);
    vkmm_range K, V, T, SEQ, QB, OB, SRC, SCR;
    vkmm_buffer *bk = test_upload(c->gpu, NULL, bytes, type == VKMM_F16 ? 16 : 4, &K);
    vkmm_buffer *bv = test_upload(c->gpu, NULL, bytes, type == VKMM_F16 ? 16 : 4, &V);
    vkmm_buffer *bt = test_upload(c->gpu, table, sizeof table, 4, &T);
    size_t n_src = (size_t)(70 + 1) * row * 2 * NS;
    float *src = malloc(n_src * 4), *q = malloc(71 * qrow * 4), *out = malloc(71 * qrow * 4),
          *ref = malloc(71 * qrow * 4);
    test_fill_uniform(&c->rng, src, n_src, -1, 1);
    test_fill_uniform(&c->rng, q, 71 * qrow, -1, 1);
    vkmm_buffer *bs = test_upload(c->gpu, src, n_src * 4, 4, &SRC);
    vkmm_buffer *bq = test_upload(c->gpu, q, 71 * qrow * 4, 4, &QB), *bo = test_upload(c->gpu, NULL, 71 * qrow * 4, 4, &OB);
    vkmm_cmd *cmd;
    CHECK_OK(vkmm_cmd_create(c->gpu, 0, &cmd, &err), &err, );
    /* sequence s's K rows for positions 0..len: src + s·(71·2·row), V after them */
    for (uint32_t s = 0; s < NS; s++)
        for (uint32_t pos0 = 0; pos0 < len[s]; pos0 += P) {
            uint32_t n = len[s] - pos0 < P ? len[s] - pos0 : P;
            uint64_t base = (uint64_t)s * 71 * 2 * row * 4;
            vkmm_kv_store_io io = {.src = vkmm_range_sub(SRC, base + pos0 * row * 4, n * row * 4), .cache = K,
                                   .pos0 = pos0, .n = n, .pages = T, .pt_off = s * TABLE};
            CHECK_OK(vkmm_op_kv_store_io(c->ops, cmd, &pool, &io, &err), &err, );
            io.src = vkmm_range_sub(SRC, base + (71 + pos0) * row * 4, n * row * 4);
            io.cache = V;
            CHECK_OK(vkmm_op_kv_store_io(c->ops, cmd, &pool, &io, &err), &err, );
        }
    /* the batch's new tokens: rows len[s] of each sequence, gathered into one [NS][row] source per K and V */
    float *newk = malloc(NS * row * 4), *newv = malloc(NS * row * 4);
    vkmm_kv_seq seqs[NS];
    uint32_t longest = 0;
    for (uint32_t s = 0; s < NS; s++) {
        memcpy(newk + s * row, src + (size_t)s * 71 * 2 * row + len[s] * row, row * 4);
        memcpy(newv + s * row, src + (size_t)s * 71 * 2 * row + (71 + len[s]) * row, row * 4);
        seqs[s] = (vkmm_kv_seq){(int32_t)len[s], (int32_t)len[s] + 1, (int32_t)(s * TABLE), 0};
        longest = len[s] + 1 > longest ? len[s] + 1 : longest;
    }
    vkmm_range NK, NV;
    vkmm_buffer *bnk = test_upload(c->gpu, newk, NS * row * 4, 4, &NK), *bnv = test_upload(c->gpu, newv, NS * row * 4, 4, &NV);
    vkmm_buffer *bseq = test_upload(c->gpu, seqs, sizeof seqs, 4, &SEQ);
    vkmm_kv_store_io sio = {.src = NK, .cache = K, .n = NS, .pages = T, .seqs = SEQ};
    CHECK_OK(vkmm_op_kv_store_io(c->ops, cmd, &pool, &sio, &err), &err, );
    sio.src = NV;
    sio.cache = V;
    CHECK_OK(vkmm_op_kv_store_io(c->ops, cmd, &pool, &sio, &err), &err, );
    vkmm_attention_params bp = {.kv = pool, .n_q = NS, .n_head = n_head, .kv_len = longest, .causal = true,
                                .window = window, .scale = 0.3f, .batch = true};
    uint64_t scratch = vkmm_op_attention_scratch_bytes(c->ops, &bp);
    vkmm_buffer *bscr = test_upload(c->gpu, NULL, scratch ? scratch : 16, 16, &SCR);
    vkmm_attention_io aio = {.q = QB, .k = K, .v = V, .scratch = SCR, .o = OB, .pages = T, .seqs = SEQ};
    CHECK_OK(vkmm_op_attention(c->ops, cmd, &bp, &aio, &err), &err, );
    CHECK_OK(vkmm_cmd_submit(cmd, &err), &err, );
    test_download(c->gpu, OB, out);
    /* the reference: each sequence's cache gathered from the pool through its table */
    uint8_t *kb = malloc(bytes), *vb = malloc(bytes);
    test_download(c->gpu, K, kb);
    test_download(c->gpu, V, vb);
    uint64_t rb = vkmm_kv_row_bytes(&pool);
    for (uint32_t s = 0; s < NS; s++) {
        vkmm_kv_layout lay = {type, n_kv, d, ring ? R : len[s] + 1, R, 0};
        uint64_t lbytes = vkmm_kv_cache_bytes(&lay);
        uint8_t *lk = malloc(lbytes), *lv = malloc(lbytes);
        float *kf = malloc(lbytes / rb * d * 4 + 4), *vf = malloc(lbytes / rb * d * 4 + 4);
        memset(lk, 0xff, lbytes);
        memset(lv, 0xff, lbytes);
        for (uint32_t pos = ring && len[s] + 1 > R ? len[s] + 1 - R : 0; pos <= len[s]; pos++) {
            uint32_t r = ring ? pos % R : pos, phys = table[s * TABLE + r / P] * P + r % P;
            for (uint32_t h = 0; h < n_kv; h++) {
                memcpy(lk + ((uint64_t)h * lay.capacity + r) * rb, kb + ((uint64_t)h * pool.capacity + phys) * rb, rb);
                memcpy(lv + ((uint64_t)h * lay.capacity + r) * rb, vb + ((uint64_t)h * pool.capacity + phys) * rb, rb);
            }
        }
        ref_kv_decode(&lay, lk, kf);
        ref_kv_decode(&lay, lv, vf);
        vkmm_attention_params rp = {.kv = lay, .n_q = 1, .n_head = n_head, .q_pos0 = len[s], .kv_len = len[s] + 1,
                                    .causal = true, .window = window, .scale = 0.3f};
        ref_attention(&rp, q + s * qrow, kf, vf, NULL, ref);
        double nmse = test_nmse(out + s * qrow, ref, qrow);
        CHECK(nmse <= NMSE_BOUND, "paged batch %s d=%u kv=%u group=%u %s: sequence %u (length %u) nmse %g",
              type == VKMM_F16 ? "f16" : "q8_0", d, n_kv, group, ring ? "ring" : "linear", s, len[s], nmse);
        free(lk), free(lv), free(kf), free(vf);
    }
    /* a paged prefill of sequence 1 over its whole prompt: rows 0..70 attend through the same page table */
    if (!ring) {
        vkmm_attention_params pp = {.kv = pool, .n_q = 71, .n_head = n_head, .kv_len = 71, .causal = true,
                                    .scale = 0.3f, .pt_off = 1 * TABLE};
        uint64_t ps = vkmm_op_attention_scratch_bytes(c->ops, &pp);
        vkmm_range PS;
        vkmm_buffer *bps = test_upload(c->gpu, NULL, ps ? ps : 16, 16, &PS);
        vkmm_attention_io pio = {.q = QB, .k = K, .v = V, .scratch = PS, .o = OB, .pages = T};
        vkmm_cmd *cmd2;
        CHECK_OK(vkmm_cmd_create(c->gpu, 0, &cmd2, &err), &err, );
        CHECK_OK(vkmm_op_attention(c->ops, cmd2, &pp, &pio, &err), &err, );
        CHECK_OK(vkmm_cmd_submit(cmd2, &err), &err, );
        vkmm_cmd_destroy(cmd2);
        test_download(c->gpu, OB, out);
        vkmm_kv_layout lay = {type, n_kv, d, 71, 0, 0};
        uint64_t lbytes = vkmm_kv_cache_bytes(&lay);
        uint8_t *lk = malloc(lbytes), *lv = malloc(lbytes);
        float *kf = malloc(71 * row * 4), *vf = malloc(71 * row * 4);
        for (uint32_t pos = 0; pos < 71; pos++) {
            uint32_t phys = table[1 * TABLE + pos / P] * P + pos % P;
            for (uint32_t h = 0; h < n_kv; h++) {
                memcpy(lk + ((uint64_t)h * 71 + pos) * rb, kb + ((uint64_t)h * pool.capacity + phys) * rb, rb);
                memcpy(lv + ((uint64_t)h * 71 + pos) * rb, vb + ((uint64_t)h * pool.capacity + phys) * rb, rb);
            }
        }
        ref_kv_decode(&lay, lk, kf);
        ref_kv_decode(&lay, lv, vf);
        vkmm_attention_params rp = pp;
        rp.kv = lay;
        rp.pt_off = 0;
        ref_attention(&rp, q, kf, vf, NULL, ref);
        double nmse = test_nmse(out, ref, 71 * qrow);
        CHECK(nmse <= NMSE_BOUND, "paged prefill %s d=%u: nmse %g", type == VKMM_F16 ? "f16" : "q8_0", d, nmse);
        free(lk), free(lv), free(kf), free(vf);
        vkmm_buffer_destroy(bps);
    }
    vkmm_cmd_destroy(cmd);
    vkmm_buffer *bufs[] = {bk, bv, bt, bs, bq, bo, bnk, bnv, bseq, bscr};
    for (size_t i = 0; i < sizeof bufs / sizeof *bufs; i++)
        vkmm_buffer_destroy(bufs[i]);
    free(src), free(q), free(out), free(ref), free(newk), free(newv), free(kb), free(vb);
}

/* Bad calls fail with a status and a message, record nothing and never crash. */
static void check_errors(ctx *c)
{
    vkmm_error err;
    vkmm_buffer *b;
    CHECK_OK(vkmm_buffer_create(c->gpu, 1 << 20, VKMM_MEM_DEVICE, "errors", &b, &err), &err, );
    vkmm_range r = vkmm_range_whole(b);
    vkmm_attention_io io = {.q = r, .k = r, .v = r, .spans = r, .scratch = r, .o = r};
    vkmm_cmd *cmd;
    CHECK_OK(vkmm_cmd_create(c->gpu, 0, &cmd, &err), &err, );
    vkmm_attention_params ok = {.kv = {VKMM_F16, 2, 64, 64, 0}, .n_q = 4, .n_head = 4, .kv_len = 10, .scale = 1};
    vkmm_attention_params p = ok;
    p.kv.type = VKMM_Q8_0;
    p.kv.head_dim = 72;
    CHECK(vkmm_op_attention(c->ops, cmd, &p, &io, &err) == VKMM_ERR_UNSUPPORTED, "Q8_0 at head_dim 72 accepted");
    p = ok;
    p.kv.head_dim = 96;
    CHECK(vkmm_op_attention(c->ops, cmd, &p, &io, &err) == VKMM_ERR_UNSUPPORTED, "head_dim 96 accepted");
    p = ok;
    p.n_head = 5;
    CHECK(vkmm_op_attention(c->ops, cmd, &p, &io, &err) == VKMM_ERR_INVALID_ARG, "5 heads over 2 KV heads accepted");
    p = ok;
    p.kv_len = 65;
    CHECK(vkmm_op_attention(c->ops, cmd, &p, &io, &err) == VKMM_ERR_INVALID_ARG, "kv_len past a linear cache accepted");
    p = ok;
    p.n_spans = 65;
    CHECK(vkmm_op_attention(c->ops, cmd, &p, &io, &err) == VKMM_ERR_INVALID_ARG, "65 spans accepted");
    p = ok;
    p.softcap = -1;
    CHECK(vkmm_op_attention(c->ops, cmd, &p, &io, &err) == VKMM_ERR_INVALID_ARG, "negative softcap accepted");
    vkmm_attention_io bad = io;
    bad.k = vkmm_range_sub(r, 4, r.size - 4);
    CHECK(vkmm_op_attention(c->ops, cmd, &ok, &bad, &err) == VKMM_ERR_INVALID_ARG, "misaligned F16 cache accepted");
    bad = io;
    bad.scratch = vkmm_range_sub(r, 4, r.size - 4);
    p = ok;
    p.n_split = 2; /* the merge reads the scratch as vec4s */
    CHECK(vkmm_op_attention(c->ops, cmd, &p, &bad, &err) == VKMM_ERR_INVALID_ARG, "misaligned scratch accepted");
    bad = io;
    bad.q = vkmm_range_sub(r, 0, 100);
    CHECK(vkmm_op_attention(c->ops, cmd, &ok, &bad, &err) == VKMM_ERR_INVALID_ARG, "short q range accepted");
    vkmm_kv_layout kv = {VKMM_F16, 2, 64, 64, 16, 0};
    CHECK(vkmm_op_kv_store(c->ops, cmd, &kv, r, r, 0, 17, &err) == VKMM_ERR_INVALID_ARG, "17 rows into a ring of 16");
    kv.ring = 0;
    CHECK(vkmm_op_kv_store(c->ops, cmd, &kv, r, r, 60, 5, &err) == VKMM_ERR_INVALID_ARG, "rows past a linear cache");
    kv.type = VKMM_Q8_0;
    kv.head_dim = 72;
    CHECK(vkmm_op_kv_store(c->ops, cmd, &kv, r, r, 0, 1, &err) == VKMM_ERR_UNSUPPORTED, "Q8_0 rows of 72 accepted");
    kv.head_dim = 64;
    kv.type = VKMM_Q4_0;
    CHECK(vkmm_op_kv_store(c->ops, cmd, &kv, r, r, 0, 1, &err) == VKMM_ERR_UNSUPPORTED, "Q4_0 cache accepted");
    CHECK(vkmm_cmd_dispatch_count(cmd) == 0, "a failed call recorded %u dispatches", vkmm_cmd_dispatch_count(cmd));
    /* the list still works after failed calls (and a submitted list can be destroyed) */
    kv.type = VKMM_F16;
    CHECK_OK(vkmm_op_kv_store(c->ops, cmd, &kv, vkmm_range_sub(r, 0, r.size / 2), vkmm_range_sub(r, r.size / 2, r.size / 2), 0,
                              5, &err), &err, );
    CHECK_OK(vkmm_cmd_submit(cmd, &err), &err, );
    vkmm_cmd_destroy(cmd);
    vkmm_buffer_destroy(b);
}

/* Exact figures for a tiny causal call, and the split count rule. */
static void check_cost_and_splits(ctx *c)
{
    vkmm_attention_params p = {.kv = {VKMM_F16, 1, 64, 8, 0}, .n_q = 4, .n_head = 2, .kv_len = 4, .causal = true,
                               .scale = 1};
    uint64_t bytes, flops;
    vkmm_op_attention_cost(&p, &bytes, &flops);
    /* 1+2+3+4 allowed keys per head; Q and O 2·4·2·64·4 bytes; K and V 4 rows of 128 bytes each */
    CHECK(flops == 4ull * 10 * 2 * 64, "cost: %llu flops", (unsigned long long)flops);
    CHECK(bytes == 4096 + 1024, "cost: %llu bytes", (unsigned long long)bytes);

    int64_t groups = vkmm_ops_tune(c->ops, VKMM_TUNE_ATTENTION_SPLIT_GROUPS);
    int64_t min_keys = vkmm_ops_tune(c->ops, VKMM_TUNE_ATTENTION_SPLIT_MIN_KEYS);
    vkmm_ops_set_tune(c->ops, VKMM_TUNE_ATTENTION_SPLIT_GROUPS, 64);
    vkmm_ops_set_tune(c->ops, VKMM_TUNE_ATTENTION_SPLIT_MIN_KEYS, 100);
    vkmm_attention_params d = {.kv = {VKMM_F16, 2, 128, 4096, 0}, .n_q = 1, .n_head = 8, .q_pos0 = 999,
                               .kv_len = 1000, .causal = true, .scale = 1};
    uint32_t ns = vkmm_op_attention_splits(c->ops, &d);
    CHECK(ns == 10, "decode over 1000 keys, 2 groups: %u splits (want 10: 100 keys each)", ns);
    CHECK(vkmm_op_attention_scratch_bytes(c->ops, &d) == 1ull * 8 * ns * 132 * 4, "scratch bytes");
    d.window = 150;
    ns = vkmm_op_attention_splits(c->ops, &d);
    CHECK(ns == 2, "decode in a window of 150: %u splits", ns);
    d.window = 0;
    d.n_q = 5; /* prefill chunks never split on their own (their scratch would grow with n_q) */
    d.q_pos0 = 995;
    ns = vkmm_op_attention_splits(c->ops, &d);
    CHECK(ns == 1 && vkmm_op_attention_scratch_bytes(c->ops, &d) == 0, "prefill of 5 rows: %u splits", ns);
    d.n_split = 3; /* ... unless asked */
    CHECK(vkmm_op_attention_splits(c->ops, &d) == 3, "forced split of a prefill");
    vkmm_ops_set_tune(c->ops, VKMM_TUNE_ATTENTION_SPLIT_GROUPS, groups);
    vkmm_ops_set_tune(c->ops, VKMM_TUNE_ATTENTION_SPLIT_MIN_KEYS, min_keys);
}

/* name, head_dim, KV heads, GQA ratio, n_q, kv_len, q_pos0 (-1: kv_len - n_q) */
#define C(name_, d_, kv_, g_, nq_, len_, pos_) \
    .name = name_, .d = d_, .n_kv = kv_, .group = g_, .n_q = nq_, .kv_len = len_, .pos0 = pos_
static const acase cases[] = {
    /* causal over every head dim, GQA 1/2/4/8, n_q 1/7/33/130, kv_len 1/17/300/1100 */
    {C("d64 g1 decode", 64, 2, 1, 1, 1, -1)},
    {C("d64 g2 prefill", 64, 1, 2, 7, 17, -1)},
    {C("d64 g4", 64, 1, 4, 33, 300, -1)},
    {C("d64 g8", 64, 1, 8, 130, 1100, -1)},
    {C("d72 g1", 72, 2, 1, 7, 300, -1)},
    {C("d72 g2", 72, 1, 2, 33, 1100, -1)},
    {C("d72 g4 decode", 72, 1, 4, 1, 17, -1)},
    {C("d72 g8", 72, 1, 8, 130, 300, -1)},
    {C("d128 g1", 128, 2, 1, 33, 17, 0)},
    {C("d128 g2", 128, 1, 2, 130, 300, -1)},
    {C("d128 g4 decode", 128, 2, 4, 1, 1100, -1)},
    {C("d128 g8", 128, 1, 8, 7, 1, 0)},
    {C("d256 g1", 256, 1, 1, 130, 1100, -1)},
    {C("d256 g2", 256, 2, 2, 1, 300, -1)},
    {C("d256 g4", 256, 1, 4, 7, 17, -1)},
    {C("d256 g8", 256, 1, 8, 33, 300, -1)},
    /* Gemma 4's full layers: heads of 512 (GQA 8 as the 31B, a split decode, a Q8_0 cache) */
    {C("d512 g8", 512, 1, 8, 33, 300, -1)},
    {C("d512 g2 decode split", 512, 2, 2, 1, 1100, -1), .vs_unsplit = true},
    {C("q8 d512 window", 512, 1, 4, 7, 60, -1), .window = 40, .q8 = true},
    /* sliding windows: the Gemma local layer (window 1024, prompt past it), a short window over a long prompt */
    {C("d256 local layer", 256, 2, 2, 130, 1100, -1), .window = 1024},
    {C("d128 window 50", 128, 1, 2, 130, 130, 0), .window = 50},
    /* rings: kv_len > R, window + chunk slots; decode in a ring with splits */
    {C("d256 ring 1088", 256, 1, 2, 64, 1100, -1), .window = 1024, .ring = 1088},
    {C("d128 ring 40", 128, 1, 4, 16, 300, -1), .window = 24, .ring = 40},
    {C("d64 ring decode split", 64, 2, 1, 1, 1100, -1), .window = 20, .ring = 33, .split = 3, .vs_unsplit = true},
    /* bidirectional spans inside causal sequences (an image), with and without a window */
    {C("d256 span + window", 256, 1, 2, 130, 130, 0), .window = 40, .n_spans = 1, .spans = {20, 84}},
    {C("d128 two spans", 128, 1, 4, 130, 130, 0), .n_spans = 2, .spans = {5, 30, 60, 120}},
    {C("d64 span past kv_len", 64, 1, 2, 33, 73, 40), .n_spans = 1, .spans = {30, 90}},
    {C("d128 decode after span", 128, 1, 4, 1, 101, -1), .n_spans = 1, .spans = {20, 84}},
    /* Gemma 4's sliding layers: an image longer than the window sees its later rows but not past the window */
    {C("d72 span in window", 72, 1, 2, 130, 130, 0), .window = 40, .n_spans = 2, .spans = {10, 100, 110, 125},
     .spans_in_window = true},
    {C("d256 span in window ring", 256, 1, 2, 64, 300, -1), .window = 24, .ring = 88, .n_spans = 1,
     .spans = {240, 290}, .spans_in_window = true},
    /* vision encoders: fully bidirectional */
    {C("d72 bidirectional", 72, 3, 1, 300, 300, 0), .bidir = true},
    {C("d64 bidirectional", 64, 1, 2, 130, 130, 0), .bidir = true},
    /* ... as two mat-muls and a softmax per head (lavapipe's path for long rows): GQA, o over q */
    {C("d72 bidirectional mm", 72, 2, 2, 256, 256, 0), .bidir = true, .mm = true},
    {C("d64 bidirectional mm in place", 64, 1, 4, 136, 136, 0), .bidir = true, .mm = true, .inplace = true},
    {C("d128 bidirectional mm", 128, 3, 1, 64, 64, 0), .bidir = true, .mm = true},
    /* soft-capping */
    {C("d128 softcap", 128, 1, 2, 33, 300, -1), .softcap = 1.5f},
    {C("d256 softcap decode split", 256, 1, 2, 1, 1100, -1), .softcap = 2.0f, .split = 4},
    /* Q8_0 caches */
    {C("q8 d64", 64, 1, 4, 33, 300, -1), .q8 = true},
    {C("q8 d128 decode split", 128, 2, 4, 1, 1100, -1), .q8 = true, .split = 7, .vs_unsplit = true},
    {C("q8 d256 ring", 256, 1, 2, 16, 300, -1), .window = 24, .ring = 40, .q8 = true},
    {C("q8 d256 bidirectional", 256, 1, 1, 17, 17, 0), .bidir = true, .q8 = true},
    /* splits: the op's own choice, prefill rows split too, more splits than tiles */
    {C("d128 decode auto split", 128, 1, 4, 1, 1100, -1), .vs_unsplit = true},
    {C("d64 prefill split", 64, 1, 2, 7, 300, -1), .split = 3, .vs_unsplit = true},
    {C("d64 split past tiles GQA 8", 64, 1, 8, 1, 17, -1), .split = 9, .vs_unsplit = true},
    {C("d72 128 splits", 72, 1, 2, 2, 1100, -1), .split = 128, .vs_unsplit = true},
    /* rows with no allowed key: zeros, split or not */
    {C("no keys (window)", 64, 1, 2, 7, 17, 500), .window = 100},
    {C("no keys split", 128, 1, 4, 1, 17, 500), .window = 100, .split = 4},
    {C("empty cache", 64, 1, 1, 7, 0, 0)},
    /* o written over q; dispatches cut by a small binding limit (rows and KV heads) */
    {C("d64 in place", 64, 2, 2, 33, 300, -1), .inplace = true},
    {C("d64 cut dispatches", 64, 4, 2, 130, 300, -1), .bind_limit = 80000},
    {C("d64 cut split", 64, 4, 2, 33, 300, -1), .split = 3, .bind_limit = 80000},
};

int main(void)
{
    vkmm_error err;
    ctx c = {.gpu = test_gpu_open(NULL), .rng = test_rng_seed(7)};
    CHECK_OK(vkmm_ops_create(c.gpu, NULL, &c.ops, &err), &err, 1);
    c.settings[0] = (setting){"tuned", vkmm_ops_tune(c.ops, VKMM_TUNE_ATTENTION_WORKGROUP),
                              vkmm_ops_tune(c.ops, VKMM_TUNE_ATTENTION_ROWS), vkmm_ops_tune(c.ops, VKMM_TUNE_ATTENTION_KEYS),
                              vkmm_ops_tune(c.ops, VKMM_TUNE_ATTENTION_DECODE_WORKGROUP),
                              vkmm_ops_tune(c.ops, VKMM_TUNE_ATTENTION_DECODE_KEYS), 0,
                              vkmm_ops_tune(c.ops, VKMM_TUNE_ATTENTION_MERGE_WORKGROUP),
                              vkmm_ops_tune(c.ops, VKMM_TUNE_ATTENTION_MERGE_COLS)};
    c.settings[1] = (setting){"small", 32, 6, 12, 32, 20, 16384, 32, 5};
    const char *only = getenv("VKMM_TEST_SETTINGS");
    c.n_settings = only && !strcmp(only, "tuned") ? 1 : 2;
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++)
        check_case(&c, &cases[i]);
    check_store_then_attend(&c, VKMM_F16);
    check_store_then_attend(&c, VKMM_Q8_0);
    check_kv_store(&c, VKMM_F16, 64, 3, 20, 0, 5, 7, 0);
    check_kv_store(&c, VKMM_F16, 72, 2, 20, 16, 13, 9, 0);
    check_kv_store(&c, VKMM_F16, 256, 1, 12, 0, 0, 12, 0);
    check_kv_store(&c, VKMM_F16, 512, 2, 12, 0, 3, 5, 0);
    check_kv_store(&c, VKMM_F16, 128, 5, 30, 0, 3, 4, 20000); /* heads cut across dispatches */
    check_kv_store(&c, VKMM_Q8_0, 64, 3, 20, 0, 5, 7, 0);
    check_kv_store(&c, VKMM_Q8_0, 256, 2, 20, 16, 13, 9, 0);
    check_kv_store(&c, VKMM_Q8_0, 128, 4, 10, 0, 1, 1, 3000); /* 2 heads per dispatch */
    for (int k = 0; k < 2; k++) { /* both specialization settings */
        apply_setting(c.ops, &c.settings[k]);
        check_paged_batch(&c, VKMM_F16, 128, 2, 4, false);
        check_paged_batch(&c, VKMM_F16, 64, 1, 2, true);
        check_paged_batch(&c, VKMM_Q8_0, 256, 2, 2, false);
        check_paged_batch(&c, VKMM_Q8_0, 128, 1, 8, true);
    }
    apply_setting(c.ops, &c.settings[0]);
    check_errors(&c);
    check_cost_and_splits(&c);
    vkmm_ops_destroy(c.ops);
    test_gpu_close(c.gpu);
    return test_finish("attention");
}
