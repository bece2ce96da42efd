/**
 * @file turn.c  The turn manager: what the user's speech means for the
 *               call (a turn, a pause, a barge-in, a backchannel, words
 *               kept over a protected part) and when the turn has ended.
 */
#include "core/session_int.h"

static bool only_backchannel(const char *text);
static void stt_begin(struct bt_session *s, uint64_t onset);
static void barge_in(struct bt_session *s);
static bool overlap_read(struct bt_session *s);
static json_t *ov_json(const struct bt_session *s, bool have_ov,
		       uint64_t speech_ms);
static void ov_keep(struct bt_session *s, bool have_ov, uint64_t speech_ms);
static void interrupt_now(struct bt_session *s);

static const char *backchannels[] = {"mhm", "mm", "hmm", "uh-huh", "uh", "um",
				     "yeah", "yes", "okay", "ok", "right",
				     "sure", "yep", "ah", "oh", "i", "see",
				     "mm-hmm", "mhmm"};

/* True if text is empty or holds only backchannel words. "huh" counts
 * after "uh" only ("uh huh", as a recogniser may split "uh-huh"): alone,
 * "huh?" asks the agent to say it again. */
static bool only_backchannel(const char *text)
{
	char w[32];
	const char *p = text;
	bool after_uh = false;

	while (*p) {
		size_t n = 0;
		bool found = false;

		while (*p == ' ')
			++p;
		while (p[n] && p[n] != ' ')
			++n;
		if (!n)
			break;
		if (n >= sizeof(w))
			return false;
		memcpy(w, p, n);
		w[n] = '\0';
		found = after_uh && !strcmp(w, "huh");
		for (size_t i = 0; !found && i < sizeof(backchannels) /
				       sizeof(backchannels[0]); i++)
			found = !strcmp(w, backchannels[i]);
		if (!found)
			return false;
		after_uh = !strcmp(w, "uh");
		p += n;
	}
	return true;
}

/* The slot type the current grammar expects; without a grammar, what
 * the agent's last reply asked for (text: anything). */
enum bt_slot_type ss_expected_type(const struct bt_session *s)
{
	if (!s->has_grammar)
		return s->asked;
	for (size_t i = 0; i < s->n_gram; i++)
		if (!strcmp(s->gram[i].name, s->grammar))
			return s->gram[i].type;
	return BT_SLOT_TEXT;
}

static void stt_begin(struct bt_session *s, uint64_t onset)
{
	const struct bt_stt *p = bt_stt_of(s->stt);
	const int16_t *pre;
	size_t n;
	int err;

	memset(&s->utt, 0, sizeof(s->utt));
	s->utt.speech_start = onset;
	ss_new_item_id(s, s->utt.item_id, sizeof(s->utt.item_id));
	s->partial[0] = '\0';
	bt_prosody_reset(s->prosody);
	bt_endpoint_utterance_begin(s->ep);
	s->wait_stale = true;
	/*
	 * Only speech over the agent (s->cand, set before this) is read as
	 * a backchannel or a stop phrase: the classifier costs ~0.06 x real
	 * time, so the caller's ordinary turns go without it. s->cand is
	 * set only where an utterance starts (ss_on_speech_start), so the
	 * choice made here holds for the whole utterance.
	 */
	err = p->starth(s->stt, s->has_grammar ? s->grammar : NULL, s->cand);
	if (err && s->has_grammar) {
		ss_error_event(s, bt_errmsg());
		err = p->starth(s->stt, NULL, s->cand);
	}
	if (err) {
		ss_error_event(s, bt_errmsg());
		return;
	}
	s->stt_active = true;
	pre = bt_vadseg_prefix(s->vad, &n);
	if (pre && n)
		p->feedh(s->stt, pre, n);
}

