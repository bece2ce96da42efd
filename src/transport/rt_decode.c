/**
 * @file rt_decode.c  Realtime client events: JSON text in, a checked
 *                    struct or the error event's fields out.
 *
 * Nothing here touches a session, so every malformed message is answered
 * the same way whatever state the call is in, and the decoder can be
 * fuzzed alone (tests/fuzz).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include "transport/realtime.h"

static const struct {
	const char *name;
	enum bt_rt_type type;
} types[] = {
	{"session.update", BT_RT_SESSION_UPDATE},
	{"input_audio_buffer.append", BT_RT_AUDIO_APPEND},
	{"input_audio_buffer.commit", BT_RT_AUDIO_COMMIT},
	{"input_audio_buffer.clear", BT_RT_AUDIO_CLEAR},
	{"conversation.item.create", BT_RT_ITEM_CREATE},
	{"conversation.item.retrieve", BT_RT_ITEM_RETRIEVE},
	{"conversation.item.truncate", BT_RT_ITEM_TRUNCATE},
	{"conversation.item.delete", BT_RT_ITEM_DELETE},
	{"response.create", BT_RT_RESPONSE_CREATE},
	{"response.cancel", BT_RT_RESPONSE_CANCEL},
	{"output_audio_buffer.clear", BT_RT_OUTPUT_AUDIO_CLEAR},
};

static int fail(struct bt_rt_error *er, int err, const char *code,
		const char *param, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));

static int fail(struct bt_rt_error *er, int err, const char *code,
		const char *param, const char *fmt, ...)
{
	va_list ap;

	er->type = "invalid_request_error";
	er->code = code;
	snprintf(er->param, sizeof(er->param), "%s", param ? param : "");
	va_start(ap, fmt);
	vsnprintf(er->message, sizeof(er->message), fmt, ap);
	va_end(ap);
	return err;
}

/* A string member or NULL; a present non-string is an error. */
static int opt_str(const json_t *o, const char *key, const char **out,
		   struct bt_rt_error *er, const char *param)
{
	const json_t *v = json_object_get(o, key);

	*out = NULL;
	if (!v || json_is_null(v))
		return 0;
	if (!json_is_string(v))
		return fail(er, EINVAL, "invalid_type", param,
			    "%s must be a string", param);
	*out = json_string_value(v);
	return 0;
}

static int fmt_parse(const json_t *f, enum bt_rt_fmt *out,
		     struct bt_rt_error *er, const char *param)
{
	const char *t;
	const json_t *rate;

	*out = BT_RT_FMT_NONE;
	if (!f || json_is_null(f))
		return 0;
	/* the beta's bare strings too: "pcm16", "g711_ulaw", "g711_alaw" */
	if (json_is_string(f))
		t = json_string_value(f);
	else if (json_is_object(f) &&
		 json_is_string(json_object_get(f, "type")))
		t = json_string_value(json_object_get(f, "type"));
	else
		return fail(er, EINVAL, "invalid_type", param, "%s must be an "
			    "object like {\"type\":\"audio/pcm\",\"rate\":"
			    "24000}", param);
	rate = json_is_object(f) ? json_object_get(f, "rate") : NULL;
	if (!strcmp(t, "audio/pcm") || !strcmp(t, "pcm16")) {
		if (rate && (!json_is_integer(rate) ||
			     json_integer_value(rate) != 24000))
			return fail(er, EINVAL, "invalid_value", param,
				    "%s.rate must be 24000 for audio/pcm",
				    param);
		*out = BT_RT_FMT_PCM24;
	}
	else if (!strcmp(t, "audio/pcmu") || !strcmp(t, "g711_ulaw"))
		*out = BT_RT_FMT_PCMU;
	else if (!strcmp(t, "audio/pcma") || !strcmp(t, "g711_alaw"))
		*out = BT_RT_FMT_PCMA;
	else
		return fail(er, EINVAL, "invalid_value", param,
			    "%s.type \"%.40s\" is not supported: use "
			    "audio/pcm (24 kHz), audio/pcmu or audio/pcma",
			    param, t);
	return 0;
}

static int modalities(const json_t *m, int *text_only,
		      struct bt_rt_error *er, const char *param)
{
	bool audio = false, text = false;
	size_t i;
	const json_t *v;

