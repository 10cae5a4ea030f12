/* tests/ref/ref_load.h — builds the CPU reference models from GGUF files (every tensor dequantized to float). */
#ifndef VKMM_TEST_REF_LOAD_H
#define VKMM_TEST_REF_LOAD_H

#include "gguf.h"
#include "ref_gemma4.h"
#include "ref_model.h"

/* Owns the float copies; free with ref_arena_free. */
typedef struct ref_arena {
    float **bufs;
    size_t n, cap;
} ref_arena;

void ref_arena_free(ref_arena *a);
/* Tensor `name` of g dequantized to float, owned by the arena; NULL when absent (printed when required). */
const float *ref_tensor(const vkmm_gguf *g, ref_arena *a, const char *name, bool required);

/* NULL-free on success; on failure prints why and returns false. */
bool ref_load_gemma3(const vkmm_gguf *g, ref_gemma3 *m, ref_arena *a);
bool ref_load_siglip(const vkmm_gguf *g, uint32_t n_text_embd, ref_siglip *m, ref_arena *a);
bool ref_load_mistral(const vkmm_gguf *g, ref_mistral *m, ref_arena *a);
bool ref_load_gemma4(const vkmm_gguf *g, ref_gemma4 *m, ref_arena *a);
bool ref_load_pixtral(const vkmm_gguf *g, uint32_t n_text_embd, ref_pixtral *m, ref_arena *a);

#endif
