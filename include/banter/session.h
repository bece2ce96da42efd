/**
 * @file session.h  A call: caller audio in, agent audio and events out.
 *
 * A session belongs to the thread that allocates it; push, pull and end
 * must be called from that thread, and the event handler is called from
 * it, inside those calls. Nothing here blocks for long in real-time mode:
 * speech synthesis runs on a worker thread and comes back as a message.
 */
#ifndef BANTER_SESSION_H
#define BANTER_SESSION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct bt_agent;
struct bt_session;

enum bt_state {
	BT_ST_LISTENING = 0, /**< waiting for the user */
	BT_ST_USER_SPEAKING, /**< the user is talking (agent silent) */
	BT_ST_THINKING,      /**< end of turn detected; reply being made */
	BT_ST_SPEAKING,      /**< agent audio is leaving */
	BT_ST_ENDED,
};
const char *bt_state_name(enum bt_state s);

enum bt_event_type {
	BT_EV_STATE = 0,    /**< text: new state name */
	BT_EV_SPEECH_START, /**< user speech started (VAD) */
	BT_EV_SPEECH_END,   /**< user speech ended (VAD) */
	BT_EV_PARTIAL,      /**< text: partial transcript */
	BT_EV_USER,         /**< text: final user transcript of a turn */
	BT_EV_AGENT,        /**< text: a sentence the agent is about to say */
	BT_EV_AGENT_DONE,   /**< text: what the user heard of the reply */
	BT_EV_BARGE_IN,     /**< text: what the user heard before stopping */
	BT_EV_BACKCHANNEL,  /**< text: a backchannel that did not stop agent */
	BT_EV_TURN,         /**< json: the per-turn trace object */
	BT_EV_TOOL,         /**< json: tool name, args, result */
	BT_EV_ERROR,        /**< text: what went wrong (session goes on) */
	BT_EV_ENDED,        /**< text: why the call ended */
	BT_EV_PAUSED,       /**< agent audio paused: the user may interrupt */
	BT_EV_RESUMED,      /**< text: why the agent went on after a pause */
	BT_EV_KEPT,         /**< text: words said over an uninterruptible
				 segment, answered when it has played */
	BT_EV_WAIT,         /**< json: the endpointer's decision after the
				 user's speech stopped: how long a silence
				 ends the turn, and why */
	BT_EV_FUNCTION_CALL, /**< json: the brain calls a transport's function
				  tool (call_id, name, arguments); item_id:
				  its function_call item. The transport runs
				  it and answers with bt_session_function_add
				  (output) and bt_session_respond */
	BT_EV_REPLY,        /**< json: a reply begins (turn, kind:
				 "greeting" | "reply" | "idle", audio);
				 item_id: its assistant item */
	BT_EV_RECORDING,    /**< json: the caller's answer to the recording
				 notice (consent: "given" | "declined" |
				 "not_given", answer: "words" | "digit" |
				 "silence", path: the WAV when recording) */
	BT_EV_TRANSFER,     /**< text: the target; json: to, status
				 ("started", "transferred", "failed") and
				 reason (failed) */
};

/** Who said a conversation item. */
enum bt_role {
	BT_ROLE_USER = 0,
	BT_ROLE_ASSISTANT,
	BT_ROLE_TOOL,    /**< a tool's output */
	BT_ROLE_SYSTEM,
};
const char *bt_role_name(enum bt_role r);

struct bt_event {
	enum bt_event_type type;
	uint64_t t_ms;    /**< media clock */
	const char *text; /**< may be NULL */
	const char *json; /**< the whole event as one JSON object (trace line) */
	const char *item_id; /**< the conversation item it is about (USER:
				  the user's; REPLY, AGENT, AGENT_DONE,
				  BARGE_IN: the reply's), else NULL */
};

/** Called on the session's thread; pointers valid during the call only. */
typedef void (bt_event_h)(const struct bt_event *ev, void *arg);

struct bt_session_prm {
	uint32_t rate_hz;    /**< caller/agent audio rate (0 = 16000) */
	uint32_t codec_rate_hz; /**< the caller's audio as it came, before a
				     transport resampled it (8000: a phone
				     codec, whose recogniser the agent's
				     "stt.narrowband" may name); 0: rate_hz */
	bool realtime;       /**< synthesis on a worker (compute time counts) */
	const char *db_path; /**< SQLite file for tools (0 = "banter.db") */
	const char *caller_id; /**< who calls (a phone number, a user id):
				    the brain's memory of earlier calls is
				    kept by it; 0: unknown */
	const char *id;      /**< session id for logs (0 = generated) */
	bool aec;            /**< cancel the echo of the agent's own voice in
				  the caller audio (speakerphone, sound card) */
	uint32_t aec_delay_ms; /**< output latency of the transport: how long
				    after a pull its audio is heard */
};
void bt_session_prm_default(struct bt_session_prm *prm);

