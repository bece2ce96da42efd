/**
 * @file test_deepgram.c  The Deepgram recogniser through its stage
 *                        interface, on a libre loop, against the local
 *                        server that speaks Deepgram's live protocol
 *                        (tests/clients/deepgram_mock.mjs).
 *
 * Every transport pushes a frame every 20 ms, so a call never goes 4 s
 * without audio and the KeepAlive path is not reached end to end. Here
 * no frames come at all for longer than the server's idle limit (the
 * mock closes a socket that has had neither audio nor a text message for
 * --idle-close-ms, as Deepgram does after 10 s): the socket must stay
 * open on KeepAlives alone, and the words of audio that comes afterwards
 * must still arrive; while that audio flows no KeepAlive goes out.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>
#include <curl/curl.h>
#include <re.h>
#include "banter/banter.h"
#include "net/ws.h"

enum {
	SILENCE_MS = 11000,  /* no frames: KeepAlives at ~4 and ~8 s */
	IDLE_CLOSE_MS = 6000, /* the mock's idle limit, under SILENCE_MS */
	AUDIO_MS = 6000,     /* then audio at real-time pace: longer than
				the KeepAlive interval */
	FINAL_WAIT_MS = 10000,
};

static pid_t mock_pid;
static char mock_port[16];
static char script_path[64] = "/tmp/bt_test_deepgram_XXXXXX";

static struct {
	struct bt_stt_st *st;
	int16_t *pcm;              /* the caller's words, then silence */
	size_t n, at;
	struct tmr feed;
	struct bt_transcript tr;
	bool final, failed;
	char failmsg[512];
} t;

/* The mock in the background; its port from its `listening PORT` line. */
static int mock_start(void)
{
	int fd[2];
	FILE *f;
	char line[128];

	f = fdopen(mkstemp(script_path), "w");
	if (!f)
		return -1;
	fputs("[\"a table for three please\"]", f);
	fclose(f);
	if (pipe(fd))
		return -1;
	mock_pid = fork();
	if (mock_pid < 0)
		return -1;
	if (!mock_pid) {
		char idle[16];

		snprintf(idle, sizeof(idle), "%d", IDLE_CLOSE_MS);
		dup2(fd[1], STDOUT_FILENO);
		close(fd[0]);
		close(fd[1]);
		execlp("node", "node", "tests/clients/deepgram_mock.mjs",
		       "--port", "0", "--key", "dg-test", "--script",
		       script_path, "--idle-close-ms", idle, (char *)NULL);
		_exit(127);
	}
	close(fd[1]);
	f = fdopen(fd[0], "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "listening %15s", mock_port) == 1)
			break;
	}
	fclose(f);
	return mock_port[0] ? 0 : -1;
}

static void stop_h(void *arg)
{
	(void)arg;
	re_cancel();
}

/* Run the loop for ms, or until *done. */
static void run_loop(uint32_t ms, const bool *done)
{
	struct tmr stop;
	uint64_t end = tmr_jiffies() + ms;

	tmr_init(&stop);
	while (tmr_jiffies() < end && !(done && *done)) {
		tmr_start(&stop, done ? 50 : (uint32_t)(end - tmr_jiffies()),
			  stop_h, NULL);
		(void)re_main(NULL);
	}
	tmr_cancel(&stop);
}

static void final_h(const struct bt_transcript *tr, void *arg)
{
	(void)arg;
	t.tr = *tr;
	t.final = true;
}

static void partial_h(const char *text, void *arg)
{
	(void)text;
	(void)arg;
}

static void fail_h(int err, const char *msg, void *arg)
{
	(void)err;
	(void)arg;
	t.failed = true;
	snprintf(t.failmsg, sizeof(t.failmsg), "%s", msg ? msg : "");
}

/* A 20 ms frame to the recogniser, as a transport would push it. */
static void feed_h(void *arg)
{
	size_t k = t.n - t.at < BT_FRAME_SAMPLES ? t.n - t.at
						 : BT_FRAME_SAMPLES;

	(void)arg;
	if (!k) {
		re_cancel();
		return;
	}
	bt_stt_of(t.st)->listenh(t.st, t.pcm + t.at, k);
	t.at += k;
	tmr_start(&t.feed, BT_FRAME_MS, feed_h, NULL);
}

static size_t log_write(char *p, size_t sz, size_t n, void *arg)
{
	struct mbuf *mb = arg;

	return mbuf_write_mem(mb, (uint8_t *)p, sz * n) ? 0 : sz * n;
}

/* The mock's /log: the connections it saw. */
static json_t *mock_log(void)
{
	struct mbuf *mb = mbuf_alloc(4096);
	char url[64];
	CURL *c = curl_easy_init();
	json_t *log = NULL;

	assert_non_null(mb);
	assert_non_null(c);
	snprintf(url, sizeof(url), "http://127.0.0.1:%s/log", mock_port);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, log_write);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, mb);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 10L);
	if (curl_easy_perform(c) == CURLE_OK)
		log = json_loadb((const char *)mb->buf, mb->end, 0, NULL);
	curl_easy_cleanup(c);
	mem_deref(mb);
	return log;
}

