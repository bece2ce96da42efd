/**
 * @file deepgram.c  Streaming STT provider "deepgram": Deepgram's live
 *                   WebSocket API (/v1/listen, and /v2/listen for Flux
 *                   models, whose own turn events can end the turn).
 *
 * One socket per call, opened when the session is made so the first
 * utterance pays no handshake. Every frame of the call is streamed
 * (listenh), so Deepgram's timestamps are the call's own and its
 * SpeechStarted/UtteranceEnd mean what they say (silence included: the
 * endpointing is measured on it); KeepAlive goes out when no audio has for
 * a while, i.e. when no frames come at all (the transports push a silent
 * one every 20 ms; an embedding application may stop). The session's
 * utterances map onto the stream by time: start() marks where one began,
 * finish() sends Finalize and the final comes back as an event (or at
 * once when every word is already final). Words come from the `word`
 * fields (lower case, unpunctuated unless smart_format), which is what
 * the slot parsers read.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <re.h>
#include "banter/banter.h"
#include "net/url.h"
#include "stt/dg_wire.h"
#include "stt/stt_int.h"
#include "net/ws.h"

enum {
	MAX_WORDS = DG_WORDS_MAX,
	PEND_MAX = 10 * BT_RATE_HZ,  /* audio held while connecting */
	KEEPALIVE_MS = 4000,
	TICK_MS = 1000,
};

struct dg {
	const struct bt_stt *stt;  /* first: see bt_stt_of() */
	struct bt_ws *ws;
	bt_stt_partial_h *partialh;
	bt_stt_final_h *finalh;
	bt_stt_fail_h *failh;
	bt_stt_turn_h *turnh;
	void *arg;
	bool flux, failed, opened;
	uint32_t final_timeout_ms;
	size_t chunk;             /* samples per audio message */
	uint64_t sent;            /* samples sent (or held) since open */
	int16_t *pend;            /* held until the socket opens */
	size_t n_pend;
	struct tmr tick, fin;
	uint64_t last_audio;      /* tmr_jiffies of the last audio sent */
	/* the utterance */
	bool in_utt, finishing, interim;
	bool settled;             /* the last result was a speech_final */
	unsigned since_finalize;  /* messages since Finalize */
	double utt_t0;            /* stream seconds it began, less slack */
	struct dg_word fw[MAX_WORDS];  /* final words of the utterance */
	size_t n_fw;
	struct dg_word iw[MAX_WORDS];  /* the latest interim's words */
	size_t n_iw;
	char flux_text[512];      /* Flux: the turn's transcript so far */
	float flux_conf;
	char url[1024];
};

static struct bt_stt dg_stt;
static void flush_audio(struct dg *d);

static const char *const dg_keys[] = {
	"model", "language", "endpointing_ms", "utterance_end_ms",
	"smart_format", "keyterm", "tag",
	"connect_timeout_ms", "final_timeout_ms", "eot_threshold",
	"eager_eot_threshold", "eot_timeout_ms", "chunk_ms", NULL,
};

static const char *sec_str(const json_t *sec, const char *k, const char *d)
{
	const json_t *v = json_object_get(sec, k);

	return json_is_string(v) ? json_string_value(v) : d;
}

static long sec_int(const json_t *sec, const char *k, long d)
{
	const json_t *v = json_object_get(sec, k);

	return json_is_integer(v) ? (long)json_integer_value(v) : d;
}

static const char *base_url(void)
{
	return bt_url_env("DEEPGRAM_BASE_URL", NULL, "wss://api.deepgram.com");
}

