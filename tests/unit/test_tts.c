/**
 * @file test_tts.c  TTS providers: audio, rate, pitch, word timings,
 *                   errors, the espeak service thread, close and re-init.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "banter/err.h"
#include "banter/tts.h"

static const char *sentence =
	"A table for three on Tuesday at 7 pm, is that right?";
static const char *sentence_words[] = {
	"A", "table", "for", "three", "on", "Tuesday", "at", "7", "pm,",
	"is", "that", "right?",
};
#define N_SENTENCE_WORDS \
	(sizeof(sentence_words) / sizeof(sentence_words[0]))

static uint32_t dur_ms(const struct bt_tts_audio *a)
{
	return (uint32_t)((uint64_t)a->n * 1000 / a->rate_hz);
}

static double rms(const int16_t *pcm, size_t n)
{
	double e = 0;
	size_t i;

	for (i = 0; i < n; i++)
		e += (double)pcm[i] * pcm[i];

	return n ? sqrt(e / (double)n) : 0;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* Median F0 of the voiced frames by normalised autocorrelation (60-400 Hz);
   coarse hops keep it cheap under ASan. */
static double median_f0(const struct bt_tts_audio *a)
{
	size_t win = a->rate_hz / 25, hop = a->rate_hz / 25;
	size_t lmin = a->rate_hz / 400, lmax = a->rate_hz / 60;
	size_t i, j, l, nf = 0;
	double peak = 0, *f, m;

	f = calloc(a->n / hop + 1, sizeof(*f));
	assert_non_null(f);

	for (i = 0; i + win <= a->n; i += hop) {
		double e = rms(a->pcm + i, win);
		if (e > peak)
			peak = e;
	}

	for (i = 0; i + win + lmax <= a->n; i += hop) {
		const int16_t *x = a->pcm + i;
		double e0 = 0, best = 0;
		size_t bl = 0;

		if (rms(x, win) < peak * 0.25)
			continue;
		for (j = 0; j < win; j++)
			e0 += (double)x[j] * x[j];

		for (l = lmin; l <= lmax; l++) {
			double c = 0, e1 = 0;

			for (j = 0; j < win; j++) {
				c += (double)x[j] * x[j + l];
				e1 += (double)x[j + l] * x[j + l];
			}
			c /= sqrt(e0 * e1 + 1);
			if (c > best) {
				best = c;
				bl = l;
			}
		}
		if (best > 0.7)
			f[nf++] = (double)a->rate_hz / (double)bl;
	}

	assert_true(nf >= 5);
	qsort(f, nf, sizeof(*f), cmp_double);
	m = f[nf / 2];
	free(f);

	return m;
}

static struct bt_tts_st *open_voice(const char *voice, uint32_t rate_wpm,
				    uint32_t pitch)
{
	struct bt_tts_prm prm;
	struct bt_tts_st *st = NULL;
	int err;

	bt_tts_prm_default(&prm);
	if (rate_wpm)
		prm.rate_wpm = rate_wpm;
	if (pitch)
		prm.pitch = pitch;

	err = bt_tts_open(&st, voice, &prm);
	if (err)
		print_error("open %s: %s\n", voice, bt_errmsg());
	assert_int_equal(err, 0);
	assert_non_null(st);

	return st;
}

static struct bt_tts_audio *say(struct bt_tts_st *st, const char *text)
{
	struct bt_tts_audio *a = NULL;
	int err;

	err = bt_tts_synth(st, text, &a);
	if (err)
		print_error("synth: %s\n", bt_errmsg());
	assert_int_equal(err, 0);
	assert_non_null(a);

	return a;
}

/* Words in order, not overlapping, inside the audio, each over sound. */
static void check_timings(const struct bt_tts_audio *a)
{
	uint32_t d = dur_ms(a), prev_end = 0, spoken = 0;
	size_t i;

	assert_true(a->n_words > 0);
	for (i = 0; i < a->n_words; i++) {
		const struct bt_tts_word *w = &a->words[i];
		size_t s = (size_t)w->start_ms * a->rate_hz / 1000;
		size_t e = (size_t)w->end_ms * a->rate_hz / 1000;

		assert_true(w->start_ms >= prev_end);
		assert_true(w->end_ms > w->start_ms);
		assert_true(w->end_ms <= d);
		/* the span holds speech, not a pause */
		assert_true(rms(a->pcm + s, e - s) > 300);
		spoken += w->end_ms - w->start_ms;
		prev_end = w->end_ms;
	}

	/* the words cover the audio: little before, after or between */
	assert_true(a->words[0].start_ms < 200);
	assert_true(a->words[a->n_words - 1].end_ms + 200 > d);
	assert_true(spoken > d * 7 / 10);
}

