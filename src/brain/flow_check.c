/**
 * @file flow_check.c  The flow's part of the agent file, checked when it
 *                     loads: every field's type and range, that the edges
 *                     lead to nodes, that the texts' {placeholders} render
 *                     (read as flow.c reads them) and name what some node
 *                     fills, that an action's args are what its tool
 *                     takes and are set on every way to it, that no loop
 *                     talks forever. What passes here must not fail in a
 *                     call (flow.c trusts it).
 *
 * This file walks the flow: its settings, intents and nodes, what the
 * nodes declare, and the loops. Checking one value and wording what to
 * do is flow_check_util.c; a node's action, its tool's arguments and
 * the ways to it, flow_check_tools.c; the intents and their phrases,
 * flow_check_intents.c.
 *
 * Nodes are checked in two passes: first what declares names (a node's
 * fields, its expect, its action's shape and save_as), then the rest, so
 * that a broken declaration is reported where it is.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include "banter/banter.h"
#include "brain/flow_check.h"
#include "brain/transfer.h"
#include "brain/flow_int.h"
#include "brain/flow_llm.h"
#include "brain/slots.h"

enum {
	TYPE_SAVED = -2,            /**< declare(): a saved result */
};

/*
 * The confirmation band, [min_confidence, confirm_below): answers heard
 * in it are asked back. It must not be empty or upside down, or what
 * the author meant to have confirmed would be taken (or refused) as it
 * is, without a word.
 */
static int check_band(const struct chk *c, const json_t *e, const char *path)
{
	const json_t *fmc = json_object_get(c->flow, "min_confidence");
	const json_t *fcb = json_object_get(c->flow, "confirm_below");
	const json_t *mc = json_object_get(e, "min_confidence");
	const json_t *cb = json_object_get(e, "confirm_below");
	double min = json_is_number(mc) ? json_number_value(mc) :
		json_is_number(fmc) ? json_number_value(fmc) : 0.0;
	char full[FULL_LEN];
	int err;

	if (cb) {
		fc_subpath(full, sizeof(full), path, "confirm_below");
		err = fc_want_conf(c, cb, full);
		if (err)
			return err;
		if (json_number_value(cb) > min)
			return 0;
		return fc_fail(c->pathp, full, "\"%s\" is %g, but it must be "
			       "above the node's min_confidence (%g): answers "
			       "heard between the two are asked back (\"..., "
			       "is that right?\"); raise it (e.g. to %g) or "
			       "lower min_confidence", full,
			       json_number_value(cb), min,
			       min < 0.6 ? 0.6 : 1.0);
	}
	if (mc && json_is_number(fcb) && json_number_value(fcb) <= min) {
		fc_subpath(full, sizeof(full), path, "min_confidence");
		return fc_fail(c->pathp, full, "\"%s\" is %g, not below "
			       "\"flow.confirm_below\" (%g), so this node "
			       "would ask nothing back; lower it, or give "
			       "the node its own \"confirm_below\" above it",
			       full, min, json_number_value(fcb));
	}
	return 0;
}

