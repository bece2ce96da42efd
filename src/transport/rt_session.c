/**
 * @file rt_session.c  One Realtime connection's protocol state, on the
 *                     event loop of its bt_session.
 *
 * The client's audio goes into the call as it arrives (up to
 * ARRIVAL_FRAMES of an append at once, the rest of a burst through a FIFO
 * at CATCHUP_FRAMES a tick); a 20 ms loop tick pushes a silent frame when
 * a client sends nothing, and pulls one frame of agent audio, which
 * leaves at once as a response.output_audio.delta. Agent audio therefore
 * leaves at the pace it is played, as on a phone line: what was sent is
 * what the user can have heard, and a client's truncate cuts it further.
 */
#include "transport/rt_int.h"

static int make_resamplers(struct bt_rt *rt);
static int fifo_put(struct bt_rt *rt, const int16_t *pcm, size_t n);
static void append_audio(struct bt_rt *rt, const struct bt_rt_event *ev);
static void start_call(struct bt_rt *rt);
static void do_commit(struct bt_rt *rt);
static void push_frame(struct bt_rt *rt);
static void pull_frame(struct bt_rt *rt);
static void tick(void *arg);
static const char *voice_ours(const char *v);
static void session_update(struct bt_rt *rt, const struct bt_rt_event *ev);
static void item_create(struct bt_rt *rt, const struct bt_rt_event *ev);
static void apply(struct bt_rt *rt, const struct bt_rt_event *ev);
static void ignore_event(const struct bt_event *ev, void *arg);
static void rt_destructor(void *arg);

static const struct {
	const char *openai, *ours;
} voices[] = {
	{"alloy", "flite:slt"}, {"ash", "flite:rms"}, {"ballad", "flite:awb"},
	{"coral", "espeak:en-us+f3"}, {"echo", "espeak:en-us+m3"},
	{"sage", "espeak:en-us+f4"}, {"shimmer", "espeak:en-us+f2"},
	{"verse", "espeak:en-us+m1"}, {"marin", "flite:slt"},
	{"cedar", "flite:rms"},
};

static int make_resamplers(struct bt_rt *rt)
{
	struct bt_resampler *in = NULL, *out = NULL;
	int err;

	err = bt_resampler_alloc_live(&in, rt_fmt_rate(rt->in_fmt),
				      BT_RATE_HZ);
	if (!err)
		err = bt_resampler_alloc_live(&out, BT_RATE_HZ,
					 rt_fmt_rate(rt->out_fmt));
	if (err) {
		mem_deref(in);
		mem_deref(out);
		return err;
	}
	mem_deref(rt->rs_in);
	mem_deref(rt->rs_out);
	rt->rs_in = in;
	rt->rs_out = out;
	return 0;
}

static int fifo_put(struct bt_rt *rt, const int16_t *pcm, size_t n)
{
	size_t max = (size_t)rt->prm.max_buffer_ms * BT_RATE_HZ / 1000;

	if (!n)
		return 0;
	if (rt->fifo_len + n > max)
		return EOVERFLOW;
	if (rt->fifo_len + n > rt->fifo_cap) {
		size_t cap = (rt->fifo_len + n) * 2;
		int16_t *p = rt->fifo ? mem_realloc(rt->fifo, cap * 2) :
			mem_alloc(cap * 2, NULL);
		if (!p)
			return ENOMEM;
		rt->fifo = p;
		rt->fifo_cap = cap;
	}
	memcpy(rt->fifo + rt->fifo_len, pcm, n * 2);
	rt->fifo_len += n;
	return 0;
}

