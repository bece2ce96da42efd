/**
 * @file flow_check_tools.c  A flow node's action, checked when the agent
 *                           file loads (for flow_check.c): that its tool
 *                           is registered, that its args are what the
 *                           tool takes (names, types, a number's range)
 *                           and its on_error, and that a slot or saved
 *                           result a tool needs is set on every way the
 *                           flow's edges lead to its node.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <re.h>
#include "banter/banter.h"
#include "brain/flow_check.h"
#include "brain/transfer.h"
#include "brain/flow_int.h"
#include "brain/slots.h"

/* Tool t's declared argument `name`; NULL if none (or none declared). */
static const struct bt_tool_arg *tool_arg(const struct bt_tool *t,
					  const char *name)
{
	size_t i;

	for (i = 0; t && t->args && t->args[i].name; i++) {
		if (!strcmp(t->args[i].name, name))
			return &t->args[i];
	}
	return NULL;
}

/* "party, day, time" */
static const char *arg_names(const struct bt_tool *t, char *buf, size_t sz)
{
	size_t i, len = 0;

	buf[0] = '\0';
	for (i = 0; t->args[i].name && len < sz; i++)
		len += (size_t)snprintf(buf + len, sz - len, "%s%s",
					len ? ", " : "", t->args[i].name);
	return buf;
}

/* What an argument must be: "a whole number from 1 to 1000". */
static const char *arg_kind(const struct bt_tool_arg *d, char *buf,
			    size_t sz)
{
	switch (d->type) {
	case BT_TOOL_ARG_INT:
		snprintf(buf, sz, "a whole number from %lld to %lld",
			 (long long)d->min, (long long)d->max);
		break;
	case BT_TOOL_ARG_TEXT: snprintf(buf, sz, "text"); break;
	case BT_TOOL_ARG_BOOL: snprintf(buf, sz, "true or false"); break;
	default: snprintf(buf, sz, "any value"); break;
	}
	return buf;
}

/* What a slot of this type gives a tool as a lone "{slot}". */
static enum bt_tool_arg_type slot_gives(int type)
{
	switch (type) {
	case BT_SLOT_NUMBER: return BT_TOOL_ARG_INT;
	case BT_SLOT_YESNO: return BT_TOOL_ARG_BOOL;
	case BT_SLOT_DAY:
	case BT_SLOT_TIME:
	case BT_SLOT_TEXT: return BT_TOOL_ARG_TEXT;
	default: return BT_TOOL_ARG_ANY;
	}
}

/* A slot that fits argument d, as "\"{party}\"": the one of the
 * argument's name if it fits, else the first that does. */
static const char *suggest(const struct chk *c, const struct bt_tool_arg *d,
			   char *buf, size_t sz)
{
	const json_t *x = json_object_get(c->names, d->name);
	const char *key;

	if (x && json_object_get(x, "type") &&
	    slot_gives((int)json_integer_value(json_object_get(x, "type")))
	    == d->type) {
		snprintf(buf, sz, "\"{%s}\"", d->name);
		return buf;
	}
	json_object_foreach(c->names, key, x) {
		if (json_object_get(x, "type") && slot_gives((int)
		    json_integer_value(json_object_get(x, "type"))) ==
		    d->type) {
			snprintf(buf, sz, "\"{%s}\"", key);
			return buf;
		}
	}
	switch (d->type) {
	case BT_TOOL_ARG_INT: snprintf(buf, sz, "a number slot, \"{n}\""); break;
	case BT_TOOL_ARG_BOOL: snprintf(buf, sz, "true"); break;
	default: snprintf(buf, sz, "\"{slot}\""); break;
	}
	return buf;
}

/*
 * An argument's value against what the tool declares: the type it will
 * have in the call (a lone "{slot}" keeps the slot's; other strings are
 * text) and, for a whole number, its range. A saved result's type is not
 * known here and passes.
 */
