/**
 * @file test_aec.c  The echo canceller on real speech through a simulated
 * room: echo return loss enhancement, what our VAD makes of the residual,
 * double-talk, and the reference delay line.
 *
 * Far end: the test WAVs (flite slt, flite kal) looped; echo: the far end
 * 60 ms later through a short room response at -20 dB, plus microphone
 * noise at -65 dBFS; near end: espeak "seven thirty tonight" talking over
 * the far end (double-talk) after 6.5 s of echo only. ERLE is measured
 * from the moment the canceller says it has converged.
 */
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>
#include <re.h>
#include "banter/aec.h"
#include "banter/audio.h"
#include "banter/err.h"
#include "banter/vad.h"

enum {
	FS = BT_RATE_HZ,
	FRAME = BT_FRAME_SAMPLES,
	MS = FS / 1000,
	TOTAL_MS = 9000,
	TOTAL = TOTAL_MS * MS,
	DT_START_MS = 6500,      /* near end starts talking */
	ECHO_DELAY_MS = 60,
};

struct scene {
	int16_t *far;     /* reference: what the loudspeaker played */
	int16_t *mic;     /* echo + noise (+ near end) */
	int16_t *near;    /* the near-end talker alone, as it reaches the mic */
	size_t near_from, near_to;
};

static uint32_t rng = 12345;

static double grand(void)
{
	double u1, u2;

	rng = rng * 1664525u + 1013904223u;
	u1 = ((rng >> 8) + 0.5) / 16777216.0;
	rng = rng * 1664525u + 1013904223u;
	u2 = ((rng >> 8) + 0.5) / 16777216.0;
	return sqrt(-2.0 * log(u1)) * cos(2.0 * M_PI * u2);
}

static int16_t clip16(double v)
{
	return v > 32767.0 ? 32767 : v < -32768.0 ? -32768 : (int16_t)lrint(v);
}

static int16_t *load16k(const char *path, size_t *np)
{
	int16_t *pcm = NULL, *rs = NULL;
	size_t n = 0, nrs = 0;
	uint32_t rate = 0;

	assert_int_equal(bt_wav_read(path, &pcm, &n, &rate), 0);
	if (rate == FS) {
		*np = n;
		return pcm;
	}
	assert_int_equal(bt_resample_buf(pcm, n, rate, FS, &rs, &nrs), 0);
	mem_deref(pcm);
	*np = nrs;
	return rs;
}

static double energy(const int16_t *x, size_t n)
{
	double e = 0.0;

	for (size_t i = 0; i < n; i++)
		e += (double)x[i] * x[i];
	return e;
}

/* A short room response: direct path, two early reflections. */
static const struct {
	unsigned lag;
	double g;
} room[] = {
	{0, 1.0}, {1, 0.45}, {2, 0.2}, {48, -0.35}, {176, 0.2}, {400, 0.08},
};

/* Make the scene; echo_delay_ms from the far end to the microphone, the
 * echo echo_db under the far end. */
