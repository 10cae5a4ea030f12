/* tests/ref/ref_load_gemma4a.h — builds the float64 reference of Gemma 4's audio tower from an mmproj GGUF. */
#ifndef VKMM_TEST_REF_LOAD_GEMMA4A_H
#define VKMM_TEST_REF_LOAD_GEMMA4A_H

#include "ref_gemma4a.h"
#include "ref_load.h"

/* Sizes from the clip.audio keys and the tensors' shapes, tensors by llama.cpp's names (conv_norm is the pre-norm,
 * norm_conv the one after the depthwise conv), bounds of the clipped linears; false with a message on failure.
 * The tensors belong to a; m->layers is malloc'ed (free it). */
bool ref_load_gemma4a(const vkmm_gguf *g, ref_gemma4a *m, ref_arena *a);

#endif
