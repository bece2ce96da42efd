/*
 * Turn-taking benchmark over the generated corpus (bench/corpus): runs the
 * real pipeline (VAD, pocketsphinx, endpointer, flow brain, TTS) on the
 * virtual clock through the public session API, and prints
 *  - premature end-of-turn on pause-containing utterances and the end-of-turn
 *    delay on complete ones (and how many complete ones it cut off at a
 *    comma inside), for adaptive endpointing beside fixed 500 ms and
 *    800 ms silence;
 *  - backchannels that stop the agent, real interruptions that stop it and
 *    how soon after their onset the agent's audio stops;
 *  - self-interruptions on a speakerphone (the agent's voice leaking back at
 *    -20 dB), with and without the echo canceller;
 *  - with --only words (not in the default run): the recogniser alone, its
 *    word error on each item against the corpus text, by condition, voice
 *    and category: what every word-based decision above stands on.
 *   bench_turns CORPUS_DIR [--conditions clean,white10,...] [--all]
 *               [--only endpoint,adaptive,interrupt,echo,words]
 *               [--items pause_003,...]
 *               [--collect FILE]
 *   bench_turns --replay FILE [--waits MIN,BASE,INCOMPLETE,MAX,PROSODY_PCT]
 * --replay re-decides every silence of a --collect run with the real
 * endpointer under other listening waits (the agent file's turn settings),
 * in seconds instead of a run of the pipeline: the partials, prosody and
 * speech onsets are the recorded ones, so the figures are those the
 * pipeline would give as long as ending a turn earlier changes nothing
 * before that moment (it does not: the STT and the VAD do not see waits).
 * BENCH_VERBOSE=1 prints each item's outcome and the endpointer's reason;
 * BENCH_VERBOSE=2 every session event as well.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <banter/banter.h>
#include "brain/slots.h"
#include "turn/endpoint.h"
#include "net/http.h"

enum { MAX_ITEMS = 2048, MAX_SEG = 16 };

struct item {
	char file[128];
	char category[24];
	char cond[24];
	char voice[32];
	char text[256];
	unsigned n_speech;
	uint32_t speech[MAX_SEG][2];
};

static struct item items[MAX_ITEMS];
static const char *id_filter;  /* --items: ids to run, comma separated */
/* --collect FILE: every endpointer decision with the ground truth, turns
 * never ended by it (all waits 2.5 s), for tuning the endpointer offline */
static FILE *collect;
static uint64_t clock_now;  /* the running item's clock, for --collect */
static bool collecting;     /* inside an item's record */
static size_t n_items;
/* --deepgram URL: the recogniser is a server speaking Deepgram's protocol
 * (bench/turns_cloud.sh starts tests/clients/deepgram_mock.mjs, which
 * answers each item with its own words); the run then keeps to the wall
 * clock, since the server answers in wall time */
static const char *dg_url;
static const char *cur_tag;  /* the item a session is opened for */

/* What the event handler saw. */
struct obs {
	unsigned n_barge, n_paused, n_thinking, n_speech_start, n_wait;
	unsigned n_tentative;  /* pauses on an unconfirmed onset */
	uint64_t t_thinking, t_paused;
	bool ended;
	char why[4096];    /* the first USER event: words and endpoint */
};

static void on_event(const struct bt_event *ev, void *arg)
{
	struct obs *o = arg;
	const char *v = getenv("BENCH_VERBOSE");

	if (v && atoi(v) >= 2 && ev->type != BT_EV_WAIT)
		fprintf(stderr, "      %s\n", ev->json);
	switch (ev->type) {
	case BT_EV_BARGE_IN:
		++o->n_barge;
		break;
	case BT_EV_PAUSED:
		if (ev->json && strstr(ev->json, "\"tentative\""))
			++o->n_tentative;
		if (!o->n_paused++)
			o->t_paused = ev->t_ms;
		break;
	case BT_EV_SPEECH_START:
		++o->n_speech_start;
		/* the onset (back-dated) and when the VAD confirmed it: the
		 * silence timer runs until then */
		if (collecting)
			fprintf(collect, "%s{\"type\":\"speech_start\","
				"\"t_ms\":%llu,\"detected_ms\":%llu}",
				o->n_wait++ ? "," : "",
				(unsigned long long)ev->t_ms,
				(unsigned long long)clock_now + BT_FRAME_MS);
		break;
	case BT_EV_STATE:
		if (!strcmp(ev->text, "thinking") && !o->n_thinking++)
			o->t_thinking = ev->t_ms;
		break;
	case BT_EV_ENDED:
		o->ended = true;
		break;
	case BT_EV_WAIT:
		if (getenv("BENCH_VERBOSE"))
			fprintf(stderr, "    %s\n", ev->json);
		if (collecting)
			fprintf(collect, "%s%s", o->n_wait++ ? "," : "",
				ev->json);
		break;
	case BT_EV_USER:
	case BT_EV_BACKCHANNEL:
		if (!o->why[0])
			snprintf(o->why, sizeof(o->why), "%s",
				 ev->json ? ev->json : "");
		break;
	default:
		break;
	}
}

