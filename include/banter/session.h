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
};

struct bt_event {
	enum bt_event_type type;
	uint64_t t_ms;    /**< media clock */
	const char *text; /**< may be NULL */
	const char *json; /**< the whole event as one JSON object (trace line) */
};

/** Called on the session's thread; pointers valid during the call only. */
typedef void (bt_event_h)(const struct bt_event *ev, void *arg);

struct bt_session_prm {
	uint32_t rate_hz;    /**< caller/agent audio rate (0 = 16000) */
	bool realtime;       /**< synthesis on a worker (compute time counts) */
	const char *db_path; /**< SQLite file for tools (0 = "banter.db") */
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

/** End the call (reason for the trace). */
void bt_session_end(struct bt_session *s, const char *reason);

/** Library set-up: registers the built-in providers. Call once. */
int bt_init(void);
void bt_close(void);

#endif
