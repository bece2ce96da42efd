/**
 * @file sip_call.c  One phone call's media and session, on its session
 *                   loop: the RTP socket (made here, so its fd is polled
 *                   by this loop's thread), the jitter buffer, the codec,
 *                   DTMF and the 20 ms tick that drives the bt_session.
 *
 * The tick pushes one frame of caller audio whatever arrived (a loss is
 * concealed, a silent line is silence) and pulls one frame of agent
 * audio, which leaves at once as one RTP packet: audio goes out at the
 * pace it plays, so what was sent is what the caller heard and a barge-in
 * stops it within a packet.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include "banter/banter.h"
#include "audio/jitter.h"
#include "transport/realtime.h"
#include "transport/sip.h"
#include "transport/sip_int.h"
#include "transport/srtp.h"

enum {
	FRAME = BT_FRAME_SAMPLES,      /* session samples per 20 ms */
	FIFO_MAX = FRAME * 8,          /* decoded caller audio held */
	DTMF_GAP_MS = 2000,            /* a digit string ends after this */
	MAX_DIGITS = 32,
	RTP_PORT_MIN = 16384,
	RTP_PORT_MAX = 32767,
	/* frames; more is given up, as the jitter buffer gives up the
	 * packets held beyond its goal plus as many */
	MAX_BEHIND = BT_JITTER_BACKLOG,
	MAX_PER_TICK = 5,              /* frames one tick catches up */
	SRTP_TRAILER = 16,             /* SRTP's tag (GCM's is longest) */
};

struct sip_call {
	struct sip_link *lk;
	struct bt_session *s;
	uint32_t s_rate_hz;       /* the codec rate s was made for */
	struct bt_tick tick;
	struct rtp_sock *rtp;
	struct bt_srtp *srtp;     /* NULL: plain RTP */
	struct bt_codec *codec;
	struct bt_jitter *jb;
	struct telev *telev;
	struct bt_resampler *rs_in, *rs_out;  /* 8 kHz codecs only */
	struct mbuf *txmb;                     /* reused for every packet */
	struct sip_media media;
	struct sa raddr;          /* where RTP goes now */
	bool latched;             /* raddr is where packets come from */
	bool rtcp_latched;        /* RTCP goes where the caller's comes from */
	char cname[32];           /* our RTCP CNAME */
	bool have_ssrc;
	uint32_t ssrc;
	uint32_t ts;
	bool talking;             /* the last packet held speech */
	bool started, ended, end_posted, sent_any;
	uint32_t ticks, end_at;   /* frames done; shutdown deadline */
	uint64_t t0;              /* tmr_jiffies of frame 0 */
	int16_t fifo[FIFO_MAX];
	size_t fifo_len;
	char digits[MAX_DIGITS + 1];
	size_t n_digits;
	uint32_t digit_tick;      /* tick of the last digit */
	bool dtmf_open;           /* an event began and has not ended */
	int dtmf_event;
	uint32_t rx, rx_bad_pt, rx_bad_src, rx_bad, tx;
	uint64_t rx_at;           /* tmr_jiffies of the latest packet */
	uint32_t skipped;         /* frames given up, the loop behind */
	struct list sides;        /* Realtime sidebands watching (bt_rt) */
};

static void call_free(struct sip_call *c);

static const char *codec_name(const struct sip_call *c)
{
	return bt_codec_info(c->media.codec)->name;
}