static int want_arg(const struct chk *c, const struct bt_tool *t,
		    const struct bt_tool_arg *d, const json_t *x,
		    const char *path)
{
	enum { GIVES_OTHER = -1 };
	char got[64], kind[64], ex[NAME_MAX_LEN + 40], what[80];
	char name[NAME_MAX_LEN + 1];
	int gives = GIVES_OTHER, type;
	json_int_t min = 0, max = 0;
	const json_t *decl = NULL;
	const char *lone;
	size_t n;

	what[0] = '\0';
	switch (json_typeof(x)) {
	case JSON_INTEGER:
		gives = BT_TOOL_ARG_INT;
		min = max = json_integer_value(x);
		break;
	case JSON_TRUE:
	case JSON_FALSE:
		gives = BT_TOOL_ARG_BOOL;
		break;
	case JSON_REAL:
		snprintf(what, sizeof(what), ", not a whole number");
		break;
	case JSON_STRING:
		if (!flow_tmpl_lone(json_string_value(x), &lone, &n)) {
			gives = BT_TOOL_ARG_TEXT;
			snprintf(what, sizeof(what), ", text");
			break;
		}
		if (memchr(lone, '.', n))
			return 0;  /* a path into a saved result */
		str_ncpy(name, lone, n + 1 < sizeof(name) ? n + 1 :
			 sizeof(name));
		decl = json_object_get(c->names, name);
		if (json_object_get(decl, "saved") ||
		    !json_object_get(decl, "type"))
			return 0;  /* a saved result */
		type = (int)json_integer_value(json_object_get(decl, "type"));
		if (type < 0)
			return 0;  /* nodes fill it with different types */
		gives = slot_gives(type);
		min = json_integer_value(json_object_get(decl, "min"));
		max = json_integer_value(json_object_get(decl, "max"));
		if (gives == BT_TOOL_ARG_INT)
			snprintf(what, sizeof(what), ", a number answer from %"
				 JSON_INTEGER_FORMAT " to %" JSON_INTEGER_FORMAT,
				 min, max);
		else
			snprintf(what, sizeof(what), ", a %s answer",
				 slot_type_to_name(type));
		break;
	default:
		break;
	}

	if (d->type == BT_TOOL_ARG_ANY)
		return 0;
	bt_json_brief(x, got, sizeof(got));
	if (gives != (int)d->type)
		return fc_fail(c->pathp, path, "\"%s\" is %s%s, but %s needs "
			       "\"%s\" to be %s; pass e.g. %s", path, got, what,
			       t->name, d->name,
			       arg_kind(d, kind, sizeof(kind)),
			       suggest(c, d, ex, sizeof(ex)));
	if (d->type != BT_TOOL_ARG_INT || (min >= d->min && max <= d->max))
		return 0;
	if (!decl)
		return fc_fail(c->pathp, path, "\"%s\" is %s, but %s takes "
			       "\"%s\" from %lld to %lld; pass a number in "
			       "that range", path, got, t->name, d->name,
			       (long long)d->min, (long long)d->max);
	return fc_fail(c->pathp, path, "\"%s\" is %s%s, but %s takes \"%s\" "
		       "from %lld to %lld, so some answers would fail in the "
		       "call; set \"flow.nodes.%s.expect.%s\" to %s %lld", path,
		       got, what, t->name, d->name, (long long)d->min,
		       (long long)d->max,
		       json_string_value(json_object_get(decl, "node")),
		       max > d->max ? "max" : "min",
		       max > d->max ? "at most" : "at least",
		       (long long)(max > d->max ? d->max : d->min));
}

