/**
 * @file fuzz_srtp.c  libFuzzer harness: what reaches a call's SRTP socket
 * (src/transport/srtp.c over libre's srtp): the caller's genuine packets,
 * in order, among forged ones of any SSRC, sequence number and bytes,
 * genuine ones changed on the way, replays, and RTCP.
 *
 * The first byte picks the suite and the caller's first sequence number
 * (near a wrap or not); then records [op][seq hi][seq lo][len][len bytes].
 * op & 7: 0-2 the caller's next packet (payload from the record), 3 the
 * caller's last packet again, 4 a packet of the caller's key with one
 * byte changed,
 * 5 a forged packet (op's high bits: of the caller's SSRC or another),
 * 6 raw bytes as RTP, 7 raw bytes as RTCP.
 *
 * Checks what srtp.c promises: a packet that did not come from the
 * caller's key unchanged, or that comes again, is never accepted (for a
 * forged one: under GCM, see forged_in); every
 * genuine packet in order is accepted and decrypted to what was sent,
 * whatever forged traffic came between, except where docs/sip.md says
 * libre's srtp cannot help it: a forged packet of the caller's SSRC near
 * its sequence wrap, and a context started afresh after the stream
 * wrapped.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <re.h>
#include "transport/sdp.h"
#include "transport/srtp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

enum { CALLER = 0x5eed1234, WINDOW = 1000, MAX_PLD = 160 };

static struct mbuf *packet(uint32_t ssrc, uint16_t seq, const uint8_t *p,
			   size_t n)
{
	struct rtp_header h;
	struct mbuf *mb = mbuf_alloc(RTP_HEADER_SIZE + MAX_PLD + 32);

	if (!mb)
		abort();
	memset(&h, 0, sizeof(h));
	h.ver = RTP_VERSION;
	h.pt = 9;
	h.seq = seq;
	h.ts = 160u * seq;
	h.ssrc = ssrc;
	if (rtp_hdr_encode(mb, &h) || (n && mbuf_write_mem(mb, p, n)))
		abort();
	mb->pos = 0;
	return mb;
}

/*
 * A forged packet passed. Under an HMAC suite libFuzzer can do that: it
 * sees the tag libre compares with memcmp and copies it into its input,
 * which is no forgery; the caller's stream is then no longer ours to
 * check. GCM's tag is compared inside OpenSSL, out of its sight: a
 * forged GCM packet that passes is a hole.
 */
