/* tests/engine/test_batch.c — many conversations on one model: sequences generated on several threads at once
 * (batched decode steps over the shared KV pool) give the tokens and top-10 log-probabilities of their solo runs.
 * Synthetic Gemma 3 and Mistral 3 pairs; prompts of different lengths, longer than the sliding window; images
 * (two of different sizes for Mistral 3); sequences joining and leaving mid-run; one cancelled; one refused for
 * memory at once; one that waits for memory until others end. Public API only, under the validation layer. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "e2e_common.h"
#include "harness.h"
#include "synth.h"
#include "vkmm.h"

#define MAX_SEQ 8
#define MAX_GEN 40
#define LOGPROB_TOL 2e-3 /* nats: batched and solo decode differ only in the order of sums */

typedef struct request {
    const char *prompt;
    uint32_t image_w[2], image_h[2], n_images;
    uint32_t max_tokens;
    uint32_t start_after;  /* join once the first request has this many tokens (0: at once) */
    bool cancel;           /* cancelled from outside after a few tokens */
} request;

typedef struct run {
    int32_t ids[MAX_GEN];
    float lp[MAX_GEN][VKMM_TOP_LOGPROBS];
    int32_t top[MAX_GEN][VKMM_TOP_LOGPROBS];
    uint32_t n;
    vkmm_finish finish;
    vkmm_status st;
    char msg[1024];
} run;

typedef struct job {
    vkmm_model *m;
    const request *rq;
    run *out;
    atomic_int *lead_tokens; /* tokens of request 0 so far (others join on it) */
    bool lead;               /* this is request 0: count its tokens */
    vkmm_session *s;
    atomic_bool started;
} job;

static uint8_t *g_pictures[2];

static bool record(const vkmm_token_event *ev, void *user)
{
    job *j = user;
    run *r = j->out;
    if (ev->id < 0)
        return true;
    if (r->n < MAX_GEN) {
        r->ids[r->n] = ev->id;
        for (uint32_t k = 0; k < VKMM_TOP_LOGPROBS; k++) {
            r->top[r->n][k] = k < ev->n_top ? ev->top[k].id : -1;
            r->lp[r->n][k] = k < ev->n_top ? ev->top[k].logprob : 0;
        }
        r->n++;
    }
    if (j->lead)
        atomic_fetch_add(j->lead_tokens, 1);
    return true;
}

static void *generate(void *arg)
{
    job *j = arg;
    const request *rq = j->rq;
    run *r = j->out;
    vkmm_error err = {0};
    if (rq->start_after)
        while (atomic_load(j->lead_tokens) < (int)rq->start_after)
            usleep(500);
    vkmm_session_params sp = {.n_ctx = 256, .n_batch = 48};
    vkmm_status st = vkmm_session_create(j->m, &sp, &j->s, &err);
    vkmm_image_input in[2];
    for (uint32_t i = 0; i < rq->n_images; i++)
        in[i] = (vkmm_image_input){.pixels = g_pictures[i], .width = rq->image_w[i], .height = rq->image_h[i],
                                   .channels = 3};
    vkmm_message msg = {.role = "user", .text = rq->prompt, .image_inputs = rq->n_images ? in : NULL,
                        .n_image_inputs = rq->n_images};
    if (!st)
        st = vkmm_session_add_message(j->s, &msg, &err);
    vkmm_sampling greedy = vkmm_sampling_default();
    greedy.temperature = 0;
    greedy.ignore_eog = true; /* random weights: run to max_tokens */
    atomic_store(&j->started, true);
    if (!st)
        st = vkmm_session_generate(j->s, &greedy, rq->max_tokens, record, j, &err);
    r->st = st;
    snprintf(r->msg, sizeof r->msg, "%s", st ? err.msg : "");
    if (j->s)
        r->finish = vkmm_session_stats(j->s).last_finish;
    return NULL;
}