static void on_event(const struct bt_event *ev, void *arg)
{
	struct sip_call *c = arg;
	struct bt_jitter_stats st;

	bt_rt_side_event(&c->sides, ev);
	switch (ev->type) {
	case BT_EV_USER:
		re_printf("%s: user: \"%s\"\n", c->lk->id, ev->text ? ev->text :
		       "");
		break;
	case BT_EV_AGENT:
		re_printf("%s: agent: \"%s\"\n", c->lk->id, ev->text ? ev->text :
		       "");
		break;
	case BT_EV_BARGE_IN:
		re_printf("%s: barge-in, the caller heard \"%s\"\n", c->lk->id,
		       ev->text ? ev->text : "");
		break;
	case BT_EV_SPEECH_END:
		bt_jitter_set_backlog(c->jb, BT_JITTER_BACKLOG);
		return;
	case BT_EV_SPEECH_START:
		/*
		 * While the caller speaks, a stall's backlog is kept (as far
		 * as the reorder window goes): their words heard late beat
		 * words lost to the recogniser. It is dropped to the bound
		 * as their speech ends.
		 */
		bt_jitter_set_backlog(c->jb, BT_JITTER_SLOTS);
		/* both streams' packet counts now: a common time line for
		 * what the caller sent and what it heard (the barge-in
		 * test aligns the caller's two recordings with it) */
		bt_jitter_stats(c->jb, &st);
		re_printf("%s: caller speech from %.3f s; packet %u out, %u "
			  "caller packets in, %u of them in the jitter "
			  "buffer\n", c->lk->id, (double)ev->t_ms / 1000, c->tx,
			  c->rx, st.held);
		break;
	case BT_EV_PAUSED:
		/*
		 * Where a barge-in's pause falls on the wire: this frame's
		 * packet is the first silent one, and the caller's packets
		 * received so far (those still in the jitter buffer not yet
		 * heard) tell how long their speech took to stop the agent.
		 */
		bt_jitter_stats(c->jb, &st);
		re_printf("%s: paused at %.3f s: packet %u out is silent; "
			  "%u caller packets in, %u of them in the jitter "
			  "buffer (its goal %u), the latest %llu ms ago\n",
			  c->lk->id, (double)ev->t_ms / 1000, c->tx, c->rx,
			  st.held, st.target,
			  (unsigned long long)(tmr_jiffies() - c->rx_at));
		break;
	case BT_EV_TURN:
		re_printf("%s: trace %s\n", c->lk->id, ev->json ? ev->json : "{}");
		break;
	case BT_EV_RECORDING:
		re_printf("%s: recording %s\n", c->lk->id, ev->json ? ev->json :
			  "{}");
		break;
	case BT_EV_ENDED:
		re_printf("%s: the agent ended the call (%s)\n", c->lk->id,
		       ev->text ? ev->text : "");
		c->ended = true;
		break;
	case BT_EV_TRANSFER:
		re_printf("%s: transfer %s\n", c->lk->id, ev->json);
		break;
	default:
		return;
	}
	fflush(stdout);
}

/* A digit string becomes the user's answer, as if said. */
static void dtmf_flush(struct sip_call *c, const char *why)
{
	int err;

	if (!c->n_digits)
		return;
	c->digits[c->n_digits] = '\0';
	re_printf("%s: dtmf \"%s\" (%s) -> user turn\n", c->lk->id, c->digits,
	       why);
	fflush(stdout);
	c->n_digits = 0;
	if (bt_session_state(c->s) == BT_ST_ENDED)
		return;
	/* a key pressed over the agent stops it, as speech would */
	if (bt_session_state(c->s) == BT_ST_SPEAKING ||
	    bt_session_state(c->s) == BT_ST_THINKING)
		(void)bt_session_cancel(c->s);
	err = bt_session_item_add(c->s, BT_ROLE_USER, c->digits, NULL);
	if (!err) {
		bt_rt_side_user_text(&c->sides, bt_session_last_item_id(c->s),
				     c->digits);
		err = bt_session_respond(c->s);
	}
	if (err)
		re_printf("%s: the digits could not be answered: %s\n",
		       c->lk->id, bt_errmsg());
}

static void dtmf_digit(struct sip_call *c, int event)
{
	int d = telev_code2digit(event);

	if (d < 0)
		return;
	bt_rt_side_dtmf(&c->sides, (char)d);
	c->digit_tick = c->ticks;
	if (d == '#') {
		dtmf_flush(c, "#");
		return;
	}
	if (c->n_digits < MAX_DIGITS)
		c->digits[c->n_digits++] = (char)d;
}

static void on_dtmf(struct sip_call *c, struct mbuf *mb)
{
	int event;
	bool end;

	if (telev_recv(c->telev, mb, &event, &end))
		return;
	/* a digit counts once: at its start, or at its end if the start
	 * packets were lost */
	if (!end) {
		c->dtmf_open = true;
		c->dtmf_event = event;
		dtmf_digit(c, event);
	}
	else {
		if (!c->dtmf_open || c->dtmf_event != event)
			dtmf_digit(c, event);
		c->dtmf_open = false;
	}
}

