/* runtime/models/gemma4.c — Gemma 4's text decoder as its GGUF states it (../shared/reference/gemma4.md §2, the
 * Hugging Face reference where llama.cpp departs from it): sliding and full layers of their own head sizes; q and k
 * RMS-normalised and rotated (full layers through rope_freqs factors), v RMS-normalised without weight, taken
 * from the raw k projection where a layer has no attn_v; attention scale 1; the last layers reading earlier
 * layers' caches; per-layer inputs (E2B/E4B); a per-layer output scale; norms used as stored (no +1); the
 * mixture of experts beside the dense FFN (26B-A4B, gemma4_moe.c); tied head, soft-capped logits. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "dtype_table.h"
#include "gemma4.h"
#include "nodes.h"

typedef struct gemma4_layer {
    vkmm_range attn_norm, q_norm, k_norm, post_attn_norm, ffn_norm, post_ffw_norm;
    const vkmm_weight *wq, *wk, *wv, *wo; /* wk, wv NULL on a layer sharing another's cache; wv NULL: v = k */
    vkmm_ffn_weights ffn;
    vkmm_range rope_freqs;                /* full layers: the pairs' frequency divisors (size 0: none) */
    float out_scale;                      /* layer_output_scale (1 when absent) */
    const vkmm_weight *ple_gate, *ple_proj; /* inp_gate [n_ple][n_embd], proj [n_embd][n_ple] */
    vkmm_range ple_post_norm;
    gemma4_moe *moe;                      /* NULL: a dense layer */
} gemma4_layer;

typedef struct gemma4 {
    vkmm_text_model base;
    gemma4_hparams g4;
    gemma4_layer *layers;
    vkmm_text_head head;
    const vkmm_weight *ple_tok;           /* per_layer_token_embd: [n_vocab][n_layer · n_ple] */
    const vkmm_weight *ple_model_proj;    /* per_layer_model_proj: [n_layer · n_ple][n_embd] */
    vkmm_range ple_proj_norm;             /* [n_ple] */
} gemma4;

/* The per-layer inputs of all layers, laid out [n_layer][n][n_ple] so that a layer's slice is contiguous:
 * (RMSNorm(x · W_proj / sqrt(n_embd)) · w + embedding(ids) · sqrt(n_ple)) / sqrt(2). x holds media rows as they
 * are; their ids are the media token's, whose table row they take (the reference's pad token). */
static vkmm_tid per_layer_inputs(const gemma4 *m, vkmm_graph *g, const vkmm_forward *fw)
{
    const vkmm_text_hparams *hp = &m->base.hp;
    uint32_t n = fw->n_tokens, P = m->g4.n_ple, L = hp->n_layer;
    vkmm_graph_set_prefix(g, "%s", "per_layer");
    vkmm_tid proj = vkmm_g_matmul(g, m->ple_model_proj, fw->x, 0, "model_proj");
    vkmm_g_scale(g, proj, 1.0f / sqrtf((float)hp->n_embd), proj, "proj_scale");
    vkmm_tid chunks = vkmm_graph_view(g, proj, 0, VKMM_F32, P, L * n, 1, "proj_chunks");
    vkmm_tid normed = vkmm_g_rms_norm(g, chunks, m->ple_proj_norm, hp->eps, 0, "proj_norm");
    vkmm_tid tok = vkmm_g_get_rows(g, m->ple_tok, fw->ids, n, sqrtf((float)P), "token_embd");
    vkmm_tid tok_chunks = vkmm_graph_view(g, tok, 0, VKMM_F32, P, L * n, 1, "token_chunks");
    vkmm_g_add(g, normed, tok_chunks, normed, "sum");
    vkmm_g_scale(g, normed, (float)M_SQRT1_2, normed, "sum_scale");
    if (n == 1)
        return normed; /* one token: already layer-major */
    vkmm_tid out = vkmm_graph_tensor(g, VKMM_F32, P, n, L, "by_layer");
    const uint32_t ne[3] = {P, n, L}, in_stride[3] = {1, L * P, P}, out_stride[3] = {1, P, n * P};
    vkmm_g_copy_strided(g, normed, out, 0, ne, in_stride, out_stride, "by_layer");
    return out;
}