/* Solo runs one after another, then all at once on threads; every batched run against its solo run. */
static void batched_equals_solo(vkmm_model *m, const request *rq, uint32_t n, const char *what)
{
    run solo[MAX_SEQ] = {0}, both[MAX_SEQ] = {0};
    atomic_int lead = 0;
    for (uint32_t i = 0; i < n; i++) {
        job j = {.m = m, .rq = &rq[i], .out = &solo[i]};
        request r = rq[i];
        r.start_after = 0;
        j.rq = &r;
        generate(&j);
        vkmm_session_free(j.s);
        CHECK(solo[i].st == VKMM_OK && solo[i].n == rq[i].max_tokens, "%s: solo %u: %s (%u tokens)", what, i,
              solo[i].msg, solo[i].n);
    }
    vkmm_model_stats before = vkmm_model_get_stats(m);
    job jobs[MAX_SEQ];
    pthread_t th[MAX_SEQ];
    for (uint32_t i = 0; i < n; i++) {
        jobs[i] = (job){.m = m, .rq = &rq[i], .out = &both[i], .lead_tokens = &lead, .lead = i == 0};
        atomic_init(&jobs[i].started, false);
        pthread_create(&th[i], NULL, generate, &jobs[i]);
    }
    /* the cancelled one: once it has a few tokens */
    for (uint32_t i = 0; i < n; i++)
        if (rq[i].cancel) {
            while (!atomic_load(&jobs[i].started) || both[i].n < 3)
                usleep(500);
            vkmm_session_cancel(jobs[i].s);
        }
    for (uint32_t i = 0; i < n; i++)
        pthread_join(th[i], NULL);
    vkmm_model_stats after = vkmm_model_get_stats(m);
    uint64_t steps = after.decode_steps - before.decode_steps, tokens = after.decode_tokens - before.decode_tokens;
    printf("%s: %u sequences, %llu decode steps took %llu tokens (%.2f per step)\n", what, n,
           (unsigned long long)steps, (unsigned long long)tokens, steps ? (double)tokens / steps : 0.0);
    CHECK(steps && (double)tokens / steps > 1.5, "%s: the sequences were not batched (%.2f tokens per step)", what,
          steps ? (double)tokens / steps : 0.0);
    double worst = 0;
    for (uint32_t i = 0; i < n; i++) {
        run *b = &both[i], *s = &solo[i];
        CHECK(b->st == VKMM_OK, "%s: batched %u: %s", what, i, b->msg);
        if (rq[i].cancel) {
            CHECK(b->finish == VKMM_FINISH_CANCELLED && b->n >= 3 && b->n < rq[i].max_tokens,
                  "%s: the cancelled sequence finished %d after %u tokens", what, b->finish, b->n);
        } else {
            CHECK(b->n == s->n && b->finish == VKMM_FINISH_LENGTH, "%s: sequence %u gave %u tokens (solo %u)", what,
                  i, b->n, s->n);
        }
        for (uint32_t t = 0; t < b->n && t < s->n; t++) {
            CHECK(b->ids[t] == s->ids[t], "%s: sequence %u token %u: %d batched, %d solo", what, i, t, b->ids[t],
                  s->ids[t]);
            if (b->ids[t] != s->ids[t])
                break;
            for (uint32_t k = 0; k < VKMM_TOP_LOGPROBS; k++) {
                /* the same candidates in the same order, unless two are within the tolerance of each other */
                double d = b->lp[t][k] - s->lp[t][k];
                worst = d < 0 ? (-d > worst ? -d : worst) : (d > worst ? d : worst);
            }
        }
    }
    printf("%s: largest top-10 log-probability difference, batched vs solo: %.2g nats\n", what, worst);
    CHECK(worst < LOGPROB_TOL, "%s: top-10 log-probabilities differ by %.3g nats", what, worst);
    for (uint32_t i = 0; i < n; i++)
        vkmm_session_free(jobs[i].s);
}

