/* runtime/gpu/pipeline_cache.c — the on-disk VkPipelineCache: one file per device UUID and driver version,
 * checked (our header, length, checksum, the driver's own header) before the driver sees it, and written
 * atomically (temp file + rename). A corrupt or foreign file is ignored with a warning. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hash.h"
#include "gpu_internal.h"
#include "log.h"

#define MAGIC "VKMMPC01"
#define HEADER_BYTES (8 + 4 * 3 + 16 + 8 + 8)
#define MAX_FILE_BYTES (1ull << 30)

static void put32(uint8_t *p, uint32_t v) { memcpy(p, &v, 4); }
static void put64(uint8_t *p, uint64_t v) { memcpy(p, &v, 8); }
static uint32_t get32(const uint8_t *p) { uint32_t v; memcpy(&v, p, 4); return v; }
static uint64_t get64(const uint8_t *p) { uint64_t v; memcpy(&v, p, 8); return v; }

static void write_header(const vkmm_device_info *i, uint64_t size, uint64_t sum, uint8_t *h)
{
    memcpy(h, MAGIC, 8);
    put32(h + 8, i->vendor_id);
    put32(h + 12, i->device_id);
    put32(h + 16, i->driver_version);
    memcpy(h + 20, i->pipeline_cache_uuid, 16);
    put64(h + 36, size);
    put64(h + 44, sum);
}

/* Returns NULL when the file is acceptable, else why not. */
static const char *check_file(const vkmm_device_info *i, const uint8_t *buf, size_t n)
{
    if (n < HEADER_BYTES)
        return "shorter than its header";
    if (memcmp(buf, MAGIC, 8))
        return "not a vkmm pipeline cache";
    if (get32(buf + 8) != i->vendor_id || get32(buf + 12) != i->device_id || get32(buf + 16) != i->driver_version ||
        memcmp(buf + 20, i->pipeline_cache_uuid, 16))
        return "made by another device or driver version";
    uint64_t size = get64(buf + 36);
    if (size != n - HEADER_BYTES)
        return "length does not match its header (truncated?)";
    const uint8_t *d = buf + HEADER_BYTES;
    if (vkmm_fnv1a64(d, size, VKMM_FNV1A64_INIT) != get64(buf + 44))
        return "checksum mismatch (corrupt)";
    /* The driver's VkPipelineCacheHeaderVersionOne, checked too: never hand a driver a foreign blob. */
    if (size < 32 || get32(d) < 32 || get32(d) > size || get32(d + 4) != VK_PIPELINE_CACHE_HEADER_VERSION_ONE ||
        get32(d + 8) != i->vendor_id || get32(d + 12) != i->device_id || memcmp(d + 16, i->pipeline_cache_uuid, 16))
        return "driver cache header does not match this device";
    return NULL;
}

static uint8_t *read_file(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    uint8_t *buf = NULL;
    if (fseek(f, 0, SEEK_END) == 0) {
        long len = ftell(f);
        if (len >= 0 && (uint64_t)len <= MAX_FILE_BYTES && fseek(f, 0, SEEK_SET) == 0) {
            buf = malloc(len ? (size_t)len : 1);
            if (buf && fread(buf, 1, (size_t)len, f) != (size_t)len) {
                free(buf);
                buf = NULL;
            }
            *n = (size_t)len;
        }
    }
    fclose(f);
    return buf;
}

static int mkdir_p(const char *dir)
{
    char tmp[1024];
    snprintf(tmp, sizeof tmp, "%s", dir);
    for (char *p = tmp + 1; *p; p++) {
        if (*p == '/') {
            *p = 0;
            if (mkdir(tmp, 0755) && errno != EEXIST)
                return -1;
            *p = '/';
        }
    }
    return mkdir(tmp, 0755) && errno != EEXIST ? -1 : 0;
}

