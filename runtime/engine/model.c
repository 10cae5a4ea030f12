/* runtime/engine/model.c — loading a model: open the GGUF pair, find the architecture's row of the table from
 * the file (and the mmproj's tower in it), build the tokenizer and chat format, open the GPU, refuse a model that
 * does not fit before uploading anything, then let the architecture bind (upload) its weights. */
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <string.h>

#include "hash.h"
#include "vocab_gguf.h"
#include "log.h"
#include "batch.h"
#include "engine.h"
#include "kv_pool.h"
#include "sized.h"

static vkmm_status open_text(vkmm_model *m, const char *path, vkmm_error *err)
{
    vkmm_status s = vkmm_gguf_open(path, &m->text_file, err);
    if (s)
        return s;
    const char *arch;
    uint64_t len;
    if (!vkmm_gguf_get_str(m->text_file, "general.architecture", &arch, &len))
        return vkmm_fail(err, VKMM_ERR_FORMAT, "%s: general.architecture missing", path);
    if (vkmm_arch_is_projector_file(arch, len))
        return vkmm_fail(err, VKMM_ERR_INVALID_ARG, "%s is a vision projector (mmproj) file; pass it with --mmproj and "
                         "give the text model with -m", path);
    if (!(m->arch = vkmm_arch_find(arch, len)) || len >= sizeof m->file_arch) {
        char names[256];
        vkmm_arch_list_names(names, sizeof names);
        return vkmm_fail(err, VKMM_ERR_UNSUPPORTED, "%s: architecture '%.*s' is not supported (%s)", path,
                         (int)(len < 64 ? len : 64), arch, names);
    }
    memcpy(m->file_arch, arch, len); /* the prefix of the file's keys */
    m->file_arch[len] = 0;
    const char *name;
    if (vkmm_gguf_get_str(m->text_file, "general.name", &name, &len))
        snprintf(m->name, sizeof m->name, "%.*s", (int)(len < 127 ? len : 127), name);
    return VKMM_OK;
}

/* The tower of projector type v (len bytes) that the text model's architecture takes for `medium`, from key. */
static vkmm_status pick_tower(vkmm_model *m, const char *path, const char *key, const char *v, uint64_t len,
                              int medium, const vkmm_media_tower **out, vkmm_error *err)
{
    int shown = (int)(len < 64 ? len : 64);
    char names[256];
    if (!vkmm_arch_any_tower(v, len)) {
        vkmm_arch_list_projectors(NULL, names, sizeof names);
        return vkmm_fail(err, VKMM_ERR_UNSUPPORTED, "%s: projector '%.*s' (%s) is not supported (%s)", path, shown, v,
                         key, names);
    }
    const vkmm_media_tower *t = vkmm_arch_tower(m->arch, v, len);
    if (!t || (medium >= 0 && t->medium != (vkmm_medium)medium)) {
        vkmm_arch_list_projectors(m->arch, names, sizeof names);
        return vkmm_fail(err, VKMM_ERR_INVALID_ARG, "%s: a %.*s projector (%s) does not belong to a %s text model (it "
                         "takes %s)", path, shown, v, key, m->arch->names[0], names);
    }
    if (t->medium == VKMM_MEDIUM_AUDIO ? m->audio_tower != NULL : m->image_tower != NULL)
        return vkmm_fail(err, VKMM_ERR_FORMAT, "%s: two %s projectors (%s)", path,
                         t->medium == VKMM_MEDIUM_AUDIO ? "audio" : "vision", key);
    *(t->medium == VKMM_MEDIUM_AUDIO ? &m->audio_tower : &m->image_tower) = t;
    *out = t;
    return VKMM_OK;
}

/* The mmproj's towers must be ones the text model's architecture takes. A file with one tower names it in
 * clip.projector_type; one with several (Gemma 4 E2B/E4B: vision and audio) in clip.vision.projector_type and
 * clip.audio.projector_type, as llama.cpp's converter writes them and its clip.cpp reads them. */
