/* loader/stb_image_impl.c — compiles stb_image with only its PNG, JPEG and BMP decoders (the GIF, PSD, PIC,
 * TGA and HDR paths have a history of CVEs and are never built), no stdio, no float/HDR output, and an
 * allocator that refuses single allocations over VKMM_STB_MAX_ALLOC. */
#include <stdint.h>
#include <stdlib.h>

#include "image_stb.h"

static void *stb_malloc_capped(size_t n)
{
    return n > VKMM_STB_MAX_ALLOC ? NULL : malloc(n);
}

static void *stb_realloc_capped(void *p, size_t n)
{
    return n > VKMM_STB_MAX_ALLOC ? NULL : realloc(p, n);
}

#define STBI_ONLY_PNG
#define STBI_ONLY_JPEG
#define STBI_ONLY_BMP
#define STBI_NO_STDIO
#define STBI_NO_LINEAR
#define STBI_NO_HDR
#define STBI_NO_GIF
#define STBI_NO_PSD
#define STBI_NO_PIC
#define STBI_NO_TGA
#define STBI_NO_PNM
#define STBI_MAX_DIMENSIONS (1 << 20)
#define STBI_MALLOC(n) stb_malloc_capped(n)
#define STBI_REALLOC(p, n) stb_realloc_capped(p, n)
#define STBI_FREE(p) free(p)
#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define VKMM_STB_KEEP_ASSERTS
#endif
#endif
#if defined(__SANITIZE_ADDRESS__)
#define VKMM_STB_KEEP_ASSERTS
#endif
#ifndef VKMM_STB_KEEP_ASSERTS
/* A failed assert must not abort the process on bad input. Sanitizer (fuzz) builds keep the asserts to learn
 * whether any input can reach one; the checks in loader/image_check*.c run before stb sees a byte. */
#define STBI_ASSERT(x) ((void)0)
#endif
#define STB_IMAGE_STATIC
#define STB_IMAGE_IMPLEMENTATION

/* stb declares thread-local setters it never defines in this configuration; gcc reports that at the end of
 * the file, after any pop, so this one stays off for the whole (small) file. */
#pragma GCC diagnostic ignored "-Wunused-function"
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-parameter"
#pragma GCC diagnostic ignored "-Wunused-but-set-variable"
#pragma GCC diagnostic ignored "-Wshadow"
#pragma GCC diagnostic ignored "-Wsign-compare"
#pragma GCC diagnostic ignored "-Wimplicit-fallthrough"
#pragma GCC diagnostic ignored "-Wmissing-prototypes"
#pragma GCC diagnostic ignored "-Wstrict-prototypes"
#pragma GCC diagnostic ignored "-Wtype-limits"
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
#pragma GCC diagnostic ignored "-Wdouble-promotion"
#include <stb/stb_image.h>
#pragma GCC diagnostic pop

int vkmm_stb_info(const uint8_t *data, size_t len, char format, int *w, int *h, int *channels)
{
    if (len > INT32_MAX)
        return 0;
    /* stbi_info_from_memory would try every decoder in turn and leave the last one's complaint ("unknown
     * image type"); asking the one decoder the magic bytes chose keeps its real reason. */
    stbi__context s;
    stbi__start_mem(&s, data, (int)len);
    switch (format) {
    case 'p': return stbi__png_info(&s, w, h, channels);
    case 'j': return stbi__jpeg_info(&s, w, h, channels);
    case 'b': return stbi__bmp_info(&s, w, h, channels);
    }
    return 0;
}

uint8_t *vkmm_stb_decode(const uint8_t *data, size_t len, int *w, int *h, int *channels)
{
    if (len > INT32_MAX)
        return NULL;
    return stbi_load_from_memory(data, (int)len, w, h, channels, 0);
}

void vkmm_stb_free(void *p)
{
    stbi_image_free(p);
}

const char *vkmm_stb_failure(void)
{
    const char *r = stbi_failure_reason();
    return r ? r : "unknown error";
}
