/* runtime/engine/weights.h — the engine's side of vkmm_weight_source: uploads the tensors a model binds from the
 * memory-mapped GGUF into device buffers (once each), and checks up front that the file fits the device. */
#ifndef VKMM_ENGINE_WEIGHTS_H
#define VKMM_ENGINE_WEIGHTS_H

#include "model.h"
#include "vkmm.h"

typedef struct vkmm_weight_store vkmm_weight_store;

typedef struct vkmm_weight_store_params {
    vkmm_gpu *gpu;
    vkmm_ops *ops;
    const vkmm_gguf *gguf;
    const char *stage;             /* "text", "vision": for progress */
    vkmm_progress_fn progress;
    void *progress_user;
    uint64_t total_hint;           /* bytes expected in all (for progress); 0: the file's tensor bytes */
} vkmm_weight_store_params;

vkmm_status vkmm_weight_store_create(const vkmm_weight_store_params *p, vkmm_weight_store **out, vkmm_error *err);
void vkmm_weight_store_free(vkmm_weight_store *ws);
vkmm_weight_source *vkmm_weight_store_source(vkmm_weight_store *ws);
uint64_t vkmm_weight_store_bytes(const vkmm_weight_store *ws);
/* Starts this store's progress count at `done` (a second file continuing the first one's bar). */
void vkmm_weight_store_skip(vkmm_weight_store *ws, uint64_t done);

/* Bytes of every tensor in the file (what loading it will put on the device, give or take conversions). */
uint64_t vkmm_gguf_tensor_bytes(const vkmm_gguf *g);

#endif