static vkmm_status open_vision(vkmm_model *m, const char *path, vkmm_error *err)
{
    vkmm_status s = vkmm_gguf_open(path, &m->vision_file, err);
    if (s)
        return s;
    const char *v;
    uint64_t len;
    if (!vkmm_gguf_get_str(m->vision_file, "general.architecture", &v, &len) || !vkmm_arch_is_projector_file(v, len))
        return vkmm_fail(err, VKMM_ERR_INVALID_ARG, "%s is not a vision projector (mmproj) file", path);
    const vkmm_media_tower *t;
    if (vkmm_gguf_get_str(m->vision_file, "clip.projector_type", &v, &len))
        return pick_tower(m, path, "clip.projector_type", v, len, -1, &t, err);
    bool any = false;
    if (vkmm_gguf_get_str(m->vision_file, "clip.vision.projector_type", &v, &len)) {
        any = true;
        if ((s = pick_tower(m, path, "clip.vision.projector_type", v, len, VKMM_MEDIUM_IMAGE, &t, err)))
            return s;
    }
    if (vkmm_gguf_get_str(m->vision_file, "clip.audio.projector_type", &v, &len)) {
        any = true;
        if ((s = pick_tower(m, path, "clip.audio.projector_type", v, len, VKMM_MEDIUM_AUDIO, &t, err)))
            return s;
    }
    if (!any)
        return vkmm_fail(err, VKMM_ERR_FORMAT, "%s: clip.projector_type missing (nor clip.vision.projector_type or "
                         "clip.audio.projector_type)", path);
    return VKMM_OK;
}

/* The image-token budget: one the tower's processor offers, its default when none is asked for. */
static vkmm_status pick_image_tokens(vkmm_model *m, const char *path, uint32_t asked, vkmm_error *err)
{
    const vkmm_media_tower *t = m->image_tower;
    if (!t->token_budgets) {
        if (asked)
            return vkmm_fail(err, VKMM_ERR_INVALID_ARG, "%s: a %s projector's images take a fixed number of tokens; "
                             "image tokens %u cannot be chosen", path, t->projector, asked);
        return VKMM_OK;
    }
    char list[96];
    size_t n = 0;
    list[0] = 0;
    for (const uint32_t *b = t->token_budgets; *b; b++) {
        if (*b == asked || (!asked && *b == t->default_tokens)) {
            m->image_tokens = *b;
            return VKMM_OK;
        }
        n += (size_t)snprintf(list + n, n < sizeof list ? sizeof list - n : 0, "%s%u", n ? ", " : "", *b);
    }
    return vkmm_fail(err, VKMM_ERR_INVALID_ARG, "%s: %u image tokens is not a budget the %s processor offers (%s)",
                     path, asked ? asked : t->default_tokens, t->projector, list);
}

uint32_t vkmm_model_max_image_rows(const vkmm_model *m)
{
    if (!m->vision)
        return 0;
    if (m->image_tokens)
        return m->image_tokens;
    return m->vision->n_rows(m->vision, m->vision->hp.image_size, m->vision->hp.image_size);
}

static vkmm_status check_fit(const vkmm_model *m, uint64_t budget, vkmm_error *err)
{
    const vkmm_device_info *d = vkmm_gpu_info(m->gpu);
    uint64_t weights = vkmm_gguf_tensor_bytes(m->text_file) + (m->vision_file ? vkmm_gguf_tensor_bytes(m->vision_file) : 0);
    uint64_t avail = d->device_local_bytes;
    const char *what = "device-local memory";
    if (budget && budget < avail) {
        avail = budget;
        what = "memory budget (VKMM_MEMORY_BUDGET)";
    }
    /* a minimal session (4096 positions, chunks of 512) must fit beside the weights */
    uint64_t need = weights + (64ull << 20);
    if (need > avail)
        return vkmm_fail(err, VKMM_ERR_OUT_OF_MEMORY,
                         "the model does not fit: %.1f MiB of weights (%s%s%s) + working memory > %.1f MiB of %s on %s",
                         weights / 1048576.0, vkmm_gguf_path(m->text_file), m->vision_file ? " + " : "",
                         m->vision_file ? vkmm_gguf_path(m->vision_file) : "", avail / 1048576.0, what, d->name);
    return VKMM_OK;
}

static void progress_adapter(const char *stage, uint64_t done, uint64_t total, void *user)
{
    const vkmm_model_params *p = user;
    if (p->progress)
        p->progress(stage, done, total, p->progress_user);
}

/* Folds a file's name, size and time into h (the prewarm list's key: another file, or this one rewritten, gets
 * a list of its own). */
static uint64_t hash_file(uint64_t h, const char *path)
{
    struct stat st;
    const char *name = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
    uint64_t v[2] = {0, 0};
    if (!stat(path, &st)) {
        v[0] = (uint64_t)st.st_size;
        v[1] = (uint64_t)st.st_mtime;
    }
    h = vkmm_fnv1a64(name, strlen(name), h);
    return vkmm_fnv1a64(v, sizeof v, h);
}

