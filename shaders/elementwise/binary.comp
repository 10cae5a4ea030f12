#version 450
// shaders/elementwise/binary.comp — out[i] = a[i] (op) b[i % b_period]; b_period < n broadcasts b along rows.
#extension GL_GOOGLE_include_directive : require
#include "base.glsl"

layout(std430, binding = 0) readonly buffer A { float a[]; };
layout(std430, binding = 1) readonly buffer B { float b[]; };
layout(std430, binding = 2) writeonly buffer O { float o[]; };

layout(push_constant) uniform P {
    uint n;          // elements to write
    uint b_period;   // b repeats every b_period elements (== n for a plain elementwise op)
    uint a_off, b_off, o_off; // element offsets inside the bound ranges
} p;

void main()
{
    for (uint i = gl_GlobalInvocationID.x; i < p.n; i += GRID_STRIDE) {
        float x = a[p.a_off + i];
        float y = b[p.b_off + i % p.b_period];
#if defined(OP_ADD)
        o[p.o_off + i] = x + y;
#elif defined(OP_SUB)
        o[p.o_off + i] = x - y;
#elif defined(OP_MUL)
        o[p.o_off + i] = x * y;
#else
#error "define OP_ADD, OP_SUB or OP_MUL"
#endif
    }
}
