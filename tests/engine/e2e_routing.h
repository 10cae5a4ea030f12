/* tests/engine/e2e_routing.h — the end-to-end tests' check of a mixture of experts' routing against the reference. */
#ifndef VKMM_TEST_E2E_ROUTING_H
#define VKMM_TEST_E2E_ROUTING_H

#include <stdint.h>

#include "ref/ref_gemma4.h"

/* The runtime's router ops (RMSNorm, scale, matmul, moe_route) on the residuals the reference's router read
 * (router_in [n][n_layer][n_embd]), for every MoE layer: the chosen experts must be the reference's (experts
 * [n][n_layer][n_used]) wherever its choice is clear (ref_gemma4_route_margin at least 1e-4); prints the counts. */
void e2e_check_routing(const ref_gemma4 *m, const float *router_in, const int32_t *experts, uint32_t n,
                       const char *what);

#endif
