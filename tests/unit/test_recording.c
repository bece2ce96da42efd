/**
 * @file test_recording.c  Call recordings (store/recording.h): kept audio
 * lands as a stereo WAV (caller left, agent right, sample-aligned even when
 * one side runs ahead) with the trace beside it, through the worker pool
 * as well as inline; a dropped one writes nothing; the retention purge
 * deletes only banter's old files.
 */
#include <dirent.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <utime.h>
#include <cmocka.h>
#include <re.h>
#include "banter/audio.h"
#include "core/worker.h"
#include "store/recording.h"

enum { RATE = 16000, FRAME = 320 };

static char dir[64];

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/bt_rec_XXXXXX");
	return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd) ? -1 : 0;
}

static size_t count_files(const char *d, const char *suffix)
{
	DIR *dd = opendir(d);
	struct dirent *de;
	size_t n = 0;

	if (!dd)
		return 0;
	while ((de = readdir(dd))) {
		size_t l = strlen(de->d_name), s = strlen(suffix);
		if (l > s && !strcmp(de->d_name + l - s, suffix))
			n++;
	}
	closedir(dd);
	return n;
}

/* Caller frames carry their index (left), agent frames its negative. */
static void feed(struct rec *r, size_t frames, size_t lead)
{
	int16_t a[FRAME], b[FRAME];

	/* the caller side runs `lead` frames ahead, as a WebSocket burst */
	for (size_t i = 0; i < frames + lead; i++) {
		if (i < frames) {
			for (size_t k = 0; k < FRAME; k++)
				a[k] = (int16_t)(i + 1);
			rec_caller(r, a, FRAME);
		}
		if (i >= lead) {
			for (size_t k = 0; k < FRAME; k++)
				b[k] = (int16_t)-(int16_t)(i - lead + 1);
			rec_agent(r, b, FRAME);
		}
	}
}

static void check_wav(const char *path, size_t frames)
{
	int16_t *pcm = NULL;
	size_t n = 0;
	uint32_t rate = 0;
	FILE *f;
	uint8_t hdr[44];
	int16_t first[2];

	/* the header says two channels at the pipeline rate */
	f = fopen(path, "rb");
	assert_non_null(f);
	assert_int_equal(fread(hdr, 1, sizeof(hdr), f), sizeof(hdr));
	/* the caller on the left, from the first frame after the notice */
	assert_int_equal(fread(first, 2, 2, f), 2);
	fclose(f);
	assert_int_equal(first[0], 1);
	assert_int_equal(first[1], -1);
	assert_int_equal(hdr[22], 2);
	assert_int_equal(hdr[24] | hdr[25] << 8, RATE);
	assert_int_equal(hdr[40] | hdr[41] << 8 | hdr[42] << 16 |
			 (uint32_t)hdr[43] << 24, frames * FRAME * 4);

	/* the reader mixes to mono: frame i is (i+1) + -(i+1) = 0 only if
	 * both sides were aligned */
	assert_int_equal(bt_wav_read(path, &pcm, &n, &rate), 0);
	assert_int_equal(n, frames * FRAME);
	for (size_t i = 0; i < n; i++)
		assert_int_equal(pcm[i], 0);
	mem_deref(pcm);
}

static void wav_path_of(const char *d, char *buf, size_t sz,
			const char *suffix)
{
	DIR *dd = opendir(d);
	struct dirent *de;

	buf[0] = '\0';
	assert_non_null(dd);
	while ((de = readdir(dd))) {
		size_t l = strlen(de->d_name), s = strlen(suffix);
		if (l > s && !strcmp(de->d_name + l - s, suffix))
			snprintf(buf, sz, "%s/%s", d, de->d_name);
	}
	closedir(dd);
}