int fc_check_action(const struct chk *c, const json_t *a,
		    const char *path)
{
	char full[FULL_LEN], got[64], names[256];
	const struct bt_tool *tool;
	const json_t *v, *args, *oe;
	size_t i;
	const char *key;
	json_t *x;
	int err;

	/* its shape and save_as: declare_node() */
	fc_subpath(full, sizeof(full), path, "tool");
	v = json_object_get(a, "tool");
	if (!v)
		return fc_fail(c->pathp, path, "\"%s\" is missing; add e.g. "
			       "\"tool\": \"booking.save\"", full);
	err = fc_want_string(c, v, full, "booking.save");
	if (err)
		return err;
	if (!strcmp(json_string_value(v), BT_TRANSFER_RUN))
		return fc_check_transfer(c, a, path);
	if (!bt_tool_find(json_string_value(v))) {
		const struct bt_tool *t0 = bt_tool_find(NULL);
		const struct le *le;
		size_t len = 0;

		names[0] = '\0';
		for (le = t0 ? &t0->le : NULL; le && len < sizeof(names);
		     le = le->next) {
			const struct bt_tool *t = le->data;

			len += (size_t)snprintf(names + len,
						sizeof(names) - len, "%s%s",
						len ? ", " : "", t->name);
		}
		return fc_fail(c->pathp, full, "\"%s\" is \"%s\", but no tool "
			       "of that name is registered; registered: %s "
			       "(and the built-in " BT_TRANSFER_RUN "); use "
			       "one of those", full,
			       bt_json_shown(json_string_value(v), got, sizeof(got)),
			       len ? names : "none");
	}

	tool = bt_tool_find(json_string_value(v));
	args = json_object_get(a, "args");
	if (args) {
		fc_subpath(full, sizeof(full), path, "args");
		err = fc_want_object(c, args, full);
		if (err)
			return err;
		json_object_foreach((json_t *)args, key, x) {
			const struct bt_tool_arg *d = tool_arg(tool, key);
			char args_path[FULL_LEN];

			fc_subpath(args_path, sizeof(args_path), path, "args");
			fc_subpath(full, sizeof(full), args_path, key);
			if (tool->args && !d)
				return fc_fail(c->pathp, full, "\"%s\": %s "
					       "takes no argument \"%s\"; it "
					       "takes %s; remove it or fix the "
					       "name", full, tool->name,
					       bt_json_shown(key, got, sizeof(got)),
					       arg_names(tool, names,
							 sizeof(names)));
			if (json_is_string(x)) {
				err = fc_want_text(c, x, full, "{party}", true);
				if (err)
					return err;
			}
			else if (json_is_object(x) || json_is_array(x)) {
				bt_json_brief(x, got, sizeof(got));
				return fc_fail(c->pathp, full, "\"%s\" must be "
					       "a string (\"{slot}\"), a "
					       "number or true/false (got %s)",
					       full, got);
			}
			if (d) {
				err = want_arg(c, tool, d, x, full);
				if (err)
					return err;
			}
		}
	}
	for (i = 0; tool->args && tool->args[i].name; i++) {
		const struct bt_tool_arg *d = &tool->args[i];
		char ex[NAME_MAX_LEN + 40];

		if (d->optional || json_object_get(args, d->name))
			continue;
		if (!args)
			return fc_fail(c->pathp, path, "\"%s\" has no "
				       "\"args\", but %s needs %s; add e.g. "
				       "\"args\": {\"%s\": %s, ...}", path,
				       tool->name,
				       arg_names(tool, names, sizeof(names)),
				       d->name, suggest(c, d, ex, sizeof(ex)));
		fc_subpath(full, sizeof(full), path, "args");
		return fc_fail(c->pathp, full, "\"%s\" lacks \"%s\", which %s "
			       "needs (%s); add \"%s\": %s", full, d->name,
			       tool->name, arg_kind(d, got, sizeof(got)),
			       d->name, suggest(c, d, ex, sizeof(ex)));
	}

	oe = json_object_get(a, "on_error");
	if (oe) {
		fc_subpath(full, sizeof(full), path, "on_error");
		err = fc_want_object(c, oe, full);
		if (!err)
			err = fc_keys_ok(c, oe, full, " say next ");
		if (!err)
			err = fc_check_opt_text(c, oe, "say", full,
						DEF_TOOL_ERROR);
		if (!err)
			err = fc_check_opt_node(c, oe, "next", full);
		if (err)
			return err;
	}
	return 0;
}

/* Visit node `id` next (if it is one and new), coming from `from` by an
 * edge `via` ("" for next, yes and no; "on_error", "llm"). */
static void way_push(const struct chk *c, json_t *prev, const char **queue,
		     size_t *np, const json_t *id, const char *from,
		     const char *via)
{
	const char *s = json_string_value(id);
	void *iter = s ? json_object_iter_at((json_t *)c->nodes, s) : NULL;

	if (!iter || json_object_get(prev, s) ||
	    *np >= json_object_size(c->nodes))
		return;
	json_object_set_new(prev, s, json_pack("{s:s, s:s}", "from", from,
					       "via", via));
	queue[(*np)++] = json_object_iter_key(iter);
}

/*
 * Can the call reach node `to` with `name` not yet set? A breadth-first
 * walk from flow.start along the flow's own edges: an answer sets its
 * slot on the edges that follow it (next, yes, no); an action's save_as
 * is set on every edge but on_error's. Intents' and the fallback's next
 * leave from every question, a detour the author means: they are not
 * followed (a tool reached that way without its slot fails into its
 * on_error, as in a call). Nodes and edges are bounded (NODES_MAX), and
 * so is the walk. On a way, *foundp and `way` ("greet -> party -> book").
 */
