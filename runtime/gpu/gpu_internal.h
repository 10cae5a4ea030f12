/* runtime/gpu/gpu_internal.h — the Vulkan objects behind vkmm_gpu, shared by the files of runtime/gpu/ only. */
#ifndef VKMM_GPU_INTERNAL_H
#define VKMM_GPU_INTERNAL_H

#include <pthread.h>
#include <vulkan/vulkan.h>

#include "gpu.h"

/* ---- instance (instance.c) ---- */

typedef struct vkmm_instance {
    VkInstance instance;
    VkDebugUtilsMessengerEXT messenger;
    bool debug_utils;
    bool validation;
    vkmm_validation_counts *counts; /* owned here; heap so the callback's pointer stays put */
} vkmm_instance;

vkmm_status vkmm_instance_create(bool validation, vkmm_instance *out, vkmm_error *err);
/* final (optional) receives the counts including anything reported during destruction. */
void vkmm_instance_destroy(vkmm_instance *inst, vkmm_validation_counts *final);
/* Is the validation layer wanted? opt: -1 env, 0 no, 1 yes. */
bool vkmm_validation_wanted(int opt);

/* ---- probe (probe.c) ---- */

void vkmm_probe_device(VkPhysicalDevice pd, int index, bool debug_utils, vkmm_device_info *info);
/* Picks a device: spec is an index or a name substring (NULL or "" = best). Returns the index or -1. */
int vkmm_device_choose(const vkmm_device_info *devs, int n, const char *spec, vkmm_error *err);

/* ---- memory (memory.c) ---- */

typedef struct vkmm_span { uint64_t offset, size; } vkmm_span;

typedef struct vkmm_block {
    VkDeviceMemory memory;
    VkBuffer buffer;
    uint64_t size;
    uint32_t type_index;
    vkmm_mem_kind kind;
    void *mapped;          /* persistent map when host-visible */
    bool dedicated;        /* holds exactly one allocation */
    vkmm_span *free;       /* sorted by offset, coalesced */
    uint32_t n_free, cap_free;
    uint32_t live;         /* allocations inside */
    struct vkmm_block *next;
} vkmm_block;

/* A texel-buffer view of part of a buffer, made on first use and kept until the buffer is destroyed (command
 * buffers recorded once are replayed later, so views must outlive every recording that binds them). */
typedef struct vkmm_view {
    uint64_t offset, size;
    vkmm_bind_kind kind;
    VkBufferView view;
} vkmm_view;

struct vkmm_buffer {
    vkmm_gpu *gpu;
    vkmm_block *block;
    uint64_t offset, size, reserved;
    char name[48];
    vkmm_view *views;
    uint32_t n_views, cap_views;
};

typedef struct vkmm_memory {
    vkmm_block *blocks;
    int32_t type_device, type_host;  /* memory type indices */
    bool device_host_visible;        /* device memory can be mapped (UMA, lavapipe, ReBAR) */
    uint64_t block_size;
    uint64_t budget;                 /* 0 = none */
    uint64_t device_bytes, host_bytes;
    uint64_t device_used;            /* bytes of device buffers handed out (what the budget limits) */
    uint32_t n_blocks;
} vkmm_memory;

vkmm_status vkmm_memory_init(vkmm_gpu *gpu, uint64_t budget, vkmm_error *err);
/* The view of buf's bytes [offset, offset + size) as 16-byte texels of the kind's format. */
vkmm_status vkmm_buffer_view(vkmm_buffer *buf, uint64_t offset, uint64_t size, vkmm_bind_kind kind, VkBufferView *out,
                             vkmm_error *err);
void vkmm_memory_destroy(vkmm_gpu *gpu);

/* ---- pipelines (pipeline.c, pipeline_cache.c) ---- */

enum { VKMM_PIPE_READY, VKMM_PIPE_COMPILING, VKMM_PIPE_FAILED };

