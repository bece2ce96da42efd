/**
 * @file el_wire.h  ElevenLabs' multi-context WebSocket messages as the
 *                  provider reads them (not public): a message's context,
 *                  error, audio and end, and the character alignment put
 *                  together into words, apart from the socket so that it
 *                  can be tested and fuzzed.
 */
#ifndef BT_EL_WIRE_H
#define BT_EL_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "banter/json.h"
#include "banter/tts.h"

/** One message read; el_msg_clear() frees it. */
struct el_msg {
	json_t *o;
	const char *ctx;         /* contextId (or context_id), or NULL */
	const char *err;         /* "error" or "message", or NULL */
	const char *audio;       /* base64 PCM s16le, or NULL */
	const json_t *alignment; /* or NULL */
	bool last;               /* isFinal / is_final */
};

/**
 * Read one text message. Returns 0, or EPROTO for what is not a JSON
 * object (then m holds nothing).
 */
int el_msg_read(struct el_msg *m, const uint8_t *buf, size_t n);
void el_msg_clear(struct el_msg *m);

/**
 * The message's audio as samples (*pcmp mem_alloc'd, *np of them; an odd
 * last byte is dropped). Returns 0 (none: *np 0), EBADMSG for what is
 * not base64, or ENOMEM.
 */
int el_msg_audio(const struct el_msg *m, int16_t **pcmp, size_t *np);

/** A context's words being put together from its characters. */
struct el_align {
	double audio_ms;         /* audio received before this chunk */
	char word[64];           /* the word being put together */
	size_t wlen;
	double wstart, wend;
	uint32_t last_ms;        /* the end of the last word handed on */
};

/**
 * The chunk's alignment ({"chars", "charStartTimesMs",
 * "charDurationsMs"}, times from the chunk's start) into whole words,
 * written to out (at most max); a word still open waits for the next
 * chunk, or for el_align_flush. Times are ms from the context's first
 * audio, never going back from one word to the next, and bounded (a
 * server's negative or huge times are brought within a day).
 */
size_t el_align_read(struct el_align *a, const json_t *alignment,
		     struct bt_tts_word *out, size_t max);

/** The open word, if any, into out[*n] (when *n < max). */
void el_align_flush(struct el_align *a, struct bt_tts_word *out, size_t *n,
		    size_t max);

/** After a chunk: np samples at rate_hz were received. */
void el_align_advance(struct el_align *a, size_t np, unsigned rate_hz);

#endif
