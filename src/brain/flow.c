/**
 * @file flow.c  The conversation-flow brain ("flow"): a graph of nodes.
 *
 * A node says something, may call a tool, and either waits for an answer
 * of a slot type (number, day, time, yes_no, text) or moves on along its
 * "next" edge. Global intents ("what are your opening hours?") answer from
 * any node and then ask the current question again. Failed answers are
 * reprompted a few times before a fallback; silence is checked on and
 * then the call ends politely. The schema is in docs/agent-file.md; the
 * recogniser's grammars come from flow_grammar.c. A transfer_call node
 * only says its line: the session transfers, and a failure comes back as
 * an input (BT_BRAIN_TRANSFER) that takes the action's on_error.
 *
 * A turn is answered inside respond(), on the session's thread, in
 * microseconds, unless a node calls a tool: on an event loop the tool runs
 * on the worker pool and the response is delivered when its result is
 * back (flow_action.c); in the simulator it runs inline.
 *
 * This file walks the nodes and is the brain's interface; the texts and
 * their templates are in flow_text.c, the tools in flow_action.c, reading
 * an answer and the confirmation band in flow_answer.c, the hand-off to an
 * LLM in flow_llm.c. They share the call's state (flow_st.h).
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <re.h>
#include "banter/banter.h"
#include "brain/flow_int.h"
#include "brain/flow_st.h"
#include "brain/flow_llm.h"
#include "brain/flow_memory.h"
#include "brain/slots.h"
#include "brain/transfer.h"
#include "core/worker.h"

static struct bt_brain flow_brain;

/* ------------------------------------------------------------------ */
/* the conversation                                                    */
/* ------------------------------------------------------------------ */

static void flow_destructor(void *arg)
{
	struct flow_st *st = arg;

	if (st->job) {
		/* its result comes back to nobody */
		st->job->st = NULL;
		atomic_store(&st->job->job.cancelled, true);
		bt_job_release(&st->job->job);
	}
	if (st->sink == &st->sink_copy)
		mem_deref(st->sink_copy.arg);
	if (st->queued.set)
		mem_deref(st->queued.sink.arg);

	/* one record per call: the hand-off LLM (if any) writes none of its
	 * own when the flow keeps memory (ctx.memory_read_only), but the
	 * flow's, given before it goes */
	if (st->memory_on)
		flow_memory_end(st->db_path && st->db_path[0] ? st->db_path :
				"banter.db", st->caller, st->spoken, st->vars,
				st->acts, st->history, st->llm);
	json_decref(st->confirm.val);
	mem_deref(st->llm);
	mem_deref(st->history);
	json_decref(st->acts);
	json_decref(st->vars);
	json_decref(st->spoken);
	json_decref(st->agent);
	mem_deref(st->db_path);
	mem_deref(st->session_id);
}

void flow_end_call(struct flow_st *st)
{
	st->ended = true;
	st->cur = NULL;
	st->curnode = NULL;
}

/* Enter node `id` and go on until a node waits for an answer or ends. */
void flow_enter(struct flow_st *st, const char *id)
{
	flow_walk(st, id, -1);
}

/*
 * Walk from node `id` until a node waits for an answer or ends. done_err
 * >= 0: `id`'s tool has run already with that result (the walk goes on
 * after a tool on the pool). A tool to start on the pool stops the walk.
 */
