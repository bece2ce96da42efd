/**
 * @file ps_models.c  The decoders of the pocketsphinx STT provider, and the
 * models its instances share.
 *
 * pocketsphinx 5prealpha builds a decoder from files. Its public API takes
 * two kinds of model already in memory, reference counted by sphinxbase:
 * an n-gram model (ps_set_lm, ps_set_allphone) and a compiled grammar
 * (ps_set_fsg). Those are loaded once and shared here; everything else a
 * decoder makes itself (see "Not shared" below).
 *
 * Shared, loaded by the first instance that needs it and kept until
 * bt_psm_close() (models no instance uses are dropped earlier, see
 * lms_drop_idle, and ps_fsgcache.c fsg_drop_idle):
 *  - per process, the lexicon: a decoder with the whole pronunciation
 *    dictionary and no search, where grammar words are looked up
 *    (ps_lookup_word only reads the dictionary; all lookups happen while
 *    an instance is made, under the lock).
 *  - per process, the dictionary of the LM decoders: the lines of the
 *    dictionary file whose word is among the language model's 30 k
 *    likeliest or in an agent's phrases (lm_dict_make, lm_floor_set).
 *  - per thread, the language model and the phone language model. Not per
 *    process: sphinxbase's trie LM keeps the last history it scored and
 *    its backoffs inside the model (lm_trie.c: lm_trie_score rewrites
 *    trie->prev_hist and trie->backoff), so it is not read-only while
 *    decoding. Two threads scoring one model get each other's backoffs:
 *    1-1.5 % of 2 million trigram scores came out wrong. On one thread the
 *    cache is checked on every score, so instances of one event loop can
 *    share it; an instance must be made, fed and freed on one thread.
 *  - per grammar text, the compiled grammar (fsg_model_t): ps_fsgcache.c.
 * sphinxbase counts references without atomics and neither models nor
 * grammars retain the logmath they were built with: models are retained
 * and freed with the lock held (instances take it to be made and freed),
 * and each cache entry keeps that logmath alive.
 *
 * Not shared, because the public API cannot: each decoder's acoustic model
 * (acmod: means, variances, tables; 3 MB of heap; mdef and sendump are
 * mmap()ed: the page cache holds them once, RSS counts them per mapping),
 * its dictionary and dict2pid (ps_init always builds its own), and the
 * n-gram search's lexicon tree (17 MB for all 72 k words of the LM, much
 * less for the 30 k it is given), which holds the search's HMM state.
 * (The senone scores of each frame are shared: ps_share.c.) But the
 * open-LM decoder, which holds the largest of those, keeps nothing of a
 * call between utterances where it reads shared scores, so a thread lends
 * its own to its instances per utterance (a shelf: bt_psm_shelf_take): it
 * needs as many as its callers speak at once. The grammar and overlap
 * decoders are lent the same way, from the thread's kits (ps_kit.c).
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <pocketsphinx.h>
#include <sphinxbase/err.h>
#include <re.h>
#include "banter/err.h"
#include "ps_models.h"

#ifndef BT_PS_MODELDIR
#define BT_PS_MODELDIR "/usr/share/pocketsphinx/model/en-us"
#endif

#define HMM_DIR    BT_PS_MODELDIR "/en-us"
#define MDEF_FILE  BT_PS_MODELDIR "/en-us/mdef"
#define LM_FILE    BT_PS_MODELDIR "/en-us.lm.bin"
#define DICT_FILE  BT_PS_MODELDIR "/cmudict-en-us.dict"
#define PHLM_FILE  BT_PS_MODELDIR "/en-us-phone.lm.bin"

enum {
	WORD_MAX = 256,      /* a dictionary word */
	LM_WORDS = 30000,    /* words the LM decoders hear: lm_floor_set */
	KEEP_MAX = 4096,     /* phrase words kept past it; more: all words */
};

struct bt_psm_lms {
	struct le le;           /* in m.lms */
	pthread_t thread;
	ngram_model_t *words;   /* en-us.lm.bin */
	ngram_model_t *phones;  /* en-us-phone.lm.bin */
	logmath_t *lmath;       /* theirs (they do not retain it) */
	/* open-LM decoders between utterances, with the LM dictionary each
	 * was made with (its gen) */
	struct bt_psm_shelf lm;
};

