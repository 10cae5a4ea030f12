/* tests/ref/ref_gemma4a.c — Gemma 4's audio tower in double, following modeling_gemma4.py's classes in order
 * (Gemma4AudioSubSampleConvProjection, Gemma4AudioRelPositionalEncoding, the 5-D blocked mask, Gemma4AudioLayer with
 * its feed-forwards, Gemma4AudioAttention, Gemma4AudioLightConv1d, then output_proj and Gemma4MultimodalEmbedder).
 * Hugging Face's gradient_clipping clamps (±1e10) are left out: no finite f32 activation reaches them. */
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "audio.h"
#include "ref_gemma4a.h"

/* Gemma4AudioConfig defaults */
enum { CHUNK = 12, CONTEXT_LEFT = 13, CONTEXT_RIGHT = 0 };
static const double SOFTCAP = 50.0, RESIDUAL = 0.5, EPS = 1e-6, INVALID_LOGIT = -1e9;

/* ---- helpers over [rows][cols] doubles ---- */

static double *dalloc(size_t n)
{
    return calloc(n ? n : 1, sizeof(double));
}

/* Gemma4RMSNorm: x · (mean(x²) + eps)^-0.5 · w (w NULL: with_scale=False) */
static void rms_norm(double *x, size_t rows, size_t cols, const float *w)
{
    for (size_t r = 0; r < rows; r++) {
        double *v = x + r * cols, sq = 0;
        for (size_t i = 0; i < cols; i++)
            sq += v[i] * v[i];
        double s = pow(sq / (double)cols + EPS, -0.5);
        for (size_t i = 0; i < cols; i++)
            v[i] *= s * (w ? w[i] : 1.0);
    }
}

static double clampd(double v, float lo, float hi)
{
    return v < lo ? lo : v > hi ? hi : v;
}

/* nn.Linear: y[r][o] = Σ_i w[o][i] · x[r][i] (+ b[o]) */
static double *matmul(const double *x, size_t rows, size_t k, const float *w, const float *b, size_t n_out)
{
    double *y = dalloc(rows * n_out);
    for (size_t r = 0; r < rows; r++)
        for (size_t o = 0; o < n_out; o++) {
            double acc = b ? b[o] : 0.0;
            const float *wo = w + o * k;
            for (size_t i = 0; i < k; i++)
                acc += wo[i] * x[r * k + i];
            y[r * n_out + o] = acc;
        }
    return y;
}

/* Gemma4ClippableLinear: clamp(W · clamp(x)) */
static double *clipped(const ref_g4a_linear *l, const double *x, size_t rows, size_t k, size_t n_out)
{
    double *xc = dalloc(rows * k);
    for (size_t i = 0; i < rows * k; i++)
        xc[i] = clampd(x[i], l->in_lo, l->in_hi);
    double *y = matmul(xc, rows, k, l->w, NULL, n_out);
    for (size_t i = 0; i < rows * n_out; i++)
        y[i] = clampd(y[i], l->out_lo, l->out_hi);
    free(xc);
    return y;
}

static double silu(double v)
{
    return v / (1.0 + exp(-v));
}

/* ---- Gemma4AudioSubSampleConvProjectionLayer: x (B=1, C_in, T, F) channels first ---- */

static double *subsample_layer(const double *x, const uint8_t *mask, uint32_t cin, uint32_t t, uint32_t f,
                               const float *w, const float *b, const float *norm, uint32_t cout, uint32_t *t_out,
                               uint32_t *f_out)
{
    uint32_t to = (t + 2 - 3) / 2 + 1, fo = (f + 2 - 3) / 2 + 1;
    double *y = dalloc((size_t)cout * to * fo);
    /* hidden_states * mask[:, None, :, None], then Conv2d(3, stride 2, padding 1) */
    for (uint32_t o = 0; o < cout; o++)
        for (uint32_t yt = 0; yt < to; yt++)
            for (uint32_t yf = 0; yf < fo; yf++) {
                double acc = b ? b[o] : 0.0;
                for (uint32_t c = 0; c < cin; c++)
                    for (int i = 0; i < 3; i++)
                        for (int j = 0; j < 3; j++) {
                            long st = 2L * yt - 1 + i, sf = 2L * yf - 1 + j;
                            if (st < 0 || sf < 0 || st >= t || sf >= f || !mask[st])
                                continue;
                            acc += w[(((size_t)o * cin + c) * 3 + i) * 3 + j] * x[((size_t)c * t + st) * f + sf];
                        }
                y[((size_t)o * to + yt) * fo + yf] = acc;
            }
    /* LayerNorm over channels (weight, no bias), then ReLU */
    for (uint32_t yt = 0; yt < to; yt++)
        for (uint32_t yf = 0; yf < fo; yf++) {
            double mean = 0, var = 0;
            for (uint32_t o = 0; o < cout; o++)
                mean += y[((size_t)o * to + yt) * fo + yf];
            mean /= cout;
            for (uint32_t o = 0; o < cout; o++) {
                double d = y[((size_t)o * to + yt) * fo + yf] - mean;
                var += d * d;
            }
            var /= cout;
            for (uint32_t o = 0; o < cout; o++) {
                double *v = &y[((size_t)o * to + yt) * fo + yf];
                *v = (*v - mean) / sqrt(var + EPS) * norm[o];
                if (*v < 0)
                    *v = 0;
            }
        }
    *t_out = to, *f_out = fo;
    return y;
}

