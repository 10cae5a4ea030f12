/* runtime/ops/elementwise.c — host side of shaders/elementwise: add, sub and mul with row broadcast, scale,
 * clamp, and f32 <-> f16 conversion. */
#include <math.h>

#include "elementwise.h"

static bool fits(vkmm_range r, uint64_t count, uint32_t elem)
{
    return r.size >= count * elem;
}

static vkmm_status binary(vkmm_ops *ops, vkmm_cmd *cmd, const char *shader, const char *what, vkmm_range a,
                          vkmm_range b, vkmm_range out, uint32_t n, uint32_t b_period, vkmm_error *err)
{
    if (n == 0)
        return VKMM_OK;
    if (b_period == 0 || b_period > n)
        return vkmm_fail(err, VKMM_ERR_INTERNAL, "%s: broadcast period %u for %u elements", what, b_period, n);
    if (!fits(a, n, 4) || !fits(b, b_period, 4) || !fits(out, n, 4))
        return vkmm_fail(err, VKMM_ERR_INTERNAL, "%s: a range is smaller than %u floats", what, n);
    struct {
        uint32_t n, b_period, a_off, b_off, o_off;
    } pc = {n, b_period, 0, 0, 0};
    vkmm_binding bind[3] = {
        vkmm_ops_bind(ops, a, false, 4, &pc.a_off),
        vkmm_ops_bind(ops, b, false, 4, &pc.b_off),
        vkmm_ops_bind(ops, out, true, 4, &pc.o_off),
    };
    uint32_t wg = vkmm_ops_workgroup(ops, VKMM_TUNE_ELEMENTWISE_WORKGROUP);
    vkmm_pipeline_desc pd = {.shader = shader, .spec = {wg}, .n_spec = 1};
    uint32_t groups[3] = {vkmm_ops_groups_for(ops, n, wg), 1, 1};
    return vkmm_ops_record(ops, cmd, &pd, bind, 3, &pc, sizeof pc, groups, what, err);
}

vkmm_status vkmm_op_add(vkmm_ops *ops, vkmm_cmd *cmd, vkmm_range a, vkmm_range b, vkmm_range out, uint32_t n,
                        uint32_t b_period, vkmm_error *err)
{
    return binary(ops, cmd, "add_f32", "add", a, b, out, n, b_period, err);
}

vkmm_status vkmm_op_sub(vkmm_ops *ops, vkmm_cmd *cmd, vkmm_range a, vkmm_range b, vkmm_range out, uint32_t n,
                        uint32_t b_period, vkmm_error *err)
{
    return binary(ops, cmd, "sub_f32", "sub", a, b, out, n, b_period, err);
}

vkmm_status vkmm_op_mul(vkmm_ops *ops, vkmm_cmd *cmd, vkmm_range a, vkmm_range b, vkmm_range out, uint32_t n,
                        uint32_t b_period, vkmm_error *err)
{
    return binary(ops, cmd, "mul_f32", "mul", a, b, out, n, b_period, err);
}

/* scale and clamp share one shader (and its push constants) */
static vkmm_status unary(vkmm_ops *ops, vkmm_cmd *cmd, const char *shader, const char *what, vkmm_range a,
                         vkmm_range out, uint32_t n, float s, float lo, float hi, vkmm_error *err)
{
    if (n == 0)
        return VKMM_OK;
    if (!fits(a, n, 4) || !fits(out, n, 4))
        return vkmm_fail(err, VKMM_ERR_INTERNAL, "%s: a range is smaller than %u floats", what, n);
    struct {
        uint32_t n, a_off, o_off;
        float s, lo, hi;
    } pc = {n, 0, 0, s, lo, hi};
    vkmm_binding bind[2] = {
        vkmm_ops_bind(ops, a, false, 4, &pc.a_off),
        vkmm_ops_bind(ops, out, true, 4, &pc.o_off),
    };
    uint32_t wg = vkmm_ops_workgroup(ops, VKMM_TUNE_ELEMENTWISE_WORKGROUP);
    vkmm_pipeline_desc pd = {.shader = shader, .spec = {wg}, .n_spec = 1};
    uint32_t groups[3] = {vkmm_ops_groups_for(ops, n, wg), 1, 1};
    return vkmm_ops_record(ops, cmd, &pd, bind, 2, &pc, sizeof pc, groups, what, err);
}

vkmm_status vkmm_op_scale(vkmm_ops *ops, vkmm_cmd *cmd, vkmm_range a, vkmm_range out, uint32_t n, float s,
                          vkmm_error *err)
{
    return unary(ops, cmd, "scale_f32", "scale", a, out, n, s, 0.0f, 0.0f, err);
}

vkmm_status vkmm_op_clamp(vkmm_ops *ops, vkmm_cmd *cmd, vkmm_range a, vkmm_range out, uint32_t n, float lo, float hi,
                          vkmm_error *err)
{
    if (isnan(lo) || isnan(hi) || lo > hi)
        return vkmm_fail(err, VKMM_ERR_INVALID_ARG, "clamp: bounds [%g, %g]", (double)lo, (double)hi);
    return unary(ops, cmd, "clamp_f32", "clamp", a, out, n, 1.0f, lo, hi, err);
}

vkmm_status vkmm_op_convert(vkmm_ops *ops, vkmm_cmd *cmd, vkmm_range a, vkmm_dtype a_type, vkmm_range out,
                            vkmm_dtype out_type, uint32_t n, vkmm_error *err)
{
    const char *shader;
    if (a_type == VKMM_F32 && out_type == VKMM_F16)
        shader = "convert_f32_f16";
    else if (a_type == VKMM_F16 && out_type == VKMM_F32)
        shader = "convert_f16_f32";
    else
        return vkmm_fail(err, VKMM_ERR_UNSUPPORTED, "convert: type %d to %d not supported", a_type, out_type);
    if (n == 0)
        return VKMM_OK;
    uint32_t in_sz = a_type == VKMM_F32 ? 4 : 2, out_sz = out_type == VKMM_F32 ? 4 : 2;
    if (!fits(a, n, in_sz) || !fits(out, n, out_sz))
        return vkmm_fail(err, VKMM_ERR_INTERNAL, "convert: a range is smaller than %u elements", n);
    struct {
        uint32_t n, a_off, o_off;
    } pc = {n, 0, 0};
    vkmm_binding bind[2] = {
        vkmm_ops_bind(ops, a, false, in_sz, &pc.a_off),
        vkmm_ops_bind(ops, out, true, out_sz, &pc.o_off),
    };
    uint32_t wg = vkmm_ops_workgroup(ops, VKMM_TUNE_ELEMENTWISE_WORKGROUP);
    vkmm_pipeline_desc pd = {.shader = shader, .spec = {wg}, .n_spec = 1};
    uint32_t groups[3] = {vkmm_ops_groups_for(ops, n, wg), 1, 1};
    return vkmm_ops_record(ops, cmd, &pd, bind, 2, &pc, sizeof pc, groups, "convert", err);
}
