/*
 * The session state machine and turn-taking v1, with scripted providers
 * (VAD: a frame is speech if it is loud; STT: returns the scripted text;
 * TTS: 200 ms of tone per word with exact word timings; brain: scripted
 * replies). What is tested is the session's logic, not the engines.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "banter/banter.h"
#include "core/planner.h"

/* ---- scripted providers ---- */

struct fvad { const struct bt_vad *vad; };
static int fvad_alloc(struct bt_vad_st **stp);
static int fvad_frame(struct bt_vad_st *st, const int16_t *pcm, size_t n,
		      float *probp)
{
	(void)st;
	*probp = (n && pcm[0] > 1000) ? 1.0f : 0.0f;
	return 0;
}
static struct bt_vad fake_vad = {.name = "fake", .alloch = fvad_alloc,
				 .frameh = fvad_frame};
static int fvad_alloc(struct bt_vad_st **stp)
{
	struct fvad *v = mem_zalloc(sizeof(*v), NULL);
	v->vad = &fake_vad;
	*stp = (struct bt_vad_st *)v;
	return 0;
}

static char stt_text[128];
static float stt_conf = 0.9f;  /* the fake STT's confidence */
static int stt_starts;
static bool stt_overlap;  /* what the last utterance was started with */
struct fstt { const struct bt_stt *stt; size_t fed; char sent[128];
	      bt_stt_partial_h *partialh; void *arg; };
static int fstt_alloc(struct bt_stt_st **stp, const struct bt_stt_prm *prm);
static int fstt_start(struct bt_stt_st *st, const char *g, bool overlap)
{
	(void)g;
	stt_overlap = overlap;
	((struct fstt *)st)->fed = 0;
	((struct fstt *)st)->sent[0] = '\0';
	++stt_starts;
	return 0;
}
static int fstt_feed(struct bt_stt_st *st, const int16_t *pcm, size_t n)
{
	struct fstt *f = (struct fstt *)st;

	(void)pcm;
	f->fed += n;
	/* words show up after 200 ms of audio, as events */
	if (f->fed >= 3200 && strcmp(f->sent, stt_text)) {
		str_ncpy(f->sent, stt_text, sizeof(f->sent));
		f->partialh(f->sent, f->arg);
	}
	return 0;
}
/* a network recogniser: the final transcript comes later, by finalh */
static bool stt_async;
static bt_stt_final_h *stt_finalh;
static void *stt_final_arg;
static int fstt_finish(struct bt_stt_st *st, struct bt_transcript *tr)
{
	(void)st;
	if (stt_async)
		return EINPROGRESS;
	str_ncpy(tr->text, stt_text, sizeof(tr->text));
	tr->confidence = stt_conf;
	return 0;
}
/* the overlap classifier's scripted reading; off: no classifier */
static bool ov_on;
static struct bt_stt_overlap ov_read;
static int fstt_overlap(struct bt_stt_st *st, struct bt_stt_overlap *ov)
{
	(void)st;
	if (!ov_on)
		return ENOTSUP;
	/* as pocketsphinx: only an utterance started for overlap reading */
	if (!stt_overlap)
		return EINVAL;
	*ov = ov_read;
	return 0;
}
static void ov_script(enum bt_overlap_kind kind, const char *text,
		     float conf)
{
	ov_on = true;
	ov_read.kind = kind;
	str_ncpy(ov_read.text, text, sizeof(ov_read.text));
	ov_read.confidence = conf;
	ov_read.stop_llr = kind == BT_OVERLAP_STOP ? 10.0f : -10.0f;
}
static struct bt_stt fake_stt = {.name = "fake", .alloch = fstt_alloc,
	.starth = fstt_start, .feedh = fstt_feed,
	.finishh = fstt_finish, .overlaph = fstt_overlap};
static int fstt_alloc(struct bt_stt_st **stp, const struct bt_stt_prm *prm)
{
	struct fstt *s = mem_zalloc(sizeof(*s), NULL);
	stt_finalh = prm->finalh;
	stt_final_arg = prm->arg;
	s->partialh = prm->partialh;
	s->arg = prm->arg;
	s->stt = &fake_stt;
	*stp = (struct bt_stt_st *)s;
	return 0;
}

struct ftts { const struct bt_tts *tts; };
static int ftts_alloc(struct bt_tts_st **stp, const char *voice,
		      const struct bt_tts_prm *prm);
static void audio_destructor(void *arg)
{
	struct bt_tts_audio *a = arg;
	mem_deref(a->pcm);
	mem_deref(a->words);
}
static int ftts_synth(struct bt_tts_st *st, const char *text,
		      struct bt_tts_audio **ap)
{
	struct bt_tts_audio *a = mem_zalloc(sizeof(*a), audio_destructor);
	const char *p = text;
	size_t nw = 0;

	(void)st;
	a->rate_hz = 16000;
	a->words = mem_zalloc(64 * sizeof(*a->words), NULL);
	while (*p && nw < 64) {
		size_t l = strcspn(p, " ");
		if (l) {
			snprintf(a->words[nw].text, sizeof(a->words[nw].text),
				 "%.*s", (int)l, p);
			a->words[nw].start_ms = (uint32_t)nw * 200;
			a->words[nw].end_ms = (uint32_t)nw * 200 + 200;
			++nw;
		}
		p += l;
		while (*p == ' ')
			++p;
	}
	a->n_words = nw;
	a->n = nw * 3200;
	a->pcm = mem_zalloc(a->n * sizeof(int16_t) + 2, NULL);
	for (size_t i = 0; i < a->n; i++)
		a->pcm[i] = 500;
	*ap = a;
	return 0;
}
static struct bt_tts fake_tts = {.name = "fake", .alloch = ftts_alloc,
				 .synthh = ftts_synth};
static int ftts_alloc(struct bt_tts_st **stp, const char *voice,
		      const struct bt_tts_prm *prm)
{
	struct ftts *t = mem_zalloc(sizeof(*t), NULL);
	(void)voice;
	(void)prm;
	t->tts = &fake_tts;
	*stp = (struct bt_tts_st *)t;
	return 0;
}

