/*
 * What a cloud speech provider sends, read by src/stt/dg_wire.c
 * (Deepgram) and src/tts/el_wire.c (ElevenLabs): the documented messages
 * give the words and events they carry, and a server's out-of-range
 * numbers (a negative or huge time, a confidence of 7, a word that ends
 * before it starts) come out bounded and in order instead of reaching the
 * word timings as they are (a negative time cast to uint32_t was
 * undefined and put a word four billion ms into the sentence).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>
#include <re.h>
#include "stt/dg_wire.h"
#include "tts/el_wire.h"

static int dg(struct dg_msg *m, const char *js, double t0)
{
	return dg_msg_read(m, (const uint8_t *)js, strlen(js), t0);
}

static void test_dg_results(void **state)
{
	struct dg_msg m;

	(void)state;
	assert_int_equal(dg(&m, "{\"type\":\"Results\",\"is_final\":true,"
		"\"speech_final\":true,\"channel\":{\"alternatives\":[{"
		"\"transcript\":\"A table.\",\"words\":["
		"{\"word\":\"A\",\"start\":0.5,\"end\":0.6,\"confidence\":0.9},"
		"{\"word\":\"table\",\"start\":1.0,\"end\":1.4,"
		"\"confidence\":0.8}]}]}}", 0.8), 0);
	assert_int_equal(m.type, DG_RESULTS);
	assert_true(m.is_final && m.speech_final && !m.from_finalize);
	/* "a" ended before the utterance began (t0 0.8): not its word */
	assert_int_equal(m.n_words, 1);
	assert_string_equal(m.words[0].w, "table");
	assert_true(m.words[0].start == 1.0 && m.words[0].end == 1.4);
	assert_true(m.words[0].conf > 0.79f && m.words[0].conf < 0.81f);
}

static void test_dg_out_of_range(void **state)
{
	struct dg_msg m;

	(void)state;
	assert_int_equal(dg(&m, "{\"type\":\"Results\",\"channel\":{"
		"\"alternatives\":[{\"words\":["
		"{\"word\":\"one\",\"start\":-3,\"end\":1e300,\"confidence\":7},"
		"{\"word\":\"two\",\"start\":5,\"end\":2,\"confidence\":-1},"
		"{\"word\":\"...\",\"start\":5,\"end\":6},"
		"{\"word\":3,\"start\":5,\"end\":6}]}]}}", 0), 0);
	assert_int_equal(m.n_words, 2);  /* no word in "..." or 3 */
	assert_true(m.words[0].start == 0 && m.words[0].end == 86400.0);
	assert_true(m.words[0].conf == 1.0f);
	assert_true(m.words[1].start == 2 && m.words[1].end == 2);
	assert_true(m.words[1].conf == 0.0f);
}

static void test_dg_flux_and_others(void **state)
{
	static const struct {
		const char *ev;
		enum dg_event want;
	} evs[] = {
		{"StartOfTurn", DG_EV_START}, {"Update", DG_EV_OTHER},
		{"EagerEndOfTurn", DG_EV_EAGER},
		{"TurnResumed", DG_EV_RESUMED}, {"EndOfTurn", DG_EV_END},
	};
	struct dg_msg m;
	char js[300];

	(void)state;
	for (size_t i = 0; i < sizeof(evs) / sizeof(evs[0]); i++) {
		snprintf(js, sizeof(js), "{\"type\":\"TurnInfo\",\"event\":"
			 "\"%s\",\"transcript\":\"My name, Anna.\",\"words\":"
			 "[{\"word\":\"my\",\"confidence\":0.5},"
			 "{\"word\":\"name\",\"confidence\":9}]}", evs[i].ev);
		assert_int_equal(dg(&m, js, 0), 0);
		assert_int_equal(m.type, DG_TURNINFO);
		assert_int_equal(m.event, evs[i].want);
		assert_string_equal(m.text, "my name anna");
		assert_true(m.conf > 0.74f && m.conf < 0.76f);
	}
	assert_int_equal(dg(&m, "{\"type\":\"SpeechStarted\"}", 0), 0);
	assert_int_equal(m.type, DG_SPEECH_STARTED);
	assert_int_equal(dg(&m, "{\"type\":\"UtteranceEnd\"}", 0), 0);
	assert_int_equal(m.type, DG_UTTERANCE_END);
	assert_int_equal(dg(&m, "{\"type\":\"Error\",\"description\":\"\"}",
			    0), 0);
	assert_int_equal(m.type, DG_ERROR);
	assert_string_equal(m.desc, "(no description)");
	assert_int_equal(dg(&m, "{\"type\":\"Metadata\"}", 0), 0);
	assert_int_equal(m.type, DG_OTHER);
	assert_int_equal(dg(&m, "[1,2]", 0), EPROTO);
	assert_int_equal(dg(&m, "{\"type\":", 0), EPROTO);
	assert_int_equal(m.type, DG_OTHER);
}

/* One ElevenLabs message's words, after the chunks before it. */
static size_t el(struct el_align *a, const char *js, struct bt_tts_word *w,
		 size_t max)
{
	struct el_msg m;
	int16_t *pcm;
	size_t np, n;

	assert_int_equal(el_msg_read(&m, (const uint8_t *)js, strlen(js)),
			 0);
	assert_int_equal(el_msg_audio(&m, &pcm, &np), 0);
	n = el_align_read(a, m.alignment, w, max);
	el_align_advance(a, np, 16000);
	if (m.last)
		el_align_flush(a, w, &n, max);
	mem_deref(pcm);
	el_msg_clear(&m);
	return n;
}