/* Compiles what this model (and projector) used last time on a background thread, while the caller goes on. */
static void prewarm(vkmm_gpu *gpu, const vkmm_model_params *p)
{
    uint64_t h = hash_file(VKMM_FNV1A64_INIT, p->model_path);
    if (p->mmproj_path)
        h = hash_file(h, p->mmproj_path);
    char tag[32];
    snprintf(tag, sizeof tag, "%016llx", (unsigned long long)h);
    vkmm_gpu_prewarm(gpu, tag);
}

static vkmm_status load(const vkmm_model_params *p, vkmm_model **out, vkmm_error *err)
{
    if (!p->model_path)
        return vkmm_fail(err, VKMM_ERR_INVALID_ARG, "no model file given");
    vkmm_model *m = calloc(1, sizeof *m);
    if (!m)
        return vkmm_fail(err, VKMM_ERR_HOST_MEMORY, "out of host memory");
    pthread_mutex_init(&m->lock, NULL);
    pthread_cond_init(&m->turn, NULL);
    m->kv_tokens = p->kv_tokens;
    vkmm_vocab_init(&m->vocab);
    vkmm_status s = open_text(m, p->model_path, err);
    if (!s && p->mmproj_path)
        s = open_vision(m, p->mmproj_path, err);
    if (!s && m->image_tower)
        s = pick_image_tokens(m, p->mmproj_path, p->image_tokens, err);
    if (!s)
        s = vkmm_vocab_from_gguf(&m->vocab, m->text_file, err);
    if (!s)
        s = vkmm_tokenizer_create(&m->vocab, &m->tok, err);
    if (!s)
        s = vkmm_chat_format_pick(p->chat_template, &m->vocab, m->arch->chat_template, &m->chat, err);
    vkmm_gpu_options go = {.device = p->device, .validation = p->validation, .memory_budget = p->memory_budget};
    if (!s)
        s = vkmm_gpu_create(&go, &m->gpu, err);
    if (!s)
        prewarm(m->gpu, p);
    if (!s)
        s = vkmm_ops_create(m->gpu, NULL, &m->ops, err);
    if (!s)
        s = check_fit(m, vkmm_gpu_memory_budget(m->gpu), err);
    uint64_t total = s ? 0 : vkmm_gguf_tensor_bytes(m->text_file) + (m->vision_file ? vkmm_gguf_tensor_bytes(m->vision_file) : 0);
    if (!s) {
        vkmm_weight_store_params wp = {m->gpu, m->ops, m->text_file, "weights", progress_adapter, (void *)p, total};
        s = vkmm_weight_store_create(&wp, &m->text_weights, err);
    }
    if (!s)
        s = m->arch->load_text(vkmm_weight_store_source(m->text_weights), m->file_arch, &m->text, err);
    if (!s && m->text->hp.n_vocab < m->vocab.n_tokens)
        s = vkmm_fail(err, VKMM_ERR_FORMAT, "%s: the tokenizer has %u tokens but token_embd only %u rows",
                      p->model_path, m->vocab.n_tokens, m->text->hp.n_vocab);
    if (!s && m->vision_file) {
        vkmm_weight_store_params wp = {m->gpu, m->ops, m->vision_file, "weights", progress_adapter, (void *)p, total};
        s = vkmm_weight_store_create(&wp, &m->vision_weights, err);
        if (!s)
            vkmm_weight_store_skip(m->vision_weights, vkmm_weight_store_bytes(m->text_weights));
        if (!s && m->image_tower)
            s = m->image_tower->load(vkmm_weight_store_source(m->vision_weights), &m->vision, err);
        if (!s && m->vision && m->vision->hp.n_text_embd != m->text->hp.n_embd)
            s = vkmm_fail(err, VKMM_ERR_FORMAT, "%s: the projector writes %u-wide embeddings, the text model takes %u",
                          p->mmproj_path, m->vision->hp.n_text_embd, m->text->hp.n_embd);
        if (!s && m->vision)
            m->image_attention = vkmm_tower_attention(m->image_tower, m->vision);
        /* the audio tower binds from the same file: its tensors are a.* and mm.a.* beside the vision tower's */
        if (!s && m->audio_tower)
            s = m->audio_tower->load_audio(vkmm_weight_store_source(m->vision_weights), &m->audio, err);
        if (!s && m->audio && m->audio->hp.n_text_embd != m->text->hp.n_embd)
            s = vkmm_fail(err, VKMM_ERR_FORMAT, "%s: the audio projector writes %u-wide embeddings, the text model "
                          "takes %u", p->mmproj_path, m->audio->hp.n_text_embd, m->text->hp.n_embd);
    }
    if (!s)
        s = vkmm_batcher_create(m, p->max_batch, &m->batch, err);
    if (s) {
        vkmm_model_free(m);
        return s;
    }
    *out = m;
    return VKMM_OK;
}

