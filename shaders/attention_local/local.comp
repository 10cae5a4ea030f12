#version 450
// shaders/attention_local/local.comp — local self-attention with relative positions. Query i (head h) sees keys
// j with 0 <= j < n and -right < i - j < left; with q' = q · q_scale · dim_scale,
//   s_j = cap · tanh((k_scale · q'·k_j + q'·rel[r_j]) / cap),  r_j = rel_offset - (i - j) (no term outside
//   [0, n_rel)),  o = Σ softmax(s)_j v_j.
// Hugging Face's Gemma 4 audio attention computes exactly this in blocks of 12 queries over 24-key contexts with
// a relative shift; every key the blocks would add is masked, so a sliding window over the keys is the same sum.
// One workgroup per (query, head), grid-stride: q' in shared memory, invocations over keys for the logits, then
// over dims for the output. Windows are short (Gemma 4: 12 keys), so the softmax is recomputed per invocation.
#extension GL_GOOGLE_include_directive : require
#include "base.glsl"

layout(std430, binding = 0) readonly buffer Q { float q[]; };
layout(std430, binding = 1) readonly buffer K { float k[]; };
layout(std430, binding = 2) readonly buffer V { float v[]; };
layout(std430, binding = 3) readonly buffer R { float rel[]; };
layout(std430, binding = 4) readonly buffer S { float dim_scale[]; };
layout(std430, binding = 5) writeonly buffer O { float o[]; };

layout(push_constant) uniform P {
    uint n, n_head, head_dim;
    uint left, right, rel_offset, n_rel;
    uint has_dim_scale;
    uint q_off, k_off, v_off, r_off, s_off, o_off;
    float q_scale, k_scale, softcap;
} p;

#define MAX_DIM 256
#define MAX_KEYS 128
shared float qs[MAX_DIM];
shared float lg[MAX_KEYS];

// tanh without the builtin (Vulkan gives it no precision guarantee): a series near 0, else via e^(-2|x|)
float tanh_f32(float x)
{
    float a = abs(x);
    if (a < 0.25) {
        float s = x * x;
        return x * (1.0 + s * (-1.0 / 3.0 + s * (2.0 / 15.0 + s * (-17.0 / 315.0 + s * (62.0 / 2835.0)))));
    }
    float e = exp(-2.0 * a);
    return sign(x) * (1.0 - e) / (1.0 + e);
}

void main()
{
    uint tid = gl_LocalInvocationID.x, wg = gl_WorkGroupSize.x, D = p.head_dim, row_w = p.n_head * D;
    for (uint row = gl_WorkGroupID.x; row < p.n * p.n_head; row += gl_NumWorkGroups.x) {
        uint i = row / p.n_head, h = row % p.n_head;
        barrier(); // the previous row's qs and lg are no longer read
        for (uint d = tid; d < D; d += wg)
            qs[d] = q[p.q_off + i * row_w + h * D + d] * p.q_scale * (p.has_dim_scale != 0u ? dim_scale[p.s_off + d]
                                                                                              : 1.0);
        uint j0 = i + 1u >= p.left ? i + 1u - p.left : 0u;
        uint j1 = min(p.n - 1u, i + (p.right > 0u ? p.right - 1u : 0u));
        uint nk = j1 - j0 + 1u;
        barrier();
        for (uint t = tid; t < nk; t += wg) {
            uint j = j0 + t;
            float s = 0.0;
            for (uint d = 0u; d < D; d++)
                s += qs[d] * k[p.k_off + j * row_w + h * D + d];
            s *= p.k_scale;
            int r = int(p.rel_offset) - (int(i) - int(j));
            if (r >= 0 && r < int(p.n_rel)) {
                float b = 0.0;
                for (uint d = 0u; d < D; d++)
                    b += qs[d] * rel[p.r_off + uint(r) * row_w + h * D + d];
                s += b;
            }
            if (p.softcap > 0.0)
                s = p.softcap * tanh_f32(s / p.softcap);
            lg[t] = s;
        }
        barrier();
        float m = lg[0];
        for (uint t = 1u; t < nk; t++)
            m = max(m, lg[t]);
        float sum = 0.0;
        for (uint t = 0u; t < nk; t++)
            sum += exp(lg[t] - m);
        barrier(); // every invocation has read the logits
        for (uint t = tid; t < nk; t += wg)
            lg[t] = exp(lg[t] - m) / sum;
        barrier();
        for (uint d = tid; d < D; d += wg) {
            float acc = 0.0;
            for (uint t = 0u; t < nk; t++)
                acc += lg[t] * v[p.v_off + (j0 + t) * row_w + h * D + d];
            o[p.o_off + i * row_w + h * D + d] = acc;
        }
    }
}