/* A pool of 256 positions: a request for more is refused at once; two that fit only one after the other wait. */
static void memory_admission(const char *text)
{
    vkmm_error err;
    vkmm_model *m = NULL;
    vkmm_model_params mp = {.model_path = text, .validation = -1, .kv_tokens = 256, .max_batch = 4};
    CHECK_OK(vkmm_model_load(&mp, &m, &err), &err, );
    vkmm_session *a = NULL, *b = NULL;
    vkmm_session_params sp = {.n_ctx = 512, .n_batch = 32};
    CHECK_OK(vkmm_session_create(m, &sp, &a, &err), &err, );
    CHECK_OK(vkmm_session_create(m, &sp, &b, &err), &err, );
    vkmm_sampling greedy = vkmm_sampling_default();
    greedy.temperature = 0;
    greedy.ignore_eog = true;
    /* needs 20 + 300 positions: more than the pool has, refused at once with the sizes */
    CHECK_OK(vkmm_session_add_text(a, "one two three four five six seven eight nine ten", false, &err), &err, );
    vkmm_status st = vkmm_session_begin(a, &greedy, 300, &err);
    CHECK(st == VKMM_ERR_OUT_OF_MEMORY && strstr(err.msg, "256") && strstr(err.msg, "never fit"),
          "an oversized request: %d %s", st, err.msg);
    /* a holds 150 positions of cache; b asks for 150 more: a's idle cache is evicted, b runs, a rebuilds */
    gen ga = {0}, gb = {0}, ga2 = {0};
    CHECK_OK(vkmm_session_generate(a, &greedy, 140, collect, &ga, &err), &err, );
    CHECK_OK(vkmm_session_add_text(b, "ten nine eight seven six five four three two one", false, &err), &err, );
    CHECK_OK(vkmm_session_generate(b, &greedy, 140, collect, &gb, &err), &err, );
    vkmm_model_stats st1 = vkmm_model_get_stats(m);
    CHECK(st1.kv_pages == 16 && st1.kv_pages_used <= 16, "pool of %u pages, %u used", st1.kv_pages, st1.kv_pages_used);
    CHECK_OK(vkmm_session_generate(a, &greedy, 5, collect, &ga2, &err), &err, ); /* a goes on after eviction */
    CHECK(ga.n == 64 && gb.n == 64 && ga2.n == 5, "tokens %u %u %u", ga.n, gb.n, ga2.n);
    vkmm_session_free(a);
    vkmm_session_free(b);
    vkmm_model_free(m);
}