/* The LM dictionary's version: lm_dict_make makes a new one. */
static _Atomic unsigned dict_gen;

/* sphinxbase's log stream is a global and ps_init() is not documented as
 * thread-safe: decoders are also built one at a time under this lock. */
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

static struct {
	int sharing;            /* -1: not decided yet */
	ps_decoder_t *lexicon;
	bool dict_tried;
	bool lm_floor_set;      /* the LM decoders hear only words >= it */
	int32 lm_floor;         /* unigram log-prob of the K-th word */
	long lm_words;          /* K: BANTER_LM_WORDS */
	char topn[2];           /* "1".."4": BANTER_STT_TOPN */
	bool narrow;            /* BANTER_STT_SEARCH=narrow */
	int dict_fd;            /* the LM's words (memfd); -1: none */
	char dict_path[32];     /* "/proc/self/fd/N" */
	struct list lms;        /* struct bt_psm_lms, one per thread */
	struct bt_psm_stats stats;
} m = {.sharing = -1, .dict_fd = -1, .topn = "4"};

/*
 * The words of the agents' phrases, heard by the LM decoders whatever
 * their rank; sorted. A lock of their own: phrases are checked both with
 * the models' lock held (an instance's grammars) and without it (an agent
 * file's intents, at load).
 */
static struct {
	pthread_mutex_t mtx;
	char *w[KEEP_MAX];
	size_t n;
	bool full;            /* more than KEEP_MAX: every word is heard */
	bool added;           /* since the LM dictionary was last made */
} keep = {.mtx = PTHREAD_MUTEX_INITIALIZER};

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool keep_has(const char *w)
{
	bool yes;

	pthread_mutex_lock(&keep.mtx);
	yes = keep.full || bsearch(&w, keep.w, keep.n, sizeof(keep.w[0]),
				   cmp_str);
	pthread_mutex_unlock(&keep.mtx);
	return yes;
}

/* Whether words came since the last call (the LM dictionary's). */
static bool keep_added_take(void)
{
	bool a;

	pthread_mutex_lock(&keep.mtx);
	a = keep.added;
	keep.added = false;
	pthread_mutex_unlock(&keep.mtx);
	return a;
}

/* The same, left for the next decoder that makes the dictionary. */
static bool keep_added_peek(void)
{
	bool a;

	pthread_mutex_lock(&keep.mtx);
	a = keep.added;
	pthread_mutex_unlock(&keep.mtx);
	return a;
}

static void keep_clear(void)
{
	pthread_mutex_lock(&keep.mtx);
	for (size_t i = 0; i < keep.n; i++)
		free(keep.w[i]);
	keep.n = 0;
	keep.full = keep.added = false;
	pthread_mutex_unlock(&keep.mtx);
}

static void keep_add(const char *w)
{
	const char *key = w;
	size_t at = 0;

	if (keep.full ||
	    bsearch(&key, keep.w, keep.n, sizeof(keep.w[0]), cmp_str))
		return;
	while (at < keep.n && strcmp(keep.w[at], w) < 0)
		at++;
	if (keep.n == KEEP_MAX) {
		keep.full = true;
	}
	else {
		char *d = strdup(w);

		if (!d) {
			keep.full = true;
		}
		else {
			memmove(keep.w + at + 1, keep.w + at,
				(keep.n - at) * sizeof(keep.w[0]));
			keep.w[at] = d;
			keep.n++;
		}
	}
	keep.added = true;
}

void bt_psm_keep_words(const char *words)
{
	const char *p = words;

	pthread_mutex_lock(&keep.mtx);
	while (p && *p) {
		char w[WORD_MAX];
		size_t n = 0;

		while (*p == ' ')
			p++;
		while (*p && *p != ' ') {
			if (n + 1 < sizeof(w))
				w[n++] = *p;
			p++;
		}
		if (!n)
			break;
		w[n] = '\0';
		keep_add(w);
	}
	pthread_mutex_unlock(&keep.mtx);
}

void bt_psm_lock(void)
{
	pthread_mutex_lock(&lock);
}

void bt_psm_unlock(void)
{
	pthread_mutex_unlock(&lock);
}

