/**
 * @file llm_check.c  The agent file's LLM parts, checked when it loads:
 *                    "brain": {"provider", "model"} and the "llm" section
 *                    (prompt, tools, router, fallbacks, fillers), and the
 *                    environment each provider needs.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "brain/llm_int.h"
#include "brain/transfer.h"

static __thread char cpath[128];

static int cfail(const char **pathp, const char *path, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int cfail(const char **pathp, const char *path, const char *fmt, ...)
{
	char msg[700];
	va_list ap;

	str_ncpy(cpath, path, sizeof(cpath));
	*pathp = cpath;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return bt_err(EINVAL, "%s", msg);
}

static int want_int(const char **pathp, const json_t *o, const char *base,
		    const char *key, long lo, long hi)
{
	const json_t *v = json_object_get(o, key);
	char p[96];

	if (!v)
		return 0;
	snprintf(p, sizeof(p), "%s.%s", base, key);
	if (!json_is_integer(v) || json_integer_value(v) < lo ||
	    json_integer_value(v) > hi)
		return cfail(pathp, p, "\"%s\" must be a whole number from "
			     "%ld to %ld", p, lo, hi);
	return 0;
}

static int want_str(const char **pathp, const json_t *o, const char *base,
		    const char *key, size_t max)
{
	const json_t *v = json_object_get(o, key);
	char p[96];

	if (!v)
		return 0;
	snprintf(p, sizeof(p), "%s.%s", base, key);
	if (!json_is_string(v) || !json_string_length(v) ||
	    json_string_length(v) > max)
		return cfail(pathp, p, "\"%s\" must be a non-empty string of "
			     "at most %zu bytes", p, max);
	return 0;
}

static int want_keys(const char **pathp, const json_t *o, const char *base,
		     const char *const *keys, const char *list)
{
	const char *key;
	json_t *v;

	json_object_foreach((json_t *)o, key, v) {
		bool ok = false;
		char p[96];

		for (size_t i = 0; keys[i]; i++)
			ok = ok || !strcmp(keys[i], key);
		if (ok)
			continue;
		snprintf(p, sizeof(p), "%s.%s", base, key);
		return cfail(pathp, p, "unknown field \"%s\"; the fields of "
			     "\"%s\" are %s; check the spelling", p, base,
			     list);
	}
	return 0;
}

static int want_provider(const char **pathp, const json_t *o,
			 const char *path)
{
	const char *p = json_string_value(json_object_get(o, "provider"));
	char pp[96];

	snprintf(pp, sizeof(pp), "%s.provider", path);
	if (json_object_get(o, "provider") &&
	    (!p || (strcmp(p, "openai") && strcmp(p, "anthropic"))))
		return cfail(pathp, pp, "\"%s\" must be \"openai\" (any "
			     "OpenAI-compatible server) or \"anthropic\"",
			     pp);
	return 0;
}

static int want_model(const char **pathp, const json_t *o, const char *path)
{
	char pp[96];
	const json_t *m = json_object_get(o, "model");

	snprintf(pp, sizeof(pp), "%s.model", path);
	if (!json_is_string(m) || !json_string_length(m) ||
	    json_string_length(m) >= 128)
		return cfail(pathp, pp, "\"%s\" must name the model, e.g. "
			     "\"gpt-4o-mini\" or \"claude-3-5-haiku-latest\" "
			     "(or the name your local server gives it)", pp);
	return 0;
}

/* A provider without a key may still be a local server: only the cloud
 * endpoints themselves need one. */
static int want_env(const char **pathp, const char *path, const char *prov)
{
	const bool anth = !strcmp(prov, "anthropic");
	const char *key = getenv(anth ? "ANTHROPIC_API_KEY" : "OPENAI_API_KEY");
	const char *base = getenv(anth ? "ANTHROPIC_BASE_URL" :
				  "OPENAI_BASE_URL");

	if ((key && key[0]) || (base && base[0]))
		return 0;
	return cfail(pathp, path, "the brain \"%s\" needs %s in the "
		     "environment (or %s pointing at a server that needs no "
		     "key, such as llama.cpp's, Ollama's or vLLM's); keys never "
		     "go in the agent file", prov,
		     anth ? "ANTHROPIC_API_KEY" : "OPENAI_API_KEY",
		     anth ? "ANTHROPIC_BASE_URL" : "OPENAI_BASE_URL");
}

/*
 * "llm.router.tools": the agent's own tools whose result the larger model
 * answers from. A tool that ends the reply (end_call, transfer_call,
 * flow.return) leaves nothing to answer, so it cannot be one.
 */