/* RTCP to addr's port + 1 (RFC 3550's default; our own is there too). */
static void rtcp_to(struct sip_call *c, const struct sa *addr)
{
	struct sa peer = *addr;

	sa_set_port(&peer, sa_port(&peer) + 1);
	rtcp_start(c->rtp, c->cname, &peer);
}

/* The caller's RTCP: reports go back where it comes from. */
static void rtcp_recv(const struct sa *src, struct rtcp_msg *msg, void *arg)
{
	struct sip_call *c = arg;
	(void)msg;

	if (c->rtcp_latched || !c->latched ||
	    !sa_cmp(src, &c->raddr, SA_ADDR))
		return;
	c->rtcp_latched = true;
	rtcp_start(c->rtp, c->cname, src);
}

static void rtp_recv(const struct sa *src, const struct rtp_header *hdr,
		     struct mbuf *mb, void *arg)
{
	struct sip_call *c = arg;
	bool audio = hdr->pt == c->media.pt;
	bool event = c->media.te_pt >= 0 && hdr->pt == c->media.te_pt;

	if (!c->latched) {
		/* symmetric RTP: answer where the caller's packets come
		 * from (a caller behind NAT writes a private address) */
		if (!sa_cmp(src, &c->raddr, SA_ALL))
			re_printf("%s: RTP comes from %J, not %J as the SDP "
			       "says: sending there\n", c->lk->id, src,
			       &c->raddr);
		c->raddr = *src;
		c->latched = true;
		if (!c->rtcp_latched)
			rtcp_to(c, src);
	}
	else if (!sa_cmp(src, &c->raddr, SA_ALL)) {
		if (!c->rx_bad_src++)
			re_printf("%s: dropping RTP from %J (the call's is %J)\n",
			       c->lk->id, src, &c->raddr);
		return;
	}
	if (!audio && !event) {
		/* comfort noise (13) and the like only hold a seq number */
		if (hdr->pt != 13 && !c->rx_bad_pt++)
			re_printf("%s: dropping RTP payload type %u (the call "
			       "uses %d for %s)\n", c->lk->id, hdr->pt,
			       c->media.pt, codec_name(c));
		(void)bt_jitter_put(c->jb, hdr->seq, NULL, 0, false);
		return;
	}
	if (!c->have_ssrc || hdr->ssrc != c->ssrc) {
		if (c->have_ssrc)
			bt_jitter_reset(c->jb);
		c->ssrc = hdr->ssrc;
		c->have_ssrc = true;
	}
	++c->rx;
	c->rx_at = tmr_jiffies();
	if (event) {
		on_dtmf(c, mb);
		(void)bt_jitter_put(c->jb, hdr->seq, NULL, 0, false);
		return;
	}
	if (bt_jitter_put(c->jb, hdr->seq, mbuf_buf(mb), mbuf_get_left(mb),
			  true) && !c->rx_bad++)
		re_printf("%s: dropping an RTP packet of %zu bytes\n", c->lk->id,
		       mbuf_get_left(mb));
}

/* Decoded caller audio at the codec's rate into the session-rate FIFO. */
static void fifo_add(struct sip_call *c, const int16_t *pcm, size_t n)
{
	static __thread int16_t res[BT_CODEC_MAX_DECODE * 2];
	size_t got = n;

	if (c->rs_in) {
		if (bt_resample(c->rs_in, pcm, n, res, sizeof(res) / 2, &got))
			return;
		pcm = res;
	}
	if (got > FIFO_MAX - c->fifo_len)
		got = FIFO_MAX - c->fifo_len;
	memcpy(c->fifo + c->fifo_len, pcm, got * sizeof(*pcm));
	c->fifo_len += got;
}

