/* loader/tokenizer.c — builds a tokenizer from a vocabulary and runs the shared outer loop: split out special
 * tokens (leftmost-longest, as the Hugging Face added-token matcher does), hand each plain fragment to the
 * model's algorithm, add BOS/EOS as the vocabulary says. */
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "tokenizer_internal.h"

vkmm_status vkmm_tokens_push(vkmm_tokens *t, int32_t id)
{
    if (t->n == t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 64;
        int32_t *ids = realloc(t->ids, cap * sizeof *ids);
        if (!ids)
            return VKMM_ERR_HOST_MEMORY;
        t->ids = ids;
        t->cap = cap;
    }
    t->ids[t->n++] = id;
    return VKMM_OK;
}

void vkmm_tokens_free(vkmm_tokens *t)
{
    free(t->ids);
    memset(t, 0, sizeof *t);
}

/* Plain text may become these; CONTROL, UNKNOWN and BYTE tokens come only from the special split and byte
 * fallback, never from merging text (as in the Hugging Face tokenizers, which hold no merge into them). */
static bool text_reachable(int32_t type)
{
    return type != VKMM_TOKEN_CONTROL && type != VKMM_TOKEN_UNKNOWN && type != VKMM_TOKEN_BYTE;
}

static bool splits_out(int32_t type)
{
    return type == VKMM_TOKEN_CONTROL || type == VKMM_TOKEN_USER_DEFINED || type == VKMM_TOKEN_UNKNOWN;
}

static vkmm_status trie_add(vkmm_tokenizer *t, const vkmm_vocab_str *text, int32_t id, bool always, vkmm_error *err)
{
    int32_t node = 0;
    for (uint32_t i = 0; i < text->len; i++) {
        unsigned char b = (unsigned char)text->s[i];
        int32_t child = -1;
        if (node == 0) {
            child = t->root_child[b];
        } else {
            for (int32_t c = t->trie[node].first_child; c >= 0; c = t->trie[c].next_sibling)
                if (t->trie[c].byte == b) {
                    child = c;
                    break;
                }
        }
        if (child < 0) {
            if (t->n_trie >= t->cap_trie) /* build_trie sized it for every byte of every text */
                return vkmm_fail(err, VKMM_ERR_INTERNAL, "tokenizer: special-token trie overflow");
            child = (int32_t)t->n_trie++;
            t->trie[child] = (vkmm_trie_node){.first_child = -1, .next_sibling = -1, .token = -1, .byte = b};
            if (node == 0) {
                t->root_child[b] = child;
            } else {
                t->trie[child].next_sibling = t->trie[node].first_child;
                t->trie[node].first_child = child;
            }
        }
        node = child;
    }
    if (t->trie[node].token < 0) { /* a repeated text keeps its lowest id */
        t->trie[node].token = id;
        t->trie[node].always = always;
    }
    return VKMM_OK;
}

/* One node per byte of every special text is an upper bound, so the trie is allocated once. */
static vkmm_status build_trie(vkmm_tokenizer *t, vkmm_error *err)
{
    const vkmm_vocab *v = t->vocab;
    size_t bytes = 1;
    for (uint32_t id = 0; id < v->n_tokens; id++)
        if (splits_out(vkmm_vocab_type(v, id)))
            bytes += v->tokens[id].len;
    if (bytes > INT32_MAX)
        return vkmm_fail(err, VKMM_ERR_UNSUPPORTED, "tokenizer: special tokens hold %zu bytes, too many", bytes);
    t->cap_trie = (uint32_t)bytes;
    t->trie = malloc(bytes * sizeof *t->trie);
    if (!t->trie)
        return vkmm_fail(err, VKMM_ERR_HOST_MEMORY, "tokenizer: out of memory for special tokens");
    t->trie[0] = (vkmm_trie_node){.first_child = -1, .next_sibling = -1, .token = -1};
    t->n_trie = 1;
    for (int i = 0; i < 256; i++)
        t->root_child[i] = -1;
    for (uint32_t id = 0; id < v->n_tokens; id++) {
        int32_t type = vkmm_vocab_type(v, id);
        if (!splits_out(type) || v->tokens[id].len == 0)
            continue;
        vkmm_status s = trie_add(t, &v->tokens[id], (int32_t)id, type == VKMM_TOKEN_USER_DEFINED, err);
        if (s)
            return s;
    }
    return VKMM_OK;
}

/* Longest special token starting at text[i] that the flags allow; returns its length (0: none). */
static size_t match_special(const vkmm_tokenizer *t, const unsigned char *s, size_t n, bool parse_special,
                            int32_t *id)
{
    int32_t node = t->root_child[s[0]];
    size_t best = 0;
    for (size_t k = 1; node >= 0; k++) {
        const vkmm_trie_node *nd = &t->trie[node];
        if (nd->token >= 0 && (nd->always || parse_special)) {
            best = k;
            *id = nd->token;
        }
        if (k == n)
            break;
        int32_t next = -1;
        for (int32_t c = nd->first_child; c >= 0; c = t->trie[c].next_sibling)
            if (t->trie[c].byte == s[k]) {
                next = c;
                break;
            }
        node = next;
    }
    return best;
}

