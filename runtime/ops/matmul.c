/* runtime/ops/matmul.c — host side of shaders/matmul: variant and tile choice, piece-by-piece dispatch of
 * weights larger than one binding, mat-vec below a column threshold (over chunks of up to 8 columns) and tiled
 * mat-mat above it. */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "dtype_table.h"
#include "elementwise.h"
#include "layout.h"
#include "matmul.h"

bool vkmm_matmul_supports(vkmm_dtype type)
{
    switch (type) {
    case VKMM_F32: case VKMM_F16: case VKMM_BF16: case VKMM_Q4_0: case VKMM_Q4_1: case VKMM_Q5_0: case VKMM_Q5_1:
    case VKMM_Q8_0: case VKMM_Q2_K: case VKMM_Q3_K: case VKMM_Q4_K: case VKMM_Q5_K: case VKMM_Q6_K:
    case VKMM_IQ4_NL: case VKMM_IQ4_XS:
        return true;
    default:
        return false;
    }
}

static void lower_name(vkmm_dtype type, char *out, size_t n)
{
    const char *s = vkmm_dtype_get(type)->name;
    size_t i = 0;
    for (; s[i] && i + 1 < n; i++)
        out[i] = (char)tolower((unsigned char)s[i]);
    out[i] = 0;
}

vkmm_status vkmm_weight_view(const vkmm_ops *ops, vkmm_range data, vkmm_dtype type, uint32_t k, uint32_t rows,
                             vkmm_weight *out, vkmm_error *err)
{
    return vkmm_weight_view_grouped(ops, data, type, k, rows, 1, out, err);
}

vkmm_status vkmm_weight_view_grouped(const vkmm_ops *ops, vkmm_range data, vkmm_dtype type, uint32_t k, uint32_t rows,
                                     uint32_t group, vkmm_weight *out, vkmm_error *err)
{
    memset(out, 0, sizeof *out);
    if (!vkmm_matmul_supports(type))
        return vkmm_fail(err, VKMM_ERR_UNSUPPORTED, "weights of type %s cannot be multiplied",
                         vkmm_dtype_get(type) ? vkmm_dtype_get(type)->name : "unknown");
    uint64_t rb = vkmm_dtype_row_bytes(type, k);
    if (rb == 0 || rows == 0)
        return vkmm_fail(err, VKMM_ERR_INVALID_ARG, "weight of %u x %u %s: row length not a whole number of blocks",
                         rows, k, vkmm_dtype_get(type)->name);
    if (!group || rows % group)
        return vkmm_fail(err, VKMM_ERR_INVALID_ARG, "weight of %u rows is not groups of %u", rows, group);
    if (data.size < rb * rows)
        return vkmm_fail(err, VKMM_ERR_INVALID_ARG, "weight data of %llu bytes is smaller than %u rows of %llu",
                         (unsigned long long)data.size, rows, (unsigned long long)rb);
    out->type = type;
    out->k = k;
    out->rows = rows;
    out->row_bytes = rb;
    vkmm_range pieces[VKMM_WEIGHT_MAX_PIECES];
    int n = vkmm_range_split(ops->gpu, vkmm_range_sub(data, 0, rb * rows), rb * group, pieces, VKMM_WEIGHT_MAX_PIECES);
    if (n < 0 || n > VKMM_WEIGHT_MAX_PIECES)
        return vkmm_fail(err, VKMM_ERR_UNSUPPORTED,
                         "weight of %u rows x %llu bytes (in groups of %u rows) cannot be split into %d bindable pieces "
                         "of at most %llu bytes", rows, (unsigned long long)rb, group, VKMM_WEIGHT_MAX_PIECES,
                         (unsigned long long)ops->dev->max_storage_buffer_range);
    uint32_t row = 0;
    for (int i = 0; i < n; i++) {
        out->piece[i].range = pieces[i];
        out->piece[i].row0 = row;
        out->piece[i].rows = (uint32_t)(pieces[i].size / rb);
        row += out->piece[i].rows;
    }
    out->n_pieces = (uint32_t)n;
    return VKMM_OK;
}

static uint32_t pow2_floor(uint32_t v)
{
    uint32_t p = 1;
    while (p * 2 <= v)
        p *= 2;
    return p;
}

/* Splits a group count over x and y so neither exceeds the portable 65535. */
static void grid_2d(uint32_t groups, uint32_t out[3])
{
    out[0] = groups < 65535 ? groups : 65535;
    out[1] = (groups + out[0] - 1) / out[0];
    out[2] = 1;
}

/* Elements one invocation decodes per step in the mat-vec (shaders/matmul/pieces.glsl): the fast paths take
 * larger pieces, the generic decoder eight elements. */
static uint32_t matvec_piece(vkmm_dtype type, bool generic)
{
    switch (type) {
    case VKMM_Q4_K: case VKMM_Q5_K: case VKMM_Q6_K:
        return generic ? 8 : 32;
    case VKMM_Q8_0: case VKMM_Q4_0:
        return generic ? 8 : 16;
    default:
        return 8;
    }
}

static bool matvec_has_fast(vkmm_dtype type)
{
    return matvec_piece(type, false) != 8 || type == VKMM_F16;
}

/* The largest power of two up to 16 dividing both a row's start and the row length in bytes: how wide the
 * shader may load. */
