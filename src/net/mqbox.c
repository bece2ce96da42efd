/**
 * @file mqbox.c  A libre mqueue that other threads may post to after its
 *                owner has gone (see mqbox.h).
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <re.h>
#include "net/mqbox.h"

struct bt_mqbox {
	atomic_int refs;
	pthread_mutex_t mtx;
	struct mqueue *mq;   /* NULL once closed */
};

int bt_mqbox_alloc(struct bt_mqbox **bp, struct mqueue *mq)
{
	struct bt_mqbox *b;

	if (!bp || !mq)
		return EINVAL;
	b = calloc(1, sizeof(*b));
	if (!b)
		return ENOMEM;
	atomic_init(&b->refs, 1);
	pthread_mutex_init(&b->mtx, NULL);
	b->mq = mq;
	*bp = b;
	return 0;
}

struct bt_mqbox *bt_mqbox_ref(struct bt_mqbox *b)
{
	if (b)
		atomic_fetch_add(&b->refs, 1);
	return b;
}

void bt_mqbox_put(struct bt_mqbox *b)
{
	if (b && atomic_fetch_sub(&b->refs, 1) == 1) {
		pthread_mutex_destroy(&b->mtx);
		free(b);
	}
}

int bt_mqbox_push(struct bt_mqbox *b, int id, void *data)
{
	int err;

	if (!b)
		return EINVAL;
	pthread_mutex_lock(&b->mtx);
	err = b->mq ? mqueue_push(b->mq, id, data) : ESHUTDOWN;
	pthread_mutex_unlock(&b->mtx);
	return err;
}

void bt_mqbox_close(struct bt_mqbox *b)
{
	if (!b)
		return;
	pthread_mutex_lock(&b->mtx);
	b->mq = NULL;
	pthread_mutex_unlock(&b->mtx);
}
