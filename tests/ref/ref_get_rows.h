/* tests/ref/ref_get_rows.h — plain-C reference of the embedding lookup (loader/dequantize.c does the decoding). */
#ifndef VKMM_TEST_REF_GET_ROWS_H
#define VKMM_TEST_REF_GET_ROWS_H

#include <stddef.h>
#include <stdint.h>

/* out[i][:] (row stride out_stride) = dequant(row ids[i] of the n_rows × n_cols table) · scale, zeros for ids
 * outside the table; elements between rows are left alone. */
void ref_get_rows(uint32_t type, const void *table, size_t n_rows, size_t n_cols, const int32_t *ids, size_t n_ids,
                  float *out, size_t out_stride, float scale);

#endif
