/**
 * @file test_endpoint.c  The endpointer's waiting times: ordering by how
 * finished the turn sounds, the agent-speaking settings, the adaptive
 * pause model and premature-end feedback.
 */
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>
#include <re.h>
#include "banter/err.h"
#include "turn/endpoint.h"

static const float FALLING = 0.9f, NEUTRAL = 0.5f, RISING = 0.1f;

static struct bt_endpoint *make(const struct bt_endpoint_prm *prm)
{
	struct bt_endpoint *ep = NULL;

	assert_int_equal(bt_endpoint_alloc(&ep, prm), 0);
	assert_non_null(ep);
	return ep;
}

static void test_defaults_and_args(void **state)
{
	struct bt_endpoint_prm prm;
	struct bt_endpoint *ep = NULL;

	(void)state;
	bt_endpoint_prm_default(&prm);
	assert_int_equal(prm.listening.min_wait_ms, 200);
	assert_int_equal(prm.listening.base_wait_ms, 500);
	assert_int_equal(prm.listening.incomplete_wait_ms, 1600);
	assert_int_equal(prm.listening.max_wait_ms, 2500);
	assert_true(prm.speaking.min_wait_ms >= prm.listening.min_wait_ms);
	assert_true(prm.speaking.base_wait_ms >= prm.listening.base_wait_ms);
	assert_true(prm.pause_pct > 50 && prm.pause_pct <= 100);
	bt_endpoint_prm_default(NULL);

	assert_int_equal(bt_endpoint_alloc(NULL, NULL), EINVAL);
	assert_true(strlen(bt_errmsg()) > 0);

	/* out of order */
	bt_endpoint_prm_default(&prm);
	prm.listening.base_wait_ms = 3000;
	assert_int_equal(bt_endpoint_alloc(&ep, &prm), EINVAL);
	assert_null(ep);
	assert_non_null(strstr(bt_errmsg(), "listening"));
	bt_endpoint_prm_default(&prm);
	prm.speaking.prosody_pct = 150;
	assert_int_equal(bt_endpoint_alloc(&ep, &prm), EINVAL);
	assert_null(ep);

	/* zeros are defaults */
	memset(&prm, 0, sizeof(prm));
	ep = make(&prm);
	assert_int_equal(bt_endpoint_wait_ms(ep, "um", BT_SLOT_TEXT, NEUTRAL,
					     BT_EP_LISTENING), 1600);
	mem_deref(ep);

	/* NULL-safe */
	assert_true(bt_endpoint_wait_ms(NULL, "yes", BT_SLOT_TEXT, 1.0f,
					BT_EP_LISTENING) > 0);
	bt_endpoint_observe_pause(NULL, 500);
	bt_endpoint_observe_turn_end(NULL, 500, true);
	assert_null(bt_endpoint_last(NULL));
}