static void test_el_alignment(void **state)
{
	struct bt_tts_word w[8];
	struct el_align a;
	size_t n;

	(void)state;
	memset(&a, 0, sizeof(a));
	/* 8 samples at 16 kHz: 0.5 ms of audio; "Hi" then "th" open */
	n = el(&a, "{\"audio\":\"AAABAAIAAwAEAAUABgAHAA==\",\"contextId\":"
	       "\"c1\",\"alignment\":{\"chars\":[\"H\",\"i\",\" \",\"t\","
	       "\"h\"],\"charStartTimesMs\":[0,100,200,210,300],"
	       "\"charDurationsMs\":[100,100,10,90,100]}}", w, 8);
	assert_int_equal(n, 1);
	assert_string_equal(w[0].text, "Hi");
	assert_int_equal(w[0].start_ms, 0);
	assert_int_equal(w[0].end_ms, 200);
	/* the first chunk had 400 ms of audio: "ere" ends the word in
	 * the next one, then isFinal */
	el_align_advance(&a, 6400, 16000);
	n = el(&a, "{\"contextId\":\"c1\",\"alignment\":{\"chars\":[\"e\","
	       "\"r\",\"e\"],\"charStartTimesMs\":[0,50,100],"
	       "\"charDurationsMs\":[50,50,50]}}", w, 8);
	assert_int_equal(n, 0);
	n = el(&a, "{\"contextId\":\"c1\",\"isFinal\":true}", w, 8);
	assert_int_equal(n, 1);
	assert_string_equal(w[0].text, "there");
	assert_int_equal(w[0].start_ms, 210);
	assert_int_equal(w[0].end_ms, 550);  /* 400.5 + 150, whole ms */
}

static void test_el_out_of_range(void **state)
{
	struct bt_tts_word w[8];
	struct el_align a;
	size_t n;

	(void)state;
	memset(&a, 0, sizeof(a));
	/* a negative start, a huge one, a word that goes back in time,
	 * a duration below 0, times that are not numbers */
	n = el(&a, "{\"contextId\":\"c\",\"alignment\":{\"chars\":"
	       "[\"a\",\" \",\"b\",\" \",\"c\",\" \",\"d\",\" \",\"e\"],"
	       "\"charStartTimesMs\":[-500,0,1e300,0,10,0,20,0,\"x\"],"
	       "\"charDurationsMs\":[100,0,5,0,-40,0,1e20,0,null]}}", w, 8);
	el_align_flush(&a, w, &n, 8);
	assert_int_equal(n, 5);
	assert_string_equal(w[0].text, "a");
	assert_int_equal(w[0].start_ms, 0);
	assert_int_equal(w[0].end_ms, 100);
	assert_string_equal(w[1].text, "b");  /* 600 s: a chunk's most */
	assert_int_equal(w[1].start_ms, 600000);
	assert_int_equal(w[1].end_ms, 600005);
	for (size_t i = 2; i < n; i++) {  /* after b: never before it */
		assert_true(w[i].start_ms >= w[i - 1].end_ms);
		assert_true(w[i].end_ms >= w[i].start_ms);
		assert_true(w[i].end_ms <= 86400000u);
	}
	/* room for 2: the rest are left out, not written past it */
	memset(&a, 0, sizeof(a));
	n = el(&a, "{\"alignment\":{\"chars\":[\"a\",\" \",\"b\",\" \","
	       "\"c\",\" \"],\"charStartTimesMs\":[0,1,2,3,4,5],"
	       "\"charDurationsMs\":[1,1,1,1,1,1]}}", w, 2);
	assert_int_equal(n, 2);
}

static void test_el_messages(void **state)
{
	struct el_msg m;
	int16_t *pcm;
	size_t np;
	const char *js;

	(void)state;
	js = "{\"message\":\"Unusual activity\",\"context_id\":\"c2\"}";
	assert_int_equal(el_msg_read(&m, (const uint8_t *)js, strlen(js)),
			 0);
	assert_string_equal(m.ctx, "c2");
	assert_string_equal(m.err, "Unusual activity");
	el_msg_clear(&m);
	/* 3 bytes: one sample, the odd byte dropped */
	js = "{\"audio\":\"//8A\",\"contextId\":\"c\",\"is_final\":true}";
	assert_int_equal(el_msg_read(&m, (const uint8_t *)js, strlen(js)),
			 0);
	assert_true(m.last && !m.err);
	assert_int_equal(el_msg_audio(&m, &pcm, &np), 0);
	assert_int_equal(np, 1);
	assert_int_equal(pcm[0], -1);
	mem_deref(pcm);
	el_msg_clear(&m);
	js = "{\"audio\":\"not base64!\",\"contextId\":\"c\"}";
	assert_int_equal(el_msg_read(&m, (const uint8_t *)js, strlen(js)),
			 0);
	assert_int_equal(el_msg_audio(&m, &pcm, &np), EBADMSG);
	assert_null(pcm);
	assert_int_equal(np, 0);
	el_msg_clear(&m);
	js = "\"audio\"";
	assert_int_equal(el_msg_read(&m, (const uint8_t *)js, strlen(js)),
			 EPROTO);
	el_msg_clear(&m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_dg_results),
		cmocka_unit_test(test_dg_out_of_range),
		cmocka_unit_test(test_dg_flux_and_others),
		cmocka_unit_test(test_el_alignment),
		cmocka_unit_test(test_el_out_of_range),
		cmocka_unit_test(test_el_messages),
	};
	int rc;

	if (libre_init())
		return 1;
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	libre_close();
	return rc;
}
