/* runtime/gpu/cmd.c — recording dispatches: descriptor sets, push constants, a debug label per dispatch,
 * timestamps for the per-op profile, barriers only where a dispatch depends on an earlier one, and
 * command buffers split so that no single submit runs too long. Record once, replay often. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gpu_internal.h"

#define SETS_PER_POOL 256u
#define DESCRIPTORS_PER_POOL (SETS_PER_POOL * 8u)

typedef struct chunk {
    VkCommandBuffer cb;
    VkQueryPool queries;
    uint32_t first_dispatch, n_dispatch;
} chunk;

typedef struct access {
    VkBuffer buffer;
    uint64_t lo, hi;
} access;

typedef struct access_set {
    access *v;
    uint32_t n, cap;
} access_set;

struct vkmm_cmd {
    vkmm_gpu *gpu;
    unsigned flags;
    bool timestamps;
    VkCommandPool pool;
    VkFence fence;
    VkDescriptorPool *dpools;
    uint32_t n_dpools, cap_dpools;

    chunk *chunks;
    uint32_t n_chunks, cap_chunks;
    bool open;          /* the last chunk's command buffer is recording */
    bool split_next;
    bool ended;

    access_set writes, reads; /* since the last barrier */

    char *labels;       /* every label, NUL-separated */
    size_t labels_len, labels_cap;
    uint32_t *label_at; /* per dispatch: offset into labels */
    uint32_t n_dispatch, cap_dispatch;
    uint32_t n_barriers;

    vkmm_profile_entry *profile;
    uint32_t n_profile;
};

static bool grow(void **p, uint32_t *cap, uint32_t need, size_t elem)
{
    if (need <= *cap)
        return true;
    uint32_t c = *cap ? *cap : 16;
    while (c < need)
        c *= 2;
    void *q = realloc(*p, c * elem);
    if (!q)
        return false;
    *p = q;
    *cap = c;
    return true;
}

vkmm_status vkmm_cmd_create(vkmm_gpu *gpu, unsigned flags, vkmm_cmd **out, vkmm_error *err)
{
    *out = NULL;
    vkmm_cmd *c = calloc(1, sizeof *c);
    if (!c)
        return vkmm_fail(err, VKMM_ERR_HOST_MEMORY, "out of host memory");
    c->gpu = gpu;
    c->flags = flags;
    c->timestamps = (flags & VKMM_CMD_PROFILE) && gpu->info.timestamps;
    VkCommandPoolCreateInfo pci = {
        .sType = VK_STRUCTURE_TYPE_COMMAND_POOL_CREATE_INFO,
        .queueFamilyIndex = gpu->queue_family,
    };
    VkResult r = vkCreateCommandPool(gpu->device, &pci, NULL, &c->pool);
    if (r == VK_SUCCESS) {
        /* signaled: destroying a list that was never submitted must not wait (submits reset it first) */
        VkFenceCreateInfo fci = {.sType = VK_STRUCTURE_TYPE_FENCE_CREATE_INFO, .flags = VK_FENCE_CREATE_SIGNALED_BIT};
        r = vkCreateFence(gpu->device, &fci, NULL, &c->fence);
    }
    if (r != VK_SUCCESS) {
        vkmm_cmd_destroy(c);
        return vkmm_vk_fail(gpu, r, err, "creating a command list");
    }
    *out = c;
    return VKMM_OK;
}

static void drop_recorded(vkmm_cmd *c)
{
    vkmm_gpu *gpu = c->gpu;
    for (uint32_t i = 0; i < c->n_chunks; i++)
        if (c->chunks[i].queries)
            vkDestroyQueryPool(gpu->device, c->chunks[i].queries, NULL);
    if (c->n_chunks) {
        VkCommandBuffer *cbs = malloc(c->n_chunks * sizeof *cbs);
        if (cbs) {
            for (uint32_t i = 0; i < c->n_chunks; i++)
                cbs[i] = c->chunks[i].cb;
            vkFreeCommandBuffers(gpu->device, c->pool, c->n_chunks, cbs);
            free(cbs);
        } /* else: the pool reset below still reclaims them */
    }
    if (c->pool)
        vkResetCommandPool(gpu->device, c->pool, 0);
    for (uint32_t i = 0; i < c->n_dpools; i++)
        vkResetDescriptorPool(gpu->device, c->dpools[i], 0);
    c->n_chunks = 0;
    c->open = c->ended = c->split_next = false;
    c->writes.n = c->reads.n = 0;
    c->labels_len = 0;
    c->n_dispatch = 0;
    c->n_barriers = 0;
    c->n_profile = 0;
}

