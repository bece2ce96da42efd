/*
 * The engine's own cost without speech models: K sessions on the real
 * event loops, each ticked every 20 ms as the Realtime server ticks its
 * calls (src/transport/rt_session.c: push one frame of caller audio, pull
 * one frame of agent audio), with the library's scripted recogniser
 * (src/stt/script.c: "three" after 200 ms of speech, no decoding) and
 * silent voice (src/tts/silent.c: 60 ms of silence per word, with word
 * timings, no synthesis), the energy
 * VAD, the turn manager and the flow brain as they are.
 *   bench_engine [-s SECONDS] [-k 50,100,250,500,1000,2000] [-t LOOPS] [-l]
 * -l: the brain is an LLM ("openai" at $OPENAI_BASE_URL: bench/llm_load.sh
 * starts a local streaming server) instead of the flow; each turn's reply
 * is then also split into the model's share (end of turn -> first token)
 * and the engine's (first token -> first audio out).
 * -c: cloud speech: the recogniser is Deepgram and the voice ElevenLabs
 * (at $DEEPGRAM_BASE_URL and $ELEVENLABS_BASE_URL: bench/cloud_load.sh
 * starts local servers with fixed delays); each reply is then split into
 * end of turn -> the recogniser's final and first text -> first audio out
 * (the voice's first chunk and the engine around it).
 * For each K: CPU per session-second (process CPU / (K x seconds)), the
 * loops' busy share and max lag (bt_loop_max_lag_frames, and how late a
 * frame began within the window), frames run against frames due, whether real time was kept, memory per session,
 * turns answered and their voice-to-voice p50/p95 (the session's trace,
 * which adds the compute time of a frame), and where a frame's time goes
 * (push, pull: clock_gettime around each).
 * Real time is kept when every session ran >= 99.5 % of its frames and
 * no frame of the window began more than 60 ms late.
 */
#include <errno.h>
#include <math.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <banter/banter.h>
#include "net/loop.h"

enum {
	RATE = 16000,
	FRAME = 320,             /* 20 ms at 16 kHz */
	TONE_FRAMES = 50,        /* a turn: 1 s of tone */
	GAP_FRAMES = 15,         /* 300 ms after the agent stops */
	RETRY_FRAMES = 250,      /* no reply 5 s after a turn: talk again */
	WORD_MS = 60,            /* the silent voice's, WORD_MS_S */
	MAX_K = 20000,
	MAX_V2V = 200000,
	MAX_LAG_OK = 3,
};

#define WORD_MS_S "60"

/* A phone agent's loop: greet, ask, thank, ask again. */
static const char agent_json[] =
	"{\"name\": \"engine\","
	" \"persona\": {\"voice\": \"silent:" WORD_MS_S "\"},"
	" \"stt\": {\"provider\": \"script\", \"words\": \"three\","
	"          \"delay_ms\": 200},"
	" \"vad\": {\"provider\": \"energy\"},"
	" \"turn\": {\"end_silence_ms\": 400, \"barge_in_min_ms\": 200,"
	"           \"idle_ms\": 60000},"
	" \"brain\": {\"provider\": \"flow\"},"
	" \"flow\": {\"start\": \"greet\", \"nodes\": {"
	"   \"greet\": {\"say\": \"Hello, thanks for calling Bella's Trattoria.\","
	"              \"next\": \"party\"},"
	"   \"party\": {\"ask\": \"How many people is the table for?\","
	"              \"expect\": {\"type\": \"number\", \"slot\": \"party\","
	"                         \"min\": 1, \"max\": 20},"
	"              \"next\": \"thanks\"},"
	"   \"thanks\": {\"say\": \"Great, a table for {party}.\","
	"              \"next\": \"party\"}}}}";

