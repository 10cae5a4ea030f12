/* runtime/models/audio_common.c — what audio towers share: cutting long audio into the pieces a tower encodes one
 * at a time (llama.cpp's 30-second chunks: each piece framed on its own, as if it were a file of its own) and the
 * piece's valid log-mel frames. */
#include <stdlib.h>

#include "audio_model.h"

uint32_t vkmm_audio_pieces(const vkmm_audio_model *m, uint64_t n_samples)
{
    return (uint32_t)((n_samples + m->piece_samples - 1) / m->piece_samples);
}

static uint64_t piece_length(const vkmm_audio_model *m, uint64_t n_samples, uint32_t piece)
{
    uint64_t start = (uint64_t)piece * m->piece_samples;
    return start >= n_samples ? 0 : n_samples - start < m->piece_samples ? n_samples - start : m->piece_samples;
}

vkmm_status vkmm_audio_piece_features(const vkmm_audio_model *m, const float *pcm, uint64_t n_samples,
                                      uint32_t piece, float **features, uint32_t *n_frames, vkmm_error *err)
{
    *features = NULL;
    *n_frames = 0;
    uint64_t len = piece_length(m, n_samples, piece);
    if (!len)
        return vkmm_fail(err, VKMM_ERR_INVALID_ARG, "audio piece %u of %llu samples does not exist", piece,
                         (unsigned long long)n_samples);
    uint32_t frames, valid;
    vkmm_status s = vkmm_mel_compute(&m->mel, pcm + (uint64_t)piece * m->piece_samples, len, features, &frames, &valid,
                                     err);
    if (s)
        return s;
    /* the frames past `valid` reach into padding: the reference masks them out of the tower, and a tower that
     * never sees them computes the same valid rows (its convolutions pad with the same zeros) */
    *n_frames = valid;
    return VKMM_OK;
}

uint64_t vkmm_audio_rows(const vkmm_audio_model *m, uint64_t n_samples)
{
    uint64_t rows = 0;
    for (uint32_t p = 0, n = vkmm_audio_pieces(m, n_samples); p < n; p++) {
        uint32_t valid;
        vkmm_mel_frames(&m->mel, piece_length(m, n_samples, p), &valid);
        rows += m->n_rows(m, valid);
    }
    return rows;
}
