#version 450
// shaders/conv/conv2d.comp — 2-D convolution (PyTorch's cross-correlation) with stride and zero padding over a
// channels-last grid:
//   out[y][x][o] = b[o] + Σ_{c,i,j} Wt[c][i][j][o] · in[y·sh − ph + i][x·sw − pw + j][c]
// Invocations walk (position, output channel) pairs, output channels innermost: neighbours read the same input
// value and consecutive weights (Wt is the kernel with the output channel innermost). No shared staging: the
// patches are small and cached, and barriers cost more than they save on CPU drivers.
#extension GL_GOOGLE_include_directive : require
#include "base.glsl"

layout(std430, binding = 0) readonly buffer I { float inp[]; };
layout(std430, binding = 1) readonly buffer W { float w[]; };
layout(std430, binding = 2) readonly buffer B { float bias[]; };
layout(std430, binding = 3) writeonly buffer O { float o[]; };

layout(push_constant) uniform P {
    uint in_h, in_w, in_ch;
    uint out_h, out_w, out_ch;
    uint k_h, k_w, s_h, s_w, p_h, p_w;
    uint has_bias;
    uint i_off, w_off, b_off, o_off;
} p;

void main()
{
    uint kk = p.k_h * p.k_w, n = p.out_h * p.out_w * p.out_ch;
    for (uint e = gl_GlobalInvocationID.x; e < n; e += GRID_STRIDE) {
        uint oc = e % p.out_ch, pos = e / p.out_ch, y = pos / p.out_w, x = pos % p.out_w;
        float acc = p.has_bias != 0u ? bias[p.b_off + oc] : 0.0;
        for (uint i = 0u; i < p.k_h; i++) {
            int yy = int(y * p.s_h + i) - int(p.p_h);
            if (yy < 0 || yy >= int(p.in_h))
                continue;
            for (uint j = 0u; j < p.k_w; j++) {
                int xx = int(x * p.s_w + j) - int(p.p_w);
                if (xx < 0 || xx >= int(p.in_w))
                    continue;
                uint ib = p.i_off + (uint(yy) * p.in_w + uint(xx)) * p.in_ch;
                uint wb = p.w_off + (i * p.k_w + j) * p.out_ch + oc, ws = kk * p.out_ch;
                for (uint c = 0u; c < p.in_ch; c++)
                    acc += w[wb + c * ws] * inp[ib + c];
            }
        }
        o[p.o_off + e] = acc;
    }
}
