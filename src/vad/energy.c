/**
 * @file energy.c  Our own VAD ("energy"): level over an adaptive noise
 * floor, confirmed by voicing.
 *
 * Per 20 ms frame:
 *  - levels: energy of the signal high-passed at 80 Hz (hum and DC gone),
 *    and of the 300-3400 Hz speech band (two biquads), each against its own
 *    noise floor; the better of the two SNRs counts, so rumble that hides
 *    speech in the full band does not hide it in the speech band;
 *  - noise floor: falls at once to any quieter frame, rises only towards the
 *    minimum level of the last ~2 s (minimum statistics) and ten times
 *    slower during speech, so speech, which dips between syllables within
 *    that window, cannot lift it;
 *  - voicing: peak normalised autocorrelation over pitch lags (60-400 Hz)
 *    at 8 kHz, after an inverse filter learnt from the noise (2nd-order
 *    LPC on non-speech frames): the noise reaches the pitch search white,
 *    so white, pink, brown or resonant noise scores ~0.3 while voiced
 *    speech at 10 dB SNR scores 0.5-0.9;
 *  - memory: right after voiced frames, energetic unvoiced ones (the /z/ of
 *    "please") stay speech for a few frames; for a second after voiced
 *    speech, the level alone decides (the voicing cue ramps up from 2 to
 *    5 dB over the noise), so the fricatives and plosive bursts of a
 *    talker we already hear count;
 *  - hiss: the band above 3.5 kHz (two more biquads) against its own
 *    noise floor; a frame 6 dB over it, with at least an eighth of the
 *    frame's energy in that band, reports FRIC_PROB (0.2):
 *    the "s" of "sorry" or "stop", which in pink or babble noise at 10 dB
 *    SNR is no louder than the noise over the whole band but stands well
 *    out of the noise's thin top octave. Under the segmenter's threshold,
 *    so a hiss never starts speech alone; it back-dates the onset the
 *    vowel confirms and, pending, lets the session hold the agent's audio
 *    ~100 ms before the vowel; a dip of one frame after a hiss (the
 *    closure of "st") is bridged. White noise fills that band too: there the
 *    hiss is lost, as it is to a listener. The share keeps out most
 *    fricatives of distant talkers (babble), which stand out of the
 *    band's floor too but not out of the frame;
 *  - hold: after a speech frame clearly over the noise, the next HOLD_FRAMES
 *    frames report BT_VAD_PROB_HOLD (0.5), which bridges the weak
 *    consonants and short dips between words; the segmenter does not take
 *    those frames for speech, so its END stays at the last genuine frame.
 *  - warm-up: for the first second the level needed starts 6 dB higher
 *    and comes down linearly; until the noise has been heard a while, its
 *    fluctuation and its spectrum (for the voicing cue) are not known,
 *    and babble at a call's start passed for speech (the agent stopped
 *    its greeting for it);
 * prob = P(level) * (0.15 + 0.85 * voicing cue), where P(level) is 0.5 at
 * 5 dB over the noise's mean level (3 dB when clearly voiced) and zero
 * below an absolute -55 dBFS. The floor is a minimum, which sits below the
 * mean by an amount learnt on unvoiced frames (~1 dB for white noise,
 * ~5 dB for babble); noise whose level fluctuates that much also raises
 * the threshold by half the excess over 1 dB, since its loud moments
 * reach that far over its mean (babble of distant talkers, 20 dB under
 * the caller, is what this rejects). Loud but unvoiced frames get 0.15,
 * under the segmenter's 0.5 but above its threshold / 4 for back-dating
 * onsets.
 *
 * Cost: five biquads per sample plus 115 lags x 160 products for voicing;
 * no allocation after the instance is made.
 */
#include <errno.h>
#include <math.h>
#include <string.h>
#include <re.h>
#include "banter/audio.h"
#include "banter/err.h"
#include "banter/vad.h"