bool bt_psm_sharing(void)
{
	if (m.sharing < 0) {
		const char *e = getenv("BT_PS_SHARE");

		m.sharing = !(e && !strcmp(e, "0"));
	}
	return m.sharing != 0;
}

int bt_psm_prepare(void)
{
	static const char *const files[] = {
		MDEF_FILE, LM_FILE, DICT_FILE, PHLM_FILE,
	};
	size_t i;

	for (i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		if (access(files[i], R_OK))
			return bt_err(ENOENT, "pocketsphinx model file %s is "
				      "missing: install the pocketsphinx-en-us "
				      "package", files[i]);
	}
	/* sphinxbase logs to stderr by default: silence it */
	err_set_logfp(NULL);
	return 0;
}

/* ------------------------------------------------------------------ */
/* decoders                                                            */
/* ------------------------------------------------------------------ */

/* identical front ends and senone scoring: see pocketsphinx.c */
#define COMMON "-hmm", HMM_DIR, "-compallsen", "yes", "-bestpath", "no", \
	"-remove_silence", "yes", "-cmn", "live", "-topn", m.topn

/* the open LM's search: pocketsphinx's defaults, or narrow (search_env) */
#define LM_SEARCH "-beam", m.narrow ? "1e-35" : "1e-48", \
	"-pbeam", m.narrow ? "1e-35" : "1e-48", \
	"-pl_window", m.narrow ? "3" : "5"

static void lm_dict_make(ngram_model_t *lm, long k);

static ps_decoder_t *decoder_init(cmd_ln_t *cfg)
{
	ps_decoder_t *ps;

	if (!cfg)
		return NULL;
	ps = ps_init(cfg);
	cmd_ln_free_r(cfg);  /* the decoder holds its own reference */
	return ps;
}

/* Give ps the search made by set (ps_set_lm, ps_set_allphone) and select
 * it; frees ps if that fails. */
static ps_decoder_t *with_search(ps_decoder_t *ps, const char *name,
				 int (*set)(ps_decoder_t *, const char *,
					    ngram_model_t *),
				 ngram_model_t *lm)
{
	if (ps && (set(ps, name, lm) < 0 || ps_set_search(ps, name) < 0)) {
		ps_free(ps);
		ps = NULL;
	}
	return ps;
}

static ps_decoder_t *decoder_make(enum bt_psm_kind kind,
				  struct bt_psm_lms *lms,
				  const char *senlogdir)
{
	cmd_ln_t *cfg;

	switch (kind) {

	case BT_PSM_LM:
		if (!lms)
			return decoder_init(cmd_ln_init(NULL, ps_args(), TRUE,
				COMMON, "-lm", LM_FILE, "-dict", DICT_FILE,
				"-fwdflat", "no", LM_SEARCH, NULL));
		/* a phrase's word that came after the dictionary was made
		 * (an agent loaded later): make it again for this decoder */
		if (keep_added_take() && m.dict_tried && m.lm_floor_set)
			lm_dict_make(lms->words, m.lm_words);
		return with_search(decoder_init(cmd_ln_init(NULL, ps_args(),
				TRUE, COMMON, "-dict", m.dict_fd >= 0 ?
				m.dict_path : DICT_FILE, "-fwdflat", "no",
				LM_SEARCH, NULL)), "bt_lm", ps_set_lm,
				lms->words);

	case BT_PSM_FSG:
	case BT_PSM_OVL:
		/* an empty dictionary: the grammars' words are added to it
		 * (dict_take in pocketsphinx.c) */
		return decoder_init(cmd_ln_init(NULL, ps_args(), TRUE, COMMON,
						"-dict", "/dev/null", NULL));

	case BT_PSM_PHONES:
		cfg = cmd_ln_init(NULL, ps_args(), TRUE, COMMON,
				  "-allphone_ci", "yes", NULL);
		if (cfg && !lms)
			cmd_ln_set_str_r(cfg, "-allphone", PHLM_FILE);
		if (cfg && senlogdir)
			cmd_ln_set_str_r(cfg, "-senlogdir", senlogdir);
		return lms ? with_search(decoder_init(cfg), "bt_phones",
					 ps_set_allphone, lms->phones) :
			decoder_init(cfg);

	case BT_PSM_KINDS:
		break;
	}
	return NULL;
}

