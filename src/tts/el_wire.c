/**
 * @file el_wire.c  ElevenLabs' multi-context messages (el_wire.h): the
 *                  audio, the end of a context, errors, and the character
 *                  alignment made into word timings.
 */
#include <errno.h>
#include <string.h>
#include <re.h>
#include "tts/el_wire.h"

static const double DAY_MS = 86400000.0;
static const double CHUNK_MS = 600000.0;  /* a chunk's own times */

static double clampd(double v, double lo, double hi)
{
	if (!(v >= lo))  /* NaN too */
		return lo;
	return v > hi ? hi : v;
}

int el_msg_read(struct el_msg *m, const uint8_t *buf, size_t n)
{
	json_error_t je;
	json_t *o;

	memset(m, 0, sizeof(*m));
	o = json_loadb((const char *)buf, n, 0, &je);
	if (!json_is_object(o)) {
		json_decref(o);
		return EPROTO;
	}
	m->o = o;
	m->ctx = json_string_value(json_object_get(o, "contextId"));
	if (!m->ctx)
		m->ctx = json_string_value(json_object_get(o, "context_id"));
	m->err = json_string_value(json_object_get(o, "error"));
	if (!m->err)
		m->err = json_string_value(json_object_get(o, "message"));
	m->audio = json_string_value(json_object_get(o, "audio"));
	m->alignment = json_object_get(o, "alignment");
	m->last = json_is_true(json_object_get(o, "isFinal")) ||
		  json_is_true(json_object_get(o, "is_final"));
	return 0;
}

void el_msg_clear(struct el_msg *m)
{
	json_decref(m->o);
	memset(m, 0, sizeof(*m));
}

int el_msg_audio(const struct el_msg *m, int16_t **pcmp, size_t *np)
{
	size_t bl, ol;
	uint8_t *raw;
	int16_t *pcm;
	int err;

	*pcmp = NULL;
	*np = 0;
	if (!m->audio || !*m->audio)
		return 0;
	bl = strlen(m->audio);
	/* libre's decoder skips what is not of the alphabet: check first */
	if (strspn(m->audio, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
		   "0123456789+/=") != bl)
		return EBADMSG;
	ol = bl * 3 / 4 + 4;
	raw = mem_alloc(ol, NULL);
	if (!raw)
		return ENOMEM;
	err = base64_decode(m->audio, bl, raw, &ol);
	if (err) {
		mem_deref(raw);
		return EBADMSG;
	}
	pcm = mem_alloc(ol / 2 * sizeof(int16_t) + 1, NULL);
	if (!pcm) {
		mem_deref(raw);
		return ENOMEM;
	}
	for (size_t i = 0; i < ol / 2; i++)
		pcm[i] = (int16_t)(uint16_t)(raw[2 * i] |
					     (raw[2 * i + 1] << 8));
	mem_deref(raw);
	*pcmp = pcm;
	*np = ol / 2;
	return 0;
}

void el_align_flush(struct el_align *a, struct bt_tts_word *out, size_t *n,
		    size_t max)
{
	if (!a->wlen)
		return;
	if (*n < max) {
		struct bt_tts_word *w = &out[(*n)++];
		double s = clampd(a->wstart, a->last_ms, DAY_MS);
		double e = clampd(a->wend, s, DAY_MS);

		str_ncpy(w->text, a->word, sizeof(w->text));
		w->start_ms = (uint32_t)s;
		w->end_ms = (uint32_t)e;
		a->last_ms = w->end_ms;
	}
	a->wlen = 0;
	a->word[0] = '\0';
}

size_t el_align_read(struct el_align *a, const json_t *alignment,
		     struct bt_tts_word *out, size_t max)
{
	const json_t *ch = json_object_get(alignment, "chars");
	const json_t *t0 = json_object_get(alignment, "charStartTimesMs");
	const json_t *du = json_object_get(alignment, "charDurationsMs");
	size_t i, n = 0;
	const json_t *c;

	json_array_foreach(ch, i, c) {
		const char *s = json_string_value(c);
		double st = a->audio_ms + clampd(json_number_value(
				json_array_get(t0, i)), 0, CHUNK_MS);
		double d = clampd(json_number_value(json_array_get(du, i)),
				  0, CHUNK_MS);
		size_t len;

		if (!s)
			continue;
		if (!strcmp(s, " ") || !*s) {
			el_align_flush(a, out, &n, max);
			continue;
		}
		if (!a->wlen)
			a->wstart = st;
		a->wend = st + d;
		len = strlen(s);
		if (a->wlen + len + 1 < sizeof(a->word)) {
			memcpy(a->word + a->wlen, s, len + 1);
			a->wlen += len;
		}
	}
	return n;
}

void el_align_advance(struct el_align *a, size_t np, unsigned rate_hz)
{
	if (rate_hz)
		a->audio_ms = clampd(a->audio_ms + (double)np * 1000.0 /
				     rate_hz, 0, DAY_MS);
}
