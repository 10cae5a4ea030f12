/* loader/audio.c — decoding audio with libsndfile from memory (so the size cap applies before any decoding),
 * with a whitelist of containers sniffed from the first bytes, the duration capped from the header and again
 * while reading, channels mixed to mono (their mean, as librosa does) and the rate converted by audio_resample.c. */
#include <math.h>
#include <sndfile.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audio.h"
#include "image.h"

#define MAX_CHANNELS 64
#define MIN_RATE 1000
#define MAX_RATE 768000
#define MAX_SAMPLES (1ull << 26) /* decoded mono samples at the source rate: 256 MiB of floats */

vkmm_audio_options vkmm_audio_options_default(void)
{
    return (vkmm_audio_options){.max_file_bytes = 64ull << 20, .max_seconds = 600.0, .rate = 16000};
}

static vkmm_audio_options sane(const vkmm_audio_options *opt)
{
    vkmm_audio_options o = opt ? *opt : vkmm_audio_options_default();
    vkmm_audio_options d = vkmm_audio_options_default();
    if (!o.max_file_bytes)
        o.max_file_bytes = d.max_file_bytes;
    if (!(o.max_seconds > 0) || o.max_seconds > 24 * 3600.0)
        o.max_seconds = d.max_seconds;
    if (o.rate < MIN_RATE || o.rate > MAX_RATE)
        o.rate = d.rate;
    return o;
}

/* ---- the container, from its first bytes ---- */

static const char *sniff(const uint8_t *d, size_t n)
{
    if (n >= 12 && (!memcmp(d, "RIFF", 4) || !memcmp(d, "RIFX", 4)) && !memcmp(d + 8, "WAVE", 4))
        return "wav";
    if (n >= 12 && !memcmp(d, "RF64", 4) && !memcmp(d + 8, "WAVE", 4))
        return "wav";
    if (n >= 4 && !memcmp(d, "fLaC", 4))
        return "flac";
    if (n >= 4 && !memcmp(d, "OggS", 4))
        return "ogg";
    if (n >= 12 && !memcmp(d, "FORM", 4) && (!memcmp(d + 8, "AIFF", 4) || !memcmp(d + 8, "AIFC", 4)))
        return "aiff";
    if (n >= 3 && !memcmp(d, "ID3", 3))
        return "mp3";
    if (n >= 2 && d[0] == 0xff && (d[1] & 0xe0) == 0xe0 && (d[1] & 0x06) != 0) /* an MPEG audio frame sync */
        return "mp3";
    return NULL;
}

static const char *encoding_name(int format)
{
    switch (format & SF_FORMAT_SUBMASK) {
    case SF_FORMAT_PCM_S8: return "pcm8";
    case SF_FORMAT_PCM_U8: return "pcm8u";
    case SF_FORMAT_PCM_16: return "pcm16";
    case SF_FORMAT_PCM_24: return "pcm24";
    case SF_FORMAT_PCM_32: return "pcm32";
    case SF_FORMAT_FLOAT: return "float";
    case SF_FORMAT_DOUBLE: return "double";
    case SF_FORMAT_ULAW: return "ulaw";
    case SF_FORMAT_ALAW: return "alaw";
    case SF_FORMAT_IMA_ADPCM: return "ima-adpcm";
    case SF_FORMAT_MS_ADPCM: return "ms-adpcm";
    case SF_FORMAT_GSM610: return "gsm610";
    case SF_FORMAT_VORBIS: return "vorbis";
    case SF_FORMAT_OPUS: return "opus";
    case SF_FORMAT_MPEG_LAYER_I: return "mp1";
    case SF_FORMAT_MPEG_LAYER_II: return "mp2";
    case SF_FORMAT_MPEG_LAYER_III: return "mp3";
    }
    return "other";
}

/* ---- libsndfile reads from our buffer ---- */

typedef struct memfile {
    const uint8_t *data;
    sf_count_t len, pos;
} memfile;

static sf_count_t mem_len(void *user)
{
    return ((memfile *)user)->len;
}

static sf_count_t mem_seek(sf_count_t offset, int whence, void *user)
{
    memfile *m = user;
    sf_count_t base = whence == SEEK_CUR ? m->pos : whence == SEEK_END ? m->len : 0;
    /* past the end is allowed, as for a file (reads there return nothing); before the start is not */
    if (offset > (sf_count_t)1 << 40 || offset < -m->len - m->pos || base + offset < 0)
        return -1;
    m->pos = base + offset;
    return m->pos;
}

static sf_count_t mem_read(void *ptr, sf_count_t count, void *user)
{
    memfile *m = user;
    if (count <= 0)
        return 0;
    sf_count_t left = m->pos < m->len ? m->len - m->pos : 0;
    if (count > left)
        count = left;
    memcpy(ptr, m->data + m->pos, (size_t)count);
    m->pos += count;
    return count;
}

static sf_count_t mem_write(const void *ptr, sf_count_t count, void *user)
{
    (void)ptr, (void)count, (void)user;
    return 0;
}

