/* tests/engine/test_e2e_gemma3.c — the whole Gemma 3 path on tiny synthetic models written by vkmm synth with the
 * real tokenizer, at several weight types: the logits of every prompt position and of every generated step
 * must match the CPU reference (tests/ref/ref_model.c) within a bound, for a text prompt longer than the
 * sliding window (chunked prefill, ring cache) and for a prompt with an image (SigLIP + projector, the image
 * tokens seeing each other); greedy tokens must match wherever the reference's top-1 margin is clear. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"
#include "loader/dtype_table.h"
#include "loader/image.h"
#include "ref/ref_load.h"
#include "tools/synth.h"
#include "vkmm.h"

typedef struct gen {
    int32_t ids[64];
    uint32_t n;
} gen;

static bool collect(const vkmm_token_event *ev, void *user)
{
    gen *g = user;
    if (ev->id >= 0 && g->n < 64)
        g->ids[g->n++] = ev->id;
    return true;
}

/* Compares GPU logit rows with reference rows; returns the worst per-row NMSE. Greedy picks are checked
 * where the reference's best logit leads the second by more than margin. */
static double compare(const float *gpu, const float *ref, uint32_t rows, uint32_t V, uint32_t n_tokens,
                      const gen *g, uint32_t first_gen_row, const char *what)
{
    double worst = 0;
    for (uint32_t r = 0; r < rows; r++) {
        double e = test_nmse(gpu + (size_t)r * V, ref + (size_t)r * V, n_tokens);
        if (e > worst)
            worst = e;
        if (r + 1 >= first_gen_row && r + 1 - first_gen_row < g->n) {
            const float *x = ref + (size_t)r * V;
            uint32_t b1 = 0, b2 = 1;
            if (x[b2] > x[b1]) b1 = 1, b2 = 0;
            for (uint32_t t = 2; t < n_tokens; t++) {
                if (x[t] > x[b1]) b2 = b1, b1 = t;
                else if (x[t] > x[b2]) b2 = t;
            }
            int32_t got = g->ids[r + 1 - first_gen_row];
            if (x[b1] - x[b2] > 1e-2f * (fabsf(x[b1]) + 1))
                CHECK(got == (int32_t)b1, "%s: step %u picked %d, reference %u (margin %g)", what, r + 1 - first_gen_row,
                      got, b1, x[b1] - x[b2]);
        }
    }
    return worst;
}

static uint8_t *picture(uint32_t w, uint32_t h)
{
    uint8_t *p = malloc((size_t)w * h * 3);
    for (uint32_t y = 0; y < h; y++)
        for (uint32_t x = 0; x < w; x++) {
            uint8_t *q = p + ((size_t)y * w + x) * 3;
            bool disc = (x - 60.0) * (x - 60.0) + (y - 40.0) * (y - 40.0) < 400;
            q[0] = disc ? 230 : (uint8_t)(x * 2);
            q[1] = disc ? 40 : (uint8_t)(y * 2);
            q[2] = (uint8_t)((x ^ y) & 0xff);
        }
    return p;
}