static void forged_in(bool aead, bool *exempt)
{
	if (aead)
		abort();
	*exempt = true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct {
		enum srtp_suite suite;
		size_t key_len;
	} suites[] = {
		{SRTP_AES_CM_128_HMAC_SHA1_80, 30},
		{SRTP_AES_CM_128_HMAC_SHA1_32, 30},
		{SRTP_AES_256_CM_HMAC_SHA1_80, 46},
		{SRTP_AES_128_GCM, 28},
	};
	uint8_t kc[BT_SDP_KEY_MAX], ks[BT_SDP_KEY_MAX];
	struct bt_srtp *caller = NULL, *us = NULL, *tamper = NULL;
	struct bt_srtp_stats st;
	struct mbuf *last = NULL;
	uint16_t seq;
	uint32_t sent = 0, last_resets = 0;
	bool wrapped = false, exempt = false;
	size_t i = 1, k;
	bool aead;

	if (size < 1)
		return 0;
	k = data[0] % 4;
	aead = suites[k].suite == SRTP_AES_128_GCM;
	for (size_t j = 0; j < sizeof(kc); j++) {
		kc[j] = (uint8_t)(j * 7 + 3);
		ks[j] = (uint8_t)(j * 11 + 1);
	}
	if (bt_srtp_alloc(&caller, NULL, suites[k].suite, kc, ks,
			  suites[k].key_len, "caller") ||
	    bt_srtp_alloc(&us, NULL, suites[k].suite, ks, kc,
			  suites[k].key_len, "us") ||
	    bt_srtp_alloc(&tamper, NULL, suites[k].suite, kc, ks,
			  suites[k].key_len, "tamper"))
		abort();
	seq = data[0] & 0x80 ? (uint16_t)(65536 - 40) : 1000;

	while (i + 4 <= size) {
		uint8_t op = data[i];
		uint16_t fseq = (uint16_t)(data[i + 1] << 8 | data[i + 2]);
		size_t n = data[i + 3];
		const uint8_t *p = data + i + 4;
		struct mbuf *mb = NULL;
		bool near_wrap;
		int err;

		if (n > MAX_PLD)
			n = MAX_PLD;
		if (i + 4 + n > size)
			n = size - i - 4;
		i += 4 + n;
		/* the caller's first packet comes first (docs/sip.md) */
		if (!sent)
			op = 0;
		/* the hole docs/sip.md owns to: within WINDOW of the wrap, a
		 * packet of the caller's SSRC may move libre's roll-over */
		near_wrap = (uint16_t)(seq + WINDOW) < 2 * WINDOW;
		switch (op & 7) {
		case 0: case 1: case 2:
			mb = packet(CALLER, seq, p, n);
			if (bt_srtp_protect(caller, mb, false))
				abort();
			mem_deref(last);
			last = mbuf_alloc(mb->end);
			if (!last || mbuf_write_mem(last, mb->buf, mb->end))
				abort();
			err = bt_srtp_unprotect(us, mb, false);
			bt_srtp_stats(us, &st);
			if (st.resets && wrapped)
				exempt = true;
			last_resets = st.resets;
			if (!exempt && (err || mb->end != RTP_HEADER_SIZE + n ||
					(n && memcmp(mb->buf + RTP_HEADER_SIZE,
						     p, n))))
				abort();
			++sent;
			if (++seq == 0)
				wrapped = true;
			break;
		case 3:  /* a replay */
			if (!last)
				break;
			mb = mbuf_alloc(last->end);
			if (!mb || mbuf_write_mem(mb, last->buf, last->end))
				abort();
			mb->pos = 0;
			err = bt_srtp_unprotect(us, mb, false);
			bt_srtp_stats(us, &st);
			/* a context started afresh has forgotten it */
			if (!err && !exempt && st.resets == last_resets)
				abort();
			break;
		case 4:  /* changed on the way, from another sender of the
			  * caller's key (the caller's own goes on in order) */
			mb = packet(CALLER, (uint16_t)(seq + fseq % 64), p, n);
			if (bt_srtp_protect(tamper, mb, false))
				abort();
			mb->buf[fseq % mb->end] ^= (uint8_t)(1u << (op >> 5));
			if (near_wrap)
				exempt = true;
			if (!bt_srtp_unprotect(us, mb, false))
				abort();
			break;
		case 5:  /* forged, with a tag of the record's bytes */
			mb = packet(op & 0x80 ? CALLER : 0xf0000000u | op, fseq,
				    p, n);
			if ((op & 0x80) && near_wrap)
				exempt = true;
			if (!bt_srtp_unprotect(us, mb, false) && n > 4)
				forged_in(aead, &exempt);
			break;
		case 6: case 7:
			mb = mbuf_alloc(n + 1);
			if (!mb || mbuf_write_mem(mb, p, n))
				abort();
			mb->pos = 0;
			if (n >= RTP_HEADER_SIZE && near_wrap &&
			    !memcmp(p + 8, "\x5e\xed\x12\x34", 4))
				exempt = true;
			err = bt_srtp_unprotect(us, mb, (op & 7) == 7);
			if (!err && n > 16)
				forged_in(aead, &exempt);
			break;
		}
		mem_deref(mb);
	}
	mem_deref(last);
	mem_deref(tamper);
	mem_deref(caller);
	mem_deref(us);
	return 0;
}
