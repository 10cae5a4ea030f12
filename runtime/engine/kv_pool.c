/* runtime/engine/kv_pool.c — the model's pool of KV pages: creation sized from the device memory, slots and page
 * tables per sequence, reservations (with eviction of idle caches and waiting), growth page by page, release. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "kv_pool.h"
#include "session.h"
#include "attention.h"

#define MAX_SEQS 64
#define WAIT_SECONDS 300 /* a reservation waits at most this long for other generations to end */

static uint32_t pages_for(uint32_t tokens)
{
    return (tokens + VKMM_KV_PAGE - 1) / VKMM_KV_PAGE;
}

/* Pages of class c a sequence of `positions` positions needs. */
static uint32_t class_pages(const vkmm_kv_class *c, uint32_t positions)
{
    uint32_t n = pages_for(positions);
    return c->ring && n > c->ring / VKMM_KV_PAGE ? c->ring / VKMM_KV_PAGE : n;
}

/* K and V bytes one position takes in layer l; 0 for a layer that reads another's cache (KV sharing) */
static uint64_t layer_bytes_per_token(const vkmm_text_hparams *hp, uint32_t l, vkmm_dtype type)
{
    if (vkmm_layer_kv_owner(hp, l) != l)
        return 0;
    vkmm_kv_layout lay = {type, vkmm_layer_n_kv(hp, l), vkmm_layer_head_dim(hp, l), 1, 0, 0};
    return 2 * vkmm_kv_cache_bytes(&lay);
}

