/**
 * @file main.c  The banter command-line program.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "app.h"

int app_num(const char *cmd, const char *s, unsigned long max,
	    const char *what, unsigned long *out)
{
	char *end;
	unsigned long v = strtoul(s, &end, 10);

	if (!*s || *end || v > max || s[0] == '-') {
		fprintf(stderr, "banter %s: %s takes a whole number from 0 "
			"to %lu (got \"%s\")\n", cmd, what, max, s);
		return 2;
	}
	*out = v;
	return 0;
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: banter COMMAND [options]\n"
		"commands:\n"
		"  serve      the browser page and an OpenAI-Realtime-compatible\n"
		"             WebSocket server (see serve --help)\n"
		"  simulate   a simulated caller talks to an agent (see --help)\n"
		"  call       a simulated caller calls a Realtime WebSocket\n"
		"             server, in real time (see call --help)\n"
		"  dial       the agent calls a phone over SIP (see dial\n"
		"             --help)\n"
		"  talk       talk to an agent through the sound card\n"
		"  stats      latency percentiles and stage shares from traces\n"
		"  forget     remove what agents remember of a caller\n"
		"  check      check agent and caller files without a call\n"
		"  help       this text; --version: the version\n");
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	if (!strcmp(argv[1], "simulate"))
		return cmd_simulate(argc - 1, argv + 1);
	if (!strcmp(argv[1], "call"))
		return cmd_call(argc - 1, argv + 1);
	if (!strcmp(argv[1], "serve"))
		return cmd_serve(argc - 1, argv + 1);
	if (!strcmp(argv[1], "dial"))
		return cmd_dial(argc - 1, argv + 1);
	if (!strcmp(argv[1], "stats"))
		return cmd_stats(argc - 1, argv + 1);
	if (!strcmp(argv[1], "forget"))
		return cmd_forget(argc - 1, argv + 1);
	if (!strcmp(argv[1], "talk"))
		return cmd_talk(argc - 1, argv + 1);
	if (!strcmp(argv[1], "check"))
		return cmd_check(argc - 1, argv + 1);
	if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help") ||
	    !strcmp(argv[1], "help")) {
		usage(stdout);
		return 0;
	}
	if (!strcmp(argv[1], "--version") || !strcmp(argv[1], "version")) {
		printf("banter %s\n", BT_VERSION);
		return 0;
	}
	fprintf(stderr, "banter: unknown command \"%s\"\n", argv[1]);
	usage(stderr);
	return 2;
}
