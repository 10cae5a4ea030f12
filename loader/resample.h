/* loader/resample.h — resizing 8-bit RGB images the way Pillow's Image.resize does (separable convolution,
 * antialiased when shrinking, fixed-point, uint8 after each pass), plus llama.cpp's plain 2-tap bilinear. */
#ifndef VKMM_LOADER_RESAMPLE_H
#define VKMM_LOADER_RESAMPLE_H

#include <stdint.h>

#include "error.h"

typedef enum vkmm_resample_filter {
    VKMM_FILTER_PIL_BILINEAR = 0, /* PIL Image.BILINEAR: triangle filter, support 1 × downscale factor */
    VKMM_FILTER_PIL_BICUBIC,      /* PIL Image.BICUBIC: Keys cubic with a = -0.5, support 2 × downscale factor */
    VKMM_FILTER_TWO_TAP_BILINEAR, /* 2-tap bilinear at x·(src−1)/(dst−1), no antialias (llama.cpp style) */
} vkmm_resample_filter;

const char *vkmm_resample_filter_name(vkmm_resample_filter f);

/* Resizes src (sw × sh × 3 bytes) into dst (dw × dh × 3 bytes). Fails only on bad sizes or out of memory. */
vkmm_status vkmm_resample_rgb8(const uint8_t *src, uint32_t sw, uint32_t sh, uint8_t *dst, uint32_t dw,
                               uint32_t dh, vkmm_resample_filter filter, vkmm_error *err);

#endif
