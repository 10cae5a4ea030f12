/* runtime/gpu/context.c — creates and destroys the vkmm_gpu: instance, chosen device, queues, memory,
 * pipeline cache; and the one submit path every queue submission goes through. */
#include <stdio.h>
#include <stdlib.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <string.h>

#include "gpu_internal.h"
#include "log.h"

const char *vkmm_vk_result_name(VkResult r)
{
    switch (r) {
    case VK_SUCCESS: return "VK_SUCCESS";
    case VK_NOT_READY: return "VK_NOT_READY";
    case VK_TIMEOUT: return "VK_TIMEOUT";
    case VK_INCOMPLETE: return "VK_INCOMPLETE";
    case VK_ERROR_OUT_OF_HOST_MEMORY: return "VK_ERROR_OUT_OF_HOST_MEMORY";
    case VK_ERROR_OUT_OF_DEVICE_MEMORY: return "VK_ERROR_OUT_OF_DEVICE_MEMORY";
    case VK_ERROR_INITIALIZATION_FAILED: return "VK_ERROR_INITIALIZATION_FAILED";
    case VK_ERROR_DEVICE_LOST: return "VK_ERROR_DEVICE_LOST";
    case VK_ERROR_MEMORY_MAP_FAILED: return "VK_ERROR_MEMORY_MAP_FAILED";
    case VK_ERROR_LAYER_NOT_PRESENT: return "VK_ERROR_LAYER_NOT_PRESENT";
    case VK_ERROR_EXTENSION_NOT_PRESENT: return "VK_ERROR_EXTENSION_NOT_PRESENT";
    case VK_ERROR_FEATURE_NOT_PRESENT: return "VK_ERROR_FEATURE_NOT_PRESENT";
    case VK_ERROR_INCOMPATIBLE_DRIVER: return "VK_ERROR_INCOMPATIBLE_DRIVER";
    case VK_ERROR_TOO_MANY_OBJECTS: return "VK_ERROR_TOO_MANY_OBJECTS";
    case VK_ERROR_FORMAT_NOT_SUPPORTED: return "VK_ERROR_FORMAT_NOT_SUPPORTED";
    case VK_ERROR_FRAGMENTED_POOL: return "VK_ERROR_FRAGMENTED_POOL";
    case VK_ERROR_OUT_OF_POOL_MEMORY: return "VK_ERROR_OUT_OF_POOL_MEMORY";
    case VK_ERROR_INVALID_SHADER_NV: return "VK_ERROR_INVALID_SHADER_NV";
    default: return "VkResult(unknown)";
    }
}

vkmm_status vkmm_vk_fail(vkmm_gpu *gpu, VkResult r, vkmm_error *err, const char *what)
{
    if (r == VK_ERROR_DEVICE_LOST) {
        if (gpu)
            gpu->lost = true;
        return vkmm_fail(err, VKMM_ERR_DEVICE_LOST,
                         "%s: the GPU was lost (VK_ERROR_DEVICE_LOST); this context can no longer be used", what);
    }
    if (r == VK_ERROR_OUT_OF_DEVICE_MEMORY)
        return vkmm_fail(err, VKMM_ERR_OUT_OF_MEMORY, "%s: out of device memory", what);
    if (r == VK_ERROR_OUT_OF_HOST_MEMORY)
        return vkmm_fail(err, VKMM_ERR_HOST_MEMORY, "%s: out of host memory", what);
    return vkmm_fail(err, VKMM_ERR_VULKAN, "%s failed: %s", what, vkmm_vk_result_name(r));
}

