/* tests/gpu/test_pipeline_cache.c — the on-disk pipeline cache: written on first use, loaded on the next run,
 * and a corrupt, truncated or foreign file ignored (with a warning) rather than trusted. */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "harness.h"

static vkmm_gpu *open_with_cache(const char *dir)
{
    vkmm_gpu_options o = {.cache_dir = dir};
    return test_gpu_open(&o);
}

static void make_pipeline(vkmm_gpu *gpu)
{
    vkmm_error err;
    vkmm_pipeline *p;
    vkmm_pipeline_desc d = {.shader = "add_f32", .spec = {64}, .n_spec = 1};
    CHECK_OK(vkmm_pipeline_get(gpu, &d, &p, &err), &err, );
    vkmm_pipeline *again;
    CHECK_OK(vkmm_pipeline_get(gpu, &d, &again, &err), &err, );
    CHECK(p == again, "same shader + constants gave two pipelines");
    d.spec[0] = 32;
    CHECK_OK(vkmm_pipeline_get(gpu, &d, &again, &err), &err, );
    CHECK(p != again, "other constants gave the same pipeline");
}

static long file_size(const char *path)
{
    struct stat st;
    return stat(path, &st) ? -1 : (long)st.st_size;
}

static void rewrite(const char *path, long at, long truncate_to)
{
    FILE *f = fopen(path, "r+b");
    if (!f)
        return;
    if (at >= 0) {
        fseek(f, at, SEEK_SET);
        int c = fgetc(f);
        fseek(f, at, SEEK_SET);
        fputc(c ^ 0x5a, f);
    }
    fclose(f);
    if (truncate_to >= 0 && truncate(path, truncate_to) != 0)
        perror("truncate");
}

int main(void)
{
    char dir[] = "/tmp/vkmm-cache-test-XXXXXX";
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 1;
    }
    char sub[256];
    snprintf(sub, sizeof sub, "%s/nested/vkmm", dir); /* the folder is created on demand */

    vkmm_gpu *gpu = open_with_cache(sub);
    CHECK(!vkmm_gpu_get_stats(gpu).disk_cache_loaded, "fresh folder claims a loaded cache");
    make_pipeline(gpu);
    char path[1100];
    snprintf(path, sizeof path, "%s", vkmm_gpu_pipeline_cache_path(gpu));
    test_gpu_close(gpu); /* writes the file */
    long size = file_size(path);
    CHECK(size > 56, "cache file %s missing or empty (%ld)", path, size);

    gpu = open_with_cache(sub);
    vkmm_gpu_stats st = vkmm_gpu_get_stats(gpu);
    CHECK(st.disk_cache_loaded && st.disk_cache_bytes > 0, "second run did not load the cache");
    CHECK(!st.disk_cache_rejected, "valid cache rejected");
    make_pipeline(gpu);
    test_gpu_close(gpu);

    /* corruption in the driver data: caught by the checksum, ignored */
    rewrite(path, size - 5, -1);
    gpu = open_with_cache(sub);
    st = vkmm_gpu_get_stats(gpu);
    CHECK(!st.disk_cache_loaded && st.disk_cache_rejected, "corrupt cache was trusted");
    make_pipeline(gpu); /* still works, and rewrites a good file */
    test_gpu_close(gpu);

    gpu = open_with_cache(sub);
    CHECK(vkmm_gpu_get_stats(gpu).disk_cache_loaded, "cache not rewritten after corruption");
    test_gpu_close(gpu);

    /* truncated file, and a foreign device id in our header */
    rewrite(path, -1, size / 2);
    gpu = open_with_cache(sub);
    CHECK(vkmm_gpu_get_stats(gpu).disk_cache_rejected, "truncated cache was trusted");
    make_pipeline(gpu);
    test_gpu_close(gpu);
    rewrite(path, 12, -1);
    gpu = open_with_cache(sub);
    CHECK(vkmm_gpu_get_stats(gpu).disk_cache_rejected, "foreign cache was trusted");
    test_gpu_close(gpu);

    /* garbage that is not ours at all */
    FILE *f = fopen(path, "wb");
    fputs("not a cache", f);
    fclose(f);
    gpu = open_with_cache(sub);
    CHECK(vkmm_gpu_get_stats(gpu).disk_cache_rejected, "garbage cache was trusted");
    test_gpu_close(gpu);

    test_remove_dir(dir);
    return test_finish("pipeline cache");
}
