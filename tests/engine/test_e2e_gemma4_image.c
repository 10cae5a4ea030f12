/* tests/engine/test_e2e_gemma4_image.c — Gemma 4 with images, the whole pipeline (decode, HF's budget resize, the
 * GPU tower, the prompt layout, chunked prefill under the image rule, greedy steps) on tiny synthetic pairs written
 * by vkmm-dev synth: E2B/E4B style (causal image rows), 31B style and 26B-A4B style (the 31B tower: one image's rows
 * see each other on sliding layers only, within the window). Pictures of several aspect ratios (wide, tall, square,
 * strips) at token budgets 70 and 140, two of different sizes in one prompt, every image longer than the sliding
 * window (32). Checked: the session's items are <|image> + N rows + <image|> with N from HF's
 * get_aspect_ratio_preserving_size, written out here; the logits of every position (text, image rows, generated
 * steps) against ref_gemma4v + ref_gemma4 in float64 (K/V rounded to f16 as the caches hold them), greedy tokens
 * wherever the reference's margin is clear; that the bound tells the rule apart (references under wrong rules miss
 * it); and, for the MoE, that no routing decision of the reference is near a tie and the router ops choose the
 * reference's experts for every image and text row.
 * Bound: worst-row NMSE 1e-6, as the text test. Measured on lavapipe, Mesa 22 and 25 alike: 1.9e-8 to 2.6e-7; the
 * wrong rules 0.11 (spans past the window) to 1.4. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"
#include "dtype_table.h"
#include "gemma4v.h"
#include "image.h"
#include "ref/ref_gemma4v.h"
#include "ref/ref_load.h"
#include "session.h"
#include "synth.h"
#include "vkmm.h"

#include "e2e_common.h"
#include "e2e_routing.h"

#define BOUND 1e-6
#define WRONG_RULE_MARGIN 100.0 /* a wrong rule's NMSE must be this many times the bound */
#define ROUTE_MARGIN 1e-4       /* as the text test: closer router logits are left to chance */
#define IMAGE_OPEN 255999       /* <|image> and <image|> at Gemma 4's ids (gemma4.md §4) */
#define IMAGE_CLOSE 258882
#define MAX_ITEMS 512

typedef struct pic {
    uint32_t w, h;
} pic;

/* The prompt's text around its pictures (raw: vkmm_session_add_text, as the processor's output would be). */
static const char *const around[2][3] = {
    {"<|turn>user\nDescribe ", ". Briefly.<turn|>\n<|turn>model\n", NULL},
    {"<|turn>user\nCompare ", " with ", ". Which is wider?<turn|>\n<|turn>model\n"},
};

static double seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* HF's get_aspect_ratio_preserving_size (image_processing_gemma4.py) for 16-pixel patches pooled 3 x 3: the area
 * scaled to budget x 9 patches, each side floored to a multiple of 48; a side that floors to nothing becomes 48
 * and the other floor(ratio) x 48, at most budget x 48. Returns the soft tokens. */
static uint32_t hf_tokens(uint32_t w, uint32_t h, uint32_t budget, uint32_t *tw, uint32_t *th)
{
    const uint32_t side = 48, max_side = budget * 48;
    double factor = sqrt((double)budget * 9 * 256 / ((double)h * w));
    *th = (uint32_t)floor(factor * h / side) * side;
    *tw = (uint32_t)floor(factor * w / side) * side;
    if (!*th) {
        *th = side;
        *tw = (uint32_t)floor((double)w / h) * side < max_side ? (uint32_t)floor((double)w / h) * side : max_side;
    } else if (!*tw) {
        *tw = side;
        *th = (uint32_t)floor((double)h / w) * side < max_side ? (uint32_t)floor((double)h / w) * side : max_side;
    }
    return (*th / side) * (*tw / side);
}

/* The reference's rows of one picture: HF's resize (the runtime's Pillow-exact bicubic, checked against Pillow
 * elsewhere) to [0, 1], then ref_gemma4v. Returns the row count (0 on a failure). */
