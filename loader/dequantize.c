/* loader/dequantize.c — CPU dequantization of every type vkmm reads, written per element from the formulas in
 * ../shared/reference/gguf.md §6. It is the reference the GPU kernels are tested against. */
#include <string.h>

#include "f16.h"
#include "dtype_table.h"

static const int8_t iq4nl_values[16] = {-127, -104, -83, -65, -49, -35, -22, -10, 1, 13, 25, 38, 53, 69, 89, 113};

static float h(const uint8_t *p)
{
    return vkmm_f16_to_f32((uint16_t)(p[0] | p[1] << 8));
}

static void q4_0(const uint8_t *b, float *y)
{
    float d = h(b);
    for (int j = 0; j < 16; j++) {
        y[j] = d * ((b[2 + j] & 0xF) - 8);
        y[j + 16] = d * ((b[2 + j] >> 4) - 8);
    }
}

static void q4_1(const uint8_t *b, float *y)
{
    float d = h(b), m = h(b + 2);
    for (int j = 0; j < 16; j++) {
        y[j] = d * (b[4 + j] & 0xF) + m;
        y[j + 16] = d * (b[4 + j] >> 4) + m;
    }
}

static void q5(const uint8_t *qh4, const uint8_t *qs, float d, float m, int offset, float *y)
{
    uint32_t hb = (uint32_t)qh4[0] | (uint32_t)qh4[1] << 8 | (uint32_t)qh4[2] << 16 | (uint32_t)qh4[3] << 24;
    for (int j = 0; j < 16; j++) {
        int lo = (qs[j] & 0xF) | (int)(((hb >> j) & 1) << 4);
        int hi = (qs[j] >> 4) | (int)(((hb >> (j + 16)) & 1) << 4);
        y[j] = d * (lo - offset) + m;
        y[j + 16] = d * (hi - offset) + m;
    }
}

static void q8_0(const uint8_t *b, float *y)
{
    float d = h(b);
    for (int j = 0; j < 32; j++)
        y[j] = d * (int8_t)b[2 + j];
}

static void q2_k(const uint8_t *b, float *y)
{
    const uint8_t *sc = b, *qs = b + 16;
    float d = h(b + 80), dmin = h(b + 82);
    for (int e = 0; e < 256; e++) {
        int n = e >> 7, j = (e >> 5) & 3, hh = (e >> 4) & 1, l = e & 15;
        int q = (qs[32 * n + 16 * hh + l] >> (2 * j)) & 3;
        int s = sc[8 * n + 2 * j + hh];
        y[e] = d * (s & 0xF) * q - dmin * (s >> 4);
    }
}

static int q3_k_scale(const uint8_t *s, int i)
{
    int lo = i < 8 ? s[i] & 0xF : s[i - 8] >> 4;
    int hi = (s[8 + (i & 3)] >> (2 * (i >> 2))) & 3;
    return (lo | hi << 4) - 32;
}

static void q3_k(const uint8_t *b, float *y)
{
    const uint8_t *hm = b, *qs = b + 32, *sc = b + 96;
    float d = h(b + 108);
    for (int e = 0; e < 256; e++) {
        int n = e >> 7, j = (e >> 5) & 3, hh = (e >> 4) & 1, l = e & 15;
        int q2 = (qs[32 * n + 16 * hh + l] >> (2 * j)) & 3;
        int hb = (hm[16 * hh + l] >> (4 * n + j)) & 1;
        int q = q2 - (hb ? 0 : 4);
        y[e] = d * q3_k_scale(sc, 8 * n + 2 * j + hh) * q;
    }
}

/* The 6-bit scale/min packing shared by Q4_K and Q5_K. */
static void k4_scale_min(const uint8_t *s, int k, int *sc, int *m)
{
    if (k < 4) {
        *sc = s[k] & 63;
        *m = s[k + 4] & 63;
    } else {
        *sc = (s[k + 4] & 0xF) | ((s[k - 4] >> 6) << 4);
        *m = (s[k + 4] >> 4) | ((s[k] >> 6) << 4);
    }
}

