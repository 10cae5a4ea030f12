/* tests/engine/test_api_growth.c — the rules of "how this API grows" in vkmm.h, as a program built against another
 * header would meet them: a caller whose structs are larger (a newer header) has its extra fields ignored and
 * never written; one whose struct_size is below any version's is refused by name; struct_size 0 means this
 * version's layout; the *_get functions write only the bytes asked for; arrays stride by struct_size; the version
 * number agrees with the version string. */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"
#include "synth.h"
#include "vkmm.h"

/* What a caller built against a newer header passes: our struct with fields after it that we do not know. */
#define NEWER(T) struct { T v; unsigned char extra[40]; }
#define FILL_EXTRA(x) memset((x).extra, 0xA5, sizeof (x).extra)

static bool extra_untouched(const unsigned char *extra, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (extra[i] != 0xA5)
            return false;
    return true;
}

static uint8_t *picture(uint32_t w, uint32_t h)
{
    uint8_t *p = malloc((size_t)w * h * 3);
    for (uint32_t i = 0; i < w * h * 3; i++)
        p[i] = (uint8_t)(i * 37 + (i / 3) * 11);
    return p;
}

static void version(void)
{
    char want[32];
    uint32_t v = vkmm_version_number();
    snprintf(want, sizeof want, "%u.%u.%u", v / 10000, v / 100 % 100, v % 100);
    CHECK(v == VKMM_VERSION_NUMBER, "library %u, header %d", v, VKMM_VERSION_NUMBER);
    CHECK(!strcmp(vkmm_version(), want), "version string %s, number %u", vkmm_version(), v);
}

/* The getters write the first size bytes and nothing past them. */
static void getters(vkmm_model *m, vkmm_session *s)
{
    NEWER(vkmm_model_info) info;
    FILL_EXTRA(info);
    vkmm_model_info_get(m, &info.v, sizeof info);
    CHECK(extra_untouched(info.extra, sizeof info.extra) && info.v.n_layer > 0, "model info past its size");
    unsigned char part[offsetof(vkmm_model_info, n_layer) + 8];
    memset(part, 0xA5, sizeof part);
    vkmm_model_info_get(m, (vkmm_model_info *)part, offsetof(vkmm_model_info, n_layer));
    CHECK(extra_untouched(part + offsetof(vkmm_model_info, n_layer), 8), "model info wrote past an older size");
    NEWER(vkmm_model_stats) ms;
    FILL_EXTRA(ms);
    vkmm_model_stats_get(m, &ms.v, sizeof ms);
    CHECK(extra_untouched(ms.extra, sizeof ms.extra) && ms.v.kv_positions > 0, "model stats past their size");
    NEWER(vkmm_stats) ss;
    FILL_EXTRA(ss);
    vkmm_session_stats_get(s, &ss.v, sizeof ss);
    CHECK(extra_untouched(ss.extra, sizeof ss.extra), "session stats past their size");
    NEWER(vkmm_sampling) sp;
    FILL_EXTRA(sp);
    vkmm_sampling_defaults(&sp.v, sizeof sp);
    CHECK(extra_untouched(sp.extra, sizeof sp.extra) && sp.v.struct_size == sizeof sp.v && sp.v.top_k == 40,
          "sampling defaults: size %u, top-k %d", sp.v.struct_size, sp.v.top_k);
    vkmm_sampling d = vkmm_sampling_default();
    CHECK(d.struct_size == sizeof d && d.temperature > 0.79f && d.top_k == 40, "the inline default");
}

