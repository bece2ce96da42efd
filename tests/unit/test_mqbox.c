/*
 * The mqueue box (src/net/mqbox.c) that a call's event loop posts to the
 * SIP stack through: a thread posts while the owner closes the box and
 * frees its mqueue (a forced stop). Every post before the close reaches
 * the queue, every one after is refused, and none touches the freed
 * queue (which ASan would report: the loops held a bare pointer).
 */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <unistd.h>
#include <cmocka.h>
#include <re.h>
#include "net/mqbox.h"

struct poster {
	struct bt_mqbox *box;
	atomic_uint accepted;
	int last_err;
};

static unsigned got;

static void mq_h(int id, void *data, void *arg)
{
	(void)id;
	(void)data;
	(void)arg;
	++got;
}

static void *post_main(void *arg)
{
	struct poster *p = arg;
	int err;

	while (!(err = bt_mqbox_push(p->box, 1, NULL))) {
		atomic_fetch_add(&p->accepted, 1);
		usleep(100);
	}
	p->last_err = err;
	bt_mqbox_put(p->box);
	return NULL;
}

static void stop_h(void *arg)
{
	(void)arg;
	re_cancel();
}

static void test_close_while_posting(void **state)
{
	struct mqueue *mq = NULL;
	struct bt_mqbox *box = NULL;
	struct poster p = {0};
	struct tmr t;
	pthread_t thr;
	(void)state;

	assert_int_equal(mqueue_alloc(&mq, mq_h, NULL), 0);
	assert_int_equal(bt_mqbox_alloc(&box, mq), 0);
	p.box = bt_mqbox_ref(box);
	assert_int_equal(pthread_create(&thr, NULL, post_main, &p), 0);
	tmr_init(&t);
	tmr_start(&t, 50, stop_h, NULL);
	(void)re_main(NULL);
	/* the owner goes while the poster goes on */
	bt_mqbox_close(box);
	mq = mem_deref(mq);
	bt_mqbox_put(box);
	assert_int_equal(pthread_join(thr, NULL), 0);
	assert_int_equal(p.last_err, ESHUTDOWN);
	assert_true(atomic_load(&p.accepted) > 0);
	assert_true(got > 0 && got <= atomic_load(&p.accepted));
}

static void test_refused_after_close(void **state)
{
	struct mqueue *mq = NULL;
	struct bt_mqbox *box = NULL;
	(void)state;

	assert_int_equal(bt_mqbox_alloc(&box, NULL), EINVAL);
	assert_int_equal(mqueue_alloc(&mq, mq_h, NULL), 0);
	assert_int_equal(bt_mqbox_alloc(&box, mq), 0);
	assert_int_equal(bt_mqbox_push(box, 2, NULL), 0);
	bt_mqbox_close(box);
	assert_int_equal(bt_mqbox_push(box, 2, NULL), ESHUTDOWN);
	assert_int_equal(bt_mqbox_push(NULL, 2, NULL), EINVAL);
	bt_mqbox_put(box);
	mem_deref(mq);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_close_while_posting),
		cmocka_unit_test(test_refused_after_close),
	};
	int rc;

	if (libre_init())
		return 1;
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	libre_close();
	return rc;
}
