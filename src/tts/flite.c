/**
 * @file flite.c  Flite provider "flite" (voices kal, slt, rms, awb).
 *
 * The voice objects and their feature lists are shared by every instance
 * and flite keeps some state in globals (its error jump buffer), so one
 * mutex serialises all synthesis. Rate and pitch are per instance: they
 * are written into the voice's features under that mutex just before each
 * synthesis. Word timings come from the utterance: each Token (a piece of
 * the input text) has the Words it expands to as daughters, and a word's
 * time is that of its first to last Segment.
 */
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <setjmp.h>
#include <string.h>
#include <flite/flite.h>
#include <flite/cst_cg.h>
#include "banter/err.h"
#include "banter/tts.h"
#include "tts/tts_int.h"

/* The voices' registration functions have no header. */
cst_voice *register_cmu_us_kal(const char *voxdir);
void unregister_cmu_us_kal(cst_voice *v);
cst_voice *register_cmu_us_slt(const char *voxdir);
void unregister_cmu_us_slt(cst_voice *v);
cst_voice *register_cmu_us_rms(const char *voxdir);
void unregister_cmu_us_rms(cst_voice *v);
cst_voice *register_cmu_us_awb(const char *voxdir);
void unregister_cmu_us_awb(cst_voice *v);

/*
 * Clustergen voices built with the "spam" F0 model (rms) compute their
 * pitch from accent vectors in log Hz and ignore f0_shift. To move their
 * pitch we give the voice a copy of its database whose accent peaks we
 * can add log(shift) to.
 */
struct spam {
	cst_cg_db db;              /* copy of the voice's, with vecs below */
	float **vecs;
	const float * const *orig;
	int n;
	float shift;               /* the one vecs hold now */
};

/*
 * wpm1: words per minute a voice speaks at duration_stretch 1, measured
 * on long sentences of ordinary English (flite 2.2); the stretch for a
 * wanted rate is wpm1 / rate.
 */
static struct voice {
	const char *name;
	cst_voice *(*reg)(const char *voxdir);
	void (*unreg)(cst_voice *v);
	double wpm1;
	uint32_t rate_hz;          /* its native rate */
	cst_voice *v;              /* NULL while flite is closed */
	struct spam *spam;         /* for voices with the spam F0 model */
} voices[] = {
	{"kal", register_cmu_us_kal, unregister_cmu_us_kal, 227, 8000,
	 NULL, NULL},
	{"slt", register_cmu_us_slt, unregister_cmu_us_slt, 211, 16000,
	 NULL, NULL},
	{"rms", register_cmu_us_rms, unregister_cmu_us_rms, 182, 16000,
	 NULL, NULL},
	{"awb", register_cmu_us_awb, unregister_cmu_us_awb, 209, 16000,
	 NULL, NULL},
};

#define N_VOICES (sizeof(voices) / sizeof(voices[0]))
#define VOICE_NAMES "kal, slt, rms, awb"

static pthread_mutex_t fl_mtx = PTHREAD_MUTEX_INITIALIZER;
static bool fl_up;

struct bt_tts_st {
	const struct bt_tts *tts;  /* first: bt_tts_synth dispatches on it */
	size_t voice;              /* index into voices[] */
	struct bt_tts_prm prm;
};

/* One synthesis, filled in under fl_mtx. */
struct job {
	const char *text;
	const struct bt_tts_tok *toks;
	size_t n_toks;
	struct bt_tts_span *spans;
	cst_voice *v;
	struct spam *spam;
	float stretch;
	float f0_shift;

	int err;
	int16_t *pcm;
	size_t n;
	uint32_t rate_hz;
};

static int fl_alloc(struct bt_tts_st **stp, const char *voice,
		    const struct bt_tts_prm *prm);
static int fl_synth(struct bt_tts_st *st, const char *text,
		    struct bt_tts_audio **audiop);

static struct bt_tts fl_tts = {
	.name = "flite",
	.alloch = fl_alloc,
	.synthh = fl_synth,
};

static void spam_destructor(void *arg)
{
	struct spam *sp = arg;

	mem_deref(sp->vecs);
}

/* Give a spam voice its own copy of the database. The copy is not
   freeable (as the original), so flite never frees it: we do, after the
   voice is gone. */
static int spam_attach(struct voice *vo)
{
	const cst_cg_db *db;
	struct spam *sp;
	size_t nch, i;
	float *data;

	if (!feat_present(vo->v->features, "cg_db"))
		return 0;
	db = val_cg_db(feat_val(vo->v->features, "cg_db"));
	if (!db || !db->spamf0 || db->num_frames_spamf0_accent <= 0 ||
	    db->num_channels_spamf0_accent <= 0)
		return 0;

	nch = (size_t)db->num_channels_spamf0_accent;
	sp = mem_zalloc(sizeof(*sp), spam_destructor);
	if (!sp)
		return ENOMEM;

	sp->n = db->num_frames_spamf0_accent;
	sp->orig = db->spamf0_accent_vectors;
	sp->shift = 1.0f;

	/* pointers and data in one block */
	sp->vecs = mem_alloc((size_t)sp->n * (sizeof(float *) +
					      nch * sizeof(float)), NULL);
	if (!sp->vecs) {
		mem_deref(sp);
		return ENOMEM;
	}
	data = (float *)(void *)(sp->vecs + sp->n);
	for (i = 0; i < (size_t)sp->n; i++) {
		sp->vecs[i] = data + i * nch;
		memcpy(sp->vecs[i], sp->orig[i], nch * sizeof(float));
	}

	sp->db = *db;
	sp->db.spamf0_accent_vectors = (const float * const *)sp->vecs;
	sp->db.freeable = 0;
	feat_set(vo->v->features, "cg_db", cg_db_val(&sp->db));
	vo->spam = sp;

	return 0;
}

