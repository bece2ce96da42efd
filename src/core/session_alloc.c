/**
 * @file session_alloc.c  A call's set-up from its agent file (its
 *                        recogniser, voice, brain, turn-taking and
 *                        recording settings) and what its end frees.
 *                        session.c runs the call.
 */
#include "core/session_int.h"
#include "store/recording.h"

static uint32_t cfg_ms(const json_t *agent, const char *sect, const char *key,
		       uint32_t def);
static const char *cfg_str(const json_t *agent, const char *sect,
			   const char *key, const char *def);
static void session_destructor(void *arg);
static void waits_cap(struct bt_endpoint_waits *w, uint32_t max_ms);
static void waits_read(const json_t *obj, struct bt_endpoint_waits *w);

/* Backchannels every STT grammar must recognise (in the dictionary). */
static const char *gram_backchannels[] = {"mhm", "hmm", "uh-huh", "yeah",
					  "okay", "right", "i see"};

static uint32_t cfg_ms(const json_t *agent, const char *sect, const char *key,
		       uint32_t def)
{
	const json_t *v = json_object_get(json_object_get(agent, sect), key);

	return json_is_integer(v) && json_integer_value(v) > 0
		       ? (uint32_t)json_integer_value(v) : def;
}

static const char *cfg_str(const json_t *agent, const char *sect,
			   const char *key, const char *def)
{
	const json_t *v = json_object_get(json_object_get(agent, sect), key);

	return json_is_string(v) ? json_string_value(v) : def;
}

static void session_destructor(void *arg)
{
	struct bt_session *s = arg;

	if (s->state != BT_ST_ENDED && s->brain)
		ss_end_call(s, "closed");
	ss_consent_end(s);
	mem_deref(s->reply);
	mem_deref(s->pre);
	/* the brain goes while the session is whole: a tool still running
	 * is reported to the trace (and its response cut loose) */
	mem_deref(s->brain);
	/* late answers of an asynchronous brain find no session */
	for (struct le *le = s->tags.head; le; le = le->next)
		((struct resp_tag *)le->data)->s = NULL;
	mem_deref(s->instructions);
	mem_deref(s->tools);
	mem_deref(s->stt);
	ss_tts_hold_put(s->tts);
	for (size_t i = 0; i < s->n_fb; i++)
		ss_tts_hold_put(s->tts_fb[i]);
	mem_deref(s->vad);
	mem_deref(s->aec);
	mem_deref(s->pitch);
	mem_deref(s->prosody);
	mem_deref(s->ep);
	json_decref(s->ov_why);
	json_decref(s->final_why);
	mem_deref(s->rs_in);
	mem_deref(s->rs_out);
	for (size_t i = 0; i < s->n_hist; i++)
		ss_hist_free(&s->hist[i]);
	bt_agent_put(s->agent);
}

/* Cap a set of waits at max_ms, keeping it ordered. */
static void waits_cap(struct bt_endpoint_waits *w, uint32_t max_ms)
{
	w->max_wait_ms = max_ms;
	if (w->incomplete_wait_ms > max_ms)
		w->incomplete_wait_ms = max_ms;
	if (w->base_wait_ms > w->incomplete_wait_ms)
		w->base_wait_ms = w->incomplete_wait_ms;
	if (w->min_wait_ms > w->base_wait_ms)
		w->min_wait_ms = w->base_wait_ms;
}

/* An agent file's endpoint waits (validated by the agent loader) over
 * the defaults in w; obj may be NULL. */
static void waits_read(const json_t *obj, struct bt_endpoint_waits *w)
{
	const struct {
		const char *key;
		uint32_t *dst;
	} f[] = {
		{"min_wait_ms", &w->min_wait_ms},
		{"base_wait_ms", &w->base_wait_ms},
		{"incomplete_wait_ms", &w->incomplete_wait_ms},
		{"max_wait_ms", &w->max_wait_ms},
		{"prosody_pct", &w->prosody_pct},
	};

	for (size_t i = 0; i < sizeof(f) / sizeof(f[0]); i++) {
		const json_t *v = json_object_get(obj, f[i].key);

		if (v)
			*f[i].dst = (uint32_t)json_integer_value(v);
	}
}

