/* runtime/ops/get_rows.h — embedding lookup: rows of a table stored in any GGUF type vkmm reads, dequantized to
 * f32 and scaled; tables larger than one binding are read as row-aligned pieces. */
#ifndef VKMM_OPS_GET_ROWS_H
#define VKMM_OPS_GET_ROWS_H

#include "ops.h"

/* out[i][:] = dequant(table row ids[i]) · scale for i < n_ids; out row i starts at element i · out_stride
 * (0: n_cols). The table has n_rows rows of n_cols elements of type `type` and is given as n_pieces ranges
 * that hold consecutive whole rows in order (piece p begins with the row after the last of piece p − 1); each
 * must start 2-byte aligned. ids are int32; an id outside [0, n_rows) gives a row of zeros. */
vkmm_status vkmm_op_get_rows(vkmm_ops *ops, vkmm_cmd *cmd, vkmm_dtype type, const vkmm_range *pieces, uint32_t n_pieces,
                             uint32_t n_rows, uint32_t n_cols, vkmm_range ids, uint32_t n_ids, vkmm_range out,
                             uint32_t out_stride, float scale, vkmm_error *err);

/* The same for a table in one range, split into pieces the device can bind (vkmm_range_split). */
vkmm_status vkmm_op_get_rows_table(vkmm_ops *ops, vkmm_cmd *cmd, vkmm_dtype type, vkmm_range table, uint32_t n_rows,
                                   uint32_t n_cols, vkmm_range ids, uint32_t n_ids, vkmm_range out,
                                   uint32_t out_stride, float scale, vkmm_error *err);

#endif