static sf_count_t mem_tell(void *user)
{
    return ((memfile *)user)->pos;
}

/* ---- mono, then the output rate ---- */

static vkmm_status finish(float *mono, uint64_t n, uint32_t rate, const char *name, const vkmm_audio_options *o,
                          vkmm_audio *out, vkmm_error *err)
{
    for (uint64_t i = 0; i < n; i++)
        if (!isfinite(mono[i])) {
            free(mono);
            return vkmm_fail(err, VKMM_ERR_FORMAT, "%s: sample %llu is not a finite number", name,
                             (unsigned long long)i);
        }
    if (rate == o->rate) {
        out->pcm = mono;
        out->n = n;
    } else {
        vkmm_status st = vkmm_audio_resample(mono, n, rate, o->rate, &out->pcm, &out->n, err);
        free(mono);
        if (st)
            return vkmm_error_prefix(err, st, "%s", name);
    }
    out->rate = o->rate;
    return VKMM_OK;
}

static vkmm_status check_shape(uint64_t frames, int64_t channels, int64_t rate, const char *name,
                               const vkmm_audio_options *o, vkmm_error *err)
{
    if (channels < 1 || channels > MAX_CHANNELS)
        return vkmm_fail(err, VKMM_ERR_UNSUPPORTED, "%s: %lld channels (1 to %d)", name, (long long)channels,
                         MAX_CHANNELS);
    if (rate < MIN_RATE || rate > MAX_RATE)
        return vkmm_fail(err, VKMM_ERR_UNSUPPORTED, "%s: sample rate %lld Hz (%d to %d)", name, (long long)rate,
                         MIN_RATE, MAX_RATE);
    if ((double)frames / (double)rate > o->max_seconds)
        return vkmm_fail(err, VKMM_ERR_UNSUPPORTED, "%s: %.1f s of audio, over the cap of %.0f s", name,
                         (double)frames / (double)rate, o->max_seconds);
    if (frames > MAX_SAMPLES)
        return vkmm_fail(err, VKMM_ERR_UNSUPPORTED, "%s: %llu samples, over the cap of %llu", name,
                         (unsigned long long)frames, MAX_SAMPLES);
    return VKMM_OK;
}

/* libsndfile reads a WAV whose data chunk is cut short as far as it goes, and says so only in its log
 * ("data : 20000 (should be 200)"): that is a truncated file. */
static vkmm_status check_wav_data(SNDFILE *sf, const char *name, vkmm_error *err)
{
    char log[4096] = "";
    sf_command(sf, SFC_GET_LOG_INFO, log, sizeof log);
    for (const char *p = log; (p = strstr(p, "data : ")); p++) {
        long long said = 0, is = 0;
        if (sscanf(p, "data : %lld (should be %lld)", &said, &is) == 2)
            return vkmm_fail(err, VKMM_ERR_FORMAT, "%s: truncated: the data chunk promises %lld bytes, the file "
                             "holds %lld", name, said, is);
    }
    return VKMM_OK;
}

