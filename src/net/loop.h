/**
 * @file loop.h  Event-loop threads (libre re_main), one per core by default.
 *
 * A session belongs to one loop for its whole life: its 20 ms frame tick,
 * its worker-pool completions and everything other threads send it run on
 * that loop's thread, so the per-frame path takes no lock. Other threads
 * reach a loop only through bt_loop_call() (a libre mqueue: one message,
 * no polling).
 *
 * Private to libbanter and its programs.
 */
#ifndef BT_NET_LOOP_H
#define BT_NET_LOOP_H

#include <re.h>
#include <stdbool.h>
#include <stdint.h>

struct bt_loop;

/** Runs on the loop's thread. */
typedef void (bt_loop_call_h)(void *arg);

/**
 * Called on the loop's thread once per 20 ms of wall time, in order of
 * registration; when the loop falls behind, called again to catch up (at
 * most BT_LOOP_CATCHUP frames), so a session's media clock keeps pace.
 */
typedef void (bt_tick_h)(void *arg);

struct bt_tick {
	struct le le;
	bt_tick_h *h;
	void *arg;
};

/** Start n loop threads (0: one per core). Each runs re_main. */
int bt_loops_start(unsigned n);
/** Stop every loop thread and wait for them. Calls that came before a
 *  loop closed run on it before its thread ends; later ones are refused. */
void bt_loops_stop(void);
unsigned bt_loops_count(void);

/**
 * The loop with the fewest calls, where a new call goes; it counts there
 * until bt_loop_release (once per take, from any thread).
 */
struct bt_loop *bt_loop_take(void);
void bt_loop_release(struct bt_loop *l);
/** Calls taken on l and not released. */
unsigned bt_loop_calls(const struct bt_loop *l);
/** Loop i (0 .. count-1), or NULL. */
struct bt_loop *bt_loop_at(unsigned i);
/** The loop whose thread is calling, or NULL on any other thread. */
struct bt_loop *bt_loop_current(void);

/**
 * Run h(arg) on loop l's thread, from any thread. On error (ENOMEM;
 * ESHUTDOWN: the loop stopped, which a worker's job coming back after
 * bt_loops_stop() meets) h is not called and the caller still owns arg.
 * A call that returned 0 always runs.
 */
int bt_loop_call(struct bt_loop *l, bt_loop_call_h *h, void *arg);

/** Register a frame tick; on l's thread only. */
void bt_loop_tick_add(struct bt_loop *l, struct bt_tick *t, bt_tick_h *h,
		      void *arg);
/** Unregister (idempotent); on the tick's loop thread only. */
void bt_loop_tick_remove(struct bt_tick *t);

/** How many frames the loop was late by at most (to see overload). */
uint32_t bt_loop_max_lag_frames(const struct bt_loop *l);
/** The longest a frame tick of l came after its time, ms (wall clock). */
uint32_t bt_loop_max_late_ms(const struct bt_loop *l);
/** How late its frame ticks came, ms, at percentile pct (50, 95, 99)
 *  of those since it started or was reset, while it had calls: what
 *  anything due on the loop (a frame, a socket's message) waits. The
 *  last bucket holds 255 ms and more. */
uint32_t bt_loop_late_pct_ms(const struct bt_loop *l, unsigned pct);
/** Start the lateness figures (percentiles and max) again. */
void bt_loop_late_reset(struct bt_loop *l);

#endif
