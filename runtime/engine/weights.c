/* runtime/engine/weights.c — uploads bound tensors: matrices keep their GGUF block layout (optionally transposed
 * on the way, for raw parameters stored as x·P), vectors become f32. Each tensor uploads once. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "f16.h"
#include "dtype_table.h"
#include "weights.h"

typedef struct entry {
    char name[VKMM_GGUF_MAX_NAME];
    bool transposed;
    bool is_vector;
    vkmm_buffer *buf;
    vkmm_weight *w;      /* matrices */
    vkmm_range r;        /* vectors */
} entry;

struct vkmm_weight_store {
    vkmm_weight_store_params p;
    vkmm_weight_source src;
    entry *e;
    size_t n, cap;
    uint64_t done, total, bytes;
};

uint64_t vkmm_gguf_tensor_bytes(const vkmm_gguf *g)
{
    uint64_t sum = 0;
    for (uint64_t i = 0; i < vkmm_gguf_tensor_count(g); i++)
        sum += vkmm_gguf_tensor_at(g, i)->n_bytes;
    return sum;
}

static entry *find(vkmm_weight_store *ws, const char *name, bool transposed, bool is_vector)
{
    for (size_t i = 0; i < ws->n; i++)
        if (!strcmp(ws->e[i].name, name) && ws->e[i].transposed == transposed && ws->e[i].is_vector == is_vector)
            return &ws->e[i];
    return NULL;
}

static entry *add(vkmm_weight_store *ws)
{
    if (ws->n == ws->cap) {
        size_t cap = ws->cap ? ws->cap * 2 : 256;
        entry *e = realloc(ws->e, cap * sizeof *e);
        if (!e)
            return NULL;
        ws->e = e;
        ws->cap = cap;
    }
    entry *e = &ws->e[ws->n++];
    memset(e, 0, sizeof *e);
    return e;
}

static vkmm_status upload(vkmm_weight_store *ws, vkmm_buffer *buf, const void *data, uint64_t size, vkmm_error *err)
{
    /* in slices, so progress moves smoothly through big tensors */
    const uint64_t slice = 64ull << 20;
    for (uint64_t off = 0; off < size; off += slice) {
        uint64_t n = size - off < slice ? size - off : slice;
        vkmm_status s = vkmm_buffer_upload(ws->p.gpu, buf, off, (const uint8_t *)data + off, n, err);
        if (s)
            return s;
        ws->done += n;
        if (ws->p.progress)
            ws->p.progress(ws->p.stage, ws->done, ws->total, ws->p.progress_user);
    }
    return VKMM_OK;
}

static const vkmm_gguf_tensor *lookup(vkmm_weight_store *ws, const char *name, bool required, vkmm_error *err,
                                      vkmm_status *s)
{
    *s = VKMM_OK;
    const vkmm_gguf_tensor *t = vkmm_gguf_tensor_by_name(ws->p.gguf, name);
    if (!t && required)
        *s = vkmm_fail(err, VKMM_ERR_FORMAT, "%s: tensor %s is missing", vkmm_gguf_path(ws->p.gguf), name);
    return t;
}

/* The tensor of a matrix not uploaded yet; NULL with *s OK when it was (*out set) or is missing and !required. */
static const vkmm_gguf_tensor *to_upload(vkmm_weight_store *ws, const char *name, bool transpose, bool required,
                                         const vkmm_weight **out, vkmm_status *s, vkmm_error *err)
{
    *out = NULL;
    *s = VKMM_OK;
    entry *e = find(ws, name, transpose, false);
    if (e) {
        *out = e->w;
        return NULL;
    }
    return lookup(ws, name, required, err, s);
}

/* Uploads tensor t as a weight of `rows` rows of k (pieces cut between groups of `group` rows), transposing a plain
 * type stored as x·P on the way. The shape was checked by the caller. */
