/* tests/loader/test_manifest.c — YAML model manifests: every key parsed with its exact value, paths resolved
 * against the manifest's folder, optional keys left unset, and errors that name the file and the right line
 * (types, ranges, unknown and duplicate keys, aliases, size cap, missing files). */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "harness.h"
#include "manifest.h"

static vkmm_status parse(const char *text, vkmm_manifest *m, vkmm_error *err)
{
    return vkmm_manifest_parse(text, strlen(text), "m.yaml", NULL, m, err);
}

static void full(void)
{
    const char *text = "# a comment\n"
                       "model: gemma-3-4b-it-Q4_K_M.gguf\n"
                       "mmproj: mmproj-gemma-3-4b-it-f16.gguf   # optional\n"
                       "chat_template: gemma3\n"
                       "context: 4096\n"
                       "system: \"You are a helpful assistant.\"\n"
                       "sampling: {temperature: 0.0, top_k: 40, top_p: 0.95, min_p: 0.05, repeat_penalty: 1.1, "
                       "seed: 18446744073709551615}\n"
                       "max_tokens: 256\n"
                       "image_max_tokens: 1024\n";
    vkmm_manifest m;
    vkmm_error err;
    CHECK_OK(parse(text, &m, &err), &err, );
    CHECK(!strcmp(m.model, "gemma-3-4b-it-Q4_K_M.gguf") && m.model_line == 2, "model %s line %u", m.model,
          m.model_line);
    CHECK(!strcmp(m.mmproj, "mmproj-gemma-3-4b-it-f16.gguf") && m.mmproj_line == 3, "mmproj");
    CHECK(!strcmp(m.chat_template, "gemma3") && !strcmp(m.system, "You are a helpful assistant."), "strings");
    CHECK(m.context == 4096 && m.max_tokens == 256 && m.image_max_tokens == 1024, "ints");
    CHECK(m.temperature == 0.0f && m.top_k == 40 && m.top_p == 0.95f && m.min_p == 0.05f &&
              m.repeat_penalty == 1.1f && m.seed == UINT64_MAX,
          "sampling %g %d %g %g %g %llu", (double)m.temperature, m.top_k, (double)m.top_p, (double)m.min_p,
          (double)m.repeat_penalty, (unsigned long long)m.seed);
    uint32_t all = VKMM_MANIFEST_MMPROJ | VKMM_MANIFEST_CHAT_TEMPLATE | VKMM_MANIFEST_CONTEXT | VKMM_MANIFEST_SYSTEM |
                   VKMM_MANIFEST_MAX_TOKENS | VKMM_MANIFEST_IMAGE_MAX_TOKENS | VKMM_MANIFEST_TEMPERATURE |
                   VKMM_MANIFEST_TOP_K | VKMM_MANIFEST_TOP_P | VKMM_MANIFEST_MIN_P | VKMM_MANIFEST_REPEAT_PENALTY |
                   VKMM_MANIFEST_SEED;
    CHECK(m.set == all, "set bits %x, want %x", m.set, all);
    vkmm_manifest_free(&m);
}

static void minimal_and_block_styles(void)
{
    vkmm_manifest m;
    vkmm_error err;
    CHECK_OK(parse("model: a.gguf\n", &m, &err), &err, );
    CHECK(m.set == 0 && !m.mmproj && !m.system && m.context == 0, "minimal manifest sets more than model");
    vkmm_manifest_free(&m);
    CHECK_OK(parse("model: a.gguf\nmmproj: ~\nsystem: |\n  line one\n  line two\nsampling:\n  top_k: 0\n  "
                   "temperature: 1e-1\n",
                   &m, &err),
             &err, );
    CHECK(!m.mmproj && !(m.set & VKMM_MANIFEST_MMPROJ), "null mmproj set");
    CHECK(m.system && !strcmp(m.system, "line one\nline two\n"), "block scalar: '%s'", m.system ? m.system : "");
    CHECK(m.top_k == 0 && m.temperature == 0.1f && (m.set & VKMM_MANIFEST_TOP_K), "block sampling");
    vkmm_manifest_free(&m);
    CHECK_OK(parse("{model: 'x y.gguf', context: +8}", &m, &err), &err, );
    CHECK(!strcmp(m.model, "x y.gguf") && m.context == 8, "flow style");
    vkmm_manifest_free(&m);
}

/* Each bad manifest must fail with VKMM_ERR_FORMAT, name m.yaml and the given line, and contain `words`. */
static void bad(const char *text, unsigned line, const char *words)
{
    vkmm_manifest m;
    vkmm_error err = {0};
    vkmm_status s = parse(text, &m, &err);
    char where[32];
    snprintf(where, sizeof where, "m.yaml:%u:", line);
    CHECK(s == VKMM_ERR_FORMAT && strstr(err.msg, where) && strstr(err.msg, words),
          "%s -> status %d, message '%s' (want line %u and '%s')", text, (int)s, err.msg, line, words);
    CHECK(m.model == NULL && m.path == NULL, "output left allocated after an error");
    if (!s)
        vkmm_manifest_free(&m);
}

