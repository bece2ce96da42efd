/**
 * @file pitch.h  Pitch (F0) tracker for the pipeline's 20 ms frames
 * (private to libbanter: the turn manager's prosody features use it).
 *
 * Input: PCM16 mono at BT_RATE_HZ, normally BT_FRAME_SAMPLES per call.
 * The tracker keeps the last 40 ms, so every call looks at the new frame
 * together with the one before it. Range 60-400 Hz.
 *
 * An instance belongs to one session and is called from that session's
 * thread only; no locks, no allocation after bt_pitch_alloc().
 */
#ifndef BANTER_AUDIO_PITCH_H
#define BANTER_AUDIO_PITCH_H

#include <stddef.h>
#include <stdint.h>

enum {
	BT_PITCH_MIN_HZ = 60,
	BT_PITCH_MAX_HZ = 400,
};

struct bt_pitch;

/** Allocate a tracker (about 7 KB). Free with mem_deref(). */
int bt_pitch_alloc(struct bt_pitch **pp);

/**
 * Forget the signal history (the next call starts as the first one).
 * Call it when frames stop being contiguous, e.g. at a new utterance if
 * frames between utterances were not fed.
 */
void bt_pitch_reset(struct bt_pitch *p);

/**
 * Analyse the next n samples (1..640; BT_FRAME_SAMPLES normally).
 * Returns F0 in Hz of the latest ~23 ms, or 0 if unvoiced (also for the
 * first 40 ms after alloc/reset and for frames quieter than -60 dBFS).
 * *voicingp (may be NULL) gets the periodicity, 0..1: the normalised
 * correlation at the chosen period (voiced speech 0.6-1, noise < 0.5).
 * Returns 0 and leaves the history alone if p or pcm is NULL or n is 0
 * or over 640.
 */
float bt_pitch_frame(struct bt_pitch *p, const int16_t *pcm, size_t n,
		     float *voicingp);

#endif
