/* runtime/models/gemma4_moe.c — the mixture of experts of Gemma 4's 26B-A4B (../shared/reference/gemma4.md §2, the
 * Hugging Face Gemma4TextRouter / Gemma4TextExperts): the router reads the residual, RMS-normalised without weight,
 * times its scale and n_embd^-1/2; a softmax over the experts, the top k renormalised, times each expert's scale;
 * the experts (GeGLU, gate rows first in a fused gate_up tensor) see pre_ffw_norm_2 of the residual and only the
 * routed experts' weights are read; their weighted sum goes through post_ffw_norm_2. */
#include <math.h>
#include <stdlib.h>

#include "gemma4.h"
#include "nodes.h"

vkmm_status gemma4_bind_moe(vkmm_weight_source *src, const vkmm_text_hparams *hp, const gemma4_hparams *g4,
                            uint32_t il, gemma4_moe *moe, vkmm_error *err)
{
    uint32_t H = hp->n_embd, E = g4->n_expert, F = g4->n_ff_exp;
    char name[80];
#define N(x) vkmm_model_tensor_name(name, sizeof name, "blk.%u." x, il)
    vkmm_status s = src->matrix(src, N("ffn_gate_inp.weight"), H, E, false, true, &moe->router, err);
    if (!s) s = src->vector(src, N("ffn_gate_inp.scale"), H, true, &moe->router_scale, err);
    if (!s) s = src->vector(src, N("ffn_down_exps.scale"), E, false, &moe->expert_scale, err);
    if (!s) s = src->experts(src, N("ffn_gate_up_exps.weight"), H, 2 * F, E, false, &moe->gate_up, err);
    if (!s && !moe->gate_up) { /* older conversions keep gate and up apart */
        s = src->experts(src, N("ffn_gate_exps.weight"), H, F, E, true, &moe->gate, err);
        if (!s) s = src->experts(src, N("ffn_up_exps.weight"), H, F, E, true, &moe->up, err);
    }
    if (!s) s = src->experts(src, N("ffn_down_exps.weight"), F, H, E, true, &moe->down, err);
    if (!s) s = src->vector(src, N("pre_ffw_norm_2.weight"), H, true, &moe->pre_norm_2, err);
    if (!s) s = src->vector(src, N("post_ffw_norm_1.weight"), H, true, &moe->post_norm_1, err);
    if (!s) s = src->vector(src, N("post_ffw_norm_2.weight"), H, true, &moe->post_norm_2, err);
#undef N
    return s;
}

vkmm_tid gemma4_moe_forward(vkmm_graph *g, const vkmm_text_hparams *hp, const gemma4_hparams *g4,
                            const gemma4_moe *moe, vkmm_tid x)
{
    uint32_t H = hp->n_embd, E = g4->n_expert, K = g4->n_expert_used;
    /* the router: RMSNorm(x) · scale / sqrt(n_embd) -> logits -> top k */
    vkmm_tid r = vkmm_g_rms_norm(g, x, (vkmm_range){0}, hp->eps, 0, "router_norm");
    vkmm_tid rs = vkmm_graph_external(g, moe->router_scale, VKMM_F32, H, 1, 1, "router_scale");
    vkmm_g_mul(g, r, rs, r, "router_scale");
    vkmm_g_scale(g, r, 1.0f / sqrtf((float)H), r, "router_scale_root");
    vkmm_tid logits = vkmm_g_matmul(g, moe->router, r, 0, "ffn_gate_inp");
    vkmm_tid ids, weights;
    vkmm_g_moe_route(g, logits, K, moe->expert_scale, &ids, &weights, "moe_route");
    /* the experts on pre_ffw_norm_2(x); grouped by expert when the tokens are many enough (else 0) */
    vkmm_tid y = vkmm_g_rms_norm(g, x, moe->pre_norm_2, hp->eps, 0, "pre_ffw_norm_2");
    vkmm_tid groups = vkmm_g_moe_group(g, ids, E, "moe_group");
    vkmm_tid a;
    if (moe->gate_up) {
        vkmm_tid gu = vkmm_g_matmul_id(g, moe->gate_up, E, y, K, ids, groups, "ffn_gate_up_exps");
        a = vkmm_g_glu_fused(g, VKMM_ACT_GELU_TANH, gu, "moe_geglu");
    } else {
        a = vkmm_g_matmul_id(g, moe->gate, E, y, K, ids, groups, "ffn_gate_exps");
        vkmm_tid up = vkmm_g_matmul_id(g, moe->up, E, y, K, ids, groups, "ffn_up_exps");
        vkmm_g_glu(g, VKMM_ACT_GELU_TANH, a, up, a, "moe_geglu");
    }
    vkmm_tid d = vkmm_g_matmul_id(g, moe->down, E, a, 1, ids, groups, "ffn_down_exps");
    vkmm_tid o = vkmm_g_moe_combine(g, d, weights, K, "moe_combine");
    return vkmm_g_rms_norm(g, o, moe->post_norm_2, hp->eps, o, "post_ffw_norm_2");
}
