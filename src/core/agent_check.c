/**
 * @file agent_check.c  Agent files: every section checked before a call.
 *
 * Every error names the file, the line and column, the field as a dotted
 * path, what is wrong and what to do (positions: bt_json_locate()). The
 * named providers must exist and the voice must open.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <re.h>
#include "banter/banter.h"
#include "core/agent_int.h"
#include "core/consent.h"

enum {
	MSG_MAX = 900,
	PATH_MAX_LEN = 256,
};

static const char *const top_keys[] = {
	"name", "description", "persona", "stt", "vad", "turn", "brain",
	"recording", NULL,
};
/* a flow may hand the call to an LLM: its "llm" section */
static const char *const top_keys_flow[] = {
	"name", "description", "persona", "stt", "vad", "turn", "brain", "llm",
	"recording", NULL,
};
static const char *const persona_keys[] = {
	"name", "voice", "rate_wpm", "pitch", "fallback_voice", NULL,
};
static const char *const provider_keys[] = {"provider", NULL};
static const char *const turn_keys[] = {
	"end_silence_ms", "barge_in_min_ms", "idle_ms", "interruptions",
	"min_wait_ms", "base_wait_ms", "incomplete_wait_ms", "max_wait_ms",
	"prosody_pct", "endpointing", "speaking", "thinking",
	NULL,
};
/* turn.speaking, turn.thinking: endpoint waits for those situations */
static const char *const waits_keys[] = {
	"min_wait_ms", "base_wait_ms", "incomplete_wait_ms", "max_wait_ms",
	"prosody_pct", NULL,
};

int bt_agent_fail(const struct loadctx *lc, const char *path,
		  const char *fmt, ...)
{
	char msg[MSG_MAX];
	unsigned line = 1, col = 1;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);

	(void)bt_json_locate(lc->text, path ? path : "", &line, &col);
	return bt_err(EINVAL, "%s:%u:%u: %s", lc->file, line, col, msg);
}

/* parent.key; a key with a dot or a bracket is quoted, ["a.b"] */
static void join(char *buf, size_t sz, const char *parent, const char *key)
{
	bt_json_path_add(buf, sz, parent, key);
}

static void list_words(char *buf, size_t sz, const char *const *words,
		       const char *extra)
{
	size_t i, n = 0;

	buf[0] = '\0';
	for (i = 0; words[i] && n < sz; i++)
		n += (size_t)snprintf(buf + n, sz - n, "%s%s", i ? ", " : "",
				      words[i]);
	if (extra && n < sz)
		snprintf(buf + n, sz - n, "%s%s", i ? ", " : "", extra);
}

static bool in_list(const char *const *words, const char *w, const char *extra)
{
	size_t i;

	for (i = 0; words[i]; i++) {
		if (!strcmp(words[i], w))
			return true;
	}
	return extra && !strcmp(extra, w);
}

/* Unknown keys are typos more often than not: refuse them. */
static int check_keys(const struct loadctx *lc, const json_t *obj,
		      const char *path, const char *const *valid,
		      const char *extra)
{
	const char *key;
	json_t *v;

	json_object_foreach((json_t *)obj, key, v) {
		char full[PATH_MAX_LEN], valid_s[256];

		if (in_list(valid, key, extra))
			continue;
		join(full, sizeof(full), path, key);
		list_words(valid_s, sizeof(valid_s), valid, extra);
		if (*path)
			return bt_agent_fail(lc, full,
				    "unknown field \"%s\"; the fields of "
				    "\"%s\" are %s; check the spelling",
				    full, path, valid_s);
		return bt_agent_fail(lc, full,
			    "unknown field \"%s\"; the top-level fields are "
			    "%s; check the spelling", full, valid_s);
	}
	return 0;
}

