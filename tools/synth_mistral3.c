/* tools/synth_mistral3.c — Mistral 3 text GGUF (architecture "mistral3" or the older "llama") and its Pixtral
 * mmproj, named and keyed as llama.cpp's converters write them (../shared/reference/mistral3.md §2 and §4). */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "vocab_gguf.h"
#include "synth.h"

typedef struct mistral3_shape {
    const char *size;
    uint32_t n_layer, n_embd, n_head, n_kv, head_dim, n_ff, n_ctx;
    uint32_t v_image, v_embd, v_head, v_ff, v_layer;
} mistral3_shape;

static const mistral3_shape shapes[] = {
    /* tiny: q width (n_head*head_dim) differs from n_embd as in the real model; GQA 4:1 */
    {"tiny", 4, 256, 8, 2, 64, 512, 4096, 112, 128, 2, 256, 2},
    {"small", 8, 512, 8, 2, 128, 1536, 8192, 224, 256, 4, 512, 4},
    {"24b", 40, 5120, 32, 8, 128, 32768, 131072, 1540, 1024, 16, 4096, 24},
};

static void text_model(synth_ctx *c, const mistral3_shape *s, const vkmm_vocab *vocab)
{
    const vkmm_synth_opts *o = c->o;
    const char *arch = o->arch_name ? o->arch_name : "mistral3";
    char key[96], name[96];
#define K(x) (snprintf(key, sizeof key, "%s." x, arch), key)
    snprintf(name, sizeof name, "vkmm synth mistral3 %s seed %llu", s->size, (unsigned long long)o->seed);
    vkmm_gguf_writer_add_str(c->w, "general.architecture", arch);
    vkmm_gguf_writer_add_str(c->w, "general.name", name);
    vkmm_gguf_writer_add_u32(c->w, "general.quantization_version", 2);
    vkmm_gguf_writer_add_u32(c->w, K("context_length"), s->n_ctx);
    vkmm_gguf_writer_add_u32(c->w, K("embedding_length"), s->n_embd);
    vkmm_gguf_writer_add_u32(c->w, K("block_count"), s->n_layer);
    vkmm_gguf_writer_add_u32(c->w, K("feed_forward_length"), s->n_ff);
    vkmm_gguf_writer_add_u32(c->w, K("attention.head_count"), s->n_head);
    vkmm_gguf_writer_add_u32(c->w, K("attention.head_count_kv"), s->n_kv);
    vkmm_gguf_writer_add_u32(c->w, K("attention.key_length"), s->head_dim);
    vkmm_gguf_writer_add_u32(c->w, K("attention.value_length"), s->head_dim);
    vkmm_gguf_writer_add_u32(c->w, K("rope.dimension_count"), s->head_dim);
    vkmm_gguf_writer_add_f32(c->w, K("rope.freq_base"), 1e9f);
    vkmm_gguf_writer_add_f32(c->w, K("attention.layer_norm_rms_epsilon"), 1e-5f);
    vkmm_gguf_writer_add_u32(c->w, K("vocab_size"), vocab->n_tokens);
#undef K
    vkmm_vocab_to_gguf(vocab, c->w);
    if (!vocab->chat_template) /* tekken.json carries none; real GGUFs carry Mistral's (v7-tekken layout) */
        vkmm_gguf_writer_add_str(c->w, "tokenizer.chat_template",
                                 "{{ bos_token }}{% for m in messages %}{% if m['role'] == 'system' %}[SYSTEM_PROMPT]"
                                 "{{ m['content'] }}[/SYSTEM_PROMPT]{% elif m['role'] == 'user' %}[INST]{{ m['content'] }}"
                                 "[/INST]{% else %}{{ m['content'] }}{{ eos_token }}{% endif %}{% endfor %}");

    uint32_t H = s->n_embd, hd = s->head_dim, V = vocab->n_tokens;
    vkmm_dtype t = o->type;
    uint64_t ne_emb[2] = {H, V};
    synth_tensor(c, "token_embd.weight", synth_type_for(t, H), 2, ne_emb, 0.0f, 1.0f);
    for (uint32_t l = 0; l < s->n_layer; l++) {
        char n[64];
#define T(x) (snprintf(n, sizeof n, "blk.%u." x, l), n)
        synth_vector(c, T("attn_norm.weight"), H, 1.0f, 0.1f);
        synth_matrix(c, T("attn_q.weight"), t, H, (uint64_t)s->n_head * hd);
        synth_matrix(c, T("attn_k.weight"), t, H, (uint64_t)s->n_kv * hd);
        synth_matrix(c, T("attn_v.weight"), t, H, (uint64_t)s->n_kv * hd);
        synth_matrix(c, T("attn_output.weight"), t, (uint64_t)s->n_head * hd, H);
        synth_vector(c, T("ffn_norm.weight"), H, 1.0f, 0.1f);
        synth_matrix(c, T("ffn_gate.weight"), t, H, s->n_ff);
        synth_matrix(c, T("ffn_up.weight"), t, H, s->n_ff);
        synth_matrix(c, T("ffn_down.weight"), t, s->n_ff, H);
#undef T
    }
    synth_vector(c, "output_norm.weight", H, 1.0f, 0.1f);
    synth_matrix(c, "output.weight", t, H, V);
}

