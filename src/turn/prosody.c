/**
 * @file prosody.c  End-of-turn cues in the pitch track and the frame
 * levels: final fall and final lengthening.
 *
 * Why these two: in English (and most languages studied) a speaker who
 * is done lets the pitch fall to the low part of their range and draws
 * out the last syllable; one who holds the turn stays level or rises
 * ("a table for three, ..."), or stops short. Both are cheap to measure
 * and work without words, so they are available before the transcript.
 *
 * Units: pitch in semitones (st) re 55 Hz, since pitch movements scale
 * with the voice: a 3 st fall is the same gesture at 100 Hz and 200 Hz.
 *
 * Per utterance:
 *  - voiced frames: those the tracker calls voiced, unless 25 dB or more
 *    under the loudest frame of the utterance (a fading tail, where the
 *    tracker's F0 is unreliable);
 *  - voiced segments: runs of voiced frames (one unvoiced frame inside
 *    is bridged: the tracker drops single frames), split where the level
 *    dips >= 6 dB under the segment's peak and recovers >= 3 dB (two
 *    syllables without a voiceless consonant between them). A segment of
 *    one frame is a blip, not a syllable;
 *  - the final stretch: the voiced frames of the last segment, reaching
 *    back to at least 260 ms and at most 500 ms before its end; frames
 *    with voicing under 0.6 or more than 10 st from the speaker's median
 *    (the tracker's octave errors happen there) are left out. A line fit
 *    (weighted by voicing) gives the fall (fit at the end minus fit at
 *    the start) and the end level against the speaker's median.
 * Per speaker (kept across resets):
 *  - a histogram of F0 in 1/4 st bins; its median is the reference "mid
 *    level". Halved when it holds 30 s of voicing, so it follows the
 *    speaker slowly and counts never overflow;
 *  - the mean length of non-final segments (the last segment of each
 *    utterance is committed only when another one follows it), forgetting
 *    old ones after ~40 segments; a prior of 140 ms weighs as 2 segments.
 *
 * Score: pitch cue pc = logistic(-(0.6 fall + 0.35 end_rel)), shrunk
 * towards 0.5 when the stretch has under 8 good frames (0.5 under 4);
 * length cue lc = logistic(2.5 (last / mean - 1.3)); score = 0.65 pc +
 * 0.35 lc min(1, 2 pc): a long last syllable with a rising pitch is a
 * hesitation or a question, not an ending, so lengthening counts only
 * as far as the pitch does not rise.
 *
 * Cost per frame: one log2f, a few compares, and (voiced frames) a
 * 144-bin median: well under a microsecond. The score is a 25-point fit.
 */
#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <string.h>
#include <re.h>
#include "banter/audio.h"
#include "banter/err.h"
#include "turn/prosody.h"

enum {
	RING = 25,          /* voiced frames kept: 500 ms */
	TAIL_MIN = 13,      /* final stretch reaches back >= 260 ms */
	BINS = 144,         /* 1/4 st bins over 36 st above 55 Hz */
	BINS_PER_ST = 4,
	HIST_CAP = 1500,    /* 30 s of voiced frames */
	SEG_MIN = 2,        /* frames */
	GAP_MAX = 1,        /* unvoiced frames bridged inside a segment */
	SEG_CAP = 40,       /* segments the mean remembers */
	PRIOR_SEG_MS = 140,
	PRIOR_SEG_N = 2,
	GOOD_MIN = 4,       /* fewer good frames: no pitch opinion */
	GOOD_FULL = 8,      /* this many: full confidence */
	MEDIAN_MIN = 25,    /* frames before the median rejects outliers */
};

static const float REF_HZ = 55.0f;
static const float VOICING_GOOD = 0.6f;
static const float OUTLIER_ST = 10.0f;
static const float DIP_DB = 6.0f;
static const float QUIET_DB = 25.0f;
static const float RISE_DB = 3.0f;
static const float K_FALL = 0.6f;
static const float K_REL = 0.35f;
static const float K_LEN = 2.5f;
static const float LEN_MID = 1.3f;
static const float W_PITCH = 0.65f;
static const float CLAMP_ST = 12.0f;

struct vframe {
	uint32_t no;   /* frame number in the utterance */
	float st;
	float w;
};

struct bt_prosody {
	/* speaker */
	uint32_t hist[BINS];
	uint32_t hist_n;
	float median_st;        /* valid if hist_n > 0 */
	double seg_sum_ms;
	double seg_n;

