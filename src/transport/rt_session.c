/**
 * @file rt_session.c  One Realtime connection's protocol state, on the
 *                     event loop of its bt_session.
 *
 * The client's audio goes into a FIFO at the pipeline rate; each 20 ms
 * loop tick pushes one frame of it (silence when the client sent none,
 * two frames when it is ahead) and pulls one frame of agent audio, which
 * leaves at once as a response.output_audio.delta. Agent audio therefore
 * leaves at the pace it is played, as on a phone line: what was sent is
 * what the user can have heard, and a client's truncate cuts it further.
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include "banter/banter.h"
#include <rem/rem_g711.h>
#include "net/loop.h"
#include "transport/realtime.h"

enum {
	FRAME = BT_FRAME_SAMPLES,     /* pipeline samples per 20 ms */
	GREET_AFTER_MS = 300,         /* time for a first session.update */
	MIN_COMMIT_MS = 100,          /* the API's smallest commit */
	AHEAD_FRAMES = 2,             /* client audio this far ahead: catch up */
	STREAM_GAP_MS = 150,          /* a streaming client's chunk is late,
					 not missing, for this long */
	MAX_APPEND = BT_RT_MAX_MESSAGE,
};

struct bt_rt {
	struct bt_session *s;
	struct bt_agent *agent;
	struct bt_tick tick;
	bt_rt_send_h *sendh;
	bt_rt_close_h *closeh;
	void *arg;
	struct bt_rt_prm prm;
	char sess_id[32];
	char model[64];
	unsigned n_events, n_resp;

	/* settings as the client sees them */
	enum bt_rt_fmt in_fmt, out_fmt;
	char voice[64];
	double speed;
	bool text_only, transcription;
	enum bt_rt_td td;
	struct bt_session_turns turns;
	double threshold;
	int prefix_ms, silence_ms;
	bool create_response, interrupt_response;
	int64_t idle_timeout_ms;
	char eagerness[8];
	json_t *instructions, *tools;  /* kept for an LLM brain */

	/* input: client audio at the pipeline rate, not yet pushed */
	struct bt_resampler *rs_in, *rs_out;
	int16_t *fifo;
	size_t fifo_len, fifo_cap;
	uint64_t appended_ms;          /* since the last commit or clear */
	uint64_t last_append;          /* tmr_jiffies of the last append */
	size_t commit_at;              /* samples left to push before the
					  pending commit (0: none) */
	bool commit_pending;
	char commit_evid[64];

	/* output */
	bool started, ended, closing;
	uint32_t ticks;
	bool in_pull;
	struct mbuf *deferred;         /* events raised inside a pull */
	char last_item[32];            /* the newest item announced */
	char partial[512];
	bool started_sent;             /* speech_started for this utterance */
	uint64_t speech_start_ms, speech_end_ms;

	/* the response in progress */
	bool resp_active;
	char resp_id[32], resp_item[32];
	bool resp_audio;
	struct mbuf *resp_text;
	uint64_t resp_audio_ms;
	uint32_t shutdown_deadline;
};

static const struct {
	const char *openai, *ours;
} voices[] = {
	{"alloy", "flite:slt"}, {"ash", "flite:rms"}, {"ballad", "flite:awb"},
	{"coral", "espeak:en-us+f3"}, {"echo", "espeak:en-us+m3"},
	{"sage", "espeak:en-us+f4"}, {"shimmer", "espeak:en-us+f2"},
	{"verse", "espeak:en-us+m1"}, {"marin", "flite:slt"},
	{"cedar", "flite:rms"},
};

static uint32_t fmt_rate(enum bt_rt_fmt f)
{
	return f == BT_RT_FMT_PCM24 ? 24000 : 8000;
}

static const char *fmt_name(enum bt_rt_fmt f)
{
	return f == BT_RT_FMT_PCMU ? "audio/pcmu" :
		f == BT_RT_FMT_PCMA ? "audio/pcma" : "audio/pcm";
}

/* ---- sending ---- */

