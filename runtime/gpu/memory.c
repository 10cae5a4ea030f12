/* runtime/gpu/memory.c — device memory: large blocks (one VkDeviceMemory + one VkBuffer each) carved into
 * buffers by a first-fit free list, a memory budget, and the ranges that shaders bind. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gpu_internal.h"
#include "log.h"

#define ALLOC_ALIGN 256u
#define DEFAULT_BLOCK (256ull << 20)

static uint64_t align_up(uint64_t x, uint64_t a)
{
    return (x + a - 1) / a * a;
}

static int32_t find_type(const VkPhysicalDeviceMemoryProperties *mp, VkMemoryPropertyFlags want,
                         VkMemoryPropertyFlags avoid)
{
    for (uint32_t i = 0; i < mp->memoryTypeCount; i++) {
        VkMemoryPropertyFlags f = mp->memoryTypes[i].propertyFlags;
        if ((f & want) == want && !(f & avoid))
            return (int32_t)i;
    }
    return -1;
}

vkmm_status vkmm_memory_init(vkmm_gpu *gpu, uint64_t budget, vkmm_error *err)
{
    vkmm_memory *m = &gpu->mem;
    memset(m, 0, sizeof *m);
    VkPhysicalDeviceMemoryProperties mp;
    vkGetPhysicalDeviceMemoryProperties(gpu->phys, &mp);
    const VkMemoryPropertyFlags DL = VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT;
    const VkMemoryPropertyFlags HV = VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT;
    const VkMemoryPropertyFlags HC = VK_MEMORY_PROPERTY_HOST_COHERENT_BIT;
    const VkMemoryPropertyFlags CACHED = VK_MEMORY_PROPERTY_HOST_CACHED_BIT;

    /* Device memory: plain device-local first, so weights avoid the small ReBAR window; the
     * host-visible kind only where it is all there is (UMA, lavapipe). */
    m->type_device = find_type(&mp, DL, HV);
    if (m->type_device < 0)
        m->type_device = find_type(&mp, DL, 0);
    if (m->type_device < 0)
        m->type_device = find_type(&mp, 0, 0);
    /* Host memory: cached reads are much faster for downloads; coherent avoids flushes. */
    m->type_host = find_type(&mp, HV | HC | CACHED, 0);
    if (m->type_host < 0)
        m->type_host = find_type(&mp, HV | HC, 0);
    if (m->type_device < 0 || m->type_host < 0)
        return vkmm_fail(err, VKMM_ERR_UNSUPPORTED, "device %s has no usable memory types", gpu->info.name);
    VkMemoryPropertyFlags df = mp.memoryTypes[m->type_device].propertyFlags;
    m->device_host_visible = (df & (HV | HC)) == (HV | HC);

    m->block_size = DEFAULT_BLOCK;
    if (m->block_size > gpu->info.max_allocation_size)
        m->block_size = gpu->info.max_allocation_size;
    m->budget = budget;
    return VKMM_OK;
}

static void block_free(vkmm_gpu *gpu, vkmm_block *b)
{
    if (b->mapped)
        vkUnmapMemory(gpu->device, b->memory);
    if (b->buffer)
        vkDestroyBuffer(gpu->device, b->buffer, NULL);
    if (b->memory)
        vkFreeMemory(gpu->device, b->memory, NULL);
    if (b->kind == VKMM_MEM_DEVICE)
        gpu->mem.device_bytes -= b->memory ? b->size : 0;
    else
        gpu->mem.host_bytes -= b->memory ? b->size : 0;
    gpu->mem.n_blocks--;
    free(b->free);
    free(b);
}

void vkmm_memory_destroy(vkmm_gpu *gpu)
{
    if (gpu->staging) {
        vkmm_buffer_destroy(gpu->staging);
        gpu->staging = NULL;
    }
    vkmm_block *b = gpu->mem.blocks;
    while (b) {
        vkmm_block *next = b->next;
        if (b->live)
            vkmm_warn("memory block of %llu bytes freed with %u live buffers", (unsigned long long)b->size, b->live);
        block_free(gpu, b);
        b = next;
    }
    gpu->mem.blocks = NULL;
}

