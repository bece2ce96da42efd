/**
 * @file endpoint.c  Adaptive end-of-turn waiting time.
 *
 * The decision, and why:
 *  1. end likelihood e from the words (c = bt_complete_score) and the
 *     prosody (p = bt_prosody_end_score), e = (1 - w) c + w p with w the
 *     set's prosody weight. When the words are clearly unfinished
 *     (c < BT_COMPLETE_LOW: "a table for", "um", "five five five") e = c:
 *     a falling pitch on "for" is a pause, not an ending, and cutting the
 *     user off costs far more than waiting a second. In a question a rise
 *     is the expected ending ("can I book a table?"), so there p is
 *     mirrored above 0.5.
 *  2. e maps to a wait, piecewise linear: e >= 0.85 min_wait; 0.5 ..
 *     0.85 base -> min; 0.25 .. 0.5 incomplete -> base; below 0.25
 *     incomplete_wait. Complete + falling ends after ~200 ms, as between
 *     people; no evidence either way waits base_wait (~500 ms).
 *  3. the speaker: people differ a lot in how long they pause inside a
 *     turn (200 ms to well over a second). The last 32 inner pauses are
 *     kept; when the ending is not clearly complete (e < 0.85) the wait
 *     is at least their 90th percentile + 150 ms, so a slow speaker is
 *     not cut off at every hesitation, while clear endings stay fast.
 *  4. premature ends: each time the user went on after the endpointer
 *     had ended the turn, waits on unclear endings grow by 100 ms (half
 *     that on clear ones), up to 600 ms; each turn that really ended
 *     takes back a quarter step.
 *  5. everything is clamped to [min_wait, max_wait] of the set.
 *  6. (bt_endpoint_wait_at_ms) words reach the partial a recogniser's
 *     latency after they were said; words that come later into a
 *     silence than that were said after it began, so the caller speaks
 *     again while the VAD still confirms the onset: the silence counts
 *     from their arrival. Without it a clear ending ("we are uh four")
 *     ends a turn on the words of its next part.
 *  7. where the caller paused inside the utterance, the words are scored
 *     with a comma there: a punctuating recogniser's reading of the same
 *     pause ("pizza, pasta" is an enumeration being read; without the
 *     pause, "chicken soup" is one thing).
 * Costs: a completeness check (~10 us), a 32-element insertion sort and
 * a copy of the partial (at most PARTIAL_MAX bytes, on the stack).
 */
#include <errno.h>
#include <math.h>
#include <string.h>
#include <re.h>
#include "banter/err.h"
#include "turn/complete.h"
#include "turn/endpoint.h"

enum {
	PAUSES = 32,
	PAUSE_MIN_MS = 100,
	PAUSE_MAX_MS = 10000,
	MARKS = 16,          /* pause places kept per utterance */
	PARTIAL_MAX = 1024,  /* longer partials are scored without commas */
	WORD_LATENCY_MS = 500,
};

static const float E_HI = 0.85f;   /* clearly finished */
static const float E_MID = 0.5f;   /* no evidence either way */
static const float E_LO = 0.25f;   /* clearly unfinished */

static const struct bt_endpoint_waits def_listening = {
	200, 500, 1600, 2500, 45
};
static const struct bt_endpoint_waits def_speaking = {
	300, 700, 1600, 2500, 25
};
static const struct bt_endpoint_waits def_thinking = {
	400, 900, 2000, 3000, 20
};

struct bt_endpoint {
	struct bt_endpoint_prm prm;
	uint32_t pauses[PAUSES];
	size_t n_pauses, head;
	uint32_t bias_ms;
	struct bt_endpoint_decision last;
	/* this utterance: word counts of the partial where it paused */
	size_t marks[MARKS];
	size_t n_marks;
	size_t pause_words;  /* words when this pause began (0: none yet) */
	size_t last_words;   /* words of the last partial scored */
	uint32_t late_ms;    /* this pause: silence when words came late */
	bool asked_one;      /* the agent asked for one thing (set_open) */
	char scored[PARTIAL_MAX + 2 * MARKS + 1];
};

