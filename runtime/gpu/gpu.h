/* runtime/gpu/gpu.h — the internal Vulkan layer. Everything above runtime/gpu/ talks to the GPU through
 * this header only; no Vulkan type appears in it. A vkmm_gpu is used from one thread at a time (but see
 * vkmm_gpu_prewarm). */
#ifndef VKMM_GPU_H
#define VKMM_GPU_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "vkmm_device.h"

typedef struct vkmm_gpu vkmm_gpu;
typedef struct vkmm_buffer vkmm_buffer;
typedef struct vkmm_pipeline vkmm_pipeline;
typedef struct vkmm_cmd vkmm_cmd;

/* ---- context ---- */

typedef struct vkmm_gpu_options {
    const char *device;      /* index or name substring; NULL: $VKMM_DEVICE, else the best device */
    int validation;          /* -1: $VKMM_VALIDATE; 0 off; 1 on (an error if the layer is missing) */
    const char *cache_dir;   /* pipeline cache folder; NULL: $XDG_CACHE_HOME/vkmm; "": no disk cache */
    uint64_t memory_budget;  /* device bytes vkmm may allocate; 0: $VKMM_MEMORY_BUDGET, else unlimited */
    bool force_staging;      /* copy through staging even where device memory is host-visible */
    uint32_t max_dispatches_per_submit; /* 0: default; bounds each submit so drivers never time out */
} vkmm_gpu_options;

vkmm_status vkmm_gpu_create(const vkmm_gpu_options *opt, vkmm_gpu **out, vkmm_error *err);
void vkmm_gpu_destroy(vkmm_gpu *gpu);
const vkmm_device_info *vkmm_gpu_info(const vkmm_gpu *gpu);

typedef struct vkmm_validation_counts {
    bool active;        /* the Khronos validation layer is loaded and reporting to us */
    uint32_t errors, warnings;
    char first[512];    /* the first message, for the test report */
} vkmm_validation_counts;
vkmm_validation_counts vkmm_gpu_validation(const vkmm_gpu *gpu);
/* Destroys the context and returns the validation counts, including what destruction reported. */
vkmm_validation_counts vkmm_gpu_destroy_report(vkmm_gpu *gpu);

typedef struct vkmm_gpu_stats {
    uint64_t device_bytes;        /* VkDeviceMemory allocated for device buffers */
    uint64_t device_used;         /* ... of which handed out to buffers (what the budget counts) */
    uint64_t host_bytes;          /* ... for staging / readback */
    uint32_t blocks;              /* memory blocks held */
    uint32_t pipelines_created;
    bool disk_cache_loaded;       /* the pipeline cache came from a file this run */
    uint64_t disk_cache_bytes;    /* size of what was loaded */
    bool disk_cache_rejected;     /* a file was there but ignored (corrupt or foreign) */
    uint32_t submits;
} vkmm_gpu_stats;
vkmm_gpu_stats vkmm_gpu_get_stats(const vkmm_gpu *gpu);
/* The device-memory budget in force (option or $VKMM_MEMORY_BUDGET); 0: none. */
uint64_t vkmm_gpu_memory_budget(const vkmm_gpu *gpu);

/* Writes the pipeline cache file now (also done by vkmm_gpu_destroy when something new was compiled). */
vkmm_status vkmm_gpu_save_pipeline_cache(vkmm_gpu *gpu, vkmm_error *err);
const char *vkmm_gpu_pipeline_cache_path(const vkmm_gpu *gpu);

/* For the harness self-test only: makes one deliberate, harmless API misuse that validation reports. */
void vkmm_gpu_provoke_validation_error(vkmm_gpu *gpu);

/* RenderDoc: when VKMM_CAPTURE=1 and the process runs under RenderDoc, the first begin/end pair
 * becomes a capture. Both are no-ops otherwise. */
void vkmm_gpu_capture_begin(vkmm_gpu *gpu);
void vkmm_gpu_capture_end(vkmm_gpu *gpu);
bool vkmm_gpu_capture_available(const vkmm_gpu *gpu);

/* ---- memory ---- */