/**
 * Open a session for an agent. The STT decoder and TTS voice are made
 * here, before the call. Free with mem_deref() (ends the call if needed).
 */
int bt_session_alloc(struct bt_session **sp, struct bt_agent *agent,
		     const struct bt_session_prm *prm, bt_event_h *eh,
		     void *arg);

/** Samples per 20 ms frame at the session's rate. */
size_t bt_session_frame_samples(const struct bt_session *s);

/** Start the call: the agent greets. */
int bt_session_start(struct bt_session *s);

/**
 * Push one frame of caller audio (bt_session_frame_samples samples) and
 * advance the media clock by 20 ms.
 */
int bt_session_push(struct bt_session *s, const int16_t *pcm, size_t n);

/**
 * Take one frame of agent audio for the same 20 ms (silence when the
 * agent is quiet). *speechp (may be NULL) says if it holds agent speech.
 */
int bt_session_pull(struct bt_session *s, int16_t *pcm, size_t n,
		    bool *speechp);

/** Media clock now, in ms. */
uint64_t bt_session_now_ms(const struct bt_session *s);
enum bt_state bt_session_state(const struct bt_session *s);
/**
 * Whether the reply in progress still waits for its brain (an answer, a
 * tool or a retry over the network): true even while a filler plays. A
 * driver with a virtual clock keeps serving the network meanwhile.
 */
bool bt_session_waiting(const struct bt_session *s);

/**
 * The conversation so far as a JSON array of {"role","text"} objects
 * ("user" / "assistant"); an interrupted assistant line holds only the
 * words the user heard. Returns a mem_alloc'd string owned by the caller.
 */
char *bt_session_history(const struct bt_session *s);

/**
 * Let the user interrupt the agent (the default, or the agent file's
 * "turn.interruptions") or not: with interruptions off, what the user
 * says while the agent talks is kept and answered after the reply.
 */
void bt_session_set_interruptions(struct bt_session *s, bool on);

/* ---- control by a transport (the Realtime server, a phone line) ----
 * All on the session's thread, like push and pull. */

#define BT_IDLE_OFF UINT32_MAX

/** How turns are taken; all zero: as the agent file says. */
struct bt_session_turns {
	bool manual;          /**< the transport ends turns (commit); no
				   barge-in, no idle prompts */
	bool no_respond;      /**< a finished turn waits for respond() */
	bool no_interrupt;    /**< speech over the agent never stops it */
	uint32_t silence_ms;  /**< > 0: a fixed silence ends a turn instead
				   of the adaptive endpointer */
	uint32_t eagerness_pct; /**< adaptive waits scaled (0: 100 %) */
	uint32_t idle_ms;     /**< silence before "are you still there?"
				   (0: the agent's, BT_IDLE_OFF: never) */
	float vad_threshold;  /**< 0: the default */
	uint32_t prefix_ms;   /**< audio kept before speech (0: default) */
};
int bt_session_set_turns(struct bt_session *s,
			 const struct bt_session_turns *t);

/** Send events to another handler from now on (NULL: none). */
void bt_session_set_handler(struct bt_session *s, bt_event_h *eh, void *arg);

/** Who calls, when the transport learns it after the session began
 *  (bt_session_prm.caller_id); NULL clears. */
int bt_session_set_caller_id(struct bt_session *s, const char *id);

/** Instructions for the brain (an LLM's system prompt); NULL clears. */
int bt_session_set_instructions(struct bt_session *s, const char *text);

/**
 * The transport's own function tools, which an LLM brain may call besides
 * the agent's (a Realtime client's session.tools: a JSON array of
 * {"type": "function", "name", "description", "parameters"}); NULL
 * clears. A call to one is a BT_EV_FUNCTION_CALL event.
 */
int bt_session_set_tools(struct bt_session *s, const char *tools_json);

/**
 * Add a function call (output NULL: the model asked for name(args)) or
 * its output (name, args NULL) to the conversation, as a Realtime
 * client's function_call / function_call_output items. id: the item's
 * (unique) or NULL for a new one.
 */
