/* tests/engine/test_sampler.c — the sampling chain: greedy, penalties, top-k/top-p/min-p truncation and the
 * seeded draw's frequencies against the exact distribution. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "sampler.h"

static vkmm_sampler make(float temp, int top_k, float top_p, float min_p, float pen, uint64_t seed)
{
    vkmm_sampler s;
    vkmm_error err;
    vkmm_sampling p = {.temperature = temp, .top_k = top_k, .top_p = top_p, .min_p = min_p, .repeat_penalty = pen,
                       .repeat_last_n = 8, .seed = seed};
    if (vkmm_sampler_init(&s, &p, &err))
        fprintf(stderr, "init: %s\n", err.msg);
    return s;
}

static void fill(vkmm_candidate *c, const float *logits, uint32_t n)
{
    for (uint32_t i = 0; i < n; i++)
        c[i] = (vkmm_candidate){(int32_t)(100 + i), logits[i]};
}

int main(void)
{
    static const float lg[6] = {1.0f, 3.0f, 2.5f, -1.0f, 3.0f, 0.0f};
    vkmm_candidate c[6];

    vkmm_sampler g = make(0, 0, 1, 0, 1, 1);
    fill(c, lg, 6);
    CHECK(vkmm_sampler_pick(&g, c, 6) == 101, "greedy tie should take the lower id");
    vkmm_sampler_accept(&g, 101);
    vkmm_sampler_free(&g);

    /* penalty 4 divides 101 and 104's logit 3 by 4: 102 (2.5) wins greedily */
    vkmm_sampler pen = make(0, 0, 1, 0, 4.0f, 1);
    vkmm_sampler_accept(&pen, 101);
    vkmm_sampler_accept(&pen, 104);
    fill(c, lg, 6);
    CHECK(vkmm_sampler_pick(&pen, c, 6) == 102, "repetition penalty not applied");
    CHECK(vkmm_sampler_needs_all(&pen), "a penalty needs all logits");
    vkmm_sampler_free(&pen);

    /* top-k 2 keeps only ids 101 and 104 (both 3.0): frequencies near 1/2 each */
    vkmm_sampler tk = make(1.0f, 2, 1, 0, 1, 7);
    int hits[6] = {0};
    for (int i = 0; i < 20000; i++) {
        fill(c, lg, 6);
        int id = vkmm_sampler_pick(&tk, c, 6);
        hits[id - 100]++;
    }
    CHECK(hits[0] + hits[2] + hits[3] + hits[5] == 0, "top-k let others through");
    CHECK(abs(hits[1] - 10000) < 500, "top-k tie frequency %d of 20000", hits[1]);
    vkmm_sampler_free(&tk);

    /* full distribution at temperature 2: compare frequencies with softmax(logits / 2) */
    vkmm_sampler t2 = make(2.0f, 0, 1, 0, 1, 99);
    int n2[6] = {0};
    for (int i = 0; i < 60000; i++) {
        fill(c, lg, 6);
        n2[vkmm_sampler_pick(&t2, c, 6) - 100]++;
    }
    double z = 0, p[6];
    for (int i = 0; i < 6; i++)
        z += p[i] = exp(lg[i] / 2.0);
    for (int i = 0; i < 6; i++) {
        double f = n2[i] / 60000.0, e = p[i] / z;
        CHECK(fabs(f - e) < 0.01, "id %d frequency %.4f, expected %.4f", 100 + i, f, e);
    }
    vkmm_sampler_free(&t2);

    /* min-p 0.5: keeps logits within ln 2 of the best: 3.0, 3.0, 2.5 */
    vkmm_sampler mp = make(1.0f, 0, 1, 0.5f, 1, 3);
    int nm[6] = {0};
    for (int i = 0; i < 5000; i++) {
        fill(c, lg, 6);
        nm[vkmm_sampler_pick(&mp, c, 6) - 100]++;
    }
    CHECK(nm[0] + nm[3] + nm[5] == 0 && nm[2] > 0, "min-p kept the wrong set");
    vkmm_sampler_free(&mp);

    /* top-p 0.5 over {3, 3, 2.5, ...}: the first candidate alone covers < 0.5, two cover > 0.5 */
    vkmm_sampler tp = make(1.0f, 0, 0.5f, 0, 1, 5);
    int np[6] = {0};
    for (int i = 0; i < 5000; i++) {
        fill(c, lg, 6);
        np[vkmm_sampler_pick(&tp, c, 6) - 100]++;
    }
    CHECK(np[1] > 0 && np[4] > 0 && np[0] + np[2] + np[3] + np[5] == 0, "top-p kept the wrong set");
    vkmm_sampler_free(&tp);

    /* the same seed gives the same sequence */
    vkmm_sampler a = make(1.0f, 0, 1, 0, 1, 42), b = make(1.0f, 0, 1, 0, 1, 42);
    for (int i = 0; i < 100; i++) {
        vkmm_candidate ca[6], cb[6];
        fill(ca, lg, 6);
        fill(cb, lg, 6);
        CHECK(vkmm_sampler_pick(&a, ca, 6) == vkmm_sampler_pick(&b, cb, 6), "seeded draws differ at %d", i);
    }
    vkmm_sampler_free(&a);
    vkmm_sampler_free(&b);

    vkmm_sampler bad;
    vkmm_error err;
    vkmm_sampling badp = {.temperature = -1, .top_p = 1, .repeat_penalty = 1};
    CHECK(vkmm_sampler_init(&bad, &badp, &err) == VKMM_ERR_INVALID_ARG, "negative temperature accepted");
    return test_finish("sampler");
}