vkmm_status vkmm_gpu_submit_wait(vkmm_gpu *gpu, VkQueue q, const VkCommandBuffer *cbs, uint32_t n,
                                 VkFence fence, vkmm_error *err)
{
    if (gpu->lost)
        return vkmm_fail(err, VKMM_ERR_DEVICE_LOST, "the GPU was lost earlier; recreate the context");
    gpu->stats.submits++;
    if (gpu->inject_lost_at && gpu->stats.submits >= gpu->inject_lost_at)
        return vkmm_vk_fail(gpu, VK_ERROR_DEVICE_LOST, err, "vkQueueSubmit (injected by VKMM_INJECT_DEVICE_LOST)");
    VkResult r = vkResetFences(gpu->device, 1, &fence);
    if (r != VK_SUCCESS)
        return vkmm_vk_fail(gpu, r, err, "vkResetFences");
    /* One batch per command buffer: drivers time each batch separately, so bounded command
     * buffers mean bounded batches even when many go in one call. */
    VkSubmitInfo stack[16], *si = n <= 16 ? stack : calloc(n, sizeof *si);
    if (!si)
        return vkmm_fail(err, VKMM_ERR_HOST_MEMORY, "out of host memory");
    for (uint32_t i = 0; i < n; i++)
        si[i] = (VkSubmitInfo){
            .sType = VK_STRUCTURE_TYPE_SUBMIT_INFO,
            .commandBufferCount = 1,
            .pCommandBuffers = &cbs[i],
        };
    r = vkQueueSubmit(q, n, si, fence);
    if (si != stack)
        free(si);
    if (r != VK_SUCCESS)
        return vkmm_vk_fail(gpu, r, err, "vkQueueSubmit");
    r = vkWaitForFences(gpu->device, 1, &fence, VK_TRUE, UINT64_MAX);
    if (r != VK_SUCCESS)
        return vkmm_vk_fail(gpu, r, err, "vkWaitForFences");
    return VKMM_OK;
}

void vkmm_gpu_name_object(vkmm_gpu *gpu, VkObjectType type, uint64_t handle, const char *name)
{
    if (!gpu->set_name || !name || !*name)
        return;
    VkDebugUtilsObjectNameInfoEXT ni = {
        .sType = VK_STRUCTURE_TYPE_DEBUG_UTILS_OBJECT_NAME_INFO_EXT,
        .objectType = type,
        .objectHandle = handle,
        .pObjectName = name,
    };
    gpu->set_name(gpu->device, &ni);
}

/* Probes every physical device of an instance. */
static vkmm_status probe_all(vkmm_instance *inst, VkPhysicalDevice **pds, vkmm_device_info **infos, int *count,
                             vkmm_error *err)
{
    uint32_t n = 0;
    VkResult r = vkEnumeratePhysicalDevices(inst->instance, &n, NULL);
    if (r != VK_SUCCESS)
        return vkmm_vk_fail(NULL, r, err, "vkEnumeratePhysicalDevices");
    if (n == 0)
        return vkmm_fail(err, VKMM_ERR_NO_DEVICE,
                         "no Vulkan device found; install a Vulkan driver (mesa-vulkan-drivers gives the CPU one)");
    *pds = calloc(n, sizeof **pds);
    *infos = calloc(n, sizeof **infos);
    if (!*pds || !*infos) {
        free(*pds);
        free(*infos);
        return vkmm_fail(err, VKMM_ERR_HOST_MEMORY, "out of host memory");
    }
    r = vkEnumeratePhysicalDevices(inst->instance, &n, *pds);
    if (r != VK_SUCCESS && r != VK_INCOMPLETE) {
        free(*pds);
        free(*infos);
        return vkmm_vk_fail(NULL, r, err, "vkEnumeratePhysicalDevices");
    }
    for (uint32_t i = 0; i < n; i++)
        vkmm_probe_device((*pds)[i], (int)i, inst->debug_utils, &(*infos)[i]);
    *count = (int)n;
    return VKMM_OK;
}

VKMM_API vkmm_status vkmm_devices_list(vkmm_device_info **out, int *count, vkmm_error *err)
{
    if (!out || !count)
        return vkmm_fail(err, VKMM_ERR_INVALID_ARG, "vkmm_devices_list needs somewhere to put the list and count");
    *out = NULL;
    *count = 0;
    vkmm_instance inst;
    vkmm_status s = vkmm_instance_create(vkmm_validation_wanted(-1), &inst, err);
    if (s)
        return s;
    VkPhysicalDevice *pds = NULL;
    s = probe_all(&inst, &pds, out, count, err);
    free(pds);
    vkmm_instance_destroy(&inst, NULL);
    return s;
}

