#version 450
// shaders/rope/rope.comp — rotary position embedding, in place, on x[t][h][d] (strided tokens and heads).
// Pair i of a head is (2i, 2i+1) in the NORM layout (Mistral, Llama, Pixtral as stored in GGUF) or
// (i, i + d/2) in the NEOX layout (Gemma); it turns by angle p_i · F_i where
//   1-D:  p_i = p,                     F_i = sa · f1^i              (f1 = base^(-2/d), sa = frequency scale)
//   2-D:  p_i = p / grid_w (row),      F_i = sa · f1^i             for i <  split
//         p_i = p % grid_w (column),   F_i = sb · f1^(i - split)   for i >= split      (Pixtral)
//   2-D NEOX (Gemma 4): the same angles with split = d/4, but each half of the head is a NEOX rotation of its
//         own: the row pairs i < split are (d/2 + i, d/2 + i + d/4), the column pairs (j, j + d/4), j = i - split,
//         so the first half of the head turns by column and the second by row.
// with p the token's position (from a buffer, or pos0 + t). F_i and the angle are computed in double-float
// and the angle reduced modulo 2π before an f32 sin/cos, so the rotation is accurate to ~1e-7 for any
// position below 2^24 (a plain f32 angle p · inv_freq is off by up to ~8e-3 rad at p = 131072 with scale 1,
// ~1e-3 with Gemma's 1/8).
// F_FACTORS: F_i is divided by factors[i] (llama.cpp's rope_freqs: Gemma 4's proportional RoPE leaves most pairs
// unturned with factors of 1e30).
// QK_NORM: each head is first RMS-normalised over d with weight wa (heads < n_heads_a) or wb (the rest):
// Gemma's QK-norm and RoPE on a fused [q heads | k heads] row in one dispatch, or (F_XB) on q rows in x and k rows
// in xb, also in one dispatch.
#extension GL_GOOGLE_include_directive : require
#include "base.glsl"
#include "precise_math.glsl"
#if QK_NORM
#include "reduce.glsl"
#endif

#define MAX_PAIRS 256u   // head_dim <= 512

layout(std430, binding = 0) buffer X { float x[]; };
layout(std430, binding = 1) readonly buffer Pos { int pos[]; };
#if QK_NORM
layout(std430, binding = 2) readonly buffer WA { float wa[]; };
layout(std430, binding = 3) readonly buffer WB { float wb[]; };
layout(std430, binding = 4) readonly buffer FF { float factors[]; };
layout(std430, binding = 5) buffer XB { float xb[]; }; // F_XB: the heads from n_heads_a on (k beside q)
#else
layout(std430, binding = 2) readonly buffer FF { float factors[]; };
#endif

#define F_NEOX 1u
#define F_POS_BUF 2u
#define F_2D 4u
#define F_FACTORS 8u
#define F_XB 16u

layout(push_constant) uniform P {
    vec2 f1, sa, sb;           // double-floats (first: 8-byte aligned)
    uint n_tokens, n_heads, head_dim;
    uint tok_stride, head_stride;
    uint x_off, pos_off;
    int pos0;
    uint flags;
    uint grid_w, split;        // 2-D: patches per row; pairs that follow the row
    uint n_heads_a, wa_off, wb_off;
    float eps;
    uint ff_off;
    uint xb_off, tokb_stride;
} p;

shared vec2 freq[MAX_PAIRS];   // F_i as double-floats
shared vec2 cs[MAX_PAIRS];     // (cos, sin) of the current token's angles

// The two elements pair i turns (see the header).
void pair_of(uint i, uint half_d, bool neox, bool two_d, out uint ia, out uint ib)
{
    if (neox && two_d) {
        uint q = half_d / 2u;
        ia = i < q ? half_d + i : i - q;
        ib = ia + q;
    } else {
        ia = neox ? i : 2u * i;
        ib = neox ? i + half_d : 2u * i + 1u;
    }
}

void main()
{
    uint tid = gl_LocalInvocationID.x, wg = gl_WorkGroupSize.x;
    uint half_d = p.head_dim / 2u;
    bool two_d = (p.flags & F_2D) != 0u, neox = (p.flags & F_NEOX) != 0u;
    for (uint i = tid; i < half_d; i += wg) {
        freq[i] = (two_d && i >= p.split) ? df_mul(p.sb, df_pow_u(p.f1, i - p.split)) : df_mul(p.sa, df_pow_u(p.f1, i));
        if ((p.flags & F_FACTORS) != 0u)
            freq[i] = df_div_f(freq[i], factors[p.ff_off + i]);
    }
    barrier();

    for (uint t = gl_WorkGroupID.x; t < p.n_tokens; t += gl_NumWorkGroups.x) {
        int pt = (p.flags & F_POS_BUF) != 0u ? pos[p.pos_off + t] : p.pos0 + int(t);
        for (uint i = tid; i < half_d; i += wg) {
            int pi = pt;
            if (two_d)
                pi = i < p.split ? pt / int(p.grid_w) : pt % int(p.grid_w);
            cs[i] = precise_sincos(df_reduce_2pi(df_mul_f(freq[i], float(pi))));
        }
        barrier();
        uint tb = p.x_off + t * p.tok_stride;
#if QK_NORM
        for (uint h = 0u; h < p.n_heads; h++) {
            bool first = h < p.n_heads_a, inb = !first && (p.flags & F_XB) != 0u; // (uniform: one head at a time)
            uint hb = inb ? p.xb_off + t * p.tokb_stride + (h - p.n_heads_a) * p.head_stride : tb + h * p.head_stride;
            float sq = 0.0;
            for (uint i = tid; i < p.head_dim; i += wg) {
                float v = inb ? xb[hb + i] : x[hb + i];
                sq += v * v;
            }
            float r = inversesqrt(wg_sum(sq) / float(p.head_dim) + p.eps);
            for (uint i = tid; i < half_d; i += wg) {
                uint ia, ib;
                pair_of(i, half_d, neox, two_d, ia, ib);
                float a = (inb ? xb[hb + ia] : x[hb + ia]) * r * (first ? wa[p.wa_off + ia] : wb[p.wb_off + ia]);
                float b = (inb ? xb[hb + ib] : x[hb + ib]) * r * (first ? wa[p.wa_off + ib] : wb[p.wb_off + ib]);
                float na = a * cs[i].x - b * cs[i].y, nb = a * cs[i].y + b * cs[i].x;
                if (inb) {
                    xb[hb + ia] = na;
                    xb[hb + ib] = nb;
                } else {
                    x[hb + ia] = na;
                    x[hb + ib] = nb;
                }
            }
        }
#else
        for (uint k = tid; k < p.n_heads * half_d; k += wg) {
            uint h = k / half_d, i = k % half_d;
            uint hb = tb + h * p.head_stride;
            uint ia, ib;
            pair_of(i, half_d, neox, two_d, ia, ib);
            float a = x[hb + ia], b = x[hb + ib];
            x[hb + ia] = a * cs[i].x - b * cs[i].y;
            x[hb + ib] = a * cs[i].y + b * cs[i].x;
        }
#endif
        barrier(); // cs is rewritten for the next token
    }
}