static void run_type(const char *tok_json, const char *dir, vkmm_dtype type, bool with_image)
{
    char text_path[512], vis_path[512];
    snprintf(text_path, sizeof text_path, "%s/gemma3-%s.gguf", dir, vkmm_dtype_get(type)->name);
    snprintf(vis_path, sizeof vis_path, "%s/gemma3-mmproj.gguf", dir);
    vkmm_error err;
    vkmm_synth_opts so = {.arch = "gemma3", .size = "tiny", .type = type, .vision_type = VKMM_F16,
                          .tokenizer = tok_json, .seed = 7, .out = text_path, .mmproj_out = vis_path};
    CHECK_OK(vkmm_synth(&so, &err), &err, );
    vkmm_model_params mp = {.model_path = text_path, .mmproj_path = vis_path, .validation = 1};
    vkmm_model *m;
    CHECK_OK(vkmm_model_load(&mp, &m, &err), &err, );
    vkmm_gguf *gt, *gv;
    CHECK_OK(vkmm_gguf_open(text_path, &gt, &err), &err, );
    CHECK_OK(vkmm_gguf_open(vis_path, &gv, &err), &err, );
    ref_arena arena = {0};
    ref_gemma3 rm;
    ref_siglip rv;
    CHECK(ref_load_gemma3(gt, &rm, &arena), "reference text model");
    CHECK(ref_load_siglip(gv, rm.n_embd, &rv, &arena), "reference vision model");
    uint32_t V = rm.n_vocab, NT = vkmm_model_get_info(m).n_vocab;

    /* ---- text: longer than the 32-token window, prefilled in chunks of 16 ---- */
    static const char prompt[] = "<start_of_turn>user\nThe quick brown fox jumps over the lazy dog while seven "
                                 "wizards quietly hex the jolly jukebox in Zürich. Then the dog, unimpressed, "
                                 "recites the first twelve digits of pi: 3.14159265358. Why?<end_of_turn>\n"
                                 "<start_of_turn>model\n";
    vkmm_session_params sp = {.n_ctx = 256, .n_batch = 16, .all_logits = true};
    vkmm_session *s;
    CHECK_OK(vkmm_session_create(m, &sp, &s, &err), &err, );
    CHECK_OK(vkmm_session_add_text(s, prompt, true, &err), &err, );
    vkmm_sampling greedy = {.temperature = 0, .top_p = 1, .repeat_penalty = 1, .ignore_eog = true};
    gen g = {0};
    CHECK_OK(vkmm_session_generate(s, &greedy, 6, collect, &g, &err), &err, );
    CHECK(vkmm_session_stats(s).decode_recordings == 1, "the decode step was recorded %u times for 5 tokens",
          vkmm_session_stats(s).decode_recordings);
    int32_t ids[256];
    uint32_t n_prompt;
    CHECK_OK(vkmm_model_tokenize(m, prompt, true, true, ids, 200, &n_prompt, &err), &err, );
    CHECK(n_prompt > 40, "prompt of %u tokens does not exceed the window", n_prompt);
    uint32_t n = n_prompt + g.n - 1;
    for (uint32_t i = 0; i + 1 < g.n; i++)
        ids[n_prompt + i] = g.ids[i];
    ref_item items[256];
    for (uint32_t i = 0; i < n; i++)
        items[i] = (ref_item){ids[i], NULL};
    float *ref = malloc(sizeof *ref * (size_t)V * n);
    ref_gemma3_forward(&rm, items, n, NULL, 0, true, ref);
    uint32_t rows;
    const float *gpu = vkmm_session_logits(s, &rows);
    CHECK(rows == n, "%u logit rows, expected %u", rows, n);
    char what[64];
    snprintf(what, sizeof what, "gemma3 %s text", vkmm_dtype_get(type)->name);
    double e = rows == n ? compare(gpu, ref, n, V, NT, &g, n_prompt, what) : INFINITY;
    printf("%-24s worst row NMSE %.3g over %u positions\n", what, e, n);
    CHECK(e < 1e-6, "%s: logits differ from the reference (NMSE %g)", what, e);
    vkmm_session_free(s);
    free(ref);

    /* ---- image: text, a picture (150x100, resized to the tower's 112x112), text ---- */
    if (with_image) {
        const uint32_t W = 150, H = 100;
        uint8_t *pix = picture(W, H);
        vkmm_session_params sp2 = {.n_ctx = 256, .n_batch = 32, .all_logits = true};
        CHECK_OK(vkmm_session_create(m, &sp2, &s, &err), &err, );
        CHECK_OK(vkmm_session_add_text(s, "<start_of_turn>user\nLook:", true, &err), &err, );
        CHECK_OK(vkmm_session_add_image_rgb(s, pix, W, H, &err), &err, );
        CHECK_OK(vkmm_session_add_text(s, "What is it?<end_of_turn>\n<start_of_turn>model\n", true, &err), &err, );
        gen g2 = {0};
        CHECK_OK(vkmm_session_generate(s, &greedy, 4, collect, &g2, &err), &err, );
        /* the reference sequence: text, <start_of_image>, the image rows, <end_of_image>, text */
        vkmm_image img = {.rgb = pix, .width = W, .height = H, .format = "rgb", .channels = 3};
        vkmm_image_prep prep = vkmm_image_prep_gemma3(rv.image_size);
        vkmm_image_tensor t;
        CHECK_OK(vkmm_image_preprocess(&img, &prep, &t, &err), &err, );
        uint32_t T = ref_siglip_tokens(&rv);
        float *emb = malloc(sizeof *emb * T * rm.n_embd);
        ref_siglip_encode(&rv, t.data, emb);
        vkmm_image_tensor_free(&t);
        uint32_t k = 0, nt;
        CHECK_OK(vkmm_model_tokenize(m, "<start_of_turn>user\nLook:", true, true, ids, 64, &nt, &err), &err, );
        for (uint32_t i = 0; i < nt; i++)
            items[k++] = (ref_item){ids[i], NULL};
        CHECK_OK(vkmm_model_tokenize(m, "<start_of_image>", false, true, ids, 4, &nt, &err), &err, );
        items[k++] = (ref_item){ids[0], NULL};
        uint32_t span0 = k;
        for (uint32_t i = 0; i < T; i++)
            items[k++] = (ref_item){0, emb + (size_t)i * rm.n_embd};
        ref_span span = {span0, k};
        CHECK_OK(vkmm_model_tokenize(m, "<end_of_image>", false, true, ids, 4, &nt, &err), &err, );
        items[k++] = (ref_item){ids[0], NULL};
        CHECK_OK(vkmm_model_tokenize(m, "What is it?<end_of_turn>\n<start_of_turn>model\n", false, true, ids, 64, &nt,
                                     &err), &err, );
        for (uint32_t i = 0; i < nt; i++)
            items[k++] = (ref_item){ids[i], NULL};
        uint32_t np = k;
        for (uint32_t i = 0; i + 1 < g2.n; i++)
            items[k++] = (ref_item){g2.ids[i], NULL};
        ref = malloc(sizeof *ref * (size_t)V * k);
        ref_gemma3_forward(&rm, items, k, &span, 1, true, ref);
        gpu = vkmm_session_logits(s, &rows);
        CHECK(rows == k, "%u logit rows, expected %u", rows, k);
        snprintf(what, sizeof what, "gemma3 %s image", vkmm_dtype_get(type)->name);
        e = rows == k ? compare(gpu, ref, k, V, NT, &g2, np, what) : INFINITY;
        printf("%-24s worst row NMSE %.3g over %u positions (%u image rows)\n", what, e, k, T);
        CHECK(e < 1e-6, "%s: logits differ from the reference (NMSE %g)", what, e);
        vkmm_session_free(s);
        free(ref);
        free(emb);
        free(pix);
    }
    vkmm_model_free(m);
    vkmm_gguf_close(gt);
    vkmm_gguf_close(gv);
    free(rm.layers);
    free(rv.layers);
    ref_arena_free(&arena);
    unlink(text_path);
}

int main(int argc, char **argv)
{
    if (argc < 2 || access(argv[1], R_OK)) {
        fprintf(stderr, "FAIL: the Gemma 3 tokenizer (%s) is missing: run scripts/setup\n", argc > 1 ? argv[1] : "?");
        return 1;
    }
    char dir[] = "/tmp/vkmm-e2e-XXXXXX";
    if (!mkdtemp(dir))
        return 1;
    static const vkmm_dtype types[] = {VKMM_F32, VKMM_F16, VKMM_Q8_0, VKMM_Q4_0, VKMM_Q4_K};
    for (size_t i = 0; i < sizeof types / sizeof *types; i++)
        run_type(argv[1], dir, types[i], types[i] == VKMM_F16 || types[i] == VKMM_Q4_K);
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd))
        fprintf(stderr, "could not remove %s\n", dir);
    return test_finish("e2e gemma3");
}
