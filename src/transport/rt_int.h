/**
 * @file rt_int.h  One Realtime connection's protocol state, shared by
 *                 rt_session.c (audio in, the frame tick, client events,
 *                 set-up) and rt_events.c (session events -> server
 *                 events). Private to src/transport.
 */
#ifndef BT_TRANSPORT_RT_INT_H
#define BT_TRANSPORT_RT_INT_H

#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include "banter/banter.h"
#include <rem/rem_g711.h>
#include "net/loop.h"
#include "transport/realtime.h"

enum {
	FRAME = BT_FRAME_SAMPLES,     /* pipeline samples per 20 ms */
	GREET_AFTER_MS = 300,         /* time for a first session.update */
	MIN_COMMIT_MS = 100,          /* the API's smallest commit */
	ARRIVAL_FRAMES = 10,          /* of an append, into the call at once */
	CATCHUP_FRAMES = 5,           /* the rest, at up to this many a tick */
	STREAM_GAP_MS = 150,          /* a streaming client's chunk is late,
					 not missing, for this long */
	MAX_APPEND = BT_RT_MAX_MESSAGE,
};

struct bt_rt {
	struct bt_session *s;
	struct bt_agent *agent;
	struct bt_tick tick;
	struct tmr kick;          /* a reply's first frame, at once */
	bool kick_due;
	bt_rt_send_h *sendh;
	bt_rt_close_h *closeh;
	void *arg;
	struct bt_rt_prm prm;
	char sess_id[32];
	char model[64];
	unsigned n_events, n_resp;

	/* settings as the client sees them */
	enum bt_rt_fmt in_fmt, out_fmt;
	char voice[64];
	double speed;
	bool text_only, transcription;
	enum bt_rt_td td;
	struct bt_session_turns turns;
	double threshold;
	int prefix_ms, silence_ms;
	bool create_response, interrupt_response;
	int64_t idle_timeout_ms;
	char eagerness[8];
	json_t *instructions, *tools;  /* kept for an LLM brain */

	/* input: client audio at the pipeline rate, not yet pushed */
	struct bt_resampler *rs_in, *rs_out;
	int16_t *fifo;
	size_t fifo_len, fifo_cap;
	uint64_t appended_ms;          /* since the last commit or clear */
	uint64_t last_append;          /* tmr_jiffies of the last append */
	size_t commit_at;              /* samples left to push before the
					  pending commit (0: none) */
	bool commit_pending;
	char commit_evid[64];

	/* output */
	bool started, ended, closing;
	uint32_t ticks;
	bool in_pull;
	struct mbuf *deferred;         /* events raised inside a pull */
	char last_item[32];            /* the newest item announced */
	char partial[512];
	bool started_sent;             /* speech_started for this utterance */
	uint64_t speech_start_ms, speech_end_ms;

	/* the response in progress */
	bool resp_active;
	char resp_id[32], resp_item[32];
	bool resp_audio;
	struct mbuf *resp_text;
	json_t *resp_calls;            /* its function_call items */
	uint64_t resp_audio_ms;
	uint32_t shutdown_deadline;

	/* a sideband (rt_side.c): watches a call another transport drives;
	 * s is that call's, referenced; no tick, no audio of its own */
	bool side;
	struct le side_le;             /* in the call's list of sidebands */
};

uint32_t rt_fmt_rate(enum bt_rt_fmt f);
int rt_make(struct bt_rt **rtp, struct bt_agent *agent, const char *model,
	    const struct bt_rt_prm *prm, bt_rt_send_h *sendh,
	    bt_rt_close_h *closeh, void *arg);
/** A sideband's client event: true to apply it, false if refused (an
 *  error event sent). rt_side.c */
bool rt_side_allowed(struct bt_rt *rt, const struct bt_rt_event *ev);
void rt_send_json(struct bt_rt *rt, json_t *o);
json_t *rt_ev_new(const char *type);
void rt_send_error(struct bt_rt *rt, const char *type, const char *code,
		       const char *message, const char *param,
		       const char *event_id);
void rt_flush_deferred(struct bt_rt *rt);
void rt_send_session(struct bt_rt *rt, const char *type);
json_t *rt_message_item(const char *id, const char *role,
			    const char *status, json_t *part);
json_t *rt_part_new(const char *type, const char *key, const char *text);
void rt_announce_item(struct bt_rt *rt, json_t *item);
void rt_user_item(struct bt_rt *rt, const struct bt_event *ev);
void rt_send_audio(struct bt_rt *rt, const int16_t *frame);
void rt_on_event(const struct bt_event *ev, void *arg);

#endif