static void check_sentence(const char *voice, uint32_t rate_hz)
{
	struct bt_tts_st *st = open_voice(voice, 0, 0);
	struct bt_tts_audio *a = say(st, sentence);
	uint32_t expect_ms = N_SENTENCE_WORDS * 60000 / 160;
	size_t i;

	assert_int_equal(a->rate_hz, rate_hz);
	assert_true(rms(a->pcm, a->n) > 1000);

	/* about 160 words a minute */
	assert_true(dur_ms(a) > expect_ms * 7 / 10);
	assert_true(dur_ms(a) < expect_ms * 13 / 10);

	assert_int_equal(a->n_words, N_SENTENCE_WORDS);
	for (i = 0; i < N_SENTENCE_WORDS; i++)
		assert_string_equal(a->words[i].text, sentence_words[i]);
	check_timings(a);

	mem_deref(a);
	mem_deref(st);
}

static int setup(void **state)
{
	(void)state;

	if (bt_tts_espeak_init() || bt_tts_flite_init()) {
		print_error("tts init: %s\n", bt_errmsg());
		return -1;
	}

	return 0;
}

static int teardown(void **state)
{
	(void)state;

	bt_tts_espeak_close();
	bt_tts_flite_close();

	return 0;
}

static void test_prm_default(void **state)
{
	struct bt_tts_prm prm;

	(void)state;

	memset(&prm, 0xff, sizeof(prm));
	bt_tts_prm_default(&prm);
	assert_int_equal(prm.rate_wpm, 160);
	assert_int_equal(prm.pitch, 50);
}

static void test_espeak_sentence(void **state)
{
	(void)state;
	check_sentence("espeak:en-us", 22050);
}

static void test_flite_sentence(void **state)
{
	(void)state;
	check_sentence("flite:slt", 16000);
	check_sentence("flite:kal", 8000);
}

static void test_voices(void **state)
{
	static const char *voices[] = {
		"espeak:en-us+f3", "espeak:en-gb+m3", "espeak:", "espeak",
		"flite:rms", "flite:awb", "flite:",
	};
	size_t i;

	(void)state;

	for (i = 0; i < sizeof(voices) / sizeof(voices[0]); i++) {
		struct bt_tts_st *st = open_voice(voices[i], 0, 0);
		struct bt_tts_audio *a = say(st, "Good morning.");

		assert_int_equal(a->n_words, 2);
		assert_string_equal(a->words[1].text, "morning.");
		assert_true(rms(a->pcm, a->n) > 1000);
		mem_deref(a);
		mem_deref(st);
	}
}

static void check_rate(const char *voice)
{
	struct bt_tts_st *slow = open_voice(voice, 120, 0);
	struct bt_tts_st *fast = open_voice(voice, 240, 0);
	struct bt_tts_audio *a = say(slow, sentence);
	struct bt_tts_audio *b = say(fast, sentence);
	double ratio = (double)dur_ms(a) / dur_ms(b);

	/* twice the rate, about half the time */
	assert_true(ratio > 1.6);
	assert_true(ratio < 2.4);
	check_timings(b);

	mem_deref(a);
	mem_deref(b);
	mem_deref(slow);
	mem_deref(fast);
}

static void test_rate(void **state)
{
	(void)state;
	check_rate("espeak:en-us");
	check_rate("flite:slt");
}

static void check_pitch(const char *voice)
{
	struct bt_tts_st *low = open_voice(voice, 0, 20);
	struct bt_tts_st *high = open_voice(voice, 0, 80);
	struct bt_tts_audio *a = say(low, sentence);
	struct bt_tts_audio *b = say(high, sentence);
	double fa = median_f0(a), fb = median_f0(b);

	/* 60 steps is most of an octave on both engines */
	if (!(fb > fa * 1.3))
		print_error("%s: F0 %.0f Hz at pitch 20, %.0f Hz at 80\n",
			    voice, fa, fb);
	assert_true(fb > fa * 1.3);
	/* the words do not move */
	assert_int_equal(a->n_words, b->n_words);

	mem_deref(a);
	mem_deref(b);
	mem_deref(low);
	mem_deref(high);
}

