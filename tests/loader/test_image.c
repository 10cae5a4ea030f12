/* tests/loader/test_image.c — image loading and preprocessing on small crafted inputs with exact expected values:
 * format sniffing, caps refused before decoding, compositing, the resize filters worked by hand, the output size
 * rules (HF Pixtral, llama.cpp), normalisation, and file vs memory loading giving the same result. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"
#include "image.h"
#include "image_check.h"

/* ---- a tiny PNG writer (stored zlib blocks, so no compressor is needed) ---- */

typedef struct buf {
    uint8_t *p;
    size_t n, cap;
} buf;

static void put(buf *b, const void *d, size_t n)
{
    if (b->n + n > b->cap) {
        b->cap = (b->n + n) * 2;
        b->p = realloc(b->p, b->cap);
    }
    memcpy(b->p + b->n, d, n);
    b->n += n;
}

static void put32(buf *b, uint32_t v)
{
    uint8_t x[4] = {(uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v};
    put(b, x, 4);
}

static void chunk(buf *b, const char *type, const uint8_t *d, size_t n)
{
    put32(b, (uint32_t)n);
    size_t at = b->n;
    put(b, type, 4);
    put(b, d, n);
    put32(b, vkmm_crc32(b->p + at, n + 4));
}

static uint32_t adler32(const uint8_t *p, size_t n)
{
    uint32_t a = 1, c = 0;
    for (size_t i = 0; i < n; i++) {
        a = (a + p[i]) % 65521;
        c = (c + a) % 65521;
    }
    return c << 16 | a;
}

/* 8-bit PNG of colour type ct (0 grey, 2 RGB, 4 grey+alpha, 6 RGBA) from ch-channel pixels. */
static buf make_png(const uint8_t *px, uint32_t w, uint32_t h, int ct, int ch)
{
    buf b = {0}, raw = {0}, z = {0};
    put(&b, "\x89PNG\r\n\x1a\n", 8);
    uint8_t ihdr[13] = {(uint8_t)(w >> 24), (uint8_t)(w >> 16), (uint8_t)(w >> 8), (uint8_t)w,
                        (uint8_t)(h >> 24), (uint8_t)(h >> 16), (uint8_t)(h >> 8), (uint8_t)h, 8, (uint8_t)ct, 0, 0, 0};
    chunk(&b, "IHDR", ihdr, 13);
    for (uint32_t y = 0; y < h; y++) {
        uint8_t f = 0;
        put(&raw, &f, 1);
        put(&raw, px + (size_t)y * w * ch, (size_t)w * ch);
    }
    put(&z, "\x78\x01", 2);
    for (size_t off = 0; off < raw.n || off == 0;) { /* stored blocks of at most 65535 bytes */
        size_t n = raw.n - off > 65535 ? 65535 : raw.n - off;
        uint8_t hdr[5] = {(uint8_t)(off + n == raw.n), (uint8_t)n, (uint8_t)(n >> 8), (uint8_t)~n, (uint8_t)(~n >> 8)};
        put(&z, hdr, 5);
        put(&z, raw.p + off, n);
        off += n;
        if (!n)
            break;
    }
    put32(&z, adler32(raw.p, raw.n));
    chunk(&b, "IDAT", z.p, z.n);
    chunk(&b, "IEND", NULL, 0);
    free(raw.p);
    free(z.p);
    return b;
}

static vkmm_status load_png(const uint8_t *px, uint32_t w, uint32_t h, int ct, int ch, const vkmm_image_options *o,
                            vkmm_image *img, vkmm_error *err)
{
    buf b = make_png(px, w, h, ct, ch);
    vkmm_status s = vkmm_image_load_memory(b.p, b.n, "test.png", o, img, err);
    free(b.p);
    return s;
}

static void sniffing(void)
{
    CHECK(!strcmp(vkmm_image_sniff((const uint8_t *)"\x89PNG\r\n\x1a\n", 8), "png"), "png");
    CHECK(!strcmp(vkmm_image_sniff((const uint8_t *)"\xff\xd8\xff\xe0", 4), "jpeg"), "jpeg");
    CHECK(!strcmp(vkmm_image_sniff((const uint8_t *)"BM", 2), "bmp"), "bmp");
    CHECK(!strcmp(vkmm_image_sniff((const uint8_t *)"GIF89a", 6), "gif"), "gif");
    CHECK(!strcmp(vkmm_image_sniff((const uint8_t *)"RIFF\0\0\0\0WEBP", 12), "webp"), "webp");
    CHECK(vkmm_image_sniff((const uint8_t *)"\x89PN", 3) == NULL, "3 bytes of PNG signature recognised");
    CHECK(vkmm_image_sniff((const uint8_t *)"", 0) == NULL, "empty recognised");
    CHECK(vkmm_crc32((const uint8_t *)"123456789", 9) == 0xcbf43926u, "CRC-32 check value");
}

static void decoding_and_compositing(void)
{
    vkmm_error err;
    vkmm_image img;
    /* grey expands to RGB */
    uint8_t g[6] = {0, 1, 127, 128, 254, 255};
    CHECK_OK(load_png(g, 3, 2, 0, 1, NULL, &img, &err), &err, );
    CHECK(img.width == 3 && img.height == 2 && img.channels == 1 && !strcmp(img.format, "png"), "grey header");
    for (int i = 0; i < 6; i++)
        CHECK(img.rgb[3 * i] == g[i] && img.rgb[3 * i + 1] == g[i] && img.rgb[3 * i + 2] == g[i], "grey px %d", i);
    vkmm_image_free(&img);

    /* RGBA over white and over a chosen background: round((s·a + b·(255−a)) / 255) */
    uint8_t rgba[4 * 4] = {200, 100, 50, 255, 200, 100, 50, 0, 200, 100, 50, 128, 10, 200, 30, 100};
    CHECK_OK(load_png(rgba, 4, 1, 6, 4, NULL, &img, &err), &err, );
    const uint8_t white[12] = {200, 100, 50, 255, 255, 255, 227, 177, 152, 159, 233, 167}; /* from Pillow */
    CHECK(img.channels == 4 && !memcmp(img.rgb, white, 12), "RGBA on white: %u %u %u | %u %u %u | %u %u %u",
          img.rgb[3], img.rgb[4], img.rgb[5], img.rgb[6], img.rgb[7], img.rgb[8], img.rgb[9], img.rgb[10],
          img.rgb[11]);
    vkmm_image_free(&img);
    vkmm_image_options o = vkmm_image_options_default();
    o.background[0] = 0;
    o.background[1] = 0;
    o.background[2] = 255;
    CHECK_OK(load_png(rgba, 4, 1, 6, 4, &o, &img, &err), &err, );
    const uint8_t blue[12] = {200, 100, 50, 0, 0, 255, 100, 50, 152, 4, 78, 167};
    CHECK(!memcmp(img.rgb, blue, 12), "RGBA on blue: %u %u %u | %u %u %u", img.rgb[6], img.rgb[7], img.rgb[8],
          img.rgb[9], img.rgb[10], img.rgb[11]);
    vkmm_image_free(&img);

    /* grey + alpha */
    uint8_t ga[4] = {0, 0, 90, 51};
    CHECK_OK(load_png(ga, 2, 1, 4, 2, NULL, &img, &err), &err, );
    CHECK(img.channels == 2 && img.rgb[0] == 255 && img.rgb[3] == 222 && img.rgb[5] == 222, "grey+alpha: %u %u",
          img.rgb[0], img.rgb[3]);
    vkmm_image_free(&img);
}

static void caps_before_decoding(void)
{
    vkmm_error err;
    vkmm_image img;
    uint8_t px[3 * 40 * 2] = {0};
    vkmm_image_options o = vkmm_image_options_default();
    o.max_side = 39;
    CHECK(load_png(px, 40, 2, 2, 3, &o, &img, &err) == VKMM_ERR_UNSUPPORTED && strstr(err.msg, "40 x 2") &&
              strstr(err.msg, "cap of 39") && strstr(err.msg, "test.png"),
          "side cap: %s", err.msg);
    CHECK(img.rgb == NULL, "output left set on failure");
    o = vkmm_image_options_default();
    o.max_decoded_bytes = 40 * 2 * 4 - 1;
    CHECK(load_png(px, 40, 2, 2, 3, &o, &img, &err) == VKMM_ERR_UNSUPPORTED && strstr(err.msg, "320 bytes"),
          "decoded-size cap: %s", err.msg);
    o.max_decoded_bytes = 40 * 2 * 4;
    CHECK(load_png(px, 40, 2, 2, 3, &o, &img, &err) == VKMM_OK, "exactly at the cap refused: %s", err.msg);
    vkmm_image_free(&img);
    o = vkmm_image_options_default();
    o.max_file_bytes = 50;
    CHECK(load_png(px, 40, 2, 2, 3, &o, &img, &err) == VKMM_ERR_UNSUPPORTED && strstr(err.msg, "cap of 50 bytes"),
          "file cap: %s", err.msg);
    /* a PNG claiming 100000 x 100000 with almost no data: refused by the header, no allocation tried */
    buf b = make_png(px, 1, 1, 2, 3);
    b.p[16] = 0x00, b.p[17] = 0x01, b.p[18] = 0x86, b.p[19] = 0xa0; /* width 100000 */
    b.p[20] = 0x00, b.p[21] = 0x01, b.p[22] = 0x86, b.p[23] = 0xa0;
    uint32_t crc = vkmm_crc32(b.p + 12, 17);
    b.p[29] = (uint8_t)(crc >> 24), b.p[30] = (uint8_t)(crc >> 16), b.p[31] = (uint8_t)(crc >> 8), b.p[32] = (uint8_t)crc;
    CHECK(vkmm_image_load_memory(b.p, b.n, "big.png", NULL, &img, &err) == VKMM_ERR_UNSUPPORTED &&
              strstr(err.msg, "100000 x 100000"),
          "100000^2: %s", err.msg);
    b.p[40] ^= 1; /* and a corrupted IDAT byte is caught by the CRC, not decoded */
    CHECK(vkmm_image_load_memory(b.p, b.n, "big.png", NULL, &img, &err) != VKMM_OK, "corrupt big PNG accepted");
    free(b.p);
}

static void file_and_memory_agree(void)
{
    uint8_t px[5 * 3 * 3];
    test_rng r = test_rng_seed(7);
    for (size_t i = 0; i < sizeof px; i++)
        px[i] = (uint8_t)test_rand_u32(&r);
    buf b = make_png(px, 5, 3, 2, 3);
    char path[] = "/tmp/vkmm-test-image-XXXXXX";
    int fd = mkstemp(path);
    CHECK(fd >= 0, "mkstemp");
    if (fd < 0)
        return;
    FILE *f = fdopen(fd, "wb");
    fwrite(b.p, 1, b.n, f);
    fclose(f);
    vkmm_error err;
    vkmm_image a, m;
    CHECK_OK(vkmm_image_load(path, NULL, &a, &err), &err, );
    CHECK_OK(vkmm_image_load_memory(b.p, b.n, path, NULL, &m, &err), &err, );
    CHECK(a.width == 5 && m.width == 5 && !memcmp(a.rgb, px, sizeof px) && !memcmp(m.rgb, px, sizeof px),
          "file and memory loads differ from the pixels written");
    vkmm_image_free(&a);
    vkmm_image_free(&m);
    /* the same file cut short fails and names the path */
    CHECK(truncate(path, (off_t)b.n - 5) == 0, "truncate");
    CHECK(vkmm_image_load(path, NULL, &a, &err) == VKMM_ERR_FORMAT && strstr(err.msg, path), "truncated: %s",
          err.msg);
    unlink(path);
    CHECK(vkmm_image_load(path, NULL, &a, &err) == VKMM_ERR_IO && strstr(err.msg, path), "missing: %s", err.msg);
    CHECK(vkmm_image_load("/tmp", NULL, &a, &err) == VKMM_ERR_IO && strstr(err.msg, "directory"), "dir: %s",
          err.msg);
    free(b.p);
}

/* Resize filters on inputs small enough to work by hand (or, for bicubic, values read off Pillow). */
static void resize_by_hand(void)
{
    vkmm_error err;
    uint8_t row[4 * 3], out[2 * 3];
    const uint8_t v[4] = {0, 70, 140, 210};
    for (int i = 0; i < 4; i++)
        row[3 * i] = row[3 * i + 1] = row[3 * i + 2] = v[i];
    /* out0 = (0·3 + 70·3 + 140·1)/7 = 50, out1 = (70·1 + 140·3 + 210·3)/7 = 160 */
    CHECK_OK(vkmm_resample_rgb8(row, 4, 1, out, 2, 1, VKMM_FILTER_PIL_BILINEAR, &err), &err, );
    CHECK(out[0] == 50 && out[3] == 160 && out[4] == 160, "bilinear 4->2: %u %u", out[0], out[3]);
    /* vertical axis the same */
    CHECK_OK(vkmm_resample_rgb8(row, 1, 4, out, 1, 2, VKMM_FILTER_PIL_BILINEAR, &err), &err, );
    CHECK(out[0] == 50 && out[3] == 160, "bilinear 4->2 vertically: %u %u", out[0], out[3]);
    /* 2 -> 4 (upscale, support 1): centres 0.25, 0.75, 1.25, 1.75; the edge windows hold one tap, the inner
     * ones 0.75/0.25 and 0.25/0.75: {0, 100} -> {0, 25, 75, 100} */
    uint8_t two[6] = {0, 0, 0, 100, 100, 100}, four[12];
    CHECK_OK(vkmm_resample_rgb8(two, 2, 1, four, 4, 1, VKMM_FILTER_PIL_BILINEAR, &err), &err, );
    CHECK(four[0] == 0 && four[3] == 25 && four[6] == 75 && four[9] == 100, "bilinear 2->4: %u %u %u %u", four[0],
          four[3], four[6], four[9]);
    /* bicubic on a step overshoots below 0 and above 255 and is clamped (values from Pillow 9.4) */
    uint8_t step[12] = {0, 0, 0, 0, 0, 0, 255, 255, 255, 255, 255, 255}, up[24], down[9];
    const uint8_t up_want[8] = {0, 0, 0, 52, 203, 255, 255, 255};
    CHECK_OK(vkmm_resample_rgb8(step, 4, 1, up, 8, 1, VKMM_FILTER_PIL_BICUBIC, &err), &err, );
    for (int i = 0; i < 8; i++)
        CHECK(up[3 * i] == up_want[i], "bicubic 4->8 [%d] = %u, want %u", i, up[3 * i], up_want[i]);
    CHECK_OK(vkmm_resample_rgb8(step, 4, 1, down, 3, 1, VKMM_FILTER_PIL_BICUBIC, &err), &err, );
    CHECK(down[0] == 0 && down[3] == 128 && down[6] == 255, "bicubic 4->3: %u %u %u", down[0], down[3], down[6]);
    /* a constant image stays constant under every filter and size */
    uint8_t flat[7 * 5 * 3], dst[13 * 2 * 3];
    memset(flat, 77, sizeof flat);
    for (int f = 0; f < 3; f++) {
        CHECK_OK(vkmm_resample_rgb8(flat, 7, 5, dst, 13, 2, (vkmm_resample_filter)f, &err), &err, );
        int ok = 1;
        for (size_t i = 0; i < sizeof dst; i++)
            ok &= dst[i] == 77;
        CHECK(ok, "filter %d changed a flat image", f);
    }
    /* 2-tap bilinear with corner-aligned samples: 3 -> 5 gives the inputs at 0, 2, 4 and midpoints */
    uint8_t three[9] = {0, 0, 0, 100, 100, 100, 200, 200, 200}, five[15];
    CHECK_OK(vkmm_resample_rgb8(three, 3, 1, five, 5, 1, VKMM_FILTER_TWO_TAP_BILINEAR, &err), &err, );
    CHECK(five[0] == 0 && five[3] == 50 && five[6] == 100 && five[9] == 150 && five[12] == 200, "2-tap 3->5");
    CHECK(vkmm_resample_rgb8(three, 0, 1, five, 5, 1, VKMM_FILTER_PIL_BILINEAR, &err) == VKMM_ERR_INVALID_ARG,
          "zero width accepted");
}

static void size_rules(void)
{
    vkmm_error err;
    uint32_t w, h;
    vkmm_image_prep g = vkmm_image_prep_gemma3(896);
    CHECK(vkmm_image_prep_size(&g, 1234, 77, &w, &h, &err) == VKMM_OK && w == 896 && h == 896, "gemma3 square");
    /* HF Pixtral: 3000 x 1000 at 1540: ratio 1.948…, 1540 x 513 -> 1540 x 518 (37 patches) */
    vkmm_image_prep p = vkmm_image_prep_pixtral(1540);
    CHECK(vkmm_image_prep_size(&p, 3000, 1000, &w, &h, &err) == VKMM_OK && w == 1540 && h == 518,
          "pixtral 3000x1000 -> %ux%u", w, h);
    CHECK(vkmm_image_prep_size(&p, 100, 29, &w, &h, &err) == VKMM_OK && w == 112 && h == 42,
          "pixtral small -> %ux%u", w, h);
    CHECK(vkmm_image_prep_size(&p, 1540, 1540, &w, &h, &err) == VKMM_OK && w == 1540 && h == 1540, "pixtral edge");
    CHECK(vkmm_image_prep_size(&p, 1541, 1, &w, &h, &err) == VKMM_OK && w == 1540 && h == 14, "pixtral 1541x1 -> %ux%u",
          w, h);
    /* llama.cpp: 1000 x 700, a = 28: 1008 x 700 (36 x 25 = 900 tokens ≤ 1024) */
    vkmm_image_prep l = vkmm_image_prep_pixtral_llama(1024);
    CHECK(vkmm_image_prep_size(&l, 1000, 700, &w, &h, &err) == VKMM_OK && w == 1008 && h == 700,
          "llama 1000x700 -> %ux%u", w, h);
    /* 2000 x 1500 -> 1988 x 1512, over 1024 tokens: β = sqrt(3e6 / 802816) ≈ 1.933, 1034.6 -> 1008, 776 -> 756 */
    CHECK(vkmm_image_prep_size(&l, 2000, 1500, &w, &h, &err) == VKMM_OK && w == 1008 && h == 756,
          "llama 2000x1500 -> %ux%u", w, h);
    /* 10 x 10 -> 28 x 28 = 1 token < 8: β = sqrt(8·784/100), ceil(10β/28)·28 = 84 */
    CHECK(vkmm_image_prep_size(&l, 10, 10, &w, &h, &err) == VKMM_OK && w == 84 && h == 84, "llama 10² -> %ux%u", w,
          h);
    /* HF Gemma 4 (get_aspect_ratio_preserving_size, values from its Python): width, height, budget -> sides */
    static const uint32_t g4[][5] = {
        {640, 480, 280, 912, 672},    {1000, 1000, 280, 768, 768},   {1920, 1080, 70, 528, 288},
        {1920, 1080, 1120, 2112, 1200}, {10000, 10, 280, 13440, 48}, {3, 5000, 140, 48, 6720},
        {1, 1, 560, 1104, 1104},      {48, 48, 280, 768, 768},       {4032, 3024, 560, 1296, 960},
        {1000, 30, 70, 2304, 48},
    };
    for (size_t i = 0; i < sizeof g4 / sizeof *g4; i++) {
        vkmm_image_prep q = vkmm_image_prep_gemma4(g4[i][2]);
        CHECK(vkmm_image_prep_size(&q, g4[i][0], g4[i][1], &w, &h, &err) == VKMM_OK && w == g4[i][3] &&
                  h == g4[i][4], "gemma4 %ux%u at %u tokens -> %ux%u, HF %ux%u", g4[i][0], g4[i][1], g4[i][2], w, h,
              g4[i][3], g4[i][4]);
    }
    vkmm_image_prep q = vkmm_image_prep_gemma4(1120); /* 10000 x 10 would be 48000 x 48: refused, not truncated */
    CHECK(vkmm_image_prep_size(&q, 10000, 10, &w, &h, &err) == VKMM_ERR_INVALID_ARG, "gemma4 48000-wide accepted");
    q.max_tokens = 0;
    CHECK(vkmm_image_prep_size(&q, 10, 10, &w, &h, &err) == VKMM_ERR_INVALID_ARG, "gemma4 0 tokens accepted");
    g.size = 0;
    CHECK(vkmm_image_prep_size(&g, 10, 10, &w, &h, &err) == VKMM_ERR_INVALID_ARG, "size 0 accepted");
    g.size = 100000;
    CHECK(vkmm_image_prep_size(&g, 10, 10, &w, &h, &err) == VKMM_ERR_INVALID_ARG, "huge output accepted");
}

static void normalisation_and_layout(void)
{
    vkmm_error err;
    /* 2 x 1 image, SQUARE to 2 (HF Gemma resizes to (2, 2)): checks CHW order and the formula exactly */
    uint8_t px[6] = {0, 128, 255, 51, 102, 204};
    vkmm_image img = {px, 2, 1, "png", 3};
    vkmm_image_prep p = vkmm_image_prep_gemma3(2);
    p.size = 2;
    vkmm_image_tensor t;
    CHECK_OK(vkmm_image_preprocess(&img, &p, &t, &err), &err, );
    CHECK(t.c == 3 && t.h == 2 && t.w == 2, "shape %ux%ux%u", t.c, t.h, t.w);
    for (int c = 0; c < 3; c++)
        for (int y = 0; y < 2; y++)
            for (int x = 0; x < 2; x++) {
                float want = ((float)(px[x * 3 + c] * (1.0 / 255.0)) - 0.5f) / 0.5f;
                float got = t.data[(c * 2 + y) * 2 + x];
                CHECK(got == want, "c%d y%d x%d: %.9g want %.9g", c, y, x, (double)got, (double)want);
            }
    CHECK(t.data[0] == -1.0f && t.data[2 * 4 + 0] == 1.0f, "ends of the range: %g %g", (double)t.data[0],
          (double)t.data[8]);
    vkmm_image_tensor_free(&t);
    p.std[1] = 0;
    CHECK(vkmm_image_preprocess(&img, &p, &t, &err) == VKMM_ERR_INVALID_ARG && t.data == NULL, "std 0 accepted");
    p.std[1] = NAN;
    CHECK(vkmm_image_preprocess(&img, &p, &t, &err) == VKMM_ERR_INVALID_ARG, "std NaN accepted");
    /* llama.cpp mode pads with black, which normalises to −mean/std */
    vkmm_image_prep l = vkmm_image_prep_pixtral_llama(16);
    uint8_t wide[40 * 4 * 3];
    memset(wide, 255, sizeof wide);
    vkmm_image w = {wide, 40, 4, "png", 3};
    CHECK_OK(vkmm_image_preprocess(&w, &l, &t, &err), &err, );
    /* 40 x 4: 28 x 28 is 1 token < 8 -> β = sqrt(8·784/160) ≈ 6.26: 252 x 28; the image fills 252 x 26 (ceil),
     * centred: row 0 is padding, rows 1..26 white, row 27 padding */
    CHECK(t.w == 252 && t.h == 28, "llama canvas %ux%u", t.w, t.h);
    if (t.w == 252 && t.h == 28) {
        float pad = (0.0f - l.mean[0]) / l.std[0], white = (1.0f - l.mean[0]) / l.std[0];
        CHECK(t.data[0] == pad && t.data[27 * 252] == pad, "padding %g", (double)t.data[0]);
        CHECK(t.data[1 * 252 + 100] == white && t.data[26 * 252 + 5] == white, "image %g", (double)t.data[252 + 100]);
    }
    vkmm_image_tensor_free(&t);
}

int main(void)
{
    sniffing();
    decoding_and_compositing();
    caps_before_decoding();
    file_and_memory_agree();
    resize_by_hand();
    size_rules();
    normalisation_and_layout();
    return test_finish("loader-image");
}
