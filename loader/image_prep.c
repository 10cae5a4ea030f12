/* loader/image_prep.c — from decoded RGB to the model's input tensor: the output size rule of each processor
 * (Gemma 3 square, Pixtral longest edge + patch multiple, llama.cpp's Pixtral rule, Gemma 4's token budget), the
 * resize, then
 * ×1/255 and (x − mean)/std in the same float precision HF uses, channel-planar. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "image.h"

#define MAX_OUT_SIDE 16384u /* larger outputs are a caller mistake, not an image a vision tower can take */

static const float clip_mean[3] = {0.48145466f, 0.4578275f, 0.40821073f};
static const float clip_std[3] = {0.26862954f, 0.26130258f, 0.27577711f};

vkmm_image_prep vkmm_image_prep_gemma3(uint32_t size)
{
    return (vkmm_image_prep){.mode = VKMM_PREP_SQUARE, .filter = VKMM_FILTER_PIL_BILINEAR, .size = size,
                             .mean = {0.5f, 0.5f, 0.5f}, .std = {0.5f, 0.5f, 0.5f}};
}

vkmm_image_prep vkmm_image_prep_pixtral(uint32_t longest_edge)
{
    vkmm_image_prep p = {.mode = VKMM_PREP_LONGEST_EDGE, .filter = VKMM_FILTER_PIL_BICUBIC, .size = longest_edge,
                         .patch = 14};
    memcpy(p.mean, clip_mean, sizeof p.mean);
    memcpy(p.std, clip_std, sizeof p.std);
    return p;
}

vkmm_image_prep vkmm_image_prep_pixtral_llama(uint32_t max_tokens)
{
    vkmm_image_prep p = {.mode = VKMM_PREP_LLAMA_DYN, .filter = VKMM_FILTER_TWO_TAP_BILINEAR, .patch = 28,
                         .min_tokens = 8, .max_tokens = max_tokens};
    memcpy(p.mean, clip_mean, sizeof p.mean);
    memcpy(p.std, clip_std, sizeof p.std);
    return p;
}

vkmm_image_prep vkmm_image_prep_gemma4(uint32_t max_tokens)
{
    return (vkmm_image_prep){.mode = VKMM_PREP_TOKEN_BUDGET, .filter = VKMM_FILTER_PIL_BICUBIC, .patch = 48,
                             .max_tokens = max_tokens, .mean = {0.5f, 0.5f, 0.5f}, .std = {0.5f, 0.5f, 0.5f}};
}

/* HF Gemma 4's get_aspect_ratio_preserving_size in units of a = one token's side (Python's float arithmetic is
 * IEEE double, as here). */
static vkmm_status token_budget_size(double w, double h, double a, double tokens, double *ow, double *oh,
                                     vkmm_error *err)
{
    double target_px = tokens * a * a, factor = sqrt(target_px / (w * h));
    double H = floor(factor * h / a) * a, W = floor(factor * w / a) * a, max_side = tokens * a;
    if (H == 0 && W == 0)
        return vkmm_fail(err, VKMM_ERR_INVALID_ARG, "preprocess: a %.0f x %.0f image gives no %.0f-pixel tokens", w,
                         h, a);
    if (H == 0) {
        H = a;
        W = fmin(floor(w / h) * a, max_side);
    } else if (W == 0) {
        W = a;
        H = fmin(floor(h / w) * a, max_side);
    }
    if (H * W > target_px)
        return vkmm_fail(err, VKMM_ERR_INVALID_ARG, "preprocess: %.0f x %.0f exceeds %.0f tokens", W, H, tokens);
    *ow = W;
    *oh = H;
    return VKMM_OK;
}

/* llama.cpp's canvas: sides rounded to the nearest multiple of a, then the area pulled into
 * [min, max] × a² by a common factor, flooring when shrinking and ceiling when growing. */
static void llama_canvas(double w, double h, double a, double min_px, double max_px, double *cw, double *ch)
{
    double W = fmax(a, round(w / a) * a), H = fmax(a, round(h / a) * a);
    if (W * H > max_px) {
        double b = sqrt(w * h / max_px);
        W = fmax(a, floor(w / b / a) * a);
        H = fmax(a, floor(h / b / a) * a);
    } else if (W * H < min_px) {
        double b = sqrt(min_px / (w * h));
        W = ceil(w * b / a) * a;
        H = ceil(h * b / a) * a;
    }
    *cw = W;
    *ch = H;
}

