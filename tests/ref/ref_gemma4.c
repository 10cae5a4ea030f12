/* tests/ref/ref_gemma4.c — Gemma 4's text decoder in double precision (see ref_gemma4.h), following the Hugging
 * Face reference step by step: per-layer inputs from the pad token for media rows, q/k RMSNorm with weight and
 * RoPE (full layers: frequencies divided by rope_freqs, the "proportional" rule), v RMSNorm without weight (of the
 * raw k projection where there is no attn_v), scale 1, shared layers attending over their source layer's K/V,
 * sandwich norms, GeGLU, the router (softmax, top-k, renormalised, per-expert scale) and experts beside the dense
 * MLP, the per-layer input block, the layer scalar, soft-capped tied logits. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ref_act.h"
#include "ref_gemma4.h"
#include "ref_math.h"

static void rope_neox(double *v, uint32_t d, double pos, double base, const float *factors)
{
    for (uint32_t i = 0; i < d / 2; i++) {
        double theta = pos * pow(base, -2.0 * i / d) / (factors ? factors[i] : 1.0);
        double c = cos(theta), s = sin(theta), a = v[i], b = v[i + d / 2];
        v[i] = a * c - b * s;
        v[i + d / 2] = a * s + b * c;
    }
}

/* The per-layer inputs of every position: [n][L][P]. */
static double *per_layer_inputs(const ref_gemma4 *m, const ref_item *items, uint32_t n, const double *x)
{
    uint32_t H = m->n_embd, P = m->n_ple, LP = m->n_layer * P;
    double *pl = malloc(sizeof *pl * n * LP), *proj = malloc(sizeof *proj * LP);
    for (uint32_t p = 0; p < n; p++) {
        ref_linear_d(m->ple_model_proj, NULL, x + (size_t)p * H, H, LP, proj);
        int32_t tok = items[p].emb ? m->media_token : items[p].token;
        for (uint32_t l = 0; l < m->n_layer; l++) {
            double *c = proj + (size_t)l * P;
            for (uint32_t i = 0; i < P; i++)
                c[i] /= sqrt((double)H);
            ref_rmsnorm_d(c, m->ple_proj_norm, P, m->eps, c);
            for (uint32_t i = 0; i < P; i++)
                pl[(size_t)p * LP + l * P + i] =
                    (c[i] + m->ple_tok[(size_t)tok * LP + l * P + i] * sqrt((double)P)) / sqrt(2.0);
        }
    }
    free(proj);
    return pl;
}

static void attention(const ref_gemma4 *m, uint32_t il, const double *q, const double *k, const double *v,
                      uint32_t n, const ref_span *spans, uint32_t n_spans, double *att)
{
    const ref_gemma4_layer *L = &m->layers[il];
    uint32_t hd = L->head_dim, nq = m->n_head * hd, nkv = L->n_kv * hd;
    double *sc = malloc(sizeof *sc * n);
    for (uint32_t p = 0; p < n; p++)
        for (uint32_t hh = 0; hh < m->n_head; hh++) {
            uint32_t kvh = hh / (m->n_head / L->n_kv);
            const double *qh = q + (size_t)p * nq + hh * hd;
            double mx = -INFINITY, sum = 0;
            for (uint32_t j = 0; j < n; j++) {
                bool span = ref_same_span(spans, n_spans, p, j);
                bool ok = span || (j <= p && (!L->sliding || (int64_t)p - (int64_t)j < (int64_t)m->window));
                sc[j] = -INFINITY;
                if (!ok)
                    continue;
                double s = 0; /* scaling 1: q and k are normalised */
                for (uint32_t i = 0; i < hd; i++)
                    s += qh[i] * k[(size_t)j * nkv + kvh * hd + i];
                sc[j] = s;
                mx = s > mx ? s : mx;
            }
            for (uint32_t j = 0; j < n; j++) {
                sc[j] = sc[j] == -INFINITY ? 0 : exp(sc[j] - mx);
                sum += sc[j];
            }
            for (uint32_t i = 0; i < hd; i++) {
                double a = 0;
                for (uint32_t j = 0; j < n; j++)
                    a += sc[j] * v[(size_t)j * nkv + kvh * hd + i];
                att[(size_t)p * nq + hh * hd + i] = a / sum;
            }
        }
    free(sc);
}

/* GeGLU of one row: out = W_down (gelu(W_gate h) · (W_up h)). */
static void geglu(const float *w_gate, const float *w_up, const float *w_down, const double *h, uint32_t H,
                  uint32_t F, double *out)
{
    double *g = malloc(sizeof *g * F), *u = malloc(sizeof *u * F);
    ref_linear_d(w_gate, NULL, h, H, F, g);
    ref_linear_d(w_up, NULL, h, H, F, u);
    for (uint32_t i = 0; i < F; i++)
        g[i] = ref_gelu_tanh(g[i]) * u[i];
    ref_linear_d(w_down, NULL, g, F, H, out);
    free(g);
    free(u);
}

