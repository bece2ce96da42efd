/**
 * @file test_stt.c  The pocketsphinx STT provider on real speech.
 *
 * tests/data/stt_*.wav are flite voices, made with
 *   flite -voice V -t "TEXT" -o x.wav
 *   sox x.wav -r 16000 -c 1 -b 16 tests/data/stt_NAME_V.wav
 *   (V = slt, rms, awb, kal16 saved as kal)
 * and stt_noise.wav with
 *   sox -n -r 16000 -c 1 -b 16 stt_noise.wav synth 1.2 pinknoise vol 0.3
 *
 * One instance serves the whole file, as one serves a whole call; the
 * order of the tests is the order of the utterances (live CMN carries
 * over from one to the next, as in a call). The last tests check what the
 * instances share (src/stt/ps_models.c) with instances of their own.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>
#include <re.h>
#include "banter/banter.h"
#include "brain/slots.h"
#include "stt/ps_int.h"
#include "stt/ps_models.h"

/* The flow's default "min_confidence": what a grammar answer must reach. */
#define THRESH 0.4f

static const struct bt_stt *stt;
static struct bt_stt_st *st;

static const char *const intents[] = {
	"what are your opening hours",
	"When are you OPEN",         /* normalised to lower case */
};

static const struct bt_stt_grammar grammars[] = {
	{"party",   BT_SLOT_NUMBER, intents, 2},
	{"day",     BT_SLOT_DAY,    intents, 2},
	{"time",    BT_SLOT_TIME,   intents, 2},
	{"confirm", BT_SLOT_YESNO,  intents, 2},
	{"notes",   BT_SLOT_TEXT,   NULL,    0},
};

/* what the good answers scored, for the off-topic comparison */
static float min_good = 1.0f;
static double fin_ms_sum, fin_ms_max, feed_ms_sum, audio_ms_sum;
static int n_utts;

struct utt {
	struct bt_transcript tr;
	bool partial;            /* a non-empty partial came before finish */
};

static double cpu_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
	return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

/*
 * pcm with 200 ms of quiet room noise before and 400 ms after (the VAD's
 * pre-roll and the endpoint's silence); NULL if out of memory.
 */
static int16_t *with_room(const int16_t *pcm, size_t n, size_t *totalp)
{
	enum { LEAD = BT_RATE_HZ / 5, TRAIL = BT_RATE_HZ * 2 / 5 };
	size_t total = LEAD + n + TRAIL, i;
	uint32_t seed = 12345;
	double lp = 0;
	int16_t *buf = mem_zalloc(total * sizeof(*buf), NULL);

	if (!buf)
		return NULL;
	for (i = 0; i < total; i++) {
		seed = seed * 1103515245u + 12345u;
		lp = 0.8 * lp + (double)((int)((seed >> 16) % 41) - 20);
		buf[i] = (int16_t)lp;
	}
	for (i = 0; i < n; i++)
		buf[LEAD + i] = (int16_t)(buf[LEAD + i] + pcm[i]);
	*totalp = total;
	return buf;
}

/* tests/data/stt_NAME.wav with room around it (with_room) */
static int16_t *wav_with_room(const char *name, size_t *totalp)
{
	char path[256];
	int16_t *pcm = NULL, *buf;
	size_t n = 0;
	uint32_t rate = 0;

	snprintf(path, sizeof(path), "tests/data/stt_%s.wav", name);
	assert_int_equal(bt_wav_read(path, &pcm, &n, &rate), 0);
	buf = with_room(pcm, n, totalp);
	assert_non_null(buf);
	mem_deref(pcm);
	return buf;
}

/* Feed a WAV as the session does: 20 ms frames, a partial after each. */
static void run_pcm(const char *name, const int16_t *pcm, size_t n,
		    const char *grammar, bool overlap, struct utt *u)
{
	char part[512];
	int16_t *buf;
	size_t total = 0, i;
	double t0, feed_ms = 0;

	buf = with_room(pcm, n, &total);
	assert_non_null(buf);

	memset(u, 0, sizeof(*u));
	assert_int_equal(stt->starth(st, grammar, overlap), 0);
	for (i = 0; i + BT_FRAME_SAMPLES <= total; i += BT_FRAME_SAMPLES) {
		t0 = cpu_ms();
		assert_int_equal(stt->feedh(st, buf + i, BT_FRAME_SAMPLES), 0);
		if (stt->hyph(st, part, sizeof(part)) && part[0])
			u->partial = true;
		feed_ms += cpu_ms() - t0;
	}
	t0 = cpu_ms();
	assert_int_equal(stt->finishh(st, &u->tr), 0);
	t0 = cpu_ms() - t0;

	fin_ms_sum += t0;
	if (t0 > fin_ms_max)
		fin_ms_max = t0;
	feed_ms_sum += feed_ms;
	audio_ms_sum += (double)total * 1000 / BT_RATE_HZ;
	n_utts++;
	print_message("  %-12s %-8s -> \"%s\" conf %.3f (finish %.1f ms)\n",
		      name, grammar ? grammar : "(open)", u->tr.text,
		      u->tr.confidence, t0);

	mem_deref(buf);
}

static void run(const char *name, const char *grammar, struct utt *u)
{
	char path[256];
	int16_t *pcm = NULL;
	size_t n = 0;
	uint32_t rate = 0;

	snprintf(path, sizeof(path), "tests/data/stt_%s.wav", name);
	assert_int_equal(bt_wav_read(path, &pcm, &n, &rate), 0);
	assert_int_equal(rate, BT_RATE_HZ);
	run_pcm(name, pcm, n, grammar, false, u);
	mem_deref(pcm);
}

/* Lower-case words, one space apart, no fillers or markers. */
static void assert_clean(const char *text)
{
	const char *p;

	assert_true(text[0] != ' ');
	for (p = text; *p; p++) {
		assert_false(*p >= 'A' && *p <= 'Z');
		assert_null(strchr("<>[]()+", *p));
		assert_false(p[0] == ' ' && (p[1] == ' ' || p[1] == '\0'));
	}
}

/* word w is in text as a whole word */
static bool has_word(const char *text, const char *w)
{
	size_t n = strlen(w);
	const char *p = text;

	while ((p = strstr(p, w))) {
		if ((p == text || p[-1] == ' ') && (p[n] == ' ' || !p[n]))
			return true;
		p += n;
	}
	return false;
}

static void good(const struct utt *u)
{
	assert_clean(u->tr.text);
	assert_true(u->tr.confidence >= THRESH);
	if (u->tr.confidence < min_good)
		min_good = u->tr.confidence;
}