static int dg_check(const json_t *sec, const char *path, const char **pathp)
{
	static const char *const nums[] = {
		"endpointing_ms", "utterance_end_ms", "connect_timeout_ms",
		"final_timeout_ms", "eot_timeout_ms", NULL,
	};
	const char *key = getenv("DEEPGRAM_API_KEY");
	const json_t *kt, *ck = json_object_get(sec, "chunk_ms");

	(void)path;
	if (ck && (!json_is_integer(ck) || json_integer_value(ck) < 20 ||
		   json_integer_value(ck) > 100 ||
		   json_integer_value(ck) % 20)) {
		*pathp = "chunk_ms";
		return bt_err(EINVAL, "\"stt.chunk_ms\" must be 20, 40, 60, 80 "
			      "or 100: how much audio goes in one message");
	}
	for (size_t i = 0; nums[i]; i++) {
		const json_t *v = json_object_get(sec, nums[i]);

		if (v && (!json_is_integer(v) || json_integer_value(v) < 0 ||
			  json_integer_value(v) > 60000)) {
			*pathp = nums[i];
			return bt_err(EINVAL, "\"stt.%s\" must be a whole "
				      "number of milliseconds from 0 to 60000",
				      nums[i]);
		}
	}
	for (size_t i = 0; i < 3; i++) {
		static const char *const strs[] = {"model", "language", "tag"};
		const json_t *v = json_object_get(sec, strs[i]);

		if (v && (!json_is_string(v) || !json_string_length(v) ||
			  json_string_length(v) > 64)) {
			*pathp = strs[i];
			return bt_err(EINVAL, "\"stt.%s\" must be a string of "
				      "1 to 64 characters", strs[i]);
		}
	}
	kt = json_object_get(sec, "keyterm");
	if (kt) {
		size_t i;
		const json_t *v;

		if (!json_is_array(kt) || json_array_size(kt) > 50)
			goto bad_kt;
		json_array_foreach(kt, i, v)
			if (!json_is_string(v) || !json_string_length(v) ||
			    json_string_length(v) > 64)
				goto bad_kt;
	}
	if (json_object_get(sec, "smart_format") &&
	    !json_is_boolean(json_object_get(sec, "smart_format"))) {
		*pathp = "smart_format";
		return bt_err(EINVAL, "\"stt.smart_format\" must be true or "
			      "false");
	}
	if ((!key || !*key) && !bt_url_is_local(base_url())) {
		*pathp = "provider";
		return bt_err(EINVAL, "the agent uses Deepgram but "
			      "DEEPGRAM_API_KEY is not set; export it (or "
			      "point DEEPGRAM_BASE_URL at a local server)");
	}
	return 0;
 bad_kt:
	*pathp = "keyterm";
	return bt_err(EINVAL, "\"stt.keyterm\" must be a list of at most 50 "
		      "words or phrases, each 1 to 64 characters");
}

static void dg_destructor(void *arg)
{
	struct dg *d = arg;

	tmr_cancel(&d->tick);
	tmr_cancel(&d->fin);
	if (d->ws && bt_ws_is_open(d->ws)) {
		flush_audio(d);
		(void)bt_ws_send_text(d->ws, "{\"type\":\"CloseStream\"}");
	}
	mem_deref(d->ws);
	mem_deref(d->pend);
}

/* The instance cannot go on: say so once. */
static void dg_fail(struct dg *d, int err, const char *msg)
{
	if (d->failed)
		return;
	d->failed = true;
	tmr_cancel(&d->tick);
	tmr_cancel(&d->fin);
	d->ws = mem_deref(d->ws);
	if (d->failh)
		d->failh(err ? err : EPIPE, msg, d->arg);
}

static void words_text(const struct dg *d, char *buf, size_t sz,
		       float *confp)
{
	size_t pos = 0;
	double sum = 0;
	size_t n = 0;

	buf[0] = '\0';
	for (int pass = 0; pass < 2; pass++) {
		const struct dg_word *w = pass ? d->iw : d->fw;
		size_t k = pass ? d->n_iw : d->n_fw;

		for (size_t i = 0; i < k; i++) {
			int m = snprintf(buf + pos, sz - pos, "%s%s",
					 pos ? " " : "", w[i].w);
			if (m < 0 || (size_t)m >= sz - pos)
				break;
			pos += (size_t)m;
			sum += w[i].conf;
			++n;
		}
	}
	if (confp)
		*confp = n ? (float)(sum / (double)n) : 0.0f;
}