static vkmm_status block_create(vkmm_gpu *gpu, vkmm_mem_kind kind, uint64_t size, bool dedicated,
                                vkmm_block **out, vkmm_error *err)
{
    vkmm_memory *m = &gpu->mem;
    if (size > gpu->info.max_allocation_size)
        return vkmm_fail(err, VKMM_ERR_OUT_OF_MEMORY,
                         "a single allocation of %.1f MiB exceeds the device's maxMemoryAllocationSize (%.1f MiB)",
                         size / 1048576.0, gpu->info.max_allocation_size / 1048576.0);
    if (kind == VKMM_MEM_DEVICE && m->budget && m->device_bytes + size > m->budget)
        return vkmm_fail(err, VKMM_ERR_OUT_OF_MEMORY,
                         "device memory budget exceeded: %.1f MiB in use + %.1f MiB requested > budget %.1f MiB "
                         "(VKMM_MEMORY_BUDGET)", m->device_bytes / 1048576.0, size / 1048576.0, m->budget / 1048576.0);
    vkmm_block *b = calloc(1, sizeof *b);
    if (!b)
        return vkmm_fail(err, VKMM_ERR_HOST_MEMORY, "out of host memory");
    b->size = size;
    b->kind = kind;
    b->dedicated = dedicated;
    b->type_index = (uint32_t)(kind == VKMM_MEM_DEVICE ? m->type_device : m->type_host);
    m->n_blocks++;

    uint32_t families[2] = {gpu->queue_family, gpu->transfer_family};
    bool two = gpu->transfer_family != gpu->queue_family;
    VkBufferCreateInfo bci = {
        .sType = VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO,
        .size = size,
        .usage = VK_BUFFER_USAGE_STORAGE_BUFFER_BIT | VK_BUFFER_USAGE_UNIFORM_TEXEL_BUFFER_BIT |
                 VK_BUFFER_USAGE_TRANSFER_SRC_BIT | VK_BUFFER_USAGE_TRANSFER_DST_BIT,
        /* concurrent sharing lets the transfer queue fill buffers without ownership transfers */
        .sharingMode = two ? VK_SHARING_MODE_CONCURRENT : VK_SHARING_MODE_EXCLUSIVE,
        .queueFamilyIndexCount = two ? 2 : 0,
        .pQueueFamilyIndices = two ? families : NULL,
    };
    VkResult r = vkCreateBuffer(gpu->device, &bci, NULL, &b->buffer);
    if (r != VK_SUCCESS) {
        block_free(gpu, b);
        return vkmm_vk_fail(gpu, r, err, "vkCreateBuffer");
    }
    VkMemoryRequirements req;
    vkGetBufferMemoryRequirements(gpu->device, b->buffer, &req);
    if (!(req.memoryTypeBits & (1u << b->type_index))) {
        block_free(gpu, b);
        return vkmm_fail(err, VKMM_ERR_UNSUPPORTED, "buffer cannot live in the chosen memory type");
    }
    VkMemoryAllocateInfo ai = {
        .sType = VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO,
        .allocationSize = req.size,
        .memoryTypeIndex = b->type_index,
    };
    r = vkAllocateMemory(gpu->device, &ai, NULL, &b->memory);
    if (r != VK_SUCCESS) {
        b->memory = VK_NULL_HANDLE;
        block_free(gpu, b);
        return vkmm_vk_fail(gpu, r, err, "vkAllocateMemory");
    }
    if (kind == VKMM_MEM_DEVICE)
        m->device_bytes += size;
    else
        m->host_bytes += size;
    r = vkBindBufferMemory(gpu->device, b->buffer, b->memory, 0);
    if (r != VK_SUCCESS) {
        block_free(gpu, b);
        return vkmm_vk_fail(gpu, r, err, "vkBindBufferMemory");
    }
    bool visible = kind == VKMM_MEM_HOST || m->device_host_visible;
    if (visible) {
        r = vkMapMemory(gpu->device, b->memory, 0, VK_WHOLE_SIZE, 0, &b->mapped);
        if (r != VK_SUCCESS) {
            b->mapped = NULL;
            block_free(gpu, b);
            return vkmm_vk_fail(gpu, r, err, "vkMapMemory");
        }
    }
    b->free = malloc(sizeof *b->free * 8);
    if (!b->free) {
        block_free(gpu, b);
        return vkmm_fail(err, VKMM_ERR_HOST_MEMORY, "out of host memory");
    }
    b->cap_free = 8;
    b->n_free = 1;
    b->free[0] = (vkmm_span){0, size};
    b->next = m->blocks;
    m->blocks = b;
    *out = b;
    return VKMM_OK;
}