/* Accent vectors hold [peak, ...] in log Hz: adding log(shift) to every
   peak multiplies the pitch. Called with fl_mtx held. */
static void spam_shift(struct spam *sp, float shift)
{
	float d = logf(shift);
	int i;

	if (shift == sp->shift)
		return;

	for (i = 0; i < sp->n; i++)
		sp->vecs[i][0] = sp->orig[i][0] + d;
	sp->shift = shift;
}

static uint32_t sec_to_ms(float s)
{
	return s > 0 ? (uint32_t)(s * 1000.0f + 0.5f) : 0;
}

/* Start and end of one Word item, from its segments. */
static bool word_times(const cst_item *w, uint32_t *startp, uint32_t *endp)
{
	const cst_item *first, *last, *prev;

	first = path_to_item(w, "R:SylStructure.daughter1.daughter1."
			     "R:Segment");
	last = path_to_item(w, "R:SylStructure.daughtern.daughtern."
			    "R:Segment");
	if (!first || !last)
		return false;

	prev = item_prev(first);
	*startp = prev ? sec_to_ms(item_feat_float(prev, "end")) : 0;
	*endp = sec_to_ms(item_feat_float(last, "end"));

	return true;
}

/* Map the utterance's tokens onto the input tokens by finding each
   token's name in the text, in order. */
static void spans_from_utt(struct job *j, const cst_utterance *u)
{
	const cst_item *t;
	size_t cursor = 0;

	for (t = relation_head(utt_relation(u, "Token")); t;
	     t = item_next(t)) {
		const char *name = item_feat_string(t, "name");
		const cst_item *w;
		const char *at;
		size_t k;

		if (!name || !*name)
			continue;

		at = strstr(j->text + cursor, name);
		if (!at)
			continue;
		cursor = (size_t)(at - j->text) + strlen(name);

		k = bt_tts_tok_find(j->toks, j->n_toks,
				    (size_t)(at - j->text));
		if (k >= j->n_toks)
			continue;

		for (w = item_daughter(t); w; w = item_next(w)) {
			struct bt_tts_span *s = &j->spans[k];
			uint32_t ws, we;

			if (!word_times(w, &ws, &we))
				continue;

			if (!s->set) {
				s->start_ms = ws;
				s->end_ms = we;
				s->set = true;
				continue;
			}
			if (ws < s->start_ms)
				s->start_ms = ws;
			if (we > s->end_ms)
				s->end_ms = we;
		}
	}
}

static void render(struct job *j)
{
	cst_utterance *u;
	const cst_wave *w;
	size_t n, max;

	feat_set_float(j->v->features, "duration_stretch", j->stretch);
	feat_set_float(j->v->features, "f0_shift", j->f0_shift);
	if (j->spam)
		spam_shift(j->spam, j->f0_shift);

	u = flite_synth_text(j->text, j->v);
	if (!u) {
		j->err = EIO;
		return;
	}

	w = utt_wave(u);
	if (!w || w->sample_rate <= 0 || w->num_channels != 1) {
		j->err = EIO;
		goto out;
	}

	j->rate_hz = (uint32_t)w->sample_rate;
	n = w->num_samples > 0 ? (size_t)w->num_samples : 0;
	max = (size_t)j->rate_hz * BT_TTS_AUDIO_MAX_S;
	if (n > max) {
		j->err = EFBIG;
		goto out;
	}

	if (n) {
		j->pcm = mem_alloc(n * sizeof(*j->pcm), NULL);
		if (!j->pcm) {
			j->err = ENOMEM;
			goto out;
		}
		memcpy(j->pcm, w->samples, n * sizeof(*j->pcm));
	}
	j->n = n;

	spans_from_utt(j, u);

 out:
	delete_utterance(u);
}

/* flite reports internal errors through cst_error(), which exits the
   process unless cst_errjmp is set: catch it and fail this call. What
   the aborted synthesis had allocated is lost. Called with fl_mtx held. */
static int render_guarded(struct job *j)
{
	jmp_buf jb;

	cst_errjmp = &jb;
	if (setjmp(jb)) {
		cst_errjmp = NULL;
		return EIO;
	}

	render(j);
	cst_errjmp = NULL;

	return j->err;
}

