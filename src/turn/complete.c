/**
 * @file complete.c  Rules for "has the user finished saying it?".
 *
 * Why rules: the question is asked on every new partial transcript and
 * again at every pause, in microseconds, and its answer has to be
 * explainable in the trace ("ends in a preposition"). A handful of
 * English facts catch most premature endpoints:
 *  - a clause cannot end in a conjunction, article, preposition,
 *    possessive or filler ("a table for", "my", "um") - except known
 *    idioms ("i think so", "hold on", "count me in") and a preposition
 *    stranded at the end of a wh-question ("what is that for");
 *  - a number being read digit by digit continues until it has the
 *    length of a phone number (7, 10 or 11 digits); "twenty", "hundred",
 *    "half past", "point" announce more;
 *  - a question that has its verb but no object ("do you have", "can i",
 *    "what are your") is half asked;
 *  - a verb that needs an object ("i want", "could you tell me") is not
 *    an answer;
 *  - when the agent waits for a slot, a short reply without a value of
 *    that type is likely a lead-in ("uh for", "we are"); with the value
 *    it is done ("three people"); a time with only the hour ("seven") is
 *    medium: "seven" is a fine answer, but "seven thirty" may be coming;
 *  - polite endings ("please", "thanks") and greetings close a turn.
 * The first rule that matches decides; the order goes from the most
 * specific to the most general. Scores are levels (0.05 .. 0.95) that the
 * endpointer maps to waiting times, not probabilities.
 *
 * Cost: one pass to split at most 512 bytes into words, then a few dozen
 * string compares against short tables per rule: ~5-20 us, no allocation.
 */
#include <ctype.h>
#include <stdbool.h>
#include <string.h>
#include <re.h>
#include "turn/complete.h"
#include "turn/complete_int.h"


/* ---- numbers (the word lists are in complete_words.c) ---- */

static const char SHORT_ANSWER[] = "short answer (pronoun and verb)";

/* A number that can be an hour: 1..12 as a word or digits (7, 7:30). */
static bool is_hour(const char *w)
{
	static const char *const hours[] = {
		"one", "two", "three", "four", "five", "six", "seven",
		"eight", "nine", "ten", "eleven", "twelve", NULL
	};
	int h = 0;

	if (cw_numeric(w)) {
		for (; isdigit((unsigned char)*w) && h < 100; w++)
			h = h * 10 + (*w - '0');
		return h >= 1 && h <= 24;
	}
	return cw_in(w, hours);
}

static bool is_digit_word(const char *w)
{
	return cw_in(w, cw_digits) || (cw_numeric(w) && !strchr(w, ':'));
}

/* Digits read one by one at the end ("five five five one" -> 4);
 * a token "555" counts its digits. */
static size_t digit_run(const struct words *ws, const char **first)
{
	size_t run = 0, i;

	*first = "";
	for (i = 0; i < ws->n; i++) {
		const char *w = cw_word(ws, i);

		if (!is_digit_word(w))
			break;
		/* "oh" and "o" are digits only next to other digits */
		run += cw_numeric(w) ? strlen(w) : 1;
		*first = w;
	}
	if (run == 1 && (!strcmp(cw_word(ws, 0), "oh") ||
			 !strcmp(cw_word(ws, 0), "o")))
		return 0;
	return run;
}

/* A number read from a leading zero: a national number with its trunk
 * prefix ("oh two oh ..."), 10 or 11 digits in most countries. */
static bool trunk_zero(const char *first)
{
	return !strcmp(first, "oh") || !strcmp(first, "o") ||
		!strcmp(first, "zero") || first[0] == '0';
}

/* Index of the first word of the last clause. */
static size_t clause_start(const struct words *ws)
{
	size_t i;

	for (i = ws->n; i > 0; i--) {
		if (cw_in(ws->v[i - 1], cw_boundary) && i < ws->n)
			return i;
	}
	return 0;
}

static bool is_count(const char *w)
{
	return cw_number(w) || cw_in(w, cw_count_words);
}

static bool is_day(const char *w)
{
	return cw_in(w, cw_days);
}

/* ---- slots ---- */

