/* tests/engine/test_generate.c — the public API's generation loop on the demo model: the step API against the
 * callback form, the last event and after it, stop strings across token boundaries, cancelling from another
 * thread, raw text going on where it stopped, images from a file, from bytes and from pixels, model names.
 * Public API only (vkmm.h), under the validation layer (its messages are counted on stderr). */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"
#include "vkmm.h"

static const char *g_image;

typedef struct reply {
    char text[4096];
    int32_t ids[512];
    uint32_t n;
    vkmm_finish finish;
} reply;

static bool collect(const vkmm_token_event *ev, void *user)
{
    reply *r = user;
    strncat(r->text, ev->piece, sizeof r->text - strlen(r->text) - 1);
    if (ev->id >= 0 && r->n < 512)
        r->ids[r->n++] = ev->id;
    r->finish = ev->finish;
    return true;
}

static vkmm_sampling greedy(void)
{
    vkmm_sampling s = vkmm_sampling_default();
    s.temperature = 0;
    return s;
}

static vkmm_status ask(vkmm_session *s, const char *question, const vkmm_image_input *img, vkmm_error *err)
{
    vkmm_session_reset(s);
    vkmm_message m = {.role = "user", .text = question, .image_inputs = img, .n_image_inputs = img ? 1 : 0};
    return vkmm_session_add_message(s, &m, err);
}

static void step_api_equals_callback(vkmm_session *s)
{
    vkmm_error err;
    vkmm_image_input img = {.path = g_image};
    vkmm_sampling sp = greedy();
    reply a = {0}, b = {0};
    CHECK_OK(ask(s, "Describe the image.", &img, &err), &err, );
    CHECK_OK(vkmm_session_generate(s, &sp, 64, collect, &a, &err), &err, );
    CHECK(a.finish == VKMM_FINISH_EOG && strstr(a.text, "blue star"), "callback form: %s (finish %d)", a.text, a.finish);
    vkmm_stats st = vkmm_session_stats(s);
    CHECK(st.last_prompt == 33 && st.last_gen == a.n && st.last_finish == VKMM_FINISH_EOG, "stats %u %u %d",
          st.last_prompt, st.last_gen, st.last_finish);
    CHECK_OK(ask(s, "Describe the image.", &img, &err), &err, );
    CHECK_OK(vkmm_session_begin(s, &sp, 64, &err), &err, );
    vkmm_token_event ev = {0};
    do {
        CHECK_OK(vkmm_session_next(s, &ev, &err), &err, );
        collect(&ev, &b);
    } while (!ev.finish);
    CHECK(!strcmp(a.text, b.text) && a.n == b.n && !memcmp(a.ids, b.ids, a.n * 4), "step API differs: '%s' vs '%s'",
          a.text, b.text);
    /* after the last event: the same finish, no token, no text; then end */
    CHECK_OK(vkmm_session_next(s, &ev, &err), &err, );
    CHECK(ev.id == -1 && !ev.piece[0] && ev.finish == VKMM_FINISH_EOG, "after the end: id %d finish %d", ev.id,
          ev.finish);
    CHECK_OK(vkmm_session_end(s, &err), &err, );
    CHECK(vkmm_session_next(s, &ev, &err) == VKMM_ERR_INVALID_ARG, "next without begin accepted");
    CHECK_OK(vkmm_session_end(s, &err), &err, ); /* twice is fine */
    CHECK(!strcmp(vkmm_finish_name(VKMM_FINISH_LENGTH), "length"), "finish name");
}

static void stop_strings(vkmm_session *s)
{
    vkmm_error err;
    vkmm_image_input img = {.path = g_image};
    const char *full = "A large blue star at the top, a small blue square in the centre and a large yellow circle at "
                       "the bottom.";
    /* "lue st" spans the tokens " blue" and " star"; the second string never occurs */
    const char *stops[2] = {"lue st", "purple"};
    vkmm_sampling sp = greedy();
    sp.stop = stops;
    sp.n_stop = 2;
    reply r = {0};
    CHECK_OK(ask(s, "Describe the image.", &img, &err), &err, );
    CHECK_OK(vkmm_session_generate(s, &sp, 64, collect, &r, &err), &err, );
    CHECK(!strcmp(r.text, "A large b") && r.finish == VKMM_FINISH_STOP, "stopped at '%s' (finish %d)", r.text,
          r.finish);
    const char *late[1] = {"bottom."};
    sp.stop = late;
    sp.n_stop = 1;
    memset(&r, 0, sizeof r);
    CHECK_OK(ask(s, "Describe the image.", &img, &err), &err, );
    CHECK_OK(vkmm_session_generate(s, &sp, 64, collect, &r, &err), &err, );
    CHECK(!strncmp(r.text, full, strlen(full) - 7) && strlen(r.text) == strlen(full) - 7 && r.finish == VKMM_FINISH_STOP,
          "'%s'", r.text);
    const char *empty[1] = {""};
    sp.stop = empty;
    CHECK(vkmm_session_begin(s, &sp, 8, &err) == VKMM_ERR_INVALID_ARG, "an empty stop string accepted");
    sp.n_stop = VKMM_MAX_STOP + 1;
    CHECK(vkmm_session_begin(s, &sp, 8, &err) == VKMM_ERR_INVALID_ARG, "17 stop strings accepted");
    /* max_tokens */
    sp = greedy();
    memset(&r, 0, sizeof r);
    CHECK_OK(ask(s, "Describe the image.", &img, &err), &err, );
    CHECK_OK(vkmm_session_generate(s, &sp, 3, collect, &r, &err), &err, );
    CHECK(r.n == 3 && r.finish == VKMM_FINISH_LENGTH && !strcmp(r.text, "A large blue"), "3 tokens: '%s' %d", r.text,
          r.finish);
}