vkmm_status vkmm_kv_pool_create(vkmm_model *m, uint32_t kv_tokens, uint32_t min_tokens, uint32_t chunk,
                                vkmm_kv_pool **out, vkmm_error *err)
{
    *out = NULL;
    const vkmm_text_hparams *hp = &m->text->hp;
    vkmm_kv_pool *p = calloc(1, sizeof *p);
    if (!p || !(p->layer_class = calloc(hp->n_layer, 1)) || !(p->owner = calloc(hp->n_layer, sizeof *p->owner)) ||
        !(p->k = calloc(hp->n_layer, sizeof *p->k)) ||
        !(p->v = calloc(hp->n_layer, sizeof *p->v)) || !(p->slots = calloc(MAX_SEQS, sizeof *p->slots))) {
        vkmm_kv_pool_destroy(p);
        return vkmm_fail(err, VKMM_ERR_HOST_MEMORY, "out of host memory");
    }
    pthread_mutex_init(&p->lock, NULL);
    pthread_cond_init(&p->changed, NULL);
    p->n_layer = hp->n_layer;
    p->type = VKMM_F16;
    p->max_seqs = MAX_SEQS;
    /* classes: full-context layers, and one ring length for the sliding-window layers */
    uint32_t window = 0;
    uint64_t bpt[2] = {0, 0};
    for (uint32_t l = 0; l < hp->n_layer; l++) {
        bool ring = hp->window[l] > 0;
        window = ring && hp->window[l] > window ? hp->window[l] : window;
        p->layer_class[l] = ring ? VKMM_KV_RING : VKMM_KV_FULL;
        bpt[p->layer_class[l]] += layer_bytes_per_token(hp, l, p->type);
    }
    uint32_t ring = window ? pages_for(window + (chunk > VKMM_KV_CHUNK ? chunk : VKMM_KV_CHUNK)) * VKMM_KV_PAGE : 0;
    /* the size: as asked, or what half the memory left beside the weights holds (at most 16384 positions) */
    const vkmm_device_info *d = vkmm_gpu_info(m->gpu);
    uint64_t budget = vkmm_gpu_memory_budget(m->gpu) ? vkmm_gpu_memory_budget(m->gpu) : d->device_local_bytes;
    uint64_t used = vkmm_gpu_get_stats(m->gpu).device_used, avail = budget > used ? budget - used : 0;
    uint64_t per_token = bpt[0] + bpt[1]; /* a ring is never larger than the full class */
    uint32_t T = kv_tokens;
    if (!T) {
        T = min_tokens > 16384 ? min_tokens : 16384;
        uint64_t fits = per_token ? avail / 2 / per_token : T;
        if (T > fits)
            T = fits > min_tokens ? (uint32_t)fits : min_tokens;
    }
    T = pages_for(T ? T : 1) * VKMM_KV_PAGE;
    p->max_tokens = T;
    p->cls[VKMM_KV_FULL] = (vkmm_kv_class){.ring = 0, .n_pages = T / VKMM_KV_PAGE, .table_len = T / VKMM_KV_PAGE};
    p->n_class = 1;
    if (ring) {
        /* rings of 8 long sequences (shorter ones take fewer pages); never more than the full class */
        uint32_t rt = ring < T ? 8 * ring : T;
        rt = rt < T ? rt : T;
        p->cls[VKMM_KV_RING] = (vkmm_kv_class){.ring = ring, .n_pages = rt / VKMM_KV_PAGE, .table_len = ring / VKMM_KV_PAGE};
        p->n_class = 2;
    }
    uint64_t bytes = bpt[0] * (uint64_t)p->cls[0].n_pages * VKMM_KV_PAGE +
                     bpt[1] * (uint64_t)p->cls[1].n_pages * VKMM_KV_PAGE;
    if (bytes > avail) {
        vkmm_kv_pool_destroy(p);
        return vkmm_fail(err, VKMM_ERR_OUT_OF_MEMORY,
                         "the KV cache for %u positions needs %.1f MiB, %.1f MiB of %s are left beside the weights",
                         T, bytes / 1048576.0, avail / 1048576.0,
                         vkmm_gpu_memory_budget(m->gpu) ? "the memory budget (VKMM_MEMORY_BUDGET)" : d->name);
    }
    uint32_t entries = 0;
    for (uint32_t c = 0; c < p->n_class; c++) {
        vkmm_kv_class *k = &p->cls[c];
        k->table_off = entries;
        entries += k->table_len * MAX_SEQS;
        if (!(k->free = malloc(sizeof *k->free * (k->n_pages ? k->n_pages : 1)))) {
            vkmm_kv_pool_destroy(p);
            return vkmm_fail(err, VKMM_ERR_HOST_MEMORY, "out of host memory");
        }
        for (uint32_t i = 0; i < k->n_pages; i++) /* popped from the end: page 0 first */
            k->free[i] = k->n_pages - 1 - i;
        k->n_free = k->n_pages;
    }
    vkmm_status st = vkmm_buffer_create(m->gpu, 4ull * entries, VKMM_MEM_HOST, "kv-page-tables", &p->tables, err);
    if (!st)
        memset(vkmm_buffer_map(p->tables), 0, 4ull * entries);
    for (uint32_t l = 0; l < hp->n_layer && !st; l++) {
        p->owner[l] = vkmm_layer_kv_owner(hp, l);
        if (p->owner[l] != l)
            continue; /* its owner's buffers serve it (vkmm_kv_layer) */
        const vkmm_kv_class *c = &p->cls[p->layer_class[l]];
        vkmm_kv_layout lay = {p->type, vkmm_layer_n_kv(hp, l), vkmm_layer_head_dim(hp, l), c->n_pages * VKMM_KV_PAGE,
                              c->ring, VKMM_KV_PAGE};
        uint64_t lb = vkmm_kv_cache_bytes(&lay);
        char name[32];
        snprintf(name, sizeof name, "k_cache.%u", l);
        st = vkmm_buffer_create(m->gpu, lb, VKMM_MEM_DEVICE, name, &p->k[l], err);
        name[0] = 'v';
        if (!st)
            st = vkmm_buffer_create(m->gpu, lb, VKMM_MEM_DEVICE, name, &p->v[l], err);
        p->bytes += 2 * lb;
    }
    if (st) {
        vkmm_kv_pool_destroy(p);
        return vkmm_error_prefix(err, st, "allocating the KV cache for %u positions", T);
    }
    vkmm_debug("KV pool: %u positions (%u pages of %d), ring %u slots (%u pages), %.1f MiB", T, p->cls[0].n_pages,
               VKMM_KV_PAGE, p->cls[1].ring, p->cls[1].n_pages, p->bytes / 1048576.0);
    *out = p;
    return VKMM_OK;
}

void vkmm_kv_pool_destroy(vkmm_kv_pool *p)
{
    if (!p)
        return;
    for (uint32_t l = 0; p->k && p->v && l < p->n_layer; l++) {
        vkmm_buffer_destroy(p->k[l]);
        vkmm_buffer_destroy(p->v[l]);
    }
    vkmm_buffer_destroy(p->tables);
    for (uint32_t c = 0; c < 2; c++)
        free(p->cls[c].free);
    if (p->layer_class) {
        pthread_mutex_destroy(&p->lock);
        pthread_cond_destroy(&p->changed);
    }
    free(p->layer_class);
    free(p->owner);
    free(p->k);
    free(p->v);
    free(p->slots);
    free(p);
}

