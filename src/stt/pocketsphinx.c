/**
 * @file pocketsphinx.c  Streaming STT provider "pocketsphinx".
 *
 * Each instance owns up to three decoders, all fed the same audio so that
 * their front ends (VAD, live CMN) stay in step and their scores can be
 * compared frame for frame:
 *
 *  - lm: the open language model. It gives the words of free speech, and
 *    for a grammar utterance it is the reference that says what else the
 *    caller may have said.
 *  - fsg: one finite-state search per declared grammar, compiled at alloc
 *    from JSGF (none if no grammar is declared). Switching searches
 *    between utterances costs nothing.
 *  - phones: a context-independent phone loop (allphone search), the
 *    reference that says whether there was speech at all and how well
 *    free sounds fit it.
 *  - ovb, ovs: the overlap classifier, small grammars of backchannels
 *    ("mhm", "yeah", "i see") and stop phrases ("wait", "no, stop",
 *    "hold on"), with a dictionary of just those words. It
 *    reads speech said over the agent's voice independently of the
 *    utterance's own grammar: a number grammar would force "yeah" onto
 *    "four". Fed every utterance like the others (its live CMN must stay
 *    in step for its scores to compare), about 0.03 x real time each.
 * confidence() explains how their scores become one figure.
 *
 * Settings chosen for the live path, measured on 16 kHz TTS speech (flite
 * slt/rms/awb/kal, espeak-ng) on a 2-core x86 box:
 *  - -fwdflat no -bestpath no: finish() is ps_end_utt on the last few
 *    frames plus a backtrace, 1-20 ms; a bestpath lattice pass costs
 *    40-135 ms on 2 s utterances.
 *  - -cmn live (the model's feat.params asks for batch CMN, which holds
 *    every frame until the end of the utterance: no partials).
 *  - -remove_silence yes: pocketsphinx's own VAD keeps silence out of
 *    the search and out of the live CMN estimate. Without it, a session
 *    that feeds long near-silent lead-in and trailing audio drags the
 *    cepstral mean towards silence from one utterance to the next, and
 *    words appear in the silence ("four" became "for eight").
 *  - -compallsen yes: senone scores are normalised per frame by the best
 *    scoring senone, and that best is taken over the active senones only.
 *    A narrow grammar activates few senones, so its scores would be
 *    normalised by a worse best than the references' and could not be
 *    compared. Scoring all senones costs about 0.03 x real time per
 *    decoder.
 *  Cost: about 0.36-0.47 x real time of one core per instance while it
 *  listens (bench_stt_setup on stt_hours_rms.wav; lm 0.16, phones 0.07,
 *  fsg 0.05, ovb and ovs 0.03 each; 5-7 ms of CPU per 20 ms frame).
 *
 * What the instances share, and what an instance still costs, is in
 * ps_models.c: per thread the language models, per process the full
 * dictionary (for look-ups) and each compiled grammar. Measured with
 * bench_stt_setup (restaurant agent, 4 grammars, 2 busy cores):
 *  - each more instance: 70 MB RSS (57 MB anonymous; RSS also counts
 *    each decoder's own mapping of the acoustic model's mdef and sendump,
 *    1.8 MB each, which the page cache holds once) and 0.38-0.49 s of
 *    CPU; without sharing 117 MB (105 MB) and 0.56-0.72 s. What is left
 *    is each decoder's own: lm 46 MB (its dictionary of the LM's 80 k
 *    words, 13 MB; the lexicon tree and word tables of its search, 27 MB;
 *    the acoustic model), and 5-6 MB for each of phones, fsg, ovb, ovs.
 *  - the first instance of a process: 132 MB and 0.67-0.81 s (lexicon
 *    27 MB, language models 34 MB), without sharing 117 MB and 0.58-0.62
 *    s; each further thread's first instance loads its own language
 *    models, 34 MB and 0.1 s.
 *  fsg, ovb and ovs start from an empty dictionary and get only their
 *  grammars' words (dict_take), which saved ~30 MB per instance.
 */
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <pocketsphinx.h>
#include <sphinxbase/err.h>
#include <re.h>
#include "banter/audio.h"
#include "banter/err.h"
#include "banter/stt.h"
#include "ps_models.h"

enum {
	/* a partial hypothesis is a backtrace: at most one per 160 ms */
	PARTIAL_SAMPLES = BT_RATE_HZ / 1000 * 160,
	JSGF_MAX = 64 * 1024,     /* one compiled grammar's source */
	PHRASE_MAX = 256,         /* one extra phrase, normalised */
	WORD_MAX = 64,            /* one word of a grammar */
	SEARCH_LEN = 16,          /* internal search names: "bt_g<n>" */
	GRAMMAR_MAX = 256,        /* grammars per instance */
};

/*
 * Confidence calibration, see confidence(). Log-likelihood ratios in
 * decoder score units per speech frame (a unit is 2^10 log-base-1.0001
 * steps, about 0.1 nat).
 */
#define GRAM_MID -40.0   /* grammar: LLR(phones) + LLR(lm) at 0.5 */
#define GRAM_SCALE 6.0
#define OPEN_MID -36.0   /* open LM: LLR(phones) at 0.5 */
#define OPEN_SCALE 6.0

struct gram {
	char *name;              /* the caller's name (owned) */
	enum bt_slot_type type;
	char search[SEARCH_LEN]; /* "" = the open language model */
	struct bt_psm_fsg *fsg;  /* its compiled grammar, when shared */
};

/* The decoders of one recogniser: made once, reused by call after call
 * on their thread (see the pool below). */
struct psi {
	struct le le;              /* in the idle pool */
	uint64_t key;              /* the grammars it was made for */
	ps_decoder_t *lm;
	ps_decoder_t *fsg;         /* NULL if no grammar needs one */
	ps_decoder_t *phones;
	ps_decoder_t *ovb;         /* overlap classifier (see above): */
	ps_decoder_t *ovs;         /* backchannels, stop phrases */
	ps_decoder_t *lex;         /* where words are looked up: the shared
				      lexicon, or lm if nothing is shared */
	struct bt_psm_lms *lms;    /* this thread's LMs; NULL: own models */
	struct bt_psm_fsg *ov_fsg[2]; /* ovb's and ovs's grammars, shared */
	pthread_t thread;          /* the thread lms belongs to */
	struct bt_stt_overlap ov;  /* its reading of the last utterance */
	struct gram *gramv;
	size_t gramc;
	bool in_utt;
	bool grammar;              /* this utterance's words come from fsg */
	size_t since_partial;      /* samples fed since the last backtrace */
	char partial[512];         /* the hypothesis partialh last gave */
};

