/**
 * @file ps_pool.c  The pocketsphinx provider ("pocketsphinx"): the handle
 * a session holds, and the pool that keeps a call's decoders for the next.
 */
#include <errno.h>
#include <string.h>
#include "banter/err.h"
#include "ps_int.h"

static struct bt_stt ps_stt;
static bool registered;


/*
 * The pool. Making a recogniser costs ~15 ms of CPU and ~3 MB (its phone
 * loop; its other decoders, ~0.25 s and ~35 MB more, are lent per
 * utterance by the thread: ps_models.c, ps_kit.c; ~0.35 s and ~50 MB in
 * all where scores are not shared), on the thread of the call that needs
 * it, where it holds up every other call of that event loop. So a call's
 * decoders are not freed when it ends: they wait, idle, for the next call
 * on the same thread with the same grammars (an agent's), up to
 * bt_stt_pocketsphinx_pool() per thread (the server also makes some
 * before calls come: bt_session_warm). A reused
 * instance keeps its live CMN estimate, as one decoder does from one
 * utterance to the next. Under bt_psm_lock (alloc and free only).
 */
static struct list idle;
static unsigned pool_max;       /* idle instances kept per thread */
static unsigned n_made, n_reused;

static struct psi *pool_take(uint64_t key)
{
	pthread_t self = pthread_self();
	struct psi *p = NULL;

	bt_psm_lock();
	for (struct le *le = idle.head; le; le = le->next) {
		struct psi *q = le->data;

		if (q->key == key && (!q->lms ||
				      pthread_equal(q->thread, self))) {
			list_unlink(&q->le);
			p = q;
			break;
		}
	}
	bt_psm_unlock();
	return p;
}

/* Back to the pool if this thread keeps fewer than pool_max; true if
 * kept. */
static bool pool_give(struct psi *p)
{
	pthread_t self = pthread_self();
	unsigned n = 0;
	bool kept = false;

	if (p->lms && !pthread_equal(p->thread, self))
		return false;
	bt_psm_lock();
	for (struct le *le = idle.head; le; le = le->next) {
		const struct psi *q = le->data;

		if (!q->lms || pthread_equal(q->thread, self))
			++n;
	}
	if (n < pool_max) {
		list_append(&idle, &p->le, p);
		kept = true;
	}
	bt_psm_unlock();
	return kept;
}

/* What a session holds: its pooled decoders. */
struct bt_stt_st {
	const struct bt_stt *stt;  /* first: see bt_stt_of() */
	struct psi *p;
	bt_stt_partial_h *partialh;
	void *arg;
};

static void handle_destructor(void *arg)
{
	struct bt_stt_st *st = arg;
	struct psi *p = st->p;

	if (!p)
		return;
	if (p->in_utt && (!p->lms || pthread_equal(p->thread,
						    pthread_self()))) {
		psi_end_utt(p);
		p->in_utt = false;
	}
	if (p->in_utt || !pool_give(p))
		mem_deref(p);
}

static int ps_alloc(struct bt_stt_st **stp, const struct bt_stt_prm *prm)
{
	struct bt_stt_st *st;
	uint64_t key;
	int err;

	if (!stp)
		return bt_err(EINVAL, "pocketsphinx alloc: no place for the "
			      "instance (stp is NULL)");
	err = ps_prm_check(prm);
	if (err)
		return err;
	st = mem_zalloc(sizeof(*st), handle_destructor);
	if (!st)
		return bt_err(ENOMEM, "out of memory starting pocketsphinx");
	st->stt = &ps_stt;
	st->partialh = prm ? prm->partialh : NULL;
	st->arg = prm ? prm->arg : NULL;
	key = ps_prm_key(prm);
	st->p = pool_take(key);
	bt_psm_lock();
	if (st->p)
		++n_reused;
	else
		++n_made;
	bt_psm_unlock();
	if (st->p) {
		memset(&st->p->ov, 0, sizeof(st->p->ov));
		st->p->partial[0] = '\0';
	}
	else {
		err = psi_make(&st->p, prm);
		if (err) {
			mem_deref(st);
			return err;
		}
	}
	*stp = st;
	return 0;
}

static int ps_start(struct bt_stt_st *st, const char *grammar,
		    bool overlap)
{
	return psi_start(st ? st->p : NULL, grammar, overlap);
}

/* Feed, then tell the session if the words so far changed (a backtrace
 * at most every 160 ms: psi_partial) */
static int ps_feed(struct bt_stt_st *st, const int16_t *pcm, size_t n)
{
	char words[512];
	int err = psi_feed(st ? st->p : NULL, pcm, n);

	if (!err && st->partialh &&
	    psi_partial(st->p, words, sizeof(words)))
		st->partialh(words, st->arg);
	return err;
}

static bool ps_hyp(struct bt_stt_st *st, char *buf, size_t sz)
{
	return psi_partial(st ? st->p : NULL, buf, sz);
}

static int ps_finish(struct bt_stt_st *st, struct bt_transcript *tr)
{
	return psi_finish(st ? st->p : NULL, tr);
}

static int ps_overlap(struct bt_stt_st *st, struct bt_stt_overlap *ov)
{
	return psi_overlap(st ? st->p : NULL, ov);
}

static struct bt_stt ps_stt = {
	.name = "pocketsphinx",
	.alloch = ps_alloc,
	.starth = ps_start,
	.feedh = ps_feed,
	.hyph = ps_hyp,
	.finishh = ps_finish,
	.overlaph = ps_overlap,
};

void bt_stt_pocketsphinx_pool(unsigned per_thread)
{
	bt_psm_lock();
	pool_max = per_thread;
	bt_psm_unlock();
	/* the lent decoders a thread keeps idle: as many of each */
	bt_psm_set_keep(per_thread);
}

void bt_stt_pocketsphinx_spare(unsigned per_agent, unsigned agents)
{
	bt_psm_set_spare(per_agent, agents);
}

/* Free what the pool holds: this thread's (all, when all is set). */
static void pool_drain(bool all)
{
	pthread_t self = pthread_self();
	struct list out = LIST_INIT;
	struct le *le;

	bt_psm_lock();
	le = idle.head;
	while (le) {
		struct psi *q = le->data;

		le = le->next;
		if (all || !q->lms || pthread_equal(q->thread, self)) {
			list_unlink(&q->le);
			list_append(&out, &q->le, q);
		}
	}
	bt_psm_unlock();
	/* the destructors take the lock themselves */
	list_flush(&out);
}

void bt_stt_pocketsphinx_drain(void)
{
	pool_drain(false);
}

void bt_stt_pocketsphinx_stats(unsigned *made, unsigned *reused,
			       unsigned *idle_now)
{
	bt_psm_lock();
	if (made)
		*made = n_made;
	if (reused)
		*reused = n_reused;
	if (idle_now)
		*idle_now = (unsigned)list_count(&idle);
	bt_psm_unlock();
}

int bt_stt_pocketsphinx_init(void)
{
	if (!registered) {
		bt_stt_register(&ps_stt);
		registered = true;
	}
	return 0;
}

void bt_stt_pocketsphinx_close(void)
{
	if (registered) {
		bt_stt_unregister(&ps_stt);
		registered = false;
	}
	pool_drain(true);
	bt_psm_close();
}
