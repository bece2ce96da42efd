/**
 * @file test_agent.c  Agent files: loading, error messages with
 *                     file:line:column, and bt_json_locate().
 *
 * The real providers need models and sound libraries; the loader only
 * needs their names, so small stand-ins named like them are registered.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>
#include "banter/banter.h"

/* ---- stand-in providers ---- */

struct fake_tts_st {
	const struct bt_tts *tts;
};

static struct bt_tts fake_tts;

static int fake_tts_alloc(struct bt_tts_st **stp, const char *voice,
			  const struct bt_tts_prm *prm)
{
	struct fake_tts_st *st;

	(void)prm;
	if (strncmp(voice, "en", 2))
		return bt_err(ENOENT, "espeak: there is no voice \"%s\"; "
			      "try en-us", voice);
	st = mem_zalloc(sizeof(*st), NULL);
	if (!st)
		return ENOMEM;
	st->tts = &fake_tts;
	*stp = (struct bt_tts_st *)st;
	return 0;
}

static struct bt_tts fake_tts = {.name = "espeak", .alloch = fake_tts_alloc};
static struct bt_stt fake_stt = {.name = "pocketsphinx"};
static struct bt_vad fake_vad = {.name = "energy"};

static int group_setup(void **state)
{
	(void)state;
	bt_stt_register(&fake_stt);
	bt_vad_register(&fake_vad);
	bt_tts_register(&fake_tts);
	bt_brain_flow_init();
	bt_tool_booking_init();
	return 0;
}

static int group_teardown(void **state)
{
	(void)state;
	bt_stt_unregister(&fake_stt);
	bt_vad_unregister(&fake_vad);
	bt_tts_unregister(&fake_tts);
	return 0;
}

/* ---- a small valid agent, and variants of it ---- */

static const char base[] =
	"{\n"
	"  \"name\": \"Test\",\n"
	"  \"persona\": {\"voice\": \"espeak:en-us\", \"rate_wpm\": 160},\n"
	"  \"flow\": {\n"
	"    \"start\": \"hi\",\n"
	"    \"intents\": [\n"
	"      {\"phrases\": [\"hello there\"], \"say\": \"Hi.\"},\n"
	"      {\"keywords\": [\"hours\"], \"say\": \"We open at noon.\"}\n"
	"    ],\n"
	"    \"nodes\": {\n"
	"      \"hi\": {\"say\": \"Hello.\", \"next\": \"ask\"},\n"
	"      \"ask\": {\"ask\": \"How many?\", \"expect\": {\"type\": "
	"\"number\", \"slot\": \"n\"}, \"next\": \"bye\"},\n"
	"      \"bye\": {\"say\": \"You said {n}. Bye.\", \"end\": true}\n"
	"    }\n"
	"  }\n"
	"}\n";

static char vbuf[4096];

/* src with the first `from` replaced by `to`, in vbuf */
static const char *variant_of(const char *src, const char *from,
			      const char *to)
{
	const char *at = strstr(src, from);
	size_t pre;

	assert_non_null(at);
	pre = (size_t)(at - src);
	snprintf(vbuf, sizeof(vbuf), "%.*s%s%s", (int)pre, src, to,
		 at + strlen(from));
	return vbuf;
}

static const char *variant(const char *from, const char *to)
{
	return variant_of(base, from, to);
}

static void load_fails(const char *text, const char *msg)
{
	struct bt_agent *a = NULL;
	int err = bt_agent_load_str(&a, text, "t.json");

	if (strcmp(bt_errmsg(), msg))
		print_error("got:  %s\nwant: %s\n", bt_errmsg(), msg);
	assert_int_equal(err, EINVAL);
	assert_null(a);
	assert_string_equal(bt_errmsg(), msg);
}

static void load_fails_like(const char *text, const char *prefix,
			    const char *part)
{
	struct bt_agent *a = NULL;
	int err = bt_agent_load_str(&a, text, "t.json");

	if (strncmp(bt_errmsg(), prefix, strlen(prefix)) ||
	    !strstr(bt_errmsg(), part))
		print_error("got: %s\n", bt_errmsg());
	assert_int_equal(err, EINVAL);
	assert_null(a);
	assert_memory_equal(bt_errmsg(), prefix, strlen(prefix));
	assert_non_null(strstr(bt_errmsg(), part));
}

