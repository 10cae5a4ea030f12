#version 450
// shaders/matmul/copy.comp — a plain uvec4 copy, the bandwidth yardstick `vkmm-dev bench-ops` compares kernels to.
#extension GL_GOOGLE_include_directive : require
#include "base.glsl"

layout(std430, binding = 0) readonly buffer A { uvec4 a[]; };
layout(std430, binding = 1) writeonly buffer B { uvec4 b[]; };

layout(push_constant) uniform P { uint n; } p; // uvec4 elements

void main()
{
    for (uint i = gl_GlobalInvocationID.x; i < p.n; i += GRID_STRIDE)
        b[i] = a[i];
}
