#version 450
// shaders/moe/moe_group.comp — the routed (token, slot) pairs grouped by expert, for matmul.comp's MM_ID form:
// out = [n_expert + 1] offsets (expert e's pairs are list[off[e] .. off[e + 1])), then the list of pair indices.
// One workgroup: counts by shared atomics, an exclusive scan, then each pair takes a place in its expert's run
// (the order within a run is free: every pair's output is computed on its own).
#extension GL_GOOGLE_include_directive : require
#include "base.glsl"

layout(std430, binding = 0) readonly buffer I { int ids[]; };
layout(std430, binding = 1) buffer O { uint grp[]; };

layout(push_constant) uniform P {
    uint n_pairs, n_expert, i_off, o_off;
} p;

#define MAX_EXPERTS 1024u
shared uint count[MAX_EXPERTS];
shared uint start[MAX_EXPERTS];

void main()
{
    uint tid = gl_LocalInvocationID.x, wg = gl_WorkGroupSize.x;
    for (uint e = tid; e < p.n_expert; e += wg)
        count[e] = 0u;
    barrier();
    for (uint a = tid; a < p.n_pairs; a += wg)
        atomicAdd(count[uint(ids[p.i_off + a])], 1u);
    barrier();
    if (tid == 0u) {
        uint s = 0u;
        for (uint e = 0u; e < p.n_expert; e++) {
            start[e] = s;
            grp[p.o_off + e] = s;
            s += count[e];
            count[e] = 0u;
        }
        grp[p.o_off + p.n_expert] = s;
    }
    barrier();
    for (uint a = tid; a < p.n_pairs; a += wg) {
        uint e = uint(ids[p.i_off + a]);
        uint at = start[e] + atomicAdd(count[e], 1u);
        grp[p.o_off + p.n_expert + 1u + at] = a;
    }
}
