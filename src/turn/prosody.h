/**
 * @file prosody.h  Does the speech so far sound like the end of a turn?
 * (private to libbanter: the turn manager calls it.)
 *
 * Fed one 20 ms frame at a time with the pitch tracker's output and the
 * frame's level, it follows the voiced segments (syllable nuclei) of the
 * current utterance and keeps statistics of the speaker across the
 * utterances of a session. bt_prosody_end_score() then judges the last
 * stretch of speech:
 *  - pitch: falling over the final voiced stretch and ending low against
 *    the speaker's median says "done"; flat at the median or rising says
 *    "more to come";
 *  - final lengthening: a last syllable longer than the speaker's usual
 *    one says "done" (unless the pitch rises).
 *
 * Typical use per session: bt_prosody_alloc() once; bt_prosody_reset() at
 * each VAD speech start; bt_prosody_frame() for every frame of the
 * utterance (the VAD's hangover frames included); bt_prosody_end_score()
 * at the VAD's speech end (or at any moment).
 *
 * An instance belongs to one session and is called from its thread; no
 * locks and no allocation after bt_prosody_alloc().
 */
#ifndef BANTER_TURN_PROSODY_H
#define BANTER_TURN_PROSODY_H

#include <stddef.h>
#include <stdint.h>

struct bt_prosody;

/** Allocate with no speaker statistics yet. Free with mem_deref(). */
int bt_prosody_alloc(struct bt_prosody **pp);

/**
 * Start a new utterance. The speaker's statistics (median F0, mean
 * syllable length) are kept; the last syllable of the previous utterance
 * is left out of the mean, since it is the lengthened one.
 */
void bt_prosody_reset(struct bt_prosody *p);

/**
 * Feed one BT_FRAME_MS frame: f0_hz from bt_pitch_frame() (0 if
 * unvoiced), its voicing (0..1) and the frame's level in dBFS
 * (bt_level_dbfs()).
 */
void bt_prosody_frame(struct bt_prosody *p, float f0_hz, float voicing,
		      float level_dbfs);

/**
 * 0..1: how much the utterance so far sounds finished. 0.5 when there is
 * too little voiced speech to tell (under ~80 ms), so callers can treat
 * it as "no opinion". Cheap (a regression over at most 25 points).
 */
float bt_prosody_end_score(const struct bt_prosody *p);

/** What bt_prosody_end_score() saw; for traces and tests. */
struct bt_prosody_feat {
	size_t voiced_frames;  /**< in this utterance */
	size_t tail_frames;    /**< voiced frames in the final stretch */
	float fall_st;         /**< pitch change over it, semitones (<0 fall) */
	float end_rel_st;      /**< its end against the speaker's median */
	float median_hz;       /**< the speaker's median F0, 0 if unknown */
	uint32_t last_seg_ms;  /**< the last voiced segment (syllable) */
	uint32_t mean_seg_ms;  /**< the speaker's mean non-final segment */
	float pitch_cue;       /**< 0..1, 1 = final fall */
	float length_cue;      /**< 0..1, 1 = strongly lengthened */
	float score;           /**< = bt_prosody_end_score() */
};

void bt_prosody_features(const struct bt_prosody *p,
			 struct bt_prosody_feat *f);

#endif