static int check_expect(const struct chk *c, const json_t *e,
			const char *path, int *typep)
{
	char full[FULL_LEN], got[64];
	const json_t *t, *v;
	int type, err;

	err = fc_want_object(c, e, path);
	if (!err)
		err = fc_keys_ok(c, e, path,
				 " type slot min max min_confidence "
				 "confirm_below confirm_say ");
	if (err)
		return err;

	fc_subpath(full, sizeof(full), path, "type");
	t = json_object_get(e, "type");
	if (!t)
		return fc_fail(c->pathp, path, "\"%s\" is missing; add "
			       "\"type\": one of number, day, time, yes_no, "
			       "text", full);
	type = slot_type_from_name(json_string_value(t));
	if (type < 0) {
		bt_json_brief(t, got, sizeof(got));
		return fc_fail(c->pathp, full, "\"%s\" must be one of number, "
			       "day, time, yes_no, text (got %s); pick one of "
			       "those", full, got);
	}

	v = json_object_get(e, "slot");
	fc_subpath(full, sizeof(full), path, "slot");
	if (v && (!json_is_string(v) || !fc_valid_id(json_string_value(v)) ||
		  json_string_length(v) > NAME_MAX_LEN)) {
		bt_json_brief(v, got, sizeof(got));
		return fc_fail(c->pathp, full, "\"%s\" must be a name of "
			       "letters, digits, _ or - (got %s); set it to "
			       "e.g. \"party\"", full, got);
	}

	if (type != BT_SLOT_NUMBER &&
	    (json_object_get(e, "min") || json_object_get(e, "max"))) {
		fc_subpath(full, sizeof(full), path,
			   json_object_get(e, "min") ? "min" : "max");
		return fc_fail(c->pathp, full, "\"%s\" only applies to "
			       "\"type\": \"number\"; remove it", full);
	}
	if ((v = json_object_get(e, "min"))) {
		fc_subpath(full, sizeof(full), path, "min");
		/* "zero" would be taken, and no count of people is 0 */
		if (json_is_integer(v) && json_integer_value(v) < 1)
			return fc_fail(c->pathp, full, "\"%s\" is %"
				       JSON_INTEGER_FORMAT ", but the range "
				       "of a number answer must start at 1 (0 "
				       "is never a party); set it to 1 or "
				       "more, or leave it out (the default "
				       "is 1)", full, json_integer_value(v));
		err = fc_want_int(c, v, full, 1, 1000000, 1);
		if (err)
			return err;
	}
	if ((v = json_object_get(e, "max"))) {
		json_int_t min = json_integer_value(json_object_get(e, "min"));

		fc_subpath(full, sizeof(full), path, "max");
		err = fc_want_int(c, v, full, min > 1 ? min : 1, 1000000,
				  min > 20 ? min : 20);
		if (err)
			return err;
	}
	else if (json_integer_value(json_object_get(e, "min")) >
		 NUMBER_MAX_DEF) {
		/* the default max would leave no answer */
		fc_subpath(full, sizeof(full), path, "min");
		return fc_fail(c->pathp, full, "\"%s\" is %" JSON_INTEGER_FORMAT
			       ", above the default \"max\" (%d), so no "
			       "answer would do; add \"max\" to \"%s\"", full,
			       json_integer_value(json_object_get(e, "min")),
			       NUMBER_MAX_DEF, path);
	}
	if ((v = json_object_get(e, "min_confidence"))) {
		fc_subpath(full, sizeof(full), path, "min_confidence");
		err = fc_want_conf(c, v, full);
		if (err)
			return err;
	}
	err = check_band(c, e, path);
	if (err)
		return err;

	*typep = type;
	return 0;
}

/* expect.confirm_say: a template where {value} is the answer asked
 * back, beside the slots every text may say. */
static int check_confirm_say(const struct chk *c, const char *id,
			     const json_t *e, const char *path)
{
	struct chk c2 = *c;
	char epath[FULL_LEN];
	int err;

	c2.names = json_deep_copy(c->names);
	if (!c2.names || json_object_set_new(c2.names, "value",
					     json_pack("{s:s}", "node", id))) {
		json_decref(c2.names);
		return bt_err(ENOMEM, "out of memory checking the flow");
	}
	fc_subpath(epath, sizeof(epath), path, "expect");
	err = fc_check_opt_text(&c2, e, "confirm_say", epath,
				"{value}, is that right?");
	json_decref(c2.names);
	return err;
}

