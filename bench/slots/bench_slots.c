/*
 * Wrong answers that pass as sure: how often the embedded recogniser fills a
 * slot with a wrong value at or above the agent's min_confidence, and how
 * often it rejects a right one, per caller voice and noise level.
 *
 *   bench_slots [--agent FILE] [--voices V1,V2,..] [--noise C1,C2,..]
 *               [--codecs none,g722,pcmu,..] [--types number,day,time,yes_no]
 *               [--jobs N] [--min-conf X] [--confirm-below X] [--verbose]
 *               [--dump FILE]
 *
 * Each caller voice (every voice of both TTS providers by default: the four
 * flite voices, espeak-ng's English accents and the en-us variants m1-m8,
 * f1-f5) says, at each question of the agent's flow that has a slot type,
 * right answers ("a table for four please", "next friday", "half past
 * eight") and things that are not answers to that question (an answer to
 * another question, "yes please" at the day question, "sorry what?",
 * nonsense). The audio (optionally mixed with white or pink noise at the
 * turn corpus's SNRs: white20 .. pink5) goes through the pocketsphinx
 * recogniser with the agent's grammars, as a session feeds it: 20 ms
 * frames, the node's grammar. With --codecs each noise condition is also
 * heard through a phone line of each codec: the caller's phone samples at
 * the codec's rate (8 kHz for PCMU/PCMA), encodes 20 ms packets, banter
 * decodes them and resamples to 16 kHz, as a SIP call does ("pink10+pcmu"). The transcript is then read the way the
 * flow engine reads it (src/brain/slots.h; intents first).
 *
 * The truth of an item is what the same reader finds in the text the caller
 * said, so a "right" value is the value the caller meant. Per item:
 *   right        the value heard is the caller's, confidence >= min
 *   rejected     the value heard is the caller's, confidence < min
 *                (the agent asks again: a right answer lost)
 *   wrong-sure   a value was filled that the caller did not say (a wrong
 *                value, or a value where the caller gave none), confidence
 *                >= min: the agent goes on with it
 *   wrong-low    the same below min (caught: the agent asks again)
 *   none         no value read (the agent asks again)
 * With a confirmation band (--confirm-below X, or the agent's
 * flow.confirm_below), a value heard with min <= confidence < X is asked
 * back ("seven pm, is that right?") instead of taken:
 *   confirmed-right  the caller's value: taken after one more question
 *   confirmed-wrong  not the caller's: caught by the caller's "no"
 * and right / wrong-sure count only values at or above the band.
 * Printed per voice and noise level; the totals at the end. Items run in
 * --jobs processes (default 2). --verbose lists every wrong-sure and
 * rejected item with what the open language model heard; --dump writes
 * every item as a tab-separated line (voice, noise, type, said, heard,
 * the open LM's words, whether a value was said / heard / right, whether
 * the open LM's words give the same value, confidence, outcome, and the
 * lowest posterior of the grammar's words where the recogniser needed it,
 * else -1: see ps_conf() in src/stt/ps_conf.c, and the signal-to-noise
 * ratio in dB that the recogniser estimated).
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/wait.h>
#include <unistd.h>
#include <banter/banter.h>
#include "audio/codec.h"
#include "brain/slots.h"
#include "stt/ps_int.h"
#include "../corpus/mix.h"

enum {
	VOICES_MAX = 160,
	NOISES_MAX = 24,     /* noise conditions x codecs */
	PHRASES_MAX = 64,
	LEAD_MS = 300,       /* silence (or noise) before and after */
	TODAY = 3,           /* a Wednesday: "today", "tomorrow" */
	HEARD_LEN = 96,
};

/* what bt_session_alloc (src/core/session.c) adds to every grammar */
static const char *const backchannels[] = {"mhm", "hmm", "uh-huh", "yeah",
					   "okay", "right", "i see"};

/* What callers say at a question of each slot type: answers first, then
 * things that are not an answer to it (the reader decides which). */
static const char *const said_number[] = {
	"two", "three people", "a table for four please", "six", "just me",
	"eight guests", "twelve", "five of us", "seven please",
	"nine people", "for ten", "fifteen",
	"yes please", "no thanks", "tuesday", "i'm not sure yet",
	"sorry what", "hello", "next friday", "can you say that again",
	"purple monkey dishwasher", "um",
};
static const char *const said_day[] = {
	"tuesday", "on friday", "next friday", "tomorrow", "saturday please",
	"this sunday", "monday evening", "wednesday", "thursday thanks",
	"today", "how about saturday", "the day after tomorrow",
	"yes please", "no thanks", "four people", "seven pm",
	"i don't know", "sorry what", "hello", "right",
	"can you say that again", "purple monkey dishwasher",
};
static const char *const said_time[] = {
	"seven pm", "at seven thirty", "half past eight", "six o'clock",
	"around eight", "nine pm", "seven", "quarter past seven", "noon",
	"eight thirty please", "at one", "five pm",
	"yes please", "no thanks", "tuesday", "next friday",
	"i don't know", "sorry what", "hello", "right",
	"can you say that again", "purple monkey dishwasher",
};
static const char *const said_yesno[] = {
	"yes", "yes please", "no", "no thanks", "that's right", "yeah",
	"sure", "nope", "that's correct", "correct", "no that's wrong",
	"absolutely",
	"tuesday", "seven pm", "four people", "hello", "next friday",
	"sorry what", "can you say that again", "purple monkey dishwasher",
	"half past eight", "the day after tomorrow",
};

