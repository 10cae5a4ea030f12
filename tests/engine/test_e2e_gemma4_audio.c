/* tests/engine/test_e2e_gemma4_audio.c — audio in Gemma 4 end to end: a tiny E-style pair from vkmm-dev synth (one
 * mmproj with the gemma4v and gemma4a towers under clip.vision.* and clip.audio.*), audio added through the public
 * API, "<|audio>" + rows + "<audio|>" in the prompt, attended causally. The logits of every prompt position and of
 * every generated step are held to the float64 references: the audio rows from ref_gemma4a (Hugging Face's
 * Gemma4AudioModel line by line, from the samples), the image rows from ref_gemma4v, both fed to ref_gemma4 as
 * embedding rows between the prompt's tokens. Cases: audio under one 30-second piece (0.61 s, 16 rows); audio
 * spanning several pieces (1.3 s cut into 0.5 s pieces, 13 + 13 + 8 rows: the pieces are shortened on the loaded
 * model to keep the test fast on lavapipe — the 30-second pieces themselves are checked row by row against the
 * reference for 65 s in tests/models/test_gemma4a_tower.c); audio + image + text in one prompt; the same turn as a
 * chat message whose <__media__> markers place the clip and the picture in the order media_order gives, which must
 * give the raw prompt's items. Then the mmprojs with one tower: audio alone (images refused), vision alone (audio
 * refused with VKMM_ERR_UNSUPPORTED, images still work).
 * Bound: worst row NMSE of the logits 1e-6, as tests/engine/test_e2e_gemma4.c. Measured on lavapipe (Mesa 22 and 25,
 * under validation): 3.8e-10 (one piece), 1.3e-9 (three pieces), 1.8e-7 (audio + image + text: the image rows come
 * from the float64 vision tower while the GPU's tower runs in f32 with f16 weights). */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "audio.h"
#include "engine.h"
#include "harness.h"
#include "image.h"
#include "session.h"
#include "ref/ref_gemma4v.h"
#include "ref/ref_load.h"
#include "ref/ref_load_gemma4a.h"
#include "synth.h"
#include "vkmm.h"

#include "e2e_common.h"

#define BOUND 1e-6
#define MAX_ITEMS 512

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

typedef struct refs {
    ref_gemma4 text;
    ref_gemma4a audio;
    ref_gemma4v vision;
    ref_arena arena;
    vkmm_gguf *text_file, *mmproj_file;
} refs;

/* The reference's audio rows for n samples cut into pieces of `piece` samples, each framed on its own (as
 * ref_gemma4a_encode_pcm does for 30-second pieces): malloc'ed [*rows][n_text]. */
static float *audio_rows(const ref_gemma4a *m, const float *pcm, uint64_t n, uint64_t piece, uint32_t *rows)
{
    vkmm_mel_params mp = vkmm_mel_params_gemma4();
    mp.n_mel = m->n_mel;
    float *out = malloc(sizeof *out * (n / 640 + 8) * m->n_text);
    uint32_t r = 0;
    for (uint64_t start = 0; start < n; start += piece) {
        uint64_t len = n - start < piece ? n - start : piece;
        float *feat = NULL;
        uint32_t frames, valid;
        vkmm_error err;
        CHECK_OK(vkmm_mel_compute(&mp, pcm + start, len, &feat, &frames, &valid, &err), &err, (free(out), NULL));
        if (valid)
            r += ref_gemma4a_encode(m, feat, frames, valid, out + (size_t)r * m->n_text);
        free(feat);
    }
    *rows = r;
    return out;
}

/* The reference's rows of a w x h picture as the model's processor prepares it: malloc'ed [*rows][n_text]. */
static float *image_rows(vkmm_model *m, const ref_gemma4v *rv, const uint8_t *rgb, uint32_t w, uint32_t h,
                         uint32_t *rows)
{
    vkmm_error err;
    vkmm_image img = {.rgb = (uint8_t *)rgb, .width = w, .height = h, .format = "rgb", .channels = 3};
    vkmm_image_prep prep = m->image_tower->preprocess(&m->vision->hp, m->image_tokens);
    vkmm_image resized;
    CHECK_OK(vkmm_image_prep_resize(&img, &prep, &resized, &err), &err, NULL);
    /* HF's processor: the resized picture in [0, 1]; the reference does 2x - 1 */
    size_t plane = (size_t)resized.width * resized.height;
    float *px = malloc(sizeof *px * plane * 3);
    for (size_t i = 0; i < plane; i++)
        for (int c = 0; c < 3; c++)
            px[c * plane + i] = (float)(resized.rgb[i * 3 + c] * (1.0 / 255.0));
    uint32_t n = (resized.height / 48) * (resized.width / 48);
    float *out = malloc(sizeof *out * (size_t)n * rv->n_text_embd);
    *rows = ref_gemma4v_encode(rv, px, resized.height, resized.width, true, out);
    free(px);
    vkmm_image_free(&resized);
    return out;
}

