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
 * Everything happens inside respond(), on the session's thread, and is
 * answered before it returns: a turn costs microseconds, plus the tool's
 * time when a node calls one (booking.save is one SQLite insert).
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <re.h>
#include "banter/banter.h"
#include "brain/flow_int.h"
#include "brain/flow_llm.h"
#include "brain/flow_memory.h"
#include "brain/slots.h"
#include "brain/transfer.h"
#include "core/worker.h"
#include "net/loop.h"

struct flow_st {
	const struct bt_brain *brain; /* first: the instance convention */
	json_t *agent;
	const json_t *nodes;
	const char *start;

	/* settings, read once (all strings owned by agent) */
	double min_conf;
	double confirm_below;  /* flow.confirm_below; 0: no band */
	const char *tmpl_value;    /* what {value} renders (confirm_say) */
	const char *yesno_grammar; /* a yes_no question node: the grammar
				      a confirmation's answer is heard
				      with; NULL: the open model */
	unsigned reprompt_max;
	const char *reprompt_say;
	const char *fallback_say;
	const char *fallback_next;
	unsigned idle_hangup;
	const char *idle_say;
	const char *hangup_say;
	const json_t *intents;

	char *db_path;
	char *session_id;
	struct bt_brain_ctx ctx;

	json_t *vars;   /* slot values (typed) and saved tool results */
	json_t *spoken; /* slot values as said ("three") */

	/* "flow.memory": true: this call's summary for the caller's next
	 * one (flow_memory.c), written when the brain goes */
	bool memory_on;
	char caller[128];
	json_t *acts;   /* the tools run, as summary lines */
	char *history;  /* the newest history seen (for a hand-off's
			   record) */

	const char *cur;       /* node waiting for an answer (key in nodes) */
	const json_t *curnode;
	unsigned fails;        /* failed answers at cur */

	/* an answer at cur heard in the confirmation band (at or above
	 * min_confidence, below confirm_below): asked back before it is
	 * taken */
	struct {
		bool on;
		unsigned unclear;  /* answers to it that were neither */
		json_t *val;
		char spoken[TEXT_MAX];
		const char *next;
	} confirm;
	bool ended;
	const json_t *xfer;    /* a transfer_call action asked for; its
				  outcome is not known yet */
	bool xfer_new;         /* ... in this response */

	const struct bt_brain_sink *sink; /* the response being made */
	char reply[REPLY_MAX];
	size_t reply_len;

	/*
	 * A tool runs on the worker pool when the session lives on an event
	 * loop: the walk through the flow stops at its node and goes on when
	 * the result is back, and the response is delivered then (sink_copy,
	 * with a reference on its arg). An input that comes meanwhile waits.
	 */
	struct action_job *job;
	struct bt_brain_sink sink_copy;
	const char *before;           /* the node that asked, for a tool
					 that never ran */
	const json_t *beforenode;
	struct {
		bool set;
		struct bt_brain_input in;
		char text[512];
		struct bt_brain_sink sink;
	} queued;

	/* a node {"llm": ...} hands the call to the agent's LLM until it
	 * calls return_to_flow (flow_llm.c) */
	struct flow_llm *llm;
	const json_t *llm_node;
	bool in_llm;
	bool llm_now;                 /* entered in this response */
};

struct action_job {
	struct bt_job job;
	struct flow_st *st;      /* NULL once the brain is gone */
	const struct bt_tool *tool;
	const json_t *action;    /* in st->agent */
	const char *node;        /* the action's node id, in st->agent */
	json_t *args, *result;
	struct bt_brain_ctx ctx;  /* pointing at the copies below: the
				     brain may go while the tool runs */
	char db_path[512], session_id[64];
	int err;
	char errmsg[512];
};

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

/* A value for a {name.path} placeholder: a slot or part of a result. */
static const json_t *lookup(const struct flow_st *st, const char *name)
{
	char part[NAME_MAX_LEN + 1];
	const json_t *v = st->vars;

	while (v && *name) {
		size_t n = strcspn(name, ".");

		if (n > NAME_MAX_LEN)
			return NULL;
		memcpy(part, name, n);
		part[n] = '\0';
		v = json_object_get(v, part);
		name += n;
		if (*name == '.')
			name++;
	}
	return v;
}

