/**
 * @file flow_check.c  The flow's part of the agent file, checked when it
 *                     loads: every field's type and range, that the edges
 *                     lead to nodes, that the texts' {slots} are filled
 *                     somewhere, that no loop talks forever. What passes
 *                     here must not fail in a call (flow.c trusts it).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <re.h>
#include "banter/banter.h"
#include "brain/flow_int.h"
#include "brain/flow_llm.h"
#include "brain/slots.h"

enum {
	SHOWN_MAX = 40,             /**< a quoted value in a message */
	SHOWN_LEN = SHOWN_MAX + 4,  /**< ... with "..." */
	LIST_MAX = 200,             /**< a list of names in a message */
	LIST_LEN = LIST_MAX + SHOWN_LEN + 8,
};

/* The path of a check error; "static" as brain.h asks (one per thread). */
static __thread char check_path[PATH_LEN];

static int cfail(const char **pathp, const char *path, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int cfail(const char **pathp, const char *path, const char *fmt, ...)
{
	char msg[900];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);

	str_ncpy(check_path, path, sizeof(check_path));
	if (pathp)
		*pathp = check_path;
	return bt_err(EINVAL, "%s", msg);
}

/*
 * A string of the file's in a message, cut to SHOWN_MAX bytes (at a
 * character's start) with "...": a long value must not push the part
 * that says what to do off the end of the message.
 */
static const char *shown(const char *s, char *buf, size_t sz)
{
	size_t n = strlen(s);

	if (n <= SHOWN_MAX) {
		str_ncpy(buf, s, sz);
		return buf;
	}
	n = SHOWN_MAX;
	while (n && ((unsigned char)s[n] & 0xc0) == 0x80)
		n--;
	snprintf(buf, sz, "%.*s...", (int)n, s);
	return buf;
}

/* What a value is, for "(got ...)". */
static void brief(const json_t *v, char *buf, size_t sz)
{
	char s[SHOWN_LEN];
	size_t n;

	switch (json_typeof(v)) {
	case JSON_STRING:
		snprintf(buf, sz, "\"%s\"", shown(json_string_value(v), s,
						  sizeof(s)));
		break;
	case JSON_INTEGER:
		snprintf(buf, sz, "%" JSON_INTEGER_FORMAT,
			 json_integer_value(v));
		break;
	case JSON_REAL: snprintf(buf, sz, "%g", json_real_value(v)); break;
	case JSON_TRUE: snprintf(buf, sz, "true"); break;
	case JSON_FALSE: snprintf(buf, sz, "false"); break;
	case JSON_NULL: snprintf(buf, sz, "null"); break;
	case JSON_OBJECT:
		n = json_object_size(v);
		if (n)
			snprintf(buf, sz, "an object with %zu field%s", n,
				 n == 1 ? "" : "s");
		else
			snprintf(buf, sz, "an empty object");
		break;
	case JSON_ARRAY:
		n = json_array_size(v);
		if (n)
			snprintf(buf, sz, "a list of %zu entr%s", n,
				 n == 1 ? "y" : "ies");
		else
			snprintf(buf, sz, "an empty list");
		break;
	default: snprintf(buf, sz, "?"); break;
	}
}

/* "a, b, c" of an object's keys, "..." once LIST_MAX bytes are used;
 * sz at least LIST_LEN */
static const char *key_list(const json_t *obj, char *buf, size_t sz)
{
	const char *key;
	json_t *x;
	size_t len = 0;

	buf[0] = '\0';
	json_object_foreach((json_t *)obj, key, x) {
		char s[SHOWN_LEN];

		if (len >= LIST_MAX || len + SHOWN_LEN + 8 > sz) {
			/* sz >= LIST_LEN: there is room for this */
			snprintf(buf + len, sz - len, ", ...");
			break;
		}
		len += (size_t)snprintf(buf + len, sz - len, "%s%s",
					len ? ", " : "",
					shown(key, s, sizeof(s)));
	}
	return len ? buf : "none";
}

