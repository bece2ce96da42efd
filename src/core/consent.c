/**
 * @file consent.c  Recording with consent: the agent file's "recording"
 *                  section, the notice, the caller's answer, and the
 *                  session's recording (store/recording.h).
 *
 * The notice plays as an uninterruptible reply before the greeting. Only
 * once it has played does audio go into the recording, and only in memory:
 * the files are written when the caller has consented (said yes, or, with
 * "consent": "implied", let answer_ms pass without declining). A caller who
 * says no or presses decline_digit is not recorded: what was held is
 * dropped and the greeting begins with the "declined" line. A call that
 * ends before the answer is not recorded either.
 */
#include "core/session_int.h"
#include "brain/slots.h"
#include "core/consent.h"
#include "store/recording.h"

static const char *const rec_keys[] = {
	"enabled", "notice", "consent", "decline_digit", "declined",
	"answer_ms", "dir", "retention_days", NULL,
};

/* What the recogniser listens for after the notice (with the yes/no
 * grammar's own words). */
static const char *const consent_phrases[] = {
	"no thanks", "no thank you", "please don't", "don't record",
	"don't record me", "do not record", "i'd rather not", "rather not",
	"no please don't", "please don't record this call", "stop recording",
	"that's fine", "that is fine", "yes that's fine", "yes that is fine",
	"yes please", "yes go ahead", "go ahead", "no problem", "that's okay",
	"i don't mind", "sure", "okay", "zero", "one", "two", "three", "four", "five", "six",
	"seven", "eight", "nine",
};

/* Said in words ("nine") by a caller without a keypad. */
static const char *const digit_words[] = {
	"zero", "one", "two", "three", "four", "five", "six", "seven",
	"eight", "nine",
};

#define DECLINED_DEFAULT "All right, this call will not be recorded."

static const json_t *section(const struct bt_session *s)
{
	const json_t *r = json_object_get(bt_agent_json(s->agent),
					  "recording");

	return json_is_object(r) && !json_is_false(json_object_get(
		r, "enabled")) ? r : NULL;
}

const char *bt_recording_dir(const struct bt_agent *a, unsigned *daysp)
{
	const json_t *r = json_object_get(bt_agent_json(a), "recording");

	if (!json_is_object(r) || json_is_false(json_object_get(r,
								  "enabled")))
		return NULL;
	if (daysp)
		*daysp = (unsigned)json_integer_value(json_object_get(
			r, "retention_days"));
	return bt_json_str_or(r, "dir", "recordings");
}

