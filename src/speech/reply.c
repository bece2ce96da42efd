/**
 * @file reply.c  Replies: the brain's sink (tagged per response), the
 *                 speech planner that hands sentences to TTS jobs, and
 *                 the reply's audio with its word timings and playback
 *                 cursor (what the user has heard).
 */
#include "core/session_int.h"

static void job_work(struct bt_job *job);
static void job_free(struct bt_job *job);
static void tag_destructor(void *arg);
static void reply_destructor(void *arg);
static struct reply *reply_alloc(struct bt_session *s);
static void heard_text(const struct reply *r, size_t played, bool all,
		       char *buf, size_t sz);
static json_t *ms_or_null(uint64_t v, bool set);
static void trace_turn(struct bt_session *s, struct reply *r, bool barged,
		       bool ended, const char *heard);
static void reply_append(struct bt_session *s, struct synth_job *sj);
static void job_back(struct bt_job *job);
static void submit_sentence(struct bt_session *s, const char *text, size_t n);
static void submit_job(struct bt_session *s, const char *text, size_t n,
		       bool protect);
static void plan(struct bt_session *s);
static void reply_text(struct bt_session *s, const char *text);
static void reply_done(struct bt_session *s, const struct bt_brain_done *d);
static void reply_segment(struct bt_session *s, bool uninterruptible);
static struct bt_session *tag_session(void *arg);
static void brain_text(const char *text, void *arg);
static void brain_done(const struct bt_brain_done *d, void *arg);
static void brain_segment(bool uninterruptible, void *arg);
static void brain_tool(const char *name, const char *args, const char *result,
		       int err, void *arg);
static void brain_error(const char *msg, void *arg);
static void brain_call(const char *call_id, const char *name,
		       const char *args, void *arg);

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

static void tag_destructor(void *arg)
{
	struct resp_tag *t = arg;

	list_unlink(&t->le);
}

static void reply_destructor(void *arg)
{
	struct reply *r = arg;

	if (r->tag) {
		struct bt_session *s = r->tag->s;
		r->tag->cancelled = true;
		if (s && s->brain) {
			const struct bt_brain *b =
				*(const struct bt_brain **)(void *)s->brain;
			if (b->cancelh && !r->brain_done)
				b->cancelh(s->brain, r->tag);
		}
		mem_deref(r->tag);
	}

	if (r->job) {
		atomic_store(&r->job->job.cancelled, true);
		bt_job_release(&r->job->job);
	}
	mem_deref(r->stream);
	mem_deref(r->stream_rs);
	mem_deref(r->pcm);
	mem_deref(r->words);
}

static struct reply *reply_alloc(struct bt_session *s)
{
	struct reply *r = mem_zalloc(sizeof(*r), reply_destructor);

	if (!r)
		return NULL;
	r->tag = mem_zalloc(sizeof(*r->tag), tag_destructor);
	if (!r->tag)
		return mem_deref(r);
	r->tag->s = s;
	list_append(&s->tags, &r->tag->le, r->tag);
	return r;
}

void ss_reply_finish(struct bt_session *s, bool barged)
{
	ss_reply_end(s, barged ? "turn_detected" : NULL);
}

/* Where playback is in the reply: what was handed to the transport less
 * what it says it still holds (a sound card's queue). */
size_t ss_reply_played(const struct bt_session *s, const struct reply *r)
{
	size_t behind = (size_t)s->playout_delay_ms * BT_RATE_HZ / 1000;

	return r->cursor > behind ? r->cursor - behind : 0;
}

/* The words of the reply the user has heard so far: those that ended
 * before the sample the transport says is playing now (played). */
