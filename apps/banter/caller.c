/**
 * @file caller.c  Caller files (docs/caller-file.md): loading, checking and
 * rendering every turn to audio before a call, for `banter simulate` and
 * `banter call`; and the latency table both print.
 */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "banter/banter.h"
#include "caller.h"

static void caller_destructor(void *arg)
{
	struct caller *c = arg;

	for (size_t i = 0; i < c->n_turns; i++)
		c->turns[i].pcm = mem_deref(c->turns[i].pcm);
}

/* Append samples to a turn's audio. */
static int turn_append(struct cturn *t, const int16_t *pcm, size_t n)
{
	int16_t *p;

	if (t->n + n > (size_t)BT_RATE_HZ * 600)
		return bt_err(EFBIG, "a caller turn is longer than 10 minutes");
	/* silence before any sound is a count, not samples (pcm stays NULL):
	 * a caller file of long silences costs no memory */
	if (!pcm && !t->pcm) {
		t->n += n;
		return 0;
	}
	/* libre's mem_realloc does not take NULL */
	p = t->pcm ? mem_realloc(t->pcm, (t->n + n + 1) * sizeof(int16_t))
		   : mem_zalloc((t->n + n + 1) * sizeof(int16_t), NULL);
	if (!p)
		return ENOMEM;
	if (pcm)
		memcpy(p + t->n, pcm, n * sizeof(int16_t));
	else
		memset(p + t->n, 0, n * sizeof(int16_t));
	t->pcm = p;
	t->n += n;
	return 0;
}

static int render_say(struct cturn *t, struct bt_tts_st *tts, const char *text)
{
	struct bt_tts_audio *a = NULL;
	int16_t *pcm = NULL;
	size_t n = 0;
	int err;

	err = bt_tts_synth(tts, text, &a);
	if (err)
		return err;
	err = bt_resample_buf(a->pcm, a->n, a->rate_hz, BT_RATE_HZ, &pcm, &n);
	if (!err)
		err = turn_append(t, pcm, n);
	mem_deref(pcm);
	mem_deref(a);
	return err;
}

static int render_wav(struct cturn *t, const char *dir, const char *file)
{
	char path[1024];
	int16_t *pcm = NULL, *rs = NULL;
	size_t n = 0, nrs = 0;
	uint32_t rate = 0;
	int err;

	if (file[0] == '/')
		snprintf(path, sizeof(path), "%s", file);
	else
		snprintf(path, sizeof(path), "%s/%s", dir, file);
	err = bt_wav_read(path, &pcm, &n, &rate);
	if (err)
		return err;
	if (n < 2) {
		mem_deref(pcm);
		return bt_err(EINVAL, "%s holds %zu sample%s: a turn needs "
			      "audio (use silence_ms for a turn with none)",
			      path, n, n == 1 ? "" : "s");
	}
	err = bt_resample_buf(pcm, n, rate, BT_RATE_HZ, &rs, &nrs);
	if (!err)
		err = turn_append(t, rs, nrs);
	mem_deref(pcm);
	mem_deref(rs);
	return err;
}

/*
 * Append words to buf as lower-case letters and digits, each word
 * between single spaces (" 7 pm is that right "), so that a match is
 * whole words whatever the case and punctuation. With `ends`, the end
 * of each sentence (. ? ! and the end of the words) is a "." word, so a
 * match can be held to the start of a sentence. A word that does not
 * fit is dropped whole.
 */
static void norm_append(char *buf, size_t sz, const char *words, bool ends)
{
	size_t l = strlen(buf);
	const char *p;

	if (sz < 5)
		return;
	if (!l)
		buf[l++] = ' ';
	if (ends && l == 1) {
		buf[l++] = '.';
		buf[l++] = ' ';
	}
	for (p = words; *p && l + 4 < sz; p++) {
		unsigned char ch = (unsigned char)*p;
		bool end = ends && (ch == '.' || ch == '?' || ch == '!');

		if (isalnum(ch)) {
			buf[l++] = (char)tolower(ch);
			continue;
		}
		if (buf[l - 1] != ' ')
			buf[l++] = ' ';
		if (end && buf[l - 2] != '.') {
			buf[l++] = '.';
			buf[l++] = ' ';
		}
	}
	if (*p && isalnum((unsigned char)*p) && buf[l - 1] != ' ')
		while (l > 1 && buf[l - 1] != ' ')
			--l;  /* cut in a word */
	if (buf[l - 1] != ' ')
		buf[l++] = ' ';
	if (ends && buf[l - 2] != '.') {
		buf[l++] = '.';
		buf[l++] = ' ';
	}
	buf[l] = '\0';
}

