/* loader/chat_template.c — renders Gemma 3, Gemma 4 and Mistral v7 chats exactly as their Hugging Face Jinja
 * templates do (Gemma 3: trimmed text, system text + "\n\n" prefixed to the first user turn; Gemma 4: trimmed
 * text, a system turn of its own, earlier thoughts stripped; Mistral: untrimmed text, no default system prompt,
 * as llama.cpp's built-in handler), into text and image segments. */
#include "chat_template.h"

#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "unicode.h"

const char *vkmm_chat_format_name(vkmm_chat_format f)
{
    switch (f) {
    case VKMM_CHAT_GEMMA3: return "gemma3";
    case VKMM_CHAT_MISTRAL_V7_TEKKEN: return "mistral-v7-tekken";
    case VKMM_CHAT_MISTRAL_V7: return "mistral-v7";
    case VKMM_CHAT_GEMMA4: return "gemma4";
    case VKMM_CHAT_GEMMA4_EMPTY_THOUGHT: return "gemma4-empty-thought";
    case VKMM_CHAT_NONE: break;
    }
    return "none";
}

bool vkmm_chat_format_from_name(const char *name, vkmm_chat_format *out)
{
    if (!name)
        return false;
    if (!strcmp(name, "gemma3") || !strcmp(name, "gemma"))
        *out = VKMM_CHAT_GEMMA3;
    else if (!strcmp(name, "mistral-v7-tekken"))
        *out = VKMM_CHAT_MISTRAL_V7_TEKKEN;
    else if (!strcmp(name, "mistral-v7"))
        *out = VKMM_CHAT_MISTRAL_V7;
    else if (!strcmp(name, "gemma4"))
        *out = VKMM_CHAT_GEMMA4;
    else if (!strcmp(name, "gemma4-empty-thought"))
        *out = VKMM_CHAT_GEMMA4_EMPTY_THOUGHT;
    else
        return false;
    return true;
}

vkmm_chat_format vkmm_chat_format_detect(const char *t)
{
    if (!t)
        return VKMM_CHAT_NONE;
    if (strstr(t, "<start_of_turn>"))
        return VKMM_CHAT_GEMMA3;
    /* the 26B/31B templates close an empty thought channel after "<|turn>model\n" when thinking is off */
    if (strstr(t, "<|turn>"))
        return strstr(t, "'<|channel>thought\\n<channel|>'") ? VKMM_CHAT_GEMMA4_EMPTY_THOUGHT : VKMM_CHAT_GEMMA4;
    if (strstr(t, "[SYSTEM_PROMPT]") && strstr(t, "[INST]"))
        return strstr(t, "[INST] ") ? VKMM_CHAT_MISTRAL_V7 : VKMM_CHAT_MISTRAL_V7_TEKKEN;
    return VKMM_CHAT_NONE;
}

vkmm_status vkmm_chat_format_pick(const char *name, const vkmm_vocab *vocab, const char *fallback,
                                  vkmm_chat_format *out, vkmm_error *err)
{
    if (name) {
        if (vkmm_chat_format_from_name(name, out))
            return VKMM_OK;
        return vkmm_fail(err, VKMM_ERR_INVALID_ARG,
                         "unknown chat template '%s' (vkmm knows gemma3, gemma4, gemma4-empty-thought, "
                         "mistral-v7-tekken, mistral-v7)", name);
    }
    *out = vkmm_chat_format_detect(vocab ? vocab->chat_template : NULL);
    if (*out != VKMM_CHAT_NONE)
        return VKMM_OK;
    const char *why = vocab && vocab->chat_template ? "is not one vkmm knows" : "is missing";
    if (fallback && vkmm_chat_format_from_name(fallback, out)) {
        vkmm_warn("the model's chat template %s; using '%s', its architecture's (choose another with "
                  "--chat-template)", why, vkmm_chat_format_name(*out));
        return VKMM_OK;
    }
    return vkmm_fail(err, VKMM_ERR_UNSUPPORTED,
                     "the model's chat template %s and its architecture names none; pass --chat-template "
                     "gemma3|gemma4|gemma4-empty-thought|mistral-v7-tekken|mistral-v7",
                     why);
}