static vkmm_status create_device(vkmm_gpu *gpu, vkmm_error *err)
{
    const vkmm_device_info *info = &gpu->info;
    float prio = 1.0f;
    VkDeviceQueueCreateInfo qci[2] = {
        {.sType = VK_STRUCTURE_TYPE_DEVICE_QUEUE_CREATE_INFO,
         .queueFamilyIndex = (uint32_t)info->queue_family_compute,
         .queueCount = 1,
         .pQueuePriorities = &prio},
        {.sType = VK_STRUCTURE_TYPE_DEVICE_QUEUE_CREATE_INFO,
         .queueFamilyIndex = (uint32_t)info->queue_family_transfer,
         .queueCount = 1,
         .pQueuePriorities = &prio},
    };
    uint32_t n_q = info->queue_family_transfer >= 0 ? 2 : 1;

    const char *exts[4];
    uint32_t n_ext = 0;
    void *chain = NULL;

    VkPhysicalDeviceSubgroupSizeControlFeaturesEXT ssc = {
        .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SUBGROUP_SIZE_CONTROL_FEATURES_EXT};
    if (info->subgroup_size_control) {
        exts[n_ext++] = VK_EXT_SUBGROUP_SIZE_CONTROL_EXTENSION_NAME;
        ssc.subgroupSizeControl = VK_TRUE;
        ssc.computeFullSubgroups = info->subgroup_full;
        ssc.pNext = chain;
        chain = &ssc;
        gpu->subgroup_size_control_enabled = true;
    }
    VkPhysicalDeviceCooperativeMatrixFeaturesNV coop = {
        .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_COOPERATIVE_MATRIX_FEATURES_NV};
    if (info->coopmat_nv) {
        exts[n_ext++] = "VK_NV_cooperative_matrix";
        coop.cooperativeMatrix = VK_TRUE;
        coop.pNext = chain;
        chain = &coop;
    }
    VkPhysicalDeviceVulkan12Features f12 = {
        .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_2_FEATURES,
        .pNext = chain,
        .storageBuffer8BitAccess = VK_TRUE,
        .shaderInt8 = info->int8,
        .shaderFloat16 = info->fp16,
    };
    VkPhysicalDeviceVulkan11Features f11 = {
        .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_1_FEATURES,
        .pNext = &f12,
        .storageBuffer16BitAccess = VK_TRUE,
    };
    VkPhysicalDeviceFeatures2 f = {
        .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_FEATURES_2,
        .pNext = &f11,
        .features = {.shaderInt16 = info->int16, .shaderInt64 = info->int64},
    };
    VkDeviceCreateInfo dci = {
        .sType = VK_STRUCTURE_TYPE_DEVICE_CREATE_INFO,
        .pNext = &f,
        .queueCreateInfoCount = n_q,
        .pQueueCreateInfos = qci,
        .enabledExtensionCount = n_ext,
        .ppEnabledExtensionNames = exts,
    };
    VkResult r = vkCreateDevice(gpu->phys, &dci, NULL, &gpu->device);
    if (r != VK_SUCCESS)
        return vkmm_vk_fail(gpu, r, err, "vkCreateDevice");

    gpu->queue_family = (uint32_t)info->queue_family_compute;
    vkGetDeviceQueue(gpu->device, gpu->queue_family, 0, &gpu->queue);
    if (info->queue_family_transfer >= 0) {
        gpu->transfer_family = (uint32_t)info->queue_family_transfer;
        vkGetDeviceQueue(gpu->device, gpu->transfer_family, 0, &gpu->transfer_queue);
    } else {
        gpu->transfer_family = gpu->queue_family;
    }
    if (gpu->inst.debug_utils) {
        gpu->begin_label = (PFN_vkCmdBeginDebugUtilsLabelEXT)vkGetDeviceProcAddr(gpu->device, "vkCmdBeginDebugUtilsLabelEXT");
        gpu->end_label = (PFN_vkCmdEndDebugUtilsLabelEXT)vkGetDeviceProcAddr(gpu->device, "vkCmdEndDebugUtilsLabelEXT");
        gpu->set_name = (PFN_vkSetDebugUtilsObjectNameEXT)vkGetDeviceProcAddr(gpu->device, "vkSetDebugUtilsObjectNameEXT");
        /* some loaders only hand these out through the instance */
        if (!gpu->begin_label)
            gpu->begin_label = (PFN_vkCmdBeginDebugUtilsLabelEXT)vkGetInstanceProcAddr(gpu->inst.instance, "vkCmdBeginDebugUtilsLabelEXT");
        if (!gpu->end_label)
            gpu->end_label = (PFN_vkCmdEndDebugUtilsLabelEXT)vkGetInstanceProcAddr(gpu->inst.instance, "vkCmdEndDebugUtilsLabelEXT");
        if (!gpu->set_name)
            gpu->set_name = (PFN_vkSetDebugUtilsObjectNameEXT)vkGetInstanceProcAddr(gpu->inst.instance, "vkSetDebugUtilsObjectNameEXT");
        if (!gpu->begin_label || !gpu->end_label)
            gpu->begin_label = NULL, gpu->end_label = NULL;
    }

    VkCommandPoolCreateInfo pci = {
        .sType = VK_STRUCTURE_TYPE_COMMAND_POOL_CREATE_INFO,
        .flags = VK_COMMAND_POOL_CREATE_RESET_COMMAND_BUFFER_BIT | VK_COMMAND_POOL_CREATE_TRANSIENT_BIT,
        .queueFamilyIndex = gpu->transfer_family,
    };
    r = vkCreateCommandPool(gpu->device, &pci, NULL, &gpu->transfer_pool);
    if (r != VK_SUCCESS)
        return vkmm_vk_fail(gpu, r, err, "vkCreateCommandPool");
    VkFenceCreateInfo fci = {.sType = VK_STRUCTURE_TYPE_FENCE_CREATE_INFO};
    r = vkCreateFence(gpu->device, &fci, NULL, &gpu->transfer_fence);
    if (r != VK_SUCCESS)
        return vkmm_vk_fail(gpu, r, err, "vkCreateFence");
    return VKMM_OK;
}

