/* common/hash.h — the one non-cryptographic hash the layers share (FNV-1a, 64-bit): cache keys and checksums. */
#ifndef VKMM_COMMON_HASH_H
#define VKMM_COMMON_HASH_H

#include <stddef.h>
#include <stdint.h>

#define VKMM_FNV1A64_INIT 0xcbf29ce484222325ull /* the standard offset basis */

/* Folds n bytes into h (start from VKMM_FNV1A64_INIT, or another seed to key things apart). */
uint64_t vkmm_fnv1a64(const void *data, size_t n, uint64_t h);

#endif