static void send_json(struct bt_rt *rt, json_t *o)
{
	char *js;
	char id[32];

	snprintf(id, sizeof(id), "event_%s_%u", rt->sess_id + 5,
		 ++rt->n_events);
	json_object_set_new(o, "event_id", json_string(id));
	js = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(o);
	if (!js)
		return;
	if (rt->in_pull && rt->deferred)  /* after this frame's audio */
		(void)bt_rt_batch_add(rt->deferred, js, strlen(js));
	else
		rt->sendh(js, strlen(js), rt->arg);
	free(js);
}

static json_t *ev_new(const char *type)
{
	json_t *o = json_object();
	json_object_set_new(o, "type", json_string(type));
	return o;
}

static void send_error(struct bt_rt *rt, const char *type, const char *code,
		       const char *message, const char *param,
		       const char *event_id)
{
	json_t *o = ev_new("error"), *e = json_object();

	json_object_set_new(e, "type", json_string(type));
	json_object_set_new(e, "code", code ? json_string(code) : json_null());
	json_object_set_new(e, "message", json_string(message));
	json_object_set_new(e, "param", param && param[0] ?
			    json_string(param) : json_null());
	json_object_set_new(e, "event_id", event_id ? json_string(event_id) :
			    json_null());
	json_object_set_new(o, "error", e);
	send_json(rt, o);
}

static void flush_deferred(struct bt_rt *rt)
{
	struct mbuf *mb = rt->deferred;
	const char *js;
	size_t n;

	mb->pos = 0;
	while (bt_rt_batch_next(mb, &js, &n))
		rt->sendh(js, n, rt->arg);
	mbuf_reset(mb);
}

/* ---- the session object the client sees ---- */

static json_t *fmt_json(enum bt_rt_fmt f)
{
	json_t *o = json_object();
	json_object_set_new(o, "type", json_string(fmt_name(f)));
	json_object_set_new(o, "rate", json_integer(fmt_rate(f)));
	return o;
}

static json_t *session_json(const struct bt_rt *rt)
{
	json_t *o = json_object(), *audio = json_object();
	json_t *in = json_object(), *out = json_object(), *td;
	json_t *mods = json_array();

	json_object_set_new(o, "type", json_string("realtime"));
	json_object_set_new(o, "object", json_string("realtime.session"));
	json_object_set_new(o, "id", json_string(rt->sess_id));
	json_object_set_new(o, "model", json_string(rt->model));
	json_array_append_new(mods, json_string(rt->text_only ? "text" :
						 "audio"));
	json_object_set_new(o, "output_modalities", mods);
	json_object_set_new(o, "instructions", rt->instructions ?
			    json_incref(rt->instructions) : json_string(""));
	json_object_set_new(o, "tools", rt->tools ? json_incref(rt->tools) :
			    json_array());
	json_object_set_new(o, "tool_choice", json_string("auto"));
	json_object_set_new(in, "format", fmt_json(rt->in_fmt));
	if (rt->transcription) {
		json_t *t = json_object();
		json_object_set_new(t, "model",
				    json_string("banter-pocketsphinx"));
		json_object_set_new(in, "transcription", t);
	}
	else {
		json_object_set_new(in, "transcription", json_null());
	}
	json_object_set_new(in, "noise_reduction", json_null());
	if (rt->td == BT_RT_TD_NONE) {
		td = json_null();
	}
	else {
		td = json_object();
		json_object_set_new(td, "type", json_string(
			rt->td == BT_RT_TD_SERVER_VAD ? "server_vad" :
			"semantic_vad"));
		if (rt->td == BT_RT_TD_SERVER_VAD) {
			json_object_set_new(td, "threshold",
					    json_real(rt->threshold));
			json_object_set_new(td, "prefix_padding_ms",
					    json_integer(rt->prefix_ms));
			json_object_set_new(td, "silence_duration_ms",
					    json_integer(rt->silence_ms));
		}
		else {
			json_object_set_new(td, "eagerness",
					    json_string(rt->eagerness));
		}
		json_object_set_new(td, "create_response",
				    json_boolean(rt->create_response));
		json_object_set_new(td, "interrupt_response",
				    json_boolean(rt->interrupt_response));
		json_object_set_new(td, "idle_timeout_ms", rt->idle_timeout_ms >
				    0 ? json_integer(rt->idle_timeout_ms) :
				    json_null());
	}
	json_object_set_new(in, "turn_detection", td);
	json_object_set_new(out, "format", fmt_json(rt->out_fmt));
	json_object_set_new(out, "voice", json_string(rt->voice));
	json_object_set_new(out, "speed", json_real(rt->speed));
	json_object_set_new(audio, "input", in);
	json_object_set_new(audio, "output", out);
	json_object_set_new(o, "audio", audio);
	return o;
}

