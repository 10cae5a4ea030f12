/* tools/cmd_synth.c — `vkmm-dev synth`: writes a synthetic GGUF pair (text + mmproj) of a real architecture. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dev.h"
#include "dtype_table.h"
#include "synth.h"

static int usage(FILE *f)
{
    fprintf(f,
            "usage: vkmm-dev synth --arch gemma3|gemma4|mistral3 --tokenizer FILE -o model.gguf\n"
            "                      [--mmproj-out mmproj.gguf] [--size tiny|small|4b|12b|27b|24b] [--type q4_k]\n"
            "                      [--vision-type f16] [--seed N]\n"
            "                      [--arch-name llama] [--layers N] [--embd N] [--ctx N] [--window N] [--image-size N]\n"
            "                      [--random-blocks]\n"
            "  Random weights from the seed, the tokenizer from a Hugging Face tokenizer.json (gemma3) or\n"
            "  Mistral's tekken.json (mistral3), in exactly the layout real GGUF files use. gemma4 sizes:\n"
            "  tiny-e (E2B/E4B style: per-layer inputs, shared KV), tiny-31b (K = V full layers), tiny-moe\n"
            "  (experts), e2b, e4b, 26b-a4b, 31b; its --tokenizer is Gemma 3's tokenizer.json, written with\n"
            "  Gemma 4's control tokens (no Gemma 4 tokenizer is published on npm); --mmproj-out writes the\n"
            "  family's gemma4v tower (the MoE takes the 26B/31B one). Random weights\n"
            "  print random text. --random-blocks fills quantized blocks with random bits (fast, for\n"
            "  benchmarks of the real shapes).\n"
            "       vkmm-dev synth --arch gemma4v --mmproj-out mmproj.gguf [--size tiny-e|tiny-31b|e2b|e4b|26b|31b]\n"
            "                      [--embd TEXT_WIDTH] [--vision-type f16] [--seed N]\n"
            "  Gemma 4's vision mmproj alone (E-style with clamped linears, 31B-style with std_bias/std_scale),\n"
            "  projecting into a text model of width --embd (default 256).\n"
            "       vkmm-dev synth --arch gemma4a -o mmproj.gguf [--size tiny|e2b] [--embd N] [--layers N]\n"
            "                      [--vision-type f16] [--seed N]\n"
            "  Gemma 4's audio tower alone, projecting into a text model N wide (tiny: 64, e2b: 1536).\n");
    return f == stdout ? 0 : 2;
}

/* --arch gemma4a: the audio tower alone, into -o (or --mmproj-out) */
static int synth_audio(vkmm_synth_opts *o)
{
    if (!o->mmproj_out)
        o->mmproj_out = o->out;
    if (!o->mmproj_out) {
        fprintf(stderr, "vkmm-dev synth: -o is required\n");
        return usage(stderr);
    }
    bool tiny = !o->size || !strcmp(o->size, "tiny");
    uint32_t text_embd = o->n_embd ? o->n_embd : tiny ? 64 : 1536;
    vkmm_error err;
    if (vkmm_synth_gemma4a_mmproj(o, text_embd, &err)) {
        fprintf(stderr, "vkmm-dev synth: %s\n", err.msg);
        return 1;
    }
    printf("wrote %s (gemma4a audio tower, %s, into %u-wide text, %s weights, seed %llu)\n", o->mmproj_out,
           o->size ? o->size : "tiny", text_embd, vkmm_dtype_get(o->vision_type)->name, (unsigned long long)o->seed);
    return 0;
}

int vkmm_dev_synth(int argc, char **argv)
{
    vkmm_synth_opts o = {.arch = "gemma3", .size = "tiny", .type = VKMM_F16, .vision_type = VKMM_F16, .seed = 1};
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        bool has = v != NULL;
        if (!strcmp(a, "-h") || !strcmp(a, "--help"))
            return usage(stdout);
        else if (!strcmp(a, "--random-blocks"))
            o.random_blocks = true;
        else if (!has)
            return fprintf(stderr, "vkmm-dev synth: %s needs a value\n", a), 2;
        else if (!strcmp(a, "--arch")) o.arch = v, i++;
        else if (!strcmp(a, "--arch-name")) o.arch_name = v, i++;
        else if (!strcmp(a, "--size")) o.size = v, i++;
        else if (!strcmp(a, "--tokenizer")) o.tokenizer = v, i++;
        else if (!strcmp(a, "-o") || !strcmp(a, "--out")) o.out = v, i++;
        else if (!strcmp(a, "--mmproj-out")) o.mmproj_out = v, i++;
        else if (!strcmp(a, "--seed")) o.seed = strtoull(v, NULL, 10), i++;
        else if (!strcmp(a, "--layers")) o.n_layer = (uint32_t)atoi(v), i++;
        else if (!strcmp(a, "--embd")) o.n_embd = (uint32_t)atoi(v), i++;
        else if (!strcmp(a, "--ctx")) o.n_ctx = (uint32_t)atoi(v), i++;
        else if (!strcmp(a, "--window")) o.window = (uint32_t)atoi(v), i++;
        else if (!strcmp(a, "--image-size")) o.image_size = (uint32_t)atoi(v), i++;
        else if (!strcmp(a, "--type") || !strcmp(a, "--vision-type")) {
            int t = vkmm_dtype_from_name(v);
            if (t < 0 || !vkmm_dtype_get((uint32_t)t)->supported)
                return fprintf(stderr, "vkmm-dev synth: unknown or unsupported type '%s'\n", v), 2;
            if (!strcmp(a, "--type"))
                o.type = (vkmm_dtype)t;
            else
                o.vision_type = (vkmm_dtype)t;
            i++;
        } else
            return fprintf(stderr, "vkmm-dev synth: unknown option '%s'\n", a), usage(stderr);
    }
    if (!strcmp(o.arch, "gemma4a"))
        return synth_audio(&o);
    bool alone = !strcmp(o.arch, "gemma4v");
    if (alone && !strcmp(o.size, "tiny"))
        o.size = "tiny-e";
    if (!alone && (!o.out || !o.tokenizer)) {
        fprintf(stderr, "vkmm-dev synth: -o and --tokenizer are required\n");
        return usage(stderr);
    }
    vkmm_error err;
    if (vkmm_synth(&o, &err)) {
        fprintf(stderr, "vkmm-dev synth: %s\n", err.msg);
        return 1;
    }
    if (alone)
        printf("wrote %s (%s %s, %s weights, seed %llu)\n", o.mmproj_out, o.arch, o.size,
               vkmm_dtype_get(o.vision_type)->name, (unsigned long long)o.seed);
    else
        printf("wrote %s%s%s (%s %s, %s weights, seed %llu)\n", o.out, o.mmproj_out ? " and " : "",
               o.mmproj_out ? o.mmproj_out : "", o.arch, o.size, vkmm_dtype_get(o.type)->name,
               (unsigned long long)o.seed);
    return 0;
}
