/**
 * @file resample.c  Streaming mono PCM16 resampling: soxr for audio that
 *                    is not live, speexdsp's resampler for live audio.
 *
 * soxr's medium quality (16-bit precision, linear phase) is plenty for
 * speech. Dither is off so that digital silence stays digital silence: the
 * VAD and the tests rely on zeros coming out as zeros. But soxr gives its
 * output in blocks: fed 20 ms frames it held back 0-44 ms at 24 -> 16 kHz
 * and 0-100 ms at 8 -> 16 kHz (nothing for five frames, then all of them),
 * each way of a call. A live resampler (bt_resampler_alloc_live: a
 * caller's stream, the agent's reply over the network) is speexdsp's,
 * which gives each frame's worth out as the frame goes in, 2-3 ms behind
 * (its filter's delay at quality 5, measured).
 */
#include <errno.h>
#include <string.h>
#include <re.h>
#include <soxr.h>
#include <speex/speex_resampler.h>
#include "banter/audio.h"
#include "banter/err.h"

enum {
	RATE_MIN_HZ = BT_RATE_MIN_HZ,
	RATE_MAX_HZ = BT_RATE_MAX_HZ,
	LIVE_QUALITY = 5,  /* speexdsp: 0-10; 5 is its "VoIP" default */
};

struct bt_resampler {
	soxr_t soxr;     /* NULL when in_hz == out_hz (plain copy) */
	SpeexResamplerState *spx;  /* instead of soxr: a live one */
	uint32_t in_hz;
	uint32_t out_hz;
	bool flushing;   /* end of stream given, draining the filter */
};

static void resampler_destructor(void *arg)
{
	struct bt_resampler *r = arg;

	if (r->soxr)
		soxr_delete(r->soxr);
	if (r->spx)
		speex_resampler_destroy(r->spx);
}

static int alloc(struct bt_resampler **rp, uint32_t in_hz, uint32_t out_hz,
		 bool live)
{
	struct bt_resampler *r;
	soxr_io_spec_t io;
	soxr_quality_spec_t q;
	soxr_runtime_spec_t rt;
	soxr_error_t serr = NULL;
	int err = 0;

	if (!rp)
		return bt_err(EINVAL, "resampler: no result pointer given");
	if (in_hz < RATE_MIN_HZ || in_hz > RATE_MAX_HZ ||
	    out_hz < RATE_MIN_HZ || out_hz > RATE_MAX_HZ)
		return bt_err(EINVAL, "resampler: rate %u Hz -> %u Hz is out "
			      "of range; use rates between %u and %u Hz",
			      in_hz, out_hz, RATE_MIN_HZ, RATE_MAX_HZ);

	r = mem_zalloc(sizeof(*r), resampler_destructor);
	if (!r)
		return bt_err(ENOMEM, "resampler: out of memory");

	r->in_hz = in_hz;
	r->out_hz = out_hz;

	if (in_hz != out_hz && live) {
		int e = 0;

		r->spx = speex_resampler_init(1, in_hz, out_hz, LIVE_QUALITY,
					      &e);
		if (!r->spx)
			err = bt_err(ENOMEM, "resampler: speexdsp cannot "
				     "resample %u Hz -> %u Hz (%s)", in_hz,
				     out_hz, speex_resampler_strerror(e));
	}
	else if (in_hz != out_hz) {
		io = soxr_io_spec(SOXR_INT16_I, SOXR_INT16_I);
		io.flags |= SOXR_NO_DITHER;
		q = soxr_quality_spec(SOXR_MQ, 0);
		rt = soxr_runtime_spec(1);

		r->soxr = soxr_create(in_hz, out_hz, 1, &serr, &io, &q, &rt);
		if (!r->soxr || serr) {
			err = bt_err(ENOMEM, "resampler: soxr cannot resample "
				     "%u Hz -> %u Hz (%s)", in_hz, out_hz,
				     serr ? serr : "unknown error");
			goto out;
		}
	}

 out:
	if (err)
		mem_deref(r);
	else
		*rp = r;

	return err;
}

int bt_resampler_alloc(struct bt_resampler **rp, uint32_t in_hz,
		       uint32_t out_hz)
{
	return alloc(rp, in_hz, out_hz, false);
}

int bt_resampler_alloc_live(struct bt_resampler **rp, uint32_t in_hz,
			    uint32_t out_hz)
{
	return alloc(rp, in_hz, out_hz, true);
}

/* A live resampler: speexdsp takes all the input if the room is there. */
static int spx_process(struct bt_resampler *r, const int16_t *in,
		       size_t n_in, int16_t *out, size_t out_max,
		       size_t *n_out)
{
	spx_uint32_t il = (spx_uint32_t)n_in, ol = (spx_uint32_t)out_max;
	int e;

	e = speex_resampler_process_int(r->spx, 0, in, &il, out, &ol);
	if (e != RESAMPLER_ERR_SUCCESS)
		return bt_err(EIO, "resample: speexdsp failed (%s)",
			      speex_resampler_strerror(e));
	if (il < n_in)
		return bt_err(ENOBUFS, "resample: output buffer of %zu "
			      "samples is too small for %zu input samples at "
			      "%u -> %u Hz; give at least n_in * out_hz / "
			      "in_hz + 16", out_max, n_in, r->in_hz,
			      r->out_hz);
	*n_out = ol;
	return 0;
}