static void value_text(const json_t *v, char *buf, size_t sz)
{
	buf[0] = '\0';
	if (json_is_string(v))
		str_ncpy(buf, json_string_value(v), sz);
	else if (json_is_integer(v))
		snprintf(buf, sz, "%" JSON_INTEGER_FORMAT,
			 json_integer_value(v));
	else if (json_is_real(v))
		snprintf(buf, sz, "%g", json_real_value(v));
	else if (json_is_boolean(v))
		str_ncpy(buf, json_is_true(v) ? "yes" : "no", sz);
}

bool flow_tmpl_next(const char **pp, struct tmpl_part *part)
{
	const char *p = pp ? *pp : NULL;
	const char *close;

	if (!p || !*p)
		return false;
	part->s = p;
	part->n = 1;
	if ((p[0] == '{' && p[1] == '{') || (p[0] == '}' && p[1] == '}')) {
		part->kind = TMPL_TEXT;
		*pp = p + 2;
		return true;
	}
	if (p[0] == '{') {
		close = strpbrk(p + 1, "{}");
		if (close && *close == '}') {
			part->kind = TMPL_NAME;
			part->s = p + 1;
			part->n = (size_t)(close - p - 1);
			*pp = close + 1;
			return true;
		}
		part->kind = TMPL_BAD;
		*pp = p + 1;
		return true;
	}
	if (p[0] == '}') {
		part->kind = TMPL_BAD;
		*pp = p + 1;
		return true;
	}
	part->kind = TMPL_TEXT;
	part->n = strcspn(p, "{}");
	*pp = p + part->n;
	return true;
}

bool flow_tmpl_lone(const char *tmpl, const char **namep, size_t *np)
{
	struct tmpl_part part;

	if (!flow_tmpl_next(&tmpl, &part) || part.kind != TMPL_NAME ||
	    !part.n || *tmpl)
		return false;
	*namep = part.s;
	*np = part.n;
	return true;
}

/*
 * Fill {name} placeholders: spoken slot values ("three") for speech, the
 * data ("3") otherwise. Unset names become "".
 */
static void render(const struct flow_st *st, const char *tmpl, bool speech,
		   char *buf, size_t sz)
{
	struct tmpl_part part;
	size_t len = 0;
	const char *p = tmpl;

	buf[0] = '\0';
	while (len + 1 < sz && flow_tmpl_next(&p, &part)) {
		char name[PATH_LEN], val[TEXT_MAX];
		const char *text = part.s;
		const json_t *v;
		size_t n = part.n;

		if (part.kind == TMPL_NAME) {
			if (n >= sizeof(name))
				n = sizeof(name) - 1;
			memcpy(name, part.s, n);
			name[n] = '\0';

			v = speech ? json_object_get(st->spoken, name) : NULL;
			if (!v)
				v = lookup(st, name);
			value_text(v, val, sizeof(val));
			if (st->tmpl_value && !strcmp(name, "value"))
				str_ncpy(val, st->tmpl_value, sizeof(val));
			text = val;
			n = strlen(val);
		}
		if (n > sz - 1 - len)
			n = sz - 1 - len;
		memcpy(buf + len, text, n);
		len += n;
	}
	buf[len] = '\0';
}

/* Add a text (a template) to the reply, a space between texts. */
static void say(struct flow_st *st, const char *tmpl)
{
	char text[TEXT_MAX];
	size_t n;

	if (!tmpl || !*tmpl)
		return;
	render(st, tmpl, true, text, sizeof(text));
	n = strlen(text);
	if (!n)
		return;
	if (st->reply_len && st->reply_len + 1 < sizeof(st->reply))
		st->reply[st->reply_len++] = ' ';
	if (n > sizeof(st->reply) - 1 - st->reply_len)
		n = sizeof(st->reply) - 1 - st->reply_len;
	memcpy(st->reply + st->reply_len, text, n);
	st->reply_len += n;
	st->reply[st->reply_len] = '\0';
}