void ss_stt_end(struct bt_session *s)
{
	const struct bt_stt *p = bt_stt_of(s->stt);
	struct bt_transcript tr;

	int err = 0;

	memset(&tr, 0, sizeof(tr));
	if (s->stt_active)
		err = p->finishh(s->stt, &tr);
	s->stt_active = false;
	if (err == EINPROGRESS) {
		/* a decision that cannot wait (speech over the agent, a
		 * commit): the words so far */
		str_ncpy(tr.text, s->partial, sizeof(tr.text));
		tr.confidence = s->partial[0] ? 0.5f : 0.0f;
	}
	else if (err) {
		ss_error_event(s, bt_errmsg());
	}
	str_ncpy(s->utt.text, tr.text, sizeof(s->utt.text));
	s->utt.confidence = tr.confidence;
}

/*
 * The recogniser's final transcript came after the turn ended (finish()
 * said EINPROGRESS): the turn goes on to the brain now. If the user
 * spoke again meanwhile, these words begin the turn still being said.
 */
void ss_stt_final(const struct bt_transcript *tr, void *arg)
{
	struct bt_session *s = arg;
	json_t *why;

	if (!s || !tr || !s->final_wait)
		return;
	s->final_wait = false;
	why = s->final_why;
	s->final_why = NULL;
	str_ncpy(s->utt.text, tr->text, sizeof(s->utt.text));
	s->utt.confidence = tr->confidence;
	s->utt.stt_final = ss_stamp(s);
	if (s->state == BT_ST_USER_SPEAKING && !s->utt.speech_end) {
		s->carry = s->utt;
		s->has_carry = true;
		json_decref(why);
		stt_begin(s, ss_now_ms(s));
		return;
	}
	ss_user_turn(s, why);
}

/*
 * The recogniser failed (a network one: refused, closed, silent); msg
 * says whether another took over. The call goes on; its turns are ended
 * by the session's own endpointer from now on.
 */
void ss_stt_fail(int err, const char *msg, void *arg)
{
	struct bt_session *s = arg;
	json_t *o;

	if (!s)
		return;
	s->stt_turns = false;
	o = json_object();
	json_object_set_new(o, "message", json_string(msg));
	json_object_set_new(o, "stage", json_string("stt"));
	ss_emit(s, BT_EV_ERROR, ss_now_ms(s), msg, o);
	if (err && s->final_wait) {
		/* nobody will give this turn's final: the words so far */
		struct bt_transcript tr;

		memset(&tr, 0, sizeof(tr));
		str_ncpy(tr.text, s->partial, sizeof(tr.text));
		tr.confidence = s->partial[0] ? 0.5f : 0.0f;
		ss_stt_final(&tr, s);
	}
}

/*
 * The recogniser's own reading of the turn (Flux), when the agent lets it
 * end turns: EndOfTurn ends it; EagerEndOfTurn starts the reply at once
 * with its audio held, so that the brain and the voice work while the
 * recogniser makes sure; TurnResumed drops that reply (the caller heard
 * nothing of it, and their turn goes on), EndOfTurn lets it play.
 */
void ss_stt_turn(enum bt_stt_turn_ev ev, const char *text, void *arg)
{
	struct bt_session *s = arg;
	struct reply *r;

	(void)text;
	if (!s || !s->stt_turns)
		return;
	switch (ev) {
	case BT_STT_EAGER_END:
	case BT_STT_END_OF_TURN:
		if (s->eager_hold) {
			if (ev == BT_STT_EAGER_END)
				return;
			/* the eager reply stands: let it play (unless the
			 * caller's voice already stopped it) */
			s->eager_hold = false;
			if (s->state != BT_ST_USER_SPEAKING) {
				if (s->state == BT_ST_SPEAKING && s->readyh)
					s->readyh(s->ready_arg);
				return;
			}
		}
		if (s->state != BT_ST_USER_SPEAKING || s->final_wait)
			return;
		if (!s->utt.speech_end)
			s->utt.speech_end = ss_now_ms(s);
		s->eager_hold = ev == BT_STT_EAGER_END;
		ss_endpoint(s);
		break;
	case BT_STT_TURN_RESUMED:
		if (!s->eager_hold)
			return;
		s->eager_hold = false;
		r = s->reply;
		if (!r || r->kind != REPLY_USER || r->audio_out)
			return;
		/* the recogniser's next final holds the whole turn: the
		 * words so far are not carried, only dropped */
		ss_hist_drop_user(s, r->user.text);
		/* speech the VAD saw over the held reply is this turn's */
		s->cand = false;
		s->cand_end = 0;
		s->prehold = false;
		ss_reply_end(s, "turn_resumed");
		s->utt.speech_end = 0;
		s->wait_stale = true;
		ss_set_state(s, BT_ST_USER_SPEAKING);
		if (!s->stt_active)
			stt_begin(s, ss_now_ms(s));
		break;
	default:
		break;
	}
}

