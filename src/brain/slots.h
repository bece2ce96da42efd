/**
 * @file slots.h  Slot values from transcripts (private to src/brain).
 *
 * The STT gives lower-case words ("a table for three please"); these
 * functions find one slot value in such text and render values back the
 * way a person says them ("three", "Tuesday", "7 pm"). All functions are
 * pure and thread-safe.
 *
 * Parsers return 0 on success, ENOENT when the text holds no value of the
 * type, EINVAL when it holds two different ones ("two or three"), and
 * ERANGE when the value is out of range (a party of 0).
 */
#ifndef BANTER_SLOTS_H
#define BANTER_SLOTS_H

#include <stdbool.h>
#include <stddef.h>

enum {
	SLOT_TOK_MAX = 48, /**< words looked at; the rest are ignored */
	SLOT_TOK_LEN = 24, /**< longer words are cut (and match nothing) */
};

/** The text split into lower-case words ("7pm" -> "7", "pm"). */
struct slot_toks {
	size_t n;
	char v[SLOT_TOK_MAX][SLOT_TOK_LEN];
};

void slot_tokenize(struct slot_toks *t, const char *text);

/**
 * Lower-case words separated by single spaces; keeps letters, digits,
 * apostrophes inside words and colons inside numbers ("What are your
 * opening hours?" -> "what are your opening hours", "At 7:30!" ->
 * "at 7:30"). Output is cut to fit sz.
 */
void slot_normalize(const char *text, char *buf, size_t sz);

/** True if normalized `phrase` occurs in normalized `text` as whole words. */
bool slot_has_phrase(const char *text, const char *phrase);

/** A count between min and max ("three", "two people", "12", "just me"). */
int slot_number_parse(const char *text, int min, int max, int *valp);

/**
 * A day of the week, 0 = Sunday .. 6 = Saturday (as struct tm). "today",
 * "tonight", "tomorrow" are resolved from today_wday.
 */
int slot_day_parse(const char *text, int today_wday, int *wdayp);

/**
 * A time of day in minutes after midnight. Without "am"/"pm" (or "in the
 * morning", "tonight", ...) hours 1..10 mean pm (a restaurant's evening),
 * 11 means am and 12 means noon.
 */
int slot_time_parse(const char *text, int *minutesp);

/** Yes or no ("yeah", "that's right", "no thanks", "that's wrong"). */
int slot_yesno_parse(const char *text, bool *yesp);

/** 3 -> "three", 22 -> "twenty-two"; digits above 999999. */
void slot_number_words(int n, char *buf, size_t sz);

/** 2 -> "Tuesday"; "" if out of range. */
const char *slot_day_name(int wday);

/** 1140 -> "7 pm", 1170 -> "7:30 pm", 720 -> "noon", 0 -> "midnight". */
void slot_time_print(int minutes, char *buf, size_t sz);

/**
 * Slot type names as in agent files: "number", "day", "time", "yes_no",
 * "text" -> enum bt_slot_type; -1 if unknown.
 */
int slot_type_from_name(const char *s);

/** The agent-file name of a slot type ("yes_no"). */
const char *slot_type_to_name(int type);

#endif
