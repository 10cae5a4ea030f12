/* runtime/graph/nodes_attention.c — the attention node: new K/V rows go into the layer's cache, then one fused
 * attention kernel reads the cache. */
#include <string.h>

#include "nodes.h"

typedef struct attn_node {
    vkmm_g_attn_params p;
    uint32_t n;
} attn_node;
_Static_assert(sizeof(attn_node) <= VKMM_NODE_PARAM_BYTES, "node parameters too large");

static vkmm_kv_layout layout_of(const vkmm_g_attn_params *p)
{
    return (vkmm_kv_layout){p->kv_type, p->n_kv_head, p->head_dim, p->capacity, p->ring, p->page_size};
}

static vkmm_attention_params params_of(const attn_node *a)
{
    const vkmm_g_attn_params *p = &a->p;
    bool dyn = p->step.size || p->seqs.size;
    return (vkmm_attention_params){
        .kv = layout_of(p),
        .n_q = a->n,
        .n_head = p->n_head,
        .q_pos0 = dyn ? 0 : p->pos0,
        .kv_len = dyn ? p->max_kv_len : p->pos0 + a->n,
        .causal = p->causal,
        .window = p->window,
        .n_spans = p->n_spans,
        .spans_in_window = p->spans_in_window,
        .scale = p->scale,
        .softcap = p->softcap,
        .pt_off = p->pt_off,
        .batch = p->seqs.size != 0,
    };
}

static vkmm_status rec_attention(vkmm_graph_exec *ex, const vkmm_node *n, vkmm_error *err)
{
    const attn_node *a = (const void *)n->params;
    vkmm_kv_layout kv = layout_of(&a->p);
    vkmm_range kc = vkmm_graph_range(ex, n->in[3]), vc = vkmm_graph_range(ex, n->in[4]);
    /* a replay adds the position it reads from step; a batch reads each row's from its descriptor */
    uint32_t pos0 = a->p.step.size || a->p.seqs.size ? 0 : a->p.pos0;
    vkmm_kv_store_io st = {.src = n->in[1] ? vkmm_graph_range(ex, n->in[1]) : (vkmm_range){0}, .cache = kc, .pos0 = pos0, .n = a->n,
                           .step = a->p.seqs.size ? (vkmm_range){0} : a->p.step, .pages = a->p.pages,
                           .pt_off = a->p.pt_off, .seqs = a->p.seqs};
    vkmm_status s = VKMM_OK;
    if (n->in[1]) { /* else the rows are already there: a layer reading another layer's cache */
        st.src2 = vkmm_graph_range(ex, n->in[2]); /* K and V in one store */
        st.cache2 = vc;
        s = vkmm_op_kv_store_io(ex->ops, ex->cmd, &kv, &st, err);
        if (s)
            return s;
    }
    vkmm_attention_params ap = params_of(a);
    vkmm_attention_io io = {
        .q = vkmm_graph_range(ex, n->in[0]),
        .k = kc,
        .v = vc,
        .spans = a->p.spans,
        .scratch = n->out[1] ? vkmm_graph_range(ex, n->out[1]) : (vkmm_range){0},
        .o = vkmm_graph_range(ex, n->out[0]),
        .step = a->p.seqs.size ? (vkmm_range){0} : a->p.step,
        .pages = a->p.pages,
        .seqs = a->p.seqs,
    };
    return vkmm_op_attention(ex->ops, ex->cmd, &ap, &io, err);
}

vkmm_tid vkmm_g_kv_cache(vkmm_graph *g, vkmm_range r, vkmm_dtype type, uint32_t head_dim, uint32_t n_kv_head,
                         uint32_t capacity, const char *name)
{
    return vkmm_graph_external(g, r, type, head_dim, capacity, n_kv_head, name);
}

vkmm_tid vkmm_g_attention(vkmm_graph *g, vkmm_tid q, vkmm_tid k, vkmm_tid v, vkmm_tid k_cache, vkmm_tid v_cache,
                          const vkmm_g_attn_params *p, const char *name)
{
    const vkmm_gtensor *tq = vkmm_graph_get(g, q), *tk = vkmm_graph_get(g, k), *tv = vkmm_graph_get(g, v);
    const vkmm_gtensor *tkc = vkmm_graph_get(g, k_cache), *tvc = vkmm_graph_get(g, v_cache);
    bool store = k || v;
    if (g->status || !tq || (store && (!tk || !tv)) || !tkc || !tvc)
        return 0;
    uint64_t qrow = (uint64_t)p->n_head * p->head_dim, kvrow = (uint64_t)p->n_kv_head * p->head_dim;
    uint64_t n = qrow ? vkmm_g_elements(g, q) / qrow : 0;
    if (!n || n * qrow != vkmm_g_elements(g, q) ||
        (store && (vkmm_g_elements(g, k) != n * kvrow || vkmm_g_elements(g, v) != n * kvrow))) {
        vkmm_graph_fail(g, VKMM_ERR_INTERNAL, "%s: q/k/v shapes do not match %u heads, %u KV heads of %u", name,
                        p->n_head, p->n_kv_head, p->head_dim);
        return 0;
    }
    if (p->step.size && !p->seqs.size && (!p->max_kv_len || n != 1)) {
        vkmm_graph_fail(g, VKMM_ERR_INTERNAL, "%s: a replayed attention takes one query row and a maximum length",
                        name);
        return 0;
    }
    if (p->seqs.size && (!p->max_kv_len || p->n_spans || p->seqs.size < n * sizeof(vkmm_kv_seq))) {
        vkmm_graph_fail(g, VKMM_ERR_INTERNAL, "%s: a batch needs a descriptor per row, a maximum length, no spans",
                        name);
        return 0;
    }
    attn_node a = {*p, (uint32_t)n};
    vkmm_attention_params ap = params_of(&a);
    uint64_t scratch = g->ops ? vkmm_op_attention_scratch_bytes(g->ops, &ap) : 0;
    vkmm_tid out = vkmm_graph_tensor(g, VKMM_F32, (uint32_t)qrow, (uint32_t)n, 1, name);
    vkmm_tid tmp = scratch ? vkmm_graph_tensor(g, VKMM_F32, (uint32_t)((scratch + 3) / 4), 1, 1, "attn_scratch") : 0;
    vkmm_node *nd = vkmm_graph_add(g, "attention", name, rec_attention);
    if (!nd || !out)
        return 0;
    memcpy(nd->params, &a, sizeof a);
    nd->in[0] = q;
    nd->in[1] = k;
    nd->in[2] = v;
    nd->in[3] = k_cache; /* read for the attention; also written by the store (out[2], out[3]) */
    nd->in[4] = v_cache;
    nd->out[2] = k_cache;
    nd->out[3] = v_cache;
    nd->out[0] = out;
    nd->out[1] = tmp;
    return out;
}