enum {
	DEC_N = BT_FRAME_SAMPLES / 2,   /* frame at 8 kHz for voicing */
	LAG_MIN = 20,                   /* 400 Hz pitch at 8 kHz */
	LAG_MAX = 134,                  /* 60 Hz pitch at 8 kHz */
	SUB_FRAMES = 12,                /* 240 ms per minimum sub-window */
	SUB_WINDOWS = 8,                /* 8 x 240 ms = ~1.9 s of minimum */
};

/* Tuning (dB unless said otherwise); see the file comment. */
static const float LEVEL_MIN_DB = -55.0f;  /* nothing quieter is speech */
static const float LEVEL_RAMP_DB = 4.0f;   /* soft edge above the minimum */
static const float FLOOR_MIN_DB = -90.0f;
static const float SNR_MID_DB = 5.0f;      /* over the noise's mean */
static const float WARM_DB = 6.0f;         /* more at a call's start, */
static const unsigned WARM_FRAMES = 50;    /* ... gone after 1 s */
static const float SNR_SLOPE_DB = 1.5f;
static const float VOICED_BONUS_DB = 2.0f;
static const float FLOOR_RISE = 0.08f;     /* per frame, towards the min */
static const float FLOOR_RISE_SPEECH = 0.008f;
static const float VOICE_LO = 0.35f;       /* noise stays below ~0.33 */
static const float VOICE_HI = 0.55f;
static const float CUE_BASE = 0.15f;       /* prob with no cue at all */
static const float MEMORY_DECAY = 0.75f;   /* per frame after speech */
static const float EXCESS_RATE = 0.05f;
static const float EXCESS_MAX_DB = 12.0f;
static const float EXCESS_FAST_N = 20.0f;  /* plain mean of the first */
static const float EXCESS_CUE_MAX = 0.5f;  /* learn on frames less voiced */
static const float SPREAD_GAIN = 0.5f;     /* threshold rise per dB excess */
static const float SPREAD_FREE_DB = 1.0f;  /* excess of steady noise */
static const float UNVOICED_SNR_DB = 2.0f; /* cue 0 here, 1 at +3 dB */
static const float UNVOICED_RAMP_DB = 3.0f;
static const unsigned UNVOICED_FRAMES = 50; /* 1 s after voiced speech */
static const unsigned HOLD_FRAMES = 5;      /* 100 ms */
static const float HOLD_SNR_DB = 6.0f;      /* only strong frames hold */
static const float NOISE_MODEL_RATE = 0.05f;
static const float NOISE_MODEL_MAX_PROB = 0.3f;
static const double FRIC_HZ = 3500.0;      /* fricative band: above this */
static const float FRIC_SNR_DB = 6.0f;     /* over its own noise */
static const float FRIC_PROB = 0.2f;       /* weak: onsets, never speech */
static const float FRIC_SHARE_DB = -9.0f;  /* of the frame's energy, at least */
static const unsigned FRIC_BRIDGE_FRAMES = 1; /* the "t" closure of "st" */

/* Direct form I biquad, RBJ cookbook coefficients (a0 normalised). */
struct biquad {
	float b0, b1, b2, a1, a2;
	float x1, x2, y1, y2;
};

/* Noise floor of one level, in dB (see floor_update). */
struct floor_trk {
	float db;
	float sub_min[SUB_WINDOWS];  /* minima of the last sub-windows */
	float cur_min;               /* minimum of the current one */
	unsigned sub_idx, sub_cnt;
	float excess;                /* mean noise level above the floor */
	unsigned excess_n;           /* updates so far, up to EXCESS_FAST_N */
};

struct bt_vad_st {
	const struct bt_vad *vad;

	struct biquad hp80, lp3400, hp300;
	struct biquad hpf1, hpf2;    /* fricative band, 24 dB/octave */

	/* LPC residual at 8 kHz: LAG_MAX samples of history then the
	 * current frame. */
	float res[LAG_MAX + DEC_N];
	float dec[DEC_N];
	float dec_prev[2];

