// shaders/common/precise_math.glsl — double-float arithmetic (a value is hi + lo, two f32, ~48 significant bits)
// and a sin/cos whose accuracy does not depend on the driver (Vulkan only promises 2^-11 for the builtins).
// Every step is `precise` so that no compiler contracts a*b+c into an fma or reassociates: the error-free
// transformations below rely on each operation being rounded exactly once.

// a + b exactly, as (sum, error)
vec2 df_two_sum(float a, float b)
{
    precise float s = a + b;
    precise float bb = s - a;
    precise float e = (a - (s - bb)) + (b - bb);
    return vec2(s, e);
}

// a + b exactly when |a| >= |b|
vec2 df_quick_two_sum(float a, float b)
{
    precise float s = a + b;
    precise float e = b - (s - a);
    return vec2(s, e);
}

// a = hi + lo with hi holding the top 12 bits (Dekker's split, no fma needed)
vec2 df_split(float a)
{
    precise float t = 4097.0 * a;
    precise float hi = t - (t - a);
    precise float lo = a - hi;
    return vec2(hi, lo);
}

// a * b exactly, as (product, error)
vec2 df_two_prod(float a, float b)
{
    precise float p = a * b;
    vec2 as = df_split(a), bs = df_split(b);
    precise float e = ((as.x * bs.x - p) + as.x * bs.y + as.y * bs.x) + as.y * bs.y;
    return vec2(p, e);
}

vec2 df_add(vec2 a, vec2 b)
{
    vec2 s = df_two_sum(a.x, b.x);
    precise float lo = s.y + (a.y + b.y);
    return df_quick_two_sum(s.x, lo);
}

vec2 df_mul(vec2 a, vec2 b)
{
    vec2 p = df_two_prod(a.x, b.x);
    precise float lo = p.y + (a.x * b.y + a.y * b.x);
    return df_quick_two_sum(p.x, lo);
}

vec2 df_mul_f(vec2 a, float b)
{
    vec2 p = df_two_prod(a.x, b);
    precise float lo = p.y + a.y * b;
    return df_quick_two_sum(p.x, lo);
}

// a / b: the f32 quotient, then the remainder a - q·b (exact product) divided again for the low part
vec2 df_div_f(vec2 a, float b)
{
    precise float q1 = a.x / b;
    vec2 p = df_two_prod(q1, b);
    vec2 r = df_two_sum(a.x, -p.x);
    precise float rl = (r.y - p.y) + a.y;
    precise float q2 = (r.x + rl) / b;
    return df_quick_two_sum(q1, q2);
}

// a^n for a small non-negative integer n, by squaring (relative error ~ 2 log2(n) double-float roundings)
vec2 df_pow_u(vec2 a, uint n)
{
    vec2 r = vec2(1.0, 0.0);
    for (; n != 0u; n >>= 1) {
        if ((n & 1u) != 0u)
            r = df_mul(r, a);
        a = df_mul(a, a);
    }
    return r;
}

// theta (a double-float angle of any size below 2^24 rad) reduced to [-pi, pi] and rounded to f32.
// 2*pi is carried as three f32 parts; k * part is exact for the first two (k < 2^24, parts of 24 bits
// multiplied exactly by df_two_prod), so the result is off by at most one f32 rounding.
float df_reduce_2pi(vec2 theta)
{
    const float P1 = 6.28318548202514648, P2 = -1.74845553146951715e-07, P3 = -6.86049804002352749e-15;
    float k = round(theta.x * 0.159154943091895336);
    vec2 r = df_add(theta, -df_two_prod(k, P1));
    r = df_add(r, -df_two_prod(k, P2));
    precise float v = r.x + (r.y - k * P3);
    return v;
}

// (cos x, sin x) for |x| <= ~4: reduction by pi/2 in two parts, then Taylor polynomials on [-pi/4, pi/4]
// (truncation error < 2e-9); about one ulp of 1 in the result.
vec2 precise_sincos(float x)
{
    const float H1 = 1.57079637050628662, H2 = -4.37113882867379289e-08;
    float q = round(x * 0.636619772367581343);
    precise float y = (x - q * H1) - q * H2;
    precise float y2 = y * y;
    precise float s = y + y * y2 * (-1.0 / 6.0 + y2 * (1.0 / 120.0 + y2 * (-1.0 / 5040.0 + y2 * (1.0 / 362880.0))));
    precise float c = 1.0 - 0.5 * y2 +
                      y2 * y2 * (1.0 / 24.0 + y2 * (-1.0 / 720.0 + y2 * (1.0 / 40320.0 + y2 * (-1.0 / 3628800.0))));
    int quadrant = int(q) & 3;
    if (quadrant == 0)
        return vec2(c, s);
    if (quadrant == 1)
        return vec2(-s, c);
    if (quadrant == 2)
        return vec2(-c, -s);
    return vec2(s, -c);
}