static void bad(const struct utt *u)
{
	assert_clean(u->tr.text);
	assert_true(u->tr.confidence < THRESH);
	assert_true(u->tr.confidence < min_good);
}

/* ---- tests ---- */

static void test_slot_names(void **state)
{
	(void)state;
	assert_int_equal(bt_slot_type_parse("text"), BT_SLOT_TEXT);
	assert_int_equal(bt_slot_type_parse("number"), BT_SLOT_NUMBER);
	assert_int_equal(bt_slot_type_parse("day"), BT_SLOT_DAY);
	assert_int_equal(bt_slot_type_parse("time"), BT_SLOT_TIME);
	assert_int_equal(bt_slot_type_parse("yes_no"), BT_SLOT_YESNO);
	assert_int_equal(bt_slot_type_parse("yesno"), -1);
	assert_int_equal(bt_slot_type_parse(NULL), -1);
	assert_string_equal(bt_slot_type_name(BT_SLOT_YESNO), "yes_no");
	assert_string_equal(bt_slot_type_name(BT_SLOT_TEXT), "text");
	assert_string_equal(bt_slot_type_name((enum bt_slot_type)42), "?");
}

static void test_open_lm(void **state)
{
	struct utt u;

	(void)state;
	run("hours_rms", NULL, &u);
	assert_non_null(strstr(u.tr.text, "opening hours"));
	assert_true(u.partial);
	good(&u);
}

static void test_number(void **state)
{
	struct utt u;

	(void)state;
	run("table3_slt", "party", &u);
	assert_true(has_word(u.tr.text, "three"));
	assert_true(u.partial);
	good(&u);

	run("people3_kal", "party", &u);
	assert_string_equal(u.tr.text, "three people");
	good(&u);
}

static void test_day(void **state)
{
	struct utt u;

	(void)state;
	run("tuesday_awb", "day", &u);
	assert_true(has_word(u.tr.text, "tuesday"));
	good(&u);
}

static void test_time(void **state)
{
	struct utt u;

	(void)state;
	run("sevenpm_rms", "time", &u);
	assert_string_equal(u.tr.text, "seven pm");
	good(&u);
}

static void test_yes_no(void **state)
{
	struct utt u;

	(void)state;
	run("yes_slt", "confirm", &u);
	assert_true(has_word(u.tr.text, "yes"));
	good(&u);

	run("no_kal", "confirm", &u);
	assert_true(has_word(u.tr.text, "no"));
	good(&u);
}

/* An intent phrase is heard inside a slot's grammar. */
static void test_extra_phrase(void **state)
{
	struct utt u;

	(void)state;
	run("hours_rms", "party", &u);
	assert_string_equal(u.tr.text, "what are your opening hours");
	good(&u);
}

/* A text slot is the open language model. */
static void test_text_slot(void **state)
{
	struct utt u;

	(void)state;
	run("yes_slt", "notes", &u);
	assert_string_equal(u.tr.text, "yes please");
	good(&u);
}

static void test_off_topic(void **state)
{
	struct utt u;

	(void)state;
	run("purple_slt", "party", &u);
	bad(&u);
	run("weather_rms", "day", &u);
	bad(&u);
	/* another question's answer is heard as itself, not forced onto
	 * this question's words (ps_grammar.c: <other>): the slot reader
	 * finds no value in it */
	run("tuesday_awb", "party", &u);
	assert_clean(u.tr.text);
	assert_true(has_word(u.tr.text, "tuesday"));
	assert_false(has_word(u.tr.text, "two"));
	run("people3_kal", "confirm", &u);
	assert_clean(u.tr.text);
	assert_true(has_word(u.tr.text, "three"));
	assert_false(has_word(u.tr.text, "yes") || has_word(u.tr.text, "no"));
	run("yes_slt", "day", &u);
	assert_clean(u.tr.text);
	assert_true(has_word(u.tr.text, "yes"));
	/* noise: nothing, or nothing to believe */
	run("noise", "time", &u);
	bad(&u);
	run("noise", NULL, &u);
	bad(&u);
}

/*
 * Speech over the agent, under a number grammar that forces "yeah" onto
 * "four": the overlap classifier still reads backchannels as backchannels
 * and stop phrases as stop phrases.
 */
static void test_overlap(void **state)
{
	static const struct {
		const char *voice, *text;
		enum bt_overlap_kind kind;
	} cases[] = {
		{"flite:slt", "wait", BT_OVERLAP_STOP},
		{"flite:awb", "no, stop", BT_OVERLAP_STOP},
		{"flite:rms", "hold on a second", BT_OVERLAP_STOP},
		{"flite:slt", "sorry, that's wrong", BT_OVERLAP_STOP},
		{"flite:slt", "yeah", BT_OVERLAP_BACKCHANNEL},
		{"flite:awb", "right", BT_OVERLAP_BACKCHANNEL},
		{"flite:rms", "okay", BT_OVERLAP_BACKCHANNEL},
		{"flite:slt", "I see", BT_OVERLAP_BACKCHANNEL},
	};
	struct bt_stt_overlap ov;
	struct utt u;
	(void)state;

	assert_non_null(stt->overlaph);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct bt_tts_prm prm;
		struct bt_tts_st *ts = NULL;
		struct bt_tts_audio *au = NULL;
		int16_t *pcm = NULL;
		size_t n = 0;

		bt_tts_prm_default(&prm);
		assert_int_equal(bt_tts_open(&ts, cases[i].voice, &prm), 0);
		assert_int_equal(bt_tts_synth(ts, cases[i].text, &au), 0);
		assert_int_equal(bt_resample_buf(au->pcm, au->n, au->rate_hz,
						 BT_RATE_HZ, &pcm, &n), 0);
		run_pcm(cases[i].text, pcm, n, "party", true, &u);
		assert_int_equal(stt->overlaph(st, &ov), 0);
		print_message("    overlap: \"%s\" kind %d conf %.2f llr "
			      "%.1f\n", ov.text, (int)ov.kind,
			      (double)ov.confidence, (double)ov.stop_llr);
		assert_int_equal(ov.kind, cases[i].kind);
		/* the margin between the classes agrees with the reading */
		if (cases[i].kind == BT_OVERLAP_STOP)
			assert_true(ov.stop_llr > 0.0f);
		else
			assert_true(ov.stop_llr < 0.0f);
		assert_true(ov.confidence >= 0.0f && ov.confidence <= 1.0f);
		mem_deref(pcm);
		mem_deref(au);
		mem_deref(ts);
	}
}