static int bad(const char **pathp, const char *path, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int bad(const char **pathp, const char *path, const char *fmt, ...)
{
	static _Thread_local char p[64];
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	str_ncpy(p, path, sizeof(p));
	*pathp = p;
	return bt_err(EINVAL, "%s", msg);
}

static int check_string(const json_t *r, const char *key, bool required,
			const char *example, const char **pathp)
{
	const json_t *v = json_object_get(r, key);
	char path[48], got[64];

	snprintf(path, sizeof(path), "recording.%s", key);
	if (!v && !required)
		return 0;
	if (!v)
		return bad(pathp, "recording", "\"recording.%s\" is missing; "
			   "add it, e.g. \"%s\": \"%s\"", key, key, example);
	if (!json_is_string(v) || !json_string_length(v)) {
		bt_json_brief(v, got, sizeof(got));
		return bad(pathp, path, "\"%s\" must be a non-empty string "
			   "(got %s); e.g. \"%s\"", path, got, example);
	}
	if (json_string_length(v) > 1023)
		return bad(pathp, path, "\"%s\" is %zu bytes long; at most "
			   "1023 fit, shorten it", path,
			   json_string_length(v));
	return 0;
}

static int check_int(const json_t *r, const char *key, json_int_t min,
		     json_int_t max, const char **pathp)
{
	const json_t *v = json_object_get(r, key);
	char path[48], got[64];

	if (!v)
		return 0;
	snprintf(path, sizeof(path), "recording.%s", key);
	if (json_is_integer(v) && json_integer_value(v) >= min &&
	    json_integer_value(v) <= max)
		return 0;
	bt_json_brief(v, got, sizeof(got));
	return bad(pathp, path, "\"%s\" must be an integer from %"
		   JSON_INTEGER_FORMAT " to %" JSON_INTEGER_FORMAT " (got %s)",
		   path, min, max, got);
}

int bt_recording_check(const json_t *root, const char **pathp)
{
	const json_t *r = json_object_get(root, "recording");
	const char *key, *s;
	const json_t *v;
	char got[64];
	int err;

	if (!r)
		return 0;
	if (!json_is_object(r)) {
		bt_json_brief(r, got, sizeof(got));
		return bad(pathp, "recording", "\"recording\" must be an "
			   "object ({\"notice\": ..., \"dir\": ...}) (got %s); "
			   "see docs/agent-file.md", got);
	}
	json_object_foreach((json_t *)r, key, v) {
		bool ok = false;
		for (size_t i = 0; rec_keys[i]; i++)
			ok |= !strcmp(rec_keys[i], key);
		if (!ok) {
			char path[80];
			snprintf(path, sizeof(path), "recording.%.60s", key);
			return bad(pathp, path, "unknown field \"%s\"; the "
				   "fields of \"recording\" are enabled, "
				   "notice, consent, decline_digit, declined, "
				   "answer_ms, dir, retention_days; check the "
				   "spelling", path);
		}
	}
	v = json_object_get(r, "enabled");
	if (v && !json_is_boolean(v)) {
		bt_json_brief(v, got, sizeof(got));
		return bad(pathp, "recording.enabled", "\"recording.enabled\" "
			   "must be true or false (got %s)", got);
	}
	err = check_string(r, "notice", true, "This call is recorded. Say "
			   "no if you would rather it were not.", pathp);
	if (!err)
		err = check_string(r, "declined", false, DECLINED_DEFAULT,
				   pathp);
	if (!err)
		err = check_string(r, "dir", false, "recordings", pathp);
	if (!err)
		err = check_string(r, "consent", false, "implied", pathp);
	if (!err && (s = json_string_value(json_object_get(r, "consent"))) &&
	    strcmp(s, "implied") && strcmp(s, "explicit"))
		err = bad(pathp, "recording.consent", "\"recording.consent\" "
			  "must be \"implied\" (recorded unless the caller "
			  "declines) or \"explicit\" (recorded only after a "
			  "yes)");
	if (!err)
		err = check_string(r, "decline_digit", false, "9", pathp);
	if (!err && (s = json_string_value(json_object_get(r,
						"decline_digit"))) &&
	    (strlen(s) != 1 || !strchr("0123456789*#", s[0])))
		err = bad(pathp, "recording.decline_digit", "\"recording."
			  "decline_digit\" must be one key of the phone's "
			  "keypad: \"0\" to \"9\", \"*\" or \"#\"");
	if (!err)
		err = check_int(r, "answer_ms", 500, 15000, pathp);
	if (!err)
		err = check_int(r, "retention_days", 1, 36500, pathp);
	return err;
}

int ss_consent_grammar(const struct bt_session *s,
		       struct bt_stt_grammar *g)
{
	if (!section(s))
		return ENOENT;
	memset(g, 0, sizeof(*g));
	g->name = CONSENT_GRAMMAR;
	g->type = BT_SLOT_YESNO;
	g->phrases = consent_phrases;
	g->n_phrases = sizeof(consent_phrases) / sizeof(consent_phrases[0]);
	return 0;
}

int ss_consent_alloc(struct bt_session *s)
{
	const json_t *r = section(s);

	if (!r)
		return 0;
	s->consent = CONSENT_PENDING;
	return rec_alloc(&s->rec, bt_json_str_or(r, "dir", "recordings"), s->id,
			 BT_RATE_HZ, !s->realtime);
}

bool ss_consent_start(struct bt_session *s)
{
	const json_t *r = section(s);
	int err;

	if (s->consent != CONSENT_PENDING || !r)
		return false;
	s->consent = CONSENT_NOTICE;
	err = ss_say(s, bt_json_str_or(r, "notice", ""), false, true,
		     CONSENT_GRAMMAR);
	if (err) {
		/* no notice, no recording */
		rec_drop(s->rec);
		s->consent = CONSENT_DONE;
		return false;
	}
	return true;
}

void ss_consent_notice_done(struct bt_session *s)
{
	const json_t *r = section(s);
	uint32_t ms = (uint32_t)json_integer_value(json_object_get(
		r, "answer_ms"));

	if (s->consent != CONSENT_NOTICE)
		return;
	s->consent = CONSENT_WAIT;
	s->consent_until = ss_now_ms(s) + (ms ? ms : 2000);
	rec_audio_on(s->rec);
}

enum answer { ANS_NONE, ANS_UNCLEAR, ANS_YES, ANS_NO, ANS_OTHER };

static enum answer read_answer(const json_t *r, const char *text,
			       const char **howp)
{
	const char *digit = bt_json_str_or(r, "decline_digit", NULL);
	char norm[512];
	bool yes;

	*howp = "silence";
	if (!text)
		return ANS_NONE;
	*howp = "unclear";
	if (!text[0])
		return ANS_UNCLEAR;  /* speech, but no words the recogniser
				       was sure of */
	slot_normalize(text, norm, sizeof(norm));
	*howp = "words";
	if (digit && !strcmp(norm, digit)) {
		*howp = "digit";
		return ANS_NO;
	}
	if (digit && digit[0] >= '0' && digit[0] <= '9' &&
	    !strcmp(norm, digit_words[digit[0] - '0']))
		return ANS_NO;
	if (slot_has_phrase(norm, "no problem") ||
	    slot_has_phrase(norm, "don't mind") ||
	    slot_has_phrase(norm, "why not"))
		return ANS_YES;
	if (slot_has_phrase(norm, "rather not") ||
	    slot_has_phrase(norm, "stop recording"))
		return ANS_NO;
	switch (slot_yesno_parse(norm, &yes)) {
	case 0:
		return yes ? ANS_YES : ANS_NO;
	default:
		return ANS_OTHER;
	}
}

void ss_consent_answer(struct bt_session *s, const char *text)
{
	const json_t *r = section(s);
	bool explicit_ = !strcmp(bt_json_str_or(r, "consent", "implied"),
				 "explicit");
	const char *how;
	enum answer a = read_answer(r, text, &how);
	/* words nobody understood might have been a no: not recorded */
	bool keep = a == ANS_YES || (!explicit_ && (a == ANS_NONE ||
						    a == ANS_OTHER));
	struct bt_brain_input in;
	json_t *o;

	if (s->consent != CONSENT_WAIT)
		return;
	s->consent = CONSENT_DONE;
	if (keep)
		keep = !rec_keep(s->rec);
	else
		rec_drop(s->rec);
	o = json_object();
	json_object_set_new(o, "consent", json_string(
		keep ? "given" : a == ANS_NO ? "declined" : "not_given"));
	json_object_set_new(o, "answer", json_string(how));
	if (keep)
		json_object_set_new(o, "path", json_string(
			rec_wav_path(s->rec)));
	ss_emit(s, BT_EV_RECORDING, ss_now_ms(s), keep ? "recording" :
		"not recording", o);
	if (!keep)
		s->rec = mem_deref(s->rec);
	if (a == ANS_NO)
		str_ncpy(s->greet_prefix, bt_json_str_or(r, "declined",
						 DECLINED_DEFAULT),
			 sizeof(s->greet_prefix));
	memset(&in, 0, sizeof(in));
	in.type = BT_BRAIN_START;
	(void)ss_respond(s, REPLY_GREETING, &in);
}

bool ss_consent_tick(struct bt_session *s)
{
	if (s->consent != CONSENT_WAIT)
		return false;
	if (ss_now_ms(s) >= s->consent_until)
		ss_consent_answer(s, NULL);
	return true;
}

void ss_consent_end(struct bt_session *s)
{
	if (!s->rec)
		return;
	if (s->consent != CONSENT_DONE)
		rec_drop(s->rec);  /* the call ended before an answer */
	s->rec = mem_deref(s->rec);
}

void ss_consent_check_io(struct bt_session *s)
{
	const char *e = rec_error(s->rec);

	if (e)
		ss_error_event(s, e);
}
