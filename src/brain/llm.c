/**
 * @file llm.c  The LLM brains "openai" and "anthropic": a reply streams
 *              from the model to the speech planner delta by delta, tool
 *              calls run between rounds, and a failed provider falls back
 *              along the agent's chain so the caller always hears
 *              something.
 *
 * A response (struct resp) is one answer to one turn: one or more rounds
 * (a request, its streamed answer, the tools it called). Cancelling it (a
 * barge-in) stops the stream at once; a tool call not yet started never
 * starts, a tool already running finishes and its result goes into the
 * history. The history sent to the model is the session's: what the
 * caller heard of each assistant turn, marked when it was interrupted.
 */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "brain/llm_int.h"
#include "brain/slots.h"
#include "net/http.h"
#include "net/sse.h"
#include "store/memory.h"

#define MAX_ROUNDS 4
#define MAX_CALLS 16
#define FIRST_TOKEN_MS 5000
#define TIMEOUT_MS 30000
#define HISTORY_TOKENS 6000
#define FILLER_MS 600
#define TOOL_FILLER_MS 1500
#define RETRY_AFTER_MAX_S 2
#define MAX_CHAIN 4
#define DEF_APOLOGY "Sorry, I'm having trouble answering right now. " \
	"Could you say that again?"

struct resp;

struct call {
	struct resp *r;
	char id[72];
	char name[72];
	struct mbuf *args;
	const json_t *def;       /* the agent's tool, NULL if unknown */
	struct llm_tool_run *run;
	char *result;
	bool held;               /* waits for the caller's yes */
	bool client;             /* the transport's tool: it runs it */
};

struct llm_st {
	const struct bt_brain *brain;  /* first: the provider */
	json_t *agent;
	const json_t *llm;             /* the agent's "llm" section */
	const json_t *tools;
	struct llm_target main, big;
	bool has_big;
	struct llm_target chain[MAX_CHAIN];
	size_t n_chain;
	const json_t *route_words;
	unsigned route_min_words;
	const char *route_filler;
	unsigned max_tokens, history_tokens;
	double temperature;
	uint32_t first_token_ms, timeout_ms, filler_ms, tool_filler_ms;
	const char *filler_say, *tool_filler_say;
	const char *greeting, *idle_say, *hangup_say;
	unsigned idle_hangup;
	struct bt_brain_ctx ctx;
	char db_path[512], session_id[64];
	struct list resps;
	json_t *ran;                   /* call key -> result: at most once */
	struct call held;              /* a tool call waiting for a yes */
	bool has_held;
	/* memory across calls, by caller id */
	bool memory_on;
	unsigned memory_days, memory_max;
	char caller[128];
	bool recalled;
	char memory[2048];
	char *last_history;            /* the newest history seen */
	json_t *facts;                 /* this call's tool results, for the
					  summary */
};

struct resp {
	struct le le;
	struct llm_st *st;             /* NULL once the brain is gone */
	struct bt_brain_sink sink;     /* sink.arg held with mem_ref */
	bool cancelled, finished;
	json_t *base;                  /* the history, as messages */
	json_t *local;                 /* this response's rounds */
	const char *system;
	char *system_buf;
	const struct llm_target *t;
	size_t chain_pos;
	bool retried;
	struct bt_http *http;
	struct bt_sse *sse;
	struct mbuf *text;             /* this round's text */
	bool said;                     /* text went to the caller */
	bool got_first;                /* a token of this request came */
	bool stream_end;
	char finish[16];
	char serr[400];                /* an error event in the stream */
	struct call calls[MAX_CALLS];
	unsigned n_calls, pending, round;
	struct tmr tmr_first, tmr_filler, tmr_retry;
	bool filled;
	bool end_call;
	bool restarted;                /* said "let me start again" */
	bool handback;                 /* return_to_flow was called */
	bool starting;                 /* starting calls: a tool that ends
					  at once (inline) must not go on
					  before the others have started */
	json_t *tools;                 /* the agent's and the transport's */
};

static struct bt_brain openai_brain, anthropic_brain;

static void resp_request(struct resp *r);
static void resp_done(struct resp *r);
static void after_tools(struct resp *r);
static void recall(struct llm_st *st, const char *caller);

/* ---- helpers ---- */

