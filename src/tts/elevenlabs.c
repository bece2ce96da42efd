/**
 * @file elevenlabs.c  TTS provider "elevenlabs": ElevenLabs' multi-context
 *                     WebSocket (/v1/text-to-speech/{voice}/multi-stream-
 *                     input), PCM at 16 kHz with its character alignment.
 *
 * One socket per call, opened when the session is made, so the greeting
 * pays no handshake. Each sentence is a context of its own: its text goes
 * out with flush as soon as the planner has it, its audio streams back
 * and plays at once, and a barge-in closes that context (close_context),
 * so the server stops generating for it. The alignment (characters with
 * start times and durations, per audio chunk) becomes the words'
 * timings, so what the caller heard is known to the word.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <re.h>
#include "banter/banter.h"
#include "net/url.h"
#include "net/ws.h"
#include "tts/el_wire.h"

enum {
	PCM_RATE_HZ = 16000,
	WORDS_MAX = 64,      /* words handed on per chunk */
};

struct el {
	const struct bt_tts *tts;  /* first: see bt_tts_of() */
	struct bt_ws *ws;
	struct list streams;       /* sentences in flight */
	unsigned next_ctx;
	bool failed;
	char why[600];
	char url[1024];
	char hdr[300];
};

struct bt_tts_stream {
	struct le le;
	struct el *el;
	char ctx[24];
	char *text;
	bool sent, done;
	bt_tts_chunk_h *h;
	void *arg;
	struct el_align al;     /* its words, from the alignment */
};

static struct bt_tts el_tts;

static void stream_fail(struct bt_tts_stream *st, int err, const char *msg)
{
	struct bt_tts_chunk c = {0};

	if (st->done)
		return;
	st->done = true;
	c.last = true;
	c.err = err;
	c.msg = msg;
	st->h(NULL, 0, PCM_RATE_HZ, &c, st->arg);
}

/* The socket is gone: every sentence in flight fails, and later ones at
 * once (the session's fallback voice takes them). */
static void el_fail(struct el *e, int err, const char *msg)
{
	struct le *le;

	if (e->failed)
		return;
	e->failed = true;
	str_ncpy(e->why, msg, sizeof(e->why));
	e->ws = mem_deref(e->ws);
	le = e->streams.head;
	while (le) {
		struct bt_tts_stream *st = le->data;

		le = le->next;
		stream_fail(st, err, e->why);  /* may free st */
	}
}

static void send_text(struct bt_tts_stream *st)
{
	json_t *o;
	char *js;

	if (st->sent || !bt_ws_is_open(st->el->ws))
		return;
	/* the text ends in a space, as the API wants; flush: now */
	o = json_pack("{s:s+, s:s, s:b}", "text", st->text, " ",
		      "context_id", st->ctx, "flush", 1);
	js = o ? json_dumps(o, JSON_COMPACT) : NULL;
	json_decref(o);
	if (js && !bt_ws_send_text(st->el->ws, js))
		st->sent = true;
	free(js);
}

static void open_h(void *arg)
{
	struct el *e = arg;
	struct le *le;

	LIST_FOREACH(&e->streams, le)
		send_text(le->data);
}

static void close_h(int err, uint16_t code, const char *msg, void *arg)
{
	struct el *e = arg;
	char m[800];

	(void)code;
	snprintf(m, sizeof(m), "ElevenLabs: %s", msg);
	el_fail(e, err ? err : ECONNRESET, m);
}

static struct bt_tts_stream *find(struct el *e, const char *ctx)
{
	struct le *le;

	LIST_FOREACH(&e->streams, le) {
		struct bt_tts_stream *st = le->data;

		if (!strcmp(st->ctx, ctx))
			return st;
	}
	return NULL;
}

static void recv_h(bool text, const uint8_t *buf, size_t n, void *arg)
{
	struct el *e = arg;
	struct bt_tts_word words[WORDS_MAX];
	struct bt_tts_chunk c = {0};
	struct bt_tts_stream *st;
	struct el_msg m;
	int16_t *pcm = NULL;
	size_t np = 0;

	if (!text || el_msg_read(&m, buf, n))
		return;
	st = m.ctx ? find(e, m.ctx) : NULL;
	if (m.err) {
		char msg[400];

		snprintf(msg, sizeof(msg), "ElevenLabs reported an error: "
			 "%.300s", m.err);
		if (st)
			stream_fail(st, EPROTO, msg);
		else
			el_fail(e, EPROTO, msg);
		goto out;
	}
	if (!st || st->done)
		goto out;  /* a context we closed: its tail is dropped */
	if (el_msg_audio(&m, &pcm, &np) == EBADMSG) {
		stream_fail(st, EPROTO, "ElevenLabs sent audio that is not "
			    "base64; the sentence goes to the next voice");
		goto out;
	}
	c.n_words = el_align_read(&st->al, m.alignment, words, WORDS_MAX);
	c.words = words;
	el_align_advance(&st->al, np, PCM_RATE_HZ);
	c.last = m.last;
	if (c.last) {
		el_align_flush(&st->al, words, &c.n_words, WORDS_MAX);
		st->done = true;
	}
	if (np || c.n_words || c.last)
		st->h(pcm, np, PCM_RATE_HZ, &c, st->arg);
 out:
	mem_deref(pcm);
	el_msg_clear(&m);
}