static uint32_t ref_image(const ref_gemma4v *rv, const uint8_t *rgb, pic p, uint32_t budget, float **rows)
{
    vkmm_error err;
    vkmm_image img = {.rgb = (uint8_t *)rgb, .width = p.w, .height = p.h, .format = "rgb", .channels = 3};
    vkmm_vision_hparams hp = {.patch = 16, .merge = 3};
    vkmm_image_prep prep = vkmm_gemma4v_tower.preprocess(&hp, budget);
    vkmm_image resized;
    CHECK_OK(vkmm_image_prep_resize(&img, &prep, &resized, &err), &err, 0);
    uint32_t tw, th, want = hf_tokens(p.w, p.h, budget, &tw, &th);
    CHECK(resized.width == tw && resized.height == th, "%ux%u at %u tokens resized to %ux%u, HF's rule gives %ux%u",
          p.w, p.h, budget, resized.width, resized.height, tw, th);
    size_t plane = (size_t)resized.width * resized.height;
    float *px = malloc(sizeof *px * plane * 3);
    for (size_t i = 0; i < plane; i++)
        for (int c = 0; c < 3; c++)
            px[c * plane + i] = (float)(resized.rgb[i * 3 + c] * (1.0 / 255.0));
    *rows = malloc(sizeof **rows * (size_t)want * rv->n_text_embd);
    uint32_t n = ref_gemma4v_encode(rv, px, resized.height, resized.width, true, *rows);
    CHECK(n == want, "the reference tower made %u rows, HF's rule %u", n, want);
    free(px);
    vkmm_image_free(&resized);
    return n == want ? n : 0;
}

/* Appends the ids of text to the reference's items and to the session items expected. */
static void tokens(vkmm_model *m, const char *text, bool first, ref_item *items, vkmm_item *want, uint32_t *k)
{
    vkmm_error err;
    int32_t ids[64];
    uint32_t n;
    CHECK_OK(vkmm_model_tokenize(m, text, first, true, ids, 64, &n, &err), &err, );
    for (uint32_t i = 0; i < n && *k < MAX_ITEMS; i++, (*k)++) {
        items[*k] = (ref_item){ids[i], NULL};
        want[*k] = (vkmm_item){ids[i], -1, 0};
    }
}

/* The reference's logits under a rule against the GPU's: the worst row NMSE. With margin, a mixture of experts
 * also gives the reference's least clear routing decision over every position and layer (ref_gemma4_route_margin),
 * and the runtime's router ops must choose its experts (e2e_check_routing). */
static double against(const ref_gemma4 *rm, const ref_item *items, uint32_t n, const ref_span *spans,
                      uint32_t n_spans, ref_gemma4_spans rule, const float *gpu, uint32_t NT, const gen *g,
                      uint32_t n_prompt, const char *what, double *margin)
{
    uint32_t L = rm->n_layer;
    bool moe = margin && rm->n_expert;
    float *ref = malloc(sizeof *ref * (size_t)rm->n_vocab * n);
    int32_t *experts = moe ? malloc(sizeof *experts * n * L * rm->n_used) : NULL;
    float *router_in = moe ? malloc(sizeof *router_in * n * L * rm->n_embd) : NULL;
    ref_gemma4_forward(rm, items, n, spans, n_spans, rule, true, ref, experts, router_in);
    for (uint32_t p = 0; moe && p < n; p++)
        for (uint32_t l = 0; l < L; l++) {
            if (!rm->layers[l].router)
                continue;
            double e = ref_gemma4_route_margin(rm, l, router_in + ((size_t)p * L + l) * rm->n_embd,
                                               experts + ((size_t)p * L + l) * rm->n_used);
            *margin = e < *margin ? e : *margin;
        }
    if (moe)
        e2e_check_routing(rm, router_in, experts, n, what);
    gen none = {0}; /* a wrong rule's greedy picks are not checked */
    double e = compare(gpu, ref, n, rm->n_vocab, NT, g ? g : &none, n_prompt, what);
    free(ref);
    free(experts);
    free(router_in);
    return e;
}

