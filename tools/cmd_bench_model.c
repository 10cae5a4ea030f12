/* tools/cmd_bench_model.c — `vkmm bench -m model.gguf [--mmproj ...] -p 512 -n 128 [-r 5] [--audio F]`: prompt
 * processing and generation speed in llama-bench's shape (tokens/s, mean ± standard deviation over the
 * repetitions), image encode time, and audio-encode milliseconds per second of audio. Public API only. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <pthread.h>
#include <time.h>

#include "cli.h"
#include "run_opts.h"

typedef struct series {
    double v[64];
    int n;
} series;

/* A prompt token from hash h: past the first thousand ids (where vocabularies keep their special tokens), or past
 * the first quarter of a small one (the demo model has 549). */
static int32_t ordinary_token(const vkmm_model_info *info, uint32_t h)
{
    uint32_t first = info->n_vocab > 2000 ? 1000 : info->n_vocab / 4;
    return (int32_t)(first + h % (info->n_vocab - first));
}

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

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* ---- --parallel: P conversations at once, each on its own thread ---- */

typedef struct par_job {
    vkmm_model *m;
    vkmm_session_params sp;
    const int32_t *ids;
    uint32_t pp, tg;
    pthread_barrier_t *ready;  /* everyone's prefill done: the decode phase starts together */
    double prefill_end, decode_start, decode_end;
    uint32_t n_gen;
    bool print_profile;        /* --profile: this sequence's GPU profile (its batched steps) after the run */
    vkmm_status st;
    vkmm_error err;
} par_job;

static void *par_run(void *arg)
{
    par_job *j = arg;
    vkmm_session *s = NULL;
    vkmm_sampling greedy = vkmm_sampling_default();
    greedy.temperature = 0;
    greedy.ignore_eog = true;
    j->st = vkmm_session_create(j->m, &j->sp, &s, &j->err);
    if (!j->st)
        j->st = vkmm_session_add_tokens(s, j->ids, j->pp, &j->err);
    if (!j->st)
        j->st = vkmm_session_begin(s, &greedy, j->tg, &j->err);
    j->prefill_end = now_ms();
    pthread_barrier_wait(j->ready);
    j->decode_start = now_ms();
    vkmm_token_event ev = {0};
    while (!j->st && !ev.finish) {
        j->st = vkmm_session_next(s, &ev, &j->err);
        if (!j->st && ev.id >= 0)
            j->n_gen++;
    }
    j->decode_end = now_ms();
    vkmm_session_end(s, NULL);
    if (j->print_profile && !j->st)
        vkmm_session_profile_print(s, stderr, 20);
    vkmm_session_free(s);
    return NULL;
}

typedef struct par_result {
    uint32_t level;
    series agg_tg, seq_tg, agg_pp, seq_pp;
} par_result;

/* One repetition at P sequences: prefill throughput (all prompts, from the start to the last prefill done) and
 * decode throughput (tokens after the first, from the common start to the last one), aggregate and per sequence. */
