/**
 * @file call_events.c  `banter call`: the agent's side, the server's
 * Realtime events as the caller hears them: the reply's audio and its
 * playout clock, transcripts, the end of each response and its row in
 * the latency table, errors.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <re.h>
#include "banter/banter.h"
#include "app.h"
#include "caller.h"
#include "call_int.h"

/* ---- the agent's side: server events ---- */

static void add_row(struct call *c, const json_t *turn)
{
	char extra[32];

	if (c->n_rows >= MAX_ROWS)
		return;
	if (c->resp_v2v >= 0)
		snprintf(extra, sizeof(extra), " %8lld",
			 (long long)c->resp_v2v);
	else
		snprintf(extra, sizeof(extra), " %8s", "-");
	if (caller_table_row(c->rows[c->n_rows], sizeof(c->rows[0]), turn,
			     extra))
		++c->n_rows;
}

static void append_text(char *buf, size_t sz, const char *s)
{
	size_t n = strlen(buf);

	if (n + 1 < sz)
		snprintf(buf + n, sz - n, "%s", s);
}

static void on_audio_delta(struct call *c, const json_t *ev, uint64_t now)
{
	const char *b64 = call_jstr(ev, "delta");
	size_t len = strlen(b64), bytes;

	if (strcmp(call_jstr(ev, "response_id"), c->resp_id))
		return;
	if (!c->resp_audio) {
		c->resp_audio = true;
		c->speak_start = now;
		c->resp_v2v = c->spoken_end >= 0 && (uint64_t)c->spoken_end
			<= now ? (int64_t)now - c->spoken_end : -1;
	}
	bytes = len / 4 * 3;
	if (len >= 1 && b64[len - 1] == '=')
		--bytes;
	if (len >= 2 && b64[len - 2] == '=')
		--bytes;
	/* played at RATE from now, or after what is still playing */
	if (c->played_until < (double)now)
		c->played_until = (double)now;
	c->played_until += (double)(bytes / 2) * 1000.0 / RATE;
}

static void on_response_done(struct call *c, const json_t *ev, uint64_t now)
{
	const json_t *r = json_object_get(ev, "response");
	const char *status = call_jstr(r, "status");
	const char *reason = call_jstr(json_object_get(r, "status_details"),
				  "reason");
	bool completed = !strcmp(status, "completed");

	/* a whole reply as heard; a cut one as planned (simulate prints
	 * each sentence as it is said), what was heard follows */
	caller_heard_add(c->heard, c->resp_heard[0] ? c->resp_heard :
			 completed ? c->resp_text : NULL);
	if (completed && (c->resp_heard[0] || c->resp_text[0]))
		caller_print(c->quiet, now, "agent:  %s", c->resp_heard[0] ?
			 c->resp_heard : c->resp_text);
	else if (!completed)
		caller_print(c->quiet, now, "agent:  %s  [cancelled]", c->resp_text[0] ?
			 c->resp_text : "(nothing yet)");
	if (!completed) {
		++c->cancelled;
		if (!strcmp(reason, "turn_detected")) {
			++c->barge_ins;
			caller_print(c->quiet, now, "  -- barge-in: the agent stopped; the "
				 "caller heard \"%s\"", c->resp_heard);
		}
		else {
			caller_print(c->quiet, now, "  -- response cancelled (%s)",
				 reason[0] ? reason : status);
		}
		/* the client stops playing what it still had */
		c->played_until = (double)now;
	}
	else if (c->bc_pending) {
		++c->backchannels;
		caller_print(c->quiet, now, "  -- backchannel: the agent went on");
	}
	c->bc_pending = false;
	if (c->resp_audio || completed) {
		c->last_stop = (uint64_t)ceil(c->played_until);
		if (c->last_stop < now)
			c->last_stop = now;
	}
	c->resp_active = false;
}

