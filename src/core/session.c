/**
 * @file session.c  A call: the state machine, turn-taking v1, the reply
 *                  pipeline (brain -> planner -> TTS -> output queue).
 *
 * Everything here runs on the session's thread, frame by frame; the only
 * hand-over is the TTS job, polled once per frame (no lock on this path).
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include "banter/banter.h"
#include "banter/aec.h"
#include "audio/pitch.h"
#include "core/planner.h"
#include "core/worker.h"
#include "net/loop.h"
#include "turn/endpoint.h"
#include "turn/prosody.h"

enum {
	MAX_TEXT = 4096,           /* one reply's text */
	MAX_REPLY_SAMPLES = BT_RATE_HZ * 120, /* two minutes of agent audio */
	MAX_WORDS = 1024,
	MAX_HISTORY = 256,
	BARGE_MAX_MS = 1500,       /* speech this long is never a backchannel */
	BARGE_WORDS_MS = 600,      /* partial words count after this much */
	BARGE_LONG_MS = 1000,      /* longer than any backchannel */
	OVERLAP_GAP_MS = 200,      /* a pause that ends speech over the agent */
	OVERLAP_JOIN_MS = 400,     /* after a resume, more speech continues it */
	PREHOLD_MS = 40,           /* likely speech over the agent: hold */
};

/* How sure the overlap classifier must be (bt_stt_overlap.confidence). */
#define OV_STOP_NOW 0.8f   /* a stop phrase mid-speech: barge at once
			      (the audio is paused already: being sure
			      costs nothing but a later flush) */
#define OV_STOP_END 0.2f   /* a stop phrase in a short utterance (less
			      if the words are not a backchannel either
			      and the stop phrase fits clearly better) */
/* ... and by how much it must fit better than a backchannel then
 * (bt_stt_overlap.stop_llr): misheard backchannels over 0.2 to 2.1, real
 * stop phrases 0.9 to 18 on the turn corpus */
#define OV_UNSURE_LLR 3.0f

struct word {
	size_t start, end; /* samples in the reply's audio */
	char text[64];
};

/*
 * The session's voice, shared with the TTS jobs that use it: a job may
 * still run on a worker when the session drops the voice (a new voice,
 * the end of the call), so the last of them frees it, on whichever
 * thread. An atomic count, since libre's reference count is not.
 */
struct tts_hold {
	atomic_int refs;
	struct bt_tts_st *tts;
};

static struct tts_hold *tts_hold_get(struct tts_hold *h)
{
	if (h)
		atomic_fetch_add(&h->refs, 1);
	return h;
}

static void tts_hold_put(struct tts_hold *h)
{
	if (h && atomic_fetch_sub(&h->refs, 1) == 1) {
		mem_deref(h->tts);
		free(h);
	}
}

/* A TTS job: one sentence, rendered and resampled to the pipeline rate. */
struct synth_job {
	struct bt_job job;
	struct bt_session *s;    /* valid while the job is not cancelled */
	struct tts_hold *tts;
	char text[1024];
	int err;
	char errmsg[256];
	int16_t *pcm;
	size_t n;
	struct bt_tts_word *words;
	size_t n_words;
	uint32_t rate_hz;
	struct bt_tts_audio *audio;
	double compute_ms;
	bool protect;  /* the sentence is (part of) an uninterruptible one */
};

enum reply_kind { REPLY_GREETING, REPLY_USER, REPLY_IDLE };

struct utt {
	char text[512];
	float confidence;
	uint64_t speech_start, speech_end, endpoint, stt_final;
	char item_id[24];
};

/* A response as the brain sees it (its sink's arg); outlives the reply
 * while an asynchronous brain holds it. */
struct resp_tag {
	struct le le;            /* in the session's list of tags */
	struct bt_session *s;    /* NULL once the session is gone */
	bool cancelled;
};

struct reply {
	unsigned no;
	struct resp_tag *tag;
	char item_id[24];
	enum reply_kind kind;
	struct utt user;         /* the user turn it answers (REPLY_USER) */
	char text[MAX_TEXT];
	size_t len, planned;
	bool brain_done, end_call;
	char grammar[64];
	bool has_grammar;
	int16_t *pcm;
	size_t n, cap, cursor;
	struct word *words;
	size_t n_words;
	struct synth_job *job;
	uint64_t t_first_text, t_first_audio, t_audio_out;
	bool audio_out;
	bool held;               /* paused: the user may be interrupting */
	/* an uninterruptible segment: its text range, then its audio end */
	size_t unint_from, unint_to;
	bool unint_open;
	size_t protect_end;      /* samples; user speech cannot stop these */
};

struct hist {
	enum bt_role role;
	char *text;
	char id[24];
	/* an assistant item's words and when each ended in its audio, so a
	 * client's truncate can cut it later (NULL for text) */
	struct word_end { char text[64]; uint32_t end_ms; } *words;
	size_t n_words;
	bool audio;
};

struct bt_session {
	struct bt_agent *agent;
	bt_event_h *eh;
	void *arg;
	char id[64];
	char db_path[512];
	uint32_t rate_hz;
	bool realtime;

	enum bt_state state;
	uint64_t samples;          /* media clock, pipeline-rate samples */
	struct timespec frame_t0;  /* wall time at frame start (realtime) */

	/* settings */
	uint32_t end_silence_ms, barge_in_min_ms, idle_ms;
	bool adaptive;             /* endpointing beyond a fixed silence */

	/* end of turn: words, prosody and the speaker's pauses */
	struct bt_pitch *pitch;
	struct bt_prosody *prosody;
	struct bt_endpoint *ep;
	uint32_t wait_ms;          /* silence that ends the current turn */
	bool wait_stale;           /* recompute: partial or silence changed */
	enum bt_endpoint_ctx utt_ctx; /* what the agent did when the user's
				      utterance began: its endpoint waits */
	struct utt carry;          /* a turn taken too soon: the caller went
				      on before hearing a reply, so its words
				      begin the next turn */
	bool has_carry;
	uint64_t last_endpoint;    /* to spot a turn ended too early */
	uint32_t last_wait;
	struct { char name[64]; enum bt_slot_type type; } gram[64];
	size_t n_gram;

	/* echo cancellation: the agent's own voice in the caller audio */
	struct bt_aec *aec;
	int16_t last_out[BT_FRAME_SAMPLES]; /* the agent frame now playing */

	/* rate conversion at the edges */
	struct bt_resampler *rs_in, *rs_out;
	int16_t in_fifo[BT_FRAME_SAMPLES * 4];
	size_t in_len;
	int16_t out_fifo[BT_FRAME_SAMPLES * 8];
	size_t out_len;

