/**
 * @file serve.c  `banter serve`: the browser page and the OpenAI-Realtime-
 *                compatible WebSocket endpoint for one or more agents.
 */
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "banter/banter.h"
#include "transport/server.h"
#include "app.h"

enum { MAX_AGENTS = 16, MAX_KEYS = 16, MAX_REGS = 8 };

static void usage(FILE *f)
{
	fprintf(f,
		"usage: banter serve --agent FILE [--agent FILE ...] [options]\n"
		"  --agent [NAME=]FILE  an agent file; the first is the default,\n"
		"                    a client picks another with ?model=NAME\n"
		"                    or calls sip:NAME@host (NAME: the given one,\n"
		"                    else the file's name without .json)\n"
		"  --port N          HTTP and ws:// port (default 8080)\n"
		"  --tls-port N      HTTPS and wss:// port (default 8443)\n"
		"  --no-tls          no HTTPS / wss:// listener\n"
		"  --cert F --key F  PEM certificate and key for TLS (default:\n"
		"                    a self-signed pair, banter-tls.pem)\n"
		"  --addr A          listen address (default 0.0.0.0)\n"
		"  --sip-port N      SIP port, UDP and TCP (default 5060)\n"
		"  --sip-tls-port N  SIP over TLS port (default 5061), with the\n"
		"                    certificate of --cert/--key (or the\n"
		"                    self-signed pair)\n"
		"  --no-sip-tls      no SIP over TLS listener\n"
		"  --srtp MODE       optional (default): SRTP (SDES a=crypto)\n"
		"                    when the caller offers it; require: refuse\n"
		"                    plain RTP calls (488)\n"
		"  --no-sip          do not answer phone calls (any transport)\n"
		"  --sip-allow CIDR[,CIDR]  SIP sources let in (default: all;\n"
		"                    others get 403)\n"
		"  --sip-register sip:USER@PROVIDER[:PORT]  register this\n"
		"                    account (repeat, or a comma list; up to 8)\n"
		"                    so that its calls come here; the password\n"
		"                    comes from $BANTER_SIP_PASSWORD\n"
		"  --sip-auth-user U digest user for --sip-register (default:\n"
		"                    each URI's user)\n"
		"  --call-webhook URL  POST realtime.call.incoming (the call's\n"
		"                    call_id, for a sideband) here per call\n"
		"  --sip-ring-ms MS  let a call ring at least MS ms before it\n"
		"                    is answered (default 0: as soon as its\n"
		"                    session is ready; up to 60000)\n"
		"  --api-key K       accept only clients with this key (repeat\n"
		"                    for more; also $BANTER_API_KEY)\n"
		"  --threads N       event-loop threads (default: one per core)\n"
		"  --max-sessions N  calls at once (default 1000; also\n"
		"                    --max-calls)\n"
		"  --warm N          recognisers made per agent and event loop\n"
		"                    at start (default 1), so that a call does\n"
		"                    not stall the others while it makes one\n"
		"  --pool N          idle recognisers each event loop keeps for\n"
		"                    its next calls (default 8; ~50 MB each)\n"
		"  --max-send-queue KB  unread server events before a client\n"
		"                    that does not read is closed (default 512)\n"
		"  --web DIR         the browser page's files (default web)\n"
		"  --db FILE         SQLite file for tools (default banter.db)\n");
}

/* --sip-register's URIs, one or a comma list, into buf/list. */
static int add_regs(const char *arg, char buf[][256], const char **list,
		    size_t *np)
{
	const char *p = arg;

	do {
		const char *end = strchr(p, ',');
		size_t n = end ? (size_t)(end - p) : strlen(p);

		if (!n || n >= 256 || *np == MAX_REGS) {
			fprintf(stderr, "banter serve: --sip-register takes "
				"SIP URIs (sip:USER@PROVIDER), separated by "
				"commas, at most %d (got \"%s\")\n", MAX_REGS,
				arg);
			return 2;
		}
		memcpy(buf[*np], p, n);
		buf[*np][n] = '\0';
		list[*np] = buf[*np];
		++*np;
		p = end ? end + 1 : p + n;
	} while (*p);
	return 0;
}

