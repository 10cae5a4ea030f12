/* runtime/engine/session.c — sessions: the conversation (chat turns with their images encoded, or raw text,
 * images and tokens) and the buffers of its prefill passes; its KV cache is pages of the model's pool (kv_pool.c),
 * taken as it grows and returned when it is reset or freed. The generation loop is generate.c. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "batch.h"
#include "session.h"
#include "sized.h"

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
    vkmm_status sized = p ? VKMM_SIZED_IN(vkmm_session_params, &s->p, p, "session params", err) : VKMM_OK;
    if (sized) {
        free(s);
        return sized;
    }
    s->n_ctx = s->p.n_ctx ? s->p.n_ctx : 4096;
    if (s->n_ctx > m->text->hp.n_ctx_train)
        s->n_ctx = m->text->hp.n_ctx_train;
    s->n_batch = s->p.n_batch ? s->p.n_batch : 512;
    bool whole_images = m->vision && m->image_attention != VKMM_MEDIA_CAUSAL;
    if (whole_images) {
        /* an image whose rows see each other must fit one chunk; no image has more rows than a largest one */
        uint32_t rows = vkmm_model_max_image_rows(m);
        if (s->n_batch < rows)
            s->n_batch = rows;
    }
    uint32_t chunk = s->n_batch > VKMM_KV_CHUNK ? VKMM_KV_CHUNK : s->n_batch;
    if (whole_images && s->n_batch > chunk)
        chunk = s->n_batch; /* Gemma 4 at 560 or 1120 image tokens: the rings grow to match (kv_pool.c) */
    s->n_batch = chunk;
    if (s->n_batch > s->n_ctx)
        s->n_batch = s->n_ctx;
    s->kv.slot = -1;
    vkmm_step_begin(m);
    vkmm_status st = VKMM_OK;
    /* the model's KV pool comes with its first session, big enough for it; later sessions fit theirs in it */
    if (!m->kv)
        st = vkmm_kv_pool_create(m, m->kv_tokens, s->n_ctx, s->n_batch, &m->kv, err);
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
    vkmm_step_end(m);
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
    vkmm_kv_release(s);
    vkmm_step_begin(s->m);
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
    vkmm_step_end(s->m);
    free_messages(s);
    free(s->msgs);
    free(s->msg_images);
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
    vkmm_kv_release(s);
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
                                   size_t stride, uint32_t n_images, vkmm_error *err)
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
        st = vkmm_session_encode_input(s, (const vkmm_image_input *)((const char *)images + i * stride), &img, err);
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
    if (!msg)
        return vkmm_fail(err, VKMM_ERR_INVALID_ARG, "a message needs a role and a text");
    vkmm_message copy;
    vkmm_status sized = VKMM_SIZED_IN(vkmm_message, &copy, msg, "message", err);
    if (sized)
        return sized;
    msg = &copy;
    if (!msg->role || !msg->text)
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
    if (msg->image_inputs) {
        /* the array's stride is its elements' struct_size (0: this version's) */
        size_t stride;
        vkmm_status st = VKMM_SIZED_BYTES(vkmm_image_input, msg->image_inputs, "image input", &stride, err);
        if (!st && msg->image_inputs->struct_size > stride)
            stride = msg->image_inputs->struct_size;
        return st ? st : add_chat_message(s, msg->role, msg->text, msg->image_inputs, stride, n, err);
    }
    if (!n)
        return add_chat_message(s, msg->role, msg->text, NULL, sizeof(vkmm_image_input), 0, err);
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
        st = add_chat_message(s, msg->role, msg->text, in, sizeof *in, n, err);
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

VKMM_API void vkmm_session_stats_get(const vkmm_session *s, vkmm_stats *out, uint32_t size)
{
    if (!out)
        return;
    vkmm_stats st = s ? s->stats : (vkmm_stats){0};
    memcpy(out, &st, VKMM_GET_BYTES(vkmm_stats, size)); /* an older caller's layout is a prefix of ours */
}

VKMM_API const float *vkmm_session_logits(vkmm_session *s, uint32_t *n_rows)
{
    if (n_rows)
        *n_rows = s ? s->last_rows : 0;
    return s ? s->last_logits : NULL;
}
