/**
 * @file test_flow.c  The flow brain driven turn by turn on the default
 *                    agent (agents/restaurant.json), with a real SQLite file.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include <sqlite3.h>
#include "banter/banter.h"
#include "brain/flow_int.h"
#include "flow_fx.h"

static int setup(void **state)
{
	return fx_setup(state, &(struct fx){0});
}

/* An agent whose first node transfers the caller. */
static int setup_transfer(void **state)
{
	return fx_setup(state, &(struct fx){
		.agent_path = XFER_AGENT,
		.db_path = "/nonexistent-banter-dir/banter.db"});
}

/* The database sits in a folder that does not exist: the tool fails. */
static int setup_bad_db(void **state)
{
	return fx_setup(state, &(struct fx){
		.db_path = "/nonexistent-banter-dir/sub/banter.db"});
}

static void test_happy_path(void **state)
{
	struct fx *fx = *state;
	char row[256];

	greet(fx);
	user(fx, "a table for three please");
	expect_q(fx, Q_DAY, "day");
	user(fx, "on tuesday");
	expect_q(fx, Q_TIME, "time");
	user(fx, "seven pm");
	expect_q(fx, "A table for three on Tuesday at 7 pm, is that right?",
		 "confirm");
	assert_int_equal(fx->n_tool, 0);

	user(fx, "yes please");
	assert_string_equal(fx->text, "Great, your table is booked. Your "
			    "booking number is 1. Thanks for calling. "
			    "Goodbye!");
	assert_true(fx->end_call);
	assert_false(fx->has_grammar);

	/* the tool event with typed args and the result */
	assert_int_equal(fx->n_tool, 1);
	assert_string_equal(fx->tool_name, "booking.save");
	assert_int_equal(fx->tool_err, 0);
	assert_string_equal(fx->tool_args, "{\"party\":3,\"day\":\"Tuesday\","
			    "\"time\":\"7 pm\"}");
	assert_string_equal(fx->tool_result, "{\"booking_id\":1}");

	assert_int_equal(db_count(fx), 1);
	db_row(fx, 1, row, sizeof(row));
	assert_string_equal(row, "3|Tuesday|7 pm|test-session");

	/* after the end nothing more is said */
	user(fx, "hello");
	assert_string_equal(fx->text, "");
	assert_true(fx->end_call);
	turn(fx, BT_BRAIN_IDLE, NULL, 0, 1);
	assert_string_equal(fx->text, "");
	assert_true(fx->end_call);

	/* a new call starts from scratch and books a second row */
	greet(fx);
	user(fx, "two");
	user(fx, "tomorrow");
	expect_q(fx, Q_TIME, "time");
	user(fx, "half past eight");
	assert_string_equal(fx->grammar, "confirm");
	assert_non_null(strstr(fx->text, "A table for two on "));
	assert_non_null(strstr(fx->text, " at 8:30 pm, is that right?"));
	user(fx, "that's right");
	assert_true(fx->end_call);
	assert_int_equal(db_count(fx), 2);
	assert_non_null(strstr(fx->text, "booking number is 2."));
}

static void test_no_restarts(void **state)
{
	struct fx *fx = *state;
	char row[256];

	greet(fx);
	user(fx, "four people");
	user(fx, "friday");
	user(fx, "eight o'clock");
	expect_q(fx, "A table for four on Friday at 8 pm, is that right?",
		 "confirm");
	user(fx, "no that's wrong");
	expect_q(fx, "Sorry about that, let's start again. " Q_PARTY, "party");
	assert_int_equal(fx->n_tool, 0);

	user(fx, "five");
	expect_q(fx, Q_DAY, "day");
	user(fx, "saturday");
	user(fx, "seven thirty");
	expect_q(fx, "A table for five on Saturday at 7:30 pm, is that "
		 "right?", "confirm");
	user(fx, "yeah");
	assert_true(fx->end_call);
	db_row(fx, 1, row, sizeof(row));
	assert_string_equal(row, "5|Saturday|7:30 pm|test-session");
	assert_int_equal(db_count(fx), 1);
}

static void test_hours_intent(void **state)
{
	struct fx *fx = *state;

	greet(fx);
	user(fx, "three");
	expect_q(fx, Q_DAY, "day");

	user(fx, "what are your opening hours");
	expect_q(fx, HOURS " " Q_DAY, "day");
	/* by keyword too, and again: an intent is not a failed answer */
	user(fx, "um what are the hours");
	expect_q(fx, HOURS " " Q_DAY, "day");
	user(fx, "when are you open");
	expect_q(fx, HOURS " " Q_DAY, "day");

	user(fx, "tuesday");
	expect_q(fx, Q_TIME, "time");

	/* from the confirmation, the echo is asked again */
	user(fx, "At 7:00.");
	user(fx, "What are your opening hours?");
	expect_q(fx, HOURS " A table for three on Tuesday at 7 pm, is that "
		 "right?", "confirm");
}