/* A prompt being built for both sides: ids and embedding rows for the reference. */
typedef struct prompt {
    ref_item items[MAX_ITEMS];
    uint32_t n;
} prompt;

static void push_text(vkmm_model *m, prompt *p, const char *text, bool first)
{
    int32_t ids[MAX_ITEMS];
    uint32_t n;
    vkmm_error err;
    CHECK_OK(vkmm_model_tokenize(m, text, first, true, ids, MAX_ITEMS, &n, &err), &err, );
    for (uint32_t i = 0; i < n && p->n < MAX_ITEMS; i++)
        p->items[p->n++] = (ref_item){ids[i], NULL};
}

static void push_rows(prompt *p, int32_t open, const float *rows, uint32_t n, uint32_t width, int32_t close)
{
    p->items[p->n++] = (ref_item){open, NULL};
    for (uint32_t r = 0; r < n && p->n < MAX_ITEMS - 1; r++)
        p->items[p->n++] = (ref_item){0, rows + (size_t)r * width};
    p->items[p->n++] = (ref_item){close, NULL};
}

static int32_t token(vkmm_model *m, const char *text)
{
    int32_t id = -1;
    uint32_t n = 0;
    vkmm_error err;
    CHECK_OK(vkmm_model_tokenize(m, text, false, true, &id, 1, &n, &err), &err, -1);
    CHECK(n == 1, "%s is %u tokens", text, n);
    return id;
}

/* Generates from what s holds and holds the logits of every position to the reference over p's items. */
static void check_logits(vkmm_session *s, const refs *r, prompt *p, uint32_t NT, const char *what)
{
    vkmm_error err;
    vkmm_sampling greedy = {.temperature = 0, .top_p = 1, .repeat_penalty = 1, .ignore_eog = true};
    gen g = {0};
    CHECK_OK(vkmm_session_generate(s, &greedy, 4, collect, &g, &err), &err, );
    uint32_t n_prompt = p->n, V = r->text.n_vocab;
    for (uint32_t i = 0; i + 1 < g.n && p->n < MAX_ITEMS; i++)
        p->items[p->n++] = (ref_item){g.ids[i], NULL};
    float *ref = malloc(sizeof *ref * (size_t)V * p->n);
    ref_gemma4_forward(&r->text, p->items, p->n, NULL, 0, REF_G4_SPANS_SLIDING, true, ref, NULL, NULL);
    uint32_t rows;
    const float *gpu = vkmm_session_logits(s, &rows);
    CHECK(rows == p->n, "%s: %u logit rows, expected %u", what, rows, p->n);
    double e = rows == p->n ? compare(gpu, ref, p->n, V, NT, &g, n_prompt, what) : INFINITY;
    printf("%-34s worst row NMSE %.3g over %u positions (%u prompt)\n", what, e, p->n, n_prompt);
    CHECK(e < BOUND, "%s: logits differ from the reference (NMSE %g)", what, e);
    free(ref);
}

static const char user_open[] = "<|turn>user\n", model_open[] = "<turn|>\n<|turn>model\n";

