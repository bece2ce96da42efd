/**
 * @file test_pitch.c  The F0 tracker on generated signals of known pitch
 * (sines, pulse trains, vowel-like sounds, glides), on noise, and on real
 * (flite) speech.
 */
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>
#include <re.h>
#include "banter/audio.h"
#include "banter/err.h"
#include "audio/pitch.h"

enum {
	FS = BT_RATE_HZ,
	FRAME = BT_FRAME_SAMPLES,
	MS = FS / 1000,
	MAX_FRAMES = 400,
};

static const char slt_path[] = "tests/data/table_for_three_slt.wav";

/* ---- deterministic signal generation ---- */

static uint32_t rng = 1;

static double urand(void)
{
	rng = rng * 1664525u + 1013904223u;
	return ((rng >> 8) + 0.5) / 16777216.0;
}

static double grand(void)
{
	return sqrt(-2.0 * log(urand())) * cos(2.0 * M_PI * urand());
}

static double amp_of(double dbfs)
{
	return 32768.0 * pow(10.0, dbfs / 20.0);
}

static int16_t clip16(double v)
{
	long r = lrint(v);

	return (int16_t)(r > 32767 ? 32767 : r < -32768 ? -32768 : r);
}

enum wave { SINE, PULSE, VOWEL };

/*
 * n samples of a periodic sound whose F0 goes linearly from f_a to f_b:
 * a sine, a pulse train (each pulse a damped 900 Hz ring, like a glottal
 * pulse through a formant 75 Hz wide) or a vowel (harmonics shaped by
 * formants at 700 and 1200 Hz). Peak level about dbfs.
 */
static int16_t *make_wave(enum wave w, double f_a, double f_b, size_t n,
			  double dbfs)
{
	int16_t *pcm = mem_alloc(n * sizeof(*pcm), NULL);
	double a = amp_of(dbfs), ph = 0.0, ring = 0.0, ring_v = 0.0;
	size_t i;
	int k;

	assert_non_null(pcm);
	for (i = 0; i < n; i++) {
		double f0 = f_a + (f_b - f_a) * i / n, v = 0.0;
		double prev = ph;

		ph += 2.0 * M_PI * f0 / FS;
		switch (w) {
		case SINE:
			v = sin(ph);
			break;
		case PULSE: {
			/* a resonator at 900 Hz, 75 Hz wide, kicked once per
			 * period */
			const double r = 0.985, th = 2.0 * M_PI * 900.0 / FS;
			double kick = floor(ph / (2 * M_PI)) !=
				floor(prev / (2 * M_PI)) ? 1.0 : 0.0;
			double y = 2 * r * cos(th) * ring - r * r * ring_v +
				kick;

			ring_v = ring;
			ring = y;
			v = y * 0.08;
			break;
		}
		case VOWEL:
			for (k = 1; k * f0 < 3800.0; k++) {
				double f = k * f0;
				double g =
					1.0 / (1.0 + pow((f - 700) / 150, 2)) +
					0.5 / (1.0 + pow((f - 1200) / 150, 2)) +
					0.03;

				v += g / k * sin(k * ph);
			}
			v *= 0.7;
			break;
		}
		pcm[i] = clip16(a * v);
	}
	return pcm;
}

struct track {
	size_t n;
	float f0[MAX_FRAMES];
	float voicing[MAX_FRAMES];
};

static void run_track(const int16_t *pcm, size_t n, size_t chunk,
		      struct track *t)
{
	struct bt_pitch *p = NULL;
	size_t off;

	memset(t, 0, sizeof(*t));
	assert_int_equal(bt_pitch_alloc(&p), 0);
	for (off = 0; off + chunk <= n && t->n < MAX_FRAMES; off += chunk) {
		float v = -1.0f;
		float f = bt_pitch_frame(p, pcm + off, chunk, &v);

		assert_true(v >= 0.0f && v <= 1.0f);
		assert_true(f == 0.0f ||
			    (f >= 0.95f * BT_PITCH_MIN_HZ &&
			     f <= 1.05f * BT_PITCH_MAX_HZ));
		t->f0[t->n] = f;
		t->voicing[t->n] = v;
		t->n++;
	}
	mem_deref(p);
}

