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
#include "ref/ref_load.h"
#include "synth.h"
#include "vkmm.h"

#include "e2e_common.h"
#include "e2e_routing.h"

/* NMSE of a whole logit row against the reference (measured on lavapipe: see the README) */
#define BOUND 1e-6

static const char prompt[] = "<|turn>system\nYou answer briefly.<turn|>\n<|turn>user\nThe quick brown fox jumps over "
                             "the lazy dog while seven wizards quietly hex the jolly jukebox in Zürich. Then the dog, "
                             "unimpressed, recites the first twelve digits of pi: 3.14159265358. Why?<turn|>\n"
                             "<|turn>model\n";

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
    ref_gemma4_forward(&rm, items, n, NULL, 0, REF_G4_SPANS_SLIDING, true, ref, experts, router_in);
    uint32_t rows;
    const float *gpu = vkmm_session_logits(s, &rows);
    CHECK(rows == n, "%u logit rows, expected %u", rows, n);
    char what[64];
    snprintf(what, sizeof what, "gemma4 %s %s", size, vkmm_dtype_get(type)->name);
    double e = rows == n ? compare(gpu, ref, n, V, NT, &g, n_prompt, what) : INFINITY;
    printf("%-28s worst row NMSE %.3g over %u positions\n", what, e, n);
    CHECK(e < BOUND, "%s: logits differ from the reference (NMSE %g)", what, e);
    if (experts)
        e2e_check_routing(&rm, router_in, experts, n, what);
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