/* ---- Gemma4AudioFeedForward: x += 0.5 · post_norm(down(silu(up(pre_norm(x))))) ---- */

static void feed_forward(const ref_gemma4a *m, const ref_g4a_layer *L, int which, double *x, uint32_t n)
{
    uint32_t E = m->n_embd, F = m->n_ff;
    double *h = dalloc((size_t)n * E);
    memcpy(h, x, sizeof *h * n * E);
    rms_norm(h, n, E, L->ffn_norm[which]);
    double *u = clipped(&L->ffn_up[which], h, n, E, F);
    for (size_t i = 0; i < (size_t)n * F; i++)
        u[i] = silu(u[i]);
    double *d = clipped(&L->ffn_down[which], u, n, F, E);
    rms_norm(d, n, E, L->ffn_post_norm[which]);
    for (size_t i = 0; i < (size_t)n * E; i++)
        x[i] += RESIDUAL * d[i];
    free(h), free(u), free(d);
}

/* ---- Gemma4AudioAttention, in blocks as the reference computes it ---- */

static void attention(const ref_gemma4a *m, const ref_g4a_layer *L, const double *pos_emb, uint32_t n_rel,
                      const uint8_t *valid, double *x, uint32_t n)
{
    const int P = CONTEXT_LEFT - 1, FUT = CONTEXT_RIGHT, S = CHUNK + P + FUT;
    uint32_t E = m->n_embd, H = m->n_head, D = E / H, B = (n + CHUNK - 1) / CHUNK;
    double q_scale = pow(D, -0.5) / log(2.0), k_scale = log(1.0 + exp(1.0)) / log(2.0);
    double *h = dalloc((size_t)n * E);
    memcpy(h, x, sizeof *h * n * E);
    rms_norm(h, n, E, L->attn_pre_norm);
    double *q = clipped(&L->q, h, n, E, E), *k = clipped(&L->k, h, n, E, E), *v = clipped(&L->v, h, n, E, E);
    for (uint32_t t = 0; t < n; t++)
        for (uint32_t i = 0; i < E; i++) {
            q[(size_t)t * E + i] *= q_scale * L->per_dim_scale[i % D];
            k[(size_t)t * E + i] *= k_scale;
        }
    double *rel = matmul(pos_emb, n_rel, E, L->k_rel, NULL, E); /* relative_k_proj [R][H·D] */
    double *o = dalloc((size_t)B * CHUNK * E), *bd_raw = dalloc(n_rel), *bd_pad = dalloc((size_t)CHUNK * (S + 1));
    double *logit = dalloc(S);
    for (uint32_t b = 0; b < B; b++)
        for (uint32_t hh = 0; hh < H; hh++) {
            /* matrix_bd for the block's queries, then _rel_shift: pad positions to S + 1, flatten, keep C·S */
            memset(bd_pad, 0, sizeof *bd_pad * CHUNK * (S + 1));
            for (int i = 0; i < CHUNK; i++) {
                uint32_t qt = b * CHUNK + i;
                for (uint32_t r = 0; r < n_rel; r++) {
                    double acc = 0;
                    if (qt < n) /* _convert_to_block pads queries with zeros */
                        for (uint32_t d = 0; d < D; d++)
                            acc += q[(size_t)qt * E + hh * D + d] * rel[(size_t)r * E + hh * D + d];
                    bd_pad[(size_t)i * (S + 1) + r] = acc;
                }
            }
            for (int i = 0; i < CHUNK; i++) {
                uint32_t qt = b * CHUNK + i;
                double mx = -INFINITY;
                for (int jc = 0; jc < S; jc++) {
                    long kt = (long)b * CHUNK + jc - P; /* _extract_block_context: P zeros in front */
                    double ac = 0;
                    if (qt < n && kt >= 0 && kt < n)
                        for (uint32_t d = 0; d < D; d++)
                            ac += q[(size_t)qt * E + hh * D + d] * k[(size_t)kt * E + hh * D + d];
                    double s = ac + bd_pad[(size_t)i * S + jc]; /* the flattened view [C][S] of [C][S + 1] */
                    s = tanh(s / SOFTCAP) * SOFTCAP;
                    /* the blocked mask: key valid, 0 <= q - k < context_left - 1, or 0 < k - q < context_right */
                    long dist = (long)qt - kt;
                    bool ok = qt < n && kt >= 0 && kt < n && valid[kt] &&
                              ((dist >= 0 && dist < P) || (dist < 0 && -dist < FUT));
                    logit[jc] = ok ? s : INVALID_LOGIT;
                    if (logit[jc] > mx)
                        mx = logit[jc];
                }
                double sum = 0;
                for (int jc = 0; jc < S; jc++)
                    sum += exp(logit[jc] - mx);
                for (uint32_t d = 0; d < D; d++) {
                    double acc = 0;
                    for (int jc = 0; jc < S; jc++) {
                        long kt = (long)b * CHUNK + jc - P;
                        if (kt >= 0 && kt < n)
                            acc += exp(logit[jc] - mx) / sum * v[(size_t)kt * E + hh * D + d];
                    }
                    o[((size_t)b * CHUNK + i) * E + hh * D + d] = acc;
                }
            }
        }
    double *y = clipped(&L->o, o, n, E, E); /* the first n rows: padding trimmed */
    rms_norm(y, n, E, L->attn_post_norm);
    for (size_t i = 0; i < (size_t)n * E; i++)
        x[i] += y[i];
    free(h), free(q), free(k), free(v), free(rel), free(o), free(bd_raw), free(bd_pad), free(logit), free(y);
}

