/**
 * @file session.c  A call: the media clock, the state machine, events and
 *                  the frame path (push / pull). Its set-up from the agent
 *                  file and its end are in session_alloc.c; the turn
 *                  manager, the replies, the history and the transport
 *                  controls live in their own files (core/session_int.h
 *                  lists them).
 */
#include "core/session_int.h"
#include "store/recording.h"

static void process_frame(struct bt_session *s, const int16_t *pcm);
static bool pull_frame(struct bt_session *s, int16_t *out);

static const char *ev_names[] = {
	"state", "speech_start", "speech_end", "partial", "user", "agent",
	"agent_done", "barge_in", "backchannel", "turn", "tool", "error",
	"ended", "paused", "resumed", "kept", "wait", "function_call", "reply",
	"recording", "transfer"};

static const char *state_names[] = {"listening", "user_speaking", "thinking",
				    "speaking", "ended"};

struct tts_hold *ss_tts_hold_get(struct tts_hold *h)
{
	if (h)
		atomic_fetch_add(&h->refs, 1);
	return h;
}

void ss_tts_hold_put(struct tts_hold *h)
{
	if (h && atomic_fetch_sub(&h->refs, 1) == 1) {
		mem_deref(h->tts);
		free(h);
	}
}

const char *bt_state_name(enum bt_state st)
{
	return (unsigned)st < 5 ? state_names[st] : "?";
}

void bt_session_prm_default(struct bt_session_prm *prm)
{
	if (!prm)
		return;
	memset(prm, 0, sizeof(*prm));
	prm->rate_hz = BT_RATE_HZ;
	prm->db_path = "banter.db";
}

uint64_t ss_now_ms(const struct bt_session *s)
{
	return s->samples * 1000 / BT_RATE_HZ;
}

uint64_t bt_session_now_ms(const struct bt_session *s)
{
	return s ? ss_now_ms(s) : 0;
}

bool bt_session_waiting(const struct bt_session *s)
{
	return s && s->reply && !s->reply->brain_done;
}

enum bt_state bt_session_state(const struct bt_session *s)
{
	return s ? s->state : BT_ST_ENDED;
}

size_t bt_session_frame_samples(const struct bt_session *s)
{
	return s ? s->rate_hz / 1000 * BT_FRAME_MS : 0;
}

/*
 * The time of an event inside this frame. In simulation compute is free,
 * so it is the frame's time; in real time the compute spent since the
 * frame began is added (DESIGN.md, "Time").
 */
uint64_t ss_stamp(const struct bt_session *s)
{
	struct timespec t;
	double d;

	if (!s->realtime)
		return ss_now_ms(s);
	clock_gettime(CLOCK_MONOTONIC, &t);
	d = (double)(t.tv_sec - s->frame_t0.tv_sec) * 1e3 +
	    (double)(t.tv_nsec - s->frame_t0.tv_nsec) / 1e6;
	return ss_now_ms(s) + (d > 0 ? (uint64_t)d : 0);
}

/* Whole ms of wall clock since t (CLOCK_MONOTONIC); -1 if t is unset. */
static int32_t wall_since(const struct timespec *t)
{
	struct timespec now;
	double d;

	if (!t->tv_sec && !t->tv_nsec)
		return -1;
	clock_gettime(CLOCK_MONOTONIC, &now);
	d = (double)(now.tv_sec - t->tv_sec) * 1e3 +
	    (double)(now.tv_nsec - t->tv_nsec) / 1e6;
	return d > 0 ? (int32_t)(d + 0.5) : 0;
}

