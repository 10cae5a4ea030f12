/* tests/loader/test_tokenizer.c — tokenizers on small vocabularies whose ids are worked out by hand: merge
 * order by score (SPM) and by rank (BPE), byte fallback, space prefix, special tokens (leftmost-longest,
 * CONTROL only when asked, USER_DEFINED always), BOS/EOS, the streaming detokenizer, the converters and
 * their refusals. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "detokenize.h"
#include "hf_tokenizer.h"
#include "json.h"
#include "tokenizer.h"
#include "tokenizer_internal.h" /* the byte alphabet */
#include "unicode.h"

typedef struct tok_def {
    const char *text;
    float score;
    int32_t type;
} tok_def;

static void build(vkmm_vocab *v, const char *model, const char *pre, const tok_def *defs, uint32_t n,
                  const char *const *merges, uint32_t n_merges)
{
    vkmm_error err;
    vkmm_vocab_init(v);
    if (vkmm_vocab_reserve(v, n, true, true, n_merges, &err) || vkmm_vocab_set_string(v, &v->model, model, &err) ||
        vkmm_vocab_set_string(v, &v->pre, pre, &err)) {
        CHECK(0, "vocab: %s", err.msg);
        return;
    }
    for (uint32_t i = 0; i < n; i++)
        CHECK(vkmm_vocab_set_token(v, i, defs[i].text, strlen(defs[i].text), defs[i].score, defs[i].type, &err) == VKMM_OK,
              "%s", err.msg);
    for (uint32_t i = 0; i < n_merges; i++)
        CHECK(vkmm_vocab_set_merge(v, i, merges[i], strlen(merges[i]), &err) == VKMM_OK, "%s", err.msg);
}

static void expect_ids(const vkmm_tokenizer *tok, const char *text, unsigned flags, const int32_t *want, size_t n,
                       int line)
{
    vkmm_tokens got = {0};
    vkmm_error err = {0};
    vkmm_status s = vkmm_tokenize(tok, text, strlen(text), flags, &got, &err);
    bool same = s == VKMM_OK && got.n == n && (n == 0 || !memcmp(got.ids, want, n * sizeof *want));
    if (!same) {
        test_failures++;
        fprintf(stderr, "FAIL line %d: \"%s\" (flags %u): expected", line, text, flags);
        for (size_t i = 0; i < n; i++)
            fprintf(stderr, " %d", want[i]);
        fprintf(stderr, ", got");
        for (size_t i = 0; i < got.n; i++)
            fprintf(stderr, " %d", got.ids[i]);
        fprintf(stderr, " %s\n", err.msg);
    }
    vkmm_tokens_free(&got);
}

#define IDS(tok, text, flags, ...)                                                       \
    do {                                                                                 \
        static const int32_t w_[] = {__VA_ARGS__};                                       \
        expect_ids(tok, text, flags, w_, sizeof w_ / sizeof w_[0], __LINE__);            \
    } while (0)
#define NO_IDS(tok, text, flags) expect_ids(tok, text, flags, NULL, 0, __LINE__)

static void expect_text(const vkmm_tokenizer *tok, const int32_t *ids, size_t n, unsigned flags, const char *want,
                        size_t want_len, int line)
{
    vkmm_text out = {0};
    vkmm_error err = {0};
    vkmm_status s = vkmm_detokenize(tok, ids, n, flags, &out, &err);
    CHECK(s == VKMM_OK && out.len == want_len && !memcmp(out.s ? out.s : "", want, want_len),
          "line %d: decoded \"%.*s\" (%zu bytes), expected \"%s\" %s", line, (int)out.len, out.s ? out.s : "", out.len,
          want, err.msg);
    vkmm_text_free(&out);
}

#define TEXT(tok, flags, want, ...)                                                                   \
    do {                                                                                              \
        static const int32_t i_[] = {__VA_ARGS__};                                                    \
        expect_text(tok, i_, sizeof i_ / sizeof i_[0], flags, want, sizeof want - 1, __LINE__);      \
    } while (0)

