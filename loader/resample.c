/* loader/resample.c — Pillow-compatible resizing of 8-bit RGB. Pillow resamples each axis with a convolution
 * whose filter widens by the downscale factor (so shrinking averages instead of aliasing), rounds the
 * weights to fixed point with 22 fractional bits, and stores uint8 between the horizontal and the vertical
 * pass; doing the same steps in the same order gives the same bytes, which is what HF's processors see. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "resample.h"

#define FIXED_BITS 22 /* 32 − 8 bits of pixel − 2 bits of headroom, as Pillow */

const char *vkmm_resample_filter_name(vkmm_resample_filter f)
{
    switch (f) {
    case VKMM_FILTER_PIL_BILINEAR: return "bilinear (PIL)";
    case VKMM_FILTER_PIL_BICUBIC: return "bicubic (PIL)";
    case VKMM_FILTER_TWO_TAP_BILINEAR: return "bilinear (2-tap)";
    }
    return "unknown";
}

static double tri(double x)
{
    x = fabs(x);
    return x < 1.0 ? 1.0 - x : 0.0;
}

static double cubic(double x)
{
    const double a = -0.5;
    x = fabs(x);
    if (x < 1.0)
        return ((a + 2.0) * x - (a + 3.0)) * x * x + 1.0;
    if (x < 2.0)
        return (((x - 5.0) * x + 8.0) * x - 4.0) * a;
    return 0.0;
}

/* Per output position: first input index, tap count, and ksize fixed-point weights. */
typedef struct taps {
    uint32_t ksize;
    int32_t *first, *count, *w;
} taps;

static void taps_free(taps *t)
{
    free(t->first);
    free(t->count);
    free(t->w);
}

static vkmm_status taps_make(taps *t, uint32_t in, uint32_t out, vkmm_resample_filter f, vkmm_error *err)
{
    double (*fn)(double) = f == VKMM_FILTER_PIL_BICUBIC ? cubic : tri;
    double support = f == VKMM_FILTER_PIL_BICUBIC ? 2.0 : 1.0;
    double scale = (double)in / out, fscale = scale < 1.0 ? 1.0 : scale;
    support *= fscale;
    double ksz = ceil(support) * 2.0 + 1.0;
    memset(t, 0, sizeof *t);
    if (ksz > (double)(INT32_MAX / 8) || ksz * out > (double)(SIZE_MAX / sizeof(double) / 2))
        return vkmm_fail(err, VKMM_ERR_INVALID_ARG, "resize %u -> %u: filter too wide", in, out);
    t->ksize = (uint32_t)ksz;
    size_t n = (size_t)t->ksize * out;
    double *pre = malloc(t->ksize * sizeof *pre);
    t->first = malloc(out * sizeof *t->first);
    t->count = malloc(out * sizeof *t->count);
    t->w = calloc(n, sizeof *t->w);
    if (!pre || !t->first || !t->count || !t->w) {
        free(pre);
        taps_free(t);
        return vkmm_fail(err, VKMM_ERR_HOST_MEMORY, "resize %u -> %u: out of host memory", in, out);
    }
    double inv = 1.0 / fscale;
    for (uint32_t o = 0; o < out; o++) {
        double center = (o + 0.5) * scale;
        /* truncation toward zero, then clamping, exactly as Pillow bounds the window */
        int lo = (int)(center - support + 0.5), hi = (int)(center + support + 0.5);
        if (lo < 0)
            lo = 0;
        if (hi > (int)in)
            hi = (int)in;
        int cnt = hi - lo;
        if (cnt > (int)t->ksize)
            cnt = (int)t->ksize; /* cannot happen: the window is at most 2·ceil(support)+1 wide */
        double sum = 0.0;
        for (int i = 0; i < cnt; i++) {
            pre[i] = fn(((double)(i + lo) - center + 0.5) * inv);
            sum += pre[i];
        }
        int32_t *w = t->w + (size_t)o * t->ksize;
        for (int i = 0; i < cnt; i++) {
            double v = sum != 0.0 ? pre[i] / sum : pre[i];
            v *= (double)(1 << FIXED_BITS);
            w[i] = (int32_t)(v < 0 ? v - 0.5 : v + 0.5);
        }
        t->first[o] = lo;
        t->count[o] = cnt < 0 ? 0 : cnt;
    }
    free(pre);
    return VKMM_OK;
}

static uint8_t clip8(int64_t acc)
{
    if (acc < 0)
        return 0; /* floor of a negative sum is negative: clamps to 0 like Pillow's table */
    acc >>= FIXED_BITS;
    return acc > 255 ? 255 : (uint8_t)acc;
}

/* One axis. The image is viewed as `lines` lines of `len` pixels; `step` is the distance in pixels between
 * neighbours along the axis being resampled and `stride` between lines (in and out use their own). */
