/* tests/gpu/test_memory.c — buffers: sub-allocation, upload/download round trips (direct and staged), a tensor
 * larger than maxStorageBufferRange processed through several bound ranges, and the memory budget. */
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "elementwise.h"

static void round_trip(vkmm_gpu *gpu, size_t bytes, uint32_t seed)
{
    vkmm_error err;
    uint8_t *src = malloc(bytes), *dst = malloc(bytes);
    for (size_t i = 0; i < bytes; i++)
        src[i] = (uint8_t)(i * 131 + seed);
    memset(dst, 0xAB, bytes);
    vkmm_buffer *b;
    CHECK_OK(vkmm_buffer_create(gpu, bytes, VKMM_MEM_DEVICE, "roundtrip", &b, &err), &err, );
    CHECK_OK(vkmm_buffer_upload(gpu, b, 0, src, bytes, &err), &err, );
    CHECK_OK(vkmm_buffer_download(gpu, b, 0, dst, bytes, &err), &err, );
    CHECK(!memcmp(src, dst, bytes), "round trip of %zu bytes differs", bytes);
    /* a partial download at an odd offset */
    if (bytes > 100) {
        memset(dst, 0, 50);
        CHECK_OK(vkmm_buffer_download(gpu, b, 37, dst, 50, &err), &err, );
        CHECK(!memcmp(src + 37, dst, 50), "partial download differs");
    }
    vkmm_buffer_destroy(b);
    free(src);
    free(dst);
}

/* Runs scale(x2) over a buffer larger than the storage range, one bound piece at a time. */
static void large_tensor(vkmm_gpu *gpu, vkmm_ops *ops)
{
    vkmm_error err;
    const vkmm_device_info *d = vkmm_gpu_info(gpu);
    uint64_t range = d->max_storage_buffer_range;
    /* larger than one range by 25% + a ragged tail; capped to what the device can hold in one buffer */
    uint64_t bytes = range + range / 4 + 4 * 1001;
    if (bytes > d->max_allocation_size || bytes > (1ull << 31)) {
        printf("large tensor: skipped, storage range %llu is too large to exceed here\n", (unsigned long long)range);
        return;
    }
    uint64_t n = bytes / 4;
    float *host = malloc(bytes);
    for (uint64_t i = 0; i < n; i++)
        host[i] = (float)(i % 1000003) + 0.5f;
    vkmm_buffer *b;
    CHECK_OK(vkmm_buffer_create(gpu, bytes, VKMM_MEM_DEVICE, "large", &b, &err), &err, );
    CHECK_OK(vkmm_buffer_upload(gpu, b, 0, host, bytes, &err), &err, );

    vkmm_range pieces[16];
    int np = vkmm_range_split(gpu, vkmm_range_whole(b), 4 * 1000, pieces, 16);
    CHECK(np >= 2 && np <= 16, "split into %d pieces", np);
    uint64_t covered = 0;
    vkmm_cmd *cmd;
    CHECK_OK(vkmm_cmd_create(gpu, 0, &cmd, &err), &err, );
    for (int i = 0; i < np && i < 16; i++) {
        CHECK(pieces[i].size <= range, "piece %d is %llu bytes", i, (unsigned long long)pieces[i].size);
        CHECK(pieces[i].offset == covered, "piece %d starts at %llu, expected %llu", i,
              (unsigned long long)pieces[i].offset, (unsigned long long)covered);
        covered += pieces[i].size;
        uint32_t cnt = (uint32_t)(pieces[i].size / 4);
        CHECK_OK(vkmm_op_scale(ops, cmd, pieces[i], pieces[i], cnt, 2.0f, &err), &err, );
    }
    CHECK(covered == bytes, "pieces cover %llu of %llu bytes", (unsigned long long)covered, (unsigned long long)bytes);
    CHECK_OK(vkmm_cmd_submit(cmd, &err), &err, );
    vkmm_cmd_destroy(cmd);
    float *out = malloc(bytes);
    CHECK_OK(vkmm_buffer_download(gpu, b, 0, out, bytes, &err), &err, );
    uint64_t bad = 0;
    for (uint64_t i = 0; i < n; i++)
        if (out[i] != host[i] * 2.0f)
            bad++;
    CHECK(bad == 0, "%llu of %llu elements wrong after split processing", (unsigned long long)bad,
          (unsigned long long)n);
    printf("large tensor: %.1f MiB in %d ranges of at most %.0f MiB\n", bytes / 1048576.0, np, range / 1048576.0);
    vkmm_buffer_destroy(b);
    free(host);
    free(out);
}

static void suballocation(vkmm_gpu *gpu)
{
    vkmm_error err;
    vkmm_gpu_stats before = vkmm_gpu_get_stats(gpu);
    vkmm_buffer *bufs[64];
    for (int i = 0; i < 64; i++)
        CHECK_OK(vkmm_buffer_create(gpu, 1000 + i * 37, VKMM_MEM_DEVICE, "small", &bufs[i], &err), &err, );
    vkmm_gpu_stats mid = vkmm_gpu_get_stats(gpu);
    CHECK(mid.blocks - before.blocks <= 1, "64 small buffers took %u new blocks", mid.blocks - before.blocks);
    /* free every other one, then refill: holes are reused, no new block */
    for (int i = 0; i < 64; i += 2)
        vkmm_buffer_destroy(bufs[i]);
    for (int i = 0; i < 64; i += 2)
        CHECK_OK(vkmm_buffer_create(gpu, 900, VKMM_MEM_DEVICE, "refill", &bufs[i], &err), &err, );
    CHECK(vkmm_gpu_get_stats(gpu).blocks == mid.blocks, "refill allocated a new block");
    for (int i = 0; i < 64; i++)
        vkmm_buffer_destroy(bufs[i]);
    CHECK(vkmm_gpu_get_stats(gpu).blocks <= before.blocks + 1, "empty blocks not released (beyond one spare)");
}

static void budget(void)
{
    vkmm_error err;
    vkmm_gpu_options o = {.memory_budget = 64ull << 20};
    vkmm_gpu *gpu = test_gpu_open(&o);
    vkmm_buffer *b = NULL;
    vkmm_status s = vkmm_buffer_create(gpu, 200ull << 20, VKMM_MEM_DEVICE, "too-big", &b, &err);
    CHECK(s == VKMM_ERR_OUT_OF_MEMORY && !b, "over-budget allocation gave %d", s);
    CHECK(strstr(err.msg, "budget") && strstr(err.msg, "too-big"), "message: %s", err.msg);
    CHECK_OK(vkmm_buffer_create(gpu, 16ull << 20, VKMM_MEM_DEVICE, "fits", &b, &err), &err, );
    vkmm_buffer_destroy(b);
    test_gpu_close(gpu);
}

int main(void)
{
    vkmm_error err;
    vkmm_gpu *gpu = test_gpu_open(NULL);
    vkmm_ops *ops;
    CHECK_OK(vkmm_ops_create(gpu, NULL, &ops, &err), &err, 1);
    round_trip(gpu, 4, 1);
    round_trip(gpu, 1234567, 2);
    suballocation(gpu);
    large_tensor(gpu, ops);
    vkmm_ops_destroy(ops);
    test_gpu_close(gpu);

    /* the same through staging buffers, as on a discrete GPU */
    vkmm_gpu_options staged = {.force_staging = true};
    gpu = test_gpu_open(&staged);
    round_trip(gpu, 4, 3);
    round_trip(gpu, (40u << 20) + 13, 4); /* more than one staging chunk */
    test_gpu_close(gpu);

    budget();
    return test_finish("gpu memory");
}