static void scene_make(struct scene *sc, unsigned echo_delay_ms,
		       double echo_db, bool near_end)
{
	static const char *far_wavs[] = {
		"tests/data/table_for_three_slt.wav",
		"tests/data/yes_that_is_right_kal8k.wav",
	};
	double *echo, e_far, e_echo, g;
	size_t pos = 0, k = 0, d = (size_t)echo_delay_ms * MS;

	memset(sc, 0, sizeof(*sc));
	sc->far = mem_zalloc(TOTAL * sizeof(int16_t), NULL);
	sc->mic = mem_zalloc(TOTAL * sizeof(int16_t), NULL);
	sc->near = mem_zalloc(TOTAL * sizeof(int16_t), NULL);
	echo = mem_zalloc(TOTAL * sizeof(double), NULL);
	assert_non_null(sc->far);
	assert_non_null(sc->mic);
	assert_non_null(sc->near);
	assert_non_null(echo);

	/* the far end talks all the time, 150 ms between phrases */
	while (pos < TOTAL) {
		size_t n, m;
		int16_t *w = load16k(far_wavs[k++ % 2], &n);

		m = n < TOTAL - pos ? n : TOTAL - pos;
		memcpy(sc->far + pos, w, m * sizeof(int16_t));
		pos += m + 150 * MS;
		mem_deref(w);
	}

	for (size_t i = 0; i < TOTAL; i++) {
		double v = 0.0;

		for (size_t r = 0; r < sizeof(room) / sizeof(room[0]); r++)
			if (i >= d + room[r].lag)
				v += room[r].g * sc->far[i - d - room[r].lag];
		echo[i] = v;
	}
	e_far = energy(sc->far, TOTAL);
	e_echo = 0.0;
	for (size_t i = 0; i < TOTAL; i++)
		e_echo += echo[i] * echo[i];
	g = sqrt(e_far / e_echo) * pow(10.0, echo_db / 20.0);

	if (near_end) {
		size_t n;
		int16_t *w = load16k("tests/data/seven_thirty_tonight_espeak.wav",
				     &n);

		sc->near_from = (size_t)DT_START_MS * MS;
		sc->near_to = sc->near_from + n;
		assert_true(sc->near_to <= TOTAL);
		memcpy(sc->near + sc->near_from, w, n * sizeof(int16_t));
		mem_deref(w);
	}

	for (size_t i = 0; i < TOTAL; i++)
		sc->mic[i] = clip16(g * echo[i] + sc->near[i] +
				    32768.0 * pow(10.0, -65.0 / 20.0) *
				    grand());
	mem_deref(echo);
}

static void scene_free(struct scene *sc)
{
	sc->far = mem_deref(sc->far);
	sc->mic = mem_deref(sc->mic);
	sc->near = mem_deref(sc->near);
}

/* Run the canceller over the scene frame by frame; *cpu_us per frame,
 * *conv_ms when it converged (UINT32_MAX: never). */
static int16_t *cancel(const struct scene *sc, uint32_t tail_ms,
		       uint32_t ref_delay_ms, double *cpu_us,
		       uint32_t *conv_ms)
{
	struct bt_aec *a = NULL;
	int16_t *out = mem_zalloc(TOTAL * sizeof(int16_t), NULL);
	struct timespec t0, t1;

	assert_non_null(out);
	assert_int_equal(bt_aec_alloc(&a, FS, tail_ms), 0);
	assert_int_equal(bt_aec_set_ref_delay_ms(a, ref_delay_ms), 0);
	*conv_ms = UINT32_MAX;
	assert_false(bt_aec_converged(a));
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t0);
	for (size_t i = 0; i + FRAME <= TOTAL; i += FRAME) {
		assert_int_equal(bt_aec_process(a, sc->mic + i, sc->far + i,
						out + i, FRAME), 0);
		if (*conv_ms == UINT32_MAX && bt_aec_converged(a))
			*conv_ms = (uint32_t)((i + FRAME) / MS);
	}
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t1);
	if (cpu_us)
		*cpu_us = ((double)(t1.tv_sec - t0.tv_sec) * 1e6 +
			   (double)(t1.tv_nsec - t0.tv_nsec) / 1e3) /
			(TOTAL / FRAME);
	mem_deref(a);
	return out;
}

/* ERLE over [from_ms, to_ms): mic energy over output energy, in dB. */
static double erle_db(const int16_t *mic, const int16_t *out,
		      unsigned from_ms, unsigned to_ms)
{
	size_t a = (size_t)from_ms * MS, n = (size_t)(to_ms - from_ms) * MS;

	return 10.0 * log10(energy(mic + a, n) / (energy(out + a, n) + 1.0));
}

/* Our VAD and segmenter, as the session runs them, over a signal: the
 * times at which speech starts are confirmed (frame end, ms). */
static size_t vad_starts(const int16_t *x, uint64_t *starts, size_t max)
{
	struct bt_vadseg *seg = NULL;
	size_t k = 0;

	assert_int_equal(bt_vad_energy_init(), 0);
	assert_int_equal(bt_vadseg_alloc(&seg, bt_vad_find("energy"), NULL),
			 0);
	for (size_t i = 0; i + FRAME <= TOTAL; i += FRAME) {
		enum bt_vadseg_ev ev = BT_VADSEG_NONE;
		uint64_t ev_ms = 0, t = i / MS;

		assert_int_equal(bt_vadseg_frame(seg, x + i, FRAME, t, &ev,
						 &ev_ms, NULL), 0);
		if (ev == BT_VADSEG_START && k < max)
			starts[k++] = t + BT_FRAME_MS;
	}
	mem_deref(seg);
	return k;
}

