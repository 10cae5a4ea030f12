/* runtime/graph/nodes_layout.c — graph nodes for embedding lookups and layout changes: row copies (image rows
 * into the token sequence), average pooling (Gemma 3's projector), patch merge (Pixtral's). */
#include <string.h>

#include "nodes.h"
#include "get_rows.h"
#include "layout.h"

typedef struct rows_node {
    uint32_t n;
    float scale;
} rows_node;

static vkmm_status rec_get_rows(vkmm_graph_exec *ex, const vkmm_node *n, vkmm_error *err)
{
    const rows_node *r = (const void *)n->params;
    const vkmm_weight *w = n->ref;
    vkmm_range pieces[VKMM_WEIGHT_MAX_PIECES];
    for (uint32_t i = 0; i < w->n_pieces; i++)
        pieces[i] = w->piece[i].range;
    return vkmm_op_get_rows(ex->ops, ex->cmd, w->type, pieces, w->n_pieces, w->rows, w->k,
                            vkmm_graph_range(ex, n->in[0]), r->n, vkmm_graph_range(ex, n->out[0]), 0, r->scale, err);
}

vkmm_tid vkmm_g_get_rows(vkmm_graph *g, const vkmm_weight *table, vkmm_tid ids, uint32_t n, float scale,
                         const char *name)
{
    const vkmm_gtensor *ti = vkmm_graph_get(g, ids);
    if (!ti)
        return 0;
    if (ti->type != VKMM_I32 || vkmm_g_elements(g, ids) < n) {
        vkmm_graph_fail(g, VKMM_ERR_INTERNAL, "%s: ids %s must be %u int32", name, ti->name, n);
        return 0;
    }
    vkmm_tid out = vkmm_graph_tensor(g, VKMM_F32, table->k, n, 1, name);
    vkmm_node *nd = vkmm_graph_add(g, "get_rows", name, rec_get_rows);
    if (!nd || !out)
        return 0;
    rows_node r = {n, scale};
    memcpy(nd->params, &r, sizeof r);
    nd->in[0] = ids;
    nd->out[0] = out;
    nd->ref = table;
    return out;
}

typedef struct copy_node {
    uint32_t in_stride, out_row0, out_stride, rows, cols;
} copy_node;

static vkmm_status rec_copy_rows(vkmm_graph_exec *ex, const vkmm_node *n, vkmm_error *err)
{
    const copy_node *c = (const void *)n->params;
    vkmm_range out = vkmm_graph_range(ex, n->out[0]);
    uint64_t skip = (uint64_t)c->out_row0 * c->cols * 4;
    return vkmm_op_copy_rows(ex->ops, ex->cmd, vkmm_graph_range(ex, n->in[0]), VKMM_F32, c->in_stride,
                             vkmm_range_sub(out, skip, out.size - skip), VKMM_F32, c->out_stride, c->rows, c->cols, err);
}

void vkmm_g_copy_rows(vkmm_graph *g, vkmm_tid in, uint32_t in_stride, vkmm_tid out, uint32_t out_row0,
                      uint32_t out_stride, uint32_t rows, uint32_t cols, const char *name)
{
    const vkmm_gtensor *ti = vkmm_graph_get(g, in), *to = vkmm_graph_get(g, out);
    if (!ti || !to || !rows)
        return;
    uint64_t ost = out_stride ? out_stride : cols, ist = in_stride;
    if (ti->type != VKMM_F32 || to->type != VKMM_F32 ||
        (uint64_t)out_row0 * cols + (rows - 1) * ost + cols > vkmm_g_elements(g, out) ||
        (rows - 1) * ist + cols > vkmm_g_elements(g, in)) {
        vkmm_graph_fail(g, VKMM_ERR_INTERNAL, "%s: %u rows of %u do not fit %s -> %s", name, rows, cols, ti->name,
                        to->name);
        return;
    }
    vkmm_node *nd = vkmm_graph_add(g, "copy_rows", name, rec_copy_rows);
    if (!nd)
        return;
    copy_node c = {in_stride, out_row0, out_stride, rows, cols};
    memcpy(nd->params, &c, sizeof c);
    nd->in[0] = in;
    nd->in[1] = out; /* partially written: earlier contents must survive, so it counts as read too */
    nd->out[0] = out;
}

typedef struct strided_node {
    uint64_t out_off;
    uint32_t ne[3], in_stride[3], out_stride[3];
} strided_node;

static vkmm_status rec_strided(vkmm_graph_exec *ex, const vkmm_node *n, vkmm_error *err)
{
    const strided_node *c = (const void *)n->params;
    vkmm_copy_shape shape = {.n_dims = 3};
    for (int d = 0; d < 3; d++) {
        shape.ne[d] = c->ne[d];
        shape.in_stride[d] = c->in_stride[d];
        shape.out_stride[d] = c->out_stride[d];
    }
    vkmm_range out = vkmm_graph_range(ex, n->out[0]);
    uint64_t skip = c->out_off * 4;
    return vkmm_op_copy(ex->ops, ex->cmd, &shape, vkmm_graph_range(ex, n->in[0]), VKMM_F32,
                        vkmm_range_sub(out, skip, out.size - skip), VKMM_F32, err);
}

