/* vkmm.h — the public C API of vkmm: multimodal language models on any Vulkan GPU.
 * No Vulkan types appear here. Every call that can fail returns a vkmm_status and fills a vkmm_error.
 *
 * NULL arguments, for every function here:
 *  - err may always be NULL: the call still returns its status (the message is then lost, the status never is).
 *  - The *_free functions, vkmm_session_reset and vkmm_session_cancel accept NULL and do nothing.
 *  - Optional arguments say so where they are declared (session params, sampling: NULL for the defaults; the
 *    token callback; mmproj and chat-template paths; a message's images).
 *  - Any other NULL pointer (a model, a session, a text, a path, an array with a nonzero count, a place for a
 *    result) makes the call return VKMM_ERR_INVALID_ARG and change nothing. Calls that return no status give an
 *    empty value instead: vkmm_model_get_info zeroes with "" strings, vkmm_session_stats zeroes, and
 *    vkmm_session_logits NULL with *n_rows = 0 (n_rows may be NULL). */
#ifndef VKMM_H
#define VKMM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* The status codes and error value (common/vkmm_status.h) and the device list (runtime/gpu/vkmm_device.h) are
 * public too, installed beside this header; they live with the layers that fill them. */
#include "vkmm_status.h"
#include "vkmm_device.h"

