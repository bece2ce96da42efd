/**
 * @file llm_transfer.c  The built-in transfer_call for LLM agents: a tool
 *                       {"name": ..., "run": "transfer_call", "to": T}
 *                       whose target T (or one of a list) comes from the
 *                       agent file, never from the model.
 *
 * The model's call is answered at once ("the caller is transferred after
 * this reply") and the reply ends; the session transfers once it has
 * played. If the transport cannot or the far end refuses, the model gets
 * the failure as the call's result and tells the caller.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "brain/llm_int.h"
#include "brain/transfer.h"

enum { TARGETS_MAX = 16 };

/* The target the model asked for, if the agent file allows it. */
static const char *pick(const json_t *to, const char *args)
{
	json_t *a = json_loads(args, 0, NULL);
	const char *want = json_string_value(json_object_get(a, "to"));
	const char *got = NULL;
	size_t i;
	json_t *v;

	if (json_is_string(to)) {
		json_decref(a);
		return json_string_value(to);
	}
	json_array_foreach(to, i, v)
		if (want && !strcmp(want, json_string_value(v)))
			got = json_string_value(v);
	json_decref(a);
	return got;
}

static void targets(const json_t *to, char *buf, size_t sz)
{
	size_t i, o = 0;
	json_t *v;

	buf[0] = '\0';
	json_array_foreach(to, i, v) {
		int k = snprintf(buf + o, sz - o, "%s%s", o ? ", " : "",
				 json_string_value(v));
		if (k < 0 || (size_t)k >= sz - o)
			break;
		o += (size_t)k;
	}
}

void llm_transfer_call(struct resp *r, struct call *c, const char *args)
{
	struct llm_st *st = r->st;
	const json_t *to = json_object_get(c->def, "to");
	const char *target = pick(to, args);
	json_t *res;
	char list[600];
	int err = 0;

	if (!target) {
		targets(to, list, sizeof(list));
		res = json_pack("{s:b,s:s,s:s}", "ok", 0, "error", "not a "
				"target of this tool; \"to\" must be one of "
				"the allowed", "allowed", list);
		err = EINVAL;
	}
	else {
		char note[400];

		snprintf(note, sizeof(note), "the caller is transferred to %s "
			 "once this reply has played; do not say more",
			 target);
		res = json_pack("{s:b,s:s}", "ok", 1, "note", note);
		str_ncpy(r->transfer_to, target, sizeof(r->transfer_to));
		str_ncpy(st->xfer_name, c->name, sizeof(st->xfer_name));
		str_ncpy(st->xfer_args, args, sizeof(st->xfer_args));
	}
	c->result = mem_deref(c->result);
	if (res) {
		char *s = json_dumps(res, JSON_COMPACT);

		(void)str_dup(&c->result, s ? s : "null");
		free(s);
		json_decref(res);
	}
	if (r->sink.toolh)
		r->sink.toolh(c->name, args, c->result ? c->result : "null",
			      err, r->sink.arg);
}

void llm_transfer_failed(struct resp *r, const char *text)
{
	struct llm_st *st = r->st;
	char id[40], *res;
	json_t *o;

	snprintf(id, sizeof(id), "transfer_%u", (unsigned)json_array_size(
			 r->base));
	o = json_pack("{s:b,s:s}", "ok", 0, "error", text && text[0] ? text :
		      "failed");
	res = o ? json_dumps(o, JSON_COMPACT) : NULL;
	json_decref(o);
	/* what it said is kept as a later call of the same tool, answered
	 * with the outcome: the model reads it as the transfer's news */
	json_array_append_new(r->local, json_pack("{s:s,s:s,s:[{s:s,s:s,s:s}]}",
		"role", "assistant", "content", "", "tool_calls", "id", id,
		"name", st->xfer_name[0] ? st->xfer_name : BT_TRANSFER_RUN,
		"arguments", st->xfer_args[0] ? st->xfer_args : "{}"));
	json_array_append_new(r->local, json_pack("{s:s,s:s,s:s,s:s}", "role",
		"tool", "tool_call_id", id, "name", st->xfer_name[0] ?
		st->xfer_name : BT_TRANSFER_RUN, "content", res ? res :
		"{\"ok\":false}"));
	if (r->sink.toolh)
		r->sink.toolh(st->xfer_name[0] ? st->xfer_name :
			      BT_TRANSFER_RUN, st->xfer_args[0] ?
			      st->xfer_args : "{}", res ? res : "null", EIO,
			      r->sink.arg);
	free(res);
	llm_resp_request(r);
}

json_t *llm_transfer_def(const json_t *def)
{
	const json_t *to = json_object_get(def, "to");
	json_t *o;

	if (!json_is_array(to) || json_object_get(def, "parameters"))
		return json_incref((json_t *)def);
	o = json_deep_copy(def);
	json_object_set_new(o, "parameters", json_pack(
		"{s:s,s:{s:{s:s,s:s,s:O}},s:[s]}", "type", "object",
		"properties", "to", "type", "string", "description",
		"who the caller is transferred to", "enum", to, "required",
		"to"));
	return o;
}

static __thread char xpath[128];

int llm_transfer_check(const json_t *def, size_t i, const char **pathp)
{
	const json_t *to = json_object_get(def, "to");
	char got[64];
	size_t k;
	json_t *v;

	snprintf(xpath, sizeof(xpath), "llm.tools.%zu.to", i);
	*pathp = xpath;
	if (!to)
		return bt_err(EINVAL, "\"%s\" is missing: %s needs the target "
			      "from the agent file (the model never names "
			      "one): %s, or a list of them for the model to "
			      "choose from", xpath, BT_TRANSFER_RUN,
			      BT_TRANSFER_HINT);
	if (json_is_array(to) && (!json_array_size(to) ||
				  json_array_size(to) > TARGETS_MAX))
		return bt_err(EINVAL, "\"%s\" must list 1 to %d targets",
			      xpath, TARGETS_MAX);
	if (!json_is_array(to) && !transfer_target_ok(json_string_value(to))) {
		bt_json_brief(to, got, sizeof(got));
		return bt_err(EINVAL, "\"%s\" is %s, which is no transfer "
			      "target; use %s", xpath, got, BT_TRANSFER_HINT);
	}
	json_array_foreach(to, k, v) {
		if (transfer_target_ok(json_string_value(v)))
			continue;
		snprintf(xpath, sizeof(xpath), "llm.tools.%zu.to.%zu", i, k);
		bt_json_brief(v, got, sizeof(got));
		return bt_err(EINVAL, "\"%s\" is %s, which is no transfer "
			      "target; use %s", xpath, got, BT_TRANSFER_HINT);
	}
	return 0;
}
