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
 * A round's request and its streamed answer: llm_stream.c.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "brain/llm_int.h"
#include "brain/slots.h"
#include "brain/transfer.h"
#include "net/http.h"
#include "net/sse.h"

static struct bt_brain openai_brain, anthropic_brain;

static void warm_up(struct llm_st *st);

/* ---- helpers ---- */

void llm_call_reset(struct call *c)
{
	c->args = mem_deref(c->args);
	c->run = mem_deref(c->run);
	c->result = mem_deref(c->result);
	c->id[0] = c->name[0] = '\0';
	c->def = NULL;
	c->held = false;
}

void llm_say(struct resp *r, const char *text)
{
	if (!text || !text[0] || r->cancelled)
		return;
	r->sink.texth(text, r->sink.arg);
	r->said = true;
}

void llm_report(struct resp *r, const char *fmt, ...)
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

const json_t *llm_tool_def(const json_t *tools, const char *name)
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
		    llm_tool_def(all, name))
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
	json_array_foreach(all, i, t)
		if (!strcmp(json_string_value(json_object_get(t, "run")) ?
			    json_string_value(json_object_get(t, "run")) : "",
			    BT_TRANSFER_RUN))
			json_array_set_new(all, i, llm_transfer_def(t));
	return all;
}

bool llm_resp_free_if_idle(struct resp *r)
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
	tmr_cancel(&r->tmr_mem);
	mem_deref(r->in_text);
	mem_deref(r->in_sys);
	mem_deref(r->http);
	mem_deref(r->sse);
	mem_deref(r->text);
	for (unsigned i = 0; i < MAX_CALLS; i++)
		llm_call_reset(&r->calls[i]);
	json_decref(r->base);
	json_decref(r->local);
	json_decref(r->tools);
	mem_deref(r->system_buf);
	mem_deref(r->sink.arg);
	if (r->late)
		llm_late_gone(r);
}

/* ---- responses ---- */

static void filler_tmr(void *arg)
{
	struct resp *r = arg;

	/* nothing to say yet: an acknowledgement */
	if (!r->said && r->st)
		llm_filler(r, r->st->filler_say);
}

void llm_resp_done(struct resp *r)
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
		d.transfer_to = r->transfer_to[0] ? r->transfer_to : NULL;
		d.model = r->t ? model : NULL;
		llm_memory_note(r);
		r->sink.doneh(&d, r->sink.arg);
	}
	llm_resp_free_if_idle(r);
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
	tmr_init(&r->tmr_mem);
	r->t = &st->main;
	list_append(&st->resps, &r->le, r);
	if (!r->local || !r->text)
		return mem_deref(r);
	return r;
}

/* A transport names the caller (or another) during the call: read that
 * caller's memory now, so that the next response finds it ready. */
static void llm_caller(struct bt_brain_st *bst, const char *caller_id)
{
	struct llm_st *st = (struct llm_st *)bst;

	if (st)
		llm_memory_recall(st, caller_id);
}

static int llm_respond(struct bt_brain_st *bst, const struct bt_brain_input *in,
		       const struct bt_brain_sink *sink)
{
	struct llm_st *st = (struct llm_st *)bst;
	struct resp *r;
	const char *sys;

	if (!st || !in || !sink || !sink->texth || !sink->doneh)
		return bt_err(EINVAL, "llm: respond needs an instance, an "
			      "input and a sink with texth and doneh");
	r = resp_alloc(st, sink);
	if (!r)
		return bt_err(ENOMEM, "llm: out of memory");

	if (in->type == BT_BRAIN_IDLE) {
		if (st->idle_hangup && in->idle_count > st->idle_hangup) {
			llm_say(r, st->hangup_say);
			r->end_call = true;
		}
		else {
			llm_say(r, st->idle_say);
		}
		r->t = NULL;
		llm_resp_done(r);
		return 0;
	}
	if (in->type == BT_BRAIN_START)
		warm_up(st);
	if (in->type == BT_BRAIN_START && st->greeting) {
		llm_say(r, st->greeting);
		r->t = NULL;
		llm_resp_done(r);
		return 0;
	}

	sys = in->instructions && in->instructions[0] ? in->instructions :
	      json_string_value(json_object_get(st->llm, "system"));
	llm_memory_recall(st, in->caller_id);
	if (in->history_json) {
		st->last_history = mem_deref(st->last_history);
		(void)str_dup(&st->last_history, in->history_json);
		json_decref(st->last_msgs);
		st->last_msgs = NULL;
	}
	r->base = llm_history_msgs(in->history_json, in->type == BT_BRAIN_USER ?
			       in->text : NULL, st->history_tokens);
	r->tools = resp_tools(st->tools, in->tools_json);
	r->in_type = in->type;
	if ((in->text && str_dup(&r->in_text, in->text)) ||
	    (sys && str_dup(&r->in_sys, sys))) {
		mem_deref(r);
		return bt_err(ENOMEM, "llm: out of memory");
	}

	if (st->filler_ms && st->filler_say && in->type == BT_BRAIN_USER)
		tmr_start(&r->tmr_filler, st->filler_ms, filler_tmr, r);
	if (st->mread && st->memory_wait_ms) {
		/* the caller's earlier calls are still being read */
		r->mem_wait = true;
		tmr_start(&r->tmr_mem, st->memory_wait_ms, llm_memory_late,
			  r);
		return 0;
	}
	llm_resp_go(r);
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
		tmr_cancel(&r->tmr_mem);
		r->mem_wait = false;
		/* a call not started is dropped with the response; one that
		 * runs finishes and its result reaches the history */
		llm_resp_free_if_idle(r);
	}
}

