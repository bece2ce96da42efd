/**
 * @file dial.c  `banter dial`: the agent calls a phone (an outbound SIP
 *               call) and talks to whoever answers, as `banter serve`
 *               does with callers.
 */
#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "banter/banter.h"
#include "brain/llm_summary.h"
#include "net/loop.h"
#include "transport/sip.h"
#include "app.h"

struct dial {
	struct bt_sip_dial *d;
	unsigned signals;
	int rc;
};

static struct dial *the_dial;   /* for the signal handler */

static void usage(FILE *f)
{
	fprintf(f,
		"usage: banter dial sip:USER@HOST[:PORT] --agent FILE [options]\n"
		"  --agent FILE      the agent that talks (it greets when the\n"
		"                    callee answers)\n"
		"  --codecs LIST     offered, in order of preference (default\n"
		"                    opus,g722,pcmu,pcma)\n"
		"  --max-s N         hang up after N s answered (default: when\n"
		"                    the agent or the callee does)\n"
		"  --ring-s N        give up unanswered after N s (default 60)\n"
		"  --from URI        our From (default sip:banter@ADDR)\n"
		"  --sip-auth-user U digest user for a 401/407 (default: the\n"
		"                    From's user); the password comes from\n"
		"                    $BANTER_SIP_PASSWORD\n"
		"  --addr A          our address for SIP and RTP (default: the\n"
		"                    one toward the callee)\n"
		"  --db FILE         SQLite file for tools (default banter.db)\n"
		"URI: sip:alice@192.0.2.7, sip:100@pbx.example.com:5070, or\n"
		"sip:100@pbx.example.com;transport=tcp. Exit status 0 if the\n"
		"call was answered, 1 if it failed (the reason on stderr), 2 on\n"
		"a usage error. Ctrl-C hangs up. Docs: docs/sip.md.\n");
}

static void on_end(int err, const char *why, void *arg)
{
	struct dial *dl = arg;

	if (err) {
		fprintf(stderr, "banter dial: %s\n", why);
		dl->rc = 1;
	}
	else {
		printf("banter dial: the call ended: %s\n", why);
		dl->rc = 0;
	}
	fflush(stdout);
	re_cancel();
}

static void on_signal(int sig)
{
	struct dial *dl = the_dial;
	(void)sig;

	if (!dl)
		return;
	/* the second Ctrl-C does not wait for the BYE's answer */
	if (++dl->signals > 1) {
		fprintf(stderr, "banter dial: a second Ctrl-C: stopped without "
			"waiting for the call to end\n");
		re_cancel();
		return;
	}
	bt_sip_dial_hangup(dl->d, "Ctrl-C");
}

static int run(struct bt_sip_dial_prm *prm)
{
	struct dial dl = {.rc = 1};
	sigset_t sigs, old;
	int err;

	/* the loop thread must not take the stop signals: libre notes a
	 * signal in the loop of the thread that caught it (see serve.c) */
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &sigs, &old);
	/* a session made for the wrong codec rate leaves its recogniser
	 * to the one made for the answer's */
	bt_stt_pocketsphinx_pool(1);
	err = bt_loops_start(1);
	if (err) {
		fprintf(stderr, "banter dial: cannot start: %s\n",
			bt_errmsg());
		goto out;
	}
	err = bt_sip_dial_alloc(&dl.d, prm, on_end, &dl);
	if (err) {
		fprintf(stderr, "banter dial: %s\n", bt_errmsg());
		/* a URI, codec list or address given wrong */
		dl.rc = err == EINVAL ? 2 : 1;
		goto out;
	}
	the_dial = &dl;
	pthread_sigmask(SIG_UNBLOCK, &sigs, NULL);
	(void)re_main(on_signal);
	the_dial = NULL;
 out:
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	dl.d = mem_deref(dl.d);
	/* an LLM agent's tools that outlived the call, and its summary of
	 * the call, still being written */
	bt_llm_late_wait();
	bt_llm_summaries_wait();
	bt_loops_stop();
	return dl.rc;
}

int cmd_dial(int argc, char **argv)
{
	static const struct option opts[] = {
		{"agent", required_argument, 0, 'a'},
		{"codecs", required_argument, 0, 'c'},
		{"max-s", required_argument, 0, 'm'},
		{"ring-s", required_argument, 0, 'r'},
		{"from", required_argument, 0, 'f'},
		{"sip-auth-user", required_argument, 0, 'u'},
		{"addr", required_argument, 0, 'A'},
		{"db", required_argument, 0, 'd'},
		{"help", no_argument, 0, 'h'},
		{0, 0, 0, 0},
	};
	struct bt_sip_dial_prm prm;
	struct bt_agent *agent = NULL;
	const char *agent_path = NULL, *pw;
	unsigned long v;
	int c, err, rc = 1;

	memset(&prm, 0, sizeof(prm));
	optind = 1;
	while ((c = getopt_long(argc, argv, "a:h", opts, NULL)) != -1) {
		switch (c) {
		case 'a': agent_path = optarg; break;
		case 'c': prm.codecs = optarg; break;
		case 'm':
			if (app_num("dial", optarg, 86400, "--max-s", &v))
				return 2;
			prm.max_s = (uint32_t)v;
			break;
		case 'r':
			if (app_num("dial", optarg, 3600, "--ring-s", &v) || !v)
				return 2;
			prm.ring_s = (uint32_t)v;
			break;
		case 'f': prm.from = optarg; break;
		case 'u': prm.auth_user = optarg; break;
		case 'A': prm.addr = optarg; break;
		case 'd': prm.db_path = optarg; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind + 1 != argc) {
		fprintf(stderr, "banter dial: give one SIP URI to call%s\n",
			optind < argc ? " (more were given)" : "");
		usage(stderr);
		return 2;
	}
	if (!agent_path) {
		fprintf(stderr, "banter dial: --agent is required\n");
		usage(stderr);
		return 2;
	}
	prm.uri = argv[optind];
	pw = getenv("BANTER_SIP_PASSWORD");
	prm.password = pw && pw[0] ? pw : NULL;

	/* the call log is read as it is written (tests, journald) */
	setvbuf(stdout, NULL, _IOLBF, 0);
	err = libre_init();
	if (!err)
		err = bt_init();
	if (err) {
		fprintf(stderr, "banter: cannot start: %s\n", bt_errmsg());
		return 1;
	}
	err = bt_agent_load(&agent, agent_path);
	if (err) {
		fprintf(stderr, "banter: %s\n", bt_errmsg());
		goto out;
	}
	prm.agent = agent;
	rc = run(&prm);
 out:
	mem_deref(agent);
	bt_close();
	libre_close();
	return rc;
}
