/* tools/synth_gemma3.c — Gemma 3 text GGUF and its SigLIP + projector mmproj, with the keys, tensor names and
 * conventions llama.cpp's converter writes (../shared/reference/gemma3.md §2 and §5): norm weights already
 * carry the +1, the output head is tied, mm.input_projection is stored transposed. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "vocab_gguf.h"
#include "synth.h"

typedef struct gemma3_shape {
    const char *size;
    uint32_t n_layer, n_embd, n_head, n_kv, head_dim, n_ff, n_ctx, window;
    uint32_t v_image, v_embd, v_head, v_ff, v_layer, v_pool;
} gemma3_shape;

static const gemma3_shape shapes[] = {
    /* tiny: seconds on lavapipe; head_dim 64 text, 72 vision (as SigLIP), one global layer in six */
    {"tiny", 6, 256, 4, 2, 64, 512, 4096, 32, 112, 144, 2, 256, 2, 2},
    {"small", 12, 512, 8, 4, 64, 1536, 8192, 128, 224, 288, 4, 576, 4, 4},
    {"4b", 34, 2560, 8, 4, 256, 10240, 131072, 1024, 896, 1152, 16, 4304, 27, 4},
    {"12b", 48, 3840, 16, 8, 256, 15360, 131072, 1024, 896, 1152, 16, 4304, 27, 4},
    {"27b", 62, 5376, 32, 16, 128, 21504, 131072, 1024, 896, 1152, 16, 4304, 27, 4},
};

static void add_common(synth_ctx *c, const char *arch, const char *name)
{
    vkmm_gguf_writer_add_str(c->w, "general.architecture", arch);
    vkmm_gguf_writer_add_str(c->w, "general.name", name);
    vkmm_gguf_writer_add_u32(c->w, "general.quantization_version", 2);
}

static void text_model(synth_ctx *c, const gemma3_shape *s, const vkmm_vocab *vocab)
{
    const vkmm_synth_opts *o = c->o;
    char name[96];
    snprintf(name, sizeof name, "vkmm synth gemma3 %s seed %llu", s->size, (unsigned long long)o->seed);
    add_common(c, "gemma3", name);
    vkmm_gguf_writer_add_u32(c->w, "gemma3.context_length", s->n_ctx);
    vkmm_gguf_writer_add_u32(c->w, "gemma3.embedding_length", s->n_embd);
    vkmm_gguf_writer_add_u32(c->w, "gemma3.block_count", s->n_layer);
    vkmm_gguf_writer_add_u32(c->w, "gemma3.feed_forward_length", s->n_ff);
    vkmm_gguf_writer_add_u32(c->w, "gemma3.attention.head_count", s->n_head);
    vkmm_gguf_writer_add_u32(c->w, "gemma3.attention.head_count_kv", s->n_kv);
    vkmm_gguf_writer_add_u32(c->w, "gemma3.attention.key_length", s->head_dim);
    vkmm_gguf_writer_add_u32(c->w, "gemma3.attention.value_length", s->head_dim);
    vkmm_gguf_writer_add_f32(c->w, "gemma3.attention.layer_norm_rms_epsilon", 1e-6f);
    vkmm_gguf_writer_add_u32(c->w, "gemma3.attention.sliding_window", s->window);
    vkmm_gguf_writer_add_f32(c->w, "gemma3.rope.freq_base", 1000000.0f);
    vkmm_gguf_writer_add_str(c->w, "gemma3.rope.scaling.type", "linear");
    vkmm_gguf_writer_add_f32(c->w, "gemma3.rope.scaling.factor", 8.0f);
    vkmm_vocab_to_gguf(vocab, c->w);

    uint32_t H = s->n_embd, hd = s->head_dim, V = vocab->n_tokens;
    vkmm_dtype t = o->type;
    uint64_t ne_emb[2] = {H, V};
    /* x = embedding * sqrt(H) should come out near unit scale */
    synth_tensor(c, "token_embd.weight", synth_type_for(t, H), 2, ne_emb, 0.0f, 1.7f / sqrtf((float)H));
    for (uint32_t l = 0; l < s->n_layer; l++) {
        char n[64];
#define T(x) (snprintf(n, sizeof n, "blk.%u." x, l), n)
        synth_vector(c, T("attn_norm.weight"), H, 1.0f, 0.1f);
        synth_matrix(c, T("attn_q.weight"), t, H, (uint64_t)s->n_head * hd);
        synth_matrix(c, T("attn_k.weight"), t, H, (uint64_t)s->n_kv * hd);
        synth_matrix(c, T("attn_v.weight"), t, H, (uint64_t)s->n_kv * hd);
        synth_vector(c, T("attn_q_norm.weight"), hd, 1.0f, 0.1f);
        synth_vector(c, T("attn_k_norm.weight"), hd, 1.0f, 0.1f);
        synth_matrix(c, T("attn_output.weight"), t, (uint64_t)s->n_head * hd, H);
        synth_vector(c, T("post_attention_norm.weight"), H, 1.0f, 0.1f);
        synth_vector(c, T("ffn_norm.weight"), H, 1.0f, 0.1f);
        synth_matrix(c, T("ffn_gate.weight"), t, H, s->n_ff);
        synth_matrix(c, T("ffn_up.weight"), t, H, s->n_ff);
        synth_matrix(c, T("ffn_down.weight"), t, s->n_ff, H);
        synth_vector(c, T("post_ffw_norm.weight"), H, 1.0f, 0.1f);
#undef T
    }
    synth_vector(c, "output_norm.weight", H, 1.0f, 0.1f);
}

