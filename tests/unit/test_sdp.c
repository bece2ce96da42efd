/**
 * @file test_sdp.c  SDP offer/answer for phone calls: the peer's first
 * shared codec wins (its payload type numbers kept), telephone-event at
 * the codec's clock, static payload types, direction and hold, refused
 * streams keep their line, and what is not an offer is refused with the
 * right error; our own offer (banter dial) reads back as written; SRTP
 * keys (a=crypto, RFC 4568): suites, keys, malformed lines, RTP/SAVP
 * without a suite of ours, and our key in the answer.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>
#include <re.h>
#include "audio/codec.h"
#include "transport/sdp.h"

static const char baresip[] =
	"v=0\r\n"
	"o=- 1234 5678 IN IP4 192.0.2.10\r\n"
	"s=-\r\n"
	"c=IN IP4 192.0.2.10\r\n"
	"t=0 0\r\n"
	"m=audio 4000 RTP/AVP 96 9 0 8 101 102\r\n"
	"a=rtpmap:96 opus/48000/2\r\n"
	"a=fmtp:96 stereo=1;sprop-stereo=1\r\n"
	"a=rtpmap:9 G722/8000\r\n"
	"a=rtpmap:0 PCMU/8000\r\n"
	"a=rtpmap:8 PCMA/8000\r\n"
	"a=rtpmap:101 telephone-event/48000\r\n"
	"a=rtpmap:102 telephone-event/8000\r\n"
	"a=sendrecv\r\n"
	"a=ptime:20\r\n";

static void answer(const struct bt_sdp_offer *o, char *buf, size_t sz)
{
	struct sa la;

	assert_int_equal(sa_set_str(&la, "198.51.100.1", 20000), 0);
	assert_true(bt_sdp_answer_print(buf, sz, o, &la, 1, 2, NULL) > 0);
}

static void test_opus_first(void **state)
{
	struct bt_sdp_offer o;
	char buf[1024];
	(void)state;

	assert_int_equal(bt_sdp_offer_parse(baresip, strlen(baresip), &o), 0);
	assert_int_equal(o.ci->id, BT_CODEC_OPUS);
	assert_int_equal(o.pt, 96);
	/* the event at Opus' clock, not the first one offered */
	assert_int_equal(o.te_pt, 101);
	assert_int_equal(o.te_clock_hz, 48000);
	assert_int_equal(o.dir, BT_SDP_SENDRECV);
	assert_int_equal(o.ptime_ms, 20);
	assert_int_equal(sa_port(&o.addr), 4000);
	assert_true(sa_isset(&o.addr, SA_ADDR));
	assert_false(o.hold_addr);
	answer(&o, buf, sizeof(buf));
	assert_non_null(strstr(buf, "c=IN IP4 198.51.100.1\r\n"));
	assert_non_null(strstr(buf, "m=audio 20000 RTP/AVP 96 101\r\n"));
	assert_non_null(strstr(buf, "a=rtpmap:96 opus/48000/2\r\n"));
	assert_non_null(strstr(buf, "a=fmtp:96 stereo=0"));
	assert_non_null(strstr(buf, "a=rtpmap:101 telephone-event/48000\r\n"));
	assert_non_null(strstr(buf, "a=sendrecv\r\n"));
	/* one line too small: refused, not cut */
	{
		struct sa la;
		sa_set_str(&la, "198.51.100.1", 20000);
		assert_int_equal(bt_sdp_answer_print(buf, 40, &o, &la, 1, 2, NULL),
				 -1);
	}
}

static void test_peer_order_and_static(void **state)
{
	static const char s1[] = "v=0\nc=IN IP4 10.0.0.1\nm=audio 5000 "
		"RTP/AVP 0 9\n";  /* bare \n, no rtpmap: static types */
	static const char s2[] = "v=0\r\nc=IN IP4 10.0.0.1\r\nm=audio 5000 "
		"RTP/AVP 3 118 8\r\na=rtpmap:118 g722/8000\r\n";
	struct bt_sdp_offer o;
	char buf[1024];
	(void)state;

	/* the peer prefers PCMU over G.722: the peer decides */
	assert_int_equal(bt_sdp_offer_parse(s1, strlen(s1), &o), 0);
	assert_int_equal(o.ci->id, BT_CODEC_PCMU);
	assert_int_equal(o.pt, 0);
	assert_int_equal(o.te_pt, -1);
	answer(&o, buf, sizeof(buf));
	assert_non_null(strstr(buf, "m=audio 20000 RTP/AVP 0\r\n"));
	assert_null(strstr(buf, "telephone-event"));
	/* GSM is not ours; a dynamic number for G.722 is kept */
	assert_int_equal(bt_sdp_offer_parse(s2, strlen(s2), &o), 0);
	assert_int_equal(o.ci->id, BT_CODEC_G722);
	assert_int_equal(o.pt, 118);
	answer(&o, buf, sizeof(buf));
	assert_non_null(strstr(buf, "a=rtpmap:118 G722/8000\r\n"));
}

