/**
 * @file complete_words.c  Splitting a transcript into the words the
 * completeness rules read, and looking them up.
 *
 * Cost: one pass over at most TEXT_MAX bytes; lookups are string
 * compares against short NULL-terminated tables. No allocation.
 */
#include <ctype.h>
#include <stdbool.h>
#include <string.h>
#include <strings.h>
#include <re.h>
#include "turn/complete.h"
#include "turn/complete_int.h"

enum {
	TEXT_MAX = 1024,    /* of longer input only the end is read */
	SCAN_MAX = 65536,   /* longest input looked at */
};

bool cw_in(const char *w, const char *const *list)
{
	for (; *list; list++) {
		if (!strcmp(w, *list))
			return true;
	}
	return false;
}

static void push_word(struct words *ws, const char *s, size_t len, bool brk)
{
	size_t i;

	while (len && s[0] == '\'') {
		s++;
		len--;
	}
	while (len && s[len - 1] == '\'')
		len--;
	if (!len)
		return;
	if (len >= WORD_LEN)
		len = WORD_LEN - 1;  /* cut: it will match nothing */

	if (ws->n == MAX_WORDS) {
		/* keep the head (clause type) and the tail (the ending) */
		memmove(ws->v[HEAD_WORDS], ws->v[HEAD_WORDS + 1],
			(MAX_WORDS - HEAD_WORDS - 1) * sizeof(ws->v[0]));
		memmove(&ws->brk[HEAD_WORDS], &ws->brk[HEAD_WORDS + 1],
			(MAX_WORDS - HEAD_WORDS - 1) * sizeof(ws->brk[0]));
		ws->n--;
	}
	ws->brk[ws->n] = brk;
	for (i = 0; i < len; i++)
		ws->v[ws->n][i] = (char)tolower((unsigned char)s[i]);
	ws->v[ws->n][len] = '\0';
	ws->n++;
}

/*
 * Words are letters with inner apostrophes, or digits with inner colons
 * ("7:30"); a letter-digit change splits ("7pm" -> "7" "pm"); anything
 * else separates (so "twenty-five" is two words). A comma or semicolon
 * before a word is kept as its brk.
 */
void cw_split(struct words *ws, const char *text)
{
	size_t i = 0, start = 0, len = 0;
	int kind = 0;  /* 0 none, 1 letters, 2 digits */
	bool comma = false, brk = false;

	ws->n = 0;
	if (!text)
		return;
	len = strnlen(text, SCAN_MAX);
	if (len > TEXT_MAX) {
		const char *end = text + len;

		/* the ending decides; start at a word boundary */
		text = end - TEXT_MAX;
		while (*text && !isspace((unsigned char)*text))
			text++;
		len = (size_t)(end - text);
	}
	for (i = 0; i <= len; i++) {
		unsigned char c = i < len ? (unsigned char)text[i] : ' ';
		int k = isalpha(c) ? 1 : isdigit(c) ? 2 : 0;

		if (c == '\'' && kind == 1)
			continue;
		if (c == ':' && kind == 2 && i + 1 < len &&
		    isdigit((unsigned char)text[i + 1]))
			continue;
		if (!k && (c == ',' || c == ';'))
			comma = true;
		if (k != kind) {
			if (kind)
				push_word(ws, text + start, i - start, brk);
			if (k) {  /* "7pm": only "7" follows the comma */
				brk = !kind && comma;
				comma = false;
			}
			kind = k;
			start = i;
		}
	}
}

const char *cw_word(const struct words *ws, size_t back)
{
	return back < ws->n ? ws->v[ws->n - 1 - back] : "";
}

bool cw_ends_with(const struct words *ws, const char *phrase)
{
	char buf[64];
	const char *p;
	size_t k = 1, i;

	for (p = phrase; *p; p++)
		k += *p == ' ';
	if (k > ws->n)
		return false;
	buf[0] = '\0';
	for (i = k; i > 0; i--) {
		size_t l = strlen(buf);

		if (re_snprintf(buf + l, sizeof(buf) - l, "%s%s",
				l ? " " : "", cw_word(ws, i - 1)) < 0)
			return false;
	}
	return !strcmp(buf, phrase);
}

bool cw_ends_with_any(const struct words *ws, const char *const *list)
{
	for (; *list; list++) {
		if (cw_ends_with(ws, *list))
			return true;
	}
	return false;
}

/* ---- the lexicon ---- */

const char *const cw_conj_art[] = {
	"and", "or", "but", "because", "cause", "nor", "the", "a", "an", NULL
};

