/**
 * @file pitch.c  F0 tracker: normalised square difference (McLeod's NSDF)
 * on a 40 ms window, coarse at 8 kHz, refined at 16 kHz.
 *
 * Per call:
 *  - conditioning: DC blocker, then a 2nd-order low-pass at 1.5 kHz. The
 *    low-pass keeps F0 and the first harmonics and weakens the formants
 *    above, which otherwise put correlation peaks at formant periods; it
 *    is also the anti-alias filter for the 8 kHz copy. (On 13 flite and
 *    espeak utterances, cut-offs of 0.7-1.1 kHz gave more octave errors:
 *    F1 then dominates what is left);
 *  - coarse search at 8 kHz: NSDF n(t) = 2 r(t) / (e0 + e(t)) for lags
 *    1..136 between the newest 183 samples (23 ms) and the same length t
 *    samples earlier. NSDF, unlike plain autocorrelation, is not biased
 *    towards short lags and is 1 for a perfectly periodic signal;
 *  - candidates ("key maxima", McLeod & Wyvill 2005): the highest point of
 *    each positive lobe after the first negative dip. Signals that never
 *    dip below zero (rumble, brown noise) have no candidates;
 *  - octave-error guard: take the shortest-lag candidate within 90% of the
 *    best one (a period T also correlates at 2T, 3T, ...: the shortest
 *    strong one is the period; a candidate at T/2 rarely gets within 90%).
 *    If the previous frame was voiced, a candidate near its period wins
 *    over a jump by about an octave: a longer one if within 95% of the
 *    pick, a shorter one if within 85% of the best. (A looser rule for
 *    shorter lags locks onto a wrong first frame for the whole vowel);
 *  - refinement: NSDF at 16 kHz for the 7 lags around twice the coarse
 *    lag, parabolic interpolation of the peak: error well under 1% at
 *    400 Hz, where one 16 kHz sample is 2.5%.
 *
 * Voiced when the refined peak is >= 0.55 (>= 0.45 right after a voiced
 * frame: hysteresis keeps syllables whole). White or low-passed noise
 * peaks at 0.2-0.45 with this window length.
 *
 * Cost: ~25k multiply-adds for the coarse search (136 lags x 183), ~2.6k
 * for refinement, ~3k for filtering: ~7 us per 20 ms frame at -O2 on one
 * core of an AMD EPYC (~11 us at -O1, ~130 us under ASan), i.e. 0.035% of
 * a core per stream; the full-rate search would be ~4x that. Frames under
 * -60 dBFS skip the search.
 */
#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <string.h>
#include <re.h>
#include "banter/audio.h"
#include "banter/err.h"
#include "audio/pitch.h"

enum {
	HIST16 = 640,       /* 40 ms at 16 kHz */
	HIST8 = HIST16 / 2,
	W8 = 183,           /* fixed window at 8 kHz (22.9 ms) */
	TMAX8 = HIST8 - W8 - 1, /* 136: last lag computed at 8 kHz */
	LAG8_MIN = 19,      /* 421 Hz: a little room above 400 Hz */
	LAG8_MAX = 134,     /* 59.7 Hz */
	W16 = 2 * W8,       /* refinement window at 16 kHz */
	REFINE = 3,         /* lags each side of the coarse estimate */
	MAX_CANDS = 24,
};

static const float LP_HZ = 1500.0f;
static const float DC_POLE = 0.995f;      /* ~13 Hz high-pass */
static const float VOICED_ON = 0.55f;
static const float VOICED_HOLD = 0.45f;
static const float KEY_RATIO = 0.90f;     /* MPM's k */
static const float NEAR_PREV = 0.15f;     /* relative lag distance */
static const float JUMP_MIN = 0.80f;      /* lag ratio counted as a jump */
static const float SHORTER_MIN = 0.85f;
static const float LONGER_MIN = 0.95f;
static const double SILENCE_POW = 1.0e-6 * 32768.0 * 32768.0; /* -60 dB */
static const float F0_LO = 57.0f, F0_HI = 420.0f;

struct cand {
	float lag;   /* at 8 kHz, interpolated */
	float val;
};

struct bt_pitch {
	float x16[HIST16];  /* conditioned signal, newest last */
	float x8[HIST8];
	double sq8[HIST8 + 1]; /* prefix sums of x8^2 */
	float nsdf[TMAX8 + 1];
	size_t filled;      /* valid samples in x16, up to HIST16 */
	unsigned phase;     /* decimation phase: keep every 2nd sample */
	float dc_x1, dc_y1;
	float b0, b1, b2, a1, a2;   /* low-pass biquad */
	float z1, z2;
	float prev_lag8;    /* 0 if the previous frame was unvoiced */
};