	*text_only = -1;
	if (!m || json_is_null(m))
		return 0;
	if (!json_is_array(m) || !json_array_size(m))
		return fail(er, EINVAL, "invalid_type", param, "%s must be "
			    "[\"audio\"] or [\"text\"]", param);
	json_array_foreach(m, i, v) {
		const char *s = json_string_value(v);
		if (s && !strcmp(s, "audio"))
			audio = true;
		else if (s && !strcmp(s, "text"))
			text = true;
		else
			return fail(er, EINVAL, "invalid_value", param,
				    "%s may hold \"audio\" or \"text\"",
				    param);
	}
	*text_only = text && !audio;
	return 0;
}

static int opt_bool(const json_t *o, const char *key, int *out,
		    struct bt_rt_error *er, const char *param)
{
	const json_t *v = json_object_get(o, key);

	*out = -1;
	if (!v)
		return 0;
	if (!json_is_boolean(v))
		return fail(er, EINVAL, "invalid_type", param,
			    "%s must be true or false", param);
	*out = json_is_true(v);
	return 0;
}

static int opt_ms(const json_t *o, const char *key, int *out,
		  struct bt_rt_error *er, const char *param, int max)
{
	const json_t *v = json_object_get(o, key);

	*out = -1;
	if (!v || json_is_null(v))
		return 0;
	if (!json_is_integer(v) || json_integer_value(v) < 0 ||
	    json_integer_value(v) > max)
		return fail(er, EINVAL, "invalid_value", param,
			    "%s must be an integer from 0 to %d", param, max);
	*out = (int)json_integer_value(v);
	return 0;
}

static int turn_detection(const json_t *td, struct bt_rt_session_cfg *c,
			  struct bt_rt_error *er)
{
	const char *t;
	const json_t *v;
	int err;

	if (!td)
		return 0;
	if (json_is_null(td)) {
		c->td = BT_RT_TD_NONE;
		return 0;
	}
	if (!json_is_object(td) || !(t = json_string_value(
			json_object_get(td, "type"))))
		return fail(er, EINVAL, "invalid_type",
			    "session.audio.input.turn_detection",
			    "turn_detection must be null or an object with "
			    "type \"server_vad\" or \"semantic_vad\"");
	if (!strcmp(t, "server_vad"))
		c->td = BT_RT_TD_SERVER_VAD;
	else if (!strcmp(t, "semantic_vad"))
		c->td = BT_RT_TD_SEMANTIC_VAD;
	else
		return fail(er, EINVAL, "invalid_value",
			    "session.audio.input.turn_detection.type",
			    "turn_detection.type \"%.40s\" is unknown: use "
			    "server_vad, semantic_vad or null", t);
	v = json_object_get(td, "threshold");
	if (v && !json_is_null(v)) {
		if (!json_is_number(v) || json_number_value(v) < 0 ||
		    json_number_value(v) > 1)
			return fail(er, EINVAL, "invalid_value",
				    "session.audio.input.turn_detection."
				    "threshold", "threshold must be a number "
				    "from 0 to 1");
		c->threshold = json_number_value(v);
	}
	err = opt_ms(td, "prefix_padding_ms", &c->prefix_padding_ms, er,
		     "session.audio.input.turn_detection.prefix_padding_ms",
		     2000);
	err = err ? err : opt_ms(td, "silence_duration_ms",
		&c->silence_duration_ms, er,
		"session.audio.input.turn_detection.silence_duration_ms",
		10000);
	err = err ? err : opt_bool(td, "create_response", &c->create_response,
		er, "session.audio.input.turn_detection.create_response");
	err = err ? err : opt_bool(td, "interrupt_response",
		&c->interrupt_response, er,
		"session.audio.input.turn_detection.interrupt_response");
	if (err)
		return err;
	v = json_object_get(td, "idle_timeout_ms");
	if (v) {
		if (json_is_null(v))
			c->idle_timeout_ms = 0;
		else if (json_is_integer(v) && json_integer_value(v) >= 5000 &&
			 json_integer_value(v) <= 30000)
			c->idle_timeout_ms = json_integer_value(v);
		else
			return fail(er, EINVAL, "invalid_value",
				    "session.audio.input.turn_detection."
				    "idle_timeout_ms", "idle_timeout_ms must "
				    "be null or 5000 to 30000");
	}
	err = opt_str(td, "eagerness", &c->eagerness, er,
		      "session.audio.input.turn_detection.eagerness");
	if (err)
		return err;
	if (c->eagerness && strcmp(c->eagerness, "low") &&
	    strcmp(c->eagerness, "medium") && strcmp(c->eagerness, "high") &&
	    strcmp(c->eagerness, "auto"))
		return fail(er, EINVAL, "invalid_value",
			    "session.audio.input.turn_detection.eagerness",
			    "eagerness must be low, medium, high or auto");
	return 0;
}

