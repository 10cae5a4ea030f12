/* runtime/gpu/probe.c — reads what a physical device can do into a vkmm_device_info, and picks the device
 * to use ($VKMM_DEVICE index or name substring; otherwise discrete > integrated > virtual > CPU, then memory). */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gpu_internal.h"
#include "strutil.h"

static const char *vendor_name(uint32_t id)
{
    switch (id) {
    case 0x10DE: return "NVIDIA";
    case 0x1002: return "AMD";
    case 0x1022: return "AMD";
    case 0x8086: return "Intel";
    case 0x13B5: return "ARM";
    case 0x5143: return "Qualcomm";
    case 0x1010: return "Imagination";
    case 0x106B: return "Apple";
    case 0x10005: return "Mesa";
    default: return "unknown";
    }
}

static void format_driver_version(uint32_t vendor, uint32_t v, char *out, size_t n)
{
    if (vendor == 0x10DE)
        snprintf(out, n, "%u.%u.%u.%u", (v >> 22) & 0x3ff, (v >> 14) & 0xff, (v >> 6) & 0xff, v & 0x3f);
    else
        snprintf(out, n, "%u.%u.%u", VK_API_VERSION_MAJOR(v), VK_API_VERSION_MINOR(v), VK_API_VERSION_PATCH(v));
}

static bool has_ext(const VkExtensionProperties *e, uint32_t n, const char *name)
{
    for (uint32_t i = 0; i < n; i++)
        if (!strcmp(e[i].extensionName, name))
            return true;
    return false;
}

