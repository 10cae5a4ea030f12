/* runtime/graph/graph.h — a small tensor graph: nodes are op calls, edges are tensors. Models build one per
 * forward shape; planning places every intermediate tensor in one arena by liveness (tensors whose lives do
 * not overlap share bytes); recording turns the nodes into dispatches (the gpu layer adds the barriers).
 * A recorded decode graph is replayed token after token. */
#ifndef VKMM_GRAPH_H
#define VKMM_GRAPH_H

#include "ops.h"

typedef uint32_t vkmm_tid; /* tensor id within one graph; 0 is "none" */

typedef enum vkmm_tensor_kind {
    VKMM_TENSOR_INTERMEDIATE, /* placed in the arena by vkmm_graph_plan */
    VKMM_TENSOR_EXTERNAL,     /* lives in a buffer the caller owns (weights, KV cache, inputs, outputs) */
    VKMM_TENSOR_VIEW,         /* a byte window of another tensor */
} vkmm_tensor_kind;

typedef struct vkmm_gtensor {
    vkmm_tensor_kind kind;
    vkmm_dtype type;
    uint32_t ne[4];      /* ne[0] innermost, as in GGUF */
    uint64_t bytes;
    vkmm_range ext;      /* EXTERNAL: where it is */
    vkmm_tid parent;     /* VIEW: of what */
    uint64_t view_offset;
    uint64_t offset;     /* INTERMEDIATE: arena offset, after planning */
    int32_t first, last; /* node indices of its first definition and last use */
    bool keep;           /* must survive to the end of the graph */
    char name[72];
} vkmm_gtensor;

typedef struct vkmm_graph_exec vkmm_graph_exec;
typedef struct vkmm_node vkmm_node;

/* How a node records itself: reads its params, resolves its tensors, calls one op. */
typedef vkmm_status (*vkmm_node_record_fn)(vkmm_graph_exec *ex, const vkmm_node *n, vkmm_error *err);

#define VKMM_NODE_MAX_IO 8
#define VKMM_NODE_PARAM_BYTES 256

struct vkmm_node {
    vkmm_node_record_fn record;
    const char *op;                      /* "rmsnorm", "matmul", ... */
    vkmm_tid in[VKMM_NODE_MAX_IO];       /* tensors read (0 = unused slot) */
    vkmm_tid out[VKMM_NODE_MAX_IO];      /* tensors written */
    const void *ref;                     /* pointer parameter (a vkmm_weight, say), owned by the caller */
    uint8_t params[VKMM_NODE_PARAM_BYTES];
    char label[64];                      /* "blk.3.ffn_up": dispatch labels are "<label>:<kernel>" */
};

typedef struct vkmm_graph {
    vkmm_gtensor *t;  /* t[0] unused */
    uint32_t n_t, cap_t;
    vkmm_node *nodes;
    uint32_t n_nodes, cap_nodes;
    uint64_t arena_bytes; /* after planning */
    bool planned;
    vkmm_status status;   /* the first building error, reported by plan/record */
    vkmm_error error;
    char prefix[48];      /* label prefix for the nodes being added ("blk.3") */
    const vkmm_ops *ops;  /* lets builders ask how much scratch an op will need on this device */
} vkmm_graph;

/* While recording: what nodes see. */
struct vkmm_graph_exec {
    vkmm_graph *g;
    vkmm_ops *ops;
    vkmm_cmd *cmd;
    vkmm_range arena;
};

void vkmm_graph_init(vkmm_graph *g, const vkmm_ops *ops);
void vkmm_graph_free(vkmm_graph *g);
void vkmm_graph_set_prefix(vkmm_graph *g, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Tensors. Shapes are given innermost first; unused dims are 1. */
vkmm_tid vkmm_graph_tensor(vkmm_graph *g, vkmm_dtype type, uint32_t ne0, uint32_t ne1, uint32_t ne2, const char *name);
vkmm_tid vkmm_graph_external(vkmm_graph *g, vkmm_range r, vkmm_dtype type, uint32_t ne0, uint32_t ne1, uint32_t ne2,
                             const char *name);
/* A window of t starting at byte `offset`, with its own shape. */
vkmm_tid vkmm_graph_view(vkmm_graph *g, vkmm_tid t, uint64_t offset, vkmm_dtype type, uint32_t ne0, uint32_t ne1,
                         uint32_t ne2, const char *name);
/* Marks a tensor as a result: its bytes stay valid until the graph ends. */
void vkmm_graph_keep(vkmm_graph *g, vkmm_tid t);
/* The pointer is into the tensor table: valid until the next tensor is added (copy what is needed first). */
const vkmm_gtensor *vkmm_graph_get(const vkmm_graph *g, vkmm_tid t);

/* Appends a node (builders in graph/ops_*.c use this); its label is "<prefix>.<name>" (or the prefix, or op).
 * Returns NULL after an earlier error. */
vkmm_node *vkmm_graph_add(vkmm_graph *g, const char *op, const char *name, vkmm_node_record_fn record);
/* Records a building error (the first one wins); later adds become no-ops. */
void vkmm_graph_fail(vkmm_graph *g, vkmm_status code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Liveness and placement of intermediates. */
vkmm_status vkmm_graph_plan(vkmm_graph *g, vkmm_error *err);
/* Records every node into cmd; arena must hold g->arena_bytes. */
vkmm_status vkmm_graph_record(vkmm_graph *g, vkmm_ops *ops, vkmm_cmd *cmd, vkmm_range arena, vkmm_error *err);

/* For node record functions: the range a tensor occupies. */
vkmm_range vkmm_graph_range(const vkmm_graph_exec *ex, vkmm_tid t);

/* Sum of intermediate bytes if nothing were shared (to report what planning saved). */
uint64_t vkmm_graph_unshared_bytes(const vkmm_graph *g);

#endif
