/**
 * @file test_stt_words.c  Which words the open language model's decoder
 * can hear (src/stt/ps_models.c: lm_floor_set, the kept phrase words):
 * the BANTER_LM_WORDS likeliest words of the model (30 000 by default),
 * every word of an agent's phrases whatever its rank, all of them with 0,
 * and a clear error for a value that is not a count; BANTER_STT_TOPN,
 * the Gaussians its decoders score; and BANTER_STT_SEARCH, the beams of
 * the LM decoder's search.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <pocketsphinx.h>
#include <sphinxbase/ckd_alloc.h>
#include <re.h>
#include "banter/banter.h"
#include "stt/ps_models.h"

/*
 * Whether a new LM decoder's dictionary has w, as a session's recogniser
 * made now would. Ranks in en-us.lm.bin by unigram probability: "the" 1,
 * "table" 1231, "reservation" 9485, "haiku" 29970, "markdown" 40351.
 */
static bool lm_hears(const char *w)
{
	struct bt_psm_lms *lms = NULL;
	ps_decoder_t *ps;
	char *pron;

	bt_psm_lock();
	assert_int_equal(bt_psm_lms_get(&lms), 0);
	ps = bt_psm_decoder(BT_PSM_LM, lms, NULL);
	assert_non_null(ps);
	pron = ps_lookup_word(ps, w);
	ps_free(ps);
	mem_deref(lms);
	bt_psm_unlock();
	ckd_free(pron);
	return pron != NULL;
}

static void fresh(const char *lm_words)
{
	bt_psm_close();  /* the next decoder makes its dictionary again */
	if (lm_words)
		assert_int_equal(setenv("BANTER_LM_WORDS", lm_words, 1), 0);
	else
		assert_int_equal(unsetenv("BANTER_LM_WORDS"), 0);
}

static void test_default_likeliest(void **state)
{
	(void)state;
	fresh(NULL);
	assert_true(lm_hears("the"));
	assert_true(lm_hears("reservation"));
	assert_true(lm_hears("haiku"));
	assert_false(lm_hears("markdown"));
}

/* An agent's phrase (checked at load) brings its words in, even into a
 * dictionary made before it: the next decoder has them. */
static void test_phrase_words_kept(void **state)
{
	(void)state;
	fresh(NULL);
	assert_false(lm_hears("markdown"));
	assert_int_equal(bt_stt_pocketsphinx_phrase_check(
				 "Write it in Markdown please"), 0);
	assert_true(lm_hears("markdown"));
	assert_true(lm_hears("table"));
	/* a new start forgets them */
	fresh(NULL);
	assert_false(lm_hears("markdown"));
}

static void test_counts(void **state)
{
	(void)state;
	fresh("0");   /* every word the model knows */
	assert_true(lm_hears("markdown"));
	fresh("2000");
	assert_true(lm_hears("table"));
	assert_false(lm_hears("reservation"));
	fresh("");    /* set but empty: the default */
	assert_true(lm_hears("haiku"));
	assert_false(lm_hears("markdown"));
}

static void test_bad_value(void **state)
{
	static const char *const bad[] = {"abc", "-5", "1.5", "30k",
					  "99999999999999999999999"};
	(void)state;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct bt_psm_lms *lms = NULL;
		int err;

		fresh(bad[i]);
		bt_psm_lock();
		err = bt_psm_lms_get(&lms);
		bt_psm_unlock();
		assert_int_equal(err, EINVAL);
		assert_null(lms);
		assert_non_null(strstr(bt_errmsg(), "BANTER_LM_WORDS"));
		assert_non_null(strstr(bt_errmsg(), "whole number"));
	}
	fresh(NULL);
}

/* Setting var to each of bad makes the first decoder's set-up fail with
 * EINVAL and an error that names var and says what it takes (hint). */
static void refused(const char *var, const char *const *bad, size_t n,
		    const char *hint)
{
	for (size_t i = 0; i < n; i++) {
		struct bt_psm_lms *lms = NULL;
		int err;

		fresh(NULL);
		assert_int_equal(setenv(var, bad[i], 1), 0);
		bt_psm_lock();
		err = bt_psm_lms_get(&lms);
		bt_psm_unlock();
		assert_int_equal(err, EINVAL);
		assert_null(lms);
		assert_non_null(strstr(bt_errmsg(), var));
		assert_non_null(strstr(bt_errmsg(), hint));
	}
}

