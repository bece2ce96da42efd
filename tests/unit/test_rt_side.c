/*
 * Sidebands (src/transport/rt_side.c): several Realtime views of one call,
 * each with its own events; DTMF's shape; what a sideband may not send
 * gets an error to it alone; the call's end closes each once with a last
 * event and empties the list; a sideband freed first leaves the list and
 * the call's own event handler alone. The session is the restaurant
 * agent's, driven by hand (no loop: nothing here waits for one).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>
#include "banter/banter.h"
#include "transport/realtime.h"

enum { MAX_EVENTS = 64 };

/* what one sideband's client got */
struct client {
	json_t *events[MAX_EVENTS];
	size_t n;
	unsigned closes;
	uint16_t code;
	char reason[64];
};

static void client_reset(struct client *c)
{
	for (size_t i = 0; i < c->n; i++)
		json_decref(c->events[i]);
	memset(c, 0, sizeof(*c));
}

static void on_send(const char *js, size_t len, void *arg)
{
	struct client *c = arg;
	json_t *o = json_loadb(js, len, 0, NULL);

	assert_non_null(o);
	assert_true(c->n < MAX_EVENTS);
	c->events[c->n++] = o;
}

static void on_close(uint16_t code, const char *reason, void *arg)
{
	struct client *c = arg;

	++c->closes;
	c->code = code;
	snprintf(c->reason, sizeof(c->reason), "%s", reason);
}

static const char *type_at(const struct client *c, size_t i)
{
	return i < c->n ? json_string_value(json_object_get(c->events[i],
							     "type")) : NULL;
}

static size_t count_type(const struct client *c, const char *type)
{
	size_t k = 0;

	for (size_t i = 0; i < c->n; i++)
		k += type_at(c, i) && !strcmp(type_at(c, i), type);
	return k;
}

static unsigned call_events;
static void on_call_event(const struct bt_event *ev, void *arg)
{
	(void)ev;
	(void)arg;
	++call_events;
}

static struct bt_agent *agent;

static int setup(void **state)
{
	(void)state;
	if (libre_init() || bt_init())
		return -1;
	return bt_agent_load(&agent, "agents/restaurant.json") ? -1 : 0;
}

static int teardown(void **state)
{
	(void)state;
	agent = mem_deref(agent);
	bt_close();
	libre_close();
	return 0;
}

static struct bt_session *call_session(void)
{
	struct bt_session *s = NULL;

	if (bt_session_alloc(&s, agent, NULL, on_call_event, NULL))
		fail_msg("session: %s", bt_errmsg());
	return s;
}

static void send_event(const struct list *sides, enum bt_event_type type,
		       const char *text, const char *json)
{
	struct bt_event ev;

	memset(&ev, 0, sizeof(ev));
	ev.type = type;
	ev.text = text;
	ev.json = json;
	ev.item_id = "item_r1";
	bt_rt_side_event(sides, &ev);
}

