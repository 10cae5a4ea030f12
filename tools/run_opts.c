/* tools/run_opts.c — shared options of run/chat/bench, manifest defaults, and loading with a progress bar. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "run_opts.h"

static struct {
    bool model, ctx, n, temp, top_k, top_p, min_p, rp, seed, system, tmpl;
} given;

void run_opts_init(run_opts *o)
{
    memset(o, 0, sizeof *o);
    memset(&given, 0, sizeof given);
    o->n_predict = 256;
    o->n_ctx = 4096;
    o->sampling = vkmm_sampling_default();
    o->sampling.seed = (uint64_t)getpid() * 2654435761u;
}

const char *run_opts_help(void)
{
    return "  -m, --model NAME|FILE   a model name (`vkmm models`), a text model GGUF (its mmproj-*.gguf found\n"
           "                          beside it) or a manifest; none: the bundled demo model\n"
           "  --mmproj FILE           vision projector GGUF    --model-file FILE.yaml  a model manifest\n"
           "  --image FILE            an image (repeat for more); <__media__> in the prompt places each\n"
           "  -p, --prompt TEXT       the prompt               --system TEXT      system prompt\n"
           "  -n, --n-predict N       tokens to generate (256) -c, --ctx-size N   context (4096)\n"
           "  -b, --batch-size N      prefill chunk (512)      --chat-template NAME  gemma3, mistral-v7-tekken\n"
           "  --temp T (0.8)  --top-k K (40)  --top-p P (0.95)  --min-p P (0.05)  --repeat-penalty R (1.0)\n"
           "  --seed N        --raw (no chat template)  --json (one JSON object per token)\n"
           "  --device N|NAME  --profile  --profile-json FILE (Chrome/Perfetto trace)\n"
           "  --kv-tokens N           positions of KV cache the model's sessions share (default: from memory)\n"
           "  --max-batch N           sequences one decode step takes (16)\n"
           "  --image-tokens N        the most tokens one image becomes, for models whose images take a budget\n"
           "                          (Gemma 4: 70, 140, 280, 560 or 1120; default 280)\n";
}

static bool num(const char *s, double *out)
{
    char *end;
    *out = strtod(s, &end);
    return *s && !*end;
}

int run_opts_parse(run_opts *o, int argc, char **argv, int *i)
{
    const char *a = argv[*i];
    if (!strcmp(a, "--raw")) return o->raw = true, 1;
    if (!strcmp(a, "--json")) return o->json = true, 1;
    if (!strcmp(a, "--profile")) return o->profile = true, 1;
    static const char *const with_value[] = {"-m", "--model", "--mmproj", "--model-file", "--image", "-p", "--prompt",
                                             "--system", "-n", "--n-predict", "-c", "--ctx-size", "-b", "--batch-size",
                                             "--chat-template", "--temp", "--top-k", "--top-p", "--min-p",
                                             "--repeat-penalty", "--seed", "--device", "--profile-json",
                                             "--kv-tokens", "--max-batch", "--image-tokens"};
    bool known = false;
    for (size_t k = 0; k < sizeof with_value / sizeof *with_value; k++)
        known |= !strcmp(a, with_value[k]);
    if (!known)
        return 0;
    if (*i + 1 >= argc) {
        fprintf(stderr, "vkmm: %s needs a value\n", a);
        return -1;
    }
    const char *v = argv[++*i];
    double d = 0;
    bool numeric = num(v, &d);
    if (!strcmp(a, "-m") || !strcmp(a, "--model")) o->model = v, given.model = true;
    else if (!strcmp(a, "--mmproj")) o->mmproj = v;
    else if (!strcmp(a, "--model-file")) o->model_file = v;
    else if (!strcmp(a, "--image")) {
        if (o->n_images == RUN_MAX_IMAGES) {
            fprintf(stderr, "vkmm: at most %d images\n", RUN_MAX_IMAGES);
            return -1;
        }
        o->images[o->n_images++] = v;
    } else if (!strcmp(a, "-p") || !strcmp(a, "--prompt")) o->prompt = v;
    else if (!strcmp(a, "--system")) o->system = v, given.system = true;
    else if (!strcmp(a, "--chat-template")) o->chat_template = v, given.tmpl = true;
    else if (!strcmp(a, "--device")) o->device = v;
    else if (!strcmp(a, "--profile-json")) o->profile_json = v, o->profile = true;
    else if (!numeric) {
        fprintf(stderr, "vkmm: %s takes a number, not '%s'\n", a, v);
        return -1;
    } else if (!strcmp(a, "-n") || !strcmp(a, "--n-predict")) o->n_predict = d < 0 ? 1u << 30 : (uint32_t)d, given.n = true;
    else if (!strcmp(a, "-c") || !strcmp(a, "--ctx-size")) o->n_ctx = (uint32_t)d, given.ctx = true;
    else if (!strcmp(a, "-b") || !strcmp(a, "--batch-size")) o->n_batch = (uint32_t)d;
    else if (!strcmp(a, "--temp")) o->sampling.temperature = (float)d, given.temp = true;
    else if (!strcmp(a, "--top-k")) o->sampling.top_k = (int32_t)d, given.top_k = true;
    else if (!strcmp(a, "--top-p")) o->sampling.top_p = (float)d, given.top_p = true;
    else if (!strcmp(a, "--min-p")) o->sampling.min_p = (float)d, given.min_p = true;
    else if (!strcmp(a, "--repeat-penalty")) o->sampling.repeat_penalty = (float)d, given.rp = true;
    else if (!strcmp(a, "--seed")) o->sampling.seed = (uint64_t)d, given.seed = true;
    else if (!strcmp(a, "--kv-tokens")) o->kv_tokens = d < 0 ? 0 : d > 2e9 ? 2000000000u : (uint32_t)d;
    else if (!strcmp(a, "--max-batch")) o->max_batch = d < 1 ? 1 : d > 64 ? 64 : (uint32_t)d;
    else if (!strcmp(a, "--image-tokens")) o->image_tokens = d < 1 ? 1 : d > 1e6 ? 1000000u : (uint32_t)d;
    return 1;
}

static char *keep(run_opts *o, const char *s)
{
    for (int i = 0; i < RUN_OWNED; i++)
        if (!o->owned[i])
            return o->owned[i] = strdup(s);
    return NULL;
}

int run_opts_finish(run_opts *o, const char *cmd)
{
    /* -m takes a name, a GGUF or a manifest; --model-file a manifest; neither: the bundled demo model */
    const char *what = o->model_file ? o->model_file : o->model ? o->model : "demo";
    vkmm_model_ref ref = {0};
    vkmm_error err;
    if (vkmm_model_resolve(what, o->mmproj, &ref, &err)) {
        fprintf(stderr, "vkmm %s: %s\n", cmd, err.msg);
        return err.code == VKMM_ERR_NOT_FOUND || err.code == VKMM_ERR_IO ? 1 : 2;
    }
    if (!(o->model_file && given.model))
        o->model = keep(o, ref.model);
    if (ref.mmproj)
        o->mmproj = keep(o, ref.mmproj);
    if (!given.tmpl && ref.chat_template)
        o->chat_template = keep(o, ref.chat_template);
    if (!given.system && ref.system)
        o->system = keep(o, ref.system);
    if (!given.ctx && (ref.set & VKMM_REF_CONTEXT)) o->n_ctx = ref.context;
    if (!given.n && (ref.set & VKMM_REF_MAX_TOKENS)) o->n_predict = ref.max_tokens;
    if (!given.temp && (ref.set & VKMM_REF_TEMPERATURE)) o->sampling.temperature = ref.sampling.temperature;
    if (!given.top_k && (ref.set & VKMM_REF_TOP_K)) o->sampling.top_k = ref.sampling.top_k;
    if (!given.top_p && (ref.set & VKMM_REF_TOP_P)) o->sampling.top_p = ref.sampling.top_p;
    if (!given.min_p && (ref.set & VKMM_REF_MIN_P)) o->sampling.min_p = ref.sampling.min_p;
    if (!given.rp && (ref.set & VKMM_REF_REPEAT_PENALTY)) o->sampling.repeat_penalty = ref.sampling.repeat_penalty;
    if (!given.seed && (ref.set & VKMM_REF_SEED)) o->sampling.seed = ref.sampling.seed;
    vkmm_model_ref_free(&ref);
    if (!o->model) {
        fprintf(stderr, "vkmm %s: out of memory\n", cmd);
        return 1;
    }
    return 0;
}

void run_opts_free(run_opts *o)
{
    for (int i = 0; i < RUN_OWNED; i++)
        free(o->owned[i]);
}

static void progress(const char *stage, uint64_t done, uint64_t total, void *user)
{
    (void)user;
    int w = 30, fill = total ? (int)((double)done / total * w) : w;
    fprintf(stderr, "\rloading %s [%.*s%*s] %3.0f%% (%.0f MiB)", stage, fill, "##############################",
            w - fill, "", total ? 100.0 * done / total : 100.0, done / 1048576.0);
    if (done >= total)
        fputc('\n', stderr);
    fflush(stderr);
}

vkmm_status run_load_model(const run_opts *o, vkmm_model **m, vkmm_error *err)
{
    vkmm_model_params mp = {
        .struct_size = sizeof mp,
        .model_path = o->model,
        .mmproj_path = o->mmproj,
        .device = o->device,
        .validation = -1,
        .chat_template = o->chat_template,
        .progress = o->quiet || !isatty(2) ? NULL : progress,
        .kv_tokens = o->kv_tokens,
        .max_batch = o->max_batch,
        .image_tokens = o->image_tokens,
    };
    return vkmm_model_load(&mp, m, err);
}
