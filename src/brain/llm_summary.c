/**
 * @file llm_summary.c  The summary of a call written by the model, for
 *                      the caller's next call (memory across calls).
 *
 * The brain is freed when the call ends, so the request cannot belong to
 * it: each summary belongs to the list of the thread that started it (a
 * session's loop; the simulator's thread) and frees itself when its
 * request is over. Every failure (no connection, HTTP error, timeout, an
 * error event, a malformed stream, an empty answer) stores the extractive
 * summary instead and says so on stderr (the call's trace is closed by
 * then). A program that stops waits for the pending ones
 * (bt_llm_summaries_wait), so a summary is never lost at shutdown.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include "brain/llm_int.h"
#include "brain/llm_summary.h"
#include "net/http.h"
#include "net/loop.h"
#include "net/sse.h"

#define TRANSCRIPT_MAX 12000     /* bytes of the call sent, its end kept */
#define SUMMARY_TOKENS 200
#define TEXT_MAX 4096
#define SUMMARY_MAX 1000         /* bytes stored */

static const char instruction[] =
	"You keep notes for a phone agent. Read the transcript of a call "
	"and write a short note for the agent's next call with the same "
	"caller: who they are if they said, what they wanted, what was done "
	"or agreed (bookings, dates, times, numbers) and anything left open. "
	"At most three sentences of plain text, no preamble.";

struct summ {
	struct le le;
	struct llm_target t;
	char db[512], caller[128];
	char extract[1024];            /* the fallback */
	struct bt_http *http;
	struct bt_sse *sse;
	struct mbuf *text;
	char serr[300];
	bool stream_end, finished;
	bool counted;                  /* in n_pending */
};

/* this thread's pending summaries */
static _Thread_local struct list pending;

/* all threads': what a stopping program waits for */
static pthread_mutex_t mtx = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cond = PTHREAD_COND_INITIALIZER;
static unsigned n_pending, barriers_ran;
static uint32_t longest_ms;

static void summ_destructor(void *arg)
{
	struct summ *s = arg;

	list_unlink(&s->le);
	mem_deref(s->http);
	mem_deref(s->sse);
	mem_deref(s->text);
	if (!s->counted)
		return;
	pthread_mutex_lock(&mtx);
	n_pending--;
	pthread_cond_broadcast(&cond);
	pthread_mutex_unlock(&mtx);
}

/* The request is over: the model's words, or (why) the extractive ones. */
static void finish(struct summ *s, const char *why)
{
	char out[1024];
	size_t b = 0, e;

	if (!why) {
		const char *p = (const char *)s->text->buf;

		e = s->text->end;
		while (b < e && (p[b] == ' ' || p[b] == '\n' || p[b] == '\t'))
			b++;
		while (e > b && (p[e - 1] == ' ' || p[e - 1] == '\n' ||
				 p[e - 1] == '\t'))
			e--;
		if (e - b > SUMMARY_MAX) {
			/* cut on a character's first byte: the store and
			 * the next call's JSON want whole UTF-8 */
			e = b + SUMMARY_MAX;
			while (e > b && ((unsigned char)p[e] & 0xc0) == 0x80)
				e--;
		}
		if (e == b)
			why = "its answer had no text";
		else
			snprintf(out, sizeof(out), "%.*s", (int)(e - b),
				 p + b);
	}
	if (why) {
		fprintf(stderr, "banter: memory: the summary of %s's call by "
			"%s model \"%s\" failed (%s); stored the extractive "
			"summary instead\n", s->caller, s->t.provider,
			s->t.model, why);
		str_ncpy(out, s->extract, sizeof(out));
	}
	llm_memory_store(s->db, s->caller, out);
	mem_deref(s);
}

static void on_text(const char *text, void *arg)
{
	struct summ *s = arg;

	if (s->text->end + strlen(text) < TEXT_MAX)
		(void)mbuf_write_str(s->text, text);
}

static void on_tool(unsigned index, const char *id, const char *name,
		    const char *args, void *arg)
{
	(void)index;
	(void)id;
	(void)name;
	(void)args;
	(void)arg;
}

static void on_finish(const char *reason, void *arg)
{
	struct summ *s = arg;

	(void)reason;
	s->finished = true;
}

static void on_serror(const char *msg, void *arg)
{
	struct summ *s = arg;

	str_ncpy(s->serr, msg, sizeof(s->serr));
}

static int on_event(const char *event, const char *data, size_t len,
		    void *arg)
{
	struct summ *s = arg;
	struct llm_stream_h h = {on_text, on_tool, on_finish, on_serror, s};
	int err;

	(void)len;
	err = llm_wire_event(s->t.wire, event, data, &h, &s->stream_end);
	if (err)
		snprintf(s->serr, sizeof(s->serr), "a malformed event in the "
			 "stream: %.120s", data);
	return err;
}

static int on_data(const char *buf, size_t n, void *arg)
{
	struct summ *s = arg;

	return bt_sse_feed(s->sse, buf, n);
}

