/* tests/engine/test_e2e_mistral3.c — the whole Mistral 3 path on tiny synthetic models written by vkmm-dev synth with
 * the real Tekken tokenizer: logits of every prompt position and generated step against the CPU reference,
 * for text (architecture "mistral3" and the older "llama"), and for one prompt holding two images of
 * different aspect ratios whose sides are not multiples of the patch (Pixtral at the image's own
 * resolution, 2-D RoPE, patch merger, [IMG_BREAK] rows, [IMG_END]). */
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

static uint32_t add_tokens(vkmm_model *m, const char *text, bool first, ref_item *items, uint32_t k)
{
    int32_t ids[256];
    uint32_t n = 0;
    vkmm_error err;
    if (vkmm_model_tokenize(m, text, first, true, ids, 256, &n, &err))
        return k;
    for (uint32_t i = 0; i < n; i++)
        items[k++] = (ref_item){ids[i], NULL};
    return k;
}

static float *encode_ref(const ref_pixtral *rv, const uint8_t *pix, uint32_t w, uint32_t h, uint32_t longest,
                         uint32_t *rows)
{
    vkmm_error err;
    vkmm_image img = {.rgb = (uint8_t *)pix, .width = w, .height = h, .format = "rgb", .channels = 3};
    vkmm_image_prep prep = vkmm_image_prep_pixtral(longest);
    vkmm_image_tensor t;
    if (vkmm_image_preprocess(&img, &prep, &t, &err))
        return NULL;
    float *emb = malloc(sizeof *emb * 4096 * rv->n_text_embd);
    *rows = ref_pixtral_encode(rv, t.data, t.h, t.w, emb);
    printf("  image %ux%u -> %ux%u pixels -> %u rows\n", w, h, t.w, t.h, *rows);
    vkmm_image_tensor_free(&t);
    return emb;
}