vkmm_status vkmm_image_prep_size(const vkmm_image_prep *p, uint32_t w, uint32_t h, uint32_t *ow, uint32_t *oh,
                                 vkmm_error *err)
{
    if (!w || !h)
        return vkmm_fail(err, VKMM_ERR_INVALID_ARG, "preprocess: empty %u x %u image", w, h);
    double W = 0, H = 0;
    switch (p->mode) {
    case VKMM_PREP_SQUARE:
        if (!p->size)
            return vkmm_fail(err, VKMM_ERR_INVALID_ARG, "preprocess: square size 0");
        W = H = p->size;
        break;
    case VKMM_PREP_LONGEST_EDGE: {
        if (!p->size || !p->patch)
            return vkmm_fail(err, VKMM_ERR_INVALID_ARG, "preprocess: longest edge %u, patch %u", p->size, p->patch);
        /* HF Pixtral: ratio = max(h/edge, w/edge); shrink by it (floor) when above 1; then whole patches */
        double r = fmax((double)h / p->size, (double)w / p->size);
        W = w;
        H = h;
        if (r > 1.0) {
            H = floor(h / r);
            W = floor(w / r);
        }
        H = H < 1 ? 1 : H; /* HF would make a 0-patch side here; one patch is the useful answer */
        W = W < 1 ? 1 : W;
        H = ceil(H / p->patch) * p->patch;
        W = ceil(W / p->patch) * p->patch;
        break;
    }
    case VKMM_PREP_LLAMA_DYN: {
        if (!p->patch || !p->max_tokens || p->min_tokens > p->max_tokens)
            return vkmm_fail(err, VKMM_ERR_INVALID_ARG, "preprocess: patch %u, tokens %u..%u", p->patch,
                             p->min_tokens, p->max_tokens);
        double a2 = (double)p->patch * p->patch;
        llama_canvas(w, h, p->patch, p->min_tokens * a2, p->max_tokens * a2, &W, &H);
        break;
    }
    case VKMM_PREP_TOKEN_BUDGET: {
        if (!p->patch || !p->max_tokens || p->max_tokens > (1u << 20))
            return vkmm_fail(err, VKMM_ERR_INVALID_ARG, "preprocess: patch %u, %u tokens", p->patch, p->max_tokens);
        vkmm_status s = token_budget_size(w, h, p->patch, p->max_tokens, &W, &H, err);
        if (s)
            return s;
        break;
    }
    default: return vkmm_fail(err, VKMM_ERR_INVALID_ARG, "preprocess: unknown mode %d", (int)p->mode);
    }
    if (W > MAX_OUT_SIDE || H > MAX_OUT_SIDE)
        return vkmm_fail(err, VKMM_ERR_INVALID_ARG, "preprocess: output %.0f x %.0f is over %u per side", W, H,
                         MAX_OUT_SIDE);
    *ow = (uint32_t)W;
    *oh = (uint32_t)H;
    return VKMM_OK;
}

static vkmm_status alloc_rgb(vkmm_image *out, uint32_t w, uint32_t h, vkmm_error *err)
{
    out->rgb = calloc((size_t)w * h, 3); /* zero: llama.cpp pads with black */
    if (!out->rgb)
        return vkmm_fail(err, VKMM_ERR_HOST_MEMORY, "preprocess: out of host memory for %u x %u", w, h);
    out->width = w;
    out->height = h;
    return VKMM_OK;
}

vkmm_status vkmm_image_prep_resize(const vkmm_image *img, const vkmm_image_prep *p, vkmm_image *out, vkmm_error *err)
{
    memset(out, 0, sizeof *out);
    uint32_t W, H;
    vkmm_status s = vkmm_image_prep_size(p, img->width, img->height, &W, &H, err);
    if (s || (s = alloc_rgb(out, W, H, err)))
        return s;
    out->format = img->format;
    out->channels = 3;
    if (p->mode != VKMM_PREP_LLAMA_DYN) {
        s = vkmm_resample_rgb8(img->rgb, img->width, img->height, out->rgb, W, H, p->filter, err);
    } else {
        /* keep the aspect ratio inside the canvas, centred, rest black */
        double sc = fmin((double)W / img->width, (double)H / img->height);
        uint32_t nw = (uint32_t)fmin(ceil(img->width * sc), W), nh = (uint32_t)fmin(ceil(img->height * sc), H);
        nw = nw ? nw : 1;
        nh = nh ? nh : 1;
        vkmm_image tmp = {0};
        if (!(s = alloc_rgb(&tmp, nw, nh, err)) &&
            !(s = vkmm_resample_rgb8(img->rgb, img->width, img->height, tmp.rgb, nw, nh, p->filter, err))) {
            uint32_t x0 = (W - nw) / 2, y0 = (H - nh) / 2;
            for (uint32_t y = 0; y < nh; y++)
                memcpy(out->rgb + ((size_t)(y0 + y) * W + x0) * 3, tmp.rgb + (size_t)y * nw * 3, (size_t)nw * 3);
        }
        vkmm_image_free(&tmp);
    }
    if (s)
        vkmm_image_free(out);
    return s;
}

vkmm_status vkmm_image_preprocess(const vkmm_image *img, const vkmm_image_prep *p, vkmm_image_tensor *out,
                                  vkmm_error *err)
{
    memset(out, 0, sizeof *out);
    for (int c = 0; c < 3; c++)
        if (!(p->std[c] > 0 || p->std[c] < 0) || !isfinite(p->std[c]) || !isfinite(p->mean[c]))
            return vkmm_fail(err, VKMM_ERR_INVALID_ARG, "preprocess: bad mean/std for channel %d (%g, %g)", c,
                             (double)p->mean[c], (double)p->std[c]);
    vkmm_image r;
    vkmm_status s = vkmm_image_prep_resize(img, p, &r, err);
    if (s)
        return s;
    size_t plane = (size_t)r.width * r.height;
    out->data = malloc(plane * 3 * sizeof(float));
    if (!out->data) {
        vkmm_image_free(&r);
        return vkmm_fail(err, VKMM_ERR_HOST_MEMORY, "preprocess: out of host memory for %u x %u", r.width, r.height);
    }
    out->c = 3;
    out->h = r.height;
    out->w = r.width;
    /* HF rescales in float64 then stores float32, and normalises in float32: the same roundings here */
    const double scale = 1.0 / 255.0;
    for (int c = 0; c < 3; c++) {
        float *dst = out->data + c * plane;
        for (size_t i = 0; i < plane; i++) {
            float x = (float)(r.rgb[i * 3 + c] * scale);
            dst[i] = (x - p->mean[c]) / p->std[c];
        }
    }
    vkmm_image_free(&r);
    return VKMM_OK;
}

void vkmm_image_tensor_free(vkmm_image_tensor *t)
{
    if (t) {
        free(t->data);
        memset(t, 0, sizeof *t);
    }
}
