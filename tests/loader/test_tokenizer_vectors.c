/* tests/loader/test_tokenizer_vectors.c — every line of a committed vector file (ids from the model's own
 * Hugging Face / mistral-common tokenizer, see scripts/gen_tokenizer_vectors.mjs) must be reproduced exactly
 * from the real tokenizer file, and the ids must decode back to the text.
 * usage: test_tokenizer_vectors gemma3|tekken TOKENIZER_FILE VECTORS.jsonl */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "harness.h"
#include "detokenize.h"
#include "hf_tokenizer.h"
#include "json.h"
#include "tokenizer.h"
#include "unicode.h"

static void print_escaped(const char *s, size_t n)
{
    fputc('"', stderr);
    for (size_t i = 0; i < n && i < 200; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '\n')
            fputs("\\n", stderr);
        else if (c == '\t')
            fputs("\\t", stderr);
        else if (c == '\r')
            fputs("\\r", stderr);
        else if (c < 0x20)
            fprintf(stderr, "\\x%02x", c);
        else
            fputc(c, stderr);
    }
    fprintf(stderr, n > 200 ? "...\" (%zu bytes)" : "\"", n);
}

static void print_ids(const char *label, const int32_t *ids, size_t n)
{
    fprintf(stderr, "  %s [", label);
    for (size_t i = 0; i < n && i < 60; i++)
        fprintf(stderr, "%s%d", i ? "," : "", ids[i]);
    fprintf(stderr, n > 60 ? ",... (%zu)]\n" : "]\n", n);
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

int main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: %s gemma3|tekken TOKENIZER_FILE VECTORS.jsonl\n", argv[0]);
        return 1;
    }
    const char *family = argv[1], *tok_path = argv[2], *vec_path = argv[3];
    FILE *probe = fopen(tok_path, "rb");
    if (!probe) {
        fprintf(stderr, "FAIL: %s is missing: run scripts/setup, which installs the reference tokenizers (npm) "
                        "into .deps/npm\n", tok_path);
        return 1;
    }
    fclose(probe);
    vkmm_error err = {0};
    vkmm_vocab vocab;
    vkmm_vocab_init(&vocab);
    double t0 = now();
    vkmm_status s = !strcmp(family, "tekken") ? vkmm_vocab_from_tekken_file(&vocab, tok_path, &err)
                                              : vkmm_vocab_from_hf_file(&vocab, tok_path, NULL, &err);
    CHECK_OK(s, &err, 1);
    double t1 = now();
    vkmm_tokenizer *tok = NULL;
    CHECK_OK(vkmm_tokenizer_create(&vocab, &tok, &err), &err, 1);
    double t2 = now();
    printf("%s: vocabulary of %u tokens, %u merges: converted in %.2f s, tokenizer built in %.2f s\n", family,
           vocab.n_tokens, vocab.n_merges, t1 - t0, t2 - t1);

    char *data;
    size_t len;
    CHECK_OK(vkmm_read_file(vec_path, (size_t)64 << 20, &data, &len, &err), &err, 1);
    size_t lines = 0, mismatches = 0, roundtrip_bad = 0;
    double tok_time = 0;
    size_t tok_bytes = 0;
    for (char *line = data, *next; line < data + len; line = next) {
        char *eol = memchr(line, '\n', (size_t)(data + len - line));
        next = eol ? eol + 1 : data + len;
        size_t ll = (size_t)((eol ? eol : data + len) - line);
        if (ll == 0)
            continue;
        lines++;
        char name[64];
        snprintf(name, sizeof name, "%s line %zu", vec_path, lines);
        vkmm_json_doc *doc;
        CHECK_OK(vkmm_json_parse(line, ll, name, NULL, &doc, &err), &err, 1);
        const vkmm_json *r = vkmm_json_root(doc), *ids = vkmm_json_get(r, "ids");
        size_t tlen;
        const char *text = vkmm_json_string(vkmm_json_get(r, "text"), &tlen);
        bool add = false, special = false;
        if (!text || !ids || ids->type != VKMM_JSON_ARRAY || !vkmm_json_bool(vkmm_json_get(r, "add_special"), &add) ||
            !vkmm_json_bool(vkmm_json_get(r, "special"), &special)) {
            CHECK(0, "%s: malformed vector line", name);
            vkmm_json_free(doc);
            continue;
        }
        vkmm_tokens got = {0};
        double a = now();
        s = vkmm_tokenize(tok, text, tlen, (add ? VKMM_TOKENIZE_ADD_SPECIAL : 0) | (special ? VKMM_TOKENIZE_PARSE_SPECIAL : 0),
                          &got, &err);
        tok_time += now() - a;
        tok_bytes += tlen;
        CHECK(s == VKMM_OK, "%s: tokenize failed: %s", name, err.msg);
        bool same = got.n == ids->u.arr.n;
        for (size_t i = 0; same && i < got.n; i++) {
            int64_t want;
            same = vkmm_json_int(&ids->u.arr.items[i], &want) && want == got.ids[i];
        }
        if (!same) {
            mismatches++;
            test_failures++;
            if (mismatches <= 25) {
                fprintf(stderr, "MISMATCH %s (add_special=%d special=%d): ", name, add, special);
                print_escaped(text, tlen);
                fputc('\n', stderr);
                int32_t *want = malloc((ids->u.arr.n + 1) * sizeof *want);
                for (size_t i = 0; i < ids->u.arr.n; i++) {
                    int64_t w = -1;
                    vkmm_json_int(&ids->u.arr.items[i], &w);
                    want[i] = (int32_t)w;
                }
                print_ids("expected", want, ids->u.arr.n);
                print_ids("got     ", got.ids, got.n);
                free(want);
            }
        } else {
            /* decoding gives the text back (a literal U+2581 in SentencePiece text decodes as a space) */
            size_t skip = add && vkmm_tokenizer_adds_bos(tok) ? 1 : 0; /* the BOS it added, not a parsed "<bos>" */
            vkmm_text back = {0};
            s = vkmm_detokenize(tok, got.ids + skip, got.n - skip, special ? VKMM_DETOK_RENDER_SPECIAL : 0, &back, &err);
            bool has_meta = strstr(text, "\xE2\x96\x81") != NULL && strcmp(family, "tekken");
            if (s || (!has_meta && (back.len != tlen || memcmp(back.s ? back.s : "", text, tlen)))) {
                roundtrip_bad++;
                test_failures++;
                if (roundtrip_bad <= 10) {
                    fprintf(stderr, "ROUNDTRIP %s: ", name);
                    print_escaped(text, tlen);
                    fprintf(stderr, " decoded as ");
                    print_escaped(back.s ? back.s : "", back.len);
                    fputc('\n', stderr);
                }
            }
            /* streaming, one id at a time: every chunk is whole characters and they add up to the same text */
            vkmm_detok d;
            vkmm_detok_init(&d, tok, special ? VKMM_DETOK_RENDER_SPECIAL : 0);
            vkmm_text streamed = {0};
            bool whole = true;
            for (size_t i = skip; i < got.n; i++) {
                size_t before = streamed.len, pend;
                if (vkmm_detok_push(&d, got.ids[i], &streamed, &err))
                    whole = false;
                whole &= vkmm_utf8_valid_prefix((const unsigned char *)streamed.s + before, streamed.len - before,
                                                &pend) == streamed.len - before;
            }
            vkmm_detok_flush(&d, &streamed, &err);
            CHECK(whole && streamed.len == back.len && !memcmp(streamed.s ? streamed.s : "", back.s ? back.s : "", back.len),
                  "%s: streamed decoding differs or split a character", name);
            vkmm_text_free(&streamed);
            vkmm_text_free(&back);
        }
        vkmm_tokens_free(&got);
        vkmm_json_free(doc);
    }
    free(data);
    printf("%s: %zu lines, %zu mismatches, %zu round-trip failures; %zu bytes tokenized in %.3f s\n", family, lines,
           mismatches, roundtrip_bad, tok_bytes, tok_time);
    CHECK(lines >= 600, "%s: only %zu vector lines", vec_path, lines);

    /* 100 KB inputs, the worst cases for each algorithm included, must take well under a second */
    const size_t big = 100 * 1024;
    char *text = malloc(big + 8);
    const char *kinds[] = {"prose", "one long word", "spaces", "digits", "emoji", "random bytes"};
    test_rng rng = test_rng_seed(42);
    for (int k = 0; k < 6; k++) {
        static const char prose[] = "The quick brown fox, 42 times: \xE6\x97\xA5\xE6\x9C\xAC\xE8\xAA\x9E "
                                    "\xF0\x9F\x98\x80 caf\xC3\xA9!\n\t";
        for (size_t i = 0; i < big; i++) {
            switch (k) {
            case 0: text[i] = prose[i % (sizeof prose - 1)]; break;
            case 1: text[i] = "abcdefghij"[i % 7]; break;
            case 2: text[i] = ' '; break;
            case 3: text[i] = (char)('0' + i % 10); break;
            case 4: text[i] = "\xF0\x9F\xA7\xAC"[i % 4]; break;
            default: text[i] = (char)test_rand_u32(&rng); break;
            }
        }
        vkmm_tokens got = {0};
        double a = now();
        s = vkmm_tokenize(tok, text, big, VKMM_TOKENIZE_ADD_SPECIAL, &got, &err);
        double dt = now() - a;
        CHECK(s == VKMM_OK, "100 KB of %s: %s", kinds[k], err.msg);
        CHECK(dt < 1.0, "100 KB of %s took %.3f s", kinds[k], dt);
        printf("%s: 100 KB of %s: %zu tokens in %.3f s\n", family, kinds[k], got.n, dt);
        vkmm_text back = {0};
        s = vkmm_detokenize(tok, got.ids + 1, got.n - 1, 0, &back, &err);
        CHECK(s == VKMM_OK && (k == 5 || (back.len == big && !memcmp(back.s, text, big))),
              "100 KB of %s decodes back", kinds[k]);
        vkmm_text_free(&back);
        vkmm_tokens_free(&got);
    }
    free(text);
    vkmm_tokenizer_free(tok);
    vkmm_vocab_free(&vocab);
    return test_finish(family);
}