static int check_node(const struct chk *c, const char *id, const json_t *n)
{
	char path[PATH_LEN], full[FULL_LEN], got[64];
	const json_t *e, *v;
	int type = -1, err;
	bool has_end;

	/* its name, shape, fields and expect: declare_node() */
	fc_subpath(path, sizeof(path), "flow.nodes", id);
	if (json_object_get(n, "uninterruptible") &&
	    !json_is_boolean(json_object_get(n, "uninterruptible"))) {
		fc_subpath(full, sizeof(full), path, "uninterruptible");
		bt_json_brief(json_object_get(n, "uninterruptible"), got,
			 sizeof(got));
		return fc_fail(c->pathp, full, "\"%s\" must be true or false "
			       "(got %s)", full, got);
	}

	if (json_object_get(n, "llm")) {
		/* the LLM talks until it calls return_to_flow */
		const json_t *l = json_object_get(n, "llm");

		fc_subpath(full, sizeof(full), path, "llm");
		err = fc_want_object(c, l, full);
		if (!err)
			err = fc_keys_ok(c, l, full,
					 " instructions return_to ");
		if (err)
			return err;
		if (json_object_get(l, "instructions") &&
		    !json_is_string(json_object_get(l, "instructions")))
			return fc_fail(c->pathp, full, "\"%s.instructions\" "
				       "must be a string: what the LLM does "
				       "here", full);
		fc_subpath(full, sizeof(full), full, "return_to");
		err = fc_want_node(c, json_object_get(l, "return_to"), full);
		if (err)
			return err;
		if (json_object_get(n, "expect") || json_object_get(n, "next") ||
		    json_object_get(n, "end") || json_object_get(n, "action"))
			return fc_fail(c->pathp, path, "\"%s\" hands the call "
				       "to the LLM (\"llm\"), so it cannot "
				       "also have expect, next, end or action; "
				       "the flow goes on at llm.return_to",
				       path);
		return 0;
	}

	e = json_object_get(n, "expect");
	if (e)
		type = slot_type_from_name(json_string_value(
			json_object_get(e, "type")));

	err = fc_check_opt_text(c, n, "say", path, "Hello!");
	if (!err)
		err = fc_check_opt_text(c, n, "ask", path, "What day?");
	if (!err)
		err = fc_check_opt_text(c, n, "reprompt", path,
					"Sorry, what day was that?");
	if (!err && e)
		err = check_confirm_say(c, id, e, path);
	if (!err)
		err = fc_check_opt_node(c, n, "next", path);
	if (!err)
		err = fc_check_opt_node(c, n, "yes", path);
	if (!err)
		err = fc_check_opt_node(c, n, "no", path);
	if (err)
		return err;

	if ((v = json_object_get(n, "action"))) {
		fc_subpath(full, sizeof(full), path, "action");
		err = fc_check_action(c, v, full);
		if (err)
			return err;
		if (!strcmp(json_string_value(json_object_get(v, "tool")),
			    BT_TRANSFER_RUN))
			return fc_check_transfer_node(c, n, path);
	}

	v = json_object_get(n, "end");
	has_end = json_is_true(v);
	if (v && !json_is_boolean(v)) {
		fc_subpath(full, sizeof(full), path, "end");
		bt_json_brief(v, got, sizeof(got));
		return fc_fail(c->pathp, full, "\"%s\" must be true or false "
			       "(got %s)", full, got);
	}

	if (e) {
		if (!json_object_get(n, "ask"))
			return fc_fail(c->pathp, path, "\"%s.ask\" is missing; "
				       "a node with \"expect\" needs the "
				       "question to ask (and ask again), e.g. "
				       "\"ask\": \"What day would you like?\"",
				       path);
		if (has_end) {
			fc_subpath(full, sizeof(full), path, "end");
			return fc_fail(c->pathp, full, "\"%s\" cannot be true "
				       "in a node that expects an answer; "
				       "remove \"end\" or \"expect\"", full);
		}
		if (type == BT_SLOT_YESNO) {
			bool def = json_object_get(n, "next") != NULL;

			if (!def && (!json_object_get(n, "yes") ||
				     !json_object_get(n, "no")))
				return fc_fail(c->pathp, path, "\"%s\" expects "
					       "yes_no but lacks \"%s\"; add "
					       "\"yes\" and \"no\" (or "
					       "\"next\" for both) naming "
					       "nodes", path,
					       json_object_get(n, "yes") ?
					       "no" : "yes");
			return 0;
		}
		if (json_object_get(n, "yes") || json_object_get(n, "no")) {
			fc_subpath(full, sizeof(full), path,
				   json_object_get(n, "yes") ? "yes" : "no");
			return fc_fail(c->pathp, full, "\"%s\" only applies to "
				       "\"expect\" of type yes_no; use "
				       "\"next\"", full);
		}
		if (!json_object_get(n, "next"))
			return fc_fail(c->pathp, path, "\"%s.next\" is "
				       "missing; name the node that follows "
				       "the answer", path);
		return 0;
	}

	if (json_object_get(n, "ask") || json_object_get(n, "reprompt") ||
	    json_object_get(n, "yes") || json_object_get(n, "no")) {
		const char *k = json_object_get(n, "ask") ? "ask" :
			json_object_get(n, "reprompt") ? "reprompt" :
			json_object_get(n, "yes") ? "yes" : "no";

		fc_subpath(full, sizeof(full), path, k);
		return fc_fail(c->pathp, full, "\"%s\" needs an \"expect\" in "
			       "the node; add \"expect\": {\"type\": ..., "
			       "\"slot\": ...} or use \"say\" and \"next\"",
			       full);
	}
	if (has_end && json_object_get(n, "next")) {
		fc_subpath(full, sizeof(full), path, "next");
		return fc_fail(c->pathp, full, "\"%s\" cannot be combined with "
			       "\"end\": true; remove one of them", full);
	}
	if (!has_end && !json_object_get(n, "next"))
		return fc_fail(c->pathp, path, "\"%s\" neither waits for an "
			       "answer (\"expect\") nor goes on (\"next\") nor "
			       "ends the call (\"end\": true); add one", path);
	return 0;
}