const char *const cw_function_end[] = {
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

const char *const cw_stranded_prep[] = {
	"for", "from", "about", "with", "to", "at", "in", "on", "of", "like",
	NULL
};

const char *const cw_fillers[] = {
	"um", "umm", "uh", "uhh", "uhm", "er", "erm", "hmm", "hm", "mm",
	"mmm", "ah", "eh", "like", NULL
};

const char *const cw_aux[] = {
	"is", "are", "am", "was", "were", "be", "been", "being", "will",
	"would", "can", "could", "should", "shall", "may", "might", "must",
	"do", "does", "did", "have", "has", "had", NULL
};

const char *const cw_wh[] = {
	"what", "when", "where", "which", "who", "whom", "whose", "why",
	"how", "what's", "where's", "when's", "who's", "how's", NULL
};

const char *const cw_subj[] = {
	"i", "we", "you", "they", "he", "she", "it", "there", NULL
};

/* a subject fused with a verb that still needs its complement */
const char *const cw_subj_contr[] = {
	"i'm", "we're", "you're", "they're", "he's", "she's", "it's",
	"that's", "there's", "here's", "i'd", "we'd", "you'd", "they'd",
	"he'd", "she'd", "i'll", "we'll", "you'll", "they'll", "it'll",
	"i've", "we've", "you've", "they've", "let's", "what's", "where's",
	"when's", "who's", "how's", NULL
};

const char *const cw_neg_contr[] = {
	"don't", "doesn't", "didn't", "can't", "cannot", "won't", "wouldn't",
	"couldn't", "shouldn't", "isn't", "aren't", "wasn't", "weren't",
	"haven't", "hasn't", "hadn't", "not", NULL
};

/* verbs that want an object when they end a clause */
const char *const cw_v_trans[] = {
	"have", "get", "want", "need", "book", "reserve", "make", "take",
	"order", "tell", "give", "bring", "change", "cancel", "check", "find",
	"put", "add", "pick", "show", "send", "try", "use", "move", "switch",
	"confirm", "know", "recommend", "suggest", NULL
};

/* verbs whose "me" / "us" still wants the thing */
const char *const cw_v_ditrans[] = {
	"tell", "give", "show", "send", "get", "bring", "book", "find", "let",
	"make", "put", "reserve", "offer", "ask", NULL
};

const char *const cw_boundary[] = {
	"and", "but", "so", "or", "yes", "yeah", "yep", "no", "nope", "ok",
	"okay", "well", "oh", "um", "uh", "also", "then", "please", "thanks",
	"hi", "hello", "hey", "sorry", "actually", "alright", "right",
	"great", "perfect", "sure", NULL
};

const char *const cw_yesno[] = {
	"yes", "yeah", "yep", "yup", "ya", "yea", "no", "nope", "nah",
	"sure", "correct", "right", "ok", "okay", "absolutely",
	"definitely", "certainly", "fine", "great", "perfect", "exactly",
	"wrong", "incorrect", "alright", "course", NULL
};

const char *const cw_greetings[] = {
	"hi", "hello", "hey", "bye", "goodbye", "morning", "afternoon",
	"evening", "cheers", NULL
};

const char *const cw_polite[] = {
	"please", "thanks", "cheers", NULL
};

const char *const cw_digits[] = {
	"zero", "oh", "o", "one", "two", "three", "four", "five", "six",
	"seven", "eight", "nine", NULL
};

const char *const cw_teens[] = {
	"ten", "eleven", "twelve", "thirteen", "fourteen", "fifteen",
	"sixteen", "seventeen", "eighteen", "nineteen", NULL
};

const char *const cw_tens[] = {
	"twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty",
	"ninety", NULL
};

const char *const cw_count_words[] = {
	"hundred", "thousand", "couple", "dozen", "single", "myself",
	"alone", "both", "pair", NULL
};

const char *const cw_days[] = {
	"monday", "tuesday", "wednesday", "thursday", "friday", "saturday",
	"sunday", "mondays", "tuesdays", "wednesdays", "thursdays",
	"fridays", "saturdays", "sundays", "today", "tonight", "tomorrow",
	"weekend", NULL
};

const char *const cw_months[] = {
	"january", "february", "march", "april", "may", "june", "july",
	"august", "september", "october", "november", "december", NULL
};

const char *const cw_ordinals[] = {
	"first", "second", "third", "fourth", "fifth", "sixth", "seventh",
	"eighth", "ninth", "tenth", "eleventh", "twelfth", "thirteenth",
	"fourteenth", "fifteenth", "sixteenth", "seventeenth", "eighteenth",
	"nineteenth", "twentieth", "thirtieth", NULL
};

const char *const cw_time_marks[] = {
	"pm", "am", "o'clock", "oclock", "noon", "midnight", "tonight",
	"evening", "morning", "afternoon", "night", "midday", "lunchtime",
	NULL
};

/* a clause that is complete but says "wait for me" */
const char *const cw_hold_floor[] = {
	"hold on", "hang on", "one moment", "one sec", "one second",
	"a second", "a sec", "a moment", "a minute", "let me see",
	"let me think", "let me check", "let me look", "wait", "i mean",
	NULL
};

/* endings that look unfinished by the rules but are idioms */
const char *const cw_idioms[] = {
	"think so", "hope so", "guess so", "believe so", "said so", "or so",
	"do so", "i'm in", "we're in", "me in", "us in", "come in", "log in",
	"sign in", "check in", "go on", "carry on", "later on",
	"and so on", "what for", "love to", "happy to", "glad to",
	"as well", "so so", NULL
};

/* words that open what the speaker is about to say: alone, they hold the
 * floor ("actually [pause] make that eight") */
const char *const cw_lead_ins[] = {
	"actually", "well", "oh", "anyway", "anyways", "basically", "also",
	"plus", "and", "but", "so", "now", "honestly", "look", "listen",
	"um", "uh", "er", "erm", NULL
};

/* subordinators whose clause, said first, wants the main clause after
 * it ("if it's not too much trouble [pause] could we ..."); not "when",
 * "because", "before": their clause answers a question by itself */
const char *const cw_cond_sub[] = {
	"if", "unless", "although", "though", "whereas", "provided", NULL
};

/* subordinators of time: "when we arrive" is a clause waiting for its
 * main one (where the agent asked no "when?") */
const char *const cw_time_sub[] = {
	"when", "whenever", "once", "before", "after", "while", "until",
	"till", NULL
};

/* verbs of thinking whose clause follows ("i think [pause] about
 * eight"); "i think so" is an idiom */
const char *const cw_v_think[] = {
	"think", "guess", "believe", "suppose", "reckon", "wonder", "feel",
	"expect", "imagine", NULL
};

/* nouns whose complement follows in a question ("is there any chance
 * [pause] of a table") */
const char *const cw_want_compl[] = {
	"any chance", "a chance", "any way", "any possibility",
	"a possibility", NULL
};

const char *const cw_verbs[] = {
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

/* ---- lookups ---- */

bool bt_complete_binds_next(const char *w, size_t len)
{
	static const char *const binds[] = {
		"the", "a", "an", "my", "your", "our", "their", "his", "her",
		"its", "to", "for", "of", "with", "at", "on", "in", "from",
		NULL
	};
	const char *const *p;

	if (!w)
		return false;
	for (p = binds; *p; p++) {
		if (strlen(*p) == len && !strncasecmp(w, *p, len))
			return true;
	}
	return false;
}

bool cw_numeric(const char *w)
{
	return isdigit((unsigned char)w[0]) != 0;
}

bool cw_number(const char *w)
{
	return cw_numeric(w) || (cw_in(w, cw_digits) && strcmp(w, "o") &&
				 strcmp(w, "oh")) ||
		cw_in(w, cw_teens) || cw_in(w, cw_tens);
}

bool cw_has_verb(const struct words *ws, size_t from)
{
	size_t i;

	for (i = from; i < ws->n; i++) {
		const char *w = ws->v[i];
		size_t l = strlen(w);

		if (cw_in(w, cw_aux) || cw_in(w, cw_verbs) ||
		    cw_in(w, cw_subj_contr) || cw_in(w, cw_neg_contr))
			return true;
		if (l >= 5 && (!strcmp(w + l - 2, "ed") ||
			       !strcmp(w + l - 3, "ing")))
			return true;
	}
	return false;
}

bool cw_any_word(const struct words *ws, size_t from,
		 bool (*pred)(const char *))
{
	size_t i;

	for (i = from; i < ws->n; i++) {
		if (pred(ws->v[i]))
			return true;
	}
	return false;
}

bool cw_any_in(const struct words *ws, size_t from,
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
bool cw_item_word(const char *w)
{
	/* prepositions and particles that may end a clause ("come by",
	 * "sit outside"), so cw_function_end does not hold them */
	static const char *const particles[] = {
		"by", "through", "over", "behind", "around", "past", "off",
		"up", "out", "down", "inside", "outside", "below", "above",
		"along", "away", "back", "here", "there", NULL
	};
	static const char *const *const not_items[] = {
		cw_conj_art, cw_function_end, cw_fillers, cw_aux, cw_wh,
		cw_subj, cw_subj_contr, cw_neg_contr, cw_v_trans, cw_verbs,
		cw_boundary, cw_yesno, cw_greetings, cw_polite, cw_time_marks,
		cw_count_words, particles, NULL
	};
	const char *const *const *l;

	if (cw_number(w) || !strcmp(w, "me") || !strcmp(w, "us") ||
	    !strcmp(w, "that") || !strcmp(w, "this") || !strcmp(w, "it"))
		return false;
	for (l = not_items; *l; l++) {
		if (cw_in(w, *l))
			return false;
	}
	return true;
}
