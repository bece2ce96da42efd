/**
 * @file fuzz_speech_wire.c  libFuzzer harness: what a cloud speech
 * provider sends back, through Deepgram's message reader
 * (src/stt/dg_wire.c) and ElevenLabs' (src/tts/el_wire.c), the way a
 * socket hands the providers one message after another.
 *
 * The first byte picks the provider (even: Deepgram, odd: ElevenLabs),
 * the second where the utterance began (Deepgram's t0, in 1/8 s); the
 * rest is messages, separated by NUL bytes (which JSON text cannot hold).
 * Checks what the readers promise: times within a day and in order,
 * confidences within 0 .. 1, words non-empty and terminated, ElevenLabs'
 * word times never going back across chunks, no more words than the
 * room given.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <re.h>
#include "stt/dg_wire.h"
#include "tts/el_wire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_str(const char *s, size_t sz, bool nonempty)
{
	size_t n = strnlen(s, sz);

	if (n == sz || (nonempty && !n))
		abort();
}

static void dg_one(const uint8_t *p, size_t n, double t0)
{
	struct dg_msg m;
	int err = dg_msg_read(&m, p, n, t0);

	if (err && (err != EPROTO || m.type != DG_OTHER))
		abort();
	if (m.n_words > DG_WORDS_MAX || m.event > DG_EV_END ||
	    m.type > DG_ERROR)
		abort();
	for (size_t i = 0; i < m.n_words; i++) {
		const struct dg_word *w = &m.words[i];

		check_str(w->w, sizeof(w->w), true);
		if (!(w->start >= 0 && w->start <= w->end &&
		      w->end <= 86400.0 && w->end >= t0))
			abort();
		if (!(w->conf >= 0.0f && w->conf <= 1.0f))
			abort();
	}
	check_str(m.text, sizeof(m.text), false);
	check_str(m.desc, sizeof(m.desc), false);
	if (!(m.conf >= 0.0f && m.conf <= 1.0f))
		abort();
	if (m.type == DG_ERROR && !m.desc[0])
		abort();
}

static void el_words(const struct el_align *a,
		     const struct bt_tts_word *w, size_t n, size_t max,
		     uint32_t *lastp)
{
	if (n > max)
		abort();
	for (size_t i = 0; i < n; i++) {
		check_str(w[i].text, sizeof(w[i].text), true);
		if (w[i].start_ms < *lastp || w[i].end_ms < w[i].start_ms ||
		    w[i].end_ms > 86400000u)
			abort();
		*lastp = w[i].end_ms;
	}
	if (a->last_ms != *lastp)
		abort();
}

static void el_one(struct el_align *a, uint32_t *lastp, const uint8_t *p,
		   size_t n, size_t max)
{
	struct bt_tts_word w[8];
	struct el_msg m;
	int16_t *pcm;
	size_t np, k;
	int err;

	if (el_msg_read(&m, p, n))
		return;
	err = el_msg_audio(&m, &pcm, &np);
	if (err && (pcm || np))
		abort();
	if (!err && m.audio && np > strlen(m.audio) * 3 / 8 + 2)
		abort();
	for (size_t i = 0; i < np; i++)
		(void)pcm[i];
	mem_deref(pcm);
	k = el_align_read(a, m.alignment, w, max);
	el_words(a, w, k, max, lastp);
	el_align_advance(a, np, 16000);
	if (m.last) {
		k = 0;
		el_align_flush(a, w, &k, max);
		el_words(a, w, k, max, lastp);
		memset(a, 0, sizeof(*a));
		*lastp = 0;
	}
	el_msg_clear(&m);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct el_align a;
	uint32_t last = 0;
	bool dg;
	double t0;
	size_t max;

	if (size < 2)
		return 0;
	dg = !(data[0] & 1);
	max = 1 + (data[0] >> 1) % 8;  /* ElevenLabs: room for words */
	t0 = data[1] / 8.0;
	data += 2;
	size -= 2;
	memset(&a, 0, sizeof(a));
	while (size) {
		const uint8_t *z = memchr(data, 0, size);
		size_t n = z ? (size_t)(z - data) : size;

		if (dg)
			dg_one(data, n, t0);
		else
			el_one(&a, &last, data, n, max);
		data += n + (z ? 1 : 0);
		size -= n + (z ? 1 : 0);
	}
	if (!dg) {
		struct bt_tts_word w[8];
		size_t k = 0;

		el_align_flush(&a, w, &k, max);
		el_words(&a, w, k, max, &last);
	}
	return 0;
}