static void vision_model(synth_ctx *c, const gemma3_shape *s, uint32_t text_embd)
{
    const vkmm_synth_opts *o = c->o;
    uint32_t image = o->image_size ? o->image_size : s->v_image, P = 14, E = s->v_embd, G = image / P;
    char name[96];
    snprintf(name, sizeof name, "vkmm synth gemma3 %s vision seed %llu", s->size, (unsigned long long)o->seed);
    add_common(c, "clip", name);
    vkmm_gguf_writer_add_str(c->w, "general.type", "mmproj");
    vkmm_gguf_writer_add_str(c->w, "clip.projector_type", "gemma3");
    vkmm_gguf_writer_add_bool(c->w, "clip.has_vision_encoder", true);
    vkmm_gguf_writer_add_bool(c->w, "clip.use_gelu", true);
    vkmm_gguf_writer_add_u32(c->w, "clip.vision.image_size", image);
    vkmm_gguf_writer_add_u32(c->w, "clip.vision.patch_size", P);
    vkmm_gguf_writer_add_u32(c->w, "clip.vision.embedding_length", E);
    vkmm_gguf_writer_add_u32(c->w, "clip.vision.feed_forward_length", s->v_ff);
    vkmm_gguf_writer_add_u32(c->w, "clip.vision.block_count", s->v_layer);
    vkmm_gguf_writer_add_u32(c->w, "clip.vision.attention.head_count", s->v_head);
    vkmm_gguf_writer_add_f32(c->w, "clip.vision.attention.layer_norm_epsilon", 1e-6f);
    vkmm_gguf_writer_add_u32(c->w, "clip.vision.projection_dim", text_embd);
    static const float half[3] = {0.5f, 0.5f, 0.5f};
    vkmm_gguf_writer_add_array(c->w, "clip.vision.image_mean", VKMM_GGUF_F32, half, 3);
    vkmm_gguf_writer_add_array(c->w, "clip.vision.image_std", VKMM_GGUF_F32, half, 3);
    if (s->v_pool != 4) /* the converter writes the key only when it differs from the default 4 */
        vkmm_gguf_writer_add_u32(c->w, "clip.vision.projector.scale_factor", s->v_pool);

    vkmm_dtype t = o->vision_type;
    uint64_t ne_patch[4] = {P, P, 3, E}, ne_pos[2] = {E, (uint64_t)G * G}, ne_proj[2] = {text_embd, E};
    synth_tensor(c, "v.patch_embd.weight", VKMM_F32, 4, ne_patch, 0.0f, sqrtf(3.0f / (3 * P * P)));
    synth_vector(c, "v.patch_embd.bias", E, 0.0f, 0.1f);
    synth_tensor(c, "v.position_embd.weight", VKMM_F32, 2, ne_pos, 0.0f, 0.5f);
    for (uint32_t l = 0; l < s->v_layer; l++) {
        char n[64];
#define T(x) (snprintf(n, sizeof n, "v.blk.%u." x, l), n)
        synth_vector(c, T("ln1.weight"), E, 1.0f, 0.1f);
        synth_vector(c, T("ln1.bias"), E, 0.0f, 0.1f);
        synth_matrix(c, T("attn_q.weight"), t, E, E);
        synth_vector(c, T("attn_q.bias"), E, 0.0f, 0.1f);
        synth_matrix(c, T("attn_k.weight"), t, E, E);
        synth_vector(c, T("attn_k.bias"), E, 0.0f, 0.1f);
        synth_matrix(c, T("attn_v.weight"), t, E, E);
        synth_vector(c, T("attn_v.bias"), E, 0.0f, 0.1f);
        synth_matrix(c, T("attn_out.weight"), t, E, E);
        synth_vector(c, T("attn_out.bias"), E, 0.0f, 0.1f);
        synth_vector(c, T("ln2.weight"), E, 1.0f, 0.1f);
        synth_vector(c, T("ln2.bias"), E, 0.0f, 0.1f);
        synth_matrix(c, T("ffn_up.weight"), t, E, s->v_ff);
        synth_vector(c, T("ffn_up.bias"), s->v_ff, 0.0f, 0.1f);
        synth_matrix(c, T("ffn_down.weight"), t, s->v_ff, E);
        synth_vector(c, T("ffn_down.bias"), E, 0.0f, 0.1f);
#undef T
    }
    synth_vector(c, "v.post_ln.weight", E, 1.0f, 0.1f);
    synth_vector(c, "v.post_ln.bias", E, 0.0f, 0.1f);
    synth_vector(c, "mm.soft_emb_norm.weight", E, 1.0f, 0.1f);
    synth_tensor(c, "mm.input_projection.weight", VKMM_F16, 2, ne_proj, 0.0f, sqrtf(3.0f / (float)E));
}

