/**
 * @file call_int.h  `banter call`: what the caller's side and connecting
 * (call.c) and the agent's side (call_events.c) share.
 */
#ifndef BT_APP_CALL_INT_H
#define BT_APP_CALL_INT_H

#include <stdio.h>
#include <jansson.h>
#include <re.h>
#include "caller.h"
#include "net/ws.h"

enum {
	RATE = 24000,                        /* audio/pcm, in and out */
	FRAME = RATE / 1000 * BT_FRAME_MS,   /* 480 samples */
	CATCHUP_FRAMES = 25,     /* the loop stalled: send at most 500 ms */
	PRIME_FRAMES = 5,        /* the first append: 100 ms of silence */
	GREET_WAIT_MS = 2000,    /* an agent that greets has begun by then */
	END_GRACE_MS = 1000,     /* after the last reply, before hanging up */
	MAX_ROWS = 128,
};

struct turn24 {
	int16_t *pcm;        /* RATE, mem_alloc'd */
	size_t n;
	int64_t speech_end;  /* samples up to the last speech sample; -1 none */
};

struct call {
	/* options */
	const char *url;
	const char *key;
	FILE *trace;
	bool quiet;
	uint64_t max_ms;
	bool insecure;           /* wss://: any certificate */
	char uri[1100];          /* url with its path */

	/* the socket (src/net/ws.h) and the loop's timers */
	struct bt_ws *ws;
	struct tmr tmr_frame, tmr_max;

	/* the caller */
	struct caller *caller;
	struct turn24 t24[CALLER_MAX_TURNS];
	size_t cur, pos;
	int64_t playing;
	uint64_t prev_end;       /* when the last turn's audio ended */
	bool prev_silence;
	int64_t spoken_end;      /* the last speech sample sent, ms; -1 */
	bool bc_pending;         /* a backchannel was said over this reply */

	/* the clock: ms since the socket opened */
	uint64_t t0;
	uint64_t frames;         /* frames sent: the caller's media clock */
	bool open;

	/* the agent, as the caller hears it */
	bool resp_active, resp_audio;
	char resp_id[96];
	char resp_text[2048];    /* the transcript deltas */
	char resp_heard[2048];   /* output_audio_transcript.done */
	char heard[CALLER_HEARD_MAX]; /* the replies since the caller's
					 last turn (if_agent_said) */
	uint64_t speak_start, last_stop;
	double played_until;     /* playout clock, ms */
	int64_t resp_v2v;        /* client voice-to-voice of the last one */
	unsigned n_resp;
	bool session_seen;

	/* the table */
	char rows[MAX_ROWS][240];
	size_t n_rows;
	unsigned barge_ins, backchannels, cancelled;

	/* how it ended */
	bool finished;
	int rc;
	char why[600];
	char proto_err[400];
};

/* ms since the socket opened */
static inline uint64_t call_now_ms(const struct call *c)
{
	return c->t0 ? tmr_jiffies() - c->t0 : 0;
}

/* a string field of o, or "" */
static inline const char *call_jstr(const json_t *o, const char *k)
{
	return json_string_value(json_object_get(o, k)) ?: "";
}

/*
 * The call is over (rc 0) or failed (rc 1, why says what). The socket is
 * closed and the loop stops once the server answered the close frame.
 */
void call_finish(struct call *c, int rc, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* One WebSocket message from the server: a Realtime event. */
void call_ws_recv(bool text, const uint8_t *buf, size_t n, void *arg);

#endif
