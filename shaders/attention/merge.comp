#version 450
// shaders/attention/merge.comp — combines the split partials of attention.comp (unnormalised o, running max m,
// running sum l per split) into the normalised output row: o = Σ e^{m_s−m} o_s / Σ e^{m_s−m} l_s.
#extension GL_GOOGLE_include_directive : require
#include "base.glsl"

// One workgroup per (query row, head, chunk of COLS vec4 columns); its threads split the columns and the
// splits (SG = workgroup / COLS split groups), so many loads are in flight at once.
layout(constant_id = 1) const uint COLS = 16;
const uint MAX_SPLIT = 128; // VKMM_ATTENTION_MAX_SPLIT

// per (row, head, split): o[head_dim], then m, l, and two pad floats (a split's stride is head_dim + 4)
layout(std430, binding = 0) readonly buffer Pb { vec4 part[]; };
layout(std430, binding = 1) writeonly buffer Ob { float o[]; };

layout(push_constant) uniform P {
    uint n_head;
    uint n_split;
    uint head_dim;
    uint p_off;  // in vec4s
    uint o_off;  // in floats
} p;

#define NEG_INF uintBitsToFloat(0xff800000u)

shared float w[MAX_SPLIT];  // e^{m_s − m}
shared float ls[MAX_SPLIT];
shared vec4 red[gl_WorkGroupSize.x];

void main()
{
    const uint tid = gl_LocalInvocationIndex;
    const uint d4 = p.head_dim / 4u, chunks = (d4 + COLS - 1u) / COLS;
    const uint head = gl_WorkGroupID.x / chunks, col0 = (gl_WorkGroupID.x % chunks) * COLS;
    const uint i = gl_WorkGroupID.y;
    const uint stride = d4 + 1u;
    const uint base = p.p_off + (i * p.n_head + head) * p.n_split * stride;

    for (uint s = tid; s < p.n_split; s += gl_WorkGroupSize.x) {
        vec4 ml = part[base + s * stride + d4];
        w[s] = ml.x;
        ls[s] = ml.y;
    }
    barrier();
    float m = NEG_INF;
    for (uint s = 0u; s < p.n_split; s++)
        m = max(m, w[s]);
    barrier();
    for (uint s = tid; s < p.n_split; s += gl_WorkGroupSize.x)
        w[s] = w[s] == NEG_INF ? 0.0 : exp(w[s] - m);
    barrier();
    float l = 0.0;
    for (uint s = 0u; s < p.n_split; s++)
        l += w[s] * ls[s];

    const uint sg_count = gl_WorkGroupSize.x / COLS;
    const uint col = tid % COLS, sg = tid / COLS;
    vec4 acc = vec4(0.0);
    if (sg < sg_count && col0 + col < d4)
        for (uint s = sg; s < p.n_split; s += sg_count)
            acc += w[s] * part[base + s * stride + col0 + col];
    red[tid] = acc;
    barrier();
    if (sg == 0u && col0 + col < d4) {
        for (uint g = 1u; g < sg_count; g++)
            acc += red[g * COLS + col];
        // no split saw an allowed key: m = -inf, l = 0, and the row is zeros
        vec4 v = l > 0.0 ? acc / l : vec4(0.0);
        uint ob = p.o_off + (i * p.n_head + head) * p.head_dim + (col0 + col) * 4u;
        o[ob] = v.x;
        o[ob + 1u] = v.y;
        o[ob + 2u] = v.z;
        o[ob + 3u] = v.w;
    }
}