/* The same loop with an LLM: one short sentence a reply. */
static const char agent_llm_json[] =
	"{\"name\": \"engine-llm\","
	" \"persona\": {\"voice\": \"silent:" WORD_MS_S "\"},"
	" \"stt\": {\"provider\": \"script\", \"words\": \"three\","
	"          \"delay_ms\": 200},"
	" \"vad\": {\"provider\": \"energy\"},"
	" \"turn\": {\"end_silence_ms\": 400, \"barge_in_min_ms\": 200,"
	"           \"idle_ms\": 60000},"
	" \"brain\": {\"provider\": \"openai\", \"model\": \"bench\"},"
	" \"llm\": {\"system\": \"Be brief.\", \"greeting\": \"Hello.\","
	"           \"filler\": false, \"tool_filler\": false,"
	"           \"history_tokens\": 400, \"first_token_timeout_ms\": 10000}}";

/* The flow agent on cloud speech. */
static const char agent_cloud_json[] =
	"{\"name\": \"engine-cloud\","
	" \"persona\": {\"voice\": \"elevenlabs:benchvoice\"},"
	" \"stt\": {\"provider\": \"deepgram\", \"fallback\": [{\"provider\":"
	"          \"script\", \"words\": \"three\"}]},"
	" \"vad\": {\"provider\": \"energy\"},"
	" \"turn\": {\"end_silence_ms\": 400, \"barge_in_min_ms\": 200,"
	"           \"idle_ms\": 60000},"
	" \"brain\": {\"provider\": \"flow\"},"
	" \"flow\": {\"start\": \"greet\", \"nodes\": {"
	"   \"greet\": {\"say\": \"Hello.\", \"next\": \"party\"},"
	"   \"party\": {\"ask\": \"How many?\","
	"              \"expect\": {\"type\": \"number\", \"slot\": \"party\","
	"                         \"min\": 1, \"max\": 20},"
	"              \"next\": \"thanks\"},"
	"   \"thanks\": {\"say\": \"Great, {party}.\","
	"              \"next\": \"party\"}}}}";

/* ---- one simulated call ---- */

enum caller_state { C_WAIT, C_TALK };

struct call {
	struct bt_session *s;
	struct bt_tick tick;
	struct tmr kick;         /* a reply's first frame, as rt_session.c */
	bool kick_due;
	struct bt_loop *loop;
	unsigned idx;
	enum caller_state cs;
	unsigned in_state;       /* frames in this state */
	unsigned quiet;          /* agent-silent frames since its speech */
	bool heard_agent;
	unsigned first_wait;     /* extra frames before the first turn */
	uint64_t frames, speech_out, age;
	uint64_t push_ns, pull_ns;
	unsigned turns, errors;
	int err;
};

static int16_t tone[TONE_FRAMES * FRAME];
static int16_t hiss[TONE_FRAMES * FRAME];
static struct bt_agent *agent;
static const char *db_path;
static atomic_uint n_done;
static atomic_bool measuring;
static atomic_uint n_v2v;
/* -l: per reply, end of turn -> first token, first token -> audio out */
static uint32_t ttft[MAX_V2V], eng[MAX_V2V];
static atomic_uint n_eng;
static bool llm_mode;
static bool cloud_mode;

static long json_ms(const char *js, const char *key)
{
	const char *p = strstr(js, key);

	if (!p)
		return -1;
	p += strlen(key);
	return *p >= '0' && *p <= '9' ? strtol(p, NULL, 10) : -1;
}
static uint32_t v2v[MAX_V2V];

static uint64_t ns_now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

static double cpu_s(void)
{
	struct timespec t;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static double rss_mb(void)
{
	char line[256];
	double v = 0;
	FILE *f = fopen("/proc/self/status", "r");

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f)) {
		if (!strncmp(line, "VmRSS:", 6)) {
			v = atof(line + 6) / 1024.0;
			break;
		}
	}
	fclose(f);
	return v;
}

