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
	size_t i = 0, heads = 0;

	while (i < ws->n && (cw_in(ws->v[i], cw_lead_ins) ||
			     cw_in(ws->v[i], cw_fillers)))
		i++;
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
