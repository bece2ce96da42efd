/**
 * @file test_codec.c  The telephone codecs round-trip a 1 kHz tone (level
 * kept, energy at 1 kHz, bounded error for G.711), their static payload
 * types and rtpmap names; the jitter buffer reorders, conceals a loss,
 * grows on late packets, never stalls the tick and drops a backlog
 * beyond its bound at once.
 */
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <re.h>
#include "audio/codec.h"
#include "audio/jitter.h"

enum { FRAMES = 50, SKIP = 5 };

static double rms(const int16_t *p, size_t n)
{
	double e = 0;

	for (size_t i = 0; i < n; i++)
		e += (double)p[i] * p[i];
	return n ? sqrt(e / (double)n) : 0;
}

/* The share of the energy at f (Goertzel over the block). */
static double tone_share(const int16_t *p, size_t n, double f, double fs)
{
	double w = 2 * M_PI * f / fs, c = 2 * cos(w), s1 = 0, s2 = 0, tot = 0;

	for (size_t i = 0; i < n; i++) {
		double s0 = p[i] + c * s1 - s2;
		s2 = s1;
		s1 = s0;
		tot += (double)p[i] * p[i];
	}
	return tot > 0 ? (s1 * s1 + s2 * s2 - c * s1 * s2) * 2 / (double)n /
		tot : 0;
}

static void round_trip(enum bt_codec_id id, double max_db, double min_share)
{
	struct bt_codec *c = NULL;
	static int16_t in[FRAMES * BT_CODEC_MAX_FRAME],
		out[FRAMES * BT_CODEC_MAX_FRAME];
	uint8_t pkt[BT_CODEC_MAX_PACKET];
	size_t fs, n, got, total = 0;
	double rate, lin, lout;

	assert_int_equal(bt_codec_alloc(&c, id), 0);
	fs = bt_codec_frame_samples(c);
	rate = bt_codec_get_info(c)->rate_hz;
	assert_int_equal(fs, rate / 50);
	for (size_t i = 0; i < FRAMES * fs; i++)
		in[i] = (int16_t)(8000 * sin(2 * M_PI * 1000 * i / rate));
	for (size_t f = 0; f < FRAMES; f++) {
		assert_int_equal(bt_codec_encode(c, in + f * fs, pkt,
						 sizeof(pkt), &n), 0);
		assert_true(n > 0 && n <= BT_CODEC_MAX_PACKET);
		assert_int_equal(bt_codec_decode(c, pkt, n, out + total,
						 BT_CODEC_MAX_DECODE, &got), 0);
		assert_int_equal(got, fs);
		total += got;
	}
	/* past the codec's start-up and delay */
	lin = rms(in + SKIP * fs, (FRAMES - SKIP) * fs);
	lout = rms(out + SKIP * fs, (FRAMES - SKIP) * fs);
	print_message("%-5s level in %.0f out %.0f (%.2f dB), 1 kHz share "
		      "%.3f\n", bt_codec_get_info(c)->name, lin, lout,
		      20 * log10(lout / lin), tone_share(out + SKIP * fs,
		      (FRAMES - SKIP) * fs, 1000, rate));
	assert_true(fabs(20 * log10(lout / lin)) < max_db);
	assert_true(tone_share(out + SKIP * fs, (FRAMES - SKIP) * fs, 1000,
			       rate) > min_share);
	if (id == BT_CODEC_PCMU || id == BT_CODEC_PCMA) {
		/* sample by sample, no delay: within G.711's step size */
		for (size_t i = 0; i < FRAMES * fs; i++)
			assert_true(abs(out[i] - in[i]) <= 8000 / 16 + 16);
	}
	/* concealment: a repeat, quieter, then silence */
	{
		int16_t pcm[BT_CODEC_MAX_FRAME];
		double prev = 1e9;
		for (int k = 0; k < 8; k++) {
			bt_codec_conceal(c, pcm);
			if (id != BT_CODEC_OPUS) {
				assert_true(rms(pcm, fs) <= prev + 1);
				prev = rms(pcm, fs);
			}
		}
		if (id != BT_CODEC_OPUS)
			assert_true(rms(pcm, fs) == 0);
	}
	/* garbage is refused or decoded, never read past */
	{
		uint8_t junk[3] = {0xff, 0xff, 0xff};
		int16_t pcm[BT_CODEC_MAX_DECODE];
		(void)bt_codec_decode(c, junk, sizeof(junk), pcm,
				      BT_CODEC_MAX_DECODE, &got);
		assert_int_equal(bt_codec_decode(c, junk, 0, pcm,
						 BT_CODEC_MAX_DECODE, &got),
				 EBADMSG);
	}
	mem_deref(c);
}

