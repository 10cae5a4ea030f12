/* tests/ref/ref_rope.c — RoPE reference written from the formulas in gemma3.md §3, mistral3.md §2.4, §4.4 and
 * gemma4.md §4 (the vision tower's 2-D RoPE). */
#include <math.h>

#include "ref_rope.h"

static double angle(size_t i, size_t d, double base, double scale, int32_t p, uint32_t grid_w)
{
    if (!grid_w)
        return p * scale * pow(base, -2.0 * (double)i / (double)d);
    size_t q = d / 4; /* pairs per axis */
    if (i < q)
        return (p / (int32_t)grid_w) * scale * pow(base, -4.0 * (double)i / (double)d);
    return (p % (int32_t)grid_w) * scale * pow(base, -(4.0 * (double)(i - q) + 2.0) / (double)d);
}

/* Gemma 4's vision tower (HF apply_multidimensional_rope): the head split in halves, each rotated NEOX-style over
 * d/2 dims with base^(-2j/(d/2)): the first half by column, the second by row. */
static void rope_2d_halves(float *v, size_t d, double base, double scale, int32_t p, uint32_t grid_w)
{
    size_t h = d / 2, q = d / 4;
    for (size_t half = 0; half < 2; half++) {
        int32_t axis = half == 0 ? p % (int32_t)grid_w : p / (int32_t)grid_w;
        for (size_t j = 0; j < q; j++) {
            double th = axis * scale * pow(base, -2.0 * (double)j / (double)h);
            size_t ia = half * h + j, ib = ia + q;
            double a = v[ia], b = v[ib];
            v[ia] = (float)(a * cos(th) - b * sin(th));
            v[ib] = (float)(a * sin(th) + b * cos(th));
        }
    }
}

void ref_rope(float *x, size_t tokens, size_t heads, size_t d, int neox, double base, double scale,
              const int32_t *pos, uint32_t grid_w, const float *factors)
{
    if (neox && grid_w) {
        for (size_t t = 0; t < tokens; t++)
            for (size_t h = 0; h < heads; h++)
                rope_2d_halves(x + (t * heads + h) * d, d, base, scale, pos[t], grid_w);
        return;
    }
    for (size_t t = 0; t < tokens; t++)
        for (size_t h = 0; h < heads; h++) {
            float *v = x + (t * heads + h) * d;
            for (size_t i = 0; i < d / 2; i++) {
                double th = angle(i, d, base, scale, pos[t], grid_w) / (factors ? factors[i] : 1.0);
                size_t ia = neox ? i : 2 * i, ib = neox ? i + d / 2 : 2 * i + 1;
                double a = v[ia], b = v[ib];
                v[ia] = (float)(a * cos(th) - b * sin(th));
                v[ib] = (float)(a * sin(th) + b * cos(th));
            }
        }
}
