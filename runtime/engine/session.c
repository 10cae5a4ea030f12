/* runtime/engine/session.c — sessions: the KV cache (sliding-window layers keep a ring of window + chunk
 * slots) and the conversation (chat turns with their images encoded, or raw text, images and tokens). The
 * generation loop is generate.c. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "session.h"

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
            return vkmm_error_prefix(err, st, "allocating the KV cache for %u positions", s->n_ctx);
        s->kv[l].k = vkmm_range_whole(s->kbuf[l]);
        s->kv[l].v = vkmm_range_whole(s->vbuf[l]);
    }
    return VKMM_OK;
}

static char *dup_str(const char *t)
{
    size_t n = strlen(t);
    char *c = malloc(n + 1);
    if (c)
        memcpy(c, t, n + 1);
    return c;
}

static vkmm_status push_msg_image(vkmm_session *s, int32_t img, vkmm_error *err)
{
    if (s->n_msg_images == s->cap_msg_images) {
        uint32_t cap = s->cap_msg_images ? s->cap_msg_images * 2 : 8;
        int32_t *v = realloc(s->msg_images, cap * sizeof *v);
        if (!v)
            return vkmm_fail(err, VKMM_ERR_HOST_MEMORY, "out of host memory");
        s->msg_images = v;
        s->cap_msg_images = cap;
    }
    s->msg_images[s->n_msg_images++] = img;
    return VKMM_OK;
}

static void pop_message(vkmm_session *s)
{
    vkmm_chat_message *m = &s->msgs[--s->n_msgs];
    for (size_t j = 0; j < m->n_parts; j++) {
        if (m->parts[j].kind == VKMM_CHAT_IMAGE)
            s->n_msg_images--;
        free((char *)m->parts[j].text);
    }
    free((vkmm_chat_part *)m->parts);
    free((char *)m->role);
}

VKMM_API vkmm_status vkmm_session_create(vkmm_model *m, const vkmm_session_params *p, vkmm_session **out,
                                         vkmm_error *err)
{
    if (!out || !m)
        return vkmm_fail(err, VKMM_ERR_INVALID_ARG, "vkmm_session_create needs a model and somewhere to put the session");
    *out = NULL;
    vkmm_session *s = calloc(1, sizeof *s);
    if (!s)
        return vkmm_fail(err, VKMM_ERR_HOST_MEMORY, "out of host memory");
    s->m = m;
    atomic_init(&s->cancel, false);
    if (p)
        s->p = *p;
    s->n_ctx = s->p.n_ctx ? s->p.n_ctx : 4096;
    if (s->n_ctx > m->text->hp.n_ctx_train)
        s->n_ctx = m->text->hp.n_ctx_train;
    s->n_batch = s->p.n_batch ? s->p.n_batch : 512;
    if (m->vision && m->image_tower->attention == VKMM_MEDIA_BIDIRECTIONAL) {
        /* an image whose rows see each other must fit one chunk; no image has more rows than a largest one */
        uint32_t rows = m->vision->n_rows(m->vision, m->vision->hp.image_size, m->vision->hp.image_size);
        if (s->n_batch < rows)
            s->n_batch = rows;
    }
    if (s->n_batch > s->n_ctx)
        s->n_batch = s->n_ctx;
    s->kv_type = VKMM_F16;
    pthread_mutex_lock(&m->lock);
    vkmm_status st = alloc_kv(s, err);
    if (!st)
        st = vkmm_buffer_create(m->gpu, 4ull * s->n_batch, VKMM_MEM_HOST, "ids", &s->ids, err);
    if (!st)
        st = vkmm_buffer_create(m->gpu, 4ull * s->n_batch * m->text->hp.n_pos_axes, VKMM_MEM_HOST, "positions",
                                &s->positions, err);
    if (!st)
        st = vkmm_buffer_create(m->gpu, 8ull * VKMM_ATTENTION_MAX_SPANS, VKMM_MEM_HOST, "spans", &s->spans, err);
    if (!st)
        st = vkmm_buffer_create(m->gpu, sizeof(vkmm_logit) * VKMM_TOPK_MAX + 16, VKMM_MEM_HOST, "results", &s->results,
                                err);
    if (!st)
        st = vkmm_cmd_create(m->gpu, s->p.profile ? VKMM_CMD_PROFILE : 0, &s->cmd, err);
    pthread_mutex_unlock(&m->lock);
    if (st) {
        vkmm_session_free(s);
        return st;
    }
    *out = s;
    return VKMM_OK;
}