/* A user turn is complete (s->utt holds it): tell the brain. */
void ss_user_turn(struct bt_session *s, json_t *why)
{
	struct bt_brain_input in;
	json_t *o;

	o = json_object();
	if (s->has_carry) {
		char text[2 * sizeof(s->utt.text) + 1];  /* cut to fit below */

		s->has_carry = false;
		json_object_set_new(o, "continues", json_string(s->carry.text));
		snprintf(text, sizeof(text), "%s%s%s", s->carry.text,
			 s->utt.text[0] ? " " : "", s->utt.text);
		str_ncpy(s->utt.text, text, sizeof(s->utt.text));
		s->utt.speech_start = s->carry.speech_start;
		if (s->carry.confidence < s->utt.confidence)
			s->utt.confidence = s->carry.confidence;
	}
	json_object_set_new(o, "confidence", json_real(s->utt.confidence));
	if (why)
		json_object_set_new(o, "endpoint", why);
	if (s->ov_why) {
		json_object_set_new(o, "interruption", s->ov_why);
		s->ov_why = NULL;
	}
	{
		/* the user's item, even when nothing was understood: a
		 * transport has announced it */
		struct hist *h = ss_hist_add_id(s, BT_ROLE_USER, s->utt.text,
					     s->utt.item_id);
		if (h)
			str_ncpy(s->utt.item_id, h->id,
				 sizeof(s->utt.item_id));
		else
			ss_new_item_id(s, s->utt.item_id,
				    sizeof(s->utt.item_id));
	}
	ss_emit_item(s, BT_EV_USER, s->utt.stt_final, s->utt.text, o,
		  s->utt.item_id);
	if (s->transferring) {
		/* the agent has said it transfers: the caller's words go
		 * into the history for the brain, should the transfer fail */
		ss_error_event(s, "the caller spoke while being transferred: "
			       "kept in the history, not answered");
		if (s->state == BT_ST_USER_SPEAKING)
			ss_set_state(s, BT_ST_LISTENING);
		return;
	}
	if (s->turns.no_respond || s->turns.manual) {
		/* the transport asks for the reply (response.create) */
		s->unanswered = s->utt;
		s->has_unanswered = true;
		if (s->state == BT_ST_USER_SPEAKING)
			ss_set_state(s, BT_ST_LISTENING);
		return;
	}

	memset(&in, 0, sizeof(in));
	in.type = BT_BRAIN_USER;
	in.text = s->utt.text;
	in.confidence = s->utt.confidence;
	ss_respond(s, REPLY_USER, &in);
}

