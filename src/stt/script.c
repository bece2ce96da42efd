/**
 * @file script.c  Test and benchmark recogniser "script": it decodes
 *                 nothing and "hears" the words the agent file gives it.
 *
 * Each utterance gets the next entry of stt.words (cycling), as a partial
 * once stt.delay_ms of its audio has been fed (counted from the speech
 * start, the VAD's pre-roll included) and as the final. An utterance
 * shorter than that is heard as nothing and does not use an entry, as a
 * real recogniser finds no words in a click. The audio itself is never
 * read: the session, the turn manager and the brain run as they would
 * with a real recogniser, without a model's cost (bench_engine, the
 * telephony ceiling of bench/sip_load.sh) or its mistakes (tests of a
 * flow driven by known words).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <re.h>
#include "banter/banter.h"
#include "stt/stt_int.h"

enum {
	WORDS_MAX = 32,        /* entries of stt.words */
	WORD_LEN = 256,        /* bytes of one entry, normalised */
	DELAY_DEFAULT_MS = 200,
	DELAY_MAX_MS = 60000,
};

#define CONF_DEFAULT 0.95

struct script {
	const struct bt_stt *stt;  /* first: see bt_stt_of() */
	char (*words)[WORD_LEN];   /* mem_alloc'd, n entries */
	size_t n, next;            /* next: the entry the utterance gets */
	size_t fed, delay;         /* samples of this utterance, and the
				      number before its words show */
	bool sent;
	float conf;
	bt_stt_partial_h *partialh;
	void *arg;
};

static struct bt_stt script_stt;

static const char *const script_keys[] = {
	"words", "delay_ms", "confidence", NULL,
};

/* An entry must still hold a word once normalised as the slot parsers
 * read it ("Two people!" -> "two people"). */
static int word_check(const json_t *v, const char *path, size_t i,
		      bool list)
{
	char norm[WORD_LEN], at[32] = "";

	if (list)
		snprintf(at, sizeof(at), "[%zu]", i);
	if (!json_is_string(v) || !json_string_length(v) ||
	    json_string_length(v) >= WORD_LEN)
		return bt_err(EINVAL, "\"%s.words%s\" must be a string of 1 "
			      "to %d characters: what the recogniser hears in "
			      "an utterance", path, at, WORD_LEN - 1);
	stt_text_norm(norm, sizeof(norm), json_string_value(v));
	if (!norm[0])
		return bt_err(EINVAL, "\"%s.words%s\" is \"%s\", which holds "
			      "no word (letters or digits)", path, at,
			      json_string_value(v));
	return 0;
}

static int script_check(const json_t *sec, const char *path,
			const char **pathp)
{
	const json_t *w = json_object_get(sec, "words");
	const json_t *d = json_object_get(sec, "delay_ms");
	const json_t *c = json_object_get(sec, "confidence");
	size_t i;
	json_t *v;

	if (!path)
		path = "stt";
	if (!w) {
		*pathp = "provider";
		return bt_err(EINVAL, "\"%s\": the recogniser \"script\" needs "
			      "\"words\": a string, or a list of them given "
			      "one per utterance in turn, e.g. [\"two "
			      "people\", \"saturday\"]", path);
	}
	if (json_is_array(w)) {
		if (!json_array_size(w) || json_array_size(w) > WORDS_MAX) {
			*pathp = "words";
			return bt_err(EINVAL, "\"%s.words\" must list 1 to "
				      "%d utterances", path, WORDS_MAX);
		}
		json_array_foreach(w, i, v) {
			if (word_check(v, path, i, true)) {
				*pathp = "words";
				return EINVAL;
			}
		}
	}
	else if (word_check(w, path, 0, false)) {
		*pathp = "words";
		return EINVAL;
	}
	if (d && (!json_is_integer(d) || json_integer_value(d) < 0 ||
		  json_integer_value(d) > DELAY_MAX_MS)) {
		*pathp = "delay_ms";
		return bt_err(EINVAL, "\"%s.delay_ms\" must be a whole number "
			      "of milliseconds from 0 to %d: how much of an "
			      "utterance passes before its words show", path,
			      DELAY_MAX_MS);
	}
	if (c && (!json_is_number(c) || json_number_value(c) < 0 ||
		  json_number_value(c) > 1)) {
		*pathp = "confidence";
		return bt_err(EINVAL, "\"%s.confidence\" must be a number "
			      "from 0 to 1", path);
	}
	return 0;
}