static void test_reprompt(void **state)
{
	struct fx *fx = *state;

	greet(fx);
	user(fx, "banana split");
	expect_q(fx, SORRY " " Q_PARTY, "party");

	/* a valid answer heard with low confidence is not trusted */
	turn(fx, BT_BRAIN_USER, "three", 0.2f, 0);
	expect_q(fx, SORRY " " Q_PARTY, "party");

	/* the third failure at the node: the fallback, and the call ends */
	turn(fx, BT_BRAIN_USER, "", 0.0f, 0);
	assert_string_equal(fx->text, "Sorry, I'm having trouble "
			    "understanding. Please call us again later. "
			    "Goodbye.");
	assert_true(fx->end_call);
	assert_false(fx->has_grammar);
}

/* "Sorry, what?" at a question: the question again, not a reprompt, and
 * it does not count towards the fallback. */
static void test_asks_repeat(void **state)
{
	struct fx *fx = *state;

	greet(fx);
	user(fx, "sorry what");
	expect_q(fx, Q_PARTY, "party");
	user(fx, "can you say that again");
	expect_q(fx, Q_PARTY, "party");
	user(fx, "what was that");
	expect_q(fx, Q_PARTY, "party");
	user(fx, "banana split");
	expect_q(fx, SORRY " " Q_PARTY, "party");
	/* an answer said with "sorry" is an answer */
	user(fx, "sorry, three people");
	expect_q(fx, Q_DAY, "day");
	/* heard but not trusted: a reprompt as before */
	turn(fx, BT_BRAIN_USER, "sorry what", 0.1f, 0);
	expect_q(fx, SORRY " " Q_DAY, "day");
}

static void test_reprompt_per_node(void **state)
{
	struct fx *fx = *state;

	greet(fx);
	user(fx, "fifty");   /* more than max 20 */
	expect_q(fx, SORRY " " Q_PARTY, "party");
	user(fx, "two or three");
	expect_q(fx, SORRY " " Q_PARTY, "party");
	/* at the threshold: not rejected, but in the agent's confirmation
	 * band, so asked back; that is no failed answer */
	turn(fx, BT_BRAIN_USER, "two", 0.4f, 0);
	expect_q(fx, "two, is that right?", "confirm");
	user(fx, "yes");
	expect_q(fx, Q_DAY, "day");

	/* the count starts again at a new node */
	user(fx, "seven");
	expect_q(fx, SORRY " " Q_DAY, "day");
	user(fx, "maybe");
	expect_q(fx, SORRY " " Q_DAY, "day");
	user(fx, "sunday");
	expect_q(fx, Q_TIME, "time");
	user(fx, "sunday");
	expect_q(fx, SORRY " " Q_TIME, "time");
	user(fx, "noon");
	expect_q(fx, "A table for two on Sunday at noon, is that right?",
		 "confirm");
	user(fx, "hmm");
	expect_q(fx, SORRY " A table for two on Sunday at noon, is that "
		 "right?", "confirm");
}

static void test_idle(void **state)
{
	struct fx *fx = *state;

	greet(fx);
	turn(fx, BT_BRAIN_IDLE, NULL, 0, 1);
	expect_q(fx, "Are you still there? " Q_PARTY, "party");

	/* an answer after the check goes on normally */
	user(fx, "three");
	expect_q(fx, Q_DAY, "day");
	turn(fx, BT_BRAIN_IDLE, NULL, 0, 1);
	expect_q(fx, "Are you still there? " Q_DAY, "day");
	turn(fx, BT_BRAIN_IDLE, NULL, 0, 2);
	assert_string_equal(fx->text, "I'll hang up now. Feel free to call "
			    "again. Goodbye.");
	assert_true(fx->end_call);
	assert_false(fx->has_grammar);
	assert_int_equal(db_count(fx), -1); /* nothing was booked */
}

static void test_tool_error(void **state)
{
	struct fx *fx = *state;

	greet(fx);
	user(fx, "two");
	user(fx, "monday");
	user(fx, "six");
	user(fx, "correct");
	assert_string_equal(fx->text, "Sorry, I couldn't save your booking. "
			    "Please call us again later. Thanks for calling. "
			    "Goodbye!");
	assert_true(fx->end_call);
	/* the failure is reported, with the database's reason */
	assert_int_equal(fx->n_tool, 1);
	assert_string_equal(fx->tool_name, "booking.save");
	assert_int_not_equal(fx->tool_err, 0);
	assert_non_null(strstr(fx->tool_result, "\"error\""));
	assert_non_null(strstr(fx->tool_result, "nonexistent-banter-dir"));
}

