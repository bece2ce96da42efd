/**
 * @file call.c  `banter call`: a simulated caller over the Realtime
 * WebSocket.
 *
 * The caller file's turns are rendered before connecting (caller.c) and
 * resampled to 24 kHz; then, on libre's loop in the main thread, the
 * caller streams 20 ms of audio every 20 ms (absolute deadlines, so timer
 * jitter does not add up), starting each turn by the caller file's rules
 * as `banter simulate` does, judging from what it receives when the agent
 * speaks: from the first audio delta of a response until what arrived has
 * played out at real time after response.done (a playout clock).
 *
 * Voice-to-voice is measured here from the last speech sample of a turn
 * (its audio less the trailing silence) to the first audio delta of the
 * reply, and printed next to the server's own figure (banter.turn).
 */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <arpa/inet.h>
#include <re.h>
#include "banter/banter.h"
#include "app.h"
#include "caller.h"
#include "call_int.h"

/* ---- ending ---- */

/*
 * The call is over (rc 0) or failed (rc 1, why says what). The socket is
 * closed and the loop stops once the server answered the close frame, so
 * that libre frees the connection (a connection left CLOSING waits 10 s
 * for its own timer).
 */
void call_finish(struct call *c, int rc, const char *fmt, ...)
{
	va_list ap;

	if (c->finished)
		return;
	c->finished = true;
	c->rc = rc;
	va_start(ap, fmt);
	vsnprintf(c->why, sizeof(c->why), fmt, ap);
	va_end(ap);
	tmr_cancel(&c->tmr_frame);
	tmr_cancel(&c->tmr_max);
	if (c->ws && c->open) {
		/* the loop stops at the server's answer (ws_close) */
		c->open = false;
		if (!bt_ws_close(c->ws, 1000))
			return;
	}
	re_cancel();
}

/* ---- the caller's side: 20 ms of audio every 20 ms ---- */

static bool agent_speaking(const struct call *c, uint64_t now)
{
	return (c->resp_active && c->resp_audio) ||
		(double)now < c->played_until;
}

/* Whether the caller's next turn starts now (simulate's rules). */
static bool turn_due(const struct call *c, const struct cturn *t,
		     uint64_t now)
{
	uint64_t from;

	if (t->barge_after_ms >= 0)
		return agent_speaking(c, now) &&
			now >= c->speak_start + (uint64_t)t->barge_after_ms;
	if (agent_speaking(c, now) || c->resp_active)
		return false;
	/* the agent speaks first: wait for its greeting to begin */
	if (!c->n_resp && now < GREET_WAIT_MS)
		return false;
	if (c->last_stop < c->prev_end && !c->prev_silence)
		return false;  /* no reply to the last turn yet */
	from = c->last_stop > c->prev_end ? c->last_stop : c->prev_end;
	return now >= from + t->gap_ms;
}

static void caller_done_check(struct call *c, uint64_t now)
{
	uint64_t from;

	if (c->cur < c->caller->n_turns || c->playing >= 0 ||
	    agent_speaking(c, now) || c->resp_active)
		return;
	if (!c->n_resp && now < GREET_WAIT_MS)
		return;
	if (c->last_stop < c->prev_end && !c->prev_silence)
		return;  /* the last turn's reply is still to come */
	from = c->last_stop > c->prev_end ? c->last_stop : c->prev_end;
	if (now >= from + END_GRACE_MS) {
		caller_print(c->quiet, now, "-- call ended (the caller's turns are done)");
		call_finish(c, 0, "completed");
	}
}

/* One input_audio_buffer.append with audio (base64) of n characters. */
static int send_append(struct call *c, const char *b64, size_t n)
{
	static const char head[] = "{\"type\":\"input_audio_buffer.append\","
		"\"audio\":\"";
	char *msg = mem_alloc(sizeof(head) + n + 4, NULL);
	int err;

	if (!msg)
		return ENOMEM;
	memcpy(msg, head, sizeof(head) - 1);
	memcpy(msg + sizeof(head) - 1, b64, n);
	memcpy(msg + sizeof(head) - 1 + n, "\"}", 3);
	err = bt_ws_send_text(c->ws, msg);
	mem_deref(msg);
	return err;
}

