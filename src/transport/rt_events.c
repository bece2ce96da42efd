/**
 * @file rt_events.c  Realtime server events: the session object the
 *                    client sees, items, transcription, and each
 *                    response's events in the API's order, built from
 *                    the bt_session's events; the audio deltas.
 */
#include "transport/rt_int.h"

static const char *fmt_name(enum bt_rt_fmt f);
static json_t *fmt_json(enum bt_rt_fmt f);
static json_t *session_json(const struct bt_rt *rt);
static json_t *prev_item(const struct bt_rt *rt);
static void speech_started(struct bt_rt *rt);
static void partial(struct bt_rt *rt, const char *text);
static json_t *response_json(const struct bt_rt *rt, const char *status,
			     const char *reason, json_t *output);
static json_t *resp_event(const struct bt_rt *rt, const char *type);
static json_t *resp_part(const struct bt_rt *rt, const char *text);
static void response_begin(struct bt_rt *rt, const struct bt_event *ev);
static void response_text(struct bt_rt *rt, const char *text);
static void response_end(struct bt_rt *rt, const char *heard,
			 const char *reason);


uint32_t rt_fmt_rate(enum bt_rt_fmt f)
{
	return f == BT_RT_FMT_PCM24 ? 24000 : 8000;
}

static const char *fmt_name(enum bt_rt_fmt f)
{
	return f == BT_RT_FMT_PCMU ? "audio/pcmu" :
		f == BT_RT_FMT_PCMA ? "audio/pcma" : "audio/pcm";
}

void rt_send_json(struct bt_rt *rt, json_t *o)
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

json_t *rt_ev_new(const char *type)
{
	json_t *o = json_object();
	json_object_set_new(o, "type", json_string(type));
	return o;
}

void rt_send_error(struct bt_rt *rt, const char *type, const char *code,
		       const char *message, const char *param,
		       const char *event_id)
{
	json_t *o = rt_ev_new("error"), *e = json_object();

	json_object_set_new(e, "type", json_string(type));
	json_object_set_new(e, "code", code ? json_string(code) : json_null());
	json_object_set_new(e, "message", json_string(message));
	json_object_set_new(e, "param", param && param[0] ?
			    json_string(param) : json_null());
	json_object_set_new(e, "event_id", event_id ? json_string(event_id) :
			    json_null());
	json_object_set_new(o, "error", e);
	rt_send_json(rt, o);
}

void rt_flush_deferred(struct bt_rt *rt)
{
	struct mbuf *mb = rt->deferred;
	const char *js;
	size_t n;

	mb->pos = 0;
	while (bt_rt_batch_next(mb, &js, &n))
		rt->sendh(js, n, rt->arg);
	mbuf_reset(mb);
}