static int unset_on_way(const struct chk *c, const json_t *flow,
			const char *name, const char *to, char *way,
			size_t sz, bool *foundp)
{
	size_t head = 0, n = 0, k;
	const char **queue;
	json_t *prev;
	int err = 0;

	*foundp = false;
	queue = mem_zalloc(json_object_size(c->nodes) * sizeof(*queue), NULL);
	prev = json_object();
	if (!queue || !prev) {
		err = bt_err(ENOMEM, "out of memory checking the flow");
		goto out;
	}
	way_push(c, prev, queue, &n, json_object_get(flow, "start"), "", "");
	while (head < n && !*foundp) {
		const char *id = queue[head++];
		const json_t *node = json_object_get(c->nodes, id);
		const json_t *a = json_object_get(node, "action");
		const json_t *e = json_object_get(node, "expect");
		const char *save_as = json_string_value(json_object_get(
			a, "save_as"));
		const char *slot = json_string_value(json_object_get(e,
								     "slot"));

		if (!strcmp(id, to)) {
			*foundp = true;
			break;
		}
		way_push(c, prev, queue, &n, json_object_get(json_object_get(
			a, "on_error"), "next"), id, "on_error");
		if (save_as && !strcmp(save_as, name))
			continue;  /* set from here on */
		way_push(c, prev, queue, &n, json_object_get(json_object_get(
			node, "llm"), "return_to"), id, "llm");
		if (!e) {
			way_push(c, prev, queue, &n,
				 json_object_get(node, "next"), id, "");
			continue;
		}
		if (!strcmp(slot ? slot : id, name))
			continue;  /* the answer sets it */
		way_push(c, prev, queue, &n, json_object_get(node, "next"), id,
			 "");
		way_push(c, prev, queue, &n, json_object_get(node, "yes"), id,
			 "");
		way_push(c, prev, queue, &n, json_object_get(node, "no"), id,
			 "");
	}
	if (!*foundp)
		goto out;

	/* the way back from `to` (each node once), then written forwards */
	for (n = 0; to && *to && n < json_object_size(c->nodes); n++) {
		queue[n] = to;
		to = json_string_value(json_object_get(json_object_get(prev,
								       to),
						       "from"));
	}
	way[0] = '\0';
	for (k = n; k-- > 0; ) {
		size_t len = strlen(way);
		const char *via;

		/* a long way: its first two nodes, "...", its last four */
		if (n > 7 && k < n - 2 && k > 3) {
			if (k == n - 3)
				snprintf(way + len, sz - len, " -> ...");
			continue;
		}
		via = json_string_value(json_object_get(json_object_get(prev,
			queue[k]), "via"));
		if (!len)
			snprintf(way, sz, "%s", queue[k]);
		else if (via && *via)
			snprintf(way + len, sz - len, " -[%s]-> %s", via,
				 queue[k]);
		else
			snprintf(way + len, sz - len, " -> %s", queue[k]);
	}

 out:
	mem_deref(queue);
	json_decref(prev);
	return err;
}

/*
 * The arguments a tool needs that name a slot or a saved result: set on
 * every way to the node, or the tool would get null and fail the call.
 */
int fc_check_args_set(const struct chk *c, const json_t *flow,
		      const char *id, const json_t *n)
{
	const json_t *a = json_object_get(n, "action");
	const json_t *args = json_object_get(a, "args");
	const struct bt_tool *t = bt_tool_find(json_string_value(
		json_object_get(a, "tool")));
	size_t i;
	int err;

	for (i = 0; t && t->args && t->args[i].name; i++) {
		const json_t *x = json_object_get(args, t->args[i].name);
		char name[NAME_MAX_LEN + 1], way[300], path[FULL_LEN];
		char sh[SHOWN_LEN];
		const char *lone;
		bool found;
		size_t len;

		if (t->args[i].optional || !json_is_string(x) ||
		    !flow_tmpl_lone(json_string_value(x), &lone, &len))
			continue;
		len = strcspn(lone, ".}");
		str_ncpy(name, lone, len + 1 < sizeof(name) ? len + 1 :
			 sizeof(name));
		err = unset_on_way(c, flow, name, id, way, sizeof(way),
				   &found);
		if (err)
			return err;
		if (!found)
			continue;
		fc_subpath(path, sizeof(path), "flow.nodes", id);
		fc_subpath(path, sizeof(path), path, "action");
		fc_subpath(path, sizeof(path), path, "args");
		fc_subpath(path, sizeof(path), path, t->args[i].name);
		return fc_fail(c->pathp, path, "\"%s\" is \"%s\", but the call "
			       "can reach node \"%s\" before {%s} is set (%s), "
			       "and %s would fail; fill it on every way there, "
			       "or lead those edges elsewhere", path,
			       bt_json_shown(json_string_value(x), sh, sizeof(sh)),
			       id, name, way, t->name);
	}
	return 0;
}