static void heard_text(const struct reply *r, size_t played, bool all,
		       char *buf, size_t sz)
{
	size_t pos = 0;

	buf[0] = '\0';
	if (all) {
		snprintf(buf, sz, "%.*s", (int)r->len, r->text);
		return;
	}
	for (size_t i = 0; i < r->n_words; i++) {
		int k;
		if (r->words[i].end > played)
			break;
		k = snprintf(buf + pos, sz - pos, "%s%s", pos ? " " : "",
			     r->words[i].text);
		if (k < 0 || (size_t)k >= sz - pos)
			break;
		pos += (size_t)k;
	}
}

static json_t *ms_or_null(uint64_t v, bool set)
{
	return set ? json_integer((json_int_t)v) : json_null();
}

static void trace_turn(struct bt_session *s, struct reply *r, bool barged,
		       bool ended, const char *heard)
{
	json_t *o = json_object();
	bool u = r->kind == REPLY_USER;

	json_object_set_new(o, "turn", json_integer(r->no));
	json_object_set_new(o, "kind", json_string(
		r->kind == REPLY_USER ? "reply" :
		r->kind == REPLY_IDLE ? "idle" : "greeting"));
	json_object_set_new(o, "user_text", u ? json_string(r->user.text)
					      : json_null());
	json_object_set_new(o, "confidence", u ? json_real(r->user.confidence)
					       : json_null());
	json_object_set_new(o, "user_speech_start_ms",
			    ms_or_null(r->user.speech_start, u));
	json_object_set_new(o, "user_speech_end_ms",
			    ms_or_null(r->user.speech_end, u));
	json_object_set_new(o, "endpoint_ms", ms_or_null(r->user.endpoint, u));
	json_object_set_new(o, "stt_final_ms",
			    ms_or_null(r->user.stt_final, u));
	json_object_set_new(o, "first_text_ms",
			    ms_or_null(r->t_first_text, r->t_first_text > 0 ||
				       r->len > 0));
	json_object_set_new(o, "first_audio_ms",
			    ms_or_null(r->t_first_audio, r->n > 0));
	json_object_set_new(o, "audio_out_ms",
			    ms_or_null(r->t_audio_out, r->audio_out));
	json_object_set_new(o, "voice_to_voice_ms",
			    ms_or_null(r->t_audio_out - r->user.speech_end,
				       u && r->audio_out && !r->user.typed));
	if (u && r->user.typed)
		json_object_set_new(o, "typed", json_true());
	json_object_set_new(o, "agent_text", json_stringn(r->text, r->len));
	if (r->model[0])
		json_object_set_new(o, "model", json_string(r->model));
	json_object_set_new(o, "barge_in", json_boolean(barged));
	if (ended)
		json_object_set_new(o, "call_ended", json_true());
	if (barged || ended)
		json_object_set_new(o, "heard_text", json_string(heard));
	ss_emit(s, BT_EV_TURN, ss_now_ms(s), NULL, o);
}

/*
 * The reply is over: played to the end (why NULL), or cut by a barge-in
 * ("turn_detected"), the transport ("client_cancelled") or the end of the
 * call ("call_ended": a timeout, a hang-up; not the user's doing, so not a
 * barge-in).
 */
