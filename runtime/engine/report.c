/* runtime/engine/report.c — reports written whole or not at all (report.h). */
#include <stdlib.h>
#include <stdbool.h>

#include "report.h"

vkmm_status vkmm_report_open(vkmm_report *r, vkmm_error *err)
{
    r->buf = NULL;
    r->len = 0;
    r->f = open_memstream(&r->buf, &r->len);
    return r->f ? VKMM_OK : vkmm_fail(err, VKMM_ERR_HOST_MEMORY, "out of host memory");
}

vkmm_status vkmm_report_close(vkmm_report *r, vkmm_status st, FILE *out, const char *name, vkmm_error *err)
{
    bool ok = fclose(r->f) == 0;
    if (!st && !ok)
        st = vkmm_fail(err, VKMM_ERR_HOST_MEMORY, "%s: out of host memory for the description", name);
    if (!st && (fwrite(r->buf, 1, r->len, out) != r->len || fflush(out) || ferror(out)))
        st = vkmm_fail(err, VKMM_ERR_IO, "%s: cannot write the description", name);
    free(r->buf);
    r->buf = NULL;
    r->f = NULL;
    return st;
}
