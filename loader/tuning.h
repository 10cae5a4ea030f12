/* loader/tuning.h — kernel tuning tables (YAML): specialization constants per kernel family, resolved for one
 * device from the built-in table, then any user file on top. */
#ifndef VKMM_LOADER_TUNING_H
#define VKMM_LOADER_TUNING_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"

/* What a table's `match:` can test. */
typedef struct vkmm_tuning_device {
    const char *vendor;      /* "NVIDIA", "AMD", "Intel", "Mesa", ... */
    uint32_t vendor_id;
    const char *driver;      /* driver name, e.g. "llvmpipe", "NVIDIA", "radv" */
    const char *device;      /* device name */
} vkmm_tuning_device;

typedef struct vkmm_tuning_value {
    char family[32], key[32];
    int64_t value;
} vkmm_tuning_value;

typedef struct vkmm_tuning {
    vkmm_tuning_value *v;
    uint32_t n, cap;
} vkmm_tuning;

/* Applies a table to t: its `defaults`, then every `devices` entry that matches dev, in order.
 * name is what errors call the source ("tuning.yaml", a user's path). Errors name the line. */
vkmm_status vkmm_tuning_apply(vkmm_tuning *t, const char *text, size_t len, const char *name,
                              const vkmm_tuning_device *dev, vkmm_error *err);
vkmm_status vkmm_tuning_apply_file(vkmm_tuning *t, const char *path, const vkmm_tuning_device *dev,
                                   vkmm_error *err);
int64_t vkmm_tuning_get(const vkmm_tuning *t, const char *family, const char *key, int64_t dflt);
vkmm_status vkmm_tuning_set(vkmm_tuning *t, const char *family, const char *key, int64_t value);
void vkmm_tuning_free(vkmm_tuning *t);

#endif
