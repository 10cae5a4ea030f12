/* runtime/ops/softmax.c — host side of shaders/softmax: row softmax, and the two-pass logits helpers (top-k,
 * argmax, log-sum-exp) with their chunking and scratch layout: rows × chunks × k entries of 8 bytes. */
#include <stdio.h>
#include <string.h>

#include "softmax.h"

static bool use_subgroup(const vkmm_ops *ops)
{
    uint32_t need = VKMM_SUBGROUP_BASIC | VKMM_SUBGROUP_ARITHMETIC;
    return vkmm_ops_tune(ops, VKMM_TUNE_SOFTMAX_SUBGROUP) && (ops->dev->subgroup_ops & need) == need;
}

static vkmm_pipeline_desc pipeline(const vkmm_ops *ops, const char *base, char *name, size_t name_size)
{
    snprintf(name, name_size, "%s_f32%s", base, use_subgroup(ops) ? "" : "_nosg");
    return (vkmm_pipeline_desc){.shader = name, .spec = {vkmm_ops_workgroup(ops, VKMM_TUNE_SOFTMAX_WORKGROUP)}, .n_spec = 1};
}

/* lavapipe (Mesa 22) silently stops every loop of an invocation once that invocation has run 65535 loop
 * iterations in all (one counter for the whole shader). Rows are sized against a budget below that, on every
 * device: softmax invocations run ~3 · cols / workgroup iterations; selection invocations run items × (k + 1)
 * (a full rescan per round in the worst case) plus k reductions. */
#define LOOP_BUDGET 60000u

static uint32_t log2_ceil(uint32_t v)
{
    uint32_t l = 0;
    while ((1u << l) < v)
        l++;
    return l;
}

vkmm_status vkmm_op_softmax(vkmm_ops *ops, vkmm_cmd *cmd, vkmm_range x, vkmm_range out, uint32_t rows, uint32_t cols,
                            float scale, vkmm_error *err)
{
    if (rows == 0)
        return VKMM_OK;
    if (cols == 0 || (uint64_t)rows * cols > UINT32_MAX || x.size / 4 < (uint64_t)rows * cols ||
        out.size / 4 < (uint64_t)rows * cols)
        return vkmm_fail(err, VKMM_ERR_INTERNAL, "softmax: %u x %u floats do not fit the given ranges", rows, cols);
    uint32_t wg = vkmm_ops_workgroup(ops, VKMM_TUNE_SOFTMAX_WORKGROUP), groups = vkmm_ops_groups_for(ops, rows, 1);
    uint64_t iters = (uint64_t)(rows + groups - 1) / groups * (3 * ((cols + wg - 1) / wg) + 2 * (log2_ceil(wg) + 1));
    if (iters > LOOP_BUDGET)
        return vkmm_fail(err, VKMM_ERR_UNSUPPORTED, "softmax: rows of %u are too long for workgroups of %u", cols, wg);
    struct {
        uint32_t n_cols, n_rows, x_off, x_stride, o_off, o_stride;
        float scale;
    } pc = {cols, rows, 0, cols, 0, cols, scale};
    vkmm_binding bind[2] = {vkmm_ops_bind(ops, x, false, 4, &pc.x_off), vkmm_ops_bind(ops, out, true, 4, &pc.o_off)};
    char name[32];
    vkmm_pipeline_desc pd = pipeline(ops, "softmax", name, sizeof name);
    uint32_t grid[3] = {groups, 1, 1};
    return vkmm_ops_record(ops, cmd, &pd, bind, 2, &pc, sizeof pc, grid, "softmax", err);
}

/* Elements per pass-1 chunk and chunks per row for rows of n logits and k entries; false if even the
 * largest chunks the loop budget allows leave too many candidates for pass 2. */
