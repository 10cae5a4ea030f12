/* runtime/gpu/shader_registry.h — the embedded SPIR-V blobs that shaders/compile.py generates. */
#ifndef VKMM_SHADER_REGISTRY_H
#define VKMM_SHADER_REGISTRY_H

#include <stdint.h>

struct vkmm_shader_blob {
    const char *name;
    const uint32_t *words;
    uint32_t n_words;
};

extern const struct vkmm_shader_blob *const vkmm_shader_table[]; /* sorted by name */
extern const unsigned vkmm_shader_count;

#endif
