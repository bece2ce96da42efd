/**
 * @file test_prosody.c  End-of-turn prosody on synthetic utterances:
 * syllables of a vowel-like sound whose last one falls, rises or stays
 * flat, short or drawn out, run through the real pitch tracker.
 */
#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>
#include <re.h>
#include "banter/audio.h"
#include "banter/err.h"
#include "audio/pitch.h"
#include "turn/prosody.h"

enum {
	FS = BT_RATE_HZ,
	FRAME = BT_FRAME_SAMPLES,
	MS = FS / 1000,
	MAX_MS = 3000,
};

static uint32_t rng = 1;

static double urand(void)
{
	rng = rng * 1664525u + 1013904223u;
	return ((rng >> 8) + 0.5) / 16777216.0;
}

/* A syllable: F0 from f_a to f_b, vowel-like harmonics, 25 ms raised
 * cosine on and off, peak about -12 dBFS. */
struct syl {
	double f_a, f_b;
	unsigned ms;
};

struct utt {
	double buf[MAX_MS * MS];
	size_t n;
};

static void add_gap(struct utt *u, unsigned ms)
{
	size_t i;

	/* a quiet unvoiced consonant or breath: -50 dBFS noise */
	for (i = 0; i < (size_t)ms * MS && u->n < MAX_MS * MS; i++)
		u->buf[u->n++] = 100.0 * (urand() - 0.5);
}

static void add_syl(struct utt *u, const struct syl *s)
{
	size_t n = (size_t)s->ms * MS, i, edge = 25 * MS;
	double ph = 0.0;
	int k;

	assert_true(u->n + n <= MAX_MS * MS);
	for (i = 0; i < n; i++) {
		double f0 = s->f_a + (s->f_b - s->f_a) * i / n, v = 0.0, g;

		ph += 2.0 * M_PI * f0 / FS;
		for (k = 1; k * f0 < 3800.0; k++) {
			double f = k * f0;
			double a = 1.0 / (1.0 + pow((f - 650) / 150, 2)) +
				0.5 / (1.0 + pow((f - 1100) / 150, 2)) + 0.03;

			v += a / k * sin(k * ph);
		}
		g = i < edge ? 0.5 - 0.5 * cos(M_PI * i / edge) :
			n - i < edge ? 0.5 - 0.5 * cos(M_PI * (n - i) / edge) :
			1.0;
		u->buf[u->n++] = 5000.0 * g * v;
	}
}

/* "ta ta ta ta X": four plain syllables with a gentle declination, then
 * the final one. */
static void make_utt(struct utt *u, const struct syl *final)
{
	static const struct syl body[] = {
		{215, 212, 160}, {210, 206, 150}, {208, 204, 170},
		{205, 202, 160},
	};
	size_t i;

	u->n = 0;
	add_gap(u, 100);
	for (i = 0; i < ARRAY_SIZE(body); i++) {
		add_syl(u, &body[i]);
		add_gap(u, 70);
	}
	add_syl(u, final);
	add_gap(u, 200); /* the VAD's hangover and a bit more */
}

/* Feed the utterance frame by frame as the session would. */
static void feed(struct bt_prosody *pr, struct bt_pitch *pt,
		 const struct utt *u)
{
	int16_t pcm[FRAME];
	size_t off, i;

	bt_prosody_reset(pr);
	bt_pitch_reset(pt);
	for (off = 0; off + FRAME <= u->n; off += FRAME) {
		float v, f0;

		for (i = 0; i < FRAME; i++)
			pcm[i] = (int16_t)lrint(u->buf[off + i]);
		f0 = bt_pitch_frame(pt, pcm, FRAME, &v);
		bt_prosody_frame(pr, f0, v, (float)bt_level_dbfs(pcm, FRAME));
	}
}

static struct utt the_utt;

/* Score of one utterance with a fresh speaker model. */
static float score_of(const struct syl *final, struct bt_prosody_feat *f)
{
	struct bt_prosody *pr = NULL;
	struct bt_pitch *pt = NULL;
	float s;

	assert_int_equal(bt_prosody_alloc(&pr), 0);
	assert_int_equal(bt_pitch_alloc(&pt), 0);
	make_utt(&the_utt, final);
	feed(pr, pt, &the_utt);
	s = bt_prosody_end_score(pr);
	bt_prosody_features(pr, f);
	assert_true(s >= 0.0f && s <= 1.0f);
	assert_true(fabsf(s - f->score) < 1e-6f);
	print_message("final %.0f->%.0f Hz %u ms: score %.2f (pitch %.2f, "
		      "length %.2f, fall %.1f st, end %.1f st re median "
		      "%.0f Hz, last %u ms, mean %u ms)\n", final->f_a,
		      final->f_b, final->ms, s, f->pitch_cue, f->length_cue,
		      f->fall_st, f->end_rel_st, f->median_hz, f->last_seg_ms,
		      f->mean_seg_ms);
	mem_deref(pt);
	mem_deref(pr);
	return s;
}