static void call_reset(struct call *c)
{
	c->args = mem_deref(c->args);
	c->run = mem_deref(c->run);
	c->result = mem_deref(c->result);
	c->id[0] = c->name[0] = '\0';
	c->def = NULL;
	c->held = false;
}

static void say(struct resp *r, const char *text)
{
	if (!text || !text[0] || r->cancelled)
		return;
	r->sink.texth(text, r->sink.arg);
	r->said = true;
}

static void report_error(struct resp *r, const char *fmt, ...)
{
	char msg[900];
	va_list ap;

	if (!r->sink.errorh)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	r->sink.errorh(msg, r->sink.arg);
}

static const json_t *tool_def(const json_t *tools, const char *name)
{
	size_t i;
	json_t *t;

	json_array_foreach(tools, i, t)
		if (!strcmp(json_string_value(json_object_get(t, "name")),
			    name))
			return t;
	return NULL;
}

/*
 * The tools of one response: the agent's, then the transport's function
 * tools (a Realtime client's), marked "client": the client runs those.
 * An agent tool of the same name wins.
 */
static json_t *resp_tools(const json_t *agent_tools, const char *client_json)
{
	json_t *all = agent_tools ? json_copy((json_t *)agent_tools)
				  : json_array();
	json_t *ct = json_loads(client_json ? client_json : "[]", 0, NULL);
	size_t i;
	json_t *t;

	json_array_foreach(ct, i, t) {
		const char *name = json_string_value(json_object_get(t,
								     "name"));
		const char *type = json_string_value(json_object_get(t,
								     "type"));
		json_t *o;

		if (!name || (type && strcmp(type, "function")) ||
		    tool_def(all, name))
			continue;
		o = json_pack("{s:s,s:b}", "name", name, "client", 1);
		if (json_is_string(json_object_get(t, "description")))
			json_object_set(o, "description",
					json_object_get(t, "description"));
		if (json_is_object(json_object_get(t, "parameters")))
			json_object_set(o, "parameters",
					json_object_get(t, "parameters"));
		json_array_append_new(all, o);
	}
	json_decref(ct);
	return all;
}

static bool resp_free_if_idle(struct resp *r)
{
	if (r->pending || (!r->finished && !r->cancelled))
		return false;
	mem_deref(r);
	return true;
}

static void resp_destructor(void *arg)
{
	struct resp *r = arg;

	list_unlink(&r->le);
	tmr_cancel(&r->tmr_first);
	tmr_cancel(&r->tmr_filler);
	tmr_cancel(&r->tmr_retry);
	mem_deref(r->http);
	mem_deref(r->sse);
	mem_deref(r->text);
	for (unsigned i = 0; i < MAX_CALLS; i++)
		call_reset(&r->calls[i]);
	json_decref(r->base);
	json_decref(r->local);
	json_decref(r->tools);
	mem_deref(r->system_buf);
	mem_deref(r->sink.arg);
}

/* ---- the stream ---- */

static void first_token(struct resp *r)
{
	if (r->got_first)
		return;
	r->got_first = true;
	tmr_cancel(&r->tmr_first);
}

static void on_text(const char *text, void *arg)
{
	struct resp *r = arg;

	first_token(r);
	tmr_cancel(&r->tmr_filler);
	(void)mbuf_write_str(r->text, text);
	say(r, text);
}

static void on_tool(unsigned index, const char *id, const char *name,
		    const char *args, void *arg)
{
	struct resp *r = arg;
	struct call *c;

	first_token(r);
	if (index >= MAX_CALLS)
		return;
	c = &r->calls[index];
	c->r = r;
	if (index >= r->n_calls)
		r->n_calls = index + 1;
	if (id && id[0])
		str_ncpy(c->id, id, sizeof(c->id));
	if (name && name[0]) {
		size_t l = strlen(c->name);
		str_ncpy(c->name + l, name, sizeof(c->name) - l);
	}
	if (args && args[0]) {
		if (!c->args)
			c->args = mbuf_alloc(128);
		if (c->args && c->args->end + strlen(args) < 65536)
			(void)mbuf_write_str(c->args, args);
	}
}

static void on_finish(const char *reason, void *arg)
{
	struct resp *r = arg;

	str_ncpy(r->finish, reason, sizeof(r->finish));
}

