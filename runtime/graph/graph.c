/* runtime/graph/graph.c — graph construction, liveness-based placement of intermediates, and recording. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dtype_table.h"
#include "graph.h"

#define ARENA_ALIGN 256u

static bool grow(void **p, uint32_t *cap, uint32_t need, size_t elem)
{
    if (need <= *cap)
        return true;
    uint32_t c = *cap ? *cap * 2 : 64;
    while (c < need)
        c *= 2;
    void *q = realloc(*p, c * elem);
    if (!q)
        return false;
    memset((char *)q + *cap * elem, 0, (c - *cap) * elem);
    *p = q;
    *cap = c;
    return true;
}

void vkmm_graph_init(vkmm_graph *g, const vkmm_ops *ops)
{
    memset(g, 0, sizeof *g);
    g->ops = ops;
    g->n_t = 1; /* id 0 means "no tensor" */
}

void vkmm_graph_free(vkmm_graph *g)
{
    free(g->t);
    free(g->nodes);
    memset(g, 0, sizeof *g);
}

void vkmm_graph_set_prefix(vkmm_graph *g, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(g->prefix, sizeof g->prefix, fmt, ap);
    va_end(ap);
}

void vkmm_graph_fail(vkmm_graph *g, vkmm_status code, const char *fmt, ...)
{
    if (g->status)
        return;
    va_list ap;
    va_start(ap, fmt);
    vkmm_vfail(&g->error, code, fmt, ap);
    va_end(ap);
    g->status = code;
}

static vkmm_tid new_tensor(vkmm_graph *g, vkmm_tensor_kind kind, vkmm_dtype type, uint32_t ne0, uint32_t ne1,
                           uint32_t ne2, const char *name)
{
    if (g->status)
        return 0;
    if (g->cap_t == 0 && !grow((void **)&g->t, &g->cap_t, 1, sizeof *g->t)) {
        vkmm_graph_fail(g, VKMM_ERR_HOST_MEMORY, "out of host memory");
        return 0;
    }
    if (!grow((void **)&g->t, &g->cap_t, g->n_t + 1, sizeof *g->t)) {
        vkmm_graph_fail(g, VKMM_ERR_HOST_MEMORY, "out of host memory");
        return 0;
    }
    uint64_t row = vkmm_dtype_row_bytes(type, ne0);
    if (!row || !ne1 || !ne2) {
        vkmm_graph_fail(g, VKMM_ERR_INTERNAL, "tensor %s: bad shape %u x %u x %u", name ? name : "", ne0, ne1, ne2);
        return 0;
    }
    vkmm_gtensor *t = &g->t[g->n_t];
    memset(t, 0, sizeof *t);
    t->kind = kind;
    t->type = type;
    t->ne[0] = ne0;
    t->ne[1] = ne1;
    t->ne[2] = ne2;
    t->ne[3] = 1;
    t->bytes = row * ne1 * ne2;
    t->first = t->last = -1;
    if (g->prefix[0] && name)
        snprintf(t->name, sizeof t->name, "%.47s.%.23s", g->prefix, name);
    else
        snprintf(t->name, sizeof t->name, "%.71s", name ? name : "");
    return g->n_t++;
}

vkmm_tid vkmm_graph_tensor(vkmm_graph *g, vkmm_dtype type, uint32_t ne0, uint32_t ne1, uint32_t ne2, const char *name)
{
    return new_tensor(g, VKMM_TENSOR_INTERMEDIATE, type, ne0, ne1, ne2, name);
}

vkmm_tid vkmm_graph_external(vkmm_graph *g, vkmm_range r, vkmm_dtype type, uint32_t ne0, uint32_t ne1, uint32_t ne2,
                             const char *name)
{
    vkmm_tid id = new_tensor(g, VKMM_TENSOR_EXTERNAL, type, ne0, ne1, ne2, name);
    if (id && r.size < g->t[id].bytes) {
        vkmm_graph_fail(g, VKMM_ERR_INTERNAL, "external tensor %s: %llu bytes given, %llu needed", g->t[id].name,
                        (unsigned long long)r.size, (unsigned long long)g->t[id].bytes);
        return 0;
    }
    if (id)
        g->t[id].ext = r;
    return id;
}

