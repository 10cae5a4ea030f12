/* tools/synth_gemma4a.c — Gemma 4's audio tower (gemma4a) in an mmproj, with the keys, tensor names and
 * conventions llama.cpp's converter writes (../shared/reference/gemma4.md §3): convolution weights and the
 * subsampling projection in F32, per_dim_scale already through softplus, the pre/post convolution norms under their
 * swapped names, one-element clipping bounds beside every clipped linear. The gemma4 synth adds it to its mmproj
 * through synth_gemma4a_tower; `vkmm-dev synth --arch gemma4a` writes an audio-only mmproj. */
#include <stdio.h>
#include <string.h>

#include "synth.h"

static const synth_gemma4a_shape shapes[] = {
    /* tiny: seconds on lavapipe, every code path of the real one (several heads, clipped linears, 2 blocks) */
    {"tiny", 128, 4, 256, 2, 16, 8, 96, 5},
    /* E2B / E4B (Hugging Face's Gemma4AudioConfig defaults) */
    {"e2b", 1024, 8, 4096, 12, 128, 32, 1536, 5},
};

vkmm_status synth_gemma4a_shape_for(const char *size, synth_gemma4a_shape *out, vkmm_error *err)
{
    for (size_t i = 0; i < sizeof shapes / sizeof *shapes; i++)
        if (!strcmp(shapes[i].size, size ? size : "tiny")) {
            *out = shapes[i];
            return VKMM_OK;
        }
    return vkmm_fail(err, VKMM_ERR_INVALID_ARG, "synth gemma4a: unknown size '%s' (tiny, e2b)", size);
}

/* A one-element bound (the converter turns the scalar buffers into 1-D tensors). */
static void scalar(synth_ctx *c, const char *name, float v)
{
    uint64_t ne = 1;
    synth_tensor(c, name, VKMM_F32, 1, &ne, v, 0.0f);
}

/* A clipped linear: its weight and bounds that clip a few percent of the values a random tower produces. */
static void clipped(synth_ctx *c, const char *base, vkmm_dtype type, uint64_t k, uint64_t rows)
{
    char n[96];
    snprintf(n, sizeof n, "%s.weight", base);
    synth_matrix(c, n, type, k, rows);
    static const struct { const char *what; float v; } bounds[] = {
        {"input_min", -2.0f}, {"input_max", 2.25f}, {"output_min", -2.5f}, {"output_max", 2.0f},
    };
    for (size_t i = 0; i < 4; i++) {
        snprintf(n, sizeof n, "%s.%s", base, bounds[i].what);
        scalar(c, n, bounds[i].v);
    }
}

