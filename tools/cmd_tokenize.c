/* tools/cmd_tokenize.c — `vkmm tokenize`: text to token ids (or pieces) with the model's own tokenizer, for
 * checking prompts and comparing against other implementations. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "loader/detokenize.h"
#include "loader/hf_tokenizer.h"
#include "loader/json.h"
#include "loader/tokenizer.h"
#include "loader/vocab_gguf.h"

static void usage(FILE *f)
{
    fprintf(f, "usage: vkmm tokenize (-m MODEL.gguf | --tokenizer-json FILE [--tokenizer-config FILE] |\n"
               "                      --tekken-json FILE) (-p TEXT | -f FILE) [--ids] [--no-bos] [--special]\n"
               "  --ids      print only the ids, as a JSON array\n"
               "  --no-bos   do not add BOS/EOS (by default they are added as the vocabulary says)\n"
               "  --special  recognise control-token texts (<start_of_turn>, [INST], ...) in the text\n");
}

typedef struct opts {
    const char *model, *hf_json, *hf_config, *tekken, *prompt, *file;
    bool ids, no_bos, special;
} opts;

/* The vocabulary source. A GGUF arrives through the GGUF reader's vocabulary adapter. */
static vkmm_status load_vocab(const opts *o, vkmm_vocab *v, vkmm_error *err)
{
    if (o->hf_json)
        return vkmm_vocab_from_hf_file(v, o->hf_json, o->hf_config, err);
    if (o->tekken)
        return vkmm_vocab_from_tekken_file(v, o->tekken, err);
    vkmm_gguf *g;
    vkmm_status s = vkmm_gguf_open(o->model, &g, err);
    if (s)
        return s;
    s = vkmm_vocab_from_gguf(v, g, err);
    vkmm_gguf_close(g);
    return s;
}

static void print_piece(const vkmm_tokenizer *tok, int32_t id)
{
    vkmm_text t = {0};
    vkmm_error err;
    printf("%6d -> '", id);
    if (vkmm_token_bytes(tok, id, true, &t, &err) == VKMM_OK)
        for (size_t i = 0; i < t.len; i++) {
            unsigned char c = (unsigned char)t.s[i];
            if (c == '\n')
                fputs("\\n", stdout);
            else if (c == '\t')
                fputs("\\t", stdout);
            else if (c == '\r')
                fputs("\\r", stdout);
            else if (c == '\'' || c == '\\')
                printf("\\%c", c);
            else if (c < 0x20 || c == 0x7F)
                printf("\\x%02x", c);
            else
                putchar(c); /* a lone byte of a longer character prints as that byte, as llama-tokenize does */
        }
    fputs("'\n", stdout);
    vkmm_text_free(&t);
}

int vkmm_cmd_tokenize(int argc, char **argv)
{
    opts o = {0};
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char **val = !strcmp(a, "-m") || !strcmp(a, "--model")  ? &o.model
                           : !strcmp(a, "--tokenizer-json")            ? &o.hf_json
                           : !strcmp(a, "--tokenizer-config")          ? &o.hf_config
                           : !strcmp(a, "--tekken-json")               ? &o.tekken
                           : !strcmp(a, "-p") || !strcmp(a, "--prompt") ? &o.prompt
                           : !strcmp(a, "-f") || !strcmp(a, "--file")   ? &o.file
                                                                        : NULL;
        if (val) {
            if (i + 1 >= argc) {
                fprintf(stderr, "vkmm tokenize: %s needs a value\n", a);
                return 2;
            }
            *val = argv[++i];
        } else if (!strcmp(a, "--ids")) {
            o.ids = true;
        } else if (!strcmp(a, "--no-bos")) {
            o.no_bos = true;
        } else if (!strcmp(a, "--special")) {
            o.special = true;
        } else if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            usage(stdout);
            return 0;
        } else {
            fprintf(stderr, "vkmm tokenize: unknown option '%s'\n", a);
            usage(stderr);
            return 2;
        }
    }
    if ((!o.model && !o.hf_json && !o.tekken) || (!o.prompt == !o.file)) {
        usage(stderr);
        return 2;
    }
    vkmm_error err = {0};
    vkmm_vocab vocab;
    vkmm_vocab_init(&vocab);
    vkmm_tokenizer *tok = NULL;
    vkmm_tokens ids = {0};
    char *text = NULL;
    size_t len = 0;
    int rc = 1;
    if (o.file) {
        if (vkmm_read_file(o.file, (size_t)1 << 30, &text, &len, &err))
            goto fail;
    } else {
        len = strlen(o.prompt);
    }
    unsigned flags = (o.no_bos ? 0 : VKMM_TOKENIZE_ADD_SPECIAL) | (o.special ? VKMM_TOKENIZE_PARSE_SPECIAL : 0);
    if (load_vocab(&o, &vocab, &err) || vkmm_tokenizer_create(&vocab, &tok, &err) ||
        vkmm_tokenize(tok, text ? text : o.prompt, len, flags, &ids, &err))
        goto fail;
    if (o.ids) {
        putchar('[');
        for (size_t i = 0; i < ids.n; i++)
            printf("%s%d", i ? ", " : "", ids.ids[i]);
        puts("]");
    } else {
        for (size_t i = 0; i < ids.n; i++)
            print_piece(tok, ids.ids[i]);
    }
    rc = 0;
    goto done;
fail:
    fprintf(stderr, "vkmm tokenize: %s\n", err.msg);
done:
    vkmm_tokens_free(&ids);
    vkmm_tokenizer_free(tok);
    vkmm_vocab_free(&vocab);
    free(text);
    return rc;
}
