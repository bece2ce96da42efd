/**
 * @file agent.c  Agent files: load (their checks: agent_check.c).
 *
 * An agent file is edited by hand, so every error names the file, the line
 * and column, the field as a dotted path, what is wrong and what to do.
 * jansson keeps no positions, so errors are located afterwards in the raw
 * text with bt_json_locate(). Everything is checked before a call starts,
 * including that the named providers exist and the voice opens, so a typo
 * never surfaces in the middle of a call.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <re.h>
#include "banter/banter.h"
#include "core/agent_int.h"

enum {
	AGENT_FILE_MAX = 1024 * 1024,
};

struct bt_agent {
	json_t *json;
	const char *name;  /* owned by json */
	const char *voice; /* owned by json */
};

static void agent_destructor(void *arg)
{
	struct bt_agent *a = arg;

	json_decref(a->json);
}

/*
 * A string of the file's in a message, cut to SHOWN_MAX bytes (at a
 * character's start) with "...", so that what to do still fits after it.
 */
const char *bt_json_shown(const char *s, char *buf, size_t sz)
{
	size_t n = strlen(s);

	if (n <= SHOWN_MAX) {
		str_ncpy(buf, s, sz);
		return buf;
	}
	n = SHOWN_MAX;
	while (n && ((unsigned char)s[n] & 0xc0) == 0x80)
		n--;
	snprintf(buf, sz, "%.*s...", (int)n, s);
	return buf;
}

/* A short rendering of a value for "(got ...)". */
void bt_json_brief(const json_t *v, char *buf, size_t sz)
{
	char s[SHOWN_LEN];
	size_t n;

	switch (json_typeof(v)) {
	case JSON_STRING:
		snprintf(buf, sz, "\"%s\"", bt_json_shown(json_string_value(v), s,
						  sizeof(s)));
		break;
	case JSON_INTEGER:
		snprintf(buf, sz, "%" JSON_INTEGER_FORMAT,
			 json_integer_value(v));
		break;
	case JSON_REAL:
		snprintf(buf, sz, "%g", json_real_value(v));
		break;
	case JSON_TRUE: snprintf(buf, sz, "true"); break;
	case JSON_FALSE: snprintf(buf, sz, "false"); break;
	case JSON_NULL: snprintf(buf, sz, "null"); break;
	case JSON_OBJECT:
		n = json_object_size(v);
		if (n)
			snprintf(buf, sz, "an object with %zu field%s", n,
				 n == 1 ? "" : "s");
		else
			snprintf(buf, sz, "an empty object");
		break;
	case JSON_ARRAY:
		n = json_array_size(v);
		if (n)
			snprintf(buf, sz, "a list of %zu entr%s", n,
				 n == 1 ? "y" : "ies");
		else
			snprintf(buf, sz, "an empty list");
		break;
	default: snprintf(buf, sz, "?"); break;
	}
}

int bt_agent_load_str(struct bt_agent **ap, const char *text,
		      const char *name)
{
	struct loadctx lc;
	struct bt_agent *a = NULL;
	json_error_t jerr;
	json_t *root = NULL;
	const char *aname = NULL, *voice = NULL;
	int err;

	if (!ap || !text)
		return bt_err(EINVAL, "bt_agent_load_str: no agent text given");

	lc.file = name ? name : "agent";
	lc.text = text;

	/* duplicate keys are a mistake in a hand-written file */
	root = json_loads(text, JSON_REJECT_DUPLICATES, &jerr);
	if (!root) {
		err = bt_err(EINVAL, "%s:%d:%d: not valid JSON: %s; fix the "
			     "syntax there", lc.file, jerr.line,
			     jerr.column, jerr.text);
		goto out;
	}
	if (!json_is_object(root)) {
		err = bt_agent_fail(&lc, "", "the agent must be a JSON object "
			   "({\"name\": ..., \"persona\": ...}); see "
			   "docs/agent-file.md");
		goto out;
	}

	err = bt_agent_check(&lc, root, &aname, &voice);
	if (err)
		goto out;

	a = mem_zalloc(sizeof(*a), agent_destructor);
	if (!a) {
		err = bt_err(ENOMEM, "out of memory loading %s", lc.file);
		goto out;
	}
	a->json = root;
	a->name = aname;
	a->voice = voice;
	root = NULL;
	*ap = a;

 out:
	json_decref(root);
	return err;
}

int bt_agent_load(struct bt_agent **ap, const char *path)
{
	FILE *f = NULL;
	char *text = NULL;
	size_t n;
	int err = 0;

	if (!ap || !path)
		return bt_err(EINVAL, "bt_agent_load: no agent file given");

	f = fopen(path, "rb");
	if (!f) {
		err = errno;
		if (err == ENOENT)
			bt_err(err, "%s: no such agent file; check the path "
			       "(the default agent is agents/restaurant.json)",
			       path);
		else
			bt_err(err, "%s: cannot open the agent file: %s",
			       path, strerror(err));
		goto out;
	}

	text = mem_alloc(AGENT_FILE_MAX + 1, NULL);
	if (!text) {
		err = bt_err(ENOMEM, "out of memory reading %s", path);
		goto out;
	}
	n = fread(text, 1, AGENT_FILE_MAX + 1, f);
	if (ferror(f)) {
		err = bt_err(EIO, "%s: cannot read the agent file", path);
		goto out;
	}
	if (n > AGENT_FILE_MAX) {
		err = bt_err(EFBIG, "%s: the agent file is larger than %d "
			     "bytes; is it the right file?", path,
			     AGENT_FILE_MAX);
		goto out;
	}
	text[n] = '\0';
	if (memchr(text, '\0', n)) {
		err = bt_err(EINVAL, "%s: the agent file holds a NUL byte; "
			     "it must be JSON text (UTF-8)", path);
		goto out;
	}

	err = bt_agent_load_str(ap, text, path);

 out:
	if (f)
		fclose(f);
	mem_deref(text);
	return err;
}

static pthread_mutex_t ref_mtx = PTHREAD_MUTEX_INITIALIZER;

struct bt_agent *bt_agent_ref(struct bt_agent *a)
{
	pthread_mutex_lock(&ref_mtx);
	mem_ref(a);
	pthread_mutex_unlock(&ref_mtx);
	return a;
}

void bt_agent_put(struct bt_agent *a)
{
	pthread_mutex_lock(&ref_mtx);
	mem_deref(a);  /* its destructor touches only its own memory */
	pthread_mutex_unlock(&ref_mtx);
}

const char *bt_agent_name(const struct bt_agent *a)
{
	return a ? a->name : NULL;
}

const char *bt_agent_voice(const struct bt_agent *a)
{
	return a ? a->voice : NULL;
}

const json_t *bt_agent_json(const struct bt_agent *a)
{
	return a ? a->json : NULL;
}
