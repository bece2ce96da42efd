/**
 * @file flow.c  The conversation-flow brain ("flow"): a graph of nodes.
 *
 * A node says something, may call a tool, and either waits for an answer
 * of a slot type (number, day, time, yes_no, text) or moves on along its
 * "next" edge. Global intents ("what are your opening hours?") answer from
 * any node and then ask the current question again. Failed answers are
 * reprompted a few times before a fallback; silence is checked on and
 * then the call ends politely. The schema is in docs/agent-file.md.
 *
 * Everything happens inside respond(), on the session's thread, and is
 * answered before it returns: a turn costs microseconds, plus the tool's
 * time when a node calls one (booking.save is one SQLite insert).
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <re.h>
#include "banter/banter.h"
#include "brain/flow_llm.h"
#include "brain/slots.h"
#include "core/worker.h"
#include "net/loop.h"

enum {
	REPLY_MAX = 2048,  /**< one reply's text; more is cut */
	TEXT_MAX = 1024,   /**< one rendered text */
	NORM_MAX = 512,    /**< one normalized transcript or phrase */
	PATH_LEN = 256,    /**< a dotted path in an error */
	FULL_LEN = PATH_LEN + 64, /**< a path with one more field */
	HOPS_MAX = 64,     /**< nodes passed in one reply (no loops: check) */
	NODES_MAX = 1000,  /**< nodes in a flow (bounds the loop check) */
	NAME_MAX_LEN = 64, /**< a slot or template name */
	GRAMMARS_MAX = 256, /**< question nodes: a recogniser's grammars
				 (GRAMMAR_MAX in src/stt/ps_int.h) */
};

#define DEF_REPROMPT "Sorry, could you repeat that?"
#define DEF_FALLBACK "Sorry, I'm having trouble understanding. " \
	"Please call again later. Goodbye."
#define DEF_IDLE "Are you still there?"
#define DEF_HANGUP "I'll hang up now. Goodbye."
#define DEF_TOOL_ERROR "Sorry, something went wrong on our side."

struct flow_st {
	const struct bt_brain *brain; /* first: the instance convention */
	json_t *agent;
	const json_t *nodes;
	const char *start;

	/* settings, read once (all strings owned by agent) */
	double min_conf;
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

