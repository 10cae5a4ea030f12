/* tools/synth.h — `vkmm-dev synth`: GGUF pairs (text model + mmproj) with the real architectures, random weights
 * from a seed, a real tokenizer, any supported weight type, in exactly the layout llama.cpp's converters write.
 * Used by the CLI and by the end-to-end tests. */
#ifndef VKMM_TOOLS_SYNTH_H
#define VKMM_TOOLS_SYNTH_H

#include <stdbool.h>
#include <stdint.h>

#include "dtype.h"
#include "error.h"
#include "gguf.h"
#include "vocab.h"

typedef struct vkmm_synth_opts {
    const char *arch;            /* "gemma3", "gemma4", "mistral3", or "gemma4v" (an mmproj alone: mmproj_out,
                                    n_embd the text width, size one of synth_gemma4v_sizes()) */
    const char *arch_name;       /* general.architecture to write (mistral3: "mistral3" or "llama"); NULL: arch */
    const char *size;            /* "tiny", "small", or a real shape: "4b", "12b", "27b" (gemma3), "24b" (mistral3);
                                  * gemma4: "tiny-e", "tiny-31b", "tiny-moe", "e2b", "e4b", "26b-a4b", "31b" */
    vkmm_dtype type;             /* matrices of the text model */
    vkmm_dtype vision_type;      /* matrices of the vision tower (F16 in real mmproj files) */
    const char *tokenizer;       /* HF tokenizer.json (gemma3; gemma4: Gemma 3's, see synth_gemma4.c) or tekken.json
                                  * (mistral3) */
    uint64_t seed;
    const char *out;             /* text model path */
    const char *mmproj_out;      /* NULL: no vision file */
    bool random_blocks;          /* fill quantized blocks with random bits instead of quantizing floats (fast) */
    /* shape overrides (0: keep the size's value) */
    uint32_t n_layer, n_ctx, window, image_size;
    uint32_t n_embd;             /* width (gemma3): heads follow at the size's head_dim, FFN 4x */
} vkmm_synth_opts;

vkmm_status vkmm_synth(const vkmm_synth_opts *o, vkmm_error *err);

/* ---- shared by the architecture files ---- */

typedef struct synth_ctx {
    const vkmm_synth_opts *o;
    vkmm_gguf_writer *w;
    uint64_t seed;
    struct synth_fill **fills; /* per-tensor generator states, alive until the file is written */
    size_t n_fills, cap_fills;
} synth_ctx;

/* Adds a tensor of ne (innermost first) whose values are uniform in [center - spread, center + spread],
 * drawn from a stream seeded by the tensor's name, stored as type. */
void synth_tensor(synth_ctx *c, const char *name, vkmm_dtype type, uint32_t n_dims, const uint64_t *ne, float center,
                  float spread);
/* A weight matrix [rows][k] (ne = {k, rows}) scaled for its fan-in. */
void synth_matrix(synth_ctx *c, const char *name, vkmm_dtype type, uint64_t k, uint64_t rows);
void synth_vector(synth_ctx *c, const char *name, uint64_t n, float center, float spread);
/* An F32 vector of the given values. */
void synth_values(synth_ctx *c, const char *name, const float *values, uint64_t n);
/* The matrix type for this k: when k is not a whole number of the type's blocks, the 32-wide type llama.cpp's
 * quantizer falls back to (Q4_K -> Q5_0, Q6_K -> Q8_0, ...), else F16. */
vkmm_dtype synth_type_for(vkmm_dtype type, uint64_t k);

/* Releases a context's writer and generator states. */
void synth_ctx_free(synth_ctx *c);

vkmm_status synth_gemma3(synth_ctx *text, synth_ctx *vision, const vkmm_vocab *vocab, vkmm_error *err);
vkmm_status synth_mistral3(synth_ctx *text, synth_ctx *vision, const vkmm_vocab *vocab, vkmm_error *err);
/* Gemma 4's vision mmproj of a shape family (size: "tiny-e", "tiny-31b", "e2b", "e4b", "26b", "31b"; NULL:
 * "tiny-e") projecting into text_embd: the hook the gemma4 text synth calls for its mmproj. */
vkmm_status synth_gemma4v(synth_ctx *vision, const char *size, uint32_t text_embd, vkmm_error *err);
const char *synth_gemma4v_sizes(void);
/* Gemma 4's text model, and with vision its size family's gemma4v mmproj projecting into the text width. */
vkmm_status synth_gemma4(synth_ctx *text, synth_ctx *vision, const vkmm_vocab *vocab, vkmm_error *err);
/* Gemma 4's vocabulary as vkmm writes it (synth_gemma4.c): the tokenizer.json's pieces and merges with Gemma 4's
 * control tokens at their ids. */
vkmm_status synth_gemma4_vocab(vkmm_vocab *out, const char *tokenizer_json, vkmm_error *err);

/* ---- Gemma 4's audio tower (synth_gemma4a.c) ---- */

typedef struct synth_gemma4a_shape {
    const char *size;            /* "tiny", "e2b" (E2B and E4B share it) */
    uint32_t n_embd, n_head, n_ff, n_layer;
    uint32_t ch0, ch1;           /* subsampling channels */
    uint32_t n_out;              /* output projection */
    uint32_t conv_kernel;
} synth_gemma4a_shape;

vkmm_status synth_gemma4a_shape_for(const char *size, synth_gemma4a_shape *out, vkmm_error *err);
/* Adds the clip.audio.* keys and the a.* / mm.a.* tensors of a gemma4a tower projecting into n_text_embd to an
 * mmproj being written (the gemma4 synth's hook: its vision tower and this one share the file). Matrices are of
 * c->o->vision_type. */
void synth_gemma4a_tower(synth_ctx *c, const synth_gemma4a_shape *s, uint32_t n_text_embd);
/* An mmproj holding the audio tower alone (o->size, o->seed, o->vision_type, o->n_layer override) at
 * o->mmproj_out. */
vkmm_status vkmm_synth_gemma4a_mmproj(const vkmm_synth_opts *o, uint32_t n_text_embd, vkmm_error *err);

#endif
