/* loader/tokenizer_bpe.c — BPE by merge rank: adjacent symbols are merged lowest merge rank first (ties:
 * leftmost) through a priority queue. Byte-level (tokenizer.ggml.model = "gpt2"): the text is split by the named
 * pre-tokenizer and each piece's bytes are written in the GPT-2 byte alphabet; Tekken and Llama 3 first look the
 * whole piece up (ignore_merges). Over characters (model = "gemma4"): spaces become U+2581, runs of newlines
 * split from the rest, symbols start as UTF-8 characters, and what stays out of the vocabulary falls back to
 * <0xNN> byte pieces. */
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "tokenizer_internal.h"
#include "unicode.h"

vkmm_status vkmm_bpe_prepare(vkmm_tokenizer *t, vkmm_error *err)
{
    const vkmm_vocab *v = t->vocab;
    for (int i = 0; i < 0x144; i++)
        t->from_alpha[i] = -1;
    for (int b = 0; b < 256 && t->kind == VKMM_TOKENIZER_BPE; b++) {
        uint32_t cp = vkmm_byte_to_unicode((unsigned char)b);
        char u[4];
        t->alpha_len[b] = (unsigned char)vkmm_utf8_encode(cp, u);
        memcpy(t->alpha[b], u, t->alpha_len[b]);
        t->from_alpha[cp] = (int16_t)b;
        t->byte_token[b] = vkmm_text_map_get(&t->text_map, t->alpha[b], t->alpha_len[b]);
    }
    if (!v->merges || v->n_merges == 0) {
        vkmm_warn("tokenizer: byte-level BPE vocabulary without merges: every byte stays a token");
        return VKMM_OK;
    }
    vkmm_status s = vkmm_pair_map_init(&t->merges, v->n_merges, err);
    if (s)
        return s;
    size_t cap = 256;
    char *joined = malloc(cap);
    if (!joined)
        return vkmm_fail(err, VKMM_ERR_HOST_MEMORY, "tokenizer: out of memory");
    uint32_t skipped = 0;
    for (uint32_t r = 0; r < v->n_merges; r++) {
        const vkmm_vocab_str *m = &v->merges[r];
        const char *sp = m->len > 1 ? memchr(m->s + 1, ' ', m->len - 1) : NULL;
        if (!sp) {
            skipped++;
            continue;
        }
        size_t la = (size_t)(sp - m->s), lb = m->len - la - 1;
        int32_t a = vkmm_text_map_get(&t->text_map, m->s, la);
        int32_t b = vkmm_text_map_get(&t->text_map, sp + 1, lb);
        if (la + lb > cap) {
            cap = 2 * (la + lb);
            char *nj = realloc(joined, cap);
            if (!nj) {
                free(joined);
                return vkmm_fail(err, VKMM_ERR_HOST_MEMORY, "tokenizer: out of memory");
            }
            joined = nj;
        }
        memcpy(joined, m->s, la);
        memcpy(joined + la, sp + 1, lb);
        int32_t ab = vkmm_text_map_get(&t->text_map, joined, la + lb);
        if (a < 0 || b < 0 || ab < 0) {
            skipped++;
            continue;
        }
        vkmm_pair_map_put(&t->merges, a, b, r, ab);
    }
    free(joined);
    if (skipped)
        vkmm_warn("tokenizer: %u of %u merges name tokens that are not in the vocabulary; ignored", skipped,
                  v->n_merges);
    return VKMM_OK;
}

typedef struct bsym {
    int32_t prev, next, id;
} bsym;

typedef struct cand {
    uint32_t rank;
    int32_t left, right, left_id, right_id, result;
} cand;

static bool cand_before(const void *pa, const void *pb)
{
    const cand *a = pa, *b = pb;
    return a->rank < b->rank || (a->rank == b->rank && a->left < b->left);
}

static bool try_pair(const vkmm_tokenizer *t, vkmm_heap *q, const bsym *syms, int32_t left, int32_t right)
{
    if (left < 0 || right < 0)
        return true;
    uint32_t rank;
    int32_t result;
    if (syms[left].id < 0 || syms[right].id < 0 || !vkmm_pair_map_get(&t->merges, syms[left].id, syms[right].id, &rank, &result))
        return true;
    cand c = {.rank = rank, .left = left, .right = right, .left_id = syms[left].id, .right_id = syms[right].id,
              .result = result};
    return vkmm_heap_push(q, &c);
}

/* Merges the chain of n symbols in place (ids -1 never merge). */
static bool merge_symbols(const vkmm_tokenizer *t, bsym *syms, size_t n, vkmm_heap *q)
{
    q->n = 0;
    for (size_t i = 1; i < n; i++)
        if (!try_pair(t, q, syms, (int32_t)i - 1, (int32_t)i))
            return false;
    while (q->n) {
        cand c;
        vkmm_heap_pop(q, &c);
        bsym *l = &syms[c.left], *r = &syms[c.right];
        if (l->next != c.right || l->id != c.left_id || r->id != c.right_id)
            continue; /* stale */
        l->id = c.result;
        l->next = r->next;
        if (r->next >= 0)
            syms[r->next].prev = c.left;
        r->id = -2; /* merged away */
        r->next = r->prev = -1;
        if (!try_pair(t, q, syms, l->prev, c.left) || !try_pair(t, q, syms, c.left, l->next))
            return false;
    }
    return true;
}

