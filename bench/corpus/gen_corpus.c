/**
 * @file gen_corpus.c  Generate the turn-taking test corpus: 16 kHz mono
 * WAVs of callers (pauses inside utterances, complete utterances,
 * backchannels, interruptions) in clean, white, pink and babble noise, plus
 * speakerphone echo variants, and corpus.jsonl with the ground truth.
 *
 *   gen_corpus [--size small|full|extra|extra2|heldout|heldout2] [--seed N] OUT_DIR
 *
 * Every item is rendered with our TTS providers (espeak, flite), so nothing
 * is downloaded and a fixed seed gives the same corpus on any machine. The
 * speech intervals are measured on each spoken segment's clean audio before
 * mixing (mix_find_active), and the pauses between segments are placed so
 * that the measured pause is exactly the drawn one. bench/corpus/README.md
 * describes the format.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include "banter/json.h"
#include "banter/banter.h"
#include "mix.h"

enum {
	RATE = BT_RATE_HZ,
	SMP_PER_MS = BT_RATE_HZ / 1000,
	MAX_SEGS = 5,
	PATH_MAX_LEN = 512,
	TEXT_MAX = 256,
	BABBLE_S = 12,            /* length of the babble loop */
	BABBLE_TALKERS = 8,
	ECHO_DELAY_MIN_MS = 40,
	ECHO_DELAY_MAX_MS = 120,
	AGENT_LEAD_MS = 300,
};

static const double ACTIVE_REL_DB = 35.0;  /* segment edges: peak - 35 */
static const double ECHO_GAIN_DB = -20.0;
static const float PEAK_MAX = 32000.0f;    /* headroom when writing */

/* Which corpus an utterance belongs to. */
enum set {
	FULL,                /* the full corpus only */
	SMALL,               /* the small corpus, and the full one */
	EXTRA,               /* the extra tuning corpus only (below) */
	EXTRA2,              /* the second extra tuning corpus (below) */
	HELDOUT,             /* the held-out corpus only (below) */
	HELDOUT2,            /* the second held-out corpus (below) */
};

/* One utterance: segments with a pause between each two. */
struct utt {
	const char *cat;
	const char *segs[MAX_SEGS];
	enum set set;
};