static const char *greeting = "one two three four five six seven eight.";
static bool protect_greeting;
static char last_user[128];
static unsigned idles;
static bool end_next;
/* hold the reply to the user: the agent stays THINKING */
static bool hold_reply;
/* ... and keep its sink, as an asynchronous brain (an LLM) does */
static bool keep_sink;
static struct bt_brain_sink held_sink;
static unsigned cancels;
/* the greeting asks for a transfer there; what a failure said */
static const char *xfer_greeting;
static char last_xfer[128];
struct fbrain { const struct bt_brain *b; };
static int fbrain_alloc(struct bt_brain_st **stp, const json_t *agent,
			const struct bt_brain_ctx *ctx);
static int fbrain_check(const json_t *agent, const char **pathp)
{
	(void)agent;
	(void)pathp;
	return 0;
}
static int fbrain_respond(struct bt_brain_st *st,
			  const struct bt_brain_input *in,
			  const struct bt_brain_sink *sink)
{
	struct bt_brain_done d = {false, NULL, NULL, false, NULL};

	(void)st;
	if (in->type == BT_BRAIN_START) {
		if (protect_greeting)
			sink->segmenth(true, sink->arg);
		sink->texth(greeting, sink->arg);
		if (protect_greeting)
			sink->segmenth(false, sink->arg);
	}
	else if (in->type == BT_BRAIN_IDLE) {
		++idles;
		sink->texth("are you there?", sink->arg);
	}
	else if (in->type == BT_BRAIN_TRANSFER) {
		str_ncpy(last_xfer, in->text, sizeof(last_xfer));
		sink->texth("sorry, nobody answers.", sink->arg);
	}
	else {
		str_ncpy(last_user, in->text, sizeof(last_user));
		if (hold_reply) {
			if (keep_sink) {
				held_sink = *sink;
				mem_ref(sink->arg);
			}
			return 0;  /* still thinking when the user goes on */
		}
		sink->texth("okay. got it.", sink->arg);
	}
	d.end_call = end_next;
	if (in->type == BT_BRAIN_START)
		d.transfer_to = xfer_greeting;
	sink->doneh(&d, sink->arg);
	return 0;
}
static void fbrain_cancel(struct bt_brain_st *st, void *arg)
{
	(void)st;
	(void)arg;
	++cancels;
}

static struct bt_brain fake_brain = {.name = "fake", .checkh = fbrain_check,
	.alloch = fbrain_alloc, .respondh = fbrain_respond,
	.cancelh = fbrain_cancel};
static int fbrain_alloc(struct bt_brain_st **stp, const json_t *agent,
			const struct bt_brain_ctx *ctx)
{
	struct fbrain *b = mem_zalloc(sizeof(*b), NULL);
	(void)agent;
	(void)ctx;
	b->b = &fake_brain;
	*stp = (struct bt_brain_st *)b;
	return 0;
}

/* ---- the harness ---- */

struct rec {
	unsigned n_barge, n_back, n_turn, n_ended, n_paused, n_resumed;
	unsigned n_kept, n_done;
	unsigned n_xfer;
	char xfer_json[512];     /* the last transfer event */
	char ended[64];          /* why the call ended */
	char done_text[256];
	uint64_t barge_ms;
	char barge_text[256];
	char turn_json[2048];
	char user_json[2048];
	char agent_all[1024];    /* every sentence the agent was to say */
};

static void on_event(const struct bt_event *ev, void *arg)
{
	struct rec *r = arg;

	if (getenv("BT_TEST_VERBOSE"))
		fprintf(stderr, "%s\n", ev->json);
	switch (ev->type) {
	case BT_EV_BARGE_IN:
		++r->n_barge;
		r->barge_ms = ev->t_ms;
		str_ncpy(r->barge_text, ev->text, sizeof(r->barge_text));
		break;
	case BT_EV_BACKCHANNEL:
		++r->n_back;
		break;
	case BT_EV_PAUSED:
		++r->n_paused;
		break;
	case BT_EV_RESUMED:
		++r->n_resumed;
		break;
	case BT_EV_KEPT:
		++r->n_kept;
		break;
	case BT_EV_AGENT_DONE:
		if (!r->n_done++)
			str_ncpy(r->done_text, ev->text, sizeof(r->done_text));
		break;
	case BT_EV_USER:
		str_ncpy(r->user_json, ev->json, sizeof(r->user_json));
		break;
	case BT_EV_AGENT: {
		size_t l = strlen(r->agent_all);
		snprintf(r->agent_all + l, sizeof(r->agent_all) - l, "%s|",
			 ev->text);
		break;
	}
	case BT_EV_TURN:
		++r->n_turn;
		str_ncpy(r->turn_json, ev->json, sizeof(r->turn_json));
		break;
	case BT_EV_ENDED:
		++r->n_ended;
		str_ncpy(r->ended, ev->text, sizeof(r->ended));
		break;
	case BT_EV_TRANSFER:
		++r->n_xfer;
		str_ncpy(r->xfer_json, ev->json, sizeof(r->xfer_json));
		break;
	default:
		break;
	}
}

static const char *agent_json =
	"{\"name\": \"t\", \"persona\": {\"voice\": \"fake:x\"},"
	" \"stt\": {\"provider\": \"fake\"}, \"vad\": {\"provider\": \"fake\"},"
	" \"brain\": {\"provider\": \"fake\"},"
	" \"turn\": {\"end_silence_ms\": 400, \"barge_in_min_ms\": 300,"
	" \"idle_ms\": 3000, \"endpointing\": \"fixed\"}}";

static const char *adaptive_json =
	"{\"name\": \"t\", \"persona\": {\"voice\": \"fake:x\"},"
	" \"stt\": {\"provider\": \"fake\"}, \"vad\": {\"provider\": \"fake\"},"
	" \"brain\": {\"provider\": \"fake\"},"
	" \"turn\": {\"idle_ms\": 30000, \"endpointing\": \"adaptive\"}}";

