/* runtime/ops/tuning_keys.h — every tuning key of every kernel family, declared once. Their values, defaults
 * included, come only from runtime/ops/tuning.yaml (then the device entries and VKMM_TUNING): the code has no
 * fallbacks of its own, a table that sets a key not declared here is refused, and ops creation fails if the
 * built-in `defaults` leave a key out. */
#ifndef VKMM_OPS_TUNING_KEYS_H
#define VKMM_OPS_TUNING_KEYS_H

/* X(NAME, "family", "key"): the value is vkmm_ops_tune(ops, VKMM_TUNE_NAME). */
#define VKMM_TUNING_KEYS(X)                                                                                       \
    X(ELEMENTWISE_WORKGROUP, "elementwise", "workgroup")                                                          \
    X(MATVEC_WORKGROUP, "matvec", "workgroup")                                                                    \
    X(MATVEC_THREADS_PER_ROW, "matvec", "threads_per_row")                                                        \
    X(MATVEC_ROWS_PER_THREAD, "matvec", "rows_per_thread")                                                        \
    X(MATVEC_MIN_THREADS, "matvec", "min_threads")                                                                \
    X(MATVEC_MAX_COLS, "matvec", "max_cols")                                                                      \
    X(MATVEC_CHUNKED_COLS, "matvec", "chunked_cols")                                                              \
    X(MATVEC_SUBGROUP, "matvec", "subgroup")                                                                      \
    X(MATVEC_GENERIC, "matvec", "generic")                                                                        \
    X(MATVEC_LANES, "matvec", "lanes")                                                                            \
    X(MATVEC_LANE_ROWS, "matvec", "lane_rows")                                                                    \
    X(MATVEC_FLOAT_COLS, "matvec", "float_cols")                                                                  \
    X(MATVEC_FLOAT_LANE_ROWS, "matvec", "float_lane_rows")                                                        \
    X(MATMUL_BM, "matmul", "bm")                                                                                  \
    X(MATMUL_BN, "matmul", "bn")                                                                                  \
    X(MATMUL_TM, "matmul", "tm")                                                                                  \
    X(MATMUL_TN, "matmul", "tn")                                                                                  \
    X(MATMUL_BK, "matmul", "bk")                                                                                  \
    X(MATMUL_SMALL_COLS, "matmul", "small_cols")                                                                  \
    X(MATMUL_SMALL_BM, "matmul", "small_bm")                                                                      \
    X(MATMUL_SMALL_BN, "matmul", "small_bn")                                                                      \
    X(MATMUL_SMALL_TM, "matmul", "small_tm")                                                                      \
    X(MATMUL_SMALL_TN, "matmul", "small_tn")                                                                      \
    X(MATMUL_SMALL_BK, "matmul", "small_bk")                                                                      \
    X(NORM_WORKGROUP, "norm", "workgroup")                                                                        \
    X(NORM_SUBGROUP, "norm", "subgroup")                                                                          \
    X(ROPE_WORKGROUP, "rope", "workgroup")                                                                        \
    X(ROPE_SUBGROUP, "rope", "subgroup")                                                                          \
    X(ACT_WORKGROUP, "act", "workgroup")                                                                          \
    X(SOFTMAX_WORKGROUP, "softmax", "workgroup")                                                                  \
    X(SOFTMAX_SUBGROUP, "softmax", "subgroup")                                                                    \
    X(SOFTMAX_CHUNK, "softmax", "chunk")                                                                          \
    X(SOFTMAX_TEXEL, "softmax", "texel")                                                                          \
    X(GET_ROWS_WORKGROUP, "get_rows", "workgroup")                                                                \
    X(GET_ROWS_PER_ELEMENT, "get_rows", "per_element")                                                            \
    X(LAYOUT_WORKGROUP, "layout", "workgroup")                                                                    \
    X(ATTENTION_WORKGROUP, "attention", "workgroup")                                                              \
    X(ATTENTION_ROWS, "attention", "rows")                                                                        \
    X(ATTENTION_KEYS, "attention", "keys")                                                                        \
    X(ATTENTION_DECODE_WORKGROUP, "attention", "decode_workgroup")                                                \
    X(ATTENTION_DECODE_KEYS, "attention", "decode_keys")                                                          \
    X(ATTENTION_SPLIT_GROUPS, "attention", "split_groups")                                                        \
    X(ATTENTION_SPLIT_MIN_KEYS, "attention", "split_min_keys")                                                    \
    X(ATTENTION_SHARED_LIMIT, "attention", "shared_limit")                                                        \
    X(ATTENTION_BIND_LIMIT, "attention", "bind_limit")                                                            \
    X(ATTENTION_MATMUL_ROWS, "attention", "matmul_rows")                                                          \
    X(ATTENTION_MERGE_WORKGROUP, "attention_merge", "workgroup")                                                  \
    X(ATTENTION_MERGE_COLS, "attention_merge", "cols")                                                            \
    X(KV_STORE_WORKGROUP, "kv_store", "workgroup")                                                                \
    X(MOE_WORKGROUP, "moe", "workgroup")                                                                          \
    X(MOE_GROUPED_TOKENS, "moe", "grouped_tokens") \
    X(CONV_WORKGROUP, "conv", "workgroup")                                                                        \
    X(ATTENTION_LOCAL_WORKGROUP, "attention_local", "workgroup")

typedef enum vkmm_tune {
#define VKMM_TUNE_ENUM(name, family, key) VKMM_TUNE_##name,
    VKMM_TUNING_KEYS(VKMM_TUNE_ENUM)
#undef VKMM_TUNE_ENUM
    VKMM_TUNE_COUNT
} vkmm_tune;

#endif
