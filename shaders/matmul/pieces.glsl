// shaders/matmul/pieces.glsl — the mat-vec's unit of work: a "piece" is PIECE elements of one block of a weight
// row that one invocation decodes and multiplies with x in one step. Pieces are numbered along the row in memory
// order, so consecutive lanes read consecutive bytes (coalesced) and the few lanes of one block share its scales.
// Per type this defines PIECE, NXQ (x quads a piece needs), piece_xq(p, i) (float offset in the row of x quad i
// of piece p) and piece_q(rb, p, q, s, m): piece p of the row at byte rb as quads of weights s[i]·q[i] − m[i]
// (q small integers as floats where the type has them, so a single column needs one multiply-add per element);
// PIECE_MIN says whether m can be non-zero (0·x cannot be folded away by a compiler that respects NaNs).
// Fast paths (Q4_K, Q5_K, Q6_K, Q8_0, Q4_0, F16) read wide words; MV_GENERIC (and every other type) decodes
// eight elements at a time with dequant.glsl. Block layouts: ../shared/reference/gguf.md §6.
// The includer defines DQ_TYPE_<T> (W_PLAIN=1 for F32/F16/BF16) and declares spec constant ALIGN: the power of two
// (2..16) dividing every row's byte offset.

layout(std430, binding = 0) readonly buffer W16 { uint16_t w16[]; };
layout(std430, binding = 0) readonly buffer W32 { uint w32[]; };
layout(std430, binding = 0) readonly buffer WV4 { uvec4 wv4[]; };

#ifndef W_PLAIN
#define W_PLAIN 0
#endif
#define DQ_BUF w16
#include "dequant.glsl"

// ---- loads: 16 and 8 bytes at an offset known to be a multiple of a (a is a constant expression) ----
uvec4 ld16(uint o, uint a)
{
    if (a >= 16u)
        return wv4[o >> 4];
    if (a >= 4u)
        return uvec4(w32[o >> 2], w32[(o >> 2) + 1u], w32[(o >> 2) + 2u], w32[(o >> 2) + 3u]);
    return uvec4(dq_u32(o), dq_u32(o + 4u), dq_u32(o + 8u), dq_u32(o + 12u));
}
// 2-byte aligned data of rows that are 4-byte aligned: whole words and a funnel shift (fewer, wider loads than
// 16-bit ones; the word past the end is read only when the data straddles it)
uint funnel(uint lo, uint hi, uint sh) { return (lo >> sh) | ((hi << 16) << (16u - sh)); }
uvec2 ld8_2(uint o)
{
    if (ALIGN < 4u)
        return uvec2(dq_u32(o), dq_u32(o + 4u));
    uint i = o >> 2, sh = (o & 2u) * 8u;
    uint a = w32[i], b = w32[i + 1u], c = 0u;
    if (sh != 0u)
        c = w32[i + 2u];
    return uvec2(funnel(a, b, sh), funnel(b, c, sh));
}
uvec4 ld16_2(uint o)
{
    if (ALIGN < 4u)
        return ld16(o, 2u);
    uint i = o >> 2, sh = (o & 2u) * 8u;
    uvec4 a = uvec4(w32[i], w32[i + 1u], w32[i + 2u], w32[i + 3u]);
    uint e = 0u;
    if (sh != 0u)
        e = w32[i + 4u];
    return uvec4(funnel(a.x, a.y, sh), funnel(a.y, a.z, sh), funnel(a.z, a.w, sh), funnel(a.w, e, sh));
}

// ---- small integers to float without the (slow on some GPUs) int->float conversion: 2^23 + v has v in its
// mantissa, so subtracting 2^23 + bias is exact ----
const uint MV_MAGIC = 0x4b000000u;
vec4 mv_bytes(uint v, float bias)
{
    uvec4 u = (uvec4(v, v >> 8, v >> 16, v >> 24) & 0xffu) | MV_MAGIC;
    return uintBitsToFloat(u) - (8388608.0 + bias);
}
float mv_sum(vec4 v) { return dot(v, vec4(1.0)); }


// a plain-typed element (the ragged tail of rows whose length is not a multiple of PIECE)
float w_elem(uint rb, uint e) { return dq(rb, e); }

#if defined(MV_GENERIC) || !(defined(DQ_TYPE_Q4_K) || defined(DQ_TYPE_Q5_K) || defined(DQ_TYPE_Q6_K) || \
                             defined(DQ_TYPE_Q8_0) || defined(DQ_TYPE_Q4_0))
