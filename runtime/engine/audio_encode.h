/* runtime/engine/audio_encode.h — audio samples become embedding rows of the text model on the GPU: cut into the
 * tower's pieces (30 s for Gemma 4), each piece's valid log-mel frames (CPU) through the tower's graph, the rows of
 * all pieces one after the other in one device buffer. The engine's audio inputs call it, and so do the tests and
 * the benchmark, which have no session. */
#ifndef VKMM_ENGINE_AUDIO_ENCODE_H
#define VKMM_ENGINE_AUDIO_ENCODE_H

#include "audio_model.h"

typedef struct vkmm_audio_encoding {
    vkmm_buffer *rows;       /* f32 [n_rows][hp.n_text_embd] in device memory; the caller destroys it */
    uint64_t n_rows;
    uint32_t n_pieces;       /* pieces encoded (a trailing piece too short for one frame gives no rows) */
    double features_ms;      /* the log-mel front end on the CPU */
    double encode_ms;        /* the tower: graph building, recording and the GPU's work, submit to finish */
} vkmm_audio_encoding;

/* pcm: n mono samples at m->mel.rate. cmd is reset and reused for every piece. Audio too short for one frame
 * is an error naming `name`. */
vkmm_status vkmm_audio_encode(vkmm_gpu *gpu, vkmm_ops *ops, vkmm_cmd *cmd, const vkmm_audio_model *m,
                              const float *pcm, uint64_t n, const char *name, vkmm_audio_encoding *out, vkmm_error *err);

#endif