void bt_endpoint_prm_default(struct bt_endpoint_prm *prm)
{
	if (!prm)
		return;
	memset(prm, 0, sizeof(*prm));
	prm->listening = def_listening;
	prm->speaking = def_speaking;
	prm->thinking = def_thinking;
	prm->pause_pct = 90;
	prm->pause_margin_ms = 150;
	prm->pause_min_count = 3;
	prm->false_end_step_ms = 100;
	prm->false_end_max_ms = 600;
	prm->word_latency_ms = WORD_LATENCY_MS;
}

static uint32_t or_def(uint32_t v, uint32_t def)
{
	return v ? v : def;
}

static int waits_fill(struct bt_endpoint_waits *w,
		      const struct bt_endpoint_waits *in,
		      const struct bt_endpoint_waits *def, const char *name)
{
	w->min_wait_ms = or_def(in->min_wait_ms, def->min_wait_ms);
	w->base_wait_ms = or_def(in->base_wait_ms, def->base_wait_ms);
	w->incomplete_wait_ms = or_def(in->incomplete_wait_ms,
				       def->incomplete_wait_ms);
	w->max_wait_ms = or_def(in->max_wait_ms, def->max_wait_ms);
	w->prosody_pct = or_def(in->prosody_pct, def->prosody_pct);

	if (w->min_wait_ms > w->base_wait_ms ||
	    w->base_wait_ms > w->incomplete_wait_ms ||
	    w->incomplete_wait_ms > w->max_wait_ms)
		return bt_err(EINVAL, "endpoint: %s waits must be ordered "
			      "min <= base <= incomplete <= max (got %u, %u, "
			      "%u, %u ms); fix the agent's turn settings",
			      name, w->min_wait_ms, w->base_wait_ms,
			      w->incomplete_wait_ms, w->max_wait_ms);
	if (w->prosody_pct > 100)
		return bt_err(EINVAL, "endpoint: %s prosody_pct is %u; give a "
			      "weight of 1..100 percent", name,
			      w->prosody_pct);
	return 0;
}

int bt_endpoint_alloc(struct bt_endpoint **epp,
		      const struct bt_endpoint_prm *prm)
{
	struct bt_endpoint_prm zero, def;
	struct bt_endpoint *ep = NULL;
	int err;

	if (!epp)
		return bt_err(EINVAL, "endpoint: no result pointer; pass the "
			      "address of a struct bt_endpoint pointer");

	memset(&zero, 0, sizeof(zero));
	if (!prm)
		prm = &zero;
	bt_endpoint_prm_default(&def);

	ep = mem_zalloc(sizeof(*ep), NULL);
	if (!ep)
		return bt_err(ENOMEM, "endpoint: out of memory");

	err = waits_fill(&ep->prm.listening, &prm->listening, &def.listening,
			 "listening");
	if (err)
		goto out;
	err = waits_fill(&ep->prm.speaking, &prm->speaking, &def.speaking,
			 "speaking");
	if (err)
		goto out;
	err = waits_fill(&ep->prm.thinking, &prm->thinking, &def.thinking,
			 "thinking");
	if (err)
		goto out;
	ep->prm.pause_pct = or_def(prm->pause_pct, def.pause_pct);
	ep->prm.pause_margin_ms = or_def(prm->pause_margin_ms,
					 def.pause_margin_ms);
	ep->prm.pause_min_count = or_def(prm->pause_min_count,
					 def.pause_min_count);
	ep->prm.false_end_step_ms = or_def(prm->false_end_step_ms,
					   def.false_end_step_ms);
	ep->prm.false_end_max_ms = or_def(prm->false_end_max_ms,
					  def.false_end_max_ms);
	ep->prm.word_latency_ms = or_def(prm->word_latency_ms,
					 def.word_latency_ms);
	if (ep->prm.pause_pct > 100) {
		err = bt_err(EINVAL, "endpoint: pause_pct is %u; give a "
			     "percentile of 1..100", ep->prm.pause_pct);
		goto out;
	}
	ep->last.rule = "";

 out:
	if (err)
		mem_deref(ep);
	else
		*epp = ep;
	return err;
}

void bt_endpoint_set_open(struct bt_endpoint *ep, bool open)
{
	if (ep)
		ep->asked_one = !open;
}

