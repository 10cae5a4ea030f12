/* loader/image.c — loading an image file or buffer to 8-bit RGB: size caps, format by magic bytes, container
 * checks, header dimensions checked against the caps before decoding, then stb_image, then alpha composited
 * onto the background and grey expanded, the way HF's convert_to_rgb (Pillow's alpha_composite) does it. */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "image.h"
#include "image_check.h"
#include "image_stb.h"

vkmm_image_options vkmm_image_options_default(void)
{
    return (vkmm_image_options){
        .max_side = 16384,
        .max_decoded_bytes = (uint64_t)256 << 20,
        .max_file_bytes = (uint64_t)64 << 20,
        .background = {255, 255, 255},
    };
}

const char *vkmm_image_sniff(const uint8_t *data, size_t len)
{
    const vkmm_image_kind *k = vkmm_image_kind_sniff(data, len);
    return k ? k->name : NULL;
}

/* Pillow's alpha_composite of src over an opaque background, which reduces to
 * round((s·a + b·(255 − a)) / 255) computed with its fixed-point divide-by-255. */
static uint8_t over(uint8_t s, uint8_t a, uint8_t b)
{
    uint32_t v = ((uint32_t)s * a + (uint32_t)b * (255u - a)) * 128u + (0x80u << 7);
    return (uint8_t)((((v >> 8) + v) >> 8) >> 7);
}

static void to_rgb(const uint8_t *src, int ch, size_t npix, const uint8_t bg[3], uint8_t *dst)
{
    for (size_t i = 0; i < npix; i++, dst += 3) {
        const uint8_t *p = src + i * (size_t)ch;
        switch (ch) {
        case 1: dst[0] = dst[1] = dst[2] = p[0]; break;
        case 2:
            for (int c = 0; c < 3; c++)
                dst[c] = over(p[0], p[1], bg[c]);
            break;
        case 3: memcpy(dst, p, 3); break;
        default:
            for (int c = 0; c < 3; c++)
                dst[c] = over(p[c], p[3], bg[c]);
        }
    }
}

static vkmm_image_options sane(const vkmm_image_options *opt)
{
    vkmm_image_options o = opt ? *opt : vkmm_image_options_default();
    if (!o.max_side || o.max_side > (1u << 20))
        o.max_side = 1u << 20;
    if (!o.max_decoded_bytes || o.max_decoded_bytes > (uint64_t)VKMM_STB_MAX_ALLOC)
        o.max_decoded_bytes = VKMM_STB_MAX_ALLOC; /* stb could not allocate more in one piece anyway */
    if (!o.max_file_bytes || o.max_file_bytes > INT32_MAX)
        o.max_file_bytes = INT32_MAX; /* stb takes an int length */
    return o;
}

