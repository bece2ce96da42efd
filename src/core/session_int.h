/**
 * @file session_int.h  The session's insides, shared by the files that
 *                      make it up (private to src/core, src/speech and
 *                      src/turn's session parts):
 *   core/session.c     the call: clock, state, events, the frame path,
 *                      set-up
 *   core/history.c     the conversation items
 *   core/control.c     what a transport asks for (turns, commit, cancel,
 *                      truncate, voice, instructions)
 *   turn/turn.c        the turn manager: speech start and end, end of
 *                      turn, barge-in, backchannels, kept words
 *   speech/reply.c     replies: the brain's sink, the speech planner, TTS
 *                      jobs and the reply's audio with its playback cursor
 * All of it runs on the session's thread.
 */
#ifndef BT_CORE_SESSION_INT_H
#define BT_CORE_SESSION_INT_H

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
	ONSET_HOLD_MS = 300,       /* an onset pending longer is noise */
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

enum reply_kind { REPLY_GREETING, REPLY_USER, REPLY_IDLE, REPLY_TRANSFER };

/* Recording with consent (core/consent.c): where the call is. */
enum consent_st {
	CONSENT_NONE = 0,   /* the agent does not record */
	CONSENT_PENDING,    /* the notice has not begun */
	CONSENT_NOTICE,     /* the notice plays */
	CONSENT_WAIT,       /* listening for the caller's answer */
	CONSENT_DONE,       /* decided (recording or not) */
};
#define CONSENT_GRAMMAR "recording_consent"

struct utt {
	char text[512];
	float confidence;
	uint64_t speech_start, speech_end, endpoint, stt_final;
	char item_id[24];
	bool typed;          /* a typed message: no voice to time from */
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
	char transfer_to[256];   /* transfer the caller once it has played */
	char grammar[64];
	char model[160];  /* which model answered (LLM brains) */
	bool has_grammar;
	int16_t *pcm;
	size_t n, cap, cursor;
	struct word *words;
	size_t n_words, words_cap;
	struct synth_job *job;
	/* a network voice's sentence in flight (streamed on the loop) */
	struct bt_tts_stream *stream;
	struct bt_resampler *stream_rs;
	uint32_t stream_rate;
	size_t stream_base;      /* where its audio begins in pcm */
	char stream_text[1024];
	bool stream_protect, stream_audio;
	bool stream_timed;       /* the provider gave its word timings */
	uint64_t t_first_text, t_first_audio, t_audio_out;
	bool audio_out;
	/* wall clock (real time only), because the media clock above runs
	 * a late loop's frames back to back and so hides its lateness: the
	 * first text and the first sentence handed to the voice, and from
	 * each the ms to the first frame sent (-1: not yet) */
	struct timespec wall_text, wall_sentence;
	int32_t text_to_out_ms, sentence_to_out_ms;
	bool held;               /* paused: the user may be interrupting */
	/* an uninterruptible segment: its text range, then its audio end */
	size_t unint_from, unint_to;
	bool unint_open;
	size_t protect_end;      /* samples; user speech cannot stop these */
	bool filled;             /* a filler was said (once per reply) */
	bool filler_now;         /* the sentence being submitted is it */
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
	bool interrupted;  /* an assistant item cut by the user */
	char *tool;        /* a tool item: {"name","args","result"} */
};

struct bt_session {
	struct bt_agent *agent;
	bt_event_h *eh;
	void *arg;
	bt_ready_h *readyh;        /* a reply's first audio came */
	void *ready_arg;
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
	bool stt_turns;            /* the recogniser's turn events end turns
				      (Flux), while it works */
	bool eager_hold;           /* a reply started on the recogniser's
				      "probably done" (Flux EagerEndOfTurn):
				      its audio waits for EndOfTurn */

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
	/* what the agent's last reply asks for, where no grammar says
	 * (bt_complete_asked): the endpointer's expected type */
	enum bt_slot_type asked;
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
	struct prerender *pre;     /* a network voice's fillers being
				      rendered ahead (speech/prerender.c) */
	/* a network voice's stand-ins (persona.fallback_voice), in order:
	 * voice_at 0 is tts, k is tts_fb[k - 1]; each failure moves on */
	struct tts_hold *tts_fb[BT_VOICE_CHAIN_MAX];
	char fb_names[BT_VOICE_CHAIN_MAX][80];
	size_t n_fb;
	size_t voice_at;
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
	char *tools;               /* a transport's function tools (JSON) */
	char caller_id[128];       /* who calls ("" unknown) */
	unsigned uid;              /* process-wide number, for item ids */
	bool ending;

