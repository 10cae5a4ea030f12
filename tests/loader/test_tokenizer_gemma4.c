/* tests/loader/test_tokenizer_gemma4.c — the "gemma4" tokenizer (BPE over characters by merge rank, U+2581 spaces,
 * newline runs split from the rest, byte fallback, BOS always) on Gemma 3's tokenizer.json written as a gemma4
 * vocabulary, the one vkmm-dev synth writes for Gemma 4. No Gemma 4 tokenizer is published on npm, so the expected
 * ids come from vkmm's Gemma 3 tokenizer (held to Hugging Face's own ids by loader-tokenizer-vectors-gemma3) run on
 * each newline / non-newline piece of the text: merging by rank must reproduce merging by the scores derived from
 * the ranks, and no token may cross a piece boundary. Every text of the Gemma 3 vectors is used; then Gemma 4's
 * control tokens at their ids, the chat markers as single tokens, the end-of-generation set and decoding.
 * usage: test_tokenizer_gemma4 GEMMA3_TOKENIZER_JSON GEMMA3_VECTORS.jsonl */
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "detokenize.h"
#include "hf_tokenizer.h"
#include "json.h"
#include "synth.h"
#include "tokenizer.h"

/* What the gemma4 tokenizer must give for plain text: BOS, then Gemma 3's ids of each newline-run piece. */
static void expected_ids(const vkmm_tokenizer *g3, const char *text, size_t len, vkmm_tokens *out)
{
    vkmm_error err;
    CHECK_OK(vkmm_tokens_push(out, 2), &err, );
    for (size_t a = 0; a < len;) {
        bool nl = text[a] == '\n';
        size_t b = a + 1;
        while (b < len && (text[b] == '\n') == nl)
            b++;
        CHECK_OK(vkmm_tokenize(g3, text + a, b - a, 0, out, &err), &err, );
        a = b;
    }
}

static void check_vectors(const vkmm_tokenizer *g3, const vkmm_tokenizer *g4, const char *vec_path)
{
    vkmm_error err;
    char *data;
    size_t len, lines = 0, mismatches = 0;
    CHECK_OK(vkmm_read_file(vec_path, (size_t)64 << 20, &data, &len, &err), &err, );
    for (char *line = data, *next; line < data + len; line = next) {
        char *eol = memchr(line, '\n', (size_t)(data + len - line));
        next = eol ? eol + 1 : data + len;
        size_t ll = (size_t)((eol ? eol : data + len) - line);
        vkmm_json_doc *doc;
        if (!ll || vkmm_json_parse(line, ll, vec_path, NULL, &doc, &err))
            continue;
        size_t tlen;
        const char *text = vkmm_json_string(vkmm_json_get(vkmm_json_root(doc), "text"), &tlen);
        bool special = true;
        vkmm_json_bool(vkmm_json_get(vkmm_json_root(doc), "special"), &special);
        if (text && !special) { /* each text appears with and without special parsing: plain text once */
            lines++;
            vkmm_tokens got = {0}, want = {0};
            CHECK_OK(vkmm_tokenize(g4, text, tlen, VKMM_TOKENIZE_ADD_SPECIAL, &got, &err), &err, );
            expected_ids(g3, text, tlen, &want);
            bool same = got.n == want.n && !memcmp(got.ids, want.ids, got.n * sizeof *got.ids);
            if (!same && ++mismatches <= 10)
                fprintf(stderr, "MISMATCH %s line %zu: %zu ids, expected %zu\n", vec_path, lines, got.n, want.n);
            vkmm_text back = {0};
            CHECK_OK(vkmm_detokenize(g4, got.ids + 1, got.n - 1, 0, &back, &err), &err, );
            CHECK(strstr(text, "\xE2\x96\x81") || (back.len == tlen && !memcmp(back.s ? back.s : "", text, tlen)),
                  "%s line %zu: decoding does not give the text back", vec_path, lines);
            vkmm_text_free(&back);
            vkmm_tokens_free(&got);
            vkmm_tokens_free(&want);
        }
        vkmm_json_free(doc);
    }
    free(data);
    printf("gemma4: %zu texts, %zu differ from Gemma 3's ids piece by piece\n", lines, mismatches);
    CHECK(lines >= 300 && mismatches == 0, "%zu of %zu texts differ", mismatches, lines);
}

