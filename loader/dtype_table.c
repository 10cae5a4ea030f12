/* loader/dtype_table.c — the table of GGUF tensor types: names, block sizes, bytes per block, and which of them
 * vkmm reads. Layouts: ../shared/reference/gguf.md §4. */
#include <ctype.h>
#include <string.h>

#include "dtype_table.h"

#define T(id, nm, blk, bytes, sup) [id] = {nm, blk, bytes, sup}

static const vkmm_dtype_info table[VKMM_DTYPE_COUNT] = {
    T(VKMM_F32, "F32", 1, 4, true),
    T(VKMM_F16, "F16", 1, 2, true),
    T(VKMM_Q4_0, "Q4_0", 32, 18, true),
    T(VKMM_Q4_1, "Q4_1", 32, 20, true),
    T(VKMM_Q5_0, "Q5_0", 32, 22, true),
    T(VKMM_Q5_1, "Q5_1", 32, 24, true),
    T(VKMM_Q8_0, "Q8_0", 32, 34, true),
    T(VKMM_Q8_1, "Q8_1", 32, 36, false),
    T(VKMM_Q2_K, "Q2_K", 256, 84, true),
    T(VKMM_Q3_K, "Q3_K", 256, 110, true),
    T(VKMM_Q4_K, "Q4_K", 256, 144, true),
    T(VKMM_Q5_K, "Q5_K", 256, 176, true),
    T(VKMM_Q6_K, "Q6_K", 256, 210, true),
    T(VKMM_Q8_K, "Q8_K", 256, 292, false),
    T(VKMM_IQ2_XXS, "IQ2_XXS", 256, 66, false),
    T(VKMM_IQ2_XS, "IQ2_XS", 256, 74, false),
    T(VKMM_IQ3_XXS, "IQ3_XXS", 256, 98, false),
    T(VKMM_IQ1_S, "IQ1_S", 256, 50, false),
    T(VKMM_IQ4_NL, "IQ4_NL", 32, 18, true),
    T(VKMM_IQ3_S, "IQ3_S", 256, 110, false),
    T(VKMM_IQ2_S, "IQ2_S", 256, 82, false),
    T(VKMM_IQ4_XS, "IQ4_XS", 256, 136, true),
    T(VKMM_I8, "I8", 1, 1, false),
    T(VKMM_I16, "I16", 1, 2, false),
    T(VKMM_I32, "I32", 1, 4, false),
    T(VKMM_I64, "I64", 1, 8, false),
    T(VKMM_F64, "F64", 1, 8, false),
    T(VKMM_IQ1_M, "IQ1_M", 256, 56, false),
    T(VKMM_BF16, "BF16", 1, 2, true),
    T(VKMM_TQ1_0, "TQ1_0", 256, 54, false),
    T(VKMM_TQ2_0, "TQ2_0", 256, 66, false),
    T(VKMM_MXFP4, "MXFP4", 32, 17, false),
    T(40, "NVFP4", 64, 36, false),
    T(41, "Q1_0", 128, 18, false),
    T(42, "Q2_0", 64, 18, false),
};

const vkmm_dtype_info *vkmm_dtype_get(uint32_t type)
{
    if (type >= VKMM_DTYPE_COUNT || !table[type].name)
        return NULL; /* unknown, or removed from the format (4, 5, 31-33, 36-38) */
    return &table[type];
}

int vkmm_dtype_from_name(const char *name)
{
    for (int i = 0; i < VKMM_DTYPE_COUNT; i++) {
        const char *a = table[i].name, *b = name;
        if (!a)
            continue;
        while (*a && *b && toupper((unsigned char)*a) == toupper((unsigned char)*b))
            a++, b++;
        if (!*a && !*b)
            return i;
    }
    return -1;
}

uint64_t vkmm_dtype_row_bytes(uint32_t type, uint64_t n)
{
    const vkmm_dtype_info *t = vkmm_dtype_get(type);
    if (!t || n % t->block)
        return 0;
    return n / t->block * t->block_bytes;
}
