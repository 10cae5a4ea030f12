/* runtime/engine/audio_encode.c — audio samples through an audio tower, piece by piece: the front end on the CPU,
 * one graph and one submit per piece, rows written straight into their place in the result. */
#include <stdlib.h>
#include <time.h>

#include "audio_encode.h"
#include "nodes.h"

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* Piece `piece` (frames f32 [n_frames][n_mel]) into rows [row0, row0 + its rows) of out. *arena grows as needed. */
static vkmm_status encode_piece(vkmm_gpu *gpu, vkmm_ops *ops, vkmm_cmd *cmd, const vkmm_audio_model *m,
                                const float *frames, uint32_t n_frames, vkmm_buffer *out, uint64_t row0,
                                vkmm_buffer **arena, vkmm_error *err)
{
    uint32_t H = m->hp.n_text_embd, rows = m->n_rows(m, n_frames);
    uint64_t bytes = 4ull * n_frames * m->hp.n_mel;
    vkmm_buffer *mel = NULL;
    vkmm_status st = vkmm_buffer_create(gpu, bytes, VKMM_MEM_DEVICE, "mel", &mel, err);
    if (!st)
        st = vkmm_buffer_upload(gpu, mel, 0, frames, bytes, err);
    vkmm_graph g;
    vkmm_graph_init(&g, ops);
    if (!st) {
        vkmm_tid tm = vkmm_graph_external(&g, vkmm_range_whole(mel), VKMM_F32, m->hp.n_mel, n_frames, 1, "mel");
        vkmm_tid enc = m->encode(m, &g, tm, n_frames);
        vkmm_range dst = vkmm_range_sub(vkmm_range_whole(out), row0 * H * 4, 4ull * H * rows);
        vkmm_tid td = vkmm_graph_external(&g, dst, VKMM_F32, H, rows, 1, "audio_rows");
        vkmm_g_copy_rows(&g, enc, H, td, 0, H, rows, H, "keep");
        st = vkmm_graph_plan(&g, err);
    }
    if (!st && (!*arena || vkmm_buffer_size(*arena) < g.arena_bytes)) {
        vkmm_buffer_destroy(*arena);
        *arena = NULL;
        st = vkmm_buffer_create(gpu, g.arena_bytes, VKMM_MEM_DEVICE, "audio-activations", arena, err);
    }
    if (!st)
        vkmm_cmd_reset(cmd);
    vkmm_gpu_capture_begin(gpu);
    if (!st)
        st = vkmm_graph_record(&g, ops, cmd, vkmm_range_whole(*arena), err);
    if (!st)
        st = vkmm_cmd_submit(cmd, err);
    vkmm_gpu_capture_end(gpu);
    vkmm_graph_free(&g);
    vkmm_buffer_destroy(mel);
    return st;
}

vkmm_status vkmm_audio_encode(vkmm_gpu *gpu, vkmm_ops *ops, vkmm_cmd *cmd, const vkmm_audio_model *m,
                              const float *pcm, uint64_t n, const char *name, vkmm_audio_encoding *out, vkmm_error *err)
{
    *out = (vkmm_audio_encoding){0};
    uint64_t total = vkmm_audio_rows(m, n);
    if (!total)
        return vkmm_fail(err, VKMM_ERR_INVALID_ARG, "%s: %llu samples (%.3f s) are too short for the audio encoder",
                         name, (unsigned long long)n, (double)n / m->mel.rate);
    vkmm_status st = vkmm_buffer_create(gpu, 4ull * total * m->hp.n_text_embd, VKMM_MEM_DEVICE, "audio-rows",
                                        &out->rows, err);
    vkmm_buffer *arena = NULL;
    for (uint32_t p = 0, pieces = vkmm_audio_pieces(m, n); p < pieces && !st; p++) {
        double t0 = now_ms();
        float *frames = NULL;
        uint32_t n_frames = 0;
        st = vkmm_audio_piece_features(m, pcm, n, p, &frames, &n_frames, err);
        double t1 = now_ms();
        out->features_ms += t1 - t0;
        if (!st && m->n_rows(m, n_frames)) {
            st = encode_piece(gpu, ops, cmd, m, frames, n_frames, out->rows, out->n_rows, &arena, err);
            out->n_rows += m->n_rows(m, n_frames);
            out->n_pieces++;
        }
        free(frames);
        out->encode_ms += now_ms() - t1;
    }
    vkmm_buffer_destroy(arena);
    if (st) {
        vkmm_buffer_destroy(out->rows);
        *out = (vkmm_audio_encoding){0};
        return vkmm_error_prefix(err, st, "encoding %s", name);
    }
    return VKMM_OK;
}