/* Layer il's attention block on h (the normed input); returns its output before post_attention_norm. */
static vkmm_tid attention(const gemma4 *m, vkmm_graph *g, const vkmm_forward *fw, uint32_t il, vkmm_tid h)
{
    const vkmm_text_hparams *hp = &m->base.hp;
    const gemma4_layer *L = &m->layers[il];
    vkmm_g_rope_params rp = {
        .neox = true, .head_dim = vkmm_layer_head_dim(hp, il), .base = hp->rope_base[il],
        .freq_scale = hp->rope_scale[il], .positions = fw->positions, .pos0 = fw->pos0,
        .freq_factors = L->rope_freqs,
    };
    vkmm_tid q = vkmm_g_matmul(g, L->wq, h, 0, "attn_q");
    rp.n_heads = hp->n_head;
    vkmm_tid k = 0, v = 0;
    if (L->wk) {
        k = vkmm_g_matmul(g, L->wk, h, 0, "attn_k");
        /* v: RMSNorm per head without weight, of attn_v's projection or of the raw k projection (so before k's
         * norm and RoPE, which then go with q's in one dispatch) */
        vkmm_tid vsrc = L->wv ? vkmm_g_matmul(g, L->wv, h, 0, "attn_v") : k;
        uint32_t heads = (uint32_t)(vkmm_g_elements(g, vsrc) / rp.head_dim);
        vkmm_tid vh = vkmm_graph_view(g, vsrc, 0, VKMM_F32, rp.head_dim, heads, 1, "v_heads");
        v = vkmm_g_rms_norm(g, vh, (vkmm_range){0}, hp->eps, L->wv ? vh : 0, "v_norm");
        vkmm_g_qk_norm_rope(g, q, k, &rp, vkmm_layer_n_kv(hp, il), L->q_norm, L->k_norm, hp->eps, "qk_norm_rope");
    } else {
        vkmm_g_rms_norm_rope(g, q, &rp, L->q_norm, hp->eps, "q_norm_rope");
    }
    vkmm_tid a = vkmm_text_attention(g, hp, fw, il, q, k, v);
    return vkmm_g_matmul(g, L->wo, a, 0, "attn_output");
}

/* x += RMSNorm(a)·a_w without a fused next norm (the residual is still to change) */
static void add_normed(vkmm_graph *g, vkmm_tid x, vkmm_tid a, vkmm_range a_w, float eps, const char *name)
{
    vkmm_g_rms_norm(g, a, a_w, eps, a, name);
    vkmm_g_add(g, x, a, x, name);
}

static vkmm_tid forward(const vkmm_text_model *mm, vkmm_graph *g, const vkmm_forward *fw)
{
    const gemma4 *m = (const gemma4 *)mm;
    const vkmm_text_hparams *hp = &mm->hp;
    uint32_t n = fw->n_tokens, P = m->g4.n_ple;
    vkmm_tid x = fw->x;
    vkmm_tid ple = P ? per_layer_inputs(m, g, fw) : 0;
    vkmm_graph_set_prefix(g, "blk.0");
    vkmm_tid h = vkmm_g_rms_norm(g, x, m->layers[0].attn_norm, hp->eps, 0, "attn_norm");
    for (uint32_t il = 0; il < hp->n_layer; il++) {
        const gemma4_layer *L = &m->layers[il];
        vkmm_graph_set_prefix(g, "blk.%u", il);
        vkmm_tid o = attention(m, g, fw, il, h);
        /* x += RMSNorm(o)·post_attention_norm; h = RMSNorm(x)·ffn_norm */
        h = vkmm_g_add_rms_norm(g, x, o, L->post_attn_norm, L->ffn_norm, hp->eps, "post_attn_ffn_norm");
        vkmm_tid f = vkmm_text_ffn(g, &L->ffn, VKMM_ACT_GELU_TANH, h, "geglu");
        if (L->moe) { /* the dense FFN as a shared expert: post_ffw_norm_1(f) + the experts' post_ffw_norm_2 */
            vkmm_g_rms_norm(g, f, L->moe->post_norm_1, hp->eps, f, "post_ffw_norm_1");
            vkmm_g_add(g, f, gemma4_moe_forward(g, hp, &m->g4, L->moe, x), f, "ffn_moe_combined");
        }
        vkmm_range next = il + 1 < hp->n_layer ? m->layers[il + 1].attn_norm : m->head.output_norm;
        bool tail = P || L->out_scale != 1.0f; /* steps after the FFN's residual before the next norm */
        if (!tail) {
            h = vkmm_g_add_rms_norm(g, x, f, L->post_ffw_norm, next, hp->eps, "post_ffw_next_norm");
            continue;
        }
        if (P) {
            /* x += RMSNorm(proj(GELU(inp_gate·x) · per-layer input)) · post_norm */
            add_normed(g, x, f, L->post_ffw_norm, hp->eps, "post_ffw_norm");
            vkmm_tid gt = vkmm_g_matmul(g, L->ple_gate, x, 0, "inp_gate");
            vkmm_tid pl = vkmm_graph_view(g, ple, (uint64_t)il * n * P * 4, VKMM_F32, P, n, 1, "per_layer_input");
            vkmm_g_glu(g, VKMM_ACT_GELU_TANH, gt, pl, gt, "per_layer_gelu");
            f = vkmm_g_matmul(g, L->ple_proj, gt, 0, "proj");
            if (L->out_scale == 1.0f) {
                h = vkmm_g_add_rms_norm(g, x, f, L->ple_post_norm, next, hp->eps, "post_norm_next_norm");
                continue;
            }
            add_normed(g, x, f, L->ple_post_norm, hp->eps, "post_norm");
        } else {
            add_normed(g, x, f, L->post_ffw_norm, hp->eps, "post_ffw_norm");
        }
        vkmm_g_scale(g, x, L->out_scale, x, "layer_output_scale");
        h = vkmm_g_rms_norm(g, x, next, hp->eps, 0, "next_norm");
    }
    return vkmm_text_logits(g, mm, &m->head, fw, h);
}

