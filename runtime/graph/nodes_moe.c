/* runtime/graph/nodes_moe.c — graph nodes of a mixture of experts: routing, grouping the routed pairs by expert,
 * the expert matrices reading only the routed experts, the weighted sum. */
#include <string.h>

#include "moe.h"
#include "nodes.h"

typedef struct moe_params {
    uint32_t n_expert, k, x_div;
    vkmm_range scale;
} moe_params;

static vkmm_status rec_route(vkmm_graph_exec *ex, const vkmm_node *n, vkmm_error *err)
{
    const moe_params *p = (const void *)n->params;
    const vkmm_gtensor *l = vkmm_graph_get(ex->g, n->in[0]);
    return vkmm_op_moe_route(ex->ops, ex->cmd, vkmm_graph_range(ex, n->in[0]), l->ne[0], l->ne[1] * l->ne[2],
                             p->n_expert, p->k, p->scale, vkmm_graph_range(ex, n->out[0]),
                             vkmm_graph_range(ex, n->out[1]), err);
}

void vkmm_g_moe_route(vkmm_graph *g, vkmm_tid logits, uint32_t k, vkmm_range scale, vkmm_tid *ids, vkmm_tid *weights,
                      const char *name)
{
    *ids = *weights = 0;
    const vkmm_gtensor *l = vkmm_graph_get(g, logits);
    if (!l)
        return;
    uint32_t rows = l->ne[1] * l->ne[2], n_expert = l->ne[0]; /* (l may move with the first new tensor) */
    if (l->type != VKMM_F32 || !k || k > l->ne[0] || (scale.size && scale.size < 4ull * l->ne[0])) {
        vkmm_graph_fail(g, VKMM_ERR_INTERNAL, "%s: top %u of %s", name, k, l->name);
        return;
    }
    vkmm_tid i = vkmm_graph_tensor(g, VKMM_I32, k, rows, 1, "expert_ids");
    vkmm_tid w = vkmm_graph_tensor(g, VKMM_F32, k, rows, 1, "expert_weights");
    vkmm_node *n = vkmm_graph_add(g, "moe_route", name, rec_route);
    if (!n || !i || !w)
        return;
    moe_params p = {.n_expert = n_expert, .k = k, .scale = scale};
    memcpy(n->params, &p, sizeof p);
    n->in[0] = logits;
    n->out[0] = i;
    n->out[1] = w;
    *ids = i;
    *weights = w;
}

static vkmm_status rec_group(vkmm_graph_exec *ex, const vkmm_node *n, vkmm_error *err)
{
    const moe_params *p = (const void *)n->params;
    return vkmm_op_moe_group(ex->ops, ex->cmd, vkmm_graph_range(ex, n->in[0]), (uint32_t)vkmm_g_elements(ex->g, n->in[0]),
                             p->n_expert, vkmm_graph_range(ex, n->out[0]), err);
}

vkmm_tid vkmm_g_moe_group(vkmm_graph *g, vkmm_tid ids, uint32_t n_expert, const char *name)
{
    const vkmm_gtensor *t = vkmm_graph_get(g, ids);
    if (!t || (g->ops && t->ne[1] * t->ne[2] < (uint64_t)vkmm_ops_tune(g->ops, VKMM_TUNE_MOE_GROUPED_TOKENS)))
        return 0; /* few tokens: the experts' mat-vec form, one workgroup row per pair, needs no grouping */
    uint32_t n_pairs = (uint32_t)vkmm_g_elements(g, ids);
    vkmm_tid out = vkmm_graph_tensor(g, VKMM_I32, n_expert + 1 + n_pairs, 1, 1, name);
    vkmm_node *n = vkmm_graph_add(g, "moe_group", name, rec_group);
    if (!n || !out)
        return 0;
    moe_params p = {.n_expert = n_expert};
    memcpy(n->params, &p, sizeof p);
    n->in[0] = ids;
    n->out[0] = out;
    return out;
}