ps_decoder_t *bt_psm_decoder(enum bt_psm_kind kind, struct bt_psm_lms *lms,
			     const char *senlogdir)
{
	ps_decoder_t *ps = decoder_make(kind, lms, senlogdir);

	if (ps && kind < BT_PSM_KINDS)
		m.stats.made[kind]++;
	return ps;
}

int bt_psm_lexicon(ps_decoder_t **psp)
{
	if (!m.lexicon) {
		m.lexicon = decoder_init(cmd_ln_init(NULL, ps_args(), TRUE,
						     COMMON, "-dict", DICT_FILE,
						     NULL));
		if (!m.lexicon)
			return bt_err(EIO, "pocketsphinx could not load its "
				      "dictionary %s (out of memory or a "
				      "damaged file)", DICT_FILE);
		m.stats.lexicons++;
	}
	*psp = m.lexicon;
	return 0;
}

/* ------------------------------------------------------------------ */
/* the dictionary of the LM decoders                                   */
/* ------------------------------------------------------------------ */

/*
 * Whether the word of a dictionary line is one the LM knows. "word(2)" is
 * an alternative pronunciation of "word" (dict_word2basestr in
 * pocketsphinx), and goes with it.
 */
static bool lm_knows(ngram_model_t *lm, const char *line)
{
	char w[WORD_MAX];
	const char *p = line;
	int n = 0;

	while (*p == ' ' || *p == '\t')
		p++;
	while (*p && *p != ' ' && *p != '\t' && *p != '\r' && *p != '\n') {
		if (n + 1 >= (int)sizeof(w))
			return true;  /* cannot tell: keep it */
		w[n++] = *p++;
	}
	if (!n)
		return false;
	w[n] = '\0';
	if (w[n - 1] == ')') {
		int i = n - 2;

		while (i > 0 && w[i] != '(')
			i--;
		if (i > 0)
			w[i] = '\0';
	}
	if (ngram_wid(lm, w) == ngram_unknown_wid(lm))
		return false;
	return !m.lm_floor_set || ngram_probv(lm, w, NULL) >= m.lm_floor ||
	       keep_has(w);
}

static int cmp_desc(const void *a, const void *b)
{
	int32 x = *(const int32 *)a, y = *(const int32 *)b;

	return x < y ? 1 : x > y ? -1 : 0;
}

/*
 * How many of the LM's words the LM decoders can hear: the K likeliest
 * unigrams (BANTER_LM_WORDS, default LM_WORDS; 0 = all 72 k), and every
 * word of the agents' phrases. The lexicon tree is built from them, so
 * this sets most of an instance's memory and much of its CPU
 * (bench_stt_setup: 72 k words 58 MB of heap and 0.26 x real time, 30 k
 * 37 MB and 0.20). Words past the K-th are rare in calls: what a caller
 * says to an agent, the agent's own phrases (kept whatever their rank)
 * and the slot grammars' words rank far inside it.
 */
static int lm_words_env(long *kp)
{
	const char *e = getenv("BANTER_LM_WORDS");
	char *end;
	long k;

	*kp = LM_WORDS;
	if (!e || !*e)
		return 0;
	errno = 0;
	k = strtol(e, &end, 10);
	if (*end || errno || k < 0)
		return bt_err(EINVAL, "BANTER_LM_WORDS is \"%.40s\": it says "
			      "how many of the language model's likeliest "
			      "words the recogniser hears, a whole number "
			      "(default %d; 0: all of them, ~72 000, for "
			      "more memory and CPU per call)", e, LM_WORDS);
	*kp = k;
	return 0;
}

/*
 * How many Gaussians of each senone's codebook the decoders score
 * (pocketsphinx's -topn): BANTER_STT_TOPN, 1 to 4, default 4. 2 takes
 * about a third off decoding (scoring is most of it) for slightly other
 * words: a server that must hold more callers speaking at once than turn
 * quality allows can set it (docs/serve.md has the figures). Every decoder
 * of the process scores alike, as their scores are compared.
 */
