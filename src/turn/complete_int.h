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

/** Split text into ws (lower case; of a long text the first HEAD_WORDS
 * and the last words, from its last 1024 bytes). */
void cw_split(struct words *ws, const char *text);
/** Whether w is in the NULL-terminated list. */
bool cw_in(const char *w, const char *const *list);
/** The word `back` from the end (0: the last); "" past the start. */
const char *cw_word(const struct words *ws, size_t back);
/** Whether the words end with phrase (words separated by one space). */
bool cw_ends_with(const struct words *ws, const char *phrase);
/** Whether they end with any phrase of the NULL-terminated list. */
bool cw_ends_with_any(const struct words *ws, const char *const *list);

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