enum { N = VKMM_TOKEN_NORMAL, C = VKMM_TOKEN_CONTROL, U = VKMM_TOKEN_USER_DEFINED, B = VKMM_TOKEN_BYTE };
#define PS VKMM_TOKENIZE_PARSE_SPECIAL
#define AS VKMM_TOKENIZE_ADD_SPECIAL

/* ids 6..261 are <0x00>..<0xFF> */
#define BYTE(b) (6 + (b))

static void spm(void)
{
    static char bytes[256][7];
    tok_def defs[275] = {
        {"<unk>", 0, VKMM_TOKEN_UNKNOWN}, {"<s>", 0, C}, {"</s>", 0, C}, {"<ctl>", 0, C}, {"<user>", 0, U},
        {"<user><x>", 0, U},
    };
    for (int b = 0; b < 256; b++) {
        snprintf(bytes[b], sizeof bytes[b], "<0x%02X>", b);
        defs[BYTE(b)] = (tok_def){bytes[b], 0, B};
    }
    const tok_def normal[] = {
        {"\xE2\x96\x81", -1, N}, {"a", -2, N}, {"b", -3, N}, {"c", -4, N}, {"ab", -5, N}, {"bc", -6, N},
        {"abc", -7, N}, {"\xE2\x96\x81" "a", -8, N}, {"\xE2\x96\x81" "ab", -9, N}, {"QR", 0, U}, {"RST", 0, U},
        {"\xE2\x96\x81\xE2\x96\x81", 0, N}, {"ca", -20, C},
    };
    memcpy(defs + 262, normal, sizeof normal);
    /* ids: 262 ▁, 263 a, 264 b, 265 c, 266 ab, 267 bc, 268 abc, 269 ▁a, 270 ▁ab, 271 QR, 272 RST, 273 ▁▁, 274 ca */
    vkmm_vocab v;
    build(&v, "llama", "default", defs, 275, NULL, 0);
    v.bos_id = 1;
    v.eos_id = 2;
    v.unk_id = 0;
    v.add_space_prefix = VKMM_FLAG_FALSE;
    vkmm_tokenizer *tok = NULL;
    vkmm_error err;
    CHECK_OK(vkmm_tokenizer_create(&v, &tok, &err), &err, );
    CHECK(vkmm_tokenizer_kind_of(tok) == VKMM_TOKENIZER_SPM, "SPM");
    IDS(tok, "abc", 0, 268);             /* ab (-5) before bc (-6), then abc */
    IDS(tok, "bcab", 0, 267, 266);       /* the best pair anywhere goes first */
    IDS(tok, "aaa", 0, 263, 263, 263);
    IDS(tok, "bca", 0, 267, 263);        /* "ca" is a CONTROL token: text never merges into it */
    IDS(tok, "a b", 0, 263, 262, 264); /* a ▁ b: "▁b" is no piece */
    IDS(tok, " ab", 0, 270);
    IDS(tok, "  ", 0, 273);
    IDS(tok, "\xC3\xA9", 0, BYTE(0xC3), BYTE(0xA9));   /* é falls back to its bytes */
    IDS(tok, "a\xFF" "b", 0, 263, BYTE(0xFF), 264);    /* an invalid byte too */
    IDS(tok, "\xF0\x9F\x98\x80", 0, BYTE(0xF0), BYTE(0x9F), BYTE(0x98), BYTE(0x80));
    NO_IDS(tok, "", 0);
    IDS(tok, "", AS, 1);                 /* add_bos defaults to true for SentencePiece */
    IDS(tok, "a", AS, 1, 263);
    /* special tokens */
    IDS(tok, "<ctl>", PS, 3);
    IDS(tok, "<ctl>", 0, BYTE('<'), 265, BYTE('t'), BYTE('l'), BYTE('>'));
    IDS(tok, "<unk>", PS, 0);
    IDS(tok, "<s>a", PS | AS, 1, 1, 263); /* like Hugging Face: a BOS in the text is kept */
    IDS(tok, "<user>", 0, 4);             /* USER_DEFINED splits without PARSE_SPECIAL */
    IDS(tok, "<user><x>", 0, 5);          /* longest match */
    IDS(tok, "<user><y>", 0, 4, BYTE('<'), BYTE('y'), BYTE('>'));
    IDS(tok, "QRST", 0, 271, BYTE('S'), BYTE('T')); /* leftmost first, then longest */
    IDS(tok, "aQRSTa", 0, 263, 271, BYTE('S'), BYTE('T'), 263);
    IDS(tok, "a<ctl>b<ctl>", PS, 263, 3, 264, 3);
    /* detokenize */
    TEXT(tok, 0, " ab c", 270, 262, 265);
    TEXT(tok, VKMM_DETOK_STRIP_SPACE, "ab c", 270, 262, 265);
    TEXT(tok, 0, "ab", 1, 266, 2);
    TEXT(tok, VKMM_DETOK_RENDER_SPECIAL, "<s>ab<ctl>", 1, 266, 3);
    TEXT(tok, 0, "\xC3\xA9", BYTE(0xC3), BYTE(0xA9));
    vkmm_tokenizer_free(tok);

    /* Llama 2 / Mistral v1 style: a space before text that starts the input or follows a special token;
     * EOS when the file asks for it */
    v.add_space_prefix = VKMM_FLAG_TRUE;
    v.add_eos = VKMM_FLAG_TRUE;
    CHECK_OK(vkmm_tokenizer_create(&v, &tok, &err), &err, );
    IDS(tok, "ab c", 0, 270, 262, 265);
    IDS(tok, "ab", AS, 1, 270, 2);
    IDS(tok, "<ctl>ab<ctl>ab", PS, 3, 270, 3, 270);
    IDS(tok, "<user>ab", 0, 4, 270);
    vkmm_tokenizer_free(tok);

    /* the streaming decoder never emits half a character */
    v.add_space_prefix = VKMM_FLAG_FALSE;
    CHECK_OK(vkmm_tokenizer_create(&v, &tok, &err), &err, );
    const char *text = "a\xC3\xA9\xF0\x9F\x98\x80" "b\xE6\x97\xA5";
    vkmm_tokens ids = {0};
    CHECK_OK(vkmm_tokenize(tok, text, strlen(text), 0, &ids, &err), &err, );
    CHECK(ids.n == 11, "a, 2 bytes, 4 bytes, b, 3 bytes: %zu ids", ids.n);
    vkmm_detok d;
    vkmm_detok_init(&d, tok, 0);
    vkmm_text out = {0};
    size_t emitted[12];
    for (size_t i = 0; i < ids.n; i++) {
        CHECK_OK(vkmm_detok_push(&d, ids.ids[i], &out, &err), &err, );
        emitted[i] = out.len;
        size_t pend;
        CHECK(vkmm_utf8_valid_prefix((const unsigned char *)out.s, out.len, &pend) == out.len && pend == 0,
              "after token %zu the output is whole characters", i);
        CHECK(out.len <= strlen(text) && !memcmp(out.s, text, out.len), "after token %zu a prefix of the text", i);
    }
    static const size_t want_emitted[11] = {1, 1, 3, 3, 3, 3, 7, 8, 8, 8, 11};
    CHECK(!memcmp(emitted, want_emitted, sizeof want_emitted), "characters appear exactly when complete");
    CHECK_OK(vkmm_detok_flush(&d, &out, &err), &err, );
    CHECK(out.len == strlen(text), "flush adds nothing after whole characters");
    vkmm_text_free(&out);
    vkmm_tokens_free(&ids);
    /* ill-formed byte sequences become U+FFFD (one per maximal subpart), a cut one at the end too */
    TEXT(tok, 0, "\xEF\xBF\xBD(", BYTE(0xE2), BYTE('('));
    TEXT(tok, 0, "\xEF\xBF\xBD" "a", BYTE(0xE2), BYTE(0x82), 263);
    TEXT(tok, 0, "a\xEF\xBF\xBD", 263, BYTE(0xF0), BYTE(0x9F), BYTE(0x98));
    TEXT(tok, 0, "\xEF\xBF\xBD\xEF\xBF\xBD", BYTE(0xFF), BYTE(0xC0));
    TEXT(tok, 0, "\xEF\xBF\xBD\xEF\xBF\xBD", BYTE(0xED), BYTE(0xA0)); /* a surrogate's lead is no prefix */
    out = (vkmm_text){0};
    CHECK(vkmm_detokenize(tok, (const int32_t[]){275}, 1, 0, &out, &err) == VKMM_ERR_INVALID_ARG, "id out of range");
    vkmm_text_free(&out);
    vkmm_tokenizer_free(tok);
    vkmm_vocab_free(&v);
}