static const struct utt utts[] = {
	/* pauses inside the turn: the caller has not finished */
	{"pause", {"a table for", "three people"}, SMALL},
	{"pause", {"I'd like to book", "um", "for friday"}, SMALL},
	{"pause", {"pizza, pasta", "and salad"}, SMALL},
	{"pause", {"five five five", "one two three four"}, SMALL},
	{"pause", {"I want the pasta and", "the salad"}, SMALL},
	{"pause", {"so", "what time do you close"}, SMALL},
	{"pause", {"uh", "can I change my booking"}, SMALL},
	{"pause", {"my name is", "john smith"}, SMALL},
	{"pause", {"we are", "uh", "four adults and two children"}, SMALL},
	{"pause", {"for saturday so", "at", "eight thirty"}, SMALL},
	{"pause", {"the number is oh seven seven", "nine oh one",
		   "two three two"}, FULL},
	{"pause", {"can we sit outside, or", "maybe by the window"}, FULL},
	/* complete turns */
	{"complete", {"a table for three please"}, SMALL},
	{"complete", {"tuesday at seven pm"}, SMALL},
	{"complete", {"yes that's right"}, SMALL},
	{"complete", {"what are your opening hours?"}, SMALL},
	{"complete", {"can I book a table for tonight"}, SMALL},
	{"complete", {"no thank you, that's all"}, SMALL},
	{"complete", {"my phone number is five five five one two three "
		      "four"}, FULL},
	{"complete", {"do you have any vegetarian options?"}, FULL},
	/* said while the agent talks */
	{"backchannel", {"mhm"}, SMALL},
	{"backchannel", {"yeah"}, SMALL},
	{"backchannel", {"right"}, SMALL},
	{"backchannel", {"okay"}, SMALL},
	{"backchannel", {"uh-huh"}, SMALL},
	{"backchannel", {"sure"}, FULL},
	{"backchannel", {"I see"}, FULL},
	{"interruption", {"wait"}, SMALL},
	{"interruption", {"no, stop"}, SMALL},
	{"interruption", {"actually I meant Wednesday"}, SMALL},
	{"interruption", {"hold on a second"}, SMALL},
	{"interruption", {"sorry, that's wrong"}, SMALL},
	{"interruption", {"stop"}, FULL},
	/* short complete answers, added after the rest so that the items
	 * above keep their renderings (each utterance's seed is its index) */
	{"complete", {"yes"}, SMALL},
	{"complete", {"two people"}, SMALL},
	{"complete", {"tuesday"}, FULL},
	{"complete", {"no thanks"}, FULL},
	/* The extra set (--size extra): utterances written on 2026-12-06
	 * as a held-out set, after the endpointer's rules were made on the
	 * ones above. Measured once as such (13 of 48 pause items ended
	 * early on the Deepgram path at 0 % WER, against 1 of 36 above),
	 * then used to mend the rules: now a second tuning set. */
	{"pause", {"could you tell me", "if there is parking nearby"}, EXTRA},
	{"pause", {"the booking is under", "sarah jones"}, EXTRA},
	{"pause", {"we'll get there at", "um", "half past seven"}, EXTRA},
	{"pause", {"I was wondering if", "you do takeaway"}, EXTRA},
	{"pause", {"it's for my", "daughter's birthday"}, EXTRA},
	{"pause", {"we need a high chair and", "a quiet corner"}, EXTRA},
	{"pause", {"is it possible to", "bring our own wine"}, EXTRA},
	{"pause", {"let me think", "uh", "probably around nine"}, EXTRA},
	{"pause", {"we would like the steak, the fish", "and two soups"},
	 EXTRA},
	{"pause", {"because", "one of us has a nut allergy"}, EXTRA},
	{"pause", {"actually", "make that eight people"}, EXTRA},
	{"pause", {"I'm calling about", "a reservation I made yesterday"},
	 EXTRA},
	{"pause", {"my number is oh two oh", "seven nine four six",
		   "one one eight"}, EXTRA},
	{"pause", {"if it's not too much trouble", "could we have a booth"},
	 EXTRA},
	{"pause", {"we'd like to come on", "the fourteenth"}, EXTRA},
	{"pause", {"there will be", "uh", "twelve of us"}, EXTRA},
	{"complete", {"a table for two at eight please"}, EXTRA},
	{"complete", {"do you have parking?"}, EXTRA},
	{"complete", {"that works for me"}, EXTRA},
	{"complete", {"it's under the name jones"}, EXTRA},
	{"complete", {"we'll have the fish"}, EXTRA},
	{"complete", {"how late are you open on sunday?"}, EXTRA},
	{"complete", {"no, just the two of us"}, EXTRA},
	{"complete", {"could you send me a confirmation"}, EXTRA},
	{"complete", {"great, thank you very much"}, EXTRA},
	{"complete", {"okay"}, EXTRA},
	{"complete", {"friday evening"}, EXTRA},
	{"complete", {"is there a dress code?"}, EXTRA},
	{"backchannel", {"got it"}, EXTRA},
	{"backchannel", {"alright"}, EXTRA},
	{"backchannel", {"I see, yes"}, EXTRA},
	{"interruption", {"hang on"}, EXTRA},
	{"interruption", {"no no, that's not it"}, EXTRA},
	{"interruption", {"excuse me, one thing"}, EXTRA},
	/* The extra2 set (--size extra2): written on 2026-12-06 as a
	 * held-out set before any rule was mended on the extra set, and
	 * measured once as such (18 of 48 pause items ended early on the
	 * Deepgram path after those mends, 24 before), then used to mend
	 * the rules: a third tuning set. */
	{"pause", {"I'd like to change", "the time of my booking"}, EXTRA2},
	{"pause", {"do you have a table", "for about ten people"}, EXTRA2},
	{"pause", {"the name is", "um", "patel"}, EXTRA2},
	{"pause", {"we were hoping to", "sit near the window"}, EXTRA2},
	{"pause", {"and also", "could you make it a bit later"}, EXTRA2},
	{"pause", {"my card ends in", "four four", "one two"}, EXTRA2},
	{"pause", {"so basically", "we want to bring a cake"}, EXTRA2},
	{"pause", {"what I mean is", "we need two tables"}, EXTRA2},
	{"pause", {"it's at seven", "or actually seven thirty"}, EXTRA2},
	{"pause", {"we'll need", "uh", "a vegan option too"}, EXTRA2},
	{"pause", {"a bottle of red, a salad", "and the lamb"}, EXTRA2},
	{"pause", {"my email address is anna", "dot smith at mail dot com"},
	 EXTRA2},
	{"pause", {"when we arrive", "can we order straight away"}, EXTRA2},
	{"pause", {"is there any chance", "of a table tonight"}, EXTRA2},
	{"pause", {"I think", "about eight of us"}, EXTRA2},
	{"pause", {"the reservation was for", "the twenty first"}, EXTRA2},
	{"complete", {"can we come at nine instead?"}, EXTRA2},
	{"complete", {"that's perfect, thanks"}, EXTRA2},
	{"complete", {"three of us"}, EXTRA2},
	{"complete", {"sunday lunch, if possible"}, EXTRA2},
	{"complete", {"what's the address?"}, EXTRA2},
	{"complete", {"no, that's everything"}, EXTRA2},
	{"complete", {"we'll be a bit late"}, EXTRA2},
	{"complete", {"my name is anna smith"}, EXTRA2},
	{"complete", {"sure"}, EXTRA2},
	{"complete", {"half past eight"}, EXTRA2},
	{"complete", {"do you take cards?"}, EXTRA2},
	{"complete", {"I'd like to cancel my booking"}, EXTRA2},
	{"backchannel", {"mm hmm"}, EXTRA2},
	{"backchannel", {"yes yes"}, EXTRA2},
	{"backchannel", {"oh okay"}, EXTRA2},
	{"interruption", {"sorry, wait"}, EXTRA2},
	{"interruption", {"no, listen"}, EXTRA2},
	{"interruption", {"hold on, that's wrong"}, EXTRA2},
	/* The held-out set (--size heldout): written on 2026-12-06 before
	 * any rule was mended on extra2, and not to be tuned on. */
	{"pause", {"we booked for eight", "but we're running late"}, HELDOUT},
	{"pause", {"could I get", "the table by the fireplace"}, HELDOUT},
	{"pause", {"my daughter", "um", "she can't eat gluten"}, HELDOUT},
	{"pause", {"what I'd really like", "is a window seat"}, HELDOUT},
	{"pause", {"after dinner", "can we stay for drinks"}, HELDOUT},
	{"pause", {"the thing is", "we have a dog with us"}, HELDOUT},
	{"pause", {"so we're", "uh", "arriving by train"}, HELDOUT},
	{"pause", {"we might need", "an extra chair"}, HELDOUT},
	{"pause", {"is it okay if", "we come a bit early"}, HELDOUT},
	{"pause", {"the phone number is two one two", "five five five",
		   "oh one nine eight"}, HELDOUT},
	{"pause", {"for the starter", "the soup please"}, HELDOUT},
	{"pause", {"hi, I'm calling to", "confirm my booking"}, HELDOUT},
	{"pause", {"one vegetarian, two vegan", "and one normal"}, HELDOUT},
	{"pause", {"as long as", "it's not too noisy"}, HELDOUT},
	{"pause", {"maybe", "around quarter past seven"}, HELDOUT},
	{"pause", {"the last time we came", "the service was slow"},
	 HELDOUT},
	{"complete", {"could we get the bill please"}, HELDOUT},
	{"complete", {"we're celebrating an anniversary"}, HELDOUT},
	{"complete", {"that's fine"}, HELDOUT},
	{"complete", {"around seven thirty"}, HELDOUT},
	{"complete", {"do you have a kids menu?"}, HELDOUT},
	{"complete", {"the name is o'brien"}, HELDOUT},
	{"complete", {"no, I think that's it"}, HELDOUT},
	{"complete", {"how much is the set menu?"}, HELDOUT},
	{"complete", {"four adults"}, HELDOUT},
	{"complete", {"we'd prefer inside"}, HELDOUT},
	{"complete", {"yes, definitely"}, HELDOUT},
	{"complete", {"I'll call back later"}, HELDOUT},
	{"backchannel", {"uh huh, yeah"}, HELDOUT},
	{"backchannel", {"right right"}, HELDOUT},
	{"backchannel", {"okay sure"}, HELDOUT},
	{"interruption", {"wait a moment"}, HELDOUT},
	{"interruption", {"no, not that one"}, HELDOUT},
	{"interruption", {"sorry, can I ask something"}, HELDOUT},
	/* The second held-out set (--size heldout2): written on 2026-12-06
	 * (twentieth session) before any rule was mended on the held-out
	 * set above, and not to be tuned on. */
	{"pause", {"I need to move", "our booking to thursday"}, HELDOUT2},
	{"pause", {"we're a group of", "um", "fifteen"}, HELDOUT2},
	{"pause", {"the kids will have", "the chicken nuggets"}, HELDOUT2},
	{"pause", {"can you tell me", "how to get there from the station"},
	 HELDOUT2},
	{"pause", {"I booked online", "but I never got an email"}, HELDOUT2},
	{"pause", {"two adults", "and a baby"}, HELDOUT2},
	{"pause", {"the surname is", "kowalski"}, HELDOUT2},
	{"pause", {"we'd rather not sit", "near the kitchen"}, HELDOUT2},
	{"pause", {"is the terrace", "open tonight"}, HELDOUT2},
	{"pause", {"oh and", "one more thing"}, HELDOUT2},
	{"pause", {"my husband", "uh", "is allergic to shellfish"}, HELDOUT2},
	{"pause", {"so the reservation", "is under miller"}, HELDOUT2},
	{"pause", {"if you have anything", "at around six"}, HELDOUT2},
	{"pause", {"it's seven one eight", "four four two",
		   "nine nine oh three"}, HELDOUT2},
	{"pause", {"do you do", "gluten free pasta"}, HELDOUT2},
	{"pause", {"we were thinking", "maybe sunday instead"}, HELDOUT2},
	{"complete", {"do you allow dogs?"}, HELDOUT2},
	{"complete", {"we'll see you at eight then"}, HELDOUT2},
	{"complete", {"table for six"}, HELDOUT2},
	{"complete", {"it's for tomorrow night"}, HELDOUT2},
	{"complete", {"that sounds great"}, HELDOUT2},
	{"complete", {"no, that's not necessary"}, HELDOUT2},
	{"complete", {"is there a car park?"}, HELDOUT2},
	{"complete", {"the name is garcia"}, HELDOUT2},
	{"complete", {"just me"}, HELDOUT2},
	{"complete", {"we'd like to sit outside"}, HELDOUT2},
	{"complete", {"I'd like to speak to the manager"}, HELDOUT2},
	{"complete", {"seven o'clock"}, HELDOUT2},
	{"backchannel", {"yep"}, HELDOUT2},
	{"backchannel", {"oh right"}, HELDOUT2},
	{"backchannel", {"mm okay"}, HELDOUT2},
	{"interruption", {"hang on a sec"}, HELDOUT2},
	{"interruption", {"no, that's not right"}, HELDOUT2},
	{"interruption", {"wait, sorry"}, HELDOUT2},
};

