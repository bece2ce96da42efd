/**
 * @file ps_kit.c  Grammars and the decoders that search them, shared by a
 * thread's recognisers (struct ps_kit in ps_int.h).
 *
 * A recogniser's grammar decoder and its two overlap-class decoders search
 * grammars that are the same for every call of an agent (the slot
 * grammars) or of the process (the overlap classes). Where the models and
 * the phone loop's scores are shared, such a decoder keeps nothing of a
 * call between utterances, as the open-LM decoder does (ps_models.c): it
 * reads the phone loop's scores, takes its CMN at each start, and its
 * search starts afresh. So a thread lends them per utterance from the
 * kit of those grammars: it holds as many as its callers are in a grammar
 * utterance, or speaking over the agent, at once. Making one costs about
 * 15 ms of CPU (ps_init), and 5 ms more to add an agent's four grammars;
 * a recogniser that owned its three cost 60 ms of the 75 ms it took to
 * make.
 *
 * The kit also holds the grammars' sources and their compiled forms from
 * the cache (ps_fsgcache.c), which the decoders it made search: it is
 * freed after them. Kits are found by thread, kind and key, with the
 * models' lock held; a kit that no recogniser holds is freed with its
 * idle decoders.
 */
#include <errno.h>
#include <string.h>
#include "banter/err.h"
#include "ps_int.h"

static struct list kits;   /* struct ps_kit, shared models only */


/* FNV-1a over what the grammars are made of */
static uint64_t key_add(uint64_t h, const void *p, size_t n)
{
	const uint8_t *b = p;

	for (size_t i = 0; i < n; i++)
		h = (h ^ b[i]) * 1099511628211ULL;
	return h;
}

uint64_t ps_prm_key(const struct bt_stt_prm *prm)
{
	uint64_t h = 14695981039346656037ULL;

	for (size_t i = 0; prm && i < prm->n_grammars; i++) {
		const struct bt_stt_grammar *g = &prm->grammars[i];
		int t = (int)g->type;

		h = key_add(h, g->name, strlen(g->name) + 1);
		h = key_add(h, &t, sizeof(t));
		for (size_t k = 0; k < g->n_phrases; k++)
			h = key_add(h, g->phrases[k],
				    strlen(g->phrases[k]) + 1);
		h = key_add(h, "|", 1);
	}
	return h;
}

static void kit_destructor(void *arg)
{
	struct ps_kit *k = arg;

	list_unlink(&k->le);
	/* the decoders first: they search the grammars */
	bt_psm_shelf_clear(&k->shelf);
	for (size_t i = 0; i < k->gramc; i++) {
		mem_deref(k->gramv[i].name);
		mem_deref(k->gramv[i].jsgf);
		mem_deref(k->gramv[i].fsg);
	}
	mem_deref(k->gramv);
}

static struct ps_kit *kit_find(enum bt_psm_kind kind, uint64_t key)
{
	pthread_t self = pthread_self();
	struct le *le;

	LIST_FOREACH(&kits, le) {
		struct ps_kit *k = le->data;

		if (k->kind == kind && k->key == key &&
		    pthread_equal(k->thread, self))
			return mem_ref(k);
	}
	return NULL;
}

static struct ps_kit *kit_alloc(const struct psi *st, enum bt_psm_kind kind,
				uint64_t key)
{
	struct ps_kit *k = mem_zalloc(sizeof(*k), kit_destructor);

	if (!k)
		return NULL;
	k->thread = pthread_self();
	k->kind = kind;
	k->key = key;
	k->lex = st->lex;
	k->cached = st->lms != NULL;
	k->shelf.kind = kind;
	return k;
}

/* Registered where the models are shared: the thread's next recognisers
 * with the same grammars find it. */
static void kit_publish(struct ps_kit *k)
{
	if (k->cached)
		list_append(&kits, &k->le, k);
}