static vkmm_status par_round(vkmm_model *m, uint32_t P, const vkmm_session_params *sp, const int32_t *ids,
                             uint32_t pp, uint32_t tg, par_result *out, bool timed, bool profile, vkmm_error *err)
{
    par_job *jobs = calloc(P, sizeof *jobs);
    pthread_t *th = calloc(P, sizeof *th);
    pthread_barrier_t ready;
    pthread_barrier_init(&ready, NULL, P);
    double t0 = now_ms();
    for (uint32_t i = 0; i < P; i++) {
        jobs[i] = (par_job){.m = m, .sp = *sp, .ids = ids + (size_t)i * pp, .pp = pp, .tg = tg, .ready = &ready,
                            .print_profile = profile && i == 0};
        jobs[i].sp.profile = profile && i == 0;
        pthread_create(&th[i], NULL, par_run, &jobs[i]);
    }
    for (uint32_t i = 0; i < P; i++)
        pthread_join(th[i], NULL);
    pthread_barrier_destroy(&ready);
    vkmm_status st = VKMM_OK;
    double pre_end = t0, dec_start = 1e300, dec_end = 0, toks = 0;
    for (uint32_t i = 0; i < P && !st; i++) {
        if (jobs[i].st) {
            st = jobs[i].st;
            *err = jobs[i].err;
            break;
        }
        pre_end = jobs[i].prefill_end > pre_end ? jobs[i].prefill_end : pre_end;
        dec_start = jobs[i].decode_start < dec_start ? jobs[i].decode_start : dec_start;
        dec_end = jobs[i].decode_end > dec_end ? jobs[i].decode_end : dec_end;
        uint32_t n = jobs[i].n_gen > 1 ? jobs[i].n_gen - 1 : 0; /* the first token came with the prefill */
        toks += n;
        if (timed && jobs[i].decode_end > jobs[i].decode_start)
            add(&out->seq_tg, n * 1e3 / (jobs[i].decode_end - jobs[i].decode_start));
        if (timed && jobs[i].prefill_end > t0)
            add(&out->seq_pp, pp * 1e3 / (jobs[i].prefill_end - t0));
    }
    if (!st && timed) {
        if (dec_end > dec_start)
            add(&out->agg_tg, toks * 1e3 / (dec_end - dec_start));
        if (pre_end > t0)
            add(&out->agg_pp, (double)P * pp * 1e3 / (pre_end - t0));
    }
    free(jobs);
    free(th);
    return st;
}

static int bench_parallel(vkmm_model *m, const run_opts *o, const char *levels, uint32_t pp, uint32_t tg,
                          uint32_t reps, bool json)
{
    par_result res[16];
    uint32_t n_levels = 0, most = 1;
    for (const char *p = levels; *p && n_levels < 16;) {
        char *end;
        long v = strtol(p, &end, 10);
        if (end == p || v < 1 || v > 64) {
            fprintf(stderr, "vkmm bench: --parallel takes levels from 1 to 64 separated by commas, not '%s'\n", levels);
            return 2;
        }
        memset(&res[n_levels], 0, sizeof res[n_levels]);
        res[n_levels++].level = (uint32_t)v;
        most = (uint32_t)v > most ? (uint32_t)v : most;
        p = *end == ',' ? end + 1 : end;
        if (*end && *end != ',') {
            fprintf(stderr, "vkmm bench: --parallel takes levels separated by commas, not '%s'\n", levels);
            return 2;
        }
    }
    vkmm_model_info info = vkmm_model_get_info(m);
    vkmm_session_params sp = {.n_ctx = pp + tg + 16, .n_batch = o->n_batch ? o->n_batch : 512};
    int32_t *ids = malloc(sizeof *ids * (size_t)most * (pp ? pp : 1));
    for (uint32_t i = 0; i < most * pp; i++) /* a different prompt per sequence, ordinary tokens */
        ids[i] = ordinary_token(&info, i * 7919u + i / pp * 104729u);
    vkmm_error err;
    vkmm_status st = VKMM_OK;
    for (uint32_t l = 0; l < n_levels && !st; l++)
        for (uint32_t r = 0; r <= reps && !st; r++) /* an untimed round first at each level */
            st = par_round(m, res[l].level, &sp, ids, pp, tg, &res[l], r > 0, o->profile && r == reps, &err);
    free(ids);
    if (st) {
        fprintf(stderr, "vkmm bench: %s\n", err.msg);
        return 1;
    }
    if (json)
        printf("{\"model\": \"%s\", \"device\": \"%s\", \"pp\": %u, \"tg\": %u, \"reps\": %u, \"parallel\": [",
               o->model, info.device, pp, tg, reps);
    else
        printf("| %-9s | %-22s | %4s | %22s | %22s | %20s | %20s |\n", "size", "device", "seqs", "decode t/s (all)",
               "decode t/s (each)", "prefill t/s (all)", "prefill t/s (each)");
    for (uint32_t l = 0; l < n_levels; l++) {
        double at, ats, st_, sts, ap, aps, sp_, sps;
        mean_sd(&res[l].agg_tg, &at, &ats);
        mean_sd(&res[l].seq_tg, &st_, &sts);
        mean_sd(&res[l].agg_pp, &ap, &aps);
        mean_sd(&res[l].seq_pp, &sp_, &sps);
        if (json)
            printf("%s{\"sequences\": %u, \"decode_tok_s\": %.2f, \"decode_sd\": %.2f, \"decode_per_seq_tok_s\": %.2f, "
                   "\"decode_per_seq_sd\": %.2f, \"prefill_tok_s\": %.2f, \"prefill_sd\": %.2f, "
                   "\"prefill_per_seq_tok_s\": %.2f, \"prefill_per_seq_sd\": %.2f}", l ? ", " : "", res[l].level, at, ats,
                   st_, sts, ap, aps, sp_, sps);
        else
            printf("| %6.2f GiB | %-22.22s | %4u | %12.2f ± %7.2f | %12.2f ± %7.2f | %10.2f ± %7.2f | %10.2f ± %7.2f |\n",
                   info.weight_bytes / 1073741824.0, info.device, res[l].level, at, ats, st_, sts, ap, aps, sp_, sps);
    }
    if (json)
        printf("]}\n");
    return 0;
}

