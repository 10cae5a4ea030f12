/* tests/ref/ref_gemma4v.c — Gemma 4's vision tower in float64, step by step as Hugging Face's Gemma4VisionModel
 * computes it (patch embedder, encoder layers, pooler, standardisation) and Gemma4MultimodalEmbedder (weightless
 * RMSNorm, projection), with the clamps of Gemma4ClippableLinear; and its loader. Independent of the GPU path:
 * nothing here is shared with runtime/. */
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dtype_table.h"
#include "f16.h"
#include "ref_gemma4v.h"

/* ---- loading ---- */

static const char *const linear_names[REF_G4V_LINEARS] = {"attn_q", "attn_k", "attn_v", "attn_out",
                                                           "ffn_gate", "ffn_up", "ffn_down"};

static bool scalar(const vkmm_gguf *g, const char *name, float absent, float *out)
{
    const vkmm_gguf_tensor *t = vkmm_gguf_tensor_by_name(g, name);
    *out = absent;
    return !t || (t->n_elements == 1 && vkmm_dequantize(t->type, t->data, out, 1));
}

bool ref_load_gemma4v(const vkmm_gguf *g, ref_gemma4v *m, ref_arena *a)
{
    memset(m, 0, sizeof *m);
    vkmm_gguf_get_u32(g, "clip.vision.patch_size", &m->patch);
    vkmm_gguf_get_u32(g, "clip.vision.embedding_length", &m->n_embd);
    vkmm_gguf_get_u32(g, "clip.vision.attention.head_count", &m->n_head);
    vkmm_gguf_get_u32(g, "clip.vision.feed_forward_length", &m->n_ff);
    vkmm_gguf_get_u32(g, "clip.vision.block_count", &m->n_layer);
    vkmm_gguf_get_u32(g, "clip.vision.projection_dim", &m->n_text_embd);
    m->pool = 3;
    vkmm_gguf_get_u32(g, "clip.vision.projector.scale_factor", &m->pool);
    m->eps = 1e-6f;
    vkmm_gguf_get_f32(g, "clip.vision.attention.layer_norm_epsilon", &m->eps);
    m->rope_theta = 100.0;
    const vkmm_gguf_tensor *tp = vkmm_gguf_tensor_by_name(g, "v.position_embd.weight");
    if (!tp || !m->n_layer || !m->n_head) {
        fprintf(stderr, "reference: %s: not a gemma4v mmproj\n", vkmm_gguf_path(g));
        return false;
    }
    m->n_pos = (uint32_t)tp->ne[1];
    if (!(m->patch_w = ref_tensor(g, a, "v.patch_embd.weight", true)) ||
        !(m->pos = ref_tensor(g, a, "v.position_embd.weight", true)) ||
        !(m->proj = ref_tensor(g, a, "mm.input_projection.weight", true)))
        return false;
    m->std_bias = ref_tensor(g, a, "v.std_bias", false);
    m->std_scale = ref_tensor(g, a, "v.std_scale", false);
    m->layers = calloc(m->n_layer, sizeof *m->layers);
    char n[96];
    for (uint32_t l = 0; l < m->n_layer; l++) {
        ref_gemma4v_layer *L = &m->layers[l];
        static const struct { const char *name; size_t off; } norms[] = {
            {"ln1", offsetof(ref_gemma4v_layer, ln1)},
            {"attn_q_norm", offsetof(ref_gemma4v_layer, q_norm)},
            {"attn_k_norm", offsetof(ref_gemma4v_layer, k_norm)},
            {"attn_post_norm", offsetof(ref_gemma4v_layer, attn_post)},
            {"ln2", offsetof(ref_gemma4v_layer, ln2)},
            {"ffn_post_norm", offsetof(ref_gemma4v_layer, ffn_post)},
        };
        for (size_t i = 0; i < sizeof norms / sizeof *norms; i++) {
            snprintf(n, sizeof n, "v.blk.%u.%s.weight", l, norms[i].name);
            const float **dst = (const float **)((char *)L + norms[i].off);
            if (!(*dst = ref_tensor(g, a, n, true)))
                return false;
        }
        for (int i = 0; i < REF_G4V_LINEARS; i++) {
            snprintf(n, sizeof n, "v.blk.%u.%s.weight", l, linear_names[i]);
            if (!(L->w[i] = ref_tensor(g, a, n, true)))
                return false;
            static const char *const bound[4] = {"input_min", "input_max", "output_min", "output_max"};
            for (int b = 0; b < 4; b++) {
                snprintf(n, sizeof n, "v.blk.%u.%s.%s", l, linear_names[i], bound[b]);
                if (!scalar(g, n, b % 2 ? INFINITY : -INFINITY, &L->clamp[i][b]))
                    return false;
            }
        }
        snprintf(n, sizeof n, "v.blk.%u.out_scale.weight", l);
        L->out_scale = ref_tensor(g, a, n, false);
    }
    return true;
}

/* ---- the forward pass ---- */

