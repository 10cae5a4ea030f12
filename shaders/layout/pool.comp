#version 450
// shaders/layout/pool.comp — 2-D average pooling of a token grid: in[gh][gw][ch] (token = row · gw + column)
// to out[gh/kh][gw/kw][ch], each output the mean of a kh × kw window, stride = window (Gemma 3's projector:
// 64 × 64 × 1152 → 16 × 16 × 1152 with 4 × 4 windows). Threads walk the output in order.
#extension GL_GOOGLE_include_directive : require
#include "base.glsl"

layout(std430, binding = 0) readonly buffer A { float a[]; };
layout(std430, binding = 1) writeonly buffer O { float o[]; };

layout(push_constant) uniform P {
    uint gw, ch;         // input grid width, channels
    uint kh, kw;         // window
    uint ow, total;      // output grid width, output elements
    uint a_off, o_off;
} p;

void main()
{
    float inv = 1.0 / float(p.kh * p.kw);
    for (uint i = gl_GlobalInvocationID.x; i < p.total; i += GRID_STRIDE) {
        uint c = i % p.ch, t = i / p.ch;
        uint r0 = (t / p.ow) * p.kh, c0 = (t % p.ow) * p.kw;
        float s = 0.0;
        for (uint y = 0u; y < p.kh; y++)
            for (uint x = 0u; x < p.kw; x++)
                s += a[p.a_off + ((r0 + y) * p.gw + c0 + x) * p.ch + c];
        o[p.o_off + i] = s * inv;
    }
}
