#version 450
// shaders/matmul/matvec.comp — y = W·x for 1..8 columns (decode): one pass over W in its GGUF layout.
// A workgroup holds WG / TPR rows at once, each worked by TPR threads that stride over the row's 32-element
// units; the TPR partial sums of a row are then reduced (subgroup shuffles/adds with USE_SUBGROUP, a shared
// memory tree without). TPR is chosen per matrix so narrow rows do not leave threads idle.
#extension GL_GOOGLE_include_directive : require
#include "base.glsl"
#if USE_SUBGROUP
#extension GL_KHR_shader_subgroup_arithmetic : require
#extension GL_KHR_shader_subgroup_basic : require
#extension GL_KHR_shader_subgroup_shuffle : require
#endif
#include "weights.glsl"

layout(constant_id = 1) const uint TPR = 32;   // threads per row (a power of two dividing the workgroup)
layout(constant_id = 2) const uint NCOLS = 1;  // columns of x (1..8)

layout(std430, binding = 1) readonly buffer X4 { vec4 x4[]; };
layout(std430, binding = 1) readonly buffer X1 { float x1[]; };
layout(std430, binding = 2) writeonly buffer Y { float y[]; };

layout(push_constant) uniform P {
    uint k;          // row length in elements
    uint rows;       // rows in this dispatch
    uint w_off;      // byte offset of row 0 in binding 0
    uint row_bytes;
    uint x_off;      // float offset of column 0 in binding 1 (multiple of 4)
    uint x_stride;   // floats between columns (multiple of 4)
    uint y_off;      // float offset of y[0][row 0]
    uint y_stride;   // floats between output columns
} p;

shared float partial[NCOLS * gl_WorkGroupSize.x];

void main()
{
    const uint rows_per_group = gl_WorkGroupSize.x / TPR;
    uint tid = gl_LocalInvocationID.x, lane = tid % TPR;
    uint group = gl_WorkGroupID.y * gl_NumWorkGroups.x + gl_WorkGroupID.x;
    uint row = group * rows_per_group + tid / TPR;
    bool valid = row < p.rows;
    uint rb = p.w_off + min(row, p.rows - 1u) * p.row_bytes;

    float acc[NCOLS];
    for (uint c = 0u; c < NCOLS; c++)
        acc[c] = 0.0;
    uint units = valid ? p.k / 32u : 0u;
    for (uint u = lane; u < units; u += TPR) {
        vec4 w[8];
        load_unit(rb, u, w);
        for (uint c = 0u; c < NCOLS; c++) {
            uint xb = (p.x_off + c * p.x_stride + u * 32u) >> 2;
            float s = 0.0;
            for (uint i = 0u; i < 8u; i++)
                s += dot(w[i], x4[xb + i]);
            acc[c] += s;
        }
    }
#if W_PLAIN
    // ragged tail of plain-typed rows (k not a multiple of 32)
    for (uint e = (valid ? units * 32u : p.k) + lane; e < p.k; e += TPR) {
        float wv = w_elem(rb, e);
        for (uint c = 0u; c < NCOLS; c++)
            acc[c] += wv * x1[p.x_off + c * p.x_stride + e];
    }
#endif

#if USE_SUBGROUP
    if (TPR <= gl_SubgroupSize) {
        // the row's lanes lie inside one subgroup: a butterfly over them
        for (uint c = 0u; c < NCOLS; c++)
            for (uint off = TPR / 2u; off > 0u; off >>= 1)
                acc[c] += subgroupShuffleXor(acc[c], off);
        if (lane == 0u && valid)
            for (uint c = 0u; c < NCOLS; c++)
                y[p.y_off + c * p.y_stride + row] = acc[c];
        return;
    }
    // several subgroups per row: add within each, then across them through shared memory
    uint per_row = TPR / gl_SubgroupSize;
    for (uint c = 0u; c < NCOLS; c++) {
        float s = subgroupAdd(acc[c]);
        if (subgroupElect())
            partial[c * gl_WorkGroupSize.x + gl_SubgroupID] = s;
    }
    barrier();
    if (lane == 0u && valid) {
        uint first = (tid / TPR) * per_row;
        for (uint c = 0u; c < NCOLS; c++) {
            float s = 0.0;
            for (uint g = 0u; g < per_row; g++)
                s += partial[c * gl_WorkGroupSize.x + first + g];
            y[p.y_off + c * p.y_stride + row] = s;
        }
    }
#else
    for (uint c = 0u; c < NCOLS; c++)
        partial[c * gl_WorkGroupSize.x + tid] = acc[c];
    barrier();
    for (uint stride = TPR / 2u; stride > 0u; stride >>= 1) {
        if (lane < stride)
            for (uint c = 0u; c < NCOLS; c++)
                partial[c * gl_WorkGroupSize.x + tid] += partial[c * gl_WorkGroupSize.x + tid + stride];
        barrier();
    }
    if (lane == 0u && valid)
        for (uint c = 0u; c < NCOLS; c++)
            y[p.y_off + c * p.y_stride + row] = partial[c * gl_WorkGroupSize.x + tid];
#endif
}
