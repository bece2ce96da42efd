/**
 * @file control.c  What a transport asks of a call: how turns are taken,
 *                  commit and clear, typed items, respond, cancel, truncate,
 *                  voice and instructions.
 */
#include "core/session_int.h"

int bt_session_set_turns(struct bt_session *s,
			 const struct bt_session_turns *t)
{
	struct bt_session_turns def;
	const json_t *aj;

	if (!s)
		return EINVAL;
	if (!t) {
		memset(&def, 0, sizeof(def));
		t = &def;
	}
	if (t->eagerness_pct > 400)
		return bt_err(EINVAL, "eagerness_pct %u is out of range "
			      "(0 for the default, 25 to 400)",
			      t->eagerness_pct);
	if (t->silence_ms > 10000)
		return bt_err(EINVAL, "silence_ms %u is out of range "
			      "(0 for adaptive endpointing, up to 10000)",
			      t->silence_ms);
	aj = bt_agent_json(s->agent);
	s->turns = *t;
	if (t->silence_ms) {
		s->adaptive = false;
		s->end_silence_ms = t->silence_ms;
	}
	else {
		const json_t *tj = json_object_get(aj, "turn");
		const json_t *v = json_object_get(tj, "endpointing");
		const json_t *es = json_object_get(tj, "end_silence_ms");

		s->adaptive = !json_is_string(v) ||
			strcmp(json_string_value(v), "fixed") != 0;
		s->end_silence_ms = json_is_integer(es) &&
			json_integer_value(es) > 0 ?
			(uint32_t)json_integer_value(es) : 400;
	}
	if (t->idle_ms == BT_IDLE_OFF)
		s->idle_ms = 0;
	else if (t->idle_ms)
		s->idle_ms = t->idle_ms;
	else {
		const json_t *v = json_object_get(json_object_get(aj, "turn"),
						  "idle_ms");
		s->idle_ms = json_is_integer(v) && json_integer_value(v) > 0 ?
			(uint32_t)json_integer_value(v) : 7000;
	}
	s->interruptible = !t->no_interrupt && !json_is_false(json_object_get(
		json_object_get(aj, "turn"), "interruptions"));
	if ((t->vad_threshold > 0 || t->prefix_ms) && !s->stt_active &&
	    !s->cand) {
		struct bt_vadseg_prm vp;
		struct bt_vadseg *seg = NULL;
		const struct bt_vad *vad = bt_vad_find(json_string_value(
			json_object_get(json_object_get(aj, "vad"),
					"provider")) ?: "energy");
		int err;

		bt_vadseg_prm_default(&vp);
		if (t->vad_threshold > 0)
			vp.threshold = t->vad_threshold;
		if (t->prefix_ms)
			vp.prefix_ms = t->prefix_ms;
		err = bt_vadseg_alloc(&seg, vad, &vp);
		if (err)
			return err;
		mem_deref(s->vad);
		s->vad = seg;
	}
	return 0;
}

void bt_session_set_handler(struct bt_session *s, bt_event_h *eh, void *arg)
{
	if (!s)
		return;
	s->eh = eh;
	s->arg = arg;
}

int bt_session_set_caller_id(struct bt_session *s, const char *id)
{
	if (!s)
		return EINVAL;
	str_ncpy(s->caller_id, id ? id : "", sizeof(s->caller_id));
	if (s->brain) {
		const struct bt_brain *b = *(const struct bt_brain **)s->brain;

		if (b->callerh)
			b->callerh(s->brain, s->caller_id);
	}
	return 0;
}

int bt_session_set_tools(struct bt_session *s, const char *tools_json)
{
	if (!s)
		return EINVAL;
	s->tools = mem_deref(s->tools);
	return tools_json ? str_dup(&s->tools, tools_json) : 0;
}

int bt_session_set_instructions(struct bt_session *s, const char *text)
{
	if (!s)
		return EINVAL;
	s->instructions = mem_deref(s->instructions);
	return text ? str_dup(&s->instructions, text) : 0;
}

void bt_session_set_ready_handler(struct bt_session *s, bt_ready_h *h,
				  void *arg)
{
	if (!s)
		return;
	s->readyh = h;
	s->ready_arg = arg;
}

void bt_session_set_audio_out(struct bt_session *s, bool on)
{
	if (s)
		s->audio_out = on;
}

int bt_session_set_voice(struct bt_session *s, const char *voice,
			 uint32_t speed_pct)
{
	struct bt_tts_prm prm;
	struct tts_hold *h;
	int err;

	if (!s || !voice)
		return EINVAL;
	if (speed_pct && (speed_pct < 25 || speed_pct > 400))
		return bt_err(EINVAL, "speed %u %% is out of range (25 to 400)",
			      speed_pct);
	prm = s->tts_prm;
	if (speed_pct)
		prm.rate_wpm = (s->tts_prm.rate_wpm ? s->tts_prm.rate_wpm :
				160) * speed_pct / 100;
	h = calloc(1, sizeof(*h));
	if (!h)
		return ENOMEM;
	atomic_init(&h->refs, 1);
	err = bt_tts_open(&h->tts, voice, &prm);
	if (err) {
		free(h);
		return err;
	}
	/* a sentence being rendered keeps the old voice until it is done */
	ss_tts_hold_put(s->tts);
	s->tts = h;
	return 0;
}

