/* runtime/ops/attention_local.c — host side of shaders/attention_local: window and shape checks (the kernel holds
 * one query head and the window's logits in shared memory), push constants, dispatch sizes. */
#include "attention_local.h"

static bool overlap(vkmm_range a, vkmm_range b)
{
    return a.size && b.size && a.buf == b.buf && a.offset < b.offset + b.size && b.offset < a.offset + a.size;
}

vkmm_status vkmm_op_attention_local(vkmm_ops *ops, vkmm_cmd *cmd, const vkmm_attention_local_params *p,
                                    const vkmm_attention_local_io *io, vkmm_error *err)
{
    uint64_t keys = (uint64_t)p->left + (p->right > 1 ? p->right - 1 : 0);
    if (!p->left || !p->n_head || !p->head_dim || p->head_dim > VKMM_ATTENTION_LOCAL_MAX_DIM ||
        keys > VKMM_ATTENTION_LOCAL_MAX_KEYS)
        return vkmm_fail(err, VKMM_ERR_UNSUPPORTED, "attention_local: a window of %u back and %u ahead over heads of %u "
                         "(at most %u keys and %u dims)", p->left, p->right, p->head_dim,
                         VKMM_ATTENTION_LOCAL_MAX_KEYS, VKMM_ATTENTION_LOCAL_MAX_DIM);
    uint64_t n = (uint64_t)p->n * p->n_head * p->head_dim, n_rel = (uint64_t)p->n_rel * p->n_head * p->head_dim;
    if (n > UINT32_MAX || io->q.size / 4 < n || io->k.size / 4 < n || io->v.size / 4 < n || io->o.size / 4 < n ||
        (io->rel.size && io->rel.size / 4 < n_rel) || (io->dim_scale.size && io->dim_scale.size / 4 < p->head_dim))
        return vkmm_fail(err, VKMM_ERR_INTERNAL, "attention_local: %u positions of %u x %u do not fit the given ranges",
                         p->n, p->n_head, p->head_dim);
    if (overlap(io->o, io->q) || overlap(io->o, io->k) || overlap(io->o, io->v) || overlap(io->o, io->rel) ||
        overlap(io->o, io->dim_scale))
        return vkmm_fail(err, VKMM_ERR_INTERNAL, "attention_local: the output overlaps an input");
    if (p->n == 0)
        return VKMM_OK;
    struct {
        uint32_t n, n_head, head_dim, left, right, rel_offset, n_rel, has_dim_scale;
        uint32_t q_off, k_off, v_off, r_off, s_off, o_off;
        float q_scale, k_scale, softcap;
    } pc = {p->n, p->n_head, p->head_dim, p->left, p->right, p->rel_offset, io->rel.size ? p->n_rel : 0,
            io->dim_scale.size != 0, 0, 0, 0, 0, 0, 0, p->q_scale, p->k_scale, p->softcap};
    /* absent tables are bound as q (read-only) and never read */
    vkmm_binding bind[6] = {
        vkmm_ops_bind(ops, io->q, false, 4, &pc.q_off),
        vkmm_ops_bind(ops, io->k, false, 4, &pc.k_off),
        vkmm_ops_bind(ops, io->v, false, 4, &pc.v_off),
        vkmm_ops_bind(ops, io->rel.size ? io->rel : io->q, false, 4, &pc.r_off),
        vkmm_ops_bind(ops, io->dim_scale.size ? io->dim_scale : io->q, false, 4, &pc.s_off),
        vkmm_ops_bind(ops, io->o, true, 4, &pc.o_off),
    };
    uint32_t wg = vkmm_ops_workgroup(ops, VKMM_TUNE_ATTENTION_LOCAL_WORKGROUP);
    vkmm_pipeline_desc pd = {.shader = "attention_local_f32", .spec = {wg}, .n_spec = 1};
    uint32_t groups[3] = {vkmm_ops_groups_for(ops, (uint64_t)p->n * p->n_head, 1), 1, 1};
    return vkmm_ops_record(ops, cmd, &pd, bind, 6, &pc, sizeof pc, groups, "attention_local", err);
}

vkmm_status vkmm_op_sinusoid(vkmm_ops *ops, vkmm_cmd *cmd, vkmm_range out, uint32_t rows, uint32_t half, int32_t pos0,
                             int32_t step, float log_inc, vkmm_error *err)
{
    uint64_t n = (uint64_t)rows * 2 * half;
    if (n > UINT32_MAX || out.size / 4 < n)
        return vkmm_fail(err, VKMM_ERR_INTERNAL, "sinusoid: %u rows of 2 x %u do not fit the output", rows, half);
    if (n == 0)
        return VKMM_OK;
    struct {
        uint32_t rows, half_cols;
        int32_t pos0, step;
        float log_inc;
        uint32_t o_off;
    } pc = {rows, half, pos0, step, log_inc, 0};
    vkmm_binding bind[1] = {vkmm_ops_bind(ops, out, true, 4, &pc.o_off)};
    uint32_t wg = vkmm_ops_workgroup(ops, VKMM_TUNE_ELEMENTWISE_WORKGROUP);
    vkmm_pipeline_desc pd = {.shader = "sinusoid_f32", .spec = {wg}, .n_spec = 1};
    uint32_t groups[3] = {vkmm_ops_groups_for(ops, n, wg), 1, 1};
    return vkmm_ops_record(ops, cmd, &pd, bind, 1, &pc, sizeof pc, groups, "sinusoid", err);
}
