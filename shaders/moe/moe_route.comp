#version 450
// shaders/moe/moe_route.comp — the router's choice for each token row of expert logits: the k largest (ties to the
// lower expert), their softmax weights renormalised over the k (the full softmax's denominator cancels: exactly
// what softmax, top-k and division by the top-k sum give), times each chosen expert's scale. One workgroup per row
// (grid-stride); its invocations find the maxima by a shared-memory argmax, k rounds.
#extension GL_GOOGLE_include_directive : require
#include "base.glsl"

layout(std430, binding = 0) readonly buffer L { float logits[]; };
layout(std430, binding = 1) readonly buffer S { float scale[]; };
layout(std430, binding = 2) writeonly buffer I { int ids[]; };
layout(std430, binding = 3) writeonly buffer W { float weights[]; };

layout(push_constant) uniform P {
    uint n_rows, n_expert, k;
    uint l_off, l_stride, s_off, has_scale, i_off, w_off;
} p;

#define MAX_K 32u
#define NEG_INF uintBitsToFloat(0xff800000u)

shared float best_v[gl_WorkGroupSize.x];
shared uint best_e[gl_WorkGroupSize.x];
shared uint chosen[MAX_K];

void main()
{
    uint tid = gl_LocalInvocationID.x, wg = gl_WorkGroupSize.x;
    for (uint row = gl_WorkGroupID.x; row < p.n_rows; row += gl_NumWorkGroups.x) {
        uint base = p.l_off + row * p.l_stride;
        for (uint j = 0u; j < p.k; j++) {
            // this invocation's best among the experts not chosen yet
            float bv = NEG_INF;
            uint be = 0xffffffffu;
            for (uint e = tid; e < p.n_expert; e += wg) {
                bool taken = false;
                for (uint i = 0u; i < j; i++)
                    taken = taken || chosen[i] == e;
                float v = logits[base + e];
                if (!taken && (be == 0xffffffffu || v > bv)) { // e rises: a tie keeps the lower expert
                    bv = v;
                    be = e;
                }
            }
            best_v[tid] = bv;
            best_e[tid] = be;
            barrier();
            for (uint s = wg / 2u; s > 0u; s >>= 1) {
                if (tid < s) {
                    float ov = best_v[tid + s];
                    uint oe = best_e[tid + s];
                    if (oe != 0xffffffffu && (best_e[tid] == 0xffffffffu || ov > best_v[tid] ||
                                              (ov == best_v[tid] && oe < best_e[tid]))) {
                        best_v[tid] = ov;
                        best_e[tid] = oe;
                    }
                }
                barrier();
            }
            if (tid == 0u)
                chosen[j] = best_e[0];
            barrier();
        }
        if (tid == 0u) {
            float top = logits[base + chosen[0]], sum = 0.0; // the first chosen is the largest
            for (uint j = 0u; j < p.k; j++)
                sum += exp(logits[base + chosen[j]] - top);
            for (uint j = 0u; j < p.k; j++) {
                uint e = chosen[j];
                float w = exp(logits[base + e] - top) / sum;
                ids[p.i_off + row * p.k + j] = int(e);
                weights[p.w_off + row * p.k + j] = p.has_scale != 0u ? w * scale[p.s_off + e] : w;
            }
        }
        barrier(); // chosen is rewritten for the next row
    }
}