static void kept(bool inline_io, size_t lead)
{
	char sub[128], path[256], line[256];
	struct rec *r = NULL;
	FILE *f;
	size_t frames = 173;  /* not a whole number of chunks */

	snprintf(sub, sizeof(sub), "%s/kept-%d/a", dir, inline_io);
	assert_int_equal(rec_alloc(&r, sub, "sip-1/x", RATE, inline_io), 0);
	rec_trace(r, "{\"type\":\"reply\"}");
	/* before the notice has played nothing is recorded */
	feed(r, 10, 0);
	rec_audio_on(r);
	feed(r, 60, lead);
	assert_int_equal(count_files(sub, ".wav"), 0);  /* held */
	assert_int_equal(rec_keep(r), 0);
	feed(r, frames - 60, 0);
	rec_trace(r, "{\"type\":\"ended\"}");
	assert_null(rec_error(r));
	/* the id's '/' is not a folder */
	assert_non_null(strstr(rec_wav_path(r), "-sip-1_x.wav"));
	mem_deref(r);
	if (!inline_io)
		bt_worker_close();   /* waits for the queued jobs */

	assert_int_equal(count_files(sub, ".wav"), 1);
	wav_path_of(sub, path, sizeof(path), ".wav");
	check_wav(path, frames);
	wav_path_of(sub, path, sizeof(path), ".trace.jsonl");
	f = fopen(path, "r");
	assert_non_null(f);
	assert_non_null(fgets(line, sizeof(line), f));
	assert_string_equal(line, "{\"type\":\"reply\"}\n");
	assert_non_null(fgets(line, sizeof(line), f));
	assert_string_equal(line, "{\"type\":\"ended\"}\n");
	fclose(f);
}

static void test_kept_inline(void **state)
{
	(void)state;
	kept(true, 0);
}

static void test_kept_pool(void **state)
{
	(void)state;
	assert_int_equal(bt_worker_init(2), 0);
	kept(false, 7);  /* the caller side 7 frames ahead */
}

static void test_dropped(void **state)
{
	char sub[128];
	struct rec *r = NULL;
	struct stat st;

	(void)state;
	snprintf(sub, sizeof(sub), "%s/dropped", dir);
	assert_int_equal(rec_alloc(&r, sub, "s1", RATE, true), 0);
	rec_audio_on(r);
	rec_trace(r, "{}");
	feed(r, 120, 0);
	rec_drop(r);
	feed(r, 20, 0);
	assert_int_not_equal(rec_keep(r), 0);  /* too late: declined */
	mem_deref(r);
	assert_int_not_equal(stat(sub, &st), 0);  /* not even the folder */
}

static void test_unwritable(void **state)
{
	struct rec *r = NULL;
	const char *e;

	(void)state;
	/* a file where the folder should be */
	assert_int_equal(rec_alloc(&r, "/dev/null/rec", "s1", RATE, true), 0);
	rec_audio_on(r);
	assert_int_equal(rec_keep(r), 0);
	feed(r, 60, 0);
	e = rec_error(r);
	assert_non_null(e);
	assert_non_null(strstr(e, "cannot make the folder"));
	assert_null(rec_error(r));  /* once */
	feed(r, 60, 0);             /* the call goes on */
	mem_deref(r);
}

static void touch(const char *name, int days_old)
{
	char path[256];
	struct utimbuf t;
	FILE *f;

	snprintf(path, sizeof(path), "%s/purge/%s", dir, name);
	f = fopen(path, "w");
	assert_non_null(f);
	fclose(f);
	t.actime = t.modtime = time(NULL) - (time_t)days_old * 86400 - 60;
	assert_int_equal(utime(path, &t), 0);
}

static void test_purge(void **state)
{
	char sub[128];
	unsigned n = 99;

	(void)state;
	snprintf(sub, sizeof(sub), "%s/purge", dir);
	assert_int_equal(mkdir(sub, 0700), 0);
	touch("20260101-101010-s1.wav", 40);
	touch("20260101-101010-s1.trace.jsonl", 40);
	touch("20261101-101010-s2.wav", 10);
	touch("notes.wav", 40);                   /* not banter's name */
	touch("20260101-101010-s3.txt", 40);      /* nor this */
	assert_int_equal(rec_purge(sub, 30, &n), 0);
	assert_int_equal(n, 2);
	assert_int_equal(count_files(sub, ".wav"), 2);
	assert_int_equal(count_files(sub, ".jsonl"), 0);
	assert_int_equal(count_files(sub, ".txt"), 1);
	/* a folder that does not exist yet is fine */
	assert_int_equal(rec_purge("/tmp/bt_rec_no_such_dir", 30, &n), 0);
	assert_int_equal(n, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_kept_inline),
		cmocka_unit_test(test_kept_pool),
		cmocka_unit_test(test_dropped),
		cmocka_unit_test(test_unwritable),
		cmocka_unit_test(test_purge),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
