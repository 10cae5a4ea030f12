/* tests/loader/test_image_ref.c — vkmm's decode and preprocessing against what Pillow + numpy (the way HF's
 * processors use them) gave for the images in tests/data/images/ (scripts/make_test_images.py wrote both):
 * PNG and BMP decoding, alpha compositing, the uint8 resize and the float32 tensor must match bit for bit;
 * JPEG decoders differ (stb vs libjpeg), so JPEG pixels must stay within a stated bound of Pillow's. */
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "image.h"

/* stb and libjpeg-turbo use different IDCTs and chroma upsampling; measured on these files (Pillow 9.4):
 * max 1 to 3, mean under 0.08. The bound fails on a wrong colour conversion, upsampling or layout. */
#define JPEG_MAX_DIFF 8
#define JPEG_MEAN_DIFF 0.5

static uint64_t fnv(uint64_t h, const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        h = (h ^ p[i]) * 0x100000001b3ull;
    return h;
}

static uint64_t fnv_f32(const float *x, size_t n)
{
    uint64_t h = 0xcbf29ce484222325ull;
    for (size_t i = 0; i < n; i++) {
        uint32_t u;
        memcpy(&u, &x[i], 4);
        uint8_t b[4] = {(uint8_t)u, (uint8_t)(u >> 8), (uint8_t)(u >> 16), (uint8_t)(u >> 24)};
        h = fnv(h, b, 4);
    }
    return h;
}

static const char *dir;

static int load(const char *file, const uint8_t bg[3], vkmm_image *img)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", dir, file);
    vkmm_image_options o = vkmm_image_options_default();
    if (bg)
        memcpy(o.background, bg, 3);
    vkmm_error err;
    vkmm_status s = vkmm_image_load(path, &o, img, &err);
    CHECK(s == VKMM_OK, "%s: %s", file, err.msg);
    return s == VKMM_OK;
}

static void check_decode(const char *file, unsigned w, unsigned h, int ch, const char *bghex, const char *want)
{
    unsigned long bgv = strtoul(bghex, NULL, 16);
    uint8_t bg[3] = {(uint8_t)(bgv >> 16), (uint8_t)(bgv >> 8), (uint8_t)bgv};
    vkmm_image img;
    if (!load(file, bg, &img))
        return;
    CHECK(img.width == w && img.height == h && img.channels == ch, "%s: %ux%u x%d, want %ux%u x%d", file,
          img.width, img.height, img.channels, w, h, ch);
    char got[32];
    snprintf(got, sizeof got, "%016llx",
             (unsigned long long)fnv(0xcbf29ce484222325ull, img.rgb, (size_t)img.width * img.height * 3));
    CHECK(!strcmp(got, want), "%s on #%s: pixels differ from Pillow (fnv %s, want %s)", file, bghex, got, want);
    vkmm_image_free(&img);
}

static void check_near(const char *file, unsigned w, unsigned h, const char *raw)
{
    vkmm_image img;
    if (!load(file, NULL, &img))
        return;
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", dir, raw);
    FILE *f = fopen(path, "rb");
    size_t n = (size_t)w * h * 3;
    uint8_t *ref = malloc(n + 1);
    size_t got = f ? fread(ref, 1, n + 1, f) : 0;
    if (f)
        fclose(f);
    CHECK(got == n, "%s: %zu bytes, want %zu", raw, got, n);
    if (got == n && img.width == w && img.height == h) {
        int maxd = 0;
        double sum = 0;
        for (size_t i = 0; i < n; i++) {
            int d = abs((int)img.rgb[i] - ref[i]);
            maxd = d > maxd ? d : maxd;
            sum += d;
        }
        CHECK(maxd <= JPEG_MAX_DIFF && sum / n <= JPEG_MEAN_DIFF, "%s: max diff %d, mean %.3f vs Pillow", file,
              maxd, sum / n);
        printf("%-24s max |stb - Pillow| = %d, mean %.3f\n", file, maxd, sum / n);
    } else {
        CHECK(img.width == w && img.height == h, "%s: %ux%u, want %ux%u", file, img.width, img.height, w, h);
    }
    free(ref);
    vkmm_image_free(&img);
}

