/* tests/loader/make_gguf_samples.c — writes small valid GGUF files with the writer, at build time, for the
 * `vkmm info` tests and the fuzz seed corpus: make_gguf_samples OUTDIR. Deterministic contents. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dtype.h"
#include "dtype_table.h"
#include "gguf.h"

static uint8_t rand_byte(uint64_t *state)
{
    *state ^= *state << 13;
    *state ^= *state >> 7;
    *state ^= *state << 17;
    return (uint8_t)(*state >> 24);
}

/* Tensor bytes come from a fill callback that quantizes a ramp, so the data is valid for its type. */
static vkmm_status fill_ramp(void *user, uint64_t row0, uint64_t n_rows, uint64_t row_bytes, void *dst,
                             vkmm_error *err)
{
    uint32_t type = *(const uint32_t *)user;
    const vkmm_dtype_info *info = vkmm_dtype_get(type);
    uint64_t n = row_bytes / info->block_bytes * info->block; /* elements per row */
    float *row = malloc(n * sizeof *row);
    if (!row)
        return vkmm_fail(err, VKMM_ERR_HOST_MEMORY, "out of memory");
    for (uint64_t r = 0; r < n_rows; r++) {
        for (uint64_t i = 0; i < n; i++)
            row[i] = (float)((int)((row0 + r) * 7 + i) % 23 - 11) / 8.0f;
        if (!vkmm_quantize(type, row, (uint8_t *)dst + r * row_bytes, n)) {
            free(row);
            return vkmm_fail(err, VKMM_ERR_UNSUPPORTED, "cannot quantize %s", info->name);
        }
    }
    free(row);
    return VKMM_OK;
}

static const uint32_t type_ids[] = {VKMM_F32, VKMM_F16, VKMM_Q4_0, VKMM_Q8_0, VKMM_Q4_K, VKMM_Q6_K, VKMM_BF16};

static void add_tokenizer(vkmm_gguf_writer *w, const char *model, const char *pre, const char *tpl)
{
    const char *tokens[] = {"<pad>", "<eos>", "<bos>", "<unk>", "\xe2\x96\x81hello", "\xe2\x96\x81world", "a", "b",
                            "<start_of_turn>", "<end_of_turn>"};
    uint64_t n = sizeof tokens / sizeof tokens[0];
    float scores[10];
    int32_t types[10];
    for (uint64_t i = 0; i < n; i++) {
        scores[i] = -(float)i;
        types[i] = i < 4 ? 3 : 1;
    }
    vkmm_gguf_writer_add_str(w, "tokenizer.ggml.model", model);
    vkmm_gguf_writer_add_str(w, "tokenizer.ggml.pre", pre);
    vkmm_gguf_writer_add_str_array(w, "tokenizer.ggml.tokens", tokens, NULL, n);
    vkmm_gguf_writer_add_array(w, "tokenizer.ggml.scores", VKMM_GGUF_F32, scores, n);
    vkmm_gguf_writer_add_array(w, "tokenizer.ggml.token_type", VKMM_GGUF_I32, types, n);
    vkmm_gguf_writer_add_u32(w, "tokenizer.ggml.bos_token_id", 2);
    vkmm_gguf_writer_add_u32(w, "tokenizer.ggml.eos_token_id", 1);
    vkmm_gguf_writer_add_bool(w, "tokenizer.ggml.add_bos_token", true);
    vkmm_gguf_writer_add_str(w, "tokenizer.chat_template", tpl);
}

static int write_file(vkmm_gguf_writer *w, const char *dir, const char *name)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    vkmm_error err = {0};
    vkmm_status s = vkmm_gguf_writer_write(w, path, &err);
    vkmm_gguf_writer_free(w);
    if (s) {
        fprintf(stderr, "make_gguf_samples: %s\n", err.msg);
        return 1;
    }
    return 0;
}

