/* common/hash.c — FNV-1a, 64-bit. */
#include "hash.h"

uint64_t vkmm_fnv1a64(const void *data, size_t n, uint64_t h)
{
    const uint8_t *p = data;
    for (size_t i = 0; i < n; i++)
        h = (h ^ p[i]) * 0x100000001b3ull;
    return h;
}