struct vkmm_pipeline {
    char key[160];
    char shader[64];    /* the desc, kept for the prewarm list (the caller's name may be a stack buffer) */
    uint32_t spec[VKMM_MAX_SPEC], n_spec, subgroup_size;
    int state;          /* VKMM_PIPE_*: another thread may still be compiling it (the prewarm thread) */
    bool used;          /* handed to a caller (not just prewarmed); use_seq: in which order */
    uint32_t use_seq;
    VkPipeline pipeline;
    VkPipelineLayout layout;
    VkDescriptorSetLayout set_layout;
    uint32_t n_bindings;
    vkmm_bind_kind kinds[VKMM_MAX_BINDINGS]; /* what each binding is, read from the shader */
    struct vkmm_pipeline *next;
};

void vkmm_pipelines_destroy(vkmm_gpu *gpu);
/* vkmm_pipeline_get for the prewarm thread: the same, but the pipeline does not count as used */
vkmm_status vkmm_pipeline_get_for(vkmm_gpu *gpu, const vkmm_pipeline_desc *d, bool use, vkmm_pipeline **out,
                                  vkmm_error *err);
/* pipeline_warm.c: stops and joins the prewarm thread; writes this run's list of used pipelines */
void vkmm_pipeline_warm_stop(vkmm_gpu *gpu);
void vkmm_pipeline_warm_save(vkmm_gpu *gpu);
void vkmm_pipeline_cache_open(vkmm_gpu *gpu, const char *dir);
void vkmm_pipeline_cache_close(vkmm_gpu *gpu);

/* ---- RenderDoc (renderdoc.c) ---- */

void vkmm_renderdoc_init(vkmm_gpu *gpu);

/* ---- the context ---- */

struct vkmm_gpu {
    vkmm_instance inst;
    vkmm_device_info info;
    VkPhysicalDevice phys;
    VkDevice device;
    VkQueue queue;               /* compute */
    uint32_t queue_family;
    VkQueue transfer_queue;      /* dedicated transfer family, or VK_NULL_HANDLE */
    uint32_t transfer_family;
    VkCommandPool transfer_pool; /* for uploads/downloads (on whichever queue does them) */
    VkFence transfer_fence;
    bool force_staging;
    bool lost;
    uint32_t max_dispatches_per_submit;
    bool subgroup_size_control_enabled;
    uint64_t texel_align;        /* minTexelBufferOffsetAlignment */
    uint64_t max_texels;         /* maxTexelBufferElements */

    vkmm_memory mem;
    vkmm_buffer *staging;        /* grown on demand */

    VkPipelineCache pipeline_cache;
    char cache_path[1024];
    bool cache_dirty;
    vkmm_pipeline *pipelines;
    pthread_mutex_t pipe_lock;   /* guards pipelines (the prewarm thread adds to it too) */
    pthread_cond_t pipe_done;    /* a pipeline left the compiling state */
    bool pipe_sync;              /* pipe_lock and pipe_done were initialised */
    uint32_t use_seq;
    char warm_path[1100];        /* the prewarm list of this gpu's model ("": none) */
    char *warm_loaded;           /* its text as read, to write it back only when it changed */
    bool warm_running;           /* its job is queued or running on the prewarm worker (under that worker's lock) */
    bool warm_stop;              /* (under pipe_lock) */

    PFN_vkCmdBeginDebugUtilsLabelEXT begin_label;
    PFN_vkCmdEndDebugUtilsLabelEXT end_label;
    PFN_vkSetDebugUtilsObjectNameEXT set_name;

    void *renderdoc;             /* RENDERDOC_API_1_1_2 * when running under RenderDoc */
    bool capture_wanted, capturing;
    uint32_t captures_done;

    vkmm_gpu_stats stats;
    uint32_t inject_lost_at;     /* $VKMM_INJECT_DEVICE_LOST: fail the Nth submit as a lost device */
};

/* Maps a VkResult to a status, marks the device lost when it is, and fills err. */
vkmm_status vkmm_vk_fail(vkmm_gpu *gpu, VkResult r, vkmm_error *err, const char *what);
const char *vkmm_vk_result_name(VkResult r);
/* Common submit path: counts submits, applies fault injection, waits on fence. */
vkmm_status vkmm_gpu_submit_wait(vkmm_gpu *gpu, VkQueue q, const VkCommandBuffer *cbs, uint32_t n,
                                 VkFence fence, vkmm_error *err);
void vkmm_gpu_name_object(vkmm_gpu *gpu, VkObjectType type, uint64_t handle, const char *name);

#endif
