// shaders/matmul/weights.glsl — reads weight rows in their GGUF block layout (../shared/reference/gguf.md §6).
// Every type is decoded in "units" of 32 consecutive elements of one row: a whole block for the
// 32-element types, one eighth of a super-block for the K-quants. Plain types (F32/F16/BF16) also have
// a per-element reader so rows of any length work.
// The weight buffer is binding 0, seen through several views (byte offsets are converted per view).

layout(std430, binding = 0) readonly buffer W16 { uint16_t w16[]; };
layout(std430, binding = 0) readonly buffer W32 { uint w32[]; };
layout(std430, binding = 0) readonly buffer WV4 { uvec4 wv4[]; };

uint rd16(uint o) { return uint(w16[o >> 1]); }
// 4 bytes at a 2-byte aligned offset
uint rd32_2(uint o) { return uint(w16[o >> 1]) | (uint(w16[(o >> 1) + 1]) << 16); }
uint rd32(uint o) { return w32[o >> 2]; }
float rdh(uint o) { return unpackHalf2x16(rd16(o)).x; }
vec2 rdh2(uint o) { return unpackHalf2x16(rd32(o)); }

#if defined(W_F32)
#define W_PLAIN 1
#define W_BLOCK 1u
#define W_BLOCK_BYTES 4u
float w_elem(uint rb, uint e) { return uintBitsToFloat(rd32(rb + 4u * e)); }
#elif defined(W_F16)
#define W_PLAIN 1
#define W_BLOCK 1u
#define W_BLOCK_BYTES 2u
float w_elem(uint rb, uint e) { return rdh(rb + 2u * e); }
#elif defined(W_BF16)
#define W_PLAIN 1
#define W_BLOCK 1u
#define W_BLOCK_BYTES 2u
float w_elem(uint rb, uint e) { return uintBitsToFloat(rd16(rb + 2u * e) << 16); }
#elif defined(W_Q4_0)
#define W_BLOCK 32u
#define W_BLOCK_BYTES 18u
#elif defined(W_Q4_1)
#define W_BLOCK 32u
#define W_BLOCK_BYTES 20u
#elif defined(W_Q5_0)
#define W_BLOCK 32u
#define W_BLOCK_BYTES 22u
#elif defined(W_Q5_1)
#define W_BLOCK 32u
#define W_BLOCK_BYTES 24u
#elif defined(W_Q8_0)
#define W_BLOCK 32u
#define W_BLOCK_BYTES 34u
#elif defined(W_IQ4_NL)
#define W_BLOCK 32u
#define W_BLOCK_BYTES 18u
#elif defined(W_Q2_K)
#define W_BLOCK 256u
#define W_BLOCK_BYTES 84u
#elif defined(W_Q3_K)
#define W_BLOCK 256u
#define W_BLOCK_BYTES 110u
#elif defined(W_Q4_K)
#define W_BLOCK 256u
#define W_BLOCK_BYTES 144u
#elif defined(W_Q5_K)
#define W_BLOCK 256u
#define W_BLOCK_BYTES 176u
#elif defined(W_Q6_K)
#define W_BLOCK 256u
#define W_BLOCK_BYTES 210u
#elif defined(W_IQ4_XS)
#define W_BLOCK 256u
#define W_BLOCK_BYTES 136u
#else
#error "define the weight type W_<TYPE>"
#endif

#ifndef W_PLAIN
#define W_PLAIN 0
#endif

// Byte offset of unit u (32 elements) of a row starting at byte rb, and the unit's index in its block.
uint unit_block(uint rb, uint u) { return rb + (u * 32u / W_BLOCK) * W_BLOCK_BYTES; }
uint unit_sub(uint u) { return (u * 32u) % W_BLOCK / 32u; }

#if defined(W_IQ4_NL) || defined(W_IQ4_XS)
const float iq4nl[16] = float[16](-127.0, -104.0, -83.0, -65.0, -49.0, -35.0, -22.0, -10.0,
                                   1.0, 13.0, 25.0, 38.0, 53.0, 69.0, 89.0, 113.0);
#endif

// 8 nibbles of a word, low nibbles or high nibbles, as two vec4 (bytes in order).
void nib4(uint v, bool hi, out vec4 a)
{
    uint s = hi ? 4u : 0u;
    a = vec4(float((v >> s) & 15u), float((v >> (8u + s)) & 15u), float((v >> (16u + s)) & 15u),
             float((v >> (24u + s)) & 15u));
}