/*
 * session.metadata: OpenAI's metadata shape (at most 16 pairs, keys up
 * to 64 characters, string values up to 512); "user_id" (or "caller_id")
 * names the caller, whose memory of earlier calls the agent recalls.
 */
#define CALLER_ID_MAX 127
static int metadata(const json_t *md, struct bt_rt_session_cfg *c,
		    struct bt_rt_error *er)
{
	const char *k, *ids[2] = {"user_id", "caller_id"};
	const json_t *v;

	if (!md || json_is_null(md))
		return 0;
	if (!json_is_object(md))
		return fail(er, EINVAL, "invalid_type", "session.metadata",
			    "session.metadata must be an object of string "
			    "values, such as {\"user_id\": \"+15551234567\"}");
	if (json_object_size(md) > 16)
		return fail(er, EINVAL, "invalid_value", "session.metadata",
			    "session.metadata holds at most 16 pairs");
	json_object_foreach((json_t *)md, k, v) {
		if (strlen(k) > 64)
			return fail(er, EINVAL, "invalid_value",
				    "session.metadata", "a metadata key is at "
				    "most 64 characters");
		if (!json_is_string(v) || json_string_length(v) > 512)
			return fail(er, EINVAL, "invalid_value",
				    "session.metadata", "metadata value \"%.64s\""
				    " must be a string of at most 512 "
				    "characters", k);
	}
	for (size_t i = 0; i < 2; i++) {
		const char *id = json_string_value(json_object_get(md,
								   ids[i]));
		char param[64];

		if (!id)
			continue;
		snprintf(param, sizeof(param), "session.metadata.%s", ids[i]);
		if (!id[0] || strlen(id) > CALLER_ID_MAX)
			return fail(er, EINVAL, "invalid_value", param,
				    "%s must be 1 to %d bytes (a phone number, "
				    "your user id)", param, CALLER_ID_MAX);
		for (const char *p = id; *p; p++)
			if ((unsigned char)*p < 0x20 || *p == 0x7f)
				return fail(er, EINVAL, "invalid_value", param,
					    "%s must hold no control "
					    "characters", param);
		if (c->caller_id && strcmp(c->caller_id, id))
			return fail(er, EINVAL, "invalid_value", param,
				    "session.metadata.user_id and .caller_id "
				    "name different callers: give one");
		c->caller_id = id;
	}
	return 0;
}

static int session_cfg(const json_t *sj, struct bt_rt_session_cfg *c,
		       struct bt_rt_error *er)
{
	const json_t *audio, *in, *out, *v;
	int err;