/* 0: none, 1: partial (hour only, month only), 2: full */
static int slot_level(const struct words *ws, enum bt_slot_type t)
{
	size_t i;

	switch (t) {
	case BT_SLOT_NUMBER:
		if (cw_any_word(ws, 0, is_count) ||
		    cw_ends_with(ws, "just me") || cw_ends_with(ws, "only me"))
			return 2;
		return 0;

	case BT_SLOT_DAY:
		if (cw_any_word(ws, 0, is_day) || cw_any_in(ws, 0, cw_ordinals))
			return 2;
		for (i = 0; i < ws->n; i++) {
			/* "june" alone: the day may follow */
			if (cw_in(ws->v[i], cw_months))
				return i + 1 < ws->n &&
					cw_number(ws->v[i + 1]) ? 2 : 1;
		}
		if (cw_ends_with(ws, "next week") ||
		    cw_ends_with(ws, "day after tomorrow"))
			return 2;
		return 0;

	case BT_SLOT_TIME:
		for (i = 0; i < ws->n; i++) {
			const char *w = ws->v[i];

			if (!strcmp(w, "noon") || !strcmp(w, "midnight") ||
			    strchr(w, ':'))
				return 2;
		}
		if (!cw_any_word(ws, 0, is_hour))
			return 0;
		/* an hour with am/pm, o'clock, minutes, "half past" */
		if (cw_any_in(ws, 0, cw_time_marks) ||
		    cw_ends_with(ws, "p m") || cw_ends_with(ws, "a m"))
			return 2;
		for (i = 1; i < ws->n; i++) {
			const char *a = ws->v[i - 1], *b = ws->v[i];

			if (((!strcmp(a, "past") || !strcmp(a, "to")) &&
			     is_hour(b)) ||
			    (is_hour(a) && (cw_number(b) ||
					    !strcmp(b, "oh"))))
				return 2;
		}
		return 1;

	case BT_SLOT_YESNO:
		return cw_any_in(ws, 0, cw_yesno) ||
			cw_any_in(ws, 0, cw_neg_contr) ? 2 : 0;

	case BT_SLOT_TEXT:
	default:
		return 0;
	}
}

/* ---- the rules ---- */

struct verdict {
	float score;
	const char *rule;
};

static bool verdict(struct verdict *v, float score, const char *rule)
{
	v->score = score;
	v->rule = rule;
	return true;
}

static bool rule_numbers(const struct words *ws, enum bt_slot_type t,
			 struct verdict *v)
{
	const char *l = cw_word(ws, 0), *p = cw_word(ws, 1), *first;
	size_t run = digit_run(ws, &first);

	/* "seven oh five", "seven fifteen": a time, not digits */
	if (run >= 2 && !(t == BT_SLOT_TIME && run <= 3)) {
		if (run == 10 || run == 11)
			return verdict(v, 0.85f, "a full phone number");
		if (run < 10 && trunk_zero(first))
			return verdict(v, 0.15f, "a national number (from 0) "
				       "still being read");
		if (run == 7)
			return verdict(v, 0.55f, "seven digits: a local "
				       "number, or more to come");
		if (run >= 12)
			return verdict(v, 0.5f, "a long digit string");
		return verdict(v, 0.15f, "digits still being read");
	}
	if (cw_in(l, cw_tens)) {
		/* "seven thirty" is a time; "seven twenty" may get a five.
		 * Where the agent asked no time, "around seven thirty" is
		 * still one (a phrase's level), not a number half said */
		if (t == BT_SLOT_TIME && is_hour(p))
			return verdict(v, strcmp(l, "thirty") ? 0.5f : 0.9f,
				       "hour and minutes");
		if (is_hour(p) && !cw_numeric(p))
			return verdict(v, strcmp(l, "thirty") ? 0.5f : 0.7f,
				       "an hour and minutes");
		return verdict(v, 0.25f, "a tens number, the units may come");
	}
	if (!strcmp(l, "hundred") || !strcmp(l, "thousand"))
		return verdict(v, 0.4f, "a number that may go on");
	if (!strcmp(l, "point") || !strcmp(l, "minus") || !strcmp(l, "plus"))
		return verdict(v, 0.1f, "a number half said");
	if (!strcmp(l, "past"))
		return verdict(v, 0.1f, "a time half said");
	/* "at half", "a quarter" - but "two and a half" is a number */
	if ((!strcmp(l, "quarter") || !strcmp(l, "half")) &&
	    ((!strcmp(p, "a") && strcmp(cw_word(ws, 2), "and")) ||
	     !strcmp(p, "at") || !strcmp(p, "about") || ws->n == 1))
		return verdict(v, 0.15f, "a time half said");
	if (!strcmp(l, "oh") && is_hour(p))
		return verdict(v, 0.2f, "a time half said");
	return false;
}

