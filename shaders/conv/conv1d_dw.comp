#version 450
// shaders/conv/conv1d_dw.comp — causal depthwise 1-D convolution over time, channels last:
// out[t][c] = Σ_{j<K} W[c][j] · in[t − (K−1) + j][c], zero before the first step (PyTorch's Conv1d with
// groups = channels after K−1 zeros of left padding). One invocation per output element.
#extension GL_GOOGLE_include_directive : require
#include "base.glsl"

layout(std430, binding = 0) readonly buffer I { float inp[]; };
layout(std430, binding = 1) readonly buffer W { float w[]; };
layout(std430, binding = 2) writeonly buffer O { float o[]; };

layout(push_constant) uniform P {
    uint n_t, ch, k;
    uint i_off, w_off, o_off;
} p;

void main()
{
    uint n = p.n_t * p.ch;
    for (uint e = gl_GlobalInvocationID.x; e < n; e += GRID_STRIDE) {
        uint t = e / p.ch, c = e % p.ch;
        float acc = 0.0;
        for (uint j = 0u; j < p.k; j++) {
            int tt = int(t + j) - int(p.k - 1u);
            if (tt >= 0)
                acc += w[p.w_off + c * p.k + j] * inp[p.i_off + uint(tt) * p.ch + c];
        }
        o[p.o_off + e] = acc;
    }
}