/* A Gemma-3-like text model: every hyperparameter key, a tokenizer, tensors of several types. */
static int gemma3(const char *dir)
{
    vkmm_gguf_writer *w = vkmm_gguf_writer_new();
    vkmm_gguf_writer_add_str(w, "general.architecture", "gemma3");
    vkmm_gguf_writer_add_str(w, "general.name", "Tiny Gemma 3 sample");
    vkmm_gguf_writer_add_str(w, "general.type", "model");
    vkmm_gguf_writer_add_u32(w, "general.file_type", 15);
    vkmm_gguf_writer_add_u32(w, "general.quantization_version", 2);
    vkmm_gguf_writer_add_u32(w, "gemma3.context_length", 131072);
    vkmm_gguf_writer_add_u32(w, "gemma3.embedding_length", 256);
    vkmm_gguf_writer_add_u32(w, "gemma3.block_count", 2);
    vkmm_gguf_writer_add_u32(w, "gemma3.feed_forward_length", 512);
    vkmm_gguf_writer_add_u32(w, "gemma3.attention.head_count", 4);
    vkmm_gguf_writer_add_u32(w, "gemma3.attention.head_count_kv", 1);
    vkmm_gguf_writer_add_u32(w, "gemma3.attention.key_length", 64);
    vkmm_gguf_writer_add_u32(w, "gemma3.attention.value_length", 64);
    vkmm_gguf_writer_add_f32(w, "gemma3.attention.layer_norm_rms_epsilon", 1e-6f);
    vkmm_gguf_writer_add_u32(w, "gemma3.attention.sliding_window", 1024);
    vkmm_gguf_writer_add_f32(w, "gemma3.rope.freq_base", 1e6f);
    vkmm_gguf_writer_add_str(w, "gemma3.rope.scaling.type", "linear");
    vkmm_gguf_writer_add_f32(w, "gemma3.rope.scaling.factor", 8.0f);
    add_tokenizer(w, "llama", "default",
                  "{{ bos_token }}{% for m in messages %}<start_of_turn>{{ m['role'] }}\n{{ m['content'] }}"
                  "<end_of_turn>\n{% endfor %}");
    for (size_t i = 0; i < sizeof type_ids / sizeof type_ids[0]; i++) {
        char name[64];
        snprintf(name, sizeof name, "blk.%zu.ffn_up.weight", i);
        uint64_t ne[2] = {256, 3 + i};
        vkmm_gguf_writer_add_tensor_fill(w, name, type_ids[i], 2, ne, fill_ramp, (void *)&type_ids[i]);
    }
    float norm[256];
    for (int i = 0; i < 256; i++)
        norm[i] = 1.0f + (float)i / 256;
    vkmm_gguf_writer_add_tensor(w, "output_norm.weight", VKMM_F32, 1, (const uint64_t[]){256}, norm);
    return write_file(w, dir, "gemma3-tiny.gguf");
}

/* An mmproj (clip) file: clip.* keys with f32 arrays, F16/F32 tensors of 4 dimensions. */
static int mmproj(const char *dir)
{
    vkmm_gguf_writer *w = vkmm_gguf_writer_new();
    vkmm_gguf_writer_add_str(w, "general.architecture", "clip");
    vkmm_gguf_writer_add_str(w, "general.type", "mmproj");
    vkmm_gguf_writer_add_str(w, "clip.projector_type", "gemma3");
    vkmm_gguf_writer_add_bool(w, "clip.has_vision_encoder", true);
    vkmm_gguf_writer_add_bool(w, "clip.use_gelu", true);
    vkmm_gguf_writer_add_u32(w, "clip.vision.image_size", 896);
    vkmm_gguf_writer_add_u32(w, "clip.vision.patch_size", 14);
    vkmm_gguf_writer_add_u32(w, "clip.vision.embedding_length", 1152);
    vkmm_gguf_writer_add_u32(w, "clip.vision.block_count", 27);
    vkmm_gguf_writer_add_f32(w, "clip.vision.attention.layer_norm_epsilon", 1e-6f);
    float mean[3] = {0.5f, 0.5f, 0.5f}, stdv[3] = {0.26862954f, 0.26130258f, 0.27577711f};
    vkmm_gguf_writer_add_array(w, "clip.vision.image_mean", VKMM_GGUF_F32, mean, 3);
    vkmm_gguf_writer_add_array(w, "clip.vision.image_std", VKMM_GGUF_F32, stdv, 3);
    uint32_t f16 = VKMM_F16, f32 = VKMM_F32; /* outlive the write below */
    vkmm_gguf_writer_add_tensor_fill(w, "v.patch_embd.weight", VKMM_F16, 4, (const uint64_t[]){14, 14, 3, 8},
                                     fill_ramp, &f16);
    vkmm_gguf_writer_add_tensor_fill(w, "v.patch_embd.bias", VKMM_F32, 1, (const uint64_t[]){8}, fill_ramp, &f32);
    return write_file(w, dir, "mmproj-tiny.gguf");
}