#define N_OF(a) (sizeof(a) / sizeof((a)[0]))

static const struct {
	enum bt_slot_type type;
	const char *const *said;
	size_t n;
} sets[] = {
	{BT_SLOT_NUMBER, said_number, N_OF(said_number)},
	{BT_SLOT_DAY, said_day, N_OF(said_day)},
	{BT_SLOT_TIME, said_time, N_OF(said_time)},
	{BT_SLOT_YESNO, said_yesno, N_OF(said_yesno)},
};

static const char *const default_voices[] = {
	"flite:slt", "flite:rms", "flite:awb", "flite:kal",
	"espeak:en-us", "espeak:en", "espeak:en-gb-scotland",
	"espeak:en-gb-x-rp", "espeak:en-gb-x-gbclan",
	"espeak:en-gb-x-gbcwmd", "espeak:en-029",
	"espeak:en-us+m1", "espeak:en-us+m2", "espeak:en-us+m3",
	"espeak:en-us+m4", "espeak:en-us+m5", "espeak:en-us+m6",
	"espeak:en-us+m7", "espeak:en-us+m8", "espeak:en-us+f1",
	"espeak:en-us+f2", "espeak:en-us+f3", "espeak:en-us+f4",
	"espeak:en-us+f5",
};

enum outcome { O_RIGHT, O_REJECTED, O_WRONG_SURE, O_WRONG_LOW, O_NONE,
	       O_CONF_RIGHT, O_CONF_WRONG, O_N };
static const char *const outcome_names[O_N] = {
	"right", "rejected", "WRONG-SURE", "wrong-low", "none",
	"confirmed-right", "confirmed-wrong"};

/* one decoded item, written by a worker, read by the parent */
struct rec {
	unsigned voice, noise, set, item;
	int truth_ok;              /* the caller said a value */
	enum outcome o;
	float conf;
	char heard[HEARD_LEN];
	char lm[HEARD_LEN];        /* the open LM's words, for --verbose */
	int heard_ok;              /* a value was read from what was heard */
	int correct;               /* ... and it is the caller's */
	int lm_agrees;             /* the open LM's words give that value */
	float post;                /* the grammar's word posterior, -1: none */
	float snr;                 /* the recogniser's estimate, dB */
};

struct noise {
	char name[24];
	enum mix_noise type;
	double snr;                /* 0: clean */
	int codec;                 /* enum bt_codec_id; -1: no phone line */
};

struct node {
	const char *name;          /* grammar = the node's id */
	const json_t *expect;
};

static struct {
	const char *agent;
	const char *voices[VOICES_MAX];
	size_t n_voices;
	struct noise noises[NOISES_MAX];
	size_t n_noises;
	unsigned jobs;
	double min_conf;
	bool min_conf_set;
	double confirm_below;      /* 0: no confirmation band */
	bool confirm_set;
	bool verbose;
	const char *dump;
	unsigned types;            /* bit per slot type; 0: all */
} o = {
	.agent = "agents/restaurant.json",
	.jobs = 2,
};

static int phone_line(int codec, int16_t *pcm, size_t n);

/* A value the flow engine would read from text at a node (slots.h). */
struct value {
	int ok;      /* 0: a value; else ENOENT, EINVAL, ERANGE */
	int v;
};

static struct value read_value(const json_t *expect, const char *text)
{
	struct value r = {ENOENT, 0};
	const char *type = json_string_value(json_object_get(expect, "type"));
	const json_t *jmin = json_object_get(expect, "min");
	const json_t *jmax = json_object_get(expect, "max");
	char norm[512];
	bool yes = false;

	slot_normalize(text, norm, sizeof(norm));
	if (!norm[0] || !type)
		return r;
	if (!strcmp(type, "number"))
		r.ok = slot_number_parse(norm,
					 jmin ? (int)json_integer_value(jmin) : 1,
					 jmax ? (int)json_integer_value(jmax) : 100,
					 &r.v);
	else if (!strcmp(type, "day"))
		r.ok = slot_day_parse(norm, TODAY, &r.v);
	else if (!strcmp(type, "time"))
		r.ok = slot_time_parse(norm, &r.v);
	else if (!strcmp(type, "yes_no")) {
		r.ok = slot_yesno_parse(norm, &yes);
		r.v = yes;
	}
	return r;
}

