/**
 * @file transcribe.c  STT provider "whisper": any OpenAI-compatible
 *                     /v1/audio/transcriptions server (OpenAI, whisper.cpp's
 *                     server, faster-whisper servers) as a per-utterance
 *                     recogniser.
 *
 * Such a server takes a whole utterance, so the words while the caller
 * speaks (the partials the turn-taking reads) come from an embedded
 * recogniser run alongside ("partials": "pocketsphinx", the default; or
 * "none"), and the final comes from the server: at the end of the turn the
 * utterance goes up as a WAV file (multipart/form-data) and its text comes
 * back as the final. A failed request fails the recogniser (a chain's next
 * one takes the utterance, see stt/chain.c).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <re.h>
#include "banter/banter.h"
#include "net/http.h"
#include "net/url.h"
#include "stt/stt_int.h"

enum {
	UTT_MAX = 60 * BT_RATE_HZ,
};

struct tr_st {
	const struct bt_stt *stt;   /* first: see bt_stt_of() */
	struct bt_stt_st *inner;    /* partials, or NULL */
	struct bt_http *http;
	bt_stt_final_h *finalh;
	bt_stt_fail_h *failh;
	void *arg;
	bool failed;
	struct stt_audio utt;     /* the utterance, for the upload */
	struct mbuf *resp;
	char url[512];
	char auth[300];
	char model[64];
	char language[16];
	uint32_t timeout_ms;
};

static struct bt_stt tr_stt;

static const char *const tr_keys[] = {
	"model", "language", "partials", "timeout_ms", NULL,
};

static const char *base_url(void)
{
	return bt_url_env("OPENAI_TRANSCRIBE_BASE_URL", "OPENAI_BASE_URL",
			  "https://api.openai.com/v1");
}

static int tr_check(const json_t *sec, const char *path, const char **pathp)
{
	const char *key = getenv("OPENAI_API_KEY");
	const json_t *p = json_object_get(sec, "partials");
	const json_t *t = json_object_get(sec, "timeout_ms");

	(void)path;
	if (p && (!json_is_string(p) || (strcmp(json_string_value(p),
			"pocketsphinx") && strcmp(json_string_value(p),
						  "none")))) {
		*pathp = "partials";
		return bt_err(EINVAL, "\"stt.partials\" must be "
			      "\"pocketsphinx\" (words while the caller "
			      "speaks) or \"none\"");
	}
	if (t && (!json_is_integer(t) || json_integer_value(t) < 100 ||
		  json_integer_value(t) > 60000)) {
		*pathp = "timeout_ms";
		return bt_err(EINVAL, "\"stt.timeout_ms\" must be 100 to 60000 "
			      "milliseconds");
	}
	for (int i = 0; i < 2; i++) {
		static const char *const k[] = {"model", "language"};
		const json_t *v = json_object_get(sec, k[i]);

		if (v && (!json_is_string(v) || !json_string_length(v) ||
			  json_string_length(v) > (i ? 8 : 60))) {
			*pathp = k[i];
			return bt_err(EINVAL, "\"stt.%s\" must be a short "
				      "string", k[i]);
		}
	}
	if ((!key || !*key) && !bt_url_is_local(base_url())) {
		*pathp = "provider";
		return bt_err(EINVAL, "the agent transcribes with an "
			      "OpenAI-compatible server but OPENAI_API_KEY is "
			      "not set; export it (or point "
			      "OPENAI_TRANSCRIBE_BASE_URL at a local server)");
	}
	return 0;
}

static void tr_destructor(void *arg)
{
	struct tr_st *t = arg;

	mem_deref(t->http);
	mem_deref(t->inner);
	mem_deref(t->utt.pcm);
	mem_deref(t->resp);
}

static void tr_fail(struct tr_st *t, int err, const char *msg)
{
	if (t->failed)
		return;
	t->failed = true;
	t->http = mem_deref(t->http);
	if (t->failh)
		t->failh(err ? err : EPROTO, msg, t->arg);
}

static int on_data(const char *buf, size_t n, void *arg)
{
	struct tr_st *t = arg;

	if (t->resp->end + n > 64 * 1024)
		return E2BIG;
	return mbuf_write_mem(t->resp, (const uint8_t *)buf, n);
}