static void run(const char *tekken, const char *dir, vkmm_dtype type, const char *arch_name, bool with_image)
{
    char text_path[512], vis_path[512];
    snprintf(text_path, sizeof text_path, "%s/mistral3-%s.gguf", dir, vkmm_dtype_get(type)->name);
    snprintf(vis_path, sizeof vis_path, "%s/mistral3-mmproj.gguf", dir);
    vkmm_error err;
    vkmm_synth_opts so = {.arch = "mistral3", .arch_name = arch_name, .size = "tiny", .type = type,
                          .vision_type = VKMM_F16, .tokenizer = tekken, .seed = 11, .out = text_path,
                          .mmproj_out = vis_path};
    CHECK_OK(vkmm_synth(&so, &err), &err, );
    vkmm_model_params mp = {.model_path = text_path, .mmproj_path = vis_path, .validation = 1};
    vkmm_model *m;
    CHECK_OK(vkmm_model_load(&mp, &m, &err), &err, );
    vkmm_gguf *gt, *gv;
    CHECK_OK(vkmm_gguf_open(text_path, &gt, &err), &err, );
    CHECK_OK(vkmm_gguf_open(vis_path, &gv, &err), &err, );
    ref_arena arena = {0};
    ref_mistral rm;
    ref_pixtral rv;
    CHECK(ref_load_mistral(gt, &rm, &arena), "reference text model");
    CHECK(ref_load_pixtral(gv, rm.n_embd, &rv, &arena), "reference vision model");
    uint32_t longest = 0;
    vkmm_gguf_get_u32(gv, "clip.vision.image_size", &longest);
    uint32_t V = rm.n_vocab, NT = vkmm_model_get_info(m).n_vocab;
    vkmm_sampling greedy = {.temperature = 0, .top_p = 1, .repeat_penalty = 1, .ignore_eog = true};
    static ref_item items[1024];
    char what[80];

    /* ---- text ---- */
    static const char prompt[] = "[SYSTEM_PROMPT]You are terse.[/SYSTEM_PROMPT][INST]Name three prime numbers "
                                 "below 20, and explain why 1 is not prime.[/INST]";
    vkmm_session_params sp = {.n_ctx = 512, .n_batch = 16, .all_logits = true};
    vkmm_session *s;
    CHECK_OK(vkmm_session_create(m, &sp, &s, &err), &err, );
    CHECK_OK(vkmm_session_add_text(s, prompt, true, &err), &err, );
    gen g = {0};
    CHECK_OK(vkmm_session_generate(s, &greedy, 6, collect, &g, &err), &err, );
    uint32_t k = add_tokens(m, prompt, true, items, 0), np = k;
    for (uint32_t i = 0; i + 1 < g.n; i++)
        items[k++] = (ref_item){g.ids[i], NULL};
    float *ref = malloc(sizeof *ref * (size_t)V * k);
    ref_mistral_forward(&rm, items, k, true, ref);
    uint32_t rows;
    const float *gpu = vkmm_session_logits(s, &rows);
    CHECK(rows == k, "%u logit rows, expected %u", rows, k);
    snprintf(what, sizeof what, "%s %s text", arch_name ? arch_name : "mistral3", vkmm_dtype_get(type)->name);
    double e = rows == k ? compare(gpu, ref, k, V, NT, &g, np, what) : INFINITY;
    printf("%-28s worst row NMSE %.3g over %u positions\n", what, e, k);
    CHECK(e < 1e-6, "%s: logits differ from the reference (NMSE %g)", what, e);
    vkmm_session_free(s);
    free(ref);

    /* ---- two images of different aspect ratios, sides not multiples of 14 ---- */
    if (with_image) {
        uint8_t *a = picture(150, 100), *b = picture(60, 130);
        vkmm_session_params sp2 = {.n_ctx = 512, .n_batch = 24, .all_logits = true};
        CHECK_OK(vkmm_session_create(m, &sp2, &s, &err), &err, );
        CHECK_OK(vkmm_session_add_text(s, "[INST]", true, &err), &err, );
        CHECK_OK(vkmm_session_add_image_rgb(s, a, 150, 100, &err), &err, );
        CHECK_OK(vkmm_session_add_text(s, "and", true, &err), &err, );
        CHECK_OK(vkmm_session_add_image_rgb(s, b, 60, 130, &err), &err, );
        CHECK_OK(vkmm_session_add_text(s, "Compare them.[/INST]", true, &err), &err, );
        gen g2 = {0};
        CHECK_OK(vkmm_session_generate(s, &greedy, 4, collect, &g2, &err), &err, );
        uint32_t ra, rb;
        float *ea = encode_ref(&rv, a, 150, 100, longest, &ra), *eb = encode_ref(&rv, b, 60, 130, longest, &rb);
        int32_t img_end[4];
        uint32_t ne;
        CHECK_OK(vkmm_model_tokenize(m, "[IMG_END]", false, true, img_end, 4, &ne, &err), &err, );
        k = add_tokens(m, "[INST]", true, items, 0);
        for (uint32_t i = 0; i < ra; i++)
            items[k++] = (ref_item){0, ea + (size_t)i * rm.n_embd};
        items[k++] = (ref_item){img_end[0], NULL};
        k = add_tokens(m, "and", false, items, k);
        for (uint32_t i = 0; i < rb; i++)
            items[k++] = (ref_item){0, eb + (size_t)i * rm.n_embd};
        items[k++] = (ref_item){img_end[0], NULL};
        k = add_tokens(m, "Compare them.[/INST]", false, items, k);
        np = k;
        for (uint32_t i = 0; i + 1 < g2.n; i++)
            items[k++] = (ref_item){g2.ids[i], NULL};
        ref = malloc(sizeof *ref * (size_t)V * k);
        ref_mistral_forward(&rm, items, k, true, ref);
        gpu = vkmm_session_logits(s, &rows);
        CHECK(rows == k, "%u logit rows, expected %u", rows, k);
        snprintf(what, sizeof what, "mistral3 %s two images", vkmm_dtype_get(type)->name);
        e = rows == k ? compare(gpu, ref, k, V, NT, &g2, np, what) : INFINITY;
        printf("%-28s worst row NMSE %.3g over %u positions (%u + %u image rows)\n", what, e, k, ra, rb);
        CHECK(e < 1e-6, "%s: logits differ from the reference (NMSE %g)", what, e);
        vkmm_session_free(s);
        free(ref);
        free(ea);
        free(eb);
        free(a);
        free(b);
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
        fprintf(stderr, "FAIL: the Tekken tokenizer (%s) is missing: run scripts/setup\n", argc > 1 ? argv[1] : "?");
        return 1;
    }
    char dir[] = "/tmp/vkmm-e2e-XXXXXX";
    if (!mkdtemp(dir))
        return 1;
    test_stderr_capture cap; /* validation messages reach only stderr through the public API */
    CHECK(test_stderr_capture_begin(&cap), "cannot redirect stderr");
    run(argv[1], dir, VKMM_Q8_0, NULL, true);
    run(argv[1], dir, VKMM_Q4_K, "llama", false);
    run(argv[1], dir, VKMM_F16, NULL, false);
    unsigned msgs = test_stderr_capture_end(&cap);
    CHECK(msgs == 0, "the validation layer reported %u messages", msgs);
    test_remove_dir(dir);
    return test_finish("e2e mistral3");
}
