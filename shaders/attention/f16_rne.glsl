// shaders/attention/f16_rne.glsl — f32 bits -> f16 bits, round to nearest even, in integer arithmetic, so that
// the cache holds the same bits on every device (Vulkan lets a float conversion round either way).
uint f16_rne(uint u)
{
    uint sign = (u >> 16) & 0x8000u;
    uint ex = (u >> 23) & 0xffu;
    uint man = u & 0x7fffffu;
    if (ex == 0xffu) // inf stays inf; NaN stays a quiet NaN
        return sign | 0x7c00u | (man != 0u ? 0x200u | (man >> 13) : 0u);
    int e = int(ex) - 127 + 15;
    if (e >= 0x1f)
        return sign | 0x7c00u;
    if (e <= 0) {
        if (e < -10)
            return sign;
        man |= 0x800000u; // subnormal half: shift the mantissa with its hidden bit
        uint shift = uint(14 - e);
        uint h = man >> shift;
        uint rem = man & ((1u << shift) - 1u);
        uint mid = 1u << (shift - 1u);
        if (rem > mid || (rem == mid && (h & 1u) != 0u))
            h++;
        return sign | h;
    }
    uint h = sign | (uint(e) << 10) | (man >> 13);
    uint rem = man & 0x1fffu;
    if (rem > 0x1000u || (rem == 0x1000u && (h & 1u) != 0u))
        h++; // a carry into the exponent is the right rounding, up to inf
    return h;
}