vkmm_status vkmm_audio_load_memory(const void *data, size_t len, const char *name, const vkmm_audio_options *opt,
                                   vkmm_audio *out, vkmm_error *err)
{
    memset(out, 0, sizeof *out);
    vkmm_audio_options o = sane(opt);
    if (!name)
        name = "<memory>";
    if (!data || len == 0)
        return vkmm_fail(err, VKMM_ERR_FORMAT, "%s: empty file, not audio", name);
    if (len > o.max_file_bytes)
        return vkmm_fail(err, VKMM_ERR_UNSUPPORTED, "%s: file is %zu bytes, over the cap of %llu bytes", name, len,
                         (unsigned long long)o.max_file_bytes);
    const char *fmt = sniff(data, len);
    if (!fmt)
        return vkmm_fail(err, VKMM_ERR_UNSUPPORTED, "%s: not a WAV, FLAC, OGG (Vorbis/Opus), AIFF or MP3 file "
                         "(unknown format, %zu bytes)", name, len);
    memfile mf = {data, (sf_count_t)len, 0};
    SF_VIRTUAL_IO io = {mem_len, mem_seek, mem_read, mem_write, mem_tell};
    SF_INFO info;
    memset(&info, 0, sizeof info);
    SNDFILE *sf = sf_open_virtual(&io, SFM_READ, &info, &mf);
    if (!sf)
        return vkmm_fail(err, VKMM_ERR_FORMAT, "%s: cannot decode this %s file: %s", name, fmt, sf_strerror(NULL));
    vkmm_status st = check_shape(info.frames > 0 ? (uint64_t)info.frames : 0, info.channels, info.samplerate, name,
                                 &o, err);
    if (st) {
        sf_close(sf);
        return st;
    }
    out->format = fmt;
    out->encoding = encoding_name(info.format);
    out->src_rate = (uint32_t)info.samplerate;
    out->src_channels = (uint32_t)info.channels;
    /* decode in blocks, mixing to mono as it goes; the cap holds even where the header's length is wrong */
    uint64_t cap = (uint64_t)(o.max_seconds * info.samplerate) + 1, n = 0, room = 0;
    if (cap > MAX_SAMPLES)
        cap = MAX_SAMPLES;
    float *mono = NULL;
    enum { BLOCK = 4096 };
    float *block = malloc(sizeof *block * BLOCK * (size_t)info.channels);
    if (!block)
        st = vkmm_fail(err, VKMM_ERR_HOST_MEMORY, "%s: out of host memory", name);
    while (!st) {
        sf_count_t got = sf_readf_float(sf, block, BLOCK);
        if (got <= 0)
            break;
        if (n + (uint64_t)got > cap) {
            st = vkmm_fail(err, VKMM_ERR_UNSUPPORTED, "%s: more than %.0f s (or %llu samples) of audio, the cap",
                           name, o.max_seconds, MAX_SAMPLES);
            break;
        }
        if (n + (uint64_t)got > room) {
            uint64_t want = room ? room * 2 : (uint64_t)BLOCK * 16;
            while (want < n + (uint64_t)got)
                want *= 2;
            float *p = realloc(mono, sizeof *p * want);
            if (!p) {
                st = vkmm_fail(err, VKMM_ERR_HOST_MEMORY, "%s: out of host memory for %llu samples", name,
                               (unsigned long long)want);
                break;
            }
            mono = p;
            room = want;
        }
        for (sf_count_t f = 0; f < got; f++) {
            double sum = 0;
            for (int c = 0; c < info.channels; c++)
                sum += block[f * info.channels + c];
            mono[n + (uint64_t)f] = (float)(sum / info.channels);
        }
        n += (uint64_t)got;
    }
    free(block);
    int sferr = sf_error(sf);
    if (!st && sferr != SF_ERR_NO_ERROR)
        st = vkmm_fail(err, VKMM_ERR_FORMAT, "%s: %s data is corrupt: %s", name, fmt, sf_error_number(sferr));
    /* containers that state their length exactly must hold all of it; MP3's length is an estimate */
    bool exact = strcmp(fmt, "mp3") != 0;
    if (!st && exact && info.frames > 0 && n < (uint64_t)info.frames)
        st = vkmm_fail(err, VKMM_ERR_FORMAT, "%s: truncated: the header promises %lld frames, the file holds %llu",
                       name, (long long)info.frames, (unsigned long long)n);
    if (!st && !strcmp(fmt, "wav"))
        st = check_wav_data(sf, name, err);
    if (!st && n == 0)
        st = vkmm_fail(err, VKMM_ERR_FORMAT, "%s: no audio samples in this %s file", name, fmt);
    sf_close(sf);
    out->src_frames = n;
    if (st) {
        free(mono);
        return st;
    }
    return finish(mono, n, (uint32_t)info.samplerate, name, &o, out, err);
}

vkmm_status vkmm_audio_load(const char *path, const vkmm_audio_options *opt, vkmm_audio *out, vkmm_error *err)
{
    memset(out, 0, sizeof *out);
    vkmm_audio_options o = sane(opt);
    uint8_t *buf = NULL;
    size_t len = 0;
    vkmm_status st = vkmm_read_file_capped(path, o.max_file_bytes, "audio", &buf, &len, err);
    if (st)
        return st;
    st = vkmm_audio_load_memory(buf, len, path, &o, out, err);
    free(buf);
    return st;
}

vkmm_status vkmm_audio_from_pcm(const float *pcm, uint64_t n_frames, uint32_t channels, uint32_t rate,
                                const char *name, const vkmm_audio_options *opt, vkmm_audio *out, vkmm_error *err)
{
    memset(out, 0, sizeof *out);
    vkmm_audio_options o = sane(opt);
    if (!name)
        name = "<samples>";
    if (!pcm || !n_frames)
        return vkmm_fail(err, VKMM_ERR_INVALID_ARG, "%s: no samples", name);
    vkmm_status st = check_shape(n_frames, channels, rate, name, &o, err);
    if (st)
        return st;
    float *mono = malloc(sizeof *mono * n_frames);
    if (!mono)
        return vkmm_fail(err, VKMM_ERR_HOST_MEMORY, "%s: out of host memory for %llu samples", name,
                         (unsigned long long)n_frames);
    for (uint64_t f = 0; f < n_frames; f++) {
        double sum = 0;
        for (uint32_t c = 0; c < channels; c++)
            sum += pcm[f * channels + c];
        mono[f] = (float)(sum / channels);
    }
    out->format = "pcm";
    out->encoding = "float";
    out->src_rate = rate;
    out->src_channels = channels;
    out->src_frames = n_frames;
    return finish(mono, n_frames, rate, name, &o, out, err);
}

void vkmm_audio_free(vkmm_audio *a)
{
    if (a) {
        free(a->pcm);
        memset(a, 0, sizeof *a);
    }
}
