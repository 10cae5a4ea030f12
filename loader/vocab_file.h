/* loader/vocab_file.h — a vocabulary from whichever file holds it: a GGUF model, a Hugging Face tokenizer.json or
 * a Mistral tekken.json, told apart by their contents. */
#ifndef VKMM_LOADER_VOCAB_FILE_H
#define VKMM_LOADER_VOCAB_FILE_H

#include "vocab.h"

/* A GGUF by its magic; a JSON file with a "model" object is a Hugging Face tokenizer.json (config: its
 * tokenizer_config.json, or NULL for the one beside it if any), any other JSON a tekken.json. v must be freshly
 * initialised; errors name the file. */
vkmm_status vkmm_vocab_from_file(vkmm_vocab *v, const char *path, const char *config, vkmm_error *err);

#endif
