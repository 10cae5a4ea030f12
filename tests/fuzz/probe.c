/* tests/fuzz/probe.c — configure-time check that clang can build and link a libFuzzer target with ASan/UBSan. */
#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    return size > 0 && data[0] == 0;
}
