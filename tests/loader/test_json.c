/* tests/loader/test_json.c — the JSON reader: values and escapes decoded exactly, limits enforced, and every
 * malformed input refused with a message naming the line and column. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "json.h"

static vkmm_json_doc *ok(const char *text, size_t len)
{
    vkmm_json_doc *doc = NULL;
    vkmm_error err = {0};
    vkmm_status s = vkmm_json_parse(text, len, "t.json", NULL, &doc, &err);
    CHECK(s == VKMM_OK, "valid JSON refused: %.60s: %s", text, err.msg);
    return doc;
}

/* Parses bad JSON and checks the error names the expected "t.json:line:col" and contains a word. */
static void bad(const char *text, const char *where, const char *word, const vkmm_json_limits *lim)
{
    vkmm_json_doc *doc = NULL;
    vkmm_error err = {0};
    vkmm_status s = vkmm_json_parse(text, strlen(text), "t.json", lim, &doc, &err);
    CHECK(s == VKMM_ERR_FORMAT && !doc, "malformed JSON accepted: %.60s", text);
    if (s == VKMM_ERR_FORMAT) {
        CHECK(strstr(err.msg, where) != NULL, "error for %.40s should name %s: %s", text, where, err.msg);
        CHECK(strstr(err.msg, word) != NULL, "error for %.40s should say '%s': %s", text, word, err.msg);
    }
    vkmm_json_free(doc);
}

static void values(void)
{
    const char *t = "{\"a\": [1, -2.5e3, 0, -0, 1e-2, 123456789012345678], \"b\": true, \"c\": false, \"d\": null,"
                    " \"e\": {}, \"f\": [], \"a\": \"second\"}";
    vkmm_json_doc *doc = ok(t, strlen(t));
    if (!doc)
        return;
    const vkmm_json *r = vkmm_json_root(doc);
    CHECK(r->type == VKMM_JSON_OBJECT && r->u.obj.n == 7, "object of 7 members");
    const vkmm_json *a = &r->u.obj.members[0].value;
    CHECK(a->type == VKMM_JSON_ARRAY && a->u.arr.n == 6, "array of 6");
    int64_t i;
    CHECK(vkmm_json_int(&a->u.arr.items[0], &i) && i == 1, "1");
    CHECK(a->u.arr.items[1].u.num.v == -2500.0 && !a->u.arr.items[1].u.num.is_int, "-2.5e3");
    CHECK(vkmm_json_int(&a->u.arr.items[5], &i) && i == 123456789012345678LL, "large integer kept exactly");
    CHECK(a->u.arr.items[4].u.num.v == 0.01, "1e-2");
    bool b;
    CHECK(vkmm_json_bool(vkmm_json_get(r, "b"), &b) && b, "true");
    CHECK(vkmm_json_bool(vkmm_json_get(r, "c"), &b) && !b, "false");
    CHECK(vkmm_json_get(r, "d")->type == VKMM_JSON_NULL, "null");
    CHECK(!strcmp(vkmm_json_string(vkmm_json_get(r, "a"), NULL), "second"), "a repeated key gives the last value");
    CHECK(vkmm_json_get(r, "zz") == NULL && vkmm_json_get(a, "a") == NULL, "absent keys, non-objects");
    CHECK(vkmm_json_get(r, "f")->line == 1 && vkmm_json_get(r, "b")->col > 1, "positions recorded");
    vkmm_json_free(doc);

    /* escapes: every short one, \u in BMP, a surrogate pair, an escaped NUL kept with its length */
    const char *e = "\"q\\\" b\\\\ s\\/ \\b\\f\\n\\r\\t \\u00e9 \\u20AC \\ud83d\\ude00 \\u0000end\"";
    doc = ok(e, strlen(e));
    if (doc) {
        size_t n;
        const char *s = vkmm_json_string(vkmm_json_root(doc), &n);
        const char want[] = "q\" b\\ s/ \b\f\n\r\t \xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80 \0end";
        CHECK(n == sizeof want - 1 && !memcmp(s, want, n), "escapes decoded (%zu bytes)", n);
        vkmm_json_free(doc);
    }
    /* raw UTF-8, a BOM, surrounding whitespace, scalars at the top */
    doc = ok("\xEF\xBB\xBF \r\n\t[\"\xE6\x97\xA5\xF0\x9F\x98\x80\"] \n", 20);
    if (doc) {
        CHECK(!strcmp(vkmm_json_root(doc)->u.arr.items[0].u.str.s, "\xE6\x97\xA5\xF0\x9F\x98\x80"), "raw UTF-8 kept");
        vkmm_json_free(doc);
    }
    doc = ok("42", 2);
    vkmm_json_free(doc);
    /* the text need not be NUL-terminated: parse a prefix */
    doc = ok("[1]garbage", 3);
    vkmm_json_free(doc);
    /* depth exactly at the limit is fine, one more is not */
    vkmm_json_limits lim = {.max_depth = 4};
    vkmm_json_doc *d2 = NULL;
    vkmm_error err;
    CHECK(vkmm_json_parse("[[[[1]]]]", 9, "t.json", &lim, &d2, &err) == VKMM_OK, "depth 4 within a limit of 4");
    vkmm_json_free(d2);
    bad("[[[[[1]]]]]", "t.json:1:5", "deeper", &lim);
}