static const char *agent_fmt =
	"{\"name\": \"turn bench\", \"persona\": {\"voice\": \"espeak:en-us+f3\"},%s"
	" \"turn\": {\"endpointing\": \"%s\", \"end_silence_ms\": %u,"
	"  \"idle_ms\": 600000%s},"
	" \"flow\": {\"start\": \"talk\", \"min_confidence\": 0.0,"
	"  \"reprompt\": {\"say\": \"Sorry?\", \"max\": 10, \"fallback\": {\"say\": \"Let us go on.\", \"next\": \"talk\"}},"
	"  \"nodes\": {\"talk\": {\"ask\": \"%s\","
	"  \"expect\": {\"type\": \"%s\", \"slot\": \"answer\"},"
	"  \"next\": \"talk\"}}}}";

struct run {
	struct bt_session *s;
	/* the line's noise: the item's lead before speech, looped, so the
	 * caller's line is noisy all call long as on a real phone line */
	const int16_t *bg;
	size_t bg_n, bg_pos;
	struct obs o;
	double echo_gain;
	int16_t echo[BT_RATE_HZ];
	size_t echo_pos;
	uint64_t now;
	bool last_speech;
	uint64_t wall0;  /* --deepgram: wall ms when now was 0 */
};

static uint64_t wall_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000 + (uint64_t)t.tv_nsec / 1000000;
}

/* Keep the session's clock at the wall's, serving the socket meanwhile. */
static void pace(struct run *r)
{
	uint64_t target = r->wall0 + r->now;

	while (wall_ms() < target) {
		if (!bt_http_pump((uint32_t)(target - wall_ms()))) {
			struct timespec ts = {0, 1000000};
			nanosleep(&ts, NULL);
		}
	}
}

/* One frame through the session; returns whether agent speech came out. */
static bool step(struct run *r, const int16_t *caller)
{
	int16_t in[BT_FRAME_SAMPLES], out[BT_FRAME_SAMPLES];
	bool sp = false;
	size_t d = 80 * BT_RATE_HZ / 1000;

	int16_t bgf[BT_FRAME_SAMPLES];

	if (!caller && r->bg_n >= BT_FRAME_SAMPLES) {
		for (size_t i = 0; i < BT_FRAME_SAMPLES; i++)
			bgf[i] = r->bg[(r->bg_pos + i) % r->bg_n];
		r->bg_pos = (r->bg_pos + BT_FRAME_SAMPLES) % r->bg_n;
		caller = bgf;
	}
	for (size_t i = 0; i < BT_FRAME_SAMPLES; i++) {
		double v = caller ? caller[i] : 0;
		v += r->echo_gain * r->echo[(r->echo_pos + BT_RATE_HZ - d + i) %
					    BT_RATE_HZ];
		in[i] = (int16_t)(v > 32767 ? 32767 : v < -32768 ? -32768 : v);
	}
	bt_session_push(r->s, in, BT_FRAME_SAMPLES);
	bt_session_pull(r->s, out, BT_FRAME_SAMPLES, &sp);
	for (size_t i = 0; i < BT_FRAME_SAMPLES; i++)
		r->echo[(r->echo_pos + i) % BT_RATE_HZ] = out[i];
	r->echo_pos = (r->echo_pos + BT_FRAME_SAMPLES) % BT_RATE_HZ;
	r->now += BT_FRAME_MS;
	clock_now = r->now;
	if (dg_url)
		pace(r);
	r->last_speech = sp;
	return sp;
}

static void wait_listening(struct run *r, unsigned extra_ms)
{
	unsigned guard = 0;

	while (bt_session_state(r->s) != BT_ST_LISTENING && guard++ < 3000)
		step(r, NULL);
	for (unsigned t = 0; t < extra_ms; t += BT_FRAME_MS)
		step(r, NULL);
}

static int load_item_audio(const struct item *it, const char *dir,
			   int16_t **pcm, size_t *n)
{
	char path[1024];
	uint32_t rate;

	snprintf(path, sizeof(path), "%s/%.*s", dir, (int)sizeof(it->file),
		 it->file);
	return bt_wav_read(path, pcm, n, &rate);
}

static int cmp_u(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return (x > y) - (x < y);
}

static uint32_t pct(uint32_t *v, size_t n, double p)
{
	if (!n)
		return 0;
	qsort(v, n, sizeof(*v), cmp_u);
	return v[(size_t)(p * (double)(n - 1) + 0.5)];
}

/*
 * End of turn is measured on a free-text question (the open language
 * model: a grammar forces "a table for" onto a complete answer), the
 * interruptions on a number question like the default agent's.
 */
static const char *expect_type = "text";
static const char *long_ask = "Let me tell you about tonight. We have a "
	"mushroom risotto, a grilled sea bass with lemon and capers, and a "
	"dark chocolate tart for dessert. The wine of the week is a Sicilian "
	"red. What would you like to do?";
/* the question before an end-of-turn item: on the wall clock (--deepgram)
 * a short one, so that the greeting does not take most of the run */
static bool short_ask;

