/**
 * @file fuzz_agent.c  libFuzzer harness: the agent-file loader.
 *
 * The input is the text of an agent file. It goes through
 * bt_agent_load_str() with the real providers registered (bt_init()), so
 * the JSON parse, every field check, the flow brain's own check (nodes,
 * edges, loops, {placeholders}, intents, tools) and the voice check
 * (opening an espeak or flite voice by the fuzzed name) all run, and
 * bt_json_locate() runs on the error paths. The harness then checks what
 * the loader promises whatever the text:
 *  - an error is an errno value with a message, and leaves *ap alone;
 *  - a loaded agent has a JSON object, a name and a "provider:voice";
 *  - what the loader accepts, its brain can run: the STT grammars build,
 *    and a short call without audio (start, a few fixed answers, silence)
 *    gets a reply each time ({placeholders}, slots, edges, the booking
 *    tool on an in-memory database);
 *  - bt_json_locate() stays inside the text for any path.
 * Everything it allocates is freed, so libFuzzer's leak check holds.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <re.h>
#include "banter/banter.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	if (bt_init())
		abort();
	return 0;
}

struct call {
	unsigned dones;
};

static void on_text(const char *text, void *arg)
{
	(void)arg;
	if (!text)
		abort();
}

static void on_done(const struct bt_brain_done *done, void *arg)
{
	struct call *c = arg;

	if (!done)
		abort();
	c->dones++;
}

static void on_tool(const char *name, const char *args_json,
		    const char *result_json, int err, void *arg)
{
	(void)err;
	(void)arg;
	if (!name || !args_json || !result_json)
		abort();
}

/* The agent's brain, without a session: grammars, then a short call. */
static void run_brain(const struct bt_agent *a)
{
	static const char *const says[] = {
		"three", "tuesday", "seven thirty pm", "yes", "no", "",
		"what are your opening hours", "{party} {{",
	};
	const json_t *root = bt_agent_json(a);
	const char *name = json_string_value(json_object_get(
		json_object_get(root, "brain"), "provider"));
	const struct bt_brain *b = bt_brain_find(name ? name : "flow");
	struct bt_brain_ctx ctx = {.db_path = ":memory:",
				   .session_id = "fuzz"};
	struct call c = {0};
	struct bt_brain_sink sink = {.texth = on_text, .doneh = on_done,
				     .toolh = on_tool, .arg = &c};
	struct bt_brain_input in = {.type = BT_BRAIN_START};
	struct bt_brain_st *st = NULL;
	struct bt_stt_grammar *g = NULL;
	size_t n = 0, i;

	if (!b)
		abort();
	if (b->grammarsh) {
		if (b->grammarsh(root, &g, &n) || (n && !g))
			abort();
		mem_deref(g);
	}
	if (!b->alloch || !b->respondh)
		return;
	if (b->alloch(&st, root, &ctx) || !st)
		abort();

	if (b->respondh(st, &in, &sink))
		abort();
	for (i = 0; i < sizeof(says) / sizeof(says[0]); i++) {
		in.type = BT_BRAIN_USER;
		in.text = says[i];
		in.confidence = i % 3 ? 0.9f : 0.2f;
		if (b->respondh(st, &in, &sink))
			abort();
	}
	in.type = BT_BRAIN_IDLE;
	for (in.idle_count = 1; in.idle_count <= 3; in.idle_count++) {
		if (b->respondh(st, &in, &sink))
			abort();
	}
	if (c.dones != 1 + i + 3)
		abort();
	mem_deref(st);
}

/* Where the text ends (line, column) bounds every located position. */
static void check_locate(const char *text, size_t len)
{
	static const char *const paths[] = {
		"", "name", "persona.voice", "turn.speaking.max_wait_ms",
		"flow.nodes.greet.say", "flow.intents[0].phrases[1]",
		"flow.intents[99999999999999999999]", "a.b[2].c", "[0]",
		"..", "a[", "a[x]",
	};
	unsigned lines = 1, line, col;
	size_t i;

	for (i = 0; i < len; i++)
		lines += text[i] == '\n';

	for (i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		line = col = 0;
		(void)bt_json_locate(text, paths[i], &line, &col);
		if (line < 1 || line > lines || col < 1 || col > len + 1)
			abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct bt_agent *a = NULL;
	const json_t *root;
	const char *voice;
	char *text;
	size_t len;
	int err;

	/* a C string, as bt_agent_load() hands over (it refuses NULs) */
	text = malloc(size + 1);
	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	len = strlen(text);

	bt_err_clear();
	err = bt_agent_load_str(&a, text, "fuzz.json");
	if (err) {
		if (a || err < 0 || !bt_errmsg()[0])
			abort();
	}
	else {
		root = bt_agent_json(a);
		voice = bt_agent_voice(a);
		if (!json_is_object(root) || !bt_agent_name(a) ||
		    !bt_agent_name(a)[0] || !voice || !strchr(voice, ':'))
			abort();
		run_brain(a);
	}
	mem_deref(a);

	check_locate(text, len);

	free(text);
	return 0;
}
