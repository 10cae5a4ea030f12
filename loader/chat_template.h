/* loader/chat_template.h — the chat formats vkmm renders itself (no Jinja at run time): Gemma 3, Gemma 4 and
 * Mistral v7 (Tekken and spaced variants), recognised from a GGUF's tokenizer.chat_template or chosen by name.
 * A message is a list of parts (text or image); rendering yields segments, text or image #k, so the engine
 * tokenizes text with special-token parsing and puts each image's embeddings where its segment is. */
#ifndef VKMM_LOADER_CHAT_TEMPLATE_H
#define VKMM_LOADER_CHAT_TEMPLATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "vocab.h"

typedef enum vkmm_chat_format {
    VKMM_CHAT_NONE = 0,
    VKMM_CHAT_GEMMA3,             /* "gemma3": <start_of_turn>user\n...<end_of_turn>\n, system folded into turn 1 */
    VKMM_CHAT_MISTRAL_V7_TEKKEN,  /* "mistral-v7-tekken": [SYSTEM_PROMPT]..[/SYSTEM_PROMPT][INST]..[/INST]..</s> */
    VKMM_CHAT_MISTRAL_V7,         /* "mistral-v7": the same with a space after each opening marker */
    VKMM_CHAT_GEMMA4,             /* "gemma4": <|turn>user\n...<turn|>\n, system its own turn (E2B/E4B) */
    VKMM_CHAT_GEMMA4_EMPTY_THOUGHT, /* "gemma4-empty-thought": the same, the model's turn opening with a closed
                                     * empty thought channel, as the 26B/31B templates do with thinking off */
} vkmm_chat_format;

typedef enum vkmm_chat_part_kind { VKMM_CHAT_TEXT = 0, VKMM_CHAT_IMAGE } vkmm_chat_part_kind;

typedef struct vkmm_chat_part {
    vkmm_chat_part_kind kind;
    const char *text; /* TEXT only (UTF-8, NUL-terminated) */
} vkmm_chat_part;

typedef struct vkmm_chat_message {
    const char *role; /* "system", "user" or "assistant" */
    const vkmm_chat_part *parts;
    size_t n_parts;
} vkmm_chat_message;

typedef struct vkmm_chat_segment {
    vkmm_chat_part_kind kind;
    char *text;       /* TEXT: the rendered text; IMAGE: the model's placeholder ("<start_of_image>", "[IMG]") */
    size_t len;
    uint32_t image;   /* IMAGE: index of the image in order of appearance (0, 1, ...) */
} vkmm_chat_segment;

typedef struct vkmm_chat_prompt {
    vkmm_chat_segment *seg;
    size_t n, cap;
    uint32_t n_images;
} vkmm_chat_prompt;

typedef struct vkmm_chat_options {
    bool add_generation_prompt; /* end with the opening of the model's turn */
    /* Start with the BOS text as the Hugging Face template does. Leave it false when tokenizing: BOS then
     * comes once, from vkmm_tokenize's VKMM_TOKENIZE_ADD_SPECIAL on the first segment. */
    bool include_bos;
} vkmm_chat_options;

const char *vkmm_chat_format_name(vkmm_chat_format f);
/* "gemma3" (also "gemma"), "gemma4", "gemma4-empty-thought", "mistral-v7-tekken", "mistral-v7"; false if
 * unknown. */
bool vkmm_chat_format_from_name(const char *name, vkmm_chat_format *out);
/* Recognises a Jinja chat template's text; VKMM_CHAT_NONE if it is none of vkmm's formats. */
vkmm_chat_format vkmm_chat_format_detect(const char *template_text);
/* The format to use: name if given (an unknown name is an error); else the vocabulary's chat_template if
 * recognised; else, with a warning, fallback (the architecture's default template, by name); else an error
 * asking for --chat-template. */
vkmm_status vkmm_chat_format_pick(const char *name, const vkmm_vocab *vocab, const char *fallback,
                                  vkmm_chat_format *out, vkmm_error *err);

/* Renders messages. Errors: unknown roles, roles out of order where the format forbids it (Gemma 3 requires
 * user/assistant alternation after an optional leading system message), images outside user turns (Mistral).
 * Gemma 4 drops thought channels (<|channel>...<channel|>) from earlier model turns, as its template does. */
vkmm_status vkmm_chat_render(vkmm_chat_format f, const vkmm_chat_message *msgs, size_t n,
                             const vkmm_chat_options *opt, vkmm_chat_prompt *out, vkmm_error *err);
/* All segments as one string, images as their placeholder text (what the model's Jinja template renders). */
vkmm_status vkmm_chat_prompt_text(const vkmm_chat_prompt *p, char **out, size_t *len, vkmm_error *err);
void vkmm_chat_prompt_free(vkmm_chat_prompt *p);

#endif
