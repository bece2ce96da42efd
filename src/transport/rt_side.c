/**
 * @file rt_side.c  Sidebands: Realtime clients attached to a call another
 *                  transport drives (a phone call), on that call's loop.
 *
 * A sideband is a struct bt_rt that does not own its session: it has no
 * tick and sends no audio (the caller hears the agent over RTP; OpenAI's
 * SIP sidebands carry no audio either), and it gets the call's session
 * events from the call, which keeps its sidebands in a list. The events
 * go out through the same code as a WebSocket session's, so a client sees
 * the same shapes.
 */
#include <time.h>
#include "transport/rt_int.h"

int bt_rt_side_alloc(struct bt_rt **rtp, struct bt_session *s,
		     struct bt_agent *agent, const char *model,
		     struct list *sides, bt_rt_send_h *sendh,
		     bt_rt_close_h *closeh, void *arg)
{
	struct bt_rt *rt = NULL;
	int err;

	if (!rtp || !s || !sides)
		return EINVAL;
	err = rt_make(&rt, agent, model, NULL, sendh, closeh, arg);
	if (err)
		return err;
	rt->side = true;
	rt->started = true;  /* the call greets by itself */
	rt->s = mem_ref(s);
	list_append(sides, &rt->side_le, rt);
	rt_send_session(rt, "session.created");
	*rtp = rt;
	return 0;
}

void bt_rt_side_event(const struct list *sides, const struct bt_event *ev)
{
	for (struct le *le = list_head(sides); le; le = le->next)
		rt_on_event(ev, le->data);
}

void bt_rt_side_dtmf(const struct list *sides, char digit)
{
	char d[2] = {digit, '\0'};
	json_int_t now = (json_int_t)time(NULL);

	for (struct le *le = list_head(sides); le; le = le->next) {
		json_t *o = rt_ev_new("input_audio_buffer.dtmf_event_received");

		json_object_set_new(o, "event", json_string(d));
		json_object_set_new(o, "received_at", json_integer(now));
		rt_send_json(le->data, o);
	}
}

void bt_rt_side_user_text(const struct list *sides, const char *item_id,
			  const char *text)
{
	for (struct le *le = list_head(sides); le; le = le->next)
		rt_announce_item(le->data, rt_message_item(
			item_id ? item_id : "", "user", "completed",
			rt_part_new("input_text", "text", text)));
}

void bt_rt_side_rebind(const struct list *sides, struct bt_session *s)
{
	for (struct le *le = list_head(sides); le; le = le->next) {
		struct bt_rt *rt = le->data;

		mem_deref(rt->s);
		rt->s = mem_ref(s);
	}
}

void bt_rt_side_end(struct list *sides, const char *call_id,
		    const char *why)
{
	struct le *le;

	while ((le = list_head(sides))) {
		struct bt_rt *rt = le->data;
		json_t *o = rt_ev_new("banter.call_ended");

		list_unlink(le);
		json_object_set_new(o, "call_id", json_string(call_id));
		json_object_set_new(o, "reason", json_string(why));
		rt_send_json(rt, o);
		rt->closing = true;
		/* the owner frees rt later, from a message of its own */
		rt->closeh(1000, "the call ended", rt->arg);
	}
}

bool rt_side_allowed(struct bt_rt *rt, const struct bt_rt_event *ev)
{
	const char *type = json_string_value(json_object_get(ev->root,
							     "type"));
	char msg[256];

	switch (ev->type) {
	case BT_RT_AUDIO_APPEND:
	case BT_RT_AUDIO_COMMIT:
	case BT_RT_AUDIO_CLEAR:
	case BT_RT_ITEM_TRUNCATE:
		/* the caller's audio and what they heard are the phone
		 * line's: a sideband watches and steers, it does not talk */
		snprintf(msg, sizeof(msg), "%s is not supported on a sideband "
			 "connection: the call's audio goes over its phone "
			 "line; use conversation.item.create with text, "
			 "response.create or response.cancel",
			 type ? type : "this event");
		rt_send_error(rt, "invalid_request_error",
			      "unsupported_on_sideband", msg, "type",
			      ev->event_id);
		return false;
	default:
		return true;
	}
}
