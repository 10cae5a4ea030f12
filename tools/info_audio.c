/* tools/info_audio.c — `vkmm info --audio FILE`: decode one audio file on its own and print what vkmm makes of
 * it: container, encoding, rate, channels and duration, then the 16 kHz mono signal and its log-mel frames. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "loader/audio.h"

int vkmm_info_audio(int argc, char **argv)
{
    const char *file = NULL;
    bool json = false;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--json"))
            json = true;
        else if (!strcmp(argv[i], "--audio") && i + 1 < argc)
            file = argv[++i];
        else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
            printf("usage: vkmm info --audio FILE [--json]\n  WAV, FLAC, OGG (Vorbis, Opus), AIFF or MP3: mixed to "
                   "mono, resampled to 16 kHz, Gemma 4's log-mel frames\n");
            return 0;
        } else {
            fprintf(stderr, "vkmm: unexpected argument '%s'\nusage: vkmm info --audio FILE [--json]\n", argv[i]);
            return 2;
        }
    }
    if (!file) {
        fprintf(stderr, "vkmm: no file given\nusage: vkmm info --audio FILE [--json]\n");
        return 2;
    }
    vkmm_error err;
    vkmm_audio a;
    if (vkmm_audio_load(file, NULL, &a, &err)) {
        fprintf(stderr, "vkmm: %s\n", err.msg);
        return 1;
    }
    vkmm_mel_params mp = vkmm_mel_params_gemma4();
    uint32_t frames, valid;
    float *mel = NULL;
    if (vkmm_mel_compute(&mp, a.pcm, a.n, &mel, &frames, &valid, &err)) {
        fprintf(stderr, "vkmm: %s: %s\n", file, err.msg);
        vkmm_audio_free(&a);
        return 1;
    }
    double peak = 0, sq = 0;
    for (uint64_t i = 0; i < a.n; i++) {
        peak = fabs(a.pcm[i]) > peak ? fabs(a.pcm[i]) : peak;
        sq += (double)a.pcm[i] * a.pcm[i];
    }
    double rms = a.n ? sqrt(sq / (double)a.n) : 0, seconds = (double)a.src_frames / a.src_rate;
    if (json) {
        printf("{\"file\": ");
        vkmm_cli_json_string(stdout, file);
        printf(", \"format\": \"%s\", \"encoding\": \"%s\", \"rate\": %u, \"channels\": %u, \"frames\": %llu, "
               "\"seconds\": %.6f, \"resampled\": {\"rate\": %u, \"samples\": %llu, \"peak\": %.6g, \"rms\": %.6g}, "
               "\"mel\": {\"frames\": %u, \"valid\": %u, \"bins\": %u}}\n",
               a.format, a.encoding, a.src_rate, a.src_channels, (unsigned long long)a.src_frames, seconds, a.rate,
               (unsigned long long)a.n, peak, rms, frames, valid, mp.n_mel);
    } else {
        printf("audio: %s\n  format: %s (%s), %u Hz, %u channel%s, %.3f s (%llu frames)\n", file, a.format,
               a.encoding, a.src_rate, a.src_channels, a.src_channels == 1 ? "" : "s", seconds,
               (unsigned long long)a.src_frames);
        printf("  mono at %u Hz: %llu samples, peak %.4g, rms %.4g\n", a.rate, (unsigned long long)a.n, peak, rms);
        printf("  log-mel: %u frames of %u bins (%u from real samples), 10 ms apart\n", frames, mp.n_mel, valid);
    }
    free(mel);
    vkmm_audio_free(&a);
    return 0;
}
