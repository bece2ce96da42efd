/**
 * @file chain.c  A recogniser with fallbacks (bt_stt_open): the agent's
 *                provider first, then each of its "fallback" entries.
 *
 * The chain keeps the current utterance's audio, so that when a network
 * recogniser fails mid-utterance (refused, closed, silent past its
 * timeout) the next provider is made there and then, gets the utterance
 * from its start and gives the final: the caller's words are not lost
 * and the call goes on. A fallback that is never needed costs nothing: it
 * is made only when the one before it fails (an embedded recogniser then
 * takes ~0.35 s of CPU on the session's thread, once).
 */
#include <errno.h>
#include <string.h>
#include <re.h>
#include "banter/banter.h"
#include "stt/stt_int.h"

enum {
	UTT_MAX = 60 * BT_RATE_HZ,  /* audio kept for a replay */
	MAX_LINKS = 4,
};

struct chain {
	const struct bt_stt *stt;  /* first: see bt_stt_of() */
	struct bt_stt_st *cur;
	struct bt_stt_st *dead;    /* failed; freed outside its handler */
	struct tmr reap;
	const json_t *links[MAX_LINKS];  /* provider sections, in order */
	json_t *own[MAX_LINKS];          /* sections made from a name */
	size_t n_links, at;
	/* the session's handlers and grammars (copied: a fallback is made
	 * after the session's set-up has freed its own) */
	struct bt_stt_prm up;
	struct bt_stt_grammar *gr;
	/* the utterance */
	struct stt_audio utt;
	char grammar[64];
	bool has_grammar, in_utt, finishing;
	bool overlap;              /* the utterance is read for overlap */
};

static struct bt_stt chain_stt;
static void link_fail(int err, const char *msg, void *arg);

static void chain_destructor(void *arg)
{
	struct chain *c = arg;

	tmr_cancel(&c->reap);
	mem_deref(c->cur);
	mem_deref(c->dead);
	for (size_t i = 0; i < MAX_LINKS; i++)
		json_decref(c->own[i]);
	mem_deref(c->gr);
	mem_deref(c->utt.pcm);
}

/* One allocation: the grammars, then every phrase-pointer list (aligned
 * as pointers), then the strings. */
static int grammars_copy(struct chain *c, const struct bt_stt_prm *prm)
{
	size_t n_ptr = 0, n_str = 0, need;
	const char **ptrs;
	char *str;

	for (size_t i = 0; i < prm->n_grammars; i++) {
		const struct bt_stt_grammar *g = &prm->grammars[i];

		n_ptr += g->n_phrases;
		n_str += strlen(g->name) + 1;
		for (size_t j = 0; j < g->n_phrases; j++)
			n_str += strlen(g->phrases[j]) + 1;
	}
	need = prm->n_grammars * sizeof(struct bt_stt_grammar) +
	       n_ptr * sizeof(char *) + n_str + 1;
	c->gr = mem_zalloc(need, NULL);
	if (!c->gr)
		return ENOMEM;
	ptrs = (const char **)(void *)(c->gr + prm->n_grammars);
	str = (char *)(ptrs + n_ptr);
	for (size_t i = 0; i < prm->n_grammars; i++) {
		const struct bt_stt_grammar *g = &prm->grammars[i];
		size_t k;

		c->gr[i].phrases = ptrs;
		for (size_t j = 0; j < g->n_phrases; j++) {
			k = strlen(g->phrases[j]) + 1;
			memcpy(str, g->phrases[j], k);
			*ptrs++ = str;
			str += k;
		}
		k = strlen(g->name) + 1;
		memcpy(str, g->name, k);
		c->gr[i].name = str;
		str += k;
		c->gr[i].type = g->type;
		c->gr[i].n_phrases = g->n_phrases;
	}
	c->up.grammars = c->gr;
	return 0;
}

static void link_partial(const char *text, void *arg)
{
	struct chain *c = arg;

	if (c->up.partialh)
		c->up.partialh(text, c->up.arg);
}

static void link_final(const struct bt_transcript *tr, void *arg)
{
	struct chain *c = arg;

	if (!c->finishing)
		return;
	c->finishing = false;
	if (c->up.finalh)
		c->up.finalh(tr, c->up.arg);
}

static void link_turn(enum bt_stt_turn_ev ev, const char *text, void *arg)
{
	struct chain *c = arg;

	if (c->up.turnh)
		c->up.turnh(ev, text, c->up.arg);
}