/*
 * A loop of nodes that never wait for an answer would spin forever.
 * Depth-first colouring over the edges of such nodes; the depth is
 * bounded by NODES_MAX.
 */
static int check_loops_from(const struct chk *c, json_t *colour,
			    const char *id, const char *from)
{
	const json_t *n = json_object_get(c->nodes, id);
	const json_t *a, *edge[2];
	json_int_t col = json_integer_value(json_object_get(colour, id));
	size_t i;
	int err;

	if (!n || json_object_get(n, "expect") || col == 2)
		return 0;
	if (col == 1) {
		char full[FULL_LEN];

		fc_subpath(full, sizeof(full), "flow.nodes", from);
		return fc_fail(c->pathp, full, "\"%s\" leads back to \"%s\" "
			       "without waiting for an answer, so the agent "
			       "would talk forever; break the loop with a node "
			       "that has \"expect\"", full, id);
	}
	json_object_set_new(colour, id, json_integer(1));

	a = json_object_get(n, "action");
	edge[0] = json_object_get(n, "next");
	edge[1] = json_object_get(json_object_get(a, "on_error"), "next");
	for (i = 0; i < 2; i++) {
		if (!json_is_string(edge[i]))
			continue;
		err = check_loops_from(c, colour, json_string_value(edge[i]),
				       id);
		if (err)
			return err;
	}
	json_object_set_new(colour, id, json_integer(2));
	return 0;
}

static int check_settings(const struct chk *c, const json_t *flow)
{
	const json_t *r, *i, *v;
	int err = 0;

	v = json_object_get(flow, "min_confidence");
	if (v)
		err = fc_want_conf(c, v, "flow.min_confidence");
	if (err)
		return err;
	if ((i = json_object_get(flow, "confirm_below"))) {
		double min = json_number_value(v);

		err = fc_want_conf(c, i, "flow.confirm_below");
		if (err)
			return err;
		if (json_number_value(i) <= min)
			return fc_fail(c->pathp, "flow.confirm_below",
				       "\"flow.confirm_below\" is %g, but it "
				       "must be above \"flow.min_confidence\" "
				       "(%g): answers heard between the two are "
				       "asked back (\"..., is that right?\"); "
				       "raise it (e.g. to %g) or lower "
				       "min_confidence", json_number_value(i),
				       min, min < 0.6 ? 0.6 : 1.0);
	}

	r = json_object_get(flow, "reprompt");
	if (r) {
		err = fc_want_object(c, r, "flow.reprompt");
		if (!err)
			err = fc_keys_ok(c, r, "flow.reprompt",
					 " say max fallback ");
		if (!err)
			err = fc_check_opt_text(c, r, "say", "flow.reprompt",
						DEF_REPROMPT);
		if (!err && (v = json_object_get(r, "max")))
			err = fc_want_int(c, v, "flow.reprompt.max", 0, 10, 2);
		if (err)
			return err;
		v = json_object_get(r, "fallback");
		if (v) {
			err = fc_want_object(c, v, "flow.reprompt.fallback");
			if (!err)
				err = fc_keys_ok(c, v, "flow.reprompt.fallback",
						 " say next ");
			if (!err)
				err = fc_check_opt_text(c, v, "say",
							"flow.reprompt.fallback",
							DEF_FALLBACK);
			if (!err)
				err = fc_check_opt_node(c, v, "next",
							"flow.reprompt.fallback");
			if (err)
				return err;
		}
	}

	i = json_object_get(flow, "idle");
	if (i) {
		err = fc_want_object(c, i, "flow.idle");
		if (!err)
			err = fc_keys_ok(c, i, "flow.idle",
					 " say hangup_after hangup_say ");
		if (!err)
			err = fc_check_opt_text(c, i, "say", "flow.idle",
						DEF_IDLE);
		if (!err)
			err = fc_check_opt_text(c, i, "hangup_say", "flow.idle",
						DEF_HANGUP);
		if (!err && (v = json_object_get(i, "hangup_after")))
			err = fc_want_int(c, v, "flow.idle.hangup_after", 1, 10,
					  2);
	}
	return err;
}