void caller_heard_add(char *heard, const char *words)
{
	if (words)
		norm_append(heard, CALLER_HEARD_MAX, words, true);
}

bool caller_turn_wanted(const struct cturn *t, const char *heard,
			bool quiet, uint64_t t_ms)
{
	char at[CALLER_SAID_MAX + 2];

	if (!t->if_said[0])
		return true;
	/* the words begin one of the agent's sentences */
	snprintf(at, sizeof(at), " .%s", t->if_said);
	if (strstr(heard, at))
		return true;
	/* if_said is " words " */
	caller_print(quiet, t_ms, "caller: (skips \"%s\": the agent did not "
		     "say \"%.*s\")", t->label, (int)strlen(t->if_said) - 2,
		     t->if_said + 1);
	return false;
}

/* Say where in the caller file a field is, then what is wrong. */
static int caller_err(const char *path, const char *text, const char *field,
		      const char *what)
{
	unsigned line = 0, col = 0;

	bt_json_locate(text, field, &line, &col);
	return bt_err(EINVAL, "%s:%u:%u: \"%s\": %s", path, line, col, field,
		      what);
}

/*
 * Every key of o must be one of `keys` (a typo such as "barge_in_afer_ms"
 * would otherwise change the test without a word).
 */
static int keys_check(const char *path, const char *text, const json_t *o,
		      const char *field, const char *const *keys,
		      const char *list)
{
	const char *k;
	const json_t *v;

	json_object_foreach((json_t *)o, k, v) {
		bool known = false;
		char f[160], msg[300];

		for (size_t i = 0; keys[i]; i++)
			known = known || !strcmp(k, keys[i]);
		if (known)
			continue;
		snprintf(f, sizeof(f), "%s%s%s", field, field[0] ? "." : "", k);
		snprintf(msg, sizeof(msg), "unknown key; %s takes %s "
			 "(docs/caller-file.md)", field[0] ? "this" :
			 "a caller file", list);
		return caller_err(path, text, f, msg);
	}
	return 0;
}

/* Exactly one of what a turn or segment is made of. */
static int one_kind(const char *path, const char *text, const json_t *o,
		    const char *field, bool segment)
{
	static const char *const kinds[] = {"say", "wav", "segments",
					    "pause_ms", "silence_ms"};
	const char *first = NULL;

	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		char msg[200];

		if ((segment && i == 2) || !json_object_get(o, kinds[i]))
			continue;
		if (!first) {
			first = kinds[i];
			continue;
		}
		snprintf(msg, sizeof(msg), "has both \"%s\" and \"%s\": a "
			 "%s is one of say, wav,%s pause_ms or silence_ms",
			 first, kinds[i], segment ? "segment" : "turn",
			 segment ? "" : " segments,");
		return caller_err(path, text, field, msg);
	}
	return 0;
}