/* ---- Gemma4AudioLightConv1d ---- */

static void light_conv(const ref_gemma4a *m, const ref_g4a_layer *L, double *x, uint32_t n)
{
    uint32_t E = m->n_embd, K = m->conv_kernel;
    double *h = dalloc((size_t)n * E);
    memcpy(h, x, sizeof *h * n * E);
    rms_norm(h, n, E, L->conv_pre_norm);
    double *p = clipped(&L->pw1, h, n, E, 2 * E);
    double *g = dalloc((size_t)n * E), *c = dalloc((size_t)n * E);
    for (uint32_t t = 0; t < n; t++) /* nn.functional.glu: a · sigmoid(b) */
        for (uint32_t i = 0; i < E; i++)
            g[(size_t)t * E + i] = p[(size_t)t * 2 * E + i] / (1.0 + exp(-p[(size_t)t * 2 * E + E + i]));
    for (uint32_t t = 0; t < n; t++) /* Gemma4AudioCausalConv1d: K − 1 zeros in front, groups = channels */
        for (uint32_t i = 0; i < E; i++) {
            double acc = 0;
            for (uint32_t j = 0; j < K; j++) {
                long s = (long)t + j - (long)(K - 1);
                if (s >= 0)
                    acc += L->conv_dw[(size_t)i * K + j] * g[(size_t)s * E + i];
            }
            c[(size_t)t * E + i] = acc;
        }
    rms_norm(c, n, E, L->conv_mid_norm);
    for (size_t i = 0; i < (size_t)n * E; i++)
        c[i] = silu(c[i]);
    double *e = clipped(&L->pw2, c, n, E, E);
    for (size_t i = 0; i < (size_t)n * E; i++)
        x[i] += e[i];
    free(h), free(p), free(g), free(c), free(e);
}

