/* runtime/engine/session.c — sessions: the KV cache (sliding-window layers keep a ring of window + chunk
 * slots), the conversation, and the generation loop (prefill in chunks, then one position per token, sampling
 * from what the GPU reduced the logits to, streaming whole UTF-8 characters). */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "loader/detokenize.h"
#include "runtime/engine/session.h"

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static vkmm_status alloc_kv(vkmm_session *s, vkmm_error *err)
{
    const vkmm_text_hparams *hp = &s->m->text->hp;
    s->kbuf = calloc(hp->n_layer, sizeof *s->kbuf);
    s->vbuf = calloc(hp->n_layer, sizeof *s->vbuf);
    s->kv = calloc(hp->n_layer, sizeof *s->kv);
    if (!s->kbuf || !s->vbuf || !s->kv)
        return vkmm_fail(err, VKMM_ERR_HOST_MEMORY, "out of host memory");
    for (uint32_t l = 0; l < hp->n_layer; l++) {
        uint32_t w = hp->window[l];
        uint32_t cap = w && w + s->n_batch < s->n_ctx ? w + s->n_batch : s->n_ctx;
        s->kv[l].capacity = cap;
        s->kv[l].ring = cap < s->n_ctx ? cap : 0;
        vkmm_kv_layout lay = {s->kv_type, hp->n_kv, hp->head_dim, cap, s->kv[l].ring};
        uint64_t bytes = vkmm_kv_cache_bytes(&lay);
        if (!bytes)
            return vkmm_fail(err, VKMM_ERR_UNSUPPORTED, "KV cache layout unsupported (head dim %u)", hp->head_dim);
        char name[32];
        snprintf(name, sizeof name, "k_cache.%u", l);
        vkmm_status st = vkmm_buffer_create(s->m->gpu, bytes, VKMM_MEM_DEVICE, name, &s->kbuf[l], err);
        name[0] = 'v';
        if (!st)
            st = vkmm_buffer_create(s->m->gpu, bytes, VKMM_MEM_DEVICE, name, &s->vbuf[l], err);
        if (st)
            return vkmm_error_prefix(err, "allocating the KV cache for %u positions", s->n_ctx);
        s->kv[l].k = vkmm_range_whole(s->kbuf[l]);
        s->kv[l].v = vkmm_range_whole(s->vbuf[l]);
    }
    return VKMM_OK;
}

VKMM_API vkmm_status vkmm_session_create(vkmm_model *m, const vkmm_session_params *p, vkmm_session **out,
                                         vkmm_error *err)
{
    *out = NULL;
    vkmm_session *s = calloc(1, sizeof *s);
    if (!s)
        return vkmm_fail(err, VKMM_ERR_HOST_MEMORY, "out of host memory");
    s->m = m;
    if (p)
        s->p = *p;
    s->n_ctx = s->p.n_ctx ? s->p.n_ctx : 4096;
    if (s->n_ctx > m->text->hp.n_ctx_train)
        s->n_ctx = m->text->hp.n_ctx_train;
    s->n_batch = s->p.n_batch ? s->p.n_batch : 512;
    if (m->vision && m->vision->hp.layout == VKMM_IMAGE_FIXED_SQUARE) {
        /* a bidirectional image must fit one chunk */
        uint32_t rows = m->vision->n_rows(m->vision, m->vision->hp.image_size, m->vision->hp.image_size);
        if (s->n_batch < rows)
            s->n_batch = rows;
    }
    if (s->n_batch > s->n_ctx)
        s->n_batch = s->n_ctx;
    s->kv_type = VKMM_F16;
    vkmm_status st = alloc_kv(s, err);
    if (!st)
        st = vkmm_buffer_create(m->gpu, 4ull * s->n_batch, VKMM_MEM_HOST, "ids", &s->ids, err);
    if (!st)
        st = vkmm_buffer_create(m->gpu, 4ull * s->n_batch, VKMM_MEM_HOST, "positions", &s->positions, err);
    if (!st)
        st = vkmm_buffer_create(m->gpu, 8ull * VKMM_ATTENTION_MAX_SPANS, VKMM_MEM_HOST, "spans", &s->spans, err);
    if (!st)
        st = vkmm_buffer_create(m->gpu, sizeof(vkmm_logit) * VKMM_TOPK_MAX + 16, VKMM_MEM_HOST, "results", &s->results,
                                err);
    if (!st)
        st = vkmm_cmd_create(m->gpu, s->p.profile ? VKMM_CMD_PROFILE : 0, &s->cmd, err);
    if (st) {
        vkmm_session_free(s);
        return st;
    }
    *out = s;
    return VKMM_OK;
}

