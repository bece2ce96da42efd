/**
 * @file llm_history.c  The session's history as the model's messages:
 *                      what the caller heard of each assistant turn
 *                      (marked when cut), every tool call next to its
 *                      result, trimmed to a token budget.
 */
#include <stdlib.h>
#include <string.h>
#include "brain/llm_int.h"

static void add_tool_pair(json_t *msgs, const char *id, const json_t *tool)
{
	const char *name = json_string_value(json_object_get(tool, "name"));
	char *args = json_dumps(json_object_get(tool, "args") ?
				json_object_get(tool, "args") : json_object(),
				JSON_COMPACT | JSON_ENCODE_ANY);
	char *res = json_dumps(json_object_get(tool, "result"),
			       JSON_COMPACT | JSON_ENCODE_ANY);
	char cid[80];

	snprintf(cid, sizeof(cid), "call_%s", id);
	json_array_append_new(msgs, json_pack(
		"{s:s,s:s,s:[{s:s,s:s,s:s}]}", "role", "assistant",
		"content", "", "tool_calls", "id", cid, "name",
		name ? name : "tool", "arguments", args ? args : "{}"));
	json_array_append_new(msgs, json_pack("{s:s,s:s,s:s,s:s}", "role",
		"tool", "tool_call_id", cid, "name", name ? name : "tool",
		"content", res ? res : "null"));
	free(args);
	free(res);
}

/* Rough: four characters a token, as the providers' tokenisers average. */
static size_t msg_tokens(const json_t *m)
{
	const char *c = json_string_value(json_object_get(m, "content"));
	return (c ? strlen(c) : 0) / 4 + 4;
}

/* A transport's function call with its output (which may come later in
 * the history, after the reply's text): adjacent, as the APIs want. */
static void add_function_pair(json_t *msgs, const json_t *tool,
			      json_t *outputs)
{
	const char *cid = json_string_value(json_object_get(tool, "call_id"));
	const char *out = json_string_value(json_object_get(outputs, cid));

	json_array_append_new(msgs, json_pack(
		"{s:s,s:s,s:[{s:s,s:s,s:s}]}", "role", "assistant",
		"content", "", "tool_calls", "id", cid, "name",
		json_string_value(json_object_get(tool, "name")), "arguments",
		json_string_value(json_object_get(tool, "args"))));
	json_array_append_new(msgs, json_pack("{s:s,s:s,s:s}", "role",
		"tool", "tool_call_id", cid, "content",
		out ? out : "(no output yet)"));
	json_object_set_new(outputs, cid, json_null());
}

json_t *llm_history_msgs(const char *history_json, const char *user,
			 unsigned budget)
{
	json_t *h = json_loads(history_json ? history_json : "[]", 0, NULL);
	json_t *msgs = json_array(), *it, *outputs = json_object();
	const char *last_user = NULL;
	size_t i, total = 0;

	json_array_foreach(h, i, it) {
		const json_t *t = json_object_get(it, "tool");
		const char *cid = json_string_value(json_object_get(t,
								    "call_id"));
		if (cid && json_is_string(json_object_get(t, "output")))
			json_object_set(outputs, cid,
					json_object_get(t, "output"));
	}

	json_array_foreach(h, i, it) {
		const char *role = json_string_value(json_object_get(it,
								     "role"));
		const char *text = json_string_value(json_object_get(it,
								     "text"));
		const char *id = json_string_value(json_object_get(it, "id"));

		if (!role || !text)
			continue;
		if (!strcmp(role, "user")) {
			json_array_append_new(msgs, json_pack("{s:s,s:s}",
				"role", "user", "content", text));
			last_user = text;
		}
		else if (!strcmp(role, "assistant")) {
			bool cut = json_is_true(json_object_get(it,
							"interrupted"));
			if (!text[0] && !cut)
				continue;
			json_array_append_new(msgs, json_pack(
				"{s:s,s:s,s:b}", "role", "assistant",
				"content", text, "interrupted", cut));
		}
		else if (!strcmp(role, "tool") &&
			 json_is_object(json_object_get(it, "tool"))) {
			const json_t *t = json_object_get(it, "tool");
			const char *cid = json_string_value(json_object_get(
				t, "call_id"));

			if (cid && json_object_get(t, "name"))
				add_function_pair(msgs, t, outputs);
			else if (cid && json_is_string(json_object_get(
				outputs, cid)))
				/* an output with no call before it */
				json_array_append_new(msgs, json_pack(
					"{s:s,s:s}", "role", "user", "content",
					text));
			else if (!cid)
				add_tool_pair(msgs, id ? id : "x", t);
		}
		else if (!strcmp(role, "system")) {
			json_array_append_new(msgs, json_pack("{s:s,s:s}",
				"role", "user", "content", text));
		}
	}
	/* the turn being answered is normally the history's last item */
	if (user && user[0] && (!last_user || strcmp(last_user, user) ||
	    strcmp(json_string_value(json_object_get(json_array_get(msgs,
		json_array_size(msgs) - 1), "role")), "user")))
		json_array_append_new(msgs, json_pack("{s:s,s:s}", "role",
				      "user", "content", user));
	if (!json_array_size(msgs))
		json_array_append_new(msgs, json_pack("{s:s,s:s}", "role",
			"user", "content", "(the call begins: greet the "
			"caller)"));
	json_decref(h);
	json_decref(outputs);

	/* over the budget: the oldest turns go first; tool calls and their
	 * results stay (they hold facts), and so does the last turn */
	json_array_foreach(msgs, i, it)
		total += msg_tokens(it);
	for (i = 0; total > budget && i + 1 < json_array_size(msgs);) {
		json_t *m = json_array_get(msgs, i);
		const char *role = json_string_value(json_object_get(m,
								     "role"));
		if (!strcmp(role, "tool") ||
		    json_object_get(m, "tool_calls")) {
			i++;
			continue;
		}
		total -= msg_tokens(m);
		json_array_remove(msgs, i);
	}
	return msgs;
}

