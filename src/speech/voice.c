/**
 * @file voice.c  The reply's voice: each sentence rendered by an embedded
 *                synthesiser on the worker pool, or streamed by a network
 *                voice on the session's loop, and appended to the reply's
 *                audio with its word timings (measured, or estimated from
 *                the text). A network voice that fails hands the sentence,
 *                and the rest of the call, to the next voice of its
 *                fallback chain (persona.fallback_voice).
 */
#include "core/session_int.h"

static void submit_job(struct bt_session *s, const char *text, size_t n,
		       bool protect);

static void job_work(struct bt_job *job)
{
	struct synth_job *sj = (struct synth_job *)job;
	struct bt_tts_audio *a = NULL;
	struct timespec t0, t1;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	sj->err = bt_tts_synth(sj->tts->tts, sj->text, &a);
	if (sj->err) {
		snprintf(sj->errmsg, sizeof(sj->errmsg), "%s", bt_errmsg());
		goto out;
	}
	sj->audio = a;
	sj->rate_hz = a->rate_hz;
	if (a->n) {
		sj->err = bt_resample_buf(a->pcm, a->n, a->rate_hz,
					  BT_RATE_HZ, &sj->pcm, &sj->n);
		if (sj->err)
			snprintf(sj->errmsg, sizeof(sj->errmsg), "%s",
				 bt_errmsg());
	}
	sj->words = a->words;
	sj->n_words = a->n_words;
 out:
	clock_gettime(CLOCK_MONOTONIC, &t1);
	sj->compute_ms = (double)(t1.tv_sec - t0.tv_sec) * 1e3 +
			 (double)(t1.tv_nsec - t0.tv_nsec) / 1e6;
}

static void job_free(struct bt_job *job)
{
	struct synth_job *sj = (struct synth_job *)job;

	mem_deref(sj->pcm);
	mem_deref(sj->audio);
	ss_tts_hold_put(sj->tts);
	mem_deref(sj);
}

/* Room for n more samples of agent audio; false (and said) if none. */
static bool pcm_room(struct bt_session *s, struct reply *r, size_t n)
{
	if (r->n + n > MAX_REPLY_SAMPLES) {
		ss_error_event(s, "the reply is longer than two minutes of audio; "
			    "the rest is dropped: keep replies short");
		return false;
	}
	if (r->n + n > r->cap) {
		size_t cap = (r->n + n) * 2;
		/* libre's mem_realloc does not take NULL */
		int16_t *p = r->pcm ? mem_realloc(r->pcm, cap * sizeof(*p))
				    : mem_alloc(cap * sizeof(*p), NULL);
		if (!p) {
			ss_error_event(s, "out of memory for agent audio");
			return false;
		}
		r->pcm = p;
		r->cap = cap;
	}
	return true;
}

/* Audio is there to play: stamp the first of it, start speaking. */
static void audio_came(struct bt_session *s, struct reply *r)
{
	if (r->n && !r->t_first_audio) {
		r->t_first_audio = ss_stamp(s);
		if (r->t_first_audio < r->t_first_text)
			r->t_first_audio = r->t_first_text;
	}
	if (r->n > r->cursor && s->state == BT_ST_THINKING) {
		ss_set_state(s, BT_ST_SPEAKING);
		if (!r->held && !s->eager_hold && s->readyh)
			s->readyh(s->ready_arg);
	}
}

/* Room for n more words (grown as sentences come: zeroing room for every
 * word a reply could have cost more than the rest of this). */
static void words_room(struct reply *r, size_t n)
{
	size_t cap;
	struct word *p;

	if (!n || r->n_words + n <= r->words_cap || r->n_words >= MAX_WORDS)
		return;
	cap = (r->n_words + n) * 2;
	if (cap > MAX_WORDS)
		cap = MAX_WORDS;
	p = r->words ? mem_realloc(r->words, cap * sizeof(*p)) :
		mem_alloc(cap * sizeof(*p), NULL);
	if (p) {
		r->words = p;
		r->words_cap = cap;
	}
}

