/**
 * @file pocketsphinx.c  Streaming STT provider "pocketsphinx".
 *
 * Each instance owns up to five decoders. Those an utterance needs search
 * it; the others only follow it (ps_follow.c: their front ends hear the
 * audio, their live CMN is the LM decoder's when they search again), so
 * that their front ends (noise floor, VAD, live CMN) stay in step and
 * their scores can be compared frame for frame:
 *
 *  - lm: the open language model. It gives the words of free speech, and
 *    for a grammar utterance it is the reference that says what else the
 *    caller may have said.
 *  - fsg: one finite-state search per declared grammar, compiled at alloc
 *    from JSGF (none if no grammar is declared). Switching searches
 *    between utterances costs nothing. It searches grammar utterances
 *    only.
 *  - phones: a context-independent phone loop (allphone search), the
 *    reference that says whether there was speech at all and how well
 *    free sounds fit it.
 *  - ovb, ovs: the overlap classifier, small grammars of backchannels
 *    ("mhm", "yeah", "i see") and stop phrases ("wait", "no, stop",
 *    "hold on"), with a dictionary of just those words. It
 *    reads speech said over the agent's voice independently of the
 *    utterance's own grammar: a number grammar would force "yeah" onto
 *    "four". It searches only the utterances the session reads as speech
 *    over the agent (start's overlap flag), about 0.03 x real time each
 *    (the cost of scoring every senone, below).
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
 *  Cost per decoder while it searches (bench_stt_setup on
 *  stt_hours_rms.wav, a quiet machine): lm 0.16 x real time, phones 0.07,
 *  fsg 0.05, ovb and ovs 0.03 each; a decoder that follows, ~0.001 (its
 *  front end). Measured side by side on a busy machine (load 13, figures
 *  twice as high): lm 0.40, phones 0.12, fsg, ovb and ovs 0.07 each,
 *  front end 0.001. So an instance costs lm + phones for the caller's
 *  open-LM turns (~0.23 quiet; all five searching every utterance, as
 *  before, 0.36-0.47), + fsg for a grammar turn, + ovb and ovs for
 *  speech over the agent: 30 % less for an open-LM turn, 20 % for a
 *  grammar turn.
 *
 * What the instances share, and what an instance still costs, is in
 * ps_models.c: per thread the language models, per process the full
 * dictionary (for look-ups) and each compiled grammar. Measured with
 * bench_stt_setup (restaurant agent, 4 grammars, 2 busy cores):
 *  - each more instance: 50 MB RSS (37 MB anonymous; RSS also counts
 *    each decoder's own mapping of the acoustic model's mdef and sendump,
 *    1.8 MB each, which the page cache holds once), with the LM decoder
 *    hearing the LM's 30 k likeliest words (BANTER_LM_WORDS, ps_models.c);
 *    with all 72 k, 70 MB (57 MB) and 0.38-0.49 s of CPU; without sharing
 *    117 MB (105 MB) and 0.56-0.72 s. What is left is each decoder's own:
 *    lm 46 MB with all words (its dictionary of the LM's 80 k lines,
 *    13 MB; the lexicon tree and word tables of its search, 27 MB; the
 *    acoustic model), and 5-6 MB for each of phones, fsg, ovb, ovs.
 *  - the first instance of a process: 132 MB and 0.67-0.81 s (lexicon
 *    27 MB, language models 34 MB), without sharing 117 MB and 0.58-0.62
 *    s; each further thread's first instance loads its own language
 *    models, 34 MB and 0.1 s.
 *  fsg, ovb and ovs start from an empty dictionary and get only their
 *  grammars' words (dict_take), which saved ~30 MB per instance.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <sphinxbase/err.h>
#include "banter/err.h"
#include "ps_int.h"

static int each_end(struct psi *st);


/*
 * Confidence calibration, see confidence(). Log-likelihood ratios in
 * decoder score units per speech frame (a unit is 2^10 log-base-1.0001
 * steps, about 0.1 nat).
 */
#define GRAM_MID -40.0   /* grammar: LLR(phones) + LLR(lm) at 0.5 */
#define GRAM_SCALE 6.0
#define OPEN_MID -36.0   /* open LM: LLR(phones) at 0.5 */
#define OPEN_SCALE 6.0

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