/* ---- loading ---- */

static void test_load_default_agent(void **state)
{
	struct bt_agent *a = NULL;
	const json_t *j;

	(void)state;
	assert_int_equal(bt_agent_load(&a, "agents/restaurant.json"), 0);
	assert_non_null(a);
	assert_string_equal(bt_agent_name(a), "Bella's Trattoria");
	assert_string_equal(bt_agent_voice(a), "espeak:en-us+f3");
	j = bt_agent_json(a);
	assert_non_null(j);
	assert_string_equal(json_string_value(json_object_get(
		json_object_get(j, "flow"), "start")), "greet");
	assert_int_equal(json_integer_value(json_object_get(
		json_object_get(j, "persona"), "rate_wpm")), 160);
	mem_deref(a);
}

static void test_load_str(void **state)
{
	struct bt_agent *a = NULL;

	(void)state;
	assert_int_equal(bt_agent_load_str(&a, base, "t.json"), 0);
	assert_string_equal(bt_agent_name(a), "Test");
	assert_string_equal(bt_agent_voice(a), "espeak:en-us");
	a = mem_deref(a);

	assert_null(bt_agent_name(NULL));
	assert_int_equal(bt_agent_load_str(NULL, base, "t.json"), EINVAL);
	assert_int_equal(bt_agent_load_str(&a, NULL, "t.json"), EINVAL);
	assert_null(a);
}

static void test_missing_file(void **state)
{
	struct bt_agent *a = NULL;

	(void)state;
	assert_int_equal(bt_agent_load(&a, "agents/no-such-agent.json"),
			 ENOENT);
	assert_null(a);
	assert_non_null(strstr(bt_errmsg(), "agents/no-such-agent.json"));
	assert_non_null(strstr(bt_errmsg(), "no such agent file"));
}

static void test_bad_json(void **state)
{
	(void)state;
	/* a missing colon on line 3 */
	load_fails_like("{\n  \"name\": \"x\",\n  \"persona\" {}\n}\n",
			"t.json:3:13: not valid JSON: ", "fix the syntax");
	/* a trailing comma */
	load_fails_like("{\"name\": \"x\",\n}", "t.json:2:1: not valid JSON: ",
			"fix the syntax there");
	/* a key twice is refused, not silently overwritten */
	load_fails_like("{\"name\": \"x\",\n \"name\": \"y\"}",
			"t.json:2:", "duplicate object key");
	load_fails("[1, 2]", "t.json:1:1: the agent must be a JSON object "
		   "({\"name\": ..., \"persona\": ...}); see "
		   "docs/agent-file.md");
}

static void test_wrong_type(void **state)
{
	(void)state;
	load_fails(variant("\"rate_wpm\": 160", "\"rate_wpm\": \"fast\""),
		   "t.json:3:52: \"persona.rate_wpm\" must be an integer "
		   "between 80 and 400 (got \"fast\"); set it to e.g. 160");
	load_fails(variant("\"rate_wpm\": 160", "\"rate_wpm\": 1000"),
		   "t.json:3:52: \"persona.rate_wpm\" must be an integer "
		   "between 80 and 400 (got 1000); set it to e.g. 160");
	load_fails(variant("\"say\": \"We open at noon.\"", "\"say\": 42"),
		   "t.json:8:38: \"flow.intents[1].say\" must be a non-empty "
		   "string (got 42); set it to e.g. \"We're open at noon.\"");
	load_fails(variant("\"name\": \"Test\"", "\"name\": [1]"),
		   "t.json:2:11: \"name\" must be a non-empty string (got a "
		   "list of 1 entry); set it to e.g. \"Bella's Trattoria\"");
	load_fails(variant("  \"name\": \"Test\",\n",
			   "  \"name\": \"Test\",\n"
			   "  \"turn\": {\"end_silence_ms\": 9000},\n"),
		   "t.json:3:30: \"turn.end_silence_ms\" must be an integer "
		   "between 1 and 5000 (got 9000); set it to e.g. 400");
	load_fails_like(variant("  \"name\": \"Test\",\n",
				"  \"name\": \"Test\",\n"
				"  \"turn\": {\"thinking\": 900},\n"),
			"t.json:3:24: \"turn.thinking\" must be an object",
			"agent-file.md");
	load_fails_like(variant("  \"name\": \"Test\",\n",
				"  \"name\": \"Test\",\n"
				"  \"turn\": {\"speaking\": {\"prosody_pct\": "
				"150}},\n"),
			"t.json:3:40: \"turn.speaking.prosody_pct\" must be an "
			"integer "
			"between 1 and 100 (got 150)", "set it to e.g. 45");
	load_fails_like(variant("  \"name\": \"Test\",\n",
				"  \"name\": \"Test\",\n"
				"  \"turn\": {\"thinking\": {\"min_wait\": "
				"300}},\n"),
			"t.json:3:37: unknown field \"turn.thinking.min_wait\"",
			"min_wait_ms, base_wait_ms, incomplete_wait_ms, "
			"max_wait_ms, prosody_pct");
	load_fails(variant("\"end\": true", "\"end\": \"yes\""),
		   "t.json:13:51: \"flow.nodes.bye.end\" must be true or "
		   "false (got \"yes\")");
}

