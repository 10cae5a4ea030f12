/* runtime/ops/layout.c — host side of shaders/layout: the strided copy and the shapes built on it (rows,
 * transpose, patch merge), and average pooling. */
#include <stdio.h>

#include "layout.h"

static bool overlap(vkmm_range a, vkmm_range b)
{
    return a.buf == b.buf && a.offset < b.offset + b.size && b.offset < a.offset + a.size;
}

static uint32_t type_size(vkmm_dtype t)
{
    return t == VKMM_F32 ? 4 : t == VKMM_F16 ? 2 : 0;
}

vkmm_status vkmm_op_copy(vkmm_ops *ops, vkmm_cmd *cmd, const vkmm_copy_shape *s, vkmm_range in, vkmm_dtype in_type,
                         vkmm_range out, vkmm_dtype out_type, vkmm_error *err)
{
    uint32_t isz = type_size(in_type), osz = type_size(out_type);
    if (!isz || !osz)
        return vkmm_fail(err, VKMM_ERR_UNSUPPORTED, "copy: types %d -> %d (F32 and F16 only)", in_type, out_type);
    if (s->n_dims < 1 || s->n_dims > VKMM_COPY_DIMS)
        return vkmm_fail(err, VKMM_ERR_INTERNAL, "copy: %u dimensions (1..%d)", s->n_dims, VKMM_COPY_DIMS);
    struct {
        uint32_t ne[6], si[6], so[6];
        uint32_t total, a_off, o_off;
    } pc = {.total = 1};
    uint64_t total = 1, last_in = 0, last_out = 0;
    for (uint32_t d = 0; d < VKMM_COPY_DIMS; d++) {
        bool used = d < s->n_dims;
        pc.ne[d] = used ? s->ne[d] : 1;
        pc.si[d] = used ? s->in_stride[d] : 0;
        pc.so[d] = used ? s->out_stride[d] : 0;
        total *= pc.ne[d];
        if (pc.ne[d] == 0)
            return VKMM_OK;
        if (pc.ne[d] > 1 && pc.so[d] == 0)
            return vkmm_fail(err, VKMM_ERR_INTERNAL, "copy: output stride 0 in dimension %u writes one element %u "
                             "times", d, pc.ne[d]);
        last_in += (uint64_t)(pc.ne[d] - 1) * pc.si[d];
        last_out += (uint64_t)(pc.ne[d] - 1) * pc.so[d];
    }
    if (total > UINT32_MAX || in.size / isz <= last_in || out.size / osz <= last_out || overlap(in, out))
        return vkmm_fail(err, VKMM_ERR_INTERNAL, "copy: %llu elements reaching element %llu of the input and %llu of "
                         "the output do not fit (%llu and %llu bytes), or the ranges overlap",
                         (unsigned long long)total, (unsigned long long)last_in, (unsigned long long)last_out,
                         (unsigned long long)in.size, (unsigned long long)out.size);
    pc.total = (uint32_t)total;
    vkmm_binding bind[2] = {vkmm_ops_bind(ops, in, false, isz, &pc.a_off),
                            vkmm_ops_bind(ops, out, true, osz, &pc.o_off)};
    char shader[24];
    snprintf(shader, sizeof shader, "copy_%s_%s", isz == 4 ? "f32" : "f16", osz == 4 ? "f32" : "f16");
    uint32_t wg = vkmm_ops_workgroup(ops, VKMM_TUNE_LAYOUT_WORKGROUP);
    vkmm_pipeline_desc pd = {.shader = shader, .spec = {wg}, .n_spec = 1};
    uint32_t groups[3] = {vkmm_ops_groups_for(ops, total, wg), 1, 1};
    return vkmm_ops_record(ops, cmd, &pd, bind, 2, &pc, sizeof pc, groups, "copy", err);
}

