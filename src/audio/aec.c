/**
 * @file aec.c  Echo cancellation: speex MDF adaptive filter, the speex
 * preprocessor as residual echo suppressor, then a gate that holds the
 * output down while the far end plays until the filter has converged;
 * behind a reference delay line.
 *
 * The preprocessor applies no gain at all, residual echo suppression
 * included, while its "denoise" switch is off; so denoise stays on inside
 * speex and "denoise off" means a noise suppression of 0 dB: noise-only
 * bins keep a gain floor of 1 and only bins holding residual echo are
 * attenuated.
 *
 * Why the gate: on speech, MDF needs 2-4 s of far-end audio to converge
 * (about 10 dB of echo reduction in the first second, 15-20 dB after two),
 * and the preprocessor adds little before that. The residual in those
 * seconds is voiced speech well above the noise floor, so our VAD takes it
 * for the user, and the session pauses the agent on its own greeting. So
 * until the output, measured over the frames where the far end plays,
 * stays 20 dB under the microphone (or within 3 dB of the noise floor: no
 * echo at all, a headset), the canceller is half-duplex: while the far end
 * plays (or its echo may still arrive, one tail later) the output is
 * brought down to the microphone's noise floor (at most 40 dB down), not
 * to silence, so the VAD's own floor does not drop and jump back. Once
 * converged it stays so: a drop in ERLE afterwards is far more likely
 * double-talk than a new room, and MDF follows a changed echo path by
 * itself.
 *
 * After that a broadband residual suppressor stays: while the far end
 * plays, a frame whose output is 6-10 dB or more under the microphone is
 * mostly cancelled echo, and it is brought down towards the noise floor
 * as well (fully from 10 dB on). So is a frame where the filter's echo
 * estimate holds more than the microphone (-1 to +2 dB): with the near
 * end and the echo independent that cannot be right; it happens when a
 * loud onset in the reference meets the taps of the lags shorter than the
 * echo's delay, which should be zero but carry the filter's small errors,
 * and the "cancelled" output is then mostly the filter's own injection.
 * The near end talking keeps the output near the microphone's level and
 * passes untouched; only a near end quieter than the echo is lost (as
 * with any AEC).
 *
 * Cost per 20 ms frame at 16 kHz with the default 250 ms tail: the MDF
 * filter works on 13 blocks of 320 samples, the preprocessor on one frame;
 * about 0.1 ms of CPU on a current x86 core in all. Memory is allocated
 * once, here.
 */
#include <errno.h>
#include <math.h>
#include <string.h>
#include <re.h>
#include <speex/speex_echo.h>
#include <speex/speex_preprocess.h>
#include "banter/aec.h"
#include "banter/err.h"

enum {
	FRAME_MS = 20,
	NOISE_SUPPRESS_ON_DB = -15,
	CONV_MIN_FRAMES = 25,       /* far-end frames before judging */
};

/* Gate tuning; see the file comment. Powers are per-sample means. */
static const double FAR_ACTIVE_POW = 3.4e3;    /* -50 dBFS RMS */
static const double GATE_MIN_GAIN = 0.01;      /* -40 dB */
static const double CONV_ERLE = 100.0;         /* 20 dB */
static const double CONV_NOISE = 2.0;          /* 3 dB over the floor */
static const double CONV_DECAY = 0.97;         /* ~0.7 s of memory */
static const double NOISE_RISE = 1.0046;       /* 1 dB/s */
static const double NOISE_MIN_POW = 1e-2;
static const double NLP_FROM_DB = 6.0;  /* mic over output: ... */
static const double NLP_TO_DB = 10.0;   /* ... mostly echo removed */
static const double EST_FROM_DB = -1.0; /* echo estimate over the mic */
static const double EST_TO_DB = 2.0;

struct bt_aec {
	SpeexEchoState *echo;
	SpeexPreprocessState *pp;
	uint32_t rate_hz;
	size_t frame;        /* samples per 20 ms */

	/* reference delay line: the newest frame ends at wpos */
	int16_t *ring;
	size_t ring_n;
	size_t wpos;
	size_t delay;        /* samples */

	int16_t *zero;       /* a frame of silence for ref == NULL */
	int16_t *tmp;        /* the MDF output, before the preprocessor */

	/* the convergence gate */
	double *far_pow;     /* reference power of the last tail's frames */
	size_t far_n, far_i;
	double noise;        /* microphone noise floor (power) */
	bool noise_init;
	double sum_out, sum_allowed;
	unsigned n_far;
	bool converged;
	double gain;         /* the gate's gain at the end of the last frame */
};

static void aec_destructor(void *arg)
{
	struct bt_aec *a = arg;

	if (a->pp)
		speex_preprocess_state_destroy(a->pp);
	if (a->echo)
		speex_echo_state_destroy(a->echo);
	mem_deref(a->ring);
	mem_deref(a->zero);
	mem_deref(a->tmp);
	mem_deref(a->far_pow);
}