// ---- generic: eight consecutive elements of a block (F16: one 16-byte load where rows allow) ----
#define PIECE 8u
#define NXQ 2u
uint piece_xq(uint p, uint i) { return 8u * p + 4u * i; }
void piece_q(uint rb, uint p, out vec4 q[NXQ], out float s[NXQ], out float m[NXQ])
{
#if defined(DQ_TYPE_F16) && !defined(MV_GENERIC)
    uvec4 h = ld16(rb + 16u * p, ALIGN);
    q[0] = vec4(unpackHalf2x16(h.x), unpackHalf2x16(h.y));
    q[1] = vec4(unpackHalf2x16(h.z), unpackHalf2x16(h.w));
#else
    uint b = rb + (8u * p / DQ_BLOCK) * DQ_BLOCK_BYTES, e = 8u * p % DQ_BLOCK;
    q[0] = dq4(b, e);
    q[1] = dq4(b, e + 4u);
#endif
    s[0] = s[1] = 1.0;
    m[0] = m[1] = 0.0;
}

#elif defined(DQ_TYPE_Q8_0)
// ---- Q8_0 (34-byte blocks): half a block, 16 signed bytes ----
#define PIECE 16u
#define NXQ 4u
uint piece_xq(uint p, uint i) { return 16u * p + 4u * i; }
void piece_q(uint rb, uint p, out vec4 q[NXQ], out float s[NXQ], out float m[NXQ])
{
    uint b = rb + (p >> 1) * 34u;
    uvec4 v = ld16_2(b + 2u + 16u * (p & 1u)) ^ 0x80808080u; // signed -> biased by 128
    float d = dq_half(b);
    for (uint i = 0u; i < 4u; i++) {
        q[i] = mv_bytes(v[i], 128.0);
        s[i] = d;
        m[i] = 0.0;
    }
}

#elif defined(DQ_TYPE_Q4_0)
// ---- Q4_0 (18-byte blocks): 8 of the 16 code bytes, i.e. elements 8h..8h+7 (low nibbles) and 16+8h.. (high) ----
#define PIECE 16u
#define NXQ 4u
uint piece_xq(uint p, uint i) { return 32u * (p >> 1) + 8u * (p & 1u) + 4u * (i & 1u) + 16u * (i >> 1); }
void piece_q(uint rb, uint p, out vec4 q[NXQ], out float s[NXQ], out float m[NXQ])
{
    uint b = rb + (p >> 1) * 18u;
    uvec2 v = ld8_2(b + 2u + 8u * (p & 1u));
    uvec2 lo = v & 0x0f0f0f0fu, hi = (v >> 4) & 0x0f0f0f0fu;
    q[0] = mv_bytes(lo.x, 8.0);
    q[1] = mv_bytes(lo.y, 8.0);
    q[2] = mv_bytes(hi.x, 8.0);
    q[3] = mv_bytes(hi.y, 8.0);
    float d = dq_half(b);
    for (uint i = 0u; i < 4u; i++) {
        s[i] = d;
        m[i] = 0.0;
    }
}

