/* runtime/models/gemma4a.c — Gemma 4's audio encoder from an mmproj GGUF (../shared/reference/gemma4.md §3, §5), as
 * Hugging Face's Gemma4AudioModel and Gemma4MultimodalEmbedder compute it: two 3×3 stride-2 convolutions over
 * (time, mel) each followed by a LayerNorm over channels and ReLU, a linear projection, conformer blocks
 * (half-step feed-forward; local attention with relative positions, per-dimension query scale and a soft-cap; the
 * light convolution module; half-step feed-forward; norm), the output projection, then an RMSNorm without weight
 * and the projection into the text model. Every linear of a block clips its input and output to bounds the file
 * carries as scalar tensors (Gemma4ClippableLinear), where it has them. Sizes come from the file; the attention
 * window, soft-cap and eps are the reference's constants, which no mmproj key holds. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dtype_table.h"
#include "gemma4a.h"
#include "nodes.h"

/* Hugging Face's Gemma4AudioConfig defaults (llama.cpp hard-codes the same): no GGUF key carries them */
#define SUB_KERNEL 3
#define SUB_STRIDE 2
#define SUB_PAD 1
#define CHUNK 12          /* attention_chunk_size: how the reference blocks its queries (the sum does not depend on it) */
#define CONTEXT_LEFT 13   /* attention_context_left: a query sees itself and the 11 steps before */
#define CONTEXT_RIGHT 0   /* attention_context_right */
#define SOFTCAP 50.0f     /* attention_logit_cap */
#define RESIDUAL 0.5f     /* residual_weight of the half-step feed-forwards */
#define EPS 1e-6f         /* every norm: the reference's default, whatever the file says (llama.cpp #23815) */
#define PIECE_SECONDS 30  /* long audio is encoded 30 s at a time, as llama.cpp's mtmd does (the reference cuts
                           * its input off at 30 s) */

/* A linear layer whose input and output are clamped to the checkpoint's bounds (infinite where it has none). */
typedef struct clipped {
    const vkmm_weight *w;
    float in_lo, in_hi, out_lo, out_hi;
} clipped;

typedef struct ffn_weights {
    vkmm_range pre_norm, post_norm;
    clipped up, down;
} ffn_weights;

typedef struct g4a_layer {
    ffn_weights ffn[2];
    vkmm_range attn_pre_norm, attn_post_norm, per_dim_scale;
    clipped q, k, v, o;
    const vkmm_weight *k_rel;
    vkmm_range conv_pre_norm, conv_mid_norm, conv_dw;
    clipped pw1, pw2;
    vkmm_range out_norm;
} g4a_layer;

typedef struct g4a {
    vkmm_audio_model base;
    vkmm_range sub_w[2], sub_b[2], sub_norm[2];
    const vkmm_weight *in_proj;
    vkmm_range in_proj_b;
    g4a_layer *layers;
    const vkmm_weight *out_proj;
    vkmm_range out_proj_b;
    const vkmm_weight *mm_proj;
} g4a;

static uint32_t sub_out(uint32_t n)
{
    return vkmm_conv_out_size(n, SUB_KERNEL, SUB_STRIDE, SUB_PAD);
}

static uint32_t n_rows(const vkmm_audio_model *m, uint32_t n_frames)
{
    (void)m;
    return sub_out(sub_out(n_frames));
}

/* y = clamp(W · clamp(x)) with the layer's bounds; a clamped input is a copy (x may have other readers). */
static vkmm_tid linear(vkmm_graph *g, const clipped *c, vkmm_tid x, const char *name)
{
    char nm[64];
    if (isfinite(c->in_lo) || isfinite(c->in_hi)) {
        snprintf(nm, sizeof nm, "%s.clamp_in", name);
        x = vkmm_g_clamp(g, x, c->in_lo, c->in_hi, 0, nm);
    }
    vkmm_tid y = vkmm_g_matmul(g, c->w, x, 0, name);
    if (isfinite(c->out_lo) || isfinite(c->out_hi)) {
        snprintf(nm, sizeof nm, "%s.clamp_out", name);
        vkmm_g_clamp(g, y, c->out_lo, c->out_hi, y, nm);
    }
    return y;
}

