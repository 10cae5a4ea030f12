/* runtime/models/arch.h — the architecture table: everything the engine needs to know about an architecture, found
 * by the names a GGUF pair gives (the model's general.architecture, the mmproj's clip.projector_type). The engine
 * looks rows up and never tests a name; a new architecture is a new file here and a row in arch_table.c. */
#ifndef VKMM_MODELS_ARCH_H
#define VKMM_MODELS_ARCH_H

#include "audio_model.h"
#include "image.h"
#include "model.h"

typedef enum vkmm_medium {
    VKMM_MEDIUM_IMAGE = 0,
    VKMM_MEDIUM_AUDIO,                  /* log-mel frames through load_audio's tower (Gemma 4's gemma4a) */
} vkmm_medium;

/* Where the row breaks of a 2-D medium come from. */
typedef enum vkmm_row_breaks {
    VKMM_ROW_BREAKS_NONE = 0,
    VKMM_ROW_BREAKS_IN_ROWS,            /* the tower emits them among its rows (Pixtral: the mmproj's copy of the
                                         * [IMG_BREAK] embedding after every row of patches but the last) */
} vkmm_row_breaks;

/* How one item sits in the prompt: text_before, open, the tower's rows, close, text_after. open and close are
 * control tokens; the texts (chat prompts only, as the model's Hugging Face processor writes them) are
 * tokenized together with the template's text around them. */
typedef struct vkmm_media_layout {
    const char *text_before;            /* "" for none */
    const char *open;                   /* NULL for none */
    const char *close;
    const char *text_after;
    vkmm_row_breaks row_breaks;
} vkmm_media_layout;

/* A media encoder and its projector, as an mmproj file holds them. */
typedef struct vkmm_media_tower {
    vkmm_medium medium;
    const char *projector;              /* the mmproj's clip.projector_type */
    vkmm_vision_load_fn load;           /* VKMM_MEDIUM_IMAGE */
    vkmm_audio_load_fn load_audio;      /* VKMM_MEDIUM_AUDIO (its front end and pieces are the model's) */
    /* the model's Hugging Face processor's preprocessing, for the tower's hyperparameters and, for a tower with
     * token budgets, the budget in use (else 0) */
    vkmm_image_prep (*preprocess)(const vkmm_vision_hparams *hp, uint32_t image_tokens);
    vkmm_media_layout layout;
    vkmm_media_attention attention;     /* the rule of its rows, unless the loaded file states its own (model.h) */
    /* Towers whose processor sizes an image to a token budget (Gemma 4): the budgets it offers, 0-terminated,
     * and the one it uses unless asked (vkmm_model_params.image_tokens). NULL: images take a fixed count. */
    const uint32_t *token_budgets;
    uint32_t default_tokens;
} vkmm_media_tower;

typedef struct vkmm_arch {
    const char *const *names;           /* the general.architecture values it answers to (NULL-terminated); the
                                         * first is how vkmm calls it */
    vkmm_text_load_fn load_text;
    const vkmm_media_tower *towers;     /* the encoders a text model of this architecture takes */
    uint32_t n_towers;
    const char *chat_template;          /* built-in template when the file's is not recognised */
} vkmm_arch;

/* The row answering to general.architecture name (len bytes, not NUL-terminated), or NULL. */
const vkmm_arch *vkmm_arch_find(const char *name, size_t len);
/* The tower of arch for an mmproj's projector type, or NULL. */
const vkmm_media_tower *vkmm_arch_tower(const vkmm_arch *arch, const char *projector, size_t len);
/* The rule the rows of a loaded tower's images follow: the file's own when it states one, else the tower's. */
vkmm_media_attention vkmm_tower_attention(const vkmm_media_tower *t, const vkmm_vision_model *vm);
/* Some row's tower for projector, or NULL (to tell "not supported" from "belongs to another architecture"). */
const vkmm_media_tower *vkmm_arch_any_tower(const char *projector, size_t len);
/* Whether name is the general.architecture of an mmproj file rather than of a text model. */
bool vkmm_arch_is_projector_file(const char *name, size_t len);
/* Every architecture name ("gemma3, mistral3, llama"), or every projector type of arch (NULL: of all rows),
 * for messages. */
void vkmm_arch_list_names(char *buf, size_t size);
void vkmm_arch_list_projectors(const vkmm_arch *arch, char *buf, size_t size);

#endif
