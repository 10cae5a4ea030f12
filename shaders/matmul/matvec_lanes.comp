#version 450
// shaders/matmul/matvec_lanes.comp — y = W·x for 1..8 columns laid out for devices whose subgroups are the SIMD
// lanes of one CPU core (lavapipe: 8 lanes, a workgroup on one thread): lane l of an 8-lane subgroup owns rows
// 8j + l, so every arithmetic instruction works 8 rows at once and a row's partial sums never need reducing.
// Weights and x are read through texel buffers: lavapipe compiles a storage-buffer load into a loop over the
// lanes with a branch per lane, a texel fetch into a few vector loads (measured: ~9x the read bandwidth). Every
// lane fetches one quad of x (8 lanes: 32 elements, one block) and an element reaches the other lanes with
// subgroupShuffle at a constant lane, which is one vector broadcast. Weights stay in their GGUF layout;
// lanes_blocks.glsl walks one row's blocks per type.
// Workgroups run rows [WG·RPL·g, WG·RPL·(g+1)), g = y + z·(groups in y); workgroup x takes columns NCOLS·x .. (the
// last chunk may be short). The column chunk varies fastest: lavapipe hands out workgroups x first, so the chunks
// of one row group run back to back and read its weights from cache, not the whole matrix once per chunk.
#extension GL_GOOGLE_include_directive : require
#extension GL_EXT_samplerless_texture_functions : require // texel buffers with no sampler: Mesa 25 warns on sampled buffers
#include "base.glsl"
#extension GL_KHR_shader_subgroup_basic : require
#extension GL_KHR_shader_subgroup_shuffle : require
#extension GL_EXT_control_flow_attributes : require
#ifndef GLU
#define GLU 0
#endif

layout(constant_id = 1) const uint NCOLS = 1;   // columns per workgroup z (1..8)
layout(constant_id = 2) const uint RPL = 1;     // row slots per lane (1, 2 or 4; with GLU 2: gate and up)
layout(constant_id = 3) const uint ALIGNED = 0; // 1: every row starts 16-byte aligned in binding 0

layout(binding = 0) uniform utextureBuffer wt; // weight bytes as 16-byte texels
layout(binding = 1) uniform textureBuffer xt;  // x as float quads
layout(std430, binding = 2) writeonly buffer Y { float y[]; };
#if GLU
// y = act(W·x) · (U·x): gate rows from binding 0, up rows (same type, shape and offsets) from binding 3, the two
// rows of one index in one lane (row slots 0 and 1), so the gated unit costs no extra pass over memory
layout(binding = 3) uniform utextureBuffer wt2;
layout(constant_id = 4) const uint ACT = 0;   // vkmm_act: 0 GELU tanh, 1 GELU erf, 2 SiLU, 5 ReLU, 6 sigmoid
#include "activation.glsl"
float act(float v)
{
    return ACT == 0u ? gelu_tanh(v) : ACT == 1u ? gelu_erf(v) : ACT == 5u ? relu(v) : ACT == 6u ? sigmoid(v) : silu(v);
}
#endif

layout(push_constant) uniform P {
    uint k;          // row length in elements
    uint rows;       // rows in this dispatch
    uint w_off;      // byte offset of row 0 in binding 0
    uint row_bytes;
    uint x_off;      // texel (quad) offset of column 0 in binding 1
    uint x_stride;   // quads between columns
    uint y_off;      // float offset of y[0][row 0]
    uint y_stride;   // floats between output columns
    uint n_cols;
} p;

const uint LANES = 8u; // the pipeline requires subgroups of exactly 8

// Sums are split into CH interleaved chains (by element) so that enough independent adds are in flight: one
// chain of 32 dependent adds per block left lavapipe's 1-column kernel waiting on add latency.
const uint CH = NCOLS * RPL >= 8u ? 1u : 8u / (NCOLS * RPL);