static struct bt_session *open_agent(struct rec *r, const char *json)
{
	struct bt_agent *a = NULL;
	struct bt_session *s = NULL;
	int err;

	err = bt_agent_load_str(&a, json, "test-agent");
	if (err)
		fail_msg("agent: %s", bt_errmsg());
	err = bt_session_alloc(&s, a, NULL, on_event, r);
	if (err)
		fail_msg("session: %s", bt_errmsg());
	mem_deref(a);
	return s;
}

static struct bt_session *open_session(struct rec *r)
{
	return open_agent(r, agent_json);
}

/* Run ms of audio: loud (user speech) or quiet. Returns agent frames. */
static unsigned run(struct bt_session *s, unsigned ms, bool loud,
		    bool *stopped_in_frame)
{
	unsigned speech_frames = 0;

	for (unsigned t = 0; t < ms; t += 20) {
		int16_t in[320], out[320];
		bool sp = false;
		for (int i = 0; i < 320; i++)
			in[i] = loud ? 3000 : 0;
		enum bt_state st;
		assert_int_equal(bt_session_push(s, in, 320), 0);
		st = bt_session_state(s);
		assert_int_equal(bt_session_pull(s, out, 320, &sp), 0);
		if (sp)
			++speech_frames;
		/* invariant: agent audio only while speaking */
		if (sp)
			assert_int_equal(st, BT_ST_SPEAKING);
		else
			for (int i = 0; i < 320; i++)
				assert_int_equal(out[i], 0);
		if (stopped_in_frame && !sp && loud)
			*stopped_in_frame = true;
	}
	return speech_frames;
}

/*
 * An asynchronous brain answers a response after it was cancelled, while
 * the next one plays: none of its text reaches that reply, and the tool
 * result it reports still lands in the history.
 */
static void test_cancelled_response_drops_late_answers(void **state)
{
	struct rec r = {0};
	struct bt_session *s = open_session(&r);
	struct bt_brain_done d = {false, NULL, NULL, false, NULL};
	char *h;

	(void)state;
	cancels = 0;
	bt_session_start(s);
	run(s, 2000, false, NULL);
	hold_reply = keep_sink = true;
	str_ncpy(stt_text, "three people", sizeof(stt_text));
	run(s, 600, true, NULL);
	run(s, 500, false, NULL);
	assert_int_equal(bt_session_state(s), BT_ST_THINKING);
	assert_non_null(held_sink.arg);
	assert_int_equal(bt_session_cancel(s), 0);
	assert_int_equal(cancels, 1);
	assert_int_equal(bt_session_cancel(s), ENOENT);
	hold_reply = keep_sink = false;

	/* the next response (a typed message) is answered and plays */
	assert_int_equal(bt_session_item_add(s, BT_ROLE_USER, "tuesday", NULL),
			 0);
	assert_int_equal(bt_session_respond(s), 0);
	assert_int_equal(bt_session_respond(s), EBUSY);
	run(s, 100, false, NULL);
	assert_int_equal(bt_session_state(s), BT_ST_SPEAKING);

	/* now the cancelled one's answer comes in */
	held_sink.texth("late words.", held_sink.arg);
	held_sink.segmenth(true, held_sink.arg);
	held_sink.toolh("booking.save", "{\"party\":3}", "{\"id\":7}", 0,
			held_sink.arg);
	held_sink.doneh(&d, held_sink.arg);
	mem_deref(held_sink.arg);
	memset(&held_sink, 0, sizeof(held_sink));

	run(s, 1500, false, NULL);
	assert_int_equal(bt_session_state(s), BT_ST_LISTENING);
	assert_null(strstr(r.agent_all, "late"));
	assert_non_null(strstr(r.agent_all, "okay.|got it.|"));
	h = bt_session_history(s);
	assert_null(strstr(h, "late words"));
	assert_non_null(strstr(h, "{\"role\":\"tool\",\"text\":"
			       "\"booking.save({\\\"party\\\":3}) -> "
			       "{\\\"id\\\":7}\""));
	assert_string_equal(last_user, "tuesday");
	mem_deref(h);
	mem_deref(s);
}

static unsigned readies;
static void on_ready(void *arg)
{
	(void)arg;
	++readies;
}

/*
 * A reply's audio that comes between two frames (an asynchronous brain
 * answers, the voice is done at once) is announced by the ready handler,
 * once per reply and not while held, and a pull right then plays it: a
 * transport sends the first frame without waiting for its next tick.
 */
static void test_ready_handler(void **state)
{
	struct rec r = {0};
	struct bt_session *s = open_session(&r);
	struct bt_brain_done d = {false, NULL, NULL, false, NULL};
	int16_t out[320];
	bool sp = false;
	unsigned n;

	(void)state;
	readies = 0;
	bt_session_set_ready_handler(s, on_ready, NULL);
	bt_session_start(s);
	assert_int_equal(readies, 1);  /* the greeting */
	run(s, 2000, false, NULL);
	assert_int_equal(readies, 1);
	hold_reply = keep_sink = true;
	str_ncpy(stt_text, "three people", sizeof(stt_text));
	run(s, 600, true, NULL);
	run(s, 500, false, NULL);
	assert_int_equal(bt_session_state(s), BT_ST_THINKING);
	hold_reply = keep_sink = false;
	/* the brain's answer, between two frames */
	held_sink.texth("okay.", held_sink.arg);
	held_sink.doneh(&d, held_sink.arg);
	mem_deref(held_sink.arg);
	memset(&held_sink, 0, sizeof(held_sink));
	assert_int_equal(readies, 2);
	assert_int_equal(bt_session_state(s), BT_ST_SPEAKING);
	assert_int_equal(bt_session_pull(s, out, 320, &sp), 0);
	assert_true(sp);
	/* the rest plays at the frames' pace; no second call */
	n = run(s, 1000, false, NULL);
	assert_int_equal(n, 9);  /* 200 ms, one frame of it pulled above */
	assert_int_equal(readies, 2);
	assert_int_equal(bt_session_state(s), BT_ST_LISTENING);
	/* the trace: audio out when it was pulled, not a frame later */
	assert_non_null(strstr(r.turn_json, "\"first_audio_ms\":3100"));
	assert_non_null(strstr(r.turn_json, "\"audio_out_ms\":3100"));
	bt_session_set_ready_handler(s, NULL, NULL);
	mem_deref(s);
}