static struct bt_stt ps_stt;
static bool registered;

/* ------------------------------------------------------------------ */
/* built-in grammars: JSGF rule bodies; the top rule is <answer>       */
/* ------------------------------------------------------------------ */

static const char gram_number[] =
	"<answer> = [<lead>] <count> [<after>] [<polite>]\n"
	"         | <alone> [<polite>];\n"
	"<lead> = a table for | table for | for | just | about | maybe\n"
	"       | we are | we're | there are | there will be | there'll be\n"
	"       | there are going to be | we will be | we'll be\n"
	"       | it's | it is | it will be | it'll be | make it\n"
	"       | a party of | party of | a booking for | a reservation for\n"
	"       | i'd like a table for | i would like a table for\n"
	"       | can i have a table for | can we have a table for\n"
	"       | could i get a table for | i need a table for\n"
	"       | we need a table for | book a table for;\n"
	"<count> = <unit> | <teen> | <tens> [<unit>];\n"
	"<unit> = one | two | three | four | five | six | seven | eight\n"
	"       | nine;\n"
	"<teen> = ten | eleven | twelve | thirteen | fourteen | fifteen\n"
	"       | sixteen | seventeen | eighteen | nineteen;\n"
	"<tens> = twenty | thirty | forty | fifty | sixty | seventy\n"
	"       | eighty | ninety;\n"
	"<after> = people | persons | guests | adults | of us\n"
	"        | people in total | in total;\n"
	"<alone> = just me | only me | myself | me alone | just myself\n"
	"        | just the two of us | the two of us;\n";

static const char gram_day[] =
	"<answer> = [<pre>] [<det>] <day> [<part>] [<polite>];\n"
	"<pre> = how about | what about | let's say | let's do | make it\n"
	"      | maybe | can we do | could we do | is there anything\n"
	"      | do you have anything | i'd like to come | we'd like to come\n"
	"      | i would like to come | we would like to come | we'll come\n"
	"      | i'll come | we can come | it's for | it is for;\n"
	"<det> = on | next | this | this coming | on next | on this | for\n"
	"      | for next | for this;\n"
	"<day> = monday | tuesday | wednesday | thursday | friday\n"
	"      | saturday | sunday | today | tonight | tomorrow\n"
	"      | the day after tomorrow;\n"
	"<part> = morning | afternoon | evening | night | for lunch\n"
	"       | for dinner;\n";

static const char gram_time[] =
	"<answer> = [<pre>] [<prep>] <time> [<polite>];\n"
	"<pre> = how about | what about | let's say | let's do | make it\n"
	"      | say | maybe | can we do | could we do | is there anything\n"
	"      | do you have anything | i'd like to come | we'd like to come\n"
	"      | i would like to come | we would like to come | we'll come\n"
	"      | i'll come | we can come;\n"
	"<prep> = at | around | about | at about | at around | for | by;\n"
	"<time> = <hour> [o'clock] [<ampm>] | <hour> <minutes> [<ampm>]\n"
	"       | <past> <hour> [<ampm>] | noon | midday | midnight\n"
	"       | twelve noon;\n"
	"<hour> = one | two | three | four | five | six | seven | eight\n"
	"       | nine | ten | eleven | twelve;\n"
	"<minutes> = oh five | ten | fifteen | twenty | twenty five | thirty\n"
	"          | thirty five | forty | forty five | fifty | fifty five;\n"
	"<past> = half past | quarter past | quarter after | quarter to\n"
	"       | five past | ten past | twenty past | twenty five past\n"
	"       | five to | ten to | twenty to | twenty five to;\n"
	"<ampm> = am | pm | in the morning | in the afternoon\n"
	"       | in the evening | at night | tonight;\n";

static const char gram_yesno[] =
	"<answer> = <yes> | <no> | <unsure>;\n"
	"<yes> = (<yesword> [<yesphrase>] | <yesphrase>) [<polite>];\n"
	"<yesword> = yes | yeah | yep | yup | sure | okay | correct | right\n"
	"          | absolutely | definitely | exactly | perfect | great\n"
	"          | fine | alright | certainly | uh-huh | of course;\n"
	"<yesphrase> = that's right | that's correct | that is right\n"
	"            | that is correct | that's it | that's fine\n"
	"            | that's perfect | that's great | sounds good\n"
	"            | that sounds good | that works | go ahead | please do\n"
	"            | it is | yes it is | you got it;\n"
	"<no> = (<noword> [<nophrase>] | <nophrase>) [<polite>];\n"
	"<noword> = no | nope | nah | wrong | incorrect | negative;\n"
	"<nophrase> = that's wrong | that's not right | that's not correct\n"
	"           | that is wrong | that is not right | that isn't right\n"
	"           | not really | not quite | not at all | it isn't\n"
	"           | it's not | it is not | no way | i don't think so;\n"
	"<unsure> = i'm not sure | not sure | i don't know | maybe | i guess\n"
	"         | no idea;\n";

/*
 * What people say over someone who is talking: a backchannel is one to
 * three of <bcw>, a stop phrase one or two of <stopw> with a word around
 * them. One decoder per class: their scores against each other say how
 * sure the reading is (overlap_read).
 */
static const char gram_ov_bc[] =
	"#JSGF V1.0;\ngrammar overlap_bc;\n"
	"public <utt> = <bc>;\n"
	"<bc> = <bcw> [<bcw>] [<bcw>];\n"
	"<bcw> = mhm | hmm | mm | uh-huh | uh huh | yeah | yes | yep | yup\n"
	"      | right | okay | sure | i see | alright | oh | ah | cool\n"
	"      | great | exactly | wow | really | nice | good | got it\n"
	"      | of course | true | indeed;\n";