/* Merges one piece of n bytes (symbols start as single bytes) and appends the ids. */
static bool merge_piece(const vkmm_tokenizer *t, const unsigned char *bytes, size_t n, bsym *syms, vkmm_heap *q,
                        vkmm_tokens *out)
{
    for (size_t i = 0; i < n; i++)
        syms[i] = (bsym){.prev = (int32_t)i - 1, .next = i + 1 < n ? (int32_t)i + 1 : -1,
                         .id = t->byte_token[bytes[i]]};
    if (!merge_symbols(t, syms, n, q))
        return false;
    for (int32_t i = 0; i >= 0; i = syms[i].next) {
        int32_t id = syms[i].id >= 0 ? syms[i].id : t->unk;
        if (id >= 0 && vkmm_tokens_push(out, id))
            return false;
    }
    return true;
}

vkmm_status vkmm_bpe_encode(const vkmm_tokenizer *t, const char *text, size_t len, vkmm_tokens *out,
                            vkmm_error *err)
{
    if (len == 0)
        return VKMM_OK;
    vkmm_pieces pieces = {0};
    vkmm_status s = vkmm_pretokenize(t->pretok, text, len, &pieces, err);
    if (s)
        return s;
    char *mapped = malloc(2 * len);
    bsym *syms = malloc(len * sizeof *syms);
    vkmm_heap q;
    vkmm_heap_init(&q, sizeof(cand), cand_before);
    if (!mapped || !syms)
        goto oom;
    for (size_t k = 0; k < pieces.n; k++) {
        const unsigned char *p = (const unsigned char *)text + pieces.v[k].start;
        size_t n = pieces.v[k].len;
        if (t->ignore_merges) {
            size_t m = 0;
            for (size_t i = 0; i < n; i++) {
                memcpy(mapped + m, t->alpha[p[i]], t->alpha_len[p[i]]);
                m += t->alpha_len[p[i]];
            }
            int32_t id = vkmm_text_map_get(&t->text_map, mapped, m);
            if (id >= 0) {
                if (vkmm_tokens_push(out, id))
                    goto oom;
                continue;
            }
        }
        if (!merge_piece(t, p, n, syms, &q, out))
            goto oom;
    }
    goto done;
oom:
    s = vkmm_fail(err, VKMM_ERR_HOST_MEMORY, "tokenize: out of memory for %zu bytes of text", len);
done:
    free(mapped);
    free(syms);
    vkmm_heap_free(&q);
    vkmm_pieces_free(&pieces);
    return s;
}

/* One piece of Gemma 4 text (already escaped): symbols are its characters; off[i] is where symbol i starts. */
static bool merge_chars(const vkmm_tokenizer *t, const char *p, size_t n, bsym *syms, uint32_t *off, vkmm_heap *q,
                        vkmm_tokens *out)
{
    size_t k = 0;
    for (size_t i = 0; i < n; k++) {
        size_t l;
        vkmm_utf8_decode((const unsigned char *)p + i, n - i, &l);
        syms[k] = (bsym){.prev = (int32_t)k - 1, .next = -1, .id = vkmm_text_map_get(&t->text_map, p + i, l)};
        if (k)
            syms[k - 1].next = (int32_t)k;
        off[k] = (uint32_t)i;
        i += l;
    }
    if (!k)
        return true;
    if (!merge_symbols(t, syms, k, q))
        return false;
    for (int32_t i = 0; i >= 0; i = syms[i].next) {
        if (syms[i].id >= 0) {
            if (vkmm_tokens_push(out, syms[i].id))
                return false;
            continue;
        }
        /* never merged, so one character: its bytes as <0xNN> pieces, or <unk> if a piece is missing */
        uint32_t end = syms[i].next >= 0 ? off[syms[i].next] : (uint32_t)n;
        bool all = true;
        for (uint32_t b = off[i]; b < end; b++)
            all &= t->byte_token[(unsigned char)p[b]] >= 0;
        for (uint32_t b = off[i]; all && b < end; b++)
            if (vkmm_tokens_push(out, t->byte_token[(unsigned char)p[b]]))
                return false;
        if (!all && t->unk >= 0 && vkmm_tokens_push(out, t->unk))
            return false;
    }
    return true;
}

vkmm_status vkmm_bpe_chars_encode(const vkmm_tokenizer *t, const char *text, size_t len, vkmm_tokens *out,
                                  vkmm_error *err)
{
    char *buf;
    size_t blen;
    vkmm_status s = vkmm_escape_spaces(text, len, false, &buf, &blen, err);
    if (s || blen == 0)
        return s;
    bsym *syms = malloc(blen * sizeof *syms);
    uint32_t *off = malloc(blen * sizeof *off);
    vkmm_heap q;
    vkmm_heap_init(&q, sizeof(cand), cand_before);
    if (!syms || !off)
        goto oom;
    /* pieces: maximal runs of newlines and of everything else ([^\n]+|[\n]+) */
    for (size_t a = 0; a < blen;) {
        bool nl = buf[a] == '\n';
        size_t b = a + 1;
        while (b < blen && (buf[b] == '\n') == nl)
            b++;
        if (!merge_chars(t, buf + a, b - a, syms, off, &q, out))
            goto oom;
        a = b;
    }
    goto done;
oom:
    s = vkmm_fail(err, VKMM_ERR_HOST_MEMORY, "tokenize: out of memory for %zu bytes of text", len);
done:
    free(buf);
    free(syms);
    free(off);
    vkmm_heap_free(&q);
    return s;
}
