/**
 * @file flow_check_util.c  The flow check's helpers (flow_check.c,
 *                          flow_check_tools.c): one value checked against
 *                          what it must be (an object, a non-empty
 *                          string, an integer in a range, a confidence,
 *                          an edge to a node, a text whose {placeholders}
 *                          render and name what some node fills), and
 *                          the message that says what to do when it is
 *                          not: the field's path, what it got, a near
 *                          name for a typo.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <re.h>
#include "banter/banter.h"
#include "brain/flow_check.h"
#include "brain/flow_int.h"
#include "brain/slots.h"

enum {
	LIST_MAX = 200,             /**< a list of names in a message */
	LIST_LEN = LIST_MAX + SHOWN_LEN + 8,
};

/* The path of a check error; "static" as brain.h asks (one per thread). */
static __thread char check_path[PATH_LEN];

int fc_fail(const char **pathp, const char *path, const char *fmt, ...)
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
					bt_json_shown(key, s, sizeof(s)));
	}
	return len ? buf : "none";
}

bool fc_valid_id(const char *s)
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
void fc_subpath(char *buf, size_t sz, const char *path, const char *key)
{
	bt_json_path_add(buf, sz, path, key);
}

int fc_keys_ok(const struct chk *c, const json_t *obj, const char *path,
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
		fc_subpath(full, sizeof(full), path, key);
		return fc_fail(c->pathp, full,
			       "unknown field \"%s\"; the fields of \"%s\" "
			       "are %s; check the spelling", full, path,
			       commas(valid, list, sizeof(list)));
	}
	return 0;
}

int fc_want_object(const struct chk *c, const json_t *v,
		   const char *path)
{
	char got[64];

	if (json_is_object(v))
		return 0;
	bt_json_brief(v, got, sizeof(got));
	return fc_fail(c->pathp, path, "\"%s\" must be an object ({...}) "
		       "(got %s); see docs/agent-file.md", path, got);
}

int fc_want_string(const struct chk *c, const json_t *v,
		   const char *path, const char *example)
{
	char got[64];

	if (json_is_string(v) && json_string_length(v))
		return 0;
	bt_json_brief(v, got, sizeof(got));
	return fc_fail(c->pathp, path, "\"%s\" must be a non-empty string "
		       "(got %s); set it to e.g. \"%s\"", path, got, example);
}

int fc_want_int(const struct chk *c, const json_t *v, const char *path,
		json_int_t min, json_int_t max, json_int_t example)
{
	char got[64];

	if (json_is_integer(v) && json_integer_value(v) >= min &&
	    json_integer_value(v) <= max)
		return 0;
	bt_json_brief(v, got, sizeof(got));
	return fc_fail(c->pathp, path, "\"%s\" must be an integer between %"
		       JSON_INTEGER_FORMAT " and %" JSON_INTEGER_FORMAT
		       " (got %s); set it to e.g. %" JSON_INTEGER_FORMAT, path,
		       min, max, got, example);
}

int fc_want_conf(const struct chk *c, const json_t *v, const char *path)
{
	char got[64];

	if (json_is_number(v) && json_number_value(v) >= 0.0 &&
	    json_number_value(v) <= 1.0)
		return 0;
	bt_json_brief(v, got, sizeof(got));
	return fc_fail(c->pathp, path, "\"%s\" must be a number between 0 and "
		       "1 (got %s); set it to e.g. 0.4", path, got);
}