	c->text_only = -1;
	c->threshold = -1;
	c->prefix_padding_ms = c->silence_duration_ms = -1;
	c->create_response = c->interrupt_response = -1;
	c->idle_timeout_ms = -1;
	c->transcription = -1;
	if (!json_is_object(sj))
		return fail(er, EINVAL, "missing_required_parameter",
			    "session", "session.update needs a \"session\" "
			    "object");
	err = opt_str(sj, "instructions", &c->instructions, er,
		      "session.instructions");
	err = err ? err : opt_str(sj, "model", &c->model, er,
				  "session.model");
	err = err ? err : metadata(json_object_get(sj, "metadata"), c, er);
	err = err ? err : modalities(json_object_get(sj, "output_modalities"),
				     &c->text_only, er,
				     "session.output_modalities");
	if (!err && c->text_only < 0)  /* the beta's name */
		err = modalities(json_object_get(sj, "modalities"),
				 &c->text_only, er, "session.modalities");
	if (err)
		return err;
	audio = json_object_get(sj, "audio");
	if (audio && !json_is_object(audio))
		return fail(er, EINVAL, "invalid_type", "session.audio",
			    "session.audio must be an object");
	in = json_object_get(audio, "input");
	out = json_object_get(audio, "output");
	if ((in && !json_is_object(in)) || (out && !json_is_object(out)))
		return fail(er, EINVAL, "invalid_type", "session.audio",
			    "session.audio.input and .output must be "
			    "objects");
	err = fmt_parse(json_object_get(in, "format"), &c->in_fmt, er,
			"session.audio.input.format");
	err = err ? err : fmt_parse(json_object_get(out, "format"),
				    &c->out_fmt, er,
				    "session.audio.output.format");
	err = err ? err : opt_str(out, "voice", &c->voice, er,
				  "session.audio.output.voice");
	err = err ? err : turn_detection(json_object_get(in,
				"turn_detection"), c, er);
	if (err)
		return err;
	v = json_object_get(out, "speed");
	if (v && !json_is_null(v)) {
		if (!json_is_number(v) || json_number_value(v) < 0.25 ||
		    json_number_value(v) > 4.0)
			return fail(er, EINVAL, "invalid_value",
				    "session.audio.output.speed", "speed "
				    "must be a number from 0.25 to 4.0");
		c->speed = json_number_value(v);
	}
	v = json_object_get(in, "transcription");
	if (v)
		c->transcription = !json_is_null(v);
	v = json_object_get(sj, "tools");
	if (v && !json_is_null(v)) {
		size_t i;
		const json_t *t;

		if (!json_is_array(v))
			return fail(er, EINVAL, "invalid_type",
				    "session.tools", "tools must be an array");
		json_array_foreach(v, i, t) {
			if (!json_is_object(t) || !json_is_string(
				    json_object_get(t, "name")))
				return fail(er, EINVAL, "invalid_value",
					    "session.tools", "each tool needs "
					    "a \"name\" (tool %zu has none)",
					    i);
		}
		c->tools = v;
	}
	return 0;
}

/* A message's text: the first input_text / text / output_text part. */
static int item_text(const json_t *item, struct bt_rt_event *ev,
		     struct bt_rt_error *er)
{
	const json_t *content = json_object_get(item, "content");
	size_t i;
	const json_t *p;

	if (!json_is_array(content) || !json_array_size(content))
		return fail(er, EINVAL, "missing_required_parameter",
			    "item.content", "a message item needs a content "
			    "array such as [{\"type\":\"input_text\","
			    "\"text\":\"hello\"}]");
	json_array_foreach(content, i, p) {
		const char *t = json_string_value(json_object_get(p, "type"));
		const char *key = NULL;

		if (!t)
			return fail(er, EINVAL, "invalid_type",
				    "item.content", "each content part needs "
				    "a type");
		if (!strcmp(t, "input_text") || !strcmp(t, "text") ||
		    !strcmp(t, "output_text"))
			key = "text";
		else if (!strcmp(t, "input_audio") ||
			 !strcmp(t, "output_audio") || !strcmp(t, "audio"))
			key = "transcript";
		else
			return fail(er, EINVAL, "invalid_value",
				    "item.content", "content type \"%.40s\" "
				    "is not supported: use input_text", t);
		if (json_is_string(json_object_get(p, key))) {
			ev->text = json_string_value(json_object_get(p, key));
			return 0;
		}
	}
	return fail(er, EINVAL, "missing_required_parameter", "item.content",
		    "the message has no text: give it as "
		    "{\"type\":\"input_text\",\"text\":\"...\"} (audio "
		    "content is not accepted in an item; append it to the "
		    "input audio buffer instead)");
}

static int item_create(const json_t *root, struct bt_rt_event *ev,
		       struct bt_rt_error *er)
{
	const json_t *item = json_object_get(root, "item");
	int err;

