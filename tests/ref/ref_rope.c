/* tests/ref/ref_rope.c — RoPE reference written from the formulas in gemma3.md §3 and mistral3.md §2.4, §4.4. */
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

void ref_rope(float *x, size_t tokens, size_t heads, size_t d, int neox, double base, double scale,
              const int32_t *pos, uint32_t grid_w, const float *factors)
{
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