/* The agent's global intents match before a slot is read (flow.c). */
static bool intent_of(const json_t *agent, const char *text)
{
	const json_t *intents = json_object_get(json_object_get(agent, "flow"),
						"intents");
	const json_t *in, *p;
	size_t i, j;
	char norm[512];

	slot_normalize(text, norm, sizeof(norm));
	json_array_foreach(intents, i, in) {
		json_array_foreach(json_object_get(in, "phrases"), j, p) {
			if (slot_has_phrase(norm, json_string_value(p)))
				return true;
		}
		json_array_foreach(json_object_get(in, "keywords"), j, p) {
			if (slot_has_phrase(norm, json_string_value(p)))
				return true;
		}
	}
	return false;
}

/* The first question node of each slot type. */
static int nodes_find(const json_t *agent, struct node nodes[])
{
	const json_t *nv = json_object_get(json_object_get(agent, "flow"),
					   "nodes");
	const char *key;
	const json_t *n;

	json_object_foreach((json_t *)nv, key, n) {
		const json_t *e = json_object_get(n, "expect");
		int t = bt_slot_type_parse(json_string_value(
					   json_object_get(e, "type")));

		if (t > BT_SLOT_TEXT && t <= BT_SLOT_YESNO && !nodes[t].name) {
			nodes[t].name = key;
			nodes[t].expect = e;
		}
	}
	for (size_t s = 0; s < N_OF(sets); s++) {
		if (!nodes[sets[s].type].name)
			return bt_err(EINVAL, "%s has no question of type %s: "
				      "the bench needs one of each of number, "
				      "day, time and yes_no", o.agent,
				      bt_slot_type_name(sets[s].type));
	}
	return 0;
}

/* The agent's grammars as bt_session_alloc builds them. */
struct grammars {
	struct bt_stt_grammar *brain;
	struct bt_stt_grammar *v;
	const char **phr;
	size_t n;
};

static void grammars_free(struct grammars *g)
{
	g->v = mem_deref(g->v);
	g->phr = mem_deref(g->phr);
	g->brain = mem_deref(g->brain);
}

static int grammars_make(struct grammars *g, const json_t *aj)
{
	const json_t *b = json_object_get(aj, "brain");
	const char *name = json_string_value(json_object_get(b, "provider"));
	const struct bt_brain *brain = bt_brain_find(name ? name : "flow");
	int err;

	if (!brain || !brain->grammarsh)
		return bt_err(ENOENT, "the agent's brain has no grammars");
	err = brain->grammarsh(aj, &g->brain, &g->n);
	if (err)
		return err;
	g->v = mem_zalloc((g->n ? g->n : 1) * sizeof(*g->v), NULL);
	g->phr = mem_zalloc((g->n ? g->n : 1) * PHRASES_MAX * sizeof(*g->phr),
			    NULL);
	if (!g->v || !g->phr)
		return ENOMEM;
	for (size_t i = 0; i < g->n; i++) {
		const struct bt_stt_grammar *src = &g->brain[i];
		const char **p = g->phr + i * PHRASES_MAX;
		size_t k = 0;

		g->v[i] = *src;
		for (size_t j = 0; j < src->n_phrases && k < PHRASES_MAX; j++)
			p[k++] = src->phrases[j];
		for (size_t j = 0; j < N_OF(backchannels) && k < PHRASES_MAX;
		     j++)
			p[k++] = backchannels[j];
		g->v[i].phrases = p;
		g->v[i].n_phrases = k;
	}
	return 0;
}

/* The caller's audio of one item: 16 kHz, speech at -26 dBFS. */
static int render(const char *voice, const char *text, float **pcmp,
		  size_t *np)
{
	struct bt_tts_prm prm;
	struct bt_tts_st *st = NULL;
	struct bt_tts_audio *au = NULL;
	int16_t *pcm16 = NULL;
	size_t n = 0, lead = BT_RATE_HZ / 1000 * LEAD_MS;
	struct mix_range act;
	float *pcm = NULL;
	double g;
	int err;

	bt_tts_prm_default(&prm);
	err = bt_tts_open(&st, voice, &prm);
	if (!err)
		err = bt_tts_synth(st, text, &au);
	if (!err)
		err = bt_resample_buf(au->pcm, au->n, au->rate_hz, BT_RATE_HZ,
				      &pcm16, &n);
	if (!err && !n)
		err = bt_err(EIO, "%s rendered no audio for \"%s\"", voice,
			     text);
	if (err)
		goto out;
	pcm = mem_zalloc((n + 2 * lead) * sizeof(*pcm), NULL);
	if (!pcm) {
		err = ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < n; i++)
		pcm[lead + i] = pcm16[i];
	if (mix_find_active(pcm, n + 2 * lead, BT_RATE_HZ, 30, &act)) {
		double p = mix_power(pcm, n + 2 * lead, &act, 1);

		g = p > 0 ? pow(10, -26.0 / 20) * 32768 / sqrt(p) : 1;
		for (size_t i = 0; i < n + 2 * lead; i++)
			pcm[i] = (float)(pcm[i] * g);
	}
	*pcmp = pcm;
	*np = n + 2 * lead;
	pcm = NULL;
 out:
	mem_deref(pcm);
	mem_deref(pcm16);
	mem_deref(au);
	mem_deref(st);
	return err;
}