/* HF Gemma4RMSNorm: x · (mean(x²) + eps)^-0.5 · w (w NULL: with_scale False) */
static void rms_norm(double *x, size_t n, const float *w, double eps)
{
    double ss = 0;
    for (size_t i = 0; i < n; i++)
        ss += x[i] * x[i];
    double r = 1.0 / sqrt(ss / (double)n + eps);
    for (size_t i = 0; i < n; i++)
        x[i] = x[i] * r * (w ? w[i] : 1.0);
}

static double clampd(double x, float lo, float hi)
{
    return x < lo ? lo : x > hi ? hi : x;
}

/* Gemma4ClippableLinear: out[T][rows] = clamp(W · clamp(in)) */
static void linear(const ref_gemma4v_layer *L, int which, const double *in, uint32_t T, uint32_t k, uint32_t rows,
                   double *out)
{
    const float *W = L->w[which], *c = L->clamp[which];
    double *x = malloc(sizeof *x * k);
    for (uint32_t t = 0; t < T; t++) {
        for (uint32_t i = 0; i < k; i++)
            x[i] = clampd(in[(size_t)t * k + i], c[0], c[1]);
        for (uint32_t r = 0; r < rows; r++) {
            double s = 0;
            for (uint32_t i = 0; i < k; i++)
                s += (double)W[(size_t)r * k + i] * x[i];
            out[(size_t)t * rows + r] = clampd(s, c[2], c[3]);
        }
    }
    free(x);
}

/* apply_multidimensional_rope: the head in halves, each rotate_half-style over d/2 dims with inv_freq
 * theta^(-2j/(d/2)); the first half by the patch's x (column), the second by its y (row). */
static void rope_2d(double *v, uint32_t d, double theta, uint32_t col, uint32_t row)
{
    uint32_t h = d / 2, q = d / 4;
    for (uint32_t half = 0; half < 2; half++) {
        double *p = v + half * h, pos = half == 0 ? col : row;
        for (uint32_t j = 0; j < q; j++) {
            double ang = pos * pow(theta, -2.0 * j / h), a = p[j], b = p[j + q];
            p[j] = a * cos(ang) - b * sin(ang);
            p[j + q] = b * cos(ang) + a * sin(ang);
        }
    }
}

static double gelu_tanh(double x)
{
    return 0.5 * x * (1.0 + tanh(0.7978845608028654 * (x + 0.044715 * x * x * x))); /* sqrt(2/pi) */
}

static double f16_round(double x)
{
    return vkmm_f16_to_f32(vkmm_f32_to_f16((float)x));
}

/* Bidirectional attention of T patches, scale 1, over q/k/v [T][H][hd]; out [T][H·hd]. */
static void attend(const double *q, const double *k, const double *v, uint32_t T, uint32_t H, uint32_t hd, double *out)
{
    double *s = malloc(sizeof *s * T);
    for (uint32_t h = 0; h < H; h++)
        for (uint32_t i = 0; i < T; i++) {
            const double *qi = q + ((size_t)i * H + h) * hd;
            double mx = -INFINITY, sum = 0;
            for (uint32_t j = 0; j < T; j++) {
                const double *kj = k + ((size_t)j * H + h) * hd;
                double dot = 0;
                for (uint32_t c = 0; c < hd; c++)
                    dot += qi[c] * kj[c];
                s[j] = dot;
                mx = dot > mx ? dot : mx;
            }
            for (uint32_t j = 0; j < T; j++)
                sum += (s[j] = exp(s[j] - mx));
            double *o = out + ((size_t)i * H + h) * hd;
            memset(o, 0, sizeof *o * hd);
            for (uint32_t j = 0; j < T; j++) {
                const double *vj = v + ((size_t)j * H + h) * hd;
                for (uint32_t c = 0; c < hd; c++)
                    o[c] += s[j] / sum * vj[c];
            }
        }
    free(s);
}