static const char gram_ov_stop[] =
	"#JSGF V1.0;\ngrammar overlap_stop;\n"
	"public <utt> = <stop>;\n"
	"<stop> = [<pre>] <stopw> [<stopw>] [<post>];\n"
	"<pre> = oh | um | uh | but | no no;\n"
	"<stopw> = wait | stop | no | hold on | hang on | sorry | actually\n"
	"        | excuse me | pardon | what | one moment\n"
	"        | one second | just a moment | just a second\n"
	"        | wait a minute | wait a second | that's wrong\n"
	"        | that's not right | not that | i meant | never mind\n"
	"        | listen | let me;\n"
	"<post> = please | a second | a moment | a minute | there\n"
	"       | for a second | that's wrong | that's not right;\n";

static const char gram_polite[] =
	"<polite> = please | thanks | thank you | please thank you;\n";

static const char *builtin(enum bt_slot_type t)
{
	switch (t) {

	case BT_SLOT_NUMBER: return gram_number;
	case BT_SLOT_DAY:    return gram_day;
	case BT_SLOT_TIME:   return gram_time;
	case BT_SLOT_YESNO:  return gram_yesno;
	default:             return NULL;
	}
}

/* ------------------------------------------------------------------ */
/* words                                                               */
/* ------------------------------------------------------------------ */

static bool word_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	       c == '\'' || c == '-' || c == '.' || c == '_';
}

static bool in_dict(ps_decoder_t *ps, const char *word)
{
	char *pron = ps_lookup_word(ps, word);

	if (!pron)
		return false;
	ckd_free(pron);
	return true;
}

/*
 * Every word of a JSGF body (rule names <...> and weights /.../ skipped)
 * must be in the dictionary: pocketsphinx would otherwise drop the
 * grammar with nothing but a log line. A body of ours failing here is a
 * bug in this file, not in the agent.
 */
/*
 * The next word of a JSGF body into w (rule names <...> and weights /.../
 * skipped); false at the end of the body.
 */
static bool body_word(const char **pp, char *w, size_t sz)
{
	const char *p = *pp;
	size_t n = 0;

	for (;;) {
		if (!*p) {
			*pp = p;
			return false;
		}
		if (*p == '<' || *p == '/') {
			const char *e = strchr(p + 1, *p == '<' ? '>' : '/');

			p = e ? e + 1 : p + strlen(p);
			continue;
		}
		if (word_char(*p))
			break;
		p++;
	}
	while (word_char(*p)) {
		if (n + 1 < sz)
			w[n++] = *p;
		p++;
	}
	w[n] = '\0';
	*pp = p;
	return true;
}

static int body_check(ps_decoder_t *ps, const char *body, const char *gname)
{
	char w[WORD_MAX];

	while (body_word(&body, w, sizeof(w))) {
		if (!in_dict(ps, w))
			return bt_err(EINVAL, "STT grammar \"%s\": built-in "
				      "word '%s' is not in the pocketsphinx "
				      "dictionary; the model files may be "
				      "damaged", gname, w);
	}
	return 0;
}

static int word_check(ps_decoder_t *ps, const char *gname, const char *w,
		      const char *phrase)
{
	if (in_dict(ps, w))
		return 0;
	return bt_err(EINVAL, "STT grammar \"%s\": the word '%s' in phrase "
		      "\"%s\" is not in the pronunciation dictionary; "
		      "rephrase it with common words (numbers as words)",
		      gname, w, phrase);
}

/*
 * An extra phrase into out: lower case, single spaces, every word in the
 * dictionary. Characters other than letters, digits and ' - . _ are
 * refused rather than dropped: they could change the grammar's syntax.
 */
static int phrase_norm(ps_decoder_t *ps, const char *gname,
		       const char *phrase, char *out, size_t sz)
{
	size_t len = 0, ws = 0;   /* ws: where the current word starts */
	const char *p;
	int err;

	for (p = phrase; ; p++) {
		char c = *p;
		bool sep = c == '\0' || c == ' ' || c == '\t' || c == '\n';

		if (c >= 'A' && c <= 'Z')
			c = (char)(c - 'A' + 'a');
		if (!sep && !word_char(c))
			return bt_err(EINVAL, "STT grammar \"%s\": phrase "
				      "\"%s\" has the character '%c'; phrases "
				      "are plain words separated by spaces",
				      gname, phrase, c);
		if (!sep) {
			/* keeps room for a space and the terminator */
			if (len + 2 >= sz)
				return bt_err(E2BIG, "STT grammar \"%s\": "
					      "phrase \"%.40s...\" is too long "
					      "(at most %d characters)", gname,
					      phrase, PHRASE_MAX - 1);
			out[len++] = c;
			continue;
		}
		if (len > ws) {
			out[len] = '\0';
			err = word_check(ps, gname, out + ws, phrase);
			if (err)
				return err;
			out[len++] = ' ';
			ws = len;
		}
		if (c == '\0')
			break;
	}
	if (len)
		len--;            /* the space after the last word */
	out[len] = '\0';
	return 0;
}

/* Lower-case words of a hypothesis, fillers and markers dropped. */
static void hyp_clean(const char *hyp, char *buf, size_t sz)
{
	size_t len = 0;
	const char *p = hyp;

	if (!sz)
		return;
	buf[0] = '\0';
	while (p && *p) {
		const char *s, *e;
		size_t n, i;

		while (*p == ' ')
			p++;
		s = p;
		while (*p && *p != ' ')
			p++;
		e = p;
		if (s == e || *s == '<' || *s == '[' || *s == '+' ||
		    *s == '(')
			continue;
		/* "word(2)": an alternative pronunciation's marker */
		if (e[-1] == ')') {
			const char *o = e - 1;

			while (o > s && *o != '(')
				o--;
			if (o > s)
				e = o;
		}
		n = (size_t)(e - s);
		if (len + (len ? 1 : 0) + n + 1 > sz)
			break;          /* whole words only */
		if (len)
			buf[len++] = ' ';
		for (i = 0; i < n; i++) {
			char c = s[i];

			buf[len++] = (c >= 'A' && c <= 'Z') ?
				(char)(c - 'A' + 'a') : c;
		}
		buf[len] = '\0';
	}
}

/* ------------------------------------------------------------------ */
/* confidence                                                          */
/* ------------------------------------------------------------------ */

static bool filler(const char *w)
{
	return !w || !w[0] || w[0] == '<' || w[0] == '[' || w[0] == '+' ||
	       w[0] == '(' || !strcmp(w, "SIL");
}

