/* runtime/engine/describe_audio.c — vkmm_describe_audio, what `vkmm info --audio FILE` prints: one audio file
 * decoded on its own (container, encoding, rate, channels, duration), the 16 kHz mono signal vkmm makes of it, and
 * Gemma 4's log-mel frames of that. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "audio.h"
#include "report.h"
#include "text_out.h"
#include "vkmm.h"

static void print_audio(FILE *f, const char *file, const vkmm_audio *a, const vkmm_mel_params *mp, uint32_t frames,
                        uint32_t valid, bool json)
{
    double peak = 0, sq = 0;
    for (uint64_t i = 0; i < a->n; i++) {
        peak = fabs(a->pcm[i]) > peak ? fabs(a->pcm[i]) : peak;
        sq += (double)a->pcm[i] * a->pcm[i];
    }
    double rms = a->n ? sqrt(sq / (double)a->n) : 0, seconds = (double)a->src_frames / a->src_rate;
    if (json) {
        fprintf(f, "{\"file\": ");
        vkmm_json_write_string(f, file);
        fprintf(f, ", \"format\": \"%s\", \"encoding\": \"%s\", \"rate\": %u, \"channels\": %u, \"frames\": %llu, "
                   "\"seconds\": %.6f, \"resampled\": {\"rate\": %u, \"samples\": %llu, \"peak\": %.6g, \"rms\": %.6g}, "
                   "\"mel\": {\"frames\": %u, \"valid\": %u, \"bins\": %u}}\n",
                a->format, a->encoding, a->src_rate, a->src_channels, (unsigned long long)a->src_frames, seconds,
                a->rate, (unsigned long long)a->n, peak, rms, frames, valid, mp->n_mel);
    } else {
        fprintf(f, "audio: %s\n  format: %s (%s), %u Hz, %u channel%s, %.3f s (%llu frames)\n", file, a->format,
                a->encoding, a->src_rate, a->src_channels, a->src_channels == 1 ? "" : "s", seconds,
                (unsigned long long)a->src_frames);
        fprintf(f, "  mono at %u Hz: %llu samples, peak %.4g, rms %.4g\n", a->rate, (unsigned long long)a->n, peak,
                rms);
        fprintf(f, "  log-mel: %u frames of %u bins (%u from real samples), 10 ms apart\n", frames, mp->n_mel, valid);
    }
}

VKMM_API vkmm_status vkmm_describe_audio(const char *path, bool json, FILE *out, vkmm_error *err)
{
    if (!path || !out)
        return vkmm_fail(err, VKMM_ERR_INVALID_ARG, "vkmm_describe_audio needs a path and a FILE");
    vkmm_audio a;
    vkmm_status st = vkmm_audio_load(path, NULL, &a, err);
    if (st)
        return st;
    vkmm_mel_params mp = vkmm_mel_params_gemma4();
    uint32_t frames = 0, valid = 0;
    float *mel = NULL;
    if ((st = vkmm_mel_compute(&mp, a.pcm, a.n, &mel, &frames, &valid, err))) {
        vkmm_audio_free(&a);
        return vkmm_error_prefix(err, st, "%s", path);
    }
    vkmm_report rep;
    if (!(st = vkmm_report_open(&rep, err))) {
        print_audio(rep.f, path, &a, &mp, frames, valid, json);
        st = vkmm_report_close(&rep, st, out, path, err);
    }
    free(mel);
    vkmm_audio_free(&a);
    return st;
}
