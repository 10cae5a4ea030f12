/* tests/ref/ref_model.c — whole-model references (see ref_model.h). Every step follows gemma3.md §3 and §5. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ref_act.h"
#include "ref_math.h"
#include "ref_model.h"

static void rope_neox(double *v, uint32_t d, double pos, double base, double scale)
{
    for (uint32_t i = 0; i < d / 2; i++) {
        double theta = pos * scale * pow(base, -2.0 * i / d);
        double c = cos(theta), s = sin(theta);
        double a = v[i], b = v[i + d / 2];
        v[i] = a * c - b * s;
        v[i + d / 2] = a * s + b * c;
    }
}

void ref_gemma3_forward(const ref_gemma3 *m, const ref_item *items, uint32_t n, const ref_span *spans,
                        uint32_t n_spans, bool kv_f16, float *logits)
{
    uint32_t H = m->n_embd, hd = m->head_dim, nq = m->n_head * hd, nkv = m->n_kv * hd;
    double *x = calloc((size_t)n * H, sizeof *x), *h = malloc(sizeof *h * H);
    double *q = malloc(sizeof *q * n * nq), *k = malloc(sizeof *k * n * nkv), *v = malloc(sizeof *v * n * nkv);
    double *att = malloc(sizeof *att * nq), *o = malloc(sizeof *o * H), *sc = malloc(sizeof *sc * n);
    double *g = malloc(sizeof *g * m->n_ff), *u = malloc(sizeof *u * m->n_ff), *f = malloc(sizeof *f * H);
    for (uint32_t p = 0; p < n; p++)
        for (uint32_t i = 0; i < H; i++)
            x[(size_t)p * H + i] = items[p].emb ? items[p].emb[i]
                                                : m->tok_embd[(size_t)items[p].token * H + i] * sqrt((double)H);
    uint32_t period = m->swa_period ? m->swa_period : 6;
    for (uint32_t il = 0; il < m->n_layer; il++) {
        const ref_gemma3_layer *L = &m->layers[il];
        bool local = m->window && il % period != period - 1;
        double base = local ? m->rope_base_local : m->rope_base, scale = local ? 1.0 : m->rope_scale;
        for (uint32_t p = 0; p < n; p++) {
            ref_rmsnorm_d(x + (size_t)p * H, L->attn_norm, H, m->eps, h);
            ref_linear_d(L->wq, NULL, h, H, nq, q + (size_t)p * nq);
            ref_linear_d(L->wk, NULL, h, H, nkv, k + (size_t)p * nkv);
            ref_linear_d(L->wv, NULL, h, H, nkv, v + (size_t)p * nkv);
            for (uint32_t hh = 0; hh < m->n_head; hh++) {
                double *qh = q + (size_t)p * nq + hh * hd;
                ref_rmsnorm_d(qh, L->q_norm, hd, m->eps, qh);
                rope_neox(qh, hd, p, base, scale);
                for (uint32_t i = 0; i < hd; i++)
                    qh[i] *= m->attn_scale;
            }
            for (uint32_t hh = 0; hh < m->n_kv; hh++) {
                double *kh = k + (size_t)p * nkv + hh * hd, *vh = v + (size_t)p * nkv + hh * hd;
                ref_rmsnorm_d(kh, L->k_norm, hd, m->eps, kh);
                rope_neox(kh, hd, p, base, scale);
                if (kv_f16)
                    for (uint32_t i = 0; i < hd; i++) {
                        kh[i] = ref_f16_round(kh[i]);
                        vh[i] = ref_f16_round(vh[i]);
                    }
            }
        }
        for (uint32_t p = 0; p < n; p++) {
            for (uint32_t hh = 0; hh < m->n_head; hh++) {
                uint32_t kvh = hh / (m->n_head / m->n_kv);
                const double *qh = q + (size_t)p * nq + hh * hd;
                double mx = -INFINITY;
                for (uint32_t j = 0; j < n; j++) {
                    bool span = ref_same_span(spans, n_spans, p, j);
                    bool ok = (j <= p || span) && (!local || (int64_t)p - (int64_t)j < (int64_t)m->window || span);
                    sc[j] = -INFINITY;
                    if (!ok)
                        continue;
                    double s = 0;
                    for (uint32_t i = 0; i < hd; i++)
                        s += qh[i] * k[(size_t)j * nkv + kvh * hd + i];
                    sc[j] = s;
                    if (s > mx)
                        mx = s;
                }
                double sum = 0;
                for (uint32_t j = 0; j < n; j++) {
                    sc[j] = sc[j] == -INFINITY ? 0 : exp(sc[j] - mx);
                    sum += sc[j];
                }
                for (uint32_t i = 0; i < hd; i++) {
                    double a = 0;
                    for (uint32_t j = 0; j < n; j++)
                        a += sc[j] * v[(size_t)j * nkv + kvh * hd + i];
                    att[hh * hd + i] = a / sum;
                }
            }
            ref_linear_d(L->wo, NULL, att, nq, H, o);
            ref_rmsnorm_d(o, L->post_attn_norm, H, m->eps, o);
            for (uint32_t i = 0; i < H; i++)
                x[(size_t)p * H + i] += o[i];
        }
        for (uint32_t p = 0; p < n; p++) {
            ref_rmsnorm_d(x + (size_t)p * H, L->ffn_norm, H, m->eps, h);
            ref_linear_d(L->w_gate, NULL, h, H, m->n_ff, g);
            ref_linear_d(L->w_up, NULL, h, H, m->n_ff, u);
            for (uint32_t i = 0; i < m->n_ff; i++)
                g[i] = ref_gelu_tanh(g[i]) * u[i];
            ref_linear_d(L->w_down, NULL, g, m->n_ff, H, f);
            ref_rmsnorm_d(f, L->post_ffw_norm, H, m->eps, f);
            for (uint32_t i = 0; i < H; i++)
                x[(size_t)p * H + i] += f[i];
        }
    }
    const float *out_w = m->output ? m->output : m->tok_embd;
    double *lg = malloc(sizeof *lg * m->n_vocab);
    for (uint32_t p = 0; p < n; p++) {
        ref_rmsnorm_d(x + (size_t)p * H, m->output_norm, H, m->eps, h);
        ref_linear_d(out_w, NULL, h, H, m->n_vocab, lg);
        for (uint32_t t = 0; t < m->n_vocab; t++)
            logits[(size_t)p * m->n_vocab + t] =
                (float)(m->softcap > 0 ? m->softcap * tanh(lg[t] / m->softcap) : lg[t]);
    }
    free(lg); free(x); free(h); free(q); free(k); free(v); free(att); free(o); free(sc); free(g); free(u); free(f);
}

uint32_t ref_siglip_tokens(const ref_siglip *m)
{
    uint32_t grid = m->image_size / m->patch, pooled = grid / (m->pool ? m->pool : 1);
    return pooled * pooled;
}

void ref_siglip_encode(const ref_siglip *m, const float *image, float *out)
{
    uint32_t P = m->patch, S = m->image_size, G = S / P, T = G * G, E = m->n_embd, hd = E / m->n_head;
    double *x = malloc(sizeof *x * T * E), *h = malloc(sizeof *h * T * E);
    double *q = malloc(sizeof *q * T * E), *k = malloc(sizeof *k * T * E), *v = malloc(sizeof *v * T * E);
    double *att = malloc(sizeof *att * E), *o = malloc(sizeof *o * E), *sc = malloc(sizeof *sc * T);
    double *u = malloc(sizeof *u * m->n_ff), *d = malloc(sizeof *d * E);
    for (uint32_t py = 0; py < G; py++)
        for (uint32_t px = 0; px < G; px++) {
            uint32_t t = py * G + px;
            for (uint32_t e = 0; e < E; e++) {
                double s = m->patch_b ? m->patch_b[e] : 0;
                for (uint32_t c = 0; c < 3; c++)
                    for (uint32_t ky = 0; ky < P; ky++)
                        for (uint32_t kx = 0; kx < P; kx++)
                            s += (double)m->patch_w[(((size_t)e * 3 + c) * P + ky) * P + kx] *
                                 image[((size_t)c * S + py * P + ky) * S + px * P + kx];
                x[(size_t)t * E + e] = s + m->pos_embd[(size_t)t * E + e];
            }
        }
    for (uint32_t il = 0; il < m->n_layer; il++) {
        const ref_siglip_layer *L = &m->layers[il];
        for (uint32_t t = 0; t < T; t++) {
            ref_layernorm_d(x + (size_t)t * E, L->ln1_w, L->ln1_b, E, m->eps, h);
            ref_linear_d(L->wq, L->bq, h, E, E, q + (size_t)t * E);
            ref_linear_d(L->wk, L->bk, h, E, E, k + (size_t)t * E);
            ref_linear_d(L->wv, L->bv, h, E, E, v + (size_t)t * E);
        }
        for (uint32_t t = 0; t < T; t++) {
            for (uint32_t hh = 0; hh < m->n_head; hh++) {
                double mx = -INFINITY;
                for (uint32_t j = 0; j < T; j++) {
                    double s = 0;
                    for (uint32_t i = 0; i < hd; i++)
                        s += q[(size_t)t * E + hh * hd + i] * k[(size_t)j * E + hh * hd + i];
                    sc[j] = s / sqrt((double)hd);
                    if (sc[j] > mx)
                        mx = sc[j];
                }
                double sum = 0;
                for (uint32_t j = 0; j < T; j++) {
                    sc[j] = exp(sc[j] - mx);
                    sum += sc[j];
                }
                for (uint32_t i = 0; i < hd; i++) {
                    double a = 0;
                    for (uint32_t j = 0; j < T; j++)
                        a += sc[j] * v[(size_t)j * E + hh * hd + i];
                    att[hh * hd + i] = a / sum;
                }
            }
            ref_linear_d(L->wo, L->bo, att, E, E, o);
            for (uint32_t e = 0; e < E; e++)
                x[(size_t)t * E + e] += o[e];
        }
        for (uint32_t t = 0; t < T; t++) {
            ref_layernorm_d(x + (size_t)t * E, L->ln2_w, L->ln2_b, E, m->eps, h);
            ref_linear_d(L->w_up, L->b_up, h, E, m->n_ff, u);
            for (uint32_t i = 0; i < m->n_ff; i++)
                u[i] = ref_gelu_tanh(u[i]);
            ref_linear_d(L->w_down, L->b_down, u, m->n_ff, E, d);
            for (uint32_t e = 0; e < E; e++)
                x[(size_t)t * E + e] += d[e];
        }
    }
    for (uint32_t t = 0; t < T; t++)
        ref_layernorm_d(x + (size_t)t * E, m->post_ln_w, m->post_ln_b, E, m->eps, x + (size_t)t * E);
    /* projector: average-pool the grid, RMS-normalise, project (P used transposed, see gemma3.md §5.2) */
    uint32_t pool = m->pool ? m->pool : 1, PG = G / pool, HT = m->n_text_embd;
    double *y = malloc(sizeof *y * E);
    for (uint32_t R = 0; R < PG; R++)
        for (uint32_t C = 0; C < PG; C++) {
            for (uint32_t e = 0; e < E; e++) {
                double s = 0;
                for (uint32_t i = 0; i < pool; i++)
                    for (uint32_t j = 0; j < pool; j++)
                        s += x[((size_t)(pool * R + i) * G + pool * C + j) * E + e];
                y[e] = s / (pool * pool);
            }
            ref_rmsnorm_d(y, m->soft_emb_norm, E, m->eps, y);
            for (uint32_t jo = 0; jo < HT; jo++) {
                double s = 0;
                for (uint32_t i = 0; i < E; i++)
                    s += y[i] * m->input_proj[(size_t)i * HT + jo];
                out[((size_t)R * PG + C) * HT + jo] = (float)s;
            }
        }
    free(y); free(x); free(h); free(q); free(k); free(v); free(att); free(o); free(sc); free(u); free(d);
}