static int send_frame(struct call *c, uint64_t t)
{
	int16_t pcm[FRAME];
	char b64[FRAME * 2 * 4 / 3 + 8];
	size_t blen = sizeof(b64);
	int err;

	memset(pcm, 0, sizeof(pcm));
	while (c->playing < 0 && c->cur < c->caller->n_turns) {
		const struct cturn *ct = &c->caller->turns[c->cur];
		const struct turn24 *tt = &c->t24[c->cur];

		if (!turn_due(c, ct, t))
			break;
		if (!caller_turn_wanted(ct, c->heard, c->quiet, t)) {
			++c->cur;
			continue;
		}
		c->playing = (int64_t)c->cur++;
		c->pos = 0;
		if (tt->speech_end >= 0)
			c->spoken_end = -1;
		if (ct->backchannel && agent_speaking(c, t))
			c->bc_pending = true;
		caller_print(c->quiet, t, "caller: %s%s", ct->label,
			 ct->backchannel ? "  (backchannel)" : "");
		c->heard[0] = '\0';
		break;
	}
	if (c->playing >= 0) {
		const struct turn24 *tt = &c->t24[c->playing];
		size_t k = tt->n - c->pos;

		if (k > FRAME)
			k = FRAME;
		if (tt->pcm)
			memcpy(pcm, tt->pcm + c->pos, k * sizeof(int16_t));
		else
			memset(pcm, 0, k * sizeof(int16_t));
		/* the frame that carries the last speech sample */
		if (tt->speech_end >= (int64_t)c->pos &&
		    tt->speech_end < (int64_t)(c->pos + FRAME))
			c->spoken_end = (int64_t)t + (tt->speech_end -
				(int64_t)c->pos) * 1000 / RATE;
		c->pos += k;
		if (c->pos >= tt->n) {
			c->prev_end = t + BT_FRAME_MS;
			c->prev_silence = c->caller->turns[c->playing].silence;
			c->playing = -1;
		}
	}
	/* audio/pcm is little-endian, as the host is */
	err = base64_encode((const uint8_t *)pcm, sizeof(pcm), b64, &blen);
	if (err)
		return err;
	return send_append(c, b64, blen);
}

static void frame_tick(void *arg)
{
	struct call *c = arg;
	uint64_t now = call_now_ms(c);
	unsigned n = 0;
	int err;

	/* every frame that is due: deadlines are t0 + k * 20 ms */
	while (c->frames * BT_FRAME_MS <= now && n < CATCHUP_FRAMES &&
	       !c->finished) {
		err = send_frame(c, c->frames * BT_FRAME_MS);
		if (err) {
			call_finish(c, 1, "cannot send audio: %s", strerror(err));
			return;
		}
		++c->frames;
		++n;
	}
	if ((c->frames + CATCHUP_FRAMES) * BT_FRAME_MS < now)
		c->frames = now / BT_FRAME_MS;  /* too far behind: skip */
	caller_done_check(c, now);
	if (c->finished)
		return;
	now = call_now_ms(c);
	tmr_start(&c->tmr_frame, c->frames * BT_FRAME_MS > now ?
		  c->frames * BT_FRAME_MS - now : 0, frame_tick, c);
}

/* ---- connecting ---- */

/*
 * The first PRIME_FRAMES of the line (silence, the agent speaks first) in
 * one append. A 20 ms first append comes out of the server's 24 -> 16 kHz
 * resampler as no samples at all, which banter serve's sanitizer build
 * aborts on (fifo_put copies 0 samples to a NULL fifo); it also gives the
 * server's input a little lead over the network's jitter.
 */
static int send_prime(struct call *c)
{
	static const int16_t zero[FRAME * PRIME_FRAMES];
	char b64[sizeof(zero) * 4 / 3 + 8];
	size_t blen = sizeof(b64);
	int err;

	err = base64_encode((const uint8_t *)zero, sizeof(zero), b64, &blen);
	if (err)
		return err;
	err = send_append(c, b64, blen);
	if (!err)
		c->frames = PRIME_FRAMES;
	return err;
}

