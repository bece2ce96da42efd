/**
 * @file vadseg.c  Segmenter: frame decisions of any VAD provider to
 * speech start / speech end events, with a prefix buffer.
 *
 * A run of speech frames becomes a candidate; it is confirmed (START) once
 * it holds min_speech_ms of speech making up at least 3/4 of its span, and
 * dropped after more than GAP_MS of non-speech, so a click never starts
 * speech while a single flickering frame inside a syllable does not reset
 * the count. START is back-dated to the candidate's first speech frame, or
 * further, up to BACK_MAX_MS, over the frames just before it whose
 * probability stayed above threshold / 4: a word that opens on a fricative
 * ("seven") is loud but unvoiced, and the VAD only becomes sure at the
 * vowel. END comes after hangover_ms of non-speech and is dated at the end
 * of the last speech frame. Frames a provider keeps as speech only by its
 * own hangover (prob exactly BT_VAD_PROB_HOLD) count as non-speech here.
 *
 * Audio is kept in a linear buffer twice the needed history, compacted
 * with one memmove when full: the prefix is always contiguous and the cost
 * stays O(1) per sample without allocating per frame.
 */
#include <errno.h>
#include <string.h>
#include <re.h>
#include "banter/audio.h"
#include "banter/err.h"
#include "banter/vad.h"

enum {
	SMP_PER_MS = BT_RATE_HZ / 1000,
	GAP_MS = 20,                 /* tolerated non-speech in a candidate */
	BACK_MAX_MS = 200,           /* how far a weak lead-in back-dates */
	WEAK_LEAD_MS = 40,           /* weak frames before they are pending */
	MAX_PREFIX_MS = 10000,
	MAX_MIN_SPEECH_MS = 5000,
	MAX_HANGOVER_MS = 60000,
};

struct bt_vadseg {
	struct bt_vadseg_prm prm;
	const struct bt_vad *vad;
	struct bt_vad_st *st;        /* provider instance, owned */

	bool active;

	bool cand;                   /* a candidate run is open */
	uint64_t cand_ms;            /* its first speech frame (media ms) */
	uint64_t cand_pos;           /* ... as absolute sample position */
	size_t cand_speech;          /* samples of speech in the candidate */
	size_t cand_span;            /* samples since its first frame */
	size_t cand_gap;             /* current non-speech run, samples */
	size_t cand_max;             /* give up on a candidate this long */

	bool weak;                   /* in a run of frames >= threshold/4 */
	uint64_t weak_pos;           /* where that run began */

	uint64_t last_end_ms;        /* end of the last speech frame */
	size_t silence;              /* non-speech since then, samples */

	int16_t *buf;                /* recent audio, oldest first */
	size_t buf_sz;               /* capacity, samples */
	size_t keep;                 /* history that must survive compaction */
	size_t len;                  /* samples in buf */
	uint64_t total;              /* samples fed so far */

	bool prefix_ok;              /* the last frame gave START */
};

void bt_vadseg_prm_default(struct bt_vadseg_prm *prm)
{
	if (!prm)
		return;

	prm->threshold = 0.5f;
	prm->min_speech_ms = 80;
	prm->hangover_ms = 60;
	prm->prefix_ms = 300;
}

static void vadseg_destructor(void *arg)
{
	struct bt_vadseg *seg = arg;

	mem_deref(seg->st);
	mem_deref(seg->buf);
}

