/**
 * @file simulate.c  `banter simulate`: a simulated caller talks to an agent.
 *
 * The caller file's turns are rendered to audio before the call (so a bad
 * WAV or voice is reported before anything starts), then the call runs
 * frame by frame through the public session API: on a virtual clock by
 * default, or paced by the wall clock with --realtime.
 */
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <re.h>
#include "banter/banter.h"
#include "net/http.h"
#include "net/ws.h"
#include "app.h"
#include "caller.h"

struct sim {
	FILE *trace;
	bool quiet;
	struct caller *caller;
	struct bt_session *sess;
	uint64_t now;
	/* what the caller observes of the agent */
	uint64_t speak_start, last_stop;
	enum bt_state state;
	char heard[CALLER_HEARD_MAX]; /* the agent's words since the
					 caller's last turn */
	bool ended;
	char end_reason[64];
	/* the latency table */
	char rows[CALLER_MAX_TURNS * 2][200];
	size_t n_rows, n_dropped;
	unsigned barge_ins, backchannels;
	/* voice-to-voice as the caller hears it: its last speech sample ->
	 * the first agent audio of a reply begun after it (the measure that
	 * `banter call` and the Realtime clients take over a network) */
	int64_t heard_from_ms;   /* -1: no turn waits for an answer */
	size_t heard_turn;
	int64_t heard_v2v[CALLER_MAX_TURNS];
};

/* Where the last speech sample of a caller turn is, in ms into it. */
static uint64_t last_speech_ms(const struct cturn *t)
{
	int64_t last = caller_last_speech(t->pcm, t->n);

	return last > 0 ? (uint64_t)last * 1000 / BT_RATE_HZ : 0;
}

static uint64_t wall_ms(const struct timespec *t0)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)(t.tv_sec - t0->tv_sec) * 1000 +
	       (uint64_t)((t.tv_nsec - t0->tv_nsec) / 1000000L);
}

static int write_json(const struct sim *sm, const char *path)
{
	json_t *a = json_array();
	int err = 0;

	for (size_t i = 0; i < sm->caller->n_turns; i++) {
		const struct cturn *t = &sm->caller->turns[i];
		json_t *o;

		if (t->silence || t->backchannel)
			continue;
		o = json_object();
		json_object_set_new(o, "turn", json_integer((json_int_t)i + 1));
		json_object_set_new(o, "said", json_string(t->label));
		json_object_set_new(o, "v2v_client_ms", sm->heard_v2v[i] >= 0 ?
				    json_integer(sm->heard_v2v[i]) :
				    json_null());
		json_array_append_new(a, o);
	}
	if (json_dump_file(a, path, JSON_COMPACT)) {
		fprintf(stderr, "banter: cannot write %s\n", path);
		err = EIO;
	}
	json_decref(a);
	return err;
}


static void add_row(struct sim *sm, const char *json)
{
	json_t *o = json_loads(json, 0, NULL);

	if (!o)
		return;
	if (sm->n_rows >= sizeof(sm->rows) / sizeof(sm->rows[0]))
		++sm->n_dropped;
	else if (caller_table_row(sm->rows[sm->n_rows], sizeof(sm->rows[0]),
				  o, NULL))
		++sm->n_rows;
	json_decref(o);
}