static void test_misuse(void **state)
{
	struct bt_transcript tr;
	int16_t pcm[BT_FRAME_SAMPLES] = {0};
	struct utt u;

	(void)state;
	bt_err_clear();
	assert_int_equal(stt->starth(st, "nosuchnode", false), EINVAL);
	assert_non_null(strstr(bt_errmsg(), "nosuchnode"));
	assert_non_null(strstr(bt_errmsg(), "party"));

	assert_int_equal(stt->feedh(st, pcm, BT_FRAME_SAMPLES), EINVAL);
	assert_int_equal(stt->finishh(st, &tr), EINVAL);
	assert_string_equal(tr.text, "");

	/* an utterance abandoned by a new start leaves nothing behind */
	assert_int_equal(stt->starth(st, "confirm", true), 0);
	assert_int_equal(stt->feedh(st, pcm, BT_FRAME_SAMPLES), 0);
	run("no_kal", "confirm", &u);
	assert_true(has_word(u.tr.text, "no"));
	good(&u);

	/* not started as speech over the agent: no overlap reading */
	{
		struct bt_stt_overlap ov;

		bt_err_clear();
		assert_int_equal(stt->overlaph(st, &ov), EINVAL);
		assert_non_null(strstr(bt_errmsg(), "overlap"));
	}
}

static void test_speed(void **state)
{
	double rtf = feed_ms_sum / audio_ms_sum;
	double fin = fin_ms_sum / n_utts;

	(void)state;
	print_message("  %d utterances: feed %.3f x real time (CPU), finish "
		      "mean %.1f ms, max %.1f ms\n", n_utts, rtf, fin,
		      fin_ms_max);
	/* CPU time, so a busy machine does not fail it; loose enough for
	 * ASan, tight enough to catch a second pass at the end */
	assert_true(fin < 60);
	assert_true(rtf < 2.0);
}

static void test_bad_grammars(void **state)
{
	static const char *const oov[] = {"book a zqxvyk table"};
	static const char *const odd[] = {"hours?"};
	const struct bt_stt_grammar dup[] = {
		{"a", BT_SLOT_DAY, NULL, 0}, {"a", BT_SLOT_TIME, NULL, 0},
	};
	const struct bt_stt_grammar g_oov[] = {{"party", BT_SLOT_NUMBER, oov, 1}};
	const struct bt_stt_grammar g_odd[] = {{"party", BT_SLOT_DAY, odd, 1}};
	const struct bt_stt_grammar g_type[] = {
		{"x", (enum bt_slot_type)17, NULL, 0},
	};
	struct bt_stt_prm prm;
	struct bt_stt_st *s2 = NULL;

	(void)state;
	prm.grammars = dup;
	prm.n_grammars = 2;
	assert_int_equal(stt->alloch(&s2, &prm), EINVAL);
	assert_non_null(strstr(bt_errmsg(), "twice"));
	assert_null(s2);

	prm.grammars = g_type;
	prm.n_grammars = 1;
	assert_int_equal(stt->alloch(&s2, &prm), EINVAL);
	assert_null(s2);

	/* these two load the models before they can fail */
	prm.grammars = g_oov;
	assert_int_equal(stt->alloch(&s2, &prm), EINVAL);
	assert_non_null(strstr(bt_errmsg(), "'zqxvyk'"));
	assert_non_null(strstr(bt_errmsg(), "book a zqxvyk table"));
	assert_null(s2);

	prm.grammars = g_odd;
	assert_int_equal(stt->alloch(&s2, &prm), EINVAL);
	assert_non_null(strstr(bt_errmsg(), "hours?"));
	assert_null(s2);
}

/* Without grammars there is only the open language model. */
static void test_no_grammars(void **state)
{
	struct bt_stt_st *keep = st;
	struct utt u;

	(void)state;
	assert_int_equal(stt->alloch(&st, NULL), 0);
	assert_int_equal(stt->starth(st, "party", false), EINVAL);
	assert_non_null(strstr(bt_errmsg(), "none"));
	run("yes_slt", NULL, &u);
	assert_string_equal(u.tr.text, "yes please");
	good(&u);
	st = mem_deref(st);
	st = keep;
}

/* ---- what the instances share ---- */

enum { JOB_MAX = 3 };

/* Recordings decoded one after the other by one instance. */
struct job {
	const char *name[JOB_MAX];     /* tests/data/stt_NAME.wav; NULL ends */
	const char *grammar[JOB_MAX];
	struct bt_transcript tr[JOB_MAX];
	struct bt_stt_overlap ov[JOB_MAX];
	int err;                       /* the first failure */
	int foreign;                   /* starting st from the job's thread */
	pthread_barrier_t *bar;
};

/* run_pcm() without cmocka, which cannot assert from other threads; the
 * overlap reading too if overlap */
static int decode_pcm(struct bt_stt_st *s, const int16_t *pcm, size_t n,
		      const char *grammar, bool overlap,
		      struct bt_transcript *tr, struct bt_stt_overlap *ov)
{
	char part[512];
	int16_t *buf;
	size_t total = 0, i;
	int err;

	buf = with_room(pcm, n, &total);
	if (!buf)
		return ENOMEM;
	err = stt->starth(s, grammar, overlap);
	for (i = 0; !err && i + BT_FRAME_SAMPLES <= total;
	     i += BT_FRAME_SAMPLES) {
		err = stt->feedh(s, buf + i, BT_FRAME_SAMPLES);
		stt->hyph(s, part, sizeof(part));
	}
	if (!err)
		err = stt->finishh(s, tr);
	if (!err && overlap)
		err = stt->overlaph(s, ov);
	mem_deref(buf);
	return err;
}

static int decode(struct bt_stt_st *s, const char *name, const char *grammar,
		  bool overlap, struct bt_transcript *tr,
		  struct bt_stt_overlap *ov)
{
	char path[256];
	int16_t *pcm = NULL;
	size_t n = 0;
	uint32_t rate = 0;
	int err;

	snprintf(path, sizeof(path), "tests/data/stt_%s.wav", name);
	err = bt_wav_read(path, &pcm, &n, &rate);
	if (err)
		return err;
	err = decode_pcm(s, pcm, n, grammar, overlap, tr, ov);
	mem_deref(pcm);
	return err;
}

static int job_run(struct job *j, struct bt_stt_st *s)
{
	for (size_t i = 0; i < JOB_MAX && j->name[i] && !j->err; i++)
		j->err = decode(s, j->name[i], j->grammar[i], true,
				&j->tr[i], &j->ov[i]);
	return j->err;
}