/* ---- building the segment list ---- */

typedef struct builder {
    vkmm_chat_prompt *p;
    vkmm_error *err;
    bool failed;
} builder;

static vkmm_chat_segment *new_segment(builder *b, vkmm_chat_part_kind kind)
{
    vkmm_chat_prompt *p = b->p;
    if (p->n == p->cap) {
        size_t cap = p->cap ? 2 * p->cap : 8;
        vkmm_chat_segment *s = realloc(p->seg, cap * sizeof *s);
        if (!s)
            return NULL;
        p->seg = s;
        p->cap = cap;
    }
    vkmm_chat_segment *s = &p->seg[p->n++];
    memset(s, 0, sizeof *s);
    s->kind = kind;
    return s;
}

static void append(builder *b, const char *text, size_t n)
{
    if (b->failed || !n)
        return;
    vkmm_chat_prompt *p = b->p;
    vkmm_chat_segment *s = p->n && p->seg[p->n - 1].kind == VKMM_CHAT_TEXT ? &p->seg[p->n - 1] : new_segment(b, VKMM_CHAT_TEXT);
    char *t = s ? realloc(s->text, s->len + n + 1) : NULL;
    if (!t) {
        b->failed = true;
        return;
    }
    memcpy(t + s->len, text, n);
    s->len += n;
    t[s->len] = 0;
    s->text = t;
}

static void appends(builder *b, const char *text)
{
    append(b, text, strlen(text));
}

static void image(builder *b, const char *placeholder)
{
    if (b->failed)
        return;
    vkmm_chat_segment *s = new_segment(b, VKMM_CHAT_IMAGE);
    if (!s || !(s->text = strdup(placeholder))) {
        b->failed = true;
        return;
    }
    s->len = strlen(placeholder);
    s->image = b->p->n_images++;
}

/* Jinja's trim (Python str.strip): White_Space plus the separators U+001C..U+001F. */
static bool strip_space(uint32_t cp)
{
    return vkmm_unicode_is_space(cp) || (cp >= 0x1C && cp <= 0x1F);
}

static void trimmed(const char *s, const char **start, size_t *len)
{
    const unsigned char *p = (const unsigned char *)s, *end = p + strlen(s);
    size_t l;
    while (p < end && strip_space(vkmm_utf8_decode(p, (size_t)(end - p), &l)))
        p += l;
    const unsigned char *q = end;
    while (q > p) {
        const unsigned char *c = q - 1;
        while (c > p && (*c & 0xC0) == 0x80)
            c--;
        if (!strip_space(vkmm_utf8_decode(c, (size_t)(q - c), &l)) || c + l != q)
            break;
        q = c;
    }
    *start = (const char *)p;
    *len = (size_t)(q - p);
}

static const char *part_text(const vkmm_chat_part *p)
{
    return p->kind == VKMM_CHAT_TEXT && p->text ? p->text : "";
}

static vkmm_status render_gemma3(builder *b, const vkmm_chat_message *m, size_t n, const vkmm_chat_options *o)
{
    if (o->include_bos)
        appends(b, "<bos>");
    const char *system = NULL;
    if (n && !strcmp(m[0].role, "system")) {
        /* the template takes the first part's text, untrimmed */
        system = m[0].n_parts ? part_text(&m[0].parts[0]) : "";
        m++;
        n--;
    }
    for (size_t i = 0; i < n; i++) {
        if ((strcmp(m[i].role, "user") == 0) != (i % 2 == 0))
            return vkmm_fail(b->err, VKMM_ERR_INVALID_ARG,
                             "gemma3 chat: message %zu has role '%s'; roles must alternate user/assistant/user/...",
                             i + (system ? 1 : 0), m[i].role);
        appends(b, "<start_of_turn>");
        appends(b, strcmp(m[i].role, "assistant") ? m[i].role : "model");
        appends(b, "\n");
        if (i == 0 && system) {
            appends(b, system);
            appends(b, "\n\n");
        }
        for (size_t k = 0; k < m[i].n_parts; k++) {
            if (m[i].parts[k].kind == VKMM_CHAT_IMAGE) {
                image(b, "<start_of_image>");
            } else {
                const char *t;
                size_t l;
                trimmed(part_text(&m[i].parts[k]), &t, &l);
                append(b, t, l);
            }
        }
        appends(b, "<end_of_turn>\n");
    }
    if (o->add_generation_prompt)
        appends(b, "<start_of_turn>model\n");
    return VKMM_OK;
}