static void append_audio(struct bt_rt *rt, const struct bt_rt_event *ev)
{
	static __thread uint8_t raw[MAX_APPEND];
	static __thread int16_t pcm[MAX_APPEND];
	static __thread int16_t res[MAX_APPEND * 2];
	size_t n = sizeof(raw), ns, got = 0;
	int err;

	err = bt_rt_b64_decode(ev->audio, ev->audio_len, raw, &n);
	if (err) {
		rt_send_error(rt, "invalid_request_error", "invalid_value",
			   "audio is not valid base64", "audio",
			   ev->event_id);
		return;
	}
	if (rt->in_fmt == BT_RT_FMT_PCM24) {
		if (n % 2) {
			rt_send_error(rt, "invalid_request_error",
				   "invalid_value", "audio/pcm is 16-bit: "
				   "the appended audio has an odd number of "
				   "bytes", "audio", ev->event_id);
			return;
		}
		ns = n / 2;
		memcpy(pcm, raw, n);  /* little-endian, as the API says */
	}
	else {
		ns = n;
		for (size_t i = 0; i < n; i++)
			pcm[i] = rt->in_fmt == BT_RT_FMT_PCMU ?
				g711_ulaw2pcm(raw[i]) : g711_alaw2pcm(raw[i]);
	}
	err = bt_resample(rt->rs_in, pcm, ns, res, sizeof(res) / 2, &got);
	if (!err)
		err = fifo_put(rt, res, got);
	if (err == EOVERFLOW) {
		char msg[200];
		snprintf(msg, sizeof(msg), "the input audio buffer holds more "
			 "than %u ms that was not played yet: stream audio in "
			 "real time; this append was dropped",
			 rt->prm.max_buffer_ms);
		rt_send_error(rt, "invalid_request_error",
			   "input_audio_buffer_overflow", msg, "audio",
			   ev->event_id);
		return;
	}
	if (err) {
		rt_send_error(rt, "server_error", NULL, "cannot take the audio",
			   "audio", ev->event_id);
		return;
	}
	rt->appended_ms += (uint64_t)ns * 1000 / rt_fmt_rate(rt->in_fmt);
	rt->last_append = tmr_jiffies();
	/*
	 * Into the call at once rather than at the next ticks: a frame that
	 * waits in the FIFO for its tick is latency the caller hears (the
	 * last word of a turn waited up to a chunk's length). A burst ahead
	 * of real time goes on at CATCHUP_FRAMES a tick, so one client
	 * cannot hold the loop for long.
	 */
	for (int k = 0; k < ARRIVAL_FRAMES && !rt->ended && !rt->closing &&
	     rt->fifo_len >= FRAME; k++)
		push_frame(rt);
}

static void start_call(struct bt_rt *rt)
{
	if (rt->started)
		return;
	rt->started = true;
	if (rt->prm.greet && bt_session_start(rt->s))
		rt_send_error(rt, "server_error", NULL, bt_errmsg(), NULL, NULL);
}

static void do_commit(struct bt_rt *rt)
{
	int err;

	rt->commit_pending = false;
	err = bt_session_commit(rt->s);
	if (err == ENOENT) {
		/* audio without speech: an item with nothing heard */
		struct bt_event ev;
		char id[32];

		snprintf(id, sizeof(id), "item_%s_c%u", rt->sess_id + 5,
			 ++rt->n_resp);
		memset(&ev, 0, sizeof(ev));
		ev.type = BT_EV_USER;
		ev.text = "";
		ev.item_id = id;
		rt_user_item(rt, &ev);
	}
	else if (err) {
		rt_send_error(rt, "server_error", NULL, bt_errmsg(), NULL,
			   rt->commit_evid[0] ? rt->commit_evid : NULL);
	}
}

/* One frame of the client's audio (or a silent line) into the call. */
static void push_frame(struct bt_rt *rt)
{
	int16_t in[FRAME];

	if (rt->fifo_len >= FRAME) {
		memcpy(in, rt->fifo, sizeof(in));
		rt->fifo_len -= FRAME;
		memmove(rt->fifo, rt->fifo + FRAME, rt->fifo_len * 2);
		if (rt->commit_pending)
			rt->commit_at = rt->commit_at > FRAME ?
				rt->commit_at - FRAME : 0;
	}
	else {
		/*
		 * The client sends nothing (or committed): what is left of
		 * its last chunk goes in now, the rest of the frame silent,
		 * so its last words are heard in order and at once, and its
		 * next chunk starts a frame (a chunk that straddles two
		 * frames waits for the next one: up to 20 ms)
		 */
		if (rt->fifo_len)  /* (no FIFO yet: a client that types) */
			memcpy(in, rt->fifo, rt->fifo_len * 2);
		memset(in + rt->fifo_len, 0, (FRAME - rt->fifo_len) * 2);
		rt->fifo_len = 0;
		rt->commit_at = 0;
	}
	(void)bt_session_push(rt->s, in, FRAME);
	if (rt->commit_pending && !rt->commit_at)
		do_commit(rt);
}

