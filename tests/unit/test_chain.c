/*
 * Recogniser chains (stt/chain.c) with scripted providers: "net" streams
 * (listen), answers finish() later and can be told to fail; "local" counts
 * the audio it is fed and answers at once with how much it got. What is
 * tested: a failure mid-utterance hands the utterance's audio to the next
 * recogniser and its final reaches the session; a failure while the final
 * is awaited gives the final from the next one; a chain with nothing left
 * says so with an error; narrow-band callers get the narrow-band link.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>
#include "banter/banter.h"

/* ---- scripted providers ---- */

struct fnet {
	const struct bt_stt *stt;
	bt_stt_final_h *finalh;
	bt_stt_fail_h *failh;
	void *arg;
	size_t heard;
};
static struct fnet *last_net;
static unsigned nets_made, locals_made;

static int fnet_alloc(struct bt_stt_st **stp, const struct bt_stt_prm *prm);
static int fnet_start(struct bt_stt_st *st, const char *g, bool overlap)
{
	(void)g;
	(void)overlap;
	((struct fnet *)st)->heard = 0;
	return 0;
}
static int fnet_feed(struct bt_stt_st *st, const int16_t *pcm, size_t n)
{
	(void)st;
	(void)pcm;
	(void)n;
	return 0;
}
static void fnet_listen(struct bt_stt_st *st, const int16_t *pcm, size_t n)
{
	(void)pcm;
	((struct fnet *)st)->heard += n;
}
static int fnet_finish(struct bt_stt_st *st, struct bt_transcript *tr)
{
	(void)st;
	(void)tr;
	return EINPROGRESS;
}
static struct bt_stt fnet_stt = {.name = "fnet", .alloch = fnet_alloc,
	.starth = fnet_start, .feedh = fnet_feed, .finishh = fnet_finish,
	.listenh = fnet_listen, .network = true};
static int fnet_alloc(struct bt_stt_st **stp, const struct bt_stt_prm *prm)
{
	struct fnet *f = mem_zalloc(sizeof(*f), NULL);

	if (!f)
		return ENOMEM;
	f->stt = &fnet_stt;
	f->finalh = prm->finalh;
	f->failh = prm->failh;
	f->arg = prm->arg;
	last_net = f;
	++nets_made;
	*stp = (struct bt_stt_st *)f;
	return 0;
}

struct flocal {
	const struct bt_stt *stt;
	size_t fed;
	bool started;
	bool overlap;   /* what its utterance was started with */
};
static int flocal_alloc(struct bt_stt_st **stp, const struct bt_stt_prm *prm);
static struct flocal *last_local;
static int flocal_start(struct bt_stt_st *st, const char *g, bool overlap)
{
	(void)g;
	((struct flocal *)st)->overlap = overlap;
	((struct flocal *)st)->fed = 0;
	((struct flocal *)st)->started = true;
	return 0;
}
static int flocal_feed(struct bt_stt_st *st, const int16_t *pcm, size_t n)
{
	(void)pcm;
	((struct flocal *)st)->fed += n;
	return 0;
}
static int flocal_finish(struct bt_stt_st *st, struct bt_transcript *tr)
{
	struct flocal *l = (struct flocal *)st;

	snprintf(tr->text, sizeof(tr->text), "local heard %zu", l->fed);
	tr->confidence = 0.8f;
	return 0;
}
static struct bt_stt flocal_stt = {.name = "flocal", .alloch = flocal_alloc,
	.starth = flocal_start, .feedh = flocal_feed,
	.finishh = flocal_finish};
static int flocal_alloc(struct bt_stt_st **stp, const struct bt_stt_prm *prm)
{
	struct flocal *l = mem_zalloc(sizeof(*l), NULL);

	(void)prm;
	if (!l)
		return ENOMEM;
	l->stt = &flocal_stt;
	last_local = l;
	++locals_made;
	*stp = (struct bt_stt_st *)l;
	return 0;
}

/* ---- what the session hears ---- */

static char final_text[512];
static unsigned finals, fails, fails_fatal;
static char fail_msg[1200];

static void on_final(const struct bt_transcript *tr, void *arg)
{
	(void)arg;
	snprintf(final_text, sizeof(final_text), "%s", tr->text);
	++finals;
}
static void on_fail(int err, const char *msg, void *arg)
{
	(void)arg;
	++fails;
	fails_fatal += err != 0;
	snprintf(fail_msg, sizeof(fail_msg), "%s", msg);
}

static const struct bt_stt_grammar grammars[] = {
	{.name = "party", .type = BT_SLOT_NUMBER,
	 .phrases = (const char *const[]){"a table for", "mhm"},
	 .n_phrases = 2},
};

static struct bt_stt_st *open_chain(const char *section_json, uint32_t rate)
{
	struct bt_stt_prm prm;
	struct bt_stt_st *st = NULL;
	json_error_t je;
	json_t *sec = json_loads(section_json, 0, &je);

	assert_non_null(sec);
	memset(&prm, 0, sizeof(prm));
	prm.grammars = grammars;
	prm.n_grammars = 1;
	prm.section = sec;
	prm.call_rate_hz = rate;
	prm.finalh = on_final;
	prm.failh = on_fail;
	assert_int_equal(bt_stt_open(&st, &prm), 0);
	json_decref(sec);  /* the chain keeps what it needs */
	return st;
}

