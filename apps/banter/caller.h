/**
 * @file caller.h  Caller files (docs/caller-file.md), shared by
 * `banter simulate` and `banter call`.
 *
 * Every turn is rendered to PCM16 at BT_RATE_HZ when the file is loaded,
 * so a missing WAV or an unknown voice is reported (file:line:column)
 * before a call starts. Main thread only; needs bt_init().
 */
#ifndef BANTER_CALLER_H
#define BANTER_CALLER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

enum { CALLER_MAX_TURNS = 256, CALLER_SAID_MAX = 160,
       CALLER_HEARD_MAX = 2048 };

struct cturn {
	int16_t *pcm;     /* BT_RATE_HZ, mem_alloc'd, owned by the caller;
			     NULL: n samples of silence */
	size_t n;
	int64_t barge_after_ms; /* -1: waits for the agent to stop */
	bool backchannel;
	bool silence;
	uint32_t gap_ms;
	char label[256];
	/* "if_agent_said", normalised (caller_norm): said only when the
	 * agent's words since the caller's last turn hold it; "": always */
	char if_said[CALLER_SAID_MAX];
};

struct caller {
	struct cturn turns[CALLER_MAX_TURNS];
	size_t n_turns;
};

/**
 * Load and render a caller file. *cp is mem_zalloc'd (free with
 * mem_deref); on error returns an errno value and bt_errmsg() says where
 * in the file and what to fix.
 */
int caller_load(struct caller **cp, const char *path);

/**
 * Index of a turn's last speech sample (the last at or above 300: what
 * follows is its trailing silence), or -1 if it has none. Where the
 * callers measure voice-to-voice from.
 */
int64_t caller_last_speech(const int16_t *pcm, size_t n);

/**
 * Append an agent's words to what the caller heard since its last turn
 * (heard: CALLER_HEARD_MAX bytes, normalised as if_agent_said is; what
 * does not fit is dropped).
 */
void caller_heard_add(char *heard, const char *words);

/**
 * Whether turn t is said now, after the agent said `heard` (from
 * caller_heard_add) since the caller's last turn: a turn with
 * if_agent_said only when a sentence of it begins with those words
 * (whole words; case and punctuation do not matter). A turn skipped is
 * printed as such (caller_print) at t_ms.
 */
bool caller_turn_wanted(const struct cturn *t, const char *heard,
			bool quiet, uint64_t t_ms);

/** A line of the call's transcript, stamped t_ms (nothing if quiet). */
void caller_print(bool quiet, uint64_t t_ms, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/** The latency table's header line (no newline). */
void caller_table_head(char *buf, size_t sz);

/**
 * One row of the latency table from a `turn` trace object; false (nothing
 * written) unless its kind is "reply". `extra` (may be NULL) is printed
 * after the v2v column, before "(interrupted)".
 */
bool caller_table_row(char *buf, size_t sz, const json_t *turn,
		      const char *extra);

#endif
