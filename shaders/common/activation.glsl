// shaders/common/activation.glsl — activation functions in f32 with stated accuracy, for any kernel that
// applies one (act family, matmul epilogues). No erf or tanh builtin is used: Vulkan gives them no useful
// precision guarantee, and tanh-based GELU overflows to NaN on some drivers for large |x|.

// erfc(z) for z >= 0 by a Chebyshev-fitted exponential (relative error < 1.2e-7 over z >= 0)
float erfc_pos(float z)
{
    float t = 1.0 / (1.0 + 0.5 * z);
    float poly = -1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806 +
                 t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277))))))));
    return t * exp(-z * z + poly);
}

// erf(x), relative error <= 1e-6 everywhere (measured ~2e-7): Taylor series below |x| = 1 (truncation
// < 1e-10), 1 - erfc above (erfc <= 0.16 there, so its error shrinks relative to erf ~ 1)
float erf_f32(float x)
{
    float a = abs(x);
    if (a < 1.0) {
        float s = a * a;
        float p = 1.0 + s * (-1.0 / 3.0 + s * (1.0 / 10.0 + s * (-1.0 / 42.0 + s * (1.0 / 216.0 + s * (-1.0 / 1320.0 +
                  s * (1.0 / 9360.0 + s * (-1.0 / 75600.0 + s * (1.0 / 685440.0 + s * (-1.0 / 6894720.0 +
                  s * (1.0 / 76204800.0 + s * (-1.0 / 918086400.0)))))))))));
        return 1.12837916709551257 * x * p; // 2/sqrt(pi)
    }
    return sign(x) * (1.0 - erfc_pos(a));
}

// exact GELU: 0.5 x (1 + erf(x / sqrt 2)); for x < 0, 1 + erf(z) = erfc(-z), taken directly (no cancellation)
float gelu_erf(float x)
{
    float z = x * 0.707106781186547524;
    if (z < 0.0)
        return 0.5 * x * erfc_pos(-z);
    return 0.5 * x * (1.0 + erf_f32(z));
}

// tanh GELU: 0.5 x (1 + tanh(u)) with u = sqrt(2/pi) (x + 0.044715 x^3), written as x / (1 + e^(-2u)) (the
// same function) so that no tanh is needed and large |x| gives x or -0, never NaN
float gelu_tanh(float x)
{
    float u = 0.797884560802865355 * (x + 0.044715 * x * x * x);
    return x / (1.0 + exp(-2.0 * u));
}

// tanh(x) = sign(x) (1 - e^(-2|x|)) / (1 + e^(-2|x|)): no overflow for any x, absolute error ~1e-7
float tanh_f32(float x)
{
    float t = exp(-2.0 * abs(x));
    return sign(x) * ((1.0 - t) / (1.0 + t));
}

float silu(float x)
{
    return x / (1.0 + exp(-x));
}

float relu(float x)
{
    return max(x, 0.0);
}

// 1 / (1 + e^-x): 0 (not NaN) when e^-x overflows
float sigmoid(float x)
{
    return 1.0 / (1.0 + exp(-x));
}