/* Decode one item at its node's grammar, as the caller's own turn (not
 * over the agent's voice: no overlap reading). */
static int decode(struct psi *p, const char *grammar, const int16_t *pcm,
		  size_t n, struct bt_transcript *tr, char *lm, size_t lm_sz)
{
	int err = psi_start(p, grammar, false);

	for (size_t i = 0; !err && i + BT_FRAME_SAMPLES <= n;
	     i += BT_FRAME_SAMPLES)
		err = psi_feed(p, pcm + i, BT_FRAME_SAMPLES);
	if (!err)
		err = psi_finish(p, tr);
	if (!err)  /* the open LM's words (its decoder is lent: gone) */
		str_ncpy(lm, p->lm_hyp, lm_sz);
	return err;
}

/* band: the flow's confirm_below (0: none), as on_user() applies it */
static enum outcome judge(struct value truth, struct value heard,
			  bool intent, float conf, double min, double band)
{
	bool sure = conf >= min;
	bool asked = sure && band > 0.0 && conf < band;

	if (intent || heard.ok)
		return O_NONE;
	if (!truth.ok && truth.v == heard.v)
		return asked ? O_CONF_RIGHT : sure ? O_RIGHT : O_REJECTED;
	return asked ? O_CONF_WRONG : sure ? O_WRONG_SURE : O_WRONG_LOW;
}

/* The same noise for an item whatever else the run includes: seeded by
 * the voice's name (not its place in --voices), the item and the noise
 * condition's name. */
static uint32_t item_seed(const char *voice, unsigned s, unsigned i,
			  const char *noise)
{
	uint32_t h = 10007u * s + 101u * i;

	while (*voice)
		h = (h ^ (uint8_t)*voice++) * 16777619u;
	h = (h ^ 0xffu) * 16777619u;
	while (*noise)
		h = (h ^ (uint8_t)*noise++) * 16777619u;
	return h;
}

/* One item of a call: said in voice v, mixed with noise z, decoded at
 * its question's grammar; its record to out. */
static int one_item(struct psi *p, FILE *out, const json_t *agent,
		    const struct node nodes[], unsigned v, unsigned z,
		    unsigned s, unsigned i)
{
	const struct noise *nz = &o.noises[z];
	const struct node *nd = &nodes[sets[s].type];
	const char *text = sets[s].said[i];
	float *clean = NULL, *noise = NULL, *mixd = NULL;
	int16_t *pcm16 = NULL;
	struct bt_transcript tr;
	struct mix_range act;
	struct mix_rng rng;
	struct value truth, heard, lv;
	struct rec r;
	size_t n = 0;
	int err = render(o.voices[v], text, &clean, &n);

	if (err)
		return err;
	pcm16 = mem_alloc(n * sizeof(*pcm16), NULL);
	noise = mem_alloc(n * sizeof(*noise), NULL);
	mixd = mem_alloc(n * sizeof(*mixd), NULL);
	if (!pcm16 || !noise || !mixd) {
		err = ENOMEM;
		goto out;
	}
	mix_rng_seed(&rng, item_seed(o.voices[v], s, i, nz->name));
	memcpy(mixd, clean, n * sizeof(*mixd));
	if (nz->snr > 0 && mix_find_active(clean, n, BT_RATE_HZ, 30, &act)) {
		mix_noise_fill(noise, n, nz->type, &rng);
		mix_add_noise(mixd, clean, noise, n, &act, 1, nz->snr);
	}
	mix_to_pcm16(pcm16, mixd, n, mix_peak(mixd, n) > 32000
		     ? 32000 / mix_peak(mixd, n) : 1.0);
	if (nz->codec >= 0)
		err = phone_line(nz->codec, pcm16, n);
	memset(&r, 0, sizeof(r));
	if (!err)
		err = decode(p, nd->name, pcm16, n, &tr, r.lm, sizeof(r.lm));
	if (err)
		goto out;
	truth = read_value(nd->expect, text);
	heard = read_value(nd->expect, tr.text);
	lv = read_value(nd->expect, r.lm);
	r.voice = v;
	r.noise = z;
	r.set = s;
	r.item = i;
	r.truth_ok = !truth.ok;
	r.conf = tr.confidence;
	r.post = p->post;
	r.snr = p->snr;
	r.heard_ok = !heard.ok;
	r.correct = !heard.ok && !truth.ok && heard.v == truth.v;
	r.lm_agrees = !heard.ok && !lv.ok && lv.v == heard.v;
	r.o = judge(truth, heard, intent_of(agent, tr.text), tr.confidence,
		    o.min_conf, o.confirm_below);
	str_ncpy(r.heard, tr.text, sizeof(r.heard));
	if (fwrite(&r, sizeof(r), 1, out) != 1)
		err = EIO;
 out:
	mem_deref(clean);
	mem_deref(pcm16);
	mem_deref(noise);
	mem_deref(mixd);
	return err;
}