/* Why the endpointer ended the turn, for the USER event and traces. */
json_t *ss_endpoint_why(const struct bt_session *s, bool ended)
{
	const struct bt_endpoint_decision *d;
	json_t *o = json_object();

	if (ended)
		json_object_set_new(o, "silence_ms",
				    json_integer(s->last_wait));
	else {
		json_object_set_new(o, "speech_start_ms", json_integer(
			(json_int_t)s->utt.speech_start));
		json_object_set_new(o, "speech_end_ms", json_integer(
			(json_int_t)s->utt.speech_end));
	}
	json_object_set_new(o, "partial", json_string(s->partial));
	if (!s->adaptive || !(d = bt_endpoint_last(s->ep))) {
		json_object_set_new(o, "rule", json_string("fixed silence"));
		return o;
	}
	json_object_set_new(o, "rule", json_string(d->rule));
	json_object_set_new(o, "context", json_string(
		d->ctx == BT_EP_SPEAKING ? "speaking" :
		d->ctx == BT_EP_THINKING ? "thinking" : "listening"));
	/* what the words were read against: the grammar's type, or what
	 * the agent's last question asked (bt_complete_asked) */
	json_object_set_new(o, "expected", json_string(
		bt_slot_type_name(ss_expected_type(s))));
	json_object_set_new(o, "complete", json_real(d->complete));
	json_object_set_new(o, "prosody", json_real(d->prosody));
	json_object_set_new(o, "end_like", json_real(d->end_like));
	json_object_set_new(o, "wait_ms", json_integer(d->wait_ms));
	json_object_set_new(o, "pause_floor_ms",
			    json_integer(d->pause_floor_ms));
	/* the words as scored, with commas where the caller paused */
	if (d->scored && strcmp(d->scored, s->partial))
		json_object_set_new(o, "scored", json_string(d->scored));
	if (d->late_ms)
		json_object_set_new(o, "late_ms", json_integer(d->late_ms));
	{
		struct bt_prosody_feat f;
		bt_prosody_features(s->prosody, &f);
		json_object_set_new(o, "pitch_fall_st", json_real(f.fall_st));
		json_object_set_new(o, "pitch_end_st",
				    json_real(f.end_rel_st));
		json_object_set_new(o, "last_syllable_ms",
				    json_integer(f.last_seg_ms));
		json_object_set_new(o, "mean_syllable_ms",
				    json_integer(f.mean_seg_ms));
		json_object_set_new(o, "voiced_frames",
				    json_integer((json_int_t)f.voiced_frames));
	}
	return o;
}

/* The user has finished a turn: final transcript, then the brain. */
void ss_endpoint(struct bt_session *s)
{
	const struct bt_stt *p = bt_stt_of(s->stt);
	struct bt_transcript tr;
	int err = 0;

	s->last_endpoint = ss_now_ms(s);
	s->last_wait = (uint32_t)(ss_now_ms(s) - s->utt.speech_end);
	s->utt.endpoint = ss_now_ms(s);
	memset(&tr, 0, sizeof(tr));
	if (s->stt_active)
		err = p->finishh(s->stt, &tr);
	s->stt_active = false;
	if (err == EINPROGRESS) {
		/* ss_stt_final goes on when the transcript comes */
		s->final_wait = true;
		json_decref(s->final_why);
		s->final_why = ss_endpoint_why(s, true);
		return;
	}
	if (err)
		ss_error_event(s, bt_errmsg());
	str_ncpy(s->utt.text, tr.text, sizeof(s->utt.text));
	s->utt.confidence = tr.confidence;
	s->utt.stt_final = ss_stamp(s);
	ss_user_turn(s, ss_endpoint_why(s, true));
}

/* The user really interrupts: stop the agent in this very frame. */
static void barge_in(struct bt_session *s)
{
	struct reply *r = s->reply;

	s->cand = false;
	if (r && r->kind == REPLY_USER && s->utt_ctx == BT_EP_THINKING &&
	    !r->audio_out) {
		/*
		 * The caller went on before any reply reached them: the turn
		 * was taken too soon, and what they say now finishes it ("a
		 * table for ... three people"). One user turn, in the history
		 * too.
		 */
		s->carry = r->user;
		s->has_carry = true;
		ss_hist_drop_user(s, r->user.text);
	}
	ss_reply_finish(s, true);
	/* in a pause of the speech: the endpointer times it from there */
	s->utt.speech_end = s->cand_end;
	s->cand_end = 0;
	s->wait_stale = true;
	ss_set_state(s, BT_ST_USER_SPEAKING);
}

/*
 * Not an interruption after all (a backchannel, a cough, noise): the
 * agent goes on from the start of the word it was saying when it paused.
 */
void ss_resume(struct bt_session *s, const char *why)
{
	struct reply *r = s->reply;
	json_t *o;

	/* speech again soon after is the same utterance going on ("no,
	 * ... stop"): its length counts from this one's onset */
	s->join_start = s->cand_start;
	s->join_until = ss_now_ms(s) + OVERLAP_JOIN_MS;
	if (!r || !r->held)
		return;
	r->held = false;
	for (size_t i = 0; i < r->n_words; i++) {
		if (r->words[i].start < r->cursor && r->cursor < r->words[i].end) {
			r->cursor = r->words[i].start;
			break;
		}
	}
	o = json_object();
	json_object_set_new(o, "why", json_string(why));
	ss_emit(s, BT_EV_RESUMED, ss_now_ms(s), why, o);
}