/* The utterance's final: what was said, or "" (nothing in time). */
static void deliver_final(struct dg *d)
{
	struct bt_transcript tr;

	tmr_cancel(&d->fin);
	memset(&tr, 0, sizeof(tr));
	if (d->flux) {
		str_ncpy(tr.text, d->flux_text, sizeof(tr.text));
		tr.confidence = d->flux_conf;
	}
	else {
		words_text(d, tr.text, sizeof(tr.text), &tr.confidence);
	}
	d->finishing = false;
	d->n_fw = d->n_iw = 0;
	if (d->finalh)
		d->finalh(&tr, d->arg);
}

static size_t words_add(struct dg_word *to, size_t room,
			const struct dg_msg *m)
{
	size_t n = m->n_words < room ? m->n_words : room;

	memcpy(to, m->words, n * sizeof(*to));
	return n;
}

static void on_results(struct dg *d, const struct dg_msg *m)
{
	char text[512];

	if (!d->in_utt && !d->finishing)
		return;
	if (m->is_final) {
		d->n_fw += words_add(d->fw + d->n_fw, MAX_WORDS - d->n_fw, m);
		d->n_iw = 0;
		d->interim = false;
	}
	else {
		d->n_iw = words_add(d->iw, MAX_WORDS, m);
		d->interim = true;
	}
	d->settled = m->is_final && m->speech_final;
	if (d->finishing) {
		if (m->from_finalize || d->settled)
			deliver_final(d);
		return;
	}
	words_text(d, text, sizeof(text), NULL);
	if (d->partialh)
		d->partialh(text, d->arg);
}

/* Flux (/v2/listen): the recogniser's own turns. */
static void on_turninfo(struct dg *d, const struct dg_msg *m)
{
	static const enum bt_stt_turn_ev to[] = {
		[DG_EV_START] = BT_STT_SPEECH_STARTED,
		[DG_EV_EAGER] = BT_STT_EAGER_END,
		[DG_EV_RESUMED] = BT_STT_TURN_RESUMED,
	};

	str_ncpy(d->flux_text, m->text, sizeof(d->flux_text));
	d->flux_conf = m->conf;
	if (m->event == DG_EV_END) {
		if (d->finishing) {
			deliver_final(d);
			return;
		}
		if (d->turnh)
			d->turnh(BT_STT_END_OF_TURN, m->text, d->arg);
		d->flux_text[0] = '\0';
		return;
	}
	if (m->event != DG_EV_OTHER && d->turnh)
		d->turnh(to[m->event], m->text, d->arg);
	if (d->in_utt && d->partialh)
		d->partialh(m->text, d->arg);
}

static void recv_h(bool text, const uint8_t *buf, size_t n, void *arg)
{
	struct dg *d = arg;
	struct dg_msg m;

	if (!text || dg_msg_read(&m, buf, n, d->utt_t0))
		return;  /* not ours to judge: skip what we cannot read */
	++d->since_finalize;
	switch (m.type) {
	case DG_RESULTS:  /* Nova's words; a Flux socket has none */
		if (!d->flux)
			on_results(d, &m);
		break;
	case DG_TURNINFO:  /* and Nova has no turns of its own */
		if (d->flux)
			on_turninfo(d, &m);
		break;
	case DG_SPEECH_STARTED:
		if (d->turnh)
			d->turnh(BT_STT_SPEECH_STARTED, NULL, d->arg);
		break;
	case DG_UTTERANCE_END:
		if (d->finishing)
			deliver_final(d);
		else if (d->turnh)
			d->turnh(BT_STT_UTTERANCE_END, NULL, d->arg);
		break;
	case DG_ERROR: {
		char msg[400];

		snprintf(msg, sizeof(msg), "Deepgram reported an error: %s",
			 m.desc);
		dg_fail(d, EPROTO, msg);
		break;
	}
	case DG_OTHER:
		break;
	}
}

