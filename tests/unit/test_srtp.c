/**
 * @file test_srtp.c  SRTP for calls (src/transport/srtp.c): two of our
 * contexts with each other's keys understand each other (RTP and RTCP,
 * each suite); a packet changed on the way, with a wrong key or replayed
 * is refused and counted; over real sockets, what does not authenticate
 * never reaches the RTP handler (so it cannot move the symmetric-RTP
 * latch), and what does arrives decrypted.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>
#include <re.h>
#include "transport/sdp.h"
#include "transport/srtp.h"

static const char payload[] = "twenty ms of audio, more or less";

static void keys(uint8_t *a, uint8_t *b, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		a[i] = (uint8_t)(i * 7 + 1);
		b[i] = (uint8_t)(i * 13 + 5);
	}
}

static struct mbuf *rtp_packet(uint16_t seq)
{
	struct rtp_header h;
	struct mbuf *mb = mbuf_alloc(256);

	assert_non_null(mb);
	memset(&h, 0, sizeof(h));
	h.ver = RTP_VERSION;
	h.pt = 9;
	h.seq = seq;
	h.ts = 160u * seq;
	h.ssrc = 0x12345678;
	assert_int_equal(rtp_hdr_encode(mb, &h), 0);
	assert_int_equal(mbuf_write_mem(mb, (const uint8_t *)payload,
					sizeof(payload)), 0);
	mb->pos = 0;
	return mb;
}

/* a receiver report without blocks: V=2, PT=201, length 1, SSRC */
static struct mbuf *rtcp_packet(void)
{
	static const uint8_t rr[] = {0x80, 201, 0, 1, 0x12, 0x34, 0x56, 0x78};
	struct mbuf *mb = mbuf_alloc(128);

	assert_non_null(mb);
	assert_int_equal(mbuf_write_mem(mb, rr, sizeof(rr)), 0);
	mb->pos = 0;
	return mb;
}

static void test_round_trip(void **state)
{
	static const struct {
		enum srtp_suite suite;
		size_t key_len, tag_len;
	} suites[] = {
		{SRTP_AES_CM_128_HMAC_SHA1_80, 30, 10},
		{SRTP_AES_CM_128_HMAC_SHA1_32, 30, 4},
		{SRTP_AES_256_CM_HMAC_SHA1_80, 46, 10},
		{SRTP_AES_128_GCM, 28, 16},
	};
	(void)state;

	for (size_t k = 0; k < sizeof(suites) / sizeof(suites[0]); k++) {
		uint8_t ka[BT_SDP_KEY_MAX], kb[BT_SDP_KEY_MAX];
		struct bt_srtp *a = NULL, *b = NULL;
		struct bt_srtp_stats st;
		size_t n = suites[k].key_len;

		print_message("%s\n", bt_sdp_suite_name(suites[k].suite));
		keys(ka, kb, n);
		assert_int_equal(bt_srtp_alloc(&a, NULL, suites[k].suite, ka,
					       kb, n, "a"), 0);
		assert_int_equal(bt_srtp_alloc(&b, NULL, suites[k].suite, kb,
					       ka, n, "b"), 0);
		for (uint16_t seq = 65530; seq != 6; seq++) {
			struct mbuf *mb = rtp_packet(seq);
			size_t len = mb->end;

			assert_int_equal(bt_srtp_protect(a, mb, false), 0);
			assert_int_equal(mb->pos, 0);
			assert_int_equal(mb->end, len + suites[k].tag_len);
			assert_memory_not_equal(mb->buf + RTP_HEADER_SIZE,
						payload, sizeof(payload));
			assert_int_equal(bt_srtp_unprotect(b, mb, false), 0);
			assert_int_equal(mb->pos, 0);
			assert_int_equal(mb->end, len);
			assert_memory_equal(mb->buf + RTP_HEADER_SIZE, payload,
					    sizeof(payload));
			mem_deref(mb);
		}
		/* RTCP the other way */
		{
			struct mbuf *mb = rtcp_packet();
			uint8_t plain[8];

			memcpy(plain, mb->buf, 8);
			assert_int_equal(bt_srtp_protect(b, mb, true), 0);
			assert_true(mb->end > 8);
			assert_int_equal(bt_srtp_unprotect(a, mb, true), 0);
			assert_int_equal(mb->end - mb->pos, 8);
			assert_memory_equal(mbuf_buf(mb), plain, 8);
			mem_deref(mb);
		}
		bt_srtp_stats(b, &st);
		assert_int_equal(st.auth_fail, 0);
		assert_int_equal(st.rtcp_fail, 0);
		assert_int_equal(st.replayed, 0);
		mem_deref(a);
		mem_deref(b);
	}
}