static void on_event(const struct bt_event *ev, void *arg)
{
	struct call *c = arg;
	const char *p;

	if (ev->type == BT_EV_ERROR) {
		++c->errors;
		return;
	}
	if (ev->type != BT_EV_TURN || !ev->json)
		return;
	p = strstr(ev->json, "\"kind\":\"reply\"");
	if (!p)
		return;
	++c->turns;
	if (cloud_mode) {
		long ep = json_ms(ev->json, "\"endpoint_ms\":");
		long sf = json_ms(ev->json, "\"stt_final_ms\":");
		long ft = json_ms(ev->json, "\"first_text_ms\":");
		long ao = json_ms(ev->json, "\"audio_out_ms\":");

		if (ep >= 0 && sf >= ep && ao >= ft && ft >= 0) {
			unsigned i = atomic_fetch_add(&n_eng, 1);
			if (i < MAX_V2V) {
				ttft[i] = (uint32_t)(sf - ep);
				eng[i] = (uint32_t)(ao - ft);
			}
		}
	}
	else if (llm_mode) {
		long ep = json_ms(ev->json, "\"endpoint_ms\":");
		long ft = json_ms(ev->json, "\"first_text_ms\":");
		long ao = json_ms(ev->json, "\"audio_out_ms\":");

		if (ep >= 0 && ft >= ep && ao >= ft) {
			unsigned i = atomic_fetch_add(&n_eng, 1);
			if (i < MAX_V2V) {
				ttft[i] = (uint32_t)(ft - ep);
				eng[i] = (uint32_t)(ao - ft);
			}
		}
	}
	p = strstr(ev->json, "\"voice_to_voice_ms\":");
	if (p && p[20] >= '0' && p[20] <= '9') {
		unsigned i = atomic_fetch_add(&n_v2v, 1);
		if (i < MAX_V2V)
			v2v[i] = (uint32_t)strtoul(p + 20, NULL, 10);
	}
}

/* One frame of the agent's audio out; true if it held speech. */
static bool pull_out(struct call *c)
{
	int16_t out[FRAME];
	bool speech = false;
	uint64_t t0 = ns_now();

	(void)bt_session_pull(c->s, out, FRAME, &speech);
	c->kick_due = false;
	if (atomic_load_explicit(&measuring, memory_order_relaxed))
		c->pull_ns += ns_now() - t0;
	if (speech) {
		++c->speech_out;
		c->heard_agent = true;
	}
	return speech;
}

/* As rt_session.c's kick(): a reply's first frame out when it comes. */
static void kick(void *arg)
{
	struct call *c = arg;

	if (c->kick_due && c->s && pull_out(c))
		c->quiet = 0;
}

static void on_ready(void *arg)
{
	struct call *c = arg;

	c->kick_due = true;
	tmr_start(&c->kick, 0, kick, c);
}

/* As rt_session.c's tick(): one frame of caller audio in, one out. */
static void tick(void *arg)
{
	struct call *c = arg;
	const int16_t *in;
	uint64_t t0, t1;

	if (c->cs == C_TALK)
		in = tone + (size_t)c->in_state * FRAME;
	else
		in = hiss + (size_t)(c->age % TONE_FRAMES) * FRAME;

	t0 = ns_now();
	(void)bt_session_push(c->s, in, FRAME);
	t1 = ns_now();
	if (atomic_load_explicit(&measuring, memory_order_relaxed)) {
		c->push_ns += t1 - t0;
		++c->frames;
	}
	++c->in_state;
	++c->age;

	/* the caller: talks 1 s when the agent has stopped and 300 ms passed */
	if (pull_out(c))
		c->quiet = 0;
	else
		++c->quiet;
	if (c->cs == C_TALK) {
		if (c->in_state >= TONE_FRAMES) {
			c->cs = C_WAIT;
			c->in_state = 0;
			c->heard_agent = false;
		}
	}
	else if ((c->heard_agent && c->quiet >= GAP_FRAMES + c->first_wait) ||
		 c->in_state >= RETRY_FRAMES) {
		c->cs = C_TALK;
		c->in_state = 0;
		c->first_wait = 0;
	}
}

static void call_open(void *arg)
{
	struct call *c = arg;
	struct bt_session_prm prm;
	char id[32];

	bt_session_prm_default(&prm);
	prm.realtime = true;
	prm.db_path = db_path;
	snprintf(id, sizeof(id), "bench%u", c->idx);
	prm.id = id;
	c->err = bt_session_alloc(&c->s, agent, &prm, on_event, c);
	if (!c->err)
		bt_session_set_ready_handler(c->s, on_ready, c);
	if (!c->err)
		c->err = bt_session_start(c->s);
	if (!c->err)
		bt_loop_tick_add(c->loop, &c->tick, tick, c);
	atomic_fetch_add(&n_done, 1);
}