static void ws_estab(void *arg)
{
	struct call *c = arg;
	char upd[300];
	int err;

	c->t0 = tmr_jiffies();
	c->open = true;
	snprintf(upd, sizeof(upd),
		"{\"type\":\"session.update\",\"session\":{\"type\":"
		"\"realtime\",\"audio\":{\"input\":{\"format\":{\"type\":"
		"\"audio/pcm\",\"rate\":%u}},\"output\":{\"format\":{"
		"\"type\":\"audio/pcm\",\"rate\":%u}}}}}", RATE, RATE);
	err = bt_ws_send_text(c->ws, upd);
	if (!err)
		err = send_prime(c);
	if (err) {
		call_finish(c, 1, "cannot start the call: %s", strerror(err));
		return;
	}
	tmr_start(&c->tmr_frame, c->frames * BT_FRAME_MS, frame_tick, c);
}

static void ws_close(int err, uint16_t code, const char *msg, void *arg)
{
	struct call *c = arg;
	bool was_open = c->open;

	c->open = false;
	if (c->finished) {
		/* the answer to our close frame */
		re_cancel();
		return;
	}
	if (!was_open && !c->t0) {
		/* never connected: msg names the refusal (HTTP 401 ...) */
		call_finish(c, 1, "%s%s", msg, err == EPROTO && code == 401 ?
			    (c->key ? " (check --key)" :
			     " (the server wants --key)") : "");
		return;
	}
	c->finished = true;
	tmr_cancel(&c->tmr_frame);
	tmr_cancel(&c->tmr_max);
	if (err) {
		c->rc = 1;
		snprintf(c->why, sizeof(c->why), "the connection was lost: %s",
			 msg);
	}
	else if (!c->session_seen && !c->n_resp) {
		c->rc = 1;
		snprintf(c->why, sizeof(c->why), "the server closed the "
			 "connection before the call began");
	}
	else {
		c->rc = 0;
		snprintf(c->why, sizeof(c->why), "completed");
		caller_print(c->quiet, call_now_ms(c), "-- call ended (the server hung up)");
	}
	re_cancel();
}

static void max_timeout(void *arg)
{
	struct call *c = arg;

	caller_print(c->quiet, call_now_ms(c), "-- timeout");
	call_finish(c, 1, "timeout: the call did not end within %llu s "
	       "(--max-s)", (unsigned long long)(c->max_ms / 1000));
}

static struct call *sig_call;

static void on_signal(int sig)
{
	if (!sig_call || sig_call->finished) {
		re_cancel();
		return;
	}
	call_finish(sig_call, 1, "interrupted (signal %d)", sig);
}

/*
 * ws[s]://HOST[:PORT][/PATH], the path /v1/realtime when there is none.
 * For ws://, HOST is made numeric here (the event loop's resolver asks
 * the DNS only, which does not know the names in /etc/hosts); wss://
 * keeps its name, which the server's certificate must carry.
 */
static int make_uri(struct call *c)
{
	const char *p = c->url, *host, *end, *rest;
	char name[256], ip[INET_ADDRSTRLEN];
	struct addrinfo hints, *ai = NULL;
	size_t scheme;
	bool tls;
	int e;

	if (!strncmp(p, "ws://", 5))
		scheme = 5;
	else if (!strncmp(p, "wss://", 6))
		scheme = 6;
	else
		return bt_err(EINVAL, "%s: the URL must start with ws:// or "
			      "wss://, e.g. ws://127.0.0.1:8080/v1/realtime",
			      p);
	tls = scheme == 6;
	host = p + scheme;
	end = host[0] == '[' ? strchr(host, ']') : host + strcspn(host, ":/?");
	if (!end || end == host || (size_t)(end - host) >= sizeof(name))
		return bt_err(EINVAL, "%s: no host name", p);
	if (host[0] == '[')
		++end;
	rest = end;
	if (*rest == ':')
		rest += 1 + strspn(rest + 1, "0123456789");
	if (*rest && *rest != '/' && *rest != '?')
		return bt_err(EINVAL, "%s: the port must be a number", p);
	snprintf(name, sizeof(name), "%.*s", (int)(end - host), host);
	if (tls || host[0] == '[') {
		snprintf(c->uri, sizeof(c->uri), "%.*s%s%s", (int)(rest - p), p,
			 *rest == '/' ? "" : "/v1/realtime", rest);
		return 0;
	}
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_INET;
	hints.ai_socktype = SOCK_STREAM;
	e = getaddrinfo(name, NULL, &hints, &ai);
	if (e || !ai)
		return bt_err(EADDRNOTAVAIL, "%s: cannot resolve \"%s\": %s",
			      p, name, gai_strerror(e));
	inet_ntop(AF_INET, &((const struct sockaddr_in *)(const void *)
			     ai->ai_addr)->sin_addr, ip, sizeof(ip));
	freeaddrinfo(ai);
	snprintf(c->uri, sizeof(c->uri), "ws://%s%.*s%s%s", ip,
		 (int)(rest - end), end, *rest == '/' ? "" : "/v1/realtime",
		 rest);
	return 0;
}