static json_t *fmt_json(enum bt_rt_fmt f)
{
	json_t *o = json_object();
	json_object_set_new(o, "type", json_string(fmt_name(f)));
	json_object_set_new(o, "rate", json_integer(rt_fmt_rate(f)));
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

void rt_send_session(struct bt_rt *rt, const char *type)
{
	json_t *o = rt_ev_new(type);
	json_object_set_new(o, "session", session_json(rt));
	rt_send_json(rt, o);
}

static json_t *prev_item(const struct bt_rt *rt)
{
	return rt->last_item[0] ? json_string(rt->last_item) : json_null();
}

json_t *rt_message_item(const char *id, const char *role,
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

json_t *rt_part_new(const char *type, const char *key, const char *text)
{
	json_t *p = json_object();
	json_object_set_new(p, "type", json_string(type));
	json_object_set_new(p, key, text ? json_string(text) : json_null());
	return p;
}

/* conversation.item.added then .done for a finished item */
void rt_announce_item(struct bt_rt *rt, json_t *item)
{
	json_t *o = rt_ev_new("conversation.item.added");
	char id[sizeof(rt->last_item)];

	/* copied: sending the event below frees the item */
	str_ncpy(id, json_string_value(json_object_get(item, "id")) ?: "",
		 sizeof(id));
	json_object_set_new(o, "previous_item_id", prev_item(rt));
	json_object_set_new(o, "item", json_incref(item));
	rt_send_json(rt, o);
	o = rt_ev_new("conversation.item.done");
	json_object_set_new(o, "previous_item_id", prev_item(rt));
	json_object_set_new(o, "item", item);
	rt_send_json(rt, o);
	str_ncpy(rt->last_item, id, sizeof(rt->last_item));
}

static void speech_started(struct bt_rt *rt)
{
	const char *id = bt_session_utt_item_id(rt->s);
	json_t *o;

	if (rt->td == BT_RT_TD_NONE || rt->started_sent)
		return;
	rt->started_sent = true;
	rt->partial[0] = '\0';
	o = rt_ev_new("input_audio_buffer.speech_started");
	json_object_set_new(o, "audio_start_ms",
			    json_integer((json_int_t)rt->speech_start_ms));
	json_object_set_new(o, "item_id", json_string(id ? id : ""));
	rt_send_json(rt, o);
}

void rt_user_item(struct bt_rt *rt, const struct bt_event *ev)
{
	const char *id = ev->item_id ? ev->item_id : "";
	const char *text = ev->text ? ev->text : "";
	json_t *o;

	if (rt->td != BT_RT_TD_NONE) {
		o = rt_ev_new("input_audio_buffer.speech_stopped");
		json_object_set_new(o, "audio_end_ms", json_integer(
			(json_int_t)rt->speech_end_ms));
		json_object_set_new(o, "item_id", json_string(id));
		rt_send_json(rt, o);
	}
	o = rt_ev_new("input_audio_buffer.committed");
	json_object_set_new(o, "previous_item_id", prev_item(rt));
	json_object_set_new(o, "item_id", json_string(id));
	rt_send_json(rt, o);
	rt_announce_item(rt, rt_message_item(id, "user", "completed",
		rt_part_new("input_audio", "transcript", text)));
	if (rt->transcription) {
		o = rt_ev_new("conversation.item.input_audio_transcription."
			   "completed");
		json_object_set_new(o, "item_id", json_string(id));
		json_object_set_new(o, "content_index", json_integer(0));
		json_object_set_new(o, "transcript", json_string(text));
		rt_send_json(rt, o);
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
	o = rt_ev_new("conversation.item.input_audio_transcription.delta");
	json_object_set_new(o, "item_id", json_string(id ? id : ""));
	json_object_set_new(o, "content_index", json_integer(0));
	/* deltas only ever add; a revised partial is given whole aside */
	json_object_set_new(o, "delta", json_string(
		!strncmp(text, rt->partial, n) ? text + n : ""));
	json_object_set_new(o, "banter_partial", json_string(text));
	rt_send_json(rt, o);
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
	json_t *o = rt_ev_new(type);
	json_object_set_new(o, "response_id", json_string(rt->resp_id));
	json_object_set_new(o, "item_id", json_string(rt->resp_item));
	json_object_set_new(o, "output_index", json_integer(0));
	json_object_set_new(o, "content_index", json_integer(0));
	return o;
}

static json_t *resp_part(const struct bt_rt *rt, const char *text)
{
	return rt->resp_audio ? rt_part_new("audio", "transcript", text) :
		rt_part_new("text", "text", text);
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
		o = rt_ev_new("input_audio_buffer.timeout_triggered");
		json_object_set_new(o, "audio_start_ms", json_integer(
			(json_int_t)rt->speech_end_ms));
		json_object_set_new(o, "audio_end_ms", json_integer(
			(json_int_t)bt_session_now_ms(rt->s)));
		json_object_set_new(o, "item_id", json_string(rt->resp_item));
		rt_send_json(rt, o);
	}
	json_decref(js);

	o = rt_ev_new("response.created");
	json_object_set_new(o, "response", response_json(rt, "in_progress",
							  NULL, NULL));
	rt_send_json(rt, o);
	it = rt_message_item(rt->resp_item, "assistant", "in_progress", NULL);
	o = rt_ev_new("response.output_item.added");
	json_object_set_new(o, "response_id", json_string(rt->resp_id));
	json_object_set_new(o, "output_index", json_integer(0));
	json_object_set_new(o, "item", json_incref(it));
	rt_send_json(rt, o);
	o = rt_ev_new("conversation.item.added");
	json_object_set_new(o, "previous_item_id", prev_item(rt));
	json_object_set_new(o, "item", it);
	rt_send_json(rt, o);
	str_ncpy(rt->last_item, rt->resp_item, sizeof(rt->last_item));
	o = resp_event(rt, "response.content_part.added");
	json_object_set_new(o, "part", resp_part(rt, ""));
	rt_send_json(rt, o);
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
	rt_send_json(rt, o);
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
	/* a reply of only function calls has no text (and no buffer) */
	if (full && rt->resp_text->end)
		memcpy(full, rt->resp_text->buf, rt->resp_text->end);
	/* a cut reply keeps what was heard; a whole one its text */
	text = reason ? (heard ? heard : "") : (full ? full : "");
	if (rt->resp_audio) {
		rt_send_json(rt, resp_event(rt, "response.output_audio.done"));
		o = resp_event(rt, "response.output_audio_transcript.done");
		json_object_set_new(o, "transcript", json_string(text));
		rt_send_json(rt, o);
	}
	else {
		o = resp_event(rt, "response.output_text.done");
		json_object_set_new(o, "text", json_string(text));
		rt_send_json(rt, o);
	}
	o = resp_event(rt, "response.content_part.done");
	json_object_set_new(o, "part", resp_part(rt, text));
	rt_send_json(rt, o);

	it = rt_message_item(rt->resp_item, "assistant", reason ? "incomplete" :
			  "completed", rt->resp_audio ?
			  rt_part_new("output_audio", "transcript", text) :
			  rt_part_new("output_text", "text", text));
	o = rt_ev_new("response.output_item.done");
	json_object_set_new(o, "response_id", json_string(rt->resp_id));
	json_object_set_new(o, "output_index", json_integer(0));
	json_object_set_new(o, "item", json_incref(it));
	rt_send_json(rt, o);
	o = rt_ev_new("conversation.item.done");
	json_object_set_new(o, "previous_item_id", json_null());
	json_object_set_new(o, "item", json_incref(it));
	rt_send_json(rt, o);
	out = json_array();
	json_array_append_new(out, it);
	json_array_extend(out, rt->resp_calls);
	json_array_clear(rt->resp_calls);
	o = rt_ev_new("response.done");
	json_object_set_new(o, "response", response_json(rt, reason ?
		"cancelled" : "completed", reason, out));
	rt_send_json(rt, o);
	mem_deref(full);
}

/*
 * The brain called one of the client's function tools: a function_call
 * item of the response, after its message, as OpenAI's Realtime model
 * announces one (added, arguments delta and done, item done). The client
 * answers with a function_call_output item and response.create.
 */
static void function_call(struct bt_rt *rt, const struct bt_event *ev)
{
	json_t *js = json_loads(ev->json, 0, NULL), *it, *o;
	json_int_t idx = 1 + (json_int_t)json_array_size(rt->resp_calls);
	const char *cid = json_string_value(json_object_get(js, "call_id"));
	const char *name = json_string_value(json_object_get(js, "name"));
	const char *args = json_string_value(json_object_get(js,
							     "arguments"));

	if (!rt->resp_active || !cid || !name || !ev->item_id) {
		json_decref(js);
		return;
	}
	it = json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:s}", "id", ev->item_id,
		       "object", "realtime.item", "type", "function_call",
		       "status", "in_progress", "name", name, "call_id", cid,
		       "arguments", "");
	o = rt_ev_new("response.output_item.added");
	json_object_set_new(o, "response_id", json_string(rt->resp_id));
	json_object_set_new(o, "output_index", json_integer(idx));
	json_object_set_new(o, "item", json_deep_copy(it));
	rt_send_json(rt, o);
	o = rt_ev_new("conversation.item.added");
	json_object_set_new(o, "previous_item_id", prev_item(rt));
	json_object_set_new(o, "item", json_deep_copy(it));
	rt_send_json(rt, o);
	str_ncpy(rt->last_item, ev->item_id, sizeof(rt->last_item));
	o = rt_ev_new("response.function_call_arguments.delta");
	json_object_set_new(o, "response_id", json_string(rt->resp_id));
	json_object_set_new(o, "item_id", json_string(ev->item_id));
	json_object_set_new(o, "output_index", json_integer(idx));
	json_object_set_new(o, "call_id", json_string(cid));
	json_object_set_new(o, "delta", json_string(args ? args : "{}"));
	rt_send_json(rt, o);
	o = rt_ev_new("response.function_call_arguments.done");
	json_object_set_new(o, "response_id", json_string(rt->resp_id));
	json_object_set_new(o, "item_id", json_string(ev->item_id));
	json_object_set_new(o, "output_index", json_integer(idx));
	json_object_set_new(o, "call_id", json_string(cid));
	json_object_set_new(o, "name", json_string(name));
	json_object_set_new(o, "arguments", json_string(args ? args : "{}"));
	rt_send_json(rt, o);
	json_object_set_new(it, "status", json_string("completed"));
	json_object_set_new(it, "arguments", json_string(args ? args : "{}"));
	o = rt_ev_new("response.output_item.done");
	json_object_set_new(o, "response_id", json_string(rt->resp_id));
	json_object_set_new(o, "output_index", json_integer(idx));
	json_object_set_new(o, "item", json_deep_copy(it));
	rt_send_json(rt, o);
	o = rt_ev_new("conversation.item.done");
	json_object_set_new(o, "previous_item_id", json_null());
	json_object_set_new(o, "item", json_deep_copy(it));
	rt_send_json(rt, o);
	json_array_append_new(rt->resp_calls, it);
	json_decref(js);
}

