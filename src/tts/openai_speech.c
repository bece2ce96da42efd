/**
 * @file openai_speech.c  TTS provider "openai": any OpenAI-compatible
 *                        /v1/audio/speech server (OpenAI, or a local one:
 *                        kokoro-fastapi, openedai-speech, ...), its PCM
 *                        streamed as it is made.
 *
 * A sentence is one POST with response_format "pcm" (16-bit mono at
 * 24 kHz); the body's bytes are handed on as they arrive, so the first
 * audio plays while the server still synthesises the rest. Requests run
 * on the session's loop through the HTTP layer (keep-alive per loop: no
 * handshake per sentence). The provider gives no word timings; the
 * session estimates them from the text.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <re.h>
#include "banter/banter.h"
#include "net/http.h"
#include "net/url.h"

enum { PCM_RATE_HZ = 24000 };

struct oai_tts {
	const struct bt_tts *tts;  /* first: see bt_tts_of() */
	char voice[64];
	char model[64];
	char url[512];
	char auth[300];
	double speed;
};

struct bt_tts_stream {
	struct bt_http *http;
	bt_tts_chunk_h *h;
	void *arg;
	uint8_t odd;        /* a byte of a sample split across reads */
	bool has_odd;
	int16_t buf[4096];
};

static struct bt_tts oai_tts;

static int oai_alloc(struct bt_tts_st **stp, const char *voice,
		     const struct bt_tts_prm *prm)
{
	const char *key = getenv("OPENAI_API_KEY");
	const char *model = getenv("OPENAI_TTS_MODEL");
	const char *base = bt_url_env("OPENAI_SPEECH_BASE_URL",
				      "OPENAI_BASE_URL",
				      "https://api.openai.com/v1");
	struct oai_tts *t;

	if ((!key || !*key) && !bt_url_is_local(base))
		return bt_err(EINVAL, "the voice \"openai:%s\" needs "
			      "OPENAI_API_KEY; export it (or point "
			      "OPENAI_SPEECH_BASE_URL at a local server)",
			      voice);
	t = mem_zalloc(sizeof(*t), NULL);
	if (!t)
		return ENOMEM;
	t->tts = &oai_tts;
	str_ncpy(t->voice, voice && *voice ? voice : "alloy",
		 sizeof(t->voice));
	str_ncpy(t->model, model && *model ? model : "gpt-4o-mini-tts",
		 sizeof(t->model));
	if (bt_url_join(t->url, sizeof(t->url), base, false,
			"/audio/speech")) {
		mem_deref(t);
		return bt_err(E2BIG, "the speech base URL is too long");
	}
	if (key && *key)
		snprintf(t->auth, sizeof(t->auth), "Authorization: Bearer %.260s",
			 key);
	/* the rate as a speed factor, 160 words a minute being 1.0 */
	t->speed = prm && prm->rate_wpm ? prm->rate_wpm / 160.0 : 1.0;
	*stp = (struct bt_tts_st *)t;
	return 0;
}

static int oai_synth(struct bt_tts_st *st, const char *text,
		     struct bt_tts_audio **audiop)
{
	(void)st;
	(void)text;
	(void)audiop;
	return bt_err(ENOTSUP, "the \"openai\" voice streams on the call's "
		      "event loop; use it as an agent's voice, not for a "
		      "simulated caller");
}

static void stream_destructor(void *arg)
{
	struct bt_tts_stream *s = arg;

	mem_deref(s->http);
}

static int on_data(const char *buf, size_t n, void *arg)
{
	struct bt_tts_stream *s = arg;
	const uint8_t *p = (const uint8_t *)buf;

	while (n) {
		size_t k = 0;

		if (s->has_odd) {
			s->buf[k++] = (int16_t)(s->odd | (p[0] << 8));
			s->has_odd = false;
			++p;
			--n;
		}
		while (n >= 2 && k < sizeof(s->buf) / sizeof(s->buf[0])) {
			s->buf[k++] = (int16_t)(p[0] | (p[1] << 8));
			p += 2;
			n -= 2;
		}
		if (n == 1 && k < sizeof(s->buf) / sizeof(s->buf[0])) {
			s->odd = p[0];
			s->has_odd = true;
			n = 0;
		}
		if (k) {
			struct bt_tts_chunk c = {0};

			s->h(s->buf, k, PCM_RATE_HZ, &c, s->arg);
		}
	}
	return 0;
}

static void on_done(const struct bt_http_result *res, void *arg)
{
	struct bt_tts_stream *s = arg;
	struct bt_tts_chunk c = {0};
	char msg[700];

	c.last = true;
	if (!res->err && res->status >= 200 && res->status < 300) {
		s->h(NULL, 0, PCM_RATE_HZ, &c, s->arg);
		return;
	}
	if (res->status == 401)
		snprintf(msg, sizeof(msg), "the speech server refused the key "
			 "(HTTP 401): check OPENAI_API_KEY");
	else
		snprintf(msg, sizeof(msg), "the speech server failed: %s%s%.300s",
			 res->errmsg ? res->errmsg : "error",
			 res->body && *res->body ? ": " : "",
			 res->body ? res->body : "");
	c.err = res->err ? res->err : EPROTO;
	c.msg = msg;
	s->h(NULL, 0, PCM_RATE_HZ, &c, s->arg);
}

static int oai_stream(struct bt_tts_stream **sp, struct bt_tts_st *st,
		      const char *text, bt_tts_chunk_h *h, void *arg)
{
	struct oai_tts *t = (struct oai_tts *)st;
	const char *hdrs[3];
	struct bt_http_prm prm;
	struct bt_tts_stream *s;
	json_t *body;
	char *js;
	int err;

	if (!sp || !t || !text || !h)
		return EINVAL;
	s = mem_zalloc(sizeof(*s), stream_destructor);
	if (!s)
		return ENOMEM;
	s->h = h;
	s->arg = arg;
	body = json_pack("{s:s, s:s, s:s, s:s, s:f}", "model", t->model,
			 "input", text, "voice", t->voice, "response_format",
			 "pcm", "speed", t->speed);
	js = body ? json_dumps(body, JSON_COMPACT) : NULL;
	json_decref(body);
	if (!js) {
		mem_deref(s);
		return ENOMEM;
	}
	hdrs[0] = "Content-Type: application/json";
	hdrs[1] = t->auth[0] ? t->auth : NULL;
	hdrs[2] = NULL;
	memset(&prm, 0, sizeof(prm));
	prm.url = t->url;
	prm.headers = hdrs;
	prm.body = js;
	prm.body_len = strlen(js);
	prm.connect_timeout_ms = 3000;
	prm.timeout_ms = 30000;
	err = bt_http_start(&s->http, &prm, on_data, on_done, s);
	free(js);
	if (err) {
		mem_deref(s);
		return err;
	}
	*sp = s;
	return 0;
}

static struct bt_tts oai_tts = {
	.name = "openai",
	.alloch = oai_alloc,
	.synthh = oai_synth,
	.streamh = oai_stream,
};

int bt_tts_openai_init(void)
{
	if (!bt_tts_find("openai"))
		bt_tts_register(&oai_tts);
	return 0;
}