static int open_run(struct run *r, const char *mode, unsigned silence,
		    bool aec, double echo_gain)
{
	char json[3072], stt[256] = "";
	struct bt_agent *a = NULL;
	struct bt_session_prm prm;
	bool flux = !strcmp(mode, "recogniser");
	int err;

	memset(r, 0, sizeof(*r));
	if (dg_url)
		snprintf(stt, sizeof(stt), " \"stt\": {\"provider\": "
			 "\"deepgram\", \"tag\": \"%.64s\"%s},",
			 cur_tag ? cur_tag : "none", flux ?
			 ", \"model\": \"flux-general-en\"" : "");
	snprintf(json, sizeof(json), agent_fmt, stt,
		 collect ? "adaptive" : mode, silence,
		 collect ? ", \"min_wait_ms\": 2500, \"base_wait_ms\": 2500,"
		 " \"incomplete_wait_ms\": 2500, \"max_wait_ms\": 2500" : "",
		 short_ask ? "What would you like?" : long_ask, expect_type);
	err = bt_agent_load_str(&a, json, "bench-agent");
	if (err)
		return err;
	bt_session_prm_default(&prm);
	prm.db_path = "/dev/null";
	prm.aec = aec;
	err = bt_session_alloc(&r->s, a, &prm, on_event, &r->o);
	mem_deref(a);
	if (err)
		return err;
	r->echo_gain = echo_gain;
	r->wall0 = wall_ms();
	bt_session_start(r->s);
	return 0;
}

/* A new caller on a fresh session, the item's line noise around it. */
static int open_caller(struct run *r, const char *mode, unsigned silence,
		       const struct item *it, const int16_t *pcm)
{
	char tag[128];
	int err;

	snprintf(tag, sizeof(tag), "%s", it->file);
	tag[strcspn(tag, ".")] = '\0';
	cur_tag = tag;
	err = open_run(r, mode, silence, false, 0);
	cur_tag = NULL;

	if (err)
		return err;
	r->bg = pcm;
	r->bg_n = (size_t)(it->speech[0][0] > 100 ? it->speech[0][0] - 100 : 0) *
		  (BT_RATE_HZ / 1000);
	return 0;
}

/* End of turn on pause and complete items. */
static int bench_endpoint(const char *dir, const char *mode, unsigned silence)
{
	struct run r = {0};
	unsigned n_pause = 0, n_premature = 0, n_complete = 0, n_missed = 0;
	unsigned n_cut = 0;  /* complete items ended before their end */
	uint32_t delays[MAX_ITEMS];
	size_t nd = 0;
	double sum = 0;
	int err;

	short_ask = dg_url != NULL;
	for (size_t i = 0; i < n_items; i++) {
		const struct item *it = &items[i];
		bool pause = !strcmp(it->category, "pause");
		int16_t *pcm = NULL;
		size_t n = 0;
		uint64_t t0, true_end;

		if (!pause && strcmp(it->category, "complete"))
			continue;
		if (load_item_audio(it, dir, &pcm, &n))
			continue;
		/* each item is a new caller: a fresh session */
		mem_deref(r.s);
		err = open_caller(&r, mode, silence, it, pcm);
		if (err) {
			mem_deref(pcm);
			return err;
		}
		wait_listening(&r, 400);
		memset(&r.o, 0, sizeof(r.o));
		t0 = r.now;
		true_end = t0 + it->speech[it->n_speech - 1][1];
		if (collect) {
			fprintf(collect, "{\"file\":\"%s\",\"category\":\"%s\","
				"\"cond\":\"%s\",\"t0\":%llu,\"speech\":[",
				it->file, it->category, it->cond,
				(unsigned long long)t0);
			for (unsigned k = 0; k < it->n_speech; k++)
				fprintf(collect, "%s[%u,%u]", k ? "," : "",
					it->speech[k][0], it->speech[k][1]);
			fprintf(collect, "],\"waits\":[");
			collecting = true;
		}
		for (size_t pos = 0; pos + BT_FRAME_SAMPLES <= n;
		     pos += BT_FRAME_SAMPLES)
			step(&r, pcm + pos);
		for (unsigned t = 0; t < 4000 && !r.o.n_thinking;
		     t += BT_FRAME_MS)
			step(&r, NULL);
		r.bg = NULL;
		r.bg_n = 0;
		mem_deref(pcm);
		collecting = false;
		if (collect)
			fprintf(collect, "],\"thinking\":%llu}\n",
				(unsigned long long)r.o.t_thinking);

		if (getenv("BENCH_VERBOSE"))
			fprintf(stderr, "%s %s: t0 %llu end %llu thinking %llu "
				"(%+lld)\n", mode, it->file,
				(unsigned long long)t0,
				(unsigned long long)true_end,
				(unsigned long long)r.o.t_thinking,
				(long long)r.o.t_thinking - (long long)true_end);
		if (getenv("BENCH_VERBOSE"))
			fprintf(stderr, "    %s\n", r.o.why);
		if (!r.o.n_thinking) {
			++n_missed;
			continue;
		}
		if (pause) {
			++n_pause;
			if (r.o.t_thinking < true_end)
				++n_premature;
		}
		else if (r.o.t_thinking >= true_end) {
			uint32_t d = (uint32_t)(r.o.t_thinking - true_end);
			++n_complete;
			delays[nd++] = d;
			sum += d;
		}
		else {
			/* ended inside it, at a comma ("no, [pause] just the
			 * two of us"): no delay, but a caller cut off */
			++n_complete;
			++n_cut;
			delays[nd++] = 0;
		}
	}
	short_ask = false;
	printf("  %-17s %6.1f %% (%u/%u)   %7.0f ms   %6u ms   %u   %u/%u\n",
	       !strcmp(mode, "adaptive") ? "adaptive" :
	       !strcmp(mode, "recogniser") ? "recogniser (Flux)" :
	       silence == 500 ? "fixed 500 ms" : "fixed 800 ms",
	       n_pause ? 100.0 * n_premature / n_pause : 0, n_premature,
	       n_pause, nd ? sum / (double)nd : 0, pct(delays, nd, 0.95),
	       n_missed, n_cut, n_complete);
	mem_deref(r.s);
	return 0;
}