void vkmm_cmd_destroy(vkmm_cmd *c)
{
    if (!c)
        return;
    vkmm_gpu *gpu = c->gpu;
    if (c->fence)
        vkWaitForFences(gpu->device, 1, &c->fence, VK_TRUE, UINT64_MAX);
    drop_recorded(c);
    for (uint32_t i = 0; i < c->n_dpools; i++)
        vkDestroyDescriptorPool(gpu->device, c->dpools[i], NULL);
    if (c->pool)
        vkDestroyCommandPool(gpu->device, c->pool, NULL);
    if (c->fence)
        vkDestroyFence(gpu->device, c->fence, NULL);
    free(c->dpools);
    free(c->chunks);
    free(c->writes.v);
    free(c->reads.v);
    free(c->labels);
    free(c->label_at);
    free(c->profile);
    free(c);
}

void vkmm_cmd_reset(vkmm_cmd *c)
{
    drop_recorded(c);
}

void vkmm_cmd_split(vkmm_cmd *c)
{
    c->split_next = true;
}

uint32_t vkmm_cmd_dispatch_count(const vkmm_cmd *c) { return c->n_dispatch; }
uint32_t vkmm_cmd_barrier_count(const vkmm_cmd *c) { return c->n_barriers; }
uint32_t vkmm_cmd_submit_chunks(const vkmm_cmd *c) { return c->n_chunks; }

/* What the end of a list must make visible: kernel writes to the host (mapped reads) and to copies. */
static void record_tail_barrier(VkCommandBuffer cb)
{
    VkMemoryBarrier mb = {
        .sType = VK_STRUCTURE_TYPE_MEMORY_BARRIER,
        .srcAccessMask = VK_ACCESS_SHADER_WRITE_BIT,
        .dstAccessMask = VK_ACCESS_HOST_READ_BIT | VK_ACCESS_TRANSFER_READ_BIT,
    };
    vkCmdPipelineBarrier(cb, VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT,
                         VK_PIPELINE_STAGE_HOST_BIT | VK_PIPELINE_STAGE_TRANSFER_BIT, 0, 1, &mb, 0, NULL, 0, NULL);
}

static vkmm_status close_chunk(vkmm_cmd *c, vkmm_error *err)
{
    if (!c->open)
        return VKMM_OK;
    c->open = false;
    VkResult r = vkEndCommandBuffer(c->chunks[c->n_chunks - 1].cb);
    return r == VK_SUCCESS ? VKMM_OK : vkmm_vk_fail(c->gpu, r, err, "vkEndCommandBuffer");
}