void flow_walk(struct flow_st *st, const char *id, int done_err)
{
	unsigned hops;

	for (hops = 0; id; hops++) {
		void *iter = json_object_iter_at((json_t *)st->nodes, id);
		const json_t *node = iter ? json_object_iter_value(iter) : NULL;
		const json_t *action;
		int err = 0;

		if (!node || hops >= HOPS_MAX) {
			/* unreachable for a checked flow; end, never spin */
			flow_end_call(st);
			return;
		}
		action = json_object_get(node, "action");
		if (action && !strcmp(bt_json_str_or(action, "tool", ""),
				      BT_TRANSFER_RUN)) {
			/* the line now; the session transfers once it has
			 * played, and a failure comes back as an input */
			flow_say(st, bt_json_str_or(node, "say", NULL));
			st->xfer = action;
			st->xfer_new = true;
			return;
		}
		if (done_err >= 0) {
			err = done_err;
			done_err = -1;
		}
		else {
			st->fails = 0;
			st->cur = NULL;
			st->curnode = NULL;
			flow_confirm_clear(st);
			if (action &&
			    flow_action_start(st, action,
					      json_object_iter_key(iter)))
				return;  /* goes on in action_back */
			if (action)
				err = flow_run_action(st, action);
		}
		if (action && err) {
			const json_t *oe = json_object_get(action, "on_error");

			flow_say(st, bt_json_str_or(oe, "say", DEF_TOOL_ERROR));
			id = bt_json_str_or(oe, "next", NULL);
			if (!id)
				flow_end_call(st);
			continue;
		}

		if (json_is_true(json_object_get(node, "uninterruptible")))
			flow_say_uninterruptible(st, bt_json_str_or(node, "say",
								    NULL));
		else
			flow_say(st, bt_json_str_or(node, "say", NULL));
		if (json_object_get(node, "expect")) {
			flow_say(st, bt_json_str_or(node, "ask", NULL));
			st->cur = json_object_iter_key(iter);
			st->curnode = node;
			return;
		}
		if (json_object_get(node, "llm")) {
			/* the LLM answers this turn and the next ones */
			st->in_llm = true;
			st->llm_now = true;
			st->llm_node = node;
			return;
		}
		if (json_is_true(json_object_get(node, "end"))) {
			flow_end_call(st);
			return;
		}
		id = bt_json_str_or(node, "next", NULL);
		if (!id)
			flow_end_call(st);
	}
}

void flow_ask_again(struct flow_st *st)
{
	flow_say(st, bt_json_str_or(st->curnode, "ask", NULL));
}

/* A failed answer: reprompt, or after too many the fallback. */
static void failed(struct flow_st *st)
{
	if (++st->fails > st->reprompt_max) {
		flow_say(st, st->fallback_say);
		if (st->fallback_next)
			flow_enter(st, st->fallback_next);
		else
			flow_end_call(st);
		return;
	}
	flow_say(st, bt_json_str_or(st->curnode, "reprompt", st->reprompt_say));
	flow_ask_again(st);
}

static void on_user(struct flow_st *st, const struct bt_brain_input *in)
{
	const json_t *e = json_object_get(st->curnode, "expect");
	const json_t *mc = json_object_get(e, "min_confidence");
	double min = mc ? json_number_value(mc) : st->min_conf;
	const json_t *intent;
	const char *next;
	char norm[NORM_MAX], spoken[TEXT_MAX];
	json_t *val = NULL;
	double below;

	slot_normalize(in->text, norm, sizeof(norm));
	/* a global intent first, at a question as in the answer to a
	 * confirmation ("no, get me a person") */
	intent = norm[0] && in->confidence >= min ? flow_match_intent(st, norm)
						  : NULL;
	if (intent) {
		flow_say(st, bt_json_str_or(intent, "say", NULL));
		next = bt_json_str_or(intent, "next", NULL);
		if (next) {
			flow_confirm_clear(st);
			flow_enter(st, next);
		}
		else if (st->confirm.on)
			/* the value is still to confirm */
			flow_confirm_say(st);
		else
			flow_ask_again(st);
		return;
	}
	if (st->confirm.on) {
		flow_on_confirm(st, in, norm, min);
		return;
	}
	if (!norm[0] || in->confidence < min) {
		failed(st);
		return;
	}

	next = flow_read_answer(st, norm, &val, spoken, sizeof(spoken));
	if (!next && flow_asks_repeat(norm)) {
		flow_ask_again(st);
		return;
	}
	if (!next) {
		failed(st);
		return;
	}
	below = flow_confirm_below(st);
	if (below > 0.0 && in->confidence < below) {
		flow_confirm_ask(st, val, spoken, next);
		return;
	}
	flow_keep_answer(st, val, spoken);
	flow_enter(st, next);
}

static void on_idle(struct flow_st *st, const struct bt_brain_input *in)
{
	unsigned n = in->idle_count ? in->idle_count : 1;

	if (n >= st->idle_hangup) {
		flow_say(st, st->hangup_say);
		flow_end_call(st);
		return;
	}
	flow_say(st, st->idle_say);
	if (st->confirm.on)
		flow_confirm_unclear(st);
	else
		flow_ask_again(st);
}