static int load_segment(struct cturn *t, const json_t *o, struct bt_tts_st *tts,
			const char *dir, const char *path, const char *text,
			const char *field)
{
	const json_t *v;
	char f[128];

	if ((v = json_object_get(o, "say"))) {
		int err;

		snprintf(f, sizeof(f), "%s.say", field);
		if (!json_is_string(v))
			return caller_err(path, text, f, "must be a string "
					  "(the words the caller says)");
		if (!json_string_length(v))
			return caller_err(path, text, f, "is empty: give the "
					  "words the caller says (silence_ms "
					  "for a turn with none)");
		if (t->label[0] == '\0' || strlen(t->label) < 200) {
			size_t l = strlen(t->label);
			snprintf(t->label + l, sizeof(t->label) - l, "%s%s",
				 l ? " ... " : "", json_string_value(v));
		}
		err = render_say(t, tts, json_string_value(v));
		if (err && err != ENOMEM) {
			char msg[800];
			snprintf(msg, sizeof(msg), "%s", bt_errmsg());
			return caller_err(path, text, f, msg);
		}
		return err;
	}
	if ((v = json_object_get(o, "wav"))) {
		int err;
		snprintf(f, sizeof(f), "%s.wav", field);
		if (!json_is_string(v))
			return caller_err(path, text, f, "must be a string "
					  "(a WAV file's path)");
		err = render_wav(t, dir, json_string_value(v));
		if (err) {
			char msg[800];
			snprintf(msg, sizeof(msg), "%s", bt_errmsg());
			return caller_err(path, text, f, msg);
		}
		if (!t->label[0])
			snprintf(t->label, sizeof(t->label), "<%s>",
				 json_string_value(v));
		return 0;
	}
	if ((v = json_object_get(o, "pause_ms")) ||
	    (v = json_object_get(o, "silence_ms"))) {
		snprintf(f, sizeof(f), "%s.%s", field,
			 json_object_get(o, "pause_ms") ? "pause_ms"
							: "silence_ms");
		if (!json_is_integer(v) || json_integer_value(v) < 0 ||
		    json_integer_value(v) > 600000)
			return caller_err(path, text, f, "must be an integer "
					  "number of milliseconds, 0 to 600000");
		return turn_append(t, NULL, (size_t)json_integer_value(v) *
						   BT_RATE_HZ / 1000);
	}
	return caller_err(path, text, field, "needs one of \"say\", \"wav\", "
			  "\"segments\", \"pause_ms\" or \"silence_ms\"");
}

