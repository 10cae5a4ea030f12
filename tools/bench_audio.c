/* tools/bench_audio.c — `vkmm-dev bench-audio`: audio-encode time per second of audio through an audio tower (an
 * mmproj's, or a synthetic gemma4a tower of a named shape), split into the CPU front end and the tower, with the
 * tower's GPU time per kernel on request. A developer tool: it drives the engine's audio hook without a session
 * (the public `vkmm bench --audio` needs the engine's audio inputs). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "audio_encode.h"
#include "dev.h"
#include "dtype_table.h"
#include "gemma4a.h"
#include "synth.h"
#include "weights.h"

static int usage(FILE *f)
{
    fprintf(f,
            "usage: vkmm-dev bench-audio [--mmproj F | --size tiny|e2b] [--audio F | --seconds S] [--repeat N]\n"
            "                            [--type f16] [--profile]\n"
            "  Encodes audio (a file, or S seconds of a synthetic voice-like signal, default 30) with the mmproj's\n"
            "  audio tower, or with a synthetic gemma4a tower of that shape (random weights, --type matrices),\n"
            "  once to warm up and N times (default 3) timed: milliseconds per second of audio for the log-mel front\n"
            "  end (CPU) and the tower (GPU). --profile adds the GPU time of the last piece per kernel.\n");
    return f == stdout ? 0 : 2;
}

static float *voice(uint64_t n)
{
    float *x = malloc(sizeof *x * (n ? n : 1));
    double phase = 0;
    for (uint64_t i = 0; x && i < n; i++) {
        double t = i / 16000.0;
        phase += 2 * M_PI * (140.0 + 60.0 * sin(2 * M_PI * 0.3 * t)) / 16000.0;
        x[i] = (float)(0.25 * (0.5 + 0.5 * sin(2 * M_PI * 3.7 * t)) * (sin(phase) + 0.5 * sin(2 * phase)));
    }
    return x;
}

typedef struct kernel_time {
    const char *kernel;
    double ns;
    uint32_t count;
} kernel_time;

static int by_time(const void *a, const void *b)
{
    double x = ((const kernel_time *)a)->ns, y = ((const kernel_time *)b)->ns;
    return x < y ? 1 : x > y ? -1 : 0;
}

/* The last submit's dispatches summed per kernel (the part of a label after ':'). */
static void print_profile(const vkmm_cmd *cmd)
{
    const vkmm_profile_entry *e;
    uint32_t n = vkmm_cmd_profile(cmd, &e), nk = 0;
    kernel_time *k = calloc(n ? n : 1, sizeof *k);
    double total = 0;
    for (uint32_t i = 0; i < n; i++) {
        const char *name = strrchr(e[i].label, ':');
        name = name ? name + 1 : e[i].label;
        uint32_t j = 0;
        while (j < nk && strcmp(k[j].kernel, name))
            j++;
        if (j == nk)
            k[nk++].kernel = name;
        k[j].ns += e[i].ns, k[j].count++;
        total += e[i].ns;
    }
    qsort(k, nk, sizeof *k, by_time);
    printf("GPU time of the last piece: %.1f ms in %u dispatches\n", total / 1e6, n);
    for (uint32_t j = 0; j < nk; j++)
        printf("  %-22s %8.2f ms %5.1f%%  (%u)\n", k[j].kernel, k[j].ns / 1e6, 100.0 * k[j].ns / total, k[j].count);
    free(k);
}

