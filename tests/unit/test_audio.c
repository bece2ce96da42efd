/**
 * @file test_audio.c  WAV reading and writing, resampling, levels.
 */
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include <re.h>
#include "banter/audio.h"
#include "banter/err.h"

static char tmpdir[256];

static const char *tmp_path(const char *name)
{
	static char path[512];

	snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
	return path;
}

static int setup(void **state)
{
	(void)state;
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/banter_test_audio_XXXXXX");
	return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown(void **state)
{
	char cmd[300];
	(void)state;

	/* only files we made, in a directory we made */
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	return system(cmd) == 0 ? 0 : -1;
}

/* ---- hand-built WAV files ---- */

struct wbuf {
	uint8_t b[4096];
	size_t n;
};

static void put(struct wbuf *w, const void *p, size_t n)
{
	assert_true(w->n + n <= sizeof(w->b));
	memcpy(w->b + w->n, p, n);
	w->n += n;
}

static void put16(struct wbuf *w, uint16_t v)
{
	uint8_t b[2] = {(uint8_t)v, (uint8_t)(v >> 8)};
	put(w, b, 2);
}

static void put32(struct wbuf *w, uint32_t v)
{
	uint8_t b[4] = {(uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16),
			(uint8_t)(v >> 24)};
	put(w, b, 4);
}

static void put_chunk(struct wbuf *w, const char *id, const void *p,
		      size_t n)
{
	put(w, id, 4);
	put32(w, (uint32_t)n);
	put(w, p, n);
	if (n & 1)
		put(w, "", 1);   /* pad byte */
}

/* A 16-byte fmt body; extensible adds cbSize, valid bits, mask, GUID. */
static size_t fmt_body(uint8_t *b, uint16_t tag, uint16_t ch, uint32_t rate,
		       uint16_t bits, bool extensible)
{
	struct wbuf w = {.n = 0};
	uint16_t align = (uint16_t)(ch * ((bits + 7) / 8));
	static const uint8_t guid_tail[14] = {
		0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x80, 0x00,
		0x00, 0xaa, 0x00, 0x38, 0x9b, 0x71};

	put16(&w, extensible ? 0xfffe : tag);
	put16(&w, ch);
	put32(&w, rate);
	put32(&w, rate * align);
	put16(&w, align);
	put16(&w, bits);
	if (extensible) {
		put16(&w, 22);
		put16(&w, bits);
		put32(&w, ch == 2 ? 3 : 4);
		put16(&w, tag);
		put(&w, guid_tail, sizeof(guid_tail));
	}
	memcpy(b, w.b, w.n);
	return w.n;
}

/* RIFF/WAVE file: [junk chunk] fmt data. riff size is left honest. */
static void build_wav(struct wbuf *w, uint16_t tag, uint16_t ch,
		      uint32_t rate, uint16_t bits, bool extensible,
		      const void *data, size_t n, bool junk)
{
	uint8_t fmt[64];
	size_t fn = fmt_body(fmt, tag, ch, rate, bits, extensible);

	w->n = 0;
	put(w, "RIFF", 4);
	put32(w, 0);
	put(w, "WAVE", 4);
	if (junk)
		put_chunk(w, "LIST", "INFOISFT\x03\0\0\0ab", 15);
	put_chunk(w, "fmt ", fmt, fn);
	put_chunk(w, "data", data, n);
	w->b[4] = (uint8_t)(w->n - 8);
	w->b[5] = (uint8_t)((w->n - 8) >> 8);
}

static void write_file(const char *path, const void *p, size_t n)
{
	FILE *f = fopen(path, "wb");

	assert_non_null(f);
	assert_int_equal(fwrite(p, 1, n, f), n);
	assert_int_equal(fclose(f), 0);
}

static void read_expect(const struct wbuf *w, uint32_t rate,
			const int16_t *expect, size_t n)
{
	const char *path = tmp_path("hand.wav");
	int16_t *pcm = NULL;
	size_t got = 0, i;
	uint32_t r = 0;
	int err;

	write_file(path, w->b, w->n);
	err = bt_wav_read(path, &pcm, &got, &r);
	if (err)
		print_error("%s\n", bt_errmsg());
	assert_int_equal(err, 0);
	assert_int_equal(r, rate);
	assert_int_equal(got, n);
	for (i = 0; i < n; i++) {
		if (pcm[i] != expect[i])
			print_error("sample %zu: %d, expected %d\n", i, pcm[i],
				    expect[i]);
		assert_int_equal(pcm[i], expect[i]);
	}
	mem_deref(pcm);
}

static int read_err(const struct wbuf *w, const char *name)
{
	const char *path = tmp_path(name);
	int16_t *pcm = (int16_t *)0x1;
	size_t n = 12345;
	int err;

	write_file(path, w->b, w->n);
	bt_err_clear();
	err = bt_wav_read(path, &pcm, &n, NULL);
	assert_int_not_equal(err, 0);
	/* outputs untouched, message names the file and what to do */
	assert_ptr_equal(pcm, (int16_t *)0x1);
	assert_int_equal(n, 12345);
	assert_non_null(strstr(bt_errmsg(), path));
	assert_non_null(strstr(bt_errmsg(), "WAV"));
	return err;
}

/* ---- tests ---- */

static void test_wav_roundtrip_mono(void **state)
{
	const char *path = tmp_path("mono.wav");
	struct bt_wav_writer *w = NULL;
	int16_t src[16001], *pcm = NULL;
	size_t n = 0, i;
	uint32_t rate = 0;
	(void)state;

	for (i = 0; i < ARRAY_SIZE(src); i++)
		src[i] = (int16_t)lrint(20000.0 * sin(2 * M_PI * 440 * i /
						      16000.0));
	src[0] = -32768;
	src[1] = 32767;

	assert_int_equal(bt_wav_writer_open(&w, path, 16000, 1), 0);
	/* odd pieces, to cross the writer's internal chunking */
	assert_int_equal(bt_wav_writer_write(w, src, 1), 0);
	assert_int_equal(bt_wav_writer_write(w, src + 1, 1500), 0);
	assert_int_equal(bt_wav_writer_write(w, src + 1501, 14500), 0);
	assert_int_equal(bt_wav_writer_write(w, src, 0), 0);
	/* close, then close again and free: all safe */
	assert_int_equal(bt_wav_writer_close(w), 0);
	assert_int_equal(bt_wav_writer_close(w), 0);
	assert_int_equal(bt_wav_writer_write(w, src, 1), EBADF);
	w = mem_deref(w);

	assert_int_equal(bt_wav_read(path, &pcm, &n, &rate), 0);
	assert_int_equal(rate, 16000);
	assert_int_equal(n, ARRAY_SIZE(src));
	assert_memory_equal(pcm, src, sizeof(src));
	mem_deref(pcm);

	/* the header sizes were patched: 44 + data bytes */
	{
		FILE *f = fopen(path, "rb");
		uint8_t h[44];

		assert_non_null(f);
		assert_int_equal(fread(h, 1, 44, f), 44);
		fclose(f);
		assert_int_equal(h[40] | h[41] << 8 | h[42] << 16 |
				 (uint32_t)h[43] << 24, sizeof(src));
		assert_int_equal(h[4] | h[5] << 8 | h[6] << 16 |
				 (uint32_t)h[7] << 24, 36 + sizeof(src));
	}

	/* closing by mem_deref alone also finalises */
	assert_int_equal(bt_wav_writer_open(&w, path, 8000, 1), 0);
	assert_int_equal(bt_wav_writer_write(w, src, 100), 0);
	mem_deref(w);
	assert_int_equal(bt_wav_read(path, &pcm, &n, &rate), 0);
	assert_int_equal(rate, 8000);
	assert_int_equal(n, 100);
	assert_memory_equal(pcm, src, 100 * sizeof(*src));
	mem_deref(pcm);
}

static void test_wav_roundtrip_stereo(void **state)
{
	const char *path = tmp_path("stereo.wav");
	struct bt_wav_writer *w = NULL;
	int16_t lr[2 * 1000], *pcm = NULL;
	size_t n = 0, i;
	uint32_t rate = 0;
	(void)state;

	for (i = 0; i < 1000; i++) {
		lr[2 * i] = (int16_t)(i * 30 - 15000);
		lr[2 * i + 1] = (int16_t)(-(int)i * 10 + 2000);
	}
	lr[0] = 32767;
	lr[1] = 32767;
	lr[2] = -32768;
	lr[3] = -32768;

	assert_int_equal(bt_wav_writer_open(&w, path, 48000, 2), 0);
	assert_int_equal(bt_wav_writer_write(w, lr, 1000), 0);
	assert_int_equal(bt_wav_writer_close(w), 0);
	mem_deref(w);

	assert_int_equal(bt_wav_read(path, &pcm, &n, &rate), 0);
	assert_int_equal(rate, 48000);
	assert_int_equal(n, 1000);
	for (i = 0; i < n; i++) {
		/* both channels are even, so the mean is exact */
		int mean = (lr[2 * i] + lr[2 * i + 1]) / 2;
		assert_int_equal(pcm[i], mean);
	}
	assert_int_equal(pcm[0], 32767);
	assert_int_equal(pcm[1], -32768);
	mem_deref(pcm);
}

static void test_wav_writer_errors(void **state)
{
	struct bt_wav_writer *w = NULL;
	(void)state;

	bt_err_clear();
	assert_int_equal(bt_wav_writer_open(&w, "/nonexistent-dir/x.wav",
					    16000, 1), ENOENT);
	assert_null(w);
	assert_non_null(strstr(bt_errmsg(), "/nonexistent-dir/x.wav"));

	assert_int_equal(bt_wav_writer_open(&w, tmp_path("c3.wav"), 16000,
					    3), EINVAL);
	assert_int_equal(bt_wav_writer_open(&w, tmp_path("r0.wav"), 0, 1),
			 EINVAL);
	assert_null(w);
}

static void test_wav_formats(void **state)
{
	struct wbuf w;
	(void)state;

	/* 8-bit unsigned, with a LIST chunk (odd size, padded) first */
	{
		static const uint8_t d[] = {128, 255, 0, 192};
		static const int16_t e[] = {0, 32512, -32768, 16384};

		build_wav(&w, 1, 1, 8000, 8, false, d, sizeof(d), true);
		read_expect(&w, 8000, e, 4);
	}

	/* 24-bit signed: top 16 bits, rounded */
	{
		static const uint8_t d[] = {
			0xff, 0xff, 0x7f,  /* 8388607 -> 32767.99 -> 32767 */
			0x00, 0x00, 0x80,  /* -8388608 -> -32768 */
			0x00, 0x01, 0x00,  /* 256 -> 1 */
			0x80, 0x00, 0x00,  /* 128 -> 0.5 -> 0 (to even) */
			0x56, 0x34, 0x12,  /* 0x123456 -> 4660.3 -> 4660 */
			0x00, 0xff, 0xff,  /* -256 -> -1 */
		};
		static const int16_t e[] = {32767, -32768, 1, 0, 4660, -1};

		build_wav(&w, 1, 1, 22050, 24, false, d, sizeof(d), false);
		read_expect(&w, 22050, e, 6);
	}

	/* 32-bit int, stereo: the channels are averaged */
	{
		static const int32_t d[] = {
			0x40000000, 0x40000000,     /* 16384 */
			INT32_MIN, INT32_MIN,       /* -32768 */
			0x00010000, 0x00030000,     /* 1, 3 -> 2 */
		};
		static const int16_t e[] = {16384, -32768, 2};

		build_wav(&w, 1, 2, 44100, 32, false, d, sizeof(d), false);
		read_expect(&w, 44100, e, 3);
	}

	/* 32-bit float: scaled, clipped, NaN as silence */
	{
		const float d[] = {0.5f, -1.0f, 1.5f, NAN, -0.25f};
		static const int16_t e[] = {16384, -32768, 32767, 0, -8192};

		build_wav(&w, 3, 1, 16000, 32, false, d, sizeof(d), true);
		read_expect(&w, 16000, e, 5);
	}

	/* float far past full scale: clipped with its sign (lrint() of
	 * +1e30 * 32768 was LONG_MIN, so it read as -32768), and +inf plus
	 * -inf once scaled (two channels) reads as silence */
	{
		const float d[] = {1e30f, -1e30f, 3.4e38f, 65536.0f};
		static const int16_t e[] = {32767, -32768, 32767, 32767};
		const double d2[] = {1e305, -1e305, 1e305, 1e305};
		static const int16_t e2[] = {0, 32767};

		build_wav(&w, 3, 1, 16000, 32, false, d, sizeof(d), false);
		read_expect(&w, 16000, e, 4);
		build_wav(&w, 3, 2, 16000, 64, false, d2, sizeof(d2), false);
		read_expect(&w, 16000, e2, 2);
	}

	/* 64-bit float */
	{
		const double d[] = {0.25, -0.5};
		static const int16_t e[] = {8192, -16384};

		build_wav(&w, 3, 1, 24000, 64, false, d, sizeof(d), false);
		read_expect(&w, 24000, e, 2);
	}

	/* WAVE_FORMAT_EXTENSIBLE: 16-bit stereo PCM and float mono */
	{
		static const int16_t d[] = {1000, 3000, -4, -2};
		static const int16_t e[] = {2000, -3};
		const float f[] = {0.125f};
		static const int16_t ef[] = {4096};

		build_wav(&w, 1, 2, 48000, 16, true, d, sizeof(d), false);
		read_expect(&w, 48000, e, 2);
		build_wav(&w, 3, 1, 11025, 32, true, f, sizeof(f), true);
		read_expect(&w, 11025, ef, 1);
	}

	/* G.711 mu-law and A-law */
	{
		static const uint8_t mu[] = {0xff, 0x7f, 0x00, 0x80};
		static const int16_t emu[] = {0, 0, -32124, 32124};
		static const uint8_t al[] = {0xd5, 0x55, 0xaa, 0x2a};
		static const int16_t eal[] = {8, -8, 32256, -32256};

		build_wav(&w, 7, 1, 8000, 8, false, mu, sizeof(mu), false);
		read_expect(&w, 8000, emu, 4);
		build_wav(&w, 6, 1, 8000, 8, false, al, sizeof(al), false);
		read_expect(&w, 8000, eal, 4);
	}

	/* a streaming writer's 0xffffffff data size: read to the end;
	 * a partial last frame is dropped */
	{
		static const int16_t d[] = {5, 6, 7};
		static const int16_t e[] = {5, 6, 7};

		build_wav(&w, 1, 1, 16000, 16, false, d, sizeof(d), false);
		w.b[w.n - 10] = 0xff;
		w.b[w.n - 9] = 0xff;
		w.b[w.n - 8] = 0xff;
		w.b[w.n - 7] = 0xff;
		put(&w, "\x09", 1);
		read_expect(&w, 16000, e, 3);
	}

	/* data before fmt, and junk after the data */
	{
		static const int16_t d[] = {-7, 7};
		uint8_t fmt[64];
		size_t fn = fmt_body(fmt, 1, 1, 16000, 16, false);

		w.n = 0;
		put(&w, "RIFF", 4);
		put32(&w, 100);
		put(&w, "WAVE", 4);
		put_chunk(&w, "data", d, sizeof(d));
		put_chunk(&w, "fmt ", fmt, fn);
		put(&w, "id3 \xff\xff\x00\x00", 8);   /* overruns: ignored */
		read_expect(&w, 16000, d, 2);
	}
}

static void test_wav_errors(void **state)
{
	struct wbuf w;
	int16_t *pcm = NULL;
	size_t n = 0;
	static const int16_t d[] = {1, 2, 3, 4};
	(void)state;

	/* missing file */
	bt_err_clear();
	assert_int_equal(bt_wav_read("callers/no-such.wav", &pcm, &n, NULL),
			 ENOENT);
	assert_null(pcm);
	assert_non_null(strstr(bt_errmsg(), "callers/no-such.wav"));
	assert_non_null(strstr(bt_errmsg(), "no such file"));
	assert_non_null(strstr(bt_errmsg(), "check the path"));

	/* a directory */
	assert_int_not_equal(bt_wav_read(tmpdir, &pcm, &n, NULL), 0);
	assert_null(pcm);
	assert_non_null(strstr(bt_errmsg(), tmpdir));

	/* not RIFF */
	w.n = 0;
	put(&w, "ID3\x03 this is an mp3, honest", 27);
	read_err(&w, "mp3.wav");
	assert_non_null(strstr(bt_errmsg(), "no RIFF header"));
	assert_non_null(strstr(bt_errmsg(), "give a PCM WAV file"));

	/* empty file, and a header cut short */
	w.n = 0;
	read_err(&w, "empty.wav");
	put(&w, "RIFF\x10\0\0\0WA", 10);
	read_err(&w, "short.wav");

	/* RIFF but not WAVE (an AVI) */
	w.n = 0;
	put(&w, "RIFF\x04\0\0\0AVI LIST\0\0\0\0", 20);
	read_err(&w, "avi.wav");

	/* truncated audio: the data chunk says more than there is */
	build_wav(&w, 1, 1, 16000, 16, false, d, sizeof(d), false);
	w.n -= 4;
	assert_int_equal(read_err(&w, "trunc.wav"), EBADMSG);
	assert_non_null(strstr(bt_errmsg(), "truncated"));

	/* zero sample rate, zero channels, absurd channels */
	build_wav(&w, 1, 1, 0, 16, false, d, sizeof(d), false);
	read_err(&w, "rate0.wav");
	assert_non_null(strstr(bt_errmsg(), "sample rate"));
	build_wav(&w, 1, 0, 16000, 16, false, d, sizeof(d), false);
	read_err(&w, "ch0.wav");
	build_wav(&w, 1, 1000, 16000, 16, false, d, sizeof(d), false);
	read_err(&w, "ch1000.wav");

	/* compressed (IMA ADPCM) and odd bit depths */
	build_wav(&w, 0x11, 1, 16000, 4, false, d, sizeof(d), false);
	assert_int_equal(read_err(&w, "adpcm.wav"), ENOTSUP);
	assert_non_null(strstr(bt_errmsg(), "0x0011"));
	build_wav(&w, 3, 1, 16000, 16, false, d, sizeof(d), false);
	assert_int_equal(read_err(&w, "f16.wav"), ENOTSUP);

	/* no data chunk / no fmt chunk */
	{
		uint8_t fmt[64];
		size_t fn = fmt_body(fmt, 1, 1, 16000, 16, false);

		w.n = 0;
		put(&w, "RIFF\0\0\0\0WAVE", 12);
		put_chunk(&w, "fmt ", fmt, fn);
		read_err(&w, "nodata.wav");
		assert_non_null(strstr(bt_errmsg(), "no data chunk"));

		w.n = 0;
		put(&w, "RIFF\0\0\0\0WAVE", 12);
		put_chunk(&w, "data", d, sizeof(d));
		read_err(&w, "nofmt.wav");
		assert_non_null(strstr(bt_errmsg(), "no fmt chunk"));

		/* a chunk before the audio that overruns the file */
		w.n = 0;
		put(&w, "RIFF\0\0\0\0WAVE", 12);
		put(&w, "LIST\0\0\0\x10", 8);
		put_chunk(&w, "fmt ", fmt, fn);
		read_err(&w, "overrun.wav");

		/* fmt chunk too short */
		w.n = 0;
		put(&w, "RIFF\0\0\0\0WAVE", 12);
		put_chunk(&w, "fmt ", fmt, 12);
		put_chunk(&w, "data", d, sizeof(d));
		read_err(&w, "shortfmt.wav");
	}

	/* arguments */
	assert_int_equal(bt_wav_read(NULL, &pcm, &n, NULL), EINVAL);
	assert_int_equal(bt_wav_read("x.wav", NULL, &n, NULL), EINVAL);
}

/* bt_wav_read_mem: the parser of bt_wav_read without the file */
static void test_wav_read_mem(void **state)
{
	static const int16_t d[] = {100, -200, 300};
	struct wbuf w;
	int16_t *pcm = (int16_t *)0x1;
	size_t n = 12345;
	uint32_t rate = 0;
	(void)state;

	build_wav(&w, 1, 1, 16000, 16, false, d, sizeof(d), true);
	assert_int_equal(bt_wav_read_mem(w.b, w.n, "mem.wav", &pcm, &n,
					 &rate), 0);
	assert_int_equal(n, 3);
	assert_int_equal(rate, 16000);
	assert_memory_equal(pcm, d, sizeof(d));
	pcm = mem_deref(pcm);

	/* the rate is optional; the file reader gives the same */
	assert_int_equal(bt_wav_read_mem(w.b, w.n, NULL, &pcm, &n, NULL), 0);
	assert_memory_equal(pcm, d, sizeof(d));
	pcm = mem_deref(pcm);
	read_expect(&w, 16000, d, 3);

	/* errors name the data as told, or say "WAV data"; outputs kept */
	pcm = (int16_t *)0x1;
	n = 12345;
	bt_err_clear();
	assert_int_equal(bt_wav_read_mem(w.b, 20, "upload.wav", &pcm, &n,
					 NULL), EBADMSG);
	assert_non_null(strstr(bt_errmsg(), "upload.wav"));
	assert_non_null(strstr(bt_errmsg(), "give a PCM WAV file"));
	assert_int_equal(bt_wav_read_mem("", 0, NULL, &pcm, &n, NULL),
			 EBADMSG);
	assert_non_null(strstr(bt_errmsg(), "WAV data"));
	assert_int_equal(bt_wav_read_mem(NULL, 0, NULL, &pcm, &n, NULL),
			 EBADMSG);
	assert_int_equal(bt_wav_read_mem(NULL, 10, NULL, &pcm, &n, NULL),
			 EINVAL);
	assert_int_equal(bt_wav_read_mem(w.b, w.n, NULL, NULL, &n, NULL),
			 EINVAL);
	assert_int_equal(bt_wav_read_mem(w.b, w.n, NULL, &pcm, NULL, NULL),
			 EINVAL);
	assert_ptr_equal(pcm, (int16_t *)0x1);
	assert_int_equal(n, 12345);
}

/* Frequency by counting rising zero crossings over whole periods. */
static double tone_hz(const int16_t *p, size_t n, uint32_t rate)
{
	size_t i, first = 0, last = 0, cross = 0;

	for (i = 1; i < n; i++) {
		if (p[i - 1] < 0 && p[i] >= 0) {
			if (!cross)
				first = i;
			last = i;
			cross++;
		}
	}
	assert_true(cross > 2);
	return (double)(cross - 1) * rate / (double)(last - first);
}

static void sine(int16_t *p, size_t n, double hz, uint32_t rate, double a)
{
	size_t i;

	for (i = 0; i < n; i++)
		p[i] = (int16_t)lrint(a * sin(2.0 * M_PI * hz * i / rate));
}

static void test_resample_chain(void **state)
{
	int16_t in[8000], *a = NULL, *b = NULL;
	size_t na = 0, nb = 0;
	(void)state;

	sine(in, 8000, 440.0, 8000, 10000.0);

	assert_int_equal(bt_resample_buf(in, 8000, 8000, 16000, &a, &na), 0);
	assert_true(na >= 15998 && na <= 16002);
	assert_int_equal(bt_resample_buf(a, na, 16000, 48000, &b, &nb), 0);
	assert_true(nb >= 47994 && nb <= 48006);

	/* frequency and level survive (away from the filter's edges) */
	assert_true(fabs(tone_hz(a + 1600, na - 3200, 16000) - 440.0) < 1.0);
	assert_true(fabs(tone_hz(b + 4800, nb - 9600, 48000) - 440.0) < 1.0);
	assert_true(fabs(bt_level_dbfs(b + 4800, nb - 9600) -
			 bt_level_dbfs(in + 800, 8000 - 1600)) < 0.3);

	mem_deref(a);
	mem_deref(b);
}

static void test_resample_rates(void **state)
{
	static const uint32_t rates[] = {8000, 11025, 16000, 22050, 24000,
					 44100, 48000};
	size_t i, j;
	(void)state;

	for (i = 0; i < ARRAY_SIZE(rates); i++) {
		for (j = 0; j < ARRAY_SIZE(rates); j++) {
			size_t n = rates[i] / 4, m = 0;
			int16_t *in = mem_alloc(n * sizeof(*in), NULL), *out;
			double want = (double)n * rates[j] / rates[i];

			assert_non_null(in);
			sine(in, n, 300.0, rates[i], 8000.0);
			out = NULL;
			assert_int_equal(bt_resample_buf(in, n, rates[i],
							 rates[j], &out, &m),
					 0);
			assert_true(fabs((double)m - want) <= 2.0);
			assert_true(fabs(tone_hz(out + m / 5, m * 3 / 5,
						 rates[j]) - 300.0) < 1.5);
			assert_true(fabs(bt_level_dbfs(out + m / 5, m * 3 / 5) -
					 bt_level_dbfs(in + n / 5, n * 3 / 5))
				    < 0.3);
			mem_deref(out);
			mem_deref(in);
		}
	}
}

/*
 * A live resampler (a caller's stream, the agent's reply over the
 * network) gives each 20 ms frame's worth out as the frame goes in, a
 * steady short way behind: soxr's linear-phase filter gave nothing for
 * every other frame (up to 44 ms held back).
 */
static void test_resample_live(void **state)
{
	static const uint32_t pairs[][2] = {
		{24000, 16000}, {16000, 24000}, {8000, 16000}, {16000, 8000},
	};
	int16_t in[480], out[1024];

	(void)state;
	for (size_t p = 0; p < sizeof(pairs) / sizeof(pairs[0]); p++) {
		struct bt_resampler *r = NULL;
		size_t fin = pairs[p][0] / 50, fout = pairs[p][1] / 50;
		size_t got, total = 0;

		assert_int_equal(bt_resampler_alloc_live(&r, pairs[p][0],
							 pairs[p][1]), 0);
		sine(in, fin, 440.0, pairs[p][0], 8000.0);
		for (unsigned k = 1; k <= 50; k++) {
			assert_int_equal(bt_resample(r, in, fin, out,
						     sizeof(out) / 2, &got), 0);
			total += got;
			if (k == 1)
				continue;  /* the filter fills */
			/* then a frame out for each in, at most 15 ms behind */
			assert_int_equal(got, fout);
			assert_true(total * 1000 / pairs[p][1] + 15 >=
				    k * 20);
		}
		/* the end: the filter's tail, then nothing; then a new
		 * stream is taken */
		assert_int_equal(bt_resample(r, NULL, 0, out,
					     sizeof(out) / 2, &got), 0);
		assert_true(got < fout);
		assert_int_equal(bt_resample(r, NULL, 0, out,
					     sizeof(out) / 2, &got), 0);
		assert_int_equal(got, 0);
		assert_int_equal(bt_resample(r, in, fin, out,
					     sizeof(out) / 2, &got), 0);
		mem_deref(r);
	}
}

static void test_resample_stream(void **state)
{
	struct bt_resampler *r = NULL;
	int16_t in[8000], out[400], *one = NULL, *all;
	size_t n_one = 0, total = 0, got, i;
	(void)state;

	sine(in, 8000, 1000.0, 8000, 12000.0);
	assert_int_equal(bt_resample_buf(in, 8000, 8000, 16000, &one, &n_one),
			 0);

	all = mem_alloc(20000 * sizeof(*all), NULL);
	assert_non_null(all);
	assert_int_equal(bt_resampler_alloc(&r, 8000, 16000), 0);

	/* 20 ms frames, the minimum output room the header asks for */
	for (i = 0; i < 8000; i += 160) {
		assert_int_equal(bt_resample(r, in + i, 160, out, 320 + 16,
					     &got), 0);
		assert_true(got <= 336);
		memcpy(all + total, out, got * sizeof(*out));
		total += got;
	}
	do {
		assert_int_equal(bt_resample(r, NULL, 0, out, 64, &got), 0);
		memcpy(all + total, out, got * sizeof(*out));
		total += got;
	} while (got);

	/* streaming gives what one-shot gives */
	assert_int_equal(total, n_one);
	for (i = 0; i < total; i++)
		assert_true(abs(all[i] - one[i]) <= 1);

	/* after a complete flush the resampler takes a new stream */
	assert_int_equal(bt_resample(r, in, 160, out, 336, &got), 0);

	/* too little room is refused with a message, not overrun */
	bt_err_clear();
	assert_int_equal(bt_resample(r, in, 8000, out, 100, &got), ENOBUFS);
	assert_non_null(strstr(bt_errmsg(), "too small"));

	mem_deref(r);
	mem_deref(all);
	mem_deref(one);
}

static void test_resample_edge(void **state)
{
	struct bt_resampler *r = NULL;
	int16_t in[5] = {1, -2, 3, -4, 5}, out[8], *p = NULL;
	size_t n = 99;
	(void)state;

	/* identity: a copy */
	assert_int_equal(bt_resample_buf(in, 5, 16000, 16000, &p, &n), 0);
	assert_int_equal(n, 5);
	assert_memory_equal(p, in, sizeof(in));
	mem_deref(p);

	assert_int_equal(bt_resampler_alloc(&r, 16000, 16000), 0);
	assert_int_equal(bt_resample(r, in, 5, out, 8, &n), 0);
	assert_int_equal(n, 5);
	assert_memory_equal(out, in, sizeof(in));
	assert_int_equal(bt_resample(r, in, 5, out, 4, &n), ENOBUFS);
	assert_int_equal(bt_resample(r, NULL, 0, out, 8, &n), 0);
	assert_int_equal(n, 0);
	mem_deref(r);

	/* empty input */
	p = NULL;
	assert_int_equal(bt_resample_buf(NULL, 0, 8000, 16000, &p, &n), 0);
	assert_int_equal(n, 0);
	mem_deref(p);

	/* bad rates */
	r = NULL;
	bt_err_clear();
	assert_int_equal(bt_resampler_alloc(&r, 0, 16000), EINVAL);
	assert_null(r);
	assert_non_null(strstr(bt_errmsg(), "Hz"));
	assert_int_equal(bt_resample_buf(in, 5, 16000, 0, &p, &n), EINVAL);
}

static void test_level(void **state)
{
	int16_t x[1600];
	size_t i;
	(void)state;

	memset(x, 0, sizeof(x));
	assert_true(bt_level_dbfs(x, 1600) == -120.0);
	assert_true(bt_level_dbfs(x, 0) == -120.0);
	assert_true(bt_level_dbfs(NULL, 10) == -120.0);

	for (i = 0; i < 1600; i++)
		x[i] = i & 1 ? -32768 : 32767;
	assert_true(fabs(bt_level_dbfs(x, 1600)) < 0.01);

	/* a sine of half full scale: RMS is -9.03 dBFS */
	sine(x, 1600, 500.0, 16000, 16384.0);
	assert_true(fabs(bt_level_dbfs(x, 1600) + 9.03) < 0.02);

	/* a constant 1 LSB: -90.3 dBFS, well clear of the -120 floor */
	for (i = 0; i < 1600; i++)
		x[i] = 1;
	assert_true(fabs(bt_level_dbfs(x, 1600) + 90.31) < 0.01);
}

static void test_data_files(void **state)
{
	static const struct {
		const char *path;
		uint32_t rate;
	} files[] = {
		{"tests/data/table_for_three_slt.wav", 16000},
		{"tests/data/seven_thirty_tonight_espeak.wav", 16000},
		{"tests/data/yes_that_is_right_kal8k.wav", 8000},
	};
	size_t i;
	(void)state;

	for (i = 0; i < ARRAY_SIZE(files); i++) {
		int16_t *pcm = NULL;
		size_t n = 0;
		uint32_t rate = 0;

		assert_int_equal(bt_wav_read(files[i].path, &pcm, &n, &rate),
				 0);
		assert_int_equal(rate, files[i].rate);
		assert_true(n > rate);
		assert_true(bt_level_dbfs(pcm, n) > -40.0);
		mem_deref(pcm);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_wav_roundtrip_mono),
		cmocka_unit_test(test_wav_roundtrip_stereo),
		cmocka_unit_test(test_wav_writer_errors),
		cmocka_unit_test(test_wav_formats),
		cmocka_unit_test(test_wav_errors),
		cmocka_unit_test(test_wav_read_mem),
		cmocka_unit_test(test_resample_chain),
		cmocka_unit_test(test_resample_rates),
		cmocka_unit_test(test_resample_stream),
		cmocka_unit_test(test_resample_live),
		cmocka_unit_test(test_resample_edge),
		cmocka_unit_test(test_level),
		cmocka_unit_test(test_data_files),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
