/**
 * @file ps_fsgcache.c  The compiled grammars the pocketsphinx provider's
 * instances share, one per grammar text (and alternative-pronunciation
 * setting).
 *
 * The first decoder given a grammar adds silence and alternative-
 * pronunciation arcs to it (fsg_search_init), under the models' lock,
 * before anyone else has it; later decoders find them there and leave it
 * alone. The FSG search only reads it while decoding as long as no
 * lattice is made (fsg_search_lattice adds <s> and </s> words to it):
 * -bestpath stays off and nothing calls ps_get_lattice. Everything here
 * runs with the lock held (ps_models.h).
 */
#include <errno.h>
#include <stdbool.h>
#include <string.h>
#include <pocketsphinx.h>
#include <sphinxbase/jsgf.h>
#include <re.h>
#include "ps_models.h"

enum {
	FSG_IDLE_MAX = 64,   /* compiled grammars kept that no instance uses */
};

struct bt_psm_fsg {
	struct le le;           /* in fsgs */
	char *jsgf;             /* the source it was compiled from */
	bool alts;
	fsg_model_t *fsg;
	logmath_t *lmath;       /* its (it does not retain it) */
};

static struct list fsgs;        /* struct bt_psm_fsg */
static unsigned n_compiled, n_hits;

/*
 * ps_set_jsgf_string() of pocketsphinx 5prealpha leaks the parsed
 * grammar; this compiles the same without the leak. The FSG keeps its own
 * copies of names and words.
 */
static fsg_model_t *jsgf_build(ps_decoder_t *ps, const char *text)
{
	float lw = cmd_ln_float32_r(ps_get_config(ps), "-lw");
	jsgf_t *jsgf;
	jsgf_rule_t *rule;
	fsg_model_t *fsg = NULL;

	jsgf = jsgf_parse_string(text, NULL);
	if (!jsgf)
		return NULL;
	rule = jsgf_get_public_rule(jsgf);
	if (rule)
		fsg = jsgf_build_fsg(jsgf, rule, ps_get_logmath(ps), lw);
	jsgf_grammar_free(jsgf);
	return fsg;
}

static void fsg_destructor(void *arg)
{
	struct bt_psm_fsg *f = arg;

	list_unlink(&f->le);
	if (f->fsg)
		fsg_model_free(f->fsg);
	if (f->lmath)
		logmath_free(f->lmath);
	mem_deref(f->jsgf);
}

static struct bt_psm_fsg *fsg_find(const char *jsgf, bool alts)
{
	struct le *le;

	LIST_FOREACH(&fsgs, le) {
		struct bt_psm_fsg *f = le->data;

		if (f->alts == alts && !strcmp(f->jsgf, jsgf))
			return f;
	}
	return NULL;
}

/* Grammars no instance uses are kept for the next call (an agent's calls
 * all use the same ones), up to FSG_IDLE_MAX: agents that make grammars
 * per call do not fill the memory. The oldest go first. */
static void fsg_drop_idle(void)
{
	struct le *le;
	unsigned idle = 0;

	LIST_FOREACH(&fsgs, le)
		idle += mem_nrefs(le->data) == 1;
	le = list_head(&fsgs);
	while (le && idle > FSG_IDLE_MAX) {
		struct bt_psm_fsg *f = le->data;

		le = le->next;
		if (mem_nrefs(f) == 1) {
			mem_deref(f);
			idle--;
		}
	}
}

int bt_psm_grammar_set(ps_decoder_t *ps, const char *search,
		       const char *jsgf, bool alts, struct bt_psm_fsg **fp)
{
	struct bt_psm_fsg *f;
	fsg_model_t *fsg;
	bool fresh = false;
	int err;

	if (!fp) {
		fsg = jsgf_build(ps, jsgf);
		if (!fsg)
			return EINVAL;
		err = ps_set_fsg(ps, search, fsg) < 0 ? EINVAL : 0;
		fsg_model_free(fsg);   /* the search holds its own reference */
		return err;
	}

	f = fsg_find(jsgf, alts);
	if (f) {
		mem_ref(f);
		n_hits++;
	}
	else {
		f = mem_zalloc(sizeof(*f), fsg_destructor);
		if (!f || str_dup(&f->jsgf, jsgf)) {
			mem_deref(f);
			return ENOMEM;
		}
		f->alts = alts;
		f->fsg = jsgf_build(ps, jsgf);
		if (!f->fsg) {
			mem_deref(f);
			return EINVAL;
		}
		f->lmath = logmath_retain(ps_get_logmath(ps));
		fresh = true;
	}

	if (ps_set_fsg(ps, search, f->fsg) < 0) {
		mem_deref(f);
		return EINVAL;
	}
	if (fresh) {
		/* the list's reference, and the caller's */
		list_append(&fsgs, &f->le, f);
		mem_ref(f);
		n_compiled++;
		fsg_drop_idle();
	}
	*fp = f;
	return 0;
}

int bt_psm_grammar_use(ps_decoder_t *ps, const char *search,
		       struct bt_psm_fsg *f)
{
	return f && ps_set_fsg(ps, search, f->fsg) >= 0 ? 0 : EINVAL;
}

void bt_psm_fsgs_flush(void)
{
	list_flush(&fsgs);
}

void bt_psm_fsgs_stats(struct bt_psm_stats *st)
{
	st->grammars = n_compiled;
	st->grammar_hits = n_hits;
}
