/* runtime/engine/images.c — an image becomes embedding rows: decode, the preprocessing of the model's tower (its
 * row of the architecture table: as the Hugging Face processor does it), then the vision tower and projector on
 * the GPU. Each picture is encoded once per session (keyed by a hash of the file's bytes). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "hash.h"
#include "batch.h"
#include "image.h"
#include "nodes.h"
#include "session.h"
#include "sized.h"

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static vkmm_status run_encoder(vkmm_session *s, const vkmm_image_tensor *t, vkmm_image_entry *e, vkmm_error *err)
{
    vkmm_model *m = s->m;
    vkmm_vision_model *vm = m->vision;
    uint32_t H = m->text->hp.n_embd;
    e->n_rows = vm->n_rows(vm, t->h, t->w);
    vkmm_buffer *img = NULL, *arena = NULL;
    uint64_t bytes = 4ull * t->c * t->h * t->w;
    vkmm_status st = vkmm_buffer_create(m->gpu, bytes, VKMM_MEM_DEVICE, "image", &img, err);
    if (!st)
        st = vkmm_buffer_upload(m->gpu, img, 0, t->data, bytes, err);
    if (!st)
        st = vkmm_buffer_create(m->gpu, 4ull * H * e->n_rows, VKMM_MEM_DEVICE, "image-rows", &e->rows, err);
    vkmm_graph g;
    vkmm_graph_init(&g, m->ops);
    if (!st) {
        vkmm_tid ti = vkmm_graph_external(&g, vkmm_range_whole(img), VKMM_F32, t->w, t->h, t->c, "pixels");
        vkmm_tid enc = vm->encode(vm, &g, ti, t->h, t->w);
        vkmm_tid dst = vkmm_graph_external(&g, vkmm_range_whole(e->rows), VKMM_F32, H, e->n_rows, 1, "image_rows");
        vkmm_g_copy_rows(&g, enc, H, dst, 0, H, e->n_rows, H, "keep");
        st = vkmm_graph_plan(&g, err);
    }
    if (!st)
        st = vkmm_buffer_create(m->gpu, g.arena_bytes, VKMM_MEM_DEVICE, "vision-activations", &arena, err);
    if (!st)
        vkmm_cmd_reset(s->cmd);
    vkmm_gpu_capture_begin(m->gpu);
    if (!st)
        st = vkmm_graph_record(&g, m->ops, s->cmd, vkmm_range_whole(arena), err);
    if (!st)
        st = vkmm_cmd_submit(s->cmd, err);
    vkmm_gpu_capture_end(m->gpu);
    if (!st)
        vkmm_session_profile_add(s, s->cmd);
    vkmm_graph_free(&g);
    vkmm_buffer_destroy(arena);
    vkmm_buffer_destroy(img);
    return st;
}

vkmm_status vkmm_session_grow_media(vkmm_session *s, vkmm_error *err)
{
    if (s->n_images < s->cap_images)
        return VKMM_OK;
    uint32_t cap = s->cap_images ? s->cap_images * 2 : 8;
    vkmm_image_entry *v = realloc(s->images, cap * sizeof *v);
    if (!v)
        return vkmm_fail(err, VKMM_ERR_HOST_MEMORY, "out of host memory");
    s->images = v;
    s->cap_images = cap;
    return VKMM_OK;
}

static vkmm_status encode(vkmm_session *s, const vkmm_image *img, uint64_t hash, const char *name, int32_t *index,
                          vkmm_error *err)
{
    vkmm_model *m = s->m;
    if (!m->vision)
        return vkmm_fail(err, VKMM_ERR_INVALID_ARG, "%s: this model has no vision projector (give the mmproj file "
                         "with --mmproj)", name);
    for (uint32_t i = 0; i < s->n_images; i++)
        if (s->images[i].hash == hash) {
            *index = (int32_t)i;
            return VKMM_OK;
        }
    double t0 = now_ms();
    vkmm_image_prep prep = m->image_tower->preprocess(&m->vision->hp, m->image_tokens);
    vkmm_image_tensor t = {0};
    vkmm_status st = vkmm_image_preprocess(img, &prep, &t, err);
    if (st)
        return vkmm_error_prefix(err, st, "%s", name);
    if ((st = vkmm_session_grow_media(s, err))) {
        vkmm_image_tensor_free(&t);
        return st;
    }
    vkmm_image_entry *e = &s->images[s->n_images];
    memset(e, 0, sizeof *e);
    e->hash = hash;
    e->tower = m->image_tower;
    e->attention = m->image_attention;
    vkmm_step_begin(m);
    st = run_encoder(s, &t, e, err);
    if (st)
        vkmm_buffer_destroy(e->rows);
    vkmm_step_end(m);
    vkmm_image_tensor_free(&t);
    if (st)
        return vkmm_error_prefix(err, st, "encoding %s", name);
    *index = (int32_t)s->n_images++;
    s->stats.n_images++;
    s->stats.image_ms += now_ms() - t0;
    return VKMM_OK;
}

/* Decodes whichever kind of input it is; hash keys the session's cache of encoded images. */
static vkmm_status decode_input(const vkmm_image_input *in, const char *name, vkmm_image *img, uint64_t *hash,
                                vkmm_error *err)
{
    vkmm_image_options opt = vkmm_image_options_default();
    int kinds = (in->path != NULL) + (in->data != NULL) + (in->pixels != NULL);
    if (kinds != 1)
        return vkmm_fail(err, VKMM_ERR_INVALID_ARG, "%s: an image input needs exactly one of a path, encoded data or "
                         "pixels (it has %d)", name, kinds);
    if (in->pixels) {
        vkmm_status st = vkmm_image_from_pixels(in->pixels, in->width, in->height, in->channels, name, &opt, img, err);
        if (!st)
            *hash = vkmm_fnv1a64(in->pixels, (size_t)in->width * in->height * in->channels, VKMM_FNV1A64_INIT) ^
                    ((uint64_t)in->width << 40 | (uint64_t)in->height << 8 | in->channels);
        return st;
    }
    uint8_t *bytes = NULL;
    size_t len = in->size;
    const uint8_t *data = in->data;
    if (in->path) {
        vkmm_status st = vkmm_read_file_capped(in->path, opt.max_file_bytes, "image", &bytes, &len, err);
        if (st)
            return st;
        data = bytes;
    }
    *hash = vkmm_fnv1a64(data, len, VKMM_FNV1A64_INIT);
    vkmm_status st = vkmm_image_load_memory(data, len, name, &opt, img, err);
    free(bytes);
    return st;
}

