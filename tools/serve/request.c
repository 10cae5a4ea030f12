/* tools/serve/request.c — building a serve_request from parsed JSON: typed field reads that name the field and
 * the expected type when refusing, inline images (base64, data: URIs, local files where allowed) checked by
 * their headers against the server's limits, and the checks a whole conversation must pass before it queues. */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "base64.h"
#include "request.h"

int serve_refuse(serve_reject *r, int status, const char *param, const char *fmt, ...)
{
    r->status = status;
    snprintf(r->param, sizeof r->param, "%s", param ? param : "");
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->msg, sizeof r->msg, fmt, ap);
    va_end(ap);
    return status;
}

int serve_check_fields(json_t *obj, const char *const *known, const char *api, const char *where, serve_reject *why)
{
    const char *key;
    json_t *v;
    json_object_foreach(obj, key, v) {
        bool ok = false;
        for (const char *const *k = known; *k && !ok; k++)
            ok = !strcmp(key, *k);
        if (!ok)
            return serve_refuse(why, 400, key, "unknown field '%.60s'%s%s (this server follows the %s)", key,
                                where ? " in " : "", where ? where : "", api);
    }
    return 0;
}

const char *serve_json_kind(const json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_OBJECT: return "an object";
    case JSON_ARRAY: return "an array";
    case JSON_STRING: return "a string";
    case JSON_INTEGER: return "an integer";
    case JSON_REAL: return "a number";
    case JSON_TRUE:
    case JSON_FALSE: return "a boolean";
    case JSON_NULL: return "null";
    }
    return "a value";
}

void serve_request_init(serve_request *q, const serve_server *srv)
{
    memset(q, 0, sizeof *q);
    q->sampling = srv->defaults;
    q->max_tokens = srv->default_max_tokens;
    snprintf(q->model, sizeof q->model, "%s", srv->model_id);
}

void serve_request_free(serve_request *q)
{
    for (uint32_t i = 0; i < q->n_msgs; i++) {
        serve_msg *m = &q->msgs[i];
        free(m->text);
        for (uint32_t k = 0; k < m->n_images; k++) {
            free((void *)m->images[k].data);
            free((void *)m->images[k].name);
        }
        free(m->images);
    }
    free(q->msgs);
    for (uint32_t i = 0; i < q->n_stop; i++)
        free(q->stop[i]);
    memset(q, 0, sizeof *q);
}

serve_msg *serve_request_add_msg(serve_request *q, const char *role)
{
    if (q->n_msgs == q->cap_msgs) {
        uint32_t cap = q->cap_msgs ? q->cap_msgs * 2 : 8;
        serve_msg *v = realloc(q->msgs, cap * sizeof *v);
        if (!v)
            return NULL;
        q->msgs = v;
        q->cap_msgs = cap;
    }
    serve_msg *m = &q->msgs[q->n_msgs++];
    memset(m, 0, sizeof *m);
    m->role = role;
    return m;
}

int serve_msg_append_text(serve_msg *m, const char *text, size_t len, const char *param, serve_reject *why)
{
    if (memchr(text, 0, len))
        return serve_refuse(why, 400, param, "%s: the text holds a NUL character (\\u0000)", param);
    size_t have = m->text ? strlen(m->text) : 0, sep = have ? 1 : 0;
    char *t = realloc(m->text, have + sep + len + 1);
    if (!t)
        return serve_refuse(why, 413, param, "%s: out of memory for %zu bytes of text", param, len);
    if (sep)
        t[have] = '\n';
    memcpy(t + have + sep, text, len);
    t[have + sep + len] = 0;
    m->text = t;
    return 0;
}

const char *serve_part_type(json_t *part, const char *param, const char *types, serve_reject *why)
{
    json_t *type = json_is_object(part) ? json_object_get(part, "type") : NULL;
    if (!json_is_object(part))
        serve_refuse(why, 400, param, "%s must be an object ({\"type\": \"text\", ...}), not %s", param,
                     serve_json_kind(part));
    else if (!json_is_string(type))
        serve_refuse(why, 400, param, "%s.type must be a string (%s)", param, types);
    return json_string_value(type);
}