static int route_tools_check(const json_t *l, const char **pathp)
{
	const json_t *v = json_object_get(json_object_get(l, "router"),
					  "tools");
	const json_t *tools = json_object_get(l, "tools");
	size_t i;
	json_t *e;

	if (!v)
		return 0;
	if (!json_is_array(v) || !json_array_size(v))
		return cfail(pathp, "llm.router.tools", "\"llm.router.tools\" "
			     "must be a non-empty list of names of tools in "
			     "\"llm.tools\"");
	json_array_foreach(v, i, e) {
		const char *name = json_string_value(e);
		const json_t *def = name ? llm_tool_def(tools, name) : NULL;
		const char *run = json_string_value(json_object_get(def,
								    "run"));
		char p[48];

		snprintf(p, sizeof(p), "llm.router.tools.%zu", i);
		if (!def)
			return cfail(pathp, p, "\"%s\" is %s%s%s, which is not "
				     "a tool in \"llm.tools\"; name one of "
				     "the agent's tools", p, name ? "\"" : "",
				     name ? name : "not a string",
				     name ? "\"" : "");
		if (run && (!strcmp(run, "end_call") ||
			    !strcmp(run, "flow.return") ||
			    !strcmp(run, BT_TRANSFER_RUN)))
			return cfail(pathp, p, "\"%s\" is \"%s\", whose run "
				     "%s ends the reply: nothing is left for "
				     "the larger model to answer; name a "
				     "webhook or booking.save tool", p, name,
				     run);
	}
	return 0;
}