static void test_opus(void **state)
{
	(void)state;
	round_trip(BT_CODEC_OPUS, 2.0, 0.9);
}

static void test_g722(void **state)
{
	(void)state;
	round_trip(BT_CODEC_G722, 1.0, 0.95);
}

static void test_pcmu(void **state)
{
	(void)state;
	round_trip(BT_CODEC_PCMU, 0.5, 0.99);
}

static void test_pcma(void **state)
{
	(void)state;
	round_trip(BT_CODEC_PCMA, 0.5, 0.99);
}

static void test_names(void **state)
{
	(void)state;
	assert_int_equal(bt_codec_find("g722", 4, 8000, 1)->id, BT_CODEC_G722);
	assert_int_equal(bt_codec_find("OPUS", 4, 48000, 2)->id,
			 BT_CODEC_OPUS);
	assert_null(bt_codec_find("opus", 4, 48000, 1));
	assert_null(bt_codec_find("G722", 4, 16000, 1));
	assert_null(bt_codec_find("PCM", 3, 8000, 0));
	assert_int_equal(bt_codec_find("pcmu", 4, 8000, 0)->id,
			 BT_CODEC_PCMU);
	assert_int_equal(bt_codec_static(0)->id, BT_CODEC_PCMU);
	assert_int_equal(bt_codec_static(8)->id, BT_CODEC_PCMA);
	assert_int_equal(bt_codec_static(9)->id, BT_CODEC_G722);
	assert_null(bt_codec_static(3));
	assert_null(bt_codec_static(-1));
	assert_int_equal(bt_codec_alloc(NULL, BT_CODEC_PCMU), EINVAL);
}

static enum bt_jitter_get get(struct bt_jitter *j, uint8_t *v)
{
	const uint8_t *p = NULL;
	size_t n = 0;
	enum bt_jitter_get r = bt_jitter_get(j, &p, &n);

	if (r == BT_JITTER_OK) {
		assert_int_equal(n, 1);
		*v = p[0];
	}
	return r;
}

static void put(struct bt_jitter *j, uint16_t seq)
{
	uint8_t v = (uint8_t)seq;

	assert_int_equal(bt_jitter_put(j, seq, &v, 1, true), 0);
}

