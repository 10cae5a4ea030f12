/* tests/harness.c — the shared test harness (see harness.h). */
#include "harness.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int test_failures;

vkmm_gpu *test_gpu_open(const vkmm_gpu_options *opt)
{
    vkmm_gpu_options o = {0};
    if (opt)
        o = *opt;
#ifdef VKMM_TEST_NO_VALIDATION
    o.validation = 0;
#else
    o.validation = 1;
#endif
    if (!o.cache_dir)
        o.cache_dir = ""; /* tests never touch the user's pipeline cache unless they ask */
    vkmm_gpu *gpu = NULL;
    vkmm_error err;
    vkmm_status s = vkmm_gpu_create(&o, &gpu, &err);
    if (s == VKMM_ERR_NO_DEVICE) {
        fprintf(stderr, "SKIP: %s\n", err.msg);
        exit(77);
    }
    if (s) {
        fprintf(stderr, "FAIL: cannot open the GPU: %s\n", err.msg);
        exit(1);
    }
#ifndef VKMM_TEST_NO_VALIDATION
    if (!vkmm_gpu_validation(gpu).active) {
        fprintf(stderr, "FAIL: the validation layer is not reporting (VK_EXT_debug_utils missing?)\n");
        exit(1);
    }
#endif
    return gpu;
}

void test_gpu_close(vkmm_gpu *gpu)
{
    if (!gpu)
        return;
    /* counted after destruction, so leaked objects reported by the layer fail the test too */
    vkmm_validation_counts c = vkmm_gpu_destroy_report(gpu);
    if (c.errors || c.warnings) {
        test_failures++;
        fprintf(stderr, "FAIL: %u validation error(s) and %u warning(s); first: %s\n", c.errors, c.warnings,
                c.first);
    }
}

/* a copy of the open capture (the caller's may be a local of main, gone by exit time): a test that returns early
 * (CHECK_OK) inside a capture must still show what it wrote, its FAIL line included */
static test_stderr_capture active_capture;
static bool capture_open;

static void end_active_capture(void)
{
    if (capture_open)
        test_stderr_capture_end(&active_capture);
}

bool test_stderr_capture_begin(test_stderr_capture *c)
{
    static bool registered;
    if (!registered)
        registered = atexit(end_active_capture) == 0;
    fflush(stderr);
    c->tmp = tmpfile();
    c->saved = dup(2);
    active_capture = *c;
    capture_open = true;
    return c->tmp && c->saved >= 0 && dup2(fileno(c->tmp), 2) >= 0;
}

unsigned test_stderr_capture_end(test_stderr_capture *c)
{
    capture_open = false;
    fflush(stderr);
    if (c->saved >= 0) {
        dup2(c->saved, 2);
        close(c->saved);
    }
    unsigned found = 0;
    if (!c->tmp)
        return found;
    char line[4096];
    rewind(c->tmp);
    while (fgets(line, sizeof line, c->tmp)) {
        if (strstr(line, "validation error") || strstr(line, "validation warning"))
            found++;
        fputs(line, stderr);
    }
    fclose(c->tmp);
    return found;
}

void test_remove_dir(const char *dir)
{
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", dir);
}

int test_finish(const char *name)
{
    if (test_failures) {
        fprintf(stderr, "%s: %d check(s) FAILED\n", name, test_failures);
        return 1;
    }
    printf("%s: all checks passed\n", name);
    return 0;
}

test_rng test_rng_seed(uint64_t seed)
{
    test_rng r = {seed * 0x9E3779B97F4A7C15ull + 1};
    return r;
}

uint32_t test_rand_u32(test_rng *r)
{
    r->s ^= r->s >> 12;
    r->s ^= r->s << 25;
    r->s ^= r->s >> 27;
    return (uint32_t)((r->s * 0x2545F4914F6CDD1Dull) >> 32);
}

float test_rand_uniform(test_rng *r, float lo, float hi)
{
    for (;;) {
        float u = (test_rand_u32(r) >> 8) * (1.0f / 16777216.0f);
        float v = lo + (hi - lo) * u;
        if (v != 0.0f || (lo == 0.0f && hi == 0.0f))
            return v;
    }
}

void test_fill_uniform(test_rng *r, float *x, size_t n, float lo, float hi)
{
    for (size_t i = 0; i < n; i++)
        x[i] = test_rand_uniform(r, lo, hi);
}

double test_nmse(const float *a, const float *ref, size_t n)
{
    double num = 0, den = 0;
    for (size_t i = 0; i < n; i++) {
        if (isnan(a[i]) || isnan(ref[i]))
            return INFINITY;
        double d = (double)a[i] - ref[i];
        num += d * d;
        den += (double)ref[i] * ref[i];
    }
    return den > 0 ? num / den : num;
}

double test_max_abs_diff(const float *a, const float *ref, size_t n)
{
    double m = 0;
    for (size_t i = 0; i < n; i++) {
        if (isnan(a[i]) || isnan(ref[i]))
            return INFINITY;
        double d = fabs((double)a[i] - ref[i]);
        if (d > m)
            m = d;
    }
    return m;
}

#include "f16.h"

vkmm_buffer *test_upload(vkmm_gpu *gpu, const void *data, size_t bytes, size_t pad_bytes, vkmm_range *r)
{
    vkmm_error err;
    vkmm_buffer *b;
    CHECK_OK(vkmm_buffer_create(gpu, pad_bytes + bytes, VKMM_MEM_DEVICE, "test", &b, &err), &err, NULL);
    uint8_t *tmp = malloc(pad_bytes + bytes);
    memset(tmp, 0xff, pad_bytes + bytes); /* 0xffffffff is a NaN in f32 and 0xffff in f16 */
    if (data)
        memcpy(tmp + pad_bytes, data, bytes);
    vkmm_status s = vkmm_buffer_upload(gpu, b, 0, tmp, pad_bytes + bytes, &err);
    free(tmp);
    CHECK_OK(s, &err, NULL);
    *r = vkmm_range_sub(vkmm_range_whole(b), pad_bytes, bytes);
    return b;
}

void test_download(vkmm_gpu *gpu, vkmm_range r, void *out)
{
    vkmm_error err;
    CHECK_OK(vkmm_buffer_download(gpu, r.buf, r.offset, out, r.size, &err), &err, );
}

float vkmm_test_f16_round(float x)
{
    return vkmm_f16_to_f32(vkmm_f32_to_f16(x));
}