static void test_refused(void **state)
{
	uint8_t ka[30], kb[30];
	struct bt_srtp *a = NULL, *b = NULL, *wrong = NULL;
	struct bt_srtp_stats st;
	struct mbuf *mb;
	uint8_t copy[256];
	size_t len;
	(void)state;

	keys(ka, kb, sizeof(ka));
	assert_int_equal(bt_srtp_alloc(&a, NULL, SRTP_AES_CM_128_HMAC_SHA1_80,
				       ka, kb, 30, "a"), 0);
	assert_int_equal(bt_srtp_alloc(&b, NULL, SRTP_AES_CM_128_HMAC_SHA1_80,
				       kb, ka, 30, "b"), 0);
	/* b's rx key is a's tx key; this one's is not */
	assert_int_equal(bt_srtp_alloc(&wrong, NULL,
				       SRTP_AES_CM_128_HMAC_SHA1_80, ka, kb,
				       30, "wrong"), 0);

	/* one byte of the payload changed on the way */
	mb = rtp_packet(100);
	assert_int_equal(bt_srtp_protect(a, mb, false), 0);
	len = mb->end;
	memcpy(copy, mb->buf, len);
	mb->buf[RTP_HEADER_SIZE + 3] ^= 0x01;
	assert_int_equal(bt_srtp_unprotect(b, mb, false), EAUTH);
	bt_srtp_stats(b, &st);
	assert_int_equal(st.auth_fail, 1);

	/* the genuine one still passes, once; again it is a replay */
	mbuf_rewind(mb);
	assert_int_equal(mbuf_write_mem(mb, copy, len), 0);
	mb->pos = 0;
	assert_int_equal(bt_srtp_unprotect(b, mb, false), 0);
	mbuf_rewind(mb);
	assert_int_equal(mbuf_write_mem(mb, copy, len), 0);
	mb->pos = 0;
	assert_int_equal(bt_srtp_unprotect(b, mb, false), EALREADY);
	bt_srtp_stats(b, &st);
	assert_int_equal(st.auth_fail, 1);
	assert_int_equal(st.replayed, 1);

	/* the wrong key, and a packet shorter than its tag */
	mbuf_rewind(mb);
	assert_int_equal(mbuf_write_mem(mb, copy, len), 0);
	mb->pos = 0;
	assert_int_equal(bt_srtp_unprotect(wrong, mb, false), EAUTH);
	mbuf_rewind(mb);
	assert_int_equal(mbuf_write_mem(mb, copy, RTP_HEADER_SIZE + 2), 0);
	mb->pos = 0;
	assert_int_not_equal(bt_srtp_unprotect(b, mb, false), 0);
	bt_srtp_stats(b, &st);
	assert_int_equal(st.auth_fail, 2);
	mem_deref(mb);

	/* SRTCP tampered */
	mb = rtcp_packet();
	assert_int_equal(bt_srtp_protect(a, mb, true), 0);
	mb->buf[5] ^= 0x80;
	assert_int_equal(bt_srtp_unprotect(b, mb, true), EAUTH);
	bt_srtp_stats(b, &st);
	assert_int_equal(st.auth_fail, 2);
	assert_int_equal(st.rtcp_fail, 1);
	mem_deref(mb);

	/* SRTCP marked unencrypted (E flag clear): never agreed to, and
	 * libre would not authenticate it under GCM */
	{
		struct bt_srtp *ga = NULL, *gb = NULL;
		uint8_t k28a[28], k28b[28];

		keys(k28a, k28b, sizeof(k28a));
		assert_int_equal(bt_srtp_alloc(&ga, NULL, SRTP_AES_128_GCM,
					       k28a, k28b, 28, "ga"), 0);
		assert_int_equal(bt_srtp_alloc(&gb, NULL, SRTP_AES_128_GCM,
					       k28b, k28a, 28, "gb"), 0);
		/* RFC 7714's layout: the GCM tag, then E and the index */
		mb = rtcp_packet();
		mb->pos = mb->end;
		assert_int_equal(mbuf_write_mem(mb, copy, 16), 0);  /* "tag" */
		assert_int_equal(mbuf_write_u32(mb, htonl(1)), 0);  /* E=0 */
		mb->pos = 0;
		assert_int_equal(bt_srtp_unprotect(gb, mb, true), EAUTH);
		mem_deref(mb);
		mb = rtcp_packet();
		assert_int_equal(bt_srtp_protect(ga, mb, true), 0);
		assert_int_equal(bt_srtp_unprotect(gb, mb, true), 0);
		mem_deref(mb);
		mem_deref(ga);
		mem_deref(gb);
	}

	/* before the caller's first packet, forged ones of nine SSRCs
	 * fill libre's stream table (8): the caller is still heard */
	mem_deref(b);
	assert_int_equal(bt_srtp_alloc(&b, NULL, SRTP_AES_CM_128_HMAC_SHA1_80,
				       kb, ka, 30, "b2"), 0);
	for (uint32_t i = 0; i < 9; i++) {
		mb = rtp_packet(200);
		mb->buf[8] = (uint8_t)(0xa0 + i);
		mb->end += 10;  /* a tag of zeros */
		memset(mb->buf + mb->end - 10, 0, 10);
		assert_int_equal(bt_srtp_unprotect(b, mb, false), EAUTH);
		mem_deref(mb);
	}
	mb = rtp_packet(101);
	assert_int_equal(bt_srtp_protect(a, mb, false), 0);
	assert_int_equal(bt_srtp_unprotect(b, mb, false), 0);
	mem_deref(mb);
	bt_srtp_stats(b, &st);
	assert_int_equal(st.auth_fail, 9);

	/* a forged packet of the caller's SSRC half the sequence space
	 * behind would make libre count a roll-over before checking it:
	 * refused first, and the caller goes on being heard */
	for (unsigned seq = 20000; seq <= 40000; seq += 20000) {
		mb = rtp_packet((uint16_t)seq);
		assert_int_equal(bt_srtp_protect(a, mb, false), 0);
		assert_int_equal(bt_srtp_unprotect(b, mb, false), 0);
		mem_deref(mb);
	}
	mb = rtp_packet(100);
	mb->end += 10;
	memset(mb->buf + mb->end - 10, 0, 10);
	assert_int_equal(bt_srtp_unprotect(b, mb, false), EAUTH);
	mem_deref(mb);
	mb = rtp_packet(40001);
	assert_int_equal(bt_srtp_protect(a, mb, false), 0);
	assert_int_equal(bt_srtp_unprotect(b, mb, false), 0);
	mem_deref(mb);
	bt_srtp_stats(b, &st);
	assert_int_equal(st.auth_fail, 10);

	assert_int_equal(bt_srtp_alloc(&wrong, NULL,
				       SRTP_AES_CM_128_HMAC_SHA1_80, ka, kb,
				       29, "short key"), EINVAL);
	mem_deref(wrong);
	mem_deref(a);
	mem_deref(b);
}

