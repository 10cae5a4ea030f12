/* tests/engine/test_gemma4v_tower.c — Gemma 4's vision tower (gemma4v) alone, through the internal APIs (weight
 * store, tower row, graph), against the float64 reference (tests/ref/ref_gemma4v.c) on synthetic mmproj files of
 * both families written by vkmm-dev synth: E-style (clamped linears; F16 and Q8_0 weights) and 31B-style
 * (std_bias/std_scale, per-layer output scale), pictures of several aspect ratios at several token budgets, the
 * extreme-aspect rule included, and the MLP in passes of rows as on a device with small bindings. Checked: the
 * rows' count and sizes as HF's processor gives them, every projected row within the bound below, the attention
 * rule each family states and how text layers apply it, the tower row's data, and clear errors for broken files
 * and impossible images.
 * Bound: worst-row NMSE <= 2e-6 against the reference with K and V rounded to f16 as the GPU's attention stores
 * them (measured on lavapipe, Mesa 22 and 25 alike: at most 3.6e-7, largest |error| 1.5e-3 on rows of norm ~1
 * per element; against a pure float64 pass, f16 K/V included, at most 1.5e-5, printed too). */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"
#include "dtype_table.h"
#include "gemma4v.h"
#include "image.h"
#include "nodes.h"
#include "ref/ref_gemma4v.h"
#include "synth.h"
#include "weights.h"

#include "e2e_common.h"

#define NMSE_BOUND 2e-6

typedef struct tower {
    vkmm_gpu *gpu;
    vkmm_ops *ops;
    vkmm_gguf *file;
    vkmm_weight_store *ws;
    vkmm_vision_model *vm;
} tower;

static vkmm_status tower_open(tower *t, vkmm_gpu *gpu, vkmm_ops *ops, const char *path, vkmm_error *err)
{
    memset(t, 0, sizeof *t);
    t->gpu = gpu;
    t->ops = ops;
    vkmm_status s = vkmm_gguf_open(path, &t->file, err);
    vkmm_weight_store_params wp = {.gpu = gpu, .ops = ops, .gguf = t->file, .stage = "vision"};
    if (!s)
        s = vkmm_weight_store_create(&wp, &t->ws, err);
    if (!s)
        s = vkmm_gemma4v_tower.load(vkmm_weight_store_source(t->ws), &t->vm, err);
    return s;
}

static void tower_close(tower *t)
{
    if (t->vm)
        t->vm->free(t->vm);
    vkmm_weight_store_free(t->ws);
    vkmm_gguf_close(t->file);
}

/* The tower on one preprocessed image: rows [n_rows][n_text_embd] (malloc'ed), as images.c runs it. With
 * bind_limit, the graph is built as for a device whose bindings hold at most that many bytes (the MLP then runs in
 * passes of rows), and recorded on the real one. */
static vkmm_status run_tower(const tower *t, const vkmm_image_tensor *img, uint64_t bind_limit, float **rows,
                             uint32_t *n_rows, vkmm_error *err)
{
    vkmm_device_info small = *t->ops->dev;
    vkmm_ops as_small = *t->ops;
    small.max_storage_buffer_range = bind_limit;
    as_small.dev = &small;
    vkmm_vision_model *vm = t->vm;
    uint32_t HT = vm->hp.n_text_embd, n = vm->n_rows(vm, img->h, img->w);
    vkmm_buffer *in = NULL, *out = NULL, *arena = NULL;
    uint64_t bytes = 4ull * img->c * img->h * img->w;
    vkmm_status s = vkmm_buffer_create(t->gpu, bytes, VKMM_MEM_DEVICE, "image", &in, err);
    if (!s)
        s = vkmm_buffer_upload(t->gpu, in, 0, img->data, bytes, err);
    if (!s)
        s = vkmm_buffer_create(t->gpu, 4ull * HT * (n ? n : 1), VKMM_MEM_DEVICE, "rows", &out, err);
    vkmm_graph g;
    vkmm_graph_init(&g, bind_limit ? &as_small : t->ops);
    if (!s) {
        vkmm_tid ti = vkmm_graph_external(&g, vkmm_range_whole(in), VKMM_F32, img->w, img->h, img->c, "pixels");
        vkmm_tid enc = vm->encode(vm, &g, ti, img->h, img->w);
        vkmm_tid dst = vkmm_graph_external(&g, vkmm_range_whole(out), VKMM_F32, HT, n ? n : 1, 1, "rows");
        vkmm_g_copy_rows(&g, enc, HT, dst, 0, HT, n, HT, "keep");
        s = vkmm_graph_plan(&g, err);
    }
    if (!s)
        s = vkmm_buffer_create(t->gpu, g.arena_bytes, VKMM_MEM_DEVICE, "activations", &arena, err);
    vkmm_cmd *cmd = NULL;
    if (!s)
        s = vkmm_cmd_create(t->gpu, 0, &cmd, err);
    if (!s)
        s = vkmm_graph_record(&g, t->ops, cmd, vkmm_range_whole(arena), err);
    if (!s)
        s = vkmm_cmd_submit(cmd, err);
    if (!s) {
        *rows = malloc(4ull * HT * n);
        *n_rows = n;
        test_download(t->gpu, vkmm_range_sub(vkmm_range_whole(out), 0, 4ull * HT * n), *rows);
    }
    vkmm_cmd_destroy(cmd);
    vkmm_graph_free(&g);
    vkmm_buffer_destroy(arena);
    vkmm_buffer_destroy(out);
    vkmm_buffer_destroy(in);
    return s;
}

