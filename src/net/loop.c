/**
 * @file loop.c  Event-loop threads.
 *
 * Each loop is a thread running libre's re_main with its own fd table and
 * timers (re_thread_init). Cross-thread calls go into a list under a
 * mutex, and one libre mqueue message (a pipe write) wakes the loop when
 * the list was empty: a burst of calls costs one wake-up, the loop sleeps
 * in epoll when there is nothing to do, and calls still queued when the
 * loop stops are run, not lost.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "banter/err.h"
#include "net/http.h"
#include "net/ws.h"
#include "net/loop.h"

enum {
	FRAME_MS = 20,
	MAX_LOOPS = 64,
	MAXFDS = 65536,
	BT_LOOP_CATCHUP = 2,  /* frames a late tick makes up; a longer stall
				 (a call being set up on this loop) pauses
				 the calls' clocks instead of bursting their
				 audio out */	LATE_BUCKETS = 256,   /* ms: a tick's lateness, the last >= 255 */
};

struct bt_loop {
	pthread_t thr;
	unsigned idx;
	struct mqueue *mq;
	pthread_mutex_t qmtx;    /* the calls below, closed and mq */
	struct call *qhead, *qtail;
	bool closed;             /* stopped: calls are refused */
	struct tmr tmr;
	struct list ticks;
	atomic_uint n_ticks;
	atomic_uint n_calls;    /* placed here and not yet released */
	uint64_t next;          /* jiffies of the next frame */
	uint32_t max_lag;
	atomic_uint max_late_ms;  /* the longest a frame tick came late */
	atomic_uint late_hist[LATE_BUCKETS];  /* ticks by lateness, ms,
						 while the loop has calls */
	pthread_mutex_t mtx;    /* start-up hand-shake only */
	pthread_cond_t cond;
	bool ready;
	int err;
};

struct call {
	bt_loop_call_h *h;
	void *arg;
	struct call *next;
};

static struct bt_loop loops[MAX_LOOPS];
static unsigned n_loops;
static __thread struct bt_loop *cur;

static void tick_timer(void *arg);

static void schedule(struct bt_loop *l)
{
	uint64_t now = tmr_jiffies();

	tmr_start(&l->tmr, l->next > now ? l->next - now : 0, tick_timer, l);
}

static void tick_timer(void *arg)
{
	struct bt_loop *l = arg;
	uint64_t now = tmr_jiffies();
	unsigned frames = 0;

	/* on the wall clock: the frame counts below stop at the catch-up
	 * limit, and a loop held up for seconds shows only here; only while
	 * it has calls (the server's warm-up at start holds it too) */
	if (atomic_load(&l->n_calls)) {
		uint64_t late = now > l->next ? now - l->next : 0;

		if (late > atomic_load(&l->max_late_ms))
			atomic_store(&l->max_late_ms, (unsigned)late);
		atomic_fetch_add_explicit(&l->late_hist[late < LATE_BUCKETS ?
							late : LATE_BUCKETS - 1],
					  1, memory_order_relaxed);
	}
	/*
	 * Deadlines are absolute (start + k * 20 ms), so the timer's own
	 * jitter does not accumulate into the media clock.
	 */
	while (l->next <= now && frames < BT_LOOP_CATCHUP) {
		struct le *le = l->ticks.head;

		while (le) {
			struct bt_tick *t = le->data;
			le = le->next;  /* a handler may remove itself */
			t->h(t->arg);
		}
		l->next += FRAME_MS;
		++frames;
	}
	if (frames > l->max_lag)
		l->max_lag = frames;
	if (l->next + FRAME_MS < now)
		l->next = now;  /* too far behind: drop, do not spiral */
	schedule(l);
}

/* Run every queued call, in order (more may come meanwhile). */
static void run_calls(struct bt_loop *l)
{
	for (;;) {
		struct call *c;

		pthread_mutex_lock(&l->qmtx);
		c = l->qhead;
		l->qhead = l->qtail = NULL;
		pthread_mutex_unlock(&l->qmtx);
		if (!c)
			return;
		while (c) {
			struct call *next = c->next;
			c->h(c->arg);
			free(c);
			c = next;
		}
	}
}