static vkmm_status upload_matrix(vkmm_weight_store *ws, const vkmm_gguf_tensor *t, const char *name, uint32_t k,
                                 uint32_t rows, uint32_t group, bool transpose, const vkmm_weight **out,
                                 vkmm_error *err)
{
    const char *path = vkmm_gguf_path(ws->p.gguf);
    const vkmm_dtype_info *ti = vkmm_dtype_get(t->type);
    if (!vkmm_matmul_supports((vkmm_dtype)t->type) || (transpose && ti->block != 1))
        return vkmm_fail(err, VKMM_ERR_UNSUPPORTED, "%s: tensor %s is of type %s, which vkmm cannot multiply%s", path,
                         name, ti ? ti->name : "?", transpose ? " transposed" : "");
    entry *e;
    if (!(e = add(ws)) || !(e->w = calloc(1, sizeof *e->w))) {
        if (e)
            ws->n--;
        return vkmm_fail(err, VKMM_ERR_HOST_MEMORY, "out of host memory");
    }
    snprintf(e->name, sizeof e->name, "%s", name);
    e->transposed = transpose;
    vkmm_status s = vkmm_buffer_create(ws->p.gpu, t->n_bytes, VKMM_MEM_DEVICE, name, &e->buf, err);
    if (!s) {
        if (transpose) {
            /* a plain type stored as x·P ([k][rows] row-major): rows become [rows][k] */
            uint32_t es = ti->block_bytes;
            uint8_t *tmp = malloc(t->n_bytes);
            if (!tmp)
                s = vkmm_fail(err, VKMM_ERR_HOST_MEMORY, "out of host memory");
            else {
                const uint8_t *srcb = t->data;
                for (uint64_t i = 0; i < k; i++)
                    for (uint64_t j = 0; j < rows; j++)
                        memcpy(tmp + (j * k + i) * es, srcb + (i * rows + j) * es, es);
                s = upload(ws, e->buf, tmp, t->n_bytes, err);
                free(tmp);
            }
        } else {
            s = upload(ws, e->buf, t->data, t->n_bytes, err);
        }
    }
    if (!s)
        s = vkmm_weight_view_grouped(ws->p.ops, vkmm_range_whole(e->buf), (vkmm_dtype)t->type, k, rows, group, e->w,
                                     err);
    if (s) {
        vkmm_buffer_destroy(e->buf);
        free(e->w);
        ws->n--;
        return vkmm_error_prefix(err, s, "%s: tensor %s", path, name);
    }
    ws->bytes += t->n_bytes;
    *out = e->w;
    return VKMM_OK;
}

static vkmm_status matrix(vkmm_weight_source *src, const char *name, uint32_t k, uint32_t rows, bool transpose,
                          bool required, const vkmm_weight **out, vkmm_error *err)
{
    vkmm_weight_store *ws = src->user;
    vkmm_status s;
    const vkmm_gguf_tensor *t = to_upload(ws, name, transpose, required, out, &s, err);
    if (!t)
        return s;
    uint64_t want0 = transpose ? rows : k, want1 = transpose ? k : rows;
    /* a convolution kernel [kw, kh, cin, cout] is a matrix of cout rows of kw·kh·cin */
    uint64_t inner = t->ne[0], outer = t->ne[1] * t->ne[2] * t->ne[3];
    for (uint32_t d = 1; d + 1 < t->n_dims; d++) {
        inner *= t->ne[d];
        outer /= t->ne[d];
    }
    if (inner != want0 || outer != want1)
        return vkmm_fail(err, VKMM_ERR_FORMAT, "%s: tensor %s has shape [%llu, %llu, %llu, %llu], expected [%llu, %llu]",
                         vkmm_gguf_path(ws->p.gguf), name, (unsigned long long)t->ne[0], (unsigned long long)t->ne[1],
                         (unsigned long long)t->ne[2], (unsigned long long)t->ne[3], (unsigned long long)want0,
                         (unsigned long long)want1);
    return upload_matrix(ws, t, name, k, rows, 1, transpose, out, err);
}

