#version 450
// shaders/matmul/matvec.comp — y = W·x for 1..8 columns (decode): one pass over W in its GGUF layout.
// A workgroup owns ROWS rows; its threads stride over the row's 32-element units, each accumulating
// ROWS x NCOLS partial dots, then reduce (subgroup adds when USE_SUBGROUP, else shared memory).
#extension GL_GOOGLE_include_directive : require
#include "base.glsl"
#if USE_SUBGROUP
#extension GL_KHR_shader_subgroup_arithmetic : require
#extension GL_KHR_shader_subgroup_basic : require
#endif
#include "weights.glsl"

layout(constant_id = 1) const uint ROWS = 2;   // rows per workgroup
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

float acc[ROWS * NCOLS];

void accumulate(uint r, uint kbase, vec4 w[8])
{
    for (uint c = 0u; c < NCOLS; c++) {
        uint xb = (p.x_off + c * p.x_stride + kbase) >> 2;
        float s = 0.0;
        for (uint i = 0u; i < 8u; i++)
            s += dot(w[i], x4[xb + i]);
        acc[r * NCOLS + c] += s;
    }
}

#if USE_SUBGROUP
shared float partial[ROWS * NCOLS * 64u]; // one slot per subgroup (at most 64 subgroups per workgroup)
#else
shared float partial[ROWS * NCOLS * gl_WorkGroupSize.x];
#endif

void main()
{
    uint group = gl_WorkGroupID.y * gl_NumWorkGroups.x + gl_WorkGroupID.x;
    uint row0 = group * ROWS;
    if (row0 >= p.rows)
        return; // whole workgroup leaves together: no barrier is skipped by part of it
    uint tid = gl_LocalInvocationID.x;
    for (uint i = 0u; i < ROWS * NCOLS; i++)
        acc[i] = 0.0;

    // Rows are the inner, constant-trip loop so it unrolls and acc[] stays in registers.
    uint units = p.k / 32u;
    uint rb[ROWS];
    for (uint r = 0u; r < ROWS; r++)
        rb[r] = p.w_off + min(row0 + r, p.rows - 1u) * p.row_bytes; // clamped rows: computed, never written
    for (uint u = tid; u < units; u += gl_WorkGroupSize.x) {
        for (uint r = 0u; r < ROWS; r++) {
            vec4 w[8];
            load_unit(rb[r], u, w);
            accumulate(r, u * 32u, w);
        }
    }
#if W_PLAIN
    // ragged tail of plain-typed rows (k not a multiple of 32)
    for (uint e = units * 32u + tid; e < p.k; e += gl_WorkGroupSize.x) {
        for (uint r = 0u; r < ROWS; r++) {
            float wv = w_elem(rb[r], e);
            for (uint c = 0u; c < NCOLS; c++)
                acc[r * NCOLS + c] += wv * x1[p.x_off + c * p.x_stride + e];
        }
    }
#endif

#if USE_SUBGROUP
    for (uint i = 0u; i < ROWS * NCOLS; i++) {
        float s = subgroupAdd(acc[i]);
        if (subgroupElect())
            partial[i * 64u + gl_SubgroupID] = s;
    }
    barrier();
    for (uint i = tid; i < ROWS * NCOLS; i += gl_WorkGroupSize.x) {
        float s = 0.0;
        for (uint g = 0u; g < gl_NumSubgroups; g++)
            s += partial[i * 64u + g];
        uint r = i / NCOLS, c = i % NCOLS;
        if (row0 + r < p.rows)
            y[p.y_off + c * p.y_stride + row0 + r] = s;
    }
#else
    for (uint i = 0u; i < ROWS * NCOLS; i++)
        partial[i * gl_WorkGroupSize.x + tid] = acc[i];
    barrier();
    for (uint stride = gl_WorkGroupSize.x / 2u; stride > 0u; stride >>= 1) {
        if (tid < stride)
            for (uint i = 0u; i < ROWS * NCOLS; i++)
                partial[i * gl_WorkGroupSize.x + tid] += partial[i * gl_WorkGroupSize.x + tid + stride];
        barrier();
    }
    for (uint i = tid; i < ROWS * NCOLS; i += gl_WorkGroupSize.x) {
        uint r = i / NCOLS, c = i % NCOLS;
        if (row0 + r < p.rows)
            y[p.y_off + c * p.y_stride + row0 + r] = partial[i * gl_WorkGroupSize.x];
    }
#endif
}
