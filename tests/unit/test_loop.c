/*
 * Where calls go (src/net/loop.c): each new call to the loop with the
 * fewest calls, counted when the call is placed. A burst of calls placed
 * before any reached its loop once went 7 to one loop and 1 to the other
 * (the count was of ticks, registered later on each loop's thread).
 * How late a loop's ticks came: a loop held up shows in its top
 * percentile and its maximum, until the figures are reset.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <unistd.h>
#include <cmocka.h>
#include <re.h>
#include "net/loop.h"

enum { LOOPS = 3 };

static unsigned calls_on(struct bt_loop *l)
{
	return bt_loop_calls(l);
}

static void test_burst_spreads(void **state)
{
	struct bt_loop *got[3 * LOOPS];
	(void)state;

	/* nine calls placed back to back, none has reached its loop */
	for (unsigned i = 0; i < 3 * LOOPS; i++) {
		got[i] = bt_loop_take();
		assert_non_null(got[i]);
	}
	for (unsigned i = 0; i < LOOPS; i++)
		assert_int_equal(calls_on(bt_loop_at(i)), 3);

	/* a call that ends frees its place: the next call goes there */
	bt_loop_release(got[4]);
	assert_int_equal(calls_on(got[4]), 2);
	assert_ptr_equal(bt_loop_take(), got[4]);

	for (unsigned i = 0; i < 3 * LOOPS; i++)
		bt_loop_release(got[i]);
	for (unsigned i = 0; i < LOOPS; i++)
		assert_int_equal(calls_on(bt_loop_at(i)), 0);
	bt_loop_release(NULL);  /* harmless */
	assert_int_equal(calls_on(NULL), 0);
}

/* Uneven load (calls that ended on one loop) is filled first. */
static void test_fills_the_emptiest(void **state)
{
	struct bt_loop *a = bt_loop_take(), *b = bt_loop_take(),
		       *c = bt_loop_take(), *d;
	(void)state;

	assert_true(a != b && b != c && a != c);
	bt_loop_release(b);
	bt_loop_release(c);
	d = bt_loop_take();
	assert_true(d == b || d == c);
	assert_ptr_not_equal(bt_loop_take(), a);
	/* now every loop holds one */
	for (unsigned i = 0; i < LOOPS; i++)
		assert_int_equal(calls_on(bt_loop_at(i)), 1);
	for (unsigned i = 0; i < LOOPS; i++)
		bt_loop_release(bt_loop_at(i));
}

static void hold_up(void *arg)
{
	(void)arg;
	usleep(300 * 1000);  /* a call set up on the loop, say */
}

static void test_late(void **state)
{
	struct bt_loop *l = bt_loop_at(0);
	uint32_t p50, p95, p100;
	(void)state;

	bt_loop_late_reset(l);
	/* counted only while the loop has calls */
	assert_ptr_equal(bt_loop_take(), l);
	usleep(100 * 1000);
	assert_int_equal(bt_loop_call(l, hold_up, NULL), 0);
	usleep(600 * 1000);
	p50 = bt_loop_late_pct_ms(l, 50);
	p95 = bt_loop_late_pct_ms(l, 95);
	p100 = bt_loop_late_pct_ms(l, 100);
	/* the tick due during the 300 ms came at least 280 ms late (the
	 * percentiles' last bucket holds 255 ms and more) */
	assert_int_equal(p100, 255);
	assert_true(bt_loop_max_late_ms(l) >= 280);
	assert_true(p50 <= p95 && p95 <= p100);
	/* reset: the hold-up is forgotten */
	bt_loop_late_reset(l);
	assert_true(bt_loop_late_pct_ms(l, 100) < 255);
	assert_true(bt_loop_max_late_ms(l) < 280);
	bt_loop_release(l);
	assert_int_equal(bt_loop_late_pct_ms(NULL, 95), 0);
}

/*
 * A loop that stops while other threads send it calls (workers whose jobs
 * come back): every call that was accepted runs, the later ones are
 * refused. Calls accepted between the loop's last run and the freeing of
 * its queue were lost (their jobs leaked), and a call could push into the
 * freed queue.
 */
struct hammer {
	struct bt_loop *l;
	atomic_uint accepted, ran;
	int last_err;
};

static void ran_h(void *arg)
{
	struct hammer *h = arg;

	atomic_fetch_add(&h->ran, 1);
}

static void *hammer_main(void *arg)
{
	struct hammer *h = arg;
	int err;

	while (!(err = bt_loop_call(h->l, ran_h, h)))
		atomic_fetch_add(&h->accepted, 1);
	h->last_err = err;
	return NULL;
}

static void test_stop_runs_or_refuses(void **state)
{
	struct hammer h[2];
	pthread_t thr[2];
	(void)state;

	/* the group's loops go; this test runs last */
	bt_loops_stop();
	assert_int_equal(bt_loops_start(1), 0);
	for (int i = 0; i < 2; i++) {
		memset(&h[i], 0, sizeof(h[i]));
		h[i].l = bt_loop_at(0);
		assert_int_equal(pthread_create(&thr[i], NULL, hammer_main,
						&h[i]), 0);
	}
	usleep(30000);
	bt_loops_stop();
	for (int i = 0; i < 2; i++) {
		assert_int_equal(pthread_join(thr[i], NULL), 0);
		assert_true(atomic_load(&h[i].accepted) > 0);
		assert_int_equal(atomic_load(&h[i].ran),
				 atomic_load(&h[i].accepted));
		assert_int_equal(h[i].last_err, ESHUTDOWN);
	}
	assert_int_equal(bt_loop_call(h[0].l, ran_h, &h[0]), ESHUTDOWN);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_burst_spreads),
		cmocka_unit_test(test_fills_the_emptiest),
		cmocka_unit_test(test_late),
		cmocka_unit_test(test_stop_runs_or_refuses),
	};
	int rc;

	if (libre_init() || bt_loops_start(LOOPS))
		return 1;
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	bt_loops_stop();
	libre_close();
	return rc;
}
