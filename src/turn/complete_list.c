/**
 * @file complete_list.c  An enumeration still being read.
 *
 * Why: a list answer ("pizza, pasta and salad") is read item by item,
 * with a pause after each, and until "and" / "or" closes it every pause
 * looks like the end of a short answer. Written as text the difference
 * is the comma: "pizza, pasta" goes on, "chicken soup" (one thing) does
 * not, and the comma is what a punctuating recogniser writes, or what
 * the endpointer puts where the caller paused between words
 * (turn/endpoint.c). Without commas only items of a kind the words show
 * can be told from a compound: weekdays ("monday tuesday"), and items
 * that each open with their article or count ("the steak the fish",
 * "one vegetarian two vegan"); digits are the number rules'.
 * Cost: one backward pass over at most 64 words.
 */
#include <string.h>
#include "turn/complete_int.h"

enum { ITEM_WORDS = 3 };  /* a longer chunk is a phrase, not an item */

static bool article(const char *w)
{
	return !strcmp(w, "a") || !strcmp(w, "an") || !strcmp(w, "the") ||
		!strcmp(w, "some");
}

/* a word that opens an item: an article or a count ("two soups") */
static bool opener(const char *w)
{
	return article(w) || cw_number(w);
}

static bool weekday(const char *w)
{
	static const char *const d[] = {
		"monday", "tuesday", "wednesday", "thursday", "friday",
		"saturday", "sunday", NULL
	};
	const char *const *p;

	for (p = d; *p; p++) {
		if (!strcmp(w, *p))
			return true;
	}
	return false;
}

/* The words before index k+1 end in an item that has its own article or
 * count ("the steak" in "the steak the fish", "one vegetarian" in "one
 * vegetarian two vegan"), not in a verb the tables do not know ("buy a
 * window"). */
static bool art_item_ends_at(const struct words *ws, size_t k, size_t from,
			     bool (*item_word)(const char *w))
{
	size_t n = 0;

	while (k > from && n < ITEM_WORDS && !opener(ws->v[k]) &&
	       item_word(ws->v[k])) {
		k--;
		n++;
	}
	return n > 0 && n < ITEM_WORDS && opener(ws->v[k]);
}

bool complete_open_list(const struct words *ws, size_t from,
			bool (*item_word)(const char *w))
{
	size_t i, items = 1, len = 0;
	bool content = false;

	if (!ws || !item_word || ws->n < 2 || from >= ws->n ||
	    article(ws->v[ws->n - 1]))
		return false;
	for (i = ws->n; i > from; i--) {
		const char *w = ws->v[i - 1];

		if (!opener(w) && !item_word(w))
			break;
		content |= !opener(w);
		if (++len > ITEM_WORDS)
			return false;
		/* this word begins an item: a comma before it (not after a
		 * count: "two, [pause] vegan" is one item), a weekday after a
		 * weekday, or an article or count after an item that has its
		 * own ("the steak the fish") */
		if (i - 1 > from && ((ws->brk[i - 1] &&
				      !cw_number(ws->v[i - 2])) ||
				     (weekday(w) && weekday(ws->v[i - 2])) ||
				     (opener(w) &&
				      art_item_ends_at(ws, i - 2, from,
						       item_word)))) {
			if (!content)
				return false;
			items++;
			len = 0;
			content = false;
		}
	}
	/* the first item must be whole (not the end of "i want the") */
	return items >= 2 && content && len > 0;
}
