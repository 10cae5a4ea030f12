/* runtime/engine/report.h — what vkmm writes about an input (vkmm_describe_*) goes to memory first and reaches the
 * caller's FILE only whole: bad input leaves nothing half-written. */
#ifndef VKMM_ENGINE_REPORT_H
#define VKMM_ENGINE_REPORT_H

#include <stdio.h>

#include "error.h"

typedef struct vkmm_report {
    FILE *f;                 /* write the report here */
    char *buf;
    size_t len;
} vkmm_report;

vkmm_status vkmm_report_open(vkmm_report *r, vkmm_error *err);
/* Copies the report to out (unless st is a failure: then it is dropped) and frees it; returns st, or an I/O
 * error naming `name` if out cannot take it. */
vkmm_status vkmm_report_close(vkmm_report *r, vkmm_status st, FILE *out, const char *name, vkmm_error *err);

#endif