/* The transfer did not happen: on_error says so and the flow goes on. */
static void on_transfer_failed(struct flow_st *st,
			       const struct bt_brain_input *in)
{
	const json_t *a = st->xfer, *oe = json_object_get(a, "on_error");
	const char *next = bt_json_str_or(oe, "next", NULL);

	if (!a)
		return;
	st->xfer = NULL;
	(void)flow_action_result(st, a,
				 json_deep_copy(json_object_get(a, "args")),
				 NULL, EIO, in->text);
	flow_say(st, bt_json_str_or(oe, "say", DEF_TRANSFER_ERROR));
	if (next)
		flow_enter(st, next);
	else
		flow_end_call(st);
}

static int bst_respond(struct flow_st *st, const struct bt_brain_input *in,
		       const struct bt_brain_sink *sink);

/* The response is complete (no tool pending): hand it over. */
void flow_deliver(struct flow_st *st)
{
	const struct bt_brain_sink *sink = st->sink;
	struct bt_brain_done done = {false, NULL, NULL, false, NULL};
	void *held = sink == &st->sink_copy ? st->sink_copy.arg : NULL;

	if (!sink)
		return;
	if (st->reply_len)
		sink->texth(st->reply, sink->arg);
	done.end_call = st->ended;
	done.transfer_to = st->xfer_new ? json_string_value(json_object_get(
		json_object_get(st->xfer, "args"), "to")) : NULL;
	st->xfer_new = false;
	done.grammar = st->cur &&
		flow_expect_type(st->curnode) > BT_SLOT_TEXT ?
		st->cur : NULL;
	if (st->cur && st->confirm.on)
		done.grammar = st->yesno_grammar;
	st->sink = NULL;
	sink->doneh(&done, sink->arg);
	mem_deref(held);
	if (st->queued.set) {
		/* an input that came while a tool ran */
		struct bt_brain_sink qs = st->queued.sink;
		struct bt_brain_input in = st->queued.in;

		st->queued.set = false;
		in.text = st->queued.text;
		in.history_json = NULL;
		in.instructions = NULL;
		(void)bst_respond(st, &in, &qs);
		mem_deref(qs.arg);
	}
}

/* A tool runs on the pool: keep the sink (and a reference on its arg)
 * until it is back; flow_deliver() then lets it go. */
static void hold_sink(struct flow_st *st, const struct bt_brain_sink *sink)
{
	st->sink_copy = *sink;
	mem_ref(st->sink_copy.arg);
	st->sink = &st->sink_copy;
}

/* The LLM gave the call back: the flow goes on at the node's return_to
 * and ends the response the LLM began. */
static void llm_back(const struct bt_brain_sink *sink, void *arg)
{
	struct flow_st *st = arg;
	const char *to = json_string_value(json_object_get(json_object_get(
		st->llm_node, "llm"), "return_to"));

	st->in_llm = false;
	st->llm_node = NULL;
	st->reply_len = 0;
	st->reply[0] = '\0';
	st->sink = sink;
	st->before = st->cur = NULL;
	st->beforenode = st->curnode = NULL;
	flow_enter(st, to);
	if (st->job) {
		hold_sink(st, sink);
		return;
	}
	flow_deliver(st);
}

