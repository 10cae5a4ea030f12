/* loader/quantize.c — straightforward quantizers for every type vkmm reads: round-to-nearest codes with
 * per-block scales (not the error-minimising searches of other tools). They feed `vkmm-dev synth` and the tests;
 * each writes exactly the bit layout that loader/dequantize.c reads back. */
#include <math.h>
#include <string.h>

#include "f16.h"
#include "dtype_table.h"

static const int8_t iq4nl_values[16] = {-127, -104, -83, -65, -49, -35, -22, -10, 1, 13, 25, 38, 53, 69, 89, 113};

static void put_h(uint8_t *p, float v)
{
    uint16_t x = vkmm_f32_to_f16(v);
    p[0] = (uint8_t)x;
    p[1] = (uint8_t)(x >> 8);
}

/* The f16-rounded value actually stored, so codes are computed against what dequantization sees. */
static float stored(float v)
{
    return vkmm_f16_to_f32(vkmm_f32_to_f16(v));
}

static int clampi(int v, int lo, int hi)
{
    return v < lo ? lo : v > hi ? hi : v;
}

/* The value of largest magnitude, sign kept. */
static float signed_max(const float *x, int n)
{
    float m = 0;
    for (int i = 0; i < n; i++)
        if (fabsf(x[i]) > fabsf(m))
            m = x[i];
    return m;
}

static void min_max(const float *x, int n, float *mn, float *mx)
{
    *mn = *mx = x[0];
    for (int i = 1; i < n; i++) {
        if (x[i] < *mn) *mn = x[i];
        if (x[i] > *mx) *mx = x[i];
    }
}

static void q4_0(const float *x, uint8_t *b)
{
    float d = stored(signed_max(x, 32) / -8.0f), id = d ? 1.0f / d : 0;
    put_h(b, d);
    for (int j = 0; j < 16; j++) {
        int lo = clampi((int)lrintf(x[j] * id) + 8, 0, 15), hi = clampi((int)lrintf(x[j + 16] * id) + 8, 0, 15);
        b[2 + j] = (uint8_t)(lo | hi << 4);
    }
}

static void q4_1(const float *x, uint8_t *b)
{
    float mn, mx;
    min_max(x, 32, &mn, &mx);
    float d = stored((mx - mn) / 15.0f), m = stored(mn), id = d ? 1.0f / d : 0;
    put_h(b, d);
    put_h(b + 2, m);
    for (int j = 0; j < 16; j++) {
        int lo = clampi((int)lrintf((x[j] - m) * id), 0, 15), hi = clampi((int)lrintf((x[j + 16] - m) * id), 0, 15);
        b[4 + j] = (uint8_t)(lo | hi << 4);
    }
}

/* Q5_0 (offset 16, m = 0) and Q5_1 (offset 0, m = block minimum). */
static void q5(const float *x, uint8_t *qh4, uint8_t *qs, float d, float m, int offset)
{
    float id = d ? 1.0f / d : 0;
    uint32_t hb = 0;
    for (int j = 0; j < 16; j++) {
        int lo = clampi((int)lrintf((x[j] - m) * id) + offset, 0, 31);
        int hi = clampi((int)lrintf((x[j + 16] - m) * id) + offset, 0, 31);
        qs[j] = (uint8_t)((lo & 0xF) | (hi & 0xF) << 4);
        hb |= (uint32_t)(lo >> 4) << j | (uint32_t)(hi >> 4) << (j + 16);
    }
    for (int i = 0; i < 4; i++)
        qh4[i] = (uint8_t)(hb >> (8 * i));
}

static void q8_0(const float *x, uint8_t *b)
{
    float amax = fabsf(signed_max(x, 32));
    float d = stored(amax / 127.0f), id = d ? 1.0f / d : 0;
    put_h(b, d);
    for (int j = 0; j < 32; j++)
        b[2 + j] = (uint8_t)(int8_t)clampi((int)lrintf(x[j] * id), -127, 127);
}

static void iq4_nl_codes(const float *x, int n, float d, uint8_t *codes)
{
    float id = d ? 1.0f / d : 0;
    for (int i = 0; i < n; i++) {
        float v = x[i] * id;
        int best = 0;
        for (int k = 1; k < 16; k++)
            if (fabsf(v - iq4nl_values[k]) < fabsf(v - iq4nl_values[best]))
                best = k;
        codes[i] = (uint8_t)best;
    }
}

static void iq4_nl(const float *x, uint8_t *b)
{
    float d = stored(signed_max(x, 32) / iq4nl_values[0]);
    uint8_t c[32];
    put_h(b, d);
    iq4_nl_codes(x, 32, d, c);
    for (int j = 0; j < 16; j++)
        b[2 + j] = (uint8_t)(c[j] | c[j + 16] << 4);
}

/* Asymmetric sub-block scales for the K-quants with mins: scale s_j and positive min m_j per sub-block
 * of `sub` elements, codes 0..qmax. */
