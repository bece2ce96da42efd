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


/* ---- word lists (NULL-terminated) ---- */

static const char *const conj_art[] = {
	"and", "or", "but", "because", "cause", "nor", "the", "a", "an", NULL
};

static const char *const function_end[] = {
	/* prepositions */
	"to", "for", "of", "with", "at", "on", "in", "from", "about", "into",
	"onto", "than", "until", "till", "between", "per", "via", "without",
	"towards", "toward", "as", "after", "dot", "under", "near",
	"beside", "beneath", "during", "across", "against", "within",
	"among", "despite", "except", "including", "regarding", "upon",
	"beyond",
	/* possessives and determiners that need a noun */
	"my", "your", "our", "their", "his", "its", "every", "each", "whose",
	/* subordinators, intensifiers */
	"if", "whether", "unless", "although", "while", "so", "very", "just",
	"such", "rather",
	NULL
};

static const char *const stranded_prep[] = {
	"for", "from", "about", "with", "to", "at", "in", "on", "of", "like",
	NULL
};

static const char *const fillers[] = {
	"um", "umm", "uh", "uhh", "uhm", "er", "erm", "hmm", "hm", "mm",
	"mmm", "ah", "eh", "like", NULL
};

static const char *const aux[] = {
	"is", "are", "am", "was", "were", "be", "been", "being", "will",
	"would", "can", "could", "should", "shall", "may", "might", "must",
	"do", "does", "did", "have", "has", "had", NULL
};

static const char *const wh[] = {
	"what", "when", "where", "which", "who", "whom", "whose", "why",
	"how", "what's", "where's", "when's", "who's", "how's", NULL
};

static const char *const subj[] = {
	"i", "we", "you", "they", "he", "she", "it", "there", NULL
};

/* a subject fused with a verb that still needs its complement */
static const char *const subj_contr[] = {
	"i'm", "we're", "you're", "they're", "he's", "she's", "it's",
	"that's", "there's", "here's", "i'd", "we'd", "you'd", "they'd",
	"he'd", "she'd", "i'll", "we'll", "you'll", "they'll", "it'll",
	"i've", "we've", "you've", "they've", "let's", "what's", "where's",
	"when's", "who's", "how's", NULL
};

static const char *const neg_contr[] = {
	"don't", "doesn't", "didn't", "can't", "cannot", "won't", "wouldn't",
	"couldn't", "shouldn't", "isn't", "aren't", "wasn't", "weren't",
	"haven't", "hasn't", "hadn't", "not", NULL
};

/* verbs that want an object when they end a clause */
static const char *const v_trans[] = {
	"have", "get", "want", "need", "book", "reserve", "make", "take",
	"order", "tell", "give", "bring", "change", "cancel", "check", "find",
	"put", "add", "pick", "show", "send", "try", "use", "move", "switch",
	"confirm", "know", "recommend", "suggest", NULL
};

static const char SHORT_ANSWER[] = "short answer (pronoun and verb)";

/* verbs whose "me" / "us" still wants the thing */
static const char *const v_ditrans[] = {
	"tell", "give", "show", "send", "get", "bring", "book", "find", "let",
	"make", "put", "reserve", "offer", "ask", NULL
};

static const char *const boundary[] = {
	"and", "but", "so", "or", "yes", "yeah", "yep", "no", "nope", "ok",
	"okay", "well", "oh", "um", "uh", "also", "then", "please", "thanks",
	"hi", "hello", "hey", "sorry", "actually", "alright", "right",
	"great", "perfect", "sure", NULL
};

static const char *const yesno[] = {
	"yes", "yeah", "yep", "yup", "ya", "yea", "no", "nope", "nah",
	"sure", "correct", "right", "ok", "okay", "absolutely",
	"definitely", "certainly", "fine", "great", "perfect", "exactly",
	"wrong", "incorrect", "alright", "course", NULL
};

static const char *const greetings[] = {
	"hi", "hello", "hey", "bye", "goodbye", "morning", "afternoon",
	"evening", "cheers", NULL
};

static const char *const polite[] = {
	"please", "thanks", "cheers", NULL
};

static const char *const digits[] = {
	"zero", "oh", "o", "one", "two", "three", "four", "five", "six",
	"seven", "eight", "nine", NULL
};