/* The concatenated text parts of a message (for Gemma 4's system turn: its template trims the content whole). */
static char *joined_text(const vkmm_chat_message *m)
{
    size_t n = 1;
    for (size_t k = 0; k < m->n_parts; k++)
        n += strlen(part_text(&m->parts[k]));
    char *s = malloc(n);
    if (!s)
        return NULL;
    s[0] = 0;
    for (size_t k = 0; k < m->n_parts; k++)
        strcat(s, part_text(&m->parts[k]));
    return s;
}

/* Gemma 4's strip_thinking: what lies between <|channel> and the next <channel|> goes, then the rest is trimmed. */
static void append_stripped(builder *b, const char *text)
{
    static const char open[] = "<|channel>", close[] = "<channel|>";
    size_t n = strlen(text);
    char *kept = malloc(n + 1);
    if (!kept) {
        b->failed = true;
        return;
    }
    size_t k = 0;
    for (const char *p = text; *p;) {
        const char *c = strstr(p, close), *end = c ? c : p + strlen(p);
        const char *o = strstr(p, open);
        const char *stop = o && o < end ? o : end; /* a part holding <|channel> keeps what precedes it */
        memcpy(kept + k, p, (size_t)(stop - p));
        k += (size_t)(stop - p);
        p = c ? c + sizeof close - 1 : end;
    }
    kept[k] = 0;
    const char *t;
    size_t l;
    trimmed(kept, &t, &l);
    append(b, t, l);
    free(kept);
}

static vkmm_status render_gemma4(builder *b, const vkmm_chat_message *m, size_t n, const vkmm_chat_options *o,
                                 bool empty_thought)
{
    if (o->include_bos)
        appends(b, "<bos>");
    if (n && (!strcmp(m[0].role, "system") || !strcmp(m[0].role, "developer"))) {
        char *sys = joined_text(&m[0]);
        const char *t;
        size_t l;
        if (!sys)
            return vkmm_fail(b->err, VKMM_ERR_HOST_MEMORY, "chat: out of memory");
        trimmed(sys, &t, &l);
        appends(b, "<|turn>system\n");
        append(b, t, l);
        appends(b, "<turn|>\n");
        free(sys);
        m++;
        n--;
    }
    for (size_t i = 0; i < n; i++) {
        bool model = !strcmp(m[i].role, "assistant");
        if (!model && strcmp(m[i].role, "user") && strcmp(m[i].role, "system"))
            return vkmm_fail(b->err, VKMM_ERR_INVALID_ARG,
                             "gemma4 chat: message %zu has role '%s' (system, user or assistant)", i, m[i].role);
        if (!(model && i > 0 && !strcmp(m[i - 1].role, "assistant"))) { /* the template continues a model turn */
            appends(b, "<|turn>");
            appends(b, model ? "model" : m[i].role);
            appends(b, "\n");
        }
        for (size_t k = 0; k < m[i].n_parts; k++) {
            if (m[i].parts[k].kind == VKMM_CHAT_IMAGE) {
                image(b, "<|image|>");
            } else if (model) {
                append_stripped(b, part_text(&m[i].parts[k]));
            } else {
                const char *t;
                size_t l;
                trimmed(part_text(&m[i].parts[k]), &t, &l);
                append(b, t, l);
            }
        }
        appends(b, "<turn|>\n");
    }
    if (o->add_generation_prompt)
        appends(b, empty_thought ? "<|turn>model\n<|channel>thought\n<channel|>" : "<|turn>model\n");
    return VKMM_OK;
}