/* First fit; returns false if the block has no hole big enough. */
static bool block_take(vkmm_block *b, uint64_t size, uint64_t *offset)
{
    for (uint32_t i = 0; i < b->n_free; i++) {
        vkmm_span *s = &b->free[i];
        if (s->size < size)
            continue;
        *offset = s->offset;
        s->offset += size;
        s->size -= size;
        if (s->size == 0) {
            memmove(s, s + 1, (b->n_free - i - 1) * sizeof *s);
            b->n_free--;
        }
        b->live++;
        return true;
    }
    return false;
}

static bool block_give(vkmm_block *b, uint64_t offset, uint64_t size)
{
    uint32_t i = 0;
    while (i < b->n_free && b->free[i].offset < offset)
        i++;
    bool merge_prev = i > 0 && b->free[i - 1].offset + b->free[i - 1].size == offset;
    bool merge_next = i < b->n_free && offset + size == b->free[i].offset;
    if (merge_prev && merge_next) {
        b->free[i - 1].size += size + b->free[i].size;
        memmove(&b->free[i], &b->free[i + 1], (b->n_free - i - 1) * sizeof *b->free);
        b->n_free--;
    } else if (merge_prev) {
        b->free[i - 1].size += size;
    } else if (merge_next) {
        b->free[i].offset = offset;
        b->free[i].size += size;
    } else {
        if (b->n_free == b->cap_free) {
            vkmm_span *grown = realloc(b->free, sizeof *grown * b->cap_free * 2);
            if (!grown)
                return false; /* the hole is lost until the block dies; never corrupt the list */
            b->free = grown;
            b->cap_free *= 2;
        }
        memmove(&b->free[i + 1], &b->free[i], (b->n_free - i) * sizeof *b->free);
        b->free[i] = (vkmm_span){offset, size};
        b->n_free++;
    }
    b->live--;
    return true;
}