/*
 * A node marked "uninterruptible" (a legal notice) says its text as a
 * segment of its own: what was said before goes out first, then the
 * notice between two segment marks.
 */
static void say_uninterruptible(struct flow_st *st, const char *tmpl)
{
	const struct bt_brain_sink *sink = st->sink;

	if (!sink || !sink->segmenth) {
		say(st, tmpl);
		return;
	}
	if (st->reply_len) {
		sink->texth(st->reply, sink->arg);
		st->reply_len = 0;
		st->reply[0] = '\0';
	}
	say(st, tmpl);
	if (st->reply_len) {
		sink->segmenth(true, sink->arg);
		sink->texth(st->reply, sink->arg);
		sink->segmenth(false, sink->arg);
		st->reply_len = 0;
		st->reply[0] = '\0';
	}
}

static void end_call(struct flow_st *st)
{
	st->ended = true;
	st->cur = NULL;
	st->curnode = NULL;
}

static json_t *build_args(const struct flow_st *st, const json_t *args)
{
	json_t *out = json_object();
	const char *key;
	json_t *v;

	if (!out)
		return NULL;
	json_object_foreach((json_t *)args, key, v) {
		const char *s = json_string_value(v), *lone;
		char buf[TEXT_MAX];
		size_t n;

		if (!s) {
			json_object_set(out, key, v);
			continue;
		}
		/* a lone "{party}" keeps its type: 3, not "3" */
		if (flow_tmpl_lone(s, &lone, &n)) {
			char name[PATH_LEN];
			const json_t *x;

			str_ncpy(name, lone, n + 1 < sizeof(name) ?
				 n + 1 : sizeof(name));
			x = lookup(st, name);
			json_object_set_new(out, key, x ? json_deep_copy(x) :
					    json_null());
			continue;
		}
		render(st, s, false, buf, sizeof(buf));
		json_object_set_new(out, key, json_string(buf));
	}
	return out;
}

/* The tool's result: saved for the flow; the event reaches sink->toolh. */
static int action_result(struct flow_st *st, const json_t *action,
			 json_t *args, json_t *result, int err,
			 const char *errmsg)
{
	const char *name = bt_json_str_or(action, "tool", "");
	const char *save_as = bt_json_str_or(action, "save_as", NULL);
	char *args_s = NULL, *res_s = NULL;

	if (err) {
		char why[512];
		json_t *e;

		str_ncpy(why, errmsg && *errmsg ? errmsg : strerror(err),
			 sizeof(why));
		flow_memory_action(st->acts, name, NULL, err, why);
		json_decref(result);
		result = NULL;
		e = json_pack("{s:s, s:i}", "error", why, "errno", err);
		res_s = e ? json_dumps(e, JSON_COMPACT) : NULL;
		json_decref(e);
	}
	else {
		res_s = json_dumps(result ? result : json_null(),
				   JSON_COMPACT | JSON_ENCODE_ANY);
		flow_memory_action(st->acts, name, result, 0, NULL);
		if (save_as)
			json_object_set(st->vars, save_as,
					result ? result : json_null());
	}

	if (st->sink && st->sink->toolh) {
		args_s = json_dumps(args, JSON_COMPACT);
		st->sink->toolh(name, args_s ? args_s : "{}",
				res_s ? res_s : "null", err, st->sink->arg);
	}

	free(args_s);
	free(res_s);
	json_decref(args);
	json_decref(result);
	return err;
}

/* Call the node's tool here and now (no event loop: the simulator). */
static int run_action(struct flow_st *st, const json_t *action)
{
	const char *name = bt_json_str_or(action, "tool", "");
	const struct bt_tool *tool = bt_tool_find(name);
	json_t *args, *result = NULL;
	int err;

	args = build_args(st, json_object_get(action, "args"));
	if (!args)
		return bt_err(ENOMEM, "out of memory calling tool %s", name);
	bt_err_clear();
	if (!tool)
		err = bt_err(ENOENT, "tool \"%s\" is not registered", name);
	else
		err = tool->callh(args, &st->ctx, &result);
	return action_result(st, action, args, result, err, bt_errmsg());
}