	/* input chain */
	struct bt_vadseg *vad;
	struct bt_stt_st *stt;
	bool stt_active;
	char grammar[64];
	bool has_grammar;
	char partial[512];
	struct utt utt;            /* the user turn being heard */
	bool cand;                 /* user speech while the agent talks */
	uint64_t cand_start;
	bool cand_protected;       /* ... over an uninterruptible segment */
	bool cand_ignored;         /* ... judged a false interruption */
	struct bt_stt_overlap ov;  /* ... as the STT reads it, so far */
	uint64_t ov_at;            /* when ov was read (every 160 ms) */
	json_t *ov_why;            /* the reading that made it a barge-in,
				      for the next USER event */
	uint64_t cand_end;         /* its speech paused here (0: speaking) */
	uint64_t join_start, join_until; /* a resumed candidate's onset, and
				      until when new speech continues it */
	bool prehold;              /* agent held on a likely onset (VAD
				      candidate not confirmed yet) */
	bool interruptible;        /* barge-in on (can change mid-call) */
	struct utt pending;        /* words said over a protected segment */
	bool has_pending;

	/* reasoning and speech */
	struct bt_brain_st *brain;
	struct tts_hold *tts;
	struct bt_tts_prm tts_prm;
	struct reply *reply;
	unsigned replies;
	uint64_t idle_since;
	unsigned idle_count;

	struct hist hist[MAX_HISTORY];
	size_t n_hist;
	unsigned items;            /* conversation item ids given out */
	struct list tags;          /* responses a brain may still answer */
	char *instructions;        /* a transport's, for the brain */
	unsigned uid;              /* process-wide number, for item ids */
	bool ending;

	/* what a transport asked for (bt_session_set_turns and friends) */
	struct bt_session_turns turns;
	bool audio_out;            /* replies are spoken (else text only) */
	struct utt unanswered;     /* a user item no reply has answered yet */
	bool has_unanswered;
};

static const char *state_names[] = {"listening", "user_speaking", "thinking",
				    "speaking", "ended"};

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

static uint64_t now_ms(const struct bt_session *s)
{
	return s->samples * 1000 / BT_RATE_HZ;
}

uint64_t bt_session_now_ms(const struct bt_session *s)
{
	return s ? now_ms(s) : 0;
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
static uint64_t stamp(const struct bt_session *s)
{
	struct timespec t;
	double d;

	if (!s->realtime)
		return now_ms(s);
	clock_gettime(CLOCK_MONOTONIC, &t);
	d = (double)(t.tv_sec - s->frame_t0.tv_sec) * 1e3 +
	    (double)(t.tv_nsec - s->frame_t0.tv_nsec) / 1e6;
	return now_ms(s) + (d > 0 ? (uint64_t)d : 0);
}

/* ---- events ---- */

static const char *ev_names[] = {
	"state", "speech_start", "speech_end", "partial", "user", "agent",
	"agent_done", "barge_in", "backchannel", "turn", "tool", "error",
	"ended", "paused", "resumed", "kept", "wait", "reply"};

/* Emit an event about a conversation item; takes ownership of obj. */
static void emit_item(struct bt_session *s, enum bt_event_type type,
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
	if (s->eh)
		s->eh(&ev, s->arg);
	free(js);
}

/* Emit an event; takes ownership of obj (may be NULL). */
static void emit(struct bt_session *s, enum bt_event_type type, uint64_t t,
		 const char *text, json_t *obj)
{
	emit_item(s, type, t, text, obj, NULL);
}

static void new_item_id(struct bt_session *s, char *buf, size_t sz)
{
	snprintf(buf, sz, "item_%x_%u", s->uid, ++s->items);
}

static void set_state(struct bt_session *s, enum bt_state st)
{
	json_t *o;

	if (s->state == st)
		return;
	o = json_object();
	json_object_set_new(o, "from", json_string(bt_state_name(s->state)));
	json_object_set_new(o, "to", json_string(bt_state_name(st)));
	s->state = st;
	emit(s, BT_EV_STATE, now_ms(s), bt_state_name(st), o);
}

static void error_event(struct bt_session *s, const char *what)
{
	json_t *o = json_object();
	json_object_set_new(o, "message", json_string(what));
	emit(s, BT_EV_ERROR, now_ms(s), what, o);
}

/* ---- history ---- */

static void hist_free(struct hist *h)
{
	h->text = mem_deref(h->text);
	h->words = mem_deref(h->words);
	h->n_words = 0;
}

/* Add an item to the history; returns it (NULL if not added). */
static struct hist *hist_add_id(struct bt_session *s, enum bt_role role,
				const char *text, const char *id)
{
	struct hist *h;

	if (!text || (!text[0] && role != BT_ROLE_ASSISTANT))
		return NULL;
	if (s->n_hist == MAX_HISTORY) {
		/* keep the latest: drop the oldest entry */
		hist_free(&s->hist[0]);
		memmove(&s->hist[0], &s->hist[1],
			(MAX_HISTORY - 1) * sizeof(s->hist[0]));
		--s->n_hist;
	}
	h = &s->hist[s->n_hist];
	memset(h, 0, sizeof(*h));
	if (str_dup(&h->text, text))
		return NULL;
	h->role = role;
	if (id && id[0])
		str_ncpy(h->id, id, sizeof(h->id));
	else
		new_item_id(s, h->id, sizeof(h->id));
	++s->n_hist;
	return h;
}

static struct hist *hist_find(struct bt_session *s, const char *id)
{
	for (size_t i = 0; id && i < s->n_hist; i++)
		if (!strcmp(s->hist[i].id, id))
			return &s->hist[i];
	return NULL;
}

/* Take back the last history entry if it is the user's text. */
static void hist_drop_user(struct bt_session *s, const char *text)
{
	struct hist *h = s->n_hist ? &s->hist[s->n_hist - 1] : NULL;

	if (!h || h->role != BT_ROLE_USER || strcmp(h->text, text))
		return;
	hist_free(h);
	--s->n_hist;
}

char *bt_session_history(const struct bt_session *s)
{
	json_t *a;
	char *js, *out = NULL;

	if (!s)
		return NULL;
	a = json_array();
	for (size_t i = 0; i < s->n_hist; i++) {
		json_t *o = json_object();
		json_object_set_new(o, "role", json_string(
			bt_role_name(s->hist[i].role)));
		json_object_set_new(o, "text", json_string(s->hist[i].text));
		json_object_set_new(o, "id", json_string(s->hist[i].id));
		json_array_append_new(a, o);
	}
	js = json_dumps(a, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(a);
	if (js) {
		str_dup(&out, js);
		free(js);
	}
	return out;
}

/* ---- TTS jobs ---- */

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
	tts_hold_put(sj->tts);
	mem_deref(sj);
}

/* ---- replies ---- */

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
	mem_deref(r->pcm);
	mem_deref(r->words);
}

static void reply_end(struct bt_session *s, const char *why);

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

static void reply_finish(struct bt_session *s, bool barged)
{
	reply_end(s, barged ? "turn_detected" : NULL);
}

static void plan(struct bt_session *s);
static void end_call(struct bt_session *s, const char *reason);
static void user_turn(struct bt_session *s, json_t *why);