/* Gemma 4 ends a generation at <turn|> and at <|tool_response>, where a tool's answer is to be inserted
 * (gemma4.md §3) */
static const char *const eog_texts[] = {"<end_of_turn>", "<|eot_id|>", "<|im_end|>", "<|end|>", "<EOT>",
                                         "<|endoftext|>", "<turn|>", "<|tool_response>"};

vkmm_status vkmm_tokenizer_create(const vkmm_vocab *vocab, vkmm_tokenizer **out, vkmm_error *err)
{
    *out = NULL;
    vkmm_status s = vkmm_vocab_validate(vocab, "tokenizer", err);
    if (s)
        return s;
    vkmm_tokenizer *t = calloc(1, sizeof *t);
    if (!t)
        return vkmm_fail(err, VKMM_ERR_HOST_MEMORY, "tokenizer: out of memory");
    t->vocab = vocab;
    bool default_bos;
    if (!strcmp(vocab->model, "llama")) {
        t->kind = VKMM_TOKENIZER_SPM;
        default_bos = true;
        t->add_space_prefix = vocab->add_space_prefix != VKMM_FLAG_FALSE; /* SentencePiece's default */
    } else if (!strcmp(vocab->model, "gpt2")) {
        t->kind = VKMM_TOKENIZER_BPE;
        default_bos = false;
        if (!vkmm_pretok_from_name(vocab->pre, &t->pretok)) {
            /* Not silent: a wrong split changes ids. GPT-2's pattern is the family's common ancestor. */
            vkmm_warn("tokenizer: unknown pre-tokenizer '%s'; using the GPT-2 split", vocab->pre ? vocab->pre : "");
            t->pretok = VKMM_PRETOK_GPT2;
        }
        /* Tekken and Llama 3 look a whole piece up before merging (ignore_merges in tokenizer.json), and add
         * BOS unless tokenizer.ggml.add_bos_token says not to, as llama.cpp does for these pre-tokenizer names
         * (llama-bpe, llama3, pixtral, tekken): a GGUF without the key still gets its BOS. */
        t->ignore_merges = t->pretok == VKMM_PRETOK_TEKKEN || t->pretok == VKMM_PRETOK_LLAMA3;
        default_bos = t->ignore_merges;
    } else if (!strcmp(vocab->model, "gemma4")) {
        /* llama.cpp splits runs of newlines from the rest and merges what the file's merges say; it adds BOS
         * whatever the file states (llama-vocab.cpp, gemma4.md §3) */
        t->kind = VKMM_TOKENIZER_BPE_CHARS;
        default_bos = true;
    } else {
        free(t);
        return vkmm_fail(err, VKMM_ERR_UNSUPPORTED,
                         "tokenizer: model '%s' is not supported (vkmm knows 'llama', 'gpt2' and 'gemma4')",
                         vocab->model);
    }
    t->bos = (int32_t)vocab->bos_id;
    t->eos = (int32_t)vocab->eos_id;
    t->unk = (int32_t)vocab->unk_id;
    t->add_bos = vocab->add_bos == VKMM_FLAG_UNSET ? default_bos : vocab->add_bos == VKMM_FLAG_TRUE;
    t->add_eos = vocab->add_eos == VKMM_FLAG_TRUE;
    if (t->pretok == VKMM_PRETOK_TEKKEN || t->kind == VKMM_TOKENIZER_BPE_CHARS)
        t->add_bos = true; /* as llama.cpp does for Tekken and Gemma 4, whose files may say otherwise */
    for (int i = 0; i < 256; i++)
        t->byte_token[i] = -1;

    if ((s = vkmm_text_map_build(&t->text_map, vocab, text_reachable, err)) ||
        (s = vkmm_text_map_build(&t->all_map, vocab, NULL, err)) || (s = build_trie(t, err)))
        goto fail;
    if (t->kind != VKMM_TOKENIZER_BPE) { /* byte fallback through <0xNN> pieces */
        for (int b = 0; b < 256; b++) {
            static const char hex[] = "0123456789ABCDEF";
            char name[7] = {'<', '0', 'x', hex[b >> 4], hex[b & 15], '>', 0};
            int32_t id = vkmm_text_map_get(&t->all_map, name, 6);
            t->byte_token[b] = id >= 0 && vkmm_vocab_type(vocab, id) == VKMM_TOKEN_BYTE ? id : -1;
            if (t->byte_token[b] < 0)
                t->byte_token[b] = id; /* vocabularies without types still name their byte pieces */
        }
    }
    if (t->kind != VKMM_TOKENIZER_SPM && (s = vkmm_bpe_prepare(t, err)))
        goto fail;

    t->eog = malloc((2 + sizeof eog_texts / sizeof eog_texts[0]) * sizeof *t->eog);
    if (!t->eog) {
        s = vkmm_fail(err, VKMM_ERR_HOST_MEMORY, "tokenizer: out of memory");
        goto fail;
    }
    if (t->eos >= 0)
        t->eog[t->n_eog++] = t->eos;
    for (size_t i = 0; i < sizeof eog_texts / sizeof eog_texts[0]; i++) {
        int32_t id = vkmm_text_map_get(&t->all_map, eog_texts[i], strlen(eog_texts[i]));
        if (id >= 0 && id != t->eos && vkmm_vocab_type(vocab, id) == VKMM_TOKEN_CONTROL)
            t->eog[t->n_eog++] = id;
    }
    *out = t;
    return VKMM_OK;
fail:
    vkmm_tokenizer_free(t);
    return s;
}