static void test_fall_rise_flat(void **state)
{
	static const struct syl fall_long = {200, 150, 320};
	static const struct syl fall_short = {200, 160, 160};
	static const struct syl flat = {202, 202, 160};
	static const struct syl rise = {200, 260, 160};
	static const struct syl rise_long = {200, 260, 320};
	struct bt_prosody_feat f;
	float s_fl, s_fs, s_flat, s_r, s_rl;

	(void)state;
	s_fl = score_of(&fall_long, &f);
	assert_true(f.fall_st < -3.0f);
	assert_true(f.end_rel_st < -2.0f);
	assert_true(f.last_seg_ms >= 260 && f.last_seg_ms <= 360);
	assert_true(f.median_hz > 190.0f && f.median_hz < 215.0f);

	s_fs = score_of(&fall_short, &f);
	s_flat = score_of(&flat, &f);
	assert_true(fabsf(f.fall_st) < 1.0f);
	s_r = score_of(&rise, &f);
	assert_true(f.fall_st > 3.0f);
	assert_true(f.end_rel_st > 2.0f);
	s_rl = score_of(&rise_long, &f);

	/* fall + lengthening: an ending; a rise: more to come */
	assert_true(s_fl > 0.8f);
	assert_true(s_fs > 0.6f);
	assert_true(s_flat > 0.3f && s_flat < 0.6f);
	assert_true(s_r < 0.25f);
	assert_true(s_rl < 0.3f);
	assert_true(s_fl > s_fs && s_fs > s_flat && s_flat > s_r);
}

/* Final lengthening on a level pitch still leans towards an ending. */
static void test_lengthening(void **state)
{
	static const struct syl flat = {202, 202, 160};
	static const struct syl flat_long = {202, 202, 360};
	struct bt_prosody_feat f;
	float s_short, s_long;

	(void)state;
	s_short = score_of(&flat, &f);
	assert_true(f.length_cue < 0.5f);
	s_long = score_of(&flat_long, &f);
	assert_true(f.length_cue > 0.8f);
	assert_true(s_long > s_short + 0.15f);
}

/* Across utterances: the speaker's mean syllable leaves out each
 * utterance's (lengthened) last one; the median follows the voice. */
static void test_speaker_stats(void **state)
{
	static const struct syl fall_long = {200, 150, 360};
	struct bt_prosody *pr = NULL;
	struct bt_pitch *pt = NULL;
	struct bt_prosody_feat f;
	int i;

	(void)state;
	assert_int_equal(bt_prosody_alloc(&pr), 0);
	assert_int_equal(bt_pitch_alloc(&pt), 0);

	bt_prosody_features(pr, &f);
	assert_true(f.score == 0.5f);
	assert_true(f.median_hz == 0.0f);
	assert_int_equal(f.voiced_frames, 0);

	make_utt(&the_utt, &fall_long);
	for (i = 0; i < 6; i++) {
		feed(pr, pt, &the_utt);
		assert_true(bt_prosody_end_score(pr) > 0.8f);
	}
	bt_prosody_features(pr, &f);
	/* body syllables are 150-170 ms (+ edges at the tracker's mercy) */
	assert_true(f.mean_seg_ms >= 120 && f.mean_seg_ms <= 190);
	assert_true(f.median_hz > 185.0f && f.median_hz < 215.0f);
	assert_true(f.voiced_frames > 30);

	/* after a reset there is nothing to judge yet */
	bt_prosody_reset(pr);
	assert_true(bt_prosody_end_score(pr) == 0.5f);
	bt_prosody_features(pr, &f);
	assert_true(f.median_hz > 185.0f); /* the speaker is remembered */

	mem_deref(pt);
	mem_deref(pr);
}

