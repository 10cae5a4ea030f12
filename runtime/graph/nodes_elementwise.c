/* runtime/graph/nodes_elementwise.c — graph nodes for add, sub, mul, scale, clamp and conversion. */
#include <string.h>

#include "nodes.h"
#include "elementwise.h"

uint64_t vkmm_g_elements(const vkmm_graph *g, vkmm_tid t)
{
    const vkmm_gtensor *x = vkmm_graph_get(g, t);
    return x ? (uint64_t)x->ne[0] * x->ne[1] * x->ne[2] * x->ne[3] : 0;
}

vkmm_tid vkmm_g_output(vkmm_graph *g, vkmm_tid out, vkmm_dtype type, uint32_t ne0, uint32_t ne1, uint32_t ne2,
                       const char *name)
{
    if (!out)
        return vkmm_graph_tensor(g, type, ne0, ne1, ne2, name);
    const vkmm_gtensor *o = vkmm_graph_get(g, out);
    if (!o)
        return 0;
    if (o->type != type || (uint64_t)o->ne[0] * o->ne[1] * o->ne[2] < (uint64_t)ne0 * ne1 * ne2) {
        vkmm_graph_fail(g, VKMM_ERR_INTERNAL, "%s: output %s cannot hold %u x %u x %u", name, o->name, ne0, ne1, ne2);
        return 0;
    }
    return out;
}

typedef enum binary_op { OP_ADD, OP_SUB, OP_MUL } binary_op;

typedef struct binary_params {
    binary_op op;
} binary_params;

static vkmm_status rec_binary(vkmm_graph_exec *ex, const vkmm_node *n, vkmm_error *err)
{
    static vkmm_status (*const fn[])(vkmm_ops *, vkmm_cmd *, vkmm_range, vkmm_range, vkmm_range, uint32_t, uint32_t,
                                     vkmm_error *) = {vkmm_op_add, vkmm_op_sub, vkmm_op_mul};
    const binary_params *p = (const void *)n->params;
    uint32_t na = (uint32_t)vkmm_g_elements(ex->g, n->in[0]), nb = (uint32_t)vkmm_g_elements(ex->g, n->in[1]);
    vkmm_range a = vkmm_graph_range(ex, n->in[0]), b = vkmm_graph_range(ex, n->in[1]),
               o = vkmm_graph_range(ex, n->out[0]);
    return fn[p->op](ex->ops, ex->cmd, a, b, o, na, nb, err);
}

static vkmm_tid binary(vkmm_graph *g, binary_op op, vkmm_tid a, vkmm_tid b, vkmm_tid out, const char *name)
{
    static const char *const sym[] = {"+", "-", "*"}, *const opname[] = {"add", "sub", "mul"};
    const vkmm_gtensor *ta = vkmm_graph_get(g, a), *tb = vkmm_graph_get(g, b);
    if (!ta || !tb)
        return 0;
    uint64_t na = vkmm_g_elements(g, a), nb = vkmm_g_elements(g, b);
    if (ta->type != VKMM_F32 || tb->type != VKMM_F32 || !nb || na % nb) {
        vkmm_graph_fail(g, VKMM_ERR_INTERNAL, "%s: %s (%llu) %s %s (%llu) do not fit", name, ta->name,
                        (unsigned long long)na, sym[op], tb->name, (unsigned long long)nb);
        return 0;
    }
    out = vkmm_g_output(g, out, VKMM_F32, ta->ne[0], ta->ne[1], ta->ne[2], name);
    vkmm_node *n = vkmm_graph_add(g, opname[op], name, rec_binary);
    if (!n || !out)
        return 0;
    n->in[0] = a;
    n->in[1] = b;
    n->out[0] = out;
    ((binary_params *)n->params)->op = op;
    return out;
}

vkmm_tid vkmm_g_add(vkmm_graph *g, vkmm_tid a, vkmm_tid b, vkmm_tid out, const char *name)
{
    return binary(g, OP_ADD, a, b, out, name);
}

