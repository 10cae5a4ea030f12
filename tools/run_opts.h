/* tools/run_opts.h — the options `vkmm run`, `chat` and `bench` share (llama.cpp's spellings where they exist),
 * the YAML manifest they can start from, and model loading with a progress bar. */
#ifndef VKMM_TOOLS_RUN_OPTS_H
#define VKMM_TOOLS_RUN_OPTS_H

#include <stdbool.h>

#include "vkmm.h"

#define RUN_MAX_IMAGES 64
#define RUN_OWNED 8

typedef struct run_opts {
    const char *model, *mmproj, *model_file, *device, *system, *chat_template, *prompt, *profile_json;
    const char *images[RUN_MAX_IMAGES];
    uint32_t n_images;
    uint32_t n_predict, n_ctx, n_batch;
    uint32_t kv_tokens, max_batch; /* the model's shared KV pool and decode batch (0: the library's choice) */
    uint32_t image_tokens;         /* --image-tokens: a budgeted tower's tokens per image (0: its default) */
    vkmm_sampling sampling;
    bool raw, json, profile, quiet;
    char *owned[RUN_OWNED]; /* strings kept from the model's manifest */
} run_opts;

/* Defaults, then the bundled demo manifest when no model is named (see README). */
void run_opts_init(run_opts *o);
/* Parses one option at argv[*i] (advancing *i past its value). Returns 1 if taken, 0 if not one of ours,
 * -1 after printing an error. */
int run_opts_parse(run_opts *o, int argc, char **argv, int *i);
/* Resolves the model (a name, a GGUF or a manifest; none: the bundled demo) and applies its manifest's
 * settings under the command line's explicit choices. */
int run_opts_finish(run_opts *o, const char *cmd);
void run_opts_free(run_opts *o);
/* Loads the model with a progress bar on stderr (unless quiet). */
vkmm_status run_load_model(const run_opts *o, vkmm_model **m, vkmm_error *err);
const char *run_opts_help(void);

#endif