static void test_jitter(void **state)
{
	struct bt_jitter *j = NULL;
	struct bt_jitter_stats st;
	uint8_t v = 0;
	(void)state;

	assert_int_equal(bt_jitter_alloc(&j, 2, 6), 0);
	/* nothing yet: the tick goes on with silence */
	assert_int_equal(get(j, &v), BT_JITTER_WAIT);
	/* 65534, 65535, then 1 before 0: wraps and reorders */
	put(j, 65534);
	assert_int_equal(get(j, &v), BT_JITTER_WAIT);
	put(j, 65535);
	put(j, 1);
	put(j, 0);
	assert_int_equal(get(j, &v), BT_JITTER_OK);
	assert_int_equal(v, (uint8_t)65534);
	assert_int_equal(get(j, &v), BT_JITTER_OK);
	assert_int_equal(v, (uint8_t)65535);
	assert_int_equal(get(j, &v), BT_JITTER_OK);
	assert_int_equal(v, 0);
	assert_int_equal(get(j, &v), BT_JITTER_OK);
	assert_int_equal(v, 1);
	/* 2 is lost: concealed, 3 plays in its turn */
	put(j, 3);
	put(j, 4);
	assert_int_equal(get(j, &v), BT_JITTER_LOST);
	assert_int_equal(get(j, &v), BT_JITTER_OK);
	assert_int_equal(v, 3);
	/* 2 arrives after its turn: dropped, the buffer grows by one */
	put(j, 2);
	bt_jitter_stats(j, &st);
	assert_int_equal(st.late, 1);
	assert_int_equal(st.target, 3);
	assert_int_equal(get(j, &v), BT_JITTER_LOST);  /* the stretch */
	assert_int_equal(get(j, &v), BT_JITTER_OK);
	assert_int_equal(v, 4);
	/* a DTMF packet takes sequence number 5: with 6 here, it takes no
	 * time; alone, a frame of silence */
	assert_int_equal(bt_jitter_put(j, 5, NULL, 0, false), 0);
	put(j, 6);
	assert_int_equal(get(j, &v), BT_JITTER_OK);
	assert_int_equal(v, 6);
	assert_int_equal(bt_jitter_put(j, 7, NULL, 0, false), 0);
	assert_int_equal(get(j, &v), BT_JITTER_SKIP);
	put(j, 8);
	put(j, 9);
	assert_int_equal(get(j, &v), BT_JITTER_OK);
	assert_int_equal(v, 8);
	assert_int_equal(get(j, &v), BT_JITTER_OK);
	assert_int_equal(v, 9);
	/* nothing buffered while playing: an underrun, not yet a loss */
	assert_true(bt_jitter_underrun(j));
	/* the sender stops: a few losses, then it waits, never stalls */
	for (int k = 0; k < 40; k++)
		assert_int_not_equal(get(j, &v), BT_JITTER_OK);
	assert_int_equal(get(j, &v), BT_JITTER_WAIT);
	assert_false(bt_jitter_underrun(j));
	/* and comes back with a jump: a new stream */
	for (uint16_t s = 30000; s < 30003; s++)
		put(j, s);
	assert_int_equal(get(j, &v), BT_JITTER_OK);
	assert_int_equal(v, (uint8_t)30000);
	/* duplicates are dropped; oversized payloads refused */
	put(j, 30003);
	put(j, 30003);
	bt_jitter_stats(j, &st);
	assert_int_equal(st.dup, 1);
	{
		static uint8_t big[BT_JITTER_MAX_PAYLOAD + 1];
		assert_int_equal(bt_jitter_put(j, 30004, big, sizeof(big),
					       true), EMSGSIZE);
	}
	/* a steady stream plays every packet, in order */
	bt_jitter_reset(j);
	{
		int ok = 0;
		uint8_t want = 0;
		for (uint16_t s = 100; s < 400; s++) {
			put(j, s);
			if (get(j, &v) == BT_JITTER_OK) {
				if (ok)
					assert_int_equal(v, want);
				want = (uint8_t)(v + 1);
				++ok;
			}
		}
		assert_true(ok >= 298);
	}
	mem_deref(j);
}

/*
 * A loop that stalled reads a socket full of packets at once: what the
 * buffer holds beyond its goal is bounded, the oldest are dropped at once
 * and counted, and play goes on from the oldest kept, in order.
 */