/*
 * Whether the open language model heard the value the time grammar
 * found: each hour or minute word of the grammar's words must be in the
 * LM's words as a sequence of phones (so "won" supports "one", "ate"
 * supports "eight" and "eighty" does not support "eight").
 *
 * Why only times: bench/slots.sh over every caller voice (24, clean) found
 * 55 of 79 values that passed as sure but were wrong at the time question,
 * hour words forced onto others ("seven" heard as "at one", "nine pm" as
 * "by two pm") that the sentence-level figure cannot see. Halving the
 * confidence of a time the LM does not support took the time question's
 * 55 to 15, and its rejected right answers from 32 to 55 of 288 (all
 * questions: 79 -> 39 wrong and sure of 2112, 186 -> 209 right ones
 * rejected of 1152; before the grammars had their non-answers, 162 and
 * 216). For numbers the same rule saved 11 wrong values and cost 37
 * right ones, so they keep the plain figure.
 */
static const char *const time_words[] = {
	"one", "two", "three", "four", "five", "six", "seven", "eight",
	"nine", "ten", "eleven", "twelve", "fifteen", "twenty", "thirty",
	"forty", "fifty", "noon", "midday", "midnight",
};

/* The next space-separated word of *pp into w (cut to fit); its length,
 * 0 at the end. */
static size_t next_word(const char **pp, char *w, size_t sz)
{
	const char *p = *pp;
	size_t n = 0;

	while (*p == ' ')
		p++;
	while (*p && *p != ' ' && n + 1 < sz)
		w[n++] = *p++;
	while (*p && *p != ' ')
		p++;
	w[n] = '\0';
	*pp = p;
	return n;
}

/* " PH ON ES " of the words in text, appended to buf */
static void phones_of(ps_decoder_t *lex, const char *text, char *buf,
		      size_t sz)
{
	char w[WORD_MAX];
	size_t len = strlen(buf);

	while (*text) {
		char *pron;

		if (!next_word(&text, w, sizeof(w)))
			continue;
		pron = ps_lookup_word(lex, w);
		if (!pron)
			continue;
		if (len + strlen(pron) + 2 < sz) {
			len += (size_t)snprintf(buf + len, sz - len, "%s ",
						pron);
		}
		ckd_free(pron);
	}
}

/* One pronunciation of word (alt 1: "word", then "word(2)" ...) found
 * in the phones of the LM's words. */
static bool word_in(ps_decoder_t *lex, const char *word, const char *phones)
{
	for (int alt = 1; alt <= 3; alt++) {
		char key[WORD_MAX + 4], pat[256];
		char *pron;
		bool found;

		if (alt == 1)
			snprintf(key, sizeof(key), "%s", word);
		else
			snprintf(key, sizeof(key), "%s(%d)", word, alt);
		pron = ps_lookup_word(lex, key);
		if (!pron)
			break;
		snprintf(pat, sizeof(pat), " %s ", pron);
		ckd_free(pron);
		found = strstr(phones, pat) != NULL;
		if (found)
			return true;
	}
	return false;
}

static bool lm_supports_time(struct psi *st, const char *text)
{
	char lm_words[512], phones[2048] = " ", w[WORD_MAX];
	int32 score = 0;
	const char *p = text;

	if (!st->lex)
		return true;
	hyp_clean(ps_get_hyp(st->lm, &score), lm_words, sizeof(lm_words));
	phones_of(st->lex, lm_words, phones, sizeof(phones));
	while (*p) {
		size_t n = next_word(&p, w, sizeof(w));

		for (size_t i = 0; n && i < sizeof(time_words) /
						sizeof(time_words[0]); i++) {
			if (!strcmp(w, time_words[i]) &&
			    !word_in(st->lex, w, phones))
				return false;
		}
	}
	return true;
}

static float confidence(struct psi *st, const char *text)
{
	float c = confidence_of(st, st->grammar ? st->fsg : NULL);

	if (st->grammar && st->type == BT_SLOT_TIME &&
	    !lm_supports_time(st, text))
		c *= 0.5f;
	return c;
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
	psf_free(st);
	mem_deref(st->ov_fsg[0]);
	mem_deref(st->ov_fsg[1]);
	mem_deref(st->lms);
	bt_psm_unlock();
	mem_deref(st->gramv);
}