static vkmm_status open_chunk(vkmm_cmd *c, vkmm_error *err)
{
    vkmm_gpu *gpu = c->gpu;
    vkmm_status s = close_chunk(c, err);
    if (s)
        return s;
    if (!grow((void **)&c->chunks, &c->cap_chunks, c->n_chunks + 1, sizeof *c->chunks))
        return vkmm_fail(err, VKMM_ERR_HOST_MEMORY, "out of host memory");
    chunk *k = &c->chunks[c->n_chunks];
    memset(k, 0, sizeof *k);
    VkCommandBufferAllocateInfo ai = {
        .sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_ALLOCATE_INFO,
        .commandPool = c->pool,
        .level = VK_COMMAND_BUFFER_LEVEL_PRIMARY,
        .commandBufferCount = 1,
    };
    VkResult r = vkAllocateCommandBuffers(gpu->device, &ai, &k->cb);
    if (r != VK_SUCCESS)
        return vkmm_vk_fail(gpu, r, err, "vkAllocateCommandBuffers");
    if (c->timestamps) {
        VkQueryPoolCreateInfo qi = {
            .sType = VK_STRUCTURE_TYPE_QUERY_POOL_CREATE_INFO,
            .queryType = VK_QUERY_TYPE_TIMESTAMP,
            .queryCount = gpu->max_dispatches_per_submit + 1,
        };
        r = vkCreateQueryPool(gpu->device, &qi, NULL, &k->queries);
        if (r != VK_SUCCESS) {
            vkFreeCommandBuffers(gpu->device, c->pool, 1, &k->cb);
            return vkmm_vk_fail(gpu, r, err, "vkCreateQueryPool");
        }
    }
    k->first_dispatch = c->n_dispatch;
    c->n_chunks++;
    VkCommandBufferBeginInfo bi = {.sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO};
    r = vkBeginCommandBuffer(k->cb, &bi);
    if (r != VK_SUCCESS)
        return vkmm_vk_fail(gpu, r, err, "vkBeginCommandBuffer");
    c->open = true;
    if (k->queries) {
        vkCmdResetQueryPool(k->cb, k->queries, 0, gpu->max_dispatches_per_submit + 1);
        vkCmdWriteTimestamp(k->cb, VK_PIPELINE_STAGE_TOP_OF_PIPE_BIT, k->queries, 0);
    }
    if (c->n_chunks == 1) {
        /* Work from earlier submits (uploads, the previous replay of this very list) must be
         * visible before the first kernel runs. */
        VkMemoryBarrier mb = {
            .sType = VK_STRUCTURE_TYPE_MEMORY_BARRIER,
            .srcAccessMask = VK_ACCESS_MEMORY_WRITE_BIT,
            .dstAccessMask = VK_ACCESS_SHADER_READ_BIT | VK_ACCESS_SHADER_WRITE_BIT,
        };
        vkCmdPipelineBarrier(k->cb, VK_PIPELINE_STAGE_ALL_COMMANDS_BIT, VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT, 0, 1,
                             &mb, 0, NULL, 0, NULL);
    }
    return VKMM_OK;
}

static bool overlaps(const access_set *s, const access *a)
{
    for (uint32_t i = 0; i < s->n; i++)
        if (s->v[i].buffer == a->buffer && a->lo < s->v[i].hi && s->v[i].lo < a->hi)
            return true;
    return false;
}

/* Adds a range, widening an existing entry of the same buffer: fewer, larger barrier ranges. */
static bool add_access(access_set *s, const access *a)
{
    for (uint32_t i = 0; i < s->n; i++)
        if (s->v[i].buffer == a->buffer) {
            if (a->lo < s->v[i].lo) s->v[i].lo = a->lo;
            if (a->hi > s->v[i].hi) s->v[i].hi = a->hi;
            return true;
        }
    if (!grow((void **)&s->v, &s->cap, s->n + 1, sizeof *s->v))
        return false;
    s->v[s->n++] = *a;
    return true;
}

static void record_barrier(vkmm_cmd *c, VkCommandBuffer cb)
{
    VkBufferMemoryBarrier stack[16];
    uint32_t n = c->writes.n;
    VkBufferMemoryBarrier *bb = n <= 16 ? stack : malloc(n * sizeof *bb);
    if (!bb) {
        /* no memory for the list: a global barrier is just as correct */
        VkMemoryBarrier mb = {
            .sType = VK_STRUCTURE_TYPE_MEMORY_BARRIER,
            .srcAccessMask = VK_ACCESS_SHADER_WRITE_BIT,
            .dstAccessMask = VK_ACCESS_SHADER_READ_BIT | VK_ACCESS_SHADER_WRITE_BIT,
        };
        vkCmdPipelineBarrier(cb, VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT, VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT, 0, 1, &mb,
                             0, NULL, 0, NULL);
        n = 0;
    } else {
        for (uint32_t i = 0; i < n; i++)
            bb[i] = (VkBufferMemoryBarrier){
                .sType = VK_STRUCTURE_TYPE_BUFFER_MEMORY_BARRIER,
                .srcAccessMask = VK_ACCESS_SHADER_WRITE_BIT,
                .dstAccessMask = VK_ACCESS_SHADER_READ_BIT | VK_ACCESS_SHADER_WRITE_BIT,
                .srcQueueFamilyIndex = VK_QUEUE_FAMILY_IGNORED,
                .dstQueueFamilyIndex = VK_QUEUE_FAMILY_IGNORED,
                .buffer = c->writes.v[i].buffer,
                .offset = c->writes.v[i].lo,
                .size = c->writes.v[i].hi - c->writes.v[i].lo,
            };
        /* With no writes pending this is an execution-only barrier (write-after-read). */
        vkCmdPipelineBarrier(cb, VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT, VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT, 0, 0,
                             NULL, n, bb, 0, NULL);
        if (bb != stack)
            free(bb);
    }
    c->writes.n = c->reads.n = 0;
    c->n_barriers++;
}