static void ready(uint16_t http_port, uint16_t https_port,
		  uint16_t sip_port, uint16_t sip_tls_port, void *arg)
{
	struct bt_server_prm *p = arg;

	printf("banter serve: %zu agent%s (default \"%s\"), %u event "
	       "loop%s\n", p->n_agents, p->n_agents == 1 ? "" : "s",
	       bt_agent_name(p->agents[0]), p->threads,
	       p->threads == 1 ? "" : "s");
	for (size_t i = 0; p->n_agents > 1 && i < p->n_agents; i++)
		printf("  ?model=%s: %s\n", p->agent_ids[i],
		       bt_agent_name(p->agents[i]));
	printf("  browser page:  http://localhost:%u/\n", http_port);
	printf("  Realtime API:  ws://localhost:%u/v1/realtime\n", http_port);
	if (https_port)
		printf("                 wss://localhost:%u/v1/realtime%s\n",
		       https_port, p->cert ? "" : " (self-signed)");
	if (sip_port)
		printf("  phone (SIP):   sip:agent@%s:%u (UDP and TCP)\n",
		       p->addr && strcmp(p->addr, "0.0.0.0") ? p->addr :
		       "localhost", sip_port);
	if (sip_tls_port)
		printf("                 sip:agent@%s:%u;transport=tls (TLS%s)"
		       "%s\n", p->addr && strcmp(p->addr, "0.0.0.0") ?
		       p->addr : "localhost", sip_tls_port, p->cert ? "" :
		       ", self-signed", p->srtp_require ? ", SRTP required" :
		       "");
	if (p->n_keys)
		printf("  clients need an API key (Authorization: Bearer)\n");
	printf("Ctrl-C stops: live calls hear a goodbye first.\n");
	fflush(stdout);
}

