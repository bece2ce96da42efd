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
	}
	mem_deref(a);

	check_locate(text, len);

	free(text);
	return 0;
}