static void reset(void)
{
	final_text[0] = '\0';
	finals = fails = fails_fatal = 0;
	last_net = NULL;
	last_local = NULL;
	nets_made = locals_made = 0;
}

static int setup(void **state)
{
	(void)state;
	if (libre_init() || bt_init())
		return -1;
	bt_stt_register(&fnet_stt);
	bt_stt_register(&flocal_stt);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	bt_stt_unregister(&fnet_stt);
	bt_stt_unregister(&flocal_stt);
	bt_close();
	libre_close();
	return 0;
}

static void feed(struct bt_stt_st *st, size_t frames)
{
	int16_t pcm[320] = {0};

	for (size_t i = 0; i < frames; i++) {
		bt_stt_of(st)->listenh(st, pcm, 320);
		bt_stt_of(st)->feedh(st, pcm, 320);
	}
}

/* the socket breaks mid-utterance: the local one gets it from its start */
static void test_fail_mid_utterance(void **state)
{
	struct bt_stt_st *st;
	struct bt_transcript tr;

	(void)state;
	reset();
	st = open_chain("{\"provider\": \"fnet\", \"fallback\": [\"flocal\"]}",
			16000);
	assert_int_equal(nets_made, 1);
	assert_int_equal(locals_made, 0);  /* made only when needed */
	/* speech over the agent: the one taking over reads it so too */
	assert_int_equal(bt_stt_of(st)->starth(st, "party", true), 0);
	feed(st, 10);
	assert_int_equal(last_net->heard, 3200);
	last_net->failh(ECONNRESET, "socket closed", last_net->arg);
	assert_int_equal(locals_made, 1);
	assert_non_null(last_local);
	assert_true(last_local->started);
	assert_true(last_local->overlap);
	assert_int_equal(fails, 1);
	assert_int_equal(fails_fatal, 0);  /* another took over */
	assert_non_null(strstr(fail_msg, "takes over"));
	feed(st, 5);
	memset(&tr, 0, sizeof(tr));
	assert_int_equal(bt_stt_of(st)->finishh(st, &tr), 0);
	/* the 10 frames before the failure and the 5 after */
	assert_string_equal(tr.text, "local heard 4800");
	mem_deref(st);
}

/* the final is awaited when it fails: the next one gives it */
static void test_fail_while_finishing(void **state)
{
	struct bt_stt_st *st;
	struct bt_transcript tr;

	(void)state;
	reset();
	st = open_chain("{\"provider\": \"fnet\", \"fallback\": [\"flocal\"]}",
			16000);
	assert_int_equal(bt_stt_of(st)->starth(st, NULL, false), 0);
	feed(st, 7);
	memset(&tr, 0, sizeof(tr));
	assert_int_equal(bt_stt_of(st)->finishh(st, &tr), EINPROGRESS);
	last_net->failh(ETIMEDOUT, "no final in time", last_net->arg);
	assert_int_equal(finals, 1);
	assert_string_equal(final_text, "local heard 2240");
	/* the next utterance goes to the local one */
	assert_int_equal(bt_stt_of(st)->starth(st, NULL, false), 0);
	feed(st, 2);
	assert_int_equal(bt_stt_of(st)->finishh(st, &tr), 0);
	assert_string_equal(tr.text, "local heard 640");
	mem_deref(st);
}

/* nothing left: an error the session can act on, and an empty final */
static void test_nothing_left(void **state)
{
	struct bt_stt_st *st;
	struct bt_transcript tr;

	(void)state;
	reset();
	st = open_chain("{\"provider\": \"fnet\", \"fallback\": [\"fnet\"]}",
			16000);
	assert_int_equal(bt_stt_of(st)->starth(st, NULL, false), 0);
	feed(st, 3);
	assert_int_equal(bt_stt_of(st)->finishh(st, &tr), EINPROGRESS);
	last_net->failh(ECONNRESET, "first broke", last_net->arg);
	assert_int_equal(nets_made, 2);
	assert_int_equal(finals, 0);  /* the second one is finishing */
	last_net->failh(ECONNRESET, "second broke", last_net->arg);
	assert_int_equal(fails_fatal, 1);
	assert_non_null(strstr(fail_msg, "no fallback recogniser is left"));
	assert_int_equal(finals, 1);
	assert_string_equal(final_text, "");
	assert_int_not_equal(bt_stt_of(st)->starth(st, NULL, false), 0);
	mem_deref(st);
}

/* a phone codec's caller gets the narrow-band recogniser */
static void test_narrowband(void **state)
{
	struct bt_stt_st *st;

	(void)state;
	reset();
	st = open_chain("{\"provider\": \"flocal\", \"narrowband\": "
			"{\"provider\": \"fnet\"}}", 8000);
	assert_int_equal(nets_made, 1);
	assert_int_equal(locals_made, 0);
	mem_deref(st);
	reset();
	st = open_chain("{\"provider\": \"flocal\", \"narrowband\": "
			"{\"provider\": \"fnet\"}}", 16000);
	assert_int_equal(nets_made, 0);
	assert_int_equal(locals_made, 1);
	mem_deref(st);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fail_mid_utterance),
		cmocka_unit_test(test_fail_while_finishing),
		cmocka_unit_test(test_nothing_left),
		cmocka_unit_test(test_narrowband),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