/*
 * One call: the items of voice v at noise level z, in a process of its
 * own (forked by its worker), on a recogniser made for it, as a new
 * call's starts from the model's cepstral mean. A process per call,
 * because the library keeps state from one utterance to the next that a
 * call must not inherit: one recogniser for the whole run carried its
 * live mean from voice to voice and from clean to noisy audio, and
 * espeak-ng carries its waveform state (the same text in the same voice
 * is a few samples longer or shorter each time, and differs after
 * another voice). So a voice's figures at a noise level do not depend on
 * --voices, --noise or --jobs.
 */
static int work_call(unsigned v, unsigned z, FILE *out)
{
	struct bt_agent *ag = NULL;
	struct node nodes[BT_SLOT_YESNO + 1] = {{0}};
	struct grammars g = {0};
	struct bt_stt_prm prm;
	struct psi *p = NULL;
	int err = bt_init();

	if (!err)
		err = bt_agent_load(&ag, o.agent);
	if (!err)
		err = nodes_find(bt_agent_json(ag), nodes);
	if (!err)
		err = grammars_make(&g, bt_agent_json(ag));
	if (!err) {
		memset(&prm, 0, sizeof(prm));
		prm.grammars = g.v;
		prm.n_grammars = g.n;
		err = psi_make(&p, &prm);
	}
	for (unsigned s = 0; s < N_OF(sets) && !err; s++) {
		if (o.types && !(o.types & (1u << sets[s].type)))
			continue;
		for (unsigned i = 0; i < sets[s].n && !err; i++)
			err = one_item(p, out, bt_agent_json(ag), nodes, v, z,
				       s, i);
	}
	if (err)
		fprintf(stderr, "bench_slots: %s\n", bt_errmsg());
	mem_deref(p);
	grammars_free(&g);
	mem_deref(ag);
	bt_close();
	return err;
}

/* A worker process: the calls v * n_noises + z with that % jobs == k,
 * each in a child, one after the other, writing to out. */
static int work(unsigned k, FILE *out)
{
	unsigned n = o.n_voices * o.n_noises;

	for (unsigned c = k; c < n; c += o.jobs) {
		int status = 0;
		pid_t pid;

		fflush(out);
		pid = fork();
		if (pid < 0)
			return errno;
		if (!pid) {
			int e = work_call(c / o.n_noises, c % o.n_noises, out);

			fflush(out);
			_exit(e ? 1 : 0);
		}
		if (waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) ||
		    WEXITSTATUS(status))
			return EIO;
		if (c % o.n_noises == o.n_noises - 1)
			fprintf(stderr, ".");
	}
	return 0;
}

static int noise_parse(const char *s)
{
	struct noise *nz = &o.noises[o.n_noises];
	char *end;

	if (o.n_noises >= NOISES_MAX)
		return bt_err(EINVAL, "at most %d noise conditions",
			      NOISES_MAX);
	memset(nz, 0, sizeof(*nz));
	nz->codec = -1;
	str_ncpy(nz->name, s, sizeof(nz->name));
	if (!strcmp(s, "clean")) {
		o.n_noises++;
		return 0;
	}
	if (!strncmp(s, "white", 5))
		nz->type = MIX_NOISE_WHITE;
	else if (!strncmp(s, "pink", 4))
		nz->type = MIX_NOISE_PINK;
	else
		return bt_err(EINVAL, "noise \"%s\": clean, whiteN or pinkN "
			      "(N the SNR in dB, e.g. pink10)", s);
	nz->snr = strtod(s + (nz->type == MIX_NOISE_WHITE ? 5 : 4), &end);
	if (*end || nz->snr <= 0 || nz->snr > 60)
		return bt_err(EINVAL, "noise \"%s\": the SNR must be a number "
			      "of dB from 1 to 60", s);
	o.n_noises++;
	return 0;
}

/* --codecs: each noise condition through each codec's line ("none": as
 * recorded) */