/* complete + falling < ambiguous < incomplete <= max, in every state. */
static void test_ordering(void **state)
{
	struct bt_endpoint *ep = make(NULL);
	struct bt_endpoint_prm prm;
	static const char *const names[] = {"listening", "speaking",
					     "thinking"};
	int c;

	(void)state;
	bt_endpoint_prm_default(&prm);
	for (c = BT_EP_LISTENING; c <= BT_EP_THINKING; c++) {
		enum bt_endpoint_ctx ctx = (enum bt_endpoint_ctx)c;
		const struct bt_endpoint_waits *w =
			ctx == BT_EP_SPEAKING ? &prm.speaking :
			ctx == BT_EP_THINKING ? &prm.thinking : &prm.listening;
		uint32_t done, done_flat, amb, amb_rise, inc, inc_fall, slot;

		done = bt_endpoint_wait_ms(ep, "a table for three please",
					   BT_SLOT_NUMBER, FALLING, ctx);
		done_flat = bt_endpoint_wait_ms(ep, "i would like a table",
						BT_SLOT_TEXT, NEUTRAL, ctx);
		amb = bt_endpoint_wait_ms(ep, "seven", BT_SLOT_TIME, NEUTRAL,
					  ctx);
		amb_rise = bt_endpoint_wait_ms(ep, "i would like a table",
					       BT_SLOT_TEXT, RISING, ctx);
		inc = bt_endpoint_wait_ms(ep, "i would like a table for",
					  BT_SLOT_TEXT, NEUTRAL, ctx);
		/* a fall does not rescue unfinished words */
		inc_fall = bt_endpoint_wait_ms(ep, "my number is five five",
					       BT_SLOT_TEXT, FALLING, ctx);
		slot = bt_endpoint_wait_ms(ep, "seven pm", BT_SLOT_TIME,
					   FALLING, ctx);

		print_message("%s: done %u, done/flat %u, ambiguous %u, "
			      "complete but rising %u, incomplete %u/%u\n",
			      names[c], done, done_flat,
			      amb, amb_rise, inc, inc_fall);
		assert_int_equal(done, w->min_wait_ms);
		assert_int_equal(slot, w->min_wait_ms);
		assert_true(done < done_flat);
		assert_true(done_flat < amb);
		assert_true(amb < inc);
		assert_true(done_flat < amb_rise && amb_rise < inc);
		if (ctx == BT_EP_LISTENING)  /* prosody weighs most here */
			assert_true(amb_rise >= w->base_wait_ms - 50);
		assert_int_equal(inc, w->incomplete_wait_ms);
		assert_int_equal(inc_fall, w->incomplete_wait_ms);
		assert_true(inc <= w->max_wait_ms);
		/* ambiguous sits near the base */
		assert_true(amb >= w->min_wait_ms && amb <= w->base_wait_ms);
	}
	mem_deref(ep);
}

/* With agent_speaking the speaking set is used, not the listening one. */
static void test_agent_speaking(void **state)
{
	struct bt_endpoint_prm prm;
	struct bt_endpoint *ep;
	const struct bt_endpoint_decision *d;

	(void)state;
	bt_endpoint_prm_default(&prm);
	prm.speaking.min_wait_ms = 333;
	prm.speaking.base_wait_ms = 777;
	prm.speaking.incomplete_wait_ms = 1777;
	prm.speaking.max_wait_ms = 2222;
	ep = make(&prm);

	assert_int_equal(bt_endpoint_wait_ms(ep, "yes please", BT_SLOT_YESNO,
					     1.0f, BT_EP_SPEAKING), 333);
	d = bt_endpoint_last(ep);
	assert_int_equal(d->ctx, BT_EP_SPEAKING);
	assert_int_equal(bt_endpoint_wait_ms(ep, "yes please", BT_SLOT_YESNO,
					     1.0f, BT_EP_LISTENING), 200);
	assert_int_equal(bt_endpoint_last(ep)->ctx, BT_EP_LISTENING);
	assert_int_equal(bt_endpoint_wait_ms(ep, "and", BT_SLOT_TEXT, 1.0f,
					     BT_EP_SPEAKING), 1777);
	assert_int_equal(bt_endpoint_wait_ms(ep, "and", BT_SLOT_TEXT, 1.0f,
					     BT_EP_LISTENING), 1600);

	/* no evidence at all: the base of each set */
	assert_int_equal(bt_endpoint_wait_ms(ep, "", BT_SLOT_TEXT, -1.0f,
					     BT_EP_SPEAKING), 777);
	assert_int_equal(bt_endpoint_wait_ms(ep, NULL, BT_SLOT_TEXT, NAN,
					     BT_EP_LISTENING), 500);

	/* prosody counts less while speaking */
	{
		uint32_t l_rise, l_fall, s_rise, s_fall;

		l_fall = bt_endpoint_wait_ms(ep, "pasta", BT_SLOT_TEXT,
					     FALLING, BT_EP_LISTENING);
		l_rise = bt_endpoint_wait_ms(ep, "pasta", BT_SLOT_TEXT,
					     RISING, BT_EP_LISTENING);
		s_fall = bt_endpoint_wait_ms(ep, "pasta", BT_SLOT_TEXT,
					     FALLING, BT_EP_SPEAKING);
		s_rise = bt_endpoint_wait_ms(ep, "pasta", BT_SLOT_TEXT,
					     RISING, BT_EP_SPEAKING);
		assert_true(l_rise > l_fall);
		assert_true(s_rise > s_fall);
		assert_true((float)(s_rise - s_fall) / (777 - 333) <
			    (float)(l_rise - l_fall) / (500 - 200));
	}
	mem_deref(ep);
}