/* This turn goes to the LLM, told what the flow has gathered. */
static int llm_forward(struct flow_st *st, const struct bt_brain_input *in,
		       const struct bt_brain_sink *sink)
{
	const json_t *l = json_object_get(st->agent, "llm");
	const char *sys = bt_json_str_or(l, "system", "");
	const char *ins = bt_json_str_or(json_object_get(st->llm_node, "llm"),
				 "instructions", "");
	struct bt_brain_input in2 = *in;
	char buf[8192], known[1024];
	size_t o = 0;
	const char *key;
	json_t *v;
	int err;

	if (!st->llm) {
		err = flow_llm_alloc(&st->llm, st->agent, &st->ctx, llm_back,
				     st);
		if (err)
			return err;
	}
	known[0] = '\0';
	json_object_foreach(st->vars, key, v) {
		char val[200];

		flow_value_text(v, val, sizeof(val));
		if (o < sizeof(known))
			o += (size_t)snprintf(known + o, sizeof(known) - o,
					      "%s%s: %s", o ? "; " : "", key,
					      val);
	}
	snprintf(buf, sizeof(buf), "%s%s%s%s%s%s", sys, sys[0] ? "\n\n" : "",
		 ins, ins[0] ? "\n\n" : "", known[0] ? "What the caller has "
		 "told so far: " : "", known);
	if (in->instructions && in->instructions[0])
		snprintf(buf, sizeof(buf), "%s", in->instructions);
	in2.instructions = buf;
	st->sink = NULL;
	return flow_llm_respond(st->llm, &in2, sink);
}

static int bst_respond(struct flow_st *st, const struct bt_brain_input *in,
		       const struct bt_brain_sink *sink)
{
	if (st->in_llm && in->type != BT_BRAIN_START)
		return llm_forward(st, in, sink);
	if (in->type == BT_BRAIN_START) {
		st->in_llm = st->llm_now = false;
		st->llm_node = NULL;
	}
	st->sink = sink;
	st->reply_len = 0;
	st->reply[0] = '\0';
	st->before = st->cur;
	st->beforenode = st->curnode;

	switch (in->type) {
	case BT_BRAIN_START:
		json_object_clear(st->vars);
		json_object_clear(st->spoken);
		flow_confirm_clear(st);
		st->ended = false;
		st->xfer = NULL;
		flow_enter(st, st->start);
		break;
	case BT_BRAIN_USER:
		if (st->ended || st->xfer)
			break;
		if (!st->cur)
			flow_enter(st, st->start);
		else
			on_user(st, in);
		break;
	case BT_BRAIN_IDLE:
		if (!st->ended && st->cur)
			on_idle(st, in);
		break;
	case BT_BRAIN_TRANSFER:
		on_transfer_failed(st, in);
		break;
	default:
		st->sink = NULL;
		return bt_err(EINVAL, "flow: unknown input type %d",
			      (int)in->type);
	}
	if (st->job) {
		hold_sink(st, sink);
		return 0;
	}
	if (st->llm_now) {
		/* the node's own words, then the LLM answers the turn */
		st->llm_now = false;
		if (st->reply_len)
			sink->texth(st->reply, sink->arg);
		st->reply_len = 0;
		st->reply[0] = '\0';
		return llm_forward(st, in, sink);
	}
	flow_deliver(st);
	return 0;
}

/* A response was cancelled: its tool does not start if it has not. */
static void flow_cancel(struct bt_brain_st *bst, void *arg)
{
	struct flow_st *st = (struct flow_st *)bst;

	if (!st)
		return;
	if (st->job && st->sink == &st->sink_copy && st->sink_copy.arg == arg)
		atomic_store(&st->job->job.cancelled, true);
	if (st->queued.set && st->queued.sink.arg == arg) {
		st->queued.set = false;
		mem_deref(st->queued.sink.arg);
	}
	flow_llm_cancel(st->llm, arg);
}

static int flow_respond(struct bt_brain_st *bst,
			const struct bt_brain_input *in,
			const struct bt_brain_sink *sink)
{
	struct flow_st *st = (struct flow_st *)bst;

	if (!st || !in || !sink || !sink->texth || !sink->doneh)
		return bt_err(EINVAL, "flow: respond needs an instance, an "
			      "input and a sink with texth and doneh");
	if (in->caller_id && in->caller_id[0])
		str_ncpy(st->caller, in->caller_id, sizeof(st->caller));
	if (st->memory_on && in->history_json) {
		st->history = mem_deref(st->history);
		(void)str_dup(&st->history, in->history_json);
	}
	if (st->job) {
		/* a tool of the last response is still running: this input
		 * is answered after it (only the newest waits) */
		if (st->queued.set)
			mem_deref(st->queued.sink.arg);
		st->queued.set = true;
		st->queued.in = *in;
		str_ncpy(st->queued.text, in->text ? in->text : "",
			 sizeof(st->queued.text));
		st->queued.sink = *sink;
		mem_ref(sink->arg);
		return 0;
	}
	return bst_respond(st, in, sink);
}