static int topn_env(void)
{
	const char *e = getenv("BANTER_STT_TOPN");

	m.topn[0] = '4';
	m.topn[1] = '\0';
	if (!e || !*e)
		return 0;
	if (e[0] < '1' || e[0] > '4' || e[1])
		return bt_err(EINVAL, "BANTER_STT_TOPN is \"%.40s\": it says "
			      "how many Gaussians per senone the embedded "
			      "recogniser scores, 1 to 4 (default 4; 2 is "
			      "faster, with slightly other words)", e);
	m.topn[0] = e[0];
	return 0;
}

/*
 * BANTER_STT_SEARCH: "wide" (default: -beam, -pbeam 1e-48, -pl_window 5)
 * or "narrow" (1e-35, 3), how much of the open language model's search,
 * the largest share of decoding, the recogniser keeps. Narrow: about 40 %
 * off the LM decoder's CPU, as many answers heard right, but other partial
 * words for the endpointer (docs/design-notes.md, "A narrower search for
 * the open language model").
 */
static int search_env(void)
{
	const char *e = getenv("BANTER_STT_SEARCH");

	m.narrow = false;
	if (!e || !*e || !strcmp(e, "wide"))
		return 0;
	if (strcmp(e, "narrow"))
		return bt_err(EINVAL, "BANTER_STT_SEARCH is \"%.40s\": it says "
			      "how wide the embedded recogniser searches, "
			      "\"wide\" (the default) or \"narrow\" (a "
			      "quarter less CPU per caller, other partial "
			      "words)", e);
	m.narrow = true;
	return 0;
}

static void lm_floor_set(ngram_model_t *lm, long k)
{
	uint32 n = ngram_model_get_counts(lm)[0];
	int32 *p;

	m.lm_floor_set = false;
	if (k <= 0 || (uint32)k >= n)
		return;
	p = malloc(n * sizeof(*p));
	if (!p)
		return;  /* every word: more memory, same words */
	for (uint32 i = 0; i < n; i++)
		p[i] = ngram_probv(lm, ngram_word(lm, (int32)i), NULL);
	qsort(p, n, sizeof(*p), cmp_desc);
	m.lm_floor = p[k - 1];
	m.lm_floor_set = true;
	free(p);
}

/*
 * The LM decoders get only the dictionary's words that the language model
 * knows (80 k lines of 135 k; of those, the words lm_floor_set lets
 * through), in the file's order. The n-gram search
 * builds its lexicon tree from those words alone (create_search_tree in
 * ngram_search_fwdtree.c skips the others), and in the same order, so it
 * decodes the same; the dictionary is 11 MB and 70 ms of parsing smaller
 * per instance. Phrases may still use any word: they are looked up in the
 * lexicon. Kept in a memfd that each decoder reads through /proc; if that
 * cannot be made, the LM decoders read the whole file.
 */
static void lm_dict_make(ngram_model_t *lm, long k)
{
	FILE *in = NULL, *out = NULL;
	char *line = NULL;
	size_t cap = 0;
	bool ok = false;
	int fd, fd2;

	m.dict_tried = true;
	(void)keep_added_take();
	atomic_fetch_add(&dict_gen, 1);
	if (m.dict_fd >= 0) {
		/* decoders made read it at ps_init: later ones read the new */
		close(m.dict_fd);
		m.dict_fd = -1;
	}
	lm_floor_set(lm, k);
	fd = memfd_create("banter-lm-dict", MFD_CLOEXEC);
	if (fd < 0)
		return;
	fd2 = dup(fd);
	if (fd2 >= 0) {
		out = fdopen(fd2, "w");
		if (!out)
			close(fd2);
	}
	in = fopen(DICT_FILE, "r");
	if (in && out) {
		while (getline(&line, &cap, in) > 0) {
			if (lm_knows(lm, line) && fputs(line, out) == EOF)
				break;
		}
		ok = !ferror(in) && !ferror(out);
	}
	free(line);
	if (in)
		fclose(in);
	if (out && fclose(out))
		ok = false;
	snprintf(m.dict_path, sizeof(m.dict_path), "/proc/self/fd/%d", fd);
	if (!ok || access(m.dict_path, R_OK)) {
		close(fd);
		return;
	}
	m.dict_fd = fd;
}

/* ------------------------------------------------------------------ */
/* language models, one pair per thread                                */
/* ------------------------------------------------------------------ */