/*
 * Speech that began while the agent was thinking (the user went on after
 * the turn was taken) uses the thinking set: it waits longer than the
 * listening set for the same words and voice, and its own settings are
 * kept apart from the other two.
 */
static void test_agent_thinking(void **state)
{
	struct bt_endpoint_prm prm;
	struct bt_endpoint *ep;
	uint32_t l, t;

	(void)state;
	ep = make(NULL);
	bt_endpoint_prm_default(&prm);
	assert_true(prm.thinking.min_wait_ms > prm.listening.min_wait_ms);
	assert_true(prm.thinking.base_wait_ms > prm.speaking.base_wait_ms);
	assert_true(prm.thinking.prosody_pct < prm.listening.prosody_pct);
	l = bt_endpoint_wait_ms(ep, "pasta", BT_SLOT_TEXT, NEUTRAL,
				BT_EP_LISTENING);
	t = bt_endpoint_wait_ms(ep, "pasta", BT_SLOT_TEXT, NEUTRAL,
				BT_EP_THINKING);
	assert_int_equal(bt_endpoint_last(ep)->ctx, BT_EP_THINKING);
	assert_true(t > l);
	assert_int_equal(bt_endpoint_wait_ms(ep, "um", BT_SLOT_TEXT, FALLING,
					     BT_EP_THINKING),
			 prm.thinking.incomplete_wait_ms);
	mem_deref(ep);

	prm.thinking.min_wait_ms = 250;
	prm.thinking.max_wait_ms = 2100;
	prm.thinking.incomplete_wait_ms = 2100;
	ep = make(&prm);
	assert_int_equal(bt_endpoint_wait_ms(ep, "yes please", BT_SLOT_YESNO,
					     1.0f, BT_EP_THINKING), 250);
	assert_int_equal(bt_endpoint_wait_ms(ep, "and", BT_SLOT_TEXT, 1.0f,
					     BT_EP_THINKING), 2100);
	/* the other sets are untouched */
	assert_int_equal(bt_endpoint_wait_ms(ep, "yes please", BT_SLOT_YESNO,
					     1.0f, BT_EP_LISTENING), 200);
	assert_int_equal(bt_endpoint_wait_ms(ep, "and", BT_SLOT_TEXT, 1.0f,
					     BT_EP_SPEAKING), 1600);
	mem_deref(ep);

	/* an unordered thinking set is refused */
	prm.thinking.min_wait_ms = 3000;
	assert_int_equal(bt_endpoint_alloc(&ep, &prm), EINVAL);
}

/* A speaker who pauses long inside turns gets longer waits on ambiguous
 * and unfinished endings, capped by max; clear endings stay fast. */
