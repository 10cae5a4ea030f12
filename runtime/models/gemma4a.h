/* runtime/models/gemma4a.h — Gemma 4's audio tower (clip.audio.projector_type = gemma4a) for the gemma4 row of the
 * architecture table: the conformer encoder and its projection into the text model (gemma4a.c), and how its rows
 * sit in the prompt. */
#ifndef VKMM_MODELS_GEMMA4A_H
#define VKMM_MODELS_GEMMA4A_H

#include "arch.h"

vkmm_status vkmm_gemma4a_load(vkmm_weight_source *src, vkmm_audio_model **out, vkmm_error *err);

/* Gemma4Processor writes boa + n × <|audio|> + eoa with no text around them (the rows of every 30-second piece
 * one after the other inside one pair, as llama.cpp's mtmd does); the text model attends to them causally as to
 * text (Hugging Face: bidirectional attention is for vision only; llama.cpp #21824). As an initializer so that a
 * table row's array of towers can hold it. */
#define VKMM_GEMMA4A_TOWER                                                                                         \
    {                                                                                                              \
        .medium = VKMM_MEDIUM_AUDIO, .projector = "gemma4a", .load_audio = vkmm_gemma4a_load,                     \
        .layout = {.text_before = "", .open = "<|audio>", .close = "<audio|>", .text_after = ""},                 \
        .attention = VKMM_MEDIA_CAUSAL,                                                                            \
    }

extern const vkmm_media_tower vkmm_gemma4a_tower;

#endif