vkmm_status vkmm_buffer_create(vkmm_gpu *gpu, uint64_t size, vkmm_mem_kind kind, const char *name,
                               vkmm_buffer **out, vkmm_error *err)
{
    *out = NULL;
    if (gpu->lost)
        return vkmm_fail(err, VKMM_ERR_DEVICE_LOST, "the GPU was lost earlier; recreate the context");
    if (size == 0)
        size = 4;
    uint64_t reserve = align_up(size, ALLOC_ALIGN);
    vkmm_memory *m = &gpu->mem;
    /* the budget limits what is handed out, whatever the blocks behind it hold */
    if (kind == VKMM_MEM_DEVICE && m->budget && m->device_used + reserve > m->budget)
        return vkmm_fail(err, VKMM_ERR_OUT_OF_MEMORY,
                         "allocating %s (%.1f MiB): device memory budget exceeded: %.1f MiB in use + %.1f MiB > "
                         "budget %.1f MiB (VKMM_MEMORY_BUDGET)", name ? name : "buffer", size / 1048576.0,
                         m->device_used / 1048576.0, reserve / 1048576.0, m->budget / 1048576.0);
    vkmm_buffer *buf = calloc(1, sizeof *buf);
    if (!buf)
        return vkmm_fail(err, VKMM_ERR_HOST_MEMORY, "out of host memory");
    buf->gpu = gpu;
    buf->size = size;
    buf->reserved = reserve;
    snprintf(buf->name, sizeof buf->name, "%s", name ? name : "");

    vkmm_block *b = NULL;
    uint64_t offset = 0;
    if (reserve > gpu->mem.block_size / 2) {
        vkmm_status s = block_create(gpu, kind, reserve, true, &b, err);
        if (s) {
            free(buf);
            return vkmm_error_prefix(err, s, "allocating %s (%.1f MiB)", name ? name : "buffer", size / 1048576.0);
        }
        block_take(b, reserve, &offset);
    } else {
        for (b = gpu->mem.blocks; b; b = b->next)
            if (b->kind == kind && !b->dedicated && block_take(b, reserve, &offset))
                break;
        if (!b) {
            uint64_t bs = gpu->mem.block_size;
            if (kind == VKMM_MEM_HOST && bs > (64ull << 20))
                bs = 64ull << 20; /* host blocks hold parameters and staging only */
            uint64_t left = gpu->mem.budget > gpu->mem.device_bytes ? gpu->mem.budget - gpu->mem.device_bytes : 0;
            if (kind == VKMM_MEM_DEVICE && gpu->mem.budget && bs > left)
                bs = left; /* a smaller block still fits under the budget */
            vkmm_status s = block_create(gpu, kind, bs < reserve ? reserve : bs, false, &b, err);
            if (s) {
                free(buf);
                return vkmm_error_prefix(err, s, "allocating %s (%.1f MiB)", name ? name : "buffer", size / 1048576.0);
            }
            block_take(b, reserve, &offset);
        }
    }
    buf->block = b;
    buf->offset = offset;
    if (kind == VKMM_MEM_DEVICE)
        m->device_used += reserve;
    if (b->dedicated)
        vkmm_gpu_name_object(gpu, VK_OBJECT_TYPE_BUFFER, (uint64_t)b->buffer, buf->name);
    *out = buf;
    return VKMM_OK;
}

void vkmm_buffer_destroy(vkmm_buffer *buf)
{
    if (!buf)
        return;
    vkmm_gpu *gpu = buf->gpu;
    for (uint32_t i = 0; i < buf->n_views; i++)
        vkDestroyBufferView(gpu->device, buf->views[i].view, NULL);
    free(buf->views);
    vkmm_block *b = buf->block;
    if (b->kind == VKMM_MEM_DEVICE)
        gpu->mem.device_used -= buf->reserved;
    block_give(b, buf->offset, buf->reserved);
    bool spare_exists = false;
    for (vkmm_block *o = gpu->mem.blocks; o && !b->dedicated; o = o->next)
        if (o != b && o->kind == b->kind && !o->dedicated && o->live == 0)
            spare_exists = true;
    /* Free empty blocks so memory goes back to the system, but keep one spare per kind: a
     * create/destroy cycle must not allocate and free a whole block each time. */
    if (b->live == 0 && (b->dedicated || spare_exists)) {
        vkmm_block **pp = &gpu->mem.blocks;
        while (*pp && *pp != b)
            pp = &(*pp)->next;
        if (*pp)
            *pp = b->next;
        block_free(gpu, b);
    }
    free(buf);
}

uint64_t vkmm_buffer_size(const vkmm_buffer *buf)
{
    return buf->size;
}

void *vkmm_buffer_map(vkmm_buffer *buf)
{
    return buf->block->mapped ? (char *)buf->block->mapped + buf->offset : NULL;
}

vkmm_range vkmm_range_whole(vkmm_buffer *buf)
{
    return (vkmm_range){buf, 0, buf->size};
}

vkmm_range vkmm_range_sub(vkmm_range r, uint64_t offset, uint64_t size)
{
    return (vkmm_range){r.buf, r.offset + offset, size};
}

uint64_t vkmm_range_device_offset(vkmm_range r)
{
    return r.buf->offset + r.offset;
}

