/**
 * @file flow_st.h  The flow brain's call state and the functions its run
 *                  time shares: flow.c (the walk through the nodes, the
 *                  brain's interface), flow_text.c (templates, the
 *                  reply), flow_action.c (tools, inline or on the worker
 *                  pool), flow_answer.c (reading an answer, the
 *                  confirmation band). Private to src/brain.
 */
#ifndef BT_BRAIN_FLOW_ST_H
#define BT_BRAIN_FLOW_ST_H

#include <stdbool.h>
#include <stddef.h>
#include "banter/banter.h"
#include "brain/flow_int.h"
#include "core/worker.h"

struct flow_llm;

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

/* flow.c: the walk */
void flow_walk(struct flow_st *st, const char *id, int done_err);
void flow_enter(struct flow_st *st, const char *id);
void flow_end_call(struct flow_st *st);
void flow_ask_again(struct flow_st *st);
void flow_deliver(struct flow_st *st);

/* flow_text.c: templates and the reply */
const json_t *flow_lookup(const struct flow_st *st, const char *name);
/* a slot or result value as text: "3", "yes"; "" for others */
void flow_value_text(const json_t *v, char *buf, size_t sz);
void flow_render(const struct flow_st *st, const char *tmpl, bool speech,
		 char *buf, size_t sz);
void flow_say(struct flow_st *st, const char *tmpl);
void flow_say_uninterruptible(struct flow_st *st, const char *tmpl);

/* flow_action.c: a node's tool */
int flow_action_result(struct flow_st *st, const json_t *action,
		       json_t *args, json_t *result, int err,
		       const char *errmsg);
int flow_run_action(struct flow_st *st, const json_t *action);
bool flow_action_start(struct flow_st *st, const json_t *action,
		       const char *node);

/* flow_answer.c: answers and the confirmation band */
bool flow_asks_repeat(const char *norm);
const json_t *flow_match_intent(const struct flow_st *st, const char *norm);
const char *flow_read_answer(const struct flow_st *st, const char *norm,
			     json_t **valp, char *spoken, size_t sz);
void flow_keep_answer(struct flow_st *st, json_t *val, const char *spoken);
void flow_confirm_clear(struct flow_st *st);
double flow_confirm_below(const struct flow_st *st);
void flow_confirm_say(struct flow_st *st);
void flow_confirm_ask(struct flow_st *st, json_t *val, const char *spoken,
		      const char *next);
void flow_confirm_unclear(struct flow_st *st);
void flow_on_confirm(struct flow_st *st, const struct bt_brain_input *in,
		     const char *norm, double min);

#endif