static void test_adaptive_pauses(void **state)
{
	static const uint32_t long_pauses[] = {900, 1100, 1000, 1200, 950,
					       1050};
	struct bt_endpoint *ep = make(NULL), *quick = make(NULL);
	const struct bt_endpoint_decision *d;
	uint32_t amb0, amb1, inc1, done1, q_amb;
	size_t i;

	(void)state;
	amb0 = bt_endpoint_wait_ms(ep, "seven", BT_SLOT_TIME, NEUTRAL, BT_EP_LISTENING);

	/* two pauses are not enough to judge a speaker */
	bt_endpoint_observe_pause(ep, long_pauses[0]);
	bt_endpoint_observe_pause(ep, long_pauses[1]);
	assert_int_equal(bt_endpoint_wait_ms(ep, "seven", BT_SLOT_TIME,
					     NEUTRAL, BT_EP_LISTENING), amb0);

	for (i = 2; i < ARRAY_SIZE(long_pauses); i++)
		bt_endpoint_observe_pause(ep, long_pauses[i]);
	amb1 = bt_endpoint_wait_ms(ep, "seven", BT_SLOT_TIME, NEUTRAL, BT_EP_LISTENING);
	d = bt_endpoint_last(ep);
	assert_true(d->pause_floor_ms >= 1200);
	assert_true(amb1 >= 1200 + 150);
	assert_true(amb1 > amb0 + 500);

	inc1 = bt_endpoint_wait_ms(ep, "i want a table for", BT_SLOT_TEXT,
				   NEUTRAL, BT_EP_LISTENING);
	assert_true(inc1 >= 1600 && inc1 <= 2500);
	done1 = bt_endpoint_wait_ms(ep, "three people please",
				    BT_SLOT_NUMBER, FALLING, BT_EP_LISTENING);
	assert_int_equal(done1, 200);

	/* very long pauses: capped at max_wait */
	for (i = 0; i < 40; i++)
		bt_endpoint_observe_pause(ep, 6000);
	assert_int_equal(bt_endpoint_wait_ms(ep, "seven", BT_SLOT_TIME,
					     NEUTRAL, BT_EP_LISTENING), 2500);
	assert_int_equal(bt_endpoint_wait_ms(ep, "um", BT_SLOT_TIME, NEUTRAL,
					     BT_EP_SPEAKING), 2500);

	/* a quick speaker (pauses under the base wait) changes nothing;
	 * jitter under 100 ms is ignored */
	for (i = 0; i < 10; i++) {
		bt_endpoint_observe_pause(quick, 120 + 15 * (uint32_t)i);
		bt_endpoint_observe_pause(quick, 40);
	}
	q_amb = bt_endpoint_wait_ms(quick, "seven", BT_SLOT_TIME, NEUTRAL,
				    BT_EP_LISTENING);
	assert_int_equal(q_amb, amb0);

	/* the model forgets: 32 short pauses push the long ones out */
	for (i = 0; i < 32; i++)
		bt_endpoint_observe_pause(ep, 200);
	assert_int_equal(bt_endpoint_wait_ms(ep, "seven", BT_SLOT_TIME,
					     NEUTRAL, BT_EP_LISTENING), amb0);

	mem_deref(quick);
	mem_deref(ep);
}

/* Premature ends lengthen unclear waits; good ends take it back. */
static void test_false_ends(void **state)
{
	struct bt_endpoint *ep = make(NULL);
	uint32_t amb0, amb3, done0, done3, amb_after;
	int i;

	(void)state;
	amb0 = bt_endpoint_wait_ms(ep, "pasta", BT_SLOT_TEXT, NEUTRAL, BT_EP_LISTENING);
	done0 = bt_endpoint_wait_ms(ep, "yes please", BT_SLOT_YESNO, FALLING,
				    BT_EP_LISTENING);
	for (i = 0; i < 3; i++)
		bt_endpoint_observe_turn_end(ep, 300, true);
	amb3 = bt_endpoint_wait_ms(ep, "pasta", BT_SLOT_TEXT, NEUTRAL, BT_EP_LISTENING);
	done3 = bt_endpoint_wait_ms(ep, "yes please", BT_SLOT_YESNO, FALLING,
				    BT_EP_LISTENING);
	assert_int_equal(bt_endpoint_last(ep)->bias_ms, 150);
	assert_int_equal(amb3, amb0 + 300);
	assert_int_equal(done3, done0 + 150);

	/* capped */
	for (i = 0; i < 20; i++)
		bt_endpoint_observe_turn_end(ep, 300, true);
	assert_true(bt_endpoint_wait_ms(ep, "pasta", BT_SLOT_TEXT, NEUTRAL,
					BT_EP_LISTENING) <= amb0 + 600);

	/* good ends decay the extra back to nothing */
	for (i = 0; i < 40; i++)
		bt_endpoint_observe_turn_end(ep, 0, false);
	amb_after = bt_endpoint_wait_ms(ep, "pasta", BT_SLOT_TEXT, NEUTRAL,
					BT_EP_LISTENING);
	assert_int_equal(amb_after, amb0);
	mem_deref(ep);
}