/* The words of the reply the user has heard so far. */
static void heard_text(const struct reply *r, bool all, char *buf, size_t sz)
{
	size_t pos = 0;

	buf[0] = '\0';
	if (all) {
		snprintf(buf, sz, "%.*s", (int)r->len, r->text);
		return;
	}
	for (size_t i = 0; i < r->n_words; i++) {
		int k;
		if (r->words[i].end > r->cursor)
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
		       const char *heard)
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
				       u && r->audio_out));
	json_object_set_new(o, "agent_text", json_stringn(r->text, r->len));
	json_object_set_new(o, "barge_in", json_boolean(barged));
	if (barged)
		json_object_set_new(o, "heard_text", json_string(heard));
	emit(s, BT_EV_TURN, now_ms(s), NULL, o);
}

/* Keep the reply's word timings with its history item (for truncate). */
static void hist_keep_words(struct hist *h, const struct reply *r)
{
	if (!h || !r->n)
		return;
	h->audio = true;
	if (!r->n_words)
		return;
	h->words = mem_zalloc(r->n_words * sizeof(*h->words), NULL);
	if (!h->words)
		return;
	for (size_t i = 0; i < r->n_words; i++) {
		str_ncpy(h->words[i].text, r->words[i].text,
			 sizeof(h->words[i].text));
		h->words[i].end_ms = (uint32_t)(r->words[i].end * 1000 /
						BT_RATE_HZ);
	}
	h->n_words = r->n_words;
}

/*
 * The reply is over: played to the end (why NULL), or cut by a barge-in
 * ("turn_detected") or the transport ("client_cancelled").
 */
static void reply_end(struct bt_session *s, const char *why)
{
	struct reply *r = s->reply;
	char heard[MAX_TEXT];
	bool barged = why != NULL;
	struct hist *h;
	json_t *o;
	bool end;

	if (!r)
		return;
	heard_text(r, !barged, heard, sizeof(heard));
	h = hist_add_id(s, BT_ROLE_ASSISTANT, heard, r->item_id);
	hist_keep_words(h, r);
	o = json_object();
	json_object_set_new(o, "turn", json_integer(r->no));
	json_object_set_new(o, "audio_ms", json_integer(
		(json_int_t)(r->cursor * 1000 / BT_RATE_HZ)));
	if (why)
		json_object_set_new(o, "reason", json_string(why));
	emit_item(s, barged ? BT_EV_BARGE_IN : BT_EV_AGENT_DONE, now_ms(s),
		  heard, o, r->item_id);
	trace_turn(s, r, barged, heard);

	end = r->end_call && !barged;
	s->reply = mem_deref(s->reply);
	s->idle_since = now_ms(s);

	if (end) {
		end_call(s, "completed");
	}
	else if (!barged && s->has_pending && !s->cand) {
		s->has_pending = false;
		s->utt = s->pending;
		user_turn(s, NULL);
	}
	else if (!barged && s->cand) {
		/* the user began while the last words played: their turn */
		s->cand = false;
		if (s->cand_end)
			s->utt.speech_end = s->cand_end;
		s->cand_end = 0;
		set_state(s, BT_ST_USER_SPEAKING);
	}
	else if (!barged) {
		set_state(s, BT_ST_LISTENING);
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
		error_event(s, msg);
		return;
	}
	if (r->n + sj->n > MAX_REPLY_SAMPLES) {
		error_event(s, "the reply is longer than two minutes of audio; "
			    "the rest is dropped: keep replies short");
		return;
	}
	if (r->n + sj->n > r->cap) {
		size_t cap = (r->n + sj->n) * 2;
		/* libre's mem_realloc does not take NULL */
		int16_t *p = r->pcm ? mem_realloc(r->pcm, cap * sizeof(*p))
				    : mem_alloc(cap * sizeof(*p), NULL);
		if (!p) {
			error_event(s, "out of memory for agent audio");
			return;
		}
		r->pcm = p;
		r->cap = cap;
	}
	if (sj->n)
		memcpy(r->pcm + r->n, sj->pcm, sj->n * sizeof(int16_t));
	r->n += sj->n;
	if (sj->protect)
		r->protect_end = r->n;

	for (size_t i = 0; i < sj->n_words && r->n_words < MAX_WORDS; i++) {
		struct word *w;
		if (!r->words) {
			r->words = mem_zalloc(MAX_WORDS * sizeof(*r->words),
					      NULL);
			if (!r->words)
				break;
		}
		w = &r->words[r->n_words++];
		w->start = base + (size_t)sj->words[i].start_ms * BT_RATE_HZ /
				   1000;
		w->end = base + (size_t)sj->words[i].end_ms * BT_RATE_HZ / 1000;
		if (w->end > r->n)
			w->end = r->n;
		str_ncpy(w->text, sj->words[i].text, sizeof(w->text));
	}

	if (sj->n && !r->t_first_audio) {
		r->t_first_audio = stamp(s);
		if (r->t_first_audio < r->t_first_text)
			r->t_first_audio = r->t_first_text;
	}
	if (r->n > r->cursor && s->state == BT_ST_THINKING)
		set_state(s, BT_ST_SPEAKING);
}

/* Collect a finished TTS job and start the next sentence. */
static void poll_job(struct bt_session *s)
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

	poll_job(sj->s);
}

static void submit_sentence(struct bt_session *s, const char *text, size_t n)
{
	struct reply *r = s->reply;
	size_t at = (size_t)(text - r->text);
	bool protect = r->unint_to > r->unint_from && at < r->unint_to &&
		       at + n > r->unint_from;
	struct synth_job *sj;
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
		emit_item(s, BT_EV_AGENT, stamp(s), sent, o, r->item_id);
		return;
	}
	sj = mem_zalloc(sizeof(*sj), NULL);
	if (!sj) {
		error_event(s, "out of memory for a TTS job");
		return;
	}
	sj->job.work = job_work;
	sj->job.freeh = job_free;
	atomic_init(&sj->job.refs, 1);
	sj->s = s;
	sj->tts = tts_hold_get(s->tts);
	sj->protect = protect;
	snprintf(sj->text, sizeof(sj->text), "%.*s", (int)n, text);

	o = json_object();
	json_object_set_new(o, "turn", json_integer(r->no));
	emit_item(s, BT_EV_AGENT, stamp(s), sj->text, o, r->item_id);
	/* on an event loop the result comes back as a message */
	sj->job.loop = s->realtime ? bt_loop_current() : NULL;
	sj->job.doneh = job_back;

	r->job = sj;
	if (s->realtime && !bt_worker_submit(&sj->job))
		return;
	bt_job_run_inline(&sj->job);
	poll_job(s);
}

/*
 * Hand the next complete sentence to TTS. One job is in flight at a time:
 * sentence k+1 renders while sentence k plays, and the first audio waits
 * only for the first sentence.
 */