static void on_done(const struct bt_http_result *res, void *arg)
{
	struct tr_st *t = arg;
	struct bt_transcript tr;
	json_error_t je;
	json_t *o = NULL;
	const char *text;
	char msg[700];

	if (res->err || res->status < 200 || res->status >= 300) {
		snprintf(msg, sizeof(msg), "the transcription server failed: "
			 "%s%s%.300s", res->errmsg ? res->errmsg : "error",
			 res->body && *res->body ? ": " : "",
			 res->body ? res->body : "");
		tr_fail(t, res->err ? res->err : EPROTO, msg);
		return;
	}
	o = json_loadb((const char *)t->resp->buf, t->resp->end, 0, &je);
	text = json_string_value(json_object_get(o, "text"));
	if (!text) {
		json_decref(o);
		tr_fail(t, EPROTO, "the transcription server's answer has no "
			"\"text\" (is it an OpenAI-compatible "
			"/v1/audio/transcriptions?)");
		return;
	}
	memset(&tr, 0, sizeof(tr));
	stt_text_norm(tr.text, sizeof(tr.text), text);
	tr.confidence = tr.text[0] ? 0.9f : 0.0f;
	json_decref(o);
	t->http = mem_deref(t->http);
	if (t->finalh)
		t->finalh(&tr, t->arg);
}

static int tr_alloc(struct bt_stt_st **stp, const struct bt_stt_prm *prm)
{
	const json_t *sec = prm ? prm->section : NULL;
	const char *key = getenv("OPENAI_API_KEY");
	const char *partials = json_string_value(json_object_get(sec,
								 "partials"));
	const char *s;
	struct tr_st *t;
	int err = 0;

	t = mem_zalloc(sizeof(*t), tr_destructor);
	if (!t)
		return ENOMEM;
	t->stt = &tr_stt;
	if (prm) {
		t->finalh = prm->finalh;
		t->failh = prm->failh;
		t->arg = prm->arg;
	}
	s = json_string_value(json_object_get(sec, "model"));
	str_ncpy(t->model, s ? s : "whisper-1", sizeof(t->model));
	s = json_string_value(json_object_get(sec, "language"));
	str_ncpy(t->language, s ? s : "en", sizeof(t->language));
	t->timeout_ms = json_is_integer(json_object_get(sec, "timeout_ms")) ?
		(uint32_t)json_integer_value(json_object_get(sec,
							     "timeout_ms")) :
		5000;
	if (bt_url_join(t->url, sizeof(t->url), base_url(), false,
			"/audio/transcriptions")) {
		err = bt_err(E2BIG, "the transcription base URL is too long");
		goto out;
	}
	if (key && *key)
		snprintf(t->auth, sizeof(t->auth), "Authorization: Bearer "
			 "%.260s", key);
	if (!partials || strcmp(partials, "none")) {
		/* the embedded recogniser gives the words while they are
		 * said; its final is dropped (the server's is the one) */
		const struct bt_stt *ps = bt_stt_find("pocketsphinx");
		struct bt_stt_prm ip;

		if (!ps) {
			err = bt_err(ENOENT, "no pocketsphinx for the partials");
			goto out;
		}
		ip = *prm;
		ip.section = NULL;
		ip.finalh = NULL;
		ip.failh = NULL;
		ip.turnh = NULL;
		err = ps->alloch(&t->inner, &ip);
	}
 out:
	if (err)
		mem_deref(t);
	else
		*stp = (struct bt_stt_st *)t;
	return err;
}

static int tr_start(struct bt_stt_st *st, const char *grammar,
		    bool overlap)
{
	struct tr_st *t = (struct tr_st *)st;

	if (t->failed)
		return bt_err(EPIPE, "the transcription server has failed");
	t->utt.n = 0;
	if (t->inner) {
		int err = bt_stt_of(t->inner)->starth(t->inner, grammar,
						      overlap);

		if (err && grammar)
			err = bt_stt_of(t->inner)->starth(t->inner, NULL,
							  overlap);
		return err;
	}
	return 0;
}

static int tr_feed(struct bt_stt_st *st, const int16_t *pcm, size_t n)
{
	struct tr_st *t = (struct tr_st *)st;

	stt_audio_add(&t->utt, pcm, n, UTT_MAX);
	return t->inner ? bt_stt_of(t->inner)->feedh(t->inner, pcm, n) : 0;
}

static void put_le16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static void put_le32(uint8_t *p, uint32_t v)
{
	put_le16(p, (uint16_t)v);
	put_le16(p + 2, (uint16_t)(v >> 16));
}

/* The utterance as a form upload: model, language, response_format and
 * a 16 kHz mono WAV file. */