static vkmm_status alloc_set(vkmm_cmd *c, VkDescriptorSetLayout layout, VkDescriptorSet *set, vkmm_error *err)
{
    vkmm_gpu *gpu = c->gpu;
    if (c->n_dpools) {
        VkDescriptorSetAllocateInfo ai = {
            .sType = VK_STRUCTURE_TYPE_DESCRIPTOR_SET_ALLOCATE_INFO,
            .descriptorPool = c->dpools[c->n_dpools - 1],
            .descriptorSetCount = 1,
            .pSetLayouts = &layout,
        };
        /* pools are reset, not freed, on re-record: try each one before making another */
        for (uint32_t i = 0; i < c->n_dpools; i++) {
            ai.descriptorPool = c->dpools[i];
            VkResult r = vkAllocateDescriptorSets(gpu->device, &ai, set);
            if (r == VK_SUCCESS)
                return VKMM_OK;
            if (r != VK_ERROR_OUT_OF_POOL_MEMORY && r != VK_ERROR_FRAGMENTED_POOL)
                return vkmm_vk_fail(gpu, r, err, "vkAllocateDescriptorSets");
        }
    }
    if (!grow((void **)&c->dpools, &c->cap_dpools, c->n_dpools + 1, sizeof *c->dpools))
        return vkmm_fail(err, VKMM_ERR_HOST_MEMORY, "out of host memory");
    VkDescriptorPoolSize ps[2] = {
        {.type = VK_DESCRIPTOR_TYPE_STORAGE_BUFFER, .descriptorCount = DESCRIPTORS_PER_POOL},
        {.type = VK_DESCRIPTOR_TYPE_UNIFORM_TEXEL_BUFFER, .descriptorCount = DESCRIPTORS_PER_POOL},
    };
    VkDescriptorPoolCreateInfo pi = {
        .sType = VK_STRUCTURE_TYPE_DESCRIPTOR_POOL_CREATE_INFO,
        .maxSets = SETS_PER_POOL,
        .poolSizeCount = 2,
        .pPoolSizes = ps,
    };
    VkResult r = vkCreateDescriptorPool(gpu->device, &pi, NULL, &c->dpools[c->n_dpools]);
    if (r != VK_SUCCESS)
        return vkmm_vk_fail(gpu, r, err, "vkCreateDescriptorPool");
    c->n_dpools++;
    VkDescriptorSetAllocateInfo ai = {
        .sType = VK_STRUCTURE_TYPE_DESCRIPTOR_SET_ALLOCATE_INFO,
        .descriptorPool = c->dpools[c->n_dpools - 1],
        .descriptorSetCount = 1,
        .pSetLayouts = &layout,
    };
    r = vkAllocateDescriptorSets(gpu->device, &ai, set);
    return r == VK_SUCCESS ? VKMM_OK : vkmm_vk_fail(gpu, r, err, "vkAllocateDescriptorSets");
}