/* Silence and a few voiced frames give no opinion; NULLs are safe. */
static void test_silence_and_args(void **state)
{
	struct bt_prosody *pr = NULL;
	struct bt_prosody_feat f;
	int i;

	(void)state;
	assert_int_equal(bt_prosody_alloc(NULL), EINVAL);
	assert_int_equal(bt_prosody_alloc(&pr), 0);
	for (i = 0; i < 50; i++)
		bt_prosody_frame(pr, 0.0f, 0.0f, -70.0f);
	assert_true(bt_prosody_end_score(pr) == 0.5f);

	/* three voiced frames: too little to tell */
	for (i = 0; i < 3; i++)
		bt_prosody_frame(pr, 150.0f - i * 10.0f, 0.9f, -20.0f);
	assert_true(bt_prosody_end_score(pr) == 0.5f);

	bt_prosody_frame(NULL, 100.0f, 1.0f, -20.0f);
	bt_prosody_reset(NULL);
	assert_true(bt_prosody_end_score(NULL) == 0.5f);
	bt_prosody_features(pr, NULL);
	bt_prosody_features(NULL, &f);
	assert_true(f.score == 0.5f);
	mem_deref(pr);
}

/* Driven directly with an F0 track (no audio): a clean fall ending low
 * scores high, the mirror rise low. */
static void test_direct_tracks(void **state)
{
	struct bt_prosody *pr = NULL;
	float s_fall, s_rise;
	int i;

	(void)state;
	assert_int_equal(bt_prosody_alloc(&pr), 0);

	/* speaker history: 2 s around 120 Hz in 8-frame syllables */
	for (i = 0; i < 100; i++) {
		bool on = i % 10 < 8;

		bt_prosody_frame(pr, on ? 120.0f + (float)(i % 3) : 0.0f,
				 on ? 0.9f : 0.0f, on ? -18.0f : -60.0f);
	}
	bt_prosody_reset(pr);
	for (i = 0; i < 15; i++)
		bt_prosody_frame(pr, 125.0f - 2.0f * i, 0.9f, -18.0f);
	for (i = 0; i < 5; i++)
		bt_prosody_frame(pr, 0.0f, 0.0f, -60.0f);
	s_fall = bt_prosody_end_score(pr);

	bt_prosody_reset(pr);
	for (i = 0; i < 15; i++)
		bt_prosody_frame(pr, 118.0f + 2.5f * i, 0.9f, -18.0f);
	for (i = 0; i < 5; i++)
		bt_prosody_frame(pr, 0.0f, 0.0f, -60.0f);
	s_rise = bt_prosody_end_score(pr);

	assert_true(s_fall > 0.8f);
	assert_true(s_rise < 0.2f);
	mem_deref(pr);
}

/* Declaratives from two TTS voices (espeak, flite slt) end with a fall
 * and sound finished. */
static void test_real_speech(void **state)
{
	static const char *const files[] = {
		"tests/data/seven_thirty_tonight_espeak.wav",
		"tests/data/table_for_three_slt.wav",
	};
	static const float min_score[] = {0.8f, 0.55f};
	size_t k;

	(void)state;
	for (k = 0; k < ARRAY_SIZE(files); k++) {
		struct bt_prosody *pr = NULL;
		struct bt_pitch *pt = NULL;
		struct bt_prosody_feat f;
		int16_t *pcm = NULL;
		size_t n = 0, off;
		uint32_t rate = 0;

		assert_int_equal(bt_wav_read(files[k], &pcm, &n, &rate), 0);
		assert_int_equal(rate, FS);
		assert_int_equal(bt_prosody_alloc(&pr), 0);
		assert_int_equal(bt_pitch_alloc(&pt), 0);
		for (off = 0; off + FRAME <= n; off += FRAME) {
			float v, f0 = bt_pitch_frame(pt, pcm + off, FRAME, &v);
			float lvl = (float)bt_level_dbfs(pcm + off, FRAME);

			bt_prosody_frame(pr, f0, v, lvl);
		}
		bt_prosody_features(pr, &f);
		print_message("%s: score %.2f, fall %.1f st\n", files[k],
			      f.score, f.fall_st);
		assert_true(f.fall_st < 0.0f);
		assert_true(f.score > min_score[k]);
		mem_deref(pt);
		mem_deref(pr);
		mem_deref(pcm);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fall_rise_flat),
		cmocka_unit_test(test_lengthening),
		cmocka_unit_test(test_speaker_stats),
		cmocka_unit_test(test_silence_and_args),
		cmocka_unit_test(test_direct_tracks),
		cmocka_unit_test(test_real_speech),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