static bool chunking(const vkmm_ops *ops, uint32_t n, uint32_t k, uint32_t *chunk, uint32_t *n_chunks)
{
    k = k ? k : 1;
    uint32_t wg = vkmm_ops_workgroup(ops, VKMM_TUNE_SOFTMAX_WORKGROUP);
    uint32_t items = (LOOP_BUDGET - k * (log2_ceil(wg) + 2)) / (k + 1); /* per invocation and pass */
    uint64_t most = (uint64_t)items * wg;                                 /* per workgroup */
    int64_t c = vkmm_ops_tune(ops, VKMM_TUNE_SOFTMAX_CHUNK);
    uint64_t ch = c < 64 ? 64 : (uint64_t)c > most ? most : (uint64_t)c;
    uint64_t max_chunks = most / k; /* pass 2 reads n_chunks × k candidates */
    if ((n + ch - 1) / ch > max_chunks)
        ch = (n + max_chunks - 1) / max_chunks;
    *chunk = (uint32_t)ch;
    *n_chunks = (uint32_t)((n + ch - 1) / ch);
    return ch <= most;
}

uint64_t vkmm_op_logits_scratch_bytes(const vkmm_ops *ops, uint32_t n, uint32_t rows, uint32_t k)
{
    uint32_t chunk, n_chunks;
    chunking(ops, n, k, &chunk, &n_chunks);
    return (uint64_t)rows * n_chunks * (k ? k : 1) * 8;
}

/* Checks shared by the logits helpers; fills the chunking. Rows are x_stride floats apart in logits and
 * out_stride entries of out_bytes apart in out. */
static vkmm_status logits_check(const vkmm_ops *ops, const char *what, vkmm_range logits, uint32_t x_stride,
                                vkmm_range scratch, vkmm_range out, uint32_t out_stride, uint32_t n, uint32_t rows,
                                uint32_t k, uint32_t out_bytes, uint32_t *chunk, uint32_t *n_chunks, vkmm_error *err)
{
    if (n == 0 || k == 0 || k > VKMM_TOPK_MAX || k > n)
        return vkmm_fail(err, VKMM_ERR_INTERNAL, "%s: k = %u of %u logits (1 <= k <= min(n, %d))", what, k, n,
                         VKMM_TOPK_MAX);
    if (!chunking(ops, n, k, chunk, n_chunks))
        return vkmm_fail(err, VKMM_ERR_UNSUPPORTED, "%s: %u logits are too many for k = %u with workgroups of %u", what,
                         n, k, vkmm_ops_workgroup(ops, VKMM_TUNE_SOFTMAX_WORKGROUP));
    uint64_t out_need = ((uint64_t)(rows - 1) * out_stride + (out_bytes == 4 ? 1 : k)) * (out_bytes == 4 ? 4 : 8);
    if (rows > 65535 || x_stride < n || (uint64_t)rows * x_stride > UINT32_MAX ||
        logits.size / 4 < (uint64_t)(rows - 1) * x_stride + n || out.size < out_need ||
        (out_bytes != 4 && out_stride < k) || (out_bytes == 4 && out_stride < 1))
        return vkmm_fail(err, VKMM_ERR_INTERNAL, "%s: %u rows of %u logits do not fit the input or the output "
                         "(%llu bytes)", what, rows, n, (unsigned long long)out.size);
    uint64_t need = vkmm_op_logits_scratch_bytes(ops, n, rows, k);
    if (scratch.size < need || scratch.offset % 8 || need / 8 > UINT32_MAX)
        return vkmm_fail(err, VKMM_ERR_INTERNAL, "%s: scratch of %llu bytes at offset %llu; %llu bytes at an 8-byte "
                         "aligned offset are needed", what, (unsigned long long)scratch.size,
                         (unsigned long long)scratch.offset, (unsigned long long)need);
    return VKMM_OK;
}

typedef struct logits_push {
    uint32_t n, chunk, n_chunks, k;
    uint32_t x_off, x_stride, o_off;
    float scale;
    uint32_t o_stride;
} logits_push;

/* pass 1 (logits -> per-chunk results in dst) or pass 2 (src -> out), grid chunks × rows */
static vkmm_status logits_pass(vkmm_ops *ops, vkmm_cmd *cmd, const char *base, vkmm_range src, uint32_t src_elem,
                               vkmm_range dst, uint32_t dst_elem, logits_push pc, uint32_t rows, uint32_t groups_x,
                               vkmm_error *err)
{
    vkmm_binding bind[2] = {vkmm_ops_bind(ops, src, false, src_elem, &pc.x_off),
                            vkmm_ops_bind(ops, dst, true, dst_elem, &pc.o_off)};
    char name[32];
    vkmm_pipeline_desc pd = pipeline(ops, base, name, sizeof name);
    /* first passes read the logits as texels where the table asks for it and the range can be viewed */
    uint32_t byte;
    if (base[strlen(base) - 1] == '1' && vkmm_ops_tune(ops, VKMM_TUNE_SOFTMAX_TEXEL) &&
        vkmm_ops_bind_texels(ops, src, &bind[0], &byte) && byte % 4 == 0) {
        pc.x_off = byte / 4;
        snprintf(name, sizeof name, "%s_f32_tx%s", base, use_subgroup(ops) ? "" : "_nosg");
    }
    uint32_t groups[3] = {groups_x, rows, 1};
    return vkmm_ops_record(ops, cmd, &pd, bind, 2, &pc, sizeof pc, groups, base, err);
}

