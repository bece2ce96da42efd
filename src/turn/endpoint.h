/**
 * @file endpoint.h  When has the user finished their turn? (private to
 * libbanter: the session's turn manager calls it.)
 *
 * Instead of one fixed silence, the endpointer says how long the silence
 * after the user's last speech must last before the turn ends, from
 *  - what was said so far (turn/complete.h: "a table for" is unfinished,
 *    "a table for three please" is finished),
 *  - how it was said (turn/prosody.h: a final fall and a drawn-out last
 *    syllable sound finished),
 *  - who says it: a speaker who has paused long inside earlier turns, or
 *    whose turns were cut too early, gets longer waits on endings that
 *    are not clearly complete.
 *
 * Use: after the VAD's speech end (and again whenever the partial
 * transcript changes during the silence) call bt_endpoint_wait_ms(); the
 * turn ends when the silence reaches the returned time. When the user
 * speaks again before that, report the pause with
 * bt_endpoint_observe_pause(); when a turn was ended, report how it went
 * with bt_endpoint_observe_turn_end().
 *
 * One instance per session, called from the session's thread; no locks,
 * no allocation after bt_endpoint_alloc().
 */
#ifndef BANTER_TURN_ENDPOINT_H
#define BANTER_TURN_ENDPOINT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "banter/stt.h"

/** Waiting times for one situation; 0 means the default. */
struct bt_endpoint_waits {
	uint32_t min_wait_ms;        /**< complete and falling
					  (200 / 300 / 400) */
	uint32_t base_wait_ms;       /**< ambiguous ending (500 / 700 / 900) */
	uint32_t incomplete_wait_ms; /**< clearly unfinished
					  (1600 / 1600 / 2000) */
	uint32_t max_wait_ms;        /**< never longer (2500 / 2500 / 3000) */
	uint32_t prosody_pct;        /**< weight of prosody against the
					  words, percent (45 / 25 / 20) */
};

/** What the agent was doing when the user's utterance began. */
enum bt_endpoint_ctx {
	BT_EP_LISTENING = 0, /**< waiting for the user */
	BT_EP_SPEAKING,      /**< its audio was playing: the user barged in */
	BT_EP_THINKING,      /**< it had just taken the turn, no audio yet:
				  the user went on */
};

/**
 * Settings (0 = default). Defaults are given as listening / speaking /
 * thinking.
 * While the agent's audio plays, the user's speech overlaps it: echo
 * residue blurs the pitch and the transcript, and short overlapping
 * utterances are often backchannels or false starts, so the waits are a
 * little longer and prosody counts less.
 * Speech that starts while the agent is thinking comes moments after the
 * endpointer ended the turn: the user was not done, so the endpointer's
 * evidence misled it once already. Those waits are the longest and
 * prosody counts least.
 */
struct bt_endpoint_prm {
	struct bt_endpoint_waits listening; /**< agent listening */
	struct bt_endpoint_waits speaking;  /**< agent audio playing */
	struct bt_endpoint_waits thinking;  /**< agent thinking */
	uint32_t pause_pct;        /**< percentile of the speaker's inner
					pauses used as a floor (90) */
	uint32_t pause_margin_ms;  /**< added to that percentile (150) */
	uint32_t pause_min_count;  /**< pauses seen before it counts (3) */
	uint32_t false_end_step_ms; /**< extra wait per premature end (100) */
	uint32_t false_end_max_ms;  /**< cap of that extra wait (600) */
	uint32_t word_latency_ms;  /**< the recogniser reports a word within
					this of its end (500); words that reach
					a silence later were said after it */
};

/** Fill prm with the defaults (all fields set, none 0). */
void bt_endpoint_prm_default(struct bt_endpoint_prm *prm);

struct bt_endpoint;

/**
 * Allocate an endpointer for one session. prm may be NULL (defaults);
 * its 0 fields get defaults. EINVAL if a set is not ordered
 * min <= base <= incomplete <= max, or prosody_pct > 100, pause_pct > 100.
 * Free with mem_deref().
 */
int bt_endpoint_alloc(struct bt_endpoint **epp,
		      const struct bt_endpoint_prm *prm);