/* What every check helper needs. */
struct chk {
	const json_t *nodes;
	json_t *names; /* declared template names: slots and saved results */
	const char **pathp;
};

static bool valid_id(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++) {
		char c = *s;

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '_' || c == '-'))
			return false;
	}
	return true;
}

/* " a b c " -> "a, b, c" */
static const char *commas(const char *words, char *buf, size_t sz)
{
	size_t len = 0;
	const char *p;

	for (p = words; *p == ' '; p++)
		;
	for (; *p && len + 3 < sz; p++) {
		if (*p != ' ') {
			buf[len++] = *p;
			continue;
		}
		while (p[1] == ' ')
			p++;
		if (!p[1])
			break;
		buf[len++] = ',';
		buf[len++] = ' ';
	}
	buf[len] = '\0';
	return buf;
}

/* path + "." + key, cut to fit; an odd key quoted (bt_json_path_add) */
static void subpath(char *buf, size_t sz, const char *path, const char *key)
{
	bt_json_path_add(buf, sz, path, key);
}

static int keys_ok(const struct chk *c, const json_t *obj, const char *path,
		   const char *valid)
{
	const char *key;
	json_t *v;

	json_object_foreach((json_t *)obj, key, v) {
		char full[FULL_LEN], pat[NAME_MAX_LEN + 3], list[256];

		snprintf(pat, sizeof(pat), " %s ", key);
		if (strlen(key) <= NAME_MAX_LEN && !strchr(key, ' ') &&
		    strstr(valid, pat))
			continue;
		subpath(full, sizeof(full), path, key);
		return cfail(c->pathp, full,
			     "unknown field \"%s\"; the fields of \"%s\" "
			     "are %s; check the spelling", full, path,
			     commas(valid, list, sizeof(list)));
	}
	return 0;
}

static int want_object(const struct chk *c, const json_t *v,
		       const char *path)
{
	char got[64];

	if (json_is_object(v))
		return 0;
	brief(v, got, sizeof(got));
	return cfail(c->pathp, path, "\"%s\" must be an object ({...}) "
		     "(got %s); see docs/agent-file.md", path, got);
}

static int want_string(const struct chk *c, const json_t *v,
		       const char *path, const char *example)
{
	char got[64];

	if (json_is_string(v) && json_string_length(v))
		return 0;
	brief(v, got, sizeof(got));
	return cfail(c->pathp, path, "\"%s\" must be a non-empty string "
		     "(got %s); set it to e.g. \"%s\"", path, got, example);
}

static int want_int(const struct chk *c, const json_t *v, const char *path,
		    json_int_t min, json_int_t max, json_int_t example)
{
	char got[64];

	if (json_is_integer(v) && json_integer_value(v) >= min &&
	    json_integer_value(v) <= max)
		return 0;
	brief(v, got, sizeof(got));
	return cfail(c->pathp, path, "\"%s\" must be an integer between %"
		     JSON_INTEGER_FORMAT " and %" JSON_INTEGER_FORMAT
		     " (got %s); set it to e.g. %" JSON_INTEGER_FORMAT, path,
		     min, max, got, example);
}

static int want_conf(const struct chk *c, const json_t *v, const char *path)
{
	char got[64];

	if (json_is_number(v) && json_number_value(v) >= 0.0 &&
	    json_number_value(v) <= 1.0)
		return 0;
	brief(v, got, sizeof(got));
	return cfail(c->pathp, path, "\"%s\" must be a number between 0 and "
		     "1 (got %s); set it to e.g. 0.4", path, got);
}