static int get_object(const struct loadctx *lc, const json_t *parent,
		      const char *ppath, const char *key, bool required,
		      const json_t **vp)
{
	char full[PATH_MAX_LEN], got[64];
	const json_t *v = json_object_get(parent, key);

	join(full, sizeof(full), ppath, key);
	*vp = NULL;
	if (!v) {
		if (!required)
			return 0;
		return bt_agent_fail(lc, ppath,
			    "\"%s\" is missing; add it as an object ({...}), "
			    "see docs/agent-file.md", full);
	}
	if (!json_is_object(v)) {
		bt_json_brief(v, got, sizeof(got));
		return bt_agent_fail(lc, full,
			    "\"%s\" must be an object ({...}) (got %s); "
			    "see docs/agent-file.md", full, got);
	}
	*vp = v;
	return 0;
}

static int get_string(const struct loadctx *lc, const json_t *parent,
		      const char *ppath, const char *key, bool required,
		      const char *example, const char **sp)
{
	char full[PATH_MAX_LEN], got[64];
	const json_t *v = json_object_get(parent, key);

	join(full, sizeof(full), ppath, key);
	if (!v) {
		if (!required)
			return 0;
		return bt_agent_fail(lc, ppath,
			    "\"%s\" is missing; add it, e.g. \"%s\": \"%s\"",
			    full, key, example);
	}
	if (!json_is_string(v) || !json_string_length(v)) {
		bt_json_brief(v, got, sizeof(got));
		return bt_agent_fail(lc, full,
			    "\"%s\" must be a non-empty string (got %s); set "
			    "it to e.g. \"%s\"", full, got, example);
	}
	*sp = json_string_value(v);
	return 0;
}

static int get_int(const struct loadctx *lc, const json_t *parent,
		   const char *ppath, const char *key, json_int_t min,
		   json_int_t max, json_int_t example)
{
	char full[PATH_MAX_LEN], got[64];
	const json_t *v = json_object_get(parent, key);

	if (!v)
		return 0;
	join(full, sizeof(full), ppath, key);
	if (!json_is_integer(v) || json_integer_value(v) < min ||
	    json_integer_value(v) > max) {
		bt_json_brief(v, got, sizeof(got));
		return bt_agent_fail(lc, full,
			    "\"%s\" must be an integer between %"
			    JSON_INTEGER_FORMAT " and %" JSON_INTEGER_FORMAT
			    " (got %s); set it to e.g. %" JSON_INTEGER_FORMAT,
			    full, min, max, got, example);
	}
	return 0;
}

/* Registered provider names, for messages ("pocketsphinx, whisper"). */
#define NAMES_FN(kind)                                                   \
	static void kind##_names(char *buf, size_t sz)                   \
	{                                                                \
		const struct bt_##kind *first = bt_##kind##_find(NULL);  \
		const struct le *le;                                     \
		size_t n = 0;                                            \
		buf[0] = '\0';                                           \
		for (le = first ? &first->le : NULL; le && n < sz;       \
		     le = le->next) {                                    \
			const struct bt_##kind *p = le->data;            \
			n += (size_t)snprintf(buf + n, sz - n, "%s%s",   \
					      n ? ", " : "", p->name);   \
		}                                                        \
		if (!n)                                                  \
			snprintf(buf, sz, "none (was bt_init() called?)"); \
	}

NAMES_FN(stt)
NAMES_FN(vad)
NAMES_FN(brain)
NAMES_FN(tts)

enum pkind { PK_STT, PK_VAD, PK_BRAIN };

static bool provider_known(enum pkind k, const char *name)
{
	switch (k) {
	case PK_STT: return bt_stt_find(name) != NULL;
	case PK_VAD: return bt_vad_find(name) != NULL;
	case PK_BRAIN: return bt_brain_find(name) != NULL;
	}
	return false;
}

/*
 * A recogniser's section (or a fallback entry: a name or a section): its
 * provider exists, its keys are the provider's, its own check passes.
 */