static void on_serror(const char *msg, void *arg)
{
	struct resp *r = arg;

	str_ncpy(r->serr, msg, sizeof(r->serr));
}

static int on_event(const char *event, const char *data, size_t len,
		    void *arg)
{
	struct resp *r = arg;
	struct llm_stream_h h = {on_text, on_tool, on_finish, on_serror, r};
	int err;

	(void)len;
	err = llm_wire_event(r->t->wire, event, data, &h, &r->stream_end);
	if (err)
		snprintf(r->serr, sizeof(r->serr), "a malformed event in the "
			 "stream: %.120s", data);
	/* the handlers may have cancelled the response: stop reading */
	return err ? err : (r->cancelled ? ECANCELED : 0);
}

static int on_data(const char *buf, size_t n, void *arg)
{
	struct resp *r = arg;

	return bt_sse_feed(r->sse, buf, n);
}

static void retry_tmr(void *arg)
{
	resp_request(arg);
}

/* The response cannot go on with this provider: fall back. */
static void failed(struct resp *r, const char *why, uint32_t retry_after_s)
{
	struct llm_st *st = r->st;
	char from[200];

	snprintf(from, sizeof(from), "%s model \"%s\"", r->t->provider,
		 r->t->model);
	r->http = mem_deref(r->http);
	tmr_cancel(&r->tmr_first);
	if (r->cancelled || !st)
		return;
	if (r->text->end && !r->restarted) {
		/* the caller heard the start of an answer that will not
		 * come: say so, and the fallback answers from the top */
		say(r, " Sorry, let me start again. ");
		r->restarted = true;
	}
	if (retry_after_s && retry_after_s <= RETRY_AFTER_MAX_S &&
	    !r->retried) {
		report_error(r, "the brain's %s is rate-limited (%s); "
			     "retrying in %u s", from, why, retry_after_s);
		r->retried = true;
		tmr_start(&r->tmr_retry, retry_after_s * 1000, retry_tmr,
			  r);
		return;
	}
	if (r->chain_pos < st->n_chain) {
		const struct llm_target *t = &st->chain[r->chain_pos++];

		r->t = t;
		r->retried = false;
		if (t->say[0]) {
			report_error(r, "the brain's %s failed (%s); said the "
				     "fallback line instead", from, why);
			say(r, t->say);
			resp_done(r);
			return;
		}
		report_error(r, "the brain's %s failed (%s); falling back to "
			     "%s model \"%s\"", from, why, t->provider,
			     t->model);
		resp_request(r);
		return;
	}
	report_error(r, "the brain's %s failed (%s) and no fallback is "
		     "left; apologised to the caller (add \"llm.fallback\" "
		     "to the agent)", from, why);
	say(r, DEF_APOLOGY);
	resp_done(r);
}

static void first_token_timeout(void *arg)
{
	struct resp *r = arg;
	char why[100];

	snprintf(why, sizeof(why), "no first token within %u ms",
		 r->st ? r->st->first_token_ms : 0);
	failed(r, why, 0);
}

static void filler_tmr(void *arg)
{
	struct resp *r = arg;

	/* nothing to say yet: an acknowledgement, once per turn */
	if (r->said || r->filled || !r->st)
		return;
	r->filled = true;
	say(r, r->st->filler_say);
}

static void tool_filler_tmr(void *arg)
{
	struct resp *r = arg;

	if (r->pending && r->st && !r->cancelled)
		say(r, r->st->tool_filler_say);
}

static void run_tools(struct resp *r);

static void on_done(const struct bt_http_result *res, void *arg)
{
	struct resp *r = arg;
	char why[700];

	r->http = mem_deref(r->http);
	if (r->cancelled)
		return;
	if (res->status && (res->status < 200 || res->status >= 300)) {
		char m[400];
		llm_wire_errmsg(res->body, m, sizeof(m));
		snprintf(why, sizeof(why), "HTTP %ld: %s", res->status, m);
		failed(r, why, res->status == 429 || res->status == 503 ||
		       res->status == 529 ? (res->retry_after_s ?
					     res->retry_after_s : 0) : 0);
		return;
	}
	if (r->serr[0]) {
		failed(r, r->serr, 0);
		return;
	}
	if (res->err) {
		failed(r, res->errmsg, 0);
		return;
	}
	if (!r->stream_end && !r->finish[0]) {
		failed(r, "the stream ended before the model finished", 0);
		return;
	}
	run_tools(r);
}