#define N_UTTS (sizeof(utts) / sizeof(utts[0]))

static const char *const caller_voices[] = {
	"espeak:en-us", "espeak:en-us+f3", "espeak:en-gb+m3",
	"flite:slt", "flite:rms", "flite:awb",
};
#define N_VOICES (sizeof(caller_voices) / sizeof(caller_voices[0]))

static const uint32_t rates[] = {130, 160, 200};
#define N_RATES (sizeof(rates) / sizeof(rates[0]))

static const char *const agent_lines[] = {
	"Sure, I can help you with that. What time would you like to "
	"come in?",
	"We have a table for four at seven thirty on Friday. Would that "
	"work for you?",
	"Thank you for calling. How many people will be joining you "
	"tonight?",
	"Let me check that for you. We are open from noon until ten in "
	"the evening.",
	"Great, and can I have a name and a phone number for the "
	"booking, please?",
	"I am sorry, we are fully booked on Saturday, but Sunday "
	"evening is still free.",
};
#define N_AGENT (sizeof(agent_lines) / sizeof(agent_lines[0]))

/* Babble: voices not used for callers (or the same with another pitch),
 * each saying these sentences from a different starting point. */
static const struct {
	const char *voice;
	uint32_t pitch;
} babble_talkers[BABBLE_TALKERS] = {
	{"espeak:en-us+m1", 0}, {"espeak:en-us+f2", 0},
	{"espeak:en-gb+f4", 0}, {"espeak:en-us+m7", 0},
	{"espeak:en-gb+m5", 0}, {"flite:kal", 0},
	{"flite:rms", 35}, {"flite:slt", 65},
};

static const char *const babble_lines[] = {
	"I told him we would meet at the station around half past six.",
	"The weather has been terrible all week, it rained every day.",
	"Did you see the match last night? It went to extra time.",
	"My sister is moving to a new flat on the other side of town.",
	"We should order more paper before the end of the month.",
	"The train was late again so I missed the first meeting.",
	"Can you pass me the salt and the pepper, please?",
	"They are building a new bridge over the river next year.",
	"I think the blue one looks better than the green one.",
	"Honestly I have no idea where I left my keys this morning.",
};
#define N_BABBLE (sizeof(babble_lines) / sizeof(babble_lines[0]))