static void bpe(void)
{
    const tok_def defs[] = {
        {"<unk>", 0, VKMM_TOKEN_UNKNOWN}, {"<s>", 0, C}, {"</s>", 0, C}, {"a", 0, N}, {"b", 0, N}, {"c", 0, N},
        {"\xC4\xA0", 0, N} /* Ġ = space */, {"ab", 0, N}, {"\xC4\xA0" "a", 0, N}, {"\xC4\xA0" "ab", 0, N},
        {"abc", 0, N}, {"[INST]", 0, C}, {"\xC4\x8A", 0, N} /* Ċ = newline */, {"<|user|>", 0, U},
        {"\xC3\xA9", 0, N} /* é = byte 0xE9 */, {"\xC3\x83", 0, N} /* Ã = byte 0xC3 */, {"\xC3\x83\xC2\xA9", 0, N},
        {"\xC2\xA9", 0, N} /* © = byte 0xA9 */,
    };
    const char *merges[] = {"a b", "\xC4\xA0 a", "\xC4\xA0" "a b", "ab c", "\xC3\x83 \xC2\xA9", "zz qq"};
    vkmm_vocab v;
    build(&v, "gpt2", "gpt-2", defs, sizeof defs / sizeof defs[0], merges, 6);
    v.bos_id = 1;
    v.eos_id = 2;
    v.unk_id = 0;
    vkmm_tokenizer *tok = NULL;
    vkmm_error err;
    CHECK_OK(vkmm_tokenizer_create(&v, &tok, &err), &err, );
    IDS(tok, " abc ab", 0, 6, 10, 6, 7);    /* rank 0 (a b) before rank 1 (Ġ a); Ġ+ab is no merge */
    IDS(tok, " abc ab", AS, 6, 10, 6, 7);   /* GPT-2 adds no BOS by default */
    IDS(tok, "\xC3\xA9", 0, 16);            /* é's bytes C3 A9 -> Ã © -> merged */
    IDS(tok, "z", 0, 0);                    /* a byte without a token: <unk> */
    IDS(tok, "[INST]abc", PS, 11, 10);
    IDS(tok, "a<|user|>b", 0, 3, 13, 4);
    TEXT(tok, 0, " abc\n", 6, 10, 12);
    TEXT(tok, 0, "\xC3\xA9<|user|>", 16, 13);
    TEXT(tok, 0, "\xEF\xBF\xBD", 15); /* a lone lead byte, cut at the end */
    vkmm_tokenizer_free(tok);
    /* Tekken looks a whole piece up first (ignore_merges) and adds BOS */
    vkmm_vocab_set_string(&v, &v.pre, "tekken", &err);
    v.n_merges = 0;
    CHECK_OK(vkmm_tokenizer_create(&v, &tok, &err), &err, );
    IDS(tok, "abc", AS, 1, 10);
    IDS(tok, "abcab", 0, 3, 4, 5, 3, 4);    /* no merges at all: bytes */
    vkmm_tokenizer_free(tok);
    /* an unknown pre-tokenizer is warned about and split as GPT-2 */
    vkmm_vocab_set_string(&v, &v.pre, "no-such-split", &err);
    v.n_merges = 6;
    CHECK_OK(vkmm_tokenizer_create(&v, &tok, &err), &err, );
    IDS(tok, " abc ab", 0, 6, 10, 6, 7);
    vkmm_tokenizer_free(tok);
    /* refusals */
    vkmm_vocab_set_string(&v, &v.model, "bert", &err);
    CHECK(vkmm_tokenizer_create(&v, &tok, &err) == VKMM_ERR_UNSUPPORTED && strstr(err.msg, "bert"), "model bert");
    vkmm_vocab_set_string(&v, &v.model, "gpt2", &err);
    v.bos_id = 99;
    CHECK(vkmm_tokenizer_create(&v, &tok, &err) == VKMM_ERR_FORMAT && strstr(err.msg, "bos_token_id"), "bos range");
    v.bos_id = 1;
    v.types[3] = 9;
    CHECK(vkmm_tokenizer_create(&v, &tok, &err) == VKMM_ERR_FORMAT && strstr(err.msg, "type"), "bad type");
    vkmm_vocab_free(&v);
}

