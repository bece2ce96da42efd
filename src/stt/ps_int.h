/**
 * @file ps_int.h  What the pocketsphinx provider's files share: one
 *                 recogniser's decoders (struct psi) and its grammars.
 * pocketsphinx.c makes, feeds and scores the decoders, ps_grammar.c builds
 * their grammars and dictionaries, ps_pool.c is the provider: the handle
 * a session holds and the pool that reuses decoders from call to call.
 */
#ifndef BT_STT_PS_INT_H
#define BT_STT_PS_INT_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <pocketsphinx.h>
#include <re.h>
#include "banter/audio.h"
#include "banter/stt.h"
#include "ps_models.h"


enum {
	/* a partial hypothesis is a backtrace: at most one per 160 ms */
	PARTIAL_SAMPLES = BT_RATE_HZ / 1000 * 160,
	JSGF_MAX = 64 * 1024,     /* one compiled grammar's source */
	PHRASE_MAX = 256,         /* one extra phrase, normalised */
	WORD_MAX = 64,            /* one word of a grammar */
	SEARCH_LEN = 16,          /* internal search names: "bt_g<n>" */
	GRAMMAR_MAX = 256,        /* grammars per instance */
};

/* The levels of an utterance's 10 ms frames, for its signal-to-noise
 * ratio (ps_conf.c): a histogram in whole dB, so feeding costs a few
 * operations a frame and no allocation. */
enum { LEVEL_BINS = 100, LEVEL_FRAME = BT_RATE_HZ / 100 };
struct level {
	uint16_t hist[LEVEL_BINS];
	double acc;                /* the current frame's sum of squares */
	unsigned n;                /* ... of this many samples */
	unsigned frames;
};

struct pss;

struct gram {
	char *name;              /* the caller's name (owned) */
	enum bt_slot_type type;
	char search[SEARCH_LEN]; /* "" = the open language model */
	char *jsgf;              /* its source (owned); NULL with "" */
	struct bt_psm_fsg *fsg;  /* its compiled grammar, when shared */
};

/*
 * Grammars and the decoders that search them (ps_kit.c): an agent's slot
 * grammars (kind BT_PSM_FSG, key: what prm_key makes of them), or one
 * class of the overlap classifier (BT_PSM_OVL). With shared models the
 * instances of a thread with the same grammars hold one kit (a mem
 * object; references taken and dropped with the models' lock held), and
 * where they also share scores its decoders are lent per utterance from
 * its shelf, like the open-LM decoder. Otherwise an instance makes its
 * own decoders from it.
 */
struct ps_kit {
	struct le le;              /* in the kits (shared models only) */
	pthread_t thread;
	enum bt_psm_kind kind;
	uint64_t key;
	bool alts;                 /* every pronunciation of its words */
	ps_decoder_t *lex;         /* where its words come from (the
				      process's lexicon: bt_psm_lexicon,
				      when cached) */
	bool cached;               /* grammars compiled into the cache */
	struct gram *gramv;
	size_t gramc;
	struct bt_psm_shelf shelf; /* idle decoders, when lent */
};

/* The decoders of one recogniser: made once, reused by call after call
 * on their thread (see the pool below). */
struct psi {
	struct le le;              /* in the idle pool */
	uint64_t key;              /* the grammars it was made for */
	ps_decoder_t *lm;          /* with shared models and scores (lms,
				      share), lent for an utterance and NULL
				      between them (bt_psm_lm_take); else
				      its own */
	unsigned lm_gen;           /* the LM dictionary lm was made with */
	int32 lm_score;            /* the open LM's path score and words */
	char lm_hyp[512];          /* of the utterance psi_finish ends (its
				      decoder is lent: gone after it) */
	ps_decoder_t *fsg;         /* NULL if no grammar needs one; lent
				      like lm (only while a grammar
				      utterance runs) */
	ps_decoder_t *phones;
	ps_decoder_t *ovb;         /* overlap classifier (see above): */
	ps_decoder_t *ovs;         /* backchannels, stop phrases; lent like
				      fsg, while speech over the agent
				      runs */
	bool lent;                 /* lm, fsg, ovb, ovs are lent (shared
				      models and scores) */
	ps_decoder_t *lex;         /* where words are looked up: the shared
				      lexicon, or lm if nothing is shared */
	struct bt_psm_lms *lms;    /* this thread's LMs; NULL: own models */
	struct pss *share;         /* phones scores for the others; NULL:
				      each decoder scores (ps_share.c) */
	bool shared_utt;           /* this utterance is read that way */
	struct ps_kit *kit;        /* its grammars (NULL: none declared) */
	struct ps_kit *ovk[2];     /* ovb's and ovs's */
	pthread_t thread;          /* the thread lms belongs to */
	struct bt_stt_overlap ov;  /* its reading of the last utterance */
	bool in_utt;
	bool grammar;              /* this utterance's words come from fsg */
	bool overlap;              /* ovb, ovs read it (in_utt or the last
				      one); if not, they only follow it */
	mfcc_t **cep;              /* cepstra of the decoders that follow:
				      thrown away (ps_follow.c) */
	enum bt_slot_type type;    /* ... of that slot type */
	float post;                /* the lowest posterior of the grammar's
				      words in the last utterance; -1: not
				      needed (ps_conf() in ps_conf.c) */
	struct level level;        /* of this utterance's audio */
	float snr;                 /* the last utterance's, in dB */
	size_t since_partial;      /* samples fed since the last backtrace */
	char partial[512];         /* the hypothesis partialh last gave */
};