vkmm_status vkmm_image_load_memory(const void *data, size_t len, const char *name, const vkmm_image_options *opt,
                                   vkmm_image *out, vkmm_error *err)
{
    memset(out, 0, sizeof *out);
    vkmm_image_options o = sane(opt);
    const uint8_t *d = data;
    if (!name)
        name = "<memory>";
    if (len == 0)
        return vkmm_fail(err, VKMM_ERR_FORMAT, "%s: empty file, not an image", name);
    if (len > o.max_file_bytes)
        return vkmm_fail(err, VKMM_ERR_UNSUPPORTED, "%s: file is %zu bytes, over the cap of %llu bytes", name, len,
                         (unsigned long long)o.max_file_bytes);
    const vkmm_image_kind *k = vkmm_image_kind_sniff(d, len);
    if (!k) {
        char hex[40] = "";
        for (size_t i = 0; i < len && i < 8; i++)
            snprintf(hex + 3 * i, sizeof hex - 3 * i, "%02x ", d[i]);
        return vkmm_fail(err, VKMM_ERR_UNSUPPORTED,
                         "%s: not a PNG, JPEG or BMP image (unknown format, first bytes %s)", name, hex);
    }
    if (!k->supported)
        return vkmm_fail(err, VKMM_ERR_UNSUPPORTED, "%s: %s images are not supported (only PNG, JPEG and BMP)", name,
                         k->display);
    /* The container check also reads the dimensions; when the header shows them over a cap, that is the
     * clearer error even if the file is also truncated (a huge BMP is both). */
    char fmt = k->name[0]; /* 'p', 'j' or 'b' */
    uint32_t hw = 0, hh = 0;
    vkmm_error cerr;
    vkmm_status s = fmt == 'p'   ? vkmm_image_check_png(d, len, name, &hw, &hh, &cerr)
                    : fmt == 'j' ? vkmm_image_check_jpeg(d, len, name, &hw, &hh, &cerr)
                                 : vkmm_image_check_bmp(d, len, name, &hw, &hh, &cerr);
    if (hw > o.max_side || hh > o.max_side)
        return vkmm_fail(err, VKMM_ERR_UNSUPPORTED, "%s: image is %u x %u, over the cap of %u pixels per side", name,
                         hw, hh, o.max_side);
    uint64_t bytes = (uint64_t)hw * hh * 4;
    if (bytes > o.max_decoded_bytes)
        return vkmm_fail(err, VKMM_ERR_UNSUPPORTED,
                         "%s: image is %u x %u; decoded (x 4 bytes) it takes %llu bytes, over the cap of %llu", name,
                         hw, hh, (unsigned long long)bytes, (unsigned long long)o.max_decoded_bytes);
    if (s) {
        if (err)
            *err = cerr;
        return s;
    }
    if (hw == 0 || hh == 0)
        return vkmm_fail(err, VKMM_ERR_UNSUPPORTED, "%s: %s header gives %u x %u: an empty image (or a JPEG height "
                         "given later by a DNL marker, which is not supported)", name, k->display, hw, hh);
    int w = 0, h = 0, ch = 0;
    if (!vkmm_stb_info(d, len, fmt, &w, &h, &ch))
        return vkmm_fail(err, VKMM_ERR_FORMAT, "%s: corrupt or unsupported %s: %s", name, k->display,
                         vkmm_stb_failure());
    if (fmt == 'b' && h < 0 && h != INT32_MIN)
        h = -h; /* stb's BMP header reader reports a top-down image's height as stored, negative */
    if ((uint32_t)w != hw || (uint32_t)h != hh)
        return vkmm_fail(err, VKMM_ERR_FORMAT, "%s: %s headers disagree on the size (%u x %u, then %d x %d)", name,
                         k->display, hw, hh, w, h);
    int dw = 0, dh = 0, dch = 0;
    uint8_t *pix = vkmm_stb_decode(d, len, &dw, &dh, &dch);
    if (!pix)
        return vkmm_fail(err, VKMM_ERR_FORMAT, "%s: cannot decode %s: %s", name, k->display, vkmm_stb_failure());
    if (dw != w || dh != h || dch < 1 || dch > 4) {
        vkmm_stb_free(pix);
        return vkmm_fail(err, VKMM_ERR_FORMAT, "%s: %s decoded to %d x %d x %d, the header said %d x %d", name,
                         k->display, dw, dh, dch, w, h);
    }
    out->rgb = malloc((size_t)w * (size_t)h * 3);
    if (!out->rgb) {
        vkmm_stb_free(pix);
        return vkmm_fail(err, VKMM_ERR_HOST_MEMORY, "%s: out of host memory for %d x %d pixels", name, w, h);
    }
    if (fmt == 'b' && dch == 4 && vkmm_image_bmp_alpha_is_padding(d, len)) {
        for (size_t i = 0; i < (size_t)w * h; i++)
            memcpy(out->rgb + 3 * i, pix + 4 * i, 3);
        dch = 3;
    } else {
        to_rgb(pix, dch, (size_t)w * (size_t)h, o.background, out->rgb);
    }
    vkmm_stb_free(pix);
    out->width = (uint32_t)w;
    out->height = (uint32_t)h;
    out->format = k->name;
    out->channels = dch;
    return VKMM_OK;
}