typedef enum vkmm_mem_kind {
    VKMM_MEM_DEVICE,    /* where kernels read and write */
    VKMM_MEM_HOST,      /* host-visible, coherent: small per-token parameters, staging */
} vkmm_mem_kind;

/* Sub-allocated from large blocks; never one vkAllocateMemory per buffer. */
vkmm_status vkmm_buffer_create(vkmm_gpu *gpu, uint64_t size, vkmm_mem_kind kind, const char *name,
                               vkmm_buffer **out, vkmm_error *err);
void vkmm_buffer_destroy(vkmm_buffer *buf);
uint64_t vkmm_buffer_size(const vkmm_buffer *buf);
/* Host pointer when the buffer's memory is host-visible (always for VKMM_MEM_HOST), else NULL. */
void *vkmm_buffer_map(vkmm_buffer *buf);

/* A byte range of a buffer, as bound to one shader binding. */
typedef struct vkmm_range {
    vkmm_buffer *buf;
    uint64_t offset, size;
} vkmm_range;

vkmm_range vkmm_range_whole(vkmm_buffer *buf);
vkmm_range vkmm_range_sub(vkmm_range r, uint64_t offset, uint64_t size);

/* Splits r into pieces no larger than the device's maxStorageBufferRange, each a multiple of unit bytes
 * (one row, say) and starting at an offset the device can bind. Returns the piece count, or -1 if a
 * single unit cannot be bound; writes at most max pieces. */
int vkmm_range_split(const vkmm_gpu *gpu, vkmm_range r, uint64_t unit, vkmm_range *pieces, int max);

/* Where r starts inside the Vulkan buffer it is bound from: kernels that load vec4s need it 16-aligned. */
uint64_t vkmm_range_device_offset(vkmm_range r);

/* Rounds r's start down to the device's binding alignment: *bound is what to bind, *skip_bytes how far
 * into it r starts (kernels take it as an element offset in their push constants). */
void vkmm_range_align(const vkmm_gpu *gpu, vkmm_range r, vkmm_range *bound, uint64_t *skip_bytes);

/* Texel bindings: a binding that the shader declares as a usamplerBuffer or samplerBuffer reads its range as
 * 16-byte texels (R32G32B32A32 UINT or SFLOAT). On lavapipe a texel fetch is a few vector loads where a
 * storage-buffer load is a loop over the lanes, so kernels there read their big inputs this way.
 * vkmm_range_texel rounds r's start down to the texel-view alignment (*skip_bytes: how far into *bound r starts)
 * and its end up to a whole texel; false when the buffer does not hold that rounded range or it has more texels
 * than a view may. */
bool vkmm_range_texel(const vkmm_gpu *gpu, vkmm_range r, vkmm_range *bound, uint64_t *skip_bytes);

/* Synchronous copies between host memory and a buffer; staged through host-visible memory (on the
 * dedicated transfer queue where there is one) unless the buffer is host-visible itself. */
vkmm_status vkmm_buffer_upload(vkmm_gpu *gpu, vkmm_buffer *buf, uint64_t offset, const void *src,
                               uint64_t size, vkmm_error *err);
vkmm_status vkmm_buffer_download(vkmm_gpu *gpu, vkmm_buffer *buf, uint64_t offset, void *dst,
                                 uint64_t size, vkmm_error *err);

/* ---- pipelines ---- */

/* Embedded SPIR-V by variant name (see shaders/meson.build); NULL if absent. */
typedef struct vkmm_shader_blob vkmm_shader_blob;
const vkmm_shader_blob *vkmm_shader_find(const char *name);

typedef enum vkmm_bind_kind {
    VKMM_BIND_STORAGE,   /* storage buffer */
    VKMM_BIND_TEXEL_U32, /* uniform texel buffer, R32G32B32A32_UINT */
    VKMM_BIND_TEXEL_F32, /* uniform texel buffer, R32G32B32A32_SFLOAT */
} vkmm_bind_kind;

#define VKMM_MAX_SPEC 16
#define VKMM_MAX_BINDINGS 16
#define VKMM_PUSH_MAX 128