/* A half-step feed-forward from its normed input: 0.5 · RMSNorm(down(SiLU(up(h)))) — the residual add is the
 * caller's, fused with the next norm. */
static vkmm_tid ffn(vkmm_graph *g, const ffn_weights *f, vkmm_tid h, const char *up, const char *down,
                    const char *post)
{
    vkmm_tid u = linear(g, &f->up, h, up);
    vkmm_g_act(g, VKMM_ACT_SILU, u, u, "silu");
    vkmm_tid d = linear(g, &f->down, u, down);
    vkmm_g_rms_norm(g, d, f->post_norm, EPS, d, post);
    return vkmm_g_scale(g, d, RESIDUAL, d, "half_step");
}

static vkmm_tid encode(const vkmm_audio_model *am, vkmm_graph *g, vkmm_tid mel, uint32_t n_frames)
{
    const g4a *m = (const g4a *)am;
    const vkmm_audio_hparams *hp = &am->hp;
    uint32_t E = hp->n_embd;
    if (!n_rows(am, n_frames) || n_frames > am->max_frames ||
        vkmm_g_elements(g, mel) != (uint64_t)n_frames * hp->n_mel) {
        vkmm_graph_fail(g, VKMM_ERR_INVALID_ARG, "gemma4a: %u mel frames (the tower takes 1 to %u of %u bins)",
                        n_frames, am->max_frames, hp->n_mel);
        return 0;
    }
    vkmm_graph_set_prefix(g, "a");
    /* subsampling: [time][mel][channels], channels innermost, through both convolutions */
    vkmm_tid x = mel;
    uint32_t h = n_frames, w = hp->n_mel, ch = 1;
    for (uint32_t i = 0; i < 2; i++) {
        char nm[32];
        vkmm_conv2d_shape s = {h, w, ch, hp->sub_ch[i], SUB_KERNEL, SUB_KERNEL, SUB_STRIDE, SUB_STRIDE, SUB_PAD, SUB_PAD};
        snprintf(nm, sizeof nm, "conv1d.%u", i);
        /* the convolution, then nn.LayerNorm over its channels and ReLU (one op) */
        x = vkmm_g_conv2d(g, x, &s, m->sub_w[i], m->sub_b[i], m->sub_norm[i], EPS, nm);
        h = sub_out(h), w = sub_out(w), ch = hp->sub_ch[i];
    }
    /* [time][freq][channels] read as rows of freq · channels: the reference's permute(0, 2, 3, 1) and flatten */
    x = vkmm_graph_view(g, x, 0, VKMM_F32, w * ch, h, 1, "flatten");
    x = vkmm_g_linear(g, m->in_proj, m->in_proj_b, x, "input_projection");

    /* relative positions: sinusoids of the distances context/2 .. 0, one table for every block (each projects it
     * through its own attn_k_rel); key j of query i takes row (context_left − 1) − (i − j) */
    uint32_t context = CHUNK + CONTEXT_LEFT - 1 + CONTEXT_RIGHT, n_rel = context / 2 + 1, half = E / 2;
    vkmm_tid table = vkmm_g_sinusoid(g, n_rel, half, (int32_t)(context / 2), -1,
                                     (float)(log(10000.0) / (half > 1 ? half - 1 : 1)), "rel_pos");
    vkmm_attention_local_params ap = {
        .n = h, .n_head = hp->n_head, .head_dim = hp->head_dim,
        .left = CONTEXT_LEFT - 1, .right = CONTEXT_RIGHT, .rel_offset = CONTEXT_LEFT - 1, .n_rel = n_rel,
        .q_scale = (float)(1.0 / sqrt((double)hp->head_dim) / log(2.0)),
        .k_scale = (float)(log(1.0 + exp(1.0)) / log(2.0)),
        .softcap = SOFTCAP,
    };
    for (uint32_t il = 0; il < hp->n_layer; il++) {
        const g4a_layer *L = &m->layers[il];
        vkmm_graph_set_prefix(g, "a.blk.%u", il);
        vkmm_tid hn = vkmm_g_rms_norm(g, x, L->ffn[0].pre_norm, EPS, 0, "ffn_norm");
        vkmm_tid d = ffn(g, &L->ffn[0], hn, "ffn_up", "ffn_down", "ffn_post_norm");
        hn = vkmm_g_add_rms_norm(g, x, d, (vkmm_range){0}, L->attn_pre_norm, EPS, "attn_pre_norm");
        vkmm_tid q = linear(g, &L->q, hn, "attn_q");
        vkmm_tid k = linear(g, &L->k, hn, "attn_k");
        vkmm_tid v = linear(g, &L->v, hn, "attn_v");
        vkmm_tid rel = vkmm_g_matmul(g, L->k_rel, table, 0, "attn_k_rel");
        vkmm_tid a = vkmm_g_attention_local(g, q, k, v, rel, L->per_dim_scale, &ap, "attn");
        vkmm_tid o = linear(g, &L->o, a, "attn_out");
        /* x += RMSNorm(o) · attn_post_norm; the light convolution starts from RMSNorm(x) · its pre-norm, which
         * the file calls conv_norm (llama.cpp's converter swapped the two names) */
        hn = vkmm_g_add_rms_norm(g, x, o, L->attn_post_norm, L->conv_pre_norm, EPS, "conv_norm");
        vkmm_tid p = linear(g, &L->pw1, hn, "conv_pw1");
        vkmm_tid c = vkmm_g_glu_halves(g, VKMM_ACT_SIGMOID, p, 1, "glu"); /* torch's glu: first half · σ(second) */
        c = vkmm_g_conv1d_causal_dw(g, c, L->conv_dw, hp->conv_kernel, "conv_dw");
        vkmm_g_rms_norm(g, c, L->conv_mid_norm, EPS, c, "norm_conv");
        vkmm_g_act(g, VKMM_ACT_SILU, c, c, "silu");
        vkmm_tid e = linear(g, &L->pw2, c, "conv_pw2");
        hn = vkmm_g_add_rms_norm(g, x, e, (vkmm_range){0}, L->ffn[1].pre_norm, EPS, "ffn_norm_1");
        d = ffn(g, &L->ffn[1], hn, "ffn_up_1", "ffn_down_1", "ffn_post_norm_1");
        /* the block's output is RMSNorm(x + d) · ln2 itself, not a residual */
        x = vkmm_g_add_rms_norm(g, x, d, (vkmm_range){0}, L->out_norm, EPS, "ln2");
    }
    vkmm_graph_set_prefix(g, "a");
    vkmm_tid y = vkmm_g_linear(g, m->out_proj, m->out_proj_b, x, "pre_encode.out");
    vkmm_graph_set_prefix(g, "mm.a");
    vkmm_g_rms_norm(g, y, (vkmm_range){0}, EPS, y, "pre_projection_norm");
    vkmm_tid out = vkmm_g_matmul(g, m->mm_proj, y, 0, "input_projection");
    vkmm_graph_set_prefix(g, "%s", "");
    return out;
}