/* pocketsphinx.c */
int psi_make(struct psi **stp, const struct bt_stt_prm *prm);
int psi_start(struct psi *st, const char *grammar, bool overlap);
int psi_feed(struct psi *st, const int16_t *pcm, size_t n);
bool psi_partial(struct psi *st, char *buf, size_t sz);
int psi_finish(struct psi *st, struct bt_transcript *tr);
int psi_overlap(struct psi *st, struct bt_stt_overlap *ov);
int psi_end_utt(struct psi *st);
/* a hypothesis' lower-case words, fillers and markers dropped */
void ps_hyp_clean(const char *hyp, char *buf, size_t sz);

/* ps_conf.c: how sure the recogniser is */
void ps_level_reset(struct level *lv);
void ps_level_feed(struct level *lv, const int16_t *pcm, size_t n);
/* the loud frames' level over the quiet ones', in dB */
float ps_level_snr(const struct level *lv);
/* the acoustic score of ps's best path and the frames its words span */
void ps_path_score(ps_decoder_t *ps, int64_t *ascrp, int *speechp);
/* the fit of gram's words (NULL: the open LM's) against the references */
float ps_conf_of(struct psi *st, ps_decoder_t *gram);
/* the utterance's confidence, text being its words (st->lm_hyp the open
 * LM's); sets st->post */
float ps_conf(struct psi *st, const char *text);

/* ps_follow.c: decoders that sit out an utterance but stay in step */
int psf_alloc(struct psi *st);
void psf_free(struct psi *st);
/* to takes from's live CMN, as at the start of an utterance */
void psf_cmn(ps_decoder_t *to, ps_decoder_t *from);
/* run the front ends of v over the utterance, without searching */
void psf_start(ps_decoder_t *const *v, size_t n);
int psf_feed(struct psi *st, ps_decoder_t *const *v, size_t n,
	     const int16_t *pcm, size_t nsamp);
void psf_end(struct psi *st, ps_decoder_t *const *v, size_t n);

/* ps_share.c: the phone loop scores each frame once, the other decoders
 * read its scores; NULL *sp: sharing is off (BANTER_STT_SCORES=each) or
 * impossible here */
int pss_alloc(struct pss **sp);
/* the phone loop's -senlogdir */
const char *pss_dir(const struct pss *s);
/* after ps_start_utt(writer): v read its scores; false: they cannot, the
 * decoders score for themselves this utterance */
bool pss_start(struct pss *s, ps_decoder_t *const *v, size_t n);
int pss_feed(struct pss *s, ps_decoder_t *writer, const int16_t *pcm,
	     size_t n);
/* ends the writer's utterance, then the readers' */
int pss_end(struct pss *s, ps_decoder_t *writer);
void pss_stop(struct pss *s);

/* ps_grammar.c */
int ps_prm_check(const struct bt_stt_prm *prm);
/* kit's grammars (gramv), from prm's, or the overlap class `which`
 * (0 backchannels, 1 stop phrases); their words checked with lex */
int ps_grammars_make(struct ps_kit *kit, const struct bt_stt_prm *prm);
int ps_overlap_make(struct ps_kit *kit, unsigned which);
/* give decoder to (an empty dictionary) the words of JSGF rules from
 * from's dictionary; alts: "word(2)" too */
int ps_dict_take(ps_decoder_t *to, ps_decoder_t *from, const char *rules,
		 bool alts, const char *what);

/* ps_kit.c, with the models' lock held except take and give */
/* what prm's grammars are made of, as a number: a recogniser's key */
uint64_t ps_prm_key(const struct bt_stt_prm *prm);
/* this thread's kit of prm's grammars (NULL *kp: none declared), those
 * with key st->key */
int ps_kit_grammars(struct ps_kit **kp, const struct psi *st,
		    const struct bt_stt_prm *prm);
/* this thread's kits of the overlap classes */
int ps_kit_overlap(struct ps_kit *kv[2], const struct psi *st);
/* whether the kit's grammars need a decoder (not all free speech) */
bool ps_kit_searches(const struct ps_kit *kit);
/* a new decoder with the kit's grammars, the first one selected */
int ps_kit_decoder(struct ps_kit *kit, ps_decoder_t **psp);
/* a decoder lent from the kit's shelf; back to it */
int ps_kit_take(struct ps_kit *kit, ps_decoder_t **psp);
void ps_kit_give(struct ps_kit *kit, ps_decoder_t *ps);
/* make its spares */
int ps_kit_fill(struct ps_kit *kit);

#endif