static void send_session(struct bt_rt *rt, const char *type)
{
	json_t *o = ev_new(type);
	json_object_set_new(o, "session", session_json(rt));
	send_json(rt, o);
}

/* ---- items ---- */

static json_t *prev_item(const struct bt_rt *rt)
{
	return rt->last_item[0] ? json_string(rt->last_item) : json_null();
}

static json_t *message_item(const char *id, const char *role,
			    const char *status, json_t *part)
{
	json_t *it = json_object(), *content = json_array();

	json_object_set_new(it, "id", json_string(id));
	json_object_set_new(it, "type", json_string("message"));
	json_object_set_new(it, "object", json_string("realtime.item"));
	json_object_set_new(it, "status", json_string(status));
	json_object_set_new(it, "role", json_string(role));
	if (part)
		json_array_append_new(content, part);
	json_object_set_new(it, "content", content);
	return it;
}

static json_t *part_new(const char *type, const char *key, const char *text)
{
	json_t *p = json_object();
	json_object_set_new(p, "type", json_string(type));
	json_object_set_new(p, key, text ? json_string(text) : json_null());
	return p;
}

/* conversation.item.added then .done for a finished item */
static void announce_item(struct bt_rt *rt, json_t *item)
{
	json_t *o = ev_new("conversation.item.added");
	char id[sizeof(rt->last_item)];

	/* copied: sending the event below frees the item */
	str_ncpy(id, json_string_value(json_object_get(item, "id")) ?: "",
		 sizeof(id));
	json_object_set_new(o, "previous_item_id", prev_item(rt));
	json_object_set_new(o, "item", json_incref(item));
	send_json(rt, o);
	o = ev_new("conversation.item.done");
	json_object_set_new(o, "previous_item_id", prev_item(rt));
	json_object_set_new(o, "item", item);
	send_json(rt, o);
	str_ncpy(rt->last_item, id, sizeof(rt->last_item));
}

/* ---- session events -> server events ---- */

static void speech_started(struct bt_rt *rt)
{
	const char *id = bt_session_utt_item_id(rt->s);
	json_t *o;

	if (rt->td == BT_RT_TD_NONE || rt->started_sent)
		return;
	rt->started_sent = true;
	rt->partial[0] = '\0';
	o = ev_new("input_audio_buffer.speech_started");
	json_object_set_new(o, "audio_start_ms",
			    json_integer((json_int_t)rt->speech_start_ms));
	json_object_set_new(o, "item_id", json_string(id ? id : ""));
	send_json(rt, o);
}

static void user_item(struct bt_rt *rt, const struct bt_event *ev)
{
	const char *id = ev->item_id ? ev->item_id : "";
	const char *text = ev->text ? ev->text : "";
	json_t *o;

	if (rt->td != BT_RT_TD_NONE) {
		o = ev_new("input_audio_buffer.speech_stopped");
		json_object_set_new(o, "audio_end_ms", json_integer(
			(json_int_t)rt->speech_end_ms));
		json_object_set_new(o, "item_id", json_string(id));
		send_json(rt, o);
	}
	o = ev_new("input_audio_buffer.committed");
	json_object_set_new(o, "previous_item_id", prev_item(rt));
	json_object_set_new(o, "item_id", json_string(id));
	send_json(rt, o);
	announce_item(rt, message_item(id, "user", "completed",
		part_new("input_audio", "transcript", text)));
	if (rt->transcription) {
		o = ev_new("conversation.item.input_audio_transcription."
			   "completed");
		json_object_set_new(o, "item_id", json_string(id));
		json_object_set_new(o, "content_index", json_integer(0));
		json_object_set_new(o, "transcript", json_string(text));
		send_json(rt, o);
	}
	rt->started_sent = false;
	rt->appended_ms = 0;
}

