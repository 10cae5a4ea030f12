/* tools/synth.c — the synth driver: reads the tokenizer, seeds per-tensor random streams, and writes both files
 * through the GGUF writer (row by row, so even the real 4B shape never sits in memory whole). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "dtype_table.h"
#include "hf_tokenizer.h"
#include "synth.h"

typedef struct synth_fill {
    uint64_t seed;
    vkmm_dtype type;
    uint64_t k;
    float center, spread;
    bool random_blocks;
    float *values;      /* given values (one row of k) instead of random ones */
} fill_state;

static uint64_t mix(uint64_t x)
{
    x ^= x >> 30;
    x *= 0xbf58476d1ce4e5b9ull;
    x ^= x >> 27;
    x *= 0x94d049bb133111ebull;
    return x ^ (x >> 31);
}

static uint64_t name_hash(const char *s)
{
    uint64_t h = 1469598103934665603ull;
    for (; *s; s++)
        h = (h ^ (uint8_t)*s) * 1099511628211ull;
    return h;
}

/* Random bits that are a valid block of `type` with small finite scales: cheap stand-ins for big models
 * whose values do not matter (benchmarks). Every f16 field a block holds is rewritten to a sane scale. */
static void random_block_bytes(uint8_t *p, uint64_t n, vkmm_dtype type, uint64_t *state)
{
    for (uint64_t i = 0; i < n; i += 8) {
        uint64_t r = mix(++*state);
        memcpy(p + i, &r, n - i < 8 ? n - i : 8);
    }
    const vkmm_dtype_info *t = vkmm_dtype_get(type);
    static const struct { vkmm_dtype type; uint8_t offs[2]; } halves[] = {
        {VKMM_Q4_0, {0, 255}}, {VKMM_Q4_1, {0, 2}}, {VKMM_Q5_0, {0, 255}}, {VKMM_Q5_1, {0, 2}},
        {VKMM_Q8_0, {0, 255}}, {VKMM_Q2_K, {80, 82}}, {VKMM_Q3_K, {108, 255}}, {VKMM_Q4_K, {0, 2}},
        {VKMM_Q5_K, {0, 2}}, {VKMM_Q6_K, {208, 255}}, {VKMM_IQ4_NL, {0, 255}}, {VKMM_IQ4_XS, {0, 255}},
    };
    for (size_t h = 0; h < sizeof halves / sizeof *halves; h++)
        if (halves[h].type == type)
            for (uint64_t b = 0; b < n; b += t->block_bytes)
                for (int j = 0; j < 2; j++)
                    if (halves[h].offs[j] != 255) {
                        p[b + halves[h].offs[j]] = 0x00;
                        p[b + halves[h].offs[j] + 1] = 0x1c; /* 2^-8 */
                    }
}

static vkmm_status fill(void *user, uint64_t row0, uint64_t n_rows, uint64_t row_bytes, void *dst, vkmm_error *err)
{
    fill_state *f = user;
    if (f->random_blocks && vkmm_dtype_get(f->type)->block > 1) {
        uint64_t st = f->seed ^ mix(row0);
        random_block_bytes(dst, n_rows * row_bytes, f->type, &st);
        return VKMM_OK;
    }
    if (f->values) {
        vkmm_quantize(f->type, f->values, dst, f->k);
        return VKMM_OK;
    }
    float *row = malloc(sizeof *row * f->k);
    if (!row)
        return vkmm_fail(err, VKMM_ERR_HOST_MEMORY, "out of host memory");
    for (uint64_t r = 0; r < n_rows; r++) {
        uint64_t st = f->seed ^ mix(row0 + r + 1);
        for (uint64_t i = 0; i < f->k; i++) {
            uint64_t x = mix(st + i);
            float u = (float)((x >> 40) * (1.0 / 16777216.0)) * 2.0f - 1.0f;
            row[i] = f->center + f->spread * u;
        }
        vkmm_quantize(f->type, row, (uint8_t *)dst + r * row_bytes, f->k);
    }
    free(row);
    return VKMM_OK;
}

static fill_state *new_fill(synth_ctx *c)
{
    if (c->n_fills == c->cap_fills) {
        size_t cap = c->cap_fills ? c->cap_fills * 2 : 64;
        fill_state **v = realloc(c->fills, cap * sizeof *v);
        if (!v)
            return NULL;
        c->fills = v;
        c->cap_fills = cap;
    }
    fill_state *f = calloc(1, sizeof *f);
    if (f)
        c->fills[c->n_fills++] = f;
    return f;
}

void synth_tensor(synth_ctx *c, const char *name, vkmm_dtype type, uint32_t n_dims, const uint64_t *ne, float center,
                  float spread)
{
    fill_state *f = new_fill(c);
    if (!f)
        return; /* the writer reports the missing tensor as an error at write time */
    *f = (fill_state){c->seed ^ name_hash(name), type, ne[0], center, spread, c->o->random_blocks, NULL};
    vkmm_gguf_writer_add_tensor_fill(c->w, name, type, n_dims, ne, fill, f);
}

void synth_values(synth_ctx *c, const char *name, const float *values, uint64_t n)
{
    fill_state *f = new_fill(c);
    if (!f || !(f->values = malloc(sizeof *f->values * n)))
        return;
    memcpy(f->values, values, sizeof *f->values * n);
    f->type = VKMM_F32;
    f->k = n;
    vkmm_gguf_writer_add_tensor_fill(c->w, name, VKMM_F32, 1, &n, fill, f);
}

