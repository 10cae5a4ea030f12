/* tools/serve/cmd_serve.c — `vkmm serve`: options, start-up (listen first, answering 503 while the model loads),
 * and graceful shutdown on SIGTERM or SIGINT: stop accepting, refuse queued work with 503, let running
 * generations finish within --shutdown-timeout, then cancel what is left. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"
#include "http.h"
#include "sched.h"

double serve_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

serve_state serve_current_state(serve_server *srv)
{
    serve_state st = (serve_state)atomic_load(&srv->state);
    if (st == SERVE_READY && serve_sched_device_lost(srv->sched))
        return SERVE_BROKEN;
    return st;
}

static void usage(FILE *f)
{
    fprintf(f,
            "usage: vkmm serve [-m model.gguf [--mmproj mmproj.gguf] | --model NAME | --model-file FILE.yaml]\n"
            "                  [--host 127.0.0.1] [--port 8080] [--parallel N] [--ctx-size N] [options]\n"
            "OpenAI (/v1/chat/completions) and Anthropic (/v1/messages) APIs, a chat page at /, /health, /metrics.\n"
            "With no model it serves the bundled demo model.\n\n"
            "  -m, --model NAME|FILE     a model name (`vkmm models`), a text model GGUF or a manifest\n"
            "  --mmproj FILE             vision projector GGUF     --model-file FILE.yaml  a model manifest\n"
            "  --host ADDR (127.0.0.1)   --port N (8080; 0: any free port, printed)\n"
            "  --parallel N (4)          sequences generated at once (one session each)\n"
            "  -c, --ctx-size N          context per session (the manifest's, else 4096)\n"
            "  --queue N (64)            requests that may wait for a session; more get 429 + Retry-After\n"
            "  --api-key KEY             required as 'Authorization: Bearer KEY' or 'x-api-key: KEY'\n"
            "                            (also read from $VKMM_API_KEY)\n"
            "  --allow-local-files       let requests name image files on this machine (paths, file://)\n"
            "  --max-body BYTES (32M)    request body limit     --max-images N (16)  images per request\n"
            "  --max-image-pixels N (25000000)  width x height of one image\n"
            "  --image-tokens N          tokens per image for models whose images take a budget (Gemma 4: 70,\n"
            "                            140, 280, 560 or 1120; default 280)\n"
            "  --timeout SECONDS (600)   per request, queue wait included\n"
            "  --shutdown-timeout SECONDS (20)  on SIGTERM, how long running requests may go on\n"
            "  --device N|NAME           --quiet (no line per request)\n");
}

/* "32M", "1G", "4096": bytes */
static bool parse_size(const char *s, uint64_t *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (end == s || errno || v < 0)
        return false;
    double mul = 1;
    switch (*end) {
    case 'k': case 'K': mul = 1024, end++; break;
    case 'm': case 'M': mul = 1048576, end++; break;
    case 'g': case 'G': mul = 1073741824, end++; break;
    default: break;
    }
    if (*end == 'i' || *end == 'B')
        end += *end == 'i' && end[1] == 'B' ? 2 : 1;
    if (*end || v * mul > 1e18)
        return false;
    *out = (uint64_t)(v * mul);
    return true;
}

static bool parse_num(const char *s, double lo, double hi, double *out)
{
    char *end;
    double v = strtod(s, &end);
    if (end == s || *end || !(v >= lo && v <= hi))
        return false;
    *out = v;
    return true;
}