/* Words said over an uninterruptible segment: answered once it is over. */
void ss_deliver_pending(struct bt_session *s)
{
	s->has_pending = false;
	if (s->reply)
		ss_reply_finish(s, true);
	s->utt = s->pending;
	ss_user_turn(s, NULL);
}

/*
 * The STT's reading of speech over the agent as a backchannel or a stop
 * phrase, into s->ov; false if the provider has no overlap classifier.
 */
static bool overlap_read(struct bt_session *s)
{
	const struct bt_stt *p = bt_stt_of(s->stt);

	if (!p->overlaph || p->overlaph(s->stt, &s->ov))
		return false;
	return true;
}

/* The overlap classifier's reading of speech over the agent, for events. */
static json_t *ov_json(const struct bt_session *s, bool have_ov,
		       uint64_t speech_ms)
{
	json_t *o = json_object();

	json_object_set_new(o, "speech_ms", json_integer(
		(json_int_t)speech_ms));
	json_object_set_new(o, "words_confidence",
			    json_real(s->utt.confidence));
	if (!have_ov)
		return o;
	json_object_set_new(o, "overlap", json_string(
		s->ov.kind == BT_OVERLAP_STOP ? "stop" :
		s->ov.kind == BT_OVERLAP_BACKCHANNEL ? "backchannel" :
		"none"));
	json_object_set_new(o, "overlap_text", json_string(s->ov.text));
	json_object_set_new(o, "overlap_confidence",
			    json_real(s->ov.confidence));
	json_object_set_new(o, "stop_llr", json_real(s->ov.stop_llr));
	return o;
}

/* Speech over the agent is a barge-in: keep why for the USER event. */
static void ov_keep(struct bt_session *s, bool have_ov, uint64_t speech_ms)
{
	json_decref(s->ov_why);
	s->ov_why = ov_json(s, have_ov, speech_ms);
}

void ss_on_speech_start(struct bt_session *s, uint64_t onset)
{
	struct reply *r = s->reply;
	bool pre = s->prehold;

	ss_emit(s, BT_EV_SPEECH_START, onset, NULL, NULL);
	s->idle_count = 0;
	s->prehold = false;
	if (s->turns.manual) {
		/* the transport ends turns (commit): only record the words,
		 * over the agent's voice too, in one utterance until then */
		if (!s->stt_active)
			stt_begin(s, onset);
		if (s->state == BT_ST_LISTENING) {
			s->utt_ctx = BT_EP_LISTENING;
			ss_set_state(s, BT_ST_USER_SPEAKING);
		}
		s->utt.speech_end = 0;
		return;
	}
	if (s->cand && s->cand_end) {
		/* more of the same speech over the agent */
		s->cand_end = 0;
		return;
	}

	switch (s->state) {
	case BT_ST_LISTENING:
		s->utt_ctx = BT_EP_LISTENING;
		stt_begin(s, onset);
		ss_set_state(s, BT_ST_USER_SPEAKING);
		break;
	case BT_ST_USER_SPEAKING:
		/* a pause inside the turn: the same utterance goes on */
		if (s->utt.speech_end && onset > s->utt.speech_end)
			bt_endpoint_observe_pause(s->ep, (uint32_t)(
				onset - s->utt.speech_end));
		s->utt.speech_end = 0;
		break;
	case BT_ST_THINKING:
	case BT_ST_SPEAKING:
		/* speech right after we took the turn: we ended it too soon */
		if (s->last_endpoint && onset < s->last_endpoint + 1000) {
			bt_endpoint_observe_turn_end(s->ep, s->last_wait, true);
			s->last_endpoint = 0;
		}
		s->cand = true;
		s->utt_ctx = s->state == BT_ST_THINKING ? BT_EP_THINKING :
			BT_EP_SPEAKING;
		s->cand_start = onset < s->join_until && s->join_start ?
			s->join_start : onset;
		s->cand_ignored = false;
		s->ov_at = 0;
		json_decref(s->ov_why);
		s->ov_why = NULL;
		s->cand_end = 0;
		s->cand_protected = !s->interruptible ||
			(r && (r->cursor < r->protect_end ||
			       (r->unint_open || r->unint_to > r->planned)));
		stt_begin(s, onset);
		/*
		 * Pause at once, before we know: a real interruption must
		 * silence the agent within a few frames of its onset, and a
		 * backchannel or a cough only costs a short pause, after
		 * which the agent picks up the word it was saying.
		 */
		if (r && !s->cand_protected) {
			if (!pre)
				ss_emit(s, BT_EV_PAUSED, ss_now_ms(s), NULL, NULL);
			r->held = true;
		}
		else if (r && pre) {
			r->held = false;
		}
		break;
	default:
		break;
	}
}