int bt_vadseg_alloc(struct bt_vadseg **segp, const struct bt_vad *vad,
		    const struct bt_vadseg_prm *prm)
{
	struct bt_vadseg_prm def;
	struct bt_vadseg *seg;
	int err;

	if (!segp)
		return bt_err(EINVAL, "VAD segmenter: missing argument");
	if (!vad || !vad->alloch || !vad->frameh)
		return bt_err(EINVAL, "VAD segmenter: no VAD provider given; "
			      "call bt_init() and pick one with "
			      "bt_vad_find(\"energy\")");

	bt_vadseg_prm_default(&def);
	if (prm) {
		if (prm->threshold < 0.0f || prm->threshold > 1.0f)
			return bt_err(EINVAL, "VAD segmenter: threshold %.3f "
				      "is outside 0..1; use e.g. 0.5",
				      (double)prm->threshold);
		if (prm->threshold > 0.0f)
			def.threshold = prm->threshold;
		if (prm->min_speech_ms)
			def.min_speech_ms = prm->min_speech_ms;
		if (prm->hangover_ms)
			def.hangover_ms = prm->hangover_ms;
		if (prm->prefix_ms)
			def.prefix_ms = prm->prefix_ms;
	}
	if (def.min_speech_ms > MAX_MIN_SPEECH_MS ||
	    def.hangover_ms > MAX_HANGOVER_MS ||
	    def.prefix_ms > MAX_PREFIX_MS)
		return bt_err(EINVAL, "VAD segmenter: min_speech_ms %u, "
			      "hangover_ms %u, prefix_ms %u: limits are %d, "
			      "%d and %d ms", def.min_speech_ms,
			      def.hangover_ms, def.prefix_ms,
			      MAX_MIN_SPEECH_MS, MAX_HANGOVER_MS,
			      MAX_PREFIX_MS);

	seg = mem_zalloc(sizeof(*seg), vadseg_destructor);
	if (!seg)
		return bt_err(ENOMEM, "VAD segmenter: out of memory");

	seg->prm = def;
	seg->vad = vad;

	/* A candidate longer than this cannot be mostly speech of
	 * min_speech_ms any more: start over rather than grow the buffer. */
	seg->cand_max = (size_t)(2 * def.min_speech_ms + 2 * BT_FRAME_MS) *
		SMP_PER_MS;
	seg->keep = (size_t)(def.prefix_ms + BACK_MAX_MS) * SMP_PER_MS +
		seg->cand_max +
		BT_FRAME_SAMPLES;
	seg->buf_sz = 2 * seg->keep;
	seg->buf = mem_alloc(seg->buf_sz * sizeof(*seg->buf), NULL);
	if (!seg->buf) {
		err = bt_err(ENOMEM, "VAD segmenter: out of memory");
		goto out;
	}

	err = vad->alloch(&seg->st);
	if (err)
		goto out;

 out:
	if (err)
		mem_deref(seg);
	else
		*segp = seg;

	return err;
}

static void buf_append(struct bt_vadseg *seg, const int16_t *pcm, size_t n)
{
	if (seg->len + n > seg->buf_sz) {
		size_t drop = seg->len + n - seg->keep;

		memmove(seg->buf, seg->buf + drop,
			(seg->len - drop) * sizeof(*seg->buf));
		seg->len -= drop;
	}

	memcpy(seg->buf + seg->len, pcm, n * sizeof(*pcm));
	seg->len += n;
	seg->total += n;
}

static void cand_open(struct bt_vadseg *seg, uint64_t t_ms, uint64_t pos,
		      bool backdate)
{
	seg->cand = true;
	seg->cand_ms = t_ms;
	seg->cand_pos = pos;
	if (backdate && seg->weak && seg->weak_pos < pos) {
		uint64_t back = pos - seg->weak_pos;

		if (back > (uint64_t)BACK_MAX_MS * SMP_PER_MS)
			back = (uint64_t)BACK_MAX_MS * SMP_PER_MS;
		seg->cand_pos = pos - back;
		seg->cand_ms = t_ms > back / SMP_PER_MS ?
			t_ms - back / SMP_PER_MS : 0;
	}
	seg->cand_speech = 0;
	seg->cand_span = 0;
	seg->cand_gap = 0;
}