uint32_t vkmm_kv_table_offset(const vkmm_kv_pool *p, uint32_t c, int32_t slot)
{
    return p->cls[c].table_off + (uint32_t)slot * p->cls[c].table_len;
}

vkmm_layer_kv vkmm_kv_layer(const vkmm_kv_pool *p, uint32_t layer, int32_t slot)
{
    uint32_t c = p->layer_class[layer], o = p->owner[layer];
    return (vkmm_layer_kv){
        .k = vkmm_range_whole(p->k[o]),
        .v = vkmm_range_whole(p->v[o]),
        .capacity = p->cls[c].n_pages * VKMM_KV_PAGE,
        .ring = p->cls[c].ring,
        .page_size = VKMM_KV_PAGE,
        .pages = vkmm_range_whole(p->tables),
        .pt_off = slot >= 0 ? vkmm_kv_table_offset(p, c, slot) : 0,
        .cls = c,
    };
}

/* Frees everything s holds; pool lock held. */
static void release_locked(vkmm_kv_pool *p, vkmm_session *s)
{
    vkmm_kv_share *sh = &s->kv;
    if (sh->slot < 0)
        return;
    const uint32_t *tables = vkmm_buffer_map(p->tables);
    for (uint32_t c = 0; c < p->n_class; c++) {
        vkmm_kv_class *k = &p->cls[c];
        const uint32_t *t = tables + vkmm_kv_table_offset(p, c, sh->slot);
        for (uint32_t i = 0; i < sh->held[c]; i++)
            k->free[k->n_free++] = t[i];
        sh->held[c] = 0;
    }
    p->slots[sh->slot] = NULL;
    sh->slot = -1;
    pthread_cond_broadcast(&p->changed);
}

bool vkmm_kv_take_evicted(vkmm_session *s)
{
    vkmm_kv_pool *p = s->m->kv;
    if (!p)
        return false;
    pthread_mutex_lock(&p->lock);
    bool e = s->kv.evicted;
    s->kv.evicted = false;
    pthread_mutex_unlock(&p->lock);
    return e;
}

void vkmm_kv_release(vkmm_session *s)
{
    vkmm_kv_pool *p = s->m->kv;
    if (!p)
        return;
    pthread_mutex_lock(&p->lock);
    release_locked(p, s);
    s->kv.evicted = false;
    pthread_mutex_unlock(&p->lock);
}

/* The least recently used session that holds pages and is not generating, other than s; NULL if none. */
static vkmm_session *idle_victim(vkmm_kv_pool *p, const vkmm_session *s)
{
    vkmm_session *v = NULL;
    for (uint32_t i = 0; i < p->max_seqs; i++) {
        vkmm_session *o = p->slots[i];
        if (o && o != s && !o->kv.open && (!v || o->kv.last_use < v->kv.last_use))
            v = o;
    }
    return v;
}

static int32_t free_slot(const vkmm_kv_pool *p)
{
    for (uint32_t i = 0; i < p->max_seqs; i++)
        if (!p->slots[i])
            return (int32_t)i;
    return -1;
}