static void test_greeting_plays_whole(void **state)
{
	struct rec r = {0};
	struct bt_session *s = open_session(&r);
	unsigned frames;

	(void)state;
	assert_int_equal(bt_session_start(s), 0);
	assert_int_equal(bt_session_state(s), BT_ST_SPEAKING);
	frames = run(s, 2000, false, NULL);
	/* 8 words x 200 ms = 1.6 s = 80 frames */
	assert_int_equal(frames, 80);
	assert_int_equal(bt_session_state(s), BT_ST_LISTENING);
	assert_int_equal(r.n_turn, 1);
	assert_non_null(strstr(r.turn_json, "\"kind\":\"greeting\""));
	mem_deref(s);
}

static void test_user_turn_and_latency(void **state)
{
	struct rec r = {0};
	struct bt_session *s = open_session(&r);
	char *h;

	(void)state;
	bt_session_start(s);
	run(s, 2000, false, NULL);
	str_ncpy(stt_text, "three people", sizeof(stt_text));
	run(s, 600, true, NULL);
	assert_int_equal(bt_session_state(s), BT_ST_USER_SPEAKING);
	/* the caller's own turn: no overlap classifier */
	assert_false(stt_overlap);
	/* a 200 ms pause is not the end of the turn */
	run(s, 200, false, NULL);
	assert_int_equal(bt_session_state(s), BT_ST_USER_SPEAKING);
	run(s, 400, true, NULL);
	run(s, 500, false, NULL);
	/* the endpoint came after 400 ms of silence: the reply is playing */
	assert_int_equal(bt_session_state(s), BT_ST_SPEAKING);
	assert_string_equal(last_user, "three people");
	run(s, 1500, false, NULL);
	assert_int_equal(bt_session_state(s), BT_ST_LISTENING);
	assert_non_null(strstr(r.turn_json, "\"user_text\":\"three people\""));
	/* speech ended at 3200 ms, endpoint at 3600, audio right after */
	assert_non_null(strstr(r.turn_json, "\"user_speech_end_ms\":3200"));
	assert_non_null(strstr(r.turn_json, "\"endpoint_ms\":3600"));
	assert_non_null(strstr(r.turn_json, "\"voice_to_voice_ms\":400"));
	h = bt_session_history(s);
	assert_non_null(strstr(h, "{\"role\":\"user\",\"text\":\"three people\",\"id\":\"item_"));
	assert_non_null(strstr(h, "\"okay. got it.\""));
	mem_deref(h);
	mem_deref(s);
}

static void test_barge_in_cuts_history(void **state)
{
	struct rec r = {0};
	struct bt_session *s = open_session(&r);
	bool stopped = false;
	char *h;

	(void)state;
	bt_session_start(s);
	/* 700 ms of the greeting: three words heard (0-600 ms) */
	run(s, 700, false, NULL);
	str_ncpy(stt_text, "wait stop", sizeof(stt_text));
	/* the user talks over the agent: words confirm it after 600 ms */
	run(s, 700, true, &stopped);
	assert_int_equal(r.n_barge, 1);
	assert_true(stopped);
	assert_int_equal(bt_session_state(s), BT_ST_USER_SPEAKING);
	/*
	 * heard: the words fully played before the agent paused. Speech
	 * began at 700 ms; the agent paused 40 ms later (the early hold)
	 * and the VAD confirmed it 40 ms after that; its first frame left at 20 ms, so 760 ms had
	 * played: three words of 200 ms.
	 */
	assert_string_equal(r.barge_text, "one two three");
	assert_int_equal(r.n_paused, 1);
	assert_int_equal(r.n_resumed, 0);
	h = bt_session_history(s);
	assert_non_null(strstr(h, "\"text\":\"one two three\""));
	assert_null(strstr(h, "eight"));
	mem_deref(h);
	assert_non_null(strstr(r.turn_json, "\"barge_in\":true"));
	assert_non_null(strstr(r.turn_json,
			       "\"heard_text\":\"one two three\""));
	/* the user's turn goes on and is answered */
	run(s, 600, false, NULL);
	assert_string_equal(last_user, "wait stop");
	mem_deref(s);
}

/* A sound card still holds 400 ms of the agent's audio: the user heard
 * two words fewer than were pulled when they barged in. */
static void test_playout_delay_cuts_what_was_heard(void **state)
{
	struct rec r = {0};
	struct bt_session *s = open_session(&r);

	(void)state;
	bt_session_set_playout_delay(s, 400);
	bt_session_start(s);
	run(s, 700, false, NULL);
	str_ncpy(stt_text, "wait stop", sizeof(stt_text));
	run(s, 700, true, NULL);
	assert_int_equal(r.n_barge, 1);
	assert_string_equal(r.barge_text, "one");
	mem_deref(s);
}

static void final_now(const char *text)
{
	struct bt_transcript tr;

	memset(&tr, 0, sizeof(tr));
	str_ncpy(tr.text, text, sizeof(tr.text));
	tr.confidence = 0.9f;
	stt_finalh(&tr, stt_final_arg);
}

/* A recogniser whose final transcript comes after the end of the turn:
 * the brain hears the turn when it comes, and words said meanwhile
 * begin the next part of the same turn. */