static void test_pitch(void **state)
{
	(void)state;
	check_pitch("espeak:en-us");
	check_pitch("flite:slt");
	check_pitch("flite:rms");  /* spam F0 model: shifted another way */
}

static void test_errors(void **state)
{
	struct bt_tts_prm prm;
	struct bt_tts_st *st = NULL;
	int err;

	(void)state;

	err = bt_tts_open(&st, "nope:x", NULL);
	assert_int_equal(err, ENOENT);
	assert_null(st);
	assert_non_null(strstr(bt_errmsg(), "\"nope\""));
	assert_non_null(strstr(bt_errmsg(), "espeak"));
	assert_non_null(strstr(bt_errmsg(), "flite"));

	assert_int_equal(bt_tts_open(&st, ":slt", NULL), ENOENT);
	assert_int_equal(bt_tts_open(&st, "", NULL), ENOENT);

	err = bt_tts_open(&st, "espeak:xx", NULL);
	assert_int_equal(err, ENOENT);
	assert_non_null(strstr(bt_errmsg(), "unknown espeak voice \"xx\""));
	assert_non_null(strstr(bt_errmsg(), "en-us+f3"));

	/* an unknown variant, and no paths */
	assert_int_equal(bt_tts_open(&st, "espeak:en-us+zz", NULL), ENOENT);
	assert_int_equal(bt_tts_open(&st, "espeak:../en", NULL), ENOENT);

	err = bt_tts_open(&st, "flite:zz", NULL);
	assert_int_equal(err, ENOENT);
	assert_non_null(strstr(bt_errmsg(), "\"zz\""));
	assert_non_null(strstr(bt_errmsg(), "kal, slt, rms, awb"));
	assert_null(st);

	bt_tts_prm_default(&prm);
	prm.rate_wpm = 2000;
	err = bt_tts_open(&st, "flite:slt", &prm);
	assert_int_equal(err, EINVAL);
	assert_non_null(strstr(bt_errmsg(), "rate_wpm"));

	bt_tts_prm_default(&prm);
	prm.pitch = 101;
	assert_int_equal(bt_tts_open(&st, "espeak:en-us", &prm), EINVAL);
	assert_null(st);
}

static void test_empty(void **state)
{
	static const char *voices[] = {"espeak:en-us", "flite:kal"};
	static const char *texts[] = {"", "  \t\n "};
	size_t i, j;

	(void)state;

	for (i = 0; i < 2; i++) {
		struct bt_tts_st *st = open_voice(voices[i], 0, 0);

		for (j = 0; j < 2; j++) {
			struct bt_tts_audio *a = say(st, texts[j]);

			assert_int_equal(a->n, 0);
			assert_int_equal(a->n_words, 0);
			assert_true(a->rate_hz == 22050 || a->rate_hz == 8000);
			mem_deref(a);
		}
		mem_deref(st);
	}
}

static void test_long_text(void **state)
{
	static const char *voices[] = {"espeak:en-us", "flite:kal"};
	static const char *chunk = "The quick brown fox jumps over the lazy "
		"dog, and then it runs back home. ";
	char *text = malloc(5001), *huge = malloc(9001);
	size_t i, len = 0, clen = strlen(chunk), nw = 0;

	(void)state;
	assert_non_null(text);
	assert_non_null(huge);

	while (len + clen <= 5000) {
		memcpy(text + len, chunk, clen);
		len += clen;
		nw += 15;
	}
	text[len] = '\0';
	memset(huge, 'a', 9000);
	huge[9000] = '\0';

	for (i = 0; i < 2; i++) {
		struct bt_tts_st *st = open_voice(voices[i], 300, 0);
		struct bt_tts_audio *a = say(st, text);

		assert_int_equal(a->n_words, nw);
		assert_string_equal(a->words[nw - 1].text, "home.");
		assert_true(dur_ms(a) > 60000);
		check_timings(a);
		mem_deref(a);

		/* too long: a clean error */
		a = NULL;
		assert_int_equal(bt_tts_synth(st, huge, &a), EMSGSIZE);
		assert_null(a);
		assert_non_null(strstr(bt_errmsg(), "one sentence at a time"));
		mem_deref(st);
	}

	free(text);
	free(huge);
}