static void partial(struct bt_rt *rt, const char *text)
{
	const char *id = bt_session_utt_item_id(rt->s);
	size_t n = strlen(rt->partial);
	json_t *o;

	if (!rt->transcription || !text)
		return;
	o = ev_new("conversation.item.input_audio_transcription.delta");
	json_object_set_new(o, "item_id", json_string(id ? id : ""));
	json_object_set_new(o, "content_index", json_integer(0));
	/* deltas only ever add; a revised partial is given whole aside */
	json_object_set_new(o, "delta", json_string(
		!strncmp(text, rt->partial, n) ? text + n : ""));
	json_object_set_new(o, "banter_partial", json_string(text));
	send_json(rt, o);
	str_ncpy(rt->partial, text, sizeof(rt->partial));
}

static json_t *response_json(const struct bt_rt *rt, const char *status,
			     const char *reason, json_t *output)
{
	json_t *r = json_object(), *mods = json_array();

	json_object_set_new(r, "object", json_string("realtime.response"));
	json_object_set_new(r, "id", json_string(rt->resp_id));
	json_object_set_new(r, "status", json_string(status));
	if (reason) {
		json_t *d = json_object();
		json_object_set_new(d, "type", json_string("cancelled"));
		json_object_set_new(d, "reason", json_string(reason));
		json_object_set_new(r, "status_details", d);
	}
	else {
		json_object_set_new(r, "status_details", json_null());
	}
	json_object_set_new(r, "output", output ? output : json_array());
	json_object_set_new(r, "conversation_id", json_string(rt->sess_id));
	json_array_append_new(mods, json_string(rt->resp_audio ? "audio" :
						 "text"));
	json_object_set_new(r, "output_modalities", mods);
	json_object_set_new(r, "usage", json_null());
	return r;
}

static json_t *resp_event(const struct bt_rt *rt, const char *type)
{
	json_t *o = ev_new(type);
	json_object_set_new(o, "response_id", json_string(rt->resp_id));
	json_object_set_new(o, "item_id", json_string(rt->resp_item));
	json_object_set_new(o, "output_index", json_integer(0));
	json_object_set_new(o, "content_index", json_integer(0));
	return o;
}

static json_t *resp_part(const struct bt_rt *rt, const char *text)
{
	return rt->resp_audio ? part_new("audio", "transcript", text) :
		part_new("text", "text", text);
}

static void response_begin(struct bt_rt *rt, const struct bt_event *ev)
{
	json_t *o, *it;
	json_t *js = json_loads(ev->json, 0, NULL);
	const char *kind = json_string_value(json_object_get(js, "kind"));

	rt->resp_active = true;
	rt->resp_audio = json_is_true(json_object_get(js, "audio"));
	snprintf(rt->resp_id, sizeof(rt->resp_id), "resp_%s_%u",
		 rt->sess_id + 5, ++rt->n_resp);
	str_ncpy(rt->resp_item, ev->item_id ? ev->item_id : "",
		 sizeof(rt->resp_item));
	mbuf_reset(rt->resp_text);
	rt->resp_audio_ms = 0;
	if (kind && !strcmp(kind, "idle")) {
		o = ev_new("input_audio_buffer.timeout_triggered");
		json_object_set_new(o, "audio_start_ms", json_integer(
			(json_int_t)rt->speech_end_ms));
		json_object_set_new(o, "audio_end_ms", json_integer(
			(json_int_t)bt_session_now_ms(rt->s)));
		json_object_set_new(o, "item_id", json_string(rt->resp_item));
		send_json(rt, o);
	}
	json_decref(js);

	o = ev_new("response.created");
	json_object_set_new(o, "response", response_json(rt, "in_progress",
							  NULL, NULL));
	send_json(rt, o);
	it = message_item(rt->resp_item, "assistant", "in_progress", NULL);
	o = ev_new("response.output_item.added");
	json_object_set_new(o, "response_id", json_string(rt->resp_id));
	json_object_set_new(o, "output_index", json_integer(0));
	json_object_set_new(o, "item", json_incref(it));
	send_json(rt, o);
	o = ev_new("conversation.item.added");
	json_object_set_new(o, "previous_item_id", prev_item(rt));
	json_object_set_new(o, "item", it);
	send_json(rt, o);
	str_ncpy(rt->last_item, rt->resp_item, sizeof(rt->last_item));
	o = resp_event(rt, "response.content_part.added");
	json_object_set_new(o, "part", resp_part(rt, ""));
	send_json(rt, o);
}

