/* runtime/graph/nodes_norm.c — graph nodes for RMSNorm and LayerNorm, alone or fused with the residual add. */
#include <string.h>

#include "nodes.h"
#include "norm.h"

typedef struct norm_params {
    vkmm_norm_kind kind;
    vkmm_range w, b, a_w;
    float eps;
    bool fused;   /* in[1] is the residual branch added into in[0] first */
} norm_params;
_Static_assert(sizeof(norm_params) <= VKMM_NODE_PARAM_BYTES, "node parameters too large");

static vkmm_status rec_norm(vkmm_graph_exec *ex, const vkmm_node *n, vkmm_error *err)
{
    const norm_params *p = (const void *)n->params;
    const vkmm_gtensor *x = vkmm_graph_get(ex->g, n->in[0]);
    uint32_t cols = x->ne[0], rows = x->ne[1] * x->ne[2];
    if (p->fused)
        return vkmm_op_add_norm(ex->ops, ex->cmd, p->kind, vkmm_graph_range(ex, n->in[0]), vkmm_graph_range(ex, n->in[1]),
                                p->a_w, p->w, p->b, vkmm_graph_range(ex, n->out[1]), rows, cols, p->eps, err);
    if (p->kind == VKMM_NORM_RMS)
        return vkmm_op_rms_norm(ex->ops, ex->cmd, vkmm_graph_range(ex, n->in[0]), p->w, vkmm_graph_range(ex, n->out[0]),
                                rows, cols, p->eps, err);
    return vkmm_op_layer_norm(ex->ops, ex->cmd, vkmm_graph_range(ex, n->in[0]), p->w, p->b,
                              vkmm_graph_range(ex, n->out[0]), rows, cols, p->eps, err);
}

static vkmm_tid norm(vkmm_graph *g, vkmm_norm_kind kind, vkmm_tid x, vkmm_tid a, vkmm_range a_w, vkmm_range w,
                     vkmm_range b, float eps, vkmm_tid out, const char *name)
{
    const vkmm_gtensor *tx = vkmm_graph_get(g, x);
    if (!tx)
        return 0;
    if (tx->type != VKMM_F32 || (w.size && w.size < tx->ne[0] * 4ull) || (a && vkmm_g_elements(g, a) != vkmm_g_elements(g, x))) {
        vkmm_graph_fail(g, VKMM_ERR_INTERNAL, "%s: shapes do not fit (%s)", name, tx->name);
        return 0;
    }
    out = vkmm_g_output(g, out, VKMM_F32, tx->ne[0], tx->ne[1], tx->ne[2], name);
    vkmm_node *n = vkmm_graph_add(g, a ? "add_norm" : "norm", name, rec_norm);
    if (!n || !out)
        return 0;
    norm_params p = {kind, w, b, a_w, eps, a != 0};
    memcpy(n->params, &p, sizeof p);
    n->in[0] = x;
    if (a) {
        n->in[1] = a;
        n->out[0] = x; /* updated in place */
        n->out[1] = out;
    } else {
        n->out[0] = out;
    }
    return out;
}

vkmm_tid vkmm_g_rms_norm(vkmm_graph *g, vkmm_tid x, vkmm_range w, float eps, vkmm_tid out, const char *name)
{
    return norm(g, VKMM_NORM_RMS, x, 0, (vkmm_range){0}, w, (vkmm_range){0}, eps, out, name);
}

vkmm_tid vkmm_g_layer_norm(vkmm_graph *g, vkmm_tid x, vkmm_range w, vkmm_range b, float eps, vkmm_tid out,
                           const char *name)
{
    return norm(g, VKMM_NORM_LAYER, x, 0, (vkmm_range){0}, w, b, eps, out, name);
}

vkmm_tid vkmm_g_add_rms_norm(vkmm_graph *g, vkmm_tid x, vkmm_tid a, vkmm_range a_w, vkmm_range w, float eps,
                             const char *name)
{
    return norm(g, VKMM_NORM_RMS, x, a, a_w, w, (vkmm_range){0}, eps, 0, name);
}

vkmm_tid vkmm_g_add_layer_norm(vkmm_graph *g, vkmm_tid x, vkmm_tid a, vkmm_range w, vkmm_range b, float eps,
                               const char *name)
{
    return norm(g, VKMM_NORM_LAYER, x, a, (vkmm_range){0}, w, b, eps, 0, name);
}