vkmm_status vkmm_op_copy_rows(vkmm_ops *ops, vkmm_cmd *cmd, vkmm_range in, vkmm_dtype in_type, uint32_t in_stride,
                              vkmm_range out, vkmm_dtype out_type, uint32_t out_stride, uint32_t rows, uint32_t cols,
                              vkmm_error *err)
{
    vkmm_copy_shape s = {.n_dims = 2, .ne = {cols, rows}, .in_stride = {1, in_stride},
                         .out_stride = {1, out_stride ? out_stride : cols}};
    return vkmm_op_copy(ops, cmd, &s, in, in_type, out, out_type, err);
}

vkmm_status vkmm_op_transpose(vkmm_ops *ops, vkmm_cmd *cmd, vkmm_range in, vkmm_dtype in_type, vkmm_range out,
                              vkmm_dtype out_type, uint32_t rows, uint32_t cols, vkmm_error *err)
{
    /* walk the output (rows of `rows` elements) so that writes are contiguous */
    vkmm_copy_shape s = {.n_dims = 2, .ne = {rows, cols}, .in_stride = {cols, 1}, .out_stride = {1, rows}};
    return vkmm_op_copy(ops, cmd, &s, in, in_type, out, out_type, err);
}

vkmm_status vkmm_op_patch_merge(vkmm_ops *ops, vkmm_cmd *cmd, vkmm_range in, vkmm_range out, uint32_t grid_h,
                                uint32_t grid_w, uint32_t ch, uint32_t s, vkmm_error *err)
{
    if (s == 0 || grid_h / (s ? s : 1) == 0 || grid_w / (s ? s : 1) == 0)
        return vkmm_fail(err, VKMM_ERR_INTERNAL, "patch_merge: a %u x %u grid has no whole %u x %u cell", grid_h,
                         grid_w, s, s);
    uint32_t mw = grid_w / s, mh = grid_h / s;
    /* output index (j, i, c, C, R) innermost first: m[R][C][c·s² + s·i + j] = x[(s·R + i)·gw + s·C + j][c] */
    vkmm_copy_shape sh = {
        .n_dims = 5,
        .ne = {s, s, ch, mw, mh},
        .in_stride = {ch, grid_w * ch, 1, s * ch, s * grid_w * ch},
        .out_stride = {1, s, s * s, ch * s * s, mw * ch * s * s},
    };
    return vkmm_op_copy(ops, cmd, &sh, in, VKMM_F32, out, VKMM_F32, err);
}

vkmm_status vkmm_op_avg_pool(vkmm_ops *ops, vkmm_cmd *cmd, vkmm_range in, vkmm_range out, uint32_t grid_h,
                             uint32_t grid_w, uint32_t ch, uint32_t kh, uint32_t kw, vkmm_error *err)
{
    if (kh == 0 || kw == 0 || grid_h % kh || grid_w % kw || ch == 0)
        return vkmm_fail(err, VKMM_ERR_INTERNAL, "avg_pool: a %u x %u window does not divide a %u x %u grid", kh, kw,
                         grid_h, grid_w);
    uint64_t n_in = (uint64_t)grid_h * grid_w * ch, n_out = n_in / ((uint64_t)kh * kw);
    if (n_in > UINT32_MAX || in.size / 4 < n_in || out.size / 4 < n_out || overlap(in, out))
        return vkmm_fail(err, VKMM_ERR_INTERNAL, "avg_pool: a %u x %u x %u grid does not fit the input or output, or "
                         "they overlap", grid_h, grid_w, ch);
    struct {
        uint32_t gw, ch, kh, kw, ow, total, a_off, o_off;
    } pc = {grid_w, ch, kh, kw, grid_w / kw, (uint32_t)n_out, 0, 0};
    vkmm_binding bind[2] = {vkmm_ops_bind(ops, in, false, 4, &pc.a_off), vkmm_ops_bind(ops, out, true, 4, &pc.o_off)};
    uint32_t wg = vkmm_ops_workgroup(ops, VKMM_TUNE_LAYOUT_WORKGROUP);
    vkmm_pipeline_desc pd = {.shader = "avg_pool_f32", .spec = {wg}, .n_spec = 1};
    uint32_t groups[3] = {vkmm_ops_groups_for(ops, n_out, wg), 1, 1};
    return vkmm_ops_record(ops, cmd, &pd, bind, 2, &pc, sizeof pc, groups, "avg_pool", err);
}