/* One frame of the caller into the session, whatever arrived. */
static void push_frame(struct sip_call *c)
{
	static __thread int16_t pcm[BT_CODEC_MAX_DECODE];
	int16_t in[FRAME];
	size_t fs = bt_codec_frame_samples(c->codec);

	/* a 10 ms ptime needs two packets a tick; 20 ms and more, one */
	for (int k = 0; k < 2 && c->fifo_len < FRAME; k++) {
		const uint8_t *p;
		size_t n, got = 0;

		switch (bt_jitter_get(c->jb, &p, &n)) {
		case BT_JITTER_OK:
			if (bt_codec_decode(c->codec, p, n, pcm,
					    BT_CODEC_MAX_DECODE, &got)) {
				if (!c->rx_bad++)
					re_printf("%s: a %zu-byte packet is not "
					       "%s: concealed\n", c->lk->id, n,
					       codec_name(c));
				bt_codec_conceal(c->codec, pcm);
				got = fs;
			}
			break;
		case BT_JITTER_LOST:
			bt_codec_conceal(c->codec, pcm);
			got = fs;
			break;
		default:
			memset(pcm, 0, fs * sizeof(*pcm));
			got = fs;
			break;
		}
		fifo_add(c, pcm, got);
		if (got >= fs)
			break;
	}
	if (c->fifo_len >= FRAME) {
		memcpy(in, c->fifo, sizeof(in));
		c->fifo_len -= FRAME;
		memmove(c->fifo, c->fifo + FRAME, c->fifo_len * sizeof(*in));
	}
	else {
		/* the resampler's start-up: a few samples short, once */
		memset(in, 0, sizeof(in));
		memcpy(in, c->fifo, c->fifo_len * sizeof(*in));
		c->fifo_len = 0;
	}
	(void)bt_session_push(c->s, in, FRAME);
}

/* One frame of the agent out as one RTP packet. */
static void pull_frame(struct sip_call *c)
{
	static __thread int16_t res[FRAME * 2];
	int16_t out[FRAME];
	const int16_t *pcm = out;
	bool speech = false;
	size_t n, got;
	int err;

	(void)bt_session_pull(c->s, out, FRAME, &speech);
	if (c->rs_out) {
		if (bt_resample(c->rs_out, out, FRAME, res, sizeof(res) / 2,
				&got))
			return;
		/* the resampler keeps the count steady after its start */
		if (got < bt_codec_frame_samples(c->codec)) {
			memmove(res + bt_codec_frame_samples(c->codec) - got,
				res, got * sizeof(*res));
			memset(res, 0, (bt_codec_frame_samples(c->codec) -
					got) * sizeof(*res));
		}
		pcm = res;
	}
	if (c->started && c->media.send && sa_isset(&c->raddr, SA_ALL)) {
		c->txmb->pos = RTP_HEADER_SIZE;
		c->txmb->end = RTP_HEADER_SIZE;
		err = bt_codec_encode(c->codec, pcm, c->txmb->buf +
				      RTP_HEADER_SIZE, c->txmb->size -
				      RTP_HEADER_SIZE - SRTP_TRAILER, &n);
		if (!err) {
			c->txmb->end = RTP_HEADER_SIZE + n;
			/* the marker opens each talk spurt */
			err = rtp_send(c->rtp, &c->raddr, false,
				       speech && !c->talking,
				       (uint8_t)c->media.pt, c->ts, c->txmb);
			if (!err)
				++c->tx;
		}
		if (err && !c->sent_any)
			re_printf("%s: cannot send RTP to %J: %s\n", c->lk->id,
			       &c->raddr, strerror(err));
		c->sent_any = !err;
	}
	c->talking = speech;
	/* the clock runs on through silence and hold */
	c->ts += bt_codec_frame_ticks(c->codec);
}

/* One 20 ms frame: the caller's in, the agent's out. */
static void frame(struct sip_call *c)
{
	++c->ticks;
	push_frame(c);
	pull_frame(c);
	if (c->n_digits && (c->ticks - c->digit_tick) * 20 >= DTMF_GAP_MS)
		dtmf_flush(c, "pause");
	if (c->end_at && c->ticks >= c->end_at)
		c->ended = true;
	if (c->ended || bt_session_state(c->s) == BT_ST_ENDED) {
		/* its last audio left in this frame's packet: hang up */
		c->end_posted = true;
		(void)sip_post_main(c->lk, MAIN_ENDED, 0, 0);
	}
}