/* ---- tools on the worker pool ---- */

static void walk(struct flow_st *st, const char *id, int done_err);
static void deliver(struct flow_st *st);

static void action_work(struct bt_job *job)
{
	struct action_job *aj = (struct action_job *)job;

	bt_err_clear();
	aj->err = aj->tool->callh(aj->args, &aj->ctx, &aj->result);
	if (aj->err)
		str_ncpy(aj->errmsg, bt_errmsg(), sizeof(aj->errmsg));
}

static void action_free(struct bt_job *job)
{
	struct action_job *aj = (struct action_job *)job;

	json_decref(aj->args);
	json_decref(aj->result);
	mem_deref(aj);
}

/* Back on the session's loop, whether the tool ran or not. */
static void action_back(struct bt_job *job)
{
	struct action_job *aj = (struct action_job *)job;
	struct flow_st *st = aj->st;
	json_t *args = aj->args, *result = aj->result;

	if (!st)
		return;
	st->job = NULL;
	aj->args = aj->result = NULL;
	if (!atomic_load(&job->ran)) {
		/* cancelled before it started: it never happened, and the
		 * flow waits at the question that led to it again */
		json_decref(args);
		json_decref(result);
		st->cur = st->before;
		st->curnode = st->beforenode;
	}
	else {
		int err = action_result(st, aj->action, args, result, aj->err,
					aj->errmsg);
		walk(st, aj->node, err);
	}
	bt_job_release(job);
	if (!st->job)
		deliver(st);
}

/* Start the node's tool on the pool; false: run it inline instead. */
static bool action_start(struct flow_st *st, const json_t *action,
			 const char *node)
{
	struct bt_loop *loop = bt_loop_current();
	const struct bt_tool *tool;
	struct action_job *aj;

	if (!loop)
		return false;
	tool = bt_tool_find(bt_json_str_or(action, "tool", ""));
	if (!tool)
		return false;  /* the inline path reports it */
	aj = mem_zalloc(sizeof(*aj), NULL);
	if (!aj)
		return false;
	aj->args = build_args(st, json_object_get(action, "args"));
	if (!aj->args) {
		mem_deref(aj);
		return false;
	}
	aj->st = st;
	aj->tool = tool;
	aj->action = action;
	aj->node = node;
	str_ncpy(aj->db_path, st->ctx.db_path ? st->ctx.db_path : "",
		 sizeof(aj->db_path));
	str_ncpy(aj->session_id, st->ctx.session_id ? st->ctx.session_id :
		 "", sizeof(aj->session_id));
	aj->ctx.db_path = aj->db_path;
	aj->ctx.session_id = aj->session_id;
	aj->job.work = action_work;
	aj->job.freeh = action_free;
	aj->job.loop = loop;
	aj->job.doneh = action_back;
	aj->job.report_cancelled = true;
	atomic_init(&aj->job.refs, 1);
	if (bt_worker_submit(&aj->job)) {
		json_decref(aj->args);
		mem_deref(aj);
		return false;
	}
	st->job = aj;
	return true;
}

static void confirm_clear(struct flow_st *st)
{
	st->confirm.on = false;
	st->confirm.unclear = 0;
	json_decref(st->confirm.val);
	st->confirm.val = NULL;
	st->confirm.next = NULL;
}

/* Enter node `id` and go on until a node waits for an answer or ends. */
static void enter(struct flow_st *st, const char *id)
{
	walk(st, id, -1);
}

/*
 * Walk from node `id` until a node waits for an answer or ends. done_err
 * >= 0: `id`'s tool has run already with that result (the walk goes on
 * after a tool on the pool). A tool to start on the pool stops the walk.
 */