#ifdef __cplusplus
extern "C" {
#endif

VKMM_API const char *vkmm_version(void);

/* ---- versions, and how this API grows ----
 * VKMM_VERSION_NUMBER is this header's major·10000 + minor·100 + patch; vkmm_version_number() the library's.
 * The API grows without breaking programs built against an older header:
 *  - A struct the caller fills and hands in (or hands in to be filled) starts with `uint32_t struct_size`: the
 *    caller's sizeof of it (VKMM_SIZED(T) makes one with it set), or 0, which means the 0.2 layout, the first
 *    with struct_size, whatever the library's version (so `= {.field = ...}` keeps working, without the fields
 *    added later). Fields are only ever appended; the library reads and writes what struct_size covers, never
 *    past it, and takes every field past it as 0, which is always its default. A struct_size smaller than the
 *    0.2 layout is VKMM_ERR_INVALID_ARG. An array of such structs strides by its first element's struct_size.
 *  - A struct the library fills and returns by value is filled by a *_get(..., size) function; the by-value
 *    getters here are inline wrappers passing the caller's sizeof. Arrays the library allocates carry their
 *    element size: walk them with the *_at accessors.
 *  - Functions are only added, never changed; enum values are never renumbered. */
#define VKMM_VERSION_MAJOR 0
#define VKMM_VERSION_MINOR 2
#define VKMM_VERSION_PATCH 0
#define VKMM_VERSION_NUMBER (VKMM_VERSION_MAJOR * 10000 + VKMM_VERSION_MINOR * 100 + VKMM_VERSION_PATCH)
VKMM_API uint32_t vkmm_version_number(void);
#define VKMM_SIZED(T) ((T){.struct_size = (uint32_t)sizeof(T)})

/* ---- sampling ---- */

typedef struct vkmm_sampling {
    uint32_t struct_size;        /* sizeof(vkmm_sampling) as the caller knows it, or 0 (see "how this API grows") */
    float temperature;           /* 0: greedy */
    int32_t top_k;               /* 0: off */
    float top_p;                 /* 1: off */
    float min_p;                 /* 0: off */
    float repeat_penalty;        /* 1: off */
    int32_t repeat_last_n;       /* tokens the penalty looks back over; 0: 64 */
    uint64_t seed;
    bool ignore_eog;             /* keep going past end-of-turn tokens (benchmarks) */
    const char *const *stop;     /* stop strings: the answer ends before the first one it would contain */
    uint32_t n_stop;             /* at most VKMM_MAX_STOP, each 1..255 bytes */
} vkmm_sampling;
#define VKMM_MAX_STOP 16
/* The defaults of `vkmm run`: temperature 0.8, top-k 40, top-p 0.95, min-p 0.05, no repeat penalty, seed 0; into
 * the first size bytes of *s (s->struct_size becomes size). */
VKMM_API void vkmm_sampling_defaults(vkmm_sampling *s, uint32_t size);
static inline vkmm_sampling vkmm_sampling_default(void)
{
    vkmm_sampling s;
    vkmm_sampling_defaults(&s, (uint32_t)sizeof s);
    return s;
}

/* ---- model names ----
 * A model can be named three ways: a name ("demo", "gemma-3-27b") that a YAML manifest in the search path
 * answers to, a manifest's path (FILE.yaml), or a text-model GGUF's path (its mmproj given, or the one
 * mmproj-*.gguf beside it). The search path: each folder of $VKMM_MODELS (':'-separated),
 * $XDG_DATA_HOME/vkmm/models (~/.local/share/vkmm/models), the installed share/vkmm/models, and the models/
 * folder of the checkout the library was built from. NAME answers from FOLDER/NAME.yaml or
 * FOLDER/NAME/NAME.yaml. A manifest that names a Hugging Face repository (`huggingface: org/repo`) has its files
 * looked for beside it, in every search-path folder and in the Hugging Face cache
 * ($HF_HUB_CACHE, $HF_HOME/hub, ~/.cache/huggingface/hub: models--org--repo/snapshots/<any>/FILE). Nothing is
 * ever downloaded: missing files are a VKMM_ERR_NOT_FOUND that says what to download, from where, to where. */

/* Bits of vkmm_model_ref.set: what the manifest gave. */
enum {
    VKMM_REF_CHAT_TEMPLATE = 1u << 0,
    VKMM_REF_SYSTEM = 1u << 1,
    VKMM_REF_CONTEXT = 1u << 2,
    VKMM_REF_MAX_TOKENS = 1u << 3,
    VKMM_REF_TEMPERATURE = 1u << 4,
    VKMM_REF_TOP_K = 1u << 5,
    VKMM_REF_TOP_P = 1u << 6,
    VKMM_REF_MIN_P = 1u << 7,
    VKMM_REF_REPEAT_PENALTY = 1u << 8,
    VKMM_REF_SEED = 1u << 9,
};

typedef struct vkmm_model_ref {
    uint32_t struct_size;        /* the caller's sizeof, or 0 (see "how this API grows") */
    char *name;                  /* the manifest's name (its file stem), or NULL for a GGUF path */
    char *manifest;              /* the manifest used, or NULL */
    char *model;                 /* the text model's path */
    char *mmproj;                /* the vision projector's path, or NULL (text only) */
    char *chat_template;         /* NULL: recognised from the model file */
    char *system;                /* default system prompt, or NULL */
    uint32_t context;            /* 0: not given */
    uint32_t max_tokens;         /* 0: not given */
    uint32_t set;                /* VKMM_REF_* */
    vkmm_sampling sampling;      /* vkmm_sampling_default() with the manifest's values over it; the last field, for
                                    good: vkmm_sampling may grow (a later vkmm_model_ref would add a function) */
} vkmm_model_ref;

/* Resolves what (a name, FILE.yaml or FILE.gguf) to files; mmproj, when non-NULL, overrides the projector. Set
 * out->struct_size first (or 0). */
VKMM_API vkmm_status vkmm_model_resolve(const char *what, const char *mmproj, vkmm_model_ref *out, vkmm_error *err);
VKMM_API void vkmm_model_ref_free(vkmm_model_ref *r);

typedef struct vkmm_model_entry {
    uint32_t struct_size;        /* the library's sizeof: the stride of vkmm_model_catalog.models */
    char *name;
    char *manifest;              /* where the manifest is */
    char *description;           /* the manifest's description, or "" */
    char *repo;                  /* Hugging Face repository, or NULL */
    char *model_file, *mmproj_file;   /* as the manifest names them (mmproj_file may be NULL) */
    char *model_path, *mmproj_path;   /* where they were found; NULL when missing */
    bool present;                /* everything needed is on this machine */
    char *problem;               /* why not (a missing file, a broken manifest), or NULL */
} vkmm_model_entry;

typedef struct vkmm_model_catalog {
    uint32_t struct_size;        /* the caller's sizeof, or 0 (see "how this API grows") */
    vkmm_model_entry *models;    /* sorted by name; a name shadowed by an earlier folder appears once; walk them
                                    with vkmm_model_catalog_at */
    uint32_t n_models;
    char **dirs;                 /* the search path, in order (folders that do not exist included) */
    uint32_t n_dirs;
} vkmm_model_catalog;

/* Every name the search path knows, with its files and whether they are present. Set out->struct_size first
 * (or 0). */
VKMM_API vkmm_status vkmm_model_catalog_load(vkmm_model_catalog *out, vkmm_error *err);
static inline const vkmm_model_entry *vkmm_model_catalog_at(const vkmm_model_catalog *c, uint32_t i)
{
    return (const vkmm_model_entry *)((const char *)c->models + (size_t)i * c->models[0].struct_size);
}
VKMM_API void vkmm_model_catalog_free(vkmm_model_catalog *c);

/* ---- models ---- */

typedef struct vkmm_model vkmm_model;
typedef struct vkmm_session vkmm_session;

/* Called while weights upload: stage ("text", "vision"), bytes done and total. */
typedef void (*vkmm_progress_fn)(const char *stage, uint64_t done, uint64_t total, void *user);

typedef struct vkmm_model_params {
    uint32_t struct_size;        /* the caller's sizeof, or 0 (see "how this API grows") */
    const char *model_path;      /* text model GGUF */
    const char *mmproj_path;     /* vision GGUF (mmproj), or NULL for text only */
    const char *device;          /* index or name substring; NULL: $VKMM_DEVICE, else the best device */
    int validation;              /* -1: $VKMM_VALIDATE; 0 off; 1 on */
    uint64_t memory_budget;      /* device bytes vkmm may use; 0: $VKMM_MEMORY_BUDGET, else the device's */
    const char *chat_template;   /* built-in template name; NULL: recognised from the file */
    vkmm_progress_fn progress;
    void *progress_user;
    /* Many conversations share the model: their KV caches are pages of one pool, and the next tokens of all
     * generating sessions go through the weights together in one step. */
    uint32_t kv_tokens;          /* the pool: positions of KV cache all sessions share; 0: from the device memory
                                    left beside the weights (at most 16384, at least the first session's n_ctx) */
    uint32_t max_batch;          /* sequences one decode step takes; 0: 16 (at most 64) */
    /* --- after 0.2 --- */
    uint32_t image_tokens;       /* the most embedding rows one image becomes, for towers whose processor sizes
                                    images to a budget (Gemma 4: 70, 140, 280, 560 or 1120); 0: the processor's
                                    default (Gemma 4: 280). Other towers refuse a nonzero value. */
} vkmm_model_params;

VKMM_API vkmm_status vkmm_model_load(const vkmm_model_params *p, vkmm_model **out, vkmm_error *err);
VKMM_API void vkmm_model_free(vkmm_model *m);

typedef struct vkmm_model_info {
    const char *arch;            /* "gemma3", "gemma4", "mistral3" */
    const char *name;            /* general.name, or "" */
    const char *chat_template;   /* the built-in template in use */
    const char *device;          /* the GPU's name */
    uint32_t n_layer, n_embd, n_vocab, n_ctx_train;
    bool has_vision;
    uint64_t weight_bytes;       /* on the device */
    uint32_t n_expert;           /* a mixture of experts: experts per layer (0: dense) ... */
    uint32_t n_expert_used;      /* ... and how many each token uses */
} vkmm_model_info;
/* The strings stay valid while the model lives. */
VKMM_API void vkmm_model_info_get(const vkmm_model *m, vkmm_model_info *out, uint32_t size);
static inline vkmm_model_info vkmm_model_get_info(const vkmm_model *m)
{
    vkmm_model_info i;
    vkmm_model_info_get(m, &i, (uint32_t)sizeof i);
    return i;
}

/* What the model's sessions share, now: the KV pool's pages (VKMM_KV_PAGE_TOKENS positions each) of the
 * full-context layers and of the sliding-window rings, the sessions generating, and the batched decode steps run. */
#define VKMM_KV_PAGE_TOKENS 16
typedef struct vkmm_model_stats {
    uint32_t kv_pages, kv_pages_used;            /* full-context layers (0 before the first session) */
    uint32_t ring_pages, ring_pages_used;        /* sliding-window rings (0 for models without) */
    uint64_t kv_bytes;                           /* device bytes of the pool */
    uint32_t kv_positions;                       /* positions one conversation may reach in it */
    uint32_t generating;                         /* sessions in their token loop */
    uint32_t queued;                             /* tokens waiting for the next decode step */
    uint64_t decode_steps, decode_tokens;        /* batched decode steps run and the tokens they took */
} vkmm_model_stats;
VKMM_API void vkmm_model_stats_get(vkmm_model *m, vkmm_model_stats *out, uint32_t size);
static inline vkmm_model_stats vkmm_model_get_stats(vkmm_model *m)
{
    vkmm_model_stats st;
    vkmm_model_stats_get(m, &st, (uint32_t)sizeof st);
    return st;
}

/* ---- sessions ---- */

typedef struct vkmm_session_params {
    uint32_t struct_size;        /* the caller's sizeof, or 0 (see "how this API grows") */
    uint32_t n_ctx;              /* the most positions the conversation may hold; 0: 4096 (capped by the model's
                                    training context). Its cache takes pages of the model's KV pool as it grows,
                                    reserved when a generation begins: one that could never fit the pool fails
                                    then with VKMM_ERR_OUT_OF_MEMORY. */
    uint32_t n_batch;            /* prefill chunk; 0: 512 (at most 512) */
    bool profile;                /* collect per-dispatch GPU times */
    bool all_logits;             /* keep the logits of every prompt position (tests) */
} vkmm_session_params;

VKMM_API vkmm_status vkmm_session_create(vkmm_model *m, const vkmm_session_params *p, vkmm_session **out,
                                         vkmm_error *err);
VKMM_API void vkmm_session_free(vkmm_session *s);
/* Forgets the conversation (the KV cache empties). */
VKMM_API void vkmm_session_reset(vkmm_session *s);

/* One chat turn: role "system", "user" or "assistant"; images (file paths) go where the text holds the
 * marker "<__media__>", one per image in order, or else before the text. */
typedef struct vkmm_image_input vkmm_image_input;
typedef struct vkmm_message {
    uint32_t struct_size;        /* the caller's sizeof, or 0 (see "how this API grows") */
    const char *role;
    const char *text;
    const char *const *images;   /* file paths */
    uint32_t n_images;
    const vkmm_image_input *image_inputs; /* or images from memory (not both) */
    uint32_t n_image_inputs;
} vkmm_message;

/* An image from a file, from encoded bytes in memory, or from decoded pixels (exactly one of the three). */
struct vkmm_image_input {
    uint32_t struct_size;        /* the caller's sizeof, or 0 (see "how this API grows"); an array's stride */
    const char *path;            /* a PNG, JPEG or BMP file */
    const void *data;            /* an encoded PNG, JPEG or BMP of size bytes */
    size_t size;
    const uint8_t *pixels;       /* 8-bit pixels, rows top to bottom, no padding */
    uint32_t width, height;
    uint32_t channels;           /* 3: RGB; 4: RGBA, alpha composited onto white as for files; 1: grey */
    const char *name;            /* what errors call it; NULL: the path, else "image N" */
};

/* What an encoded image is, from its headers alone (nothing is decoded): format "png", "jpeg", "bmp" (those
 * vkmm reads) or the name of a known other one ("gif", "webp", ...), and the size the headers give. Errors:
 * VKMM_ERR_FORMAT for bytes that are not an image or a broken container, VKMM_ERR_UNSUPPORTED for a format vkmm
 * does not read (format is then set). name is what messages call the image (NULL: "image"). */
typedef struct vkmm_image_header {
    uint32_t struct_size;        /* the caller's sizeof, or 0 (see "how this API grows") */
    const char *format;          /* static string, or NULL when unknown */
    uint32_t width, height;      /* as the headers give them (also set when only the rest is broken) */
} vkmm_image_header;
VKMM_API vkmm_status vkmm_image_probe(const void *data, size_t size, const char *name, vkmm_image_header *out,
                                      vkmm_error *err);

/* Appends a turn to the conversation, laid out by the model's chat template (the generation prompt
 * follows automatically before the next vkmm_session_generate). */
VKMM_API vkmm_status vkmm_session_add_message(vkmm_session *s, const vkmm_message *msg, vkmm_error *err);
/* Appends raw text (no template); control tokens are recognised when parse_special. */
VKMM_API vkmm_status vkmm_session_add_text(vkmm_session *s, const char *text, bool parse_special, vkmm_error *err);
/* Appends one image's embeddings (laid out as the model's processor does) with no template. */
VKMM_API vkmm_status vkmm_session_add_image(vkmm_session *s, const char *path, vkmm_error *err);
/* The same from 8-bit RGB pixels (width x height x 3, rows top to bottom). */
VKMM_API vkmm_status vkmm_session_add_image_rgb(vkmm_session *s, const uint8_t *rgb, uint32_t width, uint32_t height,
                                               vkmm_error *err);
/* The same from any of the three kinds of input. */
VKMM_API vkmm_status vkmm_session_add_image_input(vkmm_session *s, const vkmm_image_input *in, vkmm_error *err);
/* Appends token ids as they are (no template, no BOS). */
VKMM_API vkmm_status vkmm_session_add_tokens(vkmm_session *s, const int32_t *ids, uint32_t n, vkmm_error *err);

/* Why a generation ended. */
typedef enum vkmm_finish {
    VKMM_FINISH_NONE = 0,        /* it goes on */
    VKMM_FINISH_EOG,             /* the model ended its turn (an end-of-generation token) */
    VKMM_FINISH_STOP,            /* a stop string */
    VKMM_FINISH_LENGTH,          /* max_tokens reached, or the context is full */
    VKMM_FINISH_CANCELLED,       /* the caller stopped it (callback false, vkmm_session_cancel, end) */
} vkmm_finish;
/* "stop", "stop", "length", "cancelled" (OpenAI's words where it has them); "" for NONE. */
VKMM_API const char *vkmm_finish_name(vkmm_finish f);

#define VKMM_TOP_LOGPROBS 10
typedef struct vkmm_token_event {
    uint32_t struct_size;        /* next: the caller's sizeof, or 0; in a callback: the library's */
    int32_t id;
    const char *piece;           /* text this token completes (UTF-8, never half a character; may be "") */
    float logprob;               /* log-probability of id under the model (before sampling transforms) */
    uint32_t n_top;
    struct {
        int32_t id;
        float logprob;
    } top[VKMM_TOP_LOGPROBS];
    vkmm_finish finish;          /* NONE, except on the last event of a generation */
} vkmm_token_event;

/* Return false to stop generating. */
typedef bool (*vkmm_token_fn)(const vkmm_token_event *ev, void *user);

/* Runs what was added (prefill), then generates up to max_tokens, stopping at the model's end-of-turn or
 * end-of-sequence tokens or a stop string; each token streams through fn (the last event says why it ended).
 * In a chat the answer becomes an assistant turn. Equivalent to vkmm_session_begin, vkmm_session_next until
 * an event's finish is set, vkmm_session_end. */
VKMM_API vkmm_status vkmm_session_generate(vkmm_session *s, const vkmm_sampling *sp, uint32_t max_tokens,
                                           vkmm_token_fn fn, void *user, vkmm_error *err);

/* Generation one token at a time, for callers that drive the loop (iterators, servers). begin runs the
 * prefill; each next fills ev with one token (ev->piece stays valid until the next call on the session);
 * the event whose finish is set is the last, and next after it returns the same finish with id -1 and no
 * text; end closes the generation (early: VKMM_FINISH_CANCELLED) and records the answer in the chat.
 * A begin while a generation is open ends that one first. */
VKMM_API vkmm_status vkmm_session_begin(vkmm_session *s, const vkmm_sampling *sp, uint32_t max_tokens,
                                        vkmm_error *err);
VKMM_API vkmm_status vkmm_session_next(vkmm_session *s, vkmm_token_event *ev, vkmm_error *err);
VKMM_API vkmm_status vkmm_session_end(vkmm_session *s, vkmm_error *err);
/* Asks the running generation (on another thread) to stop: at the next prefill chunk or token it ends with
 * VKMM_FINISH_CANCELLED. Safe to call from any thread and from signal handlers; cleared by the next begin. */
VKMM_API void vkmm_session_cancel(vkmm_session *s);

typedef struct vkmm_stats {
    uint32_t n_images;
    double image_ms;             /* preprocessing + encoding */
    uint32_t n_prompt;           /* positions prefilled */
    double prompt_ms;
    uint32_t n_gen;
    double gen_ms;
    uint32_t n_ctx_used;
    uint32_t decode_recordings;  /* times the decode step was recorded (it is then replayed per token) */
    /* the last generation */
    uint32_t last_prompt;        /* positions of its prompt, those already in the cache included */
    uint32_t last_cached;        /* of which the cache held from earlier turns */
    uint32_t last_gen;           /* tokens generated */
    vkmm_finish last_finish;
} vkmm_stats;
VKMM_API void vkmm_session_stats_get(const vkmm_session *s, vkmm_stats *out, uint32_t size);
static inline vkmm_stats vkmm_session_stats(const vkmm_session *s)
{
    vkmm_stats st;
    vkmm_session_stats_get(s, &st, (uint32_t)sizeof st);
    return st;
}

/* Logits of the last evaluated positions (all prompt positions with all_logits), rows of n_vocab floats.
 * Valid until the next call on the session. */
VKMM_API const float *vkmm_session_logits(vkmm_session *s, uint32_t *n_rows);

/* Per-op GPU profile of the session so far (needs profile): prints the top ops by time (VKMM_ERR_INVALID_ARG
 * without a session or a FILE), or writes a Chrome/Perfetto trace. */
VKMM_API vkmm_status vkmm_session_profile_print(const vkmm_session *s, FILE *f, uint32_t top_n);
VKMM_API vkmm_status vkmm_session_profile_trace(const vkmm_session *s, const char *path, vkmm_error *err);

/* Tokenization with the model's tokenizer (appends at most max ids; *n gets the full count). */
VKMM_API vkmm_status vkmm_model_tokenize(const vkmm_model *m, const char *text, bool add_special,
                                         bool parse_special, int32_t *ids, uint32_t max, uint32_t *n,
                                         vkmm_error *err);
/* The bytes token id stands for (control tokens as their text; a byte token is one byte, maybe half a
 * character). Writes at most size bytes (no NUL) and sets *len to the full length. */
VKMM_API vkmm_status vkmm_model_token_bytes(const vkmm_model *m, int32_t id, char *buf, size_t size, size_t *len,
                                            vkmm_error *err);
/* Token ids back to text (UTF-8; control tokens left out). Writes at most size bytes including a NUL and
 * sets *len to the full length without it. */
VKMM_API vkmm_status vkmm_model_detokenize(const vkmm_model *m, const int32_t *ids, uint32_t n, char *buf,
                                          size_t size, size_t *len, vkmm_error *err);

/* ---- a tokenizer on its own (no GPU, no weights) ---- */

typedef struct vkmm_text_tokenizer vkmm_text_tokenizer;
/* The tokenizer of a GGUF model file, of a Hugging Face tokenizer.json (config: its tokenizer_config.json, or NULL
 * for the one beside it if there is one) or of a Mistral tekken.json, told apart by their contents. */
VKMM_API vkmm_status vkmm_text_tokenizer_open(const char *path, const char *config, vkmm_text_tokenizer **out,
                                              vkmm_error *err);
VKMM_API void vkmm_text_tokenizer_free(vkmm_text_tokenizer *t);
/* As vkmm_model_tokenize, over len bytes of text (which may hold NULs). */
VKMM_API vkmm_status vkmm_text_tokenizer_encode(const vkmm_text_tokenizer *t, const char *text, size_t len,
                                                bool add_special, bool parse_special, int32_t *ids, uint32_t max,
                                                uint32_t *n, vkmm_error *err);
/* As vkmm_model_token_bytes. */
VKMM_API vkmm_status vkmm_text_tokenizer_token_bytes(const vkmm_text_tokenizer *t, int32_t id, char *buf, size_t size,
                                                     size_t *len, vkmm_error *err);

/* ---- describing inputs (no GPU): what `vkmm info` prints ----
 * Text, or with json one JSON object, written to out. Bad input is an error naming the file and the problem (for
 * a GGUF, the byte offset too); nothing is written to out then. */

/* A GGUF file, a model or an mmproj: architecture, hyperparameters, tensors by type, tokenizer, chat template; big
 * arrays summarised, never dumped. */
VKMM_API vkmm_status vkmm_describe_gguf(const char *path, bool json, FILE *out, vkmm_error *err);
/* An image and the tensor a preprocessing makes of it: "gemma3" (size x size; NULL means this one), "pixtral"
 * (longest edge size, sides rounded up to multiples of 14) or "pixtral-llama" (llama.cpp's rule, at most size
 * tokens); size 0: 896, 1540 and 1024 respectively. An unknown preprocessing is VKMM_ERR_INVALID_ARG. */
VKMM_API vkmm_status vkmm_describe_image(const char *path, const char *preprocessing, uint32_t size, bool json,
                                         FILE *out, vkmm_error *err);
/* A model manifest (YAML) as vkmm reads it. */
VKMM_API vkmm_status vkmm_describe_manifest(const char *path, bool json, FILE *out, vkmm_error *err);
/* An audio file (WAV, FLAC, OGG Vorbis/Opus, AIFF, MP3): its format, rate, channels and duration, the 16 kHz mono
 * signal vkmm makes of it and Gemma 4's log-mel frames of that. */
VKMM_API vkmm_status vkmm_describe_audio(const char *path, bool json, FILE *out, vkmm_error *err);

#ifdef __cplusplus
}
#endif
#endif