/* The caller's turns at 24 kHz, and where each one's speech ends. */
static int render24(struct call *c)
{
	struct bt_resampler *rs = NULL;
	int err = 0;

	for (size_t i = 0; i < c->caller->n_turns && !err; i++) {
		const struct cturn *t = &c->caller->turns[i];
		struct turn24 *o = &c->t24[i];
		size_t cap = t->n * RATE / BT_RATE_HZ + 64, got = 0, more = 0;

		o->speech_end = -1;
		if (!t->pcm) {
			/* silence: a count, as in the caller */
			o->n = t->n * RATE / BT_RATE_HZ;
			continue;
		}
		err = bt_resampler_alloc(&rs, BT_RATE_HZ, RATE);
		if (err)
			break;
		o->pcm = mem_alloc((cap + 64) * sizeof(int16_t), NULL);
		if (!o->pcm) {
			err = ENOMEM;
			break;
		}
		if (t->n)
			err = bt_resample(rs, t->pcm, t->n, o->pcm, cap, &got);
		/* what is still inside the filter */
		if (!err)
			err = bt_resample(rs, NULL, 0, o->pcm + got,
					  cap + 64 - got, &more);
		o->n = got + more;
		o->speech_end = caller_last_speech(o->pcm, o->n);
		rs = mem_deref(rs);
	}
	mem_deref(rs);
	return err;
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: banter call ws://HOST:PORT/v1/realtime --caller FILE\n"
		"                   [--key KEY] [--trace events.jsonl]\n"
		"                   [--max-s SECONDS] [--insecure] [--quiet]\n"
		"  A simulated caller (a caller file, see docs/caller-file.md)\n"
		"  calls a Realtime WebSocket server (banter serve, or any\n"
		"  OpenAI-Realtime-compatible one) in real time: audio/pcm at\n"
		"  24 kHz both ways. Prints both sides and each reply's\n"
		"  voice-to-voice latency as measured here (last speech sample\n"
		"  sent -> first agent audio received) next to the server's.\n"
		"  --key KEY    sent as \"Authorization: Bearer KEY\"\n"
		"  --trace F    every server event, one JSON line each\n"
		"  --max-s N    give up after N seconds (default 600)\n"
		"  --insecure   wss://: accept any certificate (banter serve's\n"
		"               self-signed one); otherwise the server's is\n"
		"               checked against the system's roots, or those in\n"
		"               SSL_CERT_FILE\n"
		"  Exit 0 when the call completed (the server hung up, or the\n"
		"  caller's turns are done and the last reply played).\n");
}

static void call_free(struct call *c)
{
	tmr_cancel(&c->tmr_frame);
	tmr_cancel(&c->tmr_max);
	c->ws = mem_deref(c->ws);
	for (size_t i = 0; i < CALLER_MAX_TURNS; i++)
		c->t24[i].pcm = mem_deref(c->t24[i].pcm);
	c->caller = mem_deref(c->caller);
	if (c->trace)
		fclose(c->trace);
	c->trace = NULL;
}

static int connect_ws(struct call *c)
{
	char hdr[600] = "";
	struct bt_ws_prm prm = {
		.url = c->uri,
		.headers = hdr,
		.connect_timeout_ms = 10000,
		.insecure = c->insecure,
	};
	int err;

	if (c->key)
		snprintf(hdr, sizeof(hdr), "Authorization: Bearer %s\r\n",
			 c->key);
	err = bt_ws_connect(&c->ws, &prm, ws_estab, call_ws_recv, ws_close,
			    c);
	if (err)
		return bt_err(err, "cannot connect to %s: %s", c->url,
			      err == EINVAL ? "not a ws:// or wss:// URL" :
			      strerror(err));
	return 0;
}