void ss_reply_end(struct bt_session *s, const char *why)
{
	struct reply *r = s->reply;
	char heard[MAX_TEXT];
	bool cut = why != NULL;
	bool ended = cut && !strcmp(why, "call_ended");
	bool barged = cut && !ended;
	struct hist *h;
	json_t *o;
	bool end;

	if (!r)
		return;
	heard_text(r, ss_reply_played(s, r), !cut, heard, sizeof(heard));
	h = ss_hist_add_id(s, BT_ROLE_ASSISTANT, heard, r->item_id);
	ss_hist_keep_words(h, r);
	if (h)
		h->interrupted = barged;
	o = json_object();
	json_object_set_new(o, "turn", json_integer(r->no));
	json_object_set_new(o, "audio_ms", json_integer(
		(json_int_t)(r->cursor * 1000 / BT_RATE_HZ)));
	if (why)
		json_object_set_new(o, "reason", json_string(why));
	ss_emit_item(s, barged ? BT_EV_BARGE_IN : BT_EV_AGENT_DONE, ss_now_ms(s),
		  heard, o, r->item_id);
	trace_turn(s, r, barged, ended, heard);
	if (ended) {
		s->reply = mem_deref(s->reply);
		return;
	}

	end = r->end_call && !barged;
	s->reply = mem_deref(s->reply);
	s->idle_since = ss_now_ms(s);

	if (end) {
		ss_end_call(s, "completed");
	}
	else if (!barged && s->has_pending && !s->cand) {
		s->has_pending = false;
		s->utt = s->pending;
		ss_user_turn(s, NULL);
	}
	else if (!barged && s->cand) {
		/* the user began while the last words played: their turn */
		s->cand = false;
		if (s->cand_end)
			s->utt.speech_end = s->cand_end;
		s->cand_end = 0;
		ss_set_state(s, BT_ST_USER_SPEAKING);
	}
	else if (!barged) {
		ss_set_state(s, BT_ST_LISTENING);
	}
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
	if (r->n > r->cursor && s->state == BT_ST_THINKING)
		ss_set_state(s, BT_ST_SPEAKING);
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
	plan(s);
}

/* A TTS job came back to the session's loop (not cancelled). */
static void job_back(struct bt_job *job)
{
	struct synth_job *sj = (struct synth_job *)job;

	ss_poll_job(sj->s);
}