static uint32_t row_alignment(uint32_t w_off, uint64_t row_bytes)
{
    uint32_t a = 16;
    while (a > 2 && ((w_off % a) || (row_bytes % a)))
        a /= 2;
    return a;
}

/* n_cols columns as chunks of `per` (at most 8), one per workgroup z: W is read once per chunk. */
static vkmm_status matvec(vkmm_ops *ops, vkmm_cmd *cmd, const vkmm_weight *w, vkmm_range x, uint32_t x_stride,
                          vkmm_range y, uint32_t y_stride, uint32_t n_cols, uint32_t per, vkmm_error *err)
{
    char tname[16], shader[48];
    lower_name(w->type, tname, sizeof tname);
    const uint32_t need = VKMM_SUBGROUP_ARITHMETIC | VKMM_SUBGROUP_SHUFFLE | VKMM_SUBGROUP_BASIC;
    bool sg = (ops->dev->subgroup_ops & need) == need && vkmm_ops_tune(ops, VKMM_TUNE_MATVEC_SUBGROUP);
    bool generic = vkmm_ops_tune(ops, VKMM_TUNE_MATVEC_GENERIC) != 0;
    snprintf(shader, sizeof shader, "matvec_%s%s%s", tname, generic && matvec_has_fast(w->type) ? "_generic" : "",
             sg ? "" : "_nosg");
    uint32_t wg = pow2_floor(vkmm_ops_workgroup(ops, VKMM_TUNE_MATVEC_WORKGROUP));
    /* team size: enough lanes to cover a row's pieces, no more (narrow rows share a workgroup) */
    uint32_t pieces = w->k / matvec_piece(w->type, generic);
    if (!pieces)
        pieces = 1;
    uint32_t tpr = pow2_floor((uint32_t)vkmm_ops_tune(ops, VKMM_TUNE_MATVEC_THREADS_PER_ROW));
    while (tpr > 4 && tpr / 2 >= pieces)
        tpr /= 2;
    if (tpr > wg)
        tpr = wg;
    /* rows per team: x is reused across them, but short matrices need the parallelism more */
    uint32_t nr = pow2_floor((uint32_t)vkmm_ops_tune(ops, VKMM_TUNE_MATVEC_ROWS_PER_THREAD));
    uint32_t min_threads = (uint32_t)vkmm_ops_tune(ops, VKMM_TUNE_MATVEC_MIN_THREADS);
    if (nr > 4)
        nr = 4;
    /* with several columns each row's decoded piece stays in registers for all of them: cap rows x columns */
    while (nr > 1 && nr * per > 16)
        nr /= 2;
    while (nr > 1 && (uint64_t)(w->rows + nr - 1) / nr * tpr < min_threads)
        nr /= 2;
    while ((uint64_t)nr * per * wg * 4 > ops->dev->shared_memory && wg > tpr)
        wg /= 2;
    uint32_t rows_per = wg / tpr * nr, chunks = (n_cols + per - 1) / per;
    if (chunks > 65535)
        return vkmm_fail(err, VKMM_ERR_INVALID_ARG, "matvec: %u columns is too many for one call", n_cols);
    for (uint32_t i = 0; i < w->n_pieces; i++) {
        struct {
            uint32_t k, rows, w_off, row_bytes, x_off, x_stride, y_off, y_stride, n_cols;
        } pc = {w->k, w->piece[i].rows, 0, (uint32_t)w->row_bytes, 0, x_stride, 0, y_stride, n_cols};
        vkmm_binding b[3] = {
            vkmm_ops_bind(ops, w->piece[i].range, false, 1, &pc.w_off),
            vkmm_ops_bind(ops, x, false, 4, &pc.x_off),
            vkmm_ops_bind(ops, y, true, 4, &pc.y_off),
        };
        pc.y_off += w->piece[i].row0;
        vkmm_pipeline_desc pd = {.shader = shader, .spec = {wg, tpr, per, nr, row_alignment(pc.w_off, w->row_bytes)},
                                 .n_spec = 5};
        uint32_t groups[3];
        grid_2d((w->piece[i].rows + rows_per - 1) / rows_per, groups);
        groups[2] = chunks;
        vkmm_status s = vkmm_ops_record(ops, cmd, &pd, b, 3, &pc, sizeof pc, groups, "matvec", err);
        if (s)
            return s;
    }
    return VKMM_OK;
}

/* The lanes layout (shaders/matmul/matvec_lanes.comp): rows across the lanes of 8-lane subgroups, weights and x
 * read as texels. Returns false (nothing recorded) where it does not apply, so the caller runs the mat-vec above. */
static bool lanes_type(vkmm_dtype type, uint32_t k)
{
    switch (type) {
    case VKMM_Q4_0: case VKMM_Q8_0: case VKMM_Q4_K: case VKMM_Q6_K:
        return true;
    case VKMM_F16:
        return k % 8 == 0; /* rows of whole texels */
    case VKMM_F32:
        return k % 4 == 0;
    default:
        return false;
    }
}

/* Joins pieces that follow each other in one buffer while the joined range can still be one texel view (offsets
 * in the shader are 32-bit bytes: at most 2 GiB). */
