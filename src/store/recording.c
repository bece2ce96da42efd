/**
 * @file recording.c  Call recordings: a stereo WAV and its trace, written
 *                    on the worker pool.
 *
 * The session's side (struct rec) gathers frames into one-second stereo
 * chunks; the file's side (struct rec_file) is shared with the workers
 * and owns the open files. Chunks queue on the file under its mutex and
 * any job drains the whole queue, so they reach the disk in order however
 * the pool schedules the jobs. A chunk is one allocation a second, never
 * one per frame.
 */
#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <re.h>
#include "banter/audio.h"
#include "banter/err.h"
#include "core/worker.h"
#include "store/recording.h"

enum {
	TRACE_HOLD_BYTES = 4 << 20,  /* trace held before consent, at most */
	PATH_LEN = 512,
};

struct rec_item {
	struct rec_item *next;
	bool audio;
	size_t n;          /* audio: stereo frames; trace: bytes */
	char data[];       /* int16_t pairs, or the line and its '\n' */
};

/* Shared with the workers: everything below mu is guarded by it. */
struct rec_file {
	atomic_int refs;
	pthread_mutex_t mu;
	char dir[PATH_LEN], wav_path[PATH_LEN], trace_path[PATH_LEN];
	uint32_t rate_hz;
	struct rec_item *head, *tail;  /* waiting for the disk */
	struct bt_wav_writer *wav;
	FILE *trace;
	bool opened, failed, closed;
	char err[800];
	bool err_new;
};

struct rec {
	struct rec_file *f;
	uint32_t rate_hz;
	size_t chunk;              /* frames a chunk (one second) */
	bool inline_io, audio_on, kept, dropped;
	bool audio_next;           /* on from the next caller frame */
	int16_t *buf;              /* stereo, 2 * chunk frames */
	size_t n_l, n_r;           /* frames filled, per channel */
	struct rec_item *held, *held_tail;  /* before consent */
	size_t held_frames, held_bytes;
	bool held_full;
	char errbuf[800];
};

struct rec_job {
	struct bt_job job;
	struct rec_file *f;
	bool close;
};

static void items_free(struct rec_item *it)
{
	while (it) {
		struct rec_item *next = it->next;
		free(it);
		it = next;
	}
}

static void file_put(struct rec_file *f)
{
	if (!f || atomic_fetch_sub(&f->refs, 1) != 1)
		return;
	items_free(f->head);
	mem_deref(f->wav);
	if (f->trace)
		fclose(f->trace);
	pthread_mutex_destroy(&f->mu);
	free(f);
}

/* mkdir -p: each missing folder of the path. */
static int make_dir(const char *dir)
{
	char p[PATH_LEN];
	size_t n = strlen(dir);

	if (n >= sizeof(p))
		return ENAMETOOLONG;
	memcpy(p, dir, n + 1);
	for (size_t i = 1; i <= n; i++) {
		if (p[i] != '/' && p[i] != '\0')
			continue;
		p[i] = '\0';
		if (mkdir(p, 0750) && errno != EEXIST)
			return errno;
		p[i] = dir[i];
	}
	return 0;
}

/* On a worker (or inline), under f->mu. */
static void file_fail(struct rec_file *f, const char *what, int err)
{
	if (f->failed)
		return;
	f->failed = true;
	snprintf(f->err, sizeof(f->err), "recording %s: %s (%s); the call "
		 "goes on unrecorded: check the folder's permissions and "
		 "free space", f->wav_path, what, strerror(err));
	f->err_new = true;
}

static void file_open(struct rec_file *f)
{
	int err;

	f->opened = true;
	err = make_dir(f->dir);
	if (err) {
		file_fail(f, "cannot make the folder", err);
		return;
	}
	err = bt_wav_writer_open(&f->wav, f->wav_path, f->rate_hz, 2);
	if (err) {
		file_fail(f, "cannot create the WAV", err);
		return;
	}
	f->trace = fopen(f->trace_path, "w");
	if (!f->trace)
		file_fail(f, "cannot create the trace", errno);
}

