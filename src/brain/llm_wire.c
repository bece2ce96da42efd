/**
 * @file llm_wire.c  The two wire formats: the OpenAI-compatible chat
 *                   completions API (OpenAI, Groq, Together, llama.cpp's
 *                   server, Ollama, vLLM) and Anthropic's Messages API;
 *                   each one's request body and streamed events.
 */
#include <errno.h>
#include <string.h>
#include "brain/llm_int.h"

/* ---- requests ---- */

static json_t *openai_tools(const json_t *tools)
{
	json_t *a = json_array();
	size_t i;
	json_t *t;

	json_array_foreach(tools, i, t) {
		json_t *f = json_object(), *o = json_object();
		const json_t *p = json_object_get(t, "parameters");

		json_object_set(f, "name", json_object_get(t, "name"));
		json_object_set_new(f, "description", json_string(
			json_string_value(json_object_get(t, "description")) ?
			json_string_value(json_object_get(t, "description")) :
			""));
		json_object_set_new(f, "parameters", p ? json_deep_copy(p) :
			json_pack("{s:s,s:{}}", "type", "object",
				  "properties"));
		json_object_set_new(o, "type", json_string("function"));
		json_object_set_new(o, "function", f);
		json_array_append_new(a, o);
	}
	return a;
}

static json_t *anthropic_tools(const json_t *tools)
{
	json_t *a = json_array();
	size_t i;
	json_t *t;

	json_array_foreach(tools, i, t) {
		json_t *o = json_object();
		const json_t *p = json_object_get(t, "parameters");
		const char *d = json_string_value(json_object_get(t,
							"description"));

		json_object_set(o, "name", json_object_get(t, "name"));
		json_object_set_new(o, "description", json_string(d ? d : ""));
		json_object_set_new(o, "input_schema", p ? json_deep_copy(p) :
			json_pack("{s:s,s:{}}", "type", "object",
				  "properties"));
		json_array_append_new(a, o);
	}
	return a;
}

/* The text an assistant item stands for, with the interruption said. */
static json_t *assistant_text(const json_t *m)
{
	const char *c = json_string_value(json_object_get(m, "content"));
	char buf[4200];

	if (!json_is_true(json_object_get(m, "interrupted")))
		return json_string(c ? c : "");
	snprintf(buf, sizeof(buf), "%s%s[the caller interrupted me here]",
		 c ? c : "", c && c[0] ? " " : "");
	return json_string(buf);
}

static json_t *openai_messages(const struct llm_req *rq, const json_t *msgs)
{
	json_t *a = json_array(), *m;
	size_t i;

	if (rq->system && rq->system[0])
		json_array_append_new(a, json_pack("{s:s,s:s}", "role",
				      "system", "content", rq->system));
	json_array_foreach(msgs, i, m) {
		const char *role = json_string_value(json_object_get(m,
								     "role"));
		json_t *o = json_object();

		json_object_set_new(o, "role", json_string(role));
		if (!strcmp(role, "assistant")) {
			const json_t *tc = json_object_get(m, "tool_calls");
			size_t j;
			json_t *c;

			json_object_set_new(o, "content", assistant_text(m));
			if (json_array_size(tc)) {
				json_t *ca = json_array();
				json_array_foreach(tc, j, c) {
					json_array_append_new(ca, json_pack(
					"{s:O,s:s,s:{s:O,s:O}}",
					"id", json_object_get(c, "id"),
					"type", "function", "function",
					"name", json_object_get(c, "name"),
					"arguments",
					json_object_get(c, "arguments")));
				}
				json_object_set_new(o, "tool_calls", ca);
			}
		}
		else if (!strcmp(role, "tool")) {
			json_object_set(o, "tool_call_id",
					json_object_get(m, "tool_call_id"));
			json_object_set(o, "content",
					json_object_get(m, "content"));
		}
		else {
			json_object_set(o, "content",
					json_object_get(m, "content"));
		}
		json_array_append_new(a, o);
	}
	return a;
}

/* Anthropic: roles alternate, tool results are user content blocks, and
 * the first message is the user's. */