static const char *link_name(const json_t *sec)
{
	const char *n = json_string_value(json_object_get(sec, "provider"));

	return n ? n : "pocketsphinx";
}

/* Make link i; its errors say which. */
static int link_make(struct chain *c, size_t i, struct bt_stt_st **stp)
{
	const struct bt_stt *p = bt_stt_find(link_name(c->links[i]));
	struct bt_stt_prm prm = c->up;

	if (!p)
		return bt_err(ENOENT, "no recogniser \"%s\" is registered",
			      link_name(c->links[i]));
	prm.section = c->links[i];
	prm.partialh = link_partial;
	prm.finalh = link_final;
	prm.failh = link_fail;
	prm.turnh = link_turn;
	prm.arg = c;
	return p->alloch(stp, &prm);
}

static void reap_h(void *arg)
{
	struct chain *c = arg;

	c->dead = mem_deref(c->dead);
}

/* Hand the utterance so far to the new recogniser. */
static void replay(struct chain *c)
{
	const struct bt_stt *p = bt_stt_of(c->cur);
	struct bt_transcript tr;
	int err;

	if (!c->in_utt && !c->finishing)
		return;
	err = p->starth(c->cur, c->has_grammar ? c->grammar : NULL,
			c->overlap);
	if (err && c->has_grammar)
		err = p->starth(c->cur, NULL, c->overlap);
	if (err)
		return;
	if (c->utt.n)
		(void)p->feedh(c->cur, c->utt.pcm, c->utt.n);
	if (!c->finishing)
		return;
	memset(&tr, 0, sizeof(tr));
	err = p->finishh(c->cur, &tr);
	if (err == EINPROGRESS)
		return;
	link_final(&tr, c);
}

static void link_fail(int err, const char *msg, void *arg)
{
	struct chain *c = arg;
	const char *failed;
	char m[1200];

	if (c->at >= c->n_links || !c->cur)
		return;
	failed = link_name(c->links[c->at]);
	mem_deref(c->dead);
	c->dead = c->cur;
	c->cur = NULL;
	tmr_start(&c->reap, 0, reap_h, c);
	while (++c->at < c->n_links) {
		int e = link_make(c, c->at, &c->cur);

		if (!e)
			break;
		snprintf(m, sizeof(m), "the fallback recogniser \"%s\" "
			 "cannot start either: %s",
			 link_name(c->links[c->at]), bt_errmsg());
		if (c->up.failh && c->at + 1 < c->n_links)
			c->up.failh(0, m, c->up.arg);
		(void)e;
	}
	if (!c->cur) {
		snprintf(m, sizeof(m), "%s; no fallback recogniser is left: "
			 "the caller cannot be heard (add \"fallback\": "
			 "[\"pocketsphinx\"] to the agent's stt)", msg);
		if (c->up.failh)
			c->up.failh(err, m, c->up.arg);
		if (c->finishing) {
			struct bt_transcript tr;

			memset(&tr, 0, sizeof(tr));
			link_final(&tr, c);
		}
		return;
	}
	snprintf(m, sizeof(m), "%s; \"%s\" takes over from \"%s\"%s", msg,
		 link_name(c->links[c->at]), failed,
		 c->in_utt || c->finishing ? " with this utterance's audio" :
		 "");
	if (c->up.failh)
		c->up.failh(0, m, c->up.arg);
	replay(c);
}

static int chain_start(struct bt_stt_st *st, const char *grammar,
		       bool overlap)
{
	struct chain *c = (struct chain *)st;

	c->utt.n = 0;
	c->in_utt = true;
	c->finishing = false;
	c->has_grammar = grammar != NULL;
	str_ncpy(c->grammar, grammar ? grammar : "", sizeof(c->grammar));
	c->overlap = overlap;
	if (!c->cur)
		return bt_err(EPIPE, "no recogniser is working for this call");
	return bt_stt_of(c->cur)->starth(c->cur, grammar, overlap);
}

static int chain_feed(struct bt_stt_st *st, const int16_t *pcm, size_t n)
{
	struct chain *c = (struct chain *)st;

	stt_audio_add(&c->utt, pcm, n, UTT_MAX);
	if (!c->cur)
		return 0;
	return bt_stt_of(c->cur)->feedh(c->cur, pcm, n);
}

