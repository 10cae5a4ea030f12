/* tools/synth_gemma4v.c — Gemma 4's vision mmproj (projector_type gemma4v) with the keys and tensor names
 * llama.cpp's converter writes (../shared/reference/gemma4.md §3-4): the E2B/E4B family with clamped linears, the
 * 26B/31B family with v.std_bias / v.std_scale. The gemma4 text synth calls synth_gemma4v for its mmproj; alone,
 * `vkmm-dev synth --arch gemma4v` writes just this file. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "synth.h"

typedef struct g4v_shape {
    const char *size;
    uint32_t embd, heads, ff, layers, n_pos;
    bool clamps;      /* E2B/E4B: input/output clamps on every encoder linear */
    bool standardize; /* 26B/31B: v.std_bias, v.std_scale */
    bool out_scale;   /* v.blk.N.out_scale (llama.cpp reads it when present) */
} g4v_shape;

static const g4v_shape shapes[] = {
    /* tiny: seconds on lavapipe; the heads of the real families (64 and 72), position tables of 1024 */
    {"tiny-e", 128, 2, 256, 2, 1024, true, false, false},
    {"tiny-31b", 144, 2, 288, 2, 1024, false, true, true},
    {"e2b", 768, 12, 3072, 16, 10240, true, false, false},
    {"e4b", 768, 12, 3072, 16, 10240, true, false, false},
    {"26b", 1152, 16, 4304, 27, 10240, false, true, false},
    {"31b", 1152, 16, 4304, 27, 10240, false, true, false},
};

const char *synth_gemma4v_sizes(void)
{
    return "tiny-e, tiny-31b, e2b, e4b, 26b, 31b";
}

/* The four clamp scalars of one linear: narrow enough that some activations of random weights reach them. */
static void clamps(synth_ctx *c, const char *base)
{
    static const struct { const char *what; float center; } b[] = {
        {"input_min", -2.0f}, {"input_max", 2.0f}, {"output_min", -1.5f}, {"output_max", 1.5f}};
    char n[96];
    for (size_t i = 0; i < 4; i++) {
        snprintf(n, sizeof n, "%s.%s", base, b[i].what);
        synth_vector(c, n, 1, b[i].center, 0.25f);
    }
}

static void linear(synth_ctx *c, const g4v_shape *s, uint32_t l, const char *what, uint64_t k, uint64_t rows)
{
    char base[64], n[80];
    snprintf(base, sizeof base, "v.blk.%u.%s", l, what);
    snprintf(n, sizeof n, "%s.weight", base);
    synth_matrix(c, n, c->o->vision_type, k, rows);
    if (s->clamps)
        clamps(c, base);
}

static void write_tower(synth_ctx *c, const g4v_shape *s, uint32_t text_embd)
{
    const vkmm_synth_opts *o = c->o;
    uint32_t E = s->embd, P = 16, hd = E / s->heads;
    char name[96];
    snprintf(name, sizeof name, "vkmm synth gemma4v %s seed %llu", s->size, (unsigned long long)o->seed);
    vkmm_gguf_writer_add_str(c->w, "general.architecture", "clip");
    vkmm_gguf_writer_add_str(c->w, "general.name", name);
    vkmm_gguf_writer_add_str(c->w, "general.type", "mmproj");
    vkmm_gguf_writer_add_u32(c->w, "general.quantization_version", 2);
    vkmm_gguf_writer_add_str(c->w, "clip.projector_type", "gemma4v");
    vkmm_gguf_writer_add_bool(c->w, "clip.has_vision_encoder", true);
    vkmm_gguf_writer_add_u32(c->w, "clip.vision.image_size", 224); /* a dummy, as the converter writes it */
    vkmm_gguf_writer_add_u32(c->w, "clip.vision.patch_size", P);
    vkmm_gguf_writer_add_u32(c->w, "clip.vision.embedding_length", E);
    vkmm_gguf_writer_add_u32(c->w, "clip.vision.feed_forward_length", s->ff);
    vkmm_gguf_writer_add_u32(c->w, "clip.vision.block_count", s->layers);
    vkmm_gguf_writer_add_u32(c->w, "clip.vision.attention.head_count", s->heads);
    vkmm_gguf_writer_add_f32(c->w, "clip.vision.attention.layer_norm_epsilon", 1e-6f);
    vkmm_gguf_writer_add_u32(c->w, "clip.vision.projection_dim", text_embd);
    static const float zero[3] = {0, 0, 0}, one[3] = {1, 1, 1};
    vkmm_gguf_writer_add_array(c->w, "clip.vision.image_mean", VKMM_GGUF_F32, zero, 3);
    vkmm_gguf_writer_add_array(c->w, "clip.vision.image_std", VKMM_GGUF_F32, one, 3);

    uint64_t ne_patch[4] = {P, P, 3, E}, ne_pos[3] = {E, s->n_pos, 2};
    synth_tensor(c, "v.patch_embd.weight", VKMM_F16, 4, ne_patch, 0.0f, sqrtf(3.0f / (3 * P * P)));
    synth_tensor(c, "v.position_embd.weight", VKMM_F32, 3, ne_pos, 0.0f, 0.5f);
    for (uint32_t l = 0; l < s->layers; l++) {
        char n[64];
#define T(x) (snprintf(n, sizeof n, "v.blk.%u." x, l), n)
        synth_vector(c, T("ln1.weight"), E, 1.0f, 0.1f);
        linear(c, s, l, "attn_q", E, E);
        linear(c, s, l, "attn_k", E, E);
        linear(c, s, l, "attn_v", E, E);
        synth_vector(c, T("attn_q_norm.weight"), hd, 1.0f, 0.1f);
        synth_vector(c, T("attn_k_norm.weight"), hd, 1.0f, 0.1f);
        linear(c, s, l, "attn_out", E, E);
        synth_vector(c, T("attn_post_norm.weight"), E, 1.0f, 0.1f);
        synth_vector(c, T("ln2.weight"), E, 1.0f, 0.1f);
        linear(c, s, l, "ffn_gate", E, s->ff);
        linear(c, s, l, "ffn_up", E, s->ff);
        linear(c, s, l, "ffn_down", s->ff, E);
        synth_vector(c, T("ffn_post_norm.weight"), E, 1.0f, 0.1f);
        if (s->out_scale)
            synth_vector(c, T("out_scale.weight"), 1, 0.8f, 0.3f);
#undef T
    }
    if (s->standardize) {
        synth_vector(c, "v.std_bias", E, 0.0f, 0.5f);
        synth_vector(c, "v.std_scale", E, 1.0f, 0.5f);
    }
    synth_matrix(c, "mm.input_projection.weight", VKMM_F16, E, text_embd);
}

vkmm_status synth_gemma4v(synth_ctx *vision, const char *size, uint32_t text_embd, vkmm_error *err)
{
    const g4v_shape *s = NULL;
    for (size_t i = 0; i < sizeof shapes / sizeof *shapes; i++)
        if (!strcmp(shapes[i].size, size ? size : "tiny-e"))
            s = &shapes[i];
    if (!s)
        return vkmm_fail(err, VKMM_ERR_INVALID_ARG, "synth gemma4v: unknown size '%s' (%s)", size,
                         synth_gemma4v_sizes());
    if (!text_embd)
        return vkmm_fail(err, VKMM_ERR_INVALID_ARG, "synth gemma4v: the text width (--embd) is needed");
    write_tower(vision, s, text_embd);
    return VKMM_OK;
}