static void check_dash(const char *voice)
{
	struct bt_tts_st *st = open_voice(voice, 0, 0);
	struct bt_tts_audio *a = say(st, "one two -- three four");

	/* "--" is not said: no time of its own, and "three" keeps its own */
	assert_int_equal(a->n_words, 5);
	assert_string_equal(a->words[2].text, "--");
	assert_int_equal(a->words[2].start_ms, a->words[2].end_ms);
	assert_true(a->words[3].end_ms - a->words[3].start_ms > 150);
	assert_true(a->words[1].end_ms - a->words[1].start_ms > 150);

	mem_deref(a);
	mem_deref(st);
}

static void test_word_text(void **state)
{
	struct bt_tts_st *st = open_voice("espeak:en-us", 0, 0);
	struct bt_tts_audio *a;
	char text[160];
	size_t i;

	(void)state;

	a = say(st, "  Café déjà vu -- 3pm!  ");
	assert_int_equal(a->n_words, 5);
	assert_string_equal(a->words[0].text, "Café");
	assert_string_equal(a->words[1].text, "déjà");
	assert_string_equal(a->words[3].text, "--");
	assert_string_equal(a->words[4].text, "3pm!");
	for (i = 1; i < a->n_words; i++)
		assert_true(a->words[i].start_ms >= a->words[i - 1].end_ms);
	/* "3pm" is three spoken words in one token */
	assert_true(a->words[4].end_ms - a->words[4].start_ms > 400);
	mem_deref(a);

	/* a word longer than the field is cut on a character boundary */
	memcpy(text, "ok ", 3);
	for (i = 0; i < 40; i++)
		memcpy(text + 3 + 2 * i, "é", 2);
	text[83] = '\0';
	a = say(st, text);
	assert_int_equal(a->n_words, 2);
	assert_int_equal(strlen(a->words[1].text), 62);
	mem_deref(a);

	mem_deref(st);

	check_dash("espeak:en-us");
	check_dash("flite:slt");
}

struct thr {
	struct bt_tts_st *st;
	const struct bt_tts_audio *ref;
	int bad;
};

/* espeak is not bit-exact from one call to the next (its wave generator
   keeps state), and a word's end is where its sound falls under a
   threshold, which a slow fade crosses a few frames earlier or later:
   compare lengths within 10 ms and timings within 100 ms. The two voices
   of the test differ by far more. */
static bool near(const struct bt_tts_audio *a, const struct bt_tts_audio *r)
{
	size_t i;

	if (a->rate_hz != r->rate_hz || a->n_words != r->n_words ||
	    labs((long)a->n - (long)r->n) > (long)r->rate_hz / 100)
		return false;

	for (i = 0; i < a->n_words; i++) {
		if (strcmp(a->words[i].text, r->words[i].text) ||
		    labs((long)a->words[i].start_ms -
			 (long)r->words[i].start_ms) > 100 ||
		    labs((long)a->words[i].end_ms -
			 (long)r->words[i].end_ms) > 100)
			return false;
	}

	return true;
}

static void *thread_main(void *arg)
{
	struct thr *t = arg;
	int i;

	for (i = 0; i < 4; i++) {
		struct bt_tts_audio *a = NULL;

		if (bt_tts_synth(t->st, sentence, &a) || !near(a, t->ref))
			++t->bad;
		mem_deref(a);
	}

	return NULL;
}

static void test_espeak_threads(void **state)
{
	struct thr t[2];
	pthread_t th[2];
	int i;

	(void)state;

	/* different voices and rates, so mixed-up requests would show */
	t[0].st = open_voice("espeak:en-us", 160, 0);
	t[1].st = open_voice("espeak:en-us+f3", 200, 70);
	for (i = 0; i < 2; i++) {
		t[i].ref = say(t[i].st, sentence);
		t[i].bad = 0;
	}
	/* far enough apart that a swapped result cannot pass near() */
	assert_false(near(t[0].ref, t[1].ref));

	for (i = 0; i < 2; i++)
		assert_int_equal(pthread_create(&th[i], NULL, thread_main,
						&t[i]), 0);
	for (i = 0; i < 2; i++) {
		pthread_join(th[i], NULL);
		assert_int_equal(t[i].bad, 0);
		mem_deref((void *)t[i].ref);
		mem_deref(t[i].st);
	}
}