	if (!json_is_object(item))
		return fail(er, EINVAL, "missing_required_parameter", "item",
			    "conversation.item.create needs an \"item\" "
			    "object");
	err = opt_str(root, "previous_item_id", &ev->previous_item_id, er,
		      "previous_item_id");
	err = err ? err : opt_str(item, "id", &ev->item_id, er, "item.id");
	err = err ? err : opt_str(item, "type", &ev->item_type, er,
				  "item.type");
	if (err)
		return err;
	if (ev->item_id && (!ev->item_id[0] || strlen(ev->item_id) > 32))
		return fail(er, EINVAL, "invalid_value", "item.id",
			    "item.id must be 1 to 32 characters");
	if (!ev->item_type)
		ev->item_type = "message";
	if (!strcmp(ev->item_type, "message")) {
		err = opt_str(item, "role", &ev->role, er, "item.role");
		if (err)
			return err;
		if (!ev->role || (strcmp(ev->role, "user") &&
				  strcmp(ev->role, "assistant") &&
				  strcmp(ev->role, "system")))
			return fail(er, EINVAL, "invalid_value", "item.role",
				    "a message's role must be user, "
				    "assistant or system");
		return item_text(item, ev, er);
	}
	if (!strcmp(ev->item_type, "function_call_output")) {
		err = opt_str(item, "call_id", &ev->call_id, er,
			      "item.call_id");
		err = err ? err : opt_str(item, "output", &ev->text, er,
					  "item.output");
		if (err)
			return err;
		if (!ev->call_id || !ev->text)
			return fail(er, EINVAL, "missing_required_parameter",
				    "item.output", "a function_call_output "
				    "needs call_id and output (a string)");
		return 0;
	}
	if (!strcmp(ev->item_type, "function_call")) {
		err = opt_str(item, "call_id", &ev->call_id, er,
			      "item.call_id");
		err = err ? err : opt_str(item, "arguments", &ev->text, er,
					  "item.arguments");
		if (err)
			return err;
		if (!ev->call_id || !json_is_string(json_object_get(item,
								  "name")))
			return fail(er, EINVAL, "missing_required_parameter",
				    "item.name", "a function_call needs "
				    "call_id and name");
		if (!ev->text)
			ev->text = "{}";
		return 0;
	}
	return fail(er, EINVAL, "invalid_value", "item.type", "item.type "
		    "\"%.40s\" is unknown: use message, function_call or "
		    "function_call_output", ev->item_type);
}

static int need_item_id(const json_t *root, struct bt_rt_event *ev,
			struct bt_rt_error *er)
{
	int err = opt_str(root, "item_id", &ev->item_id, er, "item_id");

	if (!err && !ev->item_id)
		err = fail(er, EINVAL, "missing_required_parameter", "item_id",
			   "item_id is required");
	return err;
}

int bt_rt_decode(const char *text, size_t len, struct bt_rt_event *ev,
		 struct bt_rt_error *er, char *evid_buf, size_t evid_sz)
{
	json_error_t je;
	json_t *root;
	const char *type, *eid = NULL;
	const json_t *v;
	int err = 0;
	size_t i;

	memset(ev, 0, sizeof(*ev));
	memset(er, 0, sizeof(*er));
	if (evid_sz)
		evid_buf[0] = '\0';
	if (len > BT_RT_MAX_MESSAGE)
		return fail(er, EINVAL, "message_too_large", NULL, "the "
			    "message is %zu bytes; at most %d are accepted: "
			    "send audio in smaller appends", len,
			    BT_RT_MAX_MESSAGE);
	root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
	if (!root)
		return fail(er, EPROTO, "invalid_json", NULL, "the message "
			    "is not valid JSON (line %d, column %d: %.200s)",
			    je.line, je.column, je.text);
	if (!json_is_object(root)) {
		json_decref(root);
		return fail(er, EPROTO, "invalid_json", NULL, "a client event "
			    "must be a JSON object with a \"type\"");
	}
	v = json_object_get(root, "event_id");
	if (json_is_string(v)) {
		eid = json_string_value(v);
		snprintf(evid_buf, evid_sz, "%s", eid);
		er->event_id = evid_buf;
	}
	type = json_string_value(json_object_get(root, "type"));
	if (!type) {
		json_decref(root);
		return fail(er, EINVAL, "missing_required_parameter", "type",
			    "the event has no \"type\" string");
	}
	for (i = 0; i < sizeof(types) / sizeof(types[0]); i++)
		if (!strcmp(type, types[i].name))
			break;
	if (i == sizeof(types) / sizeof(types[0])) {
		err = fail(er, EINVAL, "unknown_event", "type", "unknown "
			   "event type \"%.60s\": see the OpenAI Realtime "
			   "client events", type);
		json_decref(root);
		return err;
	}
	ev->type = types[i].type;
	ev->root = root;
	ev->event_id = eid;
	ev->audio_end_ms = -1;
	ev->resp_text_only = -1;

