/* runtime/graph/nodes_matmul.c — graph nodes for weight products and the patch embedding. */
#include <string.h>

#include "nodes.h"

static vkmm_status rec_matmul(vkmm_graph_exec *ex, const vkmm_node *n, vkmm_error *err)
{
    const vkmm_weight *w = n->ref;
    const vkmm_gtensor *x = vkmm_graph_get(ex->g, n->in[0]);
    uint32_t cols = x->ne[1] * x->ne[2];
    return vkmm_op_matmul(ex->ops, ex->cmd, w, vkmm_graph_range(ex, n->in[0]), x->ne[0],
                          vkmm_graph_range(ex, n->out[0]), w->rows, cols, err);
}

vkmm_tid vkmm_g_matmul(vkmm_graph *g, const vkmm_weight *w, vkmm_tid x, vkmm_tid out, const char *name)
{
    const vkmm_gtensor *tx = vkmm_graph_get(g, x);
    if (!tx)
        return 0;
    if (tx->type != VKMM_F32 || tx->ne[0] != w->k) {
        vkmm_graph_fail(g, VKMM_ERR_INTERNAL, "%s: input %s rows of %u, weight expects %u", name, tx->name, tx->ne[0],
                        w->k);
        return 0;
    }
    out = vkmm_g_output(g, out, VKMM_F32, w->rows, tx->ne[1], tx->ne[2], name);
    vkmm_node *n = vkmm_graph_add(g, "matmul", name, rec_matmul);
    if (!n || !out)
        return 0;
    n->in[0] = x;
    n->out[0] = out;
    n->ref = w;
    return out;
}

typedef struct glu_params {
    const vkmm_weight *gate, *up;
    vkmm_act act;
} glu_params;

/* One dispatch where the device has the fused kernel; else gate into out, up into the scratch tensor, then the
 * gated unit in place. */
static vkmm_status rec_matmul_glu(vkmm_graph_exec *ex, const vkmm_node *n, vkmm_error *err)
{
    glu_params p;
    memcpy(&p, n->params, sizeof p);
    const vkmm_gtensor *x = vkmm_graph_get(ex->g, n->in[0]);
    uint32_t cols = x->ne[1] * x->ne[2];
    vkmm_range rx = vkmm_graph_range(ex, n->in[0]), ry = vkmm_graph_range(ex, n->out[0]);
    bool done;
    vkmm_status s = vkmm_op_matmul_glu(ex->ops, ex->cmd, p.act, p.gate, p.up, rx, x->ne[0], ry, p.gate->rows, cols,
                                       &done, err);
    if (s || done)
        return s;
    vkmm_range ru = vkmm_graph_range(ex, n->out[1]);
    if ((s = vkmm_op_matmul(ex->ops, ex->cmd, p.gate, rx, x->ne[0], ry, p.gate->rows, cols, err)) ||
        (s = vkmm_op_matmul(ex->ops, ex->cmd, p.up, rx, x->ne[0], ru, p.up->rows, cols, err)))
        return s;
    return vkmm_op_glu(ex->ops, ex->cmd, p.act, ry, ru, ry, cols, p.gate->rows, err);
}

vkmm_tid vkmm_g_matmul_glu(vkmm_graph *g, vkmm_act act, const vkmm_weight *gate, const vkmm_weight *up, vkmm_tid x,
                           const char *name)
{
    const vkmm_gtensor *tx = vkmm_graph_get(g, x);
    if (!tx)
        return 0;
    if (tx->type != VKMM_F32 || tx->ne[0] != gate->k || up->k != gate->k || up->rows != gate->rows) {
        vkmm_graph_fail(g, VKMM_ERR_INTERNAL, "%s: input rows of %u, gate %u x %u, up %u x %u", name, tx->ne[0],
                        gate->rows, gate->k, up->rows, up->k);
        return 0;
    }
    /* (tx points into the tensor table, which the first new tensor may move) */
    uint32_t rows = tx->ne[1], planes = tx->ne[2];
    vkmm_tid out = vkmm_graph_tensor(g, VKMM_F32, gate->rows, rows, planes, name);
    vkmm_tid scratch = vkmm_graph_tensor(g, VKMM_F32, up->rows, rows, planes, "ffn_up");
    vkmm_node *n = vkmm_graph_add(g, "matmul_glu", name, rec_matmul_glu);
    if (!n || !out || !scratch)
        return 0;
    n->in[0] = x;
    n->out[0] = out;
    n->out[1] = scratch;
    glu_params p = {gate, up, act};
    memcpy(n->params, &p, sizeof p);
    return out;
}

vkmm_tid vkmm_g_linear(vkmm_graph *g, const vkmm_weight *w, vkmm_range b, vkmm_tid x, const char *name)
{
    vkmm_tid y = vkmm_g_matmul(g, w, x, 0, name);
    if (b.size) {
        vkmm_tid tb = vkmm_graph_external(g, b, VKMM_F32, w->rows, 1, 1, "bias");
        vkmm_g_add(g, y, tb, y, name);
    }
    return y;
}

typedef struct pe_params {
    uint32_t channels, height, width, patch;
} pe_params;

static vkmm_status rec_patch(vkmm_graph_exec *ex, const vkmm_node *n, vkmm_error *err)
{
    const pe_params *p = (const void *)n->params;
    vkmm_range bias = n->in[1] ? vkmm_graph_range(ex, n->in[1]) : (vkmm_range){0};
    vkmm_range scratch = n->out[1] ? vkmm_graph_range(ex, n->out[1]) : (vkmm_range){0};
    return vkmm_op_patch_embed(ex->ops, ex->cmd, n->ref, bias, vkmm_graph_range(ex, n->in[0]), p->channels,
                               p->height, p->width, p->patch, vkmm_graph_range(ex, n->out[0]), scratch, err);
}

vkmm_tid vkmm_g_patch_embed(vkmm_graph *g, const vkmm_weight *w, vkmm_tid bias, vkmm_tid image, uint32_t channels,
                            uint32_t height, uint32_t width, uint32_t patch, const char *name)
{
    if (!patch || height % patch || width % patch) {
        vkmm_graph_fail(g, VKMM_ERR_INVALID_ARG, "%s: image %ux%u is not a whole number of %u-pixel patches", name,
                        width, height, patch);
        return 0;
    }
    uint32_t tokens = (height / patch) * (width / patch);
    uint64_t cols = g->ops ? vkmm_op_patch_embed_scratch_bytes(g->ops, w, height, width, patch) : 0;
    vkmm_tid out = vkmm_graph_tensor(g, VKMM_F32, w->rows, tokens, 1, name);
    vkmm_tid tmp = cols ? vkmm_graph_tensor(g, VKMM_F32, w->k, tokens, 1, "patch_columns") : 0;
    vkmm_node *n = vkmm_graph_add(g, "patch_embed", name, rec_patch);
    if (!n || !out || (cols && !tmp))
        return 0;
    n->in[0] = image;
    n->in[1] = bias;
    n->out[0] = out;
    n->out[1] = tmp;
    n->ref = w;
    pe_params p = {channels, height, width, patch};
    memcpy(n->params, &p, sizeof p);
    return out;
}