int bt_session_alloc(struct bt_session **sp, struct bt_agent *agent,
		     const struct bt_session_prm *prm, bt_event_h *eh,
		     void *arg)
{
	struct bt_session_prm def;
	const json_t *aj;
	const struct bt_stt *stt;
	const struct bt_vad *vad;
	const struct bt_brain *brain;
	struct bt_stt_grammar *gr = NULL, *gr2 = NULL;
	const char **phr = NULL;
	size_t n_gr = 0;
	struct bt_stt_prm sprm;
	struct bt_tts_prm tprm;
	struct bt_brain_ctx ctx;
	struct bt_session *s;
	const json_t *persona;
	struct bt_stt_grammar cg;
	bool has_cg;
	int err;

	if (!sp || !agent)
		return bt_err(EINVAL, "bt_session_alloc: no agent given");
	if (!prm) {
		bt_session_prm_default(&def);
		prm = &def;
	}
	aj = bt_agent_json(agent);

	s = mem_zalloc(sizeof(*s), session_destructor);
	if (!s)
		return ENOMEM;
	s->agent = bt_agent_ref(agent);
	{
		static atomic_uint uids;
		s->uid = atomic_fetch_add(&uids, 1) + 1;
	}
	s->eh = eh;
	s->arg = arg;
	s->rate_hz = prm->rate_hz ? prm->rate_hz : BT_RATE_HZ;
	s->realtime = prm->realtime;
	s->state = BT_ST_LISTENING;
	if (prm->id)
		str_ncpy(s->id, prm->id, sizeof(s->id));
	else
		snprintf(s->id, sizeof(s->id), "s%u-%ld", s->uid,
			 (long)time(NULL));
	str_ncpy(s->db_path, prm->db_path ? prm->db_path : "banter.db",
		 sizeof(s->db_path));
	str_ncpy(s->caller_id, prm->caller_id ? prm->caller_id : "",
		 sizeof(s->caller_id));

	if (s->rate_hz % 50 || s->rate_hz < 8000 || s->rate_hz > 48000) {
		err = bt_err(EINVAL, "unsupported audio rate %u Hz; use 8000 "
			     "to 48000 Hz in steps of 50", s->rate_hz);
		goto out;
	}
	if (s->rate_hz != BT_RATE_HZ) {
		err = bt_resampler_alloc(&s->rs_in, s->rate_hz, BT_RATE_HZ);
		err |= bt_resampler_alloc(&s->rs_out, BT_RATE_HZ, s->rate_hz);
		if (err)
			goto out;
	}

	s->end_silence_ms = cfg_ms(aj, "turn", "end_silence_ms", 400);
	s->barge_in_min_ms = cfg_ms(aj, "turn", "barge_in_min_ms", 300);
	s->idle_ms = cfg_ms(aj, "turn", "idle_ms", 7000);
	s->interruptible = !json_is_false(json_object_get(
		json_object_get(aj, "turn"), "interruptions"));
	s->adaptive = strcmp(cfg_str(aj, "turn", "endpointing", "adaptive"),
			     "fixed") != 0;
	s->stt_turns = !strcmp(cfg_str(aj, "turn", "endpointing", "adaptive"),
			       "recogniser");

	vad = bt_vad_find(cfg_str(aj, "vad", "provider", "energy"));
	stt = bt_stt_find(cfg_str(aj, "stt", "provider", "pocketsphinx"));
	brain = bt_brain_find(cfg_str(aj, "brain", "provider", "flow"));
	if (!vad || !stt || !brain) {
		err = bt_err(ENOENT, "the agent names a provider that is not "
			     "registered (vad, stt or brain); call bt_init() "
			     "first and check the agent file");
		goto out;
	}

	err = bt_vadseg_alloc(&s->vad, vad, NULL);
	if (err)
		goto out;
	if (prm->aec) {
		err = bt_aec_alloc(&s->aec, BT_RATE_HZ, 0);
		if (!err && prm->aec_delay_ms)
			err = bt_aec_set_ref_delay_ms(s->aec, prm->aec_delay_ms);
		if (err)
			goto out;
	}
	{
		struct bt_endpoint_prm eprm;
		const json_t *t = json_object_get(aj, "turn");
		const json_t *v;

		bt_endpoint_prm_default(&eprm);
		if ((v = json_object_get(t, "max_wait_ms"))) {
			/* the cap holds in every situation unless a set has
			 * its own; defaults above it come down to it */
			uint32_t cap = (uint32_t)json_integer_value(v);

			waits_cap(&eprm.listening, cap);
			waits_cap(&eprm.speaking, cap);
			waits_cap(&eprm.thinking, cap);
		}
		waits_read(t, &eprm.listening);
		waits_read(json_object_get(t, "speaking"), &eprm.speaking);
		waits_read(json_object_get(t, "thinking"), &eprm.thinking);
		err = bt_pitch_alloc(&s->pitch);
		if (!err)
			err = bt_prosody_alloc(&s->prosody);
		if (!err)
			err = bt_endpoint_alloc(&s->ep, &eprm);
		if (err)
			goto out;
	}

	if (brain->grammarsh) {
		err = brain->grammarsh(aj, &gr, &n_gr);
		if (err)
			goto out;
	}
	/* the answer to a recording notice has its own */
	has_cg = !ss_consent_grammar(s, &cg);
	if (n_gr + has_cg > 64) {
		err = bt_err(E2BIG, "the agent needs %zu STT grammars; at most "
			     "64 are supported", n_gr + has_cg);
		goto out;
	}
	/*
	 * Every grammar also knows the backchannels, so that a "mhm" over
	 * the agent's speech is heard as one rather than forced onto an
	 * answer ("and a three").
	 */
	gr2 = mem_zalloc((n_gr + 1) * sizeof(*gr2), NULL);
	phr = mem_zalloc((n_gr ? n_gr : 1) * 64 * sizeof(*phr), NULL);
	if (!gr2 || !phr) {
		err = ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < n_gr; i++) {
		const char **p = phr + i * 64;
		size_t k = 0;

		gr2[i] = gr[i];
		for (size_t j = 0; j < gr[i].n_phrases && k < 64; j++)
			p[k++] = gr[i].phrases[j];
		for (size_t j = 0; j < sizeof(gram_backchannels) /
				       sizeof(gram_backchannels[0]) && k < 64; j++)
			p[k++] = gram_backchannels[j];
		gr2[i].phrases = p;
		gr2[i].n_phrases = k;
		str_ncpy(s->gram[s->n_gram].name, gr[i].name,
			 sizeof(s->gram[0].name));
		s->gram[s->n_gram++].type = gr[i].type;
	}
	if (has_cg) {
		gr2[n_gr] = cg;
		str_ncpy(s->gram[s->n_gram].name, cg.name,
			 sizeof(s->gram[0].name));
		s->gram[s->n_gram++].type = cg.type;
	}
	memset(&sprm, 0, sizeof(sprm));
	sprm.grammars = gr2;
	sprm.n_grammars = n_gr + has_cg;
	sprm.section = json_object_get(aj, "stt");
	sprm.call_rate_hz = prm->codec_rate_hz ? prm->codec_rate_hz :
		s->rate_hz;
	sprm.partialh = ss_on_partial;
	sprm.finalh = ss_stt_final;
	sprm.failh = ss_stt_fail;
	sprm.turnh = ss_stt_turn;
	sprm.arg = s;
	err = bt_stt_open(&s->stt, &sprm);
	if (err)
		goto out;

	bt_tts_prm_default(&tprm);
	persona = json_object_get(aj, "persona");
	if (json_is_integer(json_object_get(persona, "rate_wpm")))
		tprm.rate_wpm = (uint32_t)json_integer_value(
			json_object_get(persona, "rate_wpm"));
	if (json_is_integer(json_object_get(persona, "pitch")))
		tprm.pitch = (uint32_t)json_integer_value(
			json_object_get(persona, "pitch"));
	s->tts_prm = tprm;
	s->audio_out = true;
	s->tts = calloc(1, sizeof(*s->tts));
	if (!s->tts) {
		err = ENOMEM;
		goto out;
	}
	atomic_init(&s->tts->refs, 1);
	err = bt_tts_open(&s->tts->tts, bt_agent_voice(agent), &tprm);
	if (err)
		goto out;
	if (bt_tts_of(s->tts->tts)->streamh) {
		/* its stand-ins are ready before they are needed */
		err = ss_voice_open_chain(s, json_object_get(persona,
							     "fallback_voice"),
					  &tprm);
		if (err)
			goto out;
	}

	err = ss_consent_alloc(s);
	if (err)
		goto out;

	memset(&ctx, 0, sizeof(ctx));
	ctx.db_path = s->db_path;
	ctx.session_id = s->id;
	err = brain->alloch(&s->brain, aj, &ctx);
	if (err)
		goto out;
	if (brain->callerh && s->caller_id[0])
		brain->callerh(s->brain, s->caller_id);
	if (brain->linesh) {
		/* fillers are said when an answer is late: rendered now */
		const char *lines[8];
		size_t n = brain->linesh(aj, lines, 8);

		ss_voice_prerender(s, lines, n);
	}

 out:
	mem_deref(gr2);
	mem_deref(phr);
	mem_deref(gr);
	if (err)
		mem_deref(s);
	else
		*sp = s;
	return err;
}