static const char *const teens[] = {
	"ten", "eleven", "twelve", "thirteen", "fourteen", "fifteen",
	"sixteen", "seventeen", "eighteen", "nineteen", NULL
};

static const char *const tens[] = {
	"twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty",
	"ninety", NULL
};

static const char *const count_words[] = {
	"hundred", "thousand", "couple", "dozen", "single", "myself",
	"alone", "both", "pair", NULL
};

static const char *const days[] = {
	"monday", "tuesday", "wednesday", "thursday", "friday", "saturday",
	"sunday", "mondays", "tuesdays", "wednesdays", "thursdays",
	"fridays", "saturdays", "sundays", "today", "tonight", "tomorrow",
	"weekend", NULL
};

static const char *const months[] = {
	"january", "february", "march", "april", "may", "june", "july",
	"august", "september", "october", "november", "december", NULL
};

static const char *const ordinals[] = {
	"first", "second", "third", "fourth", "fifth", "sixth", "seventh",
	"eighth", "ninth", "tenth", "eleventh", "twelfth", "thirteenth",
	"fourteenth", "fifteenth", "sixteenth", "seventeenth", "eighteenth",
	"nineteenth", "twentieth", "thirtieth", NULL
};

static const char *const time_marks[] = {
	"pm", "am", "o'clock", "oclock", "noon", "midnight", "tonight",
	"evening", "morning", "afternoon", "night", "midday", "lunchtime",
	NULL
};

/* a clause that is complete but says "wait for me" */
static const char *const hold_floor[] = {
	"hold on", "hang on", "one moment", "one sec", "one second",
	"a second", "a sec", "a moment", "a minute", "let me see",
	"let me think", "let me check", "let me look", "wait", "i mean",
	NULL
};

/* endings that look unfinished by the rules but are idioms */
static const char *const idioms[] = {
	"think so", "hope so", "guess so", "believe so", "said so", "or so",
	"do so", "i'm in", "we're in", "me in", "us in", "come in", "log in",
	"sign in", "check in", "go on", "carry on", "later on",
	"and so on", "what for", "love to", "happy to", "glad to",
	"as well", "so so", NULL
};

/* words that open what the speaker is about to say: alone, they hold the
 * floor ("actually [pause] make that eight") */
static const char *const lead_ins[] = {
	"actually", "well", "oh", "anyway", "anyways", "basically", "also",
	"plus", "and", "but", "so", "now", "honestly", "look", "listen",
	"um", "uh", "er", "erm", NULL
};

/* subordinators whose clause, said first, wants the main clause after
 * it ("if it's not too much trouble [pause] could we ..."); not "when",
 * "because", "before": their clause answers a question by itself */
static const char *const cond_sub[] = {
	"if", "unless", "although", "though", "whereas", "provided", NULL
};

/* subordinators of time: "when we arrive" is a clause waiting for its
 * main one (where the agent asked no "when?") */
static const char *const time_sub[] = {
	"when", "whenever", "once", "before", "after", "while", "until",
	"till", NULL
};

/* verbs of thinking whose clause follows ("i think [pause] about
 * eight"); "i think so" is an idiom */
static const char *const v_think[] = {
	"think", "guess", "believe", "suppose", "reckon", "wonder", "feel",
	"expect", "imagine", NULL
};

/* nouns whose complement follows in a question ("is there any chance
 * [pause] of a table") */
static const char *const want_compl[] = {
	"any chance", "a chance", "any way", "any possibility",
	"a possibility", NULL
};

static bool is_numeric(const char *w)
{
	return isdigit((unsigned char)w[0]) != 0;
}

static bool is_number_word(const char *w)
{
	return is_numeric(w) || (cw_in(w, digits) && strcmp(w, "o") &&
				 strcmp(w, "oh")) ||
		cw_in(w, teens) || cw_in(w, tens);
}

/* A number that can be an hour: 1..12 as a word or digits (7, 7:30). */
static bool is_hour(const char *w)
{
	static const char *const hours[] = {
		"one", "two", "three", "four", "five", "six", "seven",
		"eight", "nine", "ten", "eleven", "twelve", NULL
	};
	int h = 0;

	if (is_numeric(w)) {
		for (; isdigit((unsigned char)*w) && h < 100; w++)
			h = h * 10 + (*w - '0');
		return h >= 1 && h <= 24;
	}
	return cw_in(w, hours);
}

