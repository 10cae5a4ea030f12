#version 450
// shaders/elementwise/scale.comp — out[i] = a[i] * s, or with CLAMP out[i] = min(max(a[i], lo), hi) (Gemma 4's
// clipped linears); in place allowed: a and out may be the same range.
#extension GL_GOOGLE_include_directive : require
#include "base.glsl"

layout(std430, binding = 0) readonly buffer A { float a[]; };
layout(std430, binding = 1) writeonly buffer O { float o[]; };

layout(push_constant) uniform P {
    uint n;
    uint a_off, o_off;
    float s;
    float lo, hi;    // CLAMP: the bounds (infinities allowed)
} p;

void main()
{
    for (uint i = gl_GlobalInvocationID.x; i < p.n; i += GRID_STRIDE)
#if defined(CLAMP)
        o[p.o_off + i] = min(max(a[p.a_off + i], p.lo), p.hi);
#else
        o[p.o_off + i] = a[p.a_off + i] * p.s;
#endif
}
