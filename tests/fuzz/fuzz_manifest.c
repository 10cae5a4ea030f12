/* tests/fuzz/fuzz_manifest.c — libFuzzer target for YAML model manifests parsed from memory (files are not
 * checked: base_dir NULL). Build alone: clang -fsanitize=fuzzer,address,undefined -I. -Icommon
 *   -Iruntime/engine tests/fuzz/fuzz_manifest.c loader/manifest.c loader/image.c loader/image_check.c
 *   loader/image_check_jpeg.c loader/image_prep.c loader/resample.c loader/stb_image_impl.c common/error.c -I/usr/include/stb -lyaml -lm */
#include <stddef.h>
#include <stdint.h>

#include "manifest.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    vkmm_manifest m;
    vkmm_error err;
    if (vkmm_manifest_parse((const char *)data, size, "fuzz.yaml", NULL, &m, &err) == VKMM_OK)
        vkmm_manifest_free(&m);
    return 0;
}
