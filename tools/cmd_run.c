/* tools/cmd_run.c — `vkmm run`: one prompt (with images), streamed answer, a closing line of timings; `--json`
 * prints each token with its log-probability and the top 10, for exact comparisons. Public API only. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "run_opts.h"

typedef struct stream {
    bool json;
    uint32_t n;
} stream;

static bool on_token(const vkmm_token_event *ev, void *user)
{
    stream *st = user;
    if (!st->json) {
        fputs(ev->piece, stdout);
        fflush(stdout);
        return true;
    }
    if (ev->id < 0)
        return true; /* trailing bytes of an unfinished character: no token of its own */
    printf("{\"id\": %d, \"piece\": ", ev->id);
    vkmm_json_write_string(stdout, ev->piece);
    printf(", \"logprob\": %.6f, \"top\": [", ev->logprob);
    for (uint32_t i = 0; i < ev->n_top; i++)
        printf("%s{\"id\": %d, \"logprob\": %.6f}", i ? ", " : "", ev->top[i].id, ev->top[i].logprob);
    printf("]}\n");
    fflush(stdout);
    st->n++;
    return true;
}

static void usage(FILE *f)
{
    fprintf(f, "usage: vkmm run [-m model.gguf [--mmproj mmproj.gguf] | --model-file FILE.yaml] [--image a.png ...]\n"
               "                -p \"prompt\" [options]\n%s", run_opts_help());
}

int vkmm_cmd_run(int argc, char **argv)
{
    run_opts o;
    run_opts_init(&o);
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
            usage(stdout);
            return 0;
        }
        int r = run_opts_parse(&o, argc, argv, &i);
        if (r < 0)
            return 2;
        if (r == 0) {
            fprintf(stderr, "vkmm run: unknown option '%s'\n", argv[i]);
            usage(stderr);
            return 2;
        }
    }
    int rc = run_opts_finish(&o, "run");
    if (rc)
        return rc;
    if (!o.prompt) {
        fprintf(stderr, "vkmm run: no prompt (-p \"...\")\n");
        run_opts_free(&o);
        return 2;
    }
    o.quiet = o.json;
    vkmm_error err;
    vkmm_model *m = NULL;
    vkmm_session *s = NULL;
    vkmm_session_params sp = {.n_ctx = o.n_ctx, .n_batch = o.n_batch, .profile = o.profile};
    vkmm_status st = run_load_model(&o, &m, &err);
    if (!st)
        st = vkmm_session_create(m, &sp, &s, &err);
    if (!st && o.raw) {
        for (uint32_t i = 0; i < o.n_images && !st; i++)
            st = vkmm_session_add_image(s, o.images[i], &err);
        if (!st)
            st = vkmm_session_add_text(s, o.prompt, true, &err);
    } else if (!st) {
        if (o.system) {
            vkmm_message sys = {.role = "system", .text = o.system};
            st = vkmm_session_add_message(s, &sys, &err);
        }
        vkmm_message user = {.role = "user", .text = o.prompt, .images = o.images, .n_images = o.n_images};
        if (!st)
            st = vkmm_session_add_message(s, &user, &err);
    }
    stream str = {o.json, 0};
    if (!st)
        st = vkmm_session_generate(s, &o.sampling, o.n_predict, on_token, &str, &err);
    if (!st) {
        vkmm_stats t = vkmm_session_stats(s);
        if (o.json) {
            printf("{\"summary\": {\"prompt_tokens\": %u, \"prompt_ms\": %.3f, \"generated\": %u, \"gen_ms\": %.3f, "
                   "\"images\": %u, \"image_ms\": %.3f}}\n",
                   t.n_prompt, t.prompt_ms, t.n_gen, t.gen_ms, t.n_images, t.image_ms);
        } else {
            printf("\n");
            fflush(stdout); /* the answer's line before the summary on stderr, also when both go to one pipe */
            fprintf(stderr, "[%u image%s %.0f ms | prompt %u tok, %.1f tok/s | generation %u tok, %.1f tok/s | %s]\n",
                    t.n_images, t.n_images == 1 ? "" : "s", t.image_ms, t.n_prompt,
                    t.prompt_ms > 0 ? t.n_prompt * 1e3 / t.prompt_ms : 0.0, t.n_gen,
                    t.gen_ms > 0 ? t.n_gen * 1e3 / t.gen_ms : 0.0, vkmm_model_get_info(m).device);
        }
        if (o.profile)
            vkmm_session_profile_print(s, stderr, 25);
        if (o.profile_json)
            st = vkmm_session_profile_trace(s, o.profile_json, &err);
    }
    if (st)
        fprintf(stderr, "vkmm run: %s\n", err.msg);
    vkmm_session_free(s);
    vkmm_model_free(m);
    run_opts_free(&o);
    return st ? 1 : 0;
}
