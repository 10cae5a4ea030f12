/* tools/bench_json.c — `vkmm-dev bench-json FILE...`: parses JSON files (tokenizer.json, tekken.json) with vkmm's own
 * reader (loader/json.c) and with jansson, best of N runs each, to keep the choice between them measured.
 * A developer tool: it calls loader/json.h directly. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dev.h"
#include "json.h"

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

int vkmm_dev_bench_json(int argc, char **argv)
{
    int reps = 5, first = 1;
    if (argc >= 3 && !strcmp(argv[1], "-r")) {
        reps = atoi(argv[2]);
        first = 3;
    }
    if (first >= argc || reps < 1) {
        fprintf(stderr, "usage: vkmm-dev bench-json [-r RUNS] FILE.json...\n"
                        "  parses each file with loader/json.c and with jansson; prints the best time of each\n");
        return 2;
    }
    for (int a = first; a < argc; a++) {
        char *text;
        size_t len;
        vkmm_error err;
        if (vkmm_read_file(argv[a], (size_t)1 << 30, &text, &len, &err)) {
            fprintf(stderr, "vkmm-dev bench-json: %s\n", err.msg);
            return 1;
        }
        double best_own = 1e30, best_jansson = 1e30;
        for (int r = 0; r < reps; r++) {
            double t0 = now_ms();
            vkmm_json_doc *doc;
            if (vkmm_json_parse(text, len, argv[a], NULL, &doc, &err)) {
                fprintf(stderr, "vkmm-dev bench-json: %s\n", err.msg);
                free(text);
                return 1;
            }
            double t1 = now_ms();
            vkmm_json_free(doc);
            json_error_t je;
            double t2 = now_ms();
            json_t *j = json_loadb(text, len, 0, &je);
            double t3 = now_ms();
            if (!j) {
                fprintf(stderr, "vkmm-dev bench-json: jansson: %s:%d:%d: %s\n", argv[a], je.line, je.column, je.text);
                free(text);
                return 1;
            }
            json_decref(j);
            best_own = t1 - t0 < best_own ? t1 - t0 : best_own;
            best_jansson = t3 - t2 < best_jansson ? t3 - t2 : best_jansson;
        }
        printf("%s (%.1f MiB): loader/json.c %.1f ms, jansson %.1f ms (%.1fx), best of %d\n", argv[a],
               len / 1048576.0, best_own, best_jansson, best_jansson / best_own, reps);
        free(text);
    }
    return 0;
}
