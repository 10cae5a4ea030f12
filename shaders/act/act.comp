#version 450
// shaders/act/act.comp — activations, elementwise (out[i] = f(x[i]), in place allowed) or gated with GLU:
// out[r][c] = f(gate[r][c]) · up[r][c], gate and up either two buffers or the two halves of one row
// [x0 | x1] (the same buffer bound twice, one half offset by the other's width): GeGLU (Gemma), SwiGLU (Mistral,
// Pixtral), GLU (Gemma 4's audio: x0 · sigmoid(x1)). f is ACT_GELU_TANH, ACT_GELU_ERF, ACT_SILU, ACT_ERF, ACT_TANH,
// ACT_RELU or ACT_SIGMOID.
#extension GL_GOOGLE_include_directive : require
#include "base.glsl"
#include "activation.glsl"

#if defined(ACT_GELU_TANH)
#define ACT(v) gelu_tanh(v)
#elif defined(ACT_GELU_ERF)
#define ACT(v) gelu_erf(v)
#elif defined(ACT_SILU)
#define ACT(v) silu(v)
#elif defined(ACT_ERF)
#define ACT(v) erf_f32(v)
#elif defined(ACT_TANH)
#define ACT(v) tanh_f32(v)
#elif defined(ACT_RELU)
#define ACT(v) relu(v)
#elif defined(ACT_SIGMOID)
#define ACT(v) sigmoid(v)
#else
#error "define ACT_<function>"
#endif

layout(std430, binding = 0) readonly buffer G { float g[]; };
#if GLU
layout(std430, binding = 1) readonly buffer U { float u[]; };
layout(std430, binding = 2) writeonly buffer O { float o[]; };
#else
layout(std430, binding = 1) writeonly buffer O { float o[]; };
#endif

layout(push_constant) uniform P {
    uint rows, cols;                 // elementwise: rows = 1, cols = n
    uint g_off, g_stride;
    uint u_off, u_stride;
    uint o_off, o_stride;
} p;

void main()
{
    uint n = p.rows * p.cols;
    for (uint i = gl_GlobalInvocationID.x; i < n; i += GRID_STRIDE) {
#if GLU
        uint r = i / p.cols, c = i % p.cols;
        o[p.o_off + r * p.o_stride + c] = ACT(g[p.g_off + r * p.g_stride + c]) * u[p.u_off + r * p.u_stride + c];
#else
        o[p.o_off + i] = ACT(g[p.g_off + i]);
#endif
    }
}