static int job_alloc(struct bt_stt_st **sp)
{
	struct bt_stt_prm prm = {
		.grammars = grammars,
		.n_grammars = sizeof(grammars) / sizeof(grammars[0]),
	};

	return stt->alloch(sp, &prm);
}

/* The same words and the same scores, bit for bit. */
static void job_same(const struct job *a, const struct job *b)
{
	assert_int_equal(a->err, 0);
	assert_int_equal(b->err, 0);
	for (size_t i = 0; i < JOB_MAX && a->name[i]; i++) {
		print_message("  %-12s %-8s -> \"%s\" conf %.6f, overlap \"%s\""
			      "\n", a->name[i], a->grammar[i] ? a->grammar[i] :
			      "(open)", b->tr[i].text,
			      (double)b->tr[i].confidence, b->ov[i].text);
		assert_string_equal(a->tr[i].text, b->tr[i].text);
		assert_true(a->tr[i].confidence == b->tr[i].confidence);
		assert_int_equal(a->ov[i].kind, b->ov[i].kind);
		assert_string_equal(a->ov[i].text, b->ov[i].text);
		assert_true(a->ov[i].confidence == b->ov[i].confidence);
		assert_true(a->ov[i].stop_llr == b->ov[i].stop_llr);
	}
}

static void *job_thread(void *arg)
{
	struct job *j = arg;
	struct bt_stt_st *s = NULL;

	/* both threads make their instance at once, then decode at once */
	pthread_barrier_wait(j->bar);
	j->err = job_alloc(&s);
	pthread_barrier_wait(j->bar);
	if (!j->err)
		job_run(j, s);
	/* st was made on the main thread and shares its language model */
	j->foreign = stt->starth(st, NULL, false);
	mem_deref(s);
	return NULL;
}

/*
 * Two event-loop threads decode at the same time and hear what an instance
 * alone hears. They also race to load the shared models, which must load
 * once (the lexicon, the grammars) or once per thread (the language
 * models, whose trie keeps a scoring cache inside).
 */
static void test_shared_threads(void **state)
{
	struct job a = {.name = {"hours_rms", "table3_slt"},
			.grammar = {NULL, "party"}};
	struct job b = {.name = {"tuesday_awb", "sevenpm_rms", "yes_slt"},
			.grammar = {"day", "time", "confirm"}};
	struct job alone_a = a, alone_b = b;
	struct bt_psm_stats s0, s1;
	struct bt_stt_st *s = NULL;
	pthread_barrier_t bar;
	pthread_t ta, tb;

	(void)state;
	assert_int_equal(job_alloc(&s), 0);
	job_run(&alone_a, s);
	s = mem_deref(s);
	assert_int_equal(job_alloc(&s), 0);
	job_run(&alone_b, s);
	s = mem_deref(s);

	/* drop the cache (st keeps what it uses): the threads load it all */
	bt_psm_close();
	bt_psm_stats(&s0);
	assert_int_equal(pthread_barrier_init(&bar, NULL, 2), 0);
	a.bar = b.bar = &bar;
	assert_int_equal(pthread_create(&ta, NULL, job_thread, &a), 0);
	assert_int_equal(pthread_create(&tb, NULL, job_thread, &b), 0);
	pthread_join(ta, NULL);
	pthread_join(tb, NULL);
	pthread_barrier_destroy(&bar);
	bt_psm_stats(&s1);

	job_same(&alone_a, &a);
	job_same(&alone_b, &b);
	assert_int_equal(a.foreign, EINVAL);
	assert_int_equal(b.foreign, EINVAL);
	print_message("  loaded: %u lexicon, %u LM pairs, %u grammars\n",
		      s1.lexicons - s0.lexicons, s1.lms - s0.lms,
		      s1.grammars - s0.grammars);
	assert_int_equal(s1.lexicons - s0.lexicons, 1);
	assert_int_equal(s1.lms - s0.lms, 2);
	/* 4 slot grammars and the 2 overlap classes, once for both */
	assert_int_equal(s1.grammars - s0.grammars, 6);
	assert_int_equal(s1.grammar_hits - s0.grammar_hits, 6);
}

/*
 * Instances made after others, sharing their models, hear what the first
 * heard: decoding changed nothing that is shared, and nothing was loaded
 * or compiled again.
 */
static void test_shared_next(void **state)
{
	enum { N = 2 };
	const struct job ref = {.name = {"hours_rms", "people3_kal"},
				.grammar = {"time", "party"}};
	struct bt_stt_st *v[N + 1] = {NULL};
	struct job first = ref;
	struct bt_psm_stats s0, s1;

	(void)state;
	assert_int_equal(job_alloc(&v[0]), 0);
	job_run(&first, v[0]);
	bt_psm_stats(&s0);
	for (size_t i = 1; i <= N; i++) {
		struct job j = ref;

		assert_int_equal(job_alloc(&v[i]), 0);
		job_run(&j, v[i]);
		job_same(&first, &j);
	}
	bt_psm_stats(&s1);
	for (size_t i = 0; i <= N; i++)
		v[i] = mem_deref(v[i]);
	assert_int_equal(s1.lexicons, s0.lexicons);
	assert_int_equal(s1.lms, s0.lms);
	assert_int_equal(s1.grammars, s0.grammars);
	/* the thread's grammars (ps_kit.c) are the instances', with the
	 * decoders lent that search them: none made again */
	assert_int_equal(s1.grammar_hits, s0.grammar_hits);
	assert_int_equal(s1.made[BT_PSM_FSG], s0.made[BT_PSM_FSG]);
	assert_int_equal(s1.made[BT_PSM_OVL], s0.made[BT_PSM_OVL]);
}

/* Feed name's audio from sample `from` to `to` (0: its end) into s,
 * started already. */
static void feed_part(struct bt_stt_st *s, const int16_t *buf, size_t total,
		      size_t from, size_t to)
{
	char part[512];

	if (!to || to > total)
		to = total;
	for (size_t i = from; i + BT_FRAME_SAMPLES <= to;
	     i += BT_FRAME_SAMPLES) {
		assert_int_equal(stt->feedh(s, buf + i, BT_FRAME_SAMPLES), 0);
		stt->hyph(s, part, sizeof(part));
	}
}

/* name's audio into a and b, b starting while a is half-way through;
 * their transcripts and overlap readings (with overlap). */
static void two_at_once(struct bt_stt_st *a, struct bt_stt_st *b,
			const char *name, const char *grammar, bool overlap,
			struct bt_transcript ta[1], struct bt_transcript tb[1],
			struct bt_stt_overlap oa[1], struct bt_stt_overlap ob[1])
{
	size_t total = 0;
	int16_t *buf = wav_with_room(name, &total);

