/* runtime/graph/nodes_attention_local.c — graph nodes for local relative-position attention and the sinusoid table
 * its position term is projected from. */
#include <string.h>

#include "nodes.h"

typedef struct local_node {
    vkmm_attention_local_params p;
    vkmm_range dim_scale;
} local_node;
_Static_assert(sizeof(local_node) <= VKMM_NODE_PARAM_BYTES, "node parameters too large");

static vkmm_status rec_local(vkmm_graph_exec *ex, const vkmm_node *n, vkmm_error *err)
{
    const local_node *l = (const void *)n->params;
    vkmm_attention_local_io io = {
        .q = vkmm_graph_range(ex, n->in[0]),
        .k = vkmm_graph_range(ex, n->in[1]),
        .v = vkmm_graph_range(ex, n->in[2]),
        .rel = n->in[3] ? vkmm_graph_range(ex, n->in[3]) : (vkmm_range){0},
        .dim_scale = l->dim_scale,
        .o = vkmm_graph_range(ex, n->out[0]),
    };
    return vkmm_op_attention_local(ex->ops, ex->cmd, &l->p, &io, err);
}

vkmm_tid vkmm_g_attention_local(vkmm_graph *g, vkmm_tid q, vkmm_tid k, vkmm_tid v, vkmm_tid rel, vkmm_range dim_scale,
                                const vkmm_attention_local_params *p, const char *name)
{
    const vkmm_gtensor *tq = vkmm_graph_get(g, q);
    if (!tq || !vkmm_graph_get(g, k) || !vkmm_graph_get(g, v) || (rel && !vkmm_graph_get(g, rel)))
        return 0;
    uint64_t n = (uint64_t)p->n * p->n_head * p->head_dim;
    if (vkmm_g_elements(g, q) != n || vkmm_g_elements(g, k) != n || vkmm_g_elements(g, v) != n ||
        (rel && vkmm_g_elements(g, rel) < (uint64_t)p->n_rel * p->n_head * p->head_dim)) {
        vkmm_graph_fail(g, VKMM_ERR_INTERNAL, "%s: q, k, v are not %u positions of %u x %u, or the position table is "
                        "short", name, p->n, p->n_head, p->head_dim);
        return 0;
    }
    vkmm_tid out = vkmm_graph_tensor(g, VKMM_F32, p->n_head * p->head_dim, p->n, 1, name);
    vkmm_node *nd = vkmm_graph_add(g, "attention_local", name, rec_local);
    if (!nd || !out)
        return 0;
    local_node l = {*p, dim_scale};
    memcpy(nd->params, &l, sizeof l);
    nd->in[0] = q;
    nd->in[1] = k;
    nd->in[2] = v;
    nd->in[3] = rel;
    nd->out[0] = out;
    return out;
}

typedef struct sin_node {
    uint32_t rows, half;
    int32_t pos0, step;
    float log_inc;
} sin_node;

static vkmm_status rec_sinusoid(vkmm_graph_exec *ex, const vkmm_node *n, vkmm_error *err)
{
    const sin_node *s = (const void *)n->params;
    return vkmm_op_sinusoid(ex->ops, ex->cmd, vkmm_graph_range(ex, n->out[0]), s->rows, s->half, s->pos0, s->step,
                            s->log_inc, err);
}

vkmm_tid vkmm_g_sinusoid(vkmm_graph *g, uint32_t rows, uint32_t half, int32_t pos0, int32_t step, float log_inc,
                         const char *name)
{
    vkmm_tid out = vkmm_graph_tensor(g, VKMM_F32, 2 * half, rows, 1, name);
    vkmm_node *n = vkmm_graph_add(g, "sinusoid", name, rec_sinusoid);
    if (!n || !out)
        return 0;
    sin_node s = {rows, half, pos0, step, log_inc};
    memcpy(n->params, &s, sizeof s);
    n->out[0] = out;
    return out;
}