	bool init;
	struct floor_trk full, band, fric;
	float memory;
	unsigned since_voiced;       /* frames since a voiced speech frame */
	unsigned frames;             /* seen, up to the warm-up's length */
	unsigned hold;               /* hold frames left */
	unsigned fric_bridge;        /* frames a hiss still bridges */

	/* Noise model for whitening: normalised autocorrelation at lags 1
	 * and 2 (smoothed) and the inverse-filter taps from it; the last
	 * frame's values wait in fr1/fr2 until we know it was not speech. */
	float nr1, nr2, na1, na2;
	float fr1, fr2;
	bool noise_init;
};

static void biquad_init(struct biquad *bq, bool highpass, double f_hz)
{
	const double w = 2.0 * M_PI * f_hz / BT_RATE_HZ;
	const double alpha = sin(w) / (2.0 * M_SQRT1_2);
	const double c = cos(w), a0 = 1.0 + alpha;
	double b0, b1;

	if (highpass) {
		b0 = (1.0 + c) / 2.0;
		b1 = -(1.0 + c);
	}
	else {
		b0 = (1.0 - c) / 2.0;
		b1 = 1.0 - c;
	}

	memset(bq, 0, sizeof(*bq));
	bq->b0 = (float)(b0 / a0);
	bq->b1 = (float)(b1 / a0);
	bq->b2 = (float)(b0 / a0);
	bq->a1 = (float)(-2.0 * c / a0);
	bq->a2 = (float)((1.0 - alpha) / a0);
}

static inline float biquad_run(struct biquad *bq, float x)
{
	float y = bq->b0 * x + bq->b1 * bq->x1 + bq->b2 * bq->x2 -
		bq->a1 * bq->y1 - bq->a2 * bq->y2;

	bq->x2 = bq->x1;
	bq->x1 = x;
	bq->y2 = bq->y1;
	bq->y1 = y;

	return y;
}

static inline float clamp01(float v)
{
	return v < 0.0f ? 0.0f : v > 1.0f ? 1.0f : v;
}

static float to_db(double energy_per_sample)
{
	double db = 10.0 * log10(energy_per_sample / (32768.0 * 32768.0) +
				 1e-12);

	return (float)db;
}

/* Largest normalised autocorrelation over the pitch lags, in [0,1], of the
 * 8 kHz signal passed through the noise model's inverse filter: without
 * it, the tilt of rumble or the ringing of a resonance looks periodic. The
 * lagged window reaches into the previous frame, so every lag is measured
 * over a full 160 samples. Also leaves this frame's lag-1/2 correlation in
 * fr1/fr2 for noise_model_update(). */