static vkmm_status experts(vkmm_weight_source *src, const char *name, uint32_t k, uint32_t rows, uint32_t n_expert,
                           bool required, const vkmm_weight **out, vkmm_error *err)
{
    vkmm_weight_store *ws = src->user;
    vkmm_status s;
    const vkmm_gguf_tensor *t = to_upload(ws, name, false, required, out, &s, err);
    if (!t)
        return s;
    if (t->n_dims != 3 || t->ne[0] != k || t->ne[1] != rows || t->ne[2] != n_expert ||
        (uint64_t)rows * n_expert > UINT32_MAX)
        return vkmm_fail(err, VKMM_ERR_FORMAT, "%s: tensor %s has shape [%llu, %llu, %llu, %llu], expected %u experts "
                         "[%u, %u, %u]", vkmm_gguf_path(ws->p.gguf), name, (unsigned long long)t->ne[0],
                         (unsigned long long)t->ne[1], (unsigned long long)t->ne[2], (unsigned long long)t->ne[3],
                         n_expert, k, rows, n_expert);
    return upload_matrix(ws, t, name, k, rows * n_expert, rows, false, out, err);
}

static vkmm_status vector(vkmm_weight_source *src, const char *name, uint64_t n, bool required, vkmm_range *out,
                          vkmm_error *err)
{
    vkmm_weight_store *ws = src->user;
    *out = (vkmm_range){0};
    entry *e = find(ws, name, false, true);
    if (e) {
        *out = e->r;
        return VKMM_OK;
    }
    vkmm_status s;
    const vkmm_gguf_tensor *t = lookup(ws, name, required, err, &s);
    if (!t)
        return s;
    const char *path = vkmm_gguf_path(ws->p.gguf);
    if (t->n_elements != n)
        return vkmm_fail(err, VKMM_ERR_FORMAT, "%s: tensor %s has %llu elements, expected %llu", path, name,
                         (unsigned long long)t->n_elements, (unsigned long long)n);
    float *tmp = malloc(sizeof *tmp * n);
    if (!tmp)
        return vkmm_fail(err, VKMM_ERR_HOST_MEMORY, "out of host memory");
    if (!vkmm_dequantize(t->type, t->data, tmp, n)) {
        free(tmp);
        return vkmm_fail(err, VKMM_ERR_UNSUPPORTED, "%s: tensor %s is of type %s, which vkmm cannot read", path, name,
                         vkmm_dtype_get(t->type) ? vkmm_dtype_get(t->type)->name : "?");
    }
    if (!(e = add(ws))) {
        free(tmp);
        return vkmm_fail(err, VKMM_ERR_HOST_MEMORY, "out of host memory");
    }
    snprintf(e->name, sizeof e->name, "%s", name);
    e->is_vector = true;
    s = vkmm_buffer_create(ws->p.gpu, 4 * n, VKMM_MEM_DEVICE, name, &e->buf, err);
    if (!s) {
        s = upload(ws, e->buf, tmp, 4 * n, err);
    }
    free(tmp);
    if (s) {
        vkmm_buffer_destroy(e->buf);
        ws->n--;
        return s;
    }
    e->r = vkmm_range_whole(e->buf);
    ws->bytes += 4 * n;
    *out = e->r;
    return VKMM_OK;
}

vkmm_status vkmm_weight_store_create(const vkmm_weight_store_params *p, vkmm_weight_store **out, vkmm_error *err)
{
    *out = NULL;
    vkmm_weight_store *ws = calloc(1, sizeof *ws);
    if (!ws)
        return vkmm_fail(err, VKMM_ERR_HOST_MEMORY, "out of host memory");
    ws->p = *p;
    ws->total = p->total_hint ? p->total_hint : vkmm_gguf_tensor_bytes(p->gguf);
    ws->src = (vkmm_weight_source){.user = ws, .gguf = p->gguf, .matrix = matrix, .experts = experts,
                                .vector = vector};
    *out = ws;
    return VKMM_OK;
}

void vkmm_weight_store_free(vkmm_weight_store *ws)
{
    if (!ws)
        return;
    for (size_t i = 0; i < ws->n; i++) {
        vkmm_buffer_destroy(ws->e[i].buf);
        free(ws->e[i].w);
    }
    free(ws->e);
    free(ws);
}

vkmm_weight_source *vkmm_weight_store_source(vkmm_weight_store *ws)
{
    return &ws->src;
}

void vkmm_weight_store_skip(vkmm_weight_store *ws, uint64_t done)
{
    ws->done = done;
}

uint64_t vkmm_weight_store_bytes(const vkmm_weight_store *ws)
{
    return ws->bytes;
}
