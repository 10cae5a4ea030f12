/* tests/ref/ref_load.c — reads model GGUFs into the reference structs: hyperparameters by the same rules the
 * runtime documents (gemma3.md / mistral3.md), tensors dequantized with the loader's CPU code. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dtype_table.h"
#include "ref_load.h"

void ref_arena_free(ref_arena *a)
{
    for (size_t i = 0; i < a->n; i++)
        free(a->bufs[i]);
    free(a->bufs);
    memset(a, 0, sizeof *a);
}

static const float *tensor(const vkmm_gguf *g, ref_arena *a, const char *name, bool required)
{
    const vkmm_gguf_tensor *t = vkmm_gguf_tensor_by_name(g, name);
    if (!t) {
        if (required)
            fprintf(stderr, "reference: %s: tensor %s missing\n", vkmm_gguf_path(g), name);
        return NULL;
    }
    float *f = malloc(sizeof *f * t->n_elements);
    if (!f || !vkmm_dequantize(t->type, t->data, f, t->n_elements)) {
        free(f);
        fprintf(stderr, "reference: cannot read %s\n", name);
        return NULL;
    }
    if (a->n == a->cap) {
        a->cap = a->cap ? a->cap * 2 : 256;
        a->bufs = realloc(a->bufs, sizeof *a->bufs * a->cap);
    }
    a->bufs[a->n++] = f;
    return f;
}

const float *ref_tensor(const vkmm_gguf *g, ref_arena *a, const char *name, bool required)
{
    return tensor(g, a, name, required);
}

#define REQ(dst, name)                      \
    do {                                    \
        (dst) = tensor(g, a, (name), true); \
        if (!(dst))                         \
            return false;                   \
    } while (0)

static const char *nm(char *buf, const char *fmt, uint32_t l)
{
    snprintf(buf, 96, fmt, l);
    return buf;
}

bool ref_load_gemma3(const vkmm_gguf *g, ref_gemma3 *m, ref_arena *a)
{
    memset(m, 0, sizeof *m);
    vkmm_gguf_get_u32(g, "gemma3.block_count", &m->n_layer);
    vkmm_gguf_get_u32(g, "gemma3.embedding_length", &m->n_embd);
    vkmm_gguf_get_u32(g, "gemma3.attention.head_count", &m->n_head);
    m->n_kv = m->n_head;
    vkmm_gguf_get_u32(g, "gemma3.attention.head_count_kv", &m->n_kv);
    vkmm_gguf_get_u32(g, "gemma3.attention.key_length", &m->head_dim);
    vkmm_gguf_get_u32(g, "gemma3.feed_forward_length", &m->n_ff);
    m->eps = 1e-6f;
    vkmm_gguf_get_f32(g, "gemma3.attention.layer_norm_rms_epsilon", &m->eps);
    m->rope_base = 10000;
    vkmm_gguf_get_f32(g, "gemma3.rope.freq_base", &m->rope_base);
    float factor = 1;
    vkmm_gguf_get_f32(g, "gemma3.rope.scaling.factor", &factor);
    m->rope_scale = 1.0f / factor;
    m->rope_base_local = 10000;
    vkmm_gguf_get_u32(g, "gemma3.attention.sliding_window", &m->window);
    m->swa_period = 6;
    m->attn_scale = m->n_layer == 62 ? 1.0f / sqrtf((float)m->n_embd / m->n_head) : 1.0f / sqrtf((float)m->head_dim);
    const vkmm_gguf_tensor *te = vkmm_gguf_tensor_by_name(g, "token_embd.weight");
    if (!te || !m->n_layer)
        return false;
    m->n_vocab = (uint32_t)te->ne[1];
    REQ(m->tok_embd, "token_embd.weight");
    REQ(m->output_norm, "output_norm.weight");
    m->output = tensor(g, a, "output.weight", false);
    m->layers = calloc(m->n_layer, sizeof *m->layers);
    char b[96];
    for (uint32_t l = 0; l < m->n_layer; l++) {
        ref_gemma3_layer *L = &m->layers[l];
        REQ(L->attn_norm, nm(b, "blk.%u.attn_norm.weight", l));
        REQ(L->wq, nm(b, "blk.%u.attn_q.weight", l));
        REQ(L->wk, nm(b, "blk.%u.attn_k.weight", l));
        REQ(L->wv, nm(b, "blk.%u.attn_v.weight", l));
        REQ(L->q_norm, nm(b, "blk.%u.attn_q_norm.weight", l));
        REQ(L->k_norm, nm(b, "blk.%u.attn_k_norm.weight", l));
        REQ(L->wo, nm(b, "blk.%u.attn_output.weight", l));
        REQ(L->post_attn_norm, nm(b, "blk.%u.post_attention_norm.weight", l));
        REQ(L->ffn_norm, nm(b, "blk.%u.ffn_norm.weight", l));
        REQ(L->w_gate, nm(b, "blk.%u.ffn_gate.weight", l));
        REQ(L->w_up, nm(b, "blk.%u.ffn_up.weight", l));
        REQ(L->w_down, nm(b, "blk.%u.ffn_down.weight", l));
        REQ(L->post_ffw_norm, nm(b, "blk.%u.post_ffw_norm.weight", l));
    }
    return true;
}

bool ref_load_siglip(const vkmm_gguf *g, uint32_t n_text_embd, ref_siglip *m, ref_arena *a)
{
    memset(m, 0, sizeof *m);
    vkmm_gguf_get_u32(g, "clip.vision.image_size", &m->image_size);
    vkmm_gguf_get_u32(g, "clip.vision.patch_size", &m->patch);
    vkmm_gguf_get_u32(g, "clip.vision.embedding_length", &m->n_embd);
    vkmm_gguf_get_u32(g, "clip.vision.attention.head_count", &m->n_head);
    vkmm_gguf_get_u32(g, "clip.vision.feed_forward_length", &m->n_ff);
    vkmm_gguf_get_u32(g, "clip.vision.block_count", &m->n_layer);
    m->pool = 4;
    vkmm_gguf_get_u32(g, "clip.vision.projector.scale_factor", &m->pool);
    m->eps = 1e-6f;
    vkmm_gguf_get_f32(g, "clip.vision.attention.layer_norm_epsilon", &m->eps);
    m->n_text_embd = n_text_embd;
    REQ(m->patch_w, "v.patch_embd.weight");
    m->patch_b = tensor(g, a, "v.patch_embd.bias", false);
    REQ(m->pos_embd, "v.position_embd.weight");
    REQ(m->post_ln_w, "v.post_ln.weight");
    REQ(m->post_ln_b, "v.post_ln.bias");
    REQ(m->soft_emb_norm, "mm.soft_emb_norm.weight");
    REQ(m->input_proj, "mm.input_projection.weight");
    m->layers = calloc(m->n_layer, sizeof *m->layers);
    char b[96];
    for (uint32_t l = 0; l < m->n_layer; l++) {
        ref_siglip_layer *L = &m->layers[l];
        REQ(L->ln1_w, nm(b, "v.blk.%u.ln1.weight", l));
        REQ(L->ln1_b, nm(b, "v.blk.%u.ln1.bias", l));
        REQ(L->ln2_w, nm(b, "v.blk.%u.ln2.weight", l));
        REQ(L->ln2_b, nm(b, "v.blk.%u.ln2.bias", l));
        REQ(L->wq, nm(b, "v.blk.%u.attn_q.weight", l));
        REQ(L->bq, nm(b, "v.blk.%u.attn_q.bias", l));
        REQ(L->wk, nm(b, "v.blk.%u.attn_k.weight", l));
        REQ(L->bk, nm(b, "v.blk.%u.attn_k.bias", l));
        REQ(L->wv, nm(b, "v.blk.%u.attn_v.weight", l));
        REQ(L->bv, nm(b, "v.blk.%u.attn_v.bias", l));
        REQ(L->wo, nm(b, "v.blk.%u.attn_out.weight", l));
        REQ(L->bo, nm(b, "v.blk.%u.attn_out.bias", l));
        REQ(L->w_up, nm(b, "v.blk.%u.ffn_up.weight", l));
        REQ(L->b_up, nm(b, "v.blk.%u.ffn_up.bias", l));
        REQ(L->w_down, nm(b, "v.blk.%u.ffn_down.weight", l));
        REQ(L->b_down, nm(b, "v.blk.%u.ffn_down.bias", l));
    }
    return true;
}

bool ref_load_mistral(const vkmm_gguf *g, ref_mistral *m, ref_arena *a)
{
    memset(m, 0, sizeof *m);
    char *arch = vkmm_gguf_get_strdup(g, "general.architecture");
    if (!arch)
        return false;
    char k[96];
#define K(x) (snprintf(k, sizeof k, "%s." x, arch), k)
    vkmm_gguf_get_u32(g, K("block_count"), &m->n_layer);
    vkmm_gguf_get_u32(g, K("embedding_length"), &m->n_embd);
    vkmm_gguf_get_u32(g, K("attention.head_count"), &m->n_head);
    m->n_kv = m->n_head;
    vkmm_gguf_get_u32(g, K("attention.head_count_kv"), &m->n_kv);
    m->head_dim = m->n_embd / m->n_head;
    vkmm_gguf_get_u32(g, K("attention.key_length"), &m->head_dim);
    vkmm_gguf_get_u32(g, K("feed_forward_length"), &m->n_ff);
    m->eps = 1e-5f;
    vkmm_gguf_get_f32(g, K("attention.layer_norm_rms_epsilon"), &m->eps);
    m->rope_base = 10000;
    vkmm_gguf_get_f32(g, K("rope.freq_base"), &m->rope_base);
#undef K
    free(arch);
    const vkmm_gguf_tensor *te = vkmm_gguf_tensor_by_name(g, "token_embd.weight");
    if (!te || !m->n_layer)
        return false;
    m->n_vocab = (uint32_t)te->ne[1];
    REQ(m->tok_embd, "token_embd.weight");
    REQ(m->output_norm, "output_norm.weight");
    m->output = tensor(g, a, "output.weight", false);
    m->layers = calloc(m->n_layer, sizeof *m->layers);
    char b[96];
    for (uint32_t l = 0; l < m->n_layer; l++) {
        ref_mistral_layer *L = &m->layers[l];
        REQ(L->attn_norm, nm(b, "blk.%u.attn_norm.weight", l));
        REQ(L->wq, nm(b, "blk.%u.attn_q.weight", l));
        REQ(L->wk, nm(b, "blk.%u.attn_k.weight", l));
        REQ(L->wv, nm(b, "blk.%u.attn_v.weight", l));
        REQ(L->wo, nm(b, "blk.%u.attn_output.weight", l));
        REQ(L->ffn_norm, nm(b, "blk.%u.ffn_norm.weight", l));
        REQ(L->w_gate, nm(b, "blk.%u.ffn_gate.weight", l));
        REQ(L->w_up, nm(b, "blk.%u.ffn_up.weight", l));
        REQ(L->w_down, nm(b, "blk.%u.ffn_down.weight", l));
    }
    return true;
}

bool ref_load_pixtral(const vkmm_gguf *g, uint32_t n_text_embd, ref_pixtral *m, ref_arena *a)
{
    memset(m, 0, sizeof *m);
    vkmm_gguf_get_u32(g, "clip.vision.patch_size", &m->patch);
    vkmm_gguf_get_u32(g, "clip.vision.embedding_length", &m->n_embd);
    vkmm_gguf_get_u32(g, "clip.vision.attention.head_count", &m->n_head);
    vkmm_gguf_get_u32(g, "clip.vision.feed_forward_length", &m->n_ff);
    vkmm_gguf_get_u32(g, "clip.vision.block_count", &m->n_layer);
    m->merge = 1;
    vkmm_gguf_get_u32(g, "clip.vision.spatial_merge_size", &m->merge);
    m->eps = 1e-5f;
    vkmm_gguf_get_f32(g, "clip.vision.attention.layer_norm_epsilon", &m->eps);
    m->rope_theta = 10000;
    bool gelu = false;
    vkmm_gguf_get_bool(g, "clip.use_gelu", &gelu);
    m->gelu_mlp = gelu;
    m->n_text_embd = n_text_embd;
    REQ(m->patch_w, "v.patch_embd.weight");
    REQ(m->pre_ln, "v.pre_ln.weight");
    REQ(m->mm_norm, "mm.input_norm.weight");
    REQ(m->merger, "mm.patch_merger.weight");
    REQ(m->mm1_w, "mm.1.weight");
    m->mm1_b = tensor(g, a, "mm.1.bias", false);
    REQ(m->mm2_w, "mm.2.weight");
    m->mm2_b = tensor(g, a, "mm.2.bias", false);
    REQ(m->img_break, "v.token_embd.img_break");
    m->layers = calloc(m->n_layer, sizeof *m->layers);
    char b[96];
    for (uint32_t l = 0; l < m->n_layer; l++) {
        ref_pixtral_layer *L = &m->layers[l];
        REQ(L->ln1, nm(b, "v.blk.%u.ln1.weight", l));
        REQ(L->ln2, nm(b, "v.blk.%u.ln2.weight", l));
        REQ(L->wq, nm(b, "v.blk.%u.attn_q.weight", l));
        REQ(L->wk, nm(b, "v.blk.%u.attn_k.weight", l));
        REQ(L->wv, nm(b, "v.blk.%u.attn_v.weight", l));
        REQ(L->wo, nm(b, "v.blk.%u.attn_out.weight", l));
        REQ(L->w_gate, nm(b, "v.blk.%u.ffn_gate.weight", l));
        REQ(L->w_up, nm(b, "v.blk.%u.ffn_up.weight", l));
        REQ(L->w_down, nm(b, "v.blk.%u.ffn_down.weight", l));
    }
    return true;
}

/* A u32 key that may be an array of one value per layer: entry l. */
static uint32_t layer_u32(const vkmm_gguf *g, const char *key, uint32_t l, uint32_t dflt)
{
    uint32_t v = dflt;
    if (vkmm_gguf_get_u32(g, key, &v))
        return v;
    const vkmm_gguf_value *arr = vkmm_gguf_get_array(g, key, VKMM_GGUF_TYPE_COUNT);
    vkmm_gguf_value e;
    uint64_t u;
    if (arr && vkmm_gguf_array_elem(arr, l, &e) && vkmm_gguf_value_u64(&e, &u))
        return (uint32_t)u;
    return dflt;
}

