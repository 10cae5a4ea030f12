/* runtime/engine/kv_pool.h — the KV memory of a model: one pool of pages (VKMM_KV_PAGE tokens each) that all its
 * sessions share. Layers that keep every position draw from the "full" class; sliding-window layers keep a ring
 * of window + chunk slots per sequence and draw from the "ring" class. A sequence holds a slot (its page tables)
 * and pages; before a generation it reserves what it may grow to, so no step ever runs out of memory: a request
 * that cannot get its reservation evicts idle sessions' caches, waits for running generations, or, when it could
 * never fit, fails with VKMM_ERR_OUT_OF_MEMORY naming the sizes. */
#ifndef VKMM_ENGINE_KV_POOL_H
#define VKMM_ENGINE_KV_POOL_H

#include <pthread.h>

#include "engine.h"
#include "nodes.h"

#define VKMM_KV_PAGE VKMM_KV_PAGE_TOKENS
#define VKMM_KV_CHUNK 512 /* the largest prefill chunk; sets the ring length of sliding-window layers */
enum { VKMM_KV_FULL = 0, VKMM_KV_RING = 1 };

typedef struct vkmm_kv_class {
    uint32_t ring;          /* 0: full context; else ring slots (whole pages) */
    uint32_t n_pages;       /* pages in the pool */
    uint32_t *free;         /* free page numbers (a stack) */
    uint32_t n_free;
    uint32_t reserved;      /* pages promised to open generations beyond what they hold */
    uint32_t table_len;     /* entries of one sequence's table */
    uint32_t table_off;     /* where slot 0's table starts in `tables` (u32 entries) */
} vkmm_kv_class;

typedef struct vkmm_kv_pool {
    pthread_mutex_t lock;   /* the counts and the tables (the GPU reads tables only inside model->lock) */
    pthread_cond_t changed; /* pages released, a generation ended */
    vkmm_dtype type;
    vkmm_kv_class cls[2];
    uint32_t n_class;
    uint32_t max_tokens;    /* positions one sequence may reach: the full class's size */
    uint32_t n_layer;
    uint8_t *layer_class;   /* [n_layer] */
    vkmm_buffer **k, **v;   /* [n_layer]: [n_kv_head][class pages · PAGE][head_dim]; NULL for a layer that
                             * reads another's cache */
    uint32_t *owner;        /* [n_layer]: the layer whose buffers layer l reads (KV sharing), else l */
    vkmm_buffer *tables;    /* host-visible u32: per slot, its table of each class */
    uint32_t max_seqs;
    vkmm_session **slots;   /* [max_seqs]: the session holding each slot, or NULL */
    uint32_t open;          /* generations between reservation and end */
    uint64_t bytes;         /* device bytes of all K/V buffers */
    uint64_t clock;         /* use counter: the least recently used idle session is evicted first */
} vkmm_kv_pool;

/* A session's share of the pool. */
typedef struct vkmm_kv_share {
    int32_t slot;           /* -1: holds nothing */
    uint32_t held[2];       /* pages held per class */
    uint32_t reserved[2];   /* pages it may still take during its open generation */
    bool open;              /* a reservation is in force */
    bool evicted;           /* another request took its pages: the cache must be rebuilt before use */
    uint64_t last_use;
} vkmm_kv_share;

/* Creates the model's pool: kv_tokens positions of full-context layers (0: sized from the device memory left
 * beside the weights, at least min_tokens); sliding layers get rings of their window + chunk (the largest
 * prefill chunk) slots. */
vkmm_status vkmm_kv_pool_create(vkmm_model *m, uint32_t kv_tokens, uint32_t min_tokens, uint32_t chunk,
                                vkmm_kv_pool **out, vkmm_error *err);
void vkmm_kv_pool_destroy(vkmm_kv_pool *p);

/* Reserves what session s needs to reach `positions` (its cache grows to that many). Evicts idle sessions'
 * caches, then waits for open generations to end, when it must; VKMM_ERR_OUT_OF_MEMORY when it can never fit
 * or the wait runs past the deadline. Caller holds no lock. */
vkmm_status vkmm_kv_reserve(vkmm_session *s, uint32_t positions, vkmm_error *err);
/* Ends the reservation (pages taken stay with the session; the rest returns). */
void vkmm_kv_unreserve(vkmm_session *s);
/* Makes sure the pages for positions [from, to) are in s's tables (taking reserved pages). */
vkmm_status vkmm_kv_grow(vkmm_session *s, uint32_t from, uint32_t to, vkmm_error *err);
/* Gives back everything s holds (its cache is gone: the caller empties s->done). */
void vkmm_kv_release(vkmm_session *s);
/* Whether another request took s's pages since it last generated (then s must evaluate its items again); clears
 * the mark. */
bool vkmm_kv_take_evicted(vkmm_session *s);
/* The layer's cache as the graph sees it, for session s (its page tables). */
vkmm_layer_kv vkmm_kv_layer(const vkmm_kv_pool *p, uint32_t layer, int32_t slot);
/* Offset (u32 entries) of slot's table of class c in p->tables. */
uint32_t vkmm_kv_table_offset(const vkmm_kv_pool *p, uint32_t c, int32_t slot);

/* Pages of each class in use and in the pool (for stats). */
void vkmm_kv_usage(vkmm_kv_pool *p, uint32_t used[2], uint32_t total[2]);

#endif
