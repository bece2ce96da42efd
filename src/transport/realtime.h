/**
 * @file realtime.h  The OpenAI Realtime protocol (GA event names) over a
 *                   banter session (private to libbanter and its programs).
 *
 * Two halves: the decoder turns one client event (a WebSocket text
 * message) into a checked struct or a protocol error, with no session and
 * no I/O, so it can be fuzzed alone; the protocol session (struct bt_rt)
 * lives on one event loop and drives a bt_session from decoded events,
 * answering with server events through a send handler.
 */
#ifndef BT_TRANSPORT_REALTIME_H
#define BT_TRANSPORT_REALTIME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <re.h>
#include "json.h"

enum {
	BT_RT_MAX_MESSAGE = 128 * 1024,  /* libre 1.1's WebSocket frame cap */
};

enum bt_rt_type {
	BT_RT_SESSION_UPDATE = 0,
	BT_RT_AUDIO_APPEND,
	BT_RT_AUDIO_COMMIT,
	BT_RT_AUDIO_CLEAR,
	BT_RT_ITEM_CREATE,
	BT_RT_ITEM_RETRIEVE,
	BT_RT_ITEM_TRUNCATE,
	BT_RT_ITEM_DELETE,
	BT_RT_RESPONSE_CREATE,
	BT_RT_RESPONSE_CANCEL,
	BT_RT_OUTPUT_AUDIO_CLEAR,
};

enum bt_rt_fmt {
	BT_RT_FMT_NONE = 0,  /* not given */
	BT_RT_FMT_PCM24,     /* audio/pcm, 24 kHz mono 16-bit LE */
	BT_RT_FMT_PCMU,      /* audio/pcmu, 8 kHz G.711 mu-law */
	BT_RT_FMT_PCMA,      /* audio/pcma, 8 kHz G.711 A-law */
};

enum bt_rt_td {
	BT_RT_TD_KEEP = 0,   /* not given */
	BT_RT_TD_NONE,       /* null: manual turns */
	BT_RT_TD_SERVER_VAD,
	BT_RT_TD_SEMANTIC_VAD,
};

/** A session.update, only what was given (the rest is left as it is). */
struct bt_rt_session_cfg {
	const char *instructions;      /* NULL: not given */
	int text_only;                 /* -1 not given, 0 audio, 1 text */
	enum bt_rt_fmt in_fmt, out_fmt;
	const char *voice;             /* NULL: not given */
	double speed;                  /* 0: not given */
	enum bt_rt_td td;
	double threshold;              /* < 0: not given */
	int prefix_padding_ms, silence_duration_ms; /* < 0: not given */
	int create_response, interrupt_response;    /* -1: not given */
	int64_t idle_timeout_ms;       /* -1 not given, 0 null */
	const char *eagerness;         /* NULL: not given */
	int transcription;             /* -1 not given, 0 null, 1 on */
	const json_t *tools;           /* borrowed from the event */
	const char *model;
	const char *caller_id;         /* session.metadata.user_id, or NULL */
};

struct bt_rt_event {
	enum bt_rt_type type;
	const char *event_id;          /* the client's, or NULL */
	json_t *root;                  /* owns every string below */
	struct bt_rt_session_cfg cfg;  /* SESSION_UPDATE */
	const char *audio;             /* AUDIO_APPEND: base64 */
	size_t audio_len;
	/* ITEM_CREATE */
	const char *previous_item_id;
	const char *item_id;           /* also RETRIEVE, TRUNCATE, DELETE */
	const char *item_type;         /* "message" | "function_call_output"
					  | "function_call" */
	const char *role;              /* message: user | assistant | system */
	const char *text;              /* message text, or the output */
	const char *call_id;           /* function_call(_output) */
	int64_t audio_end_ms;          /* TRUNCATE */
	int content_index;
	/* RESPONSE_CREATE */
	const char *conversation;      /* "auto" | "none" | NULL */
	int resp_text_only;            /* -1 not given */
	const char *response_id;       /* RESPONSE_CANCEL, NULL: current */
};

/** A protocol error: the error event's fields. */
struct bt_rt_error {
	const char *type;    /* "invalid_request_error" */
	const char *code;    /* e.g. "unknown_event", NULL */
	char message[512];
	char param[128];
	const char *event_id;
};

/**
 * Decode one client event. On success fills ev (free with
 * bt_rt_event_free) and returns 0; on error fills er (whose event_id
 * points into nothing that needs freeing: it is copied) and returns
 * EPROTO / EINVAL.
 */
int bt_rt_decode(const char *text, size_t len, struct bt_rt_event *ev,
		 struct bt_rt_error *er, char *evid_buf, size_t evid_sz);