static void test_grammars(void **state)
{
	struct fx *fx = *state;
	struct bt_stt_grammar *g = NULL;
	size_t n = 0, i;
	static const char *const names[] = {"party", "day", "time",
					    "confirm"};
	static const enum bt_slot_type types[] = {
		BT_SLOT_NUMBER, BT_SLOT_DAY, BT_SLOT_TIME, BT_SLOT_YESNO,
	};

	assert_int_equal(fx->brain->grammarsh(fx->agent, &g, &n), 0);
	assert_int_equal(n, 4);
	assert_non_null(g);
	for (i = 0; i < n; i++) {
		assert_string_equal(g[i].name, names[i]);
		assert_int_equal(g[i].type, types[i]);
		assert_int_equal(g[i].n_phrases, 4);
		assert_string_equal(g[i].phrases[0],
				    "what are your opening hours");
		assert_string_equal(g[i].phrases[3], "what time do you close");
	}
	mem_deref(g);
}

static void test_flow_misuse(void **state)
{
	struct fx *fx = *state;
	struct bt_brain_input in = {.type = (enum bt_brain_input_type)42};
	struct bt_brain_sink sink = {.texth = on_text, .doneh = on_done,
				     .arg = fx};
	struct bt_brain_st *st = NULL;
	json_t *bad;

	assert_int_equal(fx->brain->respondh(fx->st, &in, &sink), EINVAL);
	assert_int_equal(fx->brain->respondh(fx->st, &in, NULL), EINVAL);

	/* a user turn before the start greets first */
	user(fx, "three");
	expect_q(fx, "Hello, thanks for calling Bella's Trattoria. " Q_PARTY,
		 "party");

	/* alloc checks the flow itself */
	bad = json_pack("{s:{s:s, s:{}}}", "flow", "start", "x", "nodes");
	assert_non_null(bad);
	assert_int_equal(fx->brain->alloch(&st, bad, &fx->ctx), EINVAL);
	assert_null(st);
	assert_non_null(strstr(bt_errmsg(), "flow.nodes"));
	json_decref(bad);
}

/* transfer_call: the line, then the transfer asked of the session; its
 * failure takes the action's on_error, and nothing is said meanwhile. */
static void test_transfer(void **state)
{
	struct fx *fx = *state;

	turn(fx, BT_BRAIN_START, NULL, 0, 0);
	assert_string_equal(fx->text, XFER_LINE);
	assert_string_equal(fx->transfer_to, XFER_TO);
	assert_false(fx->end_call);
	assert_false(fx->has_grammar);
	assert_int_equal(fx->n_tool, 0);

	/* words while the transfer is under way are not answered */
	user(fx, "hello");
	assert_string_equal(fx->text, "");
	assert_string_equal(fx->transfer_to, "");
	assert_false(fx->end_call);

	turn(fx, BT_BRAIN_TRANSFER, "failed: 603 Decline", 0, 0);
	expect_q(fx, "Sorry, the front desk is not answering. Shall I ask "
		 "them to call you back?", "message");
	assert_string_equal(fx->transfer_to, "");
	assert_int_equal(fx->n_tool, 1);
	assert_string_equal(fx->tool_name, "transfer_call");
	assert_string_equal(fx->tool_args, "{\"to\":\"" XFER_TO "\"}");
	assert_int_not_equal(fx->tool_err, 0);
	assert_non_null(strstr(fx->tool_result, "failed: 603 Decline"));

	/* a second failure report has no transfer to fail */
	turn(fx, BT_BRAIN_TRANSFER, "failed: again", 0, 0);
	assert_string_equal(fx->text, "");
	assert_int_equal(fx->n_tool, 0);

	user(fx, "no");
	assert_string_equal(fx->text, "Goodbye.");
	assert_true(fx->end_call);

	/* a new call transfers again */
	turn(fx, BT_BRAIN_START, NULL, 0, 0);
	assert_string_equal(fx->transfer_to, XFER_TO);
}

/* Without on_error a failed transfer says the default and hangs up. */
static void test_transfer_no_on_error(void **state)
{
	struct fx *fx = *state;
	json_t *a = json_object_get(json_object_get(json_object_get(
		json_object_get(fx->agent, "flow"), "nodes"), "greet"),
		"action");
	struct bt_brain_st *st = NULL;
	const char *path = NULL;

	assert_int_equal(json_object_del(a, "on_error"), 0);
	assert_int_equal(fx->brain->checkh(fx->agent, &path), 0);
	assert_int_equal(fx->brain->alloch(&st, fx->agent, &fx->ctx), 0);
	mem_deref(fx->st);
	fx->st = st;
	turn(fx, BT_BRAIN_START, NULL, 0, 0);
	turn(fx, BT_BRAIN_TRANSFER, "failed: transfer is not possible on "
	     "this connection", 0, 0);
	assert_string_equal(fx->text, DEF_TRANSFER_ERROR);
	assert_true(fx->end_call);
}