static void merge_pieces(const vkmm_ops *ops, vkmm_weight *w)
{
    uint32_t n = 0;
    for (uint32_t i = 0; i < w->n_pieces; i++) {
        if (n) {
            vkmm_range *a = &w->piece[n - 1].range;
            const vkmm_range *b = &w->piece[i].range;
            vkmm_binding tb;
            uint32_t off;
            vkmm_range joined = {a->buf, a->offset, a->size + b->size};
            if (b->buf == a->buf && b->offset == a->offset + a->size && joined.size < (1ull << 31) &&
                vkmm_ops_bind_texels(ops, joined, &tb, &off)) {
                *a = joined;
                w->piece[n - 1].rows += w->piece[i].rows;
                continue;
            }
        }
        w->piece[n++] = w->piece[i];
    }
    w->n_pieces = n;
}

/* Whether float weights (F16, F32) take their own lanes setting `key` (matvec.float_cols, float_lane_rows): set,
 * and a matrix of at least 2^19 weights (a vision tower's, its patch embedding included), where fewer, larger
 * workgroups still keep every core busy (the demo model's 128 x 256 matrices ran their prompt at half speed). */
static bool float_wide(const vkmm_ops *ops, const vkmm_weight *w, vkmm_tune key)
{
    return (w->type == VKMM_F16 || w->type == VKMM_F32) && vkmm_ops_tune(ops, key) > 0 &&
           (uint64_t)w->rows * w->k >= (1u << 19);
}

/* Records the lanes mat-vec of w (and with up, the gated unit act(w·x) · (up·x), up shaped and split like w) in
 * column chunks of `per`; *done stays false (nothing recorded) where the layout does not apply. */
static vkmm_status matvec_lanes(vkmm_ops *ops, vkmm_cmd *cmd, const vkmm_weight *w, const vkmm_weight *up,
                                vkmm_act act, vkmm_range x, uint32_t x_stride, vkmm_range y, uint32_t y_stride,
                                uint32_t n_cols, uint32_t per, bool *done, vkmm_error *err)
{
    *done = false;
    const uint32_t need = VKMM_SUBGROUP_BASIC | VKMM_SUBGROUP_SHUFFLE;
    if (!vkmm_ops_tune(ops, VKMM_TUNE_MATVEC_LANES) || ops->dev->subgroup_size != 8 ||
        (ops->dev->subgroup_ops & need) != need || !lanes_type(w->type, w->k))
        return VKMM_OK;
    if (up && (up->type != w->type || up->k != w->k || up->rows != w->rows || up->n_pieces != w->n_pieces))
        return VKMM_OK;
    /* A texel view may be far larger than a storage binding: pieces that follow each other in memory become one
     * dispatch (a 262144-row output head is one, not two). */
    vkmm_weight wm = *w, um = up ? *up : *w;
    merge_pieces(ops, &wm);
    if (up)
        merge_pieces(ops, &um);
    w = &wm;
    up = up ? &um : NULL;
    if (up && up->n_pieces != w->n_pieces)
        return VKMM_OK;
    /* bind everything first: any range that cannot be a texel view sends the whole call to the other kernel */
    vkmm_binding bx, bw[VKMM_WEIGHT_MAX_PIECES], bu[VKMM_WEIGHT_MAX_PIECES];
    uint32_t x_byte, w_byte[VKMM_WEIGHT_MAX_PIECES], u_byte[VKMM_WEIGHT_MAX_PIECES];
    if (!vkmm_ops_bind_texels(ops, x, &bx, &x_byte) || x_byte % 16)
        return VKMM_OK;
    for (uint32_t i = 0; i < w->n_pieces; i++) {
        if (!vkmm_ops_bind_texels(ops, w->piece[i].range, &bw[i], &w_byte[i]) ||
            (vkmm_dtype_get(w->type)->block == 1 && w_byte[i] % 16)) /* F16, F32: whole texels, rows on one */
            return VKMM_OK;
        if (up && (up->piece[i].rows != w->piece[i].rows ||
                   !vkmm_ops_bind_texels(ops, up->piece[i].range, &bu[i], &u_byte[i]) || u_byte[i] != w_byte[i]))
            return VKMM_OK;
    }
    char tname[16], shader[48];
    lower_name(w->type, tname, sizeof tname);
    snprintf(shader, sizeof shader, "matvec_lanes_%s%s", up ? "glu_" : "", tname);
    uint32_t wg = vkmm_ops_workgroup(ops, VKMM_TUNE_MATVEC_WORKGROUP) / 8 * 8;
    uint32_t rpl = (uint32_t)vkmm_ops_tune(ops, VKMM_TUNE_MATVEC_LANE_ROWS);
    /* (only for chunks at the float width: a decode's single column ran 2.5x slower at 2 rows a lane, 256 x 262144) */
    if (float_wide(ops, w, VKMM_TUNE_MATVEC_FLOAT_LANE_ROWS) && per >= vkmm_ops_tune(ops, VKMM_TUNE_MATVEC_FLOAT_COLS))
        rpl = (uint32_t)vkmm_ops_tune(ops, VKMM_TUNE_MATVEC_FLOAT_LANE_ROWS);
    rpl = pow2_floor(rpl);
    if (rpl > 4)
        rpl = 4;
    uint32_t slots = up ? 2 : rpl, rows_per_lane = up ? 1 : rpl; /* with up: slots gate and up of one row */
    if (wg < 8)
        wg = 8;
    /* a matrix too short to give every workgroup a full share of rows takes smaller groups */
    while (wg > 8 && (uint64_t)wg * rows_per_lane > w->rows)
        wg /= 2;
    wg = wg / 8 * 8;
    uint32_t chunks = (n_cols + per - 1) / per;
    if (chunks > 65535)
        return vkmm_fail(err, VKMM_ERR_INVALID_ARG, "matvec: %u columns is too many for one call", n_cols);
    for (uint32_t i = 0; i < w->n_pieces; i++) {
        struct {
            uint32_t k, rows, w_off, row_bytes, x_off, x_stride, y_off, y_stride, n_cols;
        } pc = {w->k, w->piece[i].rows, w_byte[i], (uint32_t)w->row_bytes, x_byte / 16, x_stride / 4, 0, y_stride,
                n_cols};
        vkmm_binding b[4] = {bw[i], bx, vkmm_ops_bind(ops, y, true, 4, &pc.y_off), up ? bu[i] : bw[i]};
        pc.y_off += w->piece[i].row0;
        bool aligned = w_byte[i] % 16 == 0 && w->row_bytes % 16 == 0;
        vkmm_pipeline_desc pd = {.shader = shader, .spec = {wg, per, slots, aligned, (uint32_t)act},
                                 .n_spec = up ? 5 : 4};
        /* column chunks in x, row groups in y and z: a row group's chunks run one after another (see the shader) */
        uint32_t rg[3], groups[3];
        grid_2d((w->piece[i].rows + wg * rows_per_lane - 1) / (wg * rows_per_lane), rg);
        groups[0] = chunks;
        groups[1] = rg[0];
        groups[2] = rg[1];
        vkmm_status s = vkmm_ops_record(ops, cmd, &pd, b, up ? 4 : 3, &pc, sizeof pc, groups, up ? "matvec_glu" : "matvec",
                                        err);
        if (s)
            return s;
    }
    *done = true;
    return VKMM_OK;
}