static bool rule_function_word(const struct words *ws, size_t cs, bool q,
			       struct verdict *v)
{
	const char *l = cw_word(ws, 0);

	if (cw_ends_with_any(ws, cw_idioms))
		return verdict(v, 0.85f, "idiomatic ending");
	/* "come on!" is an idiom where it opens the clause; "we'd like to
	 * come on" waits for the day */
	if (cw_ends_with(ws, "come on") && ws->n - cs == 2)
		return verdict(v, 0.85f, "idiomatic ending");

	/* "what is that for", "where are you from": fine in a question;
	 * not "what i'd really like", a free relative (complete_fragment) */
	if (q && cw_in(l, cw_stranded_prep) && ws->n - cs >= 4 &&
	    cw_in(ws->v[cs], cw_wh) && cw_has_verb(ws, cs) &&
	    !cw_in(ws->v[cs + 1], cw_subj) &&
	    !cw_in(ws->v[cs + 1], cw_subj_contr))
		return verdict(v, 0.6f, "question ending in a preposition");

	if (cw_in(l, cw_conj_art)) {
		if (!strcmp(l, "and") || !strcmp(l, "or"))
			return verdict(v, 0.05f, "a list or clause goes on");
		return verdict(v, 0.05f, "ends in a conjunction or article");
	}
	if (cw_in(l, cw_function_end))
		return verdict(v, 0.1f, "ends in a function word");
	return false;
}

/* Whether the utterance holds a yes/no word before the last clause,
 * so that "yes i do" reads as a short answer. */
static bool answered(const struct words *ws, size_t cs)
{
	size_t i;

	for (i = 0; i < cs; i++) {
		if (cw_in(ws->v[i], cw_yesno) || !strcmp(ws->v[i], "so") ||
		    !strcmp(ws->v[i], "neither"))
			return true;
	}
	return false;
}

static bool rule_clause(const struct words *ws, size_t cs, bool q,
			enum bt_slot_type t, struct verdict *v)
{
	const char *l = cw_word(ws, 0), *p = cw_word(ws, 1);
	bool p_aux = cw_in(p, cw_aux) || cw_in(p, cw_neg_contr);
	bool p_subj = cw_in(p, cw_subj) || !strcmp(p, "that") ||
		!strcmp(p, "this");
	size_t clen = ws->n - cs;

	/* "so do i", "nor can we" */
	if (clen == 2 && cs > 0 && cw_in(ws->v[cs], cw_aux) &&
	    cw_in(l, cw_subj) && (!strcmp(ws->v[cs - 1], "so") ||
				  !strcmp(ws->v[cs - 1], "nor")))
		return verdict(v, 0.8f, "short answer");

	/* "can i", "do you", "is there", "what time should we" */
	if (cw_in(l, cw_subj) && strcmp(l, "it")) {
		if (p_aux && q)
			return verdict(v, 0.1f, "question half asked");
		if (!strcmp(l, "you") || !strcmp(l, "there"))
			return false;
		if (p_aux)  /* "so do i", "neither can we" */
			return verdict(v, 0.8f, "short answer");
		return verdict(v, 0.1f, "subject without a verb");
	}
	if (cw_in(l, cw_subj_contr))
		return verdict(v, 0.1f, "subject without a complement");

	if (cw_in(l, cw_aux)) {
		/* "what do you have": the wh-word is the object */
		if (q && clen >= 4 && cw_in(ws->v[cs], cw_wh) && p_subj &&
		    (!strcmp(l, "have") || !strcmp(l, "do") ||
		     !strcmp(l, "did")))
			return false;
		if (q)  /* "what is", "do you have" */
			return verdict(v, 0.1f, "question half asked");
		if (!strcmp(l, "be") || !strcmp(l, "been") ||
		    !strcmp(l, "being"))
			return verdict(v, 0.15f, "verb without a complement");
		if (!p_subj)
			return verdict(v, 0.15f, "verb without a complement");
		if (answered(ws, cs))  /* "yes i do" */
			return verdict(v, 0.8f, SHORT_ANSWER);
		/* to an open question, "we are" / "it is" leads in (the
		 * complement comes after a pause as often as not); "i do",
		 * "we can" may answer */
		if (t == BT_SLOT_TEXT && (!strcmp(l, "are") ||
		    !strcmp(l, "is") || !strcmp(l, "am") ||
		    !strcmp(l, "was") || !strcmp(l, "were")))
			return verdict(v, 0.2f, "subject and 'be' without a "
				       "complement");
		/* "i do" may answer; waiting for a value, "we are" leads in */
		if (t == BT_SLOT_TEXT || t == BT_SLOT_YESNO)
			return verdict(v, 0.35f, SHORT_ANSWER);
		return verdict(v, 0.2f, "lead-in to the expected value");
	}