	const char *cur;       /* node waiting for an answer (key in nodes) */
	const json_t *curnode;
	unsigned fails;        /* failed answers at cur */
	bool ended;

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
/* validation                                                          */
/* ------------------------------------------------------------------ */

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

static void brief(const json_t *v, char *buf, size_t sz)
{
	switch (json_typeof(v)) {
	case JSON_STRING:
		snprintf(buf, sz, "\"%.40s%s\"", json_string_value(v),
			 json_string_length(v) > 40 ? "..." : "");
		break;
	case JSON_INTEGER:
		snprintf(buf, sz, "%" JSON_INTEGER_FORMAT,
			 json_integer_value(v));
		break;
	case JSON_REAL: snprintf(buf, sz, "%g", json_real_value(v)); break;
	case JSON_TRUE: snprintf(buf, sz, "true"); break;
	case JSON_FALSE: snprintf(buf, sz, "false"); break;
	case JSON_NULL: snprintf(buf, sz, "null"); break;
	case JSON_OBJECT: snprintf(buf, sz, "an object"); break;
	case JSON_ARRAY: snprintf(buf, sz, "a list"); break;
	default: snprintf(buf, sz, "?"); break;
	}
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

/* path + "." + key, cut to fit (no format: paths can be long) */
static void subpath(char *buf, size_t sz, const char *path, const char *key)
{
	size_t a = strlen(path), b = strlen(key);

	if (a > sz - 1)
		a = sz - 1;
	memcpy(buf, path, a);
	if (a + 1 < sz)
		buf[a++] = '.';
	if (b > sz - 1 - a)
		b = sz - 1 - a;
	memcpy(buf + a, key, b);
	buf[a + b] = '\0';
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
	char list[400];
	const char *key;
	json_t *n;
	size_t len = 0;
	int err;

	err = want_string(c, v, path, "goodbye");
	if (err)
		return err;
	if (json_object_get(c->nodes, json_string_value(v)))
		return 0;

	list[0] = '\0';
	json_object_foreach((json_t *)c->nodes, key, n) {
		if (len >= sizeof(list))
			break;
		len += (size_t)snprintf(list + len, sizeof(list) - len,
					"%s%s", len ? ", " : "", key);
	}
	return cfail(c->pathp, path, "\"%s\" goes to node \"%s\", which does "
		     "not exist; the nodes are %s; fix the name or add the "
		     "node to \"flow.nodes\"", path, json_string_value(v),
		     list);
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
		err = want_int(c, v, full, 0, 1000000, 1);
		if (err)
			return err;
	}
	if ((v = json_object_get(e, "max"))) {
		json_int_t min = json_integer_value(json_object_get(e, "min"));

		subpath(full, sizeof(full), path, "max");
		err = want_int(c, v, full, min > 1 ? min : 1, 1000000, 20);
		if (err)
			return err;
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
			     "one of those", full, json_string_value(v),
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
			     "it, e.g. \"ask_day\"", id, NAME_MAX_LEN);
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
						     name, j);
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

static int flow_check(const json_t *agent, const char **pathp)
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
		if (json_is_object(c.nodes))
			snprintf(got, sizeof(got), "%zu nodes",
				 json_object_size(c.nodes));
		else
			brief(c.nodes, got, sizeof(got));
		return cfail(pathp, "flow.nodes", "\"flow.nodes\" must be an "
			     "object of 1 to %d nodes, {\"greet\": {...}, "
			     "...} (got %s)", NODES_MAX, got);
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

/* ------------------------------------------------------------------ */
/* grammars                                                            */
/* ------------------------------------------------------------------ */

static int expect_type(const json_t *node)
{
	const json_t *e = json_object_get(node, "expect");

	if (!e)
		return -1;
	return slot_type_from_name(
		json_string_value(json_object_get(e, "type")));
}

/*
 * One mem block holds the array, the shared phrase list and every
 * string, so mem_deref(*gp) frees it all and nothing can leak by halves.
 */
static int flow_grammars(const json_t *agent, struct bt_stt_grammar **gp,
			 size_t *np)
{
	const json_t *flow = json_object_get(agent, "flow");
	const json_t *nodes = json_object_get(flow, "nodes");
	const json_t *intents = json_object_get(flow, "intents");
	const json_t *it, *ph, *n;
	struct bt_stt_grammar *g;
	const char **phrases;
	char norm[NORM_MAX], *strs;
	const char *id;
	size_t ng = 0, nph = 0, bytes = 0, k, j, i;

	if (!gp || !np)
		return EINVAL;

	json_object_foreach((json_t *)nodes, id, n) {
		int t = expect_type(n);

		if (t > BT_SLOT_TEXT) {
			ng++;
			bytes += strlen(id) + 1;
		}
	}
	json_array_foreach(intents, k, it) {
		json_array_foreach(json_object_get(it, "phrases"), j, ph) {
			slot_normalize(json_string_value(ph), norm,
				       sizeof(norm));
			if (!norm[0])
				continue;
			nph++;
			bytes += strlen(norm) + 1;
		}
	}

	*gp = NULL;
	*np = 0;
	if (!ng)
		return 0;

	g = mem_zalloc(ng * sizeof(*g) + nph * sizeof(char *) + bytes, NULL);
	if (!g)
		return bt_err(ENOMEM, "out of memory making STT grammars");
	phrases = (const char **)(void *)(g + ng);
	strs = (char *)(phrases + nph);

	i = 0;
	json_array_foreach(intents, k, it) {
		json_array_foreach(json_object_get(it, "phrases"), j, ph) {
			size_t len;

			slot_normalize(json_string_value(ph), norm,
				       sizeof(norm));
			if (!norm[0])
				continue;
			len = strlen(norm) + 1;
			memcpy(strs, norm, len);
			phrases[i++] = strs;
			strs += len;
		}
	}

	i = 0;
	json_object_foreach((json_t *)nodes, id, n) {
		int t = expect_type(n);
		size_t len;

		if (t <= BT_SLOT_TEXT)
			continue;
		len = strlen(id) + 1;
		memcpy(strs, id, len);
		g[i].name = strs;
		g[i].type = (enum bt_slot_type)t;
		g[i].phrases = nph ? phrases : NULL;
		g[i].n_phrases = nph;
		strs += len;
		i++;
	}

	*gp = g;
	*np = ng;
	return 0;
}

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

	mem_deref(st->llm);
	json_decref(st->vars);
	json_decref(st->spoken);
	json_decref(st->agent);
	mem_deref(st->db_path);
	mem_deref(st->session_id);
}