static void pass(const uint8_t *in, uint8_t *out, const taps *t, uint32_t out_len, uint32_t lines,
                 size_t in_step, size_t in_stride, size_t out_step, size_t out_stride)
{
    for (uint32_t l = 0; l < lines; l++) {
        const uint8_t *src = in + l * in_stride * 3;
        uint8_t *dst = out + l * out_stride * 3;
        for (uint32_t o = 0; o < out_len; o++) {
            const int32_t *w = t->w + (size_t)o * t->ksize;
            int64_t acc[3] = {1 << (FIXED_BITS - 1), 1 << (FIXED_BITS - 1), 1 << (FIXED_BITS - 1)};
            const uint8_t *p = src + (size_t)t->first[o] * in_step * 3;
            for (int32_t i = 0; i < t->count[o]; i++, p += in_step * 3)
                for (int c = 0; c < 3; c++)
                    acc[c] += (int64_t)p[c] * w[i];
            uint8_t *q = dst + (size_t)o * out_step * 3;
            for (int c = 0; c < 3; c++)
                q[c] = clip8(acc[c]);
        }
    }
}

static vkmm_status resample_pil(const uint8_t *src, uint32_t sw, uint32_t sh, uint8_t *dst, uint32_t dw,
                                uint32_t dh, vkmm_resample_filter f, vkmm_error *err)
{
    if (sw == dw && sh == dh) {
        memcpy(dst, src, (size_t)sw * sh * 3);
        return VKMM_OK;
    }
    taps th = {0}, tv = {0};
    vkmm_status s = VKMM_OK;
    uint8_t *tmp = NULL;
    if (sw != dw && (s = taps_make(&th, sw, dw, f, err)))
        return s;
    if (sh != dh && (s = taps_make(&tv, sh, dh, f, err))) {
        taps_free(&th);
        return s;
    }
    if (sh == dh) { /* horizontal only */
        pass(src, dst, &th, dw, sh, 1, sw, 1, dw);
        goto done;
    }
    if (sw == dw) { /* vertical only */
        pass(src, dst, &tv, dh, sw, sw, 1, dw, 1);
        goto done;
    }
    /* Horizontal first, only over the rows the vertical pass reads, then vertical: Pillow's order, which
     * matters because the intermediate is rounded to uint8. */
    uint32_t y0 = (uint32_t)tv.first[0], y1 = (uint32_t)(tv.first[dh - 1] + tv.count[dh - 1]);
    if (y1 < y0)
        y1 = y0;
    tmp = malloc((size_t)dw * (y1 - y0) * 3 + 3);
    if (!tmp) {
        s = vkmm_fail(err, VKMM_ERR_HOST_MEMORY, "resize: out of host memory");
        goto done;
    }
    pass(src + (size_t)y0 * sw * 3, tmp, &th, dw, y1 - y0, 1, sw, 1, dw);
    for (uint32_t o = 0; o < dh; o++)
        tv.first[o] -= (int32_t)y0;
    pass(tmp, dst, &tv, dh, dw, dw, 1, dw, 1);
done:
    free(tmp);
    taps_free(&th);
    taps_free(&tv);
    return s;
}

/* llama.cpp's resize: corner-aligned sample positions, two taps per axis, rounded to nearest. */
static void resample_two_tap(const uint8_t *src, uint32_t sw, uint32_t sh, uint8_t *dst, uint32_t dw, uint32_t dh)
{
    double fx = dw > 1 ? (double)(sw - 1) / (dw - 1) : 0.0, fy = dh > 1 ? (double)(sh - 1) / (dh - 1) : 0.0;
    for (uint32_t y = 0; y < dh; y++) {
        double sy = y * fy;
        uint32_t y0 = (uint32_t)sy, y1 = y0 + 1 < sh ? y0 + 1 : sh - 1;
        double ty = sy - y0;
        for (uint32_t x = 0; x < dw; x++) {
            double sx = x * fx;
            uint32_t x0 = (uint32_t)sx, x1 = x0 + 1 < sw ? x0 + 1 : sw - 1;
            double tx = sx - x0;
            for (int c = 0; c < 3; c++) {
                double a = src[((size_t)y0 * sw + x0) * 3 + c], b = src[((size_t)y0 * sw + x1) * 3 + c];
                double d = src[((size_t)y1 * sw + x0) * 3 + c], e = src[((size_t)y1 * sw + x1) * 3 + c];
                double top = a + (b - a) * tx, bot = d + (e - d) * tx, v = top + (bot - top) * ty;
                dst[((size_t)y * dw + x) * 3 + c] = (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v + 0.5);
            }
        }
    }
}

vkmm_status vkmm_resample_rgb8(const uint8_t *src, uint32_t sw, uint32_t sh, uint8_t *dst, uint32_t dw,
                               uint32_t dh, vkmm_resample_filter filter, vkmm_error *err)
{
    if (!sw || !sh || !dw || !dh || sw > INT32_MAX / 4 || sh > INT32_MAX / 4 || dw > INT32_MAX / 4 ||
        dh > INT32_MAX / 4)
        return vkmm_fail(err, VKMM_ERR_INVALID_ARG, "resize %ux%u -> %ux%u: bad size", sw, sh, dw, dh);
    switch (filter) {
    case VKMM_FILTER_PIL_BILINEAR:
    case VKMM_FILTER_PIL_BICUBIC: return resample_pil(src, sw, sh, dst, dw, dh, filter, err);
    case VKMM_FILTER_TWO_TAP_BILINEAR: resample_two_tap(src, sw, sh, dst, dw, dh); return VKMM_OK;
    }
    return vkmm_fail(err, VKMM_ERR_INVALID_ARG, "resize: unknown filter %d", (int)filter);
}
