/* runtime/models/text_common.c — what decoder architectures share, so that each architecture file holds only
 * what makes it different: the common hyperparameters, binding the attention, feed-forward and head weights by
 * the names llama.cpp's converters write, the attention block over the KV cache, the gated FFN and the logits. */
#include <stdio.h>
#include <string.h>

#include "nodes.h"
#include "model.h"

const char *vkmm_text_key(char *buf, size_t size, const char *arch, const char *key)
{
    snprintf(buf, size, "%s.%s", arch, key);
    return buf;
}

vkmm_status vkmm_text_read_layer_u32(const vkmm_gguf *g, const char *key, uint32_t n_layer, uint32_t *out,
                                     bool *found, vkmm_error *err)
{
    *found = false;
    if (!vkmm_gguf_find(g, key))
        return VKMM_OK;
    uint32_t v;
    if (vkmm_gguf_get_u32(g, key, &v)) {
        for (uint32_t il = 0; il < n_layer; il++)
            out[il] = v;
        *found = true;
        return VKMM_OK;
    }
    const vkmm_gguf_value *arr = vkmm_gguf_get_array(g, key, VKMM_GGUF_TYPE_COUNT);
    if (!arr || arr->count != n_layer)
        return vkmm_fail(err, VKMM_ERR_FORMAT, "%s: %s is neither a number nor an array of %u (one per layer)",
                         vkmm_gguf_path(g), key, n_layer);
    for (uint32_t il = 0; il < n_layer; il++) {
        vkmm_gguf_value e;
        uint64_t u;
        if (!vkmm_gguf_array_elem(arr, il, &e) || !vkmm_gguf_value_u64(&e, &u) || u > UINT32_MAX)
            return vkmm_fail(err, VKMM_ERR_FORMAT, "%s: %s[%u] is not a count", vkmm_gguf_path(g), key, il);
        out[il] = (uint32_t)u;
    }
    *found = true;
    return VKMM_OK;
}

vkmm_status vkmm_text_read_common(const vkmm_gguf *g, const char *arch, vkmm_text_hparams *hp, vkmm_error *err)
{
    const char *path = vkmm_gguf_path(g);
    char key[96];
#define K(x) vkmm_text_key(key, sizeof key, arch, x)
    vkmm_status s = VKMM_OK;
    bool found;
    if (!s) s = vkmm_gguf_need_u32(g, K("block_count"), &hp->n_layer, err);
    if (!s) s = vkmm_gguf_need_u32(g, K("embedding_length"), &hp->n_embd, err);
    if (!s) s = vkmm_gguf_need_u32(g, K("attention.head_count"), &hp->n_head, err);
    if (!s && (!hp->n_layer || hp->n_layer > VKMM_MAX_LAYERS))
        s = vkmm_fail(err, VKMM_ERR_FORMAT, "%s: %u layers (vkmm takes 1 to %d)", path, hp->n_layer, VKMM_MAX_LAYERS);
    /* feed_forward_length and head_count_kv may be per-layer arrays (Gemma 4); the scalars are then layer 0's */
    if (!s) s = vkmm_text_read_layer_u32(g, K("feed_forward_length"), hp->n_layer, hp->n_ff_l, &found, err);
    if (!s && !found)
        s = vkmm_fail(err, VKMM_ERR_FORMAT, "%s: %s is missing", path, K("feed_forward_length"));
    for (uint32_t il = 0; il < hp->n_layer && !s; il++)
        hp->n_kv_l[il] = hp->n_head;
    if (!s) s = vkmm_text_read_layer_u32(g, K("attention.head_count_kv"), hp->n_layer, hp->n_kv_l, &found, err);
    if (s)
        return s;
    hp->n_ff = hp->n_ff_l[0];
    hp->n_kv = hp->n_kv_l[0];
    hp->head_dim = hp->n_head ? hp->n_embd / hp->n_head : 0;
    vkmm_gguf_get_u32(g, K("attention.key_length"), &hp->head_dim);
    uint32_t vlen = hp->head_dim;
    vkmm_gguf_get_u32(g, K("attention.value_length"), &vlen);
    vkmm_gguf_get_u32(g, K("context_length"), &hp->n_ctx_train);
    vkmm_gguf_get_f32(g, K("attention.layer_norm_rms_epsilon"), &hp->eps);
#undef K
    if (!hp->n_pos_axes)
        hp->n_pos_axes = 1;
    bool bad = !hp->n_embd || !hp->n_head || !hp->head_dim || hp->head_dim % 2 || vlen != hp->head_dim ||
               hp->n_pos_axes > VKMM_MAX_POS_AXES;
    for (uint32_t il = 0; il < hp->n_layer; il++)
        bad |= !hp->n_kv_l[il] || hp->n_head % hp->n_kv_l[il] || !hp->n_ff_l[il];
    if (bad)
        return vkmm_fail(err, VKMM_ERR_FORMAT,
                         "%s: unusable %s shape: %u layers, embedding %u, %u heads, %u KV heads, head dim %u/%u, FFN %u",
                         path, arch, hp->n_layer, hp->n_embd, hp->n_head, hp->n_kv, hp->head_dim, vlen, hp->n_ff);
    const vkmm_gguf_tensor *te = vkmm_gguf_tensor_by_name(g, "token_embd.weight");
    if (!te || te->ne[0] != hp->n_embd)
        return vkmm_fail(err, VKMM_ERR_FORMAT, "%s: token_embd.weight missing or not %u wide", path, hp->n_embd);
    hp->n_vocab = (uint32_t)te->ne[1];
    return VKMM_OK;
}