static int check_stt_link(const struct loadctx *lc, const json_t *v,
			  const char *path, bool top)
{
	static const char *const chain_keys[] = {"fallback", "narrowband",
						 NULL};
	const struct bt_stt *p;
	const char *name, *key, *bad = NULL;
	char full[PATH_MAX_LEN], names[256], val[SHOWN_LEN];
	json_t *x;

	if (json_is_string(v))
		name = json_string_value(v);
	else if (json_is_object(v))
		name = json_string_value(json_object_get(v, "provider"));
	else
		return bt_agent_fail(lc, path, "\"%s\" must be a recogniser's name "
			    "(\"pocketsphinx\") or a section like the stt "
			    "one ({\"provider\": \"deepgram\", ...})", path);
	if (!name)
		name = "pocketsphinx";
	p = bt_stt_find(name);
	if (!p) {
		stt_names(names, sizeof(names));
		return bt_agent_fail(lc, path, "\"%s\" names the recogniser \"%s\" "
			    "but none of that name is registered; "
			    "registered: %s", path,
			    bt_json_shown(name, val, sizeof(val)), names);
	}
	if (!json_is_object(v))
		return 0;
	json_object_foreach((json_t *)v, key, x) {
		bool ok = !strcmp(key, "provider") ||
			  (top && in_list(chain_keys, key, NULL));

		for (size_t i = 0; !ok && p->keys && p->keys[i]; i++)
			ok = !strcmp(key, p->keys[i]);
		if (!ok) {
			join(full, sizeof(full), path, key);
			return bt_agent_fail(lc, full, "unknown field \"%s\" for the "
				    "recogniser \"%s\"; check the spelling "
				    "(see docs/agent-file.md)", full, name);
		}
	}
	if (p->checkh && p->checkh(v, path, &bad)) {
		char msg[MSG_MAX];

		str_ncpy(msg, bt_errmsg(), sizeof(msg));
		join(full, sizeof(full), path, bad ? bad : "provider");
		return bt_agent_fail(lc, full, "%s", msg);
	}
	return 0;
}

static int check_stt(const struct loadctx *lc, const json_t *sec)
{
	const json_t *fb = json_object_get(sec, "fallback");
	const json_t *nb = json_object_get(sec, "narrowband");
	const json_t *v;
	char path[PATH_MAX_LEN];
	size_t i;
	int err;

	if (!sec)
		return 0;
	err = check_stt_link(lc, sec, "stt", true);
	if (!err && fb && (!json_is_array(fb) || json_array_size(fb) > 3))
		return bt_agent_fail(lc, "stt.fallback", "\"stt.fallback\" must be a "
			    "list of at most 3 recognisers tried in order when "
			    "the one before fails, e.g. [\"pocketsphinx\"]");
	json_array_foreach(fb, i, v) {
		if (err)
			break;
		snprintf(path, sizeof(path), "stt.fallback[%zu]", i);
		err = check_stt_link(lc, v, path, false);
	}
	if (!err && nb)
		err = check_stt_link(lc, nb, "stt.narrowband", false);
	return err;
}

/* A {"provider": "..."} section; the default when it is left out. */
static int check_provider(const struct loadctx *lc, const json_t *root,
			  const char *section, enum pkind k, const char *def,
			  const char *what, const char **namep)
{
	const json_t *sec;
	const char *name = def;
	char full[PATH_MAX_LEN], names[256], val[SHOWN_LEN];
	int err;

	err = get_object(lc, root, "", section, false, &sec);
	if (err)
		return err;
	if (sec) {
		err = get_string(lc, sec, section, "provider", true, def,
				 &name);
		if (err)
			return err;
	}
	if (k == PK_STT && provider_known(k, name)) {
		*namep = name;
		return check_stt(lc, sec);
	}
	if (provider_known(k, name)) {
		const struct bt_brain *b = k == PK_BRAIN ? bt_brain_find(name)
							: NULL;
		const char *key;
		json_t *v;

		/* a brain may take more keys ("model"); its check reads them */
		json_object_foreach((json_t *)sec, key, v) {
			bool ok = !strcmp(key, "provider");

			for (size_t i = 0; !ok && b && b->brain_keys &&
			     b->brain_keys[i]; i++)
				ok = !strcmp(key, b->brain_keys[i]);
			if (!ok)
				return check_keys(lc, sec, section,
						  b && b->brain_keys ?
						  b->brain_keys : provider_keys,
						  b && b->brain_keys ?
						  "provider" : NULL);
		}
		*namep = name;
		return 0;
	}

	switch (k) {
	case PK_STT: stt_names(names, sizeof(names)); break;
	case PK_VAD: vad_names(names, sizeof(names)); break;
	default: brain_names(names, sizeof(names)); break;
	}
	snprintf(full, sizeof(full), "%s.provider", section);
	return bt_agent_fail(lc, sec ? full : "",
		    "\"%s\" is \"%s\" but no %s of that name is registered; "
		    "registered: %s; use one of those", full,
		    bt_json_shown(name, val, sizeof(val)), what, names);
}