/* The router and experts of one row (Gemma4TextRouter, Gemma4TextExperts) into out; chosen gets the experts. */
static void moe(const ref_gemma4 *m, const ref_gemma4_layer *L, const double *resid, double *out, int32_t *chosen)
{
    uint32_t H = m->n_embd, E = m->n_expert, K = m->n_used, F = m->n_ff_exp;
    double *r = malloc(sizeof *r * H), *lg = malloc(sizeof *lg * E), *y = malloc(sizeof *y * H);
    double *d = malloc(sizeof *d * H), w[64];
    int32_t top[64];
    ref_rmsnorm_d(resid, NULL, H, m->eps, r);
    for (uint32_t i = 0; i < H; i++)
        r[i] *= L->router_scale[i] / sqrt((double)H);
    ref_linear_d(L->router, NULL, r, H, E, lg);
    double mx = -INFINITY, sum = 0;
    for (uint32_t e = 0; e < E; e++)
        mx = lg[e] > mx ? lg[e] : mx;
    for (uint32_t e = 0; e < E; e++)
        sum += (lg[e] = exp(lg[e] - mx));
    bool *taken = calloc(E, 1);
    double wsum = 0;
    for (uint32_t k = 0; k < K; k++) { /* top-k of the probabilities; ties to the lower index */
        int32_t best = -1;
        for (uint32_t e = 0; e < E; e++)
            if (!taken[e] && (best < 0 || lg[e] > lg[best]))
                best = (int32_t)e;
        taken[best] = true;
        top[k] = best;
        w[k] = lg[best] / sum;
        wsum += w[k];
    }
    ref_rmsnorm_d(resid, L->pre_norm_2, H, m->eps, y);
    for (uint32_t i = 0; i < H; i++)
        out[i] = 0;
    double *gu = malloc(sizeof *gu * 2 * F);
    for (uint32_t k = 0; k < K; k++) {
        uint32_t e = (uint32_t)top[k];
        double we = w[k] / wsum * (L->expert_scale ? L->expert_scale[e] : 1.0f);
        ref_linear_d(L->gate_up_exps + (size_t)e * 2 * F * H, NULL, y, H, 2 * F, gu);
        for (uint32_t i = 0; i < F; i++)
            gu[i] = ref_gelu_tanh(gu[i]) * gu[F + i];
        ref_linear_d(L->down_exps + (size_t)e * H * F, NULL, gu, F, H, d);
        for (uint32_t i = 0; i < H; i++)
            out[i] += we * d[i];
    }
    uint32_t c = 0;
    for (uint32_t e = 0; e < E && chosen; e++)
        if (taken[e])
            chosen[c++] = (int32_t)e;
    free(r); free(lg); free(y); free(d); free(gu); free(taken);
}

