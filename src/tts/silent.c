/**
 * @file silent.c  Test and benchmark voice "silent": a sentence becomes
 *                 as much silence as saying it would take, with the word
 *                 timings a real voice gives, and no synthesis.
 *
 * "silent:60" gives every spoken word 60 ms; "silent:" paces words by
 * persona.rate_wpm (160 words a minute: 375 ms each). Punctuation alone
 * ("--") takes no time, as with the real voices (tts_int.h's tokens).
 * The output queue, the playback cursor, barge-in and "what the user
 * heard" then work as with a real voice, at the cost of a memset: the
 * engine's own ceiling (bench_engine, bench/sip_load.sh --scripted) and
 * tests that need a reply's timing but not its sound.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <re.h>
#include "banter/banter.h"
#include "tts/tts_int.h"

enum {
	WORD_MIN_MS = 10,
	WORD_MAX_MS = 5000,
};

struct silent {
	const struct bt_tts *tts;  /* first: see bt_tts_of() */
	uint32_t word_ms;
};

static struct bt_tts silent_tts;

static void audio_destructor(void *arg)
{
	struct bt_tts_audio *a = arg;

	mem_deref(a->pcm);
	mem_deref(a->words);
}

/* "" or "rate": by the persona's rate; else whole milliseconds. */
static int word_ms_parse(const char *voice, uint32_t rate_wpm, uint32_t *msp)
{
	char *end = NULL;
	unsigned long v;

	if (!voice[0] || !strcmp(voice, "rate")) {
		*msp = 60000u / (rate_wpm ? rate_wpm : 160);
		return 0;
	}
	v = voice[0] >= '0' && voice[0] <= '9' ? strtoul(voice, &end, 10) : 0;
	if (!end || *end || v < WORD_MIN_MS || v > WORD_MAX_MS)
		return bt_err(EINVAL, "silent voice \"%s\": after \"silent:\" "
			      "comes the milliseconds each word lasts (%d to "
			      "%d, e.g. \"silent:60\"), or nothing to pace "
			      "words by persona.rate_wpm", voice, WORD_MIN_MS,
			      WORD_MAX_MS);
	*msp = (uint32_t)v;
	return 0;
}

static int silent_alloc(struct bt_tts_st **stp, const char *voice,
			const struct bt_tts_prm *prm)
{
	struct silent *t;
	uint32_t ms = 0;
	int err = word_ms_parse(voice, prm->rate_wpm, &ms);

	if (err)
		return err;
	t = mem_zalloc(sizeof(*t), NULL);
	if (!t)
		return bt_err(ENOMEM, "tts: out of memory");
	t->tts = &silent_tts;
	t->word_ms = ms;
	*stp = (struct bt_tts_st *)t;
	return 0;
}

static int silent_synth(struct bt_tts_st *st, const char *text,
			struct bt_tts_audio **ap)
{
	const struct silent *t = (const struct silent *)st;
	struct bt_tts_tok *toks = NULL;
	struct bt_tts_audio *a;
	size_t n_toks = 0, nw = 0;
	uint32_t at = 0;
	int err;

	err = bt_tts_text_split(text, &toks, &n_toks);
	if (err)
		return err;
	a = mem_zalloc(sizeof(*a), audio_destructor);
	if (!a) {
		err = ENOMEM;
		goto out;
	}
	a->rate_hz = BT_RATE_HZ;
	a->words = mem_zalloc((n_toks ? n_toks : 1) * sizeof(*a->words), NULL);
	if (!a->words) {
		err = ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < n_toks; i++) {
		struct bt_tts_word *w = &a->words[nw];
		size_t len = toks[i].b1 - toks[i].b0;

		if (!toks[i].spoken)
			continue;
		if (len >= sizeof(w->text))
			len = sizeof(w->text) - 1;
		memcpy(w->text, text + toks[i].b0, len);
		w->text[len] = '\0';
		w->start_ms = at;
		at += t->word_ms;
		w->end_ms = at;
		++nw;
	}
	if ((uint64_t)at > (uint64_t)BT_TTS_AUDIO_MAX_S * 1000) {
		err = bt_err(E2BIG, "silent voice: the sentence would last "
			     "%u s, more than %d s", at / 1000,
			     BT_TTS_AUDIO_MAX_S);
		goto out;
	}
	a->n_words = nw;
	a->n = (size_t)at * (BT_RATE_HZ / 1000);
	a->pcm = mem_zalloc((a->n ? a->n : 1) * sizeof(int16_t), NULL);
	if (!a->pcm) {
		err = ENOMEM;
		goto out;
	}
 out:
	mem_deref(toks);
	if (err) {
		mem_deref(a);
		return err == ENOMEM ? bt_err(ENOMEM, "tts: out of memory") :
			err;
	}
	*ap = a;
	return 0;
}

static struct bt_tts silent_tts = {
	.name = "silent",
	.alloch = silent_alloc,
	.synthh = silent_synth,
};

int bt_tts_silent_init(void)
{
	if (!bt_tts_find("silent"))
		bt_tts_register(&silent_tts);
	return 0;
}