	if (cw_in(l, cw_v_trans)) {
		bool lead = p_subj || p_aux || cw_in(p, cw_subj_contr) ||
			!strcmp(p, "to") || !strcmp(p, "please") ||
			!strcmp(p, "you");

		if (!strcmp(l, "know")) {
			if (q && p_subj)
				return verdict(v, 0.2f, "question half asked");
			return false;
		}
		if (!strcmp(l, "have") && p_subj && !q && answered(ws, cs))
			return verdict(v, 0.8f, SHORT_ANSWER);
		/* "what do you recommend": the wh-word is the object */
		if (lead && !(q && cw_in(ws->v[cs], cw_wh)))
			return q ? verdict(v, 0.1f, "question half asked") :
				verdict(v, 0.15f, "verb missing its object");
	}

	if ((!strcmp(l, "me") || !strcmp(l, "us")) && cw_in(p, cw_v_ditrans))
		return verdict(v, 0.15f, "verb missing its object");

	if (!strcmp(l, "many") && !strcmp(p, "how"))
		return verdict(v, 0.25f, "question half asked");
	/* "i think", "we were wondering": the thought comes next */
	if (cw_in(l, cw_v_think) && (cw_in(p, cw_subj) || p_aux) &&
	    strcmp(p, "you") && !q)
		return verdict(v, 0.25f, "a verb of thinking without its "
			       "clause");
	/* "do you think [we could ...]"; "what do you think" is whole */
	if (cw_in(l, cw_v_think) && q && cw_in(ws->v[cs], cw_aux))
		return verdict(v, 0.15f, "question half asked");
	if (cw_ends_with_any(ws, cw_want_compl))
		return verdict(v, 0.2f, "a noun that wants its complement "
			       "(\"any chance of ...\")");
	return false;
}

static bool slot_rule(const struct words *ws, enum bt_slot_type t, bool q,
		       bool verb, struct bt_complete_info *info,
		       struct verdict *v)
{
	int lvl = slot_level(ws, t);
	const char *l = cw_word(ws, 0);

	info->slot_found = lvl > 0;
	if (lvl == 2)
		return verdict(v, 0.9f, "answer with the expected value");
	if (lvl == 1) {
		if (t == BT_SLOT_TIME)
			return verdict(v, 0.6f, "an hour: minutes or pm may "
				       "follow");
		return verdict(v, 0.45f, "a month: the day may follow");
	}

	if (t == BT_SLOT_DAY && (!strcmp(l, "next") || !strcmp(l, "this")))
		return verdict(v, 0.15f, "a day half said");
	if (verb && ws->n >= 3)
		return verdict(v, q ? 0.7f : 0.65f,
			       "complete, but not the expected value");
	if (cw_any_in(ws, 0, cw_yesno) || cw_any_in(ws, 0, cw_neg_contr))
		return verdict(v, 0.6f, "yes/no, not the expected value");
	return verdict(v, 0.3f, "expected value not heard yet");
}

static void text_rule(const struct words *ws, size_t cs, bool q, bool verb,
		      struct verdict *v)
{
	if (ws->n <= 2 && (cw_any_in(ws, 0, cw_greetings) ||
			   cw_ends_with(ws, "good morning")))
		verdict(v, 0.9f, "greeting");
	else if (ws->n <= 3 && cw_any_in(ws, 0, cw_yesno))
		verdict(v, 0.85f, "short yes/no answer");
	/* "can we sit outside [280 ms] or maybe by the window": a yes/no
	 * question is often followed by its alternative after a pause that
	 * the comma of "outside, or" makes; a wh-question is not. The
	 * wait this gives (~300 ms against ~200) costs yes/no questions
	 * about 100 ms and spares an alternative being cut off
	 * (docs/design-notes.md, "End of turn on the right words") */
	else if (q && verb && ws->n - cs >= 3 && cw_in(ws->v[cs], cw_aux))
		verdict(v, 0.6f, "yes/no question (an alternative may "
			"follow: \"or ...\")");
	else if (q && verb && ws->n - cs >= 3)
		verdict(v, 0.85f, "complete question");
	else if (verb && ws->n >= 3)
		verdict(v, 0.85f, "full sentence");
	else if (verb)
		verdict(v, 0.75f, "short sentence");
	else if (ws->n >= 3)
		verdict(v, 0.7f, "phrase");
	else
		verdict(v, 0.6f, "short answer");
}