/* Backchannels and interruptions said 1 s into the agent's speech. */
static int bench_interrupt(const char *dir)
{
	struct run r;
	unsigned n_bc = 0, n_bc_stop = 0, n_int = 0, n_int_stop = 0;
	unsigned n_early = 0;  /* agent held on line noise before the onset */
	unsigned n_noise_barge = 0; /* ... or stopped by it, in its first
				       second */
	uint32_t lat[MAX_ITEMS];
	size_t nl = 0;
	int err;

	memset(&r, 0, sizeof(r));
	for (size_t i = 0; i < n_items; i++) {
		const struct item *it = &items[i];
		bool bc = !strcmp(it->category, "backchannel");
		int16_t *pcm = NULL;
		size_t n = 0;
		uint64_t onset, stop = 0;
		unsigned spoke = 0;

		if (!bc && strcmp(it->category, "interruption"))
			continue;
		if (load_item_audio(it, dir, &pcm, &n))
			continue;
		/* a new caller; 1 s into the agent's greeting... */
		mem_deref(r.s);
		err = open_caller(&r, "adaptive", 500, it, pcm);
		if (err) {
			mem_deref(pcm);
			return err;
		}
		while (spoke < 50) {
			if (step(&r, NULL))
				++spoke;
		}
		n_noise_barge += r.o.n_barge > 0;
		memset(&r.o, 0, sizeof(r.o));
		onset = r.now + it->speech[0][0];
		for (size_t pos = 0; pos + BT_FRAME_SAMPLES <= n;
		     pos += BT_FRAME_SAMPLES) {
			bool sp = step(&r, pcm + pos);
			if (!sp && !stop && r.now > onset)
				stop = r.now - BT_FRAME_MS;
		}
		for (unsigned t = 0; t < 1500; t += BT_FRAME_MS)
			step(&r, NULL);
		r.bg = NULL;
		r.bg_n = 0;
		mem_deref(pcm);
		/* 100 ms of slack: the VAD back-dates an onset it confirms */
		if (r.o.n_paused && r.o.t_paused + 100 < onset)
			++n_early;
		if (getenv("BENCH_VERBOSE"))
			fprintf(stderr, "%s: barge %u paused %u (first %+lld ms)"
				" stop %+lld ms\n    %s\n", it->file,
				r.o.n_barge, r.o.n_paused, r.o.n_paused ?
				(long long)r.o.t_paused - (long long)onset : 0LL,
				stop ? (long long)stop - (long long)onset : -1LL,
				r.o.why);
		if (bc) {
			++n_bc;
			n_bc_stop += r.o.n_barge > 0;
		}
		else {
			++n_int;
			if (r.o.n_barge) {
				++n_int_stop;
				lat[nl++] = stop > onset ? (uint32_t)(stop - onset)
							 : 0;
			}
		}
	}
	printf("  backchannels that stopped the agent: %5.1f %% (%u/%u)\n",
	       n_bc ? 100.0 * n_bc_stop / n_bc : 0, n_bc_stop, n_bc);
	printf("  interruptions that stopped it:       %5.1f %% (%u/%u)\n",
	       n_int ? 100.0 * n_int_stop / n_int : 0, n_int_stop, n_int);
	printf("  agent audio stopped after the onset: p50 %u ms, p95 %u ms\n",
	       pct(lat, nl, 0.5), pct(lat, nl, 0.95));
	printf("  agent held on line noise before it:  %u of %u items\n",
	       n_early, n_bc + n_int);
	printf("  agent stopped by line noise (its first second): %u of %u\n",
	       n_noise_barge, n_bc + n_int);
	mem_deref(r.s);
	return 0;
}

/* A speakerphone: complete turns while the agent's voice leaks back. */
static int bench_echo(const char *dir, bool aec)
{
	struct run r;
	unsigned self = 0, turns = 0;
	int err;

	err = open_run(&r, "adaptive", 500, aec, 0.1 /* -20 dB */);
	if (err)
		return err;
	for (size_t i = 0; i < n_items && turns < 12; i++) {
		const struct item *it = &items[i];
		int16_t *pcm = NULL;
		size_t n = 0;

		if (strcmp(it->category, "complete") ||
		    strcmp(it->cond, "clean"))
			continue;
		if (load_item_audio(it, dir, &pcm, &n))
			continue;
		/* the agent talks: any pause or barge-in now is its own echo */
		memset(&r.o, 0, sizeof(r.o));
		while (bt_session_state(r.s) != BT_ST_LISTENING &&
		       r.o.n_paused == 0 && r.o.n_barge == 0)
			step(&r, NULL);
		self += (r.o.n_paused || r.o.n_barge) ? 1 : 0;
		if (getenv("BENCH_VERBOSE") && (r.o.n_paused || r.o.n_barge))
			fprintf(stderr, "echo (%s) before %s: paused at %llu, "
				"barge %u, tentative %u\n", aec ? "aec" : "no aec",
				it->file, (unsigned long long)r.o.t_paused,
				r.o.n_barge, r.o.n_tentative);
		wait_listening(&r, 400);
		for (size_t pos = 0; pos + BT_FRAME_SAMPLES <= n;
		     pos += BT_FRAME_SAMPLES)
			step(&r, pcm + pos);
		r.bg = NULL;
		r.bg_n = 0;
		mem_deref(pcm);
		++turns;
	}
	printf("  %-22s %u self-interruptions in %u agent replies\n",
	       aec ? "with echo cancelling:" : "without (baseline):", self,
	       turns);
	mem_deref(r.s);
	return 0;
}