static void gemma4_free(vkmm_text_model *mm)
{
    gemma4 *m = (gemma4 *)mm;
    for (uint32_t il = 0; m->layers && il < mm->hp.n_layer; il++)
        free(m->layers[il].moe);
    free(m->layers);
    free(m);
}

/* A tensor of `n` elements read on the host (small per-layer parameters); absent: *found false. */
static vkmm_status host_floats(const vkmm_gguf *g, const char *name, uint64_t n, float *out, bool *found,
                               vkmm_error *err)
{
    const vkmm_gguf_tensor *t = vkmm_gguf_tensor_by_name(g, name);
    *found = t != NULL;
    if (!t)
        return VKMM_OK;
    if (t->n_elements != n || !vkmm_dequantize(t->type, t->data, out, n))
        return vkmm_fail(err, VKMM_ERR_FORMAT, "%s: tensor %s has %llu elements of type %s, expected %llu floats",
                         vkmm_gguf_path(g), name, (unsigned long long)t->n_elements,
                         vkmm_dtype_get(t->type) ? vkmm_dtype_get(t->type)->name : "?", (unsigned long long)n);
    return VKMM_OK;
}

/* rope_freqs: llama.cpp's converter writes one tensor the full layers share; its factors must be positive. */
static vkmm_status bind_rope_freqs(vkmm_weight_source *src, uint32_t half, vkmm_range *out, vkmm_error *err)
{
    float *f = malloc(sizeof *f * half);
    bool found;
    if (!f)
        return vkmm_fail(err, VKMM_ERR_HOST_MEMORY, "out of host memory");
    vkmm_status s = host_floats(src->gguf, "rope_freqs.weight", half, f, &found, err);
    for (uint32_t i = 0; i < half && found && !s; i++)
        if (!(f[i] > 0) || !isfinite(f[i]))
            s = vkmm_fail(err, VKMM_ERR_FORMAT, "%s: rope_freqs.weight[%u] = %g is not a positive factor",
                          vkmm_gguf_path(src->gguf), i, (double)f[i]);
    free(f);
    if (!s && found)
        s = src->vector(src, "rope_freqs.weight", half, true, out, err);
    return s;
}