static void on_event(const struct bt_event *ev, void *arg)
{
	struct sim *sm = arg;

	if (sm->trace) {
		fputs(ev->json, sm->trace);
		fputc('\n', sm->trace);
	}
	switch (ev->type) {
	case BT_EV_STATE:
		if (!strcmp(ev->text, "speaking"))
			sm->speak_start = sm->now;
		if (sm->state == BT_ST_SPEAKING)
			sm->last_stop = sm->now;
		sm->state = bt_session_state(sm->sess);
		break;
	case BT_EV_USER: {
		json_t *o = json_loads(ev->json, 0, NULL);
		caller_print(sm->quiet, ev->t_ms, "  agent heard: \"%s\" (confidence %.2f)",
			 ev->text, json_real_value(json_object_get(
					   o, "confidence")));
		json_decref(o);
		break;
	}
	case BT_EV_AGENT:
		caller_print(sm->quiet, ev->t_ms, "agent:  %s", ev->text);
		caller_heard_add(sm->heard, ev->text);
		break;
	case BT_EV_BARGE_IN:
		++sm->barge_ins;
		caller_print(sm->quiet, ev->t_ms, "  -- barge-in: the agent stopped; the "
			 "caller heard \"%s\"", ev->text);
		break;
	case BT_EV_BACKCHANNEL:
		++sm->backchannels;
		caller_print(sm->quiet, ev->t_ms, "  -- backchannel \"%s\": the agent "
			 "goes on", ev->text);
		break;
	case BT_EV_TOOL:
		caller_print(sm->quiet, ev->t_ms, "  [tool] %s", ev->json);
		break;
	case BT_EV_TRANSFER:
		caller_print(sm->quiet, ev->t_ms, "  [transfer] %s", ev->json);
		break;
	case BT_EV_RECORDING:
		caller_print(sm->quiet, ev->t_ms, "  [recording] %s", ev->json);
		break;
	case BT_EV_ERROR:
		caller_print(sm->quiet, ev->t_ms, "  !! %s", ev->text);
		break;
	case BT_EV_TURN:
		add_row(sm, ev->json);
		break;
	case BT_EV_ENDED:
		sm->ended = true;
		snprintf(sm->end_reason, sizeof(sm->end_reason), "%s",
			 ev->text);
		caller_print(sm->quiet, ev->t_ms, "-- call ended (%s)", ev->text);
		break;
	default:
		break;
	}
}

/* --can-transfer: the simulated line takes the caller at once, as a
 * PBX that accepts a REFER and reports the target answered. */
static void sim_transfer(struct bt_session *s, const char *to, void *arg)
{
	struct sim *sm = arg;

	caller_print(sm->quiet, bt_session_now_ms(s), "  -- the line "
		     "transfers the caller "
		     "to %s", to);
	bt_session_transfer_done(s, 0, NULL);
}

static void sleep_until(const struct timespec *t0, uint64_t ms);

/*
 * A network brain answers in wall time, whatever the clock: while a
 * request (or its timer) is pending, the virtual clock runs no faster
 * than the wall clock, so its latency counts as it would on a call, and
 * compute stays free. In real time the wait for the next frame is spent
 * serving the requests instead of sleeping.
 */
struct netsync {
	bool anchored;
	uint64_t wall0, virt0;
};

static void net_wait(struct netsync *ns, const struct timespec *t0,
		     uint64_t now, bool realtime, bool thinking)
{
	uint64_t target;

	if (realtime) {
		while (wall_ms(t0) < now && (bt_http_active() || bt_ws_active() || thinking))
			if (!bt_http_pump((uint32_t)(now - wall_ms(t0))))
				break;
		sleep_until(t0, now);
		return;
	}
	if (!bt_http_active() && !bt_ws_active() && !thinking) {
		ns->anchored = false;
		return;
	}
	if (!ns->anchored) {
		ns->anchored = true;
		ns->wall0 = wall_ms(t0);
		ns->virt0 = now;
	}
	target = ns->wall0 + (now - ns->virt0);
	while (wall_ms(t0) < target)
		if (!bt_http_pump((uint32_t)(target - wall_ms(t0))))
			break;
}

static void sleep_until(const struct timespec *t0, uint64_t ms)
{
	struct timespec t = *t0;

	t.tv_sec += (time_t)(ms / 1000);
	t.tv_nsec += (long)(ms % 1000) * 1000000L;
	if (t.tv_nsec >= 1000000000L) {
		t.tv_sec++;
		t.tv_nsec -= 1000000000L;
	}
	clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &t, NULL);
}

static void usage(void)
{
	fprintf(stderr,
		"usage: banter simulate --agent FILE --caller FILE [--out call.wav]\n"
		"                       [--trace trace.jsonl] [--db FILE] [--realtime]\n"
		"                       [--max-s SECONDS] [--quiet] [--json turns.json]\n"
		"                       [--echo-db DB [--echo-delay-ms MS] [--no-aec]]\n"
		"                       [--caller-id ID] [--can-transfer]\n"
		"  --caller-id names the caller: an LLM agent remembers earlier\n"
		"  calls by it (banter forget ID removes them).\n"
		"  --echo-db -20 leaks the agent's voice into the caller's microphone\n"
		"  (a speakerphone); the session's echo canceller removes it unless\n"
		"  --no-aec.\n"
		"  --can-transfer: the simulated line takes a transfer the agent\n"
		"  asks for (as a SIP line would); without it a transfer is not\n"
		"  possible, and the agent is told so.\n"
		"  --json writes each caller turn's voice-to-voice as the caller\n"
		"  hears it (its last speech sample -> the reply's first audio).\n");
}

