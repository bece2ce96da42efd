/**
 * @file aec.h  Acoustic echo cancellation (speexdsp underneath).
 *
 * On a sound card or a speakerphone the microphone hears the agent: without
 * echo cancellation the VAD takes the agent's own voice for the user, and
 * the agent interrupts itself. bt_aec takes each microphone frame together
 * with the far-end reference (the agent audio played out during the same
 * frame) and returns the microphone with the echo removed: an adaptive
 * filter (speex MDF) learns the echo path over `tail_ms`, and a residual
 * echo suppressor (speex preprocessor) removes what the filter leaves.
 *
 * The filter needs a few seconds of far-end speech to converge (2-5 s).
 * Until it has (see bt_aec_converged), the canceller is half-duplex: while
 * the far end plays, the output is brought down to the microphone's noise
 * floor, so the agent cannot interrupt itself on its first sentence; the
 * user cannot interrupt it during that time either. With no echo at all
 * (a headset) it counts as converged after half a second of far-end audio.
 * After convergence, frames that are mostly cancelled echo are still
 * brought down to the noise floor (a broadband residual suppressor).
 *
 * Delay assumption: the echo of a reference sample reaches the microphone
 * between 0 and tail_ms after the reference is given to bt_aec_process.
 * The reference must never lag the echo (a reference that arrives after its
 * echo cannot be cancelled), and what it leads by is taken out of the tail.
 * A transport that knows its output latency (audio queued in the sound
 * card, jitter buffers) delays the reference by about that much with
 * bt_aec_set_ref_delay_ms(), keeping a margin so it still leads.
 *
 * Not thread-safe: one instance per audio stream, called from one thread.
 */
#ifndef BANTER_AEC_H
#define BANTER_AEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum {
	BT_AEC_TAIL_MS_DEFAULT = 250,
	BT_AEC_TAIL_MS_MAX = 1000,
	BT_AEC_REF_DELAY_MS_MAX = 1000,
};

struct bt_aec;

/**
 * Allocate an echo canceller for mono PCM16 at rate_hz (8000 to 48000, a
 * multiple of 50 Hz so that 20 ms is whole samples; 0 = 16000), cancelling
 * echoes up to tail_ms long (0 = BT_AEC_TAIL_MS_DEFAULT; 20 to
 * BT_AEC_TAIL_MS_MAX). Denoising is off and the reference delay 0 until
 * set. Free with mem_deref().
 */
int bt_aec_alloc(struct bt_aec **ap, uint32_t rate_hz, uint32_t tail_ms);

/** Samples per 20 ms frame at the canceller's rate. */
size_t bt_aec_frame_samples(const struct bt_aec *a);

/**
 * Cancel the echo of `ref` in `mic`: n samples of each, n a multiple of
 * bt_aec_frame_samples(). ref is the far-end audio played during the same
 * frames (NULL = silence). out may be the same buffer as mic.
 */
int bt_aec_process(struct bt_aec *a, const int16_t *mic, const int16_t *ref,
		   int16_t *out, size_t n);

/**
 * Delay the reference by delay_ms (0 to BT_AEC_REF_DELAY_MS_MAX, rounded
 * to samples) before it reaches the filter, to align it with the echo.
 * Reference audio already given is kept and shifts by the new delay.
 */
int bt_aec_set_ref_delay_ms(struct bt_aec *a, uint32_t delay_ms);

/** True once the filter has converged (the output then passes as is). */
bool bt_aec_converged(const struct bt_aec *a);

/**
 * Noise suppression on the output (speex, about -15 dB), off by default:
 * it colours speech a little and the VAD already tracks the noise floor.
 */
int bt_aec_set_denoise(struct bt_aec *a, bool on);

#endif
