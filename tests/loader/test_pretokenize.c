/* tests/loader/test_pretokenize.c — the hand-written Tekken, Llama 3 and GPT-2 splits against the splits the
 * patterns themselves give (tests/data/tokenizer/pretokenize.jsonl, made by a regex engine), plus cases
 * written out by hand. usage: test_pretokenize PRETOKENIZE.jsonl */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "json.h"
#include "pretokenize.h"

/* want_len may be NULL (then the pieces are NUL-terminated strings) */
static int check_split(vkmm_pretok_kind kind, const char *text, size_t len, const char *const *want,
                       const size_t *want_len, size_t n_want, const char *where)
{
    vkmm_pieces got = {0};
    vkmm_error err;
    if (vkmm_pretokenize(kind, text, len, &got, &err)) {
        CHECK(0, "%s: %s", where, err.msg);
        return 1;
    }
    bool same = got.n == n_want;
    for (size_t i = 0; same && i < got.n; i++)
        same = got.v[i].len == (want_len ? want_len[i] : strlen(want[i])) && !memcmp(text + got.v[i].start, want[i], got.v[i].len);
    if (!same) {
        test_failures++;
        fprintf(stderr, "MISMATCH %s (%s) \"%.*s\"\n  expected:", where, vkmm_pretok_name(kind), (int)(len < 120 ? len : 120),
                text);
        for (size_t i = 0; i < n_want && i < 40; i++)
            fprintf(stderr, " [%s]", want[i]);
        fprintf(stderr, "\n  got:     ");
        for (size_t i = 0; i < got.n && i < 40; i++)
            fprintf(stderr, " [%.*s]", (int)got.v[i].len, text + got.v[i].start);
        fputc('\n', stderr);
    }
    vkmm_pieces_free(&got);
    return !same;
}

#define SPLIT(kind, text, ...)                                                                      \
    do {                                                                                            \
        static const char *const w_[] = {__VA_ARGS__};                                              \
        check_split(kind, text, strlen(text), w_, NULL, sizeof w_ / sizeof w_[0], __FILE__ ":" #kind);    \
    } while (0)

static void by_hand(void)
{
    /* GPT-2: contractions, optional space before letters / digits / symbols, trailing spaces left alone */
    SPLIT(VKMM_PRETOK_GPT2, "Hello world  foo's 123!!", "Hello", " world", " ", " foo", "'s", " 123", "!!");
    SPLIT(VKMM_PRETOK_GPT2, "a  \n b", "a", "  \n", " b");
    SPLIT(VKMM_PRETOK_GPT2, "I'M", "I", "'", "M"); /* case-sensitive contractions */
    /* Llama 3: case-insensitive contractions, digits in threes, newline runs */
    SPLIT(VKMM_PRETOK_LLAMA3, "I'M 12345\n\n x", "I", "'M", " ", "123", "45", "\n\n", " x");
    SPLIT(VKMM_PRETOK_LLAMA3, "  hello.\r\n", " ", " hello", ".\r\n");
    /* Tekken: one digit per piece, ALL-CAPS words, Title words, symbols keep trailing newlines and slashes */
    SPLIT(VKMM_PRETOK_TEKKEN, "HTTPServer 2024", "HTTPServer", " ", "2", "0", "2", "4");
    SPLIT(VKMM_PRETOK_TEKKEN, "HELLO world", "HELLO", " world");
    SPLIT(VKMM_PRETOK_TEKKEN, "a//\nb", "a", "//\n", "b");
    SPLIT(VKMM_PRETOK_TEKKEN, "x   \n\n  y", "x", "   \n\n", " ", " y");
    SPLIT(VKMM_PRETOK_TEKKEN, "end  ", "end", "  ");
    /* invalid UTF-8 bytes are symbols */
    SPLIT(VKMM_PRETOK_TEKKEN, "a\xff\xfe b", "a", "\xff\xfe", " b");
    SPLIT(VKMM_PRETOK_NONE, "any thing", "any thing");
    vkmm_pretok_kind k;
    CHECK(vkmm_pretok_from_name("tekken", &k) && k == VKMM_PRETOK_TEKKEN, "tekken name");
    CHECK(vkmm_pretok_from_name("llama-bpe", &k) && k == VKMM_PRETOK_LLAMA3, "llama-bpe name");
    CHECK(!vkmm_pretok_from_name("qwen2", &k), "unknown names are refused");
}

int main(int argc, char **argv)
{
    by_hand();
    if (argc != 2) {
        fprintf(stderr, "usage: %s PRETOKENIZE.jsonl\n", argv[0]);
        return 1;
    }
    vkmm_error err;
    vkmm_json_doc *doc = NULL;
    char *data;
    size_t len, lines = 0;
    CHECK_OK(vkmm_read_file(argv[1], (size_t)64 << 20, &data, &len, &err), &err, 1);
    for (char *line = data, *next; line < data + len; line = next) {
        char *eol = memchr(line, '\n', (size_t)(data + len - line));
        next = eol ? eol + 1 : data + len;
        size_t ll = (size_t)((eol ? eol : data + len) - line);
        if (!ll)
            continue;
        lines++;
        CHECK_OK(vkmm_json_parse(line, ll, argv[1], NULL, &doc, &err), &err, 1);
        const vkmm_json *r = vkmm_json_root(doc), *pieces = vkmm_json_get(r, "pieces");
        const char *kind = vkmm_json_string(vkmm_json_get(r, "kind"), NULL);
        size_t tlen;
        const char *text = vkmm_json_string(vkmm_json_get(r, "text"), &tlen);
        vkmm_pretok_kind k = VKMM_PRETOK_NONE;
        if (kind && !strcmp(kind, "llama3"))
            k = VKMM_PRETOK_LLAMA3;
        else if (kind && !strcmp(kind, "gpt2"))
            k = VKMM_PRETOK_GPT2;
        else if (kind && !strcmp(kind, "tekken"))
            k = VKMM_PRETOK_TEKKEN;
        CHECK(k != VKMM_PRETOK_NONE && text && pieces && pieces->type == VKMM_JSON_ARRAY, "line %zu malformed", lines);
        if (k != VKMM_PRETOK_NONE && text && pieces && pieces->type == VKMM_JSON_ARRAY) {
            const char **want = malloc((pieces->u.arr.n + 1) * sizeof *want);
            size_t *want_len = malloc((pieces->u.arr.n + 1) * sizeof *want_len);
            for (size_t i = 0; i < pieces->u.arr.n; i++) {
                want[i] = vkmm_json_string(&pieces->u.arr.items[i], &want_len[i]);
                if (!want[i]) {
                    want[i] = "";
                    want_len[i] = 0;
                }
            }
            char where[64];
            snprintf(where, sizeof where, "line %zu", lines);
            check_split(k, text, tlen, want, want_len, pieces->u.arr.n, where);
            free(want);
            free(want_len);
        }
        vkmm_json_free(doc);
    }
    free(data);
    printf("%zu split vectors\n", lines);
    CHECK(lines >= 900, "only %zu split vectors", lines);
    return test_finish("pretokenize");
}
