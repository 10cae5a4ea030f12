/* examples/c/describe.c — the README's example of the public API: describe an image, streaming the answer. */
#include <stdio.h>
#include <vkmm.h>

static bool print_piece(const vkmm_token_event *ev, void *user) { return fputs(ev->piece, stdout) >= 0; }

int main(int argc, char **argv) {
    if (argc < 4) return fprintf(stderr, "usage: describe MODEL.gguf MMPROJ.gguf IMAGE\n"), 2;
    vkmm_error err = {0};
    vkmm_model *model = NULL;
    vkmm_session *chat = NULL;
    vkmm_model_params mp = {.model_path = argv[1], .mmproj_path = argv[2], .validation = -1};
    const char *images[] = {argv[3]};
    vkmm_message msg = {.role = "user", .text = "Describe the image.", .images = images, .n_images = 1};
    vkmm_sampling greedy = {.temperature = 0, .top_p = 1, .repeat_penalty = 1};
    if (vkmm_model_load(&mp, &model, &err) || vkmm_session_create(model, NULL, &chat, &err) ||
        vkmm_session_add_message(chat, &msg, &err) || vkmm_session_generate(chat, &greedy, 64, print_piece, NULL, &err))
        fprintf(stderr, "error: %s\n", err.msg);
    vkmm_session_free(chat);
    vkmm_model_free(model);
    return err.code != VKMM_OK;
}
