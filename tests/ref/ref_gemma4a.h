/* tests/ref/ref_gemma4a.h — a plain-C forward pass of Gemma 4's audio tower in double precision, written line by
 * line from Hugging Face's Gemma4AudioModel and Gemma4MultimodalEmbedder (modeling_gemma4.py): the masked
 * subsampling over every frame the feature extractor gives (padding included), the blocked chunked attention with
 * its 5-D mask and Transformer-XL relative shift, the clipped linears, then the valid rows only. Long audio is cut
 * into 30-second pieces as llama.cpp does (the reference itself truncates at 30 s). Independent of the GPU path
 * it checks, which attends over a sliding window and never sees the padded frames. */
#ifndef VKMM_TEST_REF_GEMMA4A_H
#define VKMM_TEST_REF_GEMMA4A_H

#include <stdint.h>

/* A Gemma4ClippableLinear: w [rows][k]; bounds ±INFINITY where the file has none. */
typedef struct ref_g4a_linear {
    const float *w;
    float in_lo, in_hi, out_lo, out_hi;
} ref_g4a_linear;

typedef struct ref_g4a_layer {
    const float *ffn_norm[2], *ffn_post_norm[2];
    ref_g4a_linear ffn_up[2], ffn_down[2];
    const float *attn_pre_norm, *attn_post_norm;
    const float *per_dim_scale;           /* softplus already applied (as the converter stores it) */
    const float *k_rel;                   /* relative_k_proj [n_embd][n_embd] */
    ref_g4a_linear q, k, v, o;
    const float *conv_pre_norm, *conv_mid_norm;
    const float *conv_dw;                 /* [n_embd][conv_kernel] */
    ref_g4a_linear pw1, pw2;
    const float *out_norm;
} ref_g4a_layer;

typedef struct ref_gemma4a {
    uint32_t n_mel, n_embd, n_head, n_ff, n_layer, ch0, ch1, n_out, n_text, conv_kernel;
    const float *conv_w[2];               /* [out][in][3][3] */
    const float *conv_b[2];               /* may be NULL */
    const float *conv_norm[2];
    const float *in_proj, *in_proj_b;     /* [n_embd][(n_mel/4)·ch1], bias may be NULL */
    ref_g4a_layer *layers;
    const float *out_proj, *out_proj_b;   /* [n_out][n_embd], [n_out] (bias may be NULL) */
    const float *mm_proj;                 /* [n_text][n_out] */
} ref_gemma4a;

/* features [n_frames][n_mel] as the feature extractor gives them, the first n_valid frames real audio: writes the
 * valid rows [..][n_text] to out (NULL: only count them) and returns how many. */
uint32_t ref_gemma4a_encode(const ref_gemma4a *m, const float *features, uint32_t n_frames, uint32_t n_valid,
                            float *out);
/* n samples at 16 kHz: 30-second pieces, each through Gemma4AudioFeatureExtractor's log-mel (vkmm_mel_compute,
 * itself checked against numpy) and ref_gemma4a_encode; rows of all pieces one after the other. */
uint64_t ref_gemma4a_encode_pcm(const ref_gemma4a *m, const float *pcm, uint64_t n, float *out);

#endif