/* Column chunks for the mat-vec: at most matvec.max_cols (large float matrices: float_cols where set; and 8) each,
 * as equal as they come. */
static uint32_t matvec_chunk(const vkmm_ops *ops, const vkmm_weight *w, uint32_t n_cols)
{
    uint32_t max_vec = (uint32_t)vkmm_ops_tune(ops, VKMM_TUNE_MATVEC_MAX_COLS);
    if (float_wide(ops, w, VKMM_TUNE_MATVEC_FLOAT_COLS))
        max_vec = (uint32_t)vkmm_ops_tune(ops, VKMM_TUNE_MATVEC_FLOAT_COLS);
    if (max_vec > 8)
        max_vec = 8;
    if (max_vec == 0)
        max_vec = 1;
    uint32_t chunks = (n_cols + max_vec - 1) / max_vec;
    return (n_cols + chunks - 1) / chunks;
}

vkmm_status vkmm_op_matmul_glu(vkmm_ops *ops, vkmm_cmd *cmd, vkmm_act act, const vkmm_weight *gate,
                               const vkmm_weight *up, vkmm_range x, uint32_t x_stride, vkmm_range y, uint32_t y_stride,
                               uint32_t n_cols, bool *done, vkmm_error *err)
{
    *done = false;
    /* the elementwise-only activations (erf, tanh) are no gate */
    if (act == VKMM_ACT_ERF || act == VKMM_ACT_TANH || act >= VKMM_ACT_COUNT)
        return VKMM_OK;
    /* as vkmm_op_matmul: up to max_cols columns, or chunked_cols in chunks, else the caller's tiles */
    if (n_cols == 0 || x_stride < gate->k || y_stride < gate->rows || x_stride % 4 ||
        vkmm_range_device_offset(x) % 16 ||
        (n_cols > (uint32_t)vkmm_ops_tune(ops, VKMM_TUNE_MATVEC_MAX_COLS) &&
         n_cols > (uint32_t)vkmm_ops_tune(ops, VKMM_TUNE_MATVEC_CHUNKED_COLS)))
        return VKMM_OK;
    if (x.size < ((uint64_t)(n_cols - 1) * x_stride + gate->k) * 4 ||
        y.size < ((uint64_t)(n_cols - 1) * y_stride + gate->rows) * 4)
        return vkmm_fail(err, VKMM_ERR_INTERNAL, "matmul_glu: x or y range too small for %u columns", n_cols);
    return matvec_lanes(ops, cmd, gate, up, act, x, x_stride, y, y_stride, n_cols,
                        matvec_chunk(ops, gate, n_cols), done, err);
}

typedef struct tile {
    uint32_t bm, bn, tm, tn, bk;
} tile;

static uint64_t tile_shared(tile t)
{
    return (uint64_t)(t.bm + 1 + t.bn + 1) * t.bk * 4;
}

/* Tiles from the tuning table; up to matmul.small_cols columns use the small_* set (smaller tiles keep the
 * device busy when there are few of them). */
