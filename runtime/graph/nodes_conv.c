/* runtime/graph/nodes_conv.c — graph nodes for the convolution family: a strided 2-D convolution over a
 * channels-last grid and a causal depthwise 1-D convolution over time. */
#include <string.h>

#include "nodes.h"

typedef struct conv2d_node {
    vkmm_conv2d_shape s;
    vkmm_range b, norm;
    float eps;
} conv2d_node;
_Static_assert(sizeof(conv2d_node) <= VKMM_NODE_PARAM_BYTES, "node parameters too large");

static vkmm_status rec_conv2d(vkmm_graph_exec *ex, const vkmm_node *n, vkmm_error *err)
{
    const conv2d_node *c = (const void *)n->params;
    return vkmm_op_conv2d(ex->ops, ex->cmd, &c->s, vkmm_graph_range(ex, n->in[0]), vkmm_graph_range(ex, n->in[1]),
                          c->b, c->norm, c->eps, vkmm_graph_range(ex, n->out[0]), err);
}

vkmm_tid vkmm_g_conv2d(vkmm_graph *g, vkmm_tid x, const vkmm_conv2d_shape *s, vkmm_range w, vkmm_range b,
                       vkmm_range norm, float eps, const char *name)
{
    const vkmm_gtensor *tx = vkmm_graph_get(g, x);
    if (!tx)
        return 0;
    uint32_t oh = vkmm_conv_out_size(s->in_h, s->k_h, s->stride_h, s->pad_h);
    uint32_t ow = vkmm_conv_out_size(s->in_w, s->k_w, s->stride_w, s->pad_w);
    uint64_t n_w = (uint64_t)s->out_ch * s->in_ch * s->k_h * s->k_w;
    if (tx->type != VKMM_F32 || vkmm_g_elements(g, x) != (uint64_t)s->in_h * s->in_w * s->in_ch || !oh || !ow ||
        w.size < 4 * n_w || n_w > UINT32_MAX) {
        vkmm_graph_fail(g, VKMM_ERR_INTERNAL, "%s: %s is not a %ux%ux%u grid, or the kernel does not fit it", name,
                        tx->name, s->in_h, s->in_w, s->in_ch);
        return 0;
    }
    /* the kernel with its output channel innermost, as the shader reads it (a few thousand floats per encode) */
    uint32_t ne[3] = {0, 0, 1}, is[3] = {0, 0, 0}, os[3] = {0, 0, 0};
    vkmm_conv2d_weight_layout(s, ne, is, os);
    vkmm_tid tw = vkmm_graph_external(g, w, VKMM_F32, (uint32_t)n_w, 1, 1, "conv_weight");
    vkmm_tid wt = vkmm_graph_tensor(g, VKMM_F32, (uint32_t)n_w, 1, 1, "conv_weight_t");
    vkmm_g_copy_strided(g, tw, wt, 0, ne, is, os, "conv_weight_t");
    vkmm_tid out = vkmm_graph_tensor(g, VKMM_F32, s->out_ch, ow, oh, name);
    vkmm_node *n = vkmm_graph_add(g, "conv2d", name, rec_conv2d);
    if (!n || !out)
        return 0;
    conv2d_node c = {*s, b, norm, eps};
    memcpy(n->params, &c, sizeof c);
    n->in[0] = x;
    n->in[1] = wt;
    n->out[0] = out;
    return out;
}

typedef struct conv1d_node {
    vkmm_range w;
    uint32_t k;
} conv1d_node;

static vkmm_status rec_conv1d(vkmm_graph_exec *ex, const vkmm_node *n, vkmm_error *err)
{
    const conv1d_node *c = (const void *)n->params;
    const vkmm_gtensor *x = vkmm_graph_get(ex->g, n->in[0]);
    return vkmm_op_conv1d_causal_dw(ex->ops, ex->cmd, vkmm_graph_range(ex, n->in[0]), c->w,
                                    vkmm_graph_range(ex, n->out[0]), x->ne[1] * x->ne[2], x->ne[0], c->k, err);
}

vkmm_tid vkmm_g_conv1d_causal_dw(vkmm_graph *g, vkmm_tid x, vkmm_range w, uint32_t k, const char *name)
{
    const vkmm_gtensor *tx = vkmm_graph_get(g, x);
    if (!tx)
        return 0;
    if (tx->type != VKMM_F32 || !k || w.size < 4ull * tx->ne[0] * k) {
        vkmm_graph_fail(g, VKMM_ERR_INTERNAL, "%s: a kernel of %u over rows of %u does not fit its weights", name, k,
                        tx->ne[0]);
        return 0;
    }
    vkmm_tid out = vkmm_graph_tensor(g, VKMM_F32, tx->ne[0], tx->ne[1], tx->ne[2], name);
    vkmm_node *n = vkmm_graph_add(g, "conv1d_causal_dw", name, rec_conv1d);
    if (!n || !out)
        return 0;
    conv1d_node c = {w, k};
    memcpy(n->params, &c, sizeof c);
    n->in[0] = x;
    n->out[0] = out;
    return out;
}
