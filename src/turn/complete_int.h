/**
 * @file complete_int.h  The word list the completeness rules read, the
 * lexicon they look words up in, and the rules shared between
 * turn/complete*.c (private to them).
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

/* The lexicon (complete_words.c): NULL-terminated lists of lower-case
 * words or phrases; each list's comment there says what it holds. */
extern const char *const cw_conj_art[];
extern const char *const cw_function_end[];
extern const char *const cw_stranded_prep[];
extern const char *const cw_fillers[];
extern const char *const cw_aux[];
extern const char *const cw_wh[];
extern const char *const cw_subj[];
extern const char *const cw_subj_contr[];
extern const char *const cw_neg_contr[];
extern const char *const cw_v_trans[];
extern const char *const cw_v_ditrans[];
extern const char *const cw_boundary[];
extern const char *const cw_yesno[];
extern const char *const cw_greetings[];
extern const char *const cw_polite[];
extern const char *const cw_digits[];
extern const char *const cw_teens[];
extern const char *const cw_tens[];
extern const char *const cw_count_words[];
extern const char *const cw_days[];
extern const char *const cw_months[];
extern const char *const cw_ordinals[];
extern const char *const cw_time_marks[];
extern const char *const cw_hold_floor[];
extern const char *const cw_idioms[];
extern const char *const cw_lead_ins[];
extern const char *const cw_cond_sub[];
extern const char *const cw_time_sub[];
extern const char *const cw_v_think[];
extern const char *const cw_want_compl[];
extern const char *const cw_verbs[];

/** A number: digits, or a number word other than "oh" / "o". */
bool cw_number(const char *w);
/** Whether w starts with a digit. */
bool cw_numeric(const char *w);
/** Whether a verb (or an auxiliary) is among the words from `from` on. */
bool cw_has_verb(const struct words *ws, size_t from);
/** Whether pred holds for a word from `from` on. */
bool cw_any_word(const struct words *ws, size_t from,
		 bool (*pred)(const char *));
/** Whether a word from `from` on is in the list. */
bool cw_any_in(const struct words *ws, size_t from,
	       const char *const *list);
/** Whether w can be (part of) an item of a list: a content word, none
 * of the words that make a clause, a number, an answer or a politeness. */
bool cw_item_word(const char *w);

/* Rules on how the clauses fit together (complete_clause.c); pure. */
/** "my email address is anna": an address said up to its "at". */
bool complete_email_open(const struct words *ws);
/** Every word opens what is to come ("actually", "so basically"). */
bool complete_lead_ins_only(const struct words *ws);
/** A condition ("if it's not too much trouble") or, with time_ok, a time
 * clause ("when we arrive") said first, with no main clause after it. */
bool complete_condition_alone(const struct words *ws, bool time_ok);
/** A part of a sentence said before the rest of it: a free relative
 * ("what i'd like"), a noun with its relative clause ("the last time we
 * came"), and where the agent asked nothing in particular (open), a
 * topic ("my daughter"), a fronted phrase ("for the starter") or a hedge
 * alone ("maybe"). Returns the rule's name, or NULL. */
const char *complete_fragment(const struct words *ws, bool open);

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