vkmm_status vkmm_text_read_swa_pattern(const vkmm_gguf *g, const char *arch, uint32_t window, uint32_t period,
                                       vkmm_text_hparams *hp, vkmm_error *err)
{
    char key[96];
    const char *path = vkmm_gguf_path(g), *k = vkmm_text_key(key, sizeof key, arch, "attention.sliding_window_pattern");
    const vkmm_gguf_value *arr = vkmm_gguf_get_array(g, k, VKMM_GGUF_TYPE_COUNT);
    if (arr && arr->count != hp->n_layer)
        return vkmm_fail(err, VKMM_ERR_FORMAT, "%s: %s has %llu entries for %u layers", path, k,
                         (unsigned long long)arr->count, hp->n_layer);
    if (!arr && vkmm_gguf_find(g, k) && (!vkmm_gguf_get_u32(g, k, &period) || period == 0))
        return vkmm_fail(err, VKMM_ERR_FORMAT, "%s: %s is not a period", path, k);
    if (!arr && !period)
        return vkmm_fail(err, VKMM_ERR_FORMAT, "%s: %s is missing", path, k);
    for (uint32_t il = 0; il < hp->n_layer; il++) {
        bool local = !arr && il % period != period - 1;
        if (arr) {
            vkmm_gguf_value e;
            if (!vkmm_gguf_array_elem(arr, il, &e) || !vkmm_gguf_value_bool(&e, &local))
                return vkmm_fail(err, VKMM_ERR_FORMAT, "%s: %s[%u] is not a boolean", path, k, il);
        }
        hp->window[il] = window && local ? window : 0;
    }
    return VKMM_OK;
}

vkmm_status vkmm_bind_attention(vkmm_weight_source *src, const vkmm_text_hparams *hp, uint32_t il,
                                vkmm_attn_weights *w, vkmm_error *err)
{
    uint32_t hd = vkmm_layer_head_dim(hp, il);
    uint32_t H = hp->n_embd, qw = hp->n_head * hd, kw = vkmm_layer_n_kv(hp, il) * hd;
    char name[80];
#define N(x) vkmm_model_tensor_name(name, sizeof name, "blk.%u." x, il)
    vkmm_status s = src->matrix(src, N("attn_q.weight"), H, qw, false, true, &w->wq, err);
    if (!s) s = src->matrix(src, N("attn_k.weight"), H, kw, false, true, &w->wk, err);
    if (!s) s = src->matrix(src, N("attn_v.weight"), H, kw, false, true, &w->wv, err);
    if (!s) s = src->matrix(src, N("attn_output.weight"), qw, H, false, true, &w->wo, err);
#undef N
    return s;
}

vkmm_status vkmm_bind_ffn(vkmm_weight_source *src, const vkmm_text_hparams *hp, uint32_t il, vkmm_ffn_weights *w,
                          vkmm_error *err)
{
    char name[80];
#define N(x) vkmm_model_tensor_name(name, sizeof name, "blk.%u." x, il)
    uint32_t ff = vkmm_layer_n_ff(hp, il);
    vkmm_status s = src->matrix(src, N("ffn_gate.weight"), hp->n_embd, ff, false, true, &w->gate, err);
    if (!s) s = src->matrix(src, N("ffn_up.weight"), hp->n_embd, ff, false, true, &w->up, err);
    if (!s) s = src->matrix(src, N("ffn_down.weight"), ff, hp->n_embd, false, true, &w->down, err);
#undef N
    return s;
}

vkmm_status vkmm_bind_decoder_layer(vkmm_weight_source *src, const vkmm_text_hparams *hp, uint32_t il,
                                    vkmm_decoder_layer *L, vkmm_error *err)
{
    char name[80];
#define N(x) vkmm_model_tensor_name(name, sizeof name, "blk.%u." x, il)
    vkmm_status s = vkmm_bind_attention(src, hp, il, &L->attn, err);
    if (!s) s = vkmm_bind_ffn(src, hp, il, &L->ffn, err);
    if (!s) s = src->vector(src, N("attn_norm.weight"), hp->n_embd, true, &L->attn_norm, err);
    if (!s) s = src->vector(src, N("ffn_norm.weight"), hp->n_embd, true, &L->ffn_norm, err);
#undef N
    return s;
}

