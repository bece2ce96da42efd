/**
 * @file flow_llm.c  A flow that hands the conversation to an LLM and
 *                   takes it back: a node {"llm": {"instructions",
 *                   "return_to"}} lets the agent's "llm" section answer
 *                   open questions (knowing the slots gathered so far),
 *                   until the model calls return_to_flow and the flow
 *                   goes on at return_to.
 *
 * The LLM is the "openai" or "anthropic" brain itself, made once per
 * call from the agent with its "brain" replaced; its responses go to the
 * session through a wrapper sink, so that a hand-back reaches the flow
 * before the response ends and the flow's next question joins the reply.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include "brain/flow_llm.h"
#include "brain/llm_int.h"

#define NOTES_MAX 16
#define SAID_MAX 160

struct wrap {
	struct flow_llm *f;            /* NULL once the flow is gone */
	struct bt_brain_sink orig;     /* the session's; orig.arg held */
	char said[SAID_MAX];           /* the start of the LLM's answer */
	size_t said_len;
	bool cut;                      /* ... and there was more */
};

struct flow_llm {
	const struct bt_brain *b;
	struct bt_brain_st *st;
	struct wrap *cur;              /* the response in the LLM's hands */
	flow_llm_back_h *backh;
	void *backarg;
	/* what was said and done during the hand-off, for the call's
	 * memory record: "the caller asked ...", "the agent answered ..." */
	json_t *notes;
};