/* An edge: a string naming an existing node. */
static int want_node(const struct chk *c, const json_t *v, const char *path)
{
	char list[LIST_LEN], name[SHOWN_LEN];
	int err;

	err = want_string(c, v, path, "goodbye");
	if (err)
		return err;
	if (json_object_get(c->nodes, json_string_value(v)))
		return 0;

	return cfail(c->pathp, path, "\"%s\" goes to node \"%s\", which does "
		     "not exist; the nodes are %s; fix the name or add the "
		     "node to \"flow.nodes\"", path,
		     shown(json_string_value(v), name, sizeof(name)),
		     key_list(c->nodes, list, sizeof(list)));
}

/* {name} placeholders must name a slot or a saved tool result. */
static int want_text(const struct chk *c, const json_t *v, const char *path,
		     const char *example)
{
	const char *s, *open, *close;
	int err = want_string(c, v, path, example);

	if (err)
		return err;
	if (json_string_length(v) >= TEXT_MAX)
		return cfail(c->pathp, path, "\"%s\" is %zu bytes; a text is "
			     "at most %d (said in one breath: split it over "
			     "two nodes)", path, json_string_length(v),
			     TEXT_MAX - 1);
	for (s = json_string_value(v); (open = strchr(s, '{')); s = close + 1) {
		char name[NAME_MAX_LEN + 1], known[300];
		const char *key;
		json_t *x;
		size_t n, len = 0;

		if (open[1] == '{') {
			close = open + 1;
			continue;
		}
		close = strchr(open, '}');
		if (!close)
			return cfail(c->pathp, path, "\"%s\" has a \"{\" "
				     "without \"}\"; write {slot} to say a "
				     "slot, or {{ for a brace", path);
		n = strcspn(open + 1, ".}");
		if (!n || n > NAME_MAX_LEN) {
			return cfail(c->pathp, path, "\"%s\" has an empty or "
				     "too long {name}; write e.g. {party}",
				     path);
		}
		memcpy(name, open + 1, n);
		name[n] = '\0';
		if (json_object_get(c->names, name))
			continue;

		known[0] = '\0';
		json_object_foreach(c->names, key, x) {
			if (len >= sizeof(known))
				break;
			len += (size_t)snprintf(known + len,
						sizeof(known) - len, "%s%s",
						len ? ", " : "", key);
		}
		return cfail(c->pathp, path, "\"%s\" uses {%s}, but no node "
			     "fills a slot or saves a result of that name; "
			     "known names: %s", path, name,
			     len ? known : "none");
	}
	return 0;
}

static int check_opt_text(const struct chk *c, const json_t *obj,
			  const char *key, const char *path,
			  const char *example)
{
	const json_t *v = json_object_get(obj, key);
	char full[FULL_LEN];

	if (!v)
		return 0;
	subpath(full, sizeof(full), path, key);
	return want_text(c, v, full, example);
}

static int check_opt_node(const struct chk *c, const json_t *obj,
			  const char *key, const char *path)
{
	const json_t *v = json_object_get(obj, key);
	char full[FULL_LEN];

	if (!v)
		return 0;
	subpath(full, sizeof(full), path, key);
	return want_node(c, v, full);
}