VKMM_API vkmm_status vkmm_model_load(const vkmm_model_params *p, vkmm_model **out, vkmm_error *err)
{
    if (!out)
        return vkmm_fail(err, VKMM_ERR_INVALID_ARG, "vkmm_model_load needs somewhere to put the model");
    *out = NULL;
    if (!p)
        return vkmm_fail(err, VKMM_ERR_INVALID_ARG, "no model file given");
    vkmm_model_params params;
    vkmm_status s = VKMM_SIZED_IN(vkmm_model_params, &params, p, "model params", err);
    return s ? s : load(&params, out, err);
}

VKMM_API void vkmm_model_free(vkmm_model *m)
{
    if (!m)
        return;
    if (m->text)
        m->text->free(m->text);
    if (m->vision)
        m->vision->free(m->vision);
    if (m->audio)
        m->audio->free(m->audio);
    vkmm_batcher_destroy(m->batch);
    vkmm_kv_pool_destroy(m->kv);
    vkmm_weight_store_free(m->text_weights);
    vkmm_weight_store_free(m->vision_weights);
    vkmm_ops_destroy(m->ops);
    vkmm_gpu_destroy(m->gpu);
    vkmm_tokenizer_free(m->tok);
    vkmm_vocab_free(&m->vocab);
    vkmm_gguf_close(m->text_file);
    vkmm_gguf_close(m->vision_file);
    pthread_mutex_destroy(&m->lock);
    pthread_cond_destroy(&m->turn);
    free(m);
}

VKMM_API void vkmm_model_info_get(const vkmm_model *m, vkmm_model_info *out, uint32_t size)
{
    if (!out)
        return;
    vkmm_model_info i = {.arch = "", .name = "", .chat_template = "", .device = ""};
    if (m)
        i = (vkmm_model_info){
            .arch = m->arch->names[0],
            .name = m->name,
            .chat_template = vkmm_chat_format_name(m->chat),
            .device = vkmm_gpu_info(m->gpu)->name,
            .n_layer = m->text->hp.n_layer,
            .n_embd = m->text->hp.n_embd,
            .n_vocab = m->vocab.n_tokens,
            .n_ctx_train = m->text->hp.n_ctx_train,
            .has_vision = m->vision != NULL,
            .has_audio = m->audio != NULL,
            .weight_bytes = vkmm_weight_store_bytes(m->text_weights) +
                            (m->vision_weights ? vkmm_weight_store_bytes(m->vision_weights) : 0),
            .n_expert = m->text->hp.n_expert,
            .n_expert_used = m->text->hp.n_expert_used,
        };
    memcpy(out, &i, VKMM_GET_BYTES(vkmm_model_info, size)); /* an older caller's layout is a prefix of ours */
}

static void fill_stats(vkmm_model *m, vkmm_model_stats *out)
{
    vkmm_model_stats st = {0};
    uint32_t used[2], total[2];
    vkmm_kv_usage(m->kv, used, total);
    st.kv_pages = total[VKMM_KV_FULL];
    st.kv_pages_used = used[VKMM_KV_FULL];
    st.ring_pages = total[VKMM_KV_RING];
    st.ring_pages_used = used[VKMM_KV_RING];
    st.kv_bytes = m->kv ? m->kv->bytes : 0;
    st.kv_positions = m->kv ? m->kv->max_tokens : 0;
    vkmm_batch_stats b = vkmm_batch_get_stats(m);
    st.generating = b.decoding;
    st.queued = b.queued;
    st.decode_steps = b.steps;
    st.decode_tokens = b.tokens;
    *out = st;
}

VKMM_API void vkmm_model_stats_get(vkmm_model *m, vkmm_model_stats *out, uint32_t size)
{
    if (!out)
        return;
    vkmm_model_stats st = {0};
    if (m)
        fill_stats(m, &st);
    memcpy(out, &st, VKMM_GET_BYTES(vkmm_model_stats, size));
}
