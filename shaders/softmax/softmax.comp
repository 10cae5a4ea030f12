#version 450
// shaders/softmax/softmax.comp — out[r][:] = softmax(scale · x[r][:]) with max subtraction; one workgroup per
// row (grid-stride over rows); out may be x (every element is read before the first write of its row).
#extension GL_GOOGLE_include_directive : require
#include "base.glsl"
#include "reduce.glsl"

layout(std430, binding = 0) readonly buffer X { float x[]; };
layout(std430, binding = 1) writeonly buffer O { float o[]; };

layout(push_constant) uniform P {
    uint n_cols, n_rows;
    uint x_off, x_stride, o_off, o_stride;
    float scale;
} p;

void main()
{
    uint tid = gl_LocalInvocationID.x, wg = gl_WorkGroupSize.x;
    for (uint row = gl_WorkGroupID.x; row < p.n_rows; row += gl_NumWorkGroups.x) {
        uint xb = p.x_off + row * p.x_stride, ob = p.o_off + row * p.o_stride;
        float m = -1.0 / 0.0;
        for (uint i = tid; i < p.n_cols; i += wg)
            m = max(m, p.scale * x[xb + i]);
        m = wg_max(m);
        float s = 0.0;
        for (uint i = tid; i < p.n_cols; i += wg)
            s += exp(p.scale * x[xb + i] - m);
        float inv = 1.0 / wg_sum(s);
        for (uint i = tid; i < p.n_cols; i += wg)
            o[ob + i] = exp(p.scale * x[xb + i] - m) * inv;
    }
}