static double worst_row_nmse(const float *got, const float *ref, uint32_t rows, uint32_t cols)
{
    double worst = 0;
    for (uint32_t r = 0; r < rows; r++) {
        double e = test_nmse(got + (size_t)r * cols, ref + (size_t)r * cols, cols);
        worst = e > worst ? e : worst;
    }
    return worst;
}

/* One picture through the tower and the reference; returns the worst row NMSE (INFINITY on a failure). */
static double check_image(const tower *t, const ref_gemma4v *rm, uint32_t w, uint32_t h, uint32_t budget,
                          uint64_t bind_limit, const char *what)
{
    vkmm_error err;
    uint8_t *rgb = picture(w, h);
    vkmm_image img = {.rgb = rgb, .width = w, .height = h, .format = "rgb", .channels = 3};
    vkmm_image_prep prep = vkmm_gemma4v_tower.preprocess(&t->vm->hp, budget);
    vkmm_image_tensor x;
    vkmm_image resized;
    double worst = INFINITY;
    CHECK_OK(vkmm_image_preprocess(&img, &prep, &x, &err), &err, (free(rgb), INFINITY));
    CHECK_OK(vkmm_image_prep_resize(&img, &prep, &resized, &err), &err, (free(rgb), INFINITY));
    /* HF's processor: the resized picture in [0, 1] (float64 rescale stored as float32); the reference does 2x - 1 */
    size_t plane = (size_t)resized.width * resized.height;
    float *px = malloc(sizeof *px * plane * 3);
    for (size_t i = 0; i < plane; i++)
        for (int c = 0; c < 3; c++)
            px[c * plane + i] = (float)(resized.rgb[i * 3 + c] * (1.0 / 255.0));
    uint32_t tokens = (x.h / 48) * (x.w / 48);
    CHECK(tokens <= budget && x.h % 48 == 0 && x.w % 48 == 0, "%s: %ux%u -> %ux%u, %u tokens for a budget of %u", what,
          w, h, x.w, x.h, tokens, budget);
    float *rows = NULL;
    uint32_t n = 0;
    vkmm_status s = run_tower(t, &x, bind_limit, &rows, &n, &err);
    CHECK(!s, "%s: %s", what, err.msg);
    if (!s && n == tokens) {
        uint32_t HT = rm->n_text_embd;
        float *ref = malloc(sizeof *ref * (size_t)n * HT), *pure = malloc(sizeof *pure * (size_t)n * HT);
        uint32_t rr = ref_gemma4v_encode(rm, px, x.h, x.w, true, ref);
        ref_gemma4v_encode(rm, px, x.h, x.w, false, pure);
        CHECK(rr == n, "%s: the reference made %u rows, the tower %u", what, rr, n);
        worst = worst_row_nmse(rows, ref, n, HT);
        printf("  %-22s %4ux%-4u at %4u tokens -> %4ux%-4u = %3u rows: worst row NMSE %.3g (f16 K/V reference), "
               "%.3g (pure float64), max |err| %.3g\n", what, w, h, budget, x.w, x.h, n, worst,
               worst_row_nmse(rows, pure, n, HT), test_max_abs_diff(rows, ref, (size_t)n * HT));
        CHECK(worst <= NMSE_BOUND, "%s: rows differ from the reference (worst row NMSE %g > %g)", what, worst,
              NMSE_BOUND);
        free(ref);
        free(pure);
    } else if (!s) {
        CHECK(false, "%s: %u rows, HF's processor gives %u", what, n, tokens);
    }
    free(rows);
    free(px);
    vkmm_image_free(&resized);
    vkmm_image_tensor_free(&x);
    free(rgb);
    return worst;
}

