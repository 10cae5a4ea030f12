/* tests/engine/test_demo_model.c — the bundled demo model (models/demo/, a tiny Gemma 3 trained on synthetic
 * scenes) must answer held-out pictures exactly right with greedy decoding, under the validation layer, through
 * the public API only: if any kernel, the preprocessing, the prompt layout or the tokenizer goes wrong, the
 * answers go wrong. Arguments: MODEL.gguf MMPROJ.gguf then pairs CASES.tsv MIN_ACCURACY; each line of a cases
 * file is "image<TAB>form<TAB>question<TAB>answer" (image relative to the file's folder, # starts a comment). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "vkmm.h"

#define N_FORMS 4
static const char *const forms[N_FORMS] = {"describe", "count", "colour", "where"};

typedef struct reply {
    char text[1024];
    size_t len;
} reply;

static bool on_token(const vkmm_token_event *ev, void *user)
{
    reply *r = user;
    size_t n = strlen(ev->piece);
    if (r->len + n < sizeof r->text) {
        memcpy(r->text + r->len, ev->piece, n + 1);
        r->len += n;
    }
    return true;
}

static int form_index(const char *f)
{
    for (int i = 0; i < N_FORMS; i++)
        if (!strcmp(forms[i], f))
            return i;
    return -1;
}

/* Runs every case of one file; returns the fraction answered exactly right (-1 when the file is unusable). */
static double run_cases(vkmm_session *s, const char *tsv)
{
    FILE *f = fopen(tsv, "r");
    CHECK(f != NULL, "cannot open %s", tsv);
    if (!f)
        return -1;
    char dir[512];
    snprintf(dir, sizeof dir, "%s", tsv);
    char *slash = strrchr(dir, '/');
    if (slash)
        *slash = 0;
    else
        snprintf(dir, sizeof dir, ".");
    unsigned right[N_FORMS] = {0}, total[N_FORMS] = {0}, line_no = 0;
    char line[2048];
    vkmm_sampling greedy = vkmm_sampling_default();
    greedy.temperature = 0;
    while (fgets(line, sizeof line, f)) {
        line_no++;
        line[strcspn(line, "\r\n")] = 0;
        if (!line[0] || line[0] == '#')
            continue;
        char *field[4], *p = line;
        int n = 0;
        for (; n < 4 && p; n++) {
            field[n] = p;
            p = strchr(p, '\t');
            if (p)
                *p++ = 0;
        }
        int fi = n == 4 ? form_index(field[1]) : -1;
        CHECK(fi >= 0 && !p, "%s:%u: not image<TAB>form<TAB>question<TAB>answer", tsv, line_no);
        if (fi < 0 || p)
            continue;
        char image[1024];
        snprintf(image, sizeof image, "%s/%s", dir, field[0]);
        const char *images[1] = {image};
        vkmm_message msg = {.role = "user", .text = field[2], .images = images, .n_images = 1};
        reply r = {.len = 0};
        vkmm_error err;
        vkmm_session_reset(s);
        vkmm_status st = vkmm_session_add_message(s, &msg, &err);
        if (!st)
            st = vkmm_session_generate(s, &greedy, 48, on_token, &r, &err);
        CHECK(st == VKMM_OK, "%s: %s", image, err.msg);
        bool ok = st == VKMM_OK && !strcmp(r.text, field[3]);
        total[fi]++;
        right[fi] += ok;
        if (!ok)
            printf("  wrong: %s \"%s\" -> \"%s\" (expected \"%s\")\n", field[0], field[2], r.text, field[3]);
    }
    fclose(f);
    unsigned R = 0, T = 0;
    for (int i = 0; i < N_FORMS; i++) {
        if (total[i])
            printf("  %-8s %3u/%3u = %5.1f%%\n", forms[i], right[i], total[i], 100.0 * right[i] / total[i]);
        R += right[i];
        T += total[i];
    }
    CHECK(T > 0, "%s holds no cases", tsv);
    printf("  overall  %3u/%3u = %5.1f%%  (%s)\n", R, T, T ? 100.0 * R / T : 0.0, tsv);
    return T ? (double)R / T : -1;
}

int main(int argc, char **argv)
{
    if (argc < 5 || argc % 2 == 0) {
        fprintf(stderr, "usage: %s MODEL.gguf MMPROJ.gguf CASES.tsv MIN_ACCURACY [CASES.tsv MIN_ACCURACY]...\n", argv[0]);
        return 1;
    }
    test_stderr_capture cap;
    CHECK(test_stderr_capture_begin(&cap), "cannot redirect stderr");
    vkmm_model_params mp = {.model_path = argv[1], .mmproj_path = argv[2], .validation = 1};
    vkmm_session_params sp = {.n_ctx = 256};
    vkmm_model *m = NULL;
    vkmm_session *s = NULL;
    vkmm_error err;
    vkmm_status st = vkmm_model_load(&mp, &m, &err);
    if (!st)
        st = vkmm_session_create(m, &sp, &s, &err);
    CHECK(st == VKMM_OK, "loading the demo model: %s", err.msg);
    for (int i = 3; i + 1 < argc && !st; i += 2) {
        double min = atof(argv[i + 1]);
        double acc = run_cases(s, argv[i]);
        CHECK(acc >= min, "%s: %.1f%% exactly right, %.1f%% required", argv[i], 100 * acc, 100 * min);
    }
    vkmm_session_free(s);
    vkmm_model_free(m);
    unsigned msgs = test_stderr_capture_end(&cap);
    CHECK(msgs == 0, "the validation layer reported %u messages", msgs);
    return test_finish("demo model");
}