/* Acoustic score of the best path and the frames its words span. */
static void path_score(ps_decoder_t *ps, int64_t *ascrp, int *speechp)
{
	ps_seg_t *seg;

	*ascrp = 0;
	*speechp = 0;
	for (seg = ps_seg_iter(ps); seg; seg = ps_seg_next(seg)) {
		int32 ascr = 0, lscr = 0, lback = 0;
		int sf = 0, ef = -1;
		const char *w = ps_seg_word(seg);

		ps_seg_prob(seg, &ascr, &lscr, &lback);
		ps_seg_frames(seg, &sf, &ef);
		*ascrp += ascr;
		if (!filler(w) && ef >= sf)
			*speechp += ef - sf + 1;
	}
}

static double ramp(double x, double lo, double hi)
{
	if (x <= lo)
		return 0;
	if (x >= hi)
		return 1;
	return (x - lo) / (hi - lo);
}

static double logistic(double x, double mid, double scale)
{
	return 1.0 / (1.0 + exp(-(x - mid) / scale));
}

/* Log-likelihood ratio per speech frame of path a against reference b. */
static double llr(int64_t a, int a_frames, int64_t b, int b_frames)
{
	int frames = a_frames > b_frames ? a_frames : b_frames;

	return (double)(a - b) / (frames > 0 ? frames : 1);
}

/*
 * Utterance verification. All decoders score every senone on the same
 * frames, so the acoustic scores of their best paths share a per-frame
 * reference and differences are log-likelihood ratios. Per speech frame
 * (frames the paths spend in words or phones, not silence, so the figure
 * does not depend on how much silence the session feeds):
 *
 *   LLR(x) = (ascr(words) - ascr(x)) / max(speech frames of both)
 *
 * A grammar forces any audio onto some phrase; when the audio is not one
 * of them, the forced path fits worse than what the references found.
 * Grammar utterances use LLR(phones) + LLR(lm): the phone loop alone is a
 * weak reference (context-independent phones fit worse than the words'
 * triphones, so near misses like "yes please" heard as "eight guests
 * please" still scored high), the open LM alone misses some noise.
 *
 * Measured with this file on 16 kHz TTS (flite slt, rms, awb, kal and
 * espeak-ng; number, day, time and yes/no grammars each with 4 intent
 * phrases): the sum had a median of -19 for correct answers (90% above
 * -36) and of -93 for utterances the grammar should not take (90% below
 * -54). Confidence is a logistic around -40 (0.5), slope 6. At 0.4, 78
 * of 82 correct answers pass (the misses: two espeak-ng answers, "four"
 * and "sure" by slt) and 14 of 346 utterances that should not pass do:
 * 3 of 156 off-topic sentences and noises, 11 of 190 answers to other
 * slots, mostly "yes please" or "no thanks" forced onto "eight guests
 * please" or "tomorrow thanks", where the polite word fits and the near
 * miss is short.
 *
 * R = phone-loop speech frames / word frames catches what the LLRs miss:
 *  - R small: the phone loop hears silence where words are claimed
 *    (noise bursts gave R = 0). R < 0.2 gives 0; R >= 0.6 (all correct
 *    answers had >= 0.62) costs nothing.
 *  - R large: the words cover a small part of what was said (fillers
 *    absorbed the rest, e.g. "correct" found in "purple monkey
 *    dishwasher", R ~ 6). R <= 1.5 costs nothing, R >= 3 gives 0.
 *
 * With the open language model any speech is "in grammar": the figure is
 * LLR(phones) of the LM's path (logistic around -36, slope 6) and says
 * whether there was speech and the words fit the sounds (-33..+20 on
 * clear speech; noise gives no words). Fluent nonsense and mumbles come
 * back as plausible words with a high figure.
 */
static float confidence_of(struct psi *st, ps_decoder_t *gram)
{
	int64_t wa, la, pa;
	int ws, ls, psp;
	double c, r;

	path_score(st->lm, &la, &ls);
	path_score(st->phones, &pa, &psp);
	if (gram) {
		path_score(gram, &wa, &ws);
		if (ws <= 0)
			return 0;
		c = logistic(llr(wa, ws, pa, psp) + llr(wa, ws, la, ls),
			     GRAM_MID, GRAM_SCALE);
	}
	else {
		wa = la;
		ws = ls;
		if (ws <= 0)
			return 0;
		c = logistic(llr(wa, ws, pa, psp), OPEN_MID, OPEN_SCALE);
	}
	r = (double)psp / ws;
	c *= ramp(r, 0.2, 0.6) * (1.0 - ramp(r, 1.5, 3.0));
	if (!(c >= 0))
		c = 0;
	return (float)(c > 1 ? 1 : c);
}

static float confidence(struct psi *st)
{
	return confidence_of(st, st->grammar ? st->fsg : NULL);
}

/*
 * The overlap classifier's reading so far (or of the ended utterance): the
 * better of its two classes, and by how much, per speech frame of the
 * longer path. Each class decoder forces the audio onto one of its
 * phrases, so the difference of their scores is a log-likelihood ratio of
 * "a stop phrase" against "a backchannel" on the same frames.
 */
static void overlap_read(struct psi *st, struct bt_stt_overlap *ov)
{
	int32 sb = 0, ss = 0;
	char tb[sizeof(ov->text)], ts[sizeof(ov->text)];
	int64_t unused;
	int fb, fs, frames;
	bool stop;

	memset(ov, 0, sizeof(*ov));
	hyp_clean(ps_get_hyp(st->ovb, &sb), tb, sizeof(tb));
	hyp_clean(ps_get_hyp(st->ovs, &ss), ts, sizeof(ts));
	if (!tb[0] && !ts[0])
		return;
	stop = ts[0] && (!tb[0] || ss > sb);
	str_ncpy(ov->text, stop ? ts : tb, sizeof(ov->text));
	ov->kind = stop ? BT_OVERLAP_STOP : BT_OVERLAP_BACKCHANNEL;
	ov->confidence = confidence_of(st, stop ? st->ovs : st->ovb);
	if (!tb[0] || !ts[0]) {
		ov->stop_llr = stop ? 99.0f : -99.0f;
		return;
	}
	path_score(st->ovb, &unused, &fb);
	path_score(st->ovs, &unused, &fs);
	frames = fb > fs ? fb : fs;
	ov->stop_llr = (float)((double)(ss - sb) / (frames > 0 ? frames : 1));
}

