/**
 * @file tts_int.h  Helpers shared by the TTS providers (not public).
 *
 * Every provider reports word timings for the same notion of "word": a
 * run of non-whitespace bytes of the input text, punctuation included, so
 * that joining the words heard with spaces gives back the line as written.
 * A provider maps its engine's own words onto these tokens (several engine
 * words may fall in one token: "7pm" is spoken as "seven p m").
 */
#ifndef BT_TTS_INT_H
#define BT_TTS_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "banter/tts.h"

enum {
	BT_TTS_TEXT_MAX = 8192,    /**< bytes of text per synth call */
	BT_TTS_AUDIO_MAX_S = 600,  /**< longest audio one call may make */
	BT_TTS_RATE_MIN = 80,      /**< words per minute */
	BT_TTS_RATE_MAX = 400,
};

/** One input word: bytes [b0, b1) of the text. */
struct bt_tts_tok {
	size_t b0;
	size_t b1;
	bool spoken;       /**< false for punctuation alone ("--", "...") */
};

/** Where a token is heard, in ms from the start of the engine's pcm. */
struct bt_tts_span {
	uint32_t start_ms;
	uint32_t end_ms;
	bool set;          /**< false: the engine said nothing for it */
};

/** Fill defaults for 0 fields and check ranges (EINVAL + message). */
int bt_tts_prm_norm(struct bt_tts_prm *out, const struct bt_tts_prm *in);

/**
 * Check the text's size and split it into tokens. *toksp is mem_alloc'd
 * (NULL when there are no tokens) and owned by the caller.
 */
int bt_tts_text_split(const char *text, struct bt_tts_tok **toksp,
		      size_t *np);

/** Index of the token holding byte off, else of the next one; n if none. */
size_t bt_tts_tok_find(const struct bt_tts_tok *toks, size_t n, size_t off);

/**
 * Make the result: strip long leading and trailing silence, shift and
 * clamp the spans into an ordered, non-overlapping list of words within
 * the audio. With trim_word_ends, a word's end is also pulled back over
 * silence (engines that only mark word starts put pauses into the word
 * before). Takes ownership of pcm (a mem_alloc'd buffer), also on error.
 */
/** A new bt_tts_audio holding copies of pcm and words (cache hits). */
int bt_tts_audio_copy(struct bt_tts_audio **ap, const int16_t *pcm, size_t n,
		      uint32_t rate_hz, const struct bt_tts_word *words,
		      size_t n_words);

/**
 * Put the cache in front of a provider's instance (tts/cache.c): *stp is
 * a wrapper owning inner, or inner itself while the cache is off. On
 * error inner is freed.
 */
int bt_tts_cache_wrap(struct bt_tts_st **stp, struct bt_tts_st *inner,
		      const char *provider, const char *voice,
		      const struct bt_tts_prm *prm);

int bt_tts_audio_build(struct bt_tts_audio **ap, const char *text,
		       const struct bt_tts_tok *toks,
		       const struct bt_tts_span *spans, size_t n_toks,
		       int16_t *pcm, size_t n, uint32_t rate_hz,
		       bool trim_word_ends);

#endif
