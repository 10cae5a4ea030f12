/* loader/dtype_table.h — the one table of tensor types vkmm knows (name, block size, bytes per block), CPU
 * dequantization of every supported type (the tests' reference) and quantization (for synth and tests). */
#ifndef VKMM_LOADER_DTYPE_TABLE_H
#define VKMM_LOADER_DTYPE_TABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dtype.h"

typedef struct vkmm_dtype_info {
    const char *name;        /* "Q4_K", as ggml names it */
    uint32_t block;          /* elements per block (1 for plain types) */
    uint32_t block_bytes;    /* bytes per block */
    bool supported;          /* vkmm can dequantize (and its kernels read) this type */
} vkmm_dtype_info;

/* NULL for ids that are unknown or removed from the format. */
const vkmm_dtype_info *vkmm_dtype_get(uint32_t type);
/* Looks a type up by name ("q4_k" or "Q4_K"); returns -1 if unknown. */
int vkmm_dtype_from_name(const char *name);
/* Bytes of a row of n elements (n must be a multiple of the block size); 0 if not. */
uint64_t vkmm_dtype_row_bytes(uint32_t type, uint64_t n);

/* Dequantizes n elements (a multiple of the block size) starting at src; false if unsupported. */
bool vkmm_dequantize(uint32_t type, const void *src, float *dst, size_t n);
/* Quantizes n elements (a multiple of the block size); false if vkmm cannot write the type. */
bool vkmm_quantize(uint32_t type, const float *src, void *dst, size_t n);

#endif