static void response_text(struct bt_rt *rt, const char *text)
{
	json_t *o;
	char delta[1100];

	if (!rt->resp_active || !text)
		return;
	snprintf(delta, sizeof(delta), "%s%s", rt->resp_text->end ? " " : "",
		 text);
	(void)mbuf_write_str(rt->resp_text, delta);
	o = resp_event(rt, rt->resp_audio ?
		       "response.output_audio_transcript.delta" :
		       "response.output_text.delta");
	json_object_set_new(o, "delta", json_string(delta));
	send_json(rt, o);
}

static void response_end(struct bt_rt *rt, const char *heard,
			 const char *reason)
{
	char *full;
	const char *text;
	json_t *o, *it, *out;

	if (!rt->resp_active)
		return;
	rt->resp_active = false;
	full = mem_zalloc(rt->resp_text->end + 1, NULL);
	if (full)
		memcpy(full, rt->resp_text->buf, rt->resp_text->end);
	/* a cut reply keeps what was heard; a whole one its text */
	text = reason ? (heard ? heard : "") : (full ? full : "");
	if (rt->resp_audio) {
		send_json(rt, resp_event(rt, "response.output_audio.done"));
		o = resp_event(rt, "response.output_audio_transcript.done");
		json_object_set_new(o, "transcript", json_string(text));
		send_json(rt, o);
	}
	else {
		o = resp_event(rt, "response.output_text.done");
		json_object_set_new(o, "text", json_string(text));
		send_json(rt, o);
	}
	o = resp_event(rt, "response.content_part.done");
	json_object_set_new(o, "part", resp_part(rt, text));
	send_json(rt, o);

	it = message_item(rt->resp_item, "assistant", reason ? "incomplete" :
			  "completed", rt->resp_audio ?
			  part_new("output_audio", "transcript", text) :
			  part_new("output_text", "text", text));
	o = ev_new("response.output_item.done");
	json_object_set_new(o, "response_id", json_string(rt->resp_id));
	json_object_set_new(o, "output_index", json_integer(0));
	json_object_set_new(o, "item", json_incref(it));
	send_json(rt, o);
	o = ev_new("conversation.item.done");
	json_object_set_new(o, "previous_item_id", json_null());
	json_object_set_new(o, "item", json_incref(it));
	send_json(rt, o);
	out = json_array();
	json_array_append_new(out, it);
	o = ev_new("response.done");
	json_object_set_new(o, "response", response_json(rt, reason ?
		"cancelled" : "completed", reason, out));
	send_json(rt, o);
	mem_deref(full);
}

static void on_event(const struct bt_event *ev, void *arg)
{
	struct bt_rt *rt = arg;
	json_t *o;

	switch (ev->type) {
	case BT_EV_SPEECH_START:
		if (!rt->started_sent)
			rt->speech_start_ms = ev->t_ms;
		break;
	case BT_EV_SPEECH_END:
		rt->speech_end_ms = ev->t_ms;
		break;
	case BT_EV_STATE:
		if (ev->text && !strcmp(ev->text, "user_speaking"))
			speech_started(rt);
		break;
	case BT_EV_PARTIAL:
		partial(rt, ev->text);
		break;
	case BT_EV_USER:
		user_item(rt, ev);
		break;
	case BT_EV_REPLY:
		response_begin(rt, ev);
		break;
	case BT_EV_AGENT:
		response_text(rt, ev->text);
		break;
	case BT_EV_AGENT_DONE:
	case BT_EV_BARGE_IN: {
		json_t *js = json_loads(ev->json, 0, NULL);
		const char *why = json_string_value(json_object_get(js,
								    "reason"));
		if (why && !strcmp(why, "turn_detected"))
			speech_started(rt);  /* the API's order */
		response_end(rt, ev->text, why);
		json_decref(js);
		break;
	}
	case BT_EV_TURN:
		/* banter's own per-turn trace, latency figures included */
		o = ev_new("banter.turn");
		json_object_set_new(o, "turn", json_loads(ev->json, 0, NULL));
		send_json(rt, o);
		break;
	case BT_EV_ERROR:
		send_error(rt, "server_error", NULL, ev->text ? ev->text :
			   "error", NULL, NULL);
		break;
	case BT_EV_ENDED:
		rt->ended = true;
		break;
	default:
		break;
	}
}

