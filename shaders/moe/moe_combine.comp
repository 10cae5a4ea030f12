#version 450
// shaders/moe/moe_combine.comp — each token's output is the weighted sum of its k experts' rows:
// out[t][h] = Σ_j w[t][j] · y[t·k + j][h]. Grid-stride over the outputs.
#extension GL_GOOGLE_include_directive : require
#include "base.glsl"

layout(std430, binding = 0) readonly buffer Y { float y[]; };
layout(std430, binding = 1) readonly buffer W { float w[]; };
layout(std430, binding = 2) writeonly buffer O { float o[]; };

layout(push_constant) uniform P {
    uint n_rows, width, k;
    uint y_off, w_off, o_off;
} p;

void main()
{
    uint n = p.n_rows * p.width;
    for (uint i = gl_GlobalInvocationID.x; i < n; i += GRID_STRIDE) {
        uint t = i / p.width, h = i % p.width;
        float s = 0.0;
        for (uint j = 0u; j < p.k; j++)
            s += w[p.w_off + t * p.k + j] * y[p.y_off + (t * p.k + j) * p.width + h];
        o[p.o_off + i] = s;
    }
}
