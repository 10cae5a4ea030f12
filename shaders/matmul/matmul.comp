#version 450
// shaders/matmul/matmul.comp — tiled Y = X·Wᵀ for many columns (prefill): W [M][K] in its GGUF layout, X [N][K]
// f32, Y [N][M] f32. A workgroup computes a BM x BN tile of Y, BK columns of K at a time: every invocation decodes
// a share of the BM x BK weights four at a time (dequant.glsl) and loads a share of the BN x BK activations into
// registers while the previous step is being multiplied, so one barrier pair per step hides the loads.
// Thread (tm, tn) accumulates the TM x TN outputs at rows tm + i·BM/TM and columns tn + j·BN/TN: the tiles in
// shared memory are stored k-major and padded, so both the transposing stores and the reads of the inner loop
// fall in distinct banks (or broadcast).
// With IM2COL, X is read straight from a CHW image as non-overlapping PxP patches (patch embedding: no im2col
// buffer in memory) and a bias is added.
// With MM_ID (mixture of experts, prefill), W holds experts of m rows each and workgroup z takes expert e0 + z of
// this dispatch's piece: its columns are the (token, slot) pairs routed to it, listed by moe_group.comp
// (offsets per expert, then the pair lists); pair a reads x row a / x_div and writes y row a. Each expert's rows
// are read once per tile of its pairs, not once per token.
#extension GL_GOOGLE_include_directive : require
#include "base.glsl"

#ifndef MM_ID
#define MM_ID 0
#endif

layout(constant_id = 1) const uint BM = 64;
layout(constant_id = 2) const uint BN = 64;
layout(constant_id = 3) const uint TM = 4;
layout(constant_id = 4) const uint TN = 4;
layout(constant_id = 5) const uint BK = 32; // a multiple of 4

layout(std430, binding = 0) readonly buffer W16 { uint16_t w16[]; };
#define DQ_BUF w16
#include "dequant.glsl"
#ifndef W_PLAIN
#define W_PLAIN 0
#endif

layout(std430, binding = 1) readonly buffer X1 { float x1[]; };
layout(std430, binding = 2) writeonly buffer Y { float y[]; };
#if IM2COL
layout(std430, binding = 3) readonly buffer BIAS { float bias[]; };
#endif
#if MM_ID
layout(std430, binding = 3) readonly buffer Groups { uint grp[]; }; // [n_expert + 1] offsets, then the pairs
#endif

layout(push_constant) uniform P {
    uint m, n, k;     // Y is n x m, K the shared dimension
    uint w_off;       // byte offset of W row 0
    uint row_bytes;
    uint x_off, x_stride;
    uint y_off, y_stride;
    uint psize, grid_w, img_w, img_h; // IM2COL: patch size, patches per image row, image size
    uint bias_off, has_bias;
#if MM_ID
    uint grp_off, n_expert; // the groups in binding 3; experts in all
    uint e0, x_div;         // the piece's first expert (at w_off); pair a reads x row a / x_div
#endif
} p;

#if MM_ID
uint g_first, g_count, g_w_off; // this workgroup's expert: its pairs grp[g_first ..+ g_count), its rows
#define N_COLS g_count
#define W_OFF g_w_off
#else
#define N_COLS p.n
#define W_OFF p.w_off
#endif

const uint WG = (BM / TM) * (BN / TN);               // the host sets the workgroup size to this
const uint KQ = BK / 4u;                             // quads per tile row
const uint LW = (BM * KQ + WG - 1u) / WG, LX = (BN * KQ + WG - 1u) / WG; // quads per invocation
const uint BMP = BM + 1u, BNP = BN + 1u;
shared float ws[BK * BMP];
shared float xs[BK * BNP];

float x_at(uint n, uint kk)
{
#if IM2COL
    uint pp = p.psize * p.psize;
    uint c = kk / pp, r = kk % pp;
    uint py = n / p.grid_w, px = n % p.grid_w;
    uint yy = py * p.psize + r / p.psize, xx = px * p.psize + r % p.psize;
    return x1[p.x_off + (c * p.img_h + yy) * p.img_w + xx];
#elif MM_ID
    return x1[p.x_off + (grp[p.grp_off + g_first + n] / p.x_div) * p.x_stride + kk];
#else
    return x1[p.x_off + n * p.x_stride + kk];
#endif
}