typedef struct canceller {
    vkmm_session *s;
    volatile int *tokens;
} canceller;

static void *cancel_later(void *arg)
{
    canceller *c = arg;
    while (*c->tokens < 20)
        usleep(1000);
    vkmm_session_cancel(c->s);
    return NULL;
}

static bool count_tokens(const vkmm_token_event *ev, void *user)
{
    volatile int *n = user;
    (*n)++;
    (void)ev;
    return true;
}

static void cancel_from_another_thread(vkmm_session *s)
{
    vkmm_error err;
    vkmm_sampling sp = greedy();
    sp.ignore_eog = true; /* would run to max_tokens */
    CHECK_OK(ask(s, "Describe the image.", NULL, &err), &err, );
    volatile int tokens = 0;
    canceller c = {s, &tokens};
    pthread_t t;
    pthread_create(&t, NULL, cancel_later, &c);
    CHECK_OK(vkmm_session_generate(s, &sp, 200, count_tokens, (void *)&tokens, &err), &err, );
    pthread_join(t, NULL);
    vkmm_stats st = vkmm_session_stats(s);
    CHECK(st.last_finish == VKMM_FINISH_CANCELLED && tokens >= 20 && tokens < 200, "cancelled after %d tokens (%d)",
          tokens, st.last_finish);
    /* the session (and its next begin) works as before */
    vkmm_image_input img = {.path = g_image};
    reply r = {0};
    sp = greedy();
    CHECK_OK(ask(s, "Describe the image.", &img, &err), &err, );
    CHECK_OK(vkmm_session_generate(s, &sp, 64, collect, &r, &err), &err, );
    CHECK(strstr(r.text, "blue star") != NULL, "after a cancel: %s", r.text);
}

static void raw_text_goes_on(vkmm_model *m)
{
    vkmm_error err;
    vkmm_session *a = NULL, *b = NULL;
    CHECK_OK(vkmm_session_create(m, NULL, &a, &err), &err, );
    CHECK_OK(vkmm_session_create(m, NULL, &b, &err), &err, );
    vkmm_sampling sp = greedy();
    sp.ignore_eog = true;
    reply one = {0}, two = {0};
    const char *prompt = "<start_of_turn>user\nHow many shapes are there?<end_of_turn>\n<start_of_turn>model\n";
    CHECK_OK(vkmm_session_add_text(a, prompt, true, &err), &err, );
    CHECK_OK(vkmm_session_generate(a, &sp, 10, collect, &one, &err), &err, );
    CHECK_OK(vkmm_session_add_text(b, prompt, true, &err), &err, );
    CHECK_OK(vkmm_session_generate(b, &sp, 4, collect, &two, &err), &err, );
    CHECK_OK(vkmm_session_generate(b, &sp, 6, collect, &two, &err), &err, );
    CHECK(one.n == 10 && two.n == 10 && !memcmp(one.ids, two.ids, sizeof one.ids[0] * 10),
          "4 + 6 tokens differ from 10: '%s' vs '%s'", one.text, two.text);
    vkmm_session_free(a);
    vkmm_session_free(b);
}

