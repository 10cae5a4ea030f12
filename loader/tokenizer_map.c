/* loader/tokenizer_map.c — the tokenizers' hash maps (token text -> id, id pair -> merge) and the GPT-2
 * byte-to-unicode alphabet that byte-level vocabularies are written in. */
#include <stdlib.h>
#include <string.h>

#include "tokenizer_internal.h"

static uint64_t hash_bytes(const char *s, size_t len)
{
    /* FNV-1a with a final mix: cheap, and good enough for token texts */
    uint64_t h = 0xcbf29ce484222325ull;
    for (size_t i = 0; i < len; i++) {
        h ^= (unsigned char)s[i];
        h *= 0x100000001b3ull;
    }
    h ^= h >> 29;
    h *= 0xbf58476d1ce4e5b9ull;
    h ^= h >> 32;
    return h;
}

static uint64_t hash_u64(uint64_t x)
{
    x ^= x >> 30;
    x *= 0xbf58476d1ce4e5b9ull;
    x ^= x >> 27;
    x *= 0x94d049bb133111ebull;
    x ^= x >> 31;
    return x;
}

static uint32_t table_size(uint64_t n)
{
    uint64_t cap = 16;
    while (cap < 2 * n)
        cap *= 2;
    return (uint32_t)cap;
}

vkmm_status vkmm_text_map_build(vkmm_text_map *m, const vkmm_vocab *v, bool (*keep)(int32_t type),
                                vkmm_error *err)
{
    memset(m, 0, sizeof *m);
    uint32_t cap = table_size(v->n_tokens);
    m->slots = malloc((size_t)cap * sizeof *m->slots);
    if (!m->slots)
        return vkmm_fail(err, VKMM_ERR_HOST_MEMORY, "tokenizer: out of memory for the token map");
    memset(m->slots, 0xFF, (size_t)cap * sizeof *m->slots);
    m->mask = cap - 1;
    m->texts = v->tokens;
    for (uint32_t id = 0; id < v->n_tokens; id++) {
        if (keep && !keep(vkmm_vocab_type(v, id)))
            continue;
        const vkmm_vocab_str *t = &v->tokens[id];
        uint32_t i = (uint32_t)hash_bytes(t->s, t->len) & m->mask;
        for (;; i = (i + 1) & m->mask) {
            int32_t o = m->slots[i];
            if (o < 0) {
                m->slots[i] = (int32_t)id;
                break;
            }
            if (m->texts[o].len == t->len && !memcmp(m->texts[o].s, t->s, t->len))
                break; /* a repeated text keeps its lowest id */
        }
    }
    return VKMM_OK;
}

int32_t vkmm_text_map_get(const vkmm_text_map *m, const char *s, size_t len)
{
    uint32_t i = (uint32_t)hash_bytes(s, len) & m->mask;
    for (;; i = (i + 1) & m->mask) {
        int32_t o = m->slots[i];
        if (o < 0)
            return -1;
        if (m->texts[o].len == len && !memcmp(m->texts[o].s, s, len))
            return o;
    }
}

void vkmm_text_map_free(vkmm_text_map *m)
{
    free(m->slots);
    memset(m, 0, sizeof *m);
}

vkmm_status vkmm_pair_map_init(vkmm_pair_map *m, uint32_t n, vkmm_error *err)
{
    memset(m, 0, sizeof *m);
    uint32_t cap = table_size(n);
    m->keys = calloc(cap, sizeof *m->keys);
    m->rank = malloc((size_t)cap * sizeof *m->rank);
    m->result = malloc((size_t)cap * sizeof *m->result);
    if (!m->keys || !m->rank || !m->result) {
        vkmm_pair_map_free(m);
        return vkmm_fail(err, VKMM_ERR_HOST_MEMORY, "tokenizer: out of memory for %u merges", n);
    }
    m->mask = cap - 1;
    return VKMM_OK;
}

void vkmm_pair_map_put(vkmm_pair_map *m, int32_t left, int32_t right, uint32_t rank, int32_t result)
{
    uint64_t key = ((uint64_t)(uint32_t)left << 32 | (uint32_t)right) + 1;
    uint32_t i = (uint32_t)hash_u64(key) & m->mask;
    for (;; i = (i + 1) & m->mask) {
        if (!m->keys[i]) {
            m->keys[i] = key;
            m->rank[i] = rank;
            m->result[i] = result;
            return;
        }
        if (m->keys[i] == key)
            return;
    }
}

bool vkmm_pair_map_get(const vkmm_pair_map *m, int32_t left, int32_t right, uint32_t *rank, int32_t *result)
{
    if (!m->keys)
        return false;
    uint64_t key = ((uint64_t)(uint32_t)left << 32 | (uint32_t)right) + 1;
    uint32_t i = (uint32_t)hash_u64(key) & m->mask;
    for (;; i = (i + 1) & m->mask) {
        if (!m->keys[i])
            return false;
        if (m->keys[i] == key) {
            *rank = m->rank[i];
            *result = m->result[i];
            return true;
        }
    }
}

void vkmm_pair_map_free(vkmm_pair_map *m)
{
    free(m->keys);
    free(m->rank);
    free(m->result);
    memset(m, 0, sizeof *m);
}

/* Bytes that print as themselves keep their code point; the other 68 (controls, space, DEL, 0x80-0xA0,
 * soft hyphen) map in increasing order to U+0100, U+0101, ... */
static bool byte_prints(unsigned b)
{
    return (b >= 0x21 && b <= 0x7E) || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
}

uint32_t vkmm_byte_to_unicode(unsigned char b)
{
    if (byte_prints(b))
        return b;
    uint32_t k = 0;
    for (unsigned i = 0; i < b; i++)
        if (!byte_prints(i))
            k++;
    return 0x100 + k;
}

int vkmm_unicode_to_byte(uint32_t cp)
{
    if (cp < 0x100)
        return byte_prints(cp) ? (int)cp : -1;
    if (cp >= 0x100 + 68)
        return -1;
    uint32_t k = 0;
    for (unsigned b = 0; b < 256; b++)
        if (!byte_prints(b) && k++ == cp - 0x100)
            return (int)b;
    return -1;
}