/* ---- the first connection ---- */

/*
 * A loop's first request to a provider would pay the TCP and TLS
 * handshakes in the caller's first turn. While the agent greets, a small
 * GET of the provider's model list opens the connection, which the
 * loop's connection cache then keeps for the turn. Once a minute per
 * endpoint and thread at most; its answer is not read.
 */
#define WARM_EVERY_MS 60000
static _Thread_local struct {
	char url[512];
	uint64_t at;
} warmed[4];

static void warm_done(const struct bt_http_result *res, void *arg)
{
	struct llm_st *st = arg;

	(void)res;
	st->warm = mem_deref(st->warm);
}

static void warm_up(struct llm_st *st)
{
	const struct llm_target *t = &st->main;
	struct bt_http_prm prm;
	char url[600], hdr[4][300];
	const char *hdrs[5];
	uint64_t now = tmr_jiffies();
	size_t i, slot = 0;

	if (st->warm)
		return;
	for (i = 0; i < 4; i++) {
		if (!strcmp(warmed[i].url, t->url) &&
		    now - warmed[i].at < WARM_EVERY_MS)
			return;
		if (warmed[i].at < warmed[slot].at)
			slot = i;
	}
	str_ncpy(warmed[slot].url, t->url, sizeof(warmed[slot].url));
	warmed[slot].at = now;
	/* {base}/models: the request path minus its last part */
	str_ncpy(url, t->url, sizeof(url));
	if (strrchr(url, '/'))
		*strrchr(url, '/') = '\0';
	if (t->wire == WIRE_OPENAI && strrchr(url, '/'))
		*strrchr(url, '/') = '\0';  /* .../chat/completions */
	snprintf(url + strlen(url), sizeof(url) - strlen(url), "/models");
	llm_wire_headers(t, hdr, hdrs);
	memset(&prm, 0, sizeof(prm));
	prm.method = "GET";
	prm.url = url;
	prm.headers = hdrs;
	prm.timeout_ms = 5000;
	(void)bt_http_start(&st->warm, &prm, NULL, warm_done, st);
}

/* ---- set-up ---- */