/* Every frame from the third on is voiced and within tol of hz. */
static void expect_steady(enum wave w, double hz, double tol)
{
	size_t n = FS / 2, i;
	int16_t *pcm = make_wave(w, hz, hz, n, -12.0);
	struct track t;

	run_track(pcm, n, FRAME, &t);
	for (i = 2; i < t.n; i++) {
		if (fabs(t.f0[i] / hz - 1.0) > tol)
			print_error("wave %d at %.1f Hz, frame %zu: %.2f Hz "
				    "(voicing %.2f)\n", (int)w, hz, i,
				    t.f0[i], t.voicing[i]);
		assert_true(fabs(t.f0[i] / hz - 1.0) <= tol);
		assert_true(t.voicing[i] > 0.8f);
	}
	mem_deref(pcm);
}

static void test_sines(void **state)
{
	static const double hz[] = {62, 75, 100, 133, 150, 187.5, 220, 261,
				    300, 345, 390};
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(hz); i++)
		expect_steady(SINE, hz[i], 0.02);
}

static void test_pulse_trains(void **state)
{
	static const double hz[] = {65, 80, 110, 120, 175, 200, 240, 290,
				    350, 395};
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(hz); i++)
		expect_steady(PULSE, hz[i], 0.02);
}

static void test_vowels(void **state)
{
	static const double hz[] = {70, 95, 118, 140, 180, 210, 250, 330};
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(hz); i++)
		expect_steady(VOWEL, hz[i], 0.02);
}

/*
 * A glide from f_a to f_b over 600 ms: every voiced frame within 3% of
 * the F0 ~15 ms before the frame's end (the middle of the analysis
 * window), and the track moves the right way.
 */
static void expect_glide(double f_a, double f_b)
{
	size_t n = 600 * MS, i, ups = 0, downs = 0, voiced = 0;
	int16_t *pcm = make_wave(VOWEL, f_a, f_b, n, -12.0);
	struct track t;

	run_track(pcm, n, FRAME, &t);
	for (i = 2; i < t.n; i++) {
		double at = (double)((i + 1) * FRAME) - 15.0 * MS;
		double want = f_a + (f_b - f_a) * at / n;

		assert_true(t.f0[i] > 0.0f);
		voiced++;
		if (fabs(t.f0[i] / want - 1.0) > 0.03)
			print_error("glide %.0f->%.0f frame %zu: %.1f, want "
				    "%.1f\n", f_a, f_b, i, t.f0[i], want);
		assert_true(fabs(t.f0[i] / want - 1.0) <= 0.03);
		if (i > 2 && t.f0[i] > t.f0[i - 1])
			ups++;
		if (i > 2 && t.f0[i] < t.f0[i - 1])
			downs++;
	}
	assert_true(voiced >= 25);
	if (f_b < f_a) {
		assert_true(downs >= 9 * (ups + downs) / 10);
		assert_true(t.f0[t.n - 1] < 0.75 * t.f0[3]);
	}
	else {
		assert_true(ups >= 9 * (ups + downs) / 10);
		assert_true(t.f0[t.n - 1] > 1.3 * t.f0[3]);
	}
	mem_deref(pcm);
}

static void test_glides(void **state)
{
	(void)state;
	expect_glide(260, 160);  /* a female-range fall */
	expect_glide(160, 260);  /* the same rise */
	expect_glide(140, 85);   /* male-range fall */
	expect_glide(90, 150);
}

/* The same sine fed in chunks of 160 and 320 gives the same F0. */
static void test_chunk_sizes(void **state)
{
	size_t n = FS / 2, i;
	int16_t *pcm = make_wave(SINE, 123.0, 123.0, n, -20.0);
	struct track t;

	(void)state;
	run_track(pcm, n, FRAME / 2, &t);
	for (i = 4; i < t.n; i++)
		assert_true(fabs(t.f0[i] / 123.0 - 1.0) < 0.02);
	run_track(pcm, n, 640, &t);
	for (i = 1; i < t.n; i++)
		assert_true(fabs(t.f0[i] / 123.0 - 1.0) < 0.02);
	mem_deref(pcm);
}