/* ---- Mistral 3 ---- */

static void rope_norm_pairs(double *v, uint32_t n_pairs, double pos, double base, uint32_t d)
{
    for (uint32_t i = 0; i < n_pairs; i++) {
        double theta = pos * pow(base, -2.0 * i / d);
        double c = cos(theta), s = sin(theta), a = v[2 * i], b = v[2 * i + 1];
        v[2 * i] = a * c - b * s;
        v[2 * i + 1] = a * s + b * c;
    }
}

void ref_mistral_forward(const ref_mistral *m, const ref_item *items, uint32_t n, bool kv_f16, float *logits)
{
    uint32_t H = m->n_embd, hd = m->head_dim, nq = m->n_head * hd, nkv = m->n_kv * hd;
    double *x = calloc((size_t)n * H, sizeof *x), *h = malloc(sizeof *h * H);
    double *q = malloc(sizeof *q * n * nq), *k = malloc(sizeof *k * n * nkv), *v = malloc(sizeof *v * n * nkv);
    double *att = malloc(sizeof *att * nq), *o = malloc(sizeof *o * H), *sc = malloc(sizeof *sc * n);
    double *g = malloc(sizeof *g * m->n_ff), *u = malloc(sizeof *u * m->n_ff), *f = malloc(sizeof *f * H);
    for (uint32_t p = 0; p < n; p++)
        for (uint32_t i = 0; i < H; i++)
            x[(size_t)p * H + i] = items[p].emb ? items[p].emb[i] : m->tok_embd[(size_t)items[p].token * H + i];
    for (uint32_t il = 0; il < m->n_layer; il++) {
        const ref_mistral_layer *L = &m->layers[il];
        for (uint32_t p = 0; p < n; p++) {
            ref_rmsnorm_d(x + (size_t)p * H, L->attn_norm, H, m->eps, h);
            ref_linear_d(L->wq, NULL, h, H, nq, q + (size_t)p * nq);
            ref_linear_d(L->wk, NULL, h, H, nkv, k + (size_t)p * nkv);
            ref_linear_d(L->wv, NULL, h, H, nkv, v + (size_t)p * nkv);
            for (uint32_t hh = 0; hh < m->n_head; hh++)
                rope_norm_pairs(q + (size_t)p * nq + hh * hd, hd / 2, p, m->rope_base, hd);
            for (uint32_t hh = 0; hh < m->n_kv; hh++) {
                double *kh = k + (size_t)p * nkv + hh * hd, *vh = v + (size_t)p * nkv + hh * hd;
                rope_norm_pairs(kh, hd / 2, p, m->rope_base, hd);
                if (kv_f16)
                    for (uint32_t i = 0; i < hd; i++) {
                        kh[i] = ref_f16_round(kh[i]);
                        vh[i] = ref_f16_round(vh[i]);
                    }
            }
        }
        for (uint32_t p = 0; p < n; p++) {
            for (uint32_t hh = 0; hh < m->n_head; hh++) {
                uint32_t kvh = hh / (m->n_head / m->n_kv);
                double mx = -INFINITY, sum = 0;
                for (uint32_t j = 0; j <= p; j++) {
                    double s = 0;
                    for (uint32_t i = 0; i < hd; i++)
                        s += q[(size_t)p * nq + hh * hd + i] * k[(size_t)j * nkv + kvh * hd + i];
                    sc[j] = s / sqrt((double)hd);
                    if (sc[j] > mx)
                        mx = sc[j];
                }
                for (uint32_t j = 0; j <= p; j++) {
                    sc[j] = exp(sc[j] - mx);
                    sum += sc[j];
                }
                for (uint32_t i = 0; i < hd; i++) {
                    double a = 0;
                    for (uint32_t j = 0; j <= p; j++)
                        a += sc[j] * v[(size_t)j * nkv + kvh * hd + i];
                    att[hh * hd + i] = a / sum;
                }
            }
            ref_linear_d(L->wo, NULL, att, nq, H, o);
            for (uint32_t i = 0; i < H; i++)
                x[(size_t)p * H + i] += o[i];
        }
        for (uint32_t p = 0; p < n; p++) {
            ref_rmsnorm_d(x + (size_t)p * H, L->ffn_norm, H, m->eps, h);
            ref_linear_d(L->w_gate, NULL, h, H, m->n_ff, g);
            ref_linear_d(L->w_up, NULL, h, H, m->n_ff, u);
            for (uint32_t i = 0; i < m->n_ff; i++)
                g[i] = ref_silu(g[i]) * u[i];
            ref_linear_d(L->w_down, NULL, g, m->n_ff, H, f);
            for (uint32_t i = 0; i < H; i++)
                x[(size_t)p * H + i] += f[i];
        }
    }
    const float *out_w = m->output ? m->output : m->tok_embd;
    double *lg = malloc(sizeof *lg * m->n_vocab);
    for (uint32_t p = 0; p < n; p++) {
        ref_rmsnorm_d(x + (size_t)p * H, m->output_norm, H, m->eps, h);
        ref_linear_d(out_w, NULL, h, H, m->n_vocab, lg);
        for (uint32_t t = 0; t < m->n_vocab; t++)
            logits[(size_t)p * m->n_vocab + t] = (float)lg[t];
    }
    free(lg); free(x); free(h); free(q); free(k); free(v); free(att); free(o); free(sc); free(g); free(u); free(f);
}

