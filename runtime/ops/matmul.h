/* runtime/ops/matmul.h — y = W·x with W read in its GGUF block layout: mat-vec for a few columns (decode), tiled
 * mat-mat for many (prefill), the convolutional patch embedding of vision encoders, and a copy kernel
 * that measures the device's own bandwidth. */
#ifndef VKMM_OPS_MATMUL_H
#define VKMM_OPS_MATMUL_H

#include "act.h"
#include "ops.h"

#define VKMM_WEIGHT_MAX_PIECES 32

/* A weight matrix of `rows` rows of k elements on the GPU, as one or more row-aligned pieces, each
 * small enough to bind (maxStorageBufferRange). */
typedef struct vkmm_weight {
    vkmm_dtype type;
    uint32_t k, rows;
    uint64_t row_bytes;
    uint32_t n_pieces;
    struct {
        vkmm_range range;
        uint32_t row0, rows;
    } piece[VKMM_WEIGHT_MAX_PIECES];
} vkmm_weight;

/* Describes data (rows x k of type, contiguous) as a weight, split into bindable pieces. */
vkmm_status vkmm_weight_view(const vkmm_ops *ops, vkmm_range data, vkmm_dtype type, uint32_t k, uint32_t rows,
                             vkmm_weight *out, vkmm_error *err);
/* The same with pieces cut only between groups of `group` rows (the whole experts of a mixture). */
vkmm_status vkmm_weight_view_grouped(const vkmm_ops *ops, vkmm_range data, vkmm_dtype type, uint32_t k, uint32_t rows,
                                     uint32_t group, vkmm_weight *out, vkmm_error *err);
/* Is this type readable by the matrix kernels? */
bool vkmm_matmul_supports(vkmm_dtype type);

/* y[n][m] = Σ_k W[m][k] · x[n][k] for n < n_cols, m < W.rows. x rows are x_stride floats apart, y rows y_stride
 * floats apart. Up to matvec.chunked_cols columns run the mat-vec (chunks of up to 8 columns), more the tiled
 * kernel; the mat-vec needs x 16-byte aligned with x_stride a multiple of 4 (else the tiles run). W rows need
 * 2-byte alignment; 16-byte aligned rows let the mat-vec use its widest loads. */
vkmm_status vkmm_op_matmul(vkmm_ops *ops, vkmm_cmd *cmd, const vkmm_weight *w, vkmm_range x, uint32_t x_stride,
                           vkmm_range y, uint32_t y_stride, uint32_t n_cols, vkmm_error *err);

/* The feed-forward's gated unit in one pass where the device has a kernel for it (the lanes mat-vec):
 * y[n][m] = act(Σ_k G[m][k]·x[n][k]) · Σ_k U[m][k]·x[n][k], G and U of one type and shape. *done says whether it
 * was recorded; if not, the caller runs two matmuls and vkmm_op_glu. */
vkmm_status vkmm_op_matmul_glu(vkmm_ops *ops, vkmm_cmd *cmd, vkmm_act act, const vkmm_weight *gate,
                               const vkmm_weight *up, vkmm_range x, uint32_t x_stride, vkmm_range y, uint32_t y_stride,
                               uint32_t n_cols, bool *done, vkmm_error *err);

/* Mixture of experts: W holds n_expert experts of W.rows / n_expert rows each (pieces of whole experts, see
 * vkmm_weight_view_grouped). For every routed pair a < n_pairs, y[a] = W_{ids[a]} · x[a / x_div] (x rows x_stride
 * floats apart, y rows y_stride): only the routed experts' rows are read, in their GGUF layout. groups (moe.h's
 * vkmm_op_moe_group) gives the tiled form, each expert's rows read once per tile of its pairs (prefill); size 0
 * the mat-vec form, one workgroup row per pair (decode). */
vkmm_status vkmm_op_matmul_id(vkmm_ops *ops, vkmm_cmd *cmd, const vkmm_weight *w, uint32_t n_expert, vkmm_range x,
                              uint32_t x_stride, uint32_t x_div, vkmm_range ids, vkmm_range groups, uint32_t n_pairs,
                              vkmm_range y, uint32_t y_stride, vkmm_error *err);

/* Convolution with kernel = stride = patch over a CHW f32 image (channels x height x width, both sides
 * multiples of patch): out[t][o] = bias[o] + Σ W[o][c][ky][kx] · img[c][py·P+ky][px·P+kx], tokens t = py·(w/P)+px
 * in row-major order. W is a weight of k = channels·P·P (F32 or F16); bias may have size 0. */
vkmm_status vkmm_op_patch_embed(vkmm_ops *ops, vkmm_cmd *cmd, const vkmm_weight *w, vkmm_range bias, vkmm_range image,
                                uint32_t channels, uint32_t height, uint32_t width, uint32_t patch, vkmm_range out,
                                vkmm_range scratch, vkmm_error *err);
/* Scratch bytes vkmm_op_patch_embed can use on this device (0: none; with less it runs its tiles): where the
 * mat-vec kernel outruns the tiles (lavapipe), the patches are first laid out as columns (im2col). */
uint64_t vkmm_op_patch_embed_scratch_bytes(const vkmm_ops *ops, const vkmm_weight *w, uint32_t height, uint32_t width,
                                          uint32_t patch);

/* Copies bytes (a multiple of 16) with a plain shader: the bandwidth yardstick for benchmarks. */
vkmm_status vkmm_op_copy_bytes(vkmm_ops *ops, vkmm_cmd *cmd, vkmm_range src, vkmm_range dst, uint64_t bytes,
                         vkmm_error *err);

/* groups x workgroup-size invocations of `iters` x 16 fp32 multiply-adds each (2 flops apiece), written to out
 * (4 bytes per invocation): the arithmetic yardstick for benchmarks. */
vkmm_status vkmm_op_fma_rate(vkmm_ops *ops, vkmm_cmd *cmd, vkmm_range out, uint32_t groups, uint32_t iters,
                             uint64_t *flops, vkmm_error *err);

/* Bytes read/written and flops of one matmul call, for benchmarks. */
void vkmm_op_matmul_cost(const vkmm_weight *w, uint32_t n_cols, double *bytes, double *flops);

#endif
