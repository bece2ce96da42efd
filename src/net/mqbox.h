/**
 * @file mqbox.h  A libre mqueue that other threads may post to after its
 *                owner has gone: posts made after bt_mqbox_close() fail.
 *
 * A libre mqueue is freed by its owner on its own thread, but the threads
 * that post to it (a call's event loop reporting to the SIP stack) keep
 * only a pointer, and libre's reference counts are not atomic, so they
 * cannot hold one. The box is theirs to hold: its count is atomic, and a
 * post and the owner's close take one lock, so the mqueue is never
 * pushed to once the owner has closed the box and freed it.
 *
 * Private to libbanter and its programs.
 */
#ifndef BT_NET_MQBOX_H
#define BT_NET_MQBOX_H

struct mqueue;
struct bt_mqbox;

/** A box for mq (not a reference: the owner frees mq after closing). */
int bt_mqbox_alloc(struct bt_mqbox **bp, struct mqueue *mq);
struct bt_mqbox *bt_mqbox_ref(struct bt_mqbox *b);
/** Drop a reference (any thread); the last one frees the box. */
void bt_mqbox_put(struct bt_mqbox *b);
/** mqueue_push through the box, from any thread; ESHUTDOWN once closed
 *  (the caller keeps data). */
int bt_mqbox_push(struct bt_mqbox *b, int id, void *data);
/** The owner's: no post reaches the mqueue after this returns. */
void bt_mqbox_close(struct bt_mqbox *b);

#endif
