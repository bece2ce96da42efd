/**
 * @file pocketsphinx.c  Streaming STT provider "pocketsphinx".
 *
 * Each instance reads an utterance with up to five decoders. Those an
 * utterance needs search it. Where scores are shared (ps_share.c) they are
 * lent to it for that utterance by its thread (lend), except the phone
 * loop; where not, they are its own, and those it does not need only
 * follow it (ps_follow.c: their front ends hear the audio, their live CMN
 * is the LM decoder's when they search again), so that their front ends
 * (noise floor, VAD, live CMN) stay in step and their scores can be
 * compared frame for frame:
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
 * ps_conf.c explains how their scores become one figure.
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
 * Scoring is shared too (ps_share.c): the phone loop scores each frame
 * once and the decoders that search with it read its scores, which takes
 * about 40 % off a caller's decoding (60 % over the agent); the figures
 * above are from before, with each decoder scoring for itself.
 *
 * What the instances share, and what an instance still costs, is in
 * ps_models.c: per thread the language models, per process the full
 * dictionary (for look-ups) and each compiled grammar. Where scores are
 * shared too, only the phone loop is the instance's own: the lm, fsg, ovb
 * and ovs decoders are its thread's, lent for an utterance (lend below,
 * ps_kit.c), and an instance costs ~15 ms of CPU and ~3 MB to make
 * (bench_stt_setup "each more"). Before that, measured with
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


/* Lower-case words of a hypothesis, fillers and markers dropped. */
void ps_hyp_clean(const char *hyp, char *buf, size_t sz)
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
	ps_hyp_clean(ps_get_hyp(st->ovb, &sb), tb, sizeof(tb));
	ps_hyp_clean(ps_get_hyp(st->ovs, &ss), ts, sizeof(ts));
	if (!tb[0] && !ts[0])
		return;
	stop = ts[0] && (!tb[0] || ss > sb);
	str_ncpy(ov->text, stop ? ts : tb, sizeof(ov->text));
	ov->kind = stop ? BT_OVERLAP_STOP : BT_OVERLAP_BACKCHANNEL;
	ov->confidence = ps_conf_of(st, stop ? st->ovs : st->ovb);
	if (!tb[0] || !ts[0]) {
		ov->stop_llr = stop ? 99.0f : -99.0f;
		return;
	}
	ps_path_score(st->ovb, &unused, &fb);
	ps_path_score(st->ovs, &unused, &fs);
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
 *
 * With shared models and scores, only the phone loop is the recogniser's
 * own: it hears every frame of the call (its front end's noise floor and
 * live CMN carry over from one utterance to the next) and scores them for
 * the others. The open-LM, grammar and overlap decoders keep nothing of a
 * call between utterances (they read the phone loop's scores and take its
 * CMN at each start), so the thread lends them per utterance (lend):
 * it needs as many as its callers speak at once, not one per call. One
 * that scores for itself keeps which Gaussians scored best (-topn) from
 * frame to frame, and so a little of the last caller, and its front end
 * follows the audio between its searches (ps_follow.c): those are the
 * recogniser's own.
 */
static int decoders_make(struct psi *st, const struct bt_stt_prm *prm)
{
	int err = bt_psm_prepare();

	if (!err && bt_psm_sharing()) {
		err = bt_psm_lms_get(&st->lms);
		if (!err)
			err = bt_psm_lexicon(&st->lex);
		st->thread = pthread_self();
	}
	if (!err)
		err = pss_alloc(&st->share);
	if (err)
		return err;
	st->lent = st->lms && st->share;

	if (!st->lent)
		st->lm = bt_psm_decoder(BT_PSM_LM, st->lms, NULL);
	if (st->lent || st->lm)
		st->phones = bt_psm_decoder(BT_PSM_PHONES, st->lms,
					    pss_dir(st->share));
	if (!st->phones)
		return bt_err(EIO, "pocketsphinx could not make its decoders "
			      "(out of memory or damaged model files)");
	if (!st->lms)
		st->lex = st->lm;

	/* the grammars (their words are in the LM's dictionary after) */
	err = ps_kit_overlap(st->ovk, st);
	if (!err)
		err = ps_kit_grammars(&st->kit, st, prm);
	if (err)
		return err;
	if (st->lent) {
		/* this thread's next utterances find them ready */
		if (bt_psm_shelf_fill(bt_psm_lm_shelf(st->lms), bt_psm_lm_make,
				      st->lms) ||
		    ps_kit_fill(st->ovk[0]) || ps_kit_fill(st->ovk[1]) ||
		    (ps_kit_searches(st->kit) && ps_kit_fill(st->kit)))
			return bt_err(EIO, "pocketsphinx could not make its "
				      "decoders (out of memory or damaged "
				      "model files)");
		return 0;
	}
	err = ps_kit_decoder(st->ovk[0], &st->ovb);
	if (!err)
		err = ps_kit_decoder(st->ovk[1], &st->ovs);
	if (!err && ps_kit_searches(st->kit))
		err = ps_kit_decoder(st->kit, &st->fsg);
	return err;
}

