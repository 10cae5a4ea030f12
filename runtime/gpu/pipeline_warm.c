/* runtime/gpu/pipeline_warm.c — prewarming: the pipelines a model used last time, kept as a list beside the pipeline
 * cache, compiled on a background thread while the caller loads, decodes images and records. Compiling is most of a
 * short run's time where the driver compiles on the CPU (lavapipe spent 124 of 282 ms of the demo's image and answer
 * in vkCreateComputePipelines): the caller compiles its first pipelines itself, the thread starts from the other
 * end, and a pipeline one of them is compiling is waited for by the other, never compiled twice. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gpu_internal.h"
#include "log.h"

#define MAX_LIST_BYTES (1u << 20)
#define MAX_ENTRIES 4096

typedef struct warm_list {
    vkmm_pipeline_desc *d;
    char (*names)[64];
    uint32_t n;
} warm_list;

typedef struct warm_job {
    vkmm_gpu *gpu;
    warm_list list;
    struct warm_job *next;
} warm_job;

/* One worker thread for the process, started on first use and kept: a thread per model load left glibc a malloc
 * arena per thread to hold on to (python's 100-cycle load/free test grew by 13 MB). Jobs queue; a context's
 * warm_running (under w_lock) says whether its job is still queued or running. */
static pthread_mutex_t w_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t w_cond = PTHREAD_COND_INITIALIZER;
static warm_job *w_queue;
static bool w_started;

/* One line: shader name, subgroup size, then the specialization constants, in decimal. A line that does not parse
 * or names no embedded shader is skipped: the list is a hint, never trusted for more than what to compile. */
static bool parse_line(char *line, vkmm_pipeline_desc *d, char name[64])
{
    char *save = NULL, *tok = strtok_r(line, " \t\r", &save);
    if (!tok || strlen(tok) >= 64 || !vkmm_shader_find(tok))
        return false;
    snprintf(name, 64, "%s", tok);
    memset(d, 0, sizeof *d);
    d->shader = name;
    for (uint32_t i = 0; (tok = strtok_r(NULL, " \t\r", &save)); i++) {
        char *end;
        errno = 0;
        unsigned long v = strtoul(tok, &end, 10);
        if (*end || errno || v > 0xffffffffu || tok[0] == '-')
            return false;
        if (i == 0)
            d->required_subgroup_size = (uint32_t)v;
        else if (d->n_spec < VKMM_MAX_SPEC)
            d->spec[d->n_spec++] = (uint32_t)v;
        else
            return false;
    }
    return true;
}

static void parse_list(char *text, warm_list *l)
{
    uint32_t lines = 1; /* (sized by the text: a model's list is tens of lines, not MAX_ENTRIES) */
    for (const char *c = text; *c && lines < MAX_ENTRIES; c++)
        lines += *c == '\n';
    l->d = calloc(lines, sizeof *l->d);
    l->names = calloc(lines, sizeof *l->names);
    l->n = 0;
    if (!l->d || !l->names)
        return;
    uint32_t bad = 0;
    for (char *save = NULL, *line = strtok_r(text, "\n", &save); line && l->n < lines;
         line = strtok_r(NULL, "\n", &save)) {
        if (parse_line(line, &l->d[l->n], l->names[l->n]))
            l->n++;
        else
            bad++;
    }
    if (bad)
        vkmm_debug("prewarm list: %u line(s) skipped", bad);
}

static void free_list(warm_list *l)
{
    free(l->d);
    free(l->names);
    l->d = NULL;
    l->names = NULL;
    l->n = 0;
}

static void run_job(warm_job *job)
{
    vkmm_gpu *gpu = job->gpu;
    uint32_t made = 0;
    for (uint32_t i = job->list.n; i-- > 0;) {
        pthread_mutex_lock(&gpu->pipe_lock);
        bool stop = gpu->warm_stop;
        pthread_mutex_unlock(&gpu->pipe_lock);
        if (stop)
            break;
        vkmm_error err;
        vkmm_pipeline *p;
        if (!vkmm_pipeline_get_for(gpu, &job->list.d[i], false, &p, &err))
            made++;
    }
    vkmm_debug("prewarm: %u of %u pipelines ready", made, job->list.n);
}

static void *worker(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&w_lock);
    for (;;) {
        while (!w_queue)
            pthread_cond_wait(&w_cond, &w_lock);
        warm_job *job = w_queue;
        w_queue = job->next;
        pthread_mutex_unlock(&w_lock);
        run_job(job);
        pthread_mutex_lock(&w_lock);
        job->gpu->warm_running = false;
        pthread_cond_broadcast(&w_cond);
        free_list(&job->list);
        free(job);
    }
    return NULL;
}

static char *read_text(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    char *buf = malloc(MAX_LIST_BYTES + 1);
    size_t n = buf ? fread(buf, 1, MAX_LIST_BYTES + 1, f) : 0;
    fclose(f);
    if (!buf || n > MAX_LIST_BYTES) { /* not a list we wrote */
        free(buf);
        return NULL;
    }
    buf[n] = 0;
    return buf;
}