/* BANTER_STT_TOPN: 1 to 4; anything else is refused by name */
static void test_topn(void **state)
{
	static const char *const bad[] = {"0", "5", "2x", "-1", "22", "fast"};
	struct bt_psm_lms *lms = NULL;
	(void)state;

	refused("BANTER_STT_TOPN", bad, sizeof(bad) / sizeof(bad[0]),
		"1 to 4");
	/* a decoder made after it scores that many; unset, the default */
	for (int n = 2; n <= 4; n += 2) {
		ps_decoder_t *ps;

		fresh(NULL);
		if (n == 2)
			assert_int_equal(setenv("BANTER_STT_TOPN", "2", 1), 0);
		bt_psm_lock();
		assert_int_equal(bt_psm_lms_get(&lms), 0);
		ps = bt_psm_decoder(BT_PSM_PHONES, lms, NULL);
		assert_non_null(ps);
		assert_int_equal(cmd_ln_int32_r(ps_get_config(ps), "-topn"), n);
		ps_free(ps);
		lms = mem_deref(lms);
		bt_psm_unlock();
		assert_int_equal(unsetenv("BANTER_STT_TOPN"), 0);
	}
	fresh(NULL);
}

/* BANTER_STT_SEARCH: wide (default) or narrow; anything else is refused
 * by name. Narrow sets the LM decoder's beams and phone lookahead, and
 * leaves the other decoders (here the phone loop) as they were. */
static void test_search(void **state)
{
	static const char *const bad[] = {"fast", "Narrow", "narrow ", "1"};
	static const char *const good[] = {NULL, "wide", "narrow"};
	struct bt_psm_lms *lms = NULL;
	(void)state;

	refused("BANTER_STT_SEARCH", bad, sizeof(bad) / sizeof(bad[0]),
		"\"narrow\"");
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		bool narrow = good[i] && !strcmp(good[i], "narrow");
		ps_decoder_t *ps, *ph;
		cmd_ln_t *c;

		fresh(NULL);
		if (good[i])
			assert_int_equal(setenv("BANTER_STT_SEARCH", good[i],
						1), 0);
		else
			assert_int_equal(unsetenv("BANTER_STT_SEARCH"), 0);
		bt_psm_lock();
		assert_int_equal(bt_psm_lms_get(&lms), 0);
		ps = bt_psm_decoder(BT_PSM_LM, lms, NULL);
		ph = bt_psm_decoder(BT_PSM_PHONES, lms, NULL);
		assert_non_null(ps);
		assert_non_null(ph);
		c = ps_get_config(ps);
		assert_true(cmd_ln_float64_r(c, "-beam") ==
			    (narrow ? 1e-35 : 1e-48));
		assert_true(cmd_ln_float64_r(c, "-pbeam") ==
			    (narrow ? 1e-35 : 1e-48));
		assert_int_equal(cmd_ln_int32_r(c, "-pl_window"),
				 narrow ? 3 : 5);
		assert_true(cmd_ln_float64_r(ps_get_config(ph), "-beam") ==
			    1e-48);
		ps_free(ps);
		ps_free(ph);
		lms = mem_deref(lms);
		bt_psm_unlock();
		assert_int_equal(unsetenv("BANTER_STT_SEARCH"), 0);
	}
	fresh(NULL);
}

static int teardown(void **state)
{
	(void)state;
	unsetenv("BANTER_LM_WORDS");
	unsetenv("BANTER_STT_TOPN");
	unsetenv("BANTER_STT_SEARCH");
	bt_stt_pocketsphinx_close();
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_default_likeliest),
		cmocka_unit_test(test_phrase_words_kept),
		cmocka_unit_test(test_counts),
		cmocka_unit_test(test_bad_value),
		cmocka_unit_test(test_topn),
		cmocka_unit_test(test_search),
	};

	if (bt_psm_prepare())
		return 1;
	return cmocka_run_group_tests(tests, NULL, teardown);
}
