/**
 * @file dg_wire.h  Deepgram's live messages as the provider reads them
 *                  (not public): what a server sent, checked and bounded,
 *                  apart from what the provider then does with it, so that
 *                  it can be tested and fuzzed without a socket.
 */
#ifndef BT_DG_WIRE_H
#define BT_DG_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum {
	DG_WORDS_MAX = 96,       /* words read from one message */
	DG_TEXT_MAX = 512,
};

/** A word as the slot parsers read it, with its stream times. */
struct dg_word {
	char w[32];
	double start, end;       /* seconds of the stream, 0 <= start <= end */
	float conf;              /* 0 .. 1 */
};

enum dg_type {
	DG_OTHER = 0,            /* Metadata, an unknown type: nothing to do */
	DG_RESULTS,              /* /v1/listen: interim or final words */
	DG_TURNINFO,             /* /v2/listen (Flux): a turn event */
	DG_SPEECH_STARTED,
	DG_UTTERANCE_END,
	DG_ERROR,                /* the server reports an error */
};

enum dg_event {              /* Flux's TurnInfo events */
	DG_EV_OTHER = 0,         /* Update, or one not known */
	DG_EV_START,             /* StartOfTurn */
	DG_EV_EAGER,             /* EagerEndOfTurn */
	DG_EV_RESUMED,           /* TurnResumed */
	DG_EV_END,               /* EndOfTurn */
};

/** One message read. */
struct dg_msg {
	enum dg_type type;
	/* DG_RESULTS */
	bool is_final, speech_final, from_finalize;
	struct dg_word words[DG_WORDS_MAX]; /* those that end at t0 or later */
	size_t n_words;
	/* DG_TURNINFO */
	enum dg_event event;
	char text[DG_TEXT_MAX];  /* the turn's transcript, normalised */
	float conf;              /* mean of its words' confidences, 0 .. 1 */
	/* DG_ERROR */
	char desc[300];
};

/**
 * Read one text message. t0: stream seconds before which a word belongs
 * to an earlier utterance (left out). Numbers out of range (a time below
 * 0 or past a day, a confidence outside 0 .. 1) are brought within it.
 * Returns 0, or EPROTO for what is not a JSON object (m->type DG_OTHER);
 * m is filled in either case.
 */
int dg_msg_read(struct dg_msg *m, const uint8_t *buf, size_t n, double t0);

#endif