	assert_int_equal(stt->starth(a, grammar, overlap), 0);
	feed_part(a, buf, total, 0, total / 2);
	assert_int_equal(stt->starth(b, grammar, overlap), 0);
	feed_part(b, buf, total, 0, 0);
	feed_part(a, buf, total, total / 2 / BT_FRAME_SAMPLES *
		  BT_FRAME_SAMPLES, 0);
	assert_int_equal(stt->finishh(b, tb), 0);
	assert_int_equal(stt->finishh(a, ta), 0);
	if (overlap) {
		assert_int_equal(stt->overlaph(a, oa), 0);
		assert_int_equal(stt->overlaph(b, ob), 0);
	}
	mem_deref(buf);
}

/*
 * The open-LM decoder (most of a recogniser's set-up) is its thread's,
 * lent for each utterance: recognisers made one after another and
 * speaking in turn share one (none is made for the second recogniser or
 * its utterances), two speaking at once take two, each hears what it hears
 * alone, and bt_stt_pocketsphinx_spare makes more ready beforehand.
 */
static void test_lm_lent(void **state)
{
	struct bt_stt_st *a = NULL, *b = NULL, *c = NULL;
	struct bt_psm_stats s0, s1, s2, s3;
	struct bt_transcript alone = {0}, t1 = {0}, t2 = {0};
	struct bt_stt_overlap ov;

	(void)state;
	/* lent only where models and scores are shared */
	if (!bt_psm_sharing() || access("/dev/shm", W_OK))
		skip();
	assert_int_equal(job_alloc(&a), 0);
	assert_int_equal(decode(a, "hours_rms", NULL, false, &alone, &ov), 0);
	bt_psm_stats(&s0);
	assert_int_equal(job_alloc(&b), 0);
	assert_int_equal(decode(b, "hours_rms", NULL, false, &t1, &ov), 0);
	assert_int_equal(decode(a, "hours_rms", NULL, false, &t2, &ov), 0);
	bt_psm_stats(&s1);
	print_message("  one after another: %u open-LM decoders made\n",
		      s1.made[BT_PSM_LM] - s0.made[BT_PSM_LM]);
	assert_int_equal(s1.made[BT_PSM_LM], s0.made[BT_PSM_LM]);
	assert_string_equal(t1.text, alone.text);
	assert_string_equal(t2.text, alone.text);
	assert_true(t1.confidence == alone.confidence);

	/* b starts speaking while a still speaks */
	two_at_once(a, b, "hours_rms", NULL, false, &t2, &t1, &ov, &ov);
	bt_psm_stats(&s2);
	print_message("  two at once: %u more\n",
		      s2.made[BT_PSM_LM] - s1.made[BT_PSM_LM]);
	assert_int_equal(s2.made[BT_PSM_LM] - s1.made[BT_PSM_LM], 1);
	assert_string_equal(t1.text, alone.text);
	assert_string_equal(t2.text, alone.text);

	/* three made ready: a new recogniser tops the idle ones up to 3
	 * (without a pool a thread keeps one idle: the second was freed) */
	bt_stt_pocketsphinx_spare(3, 1);
	assert_int_equal(job_alloc(&c), 0);
	bt_psm_stats(&s3);
	bt_stt_pocketsphinx_spare(0, 0);
	assert_int_equal(s3.made[BT_PSM_LM] - s2.made[BT_PSM_LM], 2);
	assert_int_equal(decode(c, "hours_rms", NULL, false, &t1, &ov), 0);
	assert_string_equal(t1.text, alone.text);
	mem_deref(a);
	mem_deref(b);
	mem_deref(c);
}

/*
 * The grammar decoder and the overlap classes are lent the same way, from
 * the thread's kit of their grammars (ps_kit.c): a recogniser made after
 * another of the same agent makes none of them; two speaking in turn, in
 * a grammar and over the agent, make none either, two at once make one
 * more of each, and each hears (words, confidence, overlap reading) what
 * it hears alone. Another agent's grammars are another kit.
 */
static void test_kit_lent(void **state)
{
	struct bt_stt_prm other = {.grammars = grammars, .n_grammars = 2};
	struct bt_stt_st *a = NULL, *b = NULL, *c = NULL;
	struct bt_psm_stats s0, s1, s2, s3;
	struct bt_transcript alone = {0}, t1 = {0}, t2 = {0};
	struct bt_stt_overlap ova, ov1, ov2;

	(void)state;
	if (!bt_psm_sharing() || access("/dev/shm", W_OK))
		skip();
	assert_int_equal(job_alloc(&a), 0);
	assert_int_equal(decode(a, "people3_kal", "party", true, &alone,
				&ova), 0);
	bt_psm_stats(&s0);
	assert_int_equal(job_alloc(&b), 0);
	assert_int_equal(decode(b, "people3_kal", "party", true, &t1, &ov1),
			 0);
	assert_int_equal(decode(a, "people3_kal", "party", true, &t2, &ov2),
			 0);
	bt_psm_stats(&s1);
	print_message("  one after another: %u grammar, %u overlap decoders "
		      "made\n", s1.made[BT_PSM_FSG] - s0.made[BT_PSM_FSG],
		      s1.made[BT_PSM_OVL] - s0.made[BT_PSM_OVL]);
	assert_int_equal(s1.made[BT_PSM_FSG], s0.made[BT_PSM_FSG]);
	assert_int_equal(s1.made[BT_PSM_OVL], s0.made[BT_PSM_OVL]);
	assert_int_equal(s1.made[BT_PSM_PHONES] - s0.made[BT_PSM_PHONES], 1);
	assert_string_equal(alone.text, "three people");
	assert_string_equal(t1.text, alone.text);
	assert_string_equal(t2.text, alone.text);
	assert_true(t1.confidence == alone.confidence);
	assert_string_equal(ov1.text, ova.text);
	assert_int_equal(ov1.kind, ova.kind);
	assert_true(ov1.stop_llr == ova.stop_llr);
	/* a's front end has heard an utterance more: only its words */
	assert_string_equal(ov2.text, ova.text);

	/* b starts while a still speaks */
	two_at_once(a, b, "people3_kal", "party", true, &t2, &t1, &ov2, &ov1);
	bt_psm_stats(&s2);
	print_message("  two at once: %u grammar, %u overlap decoders more\n",
		      s2.made[BT_PSM_FSG] - s1.made[BT_PSM_FSG],
		      s2.made[BT_PSM_OVL] - s1.made[BT_PSM_OVL]);
	assert_int_equal(s2.made[BT_PSM_FSG] - s1.made[BT_PSM_FSG], 1);
	assert_int_equal(s2.made[BT_PSM_OVL] - s1.made[BT_PSM_OVL], 2);
	assert_string_equal(t1.text, alone.text);
	assert_string_equal(t2.text, alone.text);
	assert_string_equal(ov1.text, ova.text);
	assert_string_equal(ov2.text, ova.text);

	/* another agent's grammars are another kit: its recogniser makes
	 * that kit's grammar decoder, none of the overlap classes', and
	 * knows only its own grammars */
	assert_int_equal(stt->alloch(&c, &other), 0);
	bt_psm_stats(&s3);
	assert_int_equal(s3.made[BT_PSM_FSG] - s2.made[BT_PSM_FSG], 1);
	assert_int_equal(s3.made[BT_PSM_OVL], s2.made[BT_PSM_OVL]);
	assert_int_equal(decode(c, "people3_kal", "party", true, &t1, &ov1),
			 0);
	assert_string_equal(t1.text, alone.text);
	assert_int_equal(stt->starth(c, "time", false), EINVAL);
	assert_int_equal(decode(a, "people3_kal", "party", true, &t2, &ov2),
			 0);
	assert_string_equal(t2.text, alone.text);
	mem_deref(a);
	mem_deref(b);
	mem_deref(c);
}