static json_t *anthropic_messages(const json_t *msgs)
{
	json_t *a = json_array(), *m, *last = NULL;
	const char *last_role = "";
	size_t i;

	json_array_foreach(msgs, i, m) {
		const char *role = json_string_value(json_object_get(m,
								     "role"));
		const char *r = !strcmp(role, "assistant") ? "assistant"
							   : "user";
		json_t *blocks;

		if (!json_array_size(a) && !strcmp(r, "assistant")) {
			json_array_append_new(a, json_pack(
				"{s:s,s:[{s:s,s:s}]}", "role", "user",
				"content", "type", "text", "text",
				"(the call begins)"));
			last = json_array_get(a, 0);
			last_role = "user";
		}
		if (strcmp(r, last_role)) {
			last = json_pack("{s:s,s:[]}", "role", r, "content");
			json_array_append_new(a, last);
			last_role = r;
		}
		blocks = json_object_get(last, "content");
		if (!strcmp(role, "tool")) {
			json_array_append_new(blocks, json_pack(
				"{s:s,s:O,s:O}", "type", "tool_result",
				"tool_use_id", json_object_get(m,
							"tool_call_id"),
				"content", json_object_get(m, "content")));
		}
		else if (!strcmp(role, "assistant")) {
			json_t *t = assistant_text(m);
			const json_t *tc = json_object_get(m, "tool_calls");
			size_t j;
			json_t *c;

			if (json_string_length(t))
				json_array_append_new(blocks, json_pack(
					"{s:s,s:o}", "type", "text", "text",
					t));
			else
				json_decref(t);
			json_array_foreach(tc, j, c) {
				json_t *in = json_loads(json_string_value(
					json_object_get(c, "arguments")), 0,
					NULL);
				if (!json_is_object(in)) {
					json_decref(in);
					in = json_object();
				}
				json_array_append_new(blocks, json_pack(
					"{s:s,s:O,s:O,s:o}", "type",
					"tool_use", "id",
					json_object_get(c, "id"), "name",
					json_object_get(c, "name"), "input",
					in));
			}
		}
		else {
			json_array_append_new(blocks, json_pack(
				"{s:s,s:O}", "type", "text", "text",
				json_object_get(m, "content")));
		}
	}
	/* an assistant message with no blocks (heard nothing) is refused */
	for (i = json_array_size(a); i-- > 0;) {
		json_t *o = json_array_get(a, i);
		if (!json_array_size(json_object_get(o, "content")))
			json_object_set_new(o, "content", json_pack(
				"[{s:s,s:s}]", "type", "text", "text",
				"(silence)"));
	}
	return a;
}

int llm_wire_body(const struct llm_req *rq, const json_t *msgs, char **bodyp)
{
	json_t *o = json_object();
	char *js;
	int err = 0;

	json_object_set_new(o, "model", json_string(rq->t->model));
	json_object_set_new(o, "stream", json_true());
	json_object_set_new(o, "max_tokens", json_integer(
		rq->max_tokens ? rq->max_tokens : 400));
	if (rq->temperature >= 0)
		json_object_set_new(o, "temperature",
				    json_real(rq->temperature));
	if (rq->t->wire == WIRE_ANTHROPIC) {
		if (rq->system && rq->system[0])
			json_object_set_new(o, "system",
					    json_string(rq->system));
		json_object_set_new(o, "messages", anthropic_messages(msgs));
		if (json_array_size(rq->tools))
			json_object_set_new(o, "tools",
					    anthropic_tools(rq->tools));
	}
	else {
		json_object_set_new(o, "messages", openai_messages(rq, msgs));
		json_object_set_new(o, "stream_options",
				    json_pack("{s:b}", "include_usage", 1));
		if (json_array_size(rq->tools))
			json_object_set_new(o, "tools",
					    openai_tools(rq->tools));
	}
	js = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	if (!js)
		return ENOMEM;
	err = str_dup(bodyp, js);
	free(js);
	return err;
}

void llm_wire_headers(const struct llm_target *t, char hdr[4][300],
		      const char *out[5])
{
	size_t n = 0;

	snprintf(hdr[n], sizeof(hdr[n]), "Content-Type: application/json");
	out[n] = hdr[n];
	++n;
	snprintf(hdr[n], sizeof(hdr[n]), "Accept: text/event-stream");
	out[n] = hdr[n];
	++n;
	if (t->wire == WIRE_ANTHROPIC) {
		snprintf(hdr[n], sizeof(hdr[n]),
			 "anthropic-version: 2023-06-01");
		out[n] = hdr[n];
		++n;
		if (t->key[0]) {
			snprintf(hdr[n], sizeof(hdr[n]), "x-api-key: %s",
				 t->key);
			out[n] = hdr[n];
			++n;
		}
	}
	else if (t->key[0]) {
		snprintf(hdr[n], sizeof(hdr[n]), "Authorization: Bearer %s",
			 t->key);
		out[n] = hdr[n];
		++n;
	}
	out[n] = NULL;
}

/* ---- streamed answers ---- */

static void errmsg_of(const json_t *e, char *buf, size_t sz)
{
	const char *m = json_string_value(json_object_get(e, "message"));
	const char *t = json_string_value(json_object_get(e, "type"));

	snprintf(buf, sz, "%s%s%s", t ? t : "", t && m ? ": " : "",
		 m ? m : (t ? "" : "an error without a message"));
}