static void test_jitter_backlog(void **state)
{
	struct bt_jitter *j = NULL;
	struct bt_jitter_stats st;
	const uint32_t bound = 2 + BT_JITTER_BACKLOG;  /* goal 2 */
	uint16_t seq = 65500;  /* wraps during the test */
	uint8_t v = 0;
	(void)state;

	assert_int_equal(bt_jitter_alloc(&j, 2, 6), 0);
	/* steady: two held, one in and one out a tick */
	put(j, seq++);
	put(j, seq++);
	for (int k = 0; k < 20; k++) {
		put(j, seq++);
		assert_int_equal(get(j, &v), BT_JITTER_OK);
	}
	bt_jitter_stats(j, &st);
	assert_int_equal(st.target, 2);
	assert_int_equal(st.held, 2);
	/* a stall of 160 ms: 8 packets at once, within the bound, all kept */
	for (int k = 0; k < 8; k++)
		put(j, seq++);
	bt_jitter_stats(j, &st);
	assert_int_equal(st.held, 10);
	assert_int_equal(st.backlog, 0);
	for (int k = 0; k < 8; k++)
		assert_int_equal(get(j, &v), BT_JITTER_OK);
	/* a stall of 600 ms: 30 packets at once; the oldest beyond the
	 * bound go now, not one a second */
	for (int k = 0; k < 30; k++)
		put(j, seq++);
	bt_jitter_stats(j, &st);
	assert_int_equal(st.held, bound);
	assert_int_equal(st.backlog, 2 + 30 - bound);
	assert_int_equal(st.lost, 0);
	/* play resumes at the oldest kept and goes on in order */
	assert_int_equal(get(j, &v), BT_JITTER_OK);
	assert_int_equal(v, (uint8_t)(seq - bound));
	for (uint32_t k = 1; k < bound; k++) {
		assert_int_equal(get(j, &v), BT_JITTER_OK);
		assert_int_equal(v, (uint8_t)(seq - bound + k));
	}
	/* then the stream goes on at its goal, nothing more dropped */
	put(j, seq++);
	put(j, seq++);
	for (int k = 0; k < 10; k++) {
		put(j, seq++);
		assert_int_equal(get(j, &v), BT_JITTER_OK);
		assert_int_equal(v, (uint8_t)(seq - 3));
	}
	bt_jitter_stats(j, &st);
	assert_int_equal(st.backlog, 2 + 30 - bound);
	assert_true(st.held <= st.target + 1);
	/* a key held for 2 s: an event packet beside each audio packet
	 * (baresip sends both); the events take no time, so the depth stays
	 * and nothing is dropped */
	{
		/* the audio plays in order, every packet of it: the two held
		 * before the key (s0 - 2, s0 - 1), then the key's (s0 + 1,
		 * s0 + 3, ...; the events have the even ones) */
		const uint16_t s0 = seq;

		for (int k = 0; k < 100; k++) {
			assert_int_equal(bt_jitter_put(j, seq++, NULL, 0,
						       false), 0);
			put(j, seq++);
			assert_int_equal(get(j, &v), BT_JITTER_OK);
			assert_int_equal(v, (uint8_t)(k < 2 ? s0 - 2 + k :
						      s0 + 2 * k - 3));
		}
	}
	bt_jitter_stats(j, &st);
	assert_int_equal(st.backlog, 2 + 30 - bound);
	assert_true(st.held <= 2 * (st.target + 1));
	/* while the caller speaks the call keeps the whole window: a stall's
	 * 25 packets are all kept; back to the bound, the next packet drops
	 * the excess at once */
	{
		uint32_t before = st.held, dropped = st.backlog;

		bt_jitter_set_backlog(j, BT_JITTER_SLOTS);
		for (int k = 0; k < 25; k++)
			put(j, seq++);
		bt_jitter_stats(j, &st);
		assert_int_equal(st.held, before + 25);
		assert_int_equal(st.backlog, dropped);
		bt_jitter_set_backlog(j, BT_JITTER_BACKLOG);
		put(j, seq++);
		bt_jitter_stats(j, &st);
		assert_int_equal(st.held, st.target + BT_JITTER_BACKLOG);
		assert_int_equal(st.backlog, dropped + before + 26 -
				 (st.target + BT_JITTER_BACKLOG));
		/* the newest are what play */
		assert_int_equal(get(j, &v), BT_JITTER_OK);
		assert_int_equal(v, (uint8_t)(seq - st.target -
					      BT_JITTER_BACKLOG));
	}
	mem_deref(j);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_opus),
		cmocka_unit_test(test_g722),
		cmocka_unit_test(test_pcmu),
		cmocka_unit_test(test_pcma),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_jitter),
		cmocka_unit_test(test_jitter_backlog),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