static void image_kinds(vkmm_session *s)
{
    vkmm_error err;
    FILE *f = fopen(g_image, "rb");
    static uint8_t bytes[1 << 20];
    size_t len = f ? fread(bytes, 1, sizeof bytes, f) : 0;
    if (f)
        fclose(f);
    CHECK(len > 100, "cannot read %s", g_image);
    vkmm_image_input kinds[2] = {{.path = g_image}, {.data = bytes, .size = len, .name = "bytes"}};
    reply r[2] = {0};
    vkmm_sampling sp = greedy();
    for (int k = 0; k < 2; k++) {
        CHECK_OK(ask(s, "Describe the image.", &kinds[k], &err), &err, );
        CHECK_OK(vkmm_session_generate(s, &sp, 64, collect, &r[k], &err), &err, );
    }
    CHECK(!strcmp(r[0].text, r[1].text), "path and bytes differ: '%s' vs '%s'", r[0].text, r[1].text);
    /* pixels: a flat grey picture and its RGBA twin (alpha 255) agree; two kinds at once are refused */
    static uint8_t rgb[64 * 48 * 3], rgba[64 * 48 * 4];
    for (int i = 0; i < 64 * 48; i++) {
        rgb[3 * i] = rgb[3 * i + 1] = rgb[3 * i + 2] = (uint8_t)(i % 251);
        rgba[4 * i] = rgba[4 * i + 1] = rgba[4 * i + 2] = (uint8_t)(i % 251);
        rgba[4 * i + 3] = 255;
    }
    vkmm_image_input px[2] = {{.pixels = rgb, .width = 64, .height = 48, .channels = 3},
                              {.pixels = rgba, .width = 64, .height = 48, .channels = 4}};
    reply p[2] = {0};
    for (int k = 0; k < 2; k++) {
        CHECK_OK(ask(s, "Describe the image.", &px[k], &err), &err, );
        CHECK_OK(vkmm_session_generate(s, &sp, 64, collect, &p[k], &err), &err, );
    }
    CHECK(!strcmp(p[0].text, p[1].text), "RGB and RGBA pixels differ");
    vkmm_image_input both = {.path = g_image, .data = bytes, .size = len};
    CHECK(ask(s, "x", &both, &err) == VKMM_ERR_INVALID_ARG && strstr(err.msg, "exactly one"), "%s", err.msg);
    vkmm_image_input bad = {.data = "not an image", .size = 12, .name = "junk"};
    CHECK(ask(s, "x", &bad, &err) == VKMM_ERR_UNSUPPORTED && strstr(err.msg, "junk"), "%s", err.msg);
}

static void names(const char *model_path)
{
    vkmm_model_ref ref = {0};
    vkmm_error err;
    CHECK_OK(vkmm_model_resolve("demo", NULL, &ref, &err), &err, );
    CHECK(ref.mmproj && strstr(ref.model, "gemma3-demo.gguf") && (ref.set & VKMM_REF_MAX_TOKENS) && ref.max_tokens == 48 &&
              ref.sampling.temperature == 0, "demo resolves to %s (%u)", ref.model, ref.max_tokens);
    vkmm_model_ref_free(&ref);
    CHECK_OK(vkmm_model_resolve(model_path, NULL, &ref, &err), &err, );
    CHECK(ref.manifest == NULL && !strcmp(ref.model, model_path), "a GGUF path resolves to itself");
    vkmm_model_ref_free(&ref);
    CHECK(vkmm_model_resolve("no-such-model", NULL, &ref, &err) == VKMM_ERR_NOT_FOUND && strstr(err.msg, "demo"),
          "unknown name: %s", err.msg);
    CHECK(vkmm_model_resolve("/nowhere/x.gguf", NULL, &ref, &err) == VKMM_ERR_IO, "missing file: %s", err.msg);
    vkmm_model_catalog c = {0};
    CHECK_OK(vkmm_model_catalog_load(&c, &err), &err, );
    bool demo = false, big = false;
    for (uint32_t i = 0; i < c.n_models; i++) {
        demo |= !strcmp(c.models[i].name, "demo") && c.models[i].present;
        big |= !strcmp(c.models[i].name, "gemma-3-27b") && c.models[i].repo != NULL;
    }
    CHECK(demo && big && c.n_dirs >= 2, "catalog: demo %d, gemma-3-27b %d, %u folders", demo, big, c.n_dirs);
    vkmm_model_catalog_free(&c);
}

int main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: test_generate MODEL.gguf MMPROJ.gguf IMAGE\n");
        return 2;
    }
    g_image = argv[3];
    test_stderr_capture cap;
    test_stderr_capture_begin(&cap);
    vkmm_error err;
    vkmm_model *m = NULL;
    vkmm_session *s = NULL;
    vkmm_model_params mp = {.model_path = argv[1], .mmproj_path = argv[2], .validation = -1};
    vkmm_session_params sp = {.n_ctx = 256};
    if (!vkmm_model_load(&mp, &m, &err) && !vkmm_session_create(m, &sp, &s, &err)) {
        step_api_equals_callback(s);
        stop_strings(s);
        cancel_from_another_thread(s);
        raw_text_goes_on(m);
        image_kinds(s);
    } else {
        CHECK(false, "loading the demo model: %s", err.msg);
    }
    names(argv[1]);
    vkmm_session_free(s);
    vkmm_model_free(m);
    unsigned msgs = test_stderr_capture_end(&cap);
    CHECK(msgs == 0, "%u validation messages", msgs);
    return test_finish("engine-generate");
}