/* One frame of the agent's audio out, at the pace it plays. */
static void pull_frame(struct bt_rt *rt)
{
	int16_t out[FRAME];
	bool speech = false;

	rt->in_pull = true;
	(void)bt_session_pull(rt->s, out, FRAME, &speech);
	rt->in_pull = false;
	rt->kick_due = false;
	if (speech && rt->resp_active && rt->resp_audio)
		rt_send_audio(rt, out);
	rt_flush_deferred(rt);
}

/*
 * A reply's first audio came between two ticks: its first frame goes to
 * the client now rather than at the next tick (up to 20 ms later), and
 * the ticks go on from there, a frame ahead of the clock until the reply
 * ends (the client queues what it gets; nothing is sent in silence).
 */
static void kick(void *arg)
{
	struct bt_rt *rt = arg;

	if (!rt->kick_due || rt->closing)
		return;
	pull_frame(rt);
	if (rt->prm.flushh)
		rt->prm.flushh(rt->arg);
}

static void on_ready(void *arg)
{
	struct bt_rt *rt = arg;

	rt->kick_due = true;
	tmr_start(&rt->kick, 0, kick, rt);
}

static void tick(void *arg)
{
	struct bt_rt *rt = arg;

	if (rt->closing)
		return;
	++rt->ticks;
	if (!rt->started && rt->ticks * 20 >= GREET_AFTER_MS)
		start_call(rt);
	/*
	 * In: a client that streams sends its audio in chunks (40-100 ms)
	 * that went into the call as they came (append_audio). Between
	 * chunks the call's clock waits for the next one rather than filling
	 * the gap with silence inside the user's speech (which splits words
	 * and turns); what a burst left in the FIFO goes in at up to
	 * CATCHUP_FRAMES a tick. A client that sends nothing (typing, a
	 * muted microphone) gets a silent line at the wall clock's pace.
	 */
	if (rt->fifo_len >= FRAME) {
		for (int k = 0; k < CATCHUP_FRAMES && !rt->ended &&
		     rt->fifo_len >= FRAME; k++)
			push_frame(rt);
	}
	else if (!rt->last_append ||
		 tmr_jiffies() - rt->last_append >= STREAM_GAP_MS) {
		push_frame(rt);
	}
	/* out: one frame a tick whatever the input does, so the agent's
	 * first words never wait for the client's next chunk */
	pull_frame(rt);
	if (rt->shutdown_deadline && rt->ticks >= rt->shutdown_deadline)
		rt->ended = true;
	if (rt->ended && !rt->resp_active) {
		rt->closing = true;
		rt->closeh(1000, "the call ended", rt->arg);
	}
}

static const char *voice_ours(const char *v)
{
	for (size_t i = 0; i < sizeof(voices) / sizeof(voices[0]); i++)
		if (!strcmp(v, voices[i].openai))
			return voices[i].ours;
	return strchr(v, ':') ? v : NULL;
}

