/* runtime/engine/image_probe.c — what an encoded image is and how large, from its headers alone (no decoding),
 * so a caller such as a server can refuse an unsupported, broken or oversized picture before queueing work. */
#include <stdio.h>

#include "error.h"
#include "image_check.h"
#include "sized.h"
#include "vkmm.h"

static vkmm_status probe(const uint8_t *d, size_t size, const char *name, vkmm_image_header *out, vkmm_error *err)
{
    *out = (vkmm_image_header){.struct_size = sizeof *out};
    if (size == 0)
        return vkmm_fail(err, VKMM_ERR_FORMAT, "%s: empty, not an image", name);
    const vkmm_image_kind *k = vkmm_image_kind_sniff(d, size);
    if (!k) {
        char hex[40] = "";
        for (size_t i = 0; i < size && i < 8; i++)
            snprintf(hex + 3 * i, sizeof hex - 3 * i, "%02x ", d[i]);
        return vkmm_fail(err, VKMM_ERR_FORMAT, "%s: not a PNG, JPEG or BMP image (unknown format, first bytes %s)",
                         name, hex);
    }
    out->format = k->name;
    if (!k->supported)
        return vkmm_fail(err, VKMM_ERR_UNSUPPORTED, "%s: %s images are not supported (only PNG, JPEG and BMP)", name,
                         k->display);
    /* the container checks read the dimensions on the way; a header whose size alone is out of reach still
     * reports that size, so the caller can name it even when the rest is broken too */
    vkmm_status st = k->name[0] == 'p'   ? vkmm_image_check_png(d, size, name, &out->width, &out->height, err)
                     : k->name[0] == 'j' ? vkmm_image_check_jpeg(d, size, name, &out->width, &out->height, err)
                                         : vkmm_image_check_bmp(d, size, name, &out->width, &out->height, err);
    if (!st && (out->width == 0 || out->height == 0))
        st = vkmm_fail(err, VKMM_ERR_UNSUPPORTED, "%s: the %s header gives %u x %u: an empty image (or a JPEG height "
                       "given later, which is not supported)", name, k->display, out->width, out->height);
    return st;
}

VKMM_API vkmm_status vkmm_image_probe(const void *data, size_t size, const char *name, vkmm_image_header *out,
                                      vkmm_error *err)
{
    if (!out || (!data && size))
        return vkmm_fail(err, VKMM_ERR_INVALID_ARG, "vkmm_image_probe needs the bytes and somewhere to put the header");
    size_t n;
    vkmm_status st = VKMM_SIZED_BYTES(vkmm_image_header, out, "vkmm_image_probe's header", &n, err);
    if (st)
        return st;
    vkmm_image_header h;
    st = probe(data, size, name ? name : "image", &h, err);
    vkmm_sized_out(out, &h, n);
    return st;
}