static int check_expect(const struct chk *c, const json_t *e,
			const char *path, int *typep)
{
	char full[FULL_LEN], got[64];
	const json_t *t, *v;
	int type, err;

	err = want_object(c, e, path);
	if (!err)
		err = keys_ok(c, e, path,
			      " type slot min max min_confidence ");
	if (err)
		return err;

	subpath(full, sizeof(full), path, "type");
	t = json_object_get(e, "type");
	if (!t)
		return cfail(c->pathp, path, "\"%s\" is missing; add "
			     "\"type\": one of number, day, time, yes_no, "
			     "text", full);
	type = slot_type_from_name(json_string_value(t));
	if (type < 0) {
		brief(t, got, sizeof(got));
		return cfail(c->pathp, full, "\"%s\" must be one of number, "
			     "day, time, yes_no, text (got %s); pick one of "
			     "those", full, got);
	}

	v = json_object_get(e, "slot");
	subpath(full, sizeof(full), path, "slot");
	if (v && (!json_is_string(v) || !valid_id(json_string_value(v)) ||
		  json_string_length(v) > NAME_MAX_LEN)) {
		brief(v, got, sizeof(got));
		return cfail(c->pathp, full, "\"%s\" must be a name of "
			     "letters, digits, _ or - (got %s); set it to "
			     "e.g. \"party\"", full, got);
	}

	if (type != BT_SLOT_NUMBER &&
	    (json_object_get(e, "min") || json_object_get(e, "max"))) {
		subpath(full, sizeof(full), path,
			json_object_get(e, "min") ? "min" : "max");
		return cfail(c->pathp, full, "\"%s\" only applies to "
			     "\"type\": \"number\"; remove it", full);
	}
	if ((v = json_object_get(e, "min"))) {
		subpath(full, sizeof(full), path, "min");
		/* "zero" would be taken, and no count of people is 0 */
		if (json_is_integer(v) && json_integer_value(v) < 1)
			return cfail(c->pathp, full, "\"%s\" is %"
				     JSON_INTEGER_FORMAT ", but the range of a "
				     "number answer must start at 1 (0 is "
				     "never a party); set it to 1 or more, or "
				     "leave it out (the default is 1)", full,
				     json_integer_value(v));
		err = want_int(c, v, full, 1, 1000000, 1);
		if (err)
			return err;
	}
	if ((v = json_object_get(e, "max"))) {
		json_int_t min = json_integer_value(json_object_get(e, "min"));

		subpath(full, sizeof(full), path, "max");
		err = want_int(c, v, full, min > 1 ? min : 1, 1000000,
			       min > 20 ? min : 20);
		if (err)
			return err;
	}
	else if (json_integer_value(json_object_get(e, "min")) >
		 NUMBER_MAX_DEF) {
		/* the default max would leave no answer */
		subpath(full, sizeof(full), path, "min");
		return cfail(c->pathp, full, "\"%s\" is %" JSON_INTEGER_FORMAT
			     ", above the default \"max\" (%d), so no "
			     "answer would do; add \"max\" to \"%s\"", full,
			     json_integer_value(json_object_get(e, "min")),
			     NUMBER_MAX_DEF, path);
	}
	if ((v = json_object_get(e, "min_confidence"))) {
		subpath(full, sizeof(full), path, "min_confidence");
		err = want_conf(c, v, full);
		if (err)
			return err;
	}

	*typep = type;
	return 0;
}

static int check_action(const struct chk *c, const json_t *a,
			const char *path)
{
	char full[FULL_LEN], got[64];
	const json_t *v, *args, *oe;
	const char *key;
	json_t *x;
	int err;

	err = want_object(c, a, path);
	if (!err)
		err = keys_ok(c, a, path, " tool args save_as on_error ");
	if (err)
		return err;

	subpath(full, sizeof(full), path, "tool");
	v = json_object_get(a, "tool");
	if (!v)
		return cfail(c->pathp, path, "\"%s\" is missing; add e.g. "
			     "\"tool\": \"booking.save\"", full);
	err = want_string(c, v, full, "booking.save");
	if (err)
		return err;
	if (!bt_tool_find(json_string_value(v))) {
		char names[256];
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
		return cfail(c->pathp, full, "\"%s\" is \"%s\", but no tool of "
			     "that name is registered; registered: %s; use "
			     "one of those", full,
			     shown(json_string_value(v), got, sizeof(got)),
			     len ? names : "none");
	}

	args = json_object_get(a, "args");
	if (args) {
		subpath(full, sizeof(full), path, "args");
		err = want_object(c, args, full);
		if (err)
			return err;
		json_object_foreach((json_t *)args, key, x) {
			char args_path[FULL_LEN];

			subpath(args_path, sizeof(args_path), path, "args");
			subpath(full, sizeof(full), args_path, key);
			if (json_is_string(x)) {
				err = want_text(c, x, full, "{party}");
				if (err)
					return err;
			}
			else if (json_is_object(x) || json_is_array(x)) {
				brief(x, got, sizeof(got));
				return cfail(c->pathp, full, "\"%s\" must be a "
					     "string (\"{slot}\"), a number or "
					     "true/false (got %s)", full, got);
			}
		}
	}

	/* save_as was declared (as a name) before the texts were checked */
	v = json_object_get(a, "save_as");
	if (v) {
		subpath(full, sizeof(full), path, "save_as");
		if (!json_is_string(v) || !valid_id(json_string_value(v)) ||
		    json_string_length(v) > NAME_MAX_LEN) {
			brief(v, got, sizeof(got));
			return cfail(c->pathp, full, "\"%s\" must be a name "
				     "of letters, digits, _ or - (got %s); "
				     "set it to e.g. \"booking\"", full, got);
		}
	}

	oe = json_object_get(a, "on_error");
	if (oe) {
		subpath(full, sizeof(full), path, "on_error");
		err = want_object(c, oe, full);
		if (!err)
			err = keys_ok(c, oe, full, " say next ");
		if (!err)
			err = check_opt_text(c, oe, "say", full,
					     DEF_TOOL_ERROR);
		if (!err)
			err = check_opt_node(c, oe, "next", full);
		if (err)
			return err;
	}
	return 0;
}

