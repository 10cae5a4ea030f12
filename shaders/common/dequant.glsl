// shaders/common/dequant.glsl — decoding of every GGUF block layout vkmm reads, element by element, from the
// formulas of ../shared/reference/gguf.md §6 (the same as loader/dequantize.c, the CPU reference).
//
// The includer declares the buffer holding the blocks as a uint16_t array and names it before including:
//     layout(std430, binding = 0) readonly buffer W { uint16_t w16[]; };
//     #define DQ_BUF w16
// (every block size is even, so blocks of a 2-byte aligned tensor start 2-byte aligned). Byte offsets are
// relative to the start of that binding.
//
// Per type T (f32 f16 bf16 q4_0 q4_1 q5_0 q5_1 q8_0 q2_k q3_k q4_k q5_k q6_k iq4_nl iq4_xs):
//     vec4  dq4_T(uint b, uint e)  elements e..e+3 (e a multiple of 4) of the block at byte b — the fast form
//     float dq_T(uint b, uint e)   element e of the block at byte b
// For the plain types (F32, F16, BF16) a "block" is one element and b may point at any element: dq4 reads the
// four elements from b on, dq the element e after b.
// With DQ_TYPE_<T> defined, dq4(b, e), dq(b, e), DQ_BLOCK and DQ_BLOCK_BYTES select that type.

#ifndef DQ_BUF
#error "declare the block buffer as uint16_t[] and #define DQ_BUF to its name before including dequant.glsl"
#endif

uint dq_u16(uint o) { return uint(DQ_BUF[o >> 1]); }                 // o even
uint dq_u32(uint o) { return dq_u16(o) | (dq_u16(o + 2u) << 16); }    // o even
uint dq_u8(uint o) { return (dq_u16(o & ~1u) >> ((o & 1u) * 8u)) & 0xffu; }
float dq_half(uint o) { return unpackHalf2x16(dq_u16(o)).x; }

// the four bytes of a word as floats, unsigned and signed
vec4 dq_bytes(uint q) { return vec4(q & 0xffu, (q >> 8) & 0xffu, (q >> 16) & 0xffu, q >> 24); }
vec4 dq_sbytes(uint q) { return vec4(ivec4(int(q << 24), int(q << 16), int(q << 8), int(q)) >> 24); }
// the low (or high) nibbles of the four bytes of a word
vec4 dq_nibbles(uint q, bool high) { return dq_bytes((high ? q >> 4 : q) & 0x0f0f0f0fu); }
// bits 0..3 of v as four floats
vec4 dq_bits4(uint v) { return vec4(v & 1u, (v >> 1) & 1u, (v >> 2) & 1u, (v >> 3) & 1u); }

const float DQ_IQ4NL[16] = float[16](-127.0, -104.0, -83.0, -65.0, -49.0, -35.0, -22.0, -10.0,
                                     1.0, 13.0, 25.0, 38.0, 53.0, 69.0, 89.0, 113.0);
vec4 dq_iq4(vec4 codes)
{
    return vec4(DQ_IQ4NL[uint(codes.x)], DQ_IQ4NL[uint(codes.y)], DQ_IQ4NL[uint(codes.z)], DQ_IQ4NL[uint(codes.w)]);
}

// ---- plain types ----
vec4 dq4_f32(uint b, uint e)
{
    uint o = b + 4u * e;
    return uintBitsToFloat(uvec4(dq_u32(o), dq_u32(o + 4u), dq_u32(o + 8u), dq_u32(o + 12u)));
}
vec4 dq4_f16(uint b, uint e)
{
    uint o = b + 2u * e;
    return vec4(unpackHalf2x16(dq_u32(o)), unpackHalf2x16(dq_u32(o + 4u)));
}
vec4 dq4_bf16(uint b, uint e)
{
    uint o = b + 2u * e, lo = dq_u32(o), hi = dq_u32(o + 4u);
    return uintBitsToFloat(uvec4(lo << 16, lo & 0xffff0000u, hi << 16, hi & 0xffff0000u));
}

// ---- 32-element blocks: elements j and j + 16 share byte j of qs ----
vec4 dq4_q4_0(uint b, uint e)
{
    return dq_half(b) * (dq_nibbles(dq_u32(b + 2u + (e & 15u)), e >= 16u) - 8.0);
}
vec4 dq4_q4_1(uint b, uint e)
{
    return dq_half(b) * dq_nibbles(dq_u32(b + 4u + (e & 15u)), e >= 16u) + dq_half(b + 2u);
}
// Q5: the fifth bit of element e is bit e of the 32-bit qh
vec4 dq4_q5_0(uint b, uint e)
{
    vec4 q = dq_nibbles(dq_u32(b + 6u + (e & 15u)), e >= 16u) + 16.0 * dq_bits4(dq_u32(b + 2u) >> e);
    return dq_half(b) * (q - 16.0);
}
vec4 dq4_q5_1(uint b, uint e)
{
    vec4 q = dq_nibbles(dq_u32(b + 8u + (e & 15u)), e >= 16u) + 16.0 * dq_bits4(dq_u32(b + 4u) >> e);
    return dq_half(b) * q + dq_half(b + 2u);
}
vec4 dq4_q8_0(uint b, uint e)
{
    return dq_half(b) * dq_sbytes(dq_u32(b + 2u + e));
}
vec4 dq4_iq4_nl(uint b, uint e)
{
    return dq_half(b) * dq_iq4(dq_nibbles(dq_u32(b + 2u + (e & 15u)), e >= 16u));
}