void vkmm_tokenizer_free(vkmm_tokenizer *t)
{
    if (!t)
        return;
    vkmm_text_map_free(&t->text_map);
    vkmm_text_map_free(&t->all_map);
    vkmm_pair_map_free(&t->merges);
    free(t->trie);
    free(t->eog);
    free(t);
}

static vkmm_status encode_fragment(const vkmm_tokenizer *t, const char *s, size_t n, bool after_special,
                                   vkmm_tokens *out, vkmm_error *err)
{
    if (t->kind == VKMM_TOKENIZER_SPM)
        return vkmm_spm_encode(t, s, n, t->add_space_prefix && after_special, out, err);
    if (t->kind == VKMM_TOKENIZER_BPE_CHARS)
        return vkmm_bpe_chars_encode(t, s, n, out, err);
    return vkmm_bpe_encode(t, s, n, out, err);
}

vkmm_status vkmm_tokenize(const vkmm_tokenizer *t, const char *text, size_t len, unsigned flags,
                          vkmm_tokens *out, vkmm_error *err)
{
    if (!text && len)
        return vkmm_fail(err, VKMM_ERR_INVALID_ARG, "tokenize: no text");
    const unsigned char *s = (const unsigned char *)text;
    bool parse_special = flags & VKMM_TOKENIZE_PARSE_SPECIAL;
    bool add_special = flags & VKMM_TOKENIZE_ADD_SPECIAL;
    size_t first = out->n;
    vkmm_status st;
    /* As Hugging Face does, a "<bos>" written in the text is kept even when BOS is added: prompts from a chat
     * template are rendered without it (chat_template.h) so that BOS comes from here alone. */
    if (add_special && t->add_bos && t->bos >= 0 && vkmm_tokens_push(out, t->bos))
        return vkmm_fail(err, VKMM_ERR_HOST_MEMORY, "tokenize: out of memory");
    /* SentencePiece prefixes a space to text that starts the input or follows a special token */
    bool after_special = true;
    size_t frag = 0, i = 0;
    while (i < len) {
        int32_t id = -1;
        size_t m = match_special(t, s + i, len - i, parse_special, &id);
        if (!m) {
            i++;
            continue;
        }
        if (i > frag) {
            if ((st = encode_fragment(t, text + frag, i - frag, after_special, out, err)))
                goto fail;
            after_special = false;
        }
        if (vkmm_tokens_push(out, id)) {
            st = vkmm_fail(err, VKMM_ERR_HOST_MEMORY, "tokenize: out of memory");
            goto fail;
        }
        after_special = true;
        i += m;
        frag = i;
    }
    if (len > frag && (st = encode_fragment(t, text + frag, len - frag, after_special, out, err)))
        goto fail;
    if (add_special && t->add_eos && t->eos >= 0 && vkmm_tokens_push(out, t->eos)) {
        st = vkmm_fail(err, VKMM_ERR_HOST_MEMORY, "tokenize: out of memory");
        goto fail;
    }
    return VKMM_OK;
fail:
    out->n = first;
    return st;
}

vkmm_tokenizer_kind vkmm_tokenizer_kind_of(const vkmm_tokenizer *t)
{
    return t->kind;
}

const vkmm_vocab *vkmm_tokenizer_vocab(const vkmm_tokenizer *t)
{
    return t->vocab;
}

int32_t vkmm_tokenizer_find(const vkmm_tokenizer *t, const char *s, size_t len)
{
    return vkmm_text_map_get(&t->all_map, s, len);
}

int32_t vkmm_tokenizer_bos(const vkmm_tokenizer *t)
{
    return t->bos;
}

int32_t vkmm_tokenizer_eos(const vkmm_tokenizer *t)
{
    return t->eos;
}

bool vkmm_tokenizer_adds_bos(const vkmm_tokenizer *t)
{
    return t->add_bos && t->bos >= 0;
}

bool vkmm_tokenizer_is_eog(const vkmm_tokenizer *t, int32_t id)
{
    for (uint32_t i = 0; i < t->n_eog; i++)
        if (t->eog[i] == id)
            return true;
    return false;
}
