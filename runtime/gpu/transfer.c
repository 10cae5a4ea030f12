/* runtime/gpu/transfer.c — synchronous host <-> buffer copies: a plain memcpy where device memory is mapped
 * (UMA, lavapipe), otherwise through a reusable host-visible staging buffer on the transfer queue. */
#include <string.h>

#include "gpu_internal.h"

#define STAGING_BYTES (32ull << 20)

static vkmm_status ensure_staging(vkmm_gpu *gpu, vkmm_error *err)
{
    if (gpu->staging)
        return VKMM_OK;
    return vkmm_buffer_create(gpu, STAGING_BYTES, VKMM_MEM_HOST, "staging", &gpu->staging, err);
}

/* Records and runs one copy between the staging buffer and buf; upload = staging -> buf. */
static vkmm_status staged_copy(vkmm_gpu *gpu, vkmm_buffer *buf, uint64_t offset, uint64_t size, bool upload,
                               vkmm_error *err)
{
    VkCommandBufferAllocateInfo ai = {
        .sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_ALLOCATE_INFO,
        .commandPool = gpu->transfer_pool,
        .level = VK_COMMAND_BUFFER_LEVEL_PRIMARY,
        .commandBufferCount = 1,
    };
    VkCommandBuffer cb;
    VkResult r = vkAllocateCommandBuffers(gpu->device, &ai, &cb);
    if (r != VK_SUCCESS)
        return vkmm_vk_fail(gpu, r, err, "vkAllocateCommandBuffers");
    VkCommandBufferBeginInfo bi = {
        .sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO,
        .flags = VK_COMMAND_BUFFER_USAGE_ONE_TIME_SUBMIT_BIT,
    };
    vkBeginCommandBuffer(cb, &bi);
    /* Make what earlier submits wrote (kernels on the compute queue) visible to the copy, and
     * order the copy after earlier reads of the destination. */
    VkMemoryBarrier before = {
        .sType = VK_STRUCTURE_TYPE_MEMORY_BARRIER,
        .srcAccessMask = VK_ACCESS_MEMORY_WRITE_BIT,
        .dstAccessMask = VK_ACCESS_TRANSFER_READ_BIT | VK_ACCESS_TRANSFER_WRITE_BIT,
    };
    vkCmdPipelineBarrier(cb, VK_PIPELINE_STAGE_ALL_COMMANDS_BIT, VK_PIPELINE_STAGE_TRANSFER_BIT, 0, 1, &before, 0,
                         NULL, 0, NULL);
    vkmm_buffer *st = gpu->staging;
    VkBufferCopy region = {
        .srcOffset = upload ? st->offset : buf->offset + offset,
        .dstOffset = upload ? buf->offset + offset : st->offset,
        .size = size,
    };
    vkCmdCopyBuffer(cb, upload ? st->block->buffer : buf->block->buffer,
                    upload ? buf->block->buffer : st->block->buffer, 1, &region);
    VkMemoryBarrier after = {
        .sType = VK_STRUCTURE_TYPE_MEMORY_BARRIER,
        .srcAccessMask = VK_ACCESS_TRANSFER_WRITE_BIT,
        .dstAccessMask = VK_ACCESS_HOST_READ_BIT | VK_ACCESS_MEMORY_READ_BIT,
    };
    vkCmdPipelineBarrier(cb, VK_PIPELINE_STAGE_TRANSFER_BIT,
                         VK_PIPELINE_STAGE_HOST_BIT | VK_PIPELINE_STAGE_ALL_COMMANDS_BIT, 0, 1, &after, 0, NULL, 0,
                         NULL);
    r = vkEndCommandBuffer(cb);
    vkmm_status s = r == VK_SUCCESS ? VKMM_OK : vkmm_vk_fail(gpu, r, err, "vkEndCommandBuffer");
    if (!s) {
        VkQueue q = gpu->transfer_queue ? gpu->transfer_queue : gpu->queue;
        s = vkmm_gpu_submit_wait(gpu, q, &cb, 1, gpu->transfer_fence, err);
    }
    vkFreeCommandBuffers(gpu->device, gpu->transfer_pool, 1, &cb);
    return s;
}

static vkmm_status check_bounds(const vkmm_buffer *buf, uint64_t offset, uint64_t size, const char *what,
                                vkmm_error *err)
{
    if (offset > buf->size || size > buf->size - offset)
        return vkmm_fail(err, VKMM_ERR_INVALID_ARG, "%s of %llu bytes at %llu is outside buffer %s (%llu bytes)",
                         what, (unsigned long long)size, (unsigned long long)offset, buf->name,
                         (unsigned long long)buf->size);
    if (buf->gpu->lost)
        return vkmm_fail(err, VKMM_ERR_DEVICE_LOST, "the GPU was lost earlier; recreate the context");
    return VKMM_OK;
}

vkmm_status vkmm_buffer_upload(vkmm_gpu *gpu, vkmm_buffer *buf, uint64_t offset, const void *src, uint64_t size,
                               vkmm_error *err)
{
    vkmm_status s = check_bounds(buf, offset, size, "upload", err);
    if (s)
        return s;
    void *mapped = vkmm_buffer_map(buf);
    if (mapped && (!gpu->force_staging || buf->block->kind == VKMM_MEM_HOST)) {
        memcpy((char *)mapped + offset, src, size);
        return VKMM_OK;
    }
    if ((s = ensure_staging(gpu, err)))
        return s;
    for (uint64_t done = 0; done < size;) {
        uint64_t n = size - done < STAGING_BYTES ? size - done : STAGING_BYTES;
        memcpy(vkmm_buffer_map(gpu->staging), (const char *)src + done, n);
        if ((s = staged_copy(gpu, buf, offset + done, n, true, err)))
            return s;
        done += n;
    }
    return VKMM_OK;
}

vkmm_status vkmm_buffer_download(vkmm_gpu *gpu, vkmm_buffer *buf, uint64_t offset, void *dst, uint64_t size,
                                 vkmm_error *err)
{
    vkmm_status s = check_bounds(buf, offset, size, "download", err);
    if (s)
        return s;
    void *mapped = vkmm_buffer_map(buf);
    if (mapped && (!gpu->force_staging || buf->block->kind == VKMM_MEM_HOST)) {
        memcpy(dst, (const char *)mapped + offset, size);
        return VKMM_OK;
    }
    if ((s = ensure_staging(gpu, err)))
        return s;
    for (uint64_t done = 0; done < size;) {
        uint64_t n = size - done < STAGING_BYTES ? size - done : STAGING_BYTES;
        if ((s = staged_copy(gpu, buf, offset + done, n, false, err)))
            return s;
        memcpy((char *)dst + done, vkmm_buffer_map(gpu->staging), n);
        done += n;
    }
    return VKMM_OK;
}
