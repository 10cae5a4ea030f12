/* runtime/ops/moe.c — host side of shaders/moe: checks, bindings and dispatch sizes for routing, grouping and the
 * weighted sum. */
#include "moe.h"

vkmm_status vkmm_op_moe_route(vkmm_ops *ops, vkmm_cmd *cmd, vkmm_range logits, uint32_t l_stride, uint32_t n_rows,
                              uint32_t n_expert, uint32_t k, vkmm_range scale, vkmm_range ids, vkmm_range weights,
                              vkmm_error *err)
{
    if (!n_rows)
        return VKMM_OK;
    if (!k || k > VKMM_MOE_MAX_K || k > n_expert || n_expert > VKMM_MOE_MAX_EXPERTS || l_stride < n_expert)
        return vkmm_fail(err, VKMM_ERR_UNSUPPORTED, "moe_route: %u of %u experts (at most %d of %d)", k, n_expert,
                         VKMM_MOE_MAX_K, VKMM_MOE_MAX_EXPERTS);
    if (logits.size / 4 < (uint64_t)(n_rows - 1) * l_stride + n_expert || (scale.size && scale.size / 4 < n_expert) ||
        ids.size / 4 < (uint64_t)n_rows * k || weights.size / 4 < (uint64_t)n_rows * k)
        return vkmm_fail(err, VKMM_ERR_INTERNAL, "moe_route: %u rows of %u logits, top %u: a range is too small",
                         n_rows, n_expert, k);
    struct {
        uint32_t n_rows, n_expert, k, l_off, l_stride, s_off, has_scale, i_off, w_off;
    } pc = {n_rows, n_expert, k, 0, l_stride, 0, scale.size != 0, 0, 0};
    vkmm_binding b[4] = {
        vkmm_ops_bind(ops, logits, false, 4, &pc.l_off),
        vkmm_ops_bind(ops, scale.size ? scale : logits, false, 4, &pc.s_off), /* logits: never read as scales */
        vkmm_ops_bind(ops, ids, true, 4, &pc.i_off),
        vkmm_ops_bind(ops, weights, true, 4, &pc.w_off),
    };
    uint32_t wg = vkmm_ops_workgroup(ops, VKMM_TUNE_MOE_WORKGROUP);
    vkmm_pipeline_desc pd = {.shader = "moe_route_f32", .spec = {wg}, .n_spec = 1};
    uint32_t groups[3] = {vkmm_ops_groups_for(ops, n_rows, 1), 1, 1};
    return vkmm_ops_record(ops, cmd, &pd, b, 4, &pc, sizeof pc, groups, "moe_route", err);
}

uint64_t vkmm_moe_group_bytes(uint32_t n_expert, uint32_t n_pairs)
{
    return 4ull * ((uint64_t)n_expert + 1 + n_pairs);
}

vkmm_status vkmm_op_moe_group(vkmm_ops *ops, vkmm_cmd *cmd, vkmm_range ids, uint32_t n_pairs, uint32_t n_expert,
                              vkmm_range groups, vkmm_error *err)
{
    if (!n_expert || n_expert > VKMM_MOE_MAX_EXPERTS || ids.size / 4 < n_pairs ||
        groups.size < vkmm_moe_group_bytes(n_expert, n_pairs))
        return vkmm_fail(err, VKMM_ERR_INTERNAL, "moe_group: %u pairs over %u experts do not fit the ranges", n_pairs,
                         n_expert);
    struct {
        uint32_t n_pairs, n_expert, i_off, o_off;
    } pc = {n_pairs, n_expert, 0, 0};
    vkmm_binding b[2] = {vkmm_ops_bind(ops, ids, false, 4, &pc.i_off), vkmm_ops_bind(ops, groups, true, 4, &pc.o_off)};
    uint32_t wg = vkmm_ops_workgroup(ops, VKMM_TUNE_MOE_WORKGROUP);
    vkmm_pipeline_desc pd = {.shader = "moe_group", .spec = {wg}, .n_spec = 1};
    uint32_t one[3] = {1, 1, 1};
    return vkmm_ops_record(ops, cmd, &pd, b, 2, &pc, sizeof pc, one, "moe_group", err);
}

vkmm_status vkmm_op_moe_combine(vkmm_ops *ops, vkmm_cmd *cmd, vkmm_range y, vkmm_range weights, uint32_t n_rows,
                                uint32_t width, uint32_t k, vkmm_range out, vkmm_error *err)
{
    uint64_t n = (uint64_t)n_rows * width;
    if (!n)
        return VKMM_OK;
    if (!k || n > UINT32_MAX || y.size / 4 < n * k || weights.size / 4 < (uint64_t)n_rows * k || out.size / 4 < n)
        return vkmm_fail(err, VKMM_ERR_INTERNAL, "moe_combine: %u rows of %u from %u experts do not fit the ranges",
                         n_rows, width, k);
    struct {
        uint32_t n_rows, width, k, y_off, w_off, o_off;
    } pc = {n_rows, width, k, 0, 0, 0};
    vkmm_binding b[3] = {
        vkmm_ops_bind(ops, y, false, 4, &pc.y_off),
        vkmm_ops_bind(ops, weights, false, 4, &pc.w_off),
        vkmm_ops_bind(ops, out, true, 4, &pc.o_off),
    };
    uint32_t wg = vkmm_ops_workgroup(ops, VKMM_TUNE_MOE_WORKGROUP);
    vkmm_pipeline_desc pd = {.shader = "moe_combine_f32", .spec = {wg}, .n_spec = 1};
    uint32_t groups[3] = {vkmm_ops_groups_for(ops, n, wg), 1, 1};
    return vkmm_ops_record(ops, cmd, &pd, b, 3, &pc, sizeof pc, groups, "moe_combine", err);
}
