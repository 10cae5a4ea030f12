/* common/log.c — the level is read from the environment on every call: no global mutable state. */
#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static enum vkmm_log_level current_level(void)
{
    const char *s = getenv("VKMM_LOG");
    if (!s || !*s)
        return VKMM_LOG_WARN;
    if (!strcmp(s, "error")) return VKMM_LOG_ERROR;
    if (!strcmp(s, "info")) return VKMM_LOG_INFO;
    if (!strcmp(s, "debug")) return VKMM_LOG_DEBUG;
    return VKMM_LOG_WARN;
}

int vkmm_log_enabled(enum vkmm_log_level level)
{
    return level <= current_level();
}

void vkmm_log(enum vkmm_log_level level, const char *fmt, ...)
{
    if (!vkmm_log_enabled(level))
        return;
    static const char *const names[] = {"error", "warning", "info", "debug"};
    char line[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    fprintf(stderr, "vkmm: %s: %s\n", names[level], line);
}
