/**
 * @file ps_share.c  Senone scores computed once per frame, by the phone
 * loop, and read by the instance's other decoders.
 *
 * Why: scoring the acoustic model (ptm_mgau_frame_eval) is half of a
 * caller's decoding, and each decoder of an utterance scored every senone
 * of the same frames: the phone loop once, the open language model twice
 * (its phone lookahead scores frame t, its search frame t - 5, and
 * pocketsphinx keeps one frame's scores), the grammar decoder once more.
 * The scores are the same numbers each time (-compallsen yes: all senones,
 * normalised by the best; same features, same CMN), so the phone loop
 * computes them and the others read them.
 *
 * How, with the public API of pocketsphinx 5prealpha only: the phone loop
 * is made with -senlogdir, so it writes each frame's scores to
 * DIR/<uttid>.sen as it computes them (this instance's own directory on
 * /dev/shm; the file is unlinked as soon as it is open here, and the part
 * already read is punched out, so it holds a few frames of tmpfs at most).
 * The readers decode with ps_decode_senscr(), which takes a whole
 * utterance in one call and reads the scores through a FILE: each runs in
 * a coroutine of its own (ucontext), on the session's thread, with a
 * fopencookie FILE that hands it the frames written so far and switches
 * back to the feeding code when it needs the next one. Between feeds a
 * reader is suspended between two frames, where ps_get_hyp() reads it as
 * after ps_process_raw().
 *
 * The file position pocketsphinx keeps for a frame (acmod_read_scores:
 * ftell after reading it) is where the frame ends, and reading a frame
 * again (the n-gram search, pl_window frames behind its lookahead) seeks
 * there: from a file it would read the frame after it, and go on reading
 * new frames from there. The cookie serves the frame that ends at the
 * position sought, then new frames where they left off (ck_seek). With
 * that the words are the same as when each decoder scores, the LM's path
 * score within 1 % (a decoder's score of a frame depends a little on the
 * frames it scored before, and the lookahead scored them out of order)
 * and the confidences within 0.02 (test_stt test_shared_scores).
 *
 * Cost: a reader's stack (1 MiB reserved, what it touches resident) and
 * a buffer of the last frames (10 KB each) per instance. Off with
 * BANTER_STT_SCORES=each, or where /dev/shm cannot hold the directory.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdio_ext.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <ucontext.h>
#include <unistd.h>
#include "banter/err.h"
#include "ps_int.h"

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/common_interface_defs.h>
#define SHARE_ASAN 1
#else
#define SHARE_ASAN 0
#endif

enum {
	READERS_MAX = 4,               /* lm, fsg, ovb, ovs */
	STACK_BYTES = 1024 * 1024,
	KEEP_FRAMES = 8,               /* behind the slowest reader: more
					  than the lookahead (5) re-reads */
	HDR_MAX = 1024,                /* the dump's text header */
	IOBUF = 4096,                  /* a reader's FILE buffer: < a frame */
	PIECE_SAMPLES = BT_RATE_HZ / 10, /* fed to the writer at a time */
};

struct rd {
	struct pss *s;
	ps_decoder_t *ps;
	FILE *fp;
	ucontext_t ctx, back;
	void *stack;                   /* mmap()ed, a guard page below */
	size_t live;                   /* next new byte of the stream */
	size_t vpos, vtarget, vend;    /* a frame read again: ck_seek */
	bool replay;
	char iobuf[IOBUF];
	bool done;                     /* its utterance has ended */
	int rv;
#if SHARE_ASAN
	void *fake;
	const void *main_bottom;
	size_t main_size;
#endif
};

struct pss {
	char dir[64];
	int fd;                        /* this utterance's dump, -1: none */
	uint8_t *buf;
	size_t cap;
	size_t base, len;              /* stream bytes [base, base + len) */
	size_t punched;                /* the dump's bytes given back */
	size_t hdr, frame;             /* header and frame bytes, 0: unknown */
	bool closed;                   /* the writer ended the utterance */
	bool broken;                   /* frames not longer than IOBUF */
	struct rd rd[READERS_MAX];
	size_t n;
};

static int mode;  /* BANTER_STT_SCORES: 1 shared, 0 each */

/* read at each instance made (rarely: they are pooled) */
static int pss_env(void)
{
	const char *e = getenv("BANTER_STT_SCORES");

	if (!e || !*e || !strcmp(e, "shared")) {
		mode = 1;
		return 0;
	}
	if (!strcmp(e, "each")) {
		mode = 0;
		return 0;
	}
	return bt_err(EINVAL, "BANTER_STT_SCORES is \"%.40s\": it says whether"
		      " the embedded recogniser's decoders share one scoring "
		      "of each frame, \"shared\" (the default: the same words "
		      "for less CPU) or \"each\"", e);
}

