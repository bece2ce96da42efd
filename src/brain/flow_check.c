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
 * Nodes are checked in two passes: first what declares names (a node's
 * fields, its expect, its action's shape and save_as), then the rest, so
 * that a broken declaration is reported where it is.
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
	TYPE_SAVED = -2,            /**< declare(): a saved result */
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

/* Edit distance between two names (how far a typo is), at most 3. */
static unsigned distance(const char *a, const char *b)
{
	unsigned row[NAME_MAX_LEN + 1];
	size_t la = strlen(a), lb = strlen(b), i, j;

	if (la > NAME_MAX_LEN || lb > NAME_MAX_LEN)
		return 3;
	for (j = 0; j <= lb; j++)
		row[j] = (unsigned)j;
	for (i = 1; i <= la; i++) {
		unsigned diag = row[0];

		row[0] = (unsigned)i;
		for (j = 1; j <= lb; j++) {
			unsigned up = row[j], best = diag +
				(a[i - 1] != b[j - 1]);

			if (up + 1 < best)
				best = up + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			row[j] = best;
			diag = up;
		}
	}
	return row[lb] < 3 ? row[lb] : 3;
}

/*
 * What to do about {name}, which nothing declares: the node of that name
 * keeps no result or stores its answer under another name; a near name
 * (a typo); an action that keeps no result.
 */
static const char *unknown_hint(const struct chk *c, const char *name,
				char *buf, size_t sz)
{
	const json_t *node = json_object_get(c->nodes, name);
	const json_t *a = json_object_get(node, "action");
	const json_t *slot = json_object_get(json_object_get(node, "expect"),
					     "slot");
	unsigned best = 3, d, most = strlen(name) <= 3 ? 1 : 2;
	const char *key, *near = NULL;
	json_t *x;

	if (json_is_object(a) && !json_object_get(a, "save_as")) {
		snprintf(buf, sz, "node \"%s\" calls a tool but keeps no "
			 "result: add \"save_as\": \"%s\" to its action", name,
			 name);
		return buf;
	}
	if (json_is_string(slot)) {
		snprintf(buf, sz, "node \"%s\" stores its answer as {%s}: "
			 "write that", name, json_string_value(slot));
		return buf;
	}
	json_object_foreach(c->names, key, x) {
		d = distance(name, key);
		if (d < best) {
			best = d;
			near = key;
		}
	}
	if (near && best <= most && best < strlen(name)) {
		snprintf(buf, sz, "did you mean {%s}?", near);
		return buf;
	}
	json_object_foreach((json_t *)c->nodes, key, x) {
		a = json_object_get(x, "action");
		if (json_is_object(a) && !json_object_get(a, "save_as")) {
			snprintf(buf, sz, "if it is the result of node "
				 "\"%s\"'s tool, add \"save_as\": \"%s\" to "
				 "its action", key, name);
			return buf;
		}
	}
	return "fix the name, or fill it: a node's \"expect\" with "
	       "\"slot\", or an action's \"save_as\"";
}

/*
 * {name.field} into the result saved as `name`, when its tool says what
 * its result holds: a field of it, and a plain value (said as it is). The
 * whole result is said as nothing, but a lone "{name}" tool argument
 * passes it (`whole`).
 */
static int want_field(const struct chk *c, const char *path,
		      const json_t *d, const char *name, const char *field,
		      bool whole)
{
	const struct bt_tool *t = bt_tool_find(json_string_value(
		json_object_get(d, "tool")));
	char keys[256], part[PATH_LEN], sh[SHOWN_LEN], sh2[SHOWN_LEN];
	const char *rest;
	size_t i, len = 0;
	bool found = false;

	if (!t || !t->result_keys)
		return 0;
	keys[0] = '\0';
	for (i = 0; t->result_keys[i] && len < sizeof(keys); i++)
		len += (size_t)snprintf(keys + len, sizeof(keys) - len,
					"%s%s", len ? ", " : "",
					t->result_keys[i]);
	if (!field) {
		if (whole)
			return 0;
		return cfail(c->pathp, path, "\"%s\" uses {%s}, the whole "
			     "result of %s, which is said as nothing; say one "
			     "of its fields (%s), e.g. {%s.%s}", path, name,
			     t->name, keys, name, t->result_keys[0] ?
			     t->result_keys[0] : "field");
	}
	rest = strchr(field, '.');
	str_ncpy(part, field, rest && (size_t)(rest - field) < sizeof(part) ?
		 (size_t)(rest - field) + 1 : sizeof(part));
	for (i = 0; t->result_keys[i]; i++)
		found = found || !strcmp(t->result_keys[i], part);
	if (!found)
		return cfail(c->pathp, path, "\"%s\" uses {%s.%s}, but the "
			     "result of %s (saved as \"%s\") has no \"%s\"; "
			     "its fields are %s; write e.g. {%s.%s}", path, name,
			     shown(field, sh, sizeof(sh)), t->name, name,
			     shown(part, sh2, sizeof(sh2)), keys, name,
			     t->result_keys[0] ? t->result_keys[0] : "field");
	if (rest)
		return cfail(c->pathp, path, "\"%s\" uses {%s.%s}, but \"%s\" "
			     "in the result of %s is a single value with no "
			     "parts; write {%s.%s}", path, name,
			     shown(field, sh, sizeof(sh)), part, t->name, name,
			     part);
	return 0;
}

/* "{party}" for "{ party }" when that is a name; "e.g. {party}" if not. */
static const char *trimmed(const struct chk *c, const char *name, char *buf,
			   size_t sz)
{
	size_t a = strspn(name, " "), n = strlen(name);

	while (n > a && name[n - 1] == ' ')
		n--;
	if (n > a && n - a + 3 <= sz) {
		snprintf(buf, sz, "%.*s", (int)(n - a), name + a);
		if (strchr(buf, '.'))
			*strchr(buf, '.') = '\0';
		if (json_object_get(c->names, buf)) {
			snprintf(buf, sz, "{%.*s}", (int)(n - a), name + a);
			return buf;
		}
	}
	return "e.g. {party}";
}

/*
 * The name inside one placeholder: a slot, or a saved result and a path
 * into it. `whole`: a tool argument that is this placeholder alone, which
 * may pass a result whole.
 */
static int want_name(const struct chk *c, const char *path, const char *s,
		     size_t n, bool whole)
{
	char name[PATH_LEN], part[PATH_LEN], sh[SHOWN_LEN], list[LIST_LEN];
	char hint[NAME_MAX_LEN * 2 + 120];
	const char *p, *dot;
	const json_t *d;
	char *cut;
	size_t k;

	if (!n)
		return cfail(c->pathp, path, "\"%s\" has an empty {}; put a "
			     "name in it, e.g. {party}, or write {{}} for "
			     "braces", path);
	k = n < sizeof(name) ? n : sizeof(name) - 1;
	memcpy(name, s, k);
	name[k] = '\0';
	for (p = name; ; p = dot + 1) {
		dot = strchr(p, '.');
		k = dot ? (size_t)(dot - p) : strlen(p);
		memcpy(part, p, k);
		part[k] = '\0';
		if (n >= sizeof(name) || !valid_id(part) ||
		    k > NAME_MAX_LEN)
			return cfail(c->pathp, path, "\"%s\" has {%s}, which is "
				     "not a name: a name is letters, digits, _ "
				     "or - (at most %d), with dots only into a "
				     "saved result ({booking.booking_id}); "
				     "write %s", path,
				     shown(name, sh, sizeof(sh)),
				     NAME_MAX_LEN, trimmed(c, name, part,
							   sizeof(part)));
		if (!dot)
			break;
	}

	/* name: the head, and dot + 1 the path into it */
	cut = strchr(name, '.');
	if (cut)
		*cut = '\0';
	dot = cut;
	d = json_object_get(c->names, name);
	if (!d)
		return cfail(c->pathp, path, "\"%s\" uses {%s}, but no node "
			     "fills a slot or saves a result of that name "
			     "(known names: %s); %s", path, name,
			     key_list(c->names, list, sizeof(list)),
			     unknown_hint(c, name, hint, sizeof(hint)));
	if (dot && !json_object_get(d, "saved")) {
		int type = (int)json_integer_value(json_object_get(d, "type"));

		return cfail(c->pathp, path, "\"%s\" uses {%s.%s}, but %s is "
			     "a slot (%s), a single value with no parts; "
			     "write {%s}", path, name, shown(dot + 1, sh,
							    sizeof(sh)),
			     name, type >= 0 ? slot_type_to_name(type) :
			     "filled by several nodes", name);
	}
	if (json_object_get(d, "saved") && !json_object_get(d, "type"))
		return want_field(c, path, d, name, dot ? dot + 1 : NULL,
				  whole);
	return 0;
}

/* A "{" or "}" that is no placeholder: where, for the message. */
static const char *excerpt(const char *text, const char *at, char *buf,
			   size_t sz)
{
	const char *a = at - text > 16 ? at - 16 : text;
	const char *b = at + 1;
	size_t i;

	for (i = 0; i < 16 && *b; i++)
		b++;
	while (a > text && ((unsigned char)*a & 0xc0) == 0x80)
		a--;
	while (*b && ((unsigned char)*b & 0xc0) == 0x80)
		b++;
	snprintf(buf, sz, "%s%.*s%s", a > text ? "..." : "", (int)(b - a), a,
		 *b ? "..." : "");
	return buf;
}

/*
 * A text (a template): not too long, and every placeholder in it one
 * that renders (flow_tmpl_next, as the call reads it). `arg`: a tool's
 * argument, where a lone placeholder keeps its value's type.
 */
static int want_text(const struct chk *c, const json_t *v, const char *path,
		     const char *example, bool arg)
{
	const char *text, *p;
	struct tmpl_part part;
	const char *lone;
	size_t lone_n;
	bool whole;
	int err = want_string(c, v, path, example);

	if (err)
		return err;
	if (json_string_length(v) >= TEXT_MAX)
		return cfail(c->pathp, path, "\"%s\" is %zu bytes; a text is "
			     "at most %d (said in one breath: split it over "
			     "two nodes)", path, json_string_length(v),
			     TEXT_MAX - 1);
	text = json_string_value(v);
	whole = arg && flow_tmpl_lone(text, &lone, &lone_n);
	for (p = text; flow_tmpl_next(&p, &part); ) {
		char ex[64];

		if (part.kind == TMPL_NAME)
			err = want_name(c, path, part.s, part.n, whole);
		else if (part.kind == TMPL_BAD && *part.s == '{')
			err = cfail(c->pathp, path, "\"%s\" has a \"{\" that is "
				    "not closed (at \"%s\"); write {name} to "
				    "say a slot, or {{ for a brace", path,
				    excerpt(text, part.s, ex, sizeof(ex)));
		else if (part.kind == TMPL_BAD)
			err = cfail(c->pathp, path, "\"%s\" has a \"}\" that no "
				    "\"{\" opens (at \"%s\"); write {name} to "
				    "say a slot, or }} for a brace", path,
				    excerpt(text, part.s, ex, sizeof(ex)));
		if (err)
			return err;
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
	return want_text(c, v, full, example, false);
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
	brief(x, got, sizeof(got));
	if (gives != (int)d->type)
		return cfail(c->pathp, path, "\"%s\" is %s%s, but %s needs "
			     "\"%s\" to be %s; pass e.g. %s", path, got, what,
			     t->name, d->name, arg_kind(d, kind, sizeof(kind)),
			     suggest(c, d, ex, sizeof(ex)));
	if (d->type != BT_TOOL_ARG_INT || (min >= d->min && max <= d->max))
		return 0;
	if (!decl)
		return cfail(c->pathp, path, "\"%s\" is %s, but %s takes "
			     "\"%s\" from %lld to %lld; pass a number in that "
			     "range", path, got, t->name, d->name,
			     (long long)d->min, (long long)d->max);
	return cfail(c->pathp, path, "\"%s\" is %s%s, but %s takes \"%s\" "
		     "from %lld to %lld, so some answers would fail in the "
		     "call; set \"flow.nodes.%s.expect.%s\" to %s %lld", path,
		     got, what, t->name, d->name, (long long)d->min,
		     (long long)d->max,
		     json_string_value(json_object_get(decl, "node")),
		     max > d->max ? "max" : "min",
		     max > d->max ? "at most" : "at least",
		     (long long)(max > d->max ? d->max : d->min));
}

static int check_action(const struct chk *c, const json_t *a,
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
	subpath(full, sizeof(full), path, "tool");
	v = json_object_get(a, "tool");
	if (!v)
		return cfail(c->pathp, path, "\"%s\" is missing; add e.g. "
			     "\"tool\": \"booking.save\"", full);
	err = want_string(c, v, full, "booking.save");
	if (err)
		return err;
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
		return cfail(c->pathp, full, "\"%s\" is \"%s\", but no tool of "
			     "that name is registered; registered: %s; use "
			     "one of those", full,
			     shown(json_string_value(v), got, sizeof(got)),
			     len ? names : "none");
	}

	tool = bt_tool_find(json_string_value(v));
	args = json_object_get(a, "args");
	if (args) {
		subpath(full, sizeof(full), path, "args");
		err = want_object(c, args, full);
		if (err)
			return err;
		json_object_foreach((json_t *)args, key, x) {
			const struct bt_tool_arg *d = tool_arg(tool, key);
			char args_path[FULL_LEN];

			subpath(args_path, sizeof(args_path), path, "args");
			subpath(full, sizeof(full), args_path, key);
			if (tool->args && !d)
				return cfail(c->pathp, full, "\"%s\": %s takes "
					     "no argument \"%s\"; it takes %s; "
					     "remove it or fix the name", full,
					     tool->name, shown(key, got,
							       sizeof(got)),
					     arg_names(tool, names,
						       sizeof(names)));
			if (json_is_string(x)) {
				err = want_text(c, x, full, "{party}", true);
				if (err)
					return err;
			}
			else if (json_is_object(x) || json_is_array(x)) {
				brief(x, got, sizeof(got));
				return cfail(c->pathp, full, "\"%s\" must be a "
					     "string (\"{slot}\"), a number or "
					     "true/false (got %s)", full, got);
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
			return cfail(c->pathp, path, "\"%s\" has no \"args\", "
				     "but %s needs %s; add e.g. \"args\": "
				     "{\"%s\": %s, ...}", path, tool->name,
				     arg_names(tool, names, sizeof(names)),
				     d->name, suggest(c, d, ex, sizeof(ex)));
		subpath(full, sizeof(full), path, "args");
		return cfail(c->pathp, full, "\"%s\" lacks \"%s\", which %s "
			     "needs (%s); add \"%s\": %s", full, d->name,
			     tool->name, arg_kind(d, got, sizeof(got)),
			     d->name, suggest(c, d, ex, sizeof(ex)));
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

	/* its name, shape, fields and expect: declare_node() */
	subpath(path, sizeof(path), "flow.nodes", id);
	if (json_object_get(n, "uninterruptible") &&
	    !json_is_boolean(json_object_get(n, "uninterruptible"))) {
		subpath(full, sizeof(full), path, "uninterruptible");
		brief(json_object_get(n, "uninterruptible"), got, sizeof(got));
		return cfail(c->pathp, full, "\"%s\" must be true or false "
			     "(got %s)", full, got);
	}

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
	if (e)
		type = slot_type_from_name(json_string_value(
			json_object_get(e, "type")));

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
static int check_args_set(const struct chk *c, const json_t *flow,
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
		subpath(path, sizeof(path), "flow.nodes", id);
		subpath(path, sizeof(path), path, "action");
		subpath(path, sizeof(path), path, "args");
		subpath(path, sizeof(path), path, t->args[i].name);
		return cfail(c->pathp, path, "\"%s\" is \"%s\", but the call "
			     "can reach node \"%s\" before {%s} is set (%s), "
			     "and %s would fail; fill it on every way there, or "
			     "lead those edges elsewhere", path,
			     shown(json_string_value(x), sh, sizeof(sh)), id,
			     name, way, t->name);
	}
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
	if (err)
		return err;

	e = json_object_get(n, "expect");
	if (e) {
		const json_t *mn = json_object_get(e, "min");
		const json_t *mx = json_object_get(e, "max");
		const char *slot = json_string_value(json_object_get(e,
								     "slot"));

		subpath(full, sizeof(full), path, "expect");
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
	subpath(full, sizeof(full), path, "action");
	if (json_is_string(a))
		return cfail(c->pathp, full, "\"%s\" must be an object that "
			     "names the tool and what it gets, {\"tool\": "
			     "\"%s\", \"args\": {...}, \"save_as\": "
			     "\"booking\"} (got a string); see "
			     "docs/agent-file.md", full,
			     shown(json_string_value(a), got, sizeof(got)));
	err = want_object(c, a, full);
	if (!err)
		err = keys_ok(c, a, full, " tool args save_as on_error ");
	if (err)
		return err;
	v = json_object_get(a, "save_as");
	if (!v)
		return 0;
	subpath(full, sizeof(full), full, "save_as");
	if (!json_is_string(v) || !valid_id(json_string_value(v)) ||
	    json_string_length(v) > NAME_MAX_LEN) {
		brief(v, got, sizeof(got));
		return cfail(c->pathp, full, "\"%s\" must be a name of letters, "
			     "digits, _ or - (at most %d) (got %s); set it to "
			     "e.g. \"booking\", and the texts can say "
			     "{booking.booking_id}", full, NAME_MAX_LEN, got);
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
	json_object_foreach((json_t *)c.nodes, id, n) {
		err = declare_node(&c, id, n);
		if (err)
			goto out;
	}

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
		err = check_args_set(&c, flow, id, n);
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