vkmm_status vkmm_bind_head(vkmm_weight_source *src, vkmm_text_model *m, vkmm_text_head *head, vkmm_error *err)
{
    uint32_t H = m->hp.n_embd, V = m->hp.n_vocab;
    vkmm_status s = src->matrix(src, "token_embd.weight", H, V, false, true, &m->tok_embd, err);
    if (!s) s = src->matrix(src, "output.weight", H, V, false, false, &head->output, err);
    if (!s) s = src->vector(src, "output_norm.weight", H, true, &head->output_norm, err);
    return s;
}

void vkmm_text_layer_spans(const vkmm_forward *fw, uint32_t window, vkmm_g_attn_params *ap)
{
    bool seen = fw->n_spans && (!fw->spans_sliding_only || window);
    ap->spans = seen ? fw->spans : (vkmm_range){0};
    ap->n_spans = seen ? fw->n_spans : 0;
    ap->spans_in_window = seen && fw->spans_sliding_only;
}

vkmm_tid vkmm_text_attention(vkmm_graph *g, const vkmm_text_hparams *hp, const vkmm_forward *fw, uint32_t il,
                             vkmm_tid q, vkmm_tid k, vkmm_tid v)
{
    const vkmm_layer_kv *kv = &fw->kv[vkmm_layer_kv_owner(hp, il)];
    uint32_t hd = vkmm_layer_head_dim(hp, il), n_kv = vkmm_layer_n_kv(hp, il);
    vkmm_g_attn_params ap = {
        .capacity = kv->capacity, .ring = kv->ring, .kv_type = fw->kv_type, .n_head = hp->n_head,
        .n_kv_head = n_kv, .head_dim = hd, .pos0 = fw->pos0, .causal = true, .window = hp->window[il],
        .max_kv_len = fw->max_kv_len, .scale = hp->attn_scale, .step = fw->step, .page_size = kv->page_size,
        .pages = kv->pages, .pt_off = kv->pt_off,
        .seqs = fw->seqs[kv->cls < 2 ? kv->cls : 0],
    };
    vkmm_text_layer_spans(fw, hp->window[il], &ap);
    vkmm_tid kc = vkmm_g_kv_cache(g, kv->k, fw->kv_type, hd, n_kv, kv->capacity, "k_cache");
    vkmm_tid vc = vkmm_g_kv_cache(g, kv->v, fw->kv_type, hd, n_kv, kv->capacity, "v_cache");
    return vkmm_g_attention(g, q, k, v, kc, vc, &ap, "attn");
}

vkmm_tid vkmm_text_ffn(vkmm_graph *g, const vkmm_ffn_weights *w, vkmm_act act, vkmm_tid h, const char *name)
{
    vkmm_tid gt = vkmm_g_matmul_glu(g, act, w->gate, w->up, h, name);
    return vkmm_g_matmul(g, w->down, gt, 0, "ffn_down");
}

vkmm_tid vkmm_text_logits(vkmm_graph *g, const vkmm_text_model *m, const vkmm_text_head *head,
                          const vkmm_forward *fw, vkmm_tid h)
{
    uint32_t H = m->hp.n_embd, V = m->hp.n_vocab, n = fw->n_tokens - fw->logits_from;
    vkmm_graph_set_prefix(g, "%s", "");
    /* the rows in passes whose [rows][V] f32 logits each fit one binding: all logits of a chunk that holds a whole
     * image (Gemma 4's at 140 tokens and more, 1 MiB a row) are over lavapipe's 128 MiB */
    uint64_t limit = g->ops ? g->ops->dev->max_storage_buffer_range : UINT64_MAX, fit = limit / (4ull * V);
    uint32_t per = fit >= n ? n : fit ? (uint32_t)fit : 1;
    vkmm_tid lg = fw->logits;
    if (per < n && !lg)
        lg = vkmm_graph_tensor(g, VKMM_F32, V, n, 1, "logits");
    for (uint32_t r0 = 0; r0 < n; r0 += per) {
        uint32_t rows = n - r0 < per ? n - r0 : per, from = fw->logits_from + r0;
        vkmm_tid x = from || rows < fw->n_tokens
                         ? vkmm_graph_view(g, h, 4ull * from * H, VKMM_F32, H, rows, 1, "head_rows") : h;
        vkmm_tid out = per == n ? lg : vkmm_graph_view(g, lg, 4ull * V * r0, VKMM_F32, V, rows, 1, "logits_rows");
        vkmm_tid y = vkmm_g_matmul(g, head->output ? head->output : m->tok_embd, x, out, "output");
        if (per == n)
            lg = y;
        float cap = m->hp.final_softcap;
        if (cap > 0) { /* cap · tanh(logit / cap), in place */
            vkmm_g_scale(g, y, 1.0f / cap, y, "softcap_in");
            vkmm_g_act(g, VKMM_ACT_TANH, y, y, "softcap");
            vkmm_g_scale(g, y, cap, y, "softcap_out");
        }
    }
    return lg;
}
