/**
 * @file complete_int.h  The word list the completeness rules read
 * (private to turn/complete*.c).
 */
#ifndef BANTER_TURN_COMPLETE_INT_H
#define BANTER_TURN_COMPLETE_INT_H

#include <stdbool.h>
#include <stddef.h>

enum {
	MAX_WORDS = 64,
	HEAD_WORDS = 8,     /* kept from the start of a long text */
	WORD_LEN = 24,
};

/* The words of a text, lower case; brk[i]: a comma or semicolon came
 * before word i (a punctuating recogniser's, or the endpointer's mark of
 * a pause there). */
struct words {
	size_t n;
	char v[MAX_WORDS][WORD_LEN];
	bool brk[MAX_WORDS];
};

/**
 * Whether the words from index `from` on end in an enumeration that has
 * not been closed by "and" / "or": two or more short items set apart by
 * commas ("pizza, pasta"), or weekdays in a row ("monday tuesday").
 * item_word says whether a word can be part of an item (a content word:
 * not a function word, verb, number, yes/no or politeness). Pure.
 */
bool complete_open_list(const struct words *ws, size_t from,
			bool (*item_word)(const char *w));

#endif
