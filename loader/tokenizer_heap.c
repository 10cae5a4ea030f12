/* loader/tokenizer_heap.c — the binary heap both BPE algorithms pop their next merge from (fixed-size items,
 * ordered by the algorithm's `before`). */
#include <stdlib.h>
#include <string.h>

#include "tokenizer_internal.h"

void vkmm_heap_init(vkmm_heap *h, size_t item, bool (*before)(const void *a, const void *b))
{
    memset(h, 0, sizeof *h);
    h->item = item;
    h->before = before;
}

void vkmm_heap_free(vkmm_heap *h)
{
    free(h->v);
    h->v = NULL;
    h->n = h->cap = 0;
}

#define AT(h, i) ((char *)(h)->v + (i) * (h)->item)

bool vkmm_heap_push(vkmm_heap *h, const void *x)
{
    if (h->n == h->cap) {
        size_t cap = h->cap ? h->cap * 2 : 64;
        void *v = realloc(h->v, (cap + 1) * h->item); /* one spare slot for pop's scratch */
        if (!v)
            return false;
        h->v = v;
        h->cap = cap;
    }
    size_t i = h->n++;
    while (i > 0) {
        size_t parent = (i - 1) / 2;
        if (!h->before(x, AT(h, parent)))
            break;
        memcpy(AT(h, i), AT(h, parent), h->item);
        i = parent;
    }
    memcpy(AT(h, i), x, h->item);
    return true;
}

void vkmm_heap_pop(vkmm_heap *h, void *top)
{
    memcpy(top, AT(h, 0), h->item);
    void *last = AT(h, h->cap); /* the spare slot */
    memcpy(last, AT(h, --h->n), h->item);
    size_t i = 0;
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= h->n)
            break;
        if (c + 1 < h->n && h->before(AT(h, c + 1), AT(h, c)))
            c++;
        if (!h->before(AT(h, c), last))
            break;
        memcpy(AT(h, i), AT(h, c), h->item);
        i = c;
    }
    if (h->n)
        memcpy(AT(h, i), last, h->item);
}
