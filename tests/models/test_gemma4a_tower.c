/* tests/models/test_gemma4a_tower.c — Gemma 4's audio tower on the GPU against the float64 reference
 * (tests/ref/ref_gemma4a.c, Hugging Face's computation line by line) on tiny synthetic mmprojs (vkmm-dev synth
 * --arch gemma4a; F16 and Q8_0 matrices, clipped linears that do clip): the embedding rows handed to the text model
 * for audio of 0.37 s (9 rows, shorter than one attention chunk), 7.3 s (183 rows, many chunks) and, with F16,
 * 65 s (three 30-second pieces, 750 + 750 + 125 rows), row counts equal to the reference's mask and to Gemma4Processor's
 * arithmetic; the tower's place in the architecture table; clear errors naming the file for mmprojs missing a
 * tensor or a key, a wrong shape or a bad clipping bound, and for audio too short to encode.
 * Bound: NMSE of all rows <= 1e-10 and every element within 2e-5 of the reference's largest magnitude (f32 through
 * two blocks against double, on lavapipe: measured NMSE 8e-14 to 2e-13, max 3e-7 to 5e-7 of the scale). The
 * reference without the synthetic clipping bounds is checked to move far more (NMSE ~0.09): the clipping is live. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "audio_encode.h"
#include "dtype_table.h"
#include "gemma4a.h"
#include "harness.h"
#include "ref/ref_load_gemma4a.h"
#include "synth.h"
#include "weights.h"

typedef struct ctx {
    vkmm_gpu *gpu;
    vkmm_ops *ops;
    vkmm_cmd *cmd;
    const char *dir;
} ctx;

/* n samples of something like speech at 16 kHz: a gliding harmonic tone with syllable-like bursts, and noise */
static float *signal(uint64_t n, uint32_t seed)
{
    float *x = malloc(sizeof *x * n);
    test_rng r = test_rng_seed(seed);
    double phase = 0;
    for (uint64_t i = 0; i < n; i++) {
        double t = (double)i / 16000.0, f0 = 140.0 + 60.0 * sin(2 * M_PI * 0.3 * t);
        phase += 2 * M_PI * f0 / 16000.0;
        double env = 0.5 + 0.5 * sin(2 * M_PI * 3.7 * t);
        double v = 0;
        for (int h = 1; h <= 6; h++)
            v += sin(h * phase) / h;
        x[i] = (float)(0.25 * env * v + 0.02 * test_rand_uniform(&r, -1, 1));
    }
    return x;
}

/* Gemma4Processor._compute_audio_num_tokens for one piece of n samples (without its 750 cap: a piece never
 * exceeds it) */
static uint64_t processor_tokens(uint64_t n)
{
    int64_t t = ((int64_t)n + 160 - 321) / 160 + 1;
    if (t <= 0)
        return 0;
    for (int i = 0; i < 2; i++)
        t = (t + 2 - 3) / 2 + 1;
    return (uint64_t)t;
}

/* The synthetic bounds must clip: without them the reference's rows move well beyond the bound above. */
static void check_clipping_matters(const ref_gemma4a *rm, const float *pcm, uint64_t n, const float *ref, size_t count)
{
    ref_gemma4a open = *rm;
    ref_g4a_layer *layers = malloc(sizeof *layers * rm->n_layer);
    memcpy(layers, rm->layers, sizeof *layers * rm->n_layer);
    for (uint32_t l = 0; l < rm->n_layer; l++) {
        ref_g4a_linear *lin[] = {&layers[l].ffn_up[0], &layers[l].ffn_down[0], &layers[l].ffn_up[1],
                                 &layers[l].ffn_down[1], &layers[l].q, &layers[l].k, &layers[l].v, &layers[l].o,
                                 &layers[l].pw1, &layers[l].pw2};
        for (size_t i = 0; i < sizeof lin / sizeof *lin; i++)
            lin[i]->in_lo = lin[i]->out_lo = -INFINITY, lin[i]->in_hi = lin[i]->out_hi = INFINITY;
    }
    open.layers = layers;
    float *unclipped = malloc(sizeof *unclipped * count);
    ref_gemma4a_encode_pcm(&open, pcm, n, unclipped);
    double e = test_nmse(unclipped, ref, count);
    printf("gemma4a: the reference without its clipping bounds moves by NMSE %.3g\n", e);
    CHECK(e > 1e-4, "the synthetic clipping bounds change nothing (NMSE %g)", e);
    free(unclipped), free(layers);
}

static vkmm_status load(ctx *c, const char *path, vkmm_gguf **g, vkmm_weight_store **ws, vkmm_audio_model **am,
                        vkmm_error *err)
{
    *g = NULL, *ws = NULL, *am = NULL;
    vkmm_status s = vkmm_gguf_open(path, g, err);
    vkmm_weight_store_params wp = {.gpu = c->gpu, .ops = c->ops, .gguf = *g, .stage = "audio"};
    if (!s)
        s = vkmm_weight_store_create(&wp, ws, err);
    if (!s)
        s = vkmm_gemma4a_tower.load_audio(vkmm_weight_store_source(*ws), am, err);
    return s;
}

