// shaders/common/reduce.glsl — workgroup-wide sum and max of one float per invocation.
// USE_SUBGROUP=1 reduces each subgroup with subgroup arithmetic first and only the per-subgroup partials go
// through shared memory; USE_SUBGROUP=0 is the portable path (shared memory only). Both are correct for any
// subgroup size (4..64) and any workgroup size. Every invocation must call these in uniform control flow.
#if USE_SUBGROUP
#extension GL_KHR_shader_subgroup_basic : require
#extension GL_KHR_shader_subgroup_arithmetic : require
#endif

shared float red_f[gl_WorkGroupSize.x];

float red_op(float a, float b, bool is_max)
{
    return is_max ? max(a, b) : a + b;
}

// Reduces v over the workgroup; every invocation gets the result.
float wg_reduce(float v, bool is_max)
{
    uint tid = gl_LocalInvocationID.x;
#if USE_SUBGROUP
    v = is_max ? subgroupMax(v) : subgroupAdd(v);
    if (subgroupElect())
        red_f[gl_SubgroupID] = v;
    uint n = gl_NumSubgroups;
#else
    red_f[tid] = v;
    uint n = gl_WorkGroupSize.x;
#endif
    barrier();
    // fold red_f[0..n) into red_f[0] by halving steps; n need not be a power of two
    uint s = 1u << findMSB(n);
    if (s < n)
        s <<= 1;
    for (s >>= 1; s > 0u; s >>= 1) {
        if (tid < s && tid + s < n)
            red_f[tid] = red_op(red_f[tid], red_f[tid + s], is_max);
        barrier();
    }
    float r = red_f[0];
    barrier(); // everyone has read the result before red_f is reused
    return r;
}

float wg_sum(float v) { return wg_reduce(v, false); }
float wg_max(float v) { return wg_reduce(v, true); }
