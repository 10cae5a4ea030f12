/* runtime/ops/layout.h — moving data between layouts: strided N-d copy with f32/f16 conversion (row copies,
 * transposes, broadcasts, Pixtral's patch merge) and 2-D average pooling of token grids (Gemma's projector). */
#ifndef VKMM_OPS_LAYOUT_H
#define VKMM_OPS_LAYOUT_H

#include "ops.h"

#define VKMM_COPY_DIMS 6

/* Index (i_0 .. i_{n_dims-1}), i_d < ne[d], dimension 0 innermost, goes from element Σ i_d · in_stride[d] of
 * the input to element Σ i_d · out_stride[d] of the output (strides in elements). An input stride may be 0
 * (broadcast); output strides must not map two indices to one element. */
typedef struct vkmm_copy_shape {
    uint32_t n_dims;
    uint32_t ne[VKMM_COPY_DIMS];
    uint32_t in_stride[VKMM_COPY_DIMS], out_stride[VKMM_COPY_DIMS];
} vkmm_copy_shape;

/* Types F32 or F16 on either side; in and out must not overlap. */
vkmm_status vkmm_op_copy(vkmm_ops *ops, vkmm_cmd *cmd, const vkmm_copy_shape *shape, vkmm_range in, vkmm_dtype in_type,
                         vkmm_range out, vkmm_dtype out_type, vkmm_error *err);

/* rows × cols from rows in_stride apart to rows out_stride apart (0: cols): places image embeddings in the
 * token sequence; in_stride 0 with rows > 1 repeats one row. */
vkmm_status vkmm_op_copy_rows(vkmm_ops *ops, vkmm_cmd *cmd, vkmm_range in, vkmm_dtype in_type, uint32_t in_stride,
                              vkmm_range out, vkmm_dtype out_type, uint32_t out_stride, uint32_t rows, uint32_t cols,
                              vkmm_error *err);

/* out[c][r] = in[r][c] for packed in[rows][cols]. */
vkmm_status vkmm_op_transpose(vkmm_ops *ops, vkmm_cmd *cmd, vkmm_range in, vkmm_dtype in_type, vkmm_range out,
                              vkmm_dtype out_type, uint32_t rows, uint32_t cols, vkmm_error *err);

/* Pixtral's patch merge (mistral3.md §4.5), f32: tokens x[gh · gw][ch] on a gh × gw grid become
 * (gh/s) · (gw/s) tokens of ch · s² values,
 *     m[R · (gw/s) + C][ch · s² + s · i + j] = x[(s·R + i) · gw + s·C + j][ch];
 * a last row or column that does not fill a merge is dropped. */
vkmm_status vkmm_op_patch_merge(vkmm_ops *ops, vkmm_cmd *cmd, vkmm_range in, vkmm_range out, uint32_t grid_h,
                                uint32_t grid_w, uint32_t ch, uint32_t s, vkmm_error *err);

/* out[R][C][c] = mean of in[kh·R + y][kw·C + x][c] over y < kh, x < kw, f32; the window must divide the grid. */
vkmm_status vkmm_op_avg_pool(vkmm_ops *ops, vkmm_cmd *cmd, vkmm_range in, vkmm_range out, uint32_t grid_h,
                             uint32_t grid_w, uint32_t ch, uint32_t kh, uint32_t kw, vkmm_error *err);

#endif
