/**
 * @file wav.c  WAV files: a tolerant RIFF/WAVE reader, a PCM16 writer, levels.
 *
 * The reader loads the whole file (bounded by WAV_MAX_BYTES) and walks the
 * chunks in memory (bt_wav_read_mem, which the fuzzer drives directly),
 * which keeps every bounds check in one place. It accepts
 * what real tools write (LIST/fact/cue chunks anywhere, odd chunk padding,
 * WAVE_FORMAT_EXTENSIBLE, streaming writers' 0xffffffff data size) and
 * rejects what cannot be decoded honestly (a data chunk cut short, a zero
 * rate) with a message naming the file and what to do.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <re.h>
#include "banter/audio.h"
#include "banter/err.h"

enum {
	WAV_HDR_BYTES = 44,
	WAV_MAX_CHANNELS = 64,
	WAV_MIN_RATE_HZ = BT_RATE_MIN_HZ,
	WAV_MAX_RATE_HZ = BT_RATE_MAX_HZ,
	FMT_PCM = 0x0001,
	FMT_FLOAT = 0x0003,
	FMT_ALAW = 0x0006,
	FMT_MULAW = 0x0007,
	FMT_EXTENSIBLE = 0xfffe,
};

/* An hour of 48 kHz 8-channel 32-bit audio is 5.5 GB; 1 GiB covers any
 * sensible test or caller file while refusing to swallow a disk image. */
static const size_t WAV_MAX_BYTES = (size_t)1 << 30;

/* Bytes 2..15 of the KSDATAFORMAT_SUBTYPE_* GUIDs (the first two bytes
 * carry the plain format tag). */
static const uint8_t ks_guid_tail[14] = {
	0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x80, 0x00,
	0x00, 0xaa, 0x00, 0x38, 0x9b, 0x71
};

static const char wav_fix[] = "give a PCM WAV file (e.g. convert with "
	"`sox in -e signed-integer -b 16 out.wav`)";

struct wav_fmt {
	unsigned tag;      /* FMT_PCM, FMT_FLOAT, FMT_ALAW or FMT_MULAW */
	unsigned channels;
	uint32_t rate_hz;
	unsigned bytes;    /* container bytes per sample */
};

static uint16_t rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static uint32_t rd32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
		(uint32_t)p[3] << 24;
}

static void wr16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static void wr32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

static int ulaw_decode(uint8_t u)
{
	int t;

	u = (uint8_t)~u;
	t = ((u & 0x0f) << 3) + 0x84;
	t <<= (u & 0x70) >> 4;

	return (u & 0x80) ? (0x84 - t) : (t - 0x84);
}

static int alaw_decode(uint8_t a)
{
	int t, seg;

	a ^= 0x55;
	t = (a & 0x0f) << 4;
	seg = (a & 0x70) >> 4;
	if (seg == 0)
		t += 8;
	else
		t = (t + 0x108) << (seg - 1);

	return (a & 0x80) ? t : -t;
}

/* One sample in int16 units (unclipped, fractional for deeper formats). */
static double sample_value(const struct wav_fmt *f, const uint8_t *p)
{
	float fv;
	double dv;
	uint32_t u;
	uint64_t u64;

	switch (f->tag) {

	case FMT_ALAW:
		return alaw_decode(p[0]);

	case FMT_MULAW:
		return ulaw_decode(p[0]);

	case FMT_FLOAT:
		if (f->bytes == 4) {
			u = rd32(p);
			memcpy(&fv, &u, sizeof(fv));
			dv = fv;
		}
		else {
			u64 = (uint64_t)rd32(p) | (uint64_t)rd32(p + 4) << 32;
			memcpy(&dv, &u64, sizeof(dv));
		}
		return isfinite(dv) ? dv * 32768.0 : 0.0;

	default:
		break;
	}

	/* Integer PCM: 8-bit is unsigned, wider is signed and left-justified
	 * in its container, so the top bytes carry the value. */
	switch (f->bytes) {

	case 1:
		return ((int)p[0] - 128) * 256.0;
	case 2:
		return (int16_t)rd16(p);
	case 3:
		u = (uint32_t)p[0] << 8 | (uint32_t)p[1] << 16 |
			(uint32_t)p[2] << 24;
		return (int32_t)u / 65536.0;
	default:
		return (int32_t)rd32(p) / 65536.0;
	}
}

