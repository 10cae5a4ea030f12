/* tests/ref/ref_layout.h — plain-C references of the layout family, each written from its own formula. */
#ifndef VKMM_TEST_REF_LAYOUT_H
#define VKMM_TEST_REF_LAYOUT_H

#include <stddef.h>
#include <stdint.h>

/* out[Σ i_d so_d] = in[Σ i_d si_d] over n_dims dimensions (dimension 0 innermost), f32. */
void ref_copy_nd(const float *in, float *out, uint32_t n_dims, const uint32_t *ne, const uint32_t *si,
                 const uint32_t *so);
/* Pixtral's merge, straight from mistral3.md §4.5 step 6. */
void ref_patch_merge(const float *x, float *m, size_t gh, size_t gw, size_t ch, size_t s);
/* mean of kh × kw windows of a gh × gw × ch grid, in double */
void ref_avg_pool(const float *x, float *out, size_t gh, size_t gw, size_t ch, size_t kh, size_t kw);

#endif
