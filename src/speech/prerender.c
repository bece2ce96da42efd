/**
 * @file prerender.c  The brain's fixed lines (its fillers) rendered ahead
 *                    into the process-wide sentence cache, so that saying
 *                    one when its timer fires is a copy, not a synthesis
 *                    or a round trip.
 *
 * An embedded voice renders each line on the worker pool when the
 * session is set up. A network voice streams: each line the cache does
 * not hold yet is streamed once through it on the session's loop, after
 * the first reply (the greeting) has all its audio, so that neither the
 * connection nor the service's queue holds the greeting up, one line at
 * a time (the service's concurrency is the call's, not the pre-render's),
 * and its audio and word timings go into the cache under the same key as
 * an embedded voice's would (provider, voice, rate, pitch, text). The
 * cache is per process: a line rendered once serves every later call of
 * that voice, and a claim on it keeps calls starting together from
 * asking for it each. A line that is not in by the time it is said is
 * streamed as any sentence is.
 */
#include "core/session_int.h"

enum {
	PRE_LINES = 8,
	PRE_TEXT = 512,
	PRE_WORDS = 64,
	PRE_MAX_SAMPLES = 20 * BT_RATE_HZ,  /* a filler is a few seconds */
};

struct prerender {
	struct bt_session *s;
	struct tts_hold *tts;          /* the voice the lines are for */
	char lines[PRE_LINES][PRE_TEXT];
	bool done[PRE_LINES];          /* cached, or tried and failed */
	size_t n;
	/* the line streaming now */
	struct bt_tts_stream *st;
	size_t cur;
	struct bt_resampler *rs;
	uint32_t rate;
	int16_t *pcm;                  /* at BT_RATE_HZ */
	size_t n_pcm, cap;
	bool overflow;
	struct bt_tts_word words[PRE_WORDS];
	size_t n_words;
};

/* The text a sentence is rendered from: as submit_sentence trims it. */
static void trimmed(const char *text, size_t n, char *buf, size_t sz)
{
	while (n && (text[n - 1] == ' ' || text[n - 1] == '\n'))
		--n;
	while (n && (*text == ' ' || *text == '\n')) {
		++text;
		--n;
	}
	snprintf(buf, sz, "%.*s", (int)n, text);
}

/* ---- embedded voices: on the worker pool ---- */

struct pre_job {
	struct bt_job job;
	struct tts_hold *tts;
	char text[PRE_TEXT];
};

static void pre_work(struct bt_job *job)
{
	struct pre_job *pj = (struct pre_job *)job;
	struct bt_tts_audio *a = NULL;

	/* the cache keeps the rendering; this copy is not needed */
	if (!bt_tts_synth(pj->tts->tts, pj->text, &a))
		mem_deref(a);
}

static void pre_free(struct bt_job *job)
{
	struct pre_job *pj = (struct pre_job *)job;

	ss_tts_hold_put(pj->tts);
	mem_deref(pj);
}

static void embedded(struct bt_session *s, const char *text)
{
	struct pre_job *pj = mem_zalloc(sizeof(*pj), NULL);

	if (!pj)
		return;
	pj->job.work = pre_work;
	pj->job.freeh = pre_free;
	atomic_init(&pj->job.refs, 1);
	pj->tts = ss_tts_hold_get(s->tts);
	str_ncpy(pj->text, text, sizeof(pj->text));
	if (!s->realtime || bt_worker_submit(&pj->job))
		bt_job_run_inline(&pj->job);
	bt_job_release(&pj->job);
}

/* ---- network voices: streamed on the session's loop ---- */

static void pre_reset(struct prerender *p)
{
	p->rs = mem_deref(p->rs);
	p->rate = 0;
	p->n_pcm = 0;
	p->overflow = false;
	p->n_words = 0;
}

static void pre_destructor(void *arg)
{
	struct prerender *p = arg;

	if (p->st) {
		/* cancelled: no handler runs after this */
		p->st = mem_deref(p->st);
		bt_tts_cache_release(p->tts->tts, p->lines[p->cur]);
	}
	pre_reset(p);
	mem_deref(p->pcm);
	ss_tts_hold_put(p->tts);
}

static void pcm_add(struct prerender *p, const int16_t *pcm, size_t n)
{
	if (p->overflow || !n)
		return;
	if (p->n_pcm + n > PRE_MAX_SAMPLES) {
		p->overflow = true;  /* not a filler: not kept */
		return;
	}
	if (p->n_pcm + n > p->cap) {
		size_t cap = (p->n_pcm + n) * 2;
		int16_t *q;

		if (cap > PRE_MAX_SAMPLES)
			cap = PRE_MAX_SAMPLES;
		/* libre's mem_realloc does not take NULL */
		q = p->pcm ? mem_realloc(p->pcm, cap * sizeof(*q))
			   : mem_alloc(cap * sizeof(*q), NULL);
		if (!q) {
			p->overflow = true;
			return;
		}
		p->pcm = q;
		p->cap = cap;
	}
	memcpy(p->pcm + p->n_pcm, pcm, n * sizeof(*pcm));
	p->n_pcm += n;
}

/* The line's audio, resampled to the pipeline's rate as it comes (what
 * saying it from the cache then copies as is). */
