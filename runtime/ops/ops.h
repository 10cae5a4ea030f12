/* runtime/ops/ops.h — host side of every kernel family: shape checks, choice of shader variant and
 * specialization constants (from the tuning table), push constants, dispatch size. No Vulkan calls. */
#ifndef VKMM_OPS_H
#define VKMM_OPS_H

#include "dtype.h"
#include "gpu.h"
#include "tuning.h"
#include "tuning_keys.h"

typedef struct vkmm_ops {
    vkmm_gpu *gpu;
    const vkmm_device_info *dev;
    vkmm_tuning tuning;      /* built-in table for this device, then the user's file on top */
    char label[96];          /* what the caller is computing ("blk.3.ffn_up"); prefixed to dispatch labels */
} vkmm_ops;

/* tuning_file: NULL reads $VKMM_TUNING (if set); the built-in table always applies first. */
vkmm_status vkmm_ops_create(vkmm_gpu *gpu, const char *tuning_file, vkmm_ops **out, vkmm_error *err);
void vkmm_ops_destroy(vkmm_ops *ops);
/* A tuning value for this device (tuning_keys.h). */
int64_t vkmm_ops_tune(const vkmm_ops *ops, vkmm_tune key);
/* Overrides a tuning value (tests run kernels under several settings this way). */
void vkmm_ops_set_tune(vkmm_ops *ops, vkmm_tune key, int64_t value);
void vkmm_ops_set_label(vkmm_ops *ops, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* ---- helpers for op implementations ---- */

/* A binding for range r plus how many elements of elem_size bytes into it the data starts
 * (bindings must start at the device's offset alignment; data need not). */
vkmm_binding vkmm_ops_bind(const vkmm_ops *ops, vkmm_range r, bool write, uint32_t elem_size, uint32_t *elem_offset);
/* A read-only binding of r for a shader that reads it as 16-byte texels ([u]samplerBuffer); *byte_offset is
 * where r starts in it. False when r cannot be viewed so (the caller takes a storage-buffer kernel instead). */
bool vkmm_ops_bind_texels(const vkmm_ops *ops, vkmm_range r, vkmm_binding *out, uint32_t *byte_offset);
/* A workgroup size from the tuning table, clamped to the device. */
uint32_t vkmm_ops_workgroup(const vkmm_ops *ops, vkmm_tune key);
/* Groups for a grid-stride kernel over n items. */
uint32_t vkmm_ops_groups_for(const vkmm_ops *ops, uint64_t n, uint32_t per_group);
/* Records one dispatch; label is "<what>" or "<ops->label>:<what>". */
vkmm_status vkmm_ops_record(vkmm_ops *ops, vkmm_cmd *cmd, const vkmm_pipeline_desc *pd, const vkmm_binding *b,
                            uint32_t n_b, const void *push, uint32_t push_size, const uint32_t groups[3],
                            const char *what, vkmm_error *err);

#endif