static void free_messages(vkmm_session *s)
{
    for (size_t i = 0; i < s->n_msgs; i++) {
        for (size_t j = 0; j < s->msgs[i].n_parts; j++)
            free((char *)s->msgs[i].parts[j].text);
        free((vkmm_chat_part *)s->msgs[i].parts);
        free((char *)s->msgs[i].role);
    }
    s->n_msgs = 0;
}

VKMM_API void vkmm_session_free(vkmm_session *s)
{
    if (!s)
        return;
    const vkmm_text_hparams *hp = &s->m->text->hp;
    for (uint32_t l = 0; s->kbuf && l < hp->n_layer; l++) {
        vkmm_buffer_destroy(s->kbuf[l]);
        vkmm_buffer_destroy(s->vbuf[l]);
    }
    for (uint32_t i = 0; i < s->n_images; i++)
        vkmm_buffer_destroy(s->images[i].rows);
    vkmm_buffer_destroy(s->ids);
    vkmm_buffer_destroy(s->positions);
    vkmm_buffer_destroy(s->spans);
    vkmm_buffer_destroy(s->results);
    vkmm_buffer_destroy(s->logits);
    vkmm_buffer_destroy(s->scratch);
    vkmm_buffer_destroy(s->arena);
    vkmm_cmd_destroy(s->cmd);
    vkmm_cmd_destroy(s->dec_cmd);
    vkmm_buffer_destroy(s->dec_ids);
    vkmm_buffer_destroy(s->dec_pos);
    vkmm_buffer_destroy(s->step);
    vkmm_buffer_destroy(s->dec_arena);
    vkmm_buffer_destroy(s->dec_logits);
    vkmm_buffer_destroy(s->dec_scratch);
    free_messages(s);
    free(s->msgs);
    free(s->kbuf);
    free(s->vbuf);
    free(s->kv);
    free(s->images);
    free(s->done.v);
    free(s->pending.v);
    free(s->last_logits);
    free(s->prof);
    free(s->trace);
    free(s);
}

VKMM_API void vkmm_session_reset(vkmm_session *s)
{
    s->done.n = s->pending.n = 0;
    s->raw = false;
    free_messages(s);
    s->last_rows = 0;
}

static char *dup_str(const char *t)
{
    size_t n = strlen(t);
    char *c = malloc(n + 1);
    if (c)
        memcpy(c, t, n + 1);
    return c;
}

/* Splits text at "<__media__>" markers, one per image; images without markers go before the text. */
static vkmm_status add_chat_message(vkmm_session *s, const char *role, const char *text, const char *const *images,
                                   uint32_t n_images, vkmm_error *err)
{
    static const char marker[] = "<__media__>";
    uint32_t markers = 0;
    for (const char *p = text; (p = strstr(p, marker)); p += sizeof marker - 1)
        markers++;
    if (markers && markers != n_images)
        return vkmm_fail(err, VKMM_ERR_INVALID_ARG, "the text has %u %s markers for %u images", markers, marker,
                         n_images);
    size_t max_parts = 2 * (size_t)n_images + 2;
    vkmm_chat_part *parts = calloc(max_parts, sizeof *parts);
    if (!parts)
        return vkmm_fail(err, VKMM_ERR_HOST_MEMORY, "out of host memory");
    size_t n = 0;
    bool oom = false;
    if (!markers)
        for (uint32_t i = 0; i < n_images; i++)
            parts[n++] = (vkmm_chat_part){VKMM_CHAT_IMAGE, dup_str(images[i])};
    const char *p = text;
    for (uint32_t i = 0; i < markers; i++) {
        const char *q = strstr(p, marker);
        if (q > p) {
            char *t = malloc((size_t)(q - p) + 1);
            if (t) {
                memcpy(t, p, (size_t)(q - p));
                t[q - p] = 0;
            }
            parts[n++] = (vkmm_chat_part){VKMM_CHAT_TEXT, t};
        }
        parts[n++] = (vkmm_chat_part){VKMM_CHAT_IMAGE, dup_str(images[i])};
        p = q + sizeof marker - 1;
    }
    if (*p || n == 0)
        parts[n++] = (vkmm_chat_part){VKMM_CHAT_TEXT, dup_str(p)};
    for (size_t i = 0; i < n; i++)
        oom |= !parts[i].text;
    if (s->n_msgs == s->cap_msgs) {
        size_t cap = s->cap_msgs ? s->cap_msgs * 2 : 8;
        vkmm_chat_message *v = realloc(s->msgs, cap * sizeof *v);
        if (v) {
            s->msgs = v;
            s->cap_msgs = cap;
        } else {
            oom = true;
        }
    }
    char *r = dup_str(role);
    if (oom || !r) {
        for (size_t i = 0; i < n; i++)
            free((char *)parts[i].text);
        free(parts);
        free(r);
        return vkmm_fail(err, VKMM_ERR_HOST_MEMORY, "out of host memory");
    }
    s->msgs[s->n_msgs++] = (vkmm_chat_message){r, parts, n};
    return VKMM_OK;
}