static size_t count_voiced(const struct track *t)
{
	size_t i, v = 0;

	for (i = 0; i < t->n; i++)
		v += t->f0[i] > 0.0f;
	return v;
}

static void test_noise_unvoiced(void **state)
{
	size_t n = 2 * FS, i;
	int16_t *pcm = mem_alloc(n * sizeof(*pcm), NULL);
	double lp = 0.0, brown = 0.0;
	struct track t;

	(void)state;
	assert_non_null(pcm);

	/* white noise at -20 dBFS */
	rng = 7;
	for (i = 0; i < n; i++)
		pcm[i] = clip16(amp_of(-20.0) * grand());
	run_track(pcm, n, FRAME, &t);
	assert_true(count_voiced(&t) <= t.n / 50);

	/* low-passed (one pole at ~500 Hz) noise */
	for (i = 0; i < n; i++) {
		lp = 0.82 * lp + 0.18 * grand();
		pcm[i] = clip16(amp_of(-14.0) * lp * 2.0);
	}
	run_track(pcm, n, FRAME, &t);
	assert_true(count_voiced(&t) <= t.n / 50);

	/* brown noise: correlated at every lag, never periodic, but as it
	 * wanders a frame now and then looks periodic (0-3% over seeds) */
	for (i = 0; i < n; i++) {
		brown = 0.995 * brown + grand();
		pcm[i] = clip16(amp_of(-40.0) * brown);
	}
	run_track(pcm, n, FRAME, &t);
	assert_true(count_voiced(&t) <= t.n / 20);

	/* digital silence and a -70 dBFS hum: too quiet to be speech */
	memset(pcm, 0, n * sizeof(*pcm));
	run_track(pcm, n, FRAME, &t);
	assert_int_equal(count_voiced(&t), 0);
	for (i = 0; i < n; i++)
		pcm[i] = clip16(amp_of(-70.0) * sin(2 * M_PI * 150.0 * i / FS));
	run_track(pcm, n, FRAME, &t);
	assert_int_equal(count_voiced(&t), 0);

	mem_deref(pcm);
}

/* A voiced stretch between silences: no F0 in the silences, the first
 * 40 ms after reset are unvoiced, the voiced part is found. */
static void test_onset_and_reset(void **state)
{
	size_t n = FS, i;
	int16_t *pcm = mem_zalloc(n * sizeof(*pcm), NULL);
	int16_t *v = make_wave(VOWEL, 200.0, 200.0, 400 * MS, -15.0);
	struct bt_pitch *p = NULL;
	struct track t;
	float f, voicing;

	(void)state;
	assert_non_null(pcm);
	memcpy(pcm + 300 * MS, v, 400 * MS * sizeof(*pcm));
	run_track(pcm, n, FRAME, &t);
	for (i = 0; i < t.n; i++) {
		size_t ms = i * BT_FRAME_MS;

		if (ms < 300 || ms >= 720)
			assert_true(t.f0[i] == 0.0f);
		if (ms >= 340 && ms < 680)
			assert_true(fabs(t.f0[i] / 200.0 - 1.0) < 0.02);
	}

	assert_int_equal(bt_pitch_alloc(&p), 0);
	f = bt_pitch_frame(p, v, FRAME, &voicing);
	assert_true(f == 0.0f);  /* 20 ms of history is not enough */
	f = bt_pitch_frame(p, v + FRAME, FRAME, &voicing);
	assert_true(fabs(f / 200.0 - 1.0) < 0.02);
	bt_pitch_reset(p);
	f = bt_pitch_frame(p, v + 2 * FRAME, FRAME, &voicing);
	assert_true(f == 0.0f);

	mem_deref(p);
	mem_deref(v);
	mem_deref(pcm);
}

