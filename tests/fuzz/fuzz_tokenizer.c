/* tests/fuzz/fuzz_tokenizer.c — libFuzzer target: arbitrary bytes through both tokenizers (SentencePiece-style
 * and byte-level BPE with each pre-tokenizer) on small synthetic vocabularies, then back through the
 * streaming detokenizer. Aborts when an invariant breaks: byte-level BPE must give the input back exactly,
 * streamed output must always be whole UTF-8 characters, and SentencePiece-style text with its spaces written
 * as U+2581 must give the same ids as with spaces (the tokenizer turns every space into U+2581 first, as
 * Gemma's Hugging Face tokenizer does: a literal U+2581 is indistinguishable from a space).
 * The first input byte picks the tokenizer and the flags; the rest is the text. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "detokenize.h"
#include "tokenizer.h"
#include "tokenizer_internal.h" /* the byte alphabet */
#include "unicode.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void die(const char *what)
{
    fprintf(stderr, "fuzz_tokenizer: invariant broken: %s\n", what);
    abort();
}

static void add(vkmm_vocab *v, uint32_t *id, const char *text, size_t len, float score, int32_t type)
{
    vkmm_error err;
    if (vkmm_vocab_set_token(v, (*id)++, text, len, score, type, &err))
        die(err.msg);
}

/* SentencePiece-style: specials, 256 byte pieces, a few merged pieces with scores. */
static void spm_vocab(vkmm_vocab *v, bool space_prefix)
{
    static const char *pieces[] = {"\xE2\x96\x81", "a", "b", "c", "ab", "bc", "abc", ("\xE2\x96\x81" "a"),
                                   "\xE2\x96\x81\xE2\x96\x81", "\xE6\x97\xA5", "\xE6\x97\xA5\xE6\x97\xA5", "<", ">"};
    uint32_t n = 5 + 256 + sizeof pieces / sizeof pieces[0], id = 0;
    vkmm_error err;
    vkmm_vocab_init(v);
    if (vkmm_vocab_reserve(v, n, true, true, 0, &err) || vkmm_vocab_set_string(v, &v->model, "llama", &err))
        die(err.msg);
    add(v, &id, "<unk>", 5, 0, VKMM_TOKEN_UNKNOWN);
    add(v, &id, "<s>", 3, 0, VKMM_TOKEN_CONTROL);
    add(v, &id, "</s>", 4, 0, VKMM_TOKEN_CONTROL);
    add(v, &id, "<ctl>", 5, 0, VKMM_TOKEN_CONTROL);
    add(v, &id, "<u>", 3, 0, VKMM_TOKEN_USER_DEFINED);
    for (int b = 0; b < 256; b++) {
        char t[8];
        snprintf(t, sizeof t, "<0x%02X>", b);
        add(v, &id, t, 6, 0, VKMM_TOKEN_BYTE);
    }
    for (size_t i = 0; i < sizeof pieces / sizeof pieces[0]; i++)
        add(v, &id, pieces[i], strlen(pieces[i]), -(float)i, VKMM_TOKEN_NORMAL);
    v->bos_id = 1;
    v->eos_id = 2;
    v->unk_id = 0;
    v->add_space_prefix = space_prefix ? VKMM_FLAG_TRUE : VKMM_FLAG_FALSE;
}

