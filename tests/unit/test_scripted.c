/**
 * @file test_scripted.c  The test and benchmark providers: the scripted
 *                        recogniser (words per utterance, cycled, after
 *                        delay_ms; nothing for a shorter utterance) and
 *                        the silent voice (timed silence, word timings).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <errno.h>
#include <stdbool.h>
#include <string.h>
#include <cmocka.h>
#include "banter/banter.h"

static char partial[512];
static unsigned n_partial;

static void on_partial(const char *text, void *arg)
{
	(void)arg;
	str_ncpy(partial, text, sizeof(partial));
	++n_partial;
}

static struct bt_stt_st *script_open(const char *section_json)
{
	json_error_t je;
	json_t *sec = json_loads(section_json, 0, &je);
	struct bt_stt_prm prm;
	struct bt_stt_st *st = NULL;
	const struct bt_stt *p = bt_stt_find("script");

	assert_non_null(sec);
	assert_non_null(p);
	memset(&prm, 0, sizeof(prm));
	prm.section = sec;
	prm.partialh = on_partial;
	if (p->alloch(&st, &prm))
		st = NULL;
	json_decref(sec);  /* the instance keeps its own copy of the words */
	return st;
}

/* One utterance of ms milliseconds, in 20 ms frames; its final. */
static void utter(struct bt_stt_st *st, unsigned ms, struct bt_transcript *tr)
{
	const struct bt_stt *p = bt_stt_of(st);
	int16_t frame[BT_FRAME_SAMPLES] = {0};

	memset(tr, 0, sizeof(*tr));
	assert_int_equal(p->starth(st, NULL, false), 0);
	for (unsigned t = 0; t < ms; t += BT_FRAME_MS)
		assert_int_equal(p->feedh(st, frame, BT_FRAME_SAMPLES), 0);
	assert_int_equal(p->finishh(st, tr), 0);
}

static void test_script_cycle(void **state)
{
	struct bt_stt_st *st = script_open(
		"{\"provider\": \"script\", \"words\": [\"Four people!\", "
		"\"friday\"], \"delay_ms\": 100, \"confidence\": 0.8}");
	struct bt_transcript tr;
	char hyp[64];

	(void)state;
	assert_non_null(st);
	n_partial = 0;
	utter(st, 400, &tr);
	assert_string_equal(tr.text, "four people");
	assert_true(tr.confidence > 0.79f && tr.confidence < 0.81f);
	assert_int_equal(n_partial, 1);
	assert_string_equal(partial, "four people");
	/* shorter than delay_ms: nothing heard, and no entry used */
	utter(st, 80, &tr);
	assert_string_equal(tr.text, "");
	assert_true(tr.confidence == 0.0f);
	assert_int_equal(n_partial, 1);
	utter(st, 100, &tr);
	assert_string_equal(tr.text, "friday");
	assert_int_equal(n_partial, 2);
	/* the list cycles */
	utter(st, 300, &tr);
	assert_string_equal(tr.text, "four people");
	/* the partial appears once delay_ms has been fed, not before */
	assert_int_equal(bt_stt_of(st)->starth(st, NULL, false), 0);
	{
		int16_t frame[BT_FRAME_SAMPLES] = {0};

		for (int i = 0; i < 4; i++)
			bt_stt_of(st)->feedh(st, frame, BT_FRAME_SAMPLES);
		assert_true(bt_stt_of(st)->hyph(st, hyp, sizeof(hyp)));
		assert_string_equal(hyp, "");
		bt_stt_of(st)->feedh(st, frame, BT_FRAME_SAMPLES);
		assert_true(bt_stt_of(st)->hyph(st, hyp, sizeof(hyp)));
		assert_string_equal(hyp, "friday");
	}
	mem_deref(st);
}

static void test_script_bad(void **state)
{
	static const char *const bad[] = {
		"{\"provider\": \"script\"}",
		"{\"provider\": \"script\", \"words\": []}",
		"{\"provider\": \"script\", \"words\": \"...\"}",
		"{\"provider\": \"script\", \"words\": [\"a\", 1]}",
		"{\"provider\": \"script\", \"words\": \"a\", \"delay_ms\": -1}",
		"{\"provider\": \"script\", \"words\": \"a\", \"delay_ms\": 1.5}",
		"{\"provider\": \"script\", \"words\": \"a\", \"confidence\": 2}",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		bt_err_clear();
		assert_null(script_open(bad[i]));
		assert_non_null(strstr(bt_errmsg(), "stt"));
	}
}

static struct bt_tts_audio *say(const char *voice, uint32_t rate_wpm,
				const char *text)
{
	struct bt_tts_prm prm;
	struct bt_tts_st *st = NULL;
	struct bt_tts_audio *a = NULL;

	bt_tts_prm_default(&prm);
	prm.rate_wpm = rate_wpm;
	assert_int_equal(bt_tts_open(&st, voice, &prm), 0);
	assert_int_equal(bt_tts_synth(st, text, &a), 0);
	mem_deref(st);
	return a;
}

static void test_silent_timing(void **state)
{
	static const char *const words[] = {"Hello,", "a", "table", "for",
					    "three?"};
	struct bt_tts_audio *a;

	(void)state;
	a = say("silent:60", 0, "Hello, -- a table for three?");
	assert_int_equal(a->rate_hz, BT_RATE_HZ);
	/* "--" alone takes no time */
	assert_int_equal(a->n_words, 5);
	assert_int_equal(a->n, 5 * 60 * (BT_RATE_HZ / 1000));
	for (size_t i = 0; i < a->n_words; i++) {
		assert_string_equal(a->words[i].text, words[i]);
		assert_int_equal(a->words[i].start_ms, i * 60);
		assert_int_equal(a->words[i].end_ms, (i + 1) * 60);
	}
	for (size_t i = 0; i < a->n; i++)
		assert_int_equal(a->pcm[i], 0);
	mem_deref(a);

	/* "silent:" paces words by the rate: 200 words a minute, 300 ms */
	a = say("silent:", 200, "one two");
	assert_int_equal(a->n_words, 2);
	assert_int_equal(a->words[1].end_ms, 600);
	assert_int_equal(a->n, 600 * (BT_RATE_HZ / 1000));
	mem_deref(a);
}

static void test_silent_bad(void **state)
{
	static const char *const bad[] = {
		"silent:fast", "silent:0", "silent:9", "silent:5001",
		"silent:60ms", "silent:-5",
	};
	struct bt_tts_prm prm;

	(void)state;
	bt_tts_prm_default(&prm);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct bt_tts_st *st = NULL;

		bt_err_clear();
		assert_int_equal(bt_tts_open(&st, bad[i], &prm), EINVAL);
		assert_null(st);
		assert_non_null(strstr(bt_errmsg(), "after \"silent:\""));
	}
}

static int setup(void **state)
{
	(void)state;
	return bt_stt_script_init() || bt_tts_silent_init() ? -1 : 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_script_cycle),
		cmocka_unit_test(test_script_bad),
		cmocka_unit_test(test_silent_timing),
		cmocka_unit_test(test_silent_bad),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