static void resp_request(struct resp *r)
{
	struct llm_st *st = r->st;
	struct llm_req rq;
	struct bt_http_prm prm;
	char hdr[4][300];
	const char *hdrs[5];
	json_t *msgs;
	char *body = NULL;
	int err;

	if (!st || r->cancelled)
		return;
	r->sse = mem_deref(r->sse);
	err = bt_sse_alloc(&r->sse, 0, on_event, r);
	if (err) {
		failed(r, "out of memory", 0);
		return;
	}
	r->text->end = r->text->pos = 0;
	r->stream_end = r->got_first = false;
	r->finish[0] = r->serr[0] = '\0';
	for (unsigned i = 0; i < MAX_CALLS; i++)
		call_reset(&r->calls[i]);
	r->n_calls = 0;

	memset(&rq, 0, sizeof(rq));
	rq.t = r->t;
	rq.system = r->system;
	rq.tools = r->tools;
	rq.max_tokens = st->max_tokens;
	rq.temperature = st->temperature;
	msgs = json_copy(r->base);
	json_array_extend(msgs, r->local);
	err = llm_wire_body(&rq, msgs, &body);
	json_decref(msgs);
	if (err) {
		failed(r, "cannot write the request", 0);
		return;
	}
	llm_wire_headers(r->t, hdr, hdrs);
	memset(&prm, 0, sizeof(prm));
	prm.method = "POST";
	prm.url = r->t->url;
	prm.headers = hdrs;
	prm.body = body;
	prm.body_len = strlen(body);
	prm.timeout_ms = st->timeout_ms;
	prm.connect_timeout_ms = st->first_token_ms;
	err = bt_http_start(&r->http, &prm, on_data, on_done, r);
	mem_deref(body);
	if (err) {
		failed(r, bt_errmsg(), 0);
		return;
	}
	tmr_start(&r->tmr_first, st->first_token_ms, first_token_timeout, r);
}

/* ---- tools ---- */

static void call_key(const struct call *c, char *buf, size_t sz)
{
	snprintf(buf, sz, "%s|%s|%.*s", c->id, c->name,
		 c->args ? (int)c->args->end : 0,
		 c->args ? (const char *)c->args->buf : "");
}

static const char *call_args(struct call *c)
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
	if (st) {
		call_key(c, key, sizeof(key));
		json_object_set_new(st->ran, key, json_string(result));
	}
	if (st && json_array_size(st->facts) < 16) {
		char f[400];
		snprintf(f, sizeof(f), "%s %.120s gave %.200s", c->name,
			 call_args(c), result);
		json_array_append_new(st->facts, json_string(f));
	}
	/* into the history and the trace, cancelled or not */
	if (r->sink.toolh)
		r->sink.toolh(c->name, call_args(c), result, err, r->sink.arg);
	if (--r->pending || r->starting)
		return;
	tmr_cancel(&r->tmr_filler);
	if (r->cancelled || !st) {
		resp_free_if_idle(r);
		return;
	}
	after_tools(r);
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
			r->sink.toolh(c->name, call_args(c), c->result, 0,
				      r->sink.arg);
		return;
	}
	if (run && !strcmp(run, "end_call")) {
		r->end_call = true;
		(void)str_dup(&c->result, "{\"ok\":true,\"note\":\"the call "
			      "ends after this reply\"}");
		if (r->sink.toolh)
			r->sink.toolh(c->name, call_args(c), c->result, 0,
				      r->sink.arg);
		return;
	}
	memset(&prm, 0, sizeof(prm));
	prm.def = c->def;
	prm.name = c->name;
	prm.args = call_args(c);
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
		report_error(r, "the tool %s could not start: %s", c->name,
			     bt_errmsg());
	}
}