/* The network voice failed: the embedded one speaks from now on. */
static void voice_fail(struct bt_session *s, const char *why)
{
	char msg[1200];
	json_t *o;

	if (s->voice_failed)
		return;
	s->voice_failed = true;
	snprintf(msg, sizeof(msg), "the voice \"%s\" failed: %s; the "
		 "fallback voice speaks for the rest of the call",
		 bt_agent_voice(s->agent), why);
	o = json_object();
	json_object_set_new(o, "message", json_string(msg));
	json_object_set_new(o, "stage", json_string("tts"));
	ss_emit(s, BT_EV_ERROR, ss_now_ms(s), msg, o);
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

/* A network voice's audio for the sentence in flight (its reply's own
 * handler: freeing the reply cancels the stream). */
static void stream_chunk(const int16_t *pcm, size_t n, uint32_t rate_hz,
			 bool last, int err, const char *msg, void *arg)
{
	struct reply *r = arg;
	struct bt_session *s = r->tag ? r->tag->s : NULL;
	struct bt_tts_stream *st;

	if (!s || s->reply != r)
		return;
	if (n && rate_hz != BT_RATE_HZ &&
	    (!r->stream_rs || r->stream_rate != rate_hz)) {
		r->stream_rs = mem_deref(r->stream_rs);
		r->stream_rate = rate_hz;
		if (bt_resampler_alloc(&r->stream_rs, rate_hz, BT_RATE_HZ))
			return;
	}
	if (n)
		stream_pcm(s, r, pcm, n);
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
	mem_deref(st);
	if (err) {
		/* the fallback voice says the whole sentence: a fragment was
		 * not a sentence heard (no words of it count as heard) */
		voice_fail(s, msg ? msg : "error");
		submit_job(s, r->stream_text, strlen(r->stream_text),
			   r->stream_protect);
		return;
	}
	if (r->stream_audio)
		words_estimate(r, r->stream_text, r->stream_base);
	if (r->stream_protect)
		r->protect_end = r->n;
	audio_came(s, r);
	plan(s);
}

/* Start the sentence on the network voice; false if it is on its way. */
static bool stream_sentence(struct bt_session *s, const char *text, size_t n,
			    bool protect)
{
	struct reply *r = s->reply;
	struct bt_tts_st *tts = s->tts->tts;
	int err;

	snprintf(r->stream_text, sizeof(r->stream_text), "%.*s", (int)n,
		 text);
	r->stream_base = r->n;
	r->stream_protect = protect;
	r->stream_audio = false;
	err = bt_tts_of(tts)->streamh(&r->stream, tts, r->stream_text,
				      stream_chunk, r);
	if (!err)
		return false;
	voice_fail(s, bt_errmsg());
	return true;
}

static void submit_sentence(struct bt_session *s, const char *text, size_t n)
{
	struct reply *r = s->reply;
	size_t at = (size_t)(text - r->text);
	bool protect = r->unint_to > r->unint_from && at < r->unint_to &&
		       at + n > r->unint_from;
	json_t *o;

	while (n && (text[n - 1] == ' ' || text[n - 1] == '\n'))
		--n;
	while (n && (*text == ' ' || *text == '\n')) {
		++text;
		--n;
	}
	if (!n)
		return;

	if (!s->audio_out) {
		/* a text-only reply: the sentence is all there is to it */
		char sent[1024];
		snprintf(sent, sizeof(sent), "%.*s", (int)n, text);
		o = json_object();
		json_object_set_new(o, "turn", json_integer(r->no));
		ss_emit_item(s, BT_EV_AGENT, ss_stamp(s), sent, o, r->item_id);
		return;
	}
	{
		char sent[1024];

		snprintf(sent, sizeof(sent), "%.*s", (int)n, text);
		o = json_object();
		json_object_set_new(o, "turn", json_integer(r->no));
		ss_emit_item(s, BT_EV_AGENT, ss_stamp(s), sent, o, r->item_id);
	}
	if (!s->voice_failed && bt_tts_of(s->tts->tts)->streamh &&
	    !stream_sentence(s, text, n, protect))
		return;
	submit_job(s, text, n, protect);
}

/* The sentence on a synthesiser of the worker pool (an embedded voice, or
 * the stand-in of a network voice that failed). */
static void submit_job(struct bt_session *s, const char *text, size_t n,
		       bool protect)
{
	struct reply *r = s->reply;
	/* only a network voice has a stand-in */
	struct tts_hold *th = s->tts_fb ? s->tts_fb : s->tts;
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

/*
 * Hand the next complete sentence to TTS. One job is in flight at a time:
 * sentence k+1 renders while sentence k plays, and the first audio waits
 * only for the first sentence.
 */
static void plan(struct bt_session *s)
{
	struct reply *r = s->reply;

	if (!r || r->job || r->stream)
		return;
	for (;;) {
		size_t n = bt_planner_sentence(r->text + r->planned,
					       r->len - r->planned,
					       r->brain_done);
		if (!n)
			break;
		size_t at = r->planned;
		r->planned += n;
		submit_sentence(s, r->text + at, n);
		/* submit_sentence may finish the reply (inline mode) */
		if (s->reply != r || r->job || r->stream)
			return;
	}
	if (r->brain_done && r->planned == r->len && r->cursor >= r->n) {
		/* nothing (more) to say: an empty reply ends here */
		if (r->n == 0)
			ss_reply_finish(s, false);
	}
}

static void reply_text(struct bt_session *s, const char *text)
{
	struct reply *r = s->reply;
	size_t l;

	if (!r || !text)
		return;
	if (!r->t_first_text) {
		/* an answer that came back from the pool between frames is
		 * stamped on a clock that may not have moved: never before
		 * the transcript it answers */
		r->t_first_text = ss_stamp(s);
		if (r->kind == REPLY_USER &&
		    r->t_first_text < r->user.stt_final)
			r->t_first_text = r->user.stt_final;
	}
	l = strlen(text);
	if (r->len + l + 2 > sizeof(r->text)) {
		ss_error_event(s, "the reply text is too long; it was cut");
		l = sizeof(r->text) - r->len - 2;
	}
	/* pieces arrive as sentences or deltas: a sentence after a sentence
	 * needs a space between them, a delta inside a word does not */
	if (r->len && strchr(".!?,", r->text[r->len - 1]) && text[0] != ' ')
		r->text[r->len++] = ' ';
	memcpy(r->text + r->len, text, l);
	r->len += l;
	r->text[r->len] = '\0';
	plan(s);
}

static void reply_done(struct bt_session *s, const struct bt_brain_done *d)
{
	struct reply *r = s->reply;

	if (!r)
		return;
	r->brain_done = true;
	r->end_call = d->end_call;
	str_ncpy(r->model, d->model ? d->model : "", sizeof(r->model));
	r->has_grammar = true;
	str_ncpy(r->grammar, d->grammar ? d->grammar : "", sizeof(r->grammar));
	/* the answer to this reply's question may come while it plays */
	str_ncpy(s->grammar, r->grammar, sizeof(s->grammar));
	s->has_grammar = r->grammar[0] != '\0';
	plan(s);
}

static void reply_segment(struct bt_session *s, bool uninterruptible)
{
	struct reply *r = s->reply;

	if (!r)
		return;
	if (uninterruptible && !r->unint_open) {
		r->unint_open = true;
		r->unint_from = r->len;
		r->unint_to = MAX_TEXT;
	}
	else if (!uninterruptible && r->unint_open) {
		r->unint_open = false;
		r->unint_to = r->len;
	}
}

/*
 * The sink a brain answers through: its arg is the response's tag, so
 * whatever a brain sends for a response that was cancelled (a barge-in, a
 * turn taken too soon, the call's end) is dropped here and never reaches
 * a later one, however late it comes. A tool's result is the exception:
 * it happened, so it goes into the history and the trace.
 */
static struct bt_session *tag_session(void *arg)
{
	struct resp_tag *t = arg;

	if (!t || !t->s || t->cancelled || !t->s->reply ||
	    t->s->reply->tag != t)
		return NULL;
	return t->s;
}

static void brain_text(const char *text, void *arg)
{
	struct bt_session *s = tag_session(arg);

	if (s)
		reply_text(s, text);
}

static void brain_done(const struct bt_brain_done *d, void *arg)
{
	struct bt_session *s = tag_session(arg);

	if (s && d)
		reply_done(s, d);
}

static void brain_segment(bool uninterruptible, void *arg)
{
	struct bt_session *s = tag_session(arg);

	if (s)
		reply_segment(s, uninterruptible);
}

static void brain_tool(const char *name, const char *args, const char *result,
		       int err, void *arg)
{
	struct resp_tag *t = arg;
	struct bt_session *s = t ? t->s : NULL;
	char line[MAX_TEXT];
	struct hist *h;
	json_t *o;

	if (!s || !name)
		return;
	o = json_object();
	json_object_set_new(o, "name", json_string(name));
	json_object_set_new(o, "args", args ? json_loads(args, 0, NULL)
					    : json_null());
	json_object_set_new(o, "result", result ? json_loads(result,
						JSON_DECODE_ANY, NULL)
						: json_null());
	/* the history keeps every result, cancelled response or not, with
	 * the call itself for a brain that replays it */
	snprintf(line, sizeof(line), "%s(%s) -> %s", name, args ? args : "{}",
		 result ? result : "null");
	h = ss_hist_add_id(s, BT_ROLE_TOOL, line, NULL);
	if (h) {
		char *js = json_dumps(o, JSON_COMPACT);
		if (js)
			(void)str_dup(&h->tool, js);
		free(js);
	}
	if (t->cancelled)
		json_object_set_new(o, "cancelled", json_true());
	json_object_set_new(o, "error", json_integer(err));
	ss_emit(s, BT_EV_TOOL, ss_stamp(s), name, o);
}

static void brain_error(const char *msg, void *arg)
{
	struct resp_tag *t = arg;

	if (t && t->s && msg)
		ss_error_event(t->s, msg);
}

static void brain_call(const char *call_id, const char *name,
		       const char *args, void *arg)
{
	struct bt_session *s = tag_session(arg);
	json_t *o;

	if (!s || !call_id || !name)
		return;
	if (bt_session_function_add(s, call_id, name, args, NULL, NULL)) {
		ss_error_event(s, "out of memory for a function call");
		return;
	}
	o = json_pack("{s:s,s:s,s:s}", "call_id", call_id, "name", name,
		      "arguments", args && args[0] ? args : "{}");
	ss_emit_item(s, BT_EV_FUNCTION_CALL, ss_now_ms(s), name, o,
		     bt_session_last_item_id(s));
}

int ss_respond(struct bt_session *s, enum reply_kind kind,
		   const struct bt_brain_input *in)
{
	const struct bt_brain *b = *(const struct bt_brain **)(void *)s->brain;
	struct bt_brain_sink sink = {
		.texth = brain_text,
		.doneh = brain_done,
		.toolh = brain_tool,
		.segmenth = brain_segment,
		.errorh = brain_error,
		.callh = brain_call,
	};
	struct reply *r;
	int err;

	s->reply = mem_deref(s->reply);
	r = reply_alloc(s);
	if (!r)
		return ENOMEM;
	sink.arg = r->tag;
	r->no = s->replies++;
	r->kind = kind;
	if (kind == REPLY_USER)
		r->user = s->utt;
	ss_new_item_id(s, r->item_id, sizeof(r->item_id));
	s->reply = r;
	s->has_unanswered = false;
	ss_set_state(s, BT_ST_THINKING);
	{
		json_t *o = json_object();
		json_object_set_new(o, "turn", json_integer(r->no));
		json_object_set_new(o, "kind", json_string(
			kind == REPLY_USER ? "reply" :
			kind == REPLY_IDLE ? "idle" : "greeting"));
		json_object_set_new(o, "audio", json_boolean(s->audio_out));
		ss_emit_item(s, BT_EV_REPLY, ss_now_ms(s), NULL, o, r->item_id);
	}

	{
		/* what the brain reasons over: the conversation, the
		 * transport's instructions */
		struct bt_brain_input in2 = *in;
		char *hist = bt_session_history(s);

		in2.history_json = hist;
		in2.instructions = s->instructions;
		in2.tools_json = s->tools;
		in2.caller_id = s->caller_id[0] ? s->caller_id : NULL;
		err = b->respondh(s->brain, &in2, &sink);
		mem_deref(hist);
	}
	if (err) {
		char msg[600];
		snprintf(msg, sizeof(msg), "the brain failed: %s", bt_errmsg());
		ss_error_event(s, msg);
		if (s->reply == r && !r->brain_done) {
			struct bt_brain_done d = {false, NULL, NULL, false};
			reply_done(s, &d);
		}
	}
	return 0;
}

int bt_session_say(struct bt_session *s, const char *text, bool end)
{
	struct bt_brain_done d = {end, NULL, NULL, false};
	struct reply *r;

	if (!s || !text || s->state == BT_ST_ENDED)
		return EINVAL;
	if (s->reply)
		ss_reply_end(s, "client_cancelled");
	r = reply_alloc(s);
	if (!r)
		return ENOMEM;
	r->no = s->replies++;
	r->kind = REPLY_IDLE;
	ss_new_item_id(s, r->item_id, sizeof(r->item_id));
	s->reply = r;
	ss_set_state(s, BT_ST_THINKING);
	{
		json_t *o = json_object();
		json_object_set_new(o, "turn", json_integer(r->no));
		json_object_set_new(o, "kind", json_string("notice"));
		json_object_set_new(o, "audio", json_boolean(s->audio_out));
		ss_emit_item(s, BT_EV_REPLY, ss_now_ms(s), NULL, o, r->item_id);
	}
	reply_text(s, text);
	if (s->reply == r)
		reply_done(s, &d);
	return 0;
}
