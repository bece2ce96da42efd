/**
 * @file srtp.c  SRTP and SRTCP on a call's RTP socket: libre's srtp
 *               contexts behind UDP helpers (as baresip's srtp module),
 *               so that rtp_sock, its RTCP and the call's handlers see
 *               plain packets.
 */
#include <errno.h>
#include <string.h>
#include "transport/sdp.h"
#include "transport/srtp.h"

enum {
	LAYER = 20,          /* the only helper on these sockets */
	WRAP_WINDOW = 1000,  /* packets (20 s) either side of a seq wrap */
};

struct bt_srtp;

/* what a helper's handlers get: libre keeps the pointer, not a ref */
struct side {
	struct bt_srtp *s;
	bool rtcp;
};

struct bt_srtp {
	struct side rtp_side, rtcp_side;
	struct srtp *tx, *rx;
	struct udp_helper *uh_rtp, *uh_rtcp;
	enum srtp_suite suite;
	uint8_t rx_key[BT_SDP_KEY_MAX];
	size_t key_len;
	struct bt_srtp_stats st;
	/* the caller's stream as libre counts it: its highest seq since
	 * the last roll-over (see roc_guard) */
	bool have_seq;
	uint32_t ssrc;
	uint16_t max_seq;
	bool logged;
	char id[24];
};

static void destructor(void *arg)
{
	struct bt_srtp *s = arg;

	mem_deref(s->uh_rtp);
	mem_deref(s->uh_rtcp);
	mem_deref(s->tx);
	mem_deref(s->rx);
}

int bt_srtp_protect(struct bt_srtp *s, struct mbuf *mb, bool rtcp)
{
	int err;

	if (!s || !mb)
		return EINVAL;
	err = rtcp ? srtcp_encrypt(s->tx, mb) : srtp_encrypt(s->tx, mb);
	if (err)
		++s->st.tx_fail;
	return err;
}

static bool rtp_ids(const struct mbuf *mb, uint32_t *ssrc, uint16_t *seq)
{
	const uint8_t *p = mbuf_buf(mb);

	if (mbuf_get_left(mb) < RTP_HEADER_SIZE)
		return false;
	*seq = (uint16_t)(p[2] << 8 | p[3]);
	*ssrc = (uint32_t)p[8] << 24 | (uint32_t)p[9] << 16 |
		(uint32_t)p[10] << 8 | p[11];
	return true;
}

/*
 * libre's srtp_decrypt counts a roll-over (seq 65535 -> 0) before it
 * checks the packet: one forged packet of the caller's SSRC whose seq is
 * half the sequence space behind would move the roll-over count, and
 * every genuine packet after it would fail. A roll-over is only taken
 * where the stream is near its wrap; other such packets are refused
 * before libre sees them. false: refuse.
 */
static bool roc_guard(const struct bt_srtp *s, uint32_t ssrc, uint16_t seq)
{
	if (!s->have_seq || ssrc != s->ssrc ||
	    (int)seq - (int)s->max_seq > -32768)
		return true;
	return s->max_seq >= 65536 - WRAP_WINDOW && seq < WRAP_WINDOW;
}

/*
 * What follows SRTCP's E flag and index as libre's srtp writes it: the
 * HMAC tag (for the _32 suites a 32-bit one, as libre writes it: RFC
 * 4568 says 80); nothing for GCM, whose tag comes before them.
 */
static size_t tag_after_index(enum srtp_suite suite)
{
	switch (suite) {
	case SRTP_AES_CM_128_HMAC_SHA1_32:
	case SRTP_AES_256_CM_HMAC_SHA1_32: return 4;
	case SRTP_AES_128_GCM:
	case SRTP_AES_256_GCM: return 0;
	default: return 10;
	}
}

/*
 * SRTCP's E flag says whether the packet is encrypted. We never agree to
 * unencrypted SRTCP, and libre 1.1 does not authenticate a GCM packet
 * whose E flag is clear (it has no HMAC to fall back on): such a packet
 * would pass as genuine. false: refuse.
 */
static bool srtcp_encrypted(const struct bt_srtp *s, const struct mbuf *mb)
{
	size_t tl = tag_after_index(s->suite), n = mbuf_get_left(mb);

	if (n < 8 + 4 + (tl ? tl : 16))
		return false;
	return (mbuf_buf(mb)[n - tl - 4] & 0x80) != 0;
}

/* After a genuine packet: what libre now holds as the highest seq. */
static void seq_track(struct bt_srtp *s, uint32_t ssrc, uint16_t seq)
{
	if (!s->have_seq || ssrc != s->ssrc ||
	    (int)seq - (int)s->max_seq <= -32768 || seq > s->max_seq) {
		s->have_seq = true;
		s->ssrc = ssrc;
		s->max_seq = seq;
	}
}