/* The round's answer is in: run what it called, or finish. */
static void run_tools(struct resp *r)
{
	struct llm_st *st = r->st;
	json_t *tc;
	unsigned n = 0;

	tmr_cancel(&r->tmr_first);
	if (!r->n_calls) {
		resp_done(r);
		return;
	}
	/* the round's text is whole: let its last sentence go to the
	 * voice now rather than after the tools */
	if (r->text->end)
		say(r, " ");
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
		c->def = tool_def(r->tools, c->name);
		c->client = json_is_true(json_object_get(c->def, "client"));
		json_array_append_new(tc, json_pack("{s:s,s:s,s:s}", "id",
			c->id, "name", c->name, "arguments", call_args(c)));
		++n;
	}
	(void)mbuf_write_u8(r->text, 0);
	json_array_append_new(r->local, json_pack("{s:s,s:s,s:o}", "role",
		"assistant", "content", (const char *)r->text->buf,
		"tool_calls", tc));
	if (!n) {
		resp_done(r);
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
				r->sink.callh(c->id, c->name, call_args(c),
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
	after_tools(r);
}

static void after_tools(struct resp *r)
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
			call_reset(&st->held);
			st->held = *c;
			st->held.r = NULL;
			memset(c, 0, sizeof(*c));
			st->has_held = true;
			render(json_string_value(json_object_get(st->held.def,
				"confirm")), call_args(&st->held), text,
			       sizeof(text));
			say(r, text);
			held = true;
			continue;
		}
		if (!run || (strcmp(run, "end_call") &&
			     strcmp(run, "flow.return")))
			only_end = false;
		json_array_append_new(r->local, json_pack(
			"{s:s,s:s,s:s,s:s}", "role", "tool", "tool_call_id",
			c->id, "name", c->name, "content",
			c->result ? c->result : "null"));
	}
	if (held || client) {
		/* the other calls' results wait in the history; a client's
		 * output comes with its next response.create */
		resp_done(r);
		return;
	}
	if (only_end) {
		if (!r->said && !r->handback)
			say(r, "Goodbye.");
		resp_done(r);
		return;
	}
	if (++r->round >= MAX_ROUNDS) {
		report_error(r, "the model called tools %d times in one "
			     "reply; stopped there", MAX_ROUNDS);
		if (!r->said)
			say(r, DEF_APOLOGY);
		resp_done(r);
		return;
	}
	resp_request(r);
}

/* ---- responses ---- */

static void resp_done(struct resp *r)
{
	struct bt_brain_done d;
	char model[160];

	if (r->finished)
		return;
	r->finished = true;
	tmr_cancel(&r->tmr_first);
	tmr_cancel(&r->tmr_filler);
	tmr_cancel(&r->tmr_retry);
	r->http = mem_deref(r->http);
	if (!r->cancelled) {
		snprintf(model, sizeof(model), "%s:%s", r->t ?
			 r->t->provider : "", r->t ? (r->t->say[0] ?
			 "fallback-say" : r->t->model) : "");
		memset(&d, 0, sizeof(d));
		d.end_call = r->end_call;
		d.handback = r->handback;
		d.model = r->t ? model : NULL;
		r->sink.doneh(&d, r->sink.arg);
	}
	resp_free_if_idle(r);
}

static struct resp *resp_alloc(struct llm_st *st,
			       const struct bt_brain_sink *sink)
{
	struct resp *r = mem_zalloc(sizeof(*r), resp_destructor);

	if (!r)
		return NULL;
	r->st = st;
	r->sink = *sink;
	mem_ref(r->sink.arg);
	r->local = json_array();
	r->text = mbuf_alloc(256);
	tmr_init(&r->tmr_first);
	tmr_init(&r->tmr_filler);
	tmr_init(&r->tmr_retry);
	r->t = &st->main;
	list_append(&st->resps, &r->le, r);
	if (!r->local || !r->text)
		return mem_deref(r);
	return r;
}

static bool routed_big(const struct llm_st *st, const char *text)
{
	size_t i, words = 0;
	json_t *w;
	char low[1024];

	if (!st->has_big || !text)
		return false;
	for (i = 0; text[i] && i + 1 < sizeof(low); i++)
		low[i] = (char)tolower((unsigned char)text[i]);
	low[i] = '\0';
	json_array_foreach(st->route_words, i, w) {
		const char *k = json_string_value(w);
		if (k && k[0] && strstr(low, k))
			return true;
	}
	for (const char *p = text; *p;) {
		while (*p == ' ')
			p++;
		if (!*p)
			break;
		words++;
		while (*p && *p != ' ')
			p++;
	}
	return st->route_min_words && words >= st->route_min_words;
}

