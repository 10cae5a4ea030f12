/* vkmm_device.h — part of vkmm's public API, installed beside vkmm.h (which includes it): the Vulkan devices vkmm
 * sees and what it probed on each, with no Vulkan types. It lives with the GPU layer, which fills it. */
#ifndef VKMM_DEVICE_H
#define VKMM_DEVICE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vkmm_status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum vkmm_device_kind {
    VKMM_DEVICE_OTHER = 0,
    VKMM_DEVICE_INTEGRATED,
    VKMM_DEVICE_DISCRETE,
    VKMM_DEVICE_VIRTUAL,
    VKMM_DEVICE_CPU,
} vkmm_device_kind;

/* Subgroup operation bits (same values as Vulkan's VkSubgroupFeatureFlagBits). */
enum {
    VKMM_SUBGROUP_BASIC = 1u << 0,
    VKMM_SUBGROUP_VOTE = 1u << 1,
    VKMM_SUBGROUP_ARITHMETIC = 1u << 2,
    VKMM_SUBGROUP_BALLOT = 1u << 3,
    VKMM_SUBGROUP_SHUFFLE = 1u << 4,
    VKMM_SUBGROUP_SHUFFLE_RELATIVE = 1u << 5,
    VKMM_SUBGROUP_CLUSTERED = 1u << 6,
    VKMM_SUBGROUP_QUAD = 1u << 7,
};

#define VKMM_MAX_HEAPS 16

typedef struct vkmm_device_info {
    uint32_t struct_size;      /* the library's sizeof: the stride of vkmm_devices_list's array (vkmm_device_at) */
    int index;                 /* position in Vulkan's enumeration (what VKMM_DEVICE / --device take) */
    char name[256];
    char vendor[32];           /* "NVIDIA", "AMD", "Intel", "Mesa", ... */
    char driver_name[256];
    char driver_info[256];
    uint32_t vendor_id, device_id;
    uint32_t driver_version;   /* raw, vendor-encoded */
    char driver_version_str[32];
    uint32_t api_version;      /* VK_MAKE_API_VERSION encoding */
    vkmm_device_kind kind;
    uint8_t device_uuid[16], driver_uuid[16], pipeline_cache_uuid[16];

    uint32_t subgroup_size, subgroup_size_min, subgroup_size_max;
    uint32_t subgroup_ops;     /* VKMM_SUBGROUP_* bits supported in compute shaders */
    bool subgroup_size_control, subgroup_full;

    bool fp16, int8, int16, int64;       /* shader arithmetic */
    bool storage8, storage16;            /* 8/16-bit storage buffer access */
    bool int_dot;                        /* VK_KHR_shader_integer_dot_product */
    bool coopmat_nv;                     /* VK_NV_cooperative_matrix */
    bool coopmat_khr;                    /* VK_KHR_cooperative_matrix (reported only) */
    bool debug_utils;                    /* VK_EXT_debug_utils on the instance */
    bool timestamps;                     /* compute queue writes timestamps */
    float timestamp_period_ns;

    uint32_t shared_memory;              /* maxComputeSharedMemorySize */
    uint32_t max_workgroup_invocations, max_workgroup_size[3], max_workgroup_count[3];
    uint32_t max_push_constants;
    uint64_t max_storage_buffer_range, max_allocation_size, min_storage_offset_alignment;

    uint32_t heap_count;
    struct {
        uint64_t size;
        bool device_local;
    } heaps[VKMM_MAX_HEAPS];
    uint64_t device_local_bytes;         /* largest device-local heap */

    int queue_family_compute;            /* -1 if none */
    int queue_family_transfer;           /* dedicated transfer-only family, -1 if none */

    bool usable;                         /* meets vkmm's minimum (Vulkan 1.2, 8/16-bit storage, ...) */
    char unusable_reason[160];
} vkmm_device_info;

/* Lists every Vulkan device with its probed capabilities. *out is malloc'ed; free() it. */
VKMM_API vkmm_status vkmm_devices_list(vkmm_device_info **out, int *count, vkmm_error *err);
/* Device i of what vkmm_devices_list returned (its elements are the library's size, which may grow). */
static inline const vkmm_device_info *vkmm_device_at(const vkmm_device_info *list, int i)
{
    return (const vkmm_device_info *)((const char *)list + (size_t)i * list[0].struct_size);
}

#ifdef __cplusplus
}
#endif
#endif