static vkmm_status rec_matmul_id(vkmm_graph_exec *ex, const vkmm_node *n, vkmm_error *err)
{
    const moe_params *p = (const void *)n->params;
    const vkmm_weight *w = n->ref;
    const vkmm_gtensor *x = vkmm_graph_get(ex->g, n->in[0]);
    uint32_t n_pairs = (uint32_t)vkmm_g_elements(ex->g, n->in[1]);
    return vkmm_op_matmul_id(ex->ops, ex->cmd, w, p->n_expert, vkmm_graph_range(ex, n->in[0]), x->ne[0], p->x_div,
                             vkmm_graph_range(ex, n->in[1]), n->in[2] ? vkmm_graph_range(ex, n->in[2]) : (vkmm_range){0},
                             n_pairs, vkmm_graph_range(ex, n->out[0]), w->rows / p->n_expert, err);
}

vkmm_tid vkmm_g_matmul_id(vkmm_graph *g, const vkmm_weight *w, uint32_t n_expert, vkmm_tid x, uint32_t x_div,
                          vkmm_tid ids, vkmm_tid groups, const char *name)
{
    const vkmm_gtensor *tx = vkmm_graph_get(g, x);
    if (!tx || !vkmm_graph_get(g, ids))
        return 0;
    uint32_t n_pairs = (uint32_t)vkmm_g_elements(g, ids);
    if (tx->type != VKMM_F32 || tx->ne[0] != w->k || !n_expert || w->rows % n_expert || !x_div ||
        (uint64_t)tx->ne[1] * tx->ne[2] * x_div < n_pairs) {
        vkmm_graph_fail(g, VKMM_ERR_INTERNAL, "%s: %s does not feed %u pairs of %u experts of %u x %u", name, tx->name,
                        n_pairs, n_expert, w->rows / (n_expert ? n_expert : 1), w->k);
        return 0;
    }
    vkmm_tid out = vkmm_graph_tensor(g, VKMM_F32, w->rows / n_expert, n_pairs, 1, name);
    vkmm_node *n = vkmm_graph_add(g, "matmul_id", name, rec_matmul_id);
    if (!n || !out)
        return 0;
    moe_params p = {.n_expert = n_expert, .x_div = x_div};
    memcpy(n->params, &p, sizeof p);
    n->in[0] = x;
    n->in[1] = ids;
    n->in[2] = groups;
    n->out[0] = out;
    n->ref = w;
    return out;
}

static vkmm_status rec_combine(vkmm_graph_exec *ex, const vkmm_node *n, vkmm_error *err)
{
    const moe_params *p = (const void *)n->params;
    const vkmm_gtensor *o = vkmm_graph_get(ex->g, n->out[0]);
    return vkmm_op_moe_combine(ex->ops, ex->cmd, vkmm_graph_range(ex, n->in[0]), vkmm_graph_range(ex, n->in[1]), o->ne[1],
                               o->ne[0], p->k, vkmm_graph_range(ex, n->out[0]), err);
}

vkmm_tid vkmm_g_moe_combine(vkmm_graph *g, vkmm_tid y, vkmm_tid weights, uint32_t k, const char *name)
{
    const vkmm_gtensor *ty = vkmm_graph_get(g, y), *tw = vkmm_graph_get(g, weights);
    if (!ty || !tw)
        return 0;
    uint32_t pairs = ty->ne[1] * ty->ne[2];
    if (!k || pairs % k || vkmm_g_elements(g, weights) != pairs) {
        vkmm_graph_fail(g, VKMM_ERR_INTERNAL, "%s: %u rows of %s are not tokens of %u experts", name, pairs, ty->name, k);
        return 0;
    }
    vkmm_tid out = vkmm_graph_tensor(g, VKMM_F32, ty->ne[0], pairs / k, 1, name);
    vkmm_node *n = vkmm_graph_add(g, "moe_combine", name, rec_combine);
    if (!n || !out)
        return 0;
    moe_params p = {.k = k};
    memcpy(n->params, &p, sizeof p);
    n->in[0] = y;
    n->in[1] = weights;
    n->out[0] = out;
    return out;
}