enum noise_kind { NOISE_NONE, NOISE_WHITE, NOISE_PINK, NOISE_BABBLE };

static const struct cond {
	const char *name;
	enum noise_kind kind;
	const char *noise;     /* as written in corpus.jsonl */
	int snr_db;
} conds[] = {
	{"clean", NOISE_NONE, "none", 0},
	{"white20", NOISE_WHITE, "white", 20},
	{"white10", NOISE_WHITE, "white", 10},
	{"white5", NOISE_WHITE, "white", 5},
	{"pink20", NOISE_PINK, "pink", 20},
	{"pink10", NOISE_PINK, "pink", 10},
	{"pink5", NOISE_PINK, "pink", 5},
	{"babble20", NOISE_BABBLE, "babble", 20},
	{"babble10", NOISE_BABBLE, "babble", 10},
	{"babble5", NOISE_BABBLE, "babble", 5},
};
#define N_CONDS (sizeof(conds) / sizeof(conds[0]))

struct seg {
	float *pcm;             /* clean, 16 kHz, PCM16 units */
	size_t n;
	struct mix_range act;   /* where its sound is */
};

/* One caller utterance as rendered; mixed into every condition. */
struct base {
	const struct utt *u;
	char id[64];             /* e.g. "pause_003" */
	const char *voice;
	uint32_t rate;
	struct seg segs[MAX_SEGS];
	size_t n_segs;
	int pause_ms[MAX_SEGS];  /* after segment i */
	int lead_ms, trail_ms;
	int level_dbfs;          /* active speech level */
	uint64_t seed;
};

/* A caller utterance laid out on a timeline. */
struct layout {
	float *pcm;
	size_t n;
	struct mix_range speech[MAX_SEGS];
	size_t n_speech;
};

struct out {
	const char *dir;
	FILE *jsonl;
	size_t items;
	double audio_s;
};

static void seg_reset(struct seg *s)
{
	s->pcm = mem_deref(s->pcm);
	s->n = 0;
}

static void base_reset(struct base *b)
{
	size_t i;

	for (i = 0; i < b->n_segs; i++)
		seg_reset(&b->segs[i]);
	b->n_segs = 0;
}

/* What to give the synthesiser for a written word it would spell out
 * ("mhm" becomes "M H M" in both engines). */
static const char *say_text(const char *voice, const char *text)
{
	bool flite = !strncmp(voice, "flite:", 6);

	if (!strcmp(text, "mhm"))
		return flite ? "hum" : "hmm";
	if (!strcmp(text, "uh-huh"))
		return "uh huh";

	return text;
}

/* Render text with a voice into 16 kHz float samples. */
static int synth_words(const char *voice, uint32_t rate, uint32_t pitch,
		       const char *text, float **pcmp, size_t *np,
		       struct bt_tts_word **wordsp, size_t *n_wordsp)
{
	struct bt_tts_prm prm;
	struct bt_tts_st *st = NULL;
	struct bt_tts_audio *au = NULL;
	int16_t *pcm16 = NULL;
	float *pcm = NULL;
	size_t n = 0, i;
	int err;

	bt_tts_prm_default(&prm);
	prm.rate_wpm = rate;
	if (pitch)
		prm.pitch = pitch;

	err = bt_tts_open(&st, voice, &prm);
	if (err)
		goto out;
	err = bt_tts_synth(st, say_text(voice, text), &au);
	if (err)
		goto out;
	err = bt_resample_buf(au->pcm, au->n, au->rate_hz, RATE, &pcm16, &n);
	if (err)
		goto out;
	if (!n) {
		err = bt_err(EIO, "%s rendered no audio for "
			     "\"%s\"", voice, text);
		goto out;
	}

	pcm = mem_alloc(n * sizeof(*pcm), NULL);
	if (!pcm) {
		err = bt_err(ENOMEM, "out of memory");
		goto out;
	}
	for (i = 0; i < n; i++)
		pcm[i] = pcm16[i];

	*pcmp = pcm;
	*np = n;
	if (wordsp) {
		*wordsp = mem_ref(au->words);
		*n_wordsp = au->n_words;
	}

 out:
	mem_deref(pcm16);
	mem_deref(au);
	mem_deref(st);
	return err;
}

static int synth(const char *voice, uint32_t rate, uint32_t pitch,
		 const char *text, float **pcmp, size_t *np)
{
	return synth_words(voice, rate, pitch, text, pcmp, np, NULL, NULL);
}

static int seg_render(struct seg *s, const char *voice, uint32_t rate,
		      const char *text)
{
	int err = synth(voice, rate, 0, text, &s->pcm, &s->n);

	if (err)
		return err;
	if (!mix_find_active(s->pcm, s->n, RATE, ACTIVE_REL_DB, &s->act))
		return bt_err(EIO, "%s rendered silence for "
			      "\"%s\"", voice, text);

	return 0;
}

static void scale_to_level(float *x, size_t n, const struct mix_range *rg,
			   size_t n_rg, double level_dbfs)
{
	double p = mix_power(x, n, rg, n_rg), g;
	size_t i;

	if (p <= 0.0)
		return;

	g = pow(10.0, (level_dbfs - mix_db(p)) / 20.0);
	for (i = 0; i < n; i++)
		x[i] = (float)(x[i] * g);
}

/*
 * Lay the segments out: the first sound at lead_ms, each next one
 * pause_ms after the end of the previous one's sound, trail_ms of
 * silence after the last; then set the active speech level.
 */