/* Specialization constant i (constant_id = i) gets spec[i]; all are 32-bit.
 * required_subgroup_size: 0 for the driver's choice, else requested through subgroup size control. */
typedef struct vkmm_pipeline_desc {
    const char *shader;
    uint32_t spec[VKMM_MAX_SPEC];
    uint32_t n_spec;
    uint32_t required_subgroup_size;
} vkmm_pipeline_desc;

/* Returns a pipeline owned by the gpu (created once, cached by shader + constants). */
vkmm_status vkmm_pipeline_get(vkmm_gpu *gpu, const vkmm_pipeline_desc *desc, vkmm_pipeline **out,
                              vkmm_error *err);
/* Starts compiling, on a background thread, the pipelines that the last run with this `tag` (a model's identity)
 * used, read from a list beside the pipeline cache (newest first: the caller's first uses are compiled by the
 * caller, so the two meet in the middle); this run's list is written at vkmm_gpu_destroy. Pipelines are the
 * one part of a vkmm_gpu that two threads may use at once. No-op without a disk cache or with VKMM_PREWARM=0. */
void vkmm_gpu_prewarm(vkmm_gpu *gpu, const char *tag);
/* Waits until the prewarm thread is done (tests). */
void vkmm_gpu_prewarm_wait(vkmm_gpu *gpu);
uint32_t vkmm_pipeline_bindings(const vkmm_pipeline *p);
vkmm_bind_kind vkmm_pipeline_binding_kind(const vkmm_pipeline *p, uint32_t binding);

/* ---- recording and submission ---- */

enum { VKMM_CMD_PROFILE = 1u << 0 };

typedef struct vkmm_binding {
    vkmm_range range;
    bool write;
    uint64_t skip;   /* leading bytes of range the kernel never touches (alignment padding): they
                        do not count as an access, so neighbours stay barrier-free */
} vkmm_binding;

typedef struct vkmm_dispatch {
    vkmm_pipeline *pipeline;
    const vkmm_binding *bindings; /* binding i of the shader gets bindings[i] */
    uint32_t n_bindings;
    const void *push;
    uint32_t push_size;
    uint32_t groups[3];
    const char *label;            /* shown in RenderDoc and in the profile */
} vkmm_dispatch;

/* A recorded list of dispatches, split into several command buffers when long so that no single
 * submit runs long enough to trip a driver timeout. Record once, submit as often as needed. */
vkmm_status vkmm_cmd_create(vkmm_gpu *gpu, unsigned flags, vkmm_cmd **out, vkmm_error *err);
void vkmm_cmd_destroy(vkmm_cmd *cmd);
/* Drops everything recorded so the list can be recorded anew. */
void vkmm_cmd_reset(vkmm_cmd *cmd);
/* Appends a dispatch; a barrier goes in front of it only if it touches what an earlier one wrote
 * (or writes what an earlier one read). */
vkmm_status vkmm_cmd_dispatch(vkmm_cmd *cmd, const vkmm_dispatch *d, vkmm_error *err);
/* Starts a new command buffer (a submit boundary) before the next dispatch. */
void vkmm_cmd_split(vkmm_cmd *cmd);
vkmm_status vkmm_cmd_end(vkmm_cmd *cmd, vkmm_error *err);
/* Submits everything recorded and waits for it. */
vkmm_status vkmm_cmd_submit(vkmm_cmd *cmd, vkmm_error *err);
uint32_t vkmm_cmd_dispatch_count(const vkmm_cmd *cmd);
uint32_t vkmm_cmd_barrier_count(const vkmm_cmd *cmd);
uint32_t vkmm_cmd_submit_chunks(const vkmm_cmd *cmd);

typedef struct vkmm_profile_entry {
    const char *label;
    double ns;            /* GPU time from the end of the previous dispatch to the end of this one */
} vkmm_profile_entry;
/* Per-dispatch GPU times of the last submit (needs VKMM_CMD_PROFILE and timestamps); returns count. */
uint32_t vkmm_cmd_profile(const vkmm_cmd *cmd, const vkmm_profile_entry **entries);

#endif