void synth_gemma4a_tower(synth_ctx *c, const synth_gemma4a_shape *s, uint32_t n_text_embd)
{
    vkmm_gguf_writer *w = c->w;
    uint32_t E = s->n_embd, F = s->n_ff, hd = s->n_embd / s->n_head, mel = 128;
    vkmm_gguf_writer_add_bool(w, "clip.has_audio_encoder", true);
    vkmm_gguf_writer_add_str(w, "clip.audio.projector_type", "gemma4a");
    vkmm_gguf_writer_add_u32(w, "clip.audio.num_mel_bins", mel);
    vkmm_gguf_writer_add_u32(w, "clip.audio.embedding_length", E);
    vkmm_gguf_writer_add_u32(w, "clip.audio.feed_forward_length", F);
    vkmm_gguf_writer_add_u32(w, "clip.audio.block_count", s->n_layer);
    vkmm_gguf_writer_add_u32(w, "clip.audio.attention.head_count", s->n_head);
    vkmm_gguf_writer_add_f32(w, "clip.audio.attention.layer_norm_epsilon", 1e-6f);
    vkmm_gguf_writer_add_u32(w, "clip.audio.projection_dim", n_text_embd);

    vkmm_dtype t = c->o->vision_type;
    uint64_t ne_c0[4] = {3, 3, 1, s->ch0}, ne_c1[4] = {3, 3, s->ch0, s->ch1};
    synth_tensor(c, "a.conv1d.0.weight", VKMM_F32, 4, ne_c0, 0.0f, 0.5f);
    synth_vector(c, "a.conv1d.0.norm.weight", s->ch0, 1.0f, 0.2f);
    synth_tensor(c, "a.conv1d.1.weight", VKMM_F32, 4, ne_c1, 0.0f, 1.0f / 6.0f);
    synth_vector(c, "a.conv1d.1.norm.weight", s->ch1, 1.0f, 0.2f);
    uint64_t flat = (uint64_t)(mel / 4) * s->ch1;
    synth_matrix(c, "a.input_projection.weight", VKMM_F32, flat, E);
    for (uint32_t l = 0; l < s->n_layer; l++) {
        char n[64];
#define T(x) (snprintf(n, sizeof n, "a.blk.%u." x, l), n)
        synth_vector(c, T("ffn_norm.weight"), E, 1.0f, 0.2f);
        clipped(c, T("ffn_up"), t, E, F);
        clipped(c, T("ffn_down"), t, F, E);
        synth_vector(c, T("ffn_post_norm.weight"), E, 1.0f, 0.2f);
        synth_vector(c, T("attn_pre_norm.weight"), E, 1.0f, 0.2f);
        clipped(c, T("attn_q"), t, E, E);
        clipped(c, T("attn_k"), t, E, E);
        clipped(c, T("attn_v"), t, E, E);
        clipped(c, T("attn_out"), t, E, E);
        synth_matrix(c, T("attn_k_rel.weight"), t, E, E);
        synth_vector(c, T("per_dim_scale.weight"), hd, 0.7f, 0.3f); /* softplus(·) > 0, as converted */
        synth_vector(c, T("attn_post_norm.weight"), E, 1.0f, 0.2f);
        synth_vector(c, T("conv_norm.weight"), E, 1.0f, 0.2f);     /* the pre-norm, under llama.cpp's name */
        clipped(c, T("conv_pw1"), t, E, 2ull * E);
        uint64_t ne_dw[2] = {s->conv_kernel, E};
        synth_tensor(c, T("conv_dw.weight"), VKMM_F32, 2, ne_dw, 0.0f, 0.6f);
        synth_vector(c, T("norm_conv.weight"), E, 1.0f, 0.2f);     /* the norm after the depthwise conv */
        clipped(c, T("conv_pw2"), t, E, E);
        synth_vector(c, T("ffn_norm_1.weight"), E, 1.0f, 0.2f);
        clipped(c, T("ffn_up_1"), t, E, F);
        clipped(c, T("ffn_down_1"), t, F, E);
        synth_vector(c, T("ffn_post_norm_1.weight"), E, 1.0f, 0.2f);
        synth_vector(c, T("ln2.weight"), E, 1.0f, 0.2f);
#undef T
    }
    synth_matrix(c, "a.pre_encode.out.weight", t, E, s->n_out);
    synth_vector(c, "a.pre_encode.out.bias", s->n_out, 0.0f, 0.1f);
    synth_matrix(c, "mm.a.input_projection.weight", t, s->n_out, n_text_embd);
}

vkmm_status vkmm_synth_gemma4a_mmproj(const vkmm_synth_opts *o, uint32_t n_text_embd, vkmm_error *err)
{
    if (!o->mmproj_out)
        return vkmm_fail(err, VKMM_ERR_INVALID_ARG, "synth gemma4a: no output file");
    synth_gemma4a_shape s;
    vkmm_status st = synth_gemma4a_shape_for(o->size, &s, err);
    if (st)
        return st;
    if (o->n_layer)
        s.n_layer = o->n_layer;
    synth_ctx c = {.o = o, .w = vkmm_gguf_writer_new(), .seed = o->seed * 0x9e3779b97f4a7c15ull + 3};
    if (!c.w)
        return vkmm_fail(err, VKMM_ERR_HOST_MEMORY, "out of host memory");
    char name[96];
    snprintf(name, sizeof name, "vkmm synth gemma4a %s seed %llu", s.size, (unsigned long long)o->seed);
    vkmm_gguf_writer_add_str(c.w, "general.architecture", "clip");
    vkmm_gguf_writer_add_str(c.w, "general.name", name);
    vkmm_gguf_writer_add_str(c.w, "general.type", "mmproj");
    vkmm_gguf_writer_add_bool(c.w, "clip.has_vision_encoder", false);
    synth_gemma4a_tower(&c, &s, n_text_embd);
    st = vkmm_gguf_writer_write(c.w, o->mmproj_out, err);
    synth_ctx_free(&c);
    return st;
}