static void call_close(void *arg)
{
	struct call *c = arg;

	bt_loop_tick_remove(&c->tick);
	tmr_cancel(&c->kick);
	if (c->s) {
		bt_session_set_handler(c->s, NULL, NULL);
		bt_session_set_ready_handler(c->s, NULL, NULL);
	}
	c->s = mem_deref(c->s);
	atomic_fetch_add(&n_done, 1);
}

/* Run h for every call on its loop; at most BATCH calls in flight, so
 * the loops' message pipes never fill. */
static int on_all(struct call *calls, unsigned k, bt_loop_call_h *h)
{
	enum { BATCH = 256 };

	atomic_store(&n_done, 0);
	for (unsigned i = 0; i < k; i++) {
		int err;

		while (i - atomic_load(&n_done) >= BATCH)
			usleep(500);
		err = bt_loop_call(calls[i].loop, h, &calls[i]);
		if (err)
			return bt_err(err, "bt_loop_call: %s", strerror(err));
	}
	while (atomic_load(&n_done) < k)
		usleep(2000);
	return 0;
}

/*
 * A loop's first tick: how late each frame starts, against the best
 * frame of the window (bt_loop_max_lag_frames counts from the loop's
 * start, opening the sessions included).
 */
struct sentinel {
	struct bt_tick tick;
	struct bt_loop *loop;
	uint64_t n;
	int64_t lo, hi;        /* min and max of (start - n x 20 ms), ns */
};
static struct sentinel sentinels[64];

static void sentinel_tick(void *arg)
{
	struct sentinel *t = arg;
	int64_t d;

	if (!atomic_load_explicit(&measuring, memory_order_relaxed))
		return;
	d = (int64_t)ns_now() - (int64_t)(t->n++ * 20000000u);
	if (t->n == 1 || d < t->lo)
		t->lo = d;
	if (t->n == 1 || d > t->hi)
		t->hi = d;
}

static void sentinel_add(void *arg)
{
	struct sentinel *t = arg;

	bt_loop_tick_add(t->loop, &t->tick, sentinel_tick, t);
	atomic_fetch_add(&n_done, 1);
}

static void sentinel_remove(void *arg)
{
	bt_loop_tick_remove(&((struct sentinel *)arg)->tick);
	atomic_fetch_add(&n_done, 1);
}

static void on_loops(bt_loop_call_h *h)
{
	unsigned nl = bt_loops_count();

	atomic_store(&n_done, 0);
	for (unsigned i = 0; i < nl; i++)
		(void)bt_loop_call(bt_loop_at(i), h, &sentinels[i]);
	while (atomic_load(&n_done) < nl)
		usleep(1000);
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return x < y ? -1 : x > y;
}

struct result {
	unsigned k;
	double cpu_ss;          /* CPU s per session-second */
	double busy_max;        /* the busiest loop's share of wall time */
	uint32_t lag;           /* max over loops */
	double late_ms;         /* max over loops: a frame's lateness */
	double late50, late95;  /* max over loops of its ticks' lateness
				   percentiles (bt_loop_late_pct_ms): what
				   anything due on a loop waits */
	double frames_pct;      /* min over sessions: frames run / due */
	bool realtime;
	double mem_kb;          /* per session, after set-up */
	double mem_run_kb;      /* per session, after the run */
	double setup_ms;        /* wall per session to open (on the loops) */
	unsigned turns;
	double turns_per_s;     /* per session */
	uint32_t v50, v95;
	uint32_t t50, t95, e50, e95; /* -l: first token, engine share */
	double push_us, pull_us; /* per frame */
	unsigned errors, failed;
};