static float voicing(struct bt_vad_st *st)
{
	double r0 = 0.0, r1 = 0.0, r2 = 0.0, e0 = 0.0, el;
	float *cur = st->res + LAG_MAX, best = 0.0f;
	const float *x = st->dec;
	int i, lag;

	for (i = 0; i < DEC_N; i++) {
		r0 += (double)x[i] * x[i];
		if (i >= 1)
			r1 += (double)x[i] * x[i - 1];
		if (i >= 2)
			r2 += (double)x[i] * x[i - 2];
	}

	memmove(st->res, st->res + DEC_N, LAG_MAX * sizeof(float));

	st->fr1 = 0.0f;
	st->fr2 = 0.0f;
	if (r0 < 1.0) {
		memset(cur, 0, DEC_N * sizeof(float));
		return 0.0f;
	}
	st->fr1 = (float)(r1 / r0);
	st->fr2 = (float)(r2 / r0);

	for (i = 0; i < DEC_N; i++) {
		float xm1 = i >= 1 ? x[i - 1] : st->dec_prev[1 - i];
		float xm2 = i >= 2 ? x[i - 2] : st->dec_prev[i];

		cur[i] = x[i] - st->na1 * xm1 - st->na2 * xm2;
		e0 += (double)cur[i] * cur[i];
	}

	if (e0 < 1.0)
		return 0.0f;

	el = 0.0;
	for (i = 0; i < DEC_N; i++)
		el += (double)cur[i - LAG_MIN] * cur[i - LAG_MIN];

	for (lag = LAG_MIN; lag <= LAG_MAX; lag++) {
		const float *p = cur - lag;
		float c0 = 0.0f, c1 = 0.0f, c2 = 0.0f, c3 = 0.0f, r;

		/* Four partial sums: a dependency chain per sum instead
		 * of one lets the CPU (and the vectoriser) overlap them. */
		for (i = 0; i < DEC_N; i += 4) {
			c0 += cur[i] * p[i];
			c1 += cur[i + 1] * p[i + 1];
			c2 += cur[i + 2] * p[i + 2];
			c3 += cur[i + 3] * p[i + 3];
		}

		if (el > 1.0) {
			r = (c0 + c1 + c2 + c3) / (float)sqrt(e0 * el);
			if (r > best)
				best = r;
		}

		/* Slide the lagged window's energy by one sample. */
		if (lag < LAG_MAX) {
			el += (double)p[-1] * p[-1] -
				(double)p[DEC_N - 1] * p[DEC_N - 1];
			if (el < 0.0)
				el = 0.0;
		}
	}

	return best > 1.0f ? 1.0f : best;
}

/* Learn the noise's short-term spectral shape (2nd-order LPC from its
 * normalised autocorrelation) on non-speech frames; voicing() filters with
 * its inverse, so the noise reaches the pitch search white. */
static void noise_model_update(struct bt_vad_st *st)
{
	const float q0 = 1.001f; /* white-noise correction: keeps it stable */
	float w = st->noise_init ? NOISE_MODEL_RATE : 1.0f, d;

	/* digital silence says nothing about the noise */
	if (st->fr1 == 0.0f && st->fr2 == 0.0f)
		return;
	st->noise_init = true;

	st->nr1 += w * (st->fr1 - st->nr1);
	st->nr2 += w * (st->fr2 - st->nr2);

	d = q0 * q0 - st->nr1 * st->nr1;
	st->na1 = (st->nr1 * q0 - st->nr1 * st->nr2) / d;
	st->na2 = (st->nr2 * q0 - st->nr1 * st->nr1) / d;
}

static void floor_init(struct floor_trk *fl, float db)
{
	unsigned i;

	fl->db = db < FLOOR_MIN_DB ? FLOOR_MIN_DB : db;
	for (i = 0; i < SUB_WINDOWS; i++)
		fl->sub_min[i] = fl->db;
	fl->cur_min = fl->db;
	fl->sub_idx = 0;
	fl->sub_cnt = 0;
	fl->excess = 1.0f;
	fl->excess_n = 0;
}

static void floor_update(struct floor_trk *fl, float db, bool speech,
			 bool noise)
{
	float wmin;
	unsigned i;

	/* The minimum sits below the noise's mean level by an amount that
	 * grows with how much the noise fluctuates (~1 dB for white noise,
	 * ~5 dB for babble or narrow-band hum); learn it on frames without
	 * clear voicing, whatever their level: conditioning on "not speech"
	 * would leave out the loud moments of babble and learn too little.
	 * A plain mean over the first frames, since a call's first second
	 * of noise must not pass for speech. */
	if (noise && db > fl->db) {
		float ex = db - fl->db, w = EXCESS_RATE;

		if ((float)fl->excess_n < EXCESS_FAST_N)
			fl->excess_n++;
		if (1.0f / (float)fl->excess_n > w)
			w = 1.0f / (float)fl->excess_n;
		fl->excess += w * ((ex > EXCESS_MAX_DB ?
				    EXCESS_MAX_DB : ex) - fl->excess);
	}

	if (db < fl->cur_min)
		fl->cur_min = db;

	wmin = fl->cur_min;
	for (i = 0; i < SUB_WINDOWS; i++)
		if (fl->sub_min[i] < wmin)
			wmin = fl->sub_min[i];

	if (++fl->sub_cnt >= SUB_FRAMES) {
		fl->sub_min[fl->sub_idx] = fl->cur_min;
		fl->sub_idx = (fl->sub_idx + 1) % SUB_WINDOWS;
		fl->sub_cnt = 0;
		fl->cur_min = 1000.0f;
	}

	if (db < fl->db)
		fl->db = db;
	else if (wmin > fl->db)
		fl->db += (wmin - fl->db) *
			(speech ? FLOOR_RISE_SPEECH : FLOOR_RISE);

	if (fl->db < FLOOR_MIN_DB)
		fl->db = FLOOR_MIN_DB;
}

