/* runtime/engine/version.c — the library's version, as a string and as a number. */
#include "vkmm.h"
#include "vkmm_config.h"

VKMM_API const char *vkmm_version(void)
{
    return VKMM_VERSION;
}

_Static_assert(VKMM_VERSION_NUMBER == VKMM_BUILT_VERSION_NUMBER, "vkmm.h's VKMM_VERSION_* and meson.build's version differ");

VKMM_API uint32_t vkmm_version_number(void)
{
    return VKMM_VERSION_NUMBER;
}