static void free_messages(vkmm_session *s)
{
    while (s->n_msgs)
        pop_message(s);
    s->n_msg_images = 0;
}

VKMM_API void vkmm_session_free(vkmm_session *s)
{
    if (!s)
        return;
    vkmm_generation_close(s);
    pthread_mutex_lock(&s->m->lock);
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
    pthread_mutex_unlock(&s->m->lock);
    free_messages(s);
    free(s->msgs);
    free(s->msg_images);
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
    if (!s)
        return;
    vkmm_generation_close(s);
    s->done.n = s->pending.n = 0;
    s->raw = false;
    free_messages(s);
    vkmm_session_drop_images(s);
    s->last_rows = 0;
}

/* Splits text at "<__media__>" markers, one per image; images without markers go before the text. Images are
 * encoded now, so a bad picture is reported by the call that brought it. The conversation must still render
 * with the model's template, or the turn is refused. */
static vkmm_status add_chat_message(vkmm_session *s, const char *role, const char *text, const vkmm_image_input *images,
                                   uint32_t n_images, vkmm_error *err)
{
    static const char marker[] = "<__media__>";
    uint32_t markers = 0;
    for (const char *p = text; (p = strstr(p, marker)); p += sizeof marker - 1)
        markers++;
    if (markers && markers != n_images)
        return vkmm_fail(err, VKMM_ERR_INVALID_ARG, "the text has %u %s markers for %u images", markers, marker,
                         n_images);
    if (s->n_msgs == s->cap_msgs) {
        size_t cap = s->cap_msgs ? s->cap_msgs * 2 : 8;
        vkmm_chat_message *v = realloc(s->msgs, cap * sizeof *v);
        if (!v)
            return vkmm_fail(err, VKMM_ERR_HOST_MEMORY, "out of host memory");
        s->msgs = v;
        s->cap_msgs = cap;
    }
    uint32_t images_before = s->n_msg_images;
    vkmm_status st = VKMM_OK;
    for (uint32_t i = 0; i < n_images && !st; i++) {
        int32_t img;
        st = vkmm_session_encode_input(s, &images[i], &img, err);
        if (!st)
            st = push_msg_image(s, img, err);
    }
    if (st) {
        s->n_msg_images = images_before;
        return st;
    }
    size_t max_parts = 2 * (size_t)n_images + 2;
    vkmm_chat_part *parts = calloc(max_parts, sizeof *parts);
    char *r = dup_str(role);
    if (!parts || !r) {
        free(parts);
        free(r);
        s->n_msg_images = images_before;
        return vkmm_fail(err, VKMM_ERR_HOST_MEMORY, "out of host memory");
    }
    size_t n = 0;
    bool oom = false;
    if (!markers)
        for (uint32_t i = 0; i < n_images; i++)
            parts[n++] = (vkmm_chat_part){VKMM_CHAT_IMAGE, NULL};
    const char *p = text;
    for (uint32_t i = 0; i < markers; i++) {
        const char *q = strstr(p, marker);
        if (q > p) {
            char *t = strndup(p, (size_t)(q - p));
            oom |= !t;
            parts[n++] = (vkmm_chat_part){VKMM_CHAT_TEXT, t};
        }
        parts[n++] = (vkmm_chat_part){VKMM_CHAT_IMAGE, NULL};
        p = q + sizeof marker - 1;
    }
    if (*p || n == 0) {
        char *t = dup_str(p);
        oom |= !t;
        parts[n++] = (vkmm_chat_part){VKMM_CHAT_TEXT, t};
    }
    s->msgs[s->n_msgs++] = (vkmm_chat_message){r, parts, n};
    if (oom) {
        pop_message(s);
        return vkmm_fail(err, VKMM_ERR_HOST_MEMORY, "out of host memory");
    }
    vkmm_chat_options opt = {.add_generation_prompt = true};
    vkmm_chat_prompt prompt = {0};
    st = vkmm_chat_render(s->m->chat, s->msgs, s->n_msgs, &opt, &prompt, err);
    vkmm_chat_prompt_free(&prompt);
    if (st)
        pop_message(s);
    return st;
}

