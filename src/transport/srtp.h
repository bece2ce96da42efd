/**
 * @file srtp.h  SRTP and SRTCP for a call's RTP socket (RFC 3711, keys by
 *               SDES), over libre's srtp; private to src/transport.
 *
 * Attached to an rtp_sock as a UDP helper on its RTP and RTCP sockets:
 * everything sent there is encrypted (our RTP and libre's own RTCP
 * reports) and everything received is decrypted before the socket's
 * handlers see it. A packet that does not authenticate, or replays one
 * already seen, never reaches them: it is dropped and counted, so it
 * moves no symmetric-RTP latch and feeds no jitter buffer.
 */
#ifndef BT_TRANSPORT_SRTP_H
#define BT_TRANSPORT_SRTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <re.h>

struct bt_srtp;

struct bt_srtp_stats {
	uint32_t auth_fail;   /**< RTP that failed authentication (or was
				   not SRTP: too short) */
	uint32_t rtcp_fail;   /**< the same of RTCP */
	uint32_t replayed;    /**< authentic, but seen before (both) */
	uint32_t tx_fail;     /**< could not be encrypted (not sent) */
	uint32_t resets;      /**< receiving context started afresh (its
				   stream table filled by forged SSRCs) */
};

/**
 * Protect what leaves on rtp and unprotect what comes in with suite:
 * tx_key is ours (the one our SDP gave), rx_key the peer's, key_len
 * bytes each (master key then salt). id names the call in the one log
 * line written on the first packet dropped. Call on the loop that polls
 * rtp; free with mem_deref (the helpers are removed).
 */
int bt_srtp_alloc(struct bt_srtp **sp, struct rtp_sock *rtp,
		  enum srtp_suite suite, const uint8_t *tx_key,
		  const uint8_t *rx_key, size_t key_len, const char *id);

/**
 * Protect (encrypt and sign) one RTP (rtcp false) or RTCP packet in place,
 * from mb->pos to mb->end; mb->pos stays at its start. What the socket
 * helper does to every packet sent; 0 or an errno.
 */
int bt_srtp_protect(struct bt_srtp *s, struct mbuf *mb, bool rtcp);

/**
 * Check and decrypt one received packet in place (mb->pos back at its
 * start, mb->end before the tag): 0, or EAUTH (counted as auth_fail or
 * rtcp_fail), EALREADY (a replay, counted), or another errno for a packet
 * too short or of a stream libre cannot follow (counted as a failure).
 */
int bt_srtp_unprotect(struct bt_srtp *s, struct mbuf *mb, bool rtcp);

void bt_srtp_stats(const struct bt_srtp *s, struct bt_srtp_stats *st);

#endif