static int parse_fmt(const char *path, const uint8_t *b, uint32_t sz,
		     struct wav_fmt *f)
{
	unsigned tag, bits, align;

	if (sz < 16)
		return bt_err(EBADMSG, "%s: damaged WAV file (fmt chunk of %u "
			      "bytes, need 16); %s", path, sz, wav_fix);

	tag = rd16(b);
	f->channels = rd16(b + 2);
	f->rate_hz = rd32(b + 4);
	align = rd16(b + 12);
	bits = rd16(b + 14);

	if (tag == FMT_EXTENSIBLE) {
		if (sz < 40 || rd16(b + 16) < 22)
			return bt_err(EBADMSG, "%s: damaged WAV file (short "
				      "WAVE_FORMAT_EXTENSIBLE header); %s",
				      path, wav_fix);
		if (memcmp(b + 26, ks_guid_tail, sizeof(ks_guid_tail)))
			return bt_err(ENOTSUP, "%s: unsupported WAV encoding "
				      "(unknown sub-format GUID); %s", path,
				      wav_fix);
		tag = rd16(b + 24);
	}

	if (f->channels == 0 || f->channels > WAV_MAX_CHANNELS)
		return bt_err(EBADMSG, "%s: damaged WAV file (%u channels; "
			      "expected 1 to %d); %s", path, f->channels,
			      WAV_MAX_CHANNELS, wav_fix);
	if (f->rate_hz < WAV_MIN_RATE_HZ || f->rate_hz > WAV_MAX_RATE_HZ)
		return bt_err(EBADMSG, "%s: sample rate %u Hz is not one banter "
			      "takes (%d to %d Hz); %s", path, f->rate_hz,
			      WAV_MIN_RATE_HZ, WAV_MAX_RATE_HZ, wav_fix);

	f->tag = tag;
	f->bytes = (bits + 7) / 8;

	switch (tag) {

	case FMT_PCM:
		if (bits < 8 || bits > 32)
			return bt_err(ENOTSUP, "%s: %u-bit PCM is not "
				      "supported (8, 16, 24 or 32 are); %s",
				      path, bits, wav_fix);
		/* 24-bit samples in 32-bit containers sometimes come
		 * without the extensible header; block_align tells. */
		if (align > f->bytes * f->channels &&
		    align % f->channels == 0 && align / f->channels <= 4)
			f->bytes = align / f->channels;
		break;

	case FMT_FLOAT:
		if (bits != 32 && bits != 64)
			return bt_err(ENOTSUP, "%s: %u-bit float is not "
				      "supported (32 or 64 are); %s", path,
				      bits, wav_fix);
		break;

	case FMT_ALAW:
	case FMT_MULAW:
		if (bits != 8)
			return bt_err(EBADMSG, "%s: damaged WAV file (G.711 "
				      "with %u bits per sample); %s", path,
				      bits, wav_fix);
		break;

	default:
		return bt_err(ENOTSUP, "%s: unsupported WAV encoding (format "
			      "tag 0x%04x, compressed audio such as ADPCM or "
			      "MP3); %s", path, tag, wav_fix);
	}

	return 0;
}

