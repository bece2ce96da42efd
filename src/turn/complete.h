/**
 * @file complete.h  Is a (partial) transcript a finished thing to say?
 * (private to libbanter: the turn manager's endpointer calls it.)
 *
 * Looks at the words the STT has so far ("i'd like a table for") and the
 * slot the agent is waiting for, and says how complete the utterance is:
 * low when it stops on "and", "the", "um", in the middle of a phone
 * number or a half-asked question, or before the expected value was
 * said; high for a full sentence, a short answer that fills the slot
 * ("three people", "seven pm", "yes") or a polite ending ("thanks").
 * English only; rules, not a model, so every decision can be explained
 * (info->rule) and costs microseconds.
 *
 * Pure and thread-safe; no allocation.
 */
#ifndef BANTER_TURN_COMPLETE_H
#define BANTER_TURN_COMPLETE_H

#include <stdbool.h>
#include <stddef.h>
#include "banter/stt.h"

/** Score levels the rules give; callers may compare against them. */
#define BT_COMPLETE_LOW 0.3f   /**< below: clearly unfinished */
#define BT_COMPLETE_HIGH 0.8f  /**< at or above: clearly finished */

/** Why a text got its score. */
struct bt_complete_info {
	const char *rule;  /**< static text naming the deciding rule */
	bool question;     /**< the last clause is a question */
	bool slot_found;   /**< a value of the expected type is there */
	size_t words;      /**< words looked at */
};

/**
 * Completeness of `text` (lower-case words; punctuation and case are
 * tolerated) when the agent expects a value of type `expected`
 * (BT_SLOT_TEXT: anything). Returns 0..1; 0.5 for empty text (no
 * opinion). `info` may be NULL.
 */
float bt_complete_score(const char *text, enum bt_slot_type expected,
			struct bt_complete_info *info);

/**
 * As bt_complete_score(), told whether the agent asked nothing in
 * particular (open: no question, "how can I help?"). Where it asked for
 * one thing without a slot type ("for here or to go?", "who's joining
 * you?"), a phrase or a name alone is an answer, not a part said before
 * the rest ("for here", "my wife"). bt_complete_score() is open.
 */
float bt_complete_score_in(const char *text, enum bt_slot_type expected,
			   bool open, struct bt_complete_info *info);

/**
 * What the agent's words ask for, where no grammar says it (an LLM's
 * reply, a flow node without one): the type of value its last sentence
 * asks for when that sentence is a question ("how many of you?" a number,
 * "what time?" a time, "which day?" a day, "would you like ...?" yes or
 * no); BT_SLOT_TEXT for anything else: an open question ("how can I
 * help?"), a request put as a question ("can I have your name?"), an
 * alternative ("inside or out?"), no question at all. *openp (may be
 * NULL) says whether it asked nothing in particular: no question, or an
 * open one (not an alternative, a request, "who / which / where ...?").
 * Pure.
 */
enum bt_slot_type bt_complete_asked(const char *agent_text, bool *openp);

/**
 * Whether the word (len bytes at w, any case) binds to the word after it
 * (an article, possessive or preposition: "the", "my", "for"), so that a
 * pause after it is a hesitation, not a break between items: the
 * endpointer puts no comma there. Pure.
 */
bool bt_complete_binds_next(const char *w, size_t len);

#endif
