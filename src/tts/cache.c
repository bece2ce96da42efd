/**
 * @file cache.c  Process-wide cache of rendered sentences.
 *
 * Agents say the same sentences call after call: the greeting, "sorry,
 * could you repeat that?", "are you still there?", a legal notice. The
 * cache keeps each rendering once per process, keyed by provider, voice,
 * rate, pitch and the exact text, so a repeat costs a copy instead of a
 * synthesis (milliseconds of CPU per sentence, on every call).
 *
 * It also makes a voice's output a function of its input. espeak-ng (and
 * flite, run in-process) keep wave generator state between utterances, so
 * the same sentence rendered twice gives different samples; without the
 * cache what a session hears depended on what the process had said
 * before, and so did benchmark figures (docs/design-notes.md).
 *
 * bt_tts_open() wraps the provider's instance when the cache is on; the
 * wrapper looks the sentence up and renders on a miss. A network voice
 * (one that streams) is wrapped too, but nothing renders into the cache
 * for it on its own: the session streams the lines it wants kept (the
 * brain's fillers) and puts their audio in (bt_tts_cache_put), so a call
 * says them without a round trip, and every later call of the process
 * with that voice too. A claim (bt_tts_cache_claim) makes sure that calls
 * starting together ask the service for a line once, not once each.
 *
 * Entries are plain malloc'd copies owned by the cache (never shared mem objects: synth runs
 * on worker threads and libre's reference counts are not atomic); a hit
 * hands out a fresh copy. Least recently used entries go first once the
 * byte budget is reached; one sentence may take at most a quarter of it.
 * One mutex; the work under it is a hash lookup and, on a hit, a memcpy.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "banter/err.h"
#include "banter/tts.h"
#include "tts/tts_int.h"

enum {
	BUCKETS = 512,
	DEFAULT_MAX = 16 * 1024 * 1024,
	CLAIMS_MAX = 64,     /* lines being rendered ahead at once */
};

struct entry {
	struct entry *hnext;          /* bucket chain */
	struct entry *prev, *next;    /* LRU: head is the newest */
	char *key;
	uint32_t hash;
	int16_t *pcm;
	size_t n;
	uint32_t rate_hz;
	struct bt_tts_word *words;
	size_t n_words;
	size_t bytes;
};

static struct {
	pthread_mutex_t mtx;
	struct entry *bucket[BUCKETS];
	struct entry *head, *tail;
	size_t bytes, entries, max_bytes;
	uint64_t hits, misses;
	char *claims[CLAIMS_MAX];     /* keys a session is rendering now */
} cache = {
	.mtx = PTHREAD_MUTEX_INITIALIZER,
	.max_bytes = DEFAULT_MAX,
};

struct cached_st {
	const struct bt_tts *tts;     /* &cached_tts or &cached_stream_tts:
					 first member */
	struct bt_tts_st *inner;      /* the provider's instance */
	char *prefix;                 /* "provider:voice|rate|pitch|" */
};

static uint32_t fnv1a(const char *s)
{
	uint32_t h = 2166136261u;

	for (; *s; s++) {
		h ^= (uint8_t)*s;
		h *= 16777619u;
	}
	return h;
}

static void entry_free(struct entry *e)
{
	free(e->key);
	free(e->pcm);
	free(e->words);
	free(e);
}

static void lru_unlink(struct entry *e)
{
	if (e->prev)
		e->prev->next = e->next;
	else
		cache.head = e->next;
	if (e->next)
		e->next->prev = e->prev;
	else
		cache.tail = e->prev;
	e->prev = e->next = NULL;
}

static void lru_push(struct entry *e)
{
	e->prev = NULL;
	e->next = cache.head;
	if (cache.head)
		cache.head->prev = e;
	cache.head = e;
	if (!cache.tail)
		cache.tail = e;
}

/* Remove e from its bucket and the LRU list and free it (lock held). */
static void entry_drop(struct entry *e)
{
	struct entry **pp = &cache.bucket[e->hash % BUCKETS];

	while (*pp && *pp != e)
		pp = &(*pp)->hnext;
	if (*pp)
		*pp = e->hnext;
	lru_unlink(e);
	cache.bytes -= e->bytes;
	cache.entries--;
	entry_free(e);
}

static void shrink_to(size_t max)
{
	while (cache.tail && cache.bytes > max)
		entry_drop(cache.tail);
}

void bt_tts_cache_set(size_t max_bytes)
{
	pthread_mutex_lock(&cache.mtx);
	cache.max_bytes = max_bytes;
	shrink_to(max_bytes);
	pthread_mutex_unlock(&cache.mtx);
}

void bt_tts_cache_flush(void)
{
	pthread_mutex_lock(&cache.mtx);
	shrink_to(0);
	cache.hits = cache.misses = 0;
	for (size_t i = 0; i < CLAIMS_MAX; i++) {
		free(cache.claims[i]);
		cache.claims[i] = NULL;
	}
	pthread_mutex_unlock(&cache.mtx);
}