#elif defined(DQ_TYPE_Q4_K) || defined(DQ_TYPE_Q5_K)
// ---- Q4_K / Q5_K: 16 code bytes (32 elements) of one 64-element chunk c: low nibbles are sub-block 2c, high
// nibbles sub-block 2c+1; the 16-byte header (d, dmin, 12 scale bytes) is one load shared by the block's 8 lanes ----
#define PIECE 32u
#define NXQ 8u
#define PIECE_MIN 1 // m is not zero
#if defined(DQ_TYPE_Q4_K)
#define KQ_BYTES 144u
#define KQ_QS 16u
#else
#define KQ_BYTES 176u
#define KQ_QS 48u
#endif
uint piece_xq(uint p, uint i)
{
    uint j = p & 7u;
    return 256u * (p >> 3) + 64u * (j >> 1) + 16u * (j & 1u) + 4u * (i & 3u) + 32u * (i >> 2);
}
uint kq_byte(uint w, uint i) { return (w >> (8u * i)) & 0xffu; }
void piece_q(uint rb, uint p, out vec4 q[NXQ], out float s[NXQ], out float m[NXQ])
{
    uint j = p & 7u, c = j >> 1, h = j & 1u;
    uint b = rb + (p >> 3) * KQ_BYTES;
    uvec4 hd = ld16(b, ALIGN);
    uvec4 v = ld16(b + KQ_QS + 32u * c + 16u * h, ALIGN);
    // 6-bit scales and mins of sub-blocks 2c and 2c+1 (scale bytes 0-3 in hd.y, 4-7 in hd.z, 8-11 in hd.w)
    uint k0 = 2u * c, sc0, sc1, m0, m1;
    if (c < 2u) {
        sc0 = kq_byte(hd.y, k0) & 63u;
        sc1 = kq_byte(hd.y, k0 + 1u) & 63u;
        m0 = kq_byte(hd.z, k0) & 63u;
        m1 = kq_byte(hd.z, k0 + 1u) & 63u;
    } else {
        uint k4 = k0 - 4u;
        uint t0 = kq_byte(hd.w, k4), t1 = kq_byte(hd.w, k4 + 1u);
        sc0 = (t0 & 15u) | ((kq_byte(hd.y, k4) >> 6) << 4);
        sc1 = (t1 & 15u) | ((kq_byte(hd.y, k4 + 1u) >> 6) << 4);
        m0 = (t0 >> 4) | ((kq_byte(hd.z, k4) >> 6) << 4);
        m1 = (t1 >> 4) | ((kq_byte(hd.z, k4 + 1u) >> 6) << 4);
    }
    uvec4 lo = v & 0x0f0f0f0fu, hi = (v >> 4) & 0x0f0f0f0fu;
#if defined(DQ_TYPE_Q5_K)
    // fifth bits: qh byte l holds bit k for element 32k + l
    uvec4 qh = ld16(b + 16u + 16u * h, ALIGN);
    lo |= ((qh >> k0) & 0x01010101u) << 4;
    hi |= ((qh >> (k0 + 1u)) & 0x01010101u) << 4;
#endif
    vec2 dm = unpackHalf2x16(hd.x);
    for (uint i = 0u; i < 4u; i++) {
        q[i] = mv_bytes(lo[i], 0.0);
        q[i + 4u] = mv_bytes(hi[i], 0.0);
        s[i] = dm.x * float(sc0);
        s[i + 4u] = dm.x * float(sc1);
        m[i] = dm.y * float(m0);
        m[i + 4u] = dm.y * float(m1);
    }
}

#elif defined(DQ_TYPE_Q6_K)
// ---- Q6_K (210-byte blocks): half n of a block, positions l0..l0+7 of its four 32-element groups g:
// element 128n + 32g + l has low bits in ql byte 64n + 32(g&1) + l (high nibble for g >= 2), high bits in qh byte
// 32n + l at bit 2g, int8 scale 8n + 2g + l/16 ----
#define PIECE 32u
#define NXQ 8u
uint piece_xq(uint p, uint i)
{
    uint j = p & 7u;
    return 256u * (p >> 3) + 128u * (j >> 2) + 8u * (j & 3u) + 32u * (i >> 1) + 4u * (i & 1u);
}
void piece_q(uint rb, uint p, out vec4 q[NXQ], out float s[NXQ], out float m[NXQ])
{
    uint j = p & 7u, n = j >> 2, l0 = 8u * (j & 3u);
    uint b = rb + (p >> 3) * 210u;
    uvec2 qa = ld8_2(b + 64u * n + l0), qb = ld8_2(b + 64u * n + 32u + l0), qh = ld8_2(b + 128u + 32u * n + l0);
    uvec2 sc = ld8_2(b + 192u + 8u * n) >> (8u * (l0 >> 4)); // scale 2g of the 8 now at bit 16(g&1) of word g>>1
    float d = dq_half(b + 208u);
    for (uint g = 0u; g < 4u; g++) {
        uvec2 ql = (g & 1u) != 0u ? qb : qa;
        uvec2 v = (((g >= 2u) ? ql >> 4 : ql) & 0x0f0f0f0fu) | (((qh >> (2u * g)) & 0x03030303u) << 4);
        q[2u * g] = mv_bytes(v.x, 32.0);
        q[2u * g + 1u] = mv_bytes(v.y, 32.0);
        uint sw = (g >= 2u ? sc.y : sc.x) >> (16u * (g & 1u));
        s[2u * g] = s[2u * g + 1u] = d * float(int(sw << 24) >> 24);
        m[2u * g] = m[2u * g + 1u] = 0.0;
    }
}
#endif