vkmm_dtype synth_type_for(vkmm_dtype type, uint64_t k)
{
    if (k % vkmm_dtype_get(type)->block == 0)
        return type;
    /* rows that are not whole super-blocks: llama.cpp's quantizer falls back to a 32-wide type */
    static const struct { vkmm_dtype from, to; } fallback[] = {
        {VKMM_Q2_K, VKMM_IQ4_NL}, {VKMM_Q3_K, VKMM_IQ4_NL}, {VKMM_IQ4_XS, VKMM_IQ4_NL}, {VKMM_Q4_K, VKMM_Q5_0},
        {VKMM_Q5_K, VKMM_Q5_1}, {VKMM_Q6_K, VKMM_Q8_0},
    };
    for (size_t i = 0; i < sizeof fallback / sizeof *fallback; i++)
        if (fallback[i].from == type && k % vkmm_dtype_get(fallback[i].to)->block == 0)
            return fallback[i].to;
    return VKMM_F16;
}

void synth_matrix(synth_ctx *c, const char *name, vkmm_dtype type, uint64_t k, uint64_t rows)
{
    uint64_t ne[2] = {k, rows};
    synth_tensor(c, name, synth_type_for(type, k), 2, ne, 0.0f, sqrtf(3.0f / (float)k));
}

void synth_vector(synth_ctx *c, const char *name, uint64_t n, float center, float spread)
{
    synth_tensor(c, name, VKMM_F32, 1, &n, center, spread);
}

void synth_ctx_free(synth_ctx *c)
{
    for (size_t i = 0; i < c->n_fills; i++) {
        free(c->fills[i]->values);
        free(c->fills[i]);
    }
    free(c->fills);
    vkmm_gguf_writer_free(c->w);
}

/* An mmproj alone (gemma4v), for a tower test that needs no text model. */
static vkmm_status synth_vision_only(const vkmm_synth_opts *o, vkmm_error *err)
{
    if (!o->mmproj_out)
        return vkmm_fail(err, VKMM_ERR_INVALID_ARG, "synth %s writes an mmproj alone: give its path", o->arch);
    const vkmm_dtype_info *vi = vkmm_dtype_get(o->vision_type);
    if (!vi || !vi->supported)
        return vkmm_fail(err, VKMM_ERR_UNSUPPORTED, "synth: weight type not supported");
    synth_ctx vision = {.o = o, .w = vkmm_gguf_writer_new(), .seed = mix(o->seed + 2)};
    if (!vision.w)
        return vkmm_fail(err, VKMM_ERR_HOST_MEMORY, "out of host memory");
    vkmm_status s = synth_gemma4v(&vision, o->size, o->n_embd ? o->n_embd : 256, err);
    if (!s)
        s = vkmm_gguf_writer_write(vision.w, o->mmproj_out, err);
    synth_ctx_free(&vision);
    return s;
}

vkmm_status vkmm_synth(const vkmm_synth_opts *o, vkmm_error *err)
{
    if (o->arch && !strcmp(o->arch, "gemma4v"))
        return synth_vision_only(o, err);
    if (!o->out || !o->tokenizer || !o->arch)
        return vkmm_fail(err, VKMM_ERR_INVALID_ARG, "synth needs an architecture, a tokenizer file and an output path");
    const vkmm_dtype_info *ti = vkmm_dtype_get(o->type), *vi = vkmm_dtype_get(o->vision_type);
    if (!ti || !ti->supported || !vi || !vi->supported)
        return vkmm_fail(err, VKMM_ERR_UNSUPPORTED, "synth: weight type not supported");
    bool gemma = !strcmp(o->arch, "gemma3"), mistral = !strcmp(o->arch, "mistral3");
    bool gemma4 = !strcmp(o->arch, "gemma4");
    if (!gemma && !mistral && !gemma4)
        return vkmm_fail(err, VKMM_ERR_UNSUPPORTED,
                         "synth: unknown architecture '%s' (gemma3, gemma4, mistral3, gemma4v)", o->arch);
    vkmm_vocab vocab;
    vkmm_vocab_init(&vocab);
    vkmm_status s = gemma ? vkmm_vocab_from_hf_file(&vocab, o->tokenizer, NULL, err)
                    : gemma4 ? synth_gemma4_vocab(&vocab, o->tokenizer, err)
                             : vkmm_vocab_from_tekken_file(&vocab, o->tokenizer, err);
    if (s)
        return s;
    synth_ctx text = {.o = o, .w = vkmm_gguf_writer_new(), .seed = mix(o->seed + 1)};
    synth_ctx vision = {.o = o, .w = o->mmproj_out ? vkmm_gguf_writer_new() : NULL, .seed = mix(o->seed + 2)};
    if (!text.w || (o->mmproj_out && !vision.w))
        s = vkmm_fail(err, VKMM_ERR_HOST_MEMORY, "out of host memory");
    if (!s)
        s = gemma ? synth_gemma3(&text, o->mmproj_out ? &vision : NULL, &vocab, err)
            : gemma4 ? synth_gemma4(&text, o->mmproj_out ? &vision : NULL, &vocab, err)
                     : synth_mistral3(&text, o->mmproj_out ? &vision : NULL, &vocab, err);
    if (!s)
        s = vkmm_gguf_writer_write(text.w, o->out, err);
    if (!s && o->mmproj_out)
        s = vkmm_gguf_writer_write(vision.w, o->mmproj_out, err);
    synth_ctx_free(&text);
    if (vision.w)
        synth_ctx_free(&vision);
    vkmm_vocab_free(&vocab);
    return s;
}
