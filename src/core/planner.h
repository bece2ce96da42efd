/**
 * @file planner.h  The speech planner: cuts streaming reply text into
 *                  chunks that TTS renders one by one.
 */
#ifndef BT_PLANNER_H
#define BT_PLANNER_H

#include <stdbool.h>
#include <stddef.h>

/**
 * Length of the first complete sentence at the start of buf (including
 * its punctuation and the spaces after it), or 0 if buf holds no complete
 * sentence yet. With final set, the rest of the text counts as complete.
 * A sentence ends at '.', '!' or '?' followed by white space, but not
 * inside a number ("7.30") or after a common abbreviation ("Mr.").
 * A sentence still being written that has run past 60 characters is cut
 * after its first clause (", " "; " ": ") beyond that point.
 */
size_t bt_planner_sentence(const char *buf, size_t len, bool final);

#endif