/* A byte-level vocabulary that can spell any input: id 0 "<s>" (CONTROL), ids 1..256 the alphabet character
 * of bytes 0..255, id 257 "Ġa" from the one merge "Ġ a". */
enum { BL_BOS = 0, BL_GA = 257 };
#define BL(b) (1 + (b))
static void byte_level_vocab(vkmm_vocab *v, const char *pre)
{
    vkmm_error err;
    vkmm_vocab_init(v);
    if (vkmm_vocab_reserve(v, 258, false, true, 1, &err) || vkmm_vocab_set_string(v, &v->model, "gpt2", &err) ||
        vkmm_vocab_set_string(v, &v->pre, pre, &err) || vkmm_vocab_set_token(v, BL_BOS, "<s>", 3, 0, C, &err) ||
        vkmm_vocab_set_token(v, BL_GA, "\xC4\xA0" "a", 3, 0, N, &err) ||
        vkmm_vocab_set_merge(v, 0, "\xC4\xA0 a", 4, &err)) {
        CHECK(0, "vocab: %s", err.msg);
        return;
    }
    for (int b = 0; b < 256; b++) {
        char u[4];
        size_t l = vkmm_utf8_encode(vkmm_byte_to_unicode((unsigned char)b), u);
        CHECK(vkmm_vocab_set_token(v, BL(b), u, l, 0, N, &err) == VKMM_OK, "%s", err.msg);
    }
    v->bos_id = BL_BOS;
}