/*
 * A session's recogniser goes back to its thread's pool when the session
 * ends, and the next session with the same grammars takes it instead of
 * making one. It hears what a new one hears, even when it was let go in
 * the middle of an utterance; other grammars get a new one; the pool keeps
 * no more than it is told to.
 */
/*
 * The overlap classifier runs only for speech over the agent, so it sits
 * out the caller's ordinary turns (and the grammar decoder the open-LM
 * ones). The words of those turns are the same as with them running, and
 * when the classifier runs again it reads bit for bit as one that heard
 * every utterance (its front end followed the audio, its live CMN is the
 * LM decoder's): without that, "wait" moved by 0.8 in stop_llr.
 */
static void test_overlap_sat_out(void **state)
{
	static const char *const between[][2] = {
		{"hours_rms", NULL}, {"noise", NULL},
		{"people3_kal", "party"}, {"tuesday_awb", "day"},
		{"weather_rms", NULL},
	};
	static const struct { const char *voice, *text; } said[] = {
		{"flite:slt", "wait"}, {"flite:awb", "yeah"},
		{"flite:rms", "hold on a second"},
	};
	struct bt_stt_st *all = NULL, *some = NULL;
	struct bt_transcript ta, ts;
	struct bt_stt_overlap oa, os;
	(void)state;

	assert_int_equal(job_alloc(&all), 0);
	assert_int_equal(job_alloc(&some), 0);
	for (size_t i = 0; i < sizeof(between) / sizeof(between[0]); i++) {
		assert_int_equal(decode(all, between[i][0], between[i][1],
					true, &ta, &oa), 0);
		assert_int_equal(decode(some, between[i][0], between[i][1],
					false, &ts, &os), 0);
		assert_string_equal(ta.text, ts.text);
		assert_true(ta.confidence == ts.confidence);
	}
	for (size_t i = 0; i < sizeof(said) / sizeof(said[0]); i++) {
		struct bt_tts_prm prm;
		struct bt_tts_st *tts = NULL;
		struct bt_tts_audio *au = NULL;
		int16_t *pcm = NULL;
		size_t n = 0;

		bt_tts_prm_default(&prm);
		assert_int_equal(bt_tts_open(&tts, said[i].voice, &prm), 0);
		assert_int_equal(bt_tts_synth(tts, said[i].text, &au), 0);
		assert_int_equal(bt_resample_buf(au->pcm, au->n, au->rate_hz,
						 BT_RATE_HZ, &pcm, &n), 0);
		assert_int_equal(decode_pcm(all, pcm, n, "party", true, &ta,
					    &oa), 0);
		assert_int_equal(decode_pcm(some, pcm, n, "party", true, &ts,
					    &os), 0);
		print_message("    \"%s\": heard all along \"%s\" %d %.3f "
			      "%.2f; after sitting out \"%s\" %d %.3f %.2f\n",
			      said[i].text, oa.text, (int)oa.kind,
			      (double)oa.confidence, (double)oa.stop_llr,
			      os.text, (int)os.kind, (double)os.confidence,
			      (double)os.stop_llr);
		assert_string_equal(ta.text, ts.text);
		assert_int_equal(oa.kind, os.kind);
		assert_string_equal(oa.text, os.text);
		assert_true(oa.stop_llr == os.stop_llr);
		/*
		 * The confidence also weighs the LM and phone-loop paths, and
		 * the decoders of one thread share its language models, whose
		 * state makes scores depend a little on what the others
		 * searched: "all" itself moved by up to 0.04 with what "some"
		 * had searched before.
		 */
		assert_true(fabsf(oa.confidence - os.confidence) <= 0.1f);
		mem_deref(pcm);
		mem_deref(au);
		mem_deref(tts);
	}
	mem_deref(all);
	mem_deref(some);
}

static void test_pool(void **state)
{
	const struct job ref = {.name = {"hours_rms", "people3_kal"},
				.grammar = {"time", "party"}};
	struct bt_stt_prm other = {.grammars = grammars, .n_grammars = 2};
	struct job first = ref, again = ref;
	struct bt_stt_st *a = NULL, *b = NULL, *c = NULL;
	unsigned made0, reused0, made, reused, idle;
	int16_t quiet[BT_FRAME_SAMPLES] = {0};

	(void)state;
	bt_stt_pocketsphinx_pool(1);
	bt_stt_pocketsphinx_stats(&made0, &reused0, &idle);
	assert_int_equal(idle, 0);

	assert_int_equal(job_alloc(&a), 0);
	job_run(&first, a);
	assert_int_equal(stt->starth(a, "party", false), 0);
	for (int i = 0; i < 10; i++)
		assert_int_equal(stt->feedh(a, quiet, BT_FRAME_SAMPLES), 0);
	a = mem_deref(a);
	bt_stt_pocketsphinx_stats(&made, &reused, &idle);
	assert_int_equal(made, made0 + 1);
	assert_int_equal(idle, 1);

	assert_int_equal(job_alloc(&b), 0);
	bt_stt_pocketsphinx_stats(&made, &reused, &idle);
	assert_int_equal(made, made0 + 1);
	assert_int_equal(reused, reused0 + 1);
	assert_int_equal(idle, 0);
	job_run(&again, b);
	assert_int_equal(first.err, 0);
	assert_int_equal(again.err, 0);
	for (size_t i = 0; i < JOB_MAX && ref.name[i]; i++) {
		print_message("  reused: %-12s -> \"%s\" conf %.3f (new: "
			      "%.3f)\n", ref.name[i], again.tr[i].text,
			      (double)again.tr[i].confidence,
			      (double)first.tr[i].confidence);
		assert_string_equal(first.tr[i].text, again.tr[i].text);
		assert_true(again.tr[i].confidence > 0.5f);
	}

	assert_int_equal(stt->alloch(&c, &other), 0);
	bt_stt_pocketsphinx_stats(&made, &reused, &idle);
	assert_int_equal(made, made0 + 2);
	b = mem_deref(b);
	c = mem_deref(c);
	bt_stt_pocketsphinx_stats(NULL, NULL, &idle);
	assert_int_equal(idle, 1);

	bt_stt_pocketsphinx_pool(0);
	bt_stt_pocketsphinx_drain();
	bt_stt_pocketsphinx_stats(NULL, NULL, &idle);
	assert_int_equal(idle, 0);
}

