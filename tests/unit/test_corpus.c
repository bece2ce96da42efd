/**
 * @file test_corpus.c  The corpus generator's signal pieces
 * (bench/corpus/mix.c): noise colour, SNR of the mix, the echo path,
 * speech-interval measurement, and the seeded generator, all checked on
 * the PCM16 a corpus file would hold.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "mix.h"

enum {
	RATE = 16000,
	N = 4 * RATE,
};

static float *fbuf(size_t n)
{
	float *p = calloc(n, sizeof(float));

	assert_non_null(p);
	return p;
}

static int16_t *ibuf(size_t n)
{
	int16_t *p = calloc(n, sizeof(int16_t));

	assert_non_null(p);
	return p;
}

/* A speech stand-in: voiced bursts (harmonics of 140 Hz under a
 * syllable-rate envelope) inside the ranges, silence outside. */
static void fake_speech(float *x, size_t n, const struct mix_range *rg,
			size_t n_rg, double amp)
{
	size_t k, i;
	int h;

	memset(x, 0, n * sizeof(float));
	for (k = 0; k < n_rg; k++) {
		for (i = rg[k].start; i < rg[k].end && i < n; i++) {
			double t = (double)i / RATE, v = 0.0;
			double env = 0.55 - 0.45 * cos(2.0 * M_PI * 4.0 * t);

			for (h = 1; h <= 12; h++)
				v += sin(2.0 * M_PI * 140.0 * h * t + h) / h;
			x[i] = (float)(amp * env * v);
		}
	}
}

/* Mean power of a - b over the ranges (PCM16 samples). */
static double diff_power(const int16_t *a, const int16_t *b,
			 const struct mix_range *rg, size_t n_rg)
{
	double e = 0.0;
	size_t cnt = 0, k, i;

	for (k = 0; k < n_rg; k++) {
		for (i = rg[k].start; i < rg[k].end; i++) {
			double d = (double)a[i] - (b ? b[i] : 0);

			e += d * d;
			++cnt;
		}
	}

	return e / (double)cnt;
}

/* Power at frequency f_hz, averaged over Hann-windowed blocks (Goertzel). */
static double band_power(const float *x, size_t n, double f_hz)
{
	const size_t blk = 1024;
	double sum = 0.0;
	size_t b, i, nb = n / blk;

	for (b = 0; b < nb; b++) {
		double w = 2.0 * cos(2.0 * M_PI * f_hz / RATE), s1 = 0, s2 = 0;

		for (i = 0; i < blk; i++) {
			double win = 0.5 - 0.5 * cos(2.0 * M_PI * i / blk);
			double s0 = x[b * blk + i] * win + w * s1 - s2;

			s2 = s1;
			s1 = s0;
		}
		sum += s1 * s1 + s2 * s2 - w * s1 * s2;
	}

	return sum / (double)nb;
}

/* Mean power over a third of an octave around f_hz, in dB. */
static double band_db(const float *x, size_t n, double f_hz)
{
	double sum = 0.0;
	int k;

	for (k = -4; k <= 4; k++)
		sum += band_power(x, n, f_hz * pow(2.0, k / 24.0));

	return 10.0 * log10(sum / 9.0);
}

static void test_noise_colour(void **state)
{
	float *x = fbuf(N);
	struct mix_rng rng;
	double lo, hi;
	(void)state;

	mix_rng_seed(&rng, 7);
	mix_noise_fill(x, N, MIX_NOISE_WHITE, &rng);
	assert_float_equal(mix_power(x, N, NULL, 0), 1.0, 1e-6);
	lo = band_db(x, N, 250.0);
	hi = band_db(x, N, 4000.0);
	assert_true(fabs(hi - lo) < 1.0);

	/* pink: -3 dB per octave, so 4 octaves up is 12 dB down */
	mix_noise_fill(x, N, MIX_NOISE_PINK, &rng);
	assert_float_equal(mix_power(x, N, NULL, 0), 1.0, 1e-6);
	lo = band_db(x, N, 250.0);
	hi = band_db(x, N, 4000.0);
	assert_true(fabs((lo - hi) - 12.0) < 1.0);

	free(x);
}

