/* common/strutil.h — small string helpers several layers need. */
#ifndef VKMM_COMMON_STRUTIL_H
#define VKMM_COMMON_STRUTIL_H

#include <stdbool.h>

/* Does hay contain needle, ignoring ASCII case? An empty needle is contained everywhere. */
bool vkmm_contains_nocase(const char *hay, const char *needle);

#endif