static int check_persona(const struct loadctx *lc, const json_t *root,
			 const char **voicep)
{
	const json_t *p;
	const char *voice = NULL, *pname = NULL;
	char val[SHOWN_LEN];
	int err;

	err = get_object(lc, root, "", "persona", true, &p);
	if (err)
		return err;
	err = check_keys(lc, p, "persona", persona_keys, NULL);
	if (err)
		return err;
	err = get_string(lc, p, "persona", "name", false, "Bella", &pname);
	if (err)
		return err;
	err = get_string(lc, p, "persona", "voice", true, "espeak:en-us+f3",
			 &voice);
	if (err)
		return err;
	if (!strchr(voice, ':') || voice[0] == ':') {
		return bt_agent_fail(lc, "persona.voice",
			    "\"persona.voice\" must be \"provider:voice\" "
			    "(got \"%s\"); set it to e.g. \"espeak:en-us+f3\" "
			    "or \"flite:slt\"", bt_json_shown(voice, val, sizeof(val)));
	}
	err = get_int(lc, p, "persona", "rate_wpm", 80, 400, 160);
	if (!err)
		err = get_int(lc, p, "persona", "pitch", 0, 100, 50);
	if (err)
		return err;

	*voicep = voice;
	return 0;
}

/* The endpoint waits of one situation (turn, turn.speaking, ...). */
static int check_waits(const struct loadctx *lc, const json_t *w,
		       const char *path)
{
	int err = get_int(lc, w, path, "min_wait_ms", 1, 5000, 200);

	if (!err)
		err = get_int(lc, w, path, "base_wait_ms", 1, 10000, 500);
	if (!err)
		err = get_int(lc, w, path, "incomplete_wait_ms", 1, 10000,
			      1600);
	if (!err)
		err = get_int(lc, w, path, "max_wait_ms", 1, 10000, 2500);
	if (!err)
		err = get_int(lc, w, path, "prosody_pct", 1, 100, 45);
	/* the waits the file sets must be in order (the defaults' order is
	 * checked again when a session opens) */
	for (size_t j = 1; !err && j < 4; j++) {
		static const char *const keys[] = {"min_wait_ms",
			"base_wait_ms", "incomplete_wait_ms", "max_wait_ms"};
		const json_t *b = json_object_get(w, keys[j]);
		char full[64];

		for (size_t i = 0; b && i < j; i++) {
			const json_t *a = json_object_get(w, keys[i]);

			if (!a || json_integer_value(a) <=
				  json_integer_value(b))
				continue;
			snprintf(full, sizeof(full), "%s.%s", path, keys[j]);
			err = bt_agent_fail(lc, full, "\"%s\" (%lld) is below "
				   "\"%s.%s\" (%lld): the waits go min <= "
				   "base <= incomplete <= max", full,
				   (long long)json_integer_value(b), path,
				   keys[i], (long long)json_integer_value(a));
			break;
		}
	}
	return err;
}