int psi_make(struct psi **stp, const struct bt_stt_prm *prm)
{
	struct psi *st;
	int err;

	st = mem_zalloc(sizeof(*st), destructor);
	if (!st)
		return bt_err(ENOMEM, "out of memory starting pocketsphinx");

	bt_psm_lock();
	err = decoders_make(st, ps_needs_fsg(prm));
	if (!err)
		err = psf_alloc(st);
	if (!err)
		err = ps_overlap_make(st);
	if (!err)
		err = ps_grammars_make(st, prm);
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

/*
 * The decoders that search this utterance, lm first, in a fixed order:
 * the grammar decoder only for a grammar utterance, the overlap
 * classifier only for speech over the agent (together ~0.11 x real time
 * that the caller's ordinary open-LM turns do without).
 */
static size_t decoders_of(const struct psi *st,
			  ps_decoder_t *v[DECODERS_MAX])
{
	size_t n = 0;

	v[n++] = st->lm;
	v[n++] = st->phones;
	if (st->fsg && st->grammar)
		v[n++] = st->fsg;
	if (st->overlap) {
		v[n++] = st->ovb;
		v[n++] = st->ovs;
	}
	return n;
}

/* The others: they only follow the audio (ps_follow.c). */
static size_t followers_of(const struct psi *st,
			   ps_decoder_t *v[DECODERS_MAX])
{
	size_t n = 0;

	if (st->fsg && !st->grammar)
		v[n++] = st->fsg;
	if (!st->overlap) {
		v[n++] = st->ovb;
		v[n++] = st->ovs;
	}
	return n;
}

/* Every decoder of the utterance, so that they all see the same frames. */
static int each_start(struct psi *st)
{
	ps_decoder_t *v[DECODERS_MAX];
	size_t n = decoders_of(st, v);

	for (size_t i = 0; i < n; i++) {
		/* one that sat out utterances (any after lm and phones,
		 * which search them all) has not kept its CMN up */
		if (i >= 2)
			psf_cmn(v[i], v[0]);
		if (ps_start_utt(v[i]) >= 0)
			continue;
		while (i--)
			ps_end_utt(v[i]);
		return -1;
	}
	n = followers_of(st, v);
	psf_start(v, n);
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
	n = followers_of(st, v);
	psf_end(st, v, n);
	return err;
}

int psi_start(struct psi *st, const char *grammar, bool overlap)
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
	/* which decoders each_start starts, and each_end ends */
	st->grammar = g != NULL;
	st->type = g ? g->type : BT_SLOT_TEXT;
	st->overlap = overlap;
	if (each_start(st))
		return bt_err(EIO, "pocketsphinx could not start an utterance");
	st->in_utt = true;
	memset(&st->ov, 0, sizeof(st->ov));
	st->since_partial = 0;
	st->partial[0] = '\0';
	return 0;
}

int psi_feed(struct psi *st, const int16_t *pcm, size_t n)
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
	nd = followers_of(st, v);
	if (psf_feed(st, v, nd, pcm, n))
		return EIO;
	st->since_partial += n;
	return 0;
}

static ps_decoder_t *words(const struct psi *st)
{
	return st->grammar ? st->fsg : st->lm;
}

bool psi_partial(struct psi *st, char *buf, size_t sz)
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

int psi_finish(struct psi *st, struct bt_transcript *tr)
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
		tr->confidence = confidence(st, tr->text);
	if (st->overlap)
		overlap_read(st, &st->ov);
	return 0;
}

int psi_overlap(struct psi *st, struct bt_stt_overlap *ov)
{
	if (!st || !ov)
		return bt_err(EINVAL, "pocketsphinx overlap: no instance or "
			      "result");
	if (!st->overlap)
		return bt_err(EINVAL, "pocketsphinx overlap: the utterance was "
			      "started without overlap reading; start it with "
			      "overlap to classify it");
	if (st->in_utt)
		overlap_read(st, ov);
	else
		*ov = st->ov;
	return 0;
}

int psi_end_utt(struct psi *st)
{
	return each_end(st);
}
