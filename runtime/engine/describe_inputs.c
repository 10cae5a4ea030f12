/* runtime/engine/describe_inputs.c — vkmm_describe_image and vkmm_describe_manifest, what `vkmm info --image FILE`
 * and `vkmm info --model-file FILE.yaml` print: one input checked on its own and what vkmm makes of it (image
 * format and the preprocessed tensor; the resolved manifest). */
#include <float.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "image.h"
#include "manifest.h"
#include "report.h"
#include "resample.h"
#include "text_out.h"
#include "vkmm.h"

/* The preprocessing of preprocessing (NULL: "gemma3") at size (0: its default). */
static vkmm_status pick_prep(const char *name, uint32_t size, vkmm_image_prep *prep, vkmm_error *err)
{
    if (!name || !strcmp(name, "gemma3"))
        *prep = vkmm_image_prep_gemma3(size ? size : 896);
    else if (!strcmp(name, "pixtral"))
        *prep = vkmm_image_prep_pixtral(size ? size : 1540);
    else if (!strcmp(name, "pixtral-llama"))
        *prep = vkmm_image_prep_pixtral_llama(size ? size : 1024);
    else
        return vkmm_fail(err, VKMM_ERR_INVALID_ARG, "unknown preprocessing '%s' (gemma3, pixtral, pixtral-llama)",
                         name);
    if (size > 16384)
        return vkmm_fail(err, VKMM_ERR_INVALID_ARG, "size %u: at most 16384", size);
    return VKMM_OK;
}

static void print_image(FILE *f, const char *file, const char *arch, const vkmm_image *img,
                        const vkmm_image_prep *prep, const vkmm_image_tensor *t, bool json)
{
    double mn[3], mx[3], mean[3];
    size_t plane = (size_t)t->h * t->w;
    for (int c = 0; c < 3; c++) {
        mn[c] = DBL_MAX;
        mx[c] = -DBL_MAX;
        double sum = 0;
        for (size_t i = 0; i < plane; i++) {
            double v = t->data[c * plane + i];
            mn[c] = v < mn[c] ? v : mn[c];
            mx[c] = v > mx[c] ? v : mx[c];
            sum += v;
        }
        mean[c] = sum / (double)plane;
    }
    if (json) {
        fprintf(f, "{\"file\": ");
        vkmm_json_write_string(f, file);
        fprintf(f, ", \"format\": \"%s\", \"width\": %u, \"height\": %u, \"channels\": %d, \"arch\": \"%s\", "
                   "\"filter\": \"%s\",\n \"tensor\": {\"shape\": [%u, %u, %u], \"stats\": [",
                img->format, img->width, img->height, img->channels, arch, vkmm_resample_filter_name(prep->filter),
                t->c, t->h, t->w);
        for (int c = 0; c < 3; c++)
            fprintf(f, "%s{\"min\": %.6g, \"max\": %.6g, \"mean\": %.6g}", c ? ", " : "", mn[c], mx[c], mean[c]);
        fprintf(f, "]}}\n");
    } else {
        fprintf(f, "image: %s\n  format: %s, %u x %u, %d channel%s in the file\n", file, img->format, img->width,
                img->height, img->channels, img->channels > 1 ? "s" : "");
        fprintf(f, "  preprocess: %s, %s, mean %g %g %g, std %g %g %g\n", arch,
                vkmm_resample_filter_name(prep->filter), (double)prep->mean[0], (double)prep->mean[1],
                (double)prep->mean[2], (double)prep->std[0], (double)prep->std[1], (double)prep->std[2]);
        fprintf(f, "  tensor: %u x %u x %u (C x H x W)\n", t->c, t->h, t->w);
        for (int c = 0; c < 3; c++)
            fprintf(f, "  channel %d: min %.6g, max %.6g, mean %.6g\n", c, mn[c], mx[c], mean[c]);
    }
}

VKMM_API vkmm_status vkmm_describe_image(const char *path, const char *preprocessing, uint32_t size, bool json,
                                         FILE *out, vkmm_error *err)
{
    if (!path || !out)
        return vkmm_fail(err, VKMM_ERR_INVALID_ARG, "vkmm_describe_image needs a path and a FILE");
    vkmm_image_prep prep;
    vkmm_status st = pick_prep(preprocessing, size, &prep, err);
    if (st)
        return st;
    vkmm_image img;
    vkmm_image_tensor t = {0};
    if ((st = vkmm_image_load(path, NULL, &img, err)))
        return st;
    if ((st = vkmm_image_preprocess(&img, &prep, &t, err))) {
        vkmm_image_free(&img);
        return vkmm_error_prefix(err, st, "%s", path);
    }
    vkmm_report rep;
    if (!(st = vkmm_report_open(&rep, err))) {
        print_image(rep.f, path, preprocessing ? preprocessing : "gemma3", &img, &prep, &t, json);
        st = vkmm_report_close(&rep, st, out, path, err);
    }
    vkmm_image_tensor_free(&t);
    vkmm_image_free(&img);
    return st;
}

