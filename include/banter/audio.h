/**
 * @file audio.h  Frames, resampling and WAV files.
 *
 * The pipeline runs on PCM16 mono at BT_RATE_HZ in frames of BT_FRAME_MS.
 */
#ifndef BANTER_AUDIO_H
#define BANTER_AUDIO_H

#include <stddef.h>
#include <stdint.h>

enum {
	BT_RATE_HZ = 16000,
	/* the sample rates audio may come in at (WAV files, transports,
	 * the resampler): the reader and the resampler accept the same */
	BT_RATE_MIN_HZ = 1000,
	BT_RATE_MAX_HZ = 384000,
	BT_FRAME_MS = 20,
	BT_FRAME_SAMPLES = BT_RATE_HZ / 1000 * BT_FRAME_MS, /* 320 */
};

/* ---- resampler (soxr underneath), streaming, one direction ---- */
struct bt_resampler;

/** Allocate a streaming mono PCM16 resampler. Free with mem_deref(). */
int bt_resampler_alloc(struct bt_resampler **rp, uint32_t in_hz,
		       uint32_t out_hz);
/**
 * The same for audio that crosses a network as it is spoken (a caller's
 * stream, the agent's reply): each frame's worth comes out as it goes in,
 * 2-3 ms behind (speexdsp), where soxr's blocks held 20 ms frames back
 * 0-44 ms (0-100 ms at 8 -> 16 kHz).
 */
int bt_resampler_alloc_live(struct bt_resampler **rp, uint32_t in_hz,
			    uint32_t out_hz);

/**
 * Resample n_in samples; writes at most out_max samples and sets *n_out.
 * out_max must be at least n_in * out_hz / in_hz + 16. Pass in=NULL,
 * n_in=0 to flush what is still inside the filter at the end of a stream.
 */
int bt_resample(struct bt_resampler *r, const int16_t *in, size_t n_in,
		int16_t *out, size_t out_max, size_t *n_out);

/**
 * One-shot helper: resample a whole buffer. *outp is allocated with
 * mem_alloc() and owned by the caller. Identity copy if rates are equal.
 */
int bt_resample_buf(const int16_t *in, size_t n_in, uint32_t in_hz,
		    uint32_t out_hz, int16_t **outp, size_t *n_outp);

/* ---- WAV files ---- */

/**
 * Read a PCM WAV file (8/16/24/32-bit int or 32-bit float, any channel
 * count, mixed down to mono). *pcmp is mem_alloc()'d, owned by the caller.
 * On a missing, unreadable or malformed file returns an errno value and
 * sets bt_errmsg() with the path and what is wrong.
 */
int bt_wav_read(const char *path, int16_t **pcmp, size_t *np,
		uint32_t *rate_hzp);

/**
 * Same from a WAV file already in memory (sz bytes at buf, not changed nor
 * kept); `name` (may be NULL) stands for the file in messages. *pcmp is
 * mem_alloc()'d, owned by the caller. Any thread.
 */
int bt_wav_read_mem(const void *buf, size_t sz, const char *name,
		    int16_t **pcmp, size_t *np, uint32_t *rate_hzp);

struct bt_wav_writer;

/** Open a PCM16 WAV file for writing (channels 1 or 2). mem_deref closes. */
int bt_wav_writer_open(struct bt_wav_writer **wp, const char *path,
		       uint32_t rate_hz, unsigned channels);

/** Append interleaved frames (n = number of sample frames). */
int bt_wav_writer_write(struct bt_wav_writer *w, const int16_t *pcm,
			size_t n);

/** Write the header sizes and close; also done by mem_deref. */
int bt_wav_writer_close(struct bt_wav_writer *w);

/** Root-mean-square level of a buffer in dBFS (-120 for silence). */
double bt_level_dbfs(const int16_t *pcm, size_t n);

#endif