static void session_update(struct bt_rt *rt, const struct bt_rt_event *ev)
{
	const struct bt_rt_session_cfg *c = &ev->cfg;
	struct bt_session_turns t;
	int err;

	if (c->voice) {
		const char *ours = voice_ours(c->voice);
		if (!ours) {
			rt_send_error(rt, "invalid_request_error",
				   "invalid_value", "unknown voice: use alloy, "
				   "ash, ballad, coral, echo, sage, shimmer, "
				   "verse, marin, cedar, or one of banter's "
				   "(\"flite:slt\", \"espeak:en-us+f3\")",
				   "session.audio.output.voice",
				   ev->event_id);
			return;
		}
		err = bt_session_set_voice(rt->s, ours, c->speed > 0 ?
			(uint32_t)(c->speed * 100 + 0.5) : 0);
		if (err) {
			rt_send_error(rt, "invalid_request_error",
				   "invalid_value", bt_errmsg(),
				   "session.audio.output.voice",
				   ev->event_id);
			return;
		}
		str_ncpy(rt->voice, c->voice, sizeof(rt->voice));
	}
	else if (c->speed > 0) {
		const char *ours = voice_ours(rt->voice);
		if (ours)
			(void)bt_session_set_voice(rt->s, ours, (uint32_t)(
				c->speed * 100 + 0.5));
	}
	if (c->speed > 0)
		rt->speed = c->speed;
	if (c->in_fmt || c->out_fmt) {
		if (c->in_fmt)
			rt->in_fmt = c->in_fmt;
		if (c->out_fmt)
			rt->out_fmt = c->out_fmt;
		if (make_resamplers(rt)) {
			rt_send_error(rt, "server_error", NULL, bt_errmsg(),
				   "session.audio", ev->event_id);
			return;
		}
	}
	if (c->text_only >= 0) {
		rt->text_only = c->text_only;
		bt_session_set_audio_out(rt->s, !rt->text_only);
	}
	if (c->transcription >= 0)
		rt->transcription = c->transcription;
	if (c->instructions) {
		json_decref(rt->instructions);
		rt->instructions = json_string(c->instructions);
		(void)bt_session_set_instructions(rt->s, c->instructions);
	}
	if (c->caller_id)
		/* the brain recalls this caller's earlier calls when its
		 * next response starts (one already started keeps what it
		 * has) */
		(void)bt_session_set_caller_id(rt->s, c->caller_id);
	if (c->tools) {
		char *js = json_dumps(c->tools, JSON_COMPACT);

		json_decref(rt->tools);
		rt->tools = json_deep_copy(c->tools);
		/* an LLM brain may call them: they come back as
		 * function_call items for the client to run */
		(void)bt_session_set_tools(rt->s, js);
		free(js);
	}
	if (c->td != BT_RT_TD_KEEP) {
		rt->td = c->td;
		rt->create_response = true;
		rt->interrupt_response = true;
		rt->idle_timeout_ms = 0;
	}
	if (c->threshold >= 0)
		rt->threshold = c->threshold;
	if (c->prefix_padding_ms >= 0)
		rt->prefix_ms = c->prefix_padding_ms;
	if (c->silence_duration_ms >= 0)
		rt->silence_ms = c->silence_duration_ms;
	if (c->create_response >= 0)
		rt->create_response = c->create_response;
	if (c->interrupt_response >= 0)
		rt->interrupt_response = c->interrupt_response;
	if (c->idle_timeout_ms >= 0)
		rt->idle_timeout_ms = c->idle_timeout_ms;
	if (c->eagerness)
		str_ncpy(rt->eagerness, c->eagerness, sizeof(rt->eagerness));

	/* a sideband's call keeps its agent's turn-taking unless the update
	 * is about it */
	if (rt->side && c->td == BT_RT_TD_KEEP && c->threshold < 0 &&
	    c->prefix_padding_ms < 0 && c->silence_duration_ms < 0 &&
	    c->create_response < 0 && c->interrupt_response < 0 &&
	    c->idle_timeout_ms < 0 && !c->eagerness) {
		rt_send_session(rt, "session.updated");
		return;
	}
	memset(&t, 0, sizeof(t));
	t.manual = rt->td == BT_RT_TD_NONE;
	t.no_respond = !rt->create_response;
	t.no_interrupt = !rt->interrupt_response;
	if (rt->td == BT_RT_TD_SERVER_VAD && c->silence_duration_ms >= 0)
		t.silence_ms = (uint32_t)rt->silence_ms;
	if (rt->td == BT_RT_TD_SERVER_VAD && c->threshold >= 0)
		t.vad_threshold = (float)rt->threshold;
	if (rt->td == BT_RT_TD_SERVER_VAD && c->prefix_padding_ms > 0)
		t.prefix_ms = (uint32_t)rt->prefix_ms;
	if (rt->td == BT_RT_TD_SEMANTIC_VAD)
		t.eagerness_pct = !strcmp(rt->eagerness, "low") ? 150 :
			!strcmp(rt->eagerness, "high") ? 60 : 0;
	/* the agent's own idle prompt unless the client sets one */
	t.idle_ms = rt->idle_timeout_ms > 0 ? (uint32_t)rt->idle_timeout_ms :
		0;
	err = bt_session_set_turns(rt->s, &t);
	if (err) {
		rt_send_error(rt, "invalid_request_error", "invalid_value",
			   bt_errmsg(), "session.audio.input.turn_detection",
			   ev->event_id);
		return;
	}
	rt->turns = t;
	rt_send_session(rt, "session.updated");
	start_call(rt);
}