static void pre_audio(struct prerender *p, const int16_t *pcm, size_t n,
		      uint32_t rate_hz)
{
	int16_t out[4096 * BT_RATE_HZ / 8000 + 64];
	size_t k = 0;

	if (rate_hz == BT_RATE_HZ) {
		pcm_add(p, pcm, n);
		return;
	}
	if (n > 4096) {
		p->overflow = true;  /* larger than any provider's chunk */
		return;
	}
	if (!p->rs || p->rate != rate_hz) {
		p->rs = mem_deref(p->rs);
		p->rate = rate_hz;
		if (bt_resampler_alloc(&p->rs, rate_hz, BT_RATE_HZ)) {
			p->overflow = true;
			return;
		}
	}
	if (!bt_resample(p->rs, pcm, n, out, sizeof(out) / sizeof(out[0]),
			 &k))
		pcm_add(p, out, k);
}

static void pre_next(struct prerender *p);

static void pre_chunk(const int16_t *pcm, size_t n, uint32_t rate_hz,
		      const struct bt_tts_chunk *c, void *arg)
{
	struct prerender *p = arg;
	struct bt_tts_stream *st;
	const char *text = p->lines[p->cur];

	if (n)
		pre_audio(p, pcm, n, rate_hz);
	for (size_t i = 0; i < c->n_words && p->n_words < PRE_WORDS; i++)
		p->words[p->n_words++] = c->words[i];
	if (!c->last)
		return;
	if (p->rs) {
		int16_t out[256];
		size_t k = 0;

		if (!bt_resample(p->rs, NULL, 0, out, 256, &k))
			pcm_add(p, out, k);
	}
	if (!c->err && !p->overflow && p->n_pcm)
		(void)bt_tts_cache_put(p->tts->tts, text, p->pcm, p->n_pcm,
				       BT_RATE_HZ, p->words, p->n_words);
	/* a failure is not the call's: the line is streamed when said, and
	 * the voice's own failure handling takes it from there */
	p->done[p->cur] = true;
	bt_tts_cache_release(p->tts->tts, text);
	pre_reset(p);
	st = p->st;
	p->st = NULL;
	mem_deref(st);  /* in its own handler, as the reply's streams are */
	pre_next(p);
}

/* Start the next line the cache lacks and no other session renders. */
static void pre_next(struct prerender *p)
{
	struct bt_session *s = p->s;

	/* the voice changed or failed over: the lines were for it */
	if (p->st || s->tts != p->tts || s->voice_at)
		return;
	for (size_t i = 0; i < p->n; i++) {
		const char *text = p->lines[i];

		if (p->done[i])
			continue;
		if (bt_tts_cache_has(p->tts->tts, text)) {
			p->done[i] = true;
			continue;
		}
		if (!bt_tts_cache_claim(p->tts->tts, text))
			continue;  /* another call renders it: looked at again
				      after this call's next reply */
		p->cur = i;
		pre_reset(p);
		if (bt_tts_of(p->tts->tts)->streamh(&p->st, p->tts->tts, text,
						    pre_chunk, p)) {
			p->st = NULL;
			p->done[i] = true;
			bt_tts_cache_release(p->tts->tts, text);
			continue;
		}
		return;
	}
}

void ss_voice_prerender_next(struct bt_session *s)
{
	const struct reply *r = s->reply;

	/* only once the reply on its way has all its audio (the greeting
	 * first) */
	if (!s->pre || (r && (r->job || r->stream || !r->brain_done ||
			      r->planned < r->len)))
		return;
	pre_next(s->pre);
}

/*
 * The brain's fillers rendered now, into the process-wide sentence cache
 * through this session's voice (same provider, voice, rate and pitch, so
 * the same key), so that saying one later is a copy. An embedded voice:
 * on the worker pool in real time (the set-up does not wait for it),
 * here otherwise. A network voice: kept for ss_voice_prerender_next,
 * which streams them once the greeting has its audio.
 */
void ss_voice_prerender(struct bt_session *s, const char *const *lines,
			size_t n)
{
	bool net;

	if (!s->tts)
		return;
	net = bt_tts_of(s->tts->tts)->streamh != NULL;
	for (size_t i = 0; i < n; i++) {
		char text[PRE_TEXT];

		if (!lines[i])
			continue;
		trimmed(lines[i], strlen(lines[i]), text, sizeof(text));
		if (!text[0] || bt_tts_cache_has(s->tts->tts, text))
			continue;
		if (!net) {
			embedded(s, text);
			continue;
		}
		if (!s->pre) {
			s->pre = mem_zalloc(sizeof(*s->pre), pre_destructor);
			if (!s->pre)
				return;
			s->pre->s = s;
			s->pre->tts = ss_tts_hold_get(s->tts);
		}
		if (s->pre->n < PRE_LINES)
			str_ncpy(s->pre->lines[s->pre->n++], text, PRE_TEXT);
	}
}

/* Whether the voice that would say this sentence has it rendered. */
bool ss_voice_ready(struct bt_session *s, const char *text, size_t n)
{
	struct tts_hold *th;
	char t[1024];

	if (!s->tts)
		return false;
	th = s->voice_at ? s->tts_fb[s->voice_at - 1] : s->tts;
	trimmed(text, n, t, sizeof(t));
	return bt_tts_cache_has(th->tts, t);
}