/* Version 2, alignment 64, the `llama` architecture of Mistral Small, a Tekken template, an empty tensor. */
static int mistral_v2(const char *dir)
{
    vkmm_gguf_writer *w = vkmm_gguf_writer_new();
    vkmm_gguf_writer_set_version(w, 2);
    vkmm_gguf_writer_add_str(w, "general.architecture", "llama");
    vkmm_gguf_writer_set_alignment(w, 64);
    vkmm_gguf_writer_add_u32(w, "llama.block_count", 40);
    vkmm_gguf_writer_add_u32(w, "llama.embedding_length", 5120);
    vkmm_gguf_writer_add_f32(w, "llama.rope.freq_base", 1e9f);
    vkmm_gguf_writer_add_u64(w, "llama.vocab_size", 131072);
    const char *merges[] = {"\xc4\xa0 t", "h e"};
    vkmm_gguf_writer_add_str_array(w, "tokenizer.ggml.merges", merges, NULL, 2);
    add_tokenizer(w, "gpt2", "tekken",
                  "{%- if messages[0]['role'] == 'system' %}[SYSTEM_PROMPT]{{ messages[0]['content'] }}"
                  "[/SYSTEM_PROMPT]{%- endif %}[INST]{{ m['content'] }}[/INST]");
    uint8_t bytes[3 * 34];
    uint64_t rng = 0x9e3779b97f4a7c15ull;
    for (size_t i = 0; i < sizeof bytes; i++)
        bytes[i] = rand_byte(&rng);
    vkmm_gguf_writer_add_tensor(w, "token_embd.weight", VKMM_Q8_0, 2, (const uint64_t[]){32, 3}, bytes);
    vkmm_gguf_writer_add_tensor(w, "empty", VKMM_F32, 2, (const uint64_t[]){0, 5}, NULL);
    vkmm_gguf_writer_add_tensor(w, "after_empty", VKMM_I8, 1, (const uint64_t[]){5}, bytes);
    return write_file(w, dir, "mistral-v2-align64.gguf");
}

/* Metadata only: every value type, extreme values, empty strings and arrays, arrays of arrays. */
static int all_types(const char *dir)
{
    vkmm_gguf_writer *w = vkmm_gguf_writer_new();
    vkmm_gguf_writer_add_str(w, "general.architecture", "test");
    uint8_t u8 = 255;
    int8_t i8 = -128;
    uint16_t u16 = 65535;
    int16_t i16 = -32768;
    int32_t i32 = INT32_MIN;
    int64_t i64 = INT64_MIN;
    double f64 = -1.5e300;
    vkmm_gguf_writer_add_scalar(w, "test.u8", VKMM_GGUF_U8, &u8);
    vkmm_gguf_writer_add_scalar(w, "test.i8", VKMM_GGUF_I8, &i8);
    vkmm_gguf_writer_add_scalar(w, "test.u16", VKMM_GGUF_U16, &u16);
    vkmm_gguf_writer_add_scalar(w, "test.i16", VKMM_GGUF_I16, &i16);
    vkmm_gguf_writer_add_u32(w, "test.u32", UINT32_MAX);
    vkmm_gguf_writer_add_i32(w, "test.i32", i32);
    vkmm_gguf_writer_add_u64(w, "test.u64", UINT64_MAX);
    vkmm_gguf_writer_add_scalar(w, "test.i64", VKMM_GGUF_I64, &i64);
    vkmm_gguf_writer_add_f32(w, "test.f32", 0.1f);
    vkmm_gguf_writer_add_scalar(w, "test.f64", VKMM_GGUF_F64, &f64);
    vkmm_gguf_writer_add_bool(w, "test.bool", false);
    vkmm_gguf_writer_add_str(w, "test.empty_string", "");
    vkmm_gguf_writer_add_strn(w, "test.string_with_nul_and_newline", "a\0b\nc\xff", 6);
    vkmm_gguf_writer_add_array(w, "test.empty_array", VKMM_GGUF_U32, NULL, 0);
    bool bools[4] = {true, false, true, true};
    vkmm_gguf_writer_add_array(w, "test.bools", VKMM_GGUF_BOOL, bools, 4);
    uint16_t many[100];
    for (int i = 0; i < 100; i++)
        many[i] = (uint16_t)(i * 7);
    vkmm_gguf_writer_add_array(w, "test.many_u16", VKMM_GGUF_U16, many, 100);
    /* [[1, 2], [], [["x"]]]: array of 3 arrays; the third holds an array of one string */
    static const uint8_t nested[] = {
        9, 0, 0, 0, 3, 0, 0, 0, 0, 0, 0, 0,                                     /* array of 3 arrays */
        4, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0,             /* [1, 2] as u32 */
        6, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,                                     /* [] of f32 */
        9, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0,                                     /* [ */
        8, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 'x',        /*   ["x"] ] */
    };
    vkmm_gguf_writer_add_raw(w, "test.nested", VKMM_GGUF_ARRAY, nested, sizeof nested);
    return write_file(w, dir, "all-value-types.gguf");
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: make_gguf_samples OUTDIR\n");
        return 2;
    }
    return gemma3(argv[1]) | mmproj(argv[1]) | mistral_v2(argv[1]) | all_types(argv[1]);
}