int cmd_serve(int argc, char **argv)
{
	/* long options without a letter */
	enum { OPT_NO_SIP_TLS = 1000, OPT_SRTP, OPT_CALL_WEBHOOK, OPT_RING };
	static const struct option opts[] = {
		{"agent", required_argument, 0, 'a'},
		{"port", required_argument, 0, 'p'},
		{"tls-port", required_argument, 0, 's'},
		{"no-tls", no_argument, 0, 'N'},
		{"cert", required_argument, 0, 'c'},
		{"key", required_argument, 0, 'k'},
		{"addr", required_argument, 0, 'A'},
		{"sip-port", required_argument, 0, 'P'},
		{"no-sip", no_argument, 0, 'S'},
		{"sip-tls-port", required_argument, 0, 'T'},
		{"no-sip-tls", no_argument, 0, OPT_NO_SIP_TLS},
		{"srtp", required_argument, 0, OPT_SRTP},
		{"sip-allow", required_argument, 0, 'L'},
		{"sip-register", required_argument, 0, 'R'},
		{"sip-auth-user", required_argument, 0, 'U'},
		{"call-webhook", required_argument, 0, OPT_CALL_WEBHOOK},
		{"sip-ring-ms", required_argument, 0, OPT_RING},
		{"api-key", required_argument, 0, 'K'},
		{"threads", required_argument, 0, 't'},
		{"warm", required_argument, 0, 'W'},
		{"pool", required_argument, 0, 'O'},
		{"max-sessions", required_argument, 0, 'M'},
		/* the telephony name of the same limit */
		{"max-calls", required_argument, 0, 'M'},
		{"max-send-queue", required_argument, 0, 'Q'},
		{"web", required_argument, 0, 'w'},
		{"db", required_argument, 0, 'd'},
		{"help", no_argument, 0, 'h'},
		{0, 0, 0, 0},
	};
	const char *paths[MAX_AGENTS];
	char ids[MAX_AGENTS][64];
	const char *id_ptrs[MAX_AGENTS];
	struct bt_agent *agents[MAX_AGENTS];
	const char *keys[MAX_KEYS];
	char regbuf[MAX_REGS][256];
	const char *regs[MAX_REGS];
	size_t n_paths = 0, n_keys = 0, n_agents = 0, n_regs = 0;
	struct bt_server_prm prm;
	unsigned long v;
	int c, err, rc = 1;

	memset(&prm, 0, sizeof(prm));
	prm.warm = 1;
	prm.pool = 8;
	optind = 1;
	while ((c = getopt_long(argc, argv, "a:h", opts, NULL)) != -1) {
		switch (c) {
		case 'a':
			if (n_paths == MAX_AGENTS) {
				fprintf(stderr, "banter serve: at most %d "
					"agents\n", MAX_AGENTS);
				return 2;
			}
			paths[n_paths++] = optarg;
			break;
		case 'p':
			if (app_num("serve", optarg, 65535, "--port", &v))
				return 2;
			prm.http_port = (uint16_t)v;
			break;
		case 's':
			if (app_num("serve", optarg, 65534, "--tls-port", &v))
				return 2;
			prm.https_port = (uint16_t)v;
			break;
		case 'N': prm.https_port = UINT16_MAX; break;
		case 'c': prm.cert = optarg; break;
		case 'k': prm.key = optarg; break;
		case 'A': prm.addr = optarg; break;
		case 'P':
			if (app_num("serve", optarg, 65534, "--sip-port", &v))
				return 2;
			prm.sip_port = (uint16_t)v;
			break;
		case 'S': prm.sip_port = UINT16_MAX; break;
		case 'T':
			if (app_num("serve", optarg, 65534, "--sip-tls-port", &v))
				return 2;
			prm.sip_tls_port = (uint16_t)v;
			break;
		case OPT_NO_SIP_TLS: prm.sip_tls_port = UINT16_MAX; break;
		case OPT_SRTP:
			if (strcmp(optarg, "optional") &&
			    strcmp(optarg, "require")) {
				fprintf(stderr, "banter serve: --srtp takes "
					"optional or require (got \"%s\")\n",
					optarg);
				return 2;
			}
			prm.srtp_require = !strcmp(optarg, "require");
			break;
		case 'L': prm.sip_allow = optarg; break;
		case OPT_CALL_WEBHOOK: prm.call_webhook = optarg; break;
		case OPT_RING:
			if (app_num("serve", optarg, 60000, "--sip-ring-ms",
				    &v))
				return 2;
			prm.sip_ring_ms = (uint32_t)v;
			break;
		case 'R':
			if (add_regs(optarg, regbuf, regs, &n_regs))
				return 2;
			break;
		case 'U': prm.sip_auth_user = optarg; break;
		case 'K':
			if (n_keys == MAX_KEYS || !optarg[0]) {
				fprintf(stderr, "banter serve: --api-key takes "
					"a non-empty key (at most %d)\n",
					MAX_KEYS);
				return 2;
			}
			keys[n_keys++] = optarg;
			break;
		case 't':
			if (app_num("serve", optarg, 64, "--threads", &v))
				return 2;
			prm.threads = (unsigned)v;
			break;
		case 'W':
			if (app_num("serve", optarg, 16, "--warm", &v))
				return 2;
			prm.warm = (unsigned)v;
			break;
		case 'O':
			if (app_num("serve", optarg, 1000, "--pool", &v))
				return 2;
			prm.pool = (unsigned)v;
			break;
		case 'M':
			if (app_num("serve", optarg, 100000, "--max-sessions", &v))
				return 2;
			prm.max_sessions = (uint32_t)v;
			break;
		case 'Q':
			if (app_num("serve", optarg, 1024 * 1024, "--max-send-queue", &v) ||
			    !v)
				return 2;
			prm.max_send_queue_kb = (uint32_t)v;
			break;
		case 'w': prm.web_dir = optarg; break;
		case 'd': prm.db_path = optarg; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "banter serve: unexpected argument \"%s\"\n",
			argv[optind]);
		usage(stderr);
		return 2;
	}
	if (!n_paths) {
		fprintf(stderr, "banter serve: --agent is required\n");
		usage(stderr);
		return 2;
	}
	if (getenv("BANTER_API_KEY") && getenv("BANTER_API_KEY")[0] &&
	    n_keys < MAX_KEYS)
		keys[n_keys++] = getenv("BANTER_API_KEY");

	/* the call log is read as it is written (tests, journald) */
	setvbuf(stdout, NULL, _IOLBF, 0);
	/* only the main thread takes SIGINT/SIGTERM (bt_server_run lets
	 * them in once its loop runs): every thread made from here on
	 * inherits the mask. libre notes a signal in the loop of the thread
	 * that caught it, so one that a worker or a session loop caught would
	 * not stop the server (Linux gives it to the main thread when that
	 * one takes it, so this is a guarantee rather than a fix). */
	{
		sigset_t sigs;
		sigemptyset(&sigs);
		sigaddset(&sigs, SIGINT);
		sigaddset(&sigs, SIGTERM);
		sigaddset(&sigs, SIGALRM);
		pthread_sigmask(SIG_BLOCK, &sigs, NULL);
	}
	err = libre_init();
	if (!err)
		err = bt_init();
	if (err) {
		fprintf(stderr, "banter: cannot start: %s\n", bt_errmsg());
		return 1;
	}
	for (size_t i = 0; i < n_paths; i++) {
		/* NAME=FILE names it; else its file's name without
		 * folder and extension */
		const char *path = paths[i], *eq = strchr(paths[i], '=');

		if (eq && eq > paths[i] && (size_t)(eq - paths[i]) <
		    sizeof(ids[0]) && !memchr(paths[i], '/',
					      (size_t)(eq - paths[i])))
			path = eq + 1;
		err = bt_agent_load(&agents[n_agents], path);
		if (err) {
			fprintf(stderr, "banter: %s\n", bt_errmsg());
			goto out;
		}
		if (path != paths[i]) {
			memcpy(ids[n_agents], paths[i],
			       (size_t)(eq - paths[i]));
			ids[n_agents][eq - paths[i]] = '\0';
		}
		else {
			const char *b = strrchr(path, '/');
			char *dot;
			str_ncpy(ids[n_agents], b ? b + 1 : path,
				 sizeof(ids[0]));
			dot = strrchr(ids[n_agents], '.');
			if (dot)
				*dot = '\0';
		}
		id_ptrs[n_agents] = ids[n_agents];
		++n_agents;
	}
	prm.sip_register = regs;
	prm.n_sip_register = n_regs;
	prm.sip_password = getenv("BANTER_SIP_PASSWORD") &&
		getenv("BANTER_SIP_PASSWORD")[0] ?
		getenv("BANTER_SIP_PASSWORD") : NULL;
	prm.agent_ids = id_ptrs;
	prm.agents = agents;
	prm.n_agents = n_agents;
	prm.api_keys = keys;
	prm.n_keys = n_keys;
	if (!prm.threads) {
		long n = sysconf(_SC_NPROCESSORS_ONLN);
		prm.threads = n > 0 ? (unsigned)n : 1;
	}
	prm.readyh = ready;
	prm.arg = &prm;
	err = bt_server_run(&prm);
	if (err) {
		fprintf(stderr, "banter serve: %s\n", bt_errmsg());
		goto out;
	}
	printf("banter serve: stopped\n");
	rc = 0;
 out:
	for (size_t i = 0; i < n_agents; i++)
		bt_agent_put(agents[i]);
	bt_close();
	libre_close();
	return rc;
}