/* Raw prompt: turn, audio of n samples (pieces of `piece` samples on the model), question, turn end. */
static void check_audio(vkmm_model *m, const refs *r, uint64_t n, uint64_t piece, const char *what)
{
    uint32_t NT = vkmm_model_get_info(m).n_vocab;
    m->audio->piece_samples = piece; /* shortened pieces: see the header */
    float *pcm = signal(n, (uint32_t)n);
    uint32_t n_rows;
    float *rows = audio_rows(&r->audio, pcm, n, piece, &n_rows);
    vkmm_session_params sp = {.n_ctx = 256, .n_batch = 32, .all_logits = true};
    vkmm_session *s;
    vkmm_error err;
    CHECK_OK(vkmm_session_create(m, &sp, &s, &err), &err, );
    CHECK_OK(vkmm_session_add_text(s, user_open, true, &err), &err, );
    CHECK_OK(vkmm_session_add_audio_pcm(s, pcm, n, 16000, &err), &err, );
    CHECK_OK(vkmm_session_add_text(s, "What is said?", true, &err), &err, );
    CHECK_OK(vkmm_session_add_text(s, model_open, true, &err), &err, );
    static prompt p;
    p.n = 0;
    push_text(m, &p, user_open, true);
    push_rows(&p, token(m, "<|audio>"), rows, n_rows, r->audio.n_text, token(m, "<audio|>"));
    push_text(m, &p, "What is said?", false);
    push_text(m, &p, model_open, false);
    check_logits(s, r, &p, NT, what);
    vkmm_stats st = vkmm_session_stats(s);
    CHECK(st.n_audio == 1 && fabs(st.audio_seconds - (double)n / 16000) < 1e-9 && st.audio_ms > 0,
          "%s: stats %u clips, %.3f s, %.1f ms", what, st.n_audio, st.audio_seconds, st.audio_ms);
    vkmm_session_free(s);
    m->audio->piece_samples = 30 * 16000;
    free(pcm), free(rows);
}

/* Audio, then a picture, then text in one turn: raw, and as a chat message with markers in media order "ai". */
static void check_mixed(vkmm_model *m, const refs *r)
{
    uint32_t NT = vkmm_model_get_info(m).n_vocab;
    uint64_t n = 9000;
    float *pcm = signal(n, 77);
    uint32_t n_audio = 0, n_image = 0, w = 100, h = 90;
    float *arows = audio_rows(&r->audio, pcm, n, 30 * 16000, &n_audio);
    uint8_t *rgb = picture(w, h);
    float *irows = image_rows(m, &r->vision, rgb, w, h, &n_image);
    static prompt p;
    p.n = 0;
    push_text(m, &p, "<|turn>user\nListen: ", true);
    push_rows(&p, token(m, "<|audio>"), arows, n_audio, r->audio.n_text, token(m, "<audio|>"));
    push_text(m, &p, " and look: ", false);
    push_rows(&p, token(m, "<|image>"), irows, n_image, r->vision.n_text_embd, token(m, "<image|>"));
    push_text(m, &p, " What do you hear and see?", false);
    push_text(m, &p, model_open, false);

    vkmm_session_params sp = {.n_ctx = 256, .n_batch = 32, .all_logits = true};
    vkmm_session *s;
    vkmm_error err;
    CHECK_OK(vkmm_session_create(m, &sp, &s, &err), &err, );
    CHECK_OK(vkmm_session_add_text(s, "<|turn>user\nListen: ", true, &err), &err, );
    CHECK_OK(vkmm_session_add_audio_pcm(s, pcm, n, 16000, &err), &err, );
    CHECK_OK(vkmm_session_add_text(s, " and look: ", true, &err), &err, );
    CHECK_OK(vkmm_session_add_image_rgb(s, rgb, w, h, &err), &err, );
    CHECK_OK(vkmm_session_add_text(s, " What do you hear and see?", true, &err), &err, );
    CHECK_OK(vkmm_session_add_text(s, model_open, true, &err), &err, );
    check_logits(s, r, &p, NT, "gemma4 tiny-e audio+image+text");
    vkmm_session_free(s);

    /* the chat path: the markers take the clip, then the picture, each in its tower's layout */
    vkmm_session_params cp = {.n_ctx = 256, .n_batch = 32, .all_logits = true};
    CHECK_OK(vkmm_session_create(m, &cp, &s, &err), &err, );
    vkmm_image_input img = {.pixels = rgb, .width = w, .height = h, .channels = 3};
    vkmm_audio_input clip = {.samples = pcm, .n_frames = n, .sample_rate = 16000};
    vkmm_message msg = VKMM_SIZED(vkmm_message);
    msg.role = "user";
    msg.text = "Listen: <__media__> and look: <__media__> What do you hear and see?";
    msg.image_inputs = &img;
    msg.n_image_inputs = 1;
    msg.audio = &clip;
    msg.n_audio = 1;
    msg.media_order = "ai";
    CHECK_OK(vkmm_session_add_message(s, &msg, &err), &err, );
    vkmm_sampling greedy = {.temperature = 0, .top_p = 1, .repeat_penalty = 1, .ignore_eog = true};
    gen g = {0};
    CHECK_OK(vkmm_session_generate(s, &greedy, 1, collect, &g, &err), &err, );
    vkmm_stats st = vkmm_session_stats(s);
    CHECK(st.n_audio == 1 && st.n_images == 1, "chat: %u clips, %u images", st.n_audio, st.n_images);
    /* the sequence (engine internals): "<|audio>" rows "<audio|>" text "<|image>" rows "<image|>", in that order */
    uint32_t seen = 0, want[2] = {n_audio, n_image};
    int32_t open[2] = {token(m, "<|audio>"), token(m, "<|image>")}, close[2] = {token(m, "<audio|>"),
                                                                               token(m, "<image|>")};
    for (uint32_t i = 1; i < s->done.n && seen < 2; i++) {
        const vkmm_item *it = &s->done.v[i];
        if (it->image < 0 || it[-1].image >= 0)
            continue;
        uint32_t run = 0;
        while (i + run < s->done.n && it[run].image == it->image)
            run++;
        bool audio = s->images[it->image].tower->medium == VKMM_MEDIUM_AUDIO;
        CHECK(audio == (seen == 0) && run == want[seen] && it[-1].token == open[seen] && i + run < s->done.n &&
              s->done.v[i + run].token == close[seen],
              "chat: media item %u is %s of %u rows after token %d (want %u rows after %d)", seen,
              audio ? "audio" : "an image", run, it[-1].token, want[seen], open[seen]);
        seen++;
    }
    CHECK(seen == 2, "chat: %u media spans in the sequence", seen);
    /* the wrong order is refused with a clear message */
    msg.media_order = "aa";
    vkmm_status bad = vkmm_session_add_message(s, &msg, &err);
    CHECK(bad == VKMM_ERR_INVALID_ARG && strstr(err.msg, "media order"), "media order 'aa': %s", err.msg);
    vkmm_session_free(s);
    free(pcm), free(arows), free(irows), free(rgb);
}

