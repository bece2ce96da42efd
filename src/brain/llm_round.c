/**
 * @file llm_round.c  One round's tool calls: each started (a built-in on
 *                    the worker pool, a webhook on the loop), held for
 *                    the caller's yes when marked confirm, handed to the
 *                    transport when it is the client's; then the next
 *                    round, or the end of the response.
 */
#include <stdlib.h>
#include <string.h>
#include "brain/llm_int.h"
#include "brain/slots.h"
#include "brain/transfer.h"

static void tool_filler_tmr(void *arg)
{
	struct resp *r = arg;

	if (r->pending && r->st)
		llm_filler(r, r->st->tool_filler_say);
}

static void call_key(const struct call *c, char *buf, size_t sz)
{
	snprintf(buf, sz, "%s|%s|%.*s", c->id, c->name,
		 c->args ? (int)c->args->end : 0,
		 c->args ? (const char *)c->args->buf : "");
}

const char *llm_call_args(struct call *c)
{
	if (!c->args || !c->args->end)
		return "{}";
	if (c->args->buf[c->args->end - 1] != '\0') {
		(void)mbuf_write_u8(c->args, 0);
		--c->args->end;
	}
	return (const char *)c->args->buf;
}

static void tool_back(int err, const char *result, void *arg)
{
	struct call *c = arg;
	struct resp *r = c->r;
	struct llm_st *st = r->st;
	char key[700];

	c->run = mem_deref(c->run);
	(void)str_dup(&c->result, result);
	if (r->late)
		llm_late_result(r, c, result);
	if (st) {
		call_key(c, key, sizeof(key));
		json_object_set_new(st->ran, key, json_string(result));
	}
	if (st && json_array_size(st->facts) < 16) {
		char f[400];
		snprintf(f, sizeof(f), "%s %.120s gave %.200s", c->name,
			 llm_call_args(c), result);
		json_array_append_new(st->facts, json_string(f));
	}
	/* into the history and the trace, cancelled or not */
	if (r->sink.toolh)
		r->sink.toolh(c->name, llm_call_args(c), result, err, r->sink.arg);
	if (--r->pending || r->starting)
		return;
	tmr_cancel(&r->tmr_filler);
	if (r->cancelled || !st) {
		llm_resp_free_if_idle(r);
		return;
	}
	llm_after_tools(r);
}

/* Render "{party}" from the call's arguments. */
static void render(const char *tmpl, const char *args, char *buf, size_t sz)
{
	json_t *a = json_loads(args, 0, NULL);
	size_t o = 0;

	for (const char *p = tmpl; *p && o + 1 < sz; p++) {
		const char *e = *p == '{' ? strchr(p, '}') : NULL;
		char key[64];
		const json_t *v;

		if (!e || (size_t)(e - p - 1) >= sizeof(key)) {
			buf[o++] = *p;
			continue;
		}
		memcpy(key, p + 1, (size_t)(e - p - 1));
		key[e - p - 1] = '\0';
		v = json_object_get(a, key);
		if (json_is_string(v))
			o += (size_t)snprintf(buf + o, sz - o, "%s",
					      json_string_value(v));
		else if (json_is_integer(v))
			o += (size_t)snprintf(buf + o, sz - o, "%lld",
				(long long)json_integer_value(v));
		else if (json_is_real(v))
			o += (size_t)snprintf(buf + o, sz - o, "%g",
					      json_real_value(v));
		if (o >= sz)
			o = sz - 1;
		p = e;
	}
	buf[o] = '\0';
	json_decref(a);
}

static void start_call(struct resp *r, struct call *c)
{
	struct llm_st *st = r->st;
	struct llm_tool_prm prm;
	const char *run = json_string_value(json_object_get(c->def, "run"));
	const json_t *prev;
	char key[700];
	int err;

	call_key(c, key, sizeof(key));
	prev = json_object_get(st->ran, key);
	if (prev) {
		/* this very call ran already: its result, not a second run */
		(void)str_dup(&c->result, json_string_value(prev));
		return;
	}
	if (!c->def) {
		char res[200];
		snprintf(res, sizeof(res), "{\"error\":\"there is no tool "
			 "named %s\"}", c->name);
		(void)str_dup(&c->result, res);
		return;
	}
	if (run && !strcmp(run, "flow.return")) {
		/* the flow this LLM serves takes the conversation back */
		r->handback = true;
		(void)str_dup(&c->result, "{\"ok\":true}");
		if (r->sink.toolh)
			r->sink.toolh(c->name, llm_call_args(c), c->result, 0,
				      r->sink.arg);
		return;
	}
	if (run && !strcmp(run, BT_TRANSFER_RUN)) {
		llm_transfer_call(r, c, llm_call_args(c));
		return;
	}
	if (run && !strcmp(run, "end_call")) {
		r->end_call = true;
		(void)str_dup(&c->result, "{\"ok\":true,\"note\":\"the call "
			      "ends after this reply\"}");
		if (r->sink.toolh)
			r->sink.toolh(c->name, llm_call_args(c), c->result, 0,
				      r->sink.arg);
		return;
	}
	memset(&prm, 0, sizeof(prm));
	prm.def = c->def;
	prm.name = c->name;
	prm.args = llm_call_args(c);
	prm.call_id = c->id;
	prm.ctx = &st->ctx;
	++r->pending;
	err = llm_tool_start(&c->run, &prm, tool_back, c);
	if (err) {
		char res[700];
		--r->pending;
		snprintf(res, sizeof(res), "{\"error\":\"%s\"}", "the tool "
			 "could not start");
		(void)str_dup(&c->result, res);
		llm_report(r, "the tool %s could not start: %s", c->name,
			     bt_errmsg());
	}
}