static int check_node(const struct chk *c, const char *id, const json_t *n)
{
	char path[PATH_LEN], full[FULL_LEN], got[64];
	const json_t *e, *v;
	int type = -1, err;
	bool has_end;

	subpath(path, sizeof(path), "flow.nodes", id);
	if (!valid_id(id) || strlen(id) > NAME_MAX_LEN)
		return cfail(c->pathp, path, "node name \"%s\" must be made "
			     "of letters, digits, _ or - (at most %d); rename "
			     "it, e.g. \"ask_day\"", shown(id, got, sizeof(got)),
			     NAME_MAX_LEN);
	err = want_object(c, n, path);
	if (!err)
		err = keys_ok(c, n, path, " say ask expect next yes no end "
			      "action reprompt uninterruptible llm ");
	if (!err && json_object_get(n, "uninterruptible") &&
	    !json_is_boolean(json_object_get(n, "uninterruptible"))) {
		subpath(full, sizeof(full), path, "uninterruptible");
		brief(json_object_get(n, "uninterruptible"), got, sizeof(got));
		return cfail(c->pathp, full, "\"%s\" must be true or false "
			     "(got %s)", full, got);
	}
	if (err)
		return err;

	if (json_object_get(n, "llm")) {
		/* the LLM talks until it calls return_to_flow */
		const json_t *l = json_object_get(n, "llm");

		subpath(full, sizeof(full), path, "llm");
		err = want_object(c, l, full);
		if (!err)
			err = keys_ok(c, l, full, " instructions return_to ");
		if (err)
			return err;
		if (json_object_get(l, "instructions") &&
		    !json_is_string(json_object_get(l, "instructions")))
			return cfail(c->pathp, full, "\"%s.instructions\" must "
				     "be a string: what the LLM does here",
				     full);
		subpath(full, sizeof(full), full, "return_to");
		err = want_node(c, json_object_get(l, "return_to"), full);
		if (err)
			return err;
		if (json_object_get(n, "expect") || json_object_get(n, "next") ||
		    json_object_get(n, "end") || json_object_get(n, "action"))
			return cfail(c->pathp, path, "\"%s\" hands the call to "
				     "the LLM (\"llm\"), so it cannot also "
				     "have expect, next, end or action; the "
				     "flow goes on at llm.return_to", path);
		return 0;
	}

	e = json_object_get(n, "expect");
	if (e) {
		subpath(full, sizeof(full), path, "expect");
		err = check_expect(c, e, full, &type);
		if (err)
			return err;
	}

	err = check_opt_text(c, n, "say", path, "Hello!");
	if (!err)
		err = check_opt_text(c, n, "ask", path, "What day?");
	if (!err)
		err = check_opt_text(c, n, "reprompt", path,
				     "Sorry, what day was that?");
	if (!err)
		err = check_opt_node(c, n, "next", path);
	if (!err)
		err = check_opt_node(c, n, "yes", path);
	if (!err)
		err = check_opt_node(c, n, "no", path);
	if (err)
		return err;

	if ((v = json_object_get(n, "action"))) {
		subpath(full, sizeof(full), path, "action");
		err = check_action(c, v, full);
		if (err)
			return err;
	}

	v = json_object_get(n, "end");
	has_end = json_is_true(v);
	if (v && !json_is_boolean(v)) {
		subpath(full, sizeof(full), path, "end");
		brief(v, got, sizeof(got));
		return cfail(c->pathp, full, "\"%s\" must be true or false "
			     "(got %s)", full, got);
	}

	if (e) {
		if (!json_object_get(n, "ask"))
			return cfail(c->pathp, path, "\"%s.ask\" is missing; a "
				     "node with \"expect\" needs the question "
				     "to ask (and ask again), e.g. \"ask\": "
				     "\"What day would you like?\"", path);
		if (has_end) {
			subpath(full, sizeof(full), path, "end");
			return cfail(c->pathp, full, "\"%s\" cannot be true in "
				     "a node that expects an answer; remove "
				     "\"end\" or \"expect\"", full);
		}
		if (type == BT_SLOT_YESNO) {
			bool def = json_object_get(n, "next") != NULL;

			if (!def && (!json_object_get(n, "yes") ||
				     !json_object_get(n, "no")))
				return cfail(c->pathp, path, "\"%s\" expects "
					     "yes_no but lacks \"%s\"; add "
					     "\"yes\" and \"no\" (or \"next\" "
					     "for both) naming nodes", path,
					     json_object_get(n, "yes") ?
					     "no" : "yes");
			return 0;
		}
		if (json_object_get(n, "yes") || json_object_get(n, "no")) {
			subpath(full, sizeof(full), path,
				json_object_get(n, "yes") ? "yes" : "no");
			return cfail(c->pathp, full, "\"%s\" only applies to "
				     "\"expect\" of type yes_no; use "
				     "\"next\"", full);
		}
		if (!json_object_get(n, "next"))
			return cfail(c->pathp, path, "\"%s.next\" is missing; "
				     "name the node that follows the answer",
				     path);
		return 0;
	}

	if (json_object_get(n, "ask") || json_object_get(n, "reprompt") ||
	    json_object_get(n, "yes") || json_object_get(n, "no")) {
		const char *k = json_object_get(n, "ask") ? "ask" :
			json_object_get(n, "reprompt") ? "reprompt" :
			json_object_get(n, "yes") ? "yes" : "no";

		subpath(full, sizeof(full), path, k);
		return cfail(c->pathp, full, "\"%s\" needs an \"expect\" in "
			     "the node; add \"expect\": {\"type\": ..., "
			     "\"slot\": ...} or use \"say\" and \"next\"",
			     full);
	}
	if (has_end && json_object_get(n, "next")) {
		subpath(full, sizeof(full), path, "next");
		return cfail(c->pathp, full, "\"%s\" cannot be combined with "
			     "\"end\": true; remove one of them", full);
	}
	if (!has_end && !json_object_get(n, "next"))
		return cfail(c->pathp, path, "\"%s\" neither waits for an "
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

		subpath(full, sizeof(full), "flow.nodes", from);
		return cfail(c->pathp, full, "\"%s\" leads back to \"%s\" "
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
		err = want_conf(c, v, "flow.min_confidence");
	if (err)
		return err;

	r = json_object_get(flow, "reprompt");
	if (r) {
		err = want_object(c, r, "flow.reprompt");
		if (!err)
			err = keys_ok(c, r, "flow.reprompt",
				      " say max fallback ");
		if (!err)
			err = check_opt_text(c, r, "say", "flow.reprompt",
					     DEF_REPROMPT);
		if (!err && (v = json_object_get(r, "max")))
			err = want_int(c, v, "flow.reprompt.max", 0, 10, 2);
		if (err)
			return err;
		v = json_object_get(r, "fallback");
		if (v) {
			err = want_object(c, v, "flow.reprompt.fallback");
			if (!err)
				err = keys_ok(c, v, "flow.reprompt.fallback",
					      " say next ");
			if (!err)
				err = check_opt_text(c, v, "say",
						     "flow.reprompt.fallback",
						     DEF_FALLBACK);
			if (!err)
				err = check_opt_node(c, v, "next",
						     "flow.reprompt.fallback");
			if (err)
				return err;
		}
	}

	i = json_object_get(flow, "idle");
	if (i) {
		err = want_object(c, i, "flow.idle");
		if (!err)
			err = keys_ok(c, i, "flow.idle",
				      " say hangup_after hangup_say ");
		if (!err)
			err = check_opt_text(c, i, "say", "flow.idle",
					     DEF_IDLE);
		if (!err)
			err = check_opt_text(c, i, "hangup_say", "flow.idle",
					     DEF_HANGUP);
		if (!err && (v = json_object_get(i, "hangup_after")))
			err = want_int(c, v, "flow.idle.hangup_after", 1, 10,
				       2);
	}
	return err;
}

static int check_phrases(const struct chk *c, const json_t *arr,
			 const char *path, size_t *np)
{
	char full[FULL_LEN], got[64], norm[NORM_MAX];
	const json_t *v;
	size_t k;

	*np = 0;
	if (!arr)
		return 0;
	if (!json_is_array(arr)) {
		brief(arr, got, sizeof(got));
		return cfail(c->pathp, path, "\"%s\" must be a list of strings "
			     "(got %s); e.g. [\"what are your opening "
			     "hours\"]", path, got);
	}
	json_array_foreach(arr, k, v) {
		snprintf(full, sizeof(full), "%s[%zu]", path, k);
		slot_normalize(json_string_value(v), norm, sizeof(norm));
		if (!json_is_string(v) || !norm[0]) {
			brief(v, got, sizeof(got));
			return cfail(c->pathp, full, "\"%s\" must be a string "
				     "with words in it (got %s)", full, got);
		}
		if (strpbrk(json_string_value(v), "0123456789"))
			return cfail(c->pathp, full, "\"%s\" has a digit: the "
				     "recogniser hears words, so write numbers "
				     "as words (\"open at seven\", not \"open "
				     "at 7\")", full);
	}
	*np = json_array_size(arr);
	return 0;
}

static int check_intents(const struct chk *c, const json_t *intents)
{
	char path[PATH_LEN], full[FULL_LEN], got[64];
	const json_t *it;
	size_t k, np, nk;
	int err;

	if (!intents)
		return 0;
	if (!json_is_array(intents)) {
		brief(intents, got, sizeof(got));
		return cfail(c->pathp, "flow.intents", "\"flow.intents\" must be "
			     "a list of objects (got %s); see "
			     "docs/agent-file.md", got);
	}
	json_array_foreach(intents, k, it) {
		snprintf(path, sizeof(path), "flow.intents[%zu]", k);
		err = want_object(c, it, path);
		if (!err)
			err = keys_ok(c, it, path,
				      " name phrases keywords say next ");
		if (err)
			return err;
		if (json_object_get(it, "name")) {
			const char *name;

			subpath(full, sizeof(full), path, "name");
			err = want_string(c, json_object_get(it, "name"), full,
					  "hours");
			if (err)
				return err;
			name = json_string_value(json_object_get(it, "name"));
			for (size_t j = 0; j < k; j++) {
				const char *o = json_string_value(
					json_object_get(json_array_get(
						intents, j), "name"));
				if (o && !strcmp(o, name))
					return cfail(c->pathp, full, "two "
						     "intents are named \"%s\" "
						     "(flow.intents[%zu] too); "
						     "give each its own name",
						     shown(name, got,
							   sizeof(got)), j);
			}
		}
		subpath(full, sizeof(full), path, "phrases");
		err = check_phrases(c, json_object_get(it, "phrases"), full,
				    &np);
		if (err)
			return err;
		subpath(full, sizeof(full), path, "keywords");
		err = check_phrases(c, json_object_get(it, "keywords"), full,
				    &nk);
		if (err)
			return err;
		if (!np && !nk)
			return cfail(c->pathp, path, "\"%s\" has no \"phrases\" "
				     "and no \"keywords\", so it can never "
				     "match; add e.g. \"phrases\": [\"what "
				     "are your opening hours\"]", path);
		if (!json_object_get(it, "say"))
			return cfail(c->pathp, path, "\"%s.say\" is missing; "
				     "add the answer, e.g. \"say\": \"We're "
				     "open from noon.\"", path);
		err = check_opt_text(c, it, "say", path, "We're open at noon.");
		if (!err)
			err = check_opt_node(c, it, "next", path);
		if (err)
			return err;
	}
	return 0;
}

/* Names {placeholders} may use: every slot and every saved result. */
static void declare_names(json_t *names, const json_t *nodes)
{
	const char *id;
	json_t *n;

	json_object_foreach((json_t *)nodes, id, n) {
		const json_t *e = json_object_get(n, "expect");
		const json_t *s = json_object_get(e, "slot");
		const json_t *a = json_object_get(n, "action");

		if (json_is_object(e))
			json_object_set_new(names, json_is_string(s) ?
					    json_string_value(s) : id,
					    json_true());
		s = json_object_get(a, "save_as");
		if (json_is_string(s))
			json_object_set_new(names, json_string_value(s),
					    json_true());
	}
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
		return cfail(pathp, "flow", "\"flow\" is missing; add a "
			     "\"flow\" object with \"start\" and \"nodes\" "
			     "(see docs/agent-file.md)");
	err = want_object(&c, flow, "flow");
	if (!err)
		err = keys_ok(&c, flow, "flow", " start min_confidence "
			      "reprompt idle intents nodes ");
	if (err)
		return err;

	c.nodes = json_object_get(flow, "nodes");
	if (!c.nodes)
		return cfail(pathp, "flow", "\"flow.nodes\" is missing; add "
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
			brief(c.nodes, got, sizeof(got));
			/* a list of nodes is the usual mistake */
			if (json_is_array(c.nodes))
				how = "; a node is named by its key: "
				      "{\"greet\": {\"say\": ...}}, not "
				      "[{\"say\": ...}]";
		}
		return cfail(pathp, "flow.nodes", "\"flow.nodes\" must be an "
			     "object of 1 to %d nodes, {\"greet\": {...}, "
			     "...} (got %s)%s", NODES_MAX, got, how);
	}

	start = json_object_get(flow, "start");
	if (!start)
		return cfail(pathp, "flow", "\"flow.start\" is missing; name "
			     "the first node, e.g. \"start\": \"greet\"");
	err = want_node(&c, start, "flow.start");
	if (err)
		return err;

	c.names = json_object();
	colour = json_object();
	if (!c.names || !colour) {
		err = bt_err(ENOMEM, "out of memory checking the flow");
		goto out;
	}
	declare_names(c.names, c.nodes);

	err = check_settings(&c, flow);
	if (!err)
		err = check_intents(&c, json_object_get(flow, "intents"));
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
			err = cfail(pathp, "flow.nodes", "\"flow.nodes\" has "
				    "%zu questions (nodes with \"expect\"); "
				    "the recogniser holds at most %d grammars, "
				    "one a question", questions, GRAMMARS_MAX);
			goto out;
		}
	}
	json_object_foreach((json_t *)c.nodes, id, n) {
		err = check_loops_from(&c, colour, id, id);
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