static vkmm_status render_mistral(builder *b, const vkmm_chat_message *m, size_t n, const vkmm_chat_options *o,
                                  bool spaced)
{
    const char *sp = spaced ? " " : "";
    if (o->include_bos)
        appends(b, "<s>");
    for (size_t i = 0; i < n; i++) {
        bool user = !strcmp(m[i].role, "user"), system = !strcmp(m[i].role, "system");
        if (!user && !system && strcmp(m[i].role, "assistant"))
            return vkmm_fail(b->err, VKMM_ERR_INVALID_ARG,
                             "mistral chat: message %zu has role '%s' (only system, user and assistant)", i, m[i].role);
        appends(b, system ? "[SYSTEM_PROMPT]" : user ? "[INST]" : "");
        appends(b, sp);
        for (size_t k = 0; k < m[i].n_parts; k++) {
            if (m[i].parts[k].kind == VKMM_CHAT_IMAGE) {
                if (!user)
                    return vkmm_fail(b->err, VKMM_ERR_INVALID_ARG,
                                     "mistral chat: message %zu (%s) holds an image; images go in user turns", i,
                                     m[i].role);
                image(b, "[IMG]");
            } else {
                appends(b, part_text(&m[i].parts[k]));
            }
        }
        appends(b, system ? "[/SYSTEM_PROMPT]" : user ? "[/INST]" : "</s>");
    }
    /* the model's turn opens right after [/INST]: there is no generation prompt to add */
    return VKMM_OK;
}

vkmm_status vkmm_chat_render(vkmm_chat_format f, const vkmm_chat_message *msgs, size_t n,
                             const vkmm_chat_options *opt, vkmm_chat_prompt *out, vkmm_error *err)
{
    memset(out, 0, sizeof *out);
    vkmm_chat_options o = {0};
    if (opt)
        o = *opt;
    for (size_t i = 0; i < n; i++)
        if (!msgs[i].role || (msgs[i].n_parts && !msgs[i].parts))
            return vkmm_fail(err, VKMM_ERR_INVALID_ARG, "chat: message %zu has no role or no parts", i);
    builder b = {.p = out, .err = err};
    vkmm_status s;
    switch (f) {
    case VKMM_CHAT_GEMMA3: s = render_gemma3(&b, msgs, n, &o); break;
    case VKMM_CHAT_MISTRAL_V7_TEKKEN: s = render_mistral(&b, msgs, n, &o, false); break;
    case VKMM_CHAT_MISTRAL_V7: s = render_mistral(&b, msgs, n, &o, true); break;
    case VKMM_CHAT_GEMMA4: s = render_gemma4(&b, msgs, n, &o, false); break;
    case VKMM_CHAT_GEMMA4_EMPTY_THOUGHT: s = render_gemma4(&b, msgs, n, &o, true); break;
    default: s = vkmm_fail(err, VKMM_ERR_INVALID_ARG, "chat: no chat format chosen"); break;
    }
    if (!s && b.failed)
        s = vkmm_fail(err, VKMM_ERR_HOST_MEMORY, "chat: out of memory");
    if (s)
        vkmm_chat_prompt_free(out);
    return s;
}

vkmm_status vkmm_chat_prompt_text(const vkmm_chat_prompt *p, char **out, size_t *len, vkmm_error *err)
{
    size_t n = 0;
    for (size_t i = 0; i < p->n; i++)
        n += p->seg[i].len;
    char *s = malloc(n + 1);
    if (!s)
        return vkmm_fail(err, VKMM_ERR_HOST_MEMORY, "chat: out of memory");
    size_t o = 0;
    for (size_t i = 0; i < p->n; i++) {
        memcpy(s + o, p->seg[i].text, p->seg[i].len);
        o += p->seg[i].len;
    }
    s[o] = 0;
    *out = s;
    if (len)
        *len = o;
    return VKMM_OK;
}

void vkmm_chat_prompt_free(vkmm_chat_prompt *p)
{
    for (size_t i = 0; i < p->n; i++)
        free(p->seg[i].text);
    free(p->seg);
    memset(p, 0, sizeof *p);
}
