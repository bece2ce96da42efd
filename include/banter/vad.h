/**
 * @file vad.h  Voice activity detection: providers and the segmenter.
 *
 * A VAD provider classifies one frame (BT_FRAME_SAMPLES at BT_RATE_HZ) as
 * speech or not, with a probability. The segmenter (bt_vadseg) on top turns
 * frame decisions into speech start / speech end with a minimum speech
 * duration, a hangover, and a prefix buffer so the first syllable reaches STT.
 * Everything here runs on the session's thread, frame by frame, no locks.
 */
#ifndef BANTER_VAD_H
#define BANTER_VAD_H

#include <re.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct bt_vad_st; /* provider instance; first member: const struct bt_vad * */

/**
 * Probability a provider reports for a frame it calls speech only by its
 * own hangover (a few frames after speech, to bridge weak consonants and
 * short dips). Any other speech frame must not report exactly this value.
 * The segmenter counts such frames as non-speech, so its START and END
 * times rest on genuine speech frames only.
 */
#define BT_VAD_PROB_HOLD 0.5f

typedef int (bt_vad_alloc_h)(struct bt_vad_st **stp);
/** Classify one frame; *probp in [0,1]; returns 0 or errno. */
typedef int (bt_vad_frame_h)(struct bt_vad_st *st, const int16_t *pcm,
			     size_t n, float *probp);

struct bt_vad {
	struct le le;
	const char *name;
	bt_vad_alloc_h *alloch;
	bt_vad_frame_h *frameh;
};

void bt_vad_register(struct bt_vad *vad);
void bt_vad_unregister(struct bt_vad *vad);
const struct bt_vad *bt_vad_find(const char *name);

/** Our own VAD ("energy"): adapts to the noise floor; registered by bt_init. */
int bt_vad_energy_init(void);

/* ---- segmenter ---- */
struct bt_vadseg_prm {
	float threshold;        /**< speech if prob >= this (0 = 0.5) */
	uint32_t min_speech_ms; /**< shorter bursts are ignored (0 = 80) */
	uint32_t hangover_ms;   /**< non-speech before "end" (0 = 60) */
	uint32_t prefix_ms;     /**< audio kept before the start (0 = 300) */
};
void bt_vadseg_prm_default(struct bt_vadseg_prm *prm);

enum bt_vadseg_ev {
	BT_VADSEG_NONE = 0,
	BT_VADSEG_START, /**< speech confirmed; onset time in *onset_ms */
	BT_VADSEG_END,   /**< speech ended; last speech time in *end_ms */
};

struct bt_vadseg;

/** Allocate a segmenter over the provider `vad`. Free with mem_deref(). */
int bt_vadseg_alloc(struct bt_vadseg **segp, const struct bt_vad *vad,
		    const struct bt_vadseg_prm *prm);

/**
 * Feed one frame stamped t_ms (its start on the media clock).
 * *evp gets the event of this frame; *ev_ms its time (START: speech onset,
 * END: end of the last speech frame). *probp (may be NULL) the frame's prob.
 */
int bt_vadseg_frame(struct bt_vadseg *seg, const int16_t *pcm, size_t n,
		    uint64_t t_ms, enum bt_vadseg_ev *evp, uint64_t *ev_ms,
		    float *probp);

/** True between START and END. */
bool bt_vadseg_active(const struct bt_vadseg *seg);

/**
 * Speech gathered so far by a candidate that has not given START yet, in
 * ms, or a run of weak frames (loud but unvoiced: a fricative onset)
 * less its first 40 ms, whichever is more; 0 when there is neither or
 * speech is active. Lets a caller act on a likely onset before it is
 * confirmed, e.g. hold the agent's voice.
 */
uint32_t bt_vadseg_pending_ms(const struct bt_vadseg *seg);

/**
 * The prefix: the audio from the speech onset (less prefix_ms) up to and
 * including the current frame, valid right after START. Points inside
 * the segmenter; valid until the next bt_vadseg_frame().
 */
const int16_t *bt_vadseg_prefix(const struct bt_vadseg *seg, size_t *np);

#endif