void vkmm_g_copy_strided(vkmm_graph *g, vkmm_tid in, vkmm_tid out, uint64_t out_off, const uint32_t ne[3],
                         const uint32_t in_stride[3], const uint32_t out_stride[3], const char *name)
{
    const vkmm_gtensor *ti = vkmm_graph_get(g, in), *to = vkmm_graph_get(g, out);
    if (!ti || !to)
        return;
    uint64_t last_in = 0, last_out = out_off;
    for (int d = 0; d < 3; d++) {
        if (!ne[d]) {
            vkmm_graph_fail(g, VKMM_ERR_INTERNAL, "%s: empty copy", name);
            return;
        }
        last_in += (uint64_t)(ne[d] - 1) * in_stride[d];
        last_out += (uint64_t)(ne[d] - 1) * out_stride[d];
    }
    if (ti->type != VKMM_F32 || to->type != VKMM_F32 || last_in >= vkmm_g_elements(g, in) ||
        last_out >= vkmm_g_elements(g, out)) {
        vkmm_graph_fail(g, VKMM_ERR_INTERNAL, "%s: strided copy %s -> %s out of bounds", name, ti->name, to->name);
        return;
    }
    vkmm_node *nd = vkmm_graph_add(g, "copy", name, rec_strided);
    if (!nd)
        return;
    strided_node c = {.out_off = out_off};
    memcpy(c.ne, ne, sizeof c.ne);
    memcpy(c.in_stride, in_stride, sizeof c.in_stride);
    memcpy(c.out_stride, out_stride, sizeof c.out_stride);
    memcpy(nd->params, &c, sizeof c);
    nd->in[0] = in;
    nd->in[1] = out; /* partially written: what it does not cover must survive */
    nd->out[0] = out;
}

typedef struct grid_node {
    uint32_t gh, gw, ch, k;
} grid_node;

static vkmm_status rec_pool(vkmm_graph_exec *ex, const vkmm_node *n, vkmm_error *err)
{
    const grid_node *p = (const void *)n->params;
    return vkmm_op_avg_pool(ex->ops, ex->cmd, vkmm_graph_range(ex, n->in[0]), vkmm_graph_range(ex, n->out[0]), p->gh,
                            p->gw, p->ch, p->k, p->k, err);
}

static vkmm_status rec_merge(vkmm_graph_exec *ex, const vkmm_node *n, vkmm_error *err)
{
    const grid_node *p = (const void *)n->params;
    return vkmm_op_patch_merge(ex->ops, ex->cmd, vkmm_graph_range(ex, n->in[0]), vkmm_graph_range(ex, n->out[0]), p->gh,
                               p->gw, p->ch, p->k, err);
}

static vkmm_tid grid_op(vkmm_graph *g, bool merge, vkmm_tid x, uint32_t gh, uint32_t gw, uint32_t k, const char *name)
{
    const vkmm_gtensor *tx = vkmm_graph_get(g, x);
    if (!tx)
        return 0;
    uint32_t ch = tx->ne[0];
    if (!k || (uint64_t)gh * gw * ch != vkmm_g_elements(g, x) || (!merge && (gh % k || gw % k)) || gh < k || gw < k) {
        vkmm_graph_fail(g, VKMM_ERR_INTERNAL, "%s: a %ux%u grid of %u does not fit %s or the window %u", name, gh, gw,
                        ch, tx->name, k);
        return 0;
    }
    uint32_t oh = gh / k, ow = gw / k;
    vkmm_tid out = vkmm_graph_tensor(g, VKMM_F32, merge ? ch * k * k : ch, oh * ow, 1, name);
    vkmm_node *nd = vkmm_graph_add(g, merge ? "patch_merge" : "avg_pool", name, merge ? rec_merge : rec_pool);
    if (!nd || !out)
        return 0;
    grid_node p = {gh, gw, ch, k};
    memcpy(nd->params, &p, sizeof p);
    nd->in[0] = x;
    nd->out[0] = out;
    return out;
}

vkmm_tid vkmm_g_avg_pool(vkmm_graph *g, vkmm_tid x, uint32_t grid_h, uint32_t grid_w, uint32_t k, const char *name)
{
    return grid_op(g, false, x, grid_h, grid_w, k, name);
}

vkmm_tid vkmm_g_patch_merge(vkmm_graph *g, vkmm_tid x, uint32_t grid_h, uint32_t grid_w, uint32_t s, const char *name)
{
    return grid_op(g, true, x, grid_h, grid_w, s, name);
}
