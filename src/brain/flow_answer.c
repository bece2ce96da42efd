/**
 * @file flow_answer.c  Reading the caller's answer at a flow question
 * (a slot of its type, a global intent, a request to repeat) and the
 * confirmation band: an answer heard at or above min_confidence but under
 * confirm_below is asked back ("three, is that right?") before it is
 * taken.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <re.h>
#include "banter/banter.h"
#include "brain/flow_st.h"
#include "brain/slots.h"

/* No answer waits for confirmation (any more). */
void flow_confirm_clear(struct flow_st *st)
{
	st->confirm.on = false;
	st->confirm.unclear = 0;
	json_decref(st->confirm.val);
	st->confirm.val = NULL;
	st->confirm.next = NULL;
}

/*
 * The caller asks for the question again ("sorry, what?", "can you repeat
 * that"): the recogniser hears these at every question (ps_grammar.c,
 * <other>). The agent repeats the question; it is not a failed answer.
 */
bool flow_asks_repeat(const char *norm)
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

const json_t *flow_match_intent(const struct flow_st *st, const char *norm)
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
const char *flow_read_answer(const struct flow_st *st, const char *norm,
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
void flow_keep_answer(struct flow_st *st, json_t *val, const char *spoken)
{
	const char *slot = bt_json_str_or(json_object_get(st->curnode,
							  "expect"),
					  "slot", st->cur);

	json_object_set_new(st->vars, slot, val);
	json_object_set_new(st->spoken, slot, json_string(spoken));
}

/* ---- the confirmation band ---- */

/* The current node's confirm_below; 0: no band. */
double flow_confirm_below(const struct flow_st *st)
{
	const json_t *cb = json_object_get(json_object_get(st->curnode,
							   "expect"),
					   "confirm_below");

	return cb ? json_number_value(cb) : st->confirm_below;
}

void flow_confirm_say(struct flow_st *st)
{
	const char *tmpl = json_string_value(json_object_get(
		json_object_get(st->curnode, "expect"), "confirm_say"));
	char text[TEXT_MAX + 32];

	if (tmpl) {
		st->tmpl_value = st->confirm.spoken;
		flow_say(st, tmpl);
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
void flow_confirm_ask(struct flow_st *st, json_t *val, const char *spoken,
		      const char *next)
{
	flow_confirm_clear(st);
	st->confirm.on = true;
	st->confirm.val = val;
	str_ncpy(st->confirm.spoken, spoken, sizeof(st->confirm.spoken));
	st->confirm.next = next;
	flow_confirm_say(st);
}

/* The caller said yes: the value is taken and the flow goes on. */
static void confirm_take(struct flow_st *st)
{
	const char *next = st->confirm.next;

	flow_keep_answer(st, json_incref(st->confirm.val), st->confirm.spoken);
	flow_confirm_clear(st);
	flow_enter(st, next);
}

/* Neither yes nor no (or silence): the confirmation once more, then the
 * question again. */
void flow_confirm_unclear(struct flow_st *st)
{
	if (!st->confirm.unclear++) {
		flow_confirm_say(st);
		return;
	}
	flow_confirm_clear(st);
	flow_ask_again(st);
}

/*
 * The answer to "<value>, is that right?": yes takes the value, no asks
 * the question again. A new value of the slot's type said instead ("no,
 * eight pm") is taken if it is itself above the band; the same value
 * said again is a yes.
 */
void flow_on_confirm(struct flow_st *st, const struct bt_brain_input *in,
		     const char *norm, double min)
{
	int type = flow_expect_type(st->curnode);
	char spoken[TEXT_MAX];
	json_t *val = NULL;
	const char *next = NULL;
	bool yes = false, yn;

	if (!norm[0] || in->confidence < min) {
		flow_confirm_unclear(st);
		return;
	}
	yn = !slot_yesno_parse(norm, &yes);
	if (type == BT_SLOT_NUMBER || type == BT_SLOT_DAY ||
	    type == BT_SLOT_TIME)
		next = flow_read_answer(st, norm, &val, spoken, sizeof(spoken));
	if (next) {
		bool same = json_equal(val, st->confirm.val);

		if (same && (!yn || yes)) {
			json_decref(val);
			confirm_take(st);
		}
		else if (!same && in->confidence >= flow_confirm_below(st)) {
			flow_confirm_clear(st);
			flow_keep_answer(st, val, spoken);
			flow_enter(st, next);
		}
		else {
			json_decref(val);
			flow_confirm_clear(st);
			flow_ask_again(st);
		}
		return;
	}
	if (yn && yes) {
		confirm_take(st);
		return;
	}
	if (yn) {
		flow_confirm_clear(st);
		flow_ask_again(st);
		return;
	}
	if (flow_asks_repeat(norm)) {
		flow_confirm_say(st);
		return;
	}
	flow_confirm_unclear(st);
}