void ss_on_speech_end(struct bt_session *s, uint64_t end)
{
	ss_emit(s, BT_EV_SPEECH_END, end, NULL, NULL);

	if (s->state == BT_ST_USER_SPEAKING) {
		s->utt.speech_end = end;
		s->wait_stale = true;
		return;
	}
	if (!s->cand)
		return;
	/*
	 * Speech over the agent ended before a barge-in was confirmed.
	 * Noise can split one phrase ("hold on ... a second") into pieces
	 * that each sound like a backchannel: the decision waits
	 * OVERLAP_GAP_MS for more speech, which continues the same one.
	 */
	s->cand_end = end;
	s->utt.speech_end = end;
}

/* Short speech over the agent was an interruption: cut, then answer. */
static void interrupt_now(struct bt_session *s)
{
	ss_reply_finish(s, true);
	s->utt.endpoint = ss_now_ms(s);
	s->utt.stt_final = ss_stamp(s);
	ss_user_turn(s, NULL);
}

/* Speech over the agent is over: a backchannel, noise or words? */
void ss_overlap_decide(struct bt_session *s)
{
	uint64_t end = s->cand_end;
	bool have_ov;

	s->cand = false;
	s->cand_end = 0;
	ss_stt_end(s);
	s->utt.speech_end = end;
	have_ov = overlap_read(s);
	if (!s->cand_ignored && !s->utt.text[0] && have_ov &&
	    s->ov.kind == BT_OVERLAP_STOP &&
	    s->ov.confidence >= OV_STOP_END) {
		/* the node's grammar found nothing, but "wait" was said */
		str_ncpy(s->utt.text, s->ov.text, sizeof(s->utt.text));
		s->utt.confidence = s->ov.confidence;
	}
	if (s->cand_ignored || !s->utt.text[0]) {
		ss_resume(s, "no words: not an interruption");
		return;
	}
	if (have_ov && !s->cand_protected) {
		/* the overlap classifier read it as a backchannel or a stop
		 * phrase, whatever the node's grammar made of it; longer
		 * than a backchannel can be, it interrupts */
		bool other = !only_backchannel(s->utt.text);
		bool stop = s->ov.kind == BT_OVERLAP_STOP &&
			(s->ov.confidence >= OV_STOP_END ||
			 (other && s->ov.stop_llr >= OV_UNSURE_LLR));
		bool words = other && s->utt.confidence >= 0.5f;

		if (end >= s->cand_start + BARGE_LONG_MS)
			stop = true;
		if (!stop && (s->ov.kind == BT_OVERLAP_BACKCHANNEL || !words)) {
			json_t *o = ov_json(s, true, end - s->cand_start);
			json_object_set_new(o, "confidence",
					    json_real(s->ov.confidence));
			json_object_set_new(o, "heard_as",
					    json_string(s->utt.text));
			ss_emit(s, BT_EV_BACKCHANNEL, ss_now_ms(s),
			     s->ov.kind == BT_OVERLAP_BACKCHANNEL ?
			     s->ov.text : s->utt.text, o);
			ss_resume(s, s->ov.kind == BT_OVERLAP_BACKCHANNEL ?
			       "backchannel" : "unsure words: not an "
			       "interruption");
			return;
		}
		ov_keep(s, true, end - s->cand_start);
		interrupt_now(s);
		return;
	}
	if (only_backchannel(s->utt.text)) {
		json_t *o = json_object();
		json_object_set_new(o, "confidence",
				    json_real(s->utt.confidence));
		ss_emit(s, BT_EV_BACKCHANNEL, ss_now_ms(s), s->utt.text, o);
		ss_resume(s, "backchannel");
		return;
	}
	if (s->cand_protected) {
		/* kept, and answered when the protected part has played */
		s->utt.endpoint = ss_now_ms(s);
		s->utt.stt_final = ss_stamp(s);
		s->pending = s->utt;
		s->has_pending = true;
		ss_emit(s, BT_EV_KEPT, ss_now_ms(s), s->utt.text, NULL);
		return;
	}
	/* short but real words ("stop"): an interruption after all */
	ov_keep(s, have_ov, end - s->cand_start);
	interrupt_now(s);
}