/* ---- audio ---- */

static int make_resamplers(struct bt_rt *rt)
{
	struct bt_resampler *in = NULL, *out = NULL;
	int err;

	err = bt_resampler_alloc(&in, fmt_rate(rt->in_fmt), BT_RATE_HZ);
	if (!err)
		err = bt_resampler_alloc(&out, BT_RATE_HZ,
					 fmt_rate(rt->out_fmt));
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
		send_error(rt, "invalid_request_error", "invalid_value",
			   "audio is not valid base64", "audio",
			   ev->event_id);
		return;
	}
	if (rt->in_fmt == BT_RT_FMT_PCM24) {
		if (n % 2) {
			send_error(rt, "invalid_request_error",
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
		send_error(rt, "invalid_request_error",
			   "input_audio_buffer_overflow", msg, "audio",
			   ev->event_id);
		return;
	}
	if (err) {
		send_error(rt, "server_error", NULL, "cannot take the audio",
			   "audio", ev->event_id);
		return;
	}
	rt->appended_ms += (uint64_t)ns * 1000 / fmt_rate(rt->in_fmt);
	rt->last_append = tmr_jiffies();
}

static void send_audio(struct bt_rt *rt, const int16_t *frame)
{
	int16_t out[FRAME * 2];
	uint8_t enc[FRAME * 4];
	char b64[FRAME * 6];
	char head[256];
	size_t got = 0, nb, blen = sizeof(b64);
	struct mbuf *mb;

	if (bt_resample(rt->rs_out, frame, FRAME, out, FRAME * 2, &got) ||
	    !got)
		return;
	if (rt->out_fmt == BT_RT_FMT_PCM24) {
		memcpy(enc, out, got * 2);
		nb = got * 2;
	}
	else {
		for (size_t i = 0; i < got; i++)
			enc[i] = rt->out_fmt == BT_RT_FMT_PCMU ?
				g711_pcm2ulaw(out[i]) : g711_pcm2alaw(out[i]);
		nb = got;
	}
	if (base64_encode(enc, nb, b64, &blen))
		return;
	rt->resp_audio_ms += FRAME * 1000 / BT_RATE_HZ;
	/* built by hand: this runs every 20 ms per call */
	snprintf(head, sizeof(head), "{\"type\":\"response.output_audio."
		 "delta\",\"event_id\":\"event_%s_%u\",\"response_id\":\"%s\","
		 "\"item_id\":\"%s\",\"output_index\":0,\"content_index\":0,"
		 "\"delta\":\"", rt->sess_id + 5, ++rt->n_events, rt->resp_id,
		 rt->resp_item);
	mb = mbuf_alloc(strlen(head) + blen + 4);
	if (!mb)
		return;
	(void)mbuf_write_str(mb, head);
	(void)mbuf_write_mem(mb, (uint8_t *)b64, blen);
	(void)mbuf_write_str(mb, "\"}");
	rt->sendh((const char *)mb->buf, mb->end, rt->arg);
	mem_deref(mb);
}

/* ---- the frame tick ---- */

static void start_call(struct bt_rt *rt)
{
	if (rt->started)
		return;
	rt->started = true;
	if (rt->prm.greet && bt_session_start(rt->s))
		send_error(rt, "server_error", NULL, bt_errmsg(), NULL, NULL);
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
		user_item(rt, &ev);
	}
	else if (err) {
		send_error(rt, "server_error", NULL, bt_errmsg(), NULL,
			   rt->commit_evid[0] ? rt->commit_evid : NULL);
	}
}