/* One prompt: text, then each picture followed by text, then greedy steps; the pipeline against the reference. */
static void run_prompt(const char *text_path, const char *vis_path, const char *family, uint32_t budget,
                       uint32_t n_pics, const pic *pics, bool wrong_rules)
{
    double t0 = seconds();
    const char *const *texts = around[n_pics - 1];
    char what[96];
    int len = snprintf(what, sizeof what, "%s at %u tokens:", family, budget);
    for (uint32_t i = 0; i < n_pics && len > 0 && (size_t)len < sizeof what; i++)
        len += snprintf(what + len, sizeof what - (size_t)len, " %ux%u", pics[i].w, pics[i].h);
    vkmm_error err;
    vkmm_model_params mp = {.struct_size = sizeof mp, .model_path = text_path, .mmproj_path = vis_path,
                            .validation = 1, .chat_template = "gemma4", .image_tokens = budget};
    vkmm_model *m;
    CHECK_OK(vkmm_model_load(&mp, &m, &err), &err, );
    vkmm_gguf *gt, *gv;
    CHECK_OK(vkmm_gguf_open(text_path, &gt, &err), &err, );
    CHECK_OK(vkmm_gguf_open(vis_path, &gv, &err), &err, );
    ref_arena arena = {0};
    ref_gemma4 rm;
    ref_gemma4v rv;
    CHECK(ref_load_gemma4(gt, &rm, &arena), "reference text model");
    CHECK(ref_load_gemma4v(gv, &rv, &arena), "reference vision model");
    /* the 31B tower (v.std_bias) comes with HF's "vision" rule, the clipped E tower with causal image rows */
    bool bidirectional = rv.std_bias != NULL;
    uint32_t NT = vkmm_model_get_info(m).n_vocab;

    /* chunks of 16: causal images are cut across chunks; bidirectional ones make the session's chunks hold one */
    vkmm_session_params sp = {.n_ctx = MAX_ITEMS, .n_batch = 16, .all_logits = true};
    vkmm_session *s;
    CHECK_OK(vkmm_session_create(m, &sp, &s, &err), &err, );
    uint8_t *rgb[2] = {NULL, NULL};
    CHECK_OK(vkmm_session_add_text(s, texts[0], true, &err), &err, );
    for (uint32_t i = 0; i < n_pics; i++) {
        rgb[i] = picture(pics[i].w, pics[i].h);
        CHECK_OK(vkmm_session_add_image_rgb(s, rgb[i], pics[i].w, pics[i].h, &err), &err, );
        CHECK_OK(vkmm_session_add_text(s, texts[i + 1], true, &err), &err, );
    }
    vkmm_sampling greedy = {.temperature = 0, .top_p = 1, .repeat_penalty = 1, .ignore_eog = true};
    gen g = {0};
    CHECK_OK(vkmm_session_generate(s, &greedy, 3, collect, &g, &err), &err, );
    double t_gpu = seconds();

    /* the reference sequence: text, <|image>, rows, <image|>, text, ... then the generated tokens but the last;
     * beside it the session's items it stands for (token ids, rows r of image i) */
    ref_item *items = malloc(sizeof *items * MAX_ITEMS);
    vkmm_item *want = malloc(sizeof *want * MAX_ITEMS);
    ref_span spans[2];
    float *emb[2] = {NULL, NULL};
    uint32_t n_rows[2] = {0, 0}, k = 0;
    tokens(m, texts[0], true, items, want, &k);
    for (uint32_t i = 0; i < n_pics; i++) {
        n_rows[i] = ref_image(&rv, rgb[i], pics[i], budget, &emb[i]);
        CHECK(n_rows[i] > rm.window, "%s: image %u has %u rows, not more than the window (%u)", what, i, n_rows[i],
              rm.window);
        CHECK(k + n_rows[i] + 2 < MAX_ITEMS, "%s: too many positions", what);
        want[k] = (vkmm_item){IMAGE_OPEN, -1, 0};
        items[k++] = (ref_item){IMAGE_OPEN, NULL};
        spans[i] = (ref_span){k, k + n_rows[i]};
        for (uint32_t r = 0; r < n_rows[i]; r++, k++) {
            want[k] = (vkmm_item){0, (int32_t)i, r};
            items[k] = (ref_item){0, emb[i] + (size_t)r * rm.n_embd};
        }
        want[k] = (vkmm_item){IMAGE_CLOSE, -1, 0};
        items[k++] = (ref_item){IMAGE_CLOSE, NULL};
        tokens(m, texts[i + 1], false, items, want, &k);
    }
    CHECK(n_pics < 2 || n_rows[0] != n_rows[1], "%s: the pictures should differ in size (%u rows each)", what,
          n_rows[0]);
    uint32_t n_prompt = k;
    for (uint32_t i = 0; i + 1 < g.n; i++, k++) {
        want[k] = (vkmm_item){g.ids[i], -1, 0};
        items[k] = (ref_item){g.ids[i], NULL};
    }
    /* the session's sequence must be that, item for item */
    uint32_t differ = 0;
    for (uint32_t p = 0; p < k && s->done.n == k; p++) {
        vkmm_item it = s->done.v[p];
        differ += it.image != want[p].image || (it.image < 0 ? it.token != want[p].token : it.row != want[p].row);
    }
    CHECK(s->done.n == k && !differ, "%s: the session's %u positions are not <|image> + rows + <image|> as HF lays "
          "them out (%u expected, %u differ)", what, s->done.n, k, differ);

    uint32_t rows;
    const float *gpu = vkmm_session_logits(s, &rows);
    CHECK(rows == k, "%s: %u logit rows, expected %u", what, rows, k);
    if (rows == k) {
        uint32_t ns = bidirectional ? n_pics : 0;
        double margin = INFINITY;
        double e = against(&rm, items, k, spans, ns, REF_G4_SPANS_SLIDING, gpu, NT, &g, n_prompt, what, &margin);
        printf("%-46s %3u positions (image rows %u", what, k, n_rows[0]);
        for (uint32_t i = 1; i < n_pics; i++)
            printf(", %u", n_rows[i]);
        printf("): worst row NMSE %.3g [%.1f s GPU, %.1f s reference]\n", e, t_gpu - t0, seconds() - t_gpu);
        if (rm.n_expert)
            printf("%-46s     routing: the least clear choice of experts by %.3g\n", "", margin);
        /* a routing tie (float32 may take the other expert, and then no bound on logits holds): the prompt, not
         * the runtime, is at fault */
        CHECK(!rm.n_expert || margin > ROUTE_MARGIN, "%s: the reference routes some row within %g of a tie: "
              "choose other pictures", what, margin);
        CHECK(e < BOUND, "%s: logits differ from the reference (NMSE %g)", what, e);
        if (wrong_rules) {
            /* The bound must tell the rule apart, else the check above proves little. On the prompt up to the
             * first image's <image|>: those rows depend on nothing after them under any of the rules. */
            static const struct { ref_gemma4_spans rule; uint32_t n_spans; const char *name; } rules[] = {
                {REF_G4_SPANS_SLIDING, 0, "causal image rows"}, {REF_G4_SPANS_SLIDING, 1, "HF's vision rule"},
                {REF_G4_SPANS_EVERY_LAYER, 1, "spans on every layer"},
                {REF_G4_SPANS_SLIDING_UNBOUNDED, 1, "spans past the window"}};
            uint32_t n_pre = spans[0].end + 1;
            for (size_t i = 0; i < sizeof rules / sizeof *rules; i++) {
                if (rules[i].rule == REF_G4_SPANS_SLIDING && rules[i].n_spans == (bidirectional ? 1 : 0))
                    continue; /* the right one */
                if (!bidirectional && rules[i].rule != REF_G4_SPANS_SLIDING)
                    continue; /* E's causal rows: the 26B/31B rule is the wrong one to tell apart */
                double w = against(&rm, items, n_pre, spans, rules[i].n_spans, rules[i].rule, gpu, NT, NULL, n_pre,
                                   what, NULL);
                printf("%-46s     %u positions under the wrong rule '%s': NMSE %.3g\n", "", n_pre, rules[i].name, w);
                CHECK(w > WRONG_RULE_MARGIN * BOUND, "%s: a reference with %s is as close (NMSE %g)", what,
                      rules[i].name, w);
            }
        }
    }
    vkmm_session_free(s);
    free(items);
    free(want);
    for (uint32_t i = 0; i < 2; i++) {
        free(emb[i]);
        free(rgb[i]);
    }
    vkmm_model_free(m);
    vkmm_gguf_close(gt);
    vkmm_gguf_close(gv);
    free(rm.layers);
    free(rv.layers);
    ref_arena_free(&arena);
}

