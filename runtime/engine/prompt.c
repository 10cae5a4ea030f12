/* runtime/engine/prompt.c — from a conversation to sequence items: the chat template renders text and image
 * segments; images expand as their tower's prompt layout says (the architecture table: text before, an opening
 * token, the rows, a closing token, text after; Gemma 3: "\n\n<start_of_image>" + rows + "<end_of_image>\n\n"
 * merged into the surrounding text); the cache keeps the longest common prefix and the rest becomes pending. */
#include <stdlib.h>
#include <string.h>

#include "session.h"

vkmm_status vkmm_session_text_items(vkmm_session *s, const char *text, size_t len, bool first, bool parse_special,
                                    vkmm_items *out, vkmm_error *err)
{
    vkmm_tokens t = {0};
    unsigned flags = (first ? VKMM_TOKENIZE_ADD_SPECIAL : 0) | (parse_special ? VKMM_TOKENIZE_PARSE_SPECIAL : 0);
    vkmm_status st = vkmm_tokenize(s->m->tok, text, len, flags, &t, err);
    for (size_t i = 0; i < t.n && !st; i++)
        st = vkmm_items_push(out, (vkmm_item){t.ids[i], -1, 0}, err);
    vkmm_tokens_free(&t);
    return st;
}

static vkmm_status special(vkmm_session *s, const char *text, int32_t *id, vkmm_error *err)
{
    *id = vkmm_tokenizer_find(s->m->tok, text, strlen(text));
    if (*id < 0)
        return vkmm_fail(err, VKMM_ERR_FORMAT, "the vocabulary has no %s token, which images need", text);
    return VKMM_OK;
}

static vkmm_status push_rows(vkmm_session *s, int32_t image, vkmm_items *out, vkmm_error *err)
{
    vkmm_status st = VKMM_OK;
    for (uint32_t r = 0; r < s->images[image].n_rows && !st; r++)
        st = vkmm_items_push(out, (vkmm_item){0, image, r}, err);
    return st;
}

/* The layout's control token (NULL: none) as an item. */
static vkmm_status push_special(vkmm_session *s, const char *text, vkmm_items *out, vkmm_error *err)
{
    int32_t id;
    if (!text)
        return VKMM_OK;
    vkmm_status st = special(s, text, &id, err);
    return st ? st : vkmm_items_push(out, (vkmm_item){id, -1, 0}, err);
}

vkmm_status vkmm_session_image_items(vkmm_session *s, int32_t image, vkmm_items *out, vkmm_error *err)
{
    const vkmm_media_layout *lay = &s->images[image].tower->layout;
    vkmm_status st = push_special(s, lay->open, out, err);
    if (!st)
        st = push_rows(s, image, out, err);
    return st ? st : push_special(s, lay->close, out, err);
}

/* Text accumulates until an image (or the end) flushes it: tokenizing it whole keeps merges across what
 * the template and the processor wrote next to each other, as one tokenizer call over the text would. */
typedef struct builder {
    vkmm_session *s;
    vkmm_items *out;
    char *buf;
    size_t len, cap;
    bool first;
} builder;

static vkmm_status add_text(builder *b, const char *t, size_t n, vkmm_error *err)
{
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 1024;
        while (cap < b->len + n + 1)
            cap *= 2;
        char *p = realloc(b->buf, cap);
        if (!p)
            return vkmm_fail(err, VKMM_ERR_HOST_MEMORY, "out of host memory");
        b->buf = p;
        b->cap = cap;
    }
    memcpy(b->buf + b->len, t, n);
    b->len += n;
    return VKMM_OK;
}

static vkmm_status add_str(builder *b, const char *t, vkmm_error *err)
{
    return t ? add_text(b, t, strlen(t), err) : VKMM_OK;
}

static vkmm_status flush(builder *b, vkmm_error *err)
{
    if (!b->len && !b->first)
        return VKMM_OK;
    vkmm_status st = vkmm_session_text_items(b->s, b->buf ? b->buf : "", b->len, b->first, true, b->out, err);
    b->first = false;
    b->len = 0;
    return st;
}

static vkmm_status render(vkmm_session *s, vkmm_items *out, vkmm_error *err)
{
    vkmm_chat_options opt = {.add_generation_prompt = true, .include_bos = false};
    vkmm_chat_prompt prompt = {0};
    vkmm_status st = vkmm_chat_render(s->m->chat, s->msgs, s->n_msgs, &opt, &prompt, err);
    if (st)
        return st;
    if (prompt.n_images != s->n_msg_images)
        st = vkmm_fail(err, VKMM_ERR_INTERNAL, "the template rendered %u images of %u", prompt.n_images,
                       s->n_msg_images);
    builder b = {s, out, NULL, 0, 0, true};
    for (size_t i = 0; i < prompt.n && !st; i++) {
        const vkmm_chat_segment *seg = &prompt.seg[i];
        if (seg->kind == VKMM_CHAT_TEXT) {
            st = add_text(&b, seg->text, seg->len, err);
            continue;
        }
        int32_t img = s->msg_images[seg->image]; /* encoded when its message was added */
        const vkmm_media_layout *lay = &s->images[img].tower->layout;
        /* the layout's texts and tokens join the template's text, tokenized with it as the processor's are */
        if (!(st = add_str(&b, lay->text_before, err)) && !(st = add_str(&b, lay->open, err)) &&
            !(st = flush(&b, err)) && !(st = push_rows(s, img, out, err)) && !(st = add_str(&b, lay->close, err)))
            st = add_str(&b, lay->text_after, err);
    }
    if (!st)
        st = flush(&b, err);
    free(b.buf);
    vkmm_chat_prompt_free(&prompt);
    return st;
}

static bool same_item(vkmm_item a, vkmm_item b)
{
    return a.image == b.image && (a.image < 0 ? a.token == b.token : a.row == b.row);
}

vkmm_status vkmm_session_sync_chat(vkmm_session *s, vkmm_error *err)
{
    vkmm_items target = {0};
    vkmm_status st = render(s, &target, err);
    if (st) {
        free(target.v);
        return st;
    }
    uint32_t common = 0;
    while (common < s->done.n && common < target.n && same_item(s->done.v[common], target.v[common]))
        common++;
    /* a sliding-window ring (window + a chunk of slots) can go back only a chunk; further, start over */
    bool ring = s->m->kv && s->m->kv->n_class > 1;
    if (ring && s->done.n - common > s->n_batch)
        common = 0;
    if (common == target.n && common > 0)
        common--; /* something must be evaluated to produce logits */
    s->done.n = common;
    s->pending.n = 0;
    for (uint32_t i = common; i < target.n && !st; i++)
        st = vkmm_items_push(&s->pending, target.v[i], err);
    free(target.v);
    return st;
}