/*
 * --only words: the recogniser alone. Each item through a fresh
 * pocketsphinx instance (an item is a call's first utterance, as in the
 * sections above), open language model, fed in 20 ms frames from 300 ms
 * before the first word to 300 ms after the last with a partial asked
 * after every frame, as the session does; the final transcript is scored
 * against the corpus text. CPU time is the process's around start..finish.
 */
enum { WACC_MAX = 48, SMP_PER_MS = BT_RATE_HZ / 1000 };

struct wacc {
	char name[40];
	unsigned edits, words, right, utts;
	double cpu_s, audio_s;
};

/* The words of text as the slot matcher splits them, less the corpus's
 * "[pause]" marks. */
static void words_of(const char *text, struct slot_toks *t)
{
	size_t k = 0;

	slot_tokenize(t, text);
	for (size_t i = 0; i < t->n; i++)
		if (strcmp(t->v[i], "pause"))
			memmove(t->v[k++], t->v[i], sizeof(t->v[i]));
	t->n = k;
}

static unsigned word_edits(const struct slot_toks *r,
			   const struct slot_toks *h)
{
	unsigned d[SLOT_TOK_MAX + 1], prev[SLOT_TOK_MAX + 1];
	size_t nr = r->n, nh = h->n;

	for (size_t j = 0; j <= nh; j++)
		d[j] = (unsigned)j;
	for (size_t i = 1; i <= nr; i++) {
		memcpy(prev, d, sizeof(d));
		d[0] = (unsigned)i;
		for (size_t j = 1; j <= nh; j++) {
			unsigned sub = prev[j - 1] +
				(strcmp(r->v[i - 1], h->v[j - 1]) != 0);
			unsigned del = prev[j] + 1, ins = d[j - 1] + 1;

			d[j] = sub < del ? (sub < ins ? sub : ins) :
				(del < ins ? del : ins);
		}
	}
	return d[nh];
}

/* The row called name; one row of WACC_MAX is always left free. */
static struct wacc *wacc_get(struct wacc *a, size_t *n, const char *name)
{
	for (size_t i = 0; i < *n; i++)
		if (!strcmp(a[i].name, name))
			return &a[i];
	if (*n + 1 >= WACC_MAX)
		return NULL;
	memset(&a[*n], 0, sizeof(a[*n]));
	snprintf(a[*n].name, sizeof(a[*n].name), "%s", name);
	return &a[(*n)++];
}

static void wacc_add(struct wacc *x, unsigned edits, size_t words,
		     double cpu, size_t samples)
{
	if (!x)
		return;
	x->edits += edits;
	x->words += (unsigned)words;
	x->right += !edits;
	x->utts++;
	x->cpu_s += cpu;
	x->audio_s += (double)samples / BT_RATE_HZ;
}

static void wacc_print(const char *title, const struct wacc *a, size_t n)
{
	printf("  %-18s word error (edits/words)   utterances right   CPU "
	       "x real time\n", title);
	for (size_t i = 0; i < n; i++) {
		char ew[32], ru[24];

		snprintf(ew, sizeof(ew), "(%u/%u)", a[i].edits, a[i].words);
		snprintf(ru, sizeof(ru), "%u/%u", a[i].right, a[i].utts);
		printf("  %-18s %6.1f %% %-14s     %-18s %.2f\n", a[i].name,
		       a[i].words ? 100.0 * a[i].edits / a[i].words : 0, ew,
		       ru, a[i].audio_s > 0 ? a[i].cpu_s / a[i].audio_s : 0);
	}
}