static void lms_destructor(void *arg)
{
	struct bt_psm_lms *l = arg;

	list_unlink(&l->le);
	bt_psm_shelf_clear(&l->lm);  /* before the models they search */
	if (l->words)
		ngram_model_free(l->words);
	if (l->phones)
		ngram_model_free(l->phones);
	if (l->lmath)
		logmath_free(l->lmath);
}

/* Models of other threads that no instance uses: their thread has ended
 * or has no calls now; do not keep a copy for every thread ever seen. */
static void lms_drop_idle(void)
{
	struct le *le = list_head(&m.lms);

	while (le) {
		struct bt_psm_lms *l = le->data;

		le = le->next;
		if (mem_nrefs(l) == 1)
			mem_deref(l);
	}
}

int bt_psm_lms_get(struct bt_psm_lms **lp)
{
	pthread_t self = pthread_self();
	struct bt_psm_lms *l;
	ps_decoder_t *lex;
	struct le *le;
	cmd_ln_t *cfg;
	int err;

	LIST_FOREACH(&m.lms, le) {
		l = le->data;
		if (pthread_equal(l->thread, self)) {
			*lp = mem_ref(l);
			return 0;
		}
	}

	if (!m.dict_tried) {
		err = lm_words_env(&m.lm_words);
		if (!err)
			err = topn_env();
		if (!err)
			err = search_env();
		if (err)
			return err;
	}
	/* read as ps_set_lm_file() reads them, with the configuration and
	 * logmath of a decoder with the same settings as those that use
	 * them (ngram_model_read takes -lw and -wip from it) */
	err = bt_psm_lexicon(&lex);
	if (err)
		return err;
	lms_drop_idle();
	l = mem_zalloc(sizeof(*l), lms_destructor);
	if (!l)
		return bt_err(ENOMEM, "out of memory loading pocketsphinx's "
			      "language models");
	l->thread = self;
	l->lm.kind = BT_PSM_LM;
	l->lmath = logmath_retain(ps_get_logmath(lex));
	cfg = ps_get_config(lex);
	l->words = ngram_model_read(cfg, LM_FILE, NGRAM_AUTO, l->lmath);
	if (l->words)
		l->phones = ngram_model_read(cfg, PHLM_FILE, NGRAM_AUTO,
					     l->lmath);
	if (!l->phones) {
		mem_deref(l);
		return bt_err(EIO, "pocketsphinx could not load its language "
			      "models from %s (out of memory or damaged "
			      "files)", BT_PS_MODELDIR);
	}
	if (!m.dict_tried)
		lm_dict_make(l->words, m.lm_words);
	list_append(&m.lms, &l->le, l);
	m.stats.lms++;
	*lp = mem_ref(l);
	return 0;
}

/* ------------------------------------------------------------------ */
/* open-LM decoders, lent per utterance (the shelf: ps_shelf.c)        */
/* ------------------------------------------------------------------ */

bool bt_psm_lm_current(unsigned gen)
{
	return gen == atomic_load(&dict_gen) && !keep_added_peek();
}

struct bt_psm_shelf *bt_psm_lm_shelf(struct bt_psm_lms *lms)
{
	return &lms->lm;
}

/* A new open-LM decoder, with the dictionary's version it was made with
 * (lock held). */
ps_decoder_t *bt_psm_lm_make(void *arg, unsigned *genp)
{
	/* after: making it may make the dictionary again */
	ps_decoder_t *ps = bt_psm_decoder(BT_PSM_LM, arg, NULL);

	*genp = atomic_load(&dict_gen);
	return ps;
}

/* ------------------------------------------------------------------ */

void bt_psm_close(void)
{
	bt_psm_lock();
	list_flush(&m.lms);
	bt_psm_fsgs_flush();
	if (m.lexicon)
		ps_free(m.lexicon);
	m.lexicon = NULL;
	if (m.dict_fd >= 0)
		close(m.dict_fd);
	m.dict_fd = -1;
	m.dict_tried = false;
	m.sharing = -1;
	bt_psm_unlock();
	keep_clear();
}

void bt_psm_stats(struct bt_psm_stats *st)
{
	bt_psm_lock();
	*st = m.stats;
	st->lms_held = list_count(&m.lms);
	bt_psm_fsgs_stats(st);
	bt_psm_unlock();
}