static void errors(void)
{
    bad("model: a.gguf\ncontext: -1\n", 2, "between 1 and 16777216, got -1");
    bad("model: a.gguf\ncontext: 16777217\n", 2, "between 1 and 16777216");
    bad("model: a.gguf\ncontext: \"4096\"\n", 2, "not the string");
    bad("model: a.gguf\ncontext: 4096.5\n", 2, "integer");
    bad("model: a.gguf\nsampling:\n  top_p: 1.0001\n", 3, "top_p");
    bad("model: a.gguf\nsampling:\n  temperature: -0.1\n", 3, "temperature");
    bad("model: a.gguf\nsampling:\n  min_p: nan\n", 3, "min_p");
    bad("model: a.gguf\nsampling:\n  repeat_penalty: 0\n", 3, "above 0");
    bad("model: a.gguf\nsampling:\n  top_k: -1\n", 3, "top_k");
    bad("model: a.gguf\nsampling:\n  seed: 1.5\n", 3, "seed");
    bad("model: a.gguf\nsampling:\n  seed: !!str 5\n", 3, "seed");
    bad("model: a.gguf\n\n\ncontxt: 5\n", 4, "unknown key `contxt`");
    bad("model: a.gguf\nsampling: {top_k: 1}\nsampling: {top_k: 2}\n", 3, "duplicate key `sampling`");
    bad("model: a.gguf\nsystem: [a]\n", 2, "not a list");
    bad("model: &x a.gguf\nmmproj: *x\n", 2, "aliases");
    bad("model: a.gguf\nchat_template: \"gemma 3\"\n", 2, "template name");
    bad("context: 5\n", 1, "`model` is missing");
    bad("model: a.gguf\nmodel: b.gguf\n", 2, "duplicate");
    bad("model: a.gguf\n  x: 1\n", 2, "YAML error");
    bad("- model: a.gguf\n", 1, "not a list");
    bad("model: a.gguf\n---\nmodel: b.gguf\n", 2, "one YAML document");
    bad("model: \"a\\0b\"\n", 1, "NUL");
}

static void size_cap_and_files(void)
{
    vkmm_manifest m;
    vkmm_error err;
    size_t n = VKMM_MANIFEST_MAX_BYTES + 1;
    char *big = malloc(n);
    memset(big, '#', n);
    big[n - 1] = '\n';
    CHECK(vkmm_manifest_parse(big, n, "big.yaml", NULL, &m, &err) == VKMM_ERR_FORMAT && strstr(err.msg, "big.yaml"),
          "oversized manifest: %s", err.msg);
    free(big);

    char dir[] = "/tmp/vkmm-test-manifest-XXXXXX";
    CHECK(mkdtemp(dir) != NULL, "mkdtemp");
    char sub[128], yaml[160], model[192], mmproj[192];
    snprintf(sub, sizeof sub, "%s/models", dir);
    mkdir(sub, 0755);
    snprintf(model, sizeof model, "%s/models/m.gguf", dir);
    snprintf(mmproj, sizeof mmproj, "%s/p.gguf", dir);
    FILE *f = fopen(model, "w");
    fputs("x", f);
    fclose(f);
    f = fopen(mmproj, "w");
    fputs("x", f);
    fclose(f);
    snprintf(yaml, sizeof yaml, "%s/models/run.yaml", dir);
    f = fopen(yaml, "w");
    fprintf(f, "model: m.gguf\nmmproj: %s\n", mmproj); /* relative and absolute */
    fclose(f);
    if (vkmm_manifest_load(yaml, &m, &err) == VKMM_OK) {
        CHECK(!strcmp(m.model, model) && !strcmp(m.mmproj, mmproj) && !strcmp(m.path, yaml), "resolved %s %s",
              m.model, m.mmproj);
        vkmm_manifest_free(&m);
    } else {
        CHECK(0, "load: %s", err.msg);
    }
    f = fopen(yaml, "w");
    fprintf(f, "model: m.gguf\n\nmmproj: nope.gguf\n");
    fclose(f);
    CHECK(vkmm_manifest_load(yaml, &m, &err) == VKMM_ERR_IO && strstr(err.msg, "run.yaml:3:") &&
              strstr(err.msg, "nope.gguf"),
          "missing mmproj: %s", err.msg);
    f = fopen(yaml, "w");
    fprintf(f, "model: .\n");
    fclose(f);
    CHECK(vkmm_manifest_load(yaml, &m, &err) == VKMM_ERR_IO && strstr(err.msg, "not a regular file"),
          "directory as model: %s", err.msg);
    unlink(yaml);
    CHECK(vkmm_manifest_load(yaml, &m, &err) == VKMM_ERR_IO && strstr(err.msg, "run.yaml"), "missing manifest: %s",
          err.msg);
    unlink(model);
    unlink(mmproj);
    rmdir(sub);
    rmdir(dir);
}

int main(void)
{
    full();
    minimal_and_block_styles();
    errors();
    size_cap_and_files();
    return test_finish("loader-manifest");
}
