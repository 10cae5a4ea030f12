/* loader/image_check.c — format identification by magic bytes and container checks for PNG and BMP (JPEG's
 * is in image_check_jpeg.c).
 * stb_image ignores PNG CRCs and reads zeros past the end of a truncated JPEG or BMP, returning a partly grey
 * image as success; Pillow (which HF uses) refuses such files, and so do we, before decoding. */
#include <stdbool.h>
#include <string.h>

#include "image_check.h"

static const vkmm_image_kind kinds[] = {
    {"png", "PNG", 1},   {"jpeg", "JPEG", 1}, {"bmp", "BMP", 1},       {"gif", "GIF", 0},
    {"psd", "PSD", 0},   {"tiff", "TIFF", 0}, {"webp", "WebP", 0},     {"pic", "Softimage PIC", 0},
    {"hdr", "Radiance HDR", 0}, {"pnm", "PNM", 0}, {"qoi", "QOI", 0}, {"ico", "ICO", 0},
    {"heif", "HEIF/AVIF", 0}, {"jxl", "JPEG XL", 0}, {"jp2", "JPEG 2000", 0}, {"svg", "SVG", 0},
};

static const vkmm_image_kind *kind(const char *name)
{
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++)
        if (!strcmp(kinds[i].name, name))
            return &kinds[i];
    return NULL;
}

static bool starts(const uint8_t *d, size_t n, size_t off, const char *magic, size_t m)
{
    return n >= off + m && !memcmp(d + off, magic, m);
}

const vkmm_image_kind *vkmm_image_kind_sniff(const uint8_t *d, size_t n)
{
    if (starts(d, n, 0, "\x89PNG\r\n\x1a\n", 8))
        return kind("png");
    if (starts(d, n, 0, "\xff\xd8\xff", 3))
        return kind("jpeg");
    if (starts(d, n, 0, "BM", 2))
        return kind("bmp");
    if (starts(d, n, 0, "GIF87a", 6) || starts(d, n, 0, "GIF89a", 6))
        return kind("gif");
    if (starts(d, n, 0, "8BPS", 4))
        return kind("psd");
    if (starts(d, n, 0, "II*\0", 4) || starts(d, n, 0, "MM\0*", 4) || starts(d, n, 0, "II+\0", 4) ||
        starts(d, n, 0, "MM\0+", 4))
        return kind("tiff");
    if (starts(d, n, 0, "RIFF", 4) && starts(d, n, 8, "WEBP", 4))
        return kind("webp");
    if (starts(d, n, 0, "\x53\x80\xf6\x34", 4))
        return kind("pic");
    if (starts(d, n, 0, "#?RADIANCE", 10) || starts(d, n, 0, "#?RGBE", 6))
        return kind("hdr");
    if (n >= 3 && d[0] == 'P' && d[1] >= '1' && d[1] <= '7' && (d[2] == '\n' || d[2] == ' ' || d[2] == '\r'))
        return kind("pnm");
    if (starts(d, n, 0, "qoif", 4))
        return kind("qoi");
    if (starts(d, n, 0, "\0\0\1\0", 4) || starts(d, n, 0, "\0\0\2\0", 4))
        return kind("ico");
    if (starts(d, n, 4, "ftyp", 4))
        return kind("heif");
    if (starts(d, n, 0, "\xff\x0a", 2) || starts(d, n, 0, "\0\0\0\x0cJXL \r\n\x87\n", 12))
        return kind("jxl");
    if (starts(d, n, 0, "\0\0\0\x0cjP  \r\n\x87\n", 12) || starts(d, n, 0, "\xff\x4f\xff\x51", 4))
        return kind("jp2");
    if (starts(d, n, 0, "<svg", 4) || starts(d, n, 0, "<?xml", 5))
        return kind("svg");
    return NULL;
}

