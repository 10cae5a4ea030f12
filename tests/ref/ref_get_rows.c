/* tests/ref/ref_get_rows.c — the embedding lookup reference. */
#include <string.h>

#include "dtype_table.h"
#include "ref_get_rows.h"

void ref_get_rows(uint32_t type, const void *table, size_t n_rows, size_t n_cols, const int32_t *ids, size_t n_ids,
                  float *out, size_t out_stride, float scale)
{
    size_t row_bytes = vkmm_dtype_row_bytes(type, n_cols);
    for (size_t i = 0; i < n_ids; i++) {
        float *o = out + i * out_stride;
        if (ids[i] < 0 || (size_t)ids[i] >= n_rows) {
            memset(o, 0, n_cols * sizeof *o);
            continue;
        }
        vkmm_dequantize(type, (const uint8_t *)table + (size_t)ids[i] * row_bytes, o, n_cols);
        for (size_t c = 0; c < n_cols; c++)
            o[c] *= scale;
    }
}
