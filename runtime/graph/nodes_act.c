/* runtime/graph/nodes_act.c — graph nodes for activations and gated units (two tensors, or two halves of one). */
#include <string.h>

#include "nodes.h"

static vkmm_status rec_act(vkmm_graph_exec *ex, const vkmm_node *n, vkmm_error *err)
{
    vkmm_act act;
    memcpy(&act, n->params, sizeof act);
    const vkmm_gtensor *x = vkmm_graph_get(ex->g, n->in[0]);
    if (n->in[1])
        return vkmm_op_glu(ex->ops, ex->cmd, act, vkmm_graph_range(ex, n->in[0]), vkmm_graph_range(ex, n->in[1]),
                           vkmm_graph_range(ex, n->out[0]), x->ne[1] * x->ne[2], x->ne[0], err);
    return vkmm_op_act(ex->ops, ex->cmd, act, vkmm_graph_range(ex, n->in[0]), vkmm_graph_range(ex, n->out[0]),
                       (uint32_t)vkmm_g_elements(ex->g, n->in[0]), err);
}

static vkmm_tid act_node(vkmm_graph *g, vkmm_act act, vkmm_tid x, vkmm_tid up, vkmm_tid out, const char *name)
{
    const vkmm_gtensor *tx = vkmm_graph_get(g, x);
    if (!tx)
        return 0;
    if (up && vkmm_g_elements(g, up) != vkmm_g_elements(g, x)) {
        vkmm_graph_fail(g, VKMM_ERR_INTERNAL, "%s: gate and up differ in size", name);
        return 0;
    }
    out = vkmm_g_output(g, out, VKMM_F32, tx->ne[0], tx->ne[1], tx->ne[2], name);
    vkmm_node *n = vkmm_graph_add(g, up ? "glu" : "act", name, rec_act);
    if (!n || !out)
        return 0;
    memcpy(n->params, &act, sizeof act);
    n->in[0] = x;
    n->in[1] = up;
    n->out[0] = out;
    return out;
}

vkmm_tid vkmm_g_act(vkmm_graph *g, vkmm_act act, vkmm_tid x, vkmm_tid out, const char *name)
{
    return act_node(g, act, x, 0, out, name);
}

vkmm_tid vkmm_g_glu(vkmm_graph *g, vkmm_act act, vkmm_tid gate, vkmm_tid up, vkmm_tid out, const char *name)
{
    return act_node(g, act, gate, up, out, name);
}

static vkmm_status rec_glu_fused(vkmm_graph_exec *ex, const vkmm_node *n, vkmm_error *err)
{
    vkmm_act act;
    memcpy(&act, n->params, sizeof act);
    const vkmm_gtensor *o = vkmm_graph_get(ex->g, n->out[0]);
    return vkmm_op_glu_fused(ex->ops, ex->cmd, act, vkmm_graph_range(ex, n->in[0]), vkmm_graph_range(ex, n->out[0]),
                             o->ne[1] * o->ne[2], o->ne[0], err);
}

vkmm_tid vkmm_g_glu_fused(vkmm_graph *g, vkmm_act act, vkmm_tid gate_up, const char *name)
{
    const vkmm_gtensor *t = vkmm_graph_get(g, gate_up);
    if (!t)
        return 0;
    if (t->type != VKMM_F32 || t->ne[0] % 2) {
        vkmm_graph_fail(g, VKMM_ERR_INTERNAL, "%s: %s is not rows of [gate | up]", name, t->name);
        return 0;
    }
    vkmm_tid out = vkmm_graph_tensor(g, VKMM_F32, t->ne[0] / 2, t->ne[1], t->ne[2], name);
    vkmm_node *n = vkmm_graph_add(g, "glu", name, rec_glu_fused);
    if (!n || !out)
        return 0;
    memcpy(n->params, &act, sizeof act);
    n->in[0] = gate_up;
    n->out[0] = out;
    return out;
}

typedef struct halves_params {
    vkmm_act act;
    uint32_t gate_half;
} halves_params;

static vkmm_status rec_halves(vkmm_graph_exec *ex, const vkmm_node *n, vkmm_error *err)
{
    const halves_params *h = (const void *)n->params;
    const vkmm_gtensor *o = vkmm_graph_get(ex->g, n->out[0]);
    return vkmm_op_glu_halves(ex->ops, ex->cmd, h->act, vkmm_graph_range(ex, n->in[0]), h->gate_half,
                              vkmm_graph_range(ex, n->out[0]), o->ne[1] * o->ne[2], o->ne[0], err);
}

vkmm_tid vkmm_g_glu_halves(vkmm_graph *g, vkmm_act act, vkmm_tid x, uint32_t gate_half, const char *name)
{
    const vkmm_gtensor *tx = vkmm_graph_get(g, x);
    if (!tx)
        return 0;
    if (tx->ne[0] % 2 || gate_half > 1) {
        vkmm_graph_fail(g, VKMM_ERR_INTERNAL, "%s: rows of %u have no two halves", name, tx->ne[0]);
        return 0;
    }
    vkmm_tid out = vkmm_graph_tensor(g, VKMM_F32, tx->ne[0] / 2, tx->ne[1], tx->ne[2], name);
    vkmm_node *n = vkmm_graph_add(g, "glu_halves", name, rec_halves);
    if (!n || !out)
        return 0;
    halves_params h = {act, gate_half};
    memcpy(n->params, &h, sizeof h);
    n->in[0] = x;
    n->out[0] = out;
    return out;
}
