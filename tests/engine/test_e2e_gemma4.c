/* tests/engine/test_e2e_gemma4.c — Gemma 4's text path on tiny synthetic models of each shape family, written by
 * vkmm-dev synth (Gemma 3's tokenizer as a "gemma4" vocabulary with Gemma 4's control tokens): E2B/E4B style
 * (per-layer inputs, shared KV on the last layers, a wider FFN there), 31B style (full layers of head 512 with
 * K = V, KV heads per layer) and 26B-A4B style (experts beside the dense FFN). The logits of every prompt
 * position and of every generated step must match the float64 reference (tests/ref/ref_gemma4.c) within a bound,
 * for a chat prompt longer than the sliding window prefilled in chunks; greedy tokens must match wherever the
 * reference's top-1 margin is clear. The prompt's ids are checked against Gemma 4's control tokens. The MoE
 * family's routing is checked on its own too: the router ops on the residuals the reference's router read must
 * pick the reference's experts at every position and layer (where its k-th and next logits are not within 1e-4). */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"
#include "dtype_table.h"
#include "elementwise.h"
#include "matmul.h"
#include "moe.h"
#include "norm.h"
#include "ref/ref_load.h"
#include "synth.h"
#include "vkmm.h"

#include "e2e_common.h"

/* NMSE of a whole logit row against the reference (measured on lavapipe: see the README) */
#define BOUND 1e-6

static const char prompt[] = "<|turn>system\nYou answer briefly.<turn|>\n<|turn>user\nThe quick brown fox jumps over "
                             "the lazy dog while seven wizards quietly hex the jolly jukebox in Zürich. Then the dog, "
                             "unimpressed, recites the first twelve digits of pi: 3.14159265358. Why?<turn|>\n"
                             "<|turn>model\n";

/* The reference router's logit of every expert for residual x (double precision, as ref_gemma4.c's moe()). */
static void router_logits(const ref_gemma4 *m, const ref_gemma4_layer *L, const float *x, double *lg)
{
    uint32_t H = m->n_embd;
    double ss = 0;
    for (uint32_t i = 0; i < H; i++)
        ss += (double)x[i] * x[i];
    double r = 1.0 / sqrt(ss / H + m->eps);
    for (uint32_t e = 0; e < m->n_expert; e++) {
        double s = 0;
        for (uint32_t i = 0; i < H; i++)
            s += (double)L->router[(size_t)e * H + i] * x[i] * r * L->router_scale[i] / sqrt((double)H);
        lg[e] = s;
    }
}

/* The runtime's router ops (RMSNorm, scale, matmul, moe_route) on the residuals the reference's router read, for
 * every MoE layer: the chosen experts must be the reference's wherever its choice is clear. */
