/* runtime/models/gemma4_hparams.c — the gemma4.* keys of a Gemma 4 text GGUF (../shared/reference/gemma4.md §2-3):
 * sliding and full layers with their own head sizes, KV heads, RoPE bases and frequency rules, KV sharing across
 * the last layers, per-layer input width, experts, final soft-capping. Everything comes from the file; nothing
 * from a table of known sizes. */
#include <math.h>
#include <stdio.h>

#include "gemma4.h"

/* Head sizes the attention kernels are built for (shaders/attention/meson.build). */
static bool kernel_head_dim(uint32_t d)
{
    return d == 64 || d == 128 || d == 256 || d == 512;
}

/* Layers from the first shared one on reuse the cache of the last earlier layer of their own kind (sliding or
 * full), as the Hugging Face reference does (Gemma4TextAttention.store_full_length_kv). */
static vkmm_status kv_sharing(const char *path, uint32_t n_shared, vkmm_text_hparams *hp, vkmm_error *err)
{
    if (n_shared >= hp->n_layer)
        return vkmm_fail(err, VKMM_ERR_FORMAT, "%s: gemma4.attention.shared_kv_layers is %u of %u layers", path,
                         n_shared, hp->n_layer);
    uint32_t first = hp->n_layer - n_shared;
    for (uint32_t il = first; il < hp->n_layer; il++) {
        bool sliding = hp->window[il] > 0;
        int64_t owner = -1;
        for (int64_t j = first - 1; j >= 0 && owner < 0; j--)
            if ((hp->window[j] > 0) == sliding)
                owner = j;
        if (owner < 0)
            return vkmm_fail(err, VKMM_ERR_FORMAT, "%s: shared layer %u has no earlier %s layer to take its cache from",
                             path, il, sliding ? "sliding-window" : "full-attention");
        hp->kv_shared_from[il] = (uint32_t)owner + 1;
    }
    return VKMM_OK;
}

vkmm_status gemma4_read_hparams(const vkmm_gguf *g, const char *arch, vkmm_text_hparams *hp, gemma4_hparams *g4,
                                vkmm_error *err)
{
    const char *path = vkmm_gguf_path(g);
    vkmm_status s = vkmm_text_read_common(g, arch, hp, err);
    if (s)
        return s;
    char key[96];
#define K(x) vkmm_text_key(key, sizeof key, arch, x)
    /* key_length / value_length are the full layers' (read_common checked they agree); *_swa the sliding ones' */
    g4->head_dim_full = hp->head_dim;
    g4->head_dim_swa = hp->head_dim;
    vkmm_gguf_get_u32(g, K("attention.key_length_swa"), &g4->head_dim_swa);
    uint32_t vlen_swa = g4->head_dim_swa, rot = g4->head_dim_full, rot_swa = g4->head_dim_swa, window = 0;
    vkmm_gguf_get_u32(g, K("attention.value_length_swa"), &vlen_swa);
    vkmm_gguf_get_u32(g, K("rope.dimension_count"), &rot);
    vkmm_gguf_get_u32(g, K("rope.dimension_count_swa"), &rot_swa);
    if ((s = vkmm_gguf_need_u32(g, K("attention.sliding_window"), &window, err)))
        return s;
    float base = 1000000.0f, base_swa = 10000.0f;
    vkmm_gguf_get_f32(g, K("rope.freq_base"), &base);
    vkmm_gguf_get_f32(g, K("rope.freq_base_swa"), &base_swa);
    vkmm_gguf_get_f32(g, K("final_logit_softcapping"), &hp->final_softcap);
    vkmm_gguf_get_u32(g, K("embedding_length_per_layer_input"), &g4->n_ple);
    vkmm_gguf_get_u32(g, K("attention.shared_kv_layers"), &g4->n_shared);
    vkmm_gguf_get_u32(g, K("expert_count"), &g4->n_expert);
    vkmm_gguf_get_u32(g, K("expert_used_count"), &g4->n_expert_used);
    vkmm_gguf_get_u32(g, K("expert_feed_forward_length"), &g4->n_ff_exp);
    bool has_scaling = vkmm_gguf_find(g, K("rope.scaling.type")) != NULL;
#undef K
    if (vlen_swa != g4->head_dim_swa || !kernel_head_dim(g4->head_dim_swa) || !kernel_head_dim(g4->head_dim_full))
        return vkmm_fail(err, VKMM_ERR_UNSUPPORTED, "%s: head sizes %u (sliding, values %u) and %u (full): vkmm's "
                         "attention kernels take 64, 128, 256 or 512", path, g4->head_dim_swa, vlen_swa,
                         g4->head_dim_full);
    if (rot != g4->head_dim_full || rot_swa != g4->head_dim_swa)
        return vkmm_fail(err, VKMM_ERR_UNSUPPORTED, "%s: RoPE over %u/%u of heads of %u/%u (full/sliding): partial "
                         "rotation is stated through rope_freqs in Gemma 4 files, not supported this way", path, rot,
                         rot_swa, g4->head_dim_full, g4->head_dim_swa);
    if (has_scaling)
        return vkmm_fail(err, VKMM_ERR_UNSUPPORTED, "%s: RoPE scaling is not supported for gemma4", path);
    if (!(base > 0) || !(base_swa > 0) || !isfinite(hp->final_softcap) || hp->final_softcap < 0)
        return vkmm_fail(err, VKMM_ERR_FORMAT, "%s: RoPE bases %g/%g or soft-cap %g are not usable", path,
                         (double)base, (double)base_swa, (double)hp->final_softcap);
    if (g4->n_expert && (!g4->n_expert_used || g4->n_expert_used > g4->n_expert || !g4->n_ff_exp))
        return vkmm_fail(err, VKMM_ERR_FORMAT, "%s: %u experts, %u used, expert FFN %u: not a usable mixture", path,
                         g4->n_expert, g4->n_expert_used, g4->n_ff_exp);
    if ((s = vkmm_text_read_swa_pattern(g, arch, window, 0, hp, err)))
        return s;
    for (uint32_t il = 0; il < hp->n_layer; il++) {
        bool sliding = hp->window[il] > 0;
        hp->head_dim_l[il] = sliding ? g4->head_dim_swa : g4->head_dim_full;
        hp->rope_base[il] = sliding ? base_swa : base;
        hp->rope_scale[il] = 1.0f;
    }
    if ((s = kv_sharing(path, g4->n_shared, hp, err)))
        return s;
    hp->n_expert = g4->n_expert;
    hp->n_expert_used = g4->n_expert_used;
    hp->attn_scale = 1.0f; /* q and k are RMS-normalised; the reference scales by 1, not 1/sqrt(d) */
    hp->embed_scale = sqrtf((float)hp->n_embd);
    hp->rope = VKMM_MODEL_ROPE_NEOX;
    return VKMM_OK;
}
