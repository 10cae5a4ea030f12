/* tools/info_inputs.c — `vkmm info --image FILE` and `vkmm info --model-file FILE.yaml`: check one input on its
 * own and print what vkmm makes of it (image format and the preprocessed tensor; the resolved manifest). */
#include <float.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "loader/image.h"
#include "loader/manifest.h"

/* Shared argument handling: FILE either after `flag` or as the one positional argument; --json. */
typedef struct args {
    const char *file, *arch;
    long size;
    int json;
} args;

static int parse_args(int argc, char **argv, const char *flag, args *a, const char *usage)
{
    memset(a, 0, sizeof *a);
    for (int i = 1; i < argc; i++) {
        const char *s = argv[i];
        int has_next = i + 1 < argc;
        if (!strcmp(s, "--json"))
            a->json = 1;
        else if (!strcmp(s, flag) && has_next)
            a->file = argv[++i];
        else if (!strcmp(s, "--arch") && has_next)
            a->arch = argv[++i];
        else if (!strcmp(s, "--size") && has_next) {
            char *end;
            a->size = strtol(argv[++i], &end, 10);
            if (*end || a->size <= 0 || a->size > 16384) {
                fprintf(stderr, "vkmm: --size must be between 1 and 16384, got '%s'\n", argv[i]);
                return 2;
            }
        } else if (!strcmp(s, "--help") || !strcmp(s, "-h")) {
            printf("usage: %s\n", usage);
            return 0;
        } else if (s[0] != '-' && !a->file)
            a->file = s;
        else {
            fprintf(stderr, "vkmm: unexpected argument '%s'\nusage: %s\n", s, usage);
            return 2;
        }
    }
    if (!a->file) {
        fprintf(stderr, "vkmm: no file given\nusage: %s\n", usage);
        return 2;
    }
    return -1;
}

static const char *image_usage =
    "vkmm info --image FILE [--arch gemma3|pixtral|pixtral-llama] [--size N] [--json]\n"
    "  gemma3: N x N (default 896), PIL bilinear, mean/std 0.5 (HF Gemma 3)\n"
    "  pixtral: longest edge N (default 1540), sides up to multiples of 14, PIL bicubic, CLIP mean/std (HF)\n"
    "  pixtral-llama: llama.cpp's rule, sides multiples of 28, at most N tokens (default 1024), 2-tap bilinear";

int vkmm_info_image(int argc, char **argv)
{
    args a;
    int rc = parse_args(argc, argv, "--image", &a, image_usage);
    if (rc >= 0)
        return rc;
    const char *arch = a.arch ? a.arch : "gemma3";
    vkmm_image_prep prep;
    if (!strcmp(arch, "gemma3"))
        prep = vkmm_image_prep_gemma3(a.size ? (uint32_t)a.size : 896);
    else if (!strcmp(arch, "pixtral"))
        prep = vkmm_image_prep_pixtral(a.size ? (uint32_t)a.size : 1540);
    else if (!strcmp(arch, "pixtral-llama"))
        prep = vkmm_image_prep_pixtral_llama(a.size ? (uint32_t)a.size : 1024);
    else {
        fprintf(stderr, "vkmm: unknown --arch '%s' (gemma3, pixtral, pixtral-llama)\n", arch);
        return 2;
    }
    vkmm_error err;
    vkmm_image img;
    vkmm_image_tensor t;
    if (vkmm_image_load(a.file, NULL, &img, &err)) {
        fprintf(stderr, "vkmm: %s\n", err.msg);
        return 1;
    }
    if (vkmm_image_preprocess(&img, &prep, &t, &err)) {
        fprintf(stderr, "vkmm: %s: %s\n", a.file, err.msg);
        vkmm_image_free(&img);
        return 1;
    }
    double mn[3], mx[3], mean[3];
    size_t plane = (size_t)t.h * t.w;
    for (int c = 0; c < 3; c++) {
        mn[c] = DBL_MAX;
        mx[c] = -DBL_MAX;
        double sum = 0;
        for (size_t i = 0; i < plane; i++) {
            double v = t.data[c * plane + i];
            mn[c] = v < mn[c] ? v : mn[c];
            mx[c] = v > mx[c] ? v : mx[c];
            sum += v;
        }
        mean[c] = sum / (double)plane;
    }
    if (a.json) {
        printf("{\"file\": ");
        vkmm_cli_json_string(stdout, a.file);
        printf(", \"format\": \"%s\", \"width\": %u, \"height\": %u, \"channels\": %d, \"arch\": \"%s\", "
               "\"filter\": \"%s\",\n \"tensor\": {\"shape\": [%u, %u, %u], \"stats\": [",
               img.format, img.width, img.height, img.channels, arch, vkmm_resample_filter_name(prep.filter), t.c,
               t.h, t.w);
        for (int c = 0; c < 3; c++)
            printf("%s{\"min\": %.6g, \"max\": %.6g, \"mean\": %.6g}", c ? ", " : "", mn[c], mx[c], mean[c]);
        printf("]}}\n");
    } else {
        printf("image: %s\n  format: %s, %u x %u, %d channel%s in the file\n", a.file, img.format, img.width,
               img.height, img.channels, img.channels > 1 ? "s" : "");
        printf("  preprocess: %s, %s, mean %g %g %g, std %g %g %g\n", arch, vkmm_resample_filter_name(prep.filter),
               (double)prep.mean[0], (double)prep.mean[1], (double)prep.mean[2], (double)prep.std[0],
               (double)prep.std[1], (double)prep.std[2]);
        printf("  tensor: %u x %u x %u (C x H x W)\n", t.c, t.h, t.w);
        for (int c = 0; c < 3; c++)
            printf("  channel %d: min %.6g, max %.6g, mean %.6g\n", c, mn[c], mx[c], mean[c]);
    }
    vkmm_image_tensor_free(&t);
    vkmm_image_free(&img);
    return 0;
}

