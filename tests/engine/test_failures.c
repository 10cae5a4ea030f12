/* tests/engine/test_failures.c — failures are values and the process lives on: a model too big for the memory
 * budget is refused before any upload (sizes named); a session that exhausts the budget fails cleanly and a
 * smaller one then works; a lost device (injected) ends the run with an error, not a crash; bad files, bad
 * images and an image-token budget for a tower without one give clear messages; a NULL where vkmm.h allows none
 * is VKMM_ERR_INVALID_ARG, and a caller that passes no vkmm_error still gets the real status. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"
#include "synth.h"
#include "vkmm.h"

/* Every public call with each pointer it needs left NULL, with and without an err. */
static void null_arguments(vkmm_model *m, vkmm_session *s)
{
    vkmm_error e, *errs[2] = {&e, NULL};
    for (int k = 0; k < 2; k++) {
        vkmm_error *err = errs[k];
#define INVALID(call) CHECK((call) == VKMM_ERR_INVALID_ARG, "%s (err %s) did not return INVALID_ARG", #call, \
                            err ? "given" : "NULL")
        int32_t ids[4] = {2, 3, 4, 5};
        uint32_t n = 0;
        size_t len = 0;
        char buf[16];
        vkmm_model *mo = NULL;
        vkmm_session *so = NULL;
        vkmm_token_event ev = {0};
        vkmm_message msg = {.role = "user", .text = "hi"};
        INVALID(vkmm_session_add_text(s, NULL, false, err));
        INVALID(vkmm_session_add_text(NULL, "hi", false, err));
        INVALID(vkmm_session_add_message(s, NULL, err));
        INVALID(vkmm_session_add_message(NULL, &msg, err));
        INVALID(vkmm_session_add_message(s, &(vkmm_message){.role = NULL, .text = "hi"}, err));
        INVALID(vkmm_session_add_message(s, &(vkmm_message){.role = "user", .text = NULL}, err));
        INVALID(vkmm_session_add_message(s, &(vkmm_message){.role = "user", .text = "hi", .n_images = 1}, err));
        INVALID(vkmm_session_add_message(s, &(vkmm_message){.role = "user", .text = "hi", .n_image_inputs = 2}, err));
        INVALID(vkmm_session_add_image(s, NULL, err));
        INVALID(vkmm_session_add_image(NULL, "x.png", err));
        INVALID(vkmm_session_add_image_rgb(s, NULL, 4, 4, err));
        INVALID(vkmm_session_add_image_input(s, NULL, err));
        INVALID(vkmm_session_add_image_input(s, &(vkmm_image_input){0}, err));
        INVALID(vkmm_session_add_tokens(s, NULL, 2, err));
        INVALID(vkmm_session_add_tokens(NULL, ids, 2, err));
        INVALID(vkmm_session_generate(NULL, NULL, 4, NULL, NULL, err));
        INVALID(vkmm_session_begin(NULL, NULL, 4, err));
        INVALID(vkmm_session_next(NULL, &ev, err));
        INVALID(vkmm_session_next(s, NULL, err));
        INVALID(vkmm_session_end(NULL, err));
        INVALID(vkmm_session_create(NULL, NULL, &so, err));
        INVALID(vkmm_session_create(m, NULL, NULL, err));
        INVALID(vkmm_session_profile_trace(NULL, "/tmp/x.json", err));
        INVALID(vkmm_session_profile_trace(s, NULL, err));
        INVALID(vkmm_model_load(NULL, &mo, err));
        INVALID(vkmm_model_load(&(vkmm_model_params){0}, &mo, err));
        INVALID(vkmm_model_load(&(vkmm_model_params){.model_path = "x.gguf"}, NULL, err));
        INVALID(vkmm_model_tokenize(NULL, "hi", true, false, ids, 4, &n, err));
        INVALID(vkmm_model_tokenize(m, NULL, true, false, ids, 4, &n, err));
        INVALID(vkmm_model_tokenize(m, "hi", true, false, NULL, 4, &n, err));
        INVALID(vkmm_model_tokenize(m, "hi", true, false, ids, 4, NULL, err));
        INVALID(vkmm_model_token_bytes(NULL, 2, buf, sizeof buf, &len, err));
        INVALID(vkmm_model_token_bytes(m, 2, NULL, sizeof buf, &len, err));
        INVALID(vkmm_model_token_bytes(m, 2, buf, sizeof buf, NULL, err));
        INVALID(vkmm_model_detokenize(NULL, ids, 4, buf, sizeof buf, &len, err));
        INVALID(vkmm_model_detokenize(m, NULL, 4, buf, sizeof buf, &len, err));
        INVALID(vkmm_model_detokenize(m, ids, 4, NULL, sizeof buf, &len, err));
        INVALID(vkmm_model_detokenize(m, ids, 4, buf, sizeof buf, NULL, err));
        INVALID(vkmm_model_resolve(NULL, NULL, &(vkmm_model_ref){0}, err));
        INVALID(vkmm_model_resolve("demo", NULL, NULL, err));
        INVALID(vkmm_model_catalog_load(NULL, err));
        INVALID(vkmm_devices_list(NULL, &(int){0}, err));
        INVALID(vkmm_devices_list(&(vkmm_device_info *){NULL}, NULL, err));
#undef INVALID
    }
    CHECK(vkmm_session_profile_print(NULL, stderr, 5) == VKMM_ERR_INVALID_ARG, "profile_print without a session");
    CHECK(vkmm_session_profile_print(s, NULL, 5) == VKMM_ERR_INVALID_ARG, "profile_print without a FILE");
    vkmm_model_info info = vkmm_model_get_info(NULL);
    CHECK(info.arch && !info.arch[0] && info.name && info.device && info.chat_template && !info.n_layer, "info of NULL");
    CHECK(vkmm_session_stats(NULL).n_prompt == 0, "stats of NULL");
    uint32_t rows = 7;
    CHECK(vkmm_session_logits(NULL, &rows) == NULL && rows == 0, "logits of NULL");
    CHECK(vkmm_session_logits(s, NULL) || true, "logits without n_rows"); /* must not crash */
    vkmm_session_free(NULL);
    vkmm_session_reset(NULL);
    vkmm_session_cancel(NULL);
    vkmm_model_free(NULL);
    vkmm_model_ref_free(NULL);
    vkmm_model_catalog_free(NULL);
    /* the session still works after all that */
    vkmm_error err;
    vkmm_sampling greedy = {.temperature = 0, .top_p = 1, .repeat_penalty = 1};
    CHECK_OK(vkmm_session_add_text(s, " and more", false, &err), &err, );
    CHECK_OK(vkmm_session_generate(s, &greedy, 2, NULL, NULL, &err), &err, );
}