/* A rise ends a question: "can i book a table" + rise is not held like
 * a statement + rise. */
static void test_question_rise(void **state)
{
	struct bt_endpoint *ep = make(NULL);
	const struct bt_endpoint_decision *d;
	uint32_t q_rise, s_rise;

	(void)state;
	q_rise = bt_endpoint_wait_ms(ep, "can i book a table", BT_SLOT_TEXT,
				     RISING, BT_EP_LISTENING);
	d = bt_endpoint_last(ep);
	assert_true(d->question);
	assert_true(d->prosody > 0.5f);
	s_rise = bt_endpoint_wait_ms(ep, "i would like a table",
				     BT_SLOT_TEXT, RISING, BT_EP_LISTENING);
	assert_false(bt_endpoint_last(ep)->question);
	assert_true(q_rise < s_rise);
	assert_true(q_rise < 300);
	mem_deref(ep);
}

/* The decision record explains the wait. */
static void test_decision(void **state)
{
	struct bt_endpoint *ep = make(NULL);
	const struct bt_endpoint_decision *d;
	uint32_t w;

	(void)state;
	w = bt_endpoint_wait_ms(ep, "do you have", BT_SLOT_TEXT, 0.8f, BT_EP_LISTENING);
	d = bt_endpoint_last(ep);
	assert_int_equal(d->wait_ms, w);
	assert_true(d->complete < 0.3f);
	assert_non_null(strstr(d->rule, "question"));
	assert_true(fabsf(d->end_like - d->complete) < 1e-6f);
	assert_int_equal(d->rule_wait_ms, 1600);
	assert_int_equal(d->pause_floor_ms, 0);
	mem_deref(ep);
}

/* Where the caller paused inside the utterance, the words are scored
 * with a comma there: "pizza [pause] pasta" is a list being read, while
 * VAD jitter (under 100 ms) and a new utterance leave none. */
static void test_pause_commas(void **state)
{
	struct bt_endpoint *ep = make(NULL);
	const struct bt_endpoint_decision *d;
	uint32_t w;

	(void)state;
	bt_endpoint_utterance_begin(ep);
	bt_endpoint_wait_at_ms(ep, "pizza", BT_SLOT_TEXT, FALLING,
			       BT_EP_LISTENING, 40);
	bt_endpoint_observe_pause(ep, 250);
	w = bt_endpoint_wait_at_ms(ep, "pizza pasta", BT_SLOT_TEXT, FALLING,
				   BT_EP_LISTENING, 40);
	d = bt_endpoint_last(ep);
	assert_string_equal(d->scored, "pizza, pasta");
	assert_non_null(strstr(d->rule, "list"));
	assert_true(w >= 1600);
	/* the list closed: no longer held */
	bt_endpoint_observe_pause(ep, 300);
	w = bt_endpoint_wait_at_ms(ep, "pizza pasta and salad", BT_SLOT_TEXT,
				   FALLING, BT_EP_LISTENING, 40);
	assert_string_equal(bt_endpoint_last(ep)->scored,
			    "pizza, pasta, and salad");
	assert_true(w < 500);

	/* a new utterance: no commas from the last one; a 60 ms gap (a
	 * stop consonant) is no pause */
	bt_endpoint_utterance_begin(ep);
	bt_endpoint_wait_at_ms(ep, "chicken", BT_SLOT_TEXT, FALLING,
			       BT_EP_LISTENING, 40);
	bt_endpoint_observe_pause(ep, 60);
	w = bt_endpoint_wait_at_ms(ep, "chicken soup", BT_SLOT_TEXT, FALLING,
				   BT_EP_LISTENING, 40);
	assert_string_equal(bt_endpoint_last(ep)->scored, "chicken soup");
	assert_true(w < 500);

	/* without the silence (bt_endpoint_wait_ms) the partial is scored
	 * as it is */
	bt_endpoint_utterance_begin(ep);
	bt_endpoint_wait_ms(ep, "pizza", BT_SLOT_TEXT, FALLING,
			    BT_EP_LISTENING);
	bt_endpoint_observe_pause(ep, 250);
	w = bt_endpoint_wait_ms(ep, "pizza pasta", BT_SLOT_TEXT, FALLING,
				BT_EP_LISTENING);
	assert_string_equal(bt_endpoint_last(ep)->scored, "pizza pasta");
	assert_true(w < 500);
	mem_deref(ep);
}