static void test_args(void **state)
{
	struct bt_aec *a = NULL;
	int16_t buf[FRAME] = {0};

	(void)state;
	assert_int_equal(bt_aec_alloc(NULL, FS, 0), EINVAL);
	assert_int_equal(bt_aec_alloc(&a, 7000, 0), EINVAL);
	assert_int_equal(bt_aec_alloc(&a, 16010, 0), EINVAL);
	assert_int_equal(bt_aec_alloc(&a, 96000, 0), EINVAL);
	assert_int_equal(bt_aec_alloc(&a, FS, 10), EINVAL);
	assert_non_null(strstr(bt_errmsg(), "tail"));
	assert_int_equal(bt_aec_alloc(&a, FS, BT_AEC_TAIL_MS_MAX + 1),
			 EINVAL);
	assert_null(a);

	assert_int_equal(bt_aec_alloc(&a, 8000, 0), 0);
	assert_int_equal(bt_aec_frame_samples(a), 160);
	a = mem_deref(a);

	assert_int_equal(bt_aec_alloc(&a, 0, 0), 0);
	assert_int_equal(bt_aec_frame_samples(a), FRAME);
	assert_int_equal(bt_aec_process(a, buf, buf, buf, FRAME - 1), EINVAL);
	assert_non_null(strstr(bt_errmsg(), "multiple of 320"));
	assert_int_equal(bt_aec_process(a, buf, buf, buf, 0), EINVAL);
	assert_int_equal(bt_aec_process(a, NULL, buf, buf, FRAME), EINVAL);
	assert_int_equal(bt_aec_set_ref_delay_ms(a, BT_AEC_REF_DELAY_MS_MAX +
						  1), EINVAL);
	assert_int_equal(bt_aec_set_ref_delay_ms(a, BT_AEC_REF_DELAY_MS_MAX),
			 0);
	/* no reference, in place: silence in, (near) silence out */
	assert_int_equal(bt_aec_process(a, buf, NULL, buf, FRAME), 0);
	assert_true(bt_level_dbfs(buf, FRAME) < -80.0);
	assert_int_equal(bt_aec_set_denoise(a, true), 0);
	assert_int_equal(bt_aec_set_denoise(NULL, true), EINVAL);
	mem_deref(a);
}

static void test_echo_and_double_talk(void **state)
{
	struct scene sc;
	int16_t *out;
	uint64_t starts[16];
	size_t n;
	uint32_t conv_ms;
	double cpu_us, erle, keep_db, e_near, e_out;
	size_t nf = (size_t)DT_START_MS * MS;

	(void)state;
	scene_make(&sc, ECHO_DELAY_MS, -20.0, true);

	/* without the canceller the echo alone starts "speech": the scene
	 * is loud enough to matter */
	n = vad_starts(sc.mic, starts, 16);
	assert_true(n >= 1);
	assert_true(starts[0] < DT_START_MS);

	out = cancel(&sc, 0, 0, &cpu_us, &conv_ms);
	assert_true(conv_ms < DT_START_MS - 1000);
	erle = erle_db(sc.mic, out, conv_ms, DT_START_MS);
	print_message("      converged after %u ms; ERLE %.1f dB from then "
		      "to %d ms (echo only); %.0f us CPU per 20 ms frame\n",
		      conv_ms, erle, DT_START_MS, cpu_us);
	assert_true(erle >= 15.0);

	/* the residual echo never looks like speech, not even while the
	 * filter converges; the near end talking over the far end does */
	n = vad_starts(out, starts, 16);
	assert_true(n >= 1);
	assert_true(starts[0] > DT_START_MS);
	assert_true(starts[0] < sc.near_to / MS);

	/* the near end survives double-talk: its energy is mostly kept */
	e_near = energy(sc.near + nf, sc.near_to - nf);
	e_out = energy(out + nf, sc.near_to - nf);
	keep_db = 10.0 * log10(e_out / e_near);
	print_message("      near end during double-talk: %.1f dB\n",
		      keep_db);
	assert_true(keep_db > -6.0);
	assert_true(keep_db < 3.0);

	mem_deref(out);
	scene_free(&sc);
}

