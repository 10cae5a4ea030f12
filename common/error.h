/* common/error.h — errors are values: a status code plus a message naming the file and the problem.
 * The types themselves are public (vkmm_status.h, installed beside vkmm.h) so that every layer and every user
 * shares them. */
#ifndef VKMM_COMMON_ERROR_H
#define VKMM_COMMON_ERROR_H

#include <stdarg.h>

#include "vkmm_status.h"

/* Sets err (if non-NULL) and returns code, so callers can write `return vkmm_fail(err, ...)`. */
vkmm_status vkmm_fail(vkmm_error *err, vkmm_status code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
vkmm_status vkmm_vfail(vkmm_error *err, vkmm_status code, const char *fmt, va_list ap);
/* Prefixes the message of a failure with context ("loading x.gguf: ...") and returns code, the status of that
 * failure, whether or not there is an err to prefix (callers may pass NULL for err, never for the status). */
vkmm_status vkmm_error_prefix(vkmm_error *err, vkmm_status code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void vkmm_error_clear(vkmm_error *err);

#endif