static void test_hold_and_streams(void **state)
{
	static const char hold[] = "v=0\r\nc=IN IP4 10.0.0.1\r\na=sendonly\r\n"
		"m=video 6000 RTP/AVP 96\r\na=rtpmap:96 H264/90000\r\n"
		"m=audio 5000 RTP/SAVP 0\r\n"
		"m=audio 5002 RTP/AVP 8\r\n";
	static const char old[] = "v=0\r\nc=IN IP4 0.0.0.0\r\nm=audio 5000 "
		"RTP/AVP 8\r\na=inactive\r\n";
	struct bt_sdp_offer o;
	char buf[1024];
	(void)state;

	assert_int_equal(bt_sdp_offer_parse(hold, strlen(hold), &o), 0);
	assert_int_equal(o.audio, 2);   /* the first plain RTP audio */
	assert_int_equal(o.ci->id, BT_CODEC_PCMA);
	assert_int_equal(o.dir, BT_SDP_SENDONLY);  /* from the session */
	assert_int_equal(bt_sdp_answer_dir(o.dir), BT_SDP_RECVONLY);
	answer(&o, buf, sizeof(buf));
	assert_non_null(strstr(buf, "m=video 0 RTP/AVP 96\r\n"));
	assert_non_null(strstr(buf, "m=audio 0 RTP/SAVP 0\r\n"));
	assert_non_null(strstr(buf, "m=audio 20000 RTP/AVP 8\r\n"));
	assert_non_null(strstr(buf, "a=recvonly\r\n"));
	/* the three m= lines in the offer's order */
	assert_true(strstr(buf, "m=video") < strstr(buf, "m=audio 0"));
	assert_true(strstr(buf, "m=audio 0") < strstr(buf, "m=audio 20000"));

	assert_int_equal(bt_sdp_offer_parse(old, strlen(old), &o), 0);
	assert_true(o.hold_addr);
	assert_int_equal(o.dir, BT_SDP_INACTIVE);
}

static void test_refused(void **state)
{
	static const struct {
		const char *sdp;
		int err;
	} cases[] = {
		{"", EBADMSG},
		{"hello", EBADMSG},
		{"v=0\r\nm=audio 4000 RTP/AVP 0\r\n", EBADMSG},  /* no c= */
		{"v=0\r\nc=IN IP4 host.example\r\nm=audio 1 RTP/AVP 0\r\n",
		 EBADMSG},
		{"v=0\r\nc=IN IP4 10.0.0.1\r\nm=audio x RTP/AVP 0\r\n",
		 EBADMSG},
		{"v=0\r\nc=IN IP4 10.0.0.1\r\nm=audio 4000 RTP/AVP 900\r\n",
		 EBADMSG},
		/* an rtpmap that cannot be read is ignored */
		{"v=0\r\nc=IN IP4 10.0.0.1\r\nm=audio 4000 RTP/AVP 0\r\n"
		 "a=rtpmap:0 PCMU\r\n", 0},
		{"v=0\r\nc=IN IP4 10.0.0.1\r\nm=audio 4000 RTP/AVP 0\r\nxx\r\n",
		 EBADMSG},
		{"v=0\r\nc=IN IP4 10.0.0.1\r\nm=video 4000 RTP/AVP 96\r\n",
		 EPROTONOSUPPORT},
		/* what would be copied into the answer must be plain text */
		{"v=0\r\nc=IN IP4 10.0.0.1\r\nm=video 4000 RTP\rX 96\r\n"
		 "m=audio 4002 RTP/AVP 0\r\n", EBADMSG},
		/* SRTP required, and no key to do it with */
		{"v=0\r\nc=IN IP4 10.0.0.1\r\nm=audio 4000 RTP/SAVP 0\r\n",
		 EKEYREJECTED},
		{"v=0\r\nc=IN IP4 10.0.0.1\r\nm=audio 0 RTP/AVP 0\r\n",
		 EPROTONOSUPPORT},
		{"v=0\r\nc=IN IP4 10.0.0.1\r\nm=audio 4000 RTP/AVP 3 18\r\n",
		 ENOTSUP},
		{"v=0\r\nc=IN IP4 10.0.0.1\r\nm=audio 4000 RTP/AVP 96\r\n"
		 "a=rtpmap:96 opus/48000\r\n", ENOTSUP},  /* opus is /2 */
		{"v=0\r\nc=IN IP4 10.0.0.1\r\nm=audio 4000 RTP/AVP 101\r\n"
		 "a=rtpmap:101 telephone-event/8000\r\n", ENOTSUP},
	};
	struct bt_sdp_offer o;
	(void)state;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		print_message("%zu: %s\n", i, cases[i].sdp);
		assert_int_equal(bt_sdp_offer_parse(cases[i].sdp,
			strlen(cases[i].sdp), &o), cases[i].err);
	}
	assert_int_equal(bt_sdp_offer_parse(NULL, 0, &o), EINVAL);
}

