/* runtime/gpu/pipeline.c — compute pipelines from embedded SPIR-V: binding count read from the module itself,
 * specialization constants, an optional required subgroup size, created once per (shader, constants). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "gpu_internal.h"
#include "log.h"
#include "shader_registry.h"

/* Binding count (highest Binding decoration + 1) and what each binding is: a variable whose type is a sampled
 * image of dimension Buffer is a uniform texel buffer (unsigned or float texels by its sampled type), anything
 * else a storage buffer. */
static uint32_t reflect_bindings(const uint32_t *w, uint32_t n, vkmm_bind_kind *kinds)
{
    enum {
        OP_TYPE_INT = 21, OP_TYPE_FLOAT = 22, OP_TYPE_IMAGE = 25, OP_TYPE_SAMPLED_IMAGE = 27, OP_TYPE_POINTER = 32,
        OP_VARIABLE = 59, OP_DECORATE = 71, DECORATION_BINDING = 33, DIM_BUFFER = 5
    };
    uint32_t bound = n > 3 ? w[3] : 0, count = 0;
    /* per id: its binding + 1, and for types what they point at / hold */
    uint32_t *bind = calloc(bound ? bound : 1, sizeof *bind), *ref = calloc(bound ? bound : 1, sizeof *ref);
    uint8_t *what = calloc(bound ? bound : 1, 1); /* 1 int, 2 float, 3 buffer image, 4 sampled image */
    if (!bind || !ref || !what)
        goto done;
    for (uint32_t i = 5; i < n;) {
        uint32_t len = w[i] >> 16, op = w[i] & 0xffff;
        if (len == 0 || i + len > n)
            break;
        const uint32_t *a = w + i + 1;
        if (op == OP_DECORATE && len >= 4 && a[1] == DECORATION_BINDING && a[0] < bound) {
            bind[a[0]] = a[2] + 1;
            if (a[2] + 1 > count)
                count = a[2] + 1;
        } else if ((op == OP_TYPE_INT || op == OP_TYPE_FLOAT) && len >= 3 && a[0] < bound) {
            what[a[0]] = op == OP_TYPE_INT ? 1 : 2;
        } else if (op == OP_TYPE_IMAGE && len >= 4 && a[0] < bound && a[2] == DIM_BUFFER) {
            what[a[0]] = 3;
            ref[a[0]] = a[1]; /* sampled type */
        } else if (op == OP_TYPE_SAMPLED_IMAGE && len >= 3 && a[0] < bound) {
            what[a[0]] = 4;
            ref[a[0]] = a[1];
        } else if (op == OP_TYPE_POINTER && len >= 4 && a[0] < bound) {
            ref[a[0]] = a[2];
        } else if (op == OP_VARIABLE && len >= 3 && a[1] < bound && bind[a[1]] && bind[a[1]] <= VKMM_MAX_BINDINGS) {
            uint32_t t = ref[a[0]] < bound ? ref[a[0]] : 0; /* the pointer's pointee */
            if (t && what[t] == 4)
                t = ref[t] < bound ? ref[t] : 0;
            if (t && what[t] == 3) {
                uint32_t st = ref[t] < bound ? ref[t] : 0;
                kinds[bind[a[1]] - 1] = what[st] == 2 ? VKMM_BIND_TEXEL_F32 : VKMM_BIND_TEXEL_U32;
            }
        }
        i += len;
    }
done:
    free(bind);
    free(ref);
    free(what);
    return count;
}

static void make_key(const vkmm_pipeline_desc *d, char *key, size_t n)
{
    int len = snprintf(key, n, "%s", d->shader);
    for (uint32_t i = 0; i < d->n_spec && len > 0 && (size_t)len < n; i++)
        len += snprintf(key + len, n - (size_t)len, ",%u", d->spec[i]);
    if (d->required_subgroup_size && len > 0 && (size_t)len < n)
        snprintf(key + len, n - (size_t)len, "/sg%u", d->required_subgroup_size);
}

static void pipeline_free(vkmm_gpu *gpu, vkmm_pipeline *p)
{
    if (p->pipeline)
        vkDestroyPipeline(gpu->device, p->pipeline, NULL);
    if (p->layout)
        vkDestroyPipelineLayout(gpu->device, p->layout, NULL);
    if (p->set_layout)
        vkDestroyDescriptorSetLayout(gpu->device, p->set_layout, NULL);
    free(p);
}

void vkmm_pipelines_destroy(vkmm_gpu *gpu)
{
    vkmm_pipeline *p = gpu->pipelines;
    while (p) {
        vkmm_pipeline *next = p->next;
        pipeline_free(gpu, p);
        p = next;
    }
    gpu->pipelines = NULL;
}

uint32_t vkmm_pipeline_bindings(const vkmm_pipeline *p)
{
    return p->n_bindings;
}

vkmm_bind_kind vkmm_pipeline_binding_kind(const vkmm_pipeline *p, uint32_t binding)
{
    return binding < p->n_bindings ? p->kinds[binding] : VKMM_BIND_STORAGE;
}

