/* tests/fuzz/fuzz_audio.c — libFuzzer target for the audio path: container sniffing, libsndfile decoding from
 * memory with the caps, mixing, resampling, and the log-mel front end on what decodes.
 * Build alone: clang -fsanitize=fuzzer,address,undefined -I. -Icommon -Iruntime/engine tests/fuzz/fuzz_audio.c
 *   loader/audio.c loader/audio_resample.c loader/audio_mel.c loader/image.c loader/image_check.c
 *   loader/image_check_jpeg.c loader/image_prep.c loader/resample.c loader/stb_image_impl.c common/error.c
 *   -lsndfile -lsoxr -lm */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "audio.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* smaller caps than the defaults keep each run fast; the cap logic itself is the same code */
    vkmm_audio_options o = vkmm_audio_options_default();
    o.max_file_bytes = 1u << 20;
    o.max_seconds = 4.0;
    vkmm_audio a;
    vkmm_error err;
    if (vkmm_audio_load_memory(data, size, "fuzz-input", &o, &a, &err) != VKMM_OK)
        return 0;
    vkmm_mel_params mp = vkmm_mel_params_gemma4();
    float *mel;
    uint32_t frames, valid;
    if (vkmm_mel_compute(&mp, a.pcm, a.n, &mel, &frames, &valid, &err) == VKMM_OK)
        free(mel);
    vkmm_audio_free(&a);
    return 0;
}