/* ---- over sockets: the helpers on rtp_sock ---- */

struct peer {
	struct rtp_sock *rtp;
	struct bt_srtp *srtp;
	unsigned got;
	bool plain;          /* what arrived was the payload in clear */
};

static void rtp_h(const struct sa *src, const struct rtp_header *hdr,
		  struct mbuf *mb, void *arg)
{
	struct peer *p = arg;
	(void)src;
	(void)hdr;

	++p->got;
	p->plain = mbuf_get_left(mb) == sizeof(payload) &&
		!memcmp(mbuf_buf(mb), payload, sizeof(payload));
	re_cancel();
}

static void timeout_h(void *arg)
{
	(void)arg;
	re_cancel();
}

static void run_a_while(void)
{
	struct tmr t;

	tmr_init(&t);
	tmr_start(&t, 300, timeout_h, NULL);
	(void)re_main(NULL);
	tmr_cancel(&t);
}

static void test_sockets(void **state)
{
	struct peer a, b;
	uint8_t ka[30], kb[30];
	struct sa lo, dst;
	struct udp_sock *forger = NULL;
	struct bt_srtp_stats st;
	struct mbuf *mb;
	(void)state;

	memset(&a, 0, sizeof(a));
	memset(&b, 0, sizeof(b));
	keys(ka, kb, sizeof(ka));
	assert_int_equal(sa_set_str(&lo, "127.0.0.1", 0), 0);
	assert_int_equal(rtp_listen(&a.rtp, IPPROTO_UDP, &lo, 30000, 30999,
				    true, rtp_h, NULL, &a), 0);
	assert_int_equal(rtp_listen(&b.rtp, IPPROTO_UDP, &lo, 31000, 31999,
				    true, rtp_h, NULL, &b), 0);
	assert_int_equal(bt_srtp_alloc(&a.srtp, a.rtp,
				       SRTP_AES_CM_128_HMAC_SHA1_80, ka, kb,
				       30, "a"), 0);
	assert_int_equal(bt_srtp_alloc(&b.srtp, b.rtp,
				       SRTP_AES_CM_128_HMAC_SHA1_80, kb, ka,
				       30, "b"), 0);
	dst = *rtp_local(b.rtp);

	/* forged first: plain RTP to b's port, before any genuine packet */
	assert_int_equal(udp_listen(&forger, &lo, NULL, NULL), 0);
	mb = rtp_packet(7);
	mb->end += 10;
	memset(mb->buf + mb->end - 10, 0x55, 10);
	assert_int_equal(udp_send(forger, &dst, mb), 0);
	mem_deref(mb);
	run_a_while();
	assert_int_equal(b.got, 0);
	bt_srtp_stats(b.srtp, &st);
	assert_int_equal(st.auth_fail, 1);

	/* genuine: a's socket encrypts, b's decrypts */
	mb = mbuf_alloc(256);
	assert_non_null(mb);
	mb->pos = mb->end = RTP_HEADER_SIZE;
	assert_int_equal(mbuf_write_mem(mb, (const uint8_t *)payload,
					sizeof(payload)), 0);
	mb->pos = RTP_HEADER_SIZE;
	assert_int_equal(rtp_send(a.rtp, &dst, false, false, 9, 160, mb), 0);
	mem_deref(mb);
	run_a_while();
	assert_int_equal(b.got, 1);
	assert_true(b.plain);
	bt_srtp_stats(b.srtp, &st);
	assert_int_equal(st.auth_fail, 1);

	mem_deref(forger);
	mem_deref(a.srtp);
	mem_deref(b.srtp);
	mem_deref(a.rtp);
	mem_deref(b.rtp);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_sockets),
	};
	int rc;

	if (libre_init())
		return 1;
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	libre_close();
	return rc;
}