/* A copy of src without one tensor or key (NULL: keep all), for broken-file checks. */
static bool copy_without(const char *src, const char *dst, const char *skip)
{
    vkmm_error err;
    vkmm_gguf *g;
    if (vkmm_gguf_open(src, &g, &err))
        return false;
    vkmm_gguf_writer *w = vkmm_gguf_writer_new();
    for (uint64_t i = 0; i < vkmm_gguf_kv_count(g); i++) {
        const vkmm_gguf_kv *kv = vkmm_gguf_kv_at(g, i);
        if (!skip || strcmp(kv->key, skip))
            vkmm_gguf_writer_add_raw(w, kv->key, kv->value.type, kv->value.raw, kv->value.size);
    }
    for (uint64_t i = 0; i < vkmm_gguf_tensor_count(g); i++) {
        const vkmm_gguf_tensor *t = vkmm_gguf_tensor_at(g, i);
        if (!skip || strcmp(t->name, skip))
            vkmm_gguf_writer_add_tensor(w, t->name, t->type, t->n_dims, t->ne, t->data);
    }
    bool ok = vkmm_gguf_writer_write(w, dst, &err) == VKMM_OK;
    vkmm_gguf_writer_free(w);
    vkmm_gguf_close(g);
    return ok;
}

static void broken_files(vkmm_gpu *gpu, vkmm_ops *ops, const char *good, const char *dir)
{
    static const struct { const char *skip, *says; } cases[] = {
        {"v.std_scale", "v.std_bias and v.std_scale come together"},
        {"v.position_embd.weight", "v.position_embd.weight is missing"},
        {"clip.vision.projection_dim", "clip.vision.projection_dim"},
        {"v.blk.1.attn_k_norm.weight", "v.blk.1.attn_k_norm.weight"},
    };
    char path[512];
    snprintf(path, sizeof path, "%s/broken.gguf", dir);
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        CHECK(copy_without(good, path, cases[i].skip), "cannot write a copy without %s", cases[i].skip);
        tower t;
        vkmm_error err = {0};
        vkmm_status s = tower_open(&t, gpu, ops, path, &err);
        CHECK(s != VKMM_OK && strstr(err.msg, path) && strstr(err.msg, cases[i].says),
              "a file without %s: status %d, '%s'", cases[i].skip, s, err.msg);
        tower_close(&t);
    }
    unlink(path);
}

static void impossible_image(const tower *t)
{
    vkmm_error err = {0};
    float *pix = calloc(3 * 50 * 96, sizeof *pix);
    vkmm_image_tensor x = {.c = 3, .h = 50, .w = 96, .data = pix}; /* 50 rows: not whole 48-pixel tokens */
    float *rows = NULL;
    uint32_t n;
    vkmm_status s = run_tower(t, &x, 0, &rows, &n, &err);
    CHECK(s != VKMM_OK && strstr(err.msg, "48-pixel"), "a 96x50 input: status %d, '%s'", s, err.msg);
    free(rows);
    free(pix);
}

static void tower_row(void)
{
    const vkmm_media_tower *t = &vkmm_gemma4v_tower;
    CHECK(!strcmp(t->projector, "gemma4v") && !strcmp(t->layout.open, "<|image>") &&
              !strcmp(t->layout.close, "<image|>") && !*t->layout.text_before && !*t->layout.text_after,
          "gemma4v prompt layout");
    CHECK(t->default_tokens == 280 && t->token_budgets && t->token_budgets[0] == 70 && t->token_budgets[4] == 1120 &&
              t->token_budgets[5] == 0, "gemma4v budgets");
    vkmm_vision_hparams hp = {.patch = 16, .merge = 3};
    vkmm_image_prep p = t->preprocess(&hp, 560);
    CHECK(p.mode == VKMM_PREP_TOKEN_BUDGET && p.patch == 48 && p.max_tokens == 560 &&
              p.filter == VKMM_FILTER_PIL_BICUBIC && p.mean[0] == 0.5f && p.std[2] == 0.5f, "gemma4v preprocessing");
}

/* What a text layer makes of a chunk's image spans (vkmm_text_layer_spans): every layer under Gemma 3's rule; under
 * Gemma 4's sliding rule the sliding layers alone, bounded by their window, and the full layers none. */