vkmm_status synth_gemma3(synth_ctx *text, synth_ctx *vision, const vkmm_vocab *vocab, vkmm_error *err)
{
    const vkmm_synth_opts *o = text->o;
    const gemma3_shape *base = NULL;
    for (size_t i = 0; i < sizeof shapes / sizeof *shapes; i++)
        if (!strcmp(shapes[i].size, o->size ? o->size : "tiny"))
            base = &shapes[i];
    if (!base)
        return vkmm_fail(err, VKMM_ERR_INVALID_ARG, "synth gemma3: unknown size '%s' (tiny, small, 4b, 12b, 27b)",
                         o->size);
    gemma3_shape s = *base;
    if (o->n_layer) s.n_layer = o->n_layer;
    if (o->n_ctx) s.n_ctx = o->n_ctx;
    if (o->window) s.window = o->window;
    if (o->n_embd) {
        if (o->n_embd % s.head_dim || o->n_embd % 64)
            return vkmm_fail(err, VKMM_ERR_INVALID_ARG, "synth gemma3: width %u is not a multiple of head dim %u and 64",
                             o->n_embd, s.head_dim);
        s.n_head = o->n_embd / s.head_dim;
        s.n_kv = s.n_head * base->n_kv / base->n_head ? s.n_head * base->n_kv / base->n_head : 1;
        s.n_embd = o->n_embd;
        s.n_ff = 4 * o->n_embd;
    }
    text_model(text, &s, vocab);
    if (vision) {
        uint32_t image = o->image_size ? o->image_size : s.v_image;
        if (image % 14 || (image / 14) % s.v_pool)
            return vkmm_fail(err, VKMM_ERR_INVALID_ARG, "synth gemma3: image size %u is not a multiple of 14 x %u",
                             image, s.v_pool);
        vision_model(vision, &s, s.n_embd);
    }
    return VKMM_OK;
}