/* A "<s>" in the text that PARSE_SPECIAL turns into the BOS id stands for input bytes, whether or not
 * ADD_SPECIAL also put a BOS first; only vkmm_tokenizer_adds_bos says which ids the tokenizer added. The
 * fuzzer's harness once told them apart by value and dropped the parsed one: this is its input
 * (tests/fuzz/regressions/tokenizer/bpe-roundtrip-nul-spaces), with the ids worked out from each split
 * regex. The run of NULs is [^\s\p{L}\p{N}]+ after the space; the ten spaces give nine to \s+(?!\S) and
 * one to " a"; "'<" is no contraction. */
static void bpe_special_text(void)
{
    static const char text[] = "<s> \0\0\0\0\0          a'<";
    const size_t len = sizeof text - 1;
    static const int32_t rest[] = {BL_BOS, BL(' '), BL(0), BL(0), BL(0), BL(0), BL(0), BL(' '), BL(' '), BL(' '),
                                   BL(' '), BL(' '), BL(' '), BL(' '), BL(' '), BL(' '), BL_GA, BL('\''), BL('<')};
    const size_t n_rest = sizeof rest / sizeof rest[0];
    static const struct {
        const char *pre;
        bool bos; /* ADD_SPECIAL adds BOS without tokenizer.ggml.add_bos_token (llama.cpp's defaults) */
    } cases[] = {{"gpt-2", false}, {"llama-bpe", true}, {"llama3", true}, {"pixtral", true}, {"tekken", true}};
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        vkmm_vocab v;
        byte_level_vocab(&v, cases[c].pre);
        vkmm_tokenizer *tok = NULL;
        vkmm_error err;
        CHECK_OK(vkmm_tokenizer_create(&v, &tok, &err), &err, );
        CHECK(vkmm_tokenizer_adds_bos(tok) == cases[c].bos, "%s: adds_bos %d", cases[c].pre, vkmm_tokenizer_adds_bos(tok));
        vkmm_tokens ids = {0};
        CHECK(vkmm_tokenize(tok, text, len, AS | PS, &ids, &err) == VKMM_OK, "%s: %s", cases[c].pre, err.msg);
        size_t first = vkmm_tokenizer_adds_bos(tok) ? 1 : 0;
        bool same = ids.n == first + n_rest && (!first || ids.ids[0] == BL_BOS) &&
                    !memcmp(ids.ids + first, rest, sizeof rest);
        CHECK(same, "%s: %zu ids, expected %zu", cases[c].pre, ids.n, first + n_rest);
        /* the ids after the added BOS give the text back, byte for byte and through the streaming decoder */
        vkmm_text raw = {0}, out = {0};
        for (size_t i = first; i < ids.n; i++)
            CHECK(vkmm_token_bytes(tok, ids.ids[i], true, &raw, &err) == VKMM_OK, "%s", err.msg);
        CHECK(raw.len == len && !memcmp(raw.s, text, len), "%s: bytes back (%zu of %zu)", cases[c].pre, raw.len, len);
        CHECK(vkmm_detokenize(tok, ids.ids + first, ids.n - first, VKMM_DETOK_RENDER_SPECIAL, &out, &err) == VKMM_OK &&
                  out.len == len && !memcmp(out.s, text, len),
              "%s: decoded back (%zu of %zu)", cases[c].pre, out.len, len);
        /* an explicit add_bos_token = false wins over the default */
        vkmm_tokenizer_free(tok);
        v.add_bos = VKMM_FLAG_FALSE;
        CHECK_OK(vkmm_tokenizer_create(&v, &tok, &err), &err, );
        bool forced = !strcmp(cases[c].pre, "tekken"); /* Tekken adds BOS whatever the file says */
        CHECK(vkmm_tokenizer_adds_bos(tok) == forced, "%s: add_bos_token false", cases[c].pre);
        vkmm_text_free(&raw);
        vkmm_text_free(&out);
        vkmm_tokens_free(&ids);
        vkmm_tokenizer_free(tok);
        vkmm_vocab_free(&v);
    }
}