/* A loud speakerphone behind a sound card's buffer: the echo 150 ms after
 * the reference, only 10 dB under it. Loud onsets in the reference meet
 * filter taps that should be zero (the first 150 ms) but are not quite:
 * the estimate then holds more than the microphone, and is not echo. */
static void test_loud_late_echo(void **state)
{
	struct scene sc;
	int16_t *out;
	uint64_t starts[16];
	uint32_t conv_ms;
	size_t n;

	(void)state;
	scene_make(&sc, 150, -10.0, true);
	out = cancel(&sc, 0, 0, NULL, &conv_ms);
	assert_true(conv_ms < DT_START_MS);
	n = vad_starts(out, starts, 16);
	print_message("      echo 150 ms late at -10 dB: converged after %u "
		      "ms, ERLE %.1f dB\n", conv_ms,
		      erle_db(sc.mic, out, conv_ms, DT_START_MS));
	assert_true(n >= 1);
	assert_true(starts[0] > DT_START_MS);
	assert_true(starts[0] < sc.near_to / MS);
	mem_deref(out);
	scene_free(&sc);
}

/* A headset: the far end plays, the microphone hears no echo. The
 * canceller sees that quickly and lets the near end through. */
static void test_no_echo(void **state)
{
	struct scene sc;
	int16_t *out;
	uint64_t starts[16];
	uint32_t conv_ms;
	size_t n, nf;
	double keep_db;

	(void)state;
	scene_make(&sc, ECHO_DELAY_MS, -20.0, true);
	for (size_t i = 0; i < TOTAL; i++)
		sc.mic[i] = clip16(sc.near[i] + 32768.0 *
				   pow(10.0, -65.0 / 20.0) * grand());

	out = cancel(&sc, 0, 0, NULL, &conv_ms);
	assert_true(conv_ms <= 1500);
	n = vad_starts(out, starts, 16);
	assert_int_equal(n, 1);
	assert_true(starts[0] > DT_START_MS);
	nf = sc.near_from;
	keep_db = 10.0 * log10(energy(out + nf, sc.near_to - nf) /
			       energy(sc.near + nf, sc.near_to - nf));
	print_message("      no echo: converged after %u ms; near end "
		      "%.1f dB\n", conv_ms, keep_db);
	assert_true(keep_db > -3.0);
	mem_deref(out);
	scene_free(&sc);
}

/* An echo later than the tail cannot be cancelled: the canceller stays
 * half-duplex (never converges) until the delay line brings the reference
 * back in front of the echo. */
static void test_ref_delay(void **state)
{
	struct scene sc;
	int16_t *out;
	uint32_t conv_ms;
	double aligned;
	uint64_t starts[16];

	(void)state;
	scene_make(&sc, 450, -20.0, false);

	out = cancel(&sc, 200, 0, NULL, &conv_ms);
	assert_int_equal(conv_ms, UINT32_MAX);
	mem_deref(out);

	out = cancel(&sc, 200, 400, NULL, &conv_ms);
	assert_true(conv_ms < TOTAL_MS - 2000);
	aligned = erle_db(sc.mic, out, conv_ms, TOTAL_MS);
	print_message("      echo 450 ms late, 200 ms tail: never "
		      "converges; with the reference delayed 400 ms: "
		      "converged after %u ms, ERLE %.1f dB\n", conv_ms,
		      aligned);
	assert_true(aligned >= 15.0);
	assert_int_equal(vad_starts(out, starts, 16), 0);
	mem_deref(out);
	scene_free(&sc);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_args),
		cmocka_unit_test(test_echo_and_double_talk),
		cmocka_unit_test(test_loud_late_echo),
		cmocka_unit_test(test_no_echo),
		cmocka_unit_test(test_ref_delay),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
