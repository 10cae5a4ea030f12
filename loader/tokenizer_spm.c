/* loader/tokenizer_spm.c — SentencePiece-style BPE (tokenizer.ggml.model = "llama"): spaces become U+2581,
 * characters are merged pairwise, always the adjacent pair whose joined text is the best-scoring piece
 * (ties: leftmost), through a priority queue; a character with no piece falls back to <0xNN> byte tokens. */
#include <stdlib.h>
#include <string.h>

#include "tokenizer_internal.h"
#include "unicode.h"

typedef struct sym {
    int32_t prev, next;
    uint32_t off, len; /* bytes of the escaped text; len 0 once merged into its left neighbour */
} sym;

typedef struct bigram {
    float score;
    int32_t left, right;
    uint32_t len;
} bigram;

/* a ranks before b: higher score, then the leftmost pair */
static bool before(const void *pa, const void *pb)
{
    const bigram *a = pa, *b = pb;
    return a->score > b->score || (a->score == b->score && a->left < b->left);
}

typedef struct spm_state {
    const vkmm_tokenizer *tok;
    const char *buf;
    sym *syms;
    vkmm_heap q;
} spm_state;

static bool try_bigram(spm_state *st, int32_t left, int32_t right)
{
    if (left < 0 || right < 0)
        return true;
    const sym *l = &st->syms[left], *r = &st->syms[right];
    uint32_t len = l->len + r->len;
    int32_t id = vkmm_text_map_get(&st->tok->text_map, st->buf + l->off, len);
    if (id < 0)
        return true;
    const float *scores = st->tok->vocab->scores;
    /* without scores the id order stands in for them, as SentencePiece's trainer assigns them */
    float score = scores ? scores[id] : -(float)id;
    bigram b = {.score = score, .left = left, .right = right, .len = len};
    return vkmm_heap_push(&st->q, &b);
}

vkmm_status vkmm_escape_spaces(const char *text, size_t len, bool prefix, char **out, size_t *out_len,
                               vkmm_error *err)
{
    static const char sp[3] = {'\xE2', '\x96', '\x81'}; /* U+2581 */
    size_t spaces = 0;
    for (size_t i = 0; i < len; i++)
        spaces += text[i] == ' ';
    size_t blen = len + 2 * spaces + (prefix ? 3 : 0); /* each space grows to 3 bytes */
    *out = NULL;
    *out_len = blen;
    if (blen == 0)
        return VKMM_OK;
    if (blen > UINT32_MAX / 2)
        return vkmm_fail(err, VKMM_ERR_INVALID_ARG, "tokenize: %zu bytes of text is too long", len);
    char *buf = malloc(blen);
    if (!buf)
        return vkmm_fail(err, VKMM_ERR_HOST_MEMORY, "tokenize: out of memory for %zu bytes of text", len);
    size_t o = 0;
    if (prefix) {
        memcpy(buf, sp, 3);
        o = 3;
    }
    for (size_t i = 0; i < len; i++) {
        if (text[i] == ' ') {
            memcpy(buf + o, sp, 3);
            o += 3;
        } else {
            buf[o++] = text[i];
        }
    }
    *out = buf;
    return VKMM_OK;
}

vkmm_status vkmm_spm_encode(const vkmm_tokenizer *tok, const char *text, size_t len, bool space_prefix,
                            vkmm_tokens *out, vkmm_error *err)
{
    char *buf;
    size_t blen;
    vkmm_status s = vkmm_escape_spaces(text, len, space_prefix, &buf, &blen, err);
    if (s || blen == 0)
        return s;
    sym *syms = malloc(blen * sizeof *syms);
    spm_state st = {.tok = tok, .buf = buf, .syms = syms};
    vkmm_heap_init(&st.q, sizeof(bigram), before);
    if (!syms)
        goto oom;
    int32_t n = 0;
    for (size_t i = 0; i < blen;) {
        size_t l;
        vkmm_utf8_decode((const unsigned char *)buf + i, blen - i, &l);
        syms[n] = (sym){.prev = n - 1, .next = -1, .off = (uint32_t)i, .len = (uint32_t)l};
        if (n > 0)
            syms[n - 1].next = n;
        n++;
        i += l;
    }
    for (int32_t i = 1; i < n; i++)
        if (!try_bigram(&st, i - 1, i))
            goto oom;
    while (st.q.n) {
        bigram b;
        vkmm_heap_pop(&st.q, &b);
        sym *l = &syms[b.left], *r = &syms[b.right];
        if (l->len == 0 || r->len == 0 || l->len + r->len != b.len)
            continue; /* stale: one side was merged since */
        l->len += r->len;
        r->len = 0;
        l->next = r->next;
        if (r->next >= 0)
            syms[r->next].prev = b.left;
        if (!try_bigram(&st, l->prev, b.left) || !try_bigram(&st, b.left, l->next))
            goto oom;
    }
    for (int32_t i = 0; i >= 0 && i < n; i = syms[i].next) {
        int32_t id = vkmm_text_map_get(&tok->text_map, buf + syms[i].off, syms[i].len);
        if (id >= 0) {
            if (vkmm_tokens_push(out, id))
                goto oom;
            continue;
        }
        bool all = true;
        for (uint32_t k = 0; k < syms[i].len; k++)
            all &= tok->byte_token[(unsigned char)buf[syms[i].off + k]] >= 0;
        if (all) {
            for (uint32_t k = 0; k < syms[i].len; k++)
                if (vkmm_tokens_push(out, tok->byte_token[(unsigned char)buf[syms[i].off + k]]))
                    goto oom;
        } else if (tok->unk >= 0 && vkmm_tokens_push(out, tok->unk)) {
            goto oom;
        }
    }
    goto done;
oom:
    s = vkmm_fail(err, VKMM_ERR_HOST_MEMORY, "tokenize: out of memory for %zu bytes of text", len);
done:
    free(buf);
    free(syms);
    vkmm_heap_free(&st.q);
    return s;
}