VKMM_API vkmm_status vkmm_session_add_message(vkmm_session *s, const vkmm_message *msg, vkmm_error *err)
{
    if (s->raw)
        return vkmm_fail(err, VKMM_ERR_INVALID_ARG, "this session was fed raw text; chat messages cannot follow");
    if (!msg || !msg->role || !msg->text)
        return vkmm_fail(err, VKMM_ERR_INVALID_ARG, "a message needs a role and a text");
    if (strcmp(msg->role, "system") && strcmp(msg->role, "user") && strcmp(msg->role, "assistant"))
        return vkmm_fail(err, VKMM_ERR_INVALID_ARG, "unknown role '%s' (system, user, assistant)", msg->role);
    if (msg->n_images && !s->m->vision)
        return vkmm_fail(err, VKMM_ERR_INVALID_ARG, "this model has no vision projector (give the mmproj file with "
                         "--mmproj)");
    return add_chat_message(s, msg->role, msg->text, msg->images, msg->n_images, err);
}

VKMM_API vkmm_status vkmm_session_add_text(vkmm_session *s, const char *text, bool parse_special, vkmm_error *err)
{
    if (s->n_msgs)
        return vkmm_fail(err, VKMM_ERR_INVALID_ARG, "this session holds a chat; raw text cannot be mixed in");
    bool first = !s->raw && s->done.n == 0 && s->pending.n == 0;
    s->raw = true;
    return vkmm_session_text_items(s, text, strlen(text), first, parse_special, &s->pending, err);
}

VKMM_API vkmm_status vkmm_session_add_image(vkmm_session *s, const char *path, vkmm_error *err)
{
    if (s->n_msgs)
        return vkmm_fail(err, VKMM_ERR_INVALID_ARG, "this session holds a chat; raw images cannot be mixed in");
    s->raw = true;
    int32_t img;
    vkmm_status st = vkmm_session_encode_image(s, path, &img, err);
    return st ? st : vkmm_session_image_items(s, img, &s->pending, err);
}

VKMM_API vkmm_status vkmm_session_add_image_rgb(vkmm_session *s, const uint8_t *rgb, uint32_t width, uint32_t height,
                                               vkmm_error *err)
{
    if (s->n_msgs)
        return vkmm_fail(err, VKMM_ERR_INVALID_ARG, "this session holds a chat; raw images cannot be mixed in");
    s->raw = true;
    int32_t img;
    vkmm_status st = vkmm_session_encode_pixels(s, rgb, width, height, "pixels", &img, err);
    return st ? st : vkmm_session_image_items(s, img, &s->pending, err);
}

VKMM_API vkmm_status vkmm_session_add_tokens(vkmm_session *s, const int32_t *ids, uint32_t n, vkmm_error *err)
{
    if (s->n_msgs)
        return vkmm_fail(err, VKMM_ERR_INVALID_ARG, "this session holds a chat; raw tokens cannot be mixed in");
    s->raw = true;
    vkmm_status st = VKMM_OK;
    for (uint32_t i = 0; i < n && !st; i++) {
        if (ids[i] < 0 || (uint32_t)ids[i] >= s->m->vocab.n_tokens)
            return vkmm_fail(err, VKMM_ERR_INVALID_ARG, "token id %d is outside the vocabulary (%u)", ids[i],
                             s->m->vocab.n_tokens);
        st = vkmm_items_push(&s->pending, (vkmm_item){ids[i], -1, 0}, err);
    }
    return st;
}

static float logit_of(const vkmm_session *s, int32_t id, bool full)
{
    if (full)
        return s->last_logits[(size_t)(s->last_rows - 1) * s->m->text->hp.n_vocab + (size_t)id];
    for (uint32_t i = 0; i < s->n_top; i++)
        if ((int32_t)s->top[i].id == id)
            return s->top[i].value;
    return -INFINITY;
}