/*
 * The decoders an utterance searches, lent (when st->lent) until unlend:
 * the open LM always, the grammar decoder for a grammar utterance (g), the
 * overlap classes for speech over the agent.
 */
static int lend(struct psi *st, const struct gram *g, bool overlap)
{
	unsigned gen;

	if (!st->lent)
		return 0;
	st->lm = bt_psm_shelf_take(bt_psm_lm_shelf(st->lms), bt_psm_lm_make,
				   st->lms, &gen);
	st->lm_gen = gen;
	if (!st->lm)
		return bt_err(EIO, "pocketsphinx could not make its language "
			      "model decoder (out of memory or damaged model "
			      "files)");
	if (g && ps_kit_take(st->kit, &st->fsg))
		return EIO;
	if (overlap && (ps_kit_take(st->ovk[0], &st->ovb) ||
			ps_kit_take(st->ovk[1], &st->ovs)))
		return EIO;
	return 0;
}

/* The utterance is over: the decoders go back to the thread's. */
static void unlend(struct psi *st)
{
	if (!st->lent)
		return;
	if (st->lm)
		bt_psm_shelf_give(bt_psm_lm_shelf(st->lms), st->lm,
				  st->lm_gen);
	if (st->fsg)
		ps_kit_give(st->kit, st->fsg);
	if (st->ovb)
		ps_kit_give(st->ovk[0], st->ovb);
	if (st->ovs)
		ps_kit_give(st->ovk[1], st->ovs);
	st->lm = st->fsg = st->ovb = st->ovs = NULL;
}

static void destructor(void *arg)
{
	struct psi *st = arg;
	/* ending an utterance decodes the frames still buffered, with this
	 * thread's language models: not from another thread */
	bool home = !st->lms || pthread_equal(st->thread, pthread_self());

	list_unlink(&st->le);

	if (st->in_utt && home)
		each_end(st);
	if (home)
		unlend(st);  /* else freed below */
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
	psf_free(st);
	/* after the decoders: they search the kits' grammars */
	mem_deref(st->kit);
	mem_deref(st->ovk[0]);
	mem_deref(st->ovk[1]);
	mem_deref(st->lms);
	bt_psm_unlock();
	mem_deref(st->share);  /* after the writer: its last dump closed */
}

int psi_make(struct psi **stp, const struct bt_stt_prm *prm)
{
	struct psi *st;
	int err;

	st = mem_zalloc(sizeof(*st), destructor);
	if (!st)
		return bt_err(ENOMEM, "out of memory starting pocketsphinx");
	st->key = ps_prm_key(prm);

	bt_psm_lock();
	err = decoders_make(st, prm);
	if (!err)
		err = psf_alloc(st);
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
	const struct ps_kit *k = st->kit;

	for (size_t i = 0; k && i < k->gramc; i++) {
		if (!strcmp(k->gramv[i].name, name))
			return &k->gramv[i];
	}
	return NULL;
}