void ss_check_barge_in(struct bt_session *s)
{
	uint64_t dur = ss_now_ms(s) - s->cand_start;

	/*
	 * The agent is already paused (since the speech began), so there is
	 * time to listen: early partials of a "mhm" are often forced onto
	 * words, so words confirm a barge-in only after BARGE_WORDS_MS of
	 * speech; shorter speech is judged on its final transcript.
	 */
	if (s->cand_protected || s->cand_ignored || dur < s->barge_in_min_ms ||
	    dur < BARGE_WORDS_MS)
		return;
	if (ss_now_ms(s) < s->ov_at + 160)
		return;
	s->ov_at = ss_now_ms(s);
	if (overlap_read(s)) {
		/*
		 * A stop phrase ("wait", "no, stop") barges in at once. Speech
		 * longer than any backchannel is an interruption whatever the
		 * words sound like: in noise the recogniser hears "hold on a
		 * second" as "ah hmm", but nobody says "mhm" for a second.
		 */
		uint64_t span = s->cand_end ? s->cand_end - s->cand_start : dur;

		if (s->ov.kind == BT_OVERLAP_STOP &&
		    s->ov.confidence >= OV_STOP_NOW) {
			ov_keep(s, true, span);
			barge_in(s);
			return;
		}
		if (span >= BARGE_LONG_MS && (s->partial[0] || s->ov.text[0])) {
			ov_keep(s, true, span);
			barge_in(s);
			return;
		}
	}
	else if (s->partial[0] && !only_backchannel(s->partial)) {
		ov_keep(s, false, dur);
		barge_in(s);
		return;
	}
	if (dur >= BARGE_MAX_MS) {
		/* long sound and still no words: noise, not a person */
		s->cand_ignored = true;
		ss_resume(s, "no words in time: not an interruption");
	}
}

/*
 * The VAD has seen PREHOLD_MS of what may be speech over the agent but not
 * yet enough to confirm it: hold the agent's audio now, so a real
 * interruption stops it ~40 ms sooner. A candidate that dies (a click)
 * lets the audio go on from the very sample it stopped at.
 */
void ss_prehold_check(struct bt_session *s)
{
	struct reply *r = s->reply;
	uint32_t pend = bt_vadseg_pending_ms(s->vad);

	if (s->prehold) {
		if (!pend && !bt_vadseg_active(s->vad)) {
			s->prehold = false;
			if (r && r->held && !s->cand) {
				json_t *o = json_object();
				r->held = false;
				json_object_set_new(o, "why", json_string(
					"too short for speech"));
				ss_emit(s, BT_EV_RESUMED, ss_now_ms(s),
				     "too short for speech", o);
			}
		}
		return;
	}
	if (pend < PREHOLD_MS || s->cand || !r || r->held ||
	    s->state != BT_ST_SPEAKING || !s->interruptible ||
	    r->cursor < r->protect_end || r->unint_open ||
	    r->unint_to > r->planned)
		return;
	s->prehold = true;
	r->held = true;
	{
		json_t *o = json_object();
		json_object_set_new(o, "tentative", json_true());
		ss_emit(s, BT_EV_PAUSED, ss_now_ms(s), NULL, o);
	}
}