static double cpu_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static int bench_words(const char *dir)
{
	static struct wacc acc[3][WACC_MAX];  /* condition, voice, category */
	struct wacc all = {.name = "all"};
	size_t n_acc[3] = {0, 0, 0};
	const struct bt_stt *p = bt_stt_find("pocketsphinx");

	if (!p)
		return bt_err(ENOENT, "bench_turns: no pocketsphinx provider");
	for (size_t i = 0; i < n_items; i++) {
		const struct item *it = &items[i];
		struct slot_toks r, h;
		struct bt_stt_st *st = NULL;
		struct bt_transcript tr;
		char partial[512];
		int16_t *pcm = NULL;
		size_t n = 0, a, b;
		double t0, t1;
		unsigned e;
		int err;

		if (load_item_audio(it, dir, &pcm, &n))
			continue;
		a = it->speech[0][0] > 300 ?
			(size_t)(it->speech[0][0] - 300) * SMP_PER_MS : 0;
		b = (size_t)(it->speech[it->n_speech - 1][1] + 300) *
			SMP_PER_MS;
		if (b > n)
			b = n;
		err = p->alloch(&st, NULL);
		t0 = cpu_s();
		if (!err)
			err = p->starth(st, NULL, false);
		for (size_t k = a; !err && k + BT_FRAME_SAMPLES <= b;
		     k += BT_FRAME_SAMPLES) {
			err = p->feedh(st, pcm + k, BT_FRAME_SAMPLES);
			p->hyph(st, partial, sizeof(partial));
		}
		memset(&tr, 0, sizeof(tr));
		if (!err)
			err = p->finishh(st, &tr);
		t1 = cpu_s();
		mem_deref(st);
		mem_deref(pcm);
		if (err)
			return err;
		words_of(it->text, &r);
		words_of(tr.text, &h);
		e = word_edits(&r, &h);
		if (getenv("BENCH_VERBOSE"))
			printf("words %s: \"%s\" heard \"%s\" (%u/%zu)\n",
			       it->file, it->text, tr.text, e, r.n);
		wacc_add(wacc_get(acc[0], &n_acc[0], it->cond), e, r.n,
			 t1 - t0, b - a);
		wacc_add(wacc_get(acc[1], &n_acc[1], it->voice), e, r.n,
			 t1 - t0, b - a);
		wacc_add(wacc_get(acc[2], &n_acc[2], it->category), e, r.n,
			 t1 - t0, b - a);
		wacc_add(&all, e, r.n, t1 - t0, b - a);
	}
	acc[0][n_acc[0]++] = all;  /* the last row; wacc_get leaves room */
	wacc_print("condition", acc[0], n_acc[0]);
	wacc_print("voice", acc[1], n_acc[1]);
	wacc_print("category", acc[2], n_acc[2]);
	return 0;
}

/*
 * --replay: each collected item through a fresh endpointer. The turn ends
 * at the first moment the silence since the recorded speech end reaches
 * the wait decided on the recorded partial and prosody, unless the VAD
 * confirmed new speech before that.
 */
struct replay_acc {
	char cond[24];
	unsigned n_pause, n_premature, n_missed;
	uint32_t delays[MAX_ITEMS];
	size_t nd;
	double sum;
};

static int64_t replay_item(const json_t *o, const struct bt_endpoint_prm *prm)
{
	const json_t *evs = json_object_get(o, "waits"), *e;
	struct bt_endpoint *ep = NULL;
	uint64_t speech_end = 0, t_w = 0, wait = 0;
	int64_t ended = -1;
	size_t i;

	if (bt_endpoint_alloc(&ep, prm))
		return -2;
	json_array_foreach(evs, i, e) {
		const char *type = json_string_value(json_object_get(e,
								     "type"));
		bool start = type && !strcmp(type, "speech_start");
		/* the session holds the end while the VAD weighs an onset:
		 * from the onset's first frame, not its confirmation */
		uint64_t t = (uint64_t)json_integer_value(json_object_get(e,
				"t_ms")) + (start ? BT_FRAME_MS : 0);

		if (speech_end && speech_end + wait < t) {
			ended = (int64_t)(speech_end + wait > t_w ?
					  speech_end + wait : t_w);
			break;
		}
		if (start) {
			uint64_t onset = (uint64_t)json_integer_value(
				json_object_get(e, "t_ms"));
			if (speech_end && onset > speech_end)
				bt_endpoint_observe_pause(ep, (uint32_t)(onset -
							       speech_end));
			speech_end = 0;
			continue;
		}
		{
			const char *ctx = json_string_value(json_object_get(
				e, "context"));
			speech_end = (uint64_t)json_integer_value(
				json_object_get(e, "speech_end_ms"));
			t_w = t;
			wait = bt_endpoint_wait_at_ms(ep, json_string_value(
				json_object_get(e, "partial")), BT_SLOT_TEXT,
				(float)json_number_value(json_object_get(
					e, "prosody")),
				ctx && !strcmp(ctx, "speaking") ? BT_EP_SPEAKING :
				ctx && !strcmp(ctx, "thinking") ? BT_EP_THINKING :
				BT_EP_LISTENING, (uint32_t)(t - speech_end));
		}
	}
	if (ended < 0 && speech_end)
		ended = (int64_t)(speech_end + wait > t_w ? speech_end + wait :
				  t_w);
	if (getenv("BENCH_VERBOSE")) {
		const struct bt_endpoint_decision *d = bt_endpoint_last(ep);

		fprintf(stderr, "  %s %s: ended %lld (speech end %lld), last wait %u ms on "
			"\"%s\" (%s, complete %.2f, prosody %.2f)\n",
			json_string_value(json_object_get(o, "file")),
			json_string_value(json_object_get(o, "category")),
			(long long)ended, (long long)(json_integer_value(
				json_object_get(o, "t0")) + json_integer_value(
				json_array_get(json_array_get(json_object_get(o,
				"speech"), json_array_size(json_object_get(o,
				"speech")) - 1), 1))), d->wait_ms,
			d->scored ? d->scored : "", d->rule, d->complete,
			d->prosody);
	}
	mem_deref(ep);
	return ended;
}

static void replay_print(const char *name, struct replay_acc *a)
{
	short_ask = false;
	printf("  %-17s %6.1f %% (%u/%u)   %7.0f ms   %6u ms   %u\n", name,
	       a->n_pause ? 100.0 * a->n_premature / a->n_pause : 0,
	       a->n_premature, a->n_pause, a->nd ? a->sum / (double)a->nd : 0,
	       pct(a->delays, a->nd, 0.95), a->n_missed);
}

