/* tests/graph/test_graph.c — graph planning and recording: a small residual MLP built as a graph gives the
 * reference answer, intermediates share arena bytes by liveness, views and in-place writes work, a
 * recorded graph replays, and building errors surface at planning. */
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "dtype_table.h"
#include "ref/ref_matmul.h"
#include "nodes.h"

enum { K = 96, HID = 160, N = 5, LAYERS = 4 };

int main(void)
{
    vkmm_error err;
    vkmm_gpu *gpu = test_gpu_open(NULL);
    vkmm_ops *ops;
    CHECK_OK(vkmm_ops_create(gpu, NULL, &ops, &err), &err, 1);
    test_rng rng = test_rng_seed(5);

    /* weights: per layer W1 [HID][K] (Q8_0) and W2 [K][HID] (F16) */
    uint8_t *w1[LAYERS], *w2[LAYERS];
    vkmm_buffer *bw1[LAYERS], *bw2[LAYERS];
    vkmm_weight wt1[LAYERS], wt2[LAYERS];
    float *tmp = malloc(sizeof *tmp * K * HID);
    for (int l = 0; l < LAYERS; l++) {
        vkmm_range r;
        test_fill_uniform(&rng, tmp, K * HID, -0.2f, 0.2f);
        w1[l] = malloc(vkmm_dtype_row_bytes(VKMM_Q8_0, K) * HID);
        vkmm_quantize(VKMM_Q8_0, tmp, w1[l], (size_t)K * HID);
        bw1[l] = test_upload(gpu, w1[l], vkmm_dtype_row_bytes(VKMM_Q8_0, K) * HID, 0, &r);
        CHECK_OK(vkmm_weight_view(ops, r, VKMM_Q8_0, K, HID, &wt1[l], &err), &err, 1);
        test_fill_uniform(&rng, tmp, K * HID, -0.2f, 0.2f);
        w2[l] = malloc(vkmm_dtype_row_bytes(VKMM_F16, HID) * K);
        vkmm_quantize(VKMM_F16, tmp, w2[l], (size_t)K * HID);
        bw2[l] = test_upload(gpu, w2[l], vkmm_dtype_row_bytes(VKMM_F16, HID) * K, 0, &r);
        CHECK_OK(vkmm_weight_view(ops, r, VKMM_F16, HID, K, &wt2[l], &err), &err, 1);
    }
    float *x = malloc(sizeof *x * N * K), *ref = malloc(sizeof *ref * N * K), *out = malloc(sizeof *out * N * K);
    float *h = malloc(sizeof *h * N * HID), *y = malloc(sizeof *y * N * K);
    test_fill_uniform(&rng, x, N * K, -1, 1);
    vkmm_range X, Y;
    vkmm_buffer *bx = test_upload(gpu, x, sizeof *x * N * K, 0, &X), *by = test_upload(gpu, NULL, sizeof *x * N * K, 0, &Y);

    /* x_{l+1} = x_l + W2 · (h ⊙ h) with h = W1 · x_l; then the result is scaled by 0.5 into Y */
    vkmm_graph g;
    vkmm_graph_init(&g, ops);
    vkmm_tid tx = vkmm_graph_external(&g, X, VKMM_F32, K, N, 1, "x");
    vkmm_tid cur = vkmm_graph_tensor(&g, VKMM_F32, K, N, 1, "cur");
    cur = vkmm_g_scale(&g, tx, 1.0f, cur, "copy_in");
    for (int l = 0; l < LAYERS; l++) {
        vkmm_graph_set_prefix(&g, "blk.%d", l);
        vkmm_tid th = vkmm_g_matmul(&g, &wt1[l], cur, 0, "up");
        vkmm_tid sq = vkmm_g_mul(&g, th, th, 0, "square");
        vkmm_tid d = vkmm_g_matmul(&g, &wt2[l], sq, 0, "down");
        vkmm_g_add(&g, cur, d, cur, "residual"); /* in place */
    }
    vkmm_graph_set_prefix(&g, "%s", "");
    vkmm_tid ty = vkmm_graph_external(&g, Y, VKMM_F32, K, N, 1, "y");
    /* a view: rows 1..N-1 of cur, scaled into the same rows of y */
    vkmm_tid tail = vkmm_graph_view(&g, cur, 4ull * K, VKMM_F32, K, N - 1, 1, "tail");
    vkmm_tid ytail = vkmm_graph_view(&g, ty, 4ull * K, VKMM_F32, K, N - 1, 1, "ytail");
    vkmm_g_scale(&g, tail, 0.5f, ytail, "out_tail");
    vkmm_tid head = vkmm_graph_view(&g, cur, 0, VKMM_F32, K, 1, 1, "head");
    vkmm_tid yhead = vkmm_graph_view(&g, ty, 0, VKMM_F32, K, 1, 1, "yhead");
    vkmm_g_scale(&g, head, 0.5f, yhead, "out_head");
    CHECK_OK(vkmm_graph_plan(&g, &err), &err, 1);
    uint64_t unshared = vkmm_graph_unshared_bytes(&g);
    CHECK(g.arena_bytes < unshared / 2, "arena %llu bytes is not much smaller than %llu unshared",
          (unsigned long long)g.arena_bytes, (unsigned long long)unshared);
    printf("arena %llu bytes for %llu bytes of intermediates, %u nodes\n", (unsigned long long)g.arena_bytes,
           (unsigned long long)unshared, g.n_nodes);

    vkmm_buffer *arena;
    CHECK_OK(vkmm_buffer_create(gpu, g.arena_bytes, VKMM_MEM_DEVICE, "arena", &arena, &err), &err, 1);
    vkmm_cmd *cmd;
    CHECK_OK(vkmm_cmd_create(gpu, VKMM_CMD_PROFILE, &cmd, &err), &err, 1);
    CHECK_OK(vkmm_graph_record(&g, ops, cmd, vkmm_range_whole(arena), &err), &err, 1);
    for (int run = 0; run < 2; run++) {
        if (run == 1) { /* replay with a new input */
            for (int i = 0; i < N * K; i++)
                x[i] = -x[i] * 0.75f;
            CHECK_OK(vkmm_buffer_upload(gpu, bx, 0, x, sizeof *x * N * K, &err), &err, 1);
        }
        CHECK_OK(vkmm_cmd_submit(cmd, &err), &err, 1);
        test_download(gpu, Y, out);
        memcpy(ref, x, sizeof *x * N * K);
        for (int l = 0; l < LAYERS; l++) {
            ref_matmul(VKMM_Q8_0, w1[l], HID, K, ref, K, N, h, HID);
            for (int i = 0; i < N * HID; i++)
                h[i] *= h[i];
            ref_matmul(VKMM_F16, w2[l], K, HID, h, HID, N, y, K);
            for (int i = 0; i < N * K; i++)
                ref[i] += y[i];
        }
        for (int i = 0; i < N * K; i++)
            ref[i] *= 0.5f;
        double e = test_nmse(out, ref, N * K);
        CHECK(e < 1e-10, "run %d: graph result nmse %g", run, e);
    }
    const vkmm_profile_entry *prof;
    uint32_t np = vkmm_cmd_profile(cmd, &prof);
    bool found = false;
    for (uint32_t i = 0; i < np; i++)
        found |= !strcmp(prof[i].label, "blk.2.down:matvec");
    CHECK(!vkmm_gpu_info(gpu)->timestamps || found, "no dispatch labelled blk.2.down:matvec");

    /* a shape error while building is reported at planning, naming the node */
    vkmm_graph bad;
    vkmm_graph_init(&bad, ops);
    vkmm_tid bx2 = vkmm_graph_tensor(&bad, VKMM_F32, K + 1, 2, 1, "wrong");
    CHECK(vkmm_g_matmul(&bad, &wt1[0], bx2, 0, "up") == 0, "mismatched matmul built");
    vkmm_status s = vkmm_graph_plan(&bad, &err);
    CHECK(s == VKMM_ERR_INTERNAL && strstr(err.msg, "up"), "plan gave %d: %s", s, err.msg);
    vkmm_graph_free(&bad);

    vkmm_cmd_destroy(cmd);
    vkmm_buffer_destroy(arena);
    vkmm_graph_free(&g);
    for (int l = 0; l < LAYERS; l++) {
        vkmm_buffer_destroy(bw1[l]);
        vkmm_buffer_destroy(bw2[l]);
        free(w1[l]);
        free(w2[l]);
    }
    vkmm_buffer_destroy(bx);
    vkmm_buffer_destroy(by);
    free(tmp); free(x); free(ref); free(out); free(h); free(y);
    vkmm_ops_destroy(ops);
    test_gpu_close(gpu);
    return test_finish("graph");
}
