/* tools/cmd_devices.c — `vkmm devices [--json]`: every Vulkan device and what vkmm probed of it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "vkmm.h"

static const char *kind_name(vkmm_device_kind k)
{
    switch (k) {
    case VKMM_DEVICE_DISCRETE: return "discrete";
    case VKMM_DEVICE_INTEGRATED: return "integrated";
    case VKMM_DEVICE_VIRTUAL: return "virtual";
    case VKMM_DEVICE_CPU: return "cpu";
    default: return "other";
    }
}

static void subgroup_ops_str(uint32_t ops, char *out, size_t n)
{
    static const char *names[] = {"basic", "vote", "arithmetic", "ballot", "shuffle", "shuffle_relative",
                                  "clustered", "quad"};
    out[0] = 0;
    size_t len = 0;
    for (int i = 0; i < 8; i++)
        if (ops & (1u << i))
            len += (size_t)snprintf(out + len, len < n ? n - len : 0, "%s%s", len ? "," : "", names[i]);
}

static void uuid_str(const uint8_t *u, char *out)
{
    for (int i = 0; i < 16; i++)
        sprintf(out + 2 * i, "%02x", u[i]);
}

static double mib(uint64_t b)
{
    return b / 1048576.0;
}

static void print_table(const vkmm_device_info *d, int n)
{
    for (int i = 0; i < n; i++) {
        const vkmm_device_info *x = vkmm_device_at(d, i);
        char sg[160], uuid[33];
        subgroup_ops_str(x->subgroup_ops, sg, sizeof sg);
        uuid_str(x->device_uuid, uuid);
        printf("device %d: %s\n", x->index, x->name);
        printf("  %-26s %s (0x%04x), device 0x%04x, %s\n", "vendor", x->vendor, x->vendor_id, x->device_id,
               kind_name(x->kind));
        printf("  %-26s %s %s (%s)\n", "driver", x->driver_name, x->driver_version_str, x->driver_info);
        printf("  %-26s %u.%u.%u\n", "Vulkan", x->api_version >> 22, (x->api_version >> 12) & 0x3ff,
               x->api_version & 0xfff);
        printf("  %-26s %s\n", "device UUID", uuid);
        printf("  %-26s %u (range %u-%u%s%s)\n", "subgroup size", x->subgroup_size, x->subgroup_size_min,
               x->subgroup_size_max, x->subgroup_size_control ? ", size control" : "",
               x->subgroup_full ? ", full subgroups" : "");
        printf("  %-26s %s\n", "subgroup ops", sg);
        printf("  %-26s fp16 %s, int8 %s, int16 %s, int64 %s\n", "arithmetic", x->fp16 ? "yes" : "no",
               x->int8 ? "yes" : "no", x->int16 ? "yes" : "no", x->int64 ? "yes" : "no");
        printf("  %-26s 8-bit %s, 16-bit %s\n", "storage access", x->storage8 ? "yes" : "no",
               x->storage16 ? "yes" : "no");
        printf("  %-26s NV %s, KHR %s; integer dot product %s\n", "cooperative matrix", x->coopmat_nv ? "yes" : "no",
               x->coopmat_khr ? "yes" : "no", x->int_dot ? "yes" : "no");
        printf("  %-26s %u KiB\n", "shared memory", x->shared_memory / 1024);
        printf("  %-26s %u invocations, size %u x %u x %u\n", "workgroup max", x->max_workgroup_invocations,
               x->max_workgroup_size[0], x->max_workgroup_size[1], x->max_workgroup_size[2]);
        printf("  %-26s %.0f MiB\n", "maxStorageBufferRange", mib(x->max_storage_buffer_range));
        printf("  %-26s %.0f MiB\n", "maxMemoryAllocationSize", mib(x->max_allocation_size));
        printf("  %-26s %u bytes\n", "max push constants", x->max_push_constants);
        for (uint32_t h = 0; h < x->heap_count; h++)
            printf("  %-26s %.0f MiB%s\n", h == 0 ? "memory heaps" : "", mib(x->heaps[h].size),
                   x->heaps[h].device_local ? " (device-local)" : "");
        printf("  %-26s %s, %.3g ns per tick\n", "timestamps", x->timestamps ? "yes" : "no", x->timestamp_period_ns);
        printf("  %-26s compute family %d, dedicated transfer family %d\n", "queues", x->queue_family_compute,
               x->queue_family_transfer);
        printf("  %-26s %s%s\n", "usable by vkmm", x->usable ? "yes" : "no: ", x->usable ? "" : x->unusable_reason);
        if (i + 1 < n)
            printf("\n");
    }
}

static void print_json(const vkmm_device_info *d, int n)
{
    printf("[");
    for (int i = 0; i < n; i++) {
        const vkmm_device_info *x = vkmm_device_at(d, i);
        char uuid[33], sg[160];
        uuid_str(x->device_uuid, uuid);
        subgroup_ops_str(x->subgroup_ops, sg, sizeof sg);
        printf("%s\n  {\"index\": %d, \"name\": ", i ? "," : "", x->index);
        vkmm_json_write_string(stdout, x->name);
        printf(", \"vendor\": ");
        vkmm_json_write_string(stdout, x->vendor);
        printf(", \"vendor_id\": %u, \"device_id\": %u, \"kind\": \"%s\", \"driver_name\": ", x->vendor_id,
               x->device_id, kind_name(x->kind));
        vkmm_json_write_string(stdout, x->driver_name);
        printf(", \"driver_info\": ");
        vkmm_json_write_string(stdout, x->driver_info);
        printf(", \"driver_version\": \"%s\", \"api_version\": \"%u.%u.%u\", \"device_uuid\": \"%s\",\n",
               x->driver_version_str, x->api_version >> 22, (x->api_version >> 12) & 0x3ff, x->api_version & 0xfff,
               uuid);
        printf("   \"subgroup_size\": %u, \"subgroup_size_min\": %u, \"subgroup_size_max\": %u, "
               "\"subgroup_size_control\": %s, \"subgroup_ops\": \"%s\",\n",
               x->subgroup_size, x->subgroup_size_min, x->subgroup_size_max, x->subgroup_size_control ? "true" : "false",
               sg);
        printf("   \"fp16\": %s, \"int8\": %s, \"int16\": %s, \"int64\": %s, \"storage8\": %s, \"storage16\": %s, "
               "\"integer_dot_product\": %s, \"coopmat_nv\": %s, \"coopmat_khr\": %s,\n",
               x->fp16 ? "true" : "false", x->int8 ? "true" : "false", x->int16 ? "true" : "false",
               x->int64 ? "true" : "false", x->storage8 ? "true" : "false", x->storage16 ? "true" : "false",
               x->int_dot ? "true" : "false", x->coopmat_nv ? "true" : "false", x->coopmat_khr ? "true" : "false");
        printf("   \"shared_memory\": %u, \"max_workgroup_invocations\": %u, \"max_storage_buffer_range\": %llu, "
               "\"max_allocation_size\": %llu, \"min_storage_offset_alignment\": %llu, \"max_push_constants\": %u,\n",
               x->shared_memory, x->max_workgroup_invocations, (unsigned long long)x->max_storage_buffer_range,
               (unsigned long long)x->max_allocation_size, (unsigned long long)x->min_storage_offset_alignment,
               x->max_push_constants);
        printf("   \"heaps\": [");
        for (uint32_t h = 0; h < x->heap_count; h++)
            printf("%s{\"size\": %llu, \"device_local\": %s}", h ? ", " : "", (unsigned long long)x->heaps[h].size,
                   x->heaps[h].device_local ? "true" : "false");
        printf("],\n   \"timestamps\": %s, \"timestamp_period_ns\": %g, \"queue_family_compute\": %d, "
               "\"queue_family_transfer\": %d, \"usable\": %s, \"unusable_reason\": ",
               x->timestamps ? "true" : "false", x->timestamp_period_ns, x->queue_family_compute,
               x->queue_family_transfer, x->usable ? "true" : "false");
        vkmm_json_write_string(stdout, x->unusable_reason);
        printf("}");
    }
    printf("\n]\n");
}

int vkmm_cmd_devices(int argc, char **argv)
{
    bool json = false;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--json"))
            json = true;
        else if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            printf("usage: vkmm devices [--json]\n");
            return 0;
        } else {
            fprintf(stderr, "vkmm devices: unknown option '%s'\n", argv[i]);
            return 2;
        }
    }
    vkmm_device_info *devs;
    int n;
    vkmm_error err;
    if (vkmm_devices_list(&devs, &n, &err)) {
        fprintf(stderr, "vkmm devices: %s\n", err.msg);
        return 1;
    }
    if (json)
        print_json(devs, n);
    else
        print_table(devs, n);
    free(devs);
    return 0;
}