static int replay(const char *path, const char *waits)
{
	static struct replay_acc acc[16], all;
	struct bt_endpoint_prm prm;
	size_t n_acc = 0, n = 0;
	char *line = NULL;
	size_t cap = 0;
	FILE *f = fopen(path, "r");

	if (!f) {
		fprintf(stderr, "bench_turns: cannot open %s: %s\n", path,
			strerror(errno));
		return 1;
	}
	bt_endpoint_prm_default(&prm);
	if (waits) {
		struct bt_endpoint_waits *w = &prm.listening;
		if (sscanf(waits, "%u,%u,%u,%u,%u", &w->min_wait_ms,
			   &w->base_wait_ms, &w->incomplete_wait_ms,
			   &w->max_wait_ms, &w->prosody_pct) != 5) {
			fprintf(stderr, "bench_turns: --waits wants five "
				"numbers: min,base,incomplete,max ms and the "
				"prosody weight in percent, e.g. "
				"200,500,1600,2500,45\n");
			fclose(f);
			return 2;
		}
	}
	memset(&all, 0, sizeof(all));
	snprintf(all.cond, sizeof(all.cond), "all");
	while (getline(&line, &cap, f) > 0) {
		json_t *o = json_loads(line, 0, NULL);
		const json_t *sp;
		const char *cat, *cond;
		struct replay_acc *a = NULL;
		uint64_t true_end;
		int64_t ended;
		size_t k;

		if (!o)
			continue;
		cat = json_string_value(json_object_get(o, "category"));
		cond = json_string_value(json_object_get(o, "cond"));
		sp = json_object_get(o, "speech");
		if (!cat || !cond || !json_array_size(sp)) {
			json_decref(o);
			continue;
		}
		true_end = (uint64_t)json_integer_value(json_object_get(o,
								      "t0")) +
			(uint64_t)json_integer_value(json_array_get(
				json_array_get(sp, json_array_size(sp) - 1),
				1));
		ended = replay_item(o, &prm);
		if (ended == -2) {
			fprintf(stderr, "bench_turns: %s\n", bt_errmsg());
			json_decref(o);
			break;
		}
		for (k = 0; k < n_acc; k++)
			if (!strcmp(acc[k].cond, cond))
				a = &acc[k];
		if (!a && n_acc < 16) {
			a = &acc[n_acc++];
			memset(a, 0, sizeof(*a));
			snprintf(a->cond, sizeof(a->cond), "%s", cond);
		}
		for (k = 0; k < 2; k++) {
			struct replay_acc *t = k ? &all : a;
			if (!t)
				continue;
			if (ended < 0)
				++t->n_missed;
			else if (!strcmp(cat, "pause")) {
				++t->n_pause;
				t->n_premature += (uint64_t)ended < true_end;
			}
			else if (t->nd < MAX_ITEMS) {
				uint32_t d = (uint64_t)ended > true_end ?
					(uint32_t)((uint64_t)ended - true_end) :
					0;
				t->delays[t->nd++] = d;
				t->sum += d;
			}
		}
		++n;
		json_decref(o);
	}
	free(line);
	fclose(f);
	printf("replay of %s: %zu items, listening waits %u/%u/%u/%u ms, "
	       "prosody %u %%\n", path, n, prm.listening.min_wait_ms,
	       prm.listening.base_wait_ms, prm.listening.incomplete_wait_ms,
	       prm.listening.max_wait_ms, prm.listening.prosody_pct);
	printf("\nend of turn        premature (pause items)  mean "
	       "delay (complete)  p95   no endpoint\n");
	for (size_t k = 0; k < n_acc; k++)
		replay_print(acc[k].cond, &acc[k]);
	replay_print("all", &all);
	return 0;
}

/* --items: comma-separated prefixes of item ids ("pause", "pause_003") */
static bool id_match(const char *id)
{
	const char *p = id_filter;

	if (!p)
		return true;
	if (!id)
		return false;
	while (*p) {
		size_t n = strcspn(p, ",");
		if (n && !strncmp(id, p, n))
			return true;
		p += n;
		if (*p == ',')
			++p;
	}
	return false;
}

static int load_corpus(const char *dir, const char *conds)
{
	char path[1024], line[8192];
	FILE *f;

	snprintf(path, sizeof(path), "%s/corpus.jsonl", dir);
	f = fopen(path, "r");
	if (!f) {
		fprintf(stderr, "bench_turns: cannot open %s; make it with "
			"build/gen_corpus %s\n", path, dir);
		return ENOENT;
	}
	while (fgets(line, sizeof(line), f) && n_items < MAX_ITEMS) {
		json_t *o = json_loads(line, 0, NULL);
		struct item *it = &items[n_items];
		const json_t *sp, *noise, *snr;
		char cond[24];

		if (!o)
			continue;
		noise = json_object_get(o, "noise");
		snr = json_object_get(o, "snr_db");
		if (json_object_get(o, "echo") &&
		    !json_is_null(json_object_get(o, "echo")))
			snprintf(cond, sizeof(cond), "echo");
		else if (json_is_string(noise) &&
			 strcmp(json_string_value(noise), "none"))
			snprintf(cond, sizeof(cond), "%s%d",
				 json_string_value(noise),
				 (int)json_number_value(snr));
		else
			snprintf(cond, sizeof(cond), "clean");
		sp = json_object_get(o, "speech");
		if (json_array_size(sp) && json_array_size(sp) <= MAX_SEG &&
		    strstr(conds, cond) &&
		    id_match(json_string_value(json_object_get(o, "id")))) {
			snprintf(it->file, sizeof(it->file), "%s",
				 json_string_value(json_object_get(o, "file")));
			snprintf(it->category, sizeof(it->category), "%s",
				 json_string_value(json_object_get(o,
							"category")));
			snprintf(it->cond, sizeof(it->cond), "%s", cond);
			snprintf(it->voice, sizeof(it->voice), "%s",
				 json_string_value(json_object_get(o,
							"voice")));
			snprintf(it->text, sizeof(it->text), "%s",
				 json_string_value(json_object_get(o, "text")));
			it->n_speech = (unsigned)json_array_size(sp);
			for (unsigned k = 0; k < it->n_speech; k++) {
				const json_t *iv = json_array_get(sp, k);
				it->speech[k][0] = (uint32_t)json_integer_value(
					json_array_get(iv, 0));
				it->speech[k][1] = (uint32_t)json_integer_value(
					json_array_get(iv, 1));
			}
			++n_items;
		}
		json_decref(o);
	}
	fclose(f);
	return 0;
}