static void sub_scale_min(const float *x, int sub, int qmax, float *s, float *m)
{
    float mn, mx;
    min_max(x, sub, &mn, &mx);
    if (mn > 0)
        mn = 0;
    *s = (mx - mn) / qmax;
    *m = -mn;
}

static void q2_k(const float *x, uint8_t *b)
{
    float s[16], m[16], smax = 0, mmax = 0;
    for (int j = 0; j < 16; j++) {
        sub_scale_min(x + 16 * j, 16, 3, &s[j], &m[j]);
        if (s[j] > smax) smax = s[j];
        if (m[j] > mmax) mmax = m[j];
    }
    float d = stored(smax / 15.0f), dmin = stored(mmax / 15.0f);
    put_h(b + 80, d);
    put_h(b + 82, dmin);
    uint8_t *qs = b + 16;
    memset(qs, 0, 64);
    for (int j = 0; j < 16; j++) {
        int is = d ? clampi((int)lrintf(s[j] / d), 0, 15) : 0, im = dmin ? clampi((int)lrintf(m[j] / dmin), 0, 15) : 0;
        /* sub-block j covers elements 16j..16j+15, whose scale byte index is 8n + 2jj + hh */
        int e0 = 16 * j, n = e0 >> 7, jj = (e0 >> 5) & 3, hh = (e0 >> 4) & 1;
        b[8 * n + 2 * jj + hh] = (uint8_t)(is | im << 4);
        float es = d * is, em = dmin * im;
        for (int l = 0; l < 16; l++) {
            int e = e0 + l;
            int q = es ? clampi((int)lrintf((x[e] + em) / es), 0, 3) : 0;
            qs[32 * n + 16 * hh + l] |= (uint8_t)(q << (2 * jj));
        }
    }
}

static void q3_k(const float *x, uint8_t *b)
{
    float s[16], smax = 0;
    for (int j = 0; j < 16; j++) {
        s[j] = signed_max(x + 16 * j, 16) / -4.0f;
        if (fabsf(s[j]) > fabsf(smax)) smax = s[j];
    }
    float d = stored(smax / -32.0f);
    put_h(b + 108, d);
    uint8_t *hm = b, *qs = b + 32, *sc = b + 96;
    memset(b, 0, 108);
    for (int j = 0; j < 16; j++) {
        int is = d ? clampi((int)lrintf(s[j] / d), -32, 31) : 0;
        int u = is + 32;
        /* inverse of q3_k_scale: low nibble in byte j (j < 8) or high nibble of byte j-8; 2 high bits spread */
        if (j < 8)
            sc[j] |= (uint8_t)(u & 0xF);
        else
            sc[j - 8] |= (uint8_t)((u & 0xF) << 4);
        sc[8 + (j & 3)] |= (uint8_t)(((u >> 4) & 3) << (2 * (j >> 2)));
        float es = d * is;
        int e0 = 16 * j, n = e0 >> 7, jj = (e0 >> 5) & 3, hh = (e0 >> 4) & 1;
        for (int l = 0; l < 16; l++) {
            int e = e0 + l;
            int v = (es ? clampi((int)lrintf(x[e] / es), -4, 3) : 0) + 4;
            qs[32 * n + 16 * hh + l] |= (uint8_t)((v & 3) << (2 * jj));
            if (v >> 2)
                hm[16 * hh + l] |= (uint8_t)(1 << (4 * n + jj));
        }
    }
}

/* Inverse of the 6-bit scale/min packing of Q4_K/Q5_K. */
static void k4_pack(uint8_t *s, const int *sc, const int *m)
{
    memset(s, 0, 12);
    for (int k = 0; k < 8; k++) {
        if (k < 4) {
            s[k] |= (uint8_t)(sc[k] & 63);
            s[k + 4] |= (uint8_t)(m[k] & 63);
        } else {
            s[k + 4] |= (uint8_t)((sc[k] & 0xF) | (m[k] & 0xF) << 4);
            s[k - 4] |= (uint8_t)((sc[k] >> 4) << 6);
            s[k] |= (uint8_t)((m[k] >> 4) << 6);
        }
    }
}

/* Q4_K (qmax 15) and Q5_K (qmax 31): 8 sub-blocks of 32. */
static void qk_k(const float *x, uint8_t *b, int qmax)
{
    float s[8], m[8], smax = 0, mmax = 0;
    for (int j = 0; j < 8; j++) {
        sub_scale_min(x + 32 * j, 32, qmax, &s[j], &m[j]);
        if (s[j] > smax) smax = s[j];
        if (m[j] > mmax) mmax = m[j];
    }
    float d = stored(smax / 63.0f), dmin = stored(mmax / 63.0f);
    int is[8], im[8];
    for (int j = 0; j < 8; j++) {
        is[j] = d ? clampi((int)lrintf(s[j] / d), 0, 63) : 0;
        im[j] = dmin ? clampi((int)lrintf(m[j] / dmin), 0, 63) : 0;
    }
    put_h(b, d);
    put_h(b + 2, dmin);
    k4_pack(b + 4, is, im);
    bool five = qmax == 31;
    uint8_t *qh = b + 16, *qs = five ? b + 48 : b + 16;
    memset(qs, 0, 128);
    if (five)
        memset(qh, 0, 32);
    for (int e = 0; e < 256; e++) {
        int c = e >> 6, hh = (e >> 5) & 1, l = e & 31, k = 2 * c + hh;
        float es = d * is[k], em = dmin * im[k];
        int q = es ? clampi((int)lrintf((x[e] + em) / es), 0, qmax) : 0;
        qs[32 * c + l] |= (uint8_t)((q & 0xF) << (hh ? 4 : 0));
        if (five && (q >> 4))
            qh[l] |= (uint8_t)(1 << k);
    }
}