	/* utterance */
	uint32_t no;            /* frames fed since reset */
	float utt_peak_db;
	size_t voiced;
	struct vframe ring[RING];
	size_t ring_n, ring_head; /* head: next write position */
	bool seg_open;
	uint32_t seg_start, seg_last;
	uint32_t gap;
	float seg_peak_db;
	bool in_dip;
	float dip_db;
	uint32_t dip_no;
	uint32_t pending_ms;    /* last closed segment, not yet committed */
	uint32_t pend_end;      /* its last frame */
};

static float logistic(float z)
{
	return 1.0f / (1.0f + expf(-z));
}

static float clampf(float x, float lo, float hi)
{
	return x < lo ? lo : x > hi ? hi : x;
}

void bt_prosody_reset(struct bt_prosody *p)
{
	if (!p)
		return;
	p->no = 0;
	p->utt_peak_db = -120.0f;
	p->voiced = 0;
	p->ring_n = p->ring_head = 0;
	p->seg_open = false;
	p->in_dip = false;
	p->gap = 0;
	/* the previous utterance's last segment was its final one: the
	 * lengthened syllable must not raise the speaker's mean */
	p->pending_ms = 0;
	p->pend_end = 0;
}

int bt_prosody_alloc(struct bt_prosody **pp)
{
	struct bt_prosody *p;

	if (!pp)
		return bt_err(EINVAL, "prosody: no result pointer; pass the "
			      "address of a struct bt_prosody pointer");
	p = mem_zalloc(sizeof(*p), NULL);
	if (!p)
		return bt_err(ENOMEM, "prosody: out of memory (%zu bytes)",
			      sizeof(*p));
	p->seg_sum_ms = (double)PRIOR_SEG_MS * PRIOR_SEG_N;
	p->seg_n = PRIOR_SEG_N;
	bt_prosody_reset(p);
	*pp = p;
	return 0;
}

static void hist_add(struct bt_prosody *p, float st)
{
	long b = lrintf(st * BINS_PER_ST - 0.5f);
	uint32_t half, acc = 0;
	size_t i;

	if (b < 0 || b >= BINS)
		return;
	if (p->hist_n >= HIST_CAP) {
		p->hist_n = 0;
		for (i = 0; i < BINS; i++) {
			p->hist[i] /= 2;
			p->hist_n += p->hist[i];
		}
	}
	p->hist[b]++;
	p->hist_n++;

	/* median, interpolated inside its bin */
	half = (p->hist_n + 1) / 2;
	for (i = 0; i < BINS; i++) {
		if (acc + p->hist[i] >= half) {
			float in = (float)(half - acc) / (float)p->hist[i];

			p->median_st = ((float)i + in) / BINS_PER_ST;
			return;
		}
		acc += p->hist[i];
	}
}

static void seg_commit(struct bt_prosody *p, uint32_t start, uint32_t last)
{
	uint32_t len = last - start + 1;

	if (len < SEG_MIN)
		return;
	/* the previous one was not final after all */
	if (p->pending_ms) {
		if (p->seg_n >= SEG_CAP)
			p->seg_sum_ms *= (SEG_CAP - 1.0) / SEG_CAP;
		else
			p->seg_n += 1.0;
		p->seg_sum_ms += p->pending_ms;
	}
	p->pending_ms = len * BT_FRAME_MS;
	p->pend_end = last;
}

static void seg_voiced(struct bt_prosody *p, float level_db)
{
	uint32_t no = p->no;

	if (!p->seg_open) {
		p->seg_open = true;
		p->seg_start = no;
		p->seg_peak_db = level_db;
		p->in_dip = false;
	}
	else if (p->in_dip) {
		if (level_db < p->dip_db) {
			p->dip_db = level_db;
			p->dip_no = no;
		}
		else if (level_db >= p->dip_db + RISE_DB) {
			/* a new syllable starts at the bottom of the dip */
			seg_commit(p, p->seg_start, p->dip_no - 1);
			p->seg_start = p->dip_no;
			p->seg_peak_db = level_db;
			p->in_dip = false;
		}
	}
	else if (level_db <= p->seg_peak_db - DIP_DB) {
		p->in_dip = true;
		p->dip_db = level_db;
		p->dip_no = no;
	}
	else if (level_db > p->seg_peak_db) {
		p->seg_peak_db = level_db;
	}
	p->seg_last = no;
	p->gap = 0;
}