static void check_prep(const char *file, const char *mode, unsigned size, unsigned patch, const char *filt,
                       unsigned ow, unsigned oh, const char *want_u8, const char *want_f32)
{
    vkmm_image img;
    if (!load(file, NULL, &img))
        return;
    vkmm_image_prep p = !strcmp(mode, "square") ? vkmm_image_prep_gemma3(size) : vkmm_image_prep_pixtral(size);
    p.patch = patch;
    p.filter = !strcmp(filt, "bicubic") ? VKMM_FILTER_PIL_BICUBIC : VKMM_FILTER_PIL_BILINEAR;
    vkmm_error err;
    vkmm_image r;
    vkmm_image_tensor t;
    char got[32];
    if (vkmm_image_prep_resize(&img, &p, &r, &err) == VKMM_OK) {
        CHECK(r.width == ow && r.height == oh, "%s %s %u %s: size %ux%u, want %ux%u", file, mode, size, filt, r.width,
              r.height, ow, oh);
        snprintf(got, sizeof got, "%016llx",
                 (unsigned long long)fnv(0xcbf29ce484222325ull, r.rgb, (size_t)r.width * r.height * 3));
        CHECK(!strcmp(got, want_u8), "%s %s %u %s: resized pixels differ from Pillow", file, mode, size, filt);
        vkmm_image_free(&r);
    } else {
        CHECK(0, "%s: %s", file, err.msg);
    }
    if (vkmm_image_preprocess(&img, &p, &t, &err) == VKMM_OK) {
        CHECK(t.c == 3 && t.w == ow && t.h == oh, "%s: tensor %ux%ux%u", file, t.c, t.h, t.w);
        snprintf(got, sizeof got, "%016llx", (unsigned long long)fnv_f32(t.data, (size_t)t.c * t.h * t.w));
        CHECK(!strcmp(got, want_f32), "%s %s %u %s: float tensor differs from HF's", file, mode, size, filt);
        vkmm_image_tensor_free(&t);
    } else {
        CHECK(0, "%s: %s", file, err.msg);
    }
    vkmm_image_free(&img);
}

int main(int argc, char **argv)
{
    dir = argc > 1 ? argv[1] : "tests/data/images";
    char path[1024];
    snprintf(path, sizeof path, "%s/expected.txt", dir);
    FILE *f = fopen(path, "r");
    CHECK(f != NULL, "cannot open %s", path);
    if (!f)
        return test_finish("loader-image-ref");
    char line[512];
    int decodes = 0, nears = 0, preps = 0;
    while (fgets(line, sizeof line, f)) {
        char kind[16], file[128], a[64], b[64], c[64], d[64];
        unsigned w, h, s, pt, ow, oh;
        int ch;
        if (line[0] == '#' || sscanf(line, "%15s", kind) != 1)
            continue;
        if (!strcmp(kind, "decode") && sscanf(line, "%*s %127s %u %u %d %63s %63s", file, &w, &h, &ch, a, b) == 6) {
            check_decode(file, w, h, ch, a, b);
            decodes++;
        } else if (!strcmp(kind, "near") && sscanf(line, "%*s %127s %u %u %d %63s", file, &w, &h, &ch, a) == 5) {
            check_near(file, w, h, a);
            nears++;
        } else if (!strcmp(kind, "prep") &&
                   sscanf(line, "%*s %127s %63s %u %u %63s %u %u %63s %63s", file, a, &s, &pt, b, &ow, &oh, c, d) == 9) {
            check_prep(file, a, s, pt, b, ow, oh, c, d);
            preps++;
        } else {
            CHECK(0, "bad line in expected.txt: %s", line);
        }
    }
    fclose(f);
    printf("%d decodes, %d JPEG comparisons, %d preprocessings checked\n", decodes, nears, preps);
    CHECK(decodes >= 15 && nears >= 3 && preps >= 150, "expected.txt is missing cases");
    return test_finish("loader-image-ref");
}