static uint64_t env_u64(const char *name)
{
    const char *s = getenv(name);
    if (!s || !*s)
        return 0;
    char *end;
    unsigned long long v = strtoull(s, &end, 10);
    /* accept 512M / 2G style suffixes */
    if (*end == 'k' || *end == 'K') v <<= 10;
    else if (*end == 'm' || *end == 'M') v <<= 20;
    else if (*end == 'g' || *end == 'G') v <<= 30;
    return v;
}

vkmm_status vkmm_gpu_create(const vkmm_gpu_options *opt, vkmm_gpu **out, vkmm_error *err)
{
    static const vkmm_gpu_options defaults = {.validation = -1};
    if (!opt)
        opt = &defaults;
    *out = NULL;
    vkmm_gpu *gpu = calloc(1, sizeof *gpu);
    if (!gpu)
        return vkmm_fail(err, VKMM_ERR_HOST_MEMORY, "out of host memory");
    pthread_mutex_init(&gpu->pipe_lock, NULL);
    pthread_cond_init(&gpu->pipe_done, NULL);
    gpu->pipe_sync = true;

    vkmm_status s = vkmm_instance_create(vkmm_validation_wanted(opt->validation), &gpu->inst, err);
    if (s) {
        pthread_mutex_destroy(&gpu->pipe_lock);
        pthread_cond_destroy(&gpu->pipe_done);
        free(gpu);
        return s;
    }
    VkPhysicalDevice *pds = NULL;
    vkmm_device_info *infos = NULL;
    int n = 0;
    s = probe_all(&gpu->inst, &pds, &infos, &n, err);
    if (s)
        goto fail;
    const char *spec = opt->device ? opt->device : getenv("VKMM_DEVICE");
    int pick = vkmm_device_choose(infos, n, spec, err);
    if (pick < 0) {
        s = err ? err->code : VKMM_ERR_NO_DEVICE;
        free(pds);
        free(infos);
        goto fail;
    }
    gpu->phys = pds[pick];
    gpu->info = infos[pick];
    VkPhysicalDeviceProperties pp;
    vkGetPhysicalDeviceProperties(gpu->phys, &pp);
    gpu->texel_align = pp.limits.minTexelBufferOffsetAlignment ? pp.limits.minTexelBufferOffsetAlignment : 1;
    gpu->max_texels = pp.limits.maxTexelBufferElements;
    free(pds);
    free(infos);

    gpu->force_staging = opt->force_staging || getenv("VKMM_FORCE_STAGING");
    gpu->max_dispatches_per_submit = opt->max_dispatches_per_submit ? opt->max_dispatches_per_submit : 256;
    gpu->inject_lost_at = (uint32_t)env_u64("VKMM_INJECT_DEVICE_LOST");
    s = create_device(gpu, err);
    if (s)
        goto fail;
    uint64_t budget = opt->memory_budget ? opt->memory_budget : env_u64("VKMM_MEMORY_BUDGET");
    s = vkmm_memory_init(gpu, budget, err);
    if (s)
        goto fail;

    const char *dir = opt->cache_dir;
    char dflt[1024];
    if (!dir) {
        const char *xdg = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");
        if (xdg && *xdg)
            snprintf(dflt, sizeof dflt, "%s/vkmm", xdg);
        else if (home && *home)
            snprintf(dflt, sizeof dflt, "%s/.cache/vkmm", home);
        else
            dflt[0] = 0;
        dir = dflt;
    }
    vkmm_pipeline_cache_open(gpu, dir);
    vkmm_renderdoc_init(gpu);
    vkmm_debug("using device %d: %s (%s)", gpu->info.index, gpu->info.name, gpu->info.driver_name);
    *out = gpu;
    return VKMM_OK;

fail:
    vkmm_gpu_destroy(gpu);
    return s;
}