/* The dump the writer opened at ps_start_utt: the one file in dir. */
static int dump_open(struct pss *s)
{
	DIR *d = opendir(s->dir);
	struct dirent *e;
	int fd = -1;

	if (!d)
		return -1;
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		if (fd < 0)
			fd = openat(dirfd(d), e->d_name, O_RDONLY | O_CLOEXEC);
		(void)unlinkat(dirfd(d), e->d_name, 0);
	}
	closedir(d);
	return fd;
}

static void stack_free(struct rd *r)
{
	if (r->stack)
		munmap((uint8_t *)r->stack - 4096, STACK_BYTES + 4096);
	r->stack = NULL;
}

static void destructor(void *arg)
{
	struct pss *s = arg;

	for (size_t i = 0; i < READERS_MAX; i++) {
		struct rd *r = &s->rd[i];

		if (r->fp)
			fclose(r->fp);
		stack_free(r);
	}
	if (s->fd >= 0)
		close(s->fd);
	free(s->buf);
	if (s->dir[0]) {
		int fd = dump_open(s);  /* one the writer left: unlinked */

		if (fd >= 0)
			close(fd);
		rmdir(s->dir);
	}
}

/* Directories of processes that ended without freeing their instances
 * (killed): once per process, under bt_psm_lock (psi_make holds it). */
static void sweep(void)
{
	static bool swept;
	DIR *d;
	struct dirent *e;

	if (swept)
		return;
	swept = true;
	d = opendir("/dev/shm");
	if (!d)
		return;
	while ((e = readdir(d))) {
		struct pss old = {.fd = -1};
		long pid;
		char *end;
		int fd;

		if (strncmp(e->d_name, "banter-scores-", 14))
			continue;
		pid = strtol(e->d_name + 14, &end, 10);
		if (end == e->d_name + 14 || *end != '-' || pid <= 0 ||
		    pid == (long)getpid() || kill((pid_t)pid, 0) == 0 ||
		    errno != ESRCH)
			continue;
		if (snprintf(old.dir, sizeof(old.dir), "/dev/shm/%s",
			     e->d_name) >= (int)sizeof(old.dir))
			continue;
		fd = dump_open(&old);
		if (fd >= 0)
			close(fd);
		(void)rmdir(old.dir);
	}
	closedir(d);
}

int pss_alloc(struct pss **sp)
{
	struct pss *s;
	int err = pss_env();

	*sp = NULL;
	if (err || !mode)
		return err;
	s = mem_zalloc(sizeof(*s), destructor);
	if (!s)
		return bt_err(ENOMEM, "out of memory starting pocketsphinx");
	s->fd = -1;
	sweep();
	snprintf(s->dir, sizeof(s->dir), "/dev/shm/banter-scores-%ld-XXXXXX",
		 (long)getpid());
	if (!mkdtemp(s->dir)) {
		/* no tmpfs here: each decoder scores for itself */
		s->dir[0] = '\0';
		mem_deref(s);
		return 0;
	}
	*sp = s;
	return 0;
}

const char *pss_dir(const struct pss *s)
{
	return s ? s->dir : NULL;
}

/* ------------------------------------------------------------------ */
/* the stream the phone loop writes                                    */
/* ------------------------------------------------------------------ */

/* Find the header's end and the frame size ("n_sen N") once it is in. */
static void header_parse(struct pss *s)
{
	static const char end[] = "endhdr\n";
	const char *p, *q;
	size_t n = s->len < HDR_MAX ? s->len : HDR_MAX;
	char txt[HDR_MAX + 1];

	if (s->hdr || s->base)
		return;
	memcpy(txt, s->buf, n);
	txt[n] = '\0';
	p = strstr(txt, end);
	q = strstr(txt, "\nn_sen ");
	if (!p || !q || (size_t)(p - txt) + sizeof(end) - 1 + 4 > n)
		return;
	s->frame = 2 + 2 * (size_t)strtoul(q + 7, NULL, 10);
	s->hdr = (size_t)(p - txt) + sizeof(end) - 1 + 4;  /* + byte order */
	/* ck_seek's arithmetic needs frames longer than the FILE buffer
	 * (en-us: 5126 senones, 10 254 bytes) */
	s->broken = s->frame <= IOBUF;
}

/* What the writer has written since the last call. */
static int drain(struct pss *s)
{
	for (;;) {
		ssize_t got;

		if (s->len == s->cap) {
			size_t cap = s->cap ? s->cap * 2 : 64 * 1024;
			uint8_t *b = realloc(s->buf, cap);

			if (!b)
				return ENOMEM;
			s->buf = b;
			s->cap = cap;
		}
		got = pread(s->fd, s->buf + s->len, s->cap - s->len,
			    (off_t)(s->base + s->len));
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0)
			return errno;
		if (!got)
			break;
		s->len += (size_t)got;
	}
	header_parse(s);
	/* tmpfs pages of what is read: only the writer's offsets go on */
	if (s->base + s->len > s->punched + 2 * 65536) {
		size_t to = (s->base + s->len - 65536) & ~4095UL;

		(void)fallocate(s->fd, FALLOC_FL_PUNCH_HOLE |
				FALLOC_FL_KEEP_SIZE, (off_t)s->punched,
				(off_t)(to - s->punched));
		s->punched = to;
	}
	return 0;
}