/* What the loader takes as a target, and what not (with the field). */
static void test_transfer_checks(void **state)
{
	static const struct {
		const char *to;
		bool ok;
	} targets[] = {
		{"sip:frontdesk@pbx.example", true},
		{"sips:desk@pbx.example:5061;transport=tls", true},
		{"sip:pbx.example", true},
		{"tel:+1-555-123-4567", true},
		{"+15551234567", true},
		{"2001", true},
		{"sip:", false},
		{"sip:front desk@pbx.example", false},
		{"sip:x@pbx.example>", false},
		{"http://pbx.example", false},
		{"tel:+1-555-CALL", false},
		{"12", false},
		{"+", false},
		{"frontdesk", false},
		{"", false},
		{"123456789012345678901234567890123", false},
	};
	struct fx *fx = *state;
	json_t *args = json_object_get(json_object_get(json_object_get(
		json_object_get(json_object_get(fx->agent, "flow"), "nodes"),
		"greet"), "action"), "args");
	json_t *greet;
	const char *path;

	for (size_t i = 0; i < sizeof(targets) / sizeof(targets[0]); i++) {
		path = NULL;
		json_object_set_new(args, "to", json_string(targets[i].to));
		if (fx->brain->checkh(fx->agent, &path) != (targets[i].ok ?
							     0 : EINVAL))
			fail_msg("target \"%s\": %s", targets[i].to,
				 bt_errmsg());
		if (!targets[i].ok)
			assert_string_equal(path,
					    "flow.nodes.greet.action.args.to");
	}
	json_object_set_new(args, "to", json_integer(5551234));
	assert_int_equal(fx->brain->checkh(fx->agent, &path), EINVAL);
	assert_non_null(strstr(bt_errmsg(), "is 5551234, which is no "
			       "transfer target"));
	json_object_set_new(args, "to", json_string(XFER_TO));

	/* a node that ends in the transfer cannot also go on or wait */
	greet = json_object_get(json_object_get(json_object_get(fx->agent,
		"flow"), "nodes"), "greet");
	json_object_set_new(greet, "end", json_true());
	assert_int_equal(fx->brain->checkh(fx->agent, &path), EINVAL);
	assert_string_equal(path, "flow.nodes.greet.end");
	json_object_del(greet, "end");
	assert_int_equal(fx->brain->checkh(fx->agent, &path), 0);
}

/* The template scanner the call renders with and the loader checks with. */
static void test_templates(void **state)
{
	static const struct {
		const char *tmpl;
		const char *parts; /* T:text N:name B:bad, each "K<text>|" */
	} cases[] = {
		{"A table for {party}.", "TA table for |Nparty|T.|"},
		{"{{x}} {booking.booking_id}", "T{|Tx|T}|T |Nbooking.booking_id|"},
		{"{party on {day}", "B{|Tparty on |Nday|"},
		{"party} on", "Tparty|B}|T on|"},
		{"{}", "N|"},
		{"{day", "B{|Tday|"},
		{"", ""},
	};
	const char *name;
	size_t n, i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *p = cases[i].tmpl;
		struct tmpl_part part;
		char got[128];
		size_t len = 0;

		got[0] = '\0';
		while (flow_tmpl_next(&p, &part))
			len += (size_t)snprintf(got + len, sizeof(got) - len,
						"%c%.*s|", part.kind == TMPL_TEXT ?
						'T' : part.kind == TMPL_NAME ?
						'N' : 'B', (int)part.n,
						part.s);
		assert_string_equal(got, cases[i].parts);
	}
	assert_true(flow_tmpl_lone("{party}", &name, &n));
	assert_int_equal(n, 5);
	assert_memory_equal(name, "party", 5);
	assert_false(flow_tmpl_lone("{party} people", &name, &n));
	assert_false(flow_tmpl_lone("{}", &name, &n));
	assert_false(flow_tmpl_lone("{{party}}", &name, &n));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_happy_path, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_no_restarts, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_hours_intent, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_reprompt, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_reprompt_per_node, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_asks_repeat, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_idle, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tool_error, setup_bad_db,
						teardown),
		cmocka_unit_test_setup_teardown(test_grammars, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_flow_misuse, setup,
						teardown),
		cmocka_unit_test(test_templates),
		cmocka_unit_test_setup_teardown(test_transfer, setup_transfer,
						teardown),
		cmocka_unit_test_setup_teardown(test_transfer_no_on_error,
						setup_transfer, teardown),
		cmocka_unit_test_setup_teardown(test_transfer_checks,
						setup_transfer, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
