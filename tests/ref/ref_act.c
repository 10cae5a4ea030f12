/* tests/ref/ref_act.c — activation references, straight from their definitions (gemma3.md §3, mistral3.md §2.4). */
#include <math.h>

#include "ref_act.h"

double ref_gelu_tanh(double x)
{
    return 0.5 * x * (1.0 + tanh(sqrt(2.0 / M_PI) * (x + 0.044715 * x * x * x)));
}

double ref_gelu_erf(double x)
{
    /* 1 + erf(z) = erfc(-z): keeps the negative tail exact */
    return 0.5 * x * erfc(-x / sqrt(2.0));
}

double ref_silu(double x)
{
    return x / (1.0 + exp(-x));
}
