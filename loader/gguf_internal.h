/* loader/gguf_internal.h — what the GGUF reader's files share: the open file's state, its allocation arena
 * and its name indexes. Not for use outside loader/gguf_*.c. */
#ifndef VKMM_LOADER_GGUF_INTERNAL_H
#define VKMM_LOADER_GGUF_INTERNAL_H

#include "gguf.h"

/* Every allocation of an open file comes from its arena and dies with it: parse errors then need no
 * unwinding, whatever depth they happen at. */
typedef struct vkmm_gguf_chunk vkmm_gguf_chunk;

/* Open-addressing hash of names to indexes; slots hold index + 1 (0 = empty). */
typedef struct vkmm_gguf_index {
    uint64_t *slots;
    uint64_t mask; /* capacity - 1; capacity is a power of two at least twice the number of names */
} vkmm_gguf_index;

struct vkmm_gguf {
    char *path;
    const uint8_t *base;
    uint64_t size;
    bool mapped; /* base came from mmap and is unmapped on close */
    uint32_t version;
    uint32_t alignment;
    uint64_t data_offset;
    uint64_t n_kv, n_tensors;
    vkmm_gguf_kv *kv;
    vkmm_gguf_tensor *tensors;
    vkmm_gguf_index kv_index, tensor_index;
    vkmm_gguf_chunk *chunks;
};

/* The little-endian unsigned integer of 1 to 8 bytes at p. */
uint64_t vkmm_gguf_le(const uint8_t *p, size_t bytes);

/* Zeroed memory from g's arena, or NULL when n overflows or malloc fails. */
void *vkmm_gguf_alloc(vkmm_gguf *g, uint64_t count, uint64_t elem_size);
void vkmm_gguf_free_arena(vkmm_gguf *g);

/* Sizes the index for n names (false when out of memory). */
bool vkmm_gguf_index_init(vkmm_gguf *g, vkmm_gguf_index *ix, uint64_t n);
/* Inserts names[i]; returns the index of an equal name already present (duplicate), or UINT64_MAX. */
uint64_t vkmm_gguf_kv_index_add(vkmm_gguf *g, uint64_t i);
uint64_t vkmm_gguf_tensor_index_add(vkmm_gguf *g, uint64_t i);

#endif