int cmd_call(int argc, char **argv)
{
	static const struct option opts[] = {
		{"caller", required_argument, NULL, 'c'},
		{"key", required_argument, NULL, 'k'},
		{"trace", required_argument, NULL, 't'},
		{"max-s", required_argument, NULL, 'm'},
		{"quiet", no_argument, NULL, 'q'},
		{"insecure", no_argument, NULL, 'i'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	const char *caller_path = NULL, *trace_path = NULL;
	struct call *c;
	char *endp;
	int ch, err, rc = 1;

	c = calloc(1, sizeof(*c));
	if (!c)
		return 1;
	c->max_ms = 600000;
	c->playing = -1;
	c->spoken_end = -1;
	c->resp_v2v = -1;
	optind = 1;
	while ((ch = getopt_long(argc, argv, "c:k:t:m:qh", opts, NULL)) != -1) {
		switch (ch) {
		case 'c': caller_path = optarg; break;
		case 'k': c->key = optarg; break;
		case 't': trace_path = optarg; break;
		case 'm':
			c->max_ms = strtoull(optarg, &endp, 10) * 1000;
			if (*endp || !c->max_ms) {
				fprintf(stderr, "banter call: --max-s wants a "
					"whole number of seconds, not \"%s\"\n",
					optarg);
				free(c);
				return 2;
			}
			break;
		case 'q': c->quiet = true; break;
		case 'i': c->insecure = true; break;
		case 'h': usage(stdout); free(c); return 0;
		default: usage(stderr); free(c); return 2;
		}
	}
	if (optind + 1 != argc || !caller_path) {
		fprintf(stderr, "banter call: %s\n", optind >= argc ?
			"the server's URL is required" : !caller_path ?
			"--caller is required" : "one URL only");
		usage(stderr);
		free(c);
		return 2;
	}
	c->url = argv[optind];
	if (c->key && (!c->key[0] || strpbrk(c->key, "\r\n") ||
		       strlen(c->key) > 500)) {
		fprintf(stderr, "banter call: --key must be one line, not "
			"empty, at most 500 characters\n");
		free(c);
		return 2;
	}

	err = libre_init();
	if (!err)
		err = bt_init();
	if (err) {
		fprintf(stderr, "banter: cannot start: %s\n", bt_errmsg());
		free(c);
		return 1;
	}
	tmr_init(&c->tmr_frame);
	tmr_init(&c->tmr_max);
	err = make_uri(c);
	if (!err)
		err = caller_load(&c->caller, caller_path);
	if (!err)
		err = render24(c);
	if (err) {
		fprintf(stderr, "banter: %s\n", err == ENOMEM ?
			"out of memory" : bt_errmsg());
		goto out;
	}
	if (trace_path) {
		c->trace = fopen(trace_path, "w");
		if (!c->trace) {
			fprintf(stderr, "banter: cannot write the trace %s: "
				"%s\n", trace_path, strerror(errno));
			goto out;
		}
	}
	if (!c->quiet) {
		printf("banter call: %s, %zu caller turns, real time\n",
		       c->url, c->caller->n_turns);
		fflush(stdout);
	}
	err = connect_ws(c);
	if (err) {
		fprintf(stderr, "banter call: %s\n", bt_errmsg());
		goto out;
	}
	tmr_start(&c->tmr_max, c->max_ms, max_timeout, c);
	sig_call = c;
	(void)re_main(on_signal);
	sig_call = NULL;
	if (!c->finished) {
		c->rc = 1;
		snprintf(c->why, sizeof(c->why), "interrupted");
	}

	if (!c->quiet && c->n_resp) {
		char head[200];

		caller_table_head(head, sizeof(head));
		printf("\nlatency per turn (ms; server's media clock; client: "
		       "last speech sent -> first audio received)\n");
		printf("%s %8s\n", head, "client");
		for (size_t i = 0; i < c->n_rows; i++)
			printf("%s\n", c->rows[i]);
		printf("barge-ins: %u, backchannels ignored: %u\n",
		       c->barge_ins, c->backchannels);
	}
	rc = c->rc;
	if (!rc && c->proto_err[0]) {
		rc = 1;
		snprintf(c->why, sizeof(c->why), "protocol error: the server "
			 "refused an event of this client: %s", c->proto_err);
	}
	if (rc)
		fprintf(stderr, "banter call: %s\n", c->why);
	if (c->trace && fflush(c->trace)) {
		fprintf(stderr, "banter call: cannot write the trace %s\n",
			trace_path);
		rc = 1;
	}
 out:
	call_free(c);
	bt_close();
	libre_close();
	free(c);
	return rc;
}
