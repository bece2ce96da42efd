/**
 * @file sdp.h  SDP offer/answer for a telephone call (RFC 3264), private to
 *              src/transport.
 *
 * The offer is parsed by a small reader of our own (not libre's sdp
 * session, which keeps per-session format state and cannot tell us which
 * of its lines it refused): what a call needs is the first audio stream's
 * address, its formats in the peer's order, telephone-event and the
 * direction, and its SRTP keys (SDES, RFC 4568). No allocation; fuzzable
 * alone.
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
	BT_SDP_KEY_MAX = 46,   /**< SRTP master key + salt, bytes */
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

/** An SRTP crypto attribute (a=crypto, RFC 4568): a suite and its key. */
struct bt_sdp_crypto {
	uint32_t tag;
	enum srtp_suite suite;         /**< libre's */
	uint8_t key[BT_SDP_KEY_MAX];   /**< master key then master salt */
	size_t key_len;                /**< 0: none (plain RTP) */
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
	bool savp;                     /**< RTP/SAVP(F): SRTP is required */
	unsigned n_crypto;             /**< a=crypto lines on audio streams */
	unsigned n_crypto_bad;         /**< ... of them malformed */
	struct bt_sdp_crypto crypto;   /**< the peer's first suite we take
					    (key_len 0: none) */
	/* the answer, filled by bt_sdp_offer_parse */
	int pt;                        /**< chosen payload type */
	const struct bt_codec_info *ci;/**< chosen codec */
};

/**
 * Read an offer and choose the codec: the peer's first format that we
 * have, and SRTP: the peer's first a=crypto line with a suite we take
 * (bt_sdp_suite_find). EBADMSG: not SDP (answer 400); EPROTONOSUPPORT: no
 * RTP audio stream; ENOTSUP: no codec in common; EKEYREJECTED: the stream
 * is RTP/SAVP and offers no suite we take, or every a=crypto line of an
 * RTP/AVP stream is malformed (all three: answer 488). A plain RTP/AVP
 * stream whose crypto suites are all unknown is taken without SRTP.
 */
int bt_sdp_offer_parse(const char *sdp, size_t len, struct bt_sdp_offer *o);

/**
 * Write the answer to o into buf: the chosen codec and telephone-event
 * on the audio line (the peer's payload type numbers), RTP at laddr,
 * every other line refused (port 0); with o->crypto, an a=crypto line of
 * its tag and suite with our key `key` (o->crypto.key_len bytes; NULL:
 * refused, -1). Returns the length, or -1 if buf is
 * too small. sess_id/version: the o= line's (version goes up on each
 * new answer in a dialog).
 */
int bt_sdp_answer_print(char *buf, size_t sz, const struct bt_sdp_offer *o,
			const struct sa *laddr, uint32_t sess_id,
			uint32_t version, const uint8_t *key);

/**
 * The SDES suite named name (e.g. "AES_CM_128_HMAC_SHA1_80"): libre's
 * suite and its key length (master key + salt) in bytes. ENOTSUP: not one
 * of ours. The list, for messages: bt_sdp_suites().
 */
int bt_sdp_suite_find(const struct pl *name, enum srtp_suite *suite,
		      size_t *key_len);
const char *bt_sdp_suite_name(enum srtp_suite suite);
/** "AES_CM_128_HMAC_SHA1_80, ..." */
const char *bt_sdp_suites(void);

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
