/**
 * @file tts.c  TTS front end: voice names, dispatch, and the result
 *              building shared by the providers (tts_int.h).
 */
#include <errno.h>
#include <string.h>
#include "banter/err.h"
#include "banter/tts.h"
#include "tts/tts_int.h"

enum {
	PROVIDER_MAX = 32,   /* bytes of a provider name */
	LIST_MAX = 256,      /* bytes of the provider list in messages */
	FRAME_PER_S = 200,   /* 5 ms frames for the silence scan */
	LEAD_KEEP_MS = 20,   /* silence left before the first sound */
	TAIL_KEEP_MS = 50,   /* and after the last */
	QUIET_FLOOR = 40,    /* frame RMS below this is silence ... */
	QUIET_DB = 40,       /* ... as is anything 40 dB under the peak */
};

void bt_tts_prm_default(struct bt_tts_prm *prm)
{
	if (!prm)
		return;

	memset(prm, 0, sizeof(*prm));
	prm->rate_wpm = 160;
	prm->pitch = 50;
}

int bt_tts_prm_norm(struct bt_tts_prm *out, const struct bt_tts_prm *in)
{
	struct bt_tts_prm p;

	bt_tts_prm_default(&p);
	if (in && in->rate_wpm)
		p.rate_wpm = in->rate_wpm;
	if (in && in->pitch)
		p.pitch = in->pitch;
	p.probe = in && in->probe;

	if (p.rate_wpm < BT_TTS_RATE_MIN || p.rate_wpm > BT_TTS_RATE_MAX)
		return bt_err(EINVAL, "tts: rate_wpm %u is out of range; use "
			      "%u..%u words per minute (0 = 160)", p.rate_wpm,
			      BT_TTS_RATE_MIN, BT_TTS_RATE_MAX);
	if (p.pitch > 100)
		return bt_err(EINVAL, "tts: pitch %u is out of range; use "
			      "1..100 (50 = the voice's own pitch, 0 = 50)",
			      p.pitch);

	*out = p;
	return 0;
}

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' ||
		c == '\f' || c == '\v';
}

/* Punctuation that engines pause on rather than say: a token of these
   alone gets no time of its own. */
static bool is_silent_cp(uint32_t cp)
{
	if (cp < 0x80)
		return strchr("-.,;:!?\"'()[]{}*/\\_~|`", (int)cp) != NULL;

	/* Latin-1 punctuation (no-break space, inverted marks, guillemets),
	   dashes, curly quotes, bullets, ellipsis */
	return (cp >= 0xa0 && cp <= 0xbf && cp != 0xa2 && cp != 0xa3 &&
		cp != 0xa5 && cp != 0xa7 && cp != 0xa9 && cp != 0xae &&
		cp != 0xb0) ||
		(cp >= 0x2010 && cp <= 0x2027);
}

static bool tok_spoken(const char *text, size_t b0, size_t b1)
{
	size_t i = b0;

	while (i < b1) {
		unsigned char c = (unsigned char)text[i];
		uint32_t cp = c;
		size_t len = 1, k;

		if (c >= 0xf0)
			len = 4;
		else if (c >= 0xe0)
			len = 3;
		else if (c >= 0xc0)
			len = 2;

		if (len > 1) {
			cp = c & (0x3f >> (len - 1));
			for (k = 1; k < len && i + k < b1; k++)
				cp = (cp << 6) |
					((unsigned char)text[i + k] & 0x3f);
		}

		if (!is_silent_cp(cp))
			return true;
		i += len;
	}

	return false;
}

int bt_tts_text_split(const char *text, struct bt_tts_tok **toksp,
		      size_t *np)
{
	struct bt_tts_tok *toks = NULL;
	size_t len, i, n = 0;

	if (!text || !toksp || !np)
		return bt_err(EINVAL, "tts: no text given");

	len = strnlen(text, BT_TTS_TEXT_MAX + 1);
	if (len > BT_TTS_TEXT_MAX)
		return bt_err(EMSGSIZE, "tts: text is longer than %u bytes; "
			      "give the speech synthesiser one sentence at a "
			      "time", BT_TTS_TEXT_MAX);

	for (i = 0; i < len; i++) {
		if (!is_space(text[i]) && (i == 0 || is_space(text[i - 1])))
			++n;
	}

	if (n) {
		toks = mem_alloc(n * sizeof(*toks), NULL);
		if (!toks)
			return bt_err(ENOMEM, "tts: out of memory");

		n = 0;
		for (i = 0; i < len; i++) {
			if (is_space(text[i]))
				continue;
			if (i == 0 || is_space(text[i - 1]))
				toks[n++].b0 = i;
			if (i + 1 == len || is_space(text[i + 1])) {
				toks[n - 1].b1 = i + 1;
				toks[n - 1].spoken = tok_spoken(text,
								toks[n - 1].b0,
								i + 1);
			}
		}
	}

	*toksp = toks;
	*np = n;
	return 0;
}