static int load_file(const char *path, uint8_t **bufp, size_t *szp)
{
	struct stat st;
	uint8_t *buf = NULL;
	FILE *f;
	int err = 0;

	f = fopen(path, "rb");
	if (!f) {
		err = errno;
		if (err == ENOENT)
			return bt_err(err, "%s: no such file; check the path",
				      path);
		if (err == EACCES)
			return bt_err(err, "%s: permission denied; check the "
				      "file's permissions", path);
		return bt_err(err, "%s: cannot open (%s); check the path",
			      path, strerror(err));
	}

	if (fstat(fileno(f), &st)) {
		err = bt_err(errno, "%s: cannot stat (%s)", path,
			     strerror(errno));
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		err = bt_err(EISDIR, "%s: not a regular file; give the path "
			     "of a WAV file", path);
		goto out;
	}
	if ((uint64_t)st.st_size > WAV_MAX_BYTES) {
		err = bt_err(EFBIG, "%s: file of %lld bytes is too large "
			     "(limit %zu); split it or downsample it", path,
			     (long long)st.st_size, WAV_MAX_BYTES);
		goto out;
	}

	buf = mem_alloc((size_t)st.st_size + 1, NULL);
	if (!buf) {
		err = bt_err(ENOMEM, "%s: out of memory", path);
		goto out;
	}
	if (fread(buf, 1, (size_t)st.st_size, f) != (size_t)st.st_size) {
		err = bt_err(EIO, "%s: read error; check the file", path);
		goto out;
	}

	*bufp = buf;
	*szp = (size_t)st.st_size;
	buf = NULL;

 out:
	mem_deref(buf);
	fclose(f);
	return err;
}

int bt_wav_read_mem(const void *mem, size_t sz, const char *name,
		    int16_t **pcmp, size_t *np, uint32_t *rate_hzp)
{
	struct wav_fmt fmt = {0};
	const uint8_t *buf = mem, *data = NULL;
	const char *path = name ? name : "WAV data";
	int16_t *pcm = NULL;
	size_t pos, data_len = 0, frame, n, i;
	bool have_fmt = false;
	int err = 0;

	if ((!mem && sz) || !pcmp || !np)
		return bt_err(EINVAL, "wav: missing argument");
	if (sz > WAV_MAX_BYTES)
		return bt_err(EFBIG, "%s: %zu bytes of WAV data is too large "
			      "(limit %zu); split it or downsample it", path,
			      sz, WAV_MAX_BYTES);

	if (sz < 12 || memcmp(buf, "RIFF", 4) || memcmp(buf + 8, "WAVE", 4)) {
		const char *why = "no RIFF header";

		if (sz >= 4 && !memcmp(buf, "RIFX", 4))
			why = "big-endian RIFX is not supported";
		else if (sz >= 4 && !memcmp(buf, "RF64", 4))
			why = "RF64 is not supported";
		else if (sz >= 12 && !memcmp(buf, "RIFF", 4))
			why = "RIFF but not WAVE";
		else if (sz < 12 && sz >= 4 && !memcmp(buf, "RIFF", 4))
			why = "truncated header";

		err = bt_err(EBADMSG, "%s: not a WAV file (%s); %s", path,
			     why, wav_fix);
		goto out;
	}

	/* The RIFF size is often wrong (streaming writers), so the walk is
	 * bounded by the file instead. */
	pos = 12;
	while (sz - pos >= 8) {
		const uint8_t *ck = buf + pos;
		size_t csz = rd32(ck + 4), avail = sz - pos - 8;

		if (!memcmp(ck, "fmt ", 4) && !have_fmt) {
			if (csz > avail) {
				err = bt_err(EBADMSG, "%s: truncated WAV file "
					     "(fmt chunk cut short); %s", path,
					     wav_fix);
				goto out;
			}
			err = parse_fmt(path, ck + 8, (uint32_t)csz, &fmt);
			if (err)
				goto out;
			have_fmt = true;
		}
		else if (!memcmp(ck, "data", 4) && !data) {
			/* 0xffffffff: written by a streaming writer that
			 * never came back to patch the header. */
			if (csz == 0xffffffff)
				csz = avail;
			if (csz > avail) {
				err = bt_err(EBADMSG, "%s: truncated WAV file "
					     "(header says %zu bytes of audio, "
					     "only %zu present); re-export or "
					     "re-record it", path, csz, avail);
				goto out;
			}
			data = ck + 8;
			data_len = csz;
		}
		else if (csz > avail) {
			/* Junk after the audio is harmless; a broken chunk
			 * before it means we cannot trust the layout. */
			if (have_fmt && data)
				break;
			err = bt_err(EBADMSG, "%s: damaged WAV file (chunk "
				     "'%.4s' of %zu bytes overruns the file); "
				     "%s", path, (const char *)ck, csz, wav_fix);
			goto out;
		}

		pos += 8 + csz + (csz & 1);
		if (pos > sz)
			break;
	}

	if (!have_fmt || !data) {
		err = bt_err(EBADMSG, "%s: damaged WAV file (no %s chunk); %s",
			     path, have_fmt ? "data" : "fmt", wav_fix);
		goto out;
	}

	frame = (size_t)fmt.bytes * fmt.channels;
	n = data_len / frame;

	pcm = mem_alloc((n ? n : 1) * sizeof(*pcm), NULL);
	if (!pcm) {
		err = bt_err(ENOMEM, "%s: out of memory for %zu samples",
			     path, n);
		goto out;
	}

	for (i = 0; i < n; i++) {
		const uint8_t *p = data + i * frame;
		double acc = 0.0, m;
		unsigned c;

		for (c = 0; c < fmt.channels; c++)
			acc += sample_value(&fmt, p + c * fmt.bytes);

		/* Clip before lrint(): a float sample may be far past full
		 * scale (or overflow to inf, or inf - inf = NaN, when scaled),
		 * and lrint() of a value beyond a long is unspecified; on
		 * x86-64 it is LONG_MIN, which turned +1e30 into -32768. */
		m = acc / fmt.channels;
		if (m >= 32767.0)
			pcm[i] = 32767;
		else if (m <= -32768.0)
			pcm[i] = -32768;
		else if (m == m)
			pcm[i] = (int16_t)lrint(m);
		else
			pcm[i] = 0;
	}

	*pcmp = pcm;
	*np = n;
	if (rate_hzp)
		*rate_hzp = fmt.rate_hz;
	pcm = NULL;

 out:
	mem_deref(pcm);
	return err;
}

