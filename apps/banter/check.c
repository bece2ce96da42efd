/**
 * @file check.c  `banter check FILE...`: load agent and caller files as a
 *                call would, and say what is wrong with each (file:line:
 *                column, the field, what to do) without starting a call.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include "banter/banter.h"
#include "app.h"
#include "caller.h"

static void usage(FILE *f)
{
	fprintf(f, "usage: banter check AGENT.json... [--caller CALLER.json]...\n"
		"  loads each agent file (and caller file) with every check a\n"
		"  call makes when it opens them, and prints \"ok\" or what is\n"
		"  wrong and where; exits 1 if any file has an error\n");
}

static int check_caller(const char *path)
{
	struct caller *c = NULL;
	int err = caller_load(&c, path);

	mem_deref(c);
	return err;
}

int cmd_check(int argc, char **argv)
{
	static const struct option opts[] = {
		{"caller", required_argument, NULL, 'c'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	const char *callers[64];
	size_t n_callers = 0;
	unsigned bad = 0;
	int c, err;

	while ((c = getopt_long(argc, argv, "c:h", opts, NULL)) != -1) {
		switch (c) {
		case 'c':
			if (n_callers == sizeof(callers) / sizeof(callers[0])) {
				fprintf(stderr, "banter check: at most 64 "
					"caller files\n");
				return 2;
			}
			callers[n_callers++] = optarg;
			break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind >= argc && !n_callers) {
		usage(stderr);
		return 2;
	}
	err = bt_init();
	if (err) {
		fprintf(stderr, "banter check: %s\n", bt_errmsg());
		return 1;
	}
	for (int i = optind; i < argc; i++) {
		struct bt_agent *a = NULL;

		err = bt_agent_load(&a, argv[i]);
		if (err) {
			printf("%s\n", bt_errmsg());
			bad++;
		}
		else
			printf("%s: ok (agent)\n", argv[i]);
		mem_deref(a);
	}
	for (size_t i = 0; i < n_callers; i++) {
		err = check_caller(callers[i]);
		if (err) {
			printf("%s\n", bt_errmsg());
			bad++;
		}
		else
			printf("%s: ok (caller)\n", callers[i]);
	}
	bt_close();
	return bad ? 1 : 0;
}
