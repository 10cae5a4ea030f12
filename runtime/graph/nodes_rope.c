/* runtime/graph/nodes_rope.c — graph nodes for rotary embeddings (with Gemma's QK-norm fused in front). */
#include <string.h>

#include "nodes.h"
#include "rope.h"

typedef struct rope_node {
    vkmm_g_rope_params p;
    vkmm_range w;
    float eps;
    bool with_norm;
    vkmm_range w_k;     /* with a second input (k): its weight and heads */
    uint32_t n_k_heads;
} rope_node;
_Static_assert(sizeof(rope_node) <= VKMM_NODE_PARAM_BYTES, "node parameters too large");

static vkmm_status rec_rope(vkmm_graph_exec *ex, const vkmm_node *n, vkmm_error *err)
{
    const rope_node *r = (const void *)n->params;
    const vkmm_gtensor *x = vkmm_graph_get(ex->g, n->in[0]);
    uint32_t row = r->p.n_heads * r->p.head_dim;
    vkmm_rope_params rp = {
        .layout = r->p.neox ? VKMM_ROPE_NEOX : VKMM_ROPE_NORM,
        .head_dim = r->p.head_dim,
        .n_tokens = (uint32_t)(vkmm_g_elements(ex->g, n->in[0]) / row),
        .n_heads = r->p.n_heads,
        .base = r->p.base,
        .freq_scale = r->p.freq_scale,
        .pos0 = (int32_t)r->p.pos0,
        .grid_w = r->p.grid_w,
        .freq_factors = r->p.freq_factors,
    };
    (void)x;
    vkmm_range xr = vkmm_graph_range(ex, n->in[0]);
    if (n->in[1])
        return vkmm_op_qk_norm_rope(ex->ops, ex->cmd, &rp, xr, vkmm_graph_range(ex, n->in[1]), r->n_k_heads,
                                    r->p.positions, r->w, r->w_k, r->eps, err);
    if (r->with_norm)
        return vkmm_op_rms_norm_rope(ex->ops, ex->cmd, &rp, xr, r->p.positions, r->w, r->p.n_heads, r->w, r->eps, err);
    return vkmm_op_rope(ex->ops, ex->cmd, &rp, xr, r->p.positions, err);
}

static vkmm_node *rope(vkmm_graph *g, vkmm_tid x, const vkmm_g_rope_params *p, vkmm_range w, float eps,
                       bool with_norm, const char *name)
{
    const vkmm_gtensor *tx = vkmm_graph_get(g, x);
    if (!tx)
        return NULL;
    uint64_t row = (uint64_t)p->n_heads * p->head_dim;
    if (tx->type != VKMM_F32 || !row || vkmm_g_elements(g, x) % row) {
        vkmm_graph_fail(g, VKMM_ERR_INTERNAL, "%s: %s is not rows of %u heads x %u", name, tx->name, p->n_heads,
                        p->head_dim);
        return NULL;
    }
    vkmm_node *n = vkmm_graph_add(g, with_norm ? "norm_rope" : "rope", name, rec_rope);
    if (!n)
        return NULL;
    rope_node r = {*p, w, eps, with_norm, {0}, 0};
    memcpy(n->params, &r, sizeof r);
    n->in[0] = x;
    n->out[0] = x;
    return n;
}

vkmm_tid vkmm_g_rope(vkmm_graph *g, vkmm_tid x, const vkmm_g_rope_params *p, const char *name)
{
    return rope(g, x, p, (vkmm_range){0}, 0, false, name) ? x : 0;
}

vkmm_tid vkmm_g_rms_norm_rope(vkmm_graph *g, vkmm_tid x, const vkmm_g_rope_params *p, vkmm_range w, float eps,
                              const char *name)
{
    return rope(g, x, p, w, eps, true, name) ? x : 0;
}

void vkmm_g_qk_norm_rope(vkmm_graph *g, vkmm_tid q, vkmm_tid k, const vkmm_g_rope_params *p, uint32_t n_k_heads,
                         vkmm_range w_q, vkmm_range w_k, float eps, const char *name)
{
    const vkmm_gtensor *tq = vkmm_graph_get(g, q), *tk = vkmm_graph_get(g, k);
    if (!tq)
        return;
    uint64_t qrow = (uint64_t)p->n_heads * p->head_dim, krow = (uint64_t)n_k_heads * p->head_dim;
    if (!tk || tk->type != VKMM_F32 || !krow || vkmm_g_elements(g, k) % krow ||
        vkmm_g_elements(g, k) / krow != vkmm_g_elements(g, q) / qrow) {
        vkmm_graph_fail(g, VKMM_ERR_INTERNAL, "%s: %s is not as many rows of %u heads x %u as %s has tokens", name,
                        tk ? tk->name : "k", n_k_heads, p->head_dim, tq->name);
        return;
    }
    vkmm_node *n = rope(g, q, p, w_q, eps, true, name); /* ... and k as its second input and output */
    if (!n)
        return;
    rope_node r;
    memcpy(&r, n->params, sizeof r);
    r.w_k = w_k;
    r.n_k_heads = n_k_heads;
    memcpy(n->params, &r, sizeof r);
    n->in[1] = k;
    n->out[1] = k;
}
