/* tests/harness.h — what every vkmm test shares: checks that count failures, a GPU context opened with the
 * validation layer on (any message it prints fails the test), seeded random data and error measures. */
#ifndef VKMM_TEST_HARNESS_H
#define VKMM_TEST_HARNESS_H

#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "gpu.h"

extern int test_failures;

#define CHECK(cond, ...)                                                      \
    do {                                                                      \
        if (!(cond)) {                                                        \
            test_failures++;                                                  \
            fprintf(stderr, "FAIL %s:%d: %s: ", __FILE__, __LINE__, #cond);   \
            fprintf(stderr, __VA_ARGS__);                                     \
            fprintf(stderr, "\n");                                            \
        }                                                                     \
    } while (0)

/* Fails the test (and returns from the calling function with `ret`) when a vkmm call fails. */
#define CHECK_OK(expr, err, ret)                                                                          \
    do {                                                                                                  \
        vkmm_status s_ = (expr);                                                                          \
        if (s_ != VKMM_OK) {                                                                              \
            test_failures++;                                                                              \
            fprintf(stderr, "FAIL %s:%d: %s -> %s: %s\n", __FILE__, __LINE__, #expr, vkmm_status_name(s_), \
                    (err)->msg);                                                                          \
            return ret;                                                                                   \
        }                                                                                                 \
    } while (0)

/* Opens the GPU the tests run on, with validation on unless the build disabled it
 * (meson -Dvalidation=false). opt may be NULL. Exits with 77 (skip) only if there is no device. */
vkmm_gpu *test_gpu_open(const vkmm_gpu_options *opt);
/* Destroys the context; counts every validation error or warning seen as a failure. */
void test_gpu_close(vkmm_gpu *gpu);
/* Tests that reach the GPU only through the public API (vkmm.h) see the validation layer's messages only on
 * stderr: between begin and end stderr goes to a temporary file; end echoes all of it and returns how many
 * "validation error/warning" lines it held (each fails the test: the caller CHECKs the count). */
typedef struct test_stderr_capture {
    FILE *tmp;
    int saved;
} test_stderr_capture;
bool test_stderr_capture_begin(test_stderr_capture *c);
unsigned test_stderr_capture_end(test_stderr_capture *c);

/* Removes a test's temporary folder and everything in it (a warning if that fails). */
void test_remove_dir(const char *dir);

/* Prints PASS/FAIL and returns the process exit status. */
int test_finish(const char *name);

/* Deterministic random numbers (xorshift64*). */
typedef struct test_rng { uint64_t s; } test_rng;
test_rng test_rng_seed(uint64_t seed);
uint32_t test_rand_u32(test_rng *r);
float test_rand_uniform(test_rng *r, float lo, float hi); /* never exactly zero unless lo == hi == 0 */
void test_fill_uniform(test_rng *r, float *x, size_t n, float lo, float hi);

/* Normalised mean squared error sum((a-b)^2) / sum(b^2) with b the reference; +inf on any NaN in a. */
double test_nmse(const float *a, const float *ref, size_t n);
/* Largest |a-b|; +inf on any NaN. */
double test_max_abs_diff(const float *a, const float *ref, size_t n);

/* A device buffer holding pad_bytes of NaN poison, then `bytes` of data (NaN poison too when data is NULL,
 * so an output element the kernel never writes shows up as NaN). *r is the data's range: it starts
 * unaligned when pad_bytes is not a multiple of the binding alignment. Destroy with vkmm_buffer_destroy. */
vkmm_buffer *test_upload(vkmm_gpu *gpu, const void *data, size_t bytes, size_t pad_bytes, vkmm_range *r);
void test_download(vkmm_gpu *gpu, vkmm_range r, void *out);

/* f32 -> f16 -> f32, as a device converting with round-to-nearest-even would do. */
float vkmm_test_f16_round(float x);

#endif