void ref_gemma4_forward(const ref_gemma4 *m, const ref_item *items, uint32_t n, const ref_span *spans,
                        uint32_t n_spans, bool kv_f16, float *logits, int32_t *experts, float *router_in)
{
    uint32_t H = m->n_embd, Lc = m->n_layer, P = m->n_ple;
    double *x = malloc(sizeof *x * n * H), *h = malloc(sizeof *h * H), *f = malloc(sizeof *f * H);
    double *f2 = malloc(sizeof *f2 * H);
    for (uint32_t p = 0; p < n; p++)
        for (uint32_t i = 0; i < H; i++)
            x[(size_t)p * H + i] = items[p].emb ? items[p].emb[i]
                                                : m->tok_embd[(size_t)items[p].token * H + i] * sqrt((double)H);
    double *pl = P ? per_layer_inputs(m, items, n, x) : NULL;
    double **ks = calloc(Lc, sizeof *ks), **vs = calloc(Lc, sizeof *vs);
    for (uint32_t il = 0; il < Lc; il++) {
        const ref_gemma4_layer *L = &m->layers[il];
        uint32_t hd = L->head_dim, nq = m->n_head * hd, nkv = L->n_kv * hd;
        double base = L->sliding ? m->rope_base_swa : m->rope_base;
        const float *factors = L->sliding ? NULL : m->rope_freqs;
        double *q = malloc(sizeof *q * n * nq), *att = malloc(sizeof *att * n * nq), *o = malloc(sizeof *o * H);
        if (L->kv_from < 0) {
            ks[il] = malloc(sizeof **ks * n * nkv);
            vs[il] = malloc(sizeof **vs * n * nkv);
        }
        for (uint32_t p = 0; p < n; p++) {
            ref_rmsnorm_d(x + (size_t)p * H, L->attn_norm, H, m->eps, h);
            ref_linear_d(L->wq, NULL, h, H, nq, q + (size_t)p * nq);
            for (uint32_t hh = 0; hh < m->n_head; hh++) {
                double *qh = q + (size_t)p * nq + hh * hd;
                ref_rmsnorm_d(qh, L->q_norm, hd, m->eps, qh);
                rope_neox(qh, hd, p, base, factors);
            }
            if (L->kv_from >= 0)
                continue;
            double *k = ks[il] + (size_t)p * nkv, *v = vs[il] + (size_t)p * nkv;
            ref_linear_d(L->wk, NULL, h, H, nkv, k);
            if (L->wv)
                ref_linear_d(L->wv, NULL, h, H, nkv, v);
            else
                memcpy(v, k, sizeof *v * nkv); /* before k_norm */
            for (uint32_t hh = 0; hh < L->n_kv; hh++) {
                double *kh = k + hh * hd, *vh = v + hh * hd;
                ref_rmsnorm_d(kh, L->k_norm, hd, m->eps, kh);
                rope_neox(kh, hd, p, base, factors);
                ref_rmsnorm_d(vh, NULL, hd, m->eps, vh);
                for (uint32_t i = 0; kv_f16 && i < hd; i++) {
                    kh[i] = ref_f16_round(kh[i]);
                    vh[i] = ref_f16_round(vh[i]);
                }
            }
        }
        uint32_t src = L->kv_from >= 0 ? (uint32_t)L->kv_from : il;
        attention(m, il, q, ks[src], vs[src], n, spans, n_spans, att);
        for (uint32_t p = 0; p < n; p++) {
            double *xp = x + (size_t)p * H;
            ref_linear_d(L->wo, NULL, att + (size_t)p * nq, nq, H, o);
            ref_rmsnorm_d(o, L->post_attn_norm, H, m->eps, o);
            for (uint32_t i = 0; i < H; i++)
                xp[i] += o[i];
            if (router_in)
                for (uint32_t i = 0; i < H; i++)
                    router_in[((size_t)p * Lc + il) * H + i] = (float)xp[i];
            ref_rmsnorm_d(xp, L->ffn_norm, H, m->eps, h);
            geglu(L->w_gate, L->w_up, L->w_down, h, H, L->n_ff, f);
            if (L->router) {
                ref_rmsnorm_d(f, L->post_norm_1, H, m->eps, f);
                moe(m, L, xp, f2, experts ? experts + ((size_t)p * Lc + il) * m->n_used : NULL);
                ref_rmsnorm_d(f2, L->post_norm_2, H, m->eps, f2);
                for (uint32_t i = 0; i < H; i++)
                    f[i] += f2[i];
            }
            ref_rmsnorm_d(f, L->post_ffw_norm, H, m->eps, f);
            for (uint32_t i = 0; i < H; i++)
                xp[i] += f[i];
            if (P) {
                double *g = malloc(sizeof *g * P);
                ref_linear_d(L->ple_gate, NULL, xp, H, P, g);
                for (uint32_t i = 0; i < P; i++)
                    g[i] = ref_gelu_tanh(g[i]) * pl[((size_t)p * Lc + il) * P + i];
                ref_linear_d(L->ple_proj, NULL, g, P, H, f);
                ref_rmsnorm_d(f, L->ple_post_norm, H, m->eps, f);
                for (uint32_t i = 0; i < H; i++)
                    xp[i] += f[i];
                free(g);
            }
            for (uint32_t i = 0; i < H; i++)
                xp[i] *= L->out_scale;
        }
        free(q);
        free(att);
        free(o);
    }
    double *lg = malloc(sizeof *lg * m->n_vocab);
    for (uint32_t p = 0; p < n; p++) {
        ref_rmsnorm_d(x + (size_t)p * H, m->output_norm, H, m->eps, h);
        ref_linear_d(m->tok_embd, NULL, h, H, m->n_vocab, lg);
        for (uint32_t t = 0; t < m->n_vocab; t++)
            logits[(size_t)p * m->n_vocab + t] = (float)(m->softcap > 0 ? m->softcap * tanh(lg[t] / m->softcap) : lg[t]);
    }
    for (uint32_t il = 0; il < Lc; il++) {
        free(ks[il]);
        free(vs[il]);
    }
    free(ks); free(vs); free(lg); free(x); free(h); free(f); free(f2); free(pl);
}
