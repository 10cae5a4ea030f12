/* runtime/ops/get_rows.c — host side of shaders/get_rows: type checks against the tensor type table, one
 * dispatch per table piece, each writing the rows of the ids that fall in it. */
#include <ctype.h>
#include <stdio.h>

#include "dtype_table.h"
#include "get_rows.h"

#define MAX_PIECES 64

typedef struct get_rows_push {
    uint32_t n_ids, n_cols;
    uint32_t row0, piece_rows, total_rows;
    uint32_t t_off, row_bytes;
    uint32_t ids_off, o_off, o_stride;
    uint32_t zero_invalid;
    float scale;
} get_rows_push;

static bool have_variant(vkmm_dtype t)
{
    switch (t) {
    case VKMM_F32: case VKMM_F16: case VKMM_BF16: case VKMM_Q4_0: case VKMM_Q4_1: case VKMM_Q5_0: case VKMM_Q5_1:
    case VKMM_Q8_0: case VKMM_Q2_K: case VKMM_Q3_K: case VKMM_Q4_K: case VKMM_Q5_K: case VKMM_Q6_K: case VKMM_IQ4_NL:
    case VKMM_IQ4_XS: return true;
    default: return false;
    }
}

vkmm_status vkmm_op_get_rows(vkmm_ops *ops, vkmm_cmd *cmd, vkmm_dtype type, const vkmm_range *pieces, uint32_t n_pieces,
                             uint32_t n_rows, uint32_t n_cols, vkmm_range ids, uint32_t n_ids, vkmm_range out,
                             uint32_t out_stride, float scale, vkmm_error *err)
{
    const vkmm_dtype_info *ti = vkmm_dtype_get(type);
    if (!ti || !have_variant(type))
        return vkmm_fail(err, VKMM_ERR_UNSUPPORTED, "get_rows: tables of type %s are not supported",
                         ti ? ti->name : "unknown");
    if (n_ids == 0)
        return VKMM_OK;
    uint64_t row_bytes = vkmm_dtype_row_bytes(type, n_cols);
    if (n_cols == 0 || row_bytes == 0 || row_bytes > UINT32_MAX)
        return vkmm_fail(err, VKMM_ERR_INTERNAL, "get_rows: rows of %u %s elements (a multiple of %u is needed)",
                         n_cols, ti->name, ti->block);
    uint32_t stride = out_stride ? out_stride : n_cols;
    if (stride < n_cols || ids.size / 4 < n_ids || out.size / 4 < (uint64_t)(n_ids - 1) * stride + n_cols ||
        (uint64_t)n_ids * ((n_cols + 3) / 4) > UINT32_MAX)
        return vkmm_fail(err, VKMM_ERR_INTERNAL, "get_rows: %u ids of rows of %u (stride %u) do not fit the id or "
                         "output range", n_ids, n_cols, stride);
    uint64_t rows_seen = 0;
    for (uint32_t i = 0; i < n_pieces; i++) {
        if (pieces[i].size % row_bytes || pieces[i].offset % 2)
            return vkmm_fail(err, VKMM_ERR_INTERNAL, "get_rows: table piece %u (%llu bytes at offset %llu) is not "
                             "whole rows of %llu bytes at an even offset", i, (unsigned long long)pieces[i].size,
                             (unsigned long long)pieces[i].offset, (unsigned long long)row_bytes);
        rows_seen += pieces[i].size / row_bytes;
    }
    if (rows_seen != n_rows || n_rows > INT32_MAX)
        return vkmm_fail(err, VKMM_ERR_INTERNAL, "get_rows: the %u table pieces hold %llu rows, not %u", n_pieces,
                         (unsigned long long)rows_seen, n_rows);

    char shader[32];
    int len = snprintf(shader, sizeof shader, "get_rows_%s", ti->name);
    for (int i = 9; i < len; i++)
        shader[i] = (char)tolower((unsigned char)shader[i]);
    uint32_t wg = vkmm_ops_workgroup(ops, VKMM_TUNE_GET_ROWS_WORKGROUP);
    bool per_element = vkmm_ops_tune(ops, VKMM_TUNE_GET_ROWS_PER_ELEMENT) != 0;
    vkmm_pipeline_desc pd = {.shader = shader, .spec = {wg, per_element}, .n_spec = 2};
    uint32_t groups[3] = {vkmm_ops_groups_for(ops, (uint64_t)n_ids * ((n_cols + 3) / 4), wg), 1, 1};
    get_rows_push pc = {.n_ids = n_ids, .n_cols = n_cols, .total_rows = n_rows, .row_bytes = (uint32_t)row_bytes,
                        .o_stride = stride, .scale = scale};
    for (uint32_t i = 0; i < n_pieces; i++) {
        pc.piece_rows = (uint32_t)(pieces[i].size / row_bytes);
        pc.zero_invalid = i == 0;
        vkmm_binding bind[3] = {
            vkmm_ops_bind(ops, pieces[i], false, 1, &pc.t_off),
            vkmm_ops_bind(ops, ids, false, 4, &pc.ids_off),
            vkmm_ops_bind(ops, out, true, 4, &pc.o_off),
        };
        vkmm_status s = vkmm_ops_record(ops, cmd, &pd, bind, 3, &pc, sizeof pc, groups, "get_rows", err);
        if (s)
            return s;
        pc.row0 += pc.piece_rows;
    }
    return VKMM_OK;
}

vkmm_status vkmm_op_get_rows_table(vkmm_ops *ops, vkmm_cmd *cmd, vkmm_dtype type, vkmm_range table, uint32_t n_rows,
                                   uint32_t n_cols, vkmm_range ids, uint32_t n_ids, vkmm_range out,
                                   uint32_t out_stride, float scale, vkmm_error *err)
{
    uint64_t row_bytes = vkmm_dtype_row_bytes(type, n_cols);
    if (row_bytes == 0 || table.size < row_bytes * n_rows)
        return vkmm_fail(err, VKMM_ERR_INTERNAL, "get_rows: a table of %u rows of %u elements does not fit %llu bytes",
                         n_rows, n_cols, (unsigned long long)table.size);
    vkmm_range pieces[MAX_PIECES];
    int n = vkmm_range_split(ops->gpu, vkmm_range_sub(table, 0, row_bytes * n_rows), row_bytes, pieces, MAX_PIECES);
    if (n < 0 || n > MAX_PIECES)
        return vkmm_fail(err, VKMM_ERR_UNSUPPORTED, "get_rows: a table of %llu bytes needs %d pieces of the device's "
                         "largest binding (at most %d)", (unsigned long long)(row_bytes * n_rows), n, MAX_PIECES);
    return vkmm_op_get_rows(ops, cmd, type, pieces, (uint32_t)n, n_rows, n_cols, ids, n_ids, out, out_stride, scale,
                            err);
}