static void check_routing(const ref_gemma4 *m, const float *router_in, const int32_t *experts, uint32_t n,
                          const char *what)
{
    vkmm_error err;
    vkmm_gpu *gpu = test_gpu_open(NULL);
    vkmm_ops *ops;
    CHECK_OK(vkmm_ops_create(gpu, NULL, &ops, &err), &err, );
    uint32_t H = m->n_embd, E = m->n_expert, K = m->n_used, checked = 0, unclear = 0, differ = 0;
    float *x = malloc(sizeof *x * n * H);
    int32_t *ids = malloc(sizeof *ids * n * K);
    double *lg = malloc(sizeof *lg * E);
    for (uint32_t l = 0; l < m->n_layer; l++) {
        const ref_gemma4_layer *L = &m->layers[l];
        if (!L->router)
            continue;
        for (uint32_t p = 0; p < n; p++)
            memcpy(x + (size_t)p * H, router_in + ((size_t)p * m->n_layer + l) * H, sizeof *x * H);
        vkmm_range X, R, W, S, ES, LG, I, WT;
        vkmm_buffer *b[8] = {
            test_upload(gpu, x, 4ull * n * H, 0, &X), test_upload(gpu, NULL, 4ull * n * H, 0, &R),
            test_upload(gpu, L->router, 4ull * E * H, 0, &W), test_upload(gpu, L->router_scale, 4ull * H, 0, &S),
            test_upload(gpu, L->expert_scale, 4ull * E, 0, &ES), test_upload(gpu, NULL, 4ull * n * E, 0, &LG),
            test_upload(gpu, NULL, 4ull * n * K, 0, &I), test_upload(gpu, NULL, 4ull * n * K, 0, &WT)};
        vkmm_weight w;
        vkmm_cmd *cmd;
        CHECK_OK(vkmm_weight_view(ops, W, VKMM_F32, H, E, &w, &err), &err, );
        CHECK_OK(vkmm_cmd_create(gpu, 0, &cmd, &err), &err, );
        CHECK_OK(vkmm_op_rms_norm(ops, cmd, X, (vkmm_range){0}, R, n, H, m->eps, &err), &err, );
        CHECK_OK(vkmm_op_mul(ops, cmd, R, S, R, n * H, H, &err), &err, );
        CHECK_OK(vkmm_op_scale(ops, cmd, R, R, n * H, 1.0f / sqrtf((float)H), &err), &err, );
        CHECK_OK(vkmm_op_matmul(ops, cmd, &w, R, H, LG, E, n, &err), &err, );
        CHECK_OK(vkmm_op_moe_route(ops, cmd, LG, E, n, E, K, ES, I, WT, &err), &err, );
        CHECK_OK(vkmm_cmd_submit(cmd, &err), &err, );
        vkmm_cmd_destroy(cmd);
        test_download(gpu, I, ids);
        for (uint32_t p = 0; p < n; p++) {
            /* the reference's margin between its k-th choice and the best expert left out */
            router_logits(m, L, x + (size_t)p * H, lg);
            const int32_t *want = experts + ((size_t)p * m->n_layer + l) * K;
            double kth = INFINITY, out = -INFINITY;
            for (uint32_t e = 0; e < E; e++) {
                bool in = false;
                for (uint32_t j = 0; j < K; j++)
                    in |= want[j] == (int32_t)e;
                if (in)
                    kth = lg[e] < kth ? lg[e] : kth;
                else
                    out = lg[e] > out ? lg[e] : out;
            }
            if (kth - out < 1e-4) {
                unclear++;
                continue;
            }
            checked++;
            bool same = true; /* the same set: the reference lists it ascending, the GPU by weight */
            for (uint32_t j = 0; j < K; j++) {
                bool found = false;
                for (uint32_t i = 0; i < K; i++)
                    found |= ids[p * K + i] == want[j];
                same &= found;
            }
            differ += !same;
        }
        for (int i = 0; i < 8; i++)
            vkmm_buffer_destroy(b[i]);
    }
    printf("%-28s routing: %u choices as the reference's, %u differ, %u within 1e-4 (not compared)\n", what,
           checked - differ, differ, unclear);
    CHECK(checked > 0 && differ == 0, "%s: %u of %u routings differ from the reference's", what, differ, checked);
    free(x), free(ids), free(lg);
    vkmm_ops_destroy(ops);
    test_gpu_close(gpu);
}