static vkmm_status check_dispatch(const vkmm_cmd *c, const vkmm_dispatch *d, vkmm_error *err)
{
    const vkmm_device_info *info = &c->gpu->info;
    const char *what = d->label ? d->label : "dispatch";
    if (!d->pipeline)
        return vkmm_fail(err, VKMM_ERR_INTERNAL, "%s: no pipeline", what);
    if (d->n_bindings != d->pipeline->n_bindings)
        return vkmm_fail(err, VKMM_ERR_INTERNAL, "%s: %u bindings given, shader %s has %u", what, d->n_bindings,
                         d->pipeline->key, d->pipeline->n_bindings);
    if (d->push_size > VKMM_PUSH_MAX)
        return vkmm_fail(err, VKMM_ERR_INTERNAL, "%s: %u bytes of push constants (max %d)", what, d->push_size,
                         VKMM_PUSH_MAX);
    for (int i = 0; i < 3; i++)
        if (d->groups[i] == 0 || d->groups[i] > info->max_workgroup_count[i])
            return vkmm_fail(err, VKMM_ERR_INTERNAL, "%s: workgroup count %u in dimension %d (device max %u)", what,
                             d->groups[i], i, info->max_workgroup_count[i]);
    for (uint32_t i = 0; i < d->n_bindings; i++) {
        const vkmm_range *r = &d->bindings[i].range;
        if (!r->buf)
            return vkmm_fail(err, VKMM_ERR_INTERNAL, "%s: binding %u has no buffer", what, i);
        uint64_t end = vkmm_pipeline_binding_kind(d->pipeline, i) == VKMM_BIND_STORAGE ? r->buf->size : r->buf->reserved;
        if (r->size == 0 || r->offset + r->size > end)
            return vkmm_fail(err, VKMM_ERR_INTERNAL, "%s: binding %u range %llu+%llu outside %s (%llu bytes)", what, i,
                             (unsigned long long)r->offset, (unsigned long long)r->size, r->buf->name,
                             (unsigned long long)r->buf->size);
        if (vkmm_pipeline_binding_kind(d->pipeline, i) != VKMM_BIND_STORAGE) {
            if (r->size % 16 || r->size / 16 > c->gpu->max_texels || (r->buf->offset + r->offset) % c->gpu->texel_align)
                return vkmm_fail(err, VKMM_ERR_INTERNAL, "%s: binding %u (texels) range %llu+%llu cannot be viewed "
                                 "(see vkmm_range_texel)", what, i, (unsigned long long)r->offset,
                                 (unsigned long long)r->size);
            continue;
        }
        if (r->size > info->max_storage_buffer_range)
            return vkmm_fail(err, VKMM_ERR_INTERNAL,
                             "%s: binding %u is %llu bytes, over maxStorageBufferRange %llu (split it)", what, i,
                             (unsigned long long)r->size, (unsigned long long)info->max_storage_buffer_range);
        if ((r->buf->offset + r->offset) % info->min_storage_offset_alignment)
            return vkmm_fail(err, VKMM_ERR_INTERNAL, "%s: binding %u offset %llu not aligned to %llu", what, i,
                             (unsigned long long)(r->buf->offset + r->offset),
                             (unsigned long long)info->min_storage_offset_alignment);
    }
    return VKMM_OK;
}

static vkmm_status remember_label(vkmm_cmd *c, const char *label, vkmm_error *err)
{
    if (!label)
        label = "dispatch";
    size_t n = strlen(label) + 1;
    if (c->labels_len + n > c->labels_cap) {
        size_t cap = c->labels_cap ? c->labels_cap : 4096;
        while (cap < c->labels_len + n)
            cap *= 2;
        char *p = realloc(c->labels, cap);
        if (!p)
            return vkmm_fail(err, VKMM_ERR_HOST_MEMORY, "out of host memory");
        c->labels = p;
        c->labels_cap = cap;
    }
    if (!grow((void **)&c->label_at, &c->cap_dispatch, c->n_dispatch + 1, sizeof *c->label_at))
        return vkmm_fail(err, VKMM_ERR_HOST_MEMORY, "out of host memory");
    memcpy(c->labels + c->labels_len, label, n);
    c->label_at[c->n_dispatch] = (uint32_t)c->labels_len;
    c->labels_len += n;
    return VKMM_OK;
}

