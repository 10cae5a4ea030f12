/* runtime/models/audio_model.h — what an audio tower gives the engine: hyperparameters read from the mmproj, the
 * front end its features come from, how long audio is cut into pieces the tower encodes one at a time, and graph
 * construction from log-mel frames to embedding rows of the text model. No Vulkan calls. */
#ifndef VKMM_MODELS_AUDIO_MODEL_H
#define VKMM_MODELS_AUDIO_MODEL_H

#include "audio.h"
#include "model.h"

typedef struct vkmm_audio_hparams {
    uint32_t n_mel;                     /* mel bins of a frame (clip.audio.num_mel_bins) */
    uint32_t n_embd, n_head, head_dim, n_ff, n_layer;
    uint32_t n_out;                     /* the encoder's output projection (Gemma 4: 1536) */
    uint32_t n_text_embd;               /* width of the rows it hands the text model */
    uint32_t sub_ch[2];                 /* channels of the two subsampling convolutions */
    uint32_t conv_kernel;               /* the light convolution's depthwise kernel */
    uint32_t chunk, context_left, context_right; /* local attention, as Hugging Face's config names them */
    float eps, softcap, residual_weight;
} vkmm_audio_hparams;

typedef struct vkmm_audio_model vkmm_audio_model;
struct vkmm_audio_model {
    const char *projector;              /* "gemma4a" */
    vkmm_audio_hparams hp;
    vkmm_mel_params mel;                /* the front end (sample rate, window, hop, bins) */
    uint64_t piece_samples;             /* long audio is encoded in pieces of this many samples (30 s) */
    uint32_t max_frames;                /* the most mel frames one encode takes (a whole piece's) */
    /* Embedding rows n_frames mel frames become (0 for none). */
    uint32_t (*n_rows)(const vkmm_audio_model *m, uint32_t n_frames);
    /* mel: f32 [n_frames][hp.n_mel] -> [n_rows][hp.n_text_embd] */
    vkmm_tid (*encode)(const vkmm_audio_model *m, vkmm_graph *g, vkmm_tid mel, uint32_t n_frames);
    void (*free)(vkmm_audio_model *m);
    void *impl;
};

typedef vkmm_status (*vkmm_audio_load_fn)(vkmm_weight_source *src, vkmm_audio_model **out, vkmm_error *err);

/* ---- what audio towers share (audio_common.c) ---- */

/* Pieces n samples are cut into (the last may be short; 0 for no samples). */
uint32_t vkmm_audio_pieces(const vkmm_audio_model *m, uint64_t n_samples);
/* The frames of piece `piece` that hold only real audio (those the tower encodes; the reference masks the rest
 * out), f32 [*n_frames][hp.n_mel], malloc'ed; *n_frames may be 0 for a piece too short to fill one frame. */
vkmm_status vkmm_audio_piece_features(const vkmm_audio_model *m, const float *pcm, uint64_t n_samples,
                                      uint32_t piece, float **features, uint32_t *n_frames, vkmm_error *err);
/* Embedding rows all pieces of n samples give together. */
uint64_t vkmm_audio_rows(const vkmm_audio_model *m, uint64_t n_samples);

#endif
