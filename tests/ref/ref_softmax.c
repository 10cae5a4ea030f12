/* tests/ref/ref_softmax.c — references for the softmax family (float64 sums; a full sort for top-k). */
#include <math.h>
#include <stdlib.h>

#include "ref_softmax.h"

void ref_softmax(const float *x, float *out, size_t rows, size_t cols, float scale)
{
    for (size_t r = 0; r < rows; r++) {
        const float *xr = x + r * cols;
        double m = -INFINITY, s = 0;
        for (size_t i = 0; i < cols; i++)
            m = fmax(m, (double)scale * xr[i]);
        for (size_t i = 0; i < cols; i++)
            s += exp((double)scale * xr[i] - m);
        for (size_t i = 0; i < cols; i++)
            out[r * cols + i] = (float)(exp((double)scale * xr[i] - m) / s);
    }
}

typedef struct entry {
    float v;
    uint32_t id;
} entry;

static int rank(const void *pa, const void *pb)
{
    const entry *a = pa, *b = pb;
    if (a->v != b->v)
        return a->v > b->v ? -1 : 1;
    return a->id < b->id ? -1 : a->id > b->id;
}

void ref_topk(const float *x, size_t n, size_t k, uint32_t *ids, float *vals)
{
    entry *e = malloc(n * sizeof *e);
    for (size_t i = 0; i < n; i++)
        e[i] = (entry){isnan(x[i]) ? -INFINITY : x[i], (uint32_t)i};
    qsort(e, n, sizeof *e, rank);
    for (size_t i = 0; i < k; i++) {
        ids[i] = e[i].id;
        vals[i] = e[i].v;
    }
    free(e);
}

double ref_logsumexp(const float *x, size_t n, float scale)
{
    double m = -INFINITY, s = 0;
    for (size_t i = 0; i < n; i++)
        if (!isnan(x[i]))
            m = fmax(m, (double)scale * x[i]);
    if (isinf(m))
        return m;
    for (size_t i = 0; i < n; i++)
        if (!isnan(x[i]))
            s += exp((double)scale * x[i] - m);
    return m + log(s);
}