static int unknown_grammar(const struct psi *st, const char *name)
{
	char known[256] = "";
	size_t i, len = 0, gramc = st->kit ? st->kit->gramc : 0;

	for (i = 0; i < gramc && len + 1 < sizeof(known); i++) {
		int n = snprintf(known + len, sizeof(known) - len, "%s%s",
				 i ? ", " : "", st->kit->gramv[i].name);
		if (n < 0)
			break;
		len += (size_t)n;
	}
	return bt_err(EINVAL, "STT grammar \"%s\" is unknown: grammars must be"
		      " declared when the recogniser is made (declared: %s)",
		      name, gramc ? known : "none");
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

/* The others, where they are the recogniser's own: they only follow the
 * audio (ps_follow.c). Lent ones are back with their thread. */
static size_t followers_of(const struct psi *st,
			   ps_decoder_t *v[DECODERS_MAX])
{
	size_t n = 0;

	if (st->lent)
		return 0;
	if (st->fsg && !st->grammar)
		v[n++] = st->fsg;
	if (!st->overlap) {
		v[n++] = st->ovb;
		v[n++] = st->ovs;
	}
	return n;
}

/* Every decoder of the utterance, so that they all see the same frames:
 * the phone loop first, which with sharing scores them for the others
 * (ps_share.c). */
static int each_start(struct psi *st)
{
	ps_decoder_t *v[DECODERS_MAX], *r[DECODERS_MAX];
	size_t n = decoders_of(st, v), nr = 0;

	for (size_t i = 0; i < n; i++) {
		if (v[i] == st->phones)
			continue;
		/* one that sat out utterances, or read scores, has not kept
		 * its CMN up; the phone loop's front end hears them all */
		psf_cmn(v[i], st->phones);
		r[nr++] = v[i];
	}
	if (ps_start_utt(st->phones) < 0)
		return -1;
	st->shared_utt = pss_start(st->share, r, nr);
	for (size_t i = 0; !st->shared_utt && i < nr; i++) {
		if (ps_start_utt(r[i]) >= 0)
			continue;
		while (i--)
			ps_end_utt(r[i]);
		ps_end_utt(st->phones);
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

	if (st->shared_utt) {
		st->shared_utt = false;
		err = pss_end(st->share, st->phones) ? -1 : 0;
	}
	else {
		for (size_t i = 0; i < n; i++)
			if (ps_end_utt(v[i]) < 0)
				err = -1;
	}
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
		unlend(st);
		st->in_utt = false;
	}

	if (lend(st, g, overlap)) {
		unlend(st);
		return EIO;
	}
	if (g && ps_set_search(st->fsg, g->search) < 0) {
		unlend(st);
		return bt_err(EINVAL, "pocketsphinx could not switch to "
			      "grammar \"%s\"", grammar);
	}
	/* which decoders each_start starts, and each_end ends */
	st->grammar = g != NULL;
	st->type = g ? g->type : BT_SLOT_TEXT;
	st->overlap = overlap;
	if (each_start(st)) {
		unlend(st);
		return bt_err(EIO, "pocketsphinx could not start an utterance");
	}
	st->in_utt = true;
	memset(&st->ov, 0, sizeof(st->ov));
	st->since_partial = 0;
	st->partial[0] = '\0';
	ps_level_reset(&st->level);
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

	if (st->shared_utt && pss_feed(st->share, st->phones, pcm, n))
		return bt_err(EIO, "pocketsphinx could not decode the audio "
			      "(shared scores; BANTER_STT_SCORES=each makes "
			      "each decoder score for itself)");
	nd = st->shared_utt ? 0 : decoders_of(st, v);
	for (size_t i = 0; i < nd; i++)
		if (ps_process_raw(v[i], pcm, n, FALSE, FALSE) < 0)
			return bt_err(EIO, "pocketsphinx could not decode the "
				      "audio");
	nd = followers_of(st, v);
	if (psf_feed(st, v, nd, pcm, n))
		return EIO;
	ps_level_feed(&st->level, pcm, n);
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
		ps_hyp_clean(ps_get_hyp(words(st), &score), now, sizeof(now));
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
	const char *hyp;
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
	st->post = -1;
	st->snr = ps_level_snr(&st->level);

	if (each_end(st)) {
		unlend(st);
		return bt_err(EIO, "pocketsphinx could not end the utterance");
	}

	/* the open LM's words are kept (its decoder goes back): an open-LM
	 * utterance's are the transcript's */
	hyp = ps_get_hyp(st->lm, &st->lm_score);
	str_ncpy(st->lm_hyp, hyp ? hyp : "", sizeof(st->lm_hyp));
	ps_hyp_clean(st->grammar ? ps_get_hyp(st->fsg, &score) : st->lm_hyp,
		     tr->text, sizeof(tr->text));
	if (tr->text[0])
		tr->confidence = ps_conf(st, tr->text);
	if (st->overlap)
		overlap_read(st, &st->ov);
	unlend(st);
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
	int err = each_end(st);

	unlend(st);
	return err;
}