void bt_tts_cache_stats(struct bt_tts_cache_stats *st)
{
	if (!st)
		return;
	pthread_mutex_lock(&cache.mtx);
	st->hits = cache.hits;
	st->misses = cache.misses;
	st->entries = cache.entries;
	st->bytes = cache.bytes;
	st->max_bytes = cache.max_bytes;
	pthread_mutex_unlock(&cache.mtx);
}

static struct entry *lookup(const char *key, uint32_t h)
{
	struct entry *e = cache.bucket[h % BUCKETS];

	while (e && (e->hash != h || strcmp(e->key, key)))
		e = e->hnext;
	return e;
}

static void insert(const char *key, uint32_t h, const struct bt_tts_audio *a)
{
	size_t bytes = sizeof(struct entry) + strlen(key) + 1 +
		a->n * sizeof(int16_t) + a->n_words * sizeof(*a->words);
	struct entry *e;

	if (!cache.max_bytes || bytes > cache.max_bytes / 4 ||
	    lookup(key, h))
		return;
	e = calloc(1, sizeof(*e));
	if (!e)
		return;
	e->key = strdup(key);
	e->pcm = malloc(a->n ? a->n * sizeof(int16_t) : 1);
	e->words = malloc(a->n_words ? a->n_words * sizeof(*a->words) : 1);
	if (!e->key || !e->pcm || !e->words) {
		entry_free(e);
		return;  /* out of memory: the sentence is simply not kept */
	}
	if (a->n)
		memcpy(e->pcm, a->pcm, a->n * sizeof(int16_t));
	if (a->n_words)
		memcpy(e->words, a->words, a->n_words * sizeof(*a->words));
	e->n = a->n;
	e->n_words = a->n_words;
	e->rate_hz = a->rate_hz;
	e->hash = h;
	e->bytes = bytes;
	shrink_to(cache.max_bytes - bytes);
	e->hnext = cache.bucket[h % BUCKETS];
	cache.bucket[h % BUCKETS] = e;
	lru_push(e);
	cache.bytes += bytes;
	cache.entries++;
}

static struct bt_tts cached_tts, cached_stream_tts;

static bool is_cached(const struct bt_tts_st *st)
{
	return st && (bt_tts_of(st) == &cached_tts ||
		      bt_tts_of(st) == &cached_stream_tts);
}

/* The key of text as this wrapper renders it (malloc'd), or NULL. */
static char *key_of(const struct cached_st *c, const char *text)
{
	size_t lp = strlen(c->prefix), lt = strlen(text);
	char *key = malloc(lp + lt + 1);

	if (!key)
		return NULL;
	memcpy(key, c->prefix, lp);
	memcpy(key + lp, text, lt + 1);
	return key;
}

/* A copy of the entry for key (the cache's lock held): ENOENT when there
 * is none; a hit moves it to the front of the LRU. */
static int hit(const char *key, uint32_t h, struct bt_tts_audio **audiop)
{
	struct entry *e = cache.max_bytes ? lookup(key, h) : NULL;

	if (!e)
		return ENOENT;
	lru_unlink(e);
	lru_push(e);
	cache.hits++;
	return bt_tts_audio_copy(audiop, e->pcm, e->n, e->rate_hz, e->words,
				 e->n_words);
}

static int cached_synth(struct bt_tts_st *st, const char *text,
			struct bt_tts_audio **audiop)
{
	struct cached_st *c = (struct cached_st *)(void *)st;
	const struct bt_tts *inner = bt_tts_of(c->inner);
	struct bt_tts_audio *a = NULL;
	char *key;
	uint32_t h;
	int err;

	key = key_of(c, text);
	if (!key)
		return bt_err(ENOMEM, "tts: out of memory");
	h = fnv1a(key);

	pthread_mutex_lock(&cache.mtx);
	err = hit(key, h, audiop);
	if (err != ENOENT) {
		pthread_mutex_unlock(&cache.mtx);
		free(key);
		return err;
	}
	cache.misses++;
	pthread_mutex_unlock(&cache.mtx);

	/* render outside the lock: other sessions' hits go on meanwhile */
	err = inner->synthh(c->inner, text, &a);
	if (!err) {
		pthread_mutex_lock(&cache.mtx);
		insert(key, h, a);
		pthread_mutex_unlock(&cache.mtx);
		*audiop = a;
	}
	free(key);
	return err;
}

/* A network voice streams through the wrapper to its own instance. */
static int cached_stream(struct bt_tts_stream **sp, struct bt_tts_st *st,
			 const char *text, bt_tts_chunk_h *h, void *arg)
{
	struct cached_st *c = (struct cached_st *)(void *)st;

	return bt_tts_of(c->inner)->streamh(sp, c->inner, text, h, arg);
}

static struct bt_tts cached_tts = {
	.name = "cache",
	.synthh = cached_synth,
};

static struct bt_tts cached_stream_tts = {
	.name = "cache",
	.synthh = cached_synth,
	.streamh = cached_stream,
};