/* ------------------------------------------------------------------ */
/* decoders                                                            */
/* ------------------------------------------------------------------ */

/*
 * The instance's decoders. With sharing, the LM and phone-loop decoders
 * search this thread's language models and words are looked up in the
 * process's lexicon (ps_models.c).
 */
static int decoders_make(struct psi *st, bool need_fsg)
{
	int err = bt_psm_prepare();

	if (!err && bt_psm_sharing()) {
		err = bt_psm_lms_get(&st->lms);
		if (!err)
			err = bt_psm_lexicon(&st->lex);
		st->thread = pthread_self();
	}
	if (err)
		return err;

	st->lm = bt_psm_decoder(BT_PSM_LM, st->lms);
	st->phones = st->lm ? bt_psm_decoder(BT_PSM_PHONES, st->lms) : NULL;
	st->ovb = st->phones ? bt_psm_decoder(BT_PSM_OVL, NULL) : NULL;
	st->ovs = st->ovb ? bt_psm_decoder(BT_PSM_OVL, NULL) : NULL;
	if (st->ovs && need_fsg)
		st->fsg = bt_psm_decoder(BT_PSM_FSG, NULL);
	if (!st->lm || !st->phones || !st->ovs || (need_fsg && !st->fsg))
		return bt_err(EIO, "pocketsphinx could not make its decoders "
			      "(out of memory or damaged model files)");
	if (!st->lms)
		st->lex = st->lm;
	return 0;
}

/* The overlap classifier: its words from the main dictionary, then its
 * grammar. */
/*
 * Give decoder `to` (made with an empty dictionary) every word of the
 * JSGF rules `rules` from the full dictionary of `from`, alternative
 * pronunciations ("word(2)") included if alts (the overlap classifier is
 * tuned with the first pronunciation only): a decoder then holds only the
 * words its grammars use (kilobytes instead of the 28 MB dictionary).
 */
static int dict_take(ps_decoder_t *to, ps_decoder_t *from, const char *rules,
		     bool alts, const char *what)
{
	char w[WORD_MAX], alt[WORD_MAX + 16];  /* "word(k)" */

	while (body_word(&rules, w, sizeof(w))) {
		if (in_dict(to, w))
			continue;
		for (unsigned k = 1; k < (alts ? 10u : 2u); k++) {
			const char *name = w;
			char *pron;
			bool fail;

			if (k > 1) {
				snprintf(alt, sizeof(alt), "%s(%u)", w, k);
				name = alt;
			}
			pron = ps_lookup_word(from, name);
			if (!pron) {
				if (k > 1)
					break;
				return bt_err(EINVAL, "%s: '%s' is not in the "
					      "pocketsphinx dictionary", what,
					      w);
			}
			fail = ps_add_word(to, name, pron, FALSE) < 0;
			ckd_free(pron);
			if (fail)
				return bt_err(EIO, "%s: pocketsphinx could not "
					      "add '%s'", what, name);
		}
	}
	return 0;
}

static int overlap_class(struct psi *st, ps_decoder_t *ps,
			 const char *gram, const char *search,
			 struct bt_psm_fsg **fp)
{
	/* the rules after the header: "public <utt> = ..." */
	int err = dict_take(ps, st->lex, strchr(strstr(gram, "public"), '='),
			    false, "STT overlap grammar");

	if (err)
		return err;
	if (bt_psm_grammar_set(ps, search, gram, false, st->lms ? fp : NULL) ||
	    ps_set_search(ps, search) < 0)
		return bt_err(EIO, "STT overlap grammar could not be compiled "
			      "by pocketsphinx");
	return 0;
}

static int overlap_make(struct psi *st)
{
	int err = overlap_class(st, st->ovb, gram_ov_bc, "bt_ov_bc",
				&st->ov_fsg[0]);

	return err ? err : overlap_class(st, st->ovs, gram_ov_stop,
					 "bt_ov_stop", &st->ov_fsg[1]);
}

static int grammar_compile(struct psi *st, const struct bt_stt_grammar *g,
			   struct gram *sg)
{
	const char *body = builtin(g->type);
	struct mbuf *mb;
	char norm[PHRASE_MAX];
	size_t i, n_extra = 0;
	int err;

	mb = mbuf_alloc(4096);
	if (!mb)
		return bt_err(ENOMEM, "out of memory compiling grammar \"%s\"",
			      g->name);

	err = body_check(st->lex, body, g->name);
	if (!err)
		err = body_check(st->lex, gram_polite, g->name);
	if (err)
		goto out;

	err = mbuf_write_str(mb, "#JSGF V1.0;\ngrammar banter;\n");
	err |= mbuf_write_str(mb, "public <utt> = <answer>");
	for (i = 0; i < g->n_phrases && !err && mb->end <= JSGF_MAX; i++) {
		if (!g->phrases[i]) {
			err = bt_err(EINVAL, "STT grammar \"%s\": phrase %zu "
				     "is NULL", g->name, i);
			goto out;
		}
		err = phrase_norm(st->lex, g->name, g->phrases[i], norm,
				  sizeof(norm));
		if (err)
			goto out;
		if (!norm[0])
			continue;
		/* JSGF splits a rule's probability evenly among its
		 * alternatives: grouped, the phrases share half and many
		 * intents do not make the answer itself unlikely */
		err = mbuf_write_str(mb, n_extra ? " | " : " | ( ");
		err |= mbuf_write_str(mb, norm);
		n_extra++;
	}
	if (n_extra)
		err |= mbuf_write_str(mb, " )");
	err |= mbuf_write_str(mb, ";\n");
	err |= mbuf_write_str(mb, body);
	err |= mbuf_write_str(mb, gram_polite);
	err |= mbuf_write_u8(mb, 0);
	if (err) {
		err = bt_err(ENOMEM, "out of memory compiling grammar \"%s\"",
			     g->name);
		goto out;
	}
	if (mb->end > JSGF_MAX) {
		err = bt_err(E2BIG, "STT grammar \"%s\" is too big (%zu bytes "
			     "of JSGF, at most %d): use fewer or shorter "
			     "phrases", g->name, mb->end, JSGF_MAX);
		goto out;
	}
	err = dict_take(st->fsg, st->lex, strchr((const char *)mb->buf, '='),
			true, g->name);
	if (err)
		goto out;
	err = bt_psm_grammar_set(st->fsg, sg->search, (const char *)mb->buf,
				 true, st->lms ? &sg->fsg : NULL);
	if (err)
		err = bt_err(err, "STT grammar \"%s\" could not be compiled "
			     "by pocketsphinx", g->name);

