/**
 * @file server_link.c  The session loops' side of `banter serve`'s links
 *                      (server.c has the main loop's): a connection's
 *                      session made on its loop, the client's events
 *                      into it, its server events out in one batch per
 *                      tick (or at once: a reply's first audio), and its
 *                      end. Private to src/transport (server_int.h).
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "banter/banter.h"
#include "net/loop.h"
#include "transport/realtime.h"
#include "transport/server_int.h"
#include "transport/sip.h"

static __thread struct list loop_links;  /* per session loop */
static __thread bool loop_links_init;

struct link *srv_link_ref(struct link *lk)
{
	atomic_fetch_add(&lk->refs, 1);
	return lk;
}

void srv_link_put(struct link *lk)
{
	if (lk && atomic_fetch_sub(&lk->refs, 1) == 1) {
		if (lk->call)
			bt_sip_call_put(lk->call);
		if (lk->took_loop)
			bt_loop_release(lk->loop);
		bt_agent_put(lk->agent);
		free(lk);
	}
}

static int post_out(struct link *lk, enum out_kind kind, struct mbuf *mb,
		    uint16_t code, const char *reason)
{
	struct out_msg *m = calloc(1, sizeof(*m));

	if (!m)
		return ENOMEM;
	m->lk = srv_link_ref(lk);
	m->kind = kind;
	m->mb = mb;
	m->code = code;
	snprintf(m->reason, sizeof(m->reason), "%s", reason ? reason : "");
	if (mqueue_push(lk->srv->mq, 0, m)) {
		srv_link_put(lk);
		mem_deref(mb);
		free(m);
		return EPIPE;
	}
	return 0;
}

static void link_flush(struct link *lk)
{
	if (!lk->out || !lk->out->end)
		return;
	/* the batch goes with the message (or is freed if it cannot) */
	(void)post_out(lk, OUT_SEND, lk->out, 0, NULL);
	lk->out = mbuf_alloc(8192);
}

static void flush_tick(void *arg)
{
	link_flush(arg);
}

static void rt_flush(void *arg)
{
	link_flush(arg);
}

static void rt_send(const char *json, size_t len, void *arg)
{
	struct link *lk = arg;

	if (!lk->out && !(lk->out = mbuf_alloc(8192)))
		return;
	(void)bt_rt_batch_add(lk->out, json, len);
}

static void rt_free_later(void *arg)
{
	struct link *lk = arg;

	if (lk->rt) {
		lk->rt = mem_deref(lk->rt);
		bt_loop_tick_remove(&lk->flush_tick);
		list_unlink(&lk->le);
		atomic_fetch_sub(&lk->srv->sessions, 1);
		lk->out = mem_deref(lk->out);
		srv_link_put(lk);  /* the session loop's reference */
	}
	srv_link_put(lk);          /* this call's */
}

static void rt_close(uint16_t code, const char *reason, void *arg)
{
	struct link *lk = arg;

	if (lk->rt_closed)
		return;
	lk->rt_closed = true;
	link_flush(lk);
	(void)post_out(lk, OUT_CLOSE, NULL, code, reason);
	/* not inside the session's own tick: free it from a message */
	if (bt_loop_call(lk->loop, rt_free_later, srv_link_ref(lk)))
		srv_link_put(lk);
}

void srv_in_handler(void *arg)
{
	struct in_msg *m = arg;
	struct link *lk = m->lk;

	if (!loop_links_init) {
		list_init(&loop_links);
		loop_links_init = true;
	}
	switch (m->kind) {
	case IN_OPEN: {
		struct bt_rt_prm prm;
		int err;

		memset(&prm, 0, sizeof(prm));
		prm.db_path = lk->srv->prm->db_path;
		prm.greet = true;
		prm.caller_id = lk->caller_id[0] ? lk->caller_id : NULL;
		prm.flushh = rt_flush;
		srv_link_ref(lk);  /* the session loop's */
		lk->out = mbuf_alloc(8192);
		/* a sideband runs on its call's loop, next to the call */
		err = lk->call ? bt_sip_call_side(lk->call, NULL, rt_send,
						  rt_close, lk, &lk->rt) :
			bt_rt_alloc(&lk->rt, lk->agent, lk->model, &prm,
				    rt_send, rt_close, lk);
		if (err) {
			bool gone = lk->call && err == ENOENT;
			char msg[300];
			snprintf(msg, sizeof(msg), gone ? "{\"type\":\"error\","
				 "\"error\":{\"type\":\"invalid_request_"
				 "error\",\"code\":\"call_not_found\","
				 "\"message\":\"the call ended before the "
				 "sideband could attach\"}}" : "{\"type\":"
				 "\"error\",\"error\":{\"type\":\"server_"
				 "error\",\"code\":null,\"message\":\"cannot "
				 "start the call (%d)\"}}", err);
			rt_send(msg, strlen(msg), lk);
			link_flush(lk);
			(void)post_out(lk, OUT_CLOSE, NULL, gone ? 1008 : 1011,
				       gone ? "the call ended" :
				       "cannot start the call");
			lk->out = mem_deref(lk->out);
			atomic_fetch_sub(&lk->srv->sessions, 1);
			srv_link_put(lk);
			break;
		}
		list_append(&loop_links, &lk->le, lk);
		/* registered after the session's tick: sends its batch */
		bt_loop_tick_add(lk->loop, &lk->flush_tick, flush_tick, lk);
		link_flush(lk);
		break;
	}
	case IN_TEXT:
		if (lk->rt && !lk->rt_closed) {
			bt_rt_recv(lk->rt, m->data, m->len);
			link_flush(lk);
		}
		break;
	case IN_CLOSE:
		/* the client went away: drop the call */
		if (lk->rt) {
			lk->rt_closed = true;
			if (!bt_loop_call(lk->loop, rt_free_later,
					  srv_link_ref(lk)))
				break;
			srv_link_put(lk);
		}
		break;
	case IN_SHUTDOWN:
		for (struct le *le = loop_links.head; le; le = le->next) {
			struct link *l = le->data;
			if (l->rt && !l->rt_closed)
				bt_rt_shutdown(l->rt,
					       lk->srv->prm->goodbye_ms ?
					       lk->srv->prm->goodbye_ms :
					       8000);
		}
		break;
	}
	srv_link_put(m->lk);
	free(m);
}
