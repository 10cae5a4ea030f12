/* tests/ref/ref_load_gemma4a.c — reads a gemma4a mmproj into the reference struct (tensors dequantized with the
 * loader's CPU code; the mapping to Hugging Face's modules is gemma4.md §3's). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ref_load_gemma4a.h"

static bool scalar(const vkmm_gguf *g, ref_arena *a, const char *base, const char *what, float dflt, float *v)
{
    char name[96];
    snprintf(name, sizeof name, "%s.%s", base, what);
    const float *t = ref_tensor(g, a, name, false);
    *v = t ? t[0] : dflt;
    return true;
}

static bool linear(const vkmm_gguf *g, ref_arena *a, const char *base, ref_g4a_linear *l)
{
    char name[96];
    snprintf(name, sizeof name, "%s.weight", base);
    if (!(l->w = ref_tensor(g, a, name, true)))
        return false;
    return scalar(g, a, base, "input_min", -INFINITY, &l->in_lo) && scalar(g, a, base, "input_max", INFINITY, &l->in_hi) &&
           scalar(g, a, base, "output_min", -INFINITY, &l->out_lo) &&
           scalar(g, a, base, "output_max", INFINITY, &l->out_hi);
}

bool ref_load_gemma4a(const vkmm_gguf *g, ref_gemma4a *m, ref_arena *a)
{
    memset(m, 0, sizeof *m);
    vkmm_gguf_get_u32(g, "clip.audio.num_mel_bins", &m->n_mel);
    vkmm_gguf_get_u32(g, "clip.audio.embedding_length", &m->n_embd);
    vkmm_gguf_get_u32(g, "clip.audio.feed_forward_length", &m->n_ff);
    vkmm_gguf_get_u32(g, "clip.audio.block_count", &m->n_layer);
    vkmm_gguf_get_u32(g, "clip.audio.attention.head_count", &m->n_head);
    const vkmm_gguf_tensor *c0 = vkmm_gguf_tensor_by_name(g, "a.conv1d.0.weight"),
                           *c1 = vkmm_gguf_tensor_by_name(g, "a.conv1d.1.weight"),
                           *op = vkmm_gguf_tensor_by_name(g, "a.pre_encode.out.weight"),
                           *mp = vkmm_gguf_tensor_by_name(g, "mm.a.input_projection.weight"),
                           *dw = vkmm_gguf_tensor_by_name(g, "a.blk.0.conv_dw.weight");
    if (!c0 || !c1 || !op || !mp || !dw || !m->n_layer || !m->n_head) {
        fprintf(stderr, "reference: %s is not a gemma4a mmproj\n", vkmm_gguf_path(g));
        return false;
    }
    m->ch0 = (uint32_t)c0->ne[3], m->ch1 = (uint32_t)c1->ne[3], m->n_out = (uint32_t)op->ne[1];
    m->n_text = (uint32_t)mp->ne[1], m->conv_kernel = (uint32_t)dw->ne[0];
    for (int i = 0; i < 2; i++) {
        char name[64];
        snprintf(name, sizeof name, "a.conv1d.%d.weight", i);
        if (!(m->conv_w[i] = ref_tensor(g, a, name, true)))
            return false;
        snprintf(name, sizeof name, "a.conv1d.%d.bias", i);
        m->conv_b[i] = ref_tensor(g, a, name, false);
        snprintf(name, sizeof name, "a.conv1d.%d.norm.weight", i);
        if (!(m->conv_norm[i] = ref_tensor(g, a, name, true)))
            return false;
    }
    if (!(m->in_proj = ref_tensor(g, a, "a.input_projection.weight", true)) ||
        !(m->out_proj = ref_tensor(g, a, "a.pre_encode.out.weight", true)) ||
        !(m->mm_proj = ref_tensor(g, a, "mm.a.input_projection.weight", true)))
        return false;
    m->in_proj_b = ref_tensor(g, a, "a.input_projection.bias", false);
    m->out_proj_b = ref_tensor(g, a, "a.pre_encode.out.bias", false);
    if (!(m->layers = calloc(m->n_layer, sizeof *m->layers)))
        return false;
    for (uint32_t l = 0; l < m->n_layer; l++) {
        ref_g4a_layer *L = &m->layers[l];
        char n[96];
#define V(dst, x) (snprintf(n, sizeof n, "a.blk.%u." x, l), (dst) = ref_tensor(g, a, n, true))
#define LIN(dst, x) (snprintf(n, sizeof n, "a.blk.%u." x, l), linear(g, a, n, &(dst)))
        if (!V(L->ffn_norm[0], "ffn_norm.weight") || !LIN(L->ffn_up[0], "ffn_up") || !LIN(L->ffn_down[0], "ffn_down") ||
            !V(L->ffn_post_norm[0], "ffn_post_norm.weight") || !V(L->attn_pre_norm, "attn_pre_norm.weight") ||
            !LIN(L->q, "attn_q") || !LIN(L->k, "attn_k") || !LIN(L->v, "attn_v") || !LIN(L->o, "attn_out") ||
            !V(L->k_rel, "attn_k_rel.weight") || !V(L->per_dim_scale, "per_dim_scale.weight") ||
            !V(L->attn_post_norm, "attn_post_norm.weight") || !V(L->conv_pre_norm, "conv_norm.weight") ||
            !LIN(L->pw1, "conv_pw1") || !V(L->conv_dw, "conv_dw.weight") || !V(L->conv_mid_norm, "norm_conv.weight") ||
            !LIN(L->pw2, "conv_pw2") || !V(L->ffn_norm[1], "ffn_norm_1.weight") ||
            !LIN(L->ffn_up[1], "ffn_up_1") || !LIN(L->ffn_down[1], "ffn_down_1") ||
            !V(L->ffn_post_norm[1], "ffn_post_norm_1.weight") || !V(L->out_norm, "ln2.weight"))
            return false;
#undef V
#undef LIN
    }
    return true;
}
