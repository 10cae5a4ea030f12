#version 450
// shaders/matmul/fma.comp — independent chains of fp32 multiply-adds, the arithmetic yardstick `vkmm bench ops`
// compares matmuls to (as copy.comp is the bandwidth one). 16 chains per invocation keep every pipe busy on a
// CPU device, where each multiply-add is a multiply and an add (lavapipe does not fuse them).
#extension GL_GOOGLE_include_directive : require
#extension GL_EXT_control_flow_attributes : require
#include "base.glsl"

layout(std430, binding = 0) writeonly buffer Y { float y[]; };

layout(push_constant) uniform P {
    uint iters; // a multiple of 16
    float a, b; // a·v + b with |a| < 1 keeps values finite
} p;

void main()
{
    float v[16], a = p.a, b = p.b; // (read once: inside the loop lavapipe gathers them every trip)
    [[unroll]] for (uint i = 0u; i < 16u; i++)
        v[i] = float(gl_GlobalInvocationID.x + i);
    // 16 steps a trip: lavapipe blends every loop-carried value with the loop's lane mask once per trip
    for (uint n = 0u; n < p.iters; n += 16u)
        [[unroll]] for (uint t = 0u; t < 16u; t++)
            [[unroll]] for (uint i = 0u; i < 16u; i++)
                v[i] = v[i] * a + b;
    float s = 0.0;
    [[unroll]] for (uint i = 0u; i < 16u; i++)
        s += v[i];
    y[gl_GlobalInvocationID.x] = s;
}
