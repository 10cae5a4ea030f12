/* runtime/ops/ops.c — the ops context: tuning table resolution for the device, and the small helpers every
 * kernel family uses to bind ranges, size grids and record labelled dispatches. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ops.h"

extern const char vkmm_tuning_builtin[];
extern const size_t vkmm_tuning_builtin_len;

static const vkmm_tuning_key tuning_keys[VKMM_TUNE_COUNT] = {
#define VKMM_TUNE_NAME(name, family, key) {family, key},
    VKMM_TUNING_KEYS(VKMM_TUNE_NAME)
#undef VKMM_TUNE_NAME
};

vkmm_status vkmm_ops_create(vkmm_gpu *gpu, const char *tuning_file, vkmm_ops **out, vkmm_error *err)
{
    *out = NULL;
    vkmm_ops *ops = calloc(1, sizeof *ops);
    if (!ops)
        return vkmm_fail(err, VKMM_ERR_HOST_MEMORY, "out of host memory");
    ops->gpu = gpu;
    ops->dev = vkmm_gpu_info(gpu);
    vkmm_tuning_device td = {ops->dev->vendor, ops->dev->vendor_id, ops->dev->driver_name, ops->dev->name};
    vkmm_status s = vkmm_tuning_init(&ops->tuning, tuning_keys, VKMM_TUNE_COUNT, err);
    if (!s)
        s = vkmm_tuning_apply(&ops->tuning, vkmm_tuning_builtin, vkmm_tuning_builtin_len, "built-in tuning.yaml", &td,
                              err);
    if (!s) /* runtime/ops/tuning.yaml is the one source of defaults: it must give every key */
        s = vkmm_tuning_check_complete(&ops->tuning, "built-in tuning.yaml", err);
    if (!tuning_file)
        tuning_file = getenv("VKMM_TUNING");
    if (!s && tuning_file && *tuning_file)
        s = vkmm_tuning_apply_file(&ops->tuning, tuning_file, &td, err);
    if (s) {
        vkmm_ops_destroy(ops);
        return s;
    }
    *out = ops;
    return VKMM_OK;
}

void vkmm_ops_destroy(vkmm_ops *ops)
{
    if (!ops)
        return;
    vkmm_tuning_free(&ops->tuning);
    free(ops);
}

int64_t vkmm_ops_tune(const vkmm_ops *ops, vkmm_tune key)
{
    return vkmm_tuning_get(&ops->tuning, key);
}

void vkmm_ops_set_tune(vkmm_ops *ops, vkmm_tune key, int64_t value)
{
    vkmm_tuning_set(&ops->tuning, key, value);
}

void vkmm_ops_set_label(vkmm_ops *ops, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(ops->label, sizeof ops->label, fmt, ap);
    va_end(ap);
}

vkmm_binding vkmm_ops_bind(const vkmm_ops *ops, vkmm_range r, bool write, uint32_t elem_size, uint32_t *elem_offset)
{
    vkmm_range bound;
    uint64_t skip;
    vkmm_range_align(ops->gpu, r, &bound, &skip);
    if (elem_offset)
        *elem_offset = (uint32_t)(skip / (elem_size ? elem_size : 1));
    return (vkmm_binding){bound, write, skip};
}

bool vkmm_ops_bind_texels(const vkmm_ops *ops, vkmm_range r, vkmm_binding *out, uint32_t *byte_offset)
{
    vkmm_range bound;
    uint64_t skip;
    if (!vkmm_range_texel(ops->gpu, r, &bound, &skip) || skip > UINT32_MAX)
        return false;
    *byte_offset = (uint32_t)skip;
    *out = (vkmm_binding){bound, false, skip};
    return true;
}

uint32_t vkmm_ops_workgroup(const vkmm_ops *ops, vkmm_tune key)
{
    int64_t wg = vkmm_ops_tune(ops, key);
    if (wg < 1)
        wg = 1;
    if (wg > ops->dev->max_workgroup_invocations)
        wg = ops->dev->max_workgroup_invocations;
    if (wg > ops->dev->max_workgroup_size[0])
        wg = ops->dev->max_workgroup_size[0];
    return (uint32_t)wg;
}

uint32_t vkmm_ops_groups_for(const vkmm_ops *ops, uint64_t n, uint32_t per_group)
{
    uint64_t g = (n + per_group - 1) / per_group;
    uint64_t cap = ops->dev->max_workgroup_count[0];
    if (cap > 65535)
        cap = 65535; /* grid-stride kernels cover the rest; 65535 is every device's minimum */
    if (g > cap)
        g = cap;
    return g ? (uint32_t)g : 1;
}

vkmm_status vkmm_ops_record(vkmm_ops *ops, vkmm_cmd *cmd, const vkmm_pipeline_desc *pd, const vkmm_binding *b,
                            uint32_t n_b, const void *push, uint32_t push_size, const uint32_t groups[3],
                            const char *what, vkmm_error *err)
{
    vkmm_pipeline *pipe;
    vkmm_status s = vkmm_pipeline_get(ops->gpu, pd, &pipe, err);
    if (s)
        return s;
    char label[160];
    if (ops->label[0])
        snprintf(label, sizeof label, "%s:%s", ops->label, what);
    else
        snprintf(label, sizeof label, "%s", what);
    vkmm_dispatch d = {
        .pipeline = pipe,
        .bindings = b,
        .n_bindings = n_b,
        .push = push,
        .push_size = push_size,
        .groups = {groups[0], groups[1], groups[2]},
        .label = label,
    };
    return vkmm_cmd_dispatch(cmd, &d, err);
}