void bt_prosody_frame(struct bt_prosody *p, float f0_hz, float voicing,
		      float level_dbfs)
{
	if (!p)
		return;

	if (level_dbfs > p->utt_peak_db)
		p->utt_peak_db = level_dbfs;
	/* the weak voicing of a fading tail is noise to the tracker */
	if (level_dbfs < p->utt_peak_db - QUIET_DB)
		f0_hz = 0.0f;

	if (f0_hz > 0.0f && isfinite(f0_hz)) {
		float st = 12.0f * log2f(f0_hz / REF_HZ);

		p->voiced++;
		seg_voiced(p, level_dbfs);
		if (voicing >= VOICING_GOOD) {
			bool outlier = p->hist_n >= MEDIAN_MIN &&
				fabsf(st - p->median_st) > OUTLIER_ST;

			hist_add(p, st);
			if (!outlier) {
				p->ring[p->ring_head].no = p->no;
				p->ring[p->ring_head].st = st;
				p->ring[p->ring_head].w = voicing;
				p->ring_head = (p->ring_head + 1) % RING;
				if (p->ring_n < RING)
					p->ring_n++;
			}
		}
	}
	else if (p->seg_open && ++p->gap > GAP_MAX) {
		seg_commit(p, p->seg_start, p->seg_last);
		p->seg_open = false;
	}
	p->no++;
}

/* The last segment: the open one, else the last committed one. */
static void last_seg(const struct bt_prosody *p, uint32_t *endp,
		     uint32_t *framesp)
{
	if (p->seg_open && p->seg_last - p->seg_start + 1 >= SEG_MIN) {
		*endp = p->seg_last;
		*framesp = p->seg_last - p->seg_start + 1;
	}
	else {
		*endp = p->pend_end;
		*framesp = p->pending_ms / BT_FRAME_MS;
	}
}

void bt_prosody_features(const struct bt_prosody *p,
			 struct bt_prosody_feat *f)
{
	double sw = 0, sx = 0, sy = 0, sxx = 0, sxy = 0;
	uint32_t end, frames, span, x_lo = UINT32_MAX, x_hi = 0;
	float pc = 0.5f, lc = 0.5f, mean_ms;
	size_t i, good = 0;

	if (!f)
		return;
	memset(f, 0, sizeof(*f));
	if (!p) {
		f->score = 0.5f;
		return;
	}

	mean_ms = (float)(p->seg_sum_ms / p->seg_n);
	f->voiced_frames = p->voiced;
	f->median_hz = p->hist_n ?
		REF_HZ * exp2f(p->median_st / 12.0f) : 0.0f;
	f->mean_seg_ms = (uint32_t)lrintf(mean_ms);

	last_seg(p, &end, &frames);
	if (!frames || p->voiced < GOOD_MIN) {
		f->pitch_cue = f->length_cue = f->score = 0.5f;
		return;
	}
	f->last_seg_ms = frames * BT_FRAME_MS;

	/* the final stretch: the last segment, at least TAIL_MIN frames */
	span = frames < TAIL_MIN ? TAIL_MIN : frames;
	span = span > RING ? RING : span;
	for (i = 0; i < p->ring_n; i++) {
		const struct vframe *v = &p->ring[i];
		double x;

		if (v->no > end || v->no + span <= end)
			continue;
		x = (double)v->no;
		sw += v->w;
		sx += v->w * x;
		sy += v->w * v->st;
		sxx += v->w * x * x;
		sxy += v->w * x * v->st;
		x_lo = v->no < x_lo ? v->no : x_lo;
		x_hi = v->no > x_hi ? v->no : x_hi;
		good++;
	}
	f->tail_frames = good;

	if (good >= GOOD_MIN && x_hi > x_lo) {
		double den = sw * sxx - sx * sx;
		double slope = den > 1e-9 ? (sw * sxy - sx * sy) / den : 0.0;
		double icpt = (sy - slope * sx) / sw;
		float y_end = (float)(icpt + slope * x_hi);
		float conf;

		f->fall_st = clampf((float)(slope * (x_hi - x_lo)),
				    -CLAMP_ST, CLAMP_ST);
		f->end_rel_st = clampf(y_end - p->median_st, -CLAMP_ST,
				       CLAMP_ST);
		pc = logistic(-(K_FALL * f->fall_st + K_REL * f->end_rel_st));
		conf = good >= GOOD_FULL ? 1.0f : (float)good / GOOD_FULL;
		pc = 0.5f + (pc - 0.5f) * conf;
	}

	lc = logistic(K_LEN * ((float)f->last_seg_ms / mean_ms - LEN_MID));
	f->pitch_cue = pc;
	f->length_cue = lc;
	f->score = W_PITCH * pc + (1.0f - W_PITCH) * lc *
		(2.0f * pc < 1.0f ? 2.0f * pc : 1.0f);
}

float bt_prosody_end_score(const struct bt_prosody *p)
{
	struct bt_prosody_feat f;

	bt_prosody_features(p, &f);
	return f.score;
}