static int layout_make(struct layout *l, const struct base *b, int lead_ms)
{
	size_t pos[MAX_SEGS], end = 0, i, k;
	size_t lead = (size_t)lead_ms * SMP_PER_MS;

	memset(l, 0, sizeof(*l));

	for (i = 0; i < b->n_segs; i++) {
		const struct seg *s = &b->segs[i];
		size_t onset;

		if (i == 0)
			onset = lead;
		else
			onset = l->speech[i - 1].end +
				(size_t)b->pause_ms[i - 1] * SMP_PER_MS;

		/* a segment's own lead-in is shorter than any pause */
		pos[i] = onset - s->act.start;
		l->speech[i].start = onset;
		l->speech[i].end = pos[i] + s->act.end;
		if (pos[i] + s->n > end)
			end = pos[i] + s->n;
	}
	l->n_speech = b->n_segs;

	l->n = l->speech[b->n_segs - 1].end +
		(size_t)b->trail_ms * SMP_PER_MS;
	if (end > l->n)
		l->n = end;

	l->pcm = mem_zalloc(l->n * sizeof(float), NULL);
	if (!l->pcm)
		return bt_err(ENOMEM, "out of memory");

	for (i = 0; i < b->n_segs; i++) {
		for (k = 0; k < b->segs[i].n; k++)
			l->pcm[pos[i] + k] += b->segs[i].pcm[k];
	}

	scale_to_level(l->pcm, l->n, l->speech, l->n_speech, b->level_dbfs);
	return 0;
}

static uint32_t smp_to_ms(size_t smp)
{
	return (uint32_t)((smp + SMP_PER_MS / 2) / SMP_PER_MS);
}

static json_t *ranges_json(const struct mix_range *rg, size_t n)
{
	json_t *a = json_array();
	size_t i;

	for (i = 0; a && i < n; i++)
		json_array_append_new(a, json_pack("[i,i]",
						   (int)smp_to_ms(rg[i].start),
						   (int)smp_to_ms(rg[i].end)));

	return a;
}

static void join_text(char *buf, size_t sz, const struct utt *u)
{
	size_t i;
	int len = 0;

	buf[0] = '\0';
	for (i = 0; i < MAX_SEGS && u->segs[i]; i++) {
		int w = snprintf(buf + len, sz - (size_t)len, "%s%s",
				 i ? " [pause] " : "", u->segs[i]);

		if (w < 0 || (size_t)(len + w) >= sz)
			break;
		len += w;
	}
}

static int wav_write(const char *dir, const char *name, const int16_t *pcm,
		     size_t n)
{
	char path[PATH_MAX_LEN];
	struct bt_wav_writer *w = NULL;
	int err;

	if (snprintf(path, sizeof(path), "%s/%s", dir, name) >=
	    (int)sizeof(path))
		return bt_err(ENAMETOOLONG, "path too long: %s/%s",
			      dir, name);

	err = bt_wav_writer_open(&w, path, RATE, 1);
	if (!err)
		err = bt_wav_writer_write(w, pcm, n);
	if (!err)
		err = bt_wav_writer_close(w);
	mem_deref(w);

	return err;
}

/* Write one mixed item (and its echo reference, if any) at a common
 * scale that keeps the peak under PEAK_MAX, plus its corpus.jsonl line. */
static int item_write(struct out *o, const struct base *b,
		      const struct layout *l, const float *mixed,
		      const struct cond *c, float *ref, json_t *echo)
{
	char name[128], text[TEXT_MAX], refname[128];
	int16_t *pcm = NULL;
	struct mix_range pauses[MAX_SEGS];
	float pk = mix_peak(mixed, l->n);
	double scale = 1.0;
	json_t *obj = NULL;
	char *line = NULL;
	size_t i;
	int err;

	if (ref && mix_peak(ref, l->n) > pk)
		pk = mix_peak(ref, l->n);
	if (pk > PEAK_MAX)
		scale = PEAK_MAX / pk;

	snprintf(name, sizeof(name), "%s_%s.wav", b->id,
		 echo ? "echo" : c->name);

	pcm = mem_alloc(l->n * sizeof(*pcm), NULL);
	if (!pcm)
		return bt_err(ENOMEM, "out of memory");

	mix_to_pcm16(pcm, mixed, l->n, scale);
	err = wav_write(o->dir, name, pcm, l->n);
	if (err)
		goto out;

	if (ref) {
		snprintf(refname, sizeof(refname), "%s_echo_ref.wav", b->id);
		mix_to_pcm16(pcm, ref, l->n, scale);
		err = wav_write(o->dir, refname, pcm, l->n);
		if (err)
			goto out;
		json_object_set_new(echo, "ref", json_string(refname));
	}

	for (i = 0; i + 1 < l->n_speech; i++) {
		pauses[i].start = l->speech[i].end;
		pauses[i].end = l->speech[i + 1].start;
	}

	join_text(text, sizeof(text), b->u);
	obj = json_pack("{s:s, s:s, s:s, s:s, s:s, s:i, s:s, s:o, s:o, "
			"s:i, s:f, s:o, s:o}",
			"file", name,
			"id", b->id,
			"category", b->u->cat,
			"text", text,
			"voice", b->voice,
			"rate_wpm", (int)b->rate,
			"noise", c->noise,
			"snr_db", c->kind == NOISE_NONE ? json_null() :
			json_integer(c->snr_db),
			"echo", echo ? json_incref(echo) : json_null(),
			"duration_ms", (int)smp_to_ms(l->n),
			"speech_dbfs",
			round((b->level_dbfs + 20.0 * log10(scale)) * 10) / 10,
			"speech", ranges_json(l->speech, l->n_speech),
			"pauses", ranges_json(pauses, l->n_speech - 1));
	if (!obj) {
		err = bt_err(ENOMEM, "cannot build JSON");
		goto out;
	}

	line = json_dumps(obj, JSON_COMPACT | JSON_PRESERVE_ORDER);
	if (!line || fprintf(o->jsonl, "%s\n", line) < 0) {
		err = bt_err(EIO, "cannot write corpus.jsonl");
		goto out;
	}

	++o->items;
	o->audio_s += (double)l->n / RATE;

 out:
	free(line);
	json_decref(obj);
	mem_deref(pcm);
	return err;
}

