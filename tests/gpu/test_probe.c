/* tests/gpu/test_probe.c — the device list and probe: the chosen device is usable and its limits are sane. */
#include <stdlib.h>
#include <string.h>

#include "harness.h"

int main(void)
{
    vkmm_device_info *devs;
    int n;
    vkmm_error err;
    CHECK_OK(vkmm_devices_list(&devs, &n, &err), &err, 1);
    CHECK(n >= 1, "no devices listed");
    for (int i = 0; i < n; i++) {
        const vkmm_device_info *d = &devs[i];
        CHECK(d->index == i, "index %d at position %d", d->index, i);
        CHECK(d->name[0], "device %d has no name", i);
        CHECK(d->max_storage_buffer_range >= (16u << 10), "device %d storage range %llu", i,
              (unsigned long long)d->max_storage_buffer_range);
        CHECK(d->shared_memory >= 16384, "device %d shared memory %u", i, d->shared_memory);
        CHECK(d->heap_count >= 1, "device %d has no memory heaps", i);
        CHECK(d->usable || d->unusable_reason[0], "device %d unusable without a reason", i);
    }
    free(devs);

    vkmm_gpu *gpu = test_gpu_open(NULL);
    const vkmm_device_info *d = vkmm_gpu_info(gpu);
    CHECK(d->usable, "chosen device not usable");
    CHECK(d->storage16 && d->storage8, "8/16-bit storage missing");
    CHECK(d->subgroup_size >= 1 && d->subgroup_size_min <= d->subgroup_size && d->subgroup_size <= d->subgroup_size_max,
          "subgroup sizes %u in [%u,%u]", d->subgroup_size, d->subgroup_size_min, d->subgroup_size_max);
    CHECK(d->max_allocation_size > 0, "max allocation 0");
    CHECK(d->min_storage_offset_alignment >= 1 && d->min_storage_offset_alignment <= 256, "alignment %llu",
          (unsigned long long)d->min_storage_offset_alignment);
    CHECK(d->queue_family_compute >= 0, "no compute family");
    printf("device: %s, driver %s, subgroup %u, shared %u KiB, storage range %llu MiB\n", d->name, d->driver_name,
           d->subgroup_size, d->shared_memory / 1024, (unsigned long long)(d->max_storage_buffer_range >> 20));

    /* device selection by name substring and by index picks the same device */
    char idx[16];
    snprintf(idx, sizeof idx, "%d", d->index);
    vkmm_gpu_options o = {.device = idx};
    vkmm_gpu *again = test_gpu_open(&o);
    CHECK(!strcmp(vkmm_gpu_info(again)->name, d->name), "index selection picked %s", vkmm_gpu_info(again)->name);
    test_gpu_close(again);

    vkmm_gpu_options bad = {.device = "no-such-device-name-xyz", .validation = 0, .cache_dir = ""};
    vkmm_gpu *none = NULL;
    vkmm_status s = vkmm_gpu_create(&bad, &none, &err);
    CHECK(s == VKMM_ERR_NO_DEVICE && !none, "bad device name gave status %d", s);
    CHECK(strstr(err.msg, "no-such-device-name-xyz") != NULL, "message does not name the request: %s", err.msg);

    test_gpu_close(gpu);
    return test_finish("gpu probe");
}
