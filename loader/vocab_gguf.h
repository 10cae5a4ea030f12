/* loader/vocab_gguf.h — the tokenizer.ggml.* keys of a GGUF to and from a vkmm_vocab. */
#ifndef VKMM_LOADER_VOCAB_GGUF_H
#define VKMM_LOADER_VOCAB_GGUF_H

#include "gguf.h"
#include "vocab.h"

/* Reads the vocabulary of a model file; errors name the file and the key. */
vkmm_status vkmm_vocab_from_gguf(vkmm_vocab *v, const vkmm_gguf *g, vkmm_error *err);
/* Adds the vocabulary's keys to a writer, as llama.cpp's converters name them. */
vkmm_status vkmm_vocab_to_gguf(const vkmm_vocab *v, vkmm_gguf_writer *w);

#endif