static void on_done(const struct bt_http_result *res, void *arg)
{
	struct summ *s = arg;
	char why[600];

	s->http = mem_deref(s->http);
	if (res->status && (res->status < 200 || res->status >= 300)) {
		char m[400];

		llm_wire_errmsg(res->body, m, sizeof(m));
		snprintf(why, sizeof(why), "HTTP %ld: %s", res->status, m);
		finish(s, why);
		return;
	}
	if (s->serr[0]) {
		finish(s, s->serr);
		return;
	}
	if (res->err) {
		finish(s, res->errmsg && res->errmsg[0] ? res->errmsg :
		       "the request failed");
		return;
	}
	if (!s->stream_end && !s->finished) {
		finish(s, "the stream ended before the model finished");
		return;
	}
	finish(s, NULL);
}

/* The call as lines of text: tool calls in a history need the tools
 * declared, which a summary request has no use for. */
static json_t *transcript_msg(const char *history_json, const json_t *call)
{
	json_t *msgs = call ? json_incref((json_t *)call) :
		llm_history_msgs(history_json, NULL, SUMMARY_HISTORY_TOKENS);
	struct mbuf *mb = mbuf_alloc(2048);
	json_t *it, *c, *out = NULL;
	size_t i, j, skip = 0;

	if (!msgs || !mb)
		goto out;
	json_array_foreach(msgs, i, it) {
		const char *role = json_string_value(json_object_get(it,
								     "role"));
		const char *text = json_string_value(json_object_get(it,
								     "content"));

		if (!role)
			continue;
		if (!strcmp(role, "user") && text)
			(void)mbuf_printf(mb, "Caller: %s\n", text);
		else if (!strcmp(role, "assistant")) {
			if (text && text[0])
				(void)mbuf_printf(mb, "Agent: %s%s\n", text,
					json_is_true(json_object_get(it,
					"interrupted")) ? " (interrupted)" :
					"");
			json_array_foreach(json_object_get(it, "tool_calls"),
					   j, c)
				(void)mbuf_printf(mb, "Agent ran %s(%s)\n",
					json_string_value(json_object_get(c,
								"name")),
					json_string_value(json_object_get(c,
							"arguments")));
		}
		else if (!strcmp(role, "tool") && text)
			(void)mbuf_printf(mb, "Result of %s: %s\n",
					  json_string_value(json_object_get(
						  it, "name")), text);
		else if (!strcmp(role, "system") && text)
			(void)mbuf_printf(mb, "Note: %s\n", text);
	}
	if (!mb->end)
		goto out;
	/* the end of a long call matters most */
	if (mb->end > TRANSCRIPT_MAX) {
		/* from a line's start: whole characters and lines */
		skip = mb->end - TRANSCRIPT_MAX;
		while (skip < mb->end && mb->buf[skip - 1] != '\n')
			skip++;
	}
	{
		struct mbuf *m2 = mbuf_alloc(mb->end - skip + 100);

		if (m2 && !mbuf_printf(m2, "Transcript of the call:\n%b\n"
				       "Write the note.", mb->buf + skip,
				       mb->end - skip))
			out = json_pack("[{s:s,s:s%}]", "role", "user",
					"content", (const char *)m2->buf,
					m2->end);
		mem_deref(m2);
	}
 out:
	json_decref(msgs);
	mem_deref(mb);
	return out;
}

void llm_summary_start(const struct llm_target *t, const char *db,
		       const char *caller, const char *history_json,
		       const json_t *call, const json_t *facts,
		       const char *extract, uint32_t timeout_ms)
{
	struct summ *s;
	struct llm_req rq;
	struct bt_http_prm prm;
	char hdr[4][300];
	const char *hdrs[5];
	json_t *msgs = NULL;
	char *body = NULL;
	const char *why = NULL;
	int err;

	if (!caller || !caller[0] || (!history_json && !call))
		return;
	s = mem_zalloc(sizeof(*s), summ_destructor);
	if (!s) {
		if (extract)
			llm_memory_store(db, caller, extract);
		else
			llm_memory_write(db, caller, history_json, facts);
		return;
	}
	s->t = *t;
	str_ncpy(s->db, db, sizeof(s->db));
	str_ncpy(s->caller, caller, sizeof(s->caller));
	if (extract)
		str_ncpy(s->extract, extract, sizeof(s->extract));
	else
		llm_memory_extract(history_json, facts, s->extract,
				   sizeof(s->extract));
	if (!s->extract[0]) {
		/* nobody said anything: nothing to remember */
		mem_deref(s);
		return;
	}
	pthread_mutex_lock(&mtx);
	n_pending++;
	if (timeout_ms > longest_ms)
		longest_ms = timeout_ms;
	pthread_mutex_unlock(&mtx);
	s->counted = true;
	list_append(&pending, &s->le, s);

	s->text = mbuf_alloc(512);
	err = s->text ? bt_sse_alloc(&s->sse, 0, on_event, s) : ENOMEM;
	if (err) {
		finish(s, "out of memory");
		return;
	}
	msgs = transcript_msg(history_json, call);
	if (!msgs) {
		finish(s, "cannot write the call's transcript");
		return;
	}
	memset(&rq, 0, sizeof(rq));
	rq.t = &s->t;
	rq.system = instruction;
	rq.max_tokens = SUMMARY_TOKENS;
	rq.temperature = -1;
	err = llm_wire_body(&rq, msgs, &body);
	json_decref(msgs);
	if (err) {
		finish(s, "cannot write the request");
		return;
	}
	llm_wire_headers(&s->t, hdr, hdrs);
	memset(&prm, 0, sizeof(prm));
	prm.method = "POST";
	prm.url = s->t.url;
	prm.headers = hdrs;
	prm.body = body;
	prm.body_len = strlen(body);
	prm.timeout_ms = timeout_ms;
	prm.connect_timeout_ms = timeout_ms;
	err = bt_http_start(&s->http, &prm, on_data, on_done, s);
	mem_deref(body);
	if (err) {
		why = bt_errmsg();
		finish(s, why && why[0] ? why : "cannot start the request");
	}
}

