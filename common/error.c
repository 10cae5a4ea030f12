/* common/error.c — formatting and naming of vkmm_error values. */
#include "error.h"

#include <stdio.h>
#include <string.h>

vkmm_status vkmm_vfail(vkmm_error *err, vkmm_status code, const char *fmt, va_list ap)
{
    if (err) {
        err->code = code;
        vsnprintf(err->msg, sizeof err->msg, fmt, ap);
    }
    return code;
}

vkmm_status vkmm_fail(vkmm_error *err, vkmm_status code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vkmm_vfail(err, code, fmt, ap);
    va_end(ap);
    return code;
}

vkmm_status vkmm_error_prefix(vkmm_error *err, vkmm_status code, const char *fmt, ...)
{
    if (!err)
        return code; /* the caller passed no error to fill: the status alone tells what happened */
    err->code = code;
    char msg[sizeof err->msg];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (n < 0)
        n = 0;
    size_t len = (size_t)n < sizeof msg ? (size_t)n : sizeof msg - 1;
    /* "prefix: old message", truncated to fit */
    const char *sep = ": ";
    for (const char *p = sep; *p && len + 1 < sizeof msg; p++)
        msg[len++] = *p;
    for (const char *p = err->msg; *p && len + 1 < sizeof msg; p++)
        msg[len++] = *p;
    msg[len] = 0;
    memcpy(err->msg, msg, sizeof msg);
    return code;
}

void vkmm_error_clear(vkmm_error *err)
{
    if (err) {
        err->code = VKMM_OK;
        err->msg[0] = 0;
    }
}

VKMM_API const char *vkmm_status_name(vkmm_status code)
{
    switch (code) {
    case VKMM_OK: return "ok";
    case VKMM_ERR_INVALID_ARG: return "invalid argument";
    case VKMM_ERR_IO: return "i/o error";
    case VKMM_ERR_FORMAT: return "bad format";
    case VKMM_ERR_UNSUPPORTED: return "unsupported";
    case VKMM_ERR_NO_DEVICE: return "no device";
    case VKMM_ERR_OUT_OF_MEMORY: return "out of device memory";
    case VKMM_ERR_HOST_MEMORY: return "out of host memory";
    case VKMM_ERR_DEVICE_LOST: return "device lost";
    case VKMM_ERR_VULKAN: return "vulkan error";
    case VKMM_ERR_INTERNAL: return "internal error";
    case VKMM_ERR_NOT_FOUND: return "not found";
    }
    return "unknown error";
}
