#version 450
// shaders/conv/conv2d.comp — 2-D convolution (PyTorch's cross-correlation) with stride and zero padding over a
// channels-last grid: out[y][x][o] = b[o] + Σ_{c,i,j} W[o][c][i][j] · in[y·sh − ph + i][x·sw − pw + j][c].
// One workgroup per output position (grid-stride): its k_h × k_w × in_ch input patch is staged in shared memory
// a tile of channels at a time (any channel count fits), and the invocations share out the output channels.
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
    uint tile_c;              // channels per staged tile: tile_c · k_h · k_w <= PATCH_FLOATS
    uint has_bias;
    uint i_off, w_off, b_off, o_off;
} p;

#define PATCH_FLOATS 4096
shared float tile[PATCH_FLOATS];  // [i][j][c] of the current tile, channels innermost

void main()
{
    uint tid = gl_LocalInvocationID.x, wg = gl_WorkGroupSize.x;
    uint kk = p.k_h * p.k_w, n_pos = p.out_h * p.out_w;
    for (uint pos = gl_WorkGroupID.x; pos < n_pos; pos += gl_NumWorkGroups.x) {
        uint y = pos / p.out_w, x = pos % p.out_w;
        for (uint ob = 0u; ob < p.out_ch; ob += wg) {
            uint oc = ob + tid;
            float acc = 0.0;
            for (uint c0 = 0u; c0 < p.in_ch; c0 += p.tile_c) {
                uint nc = min(p.tile_c, p.in_ch - c0), n = nc * kk;
                barrier(); // the previous tile is no longer read
                for (uint e = tid; e < n; e += wg) {
                    uint cc = e % nc, ij = e / nc;
                    int yy = int(y * p.s_h + ij / p.k_w) - int(p.p_h), xx = int(x * p.s_w + ij % p.k_w) - int(p.p_w);
                    float v = 0.0;
                    if (yy >= 0 && yy < int(p.in_h) && xx >= 0 && xx < int(p.in_w))
                        v = inp[p.i_off + (uint(yy) * p.in_w + uint(xx)) * p.in_ch + c0 + cc];
                    tile[e] = v;
                }
                barrier();
                if (oc < p.out_ch) {
                    uint wb = p.w_off + (oc * p.in_ch + c0) * kk; // W[oc][c0][0][0]
                    for (uint cc = 0u; cc < nc; cc++)
                        for (uint ij = 0u; ij < kk; ij++)
                            acc += w[wb + cc * kk + ij] * tile[ij * nc + cc];
                }
            }
            if (oc < p.out_ch)
                o[p.o_off + pos * p.out_ch + oc] = acc + (p.has_bias != 0u ? bias[p.b_off + oc] : 0.0);
        }
    }
}