static void file_drain(struct rec_file *f, bool close)
{
	struct rec_item *it;

	pthread_mutex_lock(&f->mu);
	if (f->closed)
		goto out;
	if (!f->opened)
		file_open(f);
	it = f->head;
	f->head = f->tail = NULL;
	for (struct rec_item *i = it; i && !f->failed; i = i->next) {
		if (i->audio) {
			if (bt_wav_writer_write(f->wav, (const int16_t *)
						(void *)i->data, i->n))
				file_fail(f, "cannot write the WAV", EIO);
		}
		else if (fwrite(i->data, 1, i->n, f->trace) != i->n) {
			file_fail(f, "cannot write the trace", errno);
		}
	}
	items_free(it);
	if (close) {
		f->closed = true;
		if (f->wav && bt_wav_writer_close(f->wav) && !f->failed)
			file_fail(f, "cannot finish the WAV", EIO);
		f->wav = mem_deref(f->wav);
		if (f->trace && fclose(f->trace) && !f->failed)
			file_fail(f, "cannot finish the trace", errno);
		f->trace = NULL;
	}
	else if (f->trace) {
		fflush(f->trace);
	}
 out:
	pthread_mutex_unlock(&f->mu);
}

static void job_work(struct bt_job *job)
{
	struct rec_job *j = (struct rec_job *)job;

	file_drain(j->f, j->close);
}

static void job_free(struct bt_job *job)
{
	struct rec_job *j = (struct rec_job *)job;

	file_put(j->f);
	free(j);
}

/* Hand the queue to the disk: a worker, or here in order. */
static void submit(struct rec *r, bool close)
{
	struct rec_job *j = calloc(1, sizeof(*j));

	if (!j) {
		file_drain(r->f, close);
		return;
	}
	j->job.work = job_work;
	j->job.freeh = job_free;
	atomic_init(&j->job.refs, 1);
	atomic_fetch_add(&r->f->refs, 1);
	j->f = r->f;
	j->close = close;
	if (r->inline_io || bt_worker_submit(&j->job))
		bt_job_run_inline(&j->job);
	bt_job_release(&j->job);
}

static void to_file(struct rec *r, struct rec_item *it)
{
	struct rec_file *f = r->f;

	pthread_mutex_lock(&f->mu);
	if (f->tail)
		f->tail->next = it;
	else
		f->head = it;
	f->tail = it;
	pthread_mutex_unlock(&f->mu);
}

static void hold(struct rec *r, struct rec_item *it)
{
	size_t max_frames = (size_t)REC_HOLD_S * r->rate_hz;

	if ((it->audio && r->held_frames + it->n > max_frames) ||
	    (!it->audio && r->held_bytes + it->n > TRACE_HOLD_BYTES)) {
		/* consent takes too long: the start is kept, not the rest */
		r->held_full = true;
		free(it);
		return;
	}
	if (it->audio)
		r->held_frames += it->n;
	else
		r->held_bytes += it->n;
	if (r->held_tail)
		r->held_tail->next = it;
	else
		r->held = it;
	r->held_tail = it;
}

static void queue(struct rec *r, struct rec_item *it)
{
	if (r->kept)
		to_file(r, it);
	else
		hold(r, it);
}

/* The first n frames of the buffer become a chunk. */
static void emit(struct rec *r, size_t n)
{
	size_t cap = 2 * r->chunk;
	struct rec_item *it;

	if (!n)
		return;
	it = malloc(sizeof(*it) + n * 4);
	if (it) {
		it->next = NULL;
		it->audio = true;
		it->n = n;
		memcpy(it->data, r->buf, n * 4);
		queue(r, it);
	}
	memmove(r->buf, r->buf + 2 * n, (cap - n) * 4);
	memset(r->buf + 2 * (cap - n), 0, n * 4);
	r->n_l = r->n_l > n ? r->n_l - n : 0;
	r->n_r = r->n_r > n ? r->n_r - n : 0;
	if (r->kept)
		submit(r, false);
}