static void on_event(struct call *c, const json_t *ev, uint64_t now)
{
	const char *type = call_jstr(ev, "type");

	if (!strcmp(type, "response.output_audio.delta")) {
		on_audio_delta(c, ev, now);
	}
	else if (!strcmp(type, "session.created")) {
		c->session_seen = true;
		if (!c->quiet)
			caller_print(c->quiet, now, "-- connected: session %s, agent "
				 "\"%s\"", call_jstr(json_object_get(ev, "session"),
						"id"),
				 call_jstr(json_object_get(ev, "session"), "model"));
	}
	else if (!strcmp(type, "response.created")) {
		const json_t *r = json_object_get(ev, "response");

		c->resp_active = true;
		c->resp_audio = false;
		c->resp_v2v = -1;
		c->resp_text[0] = c->resp_heard[0] = '\0';
		snprintf(c->resp_id, sizeof(c->resp_id), "%s", call_jstr(r, "id"));
		++c->n_resp;
	}
	else if (!strcmp(type, "response.output_audio_transcript.delta") ||
		 !strcmp(type, "response.output_text.delta")) {
		append_text(c->resp_text, sizeof(c->resp_text),
			    call_jstr(ev, "delta"));
	}
	else if (!strcmp(type, "response.output_audio_transcript.done")) {
		snprintf(c->resp_heard, sizeof(c->resp_heard), "%s",
			 call_jstr(ev, "transcript"));
	}
	else if (!strcmp(type, "response.output_text.done")) {
		snprintf(c->resp_heard, sizeof(c->resp_heard), "%s",
			 call_jstr(ev, "text"));
	}
	else if (!strcmp(type, "response.done")) {
		on_response_done(c, ev, now);
	}
	else if (!strcmp(type, "banter.turn")) {
		add_row(c, json_object_get(ev, "turn"));
	}
	else if (!strcmp(type, "conversation.item.input_audio_"
			 "transcription.completed")) {
		caller_print(c->quiet, now, "  agent heard: \"%s\"",
			 call_jstr(ev, "transcript"));
	}
	else if (!strcmp(type, "input_audio_buffer.speech_started")) {
		/* the user took the turn: a client stops its playback */
		if ((double)now < c->played_until)
			c->played_until = (double)now;
	}
	else if (!strcmp(type, "error")) {
		const json_t *e = json_object_get(ev, "error");

		caller_print(c->quiet, now, "  !! %s (%s%s%s)", call_jstr(e, "message"),
			 call_jstr(e, "type"), json_is_string(json_object_get(
				 e, "code")) ? ", " : "", call_jstr(e, "code"));
		/* a mistake in what this client sent */
		if (!strcmp(call_jstr(e, "type"), "invalid_request_error") &&
		    !c->proto_err[0])
			snprintf(c->proto_err, sizeof(c->proto_err),
				 "%s: %s", call_jstr(e, "code"),
				 call_jstr(e, "message"));
	}
}

void call_ws_recv(bool text, const uint8_t *buf, size_t n, void *arg)
{
	struct call *c = arg;
	const char *p = (const char *)buf;
	uint64_t now = call_now_ms(c);
	json_error_t jerr;
	json_t *ev;

	if (c->finished)
		return;
	if (!text) {
		call_finish(c, 1, "protocol error: the server sent a binary "
		       "message; Realtime events are text (JSON)");
		return;
	}
	ev = json_loadb(p, n, 0, &jerr);
	if (!json_is_object(ev) || !json_is_string(json_object_get(ev,
								    "type"))) {
		call_finish(c, 1, "protocol error: the server sent an event that "
		       "is not a JSON object with a \"type\" (%s): %.*s",
		       ev ? "no type" : jerr.text, (int)(n > 200 ? 200 : n),
		       p);
		json_decref(ev);
		return;
	}
	if (c->trace) {
		if (memchr(p, '\n', n)) {
			char *s = json_dumps(ev, JSON_COMPACT);
			if (s)
				fprintf(c->trace, "%s\n", s);
			free(s);
		}
		else {
			fwrite(p, 1, n, c->trace);
			fputc('\n', c->trace);
		}
	}
	on_event(c, ev, now);
	json_decref(ev);
}