static int check_turn(const struct loadctx *lc, const json_t *root)
{
	const json_t *t, *sub;
	int err;

	err = get_object(lc, root, "", "turn", false, &t);
	if (err || !t)
		return err;
	err = check_keys(lc, t, "turn", turn_keys, NULL);
	if (!err)
		err = get_int(lc, t, "turn", "end_silence_ms", 1, 5000, 400);
	if (!err)
		err = get_int(lc, t, "turn", "barge_in_min_ms", 1, 5000, 200);
	if (!err)
		err = get_int(lc, t, "turn", "idle_ms", 1, 600000, 7000);
	if (!err)
		err = check_waits(lc, t, "turn");
	for (size_t i = 0; !err && i < 2; i++) {
		const char *key = i ? "thinking" : "speaking";
		char path[32];

		snprintf(path, sizeof(path), "turn.%s", key);
		err = get_object(lc, t, "turn", key, false, &sub);
		if (!err && sub)
			err = check_keys(lc, sub, path, waits_keys, NULL);
		if (!err && sub)
			err = check_waits(lc, sub, path);
	}
	if (!err) {
		const json_t *v = json_object_get(t, "interruptions");
		if (v && !json_is_boolean(v))
			err = bt_agent_fail(lc, "turn.interruptions", "\"turn."
				   "interruptions\" must be true or false; "
				   "false keeps the agent talking and answers "
				   "what the user said afterwards");
	}
	if (!err) {
		const json_t *v = json_object_get(t, "endpointing");
		const char *e = json_string_value(v);
		if (v && (!e || (strcmp(e, "adaptive") && strcmp(e, "fixed") &&
				 strcmp(e, "recogniser"))))
			err = bt_agent_fail(lc, "turn.endpointing", "\"turn."
				   "endpointing\" must be \"adaptive\" "
				   "(completeness, prosody, pause model), "
				   "\"fixed\" (end_silence_ms of silence) or "
				   "\"recogniser\" (the recogniser's own turn "
				   "events: Deepgram Flux)");
	}
	return err;
}

/* A voice (at `path`) must open now, not when the greeting is due. */
static int check_voice(const struct loadctx *lc, const json_t *root,
		       const char *path, const char *voice)
{
	const json_t *p = json_object_get(root, "persona");
	struct bt_tts_prm prm;
	struct bt_tts_st *tts = NULL;
	char why[MSG_MAX / 2], provider[64], names[256], val[SHOWN_LEN];
	const char *colon = strchr(voice, ':');
	size_t n = (size_t)(colon - voice);
	int err;

	if (!colon || colon == voice)
		return bt_agent_fail(lc, path, "\"%s\" must be \"provider:voice\" "
			    "(got \"%s\"); e.g. \"openai:alloy\" or "
			    "\"espeak:en-us+f3\"", path,
			    bt_json_shown(voice, val, sizeof(val)));
	bt_tts_prm_default(&prm);
	prm.probe = true;
	prm.rate_wpm = (uint32_t)json_integer_value(
		json_object_get(p, "rate_wpm"));
	prm.pitch = (uint32_t)json_integer_value(json_object_get(p, "pitch"));

	str_ncpy(provider, voice, n + 1 < sizeof(provider) ?
		 n + 1 : sizeof(provider));
	if (!bt_tts_find(provider)) {
		tts_names(names, sizeof(names));
		return bt_agent_fail(lc, path,
			    "\"%s\" is \"%s\" but there is no "
			    "speech synthesiser \"%s\"; registered: %s; use "
			    "one of those, e.g. \"espeak:en-us+f3\"", path,
			    bt_json_shown(voice, val, sizeof(val)),
			    bt_json_shown(provider, why, sizeof(why)), names);
	}

	bt_err_clear();
	err = bt_tts_open(&tts, voice, &prm);
	mem_deref(tts);
	if (!err)
		return 0;

	str_ncpy(why, *bt_errmsg() ? bt_errmsg() : strerror(err),
		 sizeof(why));
	return bt_agent_fail(lc, path,
		    "\"%s\" \"%s\" cannot be opened: %s; pick a "
		    "voice that is installed (e.g. \"espeak:en-us+f3\")",
		    path, bt_json_shown(voice, val, sizeof(val)), why);
}

