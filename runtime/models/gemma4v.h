/* runtime/models/gemma4v.h — Gemma 4's vision tower (mmproj clip.projector_type "gemma4v") as a media tower that
 * the gemma4 row of the architecture table points at. */
#ifndef VKMM_MODELS_GEMMA4V_H
#define VKMM_MODELS_GEMMA4V_H

#include "arch.h"

/* HF Gemma4ImageProcessor: aspect kept within the token budget, sides multiples of patch x pooling, bicubic */
vkmm_image_prep vkmm_gemma4v_prep(const vkmm_vision_hparams *hp, uint32_t image_tokens);
extern const uint32_t vkmm_gemma4v_budgets[];

/* Loader, HF Gemma4ImageProcessor's preprocessing (token budgets 70 .. 1120, 280 by default), the prompt layout
 * "<|image>" rows "<image|>" (Gemma4Processor: boi_token + num_soft_tokens x image_token + eoi_token, nothing
 * around them), and the rows' attention rule (the loaded file refines it: see gemma4v.c). As an initializer so
 * that a table row's array of towers can hold it beside the audio tower. */
#define VKMM_GEMMA4V_TOWER                                                                                         \
    {                                                                                                              \
        .medium = VKMM_MEDIUM_IMAGE, .projector = "gemma4v", .load = vkmm_gemma4v_load,                           \
        .preprocess = vkmm_gemma4v_prep,                                                                           \
        .layout = {.text_before = "", .open = "<|image>", .close = "<image|>", .text_after = ""},                 \
        .attention = VKMM_MEDIA_BIDIRECTIONAL_SLIDING, .token_budgets = vkmm_gemma4v_budgets,                     \
        .default_tokens = 280,                                                                                     \
    }

extern const vkmm_media_tower vkmm_gemma4v_tower;

#endif