void bt_rt_event_free(struct bt_rt_event *ev);

/** Base64 (standard alphabet, padding optional) into out; size checked. */
int bt_rt_b64_decode(const char *in, size_t n, uint8_t *out, size_t *outn);

/*
 * A batch of server events in one mbuf, each as a 32-bit length and its
 * JSON text: what one tick hands to the socket's loop in one message.
 */
static inline int bt_rt_batch_add(struct mbuf *mb, const char *json,
				  size_t len)
{
	uint32_t n = (uint32_t)len;
	int err = mbuf_write_mem(mb, (const uint8_t *)&n, sizeof(n));

	return err ? err : mbuf_write_mem(mb, (const uint8_t *)json, len);
}

/** The next event of a batch read from mb->pos; false at the end. */
static inline bool bt_rt_batch_next(struct mbuf *mb, const char **json,
				    size_t *len)
{
	uint32_t n;

	if (mbuf_get_left(mb) < sizeof(n))
		return false;
	(void)mbuf_read_mem(mb, (uint8_t *)&n, sizeof(n));
	if (mbuf_get_left(mb) < n)
		return false;
	*json = (const char *)mbuf_buf(mb);
	*len = n;
	mb->pos += n;
	return true;
}

/* ---- the protocol session ---- */

struct bt_rt;
struct bt_agent;
struct bt_session;
struct bt_event;

/** One server event (JSON text), to send in order. Loop thread. */
typedef void (bt_rt_send_h)(const char *json, size_t len, void *arg);
/** The session wants the connection closed (code, reason). */
typedef void (bt_rt_close_h)(uint16_t code, const char *reason, void *arg);

/** Events sent outside the loop's tick (a reply's first audio, sent as
 *  it comes) are complete: a transport that batches them per tick sends
 *  the batch now. */
typedef void (bt_rt_flush_h)(void *arg);

struct bt_rt_prm {
	const char *db_path;
	const char *voice_map;   /* unused for now: see realtime.c */
	uint32_t max_buffer_ms;  /* input audio held ahead (0: 30000) */
	bool greet;              /* the agent speaks first (default true) */
	const char *caller_id;   /* ?caller_id=: who calls (memory), or 0 */
	bt_rt_flush_h *flushh;   /* or NULL: events go out as sent */
};

/**
 * Start a protocol session on the calling event loop: a bt_session for
 * agent, session.created sent at once, then one frame per loop tick.
 */
int bt_rt_alloc(struct bt_rt **rtp, struct bt_agent *agent,
		const char *model, const struct bt_rt_prm *prm,
		bt_rt_send_h *sendh, bt_rt_close_h *closeh, void *arg);
/** One client message (a WebSocket text frame). */
void bt_rt_recv(struct bt_rt *rt, const char *text, size_t len);
/** Say goodbye: end the call with the agent's last words within ms. */
void bt_rt_shutdown(struct bt_rt *rt, uint32_t deadline_ms);

/* ---- sidebands (rt_side.c) ----
 *
 * A Realtime client attached to a call that another transport drives (a
 * phone call: OpenAI's "sideband" connection, /v1/realtime?call_id=). It
 * sees the call's events as a Realtime session's, without the audio
 * deltas (the audio goes over the phone line), plus each DTMF digit; its
 * client events act on the call, or get an error where they cannot
 * (input audio, truncate). A call keeps its sidebands in a list; all of
 * this runs on the call's loop.
 */

/**
 * Attach to session s (referenced until freed) of agent: session.created
 * is sent at once. The rt joins sides and leaves it when freed (with
 * mem_deref, as bt_rt_alloc's; bt_rt_recv takes its client events).
 */
int bt_rt_side_alloc(struct bt_rt **rtp, struct bt_session *s,
		     struct bt_agent *agent, const char *model,
		     struct list *sides, bt_rt_send_h *sendh,
		     bt_rt_close_h *closeh, void *arg);
/** One of the call's session events to each sideband. */
void bt_rt_side_event(const struct list *sides, const struct bt_event *ev);
/** A digit the caller pressed (0-9, *, #, A-D), received now. */
void bt_rt_side_dtmf(const struct list *sides, char digit);
/** A user item the transport added to the call (its digits as text). */
void bt_rt_side_user_text(const struct list *sides, const char *item_id,
			  const char *text);
/** The call's session was made again (another codec rate): s from now. */
void bt_rt_side_rebind(const struct list *sides, struct bt_session *s);
/** The call is over: each sideband gets banter.call_ended (reason why)
 *  and is closed; the list is left empty. */
void bt_rt_side_end(struct list *sides, const char *call_id,
		    const char *why);

#endif