static void vision_model(synth_ctx *c, const mistral3_shape *s, uint32_t text_embd)
{
    const vkmm_synth_opts *o = c->o;
    uint32_t image = o->image_size ? o->image_size : s->v_image, P = 14, E = s->v_embd;
    char name[96];
    snprintf(name, sizeof name, "vkmm synth mistral3 %s vision seed %llu", s->size, (unsigned long long)o->seed);
    vkmm_gguf_writer_add_str(c->w, "general.architecture", "clip");
    vkmm_gguf_writer_add_str(c->w, "general.name", name);
    vkmm_gguf_writer_add_str(c->w, "general.type", "mmproj");
    vkmm_gguf_writer_add_str(c->w, "clip.projector_type", "pixtral");
    vkmm_gguf_writer_add_bool(c->w, "clip.has_vision_encoder", true);
    vkmm_gguf_writer_add_bool(c->w, "clip.use_silu", true);
    vkmm_gguf_writer_add_u32(c->w, "clip.vision.image_size", image);
    vkmm_gguf_writer_add_u32(c->w, "clip.vision.patch_size", P);
    vkmm_gguf_writer_add_u32(c->w, "clip.vision.embedding_length", E);
    vkmm_gguf_writer_add_u32(c->w, "clip.vision.feed_forward_length", s->v_ff);
    vkmm_gguf_writer_add_u32(c->w, "clip.vision.block_count", s->v_layer);
    vkmm_gguf_writer_add_u32(c->w, "clip.vision.attention.head_count", s->v_head);
    vkmm_gguf_writer_add_f32(c->w, "clip.vision.attention.layer_norm_epsilon", 1e-5f);
    vkmm_gguf_writer_add_u32(c->w, "clip.vision.projection_dim", text_embd);
    vkmm_gguf_writer_add_u32(c->w, "clip.vision.spatial_merge_size", 2);
    static const float mean[3] = {0.48145466f, 0.4578275f, 0.40821073f};
    static const float stdv[3] = {0.26862954f, 0.26130258f, 0.27577711f};
    vkmm_gguf_writer_add_array(c->w, "clip.vision.image_mean", VKMM_GGUF_F32, mean, 3);
    vkmm_gguf_writer_add_array(c->w, "clip.vision.image_std", VKMM_GGUF_F32, stdv, 3);

    vkmm_dtype t = o->vision_type;
    uint64_t ne_patch[4] = {P, P, 3, E};
    synth_tensor(c, "v.patch_embd.weight", VKMM_F16, 4, ne_patch, 0.0f, sqrtf(3.0f / (3 * P * P)));
    synth_vector(c, "v.pre_ln.weight", E, 1.0f, 0.1f);
    for (uint32_t l = 0; l < s->v_layer; l++) {
        char n[64];
#define T(x) (snprintf(n, sizeof n, "v.blk.%u." x, l), n)
        synth_vector(c, T("ln1.weight"), E, 1.0f, 0.1f);
        synth_matrix(c, T("attn_q.weight"), t, E, E);
        synth_matrix(c, T("attn_k.weight"), t, E, E);
        synth_matrix(c, T("attn_v.weight"), t, E, E);
        synth_matrix(c, T("attn_out.weight"), t, E, E);
        synth_vector(c, T("ln2.weight"), E, 1.0f, 0.1f);
        synth_matrix(c, T("ffn_gate.weight"), t, E, s->v_ff);
        synth_matrix(c, T("ffn_up.weight"), t, E, s->v_ff);
        synth_matrix(c, T("ffn_down.weight"), t, s->v_ff, E);
#undef T
    }
    synth_vector(c, "mm.input_norm.weight", E, 1.0f, 0.1f);
    synth_matrix(c, "mm.patch_merger.weight", t, 4ull * E, E);
    synth_matrix(c, "mm.1.weight", t, E, text_embd);
    synth_matrix(c, "mm.2.weight", t, text_embd, text_embd);
    synth_vector(c, "v.token_embd.img_break", text_embd, 0.0f, 1.0f);
}

vkmm_status synth_mistral3(synth_ctx *text, synth_ctx *vision, const vkmm_vocab *vocab, vkmm_error *err)
{
    const vkmm_synth_opts *o = text->o;
    const mistral3_shape *base = NULL;
    for (size_t i = 0; i < sizeof shapes / sizeof *shapes; i++)
        if (!strcmp(shapes[i].size, o->size ? o->size : "tiny"))
            base = &shapes[i];
    if (!base)
        return vkmm_fail(err, VKMM_ERR_INVALID_ARG, "synth mistral3: unknown size '%s' (tiny, small, 24b)", o->size);
    mistral3_shape s = *base;
    if (o->n_layer) s.n_layer = o->n_layer;
    if (o->n_ctx) s.n_ctx = o->n_ctx;
    text_model(text, &s, vocab);
    if (vision)
        vision_model(vision, &s, s.n_embd);
    return VKMM_OK;
}