void llm_wire_errmsg(const char *body, char *buf, size_t sz)
{
	json_t *o = json_loads(body ? body : "", 0, NULL);
	const json_t *e = json_object_get(o, "error");

	if (json_is_object(e))
		errmsg_of(e, buf, sz);
	else if (json_is_string(e))
		snprintf(buf, sz, "%s", json_string_value(e));
	else
		snprintf(buf, sz, "%.200s", body && body[0] ? body :
			 "no error body");
	json_decref(o);
}

static int openai_event(const char *data, const struct llm_stream_h *h,
			bool *endp)
{
	json_t *o, *ch, *d, *tc, *c;
	const char *fr;
	size_t i;

	if (!strcmp(data, "[DONE]")) {
		*endp = true;
		return 0;
	}
	o = json_loads(data, 0, NULL);
	if (!json_is_object(o)) {
		json_decref(o);
		return EPROTO;
	}
	if (json_object_get(o, "error")) {
		char msg[400];
		errmsg_of(json_object_get(o, "error"), msg, sizeof(msg));
		h->errorh(msg, h->arg);
		json_decref(o);
		return 0;
	}
	ch = json_array_get(json_object_get(o, "choices"), 0);
	d = json_object_get(ch, "delta");
	if (json_string_length(json_object_get(d, "content")))
		h->texth(json_string_value(json_object_get(d, "content")),
			 h->arg);
	tc = json_object_get(d, "tool_calls");
	json_array_foreach(tc, i, c) {
		const json_t *f = json_object_get(c, "function");
		json_int_t idx = json_integer_value(json_object_get(c,
								    "index"));

		if (idx < 0 || idx > 63)
			continue;
		h->toolh((unsigned)idx,
			 json_string_value(json_object_get(c, "id")),
			 json_string_value(json_object_get(f, "name")),
			 json_string_value(json_object_get(f, "arguments")),
			 h->arg);
	}
	fr = json_string_value(json_object_get(ch, "finish_reason"));
	if (fr && fr[0])
		h->finishh(fr, h->arg);
	json_decref(o);
	return 0;
}

static int anthropic_event(const char *data, const struct llm_stream_h *h,
			   bool *endp)
{
	json_t *o = json_loads(data, 0, NULL);
	const char *type;
	json_int_t idx;

	if (!json_is_object(o)) {
		json_decref(o);
		return EPROTO;
	}
	type = json_string_value(json_object_get(o, "type"));
	idx = json_integer_value(json_object_get(o, "index"));
	if (!type) {
		json_decref(o);
		return EPROTO;
	}
	if (!strcmp(type, "content_block_start")) {
		const json_t *b = json_object_get(o, "content_block");
		const char *bt = json_string_value(json_object_get(b, "type"));
		if (bt && !strcmp(bt, "tool_use") && idx >= 0 && idx < 64)
			h->toolh((unsigned)idx,
				 json_string_value(json_object_get(b, "id")),
				 json_string_value(json_object_get(b, "name")),
				 NULL, h->arg);
		else if (bt && !strcmp(bt, "text") &&
			 json_string_length(json_object_get(b, "text")))
			h->texth(json_string_value(json_object_get(b, "text")),
				 h->arg);
	}
	else if (!strcmp(type, "content_block_delta")) {
		const json_t *d = json_object_get(o, "delta");
		const char *dt = json_string_value(json_object_get(d, "type"));
		if (dt && !strcmp(dt, "text_delta") &&
		    json_string_length(json_object_get(d, "text")))
			h->texth(json_string_value(json_object_get(d, "text")),
				 h->arg);
		else if (dt && !strcmp(dt, "input_json_delta") && idx >= 0 &&
			 idx < 64)
			h->toolh((unsigned)idx, NULL, NULL, json_string_value(
				 json_object_get(d, "partial_json")), h->arg);
	}
	else if (!strcmp(type, "message_delta")) {
		const char *sr = json_string_value(json_object_get(
			json_object_get(o, "delta"), "stop_reason"));
		if (sr && sr[0])
			h->finishh(!strcmp(sr, "tool_use") ? "tool_calls" :
				   !strcmp(sr, "max_tokens") ? "length" :
				   "stop", h->arg);
	}
	else if (!strcmp(type, "message_stop")) {
		*endp = true;
	}
	else if (!strcmp(type, "error")) {
		char msg[400];
		errmsg_of(json_object_get(o, "error"), msg, sizeof(msg));
		h->errorh(msg, h->arg);
	}
	/* message_start, content_block_stop, ping: nothing to do */
	json_decref(o);
	return 0;
}

int llm_wire_event(enum llm_wire w, const char *event, const char *data,
		   const struct llm_stream_h *h, bool *endp)
{
	(void)event;  /* Anthropic repeats the event's name as "type" */
	return w == WIRE_ANTHROPIC ? anthropic_event(data, h, endp)
				   : openai_event(data, h, endp);
}
