#version 450
// shaders/softmax/topk.comp — the k largest logits of each row as (id, value) pairs, sorted by value
// descending, ties to the lower id (k = 1 is argmax). Two passes so any vocabulary size uses the whole device:
// PASS 1, each workgroup selects the top k of one chunk of a row; PASS 2, one workgroup per row selects the top
// k of all its chunks' candidates (when a row is one chunk, PASS 1 writes the result directly).
// Selection is k rounds of a workgroup arg-max: each invocation keeps the best of its own items that rank below
// the last winner, and only the invocation that supplied a winner rescans its items. NaN counts as −inf;
// missing entries (a chunk shorter than k) are (0xffffffff, −inf) and rank after every real entry.
#extension GL_GOOGLE_include_directive : require
#extension GL_EXT_samplerless_texture_functions : require // texel buffers with no sampler: Mesa 25 warns on sampled buffers
#include "base.glsl"
#ifndef TEXEL
#define TEXEL 0
#endif
#if USE_SUBGROUP
#extension GL_KHR_shader_subgroup_basic : require
#extension GL_KHR_shader_subgroup_arithmetic : require
#endif

#if PASS == 1 && TEXEL
// logits through a texel buffer: on lavapipe a texel fetch is a few vector loads, a storage load a loop over lanes
layout(binding = 0) uniform textureBuffer xt;
float x_at(uint i) { return texelFetch(xt, int(i >> 2))[i & 3u]; }
#elif PASS == 1
layout(std430, binding = 0) readonly buffer X { float x[]; };
float x_at(uint i) { return x[i]; }
#else
layout(std430, binding = 0) readonly buffer C { uvec2 cand[]; };
#endif
layout(std430, binding = 1) writeonly buffer O { uvec2 o[]; };   // (id, float bits)

layout(push_constant) uniform P {
    uint n, chunk, n_chunks, k;    // row length, elements per chunk, chunks per row, entries to keep
    uint x_off, x_stride;          // PASS 1: floats between rows (PASS 2: x_off in candidates)
    uint o_off;
    float scale;                   // unused (the layout is shared with lse.comp)
    uint o_stride;                 // entries between rows of the output (PASS 1: of its output)
} p;

const float NEG_INF = -1.0 / 0.0;
const uint NO_ID = 0xffffffffu;

shared float red_v[gl_WorkGroupSize.x];
shared uint red_i[gl_WorkGroupSize.x];

// a ranks before b
bool before(float av, uint ai, float bv, uint bi)
{
    return av > bv || (av == bv && ai < bi);
}

// the workgroup's best (value, id); every invocation gets it
void wg_best(inout float v, inout uint id)
{
    uint tid = gl_LocalInvocationID.x;
#if USE_SUBGROUP
    float m = subgroupMax(v);
    uint mi = subgroupMin(v == m ? id : NO_ID);
    if (subgroupElect()) {
        red_v[gl_SubgroupID] = m;
        red_i[gl_SubgroupID] = mi;
    }
    uint n = gl_NumSubgroups;
#else
    red_v[tid] = v;
    red_i[tid] = id;
    uint n = gl_WorkGroupSize.x;
#endif
    barrier();
    uint s = 1u << findMSB(n);
    if (s < n)
        s <<= 1;
    for (s >>= 1; s > 0u; s >>= 1) {
        if (tid < s && tid + s < n && before(red_v[tid + s], red_i[tid + s], red_v[tid], red_i[tid])) {
            red_v[tid] = red_v[tid + s];
            red_i[tid] = red_i[tid + s];
        }
        barrier();
    }
    v = red_v[0];
    id = red_i[0];
    barrier();
}

// item j of this workgroup's set, which starts at base in binding 0: PASS 1, logit base + j, whose id is
// id0 + j; PASS 2, candidate base + j
void item(uint base, uint id0, uint j, out float v, out uint id)
{
#if PASS == 1
    v = x_at(base + j);
    if (isnan(v))
        v = NEG_INF;
    id = id0 + j;
#else
    uvec2 c = cand[base + j];
    id = c.x;
    v = uintBitsToFloat(c.y);
#endif
}

// this invocation's best item ranking strictly after (av, ai), or its best of all when first
void best_after(uint base, uint id0, uint count, bool first, float av, uint ai, out float bv, out uint bi)
{
    bv = NEG_INF;
    bi = NO_ID;
    for (uint j = gl_LocalInvocationID.x; j < count; j += gl_WorkGroupSize.x) {
        float v;
        uint id;
        item(base, id0, j, v, id);
        if ((first || before(av, ai, v, id)) && before(v, id, bv, bi)) {
            bv = v;
            bi = id;
        }
    }
}

void main()
{
    uint row = gl_WorkGroupID.y;
#if PASS == 1
    for (uint g = gl_WorkGroupID.x; g < p.n_chunks; g += gl_NumWorkGroups.x) {
        uint id0 = g * p.chunk, count = min(p.chunk, p.n - id0);
        uint base = p.x_off + row * p.x_stride + id0;
        uint ob = p.o_off + row * p.o_stride + g * p.k;
#else
    {
        uint id0 = 0u, count = p.n_chunks * p.k;
        uint base = p.x_off + row * count;
        uint ob = p.o_off + row * p.o_stride;
#endif
        float mv;
        uint mi;
        best_after(base, id0, count, true, 0.0, 0u, mv, mi);
        for (uint r = 0u; r < p.k; r++) {
            float wv = mv;
            uint wi = mi;
            wg_best(wv, wi);
            if (gl_LocalInvocationID.x == 0u)
                o[ob + r] = uvec2(wi, floatBitsToUint(wv));
            if (mi == wi && wi != NO_ID)   // ids are unique: this invocation supplied the winner
                best_after(base, id0, count, false, wv, wi, mv, mi);
        }
    }
}
