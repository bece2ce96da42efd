/**
 * @file recording.h  A call's recording: a stereo WAV (caller left, agent
 *                    right, the pipeline rate) and its trace (JSON lines)
 *                    beside it, written off the session's thread.
 *
 * The session feeds it frame by frame; nothing reaches the disk until
 * rec_keep() (the caller consented), so a caller who declines leaves no
 * file behind. Audio and trace lines wait in memory (at most
 * REC_HOLD_S seconds of audio before rec_keep(); a second after) and go
 * to the disk as jobs on the worker pool, in order, through one file
 * handle guarded by a mutex (or inline when `inline_io`: the simulator,
 * whose work runs in order on its own thread).
 *
 * All functions run on the session's thread. A write error is reported
 * once by rec_error() and the recording stops; the call goes on.
 */
#ifndef BT_STORE_RECORDING_H
#define BT_STORE_RECORDING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum {
	REC_HOLD_S = 60,      /* audio held before consent, at most */
};

struct rec;

/**
 * Make a recording of session `id` in folder `dir` (made when the first
 * write happens). Files: DIR/YYYYMMDD-HHMMSS-ID.wav and .trace.jsonl
 * (the time is when the call began, UTC). mem_deref() finishes the files
 * (if kept) or throws away what was held.
 */
int rec_alloc(struct rec **rp, const char *dir, const char *id,
	      uint32_t rate_hz, bool inline_io);

/** Audio is recorded from the next caller frame on (the consent notice
 * has played): both sides begin with the same frame. */
void rec_audio_on(struct rec *r);

/** One frame of the caller's audio (left) or the agent's (right). */
void rec_caller(struct rec *r, const int16_t *pcm, size_t n);
void rec_agent(struct rec *r, const int16_t *pcm, size_t n);

/** A trace line (one JSON object, no newline). */
void rec_trace(struct rec *r, const char *json);

/** The caller consented: write what is held and all that follows. */
int rec_keep(struct rec *r);

/** The caller declined: drop what is held and record nothing more. */
void rec_drop(struct rec *r);

bool rec_kept(const struct rec *r);

/** The WAV's path ("" before rec_alloc succeeded). */
const char *rec_wav_path(const struct rec *r);

/** A write error since the last call (NULL: none); reported once. */
const char *rec_error(struct rec *r);

/**
 * Delete recordings (banter's file names only: YYYYMMDD-HHMMSS-*.wav and
 * *.trace.jsonl) in `dir` older than `days` days. Blocks on the disk: run
 * it on a worker or at start. *np: files removed. A missing folder is
 * not an error.
 */
int rec_purge(const char *dir, unsigned days, unsigned *np);

#endif