/* An edge: a string naming an existing node. */
int fc_want_node(const struct chk *c, const json_t *v, const char *path)
{
	char list[LIST_LEN], name[SHOWN_LEN];
	int err;

	err = fc_want_string(c, v, path, "goodbye");
	if (err)
		return err;
	if (json_object_get(c->nodes, json_string_value(v)))
		return 0;

	return fc_fail(c->pathp, path, "\"%s\" goes to node \"%s\", which does "
		       "not exist; the nodes are %s; fix the name or add the "
		       "node to \"flow.nodes\"", path,
		       bt_json_shown(json_string_value(v), name, sizeof(name)),
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
 * A hint into buf; a long name cuts it short, which still reads. Through a
 * va_list, since at -O1 (the sanitizer build) gcc sizes the names and
 * warns of the truncation that is meant here.
 */
static const char *hintf(char *buf, size_t sz, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sz, fmt, ap);
	va_end(ap);
	return buf;
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
		return hintf(buf, sz, "node \"%s\" calls a tool but keeps "
			     "no result: add \"save_as\": \"%s\" to its "
			     "action", name, name);
	}
	if (json_is_string(slot)) {
		return hintf(buf, sz, "node \"%s\" stores its answer as "
			     "{%s}: write that", name,
			     json_string_value(slot));
	}
	json_object_foreach(c->names, key, x) {
		d = distance(name, key);
		if (d < best) {
			best = d;
			near = key;
		}
	}
	if (near && best <= most && best < strlen(name)) {
		return hintf(buf, sz, "did you mean {%s}?", near);
	}
	json_object_foreach((json_t *)c->nodes, key, x) {
		a = json_object_get(x, "action");
		if (json_is_object(a) && !json_object_get(a, "save_as")) {
			return hintf(buf, sz, "if it is the result of node "
				     "\"%s\"'s tool, add \"save_as\": "
				     "\"%s\" to its action", key, name);
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
		return fc_fail(c->pathp, path, "\"%s\" uses {%s}, the whole "
			       "result of %s, which is said as nothing; say "
			       "one of its fields (%s), e.g. {%s.%s}", path,
			       name, t->name, keys, name, t->result_keys[0] ?
			       t->result_keys[0] : "field");
	}
	rest = strchr(field, '.');
	str_ncpy(part, field, rest && (size_t)(rest - field) < sizeof(part) ?
		 (size_t)(rest - field) + 1 : sizeof(part));
	for (i = 0; t->result_keys[i]; i++)
		found = found || !strcmp(t->result_keys[i], part);
	if (!found)
		return fc_fail(c->pathp, path, "\"%s\" uses {%s.%s}, but the "
			       "result of %s (saved as \"%s\") has no \"%s\"; "
			       "its fields are %s; write e.g. {%s.%s}", path,
			       name, bt_json_shown(field, sh, sizeof(sh)), t->name,
			       name,
			       bt_json_shown(part, sh2, sizeof(sh2)), keys, name,
			       t->result_keys[0] ? t->result_keys[0] : "field");
	if (rest)
		return fc_fail(c->pathp, path, "\"%s\" uses {%s.%s}, but "
			       "\"%s\" in the result of %s is a single value "
			       "with no parts; write {%s.%s}", path, name,
			       bt_json_shown(field, sh, sizeof(sh)), part, t->name,
			       name, part);
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
		return fc_fail(c->pathp, path, "\"%s\" has an empty {}; put a "
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
		if (n >= sizeof(name) || !fc_valid_id(part) ||
		    k > NAME_MAX_LEN)
			return fc_fail(c->pathp, path, "\"%s\" has {%s}, which "
				       "is not a name: a name is letters, "
				       "digits, _ or - (at most %d), with dots "
				       "only into a saved result "
				       "({booking.booking_id}); write %s", path,
				       bt_json_shown(name, sh, sizeof(sh)),
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
		return fc_fail(c->pathp, path, "\"%s\" uses {%s}, but no node "
			       "fills a slot or saves a result of that name "
			       "(known names: %s); %s", path, name,
			       key_list(c->names, list, sizeof(list)),
			       unknown_hint(c, name, hint, sizeof(hint)));
	if (dot && !json_object_get(d, "saved")) {
		int type = (int)json_integer_value(json_object_get(d, "type"));

		return fc_fail(c->pathp, path, "\"%s\" uses {%s.%s}, but %s is "
			       "a slot (%s), a single value with no parts; "
			       "write {%s}", path, name, bt_json_shown(dot + 1, sh,
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
int fc_want_text(const struct chk *c, const json_t *v, const char *path,
		 const char *example, bool arg)
{
	const char *text, *p;
	struct tmpl_part part;
	const char *lone;
	size_t lone_n;
	bool whole;
	int err = fc_want_string(c, v, path, example);

	if (err)
		return err;
	if (json_string_length(v) >= TEXT_MAX)
		return fc_fail(c->pathp, path, "\"%s\" is %zu bytes; a text is "
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
			err = fc_fail(c->pathp, path, "\"%s\" has a \"{\" that "
				      "is not closed (at \"%s\"); write {name} "
				      "to say a slot, or {{ for a brace", path,
				      excerpt(text, part.s, ex, sizeof(ex)));
		else if (part.kind == TMPL_BAD)
			err = fc_fail(c->pathp, path, "\"%s\" has a \"}\" that "
				      "no \"{\" opens (at \"%s\"); write "
				      "{name} to say a slot, or }} for a "
				      "brace", path,
				      excerpt(text, part.s, ex, sizeof(ex)));
		if (err)
			return err;
	}
	return 0;
}

int fc_check_opt_text(const struct chk *c, const json_t *obj,
		      const char *key, const char *path,
		      const char *example)
{
	const json_t *v = json_object_get(obj, key);
	char full[FULL_LEN];

	if (!v)
		return 0;
	fc_subpath(full, sizeof(full), path, key);
	return fc_want_text(c, v, full, example, false);
}

int fc_check_opt_node(const struct chk *c, const json_t *obj,
		      const char *key, const char *path)
{
	const json_t *v = json_object_get(obj, key);
	char full[FULL_LEN];

	if (!v)
		return 0;
	fc_subpath(full, sizeof(full), path, key);
	return fc_want_node(c, v, full);
}