static void g4a_free(vkmm_audio_model *am)
{
    g4a *m = (g4a *)am;
    free(m->layers);
    free(m);
}

/* One of a clipped linear's bounds: a one-element tensor "<base>.<what>", or dflt without one. */
static vkmm_status bound(const vkmm_gguf *g, const char *base, const char *what, float dflt, float *v,
                         vkmm_error *err)
{
    char name[96];
    snprintf(name, sizeof name, "%s.%s", base, what);
    const vkmm_gguf_tensor *t = vkmm_gguf_tensor_by_name(g, name);
    *v = dflt;
    if (!t)
        return VKMM_OK;
    if (t->n_elements != 1 || !vkmm_dequantize(t->type, t->data, v, 1) || isnan(*v))
        return vkmm_fail(err, VKMM_ERR_FORMAT, "%s: tensor %s should hold one number", vkmm_gguf_path(g), name);
    return VKMM_OK;
}

static vkmm_status bind_clipped(vkmm_weight_source *src, const char *fmt, uint32_t il, uint32_t k, uint32_t rows,
                                clipped *c, vkmm_error *err)
{
    char base[80], name[96];
    vkmm_model_tensor_name(base, sizeof base, fmt, il);
    snprintf(name, sizeof name, "%s.weight", base);
    vkmm_status s = src->matrix(src, name, k, rows, false, true, &c->w, err);
    if (!s) s = bound(src->gguf, base, "input_min", -INFINITY, &c->in_lo, err);
    if (!s) s = bound(src->gguf, base, "input_max", INFINITY, &c->in_hi, err);
    if (!s) s = bound(src->gguf, base, "output_min", -INFINITY, &c->out_lo, err);
    if (!s) s = bound(src->gguf, base, "output_max", INFINITY, &c->out_hi, err);
    if (!s && (c->in_lo > c->in_hi || c->out_lo > c->out_hi))
        s = vkmm_fail(err, VKMM_ERR_FORMAT, "%s: %s clips to empty ranges [%g, %g] / [%g, %g]",
                      vkmm_gguf_path(src->gguf), base, (double)c->in_lo, (double)c->in_hi, (double)c->out_lo,
                      (double)c->out_hi);
    return s;
}