void rt_on_event(const struct bt_event *ev, void *arg)
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
		rt_user_item(rt, ev);
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
	case BT_EV_FUNCTION_CALL:
		function_call(rt, ev);
		break;
	case BT_EV_TURN:
		/* banter's own per-turn trace, latency figures included */
		o = rt_ev_new("banter.turn");
		json_object_set_new(o, "turn", json_loads(ev->json, 0, NULL));
		rt_send_json(rt, o);
		break;
	case BT_EV_RECORDING:
		/* whether this call is recorded, for the client to show */
		o = rt_ev_new("banter.recording");
		json_object_set_new(o, "recording", json_loads(ev->json, 0,
							       NULL));
		rt_send_json(rt, o);
		break;
	case BT_EV_TRANSFER:
		/* the agent asked for a transfer this connection cannot make:
		 * the client sees it fail, the agent says so */
		o = rt_ev_new("banter.transfer");
		json_object_set_new(o, "transfer", json_loads(ev->json, 0,
							      NULL));
		rt_send_json(rt, o);
		break;
	case BT_EV_ERROR:
		rt_send_error(rt, "server_error", NULL, ev->text ? ev->text :
			   "error", NULL, NULL);
		break;
	case BT_EV_ENDED:
		rt->ended = true;
		break;
	default:
		break;
	}
}

void rt_send_audio(struct bt_rt *rt, const int16_t *frame)
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
