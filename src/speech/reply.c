/**
 * @file reply.c  Replies: the brain's sink (tagged per response), the
 *                 speech planner that hands sentences to TTS jobs, and
 *                 the reply's audio with its word timings and playback
 *                 cursor (what the user has heard).
 */
#include "core/session_int.h"
#include "turn/complete.h"
#include "turn/endpoint.h"

static void tag_destructor(void *arg);
static void reply_destructor(void *arg);
static struct reply *reply_alloc(struct bt_session *s);
static void heard_text(const struct reply *r, size_t played, bool all,
		       char *buf, size_t sz);
static json_t *ms_or_null(uint64_t v, bool set);
static void trace_turn(struct bt_session *s, struct reply *r, bool barged,
		       bool ended, const char *heard);
static void submit_sentence(struct bt_session *s, const char *text, size_t n);
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
static void brain_filler(const char *text, void *arg);

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
	r->text_to_out_ms = r->sentence_to_out_ms = -1;
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
		ss_reply_kind_name(r->kind)));
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
	if (r->text_to_out_ms >= 0)
		json_object_set_new(o, "text_to_out_wall_ms",
				    json_integer(r->text_to_out_ms));
	if (r->sentence_to_out_ms >= 0)
		json_object_set_new(o, "sentence_to_out_wall_ms",
				    json_integer(r->sentence_to_out_ms));
	json_object_set_new(o, "voice_to_voice_ms",
			    ms_or_null(r->t_audio_out - r->user.speech_end,
				       u && r->audio_out && !r->user.typed));
	if (u && r->user.typed)
		json_object_set_new(o, "typed", json_true());
	json_object_set_new(o, "agent_text", json_stringn(r->text, r->len));
	if (r->model[0])
		json_object_set_new(o, "model", json_string(r->model));
	if (r->filled)
		json_object_set_new(o, "filler", json_true());
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
	char xfer[sizeof(r->transfer_to)];
	struct hist *h;
	json_t *o;
	bool end;

	if (!r)
		return;
	s->eager_hold = false;
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
	/* a transfer goes ahead even when the caller cut its announcement:
	 * the brain has decided, and their words wait for its outcome */
	str_ncpy(xfer, r->transfer_to, sizeof(xfer));
	s->reply = mem_deref(s->reply);
	s->idle_since = ss_now_ms(s);
	/* the voice is free: a network voice's fillers may go now */
	ss_voice_prerender_next(s);
	/* the recording notice has played (or a key cut it): the answer */
	ss_consent_notice_done(s);

	if (xfer[0] && !end) {
		if (!barged)
			ss_set_state(s, BT_ST_LISTENING);
		ss_transfer_start(s, xfer);
	}
	else if (end) {
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

	if (!r->wall_sentence.tv_sec && !r->wall_sentence.tv_nsec)
		clock_gettime(CLOCK_MONOTONIC, &r->wall_sentence);
	{
		char sent[1024];

		snprintf(sent, sizeof(sent), "%.*s", (int)n, text);
		o = json_object();
		json_object_set_new(o, "turn", json_integer(r->no));
		if (r->filler_now) {
			/* prerendered: its audio is a copy, no synthesis */
			json_object_set_new(o, "filler", json_true());
			if (s->audio_out)
				json_object_set_new(o, "prerendered",
					json_boolean(ss_voice_ready(s, text,
								    n)));
		}
		ss_emit_item(s, BT_EV_AGENT, ss_stamp(s), sent, o, r->item_id);
	}
	/* a text-only reply: the sentence is all there is to it */
	if (s->audio_out)
		ss_voice_sentence(s, text, n, protect);
}

/*
 * Hand the next complete sentence to its voice (speech/voice.c). One job is in flight at a time:
 * sentence k+1 renders while sentence k plays, and the first audio waits
 * only for the first sentence.
 */
void ss_reply_plan(struct bt_session *s)
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

static void first_text(struct bt_session *s, struct reply *r)
{
	if (!r->wall_text.tv_sec && !r->wall_text.tv_nsec)
		clock_gettime(CLOCK_MONOTONIC, &r->wall_text);
	if (!r->t_first_text) {
		/* an answer that came back from the pool between frames is
		 * stamped on a clock that may not have moved: never before
		 * the transcript it answers */
		r->t_first_text = ss_stamp(s);
		if (r->kind == REPLY_USER &&
		    r->t_first_text < r->user.stt_final)
			r->t_first_text = r->user.stt_final;
	}
}