vkmm_tid vkmm_graph_view(vkmm_graph *g, vkmm_tid t, uint64_t offset, vkmm_dtype type, uint32_t ne0, uint32_t ne1,
                         uint32_t ne2, const char *name)
{
    if (g->status || !t)
        return 0;
    vkmm_tid id = new_tensor(g, VKMM_TENSOR_VIEW, type, ne0, ne1, ne2, name);
    if (!id)
        return 0;
    if (offset + g->t[id].bytes > g->t[t].bytes) {
        vkmm_graph_fail(g, VKMM_ERR_INTERNAL, "view %s: bytes %llu..%llu outside %s (%llu bytes)", g->t[id].name,
                        (unsigned long long)offset, (unsigned long long)(offset + g->t[id].bytes), g->t[t].name,
                        (unsigned long long)g->t[t].bytes);
        return 0;
    }
    g->t[id].parent = t;
    g->t[id].view_offset = offset;
    return id;
}

void vkmm_graph_keep(vkmm_graph *g, vkmm_tid t)
{
    if (t && t < g->n_t)
        g->t[t].keep = true;
}

const vkmm_gtensor *vkmm_graph_get(const vkmm_graph *g, vkmm_tid t)
{
    return t && t < g->n_t ? &g->t[t] : NULL;
}

vkmm_node *vkmm_graph_add(vkmm_graph *g, const char *op, const char *name, vkmm_node_record_fn record)
{
    if (g->status)
        return NULL;
    if (!grow((void **)&g->nodes, &g->cap_nodes, g->n_nodes + 1, sizeof *g->nodes)) {
        vkmm_graph_fail(g, VKMM_ERR_HOST_MEMORY, "out of host memory");
        return NULL;
    }
    vkmm_node *n = &g->nodes[g->n_nodes++];
    memset(n, 0, sizeof *n);
    n->op = op;
    n->record = record;
    if (g->prefix[0] && name)
        snprintf(n->label, sizeof n->label, "%.40s.%.22s", g->prefix, name);
    else
        snprintf(n->label, sizeof n->label, "%.63s", name ? name : g->prefix);
    g->planned = false;
    return n;
}

/* The tensor that owns the bytes of t (itself unless t is a view). */
static vkmm_tid root_of(const vkmm_graph *g, vkmm_tid t, uint64_t *offset)
{
    uint64_t off = 0;
    while (g->t[t].kind == VKMM_TENSOR_VIEW) {
        off += g->t[t].view_offset;
        t = g->t[t].parent;
    }
    if (offset)
        *offset = off;
    return t;
}

static void touch(vkmm_graph *g, vkmm_tid t, int32_t i)
{
    vkmm_gtensor *r = &g->t[root_of(g, t, NULL)];
    if (r->first < 0 || i < r->first)
        r->first = i;
    if (i > r->last)
        r->last = i;
}

typedef struct hole { uint64_t off, size; } hole;

/* First-fit over a sorted hole list within an arena that grows at its end when nothing fits. */
typedef struct placer {
    hole *h;
    uint32_t n, cap;
    uint64_t top;
} placer;

static void place(placer *p, uint64_t size, uint64_t *off)
{
    for (uint32_t i = 0; i < p->n; i++)
        if (p->h[i].size >= size) {
            *off = p->h[i].off;
            p->h[i].off += size;
            p->h[i].size -= size;
            if (!p->h[i].size) {
                memmove(&p->h[i], &p->h[i + 1], (p->n - i - 1) * sizeof *p->h);
                p->n--;
            }
            return;
        }
    /* a hole that touches the top can be extended instead of wasted */
    if (p->n && p->h[p->n - 1].off + p->h[p->n - 1].size == p->top) {
        *off = p->h[p->n - 1].off;
        p->top = *off + size;
        p->n--;
        return;
    }
    *off = p->top;
    p->top += size;
}

static bool release(placer *p, uint64_t off, uint64_t size)
{
    uint32_t i = 0;
    while (i < p->n && p->h[i].off < off)
        i++;
    if (!grow((void **)&p->h, &p->cap, p->n + 1, sizeof *p->h))
        return false;
    memmove(&p->h[i + 1], &p->h[i], (p->n - i) * sizeof *p->h);
    p->h[i] = (hole){off, size};
    p->n++;
    /* coalesce with neighbours */
    if (i + 1 < p->n && p->h[i].off + p->h[i].size == p->h[i + 1].off) {
        p->h[i].size += p->h[i + 1].size;
        memmove(&p->h[i + 1], &p->h[i + 2], (p->n - i - 2) * sizeof *p->h);
        p->n--;
    }
    if (i > 0 && p->h[i - 1].off + p->h[i - 1].size == p->h[i].off) {
        p->h[i - 1].size += p->h[i].size;
        memmove(&p->h[i], &p->h[i + 1], (p->n - i - 1) * sizeof *p->h);
        p->n--;
    }
    return true;
}