static void item_create(struct bt_rt *rt, const struct bt_rt_event *ev)
{
	enum bt_role role = BT_ROLE_USER;
	const char *id;
	json_t *item;
	int err;

	if (!strcmp(ev->item_type, "message"))
		role = !strcmp(ev->role, "user") ? BT_ROLE_USER :
			!strcmp(ev->role, "system") ? BT_ROLE_SYSTEM :
			BT_ROLE_ASSISTANT;
	else
		role = BT_ROLE_TOOL;
	if (role == BT_ROLE_TOOL) {
		bool out = !strcmp(ev->item_type, "function_call_output");
		const char *name = json_string_value(json_object_get(
			json_object_get(ev->root, "item"), "name"));

		err = bt_session_function_add(rt->s, ev->call_id, out ? NULL :
					      name, out ? NULL : ev->text,
					      out ? ev->text : NULL,
					      ev->item_id);
	}
	else {
		err = bt_session_item_add(rt->s, role, ev->text, ev->item_id);
	}
	if (err) {
		rt_send_error(rt, "invalid_request_error", err == EEXIST ?
			   "item_already_exists" : "invalid_value",
			   bt_errmsg(), "item", ev->event_id);
		return;
	}
	id = bt_session_last_item_id(rt->s);
	if (role == BT_ROLE_TOOL) {
		item = json_deep_copy(json_object_get(ev->root, "item"));
		json_object_set_new(item, "id", json_string(id));
		json_object_set_new(item, "object",
				    json_string("realtime.item"));
		json_object_set_new(item, "status", json_string("completed"));
	}
	else {
		item = rt_message_item(id, ev->role, "completed", rt_part_new(
			role == BT_ROLE_ASSISTANT ? "output_text" :
			"input_text", "text", ev->text));
	}
	rt_announce_item(rt, item);
}

