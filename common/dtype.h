/* common/dtype.h — tensor element types, numbered as GGUF/ggml number them (ggml_type ids). */
#ifndef VKMM_COMMON_DTYPE_H
#define VKMM_COMMON_DTYPE_H

typedef enum vkmm_dtype {
    VKMM_F32 = 0,
    VKMM_F16 = 1,
    VKMM_Q4_0 = 2,
    VKMM_Q4_1 = 3,
    VKMM_Q5_0 = 6,
    VKMM_Q5_1 = 7,
    VKMM_Q8_0 = 8,
    VKMM_Q8_1 = 9,
    VKMM_Q2_K = 10,
    VKMM_Q3_K = 11,
    VKMM_Q4_K = 12,
    VKMM_Q5_K = 13,
    VKMM_Q6_K = 14,
    VKMM_Q8_K = 15,
    VKMM_IQ2_XXS = 16,
    VKMM_IQ2_XS = 17,
    VKMM_IQ3_XXS = 18,
    VKMM_IQ1_S = 19,
    VKMM_IQ4_NL = 20,
    VKMM_IQ3_S = 21,
    VKMM_IQ2_S = 22,
    VKMM_IQ4_XS = 23,
    VKMM_I8 = 24,
    VKMM_I16 = 25,
    VKMM_I32 = 26,
    VKMM_I64 = 27,
    VKMM_F64 = 28,
    VKMM_IQ1_M = 29,
    VKMM_BF16 = 30,
    VKMM_TQ1_0 = 34,
    VKMM_TQ2_0 = 35,
    VKMM_MXFP4 = 39,
    VKMM_DTYPE_COUNT = 43,
} vkmm_dtype;

#endif
