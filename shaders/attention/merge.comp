#version 450
// shaders/attention/merge.comp — combines the split partials of attention.comp (unnormalised o, running max m,
// running sum l per split) into the normalised output row: o = Σ e^{m_s−m} o_s / Σ e^{m_s−m} l_s.
#extension GL_GOOGLE_include_directive : require
#include "base.glsl"

layout(std430, binding = 0) readonly buffer Pb { float part[]; };
layout(std430, binding = 1) writeonly buffer Ob { float o[]; };

layout(push_constant) uniform P {
    uint n_head;
    uint n_split;
    uint head_dim;
    uint p_off, o_off;
} p;

#define NEG_INF uintBitsToFloat(0xff800000u)

void main()
{
    // one workgroup per (head, query row)
    const uint head = gl_WorkGroupID.x, i = gl_WorkGroupID.y;
    const uint stride = p.head_dim + 2u;
    const uint base = p.p_off + (i * p.n_head + head) * p.n_split * stride;
    float m = NEG_INF;
    for (uint s = 0u; s < p.n_split; s++)
        m = max(m, part[base + s * stride + p.head_dim]);
    float l = 0.0;
    for (uint s = 0u; s < p.n_split; s++) {
        float ms = part[base + s * stride + p.head_dim];
        if (ms != NEG_INF)
            l += exp(ms - m) * part[base + s * stride + p.head_dim + 1u];
    }
    // no split saw an allowed key: m = -inf, l = 0, and the row is zeros
    float inv = l > 0.0 ? 1.0 / l : 0.0;
    for (uint d = gl_LocalInvocationIndex; d < p.head_dim; d += gl_WorkGroupSize.x) {
        float acc = 0.0;
        for (uint s = 0u; s < p.n_split; s++) {
            float ms = part[base + s * stride + p.head_dim];
            if (ms != NEG_INF)
                acc += exp(ms - m) * part[base + s * stride + d];
        }
        o[p.o_off + (i * p.n_head + head) * p.head_dim + d] = acc * inv;
    }
}