int main(int argc, char **argv)
{
    if (argc < 2 || access(argv[1], R_OK)) {
        fprintf(stderr, "FAIL: the Gemma 3 tokenizer is missing: run scripts/setup\n");
        return 1;
    }
    char dir[] = "/tmp/vkmm-fail-XXXXXX", text[256], vis[256];
    if (!mkdtemp(dir))
        return 1;
    snprintf(text, sizeof text, "%s/t.gguf", dir);
    snprintf(vis, sizeof vis, "%s/v.gguf", dir);
    test_stderr_capture cap; /* validation messages reach only stderr through the public API */
    CHECK(test_stderr_capture_begin(&cap), "cannot redirect stderr");
    vkmm_error err;
    vkmm_synth_opts so = {.arch = "gemma3", .size = "tiny", .type = VKMM_Q8_0, .vision_type = VKMM_F16,
                          .tokenizer = argv[1], .seed = 3, .out = text, .mmproj_out = vis, .n_ctx = 262144};
    CHECK_OK(vkmm_synth(&so, &err), &err, 1);

    /* 1. does not fit: refused before any upload, with the sizes named */
    vkmm_model_params tight = {.model_path = text, .validation = 1, .memory_budget = 16ull << 20};
    vkmm_model *m = NULL;
    vkmm_status s = vkmm_model_load(&tight, &m, &err);
    CHECK(s == VKMM_ERR_OUT_OF_MEMORY && !m, "an oversized model loaded (status %d)", s);
    CHECK(strstr(err.msg, "does not fit") && strstr(err.msg, "MiB") && strstr(err.msg, text), "message: %s", err.msg);

    /* 2. weights fit, a huge context does not: the session fails, a small one works */
    vkmm_model_params ok = {.model_path = text, .mmproj_path = vis, .validation = 1, .memory_budget = 200ull << 20};
    CHECK_OK(vkmm_model_load(&ok, &m, &err), &err, 1);
    vkmm_session *sess = NULL;
    vkmm_session_params big = {.n_ctx = 262144}; /* the global layer's K and V: 64 MiB each */
    vkmm_session_params small = {.n_ctx = 256, .n_batch = 64};
    s = vkmm_session_create(m, &big, &sess, &err);
    CHECK(s == VKMM_ERR_OUT_OF_MEMORY, "exhausting the budget gave status %d (%s)", s, err.msg);
    CHECK(strstr(err.msg, "budget") != NULL, "message does not name the budget: %s", err.msg);
    vkmm_session_free(sess);
    sess = NULL;
    /* without a vkmm_error the status is the same (the message had a prefix added on the way) */
    s = vkmm_session_create(m, &big, &sess, NULL);
    CHECK(s == VKMM_ERR_OUT_OF_MEMORY && !sess, "exhausting the budget without err gave status %d", s);
    CHECK_OK(vkmm_session_create(m, &small, &sess, &err), &err, 1);
    CHECK_OK(vkmm_session_add_text(sess, "Hello there", false, &err), &err, 1);
    vkmm_sampling greedy = {.temperature = 0, .top_p = 1, .repeat_penalty = 1};
    CHECK_OK(vkmm_session_generate(sess, &greedy, 3, NULL, NULL, &err), &err, 1);

    /* 3. bad inputs: a missing image, a non-image, a text file as a model */
    s = vkmm_session_add_image(sess, "/nonexistent/picture.png", &err);
    CHECK(s != VKMM_OK && strstr(err.msg, "/nonexistent/picture.png"), "missing image: %d %s", s, err.msg);
    s = vkmm_session_add_image(sess, argv[1], &err);
    CHECK(s != VKMM_OK && strstr(err.msg, argv[1]), "a JSON file taken as an image: %d %s", s, err.msg);
    vkmm_model_params bad = {.model_path = argv[1], .validation = 1};
    vkmm_model *bm = NULL;
    s = vkmm_model_load(&bad, &bm, &err);
    CHECK(s == VKMM_ERR_FORMAT && !bm && strstr(err.msg, argv[1]), "a JSON file taken as a model: %d %s", s, err.msg);
    vkmm_model_params swapped = {.model_path = vis, .validation = 1};
    s = vkmm_model_load(&swapped, &bm, &err);
    CHECK(s == VKMM_ERR_INVALID_ARG && strstr(err.msg, "mmproj"), "an mmproj as the text model: %d %s", s, err.msg);
    /* an image-token budget for a tower whose images take a fixed count (Gemma 3's 256) */
    vkmm_model_params budget = {.struct_size = sizeof budget, .model_path = text, .mmproj_path = vis,
                                .validation = 1, .image_tokens = 280};
    s = vkmm_model_load(&budget, &bm, &err);
    CHECK(s == VKMM_ERR_INVALID_ARG && !bm && strstr(err.msg, vis) && strstr(err.msg, "fixed number of tokens"),
          "image tokens for a gemma3 projector: %d %s", s, err.msg);
    null_arguments(m, sess);
    vkmm_session_free(sess);
    vkmm_model_free(m);

    /* 4. a lost device: the third submit fails as VK_ERROR_DEVICE_LOST would; generate returns the error */
    setenv("VKMM_INJECT_DEVICE_LOST", "3", 1);
    CHECK_OK(vkmm_model_load(&ok, &m, &err), &err, 1);
    CHECK_OK(vkmm_session_create(m, &small, &sess, &err), &err, 1);
    CHECK_OK(vkmm_session_add_text(sess, "Hello there, how are you today?", false, &err), &err, 1);
    s = vkmm_session_generate(sess, &greedy, 8, NULL, NULL, &err);
    CHECK(s == VKMM_ERR_DEVICE_LOST && strstr(err.msg, "lost"), "a lost device gave %d: %s", s, err.msg);
    s = vkmm_session_generate(sess, &greedy, 8, NULL, NULL, &err);
    CHECK(s == VKMM_ERR_DEVICE_LOST || s == VKMM_ERR_INVALID_ARG, "after the loss: %d %s", s, err.msg);
    vkmm_session_free(sess);
    vkmm_model_free(m);
    unsetenv("VKMM_INJECT_DEVICE_LOST");
    /* the injected loss never reaches the driver, so even cleaning up after it must be clean for the layer */
    unsigned msgs = test_stderr_capture_end(&cap);
    CHECK(msgs == 0, "the validation layer reported %u messages", msgs);

    test_remove_dir(dir);
    return test_finish("failures");
}