void vkmm_gpu_destroy(vkmm_gpu *gpu)
{
    vkmm_gpu_destroy_report(gpu);
}

vkmm_validation_counts vkmm_gpu_destroy_report(vkmm_gpu *gpu)
{
    vkmm_validation_counts final = {0};
    if (!gpu)
        return final;
    if (gpu->device) {
        vkmm_pipeline_warm_stop(gpu); /* before anything it could be compiling with goes */
        vkDeviceWaitIdle(gpu->device);
        vkmm_pipeline_cache_close(gpu);
        if (!gpu->lost)
            vkmm_pipeline_warm_save(gpu);
        vkmm_pipelines_destroy(gpu);
        vkmm_memory_destroy(gpu);
        if (gpu->transfer_fence)
            vkDestroyFence(gpu->device, gpu->transfer_fence, NULL);
        if (gpu->transfer_pool)
            vkDestroyCommandPool(gpu->device, gpu->transfer_pool, NULL);
        vkDestroyDevice(gpu->device, NULL);
    }
    vkmm_instance_destroy(&gpu->inst, &final);
    if (gpu->pipe_sync) {
        pthread_mutex_destroy(&gpu->pipe_lock);
        pthread_cond_destroy(&gpu->pipe_done);
    }
    bool warmed = gpu->warm_loaded != NULL;
    free(gpu->warm_loaded);
    free(gpu);
#ifdef __GLIBC__
    /* The prewarm thread's allocations lived in a malloc arena of its own, which glibc keeps (and the next
     * context's driver threads may take over): give its free pages back, or RSS creeps up by the better part of
     * a megabyte per model load and free (measured; none with MALLOC_ARENA_MAX=1, so a retention, not a leak). */
    if (warmed)
        malloc_trim(0);
#endif
    return final;
}

const vkmm_device_info *vkmm_gpu_info(const vkmm_gpu *gpu)
{
    return &gpu->info;
}

vkmm_validation_counts vkmm_gpu_validation(const vkmm_gpu *gpu)
{
    vkmm_validation_counts c = {0};
    if (gpu->inst.counts)
        c = *gpu->inst.counts;
    return c;
}

uint64_t vkmm_gpu_memory_budget(const vkmm_gpu *gpu)
{
    return gpu->mem.budget;
}

vkmm_gpu_stats vkmm_gpu_get_stats(const vkmm_gpu *gpu)
{
    vkmm_gpu_stats s = gpu->stats;
    s.device_bytes = gpu->mem.device_bytes;
    s.device_used = gpu->mem.device_used;
    s.host_bytes = gpu->mem.host_bytes;
    s.blocks = gpu->mem.n_blocks;
    return s;
}

void vkmm_gpu_provoke_validation_error(vkmm_gpu *gpu)
{
    /* A zero-sized buffer breaks VUID-VkBufferCreateInfo-size-00912; drivers accept it harmlessly. */
    VkBufferCreateInfo bci = {
        .sType = VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO,
        .size = 0,
        .usage = VK_BUFFER_USAGE_STORAGE_BUFFER_BIT,
        .sharingMode = VK_SHARING_MODE_EXCLUSIVE,
    };
    VkBuffer b = VK_NULL_HANDLE;
    if (vkCreateBuffer(gpu->device, &bci, NULL, &b) == VK_SUCCESS && b)
        vkDestroyBuffer(gpu->device, b, NULL);
}
