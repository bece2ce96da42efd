/**
 * @file worker.c  The worker pool.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include "banter/err.h"
#include "core/worker.h"
#include "net/loop.h"

static struct {
	pthread_mutex_t mtx;
	pthread_cond_t cond;
	pthread_t *thr;
	unsigned n;
	struct bt_job *head, *tail;
	bool stop;
	bool running;
} pool = {
	.mtx = PTHREAD_MUTEX_INITIALIZER,
	.cond = PTHREAD_COND_INITIALIZER,
};

void bt_job_release(struct bt_job *job)
{
	if (!job)
		return;
	if (atomic_fetch_sub(&job->refs, 1) == 1)
		job->freeh(job);
}

/* On the submitter's loop: the pool's reference came with the message. */
static void job_back(void *arg)
{
	struct bt_job *job = arg;

	atomic_store_explicit(&job->done, true, memory_order_release);
	if ((!atomic_load(&job->cancelled) || job->report_cancelled) &&
	    job->doneh)
		job->doneh(job);
	bt_job_release(job);
}

void bt_job_run_inline(struct bt_job *job)
{
	job->work(job);
	atomic_store(&job->ran, true);
	atomic_store_explicit(&job->done, true, memory_order_release);
}

static void *worker_main(void *arg)
{
	(void)arg;
	for (;;) {
		struct bt_job *job;

		pthread_mutex_lock(&pool.mtx);
		while (!pool.head && !pool.stop)
			pthread_cond_wait(&pool.cond, &pool.mtx);
		if (!pool.head) {
			pthread_mutex_unlock(&pool.mtx);
			return NULL;
		}
		job = pool.head;
		pool.head = job->next;
		if (!pool.head)
			pool.tail = NULL;
		pthread_mutex_unlock(&pool.mtx);

		/* A cancelled job is skipped: nobody wants its result. */
		if (!atomic_load(&job->cancelled)) {
			job->work(job);
			atomic_store(&job->ran, true);
		}
		if (job->loop && !bt_loop_call(job->loop, job_back, job))
			continue;
		atomic_store_explicit(&job->done, true, memory_order_release);
		bt_job_release(job);
	}
}

int bt_worker_init(unsigned n)
{
	int err = 0;

	pthread_mutex_lock(&pool.mtx);
	if (pool.running)
		goto out;
	pool.n = n ? n : 2;
	pool.thr = calloc(pool.n, sizeof(*pool.thr));
	if (!pool.thr) {
		err = ENOMEM;
		goto out;
	}
	pool.stop = false;
	for (unsigned i = 0; i < pool.n; i++) {
		err = pthread_create(&pool.thr[i], NULL, worker_main, NULL);
		if (err) {
			pool.n = i;
			bt_err(err, "cannot start a worker thread");
			break;
		}
	}
	pool.running = true;
 out:
	pthread_mutex_unlock(&pool.mtx);
	return err;
}

void bt_worker_close(void)
{
	pthread_mutex_lock(&pool.mtx);
	if (!pool.running) {
		pthread_mutex_unlock(&pool.mtx);
		return;
	}
	pool.stop = true;
	pthread_cond_broadcast(&pool.cond);
	pthread_mutex_unlock(&pool.mtx);

	for (unsigned i = 0; i < pool.n; i++)
		pthread_join(pool.thr[i], NULL);
	free(pool.thr);
	pool.thr = NULL;
	pool.running = false;
}

int bt_worker_submit(struct bt_job *job)
{
	if (!job || !job->work || !job->freeh)
		return EINVAL;

	pthread_mutex_lock(&pool.mtx);
	if (!pool.running) {
		pthread_mutex_unlock(&pool.mtx);
		return bt_err(ESRCH, "the worker pool is not running; call bt_init()");
	}
	atomic_fetch_add(&job->refs, 1);
	job->next = NULL;
	if (pool.tail)
		pool.tail->next = job;
	else
		pool.head = job;
	pool.tail = job;
	pthread_cond_signal(&pool.cond);
	pthread_mutex_unlock(&pool.mtx);
	return 0;
}