uint32_t ref_gemma4a_encode(const ref_gemma4a *m, const float *features, uint32_t n_frames, uint32_t n_valid,
                            float *out)
{
    uint32_t E = m->n_embd;
    uint8_t *mask0 = calloc(n_frames + 1, 1);
    for (uint32_t t = 0; t < n_frames; t++)
        mask0[t] = t < n_valid;
    double *x0 = dalloc((size_t)n_frames * m->n_mel);
    for (size_t i = 0; i < (size_t)n_frames * m->n_mel; i++)
        x0[i] = features[i];
    /* layer 0 on (1, 1, T, F), mask[::2] for layer 1, and again for the output */
    uint32_t t1, f1, t2, f2;
    double *y0 = subsample_layer(x0, mask0, 1, n_frames, m->n_mel, m->conv_w[0], m->conv_b[0], m->conv_norm[0], m->ch0,
                                 &t1, &f1);
    uint8_t *mask1 = calloc(t1 + 1, 1), *mask2;
    for (uint32_t t = 0; t < t1; t++)
        mask1[t] = mask0[2 * t];
    double *y1 = subsample_layer(y0, mask1, m->ch0, t1, f1, m->conv_w[1], m->conv_b[1], m->conv_norm[1], m->ch1, &t2,
                                 &f2);
    mask2 = calloc(t2 + 1, 1);
    for (uint32_t t = 0; t < t2; t++)
        mask2[t] = mask1[2 * t];
    /* permute(0, 2, 3, 1): (T, F, C) flattened to F·C per step, then input_proj_linear */
    size_t flat = (size_t)f2 * m->ch1;
    double *xf = dalloc(t2 * flat);
    for (uint32_t t = 0; t < t2; t++)
        for (uint32_t f = 0; f < f2; f++)
            for (uint32_t c = 0; c < m->ch1; c++)
                xf[t * flat + (size_t)f * m->ch1 + c] = y1[((size_t)c * t2 + t) * f2 + f];
    double *x = matmul(xf, t2, flat, m->in_proj, m->in_proj_b, E);
    /* Gemma4AudioRelPositionalEncoding: positions context/2 .. 0, [sin | cos] */
    int context = CHUNK + CONTEXT_LEFT - 1 + CONTEXT_RIGHT;
    uint32_t n_rel = (uint32_t)(context / 2 + 1), half = E / 2;
    double inc = log(10000.0) / (half > 1 ? half - 1 : 1);
    double *pos = dalloc((size_t)n_rel * E);
    for (uint32_t r = 0; r < n_rel; r++)
        for (uint32_t i = 0; i < half; i++) {
            double a = (double)(context / 2 - (int)r) * exp(-(double)i * inc);
            pos[(size_t)r * E + i] = sin(a);
            pos[(size_t)r * E + half + i] = cos(a);
        }
    for (uint32_t il = 0; il < m->n_layer; il++) {
        const ref_g4a_layer *L = &m->layers[il];
        feed_forward(m, L, 0, x, t2);
        attention(m, L, pos, n_rel, mask2, x, t2);
        light_conv(m, L, x, t2);
        feed_forward(m, L, 1, x, t2);
        rms_norm(x, t2, E, L->out_norm);
    }
    double *y = matmul(x, t2, E, m->out_proj, m->out_proj_b, m->n_out);
    rms_norm(y, t2, m->n_out, NULL);
    double *z = matmul(y, t2, m->n_out, m->mm_proj, NULL, m->n_text);
    uint32_t rows = 0;
    for (uint32_t t = 0; t < t2; t++) /* only the valid soft tokens reach the text model */
        if (mask2[t]) {
            if (out)
                for (uint32_t i = 0; i < m->n_text; i++)
                    out[(size_t)rows * m->n_text + i] = (float)z[(size_t)t * m->n_text + i];
            rows++;
        }
    free(mask0), free(mask1), free(mask2), free(x0), free(y0), free(y1), free(xf), free(x), free(pos), free(y), free(z);
    return rows;
}

uint64_t ref_gemma4a_encode_pcm(const ref_gemma4a *m, const float *pcm, uint64_t n, float *out)
{
    const uint64_t piece = 30 * 16000;
    vkmm_mel_params mp = vkmm_mel_params_gemma4();
    mp.n_mel = m->n_mel;
    uint64_t rows = 0;
    for (uint64_t start = 0; start < n; start += piece) {
        uint64_t len = n - start < piece ? n - start : piece;
        float *feat = NULL;
        uint32_t frames, valid;
        vkmm_error err;
        if (vkmm_mel_compute(&mp, pcm + start, len, &feat, &frames, &valid, &err))
            return 0;
        if (valid)
            rows += ref_gemma4a_encode(m, feat, frames, valid, out ? out + rows * m->n_text : NULL);
        free(feat);
    }
    return rows;
}