static void test_several_then_end(void **state)
{
	struct bt_session *s = call_session();
	struct list sides = LIST_INIT;
	struct bt_rt *a = NULL, *b = NULL;
	struct client ca, cb;
	static const char app[] = "{\"type\":\"input_audio_buffer.append\","
		"\"event_id\":\"e1\",\"audio\":\"AAAA\"}";
	json_t *d, *err;
	(void)state;

	memset(&ca, 0, sizeof(ca));
	memset(&cb, 0, sizeof(cb));
	assert_int_equal(bt_rt_side_alloc(&a, s, agent, NULL, &sides, on_send,
					  on_close, &ca), 0);
	assert_int_equal(bt_rt_side_alloc(&b, s, agent, NULL, &sides, on_send,
					  on_close, &cb), 0);
	assert_int_equal(list_count(&sides), 2);
	assert_string_equal(type_at(&ca, 0), "session.created");
	assert_string_equal(type_at(&cb, 0), "session.created");

	/* a key: both get it, in the API's shape */
	bt_rt_side_dtmf(&sides, '7');
	d = ca.events[1];
	assert_string_equal(type_at(&ca, 1),
			    "input_audio_buffer.dtmf_event_received");
	assert_string_equal(json_string_value(json_object_get(d, "event")),
			    "7");
	assert_true(json_is_integer(json_object_get(d, "received_at")));
	assert_true(llabs((long long)json_integer_value(json_object_get(
		d, "received_at")) - (long long)time(NULL)) < 5);
	assert_string_equal(type_at(&cb, 1),
			    "input_audio_buffer.dtmf_event_received");

	/* audio from a sideband: an error to it alone */
	bt_rt_recv(a, app, sizeof(app) - 1);
	assert_int_equal(ca.n, 3);
	assert_int_equal(cb.n, 2);
	err = json_object_get(ca.events[2], "error");
	assert_string_equal(json_string_value(json_object_get(err, "code")),
			    "unsupported_on_sideband");
	assert_string_equal(json_string_value(json_object_get(err,
							      "event_id")),
			    "e1");

	/* the call's reply: the response's events, no audio deltas */
	send_event(&sides, BT_EV_REPLY, NULL,
		   "{\"kind\":\"reply\",\"audio\":true}");
	send_event(&sides, BT_EV_AGENT, "What day?", NULL);
	send_event(&sides, BT_EV_AGENT_DONE, "What day?", "{}");
	for (struct client *c = &ca; c; c = c == &ca ? &cb : NULL) {
		assert_int_equal(count_type(c, "response.created"), 1);
		assert_int_equal(count_type(c, "response.output_audio_transcript"
					    ".delta"), 1);
		assert_int_equal(count_type(c, "response.done"), 1);
		assert_int_equal(count_type(c, "response.output_audio.delta"),
				 0);
	}

	/* b leaves: a stays; the call's own handler is untouched */
	b = mem_deref(b);
	assert_int_equal(list_count(&sides), 1);
	bt_rt_side_dtmf(&sides, '#');
	assert_int_equal(count_type(&ca,
		"input_audio_buffer.dtmf_event_received"), 2);
	assert_int_equal(count_type(&cb,
		"input_audio_buffer.dtmf_event_received"), 1);
	assert_int_equal(cb.closes, 0);

	/* the call ends: a last event, one close, the list empty */
	bt_rt_side_end(&sides, "rtc_x", "the call ended");
	assert_int_equal(list_count(&sides), 0);
	assert_int_equal(ca.closes, 1);
	assert_int_equal(ca.code, 1000);
	assert_string_equal(ca.reason, "the call ended");
	assert_string_equal(type_at(&ca, ca.n - 1), "banter.call_ended");
	assert_string_equal(json_string_value(json_object_get(
		ca.events[ca.n - 1], "call_id")), "rtc_x");
	bt_rt_side_end(&sides, "rtc_x", "again");
	assert_int_equal(ca.closes, 1);

	/* the owner frees it later: the call's events still reach the call */
	a = mem_deref(a);
	call_events = 0;
	assert_int_equal(bt_session_start(s), 0);
	assert_true(call_events > 0);
	mem_deref(s);
	client_reset(&ca);
	client_reset(&cb);
}

/* The call's session is made again (another codec rate): the sidebands
 * follow it, and the old one can go. */
static void test_rebind(void **state)
{
	struct bt_session *s1 = call_session(), *s2 = call_session();
	struct list sides = LIST_INIT;
	struct bt_rt *a = NULL;
	struct client ca;
	static const char upd[] = "{\"type\":\"session.update\",\"session\":"
		"{\"type\":\"realtime\",\"instructions\":\"Be brief.\"}}";
	(void)state;

	memset(&ca, 0, sizeof(ca));
	assert_int_equal(bt_rt_side_alloc(&a, s1, agent, NULL, &sides, on_send,
					  on_close, &ca), 0);
	bt_rt_side_rebind(&sides, s2);
	mem_deref(s1);
	bt_rt_recv(a, upd, sizeof(upd) - 1);
	assert_string_equal(type_at(&ca, ca.n - 1), "session.updated");
	mem_deref(a);
	mem_deref(s2);
	client_reset(&ca);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_several_then_end),
		cmocka_unit_test(test_rebind),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
