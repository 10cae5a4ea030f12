/* tests/engine/e2e_routing.c — the mixture of experts' routing of the end-to-end tests (see e2e_routing.h). */
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "elementwise.h"
#include "matmul.h"
#include "moe.h"
#include "norm.h"

#include "e2e_routing.h"

void e2e_check_routing(const ref_gemma4 *m, const float *router_in, const int32_t *experts, uint32_t n,
                       const char *what)
{
    vkmm_error err;
    vkmm_gpu *gpu = test_gpu_open(NULL);
    vkmm_ops *ops;
    CHECK_OK(vkmm_ops_create(gpu, NULL, &ops, &err), &err, );
    uint32_t H = m->n_embd, E = m->n_expert, K = m->n_used, checked = 0, unclear = 0, differ = 0;
    float *x = malloc(sizeof *x * n * H);
    int32_t *ids = malloc(sizeof *ids * n * K);
    for (uint32_t l = 0; l < m->n_layer; l++) {
        const ref_gemma4_layer *L = &m->layers[l];
        if (!L->router)
            continue;
        for (uint32_t p = 0; p < n; p++)
            memcpy(x + (size_t)p * H, router_in + ((size_t)p * m->n_layer + l) * H, sizeof *x * H);
        vkmm_range X, R, W, S, ES, LG, I, WT;
        vkmm_buffer *b[8] = {
            test_upload(gpu, x, 4ull * n * H, 0, &X), test_upload(gpu, NULL, 4ull * n * H, 0, &R),
            test_upload(gpu, L->router, 4ull * E * H, 0, &W), test_upload(gpu, L->router_scale, 4ull * H, 0, &S),
            test_upload(gpu, L->expert_scale, 4ull * E, 0, &ES), test_upload(gpu, NULL, 4ull * n * E, 0, &LG),
            test_upload(gpu, NULL, 4ull * n * K, 0, &I), test_upload(gpu, NULL, 4ull * n * K, 0, &WT)};
        vkmm_weight w;
        vkmm_cmd *cmd;
        CHECK_OK(vkmm_weight_view(ops, W, VKMM_F32, H, E, &w, &err), &err, );
        CHECK_OK(vkmm_cmd_create(gpu, 0, &cmd, &err), &err, );
        CHECK_OK(vkmm_op_rms_norm(ops, cmd, X, (vkmm_range){0}, R, n, H, m->eps, &err), &err, );
        CHECK_OK(vkmm_op_mul(ops, cmd, R, S, R, n * H, H, &err), &err, );
        CHECK_OK(vkmm_op_scale(ops, cmd, R, R, n * H, 1.0f / sqrtf((float)H), &err), &err, );
        CHECK_OK(vkmm_op_matmul(ops, cmd, &w, R, H, LG, E, n, &err), &err, );
        CHECK_OK(vkmm_op_moe_route(ops, cmd, LG, E, n, E, K, ES, I, WT, &err), &err, );
        CHECK_OK(vkmm_cmd_submit(cmd, &err), &err, );
        vkmm_cmd_destroy(cmd);
        test_download(gpu, I, ids);
        for (uint32_t p = 0; p < n; p++) {
            /* the reference's margin between its k-th choice and the best expert left out */
            const int32_t *want = experts + ((size_t)p * m->n_layer + l) * K;
            if (ref_gemma4_route_margin(m, l, x + (size_t)p * H, want) < 1e-4) {
                unclear++;
                continue;
            }
            checked++;
            bool same = true; /* the same set: the reference lists it ascending, the GPU by weight */
            for (uint32_t j = 0; j < K; j++) {
                bool found = false;
                for (uint32_t i = 0; i < K; i++)
                    found |= ids[p * K + i] == want[j];
                same &= found;
            }
            differ += !same;
        }
        for (int i = 0; i < 8; i++)
            vkmm_buffer_destroy(b[i]);
    }
    printf("%-28s routing: %u choices as the reference's, %u differ, %u within 1e-4 (not compared)\n", what,
           checked - differ, differ, unclear);
    CHECK(checked > 0 && differ == 0, "%s: %u of %u routings differ from the reference's", what, differ, checked);
    free(x), free(ids);
    vkmm_ops_destroy(ops);
    test_gpu_close(gpu);
}