static int run_k(unsigned k, unsigned loops, double secs, struct result *r)
{
	struct call *calls = calloc(k, sizeof(*calls));
	double rss0, rss1, rss2, c0, c1;
	uint64_t w0, w1, t0, due;
	uint64_t fmin = UINT64_MAX, push = 0, pull = 0, frames = 0;
	unsigned nv;
	int err;

	memset(r, 0, sizeof(*r));
	r->k = k;
	if (!calls)
		return ENOMEM;
	err = bt_loops_start(loops);
	if (err)
		goto out;
	atomic_store(&n_v2v, 0);
	atomic_store(&n_eng, 0);
	memset(sentinels, 0, sizeof(sentinels));
	for (unsigned i = 0; i < bt_loops_count(); i++)
		sentinels[i].loop = bt_loop_at(i);
	on_loops(sentinel_add);
	rss0 = rss_mb();
	t0 = ns_now();
	for (unsigned i = 0; i < k; i++) {
		calls[i].idx = i;
		calls[i].loop = bt_loop_at(i % bt_loops_count());
		/* spread the first turns over 2 s, so turns do not all
		 * fall on the same frame */
		calls[i].first_wait = (i * 37u) % 100u;
	}
	err = on_all(calls, k, call_open);
	if (err)
		goto stop;
	r->setup_ms = (double)(ns_now() - t0) / 1e6 / k;
	for (unsigned i = 0; i < k; i++) {
		if (calls[i].err) {
			++r->failed;
			if (r->failed == 1)
				fprintf(stderr, "session %u: %s\n", i,
					bt_errmsg());
		}
	}
	rss1 = rss_mb();

	/* the measured window starts once every session ticks */
	c0 = cpu_s();
	w0 = ns_now();
	for (unsigned i = 0; i < bt_loops_count(); i++)
		bt_loop_late_reset(bt_loop_at(i));
	atomic_store(&measuring, true);
	usleep((useconds_t)(secs * 1e6));
	c1 = cpu_s();
	w1 = ns_now();
	atomic_store(&measuring, false);
	err = on_all(calls, k, call_close);
	on_loops(sentinel_remove);
	for (unsigned i = 0; i < bt_loops_count(); i++) {
		double l = (double)(sentinels[i].hi - sentinels[i].lo) / 1e6;

		if (l > r->late_ms)
			r->late_ms = l;
		l = bt_loop_late_pct_ms(bt_loop_at(i), 50);
		if (l > r->late50)
			r->late50 = l;
		l = bt_loop_late_pct_ms(bt_loop_at(i), 95);
		if (l > r->late95)
			r->late95 = l;
	}
	rss2 = rss_mb();
	for (unsigned i = 0; i < bt_loops_count(); i++) {
		uint32_t l = bt_loop_max_lag_frames(bt_loop_at(i));
		if (l > r->lag)
			r->lag = l;
	}

	secs = (double)(w1 - w0) / 1e9;
	due = (uint64_t)(secs * 50.0);
	{
		double busy[64] = {0};
		unsigned nl = bt_loops_count();

		for (unsigned i = 0; i < k; i++) {
			struct call *c = &calls[i];

			if (c->frames < fmin)
				fmin = c->frames;
			push += c->push_ns;
			pull += c->pull_ns;
			frames += c->frames;
			r->turns += c->turns;
			r->errors += c->errors;
			busy[i % nl] += (double)(c->push_ns + c->pull_ns);
		}
		for (unsigned i = 0; i < nl && i < 64; i++)
			if (busy[i] / 1e9 / secs > r->busy_max)
				r->busy_max = busy[i] / 1e9 / secs;
	}
	r->cpu_ss = (c1 - c0) / (k * secs);
	/* a session's frames stop being counted up to one tick late */
	r->frames_pct = due ? 100.0 * (double)fmin / (double)due : 0;
	r->realtime = r->frames_pct >= 99.5 &&
		r->late_ms <= MAX_LAG_OK * 20 && !r->failed;
	r->mem_kb = (rss1 - rss0) * 1024.0 / k;
	r->mem_run_kb = (rss2 - rss0) * 1024.0 / k;
	r->turns_per_s = r->turns / (k * secs);
	r->push_us = frames ? (double)push / frames / 1e3 : 0;
	r->pull_us = frames ? (double)pull / frames / 1e3 : 0;
	nv = atomic_load(&n_v2v);
	if (nv > MAX_V2V)
		nv = MAX_V2V;
	if (nv) {
		qsort(v2v, nv, sizeof(v2v[0]), cmp_u32);
		r->v50 = v2v[(size_t)lround(0.50 * (nv - 1))];
		r->v95 = v2v[(size_t)lround(0.95 * (nv - 1))];
	}
	nv = atomic_load(&n_eng);
	if (nv > MAX_V2V)
		nv = MAX_V2V;
	if (nv) {
		qsort(ttft, nv, sizeof(ttft[0]), cmp_u32);
		qsort(eng, nv, sizeof(eng[0]), cmp_u32);
		r->t50 = ttft[(size_t)lround(0.50 * (nv - 1))];
		r->t95 = ttft[(size_t)lround(0.95 * (nv - 1))];
		r->e50 = eng[(size_t)lround(0.50 * (nv - 1))];
		r->e95 = eng[(size_t)lround(0.95 * (nv - 1))];
	}
 stop:
	bt_loops_stop();
 out:
	free(calls);
	return err;
}