int vkmm_dev_bench_audio(int argc, char **argv)
{
    const char *mmproj = NULL, *size = "tiny", *audio = NULL;
    double seconds = 30;
    int repeat = 3;
    bool profile = false;
    vkmm_dtype type = VKMM_F16;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "-h") || !strcmp(a, "--help"))
            return usage(stdout);
        if (!strcmp(a, "--profile")) {
            profile = true;
            continue;
        }
        if (!v)
            return fprintf(stderr, "vkmm-dev bench-audio: %s needs a value\n", a), 2;
        i++;
        if (!strcmp(a, "--mmproj")) mmproj = v;
        else if (!strcmp(a, "--size")) size = v;
        else if (!strcmp(a, "--audio")) audio = v;
        else if (!strcmp(a, "--seconds")) seconds = atof(v);
        else if (!strcmp(a, "--repeat")) repeat = atoi(v);
        else if (!strcmp(a, "--type")) {
            int t = vkmm_dtype_from_name(v);
            if (t < 0 || !vkmm_dtype_get((uint32_t)t)->supported)
                return fprintf(stderr, "vkmm-dev bench-audio: unknown or unsupported type '%s'\n", v), 2;
            type = (vkmm_dtype)t;
        } else
            return fprintf(stderr, "vkmm-dev bench-audio: unknown option '%s'\n", a), usage(stderr);
    }
    if (repeat < 1 || (!audio && !(seconds > 0 && seconds <= 3600)))
        return fprintf(stderr, "vkmm-dev bench-audio: --repeat >= 1 and 0 < --seconds <= 3600\n"), 2;
    vkmm_error err;
    char tmp[] = "/tmp/vkmm-bench-audio-XXXXXX", synth_path[64] = "";
    if (!mmproj) {
        if (!mkdtemp(tmp))
            return fprintf(stderr, "vkmm-dev bench-audio: no temporary folder\n"), 1;
        snprintf(synth_path, sizeof synth_path, "%s/gemma4a.gguf", tmp);
        bool tiny = !strcmp(size, "tiny");
        vkmm_synth_opts so = {.arch = "gemma4a", .size = size, .vision_type = type, .seed = 1,
                              .mmproj_out = synth_path};
        if (vkmm_synth_gemma4a_mmproj(&so, tiny ? 64 : 1536, &err))
            return fprintf(stderr, "vkmm-dev bench-audio: %s\n", err.msg), rmdir(tmp), 1;
        mmproj = synth_path;
    }
    vkmm_gpu_options go = {.validation = -1};
    vkmm_gpu *gpu = NULL;
    vkmm_ops *ops = NULL;
    vkmm_cmd *cmd = NULL;
    vkmm_gguf *g = NULL;
    vkmm_weight_store *ws = NULL;
    vkmm_audio_model *am = NULL;
    vkmm_audio pcm = {0};
    int rc = 1;
    vkmm_status s = vkmm_gpu_create(&go, &gpu, &err);
    if (!s) s = vkmm_ops_create(gpu, NULL, &ops, &err);
    if (!s) s = vkmm_cmd_create(gpu, profile ? VKMM_CMD_PROFILE : 0, &cmd, &err);
    if (!s) s = vkmm_gguf_open(mmproj, &g, &err);
    vkmm_weight_store_params wp = {.gpu = gpu, .ops = ops, .gguf = g, .stage = "audio"};
    if (!s) s = vkmm_weight_store_create(&wp, &ws, &err);
    if (!s) s = vkmm_gemma4a_tower.load_audio(vkmm_weight_store_source(ws), &am, &err);
    if (!s && audio) {
        vkmm_audio_options ao = vkmm_audio_options_default();
        ao.rate = am->mel.rate;
        s = vkmm_audio_load(audio, &ao, &pcm, &err);
    } else if (!s) {
        pcm.n = (uint64_t)(seconds * am->mel.rate);
        pcm.rate = am->mel.rate;
        if (!(pcm.pcm = voice(pcm.n)))
            s = vkmm_fail(&err, VKMM_ERR_HOST_MEMORY, "out of host memory");
    }
    if (!s) {
        const vkmm_audio_hparams *hp = &am->hp;
        double secs = (double)pcm.n / pcm.rate;
        printf("tower: %s (%s): width %u, %u heads, %u blocks, feed-forward %u, into %u; %s\n", mmproj,
               synth_path[0] ? size : "file", hp->n_embd, hp->n_head, hp->n_layer, hp->n_ff, hp->n_text_embd,
               vkmm_gpu_info(gpu)->name);
        vkmm_audio_encoding enc;
        double feat = 0, tower = 0;
        uint64_t rows = 0;
        for (int r = 0; r <= repeat && !s; r++) { /* run 0 warms up (pipelines, memory) */
            s = vkmm_audio_encode(gpu, ops, cmd, am, pcm.pcm, pcm.n, audio ? audio : "signal", &enc, &err);
            if (!s) {
                if (r)
                    feat += enc.features_ms, tower += enc.encode_ms;
                rows = enc.n_rows;
                vkmm_buffer_destroy(enc.rows);
            }
        }
        if (!s) {
            feat /= repeat, tower /= repeat;
            printf("%.2f s of audio -> %llu rows: front end %.1f ms (%.1f ms per s), tower %.1f ms (%.1f ms per s); "
                   "audio-encode %.1f ms per second of audio\n", secs, (unsigned long long)rows, feat, feat / secs,
                   tower, tower / secs, (feat + tower) / secs);
            if (profile)
                print_profile(cmd);
            rc = 0;
        }
    }
    if (s)
        fprintf(stderr, "vkmm-dev bench-audio: %s\n", err.msg);
    vkmm_audio_free(&pcm);
    if (am)
        am->free(am);
    vkmm_weight_store_free(ws);
    vkmm_gguf_close(g);
    vkmm_cmd_destroy(cmd);
    vkmm_ops_destroy(ops);
    vkmm_gpu_destroy(gpu);
    if (synth_path[0]) {
        unlink(synth_path);
        rmdir(tmp);
    }
    return rc;
}