static tile choose_tile(const vkmm_ops *ops, uint32_t n_cols)
{
    bool small = n_cols <= (uint32_t)vkmm_ops_tune(ops, VKMM_TUNE_MATMUL_SMALL_COLS);
    tile t = {
        (uint32_t)vkmm_ops_tune(ops, small ? VKMM_TUNE_MATMUL_SMALL_BM : VKMM_TUNE_MATMUL_BM),
        (uint32_t)vkmm_ops_tune(ops, small ? VKMM_TUNE_MATMUL_SMALL_BN : VKMM_TUNE_MATMUL_BN),
        (uint32_t)vkmm_ops_tune(ops, small ? VKMM_TUNE_MATMUL_SMALL_TM : VKMM_TUNE_MATMUL_TM),
        (uint32_t)vkmm_ops_tune(ops, small ? VKMM_TUNE_MATMUL_SMALL_TN : VKMM_TUNE_MATMUL_TN),
        (uint32_t)vkmm_ops_tune(ops, small ? VKMM_TUNE_MATMUL_SMALL_BK : VKMM_TUNE_MATMUL_BK),
    };
    if (!t.tm || !t.tn || !t.bm || !t.bn || t.bm % t.tm || t.bn % t.tn || !t.bk || t.bk % 4)
        t = (tile){64, 64, 4, 4, 32};
    /* shrink until the tiles fit shared memory and the thread count fits the device: K depth first (down to 32),
     * then the tile */
    while (tile_shared(t) > ops->dev->shared_memory && t.bk > 32)
        t.bk /= 2;
    while ((tile_shared(t) > ops->dev->shared_memory ||
            (t.bm / t.tm) * (t.bn / t.tn) > ops->dev->max_workgroup_invocations) && t.bm > t.tm) {
        t.bm /= 2;
        t.bn = t.bn > t.tn ? t.bn / 2 : t.bn;
    }
    while (tile_shared(t) > ops->dev->shared_memory && t.bk > 4)
        t.bk /= 2;
    return t;
}

typedef struct mm_push {
    uint32_t m, n, k, w_off, row_bytes, x_off, x_stride, y_off, y_stride;
    uint32_t psize, grid_w, img_w, img_h, bias_off, has_bias;
} mm_push;

static vkmm_status tiled(vkmm_ops *ops, vkmm_cmd *cmd, const char *shader, const vkmm_weight *w, vkmm_range x,
                         vkmm_range bias, vkmm_range y, mm_push base, uint32_t n_cols, const char *label,
                         vkmm_error *err)
{
    tile t = choose_tile(ops, n_cols);
    uint32_t wg = (t.bm / t.tm) * (t.bn / t.tn);
    vkmm_pipeline_desc pd = {.shader = shader, .spec = {wg, t.bm, t.bn, t.tm, t.tn, t.bk}, .n_spec = 6};
    for (uint32_t i = 0; i < w->n_pieces; i++) {
        mm_push pc = base;
        pc.m = w->piece[i].rows;
        pc.n = n_cols;
        pc.k = w->k;
        pc.row_bytes = (uint32_t)w->row_bytes;
        vkmm_binding b[4];
        b[0] = vkmm_ops_bind(ops, w->piece[i].range, false, 1, &pc.w_off);
        b[1] = vkmm_ops_bind(ops, x, false, 4, &pc.x_off);
        b[2] = vkmm_ops_bind(ops, y, true, 4, &pc.y_off);
        uint32_t nb = 3;
        if (base.psize) {
            vkmm_range bb = pc.has_bias ? vkmm_range_sub(bias, (uint64_t)w->piece[i].row0 * 4, w->piece[i].rows * 4ull)
                                        : x; /* any valid range: the shader never reads it */
            b[3] = vkmm_ops_bind(ops, bb, false, 4, &pc.bias_off);
            nb = 4;
        }
        pc.y_off += w->piece[i].row0;
        uint32_t groups[3] = {(pc.m + t.bm - 1) / t.bm, (n_cols + t.bn - 1) / t.bn, 1};
        if (groups[1] > 65535)
            return vkmm_fail(err, VKMM_ERR_INVALID_ARG, "%s: %u columns is too many for one call", label, n_cols);
        vkmm_status s = vkmm_ops_record(ops, cmd, &pd, b, nb, &pc, sizeof pc, groups, label, err);
        if (s)
            return s;
    }
    return VKMM_OK;
}

vkmm_status vkmm_op_matmul(vkmm_ops *ops, vkmm_cmd *cmd, const vkmm_weight *w, vkmm_range x, uint32_t x_stride,
                           vkmm_range y, uint32_t y_stride, uint32_t n_cols, vkmm_error *err)
{
    if (n_cols == 0)
        return VKMM_OK;
    if (x_stride < w->k || y_stride < w->rows)
        return vkmm_fail(err, VKMM_ERR_INTERNAL, "matmul: strides %u/%u below row sizes %u/%u", x_stride, y_stride,
                         w->k, w->rows);
    if (x.size < ((uint64_t)(n_cols - 1) * x_stride + w->k) * 4 || y.size < ((uint64_t)(n_cols - 1) * y_stride + w->rows) * 4)
        return vkmm_fail(err, VKMM_ERR_INTERNAL, "matmul: x or y range too small for %u columns", n_cols);
    uint32_t max_vec = (uint32_t)vkmm_ops_tune(ops, VKMM_TUNE_MATVEC_MAX_COLS);
    /* short prompts: the mat-vec over chunks of columns (W read once per chunk) beats tiles mostly left empty */
    uint32_t chunked = (uint32_t)vkmm_ops_tune(ops, VKMM_TUNE_MATVEC_CHUNKED_COLS);
    /* the mat-vec reads x as vec4: other layouts take the tiles, which read x element by element */
    bool x_vec4 = vkmm_range_device_offset(x) % 16 == 0 && x_stride % 4 == 0;
    if (x_vec4 && (n_cols <= max_vec || n_cols <= chunked)) {
        uint32_t per = matvec_chunk(ops, w, n_cols);
        bool done;
        vkmm_status s = matvec_lanes(ops, cmd, w, NULL, VKMM_ACT_GELU_TANH, x, x_stride, y, y_stride, n_cols, per,
                                     &done, err);
        if (s || done)
            return s;
        return matvec(ops, cmd, w, x, x_stride, y, y_stride, n_cols, per, err);
    }
    char tname[16], shader[48];
    lower_name(w->type, tname, sizeof tname);
    snprintf(shader, sizeof shader, "matmul_%s", tname);
    mm_push base = {.x_stride = x_stride, .y_stride = y_stride};
    return tiled(ops, cmd, shader, w, x, x, y, base, n_cols, "matmul", err);
}