uint32_t ref_pixtral_encode(const ref_pixtral *m, const float *image, uint32_t ih, uint32_t iw, float *out)
{
    uint32_t P = m->patch, hp = ih / P, wp = iw / P, T = hp * wp, E = m->n_embd, hd = E / m->n_head;
    double *x = malloc(sizeof *x * T * E), *h = malloc(sizeof *h * T * E);
    double *q = malloc(sizeof *q * T * E), *k = malloc(sizeof *k * T * E), *v = malloc(sizeof *v * T * E);
    double *att = malloc(sizeof *att * E), *o = malloc(sizeof *o * E), *sc = malloc(sizeof *sc * T);
    double *g = malloc(sizeof *g * m->n_ff), *u = malloc(sizeof *u * m->n_ff), *d = malloc(sizeof *d * E);
    for (uint32_t r = 0; r < hp; r++)
        for (uint32_t c = 0; c < wp; c++) {
            uint32_t t = r * wp + c;
            for (uint32_t e = 0; e < E; e++) {
                double s = 0;
                for (uint32_t ch = 0; ch < 3; ch++)
                    for (uint32_t ky = 0; ky < P; ky++)
                        for (uint32_t kx = 0; kx < P; kx++)
                            s += (double)m->patch_w[(((size_t)e * 3 + ch) * P + ky) * P + kx] *
                                 image[((size_t)ch * ih + r * P + ky) * iw + c * P + kx];
                h[e] = s;
            }
            ref_rmsnorm_d(h, m->pre_ln, E, m->eps, x + (size_t)t * E);
        }
    for (uint32_t il = 0; il < m->n_layer; il++) {
        const ref_pixtral_layer *L = &m->layers[il];
        for (uint32_t t = 0; t < T; t++) {
            ref_rmsnorm_d(x + (size_t)t * E, L->ln1, E, m->eps, h);
            ref_linear_d(L->wq, NULL, h, E, E, q + (size_t)t * E);
            ref_linear_d(L->wk, NULL, h, E, E, k + (size_t)t * E);
            ref_linear_d(L->wv, NULL, h, E, E, v + (size_t)t * E);
            /* 2-D RoPE in GGUF (adjacent-pair) layout: pairs j < hd/4 turn with the row, the rest with the
             * column; angle exponents from mistral3.md §4.4 */
            uint32_t r = t / wp, c = t % wp;
            for (uint32_t hh = 0; hh < m->n_head; hh++)
                for (int which = 0; which < 2; which++) {
                    double *vv = which ? k + (size_t)t * E + hh * hd : q + (size_t)t * E + hh * hd;
                    for (uint32_t j = 0; j < hd / 2; j++) {
                        double ang = j < hd / 4 ? r * pow(m->rope_theta, -4.0 * j / hd)
                                                : c * pow(m->rope_theta, -(4.0 * (j - hd / 4) + 2.0) / hd);
                        double cs = cos(ang), sn = sin(ang), a = vv[2 * j], b = vv[2 * j + 1];
                        vv[2 * j] = a * cs - b * sn;
                        vv[2 * j + 1] = a * sn + b * cs;
                    }
                }
        }
        for (uint32_t t = 0; t < T; t++) {
            for (uint32_t hh = 0; hh < m->n_head; hh++) {
                double mx = -INFINITY, sum = 0;
                for (uint32_t j = 0; j < T; j++) {
                    double s = 0;
                    for (uint32_t i = 0; i < hd; i++)
                        s += q[(size_t)t * E + hh * hd + i] * k[(size_t)j * E + hh * hd + i];
                    sc[j] = s / sqrt((double)hd);
                    if (sc[j] > mx)
                        mx = sc[j];
                }
                for (uint32_t j = 0; j < T; j++) {
                    sc[j] = exp(sc[j] - mx);
                    sum += sc[j];
                }
                for (uint32_t i = 0; i < hd; i++) {
                    double a = 0;
                    for (uint32_t j = 0; j < T; j++)
                        a += sc[j] * v[(size_t)j * E + hh * hd + i];
                    att[hh * hd + i] = a / sum;
                }
            }
            ref_linear_d(L->wo, NULL, att, E, E, o);
            for (uint32_t e = 0; e < E; e++)
                x[(size_t)t * E + e] += o[e];
        }
        for (uint32_t t = 0; t < T; t++) {
            ref_rmsnorm_d(x + (size_t)t * E, L->ln2, E, m->eps, h);
            ref_linear_d(L->w_gate, NULL, h, E, m->n_ff, g);
            ref_linear_d(L->w_up, NULL, h, E, m->n_ff, u);
            for (uint32_t i = 0; i < m->n_ff; i++)
                g[i] = (m->gelu_mlp ? ref_gelu_erf(g[i]) : ref_silu(g[i])) * u[i];
            ref_linear_d(L->w_down, NULL, g, m->n_ff, E, d);
            for (uint32_t e = 0; e < E; e++)
                x[(size_t)t * E + e] += d[e];
        }
    }
    /* projector: RMSNorm, 2x2 merge (channel-major, then row, then column), merge linear, MLP with erf GELU */
    for (uint32_t t = 0; t < T; t++)
        ref_rmsnorm_d(x + (size_t)t * E, m->mm_norm, E, m->eps, x + (size_t)t * E);
    uint32_t M = m->merge ? m->merge : 1, HR = hp / M, WC = wp / M, HT = m->n_text_embd;
    double *mm = malloc(sizeof *mm * E * M * M), *z1 = malloc(sizeof *z1 * HT), *z2 = malloc(sizeof *z2 * HT);
    uint32_t rows = 0;
    for (uint32_t R = 0; R < HR; R++) {
        for (uint32_t C = 0; C < WC; C++) {
            for (uint32_t ch = 0; ch < E; ch++)
                for (uint32_t i = 0; i < M; i++)
                    for (uint32_t j = 0; j < M; j++)
                        mm[ch * M * M + i * M + j] = x[((size_t)(M * R + i) * wp + (M * C + j)) * E + ch];
            ref_linear_d(m->merger, NULL, mm, E * M * M, E, h);
            ref_linear_d(m->mm1_w, m->mm1_b, h, E, HT, z1);
            for (uint32_t i = 0; i < HT; i++)
                z1[i] = ref_gelu_erf(z1[i]);
            ref_linear_d(m->mm2_w, m->mm2_b, z1, HT, HT, z2);
            for (uint32_t i = 0; i < HT; i++)
                out[(size_t)rows * HT + i] = (float)z2[i];
            rows++;
        }
        if (R + 1 < HR) {
            for (uint32_t i = 0; i < HT; i++)
                out[(size_t)rows * HT + i] = m->img_break[i];
            rows++;
        }
    }
    free(mm); free(z1); free(z2);
    free(x); free(h); free(q); free(k); free(v); free(att); free(o); free(sc); free(g); free(u); free(d);
    return rows;
}