/* The shape of a tensor the loader sizes things by (NULL with an error naming the file when it is missing). */
static const vkmm_gguf_tensor *need_tensor(const vkmm_gguf *g, const char *name, vkmm_error *err)
{
    const vkmm_gguf_tensor *t = vkmm_gguf_tensor_by_name(g, name);
    if (!t)
        vkmm_fail(err, VKMM_ERR_FORMAT, "%s: tensor %s is missing", vkmm_gguf_path(g), name);
    return t;
}

/* Sizes from the clip.audio keys and from the shapes of the tensors no key describes. */
static vkmm_status read_hparams(const vkmm_gguf *g, vkmm_audio_hparams *hp, vkmm_error *err)
{
    const char *path = vkmm_gguf_path(g);
    vkmm_status s = VKMM_OK;
    if (!s) s = vkmm_gguf_need_u32(g, "clip.audio.num_mel_bins", &hp->n_mel, err);
    if (!s) s = vkmm_gguf_need_u32(g, "clip.audio.embedding_length", &hp->n_embd, err);
    if (!s) s = vkmm_gguf_need_u32(g, "clip.audio.feed_forward_length", &hp->n_ff, err);
    if (!s) s = vkmm_gguf_need_u32(g, "clip.audio.block_count", &hp->n_layer, err);
    if (!s) s = vkmm_gguf_need_u32(g, "clip.audio.attention.head_count", &hp->n_head, err);
    if (s)
        return s;
    const vkmm_gguf_tensor *c0, *c1, *outp, *mm, *dw;
    if (!(c0 = need_tensor(g, "a.conv1d.0.weight", err)) || !(c1 = need_tensor(g, "a.conv1d.1.weight", err)) ||
        !(outp = need_tensor(g, "a.pre_encode.out.weight", err)) ||
        !(mm = need_tensor(g, "mm.a.input_projection.weight", err)) ||
        !(dw = need_tensor(g, "a.blk.0.conv_dw.weight", err)))
        return VKMM_ERR_FORMAT;
    /* conv kernels are ne = {k_w, k_h, in_ch, out_ch}: 3×3 from one channel, then from the first's */
    if (c0->ne[0] != SUB_KERNEL || c0->ne[1] != SUB_KERNEL || c0->ne[2] != 1 || c1->ne[0] != SUB_KERNEL ||
        c1->ne[1] != SUB_KERNEL || c1->ne[2] != c0->ne[3] || !c0->ne[3] || !c1->ne[3] || c1->ne[3] > UINT32_MAX ||
        c0->ne[3] > UINT32_MAX)
        return vkmm_fail(err, VKMM_ERR_FORMAT, "%s: the subsampling kernels a.conv1d.0/1.weight are [%llu, %llu, %llu, "
                         "%llu] and [%llu, %llu, %llu, %llu], expected 3x3 from 1 channel, then from the first's",
                         path, (unsigned long long)c0->ne[0], (unsigned long long)c0->ne[1],
                         (unsigned long long)c0->ne[2], (unsigned long long)c0->ne[3], (unsigned long long)c1->ne[0],
                         (unsigned long long)c1->ne[1], (unsigned long long)c1->ne[2], (unsigned long long)c1->ne[3]);
    hp->sub_ch[0] = (uint32_t)c0->ne[3], hp->sub_ch[1] = (uint32_t)c1->ne[3];
    hp->n_out = outp->ne[1] <= UINT32_MAX ? (uint32_t)outp->ne[1] : 0;
    hp->n_text_embd = mm->ne[1] <= UINT32_MAX ? (uint32_t)mm->ne[1] : 0;
    hp->conv_kernel = dw->ne[0] <= 64 ? (uint32_t)dw->ne[0] : 0;
    uint32_t proj = 0;
    if (vkmm_gguf_get_u32(g, "clip.audio.projection_dim", &proj) && proj != hp->n_text_embd)
        return vkmm_fail(err, VKMM_ERR_FORMAT, "%s: clip.audio.projection_dim is %u but mm.a.input_projection.weight "
                         "projects to %u", path, proj, hp->n_text_embd);
    hp->head_dim = hp->n_head ? hp->n_embd / hp->n_head : 0;
    hp->chunk = CHUNK, hp->context_left = CONTEXT_LEFT, hp->context_right = CONTEXT_RIGHT;
    hp->eps = EPS, hp->softcap = SOFTCAP, hp->residual_weight = RESIDUAL;
    if (!hp->n_mel || !hp->n_head || hp->n_embd % hp->n_head || hp->n_embd % 2 ||
        hp->head_dim > VKMM_ATTENTION_LOCAL_MAX_DIM || !hp->n_layer || hp->n_layer > VKMM_MAX_LAYERS || !hp->n_ff ||
        !hp->n_out || !hp->n_text_embd || !hp->conv_kernel || sub_out(sub_out(hp->n_mel)) == 0)
        return vkmm_fail(err, VKMM_ERR_FORMAT, "%s: unusable audio encoder shape: %u mel bins, width %u, %u heads (at "
                         "most %u dims each), %u layers, feed-forward %u, output %u, text width %u, depthwise kernel "
                         "%u (at most 64)", path, hp->n_mel, hp->n_embd, hp->n_head, VKMM_ATTENTION_LOCAL_MAX_DIM,
                         hp->n_layer, hp->n_ff, hp->n_out, hp->n_text_embd, hp->conv_kernel);
    return VKMM_OK;
}