/* The SNR measured on the PCM16 files (noise = mix - clean, over the
 * speech ranges) is the requested one, for each noise kind, even where
 * the noise is as loud between words as within them. */
static void test_snr(void **state)
{
	const struct mix_range rg[] = {
		{RATE / 2, RATE * 3 / 2}, {RATE * 2, RATE * 3},
	};
	const double snrs[] = {20.0, 10.0, 5.0, 0.0};
	float *s = fbuf(N), *nz = fbuf(N), *y = fbuf(N);
	int16_t *s16 = ibuf(N), *y16 = ibuf(N);
	struct mix_rng rng;
	size_t k, t, i;
	(void)state;

	fake_speech(s, N, rg, 2, 1500.0);
	mix_rng_seed(&rng, 11);

	for (t = 0; t < 3; t++) {
		if (t == 2) {
			/* babble-like: level rises and falls */
			mix_noise_fill(nz, N, MIX_NOISE_WHITE, &rng);
			for (i = 0; i < N; i++)
				nz[i] *= (float)(1.0 + 0.8 * sin(
					2.0 * M_PI * 3.0 * i / RATE));
		}
		else {
			mix_noise_fill(nz, N, t ? MIX_NOISE_PINK :
				       MIX_NOISE_WHITE, &rng);
		}

		for (k = 0; k < sizeof(snrs) / sizeof(snrs[0]); k++) {
			double g, ps, pn, scale;

			g = mix_add_noise(y, s, nz, N, rg, 2, snrs[k]);
			assert_true(g > 0.0);

			/* the generator's common scale for the files */
			scale = 32000.0 / mix_peak(y, N);
			if (scale > 1.0)
				scale = 1.0;
			assert_int_equal(mix_to_pcm16(s16, s, N, scale), 0);
			assert_int_equal(mix_to_pcm16(y16, y, N, scale), 0);

			ps = diff_power(s16, NULL, rg, 2);
			pn = diff_power(y16, s16, rg, 2);
			assert_true(fabs(10.0 * log10(ps / pn) - snrs[k]) <
				    0.5);

			/* and noise also fills the gap between words */
			assert_true(y16[RATE * 7 / 4] != 0 ||
				    y16[RATE * 7 / 4 + 1] != 0);
		}
	}

	/* silent speech or noise: nothing to scale against */
	memset(nz, 0, N * sizeof(float));
	assert_true(mix_add_noise(y, s, nz, N, rg, 2, 10.0) == 0.0);

	free(s);
	free(nz);
	free(y);
	free(s16);
	free(y16);
}

/* Echo: the residual mix - caller is the reference delayed by exactly the
 * requested delay, 20 dB down. */
static void test_echo(void **state)
{
	const struct mix_range near_rg[] = {{RATE * 2, RATE * 3}};
	const struct mix_range far_rg[] = {{RATE / 4, RATE * 5 / 2}};
	const size_t delays[] = {40 * RATE / 1000, 85 * RATE / 1000,
				 120 * RATE / 1000};
	float *ref = fbuf(N), *y = fbuf(N), *caller = fbuf(N);
	int16_t *ref16 = ibuf(N), *y16 = ibuf(N), *c16 = ibuf(N);
	size_t d, lag, best_lag = 0, i;
	(void)state;

	fake_speech(caller, N, near_rg, 1, 3000.0);
	/* the agent: another pitch, so a wrong lag cannot look right */
	fake_speech(ref, N, far_rg, 1, 3000.0);
	for (i = 0; i < N; i++)
		ref[i] *= (float)(0.6 + 0.4 * sin(2.0 * M_PI * 1.7 * i / RATE +
						  0.002 * i));

	for (d = 0; d < 3; d++) {
		double best = -1.0, num = 0.0, den = 0.0;

		memcpy(y, caller, N * sizeof(float));
		mix_add_echo(y, ref, N, delays[d], -20.0);
		mix_to_pcm16(y16, y, N, 1.0);
		mix_to_pcm16(c16, caller, N, 1.0);
		mix_to_pcm16(ref16, ref, N, 1.0);

		for (lag = 0; lag <= 200 * RATE / 1000; lag++) {
			double c = 0.0, e = 0.0;

			for (i = lag; i < N; i += 2) {
				double r = (double)y16[i] - c16[i];

				c += r * ref16[i - lag];
				e += (double)ref16[i - lag] * ref16[i - lag];
			}
			c = e > 0.0 ? c / sqrt(e) : 0.0;
			if (c > best) {
				best = c;
				best_lag = lag;
			}
		}
		assert_int_equal(best_lag, delays[d]);

		for (i = delays[d]; i < N; i++) {
			double r = (double)y16[i] - c16[i];

			num += r * ref16[i - delays[d]];
			den += (double)ref16[i - delays[d]] *
				ref16[i - delays[d]];
		}
		assert_true(fabs(20.0 * log10(num / den) + 20.0) < 0.5);

		/* nothing arrives before the delay */
		for (i = 0; i < delays[d]; i++)
			assert_int_equal(y16[i], c16[i]);
	}

	free(ref);
	free(y);
	free(caller);
	free(ref16);
	free(y16);
	free(c16);
}