static void reply_text(struct bt_session *s, const char *text)
{
	struct reply *r = s->reply;
	size_t l;

	if (!r || !text)
		return;
	first_text(s, r);
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
	ss_reply_plan(s);
}

/*
 * A filler: said at once and on its own (it needs no closing punctuation
 * for the planner), so its audio starts in the tick the brain asks for
 * it. At most one a reply. It is dropped while the reply has text of its
 * own on the way to the voice (a sentence not yet planned, one being
 * rendered): that audio is coming, and a filler would only delay it. The
 * reply's audio is one sequence, so a filler never plays over the reply:
 * an answer that comes while the filler plays starts when it ends.
 */
static void reply_filler(struct bt_session *s, const char *text)
{
	struct reply *r = s->reply;
	size_t l = strlen(text), at;

	while (l && (text[l - 1] == ' ' || text[l - 1] == '\n'))
		--l;
	if (!r || !l || r->filled || r->job || r->stream ||
	    r->len + l + 3 > sizeof(r->text))
		return;
	for (size_t i = r->planned; i < r->len; i++)
		if (r->text[i] != ' ' && r->text[i] != '\n')
			return;
	r->filled = true;
	first_text(s, r);
	if (r->len && r->text[r->len - 1] != ' ')
		r->text[r->len++] = ' ';
	at = r->len;
	memcpy(r->text + at, text, l);
	r->len += l;
	r->text[r->len++] = ' ';
	r->text[r->len] = '\0';
	r->planned = r->len;
	r->filler_now = true;
	submit_sentence(s, r->text + at, l);
	/* submit_sentence may have finished the reply (inline mode) */
	if (s->reply == r)
		r->filler_now = false;
}

static void reply_done(struct bt_session *s, const struct bt_brain_done *d)
{
	struct reply *r = s->reply;
	bool open;

	if (!r)
		return;
	r->brain_done = true;
	r->end_call = d->end_call;
	str_ncpy(r->transfer_to, d->transfer_to ? d->transfer_to : "",
		 sizeof(r->transfer_to));
	str_ncpy(r->model, d->model ? d->model : "", sizeof(r->model));
	r->has_grammar = true;
	str_ncpy(r->grammar, d->grammar ? d->grammar : "", sizeof(r->grammar));
	/* the answer to this reply's question may come while it plays */
	str_ncpy(s->grammar, r->grammar, sizeof(s->grammar));
	s->has_grammar = r->grammar[0] != '\0';
	s->asked = bt_complete_asked(r->text, &open);
	/* with a grammar, its type says what is asked */
	bt_endpoint_set_open(s->ep, s->has_grammar || open);
	ss_reply_plan(s);
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

static void brain_filler(const char *text, void *arg)
{
	struct bt_session *s = tag_session(arg);

	if (s && text)
		reply_filler(s, text);
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
	if (!result && err == EINPROGRESS) {
		/* the call ends while it runs: no result for the history;
		 * the brain keeps it when it comes */
		json_object_set_new(o, "result", json_null());
		json_object_set_new(o, "pending", json_true());
		ss_emit(s, BT_EV_TOOL, ss_stamp(s), name, o);
		return;
	}
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
		.fillerh = brain_filler,
	};
	struct reply *r;
	int err;

	if (kind == REPLY_USER && s->consent == CONSENT_WAIT) {
		/* the answer to the recording notice, not to the brain */
		ss_consent_answer(s, in->text);
		return 0;
	}
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
			ss_reply_kind_name(kind)));
		json_object_set_new(o, "audio", json_boolean(s->audio_out));
		ss_emit_item(s, BT_EV_REPLY, ss_now_ms(s), NULL, o, r->item_id);
	}
	if (kind == REPLY_GREETING && s->greet_prefix[0]) {
		/* "All right, this call will not be recorded." */
		reply_text(s, s->greet_prefix);
		s->greet_prefix[0] = '\0';
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
			struct bt_brain_done d = {false, NULL, NULL, false, NULL};
			reply_done(s, &d);
		}
	}
	return 0;
}

int bt_session_say(struct bt_session *s, const char *text, bool end)
{
	return ss_say(s, text, end, false, NULL);
}

/* A reply that is not the brain's (a notice, a goodbye): protect makes it
 * uninterruptible; grammar: what the recogniser listens for after it. */
int ss_say(struct bt_session *s, const char *text, bool end, bool protect,
	   const char *grammar)
{
	struct bt_brain_done d = {end, grammar, NULL, false, NULL};
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
	if (protect)
		reply_segment(s, true);
	reply_text(s, text);
	if (s->reply == r)
		reply_done(s, &d);
	return 0;
}