int cmd_simulate(int argc, char **argv)
{
	static const struct option opts[] = {
		{"agent", required_argument, NULL, 'a'},
		{"caller", required_argument, NULL, 'c'},
		{"out", required_argument, NULL, 'o'},
		{"trace", required_argument, NULL, 't'},
		{"db", required_argument, NULL, 'd'},
		{"realtime", no_argument, NULL, 'r'},
		{"json", required_argument, NULL, 'j'},
		{"max-s", required_argument, NULL, 'm'},
		{"quiet", no_argument, NULL, 'q'},
		{"echo-db", required_argument, NULL, 'e'},
		{"echo-delay-ms", required_argument, NULL, 'E'},
		{"no-aec", no_argument, NULL, 'n'},
		{"caller-id", required_argument, NULL, 'C'},
		{"can-transfer", no_argument, NULL, 'T'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	const char *agent_path = NULL, *caller_path = NULL, *out_path = NULL;
	const char *trace_path = NULL, *json_path = NULL;
	struct bt_session_prm prm;
	struct bt_agent *agent = NULL;
	struct bt_wav_writer *wav = NULL;
	struct sim *sm;
	struct timespec t0;
	struct netsync ns = {false, 0, 0};
	uint64_t max_ms = 600000;
	size_t cur = 0, pos = 0;
	int64_t playing = -1;
	uint64_t prev_end = 0;
	bool prev_silence = false;
	/* a speakerphone: the agent's voice leaks into the caller's mic */
	double echo_gain = 0;
	uint32_t echo_delay_ms = 80;
	bool no_aec = false;
	bool can_transfer = false;
	int16_t echo_line[BT_RATE_HZ]; /* one second of agent audio */
	size_t echo_pos = 0;
	int c, err, rc = 1;

	sm = calloc(1, sizeof(*sm));
	if (!sm)
		return 1;
	bt_session_prm_default(&prm);
	optind = 1;
	memset(echo_line, 0, sizeof(echo_line));
	sm->heard_from_ms = -1;
	for (size_t i = 0; i < CALLER_MAX_TURNS; i++)
		sm->heard_v2v[i] = -1;
	while ((c = getopt_long(argc, argv, "a:c:o:t:d:rm:qhe:E:nj:C:T", opts, NULL))
	       != -1) {
		switch (c) {
		case 'a': agent_path = optarg; break;
		case 'c': caller_path = optarg; break;
		case 'o': out_path = optarg; break;
		case 't': trace_path = optarg; break;
		case 'd': prm.db_path = optarg; break;
		case 'C': prm.caller_id = optarg; break;
		case 'r': prm.realtime = true; break;
		case 'j': json_path = optarg; break;
		case 'm': {
			char *end;
			unsigned long long v = strtoull(optarg, &end, 10);

			if (!isdigit((unsigned char)optarg[0]) || *end || !v ||
			    v > 86400ULL * 365) {
				fprintf(stderr, "banter simulate: --max-s takes "
					"a whole number of seconds, 1 or more "
					"(got \"%s\")\n", optarg);
				free(sm);
				return 2;
			}
			max_ms = v * 1000;
			break;
		}
		case 'q': sm->quiet = true; break;
		case 'e': {
			char *end;
			double db = strtod(optarg, &end);

			if (end == optarg || *end || !(db >= -80 && db <= 0)) {
				fprintf(stderr, "banter simulate: --echo-db takes "
					"a level in dB from -80 to 0, e.g. -20 "
					"(got \"%s\")\n", optarg);
				free(sm);
				return 2;
			}
			echo_gain = pow(10.0, db / 20.0);
			break;
		}
		case 'E': {
			char *end;
			unsigned long v = strtoul(optarg, &end, 10);

			if (!isdigit((unsigned char)optarg[0]) || *end ||
			    v > 900) {
				fprintf(stderr, "banter simulate: --echo-delay-ms "
					"takes a whole number of ms, 20 to 900 "
					"(got \"%s\")\n", optarg);
				free(sm);
				return 2;
			}
			echo_delay_ms = (uint32_t)v;
			break;
		}
		case 'n': no_aec = true; break;
		case 'T': can_transfer = true; break;
		case 'h': usage(); free(sm); return 0;
		default: usage(); free(sm); return 2;
		}
	}
	if (!agent_path || !caller_path) {
		fprintf(stderr, "banter simulate: --agent and --caller are "
			"required\n");
		usage();
		free(sm);
		return 2;
	}

	err = bt_init();
	if (!err)
		err = libre_init();
	if (err) {
		fprintf(stderr, "banter: cannot start: %s\n", bt_errmsg());
		free(sm);
		return 1;
	}
	err = bt_agent_load(&agent, agent_path);
	if (err) {
		fprintf(stderr, "banter: %s\n", bt_errmsg());
		goto out;
	}
	err = caller_load(&sm->caller, caller_path);
	if (err) {
		fprintf(stderr, "banter: %s\n", bt_errmsg());
		goto out;
	}
	if (trace_path) {
		sm->trace = fopen(trace_path, "w");
		if (!sm->trace) {
			fprintf(stderr, "banter: cannot write the trace %s: "
				"%s\n", trace_path, strerror(errno));
			goto out;
		}
	}
	if (out_path) {
		err = bt_wav_writer_open(&wav, out_path, BT_RATE_HZ, 2);
		if (err) {
			fprintf(stderr, "banter: %s\n", bt_errmsg());
			goto out;
		}
	}
	if (echo_delay_ms < BT_FRAME_MS || echo_delay_ms > 900) {
		fprintf(stderr, "banter simulate: --echo-delay-ms must be 20 "
			"to 900\n");
		goto out;
	}
	prm.aec = echo_gain > 0 && !no_aec;
	err = bt_session_alloc(&sm->sess, agent, &prm, on_event, sm);
	if (err) {
		fprintf(stderr, "banter: cannot open the session: %s\n",
			bt_errmsg());
		goto out;
	}
	if (can_transfer)
		bt_session_set_transfer(sm->sess, sim_transfer, sm);
	if (!sm->quiet)
		printf("banter simulate: agent \"%s\" (%s), %zu caller turns, "
		       "%s clock\n", bt_agent_name(agent), bt_agent_voice(agent),
		       sm->caller->n_turns, prm.realtime ? "real-time"
							 : "virtual");

	clock_gettime(CLOCK_MONOTONIC, &t0);
	bt_session_start(sm->sess);
	sm->state = bt_session_state(sm->sess);

	while (!sm->ended && sm->now < max_ms) {
		int16_t in[BT_FRAME_SAMPLES], out[BT_FRAME_SAMPLES];
		int16_t st[BT_FRAME_SAMPLES * 2];
		bool speech = false;

		/* the caller decides whether to start its next turn; one
		 * that waits for words the agent did not say is skipped */
		while (playing < 0 && cur < sm->caller->n_turns) {
			struct cturn *t = &sm->caller->turns[cur];
			bool go;

			if (t->barge_after_ms >= 0)
				go = sm->state == BT_ST_SPEAKING &&
				     sm->now >= sm->speak_start +
						(uint64_t)t->barge_after_ms;
			else
				go = sm->state == BT_ST_LISTENING &&
				     (sm->last_stop >= prev_end || prev_silence) &&
				     sm->now >= (sm->last_stop > prev_end
							 ? sm->last_stop
							 : prev_end) + t->gap_ms;
			if (!go)
				break;
			if (!caller_turn_wanted(t, sm->heard, sm->quiet,
						sm->now)) {
				++cur;
				continue;
			}
			sm->heard[0] = '\0';
			if (!t->silence && !t->backchannel) {
				sm->heard_turn = cur;
				sm->heard_from_ms = (int64_t)(sm->now +
					last_speech_ms(t));
			}
			playing = (int64_t)cur++;
			pos = 0;
			caller_print(sm->quiet, sm->now, "caller: %s%s", t->label,
				 t->backchannel ? "  (backchannel)" : "");
			break;
		}
		memset(in, 0, sizeof(in));
		if (playing >= 0) {
			struct cturn *t = &sm->caller->turns[playing];
			size_t k = t->n - pos;
			if (k > BT_FRAME_SAMPLES)
				k = BT_FRAME_SAMPLES;
			if (t->pcm)
				memcpy(in, t->pcm + pos, k * sizeof(int16_t));
			pos += k;
			if (pos >= t->n) {
				prev_end = sm->now + BT_FRAME_MS;
				prev_silence = t->silence;
				playing = -1;
			}
		}

		if (echo_gain > 0) {
			/* what the agent said echo_delay_ms ago, attenuated */
			size_t d = (size_t)echo_delay_ms * BT_RATE_HZ / 1000;
			size_t rd = (echo_pos + BT_RATE_HZ - d) % BT_RATE_HZ;
			for (size_t i = 0; i < BT_FRAME_SAMPLES; i++) {
				double v = in[i] + echo_gain *
					   echo_line[(rd + i) % BT_RATE_HZ];
				in[i] = (int16_t)(v > 32767 ? 32767 :
						  v < -32768 ? -32768 : v);
			}
		}
		/* a filler may play while the answer is on its way */
		net_wait(&ns, &t0, sm->now, prm.realtime,
			 sm->state == BT_ST_THINKING ||
			 bt_session_waiting(sm->sess));
		err = bt_session_push(sm->sess, in, BT_FRAME_SAMPLES);
		if (!err)
			err = bt_session_pull(sm->sess, out, BT_FRAME_SAMPLES,
					      &speech);
		if (err) {
			fprintf(stderr, "banter: %s\n", bt_errmsg());
			break;
		}
		if (speech && sm->heard_from_ms >= 0 &&
		    (int64_t)sm->speak_start > sm->heard_from_ms) {
			/* in real time the frame is out now; in virtual time
			 * at its own start (compute is free) */
			uint64_t at = prm.realtime ? wall_ms(&t0) : sm->now;
			sm->heard_v2v[sm->heard_turn] = (int64_t)at -
							sm->heard_from_ms;
			sm->heard_from_ms = -1;
		}
		for (size_t i = 0; i < BT_FRAME_SAMPLES; i++)
			echo_line[(echo_pos + i) % BT_RATE_HZ] = out[i];
		echo_pos = (echo_pos + BT_FRAME_SAMPLES) % BT_RATE_HZ;
		sm->now += BT_FRAME_MS;
		sm->state = bt_session_state(sm->sess);
		if (wav) {
			for (size_t i = 0; i < BT_FRAME_SAMPLES; i++) {
				st[2 * i] = in[i];
				st[2 * i + 1] = out[i];
			}
			bt_wav_writer_write(wav, st, BT_FRAME_SAMPLES);
		}
	}
	if (!sm->ended)
		bt_session_end(sm->sess, "timeout");

	if (!sm->quiet) {
		char head[200];

		printf("\nlatency per turn (ms; media clock%s)\n",
		       prm.realtime ? ", real time" : ", virtual time");
		caller_table_head(head, sizeof(head));
		printf("%s\n", head);
		for (size_t i = 0; i < sm->n_rows; i++)
			printf("%s\n", sm->rows[i]);
		if (sm->n_dropped)
			printf("(%zu more turns not shown)\n", sm->n_dropped);
		printf("barge-ins: %u, backchannels ignored: %u\n",
		       sm->barge_ins, sm->backchannels);
		printf("voice-to-voice at the caller (ms, last speech sample "
		       "-> first agent audio):");
		for (size_t i = 0; i < sm->caller->n_turns; i++)
			if (sm->heard_v2v[i] >= 0)
				printf(" %lld", (long long)sm->heard_v2v[i]);
		printf("\n");
		if (out_path)
			printf("recording: %s (stereo: caller left, agent "
			       "right)\n", out_path);
	}
	if (json_path && write_json(sm, json_path))
		goto out;
	/* the agent hung up, or handed the caller to a person */
	rc = !strcmp(sm->end_reason, "completed") ||
	     !strcmp(sm->end_reason, "transferred") ? 0 : 1;
	if (rc)
		fprintf(stderr, "banter: the call did not end normally (%s)\n",
			sm->end_reason[0] ? sm->end_reason : "no end");
 out:
	mem_deref(sm->sess);
	{
		/* a tool still running when the call ended: its result is
		 * kept when it comes (its own timeout bounds the wait) */
		struct timespec w0;

		clock_gettime(CLOCK_MONOTONIC, &w0);
		while (bt_brain_llm_late() && wall_ms(&w0) < 120000)
			if (!bt_http_pump(100))
				break;
	}
	if (wav)
		bt_wav_writer_close(wav);
	mem_deref(wav);
	if (sm->trace)
		fclose(sm->trace);
	mem_deref(sm->caller);
	mem_deref(agent);
	bt_close();
	libre_close();
	free(sm);
	return rc;
}