int bt_session_commit(struct bt_session *s)
{
	if (!s || s->state == BT_ST_ENDED)
		return EINVAL;
	if (!s->stt_active && !s->has_pending)
		return bt_err(ENOENT, "no speech to commit: the audio since the "
			      "last commit held no speech");
	if (s->stt_active) {
		if (!s->utt.speech_end)
			s->utt.speech_end = ss_now_ms(s);
		s->utt.endpoint = ss_now_ms(s);
		ss_stt_end(s);
		s->utt.stt_final = ss_stamp(s);
		s->cand = false;
		if (s->reply && s->reply->held)
			s->reply->held = false;
	}
	else {
		s->has_pending = false;
		s->utt = s->pending;
	}
	if (s->state == BT_ST_USER_SPEAKING)
		ss_set_state(s, BT_ST_LISTENING);
	if (s->reply && !s->turns.manual && !s->turns.no_respond)
		ss_reply_end(s, "turn_detected");  /* the answer replaces it */
	/* with manual turns a commit never starts a reply by itself */
	ss_user_turn(s, NULL);
	return 0;
}

void bt_session_clear(struct bt_session *s)
{
	if (!s || s->state == BT_ST_ENDED)
		return;
	if (s->stt_active) {
		ss_stt_end(s);
		memset(&s->utt, 0, sizeof(s->utt));
	}
	s->has_pending = false;
	if (s->cand) {
		s->cand = false;
		ss_resume(s, "input cleared");
	}
	if (s->state == BT_ST_USER_SPEAKING)
		ss_set_state(s, BT_ST_LISTENING);
}

int bt_session_respond(struct bt_session *s)
{
	struct bt_brain_input in;

	if (!s || s->state == BT_ST_ENDED)
		return EINVAL;
	if (s->reply)
		return bt_err(EBUSY, "a reply is already in progress; cancel "
			      "it first or wait for it to finish");
	memset(&in, 0, sizeof(in));
	if (s->has_unanswered) {
		s->utt = s->unanswered;
		in.type = BT_BRAIN_USER;
		in.text = s->utt.text;
		in.confidence = s->utt.confidence;
		return ss_respond(s, REPLY_USER, &in);
	}
	if (!s->replies) {
		in.type = BT_BRAIN_START;
		return ss_respond(s, REPLY_GREETING, &in);
	}
	/* nothing new from the user: the brain asks again */
	memset(&s->utt, 0, sizeof(s->utt));
	s->utt.speech_start = s->utt.speech_end = s->utt.endpoint =
		s->utt.stt_final = ss_now_ms(s);
	in.type = BT_BRAIN_USER;
	in.text = "";
	return ss_respond(s, REPLY_USER, &in);
}

int bt_session_cancel(struct bt_session *s)
{
	if (!s || !s->reply)
		return bt_err(ENOENT, "no reply is in progress");
	ss_reply_end(s, "client_cancelled");
	if (s->state != BT_ST_ENDED && s->state != BT_ST_USER_SPEAKING)
		ss_set_state(s, BT_ST_LISTENING);
	return 0;
}

int bt_session_truncate(struct bt_session *s, const char *id,
			uint32_t audio_end_ms)
{
	struct reply *r = s ? s->reply : NULL;
	struct hist *h;
	char text[MAX_TEXT];
	size_t pos = 0;

	if (!s || !id)
		return EINVAL;
	if (r && !strcmp(r->item_id, id)) {
		/* the reply still plays: the client stopped it there */
		size_t at = (size_t)audio_end_ms * BT_RATE_HZ / 1000;
		if (at > r->n)
			return bt_err(EINVAL, "audio_end_ms %u is past the "
				      "%zu ms of audio sent for item %s",
				      audio_end_ms, r->n * 1000 / BT_RATE_HZ,
				      id);
		if (at < r->cursor)
			r->cursor = at;
		ss_reply_end(s, "client_cancelled");
		if (s->state != BT_ST_ENDED && s->state !=
		    BT_ST_USER_SPEAKING)
			ss_set_state(s, BT_ST_LISTENING);
		return 0;
	}
	h = ss_hist_find(s, id);
	if (!h)
		return bt_err(ENOENT, "no item \"%s\" in the conversation",
			      id);
	if (h->role != BT_ROLE_ASSISTANT || !h->audio)
		return bt_err(EINVAL, "item %s is not an assistant message "
			      "with audio; only those can be truncated", id);
	text[0] = '\0';
	for (size_t i = 0; i < h->n_words; i++) {
		int k;
		if (h->words[i].end_ms > audio_end_ms)
			break;
		k = snprintf(text + pos, sizeof(text) - pos, "%s%s",
			     pos ? " " : "", h->words[i].text);
		if (k < 0 || (size_t)k >= sizeof(text) - pos)
			break;
		pos += (size_t)k;
	}
	if (h->n_words && audio_end_ms > h->words[h->n_words - 1].end_ms)
		return 0;  /* all of it was heard */
	mem_deref(h->text);
	h->text = NULL;
	return str_dup(&h->text, text);
}

const char *bt_session_utt_item_id(const struct bt_session *s)
{
	return s && s->utt.item_id[0] ? s->utt.item_id : NULL;
}

void bt_session_set_playout_delay(struct bt_session *s, uint32_t ms)
{
	if (s)
		s->playout_delay_ms = ms > 10000 ? 10000 : ms;
}