/*
 * Scores computed once by the phone loop and read by the other decoders
 * (src/stt/ps_share.c) give what each decoder scoring for itself gives:
 * the same words, the open language model's path score within 1 % (mostly
 * to the point; its decoder reads again the frames its search takes
 * behind the lookahead, and a read-again frame that came out wrong would
 * change it by far more), and the same confidence within 0.02. Scores
 * differ a little where a decoder's scoring of a frame depends on which
 * frames it scored before (pocketsphinx's top-N Gaussians): the lookahead
 * made the LM decoder score frames out of order. An unknown
 * BANTER_STT_SCORES is refused by name.
 */
static void shared_run(struct psi *inst, const char *name, const char *gram,
		       bool overlap, struct bt_transcript *tr, int32 *lm_score,
		       bool *shared)
{
	size_t total = 0;
	int16_t *buf = wav_with_room(name, &total);

	assert_int_equal(psi_start(inst, gram, overlap), 0);
	*shared = inst->shared_utt;
	for (size_t i = 0; i < total; i += BT_FRAME_SAMPLES) {
		size_t k = total - i < BT_FRAME_SAMPLES ? total - i :
			BT_FRAME_SAMPLES;

		assert_int_equal(psi_feed(inst, buf + i, k), 0);
		(void)psi_partial(inst, NULL, 0);
	}
	assert_int_equal(psi_finish(inst, tr), 0);
	*lm_score = inst->lm_score;
	mem_deref(buf);
}

static void test_shared_scores(void **state)
{
	static const struct {
		const char *name, *gram;
		bool overlap;
	} u[] = {
		{"hours_rms", NULL, false}, {"table3_slt", "party", false},
		{"people3_kal", "party", true}, {"sevenpm_rms", "time", false},
		{"yes_slt", "confirm", true}, {"weather_rms", NULL, false},
	};
	struct bt_stt_prm prm = {.grammars = grammars, .n_grammars = 5};
	struct psi *each = NULL, *shared = NULL, *bad = NULL;

	(void)state;
	setenv("BANTER_STT_SCORES", "each", 1);
	assert_int_equal(psi_make(&each, &prm), 0);
	setenv("BANTER_STT_SCORES", "shared", 1);
	assert_int_equal(psi_make(&shared, &prm), 0);
	setenv("BANTER_STT_SCORES", "twice", 1);
	assert_int_equal(psi_make(&bad, &prm), EINVAL);
	assert_non_null(strstr(bt_errmsg(), "BANTER_STT_SCORES"));
	assert_non_null(strstr(bt_errmsg(), "\"each\""));
	unsetenv("BANTER_STT_SCORES");
	assert_null(each->share);
	if (access("/dev/shm", W_OK)) {
		/* nowhere to write the scores: each decoder scores */
		print_message("  no writable /dev/shm: not shared\n");
		mem_deref(each);
		mem_deref(shared);
		skip();
	}
	assert_non_null(shared->share);

	for (size_t i = 0; i < sizeof(u) / sizeof(u[0]); i++) {
		struct bt_transcript te, ts;
		int32 se = 0, ss = 0;
		bool on_e = true, on_s = false;

		shared_run(each, u[i].name, u[i].gram, u[i].overlap, &te, &se,
			   &on_e);
		shared_run(shared, u[i].name, u[i].gram, u[i].overlap, &ts,
			   &ss, &on_s);
		print_message("  %-12s each: \"%s\" %.4f lm %d; shared: \"%s\" "
			      "%.4f lm %d\n", u[i].name, te.text,
			      (double)te.confidence, se, ts.text,
			      (double)ts.confidence, ss);
		assert_false(on_e);
		assert_true(on_s);
		assert_string_equal(te.text, ts.text);
		assert_true(abs(se - ss) * 100 <= abs(se));
		assert_true(fabsf(te.confidence - ts.confidence) < 0.02f);
	}
	mem_deref(each);
	mem_deref(shared);
}

/* white noise, uniform, of RMS rms into v[0..n) (added) */
static void add_white(int16_t *v, size_t n, double rms, uint32_t *seed)
{
	for (size_t i = 0; i < n; i++) {
		double x;

		*seed = *seed * 1103515245u + 12345u;
		/* uniform in [-1, 1): RMS 1/sqrt(3) */
		x = ((double)(*seed >> 8) / (1u << 24) * 2.0 - 1.0) *
		    rms * sqrt(3.0) + v[i];
		v[i] = (int16_t)(x > 32767 ? 32767 : x < -32768 ? -32768 : x);
	}
}

/*
 * The recogniser's signal-to-noise estimate (ps_conf.c): 300 ms of noise,
 * a second of tone over the same noise, 500 ms of noise. The loud frames
 * are tone plus noise, the quiet ones noise: 10 log10(1 + 10^(SNR/10))
 * apart. Digital silence around speech reads as very clean; under 200 ms
 * tells nothing (the most the histogram holds).
 */