/*
 * A name placeholders may use: a slot (its type and range) or a saved
 * result (the tool whose), and the first node that declares it. A slot
 * that several nodes fill with different types is of type -1; a result
 * saved from different tools has no tool.
 */
static int declare(json_t *names, const char *name, const char *node,
		   int type, json_int_t min, json_int_t max, const char *tool)
{
	json_t *d = json_object_get(names, name);
	const json_t *t;

	if (!d) {
		d = json_pack("{s:s}", "node", node);
		if (!d || json_object_set_new(names, name, d))
			return bt_err(ENOMEM, "out of memory checking the "
				      "flow");
	}
	if (type == TYPE_SAVED) {
		t = json_object_get(d, "tool");
		if (!json_object_get(d, "saved"))
			json_object_set_new(d, "tool", tool ? json_string(tool)
					    : json_null());
		else if (!tool || !json_is_string(t) ||
			 strcmp(json_string_value(t), tool))
			json_object_set_new(d, "tool", json_null());
		json_object_set_new(d, "saved", json_true());
		return 0;
	}
	t = json_object_get(d, "type");
	if (t) {
		if (json_integer_value(t) != type)
			type = -1;
		if (json_integer_value(json_object_get(d, "min")) < min)
			min = json_integer_value(json_object_get(d, "min"));
		if (json_integer_value(json_object_get(d, "max")) > max)
			max = json_integer_value(json_object_get(d, "max"));
	}
	json_object_set_new(d, "type", json_integer(type));
	json_object_set_new(d, "min", json_integer(min));
	json_object_set_new(d, "max", json_integer(max));
	return 0;
}

/*
 * A node's name, shape and fields, its expect and the shape of its action
 * with save_as: what declares the names placeholders use. Checked before
 * any text, so that a broken declaration is reported where it is, not as
 * an unknown {name} in another node.
 */
static int declare_node(const struct chk *c, const char *id, const json_t *n)
{
	char path[PATH_LEN], full[FULL_LEN], got[64];
	const json_t *e, *a, *v;
	int type = -1, err;

	fc_subpath(path, sizeof(path), "flow.nodes", id);
	if (!fc_valid_id(id) || strlen(id) > NAME_MAX_LEN)
		return fc_fail(c->pathp, path, "node name \"%s\" must be made "
			       "of letters, digits, _ or - (at most %d); "
			       "rename it, e.g. \"ask_day\"",
			       bt_json_shown(id, got, sizeof(got)), NAME_MAX_LEN);
	err = fc_want_object(c, n, path);
	if (!err)
		err = fc_keys_ok(c, n, path, " say ask expect next yes no end "
				 "action reprompt uninterruptible llm ");
	if (err)
		return err;

	e = json_object_get(n, "expect");
	if (e) {
		const json_t *mn = json_object_get(e, "min");
		const json_t *mx = json_object_get(e, "max");
		const char *slot = json_string_value(json_object_get(e,
								     "slot"));

		fc_subpath(full, sizeof(full), path, "expect");
		err = check_expect(c, e, full, &type);
		if (!err)
			err = declare(c->names, slot ? slot : id, id, type,
				      mn ? json_integer_value(mn) : 1,
				      mx ? json_integer_value(mx) :
				      NUMBER_MAX_DEF, NULL);
		if (err)
			return err;
	}

	a = json_object_get(n, "action");
	if (!a)
		return 0;
	fc_subpath(full, sizeof(full), path, "action");
	if (json_is_string(a))
		return fc_fail(c->pathp, full, "\"%s\" must be an object that "
			       "names the tool and what it gets, {\"tool\": "
			       "\"%s\", \"args\": {...}, \"save_as\": "
			       "\"booking\"} (got a string); see "
			       "docs/agent-file.md", full,
			       bt_json_shown(json_string_value(a), got,
					sizeof(got)));
	err = fc_want_object(c, a, full);
	if (!err)
		err = fc_keys_ok(c, a, full, " tool args save_as on_error ");
	if (err)
		return err;
	v = json_object_get(a, "save_as");
	if (!v)
		return 0;
	fc_subpath(full, sizeof(full), full, "save_as");
	if (!json_is_string(v) || !fc_valid_id(json_string_value(v)) ||
	    json_string_length(v) > NAME_MAX_LEN) {
		bt_json_brief(v, got, sizeof(got));
		return fc_fail(c->pathp, full, "\"%s\" must be a name of "
			       "letters, digits, _ or - (at most %d) (got %s); "
			       "set it to e.g. \"booking\", and the texts can "
			       "say {booking.booking_id}", full,
			       NAME_MAX_LEN, got);
	}
	return declare(c->names, json_string_value(v), id, TYPE_SAVED, 0, 0,
		       json_string_value(json_object_get(a, "tool")));
}