void vkmm_range_align(const vkmm_gpu *gpu, vkmm_range r, vkmm_range *bound, uint64_t *skip_bytes)
{
    uint64_t a = gpu->info.min_storage_offset_alignment ? gpu->info.min_storage_offset_alignment : 1;
    /* block offsets are ALLOC_ALIGN-aligned, so aligning the buffer-relative offset is enough */
    uint64_t abs = r.buf->offset + r.offset;
    uint64_t skip = abs % a;
    *skip_bytes = skip;
    *bound = (vkmm_range){r.buf, r.offset - skip, r.size + skip};
}

bool vkmm_range_texel(const vkmm_gpu *gpu, vkmm_range r, vkmm_range *bound, uint64_t *skip_bytes)
{
    uint64_t abs = r.buf->offset + r.offset, skip = abs % gpu->texel_align;
    uint64_t size = align_up(r.size + skip, 16);
    /* a view may reach into the buffer's allocation padding (kernels ignore those bytes) */
    if (skip > r.offset || r.offset - skip + size > r.buf->reserved || size / 16 > gpu->max_texels)
        return false;
    *skip_bytes = skip;
    *bound = (vkmm_range){r.buf, r.offset - skip, size};
    return true;
}

vkmm_status vkmm_buffer_view(vkmm_buffer *buf, uint64_t offset, uint64_t size, vkmm_bind_kind kind, VkBufferView *out,
                             vkmm_error *err)
{
    for (uint32_t i = 0; i < buf->n_views; i++)
        if (buf->views[i].offset == offset && buf->views[i].size == size && buf->views[i].kind == kind) {
            *out = buf->views[i].view;
            return VKMM_OK;
        }
    if (buf->n_views == buf->cap_views) {
        uint32_t cap = buf->cap_views ? buf->cap_views * 2 : 4;
        vkmm_view *v = realloc(buf->views, cap * sizeof *v);
        if (!v)
            return vkmm_fail(err, VKMM_ERR_HOST_MEMORY, "out of host memory");
        buf->views = v;
        buf->cap_views = cap;
    }
    VkBufferViewCreateInfo ci = {
        .sType = VK_STRUCTURE_TYPE_BUFFER_VIEW_CREATE_INFO,
        .buffer = buf->block->buffer,
        .format = kind == VKMM_BIND_TEXEL_F32 ? VK_FORMAT_R32G32B32A32_SFLOAT : VK_FORMAT_R32G32B32A32_UINT,
        .offset = buf->offset + offset,
        .range = size,
    };
    VkResult r = vkCreateBufferView(buf->gpu->device, &ci, NULL, out);
    if (r != VK_SUCCESS)
        return vkmm_vk_fail(buf->gpu, r, err, "vkCreateBufferView");
    buf->views[buf->n_views++] = (vkmm_view){offset, size, kind, *out};
    return VKMM_OK;
}

int vkmm_range_split(const vkmm_gpu *gpu, vkmm_range r, uint64_t unit, vkmm_range *pieces, int max)
{
    uint64_t limit = gpu->info.max_storage_buffer_range;
    uint64_t a = gpu->info.min_storage_offset_alignment ? gpu->info.min_storage_offset_alignment : 1;
    if (unit == 0)
        unit = 1;
    /* A piece must be whole units, and the next piece must start at a bindable offset: take the
     * largest whole-unit size below the limit whose end stays aligned (units in steps of lcm). */
    uint64_t step = unit;
    while (step % a)
        step += unit;
    if (r.size <= limit) {
        if (max > 0)
            pieces[0] = r;
        return 1;
    }
    uint64_t piece = limit / step * step;
    if (piece == 0)
        return -1;
    int n = 0;
    for (uint64_t off = 0; off < r.size; off += piece) {
        uint64_t sz = r.size - off < piece ? r.size - off : piece;
        if (n < max)
            pieces[n] = vkmm_range_sub(r, off, sz);
        n++;
    }
    return n;
}
