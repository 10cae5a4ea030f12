/* tests/ref/ref_act.h — plain-C references of the activation family (float64, libm's erf/tanh/exp). */
#ifndef VKMM_TEST_REF_ACT_H
#define VKMM_TEST_REF_ACT_H

#include <stddef.h>

double ref_gelu_tanh(double x);
double ref_gelu_erf(double x);
double ref_silu(double x);

#endif
