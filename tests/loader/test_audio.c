/* tests/loader/test_audio.c — the audio loader: log-mel features against numpy's (tests/data/audio, made by
 * scripts/make_audio_vectors.py), every container decoded, mixed to mono and resampled to 16 kHz against the
 * tones it holds, raw PCM in, and the caps. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "audio.h"

static float *read_f32(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long bytes = ftell(f);
    fseek(f, 0, SEEK_SET);
    float *v = malloc((size_t)bytes + 4);
    *n = v && fread(v, 1, (size_t)bytes, f) == (size_t)bytes ? (size_t)bytes / 4 : 0;
    fclose(f);
    return v;
}

static void features_match_numpy(const char *dir)
{
    char p[1024];
    size_t n = 0, nm = 0;
    snprintf(p, sizeof p, "%s/signal.f32", dir);
    float *x = read_f32(p, &n);
    snprintf(p, sizeof p, "%s/mel.f32", dir);
    float *want = read_f32(p, &nm);
    CHECK(x && want && n == 21920 && nm == 137 * 128, "reference data missing (%zu samples, %zu values)", n, nm);
    if (!x || !want || n != 21920) {
        free(x), free(want);
        return;
    }
    vkmm_mel_params mp = vkmm_mel_params_gemma4();
    float *mel;
    uint32_t frames, valid;
    vkmm_error err;
    CHECK_OK(vkmm_mel_compute(&mp, x, n, &mel, &frames, &valid, &err), &err, );
    CHECK(frames == 137 && valid == 136, "%u frames (%u valid), numpy has 137 (136)", frames, valid);
    double worst = 0;
    for (size_t i = 0; i < (size_t)frames * 128 && i < nm; i++)
        worst = fmax(worst, fabs((double)mel[i] - want[i]));
    printf("log-mel vs numpy: %u x 128, largest difference %.3g\n", frames, worst);
    CHECK(worst < 2e-5, "log-mel differs from numpy's by %.3g", worst);
    for (uint32_t k = 0; k < 128; k++)
        CHECK(mel[(size_t)136 * 128 + k] == 0.0f, "the masked frame is not zero");
    free(mel);
    free(x);
    free(want);
}

/* Amplitude of a sine of frequency f in x (rate), by projection onto sin and cos over the middle of the clip. */
static double amplitude(const float *x, uint64_t n, double f, uint32_t rate)
{
    double s = 0, c = 0;
    uint64_t lo = n / 10, hi = n - n / 10;
    for (uint64_t i = lo; i < hi; i++) {
        double ph = 2 * M_PI * f * (double)i / rate;
        s += x[i] * sin(ph);
        c += x[i] * cos(ph);
    }
    return 2 * sqrt(s * s + c * c) / (double)(hi - lo);
}

static void decodes(const char *dir, const char *file, const char *format, uint32_t rate, uint32_t channels,
                    bool lossless)
{
    char p[1024];
    snprintf(p, sizeof p, "%s/%s", dir, file);
    vkmm_audio a;
    vkmm_error err;
    CHECK_OK(vkmm_audio_load(p, NULL, &a, &err), &err, );
    CHECK(!strcmp(a.format, format) && a.src_rate == rate && a.src_channels == channels && a.rate == 16000,
          "%s: %s %u Hz %u ch -> %u Hz", file, a.format, a.src_rate, a.src_channels, a.rate);
    /* 0.6 s: the mono mix is 0.25·sin(440 Hz) + 0.15·sin(1 kHz) */
    double want_n = 0.6 * 16000;
    CHECK(fabs((double)a.n - want_n) < 0.02 * want_n + 1200, "%s: %llu samples at 16 kHz", file,
          (unsigned long long)a.n);
    double a440 = amplitude(a.pcm, a.n, 440, 16000), a1k = amplitude(a.pcm, a.n, 1000, 16000);
    CHECK(fabs(a440 - 0.25) < 0.01 && fabs(a1k - 0.15) < 0.01, "%s: tones at %.4f and %.4f (0.25, 0.15)", file, a440,
          a1k);
    if (lossless) {
        /* the resampled signal sample for sample, away from the edges */
        double worst = 0;
        for (uint64_t i = 800; i + 800 < a.n; i++) {
            double t = (double)i / 16000;
            double y = 0.25 * sin(2 * M_PI * 440 * t) + 0.15 * sin(2 * M_PI * 1000 * t);
            worst = fmax(worst, fabs(a.pcm[i] - y));
        }
        printf("%s: %s, %u Hz x %u -> 16 kHz, worst error %.2g\n", file, a.encoding, rate, channels, worst);
        CHECK(worst < 1e-3, "%s: resampled samples off by %.3g", file, worst);
    } else {
        printf("%s: %s, %u Hz x %u -> 16 kHz, tones %.4f %.4f\n", file, a.encoding, rate, channels, a440, a1k);
    }
    vkmm_audio_free(&a);
}