int bt_wav_read(const char *path, int16_t **pcmp, size_t *np,
		uint32_t *rate_hzp)
{
	uint8_t *buf = NULL;
	size_t sz = 0;
	int err;

	if (!path || !pcmp || !np)
		return bt_err(EINVAL, "wav: missing argument");

	err = load_file(path, &buf, &sz);
	if (!err)
		err = bt_wav_read_mem(buf, sz, path, pcmp, np, rate_hzp);

	mem_deref(buf);
	return err;
}

/* ---- writer ---- */

struct bt_wav_writer {
	FILE *f;
	char *path;
	uint32_t rate_hz;
	unsigned channels;
	uint64_t data_bytes;
	int err;          /* first write error, reported again on close */
};

static int write_header(struct bt_wav_writer *w, uint32_t riff_sz,
			uint32_t data_sz)
{
	uint8_t h[WAV_HDR_BYTES];
	unsigned align = 2 * w->channels;

	memcpy(h, "RIFF", 4);
	wr32(h + 4, riff_sz);
	memcpy(h + 8, "WAVEfmt ", 8);
	wr32(h + 16, 16);
	wr16(h + 20, FMT_PCM);
	wr16(h + 22, (uint16_t)w->channels);
	wr32(h + 24, w->rate_hz);
	wr32(h + 28, w->rate_hz * align);
	wr16(h + 32, (uint16_t)align);
	wr16(h + 34, 16);
	memcpy(h + 36, "data", 4);
	wr32(h + 40, data_sz);

	if (fwrite(h, 1, sizeof(h), w->f) != sizeof(h))
		return bt_err(EIO, "%s: cannot write the WAV header (%s); "
			      "check free disk space", w->path,
			      strerror(errno));
	return 0;
}

static void writer_destructor(void *arg)
{
	struct bt_wav_writer *w = arg;

	bt_wav_writer_close(w);
	mem_deref(w->path);
}