VKMM_API vkmm_status vkmm_session_add_message(vkmm_session *s, const vkmm_message *msg, vkmm_error *err)
{
    if (!s)
        return vkmm_fail(err, VKMM_ERR_INVALID_ARG, "no session");
    if (s->raw)
        return vkmm_fail(err, VKMM_ERR_INVALID_ARG, "this session was fed raw text; chat messages cannot follow");
    if (!msg || !msg->role || !msg->text)
        return vkmm_fail(err, VKMM_ERR_INVALID_ARG, "a message needs a role and a text");
    if (strcmp(msg->role, "system") && strcmp(msg->role, "user") && strcmp(msg->role, "assistant"))
        return vkmm_fail(err, VKMM_ERR_INVALID_ARG, "unknown role '%s' (system, user, assistant)", msg->role);
    if (msg->n_images && msg->n_image_inputs)
        return vkmm_fail(err, VKMM_ERR_INVALID_ARG, "a message has image paths or image inputs, not both");
    uint32_t n = msg->n_images + msg->n_image_inputs;
    if (n && !s->m->vision)
        return vkmm_fail(err, VKMM_ERR_INVALID_ARG, "this model has no vision projector (give the mmproj file with "
                         "--mmproj)");
    if ((msg->n_images && !msg->images) || (msg->n_image_inputs && !msg->image_inputs))
        return vkmm_fail(err, VKMM_ERR_INVALID_ARG, "a message counts images but gives none");
    if (msg->image_inputs || !n)
        return add_chat_message(s, msg->role, msg->text, msg->image_inputs, n, err);
    vkmm_image_input *in = calloc(n, sizeof *in);
    if (!in)
        return vkmm_fail(err, VKMM_ERR_HOST_MEMORY, "out of host memory");
    vkmm_status st = VKMM_OK;
    for (uint32_t i = 0; i < n; i++) {
        in[i].path = msg->images[i];
        if (!in[i].path)
            st = vkmm_fail(err, VKMM_ERR_INVALID_ARG, "image %u of the message has no path", i + 1);
    }
    if (!st)
        st = add_chat_message(s, msg->role, msg->text, in, n, err);
    free(in);
    return st;
}

VKMM_API vkmm_status vkmm_session_add_text(vkmm_session *s, const char *text, bool parse_special, vkmm_error *err)
{
    if (!s || !text)
        return vkmm_fail(err, VKMM_ERR_INVALID_ARG, "vkmm_session_add_text needs a session and a text");
    if (s->n_msgs)
        return vkmm_fail(err, VKMM_ERR_INVALID_ARG, "this session holds a chat; raw text cannot be mixed in");
    bool first = !s->raw && s->done.n == 0 && s->pending.n == 0;
    s->raw = true;
    return vkmm_session_text_items(s, text, strlen(text), first, parse_special, &s->pending, err);
}

VKMM_API vkmm_status vkmm_session_add_image_input(vkmm_session *s, const vkmm_image_input *in, vkmm_error *err)
{
    if (!s || !in)
        return vkmm_fail(err, VKMM_ERR_INVALID_ARG, "no session or no image");
    if (s->n_msgs)
        return vkmm_fail(err, VKMM_ERR_INVALID_ARG, "this session holds a chat; raw images cannot be mixed in");
    int32_t img;
    vkmm_status st = vkmm_session_encode_input(s, in, &img, err);
    if (!st)
        s->raw = true;
    return st ? st : vkmm_session_image_items(s, img, &s->pending, err);
}

VKMM_API vkmm_status vkmm_session_add_image(vkmm_session *s, const char *path, vkmm_error *err)
{
    if (!path)
        return vkmm_fail(err, VKMM_ERR_INVALID_ARG, "no image path");
    vkmm_image_input in = {.path = path};
    return vkmm_session_add_image_input(s, &in, err);
}

VKMM_API vkmm_status vkmm_session_add_image_rgb(vkmm_session *s, const uint8_t *rgb, uint32_t width, uint32_t height,
                                               vkmm_error *err)
{
    if (!rgb)
        return vkmm_fail(err, VKMM_ERR_INVALID_ARG, "vkmm_session_add_image_rgb needs the pixels");
    vkmm_image_input in = {.pixels = rgb, .width = width, .height = height, .channels = 3, .name = "pixels"};
    return vkmm_session_add_image_input(s, &in, err);
}

VKMM_API vkmm_status vkmm_session_add_tokens(vkmm_session *s, const int32_t *ids, uint32_t n, vkmm_error *err)
{
    if (!s || (n && !ids))
        return vkmm_fail(err, VKMM_ERR_INVALID_ARG, "vkmm_session_add_tokens needs a session and the ids");
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

VKMM_API vkmm_stats vkmm_session_stats(const vkmm_session *s)
{
    return s ? s->stats : (vkmm_stats){0};
}

VKMM_API const float *vkmm_session_logits(vkmm_session *s, uint32_t *n_rows)
{
    if (n_rows)
        *n_rows = s ? s->last_rows : 0;
    return s ? s->last_logits : NULL;
}
