/* runtime/ops/attention_mm.c — attention as two mat-muls, for long bidirectional rows (vision towers) on devices
 * whose mat-mul kernels far outrun the fused one there (lavapipe: the fused kernel's shared-memory tiles ran the
 * SigLIP shape at 2.5% of the device's multiply-add rate, the lanes mat-mul at 25-30%). Per query head h (KV head
 * h / group):  S = K_h · Q_hᵀ (scores, one row per query),  P = softmax(scale · S) in place,  O_h = V_hᵀ · P,  with
 * V transposed once for all heads. The scratch holds S for one head and Vᵀ; only exact-math steps: f32 scores
 * and sums as the fused kernel, f16 K and V as the cache holds them. */
#include "attention.h"
#include "attention_internal.h"
#include "layout.h"
#include "matmul.h"
#include "softmax.h"

static uint64_t align16(uint64_t v) { return (v + 15) / 16 * 16; }

/* Bytes of S (one head's [n_q][kv_len] f32) and of Vᵀ ([n_kv_head][d][kv_len] f16). */
static void sizes(const vkmm_attention_params *p, uint64_t *s_bytes, uint64_t *vt_bytes)
{
    *s_bytes = align16((uint64_t)p->n_q * p->kv_len * 4);
    *vt_bytes = align16((uint64_t)p->kv.n_kv_head * p->kv.head_dim * p->kv_len * 2);
}

bool vkmm_attn_mm_applies(const vkmm_ops *ops, const vkmm_attention_params *p)
{
    int64_t from = vkmm_ops_tune(ops, VKMM_TUNE_ATTENTION_MATMUL_ROWS);
    if (from <= 0 || p->n_q < (uint64_t)from)
        return false;
    /* one sequence's whole bidirectional block, unmasked, f16 caches, linear; rows of whole texels for the
     * mat-mul's F16 path (head_dim and kv_len multiples of 8) */
    if (p->causal || p->window || p->n_spans || p->softcap != 0.0f || p->batch || p->kv.page_size || p->kv.ring ||
        p->kv.type != VKMM_F16 || p->q_pos0 || p->kv_len != p->n_q || p->n_split > 1 || p->kv.head_dim % 8 ||
        p->kv_len % 8 || p->kv.capacity < p->kv_len)
        return false;
    uint64_t s_bytes, vt_bytes;
    sizes(p, &s_bytes, &vt_bytes);
    uint64_t limit = vkmm_attn_bind_limit(ops);
    return s_bytes <= limit && vt_bytes <= limit && (uint64_t)p->n_q * p->n_head * p->kv.head_dim * 4 <= limit;
}

uint64_t vkmm_attn_mm_scratch_bytes(const vkmm_attention_params *p)
{
    uint64_t s_bytes, vt_bytes;
    sizes(p, &s_bytes, &vt_bytes);
    return s_bytes + vt_bytes;
}

vkmm_status vkmm_attn_mm(vkmm_ops *ops, vkmm_cmd *cmd, const vkmm_attention_params *p, const vkmm_attention_io *io,
                         vkmm_error *err)
{
    uint32_t d = p->kv.head_dim, T = p->kv_len, n = p->n_q, H = p->n_head, group = H / p->kv.n_kv_head;
    uint64_t s_bytes, vt_bytes, head_bytes = (uint64_t)p->kv.capacity * d * 2;
    sizes(p, &s_bytes, &vt_bytes);
    if (io->scratch.size < s_bytes + vt_bytes)
        return vkmm_fail(err, VKMM_ERR_INVALID_ARG, "attention: %llu scratch bytes needed, the range has %llu",
                         (unsigned long long)(s_bytes + vt_bytes), (unsigned long long)io->scratch.size);
    vkmm_range S = vkmm_range_sub(io->scratch, 0, s_bytes), Vt = vkmm_range_sub(io->scratch, s_bytes, vt_bytes);
    /* Vᵀ[kvh][j][t] = V[kvh][t][j] for t < kv_len, every KV head in one copy */
    vkmm_copy_shape vs = {.n_dims = 3, .ne = {T, d, p->kv.n_kv_head},
                          .in_stride = {d, 1, p->kv.capacity * d}, .out_stride = {1, T, d * T}};
    vkmm_status s = vkmm_op_copy(ops, cmd, &vs, io->v, VKMM_F16, Vt, VKMM_F16, err);
    for (uint32_t h = 0; h < H && !s; h++) {
        uint32_t kvh = h / group;
        vkmm_weight wk, wv;
        s = vkmm_weight_view(ops, vkmm_range_sub(io->k, kvh * head_bytes, (uint64_t)T * d * 2), VKMM_F16, d, T, &wk,
                             err);
        if (!s)
            s = vkmm_weight_view(ops, vkmm_range_sub(Vt, (uint64_t)kvh * d * T * 2, (uint64_t)d * T * 2), VKMM_F16,
                                 T, d, &wv, err);
        /* S[i][t] = K[t] · q_i: the keys are the weight's rows, each query a column */
        vkmm_range qh = vkmm_range_sub(io->q, (uint64_t)h * d * 4, io->q.size - (uint64_t)h * d * 4);
        vkmm_range oh = vkmm_range_sub(io->o, (uint64_t)h * d * 4, io->o.size - (uint64_t)h * d * 4);
        if (!s)
            s = vkmm_op_matmul(ops, cmd, &wk, qh, H * d, S, T, n, err);
        if (!s)
            s = vkmm_op_softmax(ops, cmd, S, S, n, T, p->scale, err);
        /* O[i][j] = Σ_t P[i][t] · V[t][j]: Vᵀ's rows are the weight, each row of P a column */
        if (!s)
            s = vkmm_op_matmul(ops, cmd, &wv, S, T, oh, H * d, n, err);
    }
    return s;
}
