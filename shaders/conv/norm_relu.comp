#version 450
// shaders/conv/norm_relu.comp — in place over rows of a few channels (a convolution's output positions):
// x = max(LayerNorm(x) · w, 0), the LayerNorm without bias, two passes (mean, then mean squared deviation). One
// invocation per row: rows are short (Gemma 4 audio's subsampling: 128 and 32 channels), many (a hundred thousand)
// and need no cooperation, so no workgroup-wide reduction or barrier.
#extension GL_GOOGLE_include_directive : require
#include "base.glsl"

layout(std430, binding = 0) buffer X { float x[]; };
layout(std430, binding = 1) readonly buffer W { float w[]; };

layout(push_constant) uniform P {
    uint rows, ch;
    float eps;
    uint x_off, w_off;
} p;

void main()
{
    for (uint r = gl_GlobalInvocationID.x; r < p.rows; r += GRID_STRIDE) {
        uint b = p.x_off + r * p.ch;
        float mean = 0.0, var = 0.0;
        for (uint c = 0u; c < p.ch; c++)
            mean += x[b + c];
        mean /= float(p.ch);
        for (uint c = 0u; c < p.ch; c++)
            var += (x[b + c] - mean) * (x[b + c] - mean);
        float s = inversesqrt(var / float(p.ch) + p.eps);
        for (uint c = 0u; c < p.ch; c++)
            x[b + c] = max((x[b + c] - mean) * s * w[p.w_off + c], 0.0);
    }
}