static void test_reinit(void **state)
{
	struct bt_tts_st *e = open_voice("espeak:en-gb+m3", 0, 0);
	struct bt_tts_st *f = open_voice("flite:awb", 0, 0);
	struct bt_tts_st *st = NULL;
	struct bt_tts_audio *a = NULL;

	(void)state;

	bt_tts_espeak_close();
	bt_tts_flite_close();
	bt_tts_espeak_close();  /* twice is harmless */

	assert_int_equal(bt_tts_synth(e, "Hello there.", &a), ENODEV);
	assert_non_null(strstr(bt_errmsg(), "bt_tts_espeak_init"));
	assert_int_equal(bt_tts_synth(f, "Hello there.", &a), ENODEV);
	assert_null(a);
	assert_int_equal(bt_tts_open(&st, "espeak:en-us", NULL), ENOENT);
	assert_non_null(strstr(bt_errmsg(), "bt_tts_espeak_init"));

	assert_int_equal(bt_tts_espeak_init(), 0);
	assert_int_equal(bt_tts_flite_init(), 0);
	assert_int_equal(bt_tts_espeak_init(), 0);  /* idempotent */

	/* old instances work again, new ones open */
	a = say(e, "Hello there.");
	assert_int_equal(a->n_words, 2);
	mem_deref(a);
	a = say(f, "Hello there.");
	assert_int_equal(a->rate_hz, 16000);
	assert_int_equal(a->n_words, 2);
	mem_deref(a);

	mem_deref(e);
	mem_deref(f);
	check_sentence("espeak:en-us", 22050);
}

/* The sentence cache: a repeat is a copy of the first rendering, keyed by
 * voice, rate, pitch and text; the budget holds; off means off. */
static void test_cache(void **state)
{
	struct bt_tts_cache_stats cs;
	struct bt_tts_st *st, *fast, *raw;
	struct bt_tts_audio *a, *b, *c;
	size_t i;

	(void)state;

	bt_tts_cache_set(16 * 1024 * 1024);
	bt_tts_cache_flush();
	st = open_voice("espeak:en-us+f3", 160, 0);
	a = say(st, "Sorry, could you repeat that?");
	b = say(st, "Sorry, could you repeat that?");
	bt_tts_cache_stats(&cs);
	assert_int_equal(cs.misses, 1);
	assert_int_equal(cs.hits, 1);
	assert_int_equal(cs.entries, 1);
	assert_true(cs.bytes > a->n * sizeof(int16_t));
	/* the same samples and words, in memory of its own */
	assert_ptr_not_equal(a->pcm, b->pcm);
	assert_int_equal(a->n, b->n);
	assert_int_equal(a->rate_hz, b->rate_hz);
	assert_memory_equal(a->pcm, b->pcm, a->n * sizeof(int16_t));
	assert_int_equal(a->n_words, b->n_words);
	for (i = 0; i < a->n_words; i++) {
		assert_string_equal(a->words[i].text, b->words[i].text);
		assert_int_equal(a->words[i].end_ms, b->words[i].end_ms);
	}
	mem_deref(b);

	/* another rate, another text: other entries */
	fast = open_voice("espeak:en-us+f3", 220, 0);
	c = say(fast, "Sorry, could you repeat that?");
	assert_true(c->n < a->n);
	mem_deref(c);
	c = say(st, "Are you still there?");
	mem_deref(c);
	bt_tts_cache_stats(&cs);
	assert_int_equal(cs.misses, 3);
	assert_int_equal(cs.entries, 3);
	/* another call's instance of the voice, after other sentences (which
	 * move espeak-ng's wave generator on): the very same samples */
	{
		struct bt_tts_st *st2 = open_voice("espeak:en-us+f3", 160, 0);

		c = say(st2, "Sorry, could you repeat that?");
		assert_int_equal(c->n, a->n);
		assert_memory_equal(c->pcm, a->pcm, a->n * sizeof(int16_t));
		mem_deref(c);
		mem_deref(st2);
	}

	/* a budget of about six sentences (one may take a quarter of it):
	 * after six more, the oldest are gone and the newest are kept */
	bt_tts_cache_set(cs.bytes / 3 * 6);
	for (i = 0; i < 6; i++) {
		char text[64];

		snprintf(text, sizeof(text), "Table number %zu is ready.", i);
		c = say(st, text);
		mem_deref(c);
		bt_tts_cache_stats(&cs);
		assert_true(cs.bytes <= cs.max_bytes);
	}
	assert_true(cs.entries >= 4 && cs.entries < 9);
	{
		uint64_t hits = cs.hits, misses = cs.misses;

		c = say(st, "Table number 5 is ready.");
		mem_deref(c);
		bt_tts_cache_stats(&cs);
		assert_int_equal(cs.hits, hits + 1);
		c = say(fast, "Sorry, could you repeat that?");
		mem_deref(c);
		bt_tts_cache_stats(&cs);
		assert_int_equal(cs.misses, misses + 1);
	}

	/* off: emptied, and instances opened now render every time */
	bt_tts_cache_set(0);
	bt_tts_cache_stats(&cs);
	assert_int_equal(cs.entries, 0);
	assert_int_equal(cs.bytes, 0);
	raw = open_voice("espeak:en-us+f3", 160, 0);
	c = say(raw, "Sorry, could you repeat that?");
	mem_deref(c);
	bt_tts_cache_stats(&cs);
	assert_int_equal(cs.entries, 0);

	bt_tts_cache_set(16 * 1024 * 1024);
	mem_deref(a);
	mem_deref(raw);
	mem_deref(fast);
	mem_deref(st);
}