static void json_opt_string(const char *key, const char *v, int last)
{
    printf("  \"%s\": ", key);
    if (v)
        vkmm_cli_json_string(stdout, v);
    else
        printf("null");
    printf("%s\n", last ? "" : ",");
}

static void json_opt_uint(const char *key, int has, unsigned v)
{
    if (has)
        printf("  \"%s\": %u,\n", key, v);
    else
        printf("  \"%s\": null,\n", key);
}

int vkmm_info_manifest(int argc, char **argv)
{
    args a;
    int rc = parse_args(argc, argv, "--model-file", &a, "vkmm info --model-file FILE.yaml [--json]");
    if (rc >= 0)
        return rc;
    if (a.arch || a.size) {
        fprintf(stderr, "vkmm: --arch and --size apply to --image only\n");
        return 2;
    }
    vkmm_manifest m;
    vkmm_error err;
    if (vkmm_manifest_load(a.file, &m, &err)) {
        fprintf(stderr, "vkmm: %s\n", err.msg);
        return 1;
    }
#define HAS(bit) (m.set & VKMM_MANIFEST_##bit)
    if (a.json) {
        printf("{\n");
        json_opt_string("manifest", m.path, 0);
        json_opt_string("model", m.model, 0);
        json_opt_string("mmproj", m.mmproj, 0);
        json_opt_string("huggingface", m.huggingface, 0);
        json_opt_string("description", m.description, 0);
        json_opt_string("chat_template", m.chat_template, 0);
        json_opt_string("system", m.system, 0);
        json_opt_uint("context", HAS(CONTEXT), m.context);
        json_opt_uint("max_tokens", HAS(MAX_TOKENS), m.max_tokens);
        json_opt_uint("image_max_tokens", HAS(IMAGE_MAX_TOKENS), m.image_max_tokens);
        printf("  \"sampling\": {");
        int n = 0;
        if (HAS(TEMPERATURE))
            printf("%s\"temperature\": %.9g", n++ ? ", " : "", (double)m.temperature);
        if (HAS(TOP_K))
            printf("%s\"top_k\": %d", n++ ? ", " : "", m.top_k);
        if (HAS(TOP_P))
            printf("%s\"top_p\": %.9g", n++ ? ", " : "", (double)m.top_p);
        if (HAS(MIN_P))
            printf("%s\"min_p\": %.9g", n++ ? ", " : "", (double)m.min_p);
        if (HAS(REPEAT_PENALTY))
            printf("%s\"repeat_penalty\": %.9g", n++ ? ", " : "", (double)m.repeat_penalty);
        if (HAS(SEED))
            printf("%s\"seed\": %llu", n++ ? ", " : "", (unsigned long long)m.seed);
        printf("}\n}\n");
    } else {
        printf("manifest: %s\n  model: %s\n", m.path, m.model);
        if (m.mmproj)
            printf("  mmproj: %s\n", m.mmproj);
        if (m.huggingface)
            printf("  from: https://huggingface.co/%s (files looked for in the model folders and the Hugging Face "
                   "cache; `vkmm models`)\n", m.huggingface);
        if (m.description)
            printf("  description: %s\n", m.description);
        if (m.chat_template)
            printf("  chat template: %s\n", m.chat_template);
        if (HAS(CONTEXT))
            printf("  context: %u\n", m.context);
        if (m.system)
            printf("  system: %s\n", m.system);
        if (HAS(MAX_TOKENS))
            printf("  max tokens: %u\n", m.max_tokens);
        if (HAS(IMAGE_MAX_TOKENS))
            printf("  image max tokens: %u\n", m.image_max_tokens);
        if (HAS(TEMPERATURE))
            printf("  temperature: %g\n", (double)m.temperature);
        if (HAS(TOP_K))
            printf("  top_k: %d\n", m.top_k);
        if (HAS(TOP_P))
            printf("  top_p: %g\n", (double)m.top_p);
        if (HAS(MIN_P))
            printf("  min_p: %g\n", (double)m.min_p);
        if (HAS(REPEAT_PENALTY))
            printf("  repeat penalty: %g\n", (double)m.repeat_penalty);
        if (HAS(SEED))
            printf("  seed: %llu\n", (unsigned long long)m.seed);
    }
#undef HAS
    vkmm_manifest_free(&m);
    return 0;
}