static vkmm_status bind_layer(vkmm_weight_source *src, const gemma4 *m, uint32_t il, gemma4_layer *L,
                              vkmm_error *err)
{
    const vkmm_text_hparams *hp = &m->base.hp;
    uint32_t H = hp->n_embd, hd = vkmm_layer_head_dim(hp, il), kw = vkmm_layer_n_kv(hp, il) * hd;
    uint32_t qw = hp->n_head * hd, P = m->g4.n_ple;
    bool own_kv = vkmm_layer_kv_owner(hp, il) == il;
    char name[80];
#define N(x) vkmm_model_tensor_name(name, sizeof name, "blk.%u." x, il)
    vkmm_status s = src->vector(src, N("attn_norm.weight"), H, true, &L->attn_norm, err);
    if (!s) s = src->matrix(src, N("attn_q.weight"), H, qw, false, true, &L->wq, err);
    if (!s) s = src->vector(src, N("attn_q_norm.weight"), hd, true, &L->q_norm, err);
    if (!s && own_kv) s = src->matrix(src, N("attn_k.weight"), H, kw, false, true, &L->wk, err);
    if (!s && own_kv) s = src->matrix(src, N("attn_v.weight"), H, kw, false, false, &L->wv, err);
    if (!s && own_kv) s = src->vector(src, N("attn_k_norm.weight"), hd, true, &L->k_norm, err);
    if (!s) s = src->matrix(src, N("attn_output.weight"), qw, H, false, true, &L->wo, err);
    if (!s) s = src->vector(src, N("post_attention_norm.weight"), H, true, &L->post_attn_norm, err);
    if (!s) s = src->vector(src, N("ffn_norm.weight"), H, true, &L->ffn_norm, err);
    if (!s) s = vkmm_bind_ffn(src, hp, il, &L->ffn, err);
    if (!s) s = src->vector(src, N("post_ffw_norm.weight"), H, true, &L->post_ffw_norm, err);
    if (!s && hp->window[il] == 0) s = bind_rope_freqs(src, hd / 2, &L->rope_freqs, err);
    bool found;
    L->out_scale = 1.0f;
    if (!s) s = host_floats(src->gguf, N("layer_output_scale.weight"), 1, &L->out_scale, &found, err);
    if (!s && !isfinite(L->out_scale))
        s = vkmm_fail(err, VKMM_ERR_FORMAT, "%s: %s is not finite", vkmm_gguf_path(src->gguf), name);
    if (!s && P) s = src->matrix(src, N("inp_gate.weight"), H, P, false, true, &L->ple_gate, err);
    if (!s && P) s = src->matrix(src, N("proj.weight"), P, H, false, true, &L->ple_proj, err);
    if (!s && P) s = src->vector(src, N("post_norm.weight"), H, true, &L->ple_post_norm, err);
    /* a layer with a router is a mixture of experts beside the dense FFN */
    if (!s && vkmm_gguf_tensor_by_name(src->gguf, N("ffn_gate_inp.weight"))) {
        if (!m->g4.n_expert)
            s = vkmm_fail(err, VKMM_ERR_FORMAT, "%s: layer %u has a router but gemma4.expert_count is missing",
                          vkmm_gguf_path(src->gguf), il);
        else if (!(L->moe = calloc(1, sizeof *L->moe)))
            s = vkmm_fail(err, VKMM_ERR_HOST_MEMORY, "out of host memory");
        else
            s = gemma4_bind_moe(src, hp, &m->g4, il, L->moe, err);
    }
#undef N
    return s;
}

vkmm_status vkmm_gemma4_load(vkmm_weight_source *src, const char *arch, vkmm_text_model **out, vkmm_error *err)
{
    const vkmm_gguf *g = src->gguf;
    *out = NULL;
    gemma4 *m = calloc(1, sizeof *m);
    if (!m)
        return vkmm_fail(err, VKMM_ERR_HOST_MEMORY, "out of host memory");
    m->base.hp = (vkmm_text_hparams){.eps = 1e-6f, .n_ctx_train = 131072};
    vkmm_status s = gemma4_read_hparams(g, arch, &m->base.hp, &m->g4, err);
    if (s) {
        free(m);
        return s;
    }
    const vkmm_text_hparams *hp = &m->base.hp;
    if (!(m->layers = calloc(hp->n_layer, sizeof *m->layers))) {
        free(m);
        return vkmm_fail(err, VKMM_ERR_HOST_MEMORY, "out of host memory");
    }
    /* media rows look up the pad token's per-layer embedding, as the reference does */
    uint32_t pad = 0;
    if (vkmm_gguf_get_u32(g, "tokenizer.ggml.padding_token_id", &pad) && pad < hp->n_vocab)
        m->base.media_token = (int32_t)pad;
    m->base.arch = "gemma4";
    m->base.embed = vkmm_model_embed;
    m->base.forward = forward;
    m->base.positions = vkmm_positions_by_slot;
    m->base.free = gemma4_free;
    m->base.impl = m;
    s = vkmm_bind_head(src, &m->base, &m->head, err);
    uint32_t LP = hp->n_layer * m->g4.n_ple;
    if (!s && m->g4.n_ple) {
        s = src->matrix(src, "per_layer_token_embd.weight", LP, hp->n_vocab, false, true, &m->ple_tok, err);
        if (!s) s = src->matrix(src, "per_layer_model_proj.weight", hp->n_embd, LP, false, true, &m->ple_model_proj, err);
        if (!s) s = src->vector(src, "per_layer_proj_norm.weight", m->g4.n_ple, true, &m->ple_proj_norm, err);
    }
    for (uint32_t il = 0; il < hp->n_layer && !s; il++)
        s = bind_layer(src, m, il, &m->layers[il], err);
    if (s) {
        gemma4_free(&m->base);
        return s;
    }
    *out = &m->base;
    return VKMM_OK;
}