int serve_msg_add_text_part(serve_msg *m, json_t *part, const char *param, serve_reject *why)
{
    char p2[192];
    snprintf(p2, sizeof p2, "%s.text", param);
    json_t *text = json_object_get(part, "text");
    if (!json_is_string(text))
        return serve_refuse(why, 400, p2, "%s must be a string, not %s", p2, text ? serve_json_kind(text) : "missing");
    return serve_msg_append_text(m, json_string_value(text), json_string_length(text), p2, why);
}

/* Takes ownership of bytes: checks the picture by its headers, then appends it. */
static int add_image_bytes(const serve_server *srv, serve_request *q, serve_msg *m, uint8_t *bytes, size_t size,
                           const char *param, serve_reject *why)
{
    vkmm_image_header h = {0};
    vkmm_error err;
    vkmm_status st = vkmm_image_probe(bytes, size, param, &h, &err);
    uint64_t pixels = (uint64_t)h.width * h.height;
    /* a size over the limit is the clearer message, even when the rest of the file is broken too */
    if (pixels > srv->cfg.max_image_pixels) {
        free(bytes);
        return serve_refuse(why, 400, param, "%s: the image is %u x %u = %llu pixels, over this server's limit of %llu "
                            "pixels per image (--max-image-pixels)", param, h.width, h.height,
                            (unsigned long long)pixels, (unsigned long long)srv->cfg.max_image_pixels);
    }
    if (st) {
        free(bytes);
        return serve_refuse(why, 400, param, "%s", err.msg);
    }
    vkmm_image_input *v = realloc(m->images, (m->n_images + 1) * sizeof *v);
    char *name = strdup(param);
    if (!v || !name) {
        free(bytes);
        free(name);
        if (v)
            m->images = v;
        return serve_refuse(why, 413, param, "%s: out of memory", param);
    }
    m->images = v;
    m->images[m->n_images++] = (vkmm_image_input){.data = bytes, .size = size, .name = name};
    q->n_images++;
    return 0;
}

/* Refuses before any decoding when the model cannot see or the request already holds the most images allowed. */
static int image_allowed(const serve_server *srv, const serve_request *q, const serve_msg *m, const char *param,
                         serve_reject *why)
{
    if (strcmp(m->role, "user"))
        return serve_refuse(why, 400, param, "%s: images can only be in user messages", param);
    if (!vkmm_model_get_info(srv->model).has_vision)
        return serve_refuse(why, 400, param, "%s: this model takes no images (it was loaded without a vision "
                            "projector, --mmproj)", param);
    if (q->n_images >= srv->cfg.max_images)
        return serve_refuse(why, 400, param, "%s: more than %u images in one request (this server's limit, "
                            "--max-images)", param, srv->cfg.max_images);
    return 0;
}

int serve_msg_add_base64_image(const serve_server *srv, serve_request *q, serve_msg *m, const char *b64, size_t len,
                               const char *param, serve_reject *why)
{
    int st = image_allowed(srv, q, m, param, why);
    if (st)
        return st;
    uint8_t *bytes;
    size_t size;
    char msg[160];
    if (serve_base64_decode(b64, len, &bytes, &size, msg, sizeof msg))
        return serve_refuse(why, 400, param, "%s: the image data is %s", param, msg);
    return add_image_bytes(srv, q, m, bytes, size, param, why);
}