static void mq_handler(int id, void *data, void *arg)
{
	(void)id;
	(void)data;

	run_calls(arg);
}

static void stop_handler(void *arg)
{
	(void)arg;
	re_cancel();
}

static void *loop_main(void *arg)
{
	struct bt_loop *l = arg;
	int err;

	err = re_thread_init();
	if (!err)
		err = fd_setsize(MAXFDS);
	if (!err)
		err = mqueue_alloc(&l->mq, mq_handler, l);
	cur = l;
	pthread_mutex_lock(&l->mtx);
	l->err = err;
	l->ready = true;
	pthread_cond_signal(&l->cond);
	pthread_mutex_unlock(&l->mtx);
	if (err)
		goto out;

	tmr_init(&l->tmr);
	l->next = tmr_jiffies() + FRAME_MS;
	schedule(l);
	(void)re_main(NULL);
	tmr_cancel(&l->tmr);
	run_calls(l);  /* what came after the stop: cleanups */
	bt_http_thread_close();
	bt_ws_thread_close();
	/*
	 * From here on calls are refused (a worker's job coming back gets
	 * an error and frees itself), and those that came in until now
	 * run: a call accepted and never run leaked its job, and one that
	 * read mq before it was freed pushed into freed memory.
	 */
	pthread_mutex_lock(&l->qmtx);
	l->closed = true;
	pthread_mutex_unlock(&l->qmtx);
	run_calls(l);
	l->mq = mem_deref(l->mq);
 out:
	re_thread_close();
	cur = NULL;
	return NULL;
}

int bt_loops_start(unsigned n)
{
	long cores = sysconf(_SC_NPROCESSORS_ONLN);
	int err = 0;

	if (n_loops)
		return 0;
	if (!n)
		n = cores > 0 ? (unsigned)cores : 1;
	if (n > MAX_LOOPS)
		return bt_err(EINVAL, "at most %d event-loop threads (asked "
			      "for %u)", MAX_LOOPS, n);
	for (unsigned i = 0; i < n; i++) {
		struct bt_loop *l = &loops[i];

		memset(l, 0, sizeof(*l));
		l->idx = i;
		list_init(&l->ticks);
		pthread_mutex_init(&l->mtx, NULL);
		pthread_mutex_init(&l->qmtx, NULL);
		pthread_cond_init(&l->cond, NULL);
		err = pthread_create(&l->thr, NULL, loop_main, l);
		if (err) {
			bt_err(err, "cannot start event-loop thread %u", i);
			break;
		}
		pthread_mutex_lock(&l->mtx);
		while (!l->ready)
			pthread_cond_wait(&l->cond, &l->mtx);
		pthread_mutex_unlock(&l->mtx);
		++n_loops;
		if (l->err) {
			err = bt_err(l->err, "event-loop thread %u could not "
				     "set up its loop", i);
			break;
		}
	}
	if (err)
		bt_loops_stop();
	return err;
}

void bt_loops_stop(void)
{
	for (unsigned i = 0; i < n_loops; i++) {
		struct bt_loop *l = &loops[i];

		if (!l->err && bt_loop_call(l, stop_handler, NULL) == 0)
			pthread_join(l->thr, NULL);
		else if (!l->err)
			pthread_detach(l->thr);
		else
			pthread_join(l->thr, NULL);
		/* qmtx stays: a worker finishing a job for this loop may
		 * still take it, to be told the loop is closed */
		pthread_mutex_destroy(&l->mtx);
		pthread_cond_destroy(&l->cond);
	}
	n_loops = 0;
}

unsigned bt_loops_count(void)
{
	return n_loops;
}

struct bt_loop *bt_loop_at(unsigned i)
{
	return i < n_loops ? &loops[i] : NULL;
}