static void walk(struct flow_st *st, const char *id, int done_err)
{
	unsigned hops;

	for (hops = 0; id; hops++) {
		void *iter = json_object_iter_at((json_t *)st->nodes, id);
		const json_t *node = iter ? json_object_iter_value(iter) : NULL;
		const json_t *action;
		int err = 0;

		if (!node || hops >= HOPS_MAX) {
			/* unreachable for a checked flow; end, never spin */
			end_call(st);
			return;
		}
		action = json_object_get(node, "action");
		if (action && !strcmp(bt_json_str_or(action, "tool", ""),
				      BT_TRANSFER_RUN)) {
			/* the line now; the session transfers once it has
			 * played, and a failure comes back as an input */
			say(st, bt_json_str_or(node, "say", NULL));
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
			confirm_clear(st);
			if (action && action_start(st, action,
						   json_object_iter_key(iter)))
				return;  /* goes on in action_back */
			if (action)
				err = run_action(st, action);
		}
		if (action && err) {
			const json_t *oe = json_object_get(action, "on_error");

			say(st, bt_json_str_or(oe, "say", DEF_TOOL_ERROR));
			id = bt_json_str_or(oe, "next", NULL);
			if (!id)
				end_call(st);
			continue;
		}

		if (json_is_true(json_object_get(node, "uninterruptible")))
			say_uninterruptible(st, bt_json_str_or(node, "say",
							       NULL));
		else
			say(st, bt_json_str_or(node, "say", NULL));
		if (json_object_get(node, "expect")) {
			say(st, bt_json_str_or(node, "ask", NULL));
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
			end_call(st);
			return;
		}
		id = bt_json_str_or(node, "next", NULL);
		if (!id)
			end_call(st);
	}
}

static void ask_again(struct flow_st *st)
{
	say(st, bt_json_str_or(st->curnode, "ask", NULL));
}

/* A failed answer: reprompt, or after too many the fallback. */
static void failed(struct flow_st *st)
{
	if (++st->fails > st->reprompt_max) {
		say(st, st->fallback_say);
		if (st->fallback_next)
			enter(st, st->fallback_next);
		else
			end_call(st);
		return;
	}
	say(st, bt_json_str_or(st->curnode, "reprompt", st->reprompt_say));
	ask_again(st);
}

/*
 * The caller asks for the question again ("sorry, what?", "can you repeat
 * that"): the recogniser hears these at every question (ps_grammar.c,
 * <other>). The agent repeats the question; it is not a failed answer.
 */
static bool asks_repeat(const char *norm)
{
	static const char *const phrases[] = {
		"what", "sorry", "pardon", "excuse me", "say that again",
		"repeat that", "repeat the question", "what was that",
		"come again", "i didn't catch that",
	};

	for (size_t i = 0; i < sizeof(phrases) / sizeof(phrases[0]); i++)
		if (slot_has_phrase(norm, phrases[i]))
			return true;
	return false;
}

static const json_t *match_intent(const struct flow_st *st, const char *norm)
{
	const json_t *it, *w;
	char pn[NORM_MAX];
	size_t k, j;

	json_array_foreach(st->intents, k, it) {
		json_array_foreach(json_object_get(it, "phrases"), j, w) {
			slot_normalize(json_string_value(w), pn, sizeof(pn));
			if (slot_has_phrase(norm, pn))
				return it;
		}
		json_array_foreach(json_object_get(it, "keywords"), j, w) {
			slot_normalize(json_string_value(w), pn, sizeof(pn));
			if (slot_has_phrase(norm, pn))
				return it;
		}
	}
	return NULL;
}

static int today_wday(void)
{
	time_t now = time(NULL);
	struct tm tm;

	if (!localtime_r(&now, &tm))
		return 0;
	return tm.tm_wday;
}

/*
 * Parse the answer for the current node; on success the edge to follow,
 * *valp the value (typed: 3) and spoken[] as said (three).
 */
