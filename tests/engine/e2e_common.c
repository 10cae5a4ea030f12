/* tests/engine/e2e_common.c — helpers of the end-to-end tests (see e2e_common.h). */
#include <math.h>
#include <stdlib.h>

#include "e2e_common.h"
#include "harness.h"

bool collect(const vkmm_token_event *ev, void *user)
{
    gen *g = user;
    if (ev->id >= 0 && g->n < 64)
        g->ids[g->n++] = ev->id;
    return true;
}

double compare(const float *gpu, const float *ref, uint32_t rows, uint32_t V, uint32_t n_tokens,
                      const gen *g, uint32_t first_gen_row, const char *what)
{
    double worst = 0;
    for (uint32_t r = 0; r < rows; r++) {
        double e = test_nmse(gpu + (size_t)r * V, ref + (size_t)r * V, n_tokens);
        if (e > worst)
            worst = e;
        if (r + 1 >= first_gen_row && r + 1 - first_gen_row < g->n) {
            const float *x = ref + (size_t)r * V;
            uint32_t b1 = 0, b2 = 1;
            if (x[b2] > x[b1]) b1 = 1, b2 = 0;
            for (uint32_t t = 2; t < n_tokens; t++) {
                if (x[t] > x[b1]) b2 = b1, b1 = t;
                else if (x[t] > x[b2]) b2 = t;
            }
            int32_t got = g->ids[r + 1 - first_gen_row];
            if (x[b1] - x[b2] > 1e-2f * (fabsf(x[b1]) + 1))
                CHECK(got == (int32_t)b1, "%s: step %u picked %d, reference %u (margin %g)", what, r + 1 - first_gen_row,
                      got, b1, x[b1] - x[b2]);
        }
    }
    return worst;
}

uint8_t *picture(uint32_t w, uint32_t h)
{
    uint8_t *p = malloc((size_t)w * h * 3);
    for (uint32_t y = 0; y < h; y++)
        for (uint32_t x = 0; x < w; x++) {
            uint8_t *q = p + ((size_t)y * w + x) * 3;
            bool disc = (x - 60.0) * (x - 60.0) + (y - 40.0) * (y - 40.0) < 400;
            q[0] = disc ? 230 : (uint8_t)(x * 2);
            q[1] = disc ? 40 : (uint8_t)(y * 2);
            q[2] = (uint8_t)((x ^ y) & 0xff);
        }
    return p;
}

