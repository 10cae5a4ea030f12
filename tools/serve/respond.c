/* tools/serve/respond.c — queueing responses: JSON with Content-Type application/json (openai-node returns a
 * bare string otherwise), errors in the shape of the API the client speaks, the headers every response carries
 * (CORS, request id), and the ones that tell clients when to retry. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http.h"

void serve_common_headers(serve_conn *cc, struct MHD_Response *r)
{
    MHD_add_response_header(r, "Access-Control-Allow-Origin", "*");
    MHD_add_response_header(r, "Access-Control-Expose-Headers", "request-id, x-request-id, retry-after, retry-after-ms");
    MHD_add_response_header(r, "request-id", cc->request_id);
    MHD_add_response_header(r, "x-request-id", cc->request_id);
    if (serve_current_state(cc->srv) == SERVE_DRAINING)
        MHD_add_response_header(r, MHD_HTTP_HEADER_CONNECTION, "close"); /* reconnect, maybe to another replica */
}

void serve_retry_after(struct MHD_Response *r, unsigned seconds)
{
    char s[16], ms[24];
    snprintf(s, sizeof s, "%u", seconds);
    snprintf(ms, sizeof ms, "%u", seconds * 1000);
    MHD_add_response_header(r, MHD_HTTP_HEADER_RETRY_AFTER, s);
    MHD_add_response_header(r, "retry-after-ms", ms);
    MHD_add_response_header(r, "x-should-retry", "true");
}

enum MHD_Result serve_reply(serve_conn *cc, int status, struct MHD_Response *r)
{
    serve_common_headers(cc, r);
    enum MHD_Result res = MHD_queue_response(cc->c, (unsigned)status, r);
    MHD_destroy_response(r);
    if (res == MHD_YES) {
        cc->queued = true;
        cc->status = status;
    }
    return res;
}

enum MHD_Result serve_reply_json(serve_conn *cc, int status, json_t *body)
{
    char *text = body ? serve_json_dump(body) : NULL;
    json_decref(body);
    if (!text)
        return MHD_NO; /* out of memory: closing the connection is all that is left */
    size_t n = strlen(text);
    text[n] = '\n';
    struct MHD_Response *r = MHD_create_response_from_buffer_with_free_callback(n + 1, text, free);
    if (!r) {
        free(text);
        return MHD_NO;
    }
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
    if (status == 429 || status == 503)
        serve_retry_after(r, 1);
    if (status == 401)
        MHD_add_response_header(r, MHD_HTTP_HEADER_WWW_AUTHENTICATE, "Bearer");
    if (status == 405)
        MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, serve_route_methods(cc->route));
    if (status == 400 || status == 401 || status == 404 || status == 413)
        MHD_add_response_header(r, "x-should-retry", "false");
    return serve_reply(cc, status, r);
}

enum MHD_Result serve_reply_error(serve_conn *cc, int status, const char *msg, const char *param, const char *code)
{
    const serve_api *api = cc->api ? cc->api : &serve_api_openai;
    return serve_reply_json(cc, status, api->error(status, msg, param, code));
}