int ps_kit_grammars(struct ps_kit **kp, const struct psi *st,
		    const struct bt_stt_prm *prm)
{
	uint64_t key = st->key;
	struct ps_kit *k;
	int err;

	*kp = NULL;
	if (!prm || !prm->n_grammars)
		return 0;
	k = st->lms ? kit_find(BT_PSM_FSG, key) : NULL;
	if (k) {
		*kp = k;
		return 0;
	}
	k = kit_alloc(st, BT_PSM_FSG, key);
	if (!k)
		return bt_err(ENOMEM, "out of memory making STT grammars");
	k->alts = true;
	err = ps_grammars_make(k, prm);
	if (err) {
		mem_deref(k);
		return err;
	}
	kit_publish(k);
	*kp = k;
	return 0;
}

int ps_kit_overlap(struct ps_kit *kv[2], const struct psi *st)
{
	for (unsigned i = 0; i < 2; i++) {
		struct ps_kit *k = st->lms ? kit_find(BT_PSM_OVL, i) : NULL;
		int err;

		if (!k) {
			k = kit_alloc(st, BT_PSM_OVL, i);
			if (!k)
				return bt_err(ENOMEM, "out of memory making "
					      "STT overlap grammars");
			err = ps_overlap_make(k, i);
			if (err) {
				mem_deref(k);
				return err;
			}
			kit_publish(k);
		}
		kv[i] = k;
	}
	return 0;
}

bool ps_kit_searches(const struct ps_kit *kit)
{
	for (size_t i = 0; kit && i < kit->gramc; i++) {
		if (kit->gramv[i].search[0])
			return true;
	}
	return false;
}

int ps_kit_decoder(struct ps_kit *kit, ps_decoder_t **psp)
{
	ps_decoder_t *ps = bt_psm_decoder(kit->kind, NULL, NULL);
	ps_decoder_t *lex = kit->lex;
	const char *first = NULL;
	int err = 0;

	if (!ps)
		return bt_err(EIO, "pocketsphinx could not make its grammar "
			      "decoder (out of memory or damaged model files)");
	/* the process's lexicon: made again after bt_psm_close, which a
	 * kit that a pooled recogniser holds outlives */
	if (kit->cached)
		err = bt_psm_lexicon(&lex);
	for (size_t i = 0; i < kit->gramc && !err; i++) {
		struct gram *g = &kit->gramv[i];

		if (!g->search[0])
			continue;
		/* "public <utt> = ...": the rules after the header */
		err = ps_dict_take(ps, lex, strchr(strstr(g->jsgf,
							       "public"), '='),
				   kit->alts, g->name);
		if (err)
			break;
		if (g->fsg)
			err = bt_psm_grammar_use(ps, g->search, g->fsg);
		else
			err = bt_psm_grammar_set(ps, g->search, g->jsgf,
						 kit->alts, kit->cached ?
						 &g->fsg : NULL);
		if (err)
			err = bt_err(EIO, "STT grammar \"%s\" could not be "
				     "compiled by pocketsphinx", g->name);
		if (!first)
			first = g->search;
	}
	/* fed in every utterance where it is the recogniser's own (see
	 * ps_follow.c), so it always needs a search */
	if (!err && first && ps_set_search(ps, first) < 0)
		err = bt_err(EIO, "pocketsphinx could not select its grammar "
			     "\"%s\"", first);
	if (err) {
		ps_free(ps);
		return err;
	}
	*psp = ps;
	return 0;
}

/* The shelf's maker (lock held). */
static ps_decoder_t *kit_make(void *arg, unsigned *genp)
{
	ps_decoder_t *ps = NULL;

	*genp = 0;
	return ps_kit_decoder(arg, &ps) ? NULL : ps;
}

int ps_kit_take(struct ps_kit *kit, ps_decoder_t **psp)
{
	unsigned gen;

	*psp = bt_psm_shelf_take(&kit->shelf, kit_make, kit, &gen);
	return *psp ? 0 : EIO;
}

void ps_kit_give(struct ps_kit *kit, ps_decoder_t *ps)
{
	bt_psm_shelf_give(&kit->shelf, ps, 0);
}

int ps_kit_fill(struct ps_kit *kit)
{
	return bt_psm_shelf_fill(&kit->shelf, kit_make, kit);
}
