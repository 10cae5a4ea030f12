/* tests/gpu/test_pipeline_prewarm.c — prewarming: a run's used pipelines are listed beside the pipeline cache, the
 * next run with the same tag compiles them on a background thread (a caller asking for one meanwhile waits for it
 * or compiles it, never twice), and a damaged or hostile list only costs the head start. */
#include <stdlib.h>
#include <string.h>

#include "harness.h"

static vkmm_gpu *open_with_cache(const char *dir)
{
    vkmm_gpu_options o = {.cache_dir = dir};
    return test_gpu_open(&o);
}

static const uint32_t WG[] = {64, 32, 128, 256};

static void use_pipelines(vkmm_gpu *gpu, uint32_t n)
{
    for (uint32_t i = 0; i < n; i++) {
        vkmm_error err;
        vkmm_pipeline *p;
        vkmm_pipeline_desc d = {.shader = "add_f32", .spec = {WG[i]}, .n_spec = 1};
        CHECK_OK(vkmm_pipeline_get(gpu, &d, &p, &err), &err, );
        CHECK(p && vkmm_pipeline_bindings(p) > 0, "pipeline %u unusable", i);
    }
}

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    char *buf = calloc(1, 1 << 16);
    if (buf)
        (void)!fread(buf, 1, (1 << 16) - 1, f);
    fclose(f);
    return buf;
}

static void write_text(const char *path, const char *text, size_t n)
{
    FILE *f = fopen(path, "wb");
    if (f) {
        fwrite(text, 1, n, f);
        fclose(f);
    }
}

int main(void)
{
    char dir[] = "/tmp/vkmm-prewarm-test-XXXXXX";
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 1;
    }
    unsetenv("VKMM_PREWARM");

    /* first run: no list yet, so nothing is compiled ahead; three pipelines used, in this order */
    vkmm_gpu *gpu = open_with_cache(dir);
    vkmm_gpu_prewarm(gpu, "model-a");
    vkmm_gpu_prewarm_wait(gpu);
    CHECK(vkmm_gpu_get_stats(gpu).pipelines_created == 0, "prewarm compiled something without a list");
    use_pipelines(gpu, 3);
    char list[1200];
    snprintf(list, sizeof list, "%s", vkmm_gpu_pipeline_cache_path(gpu));
    CHECK(strlen(list) > 4, "no cache path");
    snprintf(strrchr(list, '.'), 64, "-model-a.list");
    test_gpu_close(gpu);
    char *text = slurp(list);
    CHECK(text && !strcmp(text, "add_f32 0 64\nadd_f32 0 32\nadd_f32 0 128\n"), "list %s is not the three pipelines in "
          "first-use order: %s", list, text ? text : "(missing)");

    /* second run: all three ready before anyone asks, and asking creates none */
    gpu = open_with_cache(dir);
    vkmm_gpu_prewarm(gpu, "model-a");
    vkmm_gpu_prewarm_wait(gpu);
    CHECK(vkmm_gpu_get_stats(gpu).pipelines_created == 3, "prewarm made %u pipelines, not 3",
          vkmm_gpu_get_stats(gpu).pipelines_created);
    use_pipelines(gpu, 3);
    CHECK(vkmm_gpu_get_stats(gpu).pipelines_created == 3, "a prewarmed pipeline was compiled again");
    test_gpu_close(gpu);

    /* racing the thread: ask for all of them at once while it works; each compiled exactly once */
    gpu = open_with_cache(dir);
    vkmm_gpu_prewarm(gpu, "model-a");
    use_pipelines(gpu, 4); /* (one more than the list: the list grows) */
    vkmm_gpu_prewarm_wait(gpu);
    CHECK(vkmm_gpu_get_stats(gpu).pipelines_created == 4, "racing made %u pipelines, not 4",
          vkmm_gpu_get_stats(gpu).pipelines_created);
    test_gpu_close(gpu);
    free(text);
    text = slurp(list);
    CHECK(text && !strcmp(text, "add_f32 0 64\nadd_f32 0 32\nadd_f32 0 128\nadd_f32 0 256\n"), "list not updated: %s",
          text ? text : "(missing)");

    /* another tag has a list of its own; VKMM_PREWARM=0 turns it all off */
    gpu = open_with_cache(dir);
    vkmm_gpu_prewarm(gpu, "model-b");
    vkmm_gpu_prewarm_wait(gpu);
    CHECK(vkmm_gpu_get_stats(gpu).pipelines_created == 0, "another tag's list was used");
    test_gpu_close(gpu);
    setenv("VKMM_PREWARM", "0", 1);
    gpu = open_with_cache(dir);
    vkmm_gpu_prewarm(gpu, "model-a");
    vkmm_gpu_prewarm_wait(gpu);
    CHECK(vkmm_gpu_get_stats(gpu).pipelines_created == 0, "VKMM_PREWARM=0 still prewarmed");
    test_gpu_close(gpu);
    unsetenv("VKMM_PREWARM");

    /* hostile lists: unknown shaders, bad numbers, too many constants, binary junk, no newline at the end; only the
     * one good line is compiled, and nothing crashes or reports a validation message */
    static const char hostile[] = "no_such_shader 0 64\nadd_f32 x 64\nadd_f32 0 -5\nadd_f32 0 99999999999\n"
                                  "add_f32 0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17\n\x01\x02\xff junk\n"
                                  "add_f32 0\t\t64\r\n\n\n add_f32 0 64";
    write_text(list, hostile, sizeof hostile - 1);
    gpu = open_with_cache(dir);
    vkmm_gpu_prewarm(gpu, "model-a");
    vkmm_gpu_prewarm_wait(gpu);
    CHECK(vkmm_gpu_get_stats(gpu).pipelines_created == 1, "hostile list made %u pipelines, not 1",
          vkmm_gpu_get_stats(gpu).pipelines_created);
    test_gpu_close(gpu);
    /* a list larger than any we write is ignored whole */
    size_t big = (1u << 20) + 10;
    char *junk = malloc(big);
    if (junk) {
        for (size_t i = 0; i < big; i++)
            junk[i] = i % 13 == 12 ? '\n' : 'a';
        write_text(list, junk, big);
        free(junk);
    }
    gpu = open_with_cache(dir);
    vkmm_gpu_prewarm(gpu, "model-a");
    vkmm_gpu_prewarm_wait(gpu);
    CHECK(vkmm_gpu_get_stats(gpu).pipelines_created == 0, "oversized list was used");
    test_gpu_close(gpu);

    free(text);
    test_remove_dir(dir);
    return test_finish("pipeline prewarm");
}
