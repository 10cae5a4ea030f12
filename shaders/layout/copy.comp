#version 450
// shaders/layout/copy.comp — strided copy over up to 6 dimensions with f32/f16 conversion:
//   out[Σ i_d · so_d] = in[Σ i_d · si_d] for every index (i_0..i_5) < ne (dimension 0 innermost).
// One kernel serves transposes (swapped strides), row copies into a larger layout (image embeddings placed in
// the token sequence), broadcasts (input stride 0: the [IMG_BREAK] row) and Pixtral's 2x2 patch merge (a 5-D
// view). Threads walk the output in order, so writes are coalesced. Types: SRC_F16 / DST_F16, else f32.
#extension GL_GOOGLE_include_directive : require
#include "base.glsl"

#if SRC_F16
#define SRC_T float16_t
#else
#define SRC_T float
#endif
#if DST_F16
#define DST_T float16_t
#else
#define DST_T float
#endif

layout(std430, binding = 0) readonly buffer A { SRC_T a[]; };
layout(std430, binding = 1) writeonly buffer O { DST_T o[]; };

layout(push_constant) uniform P {
    uint ne[6];
    uint si[6], so[6];
    uint total;
    uint a_off, o_off;
} p;

void main()
{
    for (uint i = gl_GlobalInvocationID.x; i < p.total; i += GRID_STRIDE) {
        uint rest = i, ia = p.a_off, io = p.o_off;
        for (uint d = 0u; d < 6u; d++) {
            uint k = rest % p.ne[d];
            rest /= p.ne[d];
            ia += k * p.si[d];
            io += k * p.so[d];
        }
        o[io] = DST_T(a[ia]);
    }
}
