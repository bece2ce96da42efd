/**
 * @file stt_int.h  What the recognisers share (not public): the words as
 *                  the slot parsers read them, and an utterance's audio
 *                  kept for a later upload or a replay.
 */
#ifndef BT_STT_INT_H
#define BT_STT_INT_H

#include <stddef.h>
#include <stdint.h>

/**
 * A recogniser's text as words the slot parsers read: lower case;
 * letters, digits and apostrophes or hyphens inside a word ("don't",
 * "uh-huh"); everything else separates words. out is always terminated.
 */
void stt_text_norm(char *out, size_t sz, const char *in);

/** An utterance's audio, growing up to max_n samples (then cut there). */
struct stt_audio {
	int16_t *pcm;    /* mem_alloc'd */
	size_t n, cap;
};

/** Append (what does not fit past max_n is dropped). */
void stt_audio_add(struct stt_audio *a, const int16_t *pcm, size_t n,
		   size_t max_n);

#endif