static void unload(vkmm_gguf *g, vkmm_weight_store *ws, vkmm_audio_model *am)
{
    if (am)
        am->free(am);
    vkmm_weight_store_free(ws);
    vkmm_gguf_close(g);
}

static void check_lengths(ctx *c, vkmm_dtype type)
{
    char path[512];
    snprintf(path, sizeof path, "%s/gemma4a-%s.gguf", c->dir, vkmm_dtype_get(type)->name);
    vkmm_error err;
    vkmm_synth_opts so = {.arch = "gemma4a", .size = "tiny", .vision_type = type, .seed = 5, .mmproj_out = path};
    CHECK_OK(vkmm_synth_gemma4a_mmproj(&so, 64, &err), &err, );
    vkmm_gguf *g;
    vkmm_weight_store *ws;
    vkmm_audio_model *am;
    CHECK_OK(load(c, path, &g, &ws, &am, &err), &err, );
    ref_arena arena = {0};
    ref_gemma4a rm;
    CHECK(ref_load_gemma4a(g, &rm, &arena), "reference audio tower");
    CHECK(am->hp.n_text_embd == 64 && am->hp.n_layer == 2 && am->hp.n_head == 4 && am->hp.sub_ch[1] == 8,
          "hyperparameters from the file: text %u, %u layers, %u heads, channels %u", am->hp.n_text_embd,
          am->hp.n_layer, am->hp.n_head, am->hp.sub_ch[1]);
    static const struct { uint64_t n; uint64_t rows; } lengths[] = {{5920, 9}, {116800, 183}, {1040000, 1625}};
    /* the second weight type skips the longest audio: the types differ in the matrices alone */
    size_t n_lengths = type == VKMM_F16 ? 3 : 2;
    for (size_t i = 0; i < n_lengths; i++) {
        uint64_t n = lengths[i].n;
        float *pcm = signal(n, (uint32_t)i + 1);
        uint64_t want = 0;
        for (uint64_t start = 0; start < n; start += 480000)
            want += processor_tokens(n - start < 480000 ? n - start : 480000);
        uint64_t ref_rows = ref_gemma4a_encode_pcm(&rm, pcm, n, NULL);
        CHECK(want == lengths[i].rows && ref_rows == want && vkmm_audio_rows(am, n) == want,
              "%llu samples: the processor gives %llu rows, the reference %llu, the tower %llu (expected %llu)",
              (unsigned long long)n, (unsigned long long)want, (unsigned long long)ref_rows,
              (unsigned long long)vkmm_audio_rows(am, n), (unsigned long long)lengths[i].rows);
        size_t count = (size_t)want * am->hp.n_text_embd;
        float *ref = malloc(sizeof *ref * count), *got = malloc(sizeof *got * count);
        ref_gemma4a_encode_pcm(&rm, pcm, n, ref);
        vkmm_audio_encoding enc;
        CHECK_OK(vkmm_audio_encode(c->gpu, c->ops, c->cmd, am, pcm, n, "test audio", &enc, &err), &err, );
        CHECK(enc.n_rows == want && enc.n_pieces == (n + 479999) / 480000, "%llu rows in %u pieces",
              (unsigned long long)enc.n_rows, enc.n_pieces);
        CHECK_OK(vkmm_buffer_download(c->gpu, enc.rows, 0, got, sizeof *got * count, &err), &err, );
        double scale = 0;
        for (size_t j = 0; j < count; j++)
            scale = fmax(scale, fabs(ref[j]));
        double e = test_nmse(got, ref, count), worst = test_max_abs_diff(got, ref, count) / scale;
        printf("gemma4a %s, %6.2f s of audio: %5llu rows in %u piece(s), NMSE %.3g, max |error| %.3g of %.3g; "
               "features %.0f ms, tower %.0f ms\n", vkmm_dtype_get(type)->name, n / 16000.0,
               (unsigned long long)want, enc.n_pieces, e, worst, scale, enc.features_ms, enc.encode_ms);
        CHECK(e <= 1e-10 && worst <= 2e-5, "%s, %llu samples: rows differ from the reference (NMSE %g, max %g)",
              vkmm_dtype_get(type)->name, (unsigned long long)n, e, worst);
        vkmm_buffer_destroy(enc.rows);
        if (i == 1)
            check_clipping_matters(&rm, pcm, n, ref, count);
        free(pcm), free(ref), free(got);
    }
    /* too short for one frame: an error naming the input */
    float tiny[100] = {0};
    vkmm_audio_encoding enc;
    vkmm_status s = vkmm_audio_encode(c->gpu, c->ops, c->cmd, am, tiny, 100, "short.wav", &enc, &err);
    CHECK(s == VKMM_ERR_INVALID_ARG && strstr(err.msg, "short.wav") && !enc.rows, "100 samples: %s (%s)",
          vkmm_status_name(s), err.msg);
    free(rm.layers);
    ref_arena_free(&arena);
    unload(g, ws, am);
}

