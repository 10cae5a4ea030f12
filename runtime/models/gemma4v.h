/* runtime/models/gemma4v.h — Gemma 4's vision tower (mmproj clip.projector_type "gemma4v") as a media tower that
 * the gemma4 row of the architecture table points at. */
#ifndef VKMM_MODELS_GEMMA4V_H
#define VKMM_MODELS_GEMMA4V_H

#include "arch.h"

/* Loader, HF Gemma4ImageProcessor's preprocessing (token budgets 70 .. 1120, 280 by default), the prompt layout
 * "<|image>" rows "<image|>", and the rows' attention rule (the loaded file refines it: see gemma4v.c). */
extern const vkmm_media_tower vkmm_gemma4v_tower;

#endif