static bool is_digit_word(const char *w)
{
	return cw_in(w, digits) || (is_numeric(w) && !strchr(w, ':'));
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
		run += is_numeric(w) ? strlen(w) : 1;
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
		if (cw_in(ws->v[i - 1], boundary) && i < ws->n)
			return i;
	}
	return 0;
}

static const char *const verbs[] = {
	"want", "need", "like", "book", "make", "get", "take", "think",
	"know", "go", "come", "see", "say", "said", "tell", "told",
	"give", "call", "called", "order", "reserve", "cancel",
	"change", "check", "open", "close", "let", "bring", "put",
	"sounds", "sound", "works", "work", "looks", "look", "love",
	"prefer", "mean", "guess", "hope", "wonder", "live", "pay",
	"eat", "drink", "sit", "stay", "arrive", "leave", "bye",
	"help", "thank", "try", "use", "find", "wants", "needs",
	"likes", "knows", "thinks", NULL
};

static bool has_verb(const struct words *ws, size_t from)
{
	size_t i;

	for (i = from; i < ws->n; i++) {
		const char *w = ws->v[i];
		size_t l = strlen(w);

		if (cw_in(w, aux) || cw_in(w, verbs) || cw_in(w, subj_contr) ||
		    cw_in(w, neg_contr))
			return true;
		if (l >= 5 && (!strcmp(w + l - 2, "ed") ||
			       !strcmp(w + l - 3, "ing")))
			return true;
	}
	return false;
}

static bool any_word(const struct words *ws, size_t from,
		     bool (*pred)(const char *))
{
	size_t i;

	for (i = from; i < ws->n; i++) {
		if (pred(ws->v[i]))
			return true;
	}
	return false;
}

static bool any_in(const struct words *ws, size_t from,
		   const char *const *list)
{
	size_t i;

	for (i = from; i < ws->n; i++) {
		if (cw_in(ws->v[i], list))
			return true;
	}
	return false;
}

/* A word that can be (part of) an item of a list: none of the words
 * that make a clause, a number, an answer or a politeness. */
static bool item_word(const char *w)
{
	/* prepositions and particles that may end a clause ("come by",
	 * "sit outside"), so function_end does not hold them */
	static const char *const particles[] = {
		"by", "through", "over", "behind", "around", "past", "off",
		"up", "out", "down", "inside", "outside", "below", "above",
		"along", "away", "back", "here", "there", NULL
	};
	static const char *const *const not_items[] = {
		conj_art, function_end, fillers, aux, wh, subj, subj_contr,
		neg_contr, v_trans, verbs, boundary, yesno, greetings, polite,
		time_marks, count_words, particles, NULL
	};
	const char *const *const *l;

	if (is_number_word(w) || !strcmp(w, "me") || !strcmp(w, "us") ||
	    !strcmp(w, "that") || !strcmp(w, "this") || !strcmp(w, "it"))
		return false;
	for (l = not_items; *l; l++) {
		if (cw_in(w, *l))
			return false;
	}
	return true;
}

static bool is_count(const char *w)
{
	return is_number_word(w) || cw_in(w, count_words);
}

static bool is_day(const char *w)
{
	return cw_in(w, days);
}

/* ---- slots ---- */