/* Drop what no reader can ask for again. */
static void compact(struct pss *s)
{
	size_t low = s->base + s->len, keep;

	if (!s->frame)
		return;
	for (size_t i = 0; i < s->n; i++)
		if (!s->rd[i].done && s->rd[i].live < low)
			low = s->rd[i].live;
	keep = KEEP_FRAMES * s->frame;
	if (low < s->hdr + keep || low - keep <= s->base)
		return;
	low -= keep;
	memmove(s->buf, s->buf + (low - s->base), s->base + s->len - low);
	s->len -= low - s->base;
	s->base = low;
}

/* ------------------------------------------------------------------ */
/* readers                                                             */
/* ------------------------------------------------------------------ */

static void to_reader(struct rd *r)
{
#if SHARE_ASAN
	void *fake = NULL;

	__sanitizer_start_switch_fiber(&fake, r->stack, STACK_BYTES);
	swapcontext(&r->back, &r->ctx);
	__sanitizer_finish_switch_fiber(fake, NULL, NULL);
#else
	swapcontext(&r->back, &r->ctx);
#endif
}

static void to_feeder(struct rd *r)
{
#if SHARE_ASAN
	__sanitizer_start_switch_fiber(&r->fake, r->main_bottom,
				       r->main_size);
	swapcontext(&r->ctx, &r->back);
	__sanitizer_finish_switch_fiber(r->fake, &r->main_bottom,
					&r->main_size);
#else
	swapcontext(&r->ctx, &r->back);
#endif
}

/*
 * The reader's FILE is buffered (IOBUF bytes; unbuffered, glibc's cookie
 * streams read one byte per call). So the stream's positions are its true
 * byte offsets, which glibc's ftell and fseek arithmetic needs, and two
 * things are put right here:
 *  - the position pocketsphinx keeps for frame k is where frame k ends, and
 *    a seek there means "frame k again". Seen from a seek, the stream is
 *    shifted by one frame (byte p is the stream's byte p - frame) until
 *    that frame has been read. glibc seeks to a multiple of IOBUF below
 *    the target and reads up to it; IOBUF is less than a frame, so the
 *    target is the first frame end at or above where it seeks.
 *  - a seek throws away what glibc had read ahead, which was not read by
 *    pocketsphinx: new bytes start again at the frame end below live
 *    (pocketsphinx reads whole frames, and less than IOBUF was ahead).
 */
static size_t frame_end_below(const struct pss *s, size_t at)
{
	return at <= s->hdr ? at :
		s->hdr + (at - s->hdr) / s->frame * s->frame;
}

static ssize_t ck_read(void *arg, char *out, size_t sz)
{
	struct rd *r = arg;
	struct pss *s = r->s;

	if (r->replay && r->vpos < r->vtarget) {
		/* what glibc reads up to the target and throws away */
		size_t n = r->vtarget - r->vpos;

		if (n > sz)
			n = sz;
		memset(out, 0, n);
		r->vpos += n;
		return (ssize_t)n;
	}
	if (r->replay) {
		size_t n = r->vend - r->vpos, from = r->vpos - s->frame;

		if (n > sz)
			n = sz;
		if (from < s->base || from + n > s->base + s->len)
			return -1;  /* dropped: cannot happen (KEEP_FRAMES) */
		memcpy(out, s->buf + (from - s->base), n);
		r->vpos += n;
		r->replay = r->vpos < r->vend;
		return (ssize_t)n;
	}
	for (;;) {
		size_t end = s->base + s->len, n;

		if (s->broken || r->live < s->base)
			return -1;
		n = end - r->live;
		if (n) {
			if (n > sz)
				n = sz;
			memcpy(out, s->buf + (r->live - s->base), n);
			r->live += n;
			return (ssize_t)n;
		}
		if (s->closed)
			return 0;
		to_feeder(r);
	}
}

static int ck_seek(void *arg, off64_t *off, int whence)
{
	struct rd *r = arg;
	struct pss *s = r->s;
	size_t x, target;

	if (whence == SEEK_CUR && !*off) {
		*off = (off64_t)r->live;   /* glibc takes off what it holds */
		return 0;
	}
	if (whence != SEEK_SET || *off < 0 || !s->frame ||
	    (size_t)*off <= s->hdr)
		return -1;
	x = (size_t)*off;
	target = s->hdr + (x - s->hdr + s->frame - 1) / s->frame * s->frame;
	r->live = frame_end_below(s, r->live);
	r->vpos = x;
	r->vtarget = target;
	r->vend = target + s->frame;
	r->replay = true;
	return 0;
}