static void reply_append(struct bt_session *s, struct synth_job *sj)
{
	struct reply *r = s->reply;
	size_t base = r->n;

	if (sj->err) {
		char msg[1400];
		snprintf(msg, sizeof(msg), "speech synthesis failed for "
			 "\"%.200s\": %s", sj->text, sj->errmsg);
		ss_error_event(s, msg);
		return;
	}
	if (!pcm_room(s, r, sj->n))
		return;
	if (sj->n)
		memcpy(r->pcm + r->n, sj->pcm, sj->n * sizeof(int16_t));
	r->n += sj->n;
	if (sj->protect)
		r->protect_end = r->n;

	words_room(r, sj->n_words);
	for (size_t i = 0; i < sj->n_words && r->n_words < r->words_cap;
	     i++) {
		struct word *w;

		w = &r->words[r->n_words++];
		w->start = base + (size_t)sj->words[i].start_ms * BT_RATE_HZ /
				   1000;
		w->end = base + (size_t)sj->words[i].end_ms * BT_RATE_HZ / 1000;
		if (w->end > r->n)
			w->end = r->n;
		str_ncpy(w->text, sj->words[i].text, sizeof(w->text));
	}
	audio_came(s, r);
}

/* Collect a finished TTS job and start the next sentence. */
void ss_poll_job(struct bt_session *s)
{
	struct reply *r = s->reply;
	struct synth_job *sj;

	if (!r || !r->job || !bt_job_done(&r->job->job))
		return;
	sj = r->job;
	r->job = NULL;
	reply_append(s, sj);
	bt_job_release(&sj->job);
	ss_reply_plan(s);
}

/* A TTS job came back to the session's loop (not cancelled). */
static void job_back(struct bt_job *job)
{
	struct synth_job *sj = (struct synth_job *)job;

	ss_poll_job(sj->s);
}

/* The voice that says the next sentence: the chain's voice_at. */
static struct tts_hold *cur_voice(struct bt_session *s)
{
	return s->voice_at ? s->tts_fb[s->voice_at - 1] : s->tts;
}

static const char *voice_name(struct bt_session *s, size_t k)
{
	return k ? s->fb_names[k - 1] : bt_agent_voice(s->agent);
}

/*
 * The voice speaking failed: the next of the chain speaks from now on
 * (true), or none is left (false: the sentence is not said, and the last
 * voice is tried again on the next one, since a network voice may come
 * back). Said in the trace either way.
 */
static bool voice_fail(struct bt_session *s, const char *why)
{
	char msg[1400], then[160];
	const char *failed = voice_name(s, s->voice_at);
	bool more = s->voice_at < s->n_fb;
	json_t *o;

	if (more) {
		s->voice_at++;
		snprintf(then, sizeof(then), "the fallback voice \"%s\" "
			 "speaks for the rest of the call",
			 voice_name(s, s->voice_at));
	}
	else {
		snprintf(then, sizeof(then), "no fallback voice is left, so "
			 "this sentence is not said");
	}
	snprintf(msg, sizeof(msg), "the voice \"%s\" failed: %.900s; %s",
		 failed, why, then);
	o = json_object();
	json_object_set_new(o, "message", json_string(msg));
	json_object_set_new(o, "stage", json_string("tts"));
	json_object_set_new(o, "failed", json_string(failed));
	json_object_set_new(o, "fallback", more ?
			    json_string(voice_name(s, s->voice_at)) :
			    json_null());
	ss_emit(s, BT_EV_ERROR, ss_now_ms(s), msg, o);
	return more;
}

/*
 * Word timings for a streamed sentence the provider gave none for: its
 * audio [base, r->n) shared among the words by their length (a word's
 * share of the characters is close to its share of the time).
 */
static void words_estimate(struct reply *r, const char *text, size_t base)
{
	size_t chars = 0, at = 0, span = r->n - base;
	const char *p;

	for (p = text; *p; p++)
		chars += *p != ' ';
	chars += 1;
	words_room(r, 64);
	for (p = text; *p && r->n_words < r->words_cap;) {
		size_t k = 0;
		struct word *w;

		while (*p == ' ')
			++p;
		while (p[k] && p[k] != ' ')
			++k;
		if (!k)
			break;
		w = &r->words[r->n_words++];
		w->start = base + span * at / chars;
		at += k;
		w->end = base + span * at / chars;
		snprintf(w->text, sizeof(w->text), "%.*s",
			 (int)(k < sizeof(w->text) ? k : sizeof(w->text) - 1),
			 p);
		p += k;
		if (r->n_words >= r->words_cap)
			words_room(r, 64);
	}
}

static void stream_pcm(struct bt_session *s, struct reply *r,
		       const int16_t *pcm, size_t n)
{
	int16_t out[4096 * BT_RATE_HZ / 8000 + 64];
	size_t k = 0;

	if (n > 4096)
		return;  /* the provider's chunks are at most 4096 samples */
	if (r->stream_rs) {
		if (bt_resample(r->stream_rs, pcm, n, out,
				sizeof(out) / sizeof(out[0]), &k))
			return;
		pcm = out;
		n = k;
	}
	if (!n || !pcm_room(s, r, n))
		return;
	memcpy(r->pcm + r->n, pcm, n * sizeof(int16_t));
	r->n += n;
	r->stream_audio = true;
	audio_came(s, r);
}