static void plan(struct bt_session *s)
{
	struct reply *r = s->reply;

	if (!r || r->job)
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
		if (s->reply != r || r->job)
			return;
	}
	if (r->brain_done && r->planned == r->len && r->cursor >= r->n) {
		/* nothing (more) to say: an empty reply ends here */
		if (r->n == 0)
			reply_finish(s, false);
	}
}

static void reply_text(struct bt_session *s, const char *text)
{
	struct reply *r = s->reply;
	size_t l;

	if (!r || !text)
		return;
	if (!r->t_first_text)
		r->t_first_text = stamp(s);
	l = strlen(text);
	if (r->len + l + 2 > sizeof(r->text)) {
		error_event(s, "the reply text is too long; it was cut");
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
	json_t *o;

	if (!s || !name)
		return;
	{
		/* the history keeps every result, cancelled response or not */
		char line[MAX_TEXT];
		snprintf(line, sizeof(line), "%s(%s) -> %s", name,
			 args ? args : "{}", result ? result : "null");
		hist_add_id(s, BT_ROLE_TOOL, line, NULL);
	}
	o = json_object();
	if (t->cancelled)
		json_object_set_new(o, "cancelled", json_true());

	json_object_set_new(o, "name", json_string(name));
	json_object_set_new(o, "args", args ? json_loads(args, 0, NULL)
					    : json_null());
	json_object_set_new(o, "result", result ? json_loads(result, 0, NULL)
						: json_null());
	json_object_set_new(o, "error", json_integer(err));
	emit(s, BT_EV_TOOL, stamp(s), name, o);
}

static int respond(struct bt_session *s, enum reply_kind kind,
		   const struct bt_brain_input *in)
{
	const struct bt_brain *b = *(const struct bt_brain **)(void *)s->brain;
	struct bt_brain_sink sink = {
		.texth = brain_text,
		.doneh = brain_done,
		.toolh = brain_tool,
		.segmenth = brain_segment,
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
	new_item_id(s, r->item_id, sizeof(r->item_id));
	s->reply = r;
	s->has_unanswered = false;
	set_state(s, BT_ST_THINKING);
	{
		json_t *o = json_object();
		json_object_set_new(o, "turn", json_integer(r->no));
		json_object_set_new(o, "kind", json_string(
			kind == REPLY_USER ? "reply" :
			kind == REPLY_IDLE ? "idle" : "greeting"));
		json_object_set_new(o, "audio", json_boolean(s->audio_out));
		emit_item(s, BT_EV_REPLY, now_ms(s), NULL, o, r->item_id);
	}

	{
		/* what the brain reasons over: the conversation, the
		 * transport's instructions */
		struct bt_brain_input in2 = *in;
		char *hist = bt_session_history(s);

		in2.history_json = hist;
		in2.instructions = s->instructions;
		err = b->respondh(s->brain, &in2, &sink);
		mem_deref(hist);
	}
	if (err) {
		char msg[600];
		snprintf(msg, sizeof(msg), "the brain failed: %s", bt_errmsg());
		error_event(s, msg);
		if (s->reply == r && !r->brain_done) {
			struct bt_brain_done d = {false, NULL};
			reply_done(s, &d);
		}
	}
	return 0;
}

/* ---- the input side ---- */

static const char *backchannels[] = {"mhm", "mm", "hmm", "uh-huh", "uh", "um",
				     "yeah", "yes", "okay", "ok", "right",
				     "sure", "yep", "ah", "oh", "i", "see"};

/* Backchannels every STT grammar must recognise (in the dictionary). */
static const char *gram_backchannels[] = {"mhm", "hmm", "uh-huh", "yeah",
					  "okay", "right", "i see"};

/* True if text is empty or holds only backchannel words. */
static bool only_backchannel(const char *text)
{
	char w[32];
	const char *p = text;

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
		for (size_t i = 0; i < sizeof(backchannels) /
				       sizeof(backchannels[0]); i++) {
			if (!strcmp(w, backchannels[i])) {
				found = true;
				break;
			}
		}
		if (!found)
			return false;
		p += n;
	}
	return true;
}

/* The slot type the current grammar expects (text if none). */
static enum bt_slot_type expected_type(const struct bt_session *s)
{
	if (!s->has_grammar)
		return BT_SLOT_TEXT;
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
	new_item_id(s, s->utt.item_id, sizeof(s->utt.item_id));
	s->partial[0] = '\0';
	bt_prosody_reset(s->prosody);
	s->wait_stale = true;
	err = p->starth(s->stt, s->has_grammar ? s->grammar : NULL);
	if (err && s->has_grammar) {
		error_event(s, bt_errmsg());
		err = p->starth(s->stt, NULL);
	}
	if (err) {
		error_event(s, bt_errmsg());
		return;
	}
	s->stt_active = true;
	pre = bt_vadseg_prefix(s->vad, &n);
	if (pre && n)
		p->feedh(s->stt, pre, n);
}

static void stt_end(struct bt_session *s)
{
	const struct bt_stt *p = bt_stt_of(s->stt);
	struct bt_transcript tr;

	memset(&tr, 0, sizeof(tr));
	if (s->stt_active && p->finishh(s->stt, &tr))
		error_event(s, bt_errmsg());
	s->stt_active = false;
	str_ncpy(s->utt.text, tr.text, sizeof(s->utt.text));
	s->utt.confidence = tr.confidence;
}

/* A user turn is complete (s->utt holds it): tell the brain. */
static void user_turn(struct bt_session *s, json_t *why)
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
		struct hist *h = hist_add_id(s, BT_ROLE_USER, s->utt.text,
					     s->utt.item_id);
		if (h)
			str_ncpy(s->utt.item_id, h->id,
				 sizeof(s->utt.item_id));
		else
			new_item_id(s, s->utt.item_id,
				    sizeof(s->utt.item_id));
	}
	emit_item(s, BT_EV_USER, s->utt.stt_final, s->utt.text, o,
		  s->utt.item_id);
	if (s->turns.no_respond || s->turns.manual) {
		/* the transport asks for the reply (response.create) */
		s->unanswered = s->utt;
		s->has_unanswered = true;
		if (s->state == BT_ST_USER_SPEAKING)
			set_state(s, BT_ST_LISTENING);
		return;
	}

	memset(&in, 0, sizeof(in));
	in.type = BT_BRAIN_USER;
	in.text = s->utt.text;
	in.confidence = s->utt.confidence;
	respond(s, REPLY_USER, &in);
}

