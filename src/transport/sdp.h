/**
 * @file sdp.h  SDP offer/answer for a telephone call (RFC 3264), private to
 *              src/transport.
 *
 * The offer is parsed by a small reader of our own (not libre's sdp
 * session, which keeps per-session format state and cannot tell us which
 * of its lines it refused): what a call needs is the first audio stream's
 * address, its formats in the peer's order, telephone-event and the
 * direction. No allocation; fuzzable alone.
 */
#ifndef BT_TRANSPORT_SDP_H
#define BT_TRANSPORT_SDP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <re.h>
#include "audio/codec.h"

struct bt_codec_info;

enum {
	BT_SDP_MAX = 8192,     /**< longest SDP we read */
	BT_SDP_MAX_MEDIA = 8,
	BT_SDP_MAX_FMTS = 32,
};

/** Which way audio flows, as seen by the side that wrote it. */
enum bt_sdp_dir {
	BT_SDP_INACTIVE = 0,
	BT_SDP_RECVONLY = 1,
	BT_SDP_SENDONLY = 2,
	BT_SDP_SENDRECV = 3,
};

struct bt_sdp_media {
	char type[16];       /**< "audio", "video", ... */
	char proto[24];      /**< "RTP/AVP" */
	char fmt0[8];        /**< its first format (a rejected line names one) */
	uint16_t port;
};

struct bt_sdp_offer {
	struct bt_sdp_media media[BT_SDP_MAX_MEDIA];
	size_t n_media;
	int audio;                     /**< index of the stream we take, -1 */
	struct sa addr;                /**< where its RTP goes */
	bool hold_addr;                /**< c= 0.0.0.0: the old way to hold */
	enum bt_sdp_dir dir;           /**< the peer's */
	struct {
		int pt;
		const struct bt_codec_info *ci;  /**< NULL: not ours */
	} fmts[BT_SDP_MAX_FMTS];       /**< in the peer's order */
	size_t n_fmts;
	int te_pt;                     /**< telephone-event, -1: none */
	uint32_t te_clock_hz;
	uint32_t ptime_ms;             /**< 0: not given */
	/* the answer, filled by bt_sdp_offer_parse */
	int pt;                        /**< chosen payload type */
	const struct bt_codec_info *ci;/**< chosen codec */
};

/**
 * Read an offer and choose the codec: the peer's first format that we
 * have. EBADMSG: not SDP (answer 400); EPROTONOSUPPORT: no RTP/AVP audio
 * stream; ENOTSUP: no codec in common (both: answer 488).
 */
int bt_sdp_offer_parse(const char *sdp, size_t len, struct bt_sdp_offer *o);

/**
 * Write the answer to o into buf: the chosen codec and telephone-event
 * on the audio line (the peer's payload type numbers), RTP at laddr,
 * every other line refused (port 0). Returns the length, or -1 if buf is
 * too small. sess_id/version: the o= line's (version goes up on each
 * new answer in a dialog).
 */
int bt_sdp_answer_print(char *buf, size_t sz, const struct bt_sdp_offer *o,
			const struct sa *laddr, uint32_t sess_id,
			uint32_t version);

/**
 * Write an offer into buf: codecs in that order (our preference; static
 * payload types, Opus as 96) and telephone-event, sendrecv, RTP at laddr.
 * Returns the length, or -1 if buf is too small. The answer is read with
 * bt_sdp_offer_parse (its first format we have is the callee's choice).
 */
int bt_sdp_offer_print(char *buf, size_t sz, const enum bt_codec_id *codecs,
		       size_t n_codecs, const struct sa *laddr,
		       uint32_t sess_id, uint32_t version);

/** Our direction in the answer to the peer's. */
enum bt_sdp_dir bt_sdp_answer_dir(enum bt_sdp_dir peer);

#endif