int caller_load(struct caller **cp, const char *path)
{
	struct caller *c;
	json_error_t jerr;
	json_t *root = NULL;
	const json_t *turns, *v;
	struct bt_tts_st *tts = NULL;
	char dir[1024], *text = NULL;
	const char *voice = "flite:slt", *slash;
	uint32_t gap = 300;
	static const char *const top_keys[] = {"voice", "gap_ms", "turns",
					       NULL};
	static const char *const turn_keys[] = {"say", "wav", "segments",
		"pause_ms", "silence_ms", "barge_in_after_ms", "gap_ms",
		"backchannel", "if_agent_said", NULL};
	static const char *const seg_keys[] = {"say", "wav", "pause_ms",
					       "silence_ms", NULL};
	struct stat sb;
	FILE *f;
	long sz;
	int err = 0;

	if (!stat(path, &sb) && S_ISDIR(sb.st_mode))
		return bt_err(EISDIR, "%s is a directory: give a caller file "
			      "(JSON, docs/caller-file.md)", path);
	if (!stat(path, &sb) && !S_ISREG(sb.st_mode))
		return bt_err(EINVAL, "%s is not a regular file (a FIFO or a "
			      "device?): give a caller file (JSON)", path);
	f = fopen(path, "rb");
	if (!f)
		return bt_err(ENOENT, "%s: cannot open the caller file (%s); "
			      "check the path", path, strerror(errno));
	fseek(f, 0, SEEK_END);
	sz = ftell(f);
	fseek(f, 0, SEEK_SET);
	if (sz < 0 || sz > 4 * 1024 * 1024) {
		fclose(f);
		return bt_err(EFBIG, "%s: caller file too large (max 4 MiB)",
			      path);
	}
	text = mem_zalloc((size_t)sz + 1, NULL);
	if (!text || fread(text, 1, (size_t)sz, f) != (size_t)sz) {
		fclose(f);
		mem_deref(text);
		return bt_err(EIO, "%s: cannot read the caller file", path);
	}
	fclose(f);
	c = mem_zalloc(sizeof(*c), caller_destructor);
	if (!c) {
		mem_deref(text);
		return ENOMEM;
	}

	root = json_loads(text, JSON_REJECT_DUPLICATES, &jerr);
	if (!root) {
		err = bt_err(EINVAL, "%s:%d:%d: not valid JSON: %s; fix the "
			     "syntax there", path, jerr.line, jerr.column,
			     jerr.text);
		goto out;
	}
	if (!json_is_object(root)) {
		err = bt_err(EINVAL, "%s:1:1: a caller file is a JSON object "
			     "with \"voice\", \"gap_ms\" and \"turns\"", path);
		goto out;
	}
	err = keys_check(path, text, root, "", top_keys,
			 "voice, gap_ms and turns");
	if (err)
		goto out;
	slash = strrchr(path, '/');
	if (slash)
		snprintf(dir, sizeof(dir), "%.*s", (int)(slash - path), path);
	else
		snprintf(dir, sizeof(dir), ".");

	if ((v = json_object_get(root, "voice"))) {
		if (!json_is_string(v)) {
			err = caller_err(path, text, "voice", "must be a "
					 "string like \"flite:slt\"");
			goto out;
		}
		voice = json_string_value(v);
	}
	if ((v = json_object_get(root, "gap_ms"))) {
		if (!json_is_integer(v) || json_integer_value(v) < 0 ||
		    json_integer_value(v) > 60000) {
			err = caller_err(path, text, "gap_ms", "must be an "
					 "integer 0 to 60000 (ms)");
			goto out;
		}
		gap = (uint32_t)json_integer_value(v);
	}
	turns = json_object_get(root, "turns");
	if (!json_is_array(turns)) {
		err = caller_err(path, text, "turns", "must be an array of "
				 "turns, e.g. [{\"say\": \"hello\"}]");
		goto out;
	}
	if (json_array_size(turns) > CALLER_MAX_TURNS) {
		err = caller_err(path, text, "turns", "too many turns (max "
				 "256)");
		goto out;
	}
	err = bt_tts_open(&tts, voice, NULL);
	if (err) {
		char msg[800];
		snprintf(msg, sizeof(msg), "%s", bt_errmsg());
		err = caller_err(path, text, "voice", msg);
		goto out;
	}

	for (size_t i = 0; i < json_array_size(turns); i++) {
		const json_t *t = json_array_get(turns, i);
		struct cturn *ct = &c->turns[c->n_turns++];
		char field[64];

		snprintf(field, sizeof(field), "turns[%zu]", i);
		ct->barge_after_ms = -1;
		ct->gap_ms = gap;
		if (!json_is_object(t)) {
			err = caller_err(path, text, field, "each turn is an "
					 "object, e.g. {\"say\": \"yes\"}");
			goto out;
		}
		err = keys_check(path, text, t, field, turn_keys, "say, wav, "
				 "segments, pause_ms, silence_ms, "
				 "barge_in_after_ms, gap_ms, backchannel and "
				 "if_agent_said");
		if (!err)
			err = one_kind(path, text, t, field, false);
		if (err)
			goto out;
		if ((v = json_object_get(t, "barge_in_after_ms"))) {
			if (!json_is_integer(v) || json_integer_value(v) < 0) {
				char f2[96];
				snprintf(f2, sizeof(f2), "%s.barge_in_after_ms",
					 field);
				err = caller_err(path, text, f2, "must be a "
						 "non-negative integer (ms)");
				goto out;
			}
			ct->barge_after_ms = json_integer_value(v);
		}
		if ((v = json_object_get(t, "gap_ms"))) {
			char f2[96];

			snprintf(f2, sizeof(f2), "%s.gap_ms", field);
			if (!json_is_integer(v) || json_integer_value(v) < 0 ||
			    json_integer_value(v) > 60000) {
				err = caller_err(path, text, f2, "must be an "
						 "integer 0 to 60000 (ms)");
				goto out;
			}
			ct->gap_ms = (uint32_t)json_integer_value(v);
		}
		if ((v = json_object_get(t, "backchannel"))) {
			char f2[96];

			snprintf(f2, sizeof(f2), "%s.backchannel", field);
			if (!json_is_boolean(v)) {
				err = caller_err(path, text, f2, "must be true "
						 "or false");
				goto out;
			}
			ct->backchannel = json_is_true(v);
		}
		ct->silence = json_object_get(t, "silence_ms") != NULL;
		if ((v = json_object_get(t, "if_agent_said"))) {
			char f2[96];

			snprintf(f2, sizeof(f2), "%s.if_agent_said", field);
			if (json_is_string(v) &&
			    json_string_length(v) < CALLER_SAID_MAX / 2)
				norm_append(ct->if_said, sizeof(ct->if_said),
					    json_string_value(v), false);
			if (strlen(ct->if_said) < 2) {
				err = caller_err(path, text, f2, "must be the "
						 "agent's words that call for "
						 "this turn, e.g. \"7 pm, is "
						 "that right\" (at most 79 "
						 "characters)");
				goto out;
			}
		}

		if ((v = json_object_get(t, "segments"))) {
			if (!json_is_array(v) || !json_array_size(v)) {
				char f2[96];
				snprintf(f2, sizeof(f2), "%s.segments", field);
				err = caller_err(path, text, f2, "must be a "
						 "non-empty array of segments");
				goto out;
			}
			for (size_t k = 0; k < json_array_size(v); k++) {
				const json_t *sg = json_array_get(v, k);
				char f2[96];
				snprintf(f2, sizeof(f2), "%s.segments[%zu]",
					 field, k);
				if (json_is_object(sg)) {
					err = keys_check(path, text, sg, f2,
						seg_keys, "say, wav, pause_ms "
						"and silence_ms");
					if (!err)
						err = one_kind(path, text, sg,
							       f2, true);
					if (err)
						goto out;
				}
				err = load_segment(ct, json_array_get(v, k),
						   tts, dir, path, text, f2);
				if (err)
					goto out;
			}
		}
		else {
			err = load_segment(ct, t, tts, dir, path, text, field);
			if (err)
				goto out;
		}
		if (ct->silence && !ct->label[0])
			snprintf(ct->label, sizeof(ct->label), "(silence %lld "
				 "ms)", (long long)json_integer_value(
					 json_object_get(t, "silence_ms")));
	}
 out:
	mem_deref(tts);
	json_decref(root);
	mem_deref(text);
	if (err)
		mem_deref(c);
	else
		*cp = c;
	return err;
}

