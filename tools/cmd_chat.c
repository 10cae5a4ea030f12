/* tools/cmd_chat.c — `vkmm chat`: an interactive multi-turn conversation. /image PATH and /audio PATH attach an
 * image or an audio clip to the next turn (in that order), /reset starts over, /quit leaves. Public API only. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "run_opts.h"

static bool on_token(const vkmm_token_event *ev, void *user)
{
    (void)user;
    fputs(ev->piece, stdout);
    fflush(stdout);
    return true;
}

static char *trim(char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    size_t n = strlen(s);
    while (n && (s[n - 1] == '\n' || s[n - 1] == '\r' || s[n - 1] == ' '))
        s[--n] = 0;
    return s;
}

int vkmm_cmd_chat(int argc, char **argv)
{
    run_opts o;
    run_opts_init(&o);
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
            printf("usage: vkmm chat [-m model.gguf [--mmproj mmproj.gguf] | --model-file FILE.yaml] [options]\n"
                   "  then type; /image PATH or /audio PATH attaches an image or an audio clip to the next turn\n"
                   "  (<__media__> in the text places them in the order attached), /reset, /quit\n%s", run_opts_help());
            return 0;
        }
        int r = run_opts_parse(&o, argc, argv, &i);
        if (r <= 0) {
            if (!r)
                fprintf(stderr, "vkmm chat: unknown option '%s'\n", argv[i]);
            return 2;
        }
    }
    int rc = run_opts_finish(&o, "chat");
    if (rc)
        return rc;
    vkmm_error err;
    vkmm_model *m = NULL;
    vkmm_session *s = NULL;
    vkmm_session_params sp = {.n_ctx = o.n_ctx, .n_batch = o.n_batch};
    vkmm_status st = run_load_model(&o, &m, &err);
    if (!st)
        st = vkmm_session_create(m, &sp, &s, &err);
    if (st) {
        fprintf(stderr, "vkmm chat: %s\n", err.msg);
        vkmm_model_free(m);
        run_opts_free(&o);
        return 1;
    }
    bool tty = isatty(0);
    bool system_sent = false;
    char *images[RUN_MAX_IMAGES], *audio[RUN_MAX_IMAGES];
    uint32_t n_images = 0, n_audio = 0;
    char order[2 * RUN_MAX_IMAGES + 1] = {0};
    char line[65536];
    for (;;) {
        if (tty) {
            printf("%s%s> ", n_images ? "(+image) " : "", n_audio ? "(+audio) " : "");
            fflush(stdout);
        }
        if (!fgets(line, sizeof line, stdin))
            break;
        char *t = trim(line);
        if (!*t)
            continue;
        if (!strcmp(t, "/quit") || !strcmp(t, "/exit"))
            break;
        if (!strcmp(t, "/reset")) {
            vkmm_session_reset(s);
            system_sent = false;
            printf("(conversation reset)\n");
            continue;
        }
        if (!strncmp(t, "/image", 6)) {
            char *path = trim(t + 6);
            if (!*path || n_images == RUN_MAX_IMAGES) {
                printf("(usage: /image PATH)\n");
                continue;
            }
            images[n_images] = malloc(strlen(path) + 1);
            if (images[n_images]) {
                strcpy(images[n_images++], path);
                order[n_images + n_audio - 1] = 'i';
            }
            printf("(image %s attached to the next turn)\n", path);
            continue;
        }
        if (!strncmp(t, "/audio", 6)) {
            char *path = trim(t + 6);
            if (!*path || n_audio == RUN_MAX_IMAGES) {
                printf("(usage: /audio PATH)\n");
                continue;
            }
            audio[n_audio] = malloc(strlen(path) + 1);
            if (audio[n_audio]) {
                strcpy(audio[n_audio++], path);
                order[n_images + n_audio - 1] = 'a';
            }
            printf("(audio %s attached to the next turn)\n", path);
            continue;
        }
        if (o.system && !system_sent) {
            vkmm_message sys = {.role = "system", .text = o.system};
            st = vkmm_session_add_message(s, &sys, &err);
            system_sent = true;
        }
        vkmm_audio_input *clips = run_audio_inputs((const char *const *)audio, n_audio);
        vkmm_message user = VKMM_SIZED(vkmm_message);
        user.role = "user";
        user.text = t;
        user.images = (const char *const *)images;
        user.n_images = n_images;
        user.audio = clips;
        user.n_audio = clips ? n_audio : 0;
        user.media_order = order;
        if (!st && n_audio && !clips)
            st = VKMM_ERR_HOST_MEMORY, snprintf(err.msg, sizeof err.msg, "out of host memory");
        if (!st)
            st = vkmm_session_add_message(s, &user, &err);
        free(clips);
        if (!st)
            st = vkmm_session_generate(s, &o.sampling, o.n_predict, on_token, NULL, &err);
        printf("\n");
        for (uint32_t i = 0; i < n_images; i++)
            free(images[i]);
        for (uint32_t i = 0; i < n_audio; i++)
            free(audio[i]);
        n_images = n_audio = 0;
        memset(order, 0, sizeof order);
        if (st) {
            /* the turn failed (a bad image, a full context): say so and carry on with a clean slate */
            fprintf(stderr, "vkmm chat: %s\n", err.msg);
            if (st == VKMM_ERR_DEVICE_LOST)
                break;
            vkmm_session_reset(s);
            system_sent = false;
            st = VKMM_OK;
        }
    }
    for (uint32_t i = 0; i < n_images; i++)
        free(images[i]);
    for (uint32_t i = 0; i < n_audio; i++)
        free(audio[i]);
    vkmm_session_free(s);
    vkmm_model_free(m);
    run_opts_free(&o);
    return st ? 1 : 0;
}
