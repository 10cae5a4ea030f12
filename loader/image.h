/* loader/image.h — images in: PNG, JPEG and BMP decoded (with caps checked before decoding) to 8-bit RGB,
 * and preprocessed to the float CHW tensor a model's Hugging Face processor would produce. */
#ifndef VKMM_LOADER_IMAGE_H
#define VKMM_LOADER_IMAGE_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "resample.h"

/* Caps and conversion settings for loading; start from vkmm_image_options_default(). */
typedef struct vkmm_image_options {
    uint32_t max_side;          /* largest width or height accepted (default 16384, at most 1 << 20) */
    uint64_t max_decoded_bytes; /* largest width × height × 4 accepted (default 256 MiB) */
    uint64_t max_file_bytes;    /* largest encoded file accepted (default 64 MiB) */
    uint8_t background[3];      /* alpha is composited onto this RGB colour (default white, as HF does) */
} vkmm_image_options;

typedef struct vkmm_image {
    uint8_t *rgb;          /* width × height × 3 bytes, rows top to bottom */
    uint32_t width, height;
    const char *format;    /* "png", "jpeg" or "bmp" (static string) */
    int channels;          /* channels in the file: 1 grey, 2 grey+alpha, 3 RGB, 4 RGBA */
} vkmm_image;

vkmm_image_options vkmm_image_options_default(void);

/* Decodes a file. opt may be NULL (defaults). Errors name the file and the numbers involved. */
vkmm_status vkmm_image_load(const char *path, const vkmm_image_options *opt, vkmm_image *out, vkmm_error *err);
/* Decodes bytes in memory; name is what errors call them. */
vkmm_status vkmm_image_load_memory(const void *data, size_t len, const char *name, const vkmm_image_options *opt,
                                   vkmm_image *out, vkmm_error *err);
/* Takes decoded 8-bit pixels (channels 1 grey, 2 grey+alpha, 3 RGB, 4 RGBA; rows top to bottom, no padding)
 * through the same caps and alpha compositing as files; name is what errors call them. */
vkmm_status vkmm_image_from_pixels(const uint8_t *pixels, uint32_t width, uint32_t height, uint32_t channels,
                                   const char *name, const vkmm_image_options *opt, vkmm_image *out, vkmm_error *err);
void vkmm_image_free(vkmm_image *img);

/* Reads a whole file of at most cap bytes, reading no more than cap + 1 (an oversized or endless file is
 * refused without reading it all); what names the kind of file in errors. Free *buf with free(). */
vkmm_status vkmm_read_file_capped(const char *path, uint64_t cap, const char *what, uint8_t **buf, size_t *len,
                                  vkmm_error *err);

/* Names a format by its magic bytes ("png", "gif", "tiff", ...) or returns NULL when nothing matches. */
const char *vkmm_image_sniff(const uint8_t *data, size_t len);

/* ---- preprocessing ---- */

typedef enum vkmm_image_prep_mode {
    /* Gemma 3 / SigLIP (HF): resize to size × size ignoring aspect ratio. */
    VKMM_PREP_SQUARE = 0,
    /* Pixtral (HF): if the longer side exceeds `size`, scale both sides by 1/ratio (floored), then round each
     * side up to a multiple of `patch`. */
    VKMM_PREP_LONGEST_EDGE,
    /* Pixtral as llama.cpp does it: sides multiples of `patch` (28 = patch 14 × merge 2) rounded to nearest,
     * area kept within [min_tokens, max_tokens] × patch², the image resized keeping its aspect ratio inside
     * that canvas and centred on black. Differs from HF in size, filter and padding. */
    VKMM_PREP_LLAMA_DYN,
    /* Gemma 4 (HF Gemma4ImageProcessor): keep the aspect ratio and scale the area to max_tokens × patch² (patch =
     * the side of one output token: 16-pixel patches pooled 3 × 3, 48), each side floored to a multiple of
     * `patch`; a side that floors to 0 becomes one patch and the other floor(ratio) patches, at most max_tokens. */
    VKMM_PREP_TOKEN_BUDGET,
} vkmm_image_prep_mode;

typedef struct vkmm_image_prep {
    vkmm_image_prep_mode mode;
    vkmm_resample_filter filter;
    uint32_t size;        /* SQUARE: the side; LONGEST_EDGE: the longest edge (mmproj clip.vision.image_size) */
    uint32_t patch;       /* LONGEST_EDGE, LLAMA_DYN and TOKEN_BUDGET: sides become multiples of this */
    uint32_t min_tokens;  /* LLAMA_DYN: area bounds in units of patch²; TOKEN_BUDGET: max_tokens only */
    uint32_t max_tokens;
    float mean[3], std[3]; /* mmproj clip.vision.image_mean / image_std */
} vkmm_image_prep;

/* Float CHW tensor: data[(c × h + y) × w + x]. */
typedef struct vkmm_image_tensor {
    uint32_t c, h, w;
    float *data;
} vkmm_image_tensor;

/* Gemma 3 (SigLIP): SQUARE, PIL bilinear, mean = std = 0.5. */
vkmm_image_prep vkmm_image_prep_gemma3(uint32_t size);
/* Pixtral as HF does it: LONGEST_EDGE, PIL bicubic, patch 14, CLIP mean/std. */
vkmm_image_prep vkmm_image_prep_pixtral(uint32_t longest_edge);
/* Pixtral as llama.cpp does it: LLAMA_DYN, patch 28, tokens in [8, max_tokens], 2-tap bilinear, CLIP mean/std. */
vkmm_image_prep vkmm_image_prep_pixtral_llama(uint32_t max_tokens);

/* Gemma 4 as HF does it: TOKEN_BUDGET, PIL bicubic, patch 48 (16 × pooling 3), mean = std = 0.5: the processor's
 * [0, 1] pixels then the tower's own 2x − 1, which (x − 0.5)/0.5 computes with the same single rounding as HF's
 * 2 · (x − 0.5). */
vkmm_image_prep vkmm_image_prep_gemma4(uint32_t max_tokens);

/* The output width and height prep gives for a w × h image. */
vkmm_status vkmm_image_prep_size(const vkmm_image_prep *prep, uint32_t w, uint32_t h, uint32_t *out_w,
                                 uint32_t *out_h, vkmm_error *err);
/* The resized 8-bit RGB image (the stage before rescaling), as the processor's PIL resize produces it. */
vkmm_status vkmm_image_prep_resize(const vkmm_image *img, const vkmm_image_prep *prep, vkmm_image *out,
                                   vkmm_error *err);
/* Resize, ×1/255, (x − mean)/std, channel-planar. */
vkmm_status vkmm_image_preprocess(const vkmm_image *img, const vkmm_image_prep *prep, vkmm_image_tensor *out,
                                  vkmm_error *err);
void vkmm_image_tensor_free(vkmm_image_tensor *t);

#endif