vkmm_status vkmm_graph_plan(vkmm_graph *g, vkmm_error *err)
{
    if (g->status) {
        if (err)
            *err = g->error;
        return g->status;
    }
    for (uint32_t t = 1; t < g->n_t; t++)
        g->t[t].first = g->t[t].last = -1;
    for (uint32_t i = 0; i < g->n_nodes; i++)
        for (int j = 0; j < VKMM_NODE_MAX_IO; j++) {
            if (g->nodes[i].in[j])
                touch(g, g->nodes[i].in[j], (int32_t)i);
            if (g->nodes[i].out[j])
                touch(g, g->nodes[i].out[j], (int32_t)i);
        }
    for (uint32_t t = 1; t < g->n_t; t++)
        if (g->t[t].keep)
            g->t[root_of(g, t, NULL)].last = (int32_t)g->n_nodes;

    /* Walk the nodes in order: a tensor is placed at its first node and its bytes return to the pool
     * after its last one, so a node's outputs never share bytes with its own inputs. */
    placer p = {0};
    bool ok = true;
    for (uint32_t i = 0; i < g->n_nodes && ok; i++) {
        for (uint32_t t = 1; t < g->n_t; t++) {
            vkmm_gtensor *x = &g->t[t];
            if (x->kind == VKMM_TENSOR_INTERMEDIATE && x->first == (int32_t)i)
                place(&p, (x->bytes + ARENA_ALIGN - 1) / ARENA_ALIGN * ARENA_ALIGN, &x->offset);
        }
        for (uint32_t t = 1; t < g->n_t; t++) {
            vkmm_gtensor *x = &g->t[t];
            if (x->kind == VKMM_TENSOR_INTERMEDIATE && x->last == (int32_t)i)
                ok = release(&p, x->offset, (x->bytes + ARENA_ALIGN - 1) / ARENA_ALIGN * ARENA_ALIGN);
        }
    }
    free(p.h);
    if (!ok)
        return vkmm_fail(err, VKMM_ERR_HOST_MEMORY, "out of host memory");
    for (uint32_t t = 1; t < g->n_t; t++)
        if (g->t[t].kind == VKMM_TENSOR_INTERMEDIATE && g->t[t].first < 0)
            g->t[t].offset = 0; /* never used: harmless anywhere */
    g->arena_bytes = p.top ? p.top : ARENA_ALIGN;
    g->planned = true;
    return VKMM_OK;
}

uint64_t vkmm_graph_unshared_bytes(const vkmm_graph *g)
{
    uint64_t sum = 0;
    for (uint32_t t = 1; t < g->n_t; t++)
        if (g->t[t].kind == VKMM_TENSOR_INTERMEDIATE && g->t[t].first >= 0)
            sum += (g->t[t].bytes + ARENA_ALIGN - 1) / ARENA_ALIGN * ARENA_ALIGN;
    return sum;
}

vkmm_range vkmm_graph_range(const vkmm_graph_exec *ex, vkmm_tid t)
{
    const vkmm_graph *g = ex->g;
    uint64_t off;
    vkmm_tid r = root_of(g, t, &off);
    const vkmm_gtensor *root = &g->t[r];
    vkmm_range base = root->kind == VKMM_TENSOR_EXTERNAL ? root->ext : vkmm_range_sub(ex->arena, root->offset, root->bytes);
    return vkmm_range_sub(base, off, g->t[t].bytes);
}

vkmm_status vkmm_graph_record(vkmm_graph *g, vkmm_ops *ops, vkmm_cmd *cmd, vkmm_range arena, vkmm_error *err)
{
    vkmm_status s = VKMM_OK;
    if (!g->planned && (s = vkmm_graph_plan(g, err)))
        return s;
    if (arena.size < g->arena_bytes)
        return vkmm_fail(err, VKMM_ERR_INTERNAL, "graph arena of %llu bytes, %llu needed",
                         (unsigned long long)arena.size, (unsigned long long)g->arena_bytes);
    vkmm_graph_exec ex = {g, ops, cmd, arena};
    for (uint32_t i = 0; i < g->n_nodes && !s; i++) {
        const vkmm_node *n = &g->nodes[i];
        vkmm_ops_set_label(ops, "%s", n->label[0] ? n->label : n->op);
        s = n->record(&ex, n, err);
        if (s)
            vkmm_error_prefix(err, s, "node %u (%s %s)", i, n->label, n->op);
    }
    vkmm_ops_set_label(ops, "%s", "");
    return s;
}