// Decodes unit u of the row at byte rb into w[0..7] (element 4i+j is w[i][j]).
void load_unit(uint rb, uint u, out vec4 w[8])
{
#if W_PLAIN
    for (uint i = 0u; i < 8u; i++)
        w[i] = vec4(w_elem(rb, u * 32u + 4u * i), w_elem(rb, u * 32u + 4u * i + 1u), w_elem(rb, u * 32u + 4u * i + 2u),
                    w_elem(rb, u * 32u + 4u * i + 3u));
#else
    uint b = unit_block(rb, u);
    uint j = unit_sub(u);
#if defined(W_Q4_0) || defined(W_IQ4_NL)
    float d = rdh(b);
    for (uint i = 0u; i < 4u; i++) {
        uint q = rd32_2(b + 2u + 4u * i);
        vec4 lo, hi;
        nib4(q, false, lo);
        nib4(q, true, hi);
#if defined(W_Q4_0)
        w[i] = d * (lo - 8.0);
        w[i + 4u] = d * (hi - 8.0);
#else
        w[i] = d * vec4(iq4nl[uint(lo.x)], iq4nl[uint(lo.y)], iq4nl[uint(lo.z)], iq4nl[uint(lo.w)]);
        w[i + 4u] = d * vec4(iq4nl[uint(hi.x)], iq4nl[uint(hi.y)], iq4nl[uint(hi.z)], iq4nl[uint(hi.w)]);
#endif
    }
#elif defined(W_Q4_1)
    vec2 dm = rdh2(b);
    for (uint i = 0u; i < 4u; i++) {
        uint q = rd32(b + 4u + 4u * i);
        vec4 lo, hi;
        nib4(q, false, lo);
        nib4(q, true, hi);
        w[i] = dm.x * lo + dm.y;
        w[i + 4u] = dm.x * hi + dm.y;
    }
#elif defined(W_Q5_0) || defined(W_Q5_1)
#if defined(W_Q5_0)
    float d = rdh(b), m = 0.0, off = 16.0;
    uint qh = rd32_2(b + 2u), qs = b + 6u;
#else
    vec2 dm = rdh2(b);
    float d = dm.x, m = dm.y, off = 0.0;
    uint qh = rd32(b + 4u), qs = b + 8u;
#endif
    for (uint i = 0u; i < 4u; i++) {
        uint q = rd32_2(qs + 4u * i);
        vec4 lo, hi;
        nib4(q, false, lo);
        nib4(q, true, hi);
        uint e = 4u * i;
        vec4 hl = vec4(float((qh >> e) & 1u), float((qh >> (e + 1u)) & 1u), float((qh >> (e + 2u)) & 1u),
                       float((qh >> (e + 3u)) & 1u));
        vec4 hh = vec4(float((qh >> (e + 16u)) & 1u), float((qh >> (e + 17u)) & 1u), float((qh >> (e + 18u)) & 1u),
                       float((qh >> (e + 19u)) & 1u));
        w[i] = d * (lo + 16.0 * hl - off) + m;
        w[i + 4u] = d * (hi + 16.0 * hh - off) + m;
    }
#elif defined(W_Q8_0)
    float d = rdh(b);
    for (uint i = 0u; i < 8u; i++) {
        uint q = rd32_2(b + 2u + 4u * i);
        w[i] = d * vec4(float(int(q << 24) >> 24), float(int(q << 16) >> 24), float(int(q << 8) >> 24),
                        float(int(q) >> 24));
    }
#elif defined(W_Q4_K) || defined(W_Q5_K)
    // unit j = sub-block k: nibbles (j&1) of qs[32c .. 32c+31], c = j>>1
    vec2 dm = rdh2(b);
    uint k = j;
    uint s0 = rd32(b + 4u), s1 = rd32(b + 8u), s2 = rd32(b + 12u);
    uint sc, mn;
    if (k < 4u) {
        sc = (k < 4u ? (s0 >> (8u * k)) : 0u) & 63u;
        mn = (s1 >> (8u * k)) & 63u;
    } else {
        uint k4 = k - 4u;
        uint b8 = (s2 >> (8u * k4)) & 255u;
        sc = (b8 & 15u) | (((s0 >> (8u * k4)) >> 6u & 3u) << 4u);
        mn = (b8 >> 4u) | (((s1 >> (8u * k4)) >> 6u & 3u) << 4u);
    }
    float dd = dm.x * float(sc), mm = dm.y * float(mn);
    uint c = j >> 1u;
    bool hi = (j & 1u) != 0u;
#if defined(W_Q4_K)
    uint qs = b + 16u + 32u * c;
#else
    uint qs = b + 48u + 32u * c, qhb = b + 16u;
#endif
    for (uint i = 0u; i < 8u; i++) {
        vec4 q;
        nib4(rd32(qs + 4u * i), hi, q);
#if defined(W_Q5_K)
        uint h = rd32(qhb + 4u * i);
        q += 16.0 * vec4(float((h >> k) & 1u), float((h >> (8u + k)) & 1u), float((h >> (16u + k)) & 1u),
                         float((h >> (24u + k)) & 1u));
#endif
        w[i] = dd * q - mm;
    }
#elif defined(W_Q6_K)
    // unit j: n = j>>2, g = j&3; elements l = 0..31
    uint n = j >> 2u, g = j & 3u;
    float d = rdh(b + 208u);
    uint scw = rd32_2(b + 192u + 8u * n + 2u * g); // two int8 scales: l < 16 and l >= 16
    float sc0 = d * float(int(scw << 24) >> 24), sc1 = d * float(int(scw << 16) >> 24);
    uint ql = b + 64u * n + 32u * (g & 1u), qh = b + 128u + 32u * n;
    for (uint i = 0u; i < 8u; i++) {
        vec4 lo;
        nib4(rd32_2(ql + 4u * i), g >= 2u, lo);
        uint h = rd32_2(qh + 4u * i) >> (2u * g);
        vec4 hv = vec4(float(h & 3u), float((h >> 8u) & 3u), float((h >> 16u) & 3u), float((h >> 24u) & 3u));
        w[i] = (i < 4u ? sc0 : sc1) * (lo + 16.0 * hv - 32.0);
    }
#elif defined(W_Q2_K)
    // unit j: n = j>>2, jj = j&3; t < 16 uses scale 8n+2jj, t >= 16 uses 8n+2jj+1
    uint n = j >> 2u, jj = j & 3u;
    vec2 dm = rdh2(b + 80u);
    uint sw = rd32(b + ((8u * n + 2u * jj) & ~3u)) >> (8u * ((2u * jj) & 3u));
    float d0 = dm.x * float(sw & 15u), m0 = dm.y * float((sw >> 4u) & 15u);
    float d1 = dm.x * float((sw >> 8u) & 15u), m1 = dm.y * float((sw >> 12u) & 15u);
    for (uint i = 0u; i < 8u; i++) {
        uint q = rd32(b + 16u + 32u * n + 4u * i) >> (2u * jj);
        vec4 qv = vec4(float(q & 3u), float((q >> 8u) & 3u), float((q >> 16u) & 3u), float((q >> 24u) & 3u));
        w[i] = i < 4u ? d0 * qv - m0 : d1 * qv - m1;
    }
#elif defined(W_Q3_K)
    uint n = j >> 2u, jj = j & 3u;
    float d = rdh(b + 108u);
    float scv[2];
    for (uint hh = 0u; hh < 2u; hh++) {
        uint i = 8u * n + 2u * jj + hh;
        uint lo = i < 8u ? (rd16(b + 96u + (i & ~1u)) >> (8u * (i & 1u))) & 15u
                         : (rd16(b + 96u + ((i - 8u) & ~1u)) >> (8u * ((i - 8u) & 1u) + 4u)) & 15u;
        uint hb = (rd16(b + 104u + ((i & 3u) & ~1u)) >> (8u * (i & 1u))) >> (2u * (i >> 2u)) & 3u;
        scv[hh] = d * float(int(lo | (hb << 4u)) - 32);
    }
    uint shift = 4u * n + jj;
    for (uint i = 0u; i < 8u; i++) {
        uint t = 4u * i; // element in unit; l = t & 15, hh = t >> 4
        uint q = rd32_2(b + 32u + 32u * n + 4u * i) >> (2u * jj);
        uint hm = rd32_2(b + 4u * (i & 3u) + 16u * (i >> 2u)) >> shift;
        vec4 q2 = vec4(float(q & 3u), float((q >> 8u) & 3u), float((q >> 16u) & 3u), float((q >> 24u) & 3u));
        vec4 hv = vec4(float(hm & 1u), float((hm >> 8u) & 1u), float((hm >> 16u) & 1u), float((hm >> 24u) & 1u));
        w[i] = scv[i >> 2u] * (q2 - 4.0 + 4.0 * hv);
    }
#elif defined(W_IQ4_XS)
    float d = rdh(b);
    uint sh = rd16(b + 2u);
    uint sl = rd16(b + 4u + (j >> 1u & ~1u)) >> (8u * ((j >> 1u) & 1u));
    uint ls = ((sl >> (4u * (j & 1u))) & 15u) | (((sh >> (2u * j)) & 3u) << 4u);
    float dl = d * float(int(ls) - 32);
    for (uint i = 0u; i < 4u; i++) {
        uint q = rd32(b + 8u + 16u * j + 4u * i);
        vec4 lo, hi;
        nib4(q, false, lo);
        nib4(q, true, hi);
        w[i] = dl * vec4(iq4nl[uint(lo.x)], iq4nl[uint(lo.y)], iq4nl[uint(lo.z)], iq4nl[uint(lo.w)]);
        w[i + 4u] = dl * vec4(iq4nl[uint(hi.x)], iq4nl[uint(hi.y)], iq4nl[uint(hi.z)], iq4nl[uint(hi.w)]);
    }
#endif
#endif
}