vkmm_status vkmm_kv_reserve(vkmm_session *s, uint32_t positions, vkmm_error *err)
{
    vkmm_kv_pool *p = s->m->kv;
    vkmm_kv_share *sh = &s->kv;
    uint32_t need_total[2] = {0, 0};
    for (uint32_t c = 0; c < p->n_class; c++)
        need_total[c] = class_pages(&p->cls[c], positions);
    for (uint32_t c = 0; c < p->n_class; c++)
        if (need_total[c] > p->cls[c].n_pages)
            return vkmm_fail(err, VKMM_ERR_OUT_OF_MEMORY,
                             "this request needs %u positions of KV cache (%u pages of %d%s), the model's pool holds "
                             "%u (%.1f MiB in all); it can never fit: shorten it or load the model with more KV "
                             "memory", positions, need_total[c], VKMM_KV_PAGE, c ? " in the sliding-window ring" : "",
                             p->cls[c].n_pages * VKMM_KV_PAGE, p->bytes / 1048576.0);
    struct timespec deadline;
    clock_gettime(CLOCK_REALTIME, &deadline);
    deadline.tv_sec += WAIT_SECONDS;
    pthread_mutex_lock(&p->lock);
    vkmm_status st = VKMM_OK;
    for (;;) {
        bool ok = sh->slot >= 0 || free_slot(p) >= 0;
        uint32_t need[2] = {0, 0};
        for (uint32_t c = 0; c < p->n_class; c++) {
            need[c] = need_total[c] > sh->held[c] ? need_total[c] - sh->held[c] : 0;
            uint32_t avail = p->cls[c].n_free > p->cls[c].reserved ? p->cls[c].n_free - p->cls[c].reserved : 0;
            ok &= need[c] <= avail;
        }
        if (ok) {
            if (sh->slot < 0) {
                sh->slot = free_slot(p);
                p->slots[sh->slot] = s;
            }
            for (uint32_t c = 0; c < p->n_class; c++) {
                p->cls[c].reserved += need[c];
                sh->reserved[c] = need[c];
            }
            sh->open = true;
            sh->last_use = ++p->clock;
            p->open++;
            break;
        }
        vkmm_session *victim = idle_victim(p, s);
        if (victim) {
            /* its cache goes; it rebuilds it (prefills again) when it next generates */
            release_locked(p, victim);
            victim->kv.evicted = true;
            continue;
        }
        if (p->open == 0) {
            st = vkmm_fail(err, VKMM_ERR_OUT_OF_MEMORY, "no KV memory for %u positions: every page is held by "
                           "sessions that are generating or by this one", positions);
            break;
        }
        if (pthread_cond_timedwait(&p->changed, &p->lock, &deadline) == ETIMEDOUT) {
            st = vkmm_fail(err, VKMM_ERR_OUT_OF_MEMORY, "waited %d s for KV memory for %u positions while other "
                           "generations held it", WAIT_SECONDS, positions);
            break;
        }
    }
    pthread_mutex_unlock(&p->lock);
    return st;
}

void vkmm_kv_unreserve(vkmm_session *s)
{
    vkmm_kv_pool *p = s->m->kv;
    vkmm_kv_share *sh = &s->kv;
    if (!p || !sh->open)
        return;
    pthread_mutex_lock(&p->lock);
    for (uint32_t c = 0; c < p->n_class; c++) {
        p->cls[c].reserved -= sh->reserved[c];
        sh->reserved[c] = 0;
    }
    sh->open = false;
    sh->last_use = ++p->clock;
    p->open--;
    pthread_cond_broadcast(&p->changed);
    pthread_mutex_unlock(&p->lock);
}

vkmm_status vkmm_kv_grow(vkmm_session *s, uint32_t from, uint32_t to, vkmm_error *err)
{
    (void)from;
    vkmm_kv_pool *p = s->m->kv;
    vkmm_kv_share *sh = &s->kv;
    if (sh->slot < 0)
        return vkmm_fail(err, VKMM_ERR_INTERNAL, "KV pages asked for outside a generation");
    vkmm_status st = VKMM_OK;
    pthread_mutex_lock(&p->lock);
    uint32_t *tables = vkmm_buffer_map(p->tables);
    for (uint32_t c = 0; c < p->n_class && !st; c++) {
        vkmm_kv_class *k = &p->cls[c];
        uint32_t want = class_pages(k, to);
        uint32_t *t = tables + vkmm_kv_table_offset(p, c, sh->slot);
        while (sh->held[c] < want) {
            /* a reservation promised these pages; without one (a caller outside a generation) take free ones */
            if (sh->reserved[c]) {
                sh->reserved[c]--;
                k->reserved--;
            } else if (k->n_free <= k->reserved) {
                st = vkmm_fail(err, VKMM_ERR_OUT_OF_MEMORY, "the KV pool has no page left for position %u", to - 1);
                break;
            }
            t[sh->held[c]++] = k->free[--k->n_free];
        }
    }
    pthread_mutex_unlock(&p->lock);
    return st;
}

void vkmm_kv_usage(vkmm_kv_pool *p, uint32_t used[2], uint32_t total[2])
{
    used[0] = used[1] = total[0] = total[1] = 0;
    if (!p)
        return;
    pthread_mutex_lock(&p->lock);
    for (uint32_t c = 0; c < p->n_class; c++) {
        total[c] = p->cls[c].n_pages;
        used[c] = p->cls[c].n_pages - p->cls[c].n_free;
    }
    pthread_mutex_unlock(&p->lock);
}
