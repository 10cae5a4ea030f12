#version 450
// shaders/elementwise/convert.comp — f32 <-> f16 copy; f16 rounding is the device's (round to nearest even on IEEE hardware).
#extension GL_GOOGLE_include_directive : require
#include "base.glsl"

#if defined(SRC_F16)
#define SRC_T float16_t
#define DST_T float
#elif defined(DST_F16)
#define SRC_T float
#define DST_T float16_t
#else
#error "define SRC_F16 or DST_F16"
#endif

layout(std430, binding = 0) readonly buffer A { SRC_T a[]; };
layout(std430, binding = 1) writeonly buffer O { DST_T o[]; };

layout(push_constant) uniform P {
    uint n;
    uint a_off, o_off;
} p;

void main()
{
    for (uint i = gl_GlobalInvocationID.x; i < p.n; i += GRID_STRIDE)
        o[p.o_off + i] = DST_T(a[p.a_off + i]);
}