static void test_late_final_transcript(void **state)
{
	struct rec r = {0};
	struct bt_session *s = open_session(&r);

	(void)state;
	bt_session_start(s);
	run(s, 2000, false, NULL);
	stt_async = true;
	last_user[0] = '\0';
	str_ncpy(stt_text, "three", sizeof(stt_text));
	run(s, 600, true, NULL);
	run(s, 800, false, NULL);
	/* the turn has ended, its words are not in yet */
	assert_int_equal(bt_session_state(s), BT_ST_USER_SPEAKING);
	assert_string_equal(last_user, "");
	final_now("three people");
	assert_string_equal(last_user, "three people");
	/* the scripted brain and voice answer at once */
	assert_int_equal(bt_session_state(s), BT_ST_SPEAKING);
	run(s, 1500, false, NULL);
	assert_int_equal(bt_session_state(s), BT_ST_LISTENING);

	/* the caller goes on before the final comes */
	run(s, 600, true, NULL);
	run(s, 800, false, NULL);
	run(s, 400, true, NULL);
	final_now("a table for");
	assert_string_equal(last_user, "three people");
	run(s, 800, false, NULL);
	final_now("three people");
	assert_string_equal(last_user, "a table for three people");
	stt_async = false;
	run(s, 1500, false, NULL);
	mem_deref(s);
}

static void test_backchannel_does_not_stop(void **state)
{
	struct rec r = {0};
	struct bt_session *s = open_session(&r);
	unsigned frames = 0;

	(void)state;
	bt_session_start(s);
	frames += run(s, 300, false, NULL);
	str_ncpy(stt_text, "mhm", sizeof(stt_text));
	frames += run(s, 400, true, NULL);  /* "mhm" for 400 ms */
	frames += run(s, 2000, false, NULL);
	assert_int_equal(r.n_barge, 0);
	assert_int_equal(r.n_back, 1);
	/* a short pause, then the word it was in is said again */
	assert_int_equal(r.n_paused, 1);
	assert_int_equal(r.n_resumed, 1);
	assert_true(frames >= 80 && frames <= 80 + 10);
	assert_int_equal(r.n_done, 1);
	assert_string_equal(r.done_text, greeting);
	assert_int_equal(bt_session_state(s), BT_ST_LISTENING);
	mem_deref(s);
}

/* Words said over the agent for 400 ms: how many barge-ins they made. */
static unsigned said_over_agent(const char *words)
{
	struct rec r = {0};
	struct bt_session *s = open_session(&r);
	unsigned n;

	bt_session_start(s);
	run(s, 300, false, NULL);
	str_ncpy(stt_text, words, sizeof(stt_text));
	run(s, 400, true, NULL);
	run(s, 2000, false, NULL);
	n = r.n_barge;
	mem_deref(s);
	return n;
}

/* A recogniser may write "uh-huh" as two words; "huh" alone asks the
 * agent to say it again, and "mm-hmm" is "mhm". */
static void test_backchannel_spellings(void **state)
{
	(void)state;
	assert_int_equal(said_over_agent("uh huh yeah"), 0);
	assert_int_equal(said_over_agent("uh-huh"), 0);
	assert_int_equal(said_over_agent("mm-hmm"), 0);
	assert_int_equal(said_over_agent("huh"), 1);
	assert_int_equal(said_over_agent("yeah huh"), 1);
}

static void test_false_interruption_resumes(void **state)
{
	struct rec r = {0};
	struct bt_session *s = open_session(&r);

	(void)state;
	bt_session_start(s);
	run(s, 500, false, NULL);
	stt_text[0] = '\0';                 /* a cough: no words */
	run(s, 200, true, NULL);
	run(s, 2000, false, NULL);
	assert_int_equal(r.n_barge, 0);
	assert_int_equal(r.n_paused, 1);
	assert_int_equal(r.n_resumed, 1);
	assert_string_equal(r.done_text, greeting);
	mem_deref(s);
}

/* The grammar forced a "yeah" onto "four"; the classifier knows better. */
static void test_overlap_backchannel(void **state)
{
	struct rec r = {0};
	struct bt_session *s = open_session(&r);

	(void)state;
	bt_session_start(s);
	run(s, 300, false, NULL);
	str_ncpy(stt_text, "four", sizeof(stt_text));
	ov_script(BT_OVERLAP_BACKCHANNEL, "yeah", 0.9f);
	run(s, 400, true, NULL);
	/* speech over the agent: read by the overlap classifier */
	assert_true(stt_overlap);
	run(s, 2000, false, NULL);
	assert_int_equal(r.n_barge, 0);
	assert_int_equal(r.n_back, 1);
	assert_int_equal(r.n_resumed, 1);
	assert_string_equal(r.done_text, greeting);
	ov_on = false;
	mem_deref(s);
}

/* Nobody says "mhm" for over a second: that interrupts, whatever the
 * words sounded like (noise makes "hold on a second" sound like "ah"). */
static void test_overlap_long_speech_interrupts(void **state)
{
	struct rec r = {0};
	struct bt_session *s = open_session(&r);

	(void)state;
	bt_session_start(s);
	run(s, 300, false, NULL);
	str_ncpy(stt_text, "four", sizeof(stt_text));
	ov_script(BT_OVERLAP_BACKCHANNEL, "ah", 0.9f);
	run(s, 900, true, NULL);
	assert_int_equal(r.n_barge, 0);
	run(s, 300, true, NULL);
	assert_int_equal(r.n_barge, 1);
	assert_int_equal(bt_session_state(s), BT_ST_USER_SPEAKING);
	ov_on = false;
	mem_deref(s);
}

/* "no, ... stop": speech again right after a resume continues it, so the
 * two pieces together are long enough to interrupt. */
static void test_overlap_pieces_join(void **state)
{
	struct rec r = {0};
	struct bt_session *s = open_session(&r);

	(void)state;
	bt_session_start(s);
	run(s, 300, false, NULL);
	str_ncpy(stt_text, "four", sizeof(stt_text));
	ov_script(BT_OVERLAP_BACKCHANNEL, "oh", 0.9f);
	run(s, 500, true, NULL);
	run(s, 300, false, NULL);       /* decided after 200 ms: resumed */
	assert_int_equal(r.n_resumed, 1);
	assert_int_equal(r.n_barge, 0);
	run(s, 500, true, NULL);        /* 1.3 s from the first onset */
	assert_int_equal(r.n_barge, 1);
	ov_on = false;
	mem_deref(s);
}