static void frame(struct bt_rt *rt)
{
	int16_t in[FRAME], out[FRAME];
	bool speech = false;

	if (rt->fifo_len >= FRAME) {
		memcpy(in, rt->fifo, sizeof(in));
		rt->fifo_len -= FRAME;
		memmove(rt->fifo, rt->fifo + FRAME, rt->fifo_len * 2);
		if (rt->commit_pending)
			rt->commit_at = rt->commit_at > FRAME ?
				rt->commit_at - FRAME : 0;
	}
	else {
		/* the client sent nothing for now: the line is silent */
		memset(in, 0, sizeof(in));
		rt->commit_at = 0;
	}
	(void)bt_session_push(rt->s, in, FRAME);
	if (rt->commit_pending && !rt->commit_at)
		do_commit(rt);

	rt->in_pull = true;
	(void)bt_session_pull(rt->s, out, FRAME, &speech);
	rt->in_pull = false;
	if (speech && rt->resp_active && rt->resp_audio)
		send_audio(rt, out);
	flush_deferred(rt);
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
	 * A client that streams sends its audio in chunks (40-100 ms) whose
	 * arrival jitters against this tick: when the next chunk is late,
	 * the call's clock waits for it rather than filling the gap with
	 * silence inside the user's speech (which splits words and turns).
	 * A client that sends nothing (typing, a muted microphone) gets a
	 * silent line at the pace of the wall clock.
	 */
	if (rt->fifo_len < FRAME && rt->last_append &&
	    tmr_jiffies() - rt->last_append < STREAM_GAP_MS)
		return;
	frame(rt);
	/* the client is ahead (a chunk came in): catch up, 2 frames a tick */
	if (rt->fifo_len >= FRAME * AHEAD_FRAMES && !rt->ended)
		frame(rt);
	if (rt->shutdown_deadline && rt->ticks >= rt->shutdown_deadline)
		rt->ended = true;
	if (rt->ended && !rt->resp_active) {
		rt->closing = true;
		rt->closeh(1000, "the call ended", rt->arg);
	}
}

