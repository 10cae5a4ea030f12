/* runtime/engine/profile.c — the per-op GPU profile of a session: dispatch times summed by label for
 * `vkmm run --profile`, and a Chrome/Perfetto trace (`--profile-json`) laid out from the same timings. */
#include <stdlib.h>
#include <string.h>

#include "session.h"

static void add_row(vkmm_session *s, const char *label, double ns)
{
    for (uint32_t i = 0; i < s->n_prof; i++)
        if (!strcmp(s->prof[i].label, label)) {
            s->prof[i].ns += ns;
            s->prof[i].count++;
            return;
        }
    if (s->n_prof == s->cap_prof) {
        uint32_t cap = s->cap_prof ? s->cap_prof * 2 : 256;
        vkmm_profile_row *v = realloc(s->prof, cap * sizeof *v);
        if (!v)
            return; /* profiling is best effort */
        s->prof = v;
        s->cap_prof = cap;
    }
    vkmm_profile_row *r = &s->prof[s->n_prof++];
    snprintf(r->label, sizeof r->label, "%s", label);
    r->ns = ns;
    r->count = 1;
}

static void add_event(vkmm_session *s, const char *label, double ns)
{
    if (s->n_trace == s->cap_trace) {
        uint32_t cap = s->cap_trace ? s->cap_trace * 2 : 1024;
        if (cap > (1u << 22))
            return; /* enough for any trace a person opens */
        vkmm_trace_event *v = realloc(s->trace, cap * sizeof *v);
        if (!v)
            return;
        s->trace = v;
        s->cap_trace = cap;
    }
    vkmm_trace_event *e = &s->trace[s->n_trace++];
    snprintf(e->label, sizeof e->label, "%s", label);
    e->start_us = s->trace_clock_us;
    e->dur_us = ns / 1e3;
    s->trace_clock_us += e->dur_us;
}

void vkmm_session_profile_add(vkmm_session *s, vkmm_cmd *cmd)
{
    if (!s->p.profile)
        return;
    const vkmm_profile_entry *e;
    uint32_t n = vkmm_cmd_profile(cmd, &e);
    for (uint32_t i = 0; i < n; i++) {
        add_event(s, e[i].label, e[i].ns);
        /* group "blk.12.ffn_up:matvec" with every other layer's: "blk.*.ffn_up:matvec" */
        char key[96];
        const char *l = e[i].label;
        if (!strncmp(l, "blk.", 4) || !strncmp(l, "v.blk.", 6)) {
            const char *dot = strchr(l + (l[0] == 'v' ? 6 : 4), '.');
            snprintf(key, sizeof key, "%s*%s", l[0] == 'v' ? "v.blk." : "blk.", dot ? dot : "");
        } else {
            snprintf(key, sizeof key, "%s", l);
        }
        add_row(s, key, e[i].ns);
    }
}

static int by_time(const void *a, const void *b)
{
    const vkmm_profile_row *x = a, *y = b;
    return x->ns < y->ns ? 1 : x->ns > y->ns ? -1 : 0;
}

VKMM_API vkmm_status vkmm_session_profile_print(const vkmm_session *s, FILE *f, uint32_t top_n)
{
    if (!s || !f)
        return VKMM_ERR_INVALID_ARG;
    if (!s->n_prof) {
        fprintf(f, "profile: no GPU timings (profiling off, or the device has no timestamps)\n");
        return VKMM_OK;
    }
    vkmm_profile_row *rows = malloc(s->n_prof * sizeof *rows);
    if (!rows)
        return VKMM_ERR_HOST_MEMORY;
    memcpy(rows, s->prof, s->n_prof * sizeof *rows);
    qsort(rows, s->n_prof, sizeof *rows, by_time);
    double total = 0;
    for (uint32_t i = 0; i < s->n_prof; i++)
        total += rows[i].ns;
    fprintf(f, "%-44s %10s %7s %8s %10s\n", "op (all layers)", "ms", "share", "calls", "us/call");
    for (uint32_t i = 0; i < s->n_prof && i < top_n; i++)
        fprintf(f, "%-44s %10.3f %6.1f%% %8u %10.1f\n", rows[i].label, rows[i].ns / 1e6, 100.0 * rows[i].ns / total,
                rows[i].count, rows[i].ns / 1e3 / rows[i].count);
    fprintf(f, "%-44s %10.3f\n", "total GPU time", total / 1e6);
    free(rows);
    return VKMM_OK;
}

VKMM_API vkmm_status vkmm_session_profile_trace(const vkmm_session *s, const char *path, vkmm_error *err)
{
    if (!s || !path)
        return vkmm_fail(err, VKMM_ERR_INVALID_ARG, "vkmm_session_profile_trace needs a session and a path");
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *f = fopen(tmp, "w");
    if (!f)
        return vkmm_fail(err, VKMM_ERR_IO, "cannot write %s", tmp);
    fprintf(f, "{\"traceEvents\": [\n");
    for (uint32_t i = 0; i < s->n_trace; i++) {
        fprintf(f, "%s{\"name\": \"", i ? ",\n" : "");
        for (const char *c = s->trace[i].label; *c; c++)
            if (*c == '"' || *c == '\\')
                fprintf(f, "\\%c", *c);
            else if ((unsigned char)*c >= 0x20)
                fputc(*c, f);
        fprintf(f, "\", \"ph\": \"X\", \"ts\": %.3f, \"dur\": %.3f, \"pid\": 1, \"tid\": 1}", s->trace[i].start_us,
                s->trace[i].dur_us);
    }
    fprintf(f, "\n], \"displayTimeUnit\": \"ms\"}\n");
    bool ok = fflush(f) == 0 && !ferror(f);
    ok = fclose(f) == 0 && ok;
    if (!ok || rename(tmp, path)) {
        remove(tmp);
        return vkmm_fail(err, VKMM_ERR_IO, "cannot write %s", path);
    }
    return VKMM_OK;
}