static const char *str_or(const json_t *obj, const char *key, const char *def)
{
	const char *s = json_string_value(json_object_get(obj, key));

	return s ? s : def;
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

/*
 * Fill {name} placeholders: spoken slot values ("three") for speech, the
 * data ("3") otherwise. Unset names become "". "{{" is a brace.
 */
static void render(const struct flow_st *st, const char *tmpl, bool speech,
		   char *buf, size_t sz)
{
	size_t len = 0;
	const char *p = tmpl;

	buf[0] = '\0';
	while (p && *p && len + 1 < sz) {
		const char *close;
		char name[PATH_LEN], val[TEXT_MAX];
		const json_t *v;
		size_t n;

		if (*p != '{' || p[1] == '{') {
			buf[len++] = *p;
			p += *p == '{' ? 2 : 1;
			continue;
		}
		close = strchr(p, '}');
		if (!close) {
			buf[len++] = *p++;
			continue;
		}
		n = (size_t)(close - p - 1);
		if (n >= sizeof(name))
			n = sizeof(name) - 1;
		memcpy(name, p + 1, n);
		name[n] = '\0';
		p = close + 1;

		v = speech ? json_object_get(st->spoken, name) : NULL;
		if (!v)
			v = lookup(st, name);
		value_text(v, val, sizeof(val));
		n = strlen(val);
		if (n > sz - 1 - len)
			n = sz - 1 - len;
		memcpy(buf + len, val, n);
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
		const char *s = json_string_value(v);
		size_t n = s ? strlen(s) : 0;
		char buf[TEXT_MAX];

		if (!s) {
			json_object_set(out, key, v);
			continue;
		}
		/* a lone "{party}" keeps its type: 3, not "3" */
		if (n > 2 && s[0] == '{' && s[n - 1] == '}' &&
		    !strchr(s + 1, '{') && strchr(s, '}') == s + n - 1) {
			char name[PATH_LEN];
			const json_t *x;

			str_ncpy(name, s + 1, n - 1 < sizeof(name) ?
				 n - 1 : sizeof(name));
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
	const char *name = str_or(action, "tool", "");
	const char *save_as = str_or(action, "save_as", NULL);
	char *args_s = NULL, *res_s = NULL;

	if (err) {
		char why[512];
		json_t *e;

		str_ncpy(why, errmsg && *errmsg ? errmsg : strerror(err),
			 sizeof(why));
		json_decref(result);
		result = NULL;
		e = json_pack("{s:s, s:i}", "error", why, "errno", err);
		res_s = e ? json_dumps(e, JSON_COMPACT) : NULL;
		json_decref(e);
	}
	else {
		res_s = json_dumps(result ? result : json_null(),
				   JSON_COMPACT | JSON_ENCODE_ANY);
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
	const char *name = str_or(action, "tool", "");
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
	tool = bt_tool_find(str_or(action, "tool", ""));
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
		if (done_err >= 0) {
			err = done_err;
			done_err = -1;
		}
		else {
			st->fails = 0;
			st->cur = NULL;
			st->curnode = NULL;
			if (action && action_start(st, action,
						   json_object_iter_key(iter)))
				return;  /* goes on in action_back */
			if (action)
				err = run_action(st, action);
		}
		if (action && err) {
			const json_t *oe = json_object_get(action, "on_error");

			say(st, str_or(oe, "say", DEF_TOOL_ERROR));
			id = str_or(oe, "next", NULL);
			if (!id)
				end_call(st);
			continue;
		}

		if (json_is_true(json_object_get(node, "uninterruptible")))
			say_uninterruptible(st, str_or(node, "say", NULL));
		else
			say(st, str_or(node, "say", NULL));
		if (json_object_get(node, "expect")) {
			say(st, str_or(node, "ask", NULL));
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
		id = str_or(node, "next", NULL);
		if (!id)
			end_call(st);
	}
}

static void ask_again(struct flow_st *st)
{
	say(st, str_or(st->curnode, "ask", NULL));
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
	say(st, str_or(st->curnode, "reprompt", st->reprompt_say));
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
 * Parse the answer for the current node into its slot; on success the
 * edge to follow. Slot values are kept twice: typed for tools (3) and as
 * said (three).
 */
static const char *take_answer(struct flow_st *st, const char *norm)
{
	const json_t *node = st->curnode;
	const json_t *e = json_object_get(node, "expect");
	const char *slot = str_or(e, "slot", st->cur);
	const char *next = str_or(node, "next", NULL);
	char spoken[TEXT_MAX];
	json_t *val = NULL;
	int v, err;
	bool yes;

	switch (expect_type(node)) {
	case BT_SLOT_NUMBER: {
		const json_t *mn = json_object_get(e, "min");
		const json_t *mx = json_object_get(e, "max");

		err = slot_number_parse(norm,
					mn ? (int)json_integer_value(mn) : 1,
					mx ? (int)json_integer_value(mx) : 100,
					&v);
		if (err)
			return NULL;
		val = json_integer(v);
		slot_number_words(v, spoken, sizeof(spoken));
		break;
	}
	case BT_SLOT_DAY:
		if (slot_day_parse(norm, today_wday(), &v))
			return NULL;
		str_ncpy(spoken, slot_day_name(v), sizeof(spoken));
		val = json_string(spoken);
		break;
	case BT_SLOT_TIME:
		if (slot_time_parse(norm, &v))
			return NULL;
		slot_time_print(v, spoken, sizeof(spoken));
		val = json_string(spoken);
		break;
	case BT_SLOT_YESNO:
		if (slot_yesno_parse(norm, &yes))
			return NULL;
		val = json_boolean(yes);
		str_ncpy(spoken, yes ? "yes" : "no", sizeof(spoken));
		next = str_or(node, yes ? "yes" : "no", next);
		break;
	default:
		str_ncpy(spoken, norm, sizeof(spoken));
		val = json_string(norm);
		break;
	}

	json_object_set_new(st->vars, slot, val);
	json_object_set_new(st->spoken, slot, json_string(spoken));
	return next;
}

static void on_user(struct flow_st *st, const struct bt_brain_input *in)
{
	const json_t *e = json_object_get(st->curnode, "expect");
	const json_t *mc = json_object_get(e, "min_confidence");
	double min = mc ? json_number_value(mc) : st->min_conf;
	const json_t *intent;
	const char *next;
	char norm[NORM_MAX];

	slot_normalize(in->text, norm, sizeof(norm));
	if (!norm[0] || in->confidence < min) {
		failed(st);
		return;
	}

	intent = match_intent(st, norm);
	if (intent) {
		say(st, str_or(intent, "say", NULL));
		next = str_or(intent, "next", NULL);
		if (next)
			enter(st, next);
		else
			ask_again(st);
		return;
	}

	next = take_answer(st, norm);
	if (!next && asks_repeat(norm)) {
		ask_again(st);
		return;
	}
	if (!next) {
		failed(st);
		return;
	}
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
	ask_again(st);
}

static int bst_respond(struct flow_st *st, const struct bt_brain_input *in,
		       const struct bt_brain_sink *sink);

/* The response is complete (no tool pending): hand it over. */
static void deliver(struct flow_st *st)
{
	const struct bt_brain_sink *sink = st->sink;
	struct bt_brain_done done = {false, NULL, NULL, false};
	void *held = sink == &st->sink_copy ? st->sink_copy.arg : NULL;

	if (!sink)
		return;
	if (st->reply_len)
		sink->texth(st->reply, sink->arg);
	done.end_call = st->ended;
	done.grammar = st->cur && expect_type(st->curnode) > BT_SLOT_TEXT ?
		st->cur : NULL;
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
	const char *sys = str_or(l, "system", "");
	const char *ins = str_or(json_object_get(st->llm_node, "llm"),
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
		st->ended = false;
		enter(st, st->start);
		break;
	case BT_BRAIN_USER:
		if (st->ended)
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
	if (!st->vars || !st->spoken) {
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
	st->nodes = json_object_get(flow, "nodes");
	st->start = json_string_value(json_object_get(flow, "start"));
	st->intents = json_object_get(flow, "intents");
	v = json_object_get(flow, "min_confidence");
	st->min_conf = v ? json_number_value(v) : 0.0;

	r = json_object_get(flow, "reprompt");
	st->reprompt_say = str_or(r, "say", DEF_REPROMPT);
	v = json_object_get(r, "max");
	st->reprompt_max = v ? (unsigned)json_integer_value(v) : 2;
	v = json_object_get(r, "fallback");
	st->fallback_say = str_or(v, "say", DEF_FALLBACK);
	st->fallback_next = str_or(v, "next", NULL);

	i = json_object_get(flow, "idle");
	st->idle_say = str_or(i, "say", DEF_IDLE);
	st->hangup_say = str_or(i, "hangup_say", DEF_HANGUP);
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