/* CRC-32 (ISO-HDLC, as PNG uses), four bits at a time: small table, no state. */
uint32_t vkmm_crc32(const uint8_t *p, size_t n)
{
    static const uint32_t t[16] = {0x00000000, 0x1db71064, 0x3b6e20c8, 0x26d930ac, 0x76dc4190, 0x6b6b51f4,
                                   0x4db26158, 0x5005713c, 0xedb88320, 0xf00f9344, 0xd6d6a3e8, 0xcb61b38c,
                                   0x9b64c2b0, 0x86d3d2d4, 0xa00ae278, 0xbdbdf21c};
    uint32_t c = 0xffffffffu;
    for (size_t i = 0; i < n; i++) {
        c ^= p[i];
        c = (c >> 4) ^ t[c & 15];
        c = (c >> 4) ^ t[c & 15];
    }
    return c ^ 0xffffffffu;
}

static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static uint32_t le32(const uint8_t *p)
{
    return (uint32_t)p[3] << 24 | (uint32_t)p[2] << 16 | (uint32_t)p[1] << 8 | p[0];
}

static uint16_t le16(const uint8_t *p)
{
    return (uint16_t)(p[1] << 8 | p[0]);
}

static void chunk_name(const uint8_t *p, char out[8])
{
    for (int i = 0; i < 4; i++)
        out[i] = (p[i] >= 0x20 && p[i] < 0x7f) ? (char)p[i] : '?';
    out[4] = 0;
}

vkmm_status vkmm_image_check_png(const uint8_t *d, size_t n, const char *name, uint32_t *w, uint32_t *h,
                                 vkmm_error *err)
{
    size_t off = 8;
    bool idat = false;
    for (int index = 0;; index++) {
        if (n - off < 12)
            return vkmm_fail(err, VKMM_ERR_FORMAT, "%s: truncated PNG: file ends at offset %zu before the IEND chunk",
                             name, n);
        uint32_t len = be32(d + off);
        const uint8_t *type = d + off + 4;
        char tn[8];
        chunk_name(type, tn);
        if (len > 0x7fffffffu)
            return vkmm_fail(err, VKMM_ERR_FORMAT, "%s: corrupt PNG: chunk '%s' at offset %zu claims %u bytes", name,
                             tn, off, len);
        if (len > n - off - 12)
            return vkmm_fail(err, VKMM_ERR_FORMAT,
                             "%s: truncated PNG: chunk '%s' at offset %zu needs %u bytes, the file ends at %zu", name,
                             tn, off, len + 12u, n);
        for (int i = 0; i < 4; i++)
            if (!((type[i] >= 'A' && type[i] <= 'Z') || (type[i] >= 'a' && type[i] <= 'z')))
                return vkmm_fail(err, VKMM_ERR_FORMAT, "%s: corrupt PNG: bad chunk type '%s' at offset %zu", name,
                                 tn, off);
        uint32_t stored = be32(d + off + 8 + len), crc = vkmm_crc32(type, (size_t)len + 4);
#ifndef FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION /* fuzz builds skip it, so mutations reach the decoder */
        if (stored != crc)
#else
        if (stored != crc && 0)
#endif
            return vkmm_fail(err, VKMM_ERR_FORMAT,
                             "%s: corrupt PNG: chunk '%s' at offset %zu fails its CRC (stored %08x, computed %08x)",
                             name, tn, off, stored, crc);
        if (index == 0 && (memcmp(type, "IHDR", 4) || len != 13))
            return vkmm_fail(err, VKMM_ERR_FORMAT, "%s: corrupt PNG: the first chunk is '%s', not a 13-byte IHDR",
                             name, tn);
        if (index == 0) {
            *w = be32(d + off + 8);
            *h = be32(d + off + 12);
            if (!*w || !*h || *w > 0x7fffffffu || *h > 0x7fffffffu)
                return vkmm_fail(err, VKMM_ERR_FORMAT, "%s: corrupt PNG: IHDR gives a bad size (%u x %u)", name, *w,
                                 *h);
        }
        if (!memcmp(type, "IDAT", 4))
            idat = true;
        off += (size_t)len + 12;
        if (!memcmp(type, "IEND", 4))
            break;
    }
    if (!idat)
        return vkmm_fail(err, VKMM_ERR_FORMAT, "%s: corrupt PNG: no IDAT chunk (no pixel data)", name);
    return VKMM_OK;
}