/* persona.fallback_voice: a voice, or a list of 1 to BT_VOICE_CHAIN_MAX
 * tried in order, each one that opens. */
static int check_fallback(const struct loadctx *lc, const json_t *root)
{
	const json_t *fb = json_object_get(json_object_get(root, "persona"),
					   "fallback_voice");
	const char *path = "persona.fallback_voice";
	char val[SHOWN_LEN], p[64];
	size_t n;

	if (!fb)
		return 0;
	if (json_is_string(fb))
		return check_voice(lc, root, path, json_string_value(fb));
	bt_json_brief(fb, val, sizeof(val));
	n = json_array_size(fb);
	if (!json_is_array(fb) || !n || n > BT_VOICE_CHAIN_MAX)
		return bt_agent_fail(lc, path, "\"%s\" must be a voice or a list of "
			    "1 to %d voices tried in order (got %s); e.g. "
			    "[\"openai:alloy\", \"espeak:en-us+f3\"]", path,
			    BT_VOICE_CHAIN_MAX, val);
	for (size_t i = 0; i < n; i++) {
		const json_t *v = json_array_get(fb, i);
		int err;

		snprintf(p, sizeof(p), "%s[%zu]", path, i);
		if (!json_is_string(v)) {
			bt_json_brief(v, val, sizeof(val));
			return bt_agent_fail(lc, p, "\"%s\" must be a voice name "
				    "(got %s); e.g. \"espeak:en-us+f3\"", p,
				    val);
		}
		err = check_voice(lc, root, p, json_string_value(v));
		if (err)
			return err;
	}
	return 0;
}

/* A section checked elsewhere (the brain provider's own, "recording"):
 * its message, placed at the path it names. */
static int check_section(const struct loadctx *lc, const json_t *root,
			 int (*checkh)(const json_t *root, const char **pathp))
{
	const char *path = NULL;
	char why[MSG_MAX];
	int err;

	if (!checkh)
		return 0;

	bt_err_clear();
	err = checkh(root, &path);
	if (!err)
		return 0;

	str_ncpy(why, *bt_errmsg() ? bt_errmsg() : strerror(err),
		 sizeof(why));
	/* the path may point into a static buffer the next check reuses */
	{
		char p[PATH_MAX_LEN];

		str_ncpy(p, path ? path : "", sizeof(p));
		return bt_agent_fail(lc, p, "%s", why);
	}
}

int bt_agent_check(const struct loadctx *lc, const json_t *root,
		   const char **namep, const char **voicep)
{
	const char *desc = NULL, *brain = NULL, *prov = NULL;
	int err;

	/* the brain first: its name decides which section is allowed */
	err = check_provider(lc, root, "brain", PK_BRAIN, "flow", "brain",
			     &brain);
	if (err)
		return err;
	{
		const struct bt_brain *b = bt_brain_find(brain);

		err = check_keys(lc, root, "", strcmp(brain, "flow") ?
				 top_keys : top_keys_flow,
				 b && b->section ? b->section : brain);
	}
	if (err)
		return err;
	err = get_string(lc, root, "", "name", true, "Bella's Trattoria",
			 namep);
	if (err)
		return err;
	err = get_string(lc, root, "", "description", false,
			 "Books tables for a restaurant", &desc);
	if (err)
		return err;
	err = check_persona(lc, root, voicep);
	if (err)
		return err;
	err = check_provider(lc, root, "stt", PK_STT, "pocketsphinx",
			     "speech recogniser", &prov);
	if (err)
		return err;
	err = check_provider(lc, root, "vad", PK_VAD, "energy",
			     "voice activity detector", &prov);
	if (err)
		return err;
	err = check_turn(lc, root);
	if (err)
		return err;
	{
		const struct bt_brain *b = bt_brain_find(brain);

		err = check_section(lc, root, b ? b->checkh : NULL);
	}
	if (!err)
		err = check_section(lc, root, bt_recording_check);
	if (err)
		return err;
	err = check_voice(lc, root, "persona.voice", *voicep);
	return err ? err : check_fallback(lc, root);
}