VKMM_API vkmm_status vkmm_session_generate(vkmm_session *s, const vkmm_sampling *sp, uint32_t max_tokens,
                                           vkmm_token_fn fn, void *user, vkmm_error *err)
{
    vkmm_sampling defaults = vkmm_sampling_default();
    vkmm_sampler smp;
    vkmm_status st = vkmm_sampler_init(&smp, sp ? sp : &defaults, err);
    if (st)
        return st;
    if (!s->raw && s->n_msgs)
        st = vkmm_session_sync_chat(s, err);
    if (!st && s->pending.n == 0)
        st = vkmm_fail(err, VKMM_ERR_INVALID_ARG, "nothing to generate from: add a message or text first");
    for (uint32_t i = 0; i < s->done.n && !st; i++)
        if (s->done.v[i].image < 0)
            vkmm_sampler_accept(&smp, s->done.v[i].token);
    for (uint32_t i = 0; i < s->pending.n && !st; i++)
        if (s->pending.v[i].image < 0)
            vkmm_sampler_accept(&smp, s->pending.v[i].token);
    bool full = vkmm_sampler_needs_all(&smp) || s->p.all_logits;
    uint32_t top = vkmm_sampler_top_needed(&smp);
    double t0 = now_ms();
    uint32_t n_prompt = s->pending.n;
    if (!st)
        st = vkmm_session_prefill(s, top, full, err);
    s->stats.n_prompt += st ? 0 : n_prompt;
    s->stats.prompt_ms += now_ms() - t0;

    vkmm_detok dt;
    vkmm_detok_init(&dt, s->m->tok, 0);
    vkmm_text reply = {0}, piece = {0};
    uint32_t NT = s->m->vocab.n_tokens;
    vkmm_candidate *cand = malloc(sizeof *cand * (full ? NT : VKMM_TOPK_MAX));
    if (!cand && !st)
        st = vkmm_fail(err, VKMM_ERR_HOST_MEMORY, "out of host memory");
    double t1 = now_ms();
    for (uint32_t i = 0; i < max_tokens && !st; i++) {
        uint32_t n = 0;
        if (full) {
            const float *row = s->last_logits + (size_t)(s->last_rows - 1) * s->m->text->hp.n_vocab;
            for (uint32_t t = 0; t < NT; t++)
                cand[n++] = (vkmm_candidate){(int32_t)t, row[t]};
        } else {
            for (uint32_t t = 0; t < s->n_top; t++)
                cand[n++] = (vkmm_candidate){(int32_t)s->top[t].id, s->top[t].value};
        }
        int32_t id = vkmm_sampler_pick(&smp, cand, n);
        vkmm_sampler_accept(&smp, id);
        vkmm_token_event ev = {.id = id, .logprob = logit_of(s, id, full) - s->lse};
        for (uint32_t t = 0; t < s->n_top && t < VKMM_TOP_LOGPROBS; t++) {
            ev.top[t].id = (int32_t)s->top[t].id;
            ev.top[t].logprob = s->top[t].value - s->lse;
            ev.n_top++;
        }
        bool eog = !smp.p.ignore_eog && vkmm_tokenizer_is_eog(s->m->tok, id);
        piece.len = 0;
        if (!eog && (st = vkmm_detok_push(&dt, id, &piece, err)))
            break;
        if (!eog)
            vkmm_text_append(&reply, piece.s ? piece.s : "", piece.len);
        vkmm_text_append(&piece, "", 0);
        ev.piece = piece.s ? piece.s : "";
        s->stats.n_gen++;
        bool go_on = fn ? fn(&ev, user) : true;
        if (eog || !go_on || i + 1 == max_tokens) {
            if (!eog && s->raw)
                st = vkmm_items_push(&s->pending, (vkmm_item){id, -1, 0}, err); /* a later generate continues */
            break;
        }
        st = vkmm_session_decode(s, id, full, top, err);
    }
    s->stats.gen_ms += now_ms() - t1;
    piece.len = 0;
    if (!st && !vkmm_detok_flush(&dt, &piece, err) && piece.len) {
        vkmm_text_append(&reply, piece.s, piece.len);
        vkmm_text_append(&piece, "", 0);
        vkmm_token_event ev = {.id = -1, .piece = piece.s};
        if (fn)
            fn(&ev, user);
    }
    if (!st && !s->raw && s->n_msgs) {
        vkmm_text_append(&reply, "", 0);
        st = add_chat_message(s, "assistant", reply.s ? reply.s : "", NULL, 0, err);
    }
    s->stats.n_ctx_used = s->done.n;
    vkmm_text_free(&reply);
    vkmm_text_free(&piece);
    free(cand);
    vkmm_sampler_free(&smp);
    return st;
}

VKMM_API vkmm_stats vkmm_session_stats(const vkmm_session *s)
{
    return s->stats;
}

VKMM_API const float *vkmm_session_logits(vkmm_session *s, uint32_t *n_rows)
{
    *n_rows = s->last_rows;
    return s->last_logits;
}