static void el_destructor(void *arg)
{
	struct el *e = arg;
	struct le *le;

	while ((le = e->streams.head)) {
		struct bt_tts_stream *st = le->data;

		list_unlink(&st->le);
		st->el = NULL;
	}
	if (bt_ws_is_open(e->ws))
		(void)bt_ws_send_text(e->ws, "{\"close_socket\":true}");
	mem_deref(e->ws);
}

static int el_alloc(struct bt_tts_st **stp, const char *voice,
		    const struct bt_tts_prm *prm)
{
	const char *key = getenv("ELEVENLABS_API_KEY");
	const char *model = getenv("ELEVENLABS_MODEL");
	const char *base = bt_url_env("ELEVENLABS_BASE_URL", NULL,
				      "wss://api.elevenlabs.io");
	char path[256];
	struct bt_ws_prm wp;
	struct el *e;
	int err;

	if (!voice || !*voice || strspn(voice, "abcdefghijklmnopqrstuvwxyz"
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-") != strlen(voice) ||
	    strlen(voice) > 64)
		return bt_err(EINVAL, "\"elevenlabs:%s\" needs a voice id "
			      "(letters and digits, e.g. "
			      "\"elevenlabs:21m00Tcm4TlvDq8ikWAM\")",
			      voice ? voice : "");
	if ((!key || !*key) && !bt_url_is_local(base))
		return bt_err(EINVAL, "the voice \"elevenlabs:%s\" needs "
			      "ELEVENLABS_API_KEY; export it (or point "
			      "ELEVENLABS_BASE_URL at a local server)", voice);
	e = mem_zalloc(sizeof(*e), el_destructor);
	if (!e)
		return ENOMEM;
	e->tts = &el_tts;
	list_init(&e->streams);
	snprintf(path, sizeof(path), "/v1/text-to-speech/%s/multi-stream-"
		 "input?model_id=%.64s&output_format=pcm_16000&sync_alignment="
		 "true&inactivity_timeout=180", voice, model && *model ? model :
		 "eleven_flash_v2_5");
	if (bt_url_join(e->url, sizeof(e->url), base, true, path)) {
		mem_deref(e);
		return bt_err(E2BIG, "ELEVENLABS_BASE_URL is too long");
	}
	if (key && *key)
		snprintf(e->hdr, sizeof(e->hdr), "xi-api-key: %.250s\r\n", key);
	if (prm && prm->probe) {
		*stp = (struct bt_tts_st *)e;
		return 0;
	}
	memset(&wp, 0, sizeof(wp));
	wp.url = e->url;
	wp.headers = e->hdr;
	wp.connect_timeout_ms = 3000;
	err = bt_ws_connect(&e->ws, &wp, open_h, recv_h, close_h, e);
	if (err) {
		mem_deref(e);
		return bt_err(err, "cannot start a connection to ElevenLabs "
			      "at %s", base);
	}
	*stp = (struct bt_tts_st *)e;
	return 0;
}

static int el_synth(struct bt_tts_st *st, const char *text,
		    struct bt_tts_audio **audiop)
{
	(void)st;
	(void)text;
	(void)audiop;
	return bt_err(ENOTSUP, "the \"elevenlabs\" voice streams on the "
		      "call's event loop; use it as an agent's voice, not for "
		      "a simulated caller");
}

static void stream_destructor(void *arg)
{
	struct bt_tts_stream *st = arg;

	if (st->el && !st->done && st->sent && bt_ws_is_open(st->el->ws)) {
		/* a barge-in: the server stops generating this context */
		char m[96];

		snprintf(m, sizeof(m), "{\"context_id\":\"%s\","
			 "\"close_context\":true}", st->ctx);
		(void)bt_ws_send_text(st->el->ws, m);
	}
	list_unlink(&st->le);
	mem_deref(st->text);
}

static int el_stream(struct bt_tts_stream **sp, struct bt_tts_st *tst,
		     const char *text, bt_tts_chunk_h *h, void *arg)
{
	struct el *e = (struct el *)tst;
	struct bt_tts_stream *st;
	int err;

	if (!sp || !e || !text || !h)
		return EINVAL;
	if (e->failed || (!e->ws))
		return bt_err(ENOTCONN, "%s", e->failed ? e->why :
			      "ElevenLabs is not connected");
	st = mem_zalloc(sizeof(*st), stream_destructor);
	if (!st)
		return ENOMEM;
	st->el = e;
	st->h = h;
	st->arg = arg;
	snprintf(st->ctx, sizeof(st->ctx), "c%u", ++e->next_ctx);
	err = str_dup(&st->text, text);
	if (err) {
		mem_deref(st);
		return err;
	}
	list_append(&e->streams, &st->le, st);
	send_text(st);
	*sp = st;
	return 0;
}

static struct bt_tts el_tts = {
	.name = "elevenlabs",
	.alloch = el_alloc,
	.synthh = el_synth,
	.streamh = el_stream,
};

int bt_tts_elevenlabs_init(void)
{
	if (!bt_tts_find("elevenlabs"))
		bt_tts_register(&el_tts);
	return 0;
}
