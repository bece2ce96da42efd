/**
 * @file transfer.c  Transferring the caller to a person: the session asks
 *                   its transport (bt_session_set_transfer) once the line
 *                   that announced it has played, and hands a failure
 *                   back to the brain, which tells the caller.
 *
 * The session knows no protocol: a SIP call sends a REFER, a transport
 * without a hook cannot transfer, and the brain hears so at once rather
 * than the call ending in silence.
 */
#include "core/session_int.h"

#define NOT_POSSIBLE "transfer is not possible on this connection"

const char *ss_reply_kind_name(enum reply_kind kind)
{
	switch (kind) {
	case REPLY_USER: return "reply";
	case REPLY_IDLE: return "idle";
	case REPLY_TRANSFER: return "transfer_failed";
	default: return "greeting";
	}
}

static void emit(struct bt_session *s, const char *status, const char *why)
{
	json_t *o = json_pack("{s:s,s:s}", "to", s->xfer_to, "status",
			      status);

	if (o && why)
		json_object_set_new(o, "reason", json_string(why));
	ss_emit(s, BT_EV_TRANSFER, ss_now_ms(s), s->xfer_to, o);
}

void bt_session_set_transfer(struct bt_session *s, bt_transfer_h *h,
			     void *arg)
{
	if (!s)
		return;
	s->xferh = h;
	s->xfer_arg = arg;
}

void ss_transfer_start(struct bt_session *s, const char *to)
{
	if (s->state == BT_ST_ENDED || s->transferring)
		return;
	s->transferring = true;
	str_ncpy(s->xfer_to, to, sizeof(s->xfer_to));
	if (!s->xferh) {
		bt_session_transfer_done(s, ENOTSUP, NOT_POSSIBLE);
		return;
	}
	emit(s, "started", NULL);
	s->xferh(s, s->xfer_to, s->xfer_arg);
}

void bt_session_transfer_done(struct bt_session *s, int err,
			      const char *reason)
{
	struct bt_brain_input in;
	char why[300];

	if (!s || !s->transferring || s->state == BT_ST_ENDED)
		return;
	s->transferring = false;
	if (!err) {
		emit(s, "transferred", NULL);
		ss_end_call(s, "transferred");
		return;
	}
	if (!reason || !reason[0])
		reason = strerror(err);
	emit(s, "failed", reason);
	s->idle_since = ss_now_ms(s);
	if (s->reply) {
		/* a notice of the transport's own plays (a shutdown): the
		 * brain has nothing to add to it */
		return;
	}
	snprintf(why, sizeof(why), "failed: %s", reason);
	memset(&in, 0, sizeof(in));
	in.type = BT_BRAIN_TRANSFER;
	in.text = why;
	(void)ss_respond(s, REPLY_TRANSFER, &in);
}