int bt_vadseg_frame(struct bt_vadseg *seg, const int16_t *pcm, size_t n,
		    uint64_t t_ms, enum bt_vadseg_ev *evp, uint64_t *ev_ms,
		    float *probp)
{
	enum bt_vadseg_ev ev = BT_VADSEG_NONE;
	uint64_t when = 0, pos, frame_ms;
	float prob = 0.0f;
	bool speech;
	int err;

	if (!seg || !pcm || !evp || !ev_ms)
		return bt_err(EINVAL, "VAD segmenter: missing argument");
	if (n == 0 || n > BT_FRAME_SAMPLES)
		return bt_err(EINVAL, "VAD segmenter: frame of %zu samples; "
			      "give frames of up to %d samples", n,
			      BT_FRAME_SAMPLES);

	seg->prefix_ok = false;

	err = seg->vad->frameh(seg->st, pcm, n, &prob);
	if (err)
		return err;

	pos = seg->total;
	buf_append(seg, pcm, n);

	frame_ms = (uint64_t)n * 1000 / BT_RATE_HZ;
	/* A provider's hold frame is its hangover, not evidence: our own
	 * hangover_ms does that job, and END must date the last genuine
	 * speech frame. */
	speech = prob >= seg->prm.threshold && prob != BT_VAD_PROB_HOLD;

	if (prob < seg->prm.threshold / 4)
		seg->weak = false;
	else if (!seg->weak) {
		seg->weak = true;
		seg->weak_pos = pos;
	}

	if (seg->active) {
		if (speech) {
			seg->last_end_ms = t_ms + frame_ms;
			seg->silence = 0;
		}
		else {
			seg->silence += n;
			if (seg->silence >=
			    (size_t)seg->prm.hangover_ms * SMP_PER_MS) {
				seg->active = false;
				seg->cand = false;
				/* the next onset may not reach back into
				 * this segment */
				seg->weak = false;
				ev = BT_VADSEG_END;
				when = seg->last_end_ms;
			}
		}
		goto out;
	}

	if (speech) {
		if (!seg->cand)
			cand_open(seg, t_ms, pos, true);
		seg->cand_speech += n;
		seg->cand_span += n;
		seg->cand_gap = 0;
	}
	else if (seg->cand) {
		seg->cand_span += n;
		seg->cand_gap += n;
		if (seg->cand_gap > (size_t)GAP_MS * SMP_PER_MS)
			seg->cand = false;
	}

	if (seg->cand && seg->cand_span > seg->cand_max) {
		seg->cand = false;
		if (speech) {
			cand_open(seg, t_ms, pos, false);
			seg->cand_speech = seg->cand_span = n;
		}
	}

	if (speech && seg->cand &&
	    seg->cand_speech >= (size_t)seg->prm.min_speech_ms * SMP_PER_MS &&
	    4 * seg->cand_speech >= 3 * seg->cand_span) {
		seg->active = true;
		seg->cand = false;
		seg->last_end_ms = t_ms + frame_ms;
		seg->silence = 0;
		seg->prefix_ok = true;
		ev = BT_VADSEG_START;
		when = seg->cand_ms;
	}

 out:
	*evp = ev;
	*ev_ms = when;
	if (probp)
		*probp = prob;

	return 0;
}

bool bt_vadseg_active(const struct bt_vadseg *seg)
{
	return seg ? seg->active : false;
}

uint32_t bt_vadseg_pending_ms(const struct bt_vadseg *seg)
{
	uint32_t ms = 0, weak_ms;

	if (!seg || seg->active)
		return 0;
	if (seg->cand)
		ms = (uint32_t)(seg->cand_speech / SMP_PER_MS);
	/* a run of loud but unvoiced frames (the "s" of "sorry", which the
	 * VAD only trusts at the vowel) counts once it is longer than
	 * WEAK_LEAD_MS */
	if (seg->weak && seg->total - seg->weak_pos >
	    (uint64_t)WEAK_LEAD_MS * SMP_PER_MS) {
		weak_ms = (uint32_t)((seg->total - seg->weak_pos) /
				     SMP_PER_MS) - WEAK_LEAD_MS;
		if (weak_ms > ms)
			ms = weak_ms;
	}
	return ms;
}

const int16_t *bt_vadseg_prefix(const struct bt_vadseg *seg, size_t *np)
{
	uint64_t from, first;

	if (np)
		*np = 0;
	if (!seg || !np || !seg->prefix_ok)
		return NULL;

	/* Everything from prefix_ms before the onset, or as far back as
	 * the stream (or the buffer) goes. */
	first = seg->total - seg->len;
	from = seg->cand_pos > (uint64_t)seg->prm.prefix_ms * SMP_PER_MS ?
		seg->cand_pos - (uint64_t)seg->prm.prefix_ms * SMP_PER_MS : 0;
	if (from < first)
		from = first;

	*np = (size_t)(seg->total - from);
	return seg->buf + (from - first);
}