static void test_args(void **state)
{
	struct bt_pitch *p = NULL;
	int16_t pcm[700] = {0};
	float v = 5.0f;

	(void)state;
	assert_int_equal(bt_pitch_alloc(NULL), EINVAL);
	assert_true(strlen(bt_errmsg()) > 0);
	assert_int_equal(bt_pitch_alloc(&p), 0);
	assert_true(bt_pitch_frame(NULL, pcm, FRAME, &v) == 0.0f);
	assert_true(v == 0.0f);
	assert_true(bt_pitch_frame(p, NULL, FRAME, NULL) == 0.0f);
	assert_true(bt_pitch_frame(p, pcm, 0, NULL) == 0.0f);
	assert_true(bt_pitch_frame(p, pcm, 641, NULL) == 0.0f);
	assert_true(bt_pitch_frame(p, pcm, 640, NULL) == 0.0f);
	bt_pitch_reset(NULL);
	mem_deref(p);
}

static int cmp_float(const void *a, const void *b)
{
	float x = *(const float *)a, y = *(const float *)b;

	return x < y ? -1 : x > y;
}

/* flite's slt (a female voice): voiced frames at 100-300 Hz. */
static void test_real_speech(void **state)
{
	int16_t *pcm = NULL;
	size_t n = 0, i, voiced = 0, in_range = 0;
	uint32_t rate = 0;
	float f0s[MAX_FRAMES];
	struct track t;

	(void)state;
	assert_int_equal(bt_wav_read(slt_path, &pcm, &n, &rate), 0);
	assert_int_equal(rate, FS);
	run_track(pcm, n, FRAME, &t);
	for (i = 0; i < t.n; i++) {
		if (t.f0[i] <= 0.0f)
			continue;
		f0s[voiced++] = t.f0[i];
		in_range += t.f0[i] >= 100.0f && t.f0[i] <= 300.0f;
	}
	/* "a table for three": ~0.9 s of voicing in 1.7 s */
	assert_true(voiced >= 35 && voiced <= 65);
	assert_true(in_range >= voiced * 95 / 100);
	qsort(f0s, voiced, sizeof(f0s[0]), cmp_float);
	assert_true(f0s[voiced / 2] > 150.0f && f0s[voiced / 2] < 220.0f);
	mem_deref(pcm);
}

/* Cost per 20 ms frame on speech (printed; the bound only catches a
 * pathological slowdown, sanitizers included). */
static void test_cost(void **state)
{
	int16_t *pcm = NULL;
	size_t n = 0, off, frames = 0;
	uint32_t rate = 0;
	struct bt_pitch *p = NULL;
	struct timespec a, b;
	double us;
	int rep;

	(void)state;
	assert_int_equal(bt_wav_read(slt_path, &pcm, &n, &rate), 0);
	assert_int_equal(bt_pitch_alloc(&p), 0);
	clock_gettime(CLOCK_MONOTONIC, &a);
	for (rep = 0; rep < 20; rep++) {
		for (off = 0; off + FRAME <= n; off += FRAME) {
			(void)bt_pitch_frame(p, pcm + off, FRAME, NULL);
			frames++;
		}
	}
	clock_gettime(CLOCK_MONOTONIC, &b);
	us = ((double)(b.tv_sec - a.tv_sec) * 1e9 +
	      (double)(b.tv_nsec - a.tv_nsec)) / 1e3 / (double)frames;
	print_message("pitch: %.1f us per 20 ms frame\n", us);
	assert_true(us < 2000.0);
	mem_deref(p);
	mem_deref(pcm);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sines),
		cmocka_unit_test(test_pulse_trains),
		cmocka_unit_test(test_vowels),
		cmocka_unit_test(test_glides),
		cmocka_unit_test(test_chunk_sizes),
		cmocka_unit_test(test_noise_unvoiced),
		cmocka_unit_test(test_onset_and_reset),
		cmocka_unit_test(test_args),
		cmocka_unit_test(test_real_speech),
		cmocka_unit_test(test_cost),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