uint lane;
uint xcol[NCOLS];       // quad offset of each column of this chunk
float acc[RPL * NCOLS * CH];

// x quads of 32-element block b (counted along the row) of every column: lane l holds elements 4l..4l+3; quads
// past the row's end read as zero where the row length is not a multiple of 32 (plain types only)
void fetch_x(uint b, out vec4 xv[NCOLS])
{
    [[unroll]] for (uint c = 0u; c < NCOLS; c++)
        xv[c] = texelFetch(xt, int(xcol[c] + LANES * b + lane));
}
void fetch_x_tail(uint b, out vec4 xv[NCOLS])
{
    fetch_x(b, xv);
    uint e0 = 32u * b + 4u * lane;
    [[unroll]] for (uint c = 0u; c < NCOLS; c++)
        [[unroll]] for (uint i = 0u; i < 4u; i++)
            xv[c][i] = e0 + i < p.k ? xv[c][i] : 0.0;
}

// x element e (a constant 0..31) of the current block of column c, in every lane
float xe(vec4 xv[NCOLS], uint c, uint e) { return subgroupShuffle(xv[c][e & 3u], e >> 2); }

// weight w of element e of the current block of row j times x, into every column
void mac(uint j, float w, uint e, vec4 xv[NCOLS])
{
    [[unroll]] for (uint c = 0u; c < NCOLS; c++)
        acc[(j * NCOLS + c) * CH + e % CH] += w * xe(xv, c, e);
}

// Σ of the 32 x elements of the current block of column c, in every lane
float xsum(vec4 xv[NCOLS], uint c)
{
    float l = xv[c].x + xv[c].y + xv[c].z + xv[c].w, t = 0.0;
    [[unroll]] for (uint i = 0u; i < LANES; i++)
        t += subgroupShuffle(l, i);
    return t;
}

// Blocks with one scale d: with few accumulators, Σ q·x per column first and d once per block (one multiply
// less per weight); with many, d·q per weight (fewer registers live).
const bool PARTIAL = NCOLS * RPL <= 4u;
float part[NCOLS * CH];
void part_begin() { [[unroll]] for (uint i = 0u; i < NCOLS * CH; i++) part[i] = 0.0; }
void part_mac(uint j, float d, float q, uint e, vec4 xv[NCOLS])
{
    if (PARTIAL)
        [[unroll]] for (uint c = 0u; c < NCOLS; c++)
            part[c * CH + e % CH] += q * xe(xv, c, e);
    else
        mac(j, d * q, e, xv);
}
float part_sum(uint c)
{
    float t = 0.0;
    [[unroll]] for (uint i = 0u; i < CH; i++)
        t += part[c * CH + i];
    return t;
}
void part_end(uint j, float d)
{
    if (PARTIAL)
        [[unroll]] for (uint c = 0u; c < NCOLS; c++)
            acc[(j * NCOLS + c) * CH] += d * part_sum(c);
}

// texel t of the weights of row slot j (with GLU: slot 0 the gate's row, slot 1 the up row; j is a constant)
uvec4 wfetch(uint j, uint t)
{
#if GLU
    if (j == 1u)
        return texelFetch(wt2, int(t));
#endif
    return texelFetch(wt, int(t));
}

