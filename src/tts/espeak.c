/**
 * @file espeak.c  eSpeak NG provider "espeak" (voices "en-us", "en-us+f3"..).
 *
 * espeak-ng keeps its voice, rate and output callback in globals and is not
 * thread-safe, so one service thread owns it: it initialises the library in
 * synchronous mode and runs the requests that synth() calls post from any
 * thread, one at a time. Each request carries its voice, rate and pitch, so
 * instances with different voices can share the library. A request costs a
 * context switch each way, which is nothing next to the synthesis.
 */
#include <errno.h>
#include <pthread.h>
#include <string.h>
#include <strings.h>
#include <espeak-ng/espeak_ng.h>
#include "banter/err.h"
#include "banter/tts.h"
#include "tts/tts_int.h"

enum {
	VOICE_MAX = 64,
	MSG_MAX = 256,
	DEFAULT_HZ = 22050,
};

/*
 * espeak's rate is nominal: asked for 160 it says about 200 words a minute
 * of ordinary English. Measured (espeak-ng 1.51, en-us, four sentences of
 * agent talk with their pauses), the words per minute it says are 1.23
 * times the value it is given, from 100 to 300 wpm; so it gets 0.81 times
 * the rate we want (120 -> 119, 160 -> 161, 240 -> 238 wpm measured). Its
 * floor of 80 means nothing slower than about 104 wpm.
 */
#define RATE_SCALE 0.81
#define ESPEAK_RATE_MIN 80 /* espeak's own floor */
#define ESPEAK_RATE_MAX 450

struct bt_tts_st {
	const struct bt_tts *tts;  /* first: bt_tts_synth dispatches on it */
	char voice[VOICE_MAX];     /* resolved: what SetVoiceByName takes */
	struct bt_tts_prm prm;
};

/* A word start (from espeakEVENT_WORD) or a clause end (espeakEVENT_END). */
struct mark {
	uint32_t char_pos;   /* 1-based, in characters */
	uint32_t ms;
	bool word;
};

struct req {
	struct le le;

	/* in: text NULL resolves the voice name into resolved */
	const char *text;
	const char *voice;        /* for synthesis: a resolved name */
	int rate;
	int pitch;

	/* out, written by the service thread */
	int err;
	char msg[MSG_MAX];
	char resolved[VOICE_MAX];
	int16_t *pcm;
	size_t n;
	size_t cap;
	struct mark *marks;
	size_t n_marks;
	size_t cap_marks;
	bool done;
};

static struct {
	pthread_mutex_t mtx;
	pthread_cond_t work;     /* a request was posted, or stop */
	pthread_cond_t done;     /* a request finished, or init ended */
	struct list reqs;
	pthread_t thread;
	bool started;            /* thread exists (to join) */
	bool running;            /* espeak is up, requests are taken */
	bool init_done;
	bool stop;
	int init_err;
	char init_msg[MSG_MAX];
	uint32_t rate_hz;
} esp = {
	.mtx = PTHREAD_MUTEX_INITIALIZER,
	.work = PTHREAD_COND_INITIALIZER,
	.done = PTHREAD_COND_INITIALIZER,
};

/*
 * Service thread only. espeak-ng is initialised once per process and
 * never terminated: in 1.51 espeak_ng_Terminate leaves its internal fifo
 * thread's "command running" flag set, so after a re-initialisation the
 * next Terminate waits forever. Its memory stays reachable from its
 * globals; a restarted service thread takes the library over as it is.
 */
static bool lib_up;
static struct req *cur_req;
static char cur_voice[VOICE_MAX];

/*
 * Voices already resolved, on the service thread. espeak-ng 1.51 leaks
 * ~2.7 KB each time it loads a voice, and resolving one loads it: without
 * this, every session that opened the agent's voice grew a long-running
 * server (1000 opens: +2.7 MB).
 */
static struct {
	char asked[VOICE_MAX], resolved[VOICE_MAX];
} known[32];
static size_t n_known;

static int esp_alloc(struct bt_tts_st **stp, const char *voice,
		     const struct bt_tts_prm *prm);
static int esp_synth(struct bt_tts_st *st, const char *text,
		     struct bt_tts_audio **audiop);

static struct bt_tts esp_tts = {
	.name = "espeak",
	.alloch = esp_alloc,
	.synthh = esp_synth,
};

