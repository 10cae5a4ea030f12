/* loader/vocab_file.c — a vocabulary from a GGUF model, a tokenizer.json or a tekken.json (vocab_file.h). */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "hf_tokenizer.h"
#include "json.h"
#include "vocab_file.h"
#include "vocab_gguf.h"

static bool has_gguf_magic(const char *path)
{
    char magic[4] = {0};
    FILE *f = fopen(path, "rb");
    if (!f)
        return false;
    size_t n = fread(magic, 1, 4, f);
    fclose(f);
    return n == 4 && !memcmp(magic, "GGUF", 4);
}

vkmm_status vkmm_vocab_from_file(vkmm_vocab *v, const char *path, const char *config, vkmm_error *err)
{
    if (has_gguf_magic(path)) {
        vkmm_gguf *g;
        vkmm_status s = vkmm_gguf_open(path, &g, err);
        if (!s)
            s = vkmm_vocab_from_gguf(v, g, err);
        vkmm_gguf_close(g);
        return s;
    }
    vkmm_json_doc *doc = NULL;
    vkmm_status s = vkmm_json_parse_file(path, NULL, &doc, err);
    if (s)
        return s;
    const vkmm_json *model = vkmm_json_get(vkmm_json_root(doc), "model");
    bool hf = model && model->type == VKMM_JSON_OBJECT;
    if (!hf && config)
        s = vkmm_fail(err, VKMM_ERR_INVALID_ARG, "%s: a tokenizer config goes with a Hugging Face tokenizer.json, and "
                      "this file has no \"model\"", path);
    else if (!hf)
        s = vkmm_vocab_from_tekken_json(v, vkmm_json_root(doc), path, err);
    else
        s = vkmm_vocab_from_hf_parsed(v, vkmm_json_root(doc), path, config, err);
    vkmm_json_free(doc);
    return s;
}