float bt_complete_score(const char *text, enum bt_slot_type expected,
			struct bt_complete_info *info)
{
	return bt_complete_score_in(text, expected, true, info);
}

float bt_complete_score_in(const char *text, enum bt_slot_type expected,
			   bool open, struct bt_complete_info *info)
{
	struct bt_complete_info dummy;
	struct words ws;
	struct verdict v = {0.5f, "empty"};
	const char *l, *p, *frag;
	size_t cs;
	bool q, verb;

	if (!info)
		info = &dummy;
	if ((unsigned)expected > BT_SLOT_YESNO)
		expected = BT_SLOT_TEXT;
	memset(info, 0, sizeof(*info));

	cw_split(&ws, text);
	info->words = ws.n;
	if (!ws.n)
		goto out;

	l = cw_word(&ws, 0);
	p = cw_word(&ws, 1);
	cs = clause_start(&ws);
	q = cw_in(ws.v[cs], cw_wh) || cw_in(ws.v[cs], cw_aux);
	verb = cw_has_verb(&ws, 0);
	info->question = q;

	if (cw_ends_with_any(&ws, cw_hold_floor) &&
	    !cw_ends_with(&ws, "can't wait") &&
	    !cw_ends_with(&ws, "cannot wait")) {
		verdict(&v, 0.1f, "holding the floor (\"hold on\")");
		goto out;
	}
	if (!strcmp(l, "thank")) {  /* "great, thank [you]" */
		verdict(&v, 0.1f, "\"thank\" without \"you\"");
		goto out;
	}
	if (cw_in(l, cw_polite) || cw_ends_with(&ws, "thank you") ||
	    cw_ends_with(&ws, "thank you very much") ||
	    cw_ends_with(&ws, "thanks a lot")) {
		/* "could you please" */
		if (!strcmp(l, "please") &&
		    (cw_in(p, cw_subj) || cw_in(p, cw_aux)))
			verdict(&v, 0.15f, "question half asked");
		else
			verdict(&v, 0.95f, "polite ending");
		goto out;
	}
	if (cw_ends_with(&ws, "you know") && !cw_in(cw_word(&ws, 2), cw_aux)) {
		verdict(&v, 0.4f, "trailing \"you know\"");
		goto out;
	}
	if (!strcmp(l, "like")) {
		static const char *const wants[] = {
			"would", "i'd", "we'd", "you'd", "they'd", "i", "we",
			"you", "they", "to", NULL
		};

		/* "i would like"; "what would you like" is whole */
		if (cw_in(p, wants) && !(q && cw_in(ws.v[cs], cw_wh) &&
					 cs + 1 < ws.n &&
					 cw_in(ws.v[cs + 1], cw_aux))) {
			verdict(&v, 0.15f, "verb missing its object");
			goto out;
		}
	}
	if (cw_in(l, cw_fillers) && !(!strcmp(l, "like") && q)) {
		verdict(&v, 0.1f, "trailing filler");
		goto out;
	}
	if (complete_lead_ins_only(&ws)) {  /* "actually", "oh and also" */
		verdict(&v, 0.15f, "a lead-in word");
		goto out;
	}
	if (rule_numbers(&ws, expected, &v))
		goto out;
	if (rule_function_word(&ws, cs, q, &v))
		goto out;
	if (complete_open_list(&ws, cs, cw_item_word)) {
		verdict(&v, 0.2f, "a list not closed by and/or");
		goto out;
	}
	if (rule_clause(&ws, cs, q, expected, &v))
		goto out;
	if (complete_condition_alone(&ws, expected == BT_SLOT_TEXT) &&
	    !(expected != BT_SLOT_TEXT && slot_level(&ws, expected) == 2)) {
		verdict(&v, 0.25f, "a condition or time clause without its "
			"main clause");
		goto out;
	}
	if ((frag = complete_fragment(&ws, open &&
				      expected == BT_SLOT_TEXT)) &&
	    !(expected != BT_SLOT_TEXT && slot_level(&ws, expected) == 2)) {
		verdict(&v, 0.25f, frag);
		goto out;
	}
	if (complete_email_open(&ws)) {
		verdict(&v, 0.2f, "an e-mail address without its \"at\"");
		goto out;
	}

	if (expected != BT_SLOT_TEXT)
		slot_rule(&ws, expected, q, verb, info, &v);
	else
		text_rule(&ws, cs, q, verb, &v);

 out:
	info->rule = v.rule;
	return v.score;
}

