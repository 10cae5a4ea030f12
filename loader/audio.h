/* loader/audio.h — audio in: WAV, FLAC, OGG/Vorbis, Opus and MP3 decoded by libsndfile (size and duration capped
 * before and while decoding), mixed to mono and resampled to the model's rate by libsoxr; and the log-mel front
 * end of Gemma 4's audio encoder (audio_mel.c). */
#ifndef VKMM_LOADER_AUDIO_H
#define VKMM_LOADER_AUDIO_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"

typedef struct vkmm_audio_options {
    uint64_t max_file_bytes; /* largest encoded file accepted (default 64 MiB) */
    double max_seconds;      /* longest audio accepted (default 600 s) */
    uint32_t rate;           /* sample rate of the result (default 16000, what Gemma 4's encoder takes) */
} vkmm_audio_options;

typedef struct vkmm_audio {
    float *pcm;              /* mono samples at `rate`, in [-1, 1] for integer sources */
    uint64_t n;
    uint32_t rate;
    /* what the source was */
    const char *format;      /* "wav", "flac", "ogg", "mp3", "pcm", ... (static string) */
    const char *encoding;    /* "pcm16", "vorbis", "opus", "mp3", "float", ... (static string) */
    uint32_t src_rate, src_channels;
    uint64_t src_frames;
} vkmm_audio;

vkmm_audio_options vkmm_audio_options_default(void);

/* Decodes a file (read whole, at most max_file_bytes). Errors name the file and what is wrong with it. */
vkmm_status vkmm_audio_load(const char *path, const vkmm_audio_options *opt, vkmm_audio *out, vkmm_error *err);
/* Decodes an encoded file held in memory; name is what errors call it. */
vkmm_status vkmm_audio_load_memory(const void *data, size_t len, const char *name, const vkmm_audio_options *opt,
                                   vkmm_audio *out, vkmm_error *err);
/* Takes decoded samples (n_frames × channels, interleaved, at rate) through the same caps, mixing and
 * resampling. */
vkmm_status vkmm_audio_from_pcm(const float *pcm, uint64_t n_frames, uint32_t channels, uint32_t rate,
                                const char *name, const vkmm_audio_options *opt, vkmm_audio *out, vkmm_error *err);
void vkmm_audio_free(vkmm_audio *a);

/* Resamples mono samples with libsoxr's high-quality recipe (what librosa uses by default, so audio loaded
 * there and here agree). *out is malloc'ed. */
vkmm_status vkmm_audio_resample(const float *in, uint64_t n, uint32_t from, uint32_t to, float **out,
                                uint64_t *n_out, vkmm_error *err);

/* ---- log-mel features (audio_mel.c) ---- */

typedef struct vkmm_mel_params {
    uint32_t rate;           /* 16000 */
    uint32_t frame_length;   /* samples per analysis window (320 = 20 ms) */
    uint32_t hop;            /* 160 = 10 ms */
    uint32_t fft;            /* 512 */
    uint32_t n_mel;          /* 128 */
    double fmin, fmax;       /* 0 .. 8000 Hz, HTK mel scale, no normalisation */
    double floor;            /* log(mel + floor), 1e-3 */
    uint32_t pad_to;         /* the waveform is zero-padded to a multiple of this (128) */
} vkmm_mel_params;

/* Gemma 4's audio front end (Hugging Face Gemma4AudioFeatureExtractor): periodic Hann window of 320 samples,
 * 512-point FFT magnitude, 160-sample hop after 160 zeros in front (semicausal), 128 HTK mel bins 0-8 kHz,
 * natural log of mel + 0.001. */
vkmm_mel_params vkmm_mel_params_gemma4(void);
/* Frames for n samples, and how many of them hold only real samples (the rest reach into the padding). */
uint32_t vkmm_mel_frames(const vkmm_mel_params *p, uint64_t n, uint32_t *n_valid);
/* features[frame][mel] (f32, *n_frames × n_mel, malloc'ed); frames past n_valid are zero, as the reference
 * masks them. */
vkmm_status vkmm_mel_compute(const vkmm_mel_params *p, const float *pcm, uint64_t n, float **features,
                             uint32_t *n_frames, uint32_t *n_valid, vkmm_error *err);

#endif