static void llm_destructor(void *arg)
{
	struct llm_st *st = arg;
	struct le *le;

	mem_deref(st->warm);
	llm_memory_drop(st);
	/* the call's memory record: written now, or when the last tool
	 * still running ends, with its result (llm_late.c) */
	llm_record_end(st);
	mem_deref(st->last_history);
	json_decref(st->last_msgs);
	json_decref(st->facts);
	mem_deref(st->flow_history);
	mem_deref(st->flow_extract);

	le = st->resps.head;
	while (le) {
		struct resp *r = le->data;

		le = le->next;
		r->st = NULL;
		mem_deref(r);
	}
	llm_call_reset(&st->held);
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

int llm_check(const json_t *agent, const char **pathp);

static int llm_alloc(struct bt_brain_st **stp, const json_t *agent,
		     const struct bt_brain_ctx *ctx)
{
	struct llm_st *st;
	const json_t *b = json_object_get(agent, "brain");
	const json_t *v, *fb, *rt, *f;
	const char *prov = bt_json_str_or(b, "provider", "openai");
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
	err = target_from(&st->main, prov, bt_json_str_or(b, "model", ""),
			  true);
	if (err)
		goto out;
	st->max_tokens = ms_or(st->llm, "max_tokens", 400);
	st->history_tokens = ms_or(st->llm, "history_tokens", HISTORY_TOKENS);
	v = json_object_get(st->llm, "temperature");
	st->temperature = v ? json_number_value(v) : -1;
	st->first_token_ms = ms_or(st->llm, "first_token_timeout_ms",
				   FIRST_TOKEN_MS);
	st->timeout_ms = ms_or(st->llm, "timeout_ms", TIMEOUT_MS);
	st->greeting = bt_json_str_or(st->llm, "greeting", NULL);
	v = json_object_get(st->llm, "idle");
	st->idle_say = bt_json_str_or(v, "say", "Are you still there?");
	st->hangup_say = bt_json_str_or(v, "hangup_say", "I'll hang up now. "
					"Feel free to call again. Goodbye.");
	st->idle_hangup = ms_or(v, "hangup_after", 2);
	f = json_object_get(st->llm, "filler");
	st->filler_ms = json_is_false(f) ? 0 : ms_or(f, "after_ms",
						      FILLER_MS);
	st->filler_say = bt_json_str_or(f, "say", DEF_FILLER);
	f = json_object_get(st->llm, "tool_filler");
	st->tool_filler_ms = json_is_false(f) ? 0 : ms_or(f, "after_ms",
							   TOOL_FILLER_MS);
	st->tool_filler_say = bt_json_str_or(f, "say", DEF_TOOL_FILLER);
	rt = json_object_get(st->llm, "router");
	if (rt) {
		err = target_from(&st->big,
				  bt_json_str_or(rt, "provider", prov),
				  bt_json_str_or(rt, "model", ""), true);
		if (err)
			goto out;
		st->has_big = true;
		st->route_words = json_object_get(rt, "keywords");
		st->route_min_words = ms_or(rt, "min_words", 0);
		st->route_filler = bt_json_str_or(rt, "filler", NULL);
		st->route_tools = json_object_get(rt, "tools");
	}
	v = json_object_get(st->llm, "memory");
	st->memory_on = !json_is_false(v);
	st->memory_days = ms_or(v, "retention_days", 90);
	st->memory_max = ms_or(v, "max_calls", 5);
	st->memory_wait_ms = ms_or(v, "wait_ms", MEMORY_WAIT_MS);
	/* the model writes the summary unless told not to; the agent's
	 * model and provider unless it names a (cheaper) one */
	st->summary_by_model = strcmp(bt_json_str_or(v, "summary", "model"),
				      "extractive");
	st->summary_timeout_ms = ms_or(v, "summary_timeout_ms",
				       SUMMARY_TIMEOUT_MS);
	if (st->memory_on && st->summary_by_model) {
		err = target_from(&st->summary_t, prov, bt_json_str_or(v,
				  "summary_model", st->main.model), false);
		if (err)
			goto out;
	}
	fb = json_object_get(st->llm, "fallback");
	json_array_foreach(fb, i, e) {
		struct llm_target *t = &st->chain[st->n_chain];

		if (st->n_chain == MAX_CHAIN)
			break;
		if (json_object_get(e, "say")) {
			memset(t, 0, sizeof(*t));
			str_ncpy(t->provider, "say", sizeof(t->provider));
			str_ncpy(t->say, bt_json_str_or(e, "say", ""),
				 sizeof(t->say));
		}
		else {
			/* a fallback without its key fails over in turn */
			err = target_from(t,
					  bt_json_str_or(e, "provider", prov),
					  bt_json_str_or(e, "model", ""),
					  false);
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
		st->memory_read_only = ctx->memory_read_only;
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

/* the two providers differ only in their wire format (llm_target) */
#define LLM_BRAIN(n) { .name = n, .section = "llm", .brain_keys = brain_keys, \
	.checkh = llm_check, .grammarsh = llm_grammars, .alloch = llm_alloc, \
	.respondh = llm_respond, .cancelh = llm_cancel, .linesh = llm_lines, \
	.callerh = llm_caller }
static struct bt_brain openai_brain = LLM_BRAIN("openai");
static struct bt_brain anthropic_brain = LLM_BRAIN("anthropic");

int bt_brain_llm_init(void)
{
	if (!openai_brain.le.list)
		bt_brain_register(&openai_brain);
	if (!anthropic_brain.le.list)
		bt_brain_register(&anthropic_brain);
	return 0;
}