/* ---- a stopping program ---- */

static void abort_all(void)
{
	while (pending.head)
		finish(pending.head->data, "the program stopped before the "
		       "model answered");
}

static void barrier_h(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&mtx);
	barriers_ran++;
	pthread_cond_broadcast(&cond);
	pthread_mutex_unlock(&mtx);
}

void llm_deadline(struct timespec *ts, uint32_t ms)
{
	clock_gettime(CLOCK_REALTIME, ts);
	ts->tv_sec += ms / 1000;
	ts->tv_nsec += (long)(ms % 1000) * 1000000L;
	if (ts->tv_nsec >= 1000000000L) {
		ts->tv_sec++;
		ts->tv_nsec -= 1000000000L;
	}
}

static void abort_h(void *arg)
{
	(void)arg;
	abort_all();
}

/* One barrier per loop, waited for until end: what each loop had queued
 * has run. */
static void loops_barrier(unsigned n_loops, const struct timespec *end)
{
	unsigned posted = 0, start;

	pthread_mutex_lock(&mtx);
	start = barriers_ran;
	pthread_mutex_unlock(&mtx);
	for (unsigned i = 0; i < n_loops; i++)
		if (!bt_loop_call(bt_loop_at(i), barrier_h, NULL))
			posted++;
	pthread_mutex_lock(&mtx);
	while (barriers_ran - start < posted &&
	       pthread_cond_timedwait(&cond, &mtx, end) != ETIMEDOUT)
		;
	pthread_mutex_unlock(&mtx);
}

/*
 * Two rounds: what the queued messages post in turn runs too. A client
 * that closed posts IN_CLOSE, whose handler posts the session's free (a
 * message of its own, not inside the session's tick); with one round the
 * barrier could run between the two and a late tool or summary that the
 * free hands over would come after the wait had looked (seen in CI: a
 * server that stopped at once and lost a late tool's result).
 */
void llm_loops_sync(uint32_t bound_ms)
{
	struct timespec end;
	unsigned n_loops = bt_loops_count();

	if (!n_loops || bt_loop_current())
		return;
	llm_deadline(&end, bound_ms);
	loops_barrier(n_loops, &end);
	loops_barrier(n_loops, &end);
}

void bt_llm_summaries_wait(void)
{
	struct timespec end;
	unsigned n_loops = bt_loops_count(), left;
	uint32_t bound;

	if (pending.head) {
		/* this thread's own (the simulator): run them here */
		uint64_t t_end;

		pthread_mutex_lock(&mtx);
		t_end = tmr_jiffies() + longest_ms + 1000;
		pthread_mutex_unlock(&mtx);
		while (pending.head && tmr_jiffies() < t_end)
			if (!bt_http_pump((uint32_t)(t_end - tmr_jiffies())))
				break;
		abort_all();
		return;
	}
	if (!n_loops || bt_loop_current())
		return;
	/* A session freed just now may still start its summary: its free
	 * is queued on its loop, so wait until each loop has run what was
	 * queued before a barrier; the bound is read after that, so that it
	 * covers the summaries those frees started. */
	pthread_mutex_lock(&mtx);
	bound = longest_ms + 1000;
	pthread_mutex_unlock(&mtx);
	llm_loops_sync(bound);
	pthread_mutex_lock(&mtx);
	llm_deadline(&end, longest_ms + 1000);
	while (n_pending &&
	       pthread_cond_timedwait(&cond, &mtx, &end) != ETIMEDOUT)
		;
	left = n_pending;
	pthread_mutex_unlock(&mtx);
	if (!left)
		return;
	/* past the bound: the extractive summaries, before the loops stop
	 * (their queues run in order) */
	for (unsigned i = 0; i < n_loops; i++)
		(void)bt_loop_call(bt_loop_at(i), abort_h, NULL);
}