static void lp_design(struct bt_pitch *p)
{
	/* RBJ cookbook low-pass, Q = 1/sqrt(2) (Butterworth) */
	double w = 2.0 * M_PI * LP_HZ / BT_RATE_HZ;
	double al = sin(w) / (2.0 * M_SQRT1_2), cw = cos(w);
	double a0 = 1.0 + al;

	p->b0 = (float)((1.0 - cw) / 2.0 / a0);
	p->b1 = (float)((1.0 - cw) / a0);
	p->b2 = p->b0;
	p->a1 = (float)(-2.0 * cw / a0);
	p->a2 = (float)((1.0 - al) / a0);
}

void bt_pitch_reset(struct bt_pitch *p)
{
	if (!p)
		return;
	memset(p->x16, 0, sizeof(p->x16));
	memset(p->x8, 0, sizeof(p->x8));
	p->filled = 0;
	p->phase = 0;
	p->dc_x1 = p->dc_y1 = 0.0f;
	p->z1 = p->z2 = 0.0f;
	p->prev_lag8 = 0.0f;
}

int bt_pitch_alloc(struct bt_pitch **pp)
{
	struct bt_pitch *p;

	if (!pp)
		return bt_err(EINVAL, "pitch: no result pointer; pass the "
			      "address of a struct bt_pitch pointer");

	p = mem_zalloc(sizeof(*p), NULL);
	if (!p)
		return bt_err(ENOMEM, "pitch: out of memory for the tracker "
			      "(%zu bytes)", sizeof(*p));
	lp_design(p);
	bt_pitch_reset(p);
	*pp = p;
	return 0;
}

/* Shift n new samples into both histories through the filters. */
static double push(struct bt_pitch *p, const int16_t *pcm, size_t n)
{
	float tmp8[HIST16 / 2 + 1];
	size_t i, m = 0;
	double pow_sum = 0.0;

	memmove(p->x16, p->x16 + n, (HIST16 - n) * sizeof(p->x16[0]));
	for (i = 0; i < n; i++) {
		float x = pcm[i];
		float y = x - p->dc_x1 + DC_POLE * p->dc_y1;
		float v;

		pow_sum += (double)x * x;
		p->dc_x1 = x;
		p->dc_y1 = y;

		/* transposed direct form II */
		v = p->b0 * y + p->z1;
		p->z1 = p->b1 * y - p->a1 * v + p->z2;
		p->z2 = p->b2 * y - p->a2 * v;

		p->x16[HIST16 - n + i] = v;
		if (p->phase == 0)
			tmp8[m++] = v;
		p->phase ^= 1u;
	}
	memmove(p->x8, p->x8 + m, (HIST8 - m) * sizeof(p->x8[0]));
	memcpy(p->x8 + HIST8 - m, tmp8, m * sizeof(tmp8[0]));

	p->filled = p->filled + n > HIST16 ? HIST16 : p->filled + n;
	return pow_sum / (double)n;
}

/* Cross product of a and b over len; four sums for instruction-level
 * parallelism (the compiler may not reorder a float reduction). */
static double dot(const float *a, const float *b, size_t len)
{
	float s0 = 0, s1 = 0, s2 = 0, s3 = 0;
	size_t j = 0;

	for (; j + 4 <= len; j += 4) {
		s0 += a[j] * b[j];
		s1 += a[j + 1] * b[j + 1];
		s2 += a[j + 2] * b[j + 2];
		s3 += a[j + 3] * b[j + 3];
	}
	for (; j < len; j++)
		s0 += a[j] * b[j];
	return (double)s0 + s1 + s2 + s3;
}

static void nsdf8(struct bt_pitch *p)
{
	const float *y = p->x8 + HIST8 - W8;
	double e0;
	size_t i, t;

	p->sq8[0] = 0.0;
	for (i = 0; i < HIST8; i++)
		p->sq8[i + 1] = p->sq8[i] + (double)p->x8[i] * p->x8[i];
	e0 = p->sq8[HIST8] - p->sq8[HIST8 - W8];

	p->nsdf[0] = 1.0f;
	for (t = 1; t <= TMAX8; t++) {
		size_t s = HIST8 - W8 - t;
		double et = p->sq8[s + W8] - p->sq8[s];
		double den = e0 + et;

		p->nsdf[t] = den > 1e-9 ?
			(float)(2.0 * dot(y, p->x8 + s, W8) / den) : 0.0f;
	}
}

/* Parabolic vertex offset from the middle of three points, in -0.5..0.5 */
static float vertex(float a, float b, float c)
{
	float den = a - 2.0f * b + c;
	float d;

	if (den >= 0.0f)
		return 0.0f;
	d = 0.5f * (a - c) / den;
	return d > 0.5f ? 0.5f : d < -0.5f ? -0.5f : d;
}

