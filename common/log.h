/* common/log.h — diagnostics to stderr, filtered by VKMM_LOG=error|warn|info|debug (default warn). */
#ifndef VKMM_COMMON_LOG_H
#define VKMM_COMMON_LOG_H

enum vkmm_log_level { VKMM_LOG_ERROR = 0, VKMM_LOG_WARN, VKMM_LOG_INFO, VKMM_LOG_DEBUG };

void vkmm_log(enum vkmm_log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int vkmm_log_enabled(enum vkmm_log_level level);

#define vkmm_warn(...) vkmm_log(VKMM_LOG_WARN, __VA_ARGS__)
#define vkmm_info(...) vkmm_log(VKMM_LOG_INFO, __VA_ARGS__)
#define vkmm_debug(...) vkmm_log(VKMM_LOG_DEBUG, __VA_ARGS__)

#endif
