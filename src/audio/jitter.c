/**
 * @file jitter.c  Adaptive jitter buffer: a ring of slots indexed by RTP
 *                 sequence number.
 */
#include <errno.h>
#include <string.h>
#include <re.h>
#include "audio/jitter.h"

enum {
	LOST_RUN_IDLE = 10,   /* this many losses in a row with nothing
				 buffered: the stream stopped (hold, DTX),
				 wait for it again instead of conceal */
	SHRINK_AFTER = 50,    /* 1 s deeper than the target: drop one */
};

struct slot {
	bool used, audio;
	uint16_t seq;
	uint16_t len;
	uint8_t data[BT_JITTER_MAX_PAYLOAD];
};

struct bt_jitter {
	struct slot slots[BT_JITTER_SLOTS];
	uint32_t min_depth, max_depth, target;
	uint32_t backlog_max;  /* held beyond target at most */
	bool playing;          /* false: filling up to target */
	uint16_t next;         /* the sequence number to play next */
	bool have_next;
	uint32_t count;        /* slots used */
	uint32_t lost_run;
	uint32_t deep_run;     /* gets in a row with count > target */
	uint32_t grow;         /* frames to conceal without advancing, to
				  deepen the buffer after a late packet */
	uint8_t out[BT_JITTER_MAX_PAYLOAD];
	struct bt_jitter_stats st;
};

int bt_jitter_alloc(struct bt_jitter **jp, uint32_t min_depth,
		    uint32_t max_depth)
{
	struct bt_jitter *j;

	if (!jp)
		return EINVAL;
	if (!min_depth)
		min_depth = 2;
	if (!max_depth)
		max_depth = 8;
	if (min_depth > max_depth || max_depth > BT_JITTER_SLOTS / 2)
		return EINVAL;
	j = mem_zalloc(sizeof(*j), NULL);
	if (!j)
		return ENOMEM;
	j->min_depth = min_depth;
	j->max_depth = max_depth;
	j->target = min_depth;
	j->backlog_max = BT_JITTER_BACKLOG;
	*jp = j;
	return 0;
}

void bt_jitter_reset(struct bt_jitter *j)
{
	if (!j)
		return;
	for (size_t i = 0; i < BT_JITTER_SLOTS; i++)
		j->slots[i].used = false;
	j->count = 0;
	j->playing = false;
	j->have_next = false;
	j->lost_run = 0;
	j->deep_run = 0;
	j->grow = 0;
	++j->st.resets;
}

void bt_jitter_set_backlog(struct bt_jitter *j, uint32_t packets)
{
	if (j)
		j->backlog_max = packets < BT_JITTER_SLOTS ? packets :
			BT_JITTER_SLOTS;
}

/*
 * Bound the backlog: a burst beyond target + backlog_max drops its
 * oldest packets now, not one a second as maybe_shrink would (a loop that
 * stalled half a second reads 25 packets at once, and the caller would be
 * heard half a second late for many seconds: barge-in and endpointing that
 * late). The oldest go because they are the stall's own audio, already
 * late, and dropping from the head keeps what plays contiguous; choosing
 * silent packets instead would mean decoding payloads here, and a
 * predictive decoder (G.722, Opus) cannot decode packets out of order
 * without disturbing the state it plays from. The gap is one glitch that
 * the decoder passes over as it would a loss. The caller's tick catches up
 * as many frames as this bound (sip_call.c), so a stall it catches up on
 * loses nothing, and a longer one loses here the time the tick skips
 * (the call raises the bound while the caller speaks: words are not
 * dropped, only heard late).
 */
static void bound_backlog(struct bt_jitter *j)
{
	for (uint32_t k = 0; k < BT_JITTER_SLOTS &&
	     j->count > j->target + j->backlog_max; k++) {
		struct slot *s = &j->slots[j->next % BT_JITTER_SLOTS];

		if (s->used && s->seq == j->next) {
			s->used = false;
			--j->count;
			++j->st.backlog;
		}
		++j->next;
	}
}

