/* runtime/graph/nodes.h — graph builders, one per op: each appends a node and returns its output tensor
 * (pass out = 0 for a new intermediate, or an existing tensor to write into it, e.g. in place).
 * After a building error they return 0 and the graph reports the error at planning. */
#ifndef VKMM_GRAPH_NODES_H
#define VKMM_GRAPH_NODES_H

#include "runtime/graph/graph.h"
#include "runtime/ops/matmul.h"

/* ---- elementwise (nodes_elementwise.c) ---- */
/* out = a + b; b may hold fewer elements than a, and then repeats (row broadcast). */
vkmm_tid vkmm_g_add(vkmm_graph *g, vkmm_tid a, vkmm_tid b, vkmm_tid out, const char *name);
vkmm_tid vkmm_g_mul(vkmm_graph *g, vkmm_tid a, vkmm_tid b, vkmm_tid out, const char *name);
vkmm_tid vkmm_g_scale(vkmm_graph *g, vkmm_tid a, float s, vkmm_tid out, const char *name);
vkmm_tid vkmm_g_convert(vkmm_graph *g, vkmm_tid a, vkmm_dtype to, vkmm_tid out, const char *name);

/* ---- matrices (nodes_matmul.c) ---- */
/* x [n][w->k] f32 -> [n][w->rows] f32; w must outlive the graph. */
vkmm_tid vkmm_g_matmul(vkmm_graph *g, const vkmm_weight *w, vkmm_tid x, vkmm_tid out, const char *name);
/* image [channels][h][w] f32 -> [tokens][w->rows]; bias may be 0. */
vkmm_tid vkmm_g_patch_embed(vkmm_graph *g, const vkmm_weight *w, vkmm_tid bias, vkmm_tid image, uint32_t channels,
                            uint32_t height, uint32_t width, uint32_t patch, const char *name);

/* ---- helpers for builders ---- */
uint64_t vkmm_g_elements(const vkmm_graph *g, vkmm_tid t);
/* out if given (checking it can hold `bytes`), else a new intermediate of that shape. */
vkmm_tid vkmm_g_output(vkmm_graph *g, vkmm_tid out, vkmm_dtype type, uint32_t ne0, uint32_t ne1, uint32_t ne2,
                       const char *name);

#endif