static int parse_args(int argc, char **argv, serve_config *c, bool *help)
{
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            *help = true;
            return 0;
        }
        if (!strcmp(a, "--allow-local-files")) {
            c->allow_local_files = true;
            continue;
        }
        if (!strcmp(a, "--quiet")) {
            c->quiet = true;
            continue;
        }
        static const char *const with_value[] = {"-m", "--model", "--model-file", "--mmproj", "--device", "--host",
                                                 "--api-key", "--port", "--parallel", "-np", "-c", "--ctx-size",
                                                 "--queue", "--max-images", "--max-image-pixels", "--timeout",
                                                 "--shutdown-timeout", "--max-body", "--image-tokens"};
        bool known = false;
        for (size_t k = 0; k < sizeof with_value / sizeof *with_value; k++)
            known |= !strcmp(a, with_value[k]);
        if (!known) {
            fprintf(stderr, "vkmm serve: unknown option '%s' (vkmm serve --help)\n", a);
            return 2;
        }
        if (i + 1 >= argc) {
            fprintf(stderr, "vkmm serve: %s needs a value\n", a);
            return 2;
        }
        const char *v = argv[++i];
        double d = 0;
        uint64_t bytes = 0;
        bool ok = true;
        if (!strcmp(a, "-m") || !strcmp(a, "--model") || !strcmp(a, "--model-file")) c->model = v;
        else if (!strcmp(a, "--mmproj")) c->mmproj = v;
        else if (!strcmp(a, "--device")) c->device = v;
        else if (!strcmp(a, "--host")) c->host = v;
        else if (!strcmp(a, "--api-key")) c->api_key = v;
        else if (!strcmp(a, "--port")) ok = parse_num(v, 0, 65535, &d), c->port = (int)d;
        else if (!strcmp(a, "--parallel") || !strcmp(a, "-np")) ok = parse_num(v, 1, 256, &d), c->parallel = (uint32_t)d;
        else if (!strcmp(a, "-c") || !strcmp(a, "--ctx-size")) ok = parse_num(v, 16, 1 << 24, &d), c->n_ctx = (uint32_t)d;
        else if (!strcmp(a, "--queue")) ok = parse_num(v, 0, 1 << 20, &d), c->queue = (uint32_t)d;
        else if (!strcmp(a, "--max-images")) ok = parse_num(v, 0, 1 << 16, &d), c->max_images = (uint32_t)d;
        else if (!strcmp(a, "--image-tokens")) ok = parse_num(v, 1, 1 << 20, &d), c->image_tokens = (uint32_t)d;
        else if (!strcmp(a, "--max-image-pixels")) ok = parse_num(v, 1, 1e12, &d), c->max_image_pixels = (uint64_t)d;
        else if (!strcmp(a, "--timeout")) ok = parse_num(v, 0.1, 1e7, &d), c->timeout_s = d;
        else if (!strcmp(a, "--shutdown-timeout")) ok = parse_num(v, 0, 1e5, &d), c->shutdown_s = d;
        else ok = parse_size(v, &bytes) && bytes >= 1024, c->max_body = bytes; /* --max-body */
        if (!ok) {
            fprintf(stderr, "vkmm serve: %s: '%s' is not a usable value\n", a, v);
            return 2;
        }
    }
    return 0;
}

/* The manifest's defaults, the model's name and date; the context within what the model was trained for. */
static void prepare(serve_server *srv, const vkmm_model_ref *ref)
{
    serve_config *c = &srv->cfg;
    vkmm_model_info info = vkmm_model_get_info(srv->model);
    uint32_t n_ctx = c->n_ctx ? c->n_ctx : (ref->set & VKMM_REF_CONTEXT) ? ref->context : 4096;
    if (info.n_ctx_train && n_ctx > info.n_ctx_train) {
        if (c->n_ctx)
            fprintf(stderr, "vkmm serve: --ctx-size %u is more than the model's %u; using %u\n", n_ctx,
                    info.n_ctx_train, info.n_ctx_train);
        n_ctx = info.n_ctx_train;
    }
    srv->n_ctx = n_ctx;
    /* as `vkmm run -n`: the manifest's, else 256, so that a request and the same `vkmm run` agree by default */
    srv->default_max_tokens = (ref->set & VKMM_REF_MAX_TOKENS) ? ref->max_tokens : 256;
    srv->max_token_bytes = 1;
    for (uint32_t id = 0; id < info.n_vocab; id++) {
        size_t len = 0;
        vkmm_error err;
        if (!vkmm_model_token_bytes(srv->model, (int32_t)id, NULL, 0, &len, &err) && len > srv->max_token_bytes)
            srv->max_token_bytes = (uint32_t)len;
    }
    srv->defaults = ref->sampling;
    if (!(ref->set & VKMM_REF_SEED))
        srv->defaults.seed = (uint64_t)time(NULL) * 2654435761u;
    srv->system = ref->system ? strdup(ref->system) : NULL;
    const char *name = ref->name;
    char stem[128];
    if (!name) {
        const char *base = strrchr(ref->model, '/');
        snprintf(stem, sizeof stem, "%s", base ? base + 1 : ref->model);
        char *dot = strstr(stem, ".gguf");
        if (dot)
            *dot = 0;
        name = stem;
    }
    char *clean = vkmm_clean_text(name, strlen(name), sizeof srv->model_id - 8, false); /* a file name is bytes */
    snprintf(srv->model_id, sizeof srv->model_id, "%s", clean ? clean : "model");
    free(clean);
    struct stat sb;
    srv->created = stat(ref->model, &sb) ? time(NULL) : sb.st_mtime;
}

/* Waits for SIGTERM or SIGINT (blocked in every thread, so they arrive here). */
static int wait_signal(const sigset_t *set, double timeout)
{
    if (timeout < 0)
        timeout = 0;
    struct timespec ts = {.tv_sec = (time_t)timeout, .tv_nsec = (long)((timeout - (double)(time_t)timeout) * 1e9)};
    int sig = sigtimedwait(set, NULL, &ts);
    return sig > 0 ? sig : 0;
}

