/* tools/cmd_tokenize.c — `vkmm tokenize`: text to token ids (or pieces) with a model's own tokenizer, or with a
 * Hugging Face tokenizer.json or Mistral tekken.json, for checking prompts and comparing against other
 * implementations. No GPU: the public API's vkmm_text_tokenizer. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "vkmm.h"

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

static void print_piece(const vkmm_text_tokenizer *tok, int32_t id)
{
    char small[256], *buf = small;
    size_t len = 0;
    printf("%6d -> '", id);
    if (vkmm_text_tokenizer_token_bytes(tok, id, small, sizeof small, &len, NULL) == VKMM_OK && len > sizeof small &&
        (buf = malloc(len)) && vkmm_text_tokenizer_token_bytes(tok, id, buf, len, &len, NULL))
        len = 0;
    for (size_t i = 0; buf && i < len; i++) {
        unsigned char c = (unsigned char)buf[i];
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
    if (buf != small)
        free(buf);
}

/* The whole of a text file (at most 1 GiB). */
static char *read_all(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    char *buf = NULL;
    size_t cap = 0;
    *len = 0;
    for (;;) {
        if (*len + 65536 > cap) {
            char *p = cap < ((size_t)1 << 30) ? realloc(buf, cap = cap ? cap * 2 : 65536) : NULL;
            if (!p) {
                free(buf);
                fclose(f);
                return NULL;
            }
            buf = p;
        }
        size_t got = fread(buf + *len, 1, cap - *len, f);
        *len += got;
        if (!got)
            break;
    }
    bool bad = ferror(f);
    fclose(f);
    if (bad) {
        free(buf);
        return NULL;
    }
    return buf;
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
    const char *source = o.model ? o.model : o.hf_json ? o.hf_json : o.tekken;
    if (!source || (!o.prompt == !o.file)) {
        usage(stderr);
        return 2;
    }
    vkmm_error err = {0};
    vkmm_text_tokenizer *tok = NULL;
    int32_t *ids = NULL;
    char *text = NULL;
    size_t len = o.prompt ? strlen(o.prompt) : 0;
    uint32_t n = 0;
    int rc = 1;
    if (o.file && !(text = read_all(o.file, &len))) {
        fprintf(stderr, "vkmm tokenize: %s: cannot read the file\n", o.file);
        return 1;
    }
    if (vkmm_text_tokenizer_open(source, o.hf_json ? o.hf_config : NULL, &tok, &err) ||
        vkmm_text_tokenizer_encode(tok, text ? text : o.prompt, len, !o.no_bos, o.special, NULL, 0, &n, &err) ||
        !(ids = malloc((n ? n : 1) * sizeof *ids)) ||
        vkmm_text_tokenizer_encode(tok, text ? text : o.prompt, len, !o.no_bos, o.special, ids, n, &n, &err)) {
        fprintf(stderr, "vkmm tokenize: %s\n", ids || err.code ? err.msg : "out of memory");
        goto done;
    }
    if (o.ids) {
        putchar('[');
        for (uint32_t i = 0; i < n; i++)
            printf("%s%d", i ? ", " : "", ids[i]);
        puts("]");
    } else {
        for (uint32_t i = 0; i < n; i++)
            print_piece(tok, ids[i]);
    }
    rc = 0;
done:
    vkmm_text_tokenizer_free(tok);
    free(ids);
    free(text);
    return rc;
}