static void apply(struct bt_rt *rt, const struct bt_rt_event *ev)
{
	int err;
	char *js;
	json_t *o;

	switch (ev->type) {
	case BT_RT_SESSION_UPDATE:
		session_update(rt, ev);
		break;
	case BT_RT_AUDIO_APPEND:
		start_call(rt);
		append_audio(rt, ev);
		break;
	case BT_RT_AUDIO_COMMIT:
		if (rt->appended_ms < MIN_COMMIT_MS) {
			char msg[160];
			snprintf(msg, sizeof(msg), "Error committing input "
				 "audio buffer: buffer too small. Expected at "
				 "least %dms of audio, but buffer only has "
				 "%llums of audio.", MIN_COMMIT_MS,
				 (unsigned long long)rt->appended_ms);
			rt_send_error(rt, "invalid_request_error",
				   "input_audio_buffer_commit_empty", msg,
				   NULL, ev->event_id);
			break;
		}
		/* after the audio still queued has been heard */
		rt->commit_pending = true;
		rt->commit_at = rt->fifo_len;
		snprintf(rt->commit_evid, sizeof(rt->commit_evid), "%s",
			 ev->event_id ? ev->event_id : "");
		rt->appended_ms = 0;
		/* nothing but a part of a frame queued: committed now, not
		 * when the line has been quiet for STREAM_GAP_MS */
		if (rt->fifo_len && rt->fifo_len < FRAME && !rt->ended &&
		    !rt->closing)
			push_frame(rt);
		else if (!rt->fifo_len)
			do_commit(rt);
		break;
	case BT_RT_AUDIO_CLEAR:
		rt->fifo_len = 0;
		rt->appended_ms = 0;
		rt->commit_pending = false;
		bt_session_clear(rt->s);
		rt->started_sent = false;
		rt_send_json(rt, rt_ev_new("input_audio_buffer.cleared"));
		break;
	case BT_RT_ITEM_CREATE:
		item_create(rt, ev);
		break;
	case BT_RT_ITEM_RETRIEVE:
		js = bt_session_item(rt->s, ev->item_id);
		if (!js) {
			rt_send_error(rt, "invalid_request_error",
				   "item_not_found", "no such item",
				   "item_id", ev->event_id);
			break;
		}
		{
			json_t *h = json_loads(js, 0, NULL);
			const char *role = json_string_value(
				json_object_get(h, "role"));
			bool user = role && !strcmp(role, "user");
			const char *text = json_string_value(
				json_object_get(h, "text"));
			bool audio = json_is_true(json_object_get(h, "audio"));

			o = rt_ev_new("conversation.item.retrieved");
			json_object_set_new(o, "item", rt_message_item(
				ev->item_id, role ? role : "assistant",
				"completed", rt_part_new(
					user ? "input_text" : audio ?
					"output_audio" : "output_text",
					audio && !user ? "transcript" : "text",
					text)));
			rt_send_json(rt, o);
			json_decref(h);
		}
		mem_deref(js);
		break;
	case BT_RT_ITEM_TRUNCATE:
		err = bt_session_truncate(rt->s, ev->item_id,
					  (uint32_t)ev->audio_end_ms);
		if (err) {
			rt_send_error(rt, "invalid_request_error", err == ENOENT ?
				   "item_not_found" : "invalid_value",
				   bt_errmsg(), "audio_end_ms", ev->event_id);
			break;
		}
		o = rt_ev_new("conversation.item.truncated");
		json_object_set_new(o, "item_id", json_string(ev->item_id));
		json_object_set_new(o, "content_index", json_integer(0));
		json_object_set_new(o, "audio_end_ms",
				    json_integer(ev->audio_end_ms));
		rt_send_json(rt, o);
		break;
	case BT_RT_ITEM_DELETE:
		if (bt_session_item_delete(rt->s, ev->item_id)) {
			rt_send_error(rt, "invalid_request_error",
				   "item_not_found", bt_errmsg(), "item_id",
				   ev->event_id);
			break;
		}
		o = rt_ev_new("conversation.item.deleted");
		json_object_set_new(o, "item_id", json_string(ev->item_id));
		rt_send_json(rt, o);
		break;
	case BT_RT_RESPONSE_CREATE:
		rt->started = true;
		if (rt->resp_active) {
			rt_send_error(rt, "invalid_request_error",
				   "conversation_already_has_active_response",
				   "Conversation already has an active "
				   "response in progress: cancel it first "
				   "(response.cancel)", NULL, ev->event_id);
			break;
		}
		if (ev->resp_text_only >= 0)
			bt_session_set_audio_out(rt->s, !ev->resp_text_only);
		err = bt_session_respond(rt->s);
		if (ev->resp_text_only >= 0)
			bt_session_set_audio_out(rt->s, !rt->text_only);
		if (err)
			rt_send_error(rt, "server_error", NULL, bt_errmsg(), NULL,
				   ev->event_id);
		break;
	case BT_RT_RESPONSE_CANCEL:
	case BT_RT_OUTPUT_AUDIO_CLEAR:
		if (!rt->resp_active || (ev->response_id &&
		    strcmp(ev->response_id, rt->resp_id))) {
			rt_send_error(rt, "invalid_request_error",
				   "response_cancel_not_active",
				   "Cancellation failed: no active response "
				   "found", NULL, ev->event_id);
			break;
		}
		(void)bt_session_cancel(rt->s);
		break;
	}
}

void bt_rt_recv(struct bt_rt *rt, const char *text, size_t len)
{
	struct bt_rt_event ev;
	struct bt_rt_error er;
	char evid[64];

	if (!rt || rt->closing)
		return;
	if (bt_rt_decode(text, len, &ev, &er, evid, sizeof(evid))) {
		rt_send_error(rt, er.type, er.code, er.message, er.param,
			   er.event_id);
		return;
	}
	if (!rt->side || rt_side_allowed(rt, &ev))
		apply(rt, &ev);
	bt_rt_event_free(&ev);
}

void bt_rt_shutdown(struct bt_rt *rt, uint32_t deadline_ms)
{
	/* a sideband's call says its own goodbye and then closes it */
	if (!rt || rt->closing || rt->ended || rt->side)
		return;
	rt->shutdown_deadline = rt->ticks + deadline_ms / 20;
	if (bt_session_say(rt->s, "Sorry, this service is restarting now. "
			   "Please call again in a minute. Goodbye.", true))
		rt->ended = true;
}

static void ignore_event(const struct bt_event *ev, void *arg)
{
	(void)ev;
	(void)arg;
}