static void q4_k(const uint8_t *b, float *y)
{
    float d = h(b), dmin = h(b + 2);
    const uint8_t *s = b + 4, *qs = b + 16;
    for (int e = 0; e < 256; e++) {
        int c = e >> 6, hh = (e >> 5) & 1, l = e & 31, k = 2 * c + hh, sc, m;
        k4_scale_min(s, k, &sc, &m);
        int byte = qs[32 * c + l];
        int q = hh ? byte >> 4 : byte & 0xF;
        y[e] = d * sc * q - dmin * m;
    }
}

static void q5_k(const uint8_t *b, float *y)
{
    float d = h(b), dmin = h(b + 2);
    const uint8_t *s = b + 4, *qh = b + 16, *qs = b + 48;
    for (int e = 0; e < 256; e++) {
        int c = e >> 6, hh = (e >> 5) & 1, l = e & 31, k = 2 * c + hh, sc, m;
        k4_scale_min(s, k, &sc, &m);
        int byte = qs[32 * c + l];
        int q = (hh ? byte >> 4 : byte & 0xF) + 16 * ((qh[l] >> k) & 1);
        y[e] = d * sc * q - dmin * m;
    }
}

static void q6_k(const uint8_t *b, float *y)
{
    const uint8_t *ql = b, *qh = b + 128;
    const int8_t *sc = (const int8_t *)(b + 192);
    float d = h(b + 208);
    for (int e = 0; e < 256; e++) {
        int n = e >> 7, r = e & 127, g = r >> 5, l = r & 31;
        int byte = ql[64 * n + 32 * (g & 1) + l];
        int lo = g < 2 ? byte & 0xF : byte >> 4;
        int hi = (qh[32 * n + l] >> (2 * g)) & 3;
        y[e] = d * sc[8 * n + 2 * g + (l >> 4)] * ((lo | hi << 4) - 32);
    }
}

static void iq4_nl(const uint8_t *b, float *y)
{
    float d = h(b);
    for (int j = 0; j < 16; j++) {
        y[j] = d * iq4nl_values[b[2 + j] & 0xF];
        y[j + 16] = d * iq4nl_values[b[2 + j] >> 4];
    }
}

static void iq4_xs(const uint8_t *b, float *y)
{
    float d = h(b);
    int scales_h = b[2] | b[3] << 8;
    const uint8_t *sl = b + 4, *qs = b + 8;
    for (int e = 0; e < 256; e++) {
        int s = e >> 5, t = e & 31;
        int ls = ((sl[s >> 1] >> (4 * (s & 1))) & 0xF) | (((scales_h >> (2 * s)) & 3) << 4);
        int byte = qs[16 * s + (t & 15)];
        y[e] = d * (ls - 32) * iq4nl_values[t < 16 ? byte & 0xF : byte >> 4];
    }
}

bool vkmm_dequantize(uint32_t type, const void *src, float *dst, size_t n)
{
    const vkmm_dtype_info *t = vkmm_dtype_get(type);
    if (!t || !t->supported || n % t->block)
        return false;
    const uint8_t *p = src;
    size_t blocks = n / t->block;
    for (size_t i = 0; i < blocks; i++, p += t->block_bytes, dst += t->block) {
        switch (type) {
        case VKMM_F32: memcpy(dst, p, 4); break;
        case VKMM_F16: dst[0] = h(p); break;
        case VKMM_BF16: dst[0] = vkmm_bf16_to_f32((uint16_t)(p[0] | p[1] << 8)); break;
        case VKMM_Q4_0: q4_0(p, dst); break;
        case VKMM_Q4_1: q4_1(p, dst); break;
        case VKMM_Q5_0: q5(p + 2, p + 6, h(p), 0.0f, 16, dst); break;
        case VKMM_Q5_1: q5(p + 4, p + 8, h(p), h(p + 2), 0, dst); break;
        case VKMM_Q8_0: q8_0(p, dst); break;
        case VKMM_Q2_K: q2_k(p, dst); break;
        case VKMM_Q3_K: q3_k(p, dst); break;
        case VKMM_Q4_K: q4_k(p, dst); break;
        case VKMM_Q5_K: q5_k(p, dst); break;
        case VKMM_Q6_K: q6_k(p, dst); break;
        case VKMM_IQ4_NL: iq4_nl(p, dst); break;
        case VKMM_IQ4_XS: iq4_xs(p, dst); break;
        default: return false;
        }
    }
    return true;
}