int flow_check(const json_t *agent, const char **pathp)
{
	struct chk c = {.pathp = pathp};
	const json_t *flow, *start;
	json_t *colour = NULL, *n;
	const char *id;
	char got[64];
	int err;

	bt_err_clear();
	flow = json_object_get(agent, "flow");
	if (!flow)
		return fc_fail(pathp, "flow", "\"flow\" is missing; add a "
			       "\"flow\" object with \"start\" and \"nodes\" "
			       "(see docs/agent-file.md)");
	err = fc_want_object(&c, flow, "flow");
	if (!err)
		err = fc_keys_ok(&c, flow, "flow", " start min_confidence "
				 "confirm_below reprompt idle intents nodes memory ");
	if (err)
		return err;
	if (json_object_get(flow, "memory") &&
	    !json_is_boolean(json_object_get(flow, "memory")))
		return fc_fail(pathp, "flow.memory", "\"flow.memory\" must be "
			       "true (each call leaves a summary of the slots "
			       "gathered and the tools run for the caller's "
			       "next call) or false");

	c.flow = flow;
	c.nodes = json_object_get(flow, "nodes");
	if (!c.nodes)
		return fc_fail(pathp, "flow", "\"flow.nodes\" is missing; add "
			       "the nodes of the conversation (see "
			       "docs/agent-file.md)");
	if (!json_is_object(c.nodes) || !json_object_size(c.nodes) ||
	    json_object_size(c.nodes) > NODES_MAX) {
		const char *how = "";

		if (json_is_object(c.nodes)) {
			snprintf(got, sizeof(got), "%zu nodes",
				 json_object_size(c.nodes));
		}
		else {
			bt_json_brief(c.nodes, got, sizeof(got));
			/* a list of nodes is the usual mistake */
			if (json_is_array(c.nodes))
				how = "; a node is named by its key: "
				      "{\"greet\": {\"say\": ...}}, not "
				      "[{\"say\": ...}]";
		}
		return fc_fail(pathp, "flow.nodes", "\"flow.nodes\" must be an "
			       "object of 1 to %d nodes, {\"greet\": {...}, "
			       "...} (got %s)%s", NODES_MAX, got, how);
	}

	start = json_object_get(flow, "start");
	if (!start)
		return fc_fail(pathp, "flow", "\"flow.start\" is missing; name "
			       "the first node, e.g. \"start\": \"greet\"");
	err = fc_want_node(&c, start, "flow.start");
	if (err)
		return err;

	c.names = json_object();
	colour = json_object();
	if (!c.names || !colour) {
		err = bt_err(ENOMEM, "out of memory checking the flow");
		goto out;
	}
	json_object_foreach((json_t *)c.nodes, id, n) {
		err = declare_node(&c, id, n);
		if (err)
			goto out;
	}

	err = check_settings(&c, flow);
	c.heard = fc_phrases_heard(agent, c.nodes);
	if (!err)
		err = fc_check_intents(&c, json_object_get(flow, "intents"));
	if (err)
		goto out;

	{
		size_t questions = 0;

		json_object_foreach((json_t *)c.nodes, id, n) {
			err = check_node(&c, id, n);
			if (err)
				goto out;
			questions += json_object_get(n, "expect") != NULL;
		}
		/* one grammar per question for the recogniser */
		if (questions > GRAMMARS_MAX) {
			err = fc_fail(pathp, "flow.nodes", "\"flow.nodes\" has "
				      "%zu questions (nodes with \"expect\"); "
				      "the recogniser holds at most %d "
				      "grammars, one a question", questions,
				      GRAMMARS_MAX);
			goto out;
		}
	}
	json_object_foreach((json_t *)c.nodes, id, n) {
		err = check_loops_from(&c, colour, id, id);
		if (err)
			goto out;
	}
	json_object_foreach((json_t *)c.nodes, id, n) {
		err = fc_check_args_set(&c, flow, id, n);
		if (err)
			goto out;
	}
	json_object_foreach((json_t *)c.nodes, id, n) {
		if (json_object_get(n, "llm")) {
			err = flow_llm_check(agent, pathp);
			break;
		}
	}

 out:
	json_decref(c.names);
	json_decref(colour);
	return err;
}