vkmm_status vkmm_cmd_dispatch(vkmm_cmd *c, const vkmm_dispatch *d, vkmm_error *err)
{
    vkmm_gpu *gpu = c->gpu;
    if (c->ended)
        return vkmm_fail(err, VKMM_ERR_INTERNAL, "dispatch recorded after vkmm_cmd_end (reset first)");
    if (gpu->lost)
        return vkmm_fail(err, VKMM_ERR_DEVICE_LOST, "the GPU was lost earlier; recreate the context");
    vkmm_status s = check_dispatch(c, d, err);
    if (s)
        return s;
    if (!c->open || c->split_next || c->chunks[c->n_chunks - 1].n_dispatch >= gpu->max_dispatches_per_submit) {
        if ((s = open_chunk(c, err)))
            return s;
        c->split_next = false;
    }
    chunk *k = &c->chunks[c->n_chunks - 1];
    VkCommandBuffer cb = k->cb;

    /* Hazards against everything since the last barrier: read-after-write, write-after-write and
     * write-after-read. Independent dispatches run back to back with no barrier between them. */
    access acc[VKMM_MAX_BINDINGS];
    bool hazard = false;
    for (uint32_t i = 0; i < d->n_bindings; i++) {
        const vkmm_range *r = &d->bindings[i].range;
        uint64_t skip = d->bindings[i].skip < r->size ? d->bindings[i].skip : 0;
        acc[i] = (access){r->buf->block->buffer, r->buf->offset + r->offset + skip,
                          r->buf->offset + r->offset + r->size};
        if (overlaps(&c->writes, &acc[i]) || (d->bindings[i].write && overlaps(&c->reads, &acc[i])))
            hazard = true;
    }
    if (hazard)
        record_barrier(c, cb);
    for (uint32_t i = 0; i < d->n_bindings; i++)
        if (!add_access(d->bindings[i].write ? &c->writes : &c->reads, &acc[i]))
            return vkmm_fail(err, VKMM_ERR_HOST_MEMORY, "out of host memory");

    VkDescriptorSet set;
    if ((s = alloc_set(c, d->pipeline->set_layout, &set, err)))
        return s;
    VkDescriptorBufferInfo infos[VKMM_MAX_BINDINGS];
    VkBufferView views[VKMM_MAX_BINDINGS];
    VkWriteDescriptorSet writes[VKMM_MAX_BINDINGS];
    for (uint32_t i = 0; i < d->n_bindings; i++) {
        const vkmm_range *r = &d->bindings[i].range;
        vkmm_bind_kind kind = vkmm_pipeline_binding_kind(d->pipeline, i);
        writes[i] = (VkWriteDescriptorSet){
            .sType = VK_STRUCTURE_TYPE_WRITE_DESCRIPTOR_SET,
            .dstSet = set,
            .dstBinding = i,
            .descriptorCount = 1,
            .descriptorType = VK_DESCRIPTOR_TYPE_STORAGE_BUFFER,
            .pBufferInfo = &infos[i],
        };
        if (kind != VKMM_BIND_STORAGE) {
            if ((s = vkmm_buffer_view(r->buf, r->offset, r->size, kind, &views[i], err)))
                return s;
            writes[i].descriptorType = VK_DESCRIPTOR_TYPE_UNIFORM_TEXEL_BUFFER;
            writes[i].pBufferInfo = NULL;
            writes[i].pTexelBufferView = &views[i];
        } else {
            infos[i] = (VkDescriptorBufferInfo){r->buf->block->buffer, r->buf->offset + r->offset, r->size};
        }
    }
    vkUpdateDescriptorSets(gpu->device, d->n_bindings, writes, 0, NULL);
    if ((s = remember_label(c, d->label, err)))
        return s;

    if (gpu->begin_label) {
        VkDebugUtilsLabelEXT l = {
            .sType = VK_STRUCTURE_TYPE_DEBUG_UTILS_LABEL_EXT,
            .pLabelName = c->labels + c->label_at[c->n_dispatch],
            .color = {0.2f, 0.6f, 1.0f, 1.0f},
        };
        gpu->begin_label(cb, &l);
    }
    vkCmdBindPipeline(cb, VK_PIPELINE_BIND_POINT_COMPUTE, d->pipeline->pipeline);
    vkCmdBindDescriptorSets(cb, VK_PIPELINE_BIND_POINT_COMPUTE, d->pipeline->layout, 0, 1, &set, 0, NULL);
    if (d->push_size) {
        uint8_t push[VKMM_PUSH_MAX] = {0};
        memcpy(push, d->push, d->push_size);
        vkCmdPushConstants(cb, d->pipeline->layout, VK_SHADER_STAGE_COMPUTE_BIT, 0, (d->push_size + 3) & ~3u, push);
    }
    vkCmdDispatch(cb, d->groups[0], d->groups[1], d->groups[2]);
    if (k->queries)
        vkCmdWriteTimestamp(cb, VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT, k->queries, k->n_dispatch + 1);
    if (gpu->end_label)
        gpu->end_label(cb);
    k->n_dispatch++;
    c->n_dispatch++;
    return VKMM_OK;
}

