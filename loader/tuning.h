/* loader/tuning.h — kernel tuning tables (YAML): specialization constants per kernel family, resolved for one
 * device from the built-in table, then any user file on top, over a declared set of keys. */
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

/* A key the table may set: the kernel families declare theirs once (runtime/ops/tuning_keys.h); the parser
 * refuses any other. */
typedef struct vkmm_tuning_key {
    const char *family, *key;
} vkmm_tuning_key;

/* Values of a fixed set of keys, by index into it. */
typedef struct vkmm_tuning {
    const vkmm_tuning_key *keys;
    uint32_t n_keys;
    int64_t *value;
    uint8_t *set;            /* value[i] was given by a table (or vkmm_tuning_set) */
} vkmm_tuning;

vkmm_status vkmm_tuning_init(vkmm_tuning *t, const vkmm_tuning_key *keys, uint32_t n_keys, vkmm_error *err);
/* Applies a table to t: its `defaults`, then every `devices` entry that matches dev, in order. A family or key
 * that t's set does not declare, and a value that is not an integer, is an error naming the source (name:
 * "tuning.yaml", a user's path), the line and the key. Entries for other devices are checked too. */
vkmm_status vkmm_tuning_apply(vkmm_tuning *t, const char *text, size_t len, const char *name,
                              const vkmm_tuning_device *dev, vkmm_error *err);
vkmm_status vkmm_tuning_apply_file(vkmm_tuning *t, const char *path, const vkmm_tuning_device *dev,
                                   vkmm_error *err);
/* Every declared key has a value (what the built-in table's `defaults` must give); else names the first. */
vkmm_status vkmm_tuning_check_complete(const vkmm_tuning *t, const char *name, vkmm_error *err);
int64_t vkmm_tuning_get(const vkmm_tuning *t, uint32_t index);
void vkmm_tuning_set(vkmm_tuning *t, uint32_t index, int64_t value);
void vkmm_tuning_free(vkmm_tuning *t);

#endif