void vkmm_probe_device(VkPhysicalDevice pd, int index, bool debug_utils, vkmm_device_info *info)
{
    memset(info, 0, sizeof *info);
    info->struct_size = sizeof *info;
    info->index = index;
    info->queue_family_compute = -1;
    info->queue_family_transfer = -1;
    info->debug_utils = debug_utils;

    uint32_t n_ext = 0;
    vkEnumerateDeviceExtensionProperties(pd, NULL, &n_ext, NULL);
    VkExtensionProperties *exts = calloc(n_ext ? n_ext : 1, sizeof *exts);
    if (exts)
        vkEnumerateDeviceExtensionProperties(pd, NULL, &n_ext, exts);
    else
        n_ext = 0;
    bool ext_ssc = has_ext(exts, n_ext, VK_EXT_SUBGROUP_SIZE_CONTROL_EXTENSION_NAME);
    info->int_dot = has_ext(exts, n_ext, "VK_KHR_shader_integer_dot_product");
    info->coopmat_nv = has_ext(exts, n_ext, "VK_NV_cooperative_matrix");
    info->coopmat_khr = has_ext(exts, n_ext, "VK_KHR_cooperative_matrix");
    free(exts);

    VkPhysicalDeviceProperties base;
    vkGetPhysicalDeviceProperties(pd, &base);
    bool v12 = base.apiVersion >= VK_API_VERSION_1_2;

    VkPhysicalDeviceSubgroupSizeControlPropertiesEXT ssc_props = {
        .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SUBGROUP_SIZE_CONTROL_PROPERTIES_EXT};
    VkPhysicalDeviceVulkan12Properties p12 = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_2_PROPERTIES,
                                              .pNext = ext_ssc ? &ssc_props : NULL};
    VkPhysicalDeviceVulkan11Properties p11 = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_1_PROPERTIES,
                                              .pNext = &p12};
    VkPhysicalDeviceProperties2 props = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_PROPERTIES_2, .pNext = &p11};
    if (v12)
        vkGetPhysicalDeviceProperties2(pd, &props);
    else
        props.properties = base;
    const VkPhysicalDeviceLimits *lim = &props.properties.limits;

    snprintf(info->name, sizeof info->name, "%s", props.properties.deviceName);
    info->vendor_id = props.properties.vendorID;
    info->device_id = props.properties.deviceID;
    snprintf(info->vendor, sizeof info->vendor, "%s", vendor_name(info->vendor_id));
    info->driver_version = props.properties.driverVersion;
    format_driver_version(info->vendor_id, info->driver_version, info->driver_version_str,
                          sizeof info->driver_version_str);
    info->api_version = props.properties.apiVersion;
    switch (props.properties.deviceType) {
    case VK_PHYSICAL_DEVICE_TYPE_INTEGRATED_GPU: info->kind = VKMM_DEVICE_INTEGRATED; break;
    case VK_PHYSICAL_DEVICE_TYPE_DISCRETE_GPU: info->kind = VKMM_DEVICE_DISCRETE; break;
    case VK_PHYSICAL_DEVICE_TYPE_VIRTUAL_GPU: info->kind = VKMM_DEVICE_VIRTUAL; break;
    case VK_PHYSICAL_DEVICE_TYPE_CPU: info->kind = VKMM_DEVICE_CPU; break;
    default: info->kind = VKMM_DEVICE_OTHER; break;
    }
    memcpy(info->pipeline_cache_uuid, props.properties.pipelineCacheUUID, 16);
    info->timestamp_period_ns = lim->timestampPeriod;
    info->shared_memory = lim->maxComputeSharedMemorySize;
    info->max_workgroup_invocations = lim->maxComputeWorkGroupInvocations;
    for (int i = 0; i < 3; i++) {
        info->max_workgroup_size[i] = lim->maxComputeWorkGroupSize[i];
        info->max_workgroup_count[i] = lim->maxComputeWorkGroupCount[i];
    }
    info->max_push_constants = lim->maxPushConstantsSize;
    info->max_storage_buffer_range = lim->maxStorageBufferRange;
    info->min_storage_offset_alignment = lim->minStorageBufferOffsetAlignment;

    if (v12) {
        memcpy(info->device_uuid, p11.deviceUUID, 16);
        memcpy(info->driver_uuid, p11.driverUUID, 16);
        info->subgroup_size = p11.subgroupSize;
        if (p11.subgroupSupportedStages & VK_SHADER_STAGE_COMPUTE_BIT)
            info->subgroup_ops = p11.subgroupSupportedOperations;
        info->max_allocation_size = p11.maxMemoryAllocationSize;
        snprintf(info->driver_name, sizeof info->driver_name, "%s", p12.driverName);
        snprintf(info->driver_info, sizeof info->driver_info, "%s", p12.driverInfo);
    }
    info->subgroup_size_min = info->subgroup_size_max = info->subgroup_size;

    VkPhysicalDeviceSubgroupSizeControlFeaturesEXT ssc_feat = {
        .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SUBGROUP_SIZE_CONTROL_FEATURES_EXT};
    VkPhysicalDeviceVulkan12Features f12 = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_2_FEATURES,
                                            .pNext = ext_ssc ? &ssc_feat : NULL};
    VkPhysicalDeviceVulkan11Features f11 = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_1_FEATURES,
                                            .pNext = &f12};
    VkPhysicalDeviceFeatures2 feats = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_FEATURES_2, .pNext = &f11};
    if (v12) {
        vkGetPhysicalDeviceFeatures2(pd, &feats);
        info->fp16 = f12.shaderFloat16;
        info->int8 = f12.shaderInt8;
        info->storage8 = f12.storageBuffer8BitAccess;
        info->storage16 = f11.storageBuffer16BitAccess;
    } else {
        vkGetPhysicalDeviceFeatures(pd, &feats.features);
    }
    info->int16 = feats.features.shaderInt16;
    info->int64 = feats.features.shaderInt64;
    if (ext_ssc && ssc_feat.subgroupSizeControl) {
        info->subgroup_size_control = true;
        info->subgroup_full = ssc_feat.computeFullSubgroups;
        info->subgroup_size_min = ssc_props.minSubgroupSize;
        info->subgroup_size_max = ssc_props.maxSubgroupSize;
    }

    VkPhysicalDeviceMemoryProperties mp;
    vkGetPhysicalDeviceMemoryProperties(pd, &mp);
    info->heap_count = mp.memoryHeapCount < VKMM_MAX_HEAPS ? mp.memoryHeapCount : VKMM_MAX_HEAPS;
    for (uint32_t i = 0; i < info->heap_count; i++) {
        info->heaps[i].size = mp.memoryHeaps[i].size;
        info->heaps[i].device_local = mp.memoryHeaps[i].flags & VK_MEMORY_HEAP_DEVICE_LOCAL_BIT;
        if (info->heaps[i].device_local && info->heaps[i].size > info->device_local_bytes)
            info->device_local_bytes = info->heaps[i].size;
    }
    if (!info->max_allocation_size)
        info->max_allocation_size = 1ull << 30; /* Vulkan 1.0 devices: assume the common 1 GiB */

    uint32_t n_q = 0;
    vkGetPhysicalDeviceQueueFamilyProperties(pd, &n_q, NULL);
    VkQueueFamilyProperties *qf = calloc(n_q ? n_q : 1, sizeof *qf);
    if (qf) {
        vkGetPhysicalDeviceQueueFamilyProperties(pd, &n_q, qf);
        /* Prefer a graphics+compute family: RenderDoc replays captures on it, and it is the
         * family every driver tunes best. */
        for (uint32_t i = 0; i < n_q; i++) {
            VkQueueFlags f = qf[i].queueFlags;
            if (!(f & VK_QUEUE_COMPUTE_BIT))
                continue;
            if (info->queue_family_compute < 0 || ((f & VK_QUEUE_GRAPHICS_BIT) &&
                !(qf[info->queue_family_compute].queueFlags & VK_QUEUE_GRAPHICS_BIT)))
                info->queue_family_compute = (int)i;
        }
        for (uint32_t i = 0; i < n_q; i++) {
            VkQueueFlags f = qf[i].queueFlags;
            if ((f & VK_QUEUE_TRANSFER_BIT) && !(f & (VK_QUEUE_GRAPHICS_BIT | VK_QUEUE_COMPUTE_BIT))) {
                info->queue_family_transfer = (int)i;
                break;
            }
        }
        if (info->queue_family_compute >= 0)
            info->timestamps = qf[info->queue_family_compute].timestampValidBits > 0 &&
                               info->timestamp_period_ns > 0;
        free(qf);
    }

    info->usable = true;
    if (!v12)
        snprintf(info->unusable_reason, sizeof info->unusable_reason, "Vulkan %u.%u < 1.2",
                 VK_API_VERSION_MAJOR(info->api_version), VK_API_VERSION_MINOR(info->api_version));
    else if (info->queue_family_compute < 0)
        snprintf(info->unusable_reason, sizeof info->unusable_reason, "no compute queue");
    else if (!info->storage16 || !info->storage8)
        snprintf(info->unusable_reason, sizeof info->unusable_reason, "no 8/16-bit storage buffer access");
    else if (info->max_push_constants < VKMM_PUSH_MAX)
        snprintf(info->unusable_reason, sizeof info->unusable_reason, "push constants < %d bytes", VKMM_PUSH_MAX);
    if (info->unusable_reason[0])
        info->usable = false;
}