/* The round's answer is in: run what it called, or finish. */
void llm_run_tools(struct resp *r)
{
	struct llm_st *st = r->st;
	json_t *tc;
	unsigned n = 0;

	tmr_cancel(&r->tmr_first);
	if (!r->n_calls) {
		llm_resp_done(r);
		return;
	}
	/* the round's text is whole: let its last sentence go to the
	 * voice now rather than after the tools */
	if (r->text->end)
		llm_say(r, " ");
	/* the assistant's turn with its calls, as the next round needs */
	tc = json_array();
	for (unsigned i = 0; i < r->n_calls; i++) {
		struct call *c = &r->calls[i];

		if (!c->name[0])
			continue;
		if (!c->id[0])
			snprintf(c->id, sizeof(c->id), "call_%u_%u", r->round,
				 i);
		c->r = r;
		c->def = llm_tool_def(r->tools, c->name);
		c->client = json_is_true(json_object_get(c->def, "client"));
		json_array_append_new(tc, json_pack("{s:s,s:s,s:s}", "id",
			c->id, "name", c->name, "arguments", llm_call_args(c)));
		++n;
	}
	(void)mbuf_write_u8(r->text, 0);
	json_array_append_new(r->local, json_pack("{s:s,s:s,s:o}", "role",
		"assistant", "content", (const char *)r->text->buf,
		"tool_calls", tc));
	if (!n) {
		llm_resp_done(r);
		return;
	}
	r->starting = true;
	for (unsigned i = 0; i < r->n_calls; i++) {
		struct call *c = &r->calls[i];
		const char *confirm = json_string_value(json_object_get(
						c->def, "confirm"));

		if (!c->name[0])
			continue;
		if (c->client) {
			/* the transport runs it and asks for the rest */
			if (r->sink.callh)
				r->sink.callh(c->id, c->name, llm_call_args(c),
					      r->sink.arg);
			continue;
		}
		if (confirm && !st->has_held) {
			/* read back and wait for the caller's yes */
			c->held = true;
			continue;
		}
		start_call(r, c);
	}
	r->starting = false;
	if (r->pending) {
		if (st->tool_filler_ms)
			tmr_start(&r->tmr_filler, st->tool_filler_ms,
				  tool_filler_tmr, r);
		return;
	}
	llm_after_tools(r);
}

void llm_after_tools(struct resp *r)
{
	struct llm_st *st = r->st;
	bool only_end = true, held = false, client = false;

	for (unsigned i = 0; i < r->n_calls; i++) {
		struct call *c = &r->calls[i];
		const char *run = json_string_value(json_object_get(c->def,
								    "run"));
		if (!c->name[0])
			continue;
		if (c->client) {
			client = true;
			continue;
		}
		if (c->held) {
			char text[1024];

			/* the call waits in the brain for the next turn */
			llm_call_reset(&st->held);
			st->held = *c;
			st->held.r = NULL;
			memset(c, 0, sizeof(*c));
			st->has_held = true;
			render(json_string_value(json_object_get(st->held.def,
				"confirm")), llm_call_args(&st->held), text,
			       sizeof(text));
			llm_say(r, text);
			held = true;
			continue;
		}
		/* a transfer asked for ends the reply as end_call does */
		if (!run || (strcmp(run, "end_call") &&
			     strcmp(run, "flow.return") &&
			     (strcmp(run, BT_TRANSFER_RUN) ||
			      !r->transfer_to[0])))
			only_end = false;
		json_array_append_new(r->local, json_pack(
			"{s:s,s:s,s:s,s:s}", "role", "tool", "tool_call_id",
			c->id, "name", c->name, "content",
			c->result ? c->result : "null"));
	}
	if (held || client) {
		/* the other calls' results wait in the history; a client's
		 * output comes with its next response.create */
		llm_resp_done(r);
		return;
	}
	if (only_end) {
		if (!r->said && !r->handback)
			llm_say(r, r->transfer_to[0] && !r->end_call ?
				"Connecting you now." : "Goodbye.");
		llm_resp_done(r);
		return;
	}
	if (++r->round >= MAX_ROUNDS) {
		llm_report(r, "the model called tools %d times in one "
			     "reply; stopped there", MAX_ROUNDS);
		if (!r->said)
			llm_say(r, DEF_APOLOGY);
		llm_resp_done(r);
		return;
	}
	llm_route_tools(r);
	llm_resp_request(r);
}

/* The caller's answer to a read-back: run the held call or not. */
void llm_answer_held(struct llm_st *st, struct resp *r, const char *text)
{
	struct call *c = &r->calls[0];
	bool yes = false;
	int err = slot_yesno_parse(text ? text : "", &yes);

	*c = st->held;
	memset(&st->held, 0, sizeof(st->held));
	st->has_held = false;
	c->r = r;
	c->held = false;
	r->n_calls = 1;
	json_array_append_new(r->local, json_pack("{s:s,s:s,s:[{s:s,s:s,s:s}]}",
		"role", "assistant", "content", "", "tool_calls", "id", c->id,
		"name", c->name, "arguments", llm_call_args(c)));
	if (!err && yes) {
		r->starting = true;
		start_call(r, c);
		r->starting = false;
		if (r->pending)
			return;
		llm_after_tools(r);
		return;
	}
	{
		char res[600];
		json_t *o = json_pack("{s:s,s:s}", "status", "not run: the "
				      "caller did not confirm", "caller_said",
				      text ? text : "");
		char *js = json_dumps(o, JSON_COMPACT);

		json_decref(o);
		snprintf(res, sizeof(res), "%s", js ? js : "{}");
		free(js);
		(void)str_dup(&c->result, res);
	}
	llm_after_tools(r);
}