/*
 * Calls are counted from the moment one is placed, on the placing thread.
 * Counting the ticks the calls register instead missed every call of a
 * burst that had not reached its loop yet (the tick is added later, on
 * the loop's own thread): 8 WebSocket calls accepted together went 7 to
 * one loop and 1 to the other, and the crowded loop fell seconds behind
 * while the other idled.
 */
struct bt_loop *bt_loop_take(void)
{
	struct bt_loop *best = NULL;

	for (unsigned i = 0; i < n_loops; i++) {
		if (!best || atomic_load(&loops[i].n_calls) <
		    atomic_load(&best->n_calls))
			best = &loops[i];
	}
	if (best)
		atomic_fetch_add(&best->n_calls, 1);
	return best;
}

void bt_loop_release(struct bt_loop *l)
{
	if (l)
		atomic_fetch_sub(&l->n_calls, 1);
}

unsigned bt_loop_calls(const struct bt_loop *l)
{
	return l ? atomic_load(&l->n_calls) : 0;
}

struct bt_loop *bt_loop_current(void)
{
	return cur;
}

int bt_loop_call(struct bt_loop *l, bt_loop_call_h *h, void *arg)
{
	struct call *c;
	bool wake;
	int err = 0;

	if (!l || !h)
		return EINVAL;
	c = malloc(sizeof(*c));
	if (!c)
		return ENOMEM;
	c->h = h;
	c->arg = arg;
	c->next = NULL;
	pthread_mutex_lock(&l->qmtx);
	if (l->closed || !l->mq) {
		/* stopped (or never started): the caller keeps arg */
		pthread_mutex_unlock(&l->qmtx);
		free(c);
		return ESHUTDOWN;
	}
	wake = !l->qhead;
	if (l->qtail)
		l->qtail->next = c;
	else
		l->qhead = c;
	l->qtail = c;
	/* the wake-up is written under the lock: the loop cannot take the
	 * list between our append and it */
	if (wake)
		err = mqueue_push(l->mq, 0, NULL);
	if (err) {
		/* no wake-up: take it back, the caller keeps arg */
		l->qhead = l->qtail = NULL;
		free(c);
	}
	pthread_mutex_unlock(&l->qmtx);
	return err;
}

void bt_loop_tick_add(struct bt_loop *l, struct bt_tick *t, bt_tick_h *h,
		      void *arg)
{
	if (!l || !t || !h)
		return;
	t->h = h;
	t->arg = arg;
	list_append(&l->ticks, &t->le, t);
	atomic_fetch_add(&l->n_ticks, 1);
}

void bt_loop_tick_remove(struct bt_tick *t)
{
	struct bt_loop *l = cur;

	if (!t || !t->le.list)
		return;
	list_unlink(&t->le);
	if (l)
		atomic_fetch_sub(&l->n_ticks, 1);
}

uint32_t bt_loop_max_late_ms(const struct bt_loop *l)
{
	return l ? atomic_load(&l->max_late_ms) : 0;
}

uint32_t bt_loop_late_pct_ms(const struct bt_loop *l, unsigned pct)
{
	uint64_t n = 0, want, k = 0;

	if (!l)
		return 0;
	for (unsigned i = 0; i < LATE_BUCKETS; i++)
		n += atomic_load_explicit(&l->late_hist[i],
					  memory_order_relaxed);
	if (!n)
		return 0;
	want = (n * (pct > 100 ? 100 : pct) + 99) / 100;
	for (unsigned i = 0; i < LATE_BUCKETS; i++) {
		k += atomic_load_explicit(&l->late_hist[i],
					  memory_order_relaxed);
		if (k >= want && k)
			return i;
	}
	return LATE_BUCKETS - 1;
}

void bt_loop_late_reset(struct bt_loop *l)
{
	if (!l)
		return;
	for (unsigned i = 0; i < LATE_BUCKETS; i++)
		atomic_store_explicit(&l->late_hist[i], 0,
				      memory_order_relaxed);
	atomic_store(&l->max_late_ms, 0);
}

uint32_t bt_loop_max_lag_frames(const struct bt_loop *l)
{
	return l ? l->max_lag : 0;
}