 out:
	mem_deref(mb);
	return err;
}

static bool needs_fsg(const struct bt_stt_prm *prm)
{
	size_t i;

	if (!prm || !prm->grammars)
		return false;
	for (i = 0; i < prm->n_grammars; i++) {
		if (prm->grammars[i].type != BT_SLOT_TEXT)
			return true;
	}
	return false;
}

/* What can be checked before the models load (which takes a while). */
static int prm_check(const struct bt_stt_prm *prm)
{
	size_t i, j;

	if (!prm || !prm->n_grammars)
		return 0;
	if (!prm->grammars)
		return bt_err(EINVAL, "STT: %zu grammars declared but the "
			      "array is NULL", prm->n_grammars);
	if (prm->n_grammars > GRAMMAR_MAX)
		return bt_err(E2BIG, "STT: %zu grammars declared, at most %d",
			      prm->n_grammars, GRAMMAR_MAX);

	for (i = 0; i < prm->n_grammars; i++) {
		const struct bt_stt_grammar *g = &prm->grammars[i];

		if (!g->name || !g->name[0])
			return bt_err(EINVAL, "STT grammar %zu has no name", i);
		for (j = 0; j < i; j++) {
			if (!strcmp(prm->grammars[j].name, g->name))
				return bt_err(EINVAL, "STT grammar \"%s\" is "
					      "declared twice", g->name);
		}
		if (g->type != BT_SLOT_TEXT && !builtin(g->type))
			return bt_err(EINVAL, "STT grammar \"%s\": unknown "
				      "slot type %d", g->name, (int)g->type);
		if (g->n_phrases && !g->phrases)
			return bt_err(EINVAL, "STT grammar \"%s\": %zu phrases "
				      "declared but the array is NULL",
				      g->name, g->n_phrases);
	}
	return 0;
}