static void test_missing_field(void **state)
{
	(void)state;
	load_fails(variant("  \"name\": \"Test\",\n", ""),
		   "t.json:1:1: \"name\" is missing; add it, e.g. \"name\": "
		   "\"Bella's Trattoria\"");
	load_fails(variant("\"voice\": \"espeak:en-us\", ", ""),
		   "t.json:3:14: \"persona.voice\" is missing; add it, e.g. "
		   "\"voice\": \"espeak:en-us+f3\"");
	load_fails(variant("    \"start\": \"hi\",\n", ""),
		   "t.json:4:11: \"flow.start\" is missing; name the first "
		   "node, e.g. \"start\": \"greet\"");
	load_fails_like(variant("\"ask\": \"How many?\", ", ""),
			"t.json:12:14: \"flow.nodes.ask.ask\" is missing;",
			"the question");
}

static void test_unknown_key(void **state)
{
	(void)state;
	load_fails(variant("\"voice\"", "\"voise\""),
		   "t.json:3:24: unknown field \"persona.voise\"; the fields "
		   "of \"persona\" are name, voice, rate_wpm, pitch, "
		   "fallback_voice; check the spelling");
	load_fails(variant("  \"name\": \"Test\",\n",
			   "  \"name\": \"Test\",\n  \"flwo\": 1,\n"),
		   "t.json:3:11: unknown field \"flwo\"; the top-level fields "
		   "are name, description, persona, stt, vad, turn, brain, "
		   "llm, recording, flow; check the spelling");
	load_fails(variant("\"slot\": \"n\"", "\"slto\": \"n\""),
		   "t.json:12:72: unknown field "
		   "\"flow.nodes.ask.expect.slto\"; the fields of "
		   "\"flow.nodes.ask.expect\" are type, slot, min, max, "
		   "min_confidence, confirm_below, confirm_say; check the "
		   "spelling");
}

/* The confirmation band [min_confidence, confirm_below) is never empty
 * or upside down. */