vkmm_status vkmm_session_encode_input(vkmm_session *s, const vkmm_image_input *caller_in, int32_t *index,
                                      vkmm_error *err)
{
    vkmm_image_input copy;
    vkmm_status sized = VKMM_SIZED_IN(vkmm_image_input, &copy, caller_in, "image input", err);
    if (sized)
        return sized;
    const vkmm_image_input *in = &copy;
    char fallback[32];
    snprintf(fallback, sizeof fallback, "image %u", s->n_images + 1);
    const char *name = in->name ? in->name : in->path ? in->path : fallback;
    if (!s->m->vision)
        return vkmm_fail(err, VKMM_ERR_INVALID_ARG, "%s: this model has no vision projector (give the mmproj file "
                         "with --mmproj)", name);
    double t0 = now_ms();
    vkmm_image img = {0};
    uint64_t hash = 0;
    vkmm_status st = decode_input(in, name, &img, &hash, err);
    double decode_ms = now_ms() - t0;
    uint32_t before = s->n_images;
    if (!st)
        st = encode(s, &img, hash, name, index, err);
    vkmm_image_free(&img);
    if (!st && s->n_images > before)
        s->stats.image_ms += decode_ms; /* decoding counts as image time too, when the image was new */
    return st;
}

void vkmm_session_drop_images(vkmm_session *s)
{
    vkmm_step_begin(s->m);
    for (uint32_t i = 0; i < s->n_images; i++)
        vkmm_buffer_destroy(s->images[i].rows);
    vkmm_step_end(s->m);
    s->n_images = 0;
}
