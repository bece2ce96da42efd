/**
 * @file test_flow_confirm.c  The flow brain's confirmation band
 *                            (flow.confirm_below, expect.confirm_below):
 *                            unsure answers asked back, on the default
 *                            agent (agents/restaurant.json, band 0.6).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <cmocka.h>
#include "banter/banter.h"
#include "flow_fx.h"

/* The restaurant agent with a confirmation band: 0.4 to 0.7. */
static int setup_confirm(void **state)
{
	return fx_setup(state, &(struct fx){.confirm_below = 0.7});
}

/* The band on the "time" question only, 0.4 to 0.8, asked back in its
 * own words (expect.confirm_say). */
static int setup_confirm_node(void **state)
{
	return fx_setup(state, &(struct fx){.confirm_below = 0.8,
		.confirm_node = "time", .no_band = true});
}

/* The restaurant agent as it ships, its own band (0.4 to 0.6), with an
 * intent that leaves the question. */
static int setup_cancel(void **state)
{
	return fx_setup(state, &(struct fx){.intent =
		"{\"name\": \"cancel\", \"keywords\": [\"cancel\"], "
		"\"say\": \"No problem, nothing is booked.\", "
		"\"next\": \"goodbye\"}"});
}

/* The restaurant agent without its confirmation band. */
static int setup_no_band(void **state)
{
	return fx_setup(state, &(struct fx){.no_band = true});
}

/* Below the band: asked back, on the agent's yes_no grammar; yes takes
 * it, no asks again, a sure new value instead of no is taken; above
 * the band: taken at once. */
static void test_confirm_band(void **state)
{
	struct fx *fx = *state;
	char row[256];

	greet(fx);
	heard(fx, "three", 0.5f);
	expect_q(fx, "three, is that right?", "confirm");
	heard(fx, "yes", 0.9f);
	expect_q(fx, Q_DAY, "day");
	/* above the band: no question back */
	heard(fx, "tuesday", 0.75f);
	expect_q(fx, Q_TIME, "time");

	heard(fx, "seven pm", 0.5f);
	expect_q(fx, "7 pm, is that right?", "confirm");
	heard(fx, "no", 0.9f);
	expect_q(fx, Q_TIME, "time");
	heard(fx, "eight pm", 0.6f);
	expect_q(fx, "8 pm, is that right?", "confirm");
	heard(fx, "no, nine pm", 0.9f);
	expect_q(fx, "A table for three on Tuesday at 9 pm, is that right?",
		 "confirm");
	heard(fx, "yes", 0.9f);
	assert_true(fx->end_call);
	assert_int_equal(db_count(fx), 1);
	db_row(fx, 1, row, sizeof(row));
	assert_string_equal(row, "3|Tuesday|9 pm|test-session");
}

/* A new value in the answer that is itself unsure, the same value said
 * again, an unsure yes, unclear answers and silence. */
static void test_confirm_answers(void **state)
{
	struct fx *fx = *state;

	greet(fx);
	heard(fx, "three", 0.5f);
	expect_q(fx, "three, is that right?", "confirm");
	heard(fx, "no four", 0.5f);
	expect_q(fx, Q_PARTY, "party");
	heard(fx, "four", 0.5f);
	expect_q(fx, "four, is that right?", "confirm");
	/* a yes heard below min_confidence is no yes */
	heard(fx, "yes", 0.2f);
	expect_q(fx, "four, is that right?", "confirm");
	heard(fx, "four people", 0.5f);
	expect_q(fx, Q_DAY, "day");

	/* unclear once: asked back again; twice: the question again */
	heard(fx, "friday", 0.45f);
	expect_q(fx, "Friday, is that right?", "confirm");
	heard(fx, "sorry what", 0.9f);
	expect_q(fx, "Friday, is that right?", "confirm");
	heard(fx, "banana split", 0.9f);
	expect_q(fx, "Friday, is that right?", "confirm");
	heard(fx, "", 0.0f);
	expect_q(fx, Q_DAY, "day");

	/* silence counts as unclear, and still hangs up in the end */
	heard(fx, "friday", 0.45f);
	turn(fx, BT_BRAIN_IDLE, NULL, 0, 1);
	expect_q(fx, "Are you still there? Friday, is that right?",
		 "confirm");
	turn(fx, BT_BRAIN_IDLE, NULL, 0, 1);
	expect_q(fx, "Are you still there? " Q_DAY, "day");
	heard(fx, "friday", 0.45f);
	turn(fx, BT_BRAIN_IDLE, NULL, 0, 2);
	assert_true(fx->end_call);

	/* a new call forgets the pending value */
	greet(fx);
	heard(fx, "yes", 0.9f);
	expect_q(fx, SORRY " " Q_PARTY, "party");
}

/* The band on one node only; the others take what they hear. */
static void test_confirm_per_node(void **state)
{
	struct fx *fx = *state;

	greet(fx);
	heard(fx, "three", 0.5f);
	expect_q(fx, Q_DAY, "day");
	heard(fx, "tuesday", 0.5f);
	expect_q(fx, Q_TIME, "time");
	heard(fx, "seven pm", 0.75f);
	expect_q(fx, "Did you say 7 pm on Tuesday?", "confirm");
	heard(fx, "that's right", 0.9f);
	expect_q(fx, "A table for three on Tuesday at 7 pm, is that right?",
		 "confirm");
}

/* No band set: an answer above min_confidence is taken as before. */
static void test_confirm_off(void **state)
{
	struct fx *fx = *state;

	greet(fx);
	heard(fx, "three", 0.41f);
	expect_q(fx, Q_DAY, "day");
	heard(fx, "tuesday", 0.5f);
	expect_q(fx, Q_TIME, "time");
}

/* A global intent in the answer to a confirmation is answered as at
 * any question, before yes or no is looked for: after one without
 * `next` the value is asked back again (and the intent is no unclear
 * answer); one with `next` leaves the question, the value untaken. */
static void test_confirm_intents(void **state)
{
	struct fx *fx = *state;

	greet(fx);
	heard(fx, "three", 0.5f);
	expect_q(fx, "three, is that right?", "confirm");
	user(fx, "what are your opening hours");
	expect_q(fx, HOURS " three, is that right?", "confirm");
	user(fx, "banana split");
	expect_q(fx, "three, is that right?", "confirm");
	user(fx, "yes");
	expect_q(fx, Q_DAY, "day");

	heard(fx, "friday", 0.45f);
	expect_q(fx, "Friday, is that right?", "confirm");
	/* heard below min_confidence: no intent, an unclear answer */
	heard(fx, "when are you open", 0.2f);
	expect_q(fx, "Friday, is that right?", "confirm");
	user(fx, "no just cancel it");
	assert_string_equal(fx->text, "No problem, nothing is booked. "
			    "Thanks for calling. Goodbye!");
	assert_true(fx->end_call);
	assert_true(db_count(fx) <= 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_confirm_band,
						setup_confirm, teardown),
		cmocka_unit_test_setup_teardown(test_confirm_answers,
						setup_confirm, teardown),
		cmocka_unit_test_setup_teardown(test_confirm_per_node,
						setup_confirm_node, teardown),
		cmocka_unit_test_setup_teardown(test_confirm_off, setup_no_band,
						teardown),
		cmocka_unit_test_setup_teardown(test_confirm_intents,
						setup_cancel, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