/* The node's grammar heard nothing, the classifier a stop phrase. */
static void test_overlap_stop_phrase(void **state)
{
	struct rec r = {0};
	struct bt_session *s = open_session(&r);

	(void)state;
	bt_session_start(s);
	run(s, 300, false, NULL);
	stt_text[0] = '\0';
	ov_script(BT_OVERLAP_STOP, "wait", 0.6f);
	run(s, 400, true, NULL);
	run(s, 300, false, NULL);
	assert_int_equal(r.n_barge, 1);
	assert_int_equal(r.n_back, 0);
	assert_string_equal(last_user, "wait");
	ov_on = false;
	mem_deref(s);
}

/*
 * An unsure stop phrase over words that are no backchannel either: it
 * interrupts only if the stop phrase fits clearly better than any
 * backchannel ("uh-huh" misheard as "but let me" / "for one" does not).
 */
static void test_overlap_unsure_stop(void **state)
{
	static const struct {
		float llr;
		unsigned barge;
	} cases[] = {{1.0f, 0}, {5.0f, 1}};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct rec r = {0};
		struct bt_session *s = open_session(&r);

		bt_session_start(s);
		run(s, 300, false, NULL);
		str_ncpy(stt_text, "for one", sizeof(stt_text));
		stt_conf = 0.2f;
		ov_script(BT_OVERLAP_STOP, "but let me", 0.1f);
		ov_read.stop_llr = cases[i].llr;
		run(s, 400, true, NULL);
		run(s, 300, false, NULL);
		assert_int_equal(r.n_barge, cases[i].barge);
		assert_int_equal(r.n_resumed, 1 - cases[i].barge);
		stt_conf = 0.9f;
		ov_on = false;
		mem_deref(s);
	}
}

static void test_uninterruptible_keeps_words(void **state)
{
	struct rec r = {0};
	struct bt_session *s = open_session(&r);

	(void)state;
	protect_greeting = true;
	last_user[0] = '\0';
	bt_session_start(s);
	protect_greeting = false;
	run(s, 500, false, NULL);
	str_ncpy(stt_text, "stop talking", sizeof(stt_text));
	run(s, 400, true, NULL);
	run(s, 300, false, NULL);
	/* the notice plays on; the words are kept, not yet answered */
	assert_int_equal(r.n_paused, 0);
	assert_int_equal(r.n_barge, 0);
	assert_int_equal(r.n_kept, 1);
	assert_string_equal(last_user, "");
	assert_int_equal(bt_session_state(s), BT_ST_SPEAKING);
	run(s, 1500, false, NULL);
	/* played through, then answered */
	assert_string_equal(r.done_text, greeting);
	assert_string_equal(last_user, "stop talking");
	mem_deref(s);
}

static void test_interruptions_off(void **state)
{
	struct rec r = {0};
	struct bt_session *s = open_session(&r);

	(void)state;
	last_user[0] = '\0';
	bt_session_set_interruptions(s, false);
	bt_session_start(s);
	run(s, 500, false, NULL);
	str_ncpy(stt_text, "wait stop", sizeof(stt_text));
	run(s, 600, true, NULL);
	run(s, 200, false, NULL);
	assert_int_equal(r.n_barge, 0);
	assert_int_equal(r.n_kept, 1);
	bt_session_set_interruptions(s, true);
	/* the greeting ends at 1620 ms; the kept words are answered */
	run(s, 600, false, NULL);
	assert_string_equal(r.done_text, greeting);
	assert_string_equal(last_user, "wait stop");
	assert_int_equal(bt_session_state(s), BT_ST_SPEAKING);
	/* back on: this reply can be interrupted */
	run(s, 700, true, NULL);
	assert_int_equal(r.n_barge, 1);
	mem_deref(s);
}

static void test_idle_and_end(void **state)
{
	struct rec r = {0};
	struct bt_session *s = open_session(&r);

	(void)state;
	idles = 0;
	bt_session_start(s);
	run(s, 1600, false, NULL);
	run(s, 3000, false, NULL);
	assert_int_equal(idles, 1);
	end_next = true;
	run(s, 5000, false, NULL);
	end_next = false;
	assert_int_equal(idles, 2);
	assert_int_equal(bt_session_state(s), BT_ST_ENDED);
	assert_int_equal(r.n_ended, 1);
	/* pushing after the end is harmless */
	run(s, 100, true, NULL);
	mem_deref(s);
}

/* A transport's transfer hook: records the target, answers later. */
static unsigned xfer_calls;
static char xfer_target[128];
static void on_transfer(struct bt_session *s, const char *to, void *arg)
{
	(void)s;
	(void)arg;
	++xfer_calls;
	str_ncpy(xfer_target, to, sizeof(xfer_target));
}

/*
 * A transfer the brain asks for starts once its line has played; while
 * it is under way the caller's words are not answered and no idle check
 * comes; a failure goes back to the brain and the call goes on; success
 * ends the call "transferred".
 */