int bt_jitter_put(struct bt_jitter *j, uint16_t seq, const uint8_t *payload,
		  size_t len, bool audio)
{
	struct slot *s;
	int16_t ahead;

	if (!j || (len && !payload))
		return EINVAL;
	if (len > BT_JITTER_MAX_PAYLOAD)
		return EMSGSIZE;
	++j->st.put;
	if (!j->have_next) {
		j->next = seq;
		j->have_next = true;
	}
	ahead = (int16_t)(uint16_t)(seq - j->next);
	if (ahead < 0) {
		/* it came after its turn: a deeper buffer would have held
		 * it; a big jump back is a new stream (a restarted sender) */
		if (ahead < -(int16_t)BT_JITTER_SLOTS) {
			bt_jitter_reset(j);
			j->next = seq;
			j->have_next = true;
			ahead = 0;
		}
		else {
			++j->st.late;
			if (j->target < j->max_depth) {
				++j->target;
				++j->grow;
			}
			return 0;
		}
	}
	if (ahead >= (int16_t)BT_JITTER_SLOTS) {
		/* too far ahead to hold: a jump in the stream */
		bt_jitter_reset(j);
		j->next = seq;
		j->have_next = true;
	}
	s = &j->slots[seq % BT_JITTER_SLOTS];
	if (s->used) {
		if (s->seq == seq) {
			++j->st.dup;
			return 0;
		}
		/* cannot happen inside the window; keep the newer */
		--j->count;
	}
	s->used = true;
	s->audio = audio;
	s->seq = seq;
	s->len = (uint16_t)len;
	if (len)
		memcpy(s->data, payload, len);
	++j->count;
	if (j->count > j->target + j->backlog_max)
		bound_backlog(j);
	return 0;
}

/* The buffer stayed deeper than needed for a while: drop the oldest. */
static void maybe_shrink(struct bt_jitter *j)
{
	if (j->count > j->target + 1)
		++j->deep_run;
	else
		j->deep_run = 0;
	if (j->deep_run < SHRINK_AFTER)
		return;
	j->deep_run = 0;
	if (j->target > j->min_depth)
		--j->target;
	{
		struct slot *s = &j->slots[j->next % BT_JITTER_SLOTS];
		if (s->used && s->seq == j->next) {
			s->used = false;
			--j->count;
		}
		++j->next;
		++j->st.dropped;
	}
}

enum bt_jitter_get bt_jitter_get(struct bt_jitter *j, const uint8_t **payload,
				 size_t *len)
{
	struct slot *s;

	if (!j || !payload || !len)
		return BT_JITTER_WAIT;
	if (!j->playing) {
		if (!j->have_next || j->count < j->target)
			return BT_JITTER_WAIT;
		j->playing = true;
		/* start at the oldest packet held */
		for (uint16_t k = 0; k < BT_JITTER_SLOTS; k++) {
			s = &j->slots[(uint16_t)(j->next + k) %
				      BT_JITTER_SLOTS];
			if (s->used && s->seq == (uint16_t)(j->next + k)) {
				j->next = s->seq;
				break;
			}
		}
	}
	if (j->grow) {
		/* stretch by one concealed frame: the depth grows by one */
		--j->grow;
		++j->st.lost;
		return BT_JITTER_LOST;
	}
	maybe_shrink(j);
	s = &j->slots[j->next % BT_JITTER_SLOTS];
	/*
	 * An event packet (DTMF) sent beside the audio takes a sequence
	 * number but no time of its own: pass over it when more is here, or
	 * each key press would add its 10-20 packets to the caller's delay
	 * (a sender that sends events instead of audio still gets a frame of
	 * silence for the last one held).
	 */
	while (s->used && s->seq == j->next && !s->audio && j->count > 1) {
		s->used = false;
		--j->count;
		++j->next;
		s = &j->slots[j->next % BT_JITTER_SLOTS];
	}
	if (s->used && s->seq == j->next) {
		s->used = false;
		--j->count;
		++j->next;
		j->lost_run = 0;
		if (!s->audio)
			return BT_JITTER_SKIP;
		memcpy(j->out, s->data, s->len);
		*payload = j->out;
		*len = s->len;
		++j->st.played;
		return BT_JITTER_OK;
	}
	if (j->count) {
		/* later packets are here: this one is lost (or so late that
		 * waiting for it would hold up the rest) */
		++j->next;
		j->lost_run = 0;
		++j->st.lost;
		return BT_JITTER_LOST;
	}
	/*
	 * Nothing here: the packet is not lost yet, only not here. It may
	 * be in the socket while this tick runs late (a loop catching up
	 * runs its ticks back to back without reading sockets), so wait for
	 * it: conceal this frame and play it next time (the buffer deepens
	 * by a frame, and shrinks again later). A sender that stopped (hold,
	 * silence suppression) is waited for without concealment.
	 */
	if (++j->lost_run >= LOST_RUN_IDLE) {
		j->playing = false;
		j->have_next = false;
		j->lost_run = 0;
		return BT_JITTER_WAIT;
	}
	++j->st.underruns;
	return BT_JITTER_LOST;
}

bool bt_jitter_underrun(const struct bt_jitter *j)
{
	return j && j->playing && !j->count;
}

void bt_jitter_stats(const struct bt_jitter *j, struct bt_jitter_stats *st)
{
	if (!j || !st)
		return;
	*st = j->st;
	st->target = j->target;
	st->held = j->count;
}