/* mmprojs with one tower: audio alone (images refused) and vision alone (audio refused, images kept) */
static void check_one_tower(const char *text_path, const char *dir)
{
    char audio_only[512], vision_only[512];
    snprintf(audio_only, sizeof audio_only, "%s/audio-only.gguf", dir);
    snprintf(vision_only, sizeof vision_only, "%s/vision-only.gguf", dir);
    vkmm_error err;
    vkmm_synth_opts ao = {.arch = "gemma4a", .size = "tiny", .vision_type = VKMM_F16, .seed = 3,
                          .mmproj_out = audio_only};
    CHECK_OK(vkmm_synth_gemma4a_mmproj(&ao, 256, &err), &err, );
    vkmm_synth_opts vo = {.arch = "gemma4v", .size = "tiny-e", .vision_type = VKMM_F16, .seed = 3, .n_embd = 256,
                          .mmproj_out = vision_only};
    CHECK_OK(vkmm_synth(&vo, &err), &err, );
    float *pcm = signal(4000, 5);
    uint8_t *rgb = picture(64, 64);

    vkmm_model_params mp = {.model_path = text_path, .mmproj_path = audio_only, .validation = 1,
                            .chat_template = "gemma4"};
    vkmm_model *m;
    vkmm_session *s;
    CHECK_OK(vkmm_model_load(&mp, &m, &err), &err, );
    vkmm_model_info info = vkmm_model_get_info(m);
    CHECK(info.has_audio && !info.has_vision, "audio-only mmproj: audio %d, vision %d", info.has_audio,
          info.has_vision);
    CHECK_OK(vkmm_session_create(m, NULL, &s, &err), &err, );
    CHECK_OK(vkmm_session_add_audio_pcm(s, pcm, 4000, 16000, &err), &err, );
    vkmm_status st = vkmm_session_add_image_rgb(s, rgb, 64, 64, &err);
    CHECK(st != VKMM_OK && strstr(err.msg, "vision"), "an image for an audio-only mmproj: %s", err.msg);
    vkmm_session_free(s);
    vkmm_model_free(m);

    mp.mmproj_path = vision_only;
    CHECK_OK(vkmm_model_load(&mp, &m, &err), &err, );
    info = vkmm_model_get_info(m);
    CHECK(!info.has_audio && info.has_vision, "vision-only mmproj: audio %d, vision %d", info.has_audio,
          info.has_vision);
    CHECK_OK(vkmm_session_create(m, NULL, &s, &err), &err, );
    CHECK_OK(vkmm_session_add_image_rgb(s, rgb, 64, 64, &err), &err, );
    st = vkmm_session_add_audio_pcm(s, pcm, 4000, 16000, &err);
    CHECK(st == VKMM_ERR_UNSUPPORTED && strstr(err.msg, "audio"), "audio for a vision-only mmproj: %s (%s)",
          vkmm_status_name(st), err.msg);
    printf("audio for a vision-only model: %s\n", err.msg);
    vkmm_session_free(s);
    vkmm_session_create(m, NULL, &s, &err);
    vkmm_audio_input clip = {.samples = pcm, .n_frames = 4000, .sample_rate = 16000};
    vkmm_message msg = VKMM_SIZED(vkmm_message);
    msg.role = "user";
    msg.text = "Hi";
    msg.audio = &clip;
    msg.n_audio = 1;
    st = vkmm_session_add_message(s, &msg, &err);
    CHECK(st == VKMM_ERR_UNSUPPORTED, "a chat turn with audio for a vision-only mmproj: %s", err.msg);
    vkmm_session_free(s);
    vkmm_model_free(m);
    free(pcm), free(rgb);
}