/* A network voice is fronted by the cache too: it streams through the
 * wrapper, and what the session streamed ahead is put in and said back
 * (resampled already: the rate is kept), once claimed by one caller. */
static void test_cache_put(void **state)
{
	const struct bt_tts_word w[2] = {{"One", 0, 200}, {"moment.", 200, 600}};
	int16_t pcm[1600];
	struct bt_tts_st *st, *other;
	struct bt_tts_audio *a = NULL;

	(void)state;
	for (size_t i = 0; i < 1600; i++)
		pcm[i] = (int16_t)(i * 7);
	bt_tts_cache_flush();
	assert_int_equal(bt_tts_openai_init(), 0);
	setenv("OPENAI_SPEECH_BASE_URL", "http://127.0.0.1:1/v1", 1);
	st = open_voice("openai:alloy", 160, 0);
	other = open_voice("openai:echo", 160, 0);
	assert_non_null(bt_tts_of(st)->streamh);

	assert_false(bt_tts_cache_has(st, "One moment."));
	assert_int_equal(bt_tts_cache_get(st, "One moment.", &a), ENOENT);
	/* one caller renders a line; the next finds it taken */
	assert_true(bt_tts_cache_claim(st, "One moment."));
	assert_false(bt_tts_cache_claim(st, "One moment."));
	assert_true(bt_tts_cache_claim(other, "One moment."));
	bt_tts_cache_release(other, "One moment.");
	assert_int_equal(bt_tts_cache_put(st, "One moment.", pcm, 1600,
					  16000, w, 2), 0);
	bt_tts_cache_release(st, "One moment.");
	/* cached: nobody renders it again */
	assert_true(bt_tts_cache_has(st, "One moment."));
	assert_false(bt_tts_cache_claim(st, "One moment."));
	assert_false(bt_tts_cache_has(other, "One moment."));
	assert_int_equal(bt_tts_cache_get(st, "One moment.", &a), 0);
	assert_int_equal(a->n, 1600);
	assert_int_equal(a->rate_hz, 16000);
	assert_memory_equal(a->pcm, pcm, sizeof(pcm));
	assert_int_equal(a->n_words, 2);
	assert_string_equal(a->words[1].text, "moment.");
	assert_int_equal(a->words[1].end_ms, 600);
	mem_deref(a);
	/* another instance of the voice (another call) has it too */
	{
		struct bt_tts_st *st2 = open_voice("openai:alloy", 160, 0);

		assert_true(bt_tts_cache_has(st2, "One moment."));
		mem_deref(st2);
	}
	/* the cache off: nothing kept, nothing to claim */
	bt_tts_cache_set(0);
	assert_false(bt_tts_cache_has(st, "One moment."));
	assert_false(bt_tts_cache_claim(st, "Let me check."));
	bt_tts_cache_set(16 * 1024 * 1024);
	mem_deref(other);
	mem_deref(st);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_prm_default),
		cmocka_unit_test(test_espeak_sentence),
		cmocka_unit_test(test_flite_sentence),
		cmocka_unit_test(test_voices),
		cmocka_unit_test(test_rate),
		cmocka_unit_test(test_pitch),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_empty),
		cmocka_unit_test(test_long_text),
		cmocka_unit_test(test_word_text),
		cmocka_unit_test(test_espeak_threads),
		cmocka_unit_test(test_reinit),
		cmocka_unit_test(test_cache),
		cmocka_unit_test(test_cache_put),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