/* Words the provider timed (ElevenLabs' alignment), in ms from the start
 * of the sentence's audio. */
static void stream_words(struct reply *r, const struct bt_tts_word *ws,
			 size_t n)
{
	words_room(r, n);
	for (size_t i = 0; i < n && r->n_words < r->words_cap; i++) {
		struct word *w = &r->words[r->n_words++];

		w->start = r->stream_base + (size_t)ws[i].start_ms *
			   BT_RATE_HZ / 1000;
		w->end = r->stream_base + (size_t)ws[i].end_ms * BT_RATE_HZ /
			 1000;
		str_ncpy(w->text, ws[i].text, sizeof(w->text));
	}
	r->stream_timed = true;
}

/* A network voice's audio for the sentence in flight (its reply's own
 * handler: freeing the reply cancels the stream). */
static void stream_chunk(const int16_t *pcm, size_t n, uint32_t rate_hz,
			 const struct bt_tts_chunk *c, void *arg)
{
	bool last = c->last;
	int err = c->err;
	const char *msg = c->msg;
	struct reply *r = arg;
	struct bt_session *s = r->tag ? r->tag->s : NULL;
	struct bt_tts_stream *st;

	if (!s || s->reply != r)
		return;
	if (n && rate_hz != BT_RATE_HZ &&
	    (!r->stream_rs || r->stream_rate != rate_hz)) {
		r->stream_rs = mem_deref(r->stream_rs);
		r->stream_rate = rate_hz;
		if (bt_resampler_alloc_live(&r->stream_rs, rate_hz, BT_RATE_HZ))
			return;
	}
	if (n)
		stream_pcm(s, r, pcm, n);
	if (c->n_words)
		stream_words(r, c->words, c->n_words);
	if (!last)
		return;
	if (r->stream_rs) {
		int16_t out[256];
		size_t k = 0;

		if (!bt_resample(r->stream_rs, NULL, 0, out, 256, &k) && k &&
		    pcm_room(s, r, k)) {
			memcpy(r->pcm + r->n, out, k * sizeof(int16_t));
			r->n += k;
		}
		r->stream_rs = mem_deref(r->stream_rs);
	}
	st = r->stream;
	r->stream = NULL;
	if (err) {
		/* the next voice says the whole sentence: a fragment was not
		 * a sentence heard (no words of it count as heard) */
		char text[sizeof(r->stream_text)];
		bool protect = r->stream_protect;

		str_ncpy(text, r->stream_text, sizeof(text));
		if (voice_fail(s, msg ? msg : "error"))
			ss_voice_sentence(s, text, strlen(text), protect);
		mem_deref(st);  /* after: msg may be the stream's */
		/* r may be gone (an inline job can finish the reply) */
		ss_reply_plan(s);
		return;
	}
	mem_deref(st);
	if (r->stream_audio && !r->stream_timed)
		words_estimate(r, r->stream_text, r->stream_base);
	if (r->stream_protect)
		r->protect_end = r->n;
	audio_came(s, r);
	ss_reply_plan(s);
	/* the reply may have all its audio now: the fillers' turn */
	ss_voice_prerender_next(s);
}

/*
 * The sentence from the sentence cache, when the network voice's
 * rendering of it is there (a filler rendered ahead, speech/prerender.c):
 * its audio is in the reply in this tick, no round trip. False: not
 * cached, stream it.
 */
static bool say_cached(struct bt_session *s, struct bt_tts_st *tts,
		       const char *text, size_t n, bool protect)
{
	struct reply *r = s->reply;
	struct bt_tts_audio *a = NULL;
	char t[sizeof(r->stream_text)];
	size_t base = r->n;

	snprintf(t, sizeof(t), "%.*s", (int)n, text);
	if (bt_tts_cache_get(tts, t, &a))
		return false;
	if (a->rate_hz != BT_RATE_HZ) {
		/* kept at the pipeline's rate; another's entry: stream */
		mem_deref(a);
		return false;
	}
	if (!pcm_room(s, r, a->n)) {
		mem_deref(a);
		return true;  /* said why; as a rendered sentence would be */
	}
	memcpy(r->pcm + r->n, a->pcm, a->n * sizeof(int16_t));
	r->n += a->n;
	words_room(r, a->n_words);
	for (size_t i = 0; i < a->n_words && r->n_words < r->words_cap;
	     i++) {
		struct word *w = &r->words[r->n_words++];

		w->start = base + (size_t)a->words[i].start_ms * BT_RATE_HZ /
			   1000;
		w->end = base + (size_t)a->words[i].end_ms * BT_RATE_HZ / 1000;
		if (w->end > r->n)
			w->end = r->n;
		str_ncpy(w->text, a->words[i].text, sizeof(w->text));
	}
	if (!a->n_words)  /* the provider timed none: as when streamed */
		words_estimate(r, t, base);
	if (protect)
		r->protect_end = r->n;
	mem_deref(a);
	audio_came(s, r);
	return true;
}