/* Noise for n samples: fresh white or pink noise, or a stretch of the
 * babble loop starting at a random point. */
static void noise_make(float *nz, size_t n, enum noise_kind kind,
		       const float *babble, size_t n_babble,
		       struct mix_rng *rng)
{
	size_t i, off;

	if (kind == NOISE_BABBLE) {
		off = mix_rng_u32(rng) % n_babble;
		for (i = 0; i < n; i++)
			nz[i] = babble[(off + i) % n_babble];
		return;
	}

	mix_noise_fill(nz, n, kind == NOISE_PINK ? MIX_NOISE_PINK :
		       MIX_NOISE_WHITE, rng);
}

static int base_conds(struct out *o, const struct base *b,
		      const float *babble, size_t n_babble)
{
	struct layout l;
	float *mixed = NULL, *nz = NULL;
	size_t c;
	int err;

	err = layout_make(&l, b, b->lead_ms);
	if (err)
		return err;

	mixed = mem_alloc(l.n * sizeof(float), NULL);
	nz = mem_alloc(l.n * sizeof(float), NULL);
	if (!mixed || !nz) {
		err = bt_err(ENOMEM, "out of memory");
		goto out;
	}

	for (c = 0; c < N_CONDS; c++) {
		struct mix_rng rng;

		mix_rng_seed(&rng, b->seed * 131 + c + 1);
		memcpy(mixed, l.pcm, l.n * sizeof(float));
		if (conds[c].kind != NOISE_NONE) {
			noise_make(nz, l.n, conds[c].kind, babble, n_babble,
				   &rng);
			mix_add_noise(mixed, l.pcm, nz, l.n, l.speech,
				      l.n_speech, conds[c].snr_db);
		}

		err = item_write(o, b, &l, mixed, &conds[c], NULL, NULL);
		if (err)
			break;
	}

 out:
	mem_deref(nz);
	mem_deref(mixed);
	mem_deref(l.pcm);
	return err;
}

/*
 * The speakerphone variant: an agent (another voice) talks from
 * AGENT_LEAD_MS; its sound comes back into the caller's microphone one
 * tap delayed by 40-120 ms at -20 dB. The agent is set to the caller's
 * speech level, so the echo sits 20 dB under the caller. Backchannels and
 * interruptions come while the agent talks, the other turns after it.
 */
static int base_echo(struct out *o, struct base *b, size_t voice_idx)
{
	struct mix_rng rng;
	struct layout l = {0};
	struct mix_range act, agent_rg;
	float *agent = NULL, *ref = NULL, *mixed = NULL;
	size_t n_agent = 0, agent_end, n, i;
	const char *agent_voice, *line;
	int delay_ms, lead_ms, err;
	bool during;
	json_t *echo = NULL;

	mix_rng_seed(&rng, b->seed * 131 + 977);
	agent_voice = caller_voices[(voice_idx + 1 +
				     mix_rng_u32(&rng) % (N_VOICES - 1)) %
				    N_VOICES];
	line = agent_lines[mix_rng_u32(&rng) % N_AGENT];
	delay_ms = mix_rng_range(&rng, ECHO_DELAY_MIN_MS, ECHO_DELAY_MAX_MS);

	err = synth(agent_voice, 160, 0, line, &agent, &n_agent);
	if (err)
		goto out;
	if (!mix_find_active(agent, n_agent, RATE, ACTIVE_REL_DB, &act)) {
		err = bt_err(EIO, "agent voice %s is silent",
			     agent_voice);
		goto out;
	}

	agent_rg.start = AGENT_LEAD_MS * SMP_PER_MS;
	agent_rg.end = agent_rg.start + (act.end - act.start);
	agent_end = agent_rg.end / SMP_PER_MS;

	during = !strcmp(b->u->cat, "backchannel") ||
		!strcmp(b->u->cat, "interruption");
	if (during)
		lead_ms = AGENT_LEAD_MS + (int)((double)(act.end - act.start) /
						SMP_PER_MS *
						(0.3 + 0.3 *
						 mix_rng_uniform(&rng)));
	else
		lead_ms = (int)agent_end + mix_rng_range(&rng, 200, 600);

	err = layout_make(&l, b, lead_ms);
	if (err)
		goto out;

	/* room for the whole agent line and its echo */
	n = l.n;
	if (agent_rg.start + (n_agent - act.start) +
	    (size_t)delay_ms * SMP_PER_MS > n)
		n = agent_rg.start + (n_agent - act.start) +
			(size_t)delay_ms * SMP_PER_MS;

	ref = mem_zalloc(n * sizeof(float), NULL);
	mixed = mem_zalloc(n * sizeof(float), NULL);
	if (!ref || !mixed) {
		err = bt_err(ENOMEM, "out of memory");
		goto out;
	}

	for (i = act.start; i < n_agent; i++)
		ref[agent_rg.start + i - act.start] = agent[i];
	scale_to_level(ref, n, &agent_rg, 1, b->level_dbfs);

	memcpy(mixed, l.pcm, l.n * sizeof(float));
	mix_add_echo(mixed, ref, n, (size_t)delay_ms * SMP_PER_MS,
		     ECHO_GAIN_DB);

	echo = json_pack("{s:s, s:s, s:i, s:f, s:o}",
			 "voice", agent_voice,
			 "text", line,
			 "delay_ms", delay_ms,
			 "gain_db", ECHO_GAIN_DB,
			 "agent_speech", ranges_json(&agent_rg, 1));
	if (!echo) {
		err = bt_err(ENOMEM, "cannot build JSON");
		goto out;
	}

	l.n = n;  /* the speech ranges stay the caller's */
	err = item_write(o, b, &l, mixed, &conds[0], ref, echo);

 out:
	json_decref(echo);
	mem_deref(mixed);
	mem_deref(ref);
	mem_deref(agent);
	mem_deref(l.pcm);
	return err;
}