int bt_wav_writer_open(struct bt_wav_writer **wp, const char *path,
		       uint32_t rate_hz, unsigned channels)
{
	struct bt_wav_writer *w;
	int err;

	if (!wp || !path)
		return bt_err(EINVAL, "wav: missing argument");
	if (channels < 1 || channels > 2)
		return bt_err(EINVAL, "%s: cannot write %u channels; use 1 "
			      "or 2", path, channels);
	if (rate_hz < WAV_MIN_RATE_HZ || rate_hz > WAV_MAX_RATE_HZ)
		return bt_err(EINVAL, "%s: cannot write at %u Hz; use a rate "
			      "between %d and %d Hz", path, rate_hz,
			      WAV_MIN_RATE_HZ, WAV_MAX_RATE_HZ);

	w = mem_zalloc(sizeof(*w), writer_destructor);
	if (!w)
		return bt_err(ENOMEM, "%s: out of memory", path);

	w->rate_hz = rate_hz;
	w->channels = channels;

	err = str_dup(&w->path, path);
	if (err) {
		err = bt_err(err, "%s: out of memory", path);
		goto out;
	}

	w->f = fopen(path, "wb");
	if (!w->f) {
		err = errno;
		if (err == ENOENT)
			err = bt_err(err, "%s: cannot create (no such "
				     "directory); check the path", path);
		else
			err = bt_err(err, "%s: cannot create (%s); check the "
				     "path and permissions", path,
				     strerror(err));
		goto out;
	}

	/* Until close patches them, the sizes say "to the end of the file",
	 * so a recording cut off by a crash still reads back. */
	err = write_header(w, 0xffffffff, 0xffffffff);

 out:
	if (err)
		mem_deref(w);
	else
		*wp = w;

	return err;
}

int bt_wav_writer_write(struct bt_wav_writer *w, const int16_t *pcm,
			size_t n)
{
	uint8_t tmp[2048];
	size_t total, i = 0;

	if (!w || (n && !pcm))
		return bt_err(EINVAL, "wav: missing argument");
	if (!w->f)
		return bt_err(EBADF, "%s: WAV writer already closed",
			      w->path);
	if (w->err)
		return w->err;

	total = n * w->channels;
	if (w->data_bytes + (uint64_t)total * 2 > 0xffffffffu - 36) {
		w->err = bt_err(EFBIG, "%s: WAV file would pass 4 GiB; start "
				"a new file", w->path);
		return w->err;
	}

	/* Little-endian whatever the host, in chunks of a stack buffer. */
	while (i < total) {
		size_t k, m = total - i;

		if (m > sizeof(tmp) / 2)
			m = sizeof(tmp) / 2;
		for (k = 0; k < m; k++)
			wr16(tmp + 2 * k, (uint16_t)pcm[i + k]);

		if (fwrite(tmp, 2, m, w->f) != m) {
			w->err = bt_err(EIO, "%s: write failed (%s); check "
					"free disk space", w->path,
					strerror(errno));
			return w->err;
		}
		i += m;
		w->data_bytes += 2 * m;
	}

	return 0;
}

int bt_wav_writer_close(struct bt_wav_writer *w)
{
	int err;

	if (!w)
		return bt_err(EINVAL, "wav: missing argument");
	if (!w->f)
		return w->err;

	err = w->err;

	if (!err && fseek(w->f, 0, SEEK_SET))
		err = bt_err(EIO, "%s: cannot seek to patch the header (%s)",
			     w->path, strerror(errno));
	if (!err)
		err = write_header(w, (uint32_t)(36 + w->data_bytes),
				   (uint32_t)w->data_bytes);

	if (fclose(w->f) && !err)
		err = bt_err(EIO, "%s: close failed (%s); check free disk "
			     "space", w->path, strerror(errno));
	w->f = NULL;
	w->err = err;

	return err;
}

double bt_level_dbfs(const int16_t *pcm, size_t n)
{
	double sum = 0.0, db;
	size_t i;

	if (!pcm || !n)
		return -120.0;

	for (i = 0; i < n; i++)
		sum += (double)pcm[i] * pcm[i];

	if (sum <= 0.0)
		return -120.0;

	db = 10.0 * log10(sum / n / (32768.0 * 32768.0));
	return db < -120.0 ? -120.0 : db;
}