	/* what a transport asked for (bt_session_set_turns and friends) */
	struct bt_session_turns turns;
	uint32_t playout_delay_ms; /* the transport's audio not played yet */
	bool final_wait;           /* the turn ended; its transcript comes
				      from the recogniser later */
	json_t *final_why;         /* ... and why it ended, for then */
	bool audio_out;            /* replies are spoken (else text only) */
	struct utt unanswered;     /* a user item no reply has answered yet */
	bool has_unanswered;

	/* recording with consent (core/consent.c) */
	struct rec *rec;           /* NULL: not recording (or declined) */
	enum consent_st consent;
	uint64_t consent_until;    /* the answer window ends (CONSENT_WAIT) */
	char greet_prefix[1024];   /* said before the greeting (declined) */

	/* a transfer of the caller (core/transfer.c) */
	bt_transfer_h *xferh;      /* NULL: the transport cannot transfer */
	void *xfer_arg;
	bool transferring;         /* asked; the transport's answer pending */
	char xfer_to[256];
};

/* ---- across the session's files ---- */
void ss_stt_final(const struct bt_transcript *tr, void *arg);
/* session.c: the recogniser's words so far (bt_stt_prm.partialh) */
void ss_on_partial(const char *text, void *arg);
void ss_reply_plan(struct bt_session *s);
int ss_voice_open_chain(struct bt_session *s, const json_t *fb,
			const struct bt_tts_prm *prm);
void ss_voice_sentence(struct bt_session *s, const char *text, size_t n,
		       bool protect);
/* The brain's fillers rendered ahead into the sentence cache
 * (speech/prerender.c); a network voice's go once the reply on its way
 * has its audio: _next is called when that may have changed. */
void ss_voice_prerender(struct bt_session *s, const char *const *lines,
			size_t n);
void ss_voice_prerender_next(struct bt_session *s);
bool ss_voice_ready(struct bt_session *s, const char *text, size_t n);
void ss_stt_fail(int err, const char *msg, void *arg);
void ss_stt_turn(enum bt_stt_turn_ev ev, const char *text, void *arg);
size_t ss_reply_played(const struct bt_session *s, const struct reply *r);
struct tts_hold *ss_tts_hold_get(struct tts_hold *h);
void ss_tts_hold_put(struct tts_hold *h);
uint64_t ss_now_ms(const struct bt_session *s);
uint64_t ss_stamp(const struct bt_session *s);
void ss_emit_item(struct bt_session *s, enum bt_event_type type,
		      uint64_t t, const char *text, json_t *obj,
		      const char *item_id);
void ss_emit(struct bt_session *s, enum bt_event_type type, uint64_t t,
		 const char *text, json_t *obj);
void ss_new_item_id(struct bt_session *s, char *buf, size_t sz);
void ss_set_state(struct bt_session *s, enum bt_state st);
void ss_error_event(struct bt_session *s, const char *what);
void ss_hist_free(struct hist *h);
struct hist *ss_hist_add_id(struct bt_session *s, enum bt_role role,
				const char *text, const char *id);
struct hist *ss_hist_find(struct bt_session *s, const char *id);
void ss_hist_drop_user(struct bt_session *s, const char *text);
void ss_reply_finish(struct bt_session *s, bool barged);
void ss_hist_keep_words(struct hist *h, const struct reply *r);
void ss_reply_end(struct bt_session *s, const char *why);
void ss_poll_job(struct bt_session *s);
int ss_respond(struct bt_session *s, enum reply_kind kind,
		   const struct bt_brain_input *in);
enum bt_slot_type ss_expected_type(const struct bt_session *s);
void ss_stt_end(struct bt_session *s);
void ss_user_turn(struct bt_session *s, json_t *why);
json_t *ss_endpoint_why(const struct bt_session *s, bool ended);
void ss_endpoint(struct bt_session *s);
void ss_resume(struct bt_session *s, const char *why);
void ss_deliver_pending(struct bt_session *s);
void ss_on_speech_start(struct bt_session *s, uint64_t onset);
void ss_on_speech_end(struct bt_session *s, uint64_t end);
void ss_overlap_decide(struct bt_session *s);
void ss_check_barge_in(struct bt_session *s);
void ss_prehold_check(struct bt_session *s);
void ss_end_call(struct bt_session *s, const char *reason);
int ss_say(struct bt_session *s, const char *text, bool end, bool protect,
	   const char *grammar);

/* core/consent.c */
int ss_consent_grammar(const struct bt_session *s, struct bt_stt_grammar *g);
int ss_consent_alloc(struct bt_session *s);
bool ss_consent_start(struct bt_session *s);
void ss_consent_notice_done(struct bt_session *s);
void ss_consent_answer(struct bt_session *s, const char *text);
bool ss_consent_tick(struct bt_session *s);
void ss_consent_end(struct bt_session *s);
void ss_consent_check_io(struct bt_session *s);
const char *ss_reply_kind_name(enum reply_kind kind);
void ss_transfer_start(struct bt_session *s, const char *to);

#endif