bool bt_tts_cache_has(struct bt_tts_st *st, const char *text)
{
	struct cached_st *c = (struct cached_st *)(void *)st;
	char key[1200];
	bool has;
	int n;

	if (!text || !is_cached(st))
		return false;
	n = snprintf(key, sizeof(key), "%s%s", c->prefix, text);
	if (n < 0 || (size_t)n >= sizeof(key))
		return false;
	pthread_mutex_lock(&cache.mtx);
	has = cache.max_bytes && lookup(key, fnv1a(key)) != NULL;
	pthread_mutex_unlock(&cache.mtx);
	return has;
}

int bt_tts_cache_get(struct bt_tts_st *st, const char *text,
		     struct bt_tts_audio **audiop)
{
	struct cached_st *c = (struct cached_st *)(void *)st;
	char *key;
	uint32_t h;
	int err = ENOENT;

	if (!text || !audiop || !is_cached(st))
		return ENOENT;
	key = key_of(c, text);
	if (!key)
		return ENOMEM;
	h = fnv1a(key);
	pthread_mutex_lock(&cache.mtx);
	err = hit(key, h, audiop);
	pthread_mutex_unlock(&cache.mtx);
	free(key);
	return err;
}

int bt_tts_cache_put(struct bt_tts_st *st, const char *text,
		     const int16_t *pcm, size_t n, uint32_t rate_hz,
		     const struct bt_tts_word *words, size_t n_words)
{
	struct cached_st *c = (struct cached_st *)(void *)st;
	/* insert() copies out of it: the buffers stay the caller's */
	struct bt_tts_audio a = {
		.pcm = (int16_t *)(uintptr_t)pcm, .n = n, .rate_hz = rate_hz,
		.words = (struct bt_tts_word *)(uintptr_t)words,
		.n_words = n_words,
	};
	char *key;

	if (!text || (n && !pcm) || (n_words && !words) || !rate_hz ||
	    !is_cached(st))
		return EINVAL;
	key = key_of(c, text);
	if (!key)
		return ENOMEM;
	pthread_mutex_lock(&cache.mtx);
	insert(key, fnv1a(key), &a);
	pthread_mutex_unlock(&cache.mtx);
	free(key);
	return 0;
}

/* The slot of key among the claims, or CLAIMS_MAX (lock held). */
static size_t claim_find(const char *key)
{
	size_t i;

	for (i = 0; i < CLAIMS_MAX; i++)
		if (cache.claims[i] && !strcmp(cache.claims[i], key))
			break;
	return i;
}

bool bt_tts_cache_claim(struct bt_tts_st *st, const char *text)
{
	struct cached_st *c = (struct cached_st *)(void *)st;
	bool ok = false;
	char *key;
	size_t i;

	if (!text || !is_cached(st))
		return false;
	key = key_of(c, text);
	if (!key)
		return false;
	pthread_mutex_lock(&cache.mtx);
	if (cache.max_bytes && !lookup(key, fnv1a(key)) &&
	    claim_find(key) == CLAIMS_MAX) {
		for (i = 0; i < CLAIMS_MAX && cache.claims[i]; i++)
			;
		if (i < CLAIMS_MAX) {
			cache.claims[i] = key;
			key = NULL;
			ok = true;
		}
	}
	pthread_mutex_unlock(&cache.mtx);
	free(key);
	return ok;
}

void bt_tts_cache_release(struct bt_tts_st *st, const char *text)
{
	struct cached_st *c = (struct cached_st *)(void *)st;
	char *key, *old = NULL;
	size_t i;

	if (!text || !is_cached(st))
		return;
	key = key_of(c, text);
	if (!key)
		return;
	pthread_mutex_lock(&cache.mtx);
	i = claim_find(key);
	if (i < CLAIMS_MAX) {
		old = cache.claims[i];
		cache.claims[i] = NULL;
	}
	pthread_mutex_unlock(&cache.mtx);
	free(old);
	free(key);
}

static void cached_destructor(void *arg)
{
	struct cached_st *c = arg;

	mem_deref(c->inner);
	mem_deref(c->prefix);
}

int bt_tts_cache_wrap(struct bt_tts_st **stp, struct bt_tts_st *inner,
		      const char *provider, const char *voice,
		      const struct bt_tts_prm *prm)
{
	struct cached_st *c;
	size_t max;
	int err;

	pthread_mutex_lock(&cache.mtx);
	max = cache.max_bytes;
	pthread_mutex_unlock(&cache.mtx);
	if (!max) {
		*stp = inner;
		return 0;
	}
	c = mem_zalloc(sizeof(*c), cached_destructor);
	if (!c) {
		mem_deref(inner);
		return bt_err(ENOMEM, "tts: out of memory");
	}
	c->tts = bt_tts_of(inner)->streamh ? &cached_stream_tts : &cached_tts;
	c->inner = inner;
	err = re_sdprintf(&c->prefix, "%s:%s|%u|%u|", provider, voice,
			  prm->rate_wpm, prm->pitch);
	if (err) {
		mem_deref(c);
		return bt_err(err, "tts: out of memory");
	}
	*stp = (struct bt_tts_st *)(void *)c;
	return 0;
}