static void add(struct rec *r, unsigned ch, const int16_t *pcm, size_t n)
{
	size_t *fill = ch ? &r->n_r : &r->n_l;
	size_t cap = 2 * r->chunk;

	if (!r || !r->audio_on || r->dropped || !pcm)
		return;
	if (n > r->chunk)
		n = r->chunk;
	/* one side far ahead of the other (a transport that stopped
	 * pulling): the other side is silence there */
	if (*fill + n > cap)
		emit(r, r->chunk);
	for (size_t i = 0; i < n; i++)
		r->buf[2 * (*fill + i) + ch] = pcm[i];
	*fill += n;
	if (r->n_l >= r->chunk && r->n_r >= r->chunk)
		emit(r, r->chunk);
}

void rec_caller(struct rec *r, const int16_t *pcm, size_t n)
{
	if (!r)
		return;
	/* a frame pair starts with the caller's: the agent frame that
	 * ended the notice is not in the recording */
	if (r->audio_next) {
		r->audio_next = false;
		r->audio_on = !r->dropped;
	}
	add(r, 0, pcm, n);
}

void rec_agent(struct rec *r, const int16_t *pcm, size_t n)
{
	if (r)
		add(r, 1, pcm, n);
}

void rec_audio_on(struct rec *r)
{
	if (r && !r->dropped)
		r->audio_next = true;
}

void rec_trace(struct rec *r, const char *json)
{
	struct rec_item *it;
	size_t n;

	if (!r || r->dropped || !json)
		return;
	n = strlen(json);
	it = malloc(sizeof(*it) + n + 1);
	if (!it)
		return;
	it->next = NULL;
	it->audio = false;
	it->n = n + 1;
	memcpy(it->data, json, n);
	it->data[n] = '\n';
	queue(r, it);
}

int rec_keep(struct rec *r)
{
	if (!r || r->dropped)
		return EINVAL;
	if (r->kept)
		return 0;
	r->kept = true;
	for (struct rec_item *it = r->held; it; ) {
		struct rec_item *next = it->next;
		it->next = NULL;
		to_file(r, it);
		it = next;
	}
	r->held = r->held_tail = NULL;
	submit(r, false);
	return 0;
}

void rec_drop(struct rec *r)
{
	if (!r || r->kept)
		return;
	r->dropped = true;
	r->audio_on = r->audio_next = false;
	items_free(r->held);
	r->held = r->held_tail = NULL;
}

bool rec_kept(const struct rec *r)
{
	return r && r->kept;
}

const char *rec_wav_path(const struct rec *r)
{
	return r ? r->f->wav_path : "";
}

const char *rec_error(struct rec *r)
{
	const char *e = NULL;

	if (!r)
		return NULL;
	pthread_mutex_lock(&r->f->mu);
	if (r->f->err_new) {
		r->f->err_new = false;
		str_ncpy(r->errbuf, r->f->err, sizeof(r->errbuf));
		e = r->errbuf;
	}
	pthread_mutex_unlock(&r->f->mu);
	return e;
}

static void rec_destructor(void *arg)
{
	struct rec *r = arg;

	if (r->kept) {
		emit(r, r->n_l > r->n_r ? r->n_l : r->n_r);
		submit(r, true);
	}
	items_free(r->held);
	free(r->buf);
	file_put(r->f);
}

/* File names keep to letters, digits, '.', '_' and '-'. */
static void safe_name(char *dst, size_t sz, const char *id)
{
	size_t i;

	for (i = 0; id[i] && i + 1 < sz; i++) {
		char c = id[i];
		bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			  (c >= '0' && c <= '9') || c == '_' || c == '-' ||
			  (c == '.' && i);
		dst[i] = ok ? c : '_';
	}
	dst[i] = '\0';
}