static void test_transfer(void **state)
{
	struct rec r = {0};
	struct bt_session *s = open_session(&r);

	(void)state;
	xfer_greeting = "sip:desk@pbx.example";
	xfer_calls = 0;
	idles = 0;
	last_user[0] = last_xfer[0] = '\0';
	bt_session_set_transfer(s, on_transfer, NULL);
	bt_session_start(s);
	run(s, 1000, false, NULL);
	assert_int_equal(xfer_calls, 0);  /* the line is still playing */
	run(s, 800, false, NULL);
	assert_int_equal(xfer_calls, 1);
	assert_string_equal(xfer_target, "sip:desk@pbx.example");
	assert_non_null(strstr(r.xfer_json, "\"status\":\"started\""));
	/* meanwhile: no idle check, the caller's words are not answered */
	run(s, 4000, false, NULL);
	str_ncpy(stt_text, "hello", sizeof(stt_text));
	run(s, 600, true, NULL);
	run(s, 800, false, NULL);
	assert_int_equal(idles, 0);
	assert_string_equal(last_user, "");
	assert_int_equal(bt_session_state(s), BT_ST_LISTENING);

	bt_session_transfer_done(s, ECONNREFUSED, "603 Decline");
	assert_string_equal(last_xfer, "failed: 603 Decline");
	assert_non_null(strstr(r.xfer_json, "\"reason\":\"603 Decline\""));
	run(s, 2000, false, NULL);
	assert_non_null(strstr(r.agent_all, "sorry, nobody answers."));
	assert_int_equal(r.n_ended, 0);
	/* a second answer for the same transfer is ignored */
	bt_session_transfer_done(s, 0, NULL);
	assert_int_equal(r.n_ended, 0);
	mem_deref(s);

	/* success: the call ends as transferred */
	memset(&r, 0, sizeof(r));
	s = open_session(&r);
	bt_session_set_transfer(s, on_transfer, NULL);
	bt_session_start(s);
	run(s, 1800, false, NULL);
	bt_session_transfer_done(s, 0, NULL);
	assert_int_equal(bt_session_state(s), BT_ST_ENDED);
	assert_string_equal(r.ended, "transferred");
	assert_int_equal(r.n_xfer, 2);
	mem_deref(s);

	/* no hook: not possible, said at once to the brain */
	memset(&r, 0, sizeof(r));
	last_xfer[0] = '\0';
	s = open_session(&r);
	bt_session_start(s);
	run(s, 1800, false, NULL);
	assert_string_equal(last_xfer, "failed: transfer is not possible on "
			    "this connection");
	assert_int_equal(r.n_xfer, 1);
	assert_non_null(strstr(r.xfer_json, "\"status\":\"failed\""));
	run(s, 1000, false, NULL);
	assert_int_equal(r.n_ended, 0);
	mem_deref(s);
	xfer_greeting = NULL;
}

/* Silence after speech until the turn ends, in ms (adaptive endpointing). */
static unsigned silence_to_end(const char *words)
{
	struct rec r = {0};
	struct bt_session *s = open_agent(&r, adaptive_json);
	unsigned ms = 0;

	bt_session_start(s);
	run(s, 2000, false, NULL);
	str_ncpy(stt_text, words, sizeof(stt_text));
	run(s, 800, true, NULL);
	while (bt_session_state(s) == BT_ST_USER_SPEAKING && ms < 5000) {
		run(s, 20, false, NULL);
		ms += 20;
	}
	mem_deref(s);
	return ms;
}

static void test_adaptive_endpointing(void **state)
{
	unsigned complete, incomplete;

	(void)state;
	complete = silence_to_end("a table for three people please");
	incomplete = silence_to_end("a table for");
	/* an unfinished phrase waits longer than a complete one */
	assert_true(complete < incomplete);
	assert_true(complete <= 500);
	assert_true(incomplete >= 1000);
	assert_true(incomplete <= 2600);
}

/*
 * Without a grammar (an LLM's reply), the agent's own question says what
 * the caller's answer is: "maybe" to "would you like ...?" is an answer,
 * to "how can I help?" it leads in.
 */
static unsigned quiet_until_turn_ends(struct bt_session *s);

static void test_agent_question_sets_expected(void **state)
{
	static const struct {
		const char *greet, *says, *rule;
	} c[] = {
		{"hello. how can I help?", "maybe",
		 "a hedge alone"},
		{"hello. would you like a dessert?", "maybe",
		 "expected value not heard yet"},
		{"hello. would you like a dessert?", "maybe",
		 "\"expected\":\"yes_no\""},
		{"hello. how many of you are coming?", "my daughter",
		 "expected value not heard yet"},
		{"hello. how many of you are coming?", "three of us",
		 "answer with the expected value"},
		{"would you like a dessert? anything else I can do?",
		 "maybe", "a hedge alone"},
		{"hello. how can I help?", "for the starter",
		 "a phrase said before its clause"},
		{"hello. is that for here or to go?", "for here",
		 "short answer"},
		{"hello. who is joining you?", "my wife", "short answer"},
	};
	const char *saved = greeting;

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(c); i++) {
		struct rec r = {0};
		struct bt_session *s;

		greeting = c[i].greet;
		s = open_agent(&r, adaptive_json);
		bt_session_start(s);
		run(s, 3000, false, NULL);
		str_ncpy(stt_text, c[i].says, sizeof(stt_text));
		run(s, 800, true, NULL);
		quiet_until_turn_ends(s);
		if (!strstr(r.user_json, c[i].rule))
			print_error("\"%s\" after \"%s\": %s\n", c[i].says,
				    c[i].greet, r.user_json);
		assert_non_null(strstr(r.user_json, c[i].rule));
		mem_deref(s);
	}
	greeting = saved;
}

/*
 * The endpointer's waits depend on what the agent was doing when the
 * user began: listening, speaking (a barge-in) or thinking (the user went
 * on right after the turn was taken). Flat sets (min = ... = max) make the
 * wait independent of the words and the voice.
 */
static unsigned quiet_until_turn_ends(struct bt_session *s)
{
	unsigned ms = 0;

	while (bt_session_state(s) == BT_ST_USER_SPEAKING && ms < 5000) {
		run(s, 20, false, NULL);
		ms += 20;
	}
	return ms;
}