int llm_check(const json_t *agent, const char **pathp);
int llm_check(const json_t *agent, const char **pathp)
{
	static const char *const llm_keys[] = {"system", "tools",
		"max_tokens", "temperature", "history_tokens",
		"first_token_timeout_ms", "timeout_ms", "greeting", "idle",
		"filler", "tool_filler", "router", "fallback", "memory",
		"provider", "model", NULL};
	static const char *const mem_keys[] = {"retention_days", "max_calls",
		"summary", "summary_model", "summary_timeout_ms", "wait_ms", NULL};
	static const char *const filler_keys[] = {"after_ms", "say", NULL};
	static const char *const idle_keys[] = {"say", "hangup_after",
		"hangup_say", NULL};
	static const char *const router_keys[] = {"provider", "model",
		"keywords", "min_words", "tools", "filler", NULL};
	static const char *const fb_keys[] = {"provider", "model", "say",
		NULL};
	const json_t *b = json_object_get(agent, "brain");
	const json_t *l = json_object_get(agent, "llm"), *v, *e;
	const char *prov = json_string_value(json_object_get(b, "provider"));
	size_t i;
	int err;

	if (!prov)
		prov = "openai";
	err = want_model(pathp, b, "brain");
	if (!err)
		err = want_env(pathp, "brain.provider", prov);
	if (err)
		return err;
	if (l && !json_is_object(l))
		return cfail(pathp, "llm", "\"llm\" must be an object: "
			     "{\"system\": \"You are ...\", \"tools\": [...]}");
	err = want_keys(pathp, l, "llm", llm_keys, "system, tools, "
			"max_tokens, temperature, history_tokens, "
			"first_token_timeout_ms, timeout_ms, greeting, idle, "
			"filler, tool_filler, router, fallback, memory, "
			"provider, model (with a flow brain)");
	if (!err)
		err = want_str(pathp, l, "llm", "system", 32768);
	if (!err)
		err = want_str(pathp, l, "llm", "greeting", 1000);
	if (!err)
		err = want_int(pathp, l, "llm", "max_tokens", 1, 32000);
	if (!err)
		err = want_int(pathp, l, "llm", "history_tokens", 100, 1000000);
	if (!err)
		err = want_int(pathp, l, "llm", "first_token_timeout_ms", 100,
			       60000);
	if (!err)
		err = want_int(pathp, l, "llm", "timeout_ms", 100, 600000);
	if (err)
		return err;
	v = json_object_get(l, "temperature");
	if (v && (!json_is_number(v) || json_number_value(v) < 0 ||
		  json_number_value(v) > 2))
		return cfail(pathp, "llm.temperature", "\"llm.temperature\" "
			     "must be a number from 0 to 2");
	for (i = 0; i < 2; i++) {
		const char *k = i ? "tool_filler" : "filler";
		char p[32];

		snprintf(p, sizeof(p), "llm.%s", k);
		v = json_object_get(l, k);
		if (!v || json_is_false(v))
			continue;
		if (!json_is_object(v))
			return cfail(pathp, p, "\"%s\" must be false or "
				     "{\"after_ms\": 600, \"say\": \"One "
				     "moment.\"}", p);
		err = want_keys(pathp, v, p, filler_keys, "after_ms, say");
		if (!err)
			err = want_int(pathp, v, p, "after_ms", 100, 10000);
		if (!err)
			err = want_str(pathp, v, p, "say", 200);
		if (err)
			return err;
	}
	v = json_object_get(l, "idle");
	if (v) {
		if (!json_is_object(v))
			return cfail(pathp, "llm.idle", "\"llm.idle\" must be "
				     "{\"say\", \"hangup_after\", "
				     "\"hangup_say\"}");
		err = want_keys(pathp, v, "llm.idle", idle_keys,
				"say, hangup_after, hangup_say");
		if (!err)
			err = want_str(pathp, v, "llm.idle", "say", 500);
		if (!err)
			err = want_str(pathp, v, "llm.idle", "hangup_say", 500);
		if (!err)
			err = want_int(pathp, v, "llm.idle", "hangup_after", 0,
				       20);
		if (err)
			return err;
	}
	v = json_object_get(l, "memory");
	if (v && !json_is_false(v)) {
		if (!json_is_object(v))
			return cfail(pathp, "llm.memory", "\"llm.memory\" must "
				     "be false or {\"retention_days\": 90, "
				     "\"max_calls\": 5}");
		err = want_keys(pathp, v, "llm.memory", mem_keys,
				"retention_days, max_calls, summary, "
				"summary_model, summary_timeout_ms, wait_ms");
		if (!err)
			err = want_int(pathp, v, "llm.memory", "retention_days",
				       1, 36500);
		if (!err)
			err = want_int(pathp, v, "llm.memory", "max_calls", 1,
				       50);
		if (!err)
			err = want_int(pathp, v, "llm.memory",
				       "summary_timeout_ms", 500, 60000);
		if (!err)
			err = want_int(pathp, v, "llm.memory", "wait_ms", 0,
				       5000);
		if (!err)
			err = want_str(pathp, v, "llm.memory", "summary_model",
				       128);
		e = json_object_get(v, "summary");
		if (!err && e && (!json_is_string(e) ||
		    (strcmp(json_string_value(e), "model") &&
		     strcmp(json_string_value(e), "extractive"))))
			return cfail(pathp, "llm.memory.summary", "\"llm.memory."
				     "summary\" must be \"model\" (the model "
				     "writes each call's summary) or "
				     "\"extractive\" (the caller's words and "
				     "the tools' results)");
		if (err)
			return err;
	}
	v = json_object_get(l, "router");
	if (v) {
		if (!json_is_object(v))
			return cfail(pathp, "llm.router", "\"llm.router\" must "
				     "be {\"model\": \"a-larger-model\", "
				     "\"keywords\": [...], \"min_words\": N}");
		err = want_keys(pathp, v, "llm.router", router_keys,
				"provider, model, keywords, min_words, tools, "
				"filler");
		if (!err)
			err = want_provider(pathp, v, "llm.router");
		if (!err)
			err = want_model(pathp, v, "llm.router");
		if (!err)
			err = want_int(pathp, v, "llm.router", "min_words", 1,
				       1000);
		if (!err)
			err = want_str(pathp, v, "llm.router", "filler", 200);
		if (err)
			return err;
		e = json_object_get(v, "keywords");
		if (e && !json_is_array(e))
			return cfail(pathp, "llm.router.keywords",
				     "\"llm.router.keywords\" must be a list "
				     "of lower-case words or phrases");
		json_array_foreach(e, i, b) {
			if (!json_is_string(b) || !json_string_length(b))
				return cfail(pathp, "llm.router.keywords",
					     "\"llm.router.keywords\" item %zu "
					     "must be a non-empty string", i);
		}
		if (!json_object_get(v, "keywords") &&
		    !json_object_get(v, "min_words") &&
		    !json_object_get(v, "tools"))
			return cfail(pathp, "llm.router", "\"llm.router\" "
				     "needs \"keywords\", \"min_words\" or "
				     "\"tools\": which turns go to the larger "
				     "model");
	}
	v = json_object_get(l, "fallback");
	if (v && (!json_is_array(v) || json_array_size(v) > 4))
		return cfail(pathp, "llm.fallback", "\"llm.fallback\" must be "
			     "a list of at most 4 steps: {\"provider\", "
			     "\"model\"} or {\"say\": \"...\"}");
	json_array_foreach(v, i, e) {
		char p[48];

		snprintf(p, sizeof(p), "llm.fallback.%zu", i);
		if (!json_is_object(e))
			return cfail(pathp, p, "\"%s\" must be {\"provider\", "
				     "\"model\"} or {\"say\": \"...\"}", p);
		err = want_keys(pathp, e, p, fb_keys, "provider, model, say");
		if (!err && json_object_get(e, "say"))
			err = want_str(pathp, e, p, "say", 500);
		else if (!err)
			err = want_provider(pathp, e, p);
		if (!err && !json_object_get(e, "say"))
			err = want_model(pathp, e, p);
		if (err)
			return err;
	}
	err = llm_tools_check(json_object_get(l, "tools"), pathp);
	if (!err)
		err = route_tools_check(l, pathp);
	return err;
}
