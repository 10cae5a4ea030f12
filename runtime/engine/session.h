/* runtime/engine/session.h — the state of a conversation: its share of the model's KV pool, the positions already
 * evaluated, what is waiting to be evaluated, encoded images, and the buffers a prefill pass reads and writes. */
#ifndef VKMM_ENGINE_SESSION_H
#define VKMM_ENGINE_SESSION_H

#include <stdatomic.h>

#include "detokenize.h"
#include "engine.h"
#include "kv_pool.h"
#include "sampler.h"
#include "softmax.h"

/* One position of the sequence: a token, or row `row` of encoded image (or audio clip) `image`. */
typedef struct vkmm_item {
    int32_t token;
    int32_t image;   /* -1 for a token */
    uint32_t row;
} vkmm_item;

typedef struct vkmm_items {
    vkmm_item *v;
    uint32_t n, cap;
} vkmm_items;

vkmm_status vkmm_items_push(vkmm_items *it, vkmm_item x, vkmm_error *err);

/* An encoded image or audio clip: its tower says which, and how its rows sit in the prompt. */
typedef struct vkmm_image_entry {
    uint64_t hash;           /* of the file's bytes: the same picture is encoded once per session */
    vkmm_buffer *rows;       /* [n_rows][n_embd] f32 */
    uint32_t n_rows;
    const vkmm_media_tower *tower; /* what encoded it: its prompt layout */
    vkmm_media_attention attention; /* how its rows attend (the model's image_attention) */
} vkmm_image_entry;

/* The rows of the image see each other (on some layers, by its attention rule): one span, never cut by a chunk. */
static inline bool vkmm_image_bidirectional(const vkmm_image_entry *e)
{
    return e->attention != VKMM_MEDIA_CAUSAL;
}

typedef struct vkmm_profile_row {
    char label[96];
    double ns;
    uint32_t count;
} vkmm_profile_row;

typedef struct vkmm_trace_event {
    char label[96];
    double start_us, dur_us;
} vkmm_trace_event;

#define VKMM_TOPK_MAX 64

/* The generation in progress (generate.c): sampler, detokenizer, the answer so far and what of it was handed
 * out (text that could be the start of a stop string is held back until it cannot). */
typedef struct vkmm_generation {
    bool open;
    vkmm_sampler smp;
    bool full;               /* the sampler needs every logit */
    uint32_t top;            /* else the top candidates it needs */
    uint32_t max_tokens, n;
    vkmm_detok dt;
    vkmm_text reply;         /* the answer's text so far */
    size_t released;         /* bytes of reply handed out */
    vkmm_text piece;         /* this event's text */
    vkmm_candidate *cand;
    char *stop[VKMM_MAX_STOP];
    uint32_t n_stop;
    bool need_decode;        /* the last token is not in the cache yet */
    int32_t last_id;
    vkmm_finish finish;
} vkmm_generation;

struct vkmm_session {
    vkmm_model *m;
    vkmm_session_params p;
    uint32_t n_ctx, n_batch;

    /* cache */
    vkmm_buffer **kbuf, **vbuf;
    vkmm_kv_share kv;        /* its pages in the model's pool */
    bool decoding;           /* in a generation's token loop (batch.c counts these) */

    /* forward-pass buffers (prefill chunks; decode steps use the model's batch buffers) */
    vkmm_buffer *ids, *positions, *spans, *results; /* host-visible */
    vkmm_buffer *logits, *scratch, *arena;
    vkmm_cmd *cmd;

    /* the sequence */
    vkmm_items done;         /* positions in the cache */
    vkmm_items pending;      /* added, not yet evaluated */
    vkmm_image_entry *images;
    uint32_t n_images, cap_images;

    /* chat mode: the conversation, re-rendered before each generation */
    vkmm_chat_message *msgs; /* owned copies; image parts have no text */
    size_t n_msgs, cap_msgs;
    int32_t *msg_images;     /* the encoded image of each image part, in order of appearance */
    uint32_t n_msg_images, cap_msg_images;
    bool raw;                /* add_text/add_image were used: no template */

    /* last results */
    float *last_logits;      /* host copy: rows x n_vocab */
    uint32_t last_rows;
    vkmm_logit top[VKMM_TOPK_MAX];
    uint32_t n_top;
    float lse;

    vkmm_generation gen;
    atomic_bool cancel;      /* vkmm_session_cancel from any thread */

    vkmm_stats stats;
    vkmm_profile_row *prof;
    uint32_t n_prof, cap_prof;
    vkmm_trace_event *trace;
    uint32_t n_trace, cap_trace;
    double trace_clock_us;
};

/* forward.c: evaluates pending[start .. start+n) at the next positions; keeps what the sampler needs
 * (top candidates, log-sum-exp, all logits when asked). */
vkmm_status vkmm_session_forward(vkmm_session *s, uint32_t start, uint32_t n, bool all_logits, bool want_full_row,
                                 uint32_t top_k, vkmm_error *err);
/* Evaluates one token at the next position: a batched decode step (batch.c) shared with the model's other
 * generating sessions. */
vkmm_status vkmm_session_decode(vkmm_session *s, int32_t token, bool want_full_row, uint32_t top_k, vkmm_error *err);
/* Evaluates everything pending, in chunks that never split a bidirectional image span; the results of the
 * last position are kept as vkmm_session_forward keeps them. vkmm_session_cancel stops it between chunks
 * (*cancelled; the rest stays pending). */
vkmm_status vkmm_session_prefill(vkmm_session *s, uint32_t top_k, bool want_full_row, bool *cancelled,
                                 vkmm_error *err);

/* images.c: loads, preprocesses and encodes an image (a file, encoded bytes or pixels), or finds it encoded
 * already; returns its index. */
vkmm_status vkmm_session_encode_input(vkmm_session *s, const vkmm_image_input *in, int32_t *index, vkmm_error *err);
/* Room for one more entry in s->images (encoded pictures and clips alike). */
vkmm_status vkmm_session_grow_media(vkmm_session *s, vkmm_error *err);
/* audio_inputs.c: decodes and encodes an audio clip (ordinal names it in messages when it has no name), or finds
 * it encoded already; returns its index among the session's encoded media (s->images). */
vkmm_status vkmm_session_encode_audio(vkmm_session *s, const vkmm_audio_input *in, uint32_t ordinal, int32_t *index,
                                      vkmm_error *err);
/* Frees every encoded image (the conversation that used them is gone). */
void vkmm_session_drop_images(vkmm_session *s);

/* prompt.c: renders the conversation with the chat template into items, and makes pending what the cache
 * does not hold yet (rolling the cache back to the common prefix). */
vkmm_status vkmm_session_sync_chat(vkmm_session *s, vkmm_error *err);
/* Appends the items of text (tokenized; BOS when first) to `out`. */
vkmm_status vkmm_session_text_items(vkmm_session *s, const char *text, size_t len, bool first, bool parse_special,
                                    vkmm_items *out, vkmm_error *err);
/* Appends an image's rows as the model's processor lays them out (markers included). */
vkmm_status vkmm_session_image_items(vkmm_session *s, int32_t image, vkmm_items *out, vkmm_error *err);

/* generate.c: ends an open generation as vkmm_session_end does (nothing when none is open). */
void vkmm_generation_close(vkmm_session *s);

/* profile.c */
void vkmm_session_profile_add(vkmm_session *s, vkmm_cmd *cmd);

#endif