/* Emit an event about a conversation item; takes ownership of obj. */
void ss_emit_item(struct bt_session *s, enum bt_event_type type,
		      uint64_t t, const char *text, json_t *obj,
		      const char *item_id)
{
	struct bt_event ev;
	char *js;

	if (!obj)
		obj = json_object();
	if (item_id && item_id[0])
		json_object_set_new(obj, "item_id", json_string(item_id));
	json_object_set_new(obj, "type", json_string(ev_names[type]));
	json_object_set_new(obj, "t_ms", json_integer((json_int_t)t));
	if (text && !json_object_get(obj, "text"))
		json_object_set_new(obj, "text", json_string(text));
	js = json_dumps(obj, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(obj);

	ev.type = type;
	ev.t_ms = t;
	ev.text = text;
	ev.json = js ? js : "{}";
	ev.item_id = item_id && item_id[0] ? item_id : NULL;
	rec_trace(s->rec, ev.json);
	if (s->eh)
		s->eh(&ev, s->arg);
	free(js);
}

/* Emit an event; takes ownership of obj (may be NULL). */
void ss_emit(struct bt_session *s, enum bt_event_type type, uint64_t t,
		 const char *text, json_t *obj)
{
	ss_emit_item(s, type, t, text, obj, NULL);
}

void ss_new_item_id(struct bt_session *s, char *buf, size_t sz)
{
	snprintf(buf, sz, "item_%x_%u", s->uid, ++s->items);
}

void ss_set_state(struct bt_session *s, enum bt_state st)
{
	json_t *o;

	if (s->state == st)
		return;
	o = json_object();
	json_object_set_new(o, "from", json_string(bt_state_name(s->state)));
	json_object_set_new(o, "to", json_string(bt_state_name(st)));
	s->state = st;
	ss_emit(s, BT_EV_STATE, ss_now_ms(s), bt_state_name(st), o);
}

void ss_error_event(struct bt_session *s, const char *what)
{
	json_t *o = json_object();
	json_object_set_new(o, "message", json_string(what));
	ss_emit(s, BT_EV_ERROR, ss_now_ms(s), what, o);
}

/* The recogniser's words so far changed (from feed, or a network
 * recogniser's message); on the session's thread. */
void ss_on_partial(const char *text, void *arg)
{
	struct bt_session *s = arg;

	if (!s->stt_active)
		return;
	str_ncpy(s->partial, text, sizeof(s->partial));
	if (s->partial[0]) {
		ss_emit(s, BT_EV_PARTIAL, ss_now_ms(s), s->partial, NULL);
		s->wait_stale = true;
	}
}

static void process_frame(struct bt_session *s, const int16_t *pcm)
{
	const struct bt_stt *stt = bt_stt_of(s->stt);
	enum bt_vadseg_ev ev = BT_VADSEG_NONE;
	uint64_t ev_ms = 0;
	bool started = false;
	int16_t clean[BT_FRAME_SAMPLES];

	rec_caller(s->rec, pcm, BT_FRAME_SAMPLES);
	if (s->aec && !bt_aec_process(s->aec, pcm, s->last_out, clean,
				      BT_FRAME_SAMPLES))
		pcm = clean;

	if (s->realtime)
		clock_gettime(CLOCK_MONOTONIC, &s->frame_t0);
	s->samples += BT_FRAME_SAMPLES;

	ss_poll_job(s);

	if (bt_vadseg_frame(s->vad, pcm, BT_FRAME_SAMPLES,
			    ss_now_ms(s) - BT_FRAME_MS, &ev, &ev_ms, NULL)) {
		ss_error_event(s, bt_errmsg());
		return;
	}
	ss_prehold_check(s);
	if (ev == BT_VADSEG_START) {
		ss_on_speech_start(s, ev_ms);
		started = true; /* the prefix already holds this frame */
	}
	if (stt->listenh)
		stt->listenh(s->stt, pcm, BT_FRAME_SAMPLES);
	if (s->stt_active && !started)
		stt->feedh(s->stt, pcm, BT_FRAME_SAMPLES);  /* -> on_partial */
	if (s->stt_active && s->adaptive) {
		/* pitch and level for the prosody of the turn's end */
		float voicing = 0;
		float f0 = bt_pitch_frame(s->pitch, pcm, BT_FRAME_SAMPLES,
					  &voicing);
		bt_prosody_frame(s->prosody, f0, voicing,
				 (float)bt_level_dbfs(pcm, BT_FRAME_SAMPLES));
	}
	if (ev == BT_VADSEG_END)
		ss_on_speech_end(s, ev_ms);
	if (s->cand && s->cand_end && !bt_vadseg_active(s->vad) &&
	    ss_now_ms(s) >= s->cand_end + OVERLAP_GAP_MS)
		ss_overlap_decide(s);

	switch (s->state) {
	case BT_ST_USER_SPEAKING:
		if (s->turns.manual || s->final_wait || s->stt_turns ||
		    bt_vadseg_active(s->vad) || !s->utt.speech_end)
			break;
		if (s->adaptive && s->wait_stale) {
			s->wait_ms = bt_endpoint_wait_at_ms(
				s->ep, s->partial, ss_expected_type(s),
				bt_prosody_end_score(s->prosody), s->utt_ctx,
				(uint32_t)(ss_now_ms(s) - s->utt.speech_end));
			if (s->turns.eagerness_pct)
				s->wait_ms = (uint32_t)((uint64_t)s->wait_ms *
					s->turns.eagerness_pct / 100);
			s->wait_stale = false;
			ss_emit(s, BT_EV_WAIT, ss_now_ms(s), NULL,
			     ss_endpoint_why(s, false));
		}
		/* adaptive: not while the VAD weighs an onset (the caller
		 * going on after "i want the pasta" is heard ~80 ms before
		 * it is confirmed); a "pending" longer than an onset takes
		 * to confirm is line noise, which must not hold the turn */
		if (ss_now_ms(s) - s->utt.speech_end >=
		    (s->adaptive ? s->wait_ms : s->end_silence_ms) &&
		    !(s->adaptive && bt_vadseg_pending_ms(s->vad) &&
		      bt_vadseg_pending_ms(s->vad) < ONSET_HOLD_MS))
			ss_endpoint(s);
		break;
	case BT_ST_THINKING:
	case BT_ST_SPEAKING:
		if (s->cand)
			ss_check_barge_in(s);
		break;
	case BT_ST_LISTENING:
		if (ss_consent_tick(s))
			break;
		if (s->idle_ms && !s->turns.manual && !s->transferring &&
		    ss_now_ms(s) - s->idle_since >= s->idle_ms) {
			struct bt_brain_input in;
			memset(&in, 0, sizeof(in));
			in.type = BT_BRAIN_IDLE;
			in.idle_count = ++s->idle_count;
			s->idle_since = ss_now_ms(s);
			ss_respond(s, REPLY_IDLE, &in);
		}
		break;
	default:
		break;
	}
	if (s->rec && !(s->samples % BT_RATE_HZ))
		ss_consent_check_io(s);  /* once a second */
}

int bt_session_push(struct bt_session *s, const int16_t *pcm, size_t n)
{
	int16_t buf[BT_FRAME_SAMPLES * 4];
	const int16_t *in = pcm;
	size_t n_in = n;

	if (!s || !pcm || n != bt_session_frame_samples(s))
		return bt_err(EINVAL, "push one 20 ms frame (%zu samples at "
			      "%u Hz)", s ? bt_session_frame_samples(s) : 0,
			      s ? s->rate_hz : 0);
	if (s->state == BT_ST_ENDED)
		return 0;

	if (s->rs_in) {
		int err = bt_resample(s->rs_in, pcm, n, buf, sizeof(buf) /
				      sizeof(buf[0]), &n_in);
		if (err)
			return err;
		in = buf;
	}
	/* gather whole pipeline frames (a resampler's output size varies) */
	while (n_in) {
		size_t k = BT_FRAME_SAMPLES - s->in_len;
		if (k > n_in)
			k = n_in;
		memcpy(s->in_fifo + s->in_len, in, k * sizeof(int16_t));
		s->in_len += k;
		in += k;
		n_in -= k;
		if (s->in_len == BT_FRAME_SAMPLES) {
			s->in_len = 0;
			process_frame(s, s->in_fifo);
			if (s->state == BT_ST_ENDED)
				break;
		}
	}
	return 0;
}

/* One pipeline frame of agent audio; true if it holds speech. */
static bool pull_frame(struct bt_session *s, int16_t *out)
{
	struct reply *r = s->reply;
	size_t k = 0;

	memset(out, 0, BT_FRAME_SAMPLES * sizeof(int16_t));
	ss_poll_job(s);
	r = s->reply;
	/* invariant: agent audio leaves only while SPEAKING */
	if (!r || s->state != BT_ST_SPEAKING || r->held || s->eager_hold)
		return false;
	/* the protected part has played: now the kept words cut in */
	if (s->has_pending && !s->cand && s->interruptible &&
	    r->protect_end && r->cursor >= r->protect_end) {
		ss_deliver_pending(s);
		return false;
	}
	if (r->cursor < r->n) {
		k = r->n - r->cursor;
		if (k > BT_FRAME_SAMPLES)
			k = BT_FRAME_SAMPLES;
		memcpy(out, r->pcm + r->cursor, k * sizeof(int16_t));
		if (!r->audio_out) {
			r->audio_out = true;
			/* never before the audio was there: a job that came
			 * back within this frame is stamped inside it; a pull
			 * between two frames (bt_session_set_ready_handler)
			 * is stamped when it ran */
			r->t_audio_out = ss_stamp(s) > r->t_first_audio ?
				ss_stamp(s) : r->t_first_audio;
			if (s->realtime) {
				r->text_to_out_ms = wall_since(&r->wall_text);
				r->sentence_to_out_ms =
					wall_since(&r->wall_sentence);
			}
		}
		r->cursor += k;
	}
	if (r->cursor >= r->n && !r->job && r->brain_done &&
	    r->planned == r->len)
		ss_reply_finish(s, false);
	return k > 0;
}

int bt_session_pull(struct bt_session *s, int16_t *pcm, size_t n,
		    bool *speechp)
{
	int16_t frame[BT_FRAME_SAMPLES];
	bool speech;

	if (!s || !pcm || n != bt_session_frame_samples(s))
		return bt_err(EINVAL, "pull one 20 ms frame (%zu samples)",
			      s ? bt_session_frame_samples(s) : 0);
	if (s->state == BT_ST_ENDED) {
		memset(pcm, 0, n * sizeof(int16_t));
		if (speechp)
			*speechp = false;
		return 0;
	}
	speech = pull_frame(s, frame);
	memcpy(s->last_out, frame, sizeof(frame));
	rec_agent(s->rec, frame, BT_FRAME_SAMPLES);
	if (!s->rs_out) {
		memcpy(pcm, frame, sizeof(frame));
	}
	else {
		size_t got = 0;
		size_t room = sizeof(s->out_fifo) / sizeof(s->out_fifo[0]) -
			      s->out_len;
		int err = bt_resample(s->rs_out, frame, BT_FRAME_SAMPLES,
				      s->out_fifo + s->out_len, room, &got);
		if (err)
			return err;
		s->out_len += got;
		/* the resampler's delay: pad with silence at the start */
		if (s->out_len < n) {
			memset(pcm, 0, n * sizeof(int16_t));
			memcpy(pcm + (n - s->out_len), s->out_fifo,
			       s->out_len * sizeof(int16_t));
			s->out_len = 0;
		}
		else {
			memcpy(pcm, s->out_fifo, n * sizeof(int16_t));
			s->out_len -= n;
			memmove(s->out_fifo, s->out_fifo + n,
				s->out_len * sizeof(int16_t));
		}
	}
	if (speechp)
		*speechp = speech;
	return 0;
}

void ss_end_call(struct bt_session *s, const char *reason)
{
	char *hist;
	json_t *o;

	if (s->state == BT_ST_ENDED || s->ending)
		return;
	s->ending = true;
	if (s->reply)
		ss_reply_end(s, "call_ended");
	if (s->stt_active)
		ss_stt_end(s);
	ss_set_state(s, BT_ST_ENDED);

	o = json_object();
	json_object_set_new(o, "reason", json_string(reason));
	hist = bt_session_history(s);
	json_object_set_new(o, "history", hist ? json_loads(hist, 0, NULL)
					       : json_array());
	mem_deref(hist);
	ss_emit(s, BT_EV_ENDED, ss_now_ms(s), reason, o);
	ss_consent_end(s);  /* the trace's last line is in: close */
}

void bt_session_set_interruptions(struct bt_session *s, bool on)
{
	if (s)
		s->interruptible = on;
}

void bt_session_end(struct bt_session *s, const char *reason)
{
	if (s)
		ss_end_call(s, reason ? reason : "ended");
}

int bt_session_start(struct bt_session *s)
{
	struct bt_brain_input in;

	if (!s)
		return EINVAL;
	/* stamps before the first frame count from here */
	clock_gettime(CLOCK_MONOTONIC, &s->frame_t0);
	memset(&in, 0, sizeof(in));
	in.type = BT_BRAIN_START;
	if (ss_consent_start(s))
		return 0;  /* the recording notice first */
	return ss_respond(s, REPLY_GREETING, &in);
}
