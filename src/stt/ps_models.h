/**
 * @file ps_models.h  The pocketsphinx decoders of the STT provider and the
 * models its instances share (see ps_models.c). Internal to src/stt.
 *
 * Everything here except bt_psm_lock/unlock and bt_psm_stats is called with
 * the lock held: it is taken to make and to free instances, never per
 * frame.
 */
#ifndef BT_STT_PS_MODELS_H
#define BT_STT_PS_MODELS_H

#include <stdbool.h>

/* pocketsphinx's ps_decoder_t, without its headers (the tests include
 * this one for bt_psm_stats) */
struct ps_decoder_s;

/** The decoders an instance owns (pocketsphinx.c says what each does). */
enum bt_psm_kind {
	BT_PSM_LM,      /* the open language model */
	BT_PSM_FSG,     /* grammars; an empty dictionary (dict_take) */
	BT_PSM_PHONES,  /* the phone loop */
	BT_PSM_OVL,     /* an overlap class; an empty dictionary */
	BT_PSM_KINDS
};

/** One thread's language models (a mem object: an instance that uses them
 *  holds a reference, freed with the lock held). */
struct bt_psm_lms;

/** A compiled grammar of the cache (a mem object, as above). */
struct bt_psm_fsg;

void bt_psm_lock(void);
void bt_psm_unlock(void);

/** Whether instances share models: decided at the first load after start
 *  or bt_psm_close() from BT_PS_SHARE ("0": no; default yes). */
bool bt_psm_sharing(void);

/** Check that the model files are there and silence sphinxbase's log. */
int bt_psm_prepare(void);

/** The calling thread's language models, loaded on its first instance;
 *  *lp gets a reference. */
int bt_psm_lms_get(struct bt_psm_lms **lp);

/**
 * A decoder of the given kind (NULL if pocketsphinx could not make it).
 * With lms, the LM and phone-loop decoders search those shared models
 * (and the LM decoder's dictionary holds only the words the LM knows);
 * without, they load their own from the model files. senlogdir (phone
 * loop only; NULL: none): where it writes each frame's senone scores for
 * the others (ps_share.c).
 */
struct ps_decoder_s *bt_psm_decoder(enum bt_psm_kind kind,
				    struct bt_psm_lms *lms,
				    const char *senlogdir);

/**
 * Decoders lent per utterance: a shelf holds one thread's idle decoders of
 * one kind and grammars. A decoder that reads the phone loop's shared
 * scores keeps nothing of a call between utterances (it takes the phone
 * loop's CMN at each start, its search starts afresh), so a thread needs
 * as many as its callers speak at once, not one per call. Only the
 * shelf's thread touches it (take and give without the lock; each takes
 * it to make or free a decoder); fill and clear with the lock held.
 *  - take: an idle one, or a new one from makeh (called with the lock
 *    held; NULL: pocketsphinx could not); *genp gets the generation it
 *    was made with, for give. An open-LM decoder (kind BT_PSM_LM) made
 *    before the LM dictionary changed is freed, not taken;
 *  - give: back, idle, for the next utterance, up to the thread's bound
 *    (bt_psm_set_keep, at least the spares); else freed;
 *  - fill: make them until the spare count waits (psi_make), so that the
 *    thread's next utterances find one;
 *  - clear: free the idle ones.
 */
enum { BT_PSM_SHELF_MAX = 64 };

struct bt_psm_shelf {
	enum bt_psm_kind kind;
	struct ps_decoder_s *v[BT_PSM_SHELF_MAX];
	unsigned gen[BT_PSM_SHELF_MAX];
	unsigned n;
};

typedef struct ps_decoder_s *(bt_psm_make_h)(void *arg, unsigned *genp);

struct ps_decoder_s *bt_psm_shelf_take(struct bt_psm_shelf *s,
				       bt_psm_make_h *makeh, void *arg,
				       unsigned *genp);
void bt_psm_shelf_give(struct bt_psm_shelf *s, struct ps_decoder_s *ps,
		       unsigned gen);
int bt_psm_shelf_fill(struct bt_psm_shelf *s, bt_psm_make_h *makeh,
		      void *arg);
void bt_psm_shelf_clear(struct bt_psm_shelf *s);

/**
 * How many decoders a thread makes ready (any thread, no lock): per_agent
 * grammar decoders of each agent's grammars, and per_agent x agents
 * open-LM decoders and overlap classifiers, which every agent's callers
 * use (0: 1 each). bt_psm_set_keep: how many idle ones a shelf keeps (at
 * least its spares).
 */
void bt_psm_set_spare(unsigned per_agent, unsigned agents);
void bt_psm_set_keep(unsigned n);

/** The calling thread's shelf of open-LM decoders, with its maker (arg:
 *  lms), for bt_psm_shelf_take and _fill; whether one made with the LM
 *  dictionary of generation gen hears what it should now. */
struct bt_psm_shelf *bt_psm_lm_shelf(struct bt_psm_lms *lms);
struct ps_decoder_s *bt_psm_lm_make(void *lms, unsigned *genp);
bool bt_psm_lm_current(unsigned gen);

/** The full pronunciation dictionary, as a decoder without a search, to
 *  look words up (ps_lookup_word only reads it). Not owned. */
int bt_psm_lexicon(struct ps_decoder_s **psp);

/**
 * Compile JSGF text for decoder ps and add it as search `search`. With fp,
 * the compiled grammar comes from the cache (compiled on the first use of
 * this text and alts setting) and *fp gets a reference to it; without,
 * ps gets a grammar of its own. alts: ps's dictionary holds every
 * alternative pronunciation of the grammar's words (the cache keeps the
 * two apart: pocketsphinx adds those to the grammar it is first given).
 */
int bt_psm_grammar_set(struct ps_decoder_s *ps, const char *search,
		       const char *jsgf, bool alts, struct bt_psm_fsg **fp);

/** Add grammar f, compiled already, to decoder ps as search `search`
 *  (another decoder with the same grammars; f stays the caller's). */
int bt_psm_grammar_use(struct ps_decoder_s *ps, const char *search,
		       struct bt_psm_fsg *f);

/**
 * Words (lower case, space-separated, as phrase_norm writes them) the LM
 * decoders must hear even past the BANTER_LM_WORDS likeliest: an agent's
 * phrases. Any thread, with or without the lock.
 */
void bt_psm_keep_words(const char *words);

/** Drop what the cache holds (instances keep what they use). */
void bt_psm_close(void);

/** Loads since start, for tests and benchmarks. */
struct bt_psm_stats {
	unsigned lexicons;      /**< full dictionaries loaded */
	unsigned lms;           /**< language model pairs loaded */
	unsigned lms_held;      /**< ... held now (one per thread) */
	unsigned grammars;      /**< grammars compiled into the cache */
	unsigned grammar_hits;  /**< grammars taken from the cache */
	unsigned made[BT_PSM_KINDS]; /**< decoders made, per kind */
};

/** Takes the lock. */
void bt_psm_stats(struct bt_psm_stats *st);

/** The grammar cache (ps_fsgcache.c), with the lock held: drop what it
 *  holds (bt_psm_close), and fill in its counts (bt_psm_stats). */
void bt_psm_fsgs_flush(void);
void bt_psm_fsgs_stats(struct bt_psm_stats *st);

#endif