vkmm_tid vkmm_g_sub(vkmm_graph *g, vkmm_tid a, vkmm_tid b, vkmm_tid out, const char *name)
{
    return binary(g, OP_SUB, a, b, out, name);
}

vkmm_tid vkmm_g_mul(vkmm_graph *g, vkmm_tid a, vkmm_tid b, vkmm_tid out, const char *name)
{
    return binary(g, OP_MUL, a, b, out, name);
}

static vkmm_status rec_scale(vkmm_graph_exec *ex, const vkmm_node *n, vkmm_error *err)
{
    float s;
    memcpy(&s, n->params, sizeof s);
    return vkmm_op_scale(ex->ops, ex->cmd, vkmm_graph_range(ex, n->in[0]), vkmm_graph_range(ex, n->out[0]),
                         (uint32_t)vkmm_g_elements(ex->g, n->in[0]), s, err);
}

vkmm_tid vkmm_g_scale(vkmm_graph *g, vkmm_tid a, float s, vkmm_tid out, const char *name)
{
    const vkmm_gtensor *ta = vkmm_graph_get(g, a);
    if (!ta)
        return 0;
    out = vkmm_g_output(g, out, VKMM_F32, ta->ne[0], ta->ne[1], ta->ne[2], name);
    vkmm_node *n = vkmm_graph_add(g, "scale", name, rec_scale);
    if (!n || !out)
        return 0;
    n->in[0] = a;
    n->out[0] = out;
    memcpy(n->params, &s, sizeof s);
    return out;
}

typedef struct clamp_params {
    float lo, hi;
} clamp_params;

static vkmm_status rec_clamp(vkmm_graph_exec *ex, const vkmm_node *n, vkmm_error *err)
{
    const clamp_params *p = (const void *)n->params;
    return vkmm_op_clamp(ex->ops, ex->cmd, vkmm_graph_range(ex, n->in[0]), vkmm_graph_range(ex, n->out[0]),
                         (uint32_t)vkmm_g_elements(ex->g, n->in[0]), p->lo, p->hi, err);
}

vkmm_tid vkmm_g_clamp(vkmm_graph *g, vkmm_tid a, float lo, float hi, vkmm_tid out, const char *name)
{
    const vkmm_gtensor *ta = vkmm_graph_get(g, a);
    if (!ta)
        return 0;
    out = vkmm_g_output(g, out, VKMM_F32, ta->ne[0], ta->ne[1], ta->ne[2], name);
    vkmm_node *n = vkmm_graph_add(g, "clamp", name, rec_clamp);
    if (!n || !out)
        return 0;
    n->in[0] = a;
    n->out[0] = out;
    *(clamp_params *)n->params = (clamp_params){lo, hi};
    return out;
}

static vkmm_status rec_convert(vkmm_graph_exec *ex, const vkmm_node *n, vkmm_error *err)
{
    const vkmm_gtensor *a = vkmm_graph_get(ex->g, n->in[0]), *o = vkmm_graph_get(ex->g, n->out[0]);
    return vkmm_op_convert(ex->ops, ex->cmd, vkmm_graph_range(ex, n->in[0]), a->type, vkmm_graph_range(ex, n->out[0]),
                           o->type, (uint32_t)vkmm_g_elements(ex->g, n->in[0]), err);
}

vkmm_tid vkmm_g_convert(vkmm_graph *g, vkmm_tid a, vkmm_dtype to, vkmm_tid out, const char *name)
{
    const vkmm_gtensor *ta = vkmm_graph_get(g, a);
    if (!ta)
        return 0;
    out = vkmm_g_output(g, out, to, ta->ne[0], ta->ne[1], ta->ne[2], name);
    vkmm_node *n = vkmm_graph_add(g, "convert", name, rec_convert);
    if (!n || !out)
        return 0;
    n->in[0] = a;
    n->out[0] = out;
    return out;
}
