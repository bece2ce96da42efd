/**
 * @file ps_shelf.c  Decoders lent per utterance: one thread's idle
 * decoders of one kind and grammars (struct bt_psm_shelf, ps_models.h).
 * The open-LM decoders' shelf is in each thread's language models
 * (ps_models.c), the grammar and overlap decoders' in the thread's kits
 * (ps_kit.c).
 */
#include <errno.h>
#include <stdatomic.h>
#include <pocketsphinx.h>
#include "ps_models.h"

/* decoders made ready per thread (bt_psm_set_spare; 0 means 1), and idle
 * ones kept per shelf: read when an utterance ends, where the lock (held
 * while another thread makes a decoder) would make it wait */
static _Atomic unsigned spare_agent, spare_agents = 1, shelf_keep;

/* Whether a decoder made with generation gen hears what it should: an
 * open-LM one, the current LM dictionary. */
static bool shelf_current(const struct bt_psm_shelf *s, unsigned gen)
{
	return s->kind != BT_PSM_LM || bt_psm_lm_current(gen);
}

/* Free the idle ones made with an older dictionary (lock held). */
static void shelf_drop_stale(struct bt_psm_shelf *s)
{
	unsigned k = 0;

	for (unsigned i = 0; i < s->n; i++) {
		if (shelf_current(s, s->gen[i])) {
			s->gen[k] = s->gen[i];
			s->v[k++] = s->v[i];
		}
		else {
			ps_free(s->v[i]);
		}
	}
	s->n = k;
}

static ps_decoder_t *shelf_pop(struct bt_psm_shelf *s, unsigned *genp)
{
	--s->n;
	*genp = s->gen[s->n];
	return s->v[s->n];
}

ps_decoder_t *bt_psm_shelf_take(struct bt_psm_shelf *s,
				bt_psm_make_h *makeh, void *arg,
				unsigned *genp)
{
	ps_decoder_t *ps;

	/* without the lock when one waits: it is held while another thread
	 * makes a decoder */
	if (s->n && shelf_current(s, s->gen[s->n - 1]))
		return shelf_pop(s, genp);
	bt_psm_lock();
	shelf_drop_stale(s);
	ps = s->n ? shelf_pop(s, genp) : makeh(arg, genp);
	bt_psm_unlock();
	return ps;
}

void bt_psm_set_spare(unsigned per_agent, unsigned agents)
{
	atomic_store(&spare_agent, per_agent < BT_PSM_SHELF_MAX ?
		     per_agent : BT_PSM_SHELF_MAX);
	atomic_store(&spare_agents, agents ? agents : 1u);
}

void bt_psm_set_keep(unsigned n)
{
	atomic_store(&shelf_keep, n < BT_PSM_SHELF_MAX ? n :
		     BT_PSM_SHELF_MAX);
}

/* The spares of a shelf of this kind: an agent's grammar decoders are
 * its callers' only, the others every agent's. */
static unsigned shelf_spare(const struct bt_psm_shelf *s)
{
	unsigned n = atomic_load(&spare_agent);

	if (!n)
		n = 1;
	if (s->kind != BT_PSM_FSG)
		n *= atomic_load(&spare_agents);
	return n < BT_PSM_SHELF_MAX ? n : BT_PSM_SHELF_MAX;
}

void bt_psm_shelf_give(struct bt_psm_shelf *s, ps_decoder_t *ps,
		       unsigned gen)
{
	unsigned cap = atomic_load(&shelf_keep);

	if (!ps)
		return;
	if (cap < shelf_spare(s))
		cap = shelf_spare(s);
	if (s->n < cap && shelf_current(s, gen)) {
		s->gen[s->n] = gen;
		s->v[s->n++] = ps;
		return;
	}
	bt_psm_lock();
	ps_free(ps);
	bt_psm_unlock();
}

int bt_psm_shelf_fill(struct bt_psm_shelf *s, bt_psm_make_h *makeh,
		      void *arg)
{
	/* those made before the dictionary changed would be made again
	 * when taken, in an utterance: now instead */
	shelf_drop_stale(s);
	while (s->n < shelf_spare(s)) {
		unsigned gen;
		ps_decoder_t *ps = makeh(arg, &gen);

		if (!ps)
			return EIO;
		s->gen[s->n] = gen;
		s->v[s->n++] = ps;
	}
	return 0;
}

void bt_psm_shelf_clear(struct bt_psm_shelf *s)
{
	while (s->n)
		ps_free(s->v[--s->n]);
}