/* The end of a live stream: what the filter holds, then a fresh start. */
static int spx_flush(struct bt_resampler *r, int16_t *out, size_t out_max,
		     size_t *n_out)
{
	static const int16_t zeros[256];
	int16_t tail[512];
	size_t lat = (size_t)speex_resampler_get_input_latency(r->spx);
	size_t want = (size_t)speex_resampler_get_output_latency(r->spx);
	size_t got = 0;
	int err;

	/* the call after the tail gives 0: the stream is drained */
	*n_out = 0;
	if (r->flushing) {
		r->flushing = false;
		return 0;
	}
	if (lat > sizeof(zeros) / sizeof(zeros[0]))
		lat = sizeof(zeros) / sizeof(zeros[0]);
	err = spx_process(r, zeros, lat, tail, sizeof(tail) /
			  sizeof(tail[0]), &got);
	if (got > want)
		got = want;
	if (got > out_max)
		got = out_max;
	if (!err)
		memcpy(out, tail, got * sizeof(*out));
	speex_resampler_reset_mem(r->spx);
	r->flushing = !err;
	*n_out = err ? 0 : got;
	return err;
}

static int copy_through(const int16_t *in, size_t n_in, int16_t *out,
			size_t out_max, size_t *n_out)
{
	if (n_in > out_max)
		return bt_err(ENOBUFS, "resampler: output buffer holds %zu "
			      "samples but %zu are needed; give a larger "
			      "buffer", out_max, n_in);
	if (n_in)
		memcpy(out, in, n_in * sizeof(*in));
	*n_out = n_in;
	return 0;
}

static int flush(struct bt_resampler *r, int16_t *out, size_t out_max,
		 size_t *n_out)
{
	size_t done = 0;

	r->flushing = true;

	while (done < out_max) {
		size_t odone = 0;
		soxr_error_t serr;

		serr = soxr_process(r->soxr, NULL, 0, NULL, out + done,
				    out_max - done, &odone);
		if (serr)
			return bt_err(EIO, "resampler: flush failed (%s)",
				      serr);
		if (!odone) {
			/* Drained: make the resampler usable for a new
			 * stream instead of stuck in end-of-input. */
			soxr_clear(r->soxr);
			r->flushing = false;
			break;
		}
		done += odone;
	}

	*n_out = done;
	return 0;
}

int bt_resample(struct bt_resampler *r, const int16_t *in, size_t n_in,
		int16_t *out, size_t out_max, size_t *n_out)
{
	size_t used = 0, done = 0;

	if (!r || !out || !n_out || (n_in && !in))
		return bt_err(EINVAL, "resample: missing argument");

	*n_out = 0;

	if (r->spx && in) {
		r->flushing = false;
		return spx_process(r, in, n_in, out, out_max, n_out);
	}
	if (r->spx)
		return spx_flush(r, out, out_max, n_out);
	if (!r->soxr)
		return in ? copy_through(in, n_in, out, out_max, n_out) : 0;

	if (!in)
		return flush(r, out, out_max, n_out);

	if (r->flushing)
		return bt_err(EINVAL, "resample: the stream is being flushed; "
			      "call bt_resample(r, NULL, 0, ...) until it gives "
			      "0 samples before feeding new audio");

	/* soxr may hold back input when the output space runs out, so
	 * keep going until every input sample is taken. */
	while (used < n_in) {
		size_t idone = 0, odone = 0;
		soxr_error_t serr;

		serr = soxr_process(r->soxr, in + used, n_in - used, &idone,
				    out + done, out_max - done, &odone);
		if (serr)
			return bt_err(EIO, "resample: soxr failed (%s)", serr);

		used += idone;
		done += odone;

		if (used < n_in && (done == out_max || (!idone && !odone)))
			return bt_err(ENOBUFS, "resample: output buffer of "
				      "%zu samples is too small for %zu input "
				      "samples at %u -> %u Hz; give at least "
				      "n_in * out_hz / in_hz + 16", out_max,
				      n_in, r->in_hz, r->out_hz);
	}

	*n_out = done;
	return 0;
}

int bt_resample_buf(const int16_t *in, size_t n_in, uint32_t in_hz,
		    uint32_t out_hz, int16_t **outp, size_t *n_outp)
{
	struct bt_resampler *r = NULL;
	int16_t *out = NULL;
	size_t cap, n = 0, m = 0;
	int err;

	if ((n_in && !in) || !outp || !n_outp)
		return bt_err(EINVAL, "resample: missing argument");

	err = bt_resampler_alloc(&r, in_hz, out_hz);
	if (err)
		return err;

	if (n_in > SIZE_MAX / 4 / sizeof(*out) / (out_hz / in_hz + 1)) {
		err = bt_err(E2BIG, "resample: %zu samples is too much audio "
			     "for one buffer; resample it in pieces", n_in);
		goto out;
	}

	/* Room for the steady-state output plus the filter's tail. */
	cap = (size_t)((double)n_in * out_hz / in_hz) + 1024;
	out = mem_alloc(cap * sizeof(*out), NULL);
	if (!out) {
		err = bt_err(ENOMEM, "resample: out of memory for %zu samples",
			     cap);
		goto out;
	}

	/*
	 * In pieces of a second: soxr handed ten minutes at once works
	 * through one huge block (fine in a release build, minutes under
	 * AddressSanitizer); a piece at a time is the streaming path's cost.
	 */
	for (size_t done = 0; done < n_in;) {
		size_t k = n_in - done > in_hz ? in_hz : n_in - done;

		err = bt_resample(r, in + done, k, out + n, cap - n, &m);
		if (err)
			goto out;
		n += m;
		done += k;
	}
	m = 0;

	if (r->soxr) {
		err = flush(r, out + n, cap - n, &m);
		if (err)
			goto out;
		n += m;
	}

 out:
	mem_deref(r);
	if (err) {
		mem_deref(out);
	}
	else {
		*outp = out;
		*n_outp = n;
	}

	return err;
}