// ---- 256-element super-blocks ----
// e = 128n + 32j + 16h + l: 2-bit codes in byte 32n + 16h + l of qs, at bit 2j
vec4 dq4_q2_k(uint b, uint e)
{
    uint n = e >> 7, j = (e >> 5) & 3u, h = (e >> 4) & 1u, l = e & 15u;
    vec4 q = dq_bytes((dq_u32(b + 16u + 32u * n + 16u * h + l) >> (2u * j)) & 0x03030303u);
    uint s = dq_u8(b + 8u * n + 2u * j + h);
    return dq_half(b + 80u) * float(s & 15u) * q - dq_half(b + 82u) * float(s >> 4);
}

// the 6-bit signed scale i of Q3_K (16 packed in 12 bytes at byte 96)
float dq_q3_k_scale(uint b, uint i)
{
    uint lo = i < 8u ? dq_u8(b + 96u + i) & 15u : dq_u8(b + 88u + i) >> 4;
    uint hi = (dq_u8(b + 104u + (i & 3u)) >> (2u * (i >> 2))) & 3u;
    return float(int(lo | (hi << 4)) - 32);
}
// as Q2_K, plus a third bit in hmask byte 16h + l at bit 4n + j; a cleared bit subtracts 4
vec4 dq4_q3_k(uint b, uint e)
{
    uint n = e >> 7, j = (e >> 5) & 3u, h = (e >> 4) & 1u, l = e & 15u;
    vec4 q = dq_bytes((dq_u32(b + 32u + 32u * n + 16u * h + l) >> (2u * j)) & 0x03030303u);
    vec4 hb = dq_bytes((dq_u32(b + 16u * h + l) >> (4u * n + j)) & 0x01010101u);
    return dq_half(b + 108u) * dq_q3_k_scale(b, 8u * n + 2u * j + h) * (q - 4.0 + 4.0 * hb);
}

// the 6-bit scale and min k of Q4_K / Q5_K (8 pairs packed in 12 bytes at byte 4)
vec2 dq_k4_scale_min(uint b, uint k)
{
    uint s = b + 4u;
    if (k < 4u)
        return vec2(dq_u8(s + k) & 63u, dq_u8(s + k + 4u) & 63u);
    return vec2((dq_u8(s + k + 4u) & 15u) | ((dq_u8(s + k - 4u) >> 6) << 4),
                (dq_u8(s + k + 4u) >> 4) | ((dq_u8(s + k) >> 6) << 4));
}
// e = 64c + 32h + l: code in byte 32c + l of qs, low nibble for h = 0; sub-block k = 2c + h = e / 32
vec4 dq4_q4_k(uint b, uint e)
{
    uint c = e >> 6, h = (e >> 5) & 1u, l = e & 31u;
    vec2 sm = dq_k4_scale_min(b, e >> 5);
    vec4 q = dq_nibbles(dq_u32(b + 16u + 32u * c + l), h != 0u);
    return dq_half(b) * sm.x * q - dq_half(b + 2u) * sm.y;
}
// as Q4_K with qs at byte 48, plus a fifth bit from qh byte l, bit k
vec4 dq4_q5_k(uint b, uint e)
{
    uint c = e >> 6, h = (e >> 5) & 1u, l = e & 31u, k = e >> 5;
    vec2 sm = dq_k4_scale_min(b, k);
    vec4 q = dq_nibbles(dq_u32(b + 48u + 32u * c + l), h != 0u) +
             16.0 * dq_bytes((dq_u32(b + 16u + l) >> k) & 0x01010101u);
    return dq_half(b) * sm.x * q - dq_half(b + 2u) * sm.y;
}
// e = 128n + 32g + l: low 4 bits in ql byte 64n + 32(g & 1) + l (high nibble for g >= 2), high 2 bits in qh
// byte 32n + l at bit 2g; int8 scale 8n + 2g + l/16
vec4 dq4_q6_k(uint b, uint e)
{
    uint n = e >> 7, g = (e >> 5) & 3u, l = e & 31u;
    uint lo = dq_u32(b + 64u * n + 32u * (g & 1u) + l);
    lo = (g >= 2u ? lo >> 4 : lo) & 0x0f0f0f0fu;
    uint hi = (dq_u32(b + 128u + 32u * n + l) >> (2u * g)) & 0x03030303u;
    float s = float(int(dq_u8(b + 192u + 8u * n + 2u * g + (l >> 4)) << 24) >> 24);
    return dq_half(b + 208u) * s * (dq_bytes(lo | (hi << 4)) - 32.0);
}
// sub-block s = e / 32 of 32: 6-bit scale from scales_l / scales_h, codes as IQ4_NL on 16 bytes at 8 + 16s
vec4 dq4_iq4_xs(uint b, uint e)
{
    uint s = e >> 5, t = e & 31u;
    uint ls = ((dq_u8(b + 4u + (s >> 1)) >> (4u * (s & 1u))) & 15u) | (((dq_u16(b + 2u) >> (2u * s)) & 3u) << 4);
    vec4 codes = dq_nibbles(dq_u32(b + 8u + 16u * s + (t & 15u)), t >= 16u);
    return dq_half(b) * float(int(ls) - 32) * dq_iq4(codes);
}