/* The same conversation continued after eviction equals one never evicted. */
static void eviction_is_invisible(const char *text)
{
    vkmm_error err;
    vkmm_model *m = NULL;
    vkmm_model_params mp = {.model_path = text, .validation = -1, .kv_tokens = 128};
    CHECK_OK(vkmm_model_load(&mp, &m, &err), &err, );
    vkmm_session_params sp = {.n_ctx = 128, .n_batch = 32};
    vkmm_sampling greedy = vkmm_sampling_default();
    greedy.temperature = 0;
    greedy.ignore_eog = true;
    vkmm_session *a = NULL, *b = NULL, *c = NULL;
    CHECK_OK(vkmm_session_create(m, &sp, &a, &err), &err, );
    CHECK_OK(vkmm_session_create(m, &sp, &b, &err), &err, );
    CHECK_OK(vkmm_session_create(m, &sp, &c, &err), &err, );
    gen g1 = {0}, g2 = {0}, want = {0};
    /* c: 10 then 10 more tokens with nothing in between; a: the same with b's 100-position turn in between */
    CHECK_OK(vkmm_session_add_text(c, "a b c d e f g", false, &err), &err, );
    CHECK_OK(vkmm_session_generate(c, &greedy, 10, collect, &want, &err), &err, );
    CHECK_OK(vkmm_session_generate(c, &greedy, 10, collect, &want, &err), &err, );
    vkmm_session_free(c);
    CHECK_OK(vkmm_session_add_text(a, "a b c d e f g", false, &err), &err, );
    CHECK_OK(vkmm_session_generate(a, &greedy, 10, collect, &g1, &err), &err, );
    CHECK_OK(vkmm_session_add_text(b, "z y x w v u t s r q p o n m l k", false, &err), &err, );
    gen gb = {0};
    CHECK_OK(vkmm_session_generate(b, &greedy, 100, collect, &gb, &err), &err, );
    CHECK_OK(vkmm_session_generate(a, &greedy, 10, collect, &g1, &err), &err, );
    CHECK(g1.n == want.n && !memcmp(g1.ids, want.ids, sizeof g1.ids[0] * g1.n), "a conversation evicted and "
          "rebuilt went on differently");
    (void)g2;
    vkmm_session_free(a);
    vkmm_session_free(b);
    vkmm_model_free(m);
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: test_batch GEMMA3_TOKENIZER.json TEKKEN.json\n");
        return 2;
    }
    test_stderr_capture cap;
    CHECK(test_stderr_capture_begin(&cap), "cannot redirect stderr");
    char dir[] = "/tmp/vkmm-batch-XXXXXX", text[256], vis[256];
    if (!mkdtemp(dir))
        return 1;
    g_pictures[0] = picture(150, 100);
    g_pictures[1] = picture(60, 130);
    vkmm_error err;
    /* Gemma 3: window 32 with prompts past it, one image per picture request (bidirectional rows) */
    snprintf(text, sizeof text, "%s/g.gguf", dir);
    snprintf(vis, sizeof vis, "%s/g-mmproj.gguf", dir);
    vkmm_synth_opts go = {.arch = "gemma3", .size = "tiny", .type = VKMM_Q8_0, .vision_type = VKMM_F16,
                          .tokenizer = argv[1], .seed = 11, .out = text, .mmproj_out = vis, .window = 32};
    CHECK_OK(vkmm_synth(&go, &err), &err, 1);
    vkmm_model *m = NULL;
    vkmm_model_params mp = {.model_path = text, .mmproj_path = vis, .validation = -1, .max_batch = 8};
    CHECK_OK(vkmm_model_load(&mp, &m, &err), &err, 1);
    const char *longp = "The quick brown fox jumps over the lazy dog, then runs into the forest where the trees "
                        "grow tall and the river winds slowly past old stones and quiet meadows full of flowers.";
    request g3[] = {
        {.prompt = longp, .max_tokens = 24},
        {.prompt = "Hi", .max_tokens = 12},
        {.prompt = "Describe the picture.", .image_w = {150}, .image_h = {100}, .n_images = 1, .max_tokens = 16},
        {.prompt = "Count to five, please.", .max_tokens = 20, .start_after = 6},
        {.prompt = "What is in <__media__> here?", .image_w = {60}, .image_h = {130}, .n_images = 1,
         .max_tokens = 10, .start_after = 3},
        {.prompt = "A long story about nothing at all.", .max_tokens = 30, .cancel = true},
    };
    batched_equals_solo(m, g3, sizeof g3 / sizeof *g3, "gemma3");
    vkmm_model_free(m);
    memory_admission(text);
    eviction_is_invisible(text);

    /* Mistral 3: two images of different sizes in one prompt */
    snprintf(text, sizeof text, "%s/m.gguf", dir);
    snprintf(vis, sizeof vis, "%s/m-mmproj.gguf", dir);
    vkmm_synth_opts mo = {.arch = "mistral3", .size = "tiny", .type = VKMM_Q4_K, .vision_type = VKMM_F16,
                          .tokenizer = argv[2], .seed = 12, .out = text, .mmproj_out = vis};
    CHECK_OK(vkmm_synth(&mo, &err), &err, 1);
    vkmm_model_params mm = {.model_path = text, .mmproj_path = vis, .validation = -1, .max_batch = 8};
    CHECK_OK(vkmm_model_load(&mm, &m, &err), &err, 1);
    request m3[] = {
        {.prompt = "Compare <__media__> with <__media__>.", .image_w = {150, 60}, .image_h = {100, 130},
         .n_images = 2, .max_tokens = 14},
        {.prompt = longp, .max_tokens = 20},
        {.prompt = "Hello there", .max_tokens = 8, .start_after = 4},
        {.prompt = "One more question about <__media__>", .image_w = {60}, .image_h = {130}, .n_images = 1,
         .max_tokens = 12},
    };
    batched_equals_solo(m, m3, sizeof m3 / sizeof *m3, "mistral3");
    vkmm_model_free(m);
    free(g_pictures[0]);
    free(g_pictures[1]);
    test_remove_dir(dir);
    unsigned msgs = test_stderr_capture_end(&cap);
    CHECK(msgs == 0, "%u validation messages", msgs);
    return test_finish("engine-batch");
}
