/* loader/manifest.h — YAML model manifests (`vkmm run --model-file gemma3.yaml`): which model and mmproj files,
 * chat template, context size, default system prompt and sampling. Strictly typed; errors name file and line. */
#ifndef VKMM_LOADER_MANIFEST_H
#define VKMM_LOADER_MANIFEST_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"

/* Bits of vkmm_manifest.set: which optional keys the file gave. */
enum {
    VKMM_MANIFEST_MMPROJ = 1u << 0,
    VKMM_MANIFEST_CHAT_TEMPLATE = 1u << 1,
    VKMM_MANIFEST_CONTEXT = 1u << 2,
    VKMM_MANIFEST_SYSTEM = 1u << 3,
    VKMM_MANIFEST_MAX_TOKENS = 1u << 4,
    VKMM_MANIFEST_IMAGE_MAX_TOKENS = 1u << 5,
    VKMM_MANIFEST_HUGGINGFACE = 1u << 6,
    VKMM_MANIFEST_DESCRIPTION = 1u << 7,
    VKMM_MANIFEST_TEMPERATURE = 1u << 8,
    VKMM_MANIFEST_TOP_K = 1u << 9,
    VKMM_MANIFEST_TOP_P = 1u << 10,
    VKMM_MANIFEST_MIN_P = 1u << 11,
    VKMM_MANIFEST_REPEAT_PENALTY = 1u << 12,
    VKMM_MANIFEST_SEED = 1u << 13,
};

/* Limits a manifest may not exceed. */
#define VKMM_MANIFEST_MAX_BYTES (1u << 20)
#define VKMM_MANIFEST_MAX_CONTEXT (1u << 24)

typedef struct vkmm_manifest {
    char *path;          /* the manifest as named when loaded (or the name given to _parse) */
    char *model;         /* required; resolved against the manifest's folder when loaded from a file */
    char *mmproj;        /* NULL when not given */
    char *chat_template; /* built-in template name, NULL when not given */
    char *system;        /* default system prompt, NULL when not given */
    char *huggingface;   /* "org/repo" the files come from, NULL when not given: then model and mmproj are file
                          * names to look for (the search path, the Hugging Face cache), not paths beside it */
    char *description;   /* one line for `vkmm models`, NULL when not given */
    uint32_t context, max_tokens, image_max_tokens;
    float temperature, top_p, min_p, repeat_penalty;
    int32_t top_k;
    uint64_t seed;
    uint32_t set;        /* VKMM_MANIFEST_* bits for the keys present */
    uint32_t model_line, mmproj_line; /* where they were written, for later errors about those files */
} vkmm_manifest;

/* Parses text (not NUL-terminated). name is what errors call it. base_dir: when non-NULL and the manifest
 * names no Hugging Face repository, relative model and mmproj paths are resolved against it and both files
 * must exist; otherwise they are kept as written. */
vkmm_status vkmm_manifest_parse(const char *text, size_t len, const char *name, const char *base_dir,
                                vkmm_manifest *out, vkmm_error *err);
/* Reads and parses a file, resolving paths against its folder and checking that the files exist. */
vkmm_status vkmm_manifest_load(const char *path, vkmm_manifest *out, vkmm_error *err);
void vkmm_manifest_free(vkmm_manifest *m);

#endif
