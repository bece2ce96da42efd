/**
 * @file flow_text.c  The flow brain's texts: {name} templates filled
 * from the call's slots and saved results, and the reply they are added
 * to (an uninterruptible node's text as a segment of its own).
 */
#include <stdio.h>
#include <string.h>
#include <re.h>
#include "banter/banter.h"
#include "brain/flow_st.h"

/* A value for a {name.path} placeholder: a slot or part of a result. */
const json_t *flow_lookup(const struct flow_st *st, const char *name)
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

void flow_value_text(const json_t *v, char *buf, size_t sz)
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
void flow_render(const struct flow_st *st, const char *tmpl, bool speech,
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
				v = flow_lookup(st, name);
			flow_value_text(v, val, sizeof(val));
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
void flow_say(struct flow_st *st, const char *tmpl)
{
	char text[TEXT_MAX];
	size_t n;

	if (!tmpl || !*tmpl)
		return;
	flow_render(st, tmpl, true, text, sizeof(text));
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
void flow_say_uninterruptible(struct flow_st *st, const char *tmpl)
{
	const struct bt_brain_sink *sink = st->sink;

	if (!sink || !sink->segmenth) {
		flow_say(st, tmpl);
		return;
	}
	if (st->reply_len) {
		sink->texth(st->reply, sink->arg);
		st->reply_len = 0;
		st->reply[0] = '\0';
	}
	flow_say(st, tmpl);
	if (st->reply_len) {
		sink->segmenth(true, sink->arg);
		sink->texth(st->reply, sink->arg);
		sink->segmenth(false, sink->arg);
		st->reply_len = 0;
		st->reply[0] = '\0';
	}
}