static void test_keepalive(void **state)
{
	json_t *sec = json_pack("{s:s}", "provider", "deepgram");
	struct bt_stt_prm prm = {
		.section = sec,
		.partialh = partial_h,
		.finalh = final_h,
		.failh = fail_h,
	};
	int16_t *words = NULL;
	size_t n_words = 0;
	uint32_t rate = 0;
	json_t *log, *conn, *ka, *gaps, *v;
	double resumed = 0;
	size_t i;
	int err;

	(void)state;
	assert_int_equal(bt_wav_read("tests/data/table_for_three_slt.wav",
				     &words, &n_words, &rate), 0);
	assert_int_equal(rate, BT_RATE_HZ);
	/* the words, then silence up to AUDIO_MS: frames go on after the
	 * speech, as a call's do */
	t.n = (size_t)AUDIO_MS * BT_RATE_HZ / 1000;
	assert_true(n_words < t.n);
	t.pcm = mem_zalloc(t.n * sizeof(int16_t), NULL);
	assert_non_null(t.pcm);
	memcpy(t.pcm, words, n_words * sizeof(int16_t));
	words = mem_deref(words);

	err = bt_stt_open(&t.st, &prm);
	if (err)
		print_error("open: %s\n", bt_errmsg());
	assert_int_equal(err, 0);
	assert_string_equal(bt_stt_of(t.st)->name, "deepgram");

	/* no frames at all for longer than the server's idle limit */
	run_loop(SILENCE_MS, NULL);
	if (t.failed)
		print_error("failed in the silence: %s\n", t.failmsg);
	assert_false(t.failed);

	/* then the caller speaks: an utterance at real-time pace */
	assert_int_equal(bt_stt_of(t.st)->starth(t.st, NULL, false), 0);
	tmr_init(&t.feed);
	tmr_start(&t.feed, 0, feed_h, NULL);
	run_loop(AUDIO_MS + 5000, NULL);
	tmr_cancel(&t.feed);
	assert_int_equal(t.at, t.n);
	err = bt_stt_of(t.st)->finishh(t.st, &t.tr);
	if (err == EINPROGRESS)
		run_loop(FINAL_WAIT_MS, &t.final);
	else
		t.final = !err;
	if (t.failed)
		print_error("failed: %s\n", t.failmsg);
	assert_false(t.failed);
	assert_true(t.final);
	assert_string_equal(t.tr.text, "a table for three please");

	log = mock_log();
	assert_non_null(log);
	assert_int_equal(json_array_size(log), 1);  /* one socket, kept */
	conn = json_array_get(log, 0);
	v = json_object_get(conn, "closed");
	if (json_is_string(v))
		print_error("closed: %s\n", json_string_value(v));
	assert_true(json_is_null(v));
	ka = json_object_get(conn, "keepalive_ms");
	gaps = json_object_get(conn, "audio_gaps");
	assert_true(json_is_array(ka) && json_is_array(gaps));
	/* the silence is the first gap in the audio, from the socket's
	 * opening to the first frame */
	assert_true(json_array_size(gaps) >= 1);
	resumed = json_number_value(json_array_get(
		json_array_get(gaps, 0), 1));
	assert_true(resumed >= SILENCE_MS - 1000);
	/* KeepAlives kept it open through the silence ... */
	assert_true(json_array_size(ka) >= 2);
	json_array_foreach(ka, i, v) {
		/* ... and none went out once audio flowed again */
		if (json_number_value(v) >= resumed)
			print_error("a KeepAlive at %.0f ms, audio from "
				    "%.0f ms\n", json_number_value(v), resumed);
		assert_true(json_number_value(v) < resumed);
	}
	/* no second gap: the audio went on without a pause of a second */
	assert_int_equal(json_array_size(gaps), 1);

	json_decref(log);
	t.st = mem_deref(t.st);
	t.pcm = mem_deref(t.pcm);
	json_decref(sec);
}

static int setup(void **state)
{
	char url[64];

	(void)state;
	if (libre_init())
		return -1;
	if (mock_start()) {
		print_error("cannot start node tests/clients/deepgram_mock.mjs "
			    "(is node installed? run from the source tree)\n");
		return -1;
	}
	snprintf(url, sizeof(url), "ws://127.0.0.1:%s", mock_port);
	setenv("DEEPGRAM_BASE_URL", url, 1);
	setenv("DEEPGRAM_API_KEY", "dg-test", 1);
	curl_global_init(CURL_GLOBAL_DEFAULT);
	return bt_stt_deepgram_init();
}

static int teardown(void **state)
{
	(void)state;
	if (mock_pid > 0) {
		kill(mock_pid, SIGTERM);
		waitpid(mock_pid, NULL, 0);
	}
	unlink(script_path);
	bt_ws_thread_close();
	curl_global_cleanup();
	libre_close();
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_keepalive),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