size_t bt_tts_tok_find(const struct bt_tts_tok *toks, size_t n, size_t off)
{
	size_t lo = 0, hi = n;

	/* first token whose end is past off */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (toks[mid].b1 <= off)
			lo = mid + 1;
		else
			hi = mid;
	}

	return lo;
}

static void audio_destructor(void *arg)
{
	struct bt_tts_audio *a = arg;

	mem_deref(a->pcm);
	mem_deref(a->words);
}

int bt_tts_audio_copy(struct bt_tts_audio **ap, const int16_t *pcm, size_t n,
		      uint32_t rate_hz, const struct bt_tts_word *words,
		      size_t n_words)
{
	struct bt_tts_audio *a = mem_zalloc(sizeof(*a), audio_destructor);

	if (!a)
		return bt_err(ENOMEM, "tts: out of memory");
	a->pcm = mem_alloc((n ? n : 1) * sizeof(int16_t), NULL);
	a->words = mem_alloc((n_words ? n_words : 1) * sizeof(*words), NULL);
	if (!a->pcm || !a->words) {
		mem_deref(a);
		return bt_err(ENOMEM, "tts: out of memory");
	}
	if (n)
		memcpy(a->pcm, pcm, n * sizeof(int16_t));
	if (n_words)
		memcpy(a->words, words, n_words * sizeof(*words));
	a->n = n;
	a->rate_hz = rate_hz;
	a->n_words = n_words;
	*ap = a;
	return 0;
}

static uint64_t frame_energy(const int16_t *pcm, size_t n)
{
	uint64_t e = 0;
	size_t i;

	for (i = 0; i < n; i++)
		e += (uint64_t)((int32_t)pcm[i] * pcm[i]);

	return n ? e / n : 0;
}

static bool frame_quiet(const int16_t *pcm, size_t n, size_t at,
			size_t frame, uint64_t thresh)
{
	size_t len = at + frame <= n ? frame : n - at;

	return frame_energy(pcm + at, len) < thresh;
}

/* Mean-square level under which a frame counts as silence. */
static uint64_t quiet_thresh(const int16_t *pcm, size_t n, size_t frame)
{
	uint64_t peak = 0, t;
	size_t i;

	for (i = 0; i < n; i += frame) {
		uint64_t e = frame_energy(pcm + i, i + frame <= n ?
					  frame : n - i);
		if (e > peak)
			peak = e;
	}

	/* 40 dB under the peak in power is a factor of 10^4 */
	t = peak / 10000;
	if (t < (uint64_t)QUIET_FLOOR * QUIET_FLOOR)
		t = (uint64_t)QUIET_FLOOR * QUIET_FLOOR;

	return t;
}

static uint32_t ms_of(size_t samples, uint32_t rate_hz)
{
	return (uint32_t)(((uint64_t)samples * 1000 + rate_hz / 2) / rate_hz);
}

static size_t samples_of(uint32_t ms, uint32_t rate_hz)
{
	return (size_t)((uint64_t)ms * rate_hz / 1000);
}

/* Pull a word's end back over the silence that closes it (a pause at a
   comma belongs to no word). */
static uint32_t word_end_trim(const int16_t *pcm, size_t n, uint32_t rate_hz,
			      size_t frame, uint64_t thresh, uint32_t start_ms,
			      uint32_t end_ms)
{
	size_t s = samples_of(start_ms, rate_hz);
	size_t e = samples_of(end_ms, rate_hz);

	if (e > n)
		e = n;

	while (e >= s + 2 * frame &&
	       frame_quiet(pcm, n, e - frame, frame, thresh))
		e -= frame;

	return e < samples_of(end_ms, rate_hz) ? ms_of(e, rate_hz) : end_ms;
}

static void word_text(char *dst, size_t size, const char *text,
		      const struct bt_tts_tok *tok)
{
	size_t len = tok->b1 - tok->b0;

	if (len >= size) {
		len = size - 1;
		/* never cut a UTF-8 sequence in half */
		while (len > 0 &&
		       ((unsigned char)text[tok->b0 + len] & 0xc0) == 0x80)
			--len;
	}

	memcpy(dst, text + tok->b0, len);
	dst[len] = '\0';
}