static int codecs_apply(char *list)
{
	struct noise base[NOISES_MAX];
	int ids[BT_CODEC_COUNT + 1];
	size_t n_base = o.n_noises, n_ids = 0;

	for (char *t = strtok(list, ","); t; t = strtok(NULL, ",")) {
		const struct bt_codec_info *ci = NULL;

		for (int c = 0; c < BT_CODEC_COUNT && strcmp(t, "none"); c++)
			if (!strcasecmp(bt_codec_info(c)->name, t))
				ci = bt_codec_info(c);
		if (strcmp(t, "none") && !ci)
			return bt_err(EINVAL, "codec \"%s\": none, opus, "
				      "g722, pcmu or pcma", t);
		if (n_ids == N_OF(ids))
			return bt_err(EINVAL, "too many codecs");
		ids[n_ids++] = ci ? (int)ci->id : -1;
	}
	if (n_base * n_ids > NOISES_MAX)
		return bt_err(EINVAL, "at most %d noise x codec conditions",
			      NOISES_MAX);
	memcpy(base, o.noises, sizeof(base));
	o.n_noises = 0;
	for (size_t i = 0; i < n_base; i++) {
		for (size_t c = 0; c < n_ids; c++) {
			struct noise *nz = &o.noises[o.n_noises++];
			char lower[16];

			*nz = base[i];
			nz->codec = ids[c];
			if (ids[c] < 0)
				continue;
			str_ncpy(lower, bt_codec_info(ids[c])->name,
				 sizeof(lower));
			for (char *p = lower; *p; p++)
				*p = (char)(*p >= 'A' && *p <= 'Z' ?
					    *p - 'A' + 'a' : *p);
			snprintf(nz->name, sizeof(nz->name), "%.14s+%.6s",
				 base[i].name, lower);
		}
	}
	return 0;
}

/*
 * A phone line: the caller's phone samples at the codec's rate, sends 20
 * ms packets, banter decodes them and resamples to 16 kHz. In place; the
 * length stays n (the resamplers' delay is cut from the end).
 */
static int phone_line(int codec, int16_t *pcm, size_t n)
{
	uint32_t rate = bt_codec_info(codec)->rate_hz;
	int16_t *lo = NULL, *dec = NULL, *hi = NULL;
	size_t n_lo = n, n_hi = 0, fs, n_dec = 0;
	struct bt_codec *c = NULL;
	int err;

	err = bt_codec_alloc(&c, codec);
	if (err)
		return err;
	fs = bt_codec_frame_samples(c);
	if (rate != BT_RATE_HZ)
		err = bt_resample_buf(pcm, n, BT_RATE_HZ, rate, &lo, &n_lo);
	if (err)
		goto out;
	dec = mem_zalloc((n_lo + fs) * sizeof(*dec), NULL);
	if (!dec) {
		err = ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < n_lo; i += fs) {
		int16_t frame[BT_CODEC_MAX_FRAME] = {0};
		uint8_t pkt[BT_CODEC_MAX_PACKET];
		size_t np = 0, got = 0;
		const int16_t *src = lo ? lo : pcm;

		memcpy(frame, src + i, (i + fs <= n_lo ? fs : n_lo - i) *
		       sizeof(*frame));
		err = bt_codec_encode(c, frame, pkt, sizeof(pkt), &np);
		if (!err)
			err = bt_codec_decode(c, pkt, np, dec + n_dec, fs, &got);
		if (err)
			goto out;
		n_dec += got;
	}
	if (rate != BT_RATE_HZ) {
		err = bt_resample_buf(dec, n_dec, rate, BT_RATE_HZ, &hi, &n_hi);
		if (err)
			goto out;
	}
	else {
		hi = mem_ref(dec);
		n_hi = n_dec;
	}
	memset(pcm, 0, n * sizeof(*pcm));
	memcpy(pcm, hi, (n_hi < n ? n_hi : n) * sizeof(*pcm));
 out:
	mem_deref(lo);
	mem_deref(dec);
	mem_deref(hi);
	mem_deref(c);
	return err;
}

static int list_parse(char *s, int (*one)(const char *))
{
	for (char *t = strtok(s, ","); t; t = strtok(NULL, ",")) {
		int err = one(t);

		if (err)
			return err;
	}
	return 0;
}

static int voice_add(const char *s)
{
	if (o.n_voices >= VOICES_MAX)
		return bt_err(EINVAL, "at most %d voices", VOICES_MAX);
	o.voices[o.n_voices++] = s;
	return 0;
}

struct tally {
	unsigned n[O_N];
	unsigned answers;      /* items where the caller said a value */
};

static double pct(unsigned a, unsigned b)
{
	return b ? 100.0 * a / b : 0;
}

static void tally_print(const char *what, const struct tally *t)
{
	unsigned total = 0;

	for (int i = 0; i < O_N; i++)
		total += t->n[i];
	printf("  %-24s %4u items  wrong-sure %5.1f %% (%3u)  rejected right "
	       "%5.1f %% of %3u answers (%3u)  right %5.1f %%  caught %3u\n",
	       what, total, pct(t->n[O_WRONG_SURE], total),
	       t->n[O_WRONG_SURE], pct(t->n[O_REJECTED], t->answers),
	       t->answers, t->n[O_REJECTED], pct(t->n[O_RIGHT], t->answers),
	       t->n[O_WRONG_LOW] + t->n[O_NONE]);
	if (o.confirm_below > 0.0)
		printf("  %-24s %4s        confirmed: right %3u (%.1f %% of "
		       "answers asked once more)  wrong %3u (caught by a "
		       "\"no\")\n", "", "", t->n[O_CONF_RIGHT],
		       pct(t->n[O_CONF_RIGHT], t->answers),
		       t->n[O_CONF_WRONG]);
}

