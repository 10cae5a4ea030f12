#version 450
// shaders/attention_local/sinusoid.comp — a sinusoid position table: out[r][c] = sin(p_r · f_c) for c < half and
// cos(p_r · f_{c-half}) for c >= half, p_r = pos0 + r · step, f_i = exp(-i · log_inc), each product rounded to f32
// as PyTorch forms it (Gemma 4 audio's relative position encoding). The angle is reduced modulo 2π and sin/cos are
// polynomials (precise_math.glsl): the builtins only promise 2^-11.
#extension GL_GOOGLE_include_directive : require
#include "base.glsl"
#include "precise_math.glsl"

layout(std430, binding = 0) writeonly buffer O { float o[]; };

layout(push_constant) uniform P {
    uint rows, half_cols;
    int pos0, step;
    float log_inc;
    uint o_off;
} p;

void main()
{
    uint cols = 2u * p.half_cols;
    for (uint e = gl_GlobalInvocationID.x; e < p.rows * cols; e += GRID_STRIDE) {
        uint r = e / cols, c = e % cols, i = c < p.half_cols ? c : c - p.half_cols;
        float f = exp(-float(i) * p.log_inc);
        precise float angle = float(p.pos0 + int(r) * p.step) * f;
        vec2 cs = precise_sincos(df_reduce_2pi(vec2(angle, 0.0)));
        o[p.o_off + e] = c < p.half_cols ? cs.y : cs.x;
    }
}