static void req_fail(struct req *r, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void req_fail(struct req *r, int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(r->msg, sizeof(r->msg), fmt, ap);
	va_end(ap);
	r->err = err;
}

static int grow(void **bufp, size_t *capp, size_t need, size_t elem)
{
	size_t cap = *capp ? *capp : 4096;
	void *p;

	if (need <= *capp)
		return 0;
	while (cap < need)
		cap *= 2;

	/* mem_realloc does not take NULL */
	p = *bufp ? mem_realloc(*bufp, cap * elem) : mem_alloc(cap * elem,
								 NULL);
	if (!p)
		return ENOMEM;

	*bufp = p;
	*capp = cap;
	return 0;
}

/* Called by espeak inside espeak_ng_Synthesize, on the service thread;
   returning 1 stops the synthesis. */
static int synth_cb(short *wav, int num, espeak_EVENT *ev)
{
	struct req *r = cur_req;
	size_t max = (size_t)esp.rate_hz * BT_TTS_AUDIO_MAX_S;

	if (!r || r->err)
		return 1;

	if (wav && num > 0) {
		if (r->n + (size_t)num > max) {
			req_fail(r, EFBIG, "espeak: the text makes more than "
				 "%d s of audio; give it one sentence at a "
				 "time", BT_TTS_AUDIO_MAX_S);
			return 1;
		}
		if (grow((void **)&r->pcm, &r->cap, r->n + (size_t)num,
			 sizeof(*r->pcm))) {
			req_fail(r, ENOMEM, "espeak: out of memory");
			return 1;
		}
		memcpy(r->pcm + r->n, wav, (size_t)num * sizeof(*r->pcm));
		r->n += (size_t)num;
	}

	for (; ev && ev->type != espeakEVENT_LIST_TERMINATED; ev++) {
		struct mark *m;

		if (ev->type != espeakEVENT_WORD &&
		    ev->type != espeakEVENT_END)
			continue;
		if (ev->text_position < 1 || ev->audio_position < 0)
			continue;
		if (grow((void **)&r->marks, &r->cap_marks, r->n_marks + 1,
			 sizeof(*r->marks))) {
			req_fail(r, ENOMEM, "espeak: out of memory");
			return 1;
		}

		m = &r->marks[r->n_marks++];
		m->char_pos = (uint32_t)ev->text_position;
		m->ms = (uint32_t)ev->audio_position;
		m->word = ev->type == espeakEVENT_WORD;
	}

	return 0;
}

static void unknown_voice(struct req *r)
{
	req_fail(r, ENOENT, "unknown espeak voice \"%s\"; try en-us, "
		 "en-us+f3, en-gb+m3 (espeak-ng --voices lists them)",
		 r->voice);
}

/* Service thread: find the identifier of a voice variant ("m3"). */
static bool variant_exists(const char *variant)
{
	const espeak_VOICE **v;
	espeak_VOICE spec;

	memset(&spec, 0, sizeof(spec));
	spec.languages = "variant";
	for (v = espeak_ListVoices(&spec); v && *v; v++) {
		const char *id = (*v)->identifier;

		if (id && !strncmp(id, "!v/", 3) &&
		    !strcasecmp(id + 3, variant))
			return true;
	}

	return false;
}

/* Service thread: the identifier of the best voice for a language
   ("en-gb" -> "gmw/en"), or NULL. */
static const char *voice_for_language(const char *lang)
{
	const espeak_VOICE **v;
	const char *best = NULL;
	int best_prio = 0x7fffffff;

	for (v = espeak_ListVoices(NULL); v && *v; v++) {
		const char *id = (*v)->identifier, *l;

		/* mbrola voices need mbrola, which is not installed */
		if (!id || !(*v)->languages || !strncmp(id, "mb/", 3))
			continue;

		/* languages: (priority byte, name, NUL) pairs, then NUL */
		for (l = (*v)->languages; *l; l += strlen(l + 1) + 2) {
			if (!strcasecmp(l + 1, lang) && *l < best_prio) {
				best = id;
				best_prio = *l;
			}
		}
	}

	return best;
}

/*
 * Service thread: turn a voice as people write it ("en-gb+m3") into a name
 * espeak_ng_SetVoiceByName takes ("gmw/en+m3"). By name espeak only finds
 * voice names and file names, and it silently ignores an unknown variant.
 */
static void resolve_voice(struct req *r)
{
	char base[VOICE_MAX];
	const char *plus = strchr(r->voice, '+'), *variant = NULL;
	const char *id;
	size_t len = plus ? (size_t)(plus - r->voice) : strlen(r->voice);
	int n;

	for (size_t i = 0; i < n_known; i++) {
		if (!strcmp(known[i].asked, r->voice)) {
			str_ncpy(r->resolved, known[i].resolved,
				 sizeof(r->resolved));
			return;
		}
	}
	if (len >= sizeof(base))
		len = sizeof(base) - 1;
	memcpy(base, r->voice, len);
	base[len] = '\0';
	if (!base[0])
		str_ncpy(base, "en-us", sizeof(base));

	if (plus) {
		variant = plus + 1;
		if (!*variant || !variant_exists(variant))
			goto unknown;
	}

	if (espeak_ng_SetVoiceByName(base) == ENS_OK) {
		id = base;
	}
	else {
		id = voice_for_language(base);
		if (!id)
			goto unknown;
	}

	n = snprintf(r->resolved, sizeof(r->resolved), "%s%s%s", id,
		     variant ? "+" : "", variant ? variant : "");
	if (n < 0 || (size_t)n >= sizeof(r->resolved))
		goto unknown;

	cur_voice[0] = '\0';
	if (espeak_ng_SetVoiceByName(r->resolved) != ENS_OK)
		goto unknown;
	str_ncpy(cur_voice, r->resolved, sizeof(cur_voice));
	if (n_known < sizeof(known) / sizeof(known[0])) {
		str_ncpy(known[n_known].asked, r->voice,
			 sizeof(known[0].asked));
		str_ncpy(known[n_known].resolved, r->resolved,
			 sizeof(known[0].resolved));
		++n_known;
	}
	return;

 unknown:
	cur_voice[0] = '\0';
	unknown_voice(r);
}

/* Service thread: run one request. */
static void run_req(struct req *r)
{
	espeak_ng_STATUS st;
	char buf[MSG_MAX / 2];

	if (!r->text) {
		resolve_voice(r);
		return;
	}

	if (strcmp(r->voice, cur_voice)) {
		st = espeak_ng_SetVoiceByName(r->voice);
		if (st != ENS_OK) {
			/* a failed load may leave any voice behind */
			cur_voice[0] = '\0';
			unknown_voice(r);
			return;
		}
		str_ncpy(cur_voice, r->voice, sizeof(cur_voice));
	}

	espeak_ng_SetParameter(espeakRATE, r->rate, 0);
	espeak_ng_SetParameter(espeakPITCH, r->pitch, 0);

	cur_req = r;
	st = espeak_ng_Synthesize(r->text, strlen(r->text) + 1, 0,
				  POS_CHARACTER, 0, espeakCHARS_UTF8, NULL, r);
	cur_req = NULL;

	if (r->err)
		return;
	if (st != ENS_OK) {
		espeak_ng_GetStatusCodeMessage(st, buf, sizeof(buf));
		req_fail(r, EIO, "espeak: synthesis failed: %s", buf);
	}
}

static void *service_main(void *arg)
{
	espeak_ng_ERROR_CONTEXT ctx = NULL;
	espeak_ng_STATUS st;
	char buf[MSG_MAX / 2];
	int err = 0;

	(void)arg;

	/* the service threads run one after the other (init joins the
	   last before it starts the next), so lib_up needs no lock */
	st = ENS_OK;
	if (!lib_up) {
		espeak_ng_InitializePath(NULL);
		st = espeak_ng_Initialize(&ctx);
		if (st == ENS_OK)
			st = espeak_ng_InitializeOutput(
				ENOUTPUT_MODE_SYNCHRONOUS, 0, NULL);
		if (ctx)
			espeak_ng_ClearErrorContext(&ctx);
		lib_up = st == ENS_OK;
	}

	pthread_mutex_lock(&esp.mtx);
	if (st != ENS_OK) {
		espeak_ng_GetStatusCodeMessage(st, buf, sizeof(buf));
		err = ENOENT;
		snprintf(esp.init_msg, sizeof(esp.init_msg), "espeak: could "
			 "not start espeak-ng (%s); check that espeak-ng-data "
			 "is installed (espeak-ng --version shows where it "
			 "looks)", buf);
	}
	else {
		espeak_SetSynthCallback(synth_cb);
		esp.rate_hz = (uint32_t)espeak_ng_GetSampleRate();
		if (!esp.rate_hz)
			esp.rate_hz = DEFAULT_HZ;
		cur_voice[0] = '\0';
		esp.running = true;
	}
	esp.init_err = err;
	esp.init_done = true;
	pthread_cond_broadcast(&esp.done);

	while (!err) {
		struct req *r;

		while (!esp.stop && list_isempty(&esp.reqs))
			pthread_cond_wait(&esp.work, &esp.mtx);
		if (esp.stop)
			break;

		r = list_ledata(list_head(&esp.reqs));
		list_unlink(&r->le);
		pthread_mutex_unlock(&esp.mtx);

		run_req(r);

		pthread_mutex_lock(&esp.mtx);
		r->done = true;
		pthread_cond_broadcast(&esp.done);
	}

	/* requests that came in while stopping */
	while (!list_isempty(&esp.reqs)) {
		struct req *r = list_ledata(list_head(&esp.reqs));

		list_unlink(&r->le);
		req_fail(r, ESHUTDOWN, "espeak: the speech service was "
			 "stopped (bt_tts_espeak_close)");
		r->done = true;
	}
	esp.running = false;
	pthread_cond_broadcast(&esp.done);
	pthread_mutex_unlock(&esp.mtx);

	return NULL;
}

/* Post a request to the service thread and wait for it. */
static int call(struct req *r)
{
	pthread_mutex_lock(&esp.mtx);
	if (!esp.running) {
		pthread_mutex_unlock(&esp.mtx);
		return bt_err(ENODEV, "espeak: the speech service is not "
			      "running; call bt_tts_espeak_init() first");
	}

	list_append(&esp.reqs, &r->le, r);
	pthread_cond_signal(&esp.work);
	while (!r->done)
		pthread_cond_wait(&esp.done, &esp.mtx);
	pthread_mutex_unlock(&esp.mtx);

	if (r->err)
		return bt_err(r->err, "%s", r->msg);

	return 0;
}

static bool voice_name_ok(const char *v)
{
	/* espeak would also take a path; only allow voice names */
	for (; *v; v++) {
		if (!((*v >= 'a' && *v <= 'z') || (*v >= 'A' && *v <= 'Z') ||
		      (*v >= '0' && *v <= '9') || *v == '-' || *v == '+' ||
		      *v == '_'))
			return false;
	}

	return true;
}

static int esp_alloc(struct bt_tts_st **stp, const char *voice,
		     const struct bt_tts_prm *prm)
{
	struct bt_tts_st *st;
	struct req r;
	int err;

	if (!stp)
		return bt_err(EINVAL, "espeak: no result pointer given");
	if (!voice || !*voice)
		voice = "en-us";

	if (strlen(voice) >= VOICE_MAX || !voice_name_ok(voice)) {
		memset(&r, 0, sizeof(r));
		r.voice = voice;
		unknown_voice(&r);
		return bt_err(ENOENT, "%s", r.msg);
	}

	st = mem_zalloc(sizeof(*st), NULL);
	if (!st)
		return bt_err(ENOMEM, "espeak: out of memory");

	st->tts = &esp_tts;

	err = bt_tts_prm_norm(&st->prm, prm);
	if (err)
		goto out;

	memset(&r, 0, sizeof(r));
	r.voice = voice;
	err = call(&r);
	if (err)
		goto out;

	str_ncpy(st->voice, r.resolved, sizeof(st->voice));

 out:
	if (err)
		mem_deref(st);
	else
		*stp = st;

	return err;
}

static int espeak_rate(uint32_t wpm)
{
	double v = RATE_SCALE * wpm;

	if (v < ESPEAK_RATE_MIN)
		v = ESPEAK_RATE_MIN;
	if (v > ESPEAK_RATE_MAX)
		v = ESPEAK_RATE_MAX;

	return (int)(v + 0.5);
}

/* Byte offset of the 0-based character index ci in UTF-8 text. */
static size_t char_to_byte(const char *text, size_t len, size_t ci,
			   size_t *b, size_t *c)
{
	/* marks come in text order, so continue from the last position */
	if (ci < *c) {
		*b = 0;
		*c = 0;
	}
	while (*b < len && *c < ci) {
		++*b;
		while (*b < len && ((unsigned char)text[*b] & 0xc0) == 0x80)
			++*b;
		++*c;
	}

	return *b;
}

/*
 * espeak marks word starts only: a token runs from its first word event
 * to the next token's start or the end of the clause; several events in
 * one token ("7pm": "seven", "p", "m") extend it. An event that points
 * back into an earlier token (espeak's own phrases) continues the
 * current one. espeak gives a word after unspoken punctuation the
 * position of that punctuation ("two -- three": "three" points at "--"),
 * so events skip tokens that are punctuation alone.
 */
static void spans_from_marks(const struct req *r, uint32_t rate_hz,
			     const char *text, const struct bt_tts_tok *toks,
			     size_t n_toks, struct bt_tts_span *spans)
{
	size_t len = strlen(text), i, open = n_toks, b = 0, c = 0;
	uint32_t audio_ms = (uint32_t)((uint64_t)r->n * 1000 / rate_hz);

	for (i = 0; i < r->n_marks; i++) {
		const struct mark *m = &r->marks[i];
		uint32_t ms = m->ms < audio_ms ? m->ms : audio_ms;
		size_t t;

		if (!m->word) {
			if (open < n_toks)
				spans[open].end_ms = ms;
			open = n_toks;
			continue;
		}

		t = bt_tts_tok_find(toks, n_toks,
				    char_to_byte(text, len, m->char_pos - 1,
						 &b, &c));
		while (t < n_toks && !toks[t].spoken)
			++t;
		if (t >= n_toks || t == open)
			continue;
		if (open < n_toks && t < open)
			continue;

		if (open < n_toks)
			spans[open].end_ms = ms;
		if (!spans[t].set) {
			spans[t].start_ms = ms;
			spans[t].set = true;
		}
		open = t;
	}

	if (open < n_toks)
		spans[open].end_ms = audio_ms;
}

static int esp_synth(struct bt_tts_st *st, const char *text,
		     struct bt_tts_audio **audiop)
{
	struct bt_tts_tok *toks = NULL;
	struct bt_tts_span *spans = NULL;
	size_t n_toks = 0;
	uint32_t rate_hz;
	struct req r;
	int err;

	memset(&r, 0, sizeof(r));

	if (!st || !text || !audiop)
		return bt_err(EINVAL, "espeak: synth needs a voice, a text "
			      "and a result pointer");

	err = bt_tts_text_split(text, &toks, &n_toks);
	if (err)
		return err;

	pthread_mutex_lock(&esp.mtx);
	rate_hz = esp.rate_hz ? esp.rate_hz : DEFAULT_HZ;
	pthread_mutex_unlock(&esp.mtx);

	if (!n_toks) {
		err = bt_tts_audio_build(audiop, text, NULL, NULL, 0, NULL, 0,
					 rate_hz, false);
		goto out;
	}

	r.text = text;
	r.voice = st->voice;
	r.rate = espeak_rate(st->prm.rate_wpm);
	r.pitch = (int)st->prm.pitch;

	err = call(&r);
	if (err)
		goto out;

	spans = mem_zalloc(n_toks * sizeof(*spans), NULL);
	if (!spans) {
		err = bt_err(ENOMEM, "espeak: out of memory");
		goto out;
	}

	spans_from_marks(&r, rate_hz, text, toks, n_toks, spans);

	err = bt_tts_audio_build(audiop, text, toks, spans, n_toks, r.pcm,
				 r.n, rate_hz, true);
	r.pcm = NULL;

 out:
	mem_deref(r.pcm);
	mem_deref(r.marks);
	mem_deref(spans);
	mem_deref(toks);

	return err;
}

int bt_tts_espeak_init(void)
{
	int err = 0;

	pthread_mutex_lock(&esp.mtx);
	if (esp.started) {
		pthread_mutex_unlock(&esp.mtx);
		return 0;
	}

	esp.stop = false;
	esp.init_done = false;
	esp.init_err = 0;
	list_init(&esp.reqs);

	err = pthread_create(&esp.thread, NULL, service_main, NULL);
	if (err) {
		pthread_mutex_unlock(&esp.mtx);
		return bt_err(err, "espeak: could not start the speech "
			      "service thread");
	}
	esp.started = true;

	while (!esp.init_done)
		pthread_cond_wait(&esp.done, &esp.mtx);
	err = esp.init_err;
	pthread_mutex_unlock(&esp.mtx);

	if (err) {
		bt_err(err, "%s", esp.init_msg);
		pthread_join(esp.thread, NULL);
		pthread_mutex_lock(&esp.mtx);
		esp.started = false;
		pthread_mutex_unlock(&esp.mtx);
		return err;
	}

	bt_tts_register(&esp_tts);
	return 0;
}

void bt_tts_espeak_close(void)
{
	/* a closed engine's renderings go with it */
	bt_tts_cache_flush();
	pthread_mutex_lock(&esp.mtx);
	if (!esp.started) {
		pthread_mutex_unlock(&esp.mtx);
		return;
	}
	esp.stop = true;
	pthread_cond_signal(&esp.work);
	pthread_mutex_unlock(&esp.mtx);

	pthread_join(esp.thread, NULL);
	bt_tts_unregister(&esp_tts);

	pthread_mutex_lock(&esp.mtx);
	esp.started = false;
	pthread_mutex_unlock(&esp.mtx);
}