static int64_t jint(const json_t *o, const char *k)
{
	const json_t *v = json_object_get(o, k);
	return json_is_integer(v) ? (int64_t)json_integer_value(v) : -1;
}

int64_t caller_last_speech(const int16_t *pcm, size_t n)
{
	for (size_t k = pcm ? n : 0; k-- > 0;)
		if (abs(pcm[k]) >= 300)
			return (int64_t)k;
	return -1;
}

/* b - a into out, or "-" when either end did not happen */
static void span(char out[24], int64_t a, int64_t b)
{
	if (a < 0 || b < 0)
		snprintf(out, 24, "-");
	else
		snprintf(out, 24, "%lld", (long long)(b - a));
}

void caller_table_head(char *buf, size_t sz)
{
	snprintf(buf, sz, "turn  %-36s %5s %6s %6s %6s %6s %6s %7s",
		 "user said", "conf", "endpt", "stt", "text", "audio", "out",
		 "v2v");
}

bool caller_table_row(char *buf, size_t sz, const json_t *o,
		      const char *extra)
{
	const char *ut;
	char utext[40], c[6][24];
	int64_t se, ep, sf, ft, fa, ao, v2v;

	if (strcmp(json_string_value(json_object_get(o, "kind")) ?: "",
		   "reply"))
		return false;
	se = jint(o, "user_speech_end_ms");
	ep = jint(o, "endpoint_ms");
	sf = jint(o, "stt_final_ms");
	ft = jint(o, "first_text_ms");
	fa = jint(o, "first_audio_ms");
	ao = jint(o, "audio_out_ms");
	v2v = jint(o, "voice_to_voice_ms");
	ut = json_string_value(json_object_get(o, "user_text")) ?: "";
	snprintf(utext, sizeof(utext), "%.36s", ut);
	/* a stage that did not happen (no reply, no audio) is "-" */
	span(c[0], se, ep);
	span(c[1], ep, sf);
	span(c[2], sf, ft);
	span(c[3], ft, fa);
	span(c[4], fa, ao);
	span(c[5], 0, v2v);
	snprintf(buf, sz, "%4lld  %-36s %5.2f %6s %6s %6s %6s %6s %7s%s%s",
		 (long long)jint(o, "turn"), utext,
		 json_real_value(json_object_get(o, "confidence")),
		 c[0], c[1], c[2], c[3], c[4], c[5], extra ? extra : "",
		 json_is_true(json_object_get(o, "barge_in"))
			 ? "  (interrupted)" :
		 json_is_true(json_object_get(o, "call_ended"))
			 ? "  (cut by the call's end)" : "");
	return true;
}

void caller_print(bool quiet, uint64_t t_ms, const char *fmt, ...)
{
	va_list ap;

	if (quiet)
		return;
	printf("[%7.2f s] ", (double)t_ms / 1000.0);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
}
