/*
 * A Realtime session's input audio (src/transport/rt_session.c), driven by
 * hand inside one call on its event loop, so that what happens at once is
 * told from what waits for a tick (none runs until the call returns): a
 * manual-turn commit whose audio ends inside a 20 ms frame is committed at
 * once, with its last words, and not when the line has been quiet for a
 * while; the client's chunks need not be whole frames.
 */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>
#include "banter/banter.h"
#include "transport/realtime.h"
#include "net/loop.h"

enum { MAX_EVENTS = 256 };

struct client {
	json_t *events[MAX_EVENTS];
	size_t n;
	unsigned closes;
};

static void on_send(const char *js, size_t len, void *arg)
{
	struct client *c = arg;
	json_t *o = json_loadb(js, len, 0, NULL);

	assert_non_null(o);
	if (c->n < MAX_EVENTS)
		c->events[c->n++] = o;
	else
		json_decref(o);
}

static void on_close(uint16_t code, const char *reason, void *arg)
{
	struct client *c = arg;

	(void)code;
	(void)reason;
	++c->closes;
}

static const char *type_at(const struct client *c, size_t i)
{
	return json_string_value(json_object_get(c->events[i], "type"));
}

static size_t count_type(const struct client *c, const char *type)
{
	size_t k = 0;

	for (size_t i = 0; i < c->n; i++)
		k += type_at(c, i) && !strcmp(type_at(c, i), type);
	return k;
}

static const json_t *find_type(const struct client *c, const char *type)
{
	for (size_t i = 0; i < c->n; i++)
		if (type_at(c, i) && !strcmp(type_at(c, i), type))
			return c->events[i];
	return NULL;
}

static struct bt_agent *agent;

static int setup(void **state)
{
	(void)state;
	if (libre_init() || bt_init() || bt_loops_start(1))
		return -1;
	return bt_agent_load(&agent, "agents/restaurant.json") ? -1 : 0;
}

static int teardown(void **state)
{
	(void)state;
	agent = mem_deref(agent);
	bt_loops_stop();
	bt_close();
	libre_close();
	return 0;
}

static void recv_str(struct bt_rt *rt, const char *js)
{
	bt_rt_recv(rt, js, strlen(js));
}

/* append pcm (24 kHz) in chunks of `chunk` samples */
static void append(struct bt_rt *rt, const int16_t *pcm, size_t n,
		   size_t chunk)
{
	static char b64[4 * 4800], msg[4 * 4800 + 100];

	for (size_t i = 0; i < n; i += chunk) {
		size_t k = n - i < chunk ? n - i : chunk, bl = sizeof(b64);

		assert_int_equal(base64_encode((const uint8_t *)(pcm + i),
					       k * 2, b64, &bl), 0);
		snprintf(msg, sizeof(msg), "{\"type\":\"input_audio_buffer."
			 "append\",\"audio\":\"%.*s\"}", (int)bl, b64);
		recv_str(rt, msg);
	}
}

/* what the loop saw, asserted on the test's thread */
struct result {
	pthread_mutex_t mx;
	pthread_cond_t cv;
	bool done;
	int err;                 /* a step that failed, or 0 */
	size_t errors_before;    /* error events before the commit */
	size_t committed_before, committed_at_once, committed_twice;
	size_t errors_after;
	char transcript[64];
};

static void on_loop(void *arg)
{
	struct result *r = arg;
	struct bt_rt_prm prm = {.greet = false, .db_path = ":memory:"};
	struct client c = {0};
	struct bt_rt *rt = NULL;
	int16_t *pcm = NULL, *pcm24 = NULL;
	size_t n = 0, n24 = 0;
	uint32_t rate = 0;
	const json_t *tr;

	r->err = bt_wav_read("tests/data/stt_yes_slt.wav", &pcm, &n, &rate);
	if (!r->err)
		r->err = bt_resample_buf(pcm, n, rate, 24000, &pcm24, &n24);
	if (!r->err)
		r->err = bt_rt_alloc(&rt, agent, NULL, &prm, on_send,
				     on_close, &c);
	if (r->err)
		goto out;
	recv_str(rt, "{\"type\":\"session.update\",\"session\":{\"type\":"
		 "\"realtime\",\"output_modalities\":[\"text\"],\"audio\":"
		 "{\"input\":{\"turn_detection\":null}}}}");
	/* 30 ms chunks (1.5 frames), and the audio cut 10 ms into a frame:
	 * the last chunk leaves part of a frame queued */
	n24 -= n24 % 480;
	n24 -= 240;
	append(rt, pcm24, n24, 720);
	r->errors_before = count_type(&c, "error");
	r->committed_before = count_type(&c, "input_audio_buffer.committed");
	recv_str(rt, "{\"type\":\"input_audio_buffer.commit\"}");
	r->committed_at_once = count_type(&c, "input_audio_buffer.committed");
	tr = find_type(&c, "conversation.item.input_audio_transcription."
		       "completed");
	if (tr)
		snprintf(r->transcript, sizeof(r->transcript), "%s",
			 json_string_value(json_object_get(tr, "transcript")));
	/* a second commit with nothing since: refused, as the API does */
	recv_str(rt, "{\"type\":\"input_audio_buffer.commit\"}");
	r->committed_twice = count_type(&c, "input_audio_buffer.committed");
	r->errors_after = count_type(&c, "error");
 out:
	mem_deref(rt);
	mem_deref(pcm);
	mem_deref(pcm24);
	for (size_t i = 0; i < c.n; i++)
		json_decref(c.events[i]);
	pthread_mutex_lock(&r->mx);
	r->done = true;
	pthread_cond_signal(&r->cv);
	pthread_mutex_unlock(&r->mx);
}

static void test_commit_inside_a_frame(void **state)
{
	struct result r = {.mx = PTHREAD_MUTEX_INITIALIZER,
			   .cv = PTHREAD_COND_INITIALIZER};
	(void)state;

	assert_int_equal(bt_loop_call(bt_loop_at(0), on_loop, &r), 0);
	pthread_mutex_lock(&r.mx);
	while (!r.done)
		pthread_cond_wait(&r.cv, &r.mx);
	pthread_mutex_unlock(&r.mx);

	assert_int_equal(r.err, 0);
	assert_int_equal(r.errors_before, 0);
	assert_int_equal(r.committed_before, 0);
	/* no tick ran: committed at once, what was said heard */
	assert_int_equal(r.committed_at_once, 1);
	assert_string_equal(r.transcript, "yes please");
	assert_int_equal(r.committed_twice, 1);
	assert_int_equal(r.errors_after, 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_commit_inside_a_frame),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