static int make_body(struct tr_st *t, struct mbuf **mbp, char *ctype,
		     size_t csz)
{
	static const char bnd[] = "banterUtteranceBoundary7d3a";
	uint8_t hdr[44];
	uint32_t bytes = (uint32_t)(t->utt.n * 2);
	struct mbuf *mb = mbuf_alloc(bytes + 1024);
	int err = 0;

	if (!mb)
		return ENOMEM;
	memcpy(hdr, "RIFF", 4);
	put_le32(hdr + 4, 36 + bytes);
	memcpy(hdr + 8, "WAVEfmt ", 8);
	put_le32(hdr + 16, 16);
	put_le16(hdr + 20, 1);
	put_le16(hdr + 22, 1);
	put_le32(hdr + 24, BT_RATE_HZ);
	put_le32(hdr + 28, BT_RATE_HZ * 2);
	put_le16(hdr + 32, 2);
	put_le16(hdr + 34, 16);
	memcpy(hdr + 36, "data", 4);
	put_le32(hdr + 40, bytes);
	err |= mbuf_printf(mb, "--%s\r\nContent-Disposition: form-data; "
			   "name=\"model\"\r\n\r\n%s\r\n", bnd, t->model);
	err |= mbuf_printf(mb, "--%s\r\nContent-Disposition: form-data; "
			   "name=\"language\"\r\n\r\n%s\r\n", bnd,
			   t->language);
	err |= mbuf_printf(mb, "--%s\r\nContent-Disposition: form-data; "
			   "name=\"response_format\"\r\n\r\njson\r\n", bnd);
	err |= mbuf_printf(mb, "--%s\r\nContent-Disposition: form-data; "
			   "name=\"file\"; filename=\"utterance.wav\"\r\n"
			   "Content-Type: audio/wav\r\n\r\n", bnd);
	err |= mbuf_write_mem(mb, hdr, sizeof(hdr));
	for (size_t i = 0; i < t->utt.n && !err; i++) {
		uint8_t b[2];

		put_le16(b, (uint16_t)t->utt.pcm[i]);
		err = mbuf_write_mem(mb, b, 2);
	}
	err |= mbuf_printf(mb, "\r\n--%s--\r\n", bnd);
	if (err) {
		mem_deref(mb);
		return ENOMEM;
	}
	snprintf(ctype, csz, "Content-Type: multipart/form-data; boundary=%s",
		 bnd);
	*mbp = mb;
	return 0;
}

static int tr_finish(struct bt_stt_st *st, struct bt_transcript *tr)
{
	struct tr_st *t = (struct tr_st *)st;
	struct bt_http_prm prm;
	struct bt_transcript itr;
	const char *hdrs[3];
	char ctype[128];
	struct mbuf *body = NULL;
	int err;

	if (t->failed)
		return bt_err(EPIPE, "the transcription server has failed");
	if (t->inner)
		(void)bt_stt_of(t->inner)->finishh(t->inner, &itr);
	if (!t->utt.n) {
		memset(tr, 0, sizeof(*tr));
		return 0;
	}
	err = make_body(t, &body, ctype, sizeof(ctype));
	if (err)
		return err;
	t->resp = mem_deref(t->resp);
	t->resp = mbuf_alloc(1024);
	if (!t->resp) {
		mem_deref(body);
		return ENOMEM;
	}
	hdrs[0] = ctype;
	hdrs[1] = t->auth[0] ? t->auth : NULL;
	hdrs[2] = NULL;
	memset(&prm, 0, sizeof(prm));
	prm.url = t->url;
	prm.headers = hdrs;
	prm.body = (const char *)body->buf;
	prm.body_len = body->end;
	prm.connect_timeout_ms = 3000;
	prm.timeout_ms = t->timeout_ms;
	t->http = mem_deref(t->http);
	err = bt_http_start(&t->http, &prm, on_data, on_done, t);
	mem_deref(body);
	if (err)
		return err;
	return EINPROGRESS;
}

static bool tr_hyp(struct bt_stt_st *st, char *buf, size_t sz)
{
	struct tr_st *t = (struct tr_st *)st;
	const struct bt_stt *p = t->inner ? bt_stt_of(t->inner) : NULL;

	return p && p->hyph ? p->hyph(t->inner, buf, sz) : false;
}

static int tr_overlap(struct bt_stt_st *st, struct bt_stt_overlap *ov)
{
	struct tr_st *t = (struct tr_st *)st;
	const struct bt_stt *p = t->inner ? bt_stt_of(t->inner) : NULL;

	return p && p->overlaph ? p->overlaph(t->inner, ov) : ENOSYS;
}

static struct bt_stt tr_stt = {
	.name = "whisper",
	.alloch = tr_alloc,
	.starth = tr_start,
	.feedh = tr_feed,
	.hyph = tr_hyp,
	.finishh = tr_finish,
	.overlaph = tr_overlap,
	.checkh = tr_check,
	.keys = tr_keys,
	.network = true,
};

int bt_stt_whisper_init(void)
{
	if (!bt_stt_find("whisper"))
		bt_stt_register(&tr_stt);
	return 0;
}