vkmm_status vkmm_image_check_bmp(const uint8_t *d, size_t n, const char *name, uint32_t *wout, uint32_t *hout,
                                 vkmm_error *err)
{
    if (n < 26)
        return vkmm_fail(err, VKMM_ERR_FORMAT, "%s: truncated BMP: %zu bytes, the headers need at least 26", name, n);
    uint32_t data_off = le32(d + 10), hsz = le32(d + 14);
    int64_t w, h;
    uint32_t bpp, compression = 0;
    if (hsz == 12) {
        w = le16(d + 18);
        h = le16(d + 20);
        bpp = le16(d + 24);
    } else if (hsz == 40 || hsz == 52 || hsz == 56 || hsz == 64 || hsz == 108 || hsz == 124) {
        if (n < 14 + 40)
            return vkmm_fail(err, VKMM_ERR_FORMAT, "%s: truncated BMP: %zu bytes, the headers need %u", name, n,
                             14 + hsz);
        w = (int32_t)le32(d + 18);
        h = (int32_t)le32(d + 22);
        bpp = le16(d + 28);
        compression = le32(d + 30);
    } else {
        return vkmm_fail(err, VKMM_ERR_FORMAT, "%s: unsupported BMP: header size %u at offset 14", name, hsz);
    }
    if (n < 14 + (size_t)hsz)
        return vkmm_fail(err, VKMM_ERR_FORMAT, "%s: truncated BMP: %zu bytes, the headers need %u", name, n,
                         14 + hsz);
    if (w <= 0 || h == 0 || h == INT32_MIN)
        return vkmm_fail(err, VKMM_ERR_FORMAT, "%s: corrupt BMP: bad dimensions %lld x %lld", name, (long long)w,
                         (long long)h);
    if (compression == 1 || compression == 2)
        return vkmm_fail(err, VKMM_ERR_UNSUPPORTED, "%s: RLE-compressed BMP images are not supported", name);
    if (compression == 4 || compression == 5)
        return vkmm_fail(err, VKMM_ERR_UNSUPPORTED, "%s: BMP images wrapping JPEG or PNG data are not supported",
                         name);
    if (compression != 0 && compression != 3 && compression != 6)
        return vkmm_fail(err, VKMM_ERR_FORMAT, "%s: corrupt BMP: unknown compression %u", name, compression);
    if (bpp != 1 && bpp != 4 && bpp != 8 && bpp != 16 && bpp != 24 && bpp != 32)
        return vkmm_fail(err, VKMM_ERR_FORMAT, "%s: corrupt BMP: %u bits per pixel", name, bpp);
    uint64_t ah = (uint64_t)(h < 0 ? -h : h);
    *wout = (uint32_t)w;
    *hout = (uint32_t)ah;
    uint64_t row = ((uint64_t)w * bpp + 31) / 32 * 4, need = row * ah;
    if (data_off < 14 + hsz || data_off > n || need > n - data_off)
        return vkmm_fail(err, VKMM_ERR_FORMAT,
                         "%s: truncated BMP: %lld x %lld at %u bits needs %llu bytes of pixels from offset %u, the "
                         "file has %zu bytes",
                         name, (long long)w, (long long)h, bpp, (unsigned long long)need, data_off, n);
    return VKMM_OK;
}

int vkmm_image_bmp_alpha_is_padding(const uint8_t *d, size_t n)
{
    /* 32-bit BI_RGB: the fourth byte is padding to Pillow ("BGRX"); stb_image reads it as alpha */
    return n >= 54 && le32(d + 14) >= 40 && le16(d + 28) == 32 && le32(d + 30) == 0;
}