/* Our offer (banter dial), read back as the callee reads it; a callee's
 * answer with one codec is read the same way. */
static void test_offer(void **state)
{
	const enum bt_codec_id all[] = {BT_CODEC_OPUS, BT_CODEC_G722,
					BT_CODEC_PCMU, BT_CODEC_PCMA};
	const enum bt_codec_id narrow[] = {BT_CODEC_PCMA, BT_CODEC_PCMU};
	static const char ans[] =
		"v=0\r\no=- 1 1 IN IP4 192.0.2.10\r\ns=-\r\n"
		"c=IN IP4 192.0.2.10\r\nt=0 0\r\n"
		"m=audio 4002 RTP/AVP 9 101\r\n"
		"a=rtpmap:101 telephone-event/8000\r\na=recvonly\r\n";
	struct bt_sdp_offer o;
	struct sa la;
	char buf[1024];
	int n;
	(void)state;

	assert_int_equal(sa_set_str(&la, "198.51.100.1", 20000), 0);
	n = bt_sdp_offer_print(buf, sizeof(buf), all, 4, &la, 1, 1);
	assert_true(n > 0);
	assert_non_null(strstr(buf, "c=IN IP4 198.51.100.1\r\n"));
	assert_non_null(strstr(buf,
		"m=audio 20000 RTP/AVP 96 9 0 8 101 100\r\n"));
	assert_non_null(strstr(buf, "a=fmtp:96 stereo=0"));
	assert_non_null(strstr(buf, "a=rtpmap:100 telephone-event/48000\r\n"));
	assert_non_null(strstr(buf, "a=sendrecv\r\n"));
	assert_int_equal(bt_sdp_offer_parse(buf, (size_t)n, &o), 0);
	assert_int_equal(o.ci->id, BT_CODEC_OPUS);
	assert_int_equal(o.pt, 96);
	assert_int_equal(o.te_pt, 100);
	assert_int_equal(o.n_fmts, 6);
	assert_int_equal(sa_port(&o.addr), 20000);

	/* no Opus: telephone-event at 8 kHz only, our order kept */
	n = bt_sdp_offer_print(buf, sizeof(buf), narrow, 2, &la, 1, 1);
	assert_true(n > 0);
	assert_non_null(strstr(buf, "m=audio 20000 RTP/AVP 8 0 101\r\n"));
	assert_null(strstr(buf, "48000"));
	assert_int_equal(bt_sdp_offer_parse(buf, (size_t)n, &o), 0);
	assert_int_equal(o.ci->id, BT_CODEC_PCMA);
	assert_int_equal(o.te_pt, 101);

	/* too small, no codec, too many: refused */
	assert_int_equal(bt_sdp_offer_print(buf, 100, all, 4, &la, 1, 1), -1);
	assert_int_equal(bt_sdp_offer_print(buf, sizeof(buf), all, 0, &la, 1,
					    1), -1);
	assert_int_equal(bt_sdp_offer_print(buf, sizeof(buf), all, 5, &la, 1,
					    1), -1);

	/* the answer: G.722, the callee only receives */
	assert_int_equal(bt_sdp_offer_parse(ans, strlen(ans), &o), 0);
	assert_int_equal(o.ci->id, BT_CODEC_G722);
	assert_int_equal(o.te_pt, 101);
	assert_int_equal(o.dir, BT_SDP_RECVONLY);
}