int bt_aec_alloc(struct bt_aec **ap, uint32_t rate_hz, uint32_t tail_ms)
{
	struct bt_aec *a;
	spx_int32_t v;
	int err = 0;

	if (!ap)
		return bt_err(EINVAL, "echo canceller: missing argument");
	if (!rate_hz)
		rate_hz = 16000;
	if (!tail_ms)
		tail_ms = BT_AEC_TAIL_MS_DEFAULT;
	if (rate_hz < 8000 || rate_hz > 48000 || rate_hz % 50)
		return bt_err(EINVAL, "echo canceller: rate %u Hz not "
			      "supported; use 8000 to 48000 Hz, a multiple of "
			      "50 Hz (e.g. 16000)", rate_hz);
	if (tail_ms < FRAME_MS || tail_ms > BT_AEC_TAIL_MS_MAX)
		return bt_err(EINVAL, "echo canceller: tail of %u ms; give "
			      "%d to %d ms (the longest echo to cancel, "
			      "typically 100-300 ms)", tail_ms, FRAME_MS,
			      BT_AEC_TAIL_MS_MAX);

	a = mem_zalloc(sizeof(*a), aec_destructor);
	if (!a)
		return bt_err(ENOMEM, "echo canceller: out of memory");

	a->rate_hz = rate_hz;
	a->frame = rate_hz / 1000 * FRAME_MS;
	a->ring_n = (size_t)rate_hz * BT_AEC_REF_DELAY_MS_MAX / 1000 +
		a->frame;
	a->ring = mem_zalloc(a->ring_n * sizeof(int16_t), NULL);
	a->zero = mem_zalloc(a->frame * sizeof(int16_t), NULL);
	a->tmp = mem_zalloc(a->frame * sizeof(int16_t), NULL);
	a->far_n = tail_ms / FRAME_MS + 1;
	a->far_pow = mem_zalloc(a->far_n * sizeof(double), NULL);
	a->gain = 1.0;
	if (!a->ring || !a->zero || !a->tmp || !a->far_pow) {
		err = bt_err(ENOMEM, "echo canceller: out of memory");
		goto out;
	}

	a->echo = speex_echo_state_init((int)a->frame,
					(int)((size_t)rate_hz * tail_ms /
					      1000));
	a->pp = speex_preprocess_state_init((int)a->frame, (int)rate_hz);
	if (!a->echo || !a->pp) {
		err = bt_err(ENOMEM, "echo canceller: cannot create the "
			     "speexdsp state (out of memory)");
		goto out;
	}
	v = (spx_int32_t)rate_hz;
	speex_echo_ctl(a->echo, SPEEX_ECHO_SET_SAMPLING_RATE, &v);
	speex_preprocess_ctl(a->pp, SPEEX_PREPROCESS_SET_ECHO_STATE, a->echo);
	err = bt_aec_set_denoise(a, false);
	if (err)
		goto out;

 out:
	if (err)
		mem_deref(a);
	else
		*ap = a;
	return err;
}

size_t bt_aec_frame_samples(const struct bt_aec *a)
{
	return a ? a->frame : 0;
}

int bt_aec_set_denoise(struct bt_aec *a, bool on)
{
	spx_int32_t v = 1;

	if (!a)
		return bt_err(EINVAL, "echo canceller: missing argument");

	/* see the file comment: the switch stays on, the depth changes */
	speex_preprocess_ctl(a->pp, SPEEX_PREPROCESS_SET_DENOISE, &v);
	v = on ? NOISE_SUPPRESS_ON_DB : 0;
	speex_preprocess_ctl(a->pp, SPEEX_PREPROCESS_SET_NOISE_SUPPRESS, &v);
	return 0;
}

int bt_aec_set_ref_delay_ms(struct bt_aec *a, uint32_t delay_ms)
{
	if (!a)
		return bt_err(EINVAL, "echo canceller: missing argument");
	if (delay_ms > BT_AEC_REF_DELAY_MS_MAX)
		return bt_err(EINVAL, "echo canceller: reference delay of %u "
			      "ms; give 0 to %d ms", delay_ms,
			      BT_AEC_REF_DELAY_MS_MAX);

	a->delay = (size_t)a->rate_hz * delay_ms / 1000;
	return 0;
}

/* Put one reference frame into the ring and return the frame that is
 * `delay` samples older, copied into dst. */
static void delay_frame(struct bt_aec *a, const int16_t *ref, int16_t *dst)
{
	size_t i, rpos;

	for (i = 0; i < a->frame; i++) {
		a->ring[a->wpos] = ref[i];
		if (++a->wpos == a->ring_n)
			a->wpos = 0;
	}

	rpos = (a->wpos + a->ring_n - a->frame - a->delay) % a->ring_n;
	for (i = 0; i < a->frame; i++) {
		dst[i] = a->ring[rpos];
		if (++rpos == a->ring_n)
			rpos = 0;
	}
}

