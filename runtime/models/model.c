/* runtime/models/model.c — small helpers every architecture file uses: tensor names, the usual embedding and
 * the usual positions. */
#include <stdio.h>

#include "model.h"

vkmm_tid vkmm_model_embed(const vkmm_text_model *m, vkmm_graph *g, vkmm_tid ids, uint32_t n)
{
    return vkmm_g_get_rows(g, m->tok_embd, ids, n, m->hp.embed_scale, "token_embd");
}

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
const char *vkmm_model_tensor_name(char *buf, size_t n, const char *fmt, uint32_t layer)
{
    snprintf(buf, n, fmt, layer); /* fmt is one of the architecture files' own "blk.%u.<name>" literals */
    return buf;
}
#pragma GCC diagnostic pop

/* A token's position is kept apart from its slot in the KV cache so that multi-axis RoPE (several ids per
 * token) can come as an architecture's own rule; every architecture so far numbers by slot. */
void vkmm_positions_by_slot(const vkmm_text_model *m, uint32_t slot0, uint32_t n, int32_t *pos)
{
    for (uint32_t a = 0; a < m->hp.n_pos_axes; a++)
        for (uint32_t i = 0; i < n; i++)
            pos[(size_t)a * n + i] = (int32_t)(slot0 + i);
}