static void add(struct tally *t, const struct rec *r)
{
	t->n[r->o]++;
	if (r->truth_ok)
		t->answers++;
}

static int report(struct rec *rv, size_t n)
{
	struct tally all, per_noise[NOISES_MAX], per_set[N_OF(sets)];

	memset(&all, 0, sizeof(all));
	memset(per_noise, 0, sizeof(per_noise));
	memset(per_set, 0, sizeof(per_set));

	printf("slot values heard by pocketsphinx, agent %s, min_confidence "
	       "%.2f", o.agent, o.min_conf);
	if (o.confirm_below > 0.0)
		printf(", confirm_below %.2f", o.confirm_below);
	printf("\n");
	for (unsigned v = 0; v < o.n_voices; v++) {
		for (unsigned z = 0; z < o.n_noises; z++) {
			struct tally t;
			char what[64];

			memset(&t, 0, sizeof(t));
			for (size_t i = 0; i < n; i++)
				if (rv[i].voice == v && rv[i].noise == z)
					add(&t, &rv[i]);
			snprintf(what, sizeof(what), "%s %s", o.voices[v],
				 o.noises[z].name);
			tally_print(what, &t);
		}
	}
	for (size_t i = 0; i < n; i++) {
		add(&all, &rv[i]);
		add(&per_noise[rv[i].noise], &rv[i]);
		add(&per_set[rv[i].set], &rv[i]);
		if (o.verbose && (rv[i].o == O_WRONG_SURE ||
				  rv[i].o == O_REJECTED ||
				  rv[i].o == O_CONF_WRONG))
			printf("    %-10s %-22s %-8s %-24s heard \"%s\" %.2f "
			       "(lm \"%s\")\n", outcome_names[rv[i].o],
			       o.voices[rv[i].voice],
			       o.noises[rv[i].noise].name,
			       sets[rv[i].set].said[rv[i].item], rv[i].heard,
			       (double)rv[i].conf, rv[i].lm);
	}
	printf("per slot type:\n");
	for (size_t s = 0; s < N_OF(sets); s++)
		tally_print(bt_slot_type_name(sets[s].type), &per_set[s]);
	printf("per noise:\n");
	for (unsigned z = 0; z < o.n_noises; z++)
		tally_print(o.noises[z].name, &per_noise[z]);
	printf("all:\n");
	tally_print("all voices and noises", &all);
	return 0;
}

static void usage(void)
{
	fprintf(stderr, "usage: bench_slots [--agent FILE] [--voices "
		"V1,V2,..] [--noise clean,pink10,..] [--codecs none,g722,"
		"pcmu,..] [--types T1,..] "
		"[--jobs N] "
		"[--min-conf X] [--confirm-below X] [--verbose] "
		"[--dump FILE]\n");
}

