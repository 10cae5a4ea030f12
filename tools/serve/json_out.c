/* tools/serve/json_out.c — what both APIs compute from a finished job: the answer's text, which stop string
 * ended it, the finish reason as clients see it, and strings made safe for JSON (jansson takes only UTF-8). */
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "api.h"

json_t *serve_json_text(const char *s, size_t len)
{
    json_t *v = json_stringn(s, len);
    if (v)
        return v;
    char *clean = vkmm_clean_text(s, len, len, false); /* bad bytes and NULs become U+FFFD */
    v = clean ? json_string(clean) : NULL;
    free(clean);
    return v ? v : json_string("");
}

char *serve_tokens_text(const serve_token *t, uint32_t n, size_t *len)
{
    size_t total = 0;
    for (uint32_t i = 0; i < n; i++)
        total += strlen(t[i].piece);
    char *s = malloc(total + 1), *p = s;
    if (!s)
        return NULL;
    for (uint32_t i = 0; i < n; i++) {
        size_t k = strlen(t[i].piece);
        memcpy(p, t[i].piece, k);
        p += k;
    }
    *p = 0;
    if (len)
        *len = total;
    return s;
}

char *serve_job_text(const serve_job *j)
{
    return serve_tokens_text(j->toks, j->n_toks, NULL);
}

vkmm_finish serve_job_finish(const serve_job *j)
{
    if (j->finish == VKMM_FINISH_CANCELLED && j->cancel == SERVE_CANCEL_DEADLINE)
        return VKMM_FINISH_LENGTH;
    return j->finish;
}

const char *serve_matched_stop(const serve_server *srv, const serve_job *j)
{
    if (serve_job_finish(j) != VKMM_FINISH_STOP || !j->req.n_stop)
        return NULL;
    /* The engine ends the answer before the first stop string in what the model wrote; the held-back text never
     * reached the job, so the generated tokens are decoded again to see which string it was. */
    int32_t *ids = malloc((j->n_toks + 1) * sizeof *ids);
    if (!ids)
        return NULL;
    uint32_t n = 0;
    for (uint32_t i = 0; i < j->n_toks; i++)
        if (j->toks[i].id >= 0 && !j->toks[i].eog)
            ids[n++] = j->toks[i].id;
    size_t len = 0;
    vkmm_error err;
    char *text = NULL;
    if (!vkmm_model_detokenize(srv->model, ids, n, NULL, 0, &len, &err) && (text = malloc(len + 1)) &&
        vkmm_model_detokenize(srv->model, ids, n, text, len + 1, &len, &err)) {
        free(text);
        text = NULL;
    }
    free(ids);
    const char *best = NULL;
    size_t best_at = SIZE_MAX;
    for (uint32_t k = 0; text && k < j->req.n_stop; k++) {
        const char *at = strstr(text, j->req.stop[k]);
        if (at && (size_t)(at - text) < best_at) {
            best_at = (size_t)(at - text);
            best = j->req.stop[k];
        }
    }
    free(text);
    return best ? best : j->req.stop[0];
}