/*
 * The frames due by the wall clock. A loop that fell behind (a call set
 * up on it, a long decode) runs its ticks back to back without reading
 * sockets in between, so the caller's packets of that time are still in
 * the socket: a frame whose packet is missing while we are behind waits
 * for the next tick (after the loop has read the socket) instead of being
 * concealed, if the caller's stream was live up to that frame. A caller
 * that sends nothing between its words (sipp between its streams,
 * silence suppression) has no packet to wait for: waiting would stall
 * the call, the agent's audio with it, from any lag of two frames on. On
 * time, a missing packet is concealed at once: the session never waits
 * for the network.
 */
static void tick(void *arg)
{
	struct sip_call *c = arg;
	uint64_t now = tmr_jiffies(), due;

	if (c->end_posted)
		return;
	if (!c->t0)
		c->t0 = now - BT_FRAME_MS;
	due = (now - c->t0) / BT_FRAME_MS;
	if (due > c->ticks + MAX_BEHIND) {
		/* too far behind to catch up: that time is lost */
		c->skipped += (uint32_t)(due - c->ticks - MAX_BEHIND);
		c->t0 += (due - c->ticks - MAX_BEHIND) * BT_FRAME_MS;
		due = c->ticks + MAX_BEHIND;
	}
	for (int k = 0; k < MAX_PER_TICK && c->ticks < due && !c->end_posted;
	     k++) {
		bool live = c->rx_at + 2 * BT_FRAME_MS >=
			c->t0 + (uint64_t)c->ticks * BT_FRAME_MS;

		if (due - c->ticks > 1 && c->fifo_len < FRAME && live &&
		    bt_jitter_underrun(c->jb))
			break;
		frame(c);
	}
}

/* New SRTP keys (the call's first, or the peer's new ones). */
static int set_srtp(struct sip_call *c, const struct sip_media *m)
{
	const struct sip_media *o = &c->media;
	struct bt_srtp *sr = NULL;
	int err;

	if (!m->key_len || (c->srtp && m->suite == o->suite &&
			    m->key_len == o->key_len &&
			    !memcmp(m->rx_key, o->rx_key, m->key_len) &&
			    !memcmp(m->tx_key, o->tx_key, m->key_len)))
		return 0;
	/* the new helpers before the old ones go: if they cannot be made,
	 * the call keeps its old keys rather than fall back to plain RTP
	 * (no packet is handled in between: one thread) */
	err = bt_srtp_alloc(&sr, c->rtp, m->suite, m->tx_key, m->rx_key,
			    m->key_len, c->lk->id);
	if (err)
		return bt_err(err, "cannot start SRTP: %s", strerror(err));
	mem_deref(c->srtp);
	c->srtp = sr;
	return 0;
}

static int set_media(struct sip_call *c, const struct sip_media *m)
{
	const struct bt_codec_info *ci = bt_codec_info(m->codec);
	struct bt_codec *codec = NULL;
	struct bt_resampler *in = NULL, *out = NULL;
	/* no address: an outbound call's media before the answer */
	bool known = sa_af(&m->raddr) != AF_UNSPEC;
	int err = 0;

	err = set_srtp(c, m);
	if (err)
		return err;
	if (!c->codec || m->codec != c->media.codec) {
		err = bt_codec_alloc(&codec, m->codec);
		if (!err && ci->rate_hz != BT_RATE_HZ)
			err = bt_resampler_alloc_live(&in, ci->rate_hz,
						 BT_RATE_HZ);
		if (!err && ci->rate_hz != BT_RATE_HZ)
			err = bt_resampler_alloc_live(&out, BT_RATE_HZ,
						 ci->rate_hz);
		if (err) {
			mem_deref(codec);
			mem_deref(in);
			mem_deref(out);
			return err;
		}
		mem_deref(c->codec);
		mem_deref(c->rs_in);
		mem_deref(c->rs_out);
		c->codec = codec;
		c->rs_in = in;
		c->rs_out = out;
		c->fifo_len = 0;
		bt_jitter_reset(c->jb);
		rtcp_set_srate(c->rtp, ci->clock_hz, ci->clock_hz);
		if (c->telev)
			(void)telev_set_srate(c->telev, m->te_clock_hz ?
					      m->te_clock_hz : 8000);
	}
	if (known && !sa_cmp(&m->raddr, &c->media.raddr, SA_ALL)) {
		/* a new address from the peer: follow it */
		c->raddr = m->raddr;
		c->latched = false;
		c->rtcp_latched = false;
		rtcp_to(c, &m->raddr);  /* also starts RTCP at call open */
	}
	if (known && (m->send != c->media.send || m->codec != c->media.codec))
		re_printf("%s: %s, %s\n", c->lk->id, ci->name, m->send ?
		       "sending" : "on hold: not sending");
	c->media = *m;
	return 0;
}