/* Why the endpointer ended the turn, for the USER event and traces. */
static json_t *endpoint_why(const struct bt_session *s, bool ended)
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
	json_object_set_new(o, "complete", json_real(d->complete));
	json_object_set_new(o, "prosody", json_real(d->prosody));
	json_object_set_new(o, "end_like", json_real(d->end_like));
	json_object_set_new(o, "wait_ms", json_integer(d->wait_ms));
	json_object_set_new(o, "pause_floor_ms",
			    json_integer(d->pause_floor_ms));
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
static void endpoint(struct bt_session *s)
{
	s->last_endpoint = now_ms(s);
	s->last_wait = (uint32_t)(now_ms(s) - s->utt.speech_end);
	s->utt.endpoint = now_ms(s);
	stt_end(s);
	s->utt.stt_final = stamp(s);
	user_turn(s, endpoint_why(s, true));
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
		hist_drop_user(s, r->user.text);
	}
	reply_finish(s, true);
	/* in a pause of the speech: the endpointer times it from there */
	s->utt.speech_end = s->cand_end;
	s->cand_end = 0;
	s->wait_stale = true;
	set_state(s, BT_ST_USER_SPEAKING);
}

/*
 * Not an interruption after all (a backchannel, a cough, noise): the
 * agent goes on from the start of the word it was saying when it paused.
 */
static void resume(struct bt_session *s, const char *why)
{
	struct reply *r = s->reply;
	json_t *o;

	/* speech again soon after is the same utterance going on ("no,
	 * ... stop"): its length counts from this one's onset */
	s->join_start = s->cand_start;
	s->join_until = now_ms(s) + OVERLAP_JOIN_MS;
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
	emit(s, BT_EV_RESUMED, now_ms(s), why, o);
}