static void malformed(void)
{
    bad("", "t.json:1:1", "end of input", NULL);
    bad("   ", "t.json:1:4", "end of input", NULL);
    bad("{", "t.json:1:1", "unterminated object", NULL);
    bad("[1, 2", "t.json:1:1", "unterminated array", NULL);
    bad("[1 2]", "t.json:1:4", "expected ',' or ']'", NULL);
    bad("[1,]", "t.json:1:4", "a value was expected", NULL);
    bad("{\"a\" 1}", "t.json:1:6", "expected ':'", NULL);
    bad("{\"a\":1,}", "t.json:1:8", "string key", NULL);
    bad("{a:1}", "t.json:1:2", "string key", NULL);
    bad("{\"a\":1 \"b\":2}", "t.json:1:8", "expected ',' or '}'", NULL);
    bad("\"abc", "t.json:1:1", "unterminated string", NULL);
    bad("\"a\nb\"", "t.json:1:3", "control character", NULL);
    bad("\"\\x41\"", "t.json:1:2", "invalid escape", NULL);
    bad("\"\\u12G4\"", "t.json:1:2", "four hex digits", NULL);
    bad("\"\\u12\"", "t.json:1:2", "four hex digits", NULL);
    bad("\"\\ud83d\"", "t.json:1:2", "low surrogate", NULL);
    bad("\"\\ud83d\\u0041\"", "t.json:1:2", "low surrogate", NULL);
    bad("\"\\ude00\"", "t.json:1:2", "unpaired low surrogate", NULL);
    bad("\"\xC3\"", "t.json:1:2", "invalid UTF-8", NULL);
    bad("\"\xC0\xAF\"", "t.json:1:2", "invalid UTF-8", NULL);       /* overlong */
    bad("\"\xED\xA0\x80\"", "t.json:1:2", "invalid UTF-8", NULL);   /* encoded surrogate */
    bad("\"\xF4\x90\x80\x80\"", "t.json:1:2", "invalid UTF-8", NULL); /* past U+10FFFF */
    bad("01", "t.json:1:1", "leading zero", NULL);
    bad("-", "t.json:1:1", "digit expected", NULL);
    bad("1.", "t.json:1:3", "after '.'", NULL);
    bad("1e", "t.json:1:3", "exponent", NULL);
    bad("+1", "t.json:1:1", "unexpected '+'", NULL);
    bad("1e999", "t.json:1:1", "out of range", NULL);
    bad("NaN", "t.json:1:1", "unexpected 'N'", NULL);
    bad("tru", "t.json:1:1", "unexpected 't'", NULL);
    bad("nul", "t.json:1:1", "unexpected 'n'", NULL);
    bad("[1] [2]", "t.json:1:5", "after the end", NULL);
    bad("{\"a\":\n  [1,\n   2,\n   x]}", "t.json:4:4", "a value was expected", NULL); /* lines and columns */
    bad("[\"\xE6\x97\xA5\xE6\x97\xA5\", @]", "t.json:1:8", "unexpected '@'", NULL); /* columns count characters */
    bad("[1]\x01", "t.json:1:4", "byte 0x01", NULL);
    vkmm_json_limits small = {.max_string = 3};
    bad("\"abcd\"", "t.json:1:1", "exceeds the limit", &small);
    vkmm_json_limits few = {.max_values = 3};
    bad("[1,2,3]", "t.json:1:6", "more than 3 values", &few);
    vkmm_json_limits tiny = {.max_input = 4};
    vkmm_json_doc *doc = NULL;
    vkmm_error err;
    CHECK(vkmm_json_parse("[1,2]", 5, "t.json", &tiny, &doc, &err) == VKMM_ERR_FORMAT && strstr(err.msg, "limit"),
          "input size limit");
    /* a deep nest of 100000 brackets is refused by the default limit without exhausting the stack */
    size_t n = 100000;
    char *deep = malloc(2 * n);
    memset(deep, '[', n);
    memset(deep + n, ']', n);
    CHECK(vkmm_json_parse(deep, 2 * n, "t.json", NULL, &doc, &err) == VKMM_ERR_FORMAT && strstr(err.msg, "deeper"),
          "deep nesting refused");
    free(deep);
    CHECK(vkmm_json_parse_file("/nonexistent/x.json", NULL, &doc, &err) == VKMM_ERR_IO &&
              strstr(err.msg, "/nonexistent/x.json"),
          "a missing file is an I/O error naming it");
}

/* Random byte strings and random mutations of valid documents never crash and either parse or fail cleanly. */
static void random_inputs(void)
{
    test_rng rng = test_rng_seed(7);
    const char *base = "{\"k\": [1, 2.5, \"s\\u00e9\", true, null, {\"x\": -3}], \"z\": \"\\ud83d\\ude00\"}";
    size_t bl = strlen(base);
    char buf[256];
    for (int it = 0; it < 20000; it++) {
        size_t n;
        if (it % 2) {
            memcpy(buf, base, bl);
            n = bl;
            for (int k = 0; k < 1 + (int)(test_rand_u32(&rng) % 3); k++)
                buf[test_rand_u32(&rng) % n] = (char)test_rand_u32(&rng);
            n = test_rand_u32(&rng) % (n + 1);
        } else {
            n = test_rand_u32(&rng) % 64;
            for (size_t i = 0; i < n; i++)
                buf[i] = "[]{}\",:0123456789.eE-+tfnrul\\ \n"[test_rand_u32(&rng) % 32];
        }
        vkmm_json_doc *doc = NULL;
        vkmm_error err = {0};
        vkmm_status s = vkmm_json_parse(buf, n, "r.json", NULL, &doc, &err);
        CHECK(s == VKMM_OK || (s == VKMM_ERR_FORMAT && !strncmp(err.msg, "r.json:", 7)), "iteration %d: status %d: %s", it,
              s, err.msg);
        CHECK((s == VKMM_OK) == (doc != NULL), "a document exactly when the parse succeeds");
        vkmm_json_free(doc);
    }
}

int main(void)
{
    values();
    malformed();
    random_inputs();
    return test_finish("json");
}