static void call_destructor(void *arg)
{
	struct sip_call *c = arg;

	bt_loop_tick_remove(&c->tick);
	if (c->s)
		bt_session_set_handler(c->s, NULL, NULL);
	mem_deref(c->s);
	mem_deref(c->srtp);  /* its helpers, before their sockets */
	mem_deref(c->rtp);
	mem_deref(c->codec);
	mem_deref(c->jb);
	mem_deref(c->telev);
	mem_deref(c->rs_in);
	mem_deref(c->rs_out);
	mem_deref(c->txmb);
}

/* The agent's line has played: the main loop sends the REFER. */
static void on_transfer(struct bt_session *s, const char *to, void *arg)
{
	struct sip_call *c = arg;

	if (sip_post_transfer(c->lk, to))
		bt_session_transfer_done(s, EPIPE, "the SIP stack is gone");
}

/*
 * The session for the codec now in use: its rate picks the agent's
 * recogniser (a narrow-band one for 8 kHz codecs). An outbound call opens
 * with the first codec it offers and learns the callee's choice from the
 * answer, before the session starts: a session made for the other rate is
 * made again then (its recogniser goes back to the loop's pool).
 */
static int session_open(struct sip_call *c)
{
	struct bt_session_prm sp;
	struct bt_session *s = NULL;
	uint32_t rate = bt_codec_info(c->media.codec)->rate_hz;
	int err;

	if (c->s && (c->s_rate_hz == rate || c->started))
		return 0;
	bt_session_prm_default(&sp);
	sp.realtime = true;
	sp.db_path = c->lk->db_path;
	sp.id = c->lk->id;
	sp.caller_id = c->lk->caller_id[0] ? c->lk->caller_id : NULL;
	sp.codec_rate_hz = rate;
	err = bt_session_alloc(&s, c->lk->agent, &sp, on_event, c);
	if (err)
		return err;
	if (c->s)
		bt_session_set_handler(c->s, NULL, NULL);
	mem_deref(c->s);
	c->s = s;
	c->s_rate_hz = rate;
	bt_rt_side_rebind(&c->sides, s);
	bt_session_set_transfer(s, on_transfer, c);
	return 0;
}

static int call_open(struct sip_link *lk, const struct sip_media *m)
{
	struct sip_call *c;
	int err;

	c = mem_zalloc(sizeof(*c), call_destructor);
	if (!c)
		return ENOMEM;
	c->lk = lk;
	c->media.codec = BT_CODEC_COUNT;  /* nothing yet */
	snprintf(c->cname, sizeof(c->cname), "banter-%s", lk->id);
	err = bt_jitter_alloc(&c->jb, 2, 8);
	if (!err)
		err = telev_alloc(&c->telev, 20);
	if (!err) {
		c->txmb = mbuf_alloc(RTP_HEADER_SIZE + BT_CODEC_MAX_PACKET +
				     SRTP_TRAILER);
		err = c->txmb ? 0 : ENOMEM;
	}
	if (!err)
		err = rtp_listen(&c->rtp, IPPROTO_UDP, &lk->rtp_laddr,
				 RTP_PORT_MIN, RTP_PORT_MAX, true, rtp_recv,
				 rtcp_recv, c);
	if (err) {
		err = bt_err(err, "cannot open an RTP port between %d and %d: "
			     "%s", RTP_PORT_MIN, RTP_PORT_MAX, strerror(err));
		goto out;
	}
	err = set_media(c, m);
	if (!err)
		err = session_open(c);
	if (err)
		goto out;
	c->ts = rand_u32();
	bt_loop_tick_add(lk->loop, &c->tick, tick, c);
	c->lk = sip_link_ref(lk);
	lk->call = c;
 out:
	if (err)
		mem_deref(c);
	return err;
}

