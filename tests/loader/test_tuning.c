/* tests/loader/test_tuning.c — tuning tables over the kernel families' declared keys: the built-in table gives
 * every key a default; unknown families and keys, misspelt or in another device's entry, and values that are not
 * integers are refused with the file, line and key named; device entries apply in order over the defaults. */
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "tuning.h"
#include "tuning_keys.h"

extern const char vkmm_tuning_builtin[];
extern const size_t vkmm_tuning_builtin_len;

static const vkmm_tuning_key keys[VKMM_TUNE_COUNT] = {
#define KEY(name, family, key) {family, key},
    VKMM_TUNING_KEYS(KEY)
#undef KEY
};

static const vkmm_tuning_device lavapipe = {"Mesa", 0x10005, "llvmpipe", "llvmpipe (LLVM 15.0.6, 256 bits)"};
static const vkmm_tuning_device gpu = {"NVIDIA", 0x10de, "NVIDIA", "NVIDIA H100 80GB HBM3"};

/* Applies text over the built-in table for dev; returns the status and leaves the message in err. */
static vkmm_status apply(const char *text, const vkmm_tuning_device *dev, vkmm_tuning *t, vkmm_error *err)
{
    vkmm_status s = vkmm_tuning_init(t, keys, VKMM_TUNE_COUNT, err);
    if (!s)
        s = vkmm_tuning_apply(t, vkmm_tuning_builtin, vkmm_tuning_builtin_len, "tuning.yaml", dev, err);
    if (!s)
        s = vkmm_tuning_apply(t, text, strlen(text), "user.yaml", dev, err);
    return s;
}

static void refused(const char *text, const char *want)
{
    vkmm_tuning t;
    vkmm_error err = {0};
    vkmm_status s = apply(text, &gpu, &t, &err);
    CHECK(s == VKMM_ERR_FORMAT && strstr(err.msg, want), "expected FORMAT with '%s', got %s: %s", want,
          vkmm_status_name(s), err.msg);
    vkmm_tuning_free(&t);
}

int main(void)
{
    vkmm_tuning t;
    vkmm_error err = {0};
    /* the built-in table alone: every declared key has a default, on any device */
    for (int d = 0; d < 2; d++) {
        CHECK_OK(apply("", d ? &gpu : &lavapipe, &t, &err), &err, 1);
        CHECK_OK(vkmm_tuning_check_complete(&t, "tuning.yaml", &err), &err, 1);
        vkmm_tuning_free(&t);
    }
    /* a table without one key's default names it */
    CHECK_OK(vkmm_tuning_init(&t, keys, VKMM_TUNE_COUNT, &err), &err, 1);
    const char *partial = "defaults:\n  matvec:\n    workgroup: 64\n";
    CHECK_OK(vkmm_tuning_apply(&t, partial, strlen(partial), "partial.yaml", &gpu, &err), &err, 1);
    CHECK(vkmm_tuning_check_complete(&t, "partial.yaml", &err) == VKMM_ERR_INTERNAL &&
              strstr(err.msg, "partial.yaml: no default for tuning key elementwise.workgroup"),
          "incomplete table: %s", err.msg);
    vkmm_tuning_free(&t);

    /* the built-in defaults and the device entries, in order */
    CHECK_OK(apply("", &gpu, &t, &err), &err, 1);
    CHECK(vkmm_tuning_get(&t, VKMM_TUNE_MATVEC_THREADS_PER_ROW) == 32, "GPU threads_per_row %lld",
          (long long)vkmm_tuning_get(&t, VKMM_TUNE_MATVEC_THREADS_PER_ROW));
    CHECK(vkmm_tuning_get(&t, VKMM_TUNE_MATVEC_CHUNKED_COLS) == 8, "GPU chunked_cols");
    vkmm_tuning_free(&t);
    CHECK_OK(apply("devices:\n  - match: {driver: llvmpipe}\n    matvec: {threads_per_row: 4}\n", &lavapipe, &t, &err),
             &err, 1);
    CHECK(vkmm_tuning_get(&t, VKMM_TUNE_MATVEC_THREADS_PER_ROW) == 4, "user entry over the built-in one");
    CHECK(vkmm_tuning_get(&t, VKMM_TUNE_MATVEC_WORKGROUP) == 64, "built-in lavapipe entry");
    vkmm_tuning_free(&t);

    /* what a user file may not say */
    refused("defaults:\n  matvec:\n    thread_per_row: 8\n",
            "user.yaml:3: unknown tuning key 'matvec.thread_per_row' (matvec has workgroup, threads_per_row");
    refused("defaults:\n  matvc:\n    workgroup: 8\n", "user.yaml:2: unknown kernel family 'matvc' (the families are "
                                                      "elementwise, matvec, matmul");
    refused("defaults:\n  matvec:\n    workgroup: 64k\n", "user.yaml:3: tuning value of matvec.workgroup must be an "
                                                          "integer");
    refused("defaults:\n  matvec:\n    workgroup: [1]\n", "must be an integer");
    /* an entry for another device is checked all the same */
    refused("devices:\n  - match: {driver: radv}\n    matmul: {bmm: 32}\n", "user.yaml:3: unknown tuning key 'matmul.bmm'");
    refused("defaults:\n  matmul:\n    bm: 32\n  bogus: {}\n", "unknown kernel family 'bogus'");
    refused("defaults: {}\nextra: 1\n", "unknown top-level key");
    return test_finish("loader-tuning");
}