int bt_tts_audio_build(struct bt_tts_audio **ap, const char *text,
		       const struct bt_tts_tok *toks,
		       const struct bt_tts_span *spans, size_t n_toks,
		       int16_t *pcm, size_t n, uint32_t rate_hz,
		       bool trim_word_ends)
{
	struct bt_tts_audio *a = NULL;
	size_t frame, head = 0, tail, i;
	uint32_t cut_ms, len_ms, cursor = 0;
	uint64_t thresh;
	int err = 0;

	if (!ap || !rate_hz || (n_toks && (!text || !toks || !spans))) {
		err = bt_err(EINVAL, "tts: bad arguments to build the audio");
		goto out;
	}

	a = mem_zalloc(sizeof(*a), audio_destructor);
	if (!a) {
		err = bt_err(ENOMEM, "tts: out of memory");
		goto out;
	}
	a->rate_hz = rate_hz;

	if (n_toks) {
		a->words = mem_zalloc(n_toks * sizeof(*a->words), NULL);
		if (!a->words) {
			err = bt_err(ENOMEM, "tts: out of memory");
			goto out;
		}
		a->n_words = n_toks;
	}

	frame = rate_hz / FRAME_PER_S;
	if (!frame)
		frame = 1;
	thresh = quiet_thresh(pcm, n, frame);

	/* first and last frame with sound */
	while (head < n && frame_quiet(pcm, n, head, frame, thresh))
		head += frame;
	tail = n;
	while (tail > head && frame_quiet(pcm, n, (tail - 1) / frame * frame,
					  frame, thresh))
		tail = (tail - 1) / frame * frame;

	if (head >= n) {
		head = 0;
		tail = 0;
	}
	else {
		size_t keep = samples_of(LEAD_KEEP_MS, rate_hz);

		head = head > keep ? head - keep : 0;
		tail += samples_of(TAIL_KEEP_MS, rate_hz);
		if (tail > n)
			tail = n;
	}

	cut_ms = ms_of(head, rate_hz);
	len_ms = ms_of(tail - head, rate_hz);

	for (i = 0; i < n_toks; i++) {
		struct bt_tts_word *w = &a->words[i];
		uint32_t s = cursor, e = cursor;

		word_text(w->text, sizeof(w->text), text, &toks[i]);

		if (spans[i].set) {
			uint32_t end = spans[i].end_ms;

			if (trim_word_ends && end > spans[i].start_ms)
				end = word_end_trim(pcm, n, rate_hz, frame,
						    thresh, spans[i].start_ms,
						    end);

			s = spans[i].start_ms > cut_ms ?
				spans[i].start_ms - cut_ms : 0;
			e = end > cut_ms ? end - cut_ms : 0;
			if (s > len_ms)
				s = len_ms;
			if (e > len_ms)
				e = len_ms;
			if (s < cursor)
				s = cursor;
			if (e < s)
				e = s;
		}

		w->start_ms = s;
		w->end_ms = e;
		cursor = e;
	}

	if (tail > head) {
		memmove(pcm, pcm + head, (tail - head) * sizeof(*pcm));
		a->pcm = pcm;
		a->n = tail - head;
		pcm = NULL;
	}

 out:
	mem_deref(pcm);
	if (err)
		mem_deref(a);
	else
		*ap = a;

	return err;
}

/* "espeak, flite" into buf: the providers registered now. */
static void provider_list(char *buf, size_t size)
{
	const struct bt_tts *p = bt_tts_find(NULL);
	const struct le *le;
	size_t len = 0;

	buf[0] = '\0';
	for (le = p ? &p->le : NULL; le; le = le->next) {
		const struct bt_tts *t = le->data;
		int r = re_snprintf(buf + len, size - len, "%s%s",
				    len ? ", " : "", t->name);

		if (r < 0)
			break;
		len += (size_t)r;
	}
}

int bt_tts_open(struct bt_tts_st **stp, const char *voice_full,
		const struct bt_tts_prm *prm)
{
	char name[PROVIDER_MAX], list[LIST_MAX];
	const struct bt_tts *tts;
	const char *colon, *voice;
	struct bt_tts_prm p;
	size_t len;
	int err;

	if (!stp || !voice_full)
		return bt_err(EINVAL, "tts: no voice name given; use "
			      "\"provider:voice\", e.g. \"espeak:en-us\"");

	colon = strchr(voice_full, ':');
	len = colon ? (size_t)(colon - voice_full) : strlen(voice_full);
	voice = colon ? colon + 1 : "";

	if (len >= sizeof(name))
		len = sizeof(name) - 1;
	memcpy(name, voice_full, len);
	name[len] = '\0';

	tts = bt_tts_find(name);
	if (!tts || !len) {
		provider_list(list, sizeof(list));
		if (!list[0])
			return bt_err(ENOENT, "tts: no speech synthesiser is "
				      "running; start one with "
				      "bt_tts_espeak_init() or "
				      "bt_tts_flite_init()");

		return bt_err(ENOENT, "tts: unknown provider \"%s\" in voice "
			      "\"%s\"; use one of: %s (a voice is named "
			      "provider:voice, e.g. espeak:en-us+f3, "
			      "flite:slt)", name, voice_full, list);
	}

	err = bt_tts_prm_norm(&p, prm);
	if (err)
		return err;

	{
		struct bt_tts_st *inner = NULL;

		err = tts->alloch(&inner, voice, &p);
		if (err)
			return err;
		/* a network voice too: the session keeps its fillers there */
		return bt_tts_cache_wrap(stp, inner, name, voice, &p);
	}
}

int bt_tts_synth(struct bt_tts_st *st, const char *text,
		 struct bt_tts_audio **audiop)
{
	const struct bt_tts *tts;

	if (!st || !text || !audiop)
		return bt_err(EINVAL, "tts: synth needs a voice, a text and "
			      "a result pointer");

	/* every instance starts with a pointer to its provider */
	tts = *(const struct bt_tts * const *)(void *)st;

	return tts->synthh(st, text, audiop);
}
