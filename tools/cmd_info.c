/* tools/cmd_info.c — `vkmm info`: what an input holds, through the public API's vkmm_describe_* (-m FILE.gguf,
 * --image FILE [--arch gemma3|pixtral|pixtral-llama] [--size N], --model-file FILE.yaml; --json). Any bad input
 * ends with one line on stderr, nothing on stdout, and exit status 1; a bad command line with status 2. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "vkmm.h"

static void usage(FILE *f)
{
    fprintf(f, "usage: vkmm info -m FILE.gguf [--json]\n"
               "       vkmm info --image FILE [--arch gemma3|pixtral|pixtral-llama] [--size N] [--json]\n"
               "       vkmm info --model-file FILE.yaml [--json]\n"
               "       vkmm info --audio FILE [--json]\n\n"
               "  -m, --model FILE   a GGUF file (model or mmproj): architecture, hyperparameters, tensors by\n"
               "                     type, tokenizer and chat template\n"
               "  --image FILE       an image and the tensor a model's preprocessing makes of it:\n"
               "                     gemma3: N x N (default 896), PIL bilinear, mean/std 0.5 (HF Gemma 3)\n"
               "                     pixtral: longest edge N (default 1540), sides up to multiples of 14, PIL\n"
               "                     bicubic, CLIP mean/std (HF)\n"
               "                     pixtral-llama: llama.cpp's rule, sides multiples of 28, at most N tokens\n"
               "                     (default 1024), 2-tap bilinear\n"
               "  --model-file FILE  a model manifest, as vkmm reads it\n"
               "  --audio FILE       WAV, FLAC, OGG, AIFF or MP3: format, rate, channels, duration; the 16 kHz mono\n"
               "                     signal and Gemma 4's log-mel frames of it\n"
               "  --json             one JSON object instead of text\n");
}

int vkmm_cmd_info(int argc, char **argv)
{
    const char *model = NULL, *image = NULL, *manifest = NULL, *audio = NULL, *arch = NULL;
    long size = 0;
    bool json = false;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char **val = !strcmp(a, "-m") || !strcmp(a, "--model") ? &model
                           : !strcmp(a, "--image")                    ? &image
                           : !strcmp(a, "--model-file")               ? &manifest
                           : !strcmp(a, "--audio")                    ? &audio
                           : !strcmp(a, "--arch")                     ? &arch
                                                                      : NULL;
        if (val || !strcmp(a, "--size")) {
            if (i + 1 >= argc) {
                fprintf(stderr, "vkmm info: %s needs a value\n", a);
                return 2;
            }
            if (val) {
                *val = argv[++i];
                continue;
            }
            char *end;
            size = strtol(argv[++i], &end, 10);
            if (*end || size <= 0 || size > 16384) {
                fprintf(stderr, "vkmm: --size must be between 1 and 16384, got '%s'\n", argv[i]);
                return 2;
            }
        } else if (!strcmp(a, "--json")) {
            json = true;
        } else if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            usage(stdout);
            return 0;
        } else {
            fprintf(stderr, "vkmm info: unknown option '%s'\n", a);
            usage(stderr);
            return 2;
        }
    }
    if ((model != NULL) + (image != NULL) + (manifest != NULL) + (audio != NULL) != 1) {
        fprintf(stderr, "vkmm info: describe one input: -m FILE.gguf, --image FILE, --audio FILE or --model-file "
                        "FILE.yaml\n");
        usage(stderr);
        return 2;
    }
    if ((arch || size) && !image) {
        fprintf(stderr, "vkmm: --arch and --size apply to --image only\n");
        return 2;
    }
    vkmm_error err = {0};
    vkmm_status s = model      ? vkmm_describe_gguf(model, json, stdout, &err)
                    : manifest ? vkmm_describe_manifest(manifest, json, stdout, &err)
                    : audio    ? vkmm_describe_audio(audio, json, stdout, &err)
                               : vkmm_describe_image(image, arch, (uint32_t)size, json, stdout, &err);
    if (s == VKMM_OK)
        return 0;
    fprintf(stderr, "%s: %s\n", model ? "vkmm info" : "vkmm", err.msg);
    return s == VKMM_ERR_INVALID_ARG && image && arch ? 2 : 1; /* an unknown --arch is a bad command line */
}