static void script_destructor(void *arg)
{
	struct script *s = arg;

	mem_deref(s->words);
}

static int script_alloc(struct bt_stt_st **stp, const struct bt_stt_prm *prm)
{
	const json_t *sec = prm->section;
	const json_t *w = json_object_get(sec, "words");
	const json_t *d = json_object_get(sec, "delay_ms");
	const json_t *c = json_object_get(sec, "confidence");
	struct script *s;
	size_t n = json_is_array(w) ? json_array_size(w) : 1;
	int err;

	/* a section not checked by the agent loader (a library user's) */
	err = script_check(sec, "stt", &(const char *){NULL});
	if (err)
		return err;
	s = mem_zalloc(sizeof(*s), script_destructor);
	if (!s)
		return ENOMEM;
	s->stt = &script_stt;
	s->words = mem_zalloc(n * sizeof(*s->words), NULL);
	if (!s->words) {
		mem_deref(s);
		return ENOMEM;
	}
	for (size_t i = 0; i < n; i++)
		stt_text_norm(s->words[i], sizeof(s->words[i]),
			      json_string_value(json_is_array(w) ?
						json_array_get(w, i) : w));
	s->n = n;
	s->delay = (size_t)(d ? json_integer_value(d) : DELAY_DEFAULT_MS) *
		(BT_RATE_HZ / 1000);
	s->conf = (float)(c ? json_number_value(c) : CONF_DEFAULT);
	s->partialh = prm->partialh;
	s->arg = prm->arg;
	*stp = (struct bt_stt_st *)s;
	return 0;
}

static int script_start(struct bt_stt_st *st, const char *grammar,
			bool overlap)
{
	struct script *s = (struct script *)st;

	(void)grammar;  /* the words are the agent file's, whatever is asked */
	(void)overlap;  /* no overlap classifier */
	s->fed = 0;
	s->sent = false;
	return 0;
}

static int script_feed(struct bt_stt_st *st, const int16_t *pcm, size_t n)
{
	struct script *s = (struct script *)st;

	(void)pcm;
	s->fed += n;
	if (!s->sent && s->fed >= s->delay) {
		s->sent = true;
		if (s->partialh)
			s->partialh(s->words[s->next], s->arg);
	}
	return 0;
}

static bool script_hyp(struct bt_stt_st *st, char *buf, size_t sz)
{
	struct script *s = (struct script *)st;

	str_ncpy(buf, s->sent ? s->words[s->next] : "", sz);
	return true;
}

static int script_finish(struct bt_stt_st *st, struct bt_transcript *tr)
{
	struct script *s = (struct script *)st;

	if (!s->sent) {
		tr->text[0] = '\0';
		tr->confidence = 0;
		return 0;
	}
	str_ncpy(tr->text, s->words[s->next], sizeof(tr->text));
	tr->confidence = s->conf;
	s->next = (s->next + 1) % s->n;
	s->sent = false;
	return 0;
}

static struct bt_stt script_stt = {
	.name = "script",
	.alloch = script_alloc,
	.starth = script_start,
	.feedh = script_feed,
	.hyph = script_hyp,
	.finishh = script_finish,
	.checkh = script_check,
	.keys = script_keys,
};

int bt_stt_script_init(void)
{
	if (!bt_stt_find("script"))
		bt_stt_register(&script_stt);
	return 0;
}
