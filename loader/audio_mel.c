/* loader/audio_mel.c — the log-mel front end of Gemma 4's audio encoder, on the CPU in double precision as the
 * Hugging Face feature extractor computes it (numpy): zero-pad to a multiple of 128 samples, 160 zeros in front,
 * frames of 321 samples every 160 of which the first 320 are used, times a periodic Hann window (f32), a 512-point
 * FFT, its magnitude, an HTK mel filter bank without normalisation, log(mel + 0.001). The FFT is a plain radix-2
 * transform: 512 points per 10 ms of audio is a few microseconds, not worth a library. */
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "audio.h"

vkmm_mel_params vkmm_mel_params_gemma4(void)
{
    return (vkmm_mel_params){.rate = 16000, .frame_length = 320, .hop = 160, .fft = 512, .n_mel = 128,
                             .fmin = 0.0, .fmax = 8000.0, .floor = 1e-3, .pad_to = 128};
}

static uint64_t padded_length(const vkmm_mel_params *p, uint64_t n)
{
    return p->pad_to > 1 ? (n + p->pad_to - 1) / p->pad_to * p->pad_to : n;
}

uint32_t vkmm_mel_frames(const vkmm_mel_params *p, uint64_t n, uint32_t *n_valid)
{
    /* frames of frame_length + 1 samples (the last feeds pre-emphasis, which Gemma 4 does not use) over the
     * waveform with frame_length / 2 zeros in front */
    uint64_t len = padded_length(p, n) + p->frame_length / 2, size = (uint64_t)p->frame_length + 1;
    uint64_t frames = len >= size ? (len - size) / p->hop + 1 : 0;
    /* a frame is valid when the last sample of its window is real audio: i·hop + frame_length/2 < n */
    uint64_t valid = 0;
    while (valid < frames && valid * p->hop + p->frame_length / 2 < n)
        valid++;
    if (n_valid)
        *n_valid = (uint32_t)valid;
    return (uint32_t)frames;
}

/* In-place iterative radix-2 FFT of n (a power of two) complex values. */
static void fft(double *re, double *im, uint32_t n)
{
    for (uint32_t i = 1, j = 0; i < n; i++) {
        uint32_t bit = n >> 1;
        for (; j & bit; bit >>= 1)
            j ^= bit;
        j ^= bit;
        if (i < j) {
            double t = re[i];
            re[i] = re[j], re[j] = t;
            t = im[i];
            im[i] = im[j], im[j] = t;
        }
    }
    for (uint32_t len = 2; len <= n; len <<= 1) {
        double ang = -2.0 * M_PI / len;
        for (uint32_t i = 0; i < n; i += len)
            for (uint32_t k = 0; k < len / 2; k++) {
                double wr = cos(ang * k), wi = sin(ang * k);
                double *ar = &re[i + k], *ai = &im[i + k], *br = &re[i + k + len / 2], *bi = &im[i + k + len / 2];
                double tr = *br * wr - *bi * wi, ti = *br * wi + *bi * wr;
                *br = *ar - tr, *bi = *ai - ti;
                *ar += tr, *ai += ti;
            }
    }
}

/* numpy.linspace(a, b, n)[i]: start + i·step, the last point exactly b. */
static double linspace(double a, double b, uint32_t n, uint32_t i)
{
    return i == n - 1 ? b : a + (double)i * ((b - a) / (double)(n - 1));
}

/* filters[bin][mel], Hugging Face's mel_filter_bank(mel_scale="htk", norm=None). */
static double *mel_filters(const vkmm_mel_params *p)
{
    uint32_t bins = p->fft / 2 + 1, m = p->n_mel;
    double *f = calloc((size_t)bins * m, sizeof *f);
    double *pts = malloc(sizeof *pts * (m + 2));
    if (!f || !pts) {
        free(f);
        free(pts);
        return NULL;
    }
    double mel_lo = 2595.0 * log10(1.0 + p->fmin / 700.0), mel_hi = 2595.0 * log10(1.0 + p->fmax / 700.0);
    for (uint32_t i = 0; i < m + 2; i++)
        pts[i] = 700.0 * (pow(10.0, linspace(mel_lo, mel_hi, m + 2, i) / 2595.0) - 1.0);
    for (uint32_t b = 0; b < bins; b++) {
        double freq = linspace(0.0, (double)(p->rate / 2), bins, b);
        for (uint32_t k = 0; k < m; k++) {
            double down = -(pts[k] - freq) / (pts[k + 1] - pts[k]);
            double up = (pts[k + 2] - freq) / (pts[k + 2] - pts[k + 1]);
            double v = down < up ? down : up;
            f[(size_t)b * m + k] = v > 0 ? v : 0;
        }
    }
    free(pts);
    return f;
}

vkmm_status vkmm_mel_compute(const vkmm_mel_params *p, const float *pcm, uint64_t n, float **features,
                             uint32_t *n_frames, uint32_t *n_valid, vkmm_error *err)
{
    *features = NULL;
    *n_frames = *n_valid = 0;
    if (!p->fft || (p->fft & (p->fft - 1)) || p->frame_length > p->fft || !p->hop || !p->n_mel || !p->rate)
        return vkmm_fail(err, VKMM_ERR_INVALID_ARG, "mel front end: frame %u, hop %u, FFT %u (a power of two at least "
                         "the frame), %u bins", p->frame_length, p->hop, p->fft, p->n_mel);
    uint32_t valid, frames = vkmm_mel_frames(p, n, &valid);
    uint32_t bins = p->fft / 2 + 1, half = p->frame_length / 2;
    float *out = calloc((size_t)frames * p->n_mel + 1, sizeof *out);
    double *filt = mel_filters(p), *re = malloc(sizeof *re * p->fft), *im = malloc(sizeof *im * p->fft);
    double *mag = malloc(sizeof *mag * bins);
    float *win = malloc(sizeof *win * p->frame_length);
    if (!out || !filt || !re || !im || !mag || !win) {
        free(out), free(filt), free(re), free(im), free(mag), free(win);
        return vkmm_fail(err, VKMM_ERR_HOST_MEMORY, "out of host memory for %u audio frames", frames);
    }
    for (uint32_t i = 0; i < p->frame_length; i++) /* periodic Hann, in f32 as the reference keeps it */
        win[i] = (float)(0.5 - 0.5 * cos(2.0 * M_PI * i / p->frame_length));
    for (uint32_t f = 0; f < valid; f++) {
        for (uint32_t i = 0; i < p->fft; i++) {
            re[i] = im[i] = 0;
            if (i >= p->frame_length)
                continue;
            /* sample of the zero-padded waveform with `half` zeros in front */
            int64_t s = (int64_t)f * p->hop + i - half;
            float x = s >= 0 && (uint64_t)s < n ? pcm[s] : 0.0f;
            re[i] = (double)(x * win[i]); /* the product in f32, as numpy forms it */
        }
        fft(re, im, p->fft);
        for (uint32_t b = 0; b < bins; b++)
            mag[b] = sqrt(re[b] * re[b] + im[b] * im[b]);
        for (uint32_t k = 0; k < p->n_mel; k++) {
            double acc = 0;
            for (uint32_t b = 0; b < bins; b++)
                acc += mag[b] * filt[(size_t)b * p->n_mel + k];
            out[(size_t)f * p->n_mel + k] = (float)log(acc + p->floor);
        }
    }
    free(filt), free(re), free(im), free(mag), free(win);
    *features = out;
    *n_frames = frames;
    *n_valid = valid;
    return VKMM_OK;
}