/* The decode form: workgroup z is one routed pair, each piece of W a dispatch over all pairs (those whose expert
 * another piece holds leave at once). */
static vkmm_status matvec_id(vkmm_ops *ops, vkmm_cmd *cmd, const vkmm_weight *w, uint32_t rows_e, vkmm_range x,
                             uint32_t x_stride, uint32_t x_div, vkmm_range ids, uint32_t n_pairs, vkmm_range y,
                             uint32_t y_stride, vkmm_error *err)
{
    char tname[16], shader[48];
    lower_name(w->type, tname, sizeof tname);
    const uint32_t need = VKMM_SUBGROUP_ARITHMETIC | VKMM_SUBGROUP_SHUFFLE | VKMM_SUBGROUP_BASIC;
    bool sg = (ops->dev->subgroup_ops & need) == need && vkmm_ops_tune(ops, VKMM_TUNE_MATVEC_SUBGROUP);
    snprintf(shader, sizeof shader, "matvec_id_%s%s", tname, sg ? "" : "_nosg");
    uint32_t wg = pow2_floor(vkmm_ops_workgroup(ops, VKMM_TUNE_MATVEC_WORKGROUP));
    uint32_t pieces = w->k / matvec_piece(w->type, true);
    uint32_t tpr = pow2_floor((uint32_t)vkmm_ops_tune(ops, VKMM_TUNE_MATVEC_THREADS_PER_ROW));
    while (tpr > 4 && tpr / 2 >= (pieces ? pieces : 1))
        tpr /= 2;
    if (tpr > wg)
        tpr = wg;
    uint32_t nr = pow2_floor((uint32_t)vkmm_ops_tune(ops, VKMM_TUNE_MATVEC_ROWS_PER_THREAD));
    nr = nr > 4 ? 4 : nr;
    while ((uint64_t)nr * wg * 4 > ops->dev->shared_memory && wg > tpr)
        wg /= 2;
    uint32_t rows_per = wg / tpr * nr;
    if (n_pairs > 65535)
        return vkmm_fail(err, VKMM_ERR_INVALID_ARG, "matvec_id: %u routed pairs is too many for one call", n_pairs);
    for (uint32_t i = 0; i < w->n_pieces; i++) {
        struct {
            uint32_t k, rows, w_off, row_bytes, x_off, x_stride, y_off, y_stride, n_cols;
            uint32_t ids_off, x_div, e0, n_e;
        } pc = {w->k, rows_e, 0, (uint32_t)w->row_bytes, 0, x_stride, 0, y_stride, n_pairs,
                0, x_div, w->piece[i].row0 / rows_e, w->piece[i].rows / rows_e};
        vkmm_binding b[4] = {
            vkmm_ops_bind(ops, w->piece[i].range, false, 1, &pc.w_off),
            vkmm_ops_bind(ops, x, false, 4, &pc.x_off),
            vkmm_ops_bind(ops, y, true, 4, &pc.y_off),
            vkmm_ops_bind(ops, ids, false, 4, &pc.ids_off),
        };
        /* the generic decoders' pieces (8 elements): every type has them in the _id forms */
        vkmm_pipeline_desc pd = {.shader = shader, .spec = {wg, tpr, 1, nr, row_alignment(pc.w_off, w->row_bytes)},
                                 .n_spec = 5};
        uint32_t groups[3];
        grid_2d((rows_e + rows_per - 1) / rows_per, groups);
        groups[2] = n_pairs;
        vkmm_status s = vkmm_ops_record(ops, cmd, &pd, b, 4, &pc, sizeof pc, groups, "matvec_id", err);
        if (s)
            return s;
    }
    return VKMM_OK;
}

/* The prefill form: tiles of each expert's rows by tiles of its pairs (grid z: the piece's experts; tiles past an
 * expert's pair count leave at once). */
