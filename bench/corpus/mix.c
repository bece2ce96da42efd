/**
 * @file mix.c  Signal pieces for the generated test corpus (see mix.h).
 */
#include <math.h>
#include "mix.h"

enum {
	PINK_WARMUP = 8192,   /* samples: the slowest pole settles in ~900 */
	BLOCKS_PER_S = 200,   /* 5 ms blocks for mix_find_active */
};

static const double ABS_FLOOR_DB = -80.0;

void mix_rng_seed(struct mix_rng *r, uint64_t seed)
{
	/* splitmix64 spreads small seeds (0, 1, 2 ...) over the state;
	 * xorshift must never start from 0 */
	uint64_t z = seed + 0x9e3779b97f4a7c15ULL;

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	z ^= z >> 31;
	r->s = z ? z : 0x2545f4914f6cdd1dULL;
}

static uint64_t rng_next(struct mix_rng *r)
{
	uint64_t x = r->s;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	r->s = x;

	return x * 0x2545f4914f6cdd1dULL;
}

uint32_t mix_rng_u32(struct mix_rng *r)
{
	return (uint32_t)(rng_next(r) >> 32);
}

double mix_rng_uniform(struct mix_rng *r)
{
	return (double)(rng_next(r) >> 11) * (1.0 / 9007199254740992.0);
}

int mix_rng_range(struct mix_rng *r, int lo, int hi)
{
	if (hi <= lo)
		return lo;

	return lo + (int)(mix_rng_uniform(r) * (double)(hi - lo + 1));
}

double mix_rng_gauss(struct mix_rng *r)
{
	double u1 = mix_rng_uniform(r), u2 = mix_rng_uniform(r);

	if (u1 < 1e-300)
		u1 = 1e-300;

	return sqrt(-2.0 * log(u1)) * cos(2.0 * M_PI * u2);
}

void mix_noise_fill(float *out, size_t n, enum mix_noise type,
		    struct mix_rng *r)
{
	double b[7] = {0}, e = 0.0, g;
	size_t i;

	if (!out || !n || !r)
		return;

	if (type == MIX_NOISE_PINK) {
		/* Paul Kellet's "refined" filter: within 0.05 dB of
		 * -3 dB/octave above fs/4400 (3.6 Hz at 16 kHz) */
		for (i = 0; i < PINK_WARMUP + n; i++) {
			double w = mix_rng_gauss(r), p;

			b[0] = 0.99886 * b[0] + w * 0.0555179;
			b[1] = 0.99332 * b[1] + w * 0.0750759;
			b[2] = 0.96900 * b[2] + w * 0.1538520;
			b[3] = 0.86650 * b[3] + w * 0.3104856;
			b[4] = 0.55000 * b[4] + w * 0.5329522;
			b[5] = -0.7616 * b[5] - w * 0.0168980;
			p = b[0] + b[1] + b[2] + b[3] + b[4] + b[5] + b[6] +
				w * 0.5362;
			b[6] = w * 0.115926;
			if (i >= PINK_WARMUP)
				out[i - PINK_WARMUP] = (float)p;
		}
	}
	else {
		for (i = 0; i < n; i++)
			out[i] = (float)mix_rng_gauss(r);
	}

	for (i = 0; i < n; i++)
		e += (double)out[i] * out[i];
	if (e <= 0.0)
		return;

	g = 1.0 / sqrt(e / (double)n);
	for (i = 0; i < n; i++)
		out[i] = (float)(out[i] * g);
}

bool mix_find_active(const float *x, size_t n, uint32_t rate_hz,
		     double rel_db, struct mix_range *act)
{
	size_t blk, nb, i, first = 0, last = 0;
	double peak = 0.0, thr;
	bool found = false;

	if (!x || !act || !rate_hz)
		return false;

	blk = rate_hz / BLOCKS_PER_S;
	if (!blk)
		blk = 1;
	nb = n / blk;

	for (i = 0; i < nb; i++) {
		double p = mix_power(x + i * blk, blk, NULL, 0);

		if (p > peak)
			peak = p;
	}

	thr = mix_db(peak) - rel_db;
	if (thr < ABS_FLOOR_DB)
		thr = ABS_FLOOR_DB;

	for (i = 0; i < nb; i++) {
		if (mix_db(mix_power(x + i * blk, blk, NULL, 0)) <= thr)
			continue;
		if (!found)
			first = i;
		last = i;
		found = true;
	}

	if (found) {
		act->start = first * blk;
		act->end = (last + 1) * blk;
	}

	return found;
}

double mix_power(const float *x, size_t n, const struct mix_range *rg,
		 size_t n_rg)
{
	double e = 0.0;
	size_t cnt = 0, k, i;

	if (!x)
		return 0.0;

	if (!rg) {
		for (i = 0; i < n; i++)
			e += (double)x[i] * x[i];
		return n ? e / (double)n : 0.0;
	}

	for (k = 0; k < n_rg; k++) {
		size_t end = rg[k].end < n ? rg[k].end : n;

		for (i = rg[k].start; i < end; i++) {
			e += (double)x[i] * x[i];
			++cnt;
		}
	}

	return cnt ? e / (double)cnt : 0.0;
}

double mix_db(double power)
{
	double db = 10.0 * log10(power / (32768.0 * 32768.0) + 1e-12);

	return db < -120.0 ? -120.0 : db;
}

double mix_add_noise(float *y, const float *s, const float *noise, size_t n,
		     const struct mix_range *rg, size_t n_rg, double snr_db)
{
	double ps, pn, g;
	size_t i;

	if (!y || !s || !noise)
		return 0.0;

	ps = mix_power(s, n, rg, n_rg);
	pn = mix_power(noise, n, rg, n_rg);
	if (ps <= 0.0 || pn <= 0.0)
		return 0.0;

	g = sqrt(ps / (pn * pow(10.0, snr_db / 10.0)));
	for (i = 0; i < n; i++)
		y[i] = (float)(s[i] + g * noise[i]);

	return g;
}

void mix_add_echo(float *y, const float *ref, size_t n, size_t delay,
		  double gain_db)
{
	const double g = pow(10.0, gain_db / 20.0);
	size_t i;

	if (!y || !ref)
		return;

	for (i = delay; i < n; i++)
		y[i] = (float)(y[i] + g * ref[i - delay]);
}

float mix_peak(const float *x, size_t n)
{
	float pk = 0.0f;
	size_t i;

	if (!x)
		return 0.0f;

	for (i = 0; i < n; i++) {
		float a = fabsf(x[i]);

		if (a > pk)
			pk = a;
	}

	return pk;
}

size_t mix_to_pcm16(int16_t *out, const float *x, size_t n, double scale)
{
	size_t clipped = 0, i;

	if (!out || !x)
		return 0;

	for (i = 0; i < n; i++) {
		double v = lrint(x[i] * scale);

		if (v > 32767.0) {
			v = 32767.0;
			++clipped;
		}
		else if (v < -32768.0) {
			v = -32768.0;
			++clipped;
		}
		out[i] = (int16_t)v;
	}

	return clipped;
}