#define KEY30 "WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz"   /* 30 bytes */
#define SAVP_HEAD "v=0\r\nc=IN IP4 10.0.0.1\r\nt=0 0\r\n" \
	"m=audio 4000 RTP/SAVP 0\r\n"

static void test_crypto(void **state)
{
	static const char baresip_srtp[] = SAVP_HEAD
		"a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:" KEY30 "\r\n"
		"a=crypto:2 AES_CM_128_HMAC_SHA1_32 inline:" KEY30 "\r\n";
	static const uint8_t ours[30] = {
		1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17,
		18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30};
	struct bt_sdp_offer o;
	uint8_t want[30];
	size_t wn = sizeof(want);
	char buf[1024];
	struct sa la;
	(void)state;

	assert_int_equal(base64_decode(KEY30, strlen(KEY30), want, &wn), 0);
	assert_int_equal(wn, 30);
	assert_int_equal(bt_sdp_offer_parse(baresip_srtp,
					    strlen(baresip_srtp), &o), 0);
	assert_true(o.savp);
	assert_int_equal(o.n_crypto, 2);
	assert_int_equal(o.n_crypto_bad, 0);
	/* the peer's first line is its choice */
	assert_int_equal(o.crypto.tag, 1);
	assert_int_equal(o.crypto.suite, SRTP_AES_CM_128_HMAC_SHA1_80);
	assert_int_equal(o.crypto.key_len, 30);
	assert_memory_equal(o.crypto.key, want, 30);

	/* the answer: its tag and suite, our key, on its profile */
	assert_int_equal(sa_set_str(&la, "198.51.100.1", 20000), 0);
	assert_true(bt_sdp_answer_print(buf, sizeof(buf), &o, &la, 1, 2,
					ours) > 0);
	assert_non_null(strstr(buf, "m=audio 20000 RTP/SAVP 0\r\n"));
	assert_non_null(strstr(buf, "a=crypto:1 AES_CM_128_HMAC_SHA1_80 "
			       "inline:AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRob"
			       "HB0e\r\n"));
	assert_null(strstr(buf, "a=crypto:2"));
	/* SRTP and no key of ours: refused, not written without one */
	assert_int_equal(bt_sdp_answer_print(buf, sizeof(buf), &o, &la, 1, 2,
					     NULL), -1);

	/* _32 alone; and an unknown suite first is skipped */
	{
		static const char s32[] = SAVP_HEAD
			"a=crypto:7 F8_128_HMAC_SHA1_80 inline:" KEY30 "\r\n"
			"a=crypto:9 AES_CM_128_HMAC_SHA1_32 inline:" KEY30
			"|2^31\r\n";
		assert_int_equal(bt_sdp_offer_parse(s32, strlen(s32), &o), 0);
		assert_int_equal(o.crypto.tag, 9);
		assert_int_equal(o.crypto.suite,
				 SRTP_AES_CM_128_HMAC_SHA1_32);
		assert_int_equal(o.n_crypto, 2);
		assert_int_equal(o.n_crypto_bad, 0);
	}
	/* RTP/AVP with crypto (optional SRTP, as baresip's srtp): taken */
	{
		static const char avp[] = "v=0\r\nc=IN IP4 10.0.0.1\r\n"
			"m=audio 4000 RTP/AVP 0\r\n"
			"a=crypto:3 AES_CM_128_HMAC_SHA1_80 inline:" KEY30
			"\r\n";
		assert_int_equal(bt_sdp_offer_parse(avp, strlen(avp), &o), 0);
		assert_false(o.savp);
		assert_int_equal(o.crypto.tag, 3);
		assert_true(bt_sdp_answer_print(buf, sizeof(buf), &o, &la, 1,
						2, ours) > 0);
		assert_non_null(strstr(buf, "m=audio 20000 RTP/AVP 0\r\n"));
		assert_non_null(strstr(buf, "a=crypto:3 "));
	}
	/* a SAVP stream we cannot key gives way to a later plain one */
	{
		static const char two[] = "v=0\r\nc=IN IP4 10.0.0.1\r\n"
			"m=audio 4000 RTP/SAVP 0\r\n"
			"a=crypto:1 F8_128_HMAC_SHA1_80 inline:" KEY30 "\r\n"
			"m=audio 4002 RTP/AVP 8\r\n";
		assert_int_equal(bt_sdp_offer_parse(two, strlen(two), &o), 0);
		assert_int_equal(o.audio, 1);
		assert_int_equal(o.crypto.key_len, 0);
		assert_int_equal(o.ci->id, BT_CODEC_PCMA);
	}
}

