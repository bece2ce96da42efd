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
 * The open-LM decoders of lms's thread, lent per utterance. Such a decoder
 * keeps nothing of a call between utterances (it takes the phone loop's
 * CMN at each start and, with shared scores, reads its scores), so a
 * thread needs as many as its callers speak at once, not one per call.
 * Called on lms's thread, without the lock (each takes it to make or free
 * a decoder).
 *  - take: an idle one, or a new one (NULL: pocketsphinx could not); *genp
 *    gets the dictionary it was made with, for give;
 *  - give: back, idle, for the next utterance (up to a bound; one made
 *    before the LM dictionary changed is freed).
 * bt_psm_lm_spare (with the lock held, on lms's thread: psi_make) makes
 * them until the spare count waits, so that the thread's next utterances
 * find one. Any thread, no lock: bt_psm_lm_set_spare sets that count
 * (0: 1), bt_psm_lm_set_keep how many idle ones a thread keeps (at least
 * the spares).
 */
struct ps_decoder_s *bt_psm_lm_take(struct bt_psm_lms *lms, unsigned *genp);
void bt_psm_lm_give(struct bt_psm_lms *lms, struct ps_decoder_s *ps,
		    unsigned gen);
int bt_psm_lm_spare(struct bt_psm_lms *lms);
void bt_psm_lm_set_spare(unsigned n);
void bt_psm_lm_set_keep(unsigned n);

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
	unsigned lm_decoders;   /**< open-LM decoders made (lent per
				     utterance: bt_psm_lm_take) */
};

/** Takes the lock. */
void bt_psm_stats(struct bt_psm_stats *st);

/** The grammar cache (ps_fsgcache.c), with the lock held: drop what it
 *  holds (bt_psm_close), and fill in its counts (bt_psm_stats). */
void bt_psm_fsgs_flush(void);
void bt_psm_fsgs_stats(struct bt_psm_stats *st);

#endif