static void make_audio(void)
{
	uint32_t seed = 12345;

	/* a voiced "vowel": 140 Hz and four harmonics, about -10 dBFS */
	for (size_t i = 0; i < sizeof(tone) / sizeof(tone[0]); i++) {
		double t = (double)i / RATE, v = 0;

		for (int h = 1; h <= 5; h++)
			v += sin(2 * M_PI * 140.0 * h * t) / h;
		tone[i] = (int16_t)(v * 6000.0);
	}
	/* the line's noise between turns, about -65 dBFS */
	for (size_t i = 0; i < sizeof(hiss) / sizeof(hiss[0]); i++) {
		seed = seed * 1664525u + 1013904223u;
		hiss[i] = (int16_t)((int)(seed >> 24) - 128) / 8;
	}
}

static void usage(void)
{
	fprintf(stderr, "usage: bench_engine [-s SECONDS] "
		"[-k 50,100,250,500,1000,2000] [-t LOOPS] [-l | -c]\n");
}

int main(int argc, char **argv)
{
	const char *ks = "50,100,250,500,1000,2000";
	double secs = 10;
	unsigned loops = 0, best = 0;
	char dbt[] = "/tmp/bench_engine_XXXXXX";
	char db[64];
	struct result res[32];
	unsigned nres = 0;
	int opt, err, fd;
	long cores = sysconf(_SC_NPROCESSORS_ONLN);
	double load[3] = {0};

	while ((opt = getopt(argc, argv, "s:k:t:lch")) != -1) {
		switch (opt) {
		case 'l': llm_mode = true; break;
		case 'c': cloud_mode = true; break;
		case 's': secs = atof(optarg); break;
		case 'k': ks = optarg; break;
		case 't': loops = (unsigned)atoi(optarg); break;
		default: usage(); return 2;
		}
	}
	if (secs <= 0) {
		usage();
		return 2;
	}
	fd = mkstemp(dbt);
	if (fd >= 0)
		close(fd);
	snprintf(db, sizeof(db), "%s.db", dbt);
	db_path = db;

	err = libre_init();
	if (!err)
		err = bt_init();
	if (err) {
		fprintf(stderr, "init: %s\n", bt_errmsg());
		return 1;
	}
	err = bt_agent_load_str(&agent, cloud_mode ? agent_cloud_json :
				llm_mode ? agent_llm_json : agent_json,
				"bench-engine-agent");
	if (err) {
		fprintf(stderr, "agent: %s\n", bt_errmsg());
		return 1;
	}
	make_audio();
	if (getloadavg(load, 3) < 0)
		load[0] = load[1] = load[2] = -1;
	printf("bench_engine: %ld cores, %u loops, %.0f s per K; "
	       "load average %.2f %.2f %.2f\n", cores,
	       loops ? loops : (unsigned)cores, secs, load[0], load[1],
	       load[2]);
	if (cloud_mode)
		printf("Deepgram recogniser and ElevenLabs voice over "
		       "WebSockets (local servers), energy VAD,\nflow brain; "
		       "each caller says 1 s of tone 300 ms after the agent "
		       "stops, as\nrt_session.c ticks its calls.\n\n");
	else
	printf("scripted recogniser, silent voice (%d ms/word), energy VAD, "
	       "%s brain; each caller\nsays 1 s of tone 300 ms after the "
	       "agent stops, as rt_session.c ticks its calls.\n\n", WORD_MS,
	       llm_mode ? "LLM (streamed over HTTP)" : "flow");
	printf("%6s %7s %5s %4s %6s %7s %3s %7s %7s %6s %6s %6s %5s %5s %6s %6s\n",
	       "K", "CPU/ss", "busy", "lag", "late", "frames", "RT", "KB/ses",
	       "KB/run", "setup", "turns", "/s", "p50", "p95", "push", "pull");
	printf("%6s %7s %5s %4s %6s %7s %3s %7s %7s %6s %6s %6s %5s %5s %6s %6s\n",
	       "", "ms", "max", "", "ms", "min %", "", "", "", "ms", "", "sess",
	       "ms", "ms", "us", "us");
	for (const char *p = ks; *p && nres < 32;) {
		unsigned k = (unsigned)strtoul(p, NULL, 10);
		struct result *r = &res[nres];

		p += strcspn(p, ",");
		if (*p == ',')
			++p;
		if (!k || k > MAX_K)
			continue;
		err = run_k(k, loops, secs, r);
		if (err) {
			fprintf(stderr, "K=%u: %s\n", k, bt_errmsg());
			break;
		}
		++nres;
		if (r->realtime && k > best)
			best = k;
		printf("%6u %7.3f %4.0f%% %4u %6.1f %7.1f %3s %7.0f %7.0f %6.3f "
		       "%6u %6.3f %5u %5u %6.1f %6.1f\n", k, r->cpu_ss * 1e3,
		       r->busy_max * 100, r->lag, r->late_ms, r->frames_pct,
		       r->realtime ? "yes" : "NO", r->mem_kb, r->mem_run_kb,
		       r->setup_ms, r->turns, r->turns_per_s, r->v50, r->v95,
		       r->push_us, r->pull_us);
		printf("       ticks late p50 %.0f p95 %.0f ms (the loops' own "
		       "delay to anything due on them, busiest loop)\n",
		       r->late50, r->late95);
		if (cloud_mode)
			printf("       cloud: end of turn -> recogniser's final "
			       "p50 %u p95 %u ms; first text -> first audio "
			       "out p50 %u p95 %u ms\n", r->t50, r->t95,
			       r->e50, r->e95);
		else if (llm_mode)
			printf("       LLM: end of turn -> first token p50 %u "
			       "p95 %u ms; first token -> first audio out "
			       "(engine) p50 %u p95 %u ms\n", r->t50, r->t95,
			       r->e50, r->e95);
		if (r->errors || r->failed)
			printf("       (%u session errors, %u sessions failed "
			       "to open)\n", r->errors, r->failed);
		fflush(stdout);
	}
	if (getloadavg(load, 3) < 0)
		load[0] = -1;
	printf("\nCPU/ss: process CPU ms per session-second; busy: the "
	       "busiest loop's push+pull time\nover wall time; lag: "
	       "bt_loop_max_lag_frames, the most frames a loop ran in one\n"
	       "timer since it started, opening the sessions included (1: on "
	       "time); late: how much\nlater than its best a frame began in "
	       "the window; frames: the fewest frames a\nsession ran, of "
	       "those due; RT: frames >= 99.5 %% and late <= %d ms;\n"
	       "KB/ses: RSS per session once open, "
	       "KB/run: after the run;\nsetup: wall ms per session to open "
	       "(on the loops); turns: replies, /s per session;\np50/p95: "
	       "voice-to-voice in the sessions' trace; push/pull: mean us "
	       "per frame.\n", MAX_LAG_OK * 20);
	printf("largest K that kept real time: %u%s (target: 500 on 2 cores); "
	       "load average after: %.2f\n", best,
	       nres && best == res[nres - 1].k ? ", the largest tried (-k for "
	       "more)" : "", load[0]);
	if (nres) {
		struct result *r = &res[nres - 1];
		double cap = r->cpu_ss > 0 ? (double)cores / r->cpu_ss : 0;
		printf("at K=%u: %.2f%% of a core per session -> ~%.0f sessions "
		       "on %ld cores if CPU were the only limit\n", r->k,
		       r->cpu_ss * 100, cap, cores);
	}
	agent = mem_deref(agent);
	bt_close();
	libre_close();
	unlink(db);
	unlink(dbt);
	return 0;
}