static void test_crypto_refused(void **state)
{
	static const struct {
		const char *sdp;
		int err;
		unsigned bad;
	} cases[] = {
		/* SAVP and only suites we lack, a key method not inline, an
		 * MKI, session parameters */
		{SAVP_HEAD "a=crypto:1 F8_128_HMAC_SHA1_80 inline:" KEY30
		 "\r\n", EKEYREJECTED, 0},
		{SAVP_HEAD "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:" KEY30
		 "|2^20|1:4\r\n", EKEYREJECTED, 0},
		{SAVP_HEAD "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:" KEY30
		 " UNENCRYPTED_SRTP\r\n", EKEYREJECTED, 0},
		{SAVP_HEAD "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:" KEY30
		 ";inline:" KEY30 "\r\n", EKEYREJECTED, 0},
		/* malformed: no tag, no key, bad base64, a short key, a key
		 * too long for its suite, a lone base64 char, bad padding */
		{SAVP_HEAD "a=crypto:AES_CM_128_HMAC_SHA1_80 inline:" KEY30
		 "\r\n", EKEYREJECTED, 1},
		{SAVP_HEAD "a=crypto:1 AES_CM_128_HMAC_SHA1_80\r\n",
		 EKEYREJECTED, 1},
		{SAVP_HEAD "a=crypto:1 AES_CM_128_HMAC_SHA1_80 key:" KEY30
		 "\r\n", EKEYREJECTED, 1},
		{SAVP_HEAD "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:"
		 "WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVub!!!\r\n",
		 EKEYREJECTED, 1},
		{SAVP_HEAD "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:"
		 "WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9\r\n", EKEYREJECTED, 1},
		{SAVP_HEAD "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:" KEY30
		 "QUJD\r\n", EKEYREJECTED, 1},
		{SAVP_HEAD "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:" KEY30
		 "Q\r\n", EKEYREJECTED, 1},
		{SAVP_HEAD "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:" KEY30
		 "=\r\n", EKEYREJECTED, 1},
		{SAVP_HEAD "a=crypto:1234567890 AES_CM_128_HMAC_SHA1_80 inline:"
		 KEY30 "\r\n", EKEYREJECTED, 1},
		{SAVP_HEAD "a=crypto:123456789 AES_CM_128_HMAC_SHA1_80 inline:"
		 KEY30 "\r\n", 0, 0},
		/* optional SRTP, only malformed keys: not a plain call */
		{"v=0\r\nc=IN IP4 10.0.0.1\r\nm=audio 4000 RTP/AVP 0\r\n"
		 "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:xyz\r\n",
		 EKEYREJECTED, 1},
		/* optional SRTP, a suite we lack: plain RTP */
		{"v=0\r\nc=IN IP4 10.0.0.1\r\nm=audio 4000 RTP/AVP 0\r\n"
		 "a=crypto:1 F8_128_HMAC_SHA1_80 inline:" KEY30 "\r\n",
		 0, 0},
		/* one malformed line and a good one: the good one */
		{SAVP_HEAD "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:xyz\r\n"
		 "a=crypto:2 AES_CM_128_HMAC_SHA1_80 inline:" KEY30 "\r\n",
		 0, 1},
	};
	struct bt_sdp_offer o;
	(void)state;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		print_message("%zu: %s\n", i, cases[i].sdp);
		assert_int_equal(bt_sdp_offer_parse(cases[i].sdp,
			strlen(cases[i].sdp), &o), cases[i].err);
		assert_int_equal(o.n_crypto_bad, cases[i].bad);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_opus_first),
		cmocka_unit_test(test_peer_order_and_static),
		cmocka_unit_test(test_hold_and_streams),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_offer),
		cmocka_unit_test(test_crypto),
		cmocka_unit_test(test_crypto_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