/* One encoder layer (Gemma4VisionEncoderLayer) on x [T][E], the patches of a gw-wide grid. */
static void layer(const ref_gemma4v *m, const ref_gemma4v_layer *L, double *x, uint32_t T, uint32_t gw, bool kv_f16)
{
    uint32_t E = m->n_embd, F = m->n_ff, H = m->n_head, hd = E / H;
    size_t te = (size_t)T * E;
    double *hn = malloc(sizeof *hn * te), *q = malloc(sizeof *q * te), *k = malloc(sizeof *k * te);
    double *v = malloc(sizeof *v * te), *a = malloc(sizeof *a * te), *o = malloc(sizeof *o * te);
    double *g = malloc(sizeof *g * (size_t)T * F), *u = malloc(sizeof *u * (size_t)T * F);
    memcpy(hn, x, sizeof *hn * te);
    for (uint32_t t = 0; t < T; t++)
        rms_norm(hn + (size_t)t * E, E, L->ln1, m->eps);
    linear(L, REF_G4V_Q, hn, T, E, E, q);
    linear(L, REF_G4V_K, hn, T, E, E, k);
    linear(L, REF_G4V_V, hn, T, E, E, v);
    for (uint32_t t = 0; t < T; t++)
        for (uint32_t h = 0; h < H; h++) {
            size_t b = ((size_t)t * H + h) * hd;
            rms_norm(q + b, hd, L->q_norm, m->eps);
            rms_norm(k + b, hd, L->k_norm, m->eps);
            rms_norm(v + b, hd, NULL, m->eps);
            rope_2d(q + b, hd, m->rope_theta, t % gw, t / gw);
            rope_2d(k + b, hd, m->rope_theta, t % gw, t / gw);
            if (kv_f16)
                for (uint32_t c = 0; c < hd; c++) {
                    k[b + c] = f16_round(k[b + c]);
                    v[b + c] = f16_round(v[b + c]);
                }
        }
    attend(q, k, v, T, H, hd, a);
    linear(L, REF_G4V_O, a, T, E, E, o);
    for (uint32_t t = 0; t < T; t++) {
        rms_norm(o + (size_t)t * E, E, L->attn_post, m->eps);
        for (uint32_t i = 0; i < E; i++)
            x[(size_t)t * E + i] += o[(size_t)t * E + i];
    }
    memcpy(hn, x, sizeof *hn * te);
    for (uint32_t t = 0; t < T; t++)
        rms_norm(hn + (size_t)t * E, E, L->ln2, m->eps);
    linear(L, REF_G4V_GATE, hn, T, E, F, g);
    linear(L, REF_G4V_UP, hn, T, E, F, u);
    for (size_t i = 0; i < (size_t)T * F; i++)
        g[i] = gelu_tanh(g[i]) * u[i];
    linear(L, REF_G4V_DOWN, g, T, F, E, o);
    for (uint32_t t = 0; t < T; t++) {
        rms_norm(o + (size_t)t * E, E, L->ffn_post, m->eps);
        for (uint32_t i = 0; i < E; i++) {
            double *xi = &x[(size_t)t * E + i];
            *xi += o[(size_t)t * E + i];
            if (L->out_scale)
                *xi *= L->out_scale[0];
        }
    }
    free(hn), free(q), free(k), free(v), free(a), free(o), free(g), free(u);
}

uint32_t ref_gemma4v_encode(const ref_gemma4v *m, const float *pixels, uint32_t h, uint32_t w, bool kv_f16,
                            float *out)
{
    uint32_t P = m->patch, E = m->n_embd, gh = h / P, gw = w / P, T = gh * gw, k = m->pool;
    double *x = calloc((size_t)T * E, sizeof *x);
    /* Gemma4VisionPatchEmbedder: 2 · (pixels − 0.5) through a bias-free linear, plus the column and row tables */
    for (uint32_t t = 0; t < T; t++) {
        uint32_t r = t / gw, c = t % gw;
        for (uint32_t e = 0; e < E; e++) {
            double s = 0;
            for (uint32_t ch = 0; ch < 3; ch++)
                for (uint32_t py = 0; py < P; py++)
                    for (uint32_t px = 0; px < P; px++) {
                        double p = pixels[((size_t)ch * h + r * P + py) * w + c * P + px];
                        s += (double)m->patch_w[(((size_t)e * 3 + ch) * P + py) * P + px] * (2.0 * (p - 0.5));
                    }
            x[(size_t)t * E + e] = s + m->pos[(size_t)c * E + e] + m->pos[((size_t)m->n_pos + r) * E + e];
        }
    }
    for (uint32_t l = 0; l < m->n_layer; l++)
        layer(m, &m->layers[l], x, T, gw, kv_f16);
    /* Gemma4VisionPooler: k x k averages in row-major order of the pooled grid, times sqrt(E); then the
     * standardisation and Gemma4MultimodalEmbedder */
    uint32_t ph = gh / k, pw = gw / k, rows = ph * pw;
    double *y = malloc(sizeof *y * E);
    for (uint32_t o = 0; o < rows; o++) {
        uint32_t R = o / pw, C = o % pw;
        for (uint32_t e = 0; e < E; e++) {
            double s = 0;
            for (uint32_t dy = 0; dy < k; dy++)
                for (uint32_t dx = 0; dx < k; dx++)
                    s += x[((size_t)(R * k + dy) * gw + C * k + dx) * E + e];
            y[e] = s / (k * k) * sqrt((double)E);
            if (m->std_bias)
                y[e] = (y[e] - m->std_bias[e]) * m->std_scale[e];
        }
        rms_norm(y, E, NULL, m->eps);
        for (uint32_t j = 0; j < m->n_text_embd; j++) {
            double s = 0;
            for (uint32_t e = 0; e < E; e++)
                s += (double)m->proj[(size_t)j * E + e] * y[e];
            out[(size_t)o * m->n_text_embd + j] = (float)s;
        }
    }
    free(y);
    free(x);
    return rows;
}