static void test_level(void **state)
{
	enum { LEAD = BT_RATE_HZ * 3 / 10, TONE = BT_RATE_HZ,
	       N = LEAD + TONE + BT_RATE_HZ / 2 };
	static const double snrs[] = {0, 5, 10, 20, 30};
	static int16_t v[N];
	struct level lv;
	uint32_t seed = 7;

	(void)state;
	for (size_t k = 0; k < sizeof(snrs) / sizeof(snrs[0]); k++) {
		double noise = 1000.0 / pow(10.0, snrs[k] / 20.0);
		double want = 10.0 * log10(1.0 + pow(10.0, snrs[k] / 10.0));
		float got;

		memset(v, 0, sizeof(v));
		for (size_t i = 0; i < TONE; i++)
			v[LEAD + i] = (int16_t)(1000.0 * sqrt(2.0) *
				sin(2 * M_PI * 440.0 * i / BT_RATE_HZ));
		add_white(v, N, noise, &seed);
		ps_level_reset(&lv);
		/* fed in pieces that do not line up with its 10 ms frames */
		for (size_t i = 0; i < N; i += 333)
			ps_level_feed(&lv, v + i, N - i < 333 ? N - i : 333);
		got = ps_level_snr(&lv);
		print_message("  SNR %2.0f dB: estimated %.0f (expected %.1f)\n",
			      snrs[k], (double)got, want);
		assert_true(fabs((double)got - want) <= 1.5);
	}
	memset(v, 0, sizeof(v));
	for (size_t i = 0; i < TONE; i++)
		v[LEAD + i] = (int16_t)(1000.0 * sin(i * 0.17));
	ps_level_reset(&lv);
	ps_level_feed(&lv, v, N);
	assert_true(ps_level_snr(&lv) >= 50);
	ps_level_reset(&lv);
	ps_level_feed(&lv, v, BT_RATE_HZ / 10);
	assert_true(ps_level_snr(&lv) >= LEVEL_BINS);
}

/* "a table for three please" (flite slt) with a 50 Hz hum db below it
 * (RMS), 300 ms of hum before and after, on a new recogniser at the
 * party question */
static void hummed(double db, struct bt_transcript *tr)
{
	enum { LEAD = BT_RATE_HZ * 3 / 10 };
	struct bt_stt_st *s = NULL;
	int16_t *pcm = NULL, *buf;
	size_t n = 0, total;
	uint32_t rate = 0;
	double e = 0, amp;

	assert_int_equal(bt_wav_read("tests/data/stt_table3_slt.wav", &pcm,
				     &n, &rate), 0);
	for (size_t i = 0; i < n; i++)
		e += (double)pcm[i] * pcm[i];
	amp = sqrt(2.0 * e / n) / pow(10.0, db / 20.0);
	total = LEAD + n + LEAD;
	buf = mem_zalloc(total * sizeof(*buf), NULL);
	assert_non_null(buf);
	for (size_t i = 0; i < total; i++)
		buf[i] = (int16_t)((i >= LEAD && i < LEAD + n ? pcm[i - LEAD]
				    : 0) + amp * sin(2 * M_PI * 50.0 * i /
						     BT_RATE_HZ));
	/* fed as it is (decode_pcm would add a quiet room around it) */
	assert_int_equal(job_alloc(&s), 0);
	assert_int_equal(stt->starth(s, "party", false), 0);
	for (size_t i = 0; i + BT_FRAME_SAMPLES <= total;
	     i += BT_FRAME_SAMPLES)
		assert_int_equal(stt->feedh(s, buf + i, BT_FRAME_SAMPLES), 0);
	assert_int_equal(stt->finishh(s, tr), 0);
	print_message("  hum %2.0f dB below the speech: \"%s\" conf %.3f\n",
		      db, tr->text, (double)tr->confidence);
	mem_deref(s);
	mem_deref(buf);
	mem_deref(pcm);
}

/*
 * A value heard on a noisy line is asked back, never taken as sure
 * (ps_conf.c, SNR_LOW): the same words with a line noise as loud as the
 * speech are heard at 0.5, the unsure figure; with the noise 20 dB below
 * they keep their own. The noise is a mains hum, which the recogniser's
 * front end (from 133 Hz up) hardly hears, so the words and their score
 * stay the same and only the line's level can lower the figure. (The
 * estimate counts the whole band, so such a line's values are asked back
 * too.)
 */
static void test_noisy_value(void **state)
{
	struct bt_transcript tr;
	int v = 0;

	(void)state;
	hummed(20, &tr);
	assert_int_equal(slot_number_parse(tr.text, 0, 1000000, &v), 0);
	assert_int_equal(v, 3);
	assert_true(tr.confidence > 0.5f);
	hummed(0, &tr);
	assert_int_equal(slot_number_parse(tr.text, 0, 1000000, &v), 0);
	assert_int_equal(v, 3);
	assert_float_equal(tr.confidence, 0.5f, 1e-6);
}

static int setup(void **state)
{
	struct bt_stt_prm prm = {
		.grammars = grammars,
		.n_grammars = sizeof(grammars) / sizeof(grammars[0]),
	};
	int err;

	(void)state;
	bt_stt_pocketsphinx_init();
	bt_tts_flite_init();  /* test_overlap makes its speech */
	stt = bt_stt_find("pocketsphinx");
	if (!stt)
		return -1;
	err = stt->alloch(&st, &prm);
	if (err) {
		print_error("alloc: %s\n", bt_errmsg());
		return -1;
	}
	if (bt_stt_of(st) != stt)
		return -1;
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	st = mem_deref(st);
	bt_stt_pocketsphinx_close();
	bt_tts_flite_close();
	return 0;
}

/* test_stt [PATTERN]: only the tests whose names match (cmocka's filter) */
int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_slot_names),
		cmocka_unit_test(test_open_lm),
		cmocka_unit_test(test_number),
		cmocka_unit_test(test_day),
		cmocka_unit_test(test_time),
		cmocka_unit_test(test_yes_no),
		cmocka_unit_test(test_extra_phrase),
		cmocka_unit_test(test_text_slot),
		cmocka_unit_test(test_off_topic),
		cmocka_unit_test(test_overlap),
		cmocka_unit_test(test_misuse),
		cmocka_unit_test(test_speed),
		cmocka_unit_test(test_bad_grammars),
		cmocka_unit_test(test_no_grammars),
		cmocka_unit_test(test_shared_threads),
		cmocka_unit_test(test_shared_next),
		cmocka_unit_test(test_overlap_sat_out),
		cmocka_unit_test(test_pool),
		cmocka_unit_test(test_lm_lent),
		cmocka_unit_test(test_kit_lent),
		cmocka_unit_test(test_shared_scores),
		cmocka_unit_test(test_level),
		cmocka_unit_test(test_noisy_value),
	};

	if (argc > 1)
		cmocka_set_test_filter(argv[1]);
	return cmocka_run_group_tests(tests, setup, teardown);
}