/* The first yes_no question node: its grammar hears a confirmation's
 * answer (flow_grammars() gives each question node one, by its id). */
static const char *yesno_node(const json_t *nodes)
{
	const char *id;
	json_t *n;

	json_object_foreach((json_t *)nodes, id, n)
		if (flow_expect_type(n) == BT_SLOT_YESNO)
			return id;
	return NULL;
}

static int flow_alloc(struct bt_brain_st **stp, const json_t *agent,
		      const struct bt_brain_ctx *ctx)
{
	struct flow_st *st = NULL;
	const json_t *flow, *r, *i, *v;
	const char *path = NULL;
	int err;

	if (!stp || !agent)
		return bt_err(EINVAL, "flow: alloc needs an agent");

	/* the loader checked already; an embedder may not have */
	err = flow_check(agent, &path);
	if (err) {
		char why[800];

		str_ncpy(why, bt_errmsg(), sizeof(why));
		return bt_err(err, "flow: %s (at %s)", why, path ? path : "?");
	}

	st = mem_zalloc(sizeof(*st), flow_destructor);
	if (!st)
		return bt_err(ENOMEM, "flow: out of memory");

	st->brain = &flow_brain;
	st->agent = json_incref((json_t *)agent);
	st->vars = json_object();
	st->spoken = json_object();
	st->acts = json_array();
	if (!st->vars || !st->spoken || !st->acts) {
		err = bt_err(ENOMEM, "flow: out of memory");
		goto out;
	}
	if (ctx) {
		err = str_dup(&st->db_path, ctx->db_path ? ctx->db_path : "");
		if (!err)
			err = str_dup(&st->session_id,
				      ctx->session_id ? ctx->session_id : "");
		if (err) {
			err = bt_err(err, "flow: out of memory");
			goto out;
		}
		st->ctx.db_path = ctx->db_path ? st->db_path : NULL;
		st->ctx.session_id = ctx->session_id ? st->session_id : NULL;
	}

	flow = json_object_get(agent, "flow");
	st->memory_on = json_is_true(json_object_get(flow, "memory"));
	/* the flow writes the call's one record; its LLM hand-off reads */
	st->ctx.memory_read_only = st->memory_on;
	st->nodes = json_object_get(flow, "nodes");
	st->start = json_string_value(json_object_get(flow, "start"));
	st->intents = json_object_get(flow, "intents");
	v = json_object_get(flow, "min_confidence");
	st->min_conf = v ? json_number_value(v) : 0.0;
	v = json_object_get(flow, "confirm_below");
	st->confirm_below = v ? json_number_value(v) : 0.0;
	st->yesno_grammar = yesno_node(st->nodes);

	r = json_object_get(flow, "reprompt");
	st->reprompt_say = bt_json_str_or(r, "say", DEF_REPROMPT);
	v = json_object_get(r, "max");
	st->reprompt_max = v ? (unsigned)json_integer_value(v) : 2;
	v = json_object_get(r, "fallback");
	st->fallback_say = bt_json_str_or(v, "say", DEF_FALLBACK);
	st->fallback_next = bt_json_str_or(v, "next", NULL);

	i = json_object_get(flow, "idle");
	st->idle_say = bt_json_str_or(i, "say", DEF_IDLE);
	st->hangup_say = bt_json_str_or(i, "hangup_say", DEF_HANGUP);
	v = json_object_get(i, "hangup_after");
	st->idle_hangup = v ? (unsigned)json_integer_value(v) : 2;

	*stp = (struct bt_brain_st *)st;
	st = NULL;

 out:
	mem_deref(st);
	return err;
}

static struct bt_brain flow_brain = {
	.name = "flow",
	.checkh = flow_check,
	.grammarsh = flow_grammars,
	.alloch = flow_alloc,
	.respondh = flow_respond,
	.cancelh = flow_cancel,
};

int bt_brain_flow_init(void)
{
	/* registering twice would link the list element into itself */
	if (!flow_brain.le.list)
		bt_brain_register(&flow_brain);
	return 0;
}