static vkmm_status matmul_id(vkmm_ops *ops, vkmm_cmd *cmd, const vkmm_weight *w, uint32_t rows_e, uint32_t n_expert,
                             vkmm_range x, uint32_t x_stride, uint32_t x_div, vkmm_range groups_r, uint32_t n_pairs,
                             vkmm_range y, uint32_t y_stride, vkmm_error *err)
{
    char tname[16], shader[48];
    lower_name(w->type, tname, sizeof tname);
    snprintf(shader, sizeof shader, "matmul_id_%s", tname);
    /* Tiles sized for the pairs one expert takes, not the call's: with many experts each gets a few (26B-A4B routes
     * a token to 8 of 128, so n/16 pairs each), and a tile as wide as all the pairs multiplies mostly empty
     * columns (17 tokens took 4.4 s a matrix on lavapipe). The tile narrows to the average and, where shared
     * memory allows, grows taller so its thread count stays. */
    uint32_t avg = (n_pairs + n_expert - 1) / n_expert;
    tile t = choose_tile(ops, avg);
    while (t.bn > t.tn && t.bn / 2 >= avg) {
        t.bn /= 2;
        tile taller = {t.bm * 2, t.bn, t.tm, t.tn, t.bk};
        if (t.bm < rows_e && tile_shared(taller) <= ops->dev->shared_memory)
            t = taller;
    }
    uint32_t wg = (t.bm / t.tm) * (t.bn / t.tn);
    vkmm_pipeline_desc pd = {.shader = shader, .spec = {wg, t.bm, t.bn, t.tm, t.tn, t.bk}, .n_spec = 6};
    for (uint32_t i = 0; i < w->n_pieces; i++) {
        struct {
            mm_push base;
            uint32_t grp_off, n_expert, e0, x_div;
        } pc = {{.m = rows_e, .n = n_pairs, .k = w->k, .row_bytes = (uint32_t)w->row_bytes, .x_stride = x_stride,
                 .y_stride = y_stride}, 0, n_expert, w->piece[i].row0 / rows_e, x_div};
        vkmm_binding b[4] = {
            vkmm_ops_bind(ops, w->piece[i].range, false, 1, &pc.base.w_off),
            vkmm_ops_bind(ops, x, false, 4, &pc.base.x_off),
            vkmm_ops_bind(ops, y, true, 4, &pc.base.y_off),
            vkmm_ops_bind(ops, groups_r, false, 4, &pc.grp_off),
        };
        /* an expert may take every pair: enough column tiles for that */
        uint32_t groups[3] = {(rows_e + t.bm - 1) / t.bm, (n_pairs + t.bn - 1) / t.bn, w->piece[i].rows / rows_e};
        if (groups[1] > 65535 || groups[2] > 65535)
            return vkmm_fail(err, VKMM_ERR_INVALID_ARG, "matmul_id: %u pairs is too many for one call", n_pairs);
        vkmm_status s = vkmm_ops_record(ops, cmd, &pd, b, 4, &pc, sizeof pc, groups, "matmul_id", err);
        if (s)
            return s;
    }
    return VKMM_OK;
}

vkmm_status vkmm_op_matmul_id(vkmm_ops *ops, vkmm_cmd *cmd, const vkmm_weight *w, uint32_t n_expert, vkmm_range x,
                              uint32_t x_stride, uint32_t x_div, vkmm_range ids, vkmm_range groups, uint32_t n_pairs,
                              vkmm_range y, uint32_t y_stride, vkmm_error *err)
{
    if (n_pairs == 0)
        return VKMM_OK;
    uint32_t rows_e = n_expert ? w->rows / n_expert : 0;
    bool whole = rows_e && w->rows % n_expert == 0;
    for (uint32_t i = 0; i < w->n_pieces && whole; i++)
        whole = w->piece[i].row0 % rows_e == 0 && w->piece[i].rows % rows_e == 0;
    if (!whole)
        return vkmm_fail(err, VKMM_ERR_INTERNAL, "matmul_id: %u rows in %u pieces are not whole experts of %u", w->rows,
                         w->n_pieces, n_expert);
    uint32_t n_x = (n_pairs + x_div - 1) / (x_div ? x_div : 1);
    if (!x_div || x_stride < w->k || y_stride < rows_e || ids.size / 4 < n_pairs ||
        x.size < ((uint64_t)(n_x - 1) * x_stride + w->k) * 4 || y.size < ((uint64_t)(n_pairs - 1) * y_stride + rows_e) * 4)
        return vkmm_fail(err, VKMM_ERR_INTERNAL, "matmul_id: %u pairs (x rows shared by %u) do not fit the ranges",
                         n_pairs, x_div);
    if (!groups.size)
        return matvec_id(ops, cmd, w, rows_e, x, x_stride, x_div, ids, n_pairs, y, y_stride, err);
    if (groups.size < 4ull * (n_expert + 1 + n_pairs))
        return vkmm_fail(err, VKMM_ERR_INTERNAL, "matmul_id: the grouping of %u pairs is too small", n_pairs);
    return matmul_id(ops, cmd, w, rows_e, n_expert, x, x_stride, x_div, groups, n_pairs, y, y_stride, err);
}

uint64_t vkmm_op_patch_embed_scratch_bytes(const vkmm_ops *ops, const vkmm_weight *w, uint32_t height, uint32_t width,
                                          uint32_t patch)
{
    /* the lanes mat-vec takes every column count on such devices (chunked_cols), and reads x as quads */
    if (!vkmm_ops_tune(ops, VKMM_TUNE_MATVEC_LANES) || !lanes_type(w->type, w->k) || !patch || height % patch ||
        width % patch) /* (lanes_type's rows are whole quads of x too) */
        return 0;
    uint64_t tokens = (uint64_t)(height / patch) * (width / patch);
    if (tokens > (uint64_t)vkmm_ops_tune(ops, VKMM_TUNE_MATVEC_CHUNKED_COLS))
        return 0;
    return tokens * w->k * 4;
}