// n (constant) words of weights starting at byte o (even) of the weights of row slot j: whole texels from o rounded down to 16,
// then moved down by o % 16 bytes. oc is o less a multiple of 16 (with ALIGNED the part of o that is a compile-
// time constant): where o % 16 is known at compile time the selects fold away.
#define WINDOW(j, o, oc, n, out_words)                                                                               \
    {                                                                                                              \
        const uint WT_ = ((n) * 4u + 14u + 15u) / 16u;                                                             \
        uint raw_[WT_ * 4u + 2u], sh_ = (ALIGNED != 0u ? (oc) : (o)) & 15u;                                        \
        [[unroll]] for (uint t_ = 0u; t_ < WT_; t_++) {                                                            \
            uvec4 v_ = wfetch(j, ((o) >> 4) + t_);                                                                 \
            raw_[4u * t_] = v_.x; raw_[4u * t_ + 1u] = v_.y; raw_[4u * t_ + 2u] = v_.z; raw_[4u * t_ + 3u] = v_.w; \
        }                                                                                                          \
        raw_[WT_ * 4u] = 0u; raw_[WT_ * 4u + 1u] = 0u;                                                             \
        [[unroll]] for (uint i_ = 0u; i_ < WT_ * 4u; i_++)                                                         \
            raw_[i_] = (sh_ & 8u) != 0u ? raw_[i_ + 2u] : raw_[i_];                                                \
        [[unroll]] for (uint i_ = 0u; i_ < WT_ * 4u; i_++)                                                         \
            raw_[i_] = (sh_ & 4u) != 0u ? raw_[i_ + 1u] : raw_[i_];                                                \
        [[unroll]] for (uint i_ = 0u; i_ < (n); i_++)                                                              \
            out_words[i_] = (sh_ & 2u) != 0u ? (raw_[i_] >> 16) | (raw_[i_ + 1u] << 16) : raw_[i_];               \
    }

// n words from byte o (a constant, even) of the words in src
#define SLICE(src, o, n, out_words)                                                                               \
    [[unroll]] for (uint i_ = 0u; i_ < (n); i_++)                                                                  \
        out_words[i_] = ((o) & 2u) != 0u ? (src[(o) / 4u + i_] >> 16) | (src[(o) / 4u + i_ + 1u] << 16)            \
                                         : src[(o) / 4u + i_];

#include "lanes_blocks.glsl"

float acc_sum(uint j, uint c)
{
    float t = 0.0;
    [[unroll]] for (uint i = 0u; i < CH; i++)
        t += acc[(j * NCOLS + c) * CH + i];
    return t;
}

void main()
{
    lane = gl_SubgroupInvocationID;
    uint group = gl_WorkGroupID.z * gl_NumWorkGroups.y + gl_WorkGroupID.y, chunk = gl_WorkGroupID.x;
    uint row0 = (group * (gl_WorkGroupSize.x / LANES) + gl_SubgroupID) * LANES * RPL + lane;
    uint rb[RPL]; // byte offset of each of this lane's rows (rows past the end re-read the last one)
#if GLU
    row0 = (group * (gl_WorkGroupSize.x / LANES) + gl_SubgroupID) * LANES + lane;
    [[unroll]] for (uint j = 0u; j < RPL; j++)
        rb[j] = p.w_off + min(row0, p.rows - 1u) * p.row_bytes;
#else
    [[unroll]] for (uint j = 0u; j < RPL; j++)
        rb[j] = p.w_off + min(row0 + LANES * j, p.rows - 1u) * p.row_bytes;
#endif
    [[unroll]] for (uint c = 0u; c < NCOLS; c++)
        xcol[c] = p.x_off + min(chunk * NCOLS + c, p.n_cols - 1u) * p.x_stride;
    [[unroll]] for (uint a = 0u; a < RPL * NCOLS * CH; a++)
        acc[a] = 0.0;

    row_dot(rb);

#if GLU
    [[unroll]] for (uint c = 0u; c < NCOLS; c++) {
        uint col = chunk * NCOLS + c;
        if (row0 < p.rows && col < p.n_cols)
            y[p.y_off + col * p.y_stride + row0] = act(acc_sum(0u, c)) * acc_sum(1u, c);
    }
#else
    [[unroll]] for (uint j = 0u; j < RPL; j++) {
        uint row = row0 + LANES * j;
        [[unroll]] for (uint c = 0u; c < NCOLS; c++) {
            uint col = chunk * NCOLS + c;
            if (row < p.rows && col < p.n_cols)
                y[p.y_off + col * p.y_stride + row] = acc_sum(j, c);
        }
    }
#endif
}