/* Level over the noise's mean, less the margin fluctuating noise needs. */
static float floor_snr(const struct floor_trk *fl, float db)
{
	float spread = fl->excess - SPREAD_FREE_DB;

	return db - fl->db - fl->excess -
		SPREAD_GAIN * (spread > 0.0f ? spread : 0.0f);
}

static int energy_frame(struct bt_vad_st *st, const int16_t *pcm, size_t n,
			float *probp)
{
	double e_all = 0.0, e_band = 0.0, e_fric = 0.0;
	float db, bdb, fdb, snr, p_level, voice, cue, prob, m;
	bool fric;
	size_t i;
	unsigned k;

	if (!st || !pcm || !probp)
		return bt_err(EINVAL, "energy VAD: missing argument");
	if (n != BT_FRAME_SAMPLES)
		return bt_err(EINVAL, "energy VAD: frame of %zu samples; give "
			      "frames of %d samples (%d ms at %d Hz)", n,
			      BT_FRAME_SAMPLES, BT_FRAME_MS, BT_RATE_HZ);

	for (i = 0, k = 0; i < n; i++) {
		float y = biquad_run(&st->hp80, pcm[i]);
		float lo = biquad_run(&st->lp3400, y);
		float b = biquad_run(&st->hp300, lo);
		float f = biquad_run(&st->hpf2, biquad_run(&st->hpf1, y));

		e_all += (double)y * y;
		e_band += (double)b * b;
		e_fric += (double)f * f;
		if (i & 1)
			st->dec[k++] = lo;
	}

	voice = voicing(st);
	st->dec_prev[0] = st->dec[DEC_N - 2];
	st->dec_prev[1] = st->dec[DEC_N - 1];

	db = to_db(e_all / n);
	bdb = to_db(e_band / n);
	fdb = to_db(e_fric / n);
	if (!st->init) {
		/* Start from the first frame's level: a call usually opens
		 * on line noise, and this spares a slow climb from below. */
		st->init = true;
		floor_init(&st->full, db);
		floor_init(&st->band, bdb);
		floor_init(&st->fric, fdb);
	}

	snr = floor_snr(&st->full, db);
	if (floor_snr(&st->band, bdb) > snr)
		snr = floor_snr(&st->band, bdb);
	cue = clamp01((voice - VOICE_LO) / (VOICE_HI - VOICE_LO));

	/* Clear voicing is evidence too: it lowers the level needed. */
	/* Warm-up: the noise is not known yet (its fluctuation, its
	 * spectrum for the voicing cue), so the first second asks for more
	 * level, less and less. */
	if (st->frames < WARM_FRAMES) {
		snr -= WARM_DB * (1.0f - (float)st->frames / WARM_FRAMES);
		st->frames++;
	}
	p_level = 1.0f / (1.0f + expf(-(snr - SNR_MID_DB + VOICED_BONUS_DB *
					 cue) / SNR_SLOPE_DB));
	p_level *= clamp01((db - LEVEL_MIN_DB) / LEVEL_RAMP_DB);

	/* Only frames confirmed by voicing refresh the memory and the
	 * time since voiced speech, so neither alone ever starts speech
	 * (a noise switched on, a door). */
	m = st->memory > cue ? st->memory : cue;
	if (st->since_voiced < UNVOICED_FRAMES) {
		float uv = clamp01((snr - UNVOICED_SNR_DB) /
				   UNVOICED_RAMP_DB);

		if (uv > m)
			m = uv;
	}
	prob = p_level * (CUE_BASE + (1.0f - CUE_BASE) * m);
	/* A hiss well over the noise's own high band, an eighth of the
	 * frame or more, above the absolute minimum: the "s" of "sorry",
	 * "stop". Weak evidence only (under the segmenter's threshold): it
	 * back-dates the onset the vowel confirms and lets the session hold
	 * the agent's audio early, but never starts speech alone. */
	fric = floor_snr(&st->fric, fdb) >= FRIC_SNR_DB &&
		fdb - db >= FRIC_SHARE_DB && fdb > LEVEL_MIN_DB &&
		prob < FRIC_PROB;
	if (fric)
		prob = FRIC_PROB;
	if (p_level * (CUE_BASE + (1.0f - CUE_BASE) * cue) >= 0.5f) {
		st->memory = 1.0f;
		st->since_voiced = 0;
	}
	else {
		st->memory *= MEMORY_DECAY;
		if (st->since_voiced < UNVOICED_FRAMES)
			st->since_voiced++;
	}

	floor_update(&st->full, db, prob >= 0.5f, cue < EXCESS_CUE_MAX);
	floor_update(&st->band, bdb, prob >= 0.5f, cue < EXCESS_CUE_MAX);
	floor_update(&st->fric, fdb, prob >= 0.5f || fric, cue <
		     EXCESS_CUE_MAX);
	if (prob < NOISE_MODEL_MAX_PROB && !fric)
		noise_model_update(st);

	/* A hiss bridges a short dip after it (the closure between the "s"
	 * and the "t" of "stop"), so the onset it marks survives to the
	 * vowel; like the hold, after the updates. */
	if (fric)
		st->fric_bridge = FRIC_BRIDGE_FRAMES;
	else if (st->fric_bridge && prob < FRIC_PROB) {
		st->fric_bridge--;
		prob = FRIC_PROB;
	}
	else
		st->fric_bridge = 0;

	/* The hold comes after the updates above: they must see the frame
	 * as it is. Only frames well over the noise start a hold, so the
	 * loud moments of babble are not stretched. */
	if (prob >= 0.5f) {
		if (prob == BT_VAD_PROB_HOLD)
			prob = nextafterf(prob, 1.0f);
		if (snr >= HOLD_SNR_DB)
			st->hold = HOLD_FRAMES;
	}
	else if (st->hold) {
		st->hold--;
		prob = BT_VAD_PROB_HOLD;
	}

	*probp = prob;
	return 0;
}

static int energy_alloc(struct bt_vad_st **stp);

static struct bt_vad energy_vad = {
	.name = "energy",
	.alloch = energy_alloc,
	.frameh = energy_frame,
};

static int energy_alloc(struct bt_vad_st **stp)
{
	struct bt_vad_st *st;

	if (!stp)
		return bt_err(EINVAL, "energy VAD: missing argument");

	st = mem_zalloc(sizeof(*st), NULL);
	if (!st)
		return bt_err(ENOMEM, "energy VAD: out of memory");

	st->vad = &energy_vad;
	st->since_voiced = UNVOICED_FRAMES;
	biquad_init(&st->hp80, true, 80.0);
	biquad_init(&st->lp3400, false, 3400.0);
	biquad_init(&st->hp300, true, 300.0);
	biquad_init(&st->hpf1, true, FRIC_HZ);
	biquad_init(&st->hpf2, true, FRIC_HZ);
	*stp = st;
	return 0;
}

int bt_vad_energy_init(void)
{
	/* bt_init may run more than once (tests); appending the same list
	 * element twice would corrupt the list. */
	if (!energy_vad.le.list)
		bt_vad_register(&energy_vad);

	return 0;
}