/* The caller's answer to a read-back: run the held call or not. */
static void answer_held(struct llm_st *st, struct resp *r, const char *text)
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
		"name", c->name, "arguments", call_args(c)));
	if (!err && yes) {
		r->starting = true;
		start_call(r, c);
		r->starting = false;
		if (r->pending)
			return;
		after_tools(r);
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
	after_tools(r);
}

static int llm_respond(struct bt_brain_st *bst, const struct bt_brain_input *in,
		       const struct bt_brain_sink *sink)
{
	struct llm_st *st = (struct llm_st *)bst;
	struct resp *r;
	const char *sys;
	size_t n;

	if (!st || !in || !sink || !sink->texth || !sink->doneh)
		return bt_err(EINVAL, "llm: respond needs an instance, an "
			      "input and a sink with texth and doneh");
	r = resp_alloc(st, sink);
	if (!r)
		return bt_err(ENOMEM, "llm: out of memory");

	if (in->type == BT_BRAIN_IDLE) {
		if (st->idle_hangup && in->idle_count > st->idle_hangup) {
			say(r, st->hangup_say);
			r->end_call = true;
		}
		else {
			say(r, st->idle_say);
		}
		r->t = NULL;
		resp_done(r);
		return 0;
	}
	if (in->type == BT_BRAIN_START && st->greeting) {
		say(r, st->greeting);
		r->t = NULL;
		resp_done(r);
		return 0;
	}

	sys = in->instructions && in->instructions[0] ? in->instructions :
	      json_string_value(json_object_get(st->llm, "system"));
	recall(st, in->caller_id);
	if (in->history_json) {
		st->last_history = mem_deref(st->last_history);
		(void)str_dup(&st->last_history, in->history_json);
	}
	n = (sys ? strlen(sys) : 0) + strlen(st->memory) + 200;
	r->system_buf = mem_alloc(n, NULL);
	if (r->system_buf)
		snprintf(r->system_buf, n, "%s%s%s", sys ? sys : "",
			 st->memory[0] ? "\n\nWhat you know about this caller "
			 "from earlier calls (oldest first):\n" : "",
			 st->memory);
	r->system = r->system_buf;
	r->base = llm_history_msgs(in->history_json, in->type == BT_BRAIN_USER ?
			       in->text : NULL, st->history_tokens);
	r->tools = resp_tools(st->tools, in->tools_json);

	if (st->filler_ms && st->filler_say && in->type == BT_BRAIN_USER)
		tmr_start(&r->tmr_filler, st->filler_ms, filler_tmr, r);

	if (in->type == BT_BRAIN_USER && st->has_held) {
		answer_held(st, r, in->text);
		return 0;
	}
	if (in->type == BT_BRAIN_USER && routed_big(st, in->text)) {
		r->t = &st->big;
		if (st->route_filler) {
			say(r, st->route_filler);
			r->filled = true;
		}
	}
	resp_request(r);
	return 0;
}

static void llm_cancel(struct bt_brain_st *bst, void *arg)
{
	struct llm_st *st = (struct llm_st *)bst;
	struct le *le;

	if (!st)
		return;
	le = st->resps.head;
	while (le) {
		struct resp *r = le->data;

		le = le->next;
		if (r->sink.arg != arg || r->cancelled)
			continue;
		r->cancelled = true;
		r->http = mem_deref(r->http);
		tmr_cancel(&r->tmr_first);
		tmr_cancel(&r->tmr_filler);
		tmr_cancel(&r->tmr_retry);
		/* a call not started is dropped with the response; one that
		 * runs finishes and its result reaches the history */
		resp_free_if_idle(r);
	}
}

/* The system prompt with what earlier calls left, read once a call. */
static void recall(struct llm_st *st, const char *caller)
{
	unsigned n = 0;

	if (!st->memory_on || !caller || !caller[0])
		return;
	if (st->recalled && !strcmp(st->caller, caller))
		return;
	str_ncpy(st->caller, caller, sizeof(st->caller));
	st->recalled = true;
	st->memory[0] = '\0';
	(void)bt_memory_recall(st->db_path[0] ? st->db_path : "banter.db",
			       caller, st->memory_days, st->memory_max,
			       st->memory, sizeof(st->memory), &n);
}

