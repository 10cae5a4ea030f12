/* tests/engine/test_e2e_gemma3.c — the whole Gemma 3 path on tiny synthetic models written by vkmm-dev synth with the
 * real tokenizer, at several weight types: the logits of every prompt position and of every generated step
 * must match the CPU reference (tests/ref/ref_model.c) within a bound, for a text prompt longer than the
 * sliding window (chunked prefill, ring cache) and for a prompt with an image (SigLIP + projector, the image
 * tokens seeing each other); greedy tokens must match wherever the reference's top-1 margin is clear. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"
#include "dtype_table.h"
#include "image.h"
#include "ref/ref_load.h"
#include "synth.h"
#include "vkmm.h"

#include "e2e_common.h"

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
    test_stderr_capture cap; /* validation messages reach only stderr through the public API */
    CHECK(test_stderr_capture_begin(&cap), "cannot redirect stderr");
    static const vkmm_dtype types[] = {VKMM_F32, VKMM_F16, VKMM_Q8_0, VKMM_Q4_0, VKMM_Q4_K};
    for (size_t i = 0; i < sizeof types / sizeof *types; i++)
        run_type(argv[1], dir, types[i], types[i] == VKMM_F16 || types[i] == VKMM_Q4_K);
    unsigned msgs = test_stderr_capture_end(&cap);
    CHECK(msgs == 0, "the validation layer reported %u messages", msgs);
    test_remove_dir(dir);
    return test_finish("e2e gemma3");
}