static void test_confirm_below(void **state)
{
	static const char ask[] = "\"slot\": \"n\"";
	struct bt_agent *a = NULL;

	(void)state;
	/* off unless set; set above min_confidence it loads */
	assert_int_equal(bt_agent_load_str(&a, variant("\"start\": \"hi\",",
		"\"start\": \"hi\", \"min_confidence\": 0.4, "
		"\"confirm_below\": 0.6,"), "t.json"), 0);
	a = mem_deref(a);
	assert_int_equal(bt_agent_load_str(&a, variant(ask, "\"slot\": \"n\", "
		"\"min_confidence\": 0.5, \"confirm_below\": 1"), "t.json"),
		0);
	a = mem_deref(a);

	load_fails(variant("\"start\": \"hi\",", "\"start\": \"hi\", "
			   "\"min_confidence\": 0.4, \"confirm_below\": 0.4,"),
		   "t.json:5:60: \"flow.confirm_below\" is 0.4, but it must "
		   "be above \"flow.min_confidence\" (0.4): answers heard "
		   "between the two are asked back (\"..., is that right?\"); "
		   "raise it (e.g. to 0.6) or lower min_confidence");
	load_fails(variant("\"start\": \"hi\",", "\"start\": \"hi\", "
			   "\"confirm_below\": 1.5,"),
		   "t.json:5:37: \"flow.confirm_below\" must be a number "
		   "between 0 and 1 (got 1.5); set it to e.g. 0.4");
	load_fails(variant(ask, "\"slot\": \"n\", \"min_confidence\": 0.5, "
			   "\"confirm_below\": 0.3"),
		   "t.json:12:117: \"flow.nodes.ask.expect.confirm_below\" is "
		   "0.3, but it must be above the node's min_confidence (0.5): "
		   "answers heard between the two are asked back (\"..., is "
		   "that right?\"); raise it (e.g. to 0.6) or lower "
		   "min_confidence");
	/* confirm_say: {value} is the answer asked back */
	assert_int_equal(bt_agent_load_str(&a, variant(ask, "\"slot\": \"n\", "
		"\"confirm_below\": 0.6, \"confirm_say\": \"{value} or {n}?\""),
		"t.json"), 0);
	a = mem_deref(a);
	load_fails(variant(ask, "\"slot\": \"n\", \"confirm_say\": "
			   "\"{valeu}?\""), "t.json:12:92: \"flow.nodes.ask."
		   "expect.confirm_say\" uses {valeu}, but no node fills a slot "
		   "or saves a result of that name (known names: n, value); did "
		   "you mean {value}?");
	/* ... there only */
	load_fails_like(variant("You said {n}.", "You said {value}."),
			"t.json:13:", "uses {value}, but no node fills");
	load_fails(variant(ask, "\"slot\": \"n\", \"confirm_below\": \"hi\""),
		   "t.json:12:94: \"flow.nodes.ask.expect.confirm_below\" "
		   "must be a number between 0 and 1 (got \"hi\"); set it to "
		   "e.g. 0.4");
	/* the node's own min_confidence at or above the flow's band */
	{
		char two[sizeof(vbuf)];

		snprintf(two, sizeof(two), "%s", variant("\"start\": \"hi\",",
			 "\"start\": \"hi\", \"confirm_below\": 0.6,"));
		load_fails(variant_of(two, ask, "\"slot\": \"n\", "
				      "\"min_confidence\": 0.7"),
			   "t.json:12:95: \"flow.nodes.ask.expect."
			   "min_confidence\" is 0.7, not below "
			   "\"flow.confirm_below\" (0.6), so this node would "
			   "ask nothing back; lower it, or give the node its "
			   "own \"confirm_below\" above it");
	}
}

static void test_bad_edge(void **state)
{
	(void)state;
	load_fails(variant("\"next\": \"ask\"", "\"next\": \"asq\""),
		   "t.json:11:39: \"flow.nodes.hi.next\" goes to node "
		   "\"asq\", which does not exist; the nodes are hi, ask, "
		   "bye; fix the name or add the node to \"flow.nodes\"");
	load_fails_like(variant("\"start\": \"hi\"", "\"start\": \"hey\""),
			"t.json:5:14: \"flow.start\" goes to node \"hey\", ",
			"which does not exist");
	/* two nodes that hand over to each other without a question */
	{
		char loop[sizeof(vbuf)];

		snprintf(loop, sizeof(loop), "%s",
			 variant("\"end\": true", "\"next\": \"hi\""));
		variant_of(loop, "\"next\": \"ask\"", "\"next\": \"bye\"");
		load_fails_like(vbuf, "t.json:13:14: \"flow.nodes.bye\" leads "
				"back to \"hi\"", "would talk forever");
	}
	/* a node that neither asks, goes on, nor ends */
	load_fails_like(variant(", \"end\": true", ""),
			"t.json:13:14: \"flow.nodes.bye\" neither waits",
			"\"end\": true");
}