/**
 * How long the silence after the last speech must last before the turn
 * ends, in ms, between the set's min_wait_ms and max_wait_ms.
 *  partial:        transcript so far (lower-case words; NULL or "" when
 *                  the STT has nothing yet)
 *  expected:       the slot the agent waits for (BT_SLOT_TEXT: anything)
 *  prosody_end:    bt_prosody_end_score(), 0..1; pass a negative value
 *                  when there is none (taken as 0.5, no opinion)
 *  ctx:            what the agent was doing when the utterance began
 *                  (chooses the set of waits)
 * Cost: one bt_complete_score() plus a sort of at most 32 numbers.
 */
uint32_t bt_endpoint_wait_ms(struct bt_endpoint *ep, const char *partial,
			     enum bt_slot_type expected, float prosody_end,
			     enum bt_endpoint_ctx ctx);

/**
 * As bt_endpoint_wait_ms(), told how long the silence has lasted so far
 * (silence_ms, since the speech end the wait counts from). Two cues
 * need it, and bt_endpoint_wait_ms() goes without them:
 *  - words that grew the partial more than word_latency_ms into the
 *    silence were said after it began: the caller is speaking again
 *    before the VAD has confirmed it, so the wait counts from now
 *    (the returned wait is then longer than the set's max_wait_ms);
 *  - where the caller paused inside the utterance (a speech end, then
 *    more speech), the partial is scored with a comma at that place, as
 *    a punctuating recogniser would write it: "pizza, pasta" is a list
 *    being read, "chicken soup" is not (turn/complete.h).
 * Call bt_endpoint_utterance_begin() when a new utterance starts.
 */
uint32_t bt_endpoint_wait_at_ms(struct bt_endpoint *ep, const char *partial,
				enum bt_slot_type expected, float prosody_end,
				enum bt_endpoint_ctx ctx, uint32_t silence_ms);

/** A new utterance begins (its partial starts empty): forget the pause
 * places of the last one. */
void bt_endpoint_utterance_begin(struct bt_endpoint *ep);

/** Whether the agent's last words asked nothing in particular (true at
 * first): the words are then scored as bt_complete_score() does, else
 * as bt_complete_score_in() with open false. NULL ep: no-op. */
void bt_endpoint_set_open(struct bt_endpoint *ep, bool open);

/**
 * The user spoke again after a pause of pause_ms inside their turn
 * (before the turn ended). Feeds the speaker's pause model; pauses under
 * 100 ms are VAD jitter and ignored.
 */
void bt_endpoint_observe_pause(struct bt_endpoint *ep, uint32_t pause_ms);

/**
 * A turn was ended by the endpointer. If the user went on speaking
 * although the turn had ended (they were only pausing: the agent cut in),
 * pass user_resumed = true and silence_ms = the whole pause, from their
 * last speech to their next; it counts as an inner pause and lengthens
 * later waits by false_end_step_ms (up to false_end_max_ms). A turn that
 * really ended (user_resumed = false) slowly takes that extra back.
 */
void bt_endpoint_observe_turn_end(struct bt_endpoint *ep,
				  uint32_t silence_ms, bool user_resumed);

/** The last bt_endpoint_wait_ms() decision, for traces. */
struct bt_endpoint_decision {
	float complete;          /**< bt_complete_score() of the partial */
	const char *rule;        /**< its rule (static text) */
	bool question;
	float prosody;           /**< as used (0.5 if none given) */
	float end_like;          /**< combined 0..1 */
	uint32_t rule_wait_ms;   /**< from end_like alone */
	uint32_t pause_floor_ms; /**< speaker model floor, 0 if not used */
	uint32_t bias_ms;        /**< extra from premature ends */
	uint32_t late_ms;        /**< silence before words that came late
				      (the wait counts from them) */
	const char *scored;      /**< the text scored, with the pause
				      commas (valid until the next call) */
	uint32_t wait_ms;        /**< returned */
	enum bt_endpoint_ctx ctx;  /**< the set used */
};

/** Valid until the next bt_endpoint_wait_ms(); NULL if ep is NULL. */
const struct bt_endpoint_decision *
bt_endpoint_last(const struct bt_endpoint *ep);

#endif
