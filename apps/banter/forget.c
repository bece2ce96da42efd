/**
 * @file forget.c  `banter forget ID`: remove what agents remember of a
 *                 caller (their summaries of earlier calls).
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include "banter/banter.h"
#include "app.h"
#include "store/memory.h"

static void usage(FILE *f)
{
	fprintf(f, "usage: banter forget CALLER_ID [--db FILE]\n"
		"  removes every summary of CALLER_ID's earlier calls from the\n"
		"  database (default banter.db: the one serve and simulate use)\n");
}

int cmd_forget(int argc, char **argv)
{
	static const struct option opts[] = {
		{"db", required_argument, NULL, 'd'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	const char *db = "banter.db";
	unsigned n = 0;
	int c, err;

	while ((c = getopt_long(argc, argv, "d:h", opts, NULL)) != -1) {
		switch (c) {
		case 'd': db = optarg; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind + 1 != argc) {
		usage(stderr);
		return 2;
	}
	err = bt_memory_forget(db, argv[optind], &n);
	if (err) {
		fprintf(stderr, "banter forget: %s\n", bt_errmsg());
		return 1;
	}
	printf("banter forget: %u summar%s of \"%s\" removed from %s\n", n,
	       n == 1 ? "y" : "ies", argv[optind], db);
	return 0;
}