static void test_bad_slot_type(void **state)
{
	(void)state;
	load_fails(variant("\"type\": \"number\"", "\"type\": \"colour\""),
		   "t.json:12:54: \"flow.nodes.ask.expect.type\" must be one "
		   "of number, day, time, yes_no, text (got \"colour\"); pick "
		   "one of those");
	/* a yes_no question needs both edges */
	load_fails_like(variant("\"type\": \"number\", \"slot\": \"n\"}, "
				"\"next\": \"bye\"",
				"\"type\": \"yes_no\"}, \"yes\": \"bye\""),
			"t.json:12:14: \"flow.nodes.ask\" expects yes_no but "
			"lacks \"no\"", "naming nodes");
	/* {m} is no slot */
	load_fails(variant("You said {n}", "You said {m}"),
		   "t.json:13:22: \"flow.nodes.bye.say\" uses {m}, but no node "
		   "fills a slot or saves a result of that name (known names: "
		   "n); fix the name, or fill it: a node's \"expect\" with "
		   "\"slot\", or an action's \"save_as\"");
}

static void test_unknown_provider(void **state)
{
	(void)state;
	load_fails(variant("  \"name\": \"Test\",\n",
			   "  \"name\": \"Test\",\n"
			   "  \"stt\": {\"provider\": \"whisper\"},\n"),
		   "t.json:3:23: \"stt.provider\" is \"whisper\" but no speech "
		   "recogniser of that name is registered; registered: "
		   "pocketsphinx; use one of those");
	load_fails(variant("  \"name\": \"Test\",\n",
			   "  \"name\": \"Test\",\n"
			   "  \"brain\": {\"provider\": \"gpt\"},\n"),
		   "t.json:3:25: \"brain.provider\" is \"gpt\" but no brain of "
		   "that name is registered; registered: flow; use one of "
		   "those");
	load_fails_like(variant("  \"name\": \"Test\",\n",
				"  \"name\": \"Test\",\n"
				"  \"vad\": {\"provider\": \"silero\"},\n"),
			"t.json:3:23: \"vad.provider\" is \"silero\"",
			"registered: energy");
	load_fails(variant("espeak:en-us", "acme:en-us"),
		   "t.json:3:24: \"persona.voice\" is \"acme:en-us\" but there "
		   "is no speech synthesiser \"acme\"; registered: espeak; use "
		   "one of those, e.g. \"espeak:en-us+f3\"");
	load_fails(variant("espeak:en-us", "espeak:fr"),
		   "t.json:3:24: \"persona.voice\" \"espeak:fr\" cannot be "
		   "opened: espeak: there is no voice \"fr\"; try en-us; pick "
		   "a voice that is installed (e.g. \"espeak:en-us+f3\")");
	load_fails_like(variant("espeak:en-us", "bella"),
			"t.json:3:24: \"persona.voice\" must be "
			"\"provider:voice\"", "(got \"bella\")");
	/* a tool that is not registered */
	load_fails_like(variant("\"say\": \"Hello.\", ",
				"\"say\": \"Hello.\", \"action\": {\"tool\": "
				"\"booking.sav\"}, "),
			"t.json:11:50: \"flow.nodes.hi.action.tool\" is "
			"\"booking.sav\"", "registered: booking.save");
}

/* ---- bt_json_locate ---- */

static void locate(const char *text, const char *path, int want_err,
		   unsigned want_line, unsigned want_col)
{
	unsigned line = 0, col = 0;

	assert_int_equal(bt_json_locate(text, path, &line, &col), want_err);
	if (line != want_line || col != want_col)
		print_error("%s: got %u:%u want %u:%u\n", path, line, col,
			    want_line, want_col);
	assert_int_equal(line, want_line);
	assert_int_equal(col, want_col);
}