/* 0: none, 1: partial (hour only, month only), 2: full */
static int slot_level(const struct words *ws, enum bt_slot_type t)
{
	size_t i;

	switch (t) {
	case BT_SLOT_NUMBER:
		if (any_word(ws, 0, is_count) || cw_ends_with(ws, "just me") ||
		    cw_ends_with(ws, "only me"))
			return 2;
		return 0;

	case BT_SLOT_DAY:
		if (any_word(ws, 0, is_day) || any_in(ws, 0, ordinals))
			return 2;
		for (i = 0; i < ws->n; i++) {
			/* "june" alone: the day may follow */
			if (cw_in(ws->v[i], months))
				return i + 1 < ws->n &&
					is_number_word(ws->v[i + 1]) ? 2 : 1;
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
		if (!any_word(ws, 0, is_hour))
			return 0;
		/* an hour with am/pm, o'clock, minutes, "half past" */
		if (any_in(ws, 0, time_marks) || cw_ends_with(ws, "p m") ||
		    cw_ends_with(ws, "a m"))
			return 2;
		for (i = 1; i < ws->n; i++) {
			const char *a = ws->v[i - 1], *b = ws->v[i];

			if (((!strcmp(a, "past") || !strcmp(a, "to")) &&
			     is_hour(b)) ||
			    (is_hour(a) && (is_number_word(b) ||
					    !strcmp(b, "oh"))))
				return 2;
		}
		return 1;

	case BT_SLOT_YESNO:
		return any_in(ws, 0, yesno) || any_in(ws, 0, neg_contr) ? 2 : 0;

	case BT_SLOT_TEXT:
	default:
		return 0;
	}
}

/* ---- the rules ---- */

/* "my email (address) is anna": an e-mail address said up to its
 * "at" is not whole yet. */
static bool email_open(const struct words *ws)
{
	size_t i, k;

	for (i = 0; i < ws->n; i++) {
		if (!strcmp(ws->v[i], "email") ||
		    (!strcmp(ws->v[i], "mail") && i &&
		     !strcmp(ws->v[i - 1], "e")))
			break;
	}
	for (k = i + 1; k < ws->n; k++) {
		if (!strcmp(ws->v[k], "is") || !strcmp(ws->v[k], "it's"))
			break;
	}
	if (k + 1 >= ws->n)  /* no "is", or nothing after it yet */
		return false;
	for (k++; k < ws->n; k++) {
		if (!strcmp(ws->v[k], "at") || strchr(ws->v[k], '@'))
			return false;
	}
	return true;
}

/* Every word opens what is to come: "actually", "so basically". */
static bool all_lead_ins(const struct words *ws)
{
	size_t i;

	for (i = 0; i < ws->n; i++) {
		if (!cw_in(ws->v[i], lead_ins))
			return false;
	}
	return ws->n > 0;
}

/* A clause head: a subject with its verb ("we could", "it's") or a
 * question's verb and subject ("could we"). */
static bool clause_head(const struct words *ws, size_t i)
{
	const char *w = ws->v[i], *n = i + 1 < ws->n ? ws->v[i + 1] : "";

	if (cw_in(w, subj_contr))
		return true;
	if (cw_in(w, subj) || !strcmp(w, "that") || !strcmp(w, "this"))
		return cw_in(n, aux) || cw_in(n, neg_contr) ||
			cw_in(n, verbs) || cw_in(n, v_trans);
	return cw_in(w, aux) && cw_in(n, subj);
}

/*
 * The utterance opens with a condition ("if it's not too much trouble",
 * "unless it rains") or, with time_ok, a time clause ("when we arrive";
 * not where the agent asked for a day or time, which it may answer),
 * and no main clause has come after it: the clause
 * heads after the subordinator are its own (one) and no second one
 * follows. "if possible", "if so" have no verb: an answer's tail. "if
 * you could ..." is a polite request, whole by itself.
 */
static bool condition_alone(const struct words *ws, bool time_ok)
{
	size_t i = 0, heads = 0;

	while (i < ws->n && (cw_in(ws->v[i], lead_ins) ||
			     cw_in(ws->v[i], fillers)))
		i++;
	if (i < ws->n && !strcmp(ws->v[i], "even"))
		i++;
	if (i + 1 >= ws->n)
		return false;
	/* "when we arrive": a time clause, its subject right after (not
	 * "when do you open", a question) */
	if (time_ok && cw_in(ws->v[i], time_sub) &&
	    (cw_in(ws->v[i + 1], subj) || cw_in(ws->v[i + 1], subj_contr)))
		;
	else if (!cw_in(ws->v[i], cond_sub))
		return false;
	if (!strcmp(ws->v[i + 1], "you") && i + 2 < ws->n &&
	    (cw_in(ws->v[i + 2], aux) || cw_in(ws->v[i + 2], neg_contr)))
		return false;
	if (!has_verb(ws, i + 1))
		return false;
	for (size_t k = i + 1; k < ws->n; k++) {
		/* a comma after the condition's verb: the main clause */
		if (ws->brk[k] && heads)
			return false;
		heads += clause_head(ws, k);
	}
	return heads <= 1;
}

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
	if (cw_in(l, tens)) {
		/* "seven thirty" is a time; "seven twenty" may get a five.
		 * Where the agent asked no time, "around seven thirty" is
		 * still one (a phrase's level), not a number half said */
		if (t == BT_SLOT_TIME && is_hour(p))
			return verdict(v, strcmp(l, "thirty") ? 0.5f : 0.9f,
				       "hour and minutes");
		if (is_hour(p) && !is_numeric(p))
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

	if (cw_ends_with_any(ws, idioms))
		return verdict(v, 0.85f, "idiomatic ending");
	/* "come on!" is an idiom where it opens the clause; "we'd like to
	 * come on" waits for the day */
	if (cw_ends_with(ws, "come on") && ws->n - cs == 2)
		return verdict(v, 0.85f, "idiomatic ending");

	/* "what is that for", "where are you from": fine in a question */
	if (q && cw_in(l, stranded_prep) && ws->n - cs >= 4 &&
	    cw_in(ws->v[cs], wh) && has_verb(ws, cs))
		return verdict(v, 0.6f, "question ending in a preposition");

	if (cw_in(l, conj_art)) {
		if (!strcmp(l, "and") || !strcmp(l, "or"))
			return verdict(v, 0.05f, "a list or clause goes on");
		return verdict(v, 0.05f, "ends in a conjunction or article");
	}
	if (cw_in(l, function_end))
		return verdict(v, 0.1f, "ends in a function word");
	return false;
}

/* Whether the utterance holds a yes/no word before the last clause,
 * so that "yes i do" reads as a short answer. */
static bool answered(const struct words *ws, size_t cs)
{
	size_t i;

	for (i = 0; i < cs; i++) {
		if (cw_in(ws->v[i], yesno) || !strcmp(ws->v[i], "so") ||
		    !strcmp(ws->v[i], "neither"))
			return true;
	}
	return false;
}

static bool rule_clause(const struct words *ws, size_t cs, bool q,
			enum bt_slot_type t, struct verdict *v)
{
	const char *l = cw_word(ws, 0), *p = cw_word(ws, 1);
	bool p_aux = cw_in(p, aux) || cw_in(p, neg_contr);
	bool p_subj = cw_in(p, subj) || !strcmp(p, "that") ||
		!strcmp(p, "this");
	size_t clen = ws->n - cs;

	/* "so do i", "nor can we" */
	if (clen == 2 && cs > 0 && cw_in(ws->v[cs], aux) && cw_in(l, subj) &&
	    (!strcmp(ws->v[cs - 1], "so") || !strcmp(ws->v[cs - 1], "nor")))
		return verdict(v, 0.8f, "short answer");

	/* "can i", "do you", "is there", "what time should we" */
	if (cw_in(l, subj) && strcmp(l, "it")) {
		if (p_aux && q)
			return verdict(v, 0.1f, "question half asked");
		if (!strcmp(l, "you") || !strcmp(l, "there"))
			return false;
		if (p_aux)  /* "so do i", "neither can we" */
			return verdict(v, 0.8f, "short answer");
		return verdict(v, 0.1f, "subject without a verb");
	}
	if (cw_in(l, subj_contr))
		return verdict(v, 0.1f, "subject without a complement");

	if (cw_in(l, aux)) {
		/* "what do you have": the wh-word is the object */
		if (q && clen >= 4 && cw_in(ws->v[cs], wh) && p_subj &&
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

	if (cw_in(l, v_trans)) {
		bool lead = p_subj || p_aux || cw_in(p, subj_contr) ||
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
		if (lead && !(q && cw_in(ws->v[cs], wh)))
			return q ? verdict(v, 0.1f, "question half asked") :
				verdict(v, 0.15f, "verb missing its object");
	}

	if ((!strcmp(l, "me") || !strcmp(l, "us")) && cw_in(p, v_ditrans))
		return verdict(v, 0.15f, "verb missing its object");

	if (!strcmp(l, "many") && !strcmp(p, "how"))
		return verdict(v, 0.25f, "question half asked");
	/* "i think", "we were wondering": the thought comes next */
	if (cw_in(l, v_think) && (cw_in(p, subj) || p_aux) &&
	    strcmp(p, "you") && !q)
		return verdict(v, 0.25f, "a verb of thinking without its "
			       "clause");
	/* "do you think [we could ...]"; "what do you think" is whole */
	if (cw_in(l, v_think) && q && cw_in(ws->v[cs], aux))
		return verdict(v, 0.15f, "question half asked");
	if (cw_ends_with_any(ws, want_compl))
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
	if (any_in(ws, 0, yesno) || any_in(ws, 0, neg_contr))
		return verdict(v, 0.6f, "yes/no, not the expected value");
	return verdict(v, 0.3f, "expected value not heard yet");
}

static void text_rule(const struct words *ws, size_t cs, bool q, bool verb,
		      struct verdict *v)
{
	if (ws->n <= 2 && (any_in(ws, 0, greetings) ||
			   cw_ends_with(ws, "good morning")))
		verdict(v, 0.9f, "greeting");
	else if (ws->n <= 3 && any_in(ws, 0, yesno))
		verdict(v, 0.85f, "short yes/no answer");
	/* "can we sit outside [280 ms] or maybe by the window": a yes/no
	 * question is often followed by its alternative after a pause that
	 * the comma of "outside, or" makes; a wh-question is not. The
	 * wait this gives (~300 ms against ~200) costs yes/no questions
	 * about 100 ms and spares an alternative being cut off
	 * (docs/design-notes.md, "End of turn on the right words") */
	else if (q && verb && ws->n - cs >= 3 && cw_in(ws->v[cs], aux))
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
	struct bt_complete_info dummy;
	struct words ws;
	struct verdict v = {0.5f, "empty"};
	const char *l, *p;
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
	q = cw_in(ws.v[cs], wh) || cw_in(ws.v[cs], aux);
	verb = has_verb(&ws, 0);
	info->question = q;

	if (cw_ends_with_any(&ws, hold_floor) && !cw_ends_with(&ws, "can't wait") &&
	    !cw_ends_with(&ws, "cannot wait")) {
		verdict(&v, 0.1f, "holding the floor (\"hold on\")");
		goto out;
	}
	if (!strcmp(l, "thank")) {  /* "great, thank [you]" */
		verdict(&v, 0.1f, "\"thank\" without \"you\"");
		goto out;
	}
	if (cw_in(l, polite) || cw_ends_with(&ws, "thank you") ||
	    cw_ends_with(&ws, "thank you very much") ||
	    cw_ends_with(&ws, "thanks a lot")) {
		if (!strcmp(l, "please") &&
		    (cw_in(p, subj) || cw_in(p, aux)))  /* "could you please" */
			verdict(&v, 0.15f, "question half asked");
		else
			verdict(&v, 0.95f, "polite ending");
		goto out;
	}
	if (cw_ends_with(&ws, "you know") && !cw_in(cw_word(&ws, 2), aux)) {
		verdict(&v, 0.4f, "trailing \"you know\"");
		goto out;
	}
	if (!strcmp(l, "like")) {
		static const char *const wants[] = {
			"would", "i'd", "we'd", "you'd", "they'd", "i", "we",
			"you", "they", "to", NULL
		};

		if (cw_in(p, wants)) {  /* "i would like" */
			verdict(&v, 0.15f, "verb missing its object");
			goto out;
		}
	}
	if (cw_in(l, fillers) && !(!strcmp(l, "like") && q)) {
		verdict(&v, 0.1f, "trailing filler");
		goto out;
	}
	if (all_lead_ins(&ws)) {  /* "actually", "oh and also" */
		verdict(&v, 0.15f, "a lead-in word");
		goto out;
	}
	if (rule_numbers(&ws, expected, &v))
		goto out;
	if (rule_function_word(&ws, cs, q, &v))
		goto out;
	if (complete_open_list(&ws, cs, item_word)) {
		verdict(&v, 0.2f, "a list not closed by and/or");
		goto out;
	}
	if (rule_clause(&ws, cs, q, expected, &v))
		goto out;
	if (condition_alone(&ws, expected == BT_SLOT_TEXT) &&
	    !(expected != BT_SLOT_TEXT && slot_level(&ws, expected) == 2)) {
		verdict(&v, 0.25f, "a condition or time clause without its "
			"main clause");
		goto out;
	}
	if (email_open(&ws)) {
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