/* ---- set-up ---- */

static void llm_destructor(void *arg)
{
	struct llm_st *st = arg;
	struct le *le = st->resps.head;

	if (st->memory_on)
		llm_memory_write(st->db_path, st->caller, st->last_history,
				 st->facts);
	mem_deref(st->last_history);
	json_decref(st->facts);

	while (le) {
		struct resp *r = le->data;

		le = le->next;
		r->st = NULL;
		mem_deref(r);
	}
	call_reset(&st->held);
	json_decref(st->ran);
	json_decref(st->agent);
}

static int target_from(struct llm_target *t, const char *provider,
		       const char *model, bool need_key)
{
	const bool anth = !strcmp(provider, "anthropic");
	const char *key = getenv(anth ? "ANTHROPIC_API_KEY" :
				 "OPENAI_API_KEY");
	const char *base = getenv(anth ? "ANTHROPIC_BASE_URL" :
				  "OPENAI_BASE_URL");
	size_t bl;

	memset(t, 0, sizeof(*t));
	t->wire = anth ? WIRE_ANTHROPIC : WIRE_OPENAI;
	str_ncpy(t->provider, anth ? "anthropic" : "openai",
		 sizeof(t->provider));
	str_ncpy(t->model, model ? model : "", sizeof(t->model));
	str_ncpy(t->key, key ? key : "", sizeof(t->key));
	if (!base || !base[0])
		base = anth ? "https://api.anthropic.com" :
			      "https://api.openai.com/v1";
	bl = strlen(base);
	while (bl && base[bl - 1] == '/')
		bl--;
	snprintf(t->url, sizeof(t->url), "%.*s%s", (int)bl, base,
		 anth ? "/v1/messages" : "/chat/completions");
	if (need_key && !t->key[0] && (strstr(t->url, "api.openai.com") ||
			   strstr(t->url, "api.anthropic.com")))
		return bt_err(EACCES, "%s is not set: export it with your "
			      "key, or point %s at a server that needs none "
			      "(llama.cpp, Ollama, vLLM)",
			      anth ? "ANTHROPIC_API_KEY" : "OPENAI_API_KEY",
			      anth ? "ANTHROPIC_BASE_URL" : "OPENAI_BASE_URL");
	return 0;
}

static uint32_t ms_or(const json_t *o, const char *key, uint32_t def)
{
	const json_t *v = json_object_get(o, key);
	return v ? (uint32_t)json_integer_value(v) : def;
}

static const char *str_or(const json_t *o, const char *key, const char *def)
{
	const char *v = json_string_value(json_object_get(o, key));
	return v ? v : def;
}

int llm_check(const json_t *agent, const char **pathp);