/* Speech intervals come out within one 5 ms block of the truth, also for
 * a burst that fades in and out over 30 ms. */
static void test_find_active(void **state)
{
	const struct mix_range rg[] = {{RATE / 2, RATE * 3 / 2}};
	float *x = fbuf(N);
	struct mix_range act;
	size_t i, ramp = 30 * RATE / 1000;
	(void)state;

	assert_false(mix_find_active(x, N, RATE, 35.0, &act));

	fake_speech(x, N, rg, 1, 2000.0);
	assert_true(mix_find_active(x, N, RATE, 35.0, &act));
	assert_true(labs((long)act.start - (long)rg[0].start) <= 80);
	assert_true(labs((long)act.end - (long)rg[0].end) <= 80);

	/* a fade-in: the first 5 ms are 40+ dB down and do not count */
	for (i = 0; i < ramp; i++) {
		double g = pow((double)i / ramp, 3.0);

		x[rg[0].start + i] *= (float)g;
		x[rg[0].end - 1 - i] *= (float)g;
	}
	assert_true(mix_find_active(x, N, RATE, 35.0, &act));
	assert_true(act.start >= rg[0].start);
	assert_true(act.start <= rg[0].start + ramp);
	assert_true(act.end <= rg[0].end);
	assert_true(act.end >= rg[0].end - ramp);

	/* a quiet hum under the threshold is not speech */
	for (i = 0; i < N; i++)
		x[i] += (float)(5.0 * sin(2.0 * M_PI * 50.0 * i / RATE));
	assert_true(mix_find_active(x, N, RATE, 35.0, &act));
	assert_true(act.start >= rg[0].start);
	assert_true(act.end <= rg[0].end);

	free(x);
}

/* The corpus is the same everywhere only if the generator is. */
static void test_rng(void **state)
{
	struct mix_rng a, b;
	double sum = 0.0, sq = 0.0;
	int i, lo = 100, hi = 0;
	(void)state;

	mix_rng_seed(&a, 42);
	mix_rng_seed(&b, 42);
	for (i = 0; i < 1000; i++)
		assert_int_equal(mix_rng_u32(&a), mix_rng_u32(&b));
	mix_rng_seed(&b, 43);
	assert_int_not_equal(mix_rng_u32(&a), mix_rng_u32(&b));

	/* a fixed value pins the sequence across platforms and edits */
	mix_rng_seed(&a, 1);
	assert_int_equal(mix_rng_u32(&a), 1262921053u);

	for (i = 0; i < 100000; i++) {
		double g = mix_rng_gauss(&a);
		int r = mix_rng_range(&a, 3, 7);

		sum += g;
		sq += g * g;
		if (r < lo)
			lo = r;
		if (r > hi)
			hi = r;
	}
	assert_true(fabs(sum / 100000) < 0.02);
	assert_true(fabs(sq / 100000 - 1.0) < 0.02);
	assert_int_equal(lo, 3);
	assert_int_equal(hi, 7);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_noise_colour),
		cmocka_unit_test(test_snr),
		cmocka_unit_test(test_echo),
		cmocka_unit_test(test_find_active),
		cmocka_unit_test(test_rng),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