// ---- one element: the quad holding it ----
#define DQ_SCALAR(T) float dq_##T(uint b, uint e) { return dq4_##T(b, e & ~3u)[e & 3u]; }
DQ_SCALAR(q4_0)
DQ_SCALAR(q4_1)
DQ_SCALAR(q5_0)
DQ_SCALAR(q5_1)
DQ_SCALAR(q8_0)
DQ_SCALAR(iq4_nl)
DQ_SCALAR(q2_k)
DQ_SCALAR(q3_k)
DQ_SCALAR(q4_k)
DQ_SCALAR(q5_k)
DQ_SCALAR(q6_k)
DQ_SCALAR(iq4_xs)
float dq_f32(uint b, uint e) { return uintBitsToFloat(dq_u32(b + 4u * e)); }
float dq_f16(uint b, uint e) { return dq_half(b + 2u * e); }
float dq_bf16(uint b, uint e) { return uintBitsToFloat(dq_u16(b + 2u * e) << 16); }

// ---- selection by DQ_TYPE_<T> ----
#if defined(DQ_TYPE_F32)
#define DQ_T f32
#define DQ_BLOCK 1u
#define DQ_BLOCK_BYTES 4u
#elif defined(DQ_TYPE_F16)
#define DQ_T f16
#define DQ_BLOCK 1u
#define DQ_BLOCK_BYTES 2u
#elif defined(DQ_TYPE_BF16)
#define DQ_T bf16
#define DQ_BLOCK 1u
#define DQ_BLOCK_BYTES 2u
#elif defined(DQ_TYPE_Q4_0)
#define DQ_T q4_0
#define DQ_BLOCK 32u
#define DQ_BLOCK_BYTES 18u
#elif defined(DQ_TYPE_Q4_1)
#define DQ_T q4_1
#define DQ_BLOCK 32u
#define DQ_BLOCK_BYTES 20u
#elif defined(DQ_TYPE_Q5_0)
#define DQ_T q5_0
#define DQ_BLOCK 32u
#define DQ_BLOCK_BYTES 22u
#elif defined(DQ_TYPE_Q5_1)
#define DQ_T q5_1
#define DQ_BLOCK 32u
#define DQ_BLOCK_BYTES 24u
#elif defined(DQ_TYPE_Q8_0)
#define DQ_T q8_0
#define DQ_BLOCK 32u
#define DQ_BLOCK_BYTES 34u
#elif defined(DQ_TYPE_IQ4_NL)
#define DQ_T iq4_nl
#define DQ_BLOCK 32u
#define DQ_BLOCK_BYTES 18u
#elif defined(DQ_TYPE_Q2_K)
#define DQ_T q2_k
#define DQ_BLOCK 256u
#define DQ_BLOCK_BYTES 84u
#elif defined(DQ_TYPE_Q3_K)
#define DQ_T q3_k
#define DQ_BLOCK 256u
#define DQ_BLOCK_BYTES 110u
#elif defined(DQ_TYPE_Q4_K)
#define DQ_T q4_k
#define DQ_BLOCK 256u
#define DQ_BLOCK_BYTES 144u
#elif defined(DQ_TYPE_Q5_K)
#define DQ_T q5_k
#define DQ_BLOCK 256u
#define DQ_BLOCK_BYTES 176u
#elif defined(DQ_TYPE_Q6_K)
#define DQ_T q6_k
#define DQ_BLOCK 256u
#define DQ_BLOCK_BYTES 210u
#elif defined(DQ_TYPE_IQ4_XS)
#define DQ_T iq4_xs
#define DQ_BLOCK 256u
#define DQ_BLOCK_BYTES 136u
#endif
#ifdef DQ_T
#define DQ_CAT2(a, b) a##b
#define DQ_CAT(a, b) DQ_CAT2(a, b)
#define dq4(b, e) DQ_CAT(dq4_, DQ_T)(b, e)
#define dq(b, e) DQ_CAT(dq_, DQ_T)(b, e)
#endif