static vkmm_status create(vkmm_gpu *gpu, const vkmm_pipeline_desc *d, const vkmm_shader_blob *blob,
                          vkmm_pipeline *p, vkmm_error *err)
{
    p->n_bindings = reflect_bindings(blob->words, blob->n_words, p->kinds);
    if (p->n_bindings > VKMM_MAX_BINDINGS)
        return vkmm_fail(err, VKMM_ERR_INTERNAL, "shader %s uses %u bindings (max %d)", d->shader, p->n_bindings,
                         VKMM_MAX_BINDINGS);
    VkDescriptorSetLayoutBinding binds[VKMM_MAX_BINDINGS];
    for (uint32_t i = 0; i < p->n_bindings; i++)
        binds[i] = (VkDescriptorSetLayoutBinding){
            .binding = i,
            .descriptorType = p->kinds[i] == VKMM_BIND_STORAGE ? VK_DESCRIPTOR_TYPE_STORAGE_BUFFER
                                                               : VK_DESCRIPTOR_TYPE_UNIFORM_TEXEL_BUFFER,
            .descriptorCount = 1,
            .stageFlags = VK_SHADER_STAGE_COMPUTE_BIT,
        };
    VkDescriptorSetLayoutCreateInfo dl = {
        .sType = VK_STRUCTURE_TYPE_DESCRIPTOR_SET_LAYOUT_CREATE_INFO,
        .bindingCount = p->n_bindings,
        .pBindings = binds,
    };
    VkResult r = vkCreateDescriptorSetLayout(gpu->device, &dl, NULL, &p->set_layout);
    if (r != VK_SUCCESS)
        return vkmm_vk_fail(gpu, r, err, "vkCreateDescriptorSetLayout");
    VkPushConstantRange pc = {.stageFlags = VK_SHADER_STAGE_COMPUTE_BIT, .offset = 0, .size = VKMM_PUSH_MAX};
    VkPipelineLayoutCreateInfo pl = {
        .sType = VK_STRUCTURE_TYPE_PIPELINE_LAYOUT_CREATE_INFO,
        .setLayoutCount = 1,
        .pSetLayouts = &p->set_layout,
        .pushConstantRangeCount = 1,
        .pPushConstantRanges = &pc,
    };
    r = vkCreatePipelineLayout(gpu->device, &pl, NULL, &p->layout);
    if (r != VK_SUCCESS)
        return vkmm_vk_fail(gpu, r, err, "vkCreatePipelineLayout");

    VkShaderModuleCreateInfo mi = {
        .sType = VK_STRUCTURE_TYPE_SHADER_MODULE_CREATE_INFO,
        .codeSize = (size_t)blob->n_words * 4,
        .pCode = blob->words,
    };
    VkShaderModule module;
    r = vkCreateShaderModule(gpu->device, &mi, NULL, &module);
    if (r != VK_SUCCESS)
        return vkmm_vk_fail(gpu, r, err, "vkCreateShaderModule");

    VkSpecializationMapEntry entries[VKMM_MAX_SPEC];
    for (uint32_t i = 0; i < d->n_spec; i++)
        entries[i] = (VkSpecializationMapEntry){.constantID = i, .offset = i * 4, .size = 4};
    VkSpecializationInfo si = {
        .mapEntryCount = d->n_spec,
        .pMapEntries = entries,
        .dataSize = d->n_spec * 4,
        .pData = d->spec,
    };
    VkPipelineShaderStageRequiredSubgroupSizeCreateInfoEXT sg = {
        .sType = VK_STRUCTURE_TYPE_PIPELINE_SHADER_STAGE_REQUIRED_SUBGROUP_SIZE_CREATE_INFO_EXT,
        .requiredSubgroupSize = d->required_subgroup_size,
    };
    VkComputePipelineCreateInfo ci = {
        .sType = VK_STRUCTURE_TYPE_COMPUTE_PIPELINE_CREATE_INFO,
        .stage = {
            .sType = VK_STRUCTURE_TYPE_PIPELINE_SHADER_STAGE_CREATE_INFO,
            .pNext = d->required_subgroup_size ? &sg : NULL,
            .stage = VK_SHADER_STAGE_COMPUTE_BIT,
            .module = module,
            .pName = "main",
            .pSpecializationInfo = d->n_spec ? &si : NULL,
        },
        .layout = p->layout,
    };
    r = vkCreateComputePipelines(gpu->device, gpu->pipeline_cache, 1, &ci, NULL, &p->pipeline);
    vkDestroyShaderModule(gpu->device, module, NULL);
    if (r != VK_SUCCESS) {
        p->pipeline = VK_NULL_HANDLE;
        return vkmm_vk_fail(gpu, r, err, "vkCreateComputePipelines");
    }
    vkmm_gpu_name_object(gpu, VK_OBJECT_TYPE_PIPELINE, (uint64_t)p->pipeline, p->key);
    return VKMM_OK;
}

