#version 450
// shaders/get_rows/get_rows.comp — embedding lookup from a table in its GGUF layout: out[i][:] = dequant(row
// ids[i]) · scale. A table larger than one binding comes as row-aligned pieces, one dispatch each: a dispatch
// writes the rows of the ids that fall in its piece [row0, row0 + piece_rows); the first piece's dispatch also
// writes zeros for ids outside the table. The type is DQ_TYPE_<T>; PER_ELEMENT = true decodes element by
// element (dq) instead of four at a time (dq4), so both forms of dequant.glsl are exercised.
#extension GL_GOOGLE_include_directive : require
#include "base.glsl"

layout(std430, binding = 0) readonly buffer T { uint16_t tbl[]; };
layout(std430, binding = 1) readonly buffer Ids { int ids[]; };
layout(std430, binding = 2) writeonly buffer O { float o[]; };
#define DQ_BUF tbl
#include "dequant.glsl"

layout(constant_id = 1) const bool PER_ELEMENT = false;

layout(push_constant) uniform P {
    uint n_ids, n_cols;
    uint row0, piece_rows, total_rows;
    uint t_off, row_bytes;        // bytes: where the piece's first row starts in the binding, bytes per row
    uint ids_off, o_off, o_stride;
    uint zero_invalid;
    float scale;
} p;

float element(uint rb, uint e)
{
    return dq(rb + (e / DQ_BLOCK) * DQ_BLOCK_BYTES, e % DQ_BLOCK);
}

void main()
{
    uint quads = (p.n_cols + 3u) / 4u;
    for (uint i = gl_GlobalInvocationID.x; i < p.n_ids * quads; i += GRID_STRIDE) {
        uint k = i / quads, e = 4u * (i % quads);
        int id = ids[p.ids_off + k];
        uint ob = p.o_off + k * p.o_stride + e;
        uint n = min(4u, p.n_cols - e);
        if (id >= int(p.row0) && id < int(p.row0 + p.piece_rows)) {
            uint rb = p.t_off + uint(id - int(p.row0)) * p.row_bytes;
            if (!PER_ELEMENT && n == 4u) {
                vec4 v = dq4(rb + (e / DQ_BLOCK) * DQ_BLOCK_BYTES, e % DQ_BLOCK) * p.scale;
                o[ob] = v.x;
                o[ob + 1u] = v.y;
                o[ob + 2u] = v.z;
                o[ob + 3u] = v.w;
            } else {
                for (uint c = 0u; c < n; c++)
                    o[ob + c] = element(rb, e + c) * p.scale;
            }
        } else if (p.zero_invalid != 0u && (id < 0 || uint(id) >= p.total_rows)) {
            for (uint c = 0u; c < n; c++)
                o[ob + c] = 0.0;
        }
    }
}
