/* runtime/engine/engine.h — what the engine's files share: the loaded model (GPU, weights, architecture,
 * tokenizer, chat format) behind the public vkmm_model. */
#ifndef VKMM_ENGINE_ENGINE_H
#define VKMM_ENGINE_ENGINE_H

#include <pthread.h>

#include "chat_template.h"
#include "gguf.h"
#include "tokenizer.h"
#include "vocab.h"
#include "weights.h"
#include "arch.h"
#include "vkmm.h"

typedef struct vkmm_kv_pool vkmm_kv_pool;
typedef struct vkmm_batcher vkmm_batcher;

struct vkmm_model {
    /* One GPU step at a time, in the order they were asked for (batch.c: vkmm_step_begin/end): sessions of one
     * model may run on several threads; each prefill chunk, batched decode step, image encode and allocation is
     * a turn, so their steps interleave fairly. */
    pthread_mutex_t lock;
    pthread_cond_t turn;
    uint64_t next_turn, serving;
    vkmm_kv_pool *kv;        /* the KV pages all sessions share (created with the first session) */
    vkmm_batcher *batch;     /* batched decode steps */
    uint32_t kv_tokens;      /* from the load parameters: the pool's size (0: from the device memory) */
    vkmm_gpu *gpu;
    vkmm_ops *ops;
    vkmm_gguf *text_file, *vision_file;
    vkmm_weight_store *text_weights, *vision_weights;
    vkmm_text_model *text;
    vkmm_vision_model *vision;
    vkmm_vocab vocab;
    vkmm_tokenizer *tok;
    vkmm_chat_format chat;
    char name[128];
    const vkmm_arch *arch;               /* the model's row of the architecture table */
    char file_arch[32];                  /* the file's general.architecture: one of arch->names */
    const vkmm_media_tower *image_tower; /* the mmproj's, when one was given */
    vkmm_media_attention image_attention; /* how its images' rows attend (vkmm_tower_attention) */
    uint32_t image_tokens;               /* a budgeted tower's budget in use (0: images take a fixed count) */
};

/* The most embedding rows one image of this model becomes (0 without a tower). */
uint32_t vkmm_model_max_image_rows(const vkmm_model *m);

/* Device bytes a session of n_ctx positions (and n_batch chunk) needs beyond the weights. */
uint64_t vkmm_session_estimate_bytes(const vkmm_model *m, uint32_t n_ctx, uint32_t n_batch);

#endif
