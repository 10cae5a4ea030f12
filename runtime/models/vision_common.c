/* runtime/models/vision_common.c — what vision towers share: the clip.vision.* hyperparameters every mmproj
 * states, checked before a tower builds anything on them. */
#include "model.h"

static vkmm_status read_floats3(const vkmm_gguf *g, const char *key, float *out, vkmm_error *err)
{
    const vkmm_gguf_value *a = vkmm_gguf_get_array(g, key, VKMM_GGUF_TYPE_COUNT);
    if (!a)
        return VKMM_OK; /* the caller's defaults stand */
    for (uint32_t i = 0; i < 3; i++) {
        vkmm_gguf_value e;
        double d;
        if (a->count != 3 || !vkmm_gguf_array_elem(a, i, &e) || !vkmm_gguf_value_f64(&e, &d))
            return vkmm_fail(err, VKMM_ERR_FORMAT, "%s: %s is not three numbers", vkmm_gguf_path(g), key);
        out[i] = (float)d;
    }
    return VKMM_OK;
}

vkmm_status vkmm_vision_read_common(const vkmm_gguf *g, vkmm_vision_hparams *hp, vkmm_error *err)
{
    vkmm_status s = VKMM_OK;
    if (!s) s = vkmm_gguf_need_u32(g, "clip.vision.image_size", &hp->image_size, err);
    if (!s) s = vkmm_gguf_need_u32(g, "clip.vision.patch_size", &hp->patch, err);
    if (!s) s = vkmm_gguf_need_u32(g, "clip.vision.embedding_length", &hp->n_embd, err);
    if (!s) s = vkmm_gguf_need_u32(g, "clip.vision.feed_forward_length", &hp->n_ff, err);
    if (!s) s = vkmm_gguf_need_u32(g, "clip.vision.block_count", &hp->n_layer, err);
    if (!s) s = vkmm_gguf_need_u32(g, "clip.vision.attention.head_count", &hp->n_head, err);
    if (!s) s = vkmm_gguf_need_u32(g, "clip.vision.projection_dim", &hp->n_text_embd, err);
    if (s)
        return s;
    vkmm_gguf_get_f32(g, "clip.vision.attention.layer_norm_epsilon", &hp->eps);
    if ((s = read_floats3(g, "clip.vision.image_mean", hp->mean, err)) ||
        (s = read_floats3(g, "clip.vision.image_std", hp->std, err)))
        return s;
    if (!hp->patch || !hp->n_head || hp->n_embd % hp->n_head || !hp->n_layer || hp->n_layer > VKMM_MAX_LAYERS ||
        !hp->image_size || hp->image_size % hp->patch || !hp->n_text_embd || !hp->n_ff)
        return vkmm_fail(err, VKMM_ERR_FORMAT, "%s: unusable vision shape: image %u, patch %u, width %u, %u heads, "
                         "%u layers", vkmm_gguf_path(g), hp->image_size, hp->patch, hp->n_embd, hp->n_head, hp->n_layer);
    return VKMM_OK;
}

