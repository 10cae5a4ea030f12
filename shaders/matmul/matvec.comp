#version 450
// shaders/matmul/matvec.comp — y = W·x for 1..8 columns (decode): one pass over W in its GGUF layout; more
// columns (short prompts) as chunks of NCOLS, one per workgroup z.
// A team of TPR invocations works NR rows at once: lane l takes pieces l, l + TPR, ... of the rows (pieces.glsl:
// consecutive lanes read consecutive bytes), decodes them once, loads the x quads of its piece once per column
// and uses them for all NR rows. The TPR partial sums of each row are then reduced (subgroup shuffles/adds with
// USE_SUBGROUP, a shared memory tree without). The host picks TPR and NR per matrix so narrow or short matrices
// keep enough invocations busy.
// MV_ID (mixture of experts): W holds experts of `rows` rows each; workgroup z takes one (token, slot) pair a of
// a routing, reads only expert ids[a]'s rows (when this dispatch's piece of W holds it) and x column a / x_div,
// and writes y column a. NCOLS is 1.
#extension GL_GOOGLE_include_directive : require
#include "base.glsl"
#if USE_SUBGROUP
#extension GL_KHR_shader_subgroup_arithmetic : require
#extension GL_KHR_shader_subgroup_basic : require
#extension GL_KHR_shader_subgroup_shuffle : require
#endif

#ifndef MV_ID
#define MV_ID 0
#endif

layout(constant_id = 1) const uint TPR = 32;   // invocations per team (a power of two dividing the workgroup)
layout(constant_id = 2) const uint NCOLS = 1;  // columns of x (1..8)
layout(constant_id = 3) const uint NR = 1;     // rows per team (1..4)
layout(constant_id = 4) const uint ALIGN = 2;  // every row's byte offset in binding 0 is a multiple of this
#include "pieces.glsl"

layout(std430, binding = 1) readonly buffer X4 { vec4 x4[]; };
layout(std430, binding = 1) readonly buffer X1 { float x1[]; };
layout(std430, binding = 2) writeonly buffer Y { float y[]; };
#if MV_ID
layout(std430, binding = 3) readonly buffer Ids { int ids[]; };
#endif

layout(push_constant) uniform P {
    uint k;          // row length in elements
    uint rows;       // rows in this dispatch
    uint w_off;      // byte offset of row 0 in binding 0
    uint row_bytes;
    uint x_off;      // float offset of column 0 in binding 1 (multiple of 4)
    uint x_stride;   // floats between columns (multiple of 4)
    uint y_off;      // float offset of y[0][row 0]
    uint y_stride;   // floats between output columns
    uint n_cols;     // columns in all; workgroup z takes columns NCOLS·z .. (the last chunk may be short)
#if MV_ID
    uint ids_off;    // int offset of the pairs' expert ids in binding 3
    uint x_div;      // pair a reads x column a / x_div
    uint e0, n_e;    // the experts this dispatch's piece of W holds (expert e0 at w_off)
#endif
} p;

#define NACC (NR * NCOLS)
shared float partial[NACC * gl_WorkGroupSize.x];

void put(uint c, uint row, float v)
{
    uint col = gl_WorkGroupID.z * NCOLS + c; // MV_ID: the pair
    if (col < p.n_cols && row < p.rows)
        y[p.y_off + col * p.y_stride + row] = v;
}

