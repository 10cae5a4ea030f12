#version 450
// shaders/attention/kv_store.comp — writes n new K (or V) rows, f32 [n][n_kv_head][head_dim], into a cache
// [n_kv_head][capacity][head_dim] at positions pos0.. (linear or ring slots) as f16 or Q8_0 blocks; with `pair`,
// the V rows (bindings 4 and 5) in the same dispatch, the second half of the work items (one dispatch a layer,
// not two: on lavapipe a decode step is mostly the cost of its dispatches).
#extension GL_GOOGLE_include_directive : require
#include "base.glsl"
#include "f16_rne.glsl"

// Variant defines: DST_F16 or DST_Q8.
layout(std430, binding = 0) readonly buffer Src { uint src[]; }; // f32 bits: no flush of subnormals on load
layout(std430, binding = 4) readonly buffer Src2 { uint src2[]; };
#if defined(DST_F16)
layout(std430, binding = 1) writeonly buffer Dst { uint dst[]; }; // two halves per word
layout(std430, binding = 5) writeonly buffer Dst2 { uint dst2[]; };
#elif defined(DST_Q8)
layout(std430, binding = 1) writeonly buffer Dst { uint16_t dst[]; }; // 34-byte blocks: 2-byte aligned
layout(std430, binding = 5) writeonly buffer Dst2 { uint16_t dst2[]; };
#else
#error "define DST_F16 or DST_Q8"
#endif

layout(push_constant) uniform P {
    uint n;          // rows to store
    uint n_kv_head;  // heads per source row
    uint h0, nh;     // this dispatch stores heads [h0, h0 + nh); the cache binding starts at head h0
    uint head_dim;
    uint capacity;   // slots per head
    uint ring;       // 0: slot = position; else slot = position % ring
    uint pos0;       // position of row 0
    uint src_off, dst_off; // element offsets (f32; u32 for f16, u16 for Q8_0)
    uint use_dyn, dyn_off; // use_dyn 1: pos0 is added to dyn[dyn_off] (a replayed decode's position); 2: row i is
                           // one sequence's token, at position dyn[dyn_off + 4i], its page table at dyn[.. + 2]
    uint page_size, pt_off; // paged cache: tokens per page (0: not paged) and the page table's offset
    uint pg_off;            // element offset of the page-table binding (added to every table offset)
    uint pair;              // 1: items past the first half store V (src2 -> dst2, offsets below) the same way
    uint src2_off, dst2_off;
} p;

layout(std430, binding = 2) readonly buffer Dyn { uint dyn[]; };
layout(std430, binding = 3) readonly buffer Pg { uint pages[]; };

// element e of the K (v false) or V source; s offsets already include the binding's own offset
uint rd(bool v, uint e) { return v ? src2[e] : src[e]; }
#if defined(DST_Q8)
// 16-bit unit e (past the binding offset) of the K or V cache
void wr(bool v, uint e, uint val)
{
    if (v)
        dst2[p.dst2_off + e] = uint16_t(val);
    else
        dst[p.dst_off + e] = uint16_t(val);
}
#endif

void main()
{
#if defined(DST_F16)
    const uint per_row = p.head_dim / 2u;
#else
    const uint per_row = p.head_dim / 32u;
#endif
    const uint total = p.n * p.nh * per_row;
    for (uint it2 = gl_GlobalInvocationID.x; it2 < total * (p.pair + 1u); it2 += GRID_STRIDE) {
        bool v = it2 >= total; // (a lane's own choice: both halves are bound)
        uint it = v ? it2 - total : it2;
        uint c = it % per_row, h = (it / per_row) % p.nh, i = it / (per_row * p.nh);
        uint pos = p.pos0 + i + (p.use_dyn == 1u ? dyn[p.dyn_off] : 0u), pt = p.pt_off;
        if (p.use_dyn == 2u) {
            pos = dyn[p.dyn_off + 4u * i];
            pt = dyn[p.dyn_off + 4u * i + 2u];
        }
        uint slot = p.ring != 0u ? pos % p.ring : pos;
        if (p.page_size != 0u)
            slot = pages[p.pg_off + pt + slot / p.page_size] * p.page_size + slot % p.page_size;
        uint s = (v ? p.src2_off : p.src_off) + (i * p.n_kv_head + p.h0 + h) * p.head_dim;
        uint row = h * p.capacity + slot;
#if defined(DST_F16)
        uint lo = f16_rne(rd(v, s + 2u * c)), hi = f16_rne(rd(v, s + 2u * c + 1u));
        uint at = row * per_row + c;
        if (v)
            dst2[p.dst2_off + at] = lo | (hi << 16);
        else
            dst[p.dst_off + at] = lo | (hi << 16);
#else
        s += c * 32u;
        float amax = 0.0;
        for (uint j = 0u; j < 32u; j++)
            amax = max(amax, abs(uintBitsToFloat(rd(v, s + j))));
        uint dbits = f16_rne(floatBitsToUint(amax / 127.0));
        float d = unpackHalf2x16(dbits).x;
        float id = d != 0.0 ? 1.0 / d : 0.0;
        uint b = row * per_row * 17u + c * 17u;
        wr(v, b, dbits);
        for (uint j = 0u; j < 16u; j++) {
            int q0 = clamp(int(roundEven(uintBitsToFloat(rd(v, s + 2u * j)) * id)), -127, 127);
            int q1 = clamp(int(roundEven(uintBitsToFloat(rd(v, s + 2u * j + 1u)) * id)), -127, 127);
            wr(v, b + 1u + j, (uint(q0) & 0xffu) | ((uint(q1) & 0xffu) << 8));
        }
#endif
    }
}
