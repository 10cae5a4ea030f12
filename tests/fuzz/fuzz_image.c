/* tests/fuzz/fuzz_image.c — libFuzzer target for the image path: decode from memory (magic bytes, container
 * checks, caps, stb_image, compositing) and, when that succeeds, every preprocessing mode on small outputs.
 * Build alone: clang -fsanitize=fuzzer,address,undefined -I. -Icommon -Iruntime/engine -I/usr/include/stb
 *   -DVKMM_STB_KEEP_ASSERTS -DFUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION tests/fuzz/fuzz_image.c loader/image.c
 *   loader/image_check.c loader/image_check_jpeg.c loader/image_prep.c loader/resample.c loader/stb_image_impl.c
 *   common/error.c -lm
 * (the last define skips PNG CRC checks so that mutated PNGs reach stb's decoder). */
#include <stddef.h>
#include <stdint.h>

#include "image.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* Smaller caps than the defaults keep each run fast; the cap logic itself is the same code. */
    vkmm_image_options o = vkmm_image_options_default();
    o.max_side = 4096;
    o.max_decoded_bytes = 8u << 20;
    if (size)
        o.background[1] = data[size - 1];
    vkmm_image img;
    vkmm_error err;
    if (vkmm_image_load_memory(data, size, "fuzz-input", &o, &img, &err) != VKMM_OK)
        return 0;
    vkmm_image_prep preps[4] = {vkmm_image_prep_gemma3(24), vkmm_image_prep_pixtral(40),
                                vkmm_image_prep_pixtral_llama(6), vkmm_image_prep_gemma3(5)};
    preps[3].filter = VKMM_FILTER_PIL_BICUBIC;
    for (int i = 0; i < 4; i++) {
        vkmm_image_tensor t;
        if (vkmm_image_preprocess(&img, &preps[i], &t, &err) == VKMM_OK)
            vkmm_image_tensor_free(&t);
    }
    vkmm_image_free(&img);
    return 0;
}