static void send_audio(struct dg *d, const int16_t *pcm, size_t n)
{
	if (bt_ws_send_bin(d->ws, pcm, n * sizeof(*pcm)) == 0)
		d->last_audio = tmr_jiffies();
}

/* What is held goes out now (a chunk is full, the socket opened, the
 * turn ended: Finalize must come after the last of the audio). */
static void flush_audio(struct dg *d)
{
	if (d->n_pend && bt_ws_is_open(d->ws)) {
		send_audio(d, d->pend, d->n_pend);
		d->n_pend = 0;
	}
}

static void open_h(void *arg)
{
	struct dg *d = arg;

	d->opened = true;
	flush_audio(d);
	d->last_audio = tmr_jiffies();
}

static void close_h(int err, uint16_t code, const char *msg, void *arg)
{
	struct dg *d = arg;
	char m[800];

	(void)code;
	snprintf(m, sizeof(m), "Deepgram: %s", msg);
	dg_fail(d, err ? err : ECONNRESET, m);
}

static void tick_h(void *arg)
{
	struct dg *d = arg;

	tmr_start(&d->tick, TICK_MS, tick_h, d);
	if (d->opened && tmr_jiffies() - d->last_audio >= KEEPALIVE_MS) {
		(void)bt_ws_send_text(d->ws, "{\"type\":\"KeepAlive\"}");
		d->last_audio = tmr_jiffies();
	}
}

static void fin_timeout_h(void *arg)
{
	struct dg *d = arg;
	char msg[200];

	if (d->since_finalize) {
		/* it answers, just not this: the words we have */
		deliver_final(d);
		return;
	}
	snprintf(msg, sizeof(msg), "Deepgram sent nothing within %u ms of "
		 "the end of the utterance", d->final_timeout_ms);
	dg_fail(d, ETIMEDOUT, msg);
}

static int url_add(char *url, size_t sz, size_t *pos, const char *k,
		   const char *v)
{
	char enc[256];
	size_t e = 0;
	int m;

	for (; *v && e + 4 < sizeof(enc); v++) {
		unsigned char c = (unsigned char)*v;

		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '-' || c == '_' ||
		    c == '.' || c == '~')
			enc[e++] = (char)c;
		else
			e += (size_t)snprintf(enc + e, sizeof(enc) - e,
					      "%%%02X", c);
	}
	enc[e] = '\0';
	m = snprintf(url + *pos, sz - *pos, "%c%s=%s",
		     strchr(url, '?') ? '&' : '?', k, enc);
	if (m < 0 || (size_t)m >= sz - *pos)
		return E2BIG;
	*pos += (size_t)m;
	return 0;
}

