/**
 * @file test_sdp.c  SDP offer/answer for phone calls: the peer's first
 * shared codec wins (its payload type numbers kept), telephone-event at
 * the codec's clock, static payload types, direction and hold, refused
 * streams keep their line, and what is not an offer is refused with the
 * right error; our own offer (banter dial) reads back as written.
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
	assert_true(bt_sdp_answer_print(buf, sz, o, &la, 1, 2) > 0);
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
		assert_int_equal(bt_sdp_answer_print(buf, 40, &o, &la, 1, 2),
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
		{"v=0\r\nc=IN IP4 10.0.0.1\r\nm=audio 4000 RTP/SAVP 0\r\n",
		 EPROTONOSUPPORT},
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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_opus_first),
		cmocka_unit_test(test_peer_order_and_static),
		cmocka_unit_test(test_hold_and_streams),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_offer),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
