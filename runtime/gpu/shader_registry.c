/* runtime/gpu/shader_registry.c — finds an embedded shader variant by name (binary search). */
#include <string.h>

#include "gpu.h"
#include "shader_registry.h"

const vkmm_shader_blob *vkmm_shader_find(const char *name)
{
    unsigned lo = 0, hi = vkmm_shader_count;
    while (lo < hi) {
        unsigned mid = (lo + hi) / 2;
        int c = strcmp(name, vkmm_shader_table[mid]->name);
        if (c == 0)
            return vkmm_shader_table[mid];
        if (c < 0)
            hi = mid;
        else
            lo = mid + 1;
    }
    return NULL;
}