static int build_url(struct dg *d, const json_t *sec)
{
	const char *base = base_url();
	const char *model = sec_str(sec, "model", "nova-3");
	char num[32];
	size_t pos = 0;
	int err = 0;
	const json_t *kt, *v;
	size_t i;

	d->flux = !strncmp(model, "flux", 4);
	if (bt_url_join(d->url, sizeof(d->url) - 64, base, true,
			d->flux ? "/v2/listen" : "/v1/listen"))
		return bt_err(E2BIG, "DEEPGRAM_BASE_URL is too long");
	pos = strlen(d->url);
	err |= url_add(d->url, sizeof(d->url), &pos, "model", model);
	err |= url_add(d->url, sizeof(d->url), &pos, "encoding", "linear16");
	snprintf(num, sizeof(num), "%u", BT_RATE_HZ);
	err |= url_add(d->url, sizeof(d->url), &pos, "sample_rate", num);
	if (d->flux) {
		static const char *const fk[] = {"eot_threshold",
						 "eager_eot_threshold", NULL};
		for (i = 0; fk[i]; i++) {
			v = json_object_get(sec, fk[i]);
			if (json_is_number(v)) {
				snprintf(num, sizeof(num), "%.2f",
					 json_number_value(v));
				err |= url_add(d->url, sizeof(d->url), &pos,
					       fk[i], num);
			}
		}
		snprintf(num, sizeof(num), "%ld",
			 sec_int(sec, "eot_timeout_ms", 5000));
		err |= url_add(d->url, sizeof(d->url), &pos,
			       "eot_timeout_ms", num);
	}
	else {
		err |= url_add(d->url, sizeof(d->url), &pos, "channels", "1");
		err |= url_add(d->url, sizeof(d->url), &pos, "language",
			       sec_str(sec, "language", "en"));
		err |= url_add(d->url, sizeof(d->url), &pos,
			       "interim_results", "true");
		snprintf(num, sizeof(num), "%ld",
			 sec_int(sec, "endpointing_ms", 300));
		err |= url_add(d->url, sizeof(d->url), &pos, "endpointing",
			       num);
		snprintf(num, sizeof(num), "%ld",
			 sec_int(sec, "utterance_end_ms", 1000));
		err |= url_add(d->url, sizeof(d->url), &pos,
			       "utterance_end_ms", num);
		err |= url_add(d->url, sizeof(d->url), &pos, "vad_events",
			       "true");
		err |= url_add(d->url, sizeof(d->url), &pos, "smart_format",
			       json_is_true(json_object_get(sec,
					"smart_format")) ? "true" : "false");
	}
	kt = json_object_get(sec, "keyterm");
	json_array_foreach(kt, i, v)
		err |= url_add(d->url, sizeof(d->url), &pos, "keyterm",
			       json_string_value(v));
	if (json_is_string(json_object_get(sec, "tag")))
		err |= url_add(d->url, sizeof(d->url), &pos, "tag",
			       sec_str(sec, "tag", ""));
	if (err)
		return bt_err(E2BIG, "the Deepgram URL is longer than %zu "
			      "bytes: fewer or shorter keyterms",
			      sizeof(d->url));
	return 0;
}

static int dg_alloc(struct bt_stt_st **stp, const struct bt_stt_prm *prm)
{
	const json_t *sec = prm ? prm->section : NULL;
	const char *key = getenv("DEEPGRAM_API_KEY");
	char hdr[512];
	struct bt_ws_prm wp;
	struct dg *d;
	int err;

	d = mem_zalloc(sizeof(*d), dg_destructor);
	if (!d)
		return ENOMEM;
	d->stt = &dg_stt;
	if (prm) {
		d->partialh = prm->partialh;
		d->finalh = prm->finalh;
		d->failh = prm->failh;
		d->turnh = prm->turnh;
		d->arg = prm->arg;
	}
	d->final_timeout_ms = (uint32_t)sec_int(sec, "final_timeout_ms", 1500);
	d->chunk = (size_t)sec_int(sec, "chunk_ms", 40) * (BT_RATE_HZ / 1000);
	tmr_init(&d->tick);
	tmr_init(&d->fin);
	d->pend = mem_alloc(PEND_MAX * sizeof(int16_t), NULL);
	if (!d->pend) {
		err = ENOMEM;
		goto out;
	}
	err = build_url(d, sec);
	if (err)
		goto out;
	hdr[0] = '\0';
	if (key && *key)
		snprintf(hdr, sizeof(hdr), "Authorization: Token %s\r\n", key);
	memset(&wp, 0, sizeof(wp));
	wp.url = d->url;
	wp.headers = hdr;
	wp.connect_timeout_ms = (uint32_t)sec_int(sec, "connect_timeout_ms",
						  3000);
	err = bt_ws_connect(&d->ws, &wp, open_h, recv_h, close_h, d);
	if (err) {
		err = bt_err(err, "cannot start a connection to Deepgram at "
			     "%s: %s", d->url, strerror(err));
		goto out;
	}
	tmr_start(&d->tick, TICK_MS, tick_h, d);
 out:
	if (err)
		mem_deref(d);
	else
		*stp = (struct bt_stt_st *)d;
	return err;
}