static void layer_spans(void)
{
    static char stand_in; /* a range is only copied here, never bound */
    vkmm_range spans = {.buf = (vkmm_buffer *)&stand_in, .offset = 0, .size = 16};
    vkmm_forward fw = {.spans = spans, .n_spans = 2};
    vkmm_g_attn_params full = {0}, sliding = {0};
    vkmm_text_layer_spans(&fw, 0, &full);
    vkmm_text_layer_spans(&fw, 512, &sliding);
    CHECK(full.n_spans == 2 && sliding.n_spans == 2 && !full.spans_in_window && !sliding.spans_in_window,
          "all-layer spans: full %u, sliding %u", full.n_spans, sliding.n_spans);
    fw.spans_sliding_only = true;
    vkmm_text_layer_spans(&fw, 0, &full);
    vkmm_text_layer_spans(&fw, 512, &sliding);
    CHECK(full.n_spans == 0 && !full.spans.size && sliding.n_spans == 2 && sliding.spans.size == 16 &&
              sliding.spans_in_window, "sliding-only spans: full %u, sliding %u (in window %d)", full.n_spans,
          sliding.n_spans, sliding.spans_in_window);
}

static void family(vkmm_gpu *gpu, vkmm_ops *ops, const char *dir, const char *size, vkmm_dtype type,
                   uint32_t text_embd, const uint32_t (*images)[4], size_t n_images, bool broken)
{
    char path[512], what[64];
    snprintf(path, sizeof path, "%s/mmproj-%s-%s.gguf", dir, size, vkmm_dtype_get(type)->name);
    vkmm_error err;
    vkmm_synth_opts so = {.arch = "gemma4v", .size = size, .vision_type = type, .seed = 7, .mmproj_out = path,
                          .n_embd = text_embd};
    CHECK_OK(vkmm_synth(&so, &err), &err, );
    tower t;
    vkmm_status s = tower_open(&t, gpu, ops, path, &err);
    CHECK(!s, "%s: %s", path, err.msg);
    if (s) {
        tower_close(&t);
        return;
    }
    bool e_style = !strcmp(size, "tiny-e");
    CHECK(t.vm->has_attention &&
              t.vm->attention == (e_style ? VKMM_MEDIA_CAUSAL : VKMM_MEDIA_BIDIRECTIONAL_SLIDING),
          "%s: image rows attend by rule %d", size, (int)t.vm->attention);
    CHECK(vkmm_tower_attention(&vkmm_gemma4v_tower, t.vm) == t.vm->attention, "the file's rule wins over the row's");
    ref_arena arena = {0};
    ref_gemma4v rm;
    CHECK(ref_load_gemma4v(t.file, &rm, &arena), "reference gemma4v");
    CHECK(rm.n_text_embd == text_embd && t.vm->hp.n_text_embd == text_embd, "projection width");
    for (size_t i = 0; i < n_images; i++) {
        snprintf(what, sizeof what, "%s %s%s", size, vkmm_dtype_get(type)->name, images[i][3] ? " (passes)" : "");
        check_image(&t, &rm, images[i][0], images[i][1], images[i][2], images[i][3], what);
    }
    if (broken) {
        impossible_image(&t);
        broken_files(gpu, ops, path, dir);
    }
    free(rm.layers);
    ref_arena_free(&arena);
    tower_close(&t);
    unlink(path);
}

int main(void)
{
    char dir[] = "/tmp/vkmm-g4v-XXXXXX";
    if (!mkdtemp(dir))
        return 1;
    vkmm_error err;
    vkmm_gpu *gpu = test_gpu_open(NULL);
    vkmm_ops *ops;
    CHECK_OK(vkmm_ops_create(gpu, NULL, &ops, &err), &err, 1);
    tower_row();
    layer_spans();
    /* width, height, budget, bind limit: landscape, portrait, square, and 1000 x 30 (a strip of one token row:
     * 2304 x 48 by the ordinary rounding; HF's rule for a side that floors to nothing is met by e2e-gemma4-image's
     * 2000 x 20); the last as if bindings held 100 rows of the MLP (594 patches: six passes, the last short) */
    static const uint32_t e_images[][4] = {{200, 150, 70, 0}, {60, 130, 140, 0}, {1000, 30, 70, 0}};
    static const uint32_t q8_images[][4] = {{100, 100, 70, 0}};
    static const uint32_t b_images[][4] = {{300, 100, 280, 0}, {90, 160, 70, 0}, {90, 160, 70, 100 * 288 * 4}};
    family(gpu, ops, dir, "tiny-e", VKMM_F16, 256, e_images, 3, false);
    family(gpu, ops, dir, "tiny-e", VKMM_Q8_0, 256, q8_images, 1, false);
    family(gpu, ops, dir, "tiny-31b", VKMM_F16, 320, b_images, 3, true);
    vkmm_ops_destroy(ops);
    test_gpu_close(gpu);
    test_remove_dir(dir);
    return test_finish("gemma4v tower");
}