static void call_free(struct sip_call *c)
{
	struct sip_link *lk;
	struct bt_jitter_stats st;
	struct bt_srtp_stats ss;
	char srtp[128] = "";

	if (!c)
		return;
	lk = c->lk;
	bt_jitter_stats(c->jb, &st);
	if (c->srtp) {
		bt_srtp_stats(c->srtp, &ss);
		(void)re_snprintf(srtp, sizeof(srtp), "; SRTP %s: %u RTP "
				  "and %u RTCP packets failed authentication, "
				  "%u replayed",
				  bt_sdp_suite_name(c->media.suite),
				  ss.auth_fail, ss.rtcp_fail, ss.replayed);
	}
	re_printf("%s: RTP %s: %u packets sent, %u received (%u lost, %u late, "
		  "%u wrong type, %u from elsewhere), %u frames waited for, "
		  "jitter buffer %u, %u ms skipped (the loop behind), %u "
		  "packets dropped from a backlog%s\n",
		  lk->id, codec_name(c), c->tx, c->rx, st.lost, st.late,
		  c->rx_bad_pt, c->rx_bad_src, st.underruns, st.target,
		  c->skipped * BT_FRAME_MS, st.backlog, srtp);
	fflush(stdout);
	bt_rt_side_end(&c->sides, lk->call_id, c->ended ? "the agent ended "
		       "the call" : "the call ended");
	lk->call = NULL;
	mem_deref(c);
	sip_link_put(lk);
}

int bt_sip_call_side(struct sip_link *lk, const char *model,
		     bt_rt_send_h *sendh, bt_rt_close_h *closeh, void *arg,
		     struct bt_rt **rtp)
{
	struct sip_call *c = lk->call;

	if (!c || !c->s || c->end_posted)
		return ENOENT;
	return bt_rt_side_alloc(rtp, c->s, lk->agent, model, &c->sides,
				sendh, closeh, arg);
}

void sip_call_handler(void *arg)
{
	struct call_msg *m = arg;
	struct sip_link *lk = m->lk;
	struct sip_call *c = lk->call;
	int err;

	switch (m->kind) {
	case CALL_OPEN:
		err = call_open(lk, &m->media);
		if (err) {
			re_printf("%s: cannot start the call: %s\n", lk->id,
			       bt_errmsg());
			(void)sip_post_main(lk, MAIN_FAILED, 0, err);
		}
		else {
			(void)sip_post_main(lk, MAIN_OPENED,
					    sa_port(rtp_local(lk->call->rtp)),
					    0);
		}
		break;
	case CALL_START:
		if (c && !c->started) {
			c->started = true;
			if (bt_session_start(c->s))
				re_printf("%s: %s\n", lk->id, bt_errmsg());
		}
		break;
	case CALL_MEDIA:
		if (!c)
			break;
		err = set_media(c, &m->media);
		if (!err)
			err = session_open(c);
		if (err) {
			re_printf("%s: cannot change the codec: %s\n", lk->id,
			       bt_errmsg());
			/* no session for the answered codec: nothing to run */
			if (!c->started)
				(void)sip_post_main(lk, MAIN_FAILED, 0, err);
		}
		break;
	case CALL_HANGUP:
		call_free(c);
		break;
	case CALL_TRANSFERRED:
		if (c)
			bt_session_transfer_done(c->s, m->err, m->text);
		break;
	case CALL_SHUTDOWN:
		if (!c || c->ended)
			break;
		c->end_at = c->ticks + (lk->goodbye_ms ? lk->goodbye_ms :
					8000) / 20;
		if (!c->started || bt_session_say(c->s, "Sorry, this service "
		    "is restarting now. Please call again in a minute. "
		    "Goodbye.", true))
			c->ended = true;
		break;
	}
	sip_link_put(lk);
	free(m);
}