int main(int argc, char **argv)
{
	struct bt_agent *ag = NULL;
	struct node nodes[BT_SLOT_YESNO + 1] = {{0}};
	struct rec *rv = NULL;
	size_t n = 0, cap = 0;
	pid_t pids[16];
	FILE *tmp[16] = {0};
	char *voices = NULL, *noises = NULL, *codecs = NULL;
	bool initd = false;
	int err = 0, rc = 1;

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (!strcmp(a, "--verbose")) {
			o.verbose = true;
			continue;
		}
		if (!v) {
			usage();
			return 2;
		}
		i++;
		if (!strcmp(a, "--agent"))
			o.agent = v;
		else if (!strcmp(a, "--voices"))
			voices = strdup(v);
		else if (!strcmp(a, "--noise"))
			noises = strdup(v);
		else if (!strcmp(a, "--codecs"))
			codecs = strdup(v);
		else if (!strcmp(a, "--types")) {
			char *tv = strdup(v);

			for (char *t = strtok(tv, ","); t;
			     t = strtok(NULL, ",")) {
				int ty = bt_slot_type_parse(t);

				if (ty <= BT_SLOT_TEXT) {
					fprintf(stderr, "bench_slots: --types "
						"number,day,time,yes_no\n");
					free(tv);
					return 2;
				}
				o.types |= 1u << ty;
			}
			free(tv);
		}
		else if (!strcmp(a, "--dump"))
			o.dump = v;
		else if (!strcmp(a, "--jobs"))
			o.jobs = (unsigned)atoi(v);
		else if (!strcmp(a, "--min-conf")) {
			o.min_conf = atof(v);
			o.min_conf_set = true;
		}
		else if (!strcmp(a, "--confirm-below")) {
			o.confirm_below = atof(v);
			o.confirm_set = true;
		}
		else {
			usage();
			return 2;
		}
	}
	if (o.jobs < 1 || o.jobs > 16) {
		fprintf(stderr, "bench_slots: --jobs 1 to 16\n");
		return 2;
	}

	err = bt_init();
	initd = !err;
	if (!err && voices)
		err = list_parse(voices, voice_add);
	for (size_t i = 0; !err && !voices && i < N_OF(default_voices); i++)
		err = voice_add(default_voices[i]);
	if (!err)
		err = list_parse(noises ? noises : (char[]){"clean,pink10"},
				 noise_parse);
	if (!err && codecs)
		err = codecs_apply(codecs);
	if (!err)
		err = bt_agent_load(&ag, o.agent);
	if (err)
		goto out;
	if (!o.min_conf_set) {
		const json_t *mc = json_object_get(json_object_get(
			bt_agent_json(ag), "flow"), "min_confidence");

		o.min_conf = mc ? json_number_value(mc) : 0.4;
	}
	if (!o.confirm_set) {
		const json_t *cb = json_object_get(json_object_get(
			bt_agent_json(ag), "flow"), "confirm_below");

		o.confirm_below = cb ? json_number_value(cb) : 0.0;
	}
	if (o.confirm_set && (o.confirm_below <= o.min_conf ||
			      o.confirm_below > 1.0)) {
		err = bt_err(EINVAL, "--confirm-below %.2f must be above the "
			     "min_confidence (%.2f) and at most 1: answers "
			     "between the two are asked back; try e.g. 0.6",
			     o.confirm_below,
			     o.min_conf);
		goto out;
	}
	err = nodes_find(bt_agent_json(ag), nodes);
	for (size_t v = 0; !err && v < o.n_voices; v++) {
		/* a voice that does not exist fails here, not in a worker */
		struct bt_tts_prm tp;
		struct bt_tts_st *ts = NULL;

		bt_tts_prm_default(&tp);
		err = bt_tts_open(&ts, o.voices[v], &tp);
		mem_deref(ts);
	}
	if (err)
		goto out;
	/* the workers make their own library state after the fork */
	ag = mem_deref(ag);
	bt_close();
	initd = false;

	fflush(stdout);
	fflush(stderr);
	for (unsigned k = 0; k < o.jobs; k++) {
		tmp[k] = tmpfile();
		if (!tmp[k]) {
			err = errno;
			goto out;
		}
		pids[k] = fork();
		if (pids[k] < 0) {
			err = errno;
			goto out;
		}
		if (!pids[k]) {
			int e = work(k, tmp[k]);

			fflush(tmp[k]);
			_exit(e ? 1 : 0);
		}
	}
	for (unsigned k = 0; k < o.jobs; k++) {
		int status = 0;
		struct rec r;

		waitpid(pids[k], &status, 0);
		if (!WIFEXITED(status) || WEXITSTATUS(status))
			err = EIO;
		rewind(tmp[k]);
		while (fread(&r, sizeof(r), 1, tmp[k]) == 1) {
			if (n == cap) {
				cap = cap ? 2 * cap : 1024;
				struct rec *nv = mem_alloc(cap * sizeof(*nv),
							   NULL);

				if (!nv) {
					err = ENOMEM;
					goto out;
				}
				if (n)
					memcpy(nv, rv, n * sizeof(*rv));
				mem_deref(rv);
				rv = nv;
			}
			rv[n++] = r;
		}
	}
	fprintf(stderr, "\n");
	if (err) {
		fprintf(stderr, "bench_slots: a worker failed\n");
		goto out;
	}
	rc = report(rv, n);
	if (o.dump) {
		FILE *f = fopen(o.dump, "w");

		for (size_t i = 0; f && i < n; i++)
			fprintf(f, "%s\t%s\t%s\t%s\t%s\t%s\t%d\t%d\t%d\t%d"
				"\t%.3f\t%s\t%.3f\t%.0f\n",
				o.voices[rv[i].voice],
				o.noises[rv[i].noise].name,
				bt_slot_type_name(sets[rv[i].set].type),
				sets[rv[i].set].said[rv[i].item], rv[i].heard,
				rv[i].lm, rv[i].truth_ok, rv[i].heard_ok,
				rv[i].correct, rv[i].lm_agrees,
				(double)rv[i].conf, outcome_names[rv[i].o],
				(double)rv[i].post, (double)rv[i].snr);
		if (f)
			fclose(f);
	}

 out:
	if (err && err != EIO)
		fprintf(stderr, "bench_slots: %s\n", bt_errmsg());
	for (unsigned k = 0; k < o.jobs; k++)
		if (tmp[k])
			fclose(tmp[k]);
	mem_deref(rv);
	mem_deref(ag);
	free(voices);
	free(noises);
	free(codecs);
	if (initd)
		bt_close();
	return rc;
}