int bt_srtp_unprotect(struct bt_srtp *s, struct mbuf *mb, bool rtcp)
{
	uint32_t ssrc = 0;
	uint16_t seq = 0;
	bool ids;
	size_t pos;
	int err;

	if (!s || !mb)
		return EINVAL;
	pos = mb->pos;
	ids = !rtcp && rtp_ids(mb, &ssrc, &seq);
	if ((ids && !roc_guard(s, ssrc, seq)) ||
	    (rtcp && !srtcp_encrypted(s, mb)))
		err = EAUTH;
	else
		err = rtcp ? srtcp_decrypt(s->rx, mb) :
			srtp_decrypt(s->rx, mb);
	if (err == ENOSR) {
		/*
		 * libre's context keeps 8 streams (SSRCs) and makes one for
		 * any packet before checking it: forged packets of new SSRCs
		 * fill it. Start the context afresh: the caller's stream is
		 * taken up again from its next packet (its roll-over count
		 * restarts: wrong only past 65536 packets, 22 min).
		 */
		struct srtp *rx = NULL;

		if (!srtp_alloc(&rx, s->suite, s->rx_key, s->key_len, 0)) {
			mem_deref(s->rx);
			s->rx = rx;
			++s->st.resets;
		}
		mb->pos = pos;
		err = rtcp ? srtcp_decrypt(s->rx, mb) :
			srtp_decrypt(s->rx, mb);
	}
	if (!err && ids)
		seq_track(s, ssrc, seq);
	if (err == EALREADY)
		++s->st.replayed;
	else if (err && rtcp)
		++s->st.rtcp_fail;
	else if (err)
		++s->st.auth_fail;
	if (err && !s->logged) {
		s->logged = true;
		re_printf("%s: dropping %s packets that do not authenticate "
			  "(the first: %s)\n", s->id, rtcp ? "RTCP" : "RTP",
			  err == EALREADY ? "a replay" : err == EAUTH ?
			  "wrong key or changed on the way" :
			  "not SRTP: plain or cut short");
	}
	return err;
}

static bool send_h(int *err, struct sa *dst, struct mbuf *mb, void *arg)
{
	struct side *sd = arg;
	(void)dst;

	*err = bt_srtp_protect(sd->s, mb, sd->rtcp);
	return false;  /* not sent by us: the socket sends it (or not) */
}

/* true: consumed here (dropped), the socket's handler never sees it */
static bool recv_h(struct sa *src, struct mbuf *mb, void *arg)
{
	struct side *sd = arg;
	(void)src;

	return bt_srtp_unprotect(sd->s, mb, sd->rtcp) != 0;
}

static int helper(struct bt_srtp *s, struct udp_sock *us, bool rtcp,
		  struct udp_helper **uhp)
{
	struct side *sd = rtcp ? &s->rtcp_side : &s->rtp_side;

	sd->s = s;
	sd->rtcp = rtcp;
	return udp_register_helper(uhp, us, LAYER, send_h, recv_h, sd);
}

int bt_srtp_alloc(struct bt_srtp **sp, struct rtp_sock *rtp,
		  enum srtp_suite suite, const uint8_t *tx_key,
		  const uint8_t *rx_key, size_t key_len, const char *id)
{
	struct bt_srtp *s;
	int err;

	if (!sp || !tx_key || !rx_key || !key_len ||
	    key_len > sizeof(s->rx_key))
		return EINVAL;
	s = mem_zalloc(sizeof(*s), destructor);
	if (!s)
		return ENOMEM;
	s->suite = suite;
	memcpy(s->rx_key, rx_key, key_len);
	s->key_len = key_len;
	str_ncpy(s->id, id ? id : "srtp", sizeof(s->id));
	err = srtp_alloc(&s->tx, suite, tx_key, key_len, 0);
	if (!err)
		err = srtp_alloc(&s->rx, suite, rx_key, key_len, 0);
	if (err)
		goto out;
	if (rtp) {
		err = helper(s, rtp_sock(rtp), false, &s->uh_rtp);
		if (!err)
			err = helper(s, rtcp_sock(rtp), true, &s->uh_rtcp);
	}
 out:
	if (err)
		mem_deref(s);
	else
		*sp = s;
	return err;
}

void bt_srtp_stats(const struct bt_srtp *s, struct bt_srtp_stats *st)
{
	if (s && st)
		*st = s->st;
	else if (st)
		memset(st, 0, sizeof(*st));
}