void vkmm_pipeline_cache_open(vkmm_gpu *gpu, const char *dir)
{
    const vkmm_device_info *i = &gpu->info;
    gpu->cache_path[0] = 0;
    uint8_t *buf = NULL;
    size_t n = 0;
    const uint8_t *data = NULL;
    size_t data_n = 0;
    if (dir && *dir) {
        char uuid[33];
        for (int k = 0; k < 16; k++)
            snprintf(uuid + 2 * k, 3, "%02x", i->device_uuid[k]);
        snprintf(gpu->cache_path, sizeof gpu->cache_path, "%s/pipelines-%s-%08x.bin", dir, uuid, i->driver_version);
        buf = read_file(gpu->cache_path, &n);
        if (buf) {
            const char *why = check_file(i, buf, n);
            if (why) {
                vkmm_warn("ignoring pipeline cache %s: %s", gpu->cache_path, why);
                gpu->stats.disk_cache_rejected = true;
            } else {
                data = buf + HEADER_BYTES;
                data_n = n - HEADER_BYTES;
            }
        }
    }
    VkPipelineCacheCreateInfo ci = {
        .sType = VK_STRUCTURE_TYPE_PIPELINE_CACHE_CREATE_INFO,
        .initialDataSize = data_n,
        .pInitialData = data,
    };
    VkResult r = vkCreatePipelineCache(gpu->device, &ci, NULL, &gpu->pipeline_cache);
    if (r != VK_SUCCESS && data) {
        vkmm_warn("driver refused pipeline cache %s (%s); starting empty", gpu->cache_path, vkmm_vk_result_name(r));
        ci.initialDataSize = 0;
        ci.pInitialData = NULL;
        data = NULL;
        r = vkCreatePipelineCache(gpu->device, &ci, NULL, &gpu->pipeline_cache);
    }
    if (r != VK_SUCCESS)
        gpu->pipeline_cache = VK_NULL_HANDLE; /* pipelines still work, just uncached */
    if (data) {
        gpu->stats.disk_cache_loaded = true;
        gpu->stats.disk_cache_bytes = data_n;
    }
    free(buf);
}

const char *vkmm_gpu_pipeline_cache_path(const vkmm_gpu *gpu)
{
    return gpu->cache_path;
}

vkmm_status vkmm_gpu_save_pipeline_cache(vkmm_gpu *gpu, vkmm_error *err)
{
    if (!gpu->pipeline_cache || !gpu->cache_path[0])
        return VKMM_OK;
    size_t size = 0;
    VkResult r = vkGetPipelineCacheData(gpu->device, gpu->pipeline_cache, &size, NULL);
    if (r != VK_SUCCESS)
        return vkmm_vk_fail(gpu, r, err, "vkGetPipelineCacheData");
    uint8_t *buf = malloc(HEADER_BYTES + size);
    if (!buf)
        return vkmm_fail(err, VKMM_ERR_HOST_MEMORY, "out of host memory");
    r = vkGetPipelineCacheData(gpu->device, gpu->pipeline_cache, &size, buf + HEADER_BYTES);
    if (r != VK_SUCCESS) {
        free(buf);
        return vkmm_vk_fail(gpu, r, err, "vkGetPipelineCacheData");
    }
    write_header(&gpu->info, size, vkmm_fnv1a64(buf + HEADER_BYTES, size, VKMM_FNV1A64_INIT), buf);

    char dir[1024], tmp[1100];
    snprintf(dir, sizeof dir, "%s", gpu->cache_path);
    char *slash = strrchr(dir, '/');
    if (slash)
        *slash = 0;
    vkmm_status s = VKMM_OK;
    snprintf(tmp, sizeof tmp, "%s.tmp.%ld", gpu->cache_path, (long)getpid());
    FILE *f = NULL;
    if (slash && mkdir_p(dir))
        s = vkmm_fail(err, VKMM_ERR_IO, "cannot create cache folder %s: %s", dir, strerror(errno));
    else if (!(f = fopen(tmp, "wb")))
        s = vkmm_fail(err, VKMM_ERR_IO, "cannot write %s: %s", tmp, strerror(errno));
    else {
        bool ok = fwrite(buf, 1, HEADER_BYTES + size, f) == HEADER_BYTES + size;
        ok = (fflush(f) == 0) && ok;
        ok = (fsync(fileno(f)) == 0) && ok;
        ok = (fclose(f) == 0) && ok;
        if (!ok || rename(tmp, gpu->cache_path)) {
            s = vkmm_fail(err, VKMM_ERR_IO, "cannot write %s: %s", gpu->cache_path, strerror(errno));
            unlink(tmp);
        }
    }
    free(buf);
    if (!s)
        gpu->cache_dirty = false;
    return s;
}

void vkmm_pipeline_cache_close(vkmm_gpu *gpu)
{
    if (!gpu->pipeline_cache)
        return;
    if (gpu->cache_dirty && !gpu->lost) {
        vkmm_error err;
        if (vkmm_gpu_save_pipeline_cache(gpu, &err))
            vkmm_warn("pipeline cache not saved: %s", err.msg);
    }
    vkDestroyPipelineCache(gpu->device, gpu->pipeline_cache, NULL);
    gpu->pipeline_cache = VK_NULL_HANDLE;
}
