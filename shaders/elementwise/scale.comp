#version 450
// shaders/elementwise/scale.comp — out[i] = a[i] * s (in place allowed: a and out may be the same range); with CLAMP
// out[i] = min(max(a[i], lo), hi) instead (Gemma 4's clipped linears), NaN kept as NaN.
#extension GL_GOOGLE_include_directive : require
#include "base.glsl"

layout(std430, binding = 0) readonly buffer A { float a[]; };
layout(std430, binding = 1) writeonly buffer O { float o[]; };

layout(push_constant) uniform P {
    uint n;
    uint a_off, o_off;
    float s;
    float lo, hi;             // CLAMP only (one push block for both variants)
} p;

void main()
{
    for (uint i = gl_GlobalInvocationID.x; i < p.n; i += GRID_STRIDE) {
#if CLAMP
        float v = a[p.a_off + i];
        // comparisons are false for NaN, which passes through (GLSL's clamp may return either bound for it)
        o[p.o_off + i] = v < p.lo ? p.lo : v > p.hi ? p.hi : v;
#else
        o[p.o_off + i] = a[p.a_off + i] * p.s;
#endif
    }
}
