#version 450
// shaders/norm/norm.comp — RMSNorm (or LayerNorm with NORM_LN) over rows, optionally fused with a residual add:
//   plain: out = norm(x) · w (+ b)
//   ADD:   x += (flags & NORM_A ? RMSNorm(a) · wa : a);  out = norm(x) · w (+ b)
// ADD is Gemma's "x = x + RMSNorm(a, w_post); h = RMSNorm(x, w_pre)" (and the plain residual + pre-norm of
// Mistral, SigLIP, Pixtral) in one dispatch instead of three. One workgroup per row, grid-stride over rows;
// a row is (t, h): t outer (token) and h inner (head, for per-head norms), each with its own stride.
// Sums are f32 over a few elements per invocation, then a tree over the workgroup; LayerNorm is two-pass
// (mean, then the mean of squared deviations), so no cancellation.
#extension GL_GOOGLE_include_directive : require
#include "base.glsl"
#include "reduce.glsl"

#if ADD
layout(std430, binding = 0) buffer X { float x[]; };
#else
layout(std430, binding = 0) readonly buffer X { float x[]; };
#endif
layout(std430, binding = 1) readonly buffer W { float w[]; };
layout(std430, binding = 2) writeonly buffer O { float o[]; };
#if NORM_LN
layout(std430, binding = 3) readonly buffer B { float bias[]; };
#define BIND_NEXT 4
#else
#define BIND_NEXT 3
#endif
#if ADD
layout(std430, binding = BIND_NEXT) readonly buffer A { float a[]; };
layout(std430, binding = BIND_NEXT + 1) readonly buffer WA { float wa[]; };
#endif

#define HAS_W 1u
#define HAS_B 2u
#define NORM_A 4u

layout(push_constant) uniform P {
    uint n_cols;              // elements per row
    uint n_rows, n_sub;       // rows = n_rows (outer) x n_sub (inner)
    uint x_off, x_stride, x_sub;
    uint o_off, o_stride, o_sub;
    uint a_off, a_stride;     // ADD: a's rows (outer index only)
    uint w_off, b_off, wa_off;
    uint flags;
    float eps;
} p;

// 1/sqrt(mean of squares + eps) of n_cols values, each invocation holding the sum of its own squares
float rms_scale(float sq)
{
    return inversesqrt(wg_sum(sq) / float(p.n_cols) + p.eps);
}

void main()
{
    uint tid = gl_LocalInvocationID.x, wg = gl_WorkGroupSize.x;
    uint total = p.n_rows * p.n_sub;
    for (uint row = gl_WorkGroupID.x; row < total; row += gl_NumWorkGroups.x) {
        uint t = row / p.n_sub, h = row % p.n_sub;
        uint xb = p.x_off + t * p.x_stride + h * p.x_sub;
        uint ob = p.o_off + t * p.o_stride + h * p.o_sub;
#if ADD
        uint ab = p.a_off + t * p.a_stride;
        float ra = 1.0;
        if ((p.flags & NORM_A) != 0u) {
            float sq = 0.0;
            for (uint i = tid; i < p.n_cols; i += wg)
                sq += a[ab + i] * a[ab + i];
            ra = rms_scale(sq);
        }
        // each invocation rewrites and later re-reads only its own elements of x: no barrier needed
        for (uint i = tid; i < p.n_cols; i += wg) {
            float v = a[ab + i];
            if ((p.flags & NORM_A) != 0u)
                v *= ra * wa[p.wa_off + i];
            x[xb + i] += v;
        }
#endif
#if NORM_LN
        float s = 0.0;
        for (uint i = tid; i < p.n_cols; i += wg)
            s += x[xb + i];
        float mean = wg_sum(s) / float(p.n_cols);
        float sq = 0.0;
        for (uint i = tid; i < p.n_cols; i += wg) {
            float d = x[xb + i] - mean;
            sq += d * d;
        }
        float r = rms_scale(sq);
#else
        const float mean = 0.0;
        float sq = 0.0;
        for (uint i = tid; i < p.n_cols; i += wg)
            sq += x[xb + i] * x[xb + i];
        float r = rms_scale(sq);
#endif
        for (uint i = tid; i < p.n_cols; i += wg) {
            float v = (x[xb + i] - mean) * r;
            if ((p.flags & HAS_W) != 0u)
                v *= w[p.w_off + i];
#if NORM_LN
            if ((p.flags & HAS_B) != 0u)
                v += bias[p.b_off + i];
#endif
            o[ob + i] = v;
        }
    }
}