vkmm_status vkmm_op_topk_strided(vkmm_ops *ops, vkmm_cmd *cmd, vkmm_range logits, uint32_t x_stride,
                                 vkmm_range scratch, vkmm_range out, uint32_t out_stride, uint32_t n, uint32_t rows,
                                 uint32_t k, vkmm_error *err)
{
    if (rows == 0)
        return VKMM_OK;
    logits_push pc = {.n = n, .k = k, .x_stride = x_stride};
    vkmm_status s = logits_check(ops, "topk", logits, x_stride, scratch, out, out_stride, n, rows, k, 8, &pc.chunk,
                                 &pc.n_chunks, err);
    if (s)
        return s;
    /* one chunk per row: pass 1 already has the answer */
    vkmm_range first = pc.n_chunks == 1 ? out : scratch;
    pc.o_stride = pc.n_chunks == 1 ? out_stride : pc.n_chunks * k;
    s = logits_pass(ops, cmd, "topk1", logits, 4, first, 8, pc, rows, vkmm_ops_groups_for(ops, pc.n_chunks, 1), err);
    if (s || pc.n_chunks == 1)
        return s;
    pc.o_stride = out_stride;
    return logits_pass(ops, cmd, "topk2", scratch, 8, out, 8, pc, rows, 1, err);
}

vkmm_status vkmm_op_topk(vkmm_ops *ops, vkmm_cmd *cmd, vkmm_range logits, vkmm_range scratch, vkmm_range out,
                         uint32_t n, uint32_t rows, uint32_t k, vkmm_error *err)
{
    return vkmm_op_topk_strided(ops, cmd, logits, n, scratch, out, k, n, rows, k, err);
}

vkmm_status vkmm_op_argmax(vkmm_ops *ops, vkmm_cmd *cmd, vkmm_range logits, vkmm_range scratch, vkmm_range out,
                           uint32_t n, uint32_t rows, vkmm_error *err)
{
    return vkmm_op_topk(ops, cmd, logits, scratch, out, n, rows, 1, err);
}

vkmm_status vkmm_op_logsumexp_strided(vkmm_ops *ops, vkmm_cmd *cmd, vkmm_range logits, uint32_t x_stride,
                                      vkmm_range scratch, vkmm_range out, uint32_t out_stride, uint32_t n,
                                      uint32_t rows, float scale, vkmm_error *err)
{
    if (rows == 0)
        return VKMM_OK;
    logits_push pc = {.n = n, .k = 1, .x_stride = x_stride, .scale = scale};
    vkmm_status s = logits_check(ops, "logsumexp", logits, x_stride, scratch, out, out_stride, n, rows, 1, 4,
                                 &pc.chunk, &pc.n_chunks, err);
    if (s)
        return s;
    pc.o_stride = pc.n_chunks;
    s = logits_pass(ops, cmd, "lse1", logits, 4, scratch, 8, pc, rows, vkmm_ops_groups_for(ops, pc.n_chunks, 1), err);
    if (s)
        return s;
    pc.o_stride = out_stride;
    return logits_pass(ops, cmd, "lse2", scratch, 8, out, 4, pc, rows, 1, err);
}

vkmm_status vkmm_op_logsumexp(vkmm_ops *ops, vkmm_cmd *cmd, vkmm_range logits, vkmm_range scratch, vkmm_range out,
                              uint32_t n, uint32_t rows, float scale, vkmm_error *err)
{
    return vkmm_op_logsumexp_strided(ops, cmd, logits, n, scratch, out, 1, n, rows, scale, err);
}