int main(int argc, char **argv)
{
	const char *conds = "clean,white10,pink10,babble10";
	const char *only = "endpoint,interrupt,echo";  /* words on request */
	int err;

	if (argc < 2) {
		fprintf(stderr, "usage: bench_turns CORPUS_DIR [--conditions "
			"clean,white10,...] [--all]\n"
			"       bench_turns --replay FILE [--waits "
			"MIN,BASE,INCOMPLETE,MAX,PROSODY_PCT]\n");
		return 2;
	}
	if (!strcmp(argv[1], "--replay")) {
		const char *waits = NULL;

		if (argc < 3) {
			fprintf(stderr, "bench_turns: --replay needs the file "
				"a --collect run wrote\n");
			return 2;
		}
		if (argc == 5 && !strcmp(argv[3], "--waits"))
			waits = argv[4];
		else if (argc != 3) {
			fprintf(stderr, "bench_turns: --replay FILE takes only "
				"--waits\n");
			return 2;
		}
		err = bt_init();
		if (!err)
			err = replay(argv[2], waits);
		bt_close();
		return err;
	}
	for (int i = 2; i < argc; i++) {
		if (!strcmp(argv[i], "--all"))
			conds = "clean,white20,white10,white5,pink20,pink10,"
				"pink5,babble20,babble10,babble5";
		else if (!strcmp(argv[i], "--conditions") && i + 1 < argc)
			conds = argv[++i];
		else if (!strcmp(argv[i], "--only") && i + 1 < argc)
			only = argv[++i];
		else if (!strcmp(argv[i], "--items") && i + 1 < argc)
			id_filter = argv[++i];
		else if (!strcmp(argv[i], "--deepgram") && i + 1 < argc) {
			dg_url = argv[++i];
			setenv("DEEPGRAM_BASE_URL", dg_url, 1);
		}
		else if (!strcmp(argv[i], "--collect") && i + 1 < argc) {
			collect = fopen(argv[++i], "w");
			if (!collect) {
				perror(argv[i]);
				return 1;
			}
		}
		else {
			fprintf(stderr, "bench_turns: unknown option %s\n",
				argv[i]);
			return 2;
		}
	}
	err = bt_init();
	if (!err)
		err = load_corpus(argv[1], conds);
	if (err) {
		fprintf(stderr, "bench_turns: %s\n", bt_errmsg());
		return 1;
	}
	printf("turn-taking benchmark: %zu corpus items (%s), %s\n",
	       n_items, conds, dg_url ? "recogniser: Deepgram protocol "
	       "server, wall clock" : "virtual clock");
	if (collect) {
		err = bench_endpoint(argv[1], "adaptive", 500);
		fclose(collect);
		bt_close();
		return err ? 1 : 0;
	}
	/* "adaptive": the adaptive endpointer alone, without the fixed
	 * silence baselines (a third of the time, for tuning runs) */
	if (strstr(only, "endpoint") || strstr(only, "adaptive")) {
		printf("\nend of turn        premature (pause items)  mean "
		       "delay (complete)  p95   no endpoint   cut off "
		       "(complete items ended inside, counted as 0 delay)\n");
		if (bench_endpoint(argv[1], "adaptive", 500) ||
		    (strstr(only, "endpoint") &&
		     (bench_endpoint(argv[1], "fixed", 500) ||
		      bench_endpoint(argv[1], "fixed", 800) ||
		      (dg_url && bench_endpoint(argv[1], "recogniser",
						500)))))
			goto fail;
	}
	expect_type = "number";
	if (strstr(only, "interrupt")) {
		printf("\ninterruptions (said 1 s into the agent's speech)\n");
		if (bench_interrupt(argv[1]))
			goto fail;
	}
	if (strstr(only, "echo")) {
		printf("\nspeakerphone (agent voice back at -20 dB, 80 ms)\n");
		if (bench_echo(argv[1], true) || bench_echo(argv[1], false))
			goto fail;
	}
	if (strstr(only, "words")) {
		printf("\nrecogniser alone (open language model, a call's first "
		       "utterance)\n");
		if (bench_words(argv[1]))
			goto fail;
	}
	bt_close();
	return 0;
 fail:
	fprintf(stderr, "bench_turns: %s\n", bt_errmsg());
	bt_close();
	return 1;
}