static void test_endpoint_contexts(void **state)
{
	static const char *json =
		"{\"name\": \"t\", \"persona\": {\"voice\": \"fake:x\"},"
		" \"stt\": {\"provider\": \"fake\"},"
		" \"vad\": {\"provider\": \"fake\"},"
		" \"brain\": {\"provider\": \"fake\"},"
		" \"turn\": {\"idle_ms\": 30000, \"endpointing\": \"adaptive\","
		"  \"min_wait_ms\": 300, \"base_wait_ms\": 300,"
		"  \"incomplete_wait_ms\": 300, \"max_wait_ms\": 300,"
		"  \"speaking\": {\"min_wait_ms\": 700, \"base_wait_ms\": 700,"
		"   \"incomplete_wait_ms\": 700, \"max_wait_ms\": 700},"
		"  \"thinking\": {\"min_wait_ms\": 1100, \"base_wait_ms\": 1100,"
		"   \"incomplete_wait_ms\": 1100, \"max_wait_ms\": 1100,"
		"   \"prosody_pct\": 10}}}";
	struct rec r = {0};
	struct bt_session *s = open_agent(&r, json);
	unsigned listening, speaking, thinking, guard = 0;

	(void)state;
	bt_session_start(s);
	run(s, 2000, false, NULL);

	/* listening */
	str_ncpy(stt_text, "three people", sizeof(stt_text));
	run(s, 800, true, NULL);
	listening = quiet_until_turn_ends(s);
	assert_non_null(strstr(r.user_json, "\"context\":\"listening\""));
	run(s, 1000, false, NULL);
	assert_int_equal(bt_session_state(s), BT_ST_LISTENING);

	/* thinking: the turn was taken, the user goes on before any reply */
	hold_reply = true;
	str_ncpy(stt_text, "a table for", sizeof(stt_text));
	run(s, 800, true, NULL);
	while (bt_session_state(s) != BT_ST_THINKING && guard++ < 100)
		run(s, 20, false, NULL);
	assert_int_equal(bt_session_state(s), BT_ST_THINKING);
	hold_reply = false;
	str_ncpy(stt_text, "three people", sizeof(stt_text));
	run(s, 800, true, NULL);
	assert_int_equal(bt_session_state(s), BT_ST_USER_SPEAKING);
	thinking = quiet_until_turn_ends(s);
	assert_non_null(strstr(r.user_json, "\"context\":\"thinking\""));
	/* the turn taken too soon and its continuation are one turn */
	assert_string_equal(last_user, "a table for three people");
	assert_non_null(strstr(r.user_json, "\"continues\":\"a table for\""));
	{
		char *h = bt_session_history(s);

		assert_non_null(strstr(h, "{\"role\":\"user\",\"text\":"
				       "\"a table for three people\",\"id\""));
		assert_null(strstr(h, "\"text\":\"a table for\",\"id\""));
		mem_deref(h);
	}

	/* speaking: the reply plays, the user barges in */
	assert_int_equal(bt_session_state(s), BT_ST_SPEAKING);
	str_ncpy(stt_text, "wait stop", sizeof(stt_text));
	run(s, 800, true, NULL);
	assert_int_equal(bt_session_state(s), BT_ST_USER_SPEAKING);
	speaking = quiet_until_turn_ends(s);
	assert_non_null(strstr(r.user_json, "\"context\":\"speaking\""));

	print_message("silence to the end of turn: listening %u ms, speaking "
		      "%u ms, thinking %u ms\n", listening, speaking, thinking);
	/* each is its set's wait plus the VAD's end hangover */
	assert_true(listening >= 300 && listening <= 700);
	assert_true(speaking >= 700 && speaking <= 1100);
	assert_true(thinking >= 1100 && thinking <= 1500);
	mem_deref(s);
}

static void test_bad_frames(void **state)
{
	struct rec r = {0};
	struct bt_session *s = open_session(&r);
	int16_t buf[100] = {0};

	(void)state;
	assert_int_equal(bt_session_push(s, buf, 100), EINVAL);
	assert_non_null(strstr(bt_errmsg(), "320"));
	assert_int_equal(bt_session_pull(s, buf, 100, NULL), EINVAL);
	mem_deref(s);
}

static void test_planner(void **state)
{
	const char *t = "Hello Mr. Smith. It is 7.30 now! Ok? rest";

	(void)state;
	assert_int_equal(bt_planner_sentence(t, strlen(t), false), 17);
	t += 17;
	assert_int_equal(bt_planner_sentence(t, strlen(t), false), 16);
	t += 16;
	assert_int_equal(bt_planner_sentence(t, strlen(t), false), 4);
	t += 4;
	assert_int_equal(bt_planner_sentence(t, strlen(t), false), 0);
	assert_int_equal(bt_planner_sentence(t, strlen(t), true), 4);
	assert_int_equal(bt_planner_sentence("Done.", 5, false), 0);
	assert_int_equal(bt_planner_sentence("Done.", 5, true), 5);
	/* a long sentence still streaming goes clause by clause; a short
	 * clause waits for its sentence */
	t = "Well, let me tell you all about our restaurant and its history, "
	    "which goes back";
	assert_int_equal(bt_planner_sentence(t, strlen(t), false), 64);
	assert_int_equal(bt_planner_sentence("Well, let me", 12, false), 0);
}

static int setup(void **state)
{
	(void)state;
	bt_vad_register(&fake_vad);
	bt_stt_register(&fake_stt);
	bt_tts_register(&fake_tts);
	bt_brain_register(&fake_brain);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_planner),
		cmocka_unit_test(test_greeting_plays_whole),
		cmocka_unit_test(test_ready_handler),
		cmocka_unit_test(test_late_final_transcript),
		cmocka_unit_test(test_playout_delay_cuts_what_was_heard),
		cmocka_unit_test(test_cancelled_response_drops_late_answers),
		cmocka_unit_test(test_user_turn_and_latency),
		cmocka_unit_test(test_barge_in_cuts_history),
		cmocka_unit_test(test_backchannel_does_not_stop),
		cmocka_unit_test(test_backchannel_spellings),
		cmocka_unit_test(test_false_interruption_resumes),
		cmocka_unit_test(test_overlap_backchannel),
		cmocka_unit_test(test_overlap_long_speech_interrupts),
		cmocka_unit_test(test_overlap_pieces_join),
		cmocka_unit_test(test_overlap_stop_phrase),
		cmocka_unit_test(test_overlap_unsure_stop),
		cmocka_unit_test(test_uninterruptible_keeps_words),
		cmocka_unit_test(test_interruptions_off),
		cmocka_unit_test(test_idle_and_end),
		cmocka_unit_test(test_transfer),
		cmocka_unit_test(test_adaptive_endpointing),
		cmocka_unit_test(test_agent_question_sets_expected),
		cmocka_unit_test(test_endpoint_contexts),
		cmocka_unit_test(test_bad_frames),
	};
	return cmocka_run_group_tests(tests, setup, NULL);
}