static void pcm_and_caps(const char *dir)
{
    /* raw interleaved stereo at 32 kHz */
    uint32_t rate = 32000, n = 16000;
    float *pcm = malloc(sizeof *pcm * n * 2);
    for (uint32_t i = 0; i < n; i++) {
        double t = (double)i / rate;
        pcm[2 * i] = (float)(0.5 * sin(2 * M_PI * 440 * t));
        pcm[2 * i + 1] = (float)(0.3 * sin(2 * M_PI * 1000 * t));
    }
    vkmm_audio a;
    vkmm_error err;
    CHECK_OK(vkmm_audio_from_pcm(pcm, n, 2, rate, "pcm", NULL, &a, &err), &err, );
    CHECK(a.n == 8000 && a.rate == 16000, "%llu samples", (unsigned long long)a.n);
    CHECK(fabs(amplitude(a.pcm, a.n, 440, 16000) - 0.25) < 0.005, "pcm tone");
    vkmm_audio_free(&a);
    vkmm_audio_options o = vkmm_audio_options_default();
    o.max_seconds = 0.25;
    CHECK(vkmm_audio_from_pcm(pcm, n, 2, rate, "pcm", &o, &a, &err) == VKMM_ERR_UNSUPPORTED &&
              strstr(err.msg, "cap"), "a long clip passed a short duration cap: %s", err.msg);
    CHECK(vkmm_audio_from_pcm(pcm, n, 0, rate, "pcm", NULL, &a, &err) == VKMM_ERR_UNSUPPORTED, "0 channels");
    CHECK(vkmm_audio_from_pcm(pcm, n, 2, 10, "pcm", NULL, &a, &err) == VKMM_ERR_UNSUPPORTED, "10 Hz");
    pcm[7] = NAN;
    CHECK(vkmm_audio_from_pcm(pcm, n, 2, rate, "pcm", NULL, &a, &err) == VKMM_ERR_FORMAT &&
              strstr(err.msg, "finite"), "a NaN sample passed: %s", err.msg);
    free(pcm);
    char p[1024];
    snprintf(p, sizeof p, "%s/tone-44k-stereo-pcm16.wav", dir);
    o = vkmm_audio_options_default();
    o.max_seconds = 0.5;
    CHECK(vkmm_audio_load(p, &o, &a, &err) == VKMM_ERR_UNSUPPORTED && strstr(err.msg, "tone-44k"),
          "the duration cap: %s", err.msg);
    o = vkmm_audio_options_default();
    o.max_file_bytes = 1000;
    CHECK(vkmm_audio_load(p, &o, &a, &err) != VKMM_OK && strstr(err.msg, "tone-44k"), "the size cap: %s", err.msg);
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: test_audio DATA_DIR\n");
        return 2;
    }
    features_match_numpy(argv[1]);
    decodes(argv[1], "tone-44k-stereo-pcm16.wav", "wav", 44100, 2, true);
    decodes(argv[1], "tone-48k-mono.flac", "flac", 48000, 1, true);
    decodes(argv[1], "tone-8k-mono-float.wav", "wav", 8000, 1, false); /* 8 kHz: 1 kHz is fine, but edges */
    decodes(argv[1], "tone-16k-mono-pcm16.wav", "wav", 16000, 1, true);
    decodes(argv[1], "tone-22k-stereo.ogg", "ogg", 22050, 2, false);
    decodes(argv[1], "tone-44k-mono.mp3", "mp3", 44100, 1, false);
    pcm_and_caps(argv[1]);
    return test_finish("loader-audio");
}
