/* tools/cmd_chat.c — `vkmm chat`: an interactive multi-turn conversation. /image PATH attaches an image to the
 * next turn, /reset starts over, /quit leaves. Public API only. */
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
                   "  then type; /image PATH attaches an image to the next turn, /reset, /quit\n%s", run_opts_help());
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
    char *images[RUN_MAX_IMAGES];
    uint32_t n_images = 0;
    char line[65536];
    for (;;) {
        if (tty) {
            printf("%s> ", n_images ? "(+image) " : "");
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
            if (images[n_images])
                strcpy(images[n_images++], path);
            printf("(image %s attached to the next turn)\n", path);
            continue;
        }
        if (o.system && !system_sent) {
            vkmm_message sys = {.role = "system", .text = o.system};
            st = vkmm_session_add_message(s, &sys, &err);
            system_sent = true;
        }
        vkmm_message user = {.role = "user", .text = t, .images = (const char *const *)images, .n_images = n_images};
        if (!st)
            st = vkmm_session_add_message(s, &user, &err);
        if (!st)
            st = vkmm_session_generate(s, &o.sampling, o.n_predict, on_token, NULL, &err);
        printf("\n");
        for (uint32_t i = 0; i < n_images; i++)
            free(images[i]);
        n_images = 0;
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
    vkmm_session_free(s);
    vkmm_model_free(m);
    run_opts_free(&o);
    return st ? 1 : 0;
}
