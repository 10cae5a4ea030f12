/* tests/loader/test_dtype.c — the tensor type table, the worked dequantization examples of gguf.md §7 (exact),
 * and quantize -> dequantize error bounds for every type vkmm reads. */
#include <stdlib.h>
#include <string.h>

#include "f16.h"
#include "harness.h"
#include "dtype_table.h"

static void table(void)
{
    CHECK(vkmm_dtype_get(4) == NULL && vkmm_dtype_get(5) == NULL && vkmm_dtype_get(31) == NULL, "removed ids known");
    CHECK(vkmm_dtype_get(999) == NULL, "id 999 known");
    const vkmm_dtype_info *q = vkmm_dtype_get(VKMM_Q4_K);
    CHECK(q && q->block == 256 && q->block_bytes == 144 && !strcmp(q->name, "Q4_K"), "Q4_K entry wrong");
    CHECK(vkmm_dtype_from_name("q6_k") == VKMM_Q6_K, "lookup by name");
    CHECK(vkmm_dtype_from_name("Q9_Z") == -1, "unknown name found");
    CHECK(vkmm_dtype_row_bytes(VKMM_Q8_0, 4096) == 128 * 34, "Q8_0 row bytes");
    CHECK(vkmm_dtype_row_bytes(VKMM_Q8_0, 33) == 0, "ragged row accepted");
}

static void worked_q4_0(void)
{
    uint8_t b[18] = {0x00, 0x38};
    for (int j = 0; j < 16; j++)
        b[2 + j] = (uint8_t)(j | (15 - j) << 4);
    float y[32];
    CHECK(vkmm_dequantize(VKMM_Q4_0, b, y, 32), "Q4_0 dequantize failed");
    CHECK(y[0] == -4.0f && y[1] == -3.5f && y[15] == 3.5f, "Q4_0 low nibbles: %g %g %g", y[0], y[1], y[15]);
    CHECK(y[16] == 3.5f && y[17] == 3.0f && y[31] == -4.0f, "Q4_0 high nibbles: %g %g %g", y[16], y[17], y[31]);
}

static void worked_q4_k(void)
{
    uint8_t b[144] = {0x00, 0x34, 0x00, 0x30, 0x81, 0x82, 0x83, 0xc4, 0x40, 0x41, 0x82, 0xc3, 0x01, 0x12, 0x83, 0xef};
    b[16 + 0] = 0xF0;
    b[16 + 1] = 0xE1;
    b[16 + 5] = 0xA5;
    b[16 + 32] = 0x00;
    float y[256];
    CHECK(vkmm_dequantize(VKMM_Q4_K, b, y, 256), "Q4_K dequantize failed");
    CHECK(y[0] == 0.0f, "e=0: %g", y[0]);
    CHECK(y[5] == 1.25f, "e=5: %g", y[5]);
    CHECK(y[32] == 7.375f, "e=32: %g", y[32]);
    CHECK(y[33] == 6.875f, "e=33: %g", y[33]);
    CHECK(y[64] == -0.25f, "e=64: %g", y[64]);
}

/* NMSE bound per type on N(0,1)-like data (sum of uniforms) with a few outliers. */
static void round_trips(void)
{
    static const struct { int type; double bound; } cases[] = {
        {VKMM_F32, 0}, {VKMM_F16, 1e-6}, {VKMM_BF16, 1e-4}, {VKMM_Q8_0, 1e-4}, {VKMM_Q6_K, 1e-3},
        {VKMM_Q5_0, 3e-3}, {VKMM_Q5_1, 3e-3}, {VKMM_Q5_K, 3e-3}, {VKMM_Q4_0, 1.2e-2}, {VKMM_Q4_1, 1.2e-2},
        {VKMM_Q4_K, 1.2e-2}, {VKMM_IQ4_NL, 1.2e-2}, {VKMM_IQ4_XS, 1.2e-2}, {VKMM_Q3_K, 6e-2}, {VKMM_Q2_K, 0.2},
    };
    enum { N = 256 * 64 };
    test_rng rng = test_rng_seed(3);
    float *x = malloc(N * 4), *y = malloc(N * 4);
    uint8_t *q = malloc(N * 4);
    for (int i = 0; i < N; i++)
        x[i] = test_rand_uniform(&rng, -1, 1) + test_rand_uniform(&rng, -1, 1) + test_rand_uniform(&rng, -1, 1);
    x[100] = 9.0f; /* outliers stress the scale choice */
    x[5000] = -7.5f;
    for (size_t c = 0; c < sizeof cases / sizeof *cases; c++) {
        int t = cases[c].type;
        memset(y, 0xff, N * 4);
        CHECK(vkmm_quantize(t, x, q, N), "%s quantize failed", vkmm_dtype_get(t)->name);
        CHECK(vkmm_dequantize(t, q, y, N), "%s dequantize failed", vkmm_dtype_get(t)->name);
        double e = test_nmse(y, x, N);
        CHECK(e <= cases[c].bound, "%s round trip nmse %g > %g", vkmm_dtype_get(t)->name, e, cases[c].bound);
        printf("%-7s nmse %.3g (bound %.3g)\n", vkmm_dtype_get(t)->name, e, cases[c].bound);
    }
    /* all-zero input must give zeros, not NaN */
    memset(x, 0, 256 * 4);
    for (size_t c = 0; c < sizeof cases / sizeof *cases; c++) {
        int t = cases[c].type;
        vkmm_quantize(t, x, q, 256);
        vkmm_dequantize(t, q, y, 256);
        CHECK(test_max_abs_diff(y, x, 256) == 0, "%s zeros do not round trip", vkmm_dtype_get(t)->name);
    }
    CHECK(!vkmm_quantize(VKMM_Q4_0, x, q, 33), "ragged quantize accepted");
    CHECK(!vkmm_dequantize(VKMM_IQ2_XXS, q, y, 256), "unsupported type dequantized");
    free(x);
    free(y);
    free(q);
}

int main(void)
{
    table();
    worked_q4_0();
    worked_q4_k();
    round_trips();
    return test_finish("dtype");
}