static void note(struct flow_llm *f, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void note(struct flow_llm *f, const char *fmt, ...)
{
	char line[400];
	va_list ap;

	if (!f || json_array_size(f->notes) >= NOTES_MAX)
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	json_array_append_new(f->notes, json_string(line));
}

/* The response's words, once: when it ends, or is dropped unended. */
static void note_said(struct wrap *w)
{
	size_t b = 0;

	while (w->said_len && (w->said[w->said_len - 1] == ' ' ||
			       w->said[w->said_len - 1] == '\n'))
		w->said[--w->said_len] = '\0';
	while (b < w->said_len && (w->said[b] == ' ' || w->said[b] == '\n'))
		b++;
	if (b == w->said_len)
		return;
	note(w->f, "the agent answered \"%s%s\"", w->said + b,
	     w->cut ? "..." : "");
	w->said_len = 0;
}

static void wrap_destructor(void *arg)
{
	struct wrap *w = arg;

	note_said(w);
	if (w->f && w->f->cur == w)
		w->f->cur = NULL;
	mem_deref(w->orig.arg);
}

static void fl_destructor(void *arg)
{
	struct flow_llm *f = arg;

	if (f->cur)
		f->cur->f = NULL;
	mem_deref(f->st);
	json_decref(f->notes);
}

json_t *flow_llm_agent(const json_t *agent)
{
	const json_t *l = json_object_get(agent, "llm");
	json_t *a = json_deep_copy(agent), *ll, *tools;
	const char *prov = json_string_value(json_object_get(l, "provider"));

	if (!a)
		return NULL;
	json_object_set_new(a, "brain", json_pack("{s:s,s:O}", "provider",
		prov ? prov : "openai", "model",
		json_object_get(l, "model") ? json_object_get(l, "model")
					    : json_string("")));
	json_object_del(a, "flow");
	ll = json_object_get(a, "llm");
	if (!json_is_object(ll)) {
		ll = json_object();
		json_object_set_new(a, "llm", ll);
	}
	json_object_del(ll, "provider");
	json_object_del(ll, "model");
	tools = json_object_get(ll, "tools");
	if (!json_is_array(tools)) {
		tools = json_array();
		json_object_set_new(ll, "tools", tools);
	}
	json_array_append_new(tools, json_pack("{s:s,s:s,s:s}", "name",
		"return_to_flow", "description", "Call this when the caller "
		"wants to go on with the booking (or what the conversation "
		"was doing before their question), after a short bridge "
		"sentence.", "run", "flow.return"));
	return a;
}

int flow_llm_check(const json_t *agent, const char **pathp)
{
	const json_t *l = json_object_get(agent, "llm");
	const char *prov = json_string_value(json_object_get(l, "provider"));
	const struct bt_brain *b;
	json_t *a;
	int err;

	if (!json_is_object(l) || !json_is_string(json_object_get(l,
								   "model"))) {
		*pathp = "llm";
		return bt_err(EINVAL, "a flow node hands the call to an LLM, "
			      "so the agent needs an \"llm\" section with "
			      "\"provider\" and \"model\": {\"provider\": "
			      "\"openai\", \"model\": \"gpt-4o-mini\", "
			      "\"system\": \"...\"}");
	}
	b = bt_brain_find(prov ? prov : "openai");
	if (!b || !b->section || strcmp(b->section, "llm")) {
		*pathp = "llm.provider";
		return bt_err(EINVAL, "\"llm.provider\" must be \"openai\" or "
			      "\"anthropic\"");
	}
	a = flow_llm_agent(agent);
	if (!a)
		return ENOMEM;
	err = b->checkh(a, pathp);
	json_decref(a);
	if (err && *pathp && !strcmp(*pathp, "brain.provider"))
		*pathp = "llm.provider";
	else if (err && *pathp && !strcmp(*pathp, "brain.model"))
		*pathp = "llm.model";
	return err;
}

int flow_llm_alloc(struct flow_llm **fp, const json_t *agent,
		   const struct bt_brain_ctx *ctx, flow_llm_back_h *backh,
		   void *backarg)
{
	struct flow_llm *f;
	json_t *a;
	int err;

	f = mem_zalloc(sizeof(*f), fl_destructor);
	if (!f)
		return ENOMEM;
	f->notes = json_array();
	if (!f->notes) {
		mem_deref(f);
		return ENOMEM;
	}
	a = flow_llm_agent(agent);
	f->b = bt_brain_find(json_string_value(json_object_get(
		json_object_get(a, "brain"), "provider")));
	if (!a || !f->b) {
		json_decref(a);
		mem_deref(f);
		return bt_err(EINVAL, "the flow's LLM has no provider");
	}
	err = f->b->alloch(&f->st, a, ctx);
	json_decref(a);
	if (err) {
		mem_deref(f);
		return err;
	}
	f->backh = backh;
	f->backarg = backarg;
	*fp = f;
	return 0;
}

static void w_text(const char *text, void *arg)
{
	struct wrap *w = arg;
	size_t n = strlen(text);

	if (!w->cut && n > sizeof(w->said) - 1 - w->said_len) {
		n = sizeof(w->said) - 1 - w->said_len;
		/* whole UTF-8 characters only: the record is JSON text */
		while (n && ((unsigned char)text[n] & 0xc0) == 0x80)
			n--;
		w->cut = true;
		memcpy(w->said + w->said_len, text, n);
		w->said_len += n;
		w->said[w->said_len] = '\0';
	}
	else if (!w->cut) {
		memcpy(w->said + w->said_len, text, n + 1);
		w->said_len += n;
	}
	w->orig.texth(text, w->orig.arg);
}

static void w_filler(const char *text, void *arg)
{
	struct wrap *w = arg;

	if (w->orig.fillerh)
		w->orig.fillerh(text, w->orig.arg);
	else
		w->orig.texth(text, w->orig.arg);
}

static void w_done(const struct bt_brain_done *d, void *arg)
{
	struct wrap *w = arg;
	struct flow_llm *f = w->f;

	if (f && f->cur == w)
		f->cur = NULL;
	note_said(w);
	if (d->handback && f && f->backh) {
		/* the flow says what comes next and ends the response */
		f->backh(&w->orig, f->backarg);
		return;
	}
	w->orig.doneh(d, w->orig.arg);
}

static void w_tool(const char *name, const char *args, const char *result,
		   int err, void *arg)
{
	struct wrap *w = arg;

	/* its own way back is no fact about the caller; a tool still
	 * running when the call ends reaches the record by itself
	 * (llm_late.c) */
	if (result && strcmp(name, "return_to_flow"))
		note(w->f, "%.64s %.120s gave %.200s", name, args ? args : "{}",
		     result);
	if (w->orig.toolh)
		w->orig.toolh(name, args, result, err, w->orig.arg);
}

static void w_error(const char *msg, void *arg)
{
	struct wrap *w = arg;

	if (w->orig.errorh)
		w->orig.errorh(msg, w->orig.arg);
}

static void w_seg(bool unint, void *arg)
{
	struct wrap *w = arg;

	if (w->orig.segmenth)
		w->orig.segmenth(unint, w->orig.arg);
}

static void w_call(const char *id, const char *name, const char *args,
		   void *arg)
{
	struct wrap *w = arg;

	if (w->orig.callh)
		w->orig.callh(id, name, args, w->orig.arg);
}

int flow_llm_respond(struct flow_llm *f, const struct bt_brain_input *in,
		     const struct bt_brain_sink *sink)
{
	struct bt_brain_sink ws;
	struct wrap *w;
	int err;

	if (!f || !in || !sink)
		return EINVAL;
	w = mem_zalloc(sizeof(*w), wrap_destructor);
	if (!w)
		return ENOMEM;
	w->f = f;
	w->orig = *sink;
	if (in->type == BT_BRAIN_USER && in->text && in->text[0])
		note(f, "the caller asked \"%.100s\"", in->text);
	mem_ref(w->orig.arg);
	memset(&ws, 0, sizeof(ws));
	ws.texth = w_text;
	ws.doneh = w_done;
	ws.toolh = w_tool;
	ws.errorh = w_error;
	ws.segmenth = w_seg;
	ws.callh = w_call;
	ws.fillerh = w_filler;
	ws.arg = w;
	f->cur = w;
	err = f->b->respondh(f->st, in, &ws);
	/* the brain holds its own reference while it answers */
	mem_deref(w);
	return err;
}

void flow_llm_cancel(struct flow_llm *f, void *sink_arg)
{
	if (!f || !f->cur || f->cur->orig.arg != sink_arg)
		return;
	if (f->b->cancelh)
		f->b->cancelh(f->st, f->cur);
}

void flow_llm_record(struct flow_llm *f, const char *caller,
		     const char *history_json, const char *flow_extract)
{
	char ex[1024];
	size_t o, i;
	const json_t *n;

	if (!f)
		return;
	str_ncpy(ex, flow_extract ? flow_extract : "", sizeof(ex));
	o = strlen(ex);
	json_array_foreach(f->notes, i, n) {
		int k = snprintf(ex + o, sizeof(ex) - o, "%s%s", o ? "; " : "",
				 json_string_value(n));

		if (k < 0 || (size_t)k >= sizeof(ex) - o) {
			ex[o] = '\0';
			break;
		}
		o += (size_t)k;
	}
	llm_record_flow(f->st, caller, history_json, ex);
}