int main(int argc, char **argv)
{
    if (argc < 2 || access(argv[1], R_OK)) {
        fprintf(stderr, "FAIL: the Gemma 3 tokenizer (%s) is missing: run scripts/setup\n", argc > 1 ? argv[1] : "?");
        return 1;
    }
    char dir[] = "/tmp/vkmm-e2e4a-XXXXXX";
    if (!mkdtemp(dir))
        return 1;
    test_stderr_capture cap; /* validation messages reach only stderr through the public API */
    CHECK(test_stderr_capture_begin(&cap), "cannot redirect stderr");
    char path[512], mmproj[512];
    snprintf(path, sizeof path, "%s/gemma4-tiny-e.gguf", dir);
    snprintf(mmproj, sizeof mmproj, "%s/mmproj-gemma4-tiny-e.gguf", dir);
    vkmm_error err;
    vkmm_synth_opts so = {.arch = "gemma4", .size = "tiny-e", .type = VKMM_F16, .vision_type = VKMM_F16,
                          .tokenizer = argv[1], .seed = 13, .out = path, .mmproj_out = mmproj};
    CHECK_OK(vkmm_synth(&so, &err), &err, 1);
    vkmm_model_params mp = VKMM_SIZED(vkmm_model_params);
    mp.model_path = path;
    mp.mmproj_path = mmproj;
    mp.validation = 1;
    mp.chat_template = "gemma4";
    mp.image_tokens = 70;
    vkmm_model *m;
    CHECK_OK(vkmm_model_load(&mp, &m, &err), &err, 1);
    vkmm_model_info info = vkmm_model_get_info(m);
    CHECK(info.has_audio && info.has_vision, "the E-style mmproj: audio %d, vision %d", info.has_audio,
          info.has_vision);
    refs r = {0};
    CHECK_OK(vkmm_gguf_open(path, &r.text_file, &err), &err, 1);
    CHECK_OK(vkmm_gguf_open(mmproj, &r.mmproj_file, &err), &err, 1);
    const char *v;
    uint64_t len;
    CHECK(!vkmm_gguf_get_str(r.mmproj_file, "clip.projector_type", &v, &len) &&
          vkmm_gguf_get_str(r.mmproj_file, "clip.vision.projector_type", &v, &len) &&
          vkmm_gguf_get_str(r.mmproj_file, "clip.audio.projector_type", &v, &len),
          "the synthetic mmproj names its towers as llama.cpp's converter does");
    CHECK(ref_load_gemma4(r.text_file, &r.text, &r.arena), "reference text model");
    CHECK(ref_load_gemma4a(r.mmproj_file, &r.audio, &r.arena), "reference audio tower");
    CHECK(ref_load_gemma4v(r.mmproj_file, &r.vision, &r.arena), "reference vision tower");

    check_audio(m, &r, 9800, 30 * 16000, "gemma4 tiny-e audio 0.61 s");
    check_audio(m, &r, 20800, 8000, "gemma4 tiny-e audio 1.3 s, 3 pieces");
    check_mixed(m, &r);
    vkmm_model_free(m);
    check_one_tower(path, dir);

    free(r.text.layers), free(r.audio.layers), free(r.vision.layers);
    ref_arena_free(&r.arena);
    vkmm_gguf_close(r.text_file);
    vkmm_gguf_close(r.mmproj_file);
    unsigned msgs = test_stderr_capture_end(&cap);
    CHECK(msgs == 0, "the validation layer reported %u messages", msgs);
    test_remove_dir(dir);
    return test_finish("e2e gemma4 audio");
}
