/* runtime/ops/conv.c — host side of shaders/conv: shape checks, the channel tile that fits the kernel's shared
 * patch, push constants and dispatch sizes. */
#include "conv.h"


static bool overlap(vkmm_range a, vkmm_range b)
{
    return a.buf == b.buf && a.offset < b.offset + b.size && b.offset < a.offset + a.size;
}

uint32_t vkmm_conv_out_size(uint32_t in, uint32_t k, uint32_t stride, uint32_t pad)
{
    uint64_t span = (uint64_t)in + 2ull * pad;
    if (!stride || !k || span < k)
        return 0;
    return (uint32_t)((span - k) / stride + 1);
}

void vkmm_conv2d_weight_layout(const vkmm_conv2d_shape *s, uint32_t ne[2], uint32_t in_stride[2],
                               uint32_t out_stride[2])
{
    uint32_t r = s->in_ch * s->k_h * s->k_w;
    ne[0] = r, ne[1] = s->out_ch;
    in_stride[0] = 1, in_stride[1] = r;
    out_stride[0] = s->out_ch, out_stride[1] = 1;
}

vkmm_status vkmm_op_conv2d(vkmm_ops *ops, vkmm_cmd *cmd, const vkmm_conv2d_shape *s, vkmm_range in, vkmm_range wt,
                           vkmm_range b, vkmm_range norm, float eps, vkmm_range out, vkmm_error *err)
{
    uint32_t oh = vkmm_conv_out_size(s->in_h, s->k_h, s->stride_h, s->pad_h);
    uint32_t ow = vkmm_conv_out_size(s->in_w, s->k_w, s->stride_w, s->pad_w);
    if (!oh || !ow || !s->in_ch || !s->out_ch)
        return vkmm_fail(err, VKMM_ERR_INTERNAL, "conv2d: a %ux%u kernel (stride %ux%u, padding %ux%u) over a %ux%u "
                         "grid gives no output", s->k_w, s->k_h, s->stride_w, s->stride_h, s->pad_w, s->pad_h, s->in_w,
                         s->in_h);
    uint64_t n_in = (uint64_t)s->in_h * s->in_w * s->in_ch, n_out = (uint64_t)oh * ow * s->out_ch;
    uint64_t n_w = (uint64_t)s->k_h * s->k_w * s->in_ch * s->out_ch;
    if (n_in > UINT32_MAX || n_out > UINT32_MAX || n_w > UINT32_MAX || in.size / 4 < n_in || out.size / 4 < n_out ||
        wt.size / 4 < n_w || (b.size && b.size / 4 < s->out_ch) || (norm.size && norm.size / 4 < s->out_ch) ||
        overlap(in, out))
        return vkmm_fail(err, VKMM_ERR_INTERNAL, "conv2d: %ux%ux%u -> %ux%ux%u does not fit the given ranges, or the "
                         "output overlaps the input", s->in_h, s->in_w, s->in_ch, oh, ow, s->out_ch);
    struct {
        uint32_t in_h, in_w, in_ch, out_h, out_w, out_ch, k_h, k_w, s_h, s_w, p_h, p_w, has_bias;
        uint32_t i_off, w_off, b_off, o_off;
    } pc = {s->in_h, s->in_w, s->in_ch, oh, ow, s->out_ch, s->k_h, s->k_w, s->stride_h, s->stride_w, s->pad_h,
            s->pad_w, b.size != 0, 0, 0, 0, 0};
    vkmm_binding bind[4] = {
        vkmm_ops_bind(ops, in, false, 4, &pc.i_off),
        vkmm_ops_bind(ops, wt, false, 4, &pc.w_off),
        vkmm_ops_bind(ops, b.size ? b : wt, false, 4, &pc.b_off), /* bound either way; read only with a bias */
        vkmm_ops_bind(ops, out, true, 4, &pc.o_off),
    };
    uint32_t wg = vkmm_ops_workgroup(ops, VKMM_TUNE_CONV_WORKGROUP);
    vkmm_pipeline_desc pd = {.shader = "conv2d_f32", .spec = {wg}, .n_spec = 1};
    uint32_t groups[3] = {vkmm_ops_groups_for(ops, n_out, wg), 1, 1};
    vkmm_status st = vkmm_ops_record(ops, cmd, &pd, bind, 4, &pc, sizeof pc, groups, "conv2d", err);
    if (st || !norm.size)
        return st;
    /* the LayerNorm over each position's channels and ReLU, in place */
    struct {
        uint32_t rows, ch;
        float eps;
        uint32_t x_off, w_off;
    } nc = {oh * ow, s->out_ch, eps, 0, 0};
    vkmm_range x = vkmm_range_sub(out, 0, n_out * 4);
    vkmm_binding nb[2] = {vkmm_ops_bind(ops, x, true, 4, &nc.x_off), vkmm_ops_bind(ops, norm, false, 4, &nc.w_off)};
    vkmm_pipeline_desc npd = {.shader = "conv_norm_relu_f32", .spec = {wg}, .n_spec = 1};
    uint32_t ngroups[3] = {vkmm_ops_groups_for(ops, (uint64_t)oh * ow, wg), 1, 1};
    return vkmm_ops_record(ops, cmd, &npd, nb, 2, &nc, sizeof nc, ngroups, "conv_norm_relu", err);
}

vkmm_status vkmm_op_conv1d_causal_dw(vkmm_ops *ops, vkmm_cmd *cmd, vkmm_range in, vkmm_range w, vkmm_range out,
                                     uint32_t n_t, uint32_t ch, uint32_t k, vkmm_error *err)
{
    uint64_t n = (uint64_t)n_t * ch;
    if (!k || n > UINT32_MAX || in.size / 4 < n || out.size / 4 < n || w.size / 4 < (uint64_t)ch * k ||
        overlap(in, out))
        return vkmm_fail(err, VKMM_ERR_INTERNAL, "conv1d_causal_dw: %u steps of %u channels with a kernel of %u do not "
                         "fit the given ranges, or the output overlaps the input", n_t, ch, k);
    if (n == 0)
        return VKMM_OK;
    struct {
        uint32_t n_t, ch, k, i_off, w_off, o_off;
    } pc = {n_t, ch, k, 0, 0, 0};
    vkmm_binding bind[3] = {
        vkmm_ops_bind(ops, in, false, 4, &pc.i_off),
        vkmm_ops_bind(ops, w, false, 4, &pc.w_off),
        vkmm_ops_bind(ops, out, true, 4, &pc.o_off),
    };
    uint32_t wg = vkmm_ops_workgroup(ops, VKMM_TUNE_CONV_WORKGROUP);
    vkmm_pipeline_desc pd = {.shader = "conv1d_causal_dw_f32", .spec = {wg}, .n_spec = 1};
    uint32_t groups[3] = {vkmm_ops_groups_for(ops, n, wg), 1, 1};
    return vkmm_ops_record(ops, cmd, &pd, bind, 3, &pc, sizeof pc, groups, "conv1d_causal_dw", err);
}