static int llm_alloc(struct bt_brain_st **stp, const json_t *agent,
		     const struct bt_brain_ctx *ctx)
{
	struct llm_st *st;
	const json_t *b = json_object_get(agent, "brain");
	const json_t *v, *fb, *rt, *f;
	const char *prov = str_or(b, "provider", "openai");
	const char *path = NULL;
	size_t i;
	json_t *e;
	int err;

	if (!stp || !agent)
		return bt_err(EINVAL, "llm: alloc needs an agent");
	err = llm_check(agent, &path);
	if (err) {
		char why[800];
		str_ncpy(why, bt_errmsg(), sizeof(why));
		return bt_err(err, "llm: %s (at %s)", why, path ? path : "?");
	}
	st = mem_zalloc(sizeof(*st), llm_destructor);
	if (!st)
		return bt_err(ENOMEM, "llm: out of memory");
	st->brain = !strcmp(prov, "anthropic") ? &anthropic_brain
					       : &openai_brain;
	st->agent = json_incref((json_t *)agent);
	st->llm = json_object_get(agent, "llm");
	st->tools = json_object_get(st->llm, "tools");
	st->ran = json_object();
	st->facts = json_array();
	err = target_from(&st->main, prov, str_or(b, "model", ""), true);
	if (err)
		goto out;
	st->max_tokens = ms_or(st->llm, "max_tokens", 400);
	st->history_tokens = ms_or(st->llm, "history_tokens", HISTORY_TOKENS);
	v = json_object_get(st->llm, "temperature");
	st->temperature = v ? json_number_value(v) : -1;
	st->first_token_ms = ms_or(st->llm, "first_token_timeout_ms",
				   FIRST_TOKEN_MS);
	st->timeout_ms = ms_or(st->llm, "timeout_ms", TIMEOUT_MS);
	st->greeting = str_or(st->llm, "greeting", NULL);
	v = json_object_get(st->llm, "idle");
	st->idle_say = str_or(v, "say", "Are you still there?");
	st->hangup_say = str_or(v, "hangup_say", "I'll hang up now. Feel "
				"free to call again. Goodbye.");
	st->idle_hangup = ms_or(v, "hangup_after", 2);
	f = json_object_get(st->llm, "filler");
	st->filler_ms = json_is_false(f) ? 0 : ms_or(f, "after_ms",
						      FILLER_MS);
	st->filler_say = str_or(f, "say", "One moment.");
	f = json_object_get(st->llm, "tool_filler");
	st->tool_filler_ms = json_is_false(f) ? 0 : ms_or(f, "after_ms",
							   TOOL_FILLER_MS);
	st->tool_filler_say = str_or(f, "say", "One moment, let me check "
				     "that.");
	rt = json_object_get(st->llm, "router");
	if (rt) {
		err = target_from(&st->big, str_or(rt, "provider", prov),
				  str_or(rt, "model", ""), true);
		if (err)
			goto out;
		st->has_big = true;
		st->route_words = json_object_get(rt, "keywords");
		st->route_min_words = ms_or(rt, "min_words", 0);
		st->route_filler = str_or(rt, "filler", NULL);
	}
	v = json_object_get(st->llm, "memory");
	st->memory_on = !json_is_false(v);
	st->memory_days = ms_or(v, "retention_days", 90);
	st->memory_max = ms_or(v, "max_calls", 5);
	fb = json_object_get(st->llm, "fallback");
	json_array_foreach(fb, i, e) {
		struct llm_target *t = &st->chain[st->n_chain];

		if (st->n_chain == MAX_CHAIN)
			break;
		if (json_object_get(e, "say")) {
			memset(t, 0, sizeof(*t));
			str_ncpy(t->provider, "say", sizeof(t->provider));
			str_ncpy(t->say, str_or(e, "say", ""),
				 sizeof(t->say));
		}
		else {
			/* a fallback without its key fails over in turn */
			err = target_from(t, str_or(e, "provider", prov),
					  str_or(e, "model", ""), false);
			if (err)
				goto out;
		}
		st->n_chain++;
	}
	if (ctx) {
		str_ncpy(st->db_path, ctx->db_path ? ctx->db_path : "",
			 sizeof(st->db_path));
		str_ncpy(st->session_id, ctx->session_id ? ctx->session_id :
			 "", sizeof(st->session_id));
	}
	st->ctx.db_path = st->db_path[0] ? st->db_path : NULL;
	st->ctx.session_id = st->session_id;
	*stp = (struct bt_brain_st *)st;
	st = NULL;
 out:
	mem_deref(st);
	return err;
}

static int llm_grammars(const json_t *agent, struct bt_stt_grammar **gp,
			size_t *np)
{
	(void)agent;
	*gp = NULL;
	*np = 0;
	return 0;
}

static const char *const brain_keys[] = {"model", NULL};

static struct bt_brain openai_brain = {
	.name = "openai",
	.section = "llm",
	.brain_keys = brain_keys,
	.checkh = llm_check,
	.grammarsh = llm_grammars,
	.alloch = llm_alloc,
	.respondh = llm_respond,
	.cancelh = llm_cancel,
};

static struct bt_brain anthropic_brain = {
	.name = "anthropic",
	.section = "llm",
	.brain_keys = brain_keys,
	.checkh = llm_check,
	.grammarsh = llm_grammars,
	.alloch = llm_alloc,
	.respondh = llm_respond,
	.cancelh = llm_cancel,
};

int bt_brain_llm_init(void)
{
	if (!openai_brain.le.list)
		bt_brain_register(&openai_brain);
	if (!anthropic_brain.le.list)
		bt_brain_register(&anthropic_brain);
	return 0;
}