enum bt_slot_type bt_complete_asked(const char *agent_text, bool *openp)
{
	static const char *const open_words[] = {
		"and", "so", "okay", "ok", "great", "alright", "right",
		"sure", "perfect", "lovely", "then", "now", "also", "well",
		NULL
	};
	static const char *const or_words[] = {"or", NULL};
	/* wh-words that ask for one person, thing or place */
	static const char *const wh_one[] = {
		"who", "whom", "whose", "which", "where", "who's", "where's",
		NULL
	};
	static const char *const asks[] = {
		"have", "get", "take", "ask", NULL
	};
	static const char *const tells[] = {
		"tell", "give", "spell", "say", "repeat", "confirm", "send",
		"let", "read", NULL
	};
	char q[256];
	const char *end, *start;
	struct words ws;
	size_t i = 0, len;
	bool dummy;

	if (!openp)
		openp = &dummy;
	*openp = true;
	if (!agent_text)
		return BT_SLOT_TEXT;
	end = agent_text + strlen(agent_text);
	while (end > agent_text && (end[-1] == ' ' || end[-1] == '\n' ||
				    end[-1] == '"' || end[-1] == '\''))
		end--;
	if (end == agent_text || end[-1] != '?')
		return BT_SLOT_TEXT;
	/* the last sentence: after the previous . ! ? */
	for (start = end - 1; start > agent_text; start--) {
		if (start[-1] == '.' || start[-1] == '!' || start[-1] == '?')
			break;
	}
	len = (size_t)(end - start);
	if (len >= sizeof(q))
		return BT_SLOT_TEXT;
	memcpy(q, start, len);
	q[len] = '\0';
	cw_split(&ws, q);
	while (i < ws.n && (cw_in(ws.v[i], open_words) ||
			    cw_in(ws.v[i], cw_fillers)))
		i++;
	if (i + 1 >= ws.n)
		return BT_SLOT_TEXT;
	*openp = false;
	if (cw_any_in(&ws, i, or_words))
		return BT_SLOT_TEXT;  /* "inside or out?" */
	if (!strcmp(ws.v[i], "how") && !strcmp(ws.v[i + 1], "many"))
		return BT_SLOT_NUMBER;
	if ((!strcmp(ws.v[i], "what") || !strcmp(ws.v[i], "which")) &&
	    (!strcmp(ws.v[i + 1], "day") || !strcmp(ws.v[i + 1], "date")))
		return BT_SLOT_DAY;
	if ((!strcmp(ws.v[i], "what") && !strcmp(ws.v[i + 1], "time")) ||
	    !strcmp(ws.v[i], "when") || !strcmp(ws.v[i], "when's"))
		return BT_SLOT_TIME;
	if (cw_in(ws.v[i], wh_one))  /* "who's joining you?" */
		return BT_SLOT_TEXT;
	/* "can i have your name?", "could you spell that?": a request
	 * for something said, not a yes/no question */
	if (i + 2 < ws.n && cw_in(ws.v[i], cw_aux) &&
	    ((!strcmp(ws.v[i + 1], "i") && cw_in(ws.v[i + 2], asks)) ||
	     (!strcmp(ws.v[i + 1], "you") && cw_in(ws.v[i + 2], tells))))
		return BT_SLOT_TEXT;
	if (cw_in(ws.v[i], cw_aux) && !cw_in(ws.v[i], cw_wh))
		return BT_SLOT_YESNO;
	*openp = true;  /* "how can i help?", "what would you like?" */
	return BT_SLOT_TEXT;
}