static vkmm_json_doc *parse(const char *text)
{
    vkmm_json_doc *doc = NULL;
    vkmm_error err;
    CHECK(vkmm_json_parse(text, strlen(text), "inline", NULL, &doc, &err) == VKMM_OK, "%s", err.msg);
    return doc;
}

static void converters(void)
{
    vkmm_error err;
    vkmm_vocab v;
    vkmm_tokenizer *tok;
    /* a Llama-2-style tokenizer.json: Prepend + Replace normalizer, byte fallback, BOS from the template */
    vkmm_json_doc *doc = parse(
        "{\"model\":{\"type\":\"BPE\",\"byte_fallback\":true,\"unk_token\":\"<unk>\",\"vocab\":{\"<unk>\":0,\"<s>\":1,"
        "\"</s>\":2,\"\xE2\x96\x81\":3,\"a\":4,\"b\":5,\"ab\":6,\"\xE2\x96\x81" "ab\":7,\"<0x41>\":8},"
        "\"merges\":[\"a b\",[\"\xE2\x96\x81\",\"ab\"]]},\"added_tokens\":[{\"id\":0,\"content\":\"<unk>\",\"special\":true},"
        "{\"id\":1,\"content\":\"<s>\",\"special\":true},{\"id\":2,\"content\":\"</s>\",\"special\":true},"
        "{\"id\":10,\"content\":\"<tool>\",\"special\":false}],"
        "\"normalizer\":{\"type\":\"Sequence\",\"normalizers\":[{\"type\":\"Prepend\",\"prepend\":\"\xE2\x96\x81\"},"
        "{\"type\":\"Replace\",\"pattern\":{\"String\":\" \"},\"content\":\"\xE2\x96\x81\"}]},"
        "\"post_processor\":{\"type\":\"TemplateProcessing\",\"single\":[{\"SpecialToken\":{\"id\":\"<s>\",\"type_id\":0}},"
        "{\"Sequence\":{\"id\":\"A\",\"type_id\":0}}]}}");
    vkmm_json_doc *cfg = parse("{\"chat_template\":\"{{ bos_token }}<start_of_turn>\",\"eos_token\":{\"content\":\"</s>\"}}");
    if (doc && cfg && vkmm_vocab_from_hf_json(&v, vkmm_json_root(doc), vkmm_json_root(cfg), "inline", &err) == VKMM_OK) {
        CHECK(!strcmp(v.model, "llama") && v.n_tokens == 11 && v.n_merges == 0, "SPM layout, %u tokens", v.n_tokens);
        CHECK(v.add_space_prefix == VKMM_FLAG_TRUE && v.add_bos == VKMM_FLAG_TRUE && v.add_eos == VKMM_FLAG_FALSE,
              "flags");
        CHECK(v.bos_id == 1 && v.eos_id == 2 && v.unk_id == 0, "ids %lld %lld %lld", (long long)v.bos_id,
              (long long)v.eos_id, (long long)v.unk_id);
        CHECK(v.types[0] == VKMM_TOKEN_UNKNOWN && v.types[1] == C && v.types[8] == B && v.types[10] == U &&
                  v.types[9] == VKMM_TOKEN_UNUSED && v.types[6] == N,
              "types");
        CHECK(!strcmp(v.tokens[9].s, "[PAD9]"), "a hole is a [PAD] slot");
        CHECK(v.scores[6] == 0.0f && v.scores[7] == -1.0f && v.scores[4] == -(2.0f + 4), "scores from merge ranks");
        CHECK(v.chat_template && strstr(v.chat_template, "<start_of_turn>"), "chat template from the config");
        CHECK_OK(vkmm_tokenizer_create(&v, &tok, &err), &err, );
        IDS(tok, "ab", AS, 1, 7);
        IDS(tok, "ab<tool>ab", 0, 7, 10, 7);
        vkmm_tokenizer_free(tok);
        vkmm_vocab_free(&v);
    } else {
        CHECK(0, "tokenizer.json conversion: %s", err.msg);
    }
    vkmm_json_free(doc);
    vkmm_json_free(cfg);
    const struct {
        const char *json;
        vkmm_status status;
        const char *word;
    } bad_hf[] = {
        {"[]", VKMM_ERR_FORMAT, "object"},
        {"{}", VKMM_ERR_FORMAT, "model"},
        {"{\"model\":{\"type\":\"Unigram\",\"vocab\":[]}}", VKMM_ERR_UNSUPPORTED, "Unigram"},
        {"{\"model\":{\"type\":\"BPE\"}}", VKMM_ERR_FORMAT, "vocab"},
        {"{\"model\":{\"type\":\"BPE\",\"vocab\":{\"a\":-1}}}", VKMM_ERR_FORMAT, "invalid id"},
        {"{\"model\":{\"type\":\"BPE\",\"vocab\":{\"a\":0},\"merges\":[7]}}", VKMM_ERR_FORMAT, "merge 0"},
        {"{\"model\":{\"type\":\"BPE\",\"vocab\":{\"a\":0}},\"pre_tokenizer\":{\"type\":\"Split\",\"pattern\":"
         "{\"Regex\":\"\\\\w+\"}},\"decoder\":{\"type\":\"ByteLevel\"}}",
         VKMM_ERR_UNSUPPORTED, "pattern"},
    };
    for (size_t i = 0; i < sizeof bad_hf / sizeof bad_hf[0]; i++) {
        doc = parse(bad_hf[i].json);
        vkmm_status s = vkmm_vocab_from_hf_json(&v, vkmm_json_root(doc), NULL, "bad.json", &err);
        CHECK(s == bad_hf[i].status && strstr(err.msg, bad_hf[i].word) && v.n_tokens == 0,
              "tokenizer.json case %zu: status %d: %s", i, s, s ? err.msg : "");
        if (!s)
            vkmm_vocab_free(&v);
        vkmm_json_free(doc);
    }

    /* tekken.json: ranks after the special tokens, merges derived from the ranks */
    doc = parse("{\"config\":{\"default_vocab_size\":8,\"default_num_special_tokens\":3},\"vocab\":["
                "{\"rank\":0,\"token_bytes\":\"YQ==\"},{\"rank\":1,\"token_bytes\":\"Yg==\"},{\"rank\":2,\"token_bytes\":\"IA==\"},"
                "{\"rank\":3,\"token_bytes\":\"YWI=\"},{\"rank\":4,\"token_bytes\":\"IGFi\"},{\"rank\":5,\"token_bytes\":\"eHg=\"}],"
                "\"special_tokens\":[{\"rank\":0,\"token_str\":\"<unk>\"},{\"rank\":1,\"token_str\":\"<s>\"},"
                "{\"rank\":2,\"token_str\":\"[INST]\"}]}");
    if (doc && vkmm_vocab_from_tekken_json(&v, vkmm_json_root(doc), "inline", &err) == VKMM_OK) {
        CHECK(v.n_tokens == 8 && !strcmp(v.model, "gpt2") && !strcmp(v.pre, "tekken") && !v.scores, "tekken layout");
        CHECK(!strcmp(v.tokens[5].s, "\xC4\xA0") && !strcmp(v.tokens[7].s, "\xC4\xA0" "ab") && v.types[2] == C,
              "byte alphabet texts");
        CHECK(v.n_merges == 2 && !strcmp(v.merges[0].s, "a b") && !strcmp(v.merges[1].s, "\xC4\xA0 ab"),
              "derived merges (%u)", v.n_merges);
        CHECK_OK(vkmm_tokenizer_create(&v, &tok, &err), &err, );
        IDS(tok, " ab[INST]", AS | PS, 1, 7, 2);
        IDS(tok, "bab", 0, 4, 6);
        vkmm_tokenizer_free(tok);
        vkmm_vocab_free(&v);
    } else {
        CHECK(0, "tekken.json conversion: %s", err.msg);
    }
    vkmm_json_free(doc);
    const struct {
        const char *json;
        const char *word;
    } bad_tk[] = {
        {"{\"config\":{\"default_vocab_size\":5,\"default_num_special_tokens\":3},\"vocab\":[{\"rank\":0,\"token_bytes\":\"YQ==\"}]}",
         "rank 1 is missing"},
        {"{\"config\":{\"default_vocab_size\":5,\"default_num_special_tokens\":3},\"vocab\":[{\"rank\":0,\"token_bytes\":\"Y\"}]}",
         "base64"},
        {"{\"config\":{\"default_vocab_size\":5,\"default_num_special_tokens\":3},\"vocab\":[{\"rank\":0,\"token_bytes\":\"YQ==\"},"
         "{\"rank\":0,\"token_bytes\":\"Yg==\"}]}",
         "twice"},
        {"{\"config\":{\"default_vocab_size\":5,\"default_num_special_tokens\":3,\"pattern\":\"\\\\w+\"},\"vocab\":[]}", "pattern"},
        {"{\"config\":{\"default_vocab_size\":2,\"default_num_special_tokens\":3},\"vocab\":[]}", "make no sense"},
        {"{\"config\":{}}", "neither"},
        {"{\"config\":{\"default_vocab_size\":5,\"default_num_special_tokens\":3},\"bpe_ranks\":\"! 0 YQ== Yg==\\nx\"}",
         "'!'"},
    };
    for (size_t i = 0; i < sizeof bad_tk / sizeof bad_tk[0]; i++) {
        doc = parse(bad_tk[i].json);
        vkmm_status s = vkmm_vocab_from_tekken_json(&v, vkmm_json_root(doc), "bad.json", &err);
        CHECK(s != VKMM_OK && strstr(err.msg, bad_tk[i].word) && v.n_tokens == 0, "tekken case %zu: %s", i,
              s ? err.msg : "accepted");
        if (!s)
            vkmm_vocab_free(&v);
        vkmm_json_free(doc);
    }
    /* the compact js-tiktoken form */
    doc = parse("{\"config\":{\"default_vocab_size\":5,\"default_num_special_tokens\":3},\"bpe_ranks\":\"! 0 YQ== Yg==\\n\"}");
    CHECK(doc && vkmm_vocab_from_tekken_json(&v, vkmm_json_root(doc), "inline", &err) == VKMM_OK &&
              !strcmp(v.tokens[4].s, "b") && !strcmp(v.tokens[1].s, "<s>") && !strcmp(v.tokens[2].s, "</s>"),
          "compact ranks with the v7 special layout");
    vkmm_vocab_free(&v);
    vkmm_json_free(doc);
}

int main(void)
{
    spm();
    bpe();
    bpe_special_text();
    converters();
    return test_finish("tokenizer");
}