/* A newer caller's structs work; their unknown fields are neither read nor written. */
static void newer_caller(vkmm_model *m, const char *text_path, const char *vis_path, uint32_t *ids, uint32_t *n_ids)
{
    vkmm_error err;
    NEWER(vkmm_session_params) sp = {.v = {.struct_size = sizeof sp, .n_ctx = 256, .n_batch = 64}};
    FILL_EXTRA(sp);
    vkmm_session *s = NULL;
    CHECK_OK(vkmm_session_create(m, &sp.v, &s, &err), &err, );
    uint8_t *pic = picture(40, 30), *pic2 = picture(30, 40); /* two pictures: a repeated one is encoded once */
    NEWER(vkmm_image_input) img[2];
    memset(img, 0, sizeof img);
    for (int i = 0; i < 2; i++) {
        img[i].v = (vkmm_image_input){.struct_size = sizeof img[0], .pixels = i ? pic2 : pic, .width = i ? 30 : 40,
                                      .height = i ? 40 : 30, .channels = 3};
        FILL_EXTRA(img[i]);
    }
    NEWER(vkmm_message) msg = {.v = {.struct_size = sizeof msg, .role = "user", .text = "<__media__> and "
                                     "<__media__>: the same?", .image_inputs = &img[0].v, .n_image_inputs = 2}};
    FILL_EXTRA(msg);
    CHECK_OK(vkmm_session_add_message(s, &msg.v, &err), &err, );
    NEWER(vkmm_sampling) greedy = {.v = {.struct_size = sizeof greedy, .temperature = 0, .top_p = 1,
                                         .repeat_penalty = 1, .ignore_eog = true}};
    FILL_EXTRA(greedy);
    CHECK_OK(vkmm_session_begin(s, &greedy.v, 4, &err), &err, );
    NEWER(vkmm_token_event) ev = {.v = {.struct_size = sizeof ev}};
    FILL_EXTRA(ev);
    *n_ids = 0;
    for (;;) {
        CHECK_OK(vkmm_session_next(s, &ev.v, &err), &err, );
        CHECK(ev.v.struct_size == sizeof ev && extra_untouched(ev.extra, sizeof ev.extra),
              "the event's size or unknown fields changed");
        if (ev.v.id >= 0)
            ids[(*n_ids)++] = (uint32_t)ev.v.id;
        if (ev.v.finish)
            break;
    }
    CHECK_OK(vkmm_session_end(s, &err), &err, );
    CHECK(vkmm_session_stats(s).n_images == 2 && *n_ids == 4, "%u images, %u tokens", vkmm_session_stats(s).n_images,
          *n_ids);
    vkmm_session_free(s);

    /* the same conversation from plain 0.2 structs (struct_size 0) gives the same tokens */
    CHECK_OK(vkmm_session_create(m, &(vkmm_session_params){.n_ctx = 256, .n_batch = 64}, &s, &err), &err, );
    vkmm_image_input plain[2] = {{.pixels = pic, .width = 40, .height = 30, .channels = 3},
                                 {.pixels = pic2, .width = 30, .height = 40, .channels = 3}};
    vkmm_message pm = msg.v;
    pm.struct_size = 0;
    pm.image_inputs = plain;
    CHECK_OK(vkmm_session_add_message(s, &pm, &err), &err, );
    vkmm_sampling g0 = greedy.v;
    g0.struct_size = 0;
    CHECK_OK(vkmm_session_begin(s, &g0, 4, &err), &err, );
    for (uint32_t i = 0;; i++) {
        vkmm_token_event e = {0};
        CHECK_OK(vkmm_session_next(s, &e, &err), &err, );
        if (e.id >= 0)
            CHECK(i < *n_ids && (uint32_t)e.id == ids[i], "token %u: %d, the newer caller got %u", i, e.id,
                  i < *n_ids ? ids[i] : 0);
        if (e.finish)
            break;
    }
    vkmm_session_free(s);
    free(pic);
    free(pic2);

    NEWER(vkmm_model_params) mp = {.v = {.struct_size = sizeof mp, .model_path = text_path, .mmproj_path = vis_path,
                                         .validation = 1}};
    FILL_EXTRA(mp);
    vkmm_model *m2 = NULL;
    CHECK_OK(vkmm_model_load(&mp.v, &m2, &err), &err, );
    CHECK(vkmm_model_get_info(m2).has_vision, "the newer caller's model lost its projector");
    vkmm_model_free(m2);

    NEWER(vkmm_model_ref) ref = {.v = {.struct_size = sizeof ref}};
    FILL_EXTRA(ref);
    CHECK_OK(vkmm_model_resolve(text_path, NULL, &ref.v, &err), &err, );
    CHECK(ref.v.struct_size == sizeof ref && extra_untouched(ref.extra, sizeof ref.extra) && ref.v.model &&
          !strcmp(ref.v.model, text_path) && ref.v.sampling.top_k == 40, "a newer caller's model ref");
    vkmm_model_ref_free(&ref.v);
    CHECK(extra_untouched(ref.extra, sizeof ref.extra) && ref.v.struct_size == sizeof ref && !ref.v.model,
          "vkmm_model_ref_free cleared past the caller's struct or its size");

    NEWER(vkmm_model_catalog) cat = {.v = {.struct_size = sizeof cat}};
    FILL_EXTRA(cat);
    CHECK_OK(vkmm_model_catalog_load(&cat.v, &err), &err, );
    CHECK(extra_untouched(cat.extra, sizeof cat.extra) && cat.v.n_dirs > 0, "a newer caller's catalog");
    for (uint32_t i = 0; i < cat.v.n_models; i++)
        CHECK(vkmm_model_catalog_at(&cat.v, i)->struct_size == sizeof(vkmm_model_entry) &&
              vkmm_model_catalog_at(&cat.v, i)->name, "catalog entry %u", i);
    vkmm_model_catalog_free(&cat.v);
    CHECK(extra_untouched(cat.extra, sizeof cat.extra), "vkmm_model_catalog_free cleared past the caller's struct");

    static const uint8_t bmp_head[] = {'B', 'M'};
    NEWER(vkmm_image_header) hdr = {.v = {.struct_size = sizeof hdr}};
    FILL_EXTRA(hdr);
    vkmm_image_probe(bmp_head, sizeof bmp_head, "two bytes", &hdr.v, &err);
    CHECK(extra_untouched(hdr.extra, sizeof hdr.extra) && hdr.v.struct_size == sizeof hdr, "a newer image header");
}