int serve_msg_add_file_image(const serve_server *srv, serve_request *q, serve_msg *m, const char *path,
                             const char *param, serve_reject *why)
{
    int st = image_allowed(srv, q, m, param, why);
    if (st)
        return st;
    if (!srv->cfg.allow_local_files)
        return serve_refuse(why, 400, param, "%s: images from local files need the server started with "
                            "--allow-local-files; send the image inline (data:image/png;base64,...)", param);
    FILE *f = fopen(path, "rb");
    struct stat sb;
    if (!f || fstat(fileno(f), &sb) || !S_ISREG(sb.st_mode)) {
        int e = f ? EISDIR : errno;
        if (f)
            fclose(f);
        return serve_refuse(why, 400, param, "%s: cannot read the image file '%s': %s", param, path, strerror(e));
    }
    uint64_t cap = srv->cfg.max_body;
    if ((uint64_t)sb.st_size > cap) {
        fclose(f);
        return serve_refuse(why, 400, param, "%s: the image file '%s' is %llu bytes, over %llu (--max-body)", param,
                            path, (unsigned long long)sb.st_size, (unsigned long long)cap);
    }
    size_t size = (size_t)sb.st_size;
    uint8_t *bytes = malloc(size ? size : 1);
    size_t got = bytes ? fread(bytes, 1, size, f) : 0;
    fclose(f);
    if (!bytes || got != size) {
        free(bytes);
        return serve_refuse(why, 400, param, "%s: cannot read the image file '%s'", param, path);
    }
    return add_image_bytes(srv, q, m, bytes, size, param, why);
}

static bool has_prefix(const char *s, size_t len, const char *p)
{
    size_t n = strlen(p);
    return len >= n && !strncasecmp(s, p, n);
}

int serve_msg_add_image_url(const serve_server *srv, serve_request *q, serve_msg *m, const char *url, size_t len,
                            const char *param, serve_reject *why)
{
    if (has_prefix(url, len, "data:")) {
        const char *comma = memchr(url, ',', len);
        if (!comma)
            return serve_refuse(why, 400, param, "%s: a data: URI without ',' before its data", param);
        size_t head = (size_t)(comma - url);
        bool b64 = head >= 7 && !strncasecmp(comma - 7, ";base64", 7);
        if (!b64)
            return serve_refuse(why, 400, param, "%s: the data: URI is not base64 (data:image/png;base64,...)", param);
        return serve_msg_add_base64_image(srv, q, m, comma + 1, len - head - 1, param, why);
    }
    if (has_prefix(url, len, "http://") || has_prefix(url, len, "https://"))
        return serve_refuse(why, 400, param, "%s: this server fetches nothing from the network; send the image "
                            "inline as a data: URI (data:image/png;base64,...)", param);
    const char *path = has_prefix(url, len, "file://") ? url + 7 : url;
    if (!srv->cfg.allow_local_files || !*path)
        return serve_refuse(why, 400, param, "%s: not a data: URI (data:image/png;base64,...)%s", param,
                            srv->cfg.allow_local_files ? "" : "; file paths need --allow-local-files");
    return serve_msg_add_file_image(srv, q, m, path, param, why);
}

int serve_get_number(json_t *obj, const char *key, double lo, double hi, double *out, serve_reject *why)
{
    json_t *v = json_object_get(obj, key);
    if (!v || json_is_null(v))
        return 0;
    if (!json_is_number(v))
        return serve_refuse(why, 400, key, "%s must be a number, not %s", key, serve_json_kind(v));
    double d = json_number_value(v);
    if (!isfinite(d) || d < lo || d > hi)
        return serve_refuse(why, 400, key, "%s is %g; it must be from %g to %g", key, d, lo, hi);
    *out = d;
    return 0;
}