/* A copy of src without tensor `drop` and key `drop_key`, with tensor `shrink` given ne {1} instead (NULL: none). */
static void write_variant(const vkmm_gguf *src, const char *path, const char *drop, const char *drop_key,
                          const char *shrink, const char *grow)
{
    vkmm_gguf_writer *w = vkmm_gguf_writer_new();
    for (uint64_t i = 0; i < vkmm_gguf_kv_count(src); i++) {
        const vkmm_gguf_kv *kv = vkmm_gguf_kv_at(src, i);
        if (!drop_key || strcmp(kv->key, drop_key))
            vkmm_gguf_writer_add_raw(w, kv->key, kv->value.type, kv->value.raw, kv->value.size);
    }
    for (uint64_t i = 0; i < vkmm_gguf_tensor_count(src); i++) {
        const vkmm_gguf_tensor *t = vkmm_gguf_tensor_at(src, i);
        if (drop && !strcmp(t->name, drop))
            continue;
        uint64_t one = 1, two = 2;
        if (shrink && !strcmp(t->name, shrink))
            vkmm_gguf_writer_add_tensor(w, t->name, VKMM_F32, 1, &one, t->data);
        else if (grow && !strcmp(t->name, grow)) /* a "scalar" of two numbers, the second borrowed from the next bytes */
            vkmm_gguf_writer_add_tensor(w, t->name, VKMM_F32, 1, &two, vkmm_gguf_tensor_at(src, 0)->data);
        else
            vkmm_gguf_writer_add_tensor(w, t->name, t->type, t->n_dims, t->ne, t->data);
    }
    vkmm_error err;
    CHECK_OK(vkmm_gguf_writer_write(w, path, &err), &err, );
    vkmm_gguf_writer_free(w);
}

static void check_bad_files(ctx *c)
{
    char good[512], bad[512];
    snprintf(good, sizeof good, "%s/gemma4a-%s.gguf", c->dir, vkmm_dtype_get(VKMM_F16)->name);
    snprintf(bad, sizeof bad, "%s/bad.gguf", c->dir);
    vkmm_error err;
    vkmm_gguf *src;
    CHECK_OK(vkmm_gguf_open(good, &src, &err), &err, );
    static const struct { const char *drop, *drop_key, *shrink, *grow, *says; } cases[] = {
        {"a.blk.1.attn_k_rel.weight", NULL, NULL, NULL, "a.blk.1.attn_k_rel.weight"},
        {NULL, "clip.audio.block_count", NULL, NULL, "clip.audio.block_count"},
        {"a.conv1d.1.weight", NULL, NULL, NULL, "a.conv1d.1.weight"},
        {NULL, NULL, "a.blk.0.per_dim_scale.weight", NULL, "per_dim_scale"},
        {NULL, NULL, "a.pre_encode.out.weight", NULL, "pre_encode.out"},
        {NULL, NULL, NULL, "a.blk.1.conv_pw1.output_max", "a.blk.1.conv_pw1.output_max"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        write_variant(src, bad, cases[i].drop, cases[i].drop_key, cases[i].shrink, cases[i].grow);
        vkmm_gguf *g;
        vkmm_weight_store *ws;
        vkmm_audio_model *am;
        vkmm_status s = load(c, bad, &g, &ws, &am, &err);
        CHECK(s != VKMM_OK && !am && strstr(err.msg, bad) && strstr(err.msg, cases[i].says),
              "an mmproj with %s wrong loaded or failed unclearly: %s", cases[i].says, s ? err.msg : "(loaded)");
        printf("bad mmproj (%s): %s\n", cases[i].says, err.msg);
        unload(g, ws, am);
    }
    vkmm_gguf_close(src);
}

int main(void)
{
    vkmm_error err;
    ctx c = {.gpu = test_gpu_open(NULL)};
    CHECK_OK(vkmm_ops_create(c.gpu, NULL, &c.ops, &err), &err, 1);
    CHECK_OK(vkmm_cmd_create(c.gpu, 0, &c.cmd, &err), &err, 1);
    char dir[] = "/tmp/vkmm-gemma4a-XXXXXX";
    CHECK(mkdtemp(dir) != NULL, "temporary folder");
    c.dir = dir;
    const vkmm_media_tower *t = &vkmm_gemma4a_tower;
    CHECK(t->medium == VKMM_MEDIUM_AUDIO && !strcmp(t->projector, "gemma4a") && t->load_audio && !t->load &&
          !strcmp(t->layout.open, "<|audio>") && !strcmp(t->layout.close, "<audio|>") && !*t->layout.text_before &&
          !*t->layout.text_after && t->attention == VKMM_MEDIA_CAUSAL, "the gemma4a tower's table entry");
    check_lengths(&c, VKMM_F16);
    check_lengths(&c, VKMM_Q8_0);
    check_bad_files(&c);
    test_remove_dir(dir);
    vkmm_cmd_destroy(c.cmd);
    vkmm_ops_destroy(c.ops);
    test_gpu_close(c.gpu);
    return test_finish("gemma4a-tower");
}
