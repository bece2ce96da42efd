/**
 * @file dg_wire.c  Deepgram's live messages read into struct dg_msg
 *                  (dg_wire.h): Results, TurnInfo (Flux), SpeechStarted,
 *                  UtteranceEnd and Error, as the API documents them.
 *
 * A server's numbers are not trusted: a time is a number of seconds
 * within a day, a confidence within 0 .. 1, so that nothing past here
 * (word timings, the slots' confidence bands) meets a value it cannot
 * hold.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include "banter/json.h"
#include "stt/dg_wire.h"
#include "stt/stt_int.h"

static const double DAY_S = 86400.0;

static double clampd(double v, double lo, double hi)
{
	if (!(v >= lo))  /* NaN too */
		return lo;
	return v > hi ? hi : v;
}

static size_t words_read(struct dg_word *out, size_t max, const json_t *ws,
			 double t0)
{
	size_t i, n = 0;
	const json_t *w;

	json_array_foreach(ws, i, w) {
		const char *s = json_string_value(json_object_get(w, "word"));
		const json_t *c = json_object_get(w, "confidence");
		double end = clampd(json_number_value(json_object_get(w,
					"end")), 0, DAY_S);
		double start = clampd(json_number_value(json_object_get(w,
					"start")), 0, end);

		if (!s || n >= max || end < t0)
			continue;
		stt_text_norm(out[n].w, sizeof(out[n].w), s);
		if (!out[n].w[0])
			continue;
		out[n].start = start;
		out[n].end = end;
		out[n].conf = json_is_number(c) ?
			(float)clampd(json_number_value(c), 0, 1) : 0.9f;
		++n;
	}
	return n;
}

static void read_results(struct dg_msg *m, const json_t *o, double t0)
{
	const json_t *alt = json_array_get(json_object_get(
		json_object_get(o, "channel"), "alternatives"), 0);

	m->is_final = json_is_true(json_object_get(o, "is_final"));
	m->from_finalize = json_is_true(json_object_get(o, "from_finalize"));
	m->speech_final = json_is_true(json_object_get(o, "speech_final"));
	m->n_words = words_read(m->words, DG_WORDS_MAX,
				json_object_get(alt, "words"), t0);
}

static void read_turninfo(struct dg_msg *m, const json_t *o)
{
	static const struct {
		const char *name;
		enum dg_event ev;
	} evs[] = {
		{"StartOfTurn", DG_EV_START},
		{"EagerEndOfTurn", DG_EV_EAGER},
		{"TurnResumed", DG_EV_RESUMED},
		{"EndOfTurn", DG_EV_END},
	};
	const char *ev = json_string_value(json_object_get(o, "event"));
	const char *tx = json_string_value(json_object_get(o, "transcript"));
	const json_t *w;
	double sum = 0;
	size_t i, n = 0;

	if (!ev) {
		m->type = DG_OTHER;
		return;
	}
	for (i = 0; i < sizeof(evs) / sizeof(evs[0]); i++)
		if (!strcmp(ev, evs[i].name))
			m->event = evs[i].ev;
	if (tx)  /* the same words as the word list gives */
		stt_text_norm(m->text, sizeof(m->text), tx);
	json_array_foreach(json_object_get(o, "words"), i, w) {
		sum += clampd(json_number_value(json_object_get(w,
			"confidence")), 0, 1);
		++n;
	}
	m->conf = n ? (float)(sum / (double)n) : 0.9f;
}

int dg_msg_read(struct dg_msg *m, const uint8_t *buf, size_t n, double t0)
{
	json_error_t je;
	json_t *o;
	const char *type;

	memset(m, 0, sizeof(*m));
	o = json_loadb((const char *)buf, n, 0, &je);
	if (!json_is_object(o)) {
		json_decref(o);
		return EPROTO;
	}
	type = json_string_value(json_object_get(o, "type"));
	if (!type) {
		/* an error body ({"err_code", "err_msg"}) comes with the
		 * refused upgrade, not as a message: nothing to do */
	}
	else if (!strcmp(type, "Results")) {
		m->type = DG_RESULTS;
		read_results(m, o, t0);
	}
	else if (!strcmp(type, "TurnInfo")) {
		m->type = DG_TURNINFO;
		read_turninfo(m, o);
	}
	else if (!strcmp(type, "SpeechStarted")) {
		m->type = DG_SPEECH_STARTED;
	}
	else if (!strcmp(type, "UtteranceEnd")) {
		m->type = DG_UTTERANCE_END;
	}
	else if (!strcmp(type, "Error")) {
		const char *d = json_string_value(json_object_get(o,
						  "description"));

		m->type = DG_ERROR;
		snprintf(m->desc, sizeof(m->desc), "%s",
			 d && *d ? d : "(no description)");
	}
	json_decref(o);
	return 0;
}