static void q6_k(const float *x, uint8_t *b)
{
    float s[16], smax = 0;
    for (int j = 0; j < 16; j++) {
        s[j] = signed_max(x + 16 * j, 16) / -32.0f;
        if (fabsf(s[j]) > fabsf(smax)) smax = s[j];
    }
    float d = stored(smax / -128.0f);
    put_h(b + 208, d);
    uint8_t *ql = b, *qh = b + 128;
    int8_t *sc = (int8_t *)(b + 192);
    memset(b, 0, 192);
    for (int j = 0; j < 16; j++) {
        int is = d ? clampi((int)lrintf(s[j] / d), -128, 127) : 0;
        int e0 = 16 * j, n = e0 >> 7, g = (e0 & 127) >> 5, l0 = e0 & 31;
        sc[8 * n + 2 * g + (l0 >> 4)] = (int8_t)is;
        float es = d * is;
        for (int t = 0; t < 16; t++) {
            int e = e0 + t, l = e & 31;
            int v = (es ? clampi((int)lrintf(x[e] / es), -32, 31) : 0) + 32;
            ql[64 * n + 32 * (g & 1) + l] |= (uint8_t)((v & 0xF) << (g < 2 ? 0 : 4));
            qh[32 * n + l] |= (uint8_t)((v >> 4) << (2 * g));
        }
    }
}

static void iq4_xs(const float *x, uint8_t *b)
{
    float s[8], smax = 0;
    for (int j = 0; j < 8; j++) {
        s[j] = signed_max(x + 32 * j, 32) / iq4nl_values[0];
        if (fabsf(s[j]) > fabsf(smax)) smax = s[j];
    }
    float d = stored(smax / -32.0f);
    put_h(b, d);
    uint16_t scales_h = 0;
    memset(b + 4, 0, 4);
    for (int j = 0; j < 8; j++) {
        int ls = (d ? clampi((int)lrintf(s[j] / d), -32, 31) : 0) + 32;
        b[4 + (j >> 1)] |= (uint8_t)((ls & 0xF) << (4 * (j & 1)));
        scales_h |= (uint16_t)((ls >> 4) << (2 * j));
        uint8_t c[32];
        iq4_nl_codes(x + 32 * j, 32, d * (ls - 32), c);
        for (int t = 0; t < 16; t++)
            b[8 + 16 * j + t] = (uint8_t)(c[t] | c[t + 16] << 4);
    }
    b[2] = (uint8_t)scales_h;
    b[3] = (uint8_t)(scales_h >> 8);
}

bool vkmm_quantize(uint32_t type, const float *src, void *dst, size_t n)
{
    const vkmm_dtype_info *t = vkmm_dtype_get(type);
    if (!t || !t->supported || n % t->block)
        return false;
    uint8_t *p = dst;
    for (size_t i = 0; i < n / t->block; i++, p += t->block_bytes, src += t->block) {
        switch (type) {
        case VKMM_F32: memcpy(p, src, 4); break;
        case VKMM_F16: put_h(p, src[0]); break;
        case VKMM_BF16: {
            uint16_t v = vkmm_f32_to_bf16(src[0]);
            p[0] = (uint8_t)v;
            p[1] = (uint8_t)(v >> 8);
            break;
        }
        case VKMM_Q4_0: q4_0(src, p); break;
        case VKMM_Q4_1: q4_1(src, p); break;
        case VKMM_Q5_0: {
            float d = stored(signed_max(src, 32) / -16.0f);
            put_h(p, d);
            q5(src, p + 2, p + 6, d, 0.0f, 16);
            break;
        }
        case VKMM_Q5_1: {
            float mn, mx;
            min_max(src, 32, &mn, &mx);
            float d = stored((mx - mn) / 31.0f), m = stored(mn);
            put_h(p, d);
            put_h(p + 2, m);
            q5(src, p + 4, p + 8, d, m, 0);
            break;
        }
        case VKMM_Q8_0: q8_0(src, p); break;
        case VKMM_Q2_K: q2_k(src, p); break;
        case VKMM_Q3_K: q3_k(src, p); break;
        case VKMM_Q4_K: qk_k(src, p, 15); break;
        case VKMM_Q5_K: qk_k(src, p, 31); break;
        case VKMM_Q6_K: q6_k(src, p); break;
        case VKMM_IQ4_NL: iq4_nl(src, p); break;
        case VKMM_IQ4_XS: iq4_xs(src, p); break;
        default: return false;
        }
    }
    return true;
}