int serve_get_int(json_t *obj, const char *key, int64_t lo, int64_t hi, int64_t *out, serve_reject *why)
{
    json_t *v = json_object_get(obj, key);
    if (!v || json_is_null(v))
        return 0;
    int64_t i;
    if (json_is_integer(v)) {
        i = json_integer_value(v);
    } else if (json_is_real(v) && json_real_value(v) == floor(json_real_value(v)) &&
               fabs(json_real_value(v)) < 9e18) {
        i = (int64_t)json_real_value(v); /* 1e3 and 5.0 are whole numbers too */
    } else if (json_is_real(v)) {
        return serve_refuse(why, 400, key, "%s must be a whole number, not %g", key, json_real_value(v));
    } else {
        return serve_refuse(why, 400, key, "%s must be an integer, not %s", key, serve_json_kind(v));
    }
    if (i < lo || i > hi)
        return serve_refuse(why, 400, key, "%s is %lld; it must be from %lld to %lld", key, (long long)i,
                            (long long)lo, (long long)hi);
    *out = i;
    return 0;
}

int serve_get_bool(json_t *obj, const char *key, bool *out, serve_reject *why)
{
    json_t *v = json_object_get(obj, key);
    if (!v || json_is_null(v))
        return 0;
    if (!json_is_boolean(v))
        return serve_refuse(why, 400, key, "%s must be true or false, not %s", key, serve_json_kind(v));
    *out = json_is_true(v);
    return 0;
}

int serve_get_string(json_t *obj, const char *key, const char **out, serve_reject *why)
{
    json_t *v = json_object_get(obj, key);
    if (!v || json_is_null(v))
        return 0;
    if (!json_is_string(v))
        return serve_refuse(why, 400, key, "%s must be a string, not %s", key, serve_json_kind(v));
    if (strlen(json_string_value(v)) != json_string_length(v))
        return serve_refuse(why, 400, key, "%s holds a NUL character (\\u0000)", key);
    *out = json_string_value(v);
    return 0;
}

static int add_stop(serve_request *q, json_t *s, const char *param, serve_reject *why)
{
    if (!json_is_string(s))
        return serve_refuse(why, 400, param, "%s must be a string, not %s", param, serve_json_kind(s));
    size_t n = json_string_length(s);
    if (n == 0)
        return 0; /* an empty stop string could never end anything */
    if (n > 255 || strlen(json_string_value(s)) != n)
        return serve_refuse(why, 400, param, "%s is %s (stop strings are 1 to 255 bytes)", param,
                            n > 255 ? "too long" : "holding a NUL character");
    if (q->n_stop == VKMM_MAX_STOP)
        return serve_refuse(why, 400, param, "more than %d stop strings", VKMM_MAX_STOP);
    if (!(q->stop[q->n_stop] = strdup(json_string_value(s))))
        return serve_refuse(why, 413, param, "out of memory");
    q->n_stop++;
    return 0;
}

int serve_get_stops(json_t *obj, const char *key, serve_request *q, serve_reject *why)
{
    json_t *v = json_object_get(obj, key);
    if (!v || json_is_null(v))
        return 0;
    char param[64];
    if (json_is_string(v))
        return add_stop(q, v, key, why);
    if (!json_is_array(v))
        return serve_refuse(why, 400, key, "%s must be a string or an array of strings, not %s", key,
                            serve_json_kind(v));
    size_t i;
    json_t *s;
    json_array_foreach(v, i, s) {
        snprintf(param, sizeof param, "%s[%zu]", key, i);
        int st = add_stop(q, s, param, why);
        if (st)
            return st;
    }
    return 0;
}

int serve_get_model(json_t *obj, serve_request *q, const serve_server *srv, serve_reject *why)
{
    const char *name = NULL;
    int st = serve_get_string(obj, "model", &name, why);
    if (!st && name && *name) {
        size_t n = strlen(name);
        if (n >= sizeof q->model) { /* echoed back cut, but never in the middle of a character */
            n = sizeof q->model - 1;
            while (n && ((unsigned char)name[n] & 0xC0) == 0x80)
                n--;
        }
        memcpy(q->model, name, n);
        q->model[n] = 0;
    }
    (void)srv;
    return st;
}