static vkmm_status bind_layer(vkmm_weight_source *src, const vkmm_audio_hparams *hp, uint32_t il, g4a_layer *L,
                              vkmm_error *err)
{
    uint32_t E = hp->n_embd, F = hp->n_ff;
    char name[80];
#define N(x) vkmm_model_tensor_name(name, sizeof name, "a.blk.%u." x, il)
    vkmm_status s = VKMM_OK;
    static const char *const ffn_names[2][4] = {
        {"a.blk.%u.ffn_norm.weight", "a.blk.%u.ffn_post_norm.weight", "a.blk.%u.ffn_up", "a.blk.%u.ffn_down"},
        {"a.blk.%u.ffn_norm_1.weight", "a.blk.%u.ffn_post_norm_1.weight", "a.blk.%u.ffn_up_1", "a.blk.%u.ffn_down_1"},
    };
    for (int f = 0; f < 2 && !s; f++) {
        ffn_weights *w = &L->ffn[f];
        s = src->vector(src, vkmm_model_tensor_name(name, sizeof name, ffn_names[f][0], il), E, true, &w->pre_norm, err);
        if (!s) s = src->vector(src, vkmm_model_tensor_name(name, sizeof name, ffn_names[f][1], il), E, true,
                                &w->post_norm, err);
        if (!s) s = bind_clipped(src, ffn_names[f][2], il, E, F, &w->up, err);
        if (!s) s = bind_clipped(src, ffn_names[f][3], il, F, E, &w->down, err);
    }
    if (!s) s = src->vector(src, N("attn_pre_norm.weight"), E, true, &L->attn_pre_norm, err);
    if (!s) s = bind_clipped(src, "a.blk.%u.attn_q", il, E, E, &L->q, err);
    if (!s) s = bind_clipped(src, "a.blk.%u.attn_k", il, E, E, &L->k, err);
    if (!s) s = bind_clipped(src, "a.blk.%u.attn_v", il, E, E, &L->v, err);
    if (!s) s = bind_clipped(src, "a.blk.%u.attn_out", il, E, E, &L->o, err);
    if (!s) s = src->matrix(src, N("attn_k_rel.weight"), E, E, false, true, &L->k_rel, err);
    /* the converter stores softplus(per_dim_scale), the factor the reference multiplies by */
    if (!s) s = src->vector(src, N("per_dim_scale.weight"), hp->head_dim, true, &L->per_dim_scale, err);
    if (!s) s = src->vector(src, N("attn_post_norm.weight"), E, true, &L->attn_post_norm, err);
    if (!s) s = src->vector(src, N("conv_norm.weight"), E, true, &L->conv_pre_norm, err);
    if (!s) s = bind_clipped(src, "a.blk.%u.conv_pw1", il, E, 2 * E, &L->pw1, err);
    if (!s) s = src->vector(src, N("conv_dw.weight"), (uint64_t)E * hp->conv_kernel, true, &L->conv_dw, err);
    if (!s) s = src->vector(src, N("norm_conv.weight"), E, true, &L->conv_mid_norm, err);
    if (!s) s = bind_clipped(src, "a.blk.%u.conv_pw2", il, E, E, &L->pw2, err);
    if (!s) s = src->vector(src, N("ln2.weight"), E, true, &L->out_norm, err);
#undef N
    return s;
}