static void rt_destructor(void *arg)
{
	struct bt_rt *rt = arg;

	bt_loop_tick_remove(&rt->tick);
	tmr_cancel(&rt->kick);
	list_unlink(&rt->side_le);
	/* the call's last events (ended) must not reach a half-freed rt; a
	 * sideband's call keeps its own handler */
	if (rt->s && !rt->side) {
		bt_session_set_handler(rt->s, ignore_event, NULL);
		bt_session_set_ready_handler(rt->s, NULL, NULL);
	}
	rt->s = mem_deref(rt->s);
	bt_agent_put(rt->agent);
	mem_deref(rt->rs_in);
	mem_deref(rt->rs_out);
	mem_deref(rt->fifo);
	mem_deref(rt->deferred);
	mem_deref(rt->resp_text);
	json_decref(rt->resp_calls);
	json_decref(rt->instructions);
	json_decref(rt->tools);
}

/* The protocol state with the API's defaults, no session yet. */
int rt_make(struct bt_rt **rtp, struct bt_agent *agent, const char *model,
	    const struct bt_rt_prm *prm, bt_rt_send_h *sendh,
	    bt_rt_close_h *closeh, void *arg)
{
	static atomic_uint ids;
	struct bt_rt *rt;
	int err;

	if (!rtp || !agent || !sendh || !closeh)
		return EINVAL;
	rt = mem_zalloc(sizeof(*rt), rt_destructor);
	if (!rt)
		return ENOMEM;
	rt->agent = bt_agent_ref(agent);
	rt->sendh = sendh;
	rt->closeh = closeh;
	rt->arg = arg;
	if (prm)
		rt->prm = *prm;
	else
		rt->prm.greet = true;
	if (!rt->prm.max_buffer_ms)
		rt->prm.max_buffer_ms = 30000;
	snprintf(rt->sess_id, sizeof(rt->sess_id), "sess_%x%04x",
		 atomic_fetch_add(&ids, 1) + 1, (unsigned)rand_u16());
	str_ncpy(rt->model, model ? model : bt_agent_name(agent),
		 sizeof(rt->model));
	rt->in_fmt = rt->out_fmt = BT_RT_FMT_PCM24;
	str_ncpy(rt->voice, bt_agent_voice(agent), sizeof(rt->voice));
	rt->speed = 1.0;
	rt->transcription = true;
	rt->td = BT_RT_TD_SEMANTIC_VAD;
	str_ncpy(rt->eagerness, "auto", sizeof(rt->eagerness));
	rt->threshold = 0.5;
	rt->prefix_ms = 300;
	rt->silence_ms = 500;
	rt->create_response = rt->interrupt_response = true;
	rt->deferred = mbuf_alloc(4096);
	rt->resp_text = mbuf_alloc(1024);
	rt->resp_calls = json_array();
	if (!rt->deferred || !rt->resp_text || !rt->resp_calls) {
		err = ENOMEM;
		goto out;
	}
	err = make_resamplers(rt);
 out:
	if (err)
		mem_deref(rt);
	else
		*rtp = rt;
	return err;
}

int bt_rt_alloc(struct bt_rt **rtp, struct bt_agent *agent,
		const char *model, const struct bt_rt_prm *prm,
		bt_rt_send_h *sendh, bt_rt_close_h *closeh, void *arg)
{
	struct bt_session_prm sp;
	struct bt_rt *rt = NULL;
	struct bt_loop *loop = bt_loop_current();
	int err;

	if (!rtp || !loop)
		return EINVAL;
	err = rt_make(&rt, agent, model, prm, sendh, closeh, arg);
	if (err)
		return err;
	bt_session_prm_default(&sp);
	sp.realtime = true;
	sp.db_path = prm && prm->db_path ? prm->db_path : "banter.db";
	sp.caller_id = prm ? prm->caller_id : NULL;
	sp.id = rt->sess_id;
	err = bt_session_alloc(&rt->s, agent, &sp, rt_on_event, rt);
	if (err) {
		mem_deref(rt);
		return err;
	}
	bt_session_set_ready_handler(rt->s, on_ready, rt);
	rt_send_session(rt, "session.created");
	bt_loop_tick_add(loop, &rt->tick, tick, rt);
	*rtp = rt;
	return 0;
}