static void chain_listen(struct bt_stt_st *st, const int16_t *pcm, size_t n)
{
	struct chain *c = (struct chain *)st;

	if (c->cur && bt_stt_of(c->cur)->listenh)
		bt_stt_of(c->cur)->listenh(c->cur, pcm, n);
}

static int chain_finish(struct bt_stt_st *st, struct bt_transcript *tr)
{
	struct chain *c = (struct chain *)st;
	int err;

	c->in_utt = false;
	if (!c->cur)
		return bt_err(EPIPE, "no recogniser is working for this call");
	c->finishing = true;
	err = bt_stt_of(c->cur)->finishh(c->cur, tr);
	/* the current one may have failed inside finish and the next one
	 * answered: then the final is on its way or given */
	if (err != EINPROGRESS)
		c->finishing = false;
	return err;
}

static bool chain_hyp(struct bt_stt_st *st, char *buf, size_t sz)
{
	struct chain *c = (struct chain *)st;
	const struct bt_stt *p = c->cur ? bt_stt_of(c->cur) : NULL;

	return p && p->hyph ? p->hyph(c->cur, buf, sz) : false;
}

static int chain_overlap(struct bt_stt_st *st, struct bt_stt_overlap *ov)
{
	struct chain *c = (struct chain *)st;
	const struct bt_stt *p = c->cur ? bt_stt_of(c->cur) : NULL;

	return p && p->overlaph ? p->overlaph(c->cur, ov) : ENOSYS;
}

static struct bt_stt chain_stt = {
	.name = "chain",
	.starth = chain_start,
	.feedh = chain_feed,
	.hyph = chain_hyp,
	.finishh = chain_finish,
	.overlaph = chain_overlap,
	.listenh = chain_listen,
};

/* A link: a provider name or a section object. */
static int link_add(struct chain *c, const json_t *v)
{
	if (c->n_links >= MAX_LINKS)
		return bt_err(E2BIG, "at most %d recognisers in a chain",
			      MAX_LINKS);
	if (json_is_string(v)) {
		c->own[c->n_links] = json_pack("{s:s}", "provider",
					       json_string_value(v));
		if (!c->own[c->n_links])
			return ENOMEM;
		v = c->own[c->n_links];
	}
	else {
		/* the section may go before the call does */
		c->own[c->n_links] = json_incref((json_t *)v);
	}
	c->links[c->n_links++] = v;
	return 0;
}

int bt_stt_open(struct bt_stt_st **stp, const struct bt_stt_prm *prm)
{
	const json_t *sec = prm ? prm->section : NULL;
	const json_t *nb = json_object_get(sec, "narrowband");
	const json_t *fb = json_object_get(sec, "fallback");
	const struct bt_stt *p;
	struct chain *c;
	const json_t *v;
	size_t i;
	int err;

	if (!stp || !prm)
		return EINVAL;
	if (!fb && !nb) {
		p = bt_stt_find(link_name(sec));
		if (!p)
			return bt_err(ENOENT, "no recogniser \"%s\" is "
				      "registered", link_name(sec));
		return p->alloch(stp, prm);
	}
	c = mem_zalloc(sizeof(*c), chain_destructor);
	if (!c)
		return ENOMEM;
	c->stt = &chain_stt;
	tmr_init(&c->reap);
	c->up = *prm;
	err = grammars_copy(c, prm);
	if (err)
		goto out;
	/* a phone codec's caller: the narrow-band choice first */
	if (nb && prm->call_rate_hz && prm->call_rate_hz <= 8000)
		err = link_add(c, nb);
	else
		err = link_add(c, sec);
	json_array_foreach(fb, i, v)
		if (!err)
			err = link_add(c, v);
	if (err)
		goto out;
	for (c->at = 0; c->at < c->n_links; c->at++) {
		err = link_make(c, c->at, &c->cur);
		if (!err)
			break;
		if (c->at + 1 < c->n_links && prm->failh) {
			char m[800];

			snprintf(m, sizeof(m), "recogniser \"%s\" cannot "
				 "start (%s); \"%s\" takes over",
				 link_name(c->links[c->at]), bt_errmsg(),
				 link_name(c->links[c->at + 1]));
			prm->failh(0, m, prm->arg);
		}
	}
 out:
	if (err)
		mem_deref(c);
	else
		*stp = (struct bt_stt_st *)c;
	return err;
}