void vkmm_gpu_prewarm(vkmm_gpu *gpu, const char *tag)
{
    const char *env = getenv("VKMM_PREWARM");
    if (gpu->warm_path[0] || !gpu->cache_path[0] || !tag || !*tag || (env && !strcmp(env, "0")))
        return;
    char base[1024];
    snprintf(base, sizeof base, "%s", gpu->cache_path);
    char *dot = strrchr(base, '.');
    if (dot && !strcmp(dot, ".bin"))
        *dot = 0;
    char safe[64];
    size_t k = 0;
    for (const char *c = tag; *c && k + 1 < sizeof safe; c++) /* a file name, whatever the tag holds */
        safe[k++] = (*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') || *c == '-' ? *c : '_';
    safe[k] = 0;
    snprintf(gpu->warm_path, sizeof gpu->warm_path, "%s-%s.list", base, safe);
    char *text = read_text(gpu->warm_path);
    if (!text)
        return;
    gpu->warm_loaded = strdup(text);
    warm_job *job = calloc(1, sizeof *job);
    if (!job) {
        free(text);
        return;
    }
    job->gpu = gpu;
    parse_list(text, &job->list);
    free(text);
    if (job->list.n == 0) {
        free_list(&job->list);
        free(job);
        return;
    }
    pthread_mutex_lock(&w_lock);
    if (!w_started) {
        pthread_t t;
        pthread_attr_t at;
        pthread_attr_init(&at);
        pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
        w_started = pthread_create(&t, &at, worker, NULL) == 0;
        pthread_attr_destroy(&at);
    }
    if (!w_started) {
        pthread_mutex_unlock(&w_lock);
        free_list(&job->list);
        free(job);
        return;
    }
    warm_job **tail = &w_queue;
    while (*tail)
        tail = &(*tail)->next;
    *tail = job;
    gpu->warm_running = true;
    pthread_cond_broadcast(&w_cond);
    pthread_mutex_unlock(&w_lock);
}

void vkmm_gpu_prewarm_wait(vkmm_gpu *gpu)
{
    pthread_mutex_lock(&w_lock);
    while (gpu->warm_running)
        pthread_cond_wait(&w_cond, &w_lock);
    pthread_mutex_unlock(&w_lock);
}

void vkmm_pipeline_warm_stop(vkmm_gpu *gpu)
{
    pthread_mutex_lock(&gpu->pipe_lock);
    gpu->warm_stop = true;
    pthread_mutex_unlock(&gpu->pipe_lock);
    vkmm_gpu_prewarm_wait(gpu);
}

static int by_use(const void *a, const void *b)
{
    const vkmm_pipeline *x = *(vkmm_pipeline *const *)a, *y = *(vkmm_pipeline *const *)b;
    return x->use_seq < y->use_seq ? -1 : x->use_seq > y->use_seq;
}

/* This run's used pipelines in first-use order; written (temp file + rename) only when it differs from the list
 * read at the start. Best effort: a list that cannot be written only costs the next run its head start. */
void vkmm_pipeline_warm_save(vkmm_gpu *gpu)
{
    if (!gpu->warm_path[0])
        return;
    uint32_t n = 0;
    for (vkmm_pipeline *p = gpu->pipelines; p; p = p->next)
        n += p->used && p->state == VKMM_PIPE_READY;
    vkmm_pipeline **v = n ? calloc(n, sizeof *v) : NULL;
    size_t cap = (size_t)n * (64 + 12 * (VKMM_MAX_SPEC + 1)) + 1;
    char *text = n ? malloc(cap) : NULL;
    if (!v || !text)
        goto done;
    n = 0;
    for (vkmm_pipeline *p = gpu->pipelines; p; p = p->next)
        if (p->used && p->state == VKMM_PIPE_READY)
            v[n++] = p;
    qsort(v, n, sizeof *v, by_use);
    size_t len = 0;
    for (uint32_t i = 0; i < n && i < MAX_ENTRIES; i++) {
        len += (size_t)snprintf(text + len, cap - len, "%s %u", v[i]->shader, v[i]->subgroup_size);
        for (uint32_t j = 0; j < v[i]->n_spec; j++)
            len += (size_t)snprintf(text + len, cap - len, " %u", v[i]->spec[j]);
        len += (size_t)snprintf(text + len, cap - len, "\n");
    }
    if (gpu->warm_loaded && !strcmp(gpu->warm_loaded, text))
        goto done;
    char tmp[1200];
    snprintf(tmp, sizeof tmp, "%s.tmp.%ld", gpu->warm_path, (long)getpid());
    FILE *f = fopen(tmp, "wb");
    if (!f)
        goto done; /* (no cache folder: the pipeline cache reports that) */
    bool ok = fwrite(text, 1, len, f) == len;
    ok = (fclose(f) == 0) && ok;
    if (!ok || rename(tmp, gpu->warm_path)) {
        vkmm_debug("prewarm list %s not written: %s", gpu->warm_path, strerror(errno));
        unlink(tmp);
    }
done:
    free(v);
    free(text);
}