/* Start the sentence on a network voice; 0 if it is on its way. */
static int stream_sentence(struct bt_session *s, struct bt_tts_st *tts,
			   const char *text, size_t n, bool protect)
{
	struct reply *r = s->reply;

	snprintf(r->stream_text, sizeof(r->stream_text), "%.*s", (int)n,
		 text);
	r->stream_base = r->n;
	r->stream_protect = protect;
	r->stream_audio = false;
	r->stream_timed = false;
	bt_err_clear();
	return bt_tts_of(tts)->streamh(&r->stream, tts, r->stream_text,
				       stream_chunk, r);
}

/* The sentence on a synthesiser of the worker pool (an embedded voice, or
 * the stand-in of a network voice that failed). */
static void submit_job(struct bt_session *s, const char *text, size_t n,
		       bool protect)
{
	struct reply *r = s->reply;
	struct tts_hold *th = cur_voice(s);
	struct synth_job *sj;

	sj = mem_zalloc(sizeof(*sj), NULL);
	if (!sj) {
		ss_error_event(s, "out of memory for a TTS job");
		return;
	}
	sj->job.work = job_work;
	sj->job.freeh = job_free;
	atomic_init(&sj->job.refs, 1);
	sj->s = s;
	sj->tts = ss_tts_hold_get(th);
	sj->protect = protect;
	snprintf(sj->text, sizeof(sj->text), "%.*s", (int)n, text);

	/* on an event loop the result comes back as a message */
	sj->job.loop = s->realtime ? bt_loop_current() : NULL;
	sj->job.doneh = job_back;

	r->job = sj;
	if (s->realtime && !bt_worker_submit(&sj->job))
		return;
	bt_job_run_inline(&sj->job);
	ss_poll_job(s);
}

/* A sentence of the reply (its text already announced) to the voice. */
void ss_voice_sentence(struct bt_session *s, const char *text, size_t n,
		       bool protect)
{
	char why[512];

	/* a network voice that refuses at once hands over here, down the
	 * chain (its length bounds this) */
	for (;;) {
		struct bt_tts_st *tts = cur_voice(s)->tts;

		if (!bt_tts_of(tts)->streamh) {
			submit_job(s, text, n, protect);
			return;
		}
		if (say_cached(s, tts, text, n, protect))
			return;
		if (!stream_sentence(s, tts, text, n, protect))
			return;
		str_ncpy(why, *bt_errmsg() ? bt_errmsg() :
			 "it did not start", sizeof(why));
		if (!voice_fail(s, why))
			return;
	}
}

/*
 * A network voice's stand-ins (persona.fallback_voice: a name or a list,
 * checked at load; none: espeak), opened now: an embedded voice is loaded
 * before it is needed (a failure mid-call never waits on it), and a
 * network one starts connecting without blocking the loop (ElevenLabs
 * opens its socket now; an OpenAI-compatible server is asked per
 * sentence), so that taking over costs no set-up.
 */
int ss_voice_open_chain(struct bt_session *s, const json_t *fb,
			const struct bt_tts_prm *prm)
{
	const char *names[BT_VOICE_CHAIN_MAX];
	size_t n = 0;

	if (json_is_string(fb))
		names[n++] = json_string_value(fb);
	for (size_t i = 0; json_is_array(fb) && i < json_array_size(fb) &&
	     n < BT_VOICE_CHAIN_MAX; i++) {
		const char *v = json_string_value(json_array_get(fb, i));

		if (v)
			names[n++] = v;
	}
	if (!n)
		names[n++] = "espeak:en-us+f3";
	for (size_t i = 0; i < n; i++) {
		struct tts_hold *h = calloc(1, sizeof(*h));
		int err;

		if (!h)
			return ENOMEM;
		atomic_init(&h->refs, 1);
		str_ncpy(s->fb_names[s->n_fb], names[i],
			 sizeof(s->fb_names[0]));
		s->tts_fb[s->n_fb++] = h;
		err = bt_tts_open(&h->tts, names[i], prm);
		if (err)
			return err;
	}
	return 0;
}
