#version 450
// shaders/softmax/lse.comp — log Σ exp(scale · x) per row of logits, in two passes so that any vocabulary size
// uses the whole device: PASS 1, each workgroup reduces one chunk of a row to (max m, Σ exp(v − m));
// PASS 2, one workgroup per row merges its chunks' pairs: M = max m, S = Σ s·exp(m − M), lse = M + log S.
// Rows of only −inf give −inf, rows with a +inf give +inf; NaN logits are skipped.
#extension GL_GOOGLE_include_directive : require
#extension GL_EXT_samplerless_texture_functions : require // texel buffers with no sampler: Mesa 25 warns on sampled buffers
#include "base.glsl"
#ifndef TEXEL
#define TEXEL 0
#endif
#include "reduce.glsl"

#if PASS == 1
#if TEXEL
// logits through a texel buffer: on lavapipe a texel fetch is a few vector loads, a storage load a loop over lanes
layout(binding = 0) uniform textureBuffer xt;
float x_at(uint i) { return texelFetch(xt, int(i >> 2))[i & 3u]; }
#else
layout(std430, binding = 0) readonly buffer X { float x[]; };
float x_at(uint i) { return x[i]; }
#endif
layout(std430, binding = 1) writeonly buffer Part { vec2 part[]; };   // (m, s) per chunk
#else
layout(std430, binding = 0) readonly buffer Part { vec2 part[]; };
layout(std430, binding = 1) writeonly buffer Out { float lse[]; };    // one per row
#endif

layout(push_constant) uniform P {
    uint n, chunk, n_chunks, k;    // row length, elements per chunk, chunks per row; k unused (shared layout)
    uint x_off, x_stride, o_off;   // x_stride: floats between rows
    float scale;
    uint o_stride;                 // entries between rows of the output
} p;

const float NEG_INF = -1.0 / 0.0;

// adds w·e^v to the running (m, s) with s relative to e^m, rescaling when the max grows
void lse_add(inout float m, inout float s, float v, float w)
{
    if (v > m) {
        s = (m == NEG_INF ? 0.0 : s * exp(m - v)) + w;
        m = v;
    } else if (v > NEG_INF) {
        s += w * exp(v - m);
    }
}

// the workgroup's (max, sum relative to it) from each invocation's pair
vec2 merge(float m, float s)
{
    float mm = wg_max(m);
    return vec2(mm, wg_sum(m == NEG_INF ? 0.0 : s * exp(m - mm)));
}

void main()
{
    uint tid = gl_LocalInvocationID.x, wg = gl_WorkGroupSize.x, row = gl_WorkGroupID.y;
#if PASS == 1
    uint xb = p.x_off + row * p.x_stride;
    for (uint g = gl_WorkGroupID.x; g < p.n_chunks; g += gl_NumWorkGroups.x) {
        uint i1 = min((g + 1u) * p.chunk, p.n);
        float m = NEG_INF, s = 0.0;
        for (uint i = g * p.chunk + tid; i < i1; i += wg)
            lse_add(m, s, p.scale * x_at(xb + i), 1.0);
        vec2 r = merge(m, s);
        if (tid == 0u)
            part[p.o_off + row * p.o_stride + g] = r;
    }
#else
    float m = NEG_INF, s = 0.0;
    for (uint c = tid; c < p.n_chunks; c += wg) {
        vec2 ms = part[p.x_off + row * p.n_chunks + c];
        lse_add(m, s, ms.x, ms.y);
    }
    vec2 r = merge(m, s);
    if (tid == 0u)
        lse[p.o_off + row * p.o_stride] = isinf(r.x) ? r.x : r.x + log(r.y);
#endif
}
