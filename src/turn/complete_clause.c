/**
 * @file complete_clause.c  How the clauses of an utterance fit together:
 * a condition or time clause said before its main clause, a lead-in
 * word alone, an e-mail address said up to its "at".
 *
 * Cost: a few passes over at most 64 words. No allocation.
 */
#include <stdbool.h>
#include <string.h>
#include "turn/complete_int.h"

/* "my email (address) is anna": an e-mail address said up to its
 * "at" is not whole yet. */
bool complete_email_open(const struct words *ws)
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
bool complete_lead_ins_only(const struct words *ws)
{
	size_t i;

	for (i = 0; i < ws->n; i++) {
		if (!cw_in(ws->v[i], cw_lead_ins))
			return false;
	}
	return ws->n > 0;
}

/* Index of the first word after the lead-ins and fillers. */
static size_t first_word(const struct words *ws)
{
	size_t i = 0;

	while (i < ws->n && (cw_in(ws->v[i], cw_lead_ins) ||
			     cw_in(ws->v[i], cw_fillers)))
		i++;
	return i;
}

/* A clause head: a subject with its verb ("we could", "it's") or a
 * question's verb and subject ("could we"). */
static bool clause_head(const struct words *ws, size_t i)
{
	const char *w = ws->v[i], *n = i + 1 < ws->n ? ws->v[i + 1] : "";

	if (cw_in(w, cw_subj_contr))
		return true;
	if (cw_in(w, cw_subj) || !strcmp(w, "that") || !strcmp(w, "this"))
		return cw_in(n, cw_aux) || cw_in(n, cw_neg_contr) ||
			cw_in(n, cw_verbs) || cw_in(n, cw_v_trans);
	return cw_in(w, cw_aux) && cw_in(n, cw_subj);
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
bool complete_condition_alone(const struct words *ws, bool time_ok)
{
	size_t i = first_word(ws), heads = 0;

	if (i < ws->n && !strcmp(ws->v[i], "even"))
		i++;
	if (i + 1 >= ws->n)
		return false;
	/* "when we arrive": a time clause, its subject right after (not
	 * "when do you open", a question) */
	if (time_ok && cw_in(ws->v[i], cw_time_sub) &&
	    (cw_in(ws->v[i + 1], cw_subj) ||
	     cw_in(ws->v[i + 1], cw_subj_contr)))
		;
	else if (!cw_in(ws->v[i], cw_cond_sub))
		return false;
	if (!strcmp(ws->v[i + 1], "you") && i + 2 < ws->n &&
	    (cw_in(ws->v[i + 2], cw_aux) || cw_in(ws->v[i + 2], cw_neg_contr)))
		return false;
	if (!cw_has_verb(ws, i + 1))
		return false;
	for (size_t k = i + 1; k < ws->n; k++) {
		/* a comma after the condition's verb: the main clause */
		if (ws->brk[k] && heads)
			return false;
		heads += clause_head(ws, k);
	}
	return heads <= 1;
}

/* ---- a part of a sentence said before the rest of it ---- */

/* A personal pronoun as a subject, alone or fused with its verb ("we",
 * "we've"); not "it", "there", "that's": those open answers too. */
static bool person_subject(const char *w)
{
	static const char *const s[] = {
		"i", "we", "you", "they", "he", "she", "i'm", "we're",
		"you're", "they're", "he's", "she's", "i'd", "we'd", "you'd",
		"they'd", "he'd", "she'd", "i'll", "we'll", "you'll",
		"they'll", "i've", "we've", "you've", "they've", NULL
	};

	return cw_in(w, s);
}

/* Whether a clause whose subject is word j has been followed by the
 * main clause's verb: an auxiliary or negation after the subordinate
 * clause's own verb ("what we need is", "the table we booked isn't"), or
 * a new clause ("the last time we came it was"). */
static bool main_verb_after(const struct words *ws, size_t j)
{
	for (size_t k = j + 2; k < ws->n; k++) {
		if (cw_in(ws->v[k], cw_aux) || cw_in(ws->v[k], cw_neg_contr) ||
		    clause_head(ws, k))
			return true;
	}
	return false;
}

/* "what i'd really like", "where we sat": a free relative, the subject
 * of a sentence whose verb is still to come. A question puts its verb
 * before the subject ("what would you like"). */
static bool free_relative(const struct words *ws, size_t i)
{
	static const char *const rel[] = {
		"what", "whatever", "where", "whoever", NULL
	};

	return i + 2 < ws->n && cw_in(ws->v[i], rel) &&
		person_subject(ws->v[i + 1]) && !main_verb_after(ws, i + 1);
}

/* "the last time we came", "the table we booked": a noun with its
 * relative clause and no verb of its own yet. */
static bool noun_relative(const struct words *ws, size_t i)
{
	static const char *const det[] = {
		"the", "that", "this", "those", "these", NULL
	};
	size_t j = i + 1;

	if (i >= ws->n || !cw_in(ws->v[i], det))
		return false;
	while (j < ws->n && j - i <= 3 && cw_item_word(ws->v[j]))
		j++;
	return j > i + 1 && j + 1 < ws->n && person_subject(ws->v[j]) &&
		!main_verb_after(ws, j);
}

/* "my daughter", "our booking": a person or a thing of the caller's,
 * named with no verb; said to an open question, it is the subject of
 * what comes next ("my daughter [pause] she can't eat gluten", "my name
 * [pause] is ..."). Not "my daughter's birthday": a possessive "'s" or
 * anything after the noun makes it an answer's thing. */
static bool own_topic(const struct words *ws, size_t i)
{
	static const char *const poss[] = {
		"my", "our", "his", "her", "their", NULL
	};
	static const char *const topics[] = {
		"daughter", "son", "wife", "husband", "partner", "friend",
		"friends", "mother", "mum", "mom", "father", "dad", "boss",
		"kids", "children", "family", "sister", "brother", "parents",
		"grandmother", "grandfather", "girlfriend", "boyfriend",
		"colleague", "colleagues", "guests", "name", "number",
		"booking", "reservation", "email", "card", "order", NULL
	};

	return i + 2 == ws->n && cw_in(ws->v[i], poss) &&
		cw_in(ws->v[i + 1], topics);
}

/* "after dinner", "for the starter": a phrase set before its clause. Not
 * one that holds a number, day or time ("for two", "after eight", "on
 * friday"): those answer how many and when. */
static bool fronted_phrase(const struct words *ws, size_t i)
{
	static const char *const prep[] = {
		"for", "after", "before", "during", "about", "regarding", NULL
	};
	size_t k;

	if (i + 1 >= ws->n || ws->n - i > 4 || !cw_in(ws->v[i], prep) ||
	    cw_has_verb(ws, i))
		return false;
	for (k = i + 1; k < ws->n; k++) {
		const char *w = ws->v[k];

		if (cw_number(w) || cw_in(w, cw_days) ||
		    cw_in(w, cw_time_marks) || cw_in(w, cw_months) ||
		    cw_in(w, cw_ordinals) || cw_in(w, cw_count_words) ||
		    cw_in(w, cw_polite) || cw_in(w, cw_yesno))
			return false;
	}
	return true;
}

/* "maybe", "um probably": a hedge said alone where no yes/no question
 * was asked; what it hedges comes next. */
static bool hedge_alone(const struct words *ws, size_t i)
{
	static const char *const hedges[] = {
		"maybe", "perhaps", "probably", "possibly", NULL
	};
	bool hedge = false;

	for (; i < ws->n; i++) {
		if (!cw_in(ws->v[i], hedges) &&
		    !cw_in(ws->v[i], cw_lead_ins) &&
		    !cw_in(ws->v[i], cw_fillers))
			return false;
		hedge |= cw_in(ws->v[i], hedges);
	}
	return hedge;
}

const char *complete_fragment(const struct words *ws, bool open)
{
	size_t i = first_word(ws);

	if (i >= ws->n)
		return NULL;
	if (free_relative(ws, i))
		return "a free relative (\"what i'd like\") without its verb";
	if (noun_relative(ws, i))
		return "a noun with its relative clause (\"the table we "
			"booked\") without the main verb";
	if (!open)
		return NULL;
	if (own_topic(ws, i))
		return "a topic said first (\"my daughter\"), to an open "
			"question";
	if (fronted_phrase(ws, i))
		return "a phrase said before its clause (\"for the "
			"starter\"), to an open question";
	if (hedge_alone(ws, i))
		return "a hedge alone (\"maybe\"), to an open question";
	return NULL;
}
