/* loader/hf_tokenizer.h — converters from the tokenizer files models ship to a GGUF-shaped vkmm_vocab:
 * Hugging Face tokenizer.json (+ tokenizer_config.json) and Mistral's tekken.json. */
#ifndef VKMM_LOADER_HF_TOKENIZER_H
#define VKMM_LOADER_HF_TOKENIZER_H

#include "error.h"
#include "json.h"
#include "vocab.h"

/* A Hugging Face tokenizer.json with a BPE model, either SentencePiece-style (U+2581 spaces, byte fallback:
 * Gemma 3, Llama 2, Mistral v1) -> model "llama", or byte-level (ByteLevel pre-tokenizer) -> model "gpt2"
 * with merges and the pre-tokenizer recognised from its split pattern. config (tokenizer_config.json) may be
 * NULL; it supplies the chat template, the BOS/EOS/PAD names and add_bos/add_eos.
 * SentencePiece-style scores are not in tokenizer.json; they are derived from the merge list (a token scores
 * minus the rank of the first merge that makes it) so that merging by score reproduces merging by rank.
 * out must be freshly initialised; on error it is left empty. name labels errors. */
vkmm_status vkmm_vocab_from_hf_json(vkmm_vocab *out, const vkmm_json *tokenizer, const vkmm_json *config,
                                    const char *name, vkmm_error *err);
/* Reads tokenizer_path, and config_path unless NULL (then a tokenizer_config.json beside it is used if
 * present). */
vkmm_status vkmm_vocab_from_hf_file(vkmm_vocab *out, const char *tokenizer_path, const char *config_path,
                                    vkmm_error *err);
/* The same for a tokenizer.json already parsed (tok, read from tokenizer_path). */
vkmm_status vkmm_vocab_from_hf_parsed(vkmm_vocab *out, const vkmm_json *tok, const char *tokenizer_path,
                                      const char *config_path, vkmm_error *err);

/* A SentencePiece-style BPE tokenizer.json written as Gemma 4's GGUF vocabulary (llama.cpp's "gemma4" model):
 * the same tokens and types, the file's merges in their rank order instead of scores derived from them;
 * n_tokens > 0 cuts or pads (with "[PADn]" unused tokens) the table to that many ids. */
vkmm_status vkmm_vocab_gemma4_from_hf_file(vkmm_vocab *out, const char *tokenizer_path, uint32_t n_tokens,
                                           vkmm_error *err);

/* Mistral's tekken.json, as mistral-common ships it (vocab of {rank, token_bytes}, special_tokens) or in the
 * compact js-tiktoken form ("bpe_ranks": "! offset base64 ..."). Writes the GGUF layout llama.cpp writes:
 * default_num_special_tokens CONTROL tokens, then the byte-level tokens in rank order in the GPT-2 byte
 * alphabet, merges derived from the ranks, model "gpt2", pre "tekken". A file without special_tokens gets
 * the v7 layout ([INST] 3, [IMG] 10, [SYSTEM_PROMPT] 17, ...; fillers "<SPECIAL_n>"). */
vkmm_status vkmm_vocab_from_tekken_json(vkmm_vocab *out, const vkmm_json *tekken, const char *name,
                                        vkmm_error *err);
vkmm_status vkmm_vocab_from_tekken_file(vkmm_vocab *out, const char *path, vkmm_error *err);

#endif