static void drain(serve_server *srv, const sigset_t *set)
{
    atomic_store(&srv->state, SERVE_DRAINING);
    serve_http_quiesce(srv);
    if (!srv->sched)
        return;
    serve_sched_close(srv->sched);
    double deadline = serve_now() + srv->cfg.shutdown_s;
    bool idle = false;
    while (!(idle = serve_sched_wait_idle(srv->sched, serve_now() + 0.2)) && serve_now() < deadline)
        if (wait_signal(set, 0)) {
            fprintf(stderr, "vkmm serve: second signal: cancelling what is still running\n");
            break;
        }
    if (!idle) {
        serve_sched_cancel_all(srv->sched, SERVE_CANCEL_SHUTDOWN);
        serve_sched_wait_idle(srv->sched, serve_now() + 30);
    }
}

int vkmm_cmd_serve(int argc, char **argv)
{
    serve_server *srv = calloc(1, sizeof *srv);
    if (!srv)
        return 1;
    serve_config *c = &srv->cfg;
    *c = (serve_config){.host = "127.0.0.1", .port = 8080, .parallel = 4, .queue = 64, .max_body = 32u << 20,
                        .max_images = 16, .max_image_pixels = 25000000, .timeout_s = 600, .shutdown_s = 20,
                        .api_key = getenv("VKMM_API_KEY")};
    bool help = false;
    int rc = parse_args(argc, argv, c, &help);
    if (help)
        usage(stdout);
    if (rc || help) {
        free(srv);
        return rc;
    }
    if (c->api_key && !*c->api_key)
        c->api_key = NULL;

    /* signals are taken by the main thread alone, with sigtimedwait; every thread started later inherits this */
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);

    vkmm_model_ref ref = {0};
    vkmm_error err;
    if (vkmm_model_resolve(c->model ? c->model : "demo", c->mmproj, &ref, &err)) {
        fprintf(stderr, "vkmm serve: %s\n", err.msg);
        free(srv);
        return 1;
    }
    srv->metrics = serve_metrics_new();
    srv->created = time(NULL);
    if (!srv->metrics || serve_http_start(srv)) {
        vkmm_model_ref_free(&ref);
        serve_metrics_free(srv->metrics);
        free(srv);
        return 1;
    }
    fprintf(stderr, "vkmm serve: loading %s\n", ref.model);
    /* the KV pool holds every session at its full context; a decode step takes all of them together */
    uint32_t ctx = c->n_ctx ? c->n_ctx : (ref.set & VKMM_REF_CONTEXT) ? ref.context : 4096;
    uint64_t kv = (uint64_t)c->parallel * ctx;
    vkmm_model_params mp = {.struct_size = sizeof mp, .model_path = ref.model, .mmproj_path = ref.mmproj,
                            .device = c->device, .validation = -1, .chat_template = ref.chat_template,
                            .kv_tokens = kv > 0x7fffffff ? 0x7fffffff : (uint32_t)kv,
                            .max_batch = c->parallel < 64 ? c->parallel : 64, .image_tokens = c->image_tokens};
    vkmm_status st = vkmm_model_load(&mp, &srv->model, &err);
    if (!st) {
        prepare(srv, &ref);
        st = serve_sched_create(srv->model, c->parallel, srv->n_ctx, c->queue, srv->metrics, &srv->sched, &err);
    }
    vkmm_model_ref_free(&ref);
    if (st) {
        fprintf(stderr, "vkmm serve: %s\n", err.msg);
        rc = 1;
    } else {
        atomic_store(&srv->state, SERVE_READY);
        vkmm_model_info info = vkmm_model_get_info(srv->model);
        fprintf(stderr, "vkmm serve: ready: model '%s' (%s%s) on %s, %u sessions of %u tokens%s\n", srv->model_id,
                info.arch, info.has_vision ? " with vision" : "", info.device, c->parallel, srv->n_ctx,
                c->api_key ? ", API key required" : "");
        fflush(stderr);
        int sig;
        while (!(sig = wait_signal(&set, 3600)))
            ;
        fprintf(stderr, "vkmm serve: %s: finishing the requests in flight (at most %.0f s)\n",
                sig == SIGTERM ? "SIGTERM" : "SIGINT", c->shutdown_s);
    }
    drain(srv, &set);
    serve_http_stop(srv);
    serve_sched_free(srv->sched);
    vkmm_model_free(srv->model);
    serve_metrics_free(srv->metrics);
    free(srv->system);
    if (!rc)
        fprintf(stderr, "vkmm serve: stopped\n");
    free(srv);
    return rc;
}
