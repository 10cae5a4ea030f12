/* tests/gpu/test_cmd_chain.c — a chain of dependent dispatches gives the right answer; barriers appear only
 * between dependent dispatches; a recorded list replays; long lists split into bounded submits; the
 * per-dispatch profile carries the labels. */
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "elementwise.h"

enum { N = 10007 };

int main(void)
{
    vkmm_error err;
    vkmm_gpu_options o = {.max_dispatches_per_submit = 4};
    vkmm_gpu *gpu = test_gpu_open(&o);
    vkmm_ops *ops;
    CHECK_OK(vkmm_ops_create(gpu, NULL, &ops, &err), &err, 1);

    test_rng rng = test_rng_seed(7);
    float *a = malloc(N * 4), *b = malloc(N * 4), *ref = malloc(N * 4), *out = malloc(N * 4);
    test_fill_uniform(&rng, a, N, -2, 2);
    test_fill_uniform(&rng, b, N, -2, 2);

    vkmm_buffer *ba, *bb, *bt, *bh, *bo;
    CHECK_OK(vkmm_buffer_create(gpu, N * 4, VKMM_MEM_DEVICE, "a", &ba, &err), &err, 1);
    CHECK_OK(vkmm_buffer_create(gpu, N * 4, VKMM_MEM_DEVICE, "b", &bb, &err), &err, 1);
    CHECK_OK(vkmm_buffer_create(gpu, N * 4, VKMM_MEM_DEVICE, "t", &bt, &err), &err, 1);
    CHECK_OK(vkmm_buffer_create(gpu, N * 2, VKMM_MEM_DEVICE, "h", &bh, &err), &err, 1);
    CHECK_OK(vkmm_buffer_create(gpu, N * 4, VKMM_MEM_DEVICE, "o", &bo, &err), &err, 1);
    CHECK_OK(vkmm_buffer_upload(gpu, ba, 0, a, N * 4, &err), &err, 1);
    CHECK_OK(vkmm_buffer_upload(gpu, bb, 0, b, N * 4, &err), &err, 1);
    vkmm_range A = vkmm_range_whole(ba), B = vkmm_range_whole(bb), T = vkmm_range_whole(bt),
               H = vkmm_range_whole(bh), O = vkmm_range_whole(bo);

    vkmm_cmd *cmd;
    CHECK_OK(vkmm_cmd_create(gpu, VKMM_CMD_PROFILE, &cmd, &err), &err, 1);
    vkmm_ops_set_label(ops, "chain");
    /* t = a + b; t = t * b; t = t * 0.5; h = f16(t); o = f32(h); o = o + a  — each reads the one before */
    CHECK_OK(vkmm_op_add(ops, cmd, A, B, T, N, N, &err), &err, 1);
    CHECK_OK(vkmm_op_mul(ops, cmd, T, B, T, N, N, &err), &err, 1);
    CHECK_OK(vkmm_op_scale(ops, cmd, T, T, N, 0.5f, &err), &err, 1);
    CHECK_OK(vkmm_op_convert(ops, cmd, T, VKMM_F32, H, VKMM_F16, N, &err), &err, 1);
    CHECK_OK(vkmm_op_convert(ops, cmd, H, VKMM_F16, O, VKMM_F32, N, &err), &err, 1);
    CHECK_OK(vkmm_op_add(ops, cmd, O, A, O, N, N, &err), &err, 1);
    CHECK(vkmm_cmd_barrier_count(cmd) == 5, "%u barriers for 6 dependent dispatches", vkmm_cmd_barrier_count(cmd));
    CHECK(vkmm_cmd_submit_chunks(cmd) == 2, "%u submit chunks for 6 dispatches at 4 per submit",
          vkmm_cmd_submit_chunks(cmd));
    CHECK_OK(vkmm_cmd_submit(cmd, &err), &err, 1);
    CHECK_OK(vkmm_buffer_download(gpu, bo, 0, out, N * 4, &err), &err, 1);
    for (int i = 0; i < N; i++) {
        float t = (a[i] + b[i]) * b[i] * 0.5f;
        ref[i] = vkmm_test_f16_round(t) + a[i];
    }
    CHECK(test_max_abs_diff(out, ref, N) == 0, "chain result differs by %g", test_max_abs_diff(out, ref, N));

    const vkmm_profile_entry *prof;
    uint32_t np = vkmm_cmd_profile(cmd, &prof);
    if (vkmm_gpu_info(gpu)->timestamps) {
        CHECK(np == 6, "profile has %u entries", np);
        if (np == 6) {
            CHECK(!strcmp(prof[0].label, "chain:add") && !strcmp(prof[3].label, "chain:convert"), "labels %s, %s",
                  prof[0].label, prof[3].label);
            for (uint32_t i = 0; i < np; i++)
                CHECK(prof[i].ns >= 0, "negative time");
        }
    }

    /* replay: the same recorded list again, after changing the input in place */
    for (int i = 0; i < N; i++)
        a[i] = -a[i];
    CHECK_OK(vkmm_buffer_upload(gpu, ba, 0, a, N * 4, &err), &err, 1);
    CHECK_OK(vkmm_cmd_submit(cmd, &err), &err, 1);
    CHECK_OK(vkmm_buffer_download(gpu, bo, 0, out, N * 4, &err), &err, 1);
    for (int i = 0; i < N; i++)
        ref[i] = vkmm_test_f16_round((a[i] + b[i]) * b[i] * 0.5f) + a[i];
    CHECK(test_max_abs_diff(out, ref, N) == 0, "replay result differs");

    /* independent dispatches: no barrier between them */
    vkmm_cmd_reset(cmd);
    vkmm_range Th = vkmm_range_sub(T, 0, N / 2 * 4), Th2 = vkmm_range_sub(T, N / 2 * 4, (N - N / 2) * 4);
    CHECK_OK(vkmm_op_scale(ops, cmd, vkmm_range_sub(A, 0, N / 2 * 4), Th, N / 2, 3.0f, &err), &err, 1);
    CHECK_OK(vkmm_op_scale(ops, cmd, vkmm_range_sub(A, N / 2 * 4, (N - N / 2) * 4), Th2, N - N / 2, 3.0f, &err),
             &err, 1);
    CHECK_OK(vkmm_op_scale(ops, cmd, B, O, N, 1.0f, &err), &err, 1);
    CHECK(vkmm_cmd_barrier_count(cmd) == 0, "%u barriers between independent dispatches",
          vkmm_cmd_barrier_count(cmd));
    /* write-after-read: overwriting what an earlier dispatch read needs an (execution) barrier */
    CHECK_OK(vkmm_op_scale(ops, cmd, O, B, N, 1.0f, &err), &err, 1);
    CHECK(vkmm_cmd_barrier_count(cmd) == 1, "missing barrier before overwriting a read input");
    CHECK_OK(vkmm_cmd_submit(cmd, &err), &err, 1);
    CHECK_OK(vkmm_buffer_download(gpu, bt, 0, out, N * 4, &err), &err, 1);
    for (int i = 0; i < N; i++)
        ref[i] = a[i] * 3.0f;
    CHECK(test_max_abs_diff(out, ref, N) == 0, "halves differ");

    vkmm_cmd_destroy(cmd);
    vkmm_buffer_destroy(ba);
    vkmm_buffer_destroy(bb);
    vkmm_buffer_destroy(bt);
    vkmm_buffer_destroy(bh);
    vkmm_buffer_destroy(bo);
    vkmm_ops_destroy(ops);
    test_gpu_close(gpu);
    free(a);
    free(b);
    free(ref);
    free(out);
    return test_finish("command chain");
}
