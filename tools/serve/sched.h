/* tools/serve/sched.h — jobs and the sessions that run them: --parallel sessions, each with a worker thread,
 * share one model (the engine interleaves their GPU steps token by token); requests wait in a bounded queue.
 * A job is what one request asks for plus what came of it, shared by its worker and its connection. */
#ifndef VKMM_TOOLS_SERVE_SCHED_H
#define VKMM_TOOLS_SERVE_SCHED_H

#include <pthread.h>

#include "metrics.h"
#include "request.h"

typedef struct serve_token {
    int32_t id;
    float logprob;
    uint32_t n_top;
    struct {
        int32_t id;
        float logprob;
    } top[VKMM_TOP_LOGPROBS];
    char *piece;                 /* text this step released (may be "") */
    bool eog;                    /* the model's end-of-turn token: not part of the answer */
} serve_token;

typedef enum serve_job_state { SERVE_JOB_QUEUED = 0, SERVE_JOB_RUNNING, SERVE_JOB_DONE } serve_job_state;

typedef enum serve_cancel {
    SERVE_CANCEL_NONE = 0,
    SERVE_CANCEL_CLIENT,         /* the client went away */
    SERVE_CANCEL_DEADLINE,       /* the request ran past --timeout */
    SERVE_CANCEL_SHUTDOWN,       /* SIGTERM's grace period ran out */
} serve_cancel;

typedef struct serve_job {
    pthread_mutex_t mu;
    pthread_cond_t cv;           /* broadcast on every change below */
    int refs;
    serve_request req;
    serve_job_state state;
    serve_cancel cancel;
    vkmm_session *session;       /* while running */
    bool started;                /* the prompt is in (n_prompt is known), or the job failed before */
    uint32_t n_prompt;
    serve_token *toks;
    uint32_t n_toks, cap_toks;
    vkmm_finish finish;
    uint32_t n_gen;              /* tokens generated (the end-of-turn token included) */
    int fail_status;             /* 0, or the HTTP status of the failure in err */
    const char *fail_code;       /* OpenAI's error code for it, or NULL */
    vkmm_error err;
    double t_submit, t_start, t_first, t_end;
    struct serve_job *next;      /* in the queue */
} serve_job;

/* A job that owns req's contents from now on (req is zeroed). One reference, the caller's. */
serve_job *serve_job_new(serve_request *req);
void serve_job_retain(serve_job *j);
void serve_job_release(serve_job *j);
/* Asks the job to stop (a running one stops at its next prefill chunk or token). Any thread. */
void serve_job_cancel(serve_job *j, serve_cancel why);

typedef struct serve_sched serve_sched;

/* Creates n sessions of n_ctx positions and their workers. */
vkmm_status serve_sched_create(vkmm_model *m, uint32_t n, uint32_t n_ctx, uint32_t queue_cap, serve_metrics *mx,
                               serve_sched **out, vkmm_error *err);
typedef enum serve_submit { SERVE_SUBMIT_OK = 0, SERVE_SUBMIT_FULL, SERVE_SUBMIT_CLOSED } serve_submit;
/* Queues a job (taking a reference of its own). */
serve_submit serve_sched_submit(serve_sched *s, serve_job *j);
/* Refuses new jobs from now on and fails the queued ones with 503 (their clients may retry elsewhere). */
void serve_sched_close(serve_sched *s);
/* Waits until no job runs or the monotonic deadline passes; true when idle. */
bool serve_sched_wait_idle(serve_sched *s, double deadline);
/* Cancels every running job. */
void serve_sched_cancel_all(serve_sched *s, serve_cancel why);
/* Joins the workers and frees the sessions (after close). */
void serve_sched_free(serve_sched *s);
/* Gauges for /metrics, and whether a session saw the device lost. */
void serve_sched_gauges(serve_sched *s, serve_gauges *g);
bool serve_sched_device_lost(serve_sched *s);

/* HTTP status for an engine error: the caller's input (400), a busy or broken device (503), a bug (500). */
int serve_status_for(vkmm_status st);

#endif