static vkmm_pipeline *find(vkmm_gpu *gpu, const char *key)
{
    for (vkmm_pipeline *p = gpu->pipelines; p; p = p->next)
        if (!strcmp(p->key, key))
            return p;
    return NULL;
}

static void unlink_pipeline(vkmm_gpu *gpu, vkmm_pipeline *p)
{
    for (vkmm_pipeline **q = &gpu->pipelines; *q; q = &(*q)->next)
        if (*q == p) {
            *q = p->next;
            return;
        }
}

static void mark_used(vkmm_gpu *gpu, vkmm_pipeline *p, bool use)
{
    if (use && !p->used) {
        p->used = true;
        p->use_seq = gpu->use_seq++;
    }
}

vkmm_status vkmm_pipeline_get_for(vkmm_gpu *gpu, const vkmm_pipeline_desc *d, bool use, vkmm_pipeline **out,
                                  vkmm_error *err)
{
    *out = NULL;
    char key[160];
    make_key(d, key, sizeof key);
    pthread_mutex_lock(&gpu->pipe_lock);
    vkmm_pipeline *p = find(gpu, key);
    while (p && p->state == VKMM_PIPE_COMPILING) { /* the prewarm thread is on it: wait rather than compile twice */
        pthread_cond_wait(&gpu->pipe_done, &gpu->pipe_lock);
        p = find(gpu, key);
    }
    if (p && p->state == VKMM_PIPE_READY) {
        mark_used(gpu, p, use);
        pthread_mutex_unlock(&gpu->pipe_lock);
        *out = p;
        return VKMM_OK;
    }
    if (p) { /* failed on the prewarm thread: try again here, for this caller's error message */
        unlink_pipeline(gpu, p);
        pipeline_free(gpu, p);
    }
    pthread_mutex_unlock(&gpu->pipe_lock);

    const vkmm_shader_blob *blob = vkmm_shader_find(d->shader);
    if (!blob)
        return vkmm_fail(err, VKMM_ERR_INTERNAL, "no embedded shader named %s", d->shader);
    if (d->n_spec > VKMM_MAX_SPEC)
        return vkmm_fail(err, VKMM_ERR_INTERNAL, "too many specialization constants for %s", d->shader);
    if (d->required_subgroup_size) {
        const vkmm_device_info *i = &gpu->info;
        if (!gpu->subgroup_size_control_enabled || d->required_subgroup_size < i->subgroup_size_min ||
            d->required_subgroup_size > i->subgroup_size_max)
            return vkmm_fail(err, VKMM_ERR_UNSUPPORTED, "%s: subgroup size %u not available on %s (range %u-%u)",
                             d->shader, d->required_subgroup_size, i->name, i->subgroup_size_min, i->subgroup_size_max);
    }
    p = calloc(1, sizeof *p);
    if (!p)
        return vkmm_fail(err, VKMM_ERR_HOST_MEMORY, "out of host memory");
    snprintf(p->key, sizeof p->key, "%s", key);
    snprintf(p->shader, sizeof p->shader, "%s", d->shader);
    memcpy(p->spec, d->spec, sizeof p->spec);
    p->n_spec = d->n_spec;
    p->subgroup_size = d->required_subgroup_size;
    p->state = VKMM_PIPE_COMPILING;
    /* published while compiling, so that another thread asking for it waits instead of compiling it too */
    pthread_mutex_lock(&gpu->pipe_lock);
    vkmm_pipeline *raced = find(gpu, key);
    if (raced) { /* the other thread started it between our look and now */
        pthread_mutex_unlock(&gpu->pipe_lock);
        free(p);
        return vkmm_pipeline_get_for(gpu, d, use, out, err);
    }
    p->next = gpu->pipelines;
    gpu->pipelines = p;
    pthread_mutex_unlock(&gpu->pipe_lock);

    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    vkmm_status s = create(gpu, d, blob, p, err);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    vkmm_debug("pipeline %s compiled in %.1f ms%s", key,
               (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6,
               use ? "" : " (prewarm)");

    pthread_mutex_lock(&gpu->pipe_lock);
    if (s) {
        if (use) {
            unlink_pipeline(gpu, p);
            pipeline_free(gpu, p);
        } else {
            p->state = VKMM_PIPE_FAILED; /* a caller will try again and get the message */
        }
    } else {
        p->state = VKMM_PIPE_READY;
        mark_used(gpu, p, use);
        gpu->stats.pipelines_created++;
        gpu->cache_dirty = true;
    }
    pthread_cond_broadcast(&gpu->pipe_done);
    pthread_mutex_unlock(&gpu->pipe_lock);
    if (s)
        return vkmm_error_prefix(err, s, "pipeline %s", key);
    *out = p;
    return VKMM_OK;
}

vkmm_status vkmm_pipeline_get(vkmm_gpu *gpu, const vkmm_pipeline_desc *d, vkmm_pipeline **out, vkmm_error *err)
{
    return vkmm_pipeline_get_for(gpu, d, true, out, err);
}