	switch (ev->type) {
	case BT_RT_SESSION_UPDATE:
		err = session_cfg(json_object_get(root, "session"), &ev->cfg,
				  er);
		break;
	case BT_RT_AUDIO_APPEND:
		err = opt_str(root, "audio", &ev->audio, er, "audio");
		if (!err && !ev->audio)
			err = fail(er, EINVAL, "missing_required_parameter",
				   "audio", "input_audio_buffer.append needs "
				   "\"audio\": base64 of the input format");
		if (!err)
			ev->audio_len = strlen(ev->audio);
		break;
	case BT_RT_ITEM_CREATE:
		err = item_create(root, ev, er);
		break;
	case BT_RT_ITEM_RETRIEVE:
	case BT_RT_ITEM_DELETE:
		err = need_item_id(root, ev, er);
		break;
	case BT_RT_ITEM_TRUNCATE:
		err = need_item_id(root, ev, er);
		if (err)
			break;
		v = json_object_get(root, "audio_end_ms");
		if (!json_is_integer(v) || json_integer_value(v) < 0 ||
		    json_integer_value(v) > 24 * 3600 * 1000) {
			err = fail(er, EINVAL, "invalid_value",
				   "audio_end_ms", "audio_end_ms must be a "
				   "non-negative integer (milliseconds)");
			break;
		}
		ev->audio_end_ms = json_integer_value(v);
		v = json_object_get(root, "content_index");
		if (v && (!json_is_integer(v) || json_integer_value(v) != 0))
			err = fail(er, EINVAL, "invalid_value",
				   "content_index", "content_index must be 0 "
				   "(an assistant item has one audio part)");
		break;
	case BT_RT_RESPONSE_CREATE: {
		const json_t *r = json_object_get(root, "response");

		if (r && !json_is_null(r) && !json_is_object(r)) {
			err = fail(er, EINVAL, "invalid_type", "response",
				   "response must be an object");
			break;
		}
		err = opt_str(r, "conversation", &ev->conversation, er,
			      "response.conversation");
		err = err ? err : modalities(json_object_get(r,
				"output_modalities"), &ev->resp_text_only, er,
				"response.output_modalities");
		break;
	}
	case BT_RT_RESPONSE_CANCEL:
		err = opt_str(root, "response_id", &ev->response_id, er,
			      "response_id");
		break;
	default:
		break;
	}
	if (err) {
		bt_rt_event_free(ev);
		return err;
	}
	return 0;
}

void bt_rt_event_free(struct bt_rt_event *ev)
{
	if (!ev)
		return;
	json_decref(ev->root);
	ev->root = NULL;
}

int bt_rt_b64_decode(const char *in, size_t n, uint8_t *out, size_t *outn)
{
	static const signed char map[256] = {
		['A'] = 1, ['B'] = 2, ['C'] = 3, ['D'] = 4, ['E'] = 5,
		['F'] = 6, ['G'] = 7, ['H'] = 8, ['I'] = 9, ['J'] = 10,
		['K'] = 11, ['L'] = 12, ['M'] = 13, ['N'] = 14, ['O'] = 15,
		['P'] = 16, ['Q'] = 17, ['R'] = 18, ['S'] = 19, ['T'] = 20,
		['U'] = 21, ['V'] = 22, ['W'] = 23, ['X'] = 24, ['Y'] = 25,
		['Z'] = 26, ['a'] = 27, ['b'] = 28, ['c'] = 29, ['d'] = 30,
		['e'] = 31, ['f'] = 32, ['g'] = 33, ['h'] = 34, ['i'] = 35,
		['j'] = 36, ['k'] = 37, ['l'] = 38, ['m'] = 39, ['n'] = 40,
		['o'] = 41, ['p'] = 42, ['q'] = 43, ['r'] = 44, ['s'] = 45,
		['t'] = 46, ['u'] = 47, ['v'] = 48, ['w'] = 49, ['x'] = 50,
		['y'] = 51, ['z'] = 52, ['0'] = 53, ['1'] = 54, ['2'] = 55,
		['3'] = 56, ['4'] = 57, ['5'] = 58, ['6'] = 59, ['7'] = 60,
		['8'] = 61, ['9'] = 62, ['+'] = 63, ['/'] = 64,
	};
	uint32_t acc = 0;
	unsigned bits = 0;
	size_t o = 0, i;

	while (n && in[n - 1] == '=')
		--n;
	for (i = 0; i < n; i++) {
		int v = map[(unsigned char)in[i]];
		if (!v)
			return EINVAL;
		acc = (acc << 6) | (uint32_t)(v - 1);
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			if (o == *outn)
				return EOVERFLOW;
			out[o++] = (uint8_t)(acc >> bits);
		}
	}
	if (bits >= 6)  /* one lone character: not base64 */
		return EINVAL;
	*outn = o;
	return 0;
}
