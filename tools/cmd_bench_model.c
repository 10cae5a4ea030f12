/* tools/cmd_bench_model.c — `vkmm bench -m model.gguf [--mmproj ...] -p 512 -n 128 [-r 5]`: prompt processing
 * and generation speed in llama-bench's shape (tokens/s, mean ± standard deviation over the repetitions),
 * and image encode time. Public API only. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "run_opts.h"

typedef struct series {
    double v[64];
    int n;
} series;

static void add(series *s, double x)
{
    if (s->n < 64)
        s->v[s->n++] = x;
}

static void mean_sd(const series *s, double *mean, double *sd)
{
    double m = 0, q = 0;
    for (int i = 0; i < s->n; i++)
        m += s->v[i];
    m /= s->n ? s->n : 1;
    for (int i = 0; i < s->n; i++)
        q += (s->v[i] - m) * (s->v[i] - m);
    *mean = m;
    *sd = s->n > 1 ? sqrt(q / (s->n - 1)) : 0;
}

/* A deterministic test picture: smooth colour gradients with a few shapes. */
static uint8_t *test_image(uint32_t w, uint32_t h)
{
    uint8_t *p = malloc((size_t)w * h * 3);
    for (uint32_t y = 0; p && y < h; y++)
        for (uint32_t x = 0; x < w; x++) {
            uint8_t *q = p + ((size_t)y * w + x) * 3;
            q[0] = (uint8_t)(255 * x / w);
            q[1] = (uint8_t)(255 * y / h);
            q[2] = (uint8_t)(((x / 32 + y / 32) & 1) ? 200 : 40);
        }
    return p;
}

int vkmm_cmd_bench_model(int argc, char **argv)
{
    run_opts o;
    run_opts_init(&o);
    uint32_t pp = 512, tg = 128, reps = 5;
    bool json = false;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "-p") && i + 1 < argc) { pp = (uint32_t)atoi(argv[++i]); continue; }
        if (!strcmp(argv[i], "-n") && i + 1 < argc) { tg = (uint32_t)atoi(argv[++i]); continue; }
        if (!strcmp(argv[i], "-r") && i + 1 < argc) { reps = (uint32_t)atoi(argv[++i]); continue; }
        if (!strcmp(argv[i], "--json")) { json = true; continue; }
        if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
            printf("usage: vkmm bench -m model.gguf [--mmproj mmproj.gguf] [-p 512] [-n 128] [-r 5] [--json]\n"
                   "(kernels alone: vkmm-dev bench-ops, a developer tool)\n");
            return 0;
        }
        int r = run_opts_parse(&o, argc, argv, &i);
        if (r <= 0) {
            if (!r)
                fprintf(stderr, "vkmm bench: unknown option '%s'\n", argv[i]);
            return 2;
        }
    }
    if (reps < 1 || reps > 64)
        reps = reps < 1 ? 1 : 64;
    int rc = run_opts_finish(&o, "bench");
    if (rc)
        return rc;
    o.quiet = json;
    vkmm_error err;
    vkmm_model *m = NULL;
    vkmm_status st = run_load_model(&o, &m, &err);
    if (st) {
        fprintf(stderr, "vkmm bench: %s\n", err.msg);
        run_opts_free(&o);
        return 1;
    }
    vkmm_model_info info = vkmm_model_get_info(m);
    vkmm_sampling greedy = {.temperature = 0, .top_p = 1, .repeat_penalty = 1, .ignore_eog = true};
    vkmm_session_params sp = {.n_ctx = pp + tg + 16 > o.n_ctx ? pp + tg + 16 : o.n_ctx, .n_batch = o.n_batch ? o.n_batch : 512};
    series s_pp = {0}, s_tg = {0}, s_img = {0};
    int32_t *ids = malloc(sizeof *ids * (pp ? pp : 1));
    for (uint32_t i = 0; i < pp; i++)
        ids[i] = (int32_t)(1000 + (i * 7919u) % (info.n_vocab - 1000)); /* ordinary tokens, no specials */
    uint8_t *pixels = info.has_vision ? test_image(1024, 768) : NULL;
    /* one untimed round first: pipelines compile, memory faults in */
    for (uint32_t r = 0; r <= reps && !st; r++) {
        vkmm_session *s = NULL;
        st = vkmm_session_create(m, &sp, &s, &err);
        if (!st && pixels)
            st = vkmm_session_add_image_rgb(s, pixels, 1024, 768, &err);
        if (!st && pp)
            st = vkmm_session_add_tokens(s, ids, pp, &err);
        if (!st)
            st = vkmm_session_generate(s, &greedy, tg ? tg : 1, NULL, NULL, &err);
        if (!st && r > 0) {
            vkmm_stats t = vkmm_session_stats(s);
            uint32_t n_prompt_text = pp;
            double pp_ms = t.prompt_ms;
            if (pixels)
                add(&s_img, t.image_ms);
            if (pp && pp_ms > 0)
                add(&s_pp, (t.n_prompt) * 1e3 / pp_ms);
            if (tg && t.gen_ms > 0 && t.n_gen > 1)
                add(&s_tg, (t.n_gen - 1) * 1e3 / t.gen_ms); /* the first token comes from the prefill */
            (void)n_prompt_text;
        }
        vkmm_session_free(s);
    }
    if (!st) {
        double a, b, c, d, e, f;
        mean_sd(&s_pp, &a, &b);
        mean_sd(&s_tg, &c, &d);
        mean_sd(&s_img, &e, &f);
        if (json) {
            printf("{\"model\": ");
            vkmm_cli_json_string(stdout, o.model);
            printf(", \"arch\": \"%s\", \"device\": ", info.arch);
            vkmm_cli_json_string(stdout, info.device);
            printf(", \"weight_bytes\": %llu, \"reps\": %u, \"pp\": %u, \"pp_tok_s\": %.2f, \"pp_sd\": %.2f, \"tg\": %u, "
                   "\"tg_tok_s\": %.2f, \"tg_sd\": %.2f, \"image_ms\": %.2f, \"image_sd\": %.2f}\n",
                   (unsigned long long)info.weight_bytes, reps, pp, a, b, tg, c, d, pixels ? e : 0, pixels ? f : 0);
        } else {
            printf("| %-28s | %-9s | %-22s | %-14s | %16s |\n", "model", "size", "device", "test", "t/s");
            printf("| %.28s | %-9s | %.22s | %-14s | %16s |\n", "----------------------------", "---------",
                   "----------------------", "--------------", "----------------");
            char size[32];
            snprintf(size, sizeof size, "%.2f GiB", info.weight_bytes / 1073741824.0);
            char name[29];
            const char *base = strrchr(o.model, '/');
            snprintf(name, sizeof name, "%s", base ? base + 1 : o.model);
            if (pp)
                printf("| %-28s | %-9s | %-22.22s | pp%-12u | %9.2f ± %5.2f |\n", name, size, info.device, pp, a, b);
            if (tg)
                printf("| %-28s | %-9s | %-22.22s | tg%-12u | %9.2f ± %5.2f |\n", name, size, info.device, tg, c, d);
            if (pixels)
                printf("| %-28s | %-9s | %-22.22s | %-14s | %6.1f ± %5.1f ms |\n", name, size, info.device,
                       "image 1024x768", e, f);
        }
    } else {
        fprintf(stderr, "vkmm bench: %s\n", err.msg);
    }
    free(ids);
    free(pixels);
    vkmm_model_free(m);
    run_opts_free(&o);
    return st ? 1 : 0;
}