vkmm_status vkmm_cmd_end(vkmm_cmd *c, vkmm_error *err)
{
    if (c->ended)
        return VKMM_OK;
    if (c->open)
        record_tail_barrier(c->chunks[c->n_chunks - 1].cb);
    vkmm_status s = close_chunk(c, err);
    if (!s)
        c->ended = true;
    return s;
}

static void read_profile(vkmm_cmd *c)
{
    vkmm_gpu *gpu = c->gpu;
    c->n_profile = 0;
    if (!c->timestamps)
        return;
    free(c->profile);
    c->profile = calloc(c->n_dispatch ? c->n_dispatch : 1, sizeof *c->profile);
    uint64_t *ts = malloc((gpu->max_dispatches_per_submit + 1) * sizeof *ts);
    if (!c->profile || !ts) {
        free(ts);
        return;
    }
    for (uint32_t k = 0; k < c->n_chunks; k++) {
        chunk *ch = &c->chunks[k];
        if (!ch->queries || !ch->n_dispatch)
            continue;
        VkResult r = vkGetQueryPoolResults(gpu->device, ch->queries, 0, ch->n_dispatch + 1,
                                           (ch->n_dispatch + 1) * sizeof *ts, ts, sizeof *ts,
                                           VK_QUERY_RESULT_64_BIT | VK_QUERY_RESULT_WAIT_BIT);
        if (r != VK_SUCCESS)
            continue;
        for (uint32_t i = 0; i < ch->n_dispatch; i++) {
            uint32_t di = ch->first_dispatch + i;
            uint64_t dt = ts[i + 1] >= ts[i] ? ts[i + 1] - ts[i] : 0;
            c->profile[c->n_profile++] = (vkmm_profile_entry){c->labels + c->label_at[di],
                                                              (double)dt * gpu->info.timestamp_period_ns};
        }
    }
    free(ts);
}

vkmm_status vkmm_cmd_submit(vkmm_cmd *c, vkmm_error *err)
{
    vkmm_status s = vkmm_cmd_end(c, err);
    if (s)
        return s;
    if (c->n_chunks == 0)
        return VKMM_OK;
    VkCommandBuffer stack[16], *cbs = c->n_chunks <= 16 ? stack : malloc(c->n_chunks * sizeof *cbs);
    if (!cbs)
        return vkmm_fail(err, VKMM_ERR_HOST_MEMORY, "out of host memory");
    for (uint32_t i = 0; i < c->n_chunks; i++)
        cbs[i] = c->chunks[i].cb;
    s = vkmm_gpu_submit_wait(c->gpu, c->gpu->queue, cbs, c->n_chunks, c->fence, err);
    if (cbs != stack)
        free(cbs);
    if (!s)
        read_profile(c);
    return s;
}

uint32_t vkmm_cmd_profile(const vkmm_cmd *c, const vkmm_profile_entry **entries)
{
    *entries = c->profile;
    return c->n_profile;
}
