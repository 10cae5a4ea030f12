/* loader/image_check.h — what an image file is (by its magic bytes) and whether its container structure is
 * whole (PNG chunks and CRCs, JPEG markers through end-of-image, BMP header and pixel data present), checked
 * before stb_image sees a byte: stb fills missing data with zeros instead of failing. */
#ifndef VKMM_LOADER_IMAGE_CHECK_H
#define VKMM_LOADER_IMAGE_CHECK_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"

typedef struct vkmm_image_kind {
    const char *name;    /* "png", "gif", ... */
    const char *display; /* "PNG", "GIF", ... for messages */
    int supported;       /* PNG, JPEG, BMP */
} vkmm_image_kind;

/* NULL when no known signature matches. */
const vkmm_image_kind *vkmm_image_kind_sniff(const uint8_t *data, size_t len);

/* Each returns VKMM_ERR_FORMAT with "name: ..." naming the byte offset of the problem, and on success the
 * dimensions the headers give (JPEG: the first frame header; a height of 0 means "given later"). */
vkmm_status vkmm_image_check_png(const uint8_t *d, size_t n, const char *name, uint32_t *w, uint32_t *h,
                                 vkmm_error *err);
vkmm_status vkmm_image_check_jpeg(const uint8_t *d, size_t n, const char *name, uint32_t *w, uint32_t *h,
                                  vkmm_error *err);
vkmm_status vkmm_image_check_bmp(const uint8_t *d, size_t n, const char *name, uint32_t *w, uint32_t *h,
                                 vkmm_error *err);

/* True for a 32-bit uncompressed BMP, whose fourth byte Pillow (and so HF) ignores. */
int vkmm_image_bmp_alpha_is_padding(const uint8_t *d, size_t n);

uint32_t vkmm_crc32(const uint8_t *p, size_t n);

#endif
