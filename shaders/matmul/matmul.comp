#version 450
// shaders/matmul/matmul.comp — tiled Y = X·Wᵀ for many columns (prefill): W [M][K] in its GGUF layout, X [N][K]
// f32, Y [N][M] f32. A workgroup computes a BM x BN tile of Y; per 32-wide K step it decodes BM weight units
// and stages BN rows of X in shared memory, then each thread accumulates a TM x TN sub-tile.
// With IM2COL, X is read straight from a CHW image as non-overlapping PxP patches (patch embedding:
// no im2col buffer in memory) and a bias is added.
#extension GL_GOOGLE_include_directive : require
#include "base.glsl"
#include "weights.glsl"

layout(constant_id = 1) const uint BM = 64;
layout(constant_id = 2) const uint BN = 64;
layout(constant_id = 3) const uint TM = 4;
layout(constant_id = 4) const uint TN = 4;
#define BK 32u
#define BKP 33u // padded row stride in shared memory

layout(std430, binding = 1) readonly buffer X1 { float x1[]; };
layout(std430, binding = 2) writeonly buffer Y { float y[]; };
#if IM2COL
layout(std430, binding = 3) readonly buffer BIAS { float bias[]; };
#endif

layout(push_constant) uniform P {
    uint m, n, k;     // Y is n x m, K the shared dimension
    uint w_off;       // byte offset of W row 0
    uint row_bytes;
    uint x_off, x_stride;
    uint y_off, y_stride;
    uint psize, grid_w, img_w, img_h; // IM2COL: patch size, patches per image row, image size
    uint bias_off, has_bias;
} p;

shared float ws[BM * BKP];
shared float xs[BN * BKP];

float x_at(uint n, uint kk)
{
#if IM2COL
    uint pp = p.psize * p.psize;
    uint c = kk / pp, r = kk % pp;
    uint py = n / p.grid_w, px = n % p.grid_w;
    uint yy = py * p.psize + r / p.psize, xx = px * p.psize + r % p.psize;
    return x1[p.x_off + (c * p.img_h + yy) * p.img_w + xx];
#else
    return x1[p.x_off + n * p.x_stride + kk];
#endif
}

void main()
{
    uint tid = gl_LocalInvocationID.x;
    uint m0 = gl_WorkGroupID.x * BM, n0 = gl_WorkGroupID.y * BN;
    uint tx = tid % (BN / TN), ty = tid / (BN / TN); // thread's sub-tile: rows ty*TM.., columns tx*TN..
    float acc[TM * TN];
    for (uint i = 0u; i < TM * TN; i++)
        acc[i] = 0.0;

    for (uint k0 = 0u; k0 < p.k; k0 += BK) {
        // weights: quantized types decode one 32-element unit per row; plain types go element by element
#if W_PLAIN
        for (uint i = tid; i < BM * BK; i += gl_WorkGroupSize.x) {
            uint r = i / BK, kk = i % BK;
            uint row = m0 + r, col = k0 + kk;
            ws[r * BKP + kk] = (row < p.m && col < p.k) ? w_elem(p.w_off + row * p.row_bytes, col) : 0.0;
        }
#else
        for (uint r = tid; r < BM; r += gl_WorkGroupSize.x) {
            uint row = m0 + r;
            vec4 w[8];
            if (row < p.m) {
                load_unit(p.w_off + row * p.row_bytes, k0 / 32u, w);
            } else {
                for (uint i = 0u; i < 8u; i++)
                    w[i] = vec4(0.0);
            }
            for (uint i = 0u; i < 8u; i++)
                for (uint j = 0u; j < 4u; j++)
                    ws[r * BKP + 4u * i + j] = w[i][j];
        }
#endif
        for (uint i = tid; i < BN * BK; i += gl_WorkGroupSize.x) {
            uint c = i / BK, kk = i % BK;
            uint n = n0 + c, col = k0 + kk;
            xs[c * BKP + kk] = (n < p.n && col < p.k) ? x_at(n, col) : 0.0;
        }
        barrier();
        for (uint kk = 0u; kk < BK; kk++) {
            float a[TM], b[TN];
            for (uint i = 0u; i < TM; i++)
                a[i] = ws[(ty * TM + i) * BKP + kk];
            for (uint j = 0u; j < TN; j++)
                b[j] = xs[(tx * TN + j) * BKP + kk];
            for (uint i = 0u; i < TM; i++)
                for (uint j = 0u; j < TN; j++)
                    acc[i * TN + j] += a[i] * b[j];
        }
        barrier();
    }

    for (uint i = 0u; i < TM; i++) {
        uint row = m0 + ty * TM + i;
        if (row >= p.m)
            continue;
#if IM2COL
        float bv = p.has_bias != 0u ? bias[p.bias_off + row] : 0.0;
#else
        float bv = 0.0;
#endif
        for (uint j = 0u; j < TN; j++) {
            uint n = n0 + tx * TN + j;
            if (n < p.n)
                y[p.y_off + n * p.y_stride + row] = acc[i * TN + j] + bv;
        }
    }
}
