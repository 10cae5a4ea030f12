/* loader/audio_resample.c — sample-rate conversion with libsoxr. Its high-quality recipe is what librosa (the
 * usual way audio reaches these models in Python) uses by default, so the same file gives the same samples. */
#include <soxr.h>
#include <stdlib.h>

#include "audio.h"

vkmm_status vkmm_audio_resample(const float *in, uint64_t n, uint32_t from, uint32_t to, float **out,
                                uint64_t *n_out, vkmm_error *err)
{
    *out = NULL;
    *n_out = 0;
    if (!from || !to)
        return vkmm_fail(err, VKMM_ERR_INVALID_ARG, "resampling from %u Hz to %u Hz", from, to);
    /* soxr_oneshot writes up to olen samples; the exact count is the rounded ratio */
    double exact = (double)n * to / from;
    uint64_t olen = (uint64_t)(exact + 0.5);
    float *o = malloc(sizeof *o * (olen ? olen : 1));
    if (!o)
        return vkmm_fail(err, VKMM_ERR_HOST_MEMORY, "out of host memory for %llu resampled samples",
                         (unsigned long long)olen);
    size_t done = 0;
    soxr_io_spec_t io = soxr_io_spec(SOXR_FLOAT32_I, SOXR_FLOAT32_I);
    soxr_quality_spec_t q = soxr_quality_spec(SOXR_HQ, 0);
    soxr_error_t e = soxr_oneshot(from, to, 1, in, (size_t)n, NULL, o, (size_t)olen, &done, &io, &q, NULL);
    if (e) {
        free(o);
        return vkmm_fail(err, VKMM_ERR_INTERNAL, "resampling from %u Hz to %u Hz failed: %s", from, to, e);
    }
    *out = o;
    *n_out = done;
    return VKMM_OK;
}