/* Byte-level: every byte's alphabet character, a few merges, a control and a user-defined token. */
static void bpe_vocab(vkmm_vocab *v, const char *pre)
{
    static const char *merged[] = {"ab", "abc", ("\xC4\xA0" "a"), ("\xC4\xA0" "ab"), "\xC4\x8A\xC4\x8A"};
    static const char *merges[] = {"a b", "ab c", "\xC4\xA0 a", ("\xC4\xA0" "a b"), "\xC4\x8A \xC4\x8A", "x y"};
    uint32_t n = 3 + 256 + 5, id = 0;
    vkmm_error err;
    vkmm_vocab_init(v);
    if (vkmm_vocab_reserve(v, n, false, true, 6, &err) || vkmm_vocab_set_string(v, &v->model, "gpt2", &err) ||
        vkmm_vocab_set_string(v, &v->pre, pre, &err))
        die(err.msg);
    add(v, &id, "<s>", 3, 0, VKMM_TOKEN_CONTROL);
    add(v, &id, "[INST]", 6, 0, VKMM_TOKEN_CONTROL);
    add(v, &id, "<|u|>", 5, 0, VKMM_TOKEN_USER_DEFINED);
    for (int b = 0; b < 256; b++) {
        char t[4];
        size_t l = vkmm_utf8_encode(vkmm_byte_to_unicode((unsigned char)b), t);
        add(v, &id, t, l, 0, VKMM_TOKEN_NORMAL);
    }
    for (size_t i = 0; i < 5; i++)
        add(v, &id, merged[i], strlen(merged[i]), 0, VKMM_TOKEN_NORMAL);
    for (uint32_t i = 0; i < 6; i++)
        if (vkmm_vocab_set_merge(v, i, merges[i], strlen(merges[i]), &err))
            die(err.msg);
    v->bos_id = 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    unsigned mode = data[0];
    const char *text = (const char *)data + 1;
    size_t len = size - 1;
    static const char *pres[] = {"tekken", "llama-bpe", "gpt-2"};
    vkmm_vocab v;
    bool byte_level = mode & 1;
    if (byte_level)
        bpe_vocab(&v, pres[(mode >> 3) % 3]);
    else
        spm_vocab(&v, mode & 8);
    vkmm_error err;
    vkmm_tokenizer *tok = NULL;
    if (vkmm_tokenizer_create(&v, &tok, &err))
        die(err.msg);
    unsigned flags = (mode & 2 ? VKMM_TOKENIZE_ADD_SPECIAL : 0) | (mode & 4 ? VKMM_TOKENIZE_PARSE_SPECIAL : 0);
    vkmm_tokens ids = {0};
    if (vkmm_tokenize(tok, text, len, flags, &ids, &err))
        die(err.msg);
    for (size_t i = 0; i < ids.n; i++)
        if (ids.ids[i] < 0 || (uint32_t)ids.ids[i] >= v.n_tokens)
            die("token id out of range");
    /* stream the ids back: every chunk whole characters */
    vkmm_detok d;
    vkmm_detok_init(&d, tok, flags & VKMM_TOKENIZE_PARSE_SPECIAL ? VKMM_DETOK_RENDER_SPECIAL : 0);
    vkmm_text out = {0};
    /* Only a BOS that ADD_SPECIAL put first is left out of the round trip. Telling it by value alone would
     * also drop a "<s>" that PARSE_SPECIAL found at the start of the text, which stands for input bytes
     * (a pre-tokenizer that adds no BOS, text "<s>..."). */
    bool added_bos = (flags & VKMM_TOKENIZE_ADD_SPECIAL) && vkmm_tokenizer_adds_bos(tok);
    if (added_bos && (ids.n == 0 || ids.ids[0] != vkmm_tokenizer_bos(tok)))
        die("ADD_SPECIAL did not put BOS first");
    size_t first = added_bos ? 1 : 0;
    for (size_t i = first; i < ids.n; i++) {
        size_t before = out.len, pend;
        if (vkmm_detok_push(&d, ids.ids[i], &out, &err))
            die(err.msg);
        if (out.len > before &&
            vkmm_utf8_valid_prefix((const unsigned char *)out.s + before, out.len - before, &pend) != out.len - before)
            die("a chunk that is not whole UTF-8 characters");
    }
    if (vkmm_detok_flush(&d, &out, &err))
        die(err.msg);
    /* byte-level BPE is lossless: the bytes come back exactly (raw bytes, without U+FFFD repair) */
    if (byte_level) {
        vkmm_text raw = {0};
        for (size_t i = first; i < ids.n; i++)
            if (vkmm_token_bytes(tok, ids.ids[i], flags & VKMM_TOKENIZE_PARSE_SPECIAL, &raw, &err))
                die(err.msg);
        if (raw.len != len || (len && memcmp(raw.s, text, len)))
            die("byte-level BPE did not give the input back");
        vkmm_text_free(&raw);
    }
    if (!byte_level && memchr(text, ' ', len)) {
        char *marked = malloc(3 * len);
        size_t m = 0;
        if (!marked)
            die("out of memory");
        for (size_t i = 0; i < len; i++) {
            if (text[i] == ' ') {
                memcpy(marked + m, "\xE2\x96\x81", 3);
                m += 3;
            } else {
                marked[m++] = text[i];
            }
        }
        vkmm_tokens again = {0};
        if (vkmm_tokenize(tok, marked, m, flags, &again, &err))
            die(err.msg);
        if (again.n != ids.n || memcmp(again.ids, ids.ids, ids.n * sizeof *ids.ids))
            die("spaces written as U+2581 tokenized differently");
        vkmm_tokens_free(&again);
        free(marked);
    }
    vkmm_text_free(&out);
    vkmm_tokens_free(&ids);
    vkmm_tokenizer_free(tok);
    vkmm_vocab_free(&v);
    return 0;
}
