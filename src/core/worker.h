/**
 * @file worker.h  A small pool of worker threads for work that takes long
 *                 (a sentence of TTS, a database write).
 *
 * A job is handed over whole: the worker runs job->work(job). A job with a
 * loop set comes back to that event loop as a message (bt_loop_call) and
 * job->doneh runs there, unless the submitter cancelled it: nothing polls.
 * Without a loop (the simulator's real-time mode, which has no event loop)
 * the worker sets job->done and the submitter polls bt_job_done() once
 * per frame on its own thread.
 * A job is reference counted (the submitter and the pool), so a session
 * may drop a job that is still running.
 */
#ifndef BT_WORKER_H
#define BT_WORKER_H

#include <stdatomic.h>
#include <stdbool.h>

struct bt_job;
struct bt_loop;
typedef void (bt_job_work_h)(struct bt_job *job);
/** Runs on job->loop's thread once the work is done (not if cancelled). */
typedef void (bt_job_done_h)(struct bt_job *job);
typedef void (bt_job_free_h)(struct bt_job *job);

struct bt_job {
	bt_job_work_h *work;     /**< runs on a worker thread */
	bt_job_free_h *freeh;    /**< frees the job (last reference) */
	atomic_int refs;
	atomic_bool done;
	atomic_bool cancelled;   /**< set by the submitter: result unwanted */
	struct bt_job *next;
	struct bt_loop *loop;    /**< where doneh runs; NULL: poll done */
	bt_job_done_h *doneh;
	bool report_cancelled;   /**< doneh runs for a cancelled job too
				      (ran says whether work ran) */
	atomic_bool ran;
};

/** Start the pool with n threads (0 = 2). Idempotent. */
int bt_worker_init(unsigned n);
void bt_worker_close(void);

/** Queue a job; takes a reference for the pool. work/freeh must be set. */
int bt_worker_submit(struct bt_job *job);

/** Run a job right here, on the caller's thread (simulation mode). */
void bt_job_run_inline(struct bt_job *job);

static inline bool bt_job_done(struct bt_job *job)
{
	return atomic_load_explicit(&job->done, memory_order_acquire);
}

/** Drop a reference; frees the job with the last one. */
void bt_job_release(struct bt_job *job);

#endif