vkmm_status vkmm_image_from_pixels(const uint8_t *pixels, uint32_t width, uint32_t height, uint32_t channels,
                                   const char *name, const vkmm_image_options *opt, vkmm_image *out, vkmm_error *err)
{
    memset(out, 0, sizeof *out);
    vkmm_image_options o = sane(opt);
    if (!name)
        name = "<pixels>";
    if (!pixels || !width || !height)
        return vkmm_fail(err, VKMM_ERR_INVALID_ARG, "%s: no pixels (%u x %u)", name, width, height);
    if (channels < 1 || channels > 4)
        return vkmm_fail(err, VKMM_ERR_INVALID_ARG, "%s: %u channels (1 grey, 2 grey+alpha, 3 RGB or 4 RGBA)", name,
                         channels);
    if (width > o.max_side || height > o.max_side || (uint64_t)width * height * 4 > o.max_decoded_bytes)
        return vkmm_fail(err, VKMM_ERR_UNSUPPORTED, "%s: %u x %u pixels exceed the caps (side %u, %llu bytes decoded)",
                         name, width, height, o.max_side, (unsigned long long)o.max_decoded_bytes);
    out->rgb = malloc((size_t)width * height * 3);
    if (!out->rgb)
        return vkmm_fail(err, VKMM_ERR_HOST_MEMORY, "%s: out of host memory for %u x %u pixels", name, width, height);
    to_rgb(pixels, (int)channels, (size_t)width * height, o.background, out->rgb);
    out->width = width;
    out->height = height;
    out->format = "pixels";
    out->channels = (int)channels;
    return VKMM_OK;
}

vkmm_status vkmm_read_file_capped(const char *path, uint64_t cap, const char *what, uint8_t **buf, size_t *len,
                                  vkmm_error *err)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return vkmm_fail(err, VKMM_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    struct stat st;
    if (fstat(fileno(f), &st) == 0) {
        if (S_ISDIR(st.st_mode)) {
            fclose(f);
            return vkmm_fail(err, VKMM_ERR_IO, "%s: is a directory, not a%s %s", path,
                             strchr("aeiou", what[0]) ? "n" : "", what);
        }
        if (S_ISREG(st.st_mode) && (uint64_t)st.st_size > cap) {
            fclose(f);
            return vkmm_fail(err, VKMM_ERR_UNSUPPORTED, "%s: %s file is %llu bytes, over the cap of %llu bytes", path,
                             what, (unsigned long long)st.st_size, (unsigned long long)cap);
        }
    }
    size_t n = 0, alloc = 0;
    uint8_t *p = NULL;
    for (;;) {
        if (n == alloc) {
            if (n > cap)
                break;
            size_t next = alloc ? alloc * 2 : 65536;
            if (next > cap + 1)
                next = (size_t)cap + 1;
            uint8_t *q = realloc(p, next);
            if (!q) {
                free(p);
                fclose(f);
                return vkmm_fail(err, VKMM_ERR_HOST_MEMORY, "%s: out of host memory reading the file", path);
            }
            p = q;
            alloc = next;
        }
        size_t got = fread(p + n, 1, alloc - n, f);
        n += got;
        if (got == 0)
            break;
    }
    bool bad = ferror(f);
    fclose(f);
    if (bad) {
        free(p);
        return vkmm_fail(err, VKMM_ERR_IO, "%s: read error", path);
    }
    if (n > cap) {
        free(p);
        return vkmm_fail(err, VKMM_ERR_UNSUPPORTED, "%s: %s file is over the cap of %llu bytes", path, what,
                         (unsigned long long)cap);
    }
    *buf = p;
    *len = n;
    return VKMM_OK;
}

vkmm_status vkmm_image_load(const char *path, const vkmm_image_options *opt, vkmm_image *out, vkmm_error *err)
{
    memset(out, 0, sizeof *out);
    vkmm_image_options o = sane(opt);
    uint8_t *buf = NULL;
    size_t len = 0;
    vkmm_status s = vkmm_read_file_capped(path, o.max_file_bytes, "image", &buf, &len, err);
    if (s)
        return s;
    s = vkmm_image_load_memory(buf, len, path, &o, out, err);
    free(buf);
    return s;
}

void vkmm_image_free(vkmm_image *img)
{
    if (img) {
        free(img->rgb);
        memset(img, 0, sizeof *img);
    }
}