vkmm_status vkmm_gemma4a_load(vkmm_weight_source *src, vkmm_audio_model **out, vkmm_error *err)
{
    const vkmm_gguf *g = src->gguf;
    *out = NULL;
    vkmm_audio_hparams hp = {0};
    vkmm_status s = read_hparams(g, &hp, err);
    if (s)
        return s;
    g4a *m = calloc(1, sizeof *m);
    if (!m || !(m->layers = calloc(hp.n_layer, sizeof *m->layers))) {
        free(m);
        return vkmm_fail(err, VKMM_ERR_HOST_MEMORY, "out of host memory");
    }
    vkmm_mel_params mel = vkmm_mel_params_gemma4();
    mel.n_mel = hp.n_mel;
    uint64_t piece = (uint64_t)PIECE_SECONDS * mel.rate;
    m->base = (vkmm_audio_model){.projector = "gemma4a", .hp = hp, .mel = mel, .piece_samples = piece,
                                 .max_frames = vkmm_mel_frames(&mel, piece, NULL), .n_rows = n_rows,
                                 .encode = encode, .free = g4a_free, .impl = m};
    uint32_t E = hp.n_embd, flat = sub_out(sub_out(hp.n_mel)) * hp.sub_ch[1];
    for (uint32_t i = 0; i < 2 && !s; i++) {
        char name[48];
        uint32_t cin = i ? hp.sub_ch[0] : 1;
        snprintf(name, sizeof name, "a.conv1d.%u.weight", i);
        s = src->vector(src, name, (uint64_t)hp.sub_ch[i] * cin * SUB_KERNEL * SUB_KERNEL, true, &m->sub_w[i], err);
        snprintf(name, sizeof name, "a.conv1d.%u.bias", i);
        if (!s) s = src->vector(src, name, hp.sub_ch[i], false, &m->sub_b[i], err);
        snprintf(name, sizeof name, "a.conv1d.%u.norm.weight", i);
        if (!s) s = src->vector(src, name, hp.sub_ch[i], true, &m->sub_norm[i], err);
    }
    if (!s) s = src->matrix(src, "a.input_projection.weight", flat, E, false, true, &m->in_proj, err);
    if (!s) s = src->vector(src, "a.input_projection.bias", E, false, &m->in_proj_b, err);
    for (uint32_t il = 0; il < hp.n_layer && !s; il++)
        s = bind_layer(src, &hp, il, &m->layers[il], err);
    if (!s) s = src->matrix(src, "a.pre_encode.out.weight", E, hp.n_out, false, true, &m->out_proj, err);
    if (!s) s = src->vector(src, "a.pre_encode.out.bias", hp.n_out, false, &m->out_proj_b, err);
    if (!s) s = src->matrix(src, "mm.a.input_projection.weight", hp.n_out, hp.n_text_embd, false, true, &m->mm_proj, err);
    if (s) {
        g4a_free(&m->base);
        return s;
    }
    *out = &m->base;
    return VKMM_OK;
}

const vkmm_media_tower vkmm_gemma4a_tower = VKMM_GEMMA4A_TOWER;