/* The prompts each family is checked on. */
typedef struct prompt {
    uint32_t budget, n_pics;
    pic pics[2];
    bool wrong_rules;
} prompt;

static void family(const char *tok_json, const char *dir, const char *size, vkmm_dtype type, const prompt *prompts,
                   uint32_t n_prompts)
{
    char text_path[512], vis_path[512], name[64];
    snprintf(text_path, sizeof text_path, "%s/gemma4-%s-%s.gguf", dir, size, vkmm_dtype_get(type)->name);
    snprintf(vis_path, sizeof vis_path, "%s/gemma4-%s-mmproj.gguf", dir, size);
    snprintf(name, sizeof name, "%s %s", size, vkmm_dtype_get(type)->name);
    vkmm_error err;
    vkmm_synth_opts so = {.arch = "gemma4", .size = size, .type = type, .vision_type = VKMM_F16,
                          .tokenizer = tok_json, .seed = 13, .out = text_path, .mmproj_out = vis_path, .window = 32};
    CHECK_OK(vkmm_synth(&so, &err), &err, );
    for (uint32_t i = 0; i < n_prompts; i++)
        run_prompt(text_path, vis_path, name, prompts[i].budget, prompts[i].n_pics, prompts[i].pics,
                   prompts[i].wrong_rules);
    unlink(text_path);
    unlink(vis_path);
}