static void check_specials(const char *tok_json)
{
    vkmm_error err;
    vkmm_vocab v;
    CHECK_OK(synth_gemma4_vocab(&v, tok_json, &err), &err, );
    vkmm_tokenizer *t;
    CHECK_OK(vkmm_tokenizer_create(&v, &t, &err), &err, );
    CHECK(v.n_tokens == 262144 && !strcmp(v.model, "gemma4"), "vocabulary of %u, model %s", v.n_tokens, v.model);
    static const struct {
        const char *text;
        int32_t id;
        bool eog;
    } sp[] = {{"<bos>", 2, false}, {"<eos>", 1, true}, {"<|turn>", 105, false}, {"<turn|>", 106, true},
              {"<|tool_response>", 50, true}, {"<|think|>", 98, false}, {"<|channel>", 100, false},
              {"<|image>", 255999, false}, {"<image|>", 258882, false}, {"<|image|>", 258880, false},
              {"<|audio>", 256000, false}};
    for (size_t i = 0; i < sizeof sp / sizeof *sp; i++) {
        CHECK(vkmm_tokenizer_find(t, sp[i].text, strlen(sp[i].text)) == sp[i].id, "%s is not id %d", sp[i].text,
              sp[i].id);
        CHECK(vkmm_tokenizer_is_eog(t, sp[i].id) == sp[i].eog, "%s: end of generation %d", sp[i].text, !sp[i].eog);
    }
    /* a rendered Gemma 4 chat: BOS (forced), markers as single tokens; without special parsing they are text */
    static const char chat[] = "<|turn>user\nHi there<turn|>\n<|turn>model\n";
    vkmm_tokens ids = {0};
    CHECK_OK(vkmm_tokenize(t, chat, strlen(chat), VKMM_TOKENIZE_ADD_SPECIAL | VKMM_TOKENIZE_PARSE_SPECIAL, &ids, &err),
             &err, );
    CHECK(ids.n >= 9 && ids.ids[0] == 2 && ids.ids[1] == 105 && ids.ids[3] == 107 && ids.ids[ids.n - 3] == 105 &&
          ids.ids[ids.n - 1] == 107, "chat ids: %zu, first %d %d", ids.n, ids.n ? ids.ids[0] : -1,
          ids.n > 1 ? ids.ids[1] : -1);
    vkmm_tokens plain = {0};
    CHECK_OK(vkmm_tokenize(t, chat, strlen(chat), 0, &plain, &err), &err, );
    for (size_t i = 0; i < plain.n; i++)
        CHECK(plain.ids[i] != 105 && plain.ids[i] != 106, "a marker came from plain text");
    vkmm_text back = {0};
    CHECK_OK(vkmm_detokenize(t, ids.ids + 1, ids.n - 1, VKMM_DETOK_RENDER_SPECIAL, &back, &err), &err, );
    CHECK(back.len == strlen(chat) && !memcmp(back.s, chat, back.len), "chat decodes as %.*s", (int)back.len, back.s);
    vkmm_text_free(&back);
    vkmm_tokens_free(&ids);
    vkmm_tokens_free(&plain);
    vkmm_tokenizer_free(t);
    vkmm_vocab_free(&v);
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: %s GEMMA3_TOKENIZER_JSON GEMMA3_VECTORS.jsonl\n", argv[0]);
        return 1;
    }
    vkmm_error err;
    vkmm_vocab v3, v4;
    CHECK_OK(vkmm_vocab_from_hf_file(&v3, argv[1], NULL, &err), &err, 1);
    CHECK_OK(vkmm_vocab_gemma4_from_hf_file(&v4, argv[1], 0, &err), &err, 1);
    CHECK(v4.n_merges > 500000 && !v4.scores && !strcmp(v4.model, "gemma4"), "gemma4 vocabulary: %u merges, model %s",
          v4.n_merges, v4.model);
    vkmm_tokenizer *g3, *g4;
    CHECK_OK(vkmm_tokenizer_create(&v3, &g3, &err), &err, 1);
    CHECK_OK(vkmm_tokenizer_create(&v4, &g4, &err), &err, 1);
    CHECK(vkmm_tokenizer_kind_of(g4) == VKMM_TOKENIZER_BPE_CHARS && vkmm_tokenizer_adds_bos(g4), "gemma4 kind");
    check_vectors(g3, g4, argv[2]);
    vkmm_tokenizer_free(g3);
    vkmm_tokenizer_free(g4);
    vkmm_vocab_free(&v3);
    vkmm_vocab_free(&v4);
    check_specials(argv[1]);
    return test_finish("tokenizer gemma4");
}