static const char *read_answer(const struct flow_st *st, const char *norm,
			       json_t **valp, char *spoken, size_t sz)
{
	const json_t *node = st->curnode;
	const json_t *e = json_object_get(node, "expect");
	const char *next = bt_json_str_or(node, "next", NULL);
	json_t *val = NULL;
	int v, err;
	bool yes;

	switch (flow_expect_type(node)) {
	case BT_SLOT_NUMBER: {
		const json_t *mn = json_object_get(e, "min");
		const json_t *mx = json_object_get(e, "max");

		err = slot_number_parse(norm,
					mn ? (int)json_integer_value(mn) : 1,
					mx ? (int)json_integer_value(mx) :
					NUMBER_MAX_DEF,
					&v);
		if (err)
			return NULL;
		val = json_integer(v);
		slot_number_words(v, spoken, sz);
		break;
	}
	case BT_SLOT_DAY:
		if (slot_day_parse(norm, today_wday(), &v))
			return NULL;
		str_ncpy(spoken, slot_day_name(v), sz);
		val = json_string(spoken);
		break;
	case BT_SLOT_TIME:
		if (slot_time_parse(norm, &v))
			return NULL;
		slot_time_print(v, spoken, sz);
		val = json_string(spoken);
		break;
	case BT_SLOT_YESNO:
		if (slot_yesno_parse(norm, &yes))
			return NULL;
		val = json_boolean(yes);
		str_ncpy(spoken, yes ? "yes" : "no", sz);
		next = bt_json_str_or(node, yes ? "yes" : "no", next);
		break;
	default:
		str_ncpy(spoken, norm, sz);
		val = json_string(norm);
		break;
	}
	if (!val)
		return NULL;
	*valp = val;
	return next;
}

/* Keep an answer in the current node's slot, twice: typed for tools (3)
 * and as said (three). Takes val's reference. */
static void keep_answer(struct flow_st *st, json_t *val, const char *spoken)
{
	const char *slot = bt_json_str_or(json_object_get(st->curnode,
							  "expect"),
					  "slot", st->cur);

	json_object_set_new(st->vars, slot, val);
	json_object_set_new(st->spoken, slot, json_string(spoken));
}

/* ---- the confirmation band ---- */

/* The current node's confirm_below; 0: no band. */
static double confirm_below(const struct flow_st *st)
{
	const json_t *cb = json_object_get(json_object_get(st->curnode,
							   "expect"),
					   "confirm_below");

	return cb ? json_number_value(cb) : st->confirm_below;
}

static void confirm_say(struct flow_st *st)
{
	const char *tmpl = json_string_value(json_object_get(
		json_object_get(st->curnode, "expect"), "confirm_say"));
	char text[TEXT_MAX + 32];

	if (tmpl) {
		st->tmpl_value = st->confirm.spoken;
		say(st, tmpl);
		st->tmpl_value = NULL;
		return;
	}
	snprintf(text, sizeof(text), "%s, is that right?",
		 st->confirm.spoken);
	/* said as it is: a value is no template */
	if (st->reply_len && st->reply_len + 1 < sizeof(st->reply))
		st->reply[st->reply_len++] = ' ';
	str_ncpy(st->reply + st->reply_len, text,
		 sizeof(st->reply) - st->reply_len);
	st->reply_len = strlen(st->reply);
}

/* An answer in the band: asked back; takes val's reference. */
static void confirm_ask(struct flow_st *st, json_t *val, const char *spoken,
			const char *next)
{
	confirm_clear(st);
	st->confirm.on = true;
	st->confirm.val = val;
	str_ncpy(st->confirm.spoken, spoken, sizeof(st->confirm.spoken));
	st->confirm.next = next;
	confirm_say(st);
}

/* The caller said yes: the value is taken and the flow goes on. */
static void confirm_take(struct flow_st *st)
{
	const char *next = st->confirm.next;

	keep_answer(st, json_incref(st->confirm.val), st->confirm.spoken);
	confirm_clear(st);
	enter(st, next);
}

/* Neither yes nor no (or silence): the confirmation once more, then the
 * question again. */
static void confirm_unclear(struct flow_st *st)
{
	if (!st->confirm.unclear++) {
		confirm_say(st);
		return;
	}
	confirm_clear(st);
	ask_again(st);
}