static int kind_rank(vkmm_device_kind k)
{
    switch (k) {
    case VKMM_DEVICE_DISCRETE: return 4;
    case VKMM_DEVICE_INTEGRATED: return 3;
    case VKMM_DEVICE_VIRTUAL: return 2;
    case VKMM_DEVICE_CPU: return 1;
    default: return 0;
    }
}

int vkmm_device_choose(const vkmm_device_info *devs, int n, const char *spec, vkmm_error *err)
{
    if (n <= 0) {
        vkmm_fail(err, VKMM_ERR_NO_DEVICE, "no Vulkan device found");
        return -1;
    }
    if (spec && *spec) {
        char *end;
        long idx = strtol(spec, &end, 10);
        int pick = -1;
        if (*end == 0) {
            if (idx < 0 || idx >= n) {
                vkmm_fail(err, VKMM_ERR_NO_DEVICE, "device %ld does not exist (there are %d; see `vkmm devices`)",
                          idx, n);
                return -1;
            }
            pick = (int)idx;
        } else {
            for (int i = 0; i < n && pick < 0; i++)
                if (vkmm_contains_nocase(devs[i].name, spec))
                    pick = i;
            if (pick < 0) {
                vkmm_fail(err, VKMM_ERR_NO_DEVICE, "no device name contains \"%s\" (see `vkmm devices`)", spec);
                return -1;
            }
        }
        if (!devs[pick].usable) {
            vkmm_fail(err, VKMM_ERR_NO_DEVICE, "device %d (%s) cannot run vkmm: %s", pick, devs[pick].name,
                      devs[pick].unusable_reason);
            return -1;
        }
        return pick;
    }
    int best = -1;
    for (int i = 0; i < n; i++) {
        if (!devs[i].usable)
            continue;
        if (best < 0 || kind_rank(devs[i].kind) > kind_rank(devs[best].kind) ||
            (kind_rank(devs[i].kind) == kind_rank(devs[best].kind) &&
             devs[i].device_local_bytes > devs[best].device_local_bytes))
            best = i;
    }
    if (best < 0)
        vkmm_fail(err, VKMM_ERR_NO_DEVICE, "no usable Vulkan device: %s (%s)", devs[0].name, devs[0].unusable_reason);
    return best;
}