static int fl_alloc(struct bt_tts_st **stp, const char *voice,
		    const struct bt_tts_prm *prm)
{
	struct bt_tts_st *st;
	size_t i;
	int err;

	if (!stp)
		return bt_err(EINVAL, "flite: no result pointer given");
	if (!voice || !*voice)
		voice = "slt";

	for (i = 0; i < N_VOICES; i++) {
		if (!strcmp(voices[i].name, voice))
			break;
	}
	if (i == N_VOICES)
		return bt_err(ENOENT, "unknown flite voice \"%s\"; use one of "
			      VOICE_NAMES " (e.g. flite:slt)", voice);

	st = mem_zalloc(sizeof(*st), NULL);
	if (!st)
		return bt_err(ENOMEM, "flite: out of memory");

	st->tts = &fl_tts;
	st->voice = i;

	err = bt_tts_prm_norm(&st->prm, prm);
	if (err)
		mem_deref(st);
	else
		*stp = st;

	return err;
}

static int fl_synth(struct bt_tts_st *st, const char *text,
		    struct bt_tts_audio **audiop)
{
	struct bt_tts_tok *toks = NULL;
	struct job j;
	int err;

	memset(&j, 0, sizeof(j));

	if (!st || !text || !audiop)
		return bt_err(EINVAL, "flite: synth needs a voice, a text "
			      "and a result pointer");

	err = bt_tts_text_split(text, &toks, &j.n_toks);
	if (err)
		return err;

	if (j.n_toks) {
		j.spans = mem_zalloc(j.n_toks * sizeof(*j.spans), NULL);
		if (!j.spans) {
			err = bt_err(ENOMEM, "flite: out of memory");
			goto out;
		}
	}

	j.text = text;
	j.toks = toks;
	j.stretch = (float)(voices[st->voice].wpm1 / st->prm.rate_wpm);
	/* pitch 0..100 spans 1.3 octaves as on espeak: 50 is the voice's */
	j.f0_shift = (float)pow(2.0, ((double)st->prm.pitch - 50) / 75);

	pthread_mutex_lock(&fl_mtx);
	j.v = voices[st->voice].v;
	j.spam = voices[st->voice].spam;
	if (!j.v) {
		pthread_mutex_unlock(&fl_mtx);
		err = bt_err(ENODEV, "flite: not running; call "
			     "bt_tts_flite_init() first");
		goto out;
	}

	if (!j.n_toks) {
		/* nothing to say: only the voice's rate is wanted */
		j.rate_hz = voices[st->voice].rate_hz;
		pthread_mutex_unlock(&fl_mtx);
		err = bt_tts_audio_build(audiop, text, NULL, NULL, 0, NULL, 0,
					 j.rate_hz, false);
		goto out;
	}

	err = render_guarded(&j);
	pthread_mutex_unlock(&fl_mtx);

	switch (err) {

	case 0:
		break;

	case EFBIG:
		err = bt_err(err, "flite: the text makes more than %d s of "
			     "audio; give it one sentence at a time",
			     BT_TTS_AUDIO_MAX_S);
		goto out;

	case ENOMEM:
		err = bt_err(err, "flite: out of memory");
		goto out;

	default:
		err = bt_err(err, "flite: synthesis failed for voice %s "
			     "(flite printed why on stderr)",
			     voices[st->voice].name);
		goto out;
	}

	err = bt_tts_audio_build(audiop, text, toks, j.spans, j.n_toks,
				 j.pcm, j.n, j.rate_hz, false);
	j.pcm = NULL;

 out:
	mem_deref(j.pcm);
	mem_deref(j.spans);
	mem_deref(toks);

	return err;
}

static void voice_drop(struct voice *vo)
{
	if (vo->v)
		vo->unreg(vo->v);
	vo->v = NULL;
	vo->spam = mem_deref(vo->spam);
}

int bt_tts_flite_init(void)
{
	size_t i;
	int err = 0;

	pthread_mutex_lock(&fl_mtx);
	if (fl_up)
		goto out;

	flite_init();
	for (i = 0; i < N_VOICES; i++) {
		voices[i].v = voices[i].reg(NULL);
		if (!voices[i].v) {
			err = bt_err(ENOENT, "flite: could not load the voice "
				     "%s (libflite_cmu_us_%s)",
				     voices[i].name, voices[i].name);
			break;
		}
		if (spam_attach(&voices[i])) {
			++i;
			err = bt_err(ENOMEM, "flite: out of memory");
			break;
		}
	}

	if (err) {
		while (i-- > 0)
			voice_drop(&voices[i]);
		goto out;
	}

	fl_up = true;
	bt_tts_register(&fl_tts);

 out:
	pthread_mutex_unlock(&fl_mtx);
	return err;
}

void bt_tts_flite_close(void)
{
	/* a closed engine's renderings go with it */
	bt_tts_cache_flush();
	size_t i;

	pthread_mutex_lock(&fl_mtx);
	if (fl_up) {
		bt_tts_unregister(&fl_tts);
		for (i = 0; i < N_VOICES; i++)
			voice_drop(&voices[i]);
		fl_up = false;
	}
	pthread_mutex_unlock(&fl_mtx);
}
