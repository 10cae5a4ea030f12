/* runtime/engine/audio_inputs.c — an audio clip becomes embedding rows of a session: decoded (a file, encoded bytes or
 * float samples), mixed to mono and resampled to the tower's rate, then vkmm_audio_encode's 30-second pieces. The
 * rows sit among the session's encoded media (vkmm_image_entry, with the audio tower's layout and causal rows), so
 * prompts, chunking, batching and the KV pool treat them as they treat an image's. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "hash.h"
#include "audio.h"
#include "audio_encode.h"
#include "batch.h"
#include "image.h"
#include "session.h"
#include "sized.h"

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}


static vkmm_status decode_input(const vkmm_audio_input *in, const char *name, uint32_t rate, vkmm_audio *a,
                                uint64_t *hash, vkmm_error *err)
{
    vkmm_audio_options opt = vkmm_audio_options_default();
    opt.rate = rate;
    int kinds = (in->path != NULL) + (in->data != NULL) + (in->samples != NULL);
    if (kinds != 1)
        return vkmm_fail(err, VKMM_ERR_INVALID_ARG, "%s: an audio input needs exactly one of a path, encoded data or "
                         "samples (it has %d)", name, kinds);
    uint64_t h = 0x6a09e667f3bcc908ull; /* a seed of its own: keyed apart from images' hashes */
    if (in->samples) {
        uint32_t ch = in->channels ? in->channels : 1;
        if (!in->sample_rate)
            return vkmm_fail(err, VKMM_ERR_INVALID_ARG, "%s: samples without a sample rate", name);
        vkmm_status st = vkmm_audio_from_pcm(in->samples, in->n_frames, ch, in->sample_rate, name, &opt, a, err);
        if (!st)
            *hash = vkmm_fnv1a64(in->samples, (size_t)(in->n_frames * ch * sizeof(float)), h) ^
                    ((uint64_t)in->sample_rate << 8 | ch);
        return st;
    }
    uint8_t *bytes = NULL;
    size_t len = in->size;
    const uint8_t *data = in->data;
    if (in->path) {
        vkmm_status st = vkmm_read_file_capped(in->path, opt.max_file_bytes, "audio", &bytes, &len, err);
        if (st)
            return st;
        data = bytes;
    }
    *hash = vkmm_fnv1a64(data, len, h);
    vkmm_status st = vkmm_audio_load_memory(data, len, name, &opt, a, err);
    free(bytes);
    return st;
}

static vkmm_status encode(vkmm_session *s, const vkmm_audio *a, uint64_t hash, const char *name, int32_t *index,
                          vkmm_error *err)
{
    vkmm_model *m = s->m;
    for (uint32_t i = 0; i < s->n_images; i++)
        if (s->images[i].hash == hash && s->images[i].tower == m->audio_tower) {
            *index = (int32_t)i;
            return VKMM_OK;
        }
    vkmm_status st = vkmm_session_grow_media(s, err);
    if (st)
        return st;
    vkmm_audio_encoding enc;
    vkmm_step_begin(m);
    st = vkmm_audio_encode(m->gpu, m->ops, s->cmd, m->audio, a->pcm, a->n, name, &enc, err);
    vkmm_step_end(m);
    if (st)
        return st;
    if (enc.n_rows > UINT32_MAX) {
        vkmm_buffer_destroy(enc.rows);
        return vkmm_fail(err, VKMM_ERR_INVALID_ARG, "%s: too long", name);
    }
    vkmm_image_entry *e = &s->images[s->n_images];
    *e = (vkmm_image_entry){.hash = hash, .rows = enc.rows, .n_rows = (uint32_t)enc.n_rows, .tower = m->audio_tower,
                            .attention = m->audio_tower->attention};
    *index = (int32_t)s->n_images++;
    s->stats.n_audio++;
    s->stats.audio_seconds += (double)a->n / a->rate;
    return VKMM_OK;
}

vkmm_status vkmm_session_encode_audio(vkmm_session *s, const vkmm_audio_input *caller_in, uint32_t ordinal,
                                      int32_t *index, vkmm_error *err)
{
    vkmm_audio_input copy;
    vkmm_status st = VKMM_SIZED_IN(vkmm_audio_input, &copy, caller_in, "audio input", err);
    if (st)
        return st;
    const vkmm_audio_input *in = &copy;
    char fallback[32];
    snprintf(fallback, sizeof fallback, "audio %u", ordinal);
    const char *name = in->name ? in->name : in->path ? in->path : fallback;
    if (!s->m->audio)
        return vkmm_fail(err, VKMM_ERR_UNSUPPORTED, "%s: this model takes no audio (%s; Gemma 4 E2B and E4B have an "
                         "audio tower in their mmproj)", name,
                         s->m->vision_file ? "its mmproj has no audio tower" : "no mmproj was given");
    double t0 = now_ms();
    vkmm_audio a = {0};
    uint64_t hash = 0;
    uint32_t before = s->n_images;
    st = decode_input(in, name, s->m->audio->mel.rate, &a, &hash, err);
    if (!st)
        st = encode(s, &a, hash, name, index, err);
    vkmm_audio_free(&a);
    if (!st && s->n_images > before)
        s->stats.audio_ms += now_ms() - t0;
    return st;
}

VKMM_API vkmm_status vkmm_session_add_audio_input(vkmm_session *s, const vkmm_audio_input *in, vkmm_error *err)
{
    if (!s || !in)
        return vkmm_fail(err, VKMM_ERR_INVALID_ARG, "no session or no audio");
    if (s->n_msgs)
        return vkmm_fail(err, VKMM_ERR_INVALID_ARG, "this session holds a chat; raw audio cannot be mixed in");
    int32_t idx;
    vkmm_status st = vkmm_session_encode_audio(s, in, s->stats.n_audio + 1, &idx, err);
    if (!st)
        s->raw = true;
    return st ? st : vkmm_session_image_items(s, idx, &s->pending, err);
}

VKMM_API vkmm_status vkmm_session_add_audio(vkmm_session *s, const char *path, vkmm_error *err)
{
    if (!path)
        return vkmm_fail(err, VKMM_ERR_INVALID_ARG, "no audio path");
    vkmm_audio_input in = {.path = path};
    return vkmm_session_add_audio_input(s, &in, err);
}

VKMM_API vkmm_status vkmm_session_add_audio_pcm(vkmm_session *s, const float *samples, uint64_t n,
                                                uint32_t sample_rate, vkmm_error *err)
{
    if (!samples)
        return vkmm_fail(err, VKMM_ERR_INVALID_ARG, "vkmm_session_add_audio_pcm needs the samples");
    vkmm_audio_input in = {.samples = samples, .n_frames = n, .sample_rate = sample_rate, .channels = 1,
                           .name = "samples"};
    return vkmm_session_add_audio_input(s, &in, err);
}