static __thread struct rd *starting;

static void reader_main(void)
{
	struct rd *r = starting;

#if SHARE_ASAN
	__sanitizer_finish_switch_fiber(NULL, &r->main_bottom, &r->main_size);
#endif
	r->rv = ps_decode_senscr(r->ps, r->fp);
	r->done = true;
#if SHARE_ASAN
	__sanitizer_start_switch_fiber(NULL, r->main_bottom, r->main_size);
#endif
	/* returns to r->back (uc_link) */
}

static int reader_start(struct pss *s, struct rd *r, ps_decoder_t *ps)
{
	static const cookie_io_functions_t io = {
		.read = ck_read, .seek = ck_seek,
	};

	if (!r->stack) {
		uint8_t *m = mmap(NULL, STACK_BYTES + 4096,
				  PROT_READ | PROT_WRITE, MAP_PRIVATE |
				  MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);

		if (m == MAP_FAILED)
			return ENOMEM;
		(void)mprotect(m, 4096, PROT_NONE);
		r->stack = m + 4096;
	}
	/* a new stream: nothing of the last utterance in its buffer */
	if (r->fp)
		fclose(r->fp);
	r->fp = fopencookie(r, "r", io);
	if (!r->fp)
		return ENOMEM;
	setvbuf(r->fp, r->iobuf, _IOFBF, sizeof(r->iobuf));
	/* no stream lock held while a reader is switched out */
	__fsetlocking(r->fp, FSETLOCKING_BYCALLER);
	r->s = s;
	r->ps = ps;
	r->live = 0;
	r->replay = false;
	r->done = false;
	r->rv = 0;
	if (getcontext(&r->ctx))
		return errno;
	r->ctx.uc_stack.ss_sp = r->stack;
	r->ctx.uc_stack.ss_size = STACK_BYTES;
	r->ctx.uc_link = &r->back;
	makecontext(&r->ctx, reader_main, 0);
	starting = r;
	to_reader(r);   /* it starts the utterance and waits for the header */
	return 0;
}


bool pss_start(struct pss *s, ps_decoder_t *const *v, size_t n)
{
	if (!s || n > READERS_MAX)
		return false;
	if (s->fd >= 0)
		close(s->fd);
	s->fd = dump_open(s);
	if (s->fd < 0)
		return false;  /* the writer could not make it: each scores */
	s->base = s->len = s->hdr = s->frame = s->punched = 0;
	s->closed = s->broken = false;
	s->n = 0;
	for (size_t i = 0; i < n; i++) {
		if (reader_start(s, &s->rd[i], v[i])) {
			pss_stop(s);
			return false;
		}
		s->n++;
	}
	return true;
}

/* Let every reader take what is there. */
static int readers_run(struct pss *s)
{
	int err = drain(s);

	if (err)
		return err;
	for (size_t i = 0; i < s->n; i++) {
		struct rd *r = &s->rd[i];

		if (!r->done)
			to_reader(r);
		if (r->done && r->rv < 0)
			err = EIO;
	}
	compact(s);
	return err;
}

int pss_feed(struct pss *s, ps_decoder_t *writer, const int16_t *pcm,
	     size_t n)
{
	/* in pieces: a reader keeps only the last frames behind it */
	while (n) {
		size_t k = n < PIECE_SAMPLES ? n : PIECE_SAMPLES;
		int err;

		if (ps_process_raw(writer, pcm, k, FALSE, FALSE) < 0)
			return EIO;
		err = readers_run(s);
		if (err)
			return err;
		pcm += k;
		n -= k;
	}
	return 0;
}

int pss_end(struct pss *s, ps_decoder_t *writer)
{
	int err = ps_end_utt(writer) < 0 ? EIO : 0;
	int e2;

	/* ending the utterance closed (and flushed) the dump */
	s->closed = true;
	e2 = readers_run(s);
	for (size_t i = 0; i < s->n; i++)
		if (!s->rd[i].done)
			e2 = EIO;
	pss_stop(s);
	return err ? err : e2;
}

void pss_stop(struct pss *s)
{
	if (!s)
		return;
	/* a reader still inside its utterance (the dump failed): end it
	 * with the end of the stream */
	s->closed = true;
	for (size_t i = 0; i < s->n; i++) {
		struct rd *r = &s->rd[i];

		if (!r->done)
			to_reader(r);
	}
	s->n = 0;
	if (s->fd >= 0)
		close(s->fd);
	s->fd = -1;
	s->base = s->len = 0;
}