/* A struct_size below any version's is an invalid argument that names the struct. */
static void too_small(vkmm_model *m, vkmm_session *s)
{
    vkmm_error err;
    vkmm_session *so = NULL;
    vkmm_model *mo = NULL;
#define SMALL(call, what)                                                                                         \
    do {                                                                                                          \
        vkmm_status st_ = (call);                                                                                 \
        CHECK(st_ == VKMM_ERR_INVALID_ARG && strstr(err.msg, what) && strstr(err.msg, "struct_size 4"),          \
              "%s: %s %s", #call, vkmm_status_name(st_), err.msg);                                                \
    } while (0)
    SMALL(vkmm_session_create(m, &(vkmm_session_params){.struct_size = 4}, &so, &err), "session params");
    SMALL(vkmm_model_load(&(vkmm_model_params){.struct_size = 4, .model_path = "x.gguf"}, &mo, &err), "model params");
    SMALL(vkmm_session_add_message(s, &(vkmm_message){.struct_size = 4, .role = "user", .text = "hi"}, &err),
          "message");
    SMALL(vkmm_session_add_image_input(s, &(vkmm_image_input){.struct_size = 4, .path = "x.png"}, &err),
          "image input");
    SMALL(vkmm_model_resolve("demo", NULL, &(vkmm_model_ref){.struct_size = 4}, &err), "model_resolve");
    SMALL(vkmm_model_catalog_load(&(vkmm_model_catalog){.struct_size = 4}, &err), "catalog_load");
    SMALL(vkmm_image_probe("BM", 2, NULL, &(vkmm_image_header){.struct_size = 4}, &err), "image_probe");
    CHECK_OK(vkmm_session_add_text(s, "Hello", false, &err), &err, );
    SMALL(vkmm_session_begin(s, &(vkmm_sampling){.struct_size = 4}, 2, &err), "sampling");
    CHECK_OK(vkmm_session_begin(s, NULL, 2, &err), &err, );
    SMALL(vkmm_session_next(s, &(vkmm_token_event){.struct_size = 4}, &err), "event");
    CHECK_OK(vkmm_session_end(s, &err), &err, );
#undef SMALL
    CHECK(!so && !mo, "a refused call made an object");
}

static void devices(void)
{
    vkmm_device_info *list = NULL;
    int n = 0;
    vkmm_error err;
    CHECK_OK(vkmm_devices_list(&list, &n, &err), &err, );
    for (int i = 0; i < n; i++)
        CHECK(vkmm_device_at(list, i)->struct_size == sizeof *list && vkmm_device_at(list, i)->index == i,
              "device %d", i);
    free(list);
}

int main(int argc, char **argv)
{
    if (argc < 2 || access(argv[1], R_OK)) {
        fprintf(stderr, "FAIL: the Gemma 3 tokenizer is missing: run scripts/setup\n");
        return 1;
    }
    char dir[] = "/tmp/vkmm-growth-XXXXXX", text[256], vis[256];
    if (!mkdtemp(dir))
        return 1;
    snprintf(text, sizeof text, "%s/t.gguf", dir);
    snprintf(vis, sizeof vis, "%s/v.gguf", dir);
    test_stderr_capture cap;
    CHECK(test_stderr_capture_begin(&cap), "cannot redirect stderr");
    vkmm_error err;
    vkmm_synth_opts so = {.arch = "gemma3", .size = "tiny", .type = VKMM_Q8_0, .vision_type = VKMM_F16,
                          .tokenizer = argv[1], .seed = 5, .out = text, .mmproj_out = vis};
    CHECK_OK(vkmm_synth(&so, &err), &err, 1);
    vkmm_model *m = NULL;
    CHECK_OK(vkmm_model_load(&(vkmm_model_params){.model_path = text, .mmproj_path = vis, .validation = 1}, &m, &err),
             &err, 1);
    vkmm_session *s = NULL;
    CHECK_OK(vkmm_session_create(m, NULL, &s, &err), &err, 1);

    version();
    getters(m, s);
    uint32_t ids[8], n_ids = 0;
    newer_caller(m, text, vis, ids, &n_ids);
    too_small(m, s);
    devices();

    vkmm_session_free(s);
    vkmm_model_free(m);
    unsigned msgs = test_stderr_capture_end(&cap);
    CHECK(msgs == 0, "the validation layer reported %u messages", msgs);
    test_remove_dir(dir);
    return test_finish("api-growth");
}