void bt_endpoint_utterance_begin(struct bt_endpoint *ep)
{
	if (!ep)
		return;
	ep->n_marks = 0;
	ep->pause_words = 0;
	ep->last_words = 0;
	ep->late_ms = 0;
}

/* Speech resumed after pause_ms: the words so far end a chunk of the
 * utterance, unless the gap was the VAD's jitter (a stop consonant in
 * "vegetarian options" reads as 60 ms of silence). */
static void mark_pause(struct bt_endpoint *ep, uint32_t pause_ms)
{
	size_t w = ep->pause_words;

	if (w && pause_ms >= PAUSE_MIN_MS && ep->n_marks < MARKS &&
	    (!ep->n_marks || w > ep->marks[ep->n_marks - 1]))
		ep->marks[ep->n_marks++] = w;
	ep->pause_words = 0;
	ep->late_ms = 0;
}

void bt_endpoint_observe_pause(struct bt_endpoint *ep, uint32_t pause_ms)
{
	if (!ep)
		return;
	mark_pause(ep, pause_ms);
	if (pause_ms < PAUSE_MIN_MS)
		return;
	ep->pauses[ep->head] = pause_ms > PAUSE_MAX_MS ? PAUSE_MAX_MS :
		pause_ms;
	ep->head = (ep->head + 1) % PAUSES;
	if (ep->n_pauses < PAUSES)
		ep->n_pauses++;
}

void bt_endpoint_observe_turn_end(struct bt_endpoint *ep,
				  uint32_t silence_ms, bool user_resumed)
{
	uint32_t step;

	if (!ep)
		return;
	step = ep->prm.false_end_step_ms;
	if (user_resumed) {
		bt_endpoint_observe_pause(ep, silence_ms);
		ep->bias_ms += step;
		if (ep->bias_ms > ep->prm.false_end_max_ms)
			ep->bias_ms = ep->prm.false_end_max_ms;
	}
	else {
		ep->bias_ms = ep->bias_ms > step / 4 ? ep->bias_ms - step / 4 :
			0;
	}
}

/* The pct-th percentile of the kept pauses, 0 if too few. */
static uint32_t pause_percentile(const struct bt_endpoint *ep)
{
	uint32_t v[PAUSES];
	size_t n = ep->n_pauses, i, j, k;

	if (n < ep->prm.pause_min_count || !n)
		return 0;
	memcpy(v, ep->pauses, n * sizeof(v[0]));
	for (i = 1; i < n; i++) {
		uint32_t x = v[i];

		for (j = i; j > 0 && v[j - 1] > x; j--)
			v[j] = v[j - 1];
		v[j] = x;
	}
	k = (n * ep->prm.pause_pct + 99) / 100;
	return v[k ? k - 1 : 0];
}

static uint32_t lerp_ms(uint32_t a, uint32_t b, float t)
{
	return (uint32_t)lrintf((float)a + ((float)b - (float)a) * t);
}

static uint32_t map_wait(const struct bt_endpoint_waits *w, float e)
{
	if (e >= E_HI)
		return w->min_wait_ms;
	if (e >= E_MID)
		return lerp_ms(w->base_wait_ms, w->min_wait_ms,
			       (e - E_MID) / (E_HI - E_MID));
	if (e >= E_LO)
		return lerp_ms(w->incomplete_wait_ms, w->base_wait_ms,
			       (e - E_LO) / (E_MID - E_LO));
	return w->incomplete_wait_ms;
}

/* Words of a partial: what the recogniser separates by spaces. */
static size_t count_words(const char *p)
{
	size_t n = 0;
	bool in_word = false;

	for (; p && *p; p++) {
		bool sp = *p == ' ' || *p == '\t' || *p == '\n';

		n += !sp && !in_word;
		in_word = !sp;
	}
	return n;
}

/* Whether the word at s (up to a space) is one that no comma can follow
 * ("the,", "my,", "for,"): a pause mark there counted the words before
 * the recogniser's latency had brought the last of them. */