void main()
{
    const uint teams = gl_WorkGroupSize.x / TPR;
    uint tid = gl_LocalInvocationID.x, lane = tid % TPR;
    uint group = gl_WorkGroupID.y * gl_NumWorkGroups.x + gl_WorkGroupID.x;
    uint row0 = (group * teams + tid / TPR) * NR;
    uint w_base = p.w_off;
#if MV_ID
    // the whole workgroup has one pair: it leaves together when another piece of W holds the expert
    uint e = uint(ids[p.ids_off + gl_WorkGroupID.z]);
    if (e < p.e0 || e >= p.e0 + p.n_e)
        return;
    w_base += (e - p.e0) * p.rows * p.row_bytes;
#endif
    uint rb[NR];
    for (uint r = 0u; r < NR; r++)
        rb[r] = w_base + min(row0 + r, p.rows - 1u) * p.row_bytes; // rows past the end re-read the last one

    uint xcol[NCOLS]; // float offset of each column of this chunk (past the last: the last column again)
    for (uint c = 0u; c < NCOLS; c++)
#if MV_ID
        xcol[c] = p.x_off + (gl_WorkGroupID.z / p.x_div) * p.x_stride;
#else
        xcol[c] = p.x_off + min(gl_WorkGroupID.z * NCOLS + c, p.n_cols - 1u) * p.x_stride;
#endif
    float acc[NACC];
    for (uint a = 0u; a < NACC; a++)
        acc[a] = 0.0;
    uint pieces = row0 < p.rows ? p.k / PIECE : 0u;
    for (uint pc = lane; pc < pieces; pc += TPR) {
        vec4 xv[NXQ];
        if (NCOLS == 1u) {
            // one column: x first, then each row decoded and consumed in turn (few registers live)
            for (uint i = 0u; i < NXQ; i++)
                xv[i] = x4[(xcol[0] + piece_xq(pc, i)) >> 2];
            for (uint r = 0u; r < NR; r++) {
                vec4 q[NXQ];
                float sc[NXQ], mn[NXQ], s = 0.0;
                piece_q(rb[r], pc, q, sc, mn);
                for (uint i = 0u; i < NXQ; i++) {
                    s += sc[i] * dot(q[i], xv[i]);
#ifdef PIECE_MIN
                    s -= mn[i] * mv_sum(xv[i]);
#endif
                }
                acc[r] += s;
            }
            continue;
        }
        // several columns: every row's piece decoded and scaled once, then used for each column
        vec4 w[NR][NXQ];
        for (uint r = 0u; r < NR; r++) {
            float sc[NXQ], mn[NXQ];
            piece_q(rb[r], pc, w[r], sc, mn);
            for (uint i = 0u; i < NXQ; i++)
                w[r][i] = w[r][i] * sc[i] - mn[i];
        }
        for (uint c = 0u; c < NCOLS; c++) {
            for (uint i = 0u; i < NXQ; i++)
                xv[i] = x4[(xcol[c] + piece_xq(pc, i)) >> 2];
            for (uint r = 0u; r < NR; r++) {
                float s = 0.0;
                for (uint i = 0u; i < NXQ; i++)
                    s += dot(w[r][i], xv[i]);
                acc[r * NCOLS + c] += s;
            }
        }
    }
#if W_PLAIN
    // ragged tail of plain-typed rows (k not a multiple of PIECE)
    for (uint e = (row0 < p.rows ? pieces * PIECE : p.k) + lane; e < p.k; e += TPR)
        for (uint r = 0u; r < NR; r++) {
            float wv = w_elem(rb[r], e);
            for (uint c = 0u; c < NCOLS; c++)
                acc[r * NCOLS + c] += wv * x1[xcol[c] + e];
        }
#endif

#if USE_SUBGROUP
    if (TPR <= gl_SubgroupSize) {
        // the team lies inside one subgroup: a butterfly over its lanes
        for (uint a = 0u; a < NACC; a++)
            for (uint off = TPR / 2u; off > 0u; off >>= 1)
                acc[a] += subgroupShuffleXor(acc[a], off);
        if (lane == 0u)
            for (uint r = 0u; r < NR; r++)
                for (uint c = 0u; c < NCOLS; c++)
                    put(c, row0 + r, acc[r * NCOLS + c]);
        return;
    }
    // several subgroups per team: add within each, then across them through shared memory
    uint per_team = TPR / gl_SubgroupSize;
    for (uint a = 0u; a < NACC; a++) {
        float s = subgroupAdd(acc[a]);
        if (subgroupElect())
            partial[a * gl_WorkGroupSize.x + gl_SubgroupID] = s;
    }
    barrier();
    if (lane == 0u) {
        uint first = (tid / TPR) * per_team;
        for (uint r = 0u; r < NR; r++)
            for (uint c = 0u; c < NCOLS; c++) {
                float s = 0.0;
                for (uint g = 0u; g < per_team; g++)
                    s += partial[(r * NCOLS + c) * gl_WorkGroupSize.x + first + g];
                put(c, row0 + r, s);
            }
    }
#else
    for (uint a = 0u; a < NACC; a++)
        partial[a * gl_WorkGroupSize.x + tid] = acc[a];
    barrier();
    for (uint stride = TPR / 2u; stride > 0u; stride >>= 1) {
        if (lane < stride)
            for (uint a = 0u; a < NACC; a++)
                partial[a * gl_WorkGroupSize.x + tid] += partial[a * gl_WorkGroupSize.x + tid + stride];
        barrier();
    }
    if (lane == 0u)
        for (uint r = 0u; r < NR; r++)
            for (uint c = 0u; c < NCOLS; c++)
                put(c, row0 + r, partial[(r * NCOLS + c) * gl_WorkGroupSize.x + tid]);
#endif
}
