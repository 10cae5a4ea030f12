/* runtime/ops/act.c — host side of shaders/act: variant per activation, strides for the two GLU input forms. */
#include <stdio.h>

#include "act.h"

static const char *const act_names[VKMM_ACT_COUNT] = {"gelu_tanh", "gelu_erf", "silu", "erf", "tanh", "relu",
                                                     "sigmoid"};

typedef struct act_push {
    uint32_t rows, cols;
    uint32_t g_off, g_stride;
    uint32_t u_off, u_stride;
    uint32_t o_off, o_stride;
} act_push;

static bool overlap(vkmm_range a, vkmm_range b)
{
    return a.buf == b.buf && a.offset < b.offset + b.size && b.offset < a.offset + a.size;
}

/* up.size == 0: elementwise; else gated, with gate and up rows g_stride / u_stride apart and gate and up
 * starting g_skip / u_skip floats into their ranges. */
static vkmm_status record(vkmm_ops *ops, vkmm_cmd *cmd, vkmm_act act, vkmm_range gate, vkmm_range up,
                          vkmm_range out, uint32_t rows, uint32_t cols, uint32_t g_stride, uint32_t u_stride,
                          uint32_t g_skip, uint32_t u_skip, vkmm_error *err)
{
    bool glu = up.size != 0;
    if ((unsigned)act >= VKMM_ACT_COUNT || (glu && (act == VKMM_ACT_ERF || act == VKMM_ACT_TANH)))
        return vkmm_fail(err, VKMM_ERR_INTERNAL, "%s: activation %d not supported", glu ? "glu" : "act", (int)act);
    if (rows == 0 || cols == 0)
        return VKMM_OK;
    uint64_t n = (uint64_t)rows * cols;
    if (n > UINT32_MAX)
        return vkmm_fail(err, VKMM_ERR_INTERNAL, "act: %u x %u elements is too many", rows, cols);
    if (gate.size / 4 < (uint64_t)(rows - 1) * g_stride + cols + g_skip || out.size / 4 < n ||
        (glu && up.size / 4 < (uint64_t)(rows - 1) * u_stride + cols + u_skip))
        return vkmm_fail(err, VKMM_ERR_INTERNAL, "%s_%s: %u x %u elements do not fit the given ranges",
                         glu ? "glu" : "act", act_names[act], rows, cols);
    act_push pc = {.rows = rows, .cols = cols, .g_stride = g_stride, .u_stride = u_stride, .o_stride = cols};
    vkmm_binding bind[3];
    uint32_t nb = 0;
    bind[nb++] = vkmm_ops_bind(ops, gate, false, 4, &pc.g_off);
    pc.g_off += g_skip;
    if (glu) {
        bind[nb++] = vkmm_ops_bind(ops, up, false, 4, &pc.u_off);
        pc.u_off += u_skip;
    }
    bind[nb++] = vkmm_ops_bind(ops, out, true, 4, &pc.o_off);
    char shader[32];
    snprintf(shader, sizeof shader, "%s_%s_f32", glu ? "glu" : "act", act_names[act]);
    uint32_t wg = vkmm_ops_workgroup(ops, VKMM_TUNE_ACT_WORKGROUP);
    vkmm_pipeline_desc pd = {.shader = shader, .spec = {wg}, .n_spec = 1};
    uint32_t groups[3] = {vkmm_ops_groups_for(ops, n, wg), 1, 1};
    return vkmm_ops_record(ops, cmd, &pd, bind, nb, &pc, sizeof pc, groups, shader, err);
}

vkmm_status vkmm_op_act(vkmm_ops *ops, vkmm_cmd *cmd, vkmm_act act, vkmm_range x, vkmm_range out, uint32_t n,
                        vkmm_error *err)
{
    return record(ops, cmd, act, x, (vkmm_range){0}, out, 1, n, n, 0, 0, 0, err);
}

vkmm_status vkmm_op_glu(vkmm_ops *ops, vkmm_cmd *cmd, vkmm_act act, vkmm_range gate, vkmm_range up, vkmm_range out,
                        uint32_t rows, uint32_t cols, vkmm_error *err)
{
    if (!up.size)
        return vkmm_fail(err, VKMM_ERR_INTERNAL, "glu: no up input");
    return record(ops, cmd, act, gate, up, out, rows, cols, cols, cols, 0, 0, err);
}

vkmm_status vkmm_op_glu_fused(vkmm_ops *ops, vkmm_cmd *cmd, vkmm_act act, vkmm_range gate_up, vkmm_range out,
                              uint32_t rows, uint32_t cols, vkmm_error *err)
{
    if (overlap(gate_up, out))
        return vkmm_fail(err, VKMM_ERR_INTERNAL, "glu_fused: the output overlaps the [gate | up] input");
    if ((uint64_t)cols * 2 > UINT32_MAX)
        return vkmm_fail(err, VKMM_ERR_INTERNAL, "glu_fused: rows of 2 x %u are too wide", cols);
    return record(ops, cmd, act, gate_up, gate_up, out, rows, cols, 2 * cols, 2 * cols, 0, cols, err);
}

vkmm_status vkmm_op_glu_halves(vkmm_ops *ops, vkmm_cmd *cmd, vkmm_act act, vkmm_range x, uint32_t gate_half,
                               vkmm_range out, uint32_t rows, uint32_t cols, vkmm_error *err)
{
    if (gate_half > 1)
        return vkmm_fail(err, VKMM_ERR_INTERNAL, "glu_halves: gate half %u (0 or 1)", gate_half);
    if (overlap(x, out))
        return vkmm_fail(err, VKMM_ERR_INTERNAL, "glu_halves: the output overlaps the input");
    if ((uint64_t)cols * 2 > UINT32_MAX)
        return vkmm_fail(err, VKMM_ERR_INTERNAL, "glu_halves: rows of 2 x %u are too wide", cols);
    return record(ops, cmd, act, x, x, out, rows, cols, 2 * cols, 2 * cols, gate_half * cols, (1 - gate_half) * cols,
                  err);
}