int vkmm_cmd_bench_model(int argc, char **argv)
{
    run_opts o;
    run_opts_init(&o);
    uint32_t pp = 512, tg = 128, reps = 5;
    bool json = false;
    const char *parallel = NULL;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--parallel") && i + 1 < argc) { parallel = argv[++i]; continue; }
        if (!strcmp(argv[i], "-p") && i + 1 < argc) { pp = (uint32_t)atoi(argv[++i]); continue; }
        if (!strcmp(argv[i], "-n") && i + 1 < argc) { tg = (uint32_t)atoi(argv[++i]); continue; }
        if (!strcmp(argv[i], "-r") && i + 1 < argc) { reps = (uint32_t)atoi(argv[++i]); continue; }
        if (!strcmp(argv[i], "--json")) { json = true; continue; }
        if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
            printf("usage: vkmm bench -m model.gguf [--mmproj mmproj.gguf] [-p 512] [-n 128] [-r 5] [--json]\n"
                   "                  [--parallel 1,2,4,8]  (that many conversations at once, on threads)\n"
                   "                  [--audio F]  (audio-encode ms per second of audio: decoding, resampling,\n"
                   "                               log-mel features and the tower; models with an audio tower)\n"
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
    if (parallel && !o.kv_tokens) { /* room for the largest level's conversations */
        uint32_t most = 1;
        for (const char *p = parallel; *p; p++)
            if (*p >= '0' && *p <= '9') {
                uint32_t v = (uint32_t)strtoul(p, NULL, 10);
                most = v > most ? v : most;
                while (p[1] >= '0' && p[1] <= '9')
                    p++;
            }
        o.kv_tokens = most * (pp + tg + 16);
    }
    vkmm_error err;
    vkmm_model *m = NULL;
    vkmm_status st = run_load_model(&o, &m, &err);
    if (st) {
        fprintf(stderr, "vkmm bench: %s\n", err.msg);
        run_opts_free(&o);
        return 1;
    }
    if (parallel) {
        int prc = bench_parallel(m, &o, parallel, pp, tg, reps, json);
        vkmm_model_free(m);
        run_opts_free(&o);
        return prc;
    }
    vkmm_model_info info = vkmm_model_get_info(m);
    vkmm_sampling greedy = {.temperature = 0, .top_p = 1, .repeat_penalty = 1, .ignore_eog = true};
    vkmm_session_params sp = {.n_ctx = pp + tg + 16 > o.n_ctx ? pp + tg + 16 : o.n_ctx, .n_batch = o.n_batch ? o.n_batch : 512};
    series s_pp = {0}, s_tg = {0}, s_img = {0}, s_aud = {0};
    const char *clip = o.n_audio ? o.audio[0] : NULL;
    double clip_s = 0;
    int32_t *ids = malloc(sizeof *ids * (pp ? pp : 1));
    for (uint32_t i = 0; i < pp; i++)
        ids[i] = ordinary_token(&info, i * 7919u);
    uint8_t *pixels = info.has_vision ? test_image(1024, 768) : NULL;
    /* one untimed round first: pipelines compile, memory faults in */
    for (uint32_t r = 0; r <= reps && !st; r++) {
        vkmm_session *s = NULL;
        st = vkmm_session_create(m, &sp, &s, &err);
        if (!st && pixels)
            st = vkmm_session_add_image_rgb(s, pixels, 1024, 768, &err);
        if (!st && clip)
            st = vkmm_session_add_audio(s, clip, &err);
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
            if (clip && t.audio_seconds > 0) {
                add(&s_aud, t.audio_ms / t.audio_seconds);
                clip_s = t.audio_seconds;
            }
            if (pp && pp_ms > 0)
                add(&s_pp, (t.n_prompt) * 1e3 / pp_ms);
            if (tg && t.gen_ms > 0 && t.n_gen > 1)
                add(&s_tg, (t.n_gen - 1) * 1e3 / t.gen_ms); /* the first token comes from the prefill */
            (void)n_prompt_text;
        }
        vkmm_session_free(s);
    }
    if (!st) {
        double a, b, c, d, e, f, ga, gb;
        mean_sd(&s_pp, &a, &b);
        mean_sd(&s_tg, &c, &d);
        mean_sd(&s_img, &e, &f);
        mean_sd(&s_aud, &ga, &gb);
        if (json) {
            printf("{\"model\": ");
            vkmm_json_write_string(stdout, o.model);
            printf(", \"arch\": \"%s\", \"device\": ", info.arch);
            vkmm_json_write_string(stdout, info.device);
            printf(", \"weight_bytes\": %llu, \"n_expert\": %u, \"n_expert_used\": %u, \"reps\": %u, \"pp\": %u, "
                   "\"pp_tok_s\": %.2f, \"pp_sd\": %.2f, \"tg\": %u, \"tg_tok_s\": %.2f, \"tg_sd\": %.2f, "
                   "\"image_ms\": %.2f, \"image_sd\": %.2f, \"audio_seconds\": %.3f, \"audio_ms_per_s\": %.2f, "
                   "\"audio_sd\": %.2f}\n",
                   (unsigned long long)info.weight_bytes, info.n_expert, info.n_expert_used, reps, pp, a, b, tg, c, d,
                   pixels ? e : 0, pixels ? f : 0, clip_s, clip ? ga : 0, clip ? gb : 0);
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
            if (tg) {
                /* a mixture of experts decodes reading only the experts each token is routed to */
                char test[32];
                if (info.n_expert)
                    snprintf(test, sizeof test, "tg%u %u/%ue", tg, info.n_expert_used, info.n_expert);
                else
                    snprintf(test, sizeof test, "tg%u", tg);
                printf("| %-28s | %-9s | %-22.22s | %-14s | %9.2f ± %5.2f |\n", name, size, info.device, test, c, d);
            }
            if (pixels)
                printf("| %-28s | %-9s | %-22.22s | %-14s | %6.1f ± %5.1f ms |\n", name, size, info.device,
                       "image 1024x768", e, f);
            if (clip) {
                char test[32];
                snprintf(test, sizeof test, "audio %.1f s", clip_s);
                printf("| %-28s | %-9s | %-22.22s | %-14s | %5.1f ± %4.1f ms/s |\n", name, size, info.device, test, ga,
                       gb);
            }
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
