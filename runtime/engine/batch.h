/* runtime/engine/batch.h — many conversations on one GPU: the GPU steps of a model's sessions take turns in the
 * order they asked (a ticket lock: a long prompt's next chunk waits behind the decode step that queued first),
 * and the next tokens of every generating session go through the weights together in one batched decode step
 * (one column per sequence), recorded once per batch size and replayed. Threads that call vkmm_session_next at
 * once on sessions of one model are batched without asking: the first becomes the step's leader, the others'
 * tokens ride along. */
#ifndef VKMM_ENGINE_BATCH_H
#define VKMM_ENGINE_BATCH_H

#include "engine.h"

#define VKMM_MAX_BATCH 64

/* Takes and gives back the model's GPU turn (FIFO among threads). */
void vkmm_step_begin(vkmm_model *m);
void vkmm_step_end(vkmm_model *m);

vkmm_status vkmm_batcher_create(vkmm_model *m, uint32_t max_batch, vkmm_batcher **out, vkmm_error *err);
void vkmm_batcher_destroy(vkmm_batcher *b);

/* Session s's token goes into the cache at its next position, batched with whatever other sessions of the model
 * ask for at the same time; afterwards s holds its row's results as a forward pass leaves them. */
vkmm_status vkmm_batch_decode(vkmm_session *s, int32_t token, bool want_full_row, uint32_t top_k, vkmm_error *err);
/* A session's generation enters its token loop / leaves it: a step's leader waits (briefly) for the tokens of
 * every session in the loop before it runs, so they share the step. */
void vkmm_batch_enter(vkmm_session *s);
void vkmm_batch_leave(vkmm_session *s);

typedef struct vkmm_batch_stats {
    uint64_t steps, tokens;          /* batched decode steps run, tokens they decoded */
    uint32_t recordings;             /* decode graphs recorded (one per batch size and top-k) */
    uint32_t decoding, queued;       /* sessions in their token loop now; tokens waiting for a step */
} vkmm_batch_stats;
vkmm_batch_stats vkmm_batch_get_stats(vkmm_model *m);

#endif