/* Several talkers at once, each at the same level, as a loop of
 * BABBLE_S seconds at unit RMS. */
static int babble_make(uint64_t seed, float **bp, size_t *np)
{
	const size_t n = (size_t)BABBLE_S * RATE;
	struct mix_rng rng;
	float *bab, *talk = NULL;
	size_t t, i;
	int err = 0;

	bab = mem_zalloc(n * sizeof(float), NULL);
	talk = mem_alloc(n * sizeof(float), NULL);
	if (!bab || !talk) {
		err = bt_err(ENOMEM, "out of memory");
		goto out;
	}

	mix_rng_seed(&rng, seed * 7919 + 3);

	for (t = 0; t < BABBLE_TALKERS; t++) {
		size_t pos = 0, line = t, off;

		memset(talk, 0, n * sizeof(float));
		while (pos < n) {
			struct mix_range act;
			float *s = NULL;
			size_t ns = 0;

			err = synth(babble_talkers[t].voice, 160,
				    babble_talkers[t].pitch,
				    babble_lines[line++ % N_BABBLE], &s, &ns);
			if (err)
				goto out;
			if (mix_find_active(s, ns, RATE, ACTIVE_REL_DB,
					    &act)) {
				for (i = act.start; i < act.end && pos < n;
				     i++)
					talk[pos++] = s[i];
			}
			mem_deref(s);
			pos += (size_t)mix_rng_range(&rng, 100, 300) *
				SMP_PER_MS;
		}

		scale_to_level(talk, n, NULL, 0, -30.0);
		off = mix_rng_u32(&rng) % n;
		for (i = 0; i < n; i++)
			bab[i] += talk[(off + i) % n];
	}

	scale_to_level(bab, n, NULL, 0, mix_db(1.0));
	*bp = bab;
	*np = n;
	bab = NULL;

 out:
	mem_deref(talk);
	mem_deref(bab);
	return err;
}

static size_t count_words(const char *t)
{
	size_t n = 0;
	bool in = false;

	for (; *t; t++) {
		bool sp = *t == ' ';
		if (!sp && !in)
			++n;
		in = !sp;
	}
	return n;
}

/*
 * An utterance with pauses inside is said as one sentence and cut at the
 * word boundaries where the pauses go: the words before a pause keep the
 * intonation of the middle of a sentence (no final fall, no final
 * lengthening), as when a person stops to think, instead of the falling
 * end a sentence of their own would get. 5 ms fades at each cut.
 */
static int segs_render_cut(struct base *b, const struct utt *u)
{
	char text[TEXT_MAX];
	struct bt_tts_word *w = NULL;
	size_t n_w = 0, n = 0, i, first = 0, len = 0;
	size_t cut[MAX_SEGS + 1];
	float *pcm = NULL;
	int err;

	text[0] = '\0';
	for (i = 0; i < MAX_SEGS && u->segs[i]; i++) {
		int k = snprintf(text + len, sizeof(text) - len, "%s%s",
				 i ? " " : "", say_text(b->voice, u->segs[i]));
		if (k < 0 || len + (size_t)k >= sizeof(text))
			return bt_err(E2BIG, "utterance too long");
		len += (size_t)k;
	}
	err = synth_words(b->voice, b->rate, 0, text, &pcm, &n, &w, &n_w);
	if (err)
		return err;

	cut[0] = 0;
	for (i = 0; i < MAX_SEGS && u->segs[i]; i++) {
		size_t last = first + count_words(say_text(b->voice,
							   u->segs[i])) - 1;
		if (last >= n_w) {
			err = bt_err(EIO, "%s gave %zu word timings for "
				     "\"%s\"", b->voice, n_w, text);
			goto out;
		}
		if (!u->segs[i + 1] || i + 1 == MAX_SEGS) {
			cut[i + 1] = n;
		}
		else {
			uint32_t ms = (w[last].end_ms + w[last + 1].start_ms)
				/ 2;
			cut[i + 1] = (size_t)ms * SMP_PER_MS;
			if (cut[i + 1] > n)
				cut[i + 1] = n;
		}
		first = last + 1;
	}
	for (i = 0; i < MAX_SEGS && u->segs[i]; i++) {
		struct seg *sg = &b->segs[i];
		size_t m = cut[i + 1] > cut[i] ? cut[i + 1] - cut[i] : 0;
		size_t fade = 5 * SMP_PER_MS, k;

		b->n_segs = i + 1;
		sg->pcm = mem_alloc((m ? m : 1) * sizeof(float), NULL);
		if (!sg->pcm) {
			err = bt_err(ENOMEM, "out of memory");
			goto out;
		}
		memcpy(sg->pcm, pcm + cut[i], m * sizeof(float));
		sg->n = m;
		for (k = 0; k < fade && k < m; k++) {
			float g = (float)k / (float)fade;
			if (i)
				sg->pcm[k] *= g;
			if (u->segs[i + 1])
				sg->pcm[m - 1 - k] *= g;
		}
		if (!mix_find_active(sg->pcm, sg->n, RATE, ACTIVE_REL_DB,
				     &sg->act)) {
			err = bt_err(EIO, "%s: no sound in \"%s\" cut from "
				     "\"%s\"", b->voice, u->segs[i], text);
			goto out;
		}
	}
 out:
	mem_deref(w);
	mem_deref(pcm);
	return err;
}