int rec_alloc(struct rec **rp, const char *dir, const char *id,
	      uint32_t rate_hz, bool inline_io)
{
	struct rec *r;
	char name[96], stamp[32];
	time_t now = time(NULL);
	struct tm tm;
	int n;

	if (!rp || !dir || !dir[0] || !id || rate_hz < 8000)
		return bt_err(EINVAL, "recording: missing argument");
	r = mem_zalloc(sizeof(*r), rec_destructor);
	if (!r)
		return ENOMEM;
	r->rate_hz = rate_hz;
	r->chunk = rate_hz;
	r->inline_io = inline_io;
	r->buf = calloc(2 * r->chunk * 2, sizeof(int16_t));
	r->f = calloc(1, sizeof(*r->f));
	if (!r->buf || !r->f) {
		mem_deref(r);
		return ENOMEM;
	}
	atomic_init(&r->f->refs, 1);
	pthread_mutex_init(&r->f->mu, NULL);
	r->f->rate_hz = rate_hz;
	gmtime_r(&now, &tm);
	strftime(stamp, sizeof(stamp), "%Y%m%d-%H%M%S", &tm);
	safe_name(name, sizeof(name), id);
	n = snprintf(r->f->wav_path, sizeof(r->f->wav_path), "%s/%s-%s.wav",
		     dir, stamp, name);
	if (n < 0 || (size_t)n >= sizeof(r->f->wav_path) ||
	    strlen(dir) >= sizeof(r->f->dir)) {
		mem_deref(r);
		return bt_err(ENAMETOOLONG, "recording folder \"%.60s...\" is "
			      "too long; use a shorter path", dir);
	}
	str_ncpy(r->f->dir, dir, sizeof(r->f->dir));
	snprintf(r->f->trace_path, sizeof(r->f->trace_path),
		 "%s/%s-%s.trace.jsonl", dir, stamp, name);
	*rp = r;
	return 0;
}

/* YYYYMMDD-HHMMSS-...(.wav|.trace.jsonl): a file banter wrote. */
static bool ours(const char *name)
{
	size_t n = strlen(name);

	if (n < 17)
		return false;
	for (size_t i = 0; i < 15; i++) {
		if (i == 8 ? name[i] != '-' : (name[i] < '0' || name[i] > '9'))
			return false;
	}
	if (name[15] != '-')
		return false;
	return (n > 4 && !strcmp(name + n - 4, ".wav")) ||
	       (n > 12 && !strcmp(name + n - 12, ".trace.jsonl"));
}

int rec_purge(const char *dir, unsigned days, unsigned *np)
{
	time_t cutoff = time(NULL) - (time_t)days * 86400;
	struct dirent *de;
	unsigned n = 0;
	DIR *d;
	int err = 0;

	if (!dir || !days)
		return EINVAL;
	d = opendir(dir);
	if (!d) {
		if (np)
			*np = 0;
		return errno == ENOENT ? 0 :
			bt_err(errno, "recordings folder %s cannot be read "
			       "(%s); check its permissions", dir,
			       strerror(errno));
	}
	while ((de = readdir(d))) {
		char path[PATH_LEN];
		struct stat st;

		if (!ours(de->d_name))
			continue;
		if (snprintf(path, sizeof(path), "%s/%s", dir, de->d_name) >=
		    (int)sizeof(path))
			continue;
		if (lstat(path, &st) || !S_ISREG(st.st_mode) ||
		    st.st_mtime >= cutoff)
			continue;
		if (unlink(path)) {
			err = bt_err(errno, "cannot delete the old recording "
				     "%s (%s); check the folder's "
				     "permissions", path, strerror(errno));
			continue;
		}
		n++;
	}
	closedir(d);
	if (np)
		*np = n;
	return err;
}
