/**
 * @file jitter.h  An adaptive jitter buffer for RTP audio payloads (private
 *                 to libbanter and its programs).
 *
 * Packets go in as they arrive (any order); the call's 20 ms tick takes
 * one out each time, in sequence order. It waits for `target` packets
 * before playing, reorders within its window, reports a missing packet as
 * lost (the caller conceals it) when later ones are here, conceals a frame
 * and waits when none is (a late packet, or a tick that runs late), and
 * never holds the tick back. The target depth grows when a packet comes too late to play
 * and shrinks after a stretch where the buffer stayed deeper than needed.
 * The backlog is bounded: a burst that fills it beyond the target plus
 * BT_JITTER_BACKLOG packets (a loop that stalled, then read a socket full
 * of them) drops its oldest packets at once, so the caller is never heard
 * more than that late.
 * Fixed memory: no allocation after bt_jitter_alloc. One thread.
 */
#ifndef BT_AUDIO_JITTER_H
#define BT_AUDIO_JITTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum {
	BT_JITTER_SLOTS = 32,       /**< the reorder window, in packets */
	BT_JITTER_MAX_PAYLOAD = 1280,
	BT_JITTER_BACKLOG = 10,     /**< packets held beyond the target at
				         most (200 ms at a 20 ms ptime) */
};

enum bt_jitter_get {
	BT_JITTER_WAIT = 0, /**< nothing to play yet (start, or the stream
				 stopped): play silence, nothing was lost */
	BT_JITTER_OK,       /**< a packet: *payload, *len */
	BT_JITTER_LOST,     /**< the next packet is missing: conceal it */
	BT_JITTER_SKIP,     /**< the next sequence number was not audio
				 (a DTMF event) and nothing is held after
				 it: play silence (one held before more
				 packets is passed over, taking no time) */
};

struct bt_jitter_stats {
	uint32_t put, played, lost, late, dup, dropped, resets;
	uint32_t underruns; /**< frames concealed while nothing was here */
	uint32_t backlog;   /**< packets dropped over the backlog bound */
	uint32_t target;    /**< current depth goal, in packets */
	uint32_t held;      /**< packets waiting now */
};

struct bt_jitter;

/** min/max_depth in 20 ms packets (0: 2 and 8). Free with mem_deref. */
int bt_jitter_alloc(struct bt_jitter **jp, uint32_t min_depth,
		    uint32_t max_depth);
/**
 * Add a packet. audio false: it only takes its sequence number (an RTP
 * event in the same stream). Late and duplicate packets are counted and
 * dropped; EMSGSIZE for a payload over BT_JITTER_MAX_PAYLOAD. When more
 * than the target plus the backlog bound are held, the oldest are dropped
 * until that many are (counted in bt_jitter_stats' backlog).
 */
int bt_jitter_put(struct bt_jitter *j, uint16_t seq, const uint8_t *payload,
		  size_t len, bool audio);
/** The next 20 ms; *payload stays valid until the next put or get. */
enum bt_jitter_get bt_jitter_get(struct bt_jitter *j, const uint8_t **payload,
				 size_t *len);
/**
 * True when a get now would conceal a packet that may only be late (the
 * stream is playing and nothing is buffered): a caller running behind
 * its clock can wait for its socket instead.
 */
bool bt_jitter_underrun(const struct bt_jitter *j);
/**
 * The most packets held beyond the target (BT_JITTER_BACKLOG until set;
 * at most BT_JITTER_SLOTS): a caller keeps more while the words in them
 * are worth more than their delay. A lower bound drops the excess at the
 * next put.
 */
void bt_jitter_set_backlog(struct bt_jitter *j, uint32_t packets);
/** Forget everything (a new stream: re-INVITE, codec change). */
void bt_jitter_reset(struct bt_jitter *j);
void bt_jitter_stats(const struct bt_jitter *j, struct bt_jitter_stats *st);

#endif