static int base_make(struct base *b, const struct utt *u, size_t cat_idx,
		     size_t voice_idx, size_t rate_idx, uint64_t seed)
{
	struct mix_rng rng;
	size_t i;
	int err = 0;

	memset(b, 0, sizeof(*b));
	b->u = u;
	b->voice = caller_voices[voice_idx];
	b->rate = rates[rate_idx];
	b->seed = seed;
	snprintf(b->id, sizeof(b->id), "%s_%03zu", u->cat, cat_idx);

	mix_rng_seed(&rng, seed);
	b->lead_ms = mix_rng_range(&rng, 600, 1200);
	b->trail_ms = mix_rng_range(&rng, 600, 1000);
	b->level_dbfs = mix_rng_range(&rng, -32, -20);

	for (i = 0; i < MAX_SEGS && u->segs[i]; i++)
		b->pause_ms[i] = mix_rng_range(&rng, 300, 1500);
	if (i > 1)
		return segs_render_cut(b, u);

	err = seg_render(&b->segs[0], b->voice, b->rate, u->segs[0]);
	b->n_segs = 1;

	return err;
}

static int make_dir(const char *dir)
{
	if (mkdir(dir, 0755) && errno != EEXIST)
		return bt_err(errno, "cannot create %s: %s", dir,
			      strerror(errno));

	return 0;
}

static void usage(void)
{
	fprintf(stderr, "usage: gen_corpus [--size small|full|extra|extra2|"
		"heldout|heldout2] [--seed N] OUT_DIR\n"
		"  small:   one voice and rate per utterance (~290 items)\n"
		"  full:    every utterance in three voice/rate pairs\n"
		"  extra, extra2: more tuning sets, in three voice/rate "
		"pairs\n"
		"  heldout, heldout2: utterances no rule is fitted to, in "
		"three voice/rate pairs\n");
}

/* whether utterance u is in the corpus of that size */
static bool in_size(size_t u, enum set size)
{
	switch (size) {
	case SMALL:
		return utts[u].set == SMALL;
	case FULL:
		return utts[u].set == SMALL || utts[u].set == FULL;
	default:
		return utts[u].set == size;
	}
}

int main(int argc, char **argv)
{
	const char *dir = NULL;
	enum set size = SMALL;
	uint64_t seed = 1;
	char path[PATH_MAX_LEN], tmp[PATH_MAX_LEN];
	struct out o = {0};
	float *babble = NULL;
	size_t n_babble = 0, u, k, cat_idx = 0, n_combos;
	struct timespec t0, t1;
	int i, err;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--size") && i + 1 < argc) {
			++i;
			if (!strcmp(argv[i], "full"))
				size = FULL;
			else if (!strcmp(argv[i], "extra"))
				size = EXTRA;
			else if (!strcmp(argv[i], "extra2"))
				size = EXTRA2;
			else if (!strcmp(argv[i], "heldout"))
				size = HELDOUT;
			else if (!strcmp(argv[i], "heldout2"))
				size = HELDOUT2;
			else if (strcmp(argv[i], "small")) {
				usage();
				return 2;
			}
		}
		else if (!strcmp(argv[i], "--seed") && i + 1 < argc) {
			seed = strtoull(argv[++i], NULL, 10);
		}
		else if (argv[i][0] != '-' && !dir) {
			dir = argv[i];
		}
		else {
			usage();
			return 2;
		}
	}
	if (!dir) {
		usage();
		return 2;
	}

	clock_gettime(CLOCK_MONOTONIC, &t0);
	/* the corpus is defined by the engines' own output, sentence after
	 * sentence, as it was before the sentence cache existed */
	bt_tts_cache_set(0);

	err = make_dir(dir);
	if (!err)
		err = bt_tts_espeak_init();
	if (!err)
		err = bt_tts_flite_init();
	if (err)
		goto out;

	/* written under a temporary name: corpus.jsonl appears only when
	 * the corpus is complete */
	snprintf(path, sizeof(path), "%s/corpus.jsonl", dir);
	snprintf(tmp, sizeof(tmp), "%s/corpus.jsonl.part", dir);
	o.dir = dir;
	o.jsonl = fopen(tmp, "w");
	if (!o.jsonl) {
		err = bt_err(errno, "cannot write %s: %s", tmp,
			     strerror(errno));
		goto out;
	}

	err = babble_make(seed, &babble, &n_babble);
	if (err)
		goto out;

	n_combos = size == SMALL ? 1 : 3;
	for (u = 0; u < N_UTTS; u++) {
		if (!in_size(u, size))
			continue;
		/* ids count within a category, wherever its utterances are */
		cat_idx = 0;
		for (size_t v = 0; v < u; v++)
			if (in_size(v, size) &&
			    !strcmp(utts[v].cat, utts[u].cat))
				cat_idx += n_combos;

		for (k = 0; k < n_combos; k++) {
			struct base b;
			size_t vi = (u + 2 * k) % N_VOICES;
			/* u / N_VOICES: else voice and rate go
			 * together (6 is a multiple of 3) */
			size_t ri = (u + u / N_VOICES + k) % N_RATES;

			err = base_make(&b, &utts[u], cat_idx++, vi, ri,
					seed * 100003 + u * 17 + k);
			if (!err)
				err = base_conds(&o, &b, babble, n_babble);
			if (!err)
				err = base_echo(&o, &b, vi);
			base_reset(&b);
			if (err)
				goto out;
		}
	}

	if (fclose(o.jsonl)) {
		o.jsonl = NULL;
		err = bt_err(EIO, "cannot write %s", tmp);
		goto out;
	}
	o.jsonl = NULL;
	if (rename(tmp, path)) {
		err = bt_err(errno, "cannot rename %s: %s", tmp,
			     strerror(errno));
		goto out;
	}

	clock_gettime(CLOCK_MONOTONIC, &t1);
	printf("gen_corpus: %zu items, %.0f s of audio in %s (%.1f s)\n",
	       o.items, o.audio_s, dir,
	       (double)(t1.tv_sec - t0.tv_sec) +
	       (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);

 out:
	if (o.jsonl)
		fclose(o.jsonl);
	mem_deref(babble);
	bt_tts_espeak_close();
	bt_tts_flite_close();
	if (err)
		fprintf(stderr, "gen_corpus: %s\n", bt_errmsg());

	return err ? 1 : 0;
}