int main(int argc, char **argv)
{
    if (argc < 2 || access(argv[1], R_OK)) {
        fprintf(stderr, "FAIL: the Gemma 3 tokenizer (%s) is missing: run scripts/setup\n", argc > 1 ? argv[1] : "?");
        return 1;
    }
    char dir[] = "/tmp/vkmm-e2e4i-XXXXXX";
    if (!mkdtemp(dir))
        return 1;
    test_stderr_capture cap; /* validation messages reach only stderr through the public API */
    CHECK(test_stderr_capture_begin(&cap), "cannot redirect stderr");
    /* HF's rule gives, at 70 tokens: 200x90 (wide) 5 x 12 = 60 rows, 90x160 (tall) 11 x 6 = 66, 100x100 (square)
     * 8 x 8 = 64, 2000x20 (its height floors to nothing: one row of min(floor(ratio), 70)) 70; at 140 tokens: 90x160
     * 15 x 8 = 120, 1000x30 (aspect 33) 2 x 68 = 136. Every image is longer than the window (32). */
    static const prompt e_prompts[] = {{70, 2, {{200, 90}, {90, 160}}, true}, {140, 1, {{90, 160}}, false}};
    static const prompt b_prompts[] = {{70, 2, {{200, 90}, {90, 160}}, true}, {140, 1, {{1000, 30}}, false}};
    /* the MoE's pictures: no routing decision of the reference within ROUTE_MARGIN of a tie (120x120 has one) */
    static const prompt moe_prompts[] = {{70, 2, {{100, 100}, {2000, 20}}, false}};
    static const struct {
        const char *size;
        vkmm_dtype type;
        const prompt *prompts;
        uint32_t n;
    } runs[] = {{"tiny-e", VKMM_Q4_K, e_prompts, 2}, {"tiny-31b", VKMM_Q8_0, b_prompts, 2},
                {"tiny-moe", VKMM_Q8_0, moe_prompts, 1}};
    for (size_t i = 0; i < sizeof runs / sizeof *runs; i++) /* argv[2]: one family alone */
        if (argc < 3 || !strcmp(argv[2], runs[i].size))
            family(argv[1], dir, runs[i].size, runs[i].type, runs[i].prompts, runs[i].n);
    unsigned msgs = test_stderr_capture_end(&cap);
    CHECK(msgs == 0, "the validation layer reported %u messages", msgs);
    test_remove_dir(dir);
    return test_finish("e2e gemma4 image");
}