static void run(const char *tok_json, const char *dir, const char *size, vkmm_dtype type)
{
    char path[512];
    snprintf(path, sizeof path, "%s/gemma4-%s-%s.gguf", dir, size, vkmm_dtype_get(type)->name);
    vkmm_error err;
    vkmm_synth_opts so = {.arch = "gemma4", .size = size, .type = type, .vision_type = VKMM_F16,
                          .tokenizer = tok_json, .seed = 11, .out = path};
    CHECK_OK(vkmm_synth(&so, &err), &err, );
    vkmm_model_params mp = {.model_path = path, .validation = 1, .chat_template = "gemma4"};
    vkmm_model *m;
    CHECK_OK(vkmm_model_load(&mp, &m, &err), &err, );
    vkmm_gguf *gg;
    CHECK_OK(vkmm_gguf_open(path, &gg, &err), &err, );
    ref_arena arena = {0};
    ref_gemma4 rm;
    CHECK(ref_load_gemma4(gg, &rm, &arena), "reference model %s", size);
    uint32_t V = rm.n_vocab, NT = vkmm_model_get_info(m).n_vocab;

    vkmm_session_params sp = {.n_ctx = 256, .n_batch = 16, .all_logits = true};
    vkmm_session *s;
    CHECK_OK(vkmm_session_create(m, &sp, &s, &err), &err, );
    CHECK_OK(vkmm_session_add_text(s, prompt, true, &err), &err, );
    vkmm_sampling greedy = {.temperature = 0, .top_p = 1, .repeat_penalty = 1, .ignore_eog = true};
    gen g = {0};
    CHECK_OK(vkmm_session_generate(s, &greedy, 6, collect, &g, &err), &err, );
    int32_t ids[256];
    uint32_t n_prompt;
    CHECK_OK(vkmm_model_tokenize(m, prompt, true, true, ids, 200, &n_prompt, &err), &err, );
    /* BOS, then Gemma 4's turn markers at their ids */
    CHECK(n_prompt > 48 && ids[0] == 2 && ids[1] == 105 && ids[n_prompt - 3] == 105 && ids[n_prompt - 1] == 107,
          "%s: prompt of %u ids starts %d %d, ends %d %d %d", size, n_prompt, ids[0], ids[1], ids[n_prompt - 3],
          ids[n_prompt - 2], ids[n_prompt - 1]);
    uint32_t n = n_prompt + g.n - 1;
    for (uint32_t i = 0; i + 1 < g.n; i++)
        ids[n_prompt + i] = g.ids[i];
    ref_item items[256];
    for (uint32_t i = 0; i < n; i++)
        items[i] = (ref_item){ids[i], NULL};
    float *ref = malloc(sizeof *ref * (size_t)V * n);
    int32_t *experts = rm.n_expert ? malloc(sizeof *experts * n * rm.n_layer * rm.n_used) : NULL;
    float *router_in = rm.n_expert ? malloc(sizeof *router_in * n * rm.n_layer * rm.n_embd) : NULL;
    ref_gemma4_forward(&rm, items, n, NULL, 0, true, ref, experts, router_in);
    uint32_t rows;
    const float *gpu = vkmm_session_logits(s, &rows);
    CHECK(rows == n, "%u logit rows, expected %u", rows, n);
    char what[64];
    snprintf(what, sizeof what, "gemma4 %s %s", size, vkmm_dtype_get(type)->name);
    double e = rows == n ? compare(gpu, ref, n, V, NT, &g, n_prompt, what) : INFINITY;
    printf("%-28s worst row NMSE %.3g over %u positions\n", what, e, n);
    CHECK(e < BOUND, "%s: logits differ from the reference (NMSE %g)", what, e);
    if (experts)
        check_routing(&rm, router_in, experts, n, what);
    vkmm_session_free(s);
    free(ref);
    free(experts);
    free(router_in);
    vkmm_model_free(m);
    vkmm_gguf_close(gg);
    free(rm.layers);
    ref_arena_free(&arena);
    unlink(path);
}

int main(int argc, char **argv)
{
    if (argc < 2 || access(argv[1], R_OK)) {
        fprintf(stderr, "FAIL: the Gemma 3 tokenizer (%s) is missing: run scripts/setup\n", argc > 1 ? argv[1] : "?");
        return 1;
    }
    char dir[] = "/tmp/vkmm-e2e4-XXXXXX";
    if (!mkdtemp(dir))
        return 1;
    test_stderr_capture cap; /* validation messages reach only stderr through the public API */
    CHECK(test_stderr_capture_begin(&cap), "cannot redirect stderr");
    static const struct {
        const char *size;
        vkmm_dtype type;
    } runs[] = {
        {"tiny-e", VKMM_F16}, {"tiny-e", VKMM_Q4_K}, {"tiny-31b", VKMM_Q8_0}, {"tiny-31b", VKMM_Q4_0},
        {"tiny-moe", VKMM_Q8_0}, {"tiny-moe", VKMM_Q4_K},
    };
    for (size_t i = 0; i < sizeof runs / sizeof *runs; i++)
        run(argv[1], dir, runs[i].size, runs[i].type);
    unsigned msgs = test_stderr_capture_end(&cap);
    CHECK(msgs == 0, "the validation layer reported %u messages", msgs);
    test_remove_dir(dir);
    return test_finish("e2e gemma4");
}