/* ---- client events ---- */

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
			send_error(rt, "invalid_request_error",
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
			send_error(rt, "invalid_request_error",
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
			send_error(rt, "server_error", NULL, bt_errmsg(),
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
	if (c->tools) {
		json_decref(rt->tools);
		rt->tools = json_deep_copy(c->tools);
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
		send_error(rt, "invalid_request_error", "invalid_value",
			   bt_errmsg(), "session.audio.input.turn_detection",
			   ev->event_id);
		return;
	}
	rt->turns = t;
	send_session(rt, "session.updated");
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
	err = bt_session_item_add(rt->s, role, ev->text, ev->item_id);
	if (err) {
		send_error(rt, "invalid_request_error", err == EEXIST ?
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
		item = message_item(id, ev->role, "completed", part_new(
			role == BT_ROLE_ASSISTANT ? "output_text" :
			"input_text", "text", ev->text));
	}
	announce_item(rt, item);
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
			send_error(rt, "invalid_request_error",
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
		break;
	case BT_RT_AUDIO_CLEAR:
		rt->fifo_len = 0;
		rt->appended_ms = 0;
		rt->commit_pending = false;
		bt_session_clear(rt->s);
		rt->started_sent = false;
		send_json(rt, ev_new("input_audio_buffer.cleared"));
		break;
	case BT_RT_ITEM_CREATE:
		item_create(rt, ev);
		break;
	case BT_RT_ITEM_RETRIEVE:
		js = bt_session_item(rt->s, ev->item_id);
		if (!js) {
			send_error(rt, "invalid_request_error",
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

			o = ev_new("conversation.item.retrieved");
			json_object_set_new(o, "item", message_item(
				ev->item_id, role ? role : "assistant",
				"completed", part_new(
					user ? "input_text" : audio ?
					"output_audio" : "output_text",
					audio && !user ? "transcript" : "text",
					text)));
			send_json(rt, o);
			json_decref(h);
		}
		mem_deref(js);
		break;
	case BT_RT_ITEM_TRUNCATE:
		err = bt_session_truncate(rt->s, ev->item_id,
					  (uint32_t)ev->audio_end_ms);
		if (err) {
			send_error(rt, "invalid_request_error", err == ENOENT ?
				   "item_not_found" : "invalid_value",
				   bt_errmsg(), "audio_end_ms", ev->event_id);
			break;
		}
		o = ev_new("conversation.item.truncated");
		json_object_set_new(o, "item_id", json_string(ev->item_id));
		json_object_set_new(o, "content_index", json_integer(0));
		json_object_set_new(o, "audio_end_ms",
				    json_integer(ev->audio_end_ms));
		send_json(rt, o);
		break;
	case BT_RT_ITEM_DELETE:
		if (bt_session_item_delete(rt->s, ev->item_id)) {
			send_error(rt, "invalid_request_error",
				   "item_not_found", bt_errmsg(), "item_id",
				   ev->event_id);
			break;
		}
		o = ev_new("conversation.item.deleted");
		json_object_set_new(o, "item_id", json_string(ev->item_id));
		send_json(rt, o);
		break;
	case BT_RT_RESPONSE_CREATE:
		rt->started = true;
		if (rt->resp_active) {
			send_error(rt, "invalid_request_error",
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
			send_error(rt, "server_error", NULL, bt_errmsg(), NULL,
				   ev->event_id);
		break;
	case BT_RT_RESPONSE_CANCEL:
	case BT_RT_OUTPUT_AUDIO_CLEAR:
		if (!rt->resp_active || (ev->response_id &&
		    strcmp(ev->response_id, rt->resp_id))) {
			send_error(rt, "invalid_request_error",
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
		send_error(rt, er.type, er.code, er.message, er.param,
			   er.event_id);
		return;
	}
	apply(rt, &ev);
	bt_rt_event_free(&ev);
}

void bt_rt_shutdown(struct bt_rt *rt, uint32_t deadline_ms)
{
	if (!rt || rt->closing || rt->ended)
		return;
	rt->shutdown_deadline = rt->ticks + deadline_ms / 20;
	if (bt_session_say(rt->s, "Sorry, this service is restarting now. "
			   "Please call again in a minute. Goodbye.", true))
		rt->ended = true;
}

/* ---- set-up ---- */

static void ignore_event(const struct bt_event *ev, void *arg)
{
	(void)ev;
	(void)arg;
}

static void rt_destructor(void *arg)
{
	struct bt_rt *rt = arg;

	bt_loop_tick_remove(&rt->tick);
	/* the call's last events (ended) must not reach a half-freed rt */
	if (rt->s)
		bt_session_set_handler(rt->s, ignore_event, NULL);
	rt->s = mem_deref(rt->s);
	mem_deref(rt->agent);
	mem_deref(rt->rs_in);
	mem_deref(rt->rs_out);
	mem_deref(rt->fifo);
	mem_deref(rt->deferred);
	mem_deref(rt->resp_text);
	json_decref(rt->instructions);
	json_decref(rt->tools);
}

int bt_rt_alloc(struct bt_rt **rtp, struct bt_agent *agent,
		const char *model, const struct bt_rt_prm *prm,
		bt_rt_send_h *sendh, bt_rt_close_h *closeh, void *arg)
{
	static atomic_uint ids;
	struct bt_session_prm sp;
	struct bt_rt *rt;
	struct bt_loop *loop = bt_loop_current();
	int err;

	if (!rtp || !agent || !sendh || !closeh || !loop)
		return EINVAL;
	rt = mem_zalloc(sizeof(*rt), rt_destructor);
	if (!rt)
		return ENOMEM;
	rt->agent = mem_ref(agent);
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
	if (!rt->deferred || !rt->resp_text) {
		err = ENOMEM;
		goto out;
	}
	err = make_resamplers(rt);
	if (err)
		goto out;
	bt_session_prm_default(&sp);
	sp.realtime = true;
	sp.db_path = prm && prm->db_path ? prm->db_path : "banter.db";
	sp.id = rt->sess_id;
	err = bt_session_alloc(&rt->s, agent, &sp, on_event, rt);
	if (err)
		goto out;
	send_session(rt, "session.created");
	bt_loop_tick_add(loop, &rt->tick, tick, rt);
 out:
	if (err)
		mem_deref(rt);
	else
		*rtp = rt;
	return err;
}