bool ref_load_gemma4(const vkmm_gguf *g, ref_gemma4 *m, ref_arena *a)
{
    memset(m, 0, sizeof *m);
    uint32_t hd_full = 0, hd_swa = 0, n_shared = 0;
    vkmm_gguf_get_u32(g, "gemma4.block_count", &m->n_layer);
    vkmm_gguf_get_u32(g, "gemma4.embedding_length", &m->n_embd);
    vkmm_gguf_get_u32(g, "gemma4.attention.head_count", &m->n_head);
    vkmm_gguf_get_u32(g, "gemma4.attention.key_length", &hd_full);
    hd_swa = hd_full;
    vkmm_gguf_get_u32(g, "gemma4.attention.key_length_swa", &hd_swa);
    vkmm_gguf_get_u32(g, "gemma4.attention.sliding_window", &m->window);
    vkmm_gguf_get_u32(g, "gemma4.attention.shared_kv_layers", &n_shared);
    vkmm_gguf_get_u32(g, "gemma4.embedding_length_per_layer_input", &m->n_ple);
    vkmm_gguf_get_u32(g, "gemma4.expert_count", &m->n_expert);
    vkmm_gguf_get_u32(g, "gemma4.expert_used_count", &m->n_used);
    vkmm_gguf_get_u32(g, "gemma4.expert_feed_forward_length", &m->n_ff_exp);
    m->eps = 1e-6f;
    vkmm_gguf_get_f32(g, "gemma4.attention.layer_norm_rms_epsilon", &m->eps);
    m->rope_base = 1e6f;
    m->rope_base_swa = 1e4f;
    vkmm_gguf_get_f32(g, "gemma4.rope.freq_base", &m->rope_base);
    vkmm_gguf_get_f32(g, "gemma4.rope.freq_base_swa", &m->rope_base_swa);
    vkmm_gguf_get_f32(g, "gemma4.final_logit_softcapping", &m->softcap);
    uint32_t pad = 0;
    vkmm_gguf_get_u32(g, "tokenizer.ggml.padding_token_id", &pad);
    m->media_token = (int32_t)pad;
    const vkmm_gguf_tensor *te = vkmm_gguf_tensor_by_name(g, "token_embd.weight");
    const vkmm_gguf_value *pattern = vkmm_gguf_get_array(g, "gemma4.attention.sliding_window_pattern", VKMM_GGUF_BOOL);
    if (!te || !m->n_layer || !pattern || pattern->count != m->n_layer || m->n_used > 64)
        return false;
    m->n_vocab = (uint32_t)te->ne[1];
    REQ(m->tok_embd, "token_embd.weight");
    REQ(m->output_norm, "output_norm.weight");
    m->rope_freqs = tensor(g, a, "rope_freqs.weight", false);
    if (m->n_ple) {
        REQ(m->ple_tok, "per_layer_token_embd.weight");
        REQ(m->ple_model_proj, "per_layer_model_proj.weight");
        REQ(m->ple_proj_norm, "per_layer_proj_norm.weight");
    }
    m->layers = calloc(m->n_layer, sizeof *m->layers);
    uint32_t first_shared = m->n_layer - n_shared;
    char b[96];
    for (uint32_t l = 0; l < m->n_layer; l++) {
        ref_gemma4_layer *L = &m->layers[l];
        vkmm_gguf_value e;
        vkmm_gguf_array_elem(pattern, l, &e);
        vkmm_gguf_value_bool(&e, &L->sliding);
        L->head_dim = L->sliding ? hd_swa : hd_full;
        L->n_kv = layer_u32(g, "gemma4.attention.head_count_kv", l, m->n_head);
        L->n_ff = layer_u32(g, "gemma4.feed_forward_length", l, 0);
        L->kv_from = -1;
        if (l >= first_shared) /* the last earlier non-shared layer of the same kind (store_full_length_kv) */
            for (int32_t j = (int32_t)first_shared - 1; j >= 0 && L->kv_from < 0; j--)
                if (m->layers[j].sliding == L->sliding)
                    L->kv_from = j;
        const float *scale = tensor(g, a, nm(b, "blk.%u.layer_output_scale.weight", l), false);
        L->out_scale = scale ? scale[0] : 1.0f;
        REQ(L->attn_norm, nm(b, "blk.%u.attn_norm.weight", l));
        REQ(L->wq, nm(b, "blk.%u.attn_q.weight", l));
        REQ(L->q_norm, nm(b, "blk.%u.attn_q_norm.weight", l));
        if (L->kv_from < 0) {
            REQ(L->wk, nm(b, "blk.%u.attn_k.weight", l));
            REQ(L->k_norm, nm(b, "blk.%u.attn_k_norm.weight", l));
            L->wv = tensor(g, a, nm(b, "blk.%u.attn_v.weight", l), false);
        }
        REQ(L->wo, nm(b, "blk.%u.attn_output.weight", l));
        REQ(L->post_attn_norm, nm(b, "blk.%u.post_attention_norm.weight", l));
        REQ(L->ffn_norm, nm(b, "blk.%u.ffn_norm.weight", l));
        REQ(L->w_gate, nm(b, "blk.%u.ffn_gate.weight", l));
        REQ(L->w_up, nm(b, "blk.%u.ffn_up.weight", l));
        REQ(L->w_down, nm(b, "blk.%u.ffn_down.weight", l));
        REQ(L->post_ffw_norm, nm(b, "blk.%u.post_ffw_norm.weight", l));
        if (m->n_ple) {
            REQ(L->ple_gate, nm(b, "blk.%u.inp_gate.weight", l));
            REQ(L->ple_proj, nm(b, "blk.%u.proj.weight", l));
            REQ(L->ple_post_norm, nm(b, "blk.%u.post_norm.weight", l));
        }
        L->router = tensor(g, a, nm(b, "blk.%u.ffn_gate_inp.weight", l), false);
        if (L->router) {
            REQ(L->router_scale, nm(b, "blk.%u.ffn_gate_inp.scale", l));
            L->expert_scale = tensor(g, a, nm(b, "blk.%u.ffn_down_exps.scale", l), false);
            REQ(L->gate_up_exps, nm(b, "blk.%u.ffn_gate_up_exps.weight", l));
            REQ(L->down_exps, nm(b, "blk.%u.ffn_down_exps.weight", l));
            REQ(L->pre_norm_2, nm(b, "blk.%u.pre_ffw_norm_2.weight", l));
            REQ(L->post_norm_1, nm(b, "blk.%u.post_ffw_norm_1.weight", l));
            REQ(L->post_norm_2, nm(b, "blk.%u.post_ffw_norm_2.weight", l));
        }
    }
    return true;
}