/* The partial with ", " after the words where the caller paused. */
static const char *with_commas(struct bt_endpoint *ep, const char *partial)
{
	size_t len, o = 0, n = 0, m = 0, prev = 0, prev_len = 0;
	bool in_word = false;
	const char *p;

	if (!partial || !ep->n_marks)
		return partial;
	len = strlen(partial);
	if (len > PARTIAL_MAX)
		return partial;
	for (p = partial; *p; p++) {
		bool sp = *p == ' ' || *p == '\t' || *p == '\n';

		if (!sp && !in_word) {
			/* a word starts: close the chunk before it */
			while (m < ep->n_marks && ep->marks[m] < n)
				m++;
			if (n && m < ep->n_marks && ep->marks[m] == n &&
			    o && ep->scored[o - 1] == ' ' &&
			    !bt_complete_binds_next(ep->scored + prev, prev_len)) {
				ep->scored[o - 1] = ',';
				ep->scored[o++] = ' ';
			}
			n++;
			prev = o;
			prev_len = 0;
		}
		prev_len += !sp;
		in_word = !sp;
		ep->scored[o++] = *p;
	}
	ep->scored[o] = '\0';
	return ep->scored;
}

uint32_t bt_endpoint_wait_ms(struct bt_endpoint *ep, const char *partial,
			     enum bt_slot_type expected, float prosody_end,
			     enum bt_endpoint_ctx ctx)
{
	return bt_endpoint_wait_at_ms(ep, partial, expected, prosody_end, ctx,
				      UINT32_MAX);
}

uint32_t bt_endpoint_wait_at_ms(struct bt_endpoint *ep, const char *partial,
				enum bt_slot_type expected, float prosody_end,
				enum bt_endpoint_ctx ctx, uint32_t silence_ms)
{
	struct bt_endpoint_decision *d;
	const struct bt_endpoint_waits *w;
	struct bt_complete_info info;
	float c, p, pw, e;
	uint32_t wait, floor_ms = 0, bias = 0;

	if (!ep)
		return def_listening.base_wait_ms;
	w = ctx == BT_EP_SPEAKING ? &ep->prm.speaking :
		ctx == BT_EP_THINKING ? &ep->prm.thinking : &ep->prm.listening;
	d = &ep->last;

	if (silence_ms != UINT32_MAX) {
		size_t n = count_words(partial);

		if (n > ep->last_words && silence_ms > ep->prm.word_latency_ms) {
			/* said after the silence began: the words before
			 * them end this pause's chunk */
			ep->late_ms = silence_ms;
			if (!ep->pause_words)
				ep->pause_words = ep->last_words;
		}
		else if (!ep->pause_words) {
			ep->pause_words = n;
		}
		ep->last_words = n;
		partial = with_commas(ep, partial);
	}

	c = bt_complete_score_in(partial, expected, !ep->asked_one, &info);
	p = prosody_end >= 0.0f && prosody_end <= 1.0f ? prosody_end : 0.5f;
	if (info.question && p < 0.5f)
		p = 1.0f - p;
	pw = (float)w->prosody_pct / 100.0f;
	e = c < BT_COMPLETE_LOW ? c : (1.0f - pw) * c + pw * p;

	wait = map_wait(w, e);
	d->rule_wait_ms = wait;

	if (e < E_HI) {
		floor_ms = pause_percentile(ep);
		if (floor_ms) {
			floor_ms += ep->prm.pause_margin_ms;
			wait = wait > floor_ms ? wait : floor_ms;
		}
		bias = ep->bias_ms;
	}
	else {
		bias = ep->bias_ms / 2;
	}
	wait += bias;
	if (wait > w->max_wait_ms)
		wait = w->max_wait_ms;
	if (wait < w->min_wait_ms)
		wait = w->min_wait_ms;
	if (silence_ms != UINT32_MAX)
		wait += ep->late_ms;

	d->complete = c;
	d->rule = info.rule ? info.rule : "";
	d->question = info.question;
	d->prosody = p;
	d->end_like = e;
	d->pause_floor_ms = floor_ms;
	d->bias_ms = bias;
	d->late_ms = silence_ms != UINT32_MAX ? ep->late_ms : 0;
	d->scored = partial ? partial : "";
	d->wait_ms = wait;
	d->ctx = ctx;
	return wait;
}

const struct bt_endpoint_decision *
bt_endpoint_last(const struct bt_endpoint *ep)
{
	return ep ? &ep->last : NULL;
}
