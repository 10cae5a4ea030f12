/* runtime/engine/version.c — the library's version string. */
#include "vkmm.h"
#include "vkmm_config.h"

VKMM_API const char *vkmm_version(void)
{
    return VKMM_VERSION;
}