/*
 * The answer to "<value>, is that right?": yes takes the value, no asks
 * the question again. A new value of the slot's type said instead ("no,
 * eight pm") is taken if it is itself above the band; the same value
 * said again is a yes.
 */
static void on_confirm(struct flow_st *st, const struct bt_brain_input *in,
		       const char *norm, double min)
{
	int type = flow_expect_type(st->curnode);
	char spoken[TEXT_MAX];
	json_t *val = NULL;
	const char *next = NULL;
	bool yes = false, yn;

	if (!norm[0] || in->confidence < min) {
		confirm_unclear(st);
		return;
	}
	yn = !slot_yesno_parse(norm, &yes);
	if (type == BT_SLOT_NUMBER || type == BT_SLOT_DAY ||
	    type == BT_SLOT_TIME)
		next = read_answer(st, norm, &val, spoken, sizeof(spoken));
	if (next) {
		bool same = json_equal(val, st->confirm.val);

		if (same && (!yn || yes)) {
			json_decref(val);
			confirm_take(st);
		}
		else if (!same && in->confidence >= confirm_below(st)) {
			confirm_clear(st);
			keep_answer(st, val, spoken);
			enter(st, next);
		}
		else {
			json_decref(val);
			confirm_clear(st);
			ask_again(st);
		}
		return;
	}
	if (yn && yes) {
		confirm_take(st);
		return;
	}
	if (yn) {
		confirm_clear(st);
		ask_again(st);
		return;
	}
	if (asks_repeat(norm)) {
		confirm_say(st);
		return;
	}
	confirm_unclear(st);
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
	intent = norm[0] && in->confidence >= min ? match_intent(st, norm)
						  : NULL;
	if (intent) {
		say(st, bt_json_str_or(intent, "say", NULL));
		next = bt_json_str_or(intent, "next", NULL);
		if (next) {
			confirm_clear(st);
			enter(st, next);
		}
		else if (st->confirm.on)
			confirm_say(st);  /* the value is still to confirm */
		else
			ask_again(st);
		return;
	}
	if (st->confirm.on) {
		on_confirm(st, in, norm, min);
		return;
	}
	if (!norm[0] || in->confidence < min) {
		failed(st);
		return;
	}

	next = read_answer(st, norm, &val, spoken, sizeof(spoken));
	if (!next && asks_repeat(norm)) {
		ask_again(st);
		return;
	}
	if (!next) {
		failed(st);
		return;
	}
	below = confirm_below(st);
	if (below > 0.0 && in->confidence < below) {
		confirm_ask(st, val, spoken, next);
		return;
	}
	keep_answer(st, val, spoken);
	enter(st, next);
}

static void on_idle(struct flow_st *st, const struct bt_brain_input *in)
{
	unsigned n = in->idle_count ? in->idle_count : 1;

	if (n >= st->idle_hangup) {
		say(st, st->hangup_say);
		end_call(st);
		return;
	}
	say(st, st->idle_say);
	if (st->confirm.on)
		confirm_unclear(st);
	else
		ask_again(st);
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
	(void)action_result(st, a, json_deep_copy(json_object_get(a, "args")),
			    NULL, EIO, in->text);
	say(st, bt_json_str_or(oe, "say", DEF_TRANSFER_ERROR));
	if (next)
		enter(st, next);
	else
		end_call(st);
}

static int bst_respond(struct flow_st *st, const struct bt_brain_input *in,
		       const struct bt_brain_sink *sink);

/* The response is complete (no tool pending): hand it over. */
static void deliver(struct flow_st *st)
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
 * until it is back; deliver() then lets it go. */
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
	enter(st, to);
	if (st->job) {
		hold_sink(st, sink);
		return;
	}
	deliver(st);
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

		value_text(v, val, sizeof(val));
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
		confirm_clear(st);
		st->ended = false;
		st->xfer = NULL;
		enter(st, st->start);
		break;
	case BT_BRAIN_USER:
		if (st->ended || st->xfer)
			break;
		if (!st->cur)
			enter(st, st->start);
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
	deliver(st);
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