/* Words said over an uninterruptible segment: answered once it is over. */
static void deliver_pending(struct bt_session *s)
{
	s->has_pending = false;
	if (s->reply)
		reply_finish(s, true);
	s->utt = s->pending;
	user_turn(s, NULL);
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

static void on_speech_start(struct bt_session *s, uint64_t onset)
{
	struct reply *r = s->reply;
	bool pre = s->prehold;

	emit(s, BT_EV_SPEECH_START, onset, NULL, NULL);
	s->idle_count = 0;
	s->prehold = false;
	if (s->turns.manual) {
		/* the transport ends turns (commit): only record the words,
		 * over the agent's voice too, in one utterance until then */
		if (!s->stt_active)
			stt_begin(s, onset);
		if (s->state == BT_ST_LISTENING) {
			s->utt_ctx = BT_EP_LISTENING;
			set_state(s, BT_ST_USER_SPEAKING);
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
		set_state(s, BT_ST_USER_SPEAKING);
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
				emit(s, BT_EV_PAUSED, now_ms(s), NULL, NULL);
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

static void on_speech_end(struct bt_session *s, uint64_t end)
{
	emit(s, BT_EV_SPEECH_END, end, NULL, NULL);

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
	reply_finish(s, true);
	s->utt.endpoint = now_ms(s);
	s->utt.stt_final = stamp(s);
	user_turn(s, NULL);
}

/* Speech over the agent is over: a backchannel, noise or words? */
static void overlap_decide(struct bt_session *s)
{
	uint64_t end = s->cand_end;
	bool have_ov;

	s->cand = false;
	s->cand_end = 0;
	stt_end(s);
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
		resume(s, "no words: not an interruption");
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
			emit(s, BT_EV_BACKCHANNEL, now_ms(s),
			     s->ov.kind == BT_OVERLAP_BACKCHANNEL ?
			     s->ov.text : s->utt.text, o);
			resume(s, s->ov.kind == BT_OVERLAP_BACKCHANNEL ?
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
		emit(s, BT_EV_BACKCHANNEL, now_ms(s), s->utt.text, o);
		resume(s, "backchannel");
		return;
	}
	if (s->cand_protected) {
		/* kept, and answered when the protected part has played */
		s->utt.endpoint = now_ms(s);
		s->utt.stt_final = stamp(s);
		s->pending = s->utt;
		s->has_pending = true;
		emit(s, BT_EV_KEPT, now_ms(s), s->utt.text, NULL);
		return;
	}
	/* short but real words ("stop"): an interruption after all */
	ov_keep(s, have_ov, end - s->cand_start);
	interrupt_now(s);
}

static void check_barge_in(struct bt_session *s)
{
	uint64_t dur = now_ms(s) - s->cand_start;

	/*
	 * The agent is already paused (since the speech began), so there is
	 * time to listen: early partials of a "mhm" are often forced onto
	 * words, so words confirm a barge-in only after BARGE_WORDS_MS of
	 * speech; shorter speech is judged on its final transcript.
	 */
	if (s->cand_protected || s->cand_ignored || dur < s->barge_in_min_ms ||
	    dur < BARGE_WORDS_MS)
		return;
	if (now_ms(s) < s->ov_at + 160)
		return;
	s->ov_at = now_ms(s);
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
		resume(s, "no words in time: not an interruption");
	}
}

/*
 * The VAD has seen PREHOLD_MS of what may be speech over the agent but not
 * yet enough to confirm it: hold the agent's audio now, so a real
 * interruption stops it ~40 ms sooner. A candidate that dies (a click)
 * lets the audio go on from the very sample it stopped at.
 */
static void prehold_check(struct bt_session *s)
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
				emit(s, BT_EV_RESUMED, now_ms(s),
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
		emit(s, BT_EV_PAUSED, now_ms(s), NULL, o);
	}
}

static void process_frame(struct bt_session *s, const int16_t *pcm)
{
	const struct bt_stt *stt = bt_stt_of(s->stt);
	enum bt_vadseg_ev ev = BT_VADSEG_NONE;
	uint64_t ev_ms = 0;
	bool started = false;
	int16_t clean[BT_FRAME_SAMPLES];

	if (s->aec && !bt_aec_process(s->aec, pcm, s->last_out, clean,
				      BT_FRAME_SAMPLES))
		pcm = clean;

	if (s->realtime)
		clock_gettime(CLOCK_MONOTONIC, &s->frame_t0);
	s->samples += BT_FRAME_SAMPLES;

	poll_job(s);

	if (bt_vadseg_frame(s->vad, pcm, BT_FRAME_SAMPLES,
			    now_ms(s) - BT_FRAME_MS, &ev, &ev_ms, NULL)) {
		error_event(s, bt_errmsg());
		return;
	}
	prehold_check(s);
	if (ev == BT_VADSEG_START) {
		on_speech_start(s, ev_ms);
		started = true; /* the prefix already holds this frame */
	}
	if (s->stt_active && !started) {
		stt->feedh(s->stt, pcm, BT_FRAME_SAMPLES);
		if (stt->partialh(s->stt, s->partial, sizeof(s->partial)) &&
		    s->partial[0]) {
			emit(s, BT_EV_PARTIAL, now_ms(s), s->partial, NULL);
			s->wait_stale = true;
		}
	}
	if (s->stt_active && s->adaptive) {
		/* pitch and level for the prosody of the turn's end */
		float voicing = 0;
		float f0 = bt_pitch_frame(s->pitch, pcm, BT_FRAME_SAMPLES,
					  &voicing);
		bt_prosody_frame(s->prosody, f0, voicing,
				 (float)bt_level_dbfs(pcm, BT_FRAME_SAMPLES));
	}
	if (ev == BT_VADSEG_END)
		on_speech_end(s, ev_ms);
	if (s->cand && s->cand_end && !bt_vadseg_active(s->vad) &&
	    now_ms(s) >= s->cand_end + OVERLAP_GAP_MS)
		overlap_decide(s);

	switch (s->state) {
	case BT_ST_USER_SPEAKING:
		if (s->turns.manual || bt_vadseg_active(s->vad) ||
		    !s->utt.speech_end)
			break;
		if (s->adaptive && s->wait_stale) {
			s->wait_ms = bt_endpoint_wait_ms(
				s->ep, s->partial, expected_type(s),
				bt_prosody_end_score(s->prosody), s->utt_ctx);
			if (s->turns.eagerness_pct)
				s->wait_ms = (uint32_t)((uint64_t)s->wait_ms *
					s->turns.eagerness_pct / 100);
			s->wait_stale = false;
			emit(s, BT_EV_WAIT, now_ms(s), NULL,
			     endpoint_why(s, false));
		}
		if (now_ms(s) - s->utt.speech_end >=
		    (s->adaptive ? s->wait_ms : s->end_silence_ms))
			endpoint(s);
		break;
	case BT_ST_THINKING:
	case BT_ST_SPEAKING:
		if (s->cand)
			check_barge_in(s);
		break;
	case BT_ST_LISTENING:
		if (s->idle_ms && !s->turns.manual &&
		    now_ms(s) - s->idle_since >= s->idle_ms) {
			struct bt_brain_input in;
			memset(&in, 0, sizeof(in));
			in.type = BT_BRAIN_IDLE;
			in.idle_count = ++s->idle_count;
			s->idle_since = now_ms(s);
			respond(s, REPLY_IDLE, &in);
		}
		break;
	default:
		break;
	}
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
	poll_job(s);
	r = s->reply;
	/* invariant: agent audio leaves only while SPEAKING */
	if (!r || s->state != BT_ST_SPEAKING || r->held)
		return false;
	/* the protected part has played: now the kept words cut in */
	if (s->has_pending && !s->cand && s->interruptible &&
	    r->protect_end && r->cursor >= r->protect_end) {
		deliver_pending(s);
		return false;
	}
	if (r->cursor < r->n) {
		k = r->n - r->cursor;
		if (k > BT_FRAME_SAMPLES)
			k = BT_FRAME_SAMPLES;
		memcpy(out, r->pcm + r->cursor, k * sizeof(int16_t));
		if (!r->audio_out) {
			r->audio_out = true;
			r->t_audio_out = now_ms(s);
		}
		r->cursor += k;
	}
	if (r->cursor >= r->n && !r->job && r->brain_done &&
	    r->planned == r->len)
		reply_finish(s, false);
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

static void end_call(struct bt_session *s, const char *reason)
{
	char *hist;
	json_t *o;

	if (s->state == BT_ST_ENDED || s->ending)
		return;
	s->ending = true;
	if (s->reply)
		reply_finish(s, true);
	if (s->stt_active)
		stt_end(s);
	set_state(s, BT_ST_ENDED);

	o = json_object();
	json_object_set_new(o, "reason", json_string(reason));
	hist = bt_session_history(s);
	json_object_set_new(o, "history", hist ? json_loads(hist, 0, NULL)
					       : json_array());
	mem_deref(hist);
	emit(s, BT_EV_ENDED, now_ms(s), reason, o);
}

void bt_session_set_interruptions(struct bt_session *s, bool on)
{
	if (s)
		s->interruptible = on;
}

void bt_session_end(struct bt_session *s, const char *reason)
{
	if (s)
		end_call(s, reason ? reason : "ended");
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
	return respond(s, REPLY_GREETING, &in);
}

/* ---- control by a transport (bt_session_set_turns and friends) ---- */

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

int bt_session_set_instructions(struct bt_session *s, const char *text)
{
	if (!s)
		return EINVAL;
	s->instructions = mem_deref(s->instructions);
	return text ? str_dup(&s->instructions, text) : 0;
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
	tts_hold_put(s->tts);
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
			s->utt.speech_end = now_ms(s);
		s->utt.endpoint = now_ms(s);
		stt_end(s);
		s->utt.stt_final = stamp(s);
		s->cand = false;
		if (s->reply && s->reply->held)
			s->reply->held = false;
	}
	else {
		s->has_pending = false;
		s->utt = s->pending;
	}
	if (s->state == BT_ST_USER_SPEAKING)
		set_state(s, BT_ST_LISTENING);
	if (s->reply && !s->turns.manual && !s->turns.no_respond)
		reply_end(s, "turn_detected");  /* the answer replaces it */
	/* with manual turns a commit never starts a reply by itself */
	user_turn(s, NULL);
	return 0;
}

void bt_session_clear(struct bt_session *s)
{
	if (!s || s->state == BT_ST_ENDED)
		return;
	if (s->stt_active) {
		stt_end(s);
		memset(&s->utt, 0, sizeof(s->utt));
	}
	s->has_pending = false;
	if (s->cand) {
		s->cand = false;
		resume(s, "input cleared");
	}
	if (s->state == BT_ST_USER_SPEAKING)
		set_state(s, BT_ST_LISTENING);
}

int bt_session_item_add(struct bt_session *s, enum bt_role role,
			const char *text, const char *id)
{
	struct hist *h;

	if (!s || !text)
		return EINVAL;
	if (strlen(text) >= MAX_TEXT)
		return bt_err(EMSGSIZE, "the item's text is %zu bytes; at most "
			      "%d are kept", strlen(text), MAX_TEXT - 1);
	if (id && hist_find(s, id))
		return bt_err(EEXIST, "an item with id \"%s\" is already in "
			      "the conversation", id);
	h = hist_add_id(s, role, text, id);
	if (!h)
		return role == BT_ROLE_USER && !text[0] ?
			bt_err(EINVAL, "a user item needs text") : ENOMEM;
	if (role == BT_ROLE_USER) {
		memset(&s->unanswered, 0, sizeof(s->unanswered));
		str_ncpy(s->unanswered.text, text,
			 sizeof(s->unanswered.text));
		s->unanswered.confidence = 1.0f;
		s->unanswered.speech_start = s->unanswered.speech_end =
			s->unanswered.endpoint = s->unanswered.stt_final =
			now_ms(s);
		str_ncpy(s->unanswered.item_id, h->id,
			 sizeof(s->unanswered.item_id));
		s->has_unanswered = true;
	}
	return 0;
}

const char *bt_session_last_item_id(const struct bt_session *s)
{
	return s && s->n_hist ? s->hist[s->n_hist - 1].id : NULL;
}

int bt_session_item_delete(struct bt_session *s, const char *id)
{
	struct hist *h = s ? hist_find(s, id) : NULL;
	size_t i;

	if (!h)
		return bt_err(ENOENT, "no item \"%s\" in the conversation",
			      id ? id : "");
	i = (size_t)(h - s->hist);
	hist_free(h);
	memmove(&s->hist[i], &s->hist[i + 1],
		(s->n_hist - i - 1) * sizeof(s->hist[0]));
	--s->n_hist;
	if (s->has_unanswered && !strcmp(s->unanswered.item_id, id))
		s->has_unanswered = false;
	return 0;
}

char *bt_session_item(const struct bt_session *s, const char *id)
{
	const struct hist *h = NULL;
	char *out = NULL, *js;
	json_t *o;

	for (size_t i = 0; s && id && i < s->n_hist; i++)
		if (!strcmp(s->hist[i].id, id))
			h = &s->hist[i];
	if (!h)
		return NULL;
	o = json_object();
	json_object_set_new(o, "id", json_string(h->id));
	json_object_set_new(o, "role", json_string(bt_role_name(h->role)));
	json_object_set_new(o, "text", json_string(h->text));
	json_object_set_new(o, "audio", json_boolean(h->audio));
	js = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(o);
	if (js) {
		str_dup(&out, js);
		free(js);
	}
	return out;
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
		return respond(s, REPLY_USER, &in);
	}
	if (!s->replies) {
		in.type = BT_BRAIN_START;
		return respond(s, REPLY_GREETING, &in);
	}
	/* nothing new from the user: the brain asks again */
	memset(&s->utt, 0, sizeof(s->utt));
	s->utt.speech_start = s->utt.speech_end = s->utt.endpoint =
		s->utt.stt_final = now_ms(s);
	in.type = BT_BRAIN_USER;
	in.text = "";
	return respond(s, REPLY_USER, &in);
}

int bt_session_cancel(struct bt_session *s)
{
	if (!s || !s->reply)
		return bt_err(ENOENT, "no reply is in progress");
	reply_end(s, "client_cancelled");
	if (s->state != BT_ST_ENDED && s->state != BT_ST_USER_SPEAKING)
		set_state(s, BT_ST_LISTENING);
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
		reply_end(s, "client_cancelled");
		if (s->state != BT_ST_ENDED && s->state !=
		    BT_ST_USER_SPEAKING)
			set_state(s, BT_ST_LISTENING);
		return 0;
	}
	h = hist_find(s, id);
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

int bt_session_say(struct bt_session *s, const char *text, bool end)
{
	struct bt_brain_done d = {end, NULL};
	struct reply *r;

	if (!s || !text || s->state == BT_ST_ENDED)
		return EINVAL;
	if (s->reply)
		reply_end(s, "client_cancelled");
	r = reply_alloc(s);
	if (!r)
		return ENOMEM;
	r->no = s->replies++;
	r->kind = REPLY_IDLE;
	new_item_id(s, r->item_id, sizeof(r->item_id));
	s->reply = r;
	set_state(s, BT_ST_THINKING);
	{
		json_t *o = json_object();
		json_object_set_new(o, "turn", json_integer(r->no));
		json_object_set_new(o, "kind", json_string("notice"));
		json_object_set_new(o, "audio", json_boolean(s->audio_out));
		emit_item(s, BT_EV_REPLY, now_ms(s), NULL, o, r->item_id);
	}
	reply_text(s, text);
	if (s->reply == r)
		reply_done(s, &d);
	return 0;
}

const char *bt_role_name(enum bt_role r)
{
	return r == BT_ROLE_USER ? "user" : r == BT_ROLE_TOOL ? "tool" :
		r == BT_ROLE_SYSTEM ? "system" : "assistant";
}

/* ---- set-up ---- */

static uint32_t cfg_ms(const json_t *agent, const char *sect, const char *key,
		       uint32_t def)
{
	const json_t *v = json_object_get(json_object_get(agent, sect), key);

	return json_is_integer(v) && json_integer_value(v) > 0
		       ? (uint32_t)json_integer_value(v) : def;
}

static const char *cfg_str(const json_t *agent, const char *sect,
			   const char *key, const char *def)
{
	const json_t *v = json_object_get(json_object_get(agent, sect), key);

	return json_is_string(v) ? json_string_value(v) : def;
}

static void session_destructor(void *arg)
{
	struct bt_session *s = arg;

	if (s->state != BT_ST_ENDED && s->brain)
		end_call(s, "closed");
	mem_deref(s->reply);
	/* late answers of an asynchronous brain find no session */
	for (struct le *le = s->tags.head; le; le = le->next)
		((struct resp_tag *)le->data)->s = NULL;
	mem_deref(s->brain);
	mem_deref(s->instructions);
	mem_deref(s->stt);
	tts_hold_put(s->tts);
	mem_deref(s->vad);
	mem_deref(s->aec);
	mem_deref(s->pitch);
	mem_deref(s->prosody);
	mem_deref(s->ep);
	json_decref(s->ov_why);
	mem_deref(s->rs_in);
	mem_deref(s->rs_out);
	for (size_t i = 0; i < s->n_hist; i++)
		hist_free(&s->hist[i]);
	mem_deref(s->agent);
}

/* Cap a set of waits at max_ms, keeping it ordered. */
static void waits_cap(struct bt_endpoint_waits *w, uint32_t max_ms)
{
	w->max_wait_ms = max_ms;
	if (w->incomplete_wait_ms > max_ms)
		w->incomplete_wait_ms = max_ms;
	if (w->base_wait_ms > w->incomplete_wait_ms)
		w->base_wait_ms = w->incomplete_wait_ms;
	if (w->min_wait_ms > w->base_wait_ms)
		w->min_wait_ms = w->base_wait_ms;
}

/* An agent file's endpoint waits (validated by the agent loader) over
 * the defaults in w; obj may be NULL. */
static void waits_read(const json_t *obj, struct bt_endpoint_waits *w)
{
	const struct {
		const char *key;
		uint32_t *dst;
	} f[] = {
		{"min_wait_ms", &w->min_wait_ms},
		{"base_wait_ms", &w->base_wait_ms},
		{"incomplete_wait_ms", &w->incomplete_wait_ms},
		{"max_wait_ms", &w->max_wait_ms},
		{"prosody_pct", &w->prosody_pct},
	};

	for (size_t i = 0; i < sizeof(f) / sizeof(f[0]); i++) {
		const json_t *v = json_object_get(obj, f[i].key);

		if (v)
			*f[i].dst = (uint32_t)json_integer_value(v);
	}
}

int bt_session_alloc(struct bt_session **sp, struct bt_agent *agent,
		     const struct bt_session_prm *prm, bt_event_h *eh,
		     void *arg)
{
	struct bt_session_prm def;
	const json_t *aj;
	const struct bt_stt *stt;
	const struct bt_vad *vad;
	const struct bt_brain *brain;
	struct bt_stt_grammar *gr = NULL, *gr2 = NULL;
	const char **phr = NULL;
	size_t n_gr = 0;
	struct bt_stt_prm sprm;
	struct bt_tts_prm tprm;
	struct bt_brain_ctx ctx;
	struct bt_session *s;
	const json_t *persona;
	int err;

	if (!sp || !agent)
		return bt_err(EINVAL, "bt_session_alloc: no agent given");
	if (!prm) {
		bt_session_prm_default(&def);
		prm = &def;
	}
	aj = bt_agent_json(agent);

	s = mem_zalloc(sizeof(*s), session_destructor);
	if (!s)
		return ENOMEM;
	s->agent = mem_ref(agent);
	{
		static atomic_uint uids;
		s->uid = atomic_fetch_add(&uids, 1) + 1;
	}
	s->eh = eh;
	s->arg = arg;
	s->rate_hz = prm->rate_hz ? prm->rate_hz : BT_RATE_HZ;
	s->realtime = prm->realtime;
	s->state = BT_ST_LISTENING;
	if (prm->id)
		str_ncpy(s->id, prm->id, sizeof(s->id));
	else
		snprintf(s->id, sizeof(s->id), "s%u-%ld", s->uid,
			 (long)time(NULL));
	str_ncpy(s->db_path, prm->db_path ? prm->db_path : "banter.db",
		 sizeof(s->db_path));

	if (s->rate_hz % 50 || s->rate_hz < 8000 || s->rate_hz > 48000) {
		err = bt_err(EINVAL, "unsupported audio rate %u Hz; use 8000 "
			     "to 48000 Hz in steps of 50", s->rate_hz);
		goto out;
	}
	if (s->rate_hz != BT_RATE_HZ) {
		err = bt_resampler_alloc(&s->rs_in, s->rate_hz, BT_RATE_HZ);
		err |= bt_resampler_alloc(&s->rs_out, BT_RATE_HZ, s->rate_hz);
		if (err)
			goto out;
	}

	s->end_silence_ms = cfg_ms(aj, "turn", "end_silence_ms", 400);
	s->barge_in_min_ms = cfg_ms(aj, "turn", "barge_in_min_ms", 300);
	s->idle_ms = cfg_ms(aj, "turn", "idle_ms", 7000);
	s->interruptible = !json_is_false(json_object_get(
		json_object_get(aj, "turn"), "interruptions"));
	s->adaptive = strcmp(cfg_str(aj, "turn", "endpointing", "adaptive"),
			     "fixed") != 0;

	vad = bt_vad_find(cfg_str(aj, "vad", "provider", "energy"));
	stt = bt_stt_find(cfg_str(aj, "stt", "provider", "pocketsphinx"));
	brain = bt_brain_find(cfg_str(aj, "brain", "provider", "flow"));
	if (!vad || !stt || !brain) {
		err = bt_err(ENOENT, "the agent names a provider that is not "
			     "registered (vad, stt or brain); call bt_init() "
			     "first and check the agent file");
		goto out;
	}

	err = bt_vadseg_alloc(&s->vad, vad, NULL);
	if (err)
		goto out;
	if (prm->aec) {
		err = bt_aec_alloc(&s->aec, BT_RATE_HZ, 0);
		if (!err && prm->aec_delay_ms)
			err = bt_aec_set_ref_delay_ms(s->aec, prm->aec_delay_ms);
		if (err)
			goto out;
	}
	{
		struct bt_endpoint_prm eprm;
		const json_t *t = json_object_get(aj, "turn");
		const json_t *v;

		bt_endpoint_prm_default(&eprm);
		if ((v = json_object_get(t, "max_wait_ms"))) {
			/* the cap holds in every situation unless a set has
			 * its own; defaults above it come down to it */
			uint32_t cap = (uint32_t)json_integer_value(v);

			waits_cap(&eprm.listening, cap);
			waits_cap(&eprm.speaking, cap);
			waits_cap(&eprm.thinking, cap);
		}
		waits_read(t, &eprm.listening);
		waits_read(json_object_get(t, "speaking"), &eprm.speaking);
		waits_read(json_object_get(t, "thinking"), &eprm.thinking);
		err = bt_pitch_alloc(&s->pitch);
		if (!err)
			err = bt_prosody_alloc(&s->prosody);
		if (!err)
			err = bt_endpoint_alloc(&s->ep, &eprm);
		if (err)
			goto out;
	}

	if (brain->grammarsh) {
		err = brain->grammarsh(aj, &gr, &n_gr);
		if (err)
			goto out;
	}
	if (n_gr > 64) {
		err = bt_err(E2BIG, "the agent needs %zu STT grammars; at most "
			     "64 are supported", n_gr);
		goto out;
	}
	/*
	 * Every grammar also knows the backchannels, so that a "mhm" over
	 * the agent's speech is heard as one rather than forced onto an
	 * answer ("and a three").
	 */
	gr2 = mem_zalloc(n_gr * sizeof(*gr2) + 1, NULL);
	phr = mem_zalloc((n_gr ? n_gr : 1) * 64 * sizeof(*phr), NULL);
	if (!gr2 || !phr) {
		err = ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < n_gr; i++) {
		const char **p = phr + i * 64;
		size_t k = 0;

		gr2[i] = gr[i];
		for (size_t j = 0; j < gr[i].n_phrases && k < 64; j++)
			p[k++] = gr[i].phrases[j];
		for (size_t j = 0; j < sizeof(gram_backchannels) /
				       sizeof(gram_backchannels[0]) && k < 64; j++)
			p[k++] = gram_backchannels[j];
		gr2[i].phrases = p;
		gr2[i].n_phrases = k;
		str_ncpy(s->gram[s->n_gram].name, gr[i].name,
			 sizeof(s->gram[0].name));
		s->gram[s->n_gram++].type = gr[i].type;
	}
	sprm.grammars = gr2;
	sprm.n_grammars = n_gr;
	err = stt->alloch(&s->stt, &sprm);
	if (err)
		goto out;

	bt_tts_prm_default(&tprm);
	persona = json_object_get(aj, "persona");
	if (json_is_integer(json_object_get(persona, "rate_wpm")))
		tprm.rate_wpm = (uint32_t)json_integer_value(
			json_object_get(persona, "rate_wpm"));
	if (json_is_integer(json_object_get(persona, "pitch")))
		tprm.pitch = (uint32_t)json_integer_value(
			json_object_get(persona, "pitch"));
	s->tts_prm = tprm;
	s->audio_out = true;
	s->tts = calloc(1, sizeof(*s->tts));
	if (!s->tts) {
		err = ENOMEM;
		goto out;
	}
	atomic_init(&s->tts->refs, 1);
	err = bt_tts_open(&s->tts->tts, bt_agent_voice(agent), &tprm);
	if (err)
		goto out;

	ctx.db_path = s->db_path;
	ctx.session_id = s->id;
	err = brain->alloch(&s->brain, aj, &ctx);
	if (err)
		goto out;

 out:
	mem_deref(gr2);
	mem_deref(phr);
	mem_deref(gr);
	if (err)
		mem_deref(s);
	else
		*sp = s;
	return err;
}