static int grammars_make(struct psi *st, const struct bt_stt_prm *prm)
{
	bool selected = false;
	size_t i;
	int err;

	if (!prm || !prm->n_grammars)
		return 0;

	st->gramv = mem_zalloc(prm->n_grammars * sizeof(*st->gramv), NULL);
	if (!st->gramv)
		return bt_err(ENOMEM, "out of memory making STT grammars");

	for (i = 0; i < prm->n_grammars; i++) {
		const struct bt_stt_grammar *g = &prm->grammars[i];
		struct gram *sg = &st->gramv[i];

		err = str_dup(&sg->name, g->name);
		if (err)
			return bt_err(err, "out of memory making STT grammars");
		st->gramc = i + 1;
		sg->type = g->type;

		/* a text slot is free speech: the open language model */
		if (g->type == BT_SLOT_TEXT)
			continue;
		snprintf(sg->search, sizeof(sg->search), "bt_g%u",
			 (unsigned)i);
		err = grammar_compile(st, g, sg);
		if (err)
			return err;

		/* fsg is fed in every utterance (see the file comment), so
		 * it always needs a search, even under the open LM */
		if (!selected) {
			if (ps_set_search(st->fsg, sg->search) < 0)
				return bt_err(EINVAL, "pocketsphinx could not "
					      "select grammar \"%s\"",
					      g->name);
			selected = true;
		}
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* provider                                                            */
/* ------------------------------------------------------------------ */

static int each_end(struct psi *st);

static void destructor(void *arg)
{
	struct psi *st = arg;
	/* ending an utterance decodes the frames still buffered, with this
	 * thread's language models: not from another thread */
	bool home = !st->lms || pthread_equal(st->thread, pthread_self());
	size_t i;

	list_unlink(&st->le);

	if (st->in_utt && home)
		each_end(st);
	/* the allphone search of 5prealpha frees its last phone segments
	 * only when it backtraces again: an empty utterance clears them */
	if (st->phones && ps_start_utt(st->phones) >= 0)
		ps_end_utt(st->phones);

	/* the decoders release shared models: sphinxbase's reference
	 * counts are not atomic */
	bt_psm_lock();
	if (st->lm)
		ps_free(st->lm);
	if (st->fsg)
		ps_free(st->fsg);
	if (st->ovb)
		ps_free(st->ovb);
	if (st->ovs)
		ps_free(st->ovs);
	if (st->phones)
		ps_free(st->phones);
	for (i = 0; i < st->gramc; i++) {
		mem_deref(st->gramv[i].name);
		mem_deref(st->gramv[i].fsg);
	}
	mem_deref(st->ov_fsg[0]);
	mem_deref(st->ov_fsg[1]);
	mem_deref(st->lms);
	bt_psm_unlock();
	mem_deref(st->gramv);
}

static int psi_make(struct psi **stp, const struct bt_stt_prm *prm)
{
	struct psi *st;
	int err;

	st = mem_zalloc(sizeof(*st), destructor);
	if (!st)
		return bt_err(ENOMEM, "out of memory starting pocketsphinx");

	bt_psm_lock();
	err = decoders_make(st, needs_fsg(prm));
	if (!err)
		err = overlap_make(st);
	if (!err)
		err = grammars_make(st, prm);
	bt_psm_unlock();

	if (err)
		mem_deref(st);
	else
		*stp = st;
	return err;
}

static const struct gram *gram_find(const struct psi *st,
				    const char *name)
{
	size_t i;

	for (i = 0; i < st->gramc; i++) {
		if (!strcmp(st->gramv[i].name, name))
			return &st->gramv[i];
	}
	return NULL;
}

static int unknown_grammar(const struct psi *st, const char *name)
{
	char known[256] = "";
	size_t i, len = 0;

	for (i = 0; i < st->gramc && len + 1 < sizeof(known); i++) {
		int n = snprintf(known + len, sizeof(known) - len, "%s%s",
				 i ? ", " : "", st->gramv[i].name);
		if (n < 0)
			break;
		len += (size_t)n;
	}
	return bt_err(EINVAL, "STT grammar \"%s\" is unknown: grammars must be"
		      " declared when the recogniser is made (declared: %s)",
		      name, st->gramc ? known : "none");
}

enum { DECODERS_MAX = 5 };

/* Every decoder the instance has, in a fixed order. */
static size_t decoders_of(const struct psi *st,
			  ps_decoder_t *v[DECODERS_MAX])
{
	size_t n = 0;

	v[n++] = st->lm;
	v[n++] = st->phones;
	if (st->fsg)
		v[n++] = st->fsg;
	v[n++] = st->ovb;
	v[n++] = st->ovs;
	return n;
}

/* Every decoder, so that they all see the same frames. */
static int each_start(struct psi *st)
{
	ps_decoder_t *v[DECODERS_MAX];
	size_t n = decoders_of(st, v);

	for (size_t i = 0; i < n; i++) {
		if (ps_start_utt(v[i]) >= 0)
			continue;
		while (i--)
			ps_end_utt(v[i]);
		return -1;
	}
	return 0;
}

static int each_end(struct psi *st)
{
	ps_decoder_t *v[DECODERS_MAX];
	size_t n = decoders_of(st, v);
	int err = 0;

	for (size_t i = 0; i < n; i++)
		if (ps_end_utt(v[i]) < 0)
			err = -1;
	return err;
}

static int psi_start(struct psi *st, const char *grammar)
{
	const struct gram *g = NULL;

	if (!st)
		return bt_err(EINVAL, "pocketsphinx start: no instance");
	if (st->lms && !pthread_equal(st->thread, pthread_self()))
		return bt_err(EINVAL, "pocketsphinx start: the instance is used"
			      " from another thread than the one that made it;"
			      " it shares that thread's language model, so "
			      "make, feed and free it on the session's thread");
	if (grammar) {
		g = gram_find(st, grammar);
		if (!g)
			return unknown_grammar(st, grammar);
		if (!g->search[0])
			g = NULL;
	}

	/* a new utterance before finish (barge-in, restart): drop the old */
	if (st->in_utt) {
		each_end(st);
		st->in_utt = false;
	}

	if (g && ps_set_search(st->fsg, g->search) < 0)
		return bt_err(EINVAL, "pocketsphinx could not switch to "
			      "grammar \"%s\"", grammar);
	if (each_start(st))
		return bt_err(EIO, "pocketsphinx could not start an utterance");
	st->in_utt = true;
	memset(&st->ov, 0, sizeof(st->ov));
	st->grammar = g != NULL;
	st->since_partial = 0;
	st->partial[0] = '\0';
	return 0;
}

static int psi_feed(struct psi *st, const int16_t *pcm, size_t n)
{
	ps_decoder_t *v[DECODERS_MAX];
	size_t nd;

	if (!st || (!pcm && n))
		return bt_err(EINVAL, "pocketsphinx feed: no instance or "
			      "audio");
	if (!st->in_utt)
		return bt_err(EINVAL, "pocketsphinx feed: no utterance; call "
			      "start first");
	if (!n)
		return 0;

	nd = decoders_of(st, v);
	for (size_t i = 0; i < nd; i++)
		if (ps_process_raw(v[i], pcm, n, FALSE, FALSE) < 0)
			return bt_err(EIO, "pocketsphinx could not decode the "
				      "audio");
	st->since_partial += n;
	return 0;
}

static ps_decoder_t *words(const struct psi *st)
{
	return st->grammar ? st->fsg : st->lm;
}

static bool psi_partial(struct psi *st, char *buf, size_t sz)
{
	bool changed = false;

	if (!st)
		return false;
	if (st->in_utt && st->since_partial >= PARTIAL_SAMPLES) {
		char now[sizeof(st->partial)];
		int32 score = 0;

		st->since_partial = 0;
		hyp_clean(ps_get_hyp(words(st), &score), now, sizeof(now));
		if (strcmp(now, st->partial)) {
			str_ncpy(st->partial, now, sizeof(st->partial));
			changed = true;
		}
	}
	if (buf && sz)
		str_ncpy(buf, st->partial, sz);
	return changed;
}

static int psi_finish(struct psi *st, struct bt_transcript *tr)
{
	int32 score = 0;

	if (!st || !tr)
		return bt_err(EINVAL, "pocketsphinx finish: no instance or "
			      "transcript");
	memset(tr, 0, sizeof(*tr));
	if (!st->in_utt)
		return bt_err(EINVAL, "pocketsphinx finish: no utterance; call "
			      "start first");
	st->in_utt = false;
	st->partial[0] = '\0';

	if (each_end(st))
		return bt_err(EIO, "pocketsphinx could not end the utterance");

	hyp_clean(ps_get_hyp(words(st), &score), tr->text, sizeof(tr->text));
	if (tr->text[0])
		tr->confidence = confidence(st);
	overlap_read(st, &st->ov);
	return 0;
}

static int psi_overlap(struct psi *st, struct bt_stt_overlap *ov)
{
	if (!st || !ov)
		return bt_err(EINVAL, "pocketsphinx overlap: no instance or "
			      "result");
	if (st->in_utt)
		overlap_read(st, ov);
	else
		*ov = st->ov;
	return 0;
}

/*
 * The pool. Making a recogniser costs ~0.35 s of CPU and ~70 MB, on the
 * thread of the call that needs it, where it holds up every other call of
 * that event loop. So a call's decoders are not freed when it ends: they
 * wait, idle, for the next call on the same thread with the same grammars
 * (an agent's), up to bt_stt_pocketsphinx_pool() per thread (the server
 * also makes some before calls come: bt_session_warm). A reused
 * instance keeps its live CMN estimate, as one decoder does from one
 * utterance to the next. Under bt_psm_lock (alloc and free only).
 */
static struct list idle;
static unsigned pool_max;       /* idle instances kept per thread */
static unsigned n_made, n_reused;

/* FNV-1a over what the grammars are made of */
static uint64_t key_add(uint64_t h, const void *p, size_t n)
{
	const uint8_t *b = p;

	for (size_t i = 0; i < n; i++)
		h = (h ^ b[i]) * 1099511628211ULL;
	return h;
}

static uint64_t prm_key(const struct bt_stt_prm *prm)
{
	uint64_t h = 14695981039346656037ULL;

	for (size_t i = 0; prm && i < prm->n_grammars; i++) {
		const struct bt_stt_grammar *g = &prm->grammars[i];
		int t = (int)g->type;

		h = key_add(h, g->name, strlen(g->name) + 1);
		h = key_add(h, &t, sizeof(t));
		for (size_t k = 0; k < g->n_phrases; k++)
			h = key_add(h, g->phrases[k],
				    strlen(g->phrases[k]) + 1);
		h = key_add(h, "|", 1);
	}
	return h;
}

static struct psi *pool_take(uint64_t key)
{
	pthread_t self = pthread_self();
	struct psi *p = NULL;

	bt_psm_lock();
	for (struct le *le = idle.head; le; le = le->next) {
		struct psi *q = le->data;

		if (q->key == key && (!q->lms ||
				      pthread_equal(q->thread, self))) {
			list_unlink(&q->le);
			p = q;
			break;
		}
	}
	bt_psm_unlock();
	return p;
}

/* Back to the pool if this thread keeps fewer than pool_max; true if
 * kept. */
static bool pool_give(struct psi *p)
{
	pthread_t self = pthread_self();
	unsigned n = 0;
	bool kept = false;

	if (p->lms && !pthread_equal(p->thread, self))
		return false;
	bt_psm_lock();
	for (struct le *le = idle.head; le; le = le->next) {
		const struct psi *q = le->data;

		if (!q->lms || pthread_equal(q->thread, self))
			++n;
	}
	if (n < pool_max) {
		list_append(&idle, &p->le, p);
		kept = true;
	}
	bt_psm_unlock();
	return kept;
}

/* What a session holds: its pooled decoders. */
struct bt_stt_st {
	const struct bt_stt *stt;  /* first: see bt_stt_of() */
	struct psi *p;
	bt_stt_partial_h *partialh;
	void *arg;
};

static void handle_destructor(void *arg)
{
	struct bt_stt_st *st = arg;
	struct psi *p = st->p;

	if (!p)
		return;
	if (p->in_utt && (!p->lms || pthread_equal(p->thread,
						    pthread_self()))) {
		each_end(p);
		p->in_utt = false;
	}
	if (p->in_utt || !pool_give(p))
		mem_deref(p);
}

static int ps_alloc(struct bt_stt_st **stp, const struct bt_stt_prm *prm)
{
	struct bt_stt_st *st;
	uint64_t key;
	int err;

	if (!stp)
		return bt_err(EINVAL, "pocketsphinx alloc: no place for the "
			      "instance (stp is NULL)");
	err = prm_check(prm);
	if (err)
		return err;
	st = mem_zalloc(sizeof(*st), handle_destructor);
	if (!st)
		return bt_err(ENOMEM, "out of memory starting pocketsphinx");
	st->stt = &ps_stt;
	st->partialh = prm ? prm->partialh : NULL;
	st->arg = prm ? prm->arg : NULL;
	key = prm_key(prm);
	st->p = pool_take(key);
	bt_psm_lock();
	if (st->p)
		++n_reused;
	else
		++n_made;
	bt_psm_unlock();
	if (st->p) {
		memset(&st->p->ov, 0, sizeof(st->p->ov));
		st->p->partial[0] = '\0';
	}
	else {
		err = psi_make(&st->p, prm);
		if (err) {
			mem_deref(st);
			return err;
		}
		st->p->key = key;
	}
	*stp = st;
	return 0;
}

static int ps_start(struct bt_stt_st *st, const char *grammar)
{
	return psi_start(st ? st->p : NULL, grammar);
}

/* Feed, then tell the session if the words so far changed (a backtrace
 * at most every 160 ms: psi_partial) */
static int ps_feed(struct bt_stt_st *st, const int16_t *pcm, size_t n)
{
	char words[512];
	int err = psi_feed(st ? st->p : NULL, pcm, n);

	if (!err && st->partialh &&
	    psi_partial(st->p, words, sizeof(words)))
		st->partialh(words, st->arg);
	return err;
}

static bool ps_hyp(struct bt_stt_st *st, char *buf, size_t sz)
{
	return psi_partial(st ? st->p : NULL, buf, sz);
}

static int ps_finish(struct bt_stt_st *st, struct bt_transcript *tr)
{
	return psi_finish(st ? st->p : NULL, tr);
}

static int ps_overlap(struct bt_stt_st *st, struct bt_stt_overlap *ov)
{
	return psi_overlap(st ? st->p : NULL, ov);
}

static struct bt_stt ps_stt = {
	.name = "pocketsphinx",
	.alloch = ps_alloc,
	.starth = ps_start,
	.feedh = ps_feed,
	.hyph = ps_hyp,
	.finishh = ps_finish,
	.overlaph = ps_overlap,
};

void bt_stt_pocketsphinx_pool(unsigned per_thread)
{
	bt_psm_lock();
	pool_max = per_thread;
	bt_psm_unlock();
}

/* Free what the pool holds: this thread's (all, when all is set). */
static void pool_drain(bool all)
{
	pthread_t self = pthread_self();
	struct list out = LIST_INIT;
	struct le *le;

	bt_psm_lock();
	le = idle.head;
	while (le) {
		struct psi *q = le->data;

		le = le->next;
		if (all || !q->lms || pthread_equal(q->thread, self)) {
			list_unlink(&q->le);
			list_append(&out, &q->le, q);
		}
	}
	bt_psm_unlock();
	/* the destructors take the lock themselves */
	list_flush(&out);
}

void bt_stt_pocketsphinx_drain(void)
{
	pool_drain(false);
}

void bt_stt_pocketsphinx_stats(unsigned *made, unsigned *reused,
			       unsigned *idle_now)
{
	bt_psm_lock();
	if (made)
		*made = n_made;
	if (reused)
		*reused = n_reused;
	if (idle_now)
		*idle_now = (unsigned)list_count(&idle);
	bt_psm_unlock();
}

int bt_stt_pocketsphinx_init(void)
{
	if (!registered) {
		bt_stt_register(&ps_stt);
		registered = true;
	}
	return 0;
}

void bt_stt_pocketsphinx_close(void)
{
	if (registered) {
		bt_stt_unregister(&ps_stt);
		registered = false;
	}
	pool_drain(true);
	bt_psm_close();
}