// weights col..col+3 of row `row` (zeros outside the matrix)
vec4 w_quad(uint row, uint col)
{
    if (row >= p.m || col >= p.k)
        return vec4(0.0);
    uint rb = W_OFF + row * p.row_bytes;
#if W_PLAIN
    if (col + 4u > p.k) {
        vec4 v = vec4(0.0);
        for (uint t = 0u; t < 4u; t++)
            if (col + t < p.k)
                v[t] = dq(rb, col + t);
        return v;
    }
    return dq4(rb + col * DQ_BLOCK_BYTES, 0u);
#else
    return dq4(rb + (col / DQ_BLOCK) * DQ_BLOCK_BYTES, col % DQ_BLOCK);
#endif
}

vec4 x_quad(uint n, uint col)
{
    vec4 v = vec4(0.0);
    if (n < N_COLS)
        for (uint t = 0u; t < 4u; t++)
            if (col + t < p.k)
                v[t] = x_at(n, col + t);
    return v;
}

void main()
{
    uint tid = gl_LocalInvocationID.x;
    uint m0 = gl_WorkGroupID.x * BM, n0 = gl_WorkGroupID.y * BN;
#if MM_ID
    uint e = p.e0 + gl_WorkGroupID.z;
    g_first = p.n_expert + 1u + grp[p.grp_off + e];
    g_count = grp[p.grp_off + e + 1u] - grp[p.grp_off + e];
    g_w_off = p.w_off + gl_WorkGroupID.z * p.m * p.row_bytes;
    if (n0 >= g_count)
        return; // the grid covers every expert taking all pairs: most tiles find nothing to do
#endif
    uint tm = tid % (BM / TM), tn = tid / (BM / TM);
    float acc[TM * TN];
    for (uint i = 0u; i < TM * TN; i++)
        acc[i] = 0.0;

    // quad l of this invocation: tile row i / KQ, columns 4 (i % KQ) .. (consecutive invocations read along K)
    vec4 wr[LW], xr[LX];
    for (uint l = 0u; l < LW; l++) {
        uint i = tid + l * WG;
        wr[l] = i < BM * KQ ? w_quad(m0 + i / KQ, 4u * (i % KQ)) : vec4(0.0);
    }
    for (uint l = 0u; l < LX; l++) {
        uint i = tid + l * WG;
        xr[l] = i < BN * KQ ? x_quad(n0 + i / KQ, 4u * (i % KQ)) : vec4(0.0);
    }

    for (uint k0 = 0u; k0 < p.k; k0 += BK) {
        for (uint l = 0u; l < LW; l++) {
            uint i = tid + l * WG;
            if (i < BM * KQ)
                for (uint t = 0u; t < 4u; t++)
                    ws[(4u * (i % KQ) + t) * BMP + i / KQ] = wr[l][t];
        }
        for (uint l = 0u; l < LX; l++) {
            uint i = tid + l * WG;
            if (i < BN * KQ)
                for (uint t = 0u; t < 4u; t++)
                    xs[(4u * (i % KQ) + t) * BNP + i / KQ] = xr[l][t];
        }
        barrier();
        // the next step's loads are in flight while this one is multiplied
        uint k1 = k0 + BK;
        if (k1 < p.k) {
            for (uint l = 0u; l < LW; l++) {
                uint i = tid + l * WG;
                if (i < BM * KQ)
                    wr[l] = w_quad(m0 + i / KQ, k1 + 4u * (i % KQ));
            }
            for (uint l = 0u; l < LX; l++) {
                uint i = tid + l * WG;
                if (i < BN * KQ)
                    xr[l] = x_quad(n0 + i / KQ, k1 + 4u * (i % KQ));
            }
        }
        for (uint kk = 0u; kk < BK; kk++) {
            float a[TM], b[TN];
            for (uint i = 0u; i < TM; i++)
                a[i] = ws[kk * BMP + tm + i * (BM / TM)];
            for (uint j = 0u; j < TN; j++)
                b[j] = xs[kk * BNP + tn + j * (BN / TN)];
            for (uint i = 0u; i < TM; i++)
                for (uint j = 0u; j < TN; j++)
                    acc[i * TN + j] += a[i] * b[j];
        }
        barrier();
    }

    for (uint i = 0u; i < TM; i++) {
        uint row = m0 + tm + i * (BM / TM);
        if (row >= p.m)
            continue;
#if IM2COL
        float bv = p.has_bias != 0u ? bias[p.bias_off + row] : 0.0;
#else
        float bv = 0.0;
#endif
        for (uint j = 0u; j < TN; j++) {
            uint n = n0 + tn + j * (BN / TN);
#if MM_ID
            if (n < N_COLS)
                y[p.y_off + grp[p.grp_off + g_first + n] * p.y_stride + row] = acc[i * TN + j];
#else
            if (n < p.n)
                y[p.y_off + n * p.y_stride + row] = acc[i * TN + j] + bv;
#endif
        }
    }
}