vkmm_status vkmm_op_patch_embed(vkmm_ops *ops, vkmm_cmd *cmd, const vkmm_weight *w, vkmm_range bias, vkmm_range image,
                                uint32_t channels, uint32_t height, uint32_t width, uint32_t patch, vkmm_range out,
                                vkmm_range scratch, vkmm_error *err)
{
    if (w->type != VKMM_F32 && w->type != VKMM_F16)
        return vkmm_fail(err, VKMM_ERR_UNSUPPORTED, "patch embedding weights must be F32 or F16, not %s",
                         vkmm_dtype_get(w->type)->name);
    if (!patch || height % patch || width % patch || w->k != channels * patch * patch)
        return vkmm_fail(err, VKMM_ERR_INVALID_ARG,
                         "patch embedding: image %ux%u, patch %u, %u channels does not fit a kernel of %u elements",
                         width, height, patch, channels, w->k);
    uint32_t gw = width / patch, tokens = gw * (height / patch);
    if (image.size < (uint64_t)channels * height * width * 4 || out.size < (uint64_t)tokens * w->rows * 4 ||
        (bias.size && bias.size < w->rows * 4ull))
        return vkmm_fail(err, VKMM_ERR_INTERNAL, "patch embedding: a range is too small");
    uint64_t cols_bytes = vkmm_op_patch_embed_scratch_bytes(ops, w, height, width, patch);
    if (cols_bytes && scratch.size >= cols_bytes) {
        /* X[t][c·P·P + ky·P + kx] = img[c][py·P + ky][px·P + kx] (one strided copy), then W · X and the bias */
        uint32_t gh = height / patch;
        vkmm_copy_shape sh = {.n_dims = 5, .ne = {patch, patch, channels, gw, gh},
                              .in_stride = {1, width, height * width, patch, patch * width},
                              .out_stride = {1, patch, patch * patch, w->k, gw * w->k}};
        vkmm_range cols = vkmm_range_sub(scratch, 0, cols_bytes);
        vkmm_status s = vkmm_op_copy(ops, cmd, &sh, image, VKMM_F32, cols, VKMM_F32, err);
        if (!s)
            s = vkmm_op_matmul(ops, cmd, w, cols, w->k, out, w->rows, tokens, err);
        if (!s && bias.size)
            s = vkmm_op_add(ops, cmd, out, bias, out, tokens * w->rows, w->rows, err);
        return s;
    }
    mm_push base = {.y_stride = w->rows, .psize = patch, .grid_w = gw, .img_w = width, .img_h = height,
                    .has_bias = bias.size ? 1 : 0};
    return tiled(ops, cmd, w->type == VKMM_F32 ? "patch_embed_f32" : "patch_embed_f16", w, image, bias, out, base,
                 tokens, "patch_embed", err);
}

vkmm_status vkmm_op_copy_bytes(vkmm_ops *ops, vkmm_cmd *cmd, vkmm_range src, vkmm_range dst, uint64_t bytes,
                         vkmm_error *err)
{
    if (bytes % 16 || src.size < bytes || dst.size < bytes || vkmm_range_device_offset(src) % 16 ||
        vkmm_range_device_offset(dst) % 16)
        return vkmm_fail(err, VKMM_ERR_INTERNAL, "copy: 16-byte aligned ranges and sizes only");
    struct {
        uint32_t n;
    } pc = {(uint32_t)(bytes / 16)};
    vkmm_binding b[2] = {vkmm_ops_bind(ops, src, false, 16, NULL), vkmm_ops_bind(ops, dst, true, 16, NULL)};
    uint32_t wg = vkmm_ops_workgroup(ops, VKMM_TUNE_ELEMENTWISE_WORKGROUP);
    vkmm_pipeline_desc pd = {.shader = "copy_u32x4", .spec = {wg}, .n_spec = 1};
    uint32_t groups[3] = {vkmm_ops_groups_for(ops, pc.n, wg), 1, 1};
    return vkmm_ops_record(ops, cmd, &pd, b, 2, &pc, sizeof pc, groups, "copy", err);
}

vkmm_status vkmm_op_fma_rate(vkmm_ops *ops, vkmm_cmd *cmd, vkmm_range out, uint32_t groups, uint32_t iters,
                             uint64_t *flops, vkmm_error *err)
{
    uint32_t wg = vkmm_ops_workgroup(ops, VKMM_TUNE_ELEMENTWISE_WORKGROUP);
    if (out.size < 4ull * groups * wg)
        return vkmm_fail(err, VKMM_ERR_INTERNAL, "fma rate: output of %llu bytes is too small",
                         (unsigned long long)out.size);
    struct {
        uint32_t iters;
        float a, b;
    } pc = {iters, 0.999f, 0.5f};
    vkmm_binding b[1] = {vkmm_ops_bind(ops, out, true, 4, NULL)};
    vkmm_pipeline_desc pd = {.shader = "fma_f32", .spec = {wg}, .n_spec = 1};
    uint32_t g[3] = {groups, 1, 1};
    *flops = 2ull * 16 * iters * groups * wg;
    return vkmm_ops_record(ops, cmd, &pd, b, 1, &pc, sizeof pc, g, "fma", err);
}

void vkmm_op_matmul_cost(const vkmm_weight *w, uint32_t n_cols, double *bytes, double *flops)
{
    *bytes = (double)w->row_bytes * w->rows + 4.0 * n_cols * ((double)w->k + w->rows);
    *flops = 2.0 * w->k * (double)w->rows * n_cols;
}