static size_t key_maxima(const float *n, struct cand *c)
{
	bool seen_neg = false, in_pos = false;
	size_t t, best = 0, k = 0;

	for (t = 1; t < TMAX8; t++) {
		if (n[t] <= 0.0f) {
			if (in_pos && best >= LAG8_MIN && best <= LAG8_MAX &&
			    k < MAX_CANDS) {
				c[k].lag = best + vertex(n[best - 1], n[best],
							 n[best + 1]);
				c[k].val = n[best];
				k++;
			}
			in_pos = false;
			seen_neg = true;
		}
		else if (seen_neg) {
			if (!in_pos || n[t] > n[best])
				best = t;
			in_pos = true;
		}
	}
	/* a lobe cut at the end counts if its top is inside it */
	if (in_pos && best < TMAX8 && n[best + 1] < n[best] &&
	    best >= LAG8_MIN && best <= LAG8_MAX && k < MAX_CANDS) {
		c[k].lag = best + vertex(n[best - 1], n[best], n[best + 1]);
		c[k].val = n[best];
		k++;
	}
	return k;
}

static size_t choose(const struct bt_pitch *p, const struct cand *c,
		     size_t k)
{
	float top = 0.0f;
	size_t i, pick = 0;
	float ratio;

	for (i = 0; i < k; i++)
		top = c[i].val > top ? c[i].val : top;
	for (i = 0; i < k; i++) {
		if (c[i].val >= KEY_RATIO * top) {
			pick = i;
			break;
		}
	}
	if (p->prev_lag8 <= 0.0f)
		return pick;

	ratio = c[pick].lag / p->prev_lag8;
	if (ratio > JUMP_MIN && ratio < 1.0f / JUMP_MIN)
		return pick;

	for (i = 0; i < k; i++) {
		float d = fabsf(c[i].lag / p->prev_lag8 - 1.0f);

		if (d > NEAR_PREV)
			continue;
		if (c[i].lag < c[pick].lag ? c[i].val >= SHORTER_MIN * top :
		    c[i].val >= LONGER_MIN * c[pick].val)
			return i;
	}
	return pick;
}

/* NSDF at 16 kHz for one lag over the newest W16 samples. */
static float nsdf16(const struct bt_pitch *p, size_t lag)
{
	const float *y = p->x16 + HIST16 - W16;
	const float *x = y - lag;
	double r = dot(y, x, W16);
	double e = dot(y, y, W16) + dot(x, x, W16);

	return e > 1e-9 ? (float)(2.0 * r / e) : 0.0f;
}

static float refine(const struct bt_pitch *p, float lag8, float *valp)
{
	float v[2 * REFINE + 1];
	long c = lrintf(2.0f * lag8);
	long lo, hi = HIST16 - W16;
	size_t i, best = 1;

	lo = c - REFINE < 2 ? 2 : c - REFINE;
	if (lo + 2 * REFINE > hi)
		lo = hi - 2 * REFINE;
	for (i = 0; i < 2 * REFINE + 1; i++)
		v[i] = nsdf16(p, (size_t)lo + i);
	for (i = 2; i < 2 * REFINE; i++)
		best = v[i] > v[best] ? i : best;

	*valp = v[best];
	return (float)lo + best + vertex(v[best - 1], v[best], v[best + 1]);
}

float bt_pitch_frame(struct bt_pitch *p, const int16_t *pcm, size_t n,
		     float *voicingp)
{
	struct cand c[MAX_CANDS];
	float val = 0.0f, lag16, f0, thr;
	double pow_mean;
	size_t k, pick;

	if (voicingp)
		*voicingp = 0.0f;
	if (!p || !pcm || !n || n > HIST16)
		return 0.0f;

	pow_mean = push(p, pcm, n);
	if (p->filled < HIST16 || pow_mean < SILENCE_POW)
		goto unvoiced;

	nsdf8(p);
	k = key_maxima(p->nsdf, c);
	if (!k)
		goto unvoiced;

	pick = choose(p, c, k);
	lag16 = refine(p, c[pick].lag, &val);
	if (voicingp)
		*voicingp = val < 0.0f ? 0.0f : val > 1.0f ? 1.0f : val;

	thr = p->prev_lag8 > 0.0f ? VOICED_HOLD : VOICED_ON;
	f0 = lag16 > 0.0f ? (float)BT_RATE_HZ / lag16 : 0.0f;
	if (val < thr || f0 < F0_LO || f0 > F0_HI)
		goto unvoiced;

	p->prev_lag8 = lag16 / 2.0f;
	return f0;

 unvoiced:
	p->prev_lag8 = 0.0f;
	return 0.0f;
}