static void test_locate(void **state)
{
	static const char t[] =
		"{\n"
		"  \"a\": {\"b\": [10, {\"c\": \"x\"}, [1, [2, 3]]]},\n"
		"  \"s\": \"tricky \\\" } ] { [ , \\\\\",\n"
		"  \"k\\\"q\": 1, \"\\u0041\": 2,\n"
		"  \"u\": \"\xc3\xa9\xc3\xa9\", \"v\": true,\n"
		"  \"flow\": {\"nodes\": {\"confirm\": {\"expect\": "
		"{\"type\": \"colour\"}}}}\n"
		"}";

	(void)state;
	locate(t, "", 0, 1, 1);
	locate(t, "a", 0, 2, 8);
	locate(t, "a.b", 0, 2, 14);
	locate(t, "a.b[0]", 0, 2, 15);
	locate(t, "a.b[1]", 0, 2, 19);
	locate(t, "a.b[1].c", 0, 2, 25);
	locate(t, "a.b[2][1][0]", 0, 2, 36);
	locate(t, "s", 0, 3, 8);
	locate(t, "k\"q", 0, 4, 11);
	locate(t, "A", 0, 4, 24);
	/* columns count characters: "éé" is 2 wide, not 4 */
	locate(t, "v", 0, 5, 19);
	locate(t, "flow.nodes.confirm.expect.type", 0, 6, 53);

	/* not found: the deepest parent that exists */
	locate(t, "a.x", ENOENT, 2, 8);
	locate(t, "a.b[7]", ENOENT, 2, 14);
	locate(t, "a.b[0].c", ENOENT, 2, 15);
	locate(t, "flow.nodes.greet.say", ENOENT, 6, 21);
	locate(t, "nope", ENOENT, 1, 1);
	locate(t, "a..b", EINVAL, 2, 8);
	locate(t, "a.b[x]", EINVAL, 2, 14);

	/* malformed text ends the walk safely */
	locate("{\"a\": {\"b\": \"unterminated", "a.b.c", ENOENT, 1, 13);
	locate("{\"a\" 1}", "a", ENOENT, 1, 1);
	locate("  [", "[0]", ENOENT, 1, 3);
	locate("{\"a\": }", "a", ENOENT, 1, 1);
	locate("{\"a\": [1, ]}", "a[1]", ENOENT, 1, 7);
	assert_int_equal(bt_json_locate(NULL, "a", NULL, NULL), EINVAL);
}

/* Keys with dots, brackets, quotes or too long: quoted in the path, and
 * found again there. */
static void test_path_add(void **state)
{
	static const char t[] =
		"{\"a\": {\"x.y\": 1, \"x\": {\"y\": 2},\n"
		"  \"b[0]\": 3, \"q\\\"\\\\\": 4, \"\": 5,\n"
		"  \"kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk"
		"kkkkkkkkkkkkkkkkkkkkkkkk\": 6}}";
	char p[256], k[100];

	(void)state;
	bt_json_path_add(p, sizeof(p), "", "a");
	assert_string_equal(p, "a");
	bt_json_path_add(p, sizeof(p), p, "x.y");
	assert_string_equal(p, "a[\"x.y\"]");
	locate(t, p, 0, 1, 15);
	locate(t, "a.x.y", 0, 1, 29);
	bt_json_path_add(p, sizeof(p), "a", "b[0]");
	assert_string_equal(p, "a[\"b[0]\"]");
	locate(t, p, 0, 2, 11);
	bt_json_path_add(p, sizeof(p), "a", "q\"\\");
	assert_string_equal(p, "a[\"q\\\"\\\\\"]");
	locate(t, p, 0, 2, 23);
	bt_json_path_add(p, sizeof(p), "a", "");
	assert_string_equal(p, "a[\"\"]");
	locate(t, p, 0, 2, 30);

	/* a long key is cut, and found by its start */
	memset(k, 'k', 90);
	k[90] = '\0';
	bt_json_path_add(p, sizeof(p), "a", k);
	assert_int_equal(strlen(p), strlen("a[\"\"...]") + BT_JSON_KEY_SHOWN);
	assert_non_null(strstr(p, "kk\"...]"));
	locate(t, p, 0, 3, 97);

	/* cut to fit the buffer, never past it */
	bt_json_path_add(p, 8, "abcdef", "ghijkl");
	assert_string_equal(p, "abcdef.");
	locate(t, "a[\"x.y\"", EINVAL, 1, 7);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_load_default_agent),
		cmocka_unit_test(test_load_str),
		cmocka_unit_test(test_missing_file),
		cmocka_unit_test(test_bad_json),
		cmocka_unit_test(test_wrong_type),
		cmocka_unit_test(test_missing_field),
		cmocka_unit_test(test_unknown_key),
		cmocka_unit_test(test_bad_edge),
		cmocka_unit_test(test_confirm_below),
		cmocka_unit_test(test_bad_slot_type),
		cmocka_unit_test(test_unknown_provider),
		cmocka_unit_test(test_locate),
		cmocka_unit_test(test_path_add),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