static double power(const int16_t *x, size_t n)
{
	double e = 0.0;

	for (size_t i = 0; i < n; i++)
		e += (double)x[i] * x[i];
	return e / (double)n;
}

/* Power of the filter's echo estimate: what it took out of the mic. */
static double est_power(const int16_t *mic, const int16_t *e, size_t n)
{
	double p = 0.0;

	for (size_t i = 0; i < n; i++) {
		double y = (double)mic[i] - e[i];

		p += y * y;
	}
	return p / (double)n;
}

bool bt_aec_converged(const struct bt_aec *a)
{
	return a && a->converged;
}

/* The gain that brings a frame of power p down to the noise floor. */
static double to_floor(const struct bt_aec *a, double p)
{
	double g;

	if (p <= a->noise)
		return 1.0;
	g = sqrt(a->noise / p);
	return g < GATE_MIN_GAIN ? GATE_MIN_GAIN : g;
}

/* The half-duplex gate of the file comment, on one output frame. */
static void gate(struct bt_aec *a, const int16_t *mic, const int16_t *play,
		 double p_est, int16_t *out)
{
	double p_mic = power(mic, a->frame), p_out, far_max = 0.0, g;
	size_t i;

	a->far_pow[a->far_i] = power(play, a->frame);
	a->far_i = (a->far_i + 1) % a->far_n;
	for (i = 0; i < a->far_n; i++)
		if (a->far_pow[i] > far_max)
			far_max = a->far_pow[i];

	/* a minimum that creeps up: speech always has pauses */
	if (!a->noise_init || p_mic < a->noise) {
		a->noise = p_mic;
		a->noise_init = true;
	}
	else {
		a->noise *= NOISE_RISE;
	}
	if (a->noise < NOISE_MIN_POW)
		a->noise = NOISE_MIN_POW;

	p_out = power(out, a->frame);
	if (far_max < FAR_ACTIVE_POW) {
		g = 1.0;
	}
	else if (a->converged) {
		double r_db = 10.0 * log10((p_mic + 1.0) / (p_out + 1.0));
		double e_db = 10.0 * log10((p_est + 1.0) / (p_mic + 1.0));
		double t = (r_db - NLP_FROM_DB) / (NLP_TO_DB - NLP_FROM_DB);
		double t2 = (e_db - EST_FROM_DB) / (EST_TO_DB - EST_FROM_DB);

		t = t2 > t ? t2 : t;
		t = t < 0.0 ? 0.0 : t > 1.0 ? 1.0 : t;
		g = pow(to_floor(a, p_out), t);
	}
	else {
		double allowed = p_mic / CONV_ERLE;

		if (allowed < a->noise * CONV_NOISE)
			allowed = a->noise * CONV_NOISE;
		a->sum_out = a->sum_out * CONV_DECAY + p_out;
		a->sum_allowed = a->sum_allowed * CONV_DECAY + allowed;
		if (++a->n_far >= CONV_MIN_FRAMES &&
		    a->sum_out <= a->sum_allowed)
			a->converged = true;

		g = a->converged ? 1.0 : to_floor(a, p_out);
	}

	/* ramp over the frame: a step in gain would click */
	if (g != 1.0 || a->gain != 1.0) {
		for (i = 0; i < a->frame; i++) {
			double k = a->gain + (g - a->gain) *
				(double)(i + 1) / (double)a->frame;
			out[i] = (int16_t)lrint(out[i] * k);
		}
	}
	a->gain = g;
}

int bt_aec_process(struct bt_aec *a, const int16_t *mic, const int16_t *ref,
		   int16_t *out, size_t n)
{
	int16_t play[960]; /* a 20 ms frame at 48 kHz */
	double p_est;
	size_t off;

	if (!a || !mic || !out)
		return bt_err(EINVAL, "echo canceller: missing argument");
	if (!n || n % a->frame)
		return bt_err(EINVAL, "echo canceller: %zu samples; give a "
			      "multiple of %zu (20 ms at %u Hz)", n, a->frame,
			      a->rate_hz);

	for (off = 0; off < n; off += a->frame) {
		delay_frame(a, ref ? ref + off : a->zero, play);
		speex_echo_cancellation(a->echo, mic + off, play, a->tmp);
		p_est = est_power(mic + off, a->tmp, a->frame);
		speex_preprocess_run(a->pp, a->tmp);
		gate(a, mic + off, play, p_est, a->tmp);
		memcpy(out + off, a->tmp, a->frame * sizeof(int16_t));
	}

	return 0;
}