/* Words that reach a silence later than the recogniser's latency were
 * said after it began: the wait counts from them. */
static void test_late_words(void **state)
{
	struct bt_endpoint_prm prm;
	struct bt_endpoint *ep;
	uint32_t w;

	(void)state;
	bt_endpoint_prm_default(&prm);
	assert_int_equal(prm.word_latency_ms, 500);
	ep = make(&prm);
	bt_endpoint_utterance_begin(ep);
	w = bt_endpoint_wait_at_ms(ep, "we are uh", BT_SLOT_TEXT, FALLING,
				   BT_EP_LISTENING, 40);
	assert_true(w >= 1600);
	/* "four adults" arrives 1.2 s into the silence */
	w = bt_endpoint_wait_at_ms(ep, "we are uh four adults", BT_SLOT_TEXT,
				   FALLING, BT_EP_LISTENING, 1200);
	assert_int_equal(bt_endpoint_last(ep)->late_ms, 1200);
	assert_true(w >= 1200 + 200);
	assert_true(w > 1200);
	/* a revision without new words keeps the silence's new start */
	w = bt_endpoint_wait_at_ms(ep, "we are uh four adult", BT_SLOT_TEXT,
				   FALLING, BT_EP_LISTENING, 1300);
	assert_true(w >= 1200 + 200);
	/* speech resumed: the next pause starts clean */
	bt_endpoint_observe_pause(ep, 1300);
	w = bt_endpoint_wait_at_ms(ep, "we are uh four adults and two "
				   "children", BT_SLOT_TEXT, FALLING,
				   BT_EP_LISTENING, 40);
	assert_int_equal(bt_endpoint_last(ep)->late_ms, 0);
	assert_true(w < 500);

	/* the last word within the latency is the recogniser's lag, not
	 * new speech: no extra wait */
	bt_endpoint_utterance_begin(ep);
	bt_endpoint_wait_at_ms(ep, "i would like a table for", BT_SLOT_TEXT,
			       FALLING, BT_EP_LISTENING, 20);
	w = bt_endpoint_wait_at_ms(ep, "i would like a table for two",
				   BT_SLOT_TEXT, FALLING, BT_EP_LISTENING,
				   300);
	assert_int_equal(bt_endpoint_last(ep)->late_ms, 0);
	assert_true(w < 500);
	mem_deref(ep);

	/* a slower recogniser: a longer latency */
	prm.word_latency_ms = 1500;
	ep = make(&prm);
	bt_endpoint_utterance_begin(ep);
	bt_endpoint_wait_at_ms(ep, "we are uh", BT_SLOT_TEXT, FALLING,
			       BT_EP_LISTENING, 40);
	bt_endpoint_wait_at_ms(ep, "we are uh four adults", BT_SLOT_TEXT,
			       FALLING, BT_EP_LISTENING, 1200);
	assert_int_equal(bt_endpoint_last(ep)->late_ms, 0);
	mem_deref(ep);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults_and_args),
		cmocka_unit_test(test_ordering),
		cmocka_unit_test(test_agent_speaking),
		cmocka_unit_test(test_agent_thinking),
		cmocka_unit_test(test_adaptive_pauses),
		cmocka_unit_test(test_false_ends),
		cmocka_unit_test(test_question_rise),
		cmocka_unit_test(test_decision),
		cmocka_unit_test(test_pause_commas),
		cmocka_unit_test(test_late_words),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