int bt_session_function_add(struct bt_session *s, const char *call_id,
			    const char *name, const char *args,
			    const char *output, const char *id);

/**
 * How much agent audio the transport holds that has not been played yet
 * (a sound card's queue). What the user heard of a reply, in the history
 * when it is cut, ends that much before the audio pulled. 0 for transports
 * that send audio at the pace it plays (RTP, the Realtime server).
 */
void bt_session_set_playout_delay(struct bt_session *s, uint32_t ms);

/**
 * A reply's first audio is ready between two frames. h runs on the
 * session's thread from inside the session: it must not push or pull,
 * only schedule a pull (a zero timer). A transport that sends audio as
 * it comes (the Realtime server: the client queues it) pulls a frame
 * then, so the reply's first words do not wait up to a frame for its
 * next tick, and goes on at its tick (one frame ahead until the reply
 * ends). One whose packets keep a fixed clock (RTP) gains nothing.
 */
typedef void (bt_ready_h)(void *arg);
void bt_session_set_ready_handler(struct bt_session *s, bt_ready_h *h,
				  void *arg);

/** Speak replies (the default) or give them as text only. */
void bt_session_set_audio_out(struct bt_session *s, bool on);

/**
 * Use another voice ("provider:voice") from the next sentence on, at
 * speed_pct percent of the persona's rate (0: unchanged).
 */
int bt_session_set_voice(struct bt_session *s, const char *voice,
			 uint32_t speed_pct);

/**
 * End the user's turn now with what was heard since it began (the
 * manual-turn commit). ENOENT when no speech was heard.
 */
int bt_session_commit(struct bt_session *s);
/** Forget the user's speech in progress (no item is made). */
void bt_session_clear(struct bt_session *s);

/**
 * Add an item to the conversation: a typed user message (the text
 * fallback; answered by the next bt_session_respond), an assistant line
 * or a tool output. id: the caller's (unique) or NULL for a new one.
 */
int bt_session_item_add(struct bt_session *s, enum bt_role role,
			const char *text, const char *id);
/** The id of the newest item (valid until the history changes). */
const char *bt_session_last_item_id(const struct bt_session *s);
int bt_session_item_delete(struct bt_session *s, const char *id);
/** One item as JSON {id, role, text, audio}; mem_alloc'd, NULL if none. */
char *bt_session_item(const struct bt_session *s, const char *id);

/**
 * Start a reply now: to the newest unanswered user item, else the
 * greeting, else the brain asks again. EBUSY while a reply is active.
 */
int bt_session_respond(struct bt_session *s);
/** Stop the active reply; its item keeps what was heard. ENOENT: none. */
int bt_session_cancel(struct bt_session *s);
/**
 * The user heard only the first audio_end_ms of assistant item id: its
 * text in the history is cut to the words that ended by then (an active
 * reply stops there).
 */
int bt_session_truncate(struct bt_session *s, const char *id,
			uint32_t audio_end_ms);

/** The item id of the user's utterance being heard (or last heard). */
const char *bt_session_utt_item_id(const struct bt_session *s);

/**
 * Say text now, not from the brain (a notice such as the server's
 * goodbye), replacing any reply in progress; end the call after it has
 * played if end is set.
 */
int bt_session_say(struct bt_session *s, const char *text, bool end);

/**
 * Transfer the caller to target (a sip:, sips: or tel: URI, or a number
 * of digits with an optional +), as the brain asked once the line that
 * announced it has played. The transport starts it and answers with
 * bt_session_transfer_done, at once or later. Session's thread.
 */
typedef void (bt_transfer_h)(struct bt_session *s, const char *target,
			     void *arg);

/**
 * The transport can transfer calls (a SIP REFER); h NULL: it cannot (the
 * default), and a transfer the brain asks for fails at once with "not
 * possible on this connection", which the brain is told.
 */
void bt_session_set_transfer(struct bt_session *s, bt_transfer_h *h,
			     void *arg);

/**
 * The outcome of the transfer started by bt_transfer_h: err 0, the caller
 * is with the target and the call ends ("transferred"); else the brain is
 * told reason ("603 Decline") and the conversation goes on.
 */
void bt_session_transfer_done(struct bt_session *s, int err,
			      const char *reason);

/** End the call (reason for the trace). */
void bt_session_end(struct bt_session *s, const char *reason);

/** Library set-up: registers the built-in providers. Call once. */
int bt_init(void);
void bt_close(void);

#endif