static void json_opt_string(FILE *f, const char *key, const char *v, int last)
{
    fprintf(f, "  \"%s\": ", key);
    if (v)
        vkmm_json_write_string(f, v);
    else
        fprintf(f, "null");
    fprintf(f, "%s\n", last ? "" : ",");
}

static void json_opt_uint(FILE *f, const char *key, int has, unsigned v)
{
    if (has)
        fprintf(f, "  \"%s\": %u,\n", key, v);
    else
        fprintf(f, "  \"%s\": null,\n", key);
}

static void print_manifest(FILE *f, const vkmm_manifest *mf, bool json)
{
    const vkmm_manifest m = *mf;
#define HAS(bit) (m.set & VKMM_MANIFEST_##bit)
    if (json) {
        fprintf(f, "{\n");
        json_opt_string(f, "manifest", m.path, 0);
        json_opt_string(f, "model", m.model, 0);
        json_opt_string(f, "mmproj", m.mmproj, 0);
        json_opt_string(f, "huggingface", m.huggingface, 0);
        json_opt_string(f, "description", m.description, 0);
        json_opt_string(f, "chat_template", m.chat_template, 0);
        json_opt_string(f, "system", m.system, 0);
        json_opt_uint(f, "context", HAS(CONTEXT), m.context);
        json_opt_uint(f, "max_tokens", HAS(MAX_TOKENS), m.max_tokens);
        json_opt_uint(f, "image_max_tokens", HAS(IMAGE_MAX_TOKENS), m.image_max_tokens);
        fprintf(f, "  \"sampling\": {");
        int n = 0;
        if (HAS(TEMPERATURE))
            fprintf(f, "%s\"temperature\": %.9g", n++ ? ", " : "", (double)m.temperature);
        if (HAS(TOP_K))
            fprintf(f, "%s\"top_k\": %d", n++ ? ", " : "", m.top_k);
        if (HAS(TOP_P))
            fprintf(f, "%s\"top_p\": %.9g", n++ ? ", " : "", (double)m.top_p);
        if (HAS(MIN_P))
            fprintf(f, "%s\"min_p\": %.9g", n++ ? ", " : "", (double)m.min_p);
        if (HAS(REPEAT_PENALTY))
            fprintf(f, "%s\"repeat_penalty\": %.9g", n++ ? ", " : "", (double)m.repeat_penalty);
        if (HAS(SEED))
            fprintf(f, "%s\"seed\": %llu", n++ ? ", " : "", (unsigned long long)m.seed);
        fprintf(f, "}\n}\n");
    } else {
        fprintf(f, "manifest: %s\n  model: %s\n", m.path, m.model);
        if (m.mmproj)
            fprintf(f, "  mmproj: %s\n", m.mmproj);
        if (m.huggingface)
            fprintf(f, "  from: https://huggingface.co/%s (files looked for in the model folders and the Hugging Face "
                   "cache; `vkmm models`)\n", m.huggingface);
        if (m.description)
            fprintf(f, "  description: %s\n", m.description);
        if (m.chat_template)
            fprintf(f, "  chat template: %s\n", m.chat_template);
        if (HAS(CONTEXT))
            fprintf(f, "  context: %u\n", m.context);
        if (m.system)
            fprintf(f, "  system: %s\n", m.system);
        if (HAS(MAX_TOKENS))
            fprintf(f, "  max tokens: %u\n", m.max_tokens);
        if (HAS(IMAGE_MAX_TOKENS))
            fprintf(f, "  image max tokens: %u\n", m.image_max_tokens);
        if (HAS(TEMPERATURE))
            fprintf(f, "  temperature: %g\n", (double)m.temperature);
        if (HAS(TOP_K))
            fprintf(f, "  top_k: %d\n", m.top_k);
        if (HAS(TOP_P))
            fprintf(f, "  top_p: %g\n", (double)m.top_p);
        if (HAS(MIN_P))
            fprintf(f, "  min_p: %g\n", (double)m.min_p);
        if (HAS(REPEAT_PENALTY))
            fprintf(f, "  repeat penalty: %g\n", (double)m.repeat_penalty);
        if (HAS(SEED))
            fprintf(f, "  seed: %llu\n", (unsigned long long)m.seed);
    }
#undef HAS
}

VKMM_API vkmm_status vkmm_describe_manifest(const char *path, bool json, FILE *out, vkmm_error *err)
{
    if (!path || !out)
        return vkmm_fail(err, VKMM_ERR_INVALID_ARG, "vkmm_describe_manifest needs a path and a FILE");
    vkmm_manifest m;
    vkmm_status st = vkmm_manifest_load(path, &m, err);
    if (st)
        return st;
    vkmm_report rep;
    if (!(st = vkmm_report_open(&rep, err))) {
        print_manifest(rep.f, &m, json);
        st = vkmm_report_close(&rep, st, out, path, err);
    }
    vkmm_manifest_free(&m);
    return st;
}