int serve_parse_head(const serve_server *srv, json_t *body, const char *const *fields, const char *api,
                     serve_request *q, serve_reject *why)
{
    if (!json_is_object(body))
        return serve_refuse(why, 400, NULL, "the body must be a JSON object, not %s", serve_json_kind(body));
    int st = serve_check_fields(body, fields, api, NULL, why);
    return st ? st : serve_get_model(body, q, srv, why);
}

int serve_get_max_tokens(json_t *obj, const char *key, serve_request *q, serve_reject *why)
{
    json_t *v = json_object_get(obj, key);
    if (!v || json_is_null(v))
        return 0;
    int64_t n = 0;
    int st = serve_get_int(obj, key, INT64_MIN, INT64_MAX, &n, why);
    if (st)
        return st;
    if (n < 1 || n > VKMM_SERVE_MAX_TOKENS)
        return serve_refuse(why, 400, key, "%s is %lld; it must be from 1 to %u (answers end sooner when the context "
                            "is full)", key, (long long)n, VKMM_SERVE_MAX_TOKENS);
    q->max_tokens = (uint32_t)n;
    return 0;
}

int serve_request_finish(const serve_server *srv, serve_request *q, serve_reject *why)
{
    if (q->n_msgs == 0)
        return serve_refuse(why, 400, "messages", "messages is empty: at least one user message is needed");
    if (strcmp(q->msgs[q->n_msgs - 1].role, "user"))
        return serve_refuse(why, 400, "messages", "the last message is from the %s: the conversation must end with a "
                            "user message (continuing an assistant message is not supported)",
                            q->msgs[q->n_msgs - 1].role);
    bool has_system = false;
    for (uint32_t i = 0; i < q->n_msgs; i++)
        has_system |= !strcmp(q->msgs[i].role, "system");
    if (srv->system && !has_system) {
        /* as `vkmm run` does: the manifest's system prompt first when the caller gave none */
        if (!serve_request_add_msg(q, "system"))
            return serve_refuse(why, 413, "messages", "out of memory");
        serve_msg sys = q->msgs[q->n_msgs - 1];
        memmove(q->msgs + 1, q->msgs, (q->n_msgs - 1) * sizeof *q->msgs);
        q->msgs[0] = sys;
        if (!(q->msgs[0].text = strdup(srv->system)))
            return serve_refuse(why, 413, "messages", "out of memory");
    }
    /* text alone longer than the context can never run: refuse it here rather than after a wait in the queue
     * (each turn counts one token at least: every template marks where a turn starts). Text too long to fit even
     * as the longest tokens is refused without tokenizing it (megabytes of text take seconds). */
    uint64_t bytes = 0;
    for (uint32_t i = 0; i < q->n_msgs; i++)
        bytes += q->msgs[i].text ? strlen(q->msgs[i].text) : 0;
    if (bytes > (uint64_t)srv->n_ctx * srv->max_token_bytes) {
        why->code = "context_length_exceeded";
        return serve_refuse(why, 400, "messages", "the messages hold %llu bytes of text, more than this server's "
                            "context of %u tokens can take (--ctx-size)", (unsigned long long)bytes, srv->n_ctx);
    }
    uint64_t tokens = 0;
    for (uint32_t i = 0; i < q->n_msgs; i++) {
        tokens += strcmp(q->msgs[i].role, "system") != 0;
        uint32_t n = 0;
        vkmm_error err;
        if (q->msgs[i].text && vkmm_model_tokenize(srv->model, q->msgs[i].text, false, false, NULL, 0, &n, &err))
            return serve_refuse(why, 400, "messages", "messages[%u]: %s", i, err.msg);
        tokens += n;
    }
    if (tokens > srv->n_ctx) {
        why->code = "context_length_exceeded";
        return serve_refuse(why, 400, "messages", "the messages hold %llu tokens of text, more than this server's "
                            "context of %u tokens (--ctx-size)", (unsigned long long)tokens, srv->n_ctx);
    }
    q->sampling.stop = (const char *const *)q->stop;
    q->sampling.n_stop = q->n_stop;
    return 0;
}