static void dg_listen(struct bt_stt_st *st, const int16_t *pcm, size_t n)
{
	struct dg *d = (struct dg *)st;

	if (d->failed || !n)
		return;
	d->sent += n;
	if (bt_ws_is_open(d->ws) && d->n_pend + n <= PEND_MAX) {
		/* frames go out chunk_ms at a time: a message per 20 ms frame
		 * costs the loop a send and the server a message each */
		memcpy(d->pend + d->n_pend, pcm, n * sizeof(int16_t));
		d->n_pend += n;
		if (d->n_pend >= d->chunk)
			flush_audio(d);
		return;
	}
	if (d->n_pend + n > PEND_MAX) {
		/* connecting for longer than the buffer: keep the newest */
		size_t drop = d->n_pend + n - PEND_MAX;

		if (drop > d->n_pend)
			drop = d->n_pend;
		memmove(d->pend, d->pend + drop,
			(d->n_pend - drop) * sizeof(int16_t));
		d->n_pend -= drop;
	}
	if (n > PEND_MAX)
		return;
	memcpy(d->pend + d->n_pend, pcm, n * sizeof(int16_t));
	d->n_pend += n;
}

static int dg_start(struct bt_stt_st *st, const char *grammar, bool overlap)
{
	struct dg *d = (struct dg *)st;

	(void)grammar;  /* the model is open; keyterms bias it */
	(void)overlap;  /* no overlap classifier */
	if (d->failed)
		return bt_err(EPIPE, "the Deepgram connection has failed");
	d->in_utt = true;
	d->finishing = false;
	d->n_fw = d->n_iw = 0;
	d->interim = false;
	d->settled = false;
	d->flux_text[0] = '\0';
	/* the session's utterance includes up to ~0.5 s before its onset
	 * was confirmed: words ending after that are its own */
	d->utt_t0 = (double)d->sent / BT_RATE_HZ - 0.7;
	return 0;
}

static int dg_feed(struct bt_stt_st *st, const int16_t *pcm, size_t n)
{
	(void)st;
	(void)pcm;
	(void)n;
	return 0;  /* the audio went out through listen() */
}

static int dg_finish(struct bt_stt_st *st, struct bt_transcript *tr)
{
	struct dg *d = (struct dg *)st;

	if (d->failed)
		return bt_err(EPIPE, "the Deepgram connection has failed");
	d->in_utt = false;
	flush_audio(d);
	if (d->flux) {
		/* Flux finalises turns itself; what it has is the final */
		str_ncpy(tr->text, d->flux_text, sizeof(tr->text));
		tr->confidence = d->flux_conf;
		d->flux_text[0] = '\0';
		return 0;
	}
	if (d->settled && d->n_fw && bt_ws_is_open(d->ws)) {
		/* Deepgram's endpointing closed the speech: all is final */
		words_text(d, tr->text, sizeof(tr->text), &tr->confidence);
		d->n_fw = 0;
		return 0;
	}
	d->finishing = true;
	d->since_finalize = 0;
	flush_audio(d);
	if (bt_ws_is_open(d->ws))
		(void)bt_ws_send_text(d->ws, "{\"type\":\"Finalize\"}");
	tmr_start(&d->fin, d->final_timeout_ms, fin_timeout_h, d);
	return EINPROGRESS;
}

static bool dg_hyp(struct bt_stt_st *st, char *buf, size_t sz)
{
	struct dg *d = (struct dg *)st;

	words_text(d, buf, sz, NULL);
	return true;
}

static struct bt_stt dg_stt = {
	.name = "deepgram",
	.alloch = dg_alloc,
	.starth = dg_start,
	.feedh = dg_feed,
	.hyph = dg_hyp,
	.finishh = dg_finish,
	.listenh = dg_listen,
	.checkh = dg_check,
	.keys = dg_keys,
	.network = true,
};

int bt_stt_deepgram_init(void)
{
	if (!bt_stt_find("deepgram"))
		bt_stt_register(&dg_stt);
	return 0;
}
