/**
 * @file flow_check_intents.c  The flow's intents checked when it loads:
 *                             names, phrases and keywords (words only,
 *                             and words the embedded recogniser's
 *                             grammars can hold), the answer and where
 *                             it leads.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include "banter/banter.h"
#include "brain/flow_check.h"
#include "brain/flow_int.h"
#include "brain/slots.h"

/* A recogniser of the stt section (or a fallback entry) by name. */
static bool is_ps(const json_t *sec)
{
	const char *n = json_is_string(sec) ? json_string_value(sec) :
		json_string_value(json_object_get(sec, "provider"));

	return !n || !strcmp(n, "pocketsphinx");
}

/*
 * Whether the intents' phrases reach the embedded recogniser's grammars:
 * a question with a slot type (a grammar is made for it) and pocketsphinx
 * as the recogniser, its narrow-band choice or a fallback.
 */
bool fc_phrases_heard(const json_t *agent, const json_t *nodes)
{
	const json_t *stt = json_object_get(agent, "stt");
	const json_t *v, *n;
	const char *id;
	bool ps, typed = false;
	size_t i;

	json_object_foreach((json_t *)nodes, id, n) {
		const char *t = json_string_value(json_object_get(
			json_object_get(n, "expect"), "type"));

		if (t && strcmp(t, "text"))
			typed = true;
	}
	ps = is_ps(stt);
	if (json_object_get(stt, "narrowband"))
		ps = ps || is_ps(json_object_get(stt, "narrowband"));
	json_array_foreach(json_object_get(stt, "fallback"), i, v)
		ps = ps || is_ps(v);
	return typed && ps;
}

static int check_phrases(const struct chk *c, const json_t *arr,
			 const char *path, bool grammar, size_t *np)
{
	char full[FULL_LEN], got[64], norm[NORM_MAX];
	const json_t *v;
	size_t k;

	*np = 0;
	if (!arr)
		return 0;
	if (!json_is_array(arr)) {
		bt_json_brief(arr, got, sizeof(got));
		return fc_fail(c->pathp, path, "\"%s\" must be a list of "
			       "strings (got %s); e.g. [\"what are your "
			       "opening hours\"]", path, got);
	}
	json_array_foreach(arr, k, v) {
		snprintf(full, sizeof(full), "%s[%zu]", path, k);
		slot_normalize(json_string_value(v), norm, sizeof(norm));
		if (!json_is_string(v) || !norm[0]) {
			bt_json_brief(v, got, sizeof(got));
			return fc_fail(c->pathp, full, "\"%s\" must be a "
				       "string with words in it (got %s)",
				       full, got);
		}
		if (strpbrk(json_string_value(v), "0123456789"))
			return fc_fail(c->pathp, full, "\"%s\" has a digit: "
				       "the recogniser hears words, so write "
				       "numbers as words (\"open at seven\", "
				       "not \"open at 7\")", full);
		if (grammar && c->heard) {
			char why[512];
			int err = bt_stt_pocketsphinx_phrase_check(norm);

			/* a missing model fails the call with its own
			 * message; here only what the phrase can fix */
			if (err != EINVAL && err != E2BIG)
				continue;
			str_ncpy(why, bt_errmsg(), sizeof(why));
			return fc_fail(c->pathp, full, "\"%s\": %s; or put "
				       "such a word in \"keywords\", which "
				       "are matched in what is heard but not "
				       "listened for", full, why);
		}
	}
	*np = json_array_size(arr);
	return 0;
}

int fc_check_intents(const struct chk *c, const json_t *intents)
{
	char path[PATH_LEN], full[FULL_LEN], got[64];
	const json_t *it;
	size_t k, np, nk;
	int err;

	if (!intents)
		return 0;
	if (!json_is_array(intents)) {
		bt_json_brief(intents, got, sizeof(got));
		return fc_fail(c->pathp, "flow.intents", "\"flow.intents\" "
			       "must be a list of objects (got %s); see "
			       "docs/agent-file.md", got);
	}
	json_array_foreach(intents, k, it) {
		snprintf(path, sizeof(path), "flow.intents[%zu]", k);
		err = fc_want_object(c, it, path);
		if (!err)
			err = fc_keys_ok(c, it, path,
					 " name phrases keywords say next ");
		if (err)
			return err;
		if (json_object_get(it, "name")) {
			const char *name;

			fc_subpath(full, sizeof(full), path, "name");
			err = fc_want_string(c, json_object_get(it, "name"),
					     full, "hours");
			if (err)
				return err;
			name = json_string_value(json_object_get(it, "name"));
			for (size_t j = 0; j < k; j++) {
				const char *o = json_string_value(
					json_object_get(json_array_get(
						intents, j), "name"));
				if (o && !strcmp(o, name))
					return fc_fail(c->pathp, full, "two "
						       "intents are named "
						       "\"%s\" (flow.intents"
						       "[%zu] too); give "
						       "each its own name",
						       bt_json_shown(name, got,
								sizeof(got)),
						       j);
			}
		}
		fc_subpath(full, sizeof(full), path, "phrases");
		err = check_phrases(c, json_object_get(it, "phrases"), full,
				    true, &np);
		if (err)
			return err;
		fc_subpath(full, sizeof(full), path, "keywords");
		err = check_phrases(c, json_object_get(it, "keywords"), full,
				    false, &nk);
		if (err)
			return err;
		if (!np && !nk)
			return fc_fail(c->pathp, path, "\"%s\" has no "
				       "\"phrases\" and no \"keywords\", so it "
				       "can never match; add e.g. \"phrases\": "
				       "[\"what are your opening hours\"]",
				       path);
		if (!json_object_get(it, "say"))
			return fc_fail(c->pathp, path, "\"%s.say\" is missing; "
				       "add the answer, e.g. \"say\": \"We're "
				       "open from noon.\"", path);
		err = fc_check_opt_text(c, it, "say", path,
					"We're open at noon.");
		if (!err)
			err = fc_check_opt_node(c, it, "next", path);
		if (err)
			return err;
	}
	return 0;
}
